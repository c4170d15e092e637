/* index.h - the persistent, incremental code index of a workspace (tools.md §1.6).
 *
 * One SQLite database per workspace: <dataDir>/index/<tenant>/<workspace>.db, WAL mode. One
 * build at a time per workspace (a lease row in the database, so `ctxd index` beside a running
 * server waits for or joins its build); readers use their own connections and see the last
 * committed state while a build runs. Files are picked by stat (size, mtime ns, ctime, inode),
 * re-hashed only then, re-parsed only when the SHA-256 of the content changed.
 *
 * Schema (version 2; the contract tools query directly, read-only):
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)    schema_version, tenant, workspace, root,
 *                                             commit (git HEAD indexed, or ""), built_at (unix s),
 *                                             build_ms, generation (increments per commit),
 *                                             n_symbols n_imports n_calls n_chunks n_routes
 *                                             (row counts, kept in the writing transaction),
 *                                             last_parsed last_unchanged last_skipped (the
 *                                             last build's summary)
 *   files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,   -- relative, '/'-separated
 *         lang TEXT,            -- lang_name() or a ctags language name, NULL when none
 *         backend TEXT,         -- 'tree-sitter' | 'ctags' | NULL
 *         size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER,
 *         hash TEXT NOT NULL,   -- SHA-256 hex of the content
 *         lines INTEGER NOT NULL,
 *         status TEXT NOT NULL, -- 'ok' | 'too_large' | 'binary' | 'parse_error' | 'no_parser'
 *         n_symbols INTEGER NOT NULL)
 *   symbols(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, parent_id INTEGER,
 *           name TEXT NOT NULL, qname TEXT NOT NULL, kind TEXT NOT NULL,
 *           start_line INTEGER, end_line INTEGER, start_byte INTEGER, end_byte INTEGER,
 *           signature TEXT NOT NULL, params TEXT, ret TEXT, is_async INTEGER NOT NULL,
 *           exported INTEGER NOT NULL, backend TEXT NOT NULL)
 *        indexes: (name), (file_id, start_line)
 *   imports(file_id INTEGER NOT NULL, line INTEGER, source TEXT NOT NULL,
 *           resolved_id INTEGER)            -- files.id when it resolves to a workspace file
 *        indexes: (file_id), (resolved_id)
 *   calls(file_id INTEGER NOT NULL, caller_id INTEGER,   -- symbols.id, NULL at file level
 *         callee TEXT NOT NULL, line INTEGER)
 *        indexes: (callee, file_id, line), (caller_id), (file_id)   -- version 1: (callee)
 *   routes(file_id INTEGER NOT NULL, method TEXT, path TEXT, handler TEXT, line INTEGER,
 *          framework TEXT)
 *   chunks(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, symbol_id INTEGER,
 *          start_line INTEGER, end_line INTEGER, ntok INTEGER,
 *          tok BLOB)            -- the FTS text, zlib-compressed (the writer's, to delete it)
 *        indexes: (file_id)
 *   chunks_fts: FTS5 over the chunk's code-aware tokens (index_tokenize below), rowid = chunks.id;
 *          query it with `chunks_fts MATCH ?` and rank by bm25(chunks_fts). It is contentless
 *          (content=''): its `text` column reads as NULL, so join chunks by rowid for the
 *          place and read the code from the file; snippet()/highlight() do not apply.
 *          A chunk is one fn/method/class/struct/impl/module/interface/trait symbol (nested
 *          ones too), or a 50-line window (10 lines overlap) of a file without such symbols;
 *          its text = tokens of the body + the file's stem twice + its directory's name.
 *
 * File statuses: ok (parsed: tree-sitter, or ctags when backend = 'ctags'), parse_error (the
 * parser gave up: timeout; the file still has text chunks), too_large (> maxIndexBytes),
 * binary (NUL in the first 8 KiB), no_parser (neither a grammar nor ctags: text chunks only).
 *
 * Rows of a file are replaced together in one transaction when it changes. Call edges are kept
 * by callee name and resolved at query time (same file, then imported files, then unique name),
 * so an incremental build never rewrites other files' rows. */
#ifndef CTXD_INDEX_INDEX_H
#define CTXD_INDEX_INDEX_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/buf.h"

typedef enum { IX_ABSENT, IX_BUILDING, IX_READY, IX_STALE } ix_state;

typedef struct ix_status {
    ix_state state;
    /* the running build, when state is IX_BUILDING */
    char job[24];
    int64_t done, total; /* files */
    /* the last committed build */
    int64_t files, parsed, unchanged, skipped, symbols, imports, calls, chunks, routes;
    char skipped_reasons[160]; /* "too_large 2, binary 14" */
    char languages[256];       /* "c 120, python 40" (by file count, desc) */
    int64_t built_at;          /* unix seconds, 0 = never */
    int64_t build_ms;
    char commit[41], head[41]; /* indexed commit and current HEAD ("" without git) */
    int64_t pending;           /* files the watcher saw change since */
    int64_t storage_bytes;     /* size of the index database */
    int64_t quota_bytes;       /* the tenant's storage quota, -1: none (or no quota hook) */
    int64_t tenant_bytes;      /* with a quota: what the tenant uses now */
    char last_stop[160];       /* "" or why the last build of this process stopped (quota) */
} ix_status;

typedef struct ix_summary {
    int64_t files, parsed, unchanged, skipped, removed, symbols, edges, chunks;
    double seconds;
    bool stopped; /* cancelled or over quota */
    char why[160];
    /* over_quota: refused or rolled back by the tenant's storage quota (tools.md §3.5); then
       used = the tenant's bytes now, quota = its quota, requested = the bytes the build asked
       for (the estimate when refused at once; the growth reached when stopped midway) */
    bool over_quota;
    int64_t quota_used, quota_bytes, quota_requested;
} ix_summary;

typedef void (*ix_progress_fn)(void *ctx, int64_t done, int64_t total, const char *message);

/* process-wide: the data dir the databases live under, parse threads (0 = all cores) */
void index_setup(const char *data_dir, int threads);
void index_shutdown(void);

/* A read view for one tool call: a read transaction on the last committed state of the
 * workspace's index. db is NULL when no build has committed yet. note is "" or the line tools
 * print first (tools.md §1.6): "[index: building 45% (1,234/2,700 files) — results may be
 * incomplete]". The connection is cached per thread; index_view_close ends the transaction. */
typedef struct ix_view {
    sqlite3 *db;
    char note[160];
    int64_t generation; /* changes with every committed build: a cache key */
    const cfg_workspace *ws;
} ix_view;

bool index_view_open(const config *c, const cfg_workspace *ws, ix_view *v);
void index_view_close(ix_view *v);

/* commit comes from meta; head (current HEAD, cached for a second) and pending (paths the
 * watcher saw change, not yet re-indexed) are filled by watch_fill_status (index/watch.h) */
void index_status(const config *c, const cfg_workspace *ws, ix_status *st);
/* "index: ready", "building 45% (1,234/2,700 files)", ... (ctx_index status's first line) */
void index_status_text(const ix_status *st, buf *out);

/* Start a build of the workspace (or join the one running). full: re-parse every file into a
 * new generation. subpath: "" or a directory to limit the scan to. wait: block until it ends
 * (progress reported through fn), else return at once with the job id in st. Builds are server
 * jobs: they are not cancelled when the request that started them ends. */
bool index_build(const config *c, const cfg_workspace *ws, bool full, const char *subpath,
                 bool wait, const atomic_bool *cancel, ix_progress_fn fn, void *ctx,
                 ix_summary *sum, ix_status *st);

/* "index built: F files (P parsed, U unchanged, S skipped), N symbols, E edges, C chunks in
 * 12.3 s" (F: files in the index; N, E (import + call edges), C: totals of the index) */
void index_summary_text(const ix_summary *s, buf *out);

/* start background builds of every workspace (serve), keep them fresh (watcher, sync) */
void index_start_all(const config *c);
/* after a reload: start builds of the workspaces of c that old did not have (or had with
 * another root) */
void index_start_added(const config *old, const config *c);

/* Re-index exactly these workspace-relative paths (changed, added or removed; ignored, hidden
 * and denied ones are dropped, and removed from the index if they were in it) without walking
 * or stating anything else: sync (git diff --name-only) and the watcher call it. Runs on the
 * calling thread, under the workspace's build lease (so it waits for a running build). commit
 * (may be NULL): stored as the indexed commit (meta `commit`) in the same transaction. false
 * with a sentence in why when the index cannot be opened or written. */
bool index_update_paths(const config *c, const cfg_workspace *ws, const char *const *paths,
                        size_t n, const char *commit, ix_summary *sum, char *why, size_t why_len);
/* record the indexed commit (meta `commit`) without re-indexing */
bool index_set_commit(const config *c, const cfg_workspace *ws, const char *commit);

/* tenant deletion (issue 5, ADMIN): wait until no build of the tenant's workspaces is queued
 * or running (its workspaces must be out of the current config already, so none starts again);
 * then its index directory can be removed */
void index_wait_tenant(const char *tenant);

/* ---- storage quota (DESIGN §8, §11.5) ----
 * The index does not know where quotas live: the process that owns the store (serve, `ctxd
 * index`) installs two functions. get: the tenant's quota (-1: none) and the bytes it uses
 * outside its index files (used_other); false when that cannot be read (the build is then
 * refused: no quota is ever skipped silently). report: the tenant's index files now take
 * index_bytes (after every committed build, incremental update or rollback). Both may be
 * called from any thread, never with an index lock held. Without a hook nothing is limited.
 *
 * A build of a tenant with a quota: (1) estimates its growth from the files it will parse
 * (IX_EST_* below) and is refused at once (summary over_quota) when the tenant is already
 * over its quota or the estimate would pass it; (2) writes in ONE transaction and checks the
 * database size (page_count x page_size) after every file: growth past the quota rolls the
 * whole build back (`stopped: storage quota exceeded (<used> of <quota>)`). */
typedef struct ix_quota {
    int64_t quota;      /* bytes; -1: none */
    int64_t used_other; /* bytes outside the tenant's index files */
} ix_quota;
typedef bool (*ix_quota_get_fn)(void *ctx, const char *tenant, ix_quota *out);
typedef void (*ix_quota_report_fn)(void *ctx, const char *tenant, int64_t index_bytes);
/* install (or, with NULLs, remove: waits for calls in flight) the hook */
void index_set_quota_fns(ix_quota_get_fn get, ix_quota_report_fn report, void *ctx);
/* bytes on disk of the tenant's index files (<dataDir>/index/<tenant>/ *.db and *.db-wal),
 * without workspace except_ws when not NULL */
int64_t index_tenant_bytes(const config *c, const char *tenant, const char *except_ws);
/* measure the tenant's index files and report them through the hook (serve start, after a
 * workspace's files were deleted) */
void index_report_tenant(const config *c, const char *tenant);

/* ---- events (issue 6, EVENTS) ----
 * The index does not know the event bus: the server installs a function called when a build
 * job ends (kind "index_built") and when a sync ends (kind "sync_done"), on the thread that did
 * the work, with no index lock held; message is the one-line outcome (may be NULL). */
typedef void (*ix_event_fn)(const char *kind, const cfg_workspace *ws, bool ok,
                            const ix_summary *sum, const char *message);
/* install (NULL: remove) the hook */
void index_set_event_fn(ix_event_fn fn);
/* call the hook if one is installed (the index's own build and sync paths) */
void index_event(const char *kind, const cfg_workspace *ws, bool ok, const ix_summary *sum,
                 const char *message);

/* the estimate: index bytes per source byte (measured, README "Storage quotas": 1.7-2.4 on C
 * and Python trees, 3.2 on the kernel's include/), per file row, and an empty index */
#define IX_EST_FACTOR_NUM 2
#define IX_EST_FACTOR_DEN 1
#define IX_EST_ROW_BYTES 256
#define IX_EST_EMPTY_BYTES 98304

/* the code-aware tokenizer shared by the text index and the queries that search it:
 * splits on [^A-Za-z0-9_], keeps tokens of >= 2 chars, adds camelCase and snake_case parts,
 * lowercases; appends space-separated tokens to out */
void index_tokenize(const char *s, size_t n, buf *out);

#endif

/* store.h - the server's shared state: tenants, API keys, workspaces, request log (DESIGN §8).
 *
 * One interface, one opaque handle: the embedded implementation is SQLite (store_sqlite.c,
 * <dataDir>/ctxd.db); a PostgreSQL one can follow behind the same header, so nothing here names
 * an engine. Invariants every implementation keeps:
 *  - The schema is versioned by numbered migrations (src/store/migrations/NNNN_name.sql),
 *    applied in order at open, each in its own transaction; a store whose schema is newer than
 *    the binary's is refused untouched (ERR_CONFLICT from store_open, why says so).
 *  - The tenant `local` always exists (the first migration creates it) and cannot be deleted.
 *  - Every query of a tenant-owned row (keys, workspaces, log rows) filters by tenant_id: a
 *    function that reads or changes such rows takes the tenant and never reaches another's.
 *  - Nothing is cached across calls: a change committed by another process (the CLI revoking a
 *    key while the server runs) is seen by the next call.
 *  - State a caller asked to change (tenants, keys, workspaces) is committed before the call
 *    returns; `last_used_at` is not: store_key_touch records it in memory and a background
 *    writer commits the batch every STORE_FLUSH_MS, at most once a minute per key.
 * A handle may be used from several threads at once; the callbacks of the list functions run
 * while the store is held and must not call it. Timestamps are RFC 3339 UTC with
 * milliseconds (`2026-11-21T07:41:09.512Z`); request_log.ts is milliseconds since the epoch.
 * Functions that act return `err`: ERR_OK, ERR_NOT_FOUND, ERR_CONFLICT (exists already, or the
 * change is refused: deleting `local`, revoking twice), ERR_INVALID_ARGUMENTS (an id that breaks
 * its rule), ERR_IO (the database failed; the reason is logged). */
#ifndef CTXD_STORE_STORE_H
#define CTXD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/apikey.h"
#include "auth/scope.h"
#include "core/err.h"

typedef struct store store;

#define STORE_NAME_MAX 200
#define STORE_TIER_MAX 32
#define STORE_SETTINGS_MAX 4096
#define STORE_WS_ID_MAX 64
#define STORE_ROOT_MAX 4096
#define STORE_FLUSH_MS 2000
#define STORE_TOUCH_EVERY_MS 60000
#define STORE_LOCAL_TENANT "local"
#define STORE_DEFAULT_TIER "default"

typedef struct store_tenant {
    char id[APIKEY_TENANT_MAX + 1];
    char name[STORE_NAME_MAX + 1];
    char created_at[32];                   /* "" on create: now */
    char settings[STORE_SETTINGS_MAX + 1]; /* a JSON object; "" on create: {} */
    int64_t storage_quota_bytes;           /* -1: no quota */
    int64_t storage_used_bytes;
    char rate_limit_tier[STORE_TIER_MAX + 1]; /* "" on create: STORE_DEFAULT_TIER */
} store_tenant;

typedef struct store_key {
    char key_hash[65]; /* lowercase hex SHA-256 of the whole key */
    char key_prefix[APIKEY_PREFIX_MAX + 1];
    char tenant_id[APIKEY_TENANT_MAX + 1];
    scope_set scopes;
    char rate_limit_tier[STORE_TIER_MAX + 1];
    char created_at[32]; /* "" on create: now */
    char last_used_at[32];
    char revoked_at[32]; /* "" while active */
    bool test;
} store_key;

typedef struct store_workspace {
    char tenant_id[APIKEY_TENANT_MAX + 1];
    char id[STORE_WS_ID_MAX + 1];
    char label[STORE_NAME_MAX + 1];
    char root[STORE_ROOT_MAX + 1];
    char created_at[32];
} store_workspace;

typedef struct store_log_row {
    int64_t ts_ms;
    const char *tenant_id;
    const char *token_id; /* may be NULL */
    const char *tool;     /* may be NULL */
    int64_t duration_ms;
    int status;
    const char *error_message; /* the error_code (DESIGN §8), may be NULL */
} store_log_row;

/* the schema version this binary migrates to */
int store_schema_version(void);

/* Open (creating dataDir 0700 and the database 0600 if needed) and migrate. On failure *out is
 * NULL and why holds a sentence naming the file. */
err store_open(const char *data_dir, store **out, char *why, size_t why_len) WARN_UNUSED;
/* commit pending last_used_at updates, stop the writer, close; NULL is a no-op */
void store_close(store *s);

/* tenants */
err store_tenant_create(store *s, const store_tenant *t) WARN_UNUSED;
err store_tenant_get(store *s, const char *id, store_tenant *out) WARN_UNUSED;
/* calls fn for each tenant in id order; fn returns false to stop */
typedef bool (*store_tenant_fn)(const store_tenant *t, void *ctx);
err store_tenant_list(store *s, store_tenant_fn fn, void *ctx) WARN_UNUSED;
/* removes the tenant with its keys, workspaces and log rows, in one transaction; `local` is
 * refused (ERR_CONFLICT). Files (index directories) are the caller's. */
err store_tenant_delete(store *s, const char *id) WARN_UNUSED;

/* API keys */
/* ERR_NOT_FOUND when the tenant does not exist, ERR_CONFLICT when the hash or prefix is taken */
err store_key_create(store *s, const store_key *k) WARN_UNUSED;
/* the key of tenant_id whose key_hash is hash (revoked or not: the caller decides), only while
 * its tenant exists; ERR_NOT_FOUND otherwise */
err store_key_find(store *s, const char *tenant_id, const char *hash, store_key *out) WARN_UNUSED;
/* the tenant's keys, newest first */
typedef bool (*store_key_fn)(const store_key *k, void *ctx);
err store_key_list(store *s, const char *tenant_id, store_key_fn fn, void *ctx) WARN_UNUSED;
/* ERR_NOT_FOUND for an unknown prefix, ERR_CONFLICT when already revoked */
err store_key_revoke(store *s, const char *tenant_id, const char *prefix) WARN_UNUSED;
/* note a use of the key now; written later in a batch (see above); never blocks on the database */
void store_key_touch(store *s, const char *tenant_id, const char *prefix);
/* write the pending last_used_at updates now (shutdown, tests) */
err store_flush(store *s) WARN_UNUSED;

/* workspaces registered in the store (the admin API's; team.json's stay in the config) */
err store_workspace_add(store *s, const store_workspace *w) WARN_UNUSED;
typedef bool (*store_workspace_fn)(const store_workspace *w, void *ctx);
err store_workspace_list(store *s, const char *tenant_id, store_workspace_fn fn,
                         void *ctx) WARN_UNUSED;

/* request log: rows appended in one transaction; a count of a tenant's rows since since_ms */
err store_log_append(store *s, const store_log_row *rows, size_t n) WARN_UNUSED;
err store_log_count(store *s, const char *tenant_id, int64_t since_ms, int64_t *out) WARN_UNUSED;

/* ---- request log: batched writer, retention pruning, stats (issue 5, LOG) ----
 * The request path never writes the database: store_log_enqueue copies the row into a bounded
 * queue (STORE_LOG_QUEUE_MAX rows) and returns; the store's writer thread commits the queue in
 * one transaction every STORE_FLUSH_MS, or sooner once STORE_LOG_FLUSH_ROWS rows are pending.
 * When the queue is full the oldest pending row is dropped (counted; one warning a minute), so
 * enqueue never blocks. store_flush and store_close commit what is pending. Rows older than the
 * retention (store_set_log_retention; a tenant's settings.request_log_retention_days overrides
 * it) are deleted by the writer in batches of STORE_PRUNE_BATCH rows, each its own
 * transaction (a few per tick, within a time budget), so no write lock is held long. Stats read
 * committed rows: they lag the requests by at most STORE_FLUSH_MS. */
#define STORE_LOG_QUEUE_MAX 65536
#define STORE_LOG_FLUSH_ROWS 1000
#define STORE_PRUNE_BATCH 1000
#define STORE_LOG_TEXT_MAX 96 /* tenant, token, tool, error_message: cut to this on enqueue */
#define STORE_RETENTION_DEFAULT_DAYS 30
#define STORE_RETENTION_MIN_DAYS 1
#define STORE_RETENTION_MAX_DAYS 3650

/* copy the row into the writer's queue; O(1), never blocks on the database; starts the writer */
void store_log_enqueue(store *s, const store_log_row *row);
/* rows dropped so far because the queue was full */
uint64_t store_log_dropped(const store *s);
/* the default retention in days (clamped to STORE_RETENTION_MIN_DAYS..MAX); enables the
 * writer's background pruning; called at start and on reload */
void store_set_log_retention(store *s, int days);
/* one full prune pass (in batches of STORE_PRUNE_BATCH until nothing is left): deletes the rows
 * older than now_ms minus the retention of their tenant (its settings' request_log_retention_days,
 * else default_days); *deleted (may be NULL) receives the number of rows deleted */
err store_log_prune(store *s, int64_t now_ms, int default_days, int64_t *deleted) WARN_UNUSED;

typedef struct store_stats {
    int64_t tenants;    /* 1 for a single tenant */
    int64_t workspaces; /* the store's workspaces (the caller adds team.json's) */
    int64_t requests_24h;
    int64_t rate_limit_hits_24h; /* rows of the last 24 h with status 429 */
    int64_t storage_used_bytes;  /* sum of tenants.storage_used_bytes */
} store_stats;
/* tenant_id NULL: all tenants; ERR_NOT_FOUND for an unknown tenant */
err store_stats_get(store *s, const char *tenant_id, int64_t now_ms, store_stats *out) WARN_UNUSED;

/* ---- events (issue 6, EVENTS): the event bus's rows (src/events/events.c batches them) ----
 * One sequence per tenant; event_seq keeps each tenant's last id so that a restart continues it
 * even when retention pruned every row. Every function takes the tenant and reads only its rows. */
#define STORE_EV_CHANNEL_MAX 128
#define STORE_EV_AGENT_MAX 128
#define STORE_EV_KIND_MAX 48
#define STORE_EV_SUMMARY_MAX 512
typedef struct store_event {
    int64_t id;
    int64_t ts_ms;
    char tenant_id[APIKEY_TENANT_MAX + 1];
    char workspace_id[STORE_WS_ID_MAX + 1]; /* "" when none */
    char channel_id[STORE_EV_CHANNEL_MAX + 1];
    char agent_id[STORE_EV_AGENT_MAX + 1];
    char kind[STORE_EV_KIND_MAX + 1];
    char summary[STORE_EV_SUMMARY_MAX + 1];
    const char *refs_json; /* NULL: none */
    const char *full_json; /* NULL: = refs_json */
} store_event;
/* the callback's row (and its strings) are valid during the call; false stops */
typedef bool (*store_event_fn)(const store_event *e, void *ctx);
typedef struct store_event_query {
    const char *tenant_id;    /* required */
    const char *channel_id;   /* NULL: any */
    const char *workspace_id; /* NULL: any */
    const char *kind;         /* NULL: any */
    const char *agent_id;     /* NULL: any (ARTIFACTS: ctx_proof's receipts) */
    int64_t after_id; /* ids > after_id, oldest first; < 0: the newest `limit`, oldest first */
    int limit;        /* 1..10000 */
} store_event_query;
/* append rows in one transaction on the writer's connection (and raise event_seq) */
err store_event_append(store *s, const store_event *rows, size_t n) WARN_UNUSED;
/* the tenant's last id ever given (0: none) and its oldest kept id (0: none kept) */
err store_event_bounds(store *s, const char *tenant_id, int64_t *last_id,
                       int64_t *oldest_id) WARN_UNUSED;
err store_event_list(store *s, const store_event_query *q, store_event_fn fn,
                     void *ctx) WARN_UNUSED;
/* full-text match of q (words, each quoted: no FTS syntax reaches SQLite) over the tenant's
   summaries, newest first, at most limit (1..1000) */
err store_event_search(store *s, const char *tenant_id, const char *q, int limit, store_event_fn fn,
                       void *ctx) WARN_UNUSED;
/* delete up to max_rows rows older than now_ms minus each tenant's retention (its settings'
   event_retention_days, else default_days); *deleted receives how many */
err store_event_prune(store *s, int64_t now_ms, int default_days, int max_rows,
                      int64_t *deleted) WARN_UNUSED;

/* ---- admin API: tenant update, workspace get/delete, key lookup by prefix, minting, tenant
 * files (issue 5, ADMIN) ----
 * Engine-specific ones in store_sqlite.c; store_tenant_create_new, store_key_mint and
 * store_tenant_remove_files sit above any engine (store_admin.c), shared by the CLI and the
 * admin API so both create, mint and delete the same way. */

/* replace name, settings, storage_quota_bytes (-1: none) and rate_limit_tier of tenant t->id
   (created_at and storage_used_bytes are kept); ERR_NOT_FOUND for an unknown tenant */
err store_tenant_update(store *s, const store_tenant *t) WARN_UNUSED;
/* the workspace id of tenant_id; ERR_NOT_FOUND when there is none */
err store_workspace_get(store *s, const char *tenant_id, const char *id,
                        store_workspace *out) WARN_UNUSED;
/* remove the workspace id of tenant_id; ERR_NOT_FOUND when there is none */
err store_workspace_delete(store *s, const char *tenant_id, const char *id) WARN_UNUSED;
/* every tenant's workspaces, by tenant then id (the server merges them into its config) */
err store_workspace_list_all(store *s, store_workspace_fn fn, void *ctx) WARN_UNUSED;
/* the key of tenant_id whose key_prefix is prefix (revoked or not); ERR_NOT_FOUND otherwise */
err store_key_find_prefix(store *s, const char *tenant_id, const char *prefix,
                          store_key *out) WARN_UNUSED;

/* create t; when t->id is "" an id of 8 random lowercase hex characters is drawn (again when
   taken) and written back into t->id. ERR_CONFLICT when a given id is taken. */
err store_tenant_create_new(store *s, store_tenant *t) WARN_UNUSED;
/* A new API key for k->tenant_id with k->scopes, k->rate_limit_tier ("" = STORE_DEFAULT_TIER)
   and k->test: drawn from the CSPRNG (again on a prefix collision), stored as its SHA-256; the
   whole key goes to key_out (shown once, never stored or logged) and k is completed (key_hash,
   key_prefix, created_at). ERR_NOT_FOUND when the tenant does not exist. */
err store_key_mint(store *s, store_key *k, char key_out[APIKEY_MAX_LEN + 1]) WARN_UNUSED;
/* the tenant's key_prefix rule: ctxd_(live|test)_<tenant>_<8 Base62>; the tenant goes to
   tenant (APIKEY_TENANT_MAX + 1 bytes) when it holds */
bool store_prefix_tenant(const char *prefix, char *tenant);
/* Remove the files a tenant owns under data_dir (its index databases, <data_dir>/index/<id>/),
   without following symlinks. Nothing there is ERR_OK. ERR_INVALID_ARGUMENTS for an id that
   breaks the tenant rule (so no path can leave data_dir); ERR_IO with why otherwise. */
err store_tenant_remove_files(const char *data_dir, const char *tenant_id, char *why,
                              size_t why_len) WARN_UNUSED;

/* ---- storage quota (issue 5, QUOTA) ----
 * storage_used_bytes is measured by the index (its files on disk, index.h index_tenant_bytes)
 * and written here after every committed build and at serve start. */
/* the tenant's storage_quota_bytes (-1: none) and storage_used_bytes; ERR_NOT_FOUND */
err store_tenant_quota(store *s, const char *id, int64_t *quota, int64_t *used) WARN_UNUSED;
/* set the size of the tenant's index files (negative: 0): storage_used_bytes becomes it plus
   what the tenant's callers store in ctxd.db (QUOTA: sessions, knowledge, artifacts, kept exact
   by the triggers of migration 0007); ERR_NOT_FOUND for an unknown tenant */
err store_tenant_storage_set(store *s, const char *id, int64_t bytes) WARN_UNUSED;
/* (QUOTA) the two parts of storage_used_bytes: index files as last measured, and ctxd.db rows */
err store_tenant_usage(store *s, const char *id, int64_t *index_bytes,
                       int64_t *collab_bytes) WARN_UNUSED;

/* ---- shared sessions: documents and items (issue 6, SESSIONS; tools.md §4.1-4.4) ----
 * A document is the one mutable record of (tenant, workspace, kind, channel): kind "session" or
 * "workflow", a JSON body and a revision. store_doc_put is a compare-and-set: it commits only
 * when the stored revision still equals expect_rev (0: no document yet), in one transaction,
 * and answers ERR_CONFLICT otherwise, so a writer that read an older revision rereads and
 * retries and no concurrent update is lost. Items are immutable records: kind "snapshot",
 * "handoff" (channel "") or "share"; store_item_add keeps the newest `keep` of their (kind,
 * channel). Bodies are xmalloc'd (release with store_doc_release / store_item_release); every
 * function filters by tenant and workspace. */
#define STORE_CHANNEL_MAX 128
#define STORE_ACTOR_MAX 160
#define STORE_ITEM_ID_MAX 64
#define STORE_BODY_MAX ((size_t)4 << 20)
#define STORE_DOCS_PER_WS 4096   /* documents of one kind (channels) per workspace */
#define STORE_ITEMS_PER_WS 20000 /* items of one kind per workspace */

typedef struct store_doc {
    char channel[STORE_CHANNEL_MAX + 1];
    int64_t rev; /* 0: none yet */
    char *body;  /* JSON object text, NULL when none */
    char updated_at[32];
    char updated_by[STORE_ACTOR_MAX + 1];
} store_doc;

typedef struct store_item {
    char channel[STORE_CHANNEL_MAX + 1];
    char kind[16];
    char id[STORE_ITEM_ID_MAX + 1];
    char from[STORE_ACTOR_MAX + 1];
    char to[STORE_ACTOR_MAX + 1]; /* "" = anyone */
    char created_at[32];          /* "" on add: now */
    char *body;                   /* JSON object text */
} store_item;

void store_doc_release(store_doc *d);
void store_item_release(store_item *it);
/* the document; ERR_NOT_FOUND (out->rev 0, body NULL) when there is none */
err store_doc_get(store *s, const char *tenant_id, const char *ws, const char *kind,
                  const char *channel, store_doc *out) WARN_UNUSED;
/* write body as revision expect_rev + 1 by actor; ERR_CONFLICT when the stored revision is not
   expect_rev, ERR_QUOTA_EXCEEDED when a new document would pass STORE_DOCS_PER_WS; *new_rev (may
   be NULL) receives the revision written */
err store_doc_put(store *s, const char *tenant_id, const char *ws, const char *kind,
                  const char *channel, int64_t expect_rev, const char *body, const char *actor,
                  int64_t *new_rev) WARN_UNUSED;
/* the workspace's documents of kind, by channel; the callback's doc is valid during the call */
typedef bool (*store_doc_fn)(const store_doc *d, void *ctx);
err store_doc_list(store *s, const char *tenant_id, const char *ws, const char *kind,
                   store_doc_fn fn, void *ctx) WARN_UNUSED;
/* add it (created_at "" = now); ERR_CONFLICT when its id is taken, ERR_QUOTA_EXCEEDED when the
   workspace holds STORE_ITEMS_PER_WS items of its kind; then keep the newest keep items of its
   (kind, channel) */
err store_item_add(store *s, const char *tenant_id, const char *ws, store_item *it,
                   int keep) WARN_UNUSED;
/* the item id (NULL: the newest) of kind, on channel (NULL: any); ERR_NOT_FOUND */
err store_item_get(store *s, const char *tenant_id, const char *ws, const char *kind,
                   const char *channel, const char *id, store_item *out) WARN_UNUSED;
/* up to max items of kind on channel (NULL: any), newest first */
typedef bool (*store_item_fn)(const store_item *it, void *ctx);
err store_item_list(store *s, const char *tenant_id, const char *ws, const char *kind,
                    const char *channel, int max, store_item_fn fn, void *ctx) WARN_UNUSED;
/* delete items of kind on channel (NULL: any) sent by agent (or, with or_to, addressed to it;
   agent NULL: anyone's) and created before `before` (RFC 3339, NULL: any time) */
err store_item_delete(store *s, const char *tenant_id, const char *ws, const char *kind,
                      const char *channel, const char *agent, bool or_to, const char *before,
                      int64_t *deleted) WARN_UNUSED;

/* ---- knowledge: ctx_knowledge's facts and relations (issue 6, KNOWLEDGE) ----
 * Facts are versions of (tenant, workspace, category, key) (migration 0005_knowledge.sql): one
 * version is current (valid_until ""), older ones are kept with valid_until and superseded_by.
 * Every function takes the tenant and workspace and reaches only their rows; writes are
 * committed before they return. Text matches use the FTS5 index over category, key and value
 * (bm25); a match expression is built by the caller from quoted tokens only. */
#define STORE_KN_CATEGORY_MAX 64
#define STORE_KN_KEY_MAX 128
#define STORE_KN_VALUE_MAX 16384
#define STORE_KN_SOURCE_MAX 160

typedef struct store_fact {
    int64_t id;
    char category[STORE_KN_CATEGORY_MAX + 1];
    char key[STORE_KN_KEY_MAX + 1];
    const char *value; /* read: valid during the callback; write: at most STORE_KN_VALUE_MAX */
    char source[STORE_KN_SOURCE_MAX + 1];
    char imported_from[STORE_KN_SOURCE_MAX + 1]; /* "" = none */
    double confidence;                           /* 0..1 */
    char created_at[32];                         /* write: "" = now (an import may keep its own) */
    char last_confirmed[32];                     /* write: "" = now */
    char valid_from[32], valid_until[32], last_retrieved[32];
    int64_t supersedes, superseded_by; /* 0 = none */
    int64_t retrieval_count, feedback_up, feedback_down;
    double score; /* of a ranked query: bm25 weighted by confidence (lower is better) */
} store_fact;
typedef bool (*store_fact_fn)(const store_fact *f, void *ctx);

typedef enum store_kn_merge {
    STORE_KN_SUPERSEDE, /* a different value replaces the current version */
    STORE_KN_SKIP,      /* an existing current version is kept */
    STORE_KN_NEWER,     /* replaced only when f->last_confirmed is later than the current one's */
} store_kn_merge;

typedef enum store_kn_outcome {
    STORE_KN_CREATED,    /* no current version existed */
    STORE_KN_SUPERSEDED, /* the current version was closed and a new one added */
    STORE_KN_CONFIRMED,  /* same value: last_confirmed and confidence refreshed */
    STORE_KN_SKIPPED,    /* merge rule kept the current version */
} store_kn_outcome;

typedef struct store_kn_write {
    store_kn_outcome outcome;
    int64_t id;      /* the current version after the write */
    int64_t prev_id; /* the version that was current before, 0 = none */
    char prev_source[STORE_KN_SOURCE_MAX + 1];
    char prev_confirmed[32];
} store_kn_write;

/* upsert f (category, key, value, source, imported_from, confidence, created_at,
   last_confirmed) as the current version of its key; ERR_INVALID_ARGUMENTS for an empty or
   oversized field */
err store_kn_remember(store *s, const char *tenant, const char *ws, const store_fact *f,
                      store_kn_merge merge, store_kn_write *res) WARN_UNUSED;

typedef enum store_kn_order {
    STORE_KN_BY_RANK,   /* bm25 (needs match) weighted by confidence, then newest */
    STORE_KN_BY_USEFUL, /* confidence x recency x retrieval count (wakeup) */
    STORE_KN_BY_NEWEST, /* newest version first (id) */
    STORE_KN_BY_KEY,    /* category, key, then version (export) */
} store_kn_order;

typedef struct store_kn_query {
    const char *match;    /* an FTS5 expression, NULL: no text condition */
    const char *category; /* NULL: any */
    const char *key;      /* NULL: any */
    const char *as_of;    /* RFC 3339 (store format); NULL: the current versions */
    bool history;         /* every version (timeline); as_of is then ignored */
    store_kn_order order;
    int64_t min_id; /* only versions with a larger id (consolidate's candidates) */
    int limit;      /* 1..10000 */
    bool touch;     /* count a retrieval of each fact returned */
} store_kn_query;
/* facts of (tenant, ws) that satisfy q, in q->order; ERR_INVALID_ARGUMENTS for a match
   expression FTS5 refuses */
err store_kn_query_run(store *s, const char *tenant, const char *ws, const store_kn_query *q,
                       store_fact_fn fn, void *ctx) WARN_UNUSED;
/* delete every version of category/key (and nothing else); *removed = versions deleted;
   ERR_NOT_FOUND when there is no current version */
err store_kn_remove(store *s, const char *tenant, const char *ws, const char *category,
                    const char *key, int64_t *removed) WARN_UNUSED;
/* make a copy of the newest superseded version of category/key the current version (the
   current one, if any, is superseded); ERR_NOT_FOUND when there is no older version */
err store_kn_restore(store *s, const char *tenant, const char *ws, const char *category,
                     const char *key, const char *source, store_kn_write *res) WARN_UNUSED;
/* count a feedback on the current version of category/key; ERR_NOT_FOUND */
err store_kn_feedback(store *s, const char *tenant, const char *ws, const char *category,
                      const char *key, bool up) WARN_UNUSED;
/* close version loser (superseded_by winner) and confirm winner with the higher confidence of
   the two; ERR_NOT_FOUND when either is not a current version of (tenant, ws) */
err store_kn_merge_pair(store *s, const char *tenant, const char *ws, int64_t winner,
                        int64_t loser) WARN_UNUSED;
/* add (ERR_CONFLICT when it exists) or remove (ERR_NOT_FOUND when it does not) from → to */
err store_kn_relate(store *s, const char *tenant, const char *ws, const char *from, const char *to,
                    const char *source, bool add) WARN_UNUSED;
/* relations with key at either end, oldest first, at most limit */
typedef bool (*store_kn_rel_fn)(const char *from, const char *to, const char *source,
                                const char *created_at, void *ctx);
err store_kn_relations(store *s, const char *tenant, const char *ws, const char *key, int limit,
                       store_kn_rel_fn fn, void *ctx) WARN_UNUSED;
/* current facts per category (by category), and the number of superseded versions */
typedef bool (*store_kn_cat_fn)(const char *category, int64_t count, void *ctx);
err store_kn_categories(store *s, const char *tenant, const char *ws, store_kn_cat_fn fn, void *ctx,
                        int64_t *superseded) WARN_UNUSED;

/* ---- METRICS (issue 6): request-log usage by agent and tool (ctx_cost) ----
 * Rows of tenant_id (only that tenant's) since since_ms, grouped by (token_id, tool), tool calls
 * only (rows of other routes, whose tool is a path, are left out); token_id NULL: every agent.
 * At most limit groups (1..1000), most calls first. Reads committed rows: they lag the requests
 * by at most STORE_FLUSH_MS. */
typedef struct store_usage_row {
    const char *token_id; /* "" when the row had none */
    const char *tool;
    int64_t calls, errors, rate_limited, duration_ms;
} store_usage_row;
typedef bool (*store_usage_fn)(const store_usage_row *r, void *ctx);
err store_log_usage(store *s, const char *tenant_id, const char *token_id, int64_t since_ms,
                    int limit, store_usage_fn fn, void *ctx) WARN_UNUSED;

/* ---- artifacts: ctx_artifacts' registry and BM25 index, ctx_proof's stored proofs (issue 6,
 * ARTIFACTS; tools.md §4.6-4.7; migration 0006_artifacts.sql) ----
 * An artifact is a workspace file matching artifactGlobs (stored false: chunks of the version
 * sha/mtime_ns) or a document kept in the store (stored true: body, e.g. a proof). Each has
 * search chunks (heading, text, code-aware tokens) behind an FTS5 index. Every function filters
 * by tenant and workspace; writes that grow the tenant's data are charged to its quota
 * (ERR_QUOTA_EXCEEDED rolls the write back). */
#define STORE_ART_NAME_MAX 1024
#define STORE_ART_KIND_MAX 16
#define STORE_ART_PER_WS 10000    /* artifacts of one workspace */
#define STORE_ART_CHUNKS_MAX 4096 /* chunks of one artifact */
#define STORE_ART_BODY_MAX ((size_t)4 << 20)

typedef struct store_art {
    int64_t id;
    char name[STORE_ART_NAME_MAX + 1]; /* workspace-relative path, or the stored name */
    char kind[STORE_ART_KIND_MAX + 1];
    bool stored;
    bool removed; /* a file artifact dropped by `remove`: no chunks, skipped by `index` */
    char sha[65];
    int64_t bytes, mtime_ns, chunks;
    char updated_at[32];
    char updated_by[STORE_ACTOR_MAX + 1];
    char *body; /* store_art_get/latest of a stored artifact (xmalloc'd), else NULL */
} store_art;

typedef struct store_art_chunk {
    int64_t start_line, end_line;
    const char *heading, *text, *tokens;
} store_art_chunk;

void store_art_release(store_art *a);
/* register a (new version of) a->name with its n chunks in place of the old ones, in one
   transaction (a->removed is cleared; body: stored artifacts' document, else NULL).
   ERR_CONFLICT when the name is taken by an artifact of the other sort (stored vs file),
   ERR_LIMIT when the workspace holds STORE_ART_PER_WS artifacts, ERR_QUOTA_EXCEEDED */
err store_art_put(store *s, const char *tenant, const char *ws, const store_art *a,
                  const char *body, const store_art_chunk *c, size_t n) WARN_UNUSED;
/* a file artifact's content is unchanged: record its new mtime */
err store_art_touch(store *s, const char *tenant, const char *ws, const char *name,
                    int64_t mtime_ns) WARN_UNUSED;
/* the workspace's artifacts by name (removed ones only when with_removed); body not filled */
typedef bool (*store_art_fn)(const store_art *a, void *ctx);
err store_art_list(store *s, const char *tenant, const char *ws, bool with_removed, store_art_fn fn,
                   void *ctx) WARN_UNUSED;
/* one artifact by name (removed ones too); ERR_NOT_FOUND */
err store_art_get(store *s, const char *tenant, const char *ws, const char *name,
                  store_art *out) WARN_UNUSED;
/* the newest stored artifact of kind written by `by` (NULL: anyone); ERR_NOT_FOUND */
err store_art_latest(store *s, const char *tenant, const char *ws, const char *kind, const char *by,
                     store_art *out) WARN_UNUSED;
/* `remove`: a stored artifact is deleted, a file artifact loses its chunks and is marked
   removed; *stored (may be NULL) says which. ERR_NOT_FOUND (also when already removed) */
err store_art_remove(store *s, const char *tenant, const char *ws, const char *name,
                     bool *stored) WARN_UNUSED;
/* a file artifact whose file is gone: delete it (removed marks too); ERR_NOT_FOUND */
err store_art_forget(store *s, const char *tenant, const char *ws, const char *name) WARN_UNUSED;
/* `reindex`: delete every file artifact of the workspace, removed marks included */
err store_art_reset_files(store *s, const char *tenant, const char *ws) WARN_UNUSED;
/* the registry's state: when its files were last brought up to date (at "" when never) */
typedef struct store_art_state {
    char indexed_at[32];
    char indexed_by[STORE_ACTOR_MAX + 1];
    int64_t files, stored, removed, chunks, bytes;
} store_art_state;
err store_art_state_get(store *s, const char *tenant, const char *ws,
                        store_art_state *out) WARN_UNUSED;
err store_art_mark_indexed(store *s, const char *tenant, const char *ws,
                           const char *by) WARN_UNUSED;
/* chunks matching the FTS5 expression `match` (built by the caller from quoted tokens), best
   first (score = -bm25), at most limit (1..50) */
typedef struct store_art_hit {
    const char *name, *kind, *heading, *text;
    int64_t start_line, end_line;
    double score;
} store_art_hit;
typedef bool (*store_art_hit_fn)(const store_art_hit *h, void *ctx);
err store_art_search(store *s, const char *tenant, const char *ws, const char *match, int limit,
                     store_art_hit_fn fn, void *ctx) WARN_UNUSED;

#endif

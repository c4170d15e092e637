/* build.c - one indexing pass over a workspace: producer, parse workers, one writer.
 *
 * The producer walks the tree (ws/walk.h: ignore files respected, hidden names skipped, the
 * deny-list always applies) or, in list mode, only the directories of the named paths (depth
 * 1, so the same visibility rules decide and nothing else is stated). It compares each file's
 * stat (size, mtime ns, ctime ns, inode) with the files table loaded at the start and queues
 * only the candidates. Workers open a candidate through the root descriptor
 * (path_open_walked: no symlink anywhere, never outside the root), hash it (SHA-256), and parse
 * it only when the hash differs from the stored one; a binary file (NUL in the first 8 KiB) or
 * one over maxIndexBytes is recorded with its status and never parsed; a parse failure is
 * recorded as 'parse_error'. Each result lives in its own arena until the writer has stored
 * it. Both queues are bounded, so memory stays proportional to the queue sizes, not the tree.
 *
 * The writer (the calling thread, which owns the connection) replaces a file's rows (symbols,
 * imports, calls, routes, chunks and their FTS rows) in one transaction with other files,
 * committing every IX_BATCH_FILES files or IX_BATCH_MS; each commit bumps meta generation and
 * the row counters. After the producer is done it deletes files that are gone (only after a
 * complete walk of their scope) and resolves imports (resolve.h). */
#include "index/build.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "index/resolve.h"
#include "index/store.h"
#include "lang/ctags.h"
#include "lang/extract.h"
#include "lang/lang.h"
#include "ws/path.h"
#include "ws/walk.h"

#define BIN_SNIFF 8192
/* work items are small (a path): the walker runs far ahead, so a first build's total is known
 * early; the ring's pages are touched only as far as it fills */
#define WORK_QUEUE (1 << 20)
#define DONE_QUEUE 64
#define CTAGS_BATCH 1000 /* files for ctags collected before it runs (the rest at the end) */
/* the results waiting for the writer hold at most this many arena bytes (one result of any
 * size always fits): generated headers make results of 50 MB and more, and a writer that lags
 * would otherwise keep 64 of them */
#define DONE_BYTES ((size_t)192 << 20)
#define WINDOW_LINES 50
#define WINDOW_STEP 40           /* 10 lines of overlap */
#define CHUNK_SRC_MAX (64 << 10) /* source bytes of one chunk fed to the tokenizer */
#define FILE_ARENA_MAX ((size_t)512 << 20)
#define PASS_CACHE_KB 131072  /* the writer's page cache during a walking pass */
#define PASS_CKPT_PAGES 16384 /* WAL pages between automatic checkpoints during one */
/* the commit batch of a walking pass (IX_BATCH_FILES and IX_BATCH_MS: the other passes) */
#define PASS_BATCH_FILES 4000
#define PASS_BATCH_MS 1000
/* chunks.tok is read back only to delete a file's FTS rows: the fastest zlib level (fs/ of the
   kernel: chunking 17% faster than at level 6) */
#define CHUNK_ZLEVEL Z_BEST_SPEED
#define SLOW_FILE_NS ((int64_t)200 * 1000000) /* a parse this long is logged (debug level) */

/* ---- the files table, as loaded at the start of a pass ---- */

typedef struct fent {
    char *path;
    int64_t id, size, mtime_ns, ctime_ns, ino;
    char hash[SHA256_HEX_LEN + 1];
    bool seen;
} fent;

typedef struct fmap {
    fent *e;
    size_t n, cap;
    int32_t *tab; /* open addressing over e, -1 empty */
    size_t tcap;
} fmap;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static fent *fmap_get(const fmap *m, const char *path)
{
    if (!m->tcap) {
        return NULL;
    }
    for (size_t i = (size_t)fnv(path) & (m->tcap - 1); m->tab[i] >= 0;
         i = (i + 1) & (m->tcap - 1)) {
        if (strcmp(m->e[m->tab[i]].path, path) == 0) {
            return &m->e[m->tab[i]];
        }
    }
    return NULL;
}

static void fmap_free(fmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        xfree(m->e[i].path);
    }
    xfree(m->e);
    xfree(m->tab);
    memset(m, 0, sizeof *m);
}

static bool fmap_index(fmap *m)
{
    size_t tcap = 1024;
    while (tcap < m->n * 2) {
        tcap *= 2;
    }
    m->tab = xmalloc(tcap * sizeof *m->tab);
    if (!m->tab) {
        return false;
    }
    memset(m->tab, 0xff, tcap * sizeof *m->tab);
    m->tcap = tcap;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = (size_t)fnv(m->e[k].path) & (tcap - 1);
        while (m->tab[i] >= 0) {
            i = (i + 1) & (tcap - 1);
        }
        m->tab[i] = (int32_t)k;
    }
    return true;
}

static bool fmap_add_row(fmap *m, sqlite3_stmt *st)
{
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        fent *ne = xrealloc(m->e, ncap * sizeof *ne);
        if (!ne) {
            return false;
        }
        m->e = ne;
        m->cap = ncap;
    }
    fent *f = &m->e[m->n];
    memset(f, 0, sizeof *f);
    f->id = sqlite3_column_int64(st, 0);
    f->path = xstrdup((const char *)sqlite3_column_text(st, 1));
    if (!f->path) {
        return false;
    }
    f->size = sqlite3_column_int64(st, 2);
    f->mtime_ns = sqlite3_column_int64(st, 3);
    f->ctime_ns = sqlite3_column_int64(st, 4);
    f->ino = sqlite3_column_int64(st, 5);
    const char *h = (const char *)sqlite3_column_text(st, 6);
    snprintf(f->hash, sizeof f->hash, "%s", h ? h : "");
    m->n++;
    return true;
}

/* walk mode: every file; list mode: only the listed paths (by the unique index) */
static bool fmap_load(fmap *m, sqlite3 *db, const ix_pass *p)
{
    static const char cols[] = "SELECT id, path, size, mtime_ns, ctime_ns, ino, hash FROM files";
    sqlite3_stmt *st = NULL;
    bool ok = true;
    if (!p->paths) {
        if (sqlite3_prepare_v2(db, cols, -1, &st, NULL) != SQLITE_OK) {
            return false;
        }
        while (ok && sqlite3_step(st) == SQLITE_ROW) {
            ok = fmap_add_row(m, st);
        }
    } else {
        char q[160];
        snprintf(q, sizeof q, "%s WHERE path = ?", cols);
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
            return false;
        }
        for (size_t i = 0; ok && i < p->n_paths; i++) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, p->paths[i], -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) {
                ok = fmap_add_row(m, st);
            }
        }
    }
    sqlite3_finalize(st);
    return ok && fmap_index(m);
}

/* ---- bounded queues ---- */

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t can_pop, can_push;
    void **items;
    size_t *sizes; /* per slot, the bytes the item holds (0 when not counted) */
    size_t cap, head, n;
    size_t bytes, max_bytes; /* held by the queued items; max 0: no byte bound */
    bool closed;
} queue;

static bool q_init(queue *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    q->items = xcalloc(cap, sizeof *q->items);
    q->sizes = xcalloc(cap, sizeof *q->sizes);
    if (!q->items || !q->sizes) {
        xfree(q->items);
        xfree(q->sizes);
        return false;
    }
    q->cap = cap;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->can_pop, NULL);
    pthread_cond_init(&q->can_push, NULL);
    return true;
}

static void q_destroy(queue *q)
{
    xfree(q->items);
    xfree(q->sizes);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->can_pop);
    pthread_cond_destroy(&q->can_push);
}

/* false (the item not taken) once the queue is closed; an item of `bytes` waits while the queue
 * is full or (unless it is empty) would exceed its byte bound */
static bool q_push_sized(queue *q, void *it, size_t bytes)
{
    pthread_mutex_lock(&q->mu);
    while ((q->n == q->cap || (q->max_bytes && q->n > 0 && q->bytes + bytes > q->max_bytes)) &&
           !q->closed) {
        pthread_cond_wait(&q->can_push, &q->mu);
    }
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return false;
    }
    q->items[(q->head + q->n) % q->cap] = it;
    q->sizes[(q->head + q->n) % q->cap] = bytes;
    q->bytes += bytes;
    q->n++;
    pthread_cond_signal(&q->can_pop);
    pthread_mutex_unlock(&q->mu);
    return true;
}

static bool q_push(queue *q, void *it)
{
    return q_push_sized(q, it, 0);
}

static void q_close(queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->can_pop);
    pthread_cond_broadcast(&q->can_push);
    pthread_mutex_unlock(&q->mu);
}

/* an item; NULL when closed and empty, or (timeout_ms > 0) when nothing came in time */
static void *q_pop(queue *q, int timeout_ms, bool *closed)
{
    pthread_mutex_lock(&q->mu);
    if (timeout_ms > 0 && q->n == 0 && !q->closed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)timeout_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&q->can_pop, &q->mu, &ts);
    } else {
        while (q->n == 0 && !q->closed) {
            pthread_cond_wait(&q->can_pop, &q->mu);
        }
    }
    void *it = NULL;
    if (q->n) {
        it = q->items[q->head];
        q->bytes -= q->sizes[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        pthread_cond_broadcast(&q->can_push);
    }
    *closed = q->closed && q->n == 0 && !it;
    pthread_mutex_unlock(&q->mu);
    return it;
}

/* ---- work items and results ---- */

typedef struct item {
    char *rel;
    const fent *old; /* NULL: not indexed yet */
} item;

typedef enum {
    R_SAME,    /* content unchanged: only the stat is updated */
    R_GONE,    /* vanished (or no longer a regular file) */
    R_REPLACE, /* rows replaced (status says what kind) */
} rkind;

typedef struct rchunk {
    int sym; /* index into xf.syms, or -1 (a window) */
    uint32_t start_line, end_line;
    const char *text;
    size_t ntok;
    const unsigned char *z; /* text, zlib-compressed (chunks.tok) */
    size_t zlen;
} rchunk;

typedef struct result {
    arena a;
    rkind kind;
    const char *rel;
    const fent *old;
    int64_t size, mtime_ns, ctime_ns, ino;
    char hash[SHA256_HEX_LEN + 1];
    const char *status; /* ok too_large binary parse_error no_parser */
    const char *lang;   /* NULL when none */
    const char *backend;
    const char *ctags_lang; /* no grammar, but ctags knows it: parsed in the ctags batch */
    uint32_t lines;
    x_file xf;
    rchunk *chunks;
    size_t n_chunks;
} result;

typedef struct pipe_ctx {
    const ix_pass *p;
    fmap *map;
    queue work, done;
    size_t max_bytes;
    atomic_llong walked, unchanged;
    atomic_int live_workers; /* the last one out closes the done queue */
    atomic_bool walk_complete;
    int64_t prev_files;
    /* where the workers' time goes (ns, summed over workers), logged at debug level */
    atomic_llong ns_read, ns_parse, ns_chunk, ns_full, n_full;
} pipe_ctx;

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static bool stopping(const ix_pass *p)
{
    return (p->stop && atomic_load(p->stop)) || (p->halt && atomic_load(p->halt));
}

/* ---- the producer ---- */

typedef struct walk_ctx {
    pipe_ctx *pc;
    const char *only; /* list mode: the names (NUL-separated set) wanted in this directory */
    size_t only_len;
} walk_ctx;

static bool name_wanted(const walk_ctx *w, const char *name)
{
    for (const char *s = w->only; s < w->only + w->only_len; s += strlen(s) + 1) {
        if (strcmp(s, name) == 0) {
            return true;
        }
    }
    return false;
}

static walk_action on_entry(const walk_entry *e, void *vctx)
{
    walk_ctx *w = vctx;
    pipe_ctx *pc = w->pc;
    const ix_pass *p = pc->p;
    if (stopping(p)) {
        return WALK_STOP;
    }
    if (e->type == WALK_DIR) {
        return w->only ? WALK_SKIP : WALK_CONTINUE;
    }
    if (e->type != WALK_FILE || (w->only && !name_wanted(w, e->name))) {
        return WALK_CONTINUE;
    }
    struct stat sb;
    if (fstatat(e->dir_fd, e->name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) {
        return WALK_CONTINUE;
    }
    atomic_fetch_add(&pc->walked, 1);
    if (p->prog) {
        int64_t t = atomic_load(&pc->walked);
        atomic_store(&p->prog->total, t > pc->prev_files ? t : pc->prev_files);
    }
    fent *old = fmap_get(pc->map, e->rel);
    if (old) {
        old->seen = true;
        if (!p->full && old->size == (int64_t)sb.st_size && old->mtime_ns == ts_ns(&sb.st_mtim) &&
            old->ctime_ns == ts_ns(&sb.st_ctim) && old->ino == (int64_t)sb.st_ino) {
            atomic_fetch_add(&pc->unchanged, 1);
            if (p->prog) {
                atomic_fetch_add(&p->prog->done, 1);
            }
            return WALK_CONTINUE;
        }
    }
    item *it = xmalloc(sizeof *it);
    char *rel = xstrdup(e->rel);
    if (!it || !rel) {
        xfree(it);
        xfree(rel);
        return WALK_STOP;
    }
    it->rel = rel;
    it->old = old;
    if (!q_push(&pc->work, it)) {
        xfree(it->rel);
        xfree(it);
        return WALK_STOP;
    }
    return WALK_CONTINUE;
}

static const walk_opts *opts_for(const ix_pass *p, walk_opts *o, int max_depth)
{
    memset(o, 0, sizeof *o);
    o->respect_ignore = true;
    o->skip_hidden = true;
    o->max_depth = max_depth;
    o->cancel = p->stop;
    o->extra_ignore = p->c->ignore_globs;
    o->n_extra_ignore = p->c->n_ignore_globs;
    return o;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_scope(const ix_pass *p, const char *path);

/* ---- the estimate of a pass's growth, for the storage quota (index.h) ---- */

/* names whose content is binary in practice: recorded as a row, never parsed or chunked (a
 * Python tree holds several times its source in .pyc) */
static bool binary_name(const char *name)
{
    static const char *const ext[] = {
        "pyc", "pyo",  "o",    "a",   "so",  "dylib", "dll",  "exe", "obj",    "lib", "class",
        "jar", "war",  "zip",  "gz",  "tgz", "bz2",   "xz",   "zst", "7z",     "rar", "png",
        "jpg", "jpeg", "gif",  "bmp", "ico", "webp",  "tif",  "pdf", "woff",   "ttf", "woff2",
        "otf", "eot",  "mp3",  "mp4", "wav", "ogg",   "flac", "avi", "mov",    "mkv", "webm",
        "bin", "wasm", "pack", "idx", "iso", "img",   "deb",  "rpm", "sqlite", "db"};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) {
        return false;
    }
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        if (strcasecmp(dot + 1, ext[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* the estimated index bytes of one file's rows */
static int64_t est_file(const ix_pass *p, const char *name, int64_t size)
{
    const char *base = strrchr(name, '/');
    if (size < 0 || size > (int64_t)p->c->max_index_bytes || binary_name(base ? base + 1 : name)) {
        return IX_EST_ROW_BYTES;
    }
    return IX_EST_ROW_BYTES + size * IX_EST_FACTOR_NUM / IX_EST_FACTOR_DEN;
}

typedef struct est_ctx {
    const ix_pass *p;
    fmap *map;
    int64_t bytes, files;
} est_ctx;

static walk_action est_entry(const walk_entry *e, void *vctx)
{
    est_ctx *x = vctx;
    if (stopping(x->p)) {
        return WALK_STOP;
    }
    struct stat sb;
    if (e->type != WALK_FILE || fstatat(e->dir_fd, e->name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(sb.st_mode)) {
        return WALK_CONTINUE;
    }
    fent *old = fmap_get(x->map, e->rel);
    if (old) {
        old->seen = true;
        if (!x->p->full && old->size == (int64_t)sb.st_size &&
            old->mtime_ns == ts_ns(&sb.st_mtim) && old->ctime_ns == ts_ns(&sb.st_ctim) &&
            old->ino == (int64_t)sb.st_ino) {
            return WALK_CONTINUE;
        }
        x->bytes -= est_file(x->p, e->name, old->size);
    }
    x->bytes += est_file(x->p, e->name, (int64_t)sb.st_size);
    x->files++;
    return WALK_CONTINUE;
}

bool ix_estimate(const ix_pass *p, sqlite3 *db, int64_t *bytes, int64_t *files)
{
    *bytes = 0;
    *files = 0;
    fmap map = {0};
    if (db && !fmap_load(&map, db, p)) {
        fmap_free(&map);
        return false;
    }
    if (!db && !fmap_index(&map)) {
        return false;
    }
    est_ctx x = {p, &map, 0, 0};
    walk_opts o;
    walk_stats ws = {0};
    path_status st = walk_tree(p->ws->root_fd, p->ws->root_real, p->subpath, opts_for(p, &o, 0),
                               est_entry, &x, &ws);
    bool complete = st == PATH_OK && !ws.cancelled && !ws.timed_out && !stopping(p);
    if (complete) {
        for (size_t i = 0; i < map.n; i++) {
            if (!map.e[i].seen && in_scope(p, map.e[i].path)) {
                x.bytes -= est_file(p, map.e[i].path, map.e[i].size);
            }
        }
    }
    fmap_free(&map);
    if (!db) {
        x.bytes += IX_EST_EMPTY_BYTES;
    }
    *bytes = x.bytes > 0 ? x.bytes : 0;
    *files = x.files;
    return complete;
}

/* ---- list mode: is a directory visible (not hidden, ignored or denied at any level)? ---- */

typedef struct dir_probe {
    const char *name;
    bool seen;
} dir_probe;

static walk_action probe_entry(const walk_entry *e, void *vctx)
{
    dir_probe *d = vctx;
    if (e->type == WALK_DIR && strcmp(e->name, d->name) == 0) {
        d->seen = true;
        return WALK_STOP;
    }
    return e->type == WALK_DIR ? WALK_SKIP : WALK_CONTINUE;
}

#define VISIBLE_MEMO 64

typedef struct visible_memo {
    char dir[VISIBLE_MEMO][PATH_MAX_LEN];
    bool ok[VISIBLE_MEMO];
    size_t n, next;
} visible_memo;

/* A walk never enters a hidden or ignored directory, but a walk that starts inside one does
 * not know it: so each level of dir is looked up in its parent's listing (the walker's own
 * rules decide), memoized for the pass. */
static bool dir_visible(const ix_pass *p, visible_memo *m, const char *dir)
{
    if (!dir[0]) {
        return true;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->dir[i], dir) == 0) {
            return m->ok[i];
        }
    }
    const char *slash = strrchr(dir, '/');
    char parent[PATH_MAX_LEN];
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - dir) : 0, dir);
    bool ok = dir_visible(p, m, parent);
    if (ok) {
        dir_probe d = {slash ? slash + 1 : dir, false};
        walk_opts o;
        walk_stats ws = {0};
        ok = walk_tree(p->ws->root_fd, p->ws->root_real, parent, opts_for(p, &o, 1), probe_entry,
                       &d, &ws) == PATH_OK &&
             d.seen;
    }
    size_t k = m->n < VISIBLE_MEMO ? m->n++ : m->next++ % VISIBLE_MEMO;
    snprintf(m->dir[k], sizeof m->dir[k], "%s", dir);
    m->ok[k] = ok;
    return ok;
}

/* list mode: group the paths by directory and walk each directory at depth 1 */
static bool produce_list(pipe_ctx *pc)
{
    const ix_pass *p = pc->p;
    const char **sorted = xcalloc(p->n_paths ? p->n_paths : 1, sizeof *sorted);
    if (!sorted) {
        return false;
    }
    memcpy(sorted, p->paths, p->n_paths * sizeof *sorted);
    qsort(sorted, p->n_paths, sizeof *sorted, cmp_str);
    bool complete = true;
    buf names;
    buf_init(&names, (size_t)16 << 20);
    visible_memo *memo = xcalloc(1, sizeof *memo);
    if (!memo) {
        xfree(sorted);
        return false;
    }
    for (size_t i = 0; i < p->n_paths && !stopping(p);) {
        const char *slash = strrchr(sorted[i], '/');
        size_t dlen = slash ? (size_t)(slash - sorted[i]) : 0;
        char dir[PATH_MAX_LEN];
        snprintf(dir, sizeof dir, "%.*s", (int)dlen, sorted[i]);
        buf_truncate(&names, 0);
        size_t j = i;
        for (; j < p->n_paths; j++) {
            const char *s2 = strrchr(sorted[j], '/');
            size_t d2 = s2 ? (size_t)(s2 - sorted[j]) : 0;
            if (d2 != dlen || strncmp(sorted[j], dir, dlen) != 0) {
                break;
            }
            buf_append(&names, s2 ? s2 + 1 : sorted[j], strlen(s2 ? s2 + 1 : sorted[j]) + 1);
        }
        i = j;
        if (names.failed) {
            complete = false;
            break;
        }
        if (!dir_visible(p, memo, dir)) {
            continue; /* its files count as gone: removed from the index if they were in it */
        }
        walk_ctx w = {pc, names.ptr, names.len};
        walk_opts o;
        walk_stats ws = {0};
        path_status st =
            walk_tree(p->ws->root_fd, p->ws->root_real, dir, opts_for(p, &o, 1), on_entry, &w, &ws);
        if (st != PATH_OK && st != PATH_NOT_FOUND && st != PATH_NOT_DIR && st != PATH_DENIED) {
            complete = false;
        }
        if (ws.cancelled || ws.timed_out) {
            complete = false;
        }
    }
    buf_release(&names);
    xfree(memo);
    xfree(sorted);
    return complete && !stopping(p);
}

static void *producer_main(void *arg)
{
    pipe_ctx *pc = arg;
    const ix_pass *p = pc->p;
    bool complete;
    if (p->paths) {
        complete = produce_list(pc);
    } else {
        walk_ctx w = {pc, NULL, 0};
        walk_opts o;
        walk_stats ws = {0};
        path_status st = walk_tree(p->ws->root_fd, p->ws->root_real, p->subpath, opts_for(p, &o, 0),
                                   on_entry, &w, &ws);
        complete = st == PATH_OK && !ws.cancelled && !ws.timed_out && !stopping(p);
        if (st != PATH_OK) {
            log_warn("index %s/%s: cannot walk '%s': %s", p->ws->tenant, p->ws->id,
                     p->subpath[0] ? p->subpath : ".", path_status_code(st));
        }
    }
    atomic_store(&pc->walk_complete, complete);
    q_close(&pc->work);
    return NULL;
}

/* ---- the workers ---- */

static uint32_t count_lines(const char *s, size_t n)
{
    uint32_t l = 0;
    for (const char *q = s; (q = memchr(q, '\n', (size_t)(s + n - q))) != NULL; q++) {
        l++;
    }
    return l + (n > 0 && s[n - 1] != '\n');
}

static bool chunk_kind(const char *k)
{
    static const char *const kinds[] = {"fn",     "method",    "class", "struct", "impl",
                                        "module", "interface", "trait", NULL};
    for (size_t i = 0; kinds[i]; i++) {
        if (strcmp(k, kinds[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* the file's stem and parent directory name, appended to every chunk's tokens */
static void path_tokens(const char *rel, buf *out)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    index_tokenize(base, stem, out);
    index_tokenize(base, stem, out);
    if (slash) {
        const char *pd = slash;
        while (pd > rel && pd[-1] != '/') {
            pd--;
        }
        index_tokenize(pd, (size_t)(slash - pd), out);
    }
}

static bool add_chunk(result *r, buf *tok, int sym, uint32_t sl, uint32_t el, const char *src,
                      size_t n, size_t cap)
{
    buf_truncate(tok, 0);
    index_tokenize(src, n > CHUNK_SRC_MAX ? CHUNK_SRC_MAX : n, tok);
    path_tokens(r->rel, tok);
    if (tok->failed || r->n_chunks >= cap) {
        return false;
    }
    size_t ntok = 0;
    for (size_t i = 0; i < tok->len; i++) {
        ntok += tok->ptr[i] == ' ';
    }
    rchunk *c = &r->chunks[r->n_chunks++];
    c->sym = sym;
    c->start_line = sl;
    c->end_line = el;
    c->text = arena_strndup(&r->a, tok->ptr ? tok->ptr : "", tok->len);
    c->ntok = tok->len ? ntok + 1 : 0;
    uLongf zlen = compressBound((uLong)tok->len);
    unsigned char *z = arena_alloc(&r->a, zlen);
    if (!c->text || !z ||
        compress2(z, &zlen, (const Bytef *)c->text, (uLong)tok->len, CHUNK_ZLEVEL) != Z_OK) {
        r->n_chunks--;
        return false;
    }
    c->z = z;
    c->zlen = zlen;
    return true;
}

/* chunks: one per fn/method/class/... symbol; without any, 50-line windows (10 overlap) */
static void make_chunks(result *r, const char *src, size_t n)
{
    buf tok;
    buf_init(&tok, (size_t)4 << 20);
    size_t want = 0;
    for (size_t i = 0; i < r->xf.n_syms; i++) {
        want += chunk_kind(r->xf.syms[i].kind);
    }
    size_t cap = want ? want : (size_t)r->lines / WINDOW_STEP + 2;
    r->chunks = arena_alloc(&r->a, cap * sizeof *r->chunks);
    if (!r->chunks) {
        buf_release(&tok);
        return;
    }
    if (want) {
        for (size_t i = 0; i < r->xf.n_syms; i++) {
            const x_symbol *s = &r->xf.syms[i];
            if (!chunk_kind(s->kind) || s->end_byte > n || s->start_byte > s->end_byte) {
                continue;
            }
            add_chunk(r, &tok, (int)i, s->start_line, s->end_line, src + s->start_byte,
                      s->end_byte - s->start_byte, cap);
        }
    } else {
        /* line offsets on the fly: window k covers lines [k*40+1, k*40+50] */
        const char *line = src;
        uint32_t ln = 1;
        while (line < src + n) {
            const char *end = line;
            uint32_t el = ln;
            for (; el < ln + WINDOW_LINES && end < src + n; el++) {
                const char *nl = memchr(end, '\n', (size_t)(src + n - end));
                end = nl ? nl + 1 : src + n;
            }
            if (!add_chunk(r, &tok, -1, ln, el - 1, line, (size_t)(end - line), cap)) {
                break;
            }
            if (end >= src + n) {
                break;
            }
            /* advance by WINDOW_STEP lines */
            for (uint32_t k = 0; k < WINDOW_STEP && line < src + n; k++) {
                const char *nl = memchr(line, '\n', (size_t)(src + n - line));
                line = nl ? nl + 1 : src + n;
            }
            ln += WINDOW_STEP;
        }
    }
    buf_release(&tok);
}

static result *process(pipe_ctx *pc, x_parser *xp, const item *it)
{
    const ix_pass *p = pc->p;
    result *r = xcalloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    arena_init(&r->a, FILE_ARENA_MAX);
    r->rel = arena_strdup(&r->a, it->rel);
    r->old = it->old;
    r->kind = R_GONE;
    int fd = path_open_walked(p->ws->root_fd, it->rel);
    struct stat sb;
    if (fd < 0 || !r->rel) {
        return r;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return r;
    }
    r->kind = R_REPLACE;
    r->size = (int64_t)sb.st_size;
    r->mtime_ns = ts_ns(&sb.st_mtim);
    r->ctime_ns = ts_ns(&sb.st_ctim);
    r->ino = (int64_t)sb.st_ino;
    if ((size_t)sb.st_size > pc->max_bytes) {
        close(fd);
        r->status = "too_large";
        return r;
    }
    size_t n = (size_t)sb.st_size;
    char *src = xmalloc(n + 1);
    if (!src) {
        close(fd);
        r->status = "too_large";
        return r;
    }
    int64_t t0 = clock_mono_ns();
    n = read_full(fd, src, n);
    close(fd);
    src[n] = '\0';
    crypto_sha256_hex(src, n, r->hash);
    int64_t t1 = clock_mono_ns();
    atomic_fetch_add(&pc->ns_read, t1 - t0);
    if (it->old && !p->full && strcmp(it->old->hash, r->hash) == 0) {
        r->kind = R_SAME;
        xfree(src);
        return r;
    }
    r->lines = count_lines(src, n);
    if (memchr(src, '\0', n < BIN_SNIFF ? n : BIN_SNIFF)) {
        r->status = "binary";
        xfree(src);
        return r;
    }
    lang_id l = lang_detect(it->rel, src, n < 256 ? n : 256);
    if (l == LANG_NONE) {
        r->status = "no_parser";
        r->ctags_lang = ctags_language_of(it->rel);
    } else {
        char why[160];
        r->lang = lang_name(l);
        r->backend = "tree-sitter";
        if (xp && x_extract(xp, l, it->rel, src, n, &r->a, p->stop, &r->xf, why, sizeof why)) {
            r->status = "ok";
        } else {
            memset(&r->xf, 0, sizeof r->xf);
            r->status = "parse_error";
            log_debug("index %s/%s: cannot parse '%s': %s", p->ws->tenant, p->ws->id, it->rel,
                      xp ? why : "no parser");
        }
    }
    int64_t t2 = clock_mono_ns();
    make_chunks(r, src, n);
    int64_t t3 = clock_mono_ns();
    atomic_fetch_add(&pc->ns_parse, t2 - t1);
    atomic_fetch_add(&pc->ns_chunk, t3 - t2);
    if (t2 - t1 > SLOW_FILE_NS) {
        /* the pathological files (error recovery on macro-heavy code): bytes per ms */
        log_debug("index slow file '%s': %zu bytes, %s %" PRId64 " ms (%" PRId64 " B/ms)", it->rel,
                  n, r->status, (t2 - t1) / 1000000, (int64_t)n * 1000000 / (t2 - t1));
    }
    xfree(src);
    return r;
}

/* Parsers outlive passes: x_parser_new compiles every language's query, which costs more than
 * parsing a typical file, so a one-file update reuses the parsers of earlier passes. */
#define PARSER_POOL 64

static struct {
    pthread_mutex_t mu;
    x_parser *p[PARSER_POOL];
    int n;
    bool closed; /* after ix_parsers_release: a late pass frees its parsers itself */
} parsers = {.mu = PTHREAD_MUTEX_INITIALIZER};

static x_parser *parser_take(void)
{
    pthread_mutex_lock(&parsers.mu);
    x_parser *p = parsers.n > 0 ? parsers.p[--parsers.n] : NULL;
    pthread_mutex_unlock(&parsers.mu);
    return p ? p : x_parser_new();
}

static void parser_give(x_parser *p)
{
    if (!p) {
        return;
    }
    pthread_mutex_lock(&parsers.mu);
    if (!parsers.closed && parsers.n < PARSER_POOL) {
        parsers.p[parsers.n++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&parsers.mu);
    x_parser_free(p);
}

void ix_parsers_release(void)
{
    pthread_mutex_lock(&parsers.mu);
    parsers.closed = true;
    while (parsers.n > 0) {
        x_parser_free(parsers.p[--parsers.n]);
    }
    pthread_mutex_unlock(&parsers.mu);
}

void ix_parsers_open(void)
{
    pthread_mutex_lock(&parsers.mu);
    parsers.closed = false;
    pthread_mutex_unlock(&parsers.mu);
}

static void *worker_main(void *arg)
{
    pipe_ctx *pc = arg;
    x_parser *xp = parser_take();
    bool closed = false;
    for (;;) {
        item *it = q_pop(&pc->work, 0, &closed);
        if (!it) {
            break;
        }
        result *r = stopping(pc->p) ? NULL : process(pc, xp, it);
        xfree(it->rel);
        xfree(it);
        int64_t t0 = clock_mono_ns();
        if (r && !q_push_sized(&pc->done, r, r->a.used_total)) {
            arena_release(&r->a);
            xfree(r);
        }
        int64_t dt = clock_mono_ns() - t0;
        if (dt > 1000000) { /* waited on a full done queue: the writer is behind */
            atomic_fetch_add(&pc->ns_full, dt);
            atomic_fetch_add(&pc->n_full, 1);
        }
    }
    parser_give(xp);
    if (atomic_fetch_sub(&pc->live_workers, 1) == 1) {
        q_close(&pc->done); /* the writer ends when it has drained this */
    }
    return NULL;
}

/* ---- the writer ---- */

enum {
    S_UPD_STAT,
    S_UPD_FILE,
    S_INS_FILE,
    S_SEL_TOK,
    S_DEL_FTS,
    S_DEL_CHUNKS,
    S_DEL_SYMS,
    S_SEL_IMPS,
    S_DEL_IMPS,
    S_DEL_CALLS,
    S_DEL_ROUTES,
    S_DEL_FILE,
    S_INS_SYM,
    S_INS_IMP,
    S_INS_CALL,
    S_INS_ROUTE,
    S_INS_CHUNK,
    S_INS_FTS,
    S__COUNT
};

static const char *const sql_text[S__COUNT] = {
    "UPDATE files SET size = ?2, mtime_ns = ?3, ctime_ns = ?4, ino = ?5 WHERE id = ?1",
    "UPDATE files SET size = ?2, mtime_ns = ?3, ctime_ns = ?4, ino = ?5, lang = ?6, backend = ?7,"
    " hash = ?8, lines = ?9, status = ?10, n_symbols = ?11 WHERE id = ?1",
    "INSERT INTO files(path, size, mtime_ns, ctime_ns, ino, lang, backend, hash, lines, status,"
    " n_symbols) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "SELECT id, tok FROM chunks WHERE file_id = ?1",
    "INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', ?1, ?2)",
    "DELETE FROM chunks WHERE file_id = ?1",
    "DELETE FROM symbols WHERE file_id = ?1",
    "SELECT source, resolved_id FROM imports WHERE file_id = ?1",
    "DELETE FROM imports WHERE file_id = ?1",
    "DELETE FROM calls WHERE file_id = ?1",
    "DELETE FROM routes WHERE file_id = ?1",
    "DELETE FROM files WHERE id = ?1",
    "INSERT INTO symbols(file_id, parent_id, name, qname, kind, start_line, end_line, start_byte,"
    " end_byte, signature, params, ret, is_async, exported, backend)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    "INSERT INTO imports(file_id, line, source, resolved_id) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO calls(file_id, caller_id, callee, line) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO routes(file_id, method, path, handler, line, framework)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO chunks(file_id, symbol_id, start_line, end_line, ntok, tok)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO chunks_fts(rowid, text) VALUES (?1, ?2)",
};

typedef struct ctfile {
    char *rel;
    const char *lang; /* ctags' name (static) */
    int64_t fid;
    int64_t n_syms;
    int64_t mtime_ns; /* stored once ctags has run (the row keeps -1 and no hash until then,
                         so a pass stopped before the batch parses the file next time) */
    char hash[SHA256_HEX_LEN + 1];
} ctfile;

typedef struct writer {
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
    int64_t n_symbols, n_imports, n_calls, n_chunks, n_routes, generation;
    int64_t parsed, skipped, same, removed;
    ctfile *ct; /* files for the ctags batch */
    size_t n_ct, cap_ct;
    int64_t *changed; /* ids whose imports need resolving */
    size_t n_changed, cap_changed;
    bool structure; /* a file was added or removed: unresolved imports may resolve now */
    bool failed;
    char err[200];
    /* the quota (ix_pass.quota): the database's size when the pass began, and the size that
       passed the quota (over_quota) */
    int64_t start_bytes, over_bytes;
    bool over_quota;
} writer;

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
    if (t) {
        sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, i);
    }
}

/* step a prepared statement (bindings already made), then reset it */
static bool run(writer *w, int which)
{
    sqlite3_stmt *s = w->st[which];
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (!w->failed) {
            snprintf(w->err, sizeof w->err, "index write failed: %s", sqlite3_errmsg(w->db));
        }
        w->failed = true;
        return false;
    }
    return true;
}

static int64_t del_by_file(writer *w, int which, int64_t fid)
{
    sqlite3_bind_int64(w->st[which], 1, fid);
    return run(w, which) ? sqlite3_changes(w->db) : 0;
}

/* The text index is contentless (FTS5 content=''): a row is removed by handing FTS5 the very
 * tokens it was built from, kept zlib-compressed in chunks.tok (a third of their size). */
static void delete_fts(writer *w, int64_t fid)
{
    sqlite3_stmt *sel = w->st[S_SEL_TOK];
    sqlite3_bind_int64(sel, 1, fid);
    unsigned char *text = NULL;
    size_t cap = 0;
    while (sqlite3_step(sel) == SQLITE_ROW && !w->failed) {
        const unsigned char *z = sqlite3_column_blob(sel, 1);
        int zlen = sqlite3_column_bytes(sel, 1);
        /* grow the buffer until the text fits (bounded: a chunk's tokens are a few MB at most) */
        uLongf n = 0;
        int zr = Z_BUF_ERROR;
        for (size_t want = (size_t)zlen * 4 + 64; zr == Z_BUF_ERROR && want <= ((size_t)64 << 20);
             want *= 4) {
            if (want > cap) {
                unsigned char *nt = xrealloc(text, want);
                if (!nt) {
                    break;
                }
                text = nt;
                cap = want;
            }
            n = (uLongf)cap;
            zr = uncompress(text, &n, z, (uLong)zlen);
        }
        if (zr != Z_OK) {
            w->failed = true;
            snprintf(w->err, sizeof w->err, "index: a chunk's token text is damaged (file %lld)",
                     (long long)fid);
            break;
        }
        sqlite3_stmt *d = w->st[S_DEL_FTS];
        sqlite3_bind_int64(d, 1, sqlite3_column_int64(sel, 0));
        sqlite3_bind_text(d, 2, (const char *)text, (int)n, SQLITE_STATIC);
        run(w, S_DEL_FTS);
    }
    sqlite3_reset(sel);
    sqlite3_clear_bindings(sel);
    xfree(text);
}

static void delete_rows(writer *w, int64_t fid)
{
    delete_fts(w, fid);
    w->n_chunks -= del_by_file(w, S_DEL_CHUNKS, fid);
    w->n_symbols -= del_by_file(w, S_DEL_SYMS, fid);
    w->n_imports -= del_by_file(w, S_DEL_IMPS, fid);
    w->n_calls -= del_by_file(w, S_DEL_CALLS, fid);
    w->n_routes -= del_by_file(w, S_DEL_ROUTES, fid);
}

static void note_changed(writer *w, int64_t id)
{
    if (w->n_changed == w->cap_changed) {
        size_t ncap = w->cap_changed ? w->cap_changed * 2 : 256;
        int64_t *n = xrealloc(w->changed, ncap * sizeof *n);
        if (!n) {
            w->structure = true; /* fall back to resolving every unresolved import */
            return;
        }
        w->changed = n;
        w->cap_changed = ncap;
    }
    w->changed[w->n_changed++] = id;
}

/* A changed file's previous imports (source -> resolved file): an import written the same
 * way resolves the same way unless files came or went (then every unresolved import is looked
 * at again), so only new sources need the resolver, and editing a body never loads it. */
typedef struct old_import {
    char *source;
    int64_t resolved; /* 0: none */
} old_import;

#define OLD_IMPORTS_MAX 4096

static size_t load_old_imports(writer *w, int64_t fid, old_import *out)
{
    sqlite3_stmt *s = w->st[S_SEL_IMPS];
    size_t n = 0;
    sqlite3_bind_int64(s, 1, fid);
    while (n < OLD_IMPORTS_MAX && sqlite3_step(s) == SQLITE_ROW) {
        const char *src = (const char *)sqlite3_column_text(s, 0);
        out[n].source = xstrdup(src ? src : "");
        if (!out[n].source) {
            break;
        }
        out[n].resolved = sqlite3_column_int64(s, 1);
        n++;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return n;
}

static void insert_rows(writer *w, const result *r, int64_t fid, const old_import *old,
                        size_t n_old)
{
    bool new_source = false;
    const x_file *xf = &r->xf;
    int64_t *ids = xf->n_syms ? xcalloc(xf->n_syms, sizeof *ids) : NULL;
    if (xf->n_syms && !ids) {
        w->failed = true;
        snprintf(w->err, sizeof w->err, "out of memory");
        return;
    }
    sqlite3_stmt *s = w->st[S_INS_SYM];
    for (size_t i = 0; i < xf->n_syms && !w->failed; i++) {
        const x_symbol *y = &xf->syms[i];
        sqlite3_bind_int64(s, 1, fid);
        if (y->parent >= 0 && (size_t)y->parent < i) {
            sqlite3_bind_int64(s, 2, ids[y->parent]);
        }
        bind_text_or_null(s, 3, y->name ? y->name : "");
        bind_text_or_null(s, 4, y->qname ? y->qname : (y->name ? y->name : ""));
        bind_text_or_null(s, 5, y->kind ? y->kind : "");
        sqlite3_bind_int64(s, 6, y->start_line);
        sqlite3_bind_int64(s, 7, y->end_line);
        sqlite3_bind_int64(s, 8, y->start_byte);
        sqlite3_bind_int64(s, 9, y->end_byte);
        bind_text_or_null(s, 10, y->signature ? y->signature : "");
        bind_text_or_null(s, 11, y->params);
        bind_text_or_null(s, 12, y->ret);
        sqlite3_bind_int(s, 13, y->is_async);
        sqlite3_bind_int(s, 14, y->exported);
        bind_text_or_null(s, 15, r->backend ? r->backend : "tree-sitter");
        if (run(w, S_INS_SYM)) {
            ids[i] = sqlite3_last_insert_rowid(w->db);
            w->n_symbols++;
        }
    }
    for (size_t i = 0; i < xf->n_imports && !w->failed; i++) {
        s = w->st[S_INS_IMP];
        sqlite3_bind_int64(s, 1, fid);
        const char *src = xf->imports[i].source ? xf->imports[i].source : "";
        sqlite3_bind_int64(s, 2, xf->imports[i].line);
        sqlite3_bind_text(s, 3, src, -1, SQLITE_STATIC);
        size_t k = 0;
        while (k < n_old && strcmp(old[k].source, src) != 0) {
            k++;
        }
        if (k == n_old) {
            new_source = true;
        } else if (old[k].resolved) {
            sqlite3_bind_int64(s, 4, old[k].resolved);
        }
        w->n_imports += run(w, S_INS_IMP);
    }
    for (size_t i = 0; i < xf->n_calls && !w->failed; i++) {
        const x_call *c = &xf->calls[i];
        s = w->st[S_INS_CALL];
        sqlite3_bind_int64(s, 1, fid);
        if (c->caller >= 0 && (size_t)c->caller < xf->n_syms) {
            sqlite3_bind_int64(s, 2, ids[c->caller]);
        }
        bind_text_or_null(s, 3, c->callee ? c->callee : "");
        sqlite3_bind_int64(s, 4, c->line);
        w->n_calls += run(w, S_INS_CALL);
    }
    for (size_t i = 0; i < xf->n_routes && !w->failed; i++) {
        const x_route *rt = &xf->routes[i];
        s = w->st[S_INS_ROUTE];
        sqlite3_bind_int64(s, 1, fid);
        bind_text_or_null(s, 2, rt->method);
        bind_text_or_null(s, 3, rt->path);
        bind_text_or_null(s, 4, rt->handler);
        sqlite3_bind_int64(s, 5, rt->line);
        bind_text_or_null(s, 6, rt->framework);
        w->n_routes += run(w, S_INS_ROUTE);
    }
    for (size_t i = 0; i < r->n_chunks && !w->failed; i++) {
        const rchunk *c = &r->chunks[i];
        s = w->st[S_INS_CHUNK];
        sqlite3_bind_int64(s, 1, fid);
        if (c->sym >= 0 && ids && (size_t)c->sym < xf->n_syms) {
            sqlite3_bind_int64(s, 2, ids[c->sym]);
        }
        sqlite3_bind_int64(s, 3, c->start_line);
        sqlite3_bind_int64(s, 4, c->end_line);
        sqlite3_bind_int64(s, 5, (int64_t)c->ntok);
        sqlite3_bind_blob(s, 6, c->z, (int)c->zlen, SQLITE_STATIC);
        if (!run(w, S_INS_CHUNK)) {
            break;
        }
        int64_t cid = sqlite3_last_insert_rowid(w->db);
        s = w->st[S_INS_FTS];
        sqlite3_bind_int64(s, 1, cid);
        sqlite3_bind_text(s, 2, c->text, -1, SQLITE_STATIC);
        w->n_chunks += run(w, S_INS_FTS);
    }
    xfree(ids);
    if (new_source) {
        note_changed(w, fid);
    }
}

static void note_ctags(writer *w, const result *r, int64_t fid)
{
    if (w->n_ct == w->cap_ct) {
        size_t ncap = w->cap_ct ? w->cap_ct * 2 : 256;
        ctfile *n = xrealloc(w->ct, ncap * sizeof *n);
        if (!n) {
            w->skipped++; /* stays 'no_parser' */
            return;
        }
        w->ct = n;
        w->cap_ct = ncap;
    }
    char *rel = xstrdup(r->rel);
    if (!rel) {
        w->skipped++;
        return;
    }
    ctfile *c = &w->ct[w->n_ct++];
    *c = (ctfile){rel, r->ctags_lang, fid, 0, r->mtime_ns, ""};
    memcpy(c->hash, r->hash, sizeof c->hash);
}

static void bind_stat(sqlite3_stmt *s, const result *r)
{
    sqlite3_bind_int64(s, 2, r->size);
    sqlite3_bind_int64(s, 3, r->mtime_ns);
    sqlite3_bind_int64(s, 4, r->ctime_ns);
    sqlite3_bind_int64(s, 5, r->ino);
}

static void apply(writer *w, const result *r)
{
    if (r->kind == R_SAME) {
        sqlite3_bind_int64(w->st[S_UPD_STAT], 1, r->old->id);
        bind_stat(w->st[S_UPD_STAT], r);
        run(w, S_UPD_STAT);
        w->same++;
        return;
    }
    if (r->kind == R_GONE) {
        if (r->old) {
            delete_rows(w, r->old->id);
            del_by_file(w, S_DEL_FILE, r->old->id);
            w->removed++;
            w->structure = true;
        }
        return;
    }
    int which = r->old ? S_UPD_FILE : S_INS_FILE;
    sqlite3_stmt *s = w->st[which];
    old_import *old = NULL;
    size_t n_old = 0;
    if (r->old && r->xf.n_imports) {
        old = xcalloc(OLD_IMPORTS_MAX, sizeof *old);
        n_old = old ? load_old_imports(w, r->old->id, old) : 0;
    }
    if (r->old) {
        delete_rows(w, r->old->id);
        sqlite3_bind_int64(s, 1, r->old->id);
    } else {
        sqlite3_bind_text(s, 1, r->rel, -1, SQLITE_STATIC);
    }
    bind_stat(s, r);
    bind_text_or_null(s, 6, r->lang);
    bind_text_or_null(s, 7, r->backend);
    sqlite3_bind_text(s, 8, r->ctags_lang ? "" : r->hash, -1, SQLITE_STATIC);
    if (r->ctags_lang) {
        sqlite3_bind_int64(s, 3, -1);
    }
    sqlite3_bind_int64(s, 9, r->lines);
    sqlite3_bind_text(s, 10, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, (int64_t)r->xf.n_syms);
    bool ok = run(w, which);
    int64_t fid = r->old ? r->old->id : sqlite3_last_insert_rowid(w->db);
    if (ok) {
        if (!r->old) {
            w->structure = true;
        }
        insert_rows(w, r, fid, old, n_old);
    }
    for (size_t i = 0; i < n_old; i++) {
        xfree(old[i].source);
    }
    xfree(old);
    if (!ok) {
        return;
    }
    if (r->ctags_lang) {
        note_ctags(w, r, fid);
        return;
    }
    if (strcmp(r->status, "ok") == 0 || strcmp(r->status, "parse_error") == 0) {
        w->parsed++;
    } else {
        w->skipped++;
    }
}

static void save_counters(writer *w)
{
    ix_meta_set_int(w->db, "n_symbols", w->n_symbols);
    ix_meta_set_int(w->db, "n_imports", w->n_imports);
    ix_meta_set_int(w->db, "n_calls", w->n_calls);
    ix_meta_set_int(w->db, "n_chunks", w->n_chunks);
    ix_meta_set_int(w->db, "n_routes", w->n_routes);
    ix_meta_set_int(w->db, "generation", ++w->generation);
}

static bool commit(writer *w)
{
    save_counters(w);
    if (w->failed || !ix_exec(w->db, "COMMIT")) {
        if (!w->failed) {
            snprintf(w->err, sizeof w->err, "index commit failed: %s", sqlite3_errmsg(w->db));
        }
        w->failed = true;
        ix_exec(w->db, "ROLLBACK");
        return false;
    }
    return true;
}

static bool begin(writer *w)
{
    if (!ix_exec(w->db, "BEGIN IMMEDIATE")) {
        snprintf(w->err, sizeof w->err, "cannot start a write: %s", sqlite3_errmsg(w->db));
        w->failed = true;
        return false;
    }
    return true;
}

/* The quota: the open transaction's database size (page_count x page_size counts the pages it
 * added, a cheap pragma) may not grow past what the tenant has left. Growth only: a pass that
 * reuses free pages of an index already over a lowered quota is not stopped. On a stop the
 * writer fails (the pass rolls back) and the pass halts. */
static void quota_check(writer *w, const ix_pass *p)
{
    if (p->quota < 0 || w->failed) {
        return;
    }
    int64_t now = ix_storage_bytes(w->db);
    if (now <= w->start_bytes || p->quota_base + now <= p->quota) {
        return;
    }
    w->over_quota = true;
    w->over_bytes = now;
    w->failed = true;
    snprintf(w->err, sizeof w->err, "stopped: storage quota exceeded (%" PRId64 " of %" PRId64 ")",
             p->quota_base + now, p->quota);
    if (p->halt) {
        atomic_store(p->halt, true);
    }
}

/* ctags' long kind names onto the storage kinds; NULL: not a definition we keep (sections of
 * a document, labels, ...) */
static const char *ctags_kind(const char *k)
{
    static const char *const map[][2] = {
        {"function", "fn"},
        {"subroutine", "fn"},
        {"procedure", "fn"},
        {"func", "fn"},
        {"method", "method"},
        {"singletonMethod", "method"},
        {"class", "class"},
        {"struct", "struct"},
        {"union", "union"},
        {"interface", "interface"},
        {"trait", "trait"},
        {"enum", "enum"},
        {"enumerator", "enumerator"},
        {"typedef", "type"},
        {"type", "type"},
        {"constant", "const"},
        {"const", "const"},
        {"variable", "var"},
        {"var", "var"},
        {"member", "field"},
        {"field", "field"},
        {"property", "field"},
        {"macro", "macro"},
        {"define", "macro"},
        {"module", "module"},
        {"package", "module"},
        {"namespace", "module"},
        {"impl", "impl"},
        {"target", "fn"},
        {"role", "trait"},
    };
    for (size_t i = 0; k && i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(k, map[i][0]) == 0) {
            return map[i][1];
        }
    }
    return NULL;
}

typedef struct ctrun {
    writer *w;
    const ix_pass *p;
    ctfile *cur;
} ctrun;

static int cmp_ct(const void *a, const void *b)
{
    return strcmp(((const ctfile *)a)->rel, ((const ctfile *)b)->rel);
}

static bool on_tag(void *vctx, const ctags_tag *t)
{
    ctrun *c = vctx;
    writer *w = c->w;
    if (!c->cur || strcmp(c->cur->rel, t->relpath) != 0) {
        ctfile key = {.rel = (char *)t->relpath};
        c->cur = bsearch(&key, w->ct, w->n_ct, sizeof *w->ct, cmp_ct);
    }
    const char *kind = ctags_kind(t->kind);
    if (!c->cur || !kind || !t->name || !t->name[0]) {
        return !w->failed;
    }
    char qn[CTAGS_FIELD_MAX * 2 + 2], sig[CTAGS_FIELD_MAX * 2 + 2];
    snprintf(qn, sizeof qn, "%s%s%s", t->scope ? t->scope : "", t->scope ? "." : "", t->name);
    snprintf(sig, sizeof sig, "%s%s", t->name, t->signature ? t->signature : "");
    sqlite3_stmt *s = w->st[S_INS_SYM];
    sqlite3_bind_int64(s, 1, c->cur->fid);
    sqlite3_bind_text(s, 3, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, qn, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, t->line);
    sqlite3_bind_int64(s, 7, t->end_line >= t->line ? t->end_line : t->line);
    sqlite3_bind_int64(s, 8, 0);
    sqlite3_bind_int64(s, 9, 0);
    sqlite3_bind_text(s, 10, sig, -1, SQLITE_STATIC);
    bind_text_or_null(s, 11, t->signature);
    sqlite3_bind_int(s, 13, 0);
    sqlite3_bind_int(s, 14, 1);
    sqlite3_bind_text(s, 15, "ctags", -1, SQLITE_STATIC);
    if (run(w, S_INS_SYM)) {
        c->cur->n_syms++;
        w->n_symbols++;
    }
    return !w->failed;
}

/* one ctags process for every file of the pass that has no grammar but a ctags parser; each
 * file's row is completed (status, backend, symbols) in the same transaction */
/* forget the files of a ctags batch that has run */
static void ct_clear(writer *w)
{
    for (size_t i = 0; i < w->n_ct; i++) {
        xfree(w->ct[i].rel);
    }
    w->n_ct = 0;
}

static void run_ctags(writer *w, const ix_pass *p)
{
    if (w->n_ct == 0 || w->failed) {
        return;
    }
    qsort(w->ct, w->n_ct, sizeof *w->ct, cmp_ct);
    const char **rels = xcalloc(w->n_ct, sizeof *rels);
    sqlite3_stmt *up = NULL;
    if (!rels || sqlite3_prepare_v2(w->db,
                                    "UPDATE files SET status = ?2, backend = ?3, lang = ?4,"
                                    " n_symbols = ?5, mtime_ns = ?6, hash = ?7 WHERE id = ?1",
                                    -1, &up, NULL) != SQLITE_OK) {
        xfree(rels);
        w->skipped += (int64_t)w->n_ct;
        return;
    }
    for (size_t i = 0; i < w->n_ct; i++) {
        rels[i] = w->ct[i].rel;
    }
    ctrun c = {w, p, NULL};
    ctags_stats cs = {0};
    err e = ctags_run(p->ws->root_fd, rels, w->n_ct, on_tag, &c, p->stop, &cs);
    for (size_t i = 0; i < w->n_ct && !w->failed; i++) {
        ctfile *f = &w->ct[i];
        if (e != ERR_OK) {
            /* a failed batch leaves the files without symbols, to be tried again */
            w->n_symbols -= del_by_file(w, S_DEL_SYMS, f->fid);
            w->skipped++;
            continue;
        }
        sqlite3_bind_int64(up, 1, f->fid);
        sqlite3_bind_text(up, 2, "ok", -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 3, "ctags", -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 4, f->lang, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 5, f->n_syms);
        sqlite3_bind_int64(up, 6, f->mtime_ns);
        sqlite3_bind_text(up, 7, f->hash, -1, SQLITE_STATIC);
        if (sqlite3_step(up) != SQLITE_DONE) {
            w->failed = true;
            snprintf(w->err, sizeof w->err, "index write failed: %s", sqlite3_errmsg(w->db));
        }
        sqlite3_reset(up);
        w->parsed++;
    }
    if (e != ERR_OK) {
        log_warn("index %s/%s: ctags failed on %zu files; they stay without symbols", p->ws->tenant,
                 p->ws->id, w->n_ct);
    }
    sqlite3_finalize(up);
    xfree(rels);
}

typedef struct pending {
    int64_t rowid, id;
} pending;

/* resolve imports: those of changed files, or every unresolved one when files came or went */
static void resolve_imports(writer *w)
{
    if (!w->structure && w->n_changed == 0) {
        return;
    }
    static const char base[] = "SELECT i.rowid, f.path, f.lang, i.source FROM imports i"
                               " JOIN files f ON f.id = i.file_id WHERE i.resolved_id IS NULL";
    char q[256];
    snprintf(q, sizeof q, "%s%s", base, w->structure ? "" : " AND i.file_id = ?");
    sqlite3_stmt *st = NULL, *up = NULL;
    ix_resolver *r = ix_resolver_load(w->db);
    pending *pend = NULL;
    size_t np = 0, cap = 0;
    if (!r || sqlite3_prepare_v2(w->db, q, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "UPDATE imports SET resolved_id = ? WHERE rowid = ?", -1, &up,
                           NULL) != SQLITE_OK) {
        goto out;
    }
    for (size_t k = 0; k < (w->structure ? 1 : w->n_changed); k++) {
        if (!w->structure) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, w->changed[k]);
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = ix_resolve(r, (const char *)sqlite3_column_text(st, 1),
                                    (const char *)sqlite3_column_text(st, 2),
                                    (const char *)sqlite3_column_text(st, 3));
            if (!id) {
                continue;
            }
            if (np == cap) {
                size_t ncap = cap ? cap * 2 : 1024;
                pending *n = xrealloc(pend, ncap * sizeof *n);
                if (!n) {
                    goto apply;
                }
                pend = n;
                cap = ncap;
            }
            pend[np++] = (pending){sqlite3_column_int64(st, 0), id};
        }
    }
apply:
    for (size_t i = 0; i < np; i++) {
        sqlite3_bind_int64(up, 1, pend[i].id);
        sqlite3_bind_int64(up, 2, pend[i].rowid);
        sqlite3_step(up);
        sqlite3_reset(up);
    }
out:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    xfree(pend);
    ix_resolver_free(r);
}

static bool in_scope(const ix_pass *p, const char *path)
{
    size_t n = strlen(p->subpath);
    return n == 0 || (strncmp(path, p->subpath, n) == 0 && path[n] == '/');
}

static void result_free(result *r)
{
    arena_release(&r->a);
    xfree(r);
}

static int64_t pragma_int(sqlite3 *db, const char *name, int64_t dflt)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA %s", name);
    sqlite3_stmt *st = NULL;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static void pragma_set(sqlite3 *db, const char *name, int64_t v)
{
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA %s = %" PRId64, name, v);
    ix_exec(db, sql);
}

bool ix_run_pass(const ix_pass *pass, sqlite3 *db, ix_summary *sum, char *why, size_t why_len)
{
    int64_t t0 = clock_mono_ms();
    /* the pass as given, plus its own halt flag (the writer stops it on the quota) */
    atomic_bool halt;
    atomic_init(&halt, false);
    ix_pass local = *pass;
    local.halt = &halt;
    const ix_pass *p = &local;
    memset(sum, 0, sizeof *sum);
    why[0] = '\0';
    pipe_ctx pc;
    memset(&pc, 0, sizeof pc);
    pc.p = p;
    pc.max_bytes = p->c->max_index_bytes;
    fmap map = {0};
    pc.map = &map;
    writer w;
    memset(&w, 0, sizeof w);
    w.db = db;
    bool ok = false;
    int nthreads = p->threads < 1 ? 1 : p->threads > 64 ? 64 : p->threads;
    pthread_t workers[64], producer;
    int started = 0;
    bool producer_started = false;

    if (!fmap_load(&map, db, p)) {
        snprintf(why, why_len, "cannot read the index: %s", sqlite3_errmsg(db));
        fmap_free(&map);
        return false;
    }
    pc.prev_files = p->paths ? 0 : (int64_t)map.n;
    /* the first build of an empty index: every row it inserts belongs to a files row it
       inserted itself, so the foreign-key checks (a parent lookup per symbol, call, import and
       chunk row) cannot fail and are off (set before the statements are prepared; restored
       below); and the secondary indexes of the big tables are created once at its end */
    bool first_build = !p->paths && map.n == 0 && ix_meta_int(db, "generation", 0) == 0;
    if (first_build) {
        ix_exec(db, "PRAGMA foreign_keys = OFF");
    }
    for (int i = 0; i < S__COUNT; i++) {
        if (sqlite3_prepare_v3(db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &w.st[i], NULL) !=
            SQLITE_OK) {
            snprintf(why, why_len, "cannot prepare the index writer: %s", sqlite3_errmsg(db));
            goto out_stmts;
        }
    }
    w.n_symbols = ix_meta_int(db, "n_symbols", 0);
    w.n_imports = ix_meta_int(db, "n_imports", 0);
    w.n_calls = ix_meta_int(db, "n_calls", 0);
    w.n_chunks = ix_meta_int(db, "n_chunks", 0);
    w.n_routes = ix_meta_int(db, "n_routes", 0);
    w.generation = ix_meta_int(db, "generation", 0);
    w.start_bytes = ix_storage_bytes(db);
    if (!q_init(&pc.work, WORK_QUEUE)) {
        goto out_stmts;
    }
    if (!q_init(&pc.done, DONE_QUEUE)) {
        q_destroy(&pc.work);
        goto out_stmts;
    }
    pc.done.max_bytes = DONE_BYTES;
    if (p->prog) {
        atomic_store(&p->prog->done, 0);
        atomic_store(&p->prog->total, pc.prev_files);
    }
    /* a walking pass may write the whole index: a larger cache spills and re-reads fewer pages,
       and fewer, larger checkpoints copy a page rewritten by many commits once per checkpoint
       instead of every 4 MB of WAL (an asic_reg-sized tree: -20% wall). Both are restored at
       the end; a pass over a few named paths needs neither. */
    bool tuned = !p->paths;
    int64_t saved_cache = tuned ? pragma_int(db, "cache_size", -16000) : 0;
    int64_t saved_ckpt = tuned ? pragma_int(db, "wal_autocheckpoint", 1000) : 0;
    if (tuned) {
        pragma_set(db, "cache_size", -(int64_t)PASS_CACHE_KB);
        pragma_set(db, "wal_autocheckpoint", PASS_CKPT_PAGES);
    }
    if (!begin(&w)) {
        goto out_queues;
    }
    /* (inside the first transaction: a pass that stops before its first commit keeps them) */
    if (first_build && !ix_indexes_drop(db)) {
        snprintf(why, why_len, "cannot prepare the index: %s", sqlite3_errmsg(db));
        ix_exec(db, "ROLLBACK");
        goto out_queues;
    }
    if (pthread_create(&producer, NULL, producer_main, &pc) != 0) {
        snprintf(why, why_len, "cannot start the index producer");
        ix_exec(db, "ROLLBACK");
        goto out_queues;
    }
    producer_started = true;
    atomic_store(&pc.live_workers, nthreads);
    for (; started < nthreads; started++) {
        if (pthread_create(&workers[started], NULL, worker_main, &pc) != 0) {
            break;
        }
    }
    if (started > 0 && started < nthreads &&
        atomic_fetch_sub(&pc.live_workers, nthreads - started) == nthreads - started) {
        q_close(&pc.done); /* the workers that did start are already gone */
    }
    if (started == 0) {
        /* no worker: drain the work queue here so the producer can finish */
        bool closed = false;
        item *it;
        while ((it = q_pop(&pc.work, 0, &closed)) != NULL) {
            xfree(it->rel);
            xfree(it);
        }
        snprintf(why, why_len, "cannot start index workers");
        pthread_join(producer, NULL);
        ix_exec(db, "ROLLBACK");
        goto out_queues;
    }

    /* the writer: until every worker has finished and the done queue is empty */
    /* A full rebuild of an existing index is one transaction: readers keep the old generation
       until the new one is complete. So is any pass of a tenant with a storage quota, so that a
       pass stopped by it leaves nothing half-written (DESIGN §11.5). Other passes commit in
       batches, so a first build shows results early (with the building note) and an
       incremental one holds no long lock. */
    bool one_txn = (p->full && w.generation > 0) || p->quota >= 0;
    int64_t batch_start = clock_mono_ms(), batch_files = 0;
    /* a walking pass commits less often: each commit flushes FTS5's pending terms as a new
       segment (more segments, more merging) and writes the pages it touched to the WAL again */
    int64_t batch_max = tuned ? PASS_BATCH_FILES : IX_BATCH_FILES;
    int64_t batch_ms = tuned ? PASS_BATCH_MS : IX_BATCH_MS;
    int64_t ns_apply = 0, ns_commit = 0, ns_idle = 0, ns_ctags = 0, tw = clock_mono_ns();
    for (;;) {
        bool closed = false;
        int64_t ta = clock_mono_ns();
        result *r = q_pop(&pc.done, 50, &closed);
        int64_t tb = clock_mono_ns();
        ns_idle += tb - ta;
        if (r) {
            if (!w.failed) {
                apply(&w, r);
                quota_check(&w, p);
            }
            ns_apply += clock_mono_ns() - tb;
            if (p->prog) {
                /* progress names where the stored files are, not where the walker is */
                const char *slash = strrchr(r->rel, '/');
                pthread_mutex_lock(&p->prog->mu);
                snprintf(p->prog->dir, sizeof p->prog->dir, "%.*s",
                         slash ? (int)(slash - r->rel) : 1, slash ? r->rel : ".");
                pthread_mutex_unlock(&p->prog->mu);
            }
            result_free(r);
            batch_files++;
            if (w.n_ct >= CTAGS_BATCH && !w.failed) {
                /* ctags (another process) runs while the workers go on parsing, rather than
                   alone at the end (the kernel: 8 s of wall) */
                int64_t tc = clock_mono_ns();
                run_ctags(&w, p);
                ct_clear(&w);
                quota_check(&w, p);
                ns_ctags += clock_mono_ns() - tc;
            }
            if (p->prog) {
                atomic_fetch_add(&p->prog->done, 1);
            }
        }
        int64_t now = clock_mono_ms();
        if (batch_files > 0 && !w.failed && !one_txn &&
            (batch_files >= batch_max || now - batch_start >= batch_ms)) {
            int64_t tc = clock_mono_ns();
            if (commit(&w)) {
                begin(&w);
            }
            ns_commit += clock_mono_ns() - tc;
            batch_files = 0;
            batch_start = now;
        }
        if (!r && closed) {
            break; /* the last worker closed the queue: every result is in */
        }
    }
    q_close(&pc.done);
    for (int i = 0; i < started; i++) {
        pthread_join(workers[i], NULL);
    }
    pthread_join(producer, NULL);
    producer_started = false;
    {
        /* results that arrived after a stop */
        bool closed = false;
        result *r;
        while ((r = q_pop(&pc.done, 0, &closed)) != NULL) {
            result_free(r);
        }
    }
    int64_t ns_parsing = clock_mono_ns() - tw, ns_end = clock_mono_ns();
    bool complete = atomic_load(&pc.walk_complete) && !stopping(p);
    if (complete && !w.failed && first_build) {
        /* (a stopped first build leaves them to the next ix_db_open_rw.) The parsers are done:
           SQLite's sorter may use the other cores. */
        pragma_set(db, "threads", nthreads);
        if (!ix_indexes_create(db)) {
            snprintf(w.err, sizeof w.err, "cannot index the tables: %s", sqlite3_errmsg(db));
            w.failed = true;
        }
        pragma_set(db, "threads", 0);
    }
    if (complete && !w.failed) {
        /* files gone since the last pass (within the scope that was walked) */
        for (size_t i = 0; i < map.n && !w.failed; i++) {
            fent *f = &map.e[i];
            if (!f->seen && (p->paths || in_scope(p, f->path))) {
                delete_rows(&w, f->id);
                del_by_file(&w, S_DEL_FILE, f->id);
                w.removed++;
                w.structure = true;
            }
        }
        run_ctags(&w, p);
        resolve_imports(&w);
    }
    quota_check(&w, p); /* the last word before the commit */
    if (!w.failed) {
        int64_t ms = clock_mono_ms() - t0;
        if (complete) {
            ix_meta_set_int(db, "built_at", clock_wall_ms() / 1000);
            ix_meta_set_int(db, "build_ms", ms);
            ix_meta_set_int(db, "last_parsed", w.parsed);
            ix_meta_set_int(db, "last_unchanged", atomic_load(&pc.unchanged) + w.same);
            ix_meta_set_int(db, "last_skipped", w.skipped);
            ix_meta_set_text(db, "tenant", p->ws->tenant);
            ix_meta_set_text(db, "workspace", p->ws->id);
            ix_meta_set_text(db, "root", p->ws->root_real);
            if (p->commit) {
                ix_meta_set_text(db, "commit", p->commit);
            }
        }
        ok = commit(&w) && complete;
    } else {
        ix_exec(db, "ROLLBACK");
    }
    {
        const double ms = 1e-6;
        log_debug("index %s/%s stages (ms): workers (sum of %d) read+hash %.0f, parse+extract "
                  "%.0f, chunks %.0f, blocked on the writer %.0f (%lld times); writer: %.0f "
                  "while parsing (apply %.0f, commits %.0f, ctags %.0f, idle %.0f), after "
                  "(indexes, removals, ctags, imports, commit) %.0f",
                  p->ws->tenant, p->ws->id, started, (double)atomic_load(&pc.ns_read) * ms,
                  (double)atomic_load(&pc.ns_parse) * ms, (double)atomic_load(&pc.ns_chunk) * ms,
                  (double)atomic_load(&pc.ns_full) * ms, (long long)atomic_load(&pc.n_full),
                  (double)ns_parsing * ms, (double)ns_apply * ms, (double)ns_commit * ms,
                  (double)ns_ctags * ms, (double)ns_idle * ms,
                  (double)(clock_mono_ns() - ns_end) * ms);
    }
    if (w.failed) {
        snprintf(why, why_len, "%s", w.err);
    } else if (!complete) {
        snprintf(why, why_len, "%s",
                 stopping(p) ? "stopped: the server is shutting down"
                             : "stopped: the walk did not complete");
    }
    sum->parsed = w.parsed;
    sum->skipped = w.skipped;
    sum->unchanged = atomic_load(&pc.unchanged) + w.same;
    sum->removed = w.removed;
    sum->symbols = w.n_symbols;
    sum->edges = w.n_imports + w.n_calls;
    sum->chunks = w.n_chunks;
    {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM files", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            sum->files = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sum->seconds = (double)(clock_mono_ms() - t0) / 1000.0;
    sum->stopped = !complete || w.over_quota;
    if (!sum->stopped) {
        metrics_index_build(sum->seconds); /* METRICS (issue 6) */
    }
    snprintf(sum->why, sizeof sum->why, "%s", why);
    if (w.over_quota) {
        /* rolled back: the tenant uses what it used before; the pass had grown this much */
        sum->over_quota = true;
        sum->quota_used = p->quota_base + w.start_bytes;
        sum->quota_bytes = p->quota;
        sum->quota_requested = w.over_bytes - w.start_bytes;
    }

out_queues:
    if (tuned) {
        /* the pass pays for copying its WAL (up to PASS_CKPT_PAGES) into the database, not the
           next one-file update that would cross the normal checkpoint threshold */
        ix_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
        pragma_set(db, "cache_size", saved_cache);
        pragma_set(db, "wal_autocheckpoint", saved_ckpt);
    }
    if (producer_started) {
        pthread_join(producer, NULL);
    }
    q_destroy(&pc.work);
    q_destroy(&pc.done);
out_stmts:
    for (int i = 0; i < S__COUNT; i++) {
        sqlite3_finalize(w.st[i]);
    }
    if (first_build) {
        ix_exec(db, "PRAGMA foreign_keys = ON");
    }
    xfree(w.changed);
    for (size_t i = 0; i < w.n_ct; i++) {
        xfree(w.ct[i].rel);
    }
    xfree(w.ct);
    fmap_free(&map);
    return ok;
}

void ix_group_digits(int64_t v, char *out, size_t cap)
{
    char raw[32];
    int n = snprintf(raw, sizeof raw, "%" PRId64, v < 0 ? -v : v);
    size_t o = 0;
    if (v < 0 && o + 1 < cap) {
        out[o++] = '-';
    }
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = raw[i];
    }
    out[o] = '\0';
}

void index_summary_text(const ix_summary *s, buf *out)
{
    buf_printf(out,
               "index built: %" PRId64 " files (%" PRId64 " parsed, %" PRId64 " unchanged, %" PRId64
               " skipped), %" PRId64 " symbols, %" PRId64 " edges, %" PRId64 " chunks in %.1f s",
               s->files, s->parsed, s->unchanged, s->skipped, s->symbols, s->edges, s->chunks,
               s->seconds);
}

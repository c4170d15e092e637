/* view.c - read views of an index for tool calls, and the index status.
 *
 * Each thread keeps up to VIEW_CACHE read connections (query_only), keyed by database path and
 * checked against the file's device and inode on every open, so a database that was removed
 * and created again is reopened rather than read through a stale descriptor. A view is a read
 * transaction: BEGIN, then a read of meta fixes the WAL snapshot, so a tool sees one committed
 * state (whole files: the writer commits files whole) however long it runs. The connections
 * are closed when their thread exits (a pthread key destructor) or by index_shutdown for the
 * thread that calls it. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "index/build.h"
#include "index/index.h"
#include "index/store.h"
#include "index/watch.h"

#define VIEW_CACHE 4

typedef struct cached {
    char path[4200];
    sqlite3 *db;
    dev_t dev;
    ino_t ino;
    int64_t used;
} cached;

typedef struct tcache {
    cached e[VIEW_CACHE];
    int64_t tick;
} tcache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    tcache *t = p;
    for (int i = 0; i < VIEW_CACHE; i++) {
        if (t->e[i].db) {
            sqlite3_close(t->e[i].db);
        }
    }
    xfree(t);
}

static void make_key(void)
{
    pthread_key_create(&cache_key, cache_free);
}

void ix_view_release_thread(void)
{
    pthread_once(&cache_once, make_key);
    tcache *t = pthread_getspecific(cache_key);
    if (t) {
        pthread_setspecific(cache_key, NULL);
        cache_free(t);
    }
}

/* a cached (or new) connection to path; NULL when there is no usable database */
static sqlite3 *conn(const char *path, char *why, size_t why_len)
{
    why[0] = '\0';
    pthread_once(&cache_once, make_key);
    tcache *t = pthread_getspecific(cache_key);
    if (!t) {
        t = xcalloc(1, sizeof *t);
        if (!t || pthread_setspecific(cache_key, t) != 0) {
            xfree(t);
            return NULL;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return NULL;
    }
    cached *slot = &t->e[0];
    for (int i = 0; i < VIEW_CACHE; i++) {
        cached *e = &t->e[i];
        if (e->db && strcmp(e->path, path) == 0) {
            if (e->dev == sb.st_dev && e->ino == sb.st_ino) {
                e->used = ++t->tick;
                return e->db;
            }
            slot = e; /* the same path, another file: reopen in place */
            break;
        }
        if (!e->db || e->used < slot->used) {
            slot = e;
        }
    }
    if (slot->db) {
        sqlite3_close(slot->db);
        slot->db = NULL;
    }
    sqlite3 *db = ix_db_open_ro(path, why, why_len);
    if (!db) {
        return NULL;
    }
    snprintf(slot->path, sizeof slot->path, "%s", path);
    slot->db = db;
    slot->dev = sb.st_dev;
    slot->ino = sb.st_ino;
    slot->used = ++t->tick;
    return db;
}

bool index_view_open(const config *c, const cfg_workspace *ws, ix_view *v)
{
    memset(v, 0, sizeof *v);
    v->ws = ws;
    ix_building_note(ws, v->note, sizeof v->note);
    char path[4200], why[200];
    if (!ix_db_path(c, ws, path, sizeof path)) {
        return false;
    }
    sqlite3 *db = conn(path, why, sizeof why);
    if (!db) {
        if (why[0] && !v->note[0]) {
            snprintf(v->note, sizeof v->note, "[index: unavailable: %.120s]", why);
        }
        return false;
    }
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        return false;
    }
    v->generation = ix_meta_int(db, "generation", 0); /* the first read fixes the snapshot */
    if (v->generation <= 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return false;
    }
    v->db = db;
    return true;
}

void index_view_close(ix_view *v)
{
    if (v->db) {
        sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
        v->db = NULL;
    }
}

/* "k1 n1, k2 n2" from a two-column query (text, count) */
static void group_list(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    size_t o = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        int n = snprintf(out + o, cap - o, "%s%s %" PRId64, o ? ", " : "", k ? k : "?",
                         (int64_t)sqlite3_column_int64(st, 1));
        if (n < 0 || (size_t)n >= cap - o) {
            /* cut at the last whole entry */
            out[o] = '\0';
            break;
        }
        o += (size_t)n;
    }
    sqlite3_finalize(st);
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t r = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        r = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return r;
}

void index_status(const config *c, const cfg_workspace *ws, ix_status *st)
{
    memset(st, 0, sizeof *st);
    st->state = IX_ABSENT;
    /* the tenant's quota, and the last build of this process it stopped (tools.md §3.5) */
    ix_quota_usage(c, ws->tenant, &st->quota_bytes, &st->tenant_bytes);
    ix_last_stop(ws, st->last_stop, sizeof st->last_stop);
    if (ix_job_progress(ws, st->job, &st->done, &st->total)) {
        st->state = IX_BUILDING;
    }
    char path[4200], why[200];
    if (!ix_db_path(c, ws, path, sizeof path)) {
        return;
    }
    sqlite3 *db = conn(path, why, sizeof why);
    /* this thread may hold a view on the same connection: read inside its snapshot then */
    bool own = db && sqlite3_get_autocommit(db);
    if (!db || (own && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)) {
        return;
    }
    int64_t gen = ix_meta_int(db, "generation", 0);
    st->built_at = ix_meta_int(db, "built_at", 0);
    st->build_ms = ix_meta_int(db, "build_ms", 0);
    st->symbols = ix_meta_int(db, "n_symbols", 0);
    st->imports = ix_meta_int(db, "n_imports", 0);
    st->calls = ix_meta_int(db, "n_calls", 0);
    st->chunks = ix_meta_int(db, "n_chunks", 0);
    st->routes = ix_meta_int(db, "n_routes", 0);
    st->unchanged = ix_meta_int(db, "last_unchanged", 0);
    ix_meta_text(db, "commit", st->commit, sizeof st->commit);
    st->files = scalar(db, "SELECT count(*) FROM files");
    st->parsed = scalar(db, "SELECT count(*) FROM files WHERE status IN ('ok', 'parse_error')");
    st->skipped = st->files - st->parsed;
    group_list(db,
               "SELECT status, count(*) FROM files WHERE status NOT IN ('ok', 'parse_error')"
               " GROUP BY status ORDER BY 2 DESC, 1",
               st->skipped_reasons, sizeof st->skipped_reasons);
    group_list(db,
               "SELECT lang, count(*) FROM files WHERE lang IS NOT NULL GROUP BY lang"
               " ORDER BY 2 DESC, 1",
               st->languages, sizeof st->languages);
    st->storage_bytes = ix_storage_bytes(db);
    if (own) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (st->state != IX_BUILDING && gen > 0) {
        st->state = IX_READY;
    }
    /* HEAD and the paths the watcher saw change (index/watch.c): a ready index whose commit is
       not HEAD any more, or with changes not yet re-indexed, is stale */
    watch_fill_status(ws, st);
    if (st->state == IX_READY &&
        (st->pending > 0 || (st->commit[0] && st->head[0] && strcmp(st->commit, st->head) != 0))) {
        st->state = IX_STALE;
    }
}

void index_status_text(const ix_status *st, buf *out)
{
    char a[32], b[32];
    bool stale =
        st->pending > 0 || (st->commit[0] && st->head[0] && strcmp(st->commit, st->head) != 0);
    switch (st->state) {
    case IX_BUILDING:
        ix_group_digits(st->done, a, sizeof a);
        ix_group_digits(st->total, b, sizeof b);
        buf_printf(out, "index: building %d%% (%s/%s files)",
                   st->total > 0
                       ? (int)(st->done * 100 / st->total > 99 ? 99 : st->done * 100 / st->total)
                       : 0,
                   a, b);
        break;
    case IX_ABSENT:
        buf_puts(out, "index: absent");
        if (st->quota_bytes >= 0) {
            buf_printf(out, "\ntenant storage %" PRId64 " of quota %" PRId64, st->tenant_bytes,
                       st->quota_bytes);
        }
        if (st->last_stop[0]) {
            buf_printf(out, "\nlast build %s", st->last_stop);
        }
        return;
    default:
        if (st->state == IX_STALE || stale) {
            if (st->pending > 0) {
                buf_printf(out, "index: stale (%" PRId64 " files changed)", st->pending);
            } else {
                buf_printf(out, "index: stale (indexed %.12s, HEAD %.12s)", st->commit, st->head);
            }
        } else {
            buf_puts(out, "index: ready");
        }
        break;
    }
    if (st->files == 0 && st->built_at == 0) {
        return;
    }
    buf_printf(out,
               "\nfiles %" PRId64 " (%" PRId64 " parsed, %" PRId64 " skipped%s%s), symbols %" PRId64
               ", import edges %" PRId64 ", call edges %" PRId64 ", chunks %" PRId64,
               st->files, st->parsed, st->skipped, st->skipped_reasons[0] ? ": " : "",
               st->skipped_reasons, st->symbols, st->imports, st->calls, st->chunks);
    if (st->languages[0]) {
        buf_printf(out, "; languages: %s", st->languages);
    }
    if (st->built_at > 0) {
        char age[16];
        int64_t ago = clock_wall_ms() / 1000 - st->built_at;
        clock_short_duration(ago < 0 ? 0 : ago, age);
        buf_printf(out, "; built %s ago in %.1f s", age, (double)st->build_ms / 1000.0);
    }
    buf_printf(out, "; storage %" PRId64 " bytes", st->storage_bytes);
    if (st->quota_bytes >= 0) {
        buf_printf(out, "; tenant storage %" PRId64 " of quota %" PRId64, st->tenant_bytes,
                   st->quota_bytes);
    }
    if (st->last_stop[0]) {
        buf_printf(out, "\nlast build %s", st->last_stop);
    }
}

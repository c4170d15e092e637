/* store_sqlite.c - the store (store.h) on SQLite: <dataDir>/ctxd.db.
 *
 * Connections: one for calls (guarded by a mutex: each call is a few indexed statements, and the
 * mutex keeps a statement from being stepped by two threads), and one for the background writer
 * that commits last_used_at batches, opened when the first key is touched, so that a writer
 * waiting on the database lock never holds up a request. WAL lets the server read while the CLI
 * writes; busy_timeout absorbs short write overlaps between processes.
 *
 * Migrations are the files src/store/migrations/NNNN_name.sql, embedded at build time in name
 * order (scripts/embed_queries.py); file i (1-based) takes the schema from version i - 1 to i,
 * in one transaction that also sets PRAGMA user_version. The version is read again inside the
 * transaction, so two processes opening a fresh database at once do not both migrate it. A
 * database whose user_version is newer than the binary's is refused before anything (even the
 * journal mode) is written.
 *
 * Touches (last_used_at) go to an open-addressing table keyed by key_prefix: a key is queued
 * when it was not written in the last STORE_TOUCH_EVERY_MS, and the writer commits the queued
 * ones every STORE_FLUSH_MS. The table is bounded (TOUCH_SLOTS); entries with nothing queued are
 * dropped when it fills, and a touch that still finds no room is dropped (last_used_at is a
 * hint, never an authorization input), with one warning. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

typedef struct store_migration_text {
    const char *name;
    const char *text;
} store_migration_text;
extern const store_migration_text store_migration_texts[]; /* generated: store_migrations.c */

#define TOUCH_SLOTS 8192 /* a power of two */

/* ---- request log (issue 5, LOG): the queue's rows, in blocks allocated as it grows (so an idle
 * server holds none); a flush takes the whole chain at once ---- */
#define LOG_BLOCK_ROWS 1024
#define LOG_SPARE_BLOCKS 4       /* emptied blocks kept for reuse */
#define LOG_WARN_EVERY_MS 60000  /* at most one "rows dropped" warning a minute */
#define PRUNE_EVERY_MS 60000     /* a new pruning pass this long after the last one ended */
#define PRUNE_BATCHES_PER_TICK 8 /* each its own short transaction: up to 4,000 rows/s */
#define PRUNE_TICK_BUDGET_MS 200 /* and no more of the writer's tick than this */
#define LOG_WRITER_NICE 10       /* the writer thread's nice value (log_writer_nice) */
#define LOG_YIELD_ROWS 32        /* the writer yields the CPU this often inside a batch */
#define LOG_GONE_MAX 32          /* tenants deleted lately whose late rows are never written */

typedef struct log_item {
    int64_t ts_ms, duration_ms;
    int status;
    char tenant[STORE_LOG_TEXT_MAX + 1];
    char token[STORE_LOG_TEXT_MAX + 1]; /* "" = NULL */
    char tool[STORE_LOG_TEXT_MAX + 1];  /* "" = NULL */
    char error[STORE_LOG_TEXT_MAX + 1]; /* "" = NULL */
} log_item;

typedef struct log_block {
    struct log_block *next;
    size_t first, count; /* rows[first..count) are pending */
    log_item rows[LOG_BLOCK_ROWS];
} log_block;

/* where a pruning pass is: tenants are visited in id order, each one's old rows deleted in
 * batches through the (tenant_id, ts) index */
typedef struct prune_cursor {
    bool active;
    int64_t now_ms;
    int default_days;
    char *tenant; /* the tenant being pruned or last pruned (xmalloc'd); NULL before the first */
    bool in_tenant;
    int64_t cutoff; /* rows of tenant with ts < cutoff go */
    int64_t deleted;
} prune_cursor;

typedef struct touch {
    char prefix[APIKEY_PREFIX_MAX + 1]; /* "" = empty slot */
    char tenant[APIKEY_TENANT_MAX + 1];
    int64_t queued_ms;  /* a use to write, 0 = none */
    int64_t written_ms; /* when the last write was queued */
} touch;

struct store {
    char path[4200];
    pthread_mutex_t mu; /* db and its statements */
    sqlite3 *db;
    sqlite3_stmt *find_key; /* the request path's one statement, prepared once */

    pthread_mutex_t touch_mu; /* touches, n_touches, writer state */
    pthread_cond_t touch_cv;
    touch *touches;
    size_t n_touches;
    bool touch_full_warned;
    bool writer_started, writer_stop;
    pthread_t writer;
    pthread_mutex_t wmu; /* wdb: the writer thread and store_flush may both write */
    sqlite3 *wdb;        /* the writer's connection */

    /* request log (issue 5, LOG) */
    pthread_mutex_t log_mu; /* the queue: log_head..log_tail, log_pending, spares, warnings */
    log_block *log_head, *log_tail;
    log_block *log_spare[LOG_SPARE_BLOCKS];
    size_t log_pending;
    atomic_uint_fast64_t log_dropped;
    uint64_t log_dropped_warned;
    int64_t log_warned_ms;
    bool log_wake;                 /* under touch_mu: the writer flushes without waiting */
    atomic_bool log_writer_ok;     /* the writer thread runs (fast path of log_writer_ensure) */
    atomic_int log_retention_days; /* 0: no background pruning (the CLI) */
    prune_cursor prune;            /* the writer thread's pass */
    int64_t prune_next_ms;         /* monotonic: when the next pass may start */
    pthread_mutex_t rmu;           /* rdb: the stats' own connection, so a count never holds mu */
    sqlite3 *rdb;
    /* under log_mu: tenants deleted by this process (a ring). Rows of theirs still queued are
       emptied at the delete, and rows enqueued later by requests that were already in flight are
       skipped by the writer, so a deleted tenant's log rows never come back. */
    char log_gone[LOG_GONE_MAX][APIKEY_TENANT_MAX + 1];
    size_t log_gone_next;
};

int store_schema_version(void)
{
    int n = 0;
    while (store_migration_texts[n].name) {
        n++;
    }
    return n;
}

/* ---- helpers ---- */

static bool exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return false;
    }
    return true;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static void now_text(char out[32])
{
    clock_rfc3339(clock_wall_ms(), out);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("store: cannot prepare a statement: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* one step of a statement that returns no row; ERR_CONFLICT on a constraint */
static err step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        return ERR_OK;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return ERR_CONFLICT;
    }
    log_error("store: %s", sqlite3_errmsg(db));
    return ERR_IO;
}

static bool mkdirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return false;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
                return false;
            }
            *p = '/';
        }
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

static int64_t user_version(sqlite3 *db)
{
    sqlite3_stmt *st = prepare(db, "PRAGMA user_version");
    int64_t v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static sqlite3 *open_conn(const char *path, char *why, size_t why_len)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(why, why_len, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    return db;
}

/* pragmas that write nothing to the file */
static bool conn_pragmas(sqlite3 *db)
{
    return exec(db, "PRAGMA foreign_keys = ON") && exec(db, "PRAGMA synchronous = NORMAL");
}

static err migrate(sqlite3 *db, const char *path, char *why, size_t why_len)
{
    int target = store_schema_version();
    for (int i = 0; i < target; i++) {
        char want[16];
        snprintf(want, sizeof want, "%04d_", i + 1);
        if (strncmp(store_migration_texts[i].name, want, 5) != 0) {
            snprintf(why, why_len, "migration '%s' is out of sequence (expected %s...)",
                     store_migration_texts[i].name, want);
            return ERR_INTERNAL;
        }
    }
    for (int i = 0; i < target; i++) {
        if (!exec(db, "BEGIN IMMEDIATE")) {
            snprintf(why, why_len, "cannot lock '%s' to migrate it: %s", path, sqlite3_errmsg(db));
            return ERR_IO;
        }
        int64_t v = user_version(db); /* again, under the lock: another process may have won */
        if (v > i) {
            exec(db, "ROLLBACK");
            continue;
        }
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version = %d", i + 1);
        char *msg = NULL;
        bool ok = sqlite3_exec(db, store_migration_texts[i].text, NULL, NULL, &msg) == SQLITE_OK;
        if (!ok) {
            snprintf(why, why_len, "cannot migrate '%s' with %s.sql: %s", path,
                     store_migration_texts[i].name, msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            exec(db, "ROLLBACK");
            return ERR_IO;
        }
        if (!exec(db, set) || !exec(db, "COMMIT")) {
            snprintf(why, why_len, "cannot commit migration %s of '%s': %s",
                     store_migration_texts[i].name, path, sqlite3_errmsg(db));
            exec(db, "ROLLBACK");
            return ERR_IO;
        }
    }
    return ERR_OK;
}

err store_open(const char *data_dir, store **out, char *why, size_t why_len)
{
    *out = NULL;
    if (!mkdirs(data_dir)) {
        snprintf(why, why_len, "cannot create the data dir '%s': %s", data_dir, strerror(errno));
        return ERR_IO;
    }
    store *s = xcalloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_len, "out of memory");
        return ERR_NOMEM;
    }
    if (snprintf(s->path, sizeof s->path, "%s/ctxd.db", data_dir) >= (int)sizeof s->path) {
        snprintf(why, why_len, "data dir path too long: '%s'", data_dir);
        xfree(s);
        return ERR_INVALID_ARGUMENTS;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->touch_mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->touch_cv, NULL);
    pthread_mutex_init(&s->log_mu, NULL); /* request log (issue 5) */
    pthread_mutex_init(&s->rmu, NULL);
    /* created 0600 here: SQLite would use the umask, and gives -wal/-shm the database's mode */
    int fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open '%s': %s", s->path, strerror(errno));
        store_close(s);
        return ERR_IO;
    }
    close(fd);
    s->db = open_conn(s->path, why, why_len);
    if (!s->db) {
        store_close(s);
        return ERR_IO;
    }
    int64_t v = user_version(s->db);
    if (v < 0) {
        snprintf(why, why_len, "'%s' is not a database ctxd can read: %s", s->path,
                 sqlite3_errmsg(s->db));
        store_close(s);
        return ERR_IO;
    }
    if (v > store_schema_version()) {
        snprintf(why, why_len,
                 "'%s' has schema version %" PRId64
                 ", newer than this binary's (%d): run a newer ctxd (nothing was changed)",
                 s->path, v, store_schema_version());
        store_close(s);
        return ERR_CONFLICT;
    }
    if (!conn_pragmas(s->db) || !exec(s->db, "PRAGMA journal_mode = WAL")) {
        snprintf(why, why_len, "cannot set up '%s': %s", s->path, sqlite3_errmsg(s->db));
        store_close(s);
        return ERR_IO;
    }
    err e = migrate(s->db, s->path, why, why_len);
    if (e != ERR_OK) {
        store_close(s);
        return e;
    }
    s->find_key = prepare(s->db, "SELECT k.key_hash, k.key_prefix, k.tenant_id, k.scopes,"
                                 " k.rate_limit_tier, k.created_at, k.last_used_at, k.revoked_at,"
                                 " k.test FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                                 " WHERE k.tenant_id = ? AND k.key_hash = ?");
    if (!s->find_key) {
        snprintf(why, why_len, "cannot prepare queries on '%s'", s->path);
        store_close(s);
        return ERR_IO;
    }
    *out = s;
    return ERR_OK;
}

static void write_touches(store *s);
static void log_writer_nice(void); /* request log (issue 5) */
static err log_write_pending(store *s);
static void log_tick(store *s);
static void log_release(store *s);
static void log_gone(store *s, const char *tenant, bool gone);

void store_close(store *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_lock(&s->touch_mu);
    bool started = s->writer_started;
    s->writer_stop = true;
    pthread_cond_broadcast(&s->touch_cv);
    pthread_mutex_unlock(&s->touch_mu);
    if (started) {
        pthread_join(s->writer, NULL);
    }
    if (s->db) {
        write_touches(s); /* whatever the writer had not taken yet */
        (void)log_write_pending(s);
    }
    log_release(s); /* request log (issue 5): what could not be written, the stats connection */
    sqlite3_finalize(s->find_key);
    sqlite3_close(s->wdb);
    sqlite3_close(s->db);
    xfree(s->touches);
    pthread_cond_destroy(&s->touch_cv);
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->log_mu);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->touch_mu);
    pthread_mutex_destroy(&s->mu);
    xfree(s);
}

/* ---- tenants ---- */

/* a statement's parameters: text, or (t NULL) an integer */
typedef struct sql_param {
    const char *t; /* text, or NULL: the integer i */
    int64_t i;
} sql_param;

static void sql_bind(sqlite3_stmt *st, const sql_param *p, int n)
{
    for (int k = 0; k < n; k++) {
        if (p[k].t) {
            sqlite3_bind_text(st, k + 1, p[k].t, -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_int64(st, k + 1, p[k].i);
        }
    }
}

/* run sql with params under mu (held by the caller), calling row for each row until it returns
   false; ERR_NOT_FOUND when there was none */
static err sql_rows(sqlite3 *db, const char *sql, const sql_param *p, int n,
                    bool (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (!st) {
        return ERR_IO;
    }
    sql_bind(st, p, n);
    err e = ERR_NOT_FOUND;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = ERR_OK;
        if (row && !row(st, ctx)) {
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("store: %s", sqlite3_errmsg(db));
        e = ERR_IO;
    }
    sqlite3_finalize(st);
    return e;
}

/* Run sql (text parameters a and b; NULL: not bound) under mu, calling row for each result row
 * until it returns false. ERR_NOT_FOUND when there was no row, ERR_IO on a database error
 * (logged). The row callbacks below copy a row into a struct: `*_one` for a lookup (the first
 * row), `*_each` hands each row to a list function's callback. */
static err each_row(store *s, const char *sql, const char *a, const char *b,
                    bool (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
    const sql_param p[] = {{a, 0}, {b, 0}};
    pthread_mutex_lock(&s->mu);
    err e = sql_rows(s->db, sql, p, b ? 2 : a ? 1 : 0, row, ctx);
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* a list is not "not found" when empty */
static err listed(err e)
{
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

static void tenant_row(sqlite3_stmt *st, store_tenant *t)
{
    col_copy(st, 0, t->id, sizeof t->id);
    col_copy(st, 1, t->name, sizeof t->name);
    col_copy(st, 2, t->created_at, sizeof t->created_at);
    col_copy(st, 3, t->settings, sizeof t->settings);
    t->storage_quota_bytes =
        sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
    t->storage_used_bytes = sqlite3_column_int64(st, 5);
    col_copy(st, 6, t->rate_limit_tier, sizeof t->rate_limit_tier);
}

static bool tenant_one(sqlite3_stmt *st, void *out)
{
    tenant_row(st, out);
    return false;
}

/* A list's row adapter: name##_each holds the caller's callback and a row struct (kept in the
 * adapter, which lists of big rows allocate on the heap); name##_each_row, given to sql_rows or
 * each_row, fills the row from each result row with row_fn, hands it to the callback and frees
 * what the row owns with release_fn. */
#define NO_RELEASE(row) ((void)(row))
#define ROW_EACH(name, T, row_fn, release_fn)                                                      \
    typedef struct name##_each {                                                                   \
        T row;                                                                                     \
        T##_fn fn;                                                                                 \
        void *ctx;                                                                                 \
    } name##_each;                                                                                 \
    static bool name##_each_row(sqlite3_stmt *st, void *v)                                         \
    {                                                                                              \
        name##_each *e = v;                                                                        \
        memset(&e->row, 0, sizeof e->row);                                                         \
        row_fn(st, &e->row);                                                                       \
        bool more = e->fn(&e->row, e->ctx);                                                        \
        release_fn(&e->row);                                                                       \
        return more;                                                                               \
    }

ROW_EACH(tenant, store_tenant, tenant_row, NO_RELEASE)

#define TENANT_COLS                                                                                \
    "id, name, created_at, settings, storage_quota_bytes, storage_used_bytes, rate_limit_tier"

err store_tenant_create(store *s, const store_tenant *t)
{
    if (!apikey_tenant_valid(t->id, strlen(t->id))) {
        return ERR_INVALID_ARGUMENTS;
    }
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        prepare(s->db, "INSERT INTO tenants (" TENANT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)");
    err e = ERR_IO;
    if (st) {
        bind_text(st, 1, t->id);
        bind_text(st, 2, t->name[0] ? t->name : t->id);
        bind_text(st, 3, t->created_at[0] ? t->created_at : now);
        bind_text(st, 4, t->settings[0] ? t->settings : "{}");
        if (t->storage_quota_bytes >= 0) {
            sqlite3_bind_int64(st, 5, t->storage_quota_bytes);
        } else {
            sqlite3_bind_null(st, 5);
        }
        sqlite3_bind_int64(st, 6, t->storage_used_bytes);
        bind_text(st, 7, t->rate_limit_tier[0] ? t->rate_limit_tier : STORE_DEFAULT_TIER);
        e = step_done(s->db, st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    if (e == ERR_OK) {
        log_gone(s, t->id, false); /* the id is a tenant again: its rows are written */
    }
    return e;
}

err store_tenant_get(store *s, const char *id, store_tenant *out)
{
    return each_row(s, "SELECT " TENANT_COLS " FROM tenants WHERE id = ?", id, NULL, tenant_one,
                    out);
}

err store_tenant_list(store *s, store_tenant_fn fn, void *ctx)
{
    tenant_each *e = xmalloc(sizeof *e);
    if (!e) {
        return ERR_NOMEM;
    }
    e->fn = fn;
    e->ctx = ctx;
    err rc = listed(each_row(s, "SELECT " TENANT_COLS " FROM tenants ORDER BY id", NULL, NULL,
                             tenant_each_row, e));
    xfree(e);
    return rc;
}

/* run sql with one or two text parameters (b may be NULL); the number of rows changed, -1 on
   failure */
static int exec1(sqlite3 *db, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (!st) {
        return -1;
    }
    bind_text(st, 1, a);
    if (b) {
        bind_text(st, 2, b);
    }
    int n = step_done(db, st) == ERR_OK ? sqlite3_changes(db) : -1;
    sqlite3_finalize(st);
    return n;
}

err store_tenant_delete(store *s, const char *id)
{
    if (strcmp(id, STORE_LOCAL_TENANT) == 0) {
        return ERR_CONFLICT;
    }
    /* wmu: no batch of log rows is being written meanwhile, so each row of the tenant is
       either in the database (and deleted here) or still queued (emptied by log_gone) */
    pthread_mutex_lock(&s->wmu);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        bool ok = exec1(s->db, "DELETE FROM request_log WHERE tenant_id = ?", id, NULL) >= 0 &&
                  exec1(s->db, "DELETE FROM api_keys WHERE tenant_id = ?", id, NULL) >= 0 &&
                  exec1(s->db, "DELETE FROM workspaces WHERE tenant_id = ?", id, NULL) >= 0;
        int n = ok ? exec1(s->db, "DELETE FROM tenants WHERE id = ?", id, NULL) : -1;
        if (n > 0 && exec(s->db, "COMMIT")) {
            e = ERR_OK;
            log_gone(s, id, true);
        } else {
            exec(s->db, "ROLLBACK");
            e = n == 0 ? ERR_NOT_FOUND : ERR_IO;
        }
    }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->wmu);
    return e;
}

/* ---- API keys ---- */

#define KEY_COLS                                                                                   \
    "key_hash, key_prefix, tenant_id, scopes, rate_limit_tier, created_at, last_used_at,"          \
    " revoked_at, test"

static void key_row(sqlite3_stmt *st, store_key *k)
{
    col_copy(st, 0, k->key_hash, sizeof k->key_hash);
    col_copy(st, 1, k->key_prefix, sizeof k->key_prefix);
    col_copy(st, 2, k->tenant_id, sizeof k->tenant_id);
    const unsigned char *sc = sqlite3_column_text(st, 3);
    char bad[64];
    if (!sc || !scope_parse_list((const char *)sc, &k->scopes, bad, sizeof bad)) {
        k->scopes = 0; /* a scope this binary does not know grants nothing */
    }
    col_copy(st, 4, k->rate_limit_tier, sizeof k->rate_limit_tier);
    col_copy(st, 5, k->created_at, sizeof k->created_at);
    col_copy(st, 6, k->last_used_at, sizeof k->last_used_at);
    col_copy(st, 7, k->revoked_at, sizeof k->revoked_at);
    k->test = sqlite3_column_int(st, 8) != 0;
}

static bool key_one(sqlite3_stmt *st, void *out)
{
    key_row(st, out);
    return false;
}

ROW_EACH(key, store_key, key_row, NO_RELEASE)

err store_key_create(store *s, const store_key *k)
{
    buf scopes;
    buf_init(&scopes, 1024);
    scope_format(&scopes, k->scopes, ",");
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        sqlite3_stmt *st = prepare(s->db, "SELECT 1 FROM tenants WHERE id = ?");
        int rc = SQLITE_ERROR;
        if (st) {
            bind_text(st, 1, k->tenant_id);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            e = ERR_NOT_FOUND;
        } else if (rc == SQLITE_ROW) {
            st = prepare(s->db, "INSERT INTO api_keys (" KEY_COLS
                                ") VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?)");
            if (st) {
                bind_text(st, 1, k->key_hash);
                bind_text(st, 2, k->key_prefix);
                bind_text(st, 3, k->tenant_id);
                bind_text(st, 4, scopes.ptr ? scopes.ptr : "");
                bind_text(st, 5, k->rate_limit_tier[0] ? k->rate_limit_tier : STORE_DEFAULT_TIER);
                bind_text(st, 6, k->created_at[0] ? k->created_at : now);
                sqlite3_bind_int(st, 7, k->test ? 1 : 0);
                e = step_done(s->db, st);
            }
            sqlite3_finalize(st);
        }
        if (e == ERR_OK && !exec(s->db, "COMMIT")) {
            e = ERR_IO;
        }
        if (e != ERR_OK) {
            exec(s->db, "ROLLBACK");
        }
    }
    pthread_mutex_unlock(&s->mu);
    buf_release(&scopes);
    return e;
}

err store_key_find(store *s, const char *tenant_id, const char *hash, store_key *out)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->find_key;
    bind_text(st, 1, tenant_id);
    bind_text(st, 2, hash);
    int rc = sqlite3_step(st);
    err e = ERR_IO;
    if (rc == SQLITE_ROW) {
        key_row(st, out);
        e = ERR_OK;
    } else if (rc == SQLITE_DONE) {
        e = ERR_NOT_FOUND;
    } else {
        log_error("store: key lookup: %s", sqlite3_errmsg(s->db));
    }
    /* reset ends the read transaction: the next lookup sees every commit made meanwhile */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_key_list(store *s, const char *tenant_id, store_key_fn fn, void *ctx)
{
    key_each e = {.fn = fn, .ctx = ctx};
    return listed(each_row(s,
                           "SELECT " KEY_COLS " FROM api_keys WHERE tenant_id = ?"
                           " ORDER BY created_at DESC, key_prefix",
                           tenant_id, NULL, key_each_row, &e));
}

err store_key_revoke(store *s, const char *tenant_id, const char *prefix)
{
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    sqlite3_stmt *st = prepare(s->db, "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ?"
                                      " AND key_prefix = ? AND revoked_at IS NULL");
    if (st) {
        bind_text(st, 1, now);
        bind_text(st, 2, tenant_id);
        bind_text(st, 3, prefix);
        e = step_done(s->db, st);
        if (e == ERR_OK && sqlite3_changes(s->db) == 0) {
            /* unknown, or revoked already: which one */
            sqlite3_stmt *q =
                prepare(s->db, "SELECT 1 FROM api_keys WHERE tenant_id = ? AND key_prefix = ?");
            if (q) {
                bind_text(q, 1, tenant_id);
                bind_text(q, 2, prefix);
                e = sqlite3_step(q) == SQLITE_ROW ? ERR_CONFLICT : ERR_NOT_FOUND;
            }
            sqlite3_finalize(q);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* ---- last_used_at: the touch table and its writer ---- */

static size_t slot_of(const char *prefix)
{
    /* FNV-1a: prefixes are random past the tenant, any mixing hash spreads them */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = prefix; *p; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    return (size_t)(h & (TOUCH_SLOTS - 1));
}

static touch *touch_find(touch *tab, const char *prefix, bool *found)
{
    for (size_t i = slot_of(prefix), n = 0; n < TOUCH_SLOTS; i = (i + 1) & (TOUCH_SLOTS - 1), n++) {
        if (!tab[i].prefix[0]) {
            *found = false;
            return &tab[i];
        }
        if (strcmp(tab[i].prefix, prefix) == 0) {
            *found = true;
            return &tab[i];
        }
    }
    *found = false;
    return NULL;
}

/* keep only the entries that still matter (queued, or written within the minute) */
static void touch_compact(store *s, int64_t now)
{
    touch *old = s->touches;
    touch *tab = xcalloc(TOUCH_SLOTS, sizeof *tab);
    if (!tab) {
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < TOUCH_SLOTS; i++) {
        if (old[i].prefix[0] &&
            (old[i].queued_ms || now - old[i].written_ms < STORE_TOUCH_EVERY_MS)) {
            bool found;
            touch *t = touch_find(tab, old[i].prefix, &found);
            *t = old[i];
            n++;
        }
    }
    xfree(old);
    s->touches = tab;
    s->n_touches = n;
}

/* the writer's connection (opened on first use); NULL after logging why */
static sqlite3 *writer_db(store *s)
{
    if (!s->wdb) {
        char why[sizeof s->path + 256];
        s->wdb = open_conn(s->path, why, sizeof why);
        if (!s->wdb) {
            log_error("store: %s", why);
            return NULL;
        }
        conn_pragmas(s->wdb);
    }
    return s->wdb;
}

/* take the queued touches and commit them in one transaction */
static void write_touches(store *s)
{
    pthread_mutex_lock(&s->wmu);
    pthread_mutex_lock(&s->touch_mu);
    size_t n = 0;
    touch *batch = NULL;
    if (s->touches) {
        for (size_t i = 0; i < TOUCH_SLOTS; i++) {
            n += s->touches[i].queued_ms != 0;
        }
        batch = n ? xmalloc(n * sizeof *batch) : NULL;
        size_t j = 0;
        for (size_t i = 0; batch && i < TOUCH_SLOTS; i++) {
            if (s->touches[i].queued_ms) {
                batch[j++] = s->touches[i];
                s->touches[i].written_ms = s->touches[i].queued_ms;
                s->touches[i].queued_ms = 0;
            }
        }
    }
    pthread_mutex_unlock(&s->touch_mu);
    if (!batch) {
        pthread_mutex_unlock(&s->wmu);
        return;
    }
    sqlite3 *db = writer_db(s);
    if (db && exec(db, "BEGIN IMMEDIATE")) {
        sqlite3_stmt *st = prepare(db, "UPDATE api_keys SET last_used_at = ? WHERE tenant_id = ?"
                                       " AND key_prefix = ?"
                                       " AND (last_used_at IS NULL OR last_used_at < ?)");
        bool ok = st != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            char ts[32];
            clock_rfc3339(batch[i].queued_ms, ts);
            bind_text(st, 1, ts);
            bind_text(st, 2, batch[i].tenant);
            bind_text(st, 3, batch[i].prefix);
            bind_text(st, 4, ts);
            ok = step_done(db, st) == ERR_OK;
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (!ok || !exec(db, "COMMIT")) {
            exec(db, "ROLLBACK");
            log_warn("store: %zu last_used_at update%s lost", n, n == 1 ? "" : "s");
        }
    }
    pthread_mutex_unlock(&s->wmu);
    xfree(batch);
}

static void *writer_main(void *arg)
{
    store *s = arg;
    log_writer_nice(); /* request log (issue 5): requests preempt the writer */
    pthread_mutex_lock(&s->touch_mu);
    while (!s->writer_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += STORE_FLUSH_MS / 1000;
        ts.tv_nsec += (long)(STORE_FLUSH_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!s->log_wake) {
            pthread_cond_timedwait(&s->touch_cv, &s->touch_mu, &ts);
        }
        s->log_wake = false;
        if (s->writer_stop) {
            break;
        }
        pthread_mutex_unlock(&s->touch_mu);
        write_touches(s);
        log_tick(s); /* request log: flush the queue, prune a little */
        pthread_mutex_lock(&s->touch_mu);
    }
    pthread_mutex_unlock(&s->touch_mu);
    return NULL;
}

void store_key_touch(store *s, const char *tenant_id, const char *prefix)
{
    if (strlen(prefix) > APIKEY_PREFIX_MAX || strlen(tenant_id) > APIKEY_TENANT_MAX) {
        return;
    }
    int64_t now = clock_wall_ms();
    pthread_mutex_lock(&s->touch_mu);
    if (s->writer_stop) {
        pthread_mutex_unlock(&s->touch_mu);
        return;
    }
    if (!s->touches) {
        s->touches = xcalloc(TOUCH_SLOTS, sizeof *s->touches);
    }
    if (!s->writer_started && s->touches) {
        s->writer_started = pthread_create(&s->writer, NULL, writer_main, s) == 0;
    }
    if (s->touches && s->n_touches >= TOUCH_SLOTS * 3 / 4) {
        touch_compact(s, now);
    }
    bool found = false;
    touch *t = s->touches ? touch_find(s->touches, prefix, &found) : NULL;
    if (t && !found && s->n_touches < TOUCH_SLOTS * 3 / 4) {
        snprintf(t->prefix, sizeof t->prefix, "%s", prefix);
        snprintf(t->tenant, sizeof t->tenant, "%s", tenant_id);
        t->written_ms = 0;
        t->queued_ms = now;
        s->n_touches++;
    } else if (t && found) {
        if (!t->queued_ms && now - t->written_ms >= STORE_TOUCH_EVERY_MS) {
            t->queued_ms = now;
        }
    } else if (!s->touch_full_warned) {
        s->touch_full_warned = true;
        log_warn("store: too many keys in use at once; some last_used_at updates are skipped");
    }
    pthread_mutex_unlock(&s->touch_mu);
}

err store_flush(store *s)
{
    write_touches(s);
    return log_write_pending(s);
}

/* ---- workspaces ---- */

err store_workspace_add(store *s, const store_workspace *w)
{
    if (!apikey_tenant_valid(w->tenant_id, strlen(w->tenant_id)) || !w->id[0] || !w->root[0]) {
        return ERR_INVALID_ARGUMENTS;
    }
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    sqlite3_stmt *st = prepare(s->db, "INSERT INTO workspaces (tenant_id, id, label, root,"
                                      " created_at) VALUES (?, ?, ?, ?, ?)");
    if (st) {
        bind_text(st, 1, w->tenant_id);
        bind_text(st, 2, w->id);
        bind_text(st, 3, w->label[0] ? w->label : w->id);
        bind_text(st, 4, w->root);
        bind_text(st, 5, w->created_at[0] ? w->created_at : now);
        e = step_done(s->db, st);
        /* a missing tenant fails the foreign key: name it as such */
        if (e == ERR_CONFLICT) {
            sqlite3_stmt *q = prepare(s->db, "SELECT 1 FROM tenants WHERE id = ?");
            if (q) {
                bind_text(q, 1, w->tenant_id);
                e = sqlite3_step(q) == SQLITE_ROW ? ERR_CONFLICT : ERR_NOT_FOUND;
            }
            sqlite3_finalize(q);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

static void workspace_row(sqlite3_stmt *st, store_workspace *w)
{
    col_copy(st, 0, w->tenant_id, sizeof w->tenant_id);
    col_copy(st, 1, w->id, sizeof w->id);
    col_copy(st, 2, w->label, sizeof w->label);
    col_copy(st, 3, w->root, sizeof w->root);
    col_copy(st, 4, w->created_at, sizeof w->created_at);
}

static bool workspace_one(sqlite3_stmt *st, void *out)
{
    workspace_row(st, out);
    return false;
}

ROW_EACH(workspace, store_workspace, workspace_row, NO_RELEASE)

#define WS_COLS "tenant_id, id, label, root, created_at"

err store_workspace_list(store *s, const char *tenant_id, store_workspace_fn fn, void *ctx)
{
    workspace_each *e = xmalloc(sizeof *e);
    if (!e) {
        return ERR_NOMEM;
    }
    e->fn = fn;
    e->ctx = ctx;
    err rc =
        listed(each_row(s, "SELECT " WS_COLS " FROM workspaces WHERE tenant_id = ? ORDER BY id",
                        tenant_id, NULL, workspace_each_row, e));
    xfree(e);
    return rc;
}

/* ---- request log ---- */

err store_log_append(store *s, const store_log_row *rows, size_t n)
{
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        sqlite3_stmt *st = prepare(s->db, "INSERT INTO request_log (ts, tenant_id, token_id, tool,"
                                          " duration_ms, status, error_message)"
                                          " VALUES (?, ?, ?, ?, ?, ?, ?)");
        e = st ? ERR_OK : ERR_IO;
        for (size_t i = 0; e == ERR_OK && i < n; i++) {
            sqlite3_bind_int64(st, 1, rows[i].ts_ms);
            bind_text(st, 2, rows[i].tenant_id);
            bind_text(st, 3, rows[i].token_id);
            bind_text(st, 4, rows[i].tool);
            sqlite3_bind_int64(st, 5, rows[i].duration_ms);
            sqlite3_bind_int(st, 6, rows[i].status);
            bind_text(st, 7, rows[i].error_message);
            e = step_done(s->db, st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (e == ERR_OK && !exec(s->db, "COMMIT")) {
            e = ERR_IO;
        }
        if (e != ERR_OK) {
            exec(s->db, "ROLLBACK");
        }
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_log_count(store *s, const char *tenant_id, int64_t since_ms, int64_t *out)
{
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    sqlite3_stmt *st =
        prepare(s->db, "SELECT count(*) FROM request_log WHERE tenant_id = ? AND ts >= ?");
    if (st) {
        bind_text(st, 1, tenant_id);
        sqlite3_bind_int64(st, 2, since_ms);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            e = ERR_OK;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* ---- admin API: tenant update, workspace get/delete, key by prefix (issue 5, ADMIN) ---- */

err store_tenant_update(store *s, const store_tenant *t)
{
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    sqlite3_stmt *st = prepare(s->db, "UPDATE tenants SET name = ?, settings = ?,"
                                      " storage_quota_bytes = ?, rate_limit_tier = ? WHERE id = ?");
    if (st) {
        bind_text(st, 1, t->name[0] ? t->name : t->id);
        bind_text(st, 2, t->settings[0] ? t->settings : "{}");
        if (t->storage_quota_bytes >= 0) {
            sqlite3_bind_int64(st, 3, t->storage_quota_bytes);
        } else {
            sqlite3_bind_null(st, 3);
        }
        bind_text(st, 4, t->rate_limit_tier[0] ? t->rate_limit_tier : STORE_DEFAULT_TIER);
        bind_text(st, 5, t->id);
        e = step_done(s->db, st);
        if (e == ERR_OK && sqlite3_changes(s->db) == 0) {
            e = ERR_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_workspace_get(store *s, const char *tenant_id, const char *id, store_workspace *out)
{
    return each_row(s, "SELECT " WS_COLS " FROM workspaces WHERE tenant_id = ? AND id = ?",
                    tenant_id, id, workspace_one, out);
}

err store_workspace_delete(store *s, const char *tenant_id, const char *id)
{
    pthread_mutex_lock(&s->mu);
    int n = exec1(s->db, "DELETE FROM workspaces WHERE tenant_id = ? AND id = ?", tenant_id, id);
    pthread_mutex_unlock(&s->mu);
    return n < 0 ? ERR_IO : n == 0 ? ERR_NOT_FOUND : ERR_OK;
}

err store_workspace_list_all(store *s, store_workspace_fn fn, void *ctx)
{
    workspace_each *e = xmalloc(sizeof *e);
    if (!e) {
        return ERR_NOMEM;
    }
    e->fn = fn;
    e->ctx = ctx;
    err rc = listed(each_row(s, "SELECT " WS_COLS " FROM workspaces ORDER BY tenant_id, id", NULL,
                             NULL, workspace_each_row, e));
    xfree(e);
    return rc;
}

err store_key_find_prefix(store *s, const char *tenant_id, const char *prefix, store_key *out)
{
    return each_row(s, "SELECT " KEY_COLS " FROM api_keys WHERE tenant_id = ? AND key_prefix = ?",
                    tenant_id, prefix, key_one, out);
}

/* ---- request log: the batched writer, retention pruning, stats (issue 5, LOG) ----
 *
 * The queue is a chain of log_blocks under log_mu: store_log_enqueue copies one row in (the
 * text cut and made printable first, outside the lock), the writer takes the whole chain in
 * one swap and inserts it on its own connection in one transaction. A write that fails puts the
 * rows back in front (the oldest are dropped if that passes the bound), so a database busy for a
 * while loses nothing that fits. Pruning runs on the writer's tick: a pass visits the tenants
 * that have rows (an index probe each), and deletes each one's rows older than its retention in
 * batches of STORE_PRUNE_BATCH, each batch its own transaction. */

#define STR_(x) #x
#define STR(x) STR_(x)

/* cut to cap - 1 bytes, anything but printable ASCII as '?': what is logged is an identifier
   or an error code, so nothing is lost but a place to hide control characters */
static void log_text(char *out, size_t cap, const char *in)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)in[i];
        out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[i] = '\0';
}

/* keep an emptied block for reuse, or free it (log_mu held) */
static void log_recycle_locked(store *s, log_block *b)
{
    for (int i = 0; i < LOG_SPARE_BLOCKS; i++) {
        if (!s->log_spare[i]) {
            s->log_spare[i] = b;
            return;
        }
    }
    xfree(b);
}

static log_block *log_block_take_locked(store *s)
{
    log_block *b = NULL;
    for (int i = 0; i < LOG_SPARE_BLOCKS && !b; i++) {
        b = s->log_spare[i];
        s->log_spare[i] = NULL;
    }
    if (!b) {
        b = xmalloc(sizeof *b);
    }
    if (b) {
        b->next = NULL;
        b->first = b->count = 0;
    }
    return b;
}

/* drop the oldest pending row (log_mu held, log_pending > 0) */
static void log_drop_oldest_locked(store *s)
{
    log_block *h = s->log_head;
    h->first++;
    s->log_pending--;
    atomic_fetch_add(&s->log_dropped, 1);
    if (h->first == h->count) {
        s->log_head = h->next;
        if (!s->log_head) {
            s->log_tail = NULL;
        }
        log_recycle_locked(s, h);
    }
}

/* the warning about dropped rows, at most once a minute; the caller logs it unlocked */
static uint64_t log_warn_due_locked(store *s)
{
    uint64_t dropped = atomic_load(&s->log_dropped);
    int64_t now = clock_mono_ms();
    if (dropped == s->log_dropped_warned ||
        (s->log_warned_ms && now - s->log_warned_ms < LOG_WARN_EVERY_MS)) {
        return 0;
    }
    uint64_t fresh = dropped - s->log_dropped_warned;
    s->log_dropped_warned = dropped;
    s->log_warned_ms = now;
    return fresh;
}

static void log_warn_dropped(uint64_t fresh)
{
    if (fresh) {
        log_warn("store: %" PRIu64 " request log row%s dropped (the queue of %d rows was full or"
                 " the database could not be written)",
                 fresh, fresh == 1 ? "" : "s", STORE_LOG_QUEUE_MAX);
    }
}

/* The writer thread is a background batch job to the scheduler: SCHED_BATCH (its wakeups
 * never preempt a running thread: it waits for the tick or an idle core, so a flush that starts
 * while every core serves requests does not stall one of them) at nice LOG_WRITER_NICE (a waking
 * request thread preempts it). It keeps a share of the CPU under load (SCHED_IDLE would starve it
 * on a saturated machine, and the queue would overflow); batches grow when it falls behind. */
static void log_writer_nice(void)
{
    struct sched_param sp = {.sched_priority = 0};
    int rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    if (rc != 0) {
        log_debug("store: cannot make the writer a batch thread: %s", strerror(rc));
    }
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LOG_WRITER_NICE) != 0) {
        log_debug("store: cannot lower the writer's priority: %s", strerror(errno));
    }
}

static void log_writer_ensure(store *s)
{
    if (atomic_load(&s->log_writer_ok)) {
        return;
    }
    pthread_mutex_lock(&s->touch_mu);
    if (!s->writer_started && !s->writer_stop) {
        s->writer_started = pthread_create(&s->writer, NULL, writer_main, s) == 0;
    }
    /* once stopping, the rows still queued are written by store_close */
    atomic_store(&s->log_writer_ok, s->writer_started || s->writer_stop);
    pthread_mutex_unlock(&s->touch_mu);
}

void store_log_enqueue(store *s, const store_log_row *row)
{
    if (!row->tenant_id) {
        return; /* every row belongs to a tenant */
    }
    log_item it;
    it.ts_ms = row->ts_ms;
    it.duration_ms = row->duration_ms;
    it.status = row->status;
    log_text(it.tenant, sizeof it.tenant, row->tenant_id);
    log_text(it.token, sizeof it.token, row->token_id);
    log_text(it.tool, sizeof it.tool, row->tool);
    log_text(it.error, sizeof it.error, row->error_message);
    log_writer_ensure(s);

    pthread_mutex_lock(&s->log_mu);
    if (s->log_pending >= STORE_LOG_QUEUE_MAX) {
        log_drop_oldest_locked(s);
    }
    log_block *b = s->log_tail;
    if (!b || b->count == LOG_BLOCK_ROWS) {
        b = log_block_take_locked(s);
        if (b) {
            if (s->log_tail) {
                s->log_tail->next = b;
            } else {
                s->log_head = b;
            }
            s->log_tail = b;
        }
    }
    bool wake = false;
    if (b) {
        b->rows[b->count++] = it;
        s->log_pending++;
        wake = s->log_pending == STORE_LOG_FLUSH_ROWS;
    } else {
        atomic_fetch_add(&s->log_dropped, 1);
    }
    uint64_t warn =
        atomic_load(&s->log_dropped) != s->log_dropped_warned ? log_warn_due_locked(s) : 0;
    pthread_mutex_unlock(&s->log_mu);
    log_warn_dropped(warn);
    if (wake) {
        pthread_mutex_lock(&s->touch_mu);
        s->log_wake = true;
        pthread_cond_signal(&s->touch_cv);
        pthread_mutex_unlock(&s->touch_mu);
    }
}

uint64_t store_log_dropped(const store *s)
{
    return atomic_load(&s->log_dropped);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v[0]) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* tenant was deleted (gone), or was just created: either way the rows queued under its id are
   the old tenant's (a new tenant has no key yet, so no request of its own can be queued) and are
   emptied. A deleted id is remembered so that rows enqueued later by requests that were in
   flight during the delete are skipped too; a created one is forgotten. */
static void log_gone(store *s, const char *tenant, bool gone)
{
    pthread_mutex_lock(&s->log_mu);
    for (size_t i = 0; i < LOG_GONE_MAX; i++) {
        if (strcmp(s->log_gone[i], tenant) == 0) {
            s->log_gone[i][0] = '\0';
        }
    }
    if (gone) {
        snprintf(s->log_gone[s->log_gone_next], sizeof s->log_gone[0], "%s", tenant);
        s->log_gone_next = (s->log_gone_next + 1) % LOG_GONE_MAX;
    }
    for (log_block *b = s->log_head; b; b = b->next) {
        for (size_t i = b->first; i < b->count; i++) {
            if (strcmp(b->rows[i].tenant, tenant) == 0) {
                b->rows[i].tenant[0] = '\0'; /* skipped by the writer */
            }
        }
    }
    pthread_mutex_unlock(&s->log_mu);
}

static bool log_is_gone(char gone[LOG_GONE_MAX][APIKEY_TENANT_MAX + 1], const char *tenant)
{
    for (size_t i = 0; i < LOG_GONE_MAX; i++) {
        if (gone[i][0] && strcmp(gone[i], tenant) == 0) {
            return true;
        }
    }
    return false;
}

/* insert the chain's rows in one transaction on the writer's connection (wmu held); rows of an
   emptied or deleted tenant are skipped */
static err log_insert_chain(store *s, const log_block *chain,
                            char gone[LOG_GONE_MAX][APIKEY_TENANT_MAX + 1])
{
    sqlite3 *db = writer_db(s);
    if (!db || !exec(db, "BEGIN IMMEDIATE")) {
        return ERR_IO;
    }
    sqlite3_stmt *st = prepare(db, "INSERT INTO request_log (ts, tenant_id, token_id, tool,"
                                   " duration_ms, status, error_message)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?)");
    err e = st ? ERR_OK : ERR_IO;
    size_t done = 0;
    for (const log_block *b = chain; e == ERR_OK && b; b = b->next) {
        for (size_t i = b->first; e == ERR_OK && i < b->count; i++) {
            if (++done % LOG_YIELD_ROWS == 0) {
                sched_yield(); /* a request thread waiting for this core gets it now */
            }
            const log_item *it = &b->rows[i];
            if (!it->tenant[0] || log_is_gone(gone, it->tenant)) {
                continue;
            }
            sqlite3_bind_int64(st, 1, it->ts_ms);
            sqlite3_bind_text(st, 2, it->tenant, -1, SQLITE_STATIC);
            bind_text_or_null(st, 3, it->token);
            bind_text_or_null(st, 4, it->tool);
            sqlite3_bind_int64(st, 5, it->duration_ms);
            sqlite3_bind_int(st, 6, it->status);
            bind_text_or_null(st, 7, it->error);
            e = step_done(db, st);
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    if (e == ERR_OK && !exec(db, "COMMIT")) {
        e = ERR_IO;
    }
    if (e != ERR_OK) {
        exec(db, "ROLLBACK");
    }
    return e;
}

/* write every pending row now; on failure they go back to the front of the queue */
static err log_write_pending(store *s)
{
    pthread_mutex_lock(&s->wmu);
    pthread_mutex_lock(&s->log_mu);
    log_block *chain = s->log_head;
    size_t n = s->log_pending;
    s->log_head = s->log_tail = NULL;
    s->log_pending = 0;
    char gone[LOG_GONE_MAX][APIKEY_TENANT_MAX + 1];
    memcpy(gone, s->log_gone, sizeof gone);
    pthread_mutex_unlock(&s->log_mu);
    err e = chain ? log_insert_chain(s, chain, gone) : ERR_OK;
    uint64_t warn = 0;
    pthread_mutex_lock(&s->log_mu);
    if (e == ERR_OK) {
        while (chain) {
            log_block *next = chain->next;
            log_recycle_locked(s, chain);
            chain = next;
        }
    } else {
        log_block *last = chain;
        while (last->next) {
            last = last->next;
        }
        last->next = s->log_head;
        s->log_head = chain;
        if (!s->log_tail) {
            s->log_tail = last;
        }
        s->log_pending += n;
        while (s->log_pending > STORE_LOG_QUEUE_MAX) {
            log_drop_oldest_locked(s);
        }
        warn = log_warn_due_locked(s);
    }
    pthread_mutex_unlock(&s->log_mu);
    pthread_mutex_unlock(&s->wmu);
    log_warn_dropped(warn);
    return e;
}

/* at close: rows that could not be written are counted and reported; the blocks freed */
static void log_release(store *s)
{
    uint64_t lost = 0;
    for (log_block *b = s->log_head, *next; b; b = next) {
        next = b->next;
        lost += b->count - b->first;
        xfree(b);
    }
    s->log_head = s->log_tail = NULL;
    for (int i = 0; i < LOG_SPARE_BLOCKS; i++) {
        xfree(s->log_spare[i]);
        s->log_spare[i] = NULL;
    }
    if (lost) {
        log_warn("store: %" PRIu64 " request log row%s could not be written before closing", lost,
                 lost == 1 ? "" : "s");
    }
    xfree(s->prune.tenant);
    s->prune.tenant = NULL;
    sqlite3_close(s->rdb);
    s->rdb = NULL;
}

/* the retention in days of tenant: its settings' request_log_retention_days when that is an
   integer in range, else default_days (a tenant missing from the store, say a config token's
   tenant that was never created, keeps the default) */
static int tenant_retention_days(sqlite3 *db, const char *tenant, int default_days)
{
    sqlite3_stmt *st = prepare(db, "SELECT json_extract(settings, '$.request_log_retention_days')"
                                   " FROM tenants WHERE id = ? AND json_valid(settings)");
    int days = default_days;
    if (st) {
        bind_text(st, 1, tenant);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
            int64_t v = sqlite3_column_int64(st, 0);
            if (v >= STORE_RETENTION_MIN_DAYS && v <= STORE_RETENTION_MAX_DAYS) {
                days = (int)v;
            }
        }
    }
    sqlite3_finalize(st);
    return days;
}

/* One unit of a pass on the writer's connection (wmu held): a batch of deletions for the
   current tenant, or the move to the next tenant that has rows. 1: more to do, 0: the pass is
   over, -1: the database failed. */
static int prune_step(store *s, prune_cursor *c)
{
    sqlite3 *db = writer_db(s);
    if (!db) {
        return -1;
    }
    if (c->in_tenant) {
        sqlite3_stmt *st = prepare(
            db, "DELETE FROM request_log WHERE rowid IN (SELECT rowid FROM"
                " request_log WHERE tenant_id = ? AND ts < ? LIMIT " STR(STORE_PRUNE_BATCH) ")");
        if (!st) {
            return -1;
        }
        bind_text(st, 1, c->tenant);
        sqlite3_bind_int64(st, 2, c->cutoff);
        err e = step_done(db, st);
        int n = e == ERR_OK ? sqlite3_changes(db) : 0;
        sqlite3_finalize(st);
        if (e != ERR_OK) {
            return -1;
        }
        c->deleted += n;
        c->in_tenant = n >= STORE_PRUNE_BATCH;
        return 1;
    }
    sqlite3_stmt *st =
        c->tenant ? prepare(db, "SELECT tenant_id FROM request_log WHERE tenant_id > ?"
                                " ORDER BY tenant_id LIMIT 1")
                  : prepare(db, "SELECT tenant_id FROM request_log ORDER BY tenant_id LIMIT 1");
    if (!st) {
        return -1;
    }
    if (c->tenant) {
        bind_text(st, 1, c->tenant);
    }
    int rc = sqlite3_step(st);
    int out = -1;
    if (rc == SQLITE_DONE) {
        out = 0;
    } else if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        char *next = xstrdup(t ? (const char *)t : "");
        if (next) {
            xfree(c->tenant);
            c->tenant = next;
            int days = tenant_retention_days(db, c->tenant, c->default_days);
            c->cutoff = c->now_ms - (int64_t)days * 86400000;
            c->in_tenant = true;
            out = 1;
        }
    } else {
        log_error("store: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return out;
}

static int clamp_days(int days)
{
    return days < STORE_RETENTION_MIN_DAYS   ? STORE_RETENTION_MIN_DAYS
           : days > STORE_RETENTION_MAX_DAYS ? STORE_RETENTION_MAX_DAYS
                                             : days;
}

void store_set_log_retention(store *s, int days)
{
    atomic_store(&s->log_retention_days, clamp_days(days));
    log_writer_ensure(s);
}

err store_log_prune(store *s, int64_t now_ms, int default_days, int64_t *deleted)
{
    if (deleted) {
        *deleted = 0;
    }
    if (default_days < STORE_RETENTION_MIN_DAYS || default_days > STORE_RETENTION_MAX_DAYS) {
        return ERR_INVALID_ARGUMENTS;
    }
    prune_cursor c = {.active = true, .now_ms = now_ms, .default_days = default_days};
    int r;
    do {
        pthread_mutex_lock(&s->wmu);
        r = prune_step(s, &c);
        pthread_mutex_unlock(&s->wmu);
    } while (r > 0);
    xfree(c.tenant);
    if (deleted) {
        *deleted = c.deleted;
    }
    return r < 0 ? ERR_IO : ERR_OK;
}

/* the writer's tick: flush the queue, then a little of the current pruning pass */
static void log_tick(store *s)
{
    (void)log_write_pending(s); /* a failure keeps the rows queued and warns */
    int days = atomic_load(&s->log_retention_days);
    int64_t start = clock_mono_ms();
    if (days <= 0) {
        return;
    }
    prune_cursor *c = &s->prune;
    if (!c->active) {
        if (start < s->prune_next_ms) {
            return;
        }
        xfree(c->tenant);
        *c = (prune_cursor){.active = true, .now_ms = clock_wall_ms(), .default_days = days};
    }
    int batches = 0;
    while (batches < PRUNE_BATCHES_PER_TICK && clock_mono_ms() - start < PRUNE_TICK_BUDGET_MS) {
        pthread_mutex_lock(&s->wmu);
        bool deleting = c->in_tenant;
        int r = prune_step(s, c);
        pthread_mutex_unlock(&s->wmu);
        if (r <= 0) {
            if (c->deleted > 0) {
                log_info("store: request log rows older than their retention pruned: %" PRId64,
                         c->deleted);
            }
            c->active = false;
            s->prune_next_ms = clock_mono_ms() + PRUNE_EVERY_MS;
            break;
        }
        batches += deleting;
    }
}

/* ---- stats ---- */

/* the int64 columns of a one-row query, with tenant (if not NULL) and since (if >= 0) bound in
   that order */
static bool stats_query(sqlite3 *db, const char *sql, const char *tenant, int64_t since,
                        int64_t *out, int ncols)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (!st) {
        return false;
    }
    int i = 1;
    if (tenant) {
        bind_text(st, i++, tenant);
    }
    if (since >= 0) {
        sqlite3_bind_int64(st, i, since);
    }
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    for (int c = 0; ok && c < ncols; c++) {
        out[c] = sqlite3_column_int64(st, c);
    }
    if (!ok) {
        log_error("store: stats: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return ok;
}

err store_stats_get(store *s, const char *tenant_id, int64_t now_ms, store_stats *out)
{
    memset(out, 0, sizeof *out);
    int64_t since = now_ms - (int64_t)24 * 3600 * 1000;
    if (since < 0) {
        since = 0;
    }
    pthread_mutex_lock(&s->rmu);
    if (!s->rdb) {
        char why[sizeof s->path + 256];
        s->rdb = open_conn(s->path, why, sizeof why);
        if (!s->rdb) {
            log_error("store: %s", why);
            pthread_mutex_unlock(&s->rmu);
            return ERR_IO;
        }
    }
    sqlite3 *db = s->rdb;
    err e = ERR_IO;
    /* one read transaction: the counts are of one snapshot */
    if (exec(db, "BEGIN")) {
        int64_t t[2] = {0, 0};
        const char *ten = tenant_id;
        bool ok =
            stats_query(db,
                        ten ? "SELECT count(*), coalesce(sum(storage_used_bytes), 0) FROM tenants"
                              " WHERE id = ?"
                            : "SELECT count(*), coalesce(sum(storage_used_bytes), 0) FROM tenants",
                        ten, -1, t, 2);
        if (ok && ten && t[0] == 0) {
            e = ERR_NOT_FOUND;
            ok = false;
        }
        out->tenants = t[0];
        out->storage_used_bytes = t[1];
        ok = ok &&
             stats_query(db,
                         ten ? "SELECT count(*) FROM workspaces WHERE tenant_id = ?"
                             : "SELECT count(*) FROM workspaces",
                         ten, -1, &out->workspaces, 1) &&
             stats_query(db,
                         ten ? "SELECT count(*) FROM request_log WHERE tenant_id = ? AND ts >= ?"
                             : "SELECT count(*) FROM request_log WHERE ts >= ?",
                         ten, since, &out->requests_24h, 1) &&
             /* `status = 429` literally: the partial indexes of 0002 hold only those rows */
             stats_query(db,
                         ten ? "SELECT count(*) FROM request_log WHERE tenant_id = ? AND"
                               " status = 429 AND ts >= ?"
                             : "SELECT count(*) FROM request_log WHERE status = 429 AND ts >= ?",
                         ten, since, &out->rate_limit_hits_24h, 1);
        if (ok) {
            e = ERR_OK;
        }
        exec(db, "COMMIT");
    }
    pthread_mutex_unlock(&s->rmu);
    if (e != ERR_OK) {
        memset(out, 0, sizeof *out);
    }
    return e;
}

/* ---- storage quota (issue 5, QUOTA) ---- */

err store_tenant_quota(store *s, const char *id, int64_t *quota, int64_t *used)
{
    *quota = -1;
    *used = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        prepare(s->db, "SELECT storage_quota_bytes, storage_used_bytes FROM tenants WHERE id = ?");
    err e = ERR_IO;
    if (st) {
        bind_text(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *quota = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
            *used = sqlite3_column_int64(st, 1);
            e = ERR_OK;
        } else if (rc == SQLITE_DONE) {
            e = ERR_NOT_FOUND;
        } else {
            log_error("store: %s", sqlite3_errmsg(s->db));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_tenant_storage_set(store *s, const char *id, int64_t bytes)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(s->db, "UPDATE tenants SET index_bytes = ?1,"
                                      " storage_used_bytes = ?1 + collab_bytes WHERE id = ?2");
    err e = ERR_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, bytes < 0 ? 0 : bytes);
        bind_text(st, 2, id);
        if (sqlite3_step(st) == SQLITE_DONE) {
            e = sqlite3_changes(s->db) > 0 ? ERR_OK : ERR_NOT_FOUND;
        } else {
            log_error("store: %s", sqlite3_errmsg(s->db));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

static bool two_ints(sqlite3_stmt *st, void *out)
{
    int64_t *v = out;
    v[0] = sqlite3_column_int64(st, 0);
    v[1] = sqlite3_column_int64(st, 1);
    return false;
}

err store_tenant_usage(store *s, const char *id, int64_t *index_bytes, int64_t *collab_bytes)
{
    int64_t v[2] = {0, 0};
    err e = each_row(s, "SELECT index_bytes, collab_bytes FROM tenants WHERE id = ?", id, NULL,
                     two_ints, v);
    *index_bytes = v[0];
    *collab_bytes = v[1];
    return e;
}

/* (QUOTA, issue 6) the tenant's storage_used_bytes now, or -1 when it has no quota (or no
   row); called under mu inside the write's transaction */
static int64_t quota_mark(store *s, const char *tenant)
{
    int64_t quota = -1, used = -1;
    sqlite3_stmt *st =
        prepare(s->db, "SELECT storage_quota_bytes, storage_used_bytes FROM tenants WHERE id = ?");
    if (st) {
        bind_text(st, 1, tenant);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            quota = sqlite3_column_int64(st, 0);
            used = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_finalize(st);
    return quota < 0 ? -1 : used;
}

/* (QUOTA, issue 6) ERR_QUOTA_EXCEEDED when the tenant has a quota, its storage_used_bytes passed
   it, and it grew since quota_mark gave before (a write that shrinks usage is always allowed) */
static err quota_check(store *s, const char *tenant, int64_t before)
{
    if (before < 0) {
        return ERR_OK;
    }
    int64_t quota = -1, used = 0;
    sqlite3_stmt *st =
        prepare(s->db, "SELECT storage_quota_bytes, storage_used_bytes FROM tenants WHERE id = ?");
    err e = st ? ERR_OK : ERR_IO;
    if (st) {
        bind_text(st, 1, tenant);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            quota = sqlite3_column_int64(st, 0);
            used = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_finalize(st);
    if (e == ERR_OK && quota >= 0 && used > quota && used > before) {
        e = ERR_QUOTA_EXCEEDED;
    }
    return e;
}

/* ---- shared sessions: documents and items (issue 6, SESSIONS) ---- */

static err sess_exec(sqlite3 *db, const char *sql, const sql_param *p, int n, int64_t *changes)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (!st) {
        return ERR_IO;
    }
    sql_bind(st, p, n);
    err e = step_done(db, st);
    if (e == ERR_OK && changes) {
        *changes = sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    return e;
}

static char *sess_body(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return xstrdup(t ? (const char *)t : "{}");
}

void store_doc_release(store_doc *d)
{
    if (d) {
        xfree(d->body);
        d->body = NULL;
    }
}

void store_item_release(store_item *it)
{
    if (it) {
        xfree(it->body);
        it->body = NULL;
    }
}

#define DOC_COLS "channel_id, rev, body, updated_at, updated_by"

static void doc_row(sqlite3_stmt *st, store_doc *d)
{
    col_copy(st, 0, d->channel, sizeof d->channel);
    d->rev = sqlite3_column_int64(st, 1);
    d->body = sess_body(st, 2);
    col_copy(st, 3, d->updated_at, sizeof d->updated_at);
    col_copy(st, 4, d->updated_by, sizeof d->updated_by);
}

static bool doc_one(sqlite3_stmt *st, void *out)
{
    doc_row(st, out);
    return false;
}

err store_doc_get(store *s, const char *tenant_id, const char *ws, const char *kind,
                  const char *channel, store_doc *out)
{
    memset(out, 0, sizeof *out);
    const sql_param p[] = {{tenant_id, 0}, {ws, 0}, {kind, 0}, {channel, 0}};
    pthread_mutex_lock(&s->mu);
    err e = sql_rows(s->db,
                     "SELECT " DOC_COLS " FROM collab_docs WHERE tenant_id = ? AND"
                     " workspace_id = ? AND kind = ? AND channel_id = ?",
                     p, 4, doc_one, out);
    pthread_mutex_unlock(&s->mu);
    return e;
}

static bool rev_one(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(st, 0);
    return false;
}

err store_doc_put(store *s, const char *tenant_id, const char *ws, const char *kind,
                  const char *channel, int64_t expect_rev, const char *body, const char *actor,
                  int64_t *new_rev)
{
    if (strlen(body) > STORE_BODY_MAX) {
        return ERR_INVALID_ARGUMENTS;
    }
    char now[32];
    now_text(now);
    const sql_param key[] = {{tenant_id, 0}, {ws, 0}, {kind, 0}, {channel, 0}};
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        int64_t cur = 0;
        e = sql_rows(s->db,
                     "SELECT rev FROM collab_docs WHERE tenant_id = ? AND workspace_id = ? AND"
                     " kind = ? AND channel_id = ?",
                     key, 4, rev_one, &cur);
        if (e == ERR_NOT_FOUND) {
            e = ERR_OK;
        }
        if (e == ERR_OK && cur != expect_rev) {
            e = ERR_CONFLICT;
        }
        int64_t docs = 0;
        if (e == ERR_OK && cur == 0 &&
            sql_rows(s->db,
                     "SELECT count(*) FROM collab_docs WHERE tenant_id = ? AND workspace_id = ?"
                     " AND kind = ?",
                     key, 3, rev_one, &docs) == ERR_OK &&
            docs >= STORE_DOCS_PER_WS) {
            e = ERR_LIMIT;
        }
        int64_t mark = quota_mark(s, tenant_id);
        if (e == ERR_OK) {
            const sql_param p[] = {{tenant_id, 0},  {ws, 0},   {channel, 0}, {kind, 0},
                                   {NULL, cur + 1}, {body, 0}, {now, 0},     {actor, 0}};
            e = sess_exec(s->db,
                          "INSERT INTO collab_docs (tenant_id, workspace_id, channel_id, kind, rev,"
                          " body, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                          " ON CONFLICT (tenant_id, workspace_id, kind, channel_id) DO UPDATE SET"
                          " rev = excluded.rev, body = excluded.body,"
                          " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                          p, 8, NULL);
            /* a constraint here is the tenant's foreign key: the tenant is gone */
            if (e == ERR_CONFLICT) {
                e = ERR_NOT_FOUND;
            }
        }
        e = e == ERR_OK ? quota_check(s, tenant_id, mark) : e;
        if (e == ERR_OK && exec(s->db, "COMMIT")) {
            if (new_rev) {
                *new_rev = cur + 1;
            }
        } else {
            exec(s->db, "ROLLBACK");
            if (e == ERR_OK) {
                e = ERR_IO;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

ROW_EACH(doc, store_doc, doc_row, store_doc_release)

err store_doc_list(store *s, const char *tenant_id, const char *ws, const char *kind,
                   store_doc_fn fn, void *ctx)
{
    const sql_param p[] = {{tenant_id, 0}, {ws, 0}, {kind, 0}};
    doc_each e = {.fn = fn, .ctx = ctx};
    pthread_mutex_lock(&s->mu);
    err rc = listed(sql_rows(s->db,
                             "SELECT " DOC_COLS " FROM collab_docs WHERE tenant_id = ? AND"
                             " workspace_id = ? AND kind = ? ORDER BY channel_id",
                             p, 3, doc_each_row, &e));
    pthread_mutex_unlock(&s->mu);
    return rc;
}

#define ITEM_COLS "channel_id, kind, id, from_agent, to_agent, created_at, body"

static void item_row(sqlite3_stmt *st, store_item *it)
{
    col_copy(st, 0, it->channel, sizeof it->channel);
    col_copy(st, 1, it->kind, sizeof it->kind);
    col_copy(st, 2, it->id, sizeof it->id);
    col_copy(st, 3, it->from, sizeof it->from);
    col_copy(st, 4, it->to, sizeof it->to);
    col_copy(st, 5, it->created_at, sizeof it->created_at);
    it->body = sess_body(st, 6);
}

static bool item_one(sqlite3_stmt *st, void *out)
{
    item_row(st, out);
    return false;
}

err store_item_add(store *s, const char *tenant_id, const char *ws, store_item *it, int keep)
{
    if (!it->body || strlen(it->body) > STORE_BODY_MAX) {
        return ERR_INVALID_ARGUMENTS;
    }
    if (!it->created_at[0]) {
        now_text(it->created_at);
    }
    const sql_param p[] = {{tenant_id, 0}, {ws, 0},       {it->channel, 0}, {it->kind, 0},
                           {it->id, 0},    {it->from, 0}, {it->to, 0},      {it->created_at, 0},
                           {it->body, 0}};
    const sql_param q[] = {{tenant_id, 0},   {ws, 0},          {it->kind, 0},
                           {it->channel, 0}, {tenant_id, 0},   {ws, 0},
                           {it->kind, 0},    {it->channel, 0}, {NULL, keep < 1 ? 1 : keep}};
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        int64_t items = 0;
        e = sql_rows(s->db,
                     "SELECT count(*) FROM collab_items WHERE tenant_id = ? AND workspace_id = ?"
                     " AND kind = ?",
                     q, 3, rev_one, &items);
        e = e == ERR_OK && items >= STORE_ITEMS_PER_WS ? ERR_LIMIT : e;
        int64_t mark = quota_mark(s, tenant_id);
        e = e == ERR_OK
                ? sess_exec(
                      s->db,
                      "INSERT INTO collab_items (tenant_id, workspace_id, channel_id, kind, id,"
                      " from_agent, to_agent, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, 9, NULL)
                : e;
        if (e == ERR_OK) {
            e = sess_exec(s->db,
                          "DELETE FROM collab_items WHERE tenant_id = ? AND workspace_id = ? AND"
                          " kind = ? AND channel_id = ? AND seq NOT IN (SELECT seq FROM"
                          " collab_items WHERE tenant_id = ? AND workspace_id = ? AND kind = ?"
                          " AND channel_id = ? ORDER BY seq DESC LIMIT ?)",
                          q, 9, NULL);
        }
        e = e == ERR_OK ? quota_check(s, tenant_id, mark) : e;
        if (!(e == ERR_OK && exec(s->db, "COMMIT"))) {
            exec(s->db, "ROLLBACK");
            if (e == ERR_OK) {
                e = ERR_IO;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_item_get(store *s, const char *tenant_id, const char *ws, const char *kind,
                   const char *channel, const char *id, store_item *out)
{
    memset(out, 0, sizeof *out);
    sql_param p[5] = {{tenant_id, 0}, {ws, 0}, {kind, 0}};
    int n = 3;
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT " ITEM_COLS " FROM collab_items WHERE tenant_id = ? AND workspace_id = ? AND"
             " kind = ?%s%s ORDER BY seq DESC LIMIT 1",
             channel ? " AND channel_id = ?" : "", id ? " AND id = ?" : "");
    if (channel) {
        p[n++].t = channel;
    }
    if (id) {
        p[n++].t = id;
    }
    pthread_mutex_lock(&s->mu);
    err e = sql_rows(s->db, sql, p, n, item_one, out);
    pthread_mutex_unlock(&s->mu);
    return e;
}

ROW_EACH(item, store_item, item_row, store_item_release)

err store_item_list(store *s, const char *tenant_id, const char *ws, const char *kind,
                    const char *channel, int max, store_item_fn fn, void *ctx)
{
    sql_param p[5] = {{tenant_id, 0}, {ws, 0}, {kind, 0}};
    int n = 3;
    if (channel) {
        p[n++].t = channel;
    }
    p[n++].i = max < 1 ? 1 : max;
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT " ITEM_COLS " FROM collab_items WHERE tenant_id = ? AND workspace_id = ? AND"
             " kind = ?%s ORDER BY seq DESC LIMIT ?",
             channel ? " AND channel_id = ?" : "");
    item_each e = {.fn = fn, .ctx = ctx};
    pthread_mutex_lock(&s->mu);
    err rc = listed(sql_rows(s->db, sql, p, n, item_each_row, &e));
    pthread_mutex_unlock(&s->mu);
    return rc;
}

err store_item_delete(store *s, const char *tenant_id, const char *ws, const char *kind,
                      const char *channel, const char *agent, bool or_to, const char *before,
                      int64_t *deleted)
{
    sql_param p[7] = {{tenant_id, 0}, {ws, 0}, {kind, 0}};
    int n = 3;
    char sql[400];
    snprintf(sql, sizeof sql,
             "DELETE FROM collab_items WHERE tenant_id = ? AND workspace_id = ? AND kind = ?%s%s%s",
             channel ? " AND channel_id = ?" : "",
             agent ? (or_to ? " AND (from_agent = ? OR to_agent = ?)" : " AND from_agent = ?") : "",
             before ? " AND created_at < ?" : "");
    if (channel) {
        p[n++].t = channel;
    }
    if (agent) {
        p[n++].t = agent;
        if (or_to) {
            p[n++].t = agent;
        }
    }
    if (before) {
        p[n++].t = before;
    }
    int64_t changes = 0;
    pthread_mutex_lock(&s->mu);
    err e = sess_exec(s->db, sql, p, n, &changes);
    pthread_mutex_unlock(&s->mu);
    if (deleted) {
        *deleted = e == ERR_OK ? changes : 0;
    }
    return e;
}

/* ---- events (issue 6, EVENTS) ----
 * Appended in batches by the event bus's writer (src/events/events.c) on the writer's
 * connection; read on the main one. Every statement names the tenant. */

#define EV_COLS "id, ts, workspace_id, channel_id, agent_id, kind, summary, refs_json, full_json"

static void ev_row(sqlite3_stmt *st, const char *tenant, store_event *e)
{
    memset(e, 0, offsetof(store_event, refs_json));
    e->id = sqlite3_column_int64(st, 0);
    e->ts_ms = sqlite3_column_int64(st, 1);
    snprintf(e->tenant_id, sizeof e->tenant_id, "%s", tenant);
    col_copy(st, 2, e->workspace_id, sizeof e->workspace_id);
    col_copy(st, 3, e->channel_id, sizeof e->channel_id);
    col_copy(st, 4, e->agent_id, sizeof e->agent_id);
    col_copy(st, 5, e->kind, sizeof e->kind);
    col_copy(st, 6, e->summary, sizeof e->summary);
    e->refs_json = (const char *)sqlite3_column_text(st, 7);
    e->full_json = (const char *)sqlite3_column_text(st, 8);
}

/* hand each row of the prepared st to fn (until it returns false); ERR_IO on a database error */
static err ev_rows(sqlite3 *db, sqlite3_stmt *st, const char *tenant_id, store_event_fn fn,
                   void *ctx)
{
    store_event ev;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev_row(st, tenant_id, &ev);
        if (!fn(&ev, ctx)) {
            return ERR_OK;
        }
    }
    if (rc != SQLITE_DONE) {
        log_error("store: %s", sqlite3_errmsg(db));
        return ERR_IO;
    }
    return ERR_OK;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

err store_event_append(store *s, const store_event *rows, size_t n)
{
    if (n == 0) {
        return ERR_OK;
    }
    pthread_mutex_lock(&s->wmu);
    /* events of a tenant deleted meanwhile are not written (see log_gone) */
    char gone[LOG_GONE_MAX][APIKEY_TENANT_MAX + 1];
    pthread_mutex_lock(&s->log_mu);
    memcpy(gone, s->log_gone, sizeof gone);
    pthread_mutex_unlock(&s->log_mu);
    sqlite3 *db = writer_db(s);
    err e = db ? ERR_OK : ERR_IO;
    sqlite3_stmt *ins = NULL, *seq = NULL;
    if (e == ERR_OK && !exec(db, "BEGIN IMMEDIATE")) {
        e = ERR_IO;
    }
    if (e == ERR_OK) {
        ins = prepare(db, "INSERT OR IGNORE INTO events(tenant_id, " EV_COLS
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        seq = prepare(db, "INSERT INTO event_seq(tenant_id, last_id) VALUES (?, ?) "
                          "ON CONFLICT(tenant_id) DO UPDATE SET last_id = "
                          "max(last_id, excluded.last_id)");
        e = ins && seq ? ERR_OK : ERR_IO;
    }
    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        const store_event *r = &rows[i];
        if (log_is_gone(gone, r->tenant_id)) {
            continue;
        }
        sqlite3_reset(ins);
        bind_text(ins, 1, r->tenant_id);
        sqlite3_bind_int64(ins, 2, r->id);
        sqlite3_bind_int64(ins, 3, r->ts_ms);
        bind_opt(ins, 4, r->workspace_id);
        bind_text(ins, 5, r->channel_id);
        bind_opt(ins, 6, r->agent_id);
        bind_text(ins, 7, r->kind);
        bind_text(ins, 8, r->summary);
        bind_text(ins, 9, r->refs_json);
        bind_text(ins, 10, r->full_json);
        e = step_done(db, ins);
        if (e == ERR_OK) {
            sqlite3_reset(seq);
            bind_text(seq, 1, r->tenant_id);
            sqlite3_bind_int64(seq, 2, r->id);
            e = step_done(db, seq);
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(seq);
    if (db && e == ERR_OK && !exec(db, "COMMIT")) {
        e = ERR_IO;
    }
    if (db && e != ERR_OK) {
        (void)exec(db, "ROLLBACK");
    }
    pthread_mutex_unlock(&s->wmu);
    return e;
}

err store_event_bounds(store *s, const char *tenant_id, int64_t *last_id, int64_t *oldest_id)
{
    *last_id = 0;
    *oldest_id = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(s->db, "SELECT (SELECT last_id FROM event_seq WHERE tenant_id = ?1),"
                                      " (SELECT max(id) FROM events WHERE tenant_id = ?1),"
                                      " (SELECT min(id) FROM events WHERE tenant_id = ?1)");
    err e = st ? ERR_OK : ERR_IO;
    if (st) {
        bind_text(st, 1, tenant_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int64_t a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
            *last_id = a > b ? a : b;
            *oldest_id = sqlite3_column_int64(st, 2);
        } else {
            log_error("store: %s", sqlite3_errmsg(s->db));
            e = ERR_IO;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_event_list(store *s, const store_event_query *q, store_event_fn fn, void *ctx)
{
    if (!q->tenant_id || q->limit < 1 || q->limit > 10000) {
        return ERR_INVALID_ARGUMENTS;
    }
    const char *asc = "SELECT " EV_COLS " FROM events WHERE tenant_id = ?1"
                      " AND (?2 IS NULL OR channel_id = ?2) AND (?3 IS NULL OR workspace_id = ?3)"
                      " AND (?4 IS NULL OR kind = ?4) AND (?7 IS NULL OR agent_id = ?7)"
                      " AND id > ?5 ORDER BY id LIMIT ?6";
    const char *newest =
        "SELECT * FROM (SELECT " EV_COLS " FROM events WHERE tenant_id = ?1"
        " AND (?2 IS NULL OR channel_id = ?2) AND (?3 IS NULL OR workspace_id = ?3)"
        " AND (?4 IS NULL OR kind = ?4) AND (?7 IS NULL OR agent_id = ?7) AND id > ?5"
        " ORDER BY id DESC LIMIT ?6)"
        " ORDER BY id";
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(s->db, q->after_id < 0 ? newest : asc);
    err e = st ? ERR_OK : ERR_IO;
    if (st) {
        bind_text(st, 1, q->tenant_id);
        bind_opt(st, 2, q->channel_id);
        bind_opt(st, 3, q->workspace_id);
        bind_opt(st, 4, q->kind);
        sqlite3_bind_int64(st, 5, q->after_id < 0 ? 0 : q->after_id);
        sqlite3_bind_int(st, 6, q->limit);
        bind_opt(st, 7, q->agent_id);
        e = ev_rows(s->db, st, q->tenant_id, fn, ctx);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* q as an FTS5 query of quoted words (letters, digits, '_'; at most 16), joined by AND; false
   when it has none */
static bool ev_word_char(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
           u >= 0x80;
}

static bool ev_fts_query(const char *q, char *out, size_t cap)
{
    size_t o = 0;
    int words = 0;
    for (const char *p = q; *p && words < 16;) {
        while (*p && !ev_word_char(*p)) {
            p++;
        }
        const char *w = p;
        while (*p && ev_word_char(*p)) {
            p++;
        }
        size_t l = (size_t)(p - w);
        if (l == 0) {
            break;
        }
        if (o + l + 4 >= cap) {
            break;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s\"%.*s\"", words ? " " : "", (int)l, w);
        words++;
    }
    out[o] = '\0';
    return words > 0;
}

err store_event_search(store *s, const char *tenant_id, const char *q, int limit, store_event_fn fn,
                       void *ctx)
{
    char fq[1200];
    if (!tenant_id || limit < 1 || limit > 1000) {
        return ERR_INVALID_ARGUMENTS;
    }
    if (!ev_fts_query(q, fq, sizeof fq)) {
        return ERR_OK; /* no word: nothing matches */
    }
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(
        s->db, "SELECT e.id, e.ts, e.workspace_id, e.channel_id, e.agent_id, e.kind,"
               " e.summary, e.refs_json, e.full_json FROM events_fts f"
               " JOIN events e ON e.rowid = f.rowid"
               " WHERE events_fts MATCH ?1 AND e.tenant_id = ?2 ORDER BY e.id DESC LIMIT ?3");
    err e = st ? ERR_OK : ERR_IO;
    if (st) {
        bind_text(st, 1, fq);
        bind_text(st, 2, tenant_id);
        sqlite3_bind_int(st, 3, limit);
        e = ev_rows(s->db, st, tenant_id, fn, ctx);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_event_prune(store *s, int64_t now_ms, int default_days, int max_rows, int64_t *deleted)
{
    *deleted = 0;
    pthread_mutex_lock(&s->wmu);
    sqlite3 *db = writer_db(s);
    err e = db ? ERR_OK : ERR_IO;
    /* each tenant with rows (at most 64 a pass; the next pass continues) */
    char tenants[64][APIKEY_TENANT_MAX + 1];
    int nt = 0;
    sqlite3_stmt *ls = db ? prepare(db, "SELECT DISTINCT tenant_id FROM events LIMIT 64") : NULL;
    while (ls && nt < 64 && sqlite3_step(ls) == SQLITE_ROW) {
        col_copy(ls, 0, tenants[nt], sizeof tenants[nt]);
        nt++;
    }
    sqlite3_finalize(ls);
    for (int i = 0; e == ERR_OK && i < nt && *deleted < max_rows; i++) {
        int days = default_days;
        sqlite3_stmt *rs = prepare(db, "SELECT json_extract(settings, '$.event_retention_days')"
                                       " FROM tenants WHERE id = ? AND json_valid(settings)");
        if (rs) {
            bind_text(rs, 1, tenants[i]);
            if (sqlite3_step(rs) == SQLITE_ROW && sqlite3_column_type(rs, 0) == SQLITE_INTEGER) {
                int64_t v = sqlite3_column_int64(rs, 0);
                if (v >= STORE_RETENTION_MIN_DAYS && v <= STORE_RETENTION_MAX_DAYS) {
                    days = (int)v;
                }
            }
        }
        sqlite3_finalize(rs);
        sqlite3_stmt *del = prepare(db, "DELETE FROM events WHERE rowid IN (SELECT rowid FROM"
                                        " events WHERE tenant_id = ? AND ts < ? LIMIT ?)");
        if (!del) {
            e = ERR_IO;
            break;
        }
        bind_text(del, 1, tenants[i]);
        sqlite3_bind_int64(del, 2, now_ms - (int64_t)days * 86400000);
        sqlite3_bind_int(del, 3, max_rows - (int)*deleted);
        e = step_done(db, del);
        if (e == ERR_OK) {
            *deleted += sqlite3_changes(db);
        }
        sqlite3_finalize(del);
    }
    pthread_mutex_unlock(&s->wmu);
    return e;
}

/* ---- knowledge: ctx_knowledge's facts and relations (issue 6, KNOWLEDGE) ----
 * All on the calls' connection under mu; a write that reads before it writes runs in one
 * BEGIN IMMEDIATE transaction, so two writers of one key cannot both supersede the same version
 * (the partial unique index would refuse the second current version anyway). */

#define KN_COLS                                                                                    \
    "f.id, f.category, f.key, f.value, f.source, f.imported_from, f.confidence, f.created_at,"     \
    " f.last_confirmed, f.valid_from, f.valid_until, f.last_retrieved, f.supersedes,"              \
    " f.superseded_by, f.retrieval_count, f.feedback_up, f.feedback_down"
#define KN_TOUCH_MAX 10000

static void kn_row(sqlite3_stmt *st, store_fact *f)
{
    f->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, f->category, sizeof f->category);
    col_copy(st, 2, f->key, sizeof f->key);
    const unsigned char *v = sqlite3_column_text(st, 3);
    f->value = v ? (const char *)v : "";
    col_copy(st, 4, f->source, sizeof f->source);
    col_copy(st, 5, f->imported_from, sizeof f->imported_from);
    f->confidence = sqlite3_column_double(st, 6);
    col_copy(st, 7, f->created_at, sizeof f->created_at);
    col_copy(st, 8, f->last_confirmed, sizeof f->last_confirmed);
    col_copy(st, 9, f->valid_from, sizeof f->valid_from);
    col_copy(st, 10, f->valid_until, sizeof f->valid_until);
    col_copy(st, 11, f->last_retrieved, sizeof f->last_retrieved);
    f->supersedes = sqlite3_column_int64(st, 12);
    f->superseded_by = sqlite3_column_int64(st, 13);
    f->retrieval_count = sqlite3_column_int64(st, 14);
    f->feedback_up = sqlite3_column_int64(st, 15);
    f->feedback_down = sqlite3_column_int64(st, 16);
    f->score = 0;
}

static bool kn_text_ok(const char *t, size_t max)
{
    size_t n = t ? strlen(t) : 0;
    return n > 0 && n <= max;
}

/* the current version of category/key into cur (value not kept); false when there is none */
static err kn_current(store *s, const char *tenant, const char *ws, const char *category,
                      const char *key, store_fact *cur)
{
    sqlite3_stmt *st =
        prepare(s->db, "SELECT " KN_COLS " FROM knowledge_facts f"
                       " WHERE f.tenant_id = ? AND f.workspace_id = ?"
                       " AND f.category = ? AND f.key = ? AND f.valid_until IS NULL");
    if (!st) {
        return ERR_IO;
    }
    bind_text(st, 1, tenant);
    bind_text(st, 2, ws);
    bind_text(st, 3, category);
    bind_text(st, 4, key);
    int rc = sqlite3_step(st);
    err e = ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        kn_row(st, cur);
        cur->value = NULL;
        e = ERR_OK;
    } else if (rc != SQLITE_DONE) {
        log_error("store: %s", sqlite3_errmsg(s->db));
        e = ERR_IO;
    }
    sqlite3_finalize(st);
    return e;
}

/* is the current version's value equal to value? */
static bool kn_same_value(store *s, int64_t id, const char *value)
{
    sqlite3_stmt *st = prepare(s->db, "SELECT value = ? FROM knowledge_facts WHERE id = ?");
    bool same = false;
    if (st) {
        bind_text(st, 1, value);
        sqlite3_bind_int64(st, 2, id);
        same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    }
    sqlite3_finalize(st);
    return same;
}

/* insert f as the current version of its key (after the old one was closed) */
static err kn_insert(store *s, const char *tenant, const char *ws, const store_fact *f,
                     int64_t supersedes, const char *now, int64_t *id)
{
    sqlite3_stmt *st = prepare(
        s->db, "INSERT INTO knowledge_facts (tenant_id, workspace_id, category, key, value, source,"
               " imported_from, confidence, created_at, last_confirmed, valid_from, supersedes)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        return ERR_IO;
    }
    bind_text(st, 1, tenant);
    bind_text(st, 2, ws);
    bind_text(st, 3, f->category);
    bind_text(st, 4, f->key);
    bind_text(st, 5, f->value);
    bind_text(st, 6, f->source);
    bind_text(st, 7, f->imported_from[0] ? f->imported_from : NULL);
    sqlite3_bind_double(st, 8, f->confidence);
    bind_text(st, 9, f->created_at[0] ? f->created_at : now);
    bind_text(st, 10, f->last_confirmed[0] ? f->last_confirmed : now);
    bind_text(st, 11, now);
    if (supersedes > 0) {
        sqlite3_bind_int64(st, 12, supersedes);
    } else {
        sqlite3_bind_null(st, 12);
    }
    err e = step_done(s->db, st);
    sqlite3_finalize(st);
    if (e == ERR_OK) {
        *id = sqlite3_last_insert_rowid(s->db);
    }
    return e;
}

/* close version old_id: superseded by new_id (0: not yet known) at now */
static err kn_close(store *s, int64_t old_id, int64_t new_id, const char *now)
{
    sqlite3_stmt *st = prepare(s->db, "UPDATE knowledge_facts SET valid_until = ?,"
                                      " superseded_by = ? WHERE id = ?");
    if (!st) {
        return ERR_IO;
    }
    bind_text(st, 1, now);
    if (new_id > 0) {
        sqlite3_bind_int64(st, 2, new_id);
    } else {
        sqlite3_bind_null(st, 2);
    }
    sqlite3_bind_int64(st, 3, old_id);
    err e = step_done(s->db, st);
    sqlite3_finalize(st);
    return e;
}

static err kn_set_successor(store *s, int64_t old_id, int64_t new_id)
{
    sqlite3_stmt *st = prepare(s->db, "UPDATE knowledge_facts SET superseded_by = ? WHERE id = ?");
    if (!st) {
        return ERR_IO;
    }
    sqlite3_bind_int64(st, 1, new_id);
    sqlite3_bind_int64(st, 2, old_id);
    err e = step_done(s->db, st);
    sqlite3_finalize(st);
    return e;
}

/* supersede cur (may be absent: cur_ok false) with f; under mu, inside a transaction */
static err kn_replace(store *s, const char *tenant, const char *ws, const store_fact *f,
                      const store_fact *cur, bool cur_ok, const char *now, store_kn_write *res)
{
    err e = ERR_OK;
    if (cur_ok) {
        e = kn_close(s, cur->id, 0, now); /* first: the unique index allows one current */
    }
    int64_t id = 0;
    if (e == ERR_OK) {
        e = kn_insert(s, tenant, ws, f, cur_ok ? cur->id : 0, now, &id);
    }
    if (e == ERR_OK && cur_ok) {
        e = kn_set_successor(s, cur->id, id);
    }
    if (e == ERR_OK) {
        res->outcome = cur_ok ? STORE_KN_SUPERSEDED : STORE_KN_CREATED;
        res->id = id;
    }
    return e;
}

/* a write transaction of the knowledge block, charged to the tenant's quota (QUOTA): *mark
   receives its usage at the start (-1: no quota; NULL: not charged, kn_end then checks
   nothing) */
static bool kn_begin(store *s, const char *tenant, int64_t *mark)
{
    if (!exec(s->db, "BEGIN IMMEDIATE")) {
        return false;
    }
    if (mark) {
        *mark = quota_mark(s, tenant);
    }
    return true;
}

static err kn_end(store *s, const char *tenant, int64_t mark, err e)
{
    if (e == ERR_OK) {
        e = quota_check(s, tenant, mark);
    }
    if (e == ERR_OK && exec(s->db, "COMMIT")) {
        return ERR_OK;
    }
    exec(s->db, "ROLLBACK");
    return e == ERR_OK ? ERR_IO : e;
}

err store_kn_remember(store *s, const char *tenant, const char *ws, const store_fact *f,
                      store_kn_merge merge, store_kn_write *res)
{
    memset(res, 0, sizeof *res);
    if (!kn_text_ok(tenant, APIKEY_TENANT_MAX) || !kn_text_ok(ws, STORE_WS_ID_MAX) ||
        !kn_text_ok(f->category, STORE_KN_CATEGORY_MAX) || !kn_text_ok(f->key, STORE_KN_KEY_MAX) ||
        !kn_text_ok(f->value, STORE_KN_VALUE_MAX) || !kn_text_ok(f->source, STORE_KN_SOURCE_MAX) ||
        !(f->confidence >= 0.0 && f->confidence <= 1.0)) {
        return ERR_INVALID_ARGUMENTS;
    }
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    int64_t mark = -1;
    if (kn_begin(s, tenant, &mark)) {
        store_fact cur;
        e = kn_current(s, tenant, ws, f->category, f->key, &cur);
        bool cur_ok = e == ERR_OK;
        if (cur_ok) {
            res->prev_id = cur.id;
            snprintf(res->prev_source, sizeof res->prev_source, "%s", cur.source);
            snprintf(res->prev_confirmed, sizeof res->prev_confirmed, "%s", cur.last_confirmed);
        }
        if (e == ERR_NOT_FOUND) {
            e = kn_replace(s, tenant, ws, f, &cur, false, now, res);
        } else if (e == ERR_OK && (merge == STORE_KN_SKIP ||
                                   (merge == STORE_KN_NEWER &&
                                    strcmp(f->last_confirmed[0] ? f->last_confirmed : now,
                                           cur.last_confirmed) <= 0))) {
            /* skip: the current version stays; newer: it stays unless f was confirmed later */
            res->outcome = STORE_KN_SKIPPED;
            res->id = cur.id;
        } else if (e == ERR_OK && kn_same_value(s, cur.id, f->value)) {
            sqlite3_stmt *st =
                prepare(s->db, "UPDATE knowledge_facts SET last_confirmed = ?, confidence = ?,"
                               " source = ?, imported_from = ? WHERE id = ?");
            e = ERR_IO;
            if (st) {
                bind_text(st, 1, f->last_confirmed[0] ? f->last_confirmed : now);
                sqlite3_bind_double(st, 2, f->confidence);
                bind_text(st, 3, f->source);
                bind_text(st, 4, f->imported_from[0] ? f->imported_from : NULL);
                sqlite3_bind_int64(st, 5, cur.id);
                e = step_done(s->db, st);
            }
            sqlite3_finalize(st);
            res->outcome = STORE_KN_CONFIRMED;
            res->id = cur.id;
        } else if (e == ERR_OK) {
            store_fact nf = *f;
            /* a new version of a known fact keeps the fact's first creation time */
            if (!nf.created_at[0]) {
                snprintf(nf.created_at, sizeof nf.created_at, "%s", cur.created_at);
            }
            e = kn_replace(s, tenant, ws, &nf, &cur, true, now, res);
        }
        e = kn_end(s, tenant, mark, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* the SQL of a query, with its parameters in order */
typedef struct kn_sql {
    buf sql;
    const char *params[8];
    int n;
} kn_sql;

static void kn_param(kn_sql *q, const char *v)
{
    q->params[q->n++] = v;
}

static void kn_build(kn_sql *k, const char *tenant, const char *ws, const store_kn_query *q)
{
    buf_init(&k->sql, 8192);
    k->n = 0;
    if (q->match) {
        /* CROSS JOIN keeps the text index the outer loop: driven from knowledge_facts (its
           category index looks attractive to the planner) FTS5 would run the whole match once
           per row */
        buf_puts(&k->sql, "SELECT " KN_COLS ", bm25(knowledge_fts, 2.0, 3.0, 1.0)"
                          " * (0.5 + 0.5 * f.confidence) AS score FROM knowledge_fts"
                          " CROSS JOIN knowledge_facts f ON f.id = knowledge_fts.rowid"
                          " WHERE knowledge_fts MATCH ? AND");
        kn_param(k, q->match);
    } else {
        buf_puts(&k->sql, "SELECT " KN_COLS ", 0 AS score FROM knowledge_facts f WHERE");
    }
    buf_puts(&k->sql, " f.tenant_id = ? AND f.workspace_id = ?");
    kn_param(k, tenant);
    kn_param(k, ws);
    if (q->category) {
        buf_puts(&k->sql, " AND f.category = ?");
        kn_param(k, q->category);
    }
    if (q->key) {
        buf_puts(&k->sql, " AND f.key = ?");
        kn_param(k, q->key);
    }
    if (q->history) {
        /* every version */
    } else if (q->as_of) {
        buf_puts(&k->sql,
                 " AND f.valid_from <= ? AND (f.valid_until IS NULL OR f.valid_until > ?)");
        kn_param(k, q->as_of);
        kn_param(k, q->as_of);
    } else {
        buf_puts(&k->sql, " AND f.valid_until IS NULL");
    }
    if (q->min_id > 0) {
        buf_printf(&k->sql, " AND f.id > %" PRId64, q->min_id);
    }
    switch (q->order) {
    case STORE_KN_BY_RANK:
        buf_puts(&k->sql, q->match
                              ? " ORDER BY score, f.id DESC"
                              : " ORDER BY f.confidence DESC, f.last_confirmed DESC, f.id DESC");
        break;
    case STORE_KN_BY_USEFUL:
        buf_puts(&k->sql, " ORDER BY f.confidence * (1.0 / (1.0 + max(0.0, julianday('now') -"
                          " julianday(f.last_confirmed)) / 30.0)) * (1.0 + min(f.retrieval_count,"
                          " 100) / 10.0) DESC, f.id DESC");
        break;
    case STORE_KN_BY_NEWEST: buf_puts(&k->sql, " ORDER BY f.id DESC"); break;
    case STORE_KN_BY_KEY: buf_puts(&k->sql, " ORDER BY f.category, f.key, f.id"); break;
    }
    int limit = q->limit < 1 ? 1 : q->limit > 10000 ? 10000 : q->limit;
    buf_printf(&k->sql, " LIMIT %d", limit);
}

err store_kn_query_run(store *s, const char *tenant, const char *ws, const store_kn_query *q,
                       store_fact_fn fn, void *ctx)
{
    kn_sql k;
    kn_build(&k, tenant, ws, q);
    if (k.sql.failed) {
        buf_release(&k.sql);
        return ERR_INTERNAL;
    }
    int64_t *touched = NULL;
    size_t n_touched = 0;
    if (q->touch) {
        touched = xcalloc(KN_TOUCH_MAX, sizeof *touched);
        if (!touched) {
            buf_release(&k.sql);
            return ERR_NOMEM;
        }
    }
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(s->db, k.sql.ptr);
    err e = st ? ERR_OK : ERR_IO;
    for (int i = 0; st && i < k.n; i++) {
        bind_text(st, i + 1, k.params[i]);
    }
    int rc = SQLITE_DONE;
    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_fact f;
        kn_row(st, &f);
        f.score = sqlite3_column_double(st, 17);
        if (touched && n_touched < KN_TOUCH_MAX) {
            touched[n_touched++] = f.id;
        }
        if (!fn(&f, ctx)) {
            break;
        }
    }
    if (st && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        /* a match expression FTS5 cannot parse ends here too: the caller's input */
        log_debug("store: knowledge query: %s", sqlite3_errmsg(s->db));
        e = (rc & 0xff) == SQLITE_ERROR ? ERR_INVALID_ARGUMENTS : ERR_IO;
    }
    sqlite3_finalize(st);
    if (e == ERR_OK && n_touched > 0) {
        char now[32];
        now_text(now);
        sqlite3_stmt *up = prepare(s->db, "UPDATE knowledge_facts SET retrieval_count ="
                                          " retrieval_count + 1, last_retrieved = ?"
                                          " WHERE id = ? AND tenant_id = ?");
        if (up && kn_begin(s, tenant, NULL)) {
            err te = ERR_OK;
            for (size_t i = 0; i < n_touched && te == ERR_OK; i++) {
                sqlite3_reset(up);
                bind_text(up, 1, now);
                sqlite3_bind_int64(up, 2, touched[i]);
                bind_text(up, 3, tenant);
                te = step_done(s->db, up);
            }
            (void)kn_end(s, tenant, -1, te); /* a lost retrieval count is not the query's failure */
        }
        sqlite3_finalize(up);
    }
    pthread_mutex_unlock(&s->mu);
    xfree(touched);
    buf_release(&k.sql);
    return e;
}

err store_kn_remove(store *s, const char *tenant, const char *ws, const char *category,
                    const char *key, int64_t *removed)
{
    *removed = 0;
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    int64_t mark = -1;
    if (kn_begin(s, tenant, &mark)) {
        store_fact cur;
        e = kn_current(s, tenant, ws, category, key, &cur);
        if (e == ERR_OK) {
            sqlite3_stmt *st = prepare(s->db, "DELETE FROM knowledge_facts WHERE tenant_id = ? AND"
                                              " workspace_id = ? AND category = ? AND key = ?");
            e = ERR_IO;
            if (st) {
                bind_text(st, 1, tenant);
                bind_text(st, 2, ws);
                bind_text(st, 3, category);
                bind_text(st, 4, key);
                e = step_done(s->db, st);
                *removed = sqlite3_changes(s->db);
            }
            sqlite3_finalize(st);
        }
        e = kn_end(s, tenant, mark, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_kn_restore(store *s, const char *tenant, const char *ws, const char *category,
                     const char *key, const char *source, store_kn_write *res)
{
    memset(res, 0, sizeof *res);
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    int64_t mark = -1;
    if (kn_begin(s, tenant, &mark)) {
        store_fact cur;
        err ce = kn_current(s, tenant, ws, category, key, &cur);
        e = ce == ERR_IO ? ERR_IO : ERR_NOT_FOUND;
        sqlite3_stmt *st = ce == ERR_IO ? NULL
                                        : prepare(s->db, "SELECT " KN_COLS " FROM knowledge_facts f"
                                                         " WHERE f.tenant_id = ? AND"
                                                         " f.workspace_id = ? AND f.category = ?"
                                                         " AND f.key = ? AND f.valid_until IS NOT"
                                                         " NULL ORDER BY f.id DESC LIMIT 1");
        if (st) {
            bind_text(st, 1, tenant);
            bind_text(st, 2, ws);
            bind_text(st, 3, category);
            bind_text(st, 4, key);
            if (sqlite3_step(st) == SQLITE_ROW) {
                store_fact old;
                kn_row(st, &old);
                /* the copy outlives the statement: value is the statement's */
                char *value = xstrdup(old.value);
                sqlite3_finalize(st);
                st = NULL;
                if (!value) {
                    e = ERR_NOMEM;
                } else {
                    old.value = value;
                    snprintf(old.source, sizeof old.source, "%s", source);
                    old.last_confirmed[0] = '\0';
                    if (ce == ERR_OK) {
                        res->prev_id = cur.id;
                        snprintf(res->prev_source, sizeof res->prev_source, "%s", cur.source);
                    }
                    e = kn_replace(s, tenant, ws, &old, &cur, ce == ERR_OK, now, res);
                    xfree(value);
                }
            }
        }
        sqlite3_finalize(st);
        e = kn_end(s, tenant, mark, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_kn_feedback(store *s, const char *tenant, const char *ws, const char *category,
                      const char *key, bool up)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(
        s->db, up ? "UPDATE knowledge_facts SET feedback_up = feedback_up + 1 WHERE tenant_id = ?"
                    " AND workspace_id = ? AND category = ? AND key = ? AND valid_until IS NULL"
                  : "UPDATE knowledge_facts SET feedback_down = feedback_down + 1 WHERE"
                    " tenant_id = ? AND workspace_id = ? AND category = ? AND key = ? AND"
                    " valid_until IS NULL");
    err e = ERR_IO;
    if (st) {
        bind_text(st, 1, tenant);
        bind_text(st, 2, ws);
        bind_text(st, 3, category);
        bind_text(st, 4, key);
        e = step_done(s->db, st);
        if (e == ERR_OK && sqlite3_changes(s->db) == 0) {
            e = ERR_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_kn_merge_pair(store *s, const char *tenant, const char *ws, int64_t winner, int64_t loser)
{
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    int64_t mark = -1;
    if (kn_begin(s, tenant, &mark)) {
        sqlite3_stmt *st = prepare(
            s->db, "UPDATE knowledge_facts SET valid_until = ?, superseded_by = ? WHERE id = ?"
                   " AND tenant_id = ? AND workspace_id = ? AND valid_until IS NULL");
        if (st) {
            bind_text(st, 1, now);
            sqlite3_bind_int64(st, 2, winner);
            sqlite3_bind_int64(st, 3, loser);
            bind_text(st, 4, tenant);
            bind_text(st, 5, ws);
            e = step_done(s->db, st);
            if (e == ERR_OK && sqlite3_changes(s->db) == 0) {
                e = ERR_NOT_FOUND;
            }
        }
        sqlite3_finalize(st);
        st = e == ERR_OK ? prepare(s->db, "UPDATE knowledge_facts SET last_confirmed = ?,"
                                          " confidence = max(confidence, (SELECT confidence FROM"
                                          " knowledge_facts WHERE id = ?)) WHERE id = ? AND"
                                          " tenant_id = ? AND workspace_id = ? AND valid_until"
                                          " IS NULL")
                         : NULL;
        if (st) {
            bind_text(st, 1, now);
            sqlite3_bind_int64(st, 2, loser);
            sqlite3_bind_int64(st, 3, winner);
            bind_text(st, 4, tenant);
            bind_text(st, 5, ws);
            e = step_done(s->db, st);
            if (e == ERR_OK && sqlite3_changes(s->db) == 0) {
                e = ERR_NOT_FOUND;
            }
        }
        sqlite3_finalize(st);
        e = kn_end(s, tenant, mark, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_kn_relate(store *s, const char *tenant, const char *ws, const char *from, const char *to,
                    const char *source, bool add)
{
    if (!kn_text_ok(from, STORE_KN_KEY_MAX) || !kn_text_ok(to, STORE_KN_KEY_MAX)) {
        return ERR_INVALID_ARGUMENTS;
    }
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(
        s->db, add ? "INSERT INTO knowledge_relations (tenant_id, workspace_id, from_key, to_key,"
                     " source, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                   : "DELETE FROM knowledge_relations WHERE tenant_id = ? AND workspace_id = ?"
                     " AND from_key = ? AND to_key = ?");
    err e = ERR_IO;
    int64_t mark = -1;
    if (st && kn_begin(s, tenant, &mark)) {
        bind_text(st, 1, tenant);
        bind_text(st, 2, ws);
        bind_text(st, 3, from);
        bind_text(st, 4, to);
        if (add) {
            bind_text(st, 5, source);
            bind_text(st, 6, now);
        }
        e = step_done(s->db, st);
        if (e == ERR_OK && !add && sqlite3_changes(s->db) == 0) {
            e = ERR_NOT_FOUND;
        }
        sqlite3_finalize(st);
        st = NULL;
        e = kn_end(s, tenant, mark, e);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_kn_relations(store *s, const char *tenant, const char *ws, const char *key, int limit,
                       store_kn_rel_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(
        s->db, "SELECT from_key, to_key, source, created_at FROM knowledge_relations"
               " WHERE tenant_id = ?1 AND workspace_id = ?2 AND (from_key = ?3 OR to_key = ?3)"
               " ORDER BY created_at, from_key, to_key LIMIT ?4");
    err e = ERR_IO;
    if (st) {
        bind_text(st, 1, tenant);
        bind_text(st, 2, ws);
        bind_text(st, 3, key);
        sqlite3_bind_int(st, 4, limit);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (!fn((const char *)sqlite3_column_text(st, 0),
                    (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 2),
                    (const char *)sqlite3_column_text(st, 3), ctx)) {
                rc = SQLITE_DONE;
                break;
            }
        }
        e = rc == SQLITE_DONE ? ERR_OK : ERR_IO;
        if (e != ERR_OK) {
            log_error("store: %s", sqlite3_errmsg(s->db));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_kn_categories(store *s, const char *tenant, const char *ws, store_kn_cat_fn fn, void *ctx,
                        int64_t *superseded)
{
    *superseded = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        prepare(s->db, "SELECT category, count(*) FROM knowledge_facts WHERE tenant_id = ? AND"
                       " workspace_id = ? AND valid_until IS NULL GROUP BY category"
                       " ORDER BY category");
    err e = ERR_IO;
    if (st) {
        bind_text(st, 1, tenant);
        bind_text(st, 2, ws);
        int rc;
        bool go = true;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && go) {
            go = fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), ctx);
        }
        e = rc == SQLITE_DONE || rc == SQLITE_ROW ? ERR_OK : ERR_IO;
    }
    sqlite3_finalize(st);
    st = e == ERR_OK ? prepare(s->db, "SELECT count(*) FROM knowledge_facts WHERE tenant_id = ?"
                                      " AND workspace_id = ? AND valid_until IS NOT NULL")
                     : NULL;
    if (st) {
        bind_text(st, 1, tenant);
        bind_text(st, 2, ws);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *superseded = sqlite3_column_int64(st, 0);
        } else {
            e = ERR_IO;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* ---- METRICS (issue 6): request-log usage by agent and tool (ctx_cost) ---- */

typedef struct usage_each {
    store_usage_fn fn;
    void *ctx;
} usage_each;

static bool usage_each_row(sqlite3_stmt *st, void *v)
{
    usage_each *e = v;
    store_usage_row r = {
        .token_id = (const char *)sqlite3_column_text(st, 0),
        .tool = (const char *)sqlite3_column_text(st, 1),
        .calls = sqlite3_column_int64(st, 2),
        .errors = sqlite3_column_int64(st, 3),
        .rate_limited = sqlite3_column_int64(st, 4),
        .duration_ms = sqlite3_column_int64(st, 5),
    };
    if (!r.token_id || !r.tool) {
        return true;
    }
    return e->fn(&r, e->ctx);
}

err store_log_usage(store *s, const char *tenant_id, const char *token_id, int64_t since_ms,
                    int limit, store_usage_fn fn, void *ctx)
{
    if (!tenant_id || limit < 1 || limit > 1000) {
        return ERR_INVALID_ARGUMENTS;
    }
    /* the numbers are formatted in (integers); the texts are bound */
    char sql[640];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(token_id, ''), tool, count(*), sum(status >= 400), "
             "sum(status = 429), sum(duration_ms) FROM request_log "
             "WHERE tenant_id = ?1%s AND ts >= %lld AND tool IS NOT NULL AND tool NOT LIKE '/%%' "
             "GROUP BY token_id, tool ORDER BY count(*) DESC, token_id, tool LIMIT %d",
             token_id ? " AND token_id = ?2" : "", (long long)(since_ms < 0 ? 0 : since_ms), limit);
    usage_each e = {fn, ctx};
    return listed(each_row(s, sql, tenant_id, token_id, usage_each_row, &e));
}

/* ---- artifacts (issue 6, ARTIFACTS) ---- */

#define ART_COLS                                                                                   \
    "id, name, kind, stored, removed, sha, bytes, mtime_ns, updated_at, updated_by,"               \
    " (SELECT count(*) FROM artifact_chunks c WHERE c.artifact_id = artifacts.id)"

void store_art_release(store_art *a)
{
    if (a) {
        xfree(a->body);
        a->body = NULL;
    }
}

static void art_row(sqlite3_stmt *st, store_art *a)
{
    a->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, a->name, sizeof a->name);
    col_copy(st, 2, a->kind, sizeof a->kind);
    a->stored = sqlite3_column_int(st, 3) != 0;
    a->removed = sqlite3_column_int(st, 4) != 0;
    col_copy(st, 5, a->sha, sizeof a->sha);
    a->bytes = sqlite3_column_int64(st, 6);
    a->mtime_ns = sqlite3_column_int64(st, 7);
    col_copy(st, 8, a->updated_at, sizeof a->updated_at);
    col_copy(st, 9, a->updated_by, sizeof a->updated_by);
    a->chunks = sqlite3_column_int64(st, 10);
    a->body = NULL;
}

/* a lookup: the row, with the body (column 11) of a stored artifact */
static bool art_one(sqlite3_stmt *st, void *out)
{
    store_art *a = out;
    art_row(st, a);
    const unsigned char *b = sqlite3_column_text(st, 11);
    a->body = a->stored && b ? xstrdup((const char *)b) : NULL;
    return false;
}

ROW_EACH(art, store_art, art_row, NO_RELEASE)

static bool int_one(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(st, 0);
    return false;
}

/* end a transaction of the artifacts block (under mu): commit when e is ERR_OK */
static err art_commit(store *s, err e)
{
    if (e == ERR_OK && exec(s->db, "COMMIT")) {
        return ERR_OK;
    }
    exec(s->db, "ROLLBACK");
    return e == ERR_OK ? ERR_IO : e;
}

static err art_put_locked(store *s, const char *tenant, const char *ws, const store_art *a,
                          const char *body, const store_art_chunk *c, size_t n, const char *now)
{
    const sql_param key[] = {{tenant, 0}, {ws, 0}, {a->name, 0}};
    int64_t stored = -1;
    err e = sql_rows(s->db,
                     "SELECT stored FROM artifacts WHERE tenant_id = ? AND workspace_id = ? AND"
                     " name = ?",
                     key, 3, int_one, &stored);
    if (e == ERR_NOT_FOUND) {
        int64_t count = 0;
        e = sql_rows(s->db,
                     "SELECT count(*) FROM artifacts WHERE tenant_id = ? AND workspace_id = ?", key,
                     2, int_one, &count);
        e = e == ERR_OK && count >= STORE_ART_PER_WS ? ERR_LIMIT : e;
    } else if (e == ERR_OK && (stored != 0) != a->stored) {
        e = ERR_CONFLICT;
    }
    if (e != ERR_OK) {
        return e;
    }
    const sql_param p[] = {
        {tenant, 0}, {ws, 0},          {a->name, 0},        {a->kind, 0}, {NULL, a->stored},
        {a->sha, 0}, {NULL, a->bytes}, {NULL, a->mtime_ns}, {now, 0},     {a->updated_by, 0}};
    sqlite3_stmt *st = prepare(
        s->db, "INSERT INTO artifacts (tenant_id, workspace_id, name, kind, stored, sha, bytes,"
               " mtime_ns, updated_at, updated_by, removed, body)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
               " ON CONFLICT (tenant_id, workspace_id, name) DO UPDATE SET kind = excluded.kind,"
               " sha = excluded.sha, bytes = excluded.bytes, mtime_ns = excluded.mtime_ns,"
               " updated_at = excluded.updated_at, updated_by = excluded.updated_by,"
               " removed = 0, body = excluded.body RETURNING id");
    if (!st) {
        return ERR_IO;
    }
    sql_bind(st, p, 10);
    bind_text(st, 11, body);
    int64_t id = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
    }
    if (sqlite3_step(st) != SQLITE_DONE || id < 0) {
        log_error("store: %s", sqlite3_errmsg(s->db));
        e = ERR_IO;
    }
    sqlite3_finalize(st);
    const sql_param idp[] = {{NULL, id}};
    if (e == ERR_OK) {
        e = listed(sql_rows(s->db, "DELETE FROM artifact_chunks WHERE artifact_id = ?", idp, 1,
                            NULL, NULL));
    }
    st = e == ERR_OK ? prepare(s->db, "INSERT INTO artifact_chunks (artifact_id, tenant_id,"
                                      " workspace_id, start_line, end_line, heading, text, tokens)"
                                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                     : NULL;
    for (size_t i = 0; st && e == ERR_OK && i < n; i++) {
        const sql_param cp[] = {{NULL, id},
                                {tenant, 0},
                                {ws, 0},
                                {NULL, c[i].start_line},
                                {NULL, c[i].end_line},
                                {c[i].heading, 0},
                                {c[i].text, 0},
                                {c[i].tokens, 0}};
        sqlite3_reset(st);
        sql_bind(st, cp, 8);
        e = step_done(s->db, st);
    }
    sqlite3_finalize(st);
    return e == ERR_OK && n > 0 && !st ? ERR_IO : e;
}

err store_art_put(store *s, const char *tenant, const char *ws, const store_art *a,
                  const char *body, const store_art_chunk *c, size_t n)
{
    if (n > STORE_ART_CHUNKS_MAX || (body && strlen(body) > STORE_ART_BODY_MAX) || !a->name[0] ||
        !a->kind[0]) {
        return ERR_INVALID_ARGUMENTS;
    }
    char now[32];
    now_text(now);
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        int64_t mark = quota_mark(s, tenant);
        e = art_put_locked(s, tenant, ws, a, body, c, n, now);
        e = art_commit(s, e == ERR_OK ? quota_check(s, tenant, mark) : e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* one statement that changes rows of the workspace's artifacts; ERR_NOT_FOUND when none */
static err art_change(store *s, const char *sql, const sql_param *p, int n)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prepare(s->db, sql);
    err e = ERR_IO;
    if (st) {
        sql_bind(st, p, n);
        e = step_done(s->db, st);
        if (e == ERR_OK && sqlite3_changes(s->db) == 0) {
            e = ERR_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_art_touch(store *s, const char *tenant, const char *ws, const char *name,
                    int64_t mtime_ns)
{
    const sql_param p[] = {{NULL, mtime_ns}, {tenant, 0}, {ws, 0}, {name, 0}};
    return art_change(s,
                      "UPDATE artifacts SET mtime_ns = ? WHERE tenant_id = ? AND workspace_id = ?"
                      " AND name = ? AND stored = 0",
                      p, 4);
}

err store_art_list(store *s, const char *tenant, const char *ws, bool with_removed, store_art_fn fn,
                   void *ctx)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}, {NULL, with_removed ? 1 : 0}};
    art_each e = {.fn = fn, .ctx = ctx};
    pthread_mutex_lock(&s->mu);
    err rc = listed(sql_rows(s->db,
                             "SELECT " ART_COLS " FROM artifacts WHERE tenant_id = ? AND"
                             " workspace_id = ? AND (removed = 0 OR ?) ORDER BY name",
                             p, 3, art_each_row, &e));
    pthread_mutex_unlock(&s->mu);
    return rc;
}

err store_art_get(store *s, const char *tenant, const char *ws, const char *name, store_art *out)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}, {name, 0}};
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    err rc = sql_rows(s->db,
                      "SELECT " ART_COLS ", body FROM artifacts WHERE tenant_id = ? AND"
                      " workspace_id = ? AND name = ?",
                      p, 3, art_one, out);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

err store_art_latest(store *s, const char *tenant, const char *ws, const char *kind, const char *by,
                     store_art *out)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}, {kind, 0}, {by ? by : "", 0}};
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    err rc = sql_rows(s->db,
                      "SELECT " ART_COLS ", body FROM artifacts WHERE tenant_id = ?1 AND"
                      " workspace_id = ?2 AND kind = ?3 AND stored = 1 AND"
                      " (?4 = '' OR updated_by = ?4) ORDER BY updated_at DESC, id DESC LIMIT 1",
                      p, 4, art_one, out);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

err store_art_remove(store *s, const char *tenant, const char *ws, const char *name, bool *stored)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}, {name, 0}};
    pthread_mutex_lock(&s->mu);
    err e = ERR_IO;
    if (exec(s->db, "BEGIN IMMEDIATE")) {
        store_art a = {0};
        e = sql_rows(s->db,
                     "SELECT " ART_COLS ", NULL FROM artifacts WHERE tenant_id = ? AND"
                     " workspace_id = ? AND name = ? AND removed = 0",
                     p, 3, art_one, &a);
        const sql_param idp[] = {{NULL, a.id}};
        if (e == ERR_OK && a.stored) {
            e = listed(sql_rows(s->db, "DELETE FROM artifacts WHERE id = ?", idp, 1, NULL, NULL));
        } else if (e == ERR_OK) {
            e = listed(sql_rows(s->db, "DELETE FROM artifact_chunks WHERE artifact_id = ?", idp, 1,
                                NULL, NULL));
            e = e == ERR_OK
                    ? listed(sql_rows(s->db, "UPDATE artifacts SET removed = 1 WHERE id = ?", idp,
                                      1, NULL, NULL))
                    : e;
        }
        if (stored) {
            *stored = a.stored;
        }
        e = art_commit(s, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

err store_art_forget(store *s, const char *tenant, const char *ws, const char *name)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}, {name, 0}};
    return art_change(s,
                      "DELETE FROM artifacts WHERE tenant_id = ? AND workspace_id = ? AND name = ?"
                      " AND stored = 0",
                      p, 3);
}

err store_art_reset_files(store *s, const char *tenant, const char *ws)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}};
    err e = art_change(s,
                       "DELETE FROM artifacts WHERE tenant_id = ? AND workspace_id = ? AND"
                       " stored = 0",
                       p, 2);
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

static bool art_state_row(sqlite3_stmt *st, void *out)
{
    store_art_state *o = out;
    o->files = sqlite3_column_int64(st, 0);
    o->stored = sqlite3_column_int64(st, 1);
    o->removed = sqlite3_column_int64(st, 2);
    o->bytes = sqlite3_column_int64(st, 3);
    o->chunks = sqlite3_column_int64(st, 4);
    col_copy(st, 5, o->indexed_at, sizeof o->indexed_at);
    col_copy(st, 6, o->indexed_by, sizeof o->indexed_by);
    return false;
}

err store_art_state_get(store *s, const char *tenant, const char *ws, store_art_state *out)
{
    const sql_param p[] = {{tenant, 0}, {ws, 0}};
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    err rc = sql_rows(
        s->db,
        "SELECT coalesce(sum(stored = 0 AND removed = 0), 0), coalesce(sum(stored), 0),"
        " coalesce(sum(removed), 0), coalesce(sum(CASE WHEN removed = 0 THEN bytes END), 0),"
        " (SELECT count(*) FROM artifact_chunks WHERE tenant_id = ?1 AND workspace_id = ?2),"
        " (SELECT indexed_at FROM artifact_state WHERE tenant_id = ?1 AND workspace_id = ?2),"
        " (SELECT indexed_by FROM artifact_state WHERE tenant_id = ?1 AND workspace_id = ?2)"
        " FROM artifacts WHERE tenant_id = ?1 AND workspace_id = ?2",
        p, 2, art_state_row, out);
    pthread_mutex_unlock(&s->mu);
    return listed(rc);
}

err store_art_mark_indexed(store *s, const char *tenant, const char *ws, const char *by)
{
    char now[32];
    now_text(now);
    const sql_param p[] = {{tenant, 0}, {ws, 0}, {now, 0}, {by, 0}};
    return art_change(s,
                      "INSERT INTO artifact_state (tenant_id, workspace_id, indexed_at, indexed_by)"
                      " VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, workspace_id) DO UPDATE SET"
                      " indexed_at = excluded.indexed_at, indexed_by = excluded.indexed_by",
                      p, 4);
}

typedef struct art_hits {
    store_art_hit_fn fn;
    void *ctx;
} art_hits;

static bool art_hit_row(sqlite3_stmt *st, void *v)
{
    art_hits *h = v;
    const unsigned char *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = sqlite3_column_text(st, i);
    }
    store_art_hit hit = {.name = t[0] ? (const char *)t[0] : "",
                         .kind = t[1] ? (const char *)t[1] : "",
                         .heading = t[2] ? (const char *)t[2] : "",
                         .text = t[3] ? (const char *)t[3] : "",
                         .start_line = sqlite3_column_int64(st, 4),
                         .end_line = sqlite3_column_int64(st, 5),
                         .score = sqlite3_column_double(st, 6)};
    return h->fn(&hit, h->ctx);
}

err store_art_search(store *s, const char *tenant, const char *ws, const char *match, int limit,
                     store_art_hit_fn fn, void *ctx)
{
    const sql_param p[] = {{match, 0}, {tenant, 0}, {ws, 0}, {NULL, limit < 1 ? 1 : limit}};
    art_hits h = {fn, ctx};
    pthread_mutex_lock(&s->mu);
    err rc = listed(sql_rows(
        s->db,
        "SELECT a.name, a.kind, c.heading, c.text, c.start_line, c.end_line,"
        " -bm25(artifact_fts) FROM artifact_fts JOIN artifact_chunks c ON c.id = artifact_fts.rowid"
        " JOIN artifacts a ON a.id = c.artifact_id WHERE artifact_fts MATCH ? AND c.tenant_id = ?"
        " AND c.workspace_id = ? AND a.removed = 0 ORDER BY rank, a.name, c.start_line LIMIT ?",
        p, 4, art_hit_row, &h));
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* store.c - the index database of one workspace: path, open, schema and migrations, lease, meta.
 *
 * Migrations are a list of SQL steps: step i (0-based) takes a database from schema version i
 * to i + 1, each in its own transaction together with the new schema_version, so a crash leaves
 * a database at some whole version. A database whose schema_version is newer than the binary's
 * is refused before anything is written to it. The files are created 0600 in 0700 directories
 * (SQLite gives the -wal and -shm files the database's mode). */
#include "index/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const migrations[IX_SCHEMA_VERSION] = {
    /* 0 -> 1: the schema of index.h */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, lang TEXT,"
    " backend TEXT, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER,"
    " hash TEXT NOT NULL, lines INTEGER NOT NULL, status TEXT NOT NULL,"
    " n_symbols INTEGER NOT NULL);"
    "CREATE TABLE symbols(id INTEGER PRIMARY KEY,"
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE, parent_id INTEGER,"
    " name TEXT NOT NULL, qname TEXT NOT NULL, kind TEXT NOT NULL, start_line INTEGER,"
    " end_line INTEGER, start_byte INTEGER, end_byte INTEGER, signature TEXT NOT NULL,"
    " params TEXT, ret TEXT, is_async INTEGER NOT NULL, exported INTEGER NOT NULL,"
    " backend TEXT NOT NULL);"
    "CREATE INDEX symbols_name ON symbols(name);"
    "CREATE INDEX symbols_file ON symbols(file_id, start_line);"
    "CREATE TABLE imports(file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " line INTEGER, source TEXT NOT NULL,"
    " resolved_id INTEGER REFERENCES files(id) ON DELETE SET NULL);"
    "CREATE INDEX imports_file ON imports(file_id);"
    "CREATE INDEX imports_resolved ON imports(resolved_id);"
    "CREATE TABLE calls(file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " caller_id INTEGER, callee TEXT NOT NULL, line INTEGER);"
    "CREATE INDEX calls_callee ON calls(callee);"
    "CREATE INDEX calls_caller ON calls(caller_id);"
    "CREATE INDEX calls_file ON calls(file_id);"
    "CREATE TABLE routes(file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " method TEXT, path TEXT, handler TEXT, line INTEGER, framework TEXT);"
    "CREATE INDEX routes_file ON routes(file_id);"
    "CREATE TABLE chunks(id INTEGER PRIMARY KEY,"
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE, symbol_id INTEGER,"
    " start_line INTEGER, end_line INTEGER, ntok INTEGER, tok BLOB);"
    "CREATE INDEX chunks_file ON chunks(file_id);"
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content = '',"
    " tokenize = \"unicode61 tokenchars '_'\");",
    /* 1 -> 2: callers of a name by calling file, in line order, without reading the table rows
       (ctx_callgraph counts per file and reads only the sites it prints); it serves every
       lookup by callee, so the old index on (callee) alone goes */
    "CREATE INDEX IF NOT EXISTS calls_callee_file ON calls(callee, file_id, line);"
    "DROP INDEX IF EXISTS calls_callee;",
};

/* The secondary indexes of the big tables, as the migrations create them. A first build drops
 * them and creates them at its end: one sort per index instead of millions of inserts at random
 * places of B-trees larger than the page cache (the kernel: most of the writer's time). */
static const char *const deferred[][2] = {
    {"symbols_name", "CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name)"},
    {"symbols_file", "CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id, start_line)"},
    {"calls_callee_file",
     "CREATE INDEX IF NOT EXISTS calls_callee_file ON calls(callee, file_id, line)"},
    {"calls_caller", "CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller_id)"},
    {"calls_file", "CREATE INDEX IF NOT EXISTS calls_file ON calls(file_id)"},
    {"chunks_file", "CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id)"},
};

bool ix_indexes_drop(sqlite3 *db)
{
    bool ok = true;
    for (size_t i = 0; i < sizeof deferred / sizeof *deferred; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s", deferred[i][0]);
        ok &= ix_exec(db, sql);
    }
    return ok;
}

bool ix_indexes_create(sqlite3 *db)
{
    bool ok = true;
    for (size_t i = 0; i < sizeof deferred / sizeof *deferred; i++) {
        ok &= ix_exec(db, deferred[i][1]);
    }
    return ok;
}

bool ix_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return false;
    }
    return true;
}

static char data_dir_fixed[4096];

void ix_set_data_dir(const char *dir)
{
    snprintf(data_dir_fixed, sizeof data_dir_fixed, "%s", dir ? dir : "");
}

bool ix_db_path(const config *c, const cfg_workspace *ws, char *out, size_t cap)
{
    const char *dd = data_dir_fixed[0] ? data_dir_fixed : c->data_dir;
    int n = snprintf(out, cap, "%s/index/%s/%s.db", dd, ws->tenant, ws->id);
    return n > 0 && (size_t)n < cap;
}

bool ix_tenant_dir(const config *c, const char *tenant, char *out, size_t cap)
{
    if (!tenant[0] || tenant[0] == '.' || strchr(tenant, '/')) {
        return false;
    }
    const char *dd = data_dir_fixed[0] ? data_dir_fixed : c->data_dir;
    int n = snprintf(out, cap, "%s/index/%s", dd, tenant);
    return n > 0 && (size_t)n < cap;
}

/* mkdir -p of the directory part of path, 0700 */
static bool make_parent_dirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return false;
    }
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) {
        return true;
    }
    *slash = '\0';
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

static int64_t schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    /* a database without a meta table is at version 0 (new) */
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) != SQLITE_OK) {
        return 0;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        v = t ? strtoll(t, NULL, 10) : 0;
    }
    sqlite3_finalize(st);
    return v;
}

static void set_pragmas(sqlite3 *db)
{
    sqlite3_busy_timeout(db, 5000);
    /* closing the last connection would checkpoint the whole WAL (and fsync): a one-file update
       must not pay for that; SQLite's automatic checkpoints keep the WAL bounded */
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    ix_exec(db, "PRAGMA foreign_keys = ON");
    ix_exec(db, "PRAGMA synchronous = NORMAL");
    ix_exec(db, "PRAGMA temp_store = MEMORY");
    ix_exec(db, "PRAGMA cache_size = -16000"); /* 16 MB per connection */
}

sqlite3 *ix_db_open_rw(const char *path, char *why, size_t why_len)
{
    if (!make_parent_dirs(path)) {
        snprintf(why, why_len, "cannot create the directory of '%s': %s", path, strerror(errno));
        return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    close(fd);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(why, why_len, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    set_pragmas(db);
    int64_t v = schema_version(db);
    if (v > IX_SCHEMA_VERSION) {
        snprintf(why, why_len,
                 "index database '%s' has schema version %" PRId64
                 ", newer than this binary's (%d): run a newer ctxd or remove the file",
                 path, v, IX_SCHEMA_VERSION);
        sqlite3_close(db);
        return NULL;
    }
    if (!ix_exec(db, "PRAGMA journal_mode = WAL")) {
        snprintf(why, why_len, "cannot use WAL on '%s': %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    for (int64_t i = v; i < IX_SCHEMA_VERSION; i++) {
        char ver[32];
        snprintf(ver, sizeof ver, "%" PRId64, i + 1);
        bool ok = ix_exec(db, "BEGIN IMMEDIATE") && ix_exec(db, migrations[i]);
        if (ok) {
            sqlite3_stmt *st = NULL;
            ok = sqlite3_prepare_v2(db,
                                    "INSERT OR REPLACE INTO meta(key, value) VALUES "
                                    "('schema_version', ?)",
                                    -1, &st, NULL) == SQLITE_OK &&
                 sqlite3_bind_text(st, 1, ver, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
                 sqlite3_step(st) == SQLITE_DONE;
            sqlite3_finalize(st);
        }
        if (!ok || !ix_exec(db, "COMMIT")) {
            snprintf(why, why_len, "cannot migrate '%s' to schema version %s: %s", path, ver,
                     sqlite3_errmsg(db));
            ix_exec(db, "ROLLBACK");
            sqlite3_close(db);
            return NULL;
        }
    }
    /* a first build that stopped before its end (a crash, a shutdown) left them out */
    ix_indexes_create(db);
    return db;
}

sqlite3 *ix_db_open_ro(const char *path, char *why, size_t why_len)
{
    why[0] = '\0';
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_size == 0) {
        return NULL;
    }
    sqlite3 *db = NULL;
    /* read-write at the file level (WAL readers need the -shm), read-only at the SQL level */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(why, why_len, "cannot open the index: %s", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    ix_exec(db, "PRAGMA query_only = ON");
    ix_exec(db, "PRAGMA cache_size = -8000");
    int64_t v = schema_version(db);
    if (v != IX_SCHEMA_VERSION) {
        if (v > IX_SCHEMA_VERSION) {
            snprintf(why, why_len,
                     "the index has schema version %" PRId64 ", newer than this "
                     "server's (%d)",
                     v, IX_SCHEMA_VERSION);
        }
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int ix_lease_acquire(const char *db_path, bool wait, const atomic_bool *cancel, char *why,
                     size_t why_len)
{
    char lock[4200];
    if (snprintf(lock, sizeof lock, "%s.lock", db_path) >= (int)sizeof lock ||
        !make_parent_dirs(lock)) {
        snprintf(why, why_len, "cannot create the lock of '%s'", db_path);
        return -1;
    }
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open '%s': %s", lock, strerror(errno));
        return -1;
    }
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            /* the holder's pid, for whoever waits (diagnostics only) */
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
                /* best effort */
            }
            return fd;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(why, why_len, "cannot lock '%s': %s", lock, strerror(errno));
            break;
        }
        if (!wait) {
            snprintf(why, why_len, "another process is building this index");
            break;
        }
        if (cancel && atomic_load(cancel)) {
            snprintf(why, why_len, "cancelled");
            break;
        }
        usleep(100000);
    }
    close(fd);
    return -1;
}

void ix_lease_release(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

bool ix_meta_text(sqlite3 *db, const char *key, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (cap) {
        out[0] = '\0';
    }
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        return false;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t ? t : "");
        found = true;
    }
    sqlite3_finalize(st);
    return found;
}

int64_t ix_meta_int(sqlite3 *db, const char *key, int64_t def)
{
    char v[32];
    if (!ix_meta_text(db, key, v, sizeof v)) {
        return def;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    return end == v ? def : (int64_t)n;
}

bool ix_meta_set_text(sqlite3 *db, const char *key, const char *v)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1, &st,
                           NULL) != SQLITE_OK) {
        return false;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

bool ix_meta_set_int(sqlite3 *db, const char *key, int64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    return ix_meta_set_text(db, key, t);
}

int64_t ix_storage_bytes(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t r = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT page_count * page_size FROM pragma_page_count(), "
                           "pragma_page_size()",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        r = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return r;
}

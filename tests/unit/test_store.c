/* test_store.c - the store on SQLite (store.h): migrations at open (WAL, user_version, the
 * tenant `local`), refusal of a newer schema with nothing touched, tenants and keys CRUD, the
 * tenant filter on every tenant-owned row, no caching across handles, batched last_used_at. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

static char dir[64];

static void init(void)
{
    snprintf(dir, sizeof dir, "/tmp/ctxd-store-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void fini(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        abort();
    }
}

TestSuite(store, .init = init, .fini = fini, .timeout = 30);

static store *open_ok(void)
{
    store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), ERR_OK, "%s", why);
    cr_assert_not_null(s);
    return s;
}

static char *db_path(void)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/ctxd.db", dir);
    return p;
}

/* the first column of the first row of sql on the database file, as text (static) */
static const char *sql_text(const char *sql)
{
    static char out[256];
    out[0] = '\0';
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void tenant(store *s, const char *id)
{
    store_tenant t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.name, sizeof t.name, "Tenant %s", id);
    t.storage_quota_bytes = -1;
    cr_assert_eq(store_tenant_create(s, &t), ERR_OK, "%s", id);
}

/* a key row for tenant with a made-up hash and prefix suffix */
static store_key key(const char *tenant_id, char c)
{
    store_key k;
    memset(&k, 0, sizeof k);
    memset(k.key_hash, c, 64);
    snprintf(k.key_prefix, sizeof k.key_prefix, "ctxd_live_%s_%c%c%c%c%c%c%c%c", tenant_id, c, c, c,
             c, c, c, c, c);
    snprintf(k.tenant_id, sizeof k.tenant_id, "%s", tenant_id);
    k.scopes = SCOPE_SEARCH | SCOPE_GRAPH;
    return k;
}

Test(store, fresh_open_migrates_with_wal_and_local_tenant)
{
    store *s = open_ok();
    store_tenant t;
    cr_assert_eq(store_tenant_get(s, "local", &t), ERR_OK);
    cr_assert_str_eq(t.id, "local");
    cr_assert_eq(t.storage_quota_bytes, -1);
    cr_assert_str_eq(t.rate_limit_tier, "default");
    cr_assert_str_eq(t.settings, "{}");
    cr_assert_eq(strlen(t.created_at), 24, "%s", t.created_at);
    store_close(s);
    char want[16];
    snprintf(want, sizeof want, "%d", store_schema_version());
    cr_assert_geq(store_schema_version(), 1);
    cr_assert_str_eq(sql_text("PRAGMA user_version"), want);
    cr_assert_str_eq(sql_text("PRAGMA journal_mode"), "wal");
    cr_assert_str_eq(sql_text("SELECT name FROM sqlite_master WHERE name = "
                              "'request_log_tenant_ts'"),
                     "request_log_tenant_ts");
    struct stat sb;
    cr_assert_eq(stat(db_path(), &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", sb.st_mode & 0777);
    /* a second open migrates nothing and keeps the data */
    s = open_ok();
    cr_assert_eq(store_tenant_get(s, "local", &t), ERR_OK);
    store_close(s);
    cr_assert_str_eq(sql_text("SELECT count(*) FROM tenants"), "1");
}

Test(store, newer_schema_is_refused_untouched)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(db_path(), &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE future(x); INSERT INTO future VALUES (1);"
                              "PRAGMA user_version = 99",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    struct stat before, after;
    cr_assert_eq(stat(db_path(), &before), 0);
    char *orig = NULL;
    {
        FILE *f = fopen(db_path(), "rb");
        orig = malloc((size_t)before.st_size);
        cr_assert_eq(fread(orig, 1, (size_t)before.st_size, f), (size_t)before.st_size);
        fclose(f);
    }
    store *s = (store *)1;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), ERR_CONFLICT);
    cr_assert_null(s);
    cr_assert(strstr(why, "newer") && strstr(why, "99") && strstr(why, "ctxd.db"), "%s", why);
    cr_assert_eq(stat(db_path(), &after), 0);
    cr_assert_eq(after.st_size, before.st_size);
    FILE *f = fopen(db_path(), "rb");
    char *now = malloc((size_t)after.st_size);
    cr_assert_eq(fread(now, 1, (size_t)after.st_size, f), (size_t)after.st_size);
    fclose(f);
    cr_assert_eq(memcmp(orig, now, (size_t)after.st_size), 0, "the file changed");
    free(orig);
    free(now);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", db_path());
    cr_assert_neq(access(wal, F_OK), 0, "a WAL file was created");
    cr_assert_str_eq(sql_text("PRAGMA journal_mode"), "delete");
    cr_assert_str_eq(sql_text("PRAGMA user_version"), "99");
}

Test(store, not_a_database_is_refused)
{
    FILE *f = fopen(db_path(), "w");
    fputs("this is not sqlite, and it is long enough to be read as a header by sqlite......\n", f);
    fclose(f);
    store *s = NULL;
    char why[512] = "";
    cr_assert_neq(store_open(dir, &s, why, sizeof why), ERR_OK);
    cr_assert_null(s);
    cr_assert(strstr(why, "ctxd.db"), "%s", why);
}

static bool collect_ids(const store_tenant *t, void *ctx)
{
    char *out = ctx;
    strcat(out, t->id);
    strcat(out, " ");
    return true;
}

Test(store, tenants_crud)
{
    store *s = open_ok();
    store_tenant t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "acme");
    snprintf(t.name, sizeof t.name, "Acme Inc.");
    t.storage_quota_bytes = 1000000;
    snprintf(t.rate_limit_tier, sizeof t.rate_limit_tier, "pro");
    cr_assert_eq(store_tenant_create(s, &t), ERR_OK);
    cr_assert_eq(store_tenant_create(s, &t), ERR_CONFLICT);
    tenant(s, "beta-2");
    const char *bad[] = {"Acme", "a_b", "-x", "", "a b", "a.b", "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_tenant b;
        memset(&b, 0, sizeof b);
        snprintf(b.id, sizeof b.id, "%s", bad[i]);
        cr_assert_eq(store_tenant_create(s, &b), ERR_INVALID_ARGUMENTS, "'%s'", bad[i]);
    }
    store_tenant got;
    cr_assert_eq(store_tenant_get(s, "acme", &got), ERR_OK);
    cr_assert_str_eq(got.name, "Acme Inc.");
    cr_assert_eq(got.storage_quota_bytes, 1000000);
    cr_assert_eq(got.storage_used_bytes, 0);
    cr_assert_str_eq(got.rate_limit_tier, "pro");
    cr_assert_eq(store_tenant_get(s, "nope", &got), ERR_NOT_FOUND);
    char ids[256] = "";
    cr_assert_eq(store_tenant_list(s, collect_ids, ids), ERR_OK);
    cr_assert_str_eq(ids, "acme beta-2 local ");
    cr_assert_eq(store_tenant_delete(s, "local"), ERR_CONFLICT);
    cr_assert_eq(store_tenant_delete(s, "nope"), ERR_NOT_FOUND);
    cr_assert_eq(store_tenant_delete(s, "acme"), ERR_OK);
    cr_assert_eq(store_tenant_get(s, "acme", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_tenant_delete(s, "acme"), ERR_NOT_FOUND);
    ids[0] = '\0';
    cr_assert_eq(store_tenant_list(s, collect_ids, ids), ERR_OK);
    cr_assert_str_eq(ids, "beta-2 local ");
    store_close(s);
}

static bool collect_prefixes(const store_key *k, void *ctx)
{
    char *out = ctx;
    strcat(out, k->key_prefix);
    strcat(out, k->revoked_at[0] ? "(r) " : " ");
    return true;
}

Test(store, keys_crud_and_tenant_filter)
{
    store *s = open_ok();
    tenant(s, "a");
    tenant(s, "b");
    store_key ka = key("a", 'x'), kb = key("b", 'y');
    store_key ghost = key("ghost", 'z');
    cr_assert_eq(store_key_create(s, &ghost), ERR_NOT_FOUND);
    cr_assert_eq(store_key_create(s, &ka), ERR_OK);
    cr_assert_eq(store_key_create(s, &kb), ERR_OK);
    cr_assert_eq(store_key_create(s, &ka), ERR_CONFLICT);
    store_key dup = key("a", 'w');
    snprintf(dup.key_prefix, sizeof dup.key_prefix, "%s", ka.key_prefix);
    cr_assert_eq(store_key_create(s, &dup), ERR_CONFLICT, "a taken prefix");

    store_key got;
    cr_assert_eq(store_key_find(s, "a", ka.key_hash, &got), ERR_OK);
    cr_assert_str_eq(got.key_prefix, ka.key_prefix);
    cr_assert_str_eq(got.tenant_id, "a");
    cr_assert_eq(got.scopes, SCOPE_SEARCH | SCOPE_GRAPH);
    cr_assert_str_eq(got.rate_limit_tier, "default");
    cr_assert_str_eq(got.revoked_at, "");
    cr_assert_str_eq(got.last_used_at, "");
    /* the tenant filter: b's key is not found under a, a's not under b */
    cr_assert_eq(store_key_find(s, "a", kb.key_hash, &got), ERR_NOT_FOUND);
    cr_assert_eq(store_key_find(s, "b", ka.key_hash, &got), ERR_NOT_FOUND);
    char list[512] = "";
    cr_assert_eq(store_key_list(s, "a", collect_prefixes, list), ERR_OK);
    cr_assert_str_eq(list, "ctxd_live_a_xxxxxxxx ");
    /* revocation is filtered too */
    cr_assert_eq(store_key_revoke(s, "b", ka.key_prefix), ERR_NOT_FOUND);
    cr_assert_eq(store_key_revoke(s, "a", "ctxd_live_a_nonexist"), ERR_NOT_FOUND);
    cr_assert_eq(store_key_revoke(s, "a", ka.key_prefix), ERR_OK);
    cr_assert_eq(store_key_revoke(s, "a", ka.key_prefix), ERR_CONFLICT);
    cr_assert_eq(store_key_find(s, "a", ka.key_hash, &got), ERR_OK);
    cr_assert_eq(strlen(got.revoked_at), 24, "%s", got.revoked_at);
    list[0] = '\0';
    cr_assert_eq(store_key_list(s, "a", collect_prefixes, list), ERR_OK);
    cr_assert_str_eq(list, "ctxd_live_a_xxxxxxxx(r) ");
    list[0] = '\0';
    cr_assert_eq(store_key_list(s, "b", collect_prefixes, list), ERR_OK);
    cr_assert_str_eq(list, "ctxd_live_b_yyyyyyyy ");
    /* deleting a tenant takes its keys */
    cr_assert_eq(store_tenant_delete(s, "b"), ERR_OK);
    cr_assert_eq(store_key_find(s, "b", kb.key_hash, &got), ERR_NOT_FOUND);
    store_close(s);
    cr_assert_str_eq(sql_text("SELECT count(*) FROM api_keys WHERE tenant_id = 'b'"), "0");
}

Test(store, no_cache_across_handles)
{
    store *server = open_ok();
    store *cli = open_ok();
    tenant(cli, "t");
    store_key k = key("t", 'q');
    cr_assert_eq(store_key_create(cli, &k), ERR_OK);
    store_key got;
    cr_assert_eq(store_key_find(server, "t", k.key_hash, &got), ERR_OK);
    cr_assert_str_eq(got.revoked_at, "");
    cr_assert_eq(store_key_revoke(cli, "t", k.key_prefix), ERR_OK);
    cr_assert_eq(store_key_find(server, "t", k.key_hash, &got), ERR_OK);
    cr_assert_neq(got.revoked_at[0], '\0', "the revocation by the other handle is seen");
    cr_assert_eq(store_tenant_delete(cli, "t"), ERR_OK);
    cr_assert_eq(store_key_find(server, "t", k.key_hash, &got), ERR_NOT_FOUND);
    store_close(cli);
    store_close(server);
}

Test(store, last_used_is_batched_and_at_most_once_a_minute)
{
    store *s = open_ok();
    tenant(s, "t");
    store_key k = key("t", 'm');
    cr_assert_eq(store_key_create(s, &k), ERR_OK);
    store_key_touch(s, "t", k.key_prefix);
    store_key got;
    cr_assert_eq(store_key_find(s, "t", k.key_hash, &got), ERR_OK);
    cr_assert_str_eq(got.last_used_at, "", "no write on the request path");
    cr_assert_eq(store_flush(s), ERR_OK);
    cr_assert_eq(store_key_find(s, "t", k.key_hash, &got), ERR_OK);
    cr_assert_eq(strlen(got.last_used_at), 24, "'%s'", got.last_used_at);
    char first[32];
    snprintf(first, sizeof first, "%s", got.last_used_at);
    usleep(20000);
    store_key_touch(s, "t", k.key_prefix); /* within the minute: not queued again */
    cr_assert_eq(store_flush(s), ERR_OK);
    cr_assert_eq(store_key_find(s, "t", k.key_hash, &got), ERR_OK);
    cr_assert_str_eq(got.last_used_at, first);
    /* the background writer commits without a flush */
    store_key k2 = key("t", 'n');
    cr_assert_eq(store_key_create(s, &k2), ERR_OK);
    store_key_touch(s, "t", k2.key_prefix);
    bool seen = false;
    for (int i = 0; i < 60 && !seen; i++) {
        usleep(100000);
        cr_assert_eq(store_key_find(s, "t", k2.key_hash, &got), ERR_OK);
        seen = got.last_used_at[0] != '\0';
    }
    cr_assert(seen, "not written within 6 s");
    /* a touch pending at close is written by it */
    store_key k3 = key("t", 'p');
    cr_assert_eq(store_key_create(s, &k3), ERR_OK);
    store_key_touch(s, "t", k3.key_prefix);
    store_close(s);
    cr_assert_eq(strlen(sql_text("SELECT last_used_at FROM api_keys WHERE key_prefix = "
                                 "'ctxd_live_t_pppppppp'")),
                 24);
}

static bool collect_ws(const store_workspace *w, void *ctx)
{
    char *out = ctx;
    strcat(out, w->tenant_id);
    strcat(out, "/");
    strcat(out, w->id);
    strcat(out, " ");
    return true;
}

Test(store, workspaces_and_request_log_are_per_tenant)
{
    store *s = open_ok();
    tenant(s, "a");
    tenant(s, "b");
    store_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "main");
    snprintf(w.root, sizeof w.root, "/srv/a");
    snprintf(w.tenant_id, sizeof w.tenant_id, "a");
    cr_assert_eq(store_workspace_add(s, &w), ERR_OK);
    cr_assert_eq(store_workspace_add(s, &w), ERR_CONFLICT);
    snprintf(w.tenant_id, sizeof w.tenant_id, "b"); /* ids are unique per tenant */
    snprintf(w.root, sizeof w.root, "/srv/b");
    cr_assert_eq(store_workspace_add(s, &w), ERR_OK);
    snprintf(w.tenant_id, sizeof w.tenant_id, "ghost");
    cr_assert_eq(store_workspace_add(s, &w), ERR_NOT_FOUND);
    char list[256] = "";
    cr_assert_eq(store_workspace_list(s, "a", collect_ws, list), ERR_OK);
    cr_assert_str_eq(list, "a/main ");

    store_log_row rows[] = {
        {1000, "a", "k1", "ctx_read", 3, 200, NULL},
        {2000, "a", "k1", "ctx_search", 5, 429, "rate_limited"},
        {3000, "b", "k2", "ctx_read", 1, 200, NULL},
    };
    cr_assert_eq(store_log_append(s, rows, 3), ERR_OK);
    int64_t n = -1;
    cr_assert_eq(store_log_count(s, "a", 0, &n), ERR_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(store_log_count(s, "a", 1500, &n), ERR_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(store_log_count(s, "b", 0, &n), ERR_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(store_tenant_delete(s, "a"), ERR_OK);
    cr_assert_eq(store_log_count(s, "a", 0, &n), ERR_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(store_log_count(s, "b", 0, &n), ERR_OK);
    cr_assert_eq(n, 1);
    list[0] = '\0';
    cr_assert_eq(store_workspace_list(s, "a", collect_ws, list), ERR_OK);
    cr_assert_str_eq(list, "");
    cr_assert_eq(store_workspace_list(s, "b", collect_ws, list), ERR_OK);
    cr_assert_str_eq(list, "b/main ");
    store_close(s);
}

Test(store, creates_missing_data_dir)
{
    char sub[128];
    snprintf(sub, sizeof sub, "%s/x/y", dir);
    store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(sub, &s, why, sizeof why), ERR_OK, "%s", why);
    store_close(s);
    struct stat sb;
    cr_assert_eq(stat(sub, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);
}

/* ---- request log: the batched writer, pruning, stats (issue 5, LOG) ---- */

#include <pthread.h>
#include <time.h>

#define DAY_MS ((int64_t)86400000)

static int64_t sql_int(const char *sql)
{
    return strtoll(sql_text(sql), NULL, 10);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the `detail` column of EXPLAIN QUERY PLAN sql, every row joined by " | " (static) */
static const char *query_plan(const char *sql)
{
    static char out[1024];
    out[0] = '\0';
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char q[512];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t l = strlen(out);
        snprintf(out + l, sizeof out - l, "%s%s", l ? " | " : "", sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

typedef struct enq_arg {
    store *s;
    int thread;
    int n;
} enq_arg;

static void *enqueue_rows(void *p)
{
    enq_arg *a = p;
    char token[32];
    snprintf(token, sizeof token, "key-%d", a->thread);
    for (int i = 0; i < a->n; i++) {
        store_log_row row = {.ts_ms = 1700000000000 + i,
                             .tenant_id = "local",
                             .token_id = token,
                             .tool = "ctx_read",
                             .duration_ms = i % 7,
                             .status = i % 10 == 0 ? 429 : 200,
                             .error_message = i % 10 == 0 ? "rate_limited" : NULL};
        store_log_enqueue(a->s, &row);
    }
    return NULL;
}

Test(store, log_enqueue_from_four_threads_then_flush_writes_every_row)
{
    store *s = open_ok();
    pthread_t th[4];
    enq_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (enq_arg){.s = s, .thread = i, .n = 2500};
        cr_assert_eq(pthread_create(&th[i], NULL, enqueue_rows, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    cr_assert_eq(store_flush(s), ERR_OK);
    cr_assert_eq(store_log_dropped(s), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_log"), 10000);
    for (int i = 0; i < 4; i++) {
        char q[160];
        snprintf(q, sizeof q,
                 "SELECT count(DISTINCT ts) FROM request_log WHERE token_id = 'key-%d'"
                 " AND tenant_id = 'local' AND tool = 'ctx_read'",
                 i);
        cr_assert_eq(sql_int(q), 2500, "thread %d", i);
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM request_log WHERE status = 429 AND error_message"
                         " = 'rate_limited'"),
                 1000);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_log WHERE status = 200 AND error_message"
                         " IS NULL AND token_id IS NOT NULL"),
                 9000);
    /* text is cut and kept printable; an absent token or tool is NULL; close writes the rest */
    char longtool[300];
    memset(longtool, 'x', sizeof longtool - 1);
    longtool[sizeof longtool - 1] = '\0';
    store_log_row odd = {.ts_ms = 5, .tenant_id = "local", .tool = "a\nb\tc\x01", .status = 200};
    store_log_enqueue(s, &odd);
    store_log_row cut = {.ts_ms = 6,
                         .tenant_id = "local",
                         .tool = longtool,
                         .status = 500,
                         .error_message = "internal request 0123"};
    store_log_enqueue(s, &cut);
    store_log_row none = {.ts_ms = 7, .tenant_id = NULL, .tool = "x", .status = 200};
    store_log_enqueue(s, &none); /* no tenant: not a row */
    store_close(s);
    cr_assert_str_eq(sql_text("SELECT tool FROM request_log WHERE ts = 5"), "a?b?c?");
    cr_assert_str_eq(sql_text("SELECT coalesce(token_id, 'null') FROM request_log WHERE ts = 5"),
                     "null");
    cr_assert_eq(sql_int("SELECT length(tool) FROM request_log WHERE ts = 6"), STORE_LOG_TEXT_MAX);
    cr_assert_str_eq(sql_text("SELECT error_message FROM request_log WHERE ts = 6"),
                     "internal request 0123");
    cr_assert_eq(sql_int("SELECT count(*) FROM request_log"), 10002);
}

Test(store, log_writer_commits_in_the_background_and_at_close)
{
    store *s = open_ok();
    store_log_row row = {.ts_ms = 42, .tenant_id = "local", .tool = "/v1/manifest", .status = 200};
    store_log_enqueue(s, &row);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_log"), 0, "no write on the request path");
    int64_t n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        usleep(100000);
        n = sql_int("SELECT count(*) FROM request_log");
    }
    cr_assert_eq(n, 1, "not written within 10 s");
    row.ts_ms = 43;
    store_log_enqueue(s, &row);
    store_close(s);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_log"), 2);
}

Test(store, log_queue_is_bounded_and_never_waits_for_the_database, .timeout = 60)
{
    store *s = open_ok();
    /* another connection holds the write lock: the writer cannot commit anything meanwhile */
    sqlite3 *blocker = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path(), &blocker, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    enum { N = 2 * STORE_LOG_QUEUE_MAX + 10000 };
    int64_t t0 = mono_ms();
    enq_arg a = {.s = s, .thread = 9, .n = N};
    enqueue_rows(&a);
    int64_t took = mono_ms() - t0;
    /* the writer waits up to 5 s (busy timeout) for the lock; enqueue never waits for it */
    cr_assert_lt(took, 4000, "enqueue of %d rows took %lld ms", N, (long long)took);
    uint64_t dropped = store_log_dropped(s);
    cr_assert_geq(dropped, (uint64_t)(N - 2 * STORE_LOG_QUEUE_MAX), "dropped %llu",
                  (unsigned long long)dropped);
    cr_assert_eq(sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(blocker);
    /* once the database is free every row still queued is written: none lost uncounted */
    cr_assert_eq(store_flush(s), ERR_OK);
    dropped = store_log_dropped(s);
    store_close(s);
    int64_t rows = sql_int("SELECT count(*) FROM request_log");
    cr_assert_eq(rows + (int64_t)dropped, N, "rows %lld + dropped %llu", (long long)rows,
                 (unsigned long long)dropped);
    cr_assert_geq(rows, STORE_LOG_QUEUE_MAX);
    cr_assert_leq(rows, 2 * STORE_LOG_QUEUE_MAX);
    /* the oldest were dropped: the newest row is there */
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM request_log WHERE ts = %lld",
             (long long)(1700000000000 + N - 1));
    cr_assert_eq(sql_int(q), 1);
}

static void tenant_with(store *s, const char *id, const char *settings, int64_t used)
{
    store_tenant t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.settings, sizeof t.settings, "%s", settings);
    t.storage_quota_bytes = -1;
    t.storage_used_bytes = used;
    cr_assert_eq(store_tenant_create(s, &t), ERR_OK, "%s", id);
}

/* n rows of tenant at ts (status, no token) appended synchronously */
static void rows_at(store *s, const char *tenant_id, int64_t ts, int status, int n)
{
    store_log_row *rows = calloc((size_t)n, sizeof *rows);
    cr_assert_not_null(rows);
    for (int i = 0; i < n; i++) {
        rows[i] = (store_log_row){
            .ts_ms = ts, .tenant_id = tenant_id, .tool = "ctx_read", .status = status};
    }
    cr_assert_eq(store_log_append(s, rows, (size_t)n), ERR_OK);
    free(rows);
}

static int64_t count_of(const char *tenant_id)
{
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM request_log WHERE tenant_id = '%s'", tenant_id);
    return sql_int(q);
}

Test(store, log_prune_keeps_each_tenants_retention_in_batches)
{
    store *s = open_ok();
    int64_t now = 1800000000000;
    tenant_with(s, "long", "{\"request_log_retention_days\": 90}", 0);
    tenant_with(s, "short", "{\"request_log_retention_days\": 1, \"default_workspace_id\": \"w\"}",
                0);
    tenant_with(s, "odd", "{\"request_log_retention_days\": \"7\"}", 0); /* not an integer */
    tenant_with(s, "zero", "{\"request_log_retention_days\": 0}", 0);    /* out of range */
    /* local: the default (30 days); more than two batches of old rows */
    rows_at(s, "local", now - 31 * DAY_MS, 200, 2 * STORE_PRUNE_BATCH + 500);
    rows_at(s, "local", now - 30 * DAY_MS - 1, 429, 3); /* just past: goes */
    rows_at(s, "local", now - 30 * DAY_MS, 200, 4);     /* exactly 30 days: stays */
    rows_at(s, "local", now - DAY_MS, 200, 5);
    rows_at(s, "long", now - 60 * DAY_MS, 200, 6);  /* within its 90 days */
    rows_at(s, "long", now - 100 * DAY_MS, 200, 7); /* past them */
    rows_at(s, "short", now - 2 * DAY_MS, 200, 8);
    rows_at(s, "short", now - DAY_MS / 2, 200, 9);
    rows_at(s, "odd", now - 20 * DAY_MS, 200, 10); /* the default applies: stays */
    rows_at(s, "zero", now - 20 * DAY_MS, 200, 11);
    rows_at(s, "zero", now - 40 * DAY_MS, 200, 12);
    rows_at(s, "gone", now - 40 * DAY_MS, 200, 13); /* a tenant not in the store: the default */
    rows_at(s, "gone", now - 10 * DAY_MS, 200, 14);

    int64_t deleted = -1;
    cr_assert_eq(store_log_prune(s, now, 30, &deleted), ERR_OK);
    cr_assert_eq(deleted, (2 * STORE_PRUNE_BATCH + 500) + 3 + 7 + 8 + 12 + 13, "%lld",
                 (long long)deleted);
    cr_assert_eq(count_of("local"), 4 + 5);
    cr_assert_eq(count_of("long"), 6);
    cr_assert_eq(count_of("short"), 9);
    cr_assert_eq(count_of("odd"), 10);
    cr_assert_eq(count_of("zero"), 11);
    cr_assert_eq(count_of("gone"), 14);
    /* a second pass finds nothing; a shorter default takes more */
    cr_assert_eq(store_log_prune(s, now, 30, &deleted), ERR_OK);
    cr_assert_eq(deleted, 0);
    cr_assert_eq(store_log_prune(s, now, 15, &deleted), ERR_OK);
    cr_assert_eq(deleted, 10 + 11 + 4, "%lld", (long long)deleted);
    cr_assert_eq(store_log_prune(s, now, 0, &deleted), ERR_INVALID_ARGUMENTS);
    cr_assert_eq(store_log_prune(s, now, 3651, &deleted), ERR_INVALID_ARGUMENTS);
    store_close(s);
}

Test(store, log_prune_runs_in_the_background_once_a_retention_is_set)
{
    store *s = open_ok();
    int64_t now = (int64_t)time(NULL) * 1000;
    rows_at(s, "local", now - 3 * DAY_MS, 200, STORE_PRUNE_BATCH + 10);
    rows_at(s, "local", now - DAY_MS / 2, 200, 3);
    store_set_log_retention(s, 2);
    int64_t n = -1;
    for (int i = 0; i < 150 && n != 3; i++) {
        usleep(100000);
        n = count_of("local");
    }
    cr_assert_eq(n, 3, "old rows still there after 15 s: %lld", (long long)n);
    store_close(s);
}

Test(store, stats_count_the_last_24_hours_per_tenant)
{
    store *s = open_ok();
    int64_t now = 1800000000000;
    tenant_with(s, "a", "{}", 1000);
    tenant_with(s, "b", "{}", 234);
    store_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.tenant_id, sizeof w.tenant_id, "a");
    snprintf(w.root, sizeof w.root, "/srv/a");
    snprintf(w.id, sizeof w.id, "one");
    cr_assert_eq(store_workspace_add(s, &w), ERR_OK);
    snprintf(w.id, sizeof w.id, "two");
    cr_assert_eq(store_workspace_add(s, &w), ERR_OK);
    snprintf(w.tenant_id, sizeof w.tenant_id, "b");
    cr_assert_eq(store_workspace_add(s, &w), ERR_OK);

    rows_at(s, "a", now - DAY_MS, 200, 2);     /* the window's first millisecond: counted */
    rows_at(s, "a", now - DAY_MS - 1, 200, 3); /* just before it: not */
    rows_at(s, "a", now - DAY_MS, 429, 4);
    rows_at(s, "a", now - DAY_MS - 1, 429, 5);
    rows_at(s, "a", now, 200, 6);
    rows_at(s, "b", now - 1000, 429, 7);
    rows_at(s, "b", now - 1000, 503, 8);
    rows_at(s, "local", now - 5 * DAY_MS, 200, 9);

    store_stats st;
    cr_assert_eq(store_stats_get(s, "a", now, &st), ERR_OK);
    cr_assert_eq(st.tenants, 1);
    cr_assert_eq(st.workspaces, 2);
    cr_assert_eq(st.requests_24h, 2 + 4 + 6);
    cr_assert_eq(st.rate_limit_hits_24h, 4);
    cr_assert_eq(st.storage_used_bytes, 1000);
    cr_assert_eq(store_stats_get(s, "b", now, &st), ERR_OK);
    cr_assert_eq(st.workspaces, 1);
    cr_assert_eq(st.requests_24h, 15);
    cr_assert_eq(st.rate_limit_hits_24h, 7);
    cr_assert_eq(st.storage_used_bytes, 234);
    cr_assert_eq(store_stats_get(s, "local", now, &st), ERR_OK);
    cr_assert_eq(st.requests_24h, 0);
    cr_assert_eq(st.workspaces, 0);
    cr_assert_eq(store_stats_get(s, NULL, now, &st), ERR_OK);
    cr_assert_eq(st.tenants, 3);
    cr_assert_eq(st.workspaces, 3);
    cr_assert_eq(st.requests_24h, 12 + 15);
    cr_assert_eq(st.rate_limit_hits_24h, 4 + 7);
    cr_assert_eq(st.storage_used_bytes, 1234);
    cr_assert_eq(store_stats_get(s, NULL, now + 10 * DAY_MS, &st), ERR_OK);
    cr_assert_eq(st.requests_24h, 0);
    st.tenants = 99;
    cr_assert_eq(store_stats_get(s, "nobody", now, &st), ERR_NOT_FOUND);
    cr_assert_eq(st.tenants, 0);
    store_close(s);

    /* the counts go through indexes, the 429 ones through the partial indexes of 0002 */
    cr_assert(strstr(query_plan("SELECT count(*) FROM request_log WHERE ts >= 1"),
                     "COVERING INDEX request_log_ts"),
              "%s", query_plan("SELECT count(*) FROM request_log WHERE ts >= 1"));
    cr_assert(strstr(query_plan("SELECT count(*) FROM request_log WHERE tenant_id = 'a' AND"
                                " ts >= 1"),
                     "COVERING INDEX request_log_tenant_ts"));
    cr_assert(strstr(query_plan("SELECT count(*) FROM request_log WHERE status = 429 AND ts >= 1"),
                     "INDEX request_log_429_ts"),
              "%s", query_plan("SELECT count(*) FROM request_log WHERE status = 429 AND ts >= 1"));
    cr_assert(strstr(query_plan("SELECT count(*) FROM request_log WHERE tenant_id = 'a' AND"
                                " status = 429 AND ts >= 1"),
                     "INDEX request_log_429_tenant_ts"));
}

/* a deleted tenant's rows never come back: the queued ones are dropped at the delete, and the
   ones enqueued afterwards (requests that authenticated before it) are skipped; once the id is a
   tenant again its rows are written */
Test(store, log_rows_of_a_deleted_tenant_are_never_written)
{
    store *s = open_ok();
    tenant_with(s, "gone", "{}", 0);
    tenant_with(s, "kept", "{}", 0);
    store_log_row row = {
        .ts_ms = 1700000000000, .tenant_id = "gone", .tool = "ctx_read", .status = 200};
    store_log_row other = row;
    other.tenant_id = "kept";
    for (int i = 0; i < 5; i++) {
        store_log_enqueue(s, &row);
        store_log_enqueue(s, &other);
    }
    cr_assert_eq(store_tenant_delete(s, "gone"), ERR_OK);
    store_log_enqueue(s, &row); /* late: its request was in flight during the delete */
    store_log_enqueue(s, &other);
    cr_assert_eq(store_flush(s), ERR_OK);
    cr_assert_eq(count_of("gone"), 0);
    cr_assert_eq(count_of("kept"), 6);
    tenant_with(s, "gone", "{}", 0);
    store_log_enqueue(s, &row);
    cr_assert_eq(store_flush(s), ERR_OK);
    cr_assert_eq(count_of("gone"), 1);
    store_close(s);
}

/* ---- storage quota over the rows callers store (QUOTA, migration 0007) ---- */

static int64_t collab(store *s, const char *id)
{
    int64_t ix = -1, co = -1;
    cr_assert_eq(store_tenant_usage(s, id, &ix, &co), ERR_OK);
    return co;
}

static int64_t used(store *s, const char *id)
{
    int64_t q, u;
    cr_assert_eq(store_tenant_quota(s, id, &q, &u), ERR_OK);
    return u;
}

Test(store, rows_are_charged_exactly_and_the_quota_rolls_back)
{
    store *s = open_ok();
    tenant(s, "acme");
    tenant(s, "beta");
    cr_assert_eq(store_tenant_storage_set(s, "acme", 1000), ERR_OK);
    cr_assert_eq(collab(s, "acme"), 0);
    cr_assert_eq(used(s, "acme"), 1000);
    /* a document: 64 + channel + body; an update charges the difference */
    int64_t rev = 0;
    cr_assert_eq(store_doc_put(s, "acme", "w", "session", "ch", 0, "{\"a\":1}", "team:x", &rev),
                 ERR_OK);
    cr_assert_eq(collab(s, "acme"), 64 + 2 + 7);
    cr_assert_eq(store_doc_put(s, "acme", "w", "session", "ch", 1, "{\"a\":12345}", "team:x", &rev),
                 ERR_OK);
    cr_assert_eq(collab(s, "acme"), 64 + 2 + 11);
    cr_assert_eq(used(s, "acme"), 1000 + 77, "storage_used_bytes = index + rows");
    /* the index part moves without touching the rows' part */
    cr_assert_eq(store_tenant_storage_set(s, "acme", 500), ERR_OK);
    cr_assert_eq(used(s, "acme"), 500 + 77);
    cr_assert_eq(collab(s, "beta"), 0, "another tenant pays nothing");
    /* items: the ones pruned by `keep` are given back */
    for (int i = 0; i < 3; i++) {
        store_item it = {0};
        snprintf(it.channel, sizeof it.channel, "ch");
        snprintf(it.kind, sizeof it.kind, "snapshot");
        snprintf(it.id, sizeof it.id, "s%d", i);
        snprintf(it.from, sizeof it.from, "team:x");
        it.body = "{\"n\":1}";
        cr_assert_eq(store_item_add(s, "acme", "w", &it, 2), ERR_OK);
    }
    cr_assert_eq(collab(s, "acme"), 77 + 2 * (64 + 7));
    /* knowledge: 64 + category + key + value */
    store_fact f = {.confidence = 0.5};
    snprintf(f.category, sizeof f.category, "cat");
    snprintf(f.key, sizeof f.key, "key");
    snprintf(f.source, sizeof f.source, "team:x");
    f.value = "some value";
    store_kn_write w;
    cr_assert_eq(store_kn_remember(s, "acme", "w", &f, STORE_KN_SUPERSEDE, &w), ERR_OK);
    int64_t with_fact = 77 + 2 * 71 + 64 + 3 + 3 + 10;
    cr_assert_eq(collab(s, "acme"), with_fact);
    /* a quota: a write that passes it is rolled back whole; one that shrinks usage is allowed */
    store_tenant t;
    cr_assert_eq(store_tenant_get(s, "acme", &t), ERR_OK);
    t.storage_quota_bytes = used(s, "acme") + 20;
    cr_assert_eq(store_tenant_update(s, &t), ERR_OK);
    f.value = "a value that is longer than the twenty bytes left";
    snprintf(f.key, sizeof f.key, "key2");
    cr_assert_eq(store_kn_remember(s, "acme", "w", &f, STORE_KN_SUPERSEDE, &w), ERR_QUOTA_EXCEEDED);
    cr_assert_eq(collab(s, "acme"), with_fact, "nothing of the refused write is left");
    cr_assert_eq(store_doc_put(s, "acme", "w", "session", "ch", 2,
                               "{\"a\":\"a body much longer than the twenty bytes left\"}",
                               "team:x", &rev),
                 ERR_QUOTA_EXCEEDED);
    cr_assert_eq(store_doc_put(s, "acme", "w", "session", "ch", 2, "{}", "team:x", &rev), ERR_OK);
    cr_assert_eq(collab(s, "acme"), with_fact - 9);
    /* artifacts: the row (name, body) and each chunk (heading, text, tokens) */
    store_art a = {.stored = true, .bytes = 2};
    snprintf(a.name, sizeof a.name, "p.json");
    snprintf(a.kind, sizeof a.kind, "proof");
    snprintf(a.sha, sizeof a.sha, "%064d", 0);
    snprintf(a.updated_by, sizeof a.updated_by, "team:x");
    store_art_chunk c = {.start_line = 1, .end_line = 1, .heading = "", .text = "{}", .tokens = ""};
    t.storage_quota_bytes = -1;
    cr_assert_eq(store_tenant_update(s, &t), ERR_OK);
    cr_assert_eq(store_art_put(s, "acme", "w", &a, "{}", &c, 1), ERR_OK);
    cr_assert_eq(collab(s, "acme"), with_fact - 9 + (64 + 6 + 2) + (64 + 0 + 2 + 0));
    bool stored = false;
    cr_assert_eq(store_art_remove(s, "acme", "w", "p.json", &stored), ERR_OK);
    cr_assert(stored);
    cr_assert_eq(collab(s, "acme"), with_fact - 9, "an artifact and its chunks are given back");
    store_close(s);
}

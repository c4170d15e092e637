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

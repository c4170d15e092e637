/* test_quota.c - tenant storage quotas (issue 5 "Quotas", DESIGN §8 and §11.5, tools.md §3.5):
 * a build whose estimate passes the quota is refused at once with 507 quota_exceeded and the
 * numbers in the body; a build whose estimate fits but whose real growth does not is rolled
 * back whole (no row of it in the index) and answers 507; a build that fits commits and the
 * tenant's storage_used_bytes equals its index files on disk; a tenant already over a lowered
 * quota is refused; MCP maps the refusal to 507 / -31507 with the numbers in data; `ctxd index`
 * obeys the same quota; a tenant without a quota is never limited by another's.
 *
 * The tenant acme owns the workspace "aws": a tree of small C files dense with symbols and
 * calls, whose index takes several times the estimate's 2 bytes per source byte (measured on
 * a copy served as the local workspace "copy"), which is what makes a quota between the two
 * reachable. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static server S;

#define N_FILES 30
#define N_FUNCS 200

/* one file of the dense tree: N_FUNCS one-line functions, two calls each */
static char *dense_file(int f)
{
    size_t cap = (size_t)N_FUNCS * 96 + 1;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t n = 0;
    for (int i = 0; i < N_FUNCS; i++) {
        n += (size_t)snprintf(s + n, cap - n,
                              "int fn_%d_%d(int a) { return helper_%d(a) + other_%d(a); }\n", f, i,
                              i, i);
    }
    return s;
}

static void write_dense(const char *dir)
{
    for (int f = 0; f < N_FILES; f++) {
        char rel[128];
        snprintf(rel, sizeof rel, "%s/f%02d.c", dir, f);
        char *c = dense_file(f);
        dir_write(&S, rel, c, NULL, 0);
        free(c);
    }
}

/* team.json: "main" and "copy" (local), "aws" of acme; acme created with the quota given; a
 * write key of acme into key */
static void up_with(const char *quota, char key[128])
{
    srv_init(&S);
    write_dense("acme");
    write_dense("copy");
    char more[1200];
    snprintf(more, sizeof more,
             "{\"id\": \"aws\", \"root\": \"%s/acme\", \"tenant\": \"acme\"}, "
             "{\"id\": \"copy\", \"root\": \"%s/copy\"}",
             S.dir, S.dir);
    srv_config_ws(&S, more, "");
    char *e = NULL;
    int rc = srv_ctl(&S, NULL, &e, "tenant", "create", "--id", "acme", "--name", "Acme", "--quota",
                     quota, NULL);
    cr_assert_eq(rc, 0, "tenant create: %s", e);
    free(e);
    srv_key(&S, "acme", "write", NULL, key);
}

static void down(void)
{
    srv_cleanup(&S);
}

/* the store (dataDir/ctxd.db), for a statement the test runs itself */
static long long store_int(const char *sql)
{
    char path[600];
    snprintf(path, sizeof path, "%s/data/ctxd.db", S.dir);
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
            int rc = sqlite3_step(q);
            if (rc == SQLITE_ROW) {
                v = sqlite3_column_int64(q, 0);
            } else if (rc == SQLITE_DONE) {
                v = sqlite3_changes(db);
            }
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return v;
}

static void set_quota(long long q)
{
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE tenants SET storage_quota_bytes = %lld WHERE id = 'acme'", q);
    cr_assert_eq(store_int(sql), 1, "quota update");
}

static long long used_bytes(void)
{
    return store_int("SELECT storage_used_bytes FROM tenants WHERE id = 'acme'");
}

/* acme's index database: <dataDir>/index/acme/aws.db */
static const char *acme_db(const char *suffix)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/data/index/acme/aws.db%s", S.dir, suffix);
    return path;
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* a query on acme's index; -1 when the database or the row is not there */
static long long acme_int(const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(acme_db(""), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            v = sqlite3_column_int64(q, 0);
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return v;
}

static long long member(resp *r, const char *name)
{
    json_t *v = json_object_get(r->json, name);
    cr_assert(json_is_integer(v), "%s missing in %s", name, r->body);
    return (long long)json_integer_value(v);
}

/* 507 quota_exceeded with the DESIGN §4 envelope and the three numbers; the message names
   used and quota as "(<used> of <quota>)" */
static void expect_quota(resp *r, long long quota)
{
    expect_error(r, 507, "quota_exceeded");
    cr_assert_eq(member(r, "quota_bytes"), quota, "%s", r->body);
    cr_assert_geq(member(r, "used_bytes"), 0, "%s", r->body);
    cr_assert_geq(member(r, "requested_bytes"), 0, "%s", r->body);
    const char *msg = json_string_value(json_object_get(r->json, "error"));
    char of[64];
    snprintf(of, sizeof of, " of %lld)", quota);
    cr_assert(strstr(msg, "storage quota exceeded (") && strstr(msg, of), "%s", msg);
}

Test(quota, zero_refuses_at_once, .fini = down)
{
    char key[128];
    up_with("0", key);
    cr_assert(srv_start(&S));

    /* wait=false: refused before any job exists */
    resp *r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\"}");
    expect_quota(r, 0);
    cr_assert_eq(member(r, "used_bytes"), 0, "%s", r->body);
    long long est = member(r, "requested_bytes");
    /* at least an empty index, plus 2 bytes per source byte */
    cr_assert_gt(est, 98304 + N_FILES * N_FUNCS * 50 * 2, "%lld", est);
    const char *msg = json_string_value(json_object_get(r->json, "error"));
    char want[96];
    snprintf(want, sizeof want, "(%lld of 0)", est);
    cr_assert(strstr(msg, want), "%s", msg);
    resp_free(r);
    /* wait=true and a full build: the same */
    r = call_tool(&S, key, "ctx_index", "{\"action\":\"build-full\",\"wait\":true}");
    expect_quota(r, 0);
    cr_assert_eq(member(r, "requested_bytes"), est, "%s", r->body);
    resp_free(r);
    /* nothing was written: no database, nothing charged */
    cr_assert_eq(file_size(acme_db("")), 0);
    cr_assert_eq(used_bytes(), 0);
    /* status is a query: it answers, with the quota */
    r = call_tool(&S, key, "ctx_index", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "index: absent"), "%s", result_text(r));
    resp_free(r);
    /* the local tenant has no quota: its builds go on */
    r = call_tool(&S, S.token, "ctx_index",
                  "{\"action\":\"build\",\"wait\":true,\"workspaceId\":\"copy\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "index built: 30 files"), "%s", result_text(r));
    resp_free(r);
}

Test(quota, stopped_midway_rolls_back, .fini = down)
{
    char key[128];
    up_with("0", key);
    cr_assert(srv_start(&S));
    /* the estimate (quota 0 refuses with it) and the real size (the same tree, local) */
    resp *r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\"}");
    expect_quota(r, 0);
    long long est = member(r, "requested_bytes");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_index",
                  "{\"action\":\"build\",\"wait\":true,\"workspaceId\":\"copy\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    long long real = index_db_int(
        &S, "copy", "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    cr_assert_gt(real, est + est / 2, "the tree must index larger than estimated: %lld vs %lld",
                 real, est);
    long long quota = est + (real - est) / 2;
    set_quota(quota);

    /* the estimate fits, the build starts, passes the quota midway and rolls back */
    r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    expect_quota(r, quota);
    const char *msg = json_string_value(json_object_get(r->json, "error"));
    cr_assert(strncmp(msg, "stopped: storage quota exceeded (", 33) == 0, "%s", msg);
    long long used = member(r, "used_bytes"), req_b = member(r, "requested_bytes");
    cr_assert_leq(used, quota, "%s", r->body);
    cr_assert_gt(used + req_b, quota, "%s", r->body);
    resp_free(r);
    /* nothing of the build remains: the schema only */
    cr_assert_eq(acme_int("SELECT count(*) FROM files"), 0);
    cr_assert_eq(acme_int("SELECT count(*) FROM symbols"), 0);
    cr_assert_eq(acme_int("SELECT count(*) FROM chunks"), 0);
    cr_assert_eq(acme_int("SELECT count(*) FROM meta WHERE key = 'generation'"), 0);
    /* what is charged is what is on disk, and within the quota */
    long long disk = file_size(acme_db("")) + file_size(acme_db("-wal"));
    cr_assert_eq(used_bytes(), disk, "%lld vs %lld", used_bytes(), disk);
    cr_assert_leq(disk, quota);
    /* the status says why the last build stopped, and the quota */
    r = call_tool(&S, key, "ctx_index", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    const char *t = result_text(r);
    cr_assert(strstr(t, "last build stopped: storage quota exceeded ("), "%s", t);
    char q[96];
    snprintf(q, sizeof q, "of quota %lld", quota);
    cr_assert(strstr(t, q), "%s", t);
    resp_free(r);
    /* a query still answers (from an empty index) */
    r = call_tool(&S, key, "ctx_search", "{\"pattern\":\"fn_1_1\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

Test(quota, within_quota_commits_and_is_charged, .fini = down)
{
    char key[128];
    up_with("100000000", key);
    cr_assert(srv_start(&S));
    resp *r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "index built: 30 files"), "%s", result_text(r));
    resp_free(r);
    cr_assert_eq(acme_int("SELECT count(*) FROM files"), N_FILES);
    cr_assert_eq(acme_int("SELECT count(*) FROM symbols"), N_FILES * N_FUNCS);
    /* storage_used_bytes = the tenant's index files on disk, WAL included */
    long long disk = file_size(acme_db("")) + file_size(acme_db("-wal"));
    cr_assert_gt(disk, 0);
    cr_assert_eq(used_bytes(), disk, "%lld vs %lld", used_bytes(), disk);
    char *o = NULL;
    cr_assert_eq(srv_ctl(&S, &o, NULL, "tenant", "show", "acme", NULL), 0);
    char line[96];
    snprintf(line, sizeof line, "storage_used_bytes: %lld\n", disk);
    cr_assert(strstr(o, line), "%s", o);
    free(o);
    r = call_tool(&S, key, "ctx_index", "{}");
    char st[96];
    snprintf(st, sizeof st, "tenant storage %lld of quota 100000000", disk);
    cr_assert(strstr(result_text(r), st), "%s", result_text(r));
    json_t *sc = structured_content(r);
    cr_assert_eq(json_integer_value(json_object_get(sc, "storageQuotaBytes")), 100000000);
    cr_assert_eq(json_integer_value(json_object_get(sc, "tenantStorageBytes")), disk);
    resp_free(r);

    /* the quota lowered below what is used (the store is read per request): over quota, an
       explicit build is refused at once, even one that would change nothing */
    set_quota(1000);
    r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\"}");
    expect_quota(r, 1000);
    cr_assert_eq(member(r, "used_bytes"), disk, "%s", r->body);
    cr_assert(
        strstr(json_string_value(json_object_get(r->json, "error")), "over its storage quota"),
        "%s", r->body);
    resp_free(r);
    /* the other entries that build: ctx_search reindex, ctx_graph build */
    r = call_tool(&S, key, "ctx_graph", "{\"action\":\"build\"}");
    expect_quota(r, 1000);
    resp_free(r);
    /* the index stays as it was, and queries answer from it */
    cr_assert_eq(acme_int("SELECT count(*) FROM files"), N_FILES);
    r = call_tool(&S, key, "ctx_search", "{\"pattern\":\"fn_3_77\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "f03.c"), "%s", result_text(r));
    resp_free(r);
}

Test(quota, mcp_maps_quota_exceeded, .fini = down)
{
    char key[128];
    up_with("0", key);
    cr_assert(srv_start(&S));
    const char *mh[] = {"Accept: application/json, text/event-stream", NULL};
    resp *r = req(&S, "POST", "/mcp", key, mh,
                  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                  "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
                  "\"name\":\"t\",\"version\":\"1\"}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    const char *sh = resp_header(r, "Mcp-Session-Id");
    cr_assert_not_null(sh);
    char sid[160];
    snprintf(sid, sizeof sid, "Mcp-Session-Id: %s", sh);
    resp_free(r);
    const char *mh2[] = {mh[0], sid, NULL};
    r = req(&S, "POST", "/mcp", key, mh2,
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"ctx_index\",\"arguments\":{\"action\":\"build\"}}}");
    cr_assert_eq(r->status, 507, "%s", r->body);
    json_t *e = json_object_get(r->json, "error");
    cr_assert_eq(json_integer_value(json_object_get(e, "code")), -31507, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "id")), 2, "%s", r->body);
    cr_assert(strstr(json_string_value(json_object_get(e, "message")), "storage quota exceeded ("),
              "%s", r->body);
    json_t *d = json_object_get(e, "data");
    cr_assert_str_eq(json_string_value(json_object_get(d, "error_code")), "quota_exceeded");
    cr_assert_eq(json_integer_value(json_object_get(d, "quota_bytes")), 0, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(d, "used_bytes")), 0, "%s", r->body);
    cr_assert_gt(json_integer_value(json_object_get(d, "requested_bytes")), 98304, "%s", r->body);
    cr_assert_null(json_object_get(r->json, "result"), "%s", r->body);
    resp_free(r);
    /* the audit line names the refusal */
    json_t *lines = audit_wait(&S, 2, 3000);
    bool seen = false;
    size_t i;
    json_t *l;
    json_array_foreach (lines, i, l) {
        const char *why = json_string_value(json_object_get(l, "deniedReason"));
        seen = seen || (why && strcmp(why, "quota_exceeded") == 0);
    }
    json_decref(lines);
    cr_assert(seen, "no audit line with deniedReason quota_exceeded");
}

Test(quota, cli_index_obeys_the_quota, .fini = down)
{
    char key[128];
    up_with("0", key);
    /* no server: `ctxd index` reads the same store */
    char *o = NULL, *e = NULL;
    int rc = srv_ctl(&S, &o, &e, "index", "--workspace", "aws", NULL);
    cr_assert_eq(rc, 1, "%s%s", o, e);
    cr_assert(strstr(e, "storage quota exceeded ("), "%s", e);
    free(o);
    free(e);
    cr_assert_eq(file_size(acme_db("")), 0);
    set_quota(100000000);
    rc = srv_ctl(&S, &o, &e, "index", "--workspace", "aws", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert(strstr(o, "index built: 30 files"), "%s", o);
    free(o);
    free(e);
    long long disk = file_size(acme_db("")) + file_size(acme_db("-wal"));
    cr_assert_gt(disk, 0);
    cr_assert_eq(used_bytes(), disk, "%lld vs %lld", used_bytes(), disk);
    /* a wrong count left in the store is measured again when the server starts */
    cr_assert_eq(store_int("UPDATE tenants SET storage_used_bytes = 7 WHERE id = 'acme'"), 1);
    cr_assert(srv_start(&S));
    long long deadline = now_ms() + 10000;
    while (used_bytes() == 7 && now_ms() < deadline) {
        usleep(20000);
    }
    cr_assert_neq(used_bytes(), 7);
    /* after the start's own build of aws (joined here), the count is the files again */
    resp *r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    disk = file_size(acme_db("")) + file_size(acme_db("-wal"));
    cr_assert_eq(used_bytes(), disk, "%lld vs %lld", used_bytes(), disk);
}

/* ---- what callers store in ctxd.db counts too (issue 6, QUOTA: migration 0007) ---- */

static long long collab_bytes(void)
{
    return store_int("SELECT collab_bytes FROM tenants WHERE id = 'acme'");
}

/* acme owns "aws" (the small default workspace); its key can write sessions and knowledge */
static void up_collab(char key[128])
{
    srv_init(&S);
    char more[600];
    snprintf(more, sizeof more, "{\"id\": \"aws\", \"root\": \"%s\", \"tenant\": \"acme\"}", S.ws);
    srv_config_ws(&S, more, "");
    char *e = NULL;
    int rc = srv_ctl(&S, NULL, &e, "tenant", "create", "--id", "acme", "--name", "Acme", NULL);
    cr_assert_eq(rc, 0, "tenant create: %s", e);
    free(e);
    srv_key(&S, "acme", "admin", NULL, key);
    cr_assert(srv_start(&S));
}

static resp *remember_in(const char *key, const char *ws, const char *k, size_t value_len)
{
    char *v = malloc(value_len + 1);
    cr_assert_not_null(v);
    memset(v, 'v', value_len);
    v[value_len] = '\0';
    char *body = malloc(value_len + 256);
    cr_assert_not_null(body);
    snprintf(body, value_len + 256,
             "{\"action\":\"remember\",\"category\":\"c\",\"key\":\"%s\",\"value\":\"%s\","
             "\"workspaceId\":\"%s\"}",
             k, v, ws);
    resp *r = call_tool(&S, key, "ctx_knowledge", body);
    free(v);
    free(body);
    return r;
}

static resp *remember(const char *key, const char *k, size_t value_len)
{
    return remember_in(key, "aws", k, value_len);
}

Test(quota, sessions_knowledge_and_artifacts_are_charged, .fini = down)
{
    char key[128];
    up_collab(key);
    /* the index first, so that storage_used_bytes stays put while the test counts */
    resp *r = call_tool(&S, key, "ctx_index",
                        "{\"action\":\"build\",\"wait\":true,\"workspaceId\":\"aws\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(collab_bytes(), 0);
    long long used0 = used_bytes();

    /* a fact is charged its category, key and value plus 64 */
    r = remember(key, "k1", 1000);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(collab_bytes(), 64 + 1 + 2 + 1000);
    cr_assert_eq(used_bytes(), used0 + 64 + 1 + 2 + 1000, "storage_used_bytes = index + rows");

    /* a quota with room for about one more fact: the second is refused, nothing written */
    set_quota(used_bytes() + 1500);
    r = remember(key, "k2", 1000);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    long long before = collab_bytes();
    r = remember(key, "k3", 1000);
    expect_quota(r, used0 + 1067 + 1500);
    cr_assert_eq(member(r, "used_bytes"), used0 + 2 * 1067, "%s", r->body);
    cr_assert_eq(member(r, "requested_bytes"), 64 + 1000, "%s", r->body);
    resp_free(r);
    cr_assert_eq(collab_bytes(), before, "the refused write was rolled back");
    r = call_tool(
        &S, key, "ctx_knowledge",
        "{\"action\":\"recall\",\"key\":\"k3\",\"category\":\"c\",\"workspaceId\":\"aws\"}");
    cr_assert(strstr(result_text(r), "No facts"), "%s", result_text(r));
    resp_free(r);

    /* sessions, shares and proofs are refused the same way */
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char body[4200];
    snprintf(body, sizeof body, "{\"action\":\"finding\",\"value\":\"%s\",\"workspaceId\":\"aws\"}",
             big);
    r = call_tool(&S, key, "ctx_session", body);
    expect_quota(r, used0 + 1067 + 1500);
    resp_free(r);
    /* a stored proof (several receipts of 64-hex digests each) does not fit in what is left */
    r = call_tool(&S, key, "ctx_proof", "{\"write\":true,\"workspaceId\":\"aws\"}");
    expect_quota(r, used0 + 1067 + 1500);
    resp_free(r);
    /* MCP: -31507 with the numbers */
    const char *mh[] = {"Accept: application/json, text/event-stream", NULL};
    r = req(&S, "POST", "/mcp", key, mh,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
            "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
            "\"name\":\"t\",\"version\":\"1\"}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    char sid[160];
    snprintf(sid, sizeof sid, "Mcp-Session-Id: %s", resp_header(r, "Mcp-Session-Id"));
    resp_free(r);
    const char *mh2[] = {mh[0], sid, NULL};
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"ctx_knowledge\",\"arguments\":{\"action\":\"remember\",\"key\":\"k4\",\"value\":"
             "\"%s\",\"workspaceId\":\"aws\"}}}",
             big);
    r = req(&S, "POST", "/mcp", key, mh2, body);
    cr_assert_eq(r->status, 507, "%s", r->body);
    json_t *e = json_object_get(r->json, "error");
    cr_assert_eq(json_integer_value(json_object_get(e, "code")), -31507, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(e, "data"), "quota_bytes")),
                 used0 + 1067 + 1500, "%s", r->body);
    resp_free(r);

    /* removing frees the bytes: the write that was refused now fits */
    r = call_tool(
        &S, key, "ctx_knowledge",
        "{\"action\":\"remove\",\"category\":\"c\",\"key\":\"k1\",\"workspaceId\":\"aws\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(collab_bytes(), before - 1067);
    r = remember(key, "k3", 1000);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);

    /* the admin API reports the whole: index files plus rows */
    r = req(&S, "GET", "/admin/tenants/acme", key, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(member(r, "storage_used_bytes"), used_bytes(), "%s", r->body);
    resp_free(r);
    /* a restart measures the index again and keeps the rows' share */
    long long c = collab_bytes();
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert(srv_start(&S));
    cr_assert_eq(collab_bytes(), c);
    cr_assert_eq(used_bytes(),
                 store_int("SELECT index_bytes + collab_bytes FROM tenants WHERE id = 'acme'"));

    /* a team.json tenant has no quota: local's writes are never refused for size */
    for (int i = 0; i < 3; i++) {
        char k[16];
        snprintf(k, sizeof k, "big%d", i);
        r = remember_in(S.token, "main", k, 3000);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    cr_assert_eq(srv_stop(&S), 0);
}

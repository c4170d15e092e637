/* test_phase12.c - the integration scenarios of seed 2, Task 100 (rate limiting, API keys, tenant
 * isolation, quotas, the admin API), one test each, and the load test of issue 5: 100 concurrent
 * clients across 3 tenants for about 25 s, every response checked for 5xx and for another tenant's
 * marker, each key's accepted rate compared with its tier.
 *
 * The scenarios share one layout: the workspace "main" (tenant local), "aws" of tenant acme and
 * "bws" of tenant beta, each with a C file defining shared_symbol() around the tenant's marker, so
 * a leak shows as the wrong marker in a response. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define LOCAL_MARKER "LOCAL_MARKER_5150"
#define ACME_MARKER "ACME_MARKER_1234"
#define BETA_MARKER "BETA_MARKER_7731"

static server S;

static void shared_source(const char *dir_rel, const char *marker)
{
    char rel[256], body[512];
    snprintf(rel, sizeof rel, "%s/src/shared.c", dir_rel);
    snprintf(body, sizeof body,
             "/* %s */\nint shared_symbol(int x)\n{\n    return x + 1; /* %s */\n}\n\n"
             "static int helper_%s(void)\n{\n    return shared_symbol(1);\n}\n",
             marker, marker, dir_rel);
    dir_write(&S, rel, body, NULL, 0);
}

/* main (local), aws (acme), bws (beta); extra: more top-level config fields, may be "" */
static void layout(const char *extra)
{
    srv_init(&S);
    ws_write(&S, "src/shared.c",
             "/* " LOCAL_MARKER
             " */\nint shared_symbol(int x)\n{\n    return x + 1; /* " LOCAL_MARKER
             " */\n}\n\nstatic int helper_main(void)\n{\n    return shared_symbol(1);\n}\n");
    shared_source("a", ACME_MARKER);
    shared_source("b", BETA_MARKER);
    char more[2000];
    snprintf(more, sizeof more,
             "{\"id\": \"aws\", \"root\": \"%s/a\", \"tenant\": \"acme\"}, "
             "{\"id\": \"bws\", \"root\": \"%s/b\", \"tenant\": \"beta\"}",
             S.dir, S.dir);
    srv_config_ws(&S, more, extra);
    srv_tenant(&S, "acme");
    srv_tenant(&S, "beta");
}

static void up_start(const char *extra)
{
    layout(extra);
    cr_assert(srv_start(&S), "the server did not start; log: %s", S.log);
}

static void down(void)
{
    srv_cleanup(&S);
}

/* the "r" parameter of the RateLimit header (remaining), -1 when absent */
static long remaining(resp *r)
{
    const char *h = resp_header(r, "RateLimit");
    const char *p = h ? strstr(h, ";r=") : NULL;
    return p ? strtol(p + 3, NULL, 10) : -1;
}

static resp *read_as(const char *key, const char *ws, const char *path)
{
    char args[512];
    snprintf(args, sizeof args, "{\"path\":\"%s\",\"workspaceId\":\"%s\"}", path, ws);
    return call_tool(&S, key, "ctx_read", args);
}

/* 1. Rate limiting: 100 requests succeed, the 101st fails with 429 */
Test(phase12, s01_hundred_then_429, .fini = down)
{
    /* the default tier: capacity 100; a refill too slow to matter during the test */
    up_start("\"keyRps\": 0.01, \"maxRps\": 100000, \"rateBurst\": 100000");
    char key[128];
    srv_key(&S, "acme", "read", NULL, key);
    for (int i = 0; i < 100; i++) {
        resp *r = read_as(key, "aws", "src/shared.c");
        cr_assert_eq(r->status, 200, "request %d: %s", i + 1, r->body);
        cr_assert_eq(remaining(r), 99 - i, "request %d", i + 1);
        resp_free(r);
    }
    resp *r = read_as(key, "aws", "src/shared.c");
    expect_error(r, 429, "rate_limited");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "policy")), "key", "%s", r->body);
    resp_free(r);
}

/* 2. Rate limiting: the 429 carries Retry-After (and the RateLimit headers) */
Test(phase12, s02_retry_after, .fini = down)
{
    up_start("\"keyRps\": 0.5, \"keyRateBurst\": 3, \"maxRps\": 100000, \"rateBurst\": 100000");
    char key[128];
    srv_key(&S, "acme", "read", NULL, key);
    for (int i = 0; i < 3; i++) {
        resp *r = read_as(key, "aws", "src/shared.c");
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    resp *r = read_as(key, "aws", "src/shared.c");
    expect_error(r, 429, "rate_limited");
    const char *ra = resp_header(r, "Retry-After");
    cr_assert(ra && *ra && strspn(ra, "0123456789") == strlen(ra), "Retry-After: %s",
              ra ? ra : "(none)");
    /* one token at 0.5/s: about 2 s (less the little refilled since the first call) */
    long secs = strtol(ra, NULL, 10);
    cr_assert(secs >= 1 && secs <= 2, "Retry-After %ld", secs);
    json_t *ms = json_object_get(r->json, "retryAfterMs");
    cr_assert(json_is_integer(ms) && json_integer_value(ms) > 0 &&
                  json_integer_value(ms) <= secs * 1000,
              "%s", r->body);
    cr_assert(resp_header(r, "RateLimit-Policy") && resp_header(r, "RateLimit"));
    resp_free(r);
}

/* 3. Rate limiting: per-tool costs: an index build takes 10, a read 1, and team.json's toolCosts
 * changes a tool's cost */
Test(phase12, s03_per_tool_costs, .fini = down)
{
    up_start("\"keyRps\": 0.01, \"maxRps\": 100000, \"rateBurst\": 100000, "
             "\"toolCosts\": {\"ctx_tree\": 4, \"ctx_graph:build\": 7}");
    char key[128];
    srv_key(&S, "acme", "read,write", NULL, key);
    resp *r = read_as(key, "aws", "src/shared.c");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(remaining(r), 99, "a read costs 1");
    resp_free(r);
    r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\",\"workspaceId\":\"aws\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(remaining(r), 89, "an index build costs 10");
    resp_free(r);
    r = call_tool(&S, key, "ctx_tree", "{\"workspaceId\":\"aws\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(remaining(r), 85, "toolCosts.ctx_tree = 4");
    resp_free(r);
    r = call_tool(&S, key, "ctx_graph", "{\"action\":\"build\",\"workspaceId\":\"aws\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(remaining(r), 78, "toolCosts[\"ctx_graph:build\"] = 7");
    resp_free(r);
}

/* 4. Rate limiting: refill restores capacity */
Test(phase12, s04_refill, .fini = down)
{
    up_start("\"rateTiers\": {\"fast\": {\"rps\": 5, \"burst\": 5}}, "
             "\"maxRps\": 100000, \"rateBurst\": 100000");
    char key[128];
    srv_key(&S, "acme", "read", "--tier=fast", key);
    int ok = 0;
    resp *r = NULL;
    for (;;) {
        r = read_as(key, "aws", "src/shared.c");
        if (r->status != 200) {
            break;
        }
        ok++;
        resp_free(r);
        cr_assert_lt(ok, 8, "the burst of 5 (plus refill while calling) should run out");
    }
    cr_assert_geq(ok, 5);
    expect_error(r, 429, "rate_limited");
    long long wait = json_integer_value(json_object_get(r->json, "retryAfterMs"));
    cr_assert(wait > 0 && wait <= 200, "one token at 5/s: %lld ms", wait);
    resp_free(r);
    /* a full second at 5/s refills the whole bucket: five calls in a row pass again */
    usleep(1100 * 1000);
    for (int i = 0; i < 5; i++) {
        r = read_as(key, "aws", "src/shared.c");
        cr_assert_eq(r->status, 200, "call %d after the refill: %s", i + 1, r->body);
        resp_free(r);
    }
}

/* 5. API key: a valid key authenticates, on REST and MCP, with either header */
Test(phase12, s05_valid_key, .fini = down)
{
    up_start("");
    char key[128];
    srv_key(&S, "acme", "read", NULL, key);
    resp *r = read_as(key, "aws", "src/shared.c");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), ACME_MARKER));
    resp_free(r);
    char hdr[200];
    snprintf(hdr, sizeof hdr, "X-API-Key: %s", key);
    const char *h[] = {hdr, NULL};
    r = req(&S, "GET", "/v1/manifest", NULL, h, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    /* the manifest names the key by its prefix, never the key */
    const char *tid = json_string_value(json_object_get(r->json, "tokenId"));
    cr_assert(tid && strncmp(key, tid, strlen(tid)) == 0 && strlen(tid) < strlen(key), "%s",
              r->body);
    cr_assert_null(strstr(r->body, key));
    resp_free(r);
}

/* 6. API key: an invalid key answers 401 */
Test(phase12, s06_invalid_key, .fini = down)
{
    up_start("");
    const char *bad[] = {
        "ctxd_live_acme_notakey",
        "ctxd_live_acme_000000000000000000000000000000_000000",
        "ctxd_live_ACME_yXBHMoc5L40zBANMAAcNPMMcv7FQw4_000000",
        "ctxd_prod_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4_000000",
        "Bearer",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        resp *r = read_as(bad[i], "aws", "src/shared.c");
        cr_assert(r->status == 401, "'%s' -> %ld %s", bad[i], r->status, r->body);
        resp_free(r);
    }
}

/* 7. API key: a revoked key answers 401, on the next request after the CLI revoked it */
Test(phase12, s07_revoked_key, .fini = down)
{
    up_start("");
    char key[128];
    srv_key(&S, "acme", "read", NULL, key);
    resp *r = read_as(key, "aws", "src/shared.c");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen("ctxd_live_acme_") + 8), key);
    char *e = NULL;
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "revoke", prefix, NULL), 0, "%s", e);
    free(e);
    r = read_as(key, "aws", "src/shared.c");
    expect_error(r, 401, "unauthorized");
    resp_free(r);
}

/* 8. API key: the checksum catches tampering (any changed character) */
Test(phase12, s08_checksum_catches_tampering, .fini = down)
{
    up_start("");
    char key[128];
    srv_key(&S, "acme", "read", NULL, key);
    size_t n = strlen(key);
    /* a character of the random part, of the checksum, and of the tenant */
    size_t at[] = {strlen("ctxd_live_acme_") + 3, n - 2, strlen("ctxd_live_") + 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char t[128];
        snprintf(t, sizeof t, "%s", key);
        t[at[i]] = t[at[i]] == 'a' ? 'b' : 'a';
        resp *r = read_as(t, "aws", "src/shared.c");
        expect_error(r, 401, "unauthorized");
        resp_free(r);
    }
    resp *r = read_as(key, "aws", "src/shared.c");
    cr_assert_eq(r->status, 200, "the untouched key still works: %s", r->body);
    resp_free(r);
}

/* the error text of a workspace refusal, for comparing two of them */
static char *refusal(resp *r, const char *name)
{
    expect_error(r, 400, "unknown_workspace");
    const char *m = json_string_value(json_object_get(r->json, "error"));
    char *out = strdup(m);
    char *at = strstr(out, name);
    if (at) {
        memset(at, '*', strlen(name)); /* the name asked for is the only allowed difference */
    }
    resp_free(r);
    return out;
}

/* 9. Tenant isolation: tenant A cannot see tenant B's data (another tenant's workspace answers like
 * one that does not exist; no path leaves a root) */
Test(phase12, s09_isolation_of_data, .fini = down)
{
    up_start("");
    char key[128];
    srv_key(&S, "acme", "read", NULL, key);
    const char *tools[][2] = {
        {"ctx_read", "\"path\":\"src/shared.c\""},
        {"ctx_tree", "\"depth\":2"},
        {"ctx_search", "\"pattern\":\"MARKER\""},
        {"ctx_glob", "\"pattern\":\"*.c\""},
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        char a[300], b[300];
        snprintf(a, sizeof a, "{%s,\"workspaceId\":\"bws\"}", tools[i][1]);
        snprintf(b, sizeof b, "{%s,\"workspaceId\":\"zzz\"}", tools[i][1]);
        resp *ra = call_tool(&S, key, tools[i][0], a);
        cr_assert_null(strstr(ra->body, BETA_MARKER));
        char *ma = refusal(ra, "bws");
        char *mb = refusal(call_tool(&S, key, tools[i][0], b), "zzz");
        cr_assert_str_eq(ma, mb, "%s: another tenant's workspace must look absent", tools[i][0]);
        free(ma);
        free(mb);
    }
    /* the local tenant's workspace too, by header */
    char hk[200];
    snprintf(hk, sizeof hk, "Authorization: Bearer %s", key);
    const char *h[] = {hk, "X-Workspace: main", NULL};
    resp *r = req(&S, "POST", "/v1/tools/call", NULL, h,
                  "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"src/shared.c\"}}");
    cr_assert_null(strstr(r->body, LOCAL_MARKER));
    free(refusal(r, "main"));
    /* relative escapes from the tenant's own root */
    r = read_as(key, "aws", "../b/src/shared.c");
    cr_assert(r->status != 200 || result_is_error(r), "%s", r->body);
    cr_assert_null(strstr(r->body, BETA_MARKER));
    resp_free(r);
    /* its own workspace, by default: the tenant's only workspace */
    r = call_tool(&S, key, "ctx_read", "{\"path\":\"src/shared.c\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), ACME_MARKER));
    resp_free(r);
}

static void build_index(const char *key, const char *ws)
{
    char args[200];
    snprintf(args, sizeof args, "{\"action\":\"build\",\"wait\":true,\"workspaceId\":\"%s\"}", ws);
    resp *r = call_tool(&S, key, "ctx_index", args);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "index built:"), "%s", r->body);
    resp_free(r);
}

/* 10. Tenant isolation: search returns only the tenant's symbols */
Test(phase12, s10_search_only_own_symbols, .fini = down)
{
    up_start("");
    char ka[128], kb[128];
    srv_key(&S, "acme", "write", NULL, ka);
    srv_key(&S, "beta", "write", NULL, kb);
    build_index(ka, "aws");
    build_index(kb, "bws");
    build_index(S.token, "main");
    struct {
        const char *key, *mine, *others[2];
    } who[] = {
        {ka, ACME_MARKER, {BETA_MARKER, LOCAL_MARKER}},
        {kb, BETA_MARKER, {ACME_MARKER, LOCAL_MARKER}},
        {S.token, LOCAL_MARKER, {ACME_MARKER, BETA_MARKER}},
    };
    const char *calls[][2] = {
        {"ctx_search", "{\"action\":\"symbol\",\"name\":\"shared_symbol\"}"},
        {"ctx_search", "{\"action\":\"bm25\",\"query\":\"shared symbol marker\"}"},
        {"ctx_search", "{\"pattern\":\"MARKER_[0-9]+\"}"},
        {"ctx_outline", "{\"path\":\"src\"}"},
        {"ctx_callgraph", "{\"action\":\"callers\",\"symbol\":\"shared_symbol\"}"},
    };
    for (size_t w = 0; w < 3; w++) {
        for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
            resp *r = call_tool(&S, who[w].key, calls[c][0], calls[c][1]);
            cr_assert_eq(r->status, 200, "%s %s: %s", calls[c][0], calls[c][1], r->body);
            for (int o = 0; o < 2; o++) {
                cr_assert_null(strstr(r->body, who[w].others[o]), "%s %s leaked %s: %s",
                               calls[c][0], calls[c][1], who[w].others[o], r->body);
            }
            if (c < 3) {
                /* these show source text: the tenant's own marker is there */
                cr_assert(strstr(r->body, who[w].mine), "%s %s: %s", calls[c][0], calls[c][1],
                          r->body);
            }
            resp_free(r);
        }
    }
}

/* 11. Storage quota: indexing is refused when it would pass the quota */
Test(phase12, s11_quota_refuses_index, .fini = down)
{
    layout("");
    char *e = NULL;
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "create", "--id", "tiny", "--name", "Tiny",
                         "--quota", "0", NULL),
                 0, "%s", e);
    free(e);
    char root[512];
    dir_write(&S, "t/src/t.c", "int tiny(void) { return 1; }\n", root, sizeof root);
    json_t *doc = cfg_load(&S);
    char troot[300];
    snprintf(troot, sizeof troot, "%s/t", S.dir);
    json_array_append_new(
        json_object_get(doc, "workspaces"),
        json_pack("{s:s, s:s, s:s}", "id", "tws", "root", troot, "tenant", "tiny"));
    cfg_save(&S, doc);
    json_decref(doc);
    cr_assert(srv_start(&S), "log: %s", S.log);
    char key[128];
    srv_key(&S, "tiny", "write", NULL, key);
    resp *r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    expect_error(r, 507, "quota_exceeded");
    json_t *used = json_object_get(r->json, "used_bytes"),
           *quota = json_object_get(r->json, "quota_bytes"),
           *want = json_object_get(r->json, "requested_bytes");
    cr_assert(json_is_integer(used) && json_is_integer(quota) && json_is_integer(want), "%s",
              r->body);
    cr_assert_eq(json_integer_value(quota), 0);
    cr_assert_gt(json_integer_value(want), 0, "%s", r->body);
    resp_free(r);
    /* nothing was indexed: the status says so, and another tenant is not affected */
    r = call_tool(&S, key, "ctx_search", "{\"action\":\"symbol\",\"name\":\"tiny\"}");
    cr_assert_null(strstr(r->body, "int tiny(void)"), "%s", r->body);
    resp_free(r);
    char ka[128];
    srv_key(&S, "acme", "write", NULL, ka);
    build_index(ka, "aws");
}

/* an admin request as the operator (a local token with the admin scope) */
static resp *admin(const char *token, const char *method, const char *path, const char *body)
{
    const char *h[] = {"Content-Type: application/json", NULL};
    return req(&S, method, path, token, body ? h : NULL, body);
}

static char *operator_token(void)
{
    static char tok[80];
    cr_assert(srv_token(&S, "op", "admin,search,index", tok));
    return tok;
}

static long long db_count(const char *sql)
{
    char path[400];
    snprintf(path, sizeof path, "%s/data/ctxd.db", S.dir);
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
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

/* create gamma with a key and a workspace through the admin API; its key into key */
static void admin_gamma(const char *op, char key[128])
{
    char groot[300];
    dir_write(&S, "g/src/g.c",
              "int gamma_one(void) { return 1; }\nint gamma_two(void) { return gamma_one(); }\n",
              NULL, 0);
    snprintf(groot, sizeof groot, "%s/g", S.dir);
    resp *r = admin(op, "POST", "/admin/tenants", "{\"name\":\"Gamma\",\"id\":\"gamma\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), "gamma");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Gamma");
    resp_free(r);
    r = admin(op, "POST", "/admin/tenants/gamma/keys", "{\"permissions\":[\"read\",\"write\"]}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    const char *k = json_string_value(json_object_get(r->json, "key"));
    cr_assert(k && strncmp(k, "ctxd_live_gamma_", 16) == 0, "%s", r->body);
    snprintf(key, 128, "%s", k);
    resp_free(r);
    char body[600];
    snprintf(body, sizeof body, "{\"id\":\"gws\",\"label\":\"Gamma\",\"root\":\"%s\"}", groot);
    r = admin(op, "POST", "/admin/tenants/gamma/workspaces", body);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
}

/* the registered workspace is served (the server loads it without a restart, at once or within
   a few seconds) and its index builds */
static void index_registered(const char *key)
{
    long long until = now_ms() + 10000;
    resp *r = NULL;
    for (;;) {
        r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
        if (r->status == 200 || now_ms() > until) {
            break;
        }
        resp_free(r);
        usleep(100 * 1000);
    }
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

/* 12. Admin API: create a tenant, give it a key and a workspace, index, read its stats */
Test(phase12, s12_admin_create_index_stats, .fini = down)
{
    layout("");
    const char *op = operator_token();
    cr_assert(srv_start(&S), "log: %s", S.log);
    char key[128];
    admin_gamma(op, key);
    index_registered(key);
    resp *r = call_tool(&S, key, "ctx_search", "{\"action\":\"symbol\",\"name\":\"gamma_two\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "gamma_one()"), "%s", r->body);
    resp_free(r);
    /* the stats count the requests (the log is written in batches: wait for it) */
    long long until = now_ms() + 15000;
    json_int_t reqs = 0;
    for (;;) {
        r = admin(op, "GET", "/admin/tenants/gamma/stats", NULL);
        cr_assert_eq(r->status, 200, "%s", r->body);
        reqs = json_integer_value(json_object_get(r->json, "requests_24h"));
        if (reqs >= 2 || now_ms() > until) {
            break;
        }
        resp_free(r);
        usleep(200 * 1000);
    }
    cr_assert_geq(reqs, 2, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "repos")), 1, "%s", r->body);
    cr_assert_geq(json_integer_value(json_object_get(r->json, "symbols")), 2, "%s", r->body);
    cr_assert_gt(json_integer_value(json_object_get(r->json, "storage_used_bytes")), 0, "%s",
                 r->body);
    resp_free(r);
    r = admin(op, "GET", "/admin/stats", NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_geq(json_integer_value(json_object_get(r->json, "tenants")), 4, "%s", r->body);
    cr_assert_geq(json_integer_value(json_object_get(r->json, "requests_24h")), reqs, "%s",
                  r->body);
    cr_assert(json_is_integer(json_object_get(r->json, "uptime_seconds")), "%s", r->body);
    resp_free(r);
    /* a key without admin is refused */
    r = admin(key, "GET", "/admin/tenants/gamma/stats", NULL);
    expect_error(r, 403, "scope_denied");
    resp_free(r);
}

/* 13. Admin API: deleting a tenant removes all its data, files included */
Test(phase12, s13_admin_delete_removes_data, .fini = down)
{
    layout("");
    const char *op = operator_token();
    cr_assert(srv_start(&S), "log: %s", S.log);
    char key[128];
    admin_gamma(op, key);
    index_registered(key);
    resp *r = NULL;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/data/index/gamma", S.dir);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0, "the index is there before the delete");

    r = admin(op, "DELETE", "/admin/tenants/gamma", NULL);
    cr_assert_eq(r->status, 204, "%s", r->body);
    resp_free(r);
    r = admin(op, "GET", "/admin/tenants/gamma", NULL);
    expect_error(r, 404, "not_found");
    resp_free(r);
    r = call_tool(&S, key, "ctx_read", "{\"path\":\"src/g.c\"}");
    expect_error(r, 401, "unauthorized");
    resp_free(r);
    cr_assert_neq(stat(dir, &st), 0, "%s must be gone", dir);
    /* no row of the tenant is left, at once (rows still queued for the request log's writer are
       dropped at the delete, see store_tenant_delete) */
    cr_assert_eq(db_count("SELECT (SELECT count(*) FROM tenants WHERE id = 'gamma') + "
                          "(SELECT count(*) FROM api_keys WHERE tenant_id = 'gamma') + "
                          "(SELECT count(*) FROM workspaces WHERE tenant_id = 'gamma') + "
                          "(SELECT count(*) FROM request_log WHERE tenant_id = 'gamma')"),
                 0);
    /* the other tenants are untouched */
    char ka[128];
    srv_key(&S, "acme", "read", NULL, ka);
    r = read_as(ka, "aws", "src/shared.c");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

/* 14. Regression: a tenant's API key gets exactly what a config token gets on the same code (the
 * rest of the suite runs beside this file and must stay green too) */
Test(phase12, s14_keys_see_what_tokens_see, .fini = down)
{
    srv_init(&S);
    const char *files[][2] = {
        {"src/shared.c", "int shared_symbol(int x)\n{\n    return x + 1;\n}\n"},
        {"src/app.py", "import os\n\nclass App:\n    def run(self, n):\n        return "
                       "os.getpid() + n\n"},
        {"README.md", "# Same\n\nIdentical content in both workspaces.\n"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        ws_write(&S, files[i][0], files[i][1]);
    }
    /* the twin is a copy of the whole workspace, the harness's own files included */
    char *cp =
        sh_out("mkdir -p '%s/twin' && cp -a '%s/.' '%s/twin/' && echo ok", S.dir, S.ws, S.dir);
    cr_assert(cp && strcmp(cp, "ok\n") == 0, "%s", cp ? cp : "(cp failed)");
    free(cp);
    char more[600];
    snprintf(more, sizeof more, "{\"id\": \"twin\", \"root\": \"%s/twin\", \"tenant\": \"acme\"}",
             S.dir);
    srv_config_ws(&S, more, "\"maxRps\": 100000, \"rateBurst\": 100000");
    srv_tenant(&S, "acme");
    cr_assert(srv_start(&S), "log: %s", S.log);
    char key[128];
    srv_key(&S, "acme", "write", NULL, key);
    build_index(key, "twin");
    build_index(S.token, "main");
    const char *calls[][2] = {
        {"ctx_read", "{\"path\":\"src/app.py\"}"},
        {"ctx_read", "{\"path\":\"src/app.py\",\"mode\":\"signatures\"}"},
        {"ctx_read", "{\"path\":\"src/shared.c\",\"mode\":\"lines:2-3\"}"},
        {"ctx_tree", "{\"depth\":3}"},
        {"ctx_glob", "{\"pattern\":\"*.py\"}"},
        {"ctx_search", "{\"pattern\":\"return\"}"},
        {"ctx_search", "{\"action\":\"symbol\",\"name\":\"App.run\"}"},
        {"ctx_outline", "{\"path\":\"src\"}"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        resp *a = call_tool(&S, S.token, calls[i][0], calls[i][1]);
        resp *b = call_tool(&S, key, calls[i][0], calls[i][1]);
        cr_assert_eq(a->status, 200, "%s", a->body);
        cr_assert_eq(b->status, 200, "%s", b->body);
        cr_assert_str_eq(result_text(a), result_text(b), "%s %s", calls[i][0], calls[i][1]);
        resp_free(a);
        resp_free(b);
    }
}

/* ---- the load test: 100 clients, 3 tenants, about 25 s ---- */

#define LOAD_CLIENTS 100
#define LOAD_TENANTS 3
#define LOAD_KEYS_PER_TENANT 2
#define LOAD_KEYS (LOAD_TENANTS * LOAD_KEYS_PER_TENANT)
#define LOAD_SECONDS 25

static const char *const load_marker[LOAD_TENANTS] = {"LOADMARK_T0_9QX", "LOADMARK_T1_4ZK",
                                                      "LOADMARK_T2_7WJ"};
static const double load_rps[LOAD_TENANTS] = {4, 6, 8}; /* tiers l0, l1, l2: burst = rps */

typedef struct load_key {
    char key[128];
    int tenant;
    atomic_long accepted, limited;
    atomic_llong first_ms, last_ms;
} load_key;

typedef struct load_ctx {
    load_key keys[LOAD_KEYS];
    long long end_ms;
    atomic_long responses, fivexx, leaks, wrong, curl_fail;
    char first_problem[512];
    pthread_mutex_t mu;
} load_ctx;

typedef struct load_client {
    load_ctx *lc;
    int id;
    pthread_t thread;
} load_client;

typedef struct sink {
    char *p;
    size_t n;
} sink;

static size_t sink_write(void *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    char *p = realloc(s->p, s->n + n + 1);
    if (!p) {
        return 0;
    }
    memcpy(p + s->n, data, n);
    s->p = p;
    s->n += n;
    s->p[s->n] = '\0';
    return n;
}

static void problem(load_ctx *lc, atomic_long *counter, const char *what, const char *body)
{
    atomic_fetch_add(counter, 1);
    pthread_mutex_lock(&lc->mu);
    if (!lc->first_problem[0]) {
        snprintf(lc->first_problem, sizeof lc->first_problem, "%s: %.400s", what, body ? body : "");
    }
    pthread_mutex_unlock(&lc->mu);
}

static void *load_main(void *arg)
{
    load_client *cl = arg;
    load_ctx *lc = cl->lc;
    load_key *k = &lc->keys[cl->id % LOAD_KEYS];
    CURL *c = curl_easy_init();
    char url[128], auth[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/tools/call", S.port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", k->key);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    for (unsigned n = (unsigned)cl->id; now_ms() < lc->end_ms; n++) {
        int op = (int)(n % 10);
        int other = (k->tenant + 1 + (int)(n % 2)) % LOAD_TENANTS;
        char body[300];
        if (op < 6) {
            snprintf(body, sizeof body,
                     "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"marker.txt\"}}");
        } else if (op < 8) {
            snprintf(
                body, sizeof body,
                "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"LOADMARK_[A-Z0-9_]+\"}}");
        } else {
            /* another tenant's workspace, by name: must look absent and never be charged */
            snprintf(body, sizeof body,
                     "{\"name\":\"ctx_read\",\"workspaceId\":\"w%d\",\"arguments\":{\"path\":"
                     "\"marker.txt\"}}",
                     other);
        }
        sink s = {0};
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        long long t0 = now_ms();
        CURLcode rc = curl_easy_perform(c);
        long long t1 = now_ms();
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK) {
            problem(lc, &lc->curl_fail, curl_easy_strerror(rc), NULL);
        } else {
            atomic_fetch_add(&lc->responses, 1);
            for (int t = 0; t < LOAD_TENANTS; t++) {
                if (t != k->tenant && s.p && strstr(s.p, load_marker[t])) {
                    problem(lc, &lc->leaks, "another tenant's marker", s.p);
                }
            }
            if (status >= 500) {
                problem(lc, &lc->fivexx, "5xx", s.p);
            } else if (op >= 8) {
                if (status != 400 || !s.p || !strstr(s.p, "\"unknown_workspace\"")) {
                    problem(lc, &lc->wrong, "foreign workspace not refused", s.p);
                }
            } else if (status == 200) {
                if (!s.p || !strstr(s.p, load_marker[k->tenant])) {
                    problem(lc, &lc->wrong, "own marker missing", s.p);
                }
                atomic_fetch_add(&k->accepted, 1);
                long long exp = 0;
                atomic_compare_exchange_strong(&k->first_ms, &exp, t0);
                long long last = atomic_load(&k->last_ms);
                while (t1 > last && !atomic_compare_exchange_weak(&k->last_ms, &last, t1)) {
                }
            } else if (status == 429) {
                atomic_fetch_add(&k->limited, 1);
                long long exp = 0;
                atomic_compare_exchange_strong(&k->first_ms, &exp, t0);
            } else {
                problem(lc, &lc->wrong, "unexpected status", s.p);
            }
        }
        free(s.p);
        usleep(100 * 1000); /* each client: at most 10 requests a second */
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

Test(phase12, load_100_clients_3_tenants, .fini = down, .timeout = 180)
{
    srv_init(&S);
    char more[2000] = "";
    size_t off = 0;
    for (int t = 0; t < LOAD_TENANTS; t++) {
        char rel[64], body[128];
        snprintf(rel, sizeof rel, "w%d/marker.txt", t);
        snprintf(body, sizeof body, "tenant %d: %s\n", t, load_marker[t]);
        dir_write(&S, rel, body, NULL, 0);
        off += (size_t)snprintf(more + off, sizeof more - off,
                                "%s{\"id\": \"w%d\", \"root\": \"%s/w%d\", \"tenant\": \"t%d\"}",
                                t ? ", " : "", t, S.dir, t, t);
    }
    char extra[600];
    snprintf(extra, sizeof extra,
             "\"maxRps\": 1000000, \"rateBurst\": 1000000, \"maxConcurrency\": 256, "
             "\"rateTiers\": {\"l0\": {\"rps\": %g, \"burst\": %g}, \"l1\": {\"rps\": %g, "
             "\"burst\": %g}, \"l2\": {\"rps\": %g, \"burst\": %g}}",
             load_rps[0], load_rps[0], load_rps[1], load_rps[1], load_rps[2], load_rps[2]);
    srv_config_ws(&S, more, extra);
    load_ctx *lc = calloc(1, sizeof *lc);
    pthread_mutex_init(&lc->mu, NULL);
    for (int t = 0; t < LOAD_TENANTS; t++) {
        char id[8], tier[16];
        snprintf(id, sizeof id, "t%d", t);
        snprintf(tier, sizeof tier, "--tier=l%d", t);
        srv_tenant(&S, id);
        for (int j = 0; j < LOAD_KEYS_PER_TENANT; j++) {
            load_key *k = &lc->keys[t * LOAD_KEYS_PER_TENANT + j];
            srv_key(&S, id, "read", tier, k->key);
            k->tenant = t;
        }
    }
    cr_assert(srv_start(&S), "log: %s", S.log);
    resp *warm = req(&S, "GET", "/health", NULL, NULL, NULL);
    resp_free(warm);
    lc->end_ms = now_ms() + LOAD_SECONDS * 1000;
    load_client cl[LOAD_CLIENTS];
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        cl[i] = (load_client){.lc = lc, .id = i};
        cr_assert_eq(pthread_create(&cl[i].thread, NULL, load_main, &cl[i]), 0);
    }
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        pthread_join(cl[i].thread, NULL);
    }
    long responses = atomic_load(&lc->responses);
    cr_log_info("load: %ld responses in %d s from %d clients", responses, LOAD_SECONDS,
                LOAD_CLIENTS);
    cr_assert_eq(atomic_load(&lc->curl_fail), 0, "%s", lc->first_problem);
    cr_assert_eq(atomic_load(&lc->fivexx), 0, "%s", lc->first_problem);
    cr_assert_eq(atomic_load(&lc->leaks), 0, "%s", lc->first_problem);
    cr_assert_eq(atomic_load(&lc->wrong), 0, "%s", lc->first_problem);
    for (int i = 0; i < LOAD_KEYS; i++) {
        load_key *k = &lc->keys[i];
        double rps = load_rps[k->tenant];
        double secs = (double)(atomic_load(&k->last_ms) - atomic_load(&k->first_ms)) / 1000.0;
        double expect = rps /* burst */ + rps * secs;
        double got = (double)atomic_load(&k->accepted);
        cr_log_info("key %d (tier l%d): %.0f accepted, %ld limited, expected %.1f over %.1f s", i,
                    k->tenant, got, atomic_load(&k->limited), expect, secs);
        cr_assert_gt(atomic_load(&k->limited), 0, "key %d was never limited: demand too low", i);
        cr_assert(fabs(got / expect - 1.0) <= 0.05,
                  "key %d (tier l%d): %.0f accepted, expected %.1f (burst %.0f + %.0f/s x %.1f s)",
                  i, k->tenant, got, expect, rps, rps, secs);
    }
    pthread_mutex_destroy(&lc->mu);
    free(lc);
}

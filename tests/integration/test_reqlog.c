/* test_reqlog.c - the request log as the server writes it (issue 5, DESIGN §8): one row per
 * authenticated request that reached a route (REST tool calls, other REST routes, MCP), with the
 * caller's tenant and token, the tool (or the route), the status and only an error code; 429s
 * are rows (the stats' rate-limit hits); requests refused before authentication are not rows;
 * no argument text and no key anywhere in the database; `requestLog: false` writes nothing;
 * rows older than requestLogRetentionDays are pruned in the background. The database is read
 * directly (after the server stopped: the close commits what the writer had pending). */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/apikey.h"
#include "harness.h"

static server S;

/* text that appears only in arguments: it must never reach the database */
#define ARG_MARKER "ARGTEXT_5150_QQ"

static void up(void)
{
    srv_init(&S);
    char a[600];
    dir_write(&S, "a/notes.txt", "acme notes\n", a, sizeof a);
}

static void down(void)
{
    srv_cleanup(&S);
}

/* team.json: "main" (local) and "aws" of tenant acme, plus extra fields */
static void config_with(const char *extra)
{
    char more[1000];
    snprintf(more, sizeof more, "{\"id\": \"aws\", \"root\": \"%s/a\", \"tenant\": \"acme\"}",
             S.dir);
    srv_config_ws(&S, more, extra);
}

static const char *db_file(void)
{
    static char p[400];
    snprintf(p, sizeof p, "%s/data/ctxd.db", S.dir);
    return p;
}

/* the first column of the first row of sql on ctxd.db, as an integer; -1 when absent */
static long long db_int(const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(db_file(), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static void db_exec(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_file(), &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

/* does the file at path contain needle anywhere (binary-safe)? false when there is no file */
static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    size_t cap = 1 << 16, len = 0, n;
    char *data = malloc(cap);
    cr_assert_not_null(data);
    while ((n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            data = realloc(data, cap);
            cr_assert_not_null(data);
        }
    }
    fclose(f);
    bool hit = memmem(data, len, needle, strlen(needle)) != NULL;
    free(data);
    return hit;
}

static resp *rest_call(const char *token, const char *name, const char *args)
{
    char body[1000];
    snprintf(body, sizeof body, "{\"name\": \"%s\", \"arguments\": %s}", name, args);
    return req(&S, "POST", "/v1/tools/call", token, NULL, body);
}

static resp *mcp_call(const char *token, const char *name, const char *args)
{
    char body[1200];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
             "\"arguments\":%s,\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
             "\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
             name, args);
    const char *h[] = {"Accept: application/json, text/event-stream",
                       "MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call", NULL};
    char nh[160];
    snprintf(nh, sizeof nh, "Mcp-Name: %s", name);
    const char *hh[] = {h[0], h[1], h[2], nh, NULL};
    return req(&S, "POST", "/mcp", token, hh, body);
}

static long long rows_where(const char *cond)
{
    char q[600];
    snprintf(q, sizeof q, "SELECT count(*) FROM request_log WHERE %s", cond);
    return db_int(q);
}

Test(reqlog, rows_for_authenticated_requests_without_argument_text, .init = up, .fini = down,
     .timeout = 120)
{
    /* a key bucket of 6, refilled once in 1000 s: the seventh charge is a 429 */
    config_with("\"keyRateBurst\": 6, \"keyRps\": 0.001");
    srv_tenant(&S, "acme");
    char key[128], prefix[64];
    srv_key(&S, "acme", "read", NULL, key);
    apikey k;
    cr_assert(apikey_parse(key, strlen(key), &k));
    snprintf(prefix, sizeof prefix, "%s", k.prefix);
    cr_assert(srv_start(&S), "%s", slurp(S.log));

    long long n = 0, n429 = 0, n_read_ok = 0;
    resp *r = rest_call(key, "ctx_read", "{\"workspaceId\": \"aws\", \"path\": \"notes.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    n++, n_read_ok++;
    resp_free(r);
    /* a failing call whose arguments carry the marker */
    r = rest_call(key, "ctx_read",
                  "{\"workspaceId\": \"aws\", \"path\": \"no/such/" ARG_MARKER ".txt\"}");
    /* a tool error (isError), whose code the row keeps */
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(result_is_error(r), "%s", r->body);
    char missing_code[64];
    snprintf(missing_code, sizeof missing_code, "%s", tool_error_code(r));
    cr_assert(missing_code[0], "%s", r->body);
    n++;
    resp_free(r);
    r = rest_call(key, "ctx_search", "{\"workspaceId\": \"aws\", \"pattern\": \"" ARG_MARKER "\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    n++;
    resp_free(r);
    r = req(&S, "GET", "/v1/manifest", key, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    n++;
    resp_free(r);
    r = mcp_call(key, "ctx_read", "{\"workspaceId\": \"aws\", \"path\": \"notes.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    n++, n_read_ok++;
    resp_free(r);
    /* spend the bucket until a 429 (at most a few more calls) */
    for (int i = 0; i < 10 && n429 == 0; i++) {
        r = rest_call(key, "ctx_read", "{\"workspaceId\": \"aws\", \"path\": \"notes.txt\"}");
        cr_assert(r->status == 200 || r->status == 429, "%ld %s", r->status, r->body);
        n++;
        n429 += r->status == 429;
        n_read_ok += r->status == 200;
        resp_free(r);
    }
    cr_assert_eq(n429, 1, "no 429 within the bucket's capacity");
    /* the config token: tenant local */
    r = req(&S, "GET", "/v1/tools", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    /* not rows: no credential, a bad key, a route that needs none */
    r = req(&S, "GET", "/v1/manifest", NULL, NULL, NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    r = req(&S, "GET", "/v1/manifest", "ctxd_live_acme_000000000000000000000000000000_000000", NULL,
            NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    r = req(&S, "GET", "/health", NULL, NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    cr_assert_eq(srv_stop(&S), 0, "%s", slurp(S.log));

    cr_assert_eq(rows_where("1"), n + 1);
    char cond[300];
    snprintf(cond, sizeof cond, "tenant_id = 'acme' AND token_id = '%s'", prefix);
    cr_assert_eq(rows_where(cond), n);
    cr_assert_eq(rows_where("tenant_id = 'local' AND token_id = 'all' AND tool = '/v1/tools'"
                            " AND status = 200 AND error_message IS NULL"),
                 1);
    cr_assert_eq(rows_where("tenant_id = 'acme' AND tool = 'ctx_read' AND status = 200 AND"
                            " error_message IS NULL"),
                 n_read_ok);
    cr_assert_eq(rows_where("error_message IS NOT NULL"), 2, "the tool error and the 429");
    cr_assert_eq(rows_where("tool = 'ctx_search' AND status = 200"), 1);
    cr_assert_eq(rows_where("tool = '/v1/manifest' AND status = 200"), 1);
    cr_assert_eq(rows_where("tool = 'ctx_read' AND status = 429 AND error_message ="
                            " 'rate_limited'"),
                 1);
    snprintf(cond, sizeof cond, "tool = 'ctx_read' AND status = 200 AND error_message = '%s'",
             missing_code);
    cr_assert_eq(rows_where(cond), 1, "the failed read's row holds its error code");
    cr_assert_eq(rows_where("duration_ms < 0 OR duration_ms > 60000 OR ts < 1700000000000"), 0);
    /* nothing of the arguments, and no key, anywhere in the database files */
    char wal[420];
    snprintf(wal, sizeof wal, "%s-wal", db_file());
    cr_assert(!file_has(db_file(), ARG_MARKER));
    cr_assert(!file_has(wal, ARG_MARKER));
    cr_assert(!file_has(db_file(), key), "the whole key is never stored");
    cr_assert(!file_has(wal, key));
    cr_assert(!file_has(db_file(), "notes.txt"), "no argument text (a path)");
}

Test(reqlog, request_log_false_writes_nothing, .init = up, .fini = down, .timeout = 60)
{
    config_with("\"requestLog\": false");
    cr_assert(srv_start(&S), "%s", slurp(S.log));
    resp *r = req(&S, "GET", "/v1/tools", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_tree", "{\"depth\": 1}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert_eq(db_int("SELECT count(*) FROM request_log"), 0);
}

Test(reqlog, old_rows_are_pruned_in_the_background, .init = up, .fini = down, .timeout = 60)
{
    config_with("\"requestLogRetentionDays\": 30");
    srv_tenant(&S, "acme");                                       /* creates the store */
    long long now = (long long)time(NULL) * 1000, day = 86400000; /* wall clock, as ts is */
    char sql[1200];
    snprintf(sql, sizeof sql,
             "UPDATE tenants SET settings = '{\"request_log_retention_days\": 60}' WHERE id ="
             " 'acme';"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)"
             " INSERT INTO request_log (ts, tenant_id, token_id, tool, duration_ms, status)"
             " SELECT %lld, 'local', 'all', 'ctx_read', 1, 200 FROM n;"
             "INSERT INTO request_log (ts, tenant_id, tool, duration_ms, status) VALUES"
             " (%lld, 'local', 'ctx_read', 1, 200), (%lld, 'acme', 'ctx_read', 1, 200),"
             " (%lld, 'acme', 'ctx_read', 1, 200);",
             now - 40 * day, now - day, now - 40 * day, now - 70 * day);
    db_exec(sql);
    cr_assert_eq(db_int("SELECT count(*) FROM request_log"), 1503);
    cr_assert(srv_start(&S), "%s", slurp(S.log));
    long long left = -1;
    for (int i = 0; i < 150 && left != 2; i++) {
        usleep(100000);
        left = db_int("SELECT count(*) FROM request_log");
    }
    /* local keeps its recent row; acme (60 days) its 40-day-old one */
    cr_assert_eq(left, 2, "rows left after 15 s: %lld", left);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM request_log WHERE tenant_id = 'acme' AND ts = %lld",
             now - 40 * day);
    cr_assert_eq(db_int(sql), 1);
    cr_assert(log_wait(&S, 0, "pruned: 1501", 5000), "%s", slurp(S.log));
    cr_assert_eq(srv_stop(&S), 0);
}

Test(reqlog, retention_out_of_range_is_refused, .init = up, .fini = down, .timeout = 30)
{
    config_with("\"requestLogRetentionDays\": 0, \"requestLog\": \"yes\"");
    char *out = NULL, *err = NULL;
    const char *args[] = {"check-config", "--config", S.config, NULL};
    int rc = run_ctxd(args, &out, &err);
    cr_assert_neq(rc, 0);
    const char *all = err ? err : "";
    cr_assert(strstr(all, "requestLogRetentionDays") && strstr(all, "requestLog:"), "%s%s",
              out ? out : "", all);
    free(out);
    free(err);
}

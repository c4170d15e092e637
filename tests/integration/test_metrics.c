/* test_metrics.c - GET /v1/metrics and the usage tools (issue 6; http-conventions.md §5,
 * tools.md §4.9-§4.12): after calls that succeed, fail in the tool, are refused for scope and are
 * rate-limited, the JSON snapshot and the Prometheus text carry exactly those counts; promtool
 * accepts the text (when installed); the text is the `local` tenant's only, another tenant's
 * audit key sees only its own numbers, a credential without `audit` gets 403; ctx_metrics,
 * ctx_cost, ctx_heatmap and ctx_cache reflect exactly the calls made, and another tenant's or
 * channel's calls do not show. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static server S;
static char rd[80], burner[80], agent_a[80], agent_b[80];
static char acme_audit[128], acme_read[128];

static const char *const tree_main = "{\"depth\":1,\"workspaceId\":\"main\"}";
static const char *const tree_aws = "{\"depth\":1,\"workspaceId\":\"aws\"}";

/* team.json with "main" (local) and "aws" (tenant acme), tokens, acme's keys; started */
static void start(const char *extra)
{
    srv_init(&S);
    char a[600];
    dir_write(&S, "a/notes.txt", "acme notes\n", a, sizeof a);
    char more[1000];
    snprintf(more, sizeof more, "{\"id\": \"aws\", \"root\": \"%s/a\", \"tenant\": \"acme\"}",
             S.dir);
    srv_config_ws(&S, more, extra);
    cr_assert(srv_token(&S, "rd", "search", rd));
    cr_assert(srv_token(&S, "burner", "search", burner));
    cr_assert(srv_token(&S, "agent-a", "search", agent_a));
    cr_assert(srv_token(&S, "agent-b", "search", agent_b));
    srv_tenant(&S, "acme");
    srv_key(&S, "acme", "read", "--scopes=audit", acme_audit);
    srv_key(&S, "acme", "read", NULL, acme_read);
    cr_assert(srv_start(&S), "%s", slurp(S.log));
}

static void down(void)
{
    srv_cleanup(&S);
}

static json_t *find_row(json_t *arr, const char *k1, const char *v1, const char *k2, const char *v2)
{
    size_t i;
    json_t *row;
    json_array_foreach (arr, i, row) {
        const char *a = json_string_value(json_object_get(row, k1));
        const char *b = k2 ? json_string_value(json_object_get(row, k2)) : NULL;
        if (a && strcmp(a, v1) == 0 && (!k2 || (b && strcmp(b, v2) == 0))) {
            return row;
        }
    }
    return NULL;
}

static long long row_count(json_t *arr, const char *tool, const char *outcome)
{
    json_t *row = find_row(arr, "tool", tool, outcome ? "outcome" : NULL, outcome);
    return row ? json_integer_value(json_object_get(row, outcome ? "count" : "calls")) : 0;
}

static long long route_count(json_t *arr, const char *route, int code)
{
    size_t i;
    json_t *row;
    json_array_foreach (arr, i, row) {
        if (strcmp(json_string_value(json_object_get(row, "route")), route) == 0 &&
            json_integer_value(json_object_get(row, "code")) == code) {
            return json_integer_value(json_object_get(row, "count"));
        }
    }
    return 0;
}

/* the value of the sample line that starts with `prefix ` in text; -1 when absent */
static long long sample(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ') {
            return atoll(p + n + 1);
        }
    }
    return -1;
}

Test(metrics, counters_json_prometheus_and_access, .fini = down, .timeout = 120)
{
    start("\"keyRateBurst\": 40, \"keyRps\": 0.001");
    /* 3 ok calls by the operator's token */
    for (int i = 0; i < 3; i++) {
        resp *r = call_tool(&S, S.token, "ctx_tree", tree_main);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    /* a tool error, a scope refusal */
    resp *r = call_tool(&S, rd, "ctx_read", "{\"path\":\"nope.txt\",\"workspaceId\":\"main\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(result_is_error(r), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, rd, "ctx_index", "{\"action\":\"build\",\"workspaceId\":\"main\"}");
    cr_assert_eq(r->status, 403, "%s", r->body);
    resp_free(r);
    /* the burner's key bucket (40, no refill to speak of) runs dry: exactly one 429 */
    int served = 0;
    for (int i = 0; i < 60; i++) {
        r = call_tool(&S, burner, "ctx_tree", tree_main);
        long st = r->status;
        resp_free(r);
        if (st == 429) {
            break;
        }
        cr_assert_eq(st, 200);
        served++;
    }
    cr_assert_eq(served, 40, "the key bucket holds 40 units");
    /* another tenant's calls */
    for (int i = 0; i < 2; i++) {
        r = call_tool(&S, acme_read, "ctx_tree", tree_aws);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }

    r = req(&S, "GET", "/v1/metrics", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *calls = json_object_get(r->json, "toolCalls");
    cr_assert_eq(row_count(calls, "ctx_tree", "ok"), 3 + 40 + 2, "%s", r->body);
    cr_assert_eq(row_count(calls, "ctx_tree", "rate_limited"), 1, "%s", r->body);
    cr_assert_eq(row_count(calls, "ctx_read", "tool_error"), 1, "%s", r->body);
    cr_assert_eq(row_count(calls, "ctx_index", "denied"), 1, "%s", r->body);
    cr_assert_eq(
        json_integer_value(json_object_get(json_object_get(r->json, "rateLimited"), "key")), 1);
    json_t *http = json_object_get(r->json, "httpRequests");
    cr_assert_eq(route_count(http, "/v1/tools/call", 200), 3 + 1 + 40 + 2, "%s", r->body);
    cr_assert_eq(route_count(http, "/v1/tools/call", 403), 1);
    cr_assert_eq(route_count(http, "/v1/tools/call", 429), 1);
    json_t *lat =
        json_object_get(json_object_get(r->json, "httpRequestDuration"), "/v1/tools/call");
    cr_assert_eq(json_integer_value(json_object_get(lat, "count")), 3 + 1 + 1 + 41 + 2);
    /* the operator's usage is the local tenant's only: acme's two calls are not in it */
    json_t *usage = json_object_get(r->json, "usage");
    cr_assert_eq(row_count(usage, "ctx_tree", NULL), 3 + 40, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r->json, "sseStreams"), "mcp")),
                 0);
    cr_assert(find_row(json_object_get(r->json, "workspaces"), "workspace", "aws", NULL, NULL));
    resp_free(r);

    /* an index build: the per-workspace gauges come from the index's own counts */
    index_build_wait(&S);
    long long nfiles = index_db_int(&S, "main", "SELECT count(*) FROM files");
    long long nsyms = index_db_int(&S, "main", "SELECT count(*) FROM symbols");
    cr_assert_gt(nfiles, 0);

    /* the Prometheus text */
    r = req(&S, "GET", "/v1/metrics?format=prometheus", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    const char *t = r->body;
    cr_assert_eq(sample(t, "ctxd_tool_calls_total{tool=\"ctx_tree\",outcome=\"ok\"}"), 45, "%s", t);
    /* every admitted call emitted its tool_call_recorded event */
    cr_assert_geq(sample(t, "ctxd_events_appended_total{kind=\"tool_call_recorded\"}"), 45, "%s",
                  t);
    cr_assert_eq(sample(t, "ctxd_tool_calls_total{tool=\"ctx_tree\",outcome=\"rate_limited\"}"), 1);
    cr_assert_eq(sample(t, "ctxd_tool_calls_total{tool=\"ctx_index\",outcome=\"denied\"}"), 1);
    cr_assert_eq(sample(t, "ctxd_rate_limited_total{policy=\"key\"}"), 1);
    cr_assert_eq(sample(t, "ctxd_rate_limited_total{policy=\"global\"}"), 0);
    cr_assert_eq(sample(t, "ctxd_http_requests_total{route=\"/v1/tools/call\",code=\"429\"}"), 1);
    /* the tool histogram counts the admitted ctx_tree calls: 45 (the refused one never ran) */
    cr_assert_eq(sample(t, "ctxd_tool_call_duration_seconds_count{tool=\"ctx_tree\"}"), 45);
    cr_assert_eq(sample(t, "ctxd_tool_call_duration_seconds_bucket{tool=\"ctx_tree\",le=\"+Inf\"}"),
                 45);
    cr_assert(strstr(t, "# TYPE ctxd_http_request_duration_seconds histogram\n"));
    /* every workspace has its series (acme's may be indexed by the watcher meanwhile) */
    cr_assert_geq(sample(t, "ctxd_index_files{tenant=\"acme\",workspace=\"aws\"}"), 0, "%s", t);
    cr_assert_eq(sample(t, "ctxd_index_files{tenant=\"local\",workspace=\"main\"}"), nfiles);
    cr_assert_eq(sample(t, "ctxd_index_symbols{tenant=\"local\",workspace=\"main\"}"), nsyms);
    long long built =
        sample(t, "ctxd_index_last_success_timestamp_seconds{tenant=\"local\",workspace=\"main\"}");
    cr_assert(built > 0 && llabs(built - (long long)time(NULL)) < 120, "%lld", built);
    /* the build asked for, and any the server ran on its own (at start, the watcher) */
    long long builds = sample(t, "ctxd_index_build_duration_seconds_count");
    cr_assert_geq(builds, 1, "%s", t);
    cr_assert_geq(sample(t, "ctxd_index_build_duration_seconds_bucket{le=\"+Inf\"}"), 1, "%s", t);
    cr_assert(strstr(t, "ctxd_tenant_storage_bytes{tenant=\"acme\"} "), "%s", t);
    cr_assert(sample(t, "ctxd_process_resident_memory_bytes") > 0);
    cr_assert_eq(t[strlen(t) - 1], '\n');
    if (access("/usr/bin/promtool", X_OK) == 0 || system("command -v promtool >/dev/null") == 0) {
        char path[400];
        snprintf(path, sizeof path, "%s/metrics.prom", S.dir);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fputs(t, f);
        fclose(f);
        char *out = sh_out("promtool check metrics < '%s' 2>&1; echo rc=$?", path);
        cr_assert(out && strstr(out, "rc=0"), "promtool: %s", out ? out : "(none)");
        free(out);
    } else {
        cr_log_warn("promtool not installed: the text format check was skipped");
    }
    resp_free(r);

    /* another tenant's audit key: no Prometheus text, its own JSON numbers only */
    r = req(&S, "GET", "/v1/metrics?format=prometheus", acme_audit, NULL, NULL);
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    r = req(&S, "GET", "/v1/metrics", acme_audit, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "tenant")), "acme");
    usage = json_object_get(r->json, "usage");
    cr_assert_eq(row_count(usage, "ctx_tree", NULL), 2, "%s", r->body);
    cr_assert_null(json_object_get(r->json, "toolCalls"), "process-wide series leak: %s", r->body);
    cr_assert_null(json_object_get(r->json, "httpRequests"));
    cr_assert_null(
        find_row(json_object_get(r->json, "workspaces"), "workspace", "main", NULL, NULL));
    cr_assert_eq(json_array_size(json_object_get(r->json, "storage")), 1, "%s", r->body);
    cr_assert_null(strstr(r->body, "\"local\""), "%s", r->body);
    resp_free(r);
    /* without audit: 403, JSON and text alike */
    r = req(&S, "GET", "/v1/metrics", acme_read, NULL, NULL);
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    r = req(&S, "GET", "/v1/metrics?format=prometheus", rd, NULL, NULL);
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    r = req(&S, "GET", "/v1/metrics?format=xml", S.token, NULL, NULL);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    /* the refusals and the requests above are counted too */
    r = req(&S, "GET", "/v1/metrics?format=prometheus", S.token, NULL, NULL);
    cr_assert_eq(sample(r->body, "ctxd_http_requests_total{route=\"/v1/metrics\",code=\"403\"}"), 3,
                 "%s", r->body);
    cr_assert_eq(sample(r->body, "ctxd_http_requests_total{route=\"/v1/metrics\",code=\"200\"}"),
                 3);
    resp_free(r);
    cr_assert_eq(srv_stop(&S), 0);
}

static json_t *tool_sc(const char *token, const char *name, const char *args, char **text)
{
    resp *r = call_tool(&S, token, name, args);
    cr_assert_eq(r->status, 200, "%s: %s", name, r->body);
    cr_assert(!result_is_error(r), "%s: %s", name, r->body);
    json_t *sc = json_incref(structured_content(r));
    if (text) {
        *text = strdup(result_text(r));
    }
    resp_free(r);
    return sc;
}

static size_t text_len_of(const char *token, const char *name, const char *args)
{
    char *t = NULL;
    json_decref(tool_sc(token, name, args, &t));
    size_t n = strlen(t);
    free(t);
    return n;
}

#define JI(o, k) json_integer_value(json_object_get((o), (k)))

Test(metrics, usage_tools_reflect_exact_calls, .fini = down, .timeout = 120)
{
    start("");
    char *sha = ws_sha12(&S, "src/util.c");
    char args[300];
    /* agent A on channel c1: two reads (the second proves it holds the content), one tree */
    size_t bytes =
        text_len_of(agent_a, "ctx_read", "{\"path\":\"src/util.c\",\"channelId\":\"c1\"}");
    size_t toks = (bytes + 3) / 4; /* tokens are estimated per call: ceil(bytes / 4) */
    snprintf(args, sizeof args,
             "{\"path\":\"src/util.c\",\"known_hash\":\"%s\",\"channelId\":\"c1\"}", sha);
    resp *kr = call_tool(&S, agent_a, "ctx_read", args);
    cr_assert_eq(kr->status, 200, "%s", kr->body);
    const char *t = result_text(kr);
    cr_assert(t && strstr(t, "[unchanged: "), "%s", kr->body);
    bytes += strlen(t);
    toks += (strlen(t) + 3) / 4;
    resp_free(kr);
    size_t n = text_len_of(agent_a, "ctx_tree", "{\"depth\":1,\"channelId\":\"c1\"}");
    bytes += n;
    toks += (n + 3) / 4;
    /* agent B on the same channel reads two files; A on another channel, acme elsewhere */
    json_decref(
        tool_sc(agent_b, "ctx_read", "{\"path\":\"src/util.c\",\"channelId\":\"c1\"}", NULL));
    json_decref(
        tool_sc(agent_b, "ctx_read", "{\"path\":\"README.md\",\"channelId\":\"c1\"}", NULL));
    json_decref(
        tool_sc(agent_a, "ctx_read", "{\"path\":\"README.md\",\"channelId\":\"c2\"}", NULL));
    json_decref(
        tool_sc(acme_read, "ctx_read", "{\"path\":\"notes.txt\",\"channelId\":\"c1\"}", NULL));

    json_t *m = tool_sc(agent_a, "ctx_metrics", "{\"channelId\":\"c1\"}", NULL);
    cr_assert_eq(JI(m, "calls"), 3);
    cr_assert_eq(JI(m, "bytes"), (json_int_t)bytes);
    cr_assert_eq(JI(json_object_get(m, "tokens"), "sent"), (json_int_t)toks);
    cr_assert_eq(JI(m, "knownHashHits"), 1);
    cr_assert_eq(JI(m, "ledgerFiles"), 1);
    /* headroom: the key bucket (default keyRateBurst 100) after this call's charge */
    json_t *rl = json_object_get(m, "rateLimit");
    cr_assert_eq(json_real_value(json_object_get(rl, "capacity")), 100.0);
    double left = json_real_value(json_object_get(rl, "remaining"));
    cr_assert(left >= 0 && left < 100, "%f", left);
    json_t *tools = json_object_get(m, "tools");
    cr_assert_eq(row_count(tools, "ctx_read", NULL), 2);
    cr_assert_eq(row_count(tools, "ctx_tree", NULL), 1);
    json_decref(m);
    /* on channel c2, A made one call */
    m = tool_sc(agent_a, "ctx_metrics", "{\"channelId\":\"c2\"}", NULL);
    cr_assert_eq(JI(m, "calls"), 1);
    json_decref(m);
    /* acme's key sees only its own call on its workspace */
    m = tool_sc(acme_read, "ctx_metrics", "{\"channelId\":\"c1\"}", NULL);
    cr_assert_eq(JI(m, "calls"), 1);
    json_decref(m);

    /* heatmap of c1: util.c read by A twice and B once; README.md by B once (A's c2 read and
       acme's read do not show) */
    char *ht = NULL;
    json_t *h = tool_sc(agent_b, "ctx_heatmap", "{\"channelId\":\"c1\"}", &ht);
    cr_assert_eq(JI(h, "totalFiles"), 2, "%s", ht);
    cr_assert_eq(JI(h, "totalReads"), 4, "%s", ht);
    cr_assert(strstr(ht, "     3  src/util.c\n     1  README.md\n"), "%s", ht);
    cr_assert_null(strstr(ht, "notes.txt"));
    free(ht);
    json_decref(h);
    h = tool_sc(agent_b, "ctx_heatmap",
                "{\"action\":\"detail\",\"path\":\"src\",\"channelId\":\"c1\"}", &ht);
    cr_assert_eq(JI(h, "totalFiles"), 1, "%s", ht);
    json_t *f0 = json_array_get(json_object_get(h, "files"), 0);
    json_t *ag = json_object_get(f0, "agents");
    cr_assert_eq(json_array_size(ag), 2, "%s", ht);
    cr_assert_eq(JI(find_row(ag, "agent", "agent-a", NULL, NULL), "reads"), 2, "%s", ht);
    cr_assert_eq(JI(find_row(ag, "agent", "agent-b", NULL, NULL), "reads"), 1, "%s", ht);
    free(ht);
    json_decref(h);

    /* ctx_cost: A's own usage in main (all channels): 2 reads + tree + 2 metrics + 1 read (c2) */
    json_t *c = tool_sc(agent_a, "ctx_cost", "{\"action\":\"json\"}", NULL);
    cr_assert_eq(JI(c, "calls"), 6);
    json_decref(c);
    /* agent needs audit */
    resp *r = call_tool(&S, agent_a, "ctx_cost", "{\"action\":\"agent\"}");
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    /* every agent of the local tenant in main, never acme's key; the request log catches up
       within the writer's flush interval */
    long long deadline = now_ms() + 15000;
    json_t *rows = NULL;
    for (;;) {
        c = tool_sc(S.token, "ctx_cost", "{\"action\":\"agent\",\"limit\":1000}", NULL);
        rows = json_object_get(c, "rows");
        json_t *rr = find_row(rows, "agent", "agent-b", "tool", "ctx_read");
        if (rr && JI(json_object_get(rr, "requestLog"), "calls") == 2) {
            break;
        }
        cr_assert(now_ms() < deadline, "request log rows did not arrive: %s",
                  json_dumps(c, JSON_COMPACT));
        json_decref(c);
        usleep(200000);
    }
    json_t *ra = find_row(rows, "agent", "agent-a", "tool", "ctx_read");
    cr_assert_eq(JI(ra, "calls"), 3);
    cr_assert_eq(JI(json_object_get(ra, "requestLog"), "calls"), 3);
    char *dump = json_dumps(c, JSON_COMPACT);
    cr_assert_null(strstr(dump, "ctxd_live_acme"), "acme's agents show: %s", dump);
    free(dump);
    json_decref(c);

    /* ctx_cache: A's baselines on c1 (util.c), invalidate, clear */
    c = tool_sc(agent_a, "ctx_cache", "{\"channelId\":\"c1\"}", NULL);
    cr_assert_eq(JI(c, "entries"), 1);
    json_decref(c);
    c = tool_sc(agent_a, "ctx_cache",
                "{\"action\":\"invalidate\",\"path\":\"src/util.c\",\"channelId\":\"c1\"}", NULL);
    cr_assert_eq(JI(c, "forgotten"), 1);
    json_decref(c);
    c = tool_sc(agent_a, "ctx_cache", "{\"channelId\":\"c1\"}", NULL);
    cr_assert_eq(JI(c, "entries"), 0);
    json_decref(c);
    /* B's baselines are untouched by A's clear */
    c = tool_sc(agent_a, "ctx_cache", "{\"action\":\"clear\",\"channelId\":\"c2\"}", NULL);
    cr_assert_eq(JI(c, "forgotten"), 1);
    json_decref(c);
    c = tool_sc(agent_b, "ctx_cache", "{\"channelId\":\"c1\"}", NULL);
    cr_assert_eq(JI(c, "entries"), 2);
    json_decref(c);
    r = call_tool(&S, agent_a, "ctx_cache", "{\"action\":\"invalidate\"}");
    cr_assert(result_is_error(r), "%s", r->body);
    resp_free(r);
    free(sha);
    cr_assert_eq(srv_stop(&S), 0);
}

static long long sse_open(const char *kind)
{
    resp *r = req(&S, "GET", "/v1/metrics", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    long long v = JI(json_object_get(r->json, "sseStreams"), kind);
    resp_free(r);
    return v;
}

/* the MCP session gauge, in the JSON snapshot and the Prometheus text */
static long long mcp_sessions(void)
{
    resp *r = req(&S, "GET", "/v1/metrics", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    long long v = JI(r->json, "mcpSessions");
    resp_free(r);
    r = req(&S, "GET", "/v1/metrics?format=prometheus", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, "# TYPE ctxd_mcp_sessions gauge\n"), "%s", r->body);
    cr_assert_eq(sample(r->body, "ctxd_mcp_sessions"), v, "%s", r->body);
    resp_free(r);
    return v;
}

/* the SSE gauge follows an MCP GET stream: 1 while it is open, 0 once it has ended; the session
   gauge counts the session from initialize to DELETE */
Test(metrics, sse_stream_gauge, .fini = down, .timeout = 60)
{
    start("");
    cr_assert_eq(mcp_sessions(), 0);
    const char *h[] = {"Accept: application/json, text/event-stream", NULL};
    resp *r = req(&S, "POST", "/mcp", S.token, h,
                  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                  "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
                  "\"name\":\"t\",\"version\":\"1\"}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    char sid[128];
    snprintf(sid, sizeof sid, "%s", resp_header(r, "Mcp-Session-Id"));
    resp_free(r);
    cr_assert_eq(mcp_sessions(), 1);
    cr_assert_eq(sse_open("mcp"), 0);
    char out[400], cmd[1024];
    snprintf(out, sizeof out, "%s/get.out", S.dir);
    snprintf(cmd, sizeof cmd,
             "curl -sN --max-time 15 -H 'Authorization: Bearer %s' -H 'Accept: text/event-stream' "
             "-H 'Mcp-Session-Id: %s' http://127.0.0.1:%d/mcp > '%s' 2>/dev/null &",
             S.token, sid, S.port, out);
    cr_assert_eq(system(cmd), 0);
    long long deadline = now_ms() + 10000;
    while (sse_open("mcp") != 1) {
        cr_assert(now_ms() < deadline, "the stream was never counted");
        usleep(50000);
    }
    cr_assert_eq(sse_open("events"), 0);
    /* ending the session ends its stream (the server closes it): uncounted at once */
    char sidh[200];
    snprintf(sidh, sizeof sidh, "Mcp-Session-Id: %s", sid);
    const char *dh[] = {sidh, NULL};
    r = req(&S, "DELETE", "/mcp", S.token, dh, NULL);
    cr_assert(r->status == 200 || r->status == 204, "%ld %s", r->status, r->body);
    resp_free(r);
    deadline = now_ms() + 10000;
    while (sse_open("mcp") != 0) {
        cr_assert(now_ms() < deadline, "the closed stream is still counted");
        usleep(50000);
    }
    cr_assert_eq(mcp_sessions(), 0, "a deleted session is not counted");
    cr_assert_eq(srv_stop(&S), 0);
}

/* test_mcp.c - /mcp over HTTP as an MCP client sees it (mcp.md): both eras, sessions, the
 * header checks of 2026-07-28, outcomes of tools/call, refusals as JSON-RPC errors, RFC 9728
 * metadata, and the audit line of an MCP call. The official SDK and the conformance suite run
 * separately (tests/mcp). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static server S;

static void up(void)
{
    srv_init(&S);
    srv_config(&S, "");
    cr_assert(srv_start(&S));
}

static void down(void)
{
    srv_cleanup(&S);
}

#define MODERN_META                                                                                \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                       \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* POST /mcp with the usual headers plus extra (NULL-terminated, may be NULL) */
static resp *post(const char *token, const char *const *extra, const char *body)
{
    const char *h[16];
    int n = 0;
    h[n++] = "Accept: application/json, text/event-stream";
    for (int i = 0; extra && extra[i] && n < 15; i++) {
        h[n++] = extra[i];
    }
    h[n] = NULL;
    return req(&S, "POST", "/mcp", token, h, body);
}

static int rpc_code(resp *r)
{
    return (int)json_integer_value(json_object_get(json_object_get(r->json, "error"), "code"));
}

static const char *rpc_error_code(resp *r)
{
    json_t *c =
        json_object_get(json_object_get(json_object_get(r->json, "error"), "data"), "error_code");
    return json_is_string(c) ? json_string_value(c) : "";
}

/* initialize and return the session id (static storage) */
static const char *initialize(const char *token, const char *version)
{
    static char sid[128];
    char body[512];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
             "\"version\":\"1\"}}}",
             version);
    resp *r = post(token, NULL, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *res = json_object_get(r->json, "result");
    cr_assert_str_eq(json_string_value(json_object_get(res, "protocolVersion")),
                     strcmp(version, "1999-01-01") == 0 ? "2025-11-25" : version);
    cr_assert(json_is_true(json_object_get(
        json_object_get(json_object_get(res, "capabilities"), "tools"), "listChanged")));
    const char *h = resp_header(r, "Mcp-Session-Id");
    cr_assert(h && strlen(h) == 43, "session id: %s", h);
    snprintf(sid, sizeof sid, "%s", h);
    resp_free(r);
    return sid;
}

static resp *in_session(const char *sid, const char *body)
{
    char h[160];
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", sid);
    const char *extra[] = {h, NULL};
    return post(S.token, extra, body);
}

Test(mcp, legacy_session_lifecycle, .init = up, .fini = down)
{
    const char *sid = initialize(S.token, "2025-06-18");
    char id[64];
    snprintf(id, sizeof id, "%s", sid);
    resp *r = in_session(id, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    cr_assert_eq(r->status, 202, "%s", r->body);
    cr_assert_str_eq(r->body, "");
    resp_free(r);
    r = in_session(id, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), "p");
    cr_assert(json_is_object(json_object_get(r->json, "result")));
    resp_free(r);
    r = in_session(
        id, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
            "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"src/main.c\",\"mode\":\"raw\"}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *res = json_object_get(r->json, "result");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(res, "content"), 0), "text")),
                     "int main(void) {\n    return 0;\n}\n");
    cr_assert_null(json_object_get(res, "resultType"), "legacy results carry no resultType");
    cr_assert(resp_header(r, "RateLimit"), "tools/call responses carry RateLimit");
    resp_free(r);
    /* DELETE ends it; the id is then unknown */
    char h[160];
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", id);
    const char *dh[] = {h, NULL};
    r = req(&S, "DELETE", "/mcp", S.token, dh, NULL);
    cr_assert_eq(r->status, 204, "%s", r->body);
    resp_free(r);
    r = in_session(id, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
    cr_assert_eq(r->status, 404, "%s", r->body);
    resp_free(r);
}

Test(mcp, legacy_rules, .init = up, .fini = down)
{
    /* an unknown version negotiates the latest legacy one */
    initialize(S.token, "1999-01-01");
    /* no session, no _meta: 400 -32600 */
    resp *r = post(S.token, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32600);
    resp_free(r);
    /* a session minted for another token is unknown to this one */
    char other[80];
    cr_assert(srv_token(&S, "other", "search", other));
    usleep(1500000); /* the config watch picks the new token up */
    const char *sid = initialize(S.token, "2025-11-25");
    char h[160];
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", sid);
    const char *eh[] = {h, NULL};
    r = post(other, eh, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    cr_assert_eq(r->status, 404, "%s", r->body);
    resp_free(r);
    /* a bad MCP-Protocol-Version inside a session */
    const char *bh[] = {h, "MCP-Protocol-Version: 2024-01-01", NULL};
    r = post(S.token, bh, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    resp_free(r);
    /* a body that does not parse: -32700 */
    r = post(S.token, eh, "{\"jsonrpc\":");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32700, "%s", r->body);
    resp_free(r);
    /* batches are refused */
    r = post(S.token, eh, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32600);
    resp_free(r);
    /* unknown method: 200 with -32601 in the legacy era */
    r = post(S.token, eh, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"resources/list\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32601);
    resp_free(r);
    /* GET without a session: 405 */
    r = req(&S, "GET", "/mcp", S.token, NULL, NULL);
    cr_assert_eq(r->status, 405);
    resp_free(r);
}

Test(mcp, modern_headers_are_checked, .init = up, .fini = down)
{
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                       "\"name\":\"ctx_tree\",\"arguments\":{\"depth\":1}," MODERN_META "}}";
    const char *ok[] = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call",
                        "Mcp-Name: ctx_tree", NULL};
    resp *r = post(S.token, ok, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *res = json_object_get(r->json, "result");
    cr_assert_str_eq(json_string_value(json_object_get(res, "resultType")), "complete");
    cr_assert(json_object_get(json_object_get(res, "_meta"), "io.modelcontextprotocol/serverInfo"));
    cr_assert_null(resp_header(r, "Mcp-Session-Id"), "the modern era has no sessions");
    resp_free(r);
    /* the name may come base64-encoded */
    const char *b64[] = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call",
                         "Mcp-Name: =?base64?Y3R4X3RyZWU=?=", NULL};
    r = post(S.token, b64, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    const char *const *bad[] = {
        (const char *[]){"Mcp-Method: tools/call", "Mcp-Name: ctx_tree", NULL},
        (const char *[]){"MCP-Protocol-Version: 2025-11-25", "Mcp-Method: tools/call",
                         "Mcp-Name: ctx_tree", NULL},
        (const char *[]){"MCP-Protocol-Version: 2026-07-28", "Mcp-Name: ctx_tree", NULL},
        (const char *[]){"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/list",
                         "Mcp-Name: ctx_tree", NULL},
        (const char *[]){"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call", NULL},
        (const char *[]){"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call",
                         "Mcp-Name: ctx_read", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = post(S.token, bad[i], body);
        cr_assert_eq(r->status, 400, "case %zu: %s", i, r->body);
        cr_assert_eq(rpc_code(r), -32020, "case %zu: %s", i, r->body);
        resp_free(r);
    }
    /* an unsupported version in _meta with a header that disagrees: the mismatch comes first */
    const char *body2030 =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"ctx_tree\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2030-01-01\"}}}";
    r = post(S.token, ok, body2030);
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32020, "%s", r->body);
    resp_free(r);
    /* header and _meta agree on an unsupported version: -32022 with the supported list */
    const char *h2030[] = {"MCP-Protocol-Version: 2030-01-01", "Mcp-Method: tools/call",
                           "Mcp-Name: ctx_tree", NULL};
    r = post(S.token, h2030, body2030);
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32022);
    json_t *data = json_object_get(json_object_get(r->json, "error"), "data");
    cr_assert_str_eq(json_string_value(json_object_get(data, "requested")), "2030-01-01");
    cr_assert_eq(json_array_size(json_object_get(data, "supported")), 4);
    resp_free(r);
    /* the header says modern but _meta has no version: -32602 */
    r = post(S.token, ok,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
             "\"name\":\"ctx_tree\"}}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32602);
    resp_free(r);
    /* no client capabilities: -32602 */
    r = post(
        S.token, ok,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"ctx_tree\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32602);
    resp_free(r);
}

Test(mcp, modern_discover_list_and_unknown_methods, .init = up, .fini = down)
{
    const char *dh[] = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: server/discover", NULL};
    resp *r =
        post(S.token, dh,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{" MODERN_META
             "}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *res = json_object_get(r->json, "result");
    cr_assert_str_eq(json_string_value(json_object_get(res, "cacheScope")), "public");
    cr_assert_eq(json_integer_value(json_object_get(res, "ttlMs")), 3600000);
    cr_assert_str_eq(
        json_string_value(json_array_get(json_object_get(res, "supportedVersions"), 0)),
        "2026-07-28");
    resp_free(r);
    const char *lh[] = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/list", NULL};
    r = post(S.token, lh,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{" MODERN_META
             "}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    res = json_object_get(r->json, "result");
    cr_assert_str_eq(json_string_value(json_object_get(res, "cacheScope")), "private");
    cr_assert_eq(json_integer_value(json_object_get(res, "ttlMs")), 300000);
    json_t *tools = json_object_get(res, "tools");
    /* the same set as REST's listing for this token (one page: fewer than 50 tools) */
    resp *v = req(&S, "GET", "/v1/tools", S.token, NULL, NULL);
    size_t total = (size_t)json_integer_value(json_object_get(v->json, "total"));
    resp_free(v);
    cr_assert(total >= 4);
    cr_assert_eq(json_array_size(tools), total);
    json_t *ann = json_object_get(json_array_get(tools, 0), "annotations");
    cr_assert(json_is_true(json_object_get(ann, "readOnlyHint")));
    cr_assert(json_is_false(json_object_get(ann, "openWorldHint")));
    resp_free(r);
    /* a forged cursor */
    r = post(S.token, lh,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/"
             "list\",\"params\":{\"cursor\":\"x\"," MODERN_META "}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32602);
    resp_free(r);
    /* ping does not exist in 2026-07-28: 404 -32601 */
    const char *ph[] = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: ping", NULL};
    r = post(S.token, ph,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\",\"params\":{" MODERN_META "}}");
    cr_assert_eq(r->status, 404, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32601);
    resp_free(r);
}

Test(mcp, tool_call_outcomes, .init = up, .fini = down)
{
    const char *sid = initialize(S.token, "2025-11-25");
    char id[64];
    snprintf(id, sizeof id, "%s", sid);
    /* a missing file: a tool error result */
    resp *r = in_session(id, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                             "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"nope.c\"}}}");
    cr_assert_eq(r->status, 200);
    cr_assert(json_is_true(json_object_get(json_object_get(r->json, "result"), "isError")), "%s",
              r->body);
    resp_free(r);
    /* bad arguments: also a result the model can read, naming the argument */
    r = in_session(id, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                       "\"name\":\"ctx_tree\",\"arguments\":{\"depth\":0}}}");
    cr_assert_eq(r->status, 200);
    json_t *res = json_object_get(r->json, "result");
    cr_assert(json_is_true(json_object_get(res, "isError")), "%s", r->body);
    cr_assert(strstr(r->body, "depth must be between 1 and 10"), "%s", r->body);
    resp_free(r);
    /* an unknown tool (and one that executes code: it does not exist here) */
    r = in_session(id, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
                       "\"name\":\"ctx_shell\",\"arguments\":{}}}");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(rpc_code(r), -32602);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r->json, "error"), "message")),
        "Unknown tool: ctx_shell");
    resp_free(r);
    /* an unknown workspace */
    const char *wh[] = {"x-leanctx-workspace: elsewhere", NULL};
    char h[160];
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", id);
    const char *wh2[] = {h, wh[0], NULL};
    r = post(S.token, wh2,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{"
             "\"name\":\"ctx_tree\"}}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32602);
    cr_assert_str_eq(rpc_error_code(r), "unknown_workspace");
    resp_free(r);
    /* the audit line names the JSON-RPC method and the tool */
    json_t *lines = audit_wait(&S, 6, 2000);
    bool seen = false;
    for (size_t i = 0; i < json_array_size(lines); i++) {
        json_t *l = json_array_get(lines, i);
        const char *m = json_string_value(json_object_get(l, "method"));
        const char *t = json_string_value(json_object_get(l, "tool"));
        if (m && t && strcmp(m, "tools/call") == 0 && strcmp(t, "ctx_read") == 0) {
            seen = true;
            cr_assert(json_is_string(json_object_get(l, "argumentsHmac")));
            cr_assert_null(strstr(json_dumps(l, 0), "nope.c"), "no raw arguments in the audit");
        }
    }
    cr_assert(seen, "no audit line for tools/call ctx_read");
    json_decref(lines);
}

Test(mcp, auth_and_scopes, .init = up, .fini = down)
{
    /* no token: 401 with resource_metadata and a JSON-RPC body */
    resp *r =
        post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    cr_assert_eq(r->status, 401);
    const char *wa = resp_header(r, "WWW-Authenticate");
    cr_assert(wa && strstr(wa, "resource_metadata=\"http://127.0.0.1:") &&
                  strstr(wa, "/.well-known/oauth-protected-resource/mcp\""),
              "%s", wa);
    cr_assert_null(strstr(wa, "invalid_token"), "no token sent: no error attribute");
    cr_assert_eq(rpc_code(r), -31401);
    cr_assert_str_eq(rpc_error_code(r), "unauthorized");
    resp_free(r);
    r = post("0000000000000000000000000000000000000000000000000000000000000000", NULL,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    cr_assert_eq(r->status, 401);
    cr_assert(strstr(resp_header(r, "WWW-Authenticate"), "error=\"invalid_token\""));
    resp_free(r);
    /* a token whose scopes no tool needs (events): tools/list hides them all, tools/call is
       403 insufficient_scope */
    char graph[80];
    cr_assert(srv_token(&S, "events-only", "events", graph));
    usleep(1500000);
    const char *sid = initialize(graph, "2025-11-25");
    char h[160];
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", sid);
    const char *eh[] = {h, NULL};
    r = post(graph, eh, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    cr_assert_eq(json_array_size(json_object_get(json_object_get(r->json, "result"), "tools")), 0,
                 "%s", r->body);
    resp_free(r);
    r = post(graph, eh,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
             "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\"}}}");
    cr_assert_eq(r->status, 403, "%s", r->body);
    wa = resp_header(r, "WWW-Authenticate");
    cr_assert(wa && strstr(wa, "error=\"insufficient_scope\"") && strstr(wa, "scope=\"search\""),
              "%s", wa);
    cr_assert_eq(rpc_code(r), -31403);
    resp_free(r);
    /* a foreign Origin is refused before authentication */
    const char *oh[] = {"Origin: http://evil.example.com", NULL};
    r = post(S.token, oh, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    cr_assert_eq(r->status, 403, "%s", r->body);
    cr_assert_str_eq(rpc_error_code(r), "forbidden_origin");
    resp_free(r);
}

Test(mcp, protected_resource_metadata, .init = up, .fini = down)
{
    resp *r = req(&S, "GET", "/.well-known/oauth-protected-resource/mcp", NULL, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/mcp", S.port);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "resource")), want);
    cr_assert_str_eq(
        json_string_value(json_array_get(json_object_get(r->json, "bearer_methods_supported"), 0)),
        "header");
    cr_assert_eq(json_array_size(json_object_get(r->json, "scopes_supported")), 9);
    resp_free(r);
    r = req(&S, "GET", "/.well-known/oauth-protected-resource", NULL, NULL, NULL);
    snprintf(want, sizeof want, "http://127.0.0.1:%d", S.port);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "resource")), want);
    resp_free(r);
}

Test(mcp, a_call_with_a_progress_token_streams, .init = up, .fini = down)
{
    for (int i = 0; i < 150; i++) {
        char rel[64], body[64];
        snprintf(rel, sizeof rel, "gen/d%d/f%03d.txt", i % 7, i);
        snprintf(body, sizeof body, "needle %d\n", i);
        ws_write(&S, rel, body);
    }
    const char *h[] = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call",
                       "Mcp-Name: ctx_search", NULL};
    resp *r = post(S.token, h,
                   "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/call\",\"params\":{\"name\":"
                   "\"ctx_search\",\"arguments\":{\"pattern\":\"needle 1\\\\d\\\\d\"},\"_meta\":{"
                   "\"progressToken\":\"tok-1\",\"io.modelcontextprotocol/protocolVersion\":"
                   "\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strncmp(resp_header(r, "Content-Type"), "text/event-stream", 17) == 0);
    cr_assert_str_eq(resp_header(r, "X-Accel-Buffering"), "no");
    /* progress first, then the one response, which ends the stream */
    const char *prog = strstr(r->body, "\"method\":\"notifications/progress\"");
    const char *res = strstr(r->body, "\"id\":42,\"result\"");
    cr_assert(prog && res && prog < res, "%s", r->body);
    cr_assert(strstr(prog, "\"progressToken\":\"tok-1\""), "%s", r->body);
    cr_assert(strstr(res, "50 matches in 50 files"), "%s", r->body);
    resp_free(r);
    /* without a progress token the same call is plain JSON */
    r = post(S.token, h,
             "{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"ctx_search\",\"arguments\":{\"pattern\":\"needle 1\\\\d\\\\d\"}," MODERN_META "}}");
    cr_assert_str_eq(resp_header(r, "Content-Type"), "application/json");
    resp_free(r);
}

Test(mcp, the_get_stream_hears_of_a_tool_list_change, .init = up, .fini = down)
{
    const char *sid = initialize(S.token, "2025-11-25");
    char out[400];
    snprintf(out, sizeof out, "%s/get.out", S.dir);
    /* a GET stream read for 3 s in the background, while a token change reloads the config */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "curl -sN --max-time 3 -H 'Authorization: Bearer %s' -H 'Accept: text/event-stream' "
             "-H 'Mcp-Session-Id: %s' http://127.0.0.1:%d/mcp > '%s' 2>/dev/null &",
             S.token, sid, S.port, out);
    cr_assert_eq(system(cmd), 0);
    usleep(500000);
    char tok[80];
    cr_assert(srv_token(&S, "newcomer", "search", tok));
    usleep(3000000);
    char *got = slurp(out);
    cr_assert(got, "no stream output");
    cr_assert(strncmp(got, "id: 0\ndata: \n\n", 14) == 0, "2025-11-25 streams start primed: %s",
              got);
    cr_assert(
        strstr(got, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}"),
        "%s", got);
    free(got);
}

Test(mcp, notifications_cancelled_stops_a_call, .init = up, .fini = down)
{
    make_slow_tree(&S, "ws/slow", 3000);
    const char *sid = initialize(S.token, "2025-11-25");
    char sidh[160];
    snprintf(sidh, sizeof sidh, "Mcp-Session-Id: %s", sid);
    char body[512];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":\"slow-1\",\"method\":\"tools/call\",\"params\":{"
             "\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
             "\",\"path\":\"slow\"}}}");
    /* the slow call, in the background, through curl with the session header */
    char out[400], cmd[2048];
    snprintf(out, sizeof out, "%s/slow.out", S.dir);
    snprintf(cmd, sizeof cmd,
             "curl -s --max-time 20 -H 'Authorization: Bearer %s' -H 'Content-Type: "
             "application/json' -H '%s' -d '%s' http://127.0.0.1:%d/mcp > '%s' 2>/dev/null &",
             S.token, sidh, body, S.port, out);
    long long t0 = now_ms();
    cr_assert_eq(system(cmd), 0);
    usleep(400000);
    const char *eh[] = {sidh, NULL};
    resp *r = post(S.token, eh,
                   "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
                   "\"requestId\":\"slow-1\",\"reason\":\"user\"}}");
    cr_assert_eq(r->status, 202, "%s", r->body);
    resp_free(r);
    char *got = NULL;
    for (int i = 0; i < 100; i++) {
        free(got);
        got = slurp(out);
        if (got && *got) {
            break;
        }
        usleep(50000);
    }
    cr_assert(got && strstr(got, "\"code\":-32800"), "the call was not cancelled: %s", got);
    cr_assert_lt(now_ms() - t0, 3000, "cancelled after %lld ms", now_ms() - t0);
    free(got);
}

Test(mcp, listen_acknowledges_and_announces_tool_list_changes, .init = up, .fini = down)
{
    char out[400], cmd[2048];
    snprintf(out, sizeof out, "%s/listen.out", S.dir);
    snprintf(
        cmd, sizeof cmd,
        "curl -sN --max-time 3 -H 'Authorization: Bearer %s' -H 'Content-Type: "
        "application/json' -H 'Accept: application/json, text/event-stream' -H "
        "'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: subscriptions/listen' -d "
        "'{\"jsonrpc\":\"2.0\",\"id\":\"sub-7\",\"method\":\"subscriptions/listen\","
        "\"params\":{\"notifications\":{\"toolsListChanged\":true,\"promptsListChanged\":true},"
        "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
        "\"io.modelcontextprotocol/clientCapabilities\":{}}}}' http://127.0.0.1:%d/mcp > "
        "'%s' 2>/dev/null &",
        S.token, S.port, out);
    cr_assert_eq(system(cmd), 0);
    usleep(500000);
    char tok[80];
    cr_assert(srv_token(&S, "newcomer", "search", tok));
    usleep(3000000);
    char *got = slurp(out);
    cr_assert(got, "no stream output");
    const char *ack = strstr(got, "notifications/subscriptions/acknowledged");
    const char *chg = strstr(got, "notifications/tools/list_changed");
    cr_assert(ack && chg && ack < chg, "%s", got);
    cr_assert(strstr(ack, "\"io.modelcontextprotocol/subscriptionId\":\"sub-7\""), "%s", got);
    cr_assert(strstr(ack, "\"notifications\":{\"toolsListChanged\":true}"),
              "only the honoured types are acknowledged: %s", got);
    cr_assert(strstr(chg, "/subscriptionId\":\"sub-7\""), "%s", got);
    free(got);
}

Test(mcp, cors_preflight, .init = up, .fini = down)
{
    char origin[96];
    snprintf(origin, sizeof origin, "Origin: http://localhost:%d", S.port);
    const char *ok[] = {origin, "Access-Control-Request-Method: POST", NULL};
    resp *r = req(&S, "OPTIONS", "/mcp", NULL, ok, NULL);
    cr_assert_eq(r->status, 204, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Access-Control-Allow-Origin"), origin + 8);
    cr_assert(strstr(resp_header(r, "Access-Control-Allow-Headers"), "Mcp-Session-Id"));
    cr_assert_null(resp_header(r, "Access-Control-Allow-Credentials"));
    resp_free(r);
    const char *bad[] = {"Origin: http://evil.example.com", NULL};
    r = req(&S, "OPTIONS", "/mcp", NULL, bad, NULL);
    cr_assert_eq(r->status, 403, "%s", r->body);
    resp_free(r);
    /* an actual request from the allowed origin can read the session id */
    r = post(S.token, ok,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":\"2025-11-25\"}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Access-Control-Allow-Origin"), origin + 8);
    cr_assert(strstr(resp_header(r, "Access-Control-Expose-Headers"), "Mcp-Session-Id"));
    resp_free(r);
}

Test(mcp, sigterm_ends_open_streams_and_exits, .init = up, .fini = down)
{
    const char *sid = initialize(S.token, "2025-11-25");
    char out[400], cmd[1024];
    snprintf(out, sizeof out, "%s/get.out", S.dir);
    snprintf(cmd, sizeof cmd,
             "curl -sN --max-time 20 -H 'Authorization: Bearer %s' -H 'Accept: text/event-stream' "
             "-H 'Mcp-Session-Id: %s' http://127.0.0.1:%d/mcp > '%s' 2>/dev/null &",
             S.token, sid, S.port, out);
    cr_assert_eq(system(cmd), 0);
    usleep(500000);
    long long t0 = now_ms();
    cr_assert_eq(srv_stop(&S), 0, "SIGTERM with an open stream must exit 0");
    cr_assert_lt(now_ms() - t0, 3000, "stopping took %lld ms", now_ms() - t0);
    usleep(200000);
    char *got = slurp(out);
    cr_assert(got && strstr(got, ": shutdown"), "the stream is told: %s", got);
    free(got);
}

Test(mcp, last_event_id_replays_what_was_missed, .init = up, .fini = down)
{
    const char *sid = initialize(S.token, "2025-11-25");
    char session[64];
    snprintf(session, sizeof session, "%s", sid);
    /* no stream open while the tool list changes */
    char tok[80];
    cr_assert(srv_token(&S, "newcomer", "search", tok));
    usleep(1500000);
    /* the client comes back: it had seen the priming event 0 */
    char out[400], cmd[1024];
    snprintf(out, sizeof out, "%s/resume.out", S.dir);
    snprintf(cmd, sizeof cmd,
             "curl -sN --max-time 1 -H 'Authorization: Bearer %s' -H 'Accept: text/event-stream' "
             "-H 'Mcp-Session-Id: %s' -H 'Last-Event-ID: 0' http://127.0.0.1:%d/mcp > '%s' "
             "2>/dev/null; true",
             S.token, session, S.port, out);
    cr_assert_eq(system(cmd), 0);
    char *got = slurp(out);
    cr_assert(
        got && strstr(got, "id: 1\nevent: message\ndata: "
                           "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}"),
        "%s", got);
    cr_assert_null(strstr(got, "id: 0\n"), "no priming event on a resumed stream: %s", got);
    free(got);
}

Test(mcp, batches_inside_a_2025_03_26_session, .init = up, .fini = down)
{
    const char *sid = initialize(S.token, "2025-03-26");
    char h[160];
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", sid);
    const char *eh[] = {h, NULL};
    resp *r = post(S.token, eh,
                   "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                   "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                   "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"src/util.c\",\"mode\":"
                   "\"lines:1-1\"}}},"
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}]");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_array(r->json), "%s", r->body);
    cr_assert_eq(json_array_size(r->json), 3, "one answer per request, none for the notification");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 0), "id")), 1);
    cr_assert(strstr(r->body, "int add(int a, int b)"), "%s", r->body);
    cr_assert_eq(json_integer_value(
                     json_object_get(json_object_get(json_array_get(r->json, 2), "error"), "code")),
                 -32601);
    resp_free(r);
    /* notifications only: 202 */
    r = post(S.token, eh, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
    cr_assert_eq(r->status, 202, "%s", r->body);
    resp_free(r);
    /* initialize in a batch is refused inside it */
    r = post(S.token, eh, "[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"initialize\"}]");
    cr_assert_eq(rpc_code(r), 0);
    cr_assert(strstr(r->body, "must not be part of a batch"), "%s", r->body);
    resp_free(r);
    /* in a later revision's session: refused whole */
    const char *sid2 = initialize(S.token, "2025-06-18");
    snprintf(h, sizeof h, "Mcp-Session-Id: %s", sid2);
    r = post(S.token, eh, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_eq(rpc_code(r), -32600);
    resp_free(r);
}

Test(mcp, public_url_names_the_resource)
{
    srv_init(&S);
    srv_config(&S, "\"publicUrl\": \"https://ctxd.example.internal\"");
    cr_assert(srv_start(&S));
    resp *r = req(&S, "GET", "/.well-known/oauth-protected-resource/mcp", NULL, NULL, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "resource")),
                     "https://ctxd.example.internal/mcp");
    resp_free(r);
    r = post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    cr_assert(strstr(resp_header(r, "WWW-Authenticate"),
                     "resource_metadata=\"https://ctxd.example.internal/.well-known/"
                     "oauth-protected-resource/mcp\""),
              "%s", resp_header(r, "WWW-Authenticate"));
    resp_free(r);
    srv_cleanup(&S);
    /* a bad one is refused at start, named */
    srv_init(&S);
    srv_config(&S, "\"publicUrl\": \"ctxd.example.internal/\"");
    cr_assert_not(srv_start(&S));
    char *log = slurp(S.log);
    cr_assert(strstr(log, "publicUrl: must be an http:// or https:// URL"), "%s", log);
    free(log);
    srv_cleanup(&S);
}

/* test_errors.c - every row of DESIGN §4's error table that this server has, as a client sees
 * it: status, error_code, the envelope {"error", "error_code", ...} with a JSON content type and
 * an X-Request-Id, and the extra headers a row promises (WWW-Authenticate, Allow). Also the
 * workspace precedence of tools.md §1.1 and the note about ignored arguments. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *const no_ct[] = {"Content-Type:", NULL};

static void start(server *s, const char *extra)
{
    srv_init(s);
    srv_config(s, extra);
    cr_assert(srv_start(s), "server did not start");
}

Test(errors, unauthorized_every_kind_of_bad_credential)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char gone[80];
    cr_assert(srv_token(&s, "gone", "search", gone));
    const char *rv[] = {"team", "token", "revoke", "--config", s.config, "--id", "gone", NULL};
    cr_assert_eq(run_ctxd(rv, NULL, NULL), 0);
    cr_assert(srv_start(&s));
    const char *body = "{\"name\":\"ctx_tree\"}";

    /* no credential: a challenge without error= (RFC 6750 §3.1) */
    resp *r = req(&s, "POST", "/v1/tools/call", NULL, NULL, body);
    expect_error(r, 401, "unauthorized");
    const char *wa = resp_header(r, "WWW-Authenticate");
    cr_assert(wa && strncmp(wa, "Bearer ", 7) == 0, "WWW-Authenticate: %s", wa);
    cr_assert_null(strstr(wa, "error="), "no token was sent: %s", wa);
    resp_free(r);

    /* malformed, unknown, revoked: the same answer, with error="invalid_token" */
    char unknown[80];
    snprintf(unknown, sizeof unknown, "%s",
             "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
    const char *bad[][2] = {
        {"Authorization: Bearer abc", "short"},
        {"Authorization: Basic dXNlcjpwYXNz", "not bearer"},
        {"Authorization: Bearer 00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
         "63 chars"},
        {"Authorization: Bearer zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "not hex"},
        {"X-API-Key: nope", "bad X-API-Key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *h[] = {bad[i][0], NULL};
        r = req(&s, "POST", "/v1/tools/call", NULL, h, body);
        expect_error(r, 401, "unauthorized");
        wa = resp_header(r, "WWW-Authenticate");
        cr_assert(wa && strncmp(wa, "Bearer ", 7) == 0, "%s: %s", bad[i][1], wa);
        cr_assert(strstr(wa, "error=\"invalid_token\""), "%s: %s", bad[i][1], wa);
        resp_free(r);
    }
    const char *toks[] = {unknown, gone};
    char *first_msg = NULL;
    for (size_t i = 0; i < 2; i++) {
        r = req(&s, "POST", "/v1/tools/call", toks[i], NULL, body);
        expect_error(r, 401, "unauthorized");
        wa = resp_header(r, "WWW-Authenticate");
        cr_assert(wa && strstr(wa, "error=\"invalid_token\""), "%s", wa);
        /* unknown and revoked read the same: no oracle for which tokens once existed */
        const char *msg = json_string_value(json_object_get(r->json, "error"));
        if (!first_msg) {
            first_msg = strdup(msg);
        } else {
            cr_assert_str_eq(msg, first_msg);
        }
        resp_free(r);
    }
    free(first_msg);

    /* the same routes answer a good credential, in either header */
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    char xk[120];
    snprintf(xk, sizeof xk, "X-API-Key: %s", s.token);
    const char *xh[] = {xk, NULL};
    r = req(&s, "GET", "/v1/manifest", NULL, xh, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&s, "GET", "/v1/manifest", NULL, NULL, NULL);
    expect_error(r, 401, "unauthorized");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, scope_denied_for_each_search_tool)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char g[80];
    cr_assert(srv_token(&s, "graph-only", "graph", g));
    cr_assert(srv_start(&s));
    const char *tools[][2] = {
        {"ctx_read", "{\"path\":\"README.md\"}"},
        {"ctx_search", "{\"pattern\":\"main\"}"},
        {"ctx_tree", "{}"},
        {"ctx_glob", "{\"pattern\":\"*.c\"}"},
    };
    for (size_t i = 0; i < 4; i++) {
        resp *r = call_tool(&s, g, tools[i][0], tools[i][1]);
        expect_error(r, 403, "scope_denied");
        cr_assert_str_eq(resp_header(r, "WWW-Authenticate"),
                         "Bearer error=\"insufficient_scope\", scope=\"search\"", "%s",
                         tools[i][0]);
        char msg[120];
        snprintf(msg, sizeof msg, "%s needs the search scope", tools[i][0]);
        cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")), msg);
        json_t *need = json_object_get(r->json, "requiredScopes");
        cr_assert_eq(json_array_size(need), 1, "%s", r->body);
        cr_assert_str_eq(json_string_value(json_array_get(need, 0)), "search");
        resp_free(r);
    }
    /* the token is valid: it may list what it holds */
    resp *r = req(&s, "GET", "/v1/manifest", g, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    /* exactly the tools whose base scope is graph (tools.md §0) */
    json_t *listed = json_object_get(r->json, "tools");
    const char *graph_tools[] = {"ctx_graph", "ctx_callgraph", "ctx_impact", "ctx_routes",
                                 "ctx_architecture"};
    cr_assert_eq(json_array_size(listed), 5, "%s", r->body);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(listed, i), "name")),
                         graph_tools[i], "%s", r->body);
    }
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, forbidden_origin)
{
    server s;
    start(&s, "");
    const char *body = "{\"name\":\"ctx_tree\"}";
    const char *evil_host[] = {"Host: evil.example.com", NULL};
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, evil_host, body);
    expect_error(r, 403, "forbidden_origin");
    resp_free(r);
    /* checked before authentication, and on GET routes too */
    r = req(&s, "GET", "/v1/manifest", NULL, evil_host, NULL);
    expect_error(r, 403, "forbidden_origin");
    resp_free(r);
    const char *evil_origin[] = {"Origin: http://evil.example.com", NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, evil_origin, body);
    expect_error(r, 403, "forbidden_origin");
    resp_free(r);
    const char *null_origin[] = {"Origin: null", NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, null_origin, body);
    expect_error(r, 403, "forbidden_origin");
    resp_free(r);

    /* loopback names and a same-host Origin pass */
    char same[120], lh[120];
    snprintf(same, sizeof same, "Origin: http://127.0.0.1:%d", s.port);
    snprintf(lh, sizeof lh, "Host: localhost:%d", s.port);
    const char *ok1[] = {same, NULL};
    const char *ok2[] = {lh, NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, ok1, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, ok2, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);

    /* allowedHosts admits a name on the loopback bind, for Host and Origin */
    server t;
    start(&t, "\"allowedHosts\": [\"evil.example.com\"]");
    r = req(&t, "POST", "/v1/tools/call", t.token, evil_host, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&t, "POST", "/v1/tools/call", t.token, evil_origin, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    const char *other[] = {"Host: other.example.com", NULL};
    r = req(&t, "POST", "/v1/tools/call", t.token, other, body);
    expect_error(r, 403, "forbidden_origin");
    resp_free(r);
    cr_assert_eq(srv_stop(&t), 0);
}

Test(errors, unknown_workspace_from_every_source)
{
    server s;
    start(&s, "");
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL,
                  "{\"name\":\"ctx_tree\",\"workspaceId\":\"nope\"}");
    expect_error(r, 400, "unknown_workspace");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                     "unknown workspace 'nope'");
    resp_free(r);
    const char *h1[] = {"x-leanctx-workspace: nope", NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, h1, "{\"name\":\"ctx_tree\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);
    const char *h2[] = {"X-Workspace: nope", NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, h2, "{\"name\":\"ctx_tree\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);
    r = call_tool(&s, s.token, "ctx_tree", "{\"workspaceId\":\"nope\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);
    /* a wrong type is not silently ignored either */
    r = call_tool(&s, s.token, "ctx_tree", "{\"workspaceId\":7}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

/* the text of which.txt as ctx_read mode=raw returns it, for one body and headers */
static char *which(server *s, const char *const *headers, const char *body)
{
    resp *r = req(s, "POST", "/v1/tools/call", s->token, headers, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_not(result_is_error(r), "%s", r->body);
    char *out = strdup(result_text(r)); /* mode=raw: the file as it is */
    size_t n = strlen(out);
    if (n && out[n - 1] == '\n') {
        out[n - 1] = '\0';
    }
    resp_free(r);
    return out;
}

Test(errors, workspace_precedence)
{
    server s;
    srv_init(&s);
    ws_write(&s, "which.txt", "main\n");
    char p1[600], p2[600], more[2048];
    dir_write(&s, "ws-b/which.txt", "b\n", p1, sizeof p1);
    dir_write(&s, "ws-c/which.txt", "c\n", p2, sizeof p2);
    *strrchr(p1, '/') = '\0';
    *strrchr(p2, '/') = '\0';
    snprintf(more, sizeof more,
             "{\"id\": \"b\", \"root\": \"%s\"}, {\"id\": \"c\", \"root\": \"%s\"}", p1, p2);
    srv_config_ws(&s, more, "");
    cr_assert(srv_start(&s));
    const char *hb[] = {"x-leanctx-workspace: b", NULL};
    const char *hb2[] = {"X-Workspace: b", NULL};
    const char *args_c = "{\"path\":\"which.txt\",\"mode\":\"raw\",\"workspaceId\":\"c\"}";
    char body[512];
    struct {
        const char *const *h;
        const char *ws_body;
        const char *args;
        const char *want;
    } cases[] = {
        {NULL, NULL, "{\"path\":\"which.txt\",\"mode\":\"raw\"}", "main"}, /* defaultWorkspaceId */
        {hb, NULL, "{\"path\":\"which.txt\",\"mode\":\"raw\"}", "b"},      /* header > default */
        {hb2, NULL, "{\"path\":\"which.txt\",\"mode\":\"raw\"}", "b"},     /* X-Workspace too */
        {hb, NULL, args_c, "c"},                                           /* argument > header */
        {hb, "main", args_c, "main"},                                      /* body > argument */
        {NULL, "b", args_c, "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].ws_body) {
            snprintf(body, sizeof body,
                     "{\"name\":\"ctx_read\",\"workspaceId\":\"%s\",\"arguments\":%s}",
                     cases[i].ws_body, cases[i].args);
        } else {
            snprintf(body, sizeof body, "{\"name\":\"ctx_read\",\"arguments\":%s}", cases[i].args);
        }
        char *got = which(&s, cases[i].h, body);
        cr_assert_str_eq(got, cases[i].want, "case %zu: %s", i, body);
        free(got);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, unknown_tool)
{
    server s;
    start(&s, "");
    const char *names[] = {"ctx_nope", "ctx_shell", "ctx_execute",
                           "ctx_edit", "ctx_patch", "shell"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        resp *r = call_tool(&s, s.token, names[i], "{\"command\":\"id\"}");
        expect_error(r, 404, "unknown_tool");
        char want[200];
        snprintf(want, sizeof want,
                 "{\"error\":\"unknown tool: %s\",\"error_code\":\"unknown_tool\"}", names[i]);
        cr_assert_str_eq(r->body, want);
        resp_free(r);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, not_found_and_method_not_allowed)
{
    server s;
    start(&s, "");
    const char *paths[] = {"/v1/nope", "/", "/v1/tools/call/x", "/v1/manifest/", "/V1/manifest"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        resp *r = req(&s, "GET", paths[i], s.token, NULL, NULL);
        expect_error(r, 404, "not_found");
        resp_free(r);
        /* route lookup comes first: no credential needed to learn there is nothing */
        r = req(&s, "GET", paths[i], NULL, NULL, NULL);
        expect_error(r, 404, "not_found");
        resp_free(r);
    }
    struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"GET", "/v1/tools/call", "POST"},
        {"PUT", "/v1/tools/call", "POST"},
        {"POST", "/v1/manifest", "GET"},
        {"DELETE", "/health", "GET"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp *r = req(&s, cases[i].method, cases[i].path, s.token, NULL, NULL);
        expect_error(r, 405, "method_not_allowed");
        cr_assert_str_eq(resp_header(r, "Allow"), cases[i].allow, "%s %s", cases[i].method,
                         cases[i].path);
        resp_free(r);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, unsupported_media_type)
{
    server s;
    start(&s, "");
    const char *body = "{\"name\":\"ctx_tree\"}";
    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *near[] = {"Content-Type: application/jsonx", NULL};
    const char *const *bad[] = {text, form, near, no_ct};
    for (size_t i = 0; i < 4; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", s.token, bad[i], body);
        expect_error(r, 415, "unsupported_media_type");
        resp_free(r);
    }
    const char *param[] = {"Content-Type: application/json; charset=utf-8", NULL};
    const char *upper[] = {"Content-Type: Application/JSON", NULL};
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, param, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, upper, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

/* {"name":"ctx_tree","arguments":{"x":[[...]]}} with `arrays` nested arrays: depth arrays + 2 */
static char *nested(int arrays)
{
    size_t n = (size_t)arrays * 2 + 64;
    char *b = malloc(n);
    size_t o = (size_t)snprintf(b, n, "{\"name\":\"ctx_tree\",\"arguments\":{\"x\":");
    for (int i = 0; i < arrays; i++) {
        b[o++] = '[';
    }
    for (int i = 0; i < arrays; i++) {
        b[o++] = ']';
    }
    snprintf(b + o, n - o, "}}");
    return b;
}

Test(errors, invalid_request)
{
    server s;
    start(&s, "");
    const char *bodies[] = {
        "{\"name\":",                                                      /* malformed */
        "",                                                                /* empty */
        "[{\"name\":\"ctx_tree\"}]",                                       /* not an object */
        "\"ctx_tree\"",                                                    /* not an object */
        "{\"name\":\"ctx_tree\",\"name\":\"ctx_read\"}",                   /* duplicate key */
        "{\"name\":\"ctx_tree\",\"arguments\":{\"depth\":1,\"depth\":2}}", /* nested duplicate */
        "{\"arguments\":{}}",                                              /* no name */
        "{\"name\":7}",                                                    /* name not a string */
        "{\"name\":\"ctx_tree\",\"workspaceId\":7}",        /* workspaceId not a string */
        "{\"name\":\"ctx_tree\",\"channelId\":\"a/../b\"}", /* channelId with a .. segment */
        "{\"name\":\"ctx_tree\"} trailing",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, bodies[i]);
        expect_error(r, 400, "invalid_request");
        resp_free(r);
    }
    resp *r =
        req(&s, "POST", "/v1/tools/call", s.token, NULL, "{\"name\":\"ctx_tree\",\"name\":\"x\"}");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "duplicate"), "%s",
              r->body);
    resp_free(r);

    /* 64 levels are accepted, 65 are not */
    char *b64 = nested(62), *b65 = nested(63);
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, b64);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, b65);
    expect_error(r, 400, "invalid_request");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                     "JSON nested deeper than 64 levels");
    resp_free(r);
    free(b64);
    free(b65);

    /* Authorization and X-API-Key must carry one credential */
    char xk[120], other[120];
    snprintf(xk, sizeof xk, "X-API-Key: %s", s.token);
    snprintf(other, sizeof other, "X-API-Key: %s",
             "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
    const char *h_other[] = {other, NULL};
    const char *h_same[] = {xk, NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, h_other, "{\"name\":\"ctx_tree\"}");
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, h_same, "{\"name\":\"ctx_tree\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, invalid_arguments)
{
    server s;
    start(&s, "");
    struct {
        const char *tool, *args, *msg;
    } cases[] = {
        {"ctx_tree", "{\"depth\":0}", "depth must be between 1 and 10"},
        {"ctx_tree", "{\"depth\":11}", "depth must be between 1 and 10"},
        {"ctx_tree", "{\"depth\":\"2\"}", "depth must be an integer"},
        {"ctx_tree", "{\"depth\":1.5}", "depth must be an integer"},
        {"ctx_read", "{\"path\":\"README.md\",\"mode\":\"lines:44:48\"}",
         "invalid read mode \"lines:44:48\": expected lines:START-END, e.g. lines:72-92, or a "
         "comma list such as lines:5,10-20"},
        {"ctx_glob", "{}", "pattern is required"},
        {"ctx_glob", "{\"pattern\":null}", "pattern is required"},
        {"ctx_search", "{\"pattern\":\"x\",\"max_results\":0}",
         "max_results must be between 1 and 500"},
        {"ctx_tree", "[1]", "arguments must be a JSON object"},
        {"ctx_tree", "\"x\"", "arguments must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp *r = call_tool(&s, s.token, cases[i].tool, cases[i].args);
        expect_error(r, 400, "invalid_arguments");
        cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")), cases[i].msg,
                         "%s %s", cases[i].tool, cases[i].args);
        resp_free(r);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, payload_too_large)
{
    server s;
    start(&s, "\"maxBodyBytes\": 1024");
    /* a body that fits exactly is read; one byte more is refused */
    char fits[1025], over[1026];
    int pre = snprintf(fits, sizeof fits, "{\"name\":\"ctx_tree\",\"arguments\":{\"pad\":\"");
    memset(fits + pre, 'p', 1024 - (size_t)pre - 3);
    memcpy(fits + 1024 - 3, "\"}}", 4);
    cr_assert_eq(strlen(fits), 1024);
    memcpy(over, fits, 1024 - 3);
    memcpy(over + 1024 - 3, "p\"}}", 5);
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, fits);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, over);
    expect_error(r, 413, "payload_too_large");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "maxBodyBytes (1024)"),
              "%s", r->body);
    resp_free(r);
    /* before authentication: an anonymous client cannot make the server read a big body */
    r = req(&s, "POST", "/v1/tools/call", NULL, NULL, over);
    expect_error(r, 413, "payload_too_large");
    resp_free(r);

    /* chunked: no Content-Length, the limit applies as the body arrives */
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    r = req(&s, "POST", "/v1/tools/call", s.token, chunked, fits);
    cr_assert_eq(r->status, 200, "a chunked body under the limit is served: %s", r->body);
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, chunked, over);
    expect_error(r, 413, "payload_too_large");
    resp_free(r);
    size_t big_n = 3 << 20;
    char *big = malloc(big_n + 1);
    memset(big, ' ', big_n);
    big[0] = '{';
    big[big_n - 1] = '}';
    big[big_n] = '\0';
    r = req(&s, "POST", "/v1/tools/call", s.token, chunked, big);
    expect_error(r, 413, "payload_too_large");
    resp_free(r);
    free(big);
    /* the server is still fine */
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, "{\"name\":\"ctx_tree\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(errors, unknown_argument_note)
{
    server s;
    start(&s, "");
    resp *r = call_tool(&s, s.token, "ctx_tree", "{\"depth\":2,\"foo\":1}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(result_text(r),
                     "./ (3 files)\n  README.md\n  src/ (2)\n    main.c\n    util.c\n"
                     "note: ignored unknown argument(s): foo");
    resp_free(r);
    r = call_tool(&s, s.token, "ctx_read",
                  "{\"path\":\"src/main.c\",\"mode\":\"raw\",\"foo\":1,\"bar\":[]}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    const char *t = result_text(r);
    const char *last = strrchr(t, '\n');
    cr_assert(last, "%s", t);
    cr_assert_str_eq(last + 1, "note: ignored unknown argument(s): foo, bar");
    resp_free(r);
    /* reserved keys are not unknown arguments */
    r = call_tool(
        &s, s.token, "ctx_tree",
        "{\"depth\":1,\"workspaceId\":\"main\",\"channelId\":\"feat/x\",\"agentId\":\"a\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_null(strstr(result_text(r), "note:"), "%s", result_text(r));
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

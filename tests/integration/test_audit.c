/* test_audit.c - the audit log of DESIGN §9 and http-conventions.md §4: one JSON line per
 * audited request, allowed or denied, with the §4.1 keys in order; argument hashes over the
 * RFC 8785 canonical JSON (checked against the worked example of §4.2 and an independent
 * OpenSSL computation), never raw arguments or tokens; fail closed when the log cannot be
 * written; reopened on SIGHUP for logrotate. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define EXAMPLE_KEY "example-audit-hmac-key-do-not-use"

static const char *const keys_in_order[] = {
    "ts",         "requestId", "tokenId",      "tenantId",      "workspaceId",
    "tool",       "method",    "allowed",      "deniedReason",  "status",
    "durationMs", "sourceIp",  "argumentsMd5", "argumentsHmac",
};
#define N_KEYS (sizeof keys_in_order / sizeof keys_in_order[0])

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

/* HMAC-SHA256 by OpenSSL, independent of the server's code */
static void hmac_hex(const char *key, const char *msg, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), d, &n);
    hex(d, n, out);
}

static void sha256_hex(const char *msg, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_Digest(msg, strlen(msg), d, &n, EVP_sha256(), NULL);
    hex(d, n, out);
}

static void md5_hex(const char *msg, char out[33])
{
    unsigned char d[16];
    unsigned int n = 0;
    EVP_Digest(msg, strlen(msg), d, &n, EVP_md5(), NULL);
    hex(d, n, out);
}

static const char *str(json_t *line, const char *key)
{
    json_t *v = json_object_get(line, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* the line whose requestId is rid, or NULL */
static json_t *line_of(json_t *lines, const char *rid)
{
    size_t i;
    json_t *l;
    json_array_foreach (lines, i, l) {
        const char *r = str(l, "requestId");
        if (r && strcmp(r, rid) == 0) {
            return l;
        }
    }
    return NULL;
}

/* call, wait for its audit line, return a copy of it (and the response if wanted) */
static json_t *audited(server *s, const char *method, const char *path, const char *token,
                       const char *const *headers, const char *body, resp **out)
{
    resp *r = req(s, method, path, token, headers, body);
    const char *rid = resp_header(r, "X-Request-Id");
    cr_assert(rid, "no X-Request-Id: %s", r->body);
    char id[40];
    snprintf(id, sizeof id, "%s", rid);
    json_t *found = NULL;
    for (int i = 0; i < 100 && !found; i++) {
        json_t *lines = audit_lines(s);
        json_t *l = line_of(lines, id);
        found = l ? json_incref(l) : NULL;
        json_decref(lines);
        if (!found) {
            usleep(10000);
        }
    }
    cr_assert(found, "no audit line for request %s (%s %s -> %ld)", id, method, path, r->status);
    if (out) {
        *out = r;
    } else {
        resp_free(r);
    }
    return found;
}

static void expect_denied(json_t *l, const char *reason, long status)
{
    cr_assert(json_is_false(json_object_get(l, "allowed")), "allowed must be false");
    cr_assert_str_eq(str(l, "deniedReason"), reason);
    cr_assert_eq(json_integer_value(json_object_get(l, "status")), status);
}

Test(audit, allowed_call_has_every_key_in_order)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    resp *r;
    json_t *l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                        "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\"}}", &r);
    cr_assert_eq(r->status, 200, "%s", r->body);

    /* the raw text, for the order of the keys (a JSON parser need not keep it) */
    char *text = slurp(s.audit);
    const char *rid = resp_header(r, "X-Request-Id");
    char *line = strstr(text, rid);
    cr_assert(line);
    while (line > text && line[-1] != '\n') {
        line--;
    }
    *strchr(line, '\n') = '\0';
    const char *at = line;
    for (size_t i = 0; i < N_KEYS; i++) {
        char k[40];
        snprintf(k, sizeof k, "%s\"%s\":", i ? "," : "{", keys_in_order[i]);
        const char *p = strstr(line, k);
        cr_assert(p, "key %s missing: %s", keys_in_order[i], line);
        cr_assert_geq(p, at, "key %s out of order: %s", keys_in_order[i], line);
        at = p;
    }
    cr_assert_eq(json_object_size(l), N_KEYS, "no other keys: %s", line);
    free(text);

    const char *ts = str(l, "ts");
    cr_assert(ts && strlen(ts) == 24 && ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' &&
                  ts[23] == 'Z',
              "ts is RFC 3339 UTC with ms: %s", ts);
    cr_assert_str_eq(str(l, "requestId"), rid);
    cr_assert_str_eq(str(l, "tokenId"), "all");
    cr_assert_str_eq(str(l, "tenantId"), "local");
    cr_assert_str_eq(str(l, "workspaceId"), "main");
    cr_assert_str_eq(str(l, "tool"), "ctx_read");
    cr_assert_str_eq(str(l, "method"), "/v1/tools/call");
    cr_assert(json_is_true(json_object_get(l, "allowed")));
    cr_assert(json_is_null(json_object_get(l, "deniedReason")));
    cr_assert_eq(json_integer_value(json_object_get(l, "status")), 200);
    json_t *d = json_object_get(l, "durationMs");
    cr_assert(json_is_integer(d) && json_integer_value(d) >= 0 && json_integer_value(d) < 5000);
    cr_assert_str_eq(str(l, "sourceIp"), "127.0.0.1");
    cr_assert_eq(strlen(str(l, "argumentsMd5")), 32);
    cr_assert_eq(strlen(str(l, "argumentsHmac")), 64);
    resp_free(r);
    json_decref(l);

    /* a non-tool audited route: method is the route, tool and hashes are null */
    l = audited(&s, "GET", "/v1/manifest", s.token, NULL, NULL, NULL);
    cr_assert_str_eq(str(l, "method"), "/v1/manifest");
    cr_assert(json_is_null(json_object_get(l, "tool")));
    cr_assert(json_is_null(json_object_get(l, "argumentsMd5")));
    cr_assert(json_is_null(json_object_get(l, "argumentsHmac")));
    cr_assert(json_is_true(json_object_get(l, "allowed")));
    json_decref(l);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, argument_hashes_are_canonical_md5_and_hmac)
{
    server s;
    srv_init(&s);
    char keyfile[600], extra[800];
    dir_write(&s, "secrets/audit.key", EXAMPLE_KEY, keyfile, sizeof keyfile);
    cr_assert_eq(strlen(EXAMPLE_KEY), 33, "the server wants at least 32 bytes");
    snprintf(extra, sizeof extra, "\"auditHmacKeyFile\": \"%s\"", keyfile);
    srv_config(&s, extra);
    cr_assert(srv_start(&s));

    /* http-conventions §4.2, sent in three spellings that have one canonical form */
    const char *bodies[] = {
        "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"src/server/"
        "http.c\",\"mode\":\"signatures\"}}",
        "{\"name\":\"ctx_read\",\"arguments\":{\"mode\":\"signatures\",\"path\":\"src/server/"
        "http.c\"}}",
        "{\"arguments\" : { \"path\" : \"src\\/server\\/http.c\" ,\n \"mode\":\"signatures\" }, "
        "\"name\":\"ctx_read\"}",
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *l = audited(&s, "POST", "/v1/tools/call", s.token, NULL, bodies[i], NULL);
        cr_assert_str_eq(str(l, "argumentsMd5"), "0206a80f985ca0b26d59100b269e129e", "body %zu", i);
        cr_assert_str_eq(str(l, "argumentsHmac"),
                         "ba8674f69e8c80393df47db056ce83f405b0a0b63626dbcd0ff78ff0195461d4",
                         "body %zu", i);
        json_decref(l);
    }
    /* §4.2's second example, {"action":"build"}: refused here (ctx_search has no such action),
     * the line still carries the hashes of what was received */
    json_t *l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                        "{\"name\":\"ctx_search\",\"arguments\":{\"action\":\"build\"}}", NULL);
    expect_denied(l, "invalid_arguments", 400);
    cr_assert_str_eq(str(l, "argumentsMd5"), "c12a270c29f067e5578c684f2d1a256a");
    cr_assert_str_eq(str(l, "argumentsHmac"),
                     "b64f873d7565dfecd6fd65b01fc6df517d2493a5329def922fbf8fc36a5f230d");
    json_decref(l);

    /* absent arguments hash as {} (and so do null and {}) */
    char want[65];
    hmac_hex(EXAMPLE_KEY, "{}", want);
    const char *empty[] = {"{\"name\":\"ctx_tree\"}", "{\"name\":\"ctx_tree\",\"arguments\":null}",
                           "{\"name\":\"ctx_tree\",\"arguments\":{}}"};
    for (size_t i = 0; i < 3; i++) {
        l = audited(&s, "POST", "/v1/tools/call", s.token, NULL, empty[i], NULL);
        cr_assert_str_eq(str(l, "argumentsMd5"), "99914b932bd37a50b983c5e7c90ae93b", "%s",
                         empty[i]);
        cr_assert_str_eq(str(l, "argumentsHmac"), want, "%s", empty[i]);
        json_decref(l);
    }
    /* nested objects are sorted too; numbers in shortest form; reserved keys are hashed */
    l = audited(
        &s, "POST", "/v1/tools/call", s.token, NULL,
        "{\"name\":\"ctx_tree\",\"arguments\":{\"z\":{\"b\":1.50,\"a\":[true,null]},\"depth\":1,"
        "\"workspaceId\":\"main\"}}",
        NULL);
    hmac_hex(EXAMPLE_KEY,
             "{\"depth\":1,\"workspaceId\":\"main\",\"z\":{\"a\":[true,null],\"b\":1.5}}", want);
    cr_assert_str_eq(str(l, "argumentsHmac"), want);
    json_decref(l);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, no_raw_arguments_and_no_tokens)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char g[80];
    cr_assert(srv_token(&s, "graph-only", "graph", g));
    cr_assert(srv_start(&s));
    const char *calls[][2] = {
        {NULL, "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"zebra-unicorn-7781/plan.txt\"}}"},
        {NULL, "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"quokka-pattern-5521\"}}"},
        {"graph",
         "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"zebra-unicorn-7781/denied.txt\"}}"},
        {NULL, "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"zebra-unicorn-7781\",\"mode\":"
               "\"lines:1:2\"}}"},
    };
    size_t n = sizeof calls / sizeof calls[0];
    for (size_t i = 0; i < n; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", calls[i][0] ? g : s.token, NULL, calls[i][1]);
        cr_assert_neq(r->status, 0);
        resp_free(r);
    }
    /* an unknown token, in both headers */
    const char *bogus = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    char xk[120];
    snprintf(xk, sizeof xk, "X-API-Key: %s", bogus);
    const char *h[] = {xk, NULL};
    resp *r = req(&s, "POST", "/v1/tools/call", NULL, h, calls[0][1]);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    json_t *lines = audit_wait(&s, n + 1, 2000);
    cr_assert_eq(json_array_size(lines), n + 1);
    json_decref(lines);

    char *text = slurp(s.audit);
    const char *never[] = {
        "zebra-unicorn", "quokka-pattern", "plan.txt", "lines:1:2", s.token, g, bogus};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        cr_assert_null(strstr(text, never[i]), "the audit log holds '%s'", never[i]);
    }
    char digest[65];
    sha256_hex(s.token, digest);
    cr_assert_null(strstr(text, digest), "the audit log holds a token hash");
    sha256_hex(g, digest);
    cr_assert_null(strstr(text, digest), "the audit log holds a token hash");
    free(text);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, denied_calls_are_logged)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char g[80];
    cr_assert(srv_token(&s, "graph-only", "graph", g));
    cr_assert(srv_start(&s));

    json_t *l = audited(&s, "POST", "/v1/tools/call", g, NULL,
                        "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\"}}", NULL);
    expect_denied(l, "scope_denied", 403);
    cr_assert_str_eq(str(l, "tokenId"), "graph-only");
    cr_assert_str_eq(str(l, "tenantId"), "local");
    cr_assert_str_eq(str(l, "tool"), "ctx_read");
    char md5[33];
    md5_hex("{\"path\":\"README.md\"}", md5);
    cr_assert_str_eq(str(l, "argumentsMd5"), md5, "denied calls are hashed too");
    json_decref(l);

    l = audited(&s, "POST", "/v1/tools/call", NULL, NULL, "{\"name\":\"ctx_read\"}", NULL);
    expect_denied(l, "unauthorized", 401);
    cr_assert(json_is_null(json_object_get(l, "tokenId")));
    cr_assert(json_is_null(json_object_get(l, "tenantId")));
    cr_assert(json_is_null(json_object_get(l, "workspaceId")));
    cr_assert(json_is_null(json_object_get(l, "tool")),
              "the body of an unauthenticated call is not read");
    cr_assert(json_is_null(json_object_get(l, "argumentsMd5")));
    cr_assert_str_eq(str(l, "method"), "/v1/tools/call");
    json_decref(l);

    l = audited(&s, "POST", "/v1/tools/call",
                "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100", NULL,
                "{\"name\":\"ctx_read\"}", NULL);
    expect_denied(l, "unauthorized", 401);
    cr_assert(json_is_null(json_object_get(l, "tokenId")));
    json_decref(l);

    l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                "{\"name\":\"ctx_shell\",\"arguments\":{\"command\":\"id\"}}", NULL);
    expect_denied(l, "unknown_tool", 404);
    cr_assert_str_eq(str(l, "tool"), "ctx_shell");
    cr_assert_str_eq(str(l, "tokenId"), "all");
    json_decref(l);

    l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                "{\"name\":\"ctx_tree\",\"workspaceId\":\"nope\"}", NULL);
    expect_denied(l, "unknown_workspace", 400);
    cr_assert(json_is_null(json_object_get(l, "workspaceId")));
    json_decref(l);

    /* invalid_arguments found by the schema and by the handler read the same */
    l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                "{\"name\":\"ctx_tree\",\"arguments\":{\"depth\":0}}", NULL);
    expect_denied(l, "invalid_arguments", 400);
    json_decref(l);
    l = audited(
        &s, "POST", "/v1/tools/call", s.token, NULL,
        "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\",\"mode\":\"lines:44:48\"}}",
        NULL);
    expect_denied(l, "invalid_arguments", 400);
    json_decref(l);

    const char *ct[] = {"Content-Type: text/plain", NULL};
    l = audited(&s, "POST", "/v1/tools/call", s.token, ct, "{}", NULL);
    expect_denied(l, "unsupported_media_type", 415);
    json_decref(l);
    const char *evil[] = {"Origin: http://evil.example.com", NULL};
    l = audited(&s, "GET", "/v1/manifest", s.token, evil, NULL, NULL);
    expect_denied(l, "forbidden_origin", 403);
    cr_assert(json_is_null(json_object_get(l, "tokenId")), "refused before authentication");
    json_decref(l);
    l = audited(&s, "POST", "/v1/tools/call", s.token, NULL, "{\"name\":", NULL);
    expect_denied(l, "invalid_request", 400);
    json_decref(l);

    /* a tool that ran and failed on its input is allowed; its failure is in the result */
    l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"missing.txt\"}}", NULL);
    cr_assert(json_is_true(json_object_get(l, "allowed")));
    cr_assert(json_is_null(json_object_get(l, "deniedReason")));
    cr_assert_eq(json_integer_value(json_object_get(l, "status")), 200);
    json_decref(l);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, timeout_is_allowed_with_status_504)
{
    server s;
    srv_init(&s);
    make_slow_tree(&s, "ws/slow", 3000);
    srv_config(&s, "\"requestTimeoutMs\": 300");
    cr_assert(srv_start(&s));
    resp *r;
    json_t *l = audited(&s, "POST", "/v1/tools/call", s.token, NULL,
                        "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
                        "\",\"path\":\"slow\"}}",
                        &r);
    cr_assert_eq(r->status, 504, "%s", r->body);
    cr_assert(json_is_true(json_object_get(l, "allowed")), "the call was admitted and ran");
    cr_assert(json_is_null(json_object_get(l, "deniedReason")));
    cr_assert_eq(json_integer_value(json_object_get(l, "status")), 504);
    cr_assert_geq(json_integer_value(json_object_get(l, "durationMs")), 300);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, health_is_not_logged)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    for (int i = 0; i < 5; i++) {
        resp *r =
            req(&s, "GET", i % 2 ? "/healthz" : "/health", i % 2 ? s.token : NULL, NULL, NULL);
        cr_assert_eq(r->status, 200);
        resp_free(r);
    }
    json_t *l = audited(&s, "GET", "/v1/capabilities", s.token, NULL, NULL, NULL);
    json_decref(l);
    json_t *lines = audit_lines(&s);
    cr_assert_eq(json_array_size(lines), 1, "only the capabilities request is logged");
    json_decref(lines);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, fail_closed_when_the_log_cannot_be_written)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"auditLogPath\": \"/dev/full\"");
    cr_assert(srv_start(&s));
    /* the first response is already sent when its line fails to write */
    resp *r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert(log_wait(&s, 0, "audit: cannot write '/dev/full'", 2000),
              "no error in the server log");
    /* from then on audited requests are refused before they run */
    r = call_tool(&s, s.token, "ctx_tree", "{}");
    expect_error(r, 503, "audit_unavailable");
    cr_assert(json_is_string(json_object_get(r->json, "requestId")), "%s", r->body);
    resp_free(r);
    r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    expect_error(r, 503, "audit_unavailable");
    resp_free(r);
    /* routes that are not audited keep working */
    r = req(&s, "GET", "/health", NULL, NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, sighup_reopens_the_log)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    json_t *l = audited(&s, "GET", "/v1/manifest", s.token, NULL, NULL, NULL);
    json_decref(l);
    char rotated[400];
    snprintf(rotated, sizeof rotated, "%s.1", s.audit);
    cr_assert_eq(rename(s.audit, rotated), 0);

    /* logrotate moved the file: until told, the server still writes to it */
    resp *r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    char before[40];
    snprintf(before, sizeof before, "%s", resp_header(r, "X-Request-Id"));
    resp_free(r);
    /* its line is written once the response is out: wait for it before rotating further */
    bool landed = false;
    for (int i = 0; i < 200 && !landed; i++) {
        char *old = slurp(rotated);
        landed = old && strstr(old, before);
        free(old);
        if (!landed) {
            usleep(10000);
        }
    }
    cr_assert(landed, "the line written before SIGHUP went to the moved file");
    size_t mark = log_size(&s);
    cr_assert_eq(kill(s.pid, SIGHUP), 0);
    cr_assert(log_wait(&s, mark, "config reloaded (SIGHUP)", 2000));

    r = req(&s, "GET", "/v1/capabilities", s.token, NULL, NULL);
    char after[40];
    snprintf(after, sizeof after, "%s", resp_header(r, "X-Request-Id"));
    resp_free(r);
    json_t *fresh = audit_wait(&s, 1, 2000);
    cr_assert_eq(json_array_size(fresh), 1, "a new file at the path, with the new line only");
    cr_assert_str_eq(str(json_array_get(fresh, 0), "requestId"), after);
    json_decref(fresh);
    char *old = slurp(rotated);
    cr_assert_null(strstr(old, after));
    free(old);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(audit, unauthenticated_flood_is_summarized)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"ipRps\": 0.01, \"ipRateBurst\": 3");
    cr_assert(srv_start(&s));
    const char *bogus = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    for (int i = 0; i < 3; i++) {
        resp *r = req(&s, "GET", "/v1/manifest", bogus, NULL, NULL);
        cr_assert_eq(r->status, 401);
        resp_free(r);
    }
    for (int i = 0; i < 20; i++) {
        resp *r = req(&s, "GET", "/v1/manifest", bogus, NULL, NULL);
        cr_assert_eq(r->status, 429);
        resp_free(r);
    }
    /* a logged request after the flood, so every earlier line has been written */
    json_t *l = audited(&s, "GET", "/v1/manifest", s.token, NULL, NULL, NULL);
    json_decref(l);
    json_t *lines = audit_lines(&s);
    cr_assert_eq(json_array_size(lines), 3 + 1 + 1, "20 refusals from one address make one line");
    /* lines are written when each response is complete, by the thread that served it, so
       requests that follow each other closely may be logged in either order */
    json_t *flood = NULL;
    int unauthorized = 0;
    for (size_t i = 0; i < 4; i++) {
        json_t *l4 = json_array_get(lines, i);
        if (strcmp(str(l4, "deniedReason"), "rate_limited") == 0) {
            cr_assert_null(flood, "one summary line, not two");
            flood = l4;
        } else {
            expect_denied(l4, "unauthorized", 401);
            unauthorized++;
        }
    }
    cr_assert_eq(unauthorized, 3);
    cr_assert_not_null(flood);
    expect_denied(flood, "rate_limited", 429);
    cr_assert(json_is_null(json_object_get(flood, "tokenId")));
    cr_assert_str_eq(str(flood, "sourceIp"), "127.0.0.1");
    json_decref(lines);
    cr_assert_eq(srv_stop(&s), 0);
}

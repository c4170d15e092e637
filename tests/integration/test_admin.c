/* test_admin.c - the admin API (DESIGN §10) as an operator and a tenant admin see it: tenant
 * CRUD and its refusals, keys made and revoked over HTTP (a revoked key fails at once), who may
 * do what (§5: another tenant's ids are 404 exactly like absent ones; operator-only routes are
 * 403), workspace roots registered through the API (the root rules, then served: a tool call
 * with the tenant's key reads a file in it), tenant deletion (files and keys gone, concurrent
 * deletes give exactly one 204), and stats that count requests. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/apikey.h"
#include "harness.h"

static server S;
static char OP[80]; /* the operator: a config token of tenant local with the admin scope */

#define ACME_MARKER "ADMIN_ACME_MARKER_5521"
#define TWO_MARKER "ADMIN_TWO_MARKER_9034"

static void init(void)
{
    srv_init(&S);
}

/* the server stops cleanly (exit 0: under ASan a leak would fail it) and its log holds no
   sanitizer report */
static void down(void)
{
    int rc = S.pid ? srv_stop(&S) : 0;
    char *log = slurp(S.log);
    const char *hit = log ? strstr(log, "runtime error") : NULL;
    hit = hit ? hit : log ? strstr(log, "Sanitizer") : NULL;
    char excerpt[600];
    snprintf(excerpt, sizeof excerpt, "%.500s", hit ? hit : "");
    free(log);
    srv_cleanup(&S);
    cr_assert(rc == 0 && !hit, "server exit %d; %s", rc, excerpt);
}

/* start with extra config fields; asserts */
static void start(const char *extra)
{
    srv_config(&S, extra);
    cr_assert(srv_token(&S, "op", "admin", OP), "cannot mint the operator token");
    cr_assert(srv_start(&S), "server did not start: %s", slurp(S.log));
}

static resp *adm(const char *method, const char *path, const char *token, const char *body)
{
    return req(&S, method, path, token, NULL, body);
}

/* the request, asserting its status; the response is returned (free it) */
static resp *adm_ok(const char *method, const char *path, const char *token, const char *body,
                    long status)
{
    resp *r = adm(method, path, token, body);
    cr_assert_eq(r->status, status, "%s %s: %ld %s", method, path, r->status, r->body);
    return r;
}

static void adm_expect(const char *method, const char *path, const char *token, const char *body,
                       long status, const char *code)
{
    resp *r = adm(method, path, token, body);
    char why[1024];
    cr_assert(is_error(r, status, code, why, sizeof why), "%s %s: %s (body %s)", method, path, why,
              r->body);
    resp_free(r);
}

/* POST /admin/tenants {"id": id, "name": id} as the operator */
static void api_tenant(const char *id)
{
    char body[200];
    snprintf(body, sizeof body, "{\"id\": \"%s\", \"name\": \"%s\"}", id, id);
    resp_free(adm_ok("POST", "/admin/tenants", OP, body, 201));
}

/* POST /admin/tenants/<tenant>/keys with body as token; the key into out (128 bytes) */
static void api_key(const char *token, const char *tenant, const char *body, char *out)
{
    char path[200];
    snprintf(path, sizeof path, "/admin/tenants/%s/keys", tenant);
    resp *r = adm_ok("POST", path, token, body, 201);
    const char *k = json_string_value(json_object_get(r->json, "key"));
    cr_assert(k, "%s", r->body);
    snprintf(out, 128, "%s", k);
    resp_free(r);
}

static void prefix_of(const char *key, char out[64])
{
    apikey k;
    cr_assert(apikey_parse(key, strlen(key), &k), "%s", key);
    snprintf(out, 64, "%s", k.prefix);
}

/* a directory under the test's temp dir with one file; its absolute path into out */
static void make_root(const char *rel, const char *file, const char *content, char *out, size_t cap)
{
    char frel[600], fpath[900];
    snprintf(frel, sizeof frel, "%s/%s", rel, file);
    dir_write(&S, frel, content, fpath, sizeof fpath);
    snprintf(out, cap, "%s/%s", S.dir, rel);
}

static resp *register_ws(const char *tenant, const char *id, const char *root)
{
    char path[200], body[1200];
    snprintf(path, sizeof path, "/admin/tenants/%s/workspaces", tenant);
    snprintf(body, sizeof body, "{\"id\": \"%s\", \"root\": \"%s\"}", id, root);
    return adm("POST", path, OP, body);
}

static bool path_exists(const char *p)
{
    return access(p, F_OK) == 0;
}

static bool wait_path(const char *p, int timeout_ms)
{
    long long until = now_ms() + timeout_ms;
    while (!path_exists(p)) {
        if (now_ms() > until) {
            return false;
        }
        usleep(20000);
    }
    return true;
}

Test(admin, tenant_crud, .init = init, .fini = down)
{
    start("");
    /* create with an id: 201 and the §10 shape */
    resp *r =
        adm_ok("POST", "/admin/tenants", OP,
               "{\"id\": \"acme\", \"name\": \"Acme Inc.\", \"storage_quota_bytes\": 5000}", 201);
    json_t *t = r->json;
    cr_assert_str_eq(json_string_value(json_object_get(t, "id")), "acme");
    cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "Acme Inc.");
    cr_assert_eq(json_integer_value(json_object_get(t, "storage_quota_bytes")), 5000);
    cr_assert(json_is_integer(json_object_get(t, "storage_used_bytes")), "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(t, "rate_limit_tier")), "default");
    regex_t re;
    cr_assert_eq(regcomp(&re, "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$", REG_EXTENDED), 0);
    cr_assert_eq(regexec(&re, json_string_value(json_object_get(t, "created_at")), 0, NULL, 0), 0,
                 "%s", r->body);
    regfree(&re);
    resp_free(r);

    /* without an id: 8 lowercase hex; no quota is null */
    r = adm_ok("POST", "/admin/tenants", OP, "{\"name\": \"Generated\"}", 201);
    const char *gen = json_string_value(json_object_get(r->json, "id"));
    cr_assert_eq(regcomp(&re, "^[0-9a-f]{8}$", REG_EXTENDED), 0);
    cr_assert_eq(regexec(&re, gen, 0, NULL, 0), 0, "%s", gen);
    regfree(&re);
    cr_assert(json_is_null(json_object_get(r->json, "storage_quota_bytes")), "%s", r->body);
    char gen_id[16];
    snprintf(gen_id, sizeof gen_id, "%s", gen);
    resp_free(r);

    /* refusals: taken id, bad ids, no name, unknown field, wrong types, not JSON */
    adm_expect("POST", "/admin/tenants", OP, "{\"id\": \"acme\", \"name\": \"x\"}", 409,
               "conflict");
    const char *bad_ids[] = {"Acme", "a_b", "-lead",
                             "a b",  "a/b", "../x",
                             "a.b",  "",    "0123456789abcdef0123456789abcdefg"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"id\": \"%s\", \"name\": \"x\"}", bad_ids[i]);
        adm_expect("POST", "/admin/tenants", OP, body, 400, "invalid_request");
    }
    adm_expect("POST", "/admin/tenants", OP, "{\"id\": 7, \"name\": \"x\"}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants", OP, "{\"id\": \"nameless\"}", 400, "invalid_request");
    adm_expect("POST", "/admin/tenants", OP, "{\"name\": \"x\", \"colour\": \"red\"}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants", OP, "{\"name\": \"x\", \"storage_quota_bytes\": -1}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants", OP,
               "{\"name\": \"x\", \"rate_limit_tier\": \"no-such-tier\"}", 400, "invalid_request");
    adm_expect("POST", "/admin/tenants", OP, "{not json", 400, "invalid_request");
    adm_expect("POST", "/admin/tenants", OP, "[1]", 400, "invalid_request");

    /* list: the three, local included */
    r = adm_ok("GET", "/admin/tenants", OP, NULL, 200);
    json_t *arr = json_object_get(r->json, "tenants");
    cr_assert_eq(json_array_size(arr), 3, "%s", r->body);
    cr_assert(strstr(r->body, "\"acme\"") && strstr(r->body, "\"local\"") &&
                  strstr(r->body, gen_id),
              "%s", r->body);
    resp_free(r);

    /* get; PATCH name, quota, settings (merged; null removes); unknown fields name them */
    r = adm_ok("GET", "/admin/tenants/acme", OP, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Acme Inc.");
    resp_free(r);
    r = adm_ok("PATCH", "/admin/tenants/acme", OP,
               "{\"name\": \"Acme 2\", \"storage_quota_bytes\": null, \"settings\": "
               "{\"max_concurrency\": 4, \"request_log_retention_days\": 7, \"allowed_tools\": "
               "[\"ctx_read\", \"ctx_tree\"], \"default_workspace_id\": \"main\"}}",
               200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Acme 2");
    cr_assert(json_is_null(json_object_get(r->json, "storage_quota_bytes")), "%s", r->body);
    json_t *set = json_object_get(r->json, "settings");
    cr_assert_eq(json_integer_value(json_object_get(set, "max_concurrency")), 4, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(set, "allowed_tools")), 2, "%s", r->body);
    resp_free(r);
    r = adm_ok("PATCH", "/admin/tenants/acme", OP,
               "{\"settings\": {\"max_concurrency\": null, \"event_retention_days\": 90}}", 200);
    set = json_object_get(r->json, "settings");
    cr_assert_null(json_object_get(set, "max_concurrency"), "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(set, "event_retention_days")), 90);
    cr_assert_eq(json_integer_value(json_object_get(set, "request_log_retention_days")), 7);
    resp_free(r);
    r = adm_ok("GET", "/admin/tenants/acme", OP, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Acme 2");
    cr_assert_eq(json_integer_value(
                     json_object_get(json_object_get(r->json, "settings"), "event_retention_days")),
                 90, "persisted: %s", r->body);
    resp_free(r);

    r = adm("PATCH", "/admin/tenants/acme", OP, "{\"name\": \"x\", \"owner\": \"bob\"}");
    expect_error(r, 400, "invalid_request");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "'owner'"), "%s",
              r->body);
    resp_free(r);
    const char *bad_patches[] = {
        "{\"settings\": {\"colour\": \"red\"}}",
        "{\"settings\": {\"max_concurrency\": 0}}",
        "{\"settings\": {\"max_concurrency\": 1025}}",
        "{\"settings\": {\"event_retention_days\": 3651}}",
        "{\"settings\": {\"request_log_retention_days\": \"7\"}}",
        "{\"settings\": {\"allowed_tools\": [\"ctx_shell\"]}}",
        "{\"settings\": {\"allowed_tools\": \"ctx_read\"}}",
        "{\"settings\": {\"default_workspace_id\": \"a/b\"}}",
        "{\"settings\": []}",
        "{\"name\": \"\"}",
        "{\"name\": \"tab\\there\"}",
        "{\"storage_quota_bytes\": 1.5}",
        "{\"rate_limit_tier\": \"nope\"}",
    };
    for (size_t i = 0; i < sizeof bad_patches / sizeof bad_patches[0]; i++) {
        adm_expect("PATCH", "/admin/tenants/acme", OP, bad_patches[i], 400, "invalid_request");
    }
    /* nothing of the refused patches was applied */
    r = adm_ok("GET", "/admin/tenants/acme", OP, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Acme 2");
    cr_assert_null(json_object_get(json_object_get(r->json, "settings"), "colour"));
    resp_free(r);
    /* a quota of 0 is a quota (nothing may be stored), not "none" */
    r = adm_ok("PATCH", "/admin/tenants/acme", OP, "{\"storage_quota_bytes\": 0}", 200);
    cr_assert(json_is_integer(json_object_get(r->json, "storage_quota_bytes")) &&
                  json_integer_value(json_object_get(r->json, "storage_quota_bytes")) == 0,
              "%s", r->body);
    resp_free(r);

    /* delete: 204, then 404 everywhere; local cannot go */
    r = adm_ok("DELETE", "/admin/tenants/acme", OP, NULL, 204);
    cr_assert_str_eq(r->body, "");
    resp_free(r);
    adm_expect("GET", "/admin/tenants/acme", OP, NULL, 404, "not_found");
    adm_expect("DELETE", "/admin/tenants/acme", OP, NULL, 404, "not_found");
    adm_expect("PATCH", "/admin/tenants/acme", OP, "{\"name\": \"x\"}", 404, "not_found");
    adm_expect("DELETE", "/admin/tenants/local", OP, NULL, 409, "conflict");
    adm_expect("GET", "/admin/tenants/No_Such", OP, NULL, 404, "not_found");

    /* the audit line names the route template, not the id */
    json_t *lines = audit_wait(&S, 1, 2000);
    bool seen = false;
    size_t i;
    json_t *l;
    json_array_foreach (lines, i, l) {
        const char *m = json_string_value(json_object_get(l, "method"));
        seen = seen || (m && strcmp(m, "/admin/tenants/{id}") == 0);
        cr_assert(!m || !strstr(m, "acme"), "an id in the audit method: %s", m);
    }
    cr_assert(seen, "no audit line with method /admin/tenants/{id}");
    json_decref(lines);
}

Test(admin, routes_and_methods, .init = init, .fini = down)
{
    start("");
    /* a known path with another method: 405 with Allow */
    resp *r = adm("PUT", "/admin/tenants/acme", OP, "{}");
    expect_error(r, 405, "method_not_allowed");
    const char *allow = resp_header(r, "Allow");
    cr_assert(allow && strstr(allow, "GET") && strstr(allow, "PATCH") && strstr(allow, "DELETE"),
              "%s", allow ? allow : "(none)");
    resp_free(r);
    r = adm("DELETE", "/admin/tenants", OP, NULL);
    expect_error(r, 405, "method_not_allowed");
    resp_free(r);
    /* segments that cannot be parameters */
    adm_expect("GET", "/admin/tenants/", OP, NULL, 404, "not_found");
    adm_expect("GET", "/admin/tenants/local/extra/more", OP, NULL, 404, "not_found");
    adm_expect("GET", "/admin/tenants//keys", OP, NULL, 404, "not_found");
    char longp[400];
    snprintf(longp, sizeof longp, "/admin/tenants/%0200d", 7);
    adm_expect("GET", longp, OP, NULL, 404, "not_found");
    /* PATCH needs a JSON body */
    r = req(&S, "PATCH", "/admin/tenants/local", OP,
            (const char *const[]){"Content-Type: text/plain", NULL}, "{\"name\": \"x\"}");
    expect_error(r, 415, "unsupported_media_type");
    resp_free(r);
    /* no credential: 401 before anything */
    adm_expect("GET", "/admin/tenants", NULL, NULL, 401, "unauthorized");
    /* the CORS preflight of a parameter route */
    r = req(&S, "OPTIONS", "/admin/tenants/local", NULL,
            (const char *const[]){"Origin: http://localhost",
                                  "Access-Control-Request-Method: PATCH", NULL},
            NULL);
    cr_assert_eq(r->status, 204, "%s", r->body);
    const char *m = resp_header(r, "Access-Control-Allow-Methods");
    cr_assert(m && strstr(m, "PATCH") && strstr(m, "DELETE"), "%s", m ? m : "(none)");
    resp_free(r);
}

Test(admin, keys_lifecycle, .init = init, .fini = down)
{
    start("");
    api_tenant("acme");
    char key[128], prefix[64];
    resp *r = adm_ok("POST", "/admin/tenants/acme/keys", OP, "{\"permissions\": [\"read\"]}", 201);
    snprintf(key, sizeof key, "%s", json_string_value(json_object_get(r->json, "key")));
    prefix_of(key, prefix);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "prefix")), prefix);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "tenant_id")), "acme");
    cr_assert(strncmp(key, "ctxd_live_acme_", 15) == 0, "%s", key);
    json_t *sc = json_object_get(r->json, "scopes");
    cr_assert_eq(json_array_size(sc), 4, "read = search, graph, artifacts, events: %s", r->body);
    cr_assert(json_is_string(json_object_get(r->json, "created_at")), "%s", r->body);
    resp_free(r);

    /* the key works at once, for its tenant */
    r = adm_ok("GET", "/v1/manifest", key, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "tokenId")), prefix);
    resp_free(r);

    /* the list shows it, never the key itself */
    char k2[128];
    api_key(OP, "acme", "{\"scopes\": [\"search\", \"index\"], \"test\": true}", k2);
    cr_assert(strncmp(k2, "ctxd_test_acme_", 15) == 0, "%s", k2);
    api_key(OP, "acme", "{}", k2); /* neither: read */
    r = adm_ok("GET", "/admin/tenants/acme/keys", OP, NULL, 200);
    json_t *keys = json_object_get(r->json, "keys");
    cr_assert_eq(json_array_size(keys), 3, "%s", r->body);
    cr_assert(strstr(r->body, prefix), "%s", r->body);
    cr_assert_null(strstr(r->body, key), "a listing never shows a key");
    cr_assert_null(strstr(r->body, k2), "a listing never shows a key");
    size_t i;
    json_t *k;
    json_array_foreach (keys, i, k) {
        cr_assert(json_is_null(json_object_get(k, "revoked_at")), "%s", r->body);
        cr_assert(json_object_get(k, "last_used_at"), "%s", r->body);
        cr_assert(json_is_string(json_object_get(k, "rate_limit_tier")), "%s", r->body);
    }
    resp_free(r);

    /* refusals at creation */
    adm_expect("POST", "/admin/tenants/acme/keys", OP, "{\"permissions\": [\"root\"]}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants/acme/keys", OP, "{\"scopes\": [\"shell\"]}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants/acme/keys", OP, "{\"permissions\": \"read\"}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants/acme/keys", OP, "{\"rate_limit_tier\": \"gold\"}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants/acme/keys", OP, "{\"test\": \"yes\"}", 400,
               "invalid_request");
    adm_expect("POST", "/admin/tenants/acme/keys", OP, "{\"expires\": 3}", 400, "invalid_request");
    adm_expect("POST", "/admin/tenants/nobody/keys", OP, "{}", 404, "not_found");

    /* revoke: 204, the key fails at once; again: 409; unknown or malformed: 404 */
    char path[200];
    snprintf(path, sizeof path, "/admin/keys/%s", prefix);
    resp_free(adm_ok("DELETE", path, OP, NULL, 204));
    adm_expect("GET", "/v1/manifest", key, NULL, 401, "unauthorized");
    adm_expect("DELETE", path, OP, NULL, 409, "conflict");
    adm_expect("DELETE", "/admin/keys/ctxd_live_acme_AAAAAAAA", OP, NULL, 404, "not_found");
    adm_expect("DELETE", "/admin/keys/ctxd_live_nobody_AAAAAAAA", OP, NULL, 404, "not_found");
    adm_expect("DELETE", "/admin/keys/acme", OP, NULL, 404, "not_found");
    adm_expect("DELETE", "/admin/keys/ctxd_live_acme_AAAA-AAA", OP, NULL, 404, "not_found");
    r = adm_ok("GET", "/admin/tenants/acme/keys", OP, NULL, 200);
    cr_assert(strstr(r->body, "\"revoked_at\":\"20"), "%s", r->body);
    resp_free(r);
}

Test(admin, tenant_admin_rules, .init = init, .fini = down)
{
    start("\"rateTiers\": {\"gold\": {\"rps\": 50, \"burst\": 200}}");
    api_tenant("acme");
    api_tenant("beta");
    char acme_admin[128], acme_read[128], beta_key[128], beta_prefix[64];
    api_key(OP, "acme", "{\"permissions\": [\"admin\"]}", acme_admin);
    api_key(OP, "acme", "{\"permissions\": [\"read\", \"write\"]}", acme_read);
    api_key(OP, "beta", "{\"permissions\": [\"read\"]}", beta_key);
    prefix_of(beta_key, beta_prefix);

    /* its own tenant: record, keys, stats, workspace list */
    resp_free(adm_ok("GET", "/admin/tenants/acme", acme_admin, NULL, 200));
    resp_free(adm_ok("GET", "/admin/tenants/acme/keys", acme_admin, NULL, 200));
    resp_free(adm_ok("GET", "/admin/tenants/acme/stats", acme_admin, NULL, 200));
    resp_free(adm_ok("GET", "/admin/tenants/acme/workspaces", acme_admin, NULL, 200));
    resp *r = adm_ok("PATCH", "/admin/tenants/acme", acme_admin,
                     "{\"name\": \"Acme by itself\", \"settings\": {\"max_concurrency\": 2}}", 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Acme by itself");
    resp_free(r);
    char own[128];
    api_key(acme_admin, "acme", "{\"permissions\": [\"read\"]}", own);
    api_key(acme_admin, "acme", "{\"rate_limit_tier\": \"default\"}", own); /* the tenant's */
    resp_free(adm_ok("GET", "/v1/manifest", own, NULL, 200));

    /* another tenant's ids: 404, exactly like an absent one */
    resp *other = adm("GET", "/admin/tenants/beta", acme_admin, NULL);
    resp *absent = adm("GET", "/admin/tenants/betb", acme_admin, NULL);
    expect_error(other, 404, "not_found");
    expect_error(absent, 404, "not_found");
    resp_free(other);
    resp_free(absent);
    adm_expect("GET", "/admin/tenants/local", acme_admin, NULL, 404, "not_found");
    adm_expect("PATCH", "/admin/tenants/beta", acme_admin, "{\"name\": \"x\"}", 404, "not_found");
    adm_expect("DELETE", "/admin/tenants/beta", acme_admin, NULL, 404, "not_found");
    adm_expect("GET", "/admin/tenants/beta/keys", acme_admin, NULL, 404, "not_found");
    adm_expect("POST", "/admin/tenants/beta/keys", acme_admin, "{}", 404, "not_found");
    adm_expect("GET", "/admin/tenants/beta/stats", acme_admin, NULL, 404, "not_found");
    adm_expect("GET", "/admin/tenants/beta/workspaces", acme_admin, NULL, 404, "not_found");
    char path[200];
    snprintf(path, sizeof path, "/admin/keys/%s", beta_prefix);
    adm_expect("DELETE", path, acme_admin, NULL, 404, "not_found");
    resp_free(adm_ok("GET", "/v1/manifest", beta_key, NULL, 200)); /* still works */

    /* the operator's alone: 403 */
    adm_expect("POST", "/admin/tenants", acme_admin, "{\"name\": \"mine\"}", 403, "scope_denied");
    adm_expect("GET", "/admin/tenants", acme_admin, NULL, 403, "scope_denied");
    adm_expect("GET", "/admin/stats", acme_admin, NULL, 403, "scope_denied");
    adm_expect("PATCH", "/admin/tenants/acme", acme_admin, "{\"storage_quota_bytes\": 1000000000}",
               403, "scope_denied");
    adm_expect("PATCH", "/admin/tenants/acme", acme_admin, "{\"storage_quota_bytes\": null}", 403,
               "scope_denied");
    adm_expect("PATCH", "/admin/tenants/acme", acme_admin, "{\"rate_limit_tier\": \"gold\"}", 403,
               "scope_denied");
    adm_expect("POST", "/admin/tenants/acme/keys", acme_admin, "{\"rate_limit_tier\": \"gold\"}",
               403, "scope_denied");
    char root[600];
    make_root("acme-root", "f.txt", "x\n", root, sizeof root);
    char body[900];
    snprintf(body, sizeof body, "{\"id\": \"w\", \"root\": \"%s\"}", root);
    adm_expect("POST", "/admin/tenants/acme/workspaces", acme_admin, body, 403, "scope_denied");
    adm_expect("DELETE", "/admin/tenants/acme", acme_admin, NULL, 403, "scope_denied");
    r = adm_ok("GET", "/admin/tenants/acme", OP, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "rate_limit_tier")), "default");
    cr_assert(json_is_null(json_object_get(r->json, "storage_quota_bytes")), "%s", r->body);
    resp_free(r);
    /* the operator may give another tier */
    api_key(OP, "acme", "{\"rate_limit_tier\": \"gold\"}", own);

    /* a key without admin: 403 scope_denied, with the scope named */
    r = adm("GET", "/admin/tenants/acme", acme_read, NULL);
    expect_error(r, 403, "scope_denied");
    const char *wa = resp_header(r, "WWW-Authenticate");
    cr_assert(wa && strstr(wa, "insufficient_scope") && strstr(wa, "admin"), "%s",
              wa ? wa : "(none)");
    resp_free(r);
    adm_expect("GET", "/admin/stats", acme_read, NULL, 403, "scope_denied");
    adm_expect("POST", "/admin/tenants", acme_read, "{\"name\": \"x\"}", 403, "scope_denied");
}

Test(admin, workspace_registration, .init = init, .fini = down)
{
    start("");
    api_tenant("acme");
    api_tenant("beta");
    char acme_key[128];
    api_key(OP, "acme", "{\"permissions\": [\"read\"]}", acme_key);
    char one[600], two[600], file[600];
    make_root("srv/t/one", "f.txt", "acme file: " ACME_MARKER "\n", one, sizeof one);
    make_root("srv/t/two", "f.txt", "second: " TWO_MARKER "\n", two, sizeof two);
    make_root("srv/tenants/x", "f.txt", "x\n", file, sizeof file);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/srv/nope", S.dir);
    char afile[700];
    snprintf(afile, sizeof afile, "%s/srv/t/one/f.txt", S.dir);
    char in_data[700];
    snprintf(in_data, sizeof in_data, "%s/data/inside", S.dir);
    mkdir(in_data, 0700);

    /* root rules */
    resp *r = register_ws("acme", "w", missing);
    expect_error(r, 400, "invalid_request");
    cr_assert(strstr(r->body, "does not exist"), "%s", r->body);
    resp_free(r);
    r = register_ws("acme", "w", afile);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = register_ws("acme", "w", "relative/dir");
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = register_ws("acme", "bad/id", one);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = register_ws("acme", "w", in_data); /* inside dataDir */
    expect_error(r, 409, "conflict");
    resp_free(r);
    r = register_ws("acme", "w", S.dir); /* contains dataDir (and team.json's workspace) */
    expect_error(r, 409, "conflict");
    resp_free(r);
    r = register_ws("acme", "w", S.ws); /* local's workspace root */
    expect_error(r, 409, "conflict");
    resp_free(r);
    r = register_ws("nobody", "w", one);
    expect_error(r, 404, "not_found");
    resp_free(r);
    /* the tenant has no workspace yet: a call has nowhere to go */
    r = call_tool(&S, acme_key, "ctx_read", "{\"path\": \"f.txt\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);

    /* registered (through a symlink: the canonical root is kept) and served at once */
    char link[700];
    snprintf(link, sizeof link, "%s/link-to-one", S.dir);
    cr_assert_eq(symlink(one, link), 0);
    r = register_ws("acme", "one", link);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), "one");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "tenant_id")), "acme");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "root")), one);
    resp_free(r);
    r = call_tool(&S, acme_key, "ctx_read", "{\"path\": \"f.txt\", \"workspaceId\": \"one\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), ACME_MARKER), "%s", r->body);
    resp_free(r);
    /* its only workspace: used when none is named (DESIGN §11.4) */
    r = call_tool(&S, acme_key, "ctx_read", "{\"path\": \"f.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), ACME_MARKER), "%s", r->body);
    resp_free(r);
    /* local's token does not see it: another tenant's workspace is unknown */
    r = call_tool(&S, S.token, "ctx_read", "{\"path\": \"f.txt\", \"workspaceId\": \"one\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);

    /* taken id; roots overlapping another tenant's: the same, inside, containing */
    r = register_ws("acme", "one", two);
    expect_error(r, 409, "conflict");
    resp_free(r);
    char sub[700], parent[700];
    snprintf(sub, sizeof sub, "%s/sub", one);
    mkdir(sub, 0700);
    snprintf(parent, sizeof parent, "%s/srv/t", S.dir);
    r = register_ws("beta", "b", one);
    expect_error(r, 409, "conflict");
    resp_free(r);
    r = register_ws("beta", "b", sub);
    expect_error(r, 409, "conflict");
    resp_free(r);
    r = register_ws("beta", "b", parent);
    expect_error(r, 409, "conflict");
    resp_free(r);
    /* the same tenant may nest its own roots */
    r = register_ws("acme", "nested", sub);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);

    /* a second workspace: no default any more, until the tenant names one */
    r = register_ws("acme", "two", two);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    r = call_tool(&S, acme_key, "ctx_read", "{\"path\": \"f.txt\"}");
    expect_error(r, 400, "unknown_workspace");
    cr_assert(strstr(r->body, "default_workspace_id") && strstr(r->body, "two"), "%s", r->body);
    resp_free(r);
    resp_free(adm_ok("PATCH", "/admin/tenants/acme", OP,
                     "{\"settings\": {\"default_workspace_id\": \"two\"}}", 200));
    r = call_tool(&S, acme_key, "ctx_read", "{\"path\": \"f.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), TWO_MARKER), "%s", r->body);
    resp_free(r);

    /* the list: three store workspaces; roots for the operator only */
    r = adm_ok("GET", "/admin/tenants/acme/workspaces", OP, NULL, 200);
    json_t *ws = json_object_get(r->json, "workspaces");
    cr_assert_eq(json_array_size(ws), 3, "%s", r->body);
    cr_assert(strstr(r->body, "\"root\""), "%s", r->body);
    resp_free(r);
    char acme_admin[128];
    api_key(OP, "acme", "{\"permissions\": [\"admin\"]}", acme_admin);
    r = adm_ok("GET", "/admin/tenants/acme/workspaces", acme_admin, NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(r->json, "workspaces")), 3, "%s", r->body);
    cr_assert_null(strstr(r->body, "\"root\""), "%s", r->body);
    resp_free(r);
    r = adm_ok("GET", "/admin/tenants/acme/stats", OP, NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "repos")), 3, "%s", r->body);
    resp_free(r);

    /* a restart serves them again (merged from the store, not only by the reload) */
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert(srv_start(&S), "restart: %s", slurp(S.log));
    r = call_tool(&S, acme_key, "ctx_read", "{\"path\": \"f.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), TWO_MARKER), "default kept across a restart: %s", r->body);
    resp_free(r);
}

Test(admin, allowed_roots_boundary, .init = init, .fini = down)
{
    char t[600], tenants[600], deep[600];
    make_root("srv/t", "f.txt", "t\n", t, sizeof t);
    make_root("srv/tenants", "f.txt", "tenants\n", tenants, sizeof tenants);
    make_root("srv/t/deep", "f.txt", "deep\n", deep, sizeof deep);
    char extra[800];
    snprintf(extra, sizeof extra, "\"allowedRoots\": [\"%s\"]", t);
    start(extra);
    api_tenant("acme");
    api_tenant("beta");
    /* /srv/t does not admit /srv/tenants */
    resp *r = register_ws("acme", "w", tenants);
    expect_error(r, 400, "invalid_request");
    cr_assert(strstr(r->body, "allowedRoots"), "%s", r->body);
    resp_free(r);
    r = register_ws("acme", "w", S.ws);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    /* below it, and itself */
    r = register_ws("acme", "deep", deep);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    r = register_ws("beta", "all", t); /* contains acme's */
    expect_error(r, 409, "conflict");
    resp_free(r);
    r = register_ws("acme", "all", t);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    /* a bad allowedRoots is a config problem */
    char *e = NULL;
    json_t *doc = cfg_load(&S);
    json_object_set_new(doc, "allowedRoots", json_pack("[s]", "relative/path"));
    cfg_save(&S, doc);
    json_decref(doc);
    const char *args[] = {"check-config", "--config", S.config, NULL};
    cr_assert_neq(run_ctxd(args, NULL, &e), 0);
    cr_assert(e && strstr(e, "allowedRoots[0]"), "%s", e ? e : "");
    free(e);
}

Test(admin, delete_tenant_removes_files_and_keys, .init = init, .fini = down)
{
    start("");
    api_tenant("acme");
    char key[128], root[600];
    api_key(OP, "acme", "{\"permissions\": [\"read\", \"write\"]}", key);
    make_root("acme-root", "main.c", "int acme_fn(void) { return 5521; }\n", root, sizeof root);
    resp *r = register_ws("acme", "one", root);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    char db[800], dir[700];
    snprintf(dir, sizeof dir, "%s/data/index/acme", S.dir);
    snprintf(db, sizeof db, "%s/one.db", dir);
    cr_assert(wait_path(db, 20000), "the registered workspace was indexed: %s", slurp(S.log));
    resp_free(adm_ok("GET", "/v1/manifest", key, NULL, 200));

    r = adm_ok("DELETE", "/admin/tenants/acme", OP, NULL, 204);
    resp_free(r);
    cr_assert(!path_exists(dir), "the tenant's index directory is gone");
    adm_expect("GET", "/v1/manifest", key, NULL, 401, "unauthorized");
    adm_expect("GET", "/admin/tenants/acme", OP, NULL, 404, "not_found");
    /* no longer served: the root is free for another tenant; the directory stays gone */
    api_tenant("beta");
    r = register_ws("beta", "one", root);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    usleep(300000);
    cr_assert(!path_exists(dir), "nothing rebuilt the deleted tenant's index");
    /* a recreated tenant of the same id starts empty: no keys, no workspaces, and none of the
       old tenant's request-log rows (those still queued were written before the delete; wait
       past the writer's tick to see that none comes later) */
    api_tenant("acme");
    usleep(2600000);
    r = adm_ok("GET", "/admin/tenants/acme/stats", OP, NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "requests_24h")), 0, "%s", r->body);
    resp_free(r);
    r = adm_ok("GET", "/admin/tenants/acme/keys", OP, NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(r->json, "keys")), 0, "%s", r->body);
    resp_free(r);
    r = adm_ok("GET", "/admin/tenants/acme/workspaces", OP, NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(r->json, "workspaces")), 0, "%s", r->body);
    resp_free(r);
}

Test(admin, delete_refused_while_team_json_names_the_tenant, .init = init, .fini = down)
{
    char g[600];
    make_root("g", "f.txt", "g\n", g, sizeof g);
    char more[900];
    snprintf(more, sizeof more, "{\"id\": \"gws\", \"root\": \"%s\", \"tenant\": \"gamma\"}", g);
    srv_config_ws(&S, more, "");
    cr_assert(srv_token(&S, "op", "admin", OP), "cannot mint the operator token");
    cr_assert(srv_start(&S), "%s", slurp(S.log));
    api_tenant("gamma");
    resp *r = adm("DELETE", "/admin/tenants/gamma", OP, NULL);
    expect_error(r, 409, "conflict");
    cr_assert(strstr(r->body, "team.json"), "%s", r->body);
    resp_free(r);
    resp_free(adm_ok("GET", "/admin/tenants/gamma", OP, NULL, 200));
    /* config workspaces are listed with the store's */
    r = adm_ok("GET", "/admin/tenants/gamma/workspaces", OP, NULL, 200);
    cr_assert(strstr(r->body, "\"gws\"") && strstr(r->body, "\"config\""), "%s", r->body);
    resp_free(r);
}

typedef struct deleter {
    pthread_t th;
    long status;
} deleter;

static void *delete_run(void *arg)
{
    deleter *d = arg;
    resp *r = adm("DELETE", "/admin/tenants/acme", OP, NULL);
    d->status = r->status;
    resp_free(r);
    return NULL;
}

Test(admin, concurrent_deletes_one_wins, .init = init, .fini = down)
{
    start("");
    api_tenant("acme");
    char key[128], root[600];
    api_key(OP, "acme", "{}", key);
    make_root("acme-root", "a.py", "def acme():\n    return 1\n", root, sizeof root);
    resp *r = register_ws("acme", "one", root);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    enum { N = 8 };
    deleter d[N];
    for (int i = 0; i < N; i++) {
        d[i].status = 0;
        cr_assert_eq(pthread_create(&d[i].th, NULL, delete_run, &d[i]), 0);
    }
    int ok = 0, gone = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(d[i].th, NULL);
        ok += d[i].status == 204;
        gone += d[i].status == 404;
    }
    cr_assert_eq(ok, 1, "exactly one delete wins (%d 204, %d 404)", ok, gone);
    cr_assert_eq(gone, N - 1, "the others find nothing (%d 204, %d 404)", ok, gone);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/data/index/acme", S.dir);
    cr_assert(!path_exists(dir));
    adm_expect("GET", "/v1/manifest", key, NULL, 401, "unauthorized");
    resp_free(adm_ok("GET", "/health", NULL, NULL, 200));
}

Test(admin, stats_count_requests, .init = init, .fini = down)
{
    start("");
    api_tenant("acme");
    char key[128], root[600];
    api_key(OP, "acme", "{\"permissions\": [\"read\"]}", key);
    make_root("acme-root", "f.txt", "hello\n", root, sizeof root);
    dir_write(&S, "acme-root/lib.c",
              "int acme_one(void) { return 1; }\nint acme_two(void) { return 2; }\n", NULL, 0);
    resp_free(register_ws("acme", "one", root));
    enum { CALLS = 5 };
    for (int i = 0; i < CALLS; i++) {
        resp *r = call_tool(&S, key, "ctx_read", "{\"path\": \"f.txt\"}");
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    /* the log writer commits every couple of seconds: poll with a deadline */
    long long until = now_ms() + 15000;
    json_int_t seen = -1;
    while (now_ms() < until) {
        resp *r = adm_ok("GET", "/admin/tenants/acme/stats", OP, NULL, 200);
        seen = json_integer_value(json_object_get(r->json, "requests_24h"));
        cr_assert(json_is_integer(json_object_get(r->json, "symbols")), "%s", r->body);
        cr_assert(json_is_integer(json_object_get(r->json, "storage_used_bytes")), "%s", r->body);
        cr_assert(json_is_integer(json_object_get(r->json, "rate_limit_hits_24h")), "%s", r->body);
        cr_assert_eq(json_integer_value(json_object_get(r->json, "repos")), 1, "%s", r->body);
        resp_free(r);
        if (seen >= CALLS) {
            break;
        }
        usleep(200000);
    }
    cr_assert_eq(seen, CALLS, "acme's requests counted: %lld", (long long)seen);
    /* symbols: the registered workspace is indexed in the background; its index's counts */
    json_int_t symbols = 0;
    until = now_ms() + 20000;
    while (now_ms() < until && symbols < 2) {
        resp *r = adm_ok("GET", "/admin/tenants/acme/stats", OP, NULL, 200);
        symbols = json_integer_value(json_object_get(r->json, "symbols"));
        resp_free(r);
        usleep(100000);
    }
    cr_assert_eq(symbols, 2, "acme_one and acme_two: %lld", (long long)symbols);
    /* the server's totals: both tenants, the local workspace and acme's, an uptime */
    resp *r = adm_ok("GET", "/admin/stats", OP, NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "tenants")), 2, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total_repos")), 2, "%s", r->body);
    cr_assert(json_integer_value(json_object_get(r->json, "requests_24h")) >= CALLS, "%s", r->body);
    cr_assert(json_integer_value(json_object_get(r->json, "total_symbols")) >= 2, "%s", r->body);
    cr_assert(json_is_integer(json_object_get(r->json, "uptime_seconds")), "%s", r->body);
    resp_free(r);
}

/* settings.allowed_tools: the tenant lists and calls only those tools; null lifts the limit */
Test(admin, allowed_tools_limit_listing_and_calls, .init = init, .fini = down)
{
    start("");
    api_tenant("acme");
    char key[128], root[600];
    api_key(OP, "acme", "{\"permissions\": [\"read\"]}", key);
    make_root("acme", "f.txt", "acme file: " ACME_MARKER "\n", root, sizeof root);
    resp *r = register_ws("acme", "w", root);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    /* an unknown tool name is refused, nothing changes */
    adm_expect("PATCH", "/admin/tenants/acme", OP,
               "{\"settings\": {\"allowed_tools\": [\"ctx_read\", \"ctx_shell\"]}}", 400,
               "invalid_request");
    resp_free(adm_ok("PATCH", "/admin/tenants/acme", OP,
                     "{\"settings\": {\"allowed_tools\": [\"ctx_read\", \"ctx_glob\"]}}", 200));
    r = req(&S, "GET", "/v1/tools", key, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *tools = json_object_get(r->json, "tools");
    cr_assert_eq(json_array_size(tools), 2, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
                     "ctx_read");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tools, 1), "name")),
                     "ctx_glob");
    resp_free(r);
    r = call_tool(&S, key, "ctx_read", "{\"path\": \"f.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), ACME_MARKER), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, key, "ctx_tree", "{}");
    expect_error(r, 404, "unknown_tool");
    cr_assert(strstr(r->body, "allowed_tools"), "%s", r->body);
    resp_free(r);
    /* other tenants are not limited */
    r = call_tool(&S, S.token, "ctx_tree", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    /* null lifts the limit */
    resp_free(adm_ok("PATCH", "/admin/tenants/acme", OP,
                     "{\"settings\": {\"allowed_tools\": null}}", 200));
    r = call_tool(&S, key, "ctx_tree", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

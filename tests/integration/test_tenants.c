/* test_tenants.c - tenants and API keys as an operator and a client see them: the `ctxd tenant`
 * and `ctxd keys` commands (exit codes, what goes to stdout), keys on REST and MCP (Bearer and
 * X-API-Key), every bad key answered like an unknown one (malformed, wrong checksum, unknown,
 * revoked by the CLI while the server runs, of a deleted tenant), and isolation: a key of one
 * tenant never reaches another tenant's workspace or files. Also: a store from a newer ctxd
 * keeps the server from starting. */
#include <criterion/criterion.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/apikey.h"
#include "harness.h"

static server S;

#define ACME_MARKER "ACME_MARKER_1234"
#define BETA_MARKER "BETA_MARKER_7731"

/* team.json: "main" (local), "aws" of tenant acme, "bws" of tenant beta, each with a marker */
static void up(void)
{
    srv_init(&S);
    char a[600], b[600];
    dir_write(&S, "a/a.txt", "acme file: " ACME_MARKER "\n", a, sizeof a);
    dir_write(&S, "b/secret.txt", "beta file: " BETA_MARKER "\n", b, sizeof b);
    char more[2000];
    snprintf(more, sizeof more,
             "{\"id\": \"aws\", \"root\": \"%s/a\", \"tenant\": \"acme\"}, "
             "{\"id\": \"bws\", \"root\": \"%s/b\", \"tenant\": \"beta\"}",
             S.dir, S.dir);
    srv_config_ws(&S, more, "");
}

static void down(void)
{
    srv_cleanup(&S);
}

static void prefix_of(const char *key, char out[64])
{
    apikey k;
    cr_assert(apikey_parse(key, strlen(key), &k), "%s", key);
    snprintf(out, 64, "%s", k.prefix);
}

static resp *with_header(const char *header, const char *path, const char *body)
{
    const char *h[] = {header, NULL};
    return req(&S, body ? "POST" : "GET", path, NULL, h, body);
}

/* the 401 every bad credential gets; its message is returned (static) for comparisons */
static const char *expect_401(resp *r)
{
    static char msg[256];
    expect_error(r, 401, "unauthorized");
    snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(r->json, "error")));
    const char *wa = resp_header(r, "WWW-Authenticate");
    cr_assert(wa && strstr(wa, "error=\"invalid_token\""), "%s", wa ? wa : "(none)");
    resp_free(r);
    return msg;
}

Test(tenants, cli_commands, .init = up, .fini = down)
{
    char *o = NULL, *e = NULL;
    /* a missing or unknown verb: exit 2, the verbs named */
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "frob", NULL), 2);
    cr_assert(strstr(e, "unknown tenant command 'frob' (create, list, show, delete)"), "%s", e);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "frob", NULL), 2);
    cr_assert(strstr(e, "unknown keys command 'frob' (create, list, revoke)"), "%s", e);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "team", "token", "frob", NULL), 2);
    cr_assert(strstr(e, "unknown team token command 'frob' (create, list, revoke)"), "%s", e);
    free(e);
    /* create with an id; stdout is the id alone */
    cr_assert_eq(srv_ctl(&S, &o, &e, "tenant", "create", "--id", "acme", "--name", "Acme Inc.",
                         "--quota", "1000000", "--tier", "pro", NULL),
                 0, "%s", e);
    cr_assert_str_eq(o, "acme\n");
    free(o);
    free(e);
    /* without --id: 8 lowercase hex */
    cr_assert_eq(srv_ctl(&S, &o, &e, "tenant", "create", "--name", "Generated", NULL), 0, "%s", e);
    regex_t re;
    cr_assert_eq(regcomp(&re, "^[0-9a-f]{8}\n$", REG_EXTENDED), 0);
    cr_assert_eq(regexec(&re, o, 0, NULL, 0), 0, "'%s'", o);
    regfree(&re);
    char gen[16];
    snprintf(gen, sizeof gen, "%.8s", o);
    free(o);
    free(e);
    /* taken id */
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "create", "--id", "acme", "--name", "x", NULL), 1);
    cr_assert(strstr(e, "already exists"), "%s", e);
    free(e);
    /* list: the three, local included */
    cr_assert_eq(srv_ctl(&S, &o, NULL, "tenant", "list", NULL), 0);
    cr_assert(strstr(o, "\nacme ") && strstr(o, "\nlocal ") && strstr(o, gen), "%s", o);
    cr_assert(strstr(o, "Acme Inc.") && strstr(o, " pro ") && strstr(o, "1000000"), "%s", o);
    free(o);
    /* show */
    cr_assert_eq(srv_ctl(&S, &o, NULL, "tenant", "show", "acme", NULL), 0);
    cr_assert(strstr(o, "id: acme\n") && strstr(o, "name: Acme Inc.\n") &&
                  strstr(o, "storage_quota_bytes: 1000000\n") &&
                  strstr(o, "rate_limit_tier: pro\n") && strstr(o, "config workspaces: 1\n"),
              "%s", o);
    free(o);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "show", "--id", "nope", NULL), 1);
    cr_assert(strstr(e, "no tenant 'nope'"), "%s", e);
    free(e);

    /* keys: create prints the key alone on stdout, the rest on stderr */
    cr_assert_eq(
        srv_ctl(&S, &o, &e, "keys", "create", "--tenant", "acme", "--permissions", "read", NULL), 0,
        "%s", e);
    cr_assert_eq(regcomp(&re, "^ctxd_live_acme_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}\n$", REG_EXTENDED),
                 0);
    cr_assert_eq(regexec(&re, o, 0, NULL, 0), 0, "'%s'", o);
    regfree(&re);
    char prefix[64];
    o[strlen(o) - 1] = '\0';
    prefix_of(o, prefix);
    cr_assert(strstr(e, prefix) && !strstr(e, o), "stderr names the prefix, never the key: %s", e);
    free(o);
    free(e);
    /* unknown permission or scope, missing tenant: refused, nothing created */
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "create", "--tenant", "acme", "--permissions",
                         "read,root", NULL),
                 2);
    cr_assert(strstr(e, "unknown permission 'root'"), "%s", e);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "create", "--tenant", "acme", "--scopes",
                         "search,shell", NULL),
                 2);
    cr_assert(strstr(e, "unknown scope 'shell'"), "%s", e);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "create", "--tenant", "nope", NULL), 1);
    cr_assert(strstr(e, "no tenant 'nope'"), "%s", e);
    free(e);
    /* a write key with an extra scope and a tier; the list shows both keys */
    char k2[128], p2[64];
    srv_key(&S, "acme", "write", "--scopes=audit", k2);
    prefix_of(k2, p2);
    cr_assert_eq(srv_ctl(&S, &o, NULL, "keys", "list", "--tenant", "acme", NULL), 0);
    cr_assert(strstr(o, prefix) && strstr(o, p2), "%s", o);
    cr_assert(strstr(o, "search,graph,artifacts,index,events,sessionMutations,knowledge,audit"),
              "%s", o);
    cr_assert(strstr(o, "search,graph,artifacts,events\n"), "%s", o);
    cr_assert_null(strstr(o, k2), "a listing never shows a key");
    free(o);
    /* revoke: once, then refused; an unknown prefix; a malformed one */
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "revoke", prefix, NULL), 0);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "revoke", prefix, NULL), 1);
    cr_assert(strstr(e, "already revoked"), "%s", e);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "revoke", "ctxd_live_acme_AAAAAAAA", NULL), 1);
    cr_assert(strstr(e, "no key"), "%s", e);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "revoke", "acme", NULL), 2);
    free(e);
    cr_assert_eq(srv_ctl(&S, &o, NULL, "keys", "list", "--tenant", "acme", NULL), 0);
    const char *line = strstr(o, prefix);
    cr_assert(line && strstr(line, "Z "), "%s", o);
    free(o);

    /* delete: local refused; acme goes with its keys and its index directory */
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "delete", "local", NULL), 1);
    cr_assert(strstr(e, "cannot be deleted"), "%s", e);
    free(e);
    char idx[600];
    dir_write(&S, "data/index/acme/aws.db", "x", idx, sizeof idx);
    cr_assert_eq(access(idx, F_OK), 0);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "delete", "acme", NULL), 0, "%s", e);
    free(e);
    char idx_dir[600];
    snprintf(idx_dir, sizeof idx_dir, "%s/data/index/acme", S.dir);
    cr_assert_neq(access(idx_dir, F_OK), 0, "the index directory is gone");
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "list", "--tenant", "acme", NULL), 1);
    free(e);
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "delete", "acme", NULL), 1);
    free(e);
    cr_assert_eq(srv_ctl(&S, &o, NULL, "tenant", "list", NULL), 0);
    cr_assert_null(strstr(o, "acme"), "%s", o);
    free(o);
}

Test(tenants, odd_tenant_ids_are_refused, .init = up, .fini = down)
{
    const char *bad[] = {"Acme",
                         "a_b",
                         "-lead",
                         "a b",
                         "a/b",
                         "../x",
                         "a.b",
                         "",
                         "caf\xc3\xa9",
                         "a;b",
                         "0123456789abcdef0123456789abcdefg"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *e = NULL;
        cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "create", "--id", bad[i], "--name", "x", NULL),
                     2, "'%s': %s", bad[i], e);
        cr_assert(strstr(e, "is not a tenant id"), "'%s': %s", bad[i], e);
        free(e);
        cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "create", "--tenant", bad[i], NULL), 2, "'%s'",
                     bad[i]);
        free(e);
        cr_assert_neq(srv_ctl(&S, NULL, &e, "tenant", "delete", bad[i], NULL), 0, "'%s'", bad[i]);
        free(e);
    }
    char *o = NULL;
    cr_assert_eq(srv_ctl(&S, &o, NULL, "tenant", "list", NULL), 0);
    cr_assert_eq(strcmp(strchr(o, '\n') + 1, strstr(o, "\nlocal ") + 1), 0, "only local exists: %s",
                 o);
    free(o);
}

Test(tenants, key_authenticates_on_rest_and_mcp, .init = up, .fini = down)
{
    srv_tenant(&S, "acme");
    char key[128], prefix[64], test_key[128];
    srv_key(&S, "acme", "read", NULL, key);
    prefix_of(key, prefix);
    srv_key(&S, "acme", "read", "--test", test_key);
    cr_assert_eq(strncmp(test_key, "ctxd_test_acme_", 15), 0, "%s", test_key);
    cr_assert(srv_start(&S));

    /* REST, Bearer: the principal is the key's prefix, the workspaces its tenant's */
    resp *r = req(&S, "GET", "/v1/manifest", key, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "tokenId")), prefix);
    json_t *ws = json_object_get(r->json, "workspaces");
    cr_assert_eq(json_array_size(ws), 1, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ws, 0), "id")), "aws");
    resp_free(r);
    r = call_tool(&S, key, "ctx_read", "{\"path\":\"a.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, ACME_MARKER), "%s", r->body);
    resp_free(r);
    /* read permission does not include index */
    r = call_tool(&S, key, "ctx_index", "{\"action\":\"build\"}");
    expect_error(r, 403, "scope_denied");
    resp_free(r);

    /* X-API-Key alone; both headers equal; both different */
    char h[200];
    snprintf(h, sizeof h, "X-API-Key: %s", key);
    r = with_header(h, "/v1/tools/call",
                    "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"a.txt\"}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, ACME_MARKER), "%s", r->body);
    resp_free(r);
    const char *both[] = {h, NULL};
    r = req(&S, "GET", "/v1/manifest", key, both, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&S, "GET", "/v1/manifest", test_key, both, NULL);
    expect_error(r, 400, "invalid_request");
    resp_free(r);

    /* a ctxd_test_ key works like a live one */
    r = call_tool(&S, test_key, "ctx_read", "{\"path\":\"a.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, ACME_MARKER), "%s", r->body);
    resp_free(r);

    /* MCP: initialize and call a tool with the key */
    const char *mh[] = {"Accept: application/json, text/event-stream", NULL};
    r = req(&S, "POST", "/mcp", key, mh,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
            "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":"
            "\"t\",\"version\":\"1\"}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    char sid[128];
    const char *sh = resp_header(r, "Mcp-Session-Id");
    cr_assert_not_null(sh);
    snprintf(sid, sizeof sid, "Mcp-Session-Id: %s", sh);
    resp_free(r);
    const char *mh2[] = {mh[0], sid, NULL};
    r = req(&S, "POST", "/mcp", key, mh2,
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"ctx_read\",\"arguments\":{\"path\":\"a.txt\"}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, ACME_MARKER), "%s", r->body);
    cr_assert_not(json_is_true(json_object_get(json_object_get(r->json, "result"), "isError")));
    resp_free(r);
    /* the session is the key's: another credential cannot use it */
    r = req(&S, "POST", "/mcp", S.token, mh2,
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"ctx_read\",\"arguments\":{\"path\":\"a.txt\"}}}");
    cr_assert_null(strstr(r->body, ACME_MARKER), "%s", r->body);
    resp_free(r);
    /* MCP without a valid key: 401 */
    r = req(&S, "POST", "/mcp", "ctxd_live_acme_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_000000", mh,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    cr_assert_eq(r->status, 401, "%s", r->body);
    resp_free(r);

    /* config tokens keep working */
    r = call_tool(&S, S.token, "ctx_read", "{\"path\":\"README.md\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);

    /* the audit line names the key by its prefix, never the key */
    json_t *lines = audit_wait(&S, 5, 2000);
    char *all = json_dumps(lines, 0);
    cr_assert(strstr(all, prefix), "audit: %s", all);
    cr_assert_null(strstr(all, key), "the key is in the audit log");
    free(all);
    json_decref(lines);

    /* last_used_at: written in the background within a few seconds */
    bool seen = false;
    for (int i = 0; i < 60 && !seen; i++) {
        char *o = NULL;
        cr_assert_eq(srv_ctl(&S, &o, NULL, "keys", "list", "--tenant", "acme", NULL), 0);
        const char *line = strstr(o, prefix);
        const char *nl = line ? strchr(line, '\n') : NULL;
        /* columns: prefix, tier, created, last used: two timestamps on the line */
        const char *z1 = line ? strstr(line, "Z ") : NULL;
        const char *z2 = z1 ? strstr(z1 + 2, "Z ") : NULL;
        seen = z2 && nl && z2 < nl;
        free(o);
        if (!seen) {
            usleep(100000);
        }
    }
    cr_assert(seen, "last_used_at was not written");
    cr_assert_eq(srv_stop(&S), 0, "the server exits cleanly");
}

Test(tenants, bad_keys_are_answered_like_unknown_ones, .init = up, .fini = down)
{
    srv_tenant(&S, "acme");
    srv_tenant(&S, "gone");
    char key[128], prefix[64], gone_key[128], other[128];
    srv_key(&S, "acme", "read", NULL, key);
    prefix_of(key, prefix);
    srv_key(&S, "gone", "read", NULL, gone_key);
    srv_key(&S, "acme", "read", NULL, other);
    cr_assert(srv_start(&S));
    resp *r = req(&S, "GET", "/v1/manifest", key, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&S, "GET", "/v1/manifest", gone_key, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);

    /* the reference answer: an unknown config-shaped token */
    char msg[256];
    snprintf(msg, sizeof msg, "%s",
             expect_401(req(&S, "GET", "/v1/manifest",
                            "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
                            NULL, NULL)));
    /* malformed */
    const char *malformed[] = {
        "ctxd_live_acme_short_000000",
        "ctxd_live_Acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4_3QqKlg",
        "ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4_3QqKlgX",
        "ctxd_live_",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", malformed[i], NULL, NULL)), msg,
                         "%s", malformed[i]);
    }
    /* wrong checksum: the real key with its last character changed, and two characters swapped */
    char typo[128];
    snprintf(typo, sizeof typo, "%s", key);
    size_t n = strlen(typo);
    typo[n - 1] = typo[n - 1] == 'A' ? 'B' : 'A';
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", typo, NULL, NULL)), msg);
    snprintf(typo, sizeof typo, "%s", key);
    size_t sw = strlen(prefix) + 2;
    while (typo[sw] == typo[sw + 1]) {
        sw++;
    }
    char t = typo[sw];
    typo[sw] = typo[sw + 1];
    typo[sw + 1] = t;
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", typo, NULL, NULL)), msg);
    /* well-formed with a valid checksum but unknown; and a real key's random part under another
       tenant's name (the checksum made right) */
    char unknown[APIKEY_MAX_LEN + 1];
    cr_assert(apikey_generate("acme", false, unknown));
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", unknown, NULL, NULL)), msg);
    char body[128], moved[160], check[8];
    snprintf(body, sizeof body, "ctxd_live_beta_%.30s", key + 15);
    apikey_base62_6(apikey_crc32(body, strlen(body)), check);
    snprintf(moved, sizeof moved, "%s_%s", body, check);
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", moved, NULL, NULL)), msg);
    /* X-API-Key with a bad key: the same */
    char h[200];
    snprintf(h, sizeof h, "X-API-Key: %s", unknown);
    cr_assert_str_eq(expect_401(with_header(h, "/v1/manifest", NULL)), msg);

    /* revoked by the CLI while the server runs: refused on the next request */
    char *e = NULL;
    cr_assert_eq(srv_ctl(&S, NULL, &e, "keys", "revoke", prefix, NULL), 0, "%s", e);
    free(e);
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", key, NULL, NULL)), msg);
    cr_assert_str_eq(expect_401(call_tool(&S, key, "ctx_read", "{\"path\":\"a.txt\"}")), msg);
    /* the tenant's other key still works */
    r = req(&S, "GET", "/v1/manifest", other, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);

    /* a key of a deleted tenant */
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "delete", "gone", NULL), 0, "%s", e);
    free(e);
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", gone_key, NULL, NULL)), msg);
    /* recreating a tenant of the same id does not bring its old keys back */
    srv_tenant(&S, "gone");
    cr_assert_str_eq(expect_401(req(&S, "GET", "/v1/manifest", gone_key, NULL, NULL)), msg);
    cr_assert_eq(srv_stop(&S), 0, "the server exits cleanly");
}

/* the error message of a tool call refused before running, with the workspace name blanked */
static char *refusal(resp *r, const char *name)
{
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(error_code(r), "unknown_workspace");
    char *m = strdup(json_string_value(json_object_get(r->json, "error")));
    char *p = strstr(m, name);
    cr_assert_not_null(p, "%s", m);
    memset(p, '#', strlen(name) < 4 ? strlen(name) : 4);
    resp_free(r);
    return m;
}

Test(tenants, a_key_reaches_only_its_tenants_workspaces, .init = up, .fini = down)
{
    srv_tenant(&S, "acme");
    srv_tenant(&S, "beta");
    char a[128], b[128];
    srv_key(&S, "acme", "read", NULL, a);
    srv_key(&S, "beta", "read", NULL, b);
    cr_assert(srv_start(&S));

    /* the test can fail: beta's key does see beta's file */
    resp *r = call_tool(&S, b, "ctx_read", "{\"path\":\"secret.txt\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, BETA_MARKER), "%s", r->body);
    resp_free(r);

    /* naming beta's workspace: exactly the answer for a workspace that does not exist */
    char *m1 = refusal(
        call_tool(&S, a, "ctx_read", "{\"path\":\"secret.txt\",\"workspaceId\":\"bws\"}"), "bws");
    char *m2 = refusal(
        call_tool(&S, a, "ctx_read", "{\"path\":\"secret.txt\",\"workspaceId\":\"zzz\"}"), "zzz");
    cr_assert_str_eq(m1, m2);
    free(m1);
    free(m2);
    /* the same through the workspace header and the body's workspaceId, and for local's */
    const char *wh[] = {"x-leanctx-workspace: bws", NULL};
    char auth[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", a);
    const char *hh[] = {auth, wh[0], NULL};
    r = req(&S, "POST", "/v1/tools/call", NULL, hh,
            "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"secret.txt\"}}");
    expect_error(r, 400, "unknown_workspace");
    cr_assert_null(strstr(r->body, BETA_MARKER));
    resp_free(r);
    r = req(&S, "POST", "/v1/tools/call", a, NULL,
            "{\"name\":\"ctx_tree\",\"workspaceId\":\"main\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);

    /* beta's files never appear through acme's own workspace */
    const char *calls[][2] = {
        {"ctx_search", "{\"pattern\":\"BETA_MARKER_7\"}"},
        {"ctx_search", "{\"pattern\":\"MARKER\"}"},
        {"ctx_read", "{\"path\":\"../b/secret.txt\"}"},
        {"ctx_read", "{\"path\":\"secret.txt\"}"},
        {"ctx_tree", "{}"},
        {"ctx_glob", "{\"pattern\":\"**/*.txt\"}"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        r = call_tool(&S, a, calls[i][0], calls[i][1]);
        cr_assert_null(strstr(r->body, "7731"), "%s %s: %s", calls[i][0], calls[i][1], r->body);
        cr_assert_null(strstr(r->body, "secret.txt\""), "%s %s: %s", calls[i][0], calls[i][1],
                       r->body);
        resp_free(r);
    }
    /* acme's search finds acme's marker: the searches above did run */
    r = call_tool(&S, a, "ctx_search", "{\"pattern\":\"MARKER\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, ACME_MARKER), "%s", r->body);
    resp_free(r);
    /* the manifest lists only the tenant's workspace */
    r = req(&S, "GET", "/v1/manifest", a, NULL, NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_null(strstr(r->body, "\"bws\""), "%s", r->body);
    cr_assert_null(strstr(r->body, "\"main\""), "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&S), 0, "the server exits cleanly");
}

Test(tenants, a_store_from_a_newer_ctxd_is_refused_at_start, .init = up, .fini = down)
{
    /* a first start creates and migrates the store in a fresh data dir */
    cr_assert(srv_start(&S));
    cr_assert_eq(srv_stop(&S), 0);
    char db[600];
    snprintf(db, sizeof db, "%s/data/ctxd.db", S.dir);
    cr_assert_eq(access(db, F_OK), 0, "no store after a start");
    sqlite3 *h = NULL;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version = 9999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    cr_assert_not(srv_start(&S), "a server started on a newer schema");
    char *log = slurp(S.log);
    cr_assert(log && strstr(log, "refusing to start") && strstr(log, "newer"), "%s", log);
    free(log);
    /* and the CLI likewise, without changing it */
    char *e = NULL;
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "list", NULL), 1);
    cr_assert(strstr(e, "schema version 9999"), "%s", e);
    free(e);
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 9999);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

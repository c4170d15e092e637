/* test_config.c - team.json loading (src/config/config.c): the seed's defaults (DESIGN §3),
 * ctxd's additions, every problem reported at once with its field, case-insensitive scope
 * names and sha256Hex, roles, tenants, relative paths. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static char dir[64];

static void init(void)
{
    snprintf(dir, sizeof dir, "/tmp/ctxd-config-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/ws' '%s/other'", dir, dir);
    cr_assert_eq(system(cmd), 0);
}

static void fini(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
}

TestSuite(config, .init = init, .fini = fini, .timeout = 10);

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* write team.json with this content and load it; problems into p (caller releases) */
static config *load(const char *json, config_problems *p)
{
    char path[128];
    snprintf(path, sizeof path, "%s/team.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    config_problems_init(p);
    return config_load(path, false, p);
}

static config *load_ok(const char *json)
{
    config_problems p;
    config *c = load(json, &p);
    cr_assert_not_null(c, "config refused: %s", p.text.ptr ? p.text.ptr : "");
    cr_assert_eq(p.count, 0);
    config_problems_release(&p);
    return c;
}

Test(config, defaults_of_every_field)
{
    config *c = load_ok("{}");
    char want[256];
    /* the seed's table */
    cr_assert_str_eq(c->host, "127.0.0.1");
    cr_assert_eq(c->port, 9877);
    cr_assert_null(c->default_workspace_id);
    cr_assert_eq(c->disable_host_check, false);
    cr_assert_eq(c->n_allowed_hosts, 0);
    cr_assert_eq(c->max_body_bytes, 2097152);
    cr_assert_eq(c->max_concurrency, 32);
    cr_assert_float_eq(c->max_rps, 50, 1e-9);
    cr_assert_float_eq(c->rate_burst, 100, 1e-9);
    cr_assert_eq(c->request_timeout_ms, 30000);
    cr_assert_eq(c->n_workspaces, 0);
    cr_assert_eq(c->n_tokens, 0);
    /* ctxd's additions */
    snprintf(want, sizeof want, "%s/ctxd-data", dir);
    cr_assert_str_eq(c->data_dir, want, "dataDir is relative to the config file");
    snprintf(want, sizeof want, "%s/ctxd-data/audit.log", dir);
    cr_assert_str_eq(c->audit_log_path, want);
    snprintf(want, sizeof want, "%s/ctxd-data/audit-hmac.key", dir);
    cr_assert_str_eq(c->audit_hmac_key_file, want);
    cr_assert_float_eq(c->key_rps, 10, 1e-9);
    cr_assert_float_eq(c->key_burst, 100, 1e-9);
    cr_assert_float_eq(c->ip_rps, 2, 1e-9);
    cr_assert_float_eq(c->ip_burst, 20, 1e-9);
    cr_assert_eq(c->max_output_bytes, 131072, "tools.md §1.5");
    cr_assert_eq(c->max_read_bytes, 8 << 20, "tools.md §1.2: 8 MiB");
    cr_assert_eq(c->search_budget_ms, 10000, "tools.md §2.2: 10 s");
    cr_assert_eq(c->n_secret_deny, 0);
    cr_assert_eq(c->n_ignore_globs, 0);
    cr_assert_eq(c->audit_sync_ms, 1000);
    cr_assert_eq(c->worker_threads, 0);
    cr_assert_eq(c->legacy_rate_limit_headers, false);
    snprintf(want, sizeof want, "%s/team.json", dir);
    cr_assert_str_eq(c->path, want);
    cr_assert_str_eq(c->dir, dir);
    cr_assert_gt(c->generation, 0);
    config_unref(c);
}

Test(config, seed_fields_are_read)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"host\":\"0.0.0.0\",\"port\":8080,\"defaultWorkspaceId\":\"main\","
             "\"auditLogPath\":\"logs/a.log\",\"disableHostCheck\":true,"
             "\"allowedHosts\":[\"ctx.example.com\",\"localhost\"],\"maxBodyBytes\":1000,"
             "\"maxConcurrency\":4,\"maxRps\":2.5,\"rateBurst\":7,\"requestTimeoutMs\":1500,"
             "\"workspaces\":[{\"id\":\"main\",\"label\":\"Main\",\"root\":\"ws\"},"
             "{\"id\":\"b\",\"root\":\"%s/other\",\"tenant\":\"acme\"}],"
             "\"tokens\":[{\"id\":\"t1\",\"sha256Hex\":\"" HEX64 "\",\"scopes\":[\"search\"]}],"
             "\"secretDenyList\":[\"*.secret\"],\"ignore\":[\"*.min.js\"],\"maxReadBytes\":1024}",
             dir);
    config *c = load_ok(json);
    char want[256];
    cr_assert_str_eq(c->host, "0.0.0.0");
    cr_assert_eq(c->port, 8080);
    cr_assert_str_eq(c->default_workspace_id, "main");
    snprintf(want, sizeof want, "%s/logs/a.log", dir);
    cr_assert_str_eq(c->audit_log_path, want);
    cr_assert(c->disable_host_check);
    cr_assert_eq(c->n_allowed_hosts, 2);
    cr_assert_str_eq(c->allowed_hosts[1], "localhost");
    cr_assert_eq(c->max_body_bytes, 1000);
    cr_assert_eq(c->max_concurrency, 4);
    cr_assert_float_eq(c->max_rps, 2.5, 1e-9);
    cr_assert_float_eq(c->rate_burst, 7, 1e-9);
    cr_assert_eq(c->request_timeout_ms, 1500);
    cr_assert_eq(c->n_workspaces, 2);
    snprintf(want, sizeof want, "%s/ws", dir);
    cr_assert_str_eq(c->workspaces[0].root, want, "a relative root is relative to the config file");
    cr_assert_str_eq(c->workspaces[0].label, "Main");
    cr_assert_str_eq(c->workspaces[0].tenant, "local");
    cr_assert_str_eq(c->workspaces[1].label, "b", "the label defaults to the id");
    cr_assert_str_eq(c->workspaces[1].tenant, "acme");
    cr_assert_eq(c->workspaces[0].root_fd, -1, "roots are only checked, not opened");
    cr_assert_not_null(config_workspace(c, "local", "main"));
    cr_assert_null(config_workspace(c, "acme", "main"), "a workspace belongs to its tenant");
    cr_assert_not_null(config_workspace(c, NULL, "b"));
    cr_assert_eq(c->n_tokens, 1);
    cr_assert_eq(c->tokens[0].scopes, SCOPE_SEARCH);
    cr_assert_str_eq(c->tokens[0].tenant, "local");
    cr_assert_eq(c->tokens[0].sha256[0], 0x00);
    cr_assert_eq(c->tokens[0].sha256[31], 0xff);
    cr_assert_eq(config_active_tokens(c), 1);
    cr_assert_eq(c->n_secret_deny, 1);
    cr_assert_str_eq(c->secret_deny_list[0], "*.secret");
    cr_assert_eq(c->n_ignore_globs, 1);
    cr_assert_eq(c->max_read_bytes, 1024);
    config_unref(c);
}

Test(config, every_problem_is_reported_at_once_with_its_field)
{
    config_problems p;
    config *c = load("{\"host\":5,\"port\":70000,\"maxRps\":-1,\"maxConcurrency\":\"x\","
                     "\"disableHostCheck\":\"yes\",\"allowedHosts\":\"h\",\"requestTimeoutMs\":0,"
                     "\"defaultWorkspaceId\":\"nope\","
                     "\"workspaces\":[{\"id\":\"w\"},{\"id\":\"bad id\",\"root\":\"ws\"},"
                     "{\"id\":\"x\",\"root\":\"missing-dir\"}],"
                     "\"tokens\":[{\"id\":\"t\",\"sha256Hex\":\"abc\"},"
                     "{\"id\":\"u\",\"sha256Hex\":\"" HEX64 "\",\"scopes\":[\"search\",\"bogus\"],"
                     "\"role\":\"king\"},"
                     "{\"id\":\"v\",\"sha256Hex\":\"" HEX64
                     "\"},{\"id\":\"v\",\"sha256Hex\":\"" HEX64 "\"}]}",
                     &p);
    cr_assert_null(c, "a bad config is refused whole");
    const char *t = p.text.ptr ? p.text.ptr : "";
    const char *fields[] = {
        "host: ",
        "port: ",
        "maxRps: ",
        "maxConcurrency: ",
        "disableHostCheck: ",
        "allowedHosts: ",
        "requestTimeoutMs: ",
        "workspaces[0].root: ",
        "workspaces[1].id: ",
        "workspaces[2].root: ",
        "tokens[0].sha256Hex: ",
        "tokens[1].scopes[1]: unknown scope 'bogus'",
        "tokens[1].role: unknown role 'king' (known: viewer, member, admin, owner)",
        "tokens[3].id: 'v' is used twice"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cr_assert(strstr(t, fields[i]), "no problem line for '%s' in:\n%s", fields[i], t);
    }
    cr_assert_geq(p.count, (int)(sizeof fields / sizeof fields[0]), "%s", t);
    /* one line per problem */
    int lines = 0;
    for (const char *q = t; *q; q++) {
        lines += *q == '\n';
    }
    cr_assert_eq(lines, p.count, "%s", t);
    config_problems_release(&p);
}

Test(config, malformed_json_and_duplicate_keys)
{
    config_problems p;
    cr_assert_null(load("{\"port\": 1,", &p));
    cr_assert_eq(p.count, 1);
    cr_assert(strncmp(p.text.ptr, "config: malformed JSON", 22) == 0, "%s", p.text.ptr);
    config_problems_release(&p);
    cr_assert_null(load("{\"port\": 1, \"port\": 2}", &p), "a repeated key is ambiguous");
    config_problems_release(&p);
    cr_assert_null(load("[]", &p));
    cr_assert(strstr(p.text.ptr, "must be a JSON object"), "%s", p.text.ptr);
    config_problems_release(&p);
    config_problems_init(&p);
    cr_assert_null(config_load("/nonexistent/team.json", false, &p));
    cr_assert(strstr(p.text.ptr, "cannot open"), "%s", p.text.ptr);
    config_problems_release(&p);
}

Test(config, scope_names_are_case_insensitive)
{
    config *c = load_ok("{\"tokens\":[{\"id\":\"t\",\"sha256Hex\":\"" HEX64 "\","
                        "\"scopes\":[\"SEARCH\",\"sessionmutations\",\"Knowledge\"]}]}");
    cr_assert_eq(c->tokens[0].scopes, SCOPE_SEARCH | SCOPE_SESSION_MUTATIONS | SCOPE_KNOWLEDGE);
    config_unref(c);
}

Test(config, sha256hex_is_case_insensitive)
{
    config *lower = load_ok("{\"tokens\":[{\"id\":\"t\",\"sha256Hex\":\"" HEX64 "\"}]}");
    config *upper =
        load_ok("{\"tokens\":[{\"id\":\"t\",\"sha256Hex\":"
                "\"00112233445566778899AABBCCDDEEFF00112233445566778899AaBbCcDdEeFf\"}]}");
    cr_assert_eq(memcmp(lower->tokens[0].sha256, upper->tokens[0].sha256, 32), 0);
    config_unref(lower);
    config_unref(upper);
    config_problems p;
    cr_assert_null(load("{\"tokens\":[{\"id\":\"t\",\"sha256Hex\":\"" HEX64 "0\"}]}", &p),
                   "65 chars");
    config_problems_release(&p);
    cr_assert_null(load("{\"tokens\":[{\"id\":\"t\",\"sha256Hex\":"
                        "\"g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}]}",
                        &p),
                   "not hex");
    config_problems_release(&p);
}

Test(config, roles_tenants_and_revocation)
{
    config *c = load_ok(
        "{\"tokens\":["
        "{\"id\":\"v\",\"sha256Hex\":\"" HEX64 "\",\"role\":\"viewer\"},"
        "{\"id\":\"m\",\"sha256Hex\":\"" HEX64 "\",\"role\":\"Member\",\"scopes\":[\"audit\"]},"
        "{\"id\":\"o\",\"sha256Hex\":\"" HEX64 "\",\"role\":\"owner\",\"tenant\":\"acme-2\"},"
        "{\"id\":\"r\",\"sha256Hex\":\"" HEX64 "\",\"revokedAt\":\"2026-01-01T00:00:00Z\"}]}");
    cr_assert_eq(c->tokens[0].scopes, SCOPE_SEARCH);
    cr_assert_eq(c->tokens[1].scopes,
                 SCOPE_SEARCH | SCOPE_GRAPH | SCOPE_INDEX | SCOPE_KNOWLEDGE | SCOPE_EVENTS |
                     SCOPE_AUDIT,
                 "a role's scopes and the listed ones add up");
    cr_assert_eq(c->tokens[2].scopes, SCOPE_ALL);
    cr_assert_str_eq(c->tokens[2].tenant, "acme-2");
    cr_assert(c->tokens[3].revoked);
    cr_assert_eq(config_active_tokens(c), 3);
    config_unref(c);
    config_problems p;
    cr_assert_null(
        load("{\"tokens\":[{\"id\":\"t\",\"sha256Hex\":\"" HEX64 "\",\"tenant\":\"Acme\"}]}", &p));
    cr_assert(strstr(p.text.ptr, "tokens[0].tenant: 'Acme' is not a tenant id"), "%s", p.text.ptr);
    config_problems_release(&p);
}

Test(config, ranges_are_checked)
{
    config_problems p;
    cr_assert_null(load("{\"maxReadBytes\": 100}", &p), "below 1024");
    cr_assert(strstr(p.text.ptr, "maxReadBytes: must be between 1024"), "%s", p.text.ptr);
    config_problems_release(&p);
    cr_assert_null(load("{\"maxOutputBytes\": 1.5}", &p), "not an integer");
    cr_assert(strstr(p.text.ptr, "maxOutputBytes: must be an integer"), "%s", p.text.ptr);
    config_problems_release(&p);
    cr_assert_null(load("{\"port\": -1}", &p));
    config_problems_release(&p);
    config *c = load_ok("{\"port\": 0, \"maxRps\": 0.5}");
    cr_assert_eq(c->port, 0, "port 0: the kernel picks one");
    config_unref(c);
}

Test(config, workspace_problems)
{
    config_problems p;
    char json[512];
    snprintf(json, sizeof json,
             "{\"workspaces\":[{\"id\":\"a\",\"root\":\"ws\"},{\"id\":\"a\",\"root\":\"other\"},"
             "{\"id\":\"f\",\"root\":\"team.json\"}]}");
    cr_assert_null(load(json, &p));
    cr_assert(strstr(p.text.ptr, "workspaces[1].id: 'a' is used twice"), "%s", p.text.ptr);
    cr_assert(strstr(p.text.ptr, "workspaces[2].root: 'team.json' is not a directory"), "%s",
              p.text.ptr);
    config_problems_release(&p);
    /* the same id in two tenants is two workspaces */
    config *c = load_ok("{\"workspaces\":[{\"id\":\"a\",\"root\":\"ws\"},"
                        "{\"id\":\"a\",\"root\":\"other\",\"tenant\":\"t2\"}]}");
    cr_assert_eq(c->n_workspaces, 2);
    config_unref(c);
}

Test(config, token_ids_do_not_look_like_api_keys)
{
    config_problems p;
    config *c = load("{\"tokens\": [{\"id\": \"ctxd_live_acme_abcdefgh\", \"sha256Hex\": \"" HEX64
                     "\", \"scopes\": [\"search\"]}]}",
                     &p);
    cr_assert_null(c);
    cr_assert(p.text.ptr &&
                  strstr(p.text.ptr, "tokens[0].id: 'ctxd_live_acme_abcdefgh' starts like "
                                     "an API key"),
              "%s", p.text.ptr ? p.text.ptr : "");
    config_problems_release(&p);
}

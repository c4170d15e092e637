/* test_quickstart.c - the seed's 4-step quick start, as a transcript, with ctxd in place of
 * lean-ctx: write team.json, mint a token with `team token create`, `team serve`, then health,
 * manifest and two tool calls (one with the workspace header). Also the zero-config start. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

Test(quickstart, seed_transcript)
{
    server s;
    srv_init(&s);
    /* step 1: the seed's team.json, with a temp root and port 0 so tests can run in parallel */
    char cfg[2048];
    snprintf(
        cfg, sizeof cfg,
        "{\n\"host\": \"127.0.0.1\",\n\"port\": 0,\n\"defaultWorkspaceId\": \"main\",\n"
        "\"auditLogPath\": \"%s/log/ctxd/audit.log\",\n\"workspaces\": [\n{\n\"id\": \"main\",\n"
        "\"label\": \"Main Project\",\n\"root\": \"%s\"\n}\n],\n\"tokens\": []\n}\n",
        s.dir, s.ws);
    FILE *f = fopen(s.config, "w");
    fputs(cfg, f);
    fclose(f);
    snprintf(s.audit, sizeof s.audit, "%s/log/ctxd/audit.log", s.dir);

    /* step 2: TOKEN="$(ctxd team token create --config team.json --id dev-alice --scopes ...)" */
    const char *args[] = {
        "team",      "token",    "create",
        "--config",  s.config,   "--id",
        "dev-alice", "--scopes", "search,graph,artifacts,index,events,sessionMutations,knowledge",
        NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_ctxd(args, &out, &err), 0, "token create failed: %s", err);
    cr_assert_eq(strlen(out), 65, "stdout must be the token alone on its line: '%s'", out);
    char token[65];
    memcpy(token, out, 64);
    token[64] = '\0';
    char *conf = slurp(s.config);
    cr_assert(strstr(conf, "\"sha256Hex\""), "the config stores sha256Hex");
    cr_assert_null(strstr(conf, token), "the config never holds the plaintext token");
    free(conf);
    free(out);
    free(err);

    /* step 3: ctxd team serve --config team.json, and its banner */
    cr_assert(srv_start(&s), "server did not start");
    char *log = slurp(s.log);
    cr_assert(strstr(log, "Team Server - 127.0.0.1:"), "%s", log);
    cr_assert(strstr(log, "Workspaces: 1 (main)"), "%s", log);
    cr_assert(strstr(log, "Tokens: 1 active"), "%s", log);
    cr_assert(strstr(log, "Tools: "), "%s", log);
    free(log);

    /* step 4: health, manifest, tool calls */
    resp *r = req(&s, "GET", "/health", NULL, NULL, NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "ok");
    cr_assert(json_is_string(json_object_get(r->json, "version")));
    cr_assert(json_is_string(json_object_get(r->json, "uptime")));
    resp_free(r);

    r = req(&s, "GET", "/v1/manifest", token, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *tools = json_object_get(r->json, "tools");
    cr_assert_gt(json_array_size(tools), 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
                     "ctx_read");
    resp_free(r);

    r = req(&s, "POST", "/v1/tools/call", token, NULL,
            "{\"name\":\"ctx_tree\",\"arguments\":{\"path\":\".\",\"depth\":2}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(result_text(r),
                     "./ (3 files)\n  README.md\n  src/ (2)\n    main.c\n    util.c");
    resp_free(r);

    const char *wsh[] = {"x-leanctx-workspace: main", NULL};
    r = req(
        &s, "POST", "/v1/tools/call", token, wsh,
        "{\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\",\"mode\":\"signatures\"}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_not(result_is_error(r), "%s", r->body);
    cr_assert(strstr(result_text(r), "README.md 3L"), "%s", result_text(r));
    resp_free(r);

    /* the audit log got a line per authenticated request, with the seed's keys (a line is
       written once its response is complete, so it may land just after the client has it) */
    json_t *lines = audit_lines(&s);
    for (int i = 0; i < 200 && json_array_size(lines) < 3; i++) {
        json_decref(lines);
        usleep(10000);
        lines = audit_lines(&s);
    }
    cr_assert_eq(json_array_size(lines), 3, "audit lines: %zu", json_array_size(lines));
    /* each line is written by the thread that served its request: find the ctx_read one */
    json_t *last = NULL;
    for (size_t i = 0; i < json_array_size(lines); i++) {
        json_t *t = json_object_get(json_array_get(lines, i), "tool");
        if (json_is_string(t) && strcmp(json_string_value(t), "ctx_read") == 0) {
            last = json_array_get(lines, i);
        }
    }
    cr_assert_not_null(last, "no audit line for the ctx_read call");
    const char *keys[] = {"ts",     "tokenId", "workspaceId",  "tool",
                          "method", "allowed", "deniedReason", "argumentsMd5"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cr_assert(json_object_get(last, keys[i]), "audit line lacks %s", keys[i]);
    }
    cr_assert_str_eq(json_string_value(json_object_get(last, "tokenId")), "dev-alice");
    cr_assert_str_eq(json_string_value(json_object_get(last, "tool")), "ctx_read");
    json_decref(lines);
    cr_assert_eq(srv_stop(&s), 0, "SIGTERM must exit 0");
}

Test(quickstart, zero_config_prints_token_once)
{
    server s;
    srv_init(&s);
    char data[400];
    snprintf(data, sizeof data, "%s/zc", s.dir);
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "cd %s && (timeout 5 %s serve --data-dir %s --root %s --bind 127.0.0.1:0 >%s/tok 2>%s/err &"
        " sleep 1; kill %%1 2>/dev/null; wait) ; true",
        s.dir, ctxd_bin(), data, s.ws, s.dir, s.dir);
    cr_assert_eq(system(cmd), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/tok", s.dir);
    char *tok = slurp(p);
    cr_assert(tok && strlen(tok) == 65, "first start prints the admin token alone: '%s'", tok);
    snprintf(p, sizeof p, "%s/team.json", data);
    char *conf = slurp(p);
    cr_assert(conf && strstr(conf, "\"main\""), "%s", conf);
    cr_assert_null(strstr(conf, tok));
    free(conf);
    free(tok);
    /* a restart loads the same file and mints no second token */
    cr_assert_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/tok", s.dir);
    tok = slurp(p);
    cr_assert_str_eq(tok, "", "a restart must not print a token");
    free(tok);
}

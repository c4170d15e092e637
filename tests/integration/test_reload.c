/* test_reload.c - configuration at run time (DESIGN §2, §3, §11.9): token revocation applied
 * by the inotify watch and by SIGHUP, a bad reload that changes nothing and names the field,
 * limits and workspaces changed live, SIGTERM draining a request in flight; `check-config` and
 * a refused start listing every problem; the token commands (plaintext on stdout only, unknown
 * fields kept, concurrent creates all landing). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static long manifest_status(server *s, const char *token)
{
    resp *r = req(s, "GET", "/v1/manifest", token, NULL, NULL);
    long st = r->status;
    resp_free(r);
    return st;
}

/* poll until the token's status is `want`; the milliseconds it took, or -1 */
static long long until_status(server *s, const char *token, long want, int timeout_ms)
{
    long long t0 = now_ms();
    do {
        if (manifest_status(s, token) == want) {
            return now_ms() - t0;
        }
        usleep(25000);
    } while (now_ms() - t0 < timeout_ms);
    return -1;
}

static int revoke_token(server *s, const char *id)
{
    const char *args[] = {"team", "token", "revoke", "--config", s->config, "--id", id, NULL};
    return run_ctxd(args, NULL, NULL);
}

Test(reload, revoked_token_fails_within_a_second_without_a_signal)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char a[80], b[80];
    cr_assert(srv_token(&s, "alice", "search", a));
    cr_assert(srv_token(&s, "bob", "search", b));
    cr_assert(srv_start(&s));
    cr_assert_eq(manifest_status(&s, a), 200);
    cr_assert_eq(manifest_status(&s, b), 200);

    /* the CLI rewrites team.json; the watch picks it up, no signal sent */
    cr_assert_eq(revoke_token(&s, "alice"), 0);
    long long took = until_status(&s, a, 401, 1500);
    cr_assert(took >= 0, "the revoked token still works 1.5 s later");
    cr_assert_eq(manifest_status(&s, b), 200, "only the revoked token is affected");
    cr_assert_eq(manifest_status(&s, s.token), 200);
    cr_assert(log_wait(&s, 0, "config reloaded (file changed)", 100));
    cr_assert_eq(srv_stop(&s), 0);
}

Test(reload, sighup_reloads_an_edit_the_watch_cannot_see)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char b[80];
    cr_assert(srv_token(&s, "bob", "search", b));
    cr_assert(srv_start(&s));
    cr_assert_eq(manifest_status(&s, b), 200);

    /* rewrite the file in place and keep it open: no close-write or rename event yet */
    json_t *doc = cfg_load(&s);
    json_t *tokens = json_object_get(doc, "tokens");
    size_t i;
    json_t *t;
    json_array_foreach (tokens, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "id")), "bob") == 0) {
            json_object_set_new(t, "revokedAt", json_string("2026-01-01T00:00:00.000Z"));
        }
    }
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    int fd = open(s.config, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    free(text);
    usleep(600000);
    cr_assert_eq(manifest_status(&s, b), 200, "nothing reloaded yet (the file is still open)");

    size_t mark = log_size(&s);
    cr_assert_eq(kill(s.pid, SIGHUP), 0);
    cr_assert(until_status(&s, b, 401, 1500) >= 0, "SIGHUP did not apply the revocation");
    cr_assert(log_wait(&s, mark, "config reloaded (SIGHUP)", 500));
    close(fd);
    cr_assert_eq(manifest_status(&s, s.token), 200);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(reload, bad_config_changes_nothing_and_names_the_field)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char b[80];
    cr_assert(srv_token(&s, "bob", "search", b));
    cr_assert(srv_start(&s));

    /* revoke bob and break the file in the same edit: all or nothing */
    json_t *doc = cfg_load(&s);
    json_t *bob = json_array_get(json_object_get(doc, "tokens"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(bob, "id")), "bob");
    json_object_set_new(bob, "revokedAt", json_string("2026-01-01T00:00:00.000Z"));
    json_object_set_new(doc, "maxRps", json_string("fast"));
    json_object_set_new(doc, "maxConcurrency", json_integer(0));
    size_t mark = log_size(&s);
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(log_wait(
        &s, mark, "reload (file changed) failed; the running config stays. 2 problems:", 5000));
    cr_assert(log_wait(&s, mark, "maxRps: must be a number, not a string", 100));
    cr_assert(log_wait(&s, mark, "maxConcurrency: must be between 1 and 100000, not 0", 100));
    cr_assert_eq(manifest_status(&s, b), 200, "the old config, with bob, still runs");

    /* SIGHUP reads the same bad file: again nothing changes */
    mark = log_size(&s);
    cr_assert_eq(kill(s.pid, SIGHUP), 0);
    cr_assert(log_wait(&s, mark, "reload (SIGHUP) failed", 5000));
    cr_assert(log_wait(&s, mark, "maxRps: must be a number", 100));
    cr_assert_eq(manifest_status(&s, b), 200);
    resp *r = call_tool(&s, s.token, "ctx_tree", "{\"depth\":1}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);

    /* fixing the file applies the whole edit */
    doc = cfg_load(&s);
    json_object_del(doc, "maxRps");
    json_object_del(doc, "maxConcurrency");
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(until_status(&s, b, 401, 1500) >= 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(reload, rate_limits_change_live)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"maxRps\": 1000, \"rateBurst\": 1000");
    cr_assert(srv_start(&s));
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(manifest_status(&s, s.token), 200);
    }
    json_t *doc = cfg_load(&s);
    json_object_set_new(doc, "maxRps", json_real(0.01));
    json_object_set_new(doc, "rateBurst", json_integer(3));
    size_t mark = log_size(&s);
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(log_wait(&s, mark, "config reloaded (file changed)", 5000));
    /* the bucket keeps its level, capped at the new capacity: 3 pass, then 429 */
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(manifest_status(&s, s.token), 200, "call %d", i + 1);
    }
    resp *r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    expect_error(r, 429, "rate_limited");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"global\";q=3;w=300");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "maxRps=0.01"), "%s",
              r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(reload, added_workspace_applies)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char p[600];
    dir_write(&s, "second/hello.txt", "from the second workspace\n", p, sizeof p);
    *strrchr(p, '/') = '\0';
    cr_assert(srv_start(&s));
    const char *body = "{\"name\":\"ctx_read\",\"workspaceId\":\"second\",\"arguments\":{\"path\":"
                       "\"hello.txt\",\"mode\":\"raw\"}}";
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, body);
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);

    json_t *doc = cfg_load(&s);
    json_array_append_new(
        json_object_get(doc, "workspaces"),
        json_pack("{s:s, s:s, s:s}", "id", "second", "label", "Second", "root", p));
    size_t mark = log_size(&s);
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(log_wait(&s, mark, "config reloaded (file changed): 2 workspaces", 5000));
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(result_text(r), "from the second workspace\n");
    resp_free(r);
    r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    cr_assert_eq(json_array_size(json_object_get(r->json, "workspaces")), 2, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(reload, sigterm_drains_a_request_in_flight)
{
    server s;
    srv_init(&s);
    make_slow_tree(&s, "ws/slow", 3000);
    srv_config(&s, "\"searchBudgetMs\": 1200");
    cr_assert(srv_start(&s));
    bg_req slow;
    long long t0 = now_ms();
    bg_start(&slow, &s, s.token,
             "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
             "\",\"path\":\"slow\"}}");
    usleep(300000);
    cr_assert_eq(kill(s.pid, SIGTERM), 0);
    /* draining: a connection made now is closed without an answer (the call in flight still
       runs for most of a second) */
    resp *late = NULL;
    for (int i = 0; i < 20; i++) {
        usleep(50000);
        resp_free(late);
        late = req(&s, "GET", "/health", NULL, NULL, NULL);
        if (late->status == 0) {
            break;
        }
    }
    cr_assert_eq(late->status, 0, "a connection made while draining was served: %ld %s",
                 late->status, late->body ? late->body : "");
    cr_assert_lt(now_ms() - t0, 1000, "checked while the call was still in flight");
    resp_free(late);
    resp *r = bg_join(&slow);
    cr_assert_eq(r->status, 200, "the request in flight completes: %s", r->body);
    cr_assert(strstr(result_text(r), "search stopped after the 1s budget"), "%s", result_text(r));
    cr_assert_geq(slow.done_ms - t0, 1000, "it really was in flight when SIGTERM came");
    resp_free(r);
    int st = 0;
    pid_t got = 0;
    for (int i = 0; i < 500 && got == 0; i++) {
        got = waitpid(s.pid, &st, WNOHANG);
        if (got == 0) {
            usleep(10000);
        }
    }
    cr_assert_eq(got, s.pid, "the server did not exit after draining");
    s.pid = 0;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    cr_assert(log_wait(&s, 0, "shutting down: draining requests in flight", 100));
    cr_assert(log_wait(&s, 0, "stopped", 100));
}

/* a config with three distinct problems, each in a different field */
static void write_bad_config(server *s)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"host\": \"127.0.0.1\", \"port\": \"http\", \"maxConcurrency\": 0,\n"
             " \"workspaces\": [{\"id\": \"main\", \"root\": \"%s/does-not-exist\"}],\n"
             " \"tokens\": []}\n",
             s->dir);
    FILE *f = fopen(s->config, "w");
    fputs(text, f);
    fclose(f);
}

Test(reload, check_config_lists_every_problem)
{
    server s;
    srv_init(&s);
    write_bad_config(&s);
    const char *args[] = {"check-config", "--config", s.config, NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_ctxd(args, &out, &err), 1, "%s", err);
    cr_assert(strstr(err, ": 3 problems\n"), "%s", err);
    cr_assert(strstr(err, "\nport: must be an integer, not a string\n"), "%s", err);
    cr_assert(strstr(err, "\nmaxConcurrency: must be between 1 and 100000, not 0\n"), "%s", err);
    cr_assert(strstr(err, "\nworkspaces[0].root: cannot resolve '"), "%s", err);
    cr_assert(strstr(err, "does-not-exist': No such file or directory\n"), "%s", err);
    free(out);
    free(err);

    /* and a good one */
    srv_config(&s, "");
    cr_assert_eq(run_ctxd(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, ": ok (1 workspaces, 1 active tokens)"), "%s", err);
    free(out);
    free(err);
}

Test(reload, server_refuses_a_bad_config_at_start)
{
    server s;
    srv_init(&s);
    write_bad_config(&s);
    cr_assert_not(srv_start(&s), "the server started on a bad config");
    char *log = slurp(s.log);
    cr_assert(strstr(log, "ctxd: refusing to start: 3 problems in "), "%s", log);
    cr_assert(strstr(log, "\nport: must be an integer, not a string\n"), "%s", log);
    cr_assert(strstr(log, "\nmaxConcurrency: must be between 1 and 100000, not 0\n"), "%s", log);
    cr_assert(strstr(log, "\nworkspaces[0].root: cannot resolve '"), "%s", log);
    cr_assert_null(strstr(log, "Team Server"), "%s", log);
    free(log);
}

Test(reload, token_commands)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    /* fields this ctxd does not know, at every level, must survive a rewrite */
    json_t *doc = cfg_load(&s);
    json_object_set_new(doc, "x-future", json_pack("{s:i, s:[s]}", "level", 3, "list", "kept"));
    json_object_set_new(json_array_get(json_object_get(doc, "tokens"), 0), "note",
                        json_string("keep me"));
    json_object_set_new(json_array_get(json_object_get(doc, "workspaces"), 0), "color",
                        json_string("teal"));
    cfg_save(&s, doc);
    json_decref(doc);

    const char *create[] = {"team", "token",     "create",   "--config",     s.config,
                            "--id", "dev-carol", "--scopes", "search,graph", NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_ctxd(create, &out, &err), 0, "%s", err);
    cr_assert_eq(strlen(out), 65, "stdout is the token alone on its line: '%s'", out);
    cr_assert_eq(strspn(out, "0123456789abcdef"), 64);
    cr_assert_eq(out[64], '\n');
    char tok[65];
    memcpy(tok, out, 64);
    tok[64] = '\0';
    cr_assert_null(strstr(err, tok), "the token is printed on stdout only");
    cr_assert(strstr(err, "created token 'dev-carol'"), "%s", err);
    free(out);
    free(err);
    char *conf = slurp(s.config);
    cr_assert_null(strstr(conf, tok), "the config never holds the plaintext");
    free(conf);
    /* a second create of the same id is refused and prints no token */
    cr_assert_eq(run_ctxd(create, &out, &err), 1);
    cr_assert_str_eq(out, "");
    cr_assert(strstr(err, "token 'dev-carol' already exists"), "%s", err);
    free(out);
    free(err);

    const char *list[] = {"team", "token", "list", "--config", s.config, NULL};
    cr_assert_eq(run_ctxd(list, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "dev-carol"), "%s", out);
    cr_assert(strstr(out, "active"), "%s", out);
    cr_assert_null(strstr(out, tok), "list never shows a token");
    free(out);
    free(err);

    cr_assert_eq(revoke_token(&s, "dev-carol"), 0);
    cr_assert_eq(run_ctxd(list, &out, &err), 0, "%s", err);
    const char *row = strstr(out, "dev-carol");
    cr_assert(row, "%s", out);
    const char *eol = strchr(row, '\n');
    cr_assert(strstr(row, "revoked") && strstr(row, "revoked") < eol, "%s", out);
    free(out);
    free(err);
    cr_assert_eq(revoke_token(&s, "dev-carol"), 1, "revoking twice is an error");
    cr_assert_eq(revoke_token(&s, "nobody"), 1);

    doc = cfg_load(&s);
    cr_assert(doc);
    json_t *fut = json_object_get(doc, "x-future");
    cr_assert_eq(json_integer_value(json_object_get(fut, "level")), 3);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(fut, "list"), 0)), "kept");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(doc, "tokens"), 0), "note")),
                     "keep me");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(doc, "workspaces"), 0), "color")),
                     "teal");
    json_decref(doc);

    /* the revoked token is refused by a server started on this file */
    cr_assert(srv_start(&s));
    cr_assert_eq(manifest_status(&s, tok), 401);
    cr_assert_eq(manifest_status(&s, s.token), 200);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(reload, concurrent_creates_all_land)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    enum { N = 10 };
    pid_t pids[N];
    char outs[N][400];
    for (int i = 0; i < N; i++) {
        snprintf(outs[i], sizeof outs[i], "%s/tok-%d", s.dir, i);
        pids[i] = fork();
        if (pids[i] == 0) {
            int fd = open(outs[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(fd, 1);
            int nul = open("/dev/null", O_WRONLY);
            dup2(nul, 2);
            char id[16];
            snprintf(id, sizeof id, "par-%d", i);
            execl(ctxd_bin(), ctxd_bin(), "team", "token", "create", "--config", s.config, "--id",
                  id, "--scopes", "search", (char *)NULL);
            _exit(127);
        }
    }
    for (int i = 0; i < N; i++) {
        int st;
        cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "create %d failed", i);
    }
    json_t *doc = cfg_load(&s);
    cr_assert(doc, "the config is valid JSON after concurrent rewrites");
    json_t *tokens = json_object_get(doc, "tokens");
    cr_assert_eq(json_array_size(tokens), N + 1, "every create landed (plus the token 'all')");
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "par-%d", i);
        bool found = false;
        size_t k;
        json_t *t;
        json_array_foreach (tokens, k, t) {
            found |= strcmp(json_string_value(json_object_get(t, "id")), id) == 0;
        }
        cr_assert(found, "%s is missing", id);
    }
    json_decref(doc);
    /* and every printed token is the one stored: each authenticates */
    cr_assert(srv_start(&s));
    for (int i = 0; i < N; i++) {
        char *tok = slurp(outs[i]);
        cr_assert(tok && strlen(tok) == 65, "token %d: '%s'", i, tok);
        tok[64] = '\0';
        cr_assert_eq(manifest_status(&s, tok), 200, "token %d", i);
        free(tok);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

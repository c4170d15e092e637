/* test_sessions.c - shared sessions, handoffs, shares and workflows (issue 6, SESSIONS;
 * tools.md §4.1-4.4): two agents on one workspace and channel see each other's writes, another
 * channel and another tenant see nothing; everything survives a restart; concurrent writers
 * lose no update (final revision = number of writes); every write action needs
 * sessionMutations and every read works with search alone; bad input is refused with the
 * documented codes; `ctxd session list` prints the seed's format. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static server S;
static char ALICE[80], BOB[80], CAROL[80], READER[80], WATCHER[80], AUDITOR[80];

static void up(void)
{
    srv_init(&S);
    char more[1200];
    char a[600];
    dir_write(&S, "a/a.txt", "acme\n", a, sizeof a);
    snprintf(more, sizeof more, "{\"id\": \"aws\", \"root\": \"%s/a\", \"tenant\": \"acme\"}",
             S.dir);
    srv_config_ws(&S, more, "");
    cr_assert(srv_token(&S, "alice", "search,sessionMutations", ALICE));
    cr_assert(srv_token(&S, "bob", "search,sessionMutations", BOB));
    cr_assert(srv_token(&S, "carol", "search,sessionMutations", CAROL));
    cr_assert(srv_token(&S, "reader", "search", READER));
    cr_assert(srv_token(&S, "watcher", "search,events", WATCHER));
    cr_assert(srv_token(&S, "auditor", "search,events,audit", AUDITOR));
    ws_write(&S, "src/auth.c", "int login(void) { return 1; }\n");
    ws_write(&S, "README.md", "# project\nline two\n");
    cr_assert(srv_start(&S), "server did not start");
}

static void down(void)
{
    srv_cleanup(&S);
}

/* structuredContent.rev of the last response */
static long long rev_of(resp *r)
{
    return (long long)json_integer_value(json_object_get(structured_content(r), "rev"));
}

Test(sessions, two_agents_share_and_others_see_nothing, .init = up, .fini = down)
{
    resp *r = NULL;
    const char *t = tool_callf(&S, &r, ALICE, false, "ctx_session",
                               "{\"action\":\"task\",\"value\":\"refactor auth\","
                               "\"channelId\":\"feat/auth-refactor\"}");
    cr_assert(strstr(t, "rev 1"), "%s", t);
    t = tool_callf(&S, &r, ALICE, false, "ctx_session",
                   "{\"action\":\"decision\",\"value\":\"use JWT with 15 min expiry\","
                   "\"channelId\":\"feat/auth-refactor\"}");
    cr_assert_eq(rev_of(r), 2);
    /* bob on the same channel reads it with status and load */
    t = tool_callf(&S, &r, BOB, false, "ctx_session",
                   "{\"action\":\"status\",\"channelId\":\"feat/auth-refactor\"}");
    cr_assert(strstr(t, "session main/feat/auth-refactor rev 2, updated "), "%s", t);
    cr_assert(strstr(t, "by team:alice; agents: team:alice\n"), "%s", t);
    cr_assert(strstr(t, "task: refactor auth\n"), "%s", t);
    cr_assert(strstr(t, "- use JWT with 15 min expiry\n"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_session",
                   "{\"action\":\"load\",\"channelId\":\"feat/auth-refactor\"}");
    cr_assert(strstr(t, "- use JWT with 15 min expiry  (team:alice, "), "%s", t);
    json_t *sc = structured_content(r);
    cr_assert_str_eq(json_string_value(json_object_get(sc, "task")), "refactor auth");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(sc, "decisions"), 0), "text")),
                     "use JWT with 15 min expiry");
    /* bob writes too: both agents listed, most recent last */
    tool_callf(&S, &r, BOB, false, "ctx_session",
               "{\"action\":\"finding\",\"value\":\"tokens are stored in cookies\","
               "\"channelId\":\"feat/auth-refactor\"}");
    cr_assert_eq(rev_of(r), 3);
    t = tool_callf(&S, &r, ALICE, false, "ctx_session",
                   "{\"action\":\"status\",\"channelId\":\"feat/auth-refactor\"}");
    cr_assert(strstr(t, "agents: team:alice, team:bob\n"), "%s", t);
    /* another channel: nothing */
    t = tool_callf(&S, &r, CAROL, false, "ctx_session",
                   "{\"action\":\"status\",\"channelId\":\"fix/api-timeout\"}");
    cr_assert(strstr(t, "session main/fix/api-timeout rev 0: empty"), "%s", t);
    cr_assert_null(strstr(t, "JWT"), "%s", t);
    t = tool_callf(&S, &r, CAROL, false, "ctx_session", "{\"action\":\"status\"}");
    cr_assert(strstr(t, "session main/default rev 0: empty"), "%s", t);
    /* another tenant, same channel name: nothing, and its list is empty */
    srv_tenant(&S, "acme");
    char key[128];
    srv_key(&S, "acme", "write", NULL, key);
    t = tool_callf(&S, &r, key, false, "ctx_session",
                   "{\"action\":\"status\",\"channelId\":\"feat/auth-refactor\","
                   "\"workspaceId\":\"aws\"}");
    cr_assert(strstr(t, "session aws/feat/auth-refactor rev 0: empty"), "%s", t);
    t = tool_callf(&S, &r, key, false, "ctx_session",
                   "{\"action\":\"list\",\"workspaceId\":\"aws\"}");
    cr_assert(strstr(t, "no sessions in workspace aws"), "%s", t);
    /* the acme key cannot reach the local tenant's workspace at all */
    resp *x = call_tool(&S, key, "ctx_session", "{\"action\":\"status\",\"workspaceId\":\"main\"}");
    cr_assert_neq(x->status, 200, "%s", x->body);
    resp_free(x);
    /* list on main shows the one channel with its revision and agents */
    t = tool_callf(&S, &r, READER, false, "ctx_session", "{\"action\":\"list\"}");
    cr_assert(strstr(t, "channel  rev  agents  updated\nfeat/auth-refactor  3  team:alice, "
                        "team:bob  "),
              "%s", t);
    resp_free(r);
}

Test(sessions, snapshots_restore_reset, .init = up, .fini = down)
{
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"task\",\"value\":\"one\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"finding\",\"value\":\"first finding\"}");
    const char *t = tool_callf(&S, &r, ALICE, false, "ctx_session",
                               "{\"action\":\"save\",\"value\":\"before-reset\"}");
    cr_assert(strstr(t, "saved snapshot s-"), "%s", t);
    char sid[80];
    snprintf(sid, sizeof sid, "%s",
             json_string_value(json_object_get(structured_content(r), "snapshotId")));
    cr_assert_eq(rev_of(r), 3);
    t = tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"reset\"}");
    cr_assert_eq(rev_of(r), 4);
    t = tool_callf(&S, &r, BOB, false, "ctx_session", "{\"action\":\"status\"}");
    cr_assert(strstr(t, "task: (none)"), "%s", t);
    cr_assert_null(strstr(t, "first finding"), "%s", t);
    /* the snapshot is still there */
    t = tool_callf(&S, &r, READER, false, "ctx_session",
                   "{\"action\":\"load\",\"session_id\":\"%s\"}", sid);
    cr_assert(strstr(t, "snapshot s-") && strstr(t, "\"before-reset\""), "%s", t);
    cr_assert(strstr(t, "first finding"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_session",
                   "{\"action\":\"restore\",\"session_id\":\"%s\"}", sid);
    cr_assert_eq(rev_of(r), 5);
    t = tool_callf(&S, &r, READER, false, "ctx_session", "{\"action\":\"resume\"}");
    cr_assert(strstr(t, "task: one\n") && strstr(t, "where we were:\n"), "%s", t);
    cr_assert(strstr(t, "2. last finding: first finding\n"), "%s", t);
    t = tool_callf(&S, &r, READER, false, "ctx_session", "{\"action\":\"export\"}");
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert(doc, "%s", t);
    cr_assert_eq(json_integer_value(json_object_get(doc, "rev")), 5);
    json_decref(doc);
    /* unknown snapshot */
    tool_callf(&S, &r, READER, true, "ctx_session",
               "{\"action\":\"load\",\"session_id\":\"s-nope\"}");
    cr_assert_str_eq(tool_error_code(r), "not_found");
    /* cleanup keeps recent snapshots */
    t = tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"cleanup\"}");
    cr_assert(strstr(t, "deleted 0 snapshots older than 30 days"), "%s", t);
    resp_free(r);
}

Test(sessions, handoff_share_workflow, .init = up, .fini = down)
{
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"task\",\"value\":\"fix login\",\"channelId\":\"a\"}");
    tool_callf(
        &S, &r, ALICE, false, "ctx_session",
        "{\"action\":\"decision\",\"value\":\"keep the session cookie\",\"channelId\":\"a\"}");
    const char *t = tool_callf(&S, &r, ALICE, false, "ctx_workflow",
                               "{\"action\":\"start\",\"channelId\":\"a\"}");
    cr_assert(strstr(t, "workflow plan_code_test: plan (since "), "%s", t);
    cr_assert(strstr(t, "next: code\n"), "%s", t);
    t = tool_callf(&S, &r, ALICE, false, "ctx_workflow",
                   "{\"action\":\"transition\",\"to\":\"code\",\"channelId\":\"a\"}");
    cr_assert(strstr(t, "workflow plan_code_test: code (since ") && strstr(t, "next: test"), "%s",
              t);
    /* a transition not in the spec, and a second start */
    tool_callf(&S, &r, ALICE, true, "ctx_workflow",
               "{\"action\":\"transition\",\"to\":\"done\",\"channelId\":\"a\"}");
    cr_assert_str_eq(tool_error_code(r), "conflict");
    tool_callf(&S, &r, ALICE, true, "ctx_workflow", "{\"action\":\"start\",\"channelId\":\"a\"}");
    cr_assert_str_eq(tool_error_code(r), "conflict");
    tool_callf(
        &S, &r, ALICE, false, "ctx_workflow",
        "{\"action\":\"evidence_add\",\"key\":\"ci\",\"value\":\"green\",\"channelId\":\"a\"}");
    t = tool_callf(&S, &r, READER, false, "ctx_workflow",
                   "{\"action\":\"evidence_list\",\"channelId\":\"a\"}");
    cr_assert(strstr(t, "evidence: 1\n- [code] ci: green (team:alice)"), "%s", t);

    /* handoff to bob with a file; bob pulls it into channel b */
    t = tool_callf(&S, &r, ALICE, false, "ctx_handoff",
                   "{\"action\":\"create\",\"paths\":[\"src/auth.c\"],\"to_agent\":\"team:bob\","
                   "\"message\":\"login is half done\",\"channelId\":\"a\"}");
    cr_assert(strstr(t, "handoff h-") && strstr(t, " created: 1 file\n"), "%s", t);
    char hid[80];
    snprintf(hid, sizeof hid, "%s",
             json_string_value(json_object_get(structured_content(r), "id")));
    /* carol is not the addressee: she does not see it */
    t = tool_callf(&S, &r, CAROL, false, "ctx_handoff", "{\"action\":\"list\"}");
    cr_assert(strstr(t, "No handoffs"), "%s", t);
    tool_callf(&S, &r, CAROL, true, "ctx_handoff", "{\"action\":\"show\",\"path\":\"%s\"}", hid);
    cr_assert_str_eq(tool_error_code(r), "not_found");
    t = tool_callf(&S, &r, BOB, false, "ctx_handoff", "{\"action\":\"list\"}");
    cr_assert(strstr(t, hid) && strstr(t, "team:alice → team:bob  1 file  "), "%s", t);
    char *sha = ws_sha12(&S, "src/auth.c");
    t = tool_callf(&S, &r, BOB, false, "ctx_handoff", "{\"action\":\"show\"}");
    cr_assert(strstr(t, "task: fix login\n") && strstr(t, "message: login is half done\n"), "%s",
              t);
    cr_assert(strstr(t, "workflow plan_code_test: code\n"), "%s", t);
    char line[200];
    snprintf(line, sizeof line, "  src/auth.c sha:%s 1 lines\n", sha);
    cr_assert(strstr(t, line), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_handoff",
                   "{\"action\":\"show\",\"format\":\"a2a\",\"path\":\"%s\"}", hid);
    json_t *m = json_loads(t, 0, NULL);
    cr_assert(m && strcmp(json_string_value(json_object_get(m, "messageId")), hid) == 0, "%s", t);
    json_decref(m);
    ws_write(&S, "src/auth.c", "int login(void) { return 2; }\n");
    t = tool_callf(&S, &r, BOB, false, "ctx_handoff",
                   "{\"action\":\"pull\",\"path\":\"%s\",\"channelId\":\"b\"}", hid);
    cr_assert(strstr(t, "session: task set, +0 findings, +1 decisions, +1 files (rev 1)"), "%s", t);
    cr_assert(strstr(t, "workflow: plan_code_test started at code\n"), "%s", t);
    cr_assert(strstr(t, "changed since handoff: src/auth.c\n"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_session",
                   "{\"action\":\"status\",\"channelId\":\"b\"}");
    cr_assert(strstr(t, "task: fix login\n") && strstr(t, "- keep the session cookie\n") &&
                  strstr(t, "files: src/auth.c\n"),
              "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_workflow",
                   "{\"action\":\"status\",\"channelId\":\"b\"}");
    cr_assert(strstr(t, "workflow plan_code_test: code (since "), "%s", t);

    /* shares: one to bob, one broadcast; carol pulls only the broadcast */
    t = tool_callf(&S, &r, ALICE, false, "ctx_share",
                   "{\"action\":\"push\",\"paths\":\"src/auth.c, README.md\","
                   "\"to_agent\":\"bob\",\"message\":\"for bob\"}");
    cr_assert(strstr(t, "shared 2 files (id sh-"), "%s", t);
    tool_callf(&S, &r, ALICE, false, "ctx_share",
               "{\"action\":\"push\",\"paths\":[\"README.md\"],\"message\":\"for all\"}");
    t = tool_callf(&S, &r, CAROL, false, "ctx_share", "{\"action\":\"pull\"}");
    cr_assert(strstr(t, "from team:alice ") && strstr(t, " ago: for all\n"), "%s", t);
    cr_assert_null(strstr(t, "for bob"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_share", "{\"action\":\"pull\"}");
    char *sha2 = ws_sha12(&S, "src/auth.c");
    snprintf(line, sizeof line, "  src/auth.c sha:%s\n", sha2);
    cr_assert(strstr(t, "for all") && strstr(t, "for bob") && strstr(t, line), "%s", t);
    /* newest first */
    cr_assert(strstr(t, "for all") < strstr(t, "for bob"), "%s", t);
    t = tool_callf(&S, &r, READER, false, "ctx_share", "{\"action\":\"list\"}");
    cr_assert(strstr(t, "team:alice → team:bob  2 files") &&
                  strstr(t, "team:alice → everyone  1 file"),
              "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_share", "{\"action\":\"clear\"}");
    cr_assert(strstr(t, "cleared 0 shared contexts"), "%s", t);
    t = tool_callf(&S, &r, ALICE, false, "ctx_share", "{\"action\":\"clear\"}");
    cr_assert(strstr(t, "cleared 2 shared contexts"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_share", "{\"action\":\"pull\"}");
    cr_assert(strstr(t, "No shared contexts"), "%s", t);
    /* a path outside the root */
    tool_callf(&S, &r, ALICE, true, "ctx_share", "{\"action\":\"push\",\"paths\":\"../x\"}");
    cr_assert_str_eq(tool_error_code(r), "path_outside_root");

    /* workflow: complete from code is not allowed (code → done is no transition) */
    tool_callf(&S, &r, ALICE, true, "ctx_workflow",
               "{\"action\":\"complete\",\"channelId\":\"a\"}");
    cr_assert_str_eq(tool_error_code(r), "conflict");
    tool_callf(&S, &r, ALICE, false, "ctx_workflow",
               "{\"action\":\"transition\",\"to\":\"test\",\"channelId\":\"a\"}");
    t = tool_callf(&S, &r, ALICE, false, "ctx_workflow",
                   "{\"action\":\"complete\",\"channelId\":\"a\"}");
    cr_assert(strstr(t, "workflow plan_code_test: done (since ") && strstr(t, "ended"), "%s", t);
    tool_callf(&S, &r, ALICE, true, "ctx_workflow", "{\"action\":\"status\",\"channelId\":\"a\"}");
    cr_assert_str_eq(tool_error_code(r), "conflict");
    /* a custom spec */
    t = tool_callf(&S, &r, ALICE, false, "ctx_workflow",
                   "{\"action\":\"start\",\"name\":\"review\",\"channelId\":\"a\",\"spec\":"
                   "\"{\\\"states\\\":[\\\"draft\\\",\\\"approved\\\"],\\\"initial\\\":"
                   "\\\"draft\\\",\\\"transitions\\\":{\\\"draft\\\":[\\\"approved\\\"]}}\"}");
    cr_assert(strstr(t, "workflow review: draft (since ") && strstr(t, "next: approved\n"), "%s",
              t);
    t = tool_callf(&S, &r, ALICE, false, "ctx_workflow",
                   "{\"action\":\"complete\",\"channelId\":\"a\"}");
    cr_assert(strstr(t, "workflow review: approved (since "), "%s", t);
    free(sha);
    free(sha2);
    resp_free(r);
}

typedef struct writer_arg {
    const char *token;
    int id, failures;
} writer_arg;

#define WRITERS 4
#define WRITES 20

static void *writer(void *v)
{
    writer_arg *w = v;
    for (int i = 0; i < WRITES; i++) {
        char args[200];
        snprintf(args, sizeof args,
                 "{\"action\":\"%s\",\"value\":\"w%d-%d\",\"channelId\":\"race\"}",
                 i % 2 ? "finding" : "decision", w->id, i);
        resp *r = call_tool(&S, w->token, "ctx_session", args);
        if (r->status != 200 || result_is_error(r)) {
            w->failures++;
        }
        resp_free(r);
    }
    return NULL;
}

Test(sessions, concurrent_writers_lose_nothing, .init = up, .fini = down)
{
    pthread_t th[WRITERS];
    writer_arg w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer_arg){i % 2 ? BOB : ALICE, i, 0};
        pthread_create(&th[i], NULL, writer, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0, "writer %d: %d failed writes", i, w[i].failures);
    }
    resp *r = NULL;
    tool_callf(&S, &r, READER, false, "ctx_session",
               "{\"action\":\"show\",\"channelId\":\"race\"}");
    json_t *sc = structured_content(r);
    cr_assert_eq(json_integer_value(json_object_get(sc, "rev")), WRITERS * WRITES);
    size_t nf = json_array_size(json_object_get(sc, "findings"));
    size_t nd = json_array_size(json_object_get(sc, "decisions"));
    cr_assert_eq(nf + nd, WRITERS * WRITES, "%zu findings + %zu decisions", nf, nd);
    /* every single write is there */
    const char *t = result_text(r);
    for (int i = 0; i < WRITERS; i++) {
        for (int k = 0; k < WRITES; k++) {
            char needle[32];
            snprintf(needle, sizeof needle, "- w%d-%d  (", i, k);
            cr_assert(strstr(t, needle), "%s missing", needle);
        }
    }
    resp_free(r);
}

Test(sessions, survives_restart, .init = up, .fini = down)
{
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"decision\",\"value\":\"persist me\",\"channelId\":\"main\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"checkpoint\",\"value\":\"cp1\",\"channelId\":\"main\"}");
    char sid[80];
    snprintf(sid, sizeof sid, "%s",
             json_string_value(json_object_get(structured_content(r), "snapshotId")));
    tool_callf(&S, &r, ALICE, false, "ctx_handoff",
               "{\"action\":\"create\",\"message\":\"to anyone\",\"channelId\":\"main\"}");
    char hid[80];
    snprintf(hid, sizeof hid, "%s",
             json_string_value(json_object_get(structured_content(r), "id")));
    tool_callf(&S, &r, ALICE, false, "ctx_share",
               "{\"action\":\"push\",\"paths\":\"README.md\",\"message\":\"kept\","
               "\"channelId\":\"main\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_workflow",
               "{\"action\":\"start\",\"channelId\":\"main\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_workflow",
               "{\"action\":\"transition\",\"to\":\"code\",\"channelId\":\"main\"}");
    resp_free(r);
    r = NULL;
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert(srv_start(&S), "server did not restart");
    const char *t = tool_callf(&S, &r, BOB, false, "ctx_session",
                               "{\"action\":\"status\",\"channelId\":\"main\"}");
    cr_assert(strstr(t, "rev 2, updated ") && strstr(t, "- persist me\n"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_session",
                   "{\"action\":\"load\",\"session_id\":\"%s\",\"channelId\":\"main\"}", sid);
    cr_assert(strstr(t, "\"cp1\"") && strstr(t, "persist me"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_handoff", "{\"action\":\"list\"}");
    cr_assert(strstr(t, hid) && strstr(t, "team:alice → anyone  0 files"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_share", "{\"action\":\"pull\",\"channelId\":\"main\"}");
    cr_assert(strstr(t, "ago: kept\n  README.md sha:"), "%s", t);
    t = tool_callf(&S, &r, BOB, false, "ctx_workflow",
                   "{\"action\":\"status\",\"channelId\":\"main\"}");
    cr_assert(strstr(t, "workflow plan_code_test: code (since "), "%s", t);
    resp_free(r);
}

/* a token with search only: every write action is scope_denied, every read works */
Test(sessions, scopes, .init = up, .fini = down)
{
    static const char *const writes[][2] = {
        {"ctx_session", "save"},       {"ctx_session", "snapshot"},
        {"ctx_session", "checkpoint"}, {"ctx_session", "task"},
        {"ctx_session", "finding"},    {"ctx_session", "decision"},
        {"ctx_session", "restore"},    {"ctx_session", "reset"},
        {"ctx_session", "import"},     {"ctx_handoff", "import"},
        {"ctx_session", "cleanup"},    {"ctx_handoff", "create"},
        {"ctx_handoff", "pull"},       {"ctx_handoff", "clear"},
        {"ctx_share", "push"},         {"ctx_share", "clear"},
        {"ctx_workflow", "start"},     {"ctx_workflow", "transition"},
        {"ctx_workflow", "complete"},  {"ctx_workflow", "evidence_add"},
        {"ctx_workflow", "stop"},
    };
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        char args[200];
        snprintf(args, sizeof args, "{\"action\":\"%s\",\"value\":\"x\",\"paths\":\"README.md\"}",
                 writes[i][1]);
        resp *r = call_tool(&S, READER, writes[i][0], args);
        cr_assert(is_error(r, 403, "scope_denied", (char[200]){0}, 200), "%s %s: %ld %s",
                  writes[i][0], writes[i][1], r->status, r->body);
        cr_assert(strstr(r->body, "sessionMutations"), "%s", r->body);
        resp_free(r);
    }
    /* nothing was written */
    resp *r = NULL;
    const char *t = tool_callf(&S, &r, READER, false, "ctx_session", "{}");
    cr_assert(strstr(t, "rev 0: empty"), "%s", t);
    /* reads with search alone */
    static const char *const reads[][2] = {
        {"ctx_session", "status"}, {"ctx_session", "show"},   {"ctx_session", "list"},
        {"ctx_session", "load"},   {"ctx_session", "resume"}, {"ctx_session", "export"},
        {"ctx_handoff", "list"},   {"ctx_share", "list"},     {"ctx_share", "pull"},
    };
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        tool_callf(&S, &r, READER, false, reads[i][0], "{\"action\":\"%s\"}", reads[i][1]);
    }
    /* workflow status with none active: a tool error, not a scope refusal */
    tool_callf(&S, &r, READER, true, "ctx_workflow", "{\"action\":\"status\"}");
    cr_assert_str_eq(tool_error_code(r), "conflict");
    /* handoff pull with apply_knowledge also needs knowledge */
    resp *x = call_tool(&S, ALICE, "ctx_handoff", "{\"action\":\"pull\",\"apply_knowledge\":true}");
    cr_assert(is_error(x, 403, "scope_denied", (char[200]){0}, 200), "%s", x->body);
    cr_assert(strstr(x->body, "knowledge"), "%s", x->body);
    resp_free(x);
    resp_free(r);
}

Test(sessions, bad_input, .init = up, .fini = down)
{
    /* unknown actions, including lean-ctx ones ctxd does not offer */
    resp *r = call_tool(&S, ALICE, "ctx_session", "{\"action\":\"configure\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "action must be one of: status, show, list"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_handoff", "{\"action\":\"teleport\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_share", "{}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_workflow", "{\"action\":\"jump\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    /* oversized values: 16 KiB + 1 */
    size_t n = 16385;
    char *body = malloc(n + 200);
    int o = snprintf(body, n + 200, "{\"action\":\"decision\",\"value\":\"");
    memset(body + o, 'v', n);
    snprintf(body + o + n, 200, "\"}");
    r = call_tool(&S, ALICE, "ctx_session", body);
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "value is longer than 16384 bytes"), "%s", r->body);
    resp_free(r);
    /* exactly 16 KiB is fine */
    body[o + n - 1] = '"';
    body[o + n] = '}';
    body[o + n + 1] = '\0';
    r = call_tool(&S, ALICE, "ctx_session", body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(!result_is_error(r), "%s", r->body);
    resp_free(r);
    free(body);
    /* a value that is required */
    r = call_tool(&S, ALICE, "ctx_session", "{\"action\":\"task\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "value is required for action=task"), "%s", r->body);
    resp_free(r);
    /* invalid channel ids */
    static const char *const bad[] = {"../x", "/lead", "trail/", "a//b", "a/../b", "sp ace", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[200];
        snprintf(args, sizeof args, "{\"action\":\"status\",\"channelId\":\"%s\"}", bad[i]);
        r = call_tool(&S, ALICE, "ctx_session", args);
        cr_assert(is_error(r, 400, "invalid_request", (char[200]){0}, 200), "'%s': %ld %s", bad[i],
                  r->status, r->body);
        resp_free(r);
    }
    char longch[200];
    memset(longch, 'c', 129);
    longch[129] = '\0';
    char args[400];
    snprintf(args, sizeof args, "{\"action\":\"finding\",\"value\":\"x\",\"channelId\":\"%s\"}",
             longch);
    r = call_tool(&S, ALICE, "ctx_session", args);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    /* bad to_agent, too many paths, a bad spec, transition without to */
    r = call_tool(&S, ALICE, "ctx_share",
                  "{\"action\":\"push\",\"paths\":\"README.md\",\"to_agent\":\"bob smith\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_share",
                  "{\"action\":\"push\",\"paths\":\"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "more than 20"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_share", "{\"action\":\"push\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_workflow",
                  "{\"action\":\"start\",\"name\":\"x\",\"spec\":\"{\\\"states\\\":[],"
                  "\\\"initial\\\":\\\"a\\\"}\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "spec.states"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_workflow",
                  "{\"action\":\"start\",\"name\":\"x\",\"spec\":\"{\\\"states\\\":[\\\"a\\\"],"
                  "\\\"initial\\\":\\\"a\\\",\\\"transitions\\\":{\\\"a\\\":[\\\"zz\\\"]}}\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, ALICE, "ctx_workflow", "{\"action\":\"transition\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    /* no workflow yet: transition is a conflict */
    resp *last = NULL;
    tool_callf(&S, &last, ALICE, true, "ctx_workflow",
               "{\"action\":\"transition\",\"to\":\"code\"}");
    cr_assert_str_eq(tool_error_code(last), "conflict");
    tool_callf(&S, &last, ALICE, true, "ctx_handoff",
               "{\"action\":\"show\",\"path\":\"h-missing\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
    resp_free(last);
}

Test(sessions, cli_session_list, .init = up, .fini = down)
{
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"task\",\"value\":\"t\",\"channelId\":\"feat/auth-refactor\"}");
    tool_callf(&S, &r, BOB, false, "ctx_session",
               "{\"action\":\"finding\",\"value\":\"f\",\"channelId\":\"feat/auth-refactor\"}");
    tool_callf(&S, &r, CAROL, false, "ctx_session",
               "{\"action\":\"decision\",\"value\":\"d\",\"channelId\":\"fix/api-timeout\"}");
    resp_free(r);
    char *o = NULL, *e = NULL;
    cr_assert_eq(srv_ctl(&S, &o, &e, "session", "list", "--workspace", "main", NULL), 0, "%s", e);
    cr_assert_str_eq(o, "workspace: main\n"
                        "channel: feat/auth-refactor rev:2 agents: alice, bob\n"
                        "channel: fix/api-timeout rev:1 agents: carol\n");
    free(o);
    free(e);
    o = e = NULL;
    cr_assert_eq(srv_ctl(&S, &o, &e, "session", "list", "--workspace", "nope", NULL), 1);
    cr_assert(strstr(e, "no workspace 'nope'"), "%s", e);
    free(o);
    free(e);
    o = e = NULL;
    cr_assert_eq(srv_ctl(&S, &o, &e, "session", "show", NULL), 2);
    free(o);
    free(e);
}

/* each mutation emits session_mutated: summary and refs {tool, action, revision} for `events`,
   the value only in the full payload (`events` + `audit`) */
Test(sessions, events, .init = up, .fini = down)
{
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"decision\",\"value\":\"SECRETVALUE42\",\"channelId\":\"ev\"}");
    tool_callf(&S, &r, BOB, false, "ctx_workflow", "{\"action\":\"start\",\"channelId\":\"ev\"}");
    resp_free(r);
    /* the context summary replays the store and the pending batch: both are there at once */
    resp *x = req(&S, "GET", "/v1/context/summary?channelId=ev", WATCHER, NULL, NULL);
    cr_assert_eq(x->status, 200, "%s", x->body);
    cr_assert(strstr(x->body, "ctx_session decision by team:alice on main/ev (rev 1)"), "%s",
              x->body);
    cr_assert(strstr(x->body, "ctx_workflow start by team:bob on main/ev (rev 1)"), "%s", x->body);
    cr_assert_null(strstr(x->body, "SECRETVALUE42"), "%s", x->body);
    resp_free(x);
    /* search (committed events: the writer flushes within a few seconds) */
    json_t *hit = NULL;
    for (long long end = now_ms() + 15000; !hit && now_ms() < end;) {
        x = req(&S, "GET", "/v1/events/search?q=decision", WATCHER, NULL, NULL);
        cr_assert_eq(x->status, 200, "%s", x->body);
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(x->json, "results"), i, e) {
            if (strcmp(json_string_value(json_object_get(e, "kind")), "session_mutated") == 0) {
                hit = json_incref(e);
            }
        }
        cr_assert_null(strstr(x->body, "SECRETVALUE42"), "%s", x->body);
        resp_free(x);
        if (!hit) {
            usleep(100000);
        }
    }
    cr_assert(hit, "no session_mutated event found by search");
    json_t *p = json_object_get(hit, "payload");
    cr_assert_str_eq(json_string_value(json_object_get(p, "action")), "decision");
    cr_assert_eq(json_integer_value(json_object_get(p, "revision")), 1);
    cr_assert_null(json_object_get(p, "value"));
    cr_assert_str_eq(json_string_value(json_object_get(hit, "channelId")), "ev");
    json_decref(hit);
    x = req(&S, "GET", "/v1/events/search?q=decision", AUDITOR, NULL, NULL);
    cr_assert(strstr(x->body, "SECRETVALUE42"), "%s", x->body);
    resp_free(x);
}

/* diff against a snapshot; import merges JSON with the caller as the author (a claimed one kept
   as importedFrom); a handoff imported from JSON is the caller's */
Test(sessions, diff_and_import, .init = up, .fini = down)
{
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"task\",\"value\":\"t1\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"finding\",\"value\":\"old\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"save\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"reset\"}");
    const char *t = tool_callf(
        &S, &r, BOB, false, "ctx_session",
        "{\"action\":\"import\",\"value\":\"{\\\"task\\\":\\\"t2\\\",\\\"decisions\\\":[\\\"d1\\\","
        "{\\\"text\\\":\\\"d2\\\",\\\"by\\\":\\\"team:mallory\\\"}],\\\"files\\\":[\\\"README."
        "md\\\"]}\"}");
    cr_assert(strstr(t, "task set, +0 findings, +2 decisions, +1 files; rev 5"), "%s", t);
    t = tool_callf(&S, &r, READER, false, "ctx_session", "{\"action\":\"show\"}");
    cr_assert(strstr(t, "- d2  (team:bob, "), "%s", t);
    json_t *d2 = json_array_get(json_object_get(structured_content(r), "decisions"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(d2, "importedFrom")), "team:mallory");
    t = tool_callf(&S, &r, READER, false, "ctx_session", "{\"action\":\"diff\"}");
    cr_assert(strstr(t, "(rev 3) → current (rev 5)\ntask: t1 → t2\n"), "%s", t);
    cr_assert(strstr(t, "- finding: old\n") && strstr(t, "+ decision: d1\n") &&
                  strstr(t, "+ decision: d2\n") && strstr(t, "+ file: README.md\n"),
              "%s", t);
    /* bad import values */
    resp *x = call_tool(&S, BOB, "ctx_session", "{\"action\":\"import\",\"value\":\"[1]\"}");
    expect_error(x, 400, "invalid_arguments");
    resp_free(x);
    x = call_tool(&S, BOB, "ctx_session",
                  "{\"action\":\"import\",\"value\":\"{\\\"findings\\\":[1]}\"}");
    expect_error(x, 400, "invalid_arguments");
    resp_free(x);
    tool_callf(&S, &r, BOB, true, "ctx_session",
               "{\"action\":\"import\",\"value\":\"{\\\"files\\\":[\\\"../etc/passwd\\\"]}\"}");
    cr_assert_str_eq(tool_error_code(r), "path_outside_root");
    /* handoff import: the caller is the sender */
    t = tool_callf(
        &S, &r, CAROL, false, "ctx_handoff",
        "{\"action\":\"import\",\"to_agent\":\"team:bob\",\"message\":\"{\\\"from\\\":"
        "\\\"team:mallory\\\",\\\"task\\\":\\\"imported task\\\",\\\"files\\\":[{\\\"path\\\":"
        "\\\"README.md\\\",\\\"sha\\\":\\\"%064d\\\",\\\"lines\\\":2}]}\"}",
        0);
    cr_assert(strstr(t, "handoff h-") && strstr(t, " imported: 1 file\n"), "%s", t);
    tool_callf(&S, &r, BOB, false, "ctx_handoff", "{\"action\":\"show\",\"format\":\"json\"}");
    json_t *h = structured_content(r);
    cr_assert_str_eq(json_string_value(json_object_get(h, "from")), "team:carol");
    cr_assert_str_eq(json_string_value(json_object_get(h, "importedFrom")), "team:mallory");
    cr_assert_str_eq(json_string_value(json_object_get(h, "task")), "imported task");
    /* pulling it: the recorded sha differs from the file now */
    t = tool_callf(&S, &r, BOB, false, "ctx_handoff", "{\"action\":\"pull\",\"channelId\":\"x\"}");
    cr_assert(strstr(t, "changed since handoff: README.md\n"), "%s", t);
    x = call_tool(&S, BOB, "ctx_handoff",
                  "{\"action\":\"import\",\"message\":\"{\\\"files\\\":"
                  "[{\\\"path\\\":\\\"a\\\",\\\"sha\\\":\\\"xyz\\\"}]}\"}");
    expect_error(x, 400, "invalid_arguments");
    resp_free(x);
    resp_free(r);
}

static long long db_count(const char *sql)
{
    char p[400];
    snprintf(p, sizeof p, "%s/data/ctxd.db", S.dir);
    sqlite3 *db = NULL;
    long long n = -1;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

/* a deleted tenant's sessions, snapshots, handoffs, shares and workflows go with it */
Test(sessions, tenant_delete_removes_its_rows, .init = up, .fini = down)
{
    srv_tenant(&S, "acme");
    char key[128];
    srv_key(&S, "acme", "write", NULL, key);
    resp *r = NULL;
    tool_callf(&S, &r, key, false, "ctx_session",
               "{\"action\":\"decision\",\"value\":\"x\",\"workspaceId\":\"aws\"}");
    tool_callf(&S, &r, key, false, "ctx_session", "{\"action\":\"save\",\"workspaceId\":\"aws\"}");
    tool_callf(&S, &r, key, false, "ctx_handoff",
               "{\"action\":\"create\",\"workspaceId\":\"aws\"}");
    tool_callf(&S, &r, key, false, "ctx_share",
               "{\"action\":\"push\",\"paths\":\"a.txt\",\"workspaceId\":\"aws\"}");
    tool_callf(&S, &r, key, false, "ctx_workflow",
               "{\"action\":\"start\",\"workspaceId\":\"aws\"}");
    tool_callf(&S, &r, ALICE, false, "ctx_session", "{\"action\":\"decision\",\"value\":\"y\"}");
    resp_free(r);
    cr_assert_eq(db_count("SELECT count(*) FROM collab_docs WHERE tenant_id = 'acme'"), 2);
    cr_assert_eq(db_count("SELECT count(*) FROM collab_items WHERE tenant_id = 'acme'"), 3);
    char *e = NULL;
    cr_assert_eq(srv_ctl(&S, NULL, &e, "tenant", "delete", "acme", NULL), 0, "%s", e);
    free(e);
    cr_assert_eq(db_count("SELECT count(*) FROM collab_docs WHERE tenant_id = 'acme'"), 0);
    cr_assert_eq(db_count("SELECT count(*) FROM collab_items WHERE tenant_id = 'acme'"), 0);
    cr_assert_eq(db_count("SELECT count(*) FROM collab_docs WHERE tenant_id = 'local'"), 1);
}

/* a workspace holds at most STORE_DOCS_PER_WS (4096) session channels: the store is filled
   directly up to one below, then one more channel works and the next is refused */
Test(sessions, channel_count_is_bounded, .init = up, .fini = down)
{
    char p[400];
    snprintf(p, sizeof p, "%s/data/ctxd.db", S.dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_exec(db,
                              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                              "WHERE i < 4095) INSERT INTO collab_docs (tenant_id, workspace_id, "
                              "channel_id, kind, rev, body, updated_at, updated_by) SELECT "
                              "'local', 'main', 'c' || i, 'session', 1, '{}', "
                              "'2026-01-01T00:00:00.000Z', 'team:x' FROM n",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    resp *r = NULL;
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"finding\",\"value\":\"x\",\"channelId\":\"last\"}");
    tool_callf(&S, &r, ALICE, true, "ctx_session",
               "{\"action\":\"finding\",\"value\":\"x\",\"channelId\":\"one-too-many\"}");
    cr_assert_str_eq(tool_error_code(r), "conflict");
    cr_assert(strstr(result_text(r), "4096 channels"), "%s", result_text(r));
    /* existing channels still take writes */
    tool_callf(&S, &r, ALICE, false, "ctx_session",
               "{\"action\":\"finding\",\"value\":\"y\",\"channelId\":\"c17\"}");
    cr_assert_eq(json_integer_value(json_object_get(structured_content(r), "rev")), 2);
    /* the workflow kind has its own count */
    tool_callf(&S, &r, ALICE, false, "ctx_workflow",
               "{\"action\":\"start\",\"channelId\":\"one-too-many\"}");
    resp_free(r);
}

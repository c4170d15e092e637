/* test_knowledge.c - ctx_knowledge as agents see it (tools.md §4.5): remember and ranked recall
 * (the best BM25 match first, the exact line format), supersession with as_of, timeline and
 * restore, relations, consolidate, the [CONFLICT] warning, export from one tenant imported into
 * another (with the importer as source), tenant isolation, persistence across a restart, scopes
 * (writes need `knowledge`, reads `search`) and bad input (unknown action, oversized value,
 * confidence out of range, malformed import). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static server S;
static resp *R;

static void up(void)
{
    srv_init(&S);
    R = NULL;
}

static void down(void)
{
    resp_free(R);
    R = NULL;
    srv_cleanup(&S);
}

TestSuite(knowledge, .init = up, .fini = down, .timeout = 120);

#define KN(tok, err, ...) tool_callf(&S, &R, (tok), (err), "ctx_knowledge", __VA_ARGS__)

/* the first line of s (static copy) */
static const char *line1(const char *s)
{
    static char b[2048];
    size_t n = strcspn(s, "\n");
    snprintf(b, sizeof b, "%.*s", (int)(n < sizeof b - 1 ? n : sizeof b - 1), s);
    return b;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t count_lines(const char *s)
{
    size_t n = *s ? 1 : 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

Test(knowledge, remember_and_ranked_recall)
{
    srv_up(&S, "");
    const char *t = KN(S.token, false,
                       "{\"action\":\"remember\",\"key\":\"db-busy\","
                       "\"value\":\"SQLite busy timeout is 5 seconds on every "
                       "connection\",\"confidence\":0.9}");
    cr_assert_str_eq(t, "remembered [convention/db-busy] (confidence 0.9)");
    KN(S.token, false,
       "{\"action\":\"remember\",\"category\":\"decision\",\"key\":\"http-lib\","
       "\"value\":\"We use libmicrohttpd for HTTP, not a hand-written server\"}");
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"db-wal\",\"value\":\"The store "
       "runs SQLite in WAL mode\"}");
    /* key derived from the value's first words */
    t = KN(S.token, false,
           "{\"action\":\"gotcha\",\"value\":\"Never mmap workspace files\","
           "\"trigger\":\"reading a file\",\"resolution\":\"read() it\","
           "\"severity\":\"high\"}");
    cr_assert_str_eq(t, "remembered [gotcha/never-mmap-workspace-files] (confidence 0.8)");

    t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"sqlite busy timeout\"}");
    cr_assert(re_matches("^\\[convention/db-busy\\] SQLite busy timeout is 5 seconds on every "
                         "connection \\(confidence 0\\.9, [0-9]+s ago, by team:all\\)$",
                         line1(t)),
              "%s", t);
    cr_assert_eq(count_lines(t), 2, "db-busy then db-wal (both say sqlite): %s", t);
    cr_assert(strstr(t, "[convention/db-wal]"), "%s", t);
    cr_assert(!strstr(t, "http-lib"), "%s", t);
    json_t *sc = structured_content(R);
    cr_assert_eq(json_integer_value(json_object_get(sc, "count")), 2);

    /* search is BM25 over category, key and value; the key counts too */
    t = KN(S.token, false, "{\"action\":\"search\",\"query\":\"libmicrohttpd\"}");
    cr_assert(strncmp(t, "[decision/http-lib] We use libmicrohttpd", 40) == 0, "%s", t);
    /* a category filter alone */
    t = KN(S.token, false, "{\"action\":\"recall\",\"category\":\"gotcha\"}");
    cr_assert(strstr(t, "Never mmap workspace files | trigger: reading a file | resolution: "
                        "read() it | severity: high"),
              "%s", t);
    t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"kubernetes\"}");
    cr_assert_str_eq(t, "No facts match 'kubernetes'");
    /* semantic is served by BM25, with a note */
    t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"WAL\",\"mode\":\"semantic\"}");
    cr_assert(strstr(t, "[convention/db-wal]") && strstr(t, "note: mode=semantic is served by "
                                                            "BM25"),
              "%s", t);
    /* FTS5 syntax in a query is just words */
    t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"\\\"busy* NEAR( OR\"}");
    cr_assert(strstr(t, "[convention/db-busy]"), "%s", t);

    t = KN(S.token, false, "{\"action\":\"rooms\"}");
    cr_assert_str_eq(t, "convention  2\ndecision  1\ngotcha  1");
    t = KN(S.token, false, "{\"action\":\"status\"}");
    cr_assert(starts(t, "knowledge main: 4 facts in 3 categories, 0 superseded versions\n"), "%s",
              t);
    /* recall counted retrievals: db-busy was recalled 3 times */
    t = KN(S.token, false, "{\"action\":\"wakeup\"}");
    cr_assert(strncmp(t, "[convention/db-busy]", 20) == 0, "%s", t);
}

Test(knowledge, supersession_timeline_as_of_restore)
{
    srv_up(&S, "");
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"port\",\"value\":\"the API listens on "
       "8080\"}");
    /* the same value again only confirms */
    const char *t = KN(S.token, false,
                       "{\"action\":\"remember\",\"key\":\"port\",\"value\":\"the "
                       "API listens on 8080\",\"confidence\":0.95}");
    cr_assert_str_eq(t, "confirmed [convention/port] (same value, confidence 0.95)");
    sleep(1);
    char between[32];
    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(between, sizeof between, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    sleep(1); /* as_of has second precision here */
    t = KN(S.token, false,
           "{\"action\":\"remember\",\"key\":\"port\",\"value\":\"the API "
           "listens on 9090\"}");
    cr_assert(re_matches("^remembered \\[convention/port\\] \\(confidence 0\\.8\\); superseded the "
                         "version by team:all from [0-9]+s ago$",
                         t),
              "%s", t);
    t = KN(S.token, false, "{\"action\":\"recall\",\"key\":\"port\"}");
    cr_assert(strstr(t, "9090") && !strstr(t, "8080"), "current only: %s", t);
    t = KN(S.token, false, "{\"action\":\"recall\",\"key\":\"port\",\"as_of\":\"%s\"}", between);
    cr_assert(strstr(t, "8080") && !strstr(t, "9090"), "as of %s: %s", between, t);
    t = KN(S.token, false,
           "{\"action\":\"recall\",\"key\":\"port\",\"as_of\":\"2001-01-01T00:00:00Z\"}");
    cr_assert(strncmp(t, "No facts", 8) == 0, "%s", t);

    t = KN(S.token, false, "{\"action\":\"timeline\"}");
    cr_assert_eq(count_lines(t), 2, "%s", t);
    cr_assert(re_matches("^[0-9T:.Z-]+  updated \\[convention/port\\] the API listens on 9090 by "
                         "team:all$",
                         line1(t)),
              "%s", t);
    cr_assert(strstr(t, "remembered [convention/port] the API listens on 8080 by team:all "
                        "(superseded)"),
              "%s", t);
    t = KN(S.token, false, "{\"action\":\"status\"}");
    cr_assert(strstr(t, "1 facts in 1 categories, 1 superseded versions"), "%s", t);

    t = KN(S.token, false, "{\"action\":\"restore\",\"key\":\"port\"}");
    cr_assert_str_eq(t, "restored [convention/port] to its previous version");
    t = KN(S.token, false, "{\"action\":\"recall\",\"key\":\"port\"}");
    cr_assert(strstr(t, "8080") && !strstr(t, "9090"), "%s", t);

    t = KN(S.token, false, "{\"action\":\"feedback\",\"key\":\"port\",\"value\":\"up\"}");
    cr_assert_str_eq(t, "feedback up on [convention/port]");
    KN(S.token, false, "{\"action\":\"recall\",\"key\":\"port\"}");
    json_t *f = json_array_get(json_object_get(structured_content(R), "facts"), 0);
    cr_assert_eq(json_integer_value(json_object_get(f, "feedback_up")), 1);
    t = KN(S.token, false, "{\"action\":\"remove\",\"key\":\"port\"}");
    cr_assert_str_eq(t, "removed [convention/port] (3 versions)");
    t = KN(S.token, true, "{\"action\":\"remove\",\"key\":\"port\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    KN(S.token, true, "{\"action\":\"restore\",\"key\":\"nothing-here\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    KN(S.token, true, "{\"action\":\"feedback\",\"key\":\"port\",\"value\":\"down\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
}

Test(knowledge, relations_consolidate_conflict)
{
    srv_config(&S, "");
    char other[80];
    cr_assert(srv_token(&S, "bob", "search,knowledge", other));
    cr_assert(srv_start(&S));
    const char *t =
        KN(S.token, false, "{\"action\":\"relate\",\"key\":\"auth\",\"value\":\"tokens\"}");
    cr_assert_str_eq(t, "related 'auth' → 'tokens'");
    KN(S.token, false, "{\"action\":\"relate\",\"key\":\"sessions\",\"value\":\"auth\"}");
    KN(S.token, true, "{\"action\":\"relate\",\"key\":\"auth\",\"value\":\"tokens\"}");
    cr_assert_str_eq(tool_error_code(R), "conflict");
    t = KN(S.token, false, "{\"action\":\"relations\",\"key\":\"auth\"}");
    cr_assert(re_matches("^auth → tokens \\(by team:all, [0-9]+s ago\\)\nsessions → auth \\(by "
                         "team:all, [0-9]+s ago\\)$",
                         t),
              "%s", t);
    KN(S.token, false, "{\"action\":\"unrelate\",\"key\":\"auth\",\"value\":\"tokens\"}");
    KN(S.token, true, "{\"action\":\"unrelate\",\"key\":\"auth\",\"value\":\"tokens\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    t = KN(S.token, false, "{\"action\":\"relations\",\"key\":\"tokens\"}");
    cr_assert_str_eq(t, "No relations of 'tokens'");

    /* near-duplicates (Jaccard >= 0.8) in one category merge; a different category does not */
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"a1\",\"value\":\"always run the unit "
       "tests before every commit to main\",\"confidence\":0.9}");
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"a2\",\"value\":\"always run the unit "
       "tests before every single commit to main\"}");
    KN(S.token, false,
       "{\"action\":\"remember\",\"category\":\"decision\",\"key\":\"a3\","
       "\"value\":\"always run the unit tests before every commit to main\"}");
    KN(S.token, false, "{\"action\":\"remember\",\"key\":\"b1\",\"value\":\"run the unit tests\"}");
    t = KN(S.token, false, "{\"action\":\"consolidate\",\"dry_run\":true}");
    cr_assert(strstr(t, "would merge [convention/a2] into [convention/a1] (jaccard 0.91)"), "%s",
              t);
    t = KN(S.token, false, "{\"action\":\"consolidate\"}");
    cr_assert(
        re_matches("^merged \\[convention/a2\\] into \\[convention/a1\\] \\(jaccard 0\\.91\\)\n"
                   "consolidate: 1 merge among 4 facts$",
                   t),
        "%s", t);
    t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"unit tests commit\"}");
    cr_assert(!strstr(t, "[convention/a2]") && strstr(t, "[convention/a1]") &&
                  strstr(t, "[decision/a3]") && strstr(t, "[convention/b1]"),
              "%s", t);
    t = KN(S.token, false, "{\"action\":\"consolidate\"}");
    cr_assert_str_eq(t, "No near-duplicate facts among 3");

    /* another agent writing the same key gets the warning */
    t = KN(other, false,
           "{\"action\":\"remember\",\"key\":\"a1\",\"value\":\"run the tests "
           "before pushing\"}");
    cr_assert(strstr(t, "\n[CONFLICT] Agent 'team:all' recently wrote to the same knowledge key "
                        "'convention/a1'. Review before proceeding."),
              "%s", t);
    t = KN(other, false, "{\"action\":\"remember\",\"key\":\"b9\",\"value\":\"fresh key\"}");
    cr_assert(!strstr(t, "CONFLICT"), "%s", t);
}

/* tenant acme owns workspace "aws"; local owns "main" */
static void two_tenants(char acme_key[128])
{
    char more[600];
    snprintf(more, sizeof more, "{\"id\": \"aws\", \"root\": \"%s\", \"tenant\": \"acme\"}", S.ws);
    srv_config_ws(&S, more, "");
    srv_tenant(&S, "acme");
    srv_key(&S, "acme", "write", NULL, acme_key);
    cr_assert(srv_start(&S), "server did not start");
}

Test(knowledge, export_import_other_tenant_and_isolation)
{
    char acme[128];
    two_tenants(acme);
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"style\",\"value\":\"four spaces, "
       "100 columns\",\"confidence\":0.7}");
    KN(S.token, false,
       "{\"action\":\"remember\",\"category\":\"decision\",\"key\":\"db\","
       "\"value\":\"SQLite with \\\"WAL\\\"\\nand FTS5\"}");
    /* isolation: acme's key sees nothing of local's knowledge */
    const char *t = KN(acme, false,
                       "{\"action\":\"recall\",\"query\":\"spaces sqlite\","
                       "\"workspaceId\":\"aws\"}");
    cr_assert_str_eq(t, "No facts match 'spaces sqlite'");
    t = KN(acme, false, "{\"action\":\"export\",\"workspaceId\":\"aws\"}");
    json_t *empty = json_loads(t, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(empty, "facts")), 0, "%s", t);
    json_decref(empty);
    resp *r = call_tool(&S, acme, "ctx_knowledge",
                        "{\"action\":\"recall\",\"query\":\"spaces\",\"workspaceId\":\"main\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);

    t = KN(S.token, false, "{\"action\":\"export\"}");
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert(doc, "export is JSON: %s", t);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "ctxd.knowledge/1");
    cr_assert_eq(json_array_size(json_object_get(doc, "facts")), 2, "%s", t);
    /* import it as acme into aws: the value is the export document */
    char *dump = json_dumps(doc, JSON_COMPACT);
    json_t *args =
        json_pack("{s:s, s:s, s:s}", "action", "import", "value", dump, "workspaceId", "aws");
    char *body = json_dumps(args, JSON_COMPACT);
    r = call_tool(&S, acme, "ctx_knowledge", body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(result_text(r), "imported 2 facts: 2 created, 0 superseded, 0 confirmed, 0 "
                                     "skipped (merge=skip)");
    resp_free(r);
    /* again: skipped */
    r = call_tool(&S, acme, "ctx_knowledge", body);
    cr_assert_str_eq(result_text(r), "imported 2 facts: 0 created, 0 superseded, 0 confirmed, 2 "
                                     "skipped (merge=skip)");
    resp_free(r);
    free(body);
    free(dump);
    json_decref(args);

    t = KN(acme, false, "{\"action\":\"export\",\"workspaceId\":\"aws\"}");
    json_t *back = json_loads(t, 0, NULL);
    json_t *fa = json_object_get(doc, "facts"), *fb = json_object_get(back, "facts");
    cr_assert_eq(json_array_size(fb), 2, "%s", t);
    for (size_t i = 0; i < 2; i++) {
        json_t *a = json_array_get(fa, i), *b = json_array_get(fb, i);
        const char *fields[] = {"category", "key", "value", "created_at"};
        for (size_t j = 0; j < 4; j++) {
            cr_assert_str_eq(json_string_value(json_object_get(a, fields[j])),
                             json_string_value(json_object_get(b, fields[j])), "%s", fields[j]);
        }
        cr_assert_float_eq(json_real_value(json_object_get(a, "confidence")),
                           json_real_value(json_object_get(b, "confidence")), 1e-9);
        /* the importer is the source; the claimed one is kept as importedFrom */
        cr_assert(strncmp(json_string_value(json_object_get(b, "source")), "team:ctxd_live_acme_",
                          20) == 0,
                  "%s", t);
        cr_assert_str_eq(json_string_value(json_object_get(b, "importedFrom")), "team:all");
    }
    json_decref(back);
    json_decref(doc);
    /* and local's own facts are untouched by acme's import */
    t = KN(S.token, false, "{\"action\":\"status\"}");
    cr_assert(strstr(t, "2 facts in 2 categories, 0 superseded"), "%s", t);
}

Test(knowledge, persists_across_restart)
{
    srv_up(&S, "");
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"deploy\",\"value\":\"deploys go out "
       "on Tuesdays\"}");
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"deploy\",\"value\":\"deploys go out "
       "on Thursdays\"}");
    KN(S.token, false, "{\"action\":\"relate\",\"key\":\"deploy\",\"value\":\"release\"}");
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert(srv_start(&S));
    const char *t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"deploys\"}");
    cr_assert(starts(t, "[convention/deploy] deploys go out on Thursdays (confidence 0.8,"), "%s",
              t);
    t = KN(S.token, false, "{\"action\":\"timeline\",\"query\":\"deploys\"}");
    cr_assert_eq(count_lines(t), 2, "%s", t);
    t = KN(S.token, false, "{\"action\":\"relations\",\"key\":\"release\"}");
    cr_assert(starts(t, "deploy → release (by team:all, "), "%s", t);
}

Test(knowledge, scopes)
{
    srv_config(&S, "");
    char ro[80], kn[80];
    cr_assert(srv_token(&S, "reader", "search", ro));
    cr_assert(srv_token(&S, "writer", "knowledge", kn));
    cr_assert(srv_start(&S));
    const char *writes[] = {
        "{\"action\":\"remember\",\"value\":\"x y\"}",
        "{\"action\":\"gotcha\",\"value\":\"x\"}",
        "{\"action\":\"pattern\",\"value\":\"x\"}",
        "{\"action\":\"relate\",\"key\":\"a\",\"value\":\"b\"}",
        "{\"action\":\"unrelate\",\"key\":\"a\",\"value\":\"b\"}",
        "{\"action\":\"remove\",\"key\":\"a\"}",
        "{\"action\":\"restore\",\"key\":\"a\"}",
        "{\"action\":\"feedback\",\"key\":\"a\",\"value\":\"up\"}",
        "{\"action\":\"consolidate\"}",
        "{\"action\":\"import\",\"value\":\"[]\"}",
    };
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        resp *r = call_tool(&S, ro, "ctx_knowledge", writes[i]);
        expect_error(r, 403, "scope_denied");
        resp_free(r);
    }
    KN(kn, false, "{\"action\":\"remember\",\"key\":\"k\",\"value\":\"written with knowledge\"}");
    const char *t = KN(ro, false, "{\"action\":\"recall\",\"query\":\"written\"}");
    cr_assert(strstr(t, "[convention/k] written with knowledge (confidence 0.8, ") &&
                  strstr(t, "by team:writer)"),
              "%s", t);
    const char *reads[] = {"search", "relations", "status", "timeline",
                           "rooms",  "wakeup",    "export"};
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"action\":\"%s\",\"key\":\"k\",\"query\":\"x\"}", reads[i]);
        resp *r = call_tool(&S, kn, "ctx_knowledge", body);
        expect_error(r, 403, "scope_denied"); /* reads need search, which kn lacks */
        resp_free(r);
    }
}

Test(knowledge, bad_input)
{
    srv_up(&S, "");
    resp *r = call_tool(&S, S.token, "ctx_knowledge", "{\"action\":\"configure\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "action"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_knowledge", "{}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_knowledge",
                  "{\"action\":\"remember\",\"value\":\"x\",\"confidence\":1.5}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "confidence"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_knowledge",
                  "{\"action\":\"remember\",\"value\":\"x\",\"confidence\":-0.1}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    /* a value of 16 KiB is fine, one byte more is not */
    size_t n = 16384;
    char *big = malloc(n + 200);
    for (int over = 0; over < 2; over++) {
        int off = snprintf(big, 200, "{\"action\":\"remember\",\"key\":\"big\",\"value\":\"");
        memset(big + off, 'a', n + (size_t)over);
        snprintf(big + off + n + over, 10, "\"}");
        r = call_tool(&S, S.token, "ctx_knowledge", big);
        if (over) {
            expect_error(r, 400, "invalid_arguments");
            cr_assert(strstr(r->body, "16384"), "%s", r->body);
        } else {
            cr_assert_eq(r->status, 200, "%s", r->body);
            cr_assert(!result_is_error(r), "%s", r->body);
        }
        resp_free(r);
    }
    free(big);
    const char *bad[] = {
        "{\"action\":\"import\",\"value\":\"{not json\"}",
        "{\"action\":\"import\",\"value\":\"{\\\"facts\\\":3}\"}",
        "{\"action\":\"import\",\"value\":\"[{\\\"key\\\":\\\"k\\\"}]\"}",
        "{\"action\":\"import\",\"value\":\"[{\\\"value\\\":\\\"v\\\",\\\"confidence\\\":7}]\"}",
        "{\"action\":\"import\",\"value\":\"[{\\\"value\\\":\\\"v\\\",\\\"category\\\":\\\"a/"
        "b\\\"}]\"}",
        "{\"action\":\"import\",\"value\":\"[1]\"}",
        "{\"action\":\"remember\",\"category\":\"no spaces\",\"value\":\"v\"}",
        "{\"action\":\"remember\",\"key\":\"a\\nb\",\"value\":\"v\"}",
        "{\"action\":\"remember\"}",
        "{\"action\":\"recall\"}",
        "{\"action\":\"recall\",\"query\":\"x\",\"as_of\":\"yesterday\"}",
        "{\"action\":\"feedback\",\"key\":\"big\",\"value\":\"sideways\"}",
        "{\"action\":\"relations\"}",
        "{\"action\":\"recall\",\"query\":\"x\",\"limit\":101}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = call_tool(&S, S.token, "ctx_knowledge", bad[i]);
        char why[1024];
        cr_assert(is_error(r, 400, "invalid_arguments", why, sizeof why), "%s: %s", bad[i], why);
        resp_free(r);
    }
    /* a refused import wrote nothing, not even its valid first fact */
    r = call_tool(&S, S.token, "ctx_knowledge",
                  "{\"action\":\"import\",\"value\":\"[{\\\"key\\\":\\\"ok\\\",\\\"value\\\":"
                  "\\\"fine\\\"},{\\\"value\\\":\\\"\\\"}]\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(r->body, "facts[1].value"), "%s", r->body);
    resp_free(r);
    const char *t = KN(S.token, false, "{\"action\":\"recall\",\"key\":\"ok\"}");
    cr_assert_str_eq(t, "No facts in */ok");
}

/* the knowledge_remembered events of a search for "knowledge" (as token), once there are at
   least n, within a deadline; a new reference */
static json_t *knowledge_events(const char *token, size_t n)
{
    long long deadline = now_ms() + 10000;
    for (;;) {
        resp *r = req(&S, "GET", "/v1/events/search?q=knowledge&limit=100", token, NULL, NULL);
        cr_assert_eq(r->status, 200, "%s", r->body);
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(r->json, "results"), i, e) {
            if (strcmp(json_string_value(json_object_get(e, "kind")), "knowledge_remembered") ==
                0) {
                json_array_append(out, e);
            }
        }
        resp_free(r);
        if (json_array_size(out) >= n || now_ms() > deadline) {
            return out;
        }
        json_decref(out);
        usleep(100 * 1000);
    }
}

Test(knowledge, writes_emit_events_without_the_value_in_refs)
{
    srv_config(&S, "");
    char ev[80];
    cr_assert(srv_token(&S, "watcher", "events", ev));
    cr_assert(srv_start(&S));
    KN(S.token, false,
       "{\"action\":\"remember\",\"key\":\"evt-key\",\"value\":\"the value "
       "SECRETVALUE123 stays out of refs\"}");
    KN(S.token, false, "{\"action\":\"recall\",\"key\":\"evt-key\"}"); /* a read: no event */
    KN(S.token, false, "{\"action\":\"relate\",\"key\":\"evt-key\",\"value\":\"other\"}");
    json_t *refs = knowledge_events(ev, 2);
    cr_assert_eq(json_array_size(refs), 2, "%s", json_dumps(refs, 0));
    char *dump = json_dumps(refs, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert(!strstr(dump, "SECRETVALUE123"), "%s", dump);
    cr_assert(strstr(dump, "\"payload\":{\"action\":\"remember\",\"category\":\"convention\","
                           "\"key\":\"evt-key\",\"redacted\":true}"),
              "%s", dump);
    cr_assert(strstr(dump, "\"actor\":\"all\"") || strstr(dump, "\"actor\":\"team:all\""), "%s",
              dump);
    free(dump);
    json_decref(refs);
    /* events + audit: the full payload carries the value */
    json_t *full = knowledge_events(S.token, 2);
    dump = json_dumps(full, JSON_COMPACT);
    cr_assert(strstr(dump, "SECRETVALUE123"), "%s", dump);
    free(dump);
    json_decref(full);
}

Test(knowledge, export_stays_whole_json_under_the_output_cap)
{
    srv_up(&S, "\"maxOutputBytes\": 8192");
    char v[700];
    memset(v, 'q', 600);
    v[600] = '\0';
    for (int i = 0; i < 30; i++) {
        KN(S.token, false,
           "{\"action\":\"remember\",\"key\":\"k%02d\",\"value\":\"%s \\\"%d\\\"\"}", i, v, i);
    }
    const char *t = KN(S.token, false, "{\"action\":\"export\"}");
    cr_assert_leq(strlen(t), 8192);
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert(doc, "whole JSON: %s", t);
    size_t n = json_array_size(json_object_get(doc, "facts"));
    cr_assert(n > 0 && n < 30, "%zu facts", n);
    cr_assert(json_is_true(json_object_get(doc, "truncated")), "%s", t);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "facts"), 0), "key")),
        "k00");
    json_decref(doc);
    /* a NUL inside a string would cut it short: refused */
    resp *r = call_tool(&S, S.token, "ctx_knowledge",
                        "{\"action\":\"remember\",\"value\":\"abc\\u0000def\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
}

Test(knowledge, concurrent_writers_of_one_key_lose_no_version)
{
    srv_up(&S, "");
    enum { N = 8 };
    bg_req b[N];
    char bodies[N][200];
    for (int i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof bodies[i],
                 "{\"name\":\"ctx_knowledge\",\"arguments\":{\"action\":\"remember\",\"key\":"
                 "\"race\",\"value\":\"writer %d was here\"}}",
                 i);
        bg_start(&b[i], &S, S.token, bodies[i]);
    }
    for (int i = 0; i < N; i++) {
        resp *r = bg_join(&b[i]);
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert(!result_is_error(r), "%s", r->body);
        resp_free(r);
    }
    const char *t = KN(S.token, false, "{\"action\":\"timeline\",\"key\":\"race\",\"limit\":100}");
    cr_assert_eq(count_lines(t), N, "%s", t);
    size_t current = 0;
    for (const char *p = t; (p = strstr(p, "[convention/race]")); p++) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        current += !memmem(p, len, "(superseded)", 12);
    }
    cr_assert_eq(current, 1, "one current version: %s", t);
    t = KN(S.token, false, "{\"action\":\"status\"}");
    cr_assert(strstr(t, "1 facts in 1 categories, 7 superseded versions"), "%s", t);
}

Test(knowledge, import_merge_rules)
{
    srv_up(&S, "");
    KN(S.token, false, "{\"action\":\"remember\",\"key\":\"m\",\"value\":\"first\"}");
    /* newer: an import confirmed long ago loses, one confirmed in the future wins */
    const char *t = KN(S.token, false,
                       "{\"action\":\"import\",\"merge\":\"newer\",\"value\":\"[{\\\"key\\\":"
                       "\\\"m\\\",\\\"value\\\":\\\"old\\\",\\\"last_confirmed\\\":"
                       "\\\"2001-01-01T00:00:00Z\\\"}]\"}");
    cr_assert_str_eq(t, "imported 1 facts: 0 created, 0 superseded, 0 confirmed, 1 skipped "
                        "(merge=newer)");
    t = KN(S.token, false,
           "{\"action\":\"import\",\"merge\":\"newer\",\"value\":\"[{\\\"key\\\":"
           "\\\"m\\\",\\\"value\\\":\\\"future\\\",\\\"last_confirmed\\\":"
           "\\\"2999-01-01T00:00:00+02:00\\\"}]\"}");
    cr_assert_str_eq(t, "imported 1 facts: 0 created, 1 superseded, 0 confirmed, 0 skipped "
                        "(merge=newer)");
    t = KN(S.token, false,
           "{\"action\":\"import\",\"merge\":\"overwrite\",\"value\":\"{\\\"facts"
           "\\\":[{\\\"key\\\":\\\"m\\\",\\\"value\\\":\\\"third\\\"},{\\\"value\\\":"
           "\\\"brand new fact\\\",\\\"confidence\\\":0.5}]}\"}");
    cr_assert_str_eq(t, "imported 2 facts: 1 created, 1 superseded, 0 confirmed, 0 skipped "
                        "(merge=overwrite)");
    t = KN(S.token, false, "{\"action\":\"recall\",\"query\":\"third brand\"}");
    cr_assert(strstr(t, "[convention/m] third (confidence 0.8,") &&
                  strstr(t, "[convention/brand-new-fact] brand new fact (confidence 0.5,"),
              "%s", t);
    t = KN(S.token, false,
           "{\"action\":\"import\",\"dry_run\":true,\"value\":\"[{\\\"value\\\":"
           "\\\"x\\\"}]\"}");
    cr_assert_str_eq(t, "import (dry run): 1 valid facts, merge=skip; nothing written");
    t = KN(S.token, false, "{\"action\":\"timeline\",\"key\":\"m\",\"limit\":100}");
    cr_assert_eq(count_lines(t), 3, "%s", t);
}

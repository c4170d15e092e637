/* test_ixtools.c - the index-backed search tools through HTTP, as an agent sees them:
 * ctx_search actions symbol / bm25 / find_related, ctx_outline, ctx_index, the index-style
 * tools (search_symbols, get_symbol_source, get_file_outline) and the deprecated aliases.
 *
 * Each test writes a small fixture project (C, Python, TypeScript) into its own workspace,
 * starts the real server, asks it for a build with ctx_index action=build wait=true, and then
 * compares whole result texts or exact JSON fields, so a changed line format fails here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "toolsuite.h"

TestSuite(ixtools, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 40);

static const char TOKEN_C[] = "#include \"token.h\"\n"
                              "\n"
                              "static int check_sig(const char *t)\n"
                              "{\n"
                              "    return t[0] == 'x';\n"
                              "}\n"
                              "\n"
                              "int verify_token(const char *t)\n"
                              "{\n"
                              "    if (!t) {\n"
                              "        return 0;\n"
                              "    }\n"
                              "    return check_sig(t);\n"
                              "}\n";

static const char SHAPES_PY[] = "import math\n"
                                "\n"
                                "\n"
                                "class Circle:\n"
                                "    def __init__(self, r):\n"
                                "        self.r = r\n"
                                "\n"
                                "    def area(self):\n"
                                "        return math.pi * self.r * self.r\n"
                                "\n"
                                "\n"
                                "def total_area(shapes):\n"
                                "    return sum(s.area() for s in shapes)\n";

/* the fixture project, the config, the server, and a committed index */
static void up_cfg(const char *extra_files, const char *config_fields);
static void up_with(const char *extra_files)
{
    up_cfg(extra_files, "");
}

static void up_cfg(const char *extra_files, const char *config_fields)
{
    ws_write(&S, "src/auth/token.c", TOKEN_C);
    ws_write(&S, "src/auth/token.h", "int verify_token(const char *t);\n");
    ws_write(&S, "src/app/main.c",
             "#include \"../auth/token.h\"\n\nint main(int argc, char **argv)\n{\n"
             "    return verify_token(argv[1]);\n}\n");
    ws_write(&S, "py/shapes.py", SHAPES_PY);
    ws_write(&S, "py/cli.py",
             "def parse(argv):\n    return argv\n\n\ndef parse_args(argv):\n    return "
             "parse(argv)\n\n\ndef do_parse(s):\n    return parse([s])\n");
    ws_write(&S, "web/api.ts",
             "export function parseUser(raw: string): number {\n  return JSON.parse(raw).id;\n}\n");
    ws_write(&S, "docs/notes.md", "# Notes\n\nverify_token checks a token; see token docs.\n");
    if (extra_files && strcmp(extra_files, "runners") == 0) {
        char body[2048] = "";
        for (int i = 1; i <= 7; i++) {
            char part[128];
            snprintf(part, sizeof part, "class Job%d:\n    def run(self):\n        return %d\n\n\n",
                     i, i);
            strcat(body, part);
        }
        ws_write(&S, "py/jobs.py", body);
    }
    if (extra_files && strcmp(extra_files, "big") == 0) {
        /* 400 functions in one file, and one function of 3,000 lines */
        size_t cap = 400 * 64 + 3000 * 32 + 1024, n = 0;
        char *body = malloc(cap);
        for (int i = 0; i < 400; i++) {
            n += (size_t)snprintf(body + n, cap - n, "int fn_%03d(void) { return %d; }\n", i, i);
        }
        n += (size_t)snprintf(body + n, cap - n, "int long_one(void)\n{\n    int x = 0;\n");
        for (int i = 0; i < 3000; i++) {
            n += (size_t)snprintf(body + n, cap - n, "    x += %d;\n", i);
        }
        snprintf(body + n, cap - n, "    return x;\n}\n");
        ws_write(&S, "gen/many.c", body);
        free(body);
    }
    srv_up(&S, config_fields);
    index_build_wait(&S);
}

/* ---- symbol lookup ---- */

Test(ixtools, symbol_one_match)
{
    up_with(NULL);
    cr_assert_str_eq(OK("ctx_search", "{\"action\":\"symbol\",\"name\":\"check_sig\"}"),
                     "src/auth/token.c#check_sig@L3  (- fn, L3-6)\n"
                     "File: src/auth/token.c (14 lines, 46 tokens)\n"
                     "\n"
                     "   3|static int check_sig(const char *t)\n"
                     "   4|{\n"
                     "   5|    return t[0] == 'x';\n"
                     "   6|}");
    json_t *sym = json_array_get(json_object_get(structured_content(last), "symbols"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(sym, "handle")),
                     "src/auth/token.c#check_sig@L3");
    cr_assert_str_eq(json_string_value(json_object_get(sym, "id")),
                     "src/auth/token.c::check_sig#function");
    /* the same symbol by its handle, by its id, and by file::name */
    const char *by_handle =
        OK("ctx_search", "{\"action\":\"symbol\",\"handle\":\"src/auth/token.c#check_sig@L3\"}");
    cr_assert(strncmp(by_handle, "src/auth/token.c#check_sig@L3  (- fn", 36) == 0, "%s", by_handle);
    const char *by_id = OK("ctx_search", "{\"action\":\"symbol\",\"handle\":"
                                         "\"src/auth/token.c::check_sig#function\"}");
    cr_assert(strncmp(by_id, "src/auth/token.c#check_sig@L3", 29) == 0, "%s", by_id);
    const char *qualified = OK("ctx_search", "{\"action\":\"symbol\",\"name\":\"Circle.area\"}");
    cr_assert(strncmp(qualified, "py/shapes.py#area@L8  (+ method, L8-9)\n", 39) == 0, "%s",
              qualified);
}

Test(ixtools, symbol_several_and_many)
{
    up_with("runners");
    /* a definition and its prototype: both shown, separated by --- */
    cr_assert_str_eq(OK("ctx_search", "{\"action\":\"symbol\",\"name\":\"verify_token\"}"),
                     "src/auth/token.c#verify_token@L8  (+ fn, L8-14)\n"
                     "File: src/auth/token.c (14 lines, 46 tokens)\n"
                     "\n"
                     "   8|int verify_token(const char *t)\n"
                     "   9|{\n"
                     "  10|    if (!t) {\n"
                     "  11|        return 0;\n"
                     "  12|    }\n"
                     "  13|    return check_sig(t);\n"
                     "  14|}\n"
                     "\n---\n\n"
                     "src/auth/token.h#verify_token@L1  (+ fn, L1-1)\n"
                     "File: src/auth/token.h (1 lines, 9 tokens)\n"
                     "\n"
                     "   1|int verify_token(const char *t);");
    /* file= narrows to one */
    const char *one = OK("ctx_search", "{\"action\":\"symbol\",\"name\":\"verify_token\",\"file\":"
                                       "\"src/auth/token.h\"}");
    cr_assert_null(strstr(one, "---"), "%s", one);
    /* seven methods named run: listed, not shown */
    const char *many = OK("ctx_search", "{\"action\":\"symbol\",\"name\":\"run\"}");
    cr_assert_str_eq(many, "7 matches for 'run'. Narrow with file= or kind=:\n"
                           "  py/jobs.py::Job1.run (method:L2-3)\n"
                           "  py/jobs.py::Job2.run (method:L7-8)\n"
                           "  py/jobs.py::Job3.run (method:L12-13)\n"
                           "  py/jobs.py::Job4.run (method:L17-18)\n"
                           "  py/jobs.py::Job5.run (method:L22-23)\n"
                           "  py/jobs.py::Job6.run (method:L27-28)\n"
                           "  py/jobs.py::Job7.run (method:L32-33)\n"
                           "↳ re-target any symbol: ctx_search(action=\"symbol\", "
                           "handle=\"path#name@Lstart\")");
    /* kind= filters: no struct is named run */
    FAILS("ctx_search", "{\"action\":\"symbol\",\"name\":\"run\",\"kind\":\"struct\"}");
    cr_assert_str_eq(tool_error_code(last), "no_such_symbol");
}

Test(ixtools, symbol_none)
{
    up_with(NULL);
    const char *t = FAILS("ctx_search", "{\"action\":\"symbol\",\"name\":\"no_such_thing\"}");
    cr_assert_str_eq(tool_error_code(last), "no_such_symbol");
    /* the count is the index's own */
    json_t *st = NULL;
    {
        resp *r = call_tool(&S, S.token, "ctx_index", "{}");
        st = json_deep_copy(structured_content(r));
        resp_free(r);
    }
    char want[512];
    snprintf(want, sizeof want,
             "ERROR: Symbol 'no_such_thing' not found in index (%lld symbols indexed). Try "
             "ctx_search(pattern=\"no_such_thing\") for a broader search.",
             (long long)json_integer_value(json_object_get(st, "symbols")));
    json_decref(st);
    cr_assert_str_eq(t, want);
    /* a malformed handle resolves to nothing, it is not an internal error */
    FAILS("ctx_search", "{\"action\":\"symbol\",\"handle\":\"src/x.c#f@Lzz\"}");
    cr_assert_str_eq(tool_error_code(last), "no_such_symbol");
}

/* ---- outline ---- */

Test(ixtools, outline_text_and_json)
{
    up_with(NULL);
    cr_assert_str_eq(OK("ctx_outline", "{\"path\":\"py/shapes.py\"}"),
                     "class pub Circle @L4-9\n"
                     "  fn pub __init__(self, r) @L5-6\n"
                     "  fn pub area(self) @L8-9\n"
                     "fn pub total_area(shapes) @L12-13\n"
                     "↳ re-target any symbol: ctx_search(action=\"symbol\", "
                     "handle=\"path#name@Lstart\")");
    cr_assert_str_eq(OK("ctx_outline", "{\"path\":\"src\"}"),
                     "src/app/main.c\n"
                     "  fn pub main(int argc, char **argv) → int @L3-6\n"
                     "src/auth/token.c\n"
                     "  fn check_sig(const char *t) → int @L3-6\n"
                     "  fn pub verify_token(const char *t) → int @L8-14\n"
                     "src/auth/token.h\n"
                     "  fn pub verify_token(const char *t) → int @L1\n"
                     "src/main.c\n"
                     "  fn pub main(void) → int @L1-3\n"
                     "src/util.c\n"
                     "  fn pub add(int a, int b) → int @L1-4\n"
                     "↳ re-target any symbol: ctx_search(action=\"symbol\", "
                     "handle=\"path#name@Lstart\")");
    cr_assert_str_eq(OK("ctx_outline", "{\"path\":\"py/shapes.py\",\"kind\":\"method\"}"),
                     "  fn pub __init__(self, r) @L5-6\n"
                     "  fn pub area(self) @L8-9\n"
                     "↳ re-target any symbol: ctx_search(action=\"symbol\", "
                     "handle=\"path#name@Lstart\")");
    cr_assert_str_eq(OK("ctx_outline", "{\"path\":\"py/shapes.py\",\"match\":\"zzz\"}"),
                     "No symbols matching 'zzz' in py/shapes.py");
    cr_assert_str_eq(OK("ctx_outline", "{\"path\":\"py\",\"kind\":\"struct\"}"),
                     "No 'struct' symbols in py");
    cr_assert_str_eq(OK("ctx_outline", "{\"path\":\"docs/notes.md\"}"),
                     "No symbols found in docs/notes.md");

    const char *js = OK("ctx_outline", "{\"path\":\"py/shapes.py\",\"format\":\"json\"}");
    json_error_t e;
    json_t *doc = json_loads(js, 0, &e);
    cr_assert(doc, "not JSON: %s", js);
    cr_assert(json_equal(doc, structured_content(last)), "text and structuredContent differ");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "language")), "python");
    json_t *area = json_array_get(json_object_get(doc, "symbols"), 2);
    cr_assert_str_eq(json_string_value(json_object_get(area, "name")), "area");
    cr_assert_str_eq(json_string_value(json_object_get(area, "parent")), "Circle");
    cr_assert_eq(json_integer_value(json_object_get(area, "start_line")), 8);
    cr_assert_eq(json_integer_value(json_object_get(area, "end_line")), 9);
    json_decref(doc);

    FAILS("ctx_outline", "{\"path\":\"../outside\"}");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root");
    FAILS("ctx_outline", "{\"path\":\"src/missing.c\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
}

/* ---- bm25 and find_related ---- */

Test(ixtools, bm25_ranks_the_definition_first)
{
    up_with(NULL);
    const char *t = OK("ctx_search", "{\"action\":\"bm25\",\"query\":\"check_sig\"}");
    cr_assert(strncmp(t, "2 results for 'check_sig' (bm25 over ", 37) == 0, "%s", t);
    const char *first = strchr(t, '\n') + 1;
    cr_assert(strncmp(first, "src/auth/token.c:3-6 check_sig (fn) score=", 42) == 0, "%s", t);
    cr_assert_not_null(strstr(first, "\n     3| static int check_sig(const char *t)\n"), "%s", t);
    json_t *r0 = json_array_get(json_object_get(structured_content(last), "results"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r0, "symbol")), "check_sig");

    /* an identifier-like query ranks code above prose that mentions it */
    t = OK("ctx_search", "{\"action\":\"bm25\",\"query\":\"verify_token\",\"top_k\":50}");
    const char *md = strstr(t, "docs/notes.md:");
    const char *c = strstr(t, "src/auth/token.c:8-14 verify_token (fn)");
    cr_assert(md && c && c < md, "%s", t);
    /* path= narrows; semantic is an alias; dense is served as bm25 with a note */
    t = OK("ctx_search", "{\"action\":\"semantic\",\"query\":\"verify_token\",\"path\":\"py\"}");
    cr_assert(strncmp(t, "0 results for 'verify_token' (bm25 over ", 40) == 0, "%s", t);
    t = OK("ctx_search", "{\"action\":\"bm25\",\"query\":\"area\",\"mode\":\"dense\"}");
    cr_assert(strncmp(t, "[note: mode 'dense' needs embeddings", 36) == 0, "%s", t);
}

Test(ixtools, find_related)
{
    up_with(NULL);
    const char *t =
        OK("ctx_search", "{\"action\":\"find_related\",\"file_path\":\"src/auth/token.c\","
                         "\"line\":9}");
    cr_assert_not_null(strstr(t, " related to src/auth/token.c:9 ∈verify_token:\n"), "%s", t);
    cr_assert_not_null(strstr(t, "\n  src/auth/token.h  imports"), "%s", t);
    cr_assert_not_null(strstr(t, "\n  src/auth/token.c:3-6  calls"), "%s", t);
    cr_assert_not_null(strstr(t, "\n  src/app/main.c:3-6  called-by"), "%s", t);
    cr_assert_not_null(strstr(t, "  similar "), "%s", t);
    t = OK("ctx_search", "{\"action\":\"find_related\",\"file_path\":\"src/auth/token.h\"}");
    cr_assert_not_null(strstr(t, "\n  src/app/main.c  imported-by"), "%s", t);
    FAILS("ctx_search", "{\"action\":\"find_related\",\"file_path\":\"nope.c\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
}

/* ---- index-style tools ---- */

Test(ixtools, search_symbols_ranking)
{
    up_with(NULL);
    const char *t = OK("search_symbols", "{\"query\":\"parse\",\"detail_level\":\"compact\"}");
    json_error_t e;
    json_t *doc = json_loads(t, 0, &e);
    cr_assert(doc, "not JSON: %s", t);
    cr_assert(json_equal(doc, structured_content(last)), "text and structuredContent differ");
    json_t *res = json_object_get(doc, "results");
    cr_assert_geq(json_array_size(res), 4, "%s", t);
    /* exact, then prefix, then contains; parseUser (TypeScript) is a prefix match too and
       sorts after py/ by path when TypeScript symbols are extracted */
    char order[1024] = "";
    for (size_t i = 0; i < json_array_size(res); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(res, i), "id"));
        if (strstr(id, "parse")) {
            strcat(order, id);
            strcat(order, " ");
        }
    }
    const char *with_ts = "py/cli.py::parse#function py/cli.py::parse_args#function "
                          "web/api.ts::parseUser#function py/cli.py::do_parse#function ";
    const char *without = "py/cli.py::parse#function py/cli.py::parse_args#function "
                          "py/cli.py::do_parse#function ";
    cr_assert(strcmp(order, with_ts) == 0 || strcmp(order, without) == 0, "ranking: %s", order);
    cr_assert_null(json_object_get(json_array_get(res, 0), "signature"),
                   "compact has no signature");
    json_decref(doc);

    t = OK("search_symbols", "{\"query\":\"parse\",\"kind\":\"class\"}");
    cr_assert_not_null(strstr(t, "\"result_count\":0"), "%s", t);
    t = OK("search_symbols", "{\"query\":\"area\",\"language\":\"python\",\"max_results\":1}");
    cr_assert_not_null(strstr(t, "\"id\":\"py/shapes.py::Circle.area#method\""), "%s", t);
    cr_assert_not_null(strstr(t, "\"result_count\":1"), "%s", t);
}

Test(ixtools, get_symbol_source_and_outline)
{
    up_with(NULL);
    const char *t = OK("get_symbol_source", "{\"symbol_id\":\"py/shapes.py::Circle.area#method\"}");
    json_error_t e;
    json_t *doc = json_loads(t, 0, &e);
    cr_assert(doc, "not JSON: %s", t);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "source")),
                     "    def area(self):\n        return math.pi * self.r * self.r\n");
    cr_assert_eq(json_integer_value(json_object_get(doc, "line")), 8);
    cr_assert_eq(strlen(json_string_value(json_object_get(doc, "content_hash"))), 64);
    json_decref(doc);
    /* by handle, with context and verification */
    t = OK("get_symbol_source", "{\"symbol_id\":\"src/auth/token.c#check_sig@L3\","
                                "\"context_lines\":1,\"verify\":true}");
    doc = json_loads(t, 0, &e);
    cr_assert(doc, "not JSON: %s", t);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "source")),
                     "\nstatic int check_sig(const char *t)\n{\n    return t[0] == 'x';\n}\n\n");
    cr_assert(json_is_true(json_object_get(doc, "verified")), "%s", t);
    json_decref(doc);
    /* a batch with one bad id */
    t = OK("get_symbol_source",
           "{\"symbol_ids\":[\"py/cli.py::parse#function\",\"py/cli.py::nope#function\"]}");
    doc = json_loads(t, 0, &e);
    cr_assert_eq(json_array_size(json_object_get(doc, "symbols")), 1, "%s", t);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "errors"), 0), "id")),
        "py/cli.py::nope#function");
    json_decref(doc);
    FAILS("get_symbol_source", "{\"symbol_id\":\"py/cli.py::nope#function\"}");
    cr_assert_str_eq(tool_error_code(last), "no_such_symbol");

    t = OK("get_file_outline", "{\"file_path\":\"py/shapes.py\"}");
    cr_assert_str_eq(
        t, "{\"repo\":\"main\",\"file\":\"py/shapes.py\",\"language\":\"python\",\"symbols\":["
           "{\"id\":\"py/shapes.py::Circle#class\",\"name\":\"Circle\",\"kind\":\"class\","
           "\"signature\":\"class Circle:\",\"line\":4,\"end_line\":9,\"parent\":null},"
           "{\"id\":\"py/shapes.py::Circle.__init__#method\",\"name\":\"__init__\",\"kind\":"
           "\"method\",\"signature\":\"def __init__(self, r):\",\"line\":5,\"end_line\":6,"
           "\"parent\":\"py/shapes.py::Circle#class\"},"
           "{\"id\":\"py/shapes.py::Circle.area#method\",\"name\":\"area\",\"kind\":\"method\","
           "\"signature\":\"def area(self):\",\"line\":8,\"end_line\":9,\"parent\":"
           "\"py/shapes.py::Circle#class\"},"
           "{\"id\":\"py/shapes.py::total_area#function\",\"name\":\"total_area\",\"kind\":"
           "\"function\",\"signature\":\"def total_area(shapes):\",\"line\":12,\"end_line\":13,"
           "\"parent\":null}]}");
    FAILS("get_file_outline", "{\"file_path\":\"/etc/passwd\"}");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root");
    /* repo names the workspace; an unknown one is refused like workspaceId */
    resp *r = call_tool(&S, S.token, "get_file_outline",
                        "{\"file_path\":\"py/shapes.py\",\"repo\":\"elsewhere\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);
}

/* ---- ctx_index and scopes ---- */

Test(ixtools, index_status_and_build_scope)
{
    char searcher[80];
    ws_write(&S, "src/a.c", "int a(void) { return 1; }\n");
    srv_config(&S, "");
    cr_assert(srv_token(&S, "searcher", "search", searcher));
    cr_assert(srv_start(&S));
    /* the server may have started its own build already: absent, building or ready */
    resp *r = call_tool(&S, searcher, "ctx_index", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strncmp(result_text(r), "index: ", 7) == 0, "%s", result_text(r));
    resp_free(r);
    /* querying needs no index scope; before a build commits the answer says so */
    r = call_tool(&S, searcher, "ctx_search", "{\"action\":\"symbol\",\"name\":\"a\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    const char *t0 = result_text(r);
    cr_assert((strncmp(t0, "[index: ", 8) == 0 && strstr(t0, "\nno index of workspace 'main'")) ||
                  strncmp(t0, "src/a.c#a@L1  (+ fn, L1-1)\n", 27) == 0,
              "%s", t0);
    resp_free(r);
    /* builds do */
    const char *builds[][2] = {{"ctx_index", "{\"action\":\"build\"}"},
                               {"ctx_index", "{\"action\":\"build-full\"}"},
                               {"ctx_search", "{\"action\":\"reindex\"}"},
                               {"index_folder", "{}"}};
    for (size_t i = 0; i < 4; i++) {
        r = call_tool(&S, searcher, builds[i][0], builds[i][1]);
        expect_error(r, 403, "scope_denied");
        const char *www = resp_header(r, "WWW-Authenticate");
        cr_assert(www && strstr(www, "index"), "%s %s: %s", builds[i][0], builds[i][1],
                  www ? www : "(none)");
        resp_free(r);
    }
    /* wait=false answers at once with the job (started, or joined when one runs) */
    r = call_tool(&S, S.token, "ctx_index", "{\"action\":\"build\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strncmp(result_text(r), "index build started for main (job ", 34) == 0 ||
                  strncmp(result_text(r), "index build already running for main (job ", 42) == 0,
              "%s", result_text(r));
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strncmp(result_text(r), "index built: ", 13) == 0, "%s", result_text(r));
    resp_free(r);
    r = call_tool(&S, searcher, "ctx_index", "{\"action\":\"status\"}");
    const char *t = result_text(r);
    cr_assert(strncmp(t, "index: ready\nfiles ", 19) == 0, "%s", t);
    cr_assert_not_null(strstr(t, "\ncommit "), "%s", t);
    resp_free(r);
    r = call_tool(&S, S.token, "index_folder", "{\"path\":\"src\",\"wait\":true}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *doc = json_loads(result_text(r), 0, NULL);
    cr_assert(doc, "%s", result_text(r));
    cr_assert(json_is_true(json_object_get(doc, "success")));
    cr_assert_str_eq(json_string_value(json_object_get(doc, "folder")), "src");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "status")), "built");
    json_decref(doc);
    resp_free(r);
    r = call_tool(&S, S.token, "index_folder", "{\"path\":\"../x\"}");
    cr_assert(result_is_error(r), "%s", r->body);
    cr_assert_str_eq(tool_error_code(r), "path_outside_root");
    resp_free(r);
}

/* ---- bad inputs ---- */

Test(ixtools, bad_inputs)
{
    up_with(NULL);
    resp *r = call_tool(&S, S.token, "ctx_search",
                        "{\"action\":\"symbol\",\"name\":\"x\",\"kind\":\"widget\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_outline", "{\"path\":\"src\",\"kind\":\"widget\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    char *big = malloc(3000 + 100);
    strcpy(big, "{\"action\":\"bm25\",\"query\":\"");
    size_t n = strlen(big);
    memset(big + n, 'a', 2100);
    strcpy(big + n + 2100, "\"}");
    r = call_tool(&S, S.token, "ctx_search", big);
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    free(big);
    r = call_tool(&S, S.token, "ctx_search", "{\"action\":\"symbol\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_search", "{\"action\":\"bm25\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    FAILS("ctx_search", "{\"action\":\"bm25\",\"query\":\"x\",\"path\":\"../..\"}");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root");
    FAILS("ctx_search", "{\"action\":\"symbol\",\"name\":\"area\",\"file\":\"/etc/passwd\"}");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root");
    FAILS("ctx_search", "{\"action\":\"bm25\",\"query\":\"x\",\"include\":\"[\"}");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    /* FTS syntax in a query is data, not syntax */
    const char *t = OK("ctx_search", "{\"action\":\"bm25\",\"query\":\"\\\"area OR NEAR(x* ^\"}");
    cr_assert(strstr(t, "results for"), "%s", t);
}

/* ---- deprecated aliases ---- */

Test(ixtools, aliases)
{
    up_with(NULL);
    resp *r = req(&S, "GET", "/v1/tools", S.token, NULL, NULL);
    cr_assert_eq(r->status, 200);
    const char *hidden[] = {"ctx_semantic_search", "ctx_symbol", "ctx_multi_read",
                            "ctx_smart_read"};
    for (size_t i = 0; i < 4; i++) {
        char q[64];
        snprintf(q, sizeof q, "\"%s\"", hidden[i]);
        cr_assert_null(strstr(r->body, q), "%s is listed", hidden[i]);
    }
    cr_assert_not_null(strstr(r->body, "\"ctx_outline\""));
    resp_free(r);

    const char *t = OK("ctx_symbol", "{\"name\":\"total_area\"}");
    cr_assert_str_eq(t, "[deprecated: ctx_symbol → use ctx_search action=symbol]\n"
                        "py/shapes.py#total_area@L12  (+ fn, L12-13)\n"
                        "File: py/shapes.py (13 lines, 51 tokens)\n"
                        "\n"
                        "  12|def total_area(shapes):\n"
                        "  13|    return sum(s.area() for s in shapes)");
    t = OK("ctx_semantic_search", "{\"query\":\"area circle\",\"languages\":[\"python\"]}");
    cr_assert(strncmp(t, "[deprecated: ctx_semantic_search → use ctx_search action=bm25]\n", 65) ==
                  0,
              "%s", t);
    cr_assert_null(strstr(t, "src/auth"), "languages=python keeps C out: %s", t);
    t = OK("ctx_smart_read", "{\"path\":\"src/auth/token.h\"}");
    cr_assert(strncmp(t,
                      "[deprecated: ctx_smart_read → use ctx_read mode=auto]\n"
                      "src/auth/token.h 1L sha:",
                      78) == 0,
              "%s", t);
    t = OK("ctx_multi_read", "{\"paths\":[\"src/auth/token.h\",\"py/cli.py\"],\"mode\":\"full\"}");
    cr_assert(strncmp(t, "[deprecated: ctx_multi_read → use ctx_read paths=[…]]\n", 56) == 0, "%s",
              t);
    /* a failing target call still starts with the line */
    t = FAILS("ctx_symbol", "{\"name\":\"nothing_here\"}");
    cr_assert(strncmp(t, "[deprecated: ctx_symbol → use ctx_search action=symbol]\nERROR: ", 62) ==
                  0,
              "%s", t);
    r = call_tool(&S, S.token, "ctx_symbol", "{}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);

    /* audited under the name that was called */
    json_t *lines = audit_wait(&S, 8, 3000);
    size_t i;
    json_t *l;
    int seen = 0;
    json_array_foreach (lines, i, l) {
        const char *tool = json_string_value(json_object_get(l, "tool"));
        seen += tool && strcmp(tool, "ctx_symbol") == 0;
    }
    json_decref(lines);
    cr_assert_eq(seen, 3, "ctx_symbol audit lines: %d", seen);
}

/* ---- output caps: documents stay whole, structuredContent stays bounded ---- */

Test(ixtools, output_caps)
{
    up_cfg("big", "\"maxOutputBytes\": 8192");
    resp_free(last);
    last = call_tool(&S, S.token, "ctx_outline", "{\"path\":\"gen\"}");
    cr_assert_eq(last->status, 200, "%s", last->body);
    const char *t = result_text(last);
    cr_assert_not_null(strstr(t, "\n[truncated: "), "%s", t);
    cr_assert(json_is_true(json_object_get(structured_content(last), "truncated")));
    cr_assert_lt(strlen(last->body), 4 * 8192, "response of %zu bytes", strlen(last->body));

    /* a JSON document loses trailing items, never its end */
    t = OK("ctx_outline", "{\"path\":\"gen/many.c\",\"format\":\"json\"}");
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert(doc, "cut mid-document: ...%s", t + (strlen(t) > 80 ? strlen(t) - 80 : 0));
    cr_assert(json_is_true(json_object_get(doc, "truncated")));
    size_t kept = json_array_size(json_object_get(doc, "symbols"));
    cr_assert(kept > 10 && kept < 401, "%zu symbols kept", kept);
    json_decref(doc);

    /* a symbol longer than the cap: its source is cut at a line end, the document is whole */
    t = OK("get_symbol_source", "{\"symbol_id\":\"gen/many.c::long_one#function\"}");
    doc = json_loads(t, 0, NULL);
    cr_assert(doc, "cut mid-document: %.200s", t);
    cr_assert(json_is_true(json_object_get(doc, "truncated")));
    const char *src = json_string_value(json_object_get(doc, "source"));
    cr_assert(strncmp(src, "int long_one(void)\n{\n", 21) == 0, "%.100s", src);
    cr_assert_eq(src[strlen(src) - 1], '\n');
    json_decref(doc);

    /* search_symbols with full detail drops whole results to fit */
    t = OK("search_symbols", "{\"query\":\"fn_\",\"max_results\":100,\"detail_level\":\"full\"}");
    doc = json_loads(t, 0, NULL);
    cr_assert(doc, "cut mid-document: %.200s", t);
    cr_assert_leq(strlen(t), 8192);
    json_decref(doc);
}

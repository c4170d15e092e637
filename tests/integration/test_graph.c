/* test_graph.c - the graph tools through HTTP, as an agent sees them: ctx_callgraph, ctx_graph,
 * ctx_impact, ctx_routes, ctx_architecture, ctx_overview, ctx_repomap, ctx_compose, ctx_explore.
 *
 * Each test writes one fixture project into its own workspace, starts the real server and has it
 * build the index (ctx_index action=build wait=true), then compares whole result texts, so a
 * changed line format or a wrong edge fails here. The fixture's graphs are known by
 * construction:
 *   C:    main → helper, serve; serve → helper, leaf; helper → leaf; test_helper → helper.
 *         src/util.h is included by src/main.c, src/net.c, src/util.c, tests/test_util.c;
 *         src/net.h by src/main.c and src/net.c.
 *   Python (py/): app imports models; models ↔ store import each other (the one cycle);
 *         get_user → load_user → get; create_user → save_user → put → load_user. Flask routes.
 *   TypeScript (web/): server imports handlers imports db; listItems/addItem → query. Express
 *         routes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "toolsuite.h"

TestSuite(graph, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 60);

#define HINT "↳ re-target any symbol: ctx_search(action=\"symbol\", handle=\"path#name@Lstart\")\n"

static void write_fixture(void)
{
    ws_write(&S, "src/main.c",
             "#include \"util.h\"\n#include \"net.h\"\n\nint main(void)\n{\n"
             "    int x = helper(1);\n    serve(x);\n    return 0;\n}\n");
    ws_write(&S, "src/util.h", "int helper(int a);\nint leaf(int b);\n");
    ws_write(&S, "src/util.c",
             "#include \"util.h\"\n\nint leaf(int b)\n{\n    return b * 2;\n}\n\n"
             "int helper(int a)\n{\n    return leaf(a) + 1;\n}\n");
    ws_write(&S, "src/net.h", "void serve(int port);\n");
    ws_write(&S, "src/net.c",
             "#include \"net.h\"\n#include \"util.h\"\n\nvoid serve(int port)\n{\n"
             "    helper(port);\n    leaf(port);\n}\n");
    ws_write(&S, "tests/test_util.c",
             "#include \"../src/util.h\"\n\nint test_helper(void)\n{\n"
             "    return helper(2) == 5;\n}\n");
    ws_write(&S, "py/app.py",
             "from flask import Flask\nfrom .models import load_user, save_user\n\n"
             "app = Flask(__name__)\n\n\n"
             "@app.route(\"/users/<uid>\", methods=[\"GET\", \"DELETE\"])\ndef get_user(uid):\n"
             "    return load_user(uid)\n\n\n@app.post(\"/users\")\ndef create_user():\n"
             "    return save_user({})\n");
    ws_write(&S, "py/models.py",
             "from .store import put, get\n\n\ndef load_user(uid):\n    return get(uid)\n\n\n"
             "def save_user(u):\n    return put(u)\n");
    ws_write(&S, "py/store.py",
             "from .models import load_user\n\nDATA = {}\n\n\ndef get(k):\n"
             "    return DATA.get(k)\n\n\ndef put(v):\n    DATA[len(DATA)] = v\n"
             "    return load_user(0)\n");
    ws_write(
        &S, "web/server.ts",
        "import express from \"express\";\nimport { listItems, addItem } from \"./handlers\";\n\n"
        "const app = express();\napp.get(\"/api/items\", listItems);\n"
        "app.post(\"/api/items\", addItem);\napp.listen(3000);\n");
    ws_write(&S, "web/handlers.ts",
             "import { query } from \"./db\";\n\nexport function listItems(req: any, res: any) {\n"
             "  res.json(query(\"select\"));\n}\n\nexport function addItem(req: any, res: any) {\n"
             "  res.json(query(\"insert\"));\n}\n");
    ws_write(&S, "web/db.ts",
             "export function query(sql: string): string[] {\n  return [sql];\n}\n");
}

static void up(void)
{
    write_fixture();
    srv_up(&S, "");
    index_build_wait(&S);
}

/* ---- ctx_callgraph ---- */

Test(graph, callers_and_callees)
{
    up();
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"helper\"}"),
                     "3 caller(s) of 'helper':\n"
                     "  src/main.c → main  (L6)\n"
                     "  src/net.c → serve  (L6)\n"
                     "  tests/test_util.c → test_helper  (L5)\n" HINT);
    json_t *e0 = json_array_get(json_object_get(structured_content(last), "edges"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(e0, "caller")), "main");
    cr_assert_str_eq(json_string_value(json_object_get(e0, "callerFile")), "src/main.c");
    cr_assert_eq(json_integer_value(json_object_get(e0, "line")), 6);
    cr_assert_str_eq(json_string_value(json_object_get(e0, "calleeFile")), "src/util.c");
    /* the prototype in util.h is not a second definition: callers resolve to util.c's helper */
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"leaf\",\"depth\":2}"),
                     "6 caller(s) of 'leaf' (depth≤2):\n"
                     "  serve ← leaf  (src/net.c:L7)\n"
                     "    main ← serve  (src/main.c:L7)\n"
                     "  helper ← leaf  (src/util.c:L10)\n"
                     "    main ← helper  (src/main.c:L6)\n"
                     "    serve ← helper  (src/net.c:L6)\n"
                     "    test_helper ← helper  (tests/test_util.c:L5)\n" HINT);
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"leaf\",\"file\":\"net\"}"),
                     "1 caller(s) of 'leaf':\n  src/net.c → serve  (L7)\n" HINT);
    cr_assert_str_eq(OK("ctx_callgraph", "{\"action\":\"callees\",\"symbol\":\"main\"}"),
                     "2 callee(s) of 'main':\n"
                     "  → helper  (src/main.c:L6)\n"
                     "  → serve  (src/main.c:L7)\n" HINT);
    cr_assert_str_eq(
        OK("ctx_callgraph", "{\"action\":\"callees\",\"symbol\":\"main\",\"depth\":2}"),
        "5 callee(s) of 'main' (depth≤2):\n"
        "  main → helper  (src/main.c:L6)\n"
        "    helper → leaf  (src/util.c:L10)\n"
        "  main → serve  (src/main.c:L7)\n"
        "    serve → helper  (src/net.c:L6)\n"
        "    serve → leaf  (src/net.c:L7)\n" HINT);
    /* across languages: the TypeScript and Python call edges */
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"web/db.ts::query\"}"),
                     "2 caller(s) of 'web/db.ts::query':\n"
                     "  web/handlers.ts → listItems  (L4)\n"
                     "  web/handlers.ts → addItem  (L8)\n" HINT);
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"load_user\",\"depth\":2}"),
                     "3 caller(s) of 'load_user' (depth≤2):\n"
                     "  get_user ← load_user  (py/app.py:L9)\n"
                     "  put ← load_user  (py/store.py:L12)\n"
                     "    save_user ← put  (py/models.py:L9)\n" HINT);
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"main\"}"),
                     "No callers found for 'main' (24 edges in graph)\n");
    cr_assert_str_eq(
        OK("ctx_callgraph", "{\"action\":\"callees\",\"symbol\":\"leaf\",\"depth\":3}"),
        "No callees found for 'leaf' (depth≤3, 24 edges in graph)\n");
    FAILS("ctx_callgraph", "{\"symbol\":\"no_such_function\"}");
    cr_assert_str_eq(tool_error_code(last), "no_such_symbol");
}

/* the incremental check: change one file, re-index, only that file is parsed, and the
 * callers and callees reflect the change */
Test(graph, incremental_change_updates_callers_and_callees)
{
    up();
    /* serve now calls leaf twice and no longer helper; a new function in net.c calls helper */
    ws_write(&S, "src/net.c",
             "#include \"net.h\"\n#include \"util.h\"\n\nvoid serve(int port)\n{\n"
             "    leaf(port);\n    leaf(port + 1);\n}\n\nint probe(void)\n{\n"
             "    return helper(7);\n}\n");
    resp *r = call_tool(&S, S.token, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "(1 parsed, "), "only net.c is parsed: %s", result_text(r));
    resp_free(r);
    cr_assert_str_eq(OK("ctx_callgraph", "{\"symbol\":\"helper\"}"),
                     "3 caller(s) of 'helper':\n"
                     "  src/main.c → main  (L6)\n"
                     "  src/net.c → probe  (L12)\n"
                     "  tests/test_util.c → test_helper  (L5)\n" HINT);
    cr_assert_str_eq(OK("ctx_callgraph", "{\"action\":\"callees\",\"symbol\":\"serve\"}"),
                     "2 callee(s) of 'serve':\n"
                     "  → leaf  (src/net.c:L6)\n"
                     "  → leaf  (src/net.c:L7)\n" HINT);
}

Test(graph, trace_and_risk)
{
    up();
    cr_assert_str_eq(
        OK("ctx_callgraph", "{\"action\":\"trace\",\"from\":\"main\",\"to\":\"leaf\"}"),
        "Call path (2 hop(s)):\n"
        "  main  (src/main.c:L4)\n"
        "  → helper  (src/main.c:L6)\n"
        "  → leaf  (src/util.c:L10)\n" HINT);
    cr_assert_eq(json_array_size(json_object_get(structured_content(last), "edges")), 2);
    cr_assert_str_eq(
        OK("ctx_callgraph", "{\"action\":\"trace\",\"from\":\"leaf\",\"to\":\"main\"}"),
        "No call path found from 'leaf' to 'main' (searched up to depth 10)\n");
    cr_assert_str_eq(OK("ctx_callgraph", "{\"action\":\"risk\",\"symbol\":\"leaf\"}"),
                     "Risk: MEDIUM — 4 transitive caller(s) of 'leaf' (depth≤5, 2 direct)\n"
                     "Thresholds: CRITICAL >10 | HIGH 5–10 | MEDIUM 2–4 | LOW 0–1\n");
    cr_assert_str_eq(OK("ctx_callgraph", "{\"action\":\"risk\",\"symbol\":\"main\"}"),
                     "Risk: LOW — 0 transitive caller(s) of 'main' (depth≤5, 0 direct)\n"
                     "Thresholds: CRITICAL >10 | HIGH 5–10 | MEDIUM 2–4 | LOW 0–1\n");
    /* trace without to: the argument is named, 400 on REST */
    resp *r = call_tool(&S, S.token, "ctx_callgraph", "{\"action\":\"trace\",\"from\":\"main\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "to"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_callgraph", "{\"depth\":6,\"symbol\":\"main\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
}

/* ---- ctx_graph ---- */

Test(graph, file_graph_actions)
{
    up();
    cr_assert_str_eq(OK("ctx_graph", "{\"action\":\"impact\",\"path\":\"web/db.ts\"}"),
                     "2 files depend on web/db.ts (depth≤5):\n"
                     "  [1] web/handlers.ts\n"
                     "  [2] web/server.ts\n");
    cr_assert_str_eq(OK("ctx_graph", "{\"action\":\"impact\",\"path\":\"web/db.ts\",\"depth\":1}"),
                     "1 files depend on web/db.ts (depth≤1):\n  [1] web/handlers.ts\n");
    cr_assert_str_eq(OK("ctx_graph", "{\"action\":\"neighbors\",\"path\":\"src/net.c\"}"),
                     "imports (2):\n  src/net.h\n  src/util.h\nimported by (0):\n");
    cr_assert_str_eq(
        OK("ctx_graph", "{\"action\":\"neighbors\",\"path\":\"src/util.h\",\"direction\":\"in\"}"),
        "imported by (4):\n  src/main.c\n  src/net.c\n  src/util.c\n  tests/test_util.c\n");
    cr_assert_str_eq(
        OK("ctx_graph", "{\"action\":\"path\",\"path\":\"web/server.ts\",\"to\":\"web/db.ts\"}"),
        "Import path (2 hop(s)):\n  web/server.ts\n  → web/handlers.ts\n  → web/db.ts\n");
    cr_assert_str_eq(
        OK("ctx_graph", "{\"action\":\"path\",\"path\":\"web/db.ts\",\"to\":\"web/server.ts\"}"),
        "No import path from 'web/db.ts' to 'web/server.ts' (searched up to depth 10)\n");
    cr_assert_str_eq(OK("ctx_graph", "{\"action\":\"related\",\"path\":\"web/handlers.ts\"}"),
                     "2 files related to web/handlers.ts:\n"
                     "  web/db.ts  (imports)\n"
                     "  web/server.ts  (imported-by)\n");
    cr_assert_str_eq(OK("ctx_graph", "{\"action\":\"diagram\",\"path\":\"web/handlers.ts\"}"),
                     "```mermaid\ngraph LR\n"
                     "  n0[\"web/handlers.ts\"]\n"
                     "  n1[\"web/db.ts\"]\n"
                     "  n2[\"web/server.ts\"]\n"
                     "  n0 --> n1\n"
                     "  n2 --> n0\n"
                     "```\n");
    cr_assert_str_eq(
        OK("ctx_graph", "{\"action\":\"diagram\",\"kind\":\"calls\",\"path\":\"src/main.c\"}"),
        "```mermaid\ngraph LR\n"
        "  s0[\"src/main.c#main\"]\n"
        "  s1[\"src/util.c#helper\"]\n"
        "  s2[\"src/net.c#serve\"]\n"
        "  s3[\"src/util.c#leaf\"]\n"
        "  s0 --> s1\n"
        "  s0 --> s2\n"
        "  s1 --> s3\n"
        "  s2 --> s1\n"
        "  s2 --> s3\n"
        "```\n");
    const char *t = OK("ctx_graph", "{\"action\":\"explain\",\"path\":\"src/util.c\"}");
    cr_assert_str_eq(t, "src/util.c: c, 11 lines, 2 symbols\n"
                        "top symbols: leaf (fn), helper (fn)\n"
                        "imports 1 files, imported by 0 files\n"
                        "top callers from other files:\n"
                        "  src/net.c  (2 call sites)\n"
                        "  src/main.c  (1 call sites)\n"
                        "  tests/test_util.c  (1 call sites)\n"
                        "tests importing it: none\n");
    t = OK("ctx_graph", "{\"action\":\"symbol\",\"path\":\"src/util.c::helper\"}");
    cr_assert_str_eq(t,
                     "src/util.c#helper@L8  (+ fn, L8-11)\n"
                     "File: src/util.c (11 lines, 26 tokens)\n\n"
                     "   8|int helper(int a)\n   9|{\n  10|    return leaf(a) + 1;\n  11|}\n" HINT);
    t = OK("ctx_graph", "{\"action\":\"status\"}");
    cr_assert(strncmp(t, "graph: ready; 13 files, ", 24) == 0, "%s", t);
    /* format=json: the document is the text and the structuredContent */
    t = OK("ctx_graph",
           "{\"action\":\"neighbors\",\"path\":\"web/handlers.ts\",\"format\":\"json\"}");
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert(doc, "%s", t);
    cr_assert(json_equal(doc, structured_content(last)), "%s", t);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "imports"), 0)),
                     "web/db.ts");
    json_decref(doc);
}

Test(graph, errors)
{
    up();
    FAILS("ctx_graph", "{\"action\":\"impact\",\"path\":\"src/nope.c\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
    FAILS("ctx_graph", "{\"action\":\"neighbors\",\"path\":\"../etc/passwd\"}");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root");
    FAILS("ctx_graph", "{\"action\":\"symbol\",\"path\":\"src/util.c::nothing_here\"}");
    cr_assert_str_eq(tool_error_code(last), "no_such_symbol");
    FAILS("ctx_impact", "{\"path\":\"/etc/passwd\"}");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root");
    resp *r = call_tool(&S, S.token, "ctx_graph", "{\"action\":\"impact\"}");
    expect_error(r, 400, "invalid_arguments");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "path"), "%s", r->body);
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_graph", "{\"action\":\"teleport\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_graph", "{\"action\":\"diff\",\"since\":\"--output=/tmp/x\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    /* no git repository: a tool error, not a crash */
    FAILS("ctx_graph", "{\"action\":\"diff\"}");
    cr_assert_str_eq(tool_error_code(last), "git_error");
}

/* ---- ctx_impact ---- */

Test(graph, impact_analyze_chain)
{
    up();
    cr_assert_str_eq(OK("ctx_impact", "{\"path\":\"src/util.h\"}"),
                     "Impact of src/util.h: 4 dependent files (depth≤5), 1 tests\n"
                     "  [1] src/main.c\n  [1] src/net.c\n  [1] src/util.c\n"
                     "  [1] tests/test_util.c\ntests:\n  tests/test_util.c\n");
    json_t *sc = structured_content(last);
    cr_assert_eq(json_integer_value(json_object_get(sc, "count")), 4);
    cr_assert_str_eq(OK("ctx_impact", "{\"path\":\"web/db.ts\",\"depth\":1}"),
                     "Impact of web/db.ts: 1 dependent files (depth≤1), 0 tests\n"
                     "  [1] web/handlers.ts\n");
    cr_assert_str_eq(OK("ctx_impact", "{\"action\":\"chain\",\"path\":\"py/app.py\","
                                      "\"to\":\"py/store.py\"}"),
                     "Import path (2 hop(s)):\n  py/app.py\n  → py/models.py\n  → py/store.py\n");
    const char *t = OK("ctx_impact", "{\"action\":\"status\"}");
    cr_assert(strncmp(t, "graph: ready; ", 14) == 0, "%s", t);
}

Test(graph, diff_from_git)
{
    write_fixture();
    cr_assert_eq(ws_sh(&S,
                       "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t "
                       "GIT_COMMITTER_EMAIL=t@e GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent; "
                       "git init -q -b main && git add -A && git commit -qm one && "
                       "printf '#include \"net.h\"\\n\\nvoid serve(int port)\\n{\\n"
                       "    (void)port;\\n}\\n' > src/net.c && "
                       "printf 'int extra(void)\\n{\\n    return leaf(1);\\n}\\n' > src/extra.c && "
                       "git add -A && git commit -qm two"),
                 0);
    srv_config(&S, "");
    cr_assert(srv_start(&S));
    index_build_wait(&S);
    /* net.c dropped its include of util.h and both calls; extra.c is new with one call */
    const char *t = OK("ctx_graph", "{\"action\":\"diff\"}");
    cr_assert(strncmp(t,
                      "graph diff HEAD~1..HEAD: +1 −0 files, +0 −1 import edges, +1 −2 call "
                      "edges\nfiles:\n  + src/extra.c\nimport edges:\n  − src/net.c → util.h\n"
                      "call edges:\n  + src/extra.c: extra → leaf\n  − src/net.c: serve → helper\n"
                      "  − src/net.c: serve → leaf\n",
                      strlen("graph diff HEAD~1..HEAD: +1 −0 files, +0 −1 import edges, +1 −2 call "
                             "edges\nfiles:\n  + src/extra.c\nimport edges:\n  − src/net.c → "
                             "util.h\ncall edges:\n  + src/extra.c: extra → leaf\n  − src/net.c: "
                             "serve → helper\n  − src/net.c: serve → leaf\n")) == 0,
              "%s", t);
    t = OK("ctx_impact", "{\"action\":\"diff\",\"base\":\"HEAD~1\"}");
    cr_assert_str_eq(t, "2 changed file(s) HEAD~1..HEAD (2 indexed):\n  src/extra.c\n  src/net.c\n"
                        "Impact of 2 changed file(s): 0 dependent files (depth≤5), 0 tests\n");
    FAILS("ctx_impact", "{\"action\":\"diff\",\"base\":\"no-such-branch\"}");
    cr_assert_str_eq(tool_error_code(last), "git_error");
    /* enrich: net.c and extra.c change together a second time, so they are co-change partners */
    cr_assert_eq(ws_sh(&S, "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t "
                           "GIT_COMMITTER_EMAIL=t@e GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent; "
                           "echo '/* a */' >> src/net.c && echo '/* b */' >> src/extra.c && "
                           "git add -A && git commit -qm three"),
                 0);
    t = OK("ctx_graph", "{\"action\":\"enrich\"}");
    cr_assert(strstr(t, "\nco-change edges: 1 file pairs changed together in 2+ of the last 500 "
                        "commits (shown by action=related as co-changed)\n"),
              "%s", t);
    t = OK("ctx_graph", "{\"action\":\"related\",\"path\":\"src/extra.c\"}");
    cr_assert(
        strstr(t, "\n  src/util.c  (calls)\n  src/net.c  (co-changed)\n  src/main.c  (same-dir)\n"),
        "%s", t);
}

/* ---- ctx_routes ---- */

Test(graph, routes_express_flask)
{
    up();
    const char *t = OK("ctx_routes", "{}");
    cr_assert(strncmp(t, "5 route(s):\n", 12) == 0, "%s", t);
    cr_assert(strstr(t, "     GET /users/<uid> → get_user (py/app.py:L"), "%s", t);
    cr_assert(strstr(t, "  DELETE /users/<uid> → get_user (py/app.py:L"), "%s", t);
    cr_assert(strstr(t, "    POST /users → create_user (py/app.py:L"), "%s", t);
    cr_assert(strstr(t, "     GET /api/items → listItems (web/server.ts:L5)\n"), "%s", t);
    cr_assert(strstr(t, "    POST /api/items → addItem (web/server.ts:L6)\n"), "%s", t);
    json_t *routes = json_object_get(structured_content(last), "routes");
    cr_assert_eq(json_array_size(routes), 5);
    t = OK("ctx_routes", "{\"method\":\"post\",\"path\":\"/api\"}");
    cr_assert_str_eq(t, "1 route(s):\n    POST /api/items → addItem (web/server.ts:L6)\n");
    t = OK("ctx_routes", "{\"method\":\"PUT\"}");
    cr_assert_str_eq(t, "No routes matching 'PUT' (5 total routes found)\n");
}

Test(graph, routes_none)
{
    ws_write(&S, "lib/a.c", "int a(void) { return 1; }\n");
    srv_config(&S, "");
    cr_assert(srv_start(&S));
    index_build_wait(&S);
    /* README.md, src/main.c, src/util.c from the harness, lib/a.c */
    cr_assert_str_eq(OK("ctx_routes", "{}"), "No HTTP routes found in project (4 files scanned)\n");
}

/* ---- ctx_architecture ---- */

Test(graph, architecture)
{
    up();
    cr_assert_str_eq(OK("ctx_architecture", "{\"action\":\"cycles\"}"),
                     "1 import cycle(s):\n  py/models.py → py/store.py → py/models.py\n");
    cr_assert_str_eq(OK("ctx_architecture", "{}"),
                     "architecture: 5 modules (depth 1), 13 files, 11 import edges (1 between "
                     "modules)\n"
                     "  ./  1 files, 0 symbols\n"
                     "  py/  3 files, 8 symbols\n"
                     "  src/  5 files, 7 symbols\n"
                     "  tests/  1 files, 1 symbols; imports → src/ (1)\n"
                     "  web/  3 files, 4 symbols\n");
    cr_assert_str_eq(OK("ctx_architecture", "{\"action\":\"layers\"}"),
                     "2 layers (L0 = foundation: imports no other module):\n"
                     "  L0: ./ py/ src/ web/\n  L1: tests/\nviolations (0):\n");
    const char *t = OK("ctx_architecture", "{\"action\":\"clusters\"}");
    cr_assert(strstr(t, " py/app.py py/models.py py/store.py\n"), "%s", t);
    cr_assert(strstr(t, " web/db.ts web/handlers.ts web/server.ts\n"), "%s", t);
    t = OK("ctx_architecture", "{\"action\":\"entrypoints\"}");
    cr_assert(strstr(t, "  src/main.c  (main, no importers)\n"), "%s", t);
    t = OK("ctx_architecture", "{\"action\":\"health\"}");
    cr_assert(strncmp(t, "health: 1 import cycles, 0 layer violations, ", 45) == 0, "%s", t);
    t = OK("ctx_architecture", "{\"action\":\"module\",\"path\":\"web\"}");
    cr_assert_str_eq(t, "module web: 3 files\n"
                        "  web/db.ts  (3 lines, 1 symbols)\n"
                        "  web/handlers.ts  (9 lines, 2 symbols)\n"
                        "  web/server.ts  (7 lines, 1 symbols)\n"
                        "imports →\nimported by ←\n");
    t = OK("ctx_architecture", "{\"action\":\"cycles\",\"format\":\"json\"}");
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert(doc, "%s", t);
    cr_assert_eq(json_integer_value(json_object_get(doc, "count")), 1);
    json_decref(doc);
}

/* ---- ctx_overview, ctx_repomap ---- */

Test(graph, overview_repomap_rank_the_hub)
{
    up();
    /* src/util.h is included by four files: the hub of src/ */
    const char *t = OK("ctx_overview", "{\"path\":\"src\"}");
    cr_assert(strstr(t, "\n[core]\n  src/util.h — 2 symbols: helper, leaf\n"), "%s", t);
    cr_assert(strncmp(t, "main: 13 files, ", 16) == 0, "%s", t);
    cr_assert(strstr(t, "[directories]\n  src/  5 files: util.h "), "%s", t);
    char *first = strdup(t);
    cr_assert_str_eq(OK("ctx_overview", "{\"path\":\"src\"}"), first, "not deterministic");
    free(first);
    /* a task moves the files that match it to the top */
    t = OK("ctx_overview", "{\"task\":\"query sql items\"}");
    cr_assert(strstr(t, "task: 'query sql items'\n[relevant]\n  web/"), "%s", t);
    json_t *files = json_object_get(structured_content(last), "files");
    cr_assert(json_array_size(files) >= 2);
    cr_assert(strncmp(json_string_value(json_object_get(json_array_get(files, 0), "path")), "web/",
                      4) == 0);
    t = OK("ctx_repomap", "{\"path\":\"src\"}");
    cr_assert(strncmp(t,
                      "repomap: 2048 tok, 5 of 5 files (PageRank)\nsrc/util.h:\n"
                      "  fn pub helper(int a) → int @L1\n",
                      strlen("repomap: 2048 tok, 5 of 5 files (PageRank)\nsrc/util.h:\n"
                             "  fn pub helper(int a) → int @L1\n")) == 0,
              "%s", t);
    /* a small budget stops before it is exceeded */
    t = OK("ctx_repomap", "{\"max_tokens\":100}");
    cr_assert(strlen(t) <= 400, "%zu bytes: %s", strlen(t), t);
    cr_assert(strncmp(t, "repomap: 100 tok, ", 18) == 0, "%s", t);
    /* focus files move to the top */
    t = OK("ctx_repomap", "{\"focus_files\":[\"web/*.ts\"],\"max_tokens\":300}");
    cr_assert(strstr(t, "(PageRank)\nweb/"), "%s", t);
    FAILS("ctx_repomap", "{\"focus_files\":[\"{a,b\"]}");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    FAILS("ctx_overview", "{\"path\":\"src/util.c\"}");
    cr_assert_str_eq(tool_error_code(last), "not_a_directory");
    FAILS("ctx_overview", "{\"path\":\"nope\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
}

/* ---- ctx_compose, ctx_explore ---- */

Test(graph, compose_and_explore_cite_the_definition)
{
    up();
    const char *t = OK("ctx_compose", "{\"task\":\"query sql\"}");
    cr_assert(strncmp(t, "compose: 'query sql' → ", 24) == 0, "%s", t);
    cr_assert(strstr(t, "## web/db.ts  (score "), "%s", t);
    cr_assert(strstr(t, "web/db.ts#query@L1  (fn, L1-3)\n"
                        "   1| export function query(sql: string): string[] {\n"
                        "   2|   return [sql];\n   3| }\n"),
              "%s", t);
    /* one hop along the call graph brings in the callers */
    cr_assert(strstr(t, "## web/handlers.ts  (score "), "%s", t);
    t = OK("ctx_compose", "{\"task\":\"query sql\",\"max_files\":1}");
    cr_assert(strncmp(t, "compose: 'query sql' → 1 files (bm25 + graph)\n## web/db.ts", 55) == 0,
              "%s", t);
    t = OK("ctx_explore", "{\"query\":\"load user\"}");
    cr_assert(strncmp(t, "EXPLORE: load user\nkeywords: load, user\nturn 1: bm25 seeds → ", 60) ==
                  0,
              "%s", t);
    cr_assert(strstr(t, "<final_answer>\n"), "%s", t);
    cr_assert(strstr(t, "py/models.py:4-5  load_user (fn)\n"), "%s", t);
    cr_assert(strstr(t, "</final_answer>\n"), "%s", t);
    t = OK("ctx_explore", "{\"query\":\"load user\",\"citation\":true}");
    cr_assert(strncmp(t, "<final_answer>\n", 15) == 0, "%s", t);
    resp *r = call_tool(&S, S.token, "ctx_compose", "{}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
}

/* ---- scopes ---- */

Test(graph, scopes)
{
    write_fixture();
    srv_config(&S, "");
    char grapher[80], searcher[80];
    cr_assert(srv_token(&S, "grapher", "graph", grapher));
    cr_assert(srv_token(&S, "searcher", "search", searcher));
    cr_assert(srv_start(&S));
    index_build_wait(&S);
    /* build/enrich/update need index as well: REST 403 naming it */
    const char *calls[][2] = {{"ctx_graph", "{\"action\":\"build\"}"},
                              {"ctx_graph", "{\"action\":\"enrich\"}"},
                              {"ctx_impact", "{\"action\":\"build\"}"},
                              {"ctx_impact", "{\"action\":\"update\"}"}};
    for (size_t i = 0; i < 4; i++) {
        resp *r = call_tool(&S, grapher, calls[i][0], calls[i][1]);
        expect_error(r, 403, "scope_denied");
        const char *www = resp_header(r, "WWW-Authenticate");
        cr_assert(www && strstr(www, "index"), "%s", www ? www : "(none)");
        resp_free(r);
    }
    /* the queries need graph only */
    resp *r = call_tool(&S, grapher, "ctx_callgraph", "{\"symbol\":\"helper\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(!result_is_error(r));
    resp_free(r);
    r = call_tool(&S, searcher, "ctx_graph", "{\"action\":\"status\"}");
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    /* overview/repomap/compose/explore are search tools */
    r = call_tool(&S, searcher, "ctx_overview", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_graph", "{\"action\":\"build\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strncmp(result_text(r), "index build ", 12) == 0, "%s", result_text(r));
    resp_free(r);
    /* MCP (stateless era): an action the token lacks is a tool error naming the scope */
    const char *h[] = {"Accept: application/json, text/event-stream", "Mcp-Method: tools/call",
                       "Mcp-Name: ctx_graph", "MCP-Protocol-Version: 2026-07-28", NULL};
    r = req(&S, "POST", "/mcp", grapher, h,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"ctx_graph\",\"arguments\":{\"action\":\"build\"},\"_meta\":{"
            "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
            "\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *res = json_object_get(r->json, "result");
    cr_assert(json_is_true(json_object_get(res, "isError")), "%s", r->body);
    cr_assert(strstr(r->body, "index"), "%s", r->body);
    resp_free(r);
}

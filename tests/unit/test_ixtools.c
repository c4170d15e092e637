/* test_ixtools.c - the renderings the index-backed tools share (src/tools/ixtools.c): the
 * signature line of tools.md §2.1 in each of its shapes, handles and ids (§1.8), the kind maps,
 * source-line trimming (§1.5) and the line index; and the alias rewrites of §6 (alias.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "tools/alias.h"
#include "tools/ixtools.h"

static buf b;

static void setup(void)
{
    buf_init(&b, 1 << 20);
}

static void teardown(void)
{
    buf_release(&b);
}

TestSuite(ixtools_unit, .init = setup, .fini = teardown);

static const char *sig(const ix_sym *s, int indent)
{
    buf_truncate(&b, 0);
    ixt_sig_line(&b, s, indent);
    return b.ptr ? b.ptr : "";
}

Test(ixtools_unit, signature_lines)
{
    ix_sym fn = {.path = "src/a.c",
                 .name = "parse",
                 .qname = "parse",
                 .kind = "fn",
                 .params = "(const char *s, size_t n)",
                 .ret = "int",
                 .start_line = 10,
                 .end_line = 20,
                 .exported = true};
    cr_assert_str_eq(sig(&fn, 0), "fn pub parse(const char *s, size_t n) → int @L10-20");
    fn.exported = false;
    fn.ret = NULL;
    fn.end_line = 10;
    cr_assert_str_eq(sig(&fn, 2), "    fn parse(const char *s, size_t n) @L10");

    ix_sym m = {.path = "a.py",
                .name = "run",
                .qname = "Job.run",
                .kind = "method",
                .params = NULL,
                .start_line = 3,
                .end_line = 9,
                .is_async = true,
                .exported = true};
    cr_assert_str_eq(sig(&m, 1), "  fn async pub run() @L3-9");

    ix_sym c = {.path = "a.ts",
                .name = "MAX",
                .qname = "MAX",
                .kind = "const",
                .ret = "number",
                .start_line = 1,
                .end_line = 1,
                .exported = true};
    cr_assert_str_eq(sig(&c, 0), "const pub MAX:number @L1");
    ix_sym k = {.path = "a.rs",
                .name = "Store",
                .qname = "Store",
                .kind = "struct",
                .start_line = 4,
                .end_line = 12};
    cr_assert_str_eq(sig(&k, 0), "struct Store @L4-12");

    /* params past 120 code points are cut with … */
    char params[300] = "(";
    for (int i = 0; i < 40; i++) {
        strcat(params, "int a, ");
    }
    strcat(params, "int z)");
    fn.params = params;
    const char *l = sig(&fn, 0);
    cr_assert(strncmp(l, "fn parse(int a, ", 16) == 0, "%s", l);
    cr_assert_not_null(strstr(l, "… @L10"), "%s", l);
    cr_assert_eq(strlen(l), strlen("fn parse") + 120 + strlen("…") + strlen(" @L10"), "%s", l);
}

Test(ixtools_unit, handles_ids_kinds)
{
    ix_sym s = {.path = "src/auth/token.c",
                .name = "verify",
                .qname = "Auth.verify",
                .kind = "method",
                .start_line = 40,
                .end_line = 88};
    ixt_handle(&b, &s);
    cr_assert_str_eq(b.ptr, "src/auth/token.c#verify@L40");
    buf_truncate(&b, 0);
    ixt_id(&b, &s);
    cr_assert_str_eq(b.ptr, "src/auth/token.c::Auth.verify#method");
    cr_assert_str_eq(ixt_kind_jcm("fn"), "function");
    cr_assert_str_eq(ixt_kind_jcm("struct"), "class");
    cr_assert_str_eq(ixt_kind_jcm("enumerator"), "constant");
    cr_assert_str_eq(ixt_kind_filter("union"), "struct");
    cr_assert(ixt_kind_is("union", "struct"));
    cr_assert(ixt_kind_is("union", "all"));
    cr_assert(ixt_kind_is("fn", NULL));
    cr_assert_not(ixt_kind_is("fn", "method"));
}

Test(ixtools_unit, source_lines_and_line_index)
{
    ixt_put_source(&b, "  x = 1;   \r\n", 13);
    cr_assert_str_eq(b.ptr, "  x = 1;");
    buf_truncate(&b, 0);
    char lng[400];
    memset(lng, 'a', 300);
    lng[300] = 0;
    ixt_put_source(&b, lng, 300);
    cr_assert_eq(b.len, 150 + strlen("…"));
    buf_truncate(&b, 0);
    ixt_put_source(&b, "ok \xff\n", 5); /* invalid UTF-8 repaired */
    cr_assert_str_eq(b.ptr, "ok \xef\xbf\xbd");

    arena a;
    arena_init(&a, 0);
    size_t *st = NULL;
    cr_assert_eq(ixt_line_index(&a, "a\nbb\nccc", 8, &st), 3);
    cr_assert_eq(st[0], 0);
    cr_assert_eq(st[1], 2);
    cr_assert_eq(st[2], 5);
    cr_assert_eq(st[3], 8);
    cr_assert_eq(ixt_line_index(&a, "a\nb\n", 4, &st), 2); /* a final newline adds no line */
    cr_assert_eq(st[2], 4);
    cr_assert_eq(ixt_line_index(&a, "", 0, &st), 0);
    arena_release(&a);
}

static const char *rewritten_to; /* the target tool of the last rewrite */

static json_t *rewrite(const char *alias, const char *args, char *shown, bool *ok)
{
    const tool_alias *al = alias_find(alias);
    cr_assert_not_null(al, "%s", alias);
    json_t *j = json_loads(args, 0, NULL);
    char why[200] = "";
    rewritten_to = al->target;
    *ok = al->rewrite(j, &rewritten_to, shown, 96, why, sizeof why);
    return j;
}

Test(ixtools_unit, alias_rewrites)
{
    char shown[96];
    bool ok;
    cr_assert_null(alias_find("ctx_read"));
    cr_assert_null(alias_find("ctx_shell"));
    json_t *j = rewrite("ctx_semantic_search", "{\"query\":\"q\",\"languages\":[\"python\",\"c\"]}",
                        shown, &ok);
    cr_assert(ok);
    cr_assert_str_eq(shown, "ctx_search action=bm25");
    cr_assert_str_eq(json_string_value(json_object_get(j, "action")), "bm25");
    cr_assert_str_eq(json_string_value(json_object_get(j, "include")), "*.{py,pyi},*.{c,h}");
    cr_assert_null(json_object_get(j, "languages"));
    json_decref(j);
    j = rewrite("ctx_semantic_search",
                "{\"query\":\"q\",\"action\":\"reindex\",\"path_glob\":"
                "\"src/**\"}",
                shown, &ok);
    cr_assert(ok);
    cr_assert_str_eq(shown, "ctx_search action=reindex");
    cr_assert_str_eq(json_string_value(json_object_get(j, "include")), "src/**");
    json_decref(j);
    j = rewrite("ctx_semantic_search", "{\"query\":\"q\",\"action\":\"delete\"}", shown, &ok);
    cr_assert_not(ok);
    json_decref(j);
    /* artifacts=true searches the artifact index instead (ARTIFACTS) */
    j = rewrite("ctx_semantic_search",
                "{\"query\":\"adr\",\"artifacts\":true,\"top_k\":3,\"path\":\"src\"}", shown, &ok);
    cr_assert(ok);
    cr_assert_str_eq(rewritten_to, "ctx_artifacts");
    cr_assert_str_eq(shown, "ctx_artifacts action=search");
    cr_assert_str_eq(json_string_value(json_object_get(j, "action")), "search");
    cr_assert_str_eq(json_string_value(json_object_get(j, "query")), "adr");
    cr_assert_eq(json_integer_value(json_object_get(j, "top_k")), 3);
    cr_assert_null(json_object_get(j, "path"));
    json_decref(j);
    j = rewrite("ctx_semantic_search", "{\"query\":\"q\",\"artifacts\":false}", shown, &ok);
    cr_assert(ok);
    cr_assert_str_eq(rewritten_to, "ctx_search");
    cr_assert_null(json_object_get(j, "artifacts"));
    json_decref(j);
    j = rewrite("ctx_semantic_search", "{\"query\":\"q\",\"artifacts\":\"yes\"}", shown, &ok);
    cr_assert_not(ok);
    json_decref(j);
    j = rewrite("ctx_semantic_search", "{\"query\":\"q\",\"languages\":[\"no such\"]}", shown, &ok);
    cr_assert_not(ok);
    json_decref(j);
    j = rewrite("ctx_symbol", "{\"name\":\"f\",\"kind\":\"fn\"}", shown, &ok);
    cr_assert(ok);
    cr_assert_str_eq(json_string_value(json_object_get(j, "action")), "symbol");
    json_decref(j);
    j = rewrite("ctx_smart_read", "{\"path\":\"a.c\",\"mode\":\"full\"}", shown, &ok);
    cr_assert(ok);
    cr_assert_str_eq(json_string_value(json_object_get(j, "mode")), "auto");
    cr_assert_str_eq(shown, "ctx_read mode=auto");
    json_decref(j);
}

/* test_read.c - ctx_read's mode grammar and anchors (src/tools/readspec.c, tools.md §2.1): every
 * accepted spelling and what it means, the malformed ones (invalid_arguments), the 50-segment
 * cap, sorting and merging of multi-select segments, and the worked anchor values. Then the
 * compressed modes (src/tools/readmodes.c) on small fixtures with exact expected output, the
 * line diff (linediff.c) and the read ledger (ledger.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tools/read.h"

static read_spec spec;

static void ok(const char *mode)
{
    cr_assert(read_parse_mode(mode, &spec), "'%s' must parse", mode);
}

static void seg(int i, int64_t start, int64_t end)
{
    cr_assert_lt(i, spec.nsegs);
    cr_assert_eq(spec.segs[i].start, start, "segment %d start", i);
    cr_assert_eq(spec.segs[i].end, end, "segment %d end", i);
}

Test(read_mode, plain_keywords)
{
    const struct {
        const char *m;
        read_kind k;
    } cases[] = {{"auto", READ_AUTO},
                 {"full", READ_FULL},
                 {"raw", READ_RAW},
                 {"reference", READ_REFERENCE},
                 {"anchored", READ_ANCHORED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ok(cases[i].m);
        cr_assert_eq(spec.kind, cases[i].k, "%s", cases[i].m);
        cr_assert_not(spec.windowed);
        cr_assert_str_eq(spec.note, "");
    }
}

Test(read_mode, line_windows)
{
    ok("lines:72-92");
    cr_assert_eq(spec.kind, READ_LINES);
    cr_assert(spec.windowed);
    cr_assert_eq(spec.nsegs, 1);
    seg(0, 72, 92);
    cr_assert_str_eq(spec.spec, "72-92");
    ok("lines:5-5");
    seg(0, 5, 5);
    ok("lines:7");
    cr_assert_eq(spec.nsegs, 1);
    seg(0, 7, INT64_MAX); /* alone, N means N to the end */
    ok("anchored:3-9");
    cr_assert_eq(spec.kind, READ_ANCHORED);
    cr_assert(spec.windowed);
    seg(0, 3, 9);
    ok("anchored:4");
    seg(0, 4, INT64_MAX);
}

Test(read_mode, multi_select_sorts_and_merges)
{
    ok("lines:5,10-20");
    cr_assert_eq(spec.nsegs, 2);
    seg(0, 5, 5); /* in a list, N is one line */
    seg(1, 10, 20);
    cr_assert_str_eq(spec.spec, "5,10-20", "the header repeats the spec as given");
    ok("lines:30-40,1-2,10");
    cr_assert_eq(spec.nsegs, 3);
    seg(0, 1, 2);
    seg(1, 10, 10);
    seg(2, 30, 40);
    ok("lines:1-3,2-6");
    cr_assert_eq(spec.nsegs, 1, "overlapping segments merge");
    seg(0, 1, 6);
    ok("lines:1-2,3-4");
    cr_assert_eq(spec.nsegs, 1, "adjacent segments merge");
    seg(0, 1, 4);
    ok("lines:1-10,2-3");
    cr_assert_eq(spec.nsegs, 1, "a contained segment disappears");
    seg(0, 1, 10);
    ok("lines:4,4,4");
    cr_assert_eq(spec.nsegs, 1);
    seg(0, 4, 4);
    ok("lines:1-2,5");
    seg(1, 5, 5);
}

Test(read_mode, malformed_spellings_are_refused)
{
    const char *bad[] = {"lines:44:48", "lines:",       "lines:0",
                         "lines:0-3",   "lines:5-2",    "lines:1-",
                         "lines:-3",    "lines:,1",     "lines:1,",
                         "lines:1,,2",  "lines:a",      "lines:1-b",
                         "lines: 1",    "lines:1 ",     "lines:1-2-3",
                         "lines:1;2",   "lines:+1",     "lines:99999999999999999",
                         "anchored:",   "anchored:1,2", "anchored:2-1",
                         "anchored:x",  "foo:bar",      "Lines:1-2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(read_parse_mode(bad[i], &spec), "'%s' must be refused", bad[i]);
    }
}

Test(read_mode, at_most_50_segments)
{
    char m[1024] = "lines:";
    for (int i = 0; i < 50; i++) {
        char s[16];
        snprintf(s, sizeof s, "%s%d", i ? "," : "", 1 + 2 * i);
        strcat(m, s);
    }
    ok(m);
    cr_assert_eq(spec.nsegs, 50, "50 separate lines stay 50 segments");
    seg(49, 99, 99);
    strcat(m, ",200");
    cr_assert_not(read_parse_mode(m, &spec), "51 segments are refused");
    /* the cap counts what was written, before merging */
    char adj[1024] = "lines:";
    for (int i = 0; i < 51; i++) {
        char s[16];
        snprintf(s, sizeof s, "%s%d", i ? "," : "", i + 1);
        strcat(adj, s);
    }
    cr_assert_not(read_parse_mode(adj, &spec));
}

Test(read_mode, compressed_modes_and_lean_ctx_spellings)
{
    const struct {
        const char *m;
        read_kind k;
    } own[] = {{"signatures", READ_SIGNATURES},
               {"map", READ_MAP},
               {"aggressive", READ_AGGRESSIVE},
               {"entropy", READ_ENTROPY},
               {"diff", READ_DIFF}};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        ok(own[i].m);
        cr_assert_eq(spec.kind, own[i].k, "%s", own[i].m);
        cr_assert_str_eq(spec.note, "", "%s is served as itself, without a note", own[i].m);
        cr_assert_str_eq(read_kind_name(spec.kind), own[i].m);
    }
    const struct {
        const char *m;
        read_kind k;
        const char *note;
    } lean[] = {
        {"full-compact", READ_AGGRESSIVE,
         "[note: mode 'full-compact' is not offered; served as 'aggressive']"},
        {"cognitive", READ_MAP, "[note: mode 'cognitive' is not offered; served as 'map']"},
        {"mdl", READ_MAP, "[note: mode 'mdl' is not offered; served as 'map']"},
        {"task", READ_ENTROPY, "[note: mode 'task' is not offered; served as 'entropy']"},
    };
    for (size_t i = 0; i < sizeof lean / sizeof lean[0]; i++) {
        ok(lean[i].m);
        cr_assert_eq(spec.kind, lean[i].k, "%s", lean[i].m);
        cr_assert_str_eq(spec.note, lean[i].note);
        cr_assert_not(spec.has_aggressiveness);
    }
    ok("density:0.30");
    cr_assert_eq(spec.kind, READ_ENTROPY);
    cr_assert(spec.has_aggressiveness);
    cr_assert_float_eq(spec.aggressiveness, 0.70, 1e-9, "aggressiveness = 1 - density");
    cr_assert_str_eq(spec.note, "[note: mode 'density:0.30' is not offered; served as 'entropy']");
    ok("density:1");
    cr_assert_float_eq(spec.aggressiveness, 0.0, 1e-9);
    const char *bad[] = {"density:",     "density:1.5", "density:-0.1", "density:x",
                         "density:0.3x", "density:nan", "density:inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(read_parse_mode(bad[i], &spec), "'%s' must be refused", bad[i]);
    }
    ok("bogus");
    cr_assert_eq(spec.kind, READ_FULL);
    cr_assert_str_eq(spec.note, "[WARNING: unknown mode 'bogus', falling back to full]");
    cr_assert(read_kind_lossy(READ_SIGNATURES) && read_kind_lossy(READ_MAP) &&
              read_kind_lossy(READ_AGGRESSIVE) && read_kind_lossy(READ_ENTROPY));
    cr_assert_not(read_kind_lossy(READ_DIFF) || read_kind_lossy(READ_FULL) ||
                  read_kind_lossy(READ_LINES));
}

static const char *anchor(const char *line)
{
    static char a[5];
    read_anchor(line, strlen(line), a);
    return a;
}

Test(read_anchor, worked_values)
{
    /* tools.md §2.1 */
    cr_assert_str_eq(anchor("int main(void) {"), "65db");
    cr_assert_str_eq(anchor("    return 0;"), "f291");
    cr_assert_str_eq(anchor("    return 0;   "), "f291", "trailing spaces do not count");
    cr_assert_str_eq(anchor("}"), "d10b");
    cr_assert_str_eq(anchor(""), "e3b0");
    /* every trailing blank of the rule: space, tab, CR, VT, FF */
    cr_assert_str_eq(anchor("}\r"), "d10b", "a CRLF line has the anchor of its LF twin");
    cr_assert_str_eq(anchor("} \t\r\v\f"), "d10b");
    cr_assert_str_eq(anchor(" \t "), "e3b0");
    /* leading whitespace counts */
    cr_assert_str_neq(anchor(" }"), "d10b");
    /* only n bytes are hashed */
    char a[5];
    read_anchor("}xyz", 1, a);
    cr_assert_str_eq(a, "d10b");
}

/* ---- the compressed modes (readmodes.c), rendered directly ---------------------------------- */

#include "core/arena.h"
#include "core/utf8.h"
#include "tools/ledger.h"
#include "tools/linediff.h"
#include "tools/readmodes.h"

static arena A;
static tool_call C;
static buf OUT;

static void render_init(void)
{
    arena_init(&A, 0);
    memset(&C, 0, sizeof C);
    C.a = &A;
    buf_init(&OUT, 0);
}

static void render_fini(void)
{
    buf_release(&OUT);
    arena_release(&A);
}

/* the rendering of text as file rel in mode k (aggressiveness 0.5 unless aggr >= 0) */
static const char *render_p(read_kind k, const char *rel, const char *text, double aggr,
                            const char *const *protect, size_t nprotect)
{
    buf_truncate(&OUT, 0);
    size_t n = strlen(text);
    int64_t lines = 0;
    for (size_t i = 0; i < n; i++) {
        lines += text[i] == '\n';
    }
    lines += n && text[n - 1] != '\n';
    rm_src f = {.rel = rel,
                .data = text,
                .len = n,
                .nlines = lines,
                .aggressiveness = aggr >= 0 ? aggr : 0.5,
                .protect = protect,
                .nprotect = nprotect};
    bool ok = false, use_full = false;
    switch (k) {
    case READ_SIGNATURES: ok = rm_signatures(&C, &f, &OUT); break;
    case READ_MAP: ok = rm_map(&C, &f, &OUT); break;
    case READ_AGGRESSIVE:
        ok = rm_aggressive(&C, &f, &OUT, &use_full);
        if (use_full) {
            return "<full>";
        }
        break;
    case READ_ENTROPY: ok = rm_entropy(&C, &f, &OUT); break;
    default: break;
    }
    cr_assert(ok, "rendering %s failed", rel);
    return OUT.ptr ? OUT.ptr : "";
}

static const char *render(read_kind k, const char *rel, const char *text)
{
    return render_p(k, rel, text, -1, NULL, 0);
}

TestSuite(read_render, .init = render_init, .fini = render_fini);

static const char c_fixture[] = "#include <stdio.h>\n"
                                "#include \"util.h\"\n"
                                "\n"
                                "/* add two numbers */\n"
                                "static int add(int a, int b)\n"
                                "{\n"
                                "    return a + b; // sum\n"
                                "}\n"
                                "\n"
                                "struct point {\n"
                                "    int x, y;\n"
                                "};\n"
                                "\n"
                                "int main(int argc, char **argv)\n"
                                "{\n"
                                "    const char *s = \"// not a comment /* nor this */\";\n"
                                "    printf(\"%s %d\\n\", s, add(1, 2));\n"
                                "    return 0;\n"
                                "}\n";

static const char py_fixture[] = "import os\n"
                                 "from typing import List\n"
                                 "\n"
                                 "MAX = 10\n"
                                 "\n"
                                 "class Greeter:\n"
                                 "    \"\"\"Says hello.\n"
                                 "\n"
                                 "    # not a comment: inside the docstring\n"
                                 "    \"\"\"\n"
                                 "    def greet(self, name: str) -> str:\n"
                                 "        # a comment\n"
                                 "        return \"hi # not comment \" + name  # trailing\n"
                                 "\n"
                                 "    def _hidden(self):\n"
                                 "        pass\n"
                                 "\n"
                                 "async def main(args: List[str]) -> int:\n"
                                 "    g = Greeter()\n"
                                 "    print(g.greet('x'))\n"
                                 "    return 0\n";

static const char ts_fixture[] =
    "import { readFile } from \"fs\";\n"
    "import * as path from './path';\n"
    "\n"
    "export interface Options {\n"
    "  verbose: boolean;\n"
    "}\n"
    "\n"
    "export class Loader {\n"
    "  constructor(private root: string) {}\n"
    "  async load(name: string): Promise<string> {\n"
    "    return readFile(path.join(this.root, name), 'utf8'); // read\n"
    "  }\n"
    "}\n"
    "\n"
    "function helper(x: number): number {\n"
    "  /* block\n"
    "     comment */ return x * 2;\n"
    "}\n"
    "\n"
    "export const VERSION: string = \"1.0\";\n";

static const char sh_fixture[] = "#!/bin/sh\n"
                                 "# configure\n"
                                 "name=\"a # b\"   # trailing\n"
                                 "echo 'it''s # here' $# ${#name}\n"
                                 "\n"
                                 "   # indented comment\n"
                                 "exit 0\n";

static const char md_fixture[] = "# Title\n"
                                 "\n"
                                 "Intro text.\n"
                                 "\n"
                                 "## Install ##\n"
                                 "\n"
                                 "```sh\n"
                                 "# not a heading\n"
                                 "```\n"
                                 "\n"
                                 "Usage\n"
                                 "-----\n"
                                 "\n"
                                 "   ### Deep\n"
                                 "#hashtag\n"
                                 "Other\n"
                                 "=====\n";

static const char json_fixture[] =
    "{\n"
    "  \"name\": \"ctxd\",\n"
    "  \"version\": 3,\n"
    "  \"private\": true,\n"
    "  \"license\": null,\n"
    "  \"scripts\": {\"build\": \"meson\", \"test\": \"ninja test\"},\n"
    "  \"files\": [\"a\", \"b\", \"c\"],\n"
    "  \"nested\": {\"deep\": {\"x\": 1}, \"list\": [1, 2]}\n"
    "}\n";

static const char yaml_fixture[] = "# config\n"
                                   "name: ctxd\n"
                                   "port: 8080\n"
                                   "debug: false\n"
                                   "tags: [a, b, c]\n"
                                   "server:\n"
                                   "  host: \"127.0.0.1\"\n"
                                   "  limits:\n"
                                   "    rps: 5\n"
                                   "  paths:\n"
                                   "    - /a\n"
                                   "    - /b\n"
                                   "items:\n"
                                   "- one\n"
                                   "- two\n"
                                   "script: |\n"
                                   "  echo hi\n"
                                   "  key: not a key\n"
                                   "empty:\n";

static const char toml_fixture[] = "title = \"demo\"\n"
                                   "count = 3\n"
                                   "ratio = 0.5\n"
                                   "when = 2024-01-01T00:00:00Z\n"
                                   "list = [\n"
                                   "  1,\n"
                                   "  2,\n"
                                   "]\n"
                                   "\n"
                                   "[package]\n"
                                   "name = \"x\"\n"
                                   "edition = \"2021\"\n"
                                   "\n"
                                   "[dependencies]\n"
                                   "serde = { version = \"1\", features = [\"derive\"] }\n"
                                   "\n"
                                   "[dependencies.tokio]\n"
                                   "version = \"1\"\n"
                                   "\n"
                                   "[[bin]]\n"
                                   "name = \"a\"\n"
                                   "[[bin]]\n"
                                   "name = \"b\"\n";

static const char cargo_lock[] = "# This file is automatically @generated by Cargo.\n"
                                 "version = 3\n"
                                 "\n"
                                 "[[package]]\n"
                                 "name = \"anyhow\"\n"
                                 "version = \"1.0.75\"\n"
                                 "\n"
                                 "[[package]]\n"
                                 "name = \"serde\"\n"
                                 "version = \"1.0.188\"\n"
                                 "dependencies = [\n"
                                 " \"serde_derive\",\n"
                                 "]\n";

static const char yarn_lock[] = "# yarn lockfile v1\n"
                                "\n"
                                "\"@babel/core@^7.0.0\", \"@babel/core@^7.1.0\":\n"
                                "  version \"7.1.0\"\n"
                                "\n"
                                "lodash@^4.17.0:\n"
                                "  version \"4.17.21\"\n";

static const char go_sum[] = "github.com/a/b v1.0.0 h1:xx=\n"
                             "github.com/a/b v1.0.0/go.mod h1:yy=\n"
                             "golang.org/x/text v0.3.0 h1:zz=\n"
                             "golang.org/x/text v0.3.0/go.mod h1:ww=\n";

#define HINTS(rel)                                                                                 \
    "  ↳ expand a symbol: ctx_read(\"" rel "\", mode=\"lines:N-M\") using the spans above\n"       \
    "↳ re-target any symbol: ctx_search(action=\"symbol\", handle=\"path#name@Lstart\")\n"

Test(read_render, signatures_c)
{
    cr_assert_str_eq(render(READ_SIGNATURES, "src/util.c", c_fixture),
                     "src/util.c 19L\n"
                     " deps stdio.h,util.h\n"
                     "fn add(int a, int b) → int @L5-8\n"
                     "struct pub point @L10-12\n"
                     "fn pub main(int argc, char **argv) → int @L14-19\n" HINTS("src/util.c"));
}

/* a forward declaration of a function defined in the same file is not listed a second time (the
 * definition's line has it), one with no definition here is; a void return shows no `→ void` */
Test(read_render, signatures_c_forward_declarations_and_void)
{
    static const char src[] = "static void later(int x);\n"
                              "extern int elsewhere(void);\n"
                              "void *buf_of(int n);\n"
                              "static void later(int x)\n"
                              "{\n"
                              "    (void)x;\n"
                              "}\n"
                              "void *buf_of(int n) { return 0; }\n";
    cr_assert_str_eq(render(READ_SIGNATURES, "fwd.c", src),
                     "fwd.c 8L\n"
                     "fn pub elsewhere(void) → int @L2\n"
                     "fn later(int x) @L4-7\n"
                     "fn pub buf_of(int n) → void * @L8\n" HINTS("fwd.c"));
}

Test(read_render, signatures_python)
{
    cr_assert_str_eq(render(READ_SIGNATURES, "m.py", py_fixture),
                     "m.py 21L\n"
                     " deps os,typing\n"
                     "const pub MAX @L4\n"
                     "class pub Greeter @L6-16\n"
                     "  fn pub greet(self, name: str) → str @L11-13\n"
                     "  fn _hidden(self) @L15-16\n"
                     "fn async pub main(args: List[str]) → int @L18-21\n" HINTS("m.py"));
}

Test(read_render, signatures_typescript)
{
    const char *got = render(READ_SIGNATURES, "src/load.ts", ts_fixture);
    /* the first lines exactly; the const's type annotation is the extractor's business */
    const char *want = "src/load.ts 20L\n"
                       " deps fs,./path\n"
                       "interface pub Options @L4-6\n"
                       "class pub Loader @L8-13\n"
                       "  fn pub constructor(private root: string) @L9\n"
                       "  fn async pub load(name: string) → Promise<string> @L10-12\n"
                       "fn helper(x: number) → number @L15-18\n"
                       "const pub VERSION";
    cr_assert(strncmp(got, want, strlen(want)) == 0, "got:\n%s", got);
    cr_assert(strstr(got, " @L20\n" HINTS("src/load.ts")), "got:\n%s", got);
}

Test(read_render, signatures_lists_every_function)
{
    /* 60 functions, some nested in #if branches, some sharing a name */
    buf src;
    buf_init(&src, 0);
    for (int i = 0; i < 60; i++) {
        if (i % 10 == 0) {
            buf_printf(&src, "#ifdef CONFIG_%d\n", i);
        }
        buf_printf(&src, "static long f%d(int x)\n{\n    return x + %d;\n}\n", i % 50, i);
        if (i % 10 == 9) {
            buf_puts(&src, "#endif\n");
        }
    }
    const char *got = render(READ_SIGNATURES, "gen.c", src.ptr);
    int count = 0;
    for (const char *p = got; (p = strstr(p, "\nfn f")) != NULL; p++) {
        count++;
    }
    cr_assert_eq(count, 60, "every definition gets its line:\n%s", got);
    cr_assert(strstr(got, "\nfn f49(int x) → long @L"), "%s", got);
    buf_release(&src);
}

Test(read_render, no_structure)
{
    cr_assert_str_eq(render(READ_SIGNATURES, "notes.txt", "hello\n"),
                     "notes.txt 1L\n  [no extractable structure for .txt — header only; use "
                     "mode=\"lines:N-M\" or \"full\"]\n");
    cr_assert_str_eq(render(READ_MAP, "empty.c", "\n\n"),
                     "empty.c 2L\n  [no extractable structure for .c — header only; use "
                     "mode=\"lines:N-M\" or \"full\"]\n");
}

Test(read_render, map_code)
{
    cr_assert_str_eq(render(READ_MAP, "src/util.c", c_fixture),
                     "src/util.c 19L\n"
                     "  deps: stdio.h, util.h\n"
                     "  API:\n"
                     "    fn add(int a, int b) → int @L5-8\n"
                     "    struct pub point @L10-12\n"
                     "    fn pub main(int argc, char **argv) → int @L14-19\n");
    cr_assert_str_eq(render(READ_MAP, "m.py", py_fixture),
                     "m.py 21L\n"
                     "  deps: os, typing\n"
                     "  exports: MAX\n"
                     "  API:\n"
                     "    class pub Greeter @L6-16\n"
                     "      fn pub greet(self, name: str) → str @L11-13\n"
                     "    fn async pub main(args: List[str]) → int @L18-21\n");
    cr_assert_str_eq(render(READ_MAP, "src/load.ts", ts_fixture),
                     "src/load.ts 20L\n"
                     "  deps: fs, ./path\n"
                     "  exports: VERSION\n"
                     "  API:\n"
                     "    interface pub Options @L4-6\n"
                     "    class pub Loader @L8-13\n"
                     "      fn pub constructor(private root: string) @L9\n"
                     "      fn async pub load(name: string) → Promise<string> @L10-12\n"
                     "    fn helper(x: number) → number @L15-18\n");
}

Test(read_render, map_markdown_headings)
{
    cr_assert_str_eq(render(READ_MAP, "README.md", md_fixture), "README.md 17L\n"
                                                                "# Title @L1\n"
                                                                "## Install @L5\n"
                                                                "## Usage @L11\n"
                                                                "### Deep @L14\n"
                                                                "# Other @L16\n");
    cr_assert_str_eq(render(READ_MAP, "NOTES.txt", "Overview\n========\nwords\n"),
                     "NOTES.txt 3L\n# Overview @L1\n");
    cr_assert_str_eq(render(READ_MAP, "doc.rst",
                            "=====\nTitle\n=====\n\nPart\n----\n\nSub\n~~~\n"
                            "\nPart two\n--------\n"),
                     "doc.rst 12L\n# Title @L2\n## Part @L5\n### Sub @L8\n## Part two @L11\n");
}

Test(read_render, map_json_keys_with_types)
{
    cr_assert_str_eq(render(READ_MAP, "package.json", json_fixture), "package.json 9L\n"
                                                                     "  name: string\n"
                                                                     "  version: number\n"
                                                                     "  private: boolean\n"
                                                                     "  license: null\n"
                                                                     "  scripts: object{2}\n"
                                                                     "    build: string\n"
                                                                     "    test: string\n"
                                                                     "  files: array[3]\n"
                                                                     "  nested: object{2}\n"
                                                                     "    deep: object{1}\n"
                                                                     "    list: array[2]\n");
    /* comments (tsconfig.json style) do not stop it; broken JSON says so */
    cr_assert_str_eq(render(READ_MAP, "tsconfig.json", "{ // c\n \"a\": [1] /* x */ }\n"),
                     "tsconfig.json 2L\n  a: array[1]\n");
    const char *bad = render(READ_MAP, "bad.json", "{\"a\": }\n");
    cr_assert(strncmp(bad, "bad.json 1L\n  [not valid JSON: ", 28) == 0, "%s", bad);
}

Test(read_render, map_yaml_and_toml)
{
    cr_assert_str_eq(render(READ_MAP, "c.yaml", yaml_fixture), "c.yaml 19L\n"
                                                               "  name: string\n"
                                                               "  port: number\n"
                                                               "  debug: boolean\n"
                                                               "  tags: array[3]\n"
                                                               "  server: object{3}\n"
                                                               "    host: string\n"
                                                               "    limits: object{1}\n"
                                                               "    paths: array[2]\n"
                                                               "  items: array[2]\n"
                                                               "  script: string\n"
                                                               "  empty: null\n");
    cr_assert_str_eq(render(READ_MAP, "Cargo.toml", toml_fixture), "Cargo.toml 23L\n"
                                                                   "  title: string\n"
                                                                   "  count: number\n"
                                                                   "  ratio: number\n"
                                                                   "  when: datetime\n"
                                                                   "  list: array[2]\n"
                                                                   "  package: object{2}\n"
                                                                   "    name: string\n"
                                                                   "    edition: string\n"
                                                                   "  dependencies: object{2}\n"
                                                                   "    serde: object{2}\n"
                                                                   "    tokio: object{1}\n"
                                                                   "  bin: array[2]\n"
                                                                   "    name: string\n");
}

Test(read_render, map_csv_columns)
{
    cr_assert_str_eq(render(READ_MAP, "data.csv", "id,\"név\",größe\n1,a,2\n2,b,3\n\n"),
                     "data.csv 4L\n  columns: id, név, größe\n  rows: 2\n");
    cr_assert_str_eq(render(READ_MAP, "t.tsv", "a\tb\n1\t2\n"),
                     "t.tsv 2L\n  columns: a, b\n  rows: 1\n");
}

Test(read_render, map_lock_files)
{
    cr_assert_str_eq(render(READ_MAP, "Cargo.lock", cargo_lock),
                     "Cargo.lock 13L\n  2 packages: anyhow, serde\n");
    cr_assert_str_eq(render(READ_MAP, "web/yarn.lock", yarn_lock),
                     "web/yarn.lock 7L\n  2 packages: @babel/core, lodash\n");
    cr_assert_str_eq(render(READ_MAP, "go.sum", go_sum),
                     "go.sum 4L\n  2 packages: github.com/a/b, golang.org/x/text\n");
    /* more than 20: the count is exact, the first 20 names are shown */
    buf big;
    buf_init(&big, 0);
    for (int i = 0; i < 25; i++) {
        buf_printf(&big, "[[package]]\nname = \"p%02d\"\nversion = \"1\"\n\n", i);
    }
    const char *got = render(READ_MAP, "Cargo.lock", big.ptr);
    cr_assert(strstr(got, "  25 packages: p00, p01, "), "%s", got);
    cr_assert(strstr(got, ", p19, …\n"), "%s", got);
    cr_assert_null(strstr(got, "p20"), "%s", got);
    buf_release(&big);
}

Test(read_render, aggressive_c_keeps_strings_that_look_like_comments)
{
    cr_assert_str_eq(render(READ_AGGRESSIVE, "src/util.c", c_fixture),
                     "src/util.c 19L aggressive (kept 15 of 19 lines)\n"
                     "#include <stdio.h>\n"
                     "#include \"util.h\"\n"
                     "static int add(int a, int b)\n"
                     "{\n"
                     "    return a + b;\n"
                     "}\n"
                     "struct point {\n"
                     "    int x, y;\n"
                     "};\n"
                     "int main(int argc, char **argv)\n"
                     "{\n"
                     "    const char *s = \"// not a comment /* nor this */\";\n"
                     "    printf(\"%s %d\\n\", s, add(1, 2));\n"
                     "    return 0;\n"
                     "}\n");
    /* a char literal holding a quote does not open a string; a Rust lifetime is no literal */
    const char *got;
    got = render(READ_AGGRESSIVE, "q.rs",
                 "fn f<'a>(x: &'a str) -> char { '\"' } // one\n"
                 "fn g() -> char { '\\'' } // two\n");
    cr_assert_str_eq(got, "q.rs 2L aggressive (kept 2 of 2 lines)\n"
                          "fn f<'a>(x: &'a str) -> char { '\"' }\n"
                          "fn g() -> char { '\\'' }\n");
}

Test(read_render, aggressive_python_and_shell)
{
    cr_assert_str_eq(render(READ_AGGRESSIVE, "m.py", py_fixture),
                     "m.py 21L aggressive (kept 16 of 21 lines)\n"
                     "import os\n"
                     "from typing import List\n"
                     "MAX = 10\n"
                     "class Greeter:\n"
                     "    \"\"\"Says hello.\n"
                     "\n"
                     "    # not a comment: inside the docstring\n"
                     "    \"\"\"\n"
                     "    def greet(self, name: str) -> str:\n"
                     "        return \"hi # not comment \" + name\n"
                     "    def _hidden(self):\n"
                     "        pass\n"
                     "async def main(args: List[str]) -> int:\n"
                     "    g = Greeter()\n"
                     "    print(g.greet('x'))\n"
                     "    return 0\n");
    cr_assert_str_eq(render(READ_AGGRESSIVE, "run.sh", sh_fixture),
                     "run.sh 7L aggressive (kept 4 of 7 lines)\n"
                     "#!/bin/sh\n"
                     "name=\"a # b\"\n"
                     "echo 'it''s # here' $# ${#name}\n"
                     "exit 0\n");
}

Test(read_render, aggressive_json_minified_and_the_5_percent_rule)
{
    cr_assert_str_eq(render(READ_AGGRESSIVE, "package.json", json_fixture),
                     "package.json 9L aggressive (kept 1 of 9 lines)\n"
                     "{\"name\":\"ctxd\",\"version\":3,\"private\":true,\"license\":null,"
                     "\"scripts\":{\"build\":\"meson\",\"test\":\"ninja test\"},\"files\":[\"a\","
                     "\"b\",\"c\"],\"nested\":{\"deep\":{\"x\":1},\"list\":[1,2]}}\n");
    /* a small file that is nearly all comment: full is more useful than 1 line */
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 40; i++) {
        buf_puts(&b, "// commentary commentary commentary commentary\n");
    }
    buf_puts(&b, "int x;\n");
    cr_assert_str_eq(render(READ_AGGRESSIVE, "c.c", b.ptr), "<full>");
    /* the same over 2000 tokens stays aggressive */
    for (int i = 0; i < 200; i++) {
        buf_puts(&b, "// commentary commentary commentary commentary\n");
    }
    cr_assert_str_eq(render(READ_AGGRESSIVE, "c.c", b.ptr),
                     "c.c 241L aggressive (kept 1 of 241 lines)\nint x;\n");
    buf_release(&b);
}

Test(read_render, entropy_drops_low_information_and_duplicates)
{
    cr_assert_str_eq(render(READ_ENTROPY, "src/util.c", c_fixture),
                     "src/util.c 19L entropy H=1.68 (kept 11 of 19 lines)\n"
                     "   1| #include <stdio.h>\n"
                     "   2| #include \"util.h\"\n"
                     "     …\n"
                     "   4| /* add two numbers */\n"
                     "   5| static int add(int a, int b)\n"
                     "     …\n"
                     "   7|     return a + b; // sum\n"
                     "     …\n"
                     "  10| struct point {\n"
                     "  11|     int x, y;\n"
                     "     …\n"
                     "  14| int main(int argc, char **argv)\n"
                     "     …\n"
                     "  16|     const char *s = \"// not a comment /* nor this */\";\n"
                     "  17|     printf(\"%s %d\\n\", s, add(1, 2));\n"
                     "  18|     return 0;\n"
                     "     …\n");
    /* near-duplicates of a kept line go (Jaccard >= 0.7), different lines stay */
    const char *dup = "x = call(alpha, beta, gamma, delta)\n"
                      "x = call(alpha, beta, gamma, delta2)\n"
                      "y = other(one, two)\n";
    cr_assert_str_eq(render(READ_ENTROPY, "d.py", dup),
                     "d.py 3L entropy H=3.13 (kept 2 of 3 lines)\n"
                     "   1| x = call(alpha, beta, gamma, delta)\n"
                     "     …\n"
                     "   3| y = other(one, two)\n");
}

Test(read_render, entropy_threshold_and_protect)
{
    /* `x;` has two equally likely tokens: 1 bit, kept while the threshold 0.5 + aggressiveness
       is not above it, dropped past it */
    const char *src = "int value = compute(a, b);\nx;\n";
    cr_assert_float_eq(rm_line_entropy("x;", 2), 1.0, 1e-9);
    cr_assert_float_eq(rm_line_entropy("}", 1), 0.0, 1e-9);
    cr_assert_float_eq(rm_line_entropy("a b c d", 7), 2.0, 1e-9);
    cr_assert(strstr(render_p(READ_ENTROPY, "t.c", src, 0.0, NULL, 0), "kept 2 of 2"));
    cr_assert(strstr(render_p(READ_ENTROPY, "t.c", src, 0.5, NULL, 0), "kept 2 of 2"));
    cr_assert_str_eq(render_p(READ_ENTROPY, "t.c", src, 0.6, NULL, 0),
                     "t.c 2L entropy H=2.08 (kept 1 of 2 lines)\n"
                     "   1| int value = compute(a, b);\n"
                     "     …\n");
    const char *prot[] = {"x"};
    cr_assert_str_eq(render_p(READ_ENTROPY, "t.c", src, 0.6, prot, 1),
                     "t.c 2L entropy H=2.08 (kept 2 of 2 lines)\n"
                     "   1| int value = compute(a, b);\n"
                     "   2| x;\n");
    /* a protect word matches whole identifiers only */
    const char *prot2[] = {"va"};
    cr_assert(strstr(render_p(READ_ENTROPY, "t.c", src, 0.6, prot2, 1), "kept 1 of 2"));
}

Test(read_render, protect_in_structural_and_aggressive_modes)
{
    const char *prot[] = {"sum"};
    /* the comment line naming `sum` survives aggressive whole */
    const char *got = render_p(READ_AGGRESSIVE, "src/util.c", c_fixture, -1, prot, 1);
    cr_assert(strstr(got, "\n    return a + b; // sum\n"), "%s", got);
    got = render_p(READ_SIGNATURES, "src/util.c", c_fixture, -1, prot, 1);
    cr_assert(strstr(got, "  protect:\n   7|     return a + b; // sum\n"), "%s", got);
}

Test(read_render, auto_choice)
{
    rm_src f = {.rel = "a.c", .data = "int x;\n", .len = 7};
    cr_assert_eq(rm_auto_choice(&f), READ_FULL, "small: full");
    static char big[12000];
    memset(big, 'a', sizeof big - 1);
    f.data = big;
    f.len = 8004; /* 2001 tokens */
    cr_assert_eq(rm_auto_choice(&f), READ_SIGNATURES, "code with a parser");
    f.rel = "x.unknownext";
    cr_assert_eq(rm_auto_choice(&f), READ_AGGRESSIVE, "no parser");
    f.rel = "data.json";
    cr_assert_eq(rm_auto_choice(&f), READ_FULL, "data up to 4000 tokens");
    f.rel = "README.md";
    cr_assert_eq(rm_auto_choice(&f), READ_FULL, "text up to 4000 tokens");
    f.len = 16004; /* 4001 tokens */
    cr_assert_eq(rm_auto_choice(&f), READ_MAP);
    f.rel = "Cargo.lock";
    cr_assert_eq(rm_auto_choice(&f), READ_MAP);
    f.rel = "cfg.yaml";
    cr_assert_eq(rm_auto_choice(&f), READ_MAP);
    f.rel = "src/app.py";
    cr_assert_eq(rm_auto_choice(&f), READ_SIGNATURES);
    f.len = 8000; /* exactly 2000 tokens */
    cr_assert_eq(rm_auto_choice(&f), READ_FULL);
}

/* ---- the line diff (linediff.c) ------------------------------------------------------------- */

TestSuite(read_diff, .init = render_init, .fini = render_fini);

static const char *udiff(const char *a, const char *b, size_t budget, ld_stats *st)
{
    ld_line *la, *lb;
    size_t na = ld_split(&A, a, strlen(a), &la);
    size_t nb = ld_split(&A, b, strlen(b), &lb);
    buf_truncate(&OUT, 0);
    cr_assert(ld_unified(&A, la, na, lb, nb, 3, budget, NULL, &OUT, st));
    return OUT.ptr ? OUT.ptr : "";
}

/* apply a unified diff (as ld_unified writes it) to a; the result in a malloc'd string */
static char *apply(const char *a, const char *diff)
{
    ld_line *la;
    size_t na = ld_split(&A, a, strlen(a), &la);
    buf r;
    buf_init(&r, 0);
    size_t next = 0; /* next old line to copy (0-based) */
    const char *p = diff;
    while (*p) {
        const char *nl = strchr(p, '\n');
        cr_assert(nl, "diff lines end with a newline");
        if (p[0] == '@') {
            unsigned long os, ol, ns, nl2;
            cr_assert_eq(sscanf(p, "@@ -%lu,%lu +%lu,%lu @@", &os, &ol, &ns, &nl2), 4, "%.*s",
                         (int)(nl - p), p);
            size_t start = ol ? os - 1 : os;
            while (next < start) {
                buf_append(&r, la[next].p, la[next].n);
                buf_putc(&r, '\n');
                next++;
            }
        } else if (p[0] == ' ' || p[0] == '-') {
            cr_assert(next < na);
            cr_assert(la[next].n == (size_t)(nl - p - 1) &&
                          memcmp(la[next].p, p + 1, la[next].n) == 0,
                      "context/deletion must match the old line %zu", next + 1);
            if (p[0] == ' ') {
                buf_append(&r, p + 1, (size_t)(nl - p - 1));
                buf_putc(&r, '\n');
            }
            next++;
        } else {
            cr_assert_eq(p[0], '+');
            buf_append(&r, p + 1, (size_t)(nl - p - 1));
            buf_putc(&r, '\n');
        }
        p = nl + 1;
    }
    while (next < na) {
        buf_append(&r, la[next].p, la[next].n);
        buf_putc(&r, '\n');
        next++;
    }
    size_t len;
    char *s = buf_detach(&r, &len);
    return s ? s : strdup("");
}

Test(read_diff, a_real_edit_has_correct_hunks)
{
    const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
    const char *b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n20\nnew\n";
    ld_stats st;
    cr_assert_str_eq(udiff(a, b, 0, &st), "@@ -2,7 +2,7 @@\n"
                                          " 2\n"
                                          " 3\n"
                                          " 4\n"
                                          "-5\n"
                                          "+five\n"
                                          " 6\n"
                                          " 7\n"
                                          " 8\n"
                                          "@@ -16,5 +16,5 @@\n"
                                          " 16\n"
                                          " 17\n"
                                          " 18\n"
                                          "-19\n"
                                          " 20\n"
                                          "+new\n");
    cr_assert_eq(st.hunks, 2);
    cr_assert_eq(st.added, 2);
    cr_assert_eq(st.deleted, 2);
    cr_assert(st.minimal);
    /* changes closer than 7 lines share a hunk; an insertion at the top names line 0 */
    cr_assert_str_eq(udiff("a\nb\nc\nd\n", "x\na\nb\nc\nd\ne\n", 0, &st),
                     "@@ -1,4 +1,6 @@\n+x\n a\n b\n c\n d\n+e\n");
    cr_assert_str_eq(udiff("", "a\n", 0, &st), "@@ -0,0 +1,1 @@\n+a\n");
    cr_assert_str_eq(udiff("a\n", "", 0, &st), "@@ -1,1 +0,0 @@\n-a\n");
    cr_assert_str_eq(udiff("same\n", "same", 0, &st), "", "a final newline is not a line");
    cr_assert_eq(st.hunks, 0);
}

/* the edit distance (insertions + deletions) by dynamic programming, for small inputs */
static size_t lcs_distance(ld_line *a, size_t na, ld_line *b, size_t nb)
{
    size_t *d = calloc((na + 1) * (nb + 1), sizeof *d);
    for (size_t i = 0; i <= na; i++) {
        for (size_t j = 0; j <= nb; j++) {
            size_t *c = &d[i * (nb + 1) + j];
            if (!i || !j) {
                *c = i + j;
            } else if (a[i - 1].n == b[j - 1].n &&
                       memcmp(a[i - 1].p, b[j - 1].p, a[i - 1].n) == 0) {
                *c = d[(i - 1) * (nb + 1) + j - 1];
            } else {
                size_t x = d[(i - 1) * (nb + 1) + j], y = d[i * (nb + 1) + j - 1];
                *c = 1 + (x < y ? x : y);
            }
        }
    }
    size_t r = d[na * (nb + 1) + nb];
    free(d);
    return r;
}

Test(read_diff, random_edits_are_minimal_and_apply)
{
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        char a[2048] = "", b[2048] = "";
        int na = (int)(rand_r(&seed) % 40), nb = 0;
        for (int i = 0; i < na; i++) {
            char l[8];
            snprintf(l, sizeof l, "%c\n", 'a' + (int)(rand_r(&seed) % 5));
            strcat(a, l);
        }
        /* b: a with random deletions, insertions and replacements */
        ld_line *la;
        size_t nla = ld_split(&A, a, strlen(a), &la);
        for (size_t i = 0; i <= nla && nb < 80; i++) {
            unsigned r = rand_r(&seed) % 6;
            if (r == 0) {
                strcat(b, "z\n"); /* insert */
                nb++;
            }
            if (i < nla && r != 1) { /* r == 1: delete */
                char l[8];
                snprintf(l, sizeof l, "%.*s\n", (int)la[i].n, la[i].p);
                strcat(b, r == 2 ? "y\n" : l);
                nb++;
            }
        }
        ld_stats st;
        const char *d = udiff(a, b, 0, &st);
        char *back = apply(a, d);
        cr_assert_str_eq(back, b, "round %d: applying the diff gives the new text", round);
        free(back);
        ld_line *lb;
        size_t nlb = ld_split(&A, b, strlen(b), &lb);
        cr_assert_eq(st.added + st.deleted, lcs_distance(la, nla, lb, nlb), "round %d: minimal",
                     round);
        cr_assert(st.minimal);
        /* with no work budget to speak of the diff is a replacement, still correct */
        d = udiff(a, b, 1, &st);
        back = apply(a, d);
        cr_assert_str_eq(back, b, "round %d: budget-capped diff applies", round);
        free(back);
    }
}

Test(read_diff, large_inputs_stay_bounded)
{
    /* 20000 lines each, every line different: the worst case for Myers; the caps make it a
       bounded replacement instead of 400M steps */
    buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    for (int i = 0; i < 20000; i++) {
        buf_printf(&a, "old %d\n", i);
        buf_printf(&b, "new %d\n", i);
    }
    ld_stats st;
    udiff(a.ptr, b.ptr, 0, &st);
    cr_assert_eq(st.added, 20000);
    cr_assert_eq(st.deleted, 20000);
    cr_assert_eq(st.hunks, 1);
    buf_release(&a);
    buf_release(&b);
}

/* ---- the read ledger (ledger.c) ------------------------------------------------------------- */

TestSuite(read_ledger, .init = render_init, .fini = render_fini);

static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char SHA_B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char SHA_C[] = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

Test(read_ledger, per_caller_versions_and_blobs)
{
    ledger_reset();
    ledger_key me = {"t1", "main", "default", "alice"};
    ledger_key other_token = {"t1", "main", "default", "bob"};
    ledger_key other_channel = {"t1", "main", "feat/x", "alice"};
    ledger_key other_tenant = {"t2", "main", "default", "alice"};
    ledger_entry e;
    cr_assert_not(ledger_get(&me, "a.c", &A, &e), "nothing delivered yet");
    cr_assert(ledger_record(&me, "a.c", SHA_A, "version a\n", 10, 1 << 20));
    cr_assert(ledger_get(&me, "a.c", &A, &e));
    cr_assert_str_eq(e.sha, SHA_A);
    cr_assert_eq(e.reads, 1);
    cr_assert_eq(e.len, 10);
    cr_assert_str_eq(e.content, "version a\n");
    cr_assert_not(ledger_get(&other_token, "a.c", &A, &e), "another token has its own ledger");
    cr_assert_not(ledger_get(&other_channel, "a.c", &A, &e), "so has another channel");
    cr_assert_not(ledger_get(&other_tenant, "a.c", &A, &e), "and another tenant");
    /* a new version replaces the baseline */
    cr_assert(ledger_record(&me, "a.c", SHA_B, "version b\n", 10, 1 << 20));
    cr_assert(ledger_get(&me, "a.c", &A, &e));
    cr_assert_str_eq(e.sha, SHA_B);
    cr_assert_str_eq(e.content, "version b\n");
    cr_assert_eq(e.reads, 2);
    /* lists */
    cr_assert(ledger_record(&other_token, "b.c", SHA_A, "version a\n", 10, 1 << 20));
    ledger_item *items;
    cr_assert_eq(ledger_list(&me, &A, &items), 1);
    cr_assert_str_eq(items[0].path, "a.c");
    cr_assert(items[0].held);
    ledger_key channel = {"t1", "main", "default", NULL};
    cr_assert_eq(ledger_list(&channel, &A, &items), 2);
    cr_assert_str_eq(items[0].path, "b.c", "most recent first");
    cr_assert_str_eq(items[0].token, "bob");
    cr_assert_str_eq(items[1].token, "alice");
    /* forget */
    cr_assert_eq(ledger_forget(&me, "a.c"), 1);
    cr_assert_not(ledger_get(&me, "a.c", &A, &e));
    cr_assert(ledger_get(&other_token, "b.c", &A, &e));
    cr_assert(ledger_record(&me, "x", SHA_A, "1", 1, 1 << 20));
    cr_assert(ledger_record(&me, "y", SHA_A, "1", 1, 1 << 20));
    cr_assert_eq(ledger_forget(&me, NULL), 2);
    cr_assert(ledger_get(&other_token, "b.c", &A, &e), "forgetting all is per caller");
    ledger_reset();
}

Test(read_ledger, blob_store_is_bounded_lru_per_tenant)
{
    ledger_reset();
    ledger_key k = {"t1", "main", "default", "alice"};
    ledger_key k2 = {"t2", "main", "default", "alice"};
    static char big[1000];
    memset(big, 'x', sizeof big);
    size_t cap = 2 * (sizeof big + 128) + 10; /* room for two blobs (each charged +128) */
    cr_assert(ledger_record(&k, "a", SHA_A, big, sizeof big, cap));
    cr_assert(ledger_record(&k, "b", SHA_B, big, sizeof big, cap));
    cr_assert(ledger_record(&k2, "a", SHA_A, big, sizeof big, cap));
    ledger_entry e;
    cr_assert(ledger_get(&k, "a", &A, &e) && e.content, "a is held, and now recently used");
    cr_assert(ledger_record(&k, "c", SHA_C, big, sizeof big, cap));
    cr_assert_leq(ledger_blob_bytes("t1"), cap);
    cr_assert(ledger_get(&k, "b", &A, &e), "b's hash is still known");
    cr_assert_null(e.content, "but its content was the least recently used and is gone");
    cr_assert(ledger_get(&k, "a", &A, &e) && e.content);
    cr_assert(ledger_get(&k, "c", &A, &e) && e.content);
    cr_assert(ledger_get(&k2, "a", &A, &e) && e.content, "another tenant's store is separate");
    /* a version larger than the whole store is known by hash only; equal content is held once */
    cr_assert(ledger_record(&k, "huge", SHA_B, big, sizeof big, 500));
    cr_assert(ledger_get(&k, "huge", &A, &e) && !e.content);
    cr_assert_leq(ledger_blob_bytes("t1"), 500, "a smaller cap applies at the next delivery");
    ledger_reset();
    cr_assert(ledger_record(&k, "a", SHA_A, big, sizeof big, 1 << 20));
    cr_assert(ledger_record(&k, "b", SHA_A, big, sizeof big, 1 << 20));
    cr_assert_eq(ledger_blob_bytes("t1"), sizeof big + 128);
    /* ledgerBlobBytes 0 keeps no content */
    cr_assert(ledger_record(&k2, "z", SHA_C, "z", 1, 0));
    cr_assert(ledger_get(&k2, "z", &A, &e) && !e.content);
    ledger_reset();
}

Test(read_ledger, a_deleted_tenant_is_forgotten)
{
    ledger_reset();
    ledger_key a = {"t1", "main", "default", "alice"};
    ledger_key b = {"t1", "other", "feat", "bob"};
    ledger_key t10 = {"t10", "main", "default", "alice"}; /* a name that t1 prefixes */
    cr_assert(ledger_record(&a, "a.c", SHA_A, "version a\n", 10, 1 << 20));
    cr_assert(ledger_record(&b, "b.c", SHA_B, "version b\n", 10, 1 << 20));
    cr_assert(ledger_record(&t10, "a.c", SHA_A, "version a\n", 10, 1 << 20));
    cr_assert_eq(ledger_drop_tenant("t1"), 2);
    ledger_entry e;
    cr_assert_not(ledger_get(&a, "a.c", &A, &e));
    cr_assert_not(ledger_get(&b, "b.c", &A, &e));
    cr_assert_eq(ledger_blob_bytes("t1"), 0, "its blobs are gone too");
    cr_assert(ledger_get(&t10, "a.c", &A, &e) && e.content, "t10 is another tenant");
    cr_assert_eq(ledger_drop_tenant("t1"), 0);
    /* a tenant made again under the id starts empty and records as before */
    cr_assert(ledger_record(&a, "a.c", SHA_A, "version a\n", 10, 1 << 20));
    cr_assert(ledger_get(&a, "a.c", &A, &e) && e.content);
    ledger_reset();
}

/* ---- robustness: any bytes, every renderer ------------------------------------------------- */

Test(read_render, any_bytes_render_without_fault)
{
    /* fixtures cut at every length and with random bytes spliced in, as every kind of file:
       the lexers and outline parsers must stay within their input (run under ASan) */
    const char *fixtures[] = {c_fixture,    py_fixture,   ts_fixture,   sh_fixture, md_fixture,
                              json_fixture, yaml_fixture, toml_fixture, cargo_lock, yarn_lock};
    const char *names[] = {"a.c",    "a.py",   "a.ts",   "a.sh",         "a.md",   "a.json",
                           "a.yaml", "a.toml", "a.lock", "Gemfile.lock", "go.sum", "a.rst",
                           "a.csv",  "a.rb",   "a.lua",  "a.php",        "a.xml",  "a.ini"};
    const read_kind kinds[] = {READ_SIGNATURES, READ_MAP, READ_AGGRESSIVE, READ_ENTROPY};
    unsigned seed = 7;
    char buf_[4096];
    const char *prot[] = {"x", "a.b"};
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        size_t n = strlen(fixtures[f]);
        for (size_t cut = 0; cut <= n; cut += 1 + cut / 8) {
            memcpy(buf_, fixtures[f], cut);
            for (int k = 0; k < 3 && cut; k++) {
                buf_[rand_r(&seed) % cut] = (char)(rand_r(&seed) % 256);
            }
            buf_[cut] = '\0';
            for (size_t nm = 0; nm < sizeof names / sizeof names[0]; nm++) {
                for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
                    arena_release(&A);
                    arena_init(&A, 0);
                    render_p(kinds[k], names[nm], buf_, (double)(rand_r(&seed) % 3) / 2, prot, 2);
                    cr_assert(utf8_valid(OUT.ptr ? OUT.ptr : "", OUT.len), "%s %d: valid UTF-8",
                              names[nm], (int)kinds[k]);
                }
            }
        }
    }
}

/* test_tools.c - the four file tools through HTTP, as an agent sees them: ctx_tree (depth,
 * whole-subtree counts, hidden files, the full ignore-file semantics of tools.md §1.4),
 * ctx_glob (patterns, ordering, caps), ctx_read (every mode and the batch, encodings, limits)
 * and ctx_search action=regex (counts, order, filters, notes, windows), plus a parity check of
 * ctx_search's match count against ripgrep on a generated tree.
 *
 * Each test starts its own server on its own temp workspace (harness.h) and compares whole
 * result texts, so a changed line format fails here first. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "toolsuite.h"

TestSuite(tree, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 20);
TestSuite(glob, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 20);
TestSuite(read, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 20);
TestSuite(search, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 20);

/* the number N of a search header `N matches in ...` or `0 matches for ...` */
static long matches_of(const char *text)
{
    const char *p = strstr(text, "] '");
    if (p && strncmp(text, "[query", 6) == 0) {
        text = strchr(p, '\n') + 1;
    }
    char *end;
    long n = strtol(text, &end, 10);
    cr_assert(end != text && strncmp(end, " matches ", 9) == 0, "not a search header: %s", text);
    return n;
}

/* ---- ctx_tree ------------------------------------------------------------------------------ */

Test(tree, depth_limits_listing_but_counts_cover_the_whole_subtree)
{
    ws_write(&S, "src/deep/a/b/c.c", "int c;\n");
    ws_write(&S, "docs/guide.md", "# Guide\n");
    ws_write(&S, "docs/api/ref.md", "# Ref\n");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_tree", "{\"depth\":1}"), "./ (6 files)\n"
                                                      "  README.md\n"
                                                      "  docs/ (2)\n"
                                                      "  src/ (3)");
    cr_assert_str_eq(OK("ctx_tree", "{\"depth\":2}"), "./ (6 files)\n"
                                                      "  README.md\n"
                                                      "  docs/ (2)\n"
                                                      "    api/ (1)\n"
                                                      "    guide.md\n"
                                                      "  src/ (3)\n"
                                                      "    deep/ (1)\n"
                                                      "    main.c\n"
                                                      "    util.c");
    /* the default depth is 3: deep/a/ is the last level shown, and still counts c.c */
    cr_assert_str_eq(OK("ctx_tree", "{\"path\":\"src\"}"), "src/ (3 files)\n"
                                                           "  deep/ (1)\n"
                                                           "    a/ (1)\n"
                                                           "      b/ (1)\n"
                                                           "  main.c\n"
                                                           "  util.c");
    cr_assert_str_eq(OK("ctx_tree", "{\"path\":\"./src/deep/\",\"depth\":10}"),
                     "src/deep/ (1 files)\n"
                     "  a/ (1)\n"
                     "    b/ (1)\n"
                     "      c.c");
    json_t *sc = structured_content(last);
    cr_assert_eq(json_integer_value(json_object_get(sc, "files")), 1);
    /* arguments are validated before the tool runs */
    const char *bad[] = {"{\"depth\":0}", "{\"depth\":11}", "{\"depth\":\"2\"}",
                         "{\"max_entries\":0}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        resp *r = call_tool(&S, S.token, "ctx_tree", bad[i]);
        cr_assert_eq(r->status, 400, "%s: %s", bad[i], r->body);
        cr_assert_str_eq(error_code(r), "invalid_arguments");
        resp_free(r);
    }
}

Test(tree, hidden_entries_only_with_show_hidden)
{
    ws_write(&S, ".github/workflows/ci.yml", "on: push\n");
    ws_write(&S, ".editorconfig", "root = true\n");
    ws_write(&S, "src/.local.c", "int l;\n");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_tree", "{}"), "./ (3 files)\n"
                                           "  README.md\n"
                                           "  src/ (2)\n"
                                           "    main.c\n"
                                           "    util.c");
    cr_assert_str_eq(OK("ctx_tree", "{\"show_hidden\":true}"), "./ (6 files)\n"
                                                               "  .editorconfig\n"
                                                               "  .github/ (1)\n"
                                                               "    workflows/ (1)\n"
                                                               "      ci.yml\n"
                                                               "  README.md\n"
                                                               "  src/ (3)\n"
                                                               "    .local.c\n"
                                                               "    main.c\n"
                                                               "    util.c");
}

/* A git repository with nested .gitignore files, negation, directory-only, anchored and
 * any-depth rules, and .git/info/exclude. The expected listing is what git itself calls
 * untracked-and-not-ignored, which the test also checks against `git ls-files`. */
Test(tree, gitignore_semantics_in_a_git_repository)
{
    cr_assert_eq(ws_sh(&S, "git init -q ."), 0, "git init failed");
    ws_write(&S, ".gitignore", "# build output\n*.log\n!keep.log\nout/\n/top.txt\nlogs\n");
    ws_write(&S, "sub/.gitignore", "*.tmp\n!important.tmp\n");
    ws_sh(&S, "printf 'excluded.txt\\n' >> .git/info/exclude");
    const char *files[] = {
        "a.log",          "keep.log",     "sub/b.log",        "top.txt",    "sub/top.txt",
        "out/x.o",        "sub/out",      "src/out/y.o",      "sub/x.tmp",  "sub/important.tmp",
        "sub/deep/y.tmp", "excluded.txt", "sub/excluded.txt", "logs/l.txt", "x.tmp"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        ws_write(&S, files[i], "x\n");
    }
    srv_up(&S, "");
    const char *want = "./ (8 files)\n"
                       "  README.md\n"
                       "  keep.log\n"
                       "  src/ (2)\n"
                       "    main.c\n"
                       "    util.c\n"
                       "  sub/ (3)\n"
                       "    deep/ (0)\n"
                       "    important.tmp\n"
                       "    out\n"
                       "    top.txt\n"
                       "  x.tmp";
    cr_assert_str_eq(OK("ctx_tree", "{\"depth\":5}"), want);

    /* the same verdicts as git's: ctx_glob walks hidden files too, so `*` lists exactly what
       `git ls-files --others --exclude-standard` lists */
    char *git = sh_out("cd '%s' && git -c core.excludesFile=/dev/null ls-files --others "
                       "--exclude-standard | LC_ALL=C sort",
                       S.ws);
    cr_assert(git && *git);
    char expect[4096];
    size_t nlines = 0;
    for (const char *p = git; *p; p++) {
        nlines += *p == '\n';
    }
    snprintf(expect, sizeof expect, "%s\n%zu files matched (walked %zu)", git, nlines, nlines);
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"*\"}"), expect);
    free(git);

    /* respect_gitignore=false shows every non-hidden file */
    cr_assert_str_eq(OK("ctx_tree", "{\"depth\":1,\"respect_gitignore\":false}"), "./ (18 files)\n"
                                                                                  "  README.md\n"
                                                                                  "  a.log\n"
                                                                                  "  excluded.txt\n"
                                                                                  "  keep.log\n"
                                                                                  "  logs/ (1)\n"
                                                                                  "  out/ (1)\n"
                                                                                  "  src/ (3)\n"
                                                                                  "  sub/ (7)\n"
                                                                                  "  top.txt\n"
                                                                                  "  x.tmp");
}

Test(tree, ignore_and_ctxdignore_apply_outside_git_but_gitignore_does_not)
{
    ws_write(&S, ".gitignore", "*.c\n");
    ws_write(&S, ".ignore", "util.c\nnotes.txt\n");
    ws_write(&S, ".ctxdignore", "README.md\n!notes.txt\n");
    ws_write(&S, "notes.txt", "n\n");
    srv_up(&S, "");
    /* .gitignore is inert without a repository; .ctxdignore re-includes what .ignore drops */
    cr_assert_str_eq(OK("ctx_tree", "{}"), "./ (2 files)\n"
                                           "  notes.txt\n"
                                           "  src/ (1)\n"
                                           "    main.c");
    /* a deeper .ignore overrides a shallower one */
    ws_write(&S, "src/.ignore", "!util.c\n");
    cr_assert_str_eq(OK("ctx_tree", "{}"), "./ (3 files)\n"
                                           "  notes.txt\n"
                                           "  src/ (2)\n"
                                           "    main.c\n"
                                           "    util.c");
}

Test(tree, gitignore_above_the_root_counts_when_the_root_is_inside_a_repository)
{
    /* the repository is the test dir; the workspace root is its subdirectory ws/ */
    cr_assert_eq(ws_sh(&S, "cd .. && git init -q ."), 0);
    ws_sh(&S, "printf 'ws/src/util.c\\n*.tmp\\n' > ../.gitignore");
    ws_write(&S, "x.tmp", "t\n");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_tree", "{}"), "./ (2 files)\n"
                                           "  README.md\n"
                                           "  src/ (1)\n"
                                           "    main.c");
}

Test(tree, tarball_with_top_gitignore_star_stays_visible)
{
    ws_write(&S, ".gitignore", "/*\n");
    srv_up(&S, "");
    const char *all = "./ (3 files)\n"
                      "  README.md\n"
                      "  src/ (2)\n"
                      "    main.c\n"
                      "    util.c";
    cr_assert_str_eq(OK("ctx_tree", "{}"), all);
    /* once it is a repository, the same file hides everything */
    cr_assert_eq(ws_sh(&S, "git init -q ."), 0);
    cr_assert_str_eq(OK("ctx_tree", "{}"), "./ (empty directory, depth=3)");
    cr_assert_str_eq(OK("ctx_tree", "{\"respect_gitignore\":false}"), all);
}

Test(tree, max_entries_truncates_with_a_note)
{
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_tree", "{\"max_entries\":2}"),
                     "./ (3 files)\n"
                     "  README.md\n"
                     "  src/ (2)\n"
                     "[truncated at 2 entries — narrow path or lower depth]");
    cr_assert_str_eq(OK("ctx_tree", "{\"max_entries\":4}"), "./ (3 files)\n"
                                                            "  README.md\n"
                                                            "  src/ (2)\n"
                                                            "    main.c\n"
                                                            "    util.c");
}

Test(tree, file_missing_and_empty_paths)
{
    ws_sh(&S, "mkdir empty");
    srv_up(&S, "");
    cr_assert_str_eq(FAILS("ctx_tree", "{\"path\":\"README.md\"}"),
                     "ERROR: 'README.md' is a file, not a directory. Use path=\".\" for the "
                     "containing directory.");
    cr_assert_str_eq(tool_error_code(last), "not_a_directory");
    cr_assert_str_eq(FAILS("ctx_tree", "{\"path\":\"src/main.c\"}"),
                     "ERROR: 'src/main.c' is a file, not a directory. Use path=\"src\" for the "
                     "containing directory.");
    cr_assert_str_eq(FAILS("ctx_tree", "{\"path\":\"nope\"}"),
                     "ERROR: nope does not exist or is not a directory");
    cr_assert_str_eq(tool_error_code(last), "not_found");
    cr_assert_str_eq(OK("ctx_tree", "{\"path\":\"empty\",\"depth\":2}"),
                     "empty/ (empty directory, depth=2)");
}

/* ---- ctx_glob ------------------------------------------------------------------------------ */

static void glob_fixture(void)
{
    ws_write(&S, "src/net/http.c", "x\n");
    ws_write(&S, "src/net/http.h", "x\n");
    ws_write(&S, "lib/a.c", "x\n");
    ws_write(&S, "docs/a.md", "x\n");
    ws_write(&S, "b.c", "x\n");
    srv_up(&S, "");
}

Test(glob, name_patterns_match_at_any_depth_sorted)
{
    glob_fixture();
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"*.c\"}"), "b.c\n"
                                                              "lib/a.c\n"
                                                              "src/main.c\n"
                                                              "src/net/http.c\n"
                                                              "src/util.c\n"
                                                              "\n"
                                                              "5 files matched (walked 8)");
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"*.{c,h}\"}"), "b.c\n"
                                                                  "lib/a.c\n"
                                                                  "src/main.c\n"
                                                                  "src/net/http.c\n"
                                                                  "src/net/http.h\n"
                                                                  "src/util.c\n"
                                                                  "\n"
                                                                  "6 files matched (walked 8)");
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"{lib,docs}/a.*\"}"),
                     "docs/a.md\n"
                     "lib/a.c\n"
                     "\n"
                     "2 files matched (walked 8)");
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"?.c\"}"), "b.c\n"
                                                              "lib/a.c\n"
                                                              "\n"
                                                              "2 files matched (walked 8)");
}

Test(glob, double_star_and_start_path)
{
    glob_fixture();
    /* `**` matches zero or more directories */
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"src/**/*.c\"}"), "src/main.c\n"
                                                                     "src/net/http.c\n"
                                                                     "src/util.c\n"
                                                                     "\n"
                                                                     "3 files matched (walked 8)");
    /* `*` does not cross `/` */
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"src/*.c\"}"), "src/main.c\n"
                                                                  "src/util.c\n"
                                                                  "\n"
                                                                  "2 files matched (walked 8)");
    /* patterns are relative to path; output paths stay workspace-relative */
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"net/*.h\",\"path\":\"src\"}"),
                     "src/net/http.h\n\n1 files matched (walked 4)");
    /* several roots; a file under two of them is listed once */
    cr_assert_str_eq(
        OK("ctx_glob", "{\"pattern\":\"*.c\",\"paths\":[\"lib\",\"src/net\",\"src\"]}"),
        "lib/a.c\nsrc/main.c\nsrc/net/http.c\nsrc/util.c\n\n4 files matched (walked 7)");
}

Test(glob, caps_zero_hits_hidden_dirs_and_errors)
{
    ws_write(&S, ".github/ci.yml", "on: push\n");
    glob_fixture();
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"*.c\",\"max_results\":2}"),
                     "b.c\n"
                     "lib/a.c\n"
                     "\n"
                     "5 files matched (walked 9)\n"
                     "(+3 more; raise max_results or narrow pattern)");
    json_t *sc = structured_content(last);
    cr_assert(json_is_true(json_object_get(sc, "truncated")), "%s", last->body);
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"*.rs\"}"),
                     "0 files matched '*.rs' in 9 files walked");
    cr_assert_str_eq(OK("ctx_glob", "{\"pattern\":\"*.yml\"}"),
                     ".github/ci.yml\n\n1 files matched (walked 9)");
    cr_assert_str_eq(FAILS("ctx_glob", "{\"pattern\":\"[a\"}"),
                     "ERROR: invalid glob pattern '[a': unterminated character class");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    cr_assert_str_eq(FAILS("ctx_glob", "{\"pattern\":\"{a,b\"}"),
                     "ERROR: invalid glob pattern '{a,b': unbalanced '{'");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    /* 11 groups of 2 alternatives: 2048 > 1000 */
    FAILS("ctx_glob", "{\"pattern\":\"{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}\"}");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    FAILS("ctx_glob", "{\"pattern\":\"*\",\"path\":\"README.md\"}");
    cr_assert_str_eq(tool_error_code(last), "not_a_directory");
    FAILS("ctx_glob", "{\"pattern\":\"*\",\"path\":\"nope\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
    resp *r = call_tool(&S, S.token, "ctx_glob", "{}");
    cr_assert_eq(r->status, 400, "pattern is required: %s", r->body);
    cr_assert_str_eq(error_code(r), "invalid_arguments");
    resp_free(r);
}

/* ---- ctx_read ------------------------------------------------------------------------------ */

/* the first 12 hex of sha256 of a workspace file, by sha256sum */
Test(read, full_has_header_with_sha_and_the_content)
{
    srv_up(&S, "");
    char *h = ws_sha12(&S, "src/util.c");
    char want[512];
    snprintf(want, sizeof want,
             "src/util.c 4L sha:%s\nint add(int a, int b)\n{\n    return a + b;\n}", h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/util.c\",\"mode\":\"full\"}"), want);
    json_t *sc = structured_content(last);
    cr_assert_str_eq(json_string_value(json_object_get(sc, "sha")), h);
    cr_assert_eq(json_integer_value(json_object_get(sc, "lines")), 4);
    /* auto is full for a small file, and says so */
    snprintf(want, sizeof want,
             "src/util.c 4L sha:%s mode:auto→full\nint add(int a, int b)\n{\n    return a + b;\n}",
             h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/util.c\"}"), want);
    free(h);
    /* a file without a final newline has as many lines as it shows */
    ws_write(&S, "nonl.txt", "a\nb");
    h = ws_sha12(&S, "nonl.txt");
    snprintf(want, sizeof want, "nonl.txt 2L sha:%s\na\nb", h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"nonl.txt\",\"mode\":\"full\"}"), want);
    free(h);
}

Test(read, raw_and_reference)
{
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/util.c\",\"raw\":true}"),
                     "int add(int a, int b)\n{\n    return a + b;\n}\n");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/util.c\",\"mode\":\"raw\"}"),
                     "int add(int a, int b)\n{\n    return a + b;\n}\n");
    ws_write(&S, "nonl.txt", "a\nb");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"nonl.txt\",\"mode\":\"raw\"}"), "a\nb",
                     "raw is the file verbatim, final newline or not");
    /* 44 bytes: ceil(44 / 4) = 11 tokens */
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/util.c\",\"mode\":\"reference\"}"),
                     "src/util.c: 4 lines, 11 tok (c)");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"README.md\",\"mode\":\"reference\"}"),
                     "README.md: 3 lines, 10 tok (md)");
}

static void lines_fixture(void)
{
    char content[256] = "";
    for (int i = 1; i <= 12; i++) {
        char l[16];
        snprintf(l, sizeof l, "L%d\n", i);
        strcat(content, l);
    }
    ws_write(&S, "f.txt", content);
    srv_up(&S, "");
}

Test(read, line_windows)
{
    lines_fixture();
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:2-3\"}"),
                     "f.txt 12L lines:2-3\n   2| L2\n   3| L3");
    /* lines:N means N to the end */
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:11\"}"),
                     "f.txt 12L lines:11\n  11| L11\n  12| L12");
    /* a range past the end is clamped */
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:10-99\"}"),
                     "f.txt 12L lines:10-99\n  10| L10\n  11| L11\n  12| L12");
    /* a start past the end is an error */
    cr_assert_str_eq(FAILS("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:13-14\"}"),
                     "ERROR: 'f.txt' has 12 lines; line 13 is past the end");
    cr_assert_str_eq(tool_error_code(last), "out_of_range");
    FAILS("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:13\"}");
    cr_assert_str_eq(tool_error_code(last), "out_of_range");
}

Test(read, multi_select_sorts_merges_and_marks_gaps)
{
    lines_fixture();
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:10,1-2,2-3,5\"}"),
                     "f.txt 12L lines:10,1-2,2-3,5\n"
                     "   1| L1\n"
                     "   2| L2\n"
                     "   3| L3\n"
                     "  ...\n"
                     "   5| L5\n"
                     "  ...\n"
                     "  10| L10");
    /* adjacent segments join without a gap line */
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:1-2,3-4\"}"),
                     "f.txt 12L lines:1-2,3-4\n   1| L1\n   2| L2\n   3| L3\n   4| L4");
    /* segments past the end are dropped, the rest shown */
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"lines:12,40-50\"}"),
                     "f.txt 12L lines:12,40-50\n  12| L12");
}

Test(read, start_line_and_limit)
{
    lines_fixture();
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"start_line\":3,\"limit\":2}"),
                     "f.txt 12L lines:3-4\n   3| L3\n   4| L4");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"start_line\":12}"),
                     "f.txt 12L lines:12\n  12| L12");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"offset\":11,\"limit\":1}"),
                     "f.txt 12L lines:11-11\n  11| L11");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"f.txt\",\"limit\":1}"),
                     "f.txt 12L lines:1-1\n   1| L1");
}

Test(read, line_numbers_widen_past_9999)
{
    ws_sh(&S, "seq 1 10001 > n.txt");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"n.txt\",\"mode\":\"lines:9999-10001\"}"),
                     "n.txt 10001L lines:9999-10001\n9999| 9999\n10000| 10000\n10001| 10001");
}

Test(read, malformed_modes_are_invalid_arguments)
{
    lines_fixture();
    const char *bad[] = {"lines:44:48", "lines:",    "lines:0-2",      "lines:5-2",
                         "lines:1-2,",  "lines:a-b", "anchored:1-2,4", "lines:-3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"path\":\"f.txt\",\"mode\":\"%s\"}", bad[i]);
        resp *r = call_tool(&S, S.token, "ctx_read", body);
        cr_assert_eq(r->status, 400, "%s: %s", bad[i], r->body);
        cr_assert_str_eq(error_code(r), "invalid_arguments", "%s", bad[i]);
        if (i == 0) {
            cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                             "invalid read mode \"lines:44:48\": expected lines:START-END, e.g. "
                             "lines:72-92, or a comma list such as lines:5,10-20");
        }
        resp_free(r);
    }
    /* an unknown plain keyword falls back to full with a warning line */
    const char *t = OK("ctx_read", "{\"path\":\"f.txt\",\"mode\":\"bogus\"}");
    cr_assert(strncmp(t, "[WARNING: unknown mode 'bogus', falling back to full]\nf.txt 12L sha:",
                      66) == 0,
              "%s", t);
}

Test(read, anchored_uses_the_worked_anchor_values)
{
    /* tools.md §2.1: trailing whitespace does not change the anchor; the empty line is e3b0 */
    ws_write(&S, "anch.c", "int main(void) {\n    return 0;   \n}\n\n");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"anch.c\",\"mode\":\"anchored\"}"),
                     "anch.c 4L [anchored: N:hhhh|line]\n"
                     "1:65db|int main(void) {\n"
                     "2:f291|    return 0;   \n"
                     "3:d10b|}\n"
                     "4:e3b0|");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"anch.c\",\"mode\":\"anchored:2-3\"}"),
                     "anch.c 4L lines:2-3 [anchored: N:hhhh|line]\n"
                     "2:f291|    return 0;   \n"
                     "3:d10b|}");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/main.c\",\"mode\":\"anchored\"}"),
                     "src/main.c 3L [anchored: N:hhhh|line]\n"
                     "1:65db|int main(void) {\n"
                     "2:f291|    return 0;\n"
                     "3:d10b|}");
    FAILS("ctx_read", "{\"path\":\"anch.c\",\"mode\":\"anchored:5-6\"}");
    cr_assert_str_eq(tool_error_code(last), "out_of_range");
}

Test(read, batch_reports_failures_in_place)
{
    srv_up(&S, "");
    char *h = ws_sha12(&S, "README.md");
    char *hm = ws_sha12(&S, "src/main.c");
    char want[1024];
    snprintf(want, sizeof want,
             "README.md 3L sha:%s\n# Demo\n\nA small workspace for tests.\n"
             "\n"
             "ERROR: nope.txt: nope.txt does not exist\n"
             "\n"
             "ERROR: ../x: '../x' has a '..' segment; paths must stay inside the workspace root\n"
             "\n"
             "ERROR: /etc/passwd: '/etc/passwd' is an absolute path outside the workspace root\n"
             "\n"
             "src/main.c 3L sha:%.12s\nint main(void) {\n    return 0;\n}",
             h, hm);
    cr_assert_str_eq(OK("ctx_read",
                        "{\"paths\":[\"README.md\",\"nope.txt\",\"../x\",\"/etc/passwd\","
                        "\"src/main.c\"],\"mode\":\"full\"}"),
                     want);
    json_t *files = json_object_get(structured_content(last), "files");
    cr_assert_eq(json_array_size(files), 2, "%s", last->body);
    free(h);
    free(hm);
    /* every file failing makes the result an error */
    cr_assert_str_eq(FAILS("ctx_read", "{\"paths\":[\"a/../../x\",\"gone.c\"]}"),
                     "ERROR: a/../../x: 'a/../../x' has a '..' segment; paths must stay inside "
                     "the workspace root\n"
                     "\n"
                     "ERROR: gone.c: gone.c does not exist");
    cr_assert_str_eq(tool_error_code(last), "path_outside_root", "the first failure's code: %s",
                     last->body);
    /* the batch limit is 20 */
    char body[2048] = "{\"paths\":[";
    for (int i = 0; i < 21; i++) {
        strcat(body, i ? ",\"README.md\"" : "\"README.md\"");
    }
    strcat(body, "]}");
    resp *r = call_tool(&S, S.token, "ctx_read", body);
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(error_code(r), "invalid_arguments");
    resp_free(r);
}

Test(read, binary_invalid_utf8_and_byte_order_marks)
{
    ws_write_bytes(&S, "bin/tool",
                   "\x7f"
                   "ELF\x00\x01",
                   6);
    ws_write_bytes(&S, "bad.txt", "ok \xff bad \xc3\x28 end\n", 16);
    /* UTF-16 LE with BOM: "hi\n" U+00E9 "\n" */
    ws_write_bytes(&S, "u16.txt", "\xff\xfeh\x00i\x00\n\x00\xe9\x00\n\x00", 12);
    ws_write_bytes(&S, "bom8.txt", "\xef\xbb\xbfhello\n", 9);
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"bin/tool\"}"), "[binary file: bin/tool, 6 bytes]");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"bin/tool\",\"mode\":\"lines:1-2\"}"),
                     "[binary file: bin/tool, 6 bytes]");

    char want[512];
    char *h = ws_sha12(&S, "bad.txt");
    snprintf(want, sizeof want, "bad.txt 1L sha:%s\nok \xef\xbf\xbd bad \xef\xbf\xbd( end", h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"bad.txt\",\"mode\":\"full\"}"), want,
                     "invalid bytes become U+FFFD, the sha is over the raw bytes");
    free(h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"bad.txt\",\"mode\":\"lines:1\"}"),
                     "bad.txt 1L lines:1\n   1| ok \xef\xbf\xbd bad \xef\xbf\xbd( end");

    h = ws_sha12(&S, "u16.txt");
    snprintf(want, sizeof want, "u16.txt 2L sha:%s\nhi\n\xc3\xa9", h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"u16.txt\",\"mode\":\"full\"}"), want);
    free(h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"u16.txt\",\"mode\":\"lines:2\"}"),
                     "u16.txt 2L lines:2\n   2| \xc3\xa9");
    h = ws_sha12(&S, "bom8.txt");
    snprintf(want, sizeof want, "bom8.txt 1L sha:%s\nhello", h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"bom8.txt\",\"mode\":\"full\"}"), want);
    free(h);
}

Test(read, known_hash_collapses_only_when_equal)
{
    srv_up(&S, "");
    char *h = ws_sha12(&S, "src/util.c");
    char want[256];
    snprintf(want, sizeof want, "[unchanged: src/util.c — sha:%s matches; content not resent]", h);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"src/util.c\",\"known_hash\":\"%s\"}", h), want);
    const char *t = OK(
        "ctx_read", "{\"path\":\"src/util.c\",\"known_hash\":\"000000000000\",\"mode\":\"full\"}");
    cr_assert(strstr(t, "return a + b;"), "a stale hash gets the content: %s", t);
    /* the file changes: the old hash no longer collapses the read */
    ws_write(&S, "src/util.c", "int add(int a, int b) { return b + a; }\n");
    t = OK("ctx_read", "{\"path\":\"src/util.c\",\"known_hash\":\"%s\"}", h);
    cr_assert(strstr(t, "return b + a;"), "%s", t);
    free(h);
}

Test(read, file_over_max_read_bytes_is_readable_by_windows)
{
    char big[2100];
    size_t o = 0;
    for (int i = 1; o < 2000; i++) {
        o += (size_t)snprintf(big + o, sizeof big - o, "line %04d %s\n", i,
                              "abcdefghijklmnopqrstuvwxyz");
    }
    ws_write(&S, "big.txt", big);
    srv_up(&S, "\"maxReadBytes\": 1024");
    char want[512];
    snprintf(want, sizeof want,
             "ERROR: 'big.txt' is %zu bytes, over maxReadBytes (1024); read it with a line window "
             "(mode=\"lines:1-200\") or mode=reference",
             strlen(big));
    cr_assert_str_eq(FAILS("ctx_read", "{\"path\":\"big.txt\",\"mode\":\"full\"}"), want);
    cr_assert_str_eq(tool_error_code(last), "file_too_large");
    FAILS("ctx_read", "{\"path\":\"big.txt\",\"raw\":true}");
    cr_assert_str_eq(tool_error_code(last), "file_too_large");
    size_t nlines = 0;
    for (const char *p = big; *p; p++) {
        nlines += *p == '\n';
    }
    snprintf(want, sizeof want,
             "big.txt %zuL lines:1-3\n"
             "   1| line 0001 abcdefghijklmnopqrstuvwxyz\n"
             "   2| line 0002 abcdefghijklmnopqrstuvwxyz\n"
             "   3| line 0003 abcdefghijklmnopqrstuvwxyz",
             nlines);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"big.txt\",\"mode\":\"lines:1-3\"}"), want);
    snprintf(want, sizeof want,
             "big.txt %zuL lines:%zu\n%4zu| line %04zu abcdefghijklmnopqrstuvwxyz", nlines, nlines,
             nlines, nlines);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"big.txt\",\"start_line\":%zu}", nlines), want);
    snprintf(want, sizeof want, "big.txt: %zu lines, %zu tok (txt)", nlines, (strlen(big) + 3) / 4);
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"big.txt\",\"mode\":\"reference\"}"), want);
}

/* Over maxReadBytes a window is streamed in 256 KiB chunks: lines that cross a chunk boundary,
 * a line longer than a chunk, and a last line without a newline must come out whole. */
Test(read, streamed_windows_cross_chunk_boundaries)
{
    cr_assert_eq(ws_sh(&S, "seq -f 'line %%06g' 1 70000 > big.txt && "
                           "{ printf 'a%%.0s' $(seq 1 300000); printf '\\nend'; } > wide.txt"),
                 0);
    srv_up(&S, "\"maxReadBytes\": 1024, \"maxOutputBytes\": 1048576");
    /* "line 026214\n" is 12 bytes: line 21846 ends at byte 262152, past the first chunk */
    char *want =
        sh_out("cd '%s' && printf 'big.txt 70000L lines:21845-21846,69999-80000\\n' && "
               "sed -n '21845,21846p' big.txt | awk '{printf \"%%5d| %%s\\n\", NR + 21844, $0}' | "
               "sed 's/^ //' && printf '  ...\\n' && "
               "sed -n '69999,70000p' big.txt | awk '{printf \"%%d| %%s\\n\", NR + 69998, $0}'",
               S.ws);
    cr_assert(want);
    want[strlen(want) - 1] = '\0'; /* the result has no final newline */
    cr_assert_str_eq(
        OK("ctx_read", "{\"path\":\"big.txt\",\"mode\":\"lines:21845-21846,69999-80000\"}"), want);
    free(want);
    const char *t = OK("ctx_read", "{\"path\":\"wide.txt\",\"mode\":\"lines:2\"}");
    cr_assert_str_eq(t, "wide.txt 2L lines:2\n   2| end");
    t = OK("ctx_read", "{\"path\":\"wide.txt\",\"mode\":\"lines:1-1\"}");
    cr_assert_eq(strlen(t), strlen("wide.txt 2L lines:1-1\n   1| ") + 300000,
                 "the whole long line");
    cr_assert_eq(t[strlen(t) - 1], 'a');
    t = OK("ctx_read", "{\"path\":\"big.txt\",\"mode\":\"reference\"}");
    cr_assert_str_eq(t, "big.txt: 70000 lines, 210000 tok (txt)");
}

Test(read, directories_and_missing_files)
{
    srv_up(&S, "");
    cr_assert_str_eq(FAILS("ctx_read", "{\"path\":\"src\"}"),
                     "ERROR: 'src' is a directory, not a file; use ctx_tree path=\"src\"");
    cr_assert_str_eq(tool_error_code(last), "not_a_file");
    FAILS("ctx_read", "{\"path\":\".\"}");
    cr_assert_str_eq(tool_error_code(last), "not_a_file");
    cr_assert_str_eq(FAILS("ctx_read", "{\"path\":\"src/nope.c\"}"),
                     "ERROR: src/nope.c does not exist");
    cr_assert_str_eq(tool_error_code(last), "not_found");
    resp *r = call_tool(&S, S.token, "ctx_read", "{}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(error_code(r), "invalid_arguments");
    resp_free(r);
}

Test(read, empty_file)
{
    ws_write(&S, "empty.txt", "");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"empty.txt\",\"mode\":\"full\"}"),
                     "empty.txt 0L sha:e3b0c44298fc");
    cr_assert_str_eq(OK("ctx_read", "{\"path\":\"empty.txt\",\"mode\":\"anchored\"}"),
                     "empty.txt 0L [anchored: N:hhhh|line]");
    FAILS("ctx_read", "{\"path\":\"empty.txt\",\"mode\":\"lines:1\"}");
    cr_assert_str_eq(tool_error_code(last), "out_of_range");
}

/* ---- ctx_search ---------------------------------------------------------------------------- */

static void search_fixture(const char *extra)
{
    ws_write(&S, "src/a.c", "parse(x);\nint y;\nparse(y); parse(z);\n");
    ws_write(&S, "src/b.c", "parse\n");
    ws_write(&S, "src/d.c", "parse\nparse\n");
    ws_write(&S, "lib/c.h", "parse parse\nparse\nparse\n");
    srv_up(&S, extra);
}

Test(search, count_order_and_header)
{
    search_fixture("");
    /* files by match count (desc), then path; lines by number; a line counts once */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"parse\"}"),
                     "8 matches in 4 files [lib/c.h, src/a.c, src/d.c, src/b.c]:\n"
                     "lib/c.h:1 parse parse\n"
                     "lib/c.h:2 parse\n"
                     "lib/c.h:3 parse\n"
                     "src/a.c:1 parse(x);\n"
                     "src/a.c:3 parse(y); parse(z);\n"
                     "src/d.c:1 parse\n"
                     "src/d.c:2 parse\n"
                     "src/b.c:1 parse");
    /* one file: no bracket */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"int y\"}"),
                     "1 matches in 1 files:\nsrc/a.c:2 int y;");
    /* action=regex is the default and may be given */
    cr_assert_str_eq(OK("ctx_search", "{\"action\":\"regex\",\"pattern\":\"int y\"}"),
                     "1 matches in 1 files:\nsrc/a.c:2 int y;");
}

Test(search, zero_hits_and_max_results)
{
    search_fixture("");
    /* 7 files: README.md, src/{main,util,a,b,d}.c, lib/c.h */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"nomatch\"}"),
                     "0 matches for 'nomatch' in 7 files");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"parse\",\"max_results\":4}"),
                     "8 matches in 4 files [lib/c.h, src/a.c, src/d.c, src/b.c]:\n"
                     "lib/c.h:1 parse parse\n"
                     "lib/c.h:2 parse\n"
                     "lib/c.h:3 parse\n"
                     "src/a.c:1 parse(x);\n"
                     "(+4 more matches not shown; raise max_results or narrow path)");
    json_t *sc = structured_content(last);
    cr_assert_eq(json_array_size(json_object_get(sc, "matches")), 4);
    cr_assert(json_is_true(json_object_get(sc, "truncated")));
    resp *r = call_tool(&S, S.token, "ctx_search", "{\"pattern\":\"x\",\"max_results\":501}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    resp_free(r);
}

Test(search, bracket_lists_eight_files_then_the_rest)
{
    for (int i = 0; i < 11; i++) {
        char p[32];
        snprintf(p, sizeof p, "m/f%02d.txt", i);
        ws_write(&S, p, "needle\n");
    }
    srv_up(&S, "");
    const char *t = OK("ctx_search", "{\"pattern\":\"needle\",\"max_results\":1}");
    cr_assert_str_eq(t, "11 matches in 11 files [m/f00.txt, m/f01.txt, m/f02.txt, m/f03.txt, "
                        "m/f04.txt, m/f05.txt, m/f06.txt, m/f07.txt, +3 more]:\n"
                        "m/f00.txt:1 needle\n"
                        "(+10 more matches not shown; raise max_results or narrow path)");
}

Test(search, include_exclude_and_exclude_pattern)
{
    search_fixture("");
    ws_write(&S, "docs/parse.md", "parse\n");
    cr_assert_eq(matches_of(OK("ctx_search", "{\"pattern\":\"parse\"}")), 9);
    cr_assert_eq(matches_of(OK("ctx_search", "{\"pattern\":\"parse\",\"include\":\"*.{c,h}\"}")),
                 8);
    cr_assert_str_eq(
        OK("ctx_search", "{\"pattern\":\"parse\",\"include\":\"*.h\"}"),
        "3 matches in 1 files:\nlib/c.h:1 parse parse\nlib/c.h:2 parse\nlib/c.h:3 parse");
    cr_assert_eq(matches_of(OK("ctx_search", "{\"pattern\":\"parse\",\"include\":\"*.md, *.h\"}")),
                 4);
    /* exclude wins over include */
    cr_assert_eq(matches_of(OK("ctx_search", "{\"pattern\":\"parse\",\"include\":\"*.{c,h}\","
                                             "\"exclude\":\"lib/**\"}")),
                 5);
    /* include is relative to the search path */
    cr_assert_str_eq(
        OK("ctx_search", "{\"pattern\":\"parse\",\"path\":\"src\",\"include\":\"b.c\"}"),
        "1 matches in 1 files:\nsrc/b.c:1 parse");
    /* exclude_pattern drops result lines, and the count follows */
    cr_assert_str_eq(
        OK("ctx_search",
           "{\"pattern\":\"parse\",\"path\":\"src/a.c\",\"exclude_pattern\":\"\\\\(z\\\\)\"}"),
        "1 matches in 1 files:\nsrc/a.c:1 parse(x);");
    FAILS("ctx_search", "{\"pattern\":\"parse\",\"include\":\"[x\"}");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    FAILS("ctx_search", "{\"pattern\":\"parse\",\"exclude_pattern\":\"(\"}");
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
}

Test(search, hidden_ignored_and_named_files)
{
    cr_assert_eq(ws_sh(&S, "git init -q ."), 0);
    ws_write(&S, ".gitignore", "gen/\n");
    ws_write(&S, "gen/out.c", "needle\n");
    ws_write(&S, ".github/w.yml", "needle\n");
    ws_write(&S, ".hidden.c", "needle\n");
    ws_write(&S, "src/x.c", "needle\n");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\"}"),
                     "1 matches in 1 files:\nsrc/x.c:1 needle");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\",\"hidden\":true}"),
                     "3 matches in 3 files [.github/w.yml, .hidden.c, src/x.c]:\n"
                     ".github/w.yml:1 needle\n"
                     ".hidden.c:1 needle\n"
                     "src/x.c:1 needle");
    /* a hidden directory named as the path is itself searched */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\",\"path\":\".github\"}"),
                     "1 matches in 1 files:\n.github/w.yml:1 needle");
    /* a path naming a file is searched even when it is ignored or hidden (rg FILE) */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\",\"path\":\"gen/out.c\"}"),
                     "1 matches in 1 files:\ngen/out.c:1 needle");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\",\"path\":\".hidden.c\"}"),
                     "1 matches in 1 files:\n.hidden.c:1 needle");
    /* several roots; a file found under two of them is searched once */
    cr_assert_eq(
        matches_of(OK("ctx_search", "{\"pattern\":\"needle\",\"paths\":[\"src\",\"gen/out.c\"]}")),
        2);
    cr_assert_str_eq(
        OK("ctx_search", "{\"pattern\":\"needle\",\"paths\":[\".\",\"src\",\"src/x.c\"]}"),
        "1 matches in 1 files:\nsrc/x.c:1 needle");
    FAILS("ctx_search", "{\"pattern\":\"needle\",\"path\":\"nope\"}");
    cr_assert_str_eq(tool_error_code(last), "not_found");
}

Test(search, binary_and_secret_files_are_skipped_with_notes)
{
    ws_write_bytes(&S, "bin.dat", "needle\0\1\2", 9);
    ws_write(&S, "id_rsa", "needle\n");
    ws_write(&S, "conf/credentials.json", "needle\n");
    ws_write(&S, ".env", "needle\n");
    ws_write(&S, "src/x.c", "needle\n");
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\"}"),
                     "1 matches in 1 files:\n"
                     "src/x.c:1 needle\n"
                     "(1 files skipped: binary/encoding)\n"
                     "(2 secret-like files skipped by boundary policy)");
    /* .env is hidden: counted among the secrets only when hidden files are searched */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"needle\",\"hidden\":true}"),
                     "1 matches in 1 files:\n"
                     "src/x.c:1 needle\n"
                     "(1 files skipped: binary/encoding)\n"
                     "(3 secret-like files skipped by boundary policy)");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"nomatch\"}"),
                     "0 matches for 'nomatch' in 5 files\n"
                     "(1 files skipped: binary/encoding)\n"
                     "(2 secret-like files skipped by boundary policy)");
    /* a denied file is never searched, even when named */
    FAILS("ctx_search", "{\"pattern\":\"needle\",\"path\":\"id_rsa\"}");
    cr_assert_str_eq(tool_error_code(last), "path_denied");
}

Test(search, utf16_files_are_transcoded_not_skipped)
{
    /* UTF-16 LE with BOM: "x\nneedle\n" */
    ws_write_bytes(&S, "w.txt",
                   "\xff\xfex\x00\n\x00n\x00"
                   "e\x00"
                   "e\x00"
                   "d\x00l\x00"
                   "e\x00\n\x00",
                   20);
    ws_write_bytes(&S, "bom8.txt", "\xef\xbb\xbfneedle\n", 10);
    srv_up(&S, "");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"^needle\"}"),
                     "2 matches in 2 files [bom8.txt, w.txt]:\n"
                     "bom8.txt:1 needle\n"
                     "w.txt:2 needle");
}

Test(search, regex_features_and_errors)
{
    search_fixture("");
    ws_write(&S, "crlf.txt", "PARSE me\r\nnot me\n");
    cr_assert_eq(matches_of(OK("ctx_search", "{\"pattern\":\"(?i)PARSE\"}")), 9);
    /* as rg without --crlf: `$` does not match before a \r, and the display drops the \r */
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"me$\"}"),
                     "1 matches in 1 files:\ncrlf.txt:2 not me");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"^PARSE\"}"),
                     "1 matches in 1 files:\ncrlf.txt:1 PARSE me");
    cr_assert_str_eq(
        OK("ctx_search", "{\"pattern\":\"\\\\bparse\\\\(\\\\w\\\\)\",\"path\":\"src\"}"),
        "2 matches in 1 files:\nsrc/a.c:1 parse(x);\nsrc/a.c:3 parse(y); parse(z);");
    const char *t = FAILS("ctx_search", "{\"pattern\":\"(unclosed\"}");
    cr_assert(strncmp(t, "ERROR: invalid regex: ", 22) == 0, "%s", t);
    cr_assert_str_eq(tool_error_code(last), "invalid_pattern");
    /* a missing argument is refused before the tool runs (tools.md §1.2) */
    resp *r = call_tool(&S, S.token, "ctx_search", "{\"path\":\"src\"}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(error_code(r), "invalid_arguments");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                     "pattern is required for action=regex");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_search",
                  "{\"queries\":[{\"pattern\":\"a\"},{\"path\":\"src\"}]}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                     "queries[1]: pattern is required for action=regex");
    resp_free(r);
}

Test(search, empty_files_have_no_lines)
{
    ws_write(&S, "empty.txt", "");
    ws_write(&S, "one.txt", "x");
    srv_up(&S, "");
    /* rg -c '^' counts lines; an empty file has none, a file without final newline has one */
    cr_assert_eq(matches_of(OK("ctx_search", "{\"pattern\":\"^\"}")), 3 + 3 + 4 + 1);
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"^$\",\"path\":\"empty.txt\"}"),
                     "0 matches for '^$' in 1 files");
}

Test(search, anchored_hits)
{
    search_fixture("");
    char *a = sh_out("printf %%s 'parse' | sha256sum | cut -c1-4");
    cr_assert(a && strlen(a) == 5);
    a[4] = '\0';
    char want[256];
    snprintf(want, sizeof want,
             "1 matches in 1 files:\n[anchored: path:line:hhhh]\nsrc/b.c:1:%s parse", a);
    cr_assert_str_eq(
        OK("ctx_search", "{\"pattern\":\"parse\",\"path\":\"src/b.c\",\"anchored\":true}"), want);
    free(a);
    /* the hash is over the raw line, trailing blanks removed; the display trims */
    ws_write(&S, "sp.c", "    return 0;   \n");
    cr_assert_str_eq(
        OK("ctx_search", "{\"pattern\":\"return\",\"path\":\"sp.c\",\"anchored\":true}"),
        "1 matches in 1 files:\n[anchored: path:line:hhhh]\nsp.c:1:f291 return 0;");
}

Test(search, long_lines_are_windowed_to_150_code_points)
{
    char line[2048] = "    ";
    for (int i = 0; i < 200; i++) {
        strcat(line, "\xc3\xa9"); /* é */
    }
    strcat(line, "NEEDLE");
    for (int i = 0; i < 200; i++) {
        strcat(line, "\xc3\xbc"); /* ü */
    }
    strcat(line, "\n");
    ws_write(&S, "long.txt", line);
    char start[1024] = "NEEDLE";
    for (int i = 0; i < 300; i++) {
        strcat(start, "x");
    }
    strcat(start, "\n");
    ws_write(&S, "start.txt", start);
    srv_up(&S, "");
    /* 50 code points before the match, 150 in all, … at each cut end */
    char want[2048] = "1 matches in 1 files:\nlong.txt:1 \xe2\x80\xa6";
    for (int i = 0; i < 50; i++) {
        strcat(want, "\xc3\xa9");
    }
    strcat(want, "NEEDLE");
    for (int i = 0; i < 94; i++) {
        strcat(want, "\xc3\xbc");
    }
    strcat(want, "\xe2\x80\xa6");
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"NEEDLE\",\"path\":\"long.txt\"}"), want);
    /* a match at the start: cut at the end only */
    snprintf(want, sizeof want, "1 matches in 1 files:\nstart.txt:1 NEEDLE%.144s\xe2\x80\xa6",
             start + 6);
    cr_assert_str_eq(OK("ctx_search", "{\"pattern\":\"NEEDLE\",\"path\":\"start.txt\"}"), want);
}

Test(search, queries_batch)
{
    search_fixture("");
    cr_assert_str_eq(OK("ctx_search", "{\"queries\":[{\"pattern\":\"parse\",\"path\":\"src/d.c\"},"
                                      "{\"pattern\":\"nomatch\",\"path\":\"src\"}]}"),
                     "[query 1/2] 'parse'\n"
                     "2 matches in 1 files:\n"
                     "src/d.c:1 parse\n"
                     "src/d.c:2 parse\n"
                     "\n"
                     "[query 2/2] 'nomatch'\n"
                     "0 matches for 'nomatch' in 5 files");
    resp *r = call_tool(
        &S, S.token, "ctx_search",
        "{\"queries\":[{\"pattern\":\"a\"},{\"pattern\":\"a\"},{\"pattern\":\"a\"},"
        "{\"pattern\":\"a\"},{\"pattern\":\"a\"},{\"pattern\":\"a\"},{\"pattern\":\"a\"},"
        "{\"pattern\":\"a\"},{\"pattern\":\"a\"},{\"pattern\":\"a\"},{\"pattern\":\"a\"}]}");
    cr_assert_eq(r->status, 400, "at most 10 queries: %s", r->body);
    resp_free(r);
}

/* ctx_search's N equals what `rg -c PATTERN` sums to on the same tree: a git repository with
 * nested ignore rules and a nested repository, hidden files, a binary file, an empty file, CRLF
 * lines, a UTF-16 file and a file without a final newline. */
Test(search, match_counts_equal_ripgrep)
{
    if (system("command -v rg >/dev/null 2>&1") != 0) {
        cr_skip_test("ripgrep (rg) is not installed");
    }
    cr_assert_eq(ws_sh(&S, "git init -q ."), 0);
    ws_write(&S, ".gitignore", "ignored/\n*.gen\n!keep.gen\n");
    ws_write(&S, "pkg/.gitignore", "local_*\n");
    for (int i = 0; i < 80; i++) { /* over 64 candidates: the search runs on several threads */
        char p[64], body[512];
        snprintf(p, sizeof p, "pkg/m%02d/file%d.c", i % 7, i);
        snprintf(body, sizeof body,
                 "/* file %d */\nint foo_%d(void);\n\nstatic int bar = %d; // TODO foo\n%s%s", i, i,
                 i, i % 3 ? "FOO();\n" : "", i % 5 ? "  foofoo  \n" : "last foo");
        ws_write(&S, p, body);
    }
    ws_write(&S, "pkg/local_x.c", "foo\n");
    /* a nested repository: the outer rules stop at its top, its own apply */
    cr_assert_eq(ws_sh(&S, "git init -q nested"), 0);
    ws_write(&S, "nested/x.gen", "foo\n");
    ws_write(&S, "nested/.gitignore", "*.tmp\n");
    ws_write(&S, "nested/y.tmp", "foo\n");
    ws_write(&S, "nested/ignored/z.c", "foo\n");
    ws_write(&S, "ignored/a.c", "foo\nfoo\n");
    ws_write(&S, "x.gen", "foo\n");
    ws_write(&S, "keep.gen", "foo\nfoo foo\n");
    ws_write(&S, ".hidden/h.c", "foo\n");
    ws_write(&S, ".h.c", "foo\n");
    ws_write_bytes(&S, "blob.bin", "foo\0\0\0foo\n", 10);
    ws_write(&S, "empty.c", "");
    ws_write(&S, "crlf.c", "foo\r\n\r\nfoo bar\r\n");
    ws_write_bytes(&S, "wide.txt",
                   "\xff\xfe"
                   "f\x00o\x00o\x00\n\x00",
                   10);
    srv_up(&S, "");
    /* literal-led patterns (the prefilter path) and others (the whole-buffer path) */
    const char *patterns[] = {"foo",
                              "^",
                              "^$",
                              "(?i)FOO",
                              "fo+\\b",
                              "foo\\w*\\(",
                              "\\d+;",
                              "^\\s*$",
                              "static int \\w+",
                              "(?i)todo foo",
                              "\\bfoo_1\\d\\(",
                              "oo\\s*$"};
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        char *rg = sh_out("cd '%s' && rg --no-config --no-ignore-global -c -e '%s' . | "
                          "awk -F: '{s += $NF} END {print s + 0}'",
                          S.ws, patterns[i]);
        cr_assert(rg, "rg failed");
        long want = strtol(rg, NULL, 10);
        free(rg);
        json_t *pat = json_string(patterns[i]);
        char *pj = json_dumps(pat, JSON_ENCODE_ANY);
        long got = matches_of(OK("ctx_search", "{\"pattern\":%s,\"max_results\":1}", pj));
        cr_assert_eq(got, want, "pattern %s: ctx_search %ld, rg %ld", patterns[i], got, want);
        free(pj);
        json_decref(pat);
    }
    /* hidden=true is rg --hidden */
    char *rg = sh_out("cd '%s' && rg --no-config --no-ignore-global --hidden -c -e foo . | "
                      "awk -F: '{s += $NF} END {print s + 0}'",
                      S.ws);
    long want = strtol(rg, NULL, 10);
    free(rg);
    long got =
        matches_of(OK("ctx_search", "{\"pattern\":\"foo\",\"hidden\":true,\"max_results\":1}"));
    cr_assert_eq(got, want, "hidden: ctx_search %ld, rg %ld", got, want);
    cr_assert_eq(got, matches_of(OK("ctx_search", "{\"pattern\":\"foo\",\"max_results\":1}")) + 2,
                 "the two hidden files");
}

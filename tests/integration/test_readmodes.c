/* test_readmodes.c - ctx_read's compressed modes through HTTP (tools.md §2.1): signatures and
 * map on real parses, auto's choice stated in the header, the anti-inflation rule and the
 * issue's "never more tokens than full", lean-ctx's spellings, and `diff` against the per-caller
 * read ledger (§1.7): no earlier version, unchanged, a real edit with its hunks, and callers
 * (token, channel) that do not share baselines.
 *
 * The exact renderings of each mode on small fixtures are unit-tested (tests/unit/test_read.c);
 * here the point is what an agent sees end to end, structuredContent included. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "toolsuite.h"

TestSuite(readmodes, .init = tool_suite_init, .fini = tool_suite_fini, .timeout = 30);

/* ctx_read with printf-formatted arguments as token tok; asserts HTTP 200, no isError; returns
 * the text (valid until the next call) */
#define read_as(tok, ...) tool_callf(&S, &last, (tok), false, "ctx_read", __VA_ARGS__)
#define READ(...) read_as(S.token, __VA_ARGS__)
#define cr_assert_prefix(text, want)                                                               \
    cr_assert(strncmp((text), (want), strlen(want)) == 0,                                          \
              "want a text starting with:\n%s\ngot:\n%s", (want), (text))

static json_t *sc(void)
{
    return structured_content(last);
}

static long long sent_tokens(void)
{
    return json_integer_value(json_object_get(json_object_get(sc(), "tokens"), "sent"));
}

static const char *sc_mode(void)
{
    return json_string_value(json_object_get(sc(), "mode"));
}

/* a C file of n functions (each 6 lines) */
static void write_c(const char *rel, int n)
{
    size_t cap = (size_t)n * 200 + 64;
    char *s = malloc(cap);
    size_t o = (size_t)snprintf(s, cap, "#include <stdio.h>\n\n");
    for (int i = 0; i < n; i++) {
        o += (size_t)snprintf(s + o, cap - o,
                              "/* helper %d computes a value from its arguments */\n"
                              "int helper_%d(int a, int b)\n{\n    int r = a * %d + b;\n"
                              "    return r;\n}\n",
                              i, i, i);
    }
    ws_write(&S, rel, s);
    free(s);
}

Test(readmodes, signatures_of_a_real_file)
{
    write_c("src/gen.c", 40);
    srv_up(&S, "");
    const char *t = READ("{\"path\":\"src/gen.c\",\"mode\":\"signatures\"}");
    cr_assert_prefix(t,
                     "src/gen.c 242L\n deps stdio.h\nfn pub helper_0(int a, int b) → int @L4-8\n");
    cr_assert(strstr(t, "\nfn pub helper_39(int a, int b) → int @L238-242\n"), "%s", t);
    int fns = 0;
    for (const char *p = t; (p = strstr(p, "\nfn pub helper_")) != NULL; p++) {
        fns++;
    }
    cr_assert_eq(fns, 40, "every function is listed");
    cr_assert(strstr(t, "\n  ↳ expand a symbol: ctx_read(\"src/gen.c\", mode=\"lines:N-M\") using "
                        "the spans above\n↳ re-target any symbol: "),
              "%s", t);
    cr_assert_str_eq(sc_mode(), "signatures");
    json_t *tok = json_object_get(sc(), "tokens");
    long long orig = json_integer_value(json_object_get(tok, "original"));
    cr_assert_lt(sent_tokens() * 2, orig, "signatures is a fraction of the file (%lld of %lld)",
                 sent_tokens(), orig);
    cr_assert_eq(json_integer_value(json_object_get(sc(), "lines")), 242);
}

Test(readmodes, auto_states_its_choice)
{
    write_c("src/gen.c", 80); /* ~ 2700 tokens: over 2000 */
    static char md[40000] = "";
    for (int i = 0; i < 400; i++) {
        char l[100];
        snprintf(l, sizeof l, "## Section %d\n\nSome words about section %d here.\n\n", i, i);
        strcat(md, l);
    }
    ws_write(&S, "docs/big.md", md);
    static char txt[16000] = "", txt2[32000] = "";
    for (int i = 0; i < 600; i++) {
        strcat(txt, "key_value value_key\n");
    }
    for (int i = 0; i < 1200; i++) {
        strcat(txt2, i % 2 ? "\n" : "key_value value_key  \n");
    }
    ws_write(&S, "data.unknownext", txt);
    ws_write(&S, "gaps.unknownext", txt2);
    srv_up(&S, "");
    const char *t = READ("{\"path\":\"src/gen.c\"}");
    cr_assert_prefix(t, "src/gen.c 482L mode:auto→signatures\n deps stdio.h\n");
    cr_assert_str_eq(sc_mode(), "signatures");
    t = READ("{\"path\":\"docs/big.md\",\"mode\":\"auto\"}");
    cr_assert_prefix(t, "docs/big.md 1600L mode:auto→map\n## Section 0 @L1\n## Section 1 @L5\n");
    cr_assert_str_eq(sc_mode(), "map");
    t = READ("{\"path\":\"data.unknownext\"}");
    /* nothing to strip in an unknown format: aggressive would not be smaller than full */
    cr_assert_prefix(t, "data.unknownext 600L sha:");
    cr_assert(strstr(t, " mode:auto→full\nkey_value value_key\n"), "%s", t);
    cr_assert_str_eq(sc_mode(), "full");
    /* blank lines and trailing blanks to drop: aggressive it is */
    t = READ("{\"path\":\"gaps.unknownext\"}");
    cr_assert_prefix(
        t, "gaps.unknownext 1200L aggressive (kept 600 of 1200 lines) mode:auto→aggressive\n"
           "key_value value_key\nkey_value value_key\n");
    cr_assert_str_eq(sc_mode(), "aggressive");
    t = READ("{\"path\":\"src/util.c\"}");
    cr_assert(strstr(t, "src/util.c 4L sha:") == t && strstr(t, " mode:auto→full\n"), "%s", t);
}

Test(readmodes, anti_inflation_serves_full)
{
    srv_up(&S, "");
    char *h = ws_sha12(&S, "src/util.c");
    char want[512];
    /* the signature list of a 4-line file (with its hints) is longer than the file */
    snprintf(want, sizeof want,
             "src/util.c 4L sha:%s mode:signatures→full\nint add(int a, int b)\n{\n    return a + "
             "b;\n}",
             h);
    cr_assert_str_eq(READ("{\"path\":\"src/util.c\",\"mode\":\"signatures\"}"), want);
    cr_assert_str_eq(sc_mode(), "full");
    snprintf(want, sizeof want,
             "src/util.c 4L sha:%s mode:entropy→full\nint add(int a, int b)\n{\n    return a + "
             "b;\n}",
             h);
    cr_assert_str_eq(READ("{\"path\":\"src/util.c\",\"mode\":\"entropy\"}"), want);
    free(h);
}

Test(readmodes, never_more_tokens_than_full)
{
    write_c("src/gen.c", 30);
    ws_write(&S, "m.py",
             "import os\n\n\nclass A:\n    def f(self, x):\n        return x  # c\n\n\n"
             "def g():\n    '''doc # x'''\n    return 1\n");
    ws_write(&S, "conf.json", "{\n  \"a\": {\"b\": [1, 2, 3]},\n  \"c\": \"d\"\n}\n");
    ws_write(&S, "notes.md", "# A\n\ntext\n\n## B\n\nmore text\n");
    ws_write(&S, "one.txt", "x\n");
    ws_write(&S, "empty.c", "");
    srv_up(&S, "");
    const char *files[] = {"src/gen.c", "m.py",    "conf.json", "notes.md",
                           "one.txt",   "empty.c", "README.md", "src/main.c"};
    const char *modes[] = {"signatures", "map", "aggressive", "entropy", "auto", "diff"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        READ("{\"path\":\"%s\",\"mode\":\"full\"}", files[i]);
        /* what full would send under another mode's name: its header may carry the suffix
           ` mode:signatures→full` (at most 24 bytes) */
        long long full = sent_tokens() + 6;
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            const char *t = READ("{\"path\":\"%s\",\"mode\":\"%s\"}", files[i], modes[m]);
            cr_assert_leq(sent_tokens(), full, "%s %s: %lld tokens, full is %lld:\n%s", files[i],
                          modes[m], sent_tokens(), full, t);
        }
    }
}

Test(readmodes, lean_ctx_spellings)
{
    write_c("src/gen.c", 30);
    srv_up(&S, "");
    const char *t = READ("{\"path\":\"src/gen.c\",\"mode\":\"full-compact\"}");
    cr_assert_prefix(t, "[note: mode 'full-compact' is not offered; served as 'aggressive']\n"
                        "src/gen.c 182L aggressive (kept 151 of 182 lines)\n#include <stdio.h>\n"
                        "int helper_0(int a, int b)\n{\n");
    cr_assert_str_eq(sc_mode(), "aggressive");
    t = READ("{\"path\":\"src/gen.c\",\"mode\":\"cognitive\"}");
    cr_assert_prefix(t, "[note: mode 'cognitive' is not offered; served as 'map']\nsrc/gen.c 182L\n"
                        "  deps: stdio.h\n  API:\n    fn pub helper_0(int a, int b) → int @L4-8\n");
    t = READ("{\"path\":\"src/gen.c\",\"mode\":\"density:0.30\"}");
    cr_assert_prefix(t, "[note: mode 'density:0.30' is not offered; served as 'entropy']\n");
    resp_free(last);
    last = call_tool(&S, S.token, "ctx_read", "{\"path\":\"src/gen.c\",\"mode\":\"density:2\"}");
    cr_assert_eq(last->status, 400, "%s", last->body);
}

Test(readmodes, diff_against_what_this_caller_received)
{
    write_c("src/gen.c", 10);
    srv_up(&S, "");
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[no cached version for diff — use mode=full first]");
    cr_assert_str_eq(sc_mode(), "diff");
    /* that read was a delivery too: now there is a baseline, and it is unchanged */
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[unchanged: src/gen.c — no edits detected]");
    char *old = ws_sha12(&S, "src/gen.c");
    /* an edit: line 18 changes, a line is added after line 32 */
    cr_assert_eq(ws_sh(&S, "sed -i -e '18s/.*/    int r = a * 2 - b; \\/\\/ edited/' -e '32a\\"
                           "extra line' src/gen.c"),
                 0);
    char want[2048];
    snprintf(want, sizeof want,
             "src/gen.c 63L diff vs sha:%s\n"
             "@@ -15,7 +15,7 @@\n"
             " /* helper 2 computes a value from its arguments */\n"
             " int helper_2(int a, int b)\n"
             " {\n"
             "-    int r = a * 2 + b;\n"
             "+    int r = a * 2 - b; // edited\n"
             "     return r;\n"
             " }\n"
             " /* helper 3 computes a value from its arguments */\n"
             "@@ -30,6 +30,7 @@\n"
             "     int r = a * 4 + b;\n"
             "     return r;\n"
             " }\n"
             "+extra line\n"
             " /* helper 5 computes a value from its arguments */\n"
             " int helper_5(int a, int b)\n"
             " {",
             old);
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"), want);
    cr_assert_str_eq(sc_mode(), "diff");
    /* the diff delivered the new version: the next diff is against it */
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[unchanged: src/gen.c — no edits detected]");
    free(old);
}

Test(readmodes, baselines_are_per_token_and_channel)
{
    write_c("src/gen.c", 10);
    srv_config(&S, "");
    char other[80];
    cr_assert(srv_token(&S, "other", "search", other));
    cr_assert(srv_start(&S));
    READ("{\"path\":\"src/gen.c\",\"mode\":\"full\"}");
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[unchanged: src/gen.c — no edits detected]");
    cr_assert_str_eq(read_as(other, "{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[no cached version for diff — use mode=full first]",
                     "another token has no baseline");
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\",\"channelId\":\"feat/x\"}"),
                     "[no cached version for diff — use mode=full first]",
                     "another channel has no baseline");
    /* reference is not a delivery */
    READ("{\"path\":\"src/gen.c\",\"mode\":\"reference\",\"channelId\":\"c2\"}");
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\",\"channelId\":\"c2\"}"),
                     "[no cached version for diff — use mode=full first]");
}

Test(readmodes, no_blob_store_no_diff)
{
    write_c("src/gen.c", 10);
    srv_up(&S, "\"ledgerBlobBytes\": 0");
    READ("{\"path\":\"src/gen.c\",\"mode\":\"full\"}");
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[unchanged: src/gen.c — no edits detected]",
                     "the hash is known without content");
    cr_assert_eq(ws_sh(&S, "echo more >> src/gen.c"), 0);
    cr_assert_str_eq(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"),
                     "[no cached version for diff — use mode=full first]");
}

Test(readmodes, a_rewrite_is_served_whole_and_batches_mix_modes)
{
    write_c("src/gen.c", 10);
    srv_up(&S, "");
    READ("{\"path\":\"src/gen.c\",\"mode\":\"full\"}");
    /* every line changes: the diff (old and new) would be twice the file, so full it is */
    cr_assert_eq(ws_sh(&S, "sed -i 's/^/X/' src/gen.c"), 0);
    char *h = ws_sha12(&S, "src/gen.c");
    char want[128];
    snprintf(want, sizeof want, "src/gen.c 62L sha:%s mode:diff→full\nX#include <stdio.h>\n", h);
    cr_assert_prefix(READ("{\"path\":\"src/gen.c\",\"mode\":\"diff\"}"), want);
    cr_assert_str_eq(sc_mode(), "full");
    free(h);
    /* a batch: each file in the mode asked, each recorded; structuredContent per file */
    const char *t = READ("{\"paths\":[\"src/gen.c\",\"src/util.c\",\"nope.c\"],\"mode\":\"diff\"}");
    cr_assert_prefix(t, "[unchanged: src/gen.c — no edits detected]\n\n");
    cr_assert(strstr(t, "\n\nERROR: nope.c: "), "%s", t);
    json_t *files = json_object_get(sc(), "files");
    cr_assert_eq(json_array_size(files), 2, "%s", last->body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "mode")), "diff");
}

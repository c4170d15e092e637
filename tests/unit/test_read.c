/* test_read.c - ctx_read's mode grammar and anchors (src/tools/read.c, tools.md §2.1): every
 * accepted spelling and what it means, the malformed ones (invalid_arguments), the 50-segment
 * cap, sorting and merging of multi-select segments, and the worked anchor values. */
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

Test(read_mode, modes_served_as_another_say_so)
{
    const char *later[] = {"signatures",   "map",       "aggressive", "entropy", "diff",
                           "full-compact", "cognitive", "mdl",        "task"};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        ok(later[i]);
        cr_assert_eq(spec.kind, READ_FULL, "%s", later[i]);
        char want[128];
        snprintf(want, sizeof want, "[note: mode '%s' is not offered", later[i]);
        cr_assert(strncmp(spec.note, want, strlen(want)) == 0, "%s: %s", later[i], spec.note);
    }
    ok("density:0.30");
    cr_assert_eq(spec.kind, READ_FULL);
    cr_assert(strstr(spec.note, "'density:0.30'"), "%s", spec.note);
    ok("bogus");
    cr_assert_eq(spec.kind, READ_FULL);
    cr_assert_str_eq(spec.note, "[WARNING: unknown mode 'bogus', falling back to full]");
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

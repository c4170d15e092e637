/* test_ignore.c - gitignore rule files (src/ws/ignore.c): parsing, the name-at-any-depth rule,
 * anchoring, `**`, directory-only rules, negation, escapes, limits. Cases marked gitignore(5)
 * are the examples of that manual page. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "ws/ignore.h"

#define EX IGNORE_EXCLUDED
#define IN IGNORE_INCLUDED
#define NO IGNORE_NONE

static ignore_verdict verdict_n(const char *rules, size_t rules_len, const char *path, bool dir)
{
    ignore_rules *r = ignore_rules_parse(rules, rules_len);
    cr_assert(r);
    ignore_verdict v = ignore_rules_match(r, path, strlen(path), dir);
    ignore_rules_free(r);
    return v;
}

/* verdict of rules for a file / a directory */
static ignore_verdict file(const char *rules, const char *path)
{
    return verdict_n(rules, strlen(rules), path, false);
}
static ignore_verdict dir(const char *rules, const char *path)
{
    return verdict_n(rules, strlen(rules), path, true);
}

static size_t count(const char *rules)
{
    ignore_rules *r = ignore_rules_parse(rules, strlen(rules));
    cr_assert(r);
    size_t n = ignore_rules_count(r);
    ignore_rules_free(r);
    return n;
}

Test(ignore, name_without_slash_matches_at_any_depth)
{
    cr_assert_eq(file("*.o", "a.o"), EX);
    cr_assert_eq(file("*.o", "d/a.o"), EX);
    cr_assert_eq(file("*.o", "d/e/f/a.o"), EX);
    cr_assert_eq(file("*.o", "a.c"), NO);
    cr_assert_eq(file("*.o", "a.o/b"), NO, "only the last component is compared");
    cr_assert_eq(file("foo", "x/foo"), EX);
    cr_assert_eq(dir("foo", "x/foo"), EX, "a name rule matches directories too");
    cr_assert_eq(file("foo", "x/foobar"), NO);
    cr_assert_eq(file("f?o", "x/f/o"), NO);
}

Test(ignore, slash_in_middle_or_start_anchors)
{
    cr_assert_eq(file("doc/*.txt", "doc/a.txt"), EX);
    cr_assert_eq(file("doc/*.txt", "doc/x/a.txt"), NO, "* does not cross /");
    cr_assert_eq(file("doc/*.txt", "x/doc/a.txt"), NO);
    cr_assert_eq(file("/foo", "foo"), EX);
    cr_assert_eq(file("/foo", "a/foo"), NO);
    cr_assert_eq(file("/*.c", "x.c"), EX, "gitignore(5): /*.c matches cat-file.c");
    cr_assert_eq(file("/*.c", "mozilla-sha1/sha1.c"), NO, "gitignore(5)");
    cr_assert_eq(file("a/b", "a/b"), EX);
    cr_assert_eq(file("a/b", "x/a/b"), NO);
}

Test(ignore, directory_only_rules)
{
    /* gitignore(5): `doc/frotz/` matches the directory doc/frotz but not a/doc/frotz; `frotz/`
     * matches frotz and a/frotz, both directories */
    cr_assert_eq(dir("doc/frotz/", "doc/frotz"), EX);
    cr_assert_eq(dir("doc/frotz/", "a/doc/frotz"), NO);
    cr_assert_eq(file("doc/frotz/", "doc/frotz"), NO, "a file named like the rule stays");
    cr_assert_eq(dir("frotz/", "frotz"), EX);
    cr_assert_eq(dir("frotz/", "a/frotz"), EX);
    cr_assert_eq(file("frotz/", "a/frotz"), NO);
    cr_assert_eq(dir("*.d/", "x/y.d"), EX);
    cr_assert_eq(file("*.d/", "x/y.d"), NO);
}

Test(ignore, directory_rule_does_not_match_contents)
{
    /* the walker never descends into an excluded directory; this function answers only for the
     * directory itself */
    cr_assert_eq(dir("build/", "build"), EX);
    cr_assert_eq(file("build/", "build/x.o"), NO);
    cr_assert_eq(file("build/", "build/sub/x.o"), NO);
    cr_assert_eq(dir("build/", "build/sub"), NO);
    cr_assert_eq(file("build", "build/x.o"), NO);
}

Test(ignore, leading_double_star)
{
    cr_assert_eq(file("**/foo", "foo"), EX);
    cr_assert_eq(file("**/foo", "a/foo"), EX);
    cr_assert_eq(dir("**/foo", "a/b/foo"), EX);
    cr_assert_eq(file("**/foo", "a/foox"), NO);
    cr_assert_eq(file("**/foo/bar", "foo/bar"), EX, "gitignore(5)");
    cr_assert_eq(file("**/foo/bar", "x/y/foo/bar"), EX);
    cr_assert_eq(file("**/foo/bar", "bar"), NO);
    cr_assert_eq(file("**/foo/bar", "foo/x/bar"), NO);
}

Test(ignore, trailing_double_star)
{
    cr_assert_eq(file("abc/**", "abc/x"), EX, "gitignore(5): everything inside abc");
    cr_assert_eq(file("abc/**", "abc/x/y"), EX);
    cr_assert_eq(dir("abc/**", "abc/sub"), EX);
    cr_assert_eq(dir("abc/**", "abc"), NO, "but not abc itself");
    cr_assert_eq(file("abc/**", "x/abc/y"), NO, "anchored to the rule file's directory");
}

Test(ignore, middle_double_star)
{
    cr_assert_eq(file("a/**/b", "a/b"), EX, "gitignore(5)");
    cr_assert_eq(file("a/**/b", "a/x/b"), EX);
    cr_assert_eq(file("a/**/b", "a/x/y/b"), EX);
    cr_assert_eq(file("a/**/b", "a/xb"), NO);
    cr_assert_eq(file("a/**/b", "x/a/b"), NO);
    cr_assert_eq(file("a/**/b", "a/b/c"), NO);
}

Test(ignore, double_star_not_a_segment_is_a_star)
{
    cr_assert_eq(file("a**b", "axyb"), EX);
    cr_assert_eq(file("x/a**b", "x/a/b"), NO);
}

Test(ignore, negation_last_rule_wins)
{
    const char *r = "*.log\n!keep.log\n";
    cr_assert_eq(file(r, "a.log"), EX);
    cr_assert_eq(file(r, "keep.log"), IN);
    cr_assert_eq(file(r, "d/keep.log"), IN);
    cr_assert_eq(file(r, "a.txt"), NO);
    const char *rev = "!keep.log\n*.log\n";
    cr_assert_eq(file(rev, "keep.log"), EX, "a later rule overrides the negation");
    cr_assert_eq(file("*.log\n!keep.log\nkeep.log\n", "keep.log"), EX);
    cr_assert_eq(file("!x\n", "x"), IN, "a lone negation still says included");
}

Test(ignore, only_foo_example)
{
    /* gitignore(5): exclude everything except directory foo/bar */
    const char *r = "/*\n!/foo\n/foo/*\n!/foo/bar\n";
    cr_assert_eq(dir(r, "foo"), IN);
    cr_assert_eq(dir(r, "bar"), EX);
    cr_assert_eq(file(r, "top.txt"), EX);
    cr_assert_eq(dir(r, "foo/bar"), IN);
    cr_assert_eq(file(r, "foo/baz"), EX);
    cr_assert_eq(file(r, "foo/bar/x"), NO, "decided by the directories above it");
    const char *simple = "/*\n!/foo\n";
    cr_assert_eq(dir(simple, "foo"), IN);
    cr_assert_eq(file(simple, "bar"), EX);
    cr_assert_eq(file(simple, "foo/x"), NO);
}

Test(ignore, negated_directory_rule)
{
    const char *r = "*\n!*/\n";
    cr_assert_eq(dir(r, "src"), IN);
    cr_assert_eq(file(r, "src"), EX);
    cr_assert_eq(file(r, "src/a.c"), EX);
}

Test(ignore, comments_and_blank_lines)
{
    cr_assert_eq(count("# comment\n\n   \n*.o\n#another\n"), 1);
    cr_assert_eq(file("#foo\n", "#foo"), NO, "a comment is not a rule");
    cr_assert_eq(file("\\#foo\n", "#foo"), EX, "\\# is a literal #");
    cr_assert_eq(file(" #foo\n", " #foo"), EX, "only a # in the first column starts a comment");
    cr_assert_eq(file("\\!important\n", "!important"), EX, "\\! is a literal !");
    cr_assert_eq(file("\\!important\n", "important"), NO);
    cr_assert_eq(count("!\n/\n!/\n"), 0, "rules that could match nothing are dropped");
}

Test(ignore, trailing_spaces)
{
    cr_assert_eq(file("foo   \n", "foo"), EX);
    cr_assert_eq(file("foo   \n", "foo "), NO);
    cr_assert_eq(file("foo\\ \n", "foo "), EX, "an escaped trailing space is kept");
    cr_assert_eq(file("foo\\ \n", "foo"), NO);
    cr_assert_eq(file("foo\\  \n", "foo "), EX, "spaces after the escaped one go");
    cr_assert_eq(file("foo\\ \\ \n", "foo  "), EX);
    cr_assert_eq(file("a b\n", "a b"), EX, "inner spaces stay");
    cr_assert_eq(file("foo\t\n", "foo\t"), EX, "only spaces are trimmed, not tabs");
    cr_assert_eq(dir("build/  \n", "build"), EX, "trim happens before the trailing / is seen");
}

Test(ignore, escaped_wildcards)
{
    cr_assert_eq(file("\\*.c\n", "*.c"), EX);
    cr_assert_eq(file("\\*.c\n", "a.c"), NO);
    cr_assert_eq(file("a\\?\n", "a?"), EX);
    cr_assert_eq(file("[ab].c\n", "d/b.c"), EX);
    cr_assert_eq(file("{a,b}.c\n", "a.c"), NO, "braces are not gitignore syntax");
    cr_assert_eq(file("{a,b}.c\n", "{a,b}.c"), EX);
}

Test(ignore, crlf_line_endings)
{
    const char *r = "*.o\r\nbuild/\r\n!keep.o\r\n# c\r\n\r\n/top\r\n";
    cr_assert_eq(count(r), 4);
    cr_assert_eq(file(r, "a.o"), EX);
    cr_assert_eq(file(r, "keep.o"), IN);
    cr_assert_eq(dir(r, "x/build"), EX);
    cr_assert_eq(file(r, "top"), EX);
    cr_assert_eq(file("foo  \r\n", "foo"), EX, "spaces before the CR are trimmed too");
}

Test(ignore, bom_and_missing_final_newline)
{
    cr_assert_eq(file("\xef\xbb\xbf*.o", "a.o"), EX);
    cr_assert_eq(file("\xef\xbb\xbf#c\n*.o", "a.o"), EX);
    cr_assert_eq(count("a\nb"), 2);
    cr_assert_eq(count(""), 0);
}

Test(ignore, bytes_are_not_strings)
{
    const char rules[] = "a\0b\nc\n";
    cr_assert_eq(verdict_n(rules, sizeof rules - 1, "c", false), EX);
    ignore_rules *r = ignore_rules_parse(rules, sizeof rules - 1);
    cr_assert(r);
    cr_assert_eq(ignore_rules_count(r), 2);
    cr_assert_eq(ignore_rules_match(r, "a\0b", 3, false), EX);
    cr_assert_eq(ignore_rules_match(r, "a", 1, false), NO);
    cr_assert_eq(ignore_rules_match(r, "cx", 1, false), EX, "the path is bounded by its length");
    ignore_rules_free(r);
}

Test(ignore, empty_and_null)
{
    ignore_rules *r = ignore_rules_parse(NULL, 0);
    cr_assert(r);
    cr_assert_eq(ignore_rules_count(r), 0);
    cr_assert_eq(ignore_rules_match(r, "a", 1, false), NO);
    ignore_rules_free(r);
    cr_assert_eq(ignore_rules_match(NULL, "a", 1, false), NO);
    cr_assert_eq(ignore_rules_count(NULL), 0);
    ignore_rules_free(NULL);
}

Test(ignore, rule_count_cap)
{
    size_t n = IGNORE_MAX_RULES + 5;
    char *buf = malloc(n * 16);
    cr_assert(buf);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(buf + len, "f%zu\n", i);
    }
    ignore_rules *r = ignore_rules_parse(buf, len);
    cr_assert(r);
    cr_assert_eq(ignore_rules_count(r), IGNORE_MAX_RULES);
    char name[32];
    snprintf(name, sizeof name, "f%d", IGNORE_MAX_RULES - 1);
    cr_assert_eq(ignore_rules_match(r, name, strlen(name), false), EX);
    snprintf(name, sizeof name, "f%d", IGNORE_MAX_RULES);
    cr_assert_eq(ignore_rules_match(r, name, strlen(name), false), NO, "rules past the cap");
    ignore_rules_free(r);
    free(buf);
}

Test(ignore, long_line_is_cut)
{
    size_t n = IGNORE_MAX_LINE + 100;
    char *buf = malloc(n + 8);
    cr_assert(buf);
    memset(buf, 'a', n);
    memcpy(buf + n, "\nb\n", 3);
    ignore_rules *r = ignore_rules_parse(buf, n + 3);
    cr_assert(r);
    cr_assert_eq(ignore_rules_count(r), 2, "the following line is still read");
    cr_assert_eq(ignore_rules_match(r, buf, IGNORE_MAX_LINE, false), EX);
    cr_assert_eq(ignore_rules_match(r, buf, n, false), NO);
    cr_assert_eq(ignore_rules_match(r, "b", 1, false), EX);
    ignore_rules_free(r);
    free(buf);
}

Test(ignore, pathological_rule_is_fast)
{
    static char name[10001];
    memset(name, 'a', 10000);
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *rules = "*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/**/x\n";
    ignore_verdict v = verdict_n(rules, strlen(rules), name, false);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_eq(v, NO);
    cr_assert_lt(ms, 100.0, "took %.1f ms", ms);
}

Test(ignore, allocation_failures_give_null)
{
    const char *rules = "*.o\n!keep.o\nbuild/\n/top\n**/x/**\n";
    bool succeeded = false;
    for (long n = 0; n < 50 && !succeeded; n++) {
        alloc_fail_after(n);
        ignore_rules *r = ignore_rules_parse(rules, strlen(rules));
        alloc_fail_after(-1);
        if (r) {
            cr_assert_eq(ignore_rules_count(r), 5);
            cr_assert_eq(ignore_rules_match(r, "d/keep.o", 8, false), IN);
            ignore_rules_free(r);
            succeeded = true;
        }
    }
    cr_assert(succeeded);
}

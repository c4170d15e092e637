/* test_glob.c - wildmatch, compiled globs with braces, glob lists (src/ws/glob.c).
 *
 * Besides hand-written cases, wildmatch is checked against a deliberately naive backtracking
 * matcher over a few hundred thousand random small patterns and paths: the early aborts that
 * keep wildmatch polynomial are exactly the kind of optimisation that is wrong in a corner case,
 * and the naive matcher has none. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "ws/glob.h"

static bool wm(const char *pat, const char *text)
{
    return wildmatch(pat, strlen(pat), text, strlen(text));
}

static bool gm(const char *pat, const char *path)
{
    char why[128] = "";
    glob_pat *g = glob_compile(pat, strlen(pat), why, sizeof why);
    cr_assert(g, "glob '%s' refused: %s", pat, why);
    bool r = glob_match(g, path, strlen(path));
    glob_free(g);
    return r;
}

/* the reason a pattern is refused, "" when it is accepted */
static const char *refusal(const char *pat, size_t len)
{
    static char why[128];
    strcpy(why, "");
    glob_pat *g = glob_compile(pat, len, why, sizeof why);
    if (g) {
        glob_free(g);
        return "";
    }
    return why;
}

static bool lm(const char *spec, const char *path)
{
    char why[128] = "";
    glob_list *l = glob_list_compile(spec, strlen(spec), why, sizeof why);
    cr_assert(l, "list '%s' refused: %s", spec, why);
    bool r = glob_list_match(l, path, strlen(path));
    glob_list_free(l);
    return r;
}

static const char *list_refusal(const char *spec)
{
    static char why[128];
    strcpy(why, "");
    glob_list *l = glob_list_compile(spec, strlen(spec), why, sizeof why);
    if (l) {
        glob_list_free(l);
        return "";
    }
    return why;
}

static double elapsed_ms(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* ---- wildmatch ------------------------------------------------------------------------------ */

Test(wildmatch, literals)
{
    cr_assert(wm("foo", "foo"));
    cr_assert_not(wm("foo", "fo"));
    cr_assert_not(wm("foo", "foox"));
    cr_assert_not(wm("foo", "Foo"), "matching is case-sensitive");
    cr_assert(wm("", ""));
    cr_assert_not(wm("", "a"));
    cr_assert_not(wm("a", ""));
    cr_assert(wm("a/b", "a/b"));
}

Test(wildmatch, lengths_not_nul)
{
    cr_assert(wildmatch("foobar", 3, "foo", 3));
    cr_assert(wildmatch("*", 1, "abc/def", 3), "text is bounded by its length");
    cr_assert(wildmatch("a?c", 3, "a\0c", 3), "a NUL in the text is an ordinary byte");
    cr_assert(wildmatch(NULL, 0, NULL, 0));
    cr_assert_not(wildmatch(NULL, 0, "a", 1));
    cr_assert(wildmatch("*", 1, NULL, 0));
}

Test(wildmatch, question_mark)
{
    cr_assert(wm("f?o", "fxo"));
    cr_assert_not(wm("f?o", "fo"));
    cr_assert_not(wm("f?o", "f/o"), "? never matches /");
    cr_assert(wm("??", "\xc3\xa9"), "a two-byte UTF-8 character is two bytes");
    cr_assert_not(wm("?", "\xc3\xa9"));
}

Test(wildmatch, single_star)
{
    cr_assert(wm("*", "foo"));
    cr_assert(wm("*", ""));
    cr_assert_not(wm("*", "a/b"), "* never crosses /");
    cr_assert(wm("f*", "foo"));
    cr_assert(wm("*o", "foo"));
    cr_assert(wm("*.c", ".c"));
    cr_assert_not(wm("a*b", "a/b"));
    cr_assert(wm("a*b", "axxb"));
    cr_assert(wm("a*b*c", "abbbc"));
    cr_assert_not(wm("a*b*c", "abbbcd"));
    cr_assert(wm("*/b", "a/b"));
    cr_assert(wm("*/b", "/b"), "* matches an empty first component");
    cr_assert_not(wm("*/b", "a/c/b"));
    cr_assert(wm("a/*/c", "a/b/c"));
    cr_assert_not(wm("a/*/c", "a/b/x/c"));
    cr_assert(wm("*/*", "a/b"));
    cr_assert_not(wm("*", "a/"));
}

Test(wildmatch, double_star_segments)
{
    cr_assert(wm("**", "a/b/c"));
    cr_assert(wm("**", ""));
    cr_assert(wm("a/**", "a/b"));
    cr_assert(wm("a/**", "a/b/c"));
    cr_assert_not(wm("a/**", "a"), "a/** is what is inside a, not a itself");
    cr_assert_not(wm("a/**", "ab/c"));
    cr_assert(wm("**/b", "b"), "zero directories");
    cr_assert(wm("**/b", "a/b"));
    cr_assert(wm("**/b", "x/y/b"));
    cr_assert_not(wm("**/b", "xb"));
    cr_assert_not(wm("**/b", "b/x"));
    cr_assert(wm("a/**/b", "a/b"));
    cr_assert(wm("a/**/b", "a/x/b"));
    cr_assert(wm("a/**/b", "a/x/y/b"));
    cr_assert_not(wm("a/**/b", "a/xb"));
    cr_assert_not(wm("a/**/b", "x/a/b"));
    cr_assert(wm("**/*.c", "x.c"));
    cr_assert(wm("**/*.c", "a/b/x.c"));
    cr_assert_not(wm("**/*.c", "a/b/x.h"));
    cr_assert(wm("***", "a/b"), "a longer run of stars is one **");
    cr_assert(wm("a/**/**/b", "a/b"));
    cr_assert(wm("a/**/**/b", "a/x/y/z/b"));
}

Test(wildmatch, double_star_not_a_segment_is_a_star)
{
    cr_assert(wm("a**b", "axyb"));
    cr_assert_not(wm("a**b", "a/b"));
    cr_assert_not(wm("**a", "x/a"));
    cr_assert(wm("**a", "xa"));
    cr_assert_not(wm("a**", "ab/c"));
    cr_assert_not(wm("**.c", "d/x.c"));
}

Test(wildmatch, classes)
{
    cr_assert(wm("[abc]", "b"));
    cr_assert_not(wm("[abc]", "d"));
    cr_assert(wm("[!abc]", "d"));
    cr_assert_not(wm("[!abc]", "a"));
    cr_assert(wm("[^abc]", "d"));
    cr_assert(wm("[a-c]x", "bx"));
    cr_assert_not(wm("[a-c]x", "dx"));
    cr_assert(wm("[]]", "]"), "] first is a member");
    cr_assert(wm("[!]]", "a"));
    cr_assert_not(wm("[!]]", "]"));
    cr_assert(wm("[a-]", "-"), "- last is a member");
    cr_assert(wm("[-a]", "-"), "- first is a member");
    cr_assert(wm("[\\]]", "]"));
    cr_assert(wm("[\\-]", "-"));
    cr_assert_not(wm("[\\-]", "\\"));
    cr_assert(wm("[a-\\z]", "m"), "an escaped range end");
    cr_assert(wm("[]-a]", "_"), "a range may start with ]");
    cr_assert_not(wm("[/]", "/"), "no class matches /");
    cr_assert_not(wm("[!a]", "/"));
    cr_assert_not(wm("a[!x]b", "a/b"));
    cr_assert(wm("[*?]", "*"));
    cr_assert_not(wm("[*?]", "a"));
    cr_assert(wm("[[]", "["));
    cr_assert(wm("[[:]", ":"), "[: without :] is a [ member then a : member");
    cr_assert(wm("[[:]", "["));
}

Test(wildmatch, named_classes)
{
    cr_assert(wm("[[:digit:]]", "5"));
    cr_assert_not(wm("[[:digit:]]", "x"));
    cr_assert(wm("[[:alpha:][:digit:]]x", "7x"));
    cr_assert(wm("[[:alpha:]]", "Q"));
    cr_assert(wm("[[:alnum:]]", "q"));
    cr_assert(wm("[[:upper:]]", "Q"));
    cr_assert_not(wm("[[:upper:]]", "q"));
    cr_assert(wm("[[:lower:]]", "q"));
    cr_assert(wm("[[:space:]]", "\t"));
    cr_assert(wm("[[:blank:]]", " "));
    cr_assert_not(wm("[[:blank:]]", "\n"));
    cr_assert(wm("[[:punct:]]", "!"));
    cr_assert_not(wm("[[:punct:]]", "a"));
    cr_assert(wm("[[:xdigit:]]", "F"));
    cr_assert_not(wm("[[:xdigit:]]", "g"));
    cr_assert(wm("[[:cntrl:]]", "\x01"));
    cr_assert(wm("[[:print:]]", " "));
    cr_assert_not(wm("[[:graph:]]", " "));
    cr_assert(wm("[![:digit:]]", "a"));
    cr_assert_not(wm("[[:alpha:]]", "\xc3"), "bytes >= 0x80 are in no named class");
    cr_assert_not(wm("[[:nope:]]", "n"), "an unknown class matches nothing");
    cr_assert_not(wm("[[:nope:]]", "["));
}

Test(wildmatch, unterminated_class_matches_nothing)
{
    cr_assert_not(wm("[abc", "[abc"));
    cr_assert_not(wm("[abc", "a"));
    cr_assert_not(wm("x[", "x["));
    cr_assert_not(wm("*[a", "zzza"));
}

Test(wildmatch, escapes)
{
    cr_assert(wm("\\*", "*"));
    cr_assert_not(wm("\\*", "a"));
    cr_assert(wm("a\\?", "a?"));
    cr_assert_not(wm("a\\?", "ab"));
    cr_assert(wm("\\[a]", "[a]"));
    cr_assert(wm("\\a", "a"));
    cr_assert(wm("*\\*", "abc*"));
    cr_assert_not(wm("*\\*", "abc"));
    cr_assert_not(wm("a\\", "a\\"), "a trailing backslash matches nothing (as in git)");
    cr_assert_not(wm("a\\", "a"));
    cr_assert(wm("{a,b}", "{a,b}"), "braces mean nothing to wildmatch itself");
}

Test(wildmatch, pathological_star_chain_is_fast)
{
    static char text[10001];
    memset(text, 'a', 10000);
    const char *pat = "*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool r = wildmatch(pat, strlen(pat), text, 10000);
    double ms = elapsed_ms(&t0);
    cr_assert_not(r);
    cr_assert_lt(ms, 100.0, "took %.1f ms", ms);
    text[9999] = 'b';
    cr_assert(wildmatch(pat, strlen(pat), text, 10000));
}

Test(wildmatch, pathological_starstar_chains_are_fast)
{
    /* a deep path of short components against chains of ** segments and of stars within them */
    static char path[8192];
    size_t n = 0;
    while (n + 2 < 8000) {
        path[n++] = 'a';
        path[n++] = '/';
    }
    path[n++] = 'a';
    const char *pats[] = {
        "**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/x",
        "**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/x",
        "**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/x",
        "*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/x",
        "**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**b",
        "**/*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?x",
        "[a/]**[a/]**[a/]**[a/]**[a/]**[a/]**[a/]**[a/]**[a/]**[a/]**[a/]**x",
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bool r = wildmatch(pats[i], strlen(pats[i]), path, n);
        double ms = elapsed_ms(&t0);
        cr_assert_not(r, "pattern %zu", i);
        cr_assert_lt(ms, 100.0, "pattern %zu took %.1f ms", i, ms);
    }
}

/* The naive reference: same syntax (literals, `\x`, `?`, `*`, `**` segments), plain exhaustive
 * backtracking, no aborts, no shortcuts. Exponential, so only for tiny inputs. */
static bool ref_match(const char *pat0, const char *p, const char *pe, const char *t,
                      const char *te)
{
    if (p == pe) {
        return t == te;
    }
    if (*p == '*') {
        const char *first = p;
        while (p < pe && *p == '*') {
            p++;
        }
        bool cross = p - first >= 2 && (first == pat0 || first[-1] == '/') &&
                     (p == pe || *p == '/' || (*p == '\\' && p + 1 < pe && p[1] == '/'));
        if (cross && p < pe && *p == '/' && ref_match(pat0, p + 1, pe, t, te)) {
            return true; /* zero directories */
        }
        for (const char *s = t;; s++) {
            if (ref_match(pat0, p, pe, s, te)) {
                return true;
            }
            if (s == te || (!cross && *s == '/')) {
                return false;
            }
        }
    }
    if (t == te) {
        return false;
    }
    if (*p == '?') {
        return *t != '/' && ref_match(pat0, p + 1, pe, t + 1, te);
    }
    if (*p == '\\') {
        return p + 1 < pe && p[1] == *t && ref_match(pat0, p + 2, pe, t + 1, te);
    }
    return *p == *t && ref_match(pat0, p + 1, pe, t + 1, te);
}

Test(wildmatch, agrees_with_naive_matcher)
{
    static const char *const ptok[] = {"a", "b", "/", "*", "**", "?", "\\*", "\\", "**/", "/**"};
    static const char ttok[] = {'a', 'b', '/', '*', '\\'};
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t mismatches = 0;
    for (int iter = 0; iter < 300000; iter++) {
        char pat[64];
        char text[16];
        size_t pn = 0;
        size_t tn = 0;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t r = seed >> 11;
        size_t ptoks = r % 8;
        r /= 8;
        for (size_t i = 0; i < ptoks; i++) {
            const char *tok = ptok[r % 10];
            r /= 10;
            size_t k = strlen(tok);
            memcpy(pat + pn, tok, k);
            pn += k;
        }
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        r = seed >> 11;
        size_t tlen = r % 10;
        r /= 10;
        for (size_t i = 0; i < tlen; i++) {
            /* slashes and a's dominate, so matches are common */
            text[tn++] = ttok[(r % 8) < 5 ? (r % 8) % 3 : (r % 8) - 3];
            r /= 8;
        }
        bool want = ref_match(pat, pat, pat + pn, text, text + tn);
        bool got = wildmatch(pat, pn, text, tn);
        if (want != got && mismatches++ < 10) {
            cr_log_error("pattern '%.*s' text '%.*s': wildmatch %d, reference %d", (int)pn, pat,
                         (int)tn, text, got, want);
        }
    }
    cr_assert_eq(mismatches, 0);
}

/* ---- glob_compile / glob_match -------------------------------------------------------------- */

Test(glob, name_without_slash_matches_at_any_depth)
{
    cr_assert(gm("*.ts", "a.ts"));
    cr_assert(gm("*.ts", "a/b.ts"));
    cr_assert(gm("*.ts", "x/y/z/b.ts"));
    cr_assert_not(gm("*.ts", "a.tsx"));
    cr_assert_not(gm("*.ts", "a.ts/b"), "only the last component counts");
    cr_assert(gm("Makefile", "src/Makefile"));
    cr_assert_not(gm("Makefile", "src/Makefile.am"));
    cr_assert(gm("?", "dir/x"));
}

Test(glob, pattern_with_slash_matches_whole_path)
{
    cr_assert(gm("src/*.c", "src/a.c"));
    cr_assert_not(gm("src/*.c", "x/src/a.c"));
    cr_assert_not(gm("src/*.c", "src/a/b.c"));
    cr_assert(gm("src/**/*.c", "src/a.c"));
    cr_assert(gm("src/**/*.c", "src/a/b/c.c"));
    cr_assert(gm("**/test_*.c", "tests/unit/test_glob.c"));
    cr_assert(gm("**/test_*.c", "test_glob.c"));
    cr_assert(gm("docs/**", "docs/a/b.md"));
    cr_assert_not(gm("docs/**", "docs"));
}

Test(glob, leading_slash_anchors_and_is_dropped)
{
    cr_assert(gm("/foo", "foo"));
    cr_assert_not(gm("/foo", "a/foo"));
    cr_assert(gm("/*.c", "a.c"));
    cr_assert_not(gm("/*.c", "d/a.c"));
    cr_assert(gm("/src/*.c", "src/a.c"));
}

Test(glob, braces)
{
    cr_assert(gm("*.{c,h}", "a.c"));
    cr_assert(gm("*.{c,h}", "a.h"));
    cr_assert(gm("*.{c,h}", "d/e/a.h"));
    cr_assert_not(gm("*.{c,h}", "a.ch"));
    cr_assert_not(gm("*.{c,h}", "a.{c,h}"));
    cr_assert(gm("{src,lib}/**/*.rs", "lib/a/b.rs"));
    cr_assert_not(gm("{src,lib}/**/*.rs", "bin/a.rs"));
    cr_assert(gm("a{,b}", "a"), "an empty option");
    cr_assert(gm("a{,b}", "ab"));
    cr_assert(gm("{a}", "a"), "a single option");
    cr_assert(gm("x{a,b}y{c,d}z", "xbydz"));
    cr_assert_not(gm("x{a,b}y{c,d}z", "xbyz"));
}

Test(glob, nested_braces)
{
    cr_assert(gm("{a,b{c,d}}.txt", "a.txt"));
    cr_assert(gm("{a,b{c,d}}.txt", "bc.txt"));
    cr_assert(gm("{a,b{c,d}}.txt", "bd.txt"));
    cr_assert_not(gm("{a,b{c,d}}.txt", "b.txt"));
    cr_assert(gm("{{a,b},{c,{d,e}}}", "e"));
    cr_assert_not(gm("{{a,b},{c,{d,e}}}", "f"));
}

Test(glob, brace_alternatives_decide_anchoring_each)
{
    cr_assert(gm("{*.c,src/main.h}", "x/y.c"), "the *.c alternative matches at any depth");
    cr_assert(gm("{*.c,src/main.h}", "src/main.h"));
    cr_assert_not(gm("{*.c,src/main.h}", "x/src/main.h"));
    cr_assert(gm("{/a,b}", "a"));
    cr_assert_not(gm("{/a,b}", "x/a"));
    cr_assert(gm("{/a,b}", "x/b"));
    cr_assert_not(gm("/{a,b}", "x/b"), "the leading / anchors every alternative");
}

Test(glob, literal_braces_and_commas)
{
    cr_assert(gm("\\{a,b\\}", "{a,b}"));
    cr_assert_not(gm("\\{a,b\\}", "a"));
    cr_assert(gm("{[,],x}", ","), "a comma inside a class does not separate options");
    cr_assert(gm("{[,],x}", "x"));
    cr_assert(gm("{a\\,b,c}", "a,b"));
    cr_assert(gm("{[}],x}", "}"));
    cr_assert(gm("a}", "a}"), "a } that closes nothing is literal");
    cr_assert(gm("a,b", "a,b"), "outside braces a comma is literal");
}

Test(glob, alternatives_cap)
{
    /* ten digits cubed is exactly the cap */
    const char *d = "{0,1,2,3,4,5,6,7,8,9}";
    char pat[256];
    snprintf(pat, sizeof pat, "%s%s%s", d, d, d);
    cr_assert_str_eq(refusal(pat, strlen(pat)), "");
    cr_assert(gm(pat, "x/123"));
    cr_assert(gm(pat, "999"));
    cr_assert_not(gm(pat, "99"));
    /* one more alternative is refused */
    snprintf(pat, sizeof pat, "{%s%s%s,x}", d, d, d);
    cr_assert_str_eq(refusal(pat, strlen(pat)), "too many alternatives");
    /* 2^10 through nesting in sequence */
    char big[128] = "";
    for (int i = 0; i < 10; i++) {
        strcat(big, "{a,b}");
    }
    cr_assert_str_eq(refusal(big, strlen(big)), "too many alternatives");
    cr_assert_str_eq(refusal(big, strlen(big) - 5), "", "2^9 = 512 is allowed");
}

Test(glob, exponential_braces_refused_quickly)
{
    /* 2^200 alternatives: refused from the count, never built */
    char pat[1024] = "";
    for (int i = 0; i < 200; i++) {
        strcat(pat, "{a,b}");
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_str_eq(refusal(pat, strlen(pat)), "too many alternatives");
    cr_assert_lt(elapsed_ms(&t0), 100.0);
    /* deep nesting of single options is cheap and fine */
    char deep[GLOB_MAX_PATTERN + 1] = "";
    for (int i = 0; i < 500; i++) {
        strcat(deep, "{");
    }
    strcat(deep, "x");
    for (int i = 0; i < 500; i++) {
        strcat(deep, "}");
    }
    cr_assert(gm(deep, "a/x"));
    /* many empty groups with a few real ones */
    char groups[GLOB_MAX_PATTERN + 1] = "";
    for (int i = 0; i < 9; i++) {
        strcat(groups, "{a,b}");
    }
    while (strlen(groups) + 2 <= GLOB_MAX_PATTERN) {
        strcat(groups, "{}");
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert(gm(groups, "abababab/babababab"));
    cr_assert_lt(elapsed_ms(&t0), 200.0);
}

Test(glob, bad_patterns_and_reasons)
{
    cr_assert_str_eq(refusal("{a,b", 4), "unbalanced '{'");
    cr_assert_str_eq(refusal("*.{c,{h,x}", 10), "unbalanced '{'");
    cr_assert_str_eq(refusal("[abc", 4), "unterminated character class");
    cr_assert_str_eq(refusal("x[!]", 4), "unterminated character class");
    cr_assert_str_eq(refusal("[[:alpha:]", 10), "unterminated character class");
    cr_assert_str_eq(refusal("[[:nope:]]", 10), "unknown character class");
    cr_assert_str_eq(refusal("", 0), "empty pattern");
    cr_assert_str_eq(refusal("/", 1), "empty pattern");
    cr_assert_str_eq(refusal(NULL, 5), "empty pattern");
    cr_assert_str_eq(refusal("\\{a,b", 5), "", "an escaped { opens nothing");
    cr_assert_str_eq(refusal("[{]a,b", 6), "", "a { in a class opens nothing");
    static char longpat[GLOB_MAX_PATTERN + 2];
    memset(longpat, 'a', GLOB_MAX_PATTERN + 1);
    cr_assert_str_eq(refusal(longpat, GLOB_MAX_PATTERN + 1), "pattern too long");
    cr_assert_str_eq(refusal(longpat, GLOB_MAX_PATTERN), "");
}

Test(glob, reason_buffer_is_optional_and_bounded)
{
    cr_assert_null(glob_compile("{", 1, NULL, 0));
    char small[6];
    memset(small, 'x', sizeof small);
    cr_assert_null(glob_compile("{", 1, small, sizeof small));
    cr_assert_str_eq(small, "unbal");
}

Test(glob, null_safety)
{
    cr_assert_not(glob_match(NULL, "a", 1));
    glob_free(NULL);
    glob_pat *g = glob_compile("*", 1, NULL, 0);
    cr_assert(g);
    cr_assert(glob_match(g, NULL, 0));
    glob_free(g);
}

Test(glob, allocation_failures_are_reported)
{
    const char *pat = "{src,lib}/**/*.{c,h,cc,hh}";
    bool succeeded = false;
    for (long n = 0; n < 50 && !succeeded; n++) {
        char why[64] = "";
        alloc_fail_after(n);
        glob_pat *g = glob_compile(pat, strlen(pat), why, sizeof why);
        alloc_fail_after(-1);
        if (g) {
            cr_assert(glob_match(g, "lib/x/y.hh", 10));
            glob_free(g);
            succeeded = true;
        } else {
            cr_assert_str_eq(why, "out of memory");
        }
    }
    cr_assert(succeeded);
}

/* ---- glob lists ----------------------------------------------------------------------------- */

Test(glob_list, members_and_braces)
{
    cr_assert(lm("*.{c,h},*.py", "a.c"));
    cr_assert(lm("*.{c,h},*.py", "x/a.h"));
    cr_assert(lm("*.{c,h},*.py", "b/c.py"));
    cr_assert_not(lm("*.{c,h},*.py", "a.js"));
    cr_assert(lm("src/**,*.md", "src/a/b.c"));
    cr_assert(lm("src/**,*.md", "docs/x.md"));
    cr_assert_not(lm("src/**,*.md", "docs/x.c"));
}

Test(glob_list, empty_members_ignored)
{
    cr_assert(lm(",*.c,,", "a.c"));
    cr_assert_not(lm(",*.c,,", "a.h"));
    cr_assert_str_eq(list_refusal(""), "empty pattern");
    cr_assert_str_eq(list_refusal(",,,"), "empty pattern");
    cr_assert_str_eq(list_refusal(" , "), "empty pattern");
    cr_assert_null(glob_list_compile(NULL, 3, NULL, 0));
}

Test(glob_list, spaces_around_members)
{
    cr_assert(lm("*.c, *.h", "a.h"));
    cr_assert(lm(" *.c ,*.h ", "a.c"));
    cr_assert(lm("a\\ ,b", "a "), "an escaped trailing space stays");
    cr_assert_not(lm("a\\ ,b", "a"));
}

Test(glob_list, commas_that_do_not_split)
{
    cr_assert(lm("a\\,b", "a,b"));
    cr_assert_not(lm("a\\,b", "a"));
    cr_assert(lm("[,]x,y", ",x"));
    cr_assert(lm("[,]x,y", "y"));
    cr_assert(lm("{a,b},c", "b"));
    cr_assert(lm("{a,{b,c}},d", "c"));
}

Test(glob_list, member_errors)
{
    cr_assert_str_eq(list_refusal("*.c,{a"), "unbalanced '{'");
    cr_assert_str_eq(list_refusal("*.c,[a"), "unterminated character class");
    char spec[GLOB_MAX_PATTERN + 16] = "*.c,";
    memset(spec + 4, 'a', GLOB_MAX_PATTERN + 1);
    cr_assert_str_eq(list_refusal(spec), "pattern too long");
}

Test(glob_list, cap_counts_all_members)
{
    char one[64] = "";
    for (int i = 0; i < 9; i++) {
        strcat(one, "{a,b}");
    }
    char spec[256];
    snprintf(spec, sizeof spec, "%s,%s", one, one);
    cr_assert_str_eq(list_refusal(spec), "too many alternatives");
    snprintf(spec, sizeof spec, "%s,x", one);
    cr_assert_str_eq(list_refusal(spec), "");
}

Test(glob_list, null_safety)
{
    cr_assert_not(glob_list_match(NULL, "a", 1));
    glob_list_free(NULL);
}

Test(glob, leading_dot_slash_is_the_same_path)
{
    char why[128];
    glob_pat *g = glob_compile("./src/*.c", 9, why, sizeof why);
    cr_assert_not_null(g, "%s", why);
    cr_assert(glob_match(g, "src/a.c", 7));
    cr_assert_not(glob_match(g, "lib/src/a.c", 11));
    glob_free(g);
    cr_assert_null(glob_compile("./", 2, why, sizeof why));
    cr_assert_str_eq(why, "empty pattern");
}

/* glob.c - wildmatch and caller globs with `{a,b}` alternatives (see glob.h).
 *
 * wildmatch follows git's algorithm with WM_PATHNAME semantics. The matcher recurses once per `*`
 * run and reports one of four results; two of them cut the search short, which is what keeps it
 * polynomial on patterns such as `*a*a*a*a*b`:
 *   - ABORT_ALL: the rest of the pattern cannot match at this text position nor at any later one.
 *     A `*` whose loop ran off the end of the text returns it, and every enclosing `*` passes it
 *     on instead of trying its own next position, because that position could only start the
 *     inner `*` further right, where it already failed.
 *   - ABORT_TO_STARSTAR: a `*` that cannot cross `/` reached a `/` without matching; enclosing
 *     single stars (which cannot cross that `/` either) give up, the nearest `**` moves on.
 * Two refinements over git, both with the same verdicts: a `*` that does not find the literal
 * after it returns the abort its loop would have reached anyway, and a `**` + `/` whose
 * zero-directory attempt returned ABORT_ALL passes it on (its loop would only retry the same rest
 * further right). Without the latter, each `**` segment in a chain of them doubles the work.
 *
 * Braces are expanded at compile time into brace-free alternatives rather than matched in place:
 * the early aborts above are only sound when the pattern between two stars has a fixed length,
 * which `{a,bc}` breaks. Every expanded alternative is a subsequence of its pattern, so the number
 * of alternatives is counted first (a product of sums over the brace tree, saturating) and a
 * pattern past GLOB_MAX_ALTERNATIVES is refused before anything is built; memory is then bounded
 * by GLOB_MAX_ALTERNATIVES * GLOB_MAX_PATTERN bytes and matching by that many wildmatch calls.
 * Whether an alternative is anchored (contains `/`) or matches the base name is decided per
 * alternative, so `{*.c,src/main.h}` behaves like the list `*.c,src/main.h`. */
#include "ws/glob.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

/* ---- character classes ---------------------------------------------------------------------- */

typedef enum {
    CLASS_MATCH,
    CLASS_NOMATCH,
    CLASS_UNTERMINATED,
    CLASS_BAD_NAME,
} class_result;

static bool is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}
static bool is_alpha(int c)
{
    return is_upper(c) || is_lower(c);
}
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static bool is_alnum(int c)
{
    return is_alpha(c) || is_digit(c);
}
static bool is_blank(int c)
{
    return c == ' ' || c == '\t';
}
static bool is_cntrl(int c)
{
    return c < 32 || c == 127;
}
static bool is_graph(int c)
{
    return c > 32 && c < 127;
}
static bool is_print(int c)
{
    return c >= 32 && c < 127;
}
static bool is_punct(int c)
{
    return is_graph(c) && !is_alnum(c);
}
static bool is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}
static bool is_xdigit(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ASCII only and independent of the process locale: a glob must mean the same thing whatever
 * setlocale() the embedding program called. Bytes >= 0x80 belong to no named class. */
static const struct {
    const char *name;
    bool (*test)(int c);
} named_classes[] = {
    {"alnum", is_alnum}, {"alpha", is_alpha}, {"blank", is_blank}, {"cntrl", is_cntrl},
    {"digit", is_digit}, {"graph", is_graph}, {"lower", is_lower}, {"print", is_print},
    {"punct", is_punct}, {"space", is_space}, {"upper", is_upper}, {"xdigit", is_xdigit},
};

/* Parse the class whose `[` is at p and test byte tc against it (tc < 0: parse only). On success
 * *close points at the closing `]`. A `]` right after `[` or `[!` is a member; `a-z` is a range
 * (a `-` first, last or right after a range is a member); `\x` is x; `[:name:]` is a named class,
 * and `[:` without a closing `:]` is just a `[` member. This one parser serves both matching and
 * compile-time validation, so what glob_compile accepts is exactly what wildmatch understands. */
static class_result match_class(const unsigned char *p, const unsigned char *pend, int tc,
                                const unsigned char **close)
{
    bool negated = false;
    bool matched = false;
    int prev = -1; /* the last single member, a possible range start */
    p++;
    if (p < pend && (*p == '!' || *p == '^')) {
        negated = true;
        p++;
    }
    for (bool first = true;; first = false, p++) {
        if (p >= pend) {
            return CLASS_UNTERMINATED;
        }
        int c = *p;
        if (c == ']' && !first) {
            break;
        }
        if (c == '\\') {
            if (++p >= pend) {
                return CLASS_UNTERMINATED;
            }
            c = *p;
            matched |= tc == c;
            prev = c;
        } else if (c == '-' && prev >= 0 && p + 1 < pend && p[1] != ']') {
            int hi = *++p;
            if (hi == '\\') {
                if (++p >= pend) {
                    return CLASS_UNTERMINATED;
                }
                hi = *p;
            }
            matched |= tc >= prev && tc <= hi;
            prev = -1;
        } else if (c == '[' && p + 1 < pend && p[1] == ':') {
            const unsigned char *name = p + 2;
            const unsigned char *end = name;
            while (end < pend && *end != ']') {
                end++;
            }
            if (end == pend) {
                return CLASS_UNTERMINATED;
            }
            if (end > name && end[-1] == ':') {
                size_t n = (size_t)(end - name) - 1;
                size_t k = 0;
                size_t count = sizeof named_classes / sizeof named_classes[0];
                while (k < count && (strlen(named_classes[k].name) != n ||
                                     memcmp(named_classes[k].name, name, n) != 0)) {
                    k++;
                }
                if (k == count) {
                    return CLASS_BAD_NAME;
                }
                matched |= tc >= 0 && named_classes[k].test(tc);
                p = end;
                prev = -1;
            } else {
                /* not a named class after all: the `[` is a member, and parsing resumes at `:` */
                matched |= tc == '[';
                prev = '[';
            }
        } else {
            matched |= tc == c;
            prev = c;
        }
    }
    *close = p;
    return matched != negated ? CLASS_MATCH : CLASS_NOMATCH;
}

/* ---- wildmatch ------------------------------------------------------------------------------ */

typedef enum {
    WM_MATCH,
    WM_NOMATCH,
    WM_ABORT_ALL,
    WM_ABORT_TO_STARSTAR,
} wm_result;

typedef struct {
    const unsigned char *pat; /* start of the pattern: `**` must begin a segment to cross `/` */
    const unsigned char *pend;
    const unsigned char *tend;
} wm_ctx;

static bool is_special(unsigned char c)
{
    return c == '*' || c == '?' || c == '[' || c == '\\';
}

static bool has_slash(const unsigned char *t, size_t n)
{
    return n > 0 && memchr(t, '/', n) != NULL;
}

static wm_result wm_match(const wm_ctx *c, const unsigned char *p, const unsigned char *t);

/* *pp points at the first `*` of a run. Returns true with *out set when the match is decided
 * here. Returns false when a single `*` followed by `/` has consumed the text up to the next `/`:
 * *pp and *tp then both point at a `/` and the caller's loop goes on from there. */
static bool match_star(const wm_ctx *c, const unsigned char **pp, const unsigned char **tp,
                       wm_result *out)
{
    const unsigned char *first = *pp;
    const unsigned char *p = first;
    const unsigned char *t = *tp;
    while (p < c->pend && *p == '*') {
        p++;
    }
    bool cross = false; /* may this star match `/`? only a `**` that is a whole segment can */
    if (p - first >= 2) {
        bool starts_segment = first == c->pat || first[-1] == '/';
        bool ends_segment =
            p == c->pend || *p == '/' || (*p == '\\' && p + 1 < c->pend && p[1] == '/');
        if (starts_segment && ends_segment) {
            if (p < c->pend && *p == '/') {
                /* `**` + `/` also matches zero directories: try the rest right here first */
                wm_result r = wm_match(c, p + 1, t);
                if (r == WM_MATCH || r == WM_ABORT_ALL) {
                    *out = r;
                    return true;
                }
            }
            cross = true;
        }
    }
    if (p == c->pend) {
        *out = cross || !has_slash(t, (size_t)(c->tend - t)) ? WM_MATCH : WM_NOMATCH;
        return true;
    }
    if (!cross && *p == '/') {
        const unsigned char *slash = t < c->tend ? memchr(t, '/', (size_t)(c->tend - t)) : NULL;
        if (!slash) {
            *out = WM_NOMATCH;
            return true;
        }
        *pp = p;
        *tp = slash;
        return false;
    }
    for (; t < c->tend; t++) {
        if (!is_special(*p)) {
            /* the star must swallow everything up to the next occurrence of the literal */
            while (t < c->tend && *t != *p && (cross || *t != '/')) {
                t++;
            }
            if (t == c->tend) {
                break;
            }
            if (*t != *p) {
                *out = WM_ABORT_TO_STARSTAR;
                return true;
            }
        }
        wm_result r = wm_match(c, p, t);
        if (r != WM_NOMATCH) {
            if (!cross || r != WM_ABORT_TO_STARSTAR) {
                *out = r;
                return true;
            }
        } else if (!cross && *t == '/') {
            *out = WM_ABORT_TO_STARSTAR;
            return true;
        }
    }
    *out = WM_ABORT_ALL;
    return true;
}

static wm_result wm_match(const wm_ctx *c, const unsigned char *p, const unsigned char *t)
{
    for (; p < c->pend; p++, t++) {
        if (t == c->tend && *p != '*') {
            return WM_ABORT_ALL;
        }
        switch (*p) {
        case '\\':
            /* a trailing backslash escapes nothing and matches nothing, as in git */
            if (++p == c->pend || *p != *t) {
                return WM_NOMATCH;
            }
            break;
        case '?':
            if (*t == '/') {
                return WM_NOMATCH;
            }
            break;
        case '[': {
            const unsigned char *close = NULL;
            class_result r = match_class(p, c->pend, *t, &close);
            if (r == CLASS_UNTERMINATED || r == CLASS_BAD_NAME) {
                return WM_ABORT_ALL;
            }
            if (r == CLASS_NOMATCH || *t == '/') {
                return WM_NOMATCH;
            }
            p = close;
            break;
        }
        case '*': {
            wm_result r;
            if (match_star(c, &p, &t, &r)) {
                return r;
            }
            break;
        }
        default:
            if (*p != *t) {
                return WM_NOMATCH;
            }
        }
    }
    return t == c->tend ? WM_MATCH : WM_NOMATCH;
}

bool wildmatch(const char *pat, size_t plen, const char *text, size_t tlen)
{
    static const unsigned char none[1];
    const unsigned char *p = pat ? (const unsigned char *)pat : none;
    const unsigned char *t = text ? (const unsigned char *)text : none;
    wm_ctx c = {p, p + (pat ? plen : 0), t + (text ? tlen : 0)};
    return wm_match(&c, p, t) == WM_MATCH;
}

/* ---- compiled globs ------------------------------------------------------------------------- */

typedef struct {
    size_t off; /* into glob_pat.text */
    size_t len;
    bool basename; /* no `/`: match the last path component only */
} glob_alt;

struct glob_pat {
    glob_alt *alts;
    size_t nalts;
    size_t alts_cap;
    char *text;
    size_t text_len;
    size_t text_cap;
};

/* a list is one set of alternatives: matching any member is matching any of its alternatives */
struct glob_list {
    glob_pat set;
};

static void set_why(char *why, size_t why_len, const char *msg)
{
    if (why && why_len) {
        snprintf(why, why_len, "%s", msg);
    }
}

static void set_release(glob_pat *s)
{
    xfree(s->alts);
    xfree(s->text);
}

static bool set_add(glob_pat *s, const char *alt, size_t len, bool basename)
{
    if (s->nalts == s->alts_cap) {
        size_t cap = s->alts_cap ? s->alts_cap * 2 : 4;
        size_t bytes;
        if (!size_mul(cap, sizeof *s->alts, &bytes)) {
            return false;
        }
        glob_alt *a = xrealloc(s->alts, bytes);
        if (!a) {
            return false;
        }
        s->alts = a;
        s->alts_cap = cap;
    }
    size_t need;
    if (!size_add(s->text_len, len, &need)) {
        return false;
    }
    if (need > s->text_cap) {
        size_t cap = s->text_cap ? s->text_cap : 256;
        while (cap < need) {
            if (!size_mul(cap, 2, &cap)) {
                return false;
            }
        }
        char *t = xrealloc(s->text, cap);
        if (!t) {
            return false;
        }
        s->text = t;
        s->text_cap = cap;
    }
    if (len) {
        memcpy(s->text + s->text_len, alt, len);
    }
    s->alts[s->nalts++] = (glob_alt){s->text_len, len, basename};
    s->text_len = need;
    return true;
}

/* Brace structure of one pattern: each byte's role, and for every `{` and top-level `,` of a
 * group the index of the next `,` or `}` of the same group, so groups can be walked without
 * rescanning. Escaped bytes and class members are always literal. */
enum { ROLE_LITERAL, ROLE_OPEN, ROLE_COMMA, ROLE_CLOSE };

typedef struct {
    const char *p;
    size_t len;
    unsigned char role[GLOB_MAX_PATTERN];
    uint16_t next[GLOB_MAX_PATTERN];
} brace_map;

static bool map_braces(brace_map *m, char *why, size_t why_len)
{
    uint16_t open[GLOB_MAX_PATTERN]; /* per open group: its last `{` or `,` */
    size_t depth = 0;
    const unsigned char *up = (const unsigned char *)m->p;
    memset(m->role, ROLE_LITERAL, m->len);
    for (size_t i = 0; i < m->len; i++) {
        switch (m->p[i]) {
        case '\\':
            i++; /* the escaped byte stays literal; a trailing `\` simply never matches */
            break;
        case '[': {
            const unsigned char *close = NULL;
            class_result r = match_class(up + i, up + m->len, -1, &close);
            if (r == CLASS_UNTERMINATED) {
                set_why(why, why_len, "unterminated character class");
                return false;
            }
            if (r == CLASS_BAD_NAME) {
                set_why(why, why_len, "unknown character class");
                return false;
            }
            i = (size_t)(close - up);
            break;
        }
        case '{':
            m->role[i] = ROLE_OPEN;
            open[depth++] = (uint16_t)i;
            break;
        case ',':
            if (depth) {
                m->role[i] = ROLE_COMMA;
                m->next[open[depth - 1]] = (uint16_t)i;
                open[depth - 1] = (uint16_t)i;
            }
            break;
        case '}':
            /* a `}` that closes nothing is an ordinary character, as in the shell */
            if (depth) {
                m->role[i] = ROLE_CLOSE;
                m->next[open[--depth]] = (uint16_t)i;
            }
            break;
        default: break;
        }
    }
    if (depth) {
        set_why(why, why_len, "unbalanced '{'");
        return false;
    }
    return true;
}

#define ALT_LIMIT ((size_t)GLOB_MAX_ALTERNATIVES + 1) /* counts saturate here */

static size_t sat_add(size_t a, size_t b)
{
    return a + b > ALT_LIMIT ? ALT_LIMIT : a + b;
}
static size_t sat_mul(size_t a, size_t b)
{
    /* both operands are <= ALT_LIMIT, so the product cannot overflow size_t */
    return a * b > ALT_LIMIT ? ALT_LIMIT : a * b;
}

/* number of alternatives the bytes [from, to) expand to: groups in sequence multiply, the
 * options of one group add up */
static size_t count_alts(const brace_map *m, size_t from, size_t to)
{
    size_t total = 1;
    for (size_t i = from; i < to; i++) {
        if (m->role[i] != ROLE_OPEN) {
            continue;
        }
        size_t sum = 0;
        size_t s = i;
        do {
            sum = sat_add(sum, count_alts(m, s + 1, m->next[s]));
            s = m->next[s];
        } while (m->role[s] != ROLE_CLOSE);
        total = sat_mul(total, sum);
        i = s;
    }
    return total;
}

/* what follows a group once one of its options is expanded: a linked stack on the C stack */
typedef struct expand_cont {
    size_t from;
    size_t to;
    const struct expand_cont *next;
} expand_cont;

typedef struct {
    const brace_map *m;
    glob_pat *out;
    char cur[GLOB_MAX_PATTERN];
    size_t len;
} expander;

static bool emit(expander *e)
{
    const char *s = e->cur;
    size_t n = e->len;
    bool basename = n == 0 || memchr(s, '/', n) == NULL;
    if (!basename && s[0] == '/') {
        s++;
        n--;
    }
    return set_add(e->out, s, n, basename);
}

static bool expand(expander *e, size_t from, size_t to, const expand_cont *k)
{
    const brace_map *m = e->m;
    for (size_t i = from; i < to; i++) {
        if (m->role[i] == ROLE_LITERAL) {
            e->cur[e->len++] = m->p[i];
            continue;
        }
        /* a `{`: expand each option followed by whatever follows the group */
        size_t close = i;
        while (m->role[close] != ROLE_CLOSE) {
            close = m->next[close];
        }
        expand_cont after = {close + 1, to, k};
        size_t mark = e->len;
        for (size_t s = i; m->role[s] != ROLE_CLOSE; s = m->next[s]) {
            if (!expand(e, s + 1, m->next[s], &after)) {
                return false;
            }
            e->len = mark;
        }
        return true;
    }
    if (k) {
        return expand(e, k->from, k->to, k->next);
    }
    return emit(e);
}

/* validate one pattern and add its alternatives to s, keeping s's total within the cap */
static bool set_add_pattern(glob_pat *s, const char *pat, size_t len, char *why, size_t why_len)
{
    /* a leading `./` names the same files as without it: paths here never start with it */
    while (len >= 2 && pat[0] == '.' && pat[1] == '/') {
        pat += 2;
        len -= 2;
        while (len && pat[0] == '/') {
            pat++;
            len--;
        }
    }
    if (len == 0 || (len == 1 && pat[0] == '/')) {
        set_why(why, why_len, "empty pattern");
        return false;
    }
    if (len > GLOB_MAX_PATTERN) {
        set_why(why, why_len, "pattern too long");
        return false;
    }
    expander *e = xmalloc(sizeof *e);
    brace_map *m = xmalloc(sizeof *m);
    bool ok = false;
    if (!e || !m) {
        set_why(why, why_len, "out of memory");
        goto free_work;
    }
    m->p = pat;
    m->len = len;
    if (!map_braces(m, why, why_len)) {
        goto free_work;
    }
    size_t n = count_alts(m, 0, len);
    if (n > GLOB_MAX_ALTERNATIVES - s->nalts) {
        set_why(why, why_len, "too many alternatives");
        goto free_work;
    }
    e->m = m;
    e->out = s;
    e->len = 0;
    if (!expand(e, 0, len, NULL)) {
        set_why(why, why_len, "out of memory");
        goto free_work;
    }
    ok = true;
free_work:
    xfree(m);
    xfree(e);
    return ok;
}

static bool set_match(const glob_pat *s, const char *path, size_t len)
{
    if (!path) {
        len = 0;
        path = "";
    }
    size_t base = len;
    while (base > 0 && path[base - 1] != '/') {
        base--;
    }
    for (size_t i = 0; i < s->nalts; i++) {
        const glob_alt *a = &s->alts[i];
        const char *subject = a->basename ? path + base : path;
        size_t subject_len = a->basename ? len - base : len;
        if (wildmatch(s->text + a->off, a->len, subject, subject_len)) {
            return true;
        }
    }
    return false;
}

glob_pat *glob_compile(const char *pat, size_t len, char *why, size_t why_len)
{
    glob_pat *g = xcalloc(1, sizeof *g);
    if (!g) {
        set_why(why, why_len, "out of memory");
        return NULL;
    }
    if (!set_add_pattern(g, pat, pat ? len : 0, why, why_len)) {
        glob_free(g);
        return NULL;
    }
    return g;
}

bool glob_match(const glob_pat *g, const char *path, size_t len)
{
    return g && set_match(g, path, len);
}

void glob_free(glob_pat *g)
{
    if (g) {
        set_release(g);
        xfree(g);
    }
}

/* ---- lists ---------------------------------------------------------------------------------- */

/* End of the list member starting at i: the next `,` outside braces, escapes and classes. */
static size_t member_end(const char *spec, size_t len, size_t i)
{
    const unsigned char *up = (const unsigned char *)spec;
    size_t depth = 0;
    for (; i < len; i++) {
        char c = spec[i];
        if (c == '\\') {
            i++;
        } else if (c == '[') {
            /* an unterminated class is left for glob compilation to report */
            const unsigned char *close = NULL;
            class_result r = match_class(up + i, up + len, -1, &close);
            if (r == CLASS_MATCH || r == CLASS_NOMATCH) {
                i = (size_t)(close - up);
            }
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && depth) {
            depth--;
        } else if (c == ',' && depth == 0) {
            return i;
        }
    }
    return len;
}

glob_list *glob_list_compile(const char *spec, size_t len, char *why, size_t why_len)
{
    glob_list *l = xcalloc(1, sizeof *l);
    if (!l) {
        set_why(why, why_len, "out of memory");
        return NULL;
    }
    if (!spec) {
        len = 0;
    }
    size_t i = 0;
    while (i < len) {
        size_t end = member_end(spec, len, i);
        size_t a = i;
        size_t b = end > len ? len : end;
        i = end + 1;
        /* spaces around members are separators, so `*.c, *.h` means what it says; an escaped
         * space (`\ `) at the end stays part of the pattern */
        while (a < b && spec[a] == ' ') {
            a++;
        }
        while (b > a && spec[b - 1] == ' ') {
            size_t slashes = 0;
            while (b - 1 - slashes > a && spec[b - 2 - slashes] == '\\') {
                slashes++;
            }
            if (slashes % 2) {
                break;
            }
            b--;
        }
        if (a == b) {
            continue; /* `a,,b` and a trailing comma are harmless */
        }
        if (!set_add_pattern(&l->set, spec + a, b - a, why, why_len)) {
            glob_list_free(l);
            return NULL;
        }
    }
    if (l->set.nalts == 0) {
        set_why(why, why_len, "empty pattern");
        glob_list_free(l);
        return NULL;
    }
    return l;
}

bool glob_list_match(const glob_list *l, const char *path, size_t len)
{
    return l && set_match(&l->set, path, len);
}

void glob_list_free(glob_list *l)
{
    if (l) {
        set_release(&l->set);
        xfree(l);
    }
}

/* ignore.c - one gitignore-style rule file, parsed and matched (see ignore.h).
 *
 * Parsing follows git's dir.c: a UTF-8 byte-order mark at the start is skipped; lines end at
 * `\n` with one `\r` before it dropped (CRLF files); a line starting with `#` is a comment;
 * trailing spaces go unless escaped (`foo\ ` keeps one space); a leading `!` negates; one
 * trailing `/` makes the rule directory-only and is removed; a rule with no `/` left matches the
 * base name at any depth (like `**` + `/name`), any other is matched against the whole relative
 * path with a leading `/` removed. Backslash escapes (`\#`, `\!`, `\ `) are left in the pattern
 * for wildmatch, which reads `\x` as a literal x, so they need no unescaping pass here.
 *
 * A rule never matches the contents of a directory it names: `build/` matches the directory
 * `build`, not `build/x.o`. The walker does not descend into excluded directories, which is what
 * makes their contents invisible; answering for them here would make `!build/keep.c` look like
 * it could re-include a file inside an excluded directory, which git does not allow either.
 *
 * Rules live in one text buffer with (offset, length, flags) records; matching walks the rules
 * from the last to the first and stops at the first hit, since the last matching rule decides.
 * Rules without wildcards are compared with memcmp. */
#include "ws/ignore.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "ws/glob.h"

enum {
    RULE_NEGATE = 1 << 0,   /* `!`: a match re-includes */
    RULE_DIR_ONLY = 1 << 1, /* trailing `/` */
    RULE_BASENAME = 1 << 2, /* no `/`: match the last component at any depth */
    RULE_LITERAL = 1 << 3,  /* no wildcard or escape: plain comparison */
};

typedef struct {
    size_t off;
    size_t len;
    unsigned flags;
} ignore_rule;

struct ignore_rules {
    ignore_rule *rules;
    size_t n;
    size_t cap;
    char *text;
    size_t text_len;
    size_t text_cap;
};

/* git's rule: the trailing run of spaces goes, unless its first space is escaped by a `\`
 * (then that space stays and only the spaces after it go) */
static size_t trim_trailing_spaces(const char *s, size_t n)
{
    size_t cut = n; /* start of the current unescaped trailing run of spaces, n if none */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            if (cut == n) {
                cut = i;
            }
        } else {
            if (s[i] == '\\') {
                i++; /* the escaped byte, even a space, is part of the pattern */
            }
            cut = n;
        }
    }
    return cut;
}

static bool has_wildcard(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\') {
            return true;
        }
    }
    return false;
}

static bool add_rule(ignore_rules *r, const char *pat, size_t len, unsigned flags)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        ignore_rule *a = xrealloc(r->rules, cap * sizeof *a);
        if (!a) {
            return false;
        }
        r->rules = a;
        r->cap = cap;
    }
    size_t need;
    if (!size_add(r->text_len, len, &need)) {
        return false;
    }
    if (need > r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap : 256;
        while (cap < need) {
            if (!size_mul(cap, 2, &cap)) {
                return false;
            }
        }
        char *t = xrealloc(r->text, cap);
        if (!t) {
            return false;
        }
        r->text = t;
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, pat, len);
    r->rules[r->n++] = (ignore_rule){r->text_len, len, flags};
    r->text_len = need;
    return true;
}

/* one line, without its line ending; false only when out of memory */
static bool parse_line(ignore_rules *r, const char *s, size_t n)
{
    if (n == 0 || s[0] == '#') {
        return true;
    }
    n = trim_trailing_spaces(s, n);
    unsigned flags = 0;
    if (n > 0 && s[0] == '!') {
        flags |= RULE_NEGATE;
        s++;
        n--;
    }
    if (n > 0 && s[n - 1] == '/') {
        flags |= RULE_DIR_ONLY;
        n--;
    }
    if (n > 0 && memchr(s, '/', n) == NULL) {
        flags |= RULE_BASENAME;
    } else if (n > 0 && s[0] == '/') {
        s++;
        n--;
    }
    if (n == 0) {
        return true; /* blank, `!`, `/` or `!/`: a rule that could match nothing */
    }
    if (!has_wildcard(s, n)) {
        flags |= RULE_LITERAL;
    }
    return add_rule(r, s, n, flags);
}

ignore_rules *ignore_rules_parse(const char *content, size_t len)
{
    ignore_rules *r = xcalloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    if (!content) {
        return r;
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(content, "\xef\xbb\xbf", 3) == 0) {
        pos = 3;
    }
    while (pos < len && r->n < IGNORE_MAX_RULES) {
        const char *line = content + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        if (n > IGNORE_MAX_LINE) {
            n = IGNORE_MAX_LINE;
        }
        if (!parse_line(r, line, n)) {
            ignore_rules_free(r);
            return NULL;
        }
    }
    return r;
}

size_t ignore_rules_count(const ignore_rules *r)
{
    return r ? r->n : 0;
}

ignore_verdict ignore_rules_match(const ignore_rules *r, const char *rel, size_t len, bool is_dir)
{
    if (!r || r->n == 0) {
        return IGNORE_NONE;
    }
    if (!rel) {
        rel = "";
        len = 0;
    }
    size_t base = len;
    while (base > 0 && rel[base - 1] != '/') {
        base--;
    }
    for (size_t i = r->n; i-- > 0;) {
        const ignore_rule *rule = &r->rules[i];
        if ((rule->flags & RULE_DIR_ONLY) && !is_dir) {
            continue;
        }
        const char *subject = rel;
        size_t subject_len = len;
        if (rule->flags & RULE_BASENAME) {
            subject += base;
            subject_len -= base;
        }
        const char *pat = r->text + rule->off;
        bool hit;
        if (rule->flags & RULE_LITERAL) {
            hit = subject_len == rule->len && memcmp(subject, pat, subject_len) == 0;
        } else {
            hit = wildmatch(pat, rule->len, subject, subject_len);
        }
        if (hit) {
            return (rule->flags & RULE_NEGATE) ? IGNORE_INCLUDED : IGNORE_EXCLUDED;
        }
    }
    return IGNORE_NONE;
}

void ignore_rules_free(ignore_rules *r)
{
    if (r) {
        xfree(r->rules);
        xfree(r->text);
        xfree(r);
    }
}

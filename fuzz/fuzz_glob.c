/* fuzz_glob.c - libFuzzer target for wildmatch, glob_compile/glob_match and glob lists.
 *
 * Input: a pattern, a NUL byte, then the text (a missing NUL means an empty text). Besides
 * looking for crashes and slow inputs (run with -timeout), it checks wildmatch against a naive
 * memoised matcher for patterns without classes: wildmatch's early aborts are the part most
 * likely to be subtly wrong, and the naive matcher has none. Build: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REF_MAX 64

typedef struct {
    const char *pat;
    size_t plen;
    const char *text;
    size_t tlen;
    signed char memo[REF_MAX + 1][REF_MAX + 1]; /* -1 unknown, else the answer */
} ref_ctx;

/* exhaustive backtracking over (pattern index, text index), memoised: same syntax as wildmatch
 * (literals, `\x`, `?`, `*`, `**` as a whole segment, which also matches zero directories) */
static bool ref_at(ref_ctx *c, size_t p, size_t t)
{
    if (c->memo[p][t] >= 0) {
        return c->memo[p][t];
    }
    const char *pat = c->pat;
    bool r = false;
    if (p == c->plen) {
        r = t == c->tlen;
    } else if (pat[p] == '*') {
        size_t first = p;
        while (p < c->plen && pat[p] == '*') {
            p++;
        }
        bool cross = p - first >= 2 && (first == 0 || pat[first - 1] == '/') &&
                     (p == c->plen || pat[p] == '/' ||
                      (pat[p] == '\\' && p + 1 < c->plen && pat[p + 1] == '/'));
        if (cross && p < c->plen && pat[p] == '/' && ref_at(c, p + 1, t)) {
            r = true;
        }
        for (size_t s = t; !r; s++) {
            if (ref_at(c, p, s)) {
                r = true;
            } else if (s == c->tlen || (!cross && c->text[s] == '/')) {
                break;
            }
        }
        p = first;
    } else if (t == c->tlen) {
        r = false;
    } else if (pat[p] == '?') {
        r = c->text[t] != '/' && ref_at(c, p + 1, t + 1);
    } else if (pat[p] == '\\') {
        r = p + 1 < c->plen && pat[p + 1] == c->text[t] && ref_at(c, p + 2, t + 1);
    } else {
        r = pat[p] == c->text[t] && ref_at(c, p + 1, t + 1);
    }
    c->memo[p][t] = (signed char)r;
    return r;
}

static ref_ctx ref;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    const char *text = nul ? in + plen + 1 : in + size;
    size_t tlen = nul ? size - plen - 1 : 0;

    bool wm = wildmatch(in, plen, text, tlen);
    if (plen <= REF_MAX && tlen <= REF_MAX && !memchr(in, '[', plen)) {
        ref.pat = in;
        ref.plen = plen;
        ref.text = text;
        ref.tlen = tlen;
        memset(ref.memo, -1, sizeof ref.memo);
        if (ref_at(&ref, 0, 0) != wm) {
            abort();
        }
    }

    char why[128];
    glob_pat *g = glob_compile(in, plen, why, sizeof why);
    if (g) {
        bool gmatch = glob_match(g, text, tlen);
        /* a brace-free pattern with an inner `/` is exactly wildmatch on the whole path */
        if (plen > 0 && in[0] != '/' && memchr(in, '/', plen) && !memchr(in, '{', plen) &&
            gmatch != wm) {
            abort();
        }
        glob_free(g);
    } else if (why[0] == '\0') {
        abort(); /* a refusal always says why */
    }

    glob_list *l = glob_list_compile(in, plen, why, sizeof why);
    if (l) {
        (void)glob_list_match(l, text, tlen);
        glob_list_free(l);
    } else if (why[0] == '\0') {
        abort();
    }
    return 0;
}

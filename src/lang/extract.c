/* extract.c - the extraction engine: parse with tree-sitter, run the language's query, turn the
 * matches into symbols, calls and imports (contract: extract.h).
 *
 * Process-wide: each language's query is compiled once, on first use, under a mutex, then
 * published through an atomic pointer; a compiled query (TSQuery, the capture roles, the parsed
 * predicates with their PCRE2 codes) is immutable and shared by every thread. Per x_parser (one
 * per thread): a TSParser, a TSQueryCursor, a PCRE2 match block and scratch arrays reused from
 * file to file, so the per-file work allocates only the results (in the caller's arena).
 *
 * Steps for one file: parse (cancellable, time-bounded); walk the query matches collecting raw
 * definitions, calls and imports as node references; sort definitions by (start, outer first,
 * pattern order) and drop duplicates (the same definition node and name matched by several
 * patterns keeps the first pattern: query files order their patterns from specific to general);
 * compute parents with a stack of open containers; drop function locals; then materialize names,
 * qualified names, signatures and export flags into the arena; calls get their caller by a
 * binary search over the definitions; finally x_routes() (routes.c) adds the file's routes.
 * Every count is capped (X_MAX_SYMS, X_MAX_CALLS, X_MAX_IMPORTS); a cap that drops anything sets
 * out->truncated. */
#include "lang/extract.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tree_sitter/api.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "lang/cpp_fast.h"
#include "lang/extract_text.h"

/* ---- compiled queries (process-wide, immutable once published) ---- */

enum role {
    R_NONE = 0,
    R_DEF,
    R_NAME,
    R_PARAMS,
    R_RET,
    R_BODY,
    R_SCOPE,
    R_CALL,
    R_CALLEE,
    R_IMPORT,
    R_SOURCE,
    R_EXPORT,
};

enum pred_op { P_EQ, P_MATCH, P_ANY_OF };

typedef struct pred {
    enum pred_op op;
    bool negate;
    bool any;        /* any-eq?/any-match?: one captured node suffices (default: all must) */
    uint32_t cap;    /* capture id tested */
    int64_t cap2;    /* #eq? against another capture, else -1 */
    const char *str; /* #eq? string (owned by the TSQuery) */
    uint32_t str_len;
    pcre2_code *re;
    const char **strs; /* #any-of? strings */
    uint32_t *lens;
    uint32_t n_strs;
} pred;

typedef struct lquery {
    TSQuery *q;
    uint8_t *roles;                    /* per capture id */
    const char **kinds;                /* per capture id, for R_DEF */
    uint32_t *pred_first, *pred_count; /* per pattern */
    pred *preds;
    uint32_t n_preds;
} lquery;

/* the storage kinds (extract.h); symbols point at these strings, so kinds compare by pointer */
enum kind_ix {
    K_FN,
    K_METHOD,
    K_CLASS,
    K_STRUCT,
    K_UNION,
    K_INTERFACE,
    K_TRAIT,
    K_ENUM,
    K_ENUMERATOR,
    K_TYPE,
    K_CONST,
    K_VAR,
    K_FIELD,
    K_MACRO,
    K_IMPL,
    K_MODULE,
    K__COUNT
};
static const char *const kind_names[K__COUNT] = {
    "fn",         "method", "class", "struct", "union", "interface", "trait", "enum",
    "enumerator", "type",   "const", "var",    "field", "macro",     "impl",  "module",
};
#define KIND(k) (kind_names[K_##k])

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(lquery *) q_ready[LANG__COUNT];
static bool q_failed[LANG__COUNT];     /* under q_lock */
static char q_error[LANG__COUNT][256]; /* under q_lock */

static void lquery_free(lquery *lq)
{
    if (!lq) {
        return;
    }
    for (uint32_t i = 0; lq->preds && i < lq->n_preds; i++) {
        pcre2_code_free(lq->preds[i].re);
        xfree(lq->preds[i].strs);
        xfree(lq->preds[i].lens);
    }
    xfree(lq->preds);
    xfree(lq->pred_first);
    xfree(lq->pred_count);
    xfree(lq->roles);
    xfree(lq->kinds);
    if (lq->q) {
        ts_query_delete(lq->q);
    }
    xfree(lq);
}

static bool set_role(lquery *lq, uint32_t id, const char *name, uint32_t len, char *why,
                     size_t why_len)
{
    static const struct {
        const char *name;
        enum role role;
    } plain[] = {
        {"name", R_NAME},     {"params", R_PARAMS}, {"ret", R_RET},       {"body", R_BODY},
        {"scope", R_SCOPE},   {"call", R_CALL},     {"callee", R_CALLEE}, {"import", R_IMPORT},
        {"source", R_SOURCE}, {"export", R_EXPORT},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (strlen(plain[i].name) == len && memcmp(plain[i].name, name, len) == 0) {
            lq->roles[id] = (uint8_t)plain[i].role;
            return true;
        }
    }
    if (len > 4 && memcmp(name, "def.", 4) == 0) {
        for (size_t k = 0; k < K__COUNT; k++) {
            if (strlen(kind_names[k]) == len - 4 && memcmp(kind_names[k], name + 4, len - 4) == 0) {
                lq->roles[id] = R_DEF;
                lq->kinds[id] = kind_names[k];
                return true;
            }
        }
        snprintf(why, why_len, "unknown definition kind '@%.*s'", (int)len, name);
        return false;
    }
    lq->roles[id] = R_NONE; /* helper captures such as @_f for predicates */
    return true;
}

/* parse one predicate (steps up to a Done step) into *p; false with `why` if unsupported */
static bool parse_pred(lquery *lq, const TSQueryPredicateStep *s, uint32_t n, pred *p,
                       bool *is_directive, char *why, size_t why_len)
{
    memset(p, 0, sizeof *p);
    p->cap2 = -1;
    *is_directive = false;
    if (n == 0 || s[0].type != TSQueryPredicateStepTypeString) {
        snprintf(why, why_len, "malformed predicate");
        return false;
    }
    uint32_t len;
    const char *op = ts_query_string_value_for_id(lq->q, s[0].value_id, &len);
    if (len > 0 && op[len - 1] == '!') {
        *is_directive = true; /* #set! and friends: metadata, nothing to evaluate */
        return true;
    }
    char opbuf[32];
    if (len >= sizeof opbuf) {
        snprintf(why, why_len, "unsupported predicate");
        return false;
    }
    memcpy(opbuf, op, len);
    opbuf[len] = '\0';
    const char *o = opbuf;
    if (strncmp(o, "not-", 4) == 0) {
        p->negate = true;
        o += 4;
    }
    if (strncmp(o, "any-", 4) == 0 && strcmp(o, "any-of?") != 0) {
        p->any = true;
        o += 4;
    }
    if (strcmp(o, "eq?") == 0) {
        p->op = P_EQ;
    } else if (strcmp(o, "match?") == 0) {
        p->op = P_MATCH;
    } else if (strcmp(o, "any-of?") == 0) {
        p->op = P_ANY_OF;
    } else {
        snprintf(why, why_len, "unsupported predicate '#%s'", opbuf);
        return false;
    }
    if (n < 3 || s[1].type != TSQueryPredicateStepTypeCapture) {
        snprintf(why, why_len, "predicate '#%s' needs a capture and an argument", opbuf);
        return false;
    }
    p->cap = s[1].value_id;
    if (p->op == P_ANY_OF) {
        p->n_strs = n - 2;
        p->strs = xcalloc(p->n_strs, sizeof *p->strs);
        p->lens = xcalloc(p->n_strs, sizeof *p->lens);
        if (!p->strs || !p->lens) {
            snprintf(why, why_len, "out of memory");
            return false;
        }
        for (uint32_t i = 0; i < p->n_strs; i++) {
            if (s[2 + i].type != TSQueryPredicateStepTypeString) {
                snprintf(why, why_len, "#any-of? takes strings");
                return false;
            }
            p->strs[i] = ts_query_string_value_for_id(lq->q, s[2 + i].value_id, &p->lens[i]);
        }
        return true;
    }
    if (n != 3) {
        snprintf(why, why_len, "predicate '#%s' takes two arguments", opbuf);
        return false;
    }
    if (s[2].type == TSQueryPredicateStepTypeCapture) {
        if (p->op != P_EQ) {
            snprintf(why, why_len, "#match? takes a string");
            return false;
        }
        p->cap2 = s[2].value_id;
        return true;
    }
    p->str = ts_query_string_value_for_id(lq->q, s[2].value_id, &p->str_len);
    if (p->op == P_MATCH) {
        int ec;
        PCRE2_SIZE off;
        p->re = pcre2_compile((PCRE2_SPTR)p->str, p->str_len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                              &ec, &off, NULL);
        if (!p->re) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(ec, msg, sizeof msg);
            snprintf(why, why_len, "bad regex '%.*s': %s", (int)p->str_len, p->str, (char *)msg);
            return false;
        }
        (void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE); /* the interpreter serves if no JIT */
    }
    return true;
}

static lquery *compile_query(lang_id l, char *why, size_t why_len)
{
    const char *text = lang_query(l);
    const TSLanguage *g = lang_grammar(l);
    if (!text || !g) {
        snprintf(why, why_len, "no query for '%s'", lang_name(l));
        return NULL;
    }
    lquery *lq = xcalloc(1, sizeof *lq);
    if (!lq) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    uint32_t err_off;
    TSQueryError err;
    lq->q = ts_query_new(g, text, (uint32_t)strlen(text), &err_off, &err);
    if (!lq->q) {
        uint32_t line = 1;
        for (uint32_t i = 0; i < err_off && text[i]; i++) {
            line += text[i] == '\n';
        }
        static const char *const what[] = {"none",    "syntax",    "node type", "field",
                                           "capture", "structure", "language"};
        snprintf(why, why_len, "query '%s.scm' line %u: %s error", lang_name(l), line,
                 (unsigned)err < sizeof what / sizeof what[0] ? what[err] : "unknown");
        goto fail;
    }
    uint32_t n_caps = ts_query_capture_count(lq->q);
    uint32_t n_pats = ts_query_pattern_count(lq->q);
    lq->roles = xcalloc(n_caps ? n_caps : 1, 1);
    lq->kinds = xcalloc(n_caps ? n_caps : 1, sizeof *lq->kinds);
    lq->pred_first = xcalloc(n_pats ? n_pats : 1, sizeof *lq->pred_first);
    lq->pred_count = xcalloc(n_pats ? n_pats : 1, sizeof *lq->pred_count);
    if (!lq->roles || !lq->kinds || !lq->pred_first || !lq->pred_count) {
        snprintf(why, why_len, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n_caps; i++) {
        uint32_t len;
        const char *name = ts_query_capture_name_for_id(lq->q, i, &len);
        if (!set_role(lq, i, name, len, why, why_len)) {
            goto fail;
        }
    }
    /* predicates: count first (one per Done step), then parse */
    uint32_t total = 0;
    for (uint32_t pi = 0; pi < n_pats; pi++) {
        uint32_t n;
        const TSQueryPredicateStep *s = ts_query_predicates_for_pattern(lq->q, pi, &n);
        for (uint32_t i = 0; i < n; i++) {
            total += s[i].type == TSQueryPredicateStepTypeDone;
        }
    }
    lq->preds = xcalloc(total ? total : 1, sizeof *lq->preds);
    if (!lq->preds) {
        snprintf(why, why_len, "out of memory");
        goto fail;
    }
    for (uint32_t pi = 0; pi < n_pats; pi++) {
        uint32_t n;
        const TSQueryPredicateStep *s = ts_query_predicates_for_pattern(lq->q, pi, &n);
        lq->pred_first[pi] = lq->n_preds;
        uint32_t start = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (s[i].type != TSQueryPredicateStepTypeDone) {
                continue;
            }
            bool directive;
            pred *p = &lq->preds[lq->n_preds];
            bool ok = parse_pred(lq, s + start, i - start, p, &directive, why, why_len);
            if (ok && !directive) {
                lq->n_preds++;
            } else {
                pcre2_code_free(p->re);
                xfree(p->strs);
                xfree(p->lens);
                memset(p, 0, sizeof *p);
            }
            if (!ok) {
                goto fail;
            }
            start = i + 1;
        }
        lq->pred_count[pi] = lq->n_preds - lq->pred_first[pi];
    }
    return lq;
fail:
    lquery_free(lq);
    return NULL;
}

/* the compiled query of `l`, compiled on first use; NULL if the language has none or it does
 * not compile (logged once) */
static const lquery *get_query(lang_id l, char *why, size_t why_len)
{
    if ((int)l <= LANG_NONE || (int)l >= LANG__COUNT) {
        snprintf(why, why_len, "unknown language");
        return NULL;
    }
    lquery *lq = atomic_load_explicit(&q_ready[l], memory_order_acquire);
    if (lq) {
        return lq;
    }
    pthread_mutex_lock(&q_lock);
    lq = atomic_load_explicit(&q_ready[l], memory_order_relaxed);
    if (!lq && !q_failed[l]) {
        char msg[256] = "";
        lq = compile_query(l, msg, sizeof msg);
        if (lq) {
            atomic_store_explicit(&q_ready[l], lq, memory_order_release);
        } else if (lang_query(l)) {
            /* a query that exists but does not compile is a bug: say so once, then treat the
             * language as having no query. A missing one is normal (not written yet). */
            q_failed[l] = true;
            snprintf(q_error[l], sizeof q_error[l], "%s", msg);
            log_error("extraction query for '%s' is broken: %s", lang_name(l), msg);
        } else {
            snprintf(q_error[l], sizeof q_error[l], "%s", msg);
        }
    }
    if (!lq) {
        snprintf(why, why_len, "%s", q_error[l]);
    }
    pthread_mutex_unlock(&q_lock);
    return lq;
}

bool x_query_check(lang_id lang, char *why, size_t why_len)
{
    if (why_len) {
        why[0] = '\0';
    }
    return get_query(lang, why, why_len) != NULL;
}

/* ---- the per-thread parser ---- */

/* ---- cancellation ---- */

typedef struct budget {
    const atomic_bool *cancel;
    uint64_t deadline_ns;
    bool timed_out, cancelled;
} budget;

typedef struct rawdef {
    TSNode def, name, params, ret, body, scope;
    const char *kind;
    uint32_t start, end; /* def node bytes */
    uint32_t name_start;
    uint32_t pattern;
    bool exported_cap;
    int parent;
    bool drop;
} rawdef;

typedef struct rawref {
    TSNode node; /* callee or source */
    uint32_t start;
    uint32_t end; /* a @source captured on several nodes (Scala's a.b.c path) spans them all */
} rawref;

struct x_parser {
    TSParser *parser;
    TSQueryCursor *cursor;
    pcre2_match_data *md;
    rawdef *defs;
    size_t n_defs, cap_defs;
    rawref *calls;
    size_t n_calls, cap_calls;
    rawref *imps;
    size_t n_imps, cap_imps;
    int *stack; /* open containers while computing parents */
    size_t cap_stack;
    int *remap;
    size_t cap_remap;
    uint32_t *names; /* definitions' name starts, sorted: a call on one is not a call */
    size_t cap_names;
    uint32_t budget_ms; /* per file, X_PARSE_BUDGET_MS unless set */
    bool no_fast;       /* tests: always parse (cpp_fast.c is compared with this path) */
    budget budget;      /* the current file's; the cursor keeps a pointer to qopts */
    TSQueryCursorOptions qopts;
};

x_parser *x_parser_new(void)
{
    x_parser *p = xcalloc(1, sizeof *p);
    if (!p) {
        return NULL;
    }
    p->parser = ts_parser_new();
    p->cursor = ts_query_cursor_new();
    p->md = pcre2_match_data_create(1, NULL);
    if (!p->parser || !p->cursor || !p->md) {
        x_parser_free(p);
        return NULL;
    }
    p->budget_ms = X_PARSE_BUDGET_MS;
    /* bound the matches a cursor keeps in progress at once (memory), far above real code */
    ts_query_cursor_set_match_limit(p->cursor, 1u << 16);
    return p;
}

void x_parser_set_budget(x_parser *p, uint32_t ms)
{
    p->budget_ms = ms ? ms : X_PARSE_BUDGET_MS;
}

void x_parser_set_fast_paths(x_parser *p, bool on)
{
    p->no_fast = !on;
}

void x_parser_free(x_parser *p)
{
    if (!p) {
        return;
    }
    if (p->parser) {
        ts_parser_delete(p->parser);
    }
    if (p->cursor) {
        ts_query_cursor_delete(p->cursor);
    }
    pcre2_match_data_free(p->md);
    xfree(p->defs);
    xfree(p->calls);
    xfree(p->imps);
    xfree(p->stack);
    xfree(p->remap);
    xfree(p->names);
    xfree(p);
}

/* grow *arr to hold at least need items of size sz; false on overflow or out of memory */
static bool grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) {
        return true;
    }
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (!size_mul(nc, 2, &nc)) {
            return false;
        }
    }
    size_t bytes;
    if (!size_mul(nc, sz, &bytes)) {
        return false;
    }
    void *n = xrealloc(*arr, bytes);
    if (!n) {
        return false;
    }
    *arr = n;
    *cap = nc;
    return true;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool over_budget(budget *b)
{
    if (b->cancel && atomic_load_explicit(b->cancel, memory_order_relaxed)) {
        b->cancelled = true;
        return true;
    }
    if (now_ns() > b->deadline_ns) {
        b->timed_out = true;
        return true;
    }
    return false;
}

static bool parse_progress(TSParseState *st)
{
    return over_budget(st->payload);
}

static bool query_progress(TSQueryCursorState *st)
{
    return over_budget(st->payload);
}

/* ---- predicates ---- */

typedef struct ctx {
    const char *src;
    size_t n;
    x_parser *xp;
    const lquery *lq;
    lang_id lang;
    arena *a;
} ctx;

static bool node_text_eq(const ctx *c, TSNode nd, const char *s, uint32_t len)
{
    uint32_t b = ts_node_start_byte(nd), e = ts_node_end_byte(nd);
    return e >= b && e <= c->n && e - b == len && memcmp(c->src + b, s, len) == 0;
}

static bool eval_one(const ctx *c, const pred *p, const TSQueryMatch *m, TSNode nd)
{
    uint32_t b = ts_node_start_byte(nd), e = ts_node_end_byte(nd);
    if (e > c->n || b > e) {
        return false;
    }
    switch (p->op) {
    case P_EQ:
        if (p->cap2 >= 0) {
            for (uint16_t i = 0; i < m->capture_count; i++) {
                if (m->captures[i].index == (uint32_t)p->cap2) {
                    TSNode o = m->captures[i].node;
                    uint32_t ob = ts_node_start_byte(o), oe = ts_node_end_byte(o);
                    return oe <= c->n && oe - ob == e - b &&
                           memcmp(c->src + b, c->src + ob, e - b) == 0;
                }
            }
            return false;
        }
        return node_text_eq(c, nd, p->str, p->str_len);
    case P_MATCH:
        return pcre2_match(p->re, (PCRE2_SPTR)(c->src + b), e - b, 0, 0, c->xp->md, NULL) >= 0;
    case P_ANY_OF:
        for (uint32_t i = 0; i < p->n_strs; i++) {
            if (node_text_eq(c, nd, p->strs[i], p->lens[i])) {
                return true;
            }
        }
        return false;
    }
    return false;
}

static bool preds_hold(const ctx *c, const TSQueryMatch *m)
{
    uint32_t first = c->lq->pred_first[m->pattern_index];
    uint32_t count = c->lq->pred_count[m->pattern_index];
    for (uint32_t k = 0; k < count; k++) {
        const pred *p = &c->lq->preds[first + k];
        bool seen = false, any_true = false, all_true = true;
        for (uint16_t i = 0; i < m->capture_count; i++) {
            if (m->captures[i].index != p->cap) {
                continue;
            }
            seen = true;
            bool r = eval_one(c, p, m, m->captures[i].node) != p->negate;
            any_true |= r;
            all_true &= r;
        }
        if (seen && !(p->any ? any_true : all_true)) {
            return false;
        }
    }
    return true;
}

/* ---- text helpers ---- */

static bool is_ident_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$' || ch >= 0x80;
}

/* cut at most `max` bytes of s[0..len) at a UTF-8 boundary */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) {
        k--;
    }
    return k;
}

/* the length of s[0..len) without a multi-byte sequence cut short at its end */
static size_t utf8_whole(const char *s, size_t len)
{
    size_t k = len;
    int back = 0;
    while (k > 0 && back < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) {
        k--;
        back++;
    }
    if (k == 0) {
        return len;
    }
    unsigned char lead = (unsigned char)s[k - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (need == 1) {
        return len; /* ASCII (or stray continuation bytes): nothing to trim */
    }
    return (len - (k - 1) < need) ? k - 1 : len;
}

/* s[b..e) with whitespace runs collapsed to one space and trimmed, capped at `max` bytes
 * (then cut at a UTF-8 boundary and ended with "…"). NULL only when the arena is full. */
char *x_collapse(arena *a, const char *src, uint32_t b, uint32_t e, size_t max)
{
    char *out = arena_alloc(a, max + 4);
    if (!out) {
        return NULL;
    }
    size_t o = 0;
    bool space = false, cut = false;
    for (uint32_t i = b; i < e; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            space = o > 0;
            continue;
        }
        size_t need = o + (space ? 1 : 0) + 1;
        if (need > max) {
            cut = true;
            break;
        }
        if (space) {
            out[o++] = ' ';
            space = false;
        }
        out[o++] = (char)ch;
    }
    if (cut) {
        o = utf8_whole(out, o);
        memcpy(out + o, "\xe2\x80\xa6", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

char *x_sig_text(arena *a, const char *src, uint32_t b, uint32_t e)
{
    /* the whole node, stopping at a `{` that ends its line (a block or a long initializer
     * opens there); `X = {}` stays whole */
    uint32_t sig_end = e;
    for (uint32_t k = b; k < e; k++) {
        if (src[k] != '{') {
            continue;
        }
        uint32_t j = k + 1;
        while (j < e && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r')) {
            j++;
        }
        if (j >= e || src[j] == '\n') {
            sig_end = k;
            break;
        }
    }
    while (sig_end > b &&
           (src[sig_end - 1] == ';' || src[sig_end - 1] == ' ' || src[sig_end - 1] == '\n' ||
            src[sig_end - 1] == '\t' || src[sig_end - 1] == '\r')) {
        sig_end--;
    }
    return x_collapse(a, src, b, sig_end, X_SIG_MAX);
}

static bool has_word(const char *s, size_t len, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= len; i++) {
        if (memcmp(s + i, w, wl) == 0 && (i == 0 || !is_ident_byte((unsigned char)s[i - 1])) &&
            (i + wl == len || !is_ident_byte((unsigned char)s[i + wl]))) {
            return true;
        }
    }
    return false;
}

/* ---- C/C++ declarators and qualified names ---- */

typedef struct resolved {
    TSNode name;               /* the identifier */
    TSNode fdecl;              /* innermost function_declarator on the path, or null */
    bool is_function;          /* the declarator declares a function (not a pointer to one) */
    uint32_t scope_b, scope_e; /* `A::B::` of a qualified name, as bytes (0,0 if none) */
    int ptrs;                  /* pointer declarators above the function declarator */
} resolved;

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static void resolve_name(TSNode n, resolved *r)
{
    memset(r, 0, sizeof *r);
    r->name = n;
    const char *last = "";
    bool saw_fdecl = false;
    for (int depth = 0; depth < 64 && !ts_node_is_null(n); depth++) {
        const char *t = ts_node_type(n);
        if (strcmp(t, "qualified_identifier") == 0) {
            TSNode scope = ts_node_child_by_field_name(n, "scope", 5);
            TSNode nm = ts_node_child_by_field_name(n, "name", 4);
            if (ts_node_is_null(nm)) {
                break;
            }
            if (!ts_node_is_null(scope)) {
                if (r->scope_e == 0) {
                    r->scope_b = ts_node_start_byte(scope);
                }
                r->scope_e = ts_node_end_byte(scope);
            }
            n = nm;
            continue;
        }
        if (!ends_with(t, "declarator")) {
            break;
        }
        if (strcmp(t, "parenthesized_declarator") != 0 && strcmp(t, "attributed_declarator") != 0) {
            last = t;
        }
        if (strcmp(t, "function_declarator") == 0) {
            r->fdecl = n;
            saw_fdecl = true;
        } else if (strcmp(t, "pointer_declarator") == 0 && !saw_fdecl) {
            r->ptrs++;
        }
        TSNode next = ts_node_child_by_field_name(n, "declarator", 10);
        if (ts_node_is_null(next)) {
            next = ts_node_named_child(n, 0);
        }
        n = next;
    }
    if (!ts_node_is_null(n)) {
        r->name = n;
    }
    r->is_function = strcmp(last, "function_declarator") == 0;
}

/* ---- export rules (per language, unless the pattern captured @export) ---- */

static bool is_container(const char *k)
{
    return k == KIND(FN) || k == KIND(METHOD) || k == KIND(CLASS) || k == KIND(STRUCT) ||
           k == KIND(UNION) || k == KIND(INTERFACE) || k == KIND(TRAIT) || k == KIND(ENUM) ||
           k == KIND(TYPE) || k == KIND(IMPL) || k == KIND(MODULE);
}

static bool is_fn(const char *k)
{
    return k == KIND(FN) || k == KIND(METHOD);
}

static bool is_classlike(const char *k)
{
    return k == KIND(CLASS) || k == KIND(STRUCT) || k == KIND(UNION) || k == KIND(INTERFACE) ||
           k == KIND(TRAIT) || k == KIND(ENUM) || k == KIND(IMPL);
}

static bool js_in_export(TSNode d)
{
    TSNode n = ts_node_parent(d);
    for (int i = 0; i < 4 && !ts_node_is_null(n); i++, n = ts_node_parent(n)) {
        const char *t = ts_node_type(n);
        if (strcmp(t, "export_statement") == 0) {
            return true;
        }
        if (strcmp(t, "program") == 0 || strcmp(t, "statement_block") == 0 ||
            strcmp(t, "class_body") == 0) {
            return false;
        }
    }
    return false;
}

static bool go_upper(const char *name)
{
    return name[0] >= 'A' && name[0] <= 'Z';
}

static bool exported_rule(const ctx *c, const rawdef *d, const x_symbol *s, const x_symbol *parent,
                          const char *prefix, size_t plen)
{
    const char *k = s->kind;
    if (parent && is_fn(parent->kind)) {
        return false; /* nested in a function: local */
    }
    if (k == KIND(ENUMERATOR)) { /* enumerator */
        return parent ? parent->exported : true;
    }
    bool pexp = parent ? parent->exported : true;
    switch (c->lang) {
    case LANG_C:
    case LANG_CPP:
        if (k == KIND(MACRO)) { /* macro */
            return true;
        }
        if (parent && is_classlike(parent->kind)) {
            return pexp; /* `static` on a member means per-class, not file-local */
        }
        return pexp && !has_word(prefix, plen, "static");
    case LANG_GO: return go_upper(s->name);
    case LANG_PYTHON: {
        size_t nl = strlen(s->name);
        bool dunder =
            nl > 4 && memcmp(s->name, "__", 2) == 0 && memcmp(s->name + nl - 2, "__", 2) == 0;
        return pexp && (s->name[0] != '_' || dunder);
    }
    case LANG_JAVASCRIPT:
    case LANG_TYPESCRIPT:
    case LANG_TSX:
        if (parent) {
            return pexp && s->name[0] != '#' && !has_word(prefix, plen, "private") &&
                   !has_word(prefix, plen, "protected");
        }
        return js_in_export(d->def);
    case LANG_RUST:
        if (has_word(prefix, plen, "pub")) {
            return true;
        }
        return parent && (parent->kind == KIND(TRAIT) ||
                          (parent->kind == KIND(IMPL) && parent->signature &&
                           has_word(parent->signature, strlen(parent->signature), "for")));
    case LANG_JAVA:
    case LANG_CSHARP:
        /* a C# namespace (a module) has no access modifier: it does not hide its members */
        if (!pexp && !(parent && parent->kind == KIND(MODULE))) {
            return false;
        }
        return has_word(prefix, plen, "public") ||
               (parent && parent->kind == KIND(INTERFACE) && !has_word(prefix, plen, "private"));
    case LANG_PHP:
        return pexp && !has_word(prefix, plen, "private") && !has_word(prefix, plen, "protected");
    case LANG_KOTLIN:
        return pexp && !has_word(prefix, plen, "private") && !has_word(prefix, plen, "protected") &&
               !has_word(prefix, plen, "internal");
    case LANG_SCALA:
        return pexp && !has_word(prefix, plen, "private") && !has_word(prefix, plen, "protected");
    case LANG_SWIFT:
        return pexp && !has_word(prefix, plen, "private") && !has_word(prefix, plen, "fileprivate");
    case LANG_LUA: return !has_word(prefix, plen, "local");
    case LANG_RUBY:
    case LANG_BASH:
    default: return true;
    }
}

static bool async_lang(lang_id l)
{
    switch (l) {
    case LANG_PYTHON:
    case LANG_JAVASCRIPT:
    case LANG_TYPESCRIPT:
    case LANG_TSX:
    case LANG_RUST:
    case LANG_CSHARP:
    case LANG_SWIFT: return true;
    default: return false;
    }
}

/* ---- collecting matches ---- */

static int cmp_def(const void *x, const void *y)
{
    const rawdef *a = x, *b = y;
    if (a->start != b->start) {
        return a->start < b->start ? -1 : 1;
    }
    if (a->end != b->end) {
        return a->end > b->end ? -1 : 1;
    }
    if (a->name_start != b->name_start) {
        return a->name_start < b->name_start ? -1 : 1;
    }
    return a->pattern < b->pattern ? -1 : a->pattern > b->pattern;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static int cmp_ref(const void *x, const void *y)
{
    const rawref *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

static void collect(ctx *c, const TSQueryMatch *m, bool *truncated)
{
    x_parser *xp = c->xp;
    const lquery *lq = c->lq;
    rawdef d;
    memset(&d, 0, sizeof d);
    bool has_def = false, has_name = false;
    TSNode call = {0}, callee = {0}, import = {0}, source = {0};
    bool has_call = false, has_callee = false, has_import = false, has_source = false;
    uint32_t source_end = 0;
    for (uint16_t i = 0; i < m->capture_count; i++) {
        TSNode nd = m->captures[i].node;
        uint32_t id = m->captures[i].index;
        switch ((enum role)lq->roles[id]) {
        case R_DEF:
            if (!has_def) {
                d.def = nd;
                d.kind = lq->kinds[id];
                has_def = true;
            }
            break;
        case R_NAME:
            if (!has_name) {
                d.name = nd;
                has_name = true;
            }
            break;
        case R_PARAMS: d.params = nd; break;
        case R_RET: d.ret = nd; break;
        case R_BODY: d.body = nd; break;
        case R_SCOPE: d.scope = nd; break;
        case R_EXPORT: d.exported_cap = true; break;
        case R_CALL:
            call = nd;
            has_call = true;
            break;
        case R_CALLEE:
            callee = nd;
            has_callee = true;
            break;
        case R_IMPORT:
            import = nd;
            has_import = true;
            break;
        case R_SOURCE:
            if (!has_source) {
                source = nd;
            }
            if (ts_node_end_byte(nd) > source_end) {
                source_end = ts_node_end_byte(nd);
            }
            has_source = true;
            break;
        case R_NONE: break;
        }
    }
    (void)call;
    (void)import;
    if (has_def && has_name) {
        if (xp->n_defs >= X_MAX_SYMS ||
            !grow((void **)&xp->defs, &xp->cap_defs, xp->n_defs + 1, sizeof *xp->defs)) {
            *truncated = true;
        } else {
            d.start = ts_node_start_byte(d.def);
            d.end = ts_node_end_byte(d.def);
            if (!ts_node_is_null(d.body) && ts_node_end_byte(d.body) > d.end) {
                d.end = ts_node_end_byte(d.body); /* a body after the node extends it */
            }
            d.name_start = ts_node_start_byte(d.name);
            d.pattern = m->pattern_index;
            xp->defs[xp->n_defs++] = d;
        }
    }
    if (has_call && has_callee) {
        if (xp->n_calls >= X_MAX_CALLS ||
            !grow((void **)&xp->calls, &xp->cap_calls, xp->n_calls + 1, sizeof *xp->calls)) {
            *truncated = true;
        } else {
            xp->calls[xp->n_calls++] =
                (rawref){callee, ts_node_start_byte(callee), ts_node_end_byte(callee)};
        }
    }
    if (has_import && has_source) {
        if (xp->n_imps >= X_MAX_IMPORTS ||
            !grow((void **)&xp->imps, &xp->cap_imps, xp->n_imps + 1, sizeof *xp->imps)) {
            *truncated = true;
        } else {
            xp->imps[xp->n_imps++] = (rawref){source, ts_node_start_byte(source), source_end};
        }
    }
}

static uint32_t end_line_of(TSNode n)
{
    TSPoint s = ts_node_start_point(n), e = ts_node_end_point(n);
    /* a node that ends with its newline (a #define) ends on the line before */
    if (e.column == 0 && e.row > s.row) {
        return e.row;
    }
    return e.row + 1;
}

/* parents by byte nesting; struct/union/enum/class tags inside a typedef are the typedef's
 * siblings (their members belong to the tag, not to typedef.tag) */
static bool compute_parents(x_parser *xp)
{
    size_t top = 0;
    if (!grow((void **)&xp->stack, &xp->cap_stack, xp->n_defs + 1, sizeof *xp->stack)) {
        return false;
    }
    for (size_t i = 0; i < xp->n_defs; i++) {
        rawdef *d = &xp->defs[i];
        while (top > 0) {
            const rawdef *t = &xp->defs[xp->stack[top - 1]];
            bool contains = t->start <= d->start && d->end <= t->end &&
                            !(t->start == d->start && t->end == d->end);
            if (contains) {
                break;
            }
            top--;
        }
        /* the preprocessor knows no scopes: a macro is top level wherever it is defined */
        d->parent = top && d->kind != KIND(MACRO) ? xp->stack[top - 1] : -1;
        if (d->parent >= 0 && xp->defs[d->parent].kind == KIND(TYPE) && is_classlike(d->kind)) {
            d->parent = xp->defs[d->parent].parent;
        }
        if (is_container(d->kind)) {
            xp->stack[top++] = (int)i;
        }
    }
    return true;
}

static const char *text_dup(arena *a, const char *src, uint32_t b, uint32_t e, size_t max)
{
    size_t len = e - b;
    size_t k = utf8_cut(src + b, len, max);
    return arena_strndup(a, src + b, k);
}

/* strip quotes/brackets of an import source */
const char *x_source_text(arena *a, const char *src, uint32_t b, uint32_t e)
{
    if (e - b >= 2) {
        char f = src[b], l = src[e - 1];
        if ((f == '"' && l == '"') || (f == '\'' && l == '\'') || (f == '`' && l == '`') ||
            (f == '<' && l == '>')) {
            b++;
            e--;
        }
    }
    return text_dup(a, src, b, e, X_NAME_MAX * 4);
}

/* the last identifier in s[b..e) (obj.method, a::b, pkg.F); the whole text if none */
static const char *callee_text(arena *a, const char *src, uint32_t b, uint32_t e)
{
    uint32_t k = e;
    while (k > b && is_ident_byte((unsigned char)src[k - 1])) {
        k--;
    }
    if (k < e) {
        b = k;
    }
    return text_dup(a, src, b, e, X_NAME_MAX);
}

/* a return type without the `:` (TS) or `->` (Python annotations captured with it) before it */
static const char *strip_ret(const char *s)
{
    if (!s) {
        return NULL;
    }
    while (*s == ':' || *s == ' ' || (s[0] == '-' && s[1] == '>')) {
        s += (s[0] == '-') ? 2 : 1;
    }
    return *s ? s : NULL;
}

#define X_IDENT_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* C/C++: the parser takes an attribute macro between the type and the name (`static int
   __latent_entropy f(...)`, `void __weak f(void)`, `static __net_init int f(...)`) for the
   type. When the captured type is such a word (`__` and an identifier), the return type is
   read from the words before the name instead: storage classes, `inline` and `__` words left
   out; when nothing else is there, the word is the type (`__u32 f(void)`). */
static const char *c_ret_type(arena *a, const char *src, uint32_t from, uint32_t name_start,
                              const char *ret)
{
    if (!ret || ret[0] != '_' || ret[1] != '_' || ret[strspn(ret, X_IDENT_CHARS)] != '\0') {
        return ret;
    }
    buf b;
    buf_init(&b, X_PARAMS_MAX);
    uint32_t i = from;
    while (i < name_start) {
        /* pointer stars are the declarator's: the caller adds them */
        size_t n = strspn(src + i, X_IDENT_CHARS);
        if (n == 0 || i + n > name_start) {
            i++;
            continue;
        }
        bool skip = (n >= 2 && src[i] == '_' && src[i + 1] == '_');
        static const char *const storage[] = {"static", "extern", "inline", "register", NULL};
        for (size_t k = 0; storage[k] && !skip; k++) {
            skip = strlen(storage[k]) == n && memcmp(src + i, storage[k], n) == 0;
        }
        if (skip && n >= 13 && memcmp(src + i, "__attribute__", 13) == 0) {
            /* __attribute__((...)): its parentheses go with it */
            uint32_t j = i + (uint32_t)n;
            int depth = 0;
            while (j < name_start && (src[j] == ' ' || src[j] == '(' || depth > 0)) {
                depth += src[j] == '(' ? 1 : src[j] == ')' ? -1 : 0;
                j++;
                if (depth == 0 && src[j - 1] == ')') {
                    break;
                }
            }
            i = j;
            continue;
        }
        if (!skip) {
            if (b.len) {
                buf_putc(&b, ' ');
            }
            buf_append(&b, src + i, n);
        }
        i += (uint32_t)n;
    }
    /* nothing else there: the word is the type after all (`__u32 f(void)`) */
    const char *out = b.len ? arena_strndup(a, b.ptr, b.len) : ret;
    buf_release(&b);
    return out;
}

/* the name of a C/C++ definition is a keyword: a misparse */
static bool c_keyword_name(const ctx *c, TSNode name)
{
    resolved r;
    resolve_name(name, &r);
    static const char *const kw[] = {"struct", "union",  "enum",     "const",  "volatile", "static",
                                     "extern", "inline", "unsigned", "signed", NULL};
    for (size_t i = 0; kw[i]; i++) {
        if (node_text_eq(c, r.name, kw[i], (uint32_t)strlen(kw[i]))) {
            return true;
        }
    }
    return false;
}

/* n lies inside a C/C++ block (`{ ... }` of statements) */
static bool in_block(TSNode n)
{
    for (TSNode p = ts_node_parent(n); !ts_node_is_null(p); p = ts_node_parent(p)) {
        if (strcmp(ts_node_type(p), "compound_statement") == 0) {
            return true;
        }
    }
    return false;
}

static bool materialize(ctx *c, x_file *out)
{
    x_parser *xp = c->xp;
    arena *a = c->a;
    const char *src = c->src;
    /* drop function locals: variables and body-less function declarations inside a function, and
       in C/C++ any function definition inside one */
    size_t kept = 0;
    if (!grow((void **)&xp->remap, &xp->cap_remap, xp->n_defs + 1, sizeof *xp->remap)) {
        return false;
    }
    for (size_t i = 0; i < xp->n_defs; i++) {
        rawdef *d = &xp->defs[i];
        d->drop = false;
        bool c_like = c->lang == LANG_C || c->lang == LANG_CPP;
        bool var = d->kind == KIND(CONST) || d->kind == KIND(VAR);
        bool proto = is_fn(d->kind) && ts_node_is_null(d->body) &&
                     ts_node_is_null(ts_node_child_by_field_name(d->def, "body", 4));
        if (d->parent >= 0 && is_fn(xp->defs[d->parent].kind)) {
            /* C has no nested functions: a "definition" inside a body is a macro-made loop
               (`for_each_possible_cpu(i) { ... }`) that the grammar reads as one */
            d->drop = var || proto || (c_like && is_fn(d->kind));
        } else if (c_like) {
            /* `static __latent_entropy struct task_struct *f(`: the parser reads `struct` as
               the name of a variable (the function itself is found in the ERROR node after).
               A block at file scope is a body the parser could not attach to its function (a
               macro-made definition such as `SYSCALL_DEFINE2(clone3, ...) { int err; ... }`):
               what is declared in it is local. */
            d->drop = (var && c_keyword_name(c, d->name)) ||
                      ((var || is_fn(d->kind)) && in_block(d->def));
        }
        xp->remap[i] = d->drop ? -1 : (int)kept;
        kept += !d->drop;
    }
    x_symbol *syms = kept ? arena_alloc(a, kept * sizeof *syms) : NULL;
    if (kept && !syms) {
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i < xp->n_defs; i++) {
        rawdef *d = &xp->defs[i];
        if (d->drop) {
            continue;
        }
        x_symbol *s = &syms[o];
        memset(s, 0, sizeof *s);
        s->parent = d->parent >= 0 ? xp->remap[d->parent] : -1;
        const x_symbol *parent = s->parent >= 0 ? &syms[s->parent] : NULL;
        resolved r;
        resolve_name(d->name, &r);
        uint32_t nb = ts_node_start_byte(r.name), ne = ts_node_end_byte(r.name);
        if (ne > c->n || nb > ne) {
            return false;
        }
        if (strcmp(ts_node_type(r.name), "preproc_arg") == 0) {
            /* `#define X ...` seen as a preproc_call: X is the argument's first identifier */
            while (nb < ne && !is_ident_byte((unsigned char)src[nb])) {
                nb++;
            }
            uint32_t k = nb;
            while (k < ne && is_ident_byte((unsigned char)src[k])) {
                k++;
            }
            ne = k;
        }
        s->name = x_collapse(a, src, nb, ne, X_NAME_MAX);
        s->kind = d->kind;
        if (r.is_function && (s->kind == KIND(VAR) || s->kind == KIND(FIELD))) {
            s->kind = KIND(FN); /* a declarator that declares a function: a prototype */
        }
        if (s->kind == KIND(FN) && parent && is_classlike(parent->kind)) {
            s->kind = KIND(METHOD);
        }
        /* qualified name: parent.qname, then @scope or the C++ A::B:: prefix, then name */
        char scope[X_NAME_MAX + 4];
        size_t sl = 0;
        uint32_t sb = 0, se = 0;
        if (!ts_node_is_null(d->scope)) {
            sb = ts_node_start_byte(d->scope);
            se = ts_node_end_byte(d->scope);
        } else if (r.scope_e > r.scope_b) {
            sb = r.scope_b;
            se = r.scope_e;
        }
        for (uint32_t k = sb; k < se && k < c->n && sl < X_NAME_MAX; k++) {
            char ch = src[k];
            if (ch == ':' && k + 1 < se && src[k + 1] == ':') {
                scope[sl++] = '.';
                k++;
            } else if (ch == '<') {
                break; /* A<T>::f -> A */
            } else if (ch != ' ' && ch != '\n' && ch != '\t' && ch != '*' && ch != '&') {
                scope[sl++] = ch;
            }
        }
        scope[sl] = '\0';
        if (sl && s->kind == KIND(FN)) {
            s->kind = KIND(METHOD); /* A::f, func (T) f: a method */
        }
        if (!s->name) {
            return false;
        }
        const char *pq = parent ? parent->qname : NULL;
        if (pq && sl) {
            s->qname = arena_printf(a, "%s.%s.%s", pq, scope, s->name);
        } else if (pq) {
            s->qname = arena_printf(a, "%s.%s", pq, s->name);
        } else if (sl) {
            s->qname = arena_printf(a, "%s.%s", scope, s->name);
        } else {
            s->qname = s->name;
        }
        if (!s->qname) {
            return false;
        }
        s->start_byte = d->start;
        s->end_byte = d->end;
        /* the line of the name, as ctags reports it (a decorator or a return type on the line
         * before does not move it); the end line is the definition's */
        s->start_line = ts_node_start_point(r.name).row + 1;
        s->end_line = end_line_of(d->def);
        if (!ts_node_is_null(d->body) && ts_node_end_byte(d->body) > ts_node_end_byte(d->def)) {
            s->end_line = end_line_of(d->body);
        }
        if (s->end_line < s->start_line) {
            s->end_line = s->start_line;
        }
        /* signature: from the definition's start up to its body */
        TSNode body = d->body;
        if (ts_node_is_null(body)) {
            body = ts_node_child_by_field_name(d->def, "body", 4);
        }
        if (!ts_node_is_null(body) && ts_node_start_byte(body) >= d->start &&
            ts_node_start_byte(body) <= d->end) {
            s->signature = x_collapse(a, src, d->start, ts_node_start_byte(body), X_SIG_MAX);
        } else {
            s->signature = x_sig_text(a, src, d->start, d->end);
        }
        TSNode params = d->params;
        if (ts_node_is_null(params) && !ts_node_is_null(r.fdecl)) {
            params = ts_node_child_by_field_name(r.fdecl, "parameters", 10);
        }
        if (!ts_node_is_null(params)) {
            s->params = x_collapse(a, src, ts_node_start_byte(params), ts_node_end_byte(params),
                                   X_PARAMS_MAX);
        }
        if (!ts_node_is_null(d->ret) && is_fn(s->kind)) {
            const char *rt = x_collapse(a, src, ts_node_start_byte(d->ret),
                                        ts_node_end_byte(d->ret), X_PARAMS_MAX);
            if (c->lang == LANG_C || c->lang == LANG_CPP) {
                rt = c_ret_type(a, src, d->start, ts_node_start_byte(r.name), rt);
            }
            if (rt && r.ptrs > 0) {
                char stars[8] = "";
                int np = r.ptrs < 7 ? r.ptrs : 7;
                memset(stars, '*', (size_t)np);
                stars[np] = '\0';
                rt = arena_printf(a, "%s %s", rt, stars);
            }
            s->ret = strip_ret(rt);
        }
        if (!s->signature) {
            return false;
        }
        uint32_t pend = nb > d->start ? nb : d->start;
        if (async_lang(c->lang)) {
            s->is_async = has_word(s->signature, strlen(s->signature), "async");
        } else if (c->lang == LANG_KOTLIN) {
            s->is_async = has_word(s->signature, strlen(s->signature), "suspend");
        }
        /* what stands before the name decides `static`. When the parser could not read the
           whole head of a C function (`static __latent_entropy struct task_struct
           *copy_process(`), the definition starts after `static`: read its line from the
           start instead */
        uint32_t pstart = d->start;
        if ((c->lang == LANG_C || c->lang == LANG_CPP) && is_fn(s->kind)) {
            while (pstart > 0 && d->start - pstart < 256 && src[pstart - 1] != '\n') {
                pstart--;
            }
        }
        s->exported =
            d->exported_cap || exported_rule(c, d, s, parent, src + pstart, pend - pstart);
        o++;
    }
    out->syms = syms;
    out->n_syms = kept;
    return true;
}

/* the innermost function enclosing byte `pos`, else the innermost definition, else -1 */
static int caller_of(const x_file *f, uint32_t pos)
{
    size_t lo = 0, hi = f->n_syms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->syms[mid].start_byte <= pos) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    int i = (int)lo - 1;
    int innermost = -1;
    for (int guard = 0; i >= 0 && guard < 4096; guard++) {
        const x_symbol *s = &f->syms[i];
        if (s->start_byte <= pos && pos < s->end_byte) {
            if (innermost < 0) {
                innermost = i;
            }
            if (is_fn(s->kind)) {
                return i;
            }
        }
        i = s->parent;
    }
    return innermost;
}

typedef struct strin {
    const char *src;
    uint32_t n;
} strin;

static const char *read_buf(void *payload, uint32_t byte, TSPoint pt, uint32_t *bytes_read)
{
    (void)pt;
    const strin *s = payload;
    if (byte >= s->n) {
        *bytes_read = 0;
        return "";
    }
    *bytes_read = s->n - byte;
    return s->src + byte;
}

bool x_extract(x_parser *p, lang_id lang, const char *relpath, const char *src, size_t n, arena *a,
               const atomic_bool *cancel, x_file *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    out->lang = lang;
    if (why_len) {
        why[0] = '\0';
    }
    if (n > UINT32_MAX - 1) {
        snprintf(why, why_len, "file too large to parse");
        return false;
    }
    uint32_t lines = 0;
    for (const char *q = src, *end = src + n; q < end;) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        lines++;
        if (!nl) {
            break;
        }
        q = nl + 1;
    }
    out->lines = lines;
    if ((lang == LANG_C || lang == LANG_CPP) && !p->no_fast && x_cpp_fast(src, n, a, out)) {
        x_routes(relpath, lang, src, n, a, out);
        return true; /* only preprocessor lines: the same result without a parse */
    }
    const TSLanguage *g = lang_grammar(lang);
    if (!g) {
        x_routes(relpath, lang, src, n, a, out);
        return true; /* no grammar: nothing else to extract */
    }
    char qwhy[256];
    const lquery *lq = get_query(lang, qwhy, sizeof qwhy);
    if (!lq) {
        x_routes(relpath, lang, src, n, a, out);
        return true; /* no query (yet): symbols none, imports none */
    }
    if (!ts_parser_set_language(p->parser, g)) {
        snprintf(why, why_len, "grammar of '%s' has an incompatible ABI", lang_name(lang));
        return false;
    }
    p->budget = (budget){cancel, now_ns() + (uint64_t)p->budget_ms * 1000000u, false, false};
    budget *b = &p->budget;
    strin si = {src, (uint32_t)n};
    TSInput in = {&si, read_buf, TSInputEncodingUTF8, NULL};
    TSTree *tree =
        ts_parser_parse_with_options(p->parser, NULL, in, (TSParseOptions){b, parse_progress});
    if (!tree) {
        ts_parser_reset(p->parser); /* else the next parse would resume this one */
        snprintf(why, why_len, "%s",
                 b->cancelled   ? "cancelled"
                 : b->timed_out ? "parse timed out"
                                : "parse failed");
        return false;
    }
    TSNode root = ts_tree_root_node(tree);
    out->had_errors = ts_node_has_error(root);
    ctx c = {src, n, p, lq, lang, a};
    p->n_defs = p->n_calls = p->n_imps = 0;
    bool truncated = false;
    p->qopts = (TSQueryCursorOptions){b, query_progress};
    ts_query_cursor_exec_with_options(p->cursor, lq->q, root, &p->qopts);
    TSQueryMatch m;
    while (ts_query_cursor_next_match(p->cursor, &m)) {
        if (preds_hold(&c, &m)) {
            collect(&c, &m, &truncated);
        }
    }
    bool ok = false;
    if (b->cancelled || b->timed_out) {
        snprintf(why, why_len, "%s", b->cancelled ? "cancelled" : "query timed out");
        goto done;
    }
    if (ts_query_cursor_did_exceed_match_limit(p->cursor)) {
        truncated = true;
    }
    /* definitions: source order, outer first, duplicates (same node and name) once */
    if (p->n_defs > 1) {
        qsort(p->defs, p->n_defs, sizeof *p->defs, cmp_def);
    }
    size_t w = 0;
    for (size_t i = 0; i < p->n_defs; i++) {
        if (w > 0 && p->defs[w - 1].start == p->defs[i].start &&
            p->defs[w - 1].end == p->defs[i].end &&
            p->defs[w - 1].name_start == p->defs[i].name_start) {
            continue;
        }
        p->defs[w++] = p->defs[i];
    }
    p->n_defs = w;
    if (!compute_parents(p) || !materialize(&c, out)) {
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    /* calls and imports: source order, one per node */
    if (p->n_calls > 1) {
        qsort(p->calls, p->n_calls, sizeof *p->calls, cmp_ref);
    }
    if (p->n_imps > 1) {
        qsort(p->imps, p->n_imps, sizeof *p->imps, cmp_ref);
    }
    out->calls = p->n_calls ? arena_alloc(a, p->n_calls * sizeof *out->calls) : NULL;
    out->imports = p->n_imps ? arena_alloc(a, p->n_imps * sizeof *out->imports) : NULL;
    if ((p->n_calls && !out->calls) || (p->n_imps && !out->imports)) {
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    /* a macro-made definition (SYSCALL_DEFINE2(...) {}) names itself with a call node */
    if (!grow((void **)&p->names, &p->cap_names, p->n_defs + 1, sizeof *p->names)) {
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < p->n_defs; i++) {
        p->names[i] = p->defs[i].name_start;
    }
    if (p->n_defs > 1) {
        qsort(p->names, p->n_defs, sizeof *p->names, cmp_u32);
    }
    for (size_t i = 0; i < p->n_calls; i++) {
        if (i > 0 && p->calls[i - 1].start == p->calls[i].start) {
            continue;
        }
        if (p->n_defs &&
            bsearch(&p->calls[i].start, p->names, p->n_defs, sizeof *p->names, cmp_u32)) {
            continue;
        }
        TSNode nd = p->calls[i].node;
        if (!out->calls) {
            break; /* (allocated above whenever there are calls) */
        }
        x_call *xc = &out->calls[out->n_calls];
        xc->callee = callee_text(a, src, ts_node_start_byte(nd), ts_node_end_byte(nd));
        if (!xc->callee) {
            snprintf(why, why_len, "out of memory");
            goto done;
        }
        xc->line = ts_node_start_point(nd).row + 1;
        xc->caller = caller_of(out, p->calls[i].start);
        out->n_calls++;
    }
    for (size_t i = 0; i < p->n_imps; i++) {
        if (i > 0 && p->imps[i - 1].start == p->imps[i].start) {
            continue;
        }
        TSNode nd = p->imps[i].node;
        x_import *xi = &out->imports[out->n_imports];
        xi->source = x_source_text(a, src, ts_node_start_byte(nd), p->imps[i].end);
        if (!xi->source) {
            snprintf(why, why_len, "out of memory");
            goto done;
        }
        xi->line = ts_node_start_point(nd).row + 1;
        out->n_imports++;
    }
    out->truncated = truncated;
    x_routes(relpath, lang, src, n, a, out);
    ok = true;
done:
    ts_tree_delete(tree);
    return ok;
}

/* readmodes.c - ctx_read's signatures, map, aggressive and entropy renderings (readmodes.h).
 *
 * signatures and map parse the bytes read.c already holds with the extractor (lang/extract.h),
 * on the fly: the answer always reflects the file as it is now, whatever state the index is
 * in. Each thread keeps one x_parser (a TSParser and compiled queries are worth reusing), freed
 * when the thread ends. Symbol lines are rendered by ixt_sig_line, the one formatter of the
 * signature line (tools.md §2.1), so ctx_read, ctx_outline and ctx_repomap agree byte for byte.
 *
 * Non-code files get their own structure in map: a heading outline for Markdown and reST, the
 * key structure with value types for JSON, YAML and TOML (INI reads as TOML), columns for CSV,
 * and package names for lock files. aggressive strips comments by a small per-language lexer
 * that knows strings (a `//` or `#` inside a string literal is not a comment); entropy keeps
 * the lines that carry information by the rule of §2.1. The loops that do real work per line
 * (parsing, lexing, entropy) poll the deadline; all memory is the call's arena or the output
 * buffer (jansson's own allocations for JSON aside, freed before returning). */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "lang/extract.h"
#include "lang/lang.h"
#include "tools/ixtools.h"
#include "tools/linediff.h"
#include "tools/readmodes.h"

#define TOK_LIMIT_FULL 2000 /* tools.md §2.1: auto and aggressive thresholds, in tokens */
#define TOK_LIMIT_DATA 4000
#define DEPS_SIGNATURES 8
#define LOCK_NAMES 20
#define ENTROPY_WINDOW 20
#define ENTROPY_JACCARD 0.7
#define MAX_LINE_TOKENS 512 /* tokens per line considered by entropy (the rest is ignored) */

static size_t tok_of(size_t bytes)
{
    return (bytes + 3) / 4;
}

static const char *ext_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

static const char *base_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? slash + 1 : rel;
}

static bool ext_in(const char *ext, const char *const *list)
{
    for (; *list; list++) {
        if (strcasecmp(ext, *list) == 0) {
            return true;
        }
    }
    return false;
}

static const char *const data_exts[] = {"json", "yaml", "yml",   "toml", "ini", "xml",
                                        "csv",  "lock", "jsonc", "cfg",  "tsv", NULL};
static const char *const text_exts[] = {"md",   "markdown", "mdx",      "rst", "txt",
                                        "text", "adoc",     "asciidoc", NULL};

static bool is_lock(const char *rel)
{
    return strcasecmp(ext_of(rel), "lock") == 0 || strcmp(base_of(rel), "go.sum") == 0;
}

static void header(buf *out, const rm_src *f)
{
    buf_printf(out, "%s %lldL", f->rel, (long long)f->nlines);
}

static void no_structure(buf *out, const rm_src *f)
{
    buf_printf(out,
               "  [no extractable structure for .%s — header only; use mode=\"lines:N-M\" or "
               "\"full\"]\n",
               ext_of(f->rel));
}

static bool expired_every(tool_call *call, size_t i)
{
    return (i & 4095) == 4095 && tool_expired(call);
}

/* ---- protect ---- */

static bool is_ident_char(unsigned char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c >= 0x80;
}

/* does the line hold one of the protect identifiers as a whole word (or, for an entry that is
 * not identifier-shaped, as a substring) */
static bool protected_line(const rm_src *f, const char *p, size_t n)
{
    for (size_t k = 0; k < f->nprotect; k++) {
        const char *w = f->protect[k];
        size_t wl = strlen(w);
        if (!wl || wl > n) {
            continue;
        }
        bool ident = true;
        for (size_t i = 0; i < wl; i++) {
            ident = ident && is_ident_char((unsigned char)w[i]);
        }
        const char *s = p, *end = p + n;
        while ((s = memmem(s, (size_t)(end - s), w, wl)) != NULL) {
            bool left = s == p || !is_ident_char((unsigned char)s[-1]);
            bool right = s + wl == end || !is_ident_char((unsigned char)s[wl]);
            if (!ident || (left && right)) {
                return true;
            }
            s++;
        }
    }
    return false;
}

/* signatures and map: lines holding a protect identifier, shown after the structure */
static void protect_section(const rm_src *f, ld_line *lines, size_t nl, buf *out)
{
    if (!f->nprotect) {
        return;
    }
    bool any = false;
    for (size_t i = 0; i < nl; i++) {
        if (protected_line(f, lines[i].p, lines[i].n)) {
            if (!any) {
                buf_puts(out, "  protect:\n");
                any = true;
            }
            size_t n = lines[i].n;
            while (n && (lines[i].p[n - 1] == '\r' || lines[i].p[n - 1] == ' ' ||
                         lines[i].p[n - 1] == '\t')) {
                n--;
            }
            buf_printf(out, "%4zu| ", i + 1);
            utf8_append_repaired(out, lines[i].p, n);
            buf_putc(out, '\n');
        }
    }
}

/* ---- symbols: the per-thread parser ---- */

static pthread_key_t parser_key;
static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void parser_dtor(void *p)
{
    x_parser_free(p);
}

static void parser_key_init(void)
{
    pthread_key_create(&parser_key, parser_dtor);
}

static x_parser *thread_parser(void)
{
    pthread_once(&parser_once, parser_key_init);
    x_parser *p = pthread_getspecific(parser_key);
    if (!p) {
        p = x_parser_new();
        if (p && pthread_setspecific(parser_key, p) != 0) {
            x_parser_free(p);
            p = NULL;
        }
    }
    return p;
}

/* Parse f with its language. false only when memory ran out or the call was cancelled;
 * otherwise xf holds what was found (nothing for a file without a grammar), and why[0] is set
 * when the parser gave up on the file (its size-scaled time budget). */
static bool extract(tool_call *call, const rm_src *f, x_file *xf, char why[128])
{
    memset(xf, 0, sizeof *xf);
    why[0] = '\0';
    lang_id l = lang_detect(f->rel, f->data, f->len < 256 ? f->len : 256);
    if (l == LANG_NONE || !lang_query(l)) {
        return true;
    }
    x_parser *p = thread_parser();
    if (!p) {
        return false;
    }
    if (!x_extract(p, l, f->rel, f->data, f->len, call->a, call->cancel, xf, why, 128)) {
        memset(xf, 0, sizeof *xf);
        if (tool_expired(call)) {
            return false;
        }
        if (!why[0]) {
            snprintf(why, 128, "parse failed");
        }
    }
    return true;
}

/* the line that replaces the structure when there is none to show */
static void nothing_found(buf *out, const rm_src *f, const char *why)
{
    if (why[0]) {
        buf_printf(out, "  [could not parse: %s — use mode=\"lines:N-M\" or \"full\"]\n", why);
    } else {
        no_structure(out, f);
    }
}

/* members are shown by expanding their container, and locals are not structure */
static bool listed(const x_file *xf, size_t i)
{
    const x_symbol *s = &xf->syms[i];
    if (!s->name || !s->name[0] || strcmp(s->kind, "field") == 0 ||
        strcmp(s->kind, "enumerator") == 0) {
        return false;
    }
    if (strcmp(s->kind, "var") == 0 || strcmp(s->kind, "const") == 0) {
        for (int p = s->parent; p >= 0; p = xf->syms[p].parent) {
            const char *k = xf->syms[p].kind;
            if (strcmp(k, "fn") == 0 || strcmp(k, "method") == 0) {
                return false;
            }
        }
    }
    return true;
}

static int depth_of(const x_file *xf, size_t i)
{
    int d = 0;
    for (int p = xf->syms[i].parent; p >= 0 && d < 64; p = xf->syms[p].parent) {
        d++;
    }
    return d;
}

static void to_ix(const rm_src *f, const x_file *xf, size_t i, ix_sym *s)
{
    const x_symbol *x = &xf->syms[i];
    memset(s, 0, sizeof *s);
    s->path = f->rel;
    s->name = x->name;
    s->qname = x->qname;
    s->kind = x->kind;
    s->signature = x->signature;
    s->params = x->params;
    s->ret = x->ret;
    s->lang = lang_name(xf->lang);
    s->start_line = x->start_line;
    s->end_line = x->end_line;
    s->exported = x->exported;
    s->is_async = x->is_async;
    s->depth = depth_of(xf, i);
}

/* C/C++: true when symbol i is a body-less function declaration whose definition (a symbol of
 * the same name, kind and parent with a body) is in the same file: that definition's line lists
 * it, so signatures shows the function once */
static bool has_body(const rm_src *f, const x_symbol *x)
{
    return x->end_byte <= f->len && x->start_byte < x->end_byte &&
           memchr(f->data + x->start_byte, '{', x->end_byte - x->start_byte) != NULL;
}

/* the functions with a body, by (parent, name), for forward_decl's lookups */
typedef struct defined_fn {
    int parent;
    const char *name;
} defined_fn;

static int defined_cmp(const void *a, const void *b)
{
    const defined_fn *x = a, *y = b;
    if (x->parent != y->parent) {
        return x->parent < y->parent ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

/* C/C++: the sorted (parent, name) of the file's function definitions; NULL (n 0) for other
   languages, when there are none, or when the arena is full (then nothing is hidden) */
static defined_fn *defined_fns(arena *a, const rm_src *f, const x_file *xf, size_t *n)
{
    *n = 0;
    if (xf->lang != LANG_C && xf->lang != LANG_CPP) {
        return NULL;
    }
    defined_fn *v = arena_alloc(a, (xf->n_syms + 1) * sizeof *v);
    for (size_t i = 0; v && i < xf->n_syms; i++) {
        const x_symbol *x = &xf->syms[i];
        if (strcmp(x->kind, "fn") == 0 && x->name && has_body(f, x)) {
            v[(*n)++] = (defined_fn){x->parent, x->name};
        }
    }
    if (*n > 1) {
        qsort(v, *n, sizeof *v, defined_cmp);
    }
    return v;
}

/* symbol i is a body-less function declaration whose definition is in the same file */
static bool forward_decl(const rm_src *f, const x_file *xf, size_t i, const defined_fn *defs,
                         size_t ndefs)
{
    const x_symbol *x = &xf->syms[i];
    if (!ndefs || strcmp(x->kind, "fn") != 0 || !x->name || has_body(f, x)) {
        return false;
    }
    defined_fn key = {x->parent, x->name};
    return bsearch(&key, defs, ndefs, sizeof *defs, defined_cmp) != NULL;
}

/* the imports in source order without repeats; count */
static size_t unique_imports(arena *a, const x_file *xf, const char ***out)
{
    const char **v = arena_alloc(a, (xf->n_imports + 1) * sizeof *v);
    size_t n = 0;
    if (!v) {
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < xf->n_imports; i++) {
        const char *s = xf->imports[i].source;
        if (!s || !*s) {
            continue;
        }
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++) {
            seen = strcmp(v[j], s) == 0;
        }
        if (!seen) {
            v[n++] = s;
        }
    }
    *out = v;
    return n;
}

bool rm_signatures(tool_call *call, const rm_src *f, buf *out)
{
    x_file xf;
    char why[128];
    if (!extract(call, f, &xf, why)) {
        return false;
    }
    header(out, f);
    buf_putc(out, '\n');
    const char **imps;
    size_t nimp = unique_imports(call->a, &xf, &imps);
    if (nimp) {
        buf_puts(out, " deps ");
        for (size_t i = 0; i < nimp && i < DEPS_SIGNATURES; i++) {
            if (i) {
                buf_putc(out, ',');
            }
            utf8_append_repaired(out, imps[i], strlen(imps[i]));
        }
        buf_putc(out, '\n');
    }
    size_t shown = 0, ndefs;
    const defined_fn *defs = defined_fns(call->a, f, &xf, &ndefs);
    for (size_t i = 0; i < xf.n_syms; i++) {
        if (!listed(&xf, i) || forward_decl(f, &xf, i, defs, ndefs)) {
            continue;
        }
        ix_sym s;
        to_ix(f, &xf, i, &s);
        ixt_sig_line(out, &s, s.depth);
        buf_putc(out, '\n');
        shown++;
    }
    if (!shown && !nimp) {
        nothing_found(out, f, why);
    }
    ld_line *lines;
    size_t nl = f->nprotect ? ld_split(call->a, f->data, f->len, &lines) : 0;
    if (nl != (size_t)-1 && nl) {
        protect_section(f, lines, nl, out);
    }
    if (shown) {
        buf_printf(out,
                   "  ↳ expand a symbol: ctx_read(\"%s\", mode=\"lines:N-M\") using the spans "
                   "above\n",
                   f->rel);
        ixt_hint(out);
        buf_putc(out, '\n');
    }
    return !out->failed;
}

/* ---- map: code ---- */

/* value-like symbols (constants, variables, macros) are named under exports, not in API */
static bool value_like(const char *kind)
{
    return strcmp(kind, "const") == 0 || strcmp(kind, "var") == 0 || strcmp(kind, "macro") == 0;
}

static bool in_api(const x_file *xf, size_t i)
{
    return listed(xf, i) && !value_like(xf->syms[i].kind) &&
           (xf->syms[i].parent < 0 || xf->syms[i].exported);
}

static bool map_code(tool_call *call, const rm_src *f, const x_file *xf, buf *out)
{
    const char **imps;
    size_t nimp = unique_imports(call->a, xf, &imps);
    if (nimp) {
        buf_puts(out, "  deps: ");
        for (size_t i = 0; i < nimp; i++) {
            if (i) {
                buf_puts(out, ", ");
            }
            utf8_append_repaired(out, imps[i], strlen(imps[i]));
        }
        buf_putc(out, '\n');
    }
    bool any_export = false;
    for (size_t i = 0; i < xf->n_syms; i++) {
        if (xf->syms[i].exported && listed(xf, i) && !in_api(xf, i)) {
            buf_puts(out, any_export ? ", " : "  exports: ");
            utf8_append_repaired(out, xf->syms[i].name, strlen(xf->syms[i].name));
            any_export = true;
        }
    }
    if (any_export) {
        buf_putc(out, '\n');
    }
    bool api = false;
    for (size_t i = 0; i < xf->n_syms; i++) {
        if (!in_api(xf, i)) {
            continue;
        }
        if (!api) {
            buf_puts(out, "  API:\n");
            api = true;
        }
        ix_sym s;
        to_ix(f, xf, i, &s);
        ixt_sig_line(out, &s, 2 + s.depth);
        buf_putc(out, '\n');
    }
    if (!api && !nimp && !any_export) {
        no_structure(out, f);
    }
    return true;
}

/* ---- map: Markdown and reST outlines ---- */

static size_t lead_spaces(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == ' ') {
        i++;
    }
    return i;
}

static size_t rtrim_len(const char *p, size_t n)
{
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r')) {
        n--;
    }
    return n;
}

static bool all_char(const char *p, size_t n, char c)
{
    if (!n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] != c) {
            return false;
        }
    }
    return true;
}

static void heading(buf *out, int level, const char *t, size_t n, size_t line)
{
    for (int i = 0; i < level; i++) {
        buf_putc(out, '#');
    }
    buf_putc(out, ' ');
    utf8_append_repaired(out, t, n);
    buf_printf(out, " @L%zu\n", line);
}

/* the headings found (0: none), -1 when the call expired */
static long outline_markdown(tool_call *call, ld_line *l, size_t nl, buf *out)
{
    bool fence = false;
    char fch = 0;
    size_t flen = 0;
    size_t count = 0;
    bool prev_para = false; /* the previous line is paragraph text (a setext title candidate) */
    for (size_t i = 0; i < nl; i++) {
        if (expired_every(call, i)) {
            return -1;
        }
        const char *p = l[i].p;
        size_t n = rtrim_len(p, l[i].n);
        size_t ind = lead_spaces(p, n);
        const char *q = p + ind;
        size_t qn = n - ind;
        if (ind <= 3 && qn >= 3 && (q[0] == '`' || q[0] == '~') && q[1] == q[0] && q[2] == q[0]) {
            size_t run = 0;
            while (run < qn && q[run] == q[0]) {
                run++;
            }
            if (!fence) {
                fence = true;
                fch = q[0];
                flen = run;
            } else if (q[0] == fch && run >= flen && run == qn) {
                fence = false;
            }
            prev_para = false;
            continue;
        }
        if (fence) {
            continue;
        }
        if (ind <= 3 && qn && q[0] == '#') {
            size_t h = 0;
            while (h < qn && q[h] == '#') {
                h++;
            }
            if (h <= 6 && (h == qn || q[h] == ' ' || q[h] == '\t')) {
                const char *t = q + h;
                size_t tn = qn - h;
                while (tn && (*t == ' ' || *t == '\t')) {
                    t++;
                    tn--;
                }
                /* a closing run of #s preceded by a space is not part of the title */
                size_t e = tn;
                while (e && t[e - 1] == '#') {
                    e--;
                }
                if (e < tn && (e == 0 || t[e - 1] == ' ' || t[e - 1] == '\t')) {
                    tn = rtrim_len(t, e);
                }
                heading(out, (int)h, t, tn, i + 1);
                count++;
                prev_para = false;
                continue;
            }
        }
        if (prev_para && ind <= 3 && (all_char(q, qn, '=') || all_char(q, qn, '-'))) {
            const char *t = l[i - 1].p;
            size_t tn = rtrim_len(t, l[i - 1].n);
            size_t ti = lead_spaces(t, tn);
            heading(out, q[0] == '=' ? 1 : 2, t + ti, tn - ti, i);
            count++;
            prev_para = false;
            continue;
        }
        /* paragraph text: not blank, not a list item, quote, table or indented code */
        prev_para = qn > 0 && ind <= 3 && !(qn >= 2 && strchr("-*+", q[0]) && q[1] == ' ') &&
                    q[0] != '>' && q[0] != '|' && q[0] != '<';
    }
    return (long)count;
}

static bool rst_adornment(const char *p, size_t n)
{
    static const char chars[] = "=-~^\"'`#*+:._<>!$%&,/;?@[]\\{}|";
    return n >= 2 && strchr(chars, p[0]) && all_char(p, n, p[0]);
}

static size_t cp_len(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c += ((unsigned char)p[i] & 0xC0) != 0x80;
    }
    return c;
}

/* the titles found (0: none), -1 when the call expired */
static long outline_rst(tool_call *call, ld_line *l, size_t nl, buf *out)
{
    /* a level is a (character, overlined) style, numbered in order of first appearance */
    char styles[16][2];
    int nstyles = 0;
    size_t count = 0;
    for (size_t i = 1; i < nl; i++) {
        if (expired_every(call, i)) {
            return -1;
        }
        size_t un = rtrim_len(l[i].p, l[i].n);
        size_t tn = rtrim_len(l[i - 1].p, l[i - 1].n);
        if (!rst_adornment(l[i].p, un) || tn == 0 || l[i - 1].p[0] == ' ' ||
            rst_adornment(l[i - 1].p, tn) || un < cp_len(l[i - 1].p, tn)) {
            continue;
        }
        bool over = i >= 2 && rtrim_len(l[i - 2].p, l[i - 2].n) == un &&
                    rst_adornment(l[i - 2].p, un) && l[i - 2].p[0] == l[i].p[0];
        int lvl = -1;
        for (int s = 0; s < nstyles; s++) {
            if (styles[s][0] == l[i].p[0] && styles[s][1] == (char)over) {
                lvl = s;
            }
        }
        if (lvl < 0) {
            if (nstyles == 16) {
                continue;
            }
            styles[nstyles][0] = l[i].p[0];
            styles[nstyles][1] = (char)over;
            lvl = nstyles++;
        }
        heading(out, lvl + 1 > 6 ? 6 : lvl + 1, l[i - 1].p, tn, i);
        count++;
    }
    return (long)count;
}

/* ---- map: JSON ---- */

static const char *jtype_name(json_t *v, char *tmp, size_t cap)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: snprintf(tmp, cap, "object{%zu}", json_object_size(v)); return tmp;
    case JSON_ARRAY: snprintf(tmp, cap, "array[%zu]", json_array_size(v)); return tmp;
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static void key_line(buf *out, int depth, const char *k, size_t kn, const char *type)
{
    for (int i = 0; i < depth; i++) {
        buf_puts(out, "  ");
    }
    utf8_append_repaired(out, k, kn);
    buf_printf(out, ": %s\n", type);
}

static void json_members(json_t *o, int depth, int max_depth, buf *out)
{
    const char *k;
    json_t *v;
    char tmp[48];
    json_object_foreach (o, k, v) {
        key_line(out, depth, k, strlen(k), jtype_name(v, tmp, sizeof tmp));
        if (depth < max_depth && json_is_object(v)) {
            json_members(v, depth + 1, max_depth, out);
        }
    }
}

/* JSON without comments and insignificant whitespace (aggressive's minifier) */
static void json_minify(const char *s, size_t n, buf *out);

static json_t *json_parse_lenient(const char *s, size_t n, json_error_t *e)
{
    buf m;
    buf_init(&m, n + 16);
    json_minify(s, n, &m);
    json_t *root = m.failed ? NULL : json_loadb(m.ptr ? m.ptr : "", m.len, JSON_DECODE_ANY, e);
    buf_release(&m);
    return root;
}

static bool map_json(const char *s, size_t n, buf *out)
{
    json_error_t e;
    json_t *root = json_parse_lenient(s, n, &e);
    if (!root) {
        buf_printf(out, "  [not valid JSON: %.120s — use mode=\"full\"]\n", e.text);
        return true;
    }
    char tmp[48];
    if (json_is_object(root)) {
        json_members(root, 1, 2, out);
    } else if (json_is_array(root)) {
        buf_printf(out, "  %s\n", jtype_name(root, tmp, sizeof tmp));
        json_t *first = json_array_get(root, 0);
        if (json_is_object(first)) {
            json_members(first, 2, 2, out);
        }
    } else {
        buf_printf(out, "  %s\n", jtype_name(root, tmp, sizeof tmp));
    }
    json_decref(root);
    return true;
}

/* ---- map: YAML (line structure) ---- */

typedef struct yrec {
    size_t line;
    size_t indent;
    bool item;       /* `- ...` */
    const char *key; /* NULL for a plain item */
    size_t keylen;
    const char *val; /* inline value, after `key:` or `- ` (trimmed, comment removed) */
    size_t vallen;
} yrec;

/* strip a ` #` comment outside quotes */
static size_t yaml_uncomment(const char *p, size_t n)
{
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        if (q) {
            if (p[i] == q) {
                q = 0;
            }
        } else if (p[i] == '"' || p[i] == '\'') {
            if (i == 0 || p[i - 1] == ' ' || p[i - 1] == ':' || p[i - 1] == '[' ||
                p[i - 1] == '{' || p[i - 1] == ',') {
                q = p[i];
            }
        } else if (p[i] == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t')) {
            return rtrim_len(p, i);
        }
    }
    return rtrim_len(p, n);
}

/* `key:` at p (quoted or plain); its length, 0 when p is not a key */
static size_t yaml_key(const char *p, size_t n, const char **k, size_t *kl)
{
    if (!n) {
        return 0;
    }
    if (p[0] == '"' || p[0] == '\'') {
        const char *e = memchr(p + 1, p[0], n - 1);
        if (!e || (size_t)(e - p) + 1 >= n || e[1] != ':' ||
            ((size_t)(e - p) + 2 < n && e[2] != ' ')) {
            return 0;
        }
        *k = p + 1;
        *kl = (size_t)(e - p) - 1;
        return (size_t)(e - p) + 2;
    }
    if (strchr("[{!&*|>%@`#", p[0])) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ':' && (i + 1 == n || p[i + 1] == ' ' || p[i + 1] == '\t')) {
            *k = p;
            *kl = rtrim_len(p, i);
            return i + 1;
        }
    }
    return 0;
}

static const char *scalar_type(const char *v, size_t n, char *tmp, size_t cap)
{
    /* tags and anchors say nothing about the type of what follows */
    while (n && (v[0] == '&' || v[0] == '!')) {
        const char *sp = memchr(v, ' ', n);
        if (!sp) {
            return v[0] == '&' ? "null" : "string";
        }
        n -= (size_t)(sp + 1 - v);
        v = sp + 1;
    }
    if (!n || (n == 1 && v[0] == '~') || (n == 4 && strncmp(v, "null", 4) == 0)) {
        return "null";
    }
    if (v[0] == '"' || v[0] == '\'' || v[0] == '|' || v[0] == '>') {
        return "string";
    }
    if ((n == 4 && strncmp(v, "true", 4) == 0) || (n == 5 && strncmp(v, "false", 5) == 0)) {
        return "boolean";
    }
    if (v[0] == '[' || v[0] == '{') {
        /* flow collection: count its top-level items */
        int depth = 0;
        size_t items = 0;
        bool any = false;
        char q = 0;
        for (size_t i = 0; i < n; i++) {
            char c = v[i];
            if (q) {
                q = c == q ? 0 : q;
                continue;
            }
            if (c == '"' || c == '\'') {
                q = c;
                any = true;
            } else if (c == '[' || c == '{') {
                depth++;
                any = depth > 1 ? true : any;
            } else if (c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 1) {
                items++;
            } else if (c != ' ' && depth >= 1) {
                any = true;
            }
        }
        items += any;
        snprintf(tmp, cap, v[0] == '[' ? "array[%zu]" : "object{%zu}", items);
        return tmp;
    }
    char *end;
    char num[64];
    if (n < sizeof num) {
        memcpy(num, v, n);
        num[n] = '\0';
        strtod(num, &end);
        if (end == num + n && n > 0 &&
            (v[0] == '-' || v[0] == '+' || v[0] == '.' || (v[0] >= '0' && v[0] <= '9'))) {
            return "number";
        }
    }
    return "string";
}

static size_t yaml_records(tool_call *call, ld_line *l, size_t nl, yrec *r)
{
    size_t nr = 0;
    size_t block = (size_t)-1; /* inside a block scalar: lines indented more than this */
    for (size_t i = 0; i < nl; i++) {
        if (expired_every(call, i)) {
            return (size_t)-1;
        }
        size_t n = rtrim_len(l[i].p, l[i].n);
        size_t ind = lead_spaces(l[i].p, n);
        if (block != (size_t)-1) {
            if (ind == n || ind > block) {
                continue;
            }
            block = (size_t)-1;
        }
        const char *p = l[i].p + ind;
        size_t pn = yaml_uncomment(p, n - ind);
        if (!pn || (pn >= 3 && (strncmp(p, "---", 3) == 0 || strncmp(p, "...", 3) == 0)) ||
            p[0] == '%') {
            continue;
        }
        yrec x = {.line = i + 1, .indent = ind};
        if (pn >= 1 && p[0] == '-' && (pn == 1 || p[1] == ' ')) {
            x.item = true;
            size_t skip = pn == 1 ? 1 : 2;
            p += skip;
            pn -= skip;
            while (pn && *p == ' ') {
                p++;
                pn--;
            }
        }
        size_t kl = yaml_key(p, pn, &x.key, &x.keylen);
        if (kl) {
            p += kl;
            pn -= kl;
            while (pn && *p == ' ') {
                p++;
                pn--;
            }
        }
        x.val = p;
        x.vallen = pn;
        if (pn && (p[0] == '|' || p[0] == '>')) {
            block = ind;
        }
        r[nr++] = x;
    }
    return nr;
}

/* the type of record i's value: inline, or from the records nested under it */
static const char *yaml_type(yrec *r, size_t nr, size_t i, char *tmp, size_t cap)
{
    if (r[i].vallen || !r[i].key) {
        return scalar_type(r[i].val, r[i].vallen, tmp, cap);
    }
    size_t ind = r[i].indent + (r[i].item ? 2 : 0);
    if (i + 1 >= nr) {
        return "null";
    }
    size_t ci = r[i + 1].indent;
    bool seq_same = r[i + 1].item && ci == r[i].indent && !r[i].item; /* `k:\n- a` */
    if (ci <= ind && !seq_same) {
        return "null";
    }
    size_t count = 0;
    bool items = r[i + 1].item;
    for (size_t j = i + 1; j < nr; j++) {
        if (seq_same) {
            if (r[j].indent < ci || (r[j].indent == ci && !r[j].item)) {
                break;
            }
        } else if (r[j].indent <= ind) {
            break;
        }
        if (r[j].indent == ci && (items ? r[j].item : !r[j].item)) {
            count++;
        }
    }
    snprintf(tmp, cap, items ? "array[%zu]" : "object{%zu}", count);
    return tmp;
}

static bool map_yaml(tool_call *call, ld_line *l, size_t nl, buf *out)
{
    yrec *r = arena_alloc(call->a, (nl + 1) * sizeof *r);
    if (!r) {
        return false;
    }
    size_t nr = yaml_records(call, l, nl, r);
    if (nr == (size_t)-1) {
        return false;
    }
    if (!nr) {
        buf_puts(out, "  [empty YAML document]\n");
        return true;
    }
    char tmp[48];
    size_t root = r[0].indent;
    if (r[0].item) {
        size_t count = 0;
        for (size_t j = 0; j < nr; j++) {
            count += r[j].indent == root && r[j].item;
        }
        buf_printf(out, "  array[%zu]\n", count);
        return true;
    }
    for (size_t i = 0; i < nr; i++) {
        if (expired_every(call, i)) {
            return false;
        }
        if (r[i].indent != root || !r[i].key || r[i].item) {
            continue;
        }
        key_line(out, 1, r[i].key, r[i].keylen, yaml_type(r, nr, i, tmp, sizeof tmp));
        if (r[i].vallen || i + 1 >= nr || r[i + 1].indent <= root || r[i + 1].item) {
            continue;
        }
        size_t ci = r[i + 1].indent;
        for (size_t j = i + 1; j < nr && r[j].indent > root; j++) {
            if (r[j].indent == ci && r[j].key && !r[j].item) {
                key_line(out, 2, r[j].key, r[j].keylen, yaml_type(r, nr, j, tmp, sizeof tmp));
            }
        }
    }
    return true;
}

/* ---- map: TOML and INI ---- */

typedef struct tnode {
    const char *name;
    size_t len;
    int parent;   /* -1: top */
    bool table;   /* [x] */
    bool array;   /* [[x]] */
    size_t count; /* members (tables) or occurrences (arrays of tables) */
    char type[48];
} tnode;

typedef struct toml_map {
    tnode *v;
    size_t n, cap;
} toml_map;

/* the key line of a node: its name and its type, `array[n]` or `object{n}` for tables */
static void tnode_line(buf *out, int depth, const tnode *k)
{
    char t[48];
    if (k->array) {
        snprintf(t, sizeof t, "array[%zu]", k->count);
    } else if (k->table) {
        snprintf(t, sizeof t, "object{%zu}", k->count);
    } else {
        snprintf(t, sizeof t, "%s", k->type);
    }
    key_line(out, depth, k->name, k->len, t);
}

static int tnode_get(toml_map *m, int parent, const char *name, size_t len, bool create)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->v[i].parent == parent && m->v[i].len == len &&
            memcmp(m->v[i].name, name, len) == 0) {
            return (int)i;
        }
    }
    if (!create || m->n == m->cap) {
        return -2;
    }
    tnode *t = &m->v[m->n];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->len = len;
    t->parent = parent;
    return (int)m->n++;
}

static void toml_value_type(const char *v, size_t n, char *type, size_t cap)
{
    char tmp[48];
    if (n && (v[0] == '"' || v[0] == '\'')) {
        snprintf(type, cap, "string");
    } else if (n && v[0] == '{') {
        /* inline table: count `=` at depth 1 */
        size_t k = 0;
        int d = 0;
        for (size_t i = 0; i < n; i++) {
            d += v[i] == '{' || v[i] == '[';
            d -= v[i] == '}' || v[i] == ']';
            k += v[i] == '=' && d == 1;
        }
        snprintf(type, cap, "object{%zu}", k);
    } else if (!(n && v[0] == '[') && n >= 10 && v[4] == '-' && v[7] == '-') {
        snprintf(type, cap, "datetime");
    } else {
        snprintf(type, cap, "%s", scalar_type(v, n, tmp, sizeof tmp));
    }
}

static bool map_toml(tool_call *call, ld_line *l, size_t nl, buf *out)
{
    toml_map m = {.cap = 4096};
    m.v = arena_alloc(call->a, m.cap * sizeof *m.v);
    if (!m.v) {
        return false;
    }
    int cur = -1;            /* node receiving keys: -1 top, else a table node */
    bool cur_second = false; /* inside a repeated [[x]]: keys already counted */
    for (size_t i = 0; i < nl; i++) {
        if (expired_every(call, i)) {
            return false;
        }
        size_t n = rtrim_len(l[i].p, l[i].n);
        size_t ind = lead_spaces(l[i].p, n);
        while (ind < n && l[i].p[ind] == '\t') {
            ind++;
        }
        const char *p = l[i].p + ind;
        size_t pn = n - ind;
        if (!pn || p[0] == '#' || p[0] == ';') {
            continue;
        }
        if (p[0] == '[') {
            bool arr = pn >= 2 && p[1] == '[';
            const char *s = p + (arr ? 2 : 1);
            const char *e = memchr(s, ']', pn - (size_t)(s - p));
            if (!e) {
                continue;
            }
            /* dotted name: the first part is depth 1, the second depth 2 */
            const char *dot = memchr(s, '.', (size_t)(e - s));
            size_t l1 = dot ? (size_t)(dot - s) : (size_t)(e - s);
            int a = tnode_get(&m, -1, s, rtrim_len(s, l1), true);
            if (a < 0) {
                continue;
            }
            cur = a;
            cur_second = false;
            if (!dot) {
                m.v[a].table = true;
                if (arr) {
                    m.v[a].array = true;
                    cur_second = m.v[a].count > 0;
                    m.v[a].count++;
                }
                continue;
            }
            m.v[a].table = true;
            const char *s2 = dot + 1;
            const char *dot2 = memchr(s2, '.', (size_t)(e - s2));
            size_t l2 = dot2 ? (size_t)(dot2 - s2) : (size_t)(e - s2);
            int b = tnode_get(&m, a, s2, l2, true);
            if (b < 0) {
                continue;
            }
            if (!m.v[b].table && !m.v[a].array) {
                m.v[a].count++;
            }
            m.v[b].table = true;
            if (arr && !dot2) {
                m.v[b].array = true;
                m.v[b].count++;
            }
            cur = dot2 ? -3 : b; /* deeper tables are not shown */
            cur_second = true;
            continue;
        }
        const char *eq = memchr(p, '=', pn);
        if (!eq) {
            eq = memchr(p, ':', pn); /* INI spelling */
            if (!eq) {
                continue;
            }
        }
        const char *k = p;
        size_t kl = rtrim_len(p, (size_t)(eq - p));
        if (kl >= 2 && (k[0] == '"' || k[0] == '\'') && k[kl - 1] == k[0]) {
            k++;
            kl -= 2;
        }
        const char *v = eq + 1;
        size_t vn = n - ind - (size_t)(v - p);
        while (vn && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        if (cur == -3) {
            continue;
        }
        if (cur >= 0 && m.v[cur].parent >= 0) {
            if (!cur_second || !m.v[cur].array) {
                m.v[cur].count++;
            }
            continue;
        }
        if (cur >= 0 && cur_second) {
            continue;
        }
        int node = tnode_get(&m, cur, k, kl, true);
        if (node < 0) {
            continue;
        }
        toml_value_type(v, vn, m.v[node].type, sizeof m.v[node].type);
        if (cur >= 0 && !m.v[cur].array) {
            m.v[cur].count++;
        }
        /* a multi-line array or string: skip its continuation lines */
        if (vn && (v[0] == '[' ||
                   (vn >= 3 && (strncmp(v, "\"\"\"", 3) == 0 || strncmp(v, "'''", 3) == 0)))) {
            bool str = v[0] != '[';
            int depth = 0;
            size_t items = 0;
            bool any = false;
            for (size_t j = i, first = 1; j < nl; j++, first = 0) {
                const char *q = first ? v : l[j].p;
                size_t qn = first ? vn : l[j].n;
                if (str) {
                    const char *close = first ? memmem(q + 3, qn - 3, v, 3) : memmem(q, qn, v, 3);
                    if (close) {
                        i = j;
                        break;
                    }
                    continue;
                }
                for (size_t c = 0; c < qn; c++) {
                    if (q[c] == '#') {
                        break;
                    }
                    if (q[c] == '[' || q[c] == '{') {
                        depth++;
                        any = any || depth > 1;
                    } else if (q[c] == ']' || q[c] == '}') {
                        depth--;
                    } else if (q[c] == ',' && depth == 1) {
                        items++;
                        any = false;
                    } else if (q[c] != ' ' && q[c] != '\t' && q[c] != '\r' && depth >= 1) {
                        any = true;
                    }
                }
                if (depth <= 0) {
                    i = j;
                    break;
                }
            }
            if (!str) {
                snprintf(m.v[node].type, sizeof m.v[node].type, "array[%zu]", items + any);
            }
        }
    }
    if (!m.n) {
        buf_puts(out, "  [no keys]\n");
        return true;
    }
    for (size_t i = 0; i < m.n; i++) {
        if (m.v[i].parent != -1) {
            continue;
        }
        tnode_line(out, 1, &m.v[i]);
        for (size_t j = 0; j < m.n; j++) {
            if (m.v[j].parent == (int)i) {
                tnode_line(out, 2, &m.v[j]);
            }
        }
    }
    return true;
}

/* ---- map: CSV ---- */

static void map_csv(const rm_src *f, ld_line *l, size_t nl, buf *out)
{
    char sep = strcasecmp(ext_of(f->rel), "tsv") == 0 ? '\t' : ',';
    if (!nl) {
        buf_puts(out, "  [empty]\n");
        return;
    }
    size_t rows = 0;
    for (size_t i = 1; i < nl; i++) {
        rows += rtrim_len(l[i].p, l[i].n) > 0;
    }
    buf_puts(out, "  columns: ");
    /* the header's fields, quotes dropped, each appended whole (never a split UTF-8 sequence) */
    const char *p = l[0].p, *end = l[0].p + rtrim_len(l[0].p, l[0].n);
    while (p <= end) {
        const char *sep_at = memchr(p, sep, (size_t)(end - p));
        const char *fe = sep_at ? sep_at : end;
        const char *fs = p;
        size_t fn = (size_t)(fe - fs);
        if (fn >= 2 && fs[0] == '"' && fs[fn - 1] == '"') {
            fs++;
            fn -= 2;
        }
        utf8_append_repaired(out, fs, fn);
        if (!sep_at) {
            break;
        }
        buf_puts(out, ", ");
        p = sep_at + 1;
    }
    buf_printf(out, "\n  rows: %zu\n", rows);
}

/* ---- map: lock files ---- */

typedef struct names {
    const char **v;
    size_t *lens;
    size_t n, cap, total;
} names;

static void name_add(names *s, arena *a, const char *p, size_t n)
{
    if (!n) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->lens[i] == n && memcmp(s->v[i], p, n) == 0) {
            return;
        }
    }
    s->total++;
    if (s->n < s->cap) {
        s->v[s->n] = p;
        s->lens[s->n] = n;
        s->n++;
    }
    (void)a;
}

/* names from the `name = "x"` lines of TOML lock files (Cargo, Poetry, uv) */
static bool lock_toml(ld_line *l, size_t nl, names *s, arena *a)
{
    bool any = false;
    bool in_pkg = false;
    for (size_t i = 0; i < nl; i++) {
        size_t n = rtrim_len(l[i].p, l[i].n);
        const char *p = l[i].p;
        if (n && p[0] == '[') {
            in_pkg = n >= 11 && strncmp(p, "[[package]]", 11) == 0;
            continue;
        }
        if (in_pkg && n > 8 && strncmp(p, "name = \"", 8) == 0 && p[n - 1] == '"') {
            name_add(s, a, p + 8, n - 9);
            any = true;
        }
    }
    return any;
}

static bool lock_json(const rm_src *f, names *s, arena *a)
{
    json_error_t e;
    json_t *root = json_loadb(f->data, f->len, 0, &e);
    if (!root) {
        return false;
    }
    bool any = false;
    static const char *const arrays[] = {"packages", "packages-dev", NULL};
    for (int i = 0; arrays[i]; i++) {
        json_t *arr = json_object_get(root, arrays[i]);
        size_t k;
        json_t *it;
        json_array_foreach (arr, k, it) {
            const char *nm = json_string_value(json_object_get(it, "name"));
            if (nm) {
                const char *copy = arena_strdup(a, nm);
                if (copy) {
                    name_add(s, a, copy, strlen(copy));
                }
                any = true;
            }
        }
    }
    static const char *const objects[] = {"default", "develop", "nodes", NULL};
    for (int i = 0; !any && objects[i]; i++) {
        json_t *o = json_object_get(root, objects[i]);
        const char *key;
        json_t *v;
        json_object_foreach (o, key, v) {
            if (strcmp(key, "root") == 0 && strcmp(objects[i], "nodes") == 0) {
                continue;
            }
            const char *copy = arena_strdup(a, key);
            if (copy) {
                name_add(s, a, copy, strlen(copy));
            }
            any = true;
        }
    }
    json_decref(root);
    return any;
}

static void map_lock(tool_call *call, const rm_src *f, ld_line *l, size_t nl, buf *out)
{
    names s = {.cap = LOCK_NAMES};
    s.v = arena_alloc(call->a, LOCK_NAMES * sizeof *s.v);
    s.lens = arena_alloc(call->a, LOCK_NAMES * sizeof *s.lens);
    if (!s.v || !s.lens) {
        return;
    }
    const char *base = base_of(f->rel);
    if (strcmp(base, "go.sum") == 0) {
        const char *prev = NULL;
        size_t prevn = 0;
        for (size_t i = 0; i < nl; i++) {
            const char *sp = memchr(l[i].p, ' ', l[i].n);
            if (!sp) {
                continue;
            }
            size_t n = (size_t)(sp - l[i].p);
            if (prev && prevn == n && memcmp(prev, l[i].p, n) == 0) {
                continue;
            }
            prev = l[i].p;
            prevn = n;
            name_add(&s, call->a, l[i].p, n);
        }
    } else if ((f->len && f->data[0] == '{' && lock_json(f, &s, call->a)) ||
               lock_toml(l, nl, &s, call->a)) {
        /* composer.lock, Pipfile.lock, flake.lock; Cargo.lock, poetry.lock, uv.lock */
    } else if (strcmp(base, "Gemfile.lock") == 0) {
        bool specs = false;
        for (size_t i = 0; i < nl; i++) {
            size_t n = rtrim_len(l[i].p, l[i].n);
            size_t ind = lead_spaces(l[i].p, n);
            if (ind == 2) {
                specs = n == 8 && strncmp(l[i].p + 2, "specs:", 6) == 0;
            } else if (ind < 2) {
                specs = false;
            } else if (specs && ind == 4) {
                const char *sp = memchr(l[i].p + 4, ' ', n - 4);
                name_add(&s, call->a, l[i].p + 4, sp ? (size_t)(sp - l[i].p - 4) : n - 4);
            }
        }
    } else {
        /* yarn.lock (v1 and berry): unindented `"name@range", name@range:` entry lines */
        for (size_t i = 0; i < nl; i++) {
            size_t n = rtrim_len(l[i].p, l[i].n);
            const char *p = l[i].p;
            if (!n || p[0] == ' ' || p[0] == '#' || p[n - 1] != ':' ||
                strncmp(p, "__metadata", 10) == 0) {
                continue;
            }
            const char *q = p + (p[0] == '"');
            size_t qn = n - 1 - (size_t)(q - p);
            const char *at = qn > 1 ? memchr(q + 1, '@', qn - 1) : NULL;
            name_add(&s, call->a, q, at ? (size_t)(at - q) : qn);
        }
    }
    buf_printf(out, "  %zu packages", s.total);
    for (size_t i = 0; i < s.n; i++) {
        buf_puts(out, i ? ", " : ": ");
        utf8_append_repaired(out, s.v[i], s.lens[i]);
    }
    buf_puts(out, s.total > s.n ? ", …\n" : "\n");
}

bool rm_map(tool_call *call, const rm_src *f, buf *out)
{
    const char *ext = ext_of(f->rel);
    header(out, f);
    buf_putc(out, '\n');
    ld_line *l;
    size_t nl = ld_split(call->a, f->data, f->len, &l);
    if (nl == (size_t)-1) {
        return false;
    }
    bool ok = true;
    if (is_lock(f->rel)) {
        map_lock(call, f, l, nl, out);
    } else if (strcasecmp(ext, "md") == 0 || strcasecmp(ext, "markdown") == 0 ||
               strcasecmp(ext, "mdx") == 0 || strcasecmp(ext, "txt") == 0 ||
               strcasecmp(ext, "text") == 0) {
        /* plain text often underlines or #-prefixes its titles the Markdown way */
        long found = outline_markdown(call, l, nl, out);
        ok = found >= 0;
        if (found == 0) {
            no_structure(out, f);
        }
    } else if (strcasecmp(ext, "rst") == 0) {
        long found = outline_rst(call, l, nl, out);
        ok = found >= 0;
        if (found == 0) {
            no_structure(out, f);
        }
    } else if (strcasecmp(ext, "json") == 0 || strcasecmp(ext, "jsonc") == 0) {
        ok = map_json(f->data, f->len, out);
    } else if (strcasecmp(ext, "yaml") == 0 || strcasecmp(ext, "yml") == 0) {
        ok = map_yaml(call, l, nl, out);
    } else if (strcasecmp(ext, "toml") == 0 || strcasecmp(ext, "ini") == 0 ||
               strcasecmp(ext, "cfg") == 0) {
        ok = map_toml(call, l, nl, out);
    } else if (strcasecmp(ext, "csv") == 0 || strcasecmp(ext, "tsv") == 0) {
        map_csv(f, l, nl, out);
    } else {
        x_file xf;
        char why[128];
        if (!extract(call, f, &xf, why)) {
            return false;
        }
        if (why[0]) {
            nothing_found(out, f, why);
        } else {
            ok = map_code(call, f, &xf, out);
        }
    }
    if (ok) {
        protect_section(f, l, nl, out);
    }
    return ok && !out->failed;
}

/* ---- aggressive: comments out, blank lines out ---- */

typedef struct cstyle {
    const char *line1, *line2;  /* line comment openers */
    const char *bopen, *bclose; /* block comment */
    bool block_at_bol;          /* block markers only at the start of a line (=begin/=end) */
    bool hash_word;             /* `#` only at a word start (shell) */
    bool squote;                /* '...' strings (else ' is a char literal at most) */
    bool backtick;              /* `...` strings spanning lines */
    bool triple;                /* """ and ''' strings */
    bool multiline_strings;     /* "..." may span lines (shell) */
} cstyle;

static const cstyle st_c = {"//", NULL, "/*", "*/", false, false, false, false, false, false};
static const cstyle st_js = {"//", NULL, "/*", "*/", false, false, true, true, false, false};
static const cstyle st_go = {"//", NULL, "/*", "*/", false, false, false, true, false, false};
static const cstyle st_py = {"#", NULL, NULL, NULL, false, false, true, false, true, false};
static const cstyle st_sh = {"#", NULL, NULL, NULL, false, true, true, false, false, true};
static const cstyle st_rb = {"#", NULL, "=begin", "=end", true, false, true, false, false, false};
static const cstyle st_hash = {"#", NULL, NULL, NULL, false, false, true, false, false, false};
static const cstyle st_php = {"//", "#", "/*", "*/", false, false, true, false, false, false};
static const cstyle st_lua = {"--", NULL, "--[[", "]]", false, false, true, false, false, false};
static const cstyle st_sql = {"--", NULL, "/*", "*/", false, false, true, false, false, false};
static const cstyle st_xml = {NULL, NULL, "<!--", "-->", false, false, false, false, false, false};
static const cstyle st_ini = {"#", ";", NULL, NULL, false, false, false, false, false, false};
static const cstyle st_css = {NULL, NULL, "/*", "*/", false, false, true, false, false, false};
static const cstyle st_kt = {"//", NULL, "/*", "*/", false, false, false, false, true, false};

static const cstyle *style_for(const rm_src *f)
{
    switch (lang_detect(f->rel, f->data, f->len < 256 ? f->len : 256)) {
    case LANG_C:
    case LANG_CPP:
    case LANG_JAVA:
    case LANG_CSHARP:
    case LANG_RUST: return &st_c;
    case LANG_JAVASCRIPT:
    case LANG_TYPESCRIPT:
    case LANG_TSX: return &st_js;
    case LANG_GO: return &st_go;
    case LANG_KOTLIN:
    case LANG_SWIFT:
    case LANG_SCALA: return &st_kt;
    case LANG_PYTHON: return &st_py;
    case LANG_BASH: return &st_sh;
    case LANG_RUBY: return &st_rb;
    case LANG_PHP: return &st_php;
    case LANG_LUA: return &st_lua;
    default: break;
    }
    const char *e = ext_of(f->rel);
    const char *b = base_of(f->rel);
    static const char *const hash[] = {"yaml", "yml",        "toml",       "pl",   "pm",
                                       "r",    "cmake",      "mk",         "conf", "tf",
                                       "nix",  "dockerfile", "properties", NULL};
    if (ext_in(e, hash) || strcmp(b, "Makefile") == 0 || strcmp(b, "Dockerfile") == 0 ||
        strcmp(b, "CMakeLists.txt") == 0 || strcmp(b, "meson.build") == 0) {
        return &st_hash;
    }
    static const char *const ini[] = {"ini", "cfg", NULL};
    if (ext_in(e, ini)) {
        return &st_ini;
    }
    static const char *const xml[] = {"xml", "html", "htm", "svg", "xhtml", "vue", NULL};
    if (ext_in(e, xml)) {
        return &st_xml;
    }
    static const char *const css[] = {"css", "scss", "less", NULL};
    if (ext_in(e, css)) {
        return &st_css;
    }
    static const char *const cl[] = {"m",      "mm", "dart", "proto", "zig", "groovy",
                                     "gradle", "v",  "sv",   "glsl",  NULL};
    if (ext_in(e, cl)) {
        return &st_c;
    }
    if (strcasecmp(e, "sql") == 0) {
        return &st_sql;
    }
    return NULL;
}

static bool starts(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* a C-family character literal at p ('x', '\n', '\x41', '\u00e9', or one UTF-8 character);
 * its length, 0 when p opens a Rust lifetime or label instead */
static size_t char_literal(const char *p, const char *end)
{
    const char *q = p + 1;
    if (q < end && *q == '\\') {
        for (const char *r = q + 2; r < end && r < q + 12; r++) {
            if (*r == '\'') {
                return (size_t)(r - p) + 1;
            }
        }
        return 0;
    }
    if (q < end && *q != '\'') {
        size_t sl = utf8_seq_len((const unsigned char *)q, (size_t)(end - q));
        if (sl && q + sl < end && q[sl] == '\'') {
            return sl + 2;
        }
    }
    return 0;
}

typedef struct lexstate {
    int mode;    /* 0 code, 1 block comment, 2 string */
    char quote;  /* the closing quote of a string */
    bool triple; /* the string closes with three quotes */
} lexstate;

/* the code of one line with its comments removed, into out; whether any part of the line is
 * inside a string (such a line is kept even when blank) */
static bool strip_line(const cstyle *st, lexstate *ls, const char *p, size_t n, buf *out)
{
    const char *s = p, *end = p + n;
    bool in_str = ls->mode == 2;
    if (ls->mode == 1) {
        if (st->block_at_bol) {
            if (starts(p, end, st->bclose)) {
                ls->mode = 0;
            }
            return false;
        }
        const char *c = memmem(p, n, st->bclose, strlen(st->bclose));
        if (!c) {
            return false;
        }
        ls->mode = 0;
        s = c + strlen(st->bclose);
    }
    const char *start = s;
    while (s < end) {
        if (ls->mode == 2) {
            in_str = true;
            bool raw = (ls->quote == '`' && st == &st_go) || (ls->quote == '\'' && st == &st_sh);
            if (*s == '\\' && !raw) {
                s += s + 1 < end ? 2 : 1;
                continue;
            }
            if (*s == ls->quote &&
                (!ls->triple || (s + 2 < end && s[1] == ls->quote && s[2] == ls->quote))) {
                s += ls->triple ? 3 : 1;
                ls->mode = 0;
                continue;
            }
            s++;
            continue;
        }
        char c = *s;
        if (st->bopen && (!st->block_at_bol || s == p) && starts(s, end, st->bopen)) {
            /* a Lua `--[[` is checked before its `--` line comment */
            buf_append(out, start, (size_t)(s - start));
            const char *close = st->block_at_bol ? NULL
                                                 : memmem(s + strlen(st->bopen),
                                                          (size_t)(end - s) - strlen(st->bopen),
                                                          st->bclose, strlen(st->bclose));
            if (!close) {
                ls->mode = 1;
                return in_str;
            }
            s = close + strlen(st->bclose);
            start = s;
            continue;
        }
        if ((st->line1 && starts(s, end, st->line1)) || (st->line2 && starts(s, end, st->line2))) {
            bool word = !st->hash_word || s == p || s[-1] == ' ' || s[-1] == '\t' || s[-1] == ';' ||
                        s[-1] == '(' || s[-1] == '|' || s[-1] == '&';
            /* PHP 8 attributes `#[...]` and shell `$#` are code */
            bool attr = st == &st_php && c == '#' && s + 1 < end && s[1] == '[';
            if (word && !attr && !(c == '#' && s > p && s[-1] == '$')) {
                buf_append(out, start, (size_t)(s - start));
                return in_str;
            }
        }
        if (st->triple && (c == '"' || c == '\'') && s + 2 < end && s[1] == c && s[2] == c) {
            ls->mode = 2;
            ls->quote = c;
            ls->triple = true;
            in_str = true;
            s += 3;
            continue;
        }
        if (c == '"' || (c == '`' && st->backtick) || (c == '\'' && st->squote)) {
            ls->mode = 2;
            ls->quote = c;
            ls->triple = false;
            in_str = true;
            s++;
            continue;
        }
        if (c == '\'' && !st->squote) {
            size_t cl = char_literal(s, end);
            s += cl ? cl : 1;
            continue;
        }
        s++;
    }
    buf_append(out, start, (size_t)(s - start));
    /* only triple-quoted, backtick and shell strings continue on the next line */
    if (ls->mode == 2 && !ls->triple && ls->quote != '`' && !st->multiline_strings) {
        ls->mode = 0;
    }
    return in_str;
}

/* JSON: drop whitespace and comments outside strings */
static void json_minify(const char *s, size_t n, buf *out)
{
    const char *p = s, *end = s + n, *run = s;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p++;
            while (p < end && *p != '"') {
                p += *p == '\\' && p + 1 < end ? 2 : 1;
            }
            p += p < end;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
            (c == '/' && p + 1 < end && (p[1] == '/' || p[1] == '*'))) {
            buf_append(out, run, (size_t)(p - run));
            if (c == '/' && p[1] == '/') {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                p = nl ? nl : end;
            } else if (c == '/') {
                const char *cl = memmem(p + 2, (size_t)(end - p - 2), "*/", 2);
                p = cl ? cl + 2 : end;
            } else {
                p++;
            }
            run = p;
            continue;
        }
        p++;
    }
    buf_append(out, run, (size_t)(p - run));
}

bool rm_aggressive(tool_call *call, const rm_src *f, buf *out, bool *use_full)
{
    *use_full = false;
    buf body;
    buf_init(&body, out->max);
    size_t kept = 0;
    const char *ext = ext_of(f->rel);
    if (strcasecmp(ext, "json") == 0 || strcasecmp(ext, "jsonc") == 0) {
        size_t before = body.len;
        json_minify(f->data, f->len, &body);
        /* the minified document as valid UTF-8 on one line */
        buf fixed;
        buf_init(&fixed, out->max);
        utf8_append_repaired(&fixed, body.ptr ? body.ptr + before : "", body.len - before);
        buf_release(&body);
        body = fixed;
        if (body.len) {
            buf_putc(&body, '\n');
            kept = 1;
        }
    } else {
        ld_line *l;
        size_t nl = ld_split(call->a, f->data, f->len, &l);
        if (nl == (size_t)-1) {
            buf_release(&body);
            return false;
        }
        const cstyle *st = style_for(f);
        lexstate ls = {0};
        buf code;
        buf_init(&code, f->len + 16);
        for (size_t i = 0; i < nl; i++) {
            if (expired_every(call, i)) {
                buf_release(&code);
                buf_release(&body);
                return false;
            }
            buf_truncate(&code, 0);
            bool was_str = ls.mode == 2;
            bool in_str = false;
            bool shebang = i == 0 && l[i].n >= 2 && l[i].p[0] == '#' && l[i].p[1] == '!';
            if (st && !shebang) {
                in_str = strip_line(st, &ls, l[i].p, l[i].n, &code);
            } else {
                buf_append(&code, l[i].p, l[i].n); /* a shebang is an instruction */
            }
            const char *cp = code.ptr ? code.ptr : "";
            size_t cn = code.len;
            if (f->nprotect && protected_line(f, l[i].p, l[i].n)) {
                cp = l[i].p; /* a protected line is kept whole, comment included */
                cn = l[i].n;
            }
            size_t tn = rtrim_len(cp, cn);
            bool blank = true;
            for (size_t k = 0; k < tn && blank; k++) {
                blank = cp[k] == ' ' || cp[k] == '\t' || cp[k] == '\f' || cp[k] == '\v';
            }
            if (blank && !(was_str && in_str)) {
                continue;
            }
            utf8_append_repaired(&body, cp, was_str ? cn : tn);
            buf_putc(&body, '\n');
            kept++;
        }
        buf_release(&code);
    }
    if (body.failed) {
        buf_release(&body);
        return false;
    }
    if (body.len * 20 < f->len && tok_of(f->len) < TOK_LIMIT_FULL) {
        *use_full = true;
        buf_release(&body);
        return true;
    }
    header(out, f);
    buf_printf(out, " aggressive (kept %zu of %lld lines)\n", kept, (long long)f->nlines);
    buf_append(out, body.ptr ? body.ptr : "", body.len);
    buf_release(&body);
    return !out->failed;
}

/* ---- entropy ---- */

typedef struct tok {
    const char *p;
    size_t n;
} tok;

static bool is_op_char(unsigned char c)
{
    return c > ' ' && c < 0x7f && !is_ident_char(c) && c != '"' && c != '\'' && c != '`';
}

/* split a line into tokens: identifiers, numbers, whole string literals, operator runs */
static size_t tokenize(const char *p, size_t n, tok *t, size_t cap)
{
    size_t k = 0, i = 0;
    while (i < n && k < cap) {
        unsigned char c = (unsigned char)p[i];
        size_t s = i;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '"' || c == '\'' || c == '`') {
            i++;
            while (i < n && (unsigned char)p[i] != c) {
                i += p[i] == '\\' ? 2 : 1;
            }
            i = i < n ? i + 1 : n;
        } else if (is_ident_char(c)) {
            while (i < n && is_ident_char((unsigned char)p[i])) {
                i++;
            }
        } else {
            while (i < n && is_op_char((unsigned char)p[i])) {
                i++;
            }
            if (i == s) {
                i++; /* a control character: a token of its own */
            }
        }
        t[k].p = p + s;
        t[k].n = i - s;
        k++;
    }
    return k;
}

static int tok_cmp(const void *a, const void *b)
{
    const tok *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* sorted distinct tokens and the entropy of the distribution */
static double token_set(const char *p, size_t n, tok *t, size_t *nt)
{
    size_t k = tokenize(p, n, t, MAX_LINE_TOKENS);
    if (!k) {
        *nt = 0;
        return 0;
    }
    qsort(t, k, sizeof *t, tok_cmp);
    double h = 0;
    size_t d = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && tok_cmp(&t[i], &t[j]) == 0) {
            j++;
        }
        double pr = (double)(j - i) / (double)k;
        h -= pr * log2(pr);
        t[d++] = t[i];
        i = j;
    }
    *nt = d;
    return h;
}

double rm_line_entropy(const char *p, size_t n)
{
    tok t[MAX_LINE_TOKENS];
    size_t nt;
    return token_set(p, n, t, &nt);
}

static double jaccard(const tok *a, size_t na, const tok *b, size_t nb)
{
    if (!na && !nb) {
        return 1;
    }
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        int c = tok_cmp(&a[i], &b[j]);
        if (c == 0) {
            inter++;
            i++;
            j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    return (double)inter / (double)(na + nb - inter);
}

bool rm_entropy(tool_call *call, const rm_src *f, buf *out)
{
    ld_line *l;
    size_t nl = ld_split(call->a, f->data, f->len, &l);
    if (nl == (size_t)-1) {
        return false;
    }
    double threshold = 0.5 + f->aggressiveness;
    /* the token sets of the last ENTROPY_WINDOW kept lines (a ring) */
    tok *ring = arena_alloc(call->a, ENTROPY_WINDOW * MAX_LINE_TOKENS * sizeof *ring);
    size_t ring_n[ENTROPY_WINDOW] = {0};
    char *keep = arena_alloc(call->a, nl + 1);
    tok *cur = arena_alloc(call->a, MAX_LINE_TOKENS * sizeof *cur);
    if (!ring || !keep || !cur) {
        return false;
    }
    size_t nkept = 0, head = 0, filled = 0, counted = 0;
    double hsum = 0;
    for (size_t i = 0; i < nl; i++) {
        if (expired_every(call, i)) {
            return false;
        }
        size_t nt;
        double h = token_set(l[i].p, l[i].n, cur, &nt);
        if (nt) {
            hsum += h;
            counted++;
        }
        bool k;
        if (f->nprotect && protected_line(f, l[i].p, l[i].n)) {
            k = true;
        } else if (h < threshold) {
            k = false;
        } else {
            k = true;
            for (size_t w = 0; w < filled && k; w++) {
                k = jaccard(cur, nt, ring + w * MAX_LINE_TOKENS, ring_n[w]) < ENTROPY_JACCARD;
            }
        }
        keep[i] = k;
        if (k) {
            memcpy(ring + head * MAX_LINE_TOKENS, cur, nt * sizeof *cur);
            ring_n[head] = nt;
            head = (head + 1) % ENTROPY_WINDOW;
            filled += filled < ENTROPY_WINDOW;
            nkept++;
        }
    }
    header(out, f);
    buf_printf(out, " entropy H=%.2f (kept %zu of %lld lines)\n",
               counted ? hsum / (double)counted : 0.0, nkept, (long long)f->nlines);
    bool gap = false;
    for (size_t i = 0; i < nl; i++) {
        if (!keep[i]) {
            if (!gap) {
                buf_puts(out, "     …\n");
                gap = true;
            }
            continue;
        }
        gap = false;
        buf_printf(out, "%4zu| ", i + 1);
        utf8_append_repaired(out, l[i].p, rtrim_len(l[i].p, l[i].n));
        buf_putc(out, '\n');
    }
    return !out->failed;
}

/* ---- auto ---- */

read_kind rm_auto_choice(const rm_src *f)
{
    size_t ntok = tok_of(f->len);
    if (ntok <= TOK_LIMIT_FULL) {
        return READ_FULL;
    }
    const char *ext = ext_of(f->rel);
    if (ext_in(ext, data_exts) || is_lock(f->rel) || ext_in(ext, text_exts)) {
        return ntok <= TOK_LIMIT_DATA ? READ_FULL : READ_MAP;
    }
    lang_id l = lang_detect(f->rel, f->data, f->len < 256 ? f->len : 256);
    if (l != LANG_NONE && lang_query(l)) {
        return READ_SIGNATURES;
    }
    return READ_AGGRESSIVE;
}

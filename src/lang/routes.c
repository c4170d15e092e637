/* routes.c - HTTP routes found by framework convention (x_routes, extract.h).
 *
 * Routes are declared in a handful of idioms per framework, nearly always on one line: a call
 * with a literal path (`app.get('/x', h)`, `http.HandleFunc("/x", h)`, `.route("/x", get(h))`),
 * an annotation or decorator above the handler (`@GetMapping("/x")`, `@app.route('/x')`,
 * `#[get("/x")]`), a routes DSL (Rails' config/routes.rb), or the file's own path (Next.js).
 * So the scan is line by line with PCRE2 patterns compiled once per process (JIT, match limit),
 * and a little state per framework: the class-level prefix of a Spring controller, blueprint
 * and router prefixes in Flask/FastAPI, the namespace/resources nesting of Rails.
 *
 * Invariants: lines inside comments (`//`, `#`, `--`, C block comments, Python docstrings,
 * Ruby =begin/=end) are skipped, so commented-out routes are not reported; lines longer than
 * ROUTE_LINE_MAX (minified bundles) are not scanned; a file yields at most ROUTES_MAX routes
 * and out->routes_truncated says when more were found. Methods are upper case, ANY when the
 * declaration accepts every method; line numbers are 1-based; everything lives in the arena. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/strutil.h"
#include "lang/extract.h"

#define ROUTES_MAX 2000
#define ROUTE_LINE_MAX 4096
#define ROUTE_PATH_MAX 512
#define LOOKAHEAD_LINES 24 /* how far below a decorator/annotation its function is looked for */
#define PREFIX_VARS_MAX 32 /* Flask blueprints / FastAPI routers with a prefix, per file */
#define RAILS_DEPTH_MAX 32

#define VERBS "get|post|put|patch|delete|head|options"

/* name, pattern. Patterns run on one line (no newline inside); group numbers are used below. */
#define RE_LIST(X)                                                                                 \
    /* 1 receiver, 2 verb, 3 quote, 4 path, 5 rest */                                              \
    X(EXPRESS,                                                                                     \
      "\\b(\\w*(?:app|App|router|Router|server|Server|api|Api|routes|Routes))\\s*\\.\\s*(" VERBS   \
      "|all)\\s*\\(\\s*(['\"`])(/[^'\"`]*)\\3(.*)$")                                               \
    /* 1 quote, 2 path, 3 rest (`router.route('/x').get(h).post(k)`) */                            \
    X(EXPRESS_ROUTE, "\\.\\s*route\\s*\\(\\s*(['\"`])(/[^'\"`]*)\\1\\s*\\)(.*)$")                  \
    /* 1 verb, 2 handler (chained after .route()) */                                               \
    X(EXPRESS_CHAIN, "\\.\\s*(" VERBS "|all)\\s*\\(\\s*([A-Za-z_$][\\w$.]*)?")                     \
    /* 1 var, 2 verb, 3 quote, 4 path, 5 rest */                                                   \
    X(PY_DECORATOR,                                                                                \
      "^\\s*@(\\w+)\\.(route|api_route|" VERBS ")\\s*\\(\\s*[rRuU]?(['\"])([^'\"]*)\\3(.*)$")      \
    X(PY_METHODS, "\\bmethods\\s*=\\s*[\\[(]([^\\])]*)[\\])]")                                     \
    /* 1 var, 2 constructor, 3 rest */                                                             \
    X(PY_PREFIX_VAR, "^(\\w+)\\s*=\\s*(?:[\\w.]+\\.)?(Blueprint|APIRouter)\\s*\\((.*)$")           \
    X(PY_PREFIX_ARG, "\\b(?:url_prefix|prefix)\\s*=\\s*[rRuU]?(['\"])([^'\"]*)\\1")                \
    /* 1 var, 2 quote, 3 path, 4 rest */                                                           \
    X(PY_URL_RULE, "\\b(\\w+)\\.add_url_rule\\s*\\(\\s*[rRuU]?(['\"])([^'\"]*)\\2(.*)$")           \
    X(PY_VIEW_FUNC, "\\bview_func\\s*=\\s*([\\w.]+)")                                              \
    X(PY_DEF, "^\\s*(?:async\\s+)?def\\s+(\\w+)")                                                  \
    X(QUOTED, "(['\"])([^'\"]*)\\1")                                                               \
    /* 1 function, 2 quote, 3 route, 4 view */                                                     \
    X(DJANGO, "\\b(path|re_path|url)\\s*\\(\\s*[rRuU]?(['\"])([^'\"]*)\\2\\s*,\\s*([\\w.]+)")      \
    /* 1 verb, 2 args */                                                                           \
    X(SPRING, "^\\s*@(Get|Post|Put|Delete|Patch|Request)Mapping\\b\\s*(?:\\((.*))?$")              \
    X(SPRING_NAMED_PATH, "\\b(?:value|path)\\s*=\\s*\\{?\\s*\"([^\"]*)\"")                         \
    X(SPRING_FIRST_PATH, "^\\s*\\{?\\s*\"([^\"]*)\"")                                              \
    X(SPRING_METHOD, "RequestMethod\\.(\\w+)")                                                     \
    X(SPRING_CLASS, "\\b(class|interface|object)\\s+\\w")                                          \
    X(SPRING_HANDLER, "(\\w+)\\s*(?:<[^>]*>\\s*)?\\(")                                             \
    /* 1 verb, 2 quote, 3 path, 4 rest */                                                          \
    X(RAILS_VERB, "^\\s*(get|post|put|patch|delete|match)\\s*\\(?\\s*(['\"])([^'\"]*)\\2(.*)$")    \
    X(RAILS_TO, "(?:\\bto:\\s*|:to\\s*=>\\s*|^\\s*=>\\s*)(['\"])([^'\"]*)\\1")                     \
    X(RAILS_VIA, "\\bvia:\\s*\\[?\\s*:(\\w+)")                                                     \
    /* 1 resources|resource, 2 name, 3 rest */                                                     \
    X(RAILS_RESOURCES, "^\\s*(resources|resource)\\s*\\(?\\s*:(\\w+)(.*)$")                        \
    X(RAILS_ONLY, "\\bonly:\\s*(?:\\[([^\\]]*)\\]|:(\\w+))")                                       \
    X(RAILS_EXCEPT, "\\bexcept:\\s*(?:\\[([^\\]]*)\\]|:(\\w+))")                                   \
    X(RAILS_NAMESPACE, "^\\s*namespace\\s*\\(?\\s*:(\\w+)")                                        \
    X(RAILS_SCOPE, "^\\s*scope\\s*\\(?\\s*(?:path:\\s*)?(['\"])([^'\"]*)\\1")                      \
    X(RAILS_ROOT, "^\\s*root\\s*\\(?\\s*(?:to:\\s*|:to\\s*=>\\s*)?(['\"])([^'\"]*)\\1")            \
    X(RAILS_DO, "\\bdo\\s*(?:\\|[^|]*\\|)?\\s*$")                                                  \
    X(RAILS_END, "^\\s*end\\b")                                                                    \
    /* 1 receiver, 2 Handle|HandleFunc, 3 pattern, 4 rest */                                       \
    X(GO_HANDLE, "\\b(\\w+)\\.(HandleFunc|Handle)\\s*\\(\\s*\"([^\"]*)\"\\s*,(.*)$")               \
    /* 1 receiver, 2 verb, 3 path, 4 rest (gin, echo, chi, fiber) */                               \
    X(GO_VERB,                                                                                     \
      "\\b(\\w+)\\.(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|Any|Get|Post|Put|Patch|Delete|Head|"    \
      "Options)\\s*\\(\\s*\"(/[^\"]*)\"\\s*,(.*)$")                                                \
    /* 1 var, 2 receiver, 3 prefix (gin/echo/fiber route groups) */                                \
    X(GO_GROUP, "\\b(\\w+)\\s*:?=\\s*(\\w+)\\.Group\\s*\\(\\s*\"([^\"]*)\"")                       \
    X(GO_METHOD_PATTERN, "^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|TRACE)\\s+(\\S+)$")     \
    /* 1 verb, 2 path, 3 rest */                                                                   \
    X(ACTIX_ATTR,                                                                                  \
      "^\\s*#\\[\\s*(?:actix_web::)?(" VERBS "|route)\\s*\\(\\s*\"([^\"]*)\"(.*)\\]\\s*$")         \
    X(ACTIX_ROUTE_METHOD, "\\bmethod\\s*=\\s*\"(\\w+)\"")                                          \
    X(RUST_FN, "^\\s*(?:pub(?:\\s*\\([^)]*\\))?\\s+)?(?:async\\s+)?fn\\s+(\\w+)")                  \
    X(ACTIX_RESOURCE, "\\bweb::(?:resource|scope)\\s*\\(\\s*\"([^\"]*)\"\\s*\\)")                  \
    /* 1 verb, 2 handler */                                                                        \
    X(ACTIX_TO, "\\bweb::(" VERBS ")\\s*\\(\\s*\\)\\s*\\.to\\s*\\(\\s*([\\w:]+)")                  \
    /* 1 path, 2 rest */                                                                           \
    X(RUST_ROUTE_CALL, "\\.\\s*route\\s*\\(\\s*\"([^\"]*)\"\\s*,(.*)$")                            \
    X(AXUM_VERB, "\\b(" VERBS "|any)\\s*\\(\\s*([\\w:]+)\\s*\\)")                                  \
    /* 1 method */                                                                                 \
    X(NEXT_EXPORT,                                                                                 \
      "^\\s*export\\s+(?:(?:async\\s+)?function\\s*\\*?\\s*|(?:const|let|var)\\s+)(GET|POST|PUT|"  \
      "PATCH|DELETE|HEAD|OPTIONS)\\b")                                                             \
    X(NEXT_DEFAULT, "^\\s*export\\s+default\\b")

enum {
#define X(name, pat) RE_##name,
    RE_LIST(X)
#undef X
        RE__COUNT
};

static const char *const re_src[RE__COUNT] = {
#define X(name, pat) pat,
    RE_LIST(X) /* NOLINT(bugprone-suspicious-missing-comma): VERBS joins adjacent literals */
#undef X
};

static pcre2_code *re[RE__COUNT];
static pcre2_match_context *re_mctx;
static bool re_ok;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;

static void compile_all(void)
{
    for (int i = 0; i < RE__COUNT; i++) {
        int ec;
        PCRE2_SIZE eo;
        re[i] = pcre2_compile((PCRE2_SPTR)re_src[i], PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
        if (!re[i]) {
            return; /* a bug in the table above; the unit tests compile every pattern */
        }
        (void)pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE);
    }
    re_mctx = pcre2_match_context_create(NULL);
    if (!re_mctx) {
        return;
    }
    pcre2_set_match_limit(re_mctx, 100000);
    re_ok = true;
}

/* ---- the collector */

typedef struct scan {
    arena *a;
    x_file *out;
    size_t cap;
    pcre2_match_data *md;
    const char *src;
    size_t n;
    bool in_block; /* inside a C block comment / docstring / =begin at the start of a line */
} scan;

typedef struct line {
    const char *p;
    size_t len;
    uint32_t no; /* 1-based */
    size_t next; /* offset of the following line */
} line;

/* the group g of the last match, as a slice (len 0 when unset) */
static str grp(scan *s, const char *base, int g)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    if (ov[2 * g] == PCRE2_UNSET) {
        return (str){NULL, 0};
    }
    return (str){base + ov[2 * g], ov[2 * g + 1] - ov[2 * g]};
}

static bool match(scan *s, int id, const char *p, size_t len, size_t from)
{
    if (from > len) {
        return false;
    }
    return pcre2_match(re[id], (PCRE2_SPTR)p, len, from, 0, s->md, re_mctx) > 0;
}

static size_t match_end(scan *s)
{
    return pcre2_get_ovector_pointer(s->md)[1];
}

static bool has(const scan *s, const char *needle)
{
    return memmem(s->src, s->n, needle, strlen(needle)) != NULL;
}

static const char *upper(scan *s, str m)
{
    char buf[16];
    if (m.len == 0 || m.len >= sizeof buf) {
        return "ANY";
    }
    for (size_t i = 0; i < m.len; i++) {
        char c = m.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            return "ANY"; /* not a method name (`methods=[""]`, junk) */
        }
        buf[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    buf[m.len] = '\0';
    static const char *const known[] = {"GET",  "POST",    "PUT", "PATCH",   "DELETE",
                                        "HEAD", "OPTIONS", "ANY", "CONNECT", "TRACE"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(buf, known[i]) == 0) {
            return known[i];
        }
    }
    if (strcmp(buf, "ALL") == 0) {
        return "ANY";
    }
    return arena_strdup(s->a, buf);
}

static void add(scan *s, const char *framework, const char *method, str path, str handler,
                uint32_t no)
{
    x_file *o = s->out;
    if (o->n_routes >= ROUTES_MAX) {
        o->routes_truncated = true;
        return;
    }
    if (o->n_routes == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        x_route *v = arena_alloc(s->a, cap * sizeof *v);
        if (!v) {
            o->routes_truncated = true;
            return;
        }
        if (o->n_routes) {
            memcpy(v, o->routes, o->n_routes * sizeof *v);
        }
        o->routes = v;
        s->cap = cap;
    }
    if (path.len > ROUTE_PATH_MAX) {
        path.len = ROUTE_PATH_MAX;
    }
    x_route *r = &o->routes[o->n_routes];
    r->method = method;
    r->path = arena_strndup(s->a, path.ptr ? path.ptr : "", path.len);
    r->handler = handler.len ? arena_strndup(s->a, handler.ptr, handler.len) : NULL;
    r->framework = framework;
    r->line = no;
    if (!r->path || (handler.len && !r->handler)) {
        o->routes_truncated = true;
        return;
    }
    o->n_routes++;
}

/* prefix + path, with exactly one '/' between them; "/" when both are empty */
static str join(scan *s, str prefix, str path)
{
    while (prefix.len && prefix.ptr[prefix.len - 1] == '/') {
        prefix.len--;
    }
    bool slash = !(path.len && path.ptr[0] == '/');
    if (prefix.len == 0 && !slash) {
        return path;
    }
    if (path.len == 0 && prefix.len) {
        return prefix; /* @GetMapping without a path: the class prefix itself */
    }
    char *p = arena_printf(s->a, "%.*s%s%.*s", (int)prefix.len, prefix.ptr ? prefix.ptr : "",
                           slash ? "/" : "", (int)path.len, path.ptr ? path.ptr : "");
    return p ? str_c(p) : path;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static str trim(str t)
{
    while (t.len && is_space(t.ptr[0])) {
        t.ptr++, t.len--;
    }
    while (t.len && is_space(t.ptr[t.len - 1])) {
        t.len--;
    }
    return t;
}

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
}

/* a dotted/namespaced name (`h`, `users.list`, `handlers::create`) and nothing else */
static bool is_name(str t)
{
    if (t.len == 0 || (t.ptr[0] >= '0' && t.ptr[0] <= '9')) {
        return false;
    }
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (!is_ident_char(c) && c != '.' && c != ':') {
            return false;
        }
    }
    return true;
}

#define ARGS_MAX 16

/* The top-level arguments of a call whose argument text (after the path) is `rest`, up to
 * its closing parenthesis: `, auth, users.list)` gives "", "auth", "users.list" (the empty
 * first one is what precedes the first comma). Returns how many (at most ARGS_MAX). */
static size_t split_args(str rest, str *args)
{
    int depth = 0;
    char quote = 0;
    size_t n = 0, start = 0, end = rest.len;
    for (size_t i = 0; i < rest.len; i++) {
        char c = rest.ptr[i];
        if (quote) {
            if (c == '\\') {
                i++;
            } else if (c == quote) {
                quote = 0;
            }
            continue;
        }
        if (c == '"' || c == '\'' || c == '`') {
            quote = c;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) {
                end = i;
                break;
            }
            depth--;
        } else if (c == ',' && depth == 0 && n + 1 < ARGS_MAX) {
            args[n++] = trim((str){rest.ptr + start, i - start});
            start = i + 1;
        }
    }
    args[n++] = trim((str){rest.ptr + start, end > start ? end - start : 0});
    return n;
}

/* arg when it is a plain name; `http.HandlerFunc(h)` and `wrap(h)` give h; else nothing */
static str arg_name(str arg)
{
    if (is_name(arg)) {
        return arg;
    }
    if (arg.len > 2 && arg.ptr[arg.len - 1] == ')') {
        const char *open = memchr(arg.ptr, '(', arg.len);
        if (open) {
            str callee = trim((str){arg.ptr, (size_t)(open - arg.ptr)});
            str inner = trim((str){open + 1, (size_t)(arg.ptr + arg.len - 1 - (open + 1))});
            if (is_name(callee) && is_name(inner)) {
                return inner;
            }
        }
    }
    return (str){NULL, 0};
}

/* the handler of `app.get('/x', auth, users.list)`: the last argument, when it is a name
 * (inline functions give nothing) */
static str last_arg_name(str rest)
{
    str args[ARGS_MAX];
    size_t n = split_args(rest, args);
    return arg_name(args[n - 1]);
}

/* ---- lines and comments */

typedef enum { CM_C, CM_PY, CM_RUBY } comment_style; /* `//` + block comments, Python, Ruby */

static bool next_line(const scan *s, size_t pos, uint32_t no, line *out)
{
    if (pos >= s->n) {
        return false;
    }
    const char *p = s->src + pos;
    const char *nl = memchr(p, '\n', s->n - pos);
    size_t len = nl ? (size_t)(nl - p) : s->n - pos;
    out->p = p;
    out->len = len;
    out->no = no;
    out->next = pos + len + (nl ? 1 : 0);
    if (len && p[len - 1] == '\r') {
        out->len--;
    }
    return true;
}

static const char *find2(const char *p, size_t len, char a, char b)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] == a && p[i + 1] == b) {
            return p + i;
        }
    }
    return NULL;
}

/* where t opens a block comment, outside string literals: a path like "/files/" + "*" written
 * as one literal opens none */
static const char *comment_open(str t)
{
    char quote = 0;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (quote) {
            if (c == '\\') {
                i++;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '"' || c == '\'' || c == '`') {
            quote = c;
        } else if (c == '/' && i + 1 < t.len && t.ptr[i + 1] == '*') {
            return t.ptr + i;
        } else if (c == '/' && i + 1 < t.len && t.ptr[i + 1] == '/') {
            return NULL; /* the rest is a line comment */
        }
    }
    return NULL;
}

/* Whether line l is code (worth scanning), updating the block-comment state. A line that opens
 * a block comment after code is still code; a line inside one is not. */
static bool is_code(scan *s, comment_style st, const line *l)
{
    str t = trim((str){l->p, l->len});
    if (l->len > ROUTE_LINE_MAX) {
        return false;
    }
    if (st == CM_PY) {
        /* docstrings: a line with an odd number of triple quotes toggles the state */
        int triples = 0;
        for (size_t i = 0; i + 2 < t.len; i++) {
            if ((t.ptr[i] == '"' || t.ptr[i] == '\'') && t.ptr[i + 1] == t.ptr[i] &&
                t.ptr[i + 2] == t.ptr[i]) {
                triples++;
                i += 2;
            }
        }
        bool was = s->in_block;
        if (triples % 2) {
            s->in_block = !s->in_block;
        }
        bool opens_string = t.len && (t.ptr[0] == '"' || t.ptr[0] == '\'');
        bool comment = t.len && t.ptr[0] == '#';
        return !was && !comment && !(triples && opens_string);
    }
    if (st == CM_RUBY) {
        if (s->in_block) {
            if (l->len >= 4 && memcmp(l->p, "=end", 4) == 0) {
                s->in_block = false;
            }
            return false;
        }
        if (l->len >= 6 && memcmp(l->p, "=begin", 6) == 0) {
            s->in_block = true;
            return false;
        }
        return !(t.len && t.ptr[0] == '#');
    }
    if (s->in_block) {
        const char *close = find2(t.ptr, t.len, '*', '/');
        if (close) {
            s->in_block = false;
        }
        return false;
    }
    if (t.len >= 2 && t.ptr[0] == '/' && t.ptr[1] == '/') {
        return false;
    }
    if (t.len && t.ptr[0] == '*') {
        return false; /* the middle of a block comment we entered without seeing it */
    }
    const char *open = comment_open(t);
    if (open) {
        size_t rest = (size_t)(t.ptr + t.len - (open + 2));
        if (!find2(open + 2, rest, '*', '/')) {
            s->in_block = true;
        }
        return open != t.ptr;
    }
    return true;
}

/* The first code line below line `from` (within LOOKAHEAD_LINES) that matches `id`, skipping
 * annotation/decorator/attribute lines when `skip_annotations`. Its line number in *no. */
static bool look_below(scan *s, const line *from, int id, bool skip_annotations, line *found)
{
    line l = *from;
    for (int k = 0; k < LOOKAHEAD_LINES && next_line(s, l.next, l.no + 1, &l);) {
        str t = trim((str){l.p, l.len});
        if (t.len == 0 || (t.len >= 2 && t.ptr[0] == '/' && t.ptr[1] == '/') ||
            (t.ptr[0] == '#' && !(t.len > 1 && t.ptr[1] == '['))) {
            continue;
        }
        k++;
        bool annotation = t.ptr[0] == '@' || (t.len > 1 && t.ptr[0] == '#' && t.ptr[1] == '[');
        if (annotation && skip_annotations) {
            continue;
        }
        if (l.len <= ROUTE_LINE_MAX && match(s, id, l.p, l.len, 0)) {
            *found = l;
            return true;
        }
        return false;
    }
    return false;
}

/* ---- JavaScript / TypeScript: Express (and routers shaped like it) */

static void scan_express(scan *s)
{
    if (!has(s, "get") && !has(s, "post") && !has(s, "route") && !has(s, "all") && !has(s, "put") &&
        !has(s, "delete") && !has(s, "patch")) {
        return;
    }
    line l;
    s->in_block = false;
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (!is_code(s, CM_C, &l)) {
            continue;
        }
        if (match(s, RE_EXPRESS, l.p, l.len, 0)) {
            /* one declaration per line; the rest of the line is its arguments */
            str verb = grp(s, l.p, 2), path = grp(s, l.p, 4), rest = grp(s, l.p, 5);
            add(s, "express", upper(s, verb), path, last_arg_name(rest), l.no);
            continue;
        }
        if (match(s, RE_EXPRESS_ROUTE, l.p, l.len, 0)) {
            str path = grp(s, l.p, 2);
            str rest = grp(s, l.p, 3);
            size_t off = (size_t)(rest.ptr - l.p);
            while (match(s, RE_EXPRESS_CHAIN, l.p, l.len, off)) {
                str verb = grp(s, l.p, 1), h = grp(s, l.p, 2);
                add(s, "express", upper(s, verb), path, h, l.no);
                size_t end = match_end(s);
                if (end <= off) {
                    break;
                }
                off = end;
            }
        }
    }
}

/* ---- Next.js: the file's path is the route */

static bool seg_skipped(str seg)
{
    /* route groups `(marketing)` and parallel-route slots `@modal` are not URL segments */
    return (seg.len >= 2 && seg.ptr[0] == '(' && seg.ptr[seg.len - 1] == ')') ||
           (seg.len && seg.ptr[0] == '@');
}

static bool js_ext(str name, size_t *stem)
{
    static const char *const exts[] = {".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (str_has_suffix(name, exts[i])) {
            *stem = name.len - strlen(exts[i]);
            return true;
        }
    }
    return false;
}

/* the offset just after "<dir>/" when relpath starts with it or contains "/<dir>/" */
static bool after_dir(const char *relpath, const char *dir, size_t *off)
{
    size_t dl = strlen(dir);
    if (strncmp(relpath, dir, dl) == 0) {
        *off = dl;
        return true;
    }
    char pat[32];
    int k = snprintf(pat, sizeof pat, "/%s", dir);
    if (k <= 0 || (size_t)k >= sizeof pat) {
        return false;
    }
    const char *p = strstr(relpath, pat);
    if (!p) {
        return false;
    }
    *off = (size_t)(p - relpath) + (size_t)k;
    return true;
}

static void scan_nextjs(scan *s, const char *relpath)
{
    str rel = str_c(relpath);
    size_t stem;
    if (!js_ext(rel, &stem)) {
        return;
    }
    size_t off;
    if (after_dir(relpath, "pages/api/", &off)) {
        /* pages/api/users/[id].ts → ANY /api/users/[id]; index files name their directory */
        str tail = {relpath + off, stem - off};
        if (str_has_suffix(tail, "/index")) {
            tail.len -= 6;
        } else if (str_eq_c(tail, "index")) {
            tail.len = 0;
        }
        str path = join(s, str_c("/api"), tail);
        if (tail.len == 0) {
            path = str_c("/api");
        }
        uint32_t at = 1;
        line l;
        s->in_block = false;
        for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
            if (is_code(s, CM_C, &l) && match(s, RE_NEXT_DEFAULT, l.p, l.len, 0)) {
                at = l.no;
                break;
            }
        }
        add(s, "nextjs", "ANY", path, (str){NULL, 0}, at);
        return;
    }
    if (!after_dir(relpath, "app/", &off)) {
        return;
    }
    /* app/(shop)/users/[id]/route.ts → /users/[id] */
    size_t name_at = stem;
    while (name_at > 0 && relpath[name_at - 1] != '/') {
        name_at--;
    }
    if (!str_eq((str){relpath + name_at, stem - name_at}, str_c("route")) || name_at < off) {
        return;
    }
    char buf[ROUTE_PATH_MAX + 2];
    size_t bl = 0;
    str dirs = {relpath + off, name_at - off};
    for (size_t i = 0; i < dirs.len;) {
        const char *slash = memchr(dirs.ptr + i, '/', dirs.len - i);
        size_t end = slash ? (size_t)(slash - dirs.ptr) : dirs.len;
        str seg = {dirs.ptr + i, end - i};
        if (seg.len && !seg_skipped(seg) && bl + 1 + seg.len <= ROUTE_PATH_MAX) {
            buf[bl++] = '/';
            memcpy(buf + bl, seg.ptr, seg.len);
            bl += seg.len;
        }
        i = end + 1;
    }
    if (bl == 0) {
        buf[bl++] = '/';
    }
    str path = {buf, bl};
    line l;
    s->in_block = false;
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (is_code(s, CM_C, &l) && match(s, RE_NEXT_EXPORT, l.p, l.len, 0)) {
            str m = grp(s, l.p, 1);
            add(s, "nextjs", upper(s, m), path, m, l.no);
        }
    }
}

/* ---- Python: Flask, FastAPI, Django */

/* one route per method of the `methods=[...]` in args; GET when there is none */
static void add_methods(scan *s, const char *fw, str args, str path, str handler, uint32_t no)
{
    bool any = false;
    if (match(s, RE_PY_METHODS, args.ptr, args.len, 0)) {
        str list = grp(s, args.ptr, 1);
        size_t off = 0;
        while (match(s, RE_QUOTED, list.ptr, list.len, off)) {
            add(s, fw, upper(s, grp(s, list.ptr, 2)), path, handler, no);
            any = true;
            size_t end = match_end(s);
            if (end <= off) {
                break;
            }
            off = end;
        }
    }
    if (!any) {
        add(s, fw, "GET", path, handler, no);
    }
}

typedef struct prefix_var {
    str var, prefix;
} prefix_var;

static void scan_python(scan *s)
{
    bool fastapi = has(s, "fastapi");
    prefix_var pv[PREFIX_VARS_MAX];
    size_t npv = 0;
    line l;
    if (has(s, "Blueprint") || has(s, "APIRouter")) {
        s->in_block = false;
        for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
            if (!is_code(s, CM_PY, &l) || !match(s, RE_PY_PREFIX_VAR, l.p, l.len, 0)) {
                continue;
            }
            str var = grp(s, l.p, 1), rest = grp(s, l.p, 3);
            if (npv < PREFIX_VARS_MAX && match(s, RE_PY_PREFIX_ARG, rest.ptr, rest.len, 0)) {
                pv[npv++] = (prefix_var){var, grp(s, rest.ptr, 2)};
            }
        }
    }
    bool django = has(s, "urlpatterns");
    s->in_block = false;
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (!is_code(s, CM_PY, &l)) {
            continue;
        }
        if (match(s, RE_PY_DECORATOR, l.p, l.len, 0)) {
            str var = grp(s, l.p, 1), verb = grp(s, l.p, 2), path = grp(s, l.p, 4);
            str rest = grp(s, l.p, 5);
            for (size_t i = 0; i < npv; i++) {
                if (str_eq(pv[i].var, var)) {
                    path = join(s, pv[i].prefix, path);
                    break;
                }
            }
            str handler = {NULL, 0};
            line d;
            bool in_block = s->in_block;
            if (look_below(s, &l, RE_PY_DEF, true, &d)) {
                handler = grp(s, d.p, 1);
            }
            s->in_block = in_block;
            const char *fw = fastapi ? "fastapi" : "flask";
            if (str_eq_c(verb, "route") || str_eq_c(verb, "api_route")) {
                if (match(s, RE_PY_METHODS, rest.ptr, rest.len, 0)) {
                    add_methods(s, fw, rest, path, handler, l.no);
                } else {
                    add(s, fw, fastapi && str_eq_c(verb, "api_route") ? "ANY" : "GET", path,
                        handler, l.no);
                }
            } else {
                add(s, fw, upper(s, verb), path, handler, l.no);
            }
            continue;
        }
        if (match(s, RE_PY_URL_RULE, l.p, l.len, 0)) {
            /* app.add_url_rule("/x", "name", view, methods=[...]) */
            str var = grp(s, l.p, 1), path = grp(s, l.p, 3), rest = grp(s, l.p, 4);
            str prefix = {NULL, 0};
            for (size_t i = 0; i < npv; i++) {
                if (str_eq(pv[i].var, var)) {
                    prefix = pv[i].prefix;
                }
            }
            if (prefix.len) {
                path = join(s, prefix, path);
            }
            str handler = {NULL, 0};
            if (match(s, RE_PY_VIEW_FUNC, rest.ptr, rest.len, 0)) {
                handler = grp(s, rest.ptr, 1);
            } else {
                /* positional: rule, endpoint, view_func; rest starts at the comma after rule */
                str args[ARGS_MAX];
                if (split_args(rest, args) > 2) {
                    handler = arg_name(args[2]);
                }
            }
            add_methods(s, fastapi ? "fastapi" : "flask", rest, path, handler, l.no);
            continue;
        }
        if (django && match(s, RE_DJANGO, l.p, l.len, 0)) {
            str fn = grp(s, l.p, 1), path = grp(s, l.p, 3), view = grp(s, l.p, 4);
            if (str_eq_c(view, "include")) {
                continue; /* a mount of another urls module, not an endpoint */
            }
            if (str_has_suffix(view, ".as_view")) {
                view.len -= 8;
            }
            if (str_eq_c(fn, "path")) {
                path = join(s, (str){NULL, 0}, path);
            }
            add(s, "django", "ANY", path, view, l.no);
        }
    }
}

/* ---- Java / Kotlin: Spring */

static str spring_path(scan *s, str args)
{
    if (match(s, RE_SPRING_NAMED_PATH, args.ptr, args.len, 0)) {
        return grp(s, args.ptr, 1);
    }
    if (match(s, RE_SPRING_FIRST_PATH, args.ptr, args.len, 0)) {
        return grp(s, args.ptr, 1);
    }
    return (str){"", 0};
}

static void scan_spring(scan *s)
{
    if (!has(s, "Mapping")) {
        return;
    }
    str prefix = {NULL, 0};
    line l;
    s->in_block = false;
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (!is_code(s, CM_C, &l) || !match(s, RE_SPRING, l.p, l.len, 0)) {
            continue;
        }
        str verb = grp(s, l.p, 1), args = grp(s, l.p, 2);
        str path = spring_path(s, args);
        bool in_block = s->in_block;
        line d;
        bool is_class = look_below(s, &l, RE_SPRING_CLASS, true, &d);
        if (is_class) {
            s->in_block = in_block;
            prefix = path;
            continue;
        }
        str handler = {NULL, 0};
        if (look_below(s, &l, RE_SPRING_HANDLER, true, &d)) {
            handler = grp(s, d.p, 1);
            if (str_eq_c(handler, "fun")) {
                handler = (str){NULL, 0};
            }
        }
        s->in_block = in_block;
        str full = join(s, prefix, path);
        if (!str_eq_c(verb, "Request")) {
            add(s, "spring", upper(s, verb), full, handler, l.no);
            continue;
        }
        size_t off = 0;
        bool any = false;
        while (match(s, RE_SPRING_METHOD, args.ptr, args.len, off)) {
            add(s, "spring", upper(s, grp(s, args.ptr, 1)), full, handler, l.no);
            any = true;
            size_t end = match_end(s);
            if (end <= off) {
                break;
            }
            off = end;
        }
        if (!any) {
            add(s, "spring", "ANY", full, handler, l.no);
        }
    }
}

/* ---- Ruby: Rails config/routes.rb */

typedef struct rails_frame {
    str prefix; /* URL prefix, "" at the top */
    str module; /* controller module, "admin/" */
} rails_frame;

static str singular(scan *s, str plural)
{
    if (str_has_suffix(plural, "ies")) {
        char *p = arena_printf(s->a, "%.*sy", (int)plural.len - 3, plural.ptr);
        return p ? str_c(p) : plural;
    }
    if (str_has_suffix(plural, "s") && !str_has_suffix(plural, "ss")) {
        return (str){plural.ptr, plural.len - 1};
    }
    return plural;
}

/* whether `:action` is one of the symbols of list, or the symbol one */
static bool symbol_listed(str list, str one, const char *action)
{
    if (!list.len) {
        return str_eq_c(one, action);
    }
    size_t al = strlen(action);
    for (size_t i = 0; i + al < list.len; i++) {
        if (list.ptr[i] == ':' && memcmp(list.ptr + i + 1, action, al) == 0 &&
            (i + 1 + al == list.len || !is_ident_char(list.ptr[i + 1 + al]))) {
            return true;
        }
    }
    return false;
}

/* whether action is allowed by the only:/except: options in rest */
static bool rails_allowed(scan *s, str rest, const char *action)
{
    if (match(s, RE_RAILS_ONLY, rest.ptr, rest.len, 0)) {
        return symbol_listed(grp(s, rest.ptr, 1), grp(s, rest.ptr, 2), action);
    }
    if (match(s, RE_RAILS_EXCEPT, rest.ptr, rest.len, 0)) {
        return !symbol_listed(grp(s, rest.ptr, 1), grp(s, rest.ptr, 2), action);
    }
    return true;
}

static void rails_resources(scan *s, const rails_frame *f, bool plural, str name, str rest,
                            uint32_t no)
{
    /* the seven REST routes of `resources :photos` (six, without index and :id, for the
     * singular `resource :profile`, whose controller is still plural) */
    static const struct {
        const char *action, *method, *suffix;
        bool member, plural_only;
    } acts[] = {
        {"index", "GET", "", false, true},      {"create", "POST", "", false, false},
        {"new", "GET", "/new", false, false},   {"edit", "GET", "/edit", true, false},
        {"show", "GET", "", true, false},       {"update", "PATCH", "", true, false},
        {"destroy", "DELETE", "", true, false},
    };
    str base = join(s, f->prefix, name);
    char *ctl =
        arena_printf(s->a, "%.*s%.*s%s", (int)f->module.len, f->module.ptr ? f->module.ptr : "",
                     (int)name.len, name.ptr, plural ? "" : "s");
    if (!ctl) {
        return;
    }
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        if ((acts[i].plural_only && !plural) || !rails_allowed(s, rest, acts[i].action)) {
            continue;
        }
        char *path = arena_printf(s->a, "%.*s%s%s", (int)base.len, base.ptr,
                                  acts[i].member && plural ? "/:id" : "", acts[i].suffix);
        char *h = arena_printf(s->a, "%s#%s", ctl, acts[i].action);
        if (path && h) {
            add(s, "rails", acts[i].method, str_c(path), str_c(h), no);
        }
    }
}

static bool is_rails_routes(const char *relpath)
{
    str r = str_c(relpath);
    return str_eq_c(r, "config/routes.rb") || str_has_suffix(r, "/config/routes.rb") ||
           ((strncmp(relpath, "config/routes/", 14) == 0 || strstr(relpath, "/config/routes/")) &&
            str_has_suffix(r, ".rb"));
}

static void scan_rails(scan *s, const char *relpath)
{
    if (!is_rails_routes(relpath)) {
        return;
    }
    rails_frame stack[RAILS_DEPTH_MAX];
    size_t depth = 0;
    stack[0] = (rails_frame){{"", 0}, {"", 0}};
    size_t overflow = 0; /* frames past RAILS_DEPTH_MAX, popped without effect */
    line l;
    s->in_block = false;
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (!is_code(s, CM_RUBY, &l)) {
            continue;
        }
        const rails_frame *f = &stack[depth];
        rails_frame child = *f;
        bool opens = match(s, RE_RAILS_DO, l.p, l.len, 0);
        if (match(s, RE_RAILS_END, l.p, l.len, 0)) {
            if (overflow) {
                overflow--;
            } else if (depth) {
                depth--;
            }
            continue;
        }
        if (match(s, RE_RAILS_VERB, l.p, l.len, 0)) {
            str verb = grp(s, l.p, 1), path = grp(s, l.p, 3), rest = grp(s, l.p, 4);
            const char *method = upper(s, verb);
            if (str_eq_c(verb, "match")) {
                method = match(s, RE_RAILS_VIA, rest.ptr, rest.len, 0)
                             ? upper(s, grp(s, rest.ptr, 1))
                             : "ANY";
            }
            str handler = {NULL, 0};
            if (match(s, RE_RAILS_TO, rest.ptr, rest.len, 0)) {
                handler = grp(s, rest.ptr, 2);
            }
            if (handler.len && f->module.len) {
                char *h = arena_printf(s->a, "%.*s%.*s", (int)f->module.len, f->module.ptr,
                                       (int)handler.len, handler.ptr);
                handler = h ? str_c(h) : handler;
            }
            add(s, "rails", method, join(s, f->prefix, path), handler, l.no);
        } else if (match(s, RE_RAILS_RESOURCES, l.p, l.len, 0)) {
            bool plural = grp(s, l.p, 1).len == 9;
            str name = grp(s, l.p, 2), rest = grp(s, l.p, 3);
            rails_resources(s, f, plural, name, rest, l.no);
            str base = join(s, f->prefix, name);
            if (plural) {
                str one = singular(s, name);
                char *p = arena_printf(s->a, "%.*s/:%.*s_id", (int)base.len, base.ptr, (int)one.len,
                                       one.ptr);
                child.prefix = p ? str_c(p) : base;
            } else {
                child.prefix = base;
            }
        } else if (match(s, RE_RAILS_NAMESPACE, l.p, l.len, 0)) {
            str name = grp(s, l.p, 1);
            child.prefix = join(s, f->prefix, name);
            char *m = arena_printf(s->a, "%.*s%.*s/", (int)f->module.len,
                                   f->module.ptr ? f->module.ptr : "", (int)name.len, name.ptr);
            child.module = m ? str_c(m) : f->module;
        } else if (match(s, RE_RAILS_SCOPE, l.p, l.len, 0)) {
            child.prefix = join(s, f->prefix, grp(s, l.p, 2));
        } else if (match(s, RE_RAILS_ROOT, l.p, l.len, 0)) {
            str handler = grp(s, l.p, 2);
            str path = f->prefix.len ? f->prefix : str_c("/");
            add(s, "rails", "GET", path, handler, l.no);
        }
        if (opens) {
            if (depth + 1 < RAILS_DEPTH_MAX) {
                stack[++depth] = child;
            } else {
                overflow++;
            }
        }
    }
}

/* ---- Go: net/http (1.22 method patterns), gin, echo, chi, fiber */

static str var_prefix(const prefix_var *pv, size_t npv, str var)
{
    for (size_t i = npv; i-- > 0;) {
        if (str_eq(pv[i].var, var)) {
            return pv[i].prefix;
        }
    }
    return (str){NULL, 0};
}

static void scan_go(scan *s)
{
    prefix_var pv[PREFIX_VARS_MAX]; /* `v1 := r.Group("/v1")`, in order of declaration */
    size_t npv = 0;
    line l;
    s->in_block = false;
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (!is_code(s, CM_C, &l)) {
            continue;
        }
        if (match(s, RE_GO_HANDLE, l.p, l.len, 0)) {
            str pat = grp(s, l.p, 3), rest = grp(s, l.p, 4);
            str h = last_arg_name(rest);
            if (match(s, RE_GO_METHOD_PATTERN, pat.ptr, pat.len, 0)) {
                add(s, "go", upper(s, grp(s, pat.ptr, 1)), grp(s, pat.ptr, 2), h, l.no);
            } else {
                add(s, "go", "ANY", pat, h, l.no);
            }
        } else if (match(s, RE_GO_VERB, l.p, l.len, 0)) {
            str recv = grp(s, l.p, 1), verb = grp(s, l.p, 2), path = grp(s, l.p, 3);
            str rest = grp(s, l.p, 4);
            str prefix = var_prefix(pv, npv, recv);
            add(s, "go", upper(s, verb), prefix.len ? join(s, prefix, path) : path,
                last_arg_name(rest), l.no);
        } else if (npv < PREFIX_VARS_MAX && match(s, RE_GO_GROUP, l.p, l.len, 0)) {
            str var = grp(s, l.p, 1), parent = grp(s, l.p, 2), path = grp(s, l.p, 3);
            str prefix = join(s, var_prefix(pv, npv, parent), path);
            pv[npv++] = (prefix_var){var, prefix};
        }
    }
}

/* ---- Rust: Actix (attributes, web::resource, App::route), axum (Router::route) */

static void scan_rust(scan *s)
{
    if (!has(s, "route") && !has(s, "#[")) {
        return;
    }
    line l;
    s->in_block = false;
    str resource = {NULL, 0}; /* the open web::resource("/x") of a builder chain */
    for (size_t pos = 0, no = 1; next_line(s, pos, (uint32_t)no, &l); pos = l.next, no++) {
        if (!is_code(s, CM_C, &l)) {
            continue;
        }
        if (match(s, RE_ACTIX_ATTR, l.p, l.len, 0)) {
            str verb = grp(s, l.p, 1), path = grp(s, l.p, 2), rest = grp(s, l.p, 3);
            const char *method = upper(s, verb);
            if (str_eq_c(verb, "route")) {
                method = match(s, RE_ACTIX_ROUTE_METHOD, rest.ptr, rest.len, 0)
                             ? upper(s, grp(s, rest.ptr, 1))
                             : "ANY";
            }
            str handler = {NULL, 0};
            bool in_block = s->in_block;
            line d;
            if (look_below(s, &l, RE_RUST_FN, true, &d)) {
                handler = grp(s, d.p, 1);
            }
            s->in_block = in_block;
            add(s, "actix", method, path, handler, l.no);
            continue;
        }
        str t = trim((str){l.p, l.len});
        bool app_route = match(s, RE_RUST_ROUTE_CALL, l.p, l.len, 0);
        if (app_route) {
            /* App::route / Router::route("/x", ...): actix when its methods are web::get(),
             * axum when they are get(h).post(k) */
            resource = (str){NULL, 0};
            str path = grp(s, l.p, 1), rest = grp(s, l.p, 2);
            if (!rest.ptr) {
                continue; /* (.*) always takes part; this keeps the analyzer informed */
            }
            bool actix = memmem(rest.ptr, rest.len, "web::", 5) != NULL;
            size_t o = (size_t)(rest.ptr - l.p);
            int id = actix ? RE_ACTIX_TO : RE_AXUM_VERB;
            while (match(s, id, l.p, l.len, o)) {
                add(s, actix ? "actix" : "axum", upper(s, grp(s, l.p, 1)), path, grp(s, l.p, 2),
                    l.no);
                size_t end = match_end(s);
                if (end <= o) {
                    break;
                }
                o = end;
            }
            continue;
        }
        size_t off = 0;
        if (match(s, RE_ACTIX_RESOURCE, l.p, l.len, 0)) {
            resource = grp(s, l.p, 1);
            off = match_end(s);
        } else if (!(t.len && t.ptr[0] == '.')) {
            resource = (str){NULL, 0}; /* the builder chain ended */
        }
        /* web::resource("/x").route(web::get().to(h)), on this line or continuing it */
        while (resource.len && match(s, RE_ACTIX_TO, l.p, l.len, off)) {
            add(s, "actix", upper(s, grp(s, l.p, 1)), resource, grp(s, l.p, 2), l.no);
            size_t end = match_end(s);
            if (end <= off) {
                break;
            }
            off = end;
        }
    }
}

void x_routes(const char *relpath, lang_id lang, const char *src, size_t n, arena *a, x_file *out)
{
    pthread_once(&re_once, compile_all);
    if (!re_ok || !src || !relpath) {
        return;
    }
    if (lang == LANG_NONE) {
        lang = lang_detect(relpath, src, n < 256 ? n : 256);
    }
    scan s = {.a = a, .out = out, .cap = out->n_routes, .src = src, .n = n};
    s.md = pcre2_match_data_create(24, NULL);
    if (!s.md) {
        out->routes_truncated = true;
        return;
    }
    switch (lang) {
    case LANG_JAVASCRIPT:
    case LANG_TYPESCRIPT:
    case LANG_TSX:
        scan_nextjs(&s, relpath);
        scan_express(&s);
        break;
    case LANG_PYTHON: scan_python(&s); break;
    case LANG_JAVA:
    case LANG_KOTLIN: scan_spring(&s); break;
    case LANG_RUBY: scan_rails(&s, relpath); break;
    case LANG_GO: scan_go(&s); break;
    case LANG_RUST: scan_rust(&s); break;
    default: break;
    }
    pcre2_match_data_free(s.md);
}

bool x_routes_ready(void)
{
    pthread_once(&re_once, compile_all);
    return re_ok;
}

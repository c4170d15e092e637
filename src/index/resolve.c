/* resolve.c - import resolution (rules in resolve.h).
 *
 * The resolver keeps every indexed path once (xmalloc'd) in an array, and three open-addressing
 * hash tables over it: exact path -> file, base name -> chain of files with that base name,
 * directory -> chain of files directly in it. Chains are linked through next arrays, so the
 * whole structure is a few arrays, built in one pass over the files table. */
#include "index/resolve.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#define RP_MAX 1024 /* longest candidate path tried */

typedef struct slot {
    const char *key; /* points into a path */
    size_t len;
    int32_t head; /* file index (exact) or chain head */
} slot;

typedef struct table {
    slot *s;
    size_t cap; /* power of two */
    size_t n;
} table;

typedef struct ent {
    char *path;
    int64_t id;
    int32_t next_base, next_dir;
} ent;

struct ix_resolver {
    ent *e;
    size_t n, cap;
    table exact, base, dir;
};

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    }
    return h;
}

static slot *lookup(table *t, const char *k, size_t n)
{
    if (!t->cap) {
        return NULL;
    }
    size_t i = (size_t)hash(k, n) & (t->cap - 1);
    while (t->s[i].key) {
        if (t->s[i].len == n && memcmp(t->s[i].key, k, n) == 0) {
            return &t->s[i];
        }
        i = (i + 1) & (t->cap - 1);
    }
    return NULL;
}

static bool grow(table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    slot *ns = xcalloc(ncap, sizeof *ns);
    if (!ns) {
        return false;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->s[i].key) {
            size_t j = (size_t)hash(t->s[i].key, t->s[i].len) & (ncap - 1);
            while (ns[j].key) {
                j = (j + 1) & (ncap - 1);
            }
            ns[j] = t->s[i];
        }
    }
    xfree(t->s);
    t->s = ns;
    t->cap = ncap;
    return true;
}

/* the slot for k, inserted with head -1 when new; NULL when out of memory */
static slot *upsert(table *t, const char *k, size_t n)
{
    if ((t->n + 1) * 2 > t->cap && !grow(t)) {
        return NULL;
    }
    size_t i = (size_t)hash(k, n) & (t->cap - 1);
    while (t->s[i].key) {
        if (t->s[i].len == n && memcmp(t->s[i].key, k, n) == 0) {
            return &t->s[i];
        }
        i = (i + 1) & (t->cap - 1);
    }
    t->s[i] = (slot){k, n, -1};
    t->n++;
    return &t->s[i];
}

ix_resolver *ix_resolver_new(void)
{
    return xcalloc(1, sizeof(ix_resolver));
}

bool ix_resolver_add(ix_resolver *r, int64_t id, const char *path)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 1024;
        ent *ne = xrealloc(r->e, ncap * sizeof *ne);
        if (!ne) {
            return false;
        }
        r->e = ne;
        r->cap = ncap;
    }
    char *p = xstrdup(path);
    if (!p) {
        return false;
    }
    int32_t idx = (int32_t)r->n;
    size_t len = strlen(p);
    const char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    size_t dlen = slash ? (size_t)(slash - p) : 0;
    slot *se = upsert(&r->exact, p, len);
    slot *sb = se ? upsert(&r->base, base, len - (size_t)(base - p)) : NULL;
    slot *sd = sb ? upsert(&r->dir, p, dlen) : NULL;
    if (!sd) {
        xfree(p);
        return false;
    }
    r->e[idx] = (ent){p, id, sb->head, sd->head};
    se->head = idx;
    sb->head = idx;
    sd->head = idx;
    r->n++;
    return true;
}

ix_resolver *ix_resolver_load(sqlite3 *db)
{
    ix_resolver *r = ix_resolver_new();
    sqlite3_stmt *st = NULL;
    if (!r || sqlite3_prepare_v2(db, "SELECT id, path FROM files ORDER BY path", -1, &st, NULL) !=
                  SQLITE_OK) {
        ix_resolver_free(r);
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 1);
        if (p && !ix_resolver_add(r, sqlite3_column_int64(st, 0), p)) {
            sqlite3_finalize(st);
            ix_resolver_free(r);
            return NULL;
        }
    }
    sqlite3_finalize(st);
    return r;
}

void ix_resolver_free(ix_resolver *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        xfree(r->e[i].path);
    }
    xfree(r->e);
    xfree(r->exact.s);
    xfree(r->base.s);
    xfree(r->dir.s);
    xfree(r);
}

static int64_t exact(ix_resolver *r, const char *p)
{
    slot *s = lookup(&r->exact, p, strlen(p));
    return s ? r->e[s->head].id : 0;
}

/* Join dir and rel ('.' and '..' applied) into out; false when it climbs above the root or
 * does not fit. */
static bool join(const char *dir, const char *rel, char *out, size_t cap)
{
    char tmp[RP_MAX * 2];
    int n = snprintf(tmp, sizeof tmp, "%s%s%s", dir, *dir ? "/" : "", rel);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        return false;
    }
    size_t o = 0;
    char *save = NULL;
    for (char *seg = strtok_r(tmp, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0) {
            continue;
        }
        if (strcmp(seg, "..") == 0) {
            if (o == 0) {
                return false;
            }
            while (o > 0 && out[o - 1] != '/') {
                o--;
            }
            if (o > 0) {
                o--;
            }
            continue;
        }
        size_t sl = strlen(seg);
        if (o + (o ? 1 : 0) + sl + 1 > cap) {
            return false;
        }
        if (o) {
            out[o++] = '/';
        }
        memcpy(out + o, seg, sl);
        o += sl;
    }
    out[o] = '\0';
    return o > 0;
}

static void dirname_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= cap) {
        n = 0;
    }
    memcpy(out, path, n);
    out[n] = '\0';
}

/* base + each suffix in turn, exact lookup */
static int64_t try_exts(ix_resolver *r, const char *base, const char *const *exts)
{
    char p[RP_MAX];
    for (size_t i = 0; exts[i]; i++) {
        if (snprintf(p, sizeof p, "%s%s", base, exts[i]) < (int)sizeof p) {
            int64_t id = exact(r, p);
            if (id) {
                return id;
            }
        }
    }
    return 0;
}

/* any file whose path is sfx or ends with "/" + sfx: the shortest, then byte order */
static int64_t by_suffix(ix_resolver *r, const char *sfx)
{
    const char *slash = strrchr(sfx, '/');
    const char *base = slash ? slash + 1 : sfx;
    slot *s = lookup(&r->base, base, strlen(base));
    if (!s) {
        return 0;
    }
    size_t sl = strlen(sfx);
    const ent *best = NULL;
    size_t best_len = 0;
    for (int32_t i = s->head; i >= 0; i = r->e[i].next_base) {
        const ent *e = &r->e[i];
        size_t pl = strlen(e->path);
        if (pl < sl || memcmp(e->path + pl - sl, sfx, sl) != 0 ||
            (pl > sl && e->path[pl - sl - 1] != '/')) {
            continue;
        }
        if (!best || pl < best_len || (pl == best_len && strcmp(e->path, best->path) < 0)) {
            best = e;
            best_len = pl;
        }
    }
    return best ? best->id : 0;
}

static const char *const js_exts[] = {
    "",          ".ts",        ".tsx",      ".js",        ".jsx",       ".mjs", ".cjs",
    "/index.ts", "/index.tsx", "/index.js", "/index.jsx", "/index.mjs", NULL};

static int64_t resolve_js(ix_resolver *r, const char *dir, const char *src)
{
    if (strncmp(src, "./", 2) != 0 && strncmp(src, "../", 3) != 0 && strcmp(src, ".") != 0 &&
        strcmp(src, "..") != 0) {
        return 0; /* a package, not a workspace file */
    }
    char p[RP_MAX];
    if (!join(dir, src, p, sizeof p)) {
        return 0;
    }
    int64_t id = try_exts(r, p, js_exts);
    size_t n = strlen(p);
    if (!id && n > 3 && strcmp(p + n - 3, ".js") == 0) {
        /* TypeScript's ESM style: import './x.js' names x.ts */
        p[n - 3] = '\0';
        static const char *const ts[] = {".ts", ".tsx", NULL};
        id = try_exts(r, p, ts);
    }
    return id;
}

static int64_t resolve_python(ix_resolver *r, const char *dir, const char *src)
{
    char base[RP_MAX];
    size_t dots = 0;
    while (src[dots] == '.') {
        dots++;
    }
    char mod[RP_MAX];
    size_t m = 0;
    for (const char *s = src + dots; *s && m + 1 < sizeof mod; s++) {
        if (*s == ' ' || *s == ',') {
            break;
        }
        mod[m++] = *s == '.' ? '/' : *s;
    }
    mod[m] = '\0';
    static const char *const exts[] = {".py", "/__init__.py", ".pyi", NULL};
    if (dots > 0) {
        /* relative: one dot is the file's package (its directory), each more goes up */
        snprintf(base, sizeof base, "%s", dir);
        for (size_t i = 1; i < dots; i++) {
            char *slash = strrchr(base, '/');
            if (!slash) {
                if (!base[0]) {
                    return 0;
                }
                base[0] = '\0';
            } else {
                *slash = '\0';
            }
        }
        char p[RP_MAX];
        if (m == 0) {
            if (snprintf(p, sizeof p, "%s%s__init__.py", base, base[0] ? "/" : "") >=
                (int)sizeof p) {
                return 0;
            }
            return exact(r, p);
        }
        if (snprintf(p, sizeof p, "%s%s%s", base, base[0] ? "/" : "", mod) >= (int)sizeof p) {
            return 0;
        }
        return try_exts(r, p, exts);
    }
    if (m == 0) {
        return 0;
    }
    int64_t id = try_exts(r, mod, exts);
    if (!id) {
        /* a sibling module of the importing file, then a src/ layout or any package root */
        char p[RP_MAX];
        if (dir[0] && snprintf(p, sizeof p, "%s/%s", dir, mod) < (int)sizeof p) {
            id = try_exts(r, p, exts);
        }
        if (!id && snprintf(p, sizeof p, "%s.py", mod) < (int)sizeof p) {
            id = by_suffix(r, p);
        }
        if (!id && snprintf(p, sizeof p, "%s/__init__.py", mod) < (int)sizeof p) {
            id = by_suffix(r, p);
        }
    }
    return id;
}

static int64_t resolve_c(ix_resolver *r, const char *dir, const char *src)
{
    char p[RP_MAX];
    int64_t id = 0;
    if (join(dir, src, p, sizeof p)) {
        id = exact(r, p);
    }
    if (!id && join("", src, p, sizeof p)) {
        id = exact(r, p);
        if (!id) {
            id = by_suffix(r, p);
        }
    }
    return id;
}

/* the first .go file directly in directory d (non-test first), or 0 */
static int64_t go_dir_file(ix_resolver *r, const char *d, size_t n)
{
    slot *s = lookup(&r->dir, d, n);
    if (!s) {
        return 0;
    }
    const ent *best = NULL;
    bool best_test = true;
    for (int32_t i = s->head; i >= 0; i = r->e[i].next_dir) {
        const ent *e = &r->e[i];
        size_t pl = strlen(e->path);
        if (pl < 3 || strcmp(e->path + pl - 3, ".go") != 0) {
            continue;
        }
        bool test = pl >= 8 && strcmp(e->path + pl - 8, "_test.go") == 0;
        if (!best || (best_test && !test) ||
            (test == best_test && strcmp(e->path, best->path) < 0)) {
            best = e;
            best_test = test;
        }
    }
    return best ? best->id : 0;
}

static int64_t resolve_go(ix_resolver *r, const char *src)
{
    /* the longest suffix of the import path that is a directory of the workspace */
    size_t n = strlen(src);
    for (size_t i = 0; i <= n; i++) {
        if (i == 0 || src[i - 1] == '/') {
            int64_t id = go_dir_file(r, src + i, n - i);
            if (id) {
                return id;
            }
        }
    }
    return 0;
}

static int64_t resolve_rust(ix_resolver *r, const char *from, const char *dir, const char *src)
{
    char p[RP_MAX], mod[RP_MAX];
    static const char *const exts[] = {".rs", "/mod.rs", NULL};
    /* the module path: `crate::a::b::{C, D}` -> segments a, b (stop at `{` or `*`) */
    size_t m = 0;
    for (const char *s = src; *s && m + 1 < sizeof mod; s++) {
        if (*s == '{' || *s == '*' || *s == ' ' || *s == ';') {
            break;
        }
        if (s[0] == ':' && s[1] == ':') {
            mod[m++] = '/';
            s++;
            continue;
        }
        mod[m++] = *s;
    }
    while (m > 0 && mod[m - 1] == '/') {
        m--;
    }
    mod[m] = '\0';
    if (!strchr(mod, '/')) {
        /* `mod x;`: x.rs / x/mod.rs beside the file (mod.rs, lib.rs, main.rs) or in the
           directory named after the file's stem (Rust 2018) */
        if (snprintf(p, sizeof p, "%s%s%s", dir, dir[0] ? "/" : "", mod) < (int)sizeof p) {
            int64_t id = try_exts(r, p, exts);
            if (id) {
                return id;
            }
        }
        size_t fl = strlen(from);
        if (fl > 3 && strcmp(from + fl - 3, ".rs") == 0 &&
            snprintf(p, sizeof p, "%.*s/%s", (int)(fl - 3), from, mod) < (int)sizeof p) {
            return try_exts(r, p, exts);
        }
        return 0;
    }
    char root[RP_MAX];
    const char *rest;
    if (strncmp(mod, "crate/", 6) == 0) {
        /* the crate's source root: the nearest `src` directory above the file */
        snprintf(root, sizeof root, "%s", dir);
        char *hit = NULL;
        for (char *q = root; (q = strstr(q, "src")) != NULL; q += 3) {
            if ((q == root || q[-1] == '/') && (q[3] == '/' || q[3] == '\0')) {
                hit = q;
            }
        }
        if (hit) {
            hit[3] = '\0';
        } else {
            root[0] = '\0';
        }
        rest = mod + 6;
    } else if (strncmp(mod, "self/", 5) == 0) {
        snprintf(root, sizeof root, "%s", dir);
        rest = mod + 5;
    } else if (strncmp(mod, "super/", 6) == 0) {
        dirname_of(dir, root, sizeof root);
        rest = mod + 6;
    } else {
        return 0; /* an external crate */
    }
    /* longest module prefix first: a/b/C -> a/b/C.rs, a/b.rs, a.rs */
    char path[RP_MAX];
    if (snprintf(path, sizeof path, "%s", rest) >= (int)sizeof path) {
        return 0;
    }
    for (;;) {
        if (snprintf(p, sizeof p, "%s%s%s", root, root[0] ? "/" : "", path) < (int)sizeof p) {
            int64_t id = try_exts(r, p, exts);
            if (id) {
                return id;
            }
        }
        char *slash = strrchr(path, '/');
        if (!slash) {
            return 0;
        }
        *slash = '\0';
    }
}

static int64_t resolve_jvm(ix_resolver *r, const char *src, const char *ext)
{
    char p[RP_MAX];
    size_t m = 0;
    const char *s = src;
    if (strncmp(s, "static ", 7) == 0) {
        s += 7;
    }
    for (; *s && m + 1 < sizeof p; s++) {
        if (*s == ' ' || *s == ';' || *s == '{' || *s == '*') {
            break;
        }
        p[m++] = *s == '.' ? '/' : *s;
    }
    while (m > 0 && p[m - 1] == '/') {
        m--;
    }
    p[m] = '\0';
    /* a.b.C, else a.b.C.member */
    for (int tries = 0; tries < 2 && m > 0; tries++) {
        char f[RP_MAX];
        if (snprintf(f, sizeof f, "%s%s", p, ext) < (int)sizeof f) {
            int64_t id = by_suffix(r, f);
            if (id) {
                return id;
            }
        }
        char *slash = strrchr(p, '/');
        if (!slash) {
            break;
        }
        *slash = '\0';
        m = strlen(p);
    }
    return 0;
}

static int64_t resolve_ruby(ix_resolver *r, const char *dir, const char *src)
{
    char p[RP_MAX];
    static const char *const exts[] = {".rb", "", NULL};
    if (join(dir, src, p, sizeof p)) {
        int64_t id = try_exts(r, p, exts);
        if (id) {
            return id;
        }
    }
    if (src[0] != '.' && snprintf(p, sizeof p, "lib/%s", src) < (int)sizeof p) {
        int64_t id = try_exts(r, p, exts);
        if (id) {
            return id;
        }
    }
    if (src[0] != '.' && join("", src, p, sizeof p)) {
        return try_exts(r, p, exts);
    }
    return 0;
}

int64_t ix_resolve(ix_resolver *r, const char *from_path, const char *lang, const char *source)
{
    if (!r || !lang || !source || !source[0] || strlen(source) >= RP_MAX ||
        strlen(from_path) >= RP_MAX) {
        return 0;
    }
    char dir[RP_MAX];
    dirname_of(from_path, dir, sizeof dir);
    if (strcmp(lang, "javascript") == 0 || strcmp(lang, "typescript") == 0 ||
        strcmp(lang, "tsx") == 0) {
        return resolve_js(r, dir, source);
    }
    if (strcmp(lang, "python") == 0) {
        return resolve_python(r, dir, source);
    }
    if (strcmp(lang, "c") == 0 || strcmp(lang, "cpp") == 0) {
        return resolve_c(r, dir, source);
    }
    if (strcmp(lang, "go") == 0) {
        return resolve_go(r, source);
    }
    if (strcmp(lang, "rust") == 0) {
        return resolve_rust(r, from_path, dir, source);
    }
    if (strcmp(lang, "java") == 0) {
        return resolve_jvm(r, source, ".java");
    }
    if (strcmp(lang, "kotlin") == 0) {
        int64_t id = resolve_jvm(r, source, ".kt");
        return id ? id : resolve_jvm(r, source, ".java");
    }
    if (strcmp(lang, "scala") == 0) {
        int64_t id = resolve_jvm(r, source, ".scala");
        return id ? id : resolve_jvm(r, source, ".java");
    }
    if (strcmp(lang, "ruby") == 0) {
        return resolve_ruby(r, dir, source);
    }
    if (strcmp(lang, "php") == 0 || strcmp(lang, "bash") == 0 || strcmp(lang, "lua") == 0) {
        char p[RP_MAX];
        return join(dir, source, p, sizeof p) ? exact(r, p) : 0;
    }
    return 0;
}

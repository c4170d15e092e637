/* graphdiff.c - ctx_graph action=diff: how the code graph changed between a git ref and HEAD
 * (tools.md §3.1).
 *
 * The index holds one state (the working tree's). The state at `since` is rebuilt only for the
 * files git says changed: each one's old content comes from `git show <since>:<path>` and is
 * parsed with the same extractor the index uses, so "before" and "after" are read by the same
 * rules. Files compare by existence, import edges by (file, import as written; shown with the
 * resolved target when the index knows it) and call edges by (file, caller, callee). Bounded:
 * at most MAX_CHANGED files, each at most MAX_OLD_BYTES, and the call's deadline. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "index/git.h"
#include "lang/extract.h"
#include "lang/lang.h"
#include "tools/graphtools.h"
#include "tools/ixtools.h"

#define MAX_CHANGED 500
#define MAX_OLD_BYTES ((size_t)1 << 20)
#define MAX_LISTED 200

typedef struct names {
    arena *a;
    const char **v;
    size_t n, cap;
    bool more;
} names;

static bool add_name(void *ctx, const char *rel)
{
    names *l = ctx;
    if (l->n >= MAX_CHANGED) {
        l->more = true;
        return false;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        const char **nv = arena_alloc(l->a, nc * sizeof *nv);
        if (!nv) {
            return false;
        }
        if (l->n) {
            memcpy(nv, l->v, l->n * sizeof *nv);
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = arena_strdup(l->a, rel);
    return l->v[l->n - 1] != NULL;
}

/* a sorted set of strings (arena), for the before/after comparisons */
typedef struct sset {
    const char **v;
    size_t n, cap;
} sset;

static void sset_add(arena *a, sset *s, const char *str)
{
    if (!str) {
        return;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        const char **nv = arena_alloc(a, nc * sizeof *nv);
        if (!nv) {
            return;
        }
        if (s->n) {
            memcpy(nv, s->v, s->n * sizeof *nv);
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = str;
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void sset_sort(sset *s)
{
    if (s->n) {
        qsort(s->v, s->n, sizeof *s->v, str_cmp);
    }
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (m == 0 || strcmp(s->v[m - 1], s->v[i]) != 0) {
            s->v[m++] = s->v[i];
        }
    }
    s->n = m;
}

static bool sset_has(const sset *s, const char *str)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->v[mid], str);
        if (c == 0) {
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

/* the rows of one file as the index has them now */
static bool now_state(tool_call *call, sqlite3 *db, const char *path, sset *imp, sset *calls)
{
    int64_t fid = gx_file_id(db, path);
    if (fid < 0) {
        return false;
    }
    sqlite3_stmt *st =
        gx_prep(db, "SELECT i.source, coalesce(f.path, '') FROM imports i "
                    "LEFT JOIN files f ON f.id = i.resolved_id WHERE i.file_id = ?1");
    if (st) {
        sqlite3_bind_int64(st, 1, fid);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *src = gx_col(call->a, st, 0), *to = gx_col(call->a, st, 1);
            sset_add(call->a, imp, arena_printf(call->a, "%s\x1f%s", src, to));
        }
        sqlite3_finalize(st);
    }
    st = gx_prep(db, "SELECT coalesce(s.name, ''), c.callee FROM calls c LEFT JOIN symbols s ON "
                     "s.id = c.caller_id WHERE c.file_id = ?1");
    if (st) {
        sqlite3_bind_int64(st, 1, fid);
        while (sqlite3_step(st) == SQLITE_ROW) {
            sset_add(
                call->a, calls,
                arena_printf(call->a, "%s\x1f%s", gx_col(call->a, st, 0), gx_col(call->a, st, 1)));
        }
        sqlite3_finalize(st);
    }
    return true;
}

/* the rows of one file as they were at `since`; false when it did not exist then */
static bool old_state(tool_call *call, const git_repo *r, x_parser *xp, const char *since,
                      const char *path, sset *imp, sset *calls, bool *unparsed)
{
    const char *spec = arena_printf(call->a, "%s:%s%s", since, r->prefix ? r->prefix : "", path);
    const char *args[] = {"show", "--end-of-options", spec, NULL};
    git_result res;
    bool ok = git_run(r, args, 10000, MAX_OLD_BYTES, &res);
    if (!ok) {
        bool existed = res.too_big; /* too big to parse: it existed, edges unknown */
        git_result_release(&res);
        *unparsed = existed;
        return existed;
    }
    const char *src = res.out.ptr ? res.out.ptr : "";
    size_t n = res.out.len;
    lang_id lang = lang_detect(path, src, n < 8192 ? n : 8192);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    char why[160];
    if (lang != LANG_NONE && lang_grammar(lang) &&
        x_extract(xp, lang, path, src, n, call->a, call->cancel, &xf, why, sizeof why)) {
        for (size_t i = 0; i < xf.n_imports; i++) {
            sset_add(call->a, imp, arena_printf(call->a, "%s\x1f", xf.imports[i].source));
        }
        for (size_t i = 0; i < xf.n_calls; i++) {
            const char *caller = xf.calls[i].caller >= 0 ? xf.syms[xf.calls[i].caller].name : "";
            sset_add(call->a, calls, arena_printf(call->a, "%s\x1f%s", caller, xf.calls[i].callee));
        }
    } else if (lang != LANG_NONE && lang_grammar(lang)) {
        *unparsed = true;
    }
    git_result_release(&res);
    return true;
}

typedef struct delta {
    buf add_files, del_files, add_imp, del_imp, add_calls, del_calls;
    int64_t n[6];
} delta;

static void note(buf *b, int64_t *count, const char *fmt, const char *a, const char *c,
                 const char *d)
{
    if (++*count <= MAX_LISTED) {
        buf_printf(b, fmt, a, c, d);
    }
}

/* imports compare by (source as written); the "now" key carries the resolved target after
 * \x1f, which the old side cannot know, so compare on the part before it */
static const char *key_head(arena *a, const char *k)
{
    const char *sep = strchr(k, '\x1f');
    return sep ? arena_strndup(a, k, (size_t)(sep - k)) : k;
}

static void diff_file(tool_call *call, delta *d, const char *path, bool was, bool is, sset *oi,
                      sset *oc, sset *ni, sset *nc)
{
    if (is && !was) {
        note(&d->add_files, &d->n[0], "  + %s%s%s\n", path, "", "");
    } else if (was && !is) {
        note(&d->del_files, &d->n[1], "  − %s%s%s\n", path, "", "");
    }
    sset oih = {0}, nih = {0};
    for (size_t i = 0; i < oi->n; i++) {
        sset_add(call->a, &oih, key_head(call->a, oi->v[i]));
    }
    for (size_t i = 0; i < ni->n; i++) {
        sset_add(call->a, &nih, key_head(call->a, ni->v[i]));
    }
    sset_sort(&oih);
    sset_sort(&nih);
    for (size_t i = 0; i < ni->n; i++) {
        const char *h = key_head(call->a, ni->v[i]);
        if (!sset_has(&oih, h)) {
            const char *to = strchr(ni->v[i], '\x1f') + 1;
            note(&d->add_imp, &d->n[2], "  + %s → %s\n", path, *to ? to : h, "");
        }
    }
    for (size_t i = 0; i < oih.n; i++) {
        if (!sset_has(&nih, oih.v[i])) {
            note(&d->del_imp, &d->n[3], "  − %s → %s\n", path, oih.v[i], "");
        }
    }
    for (size_t i = 0; i < nc->n; i++) {
        if (!sset_has(oc, nc->v[i])) {
            const char *sep = strchr(nc->v[i], '\x1f');
            const char *caller = arena_strndup(call->a, nc->v[i], (size_t)(sep - nc->v[i]));
            note(&d->add_calls, &d->n[4], "  + %s: %s → %s\n", path,
                 *caller ? caller : "<top level>", sep + 1);
        }
    }
    for (size_t i = 0; i < oc->n; i++) {
        if (!sset_has(nc, oc->v[i])) {
            const char *sep = strchr(oc->v[i], '\x1f');
            const char *caller = arena_strndup(call->a, oc->v[i], (size_t)(sep - oc->v[i]));
            note(&d->del_calls, &d->n[5], "  − %s: %s → %s\n", path,
                 *caller ? caller : "<top level>", sep + 1);
        }
    }
}

bool gt_git_open(tool_call *call, tool_out *out, const char *arg, const char *ref, git_repo *r,
                 err *rc)
{
    *rc = ERR_OK;
    if (!git_validate_ref(ref)) {
        *rc = gx_bad_arg(out, "%s must be a git ref (branch, tag, commit id, HEAD~N): '%.80s'", arg,
                         ref);
        return false;
    }
    char why[512];
    if (!git_repo_open(call->ws, r, why, sizeof why)) {
        *rc = tool_fail(out, "git_error", "%s", why);
        return false;
    }
    return true;
}

err gt_diff(tool_call *call, tool_out *out, const char *since)
{
    git_repo r;
    err rc;
    if (!gt_git_open(call, out, "since", since, &r, &rc)) {
        return rc;
    }
    char why[512];
    names changed = {.a = call->a};
    int64_t nc = git_diff_names(&r, since, "HEAD", add_name, &changed, why, sizeof why);
    if (nc < 0 && !changed.more) {
        git_repo_release(&r);
        return tool_fail(out, "git_error", "git diff %s..HEAD failed: %s", since, why);
    }
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        git_repo_release(&r);
        return ERR_OK;
    }
    x_parser *xp = x_parser_new();
    if (!xp) {
        index_view_close(&v);
        git_repo_release(&r);
        return ERR_NOMEM;
    }
    delta d;
    memset(&d, 0, sizeof d);
    buf *bs[] = {&d.add_files, &d.del_files, &d.add_imp, &d.del_imp, &d.add_calls, &d.del_calls};
    for (int i = 0; i < 6; i++) {
        buf_init(bs[i], (size_t)4 << 20);
    }
    int64_t unparsed = 0;
    bool stopped = false;
    for (size_t i = 0; i < changed.n; i++) {
        if (tool_expired(call)) {
            stopped = true;
            break;
        }
        sset oi = {0}, oc = {0}, ni = {0}, ncs = {0};
        bool up = false;
        bool was = old_state(call, &r, xp, since, changed.v[i], &oi, &oc, &up);
        bool is = now_state(call, v.db, changed.v[i], &ni, &ncs);
        unparsed += up;
        sset_sort(&oi);
        sset_sort(&oc);
        sset_sort(&ni);
        sset_sort(&ncs);
        diff_file(call, &d, changed.v[i], was, is, &oi, &oc, &ni, &ncs);
    }
    x_parser_free(xp);
    git_repo_release(&r);
    buf_printf(&out->text,
               "graph diff %s..HEAD: +%lld −%lld files, +%lld −%lld import edges, +%lld −%lld "
               "call edges\n",
               since, (long long)d.n[0], (long long)d.n[1], (long long)d.n[2], (long long)d.n[3],
               (long long)d.n[4], (long long)d.n[5]);
    const char *heads[] = {"files:\n", NULL, "import edges:\n", NULL, "call edges:\n", NULL};
    for (int i = 0; i < 6; i += 2) {
        if (bs[i]->len + bs[i + 1]->len == 0) {
            continue;
        }
        buf_puts(&out->text, heads[i]);
        buf_append(&out->text, bs[i]->ptr ? bs[i]->ptr : "", bs[i]->len);
        buf_append(&out->text, bs[i + 1]->ptr ? bs[i + 1]->ptr : "", bs[i + 1]->len);
    }
    int64_t listed_cap = 0;
    for (int i = 0; i < 6; i++) {
        listed_cap += d.n[i] > MAX_LISTED ? d.n[i] - MAX_LISTED : 0;
        buf_release(bs[i]);
    }
    if (listed_cap) {
        buf_printf(&out->text, "(+%lld more changes not listed)\n", (long long)listed_cap);
    }
    if (changed.more) {
        buf_printf(&out->text, "(only the first %d changed files compared)\n", MAX_CHANGED);
    }
    if (unparsed) {
        buf_printf(&out->text, "(%lld files at %s could not be parsed: their edges not compared)\n",
                   (long long)unparsed, since);
    }
    if (stopped) {
        buf_puts(&out->text, "(diff stopped at the time budget: counts are partial)\n");
    }
    buf_puts(&out->text,
             "(the index reflects the working tree; uncommitted changes count as HEAD)\n");
    out->structured = json_pack("{s:s, s:I, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}}", "since",
                                since, "changedFiles", (json_int_t)changed.n, "files", "added",
                                (json_int_t)d.n[0], "removed", (json_int_t)d.n[1], "imports",
                                "added", (json_int_t)d.n[2], "removed", (json_int_t)d.n[3], "calls",
                                "added", (json_int_t)d.n[4], "removed", (json_int_t)d.n[5]);
    index_view_close(&v);
    return ERR_OK;
}

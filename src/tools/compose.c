/* compose.c - ctx_compose and ctx_explore: "how does X work" answered from the index, without a
 * model (tools.md §2.8, §2.9).
 *
 * Both start from BM25 over the chunk index (FTS5 bm25(), one chunk per symbol) and grow along
 * the code graph:
 * - compose scores files (sum of their chunks' scores + 0.5 × the best score of a seed they
 *   are linked to by a call or an import edge), takes max_files of them and prints the bodies of
 * the relevant symbols (the matched ones, and those a seed calls or is called by), falling back to
 *   signature lines when a file's bodies would pass the token budget;
 * - explore runs turns: turn 1 takes the BM25 seeds, each later turn follows call edges (both
 *   directions) from the best symbols not yet expanded, each new hit scoring half its parent,
 *   and stops early when a turn adds nothing. The answer is a block of `path:start-end  label`
 *   citations.
 * Every step is bounded (chunk, hit and symbol caps) and checks the deadline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tools/common.h"
#include "tools/graphdb.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_compose_schema[] =
    "{\"type\":\"object\",\"required\":[\"task\"],\"properties\":{"
    "\"task\":{\"type\":\"string\",\"maxLength\":2048,\"description\":\"what to explain, e.g. "
    "'how are tokens verified'\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"restrict to a "
    "subdirectory (default .)\"},"
    "\"max_files\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20,\"default\":6},"
    "\"max_tokens\":{\"type\":\"integer\",\"minimum\":500,\"maximum\":20000,\"default\":6000}}}";

const char ctx_explore_schema[] =
    "{\"type\":\"object\",\"required\":[\"query\"],\"properties\":{"
    "\"query\":{\"type\":\"string\",\"maxLength\":2048},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"max_turns\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":8,\"default\":3},"
    "\"citation\":{\"type\":\"boolean\",\"default\":false,\"description\":\"print only the final "
    "citation block\"}}}";

#define SEED_CHUNKS 30
#define MAX_HITS 400
#define EDGE_CAP 50

/* one symbol (or chunk) found relevant, with why */
typedef struct hit {
    int64_t sym_id; /* 0: a chunk without a symbol */
    ix_sym sym;     /* when sym_id */
    const char *path;
    int64_t start, end;
    double score;
    double bm25;
    bool expanded;
    const char *why; /* "bm25 verify_token", "called by x", "calls x" */
} hit;

typedef struct hits {
    hit *v;
    size_t n, cap;
} hits;

static hit *find_hit(hits *h, int64_t sym_id, const char *path, int64_t start)
{
    for (size_t i = 0; i < h->n; i++) {
        if (sym_id
                ? h->v[i].sym_id == sym_id
                : (!h->v[i].sym_id && h->v[i].start == start && strcmp(h->v[i].path, path) == 0)) {
            return &h->v[i];
        }
    }
    return NULL;
}

static hit *add_hit(arena *a, hits *h)
{
    if (h->n >= MAX_HITS) {
        return NULL;
    }
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        hit *nv = arena_alloc(a, nc * sizeof *nv);
        if (!nv) {
            return NULL;
        }
        if (h->n) {
            memcpy(nv, h->v, h->n * sizeof *nv);
        }
        h->v = nv;
        h->cap = nc;
    }
    memset(&h->v[h->n], 0, sizeof h->v[0]);
    return &h->v[h->n++];
}

/* turn 1: the best BM25 chunks under dir */
static size_t bm25_seeds(tool_call *call, sqlite3 *db, const char *query, const char *dir, hits *h,
                         size_t want)
{
    const char *fq = gx_fts_query(call->a, query, NULL);
    if (!*fq) {
        return 0;
    }
    sqlite3_stmt *st = gx_prep(db, "SELECT coalesce(c.symbol_id, 0), f.path, c.start_line, "
                                   "c.end_line, -bm25(chunks_fts) FROM chunks_fts "
                                   "JOIN chunks c ON c.id = chunks_fts.rowid "
                                   "JOIN files f ON f.id = c.file_id "
                                   "WHERE chunks_fts MATCH ?1 ORDER BY rank LIMIT 400");
    if (!st) {
        return 0;
    }
    sqlite3_bind_text(st, 1, fq, -1, SQLITE_STATIC);
    size_t added = 0;
    while (added < want && sqlite3_step(st) == SQLITE_ROW) {
        const char *path = gx_col(call->a, st, 1);
        if (!gx_under(path, dir)) {
            continue;
        }
        int64_t sid = sqlite3_column_int64(st, 0);
        int64_t start = sqlite3_column_int64(st, 2);
        double score = sqlite3_column_double(st, 4);
        hit *old = find_hit(h, sid, path, start);
        if (old) {
            old->bm25 += score;
            old->score += score;
            continue;
        }
        hit *x = add_hit(call->a, h);
        if (!x) {
            break;
        }
        x->sym_id = sid;
        x->path = path;
        x->start = start;
        x->end = sqlite3_column_int64(st, 3);
        x->score = x->bm25 = score;
        if (sid && ixt_sym_by_id(call, db, sid, &x->sym)) {
            x->start = x->sym.start_line;
            x->end = x->sym.end_line;
            x->why = arena_printf(call->a, "bm25 %s", x->sym.name);
        } else {
            x->sym_id = 0;
            x->why = "bm25";
        }
        added++;
    }
    sqlite3_finalize(st);
    return added;
}

/* follow call edges both ways from one hit; new hits score `share` of it. Returns new hits. */
static size_t expand_hit(tool_call *call, sqlite3 *db, const char *dir, hits *h, size_t i,
                         double share)
{
    if (!h->v[i].sym_id) {
        return 0;
    }
    h->v[i].expanded = true;
    ix_sym from = h->v[i].sym;
    double base = h->v[i].score;
    size_t added = 0;
    for (int dirn = 0; dirn < 2; dirn++) {
        ix_edge *ev = NULL;
        int64_t n = dirn == 0 ? ixt_callees(call, db, &from, &ev, EDGE_CAP)
                              : ixt_callers(call, db, &from, &ev, EDGE_CAP);
        n = n < EDGE_CAP ? n : EDGE_CAP;
        for (int64_t k = 0; k < n; k++) {
            ix_edge *e = &ev[k];
            if (!e->other.id || (dirn == 0 && e->candidates != 1)) {
                continue;
            }
            if (!gx_under(e->other.path, dir)) {
                continue;
            }
            hit *old = find_hit(h, e->other.id, "", 0);
            if (old) {
                if (old != &h->v[i] && !old->bm25) {
                    old->score += base * share * 0.5; /* a second link adds a little */
                }
                continue;
            }
            hit *x = add_hit(call->a, h);
            if (!x) {
                return added;
            }
            from = h->v[i].sym; /* add_hit may have moved the array */
            x->sym_id = e->other.id;
            x->sym = e->other;
            x->path = e->other.path;
            x->start = e->other.start_line;
            x->end = e->other.end_line;
            x->score = base * share;
            x->why = arena_printf(call->a, "%s %s", dirn == 0 ? "called by" : "calls", from.name);
            added++;
        }
    }
    return added;
}

static int hit_cmp(const void *x, const void *y)
{
    const hit *a = x, *b = y;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    int c = strcmp(a->path, b->path);
    if (c) {
        return c;
    }
    return a->start < b->start ? -1 : a->start > b->start;
}

/* ---- ctx_compose ---- */

typedef struct cfile {
    const char *path;
    double bm25, neigh, score;
    buf why;
    int nwhy;
} cfile;

/* A linked file's neighbour score is the best score among the seeds linked to it: a sum would
 * let a module every seed imports (os, a logging header) outrank the code that matched. */
static void link_from(cfile *f, double score)
{
    if (score > f->neigh) {
        f->neigh = score;
    }
}

static cfile *file_of(arena *a, cfile **v, size_t *n, size_t *cap, const char *path)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*v)[i].path, path) == 0) {
            return &(*v)[i];
        }
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        cfile *nv = arena_alloc(a, nc * sizeof *nv);
        if (!nv) {
            return NULL;
        }
        if (*n) {
            memcpy(nv, *v, *n * sizeof *nv);
        }
        *v = nv;
        *cap = nc;
    }
    cfile *f = &(*v)[(*n)++];
    memset(f, 0, sizeof *f);
    f->path = path;
    buf_init(&f->why, 512);
    return f;
}

static void add_why(cfile *f, const char *why)
{
    if (f->nwhy >= 4 || (f->why.ptr && strstr(f->why.ptr, why))) {
        return;
    }
    buf_printf(&f->why, "%s%s", f->nwhy ? "; " : "", why);
    f->nwhy++;
}

static int cfile_cmp(const void *x, const void *y)
{
    const cfile *a = x, *b = y;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return strcmp(a->path, b->path);
}

static int hit_line_cmp(const void *x, const void *y)
{
    const hit *a = *(const hit *const *)x, *b = *(const hit *const *)y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* one file's section: bodies when they fit in left bytes, else signature lines; returns the
 * bytes used, 0 when not even the signatures fit */
static size_t compose_file(tool_call *call, buf *outb, const cfile *f, hit **hs, size_t nh,
                           size_t left)
{
    size_t mark = outb->len;
    buf_printf(outb, "## %s  (score %.1f: %s)\n", f->path, f->score, f->why.ptr ? f->why.ptr : "");
    const char *text = NULL;
    size_t len = 0;
    size_t *starts = NULL;
    int64_t nl = -1;
    if (ixt_read_file_quiet(call, f->path, &text, &len)) {
        nl = ixt_line_index(call->a, text, len, &starts);
    }
    size_t head_end = outb->len;
    int64_t covered_to = 0;
    for (size_t i = 0; i < nh && nl >= 0; i++) {
        hit *x = hs[i];
        if (x->start <= covered_to) {
            continue; /* nested in a body already shown */
        }
        if (x->sym_id) {
            ixt_handle(outb, &x->sym);
            buf_printf(outb, "  (%s, L%lld-%lld)\n", ixt_kind_filter(x->sym.kind),
                       (long long)x->start, (long long)x->end);
        } else {
            buf_printf(outb, "%s:%lld-%lld\n", f->path, (long long)x->start, (long long)x->end);
        }
        for (int64_t l = x->start; l >= 1 && l <= x->end && l <= nl; l++) {
            buf_printf(outb, "%4lld| ", (long long)l);
            ixt_put_source(outb, text + starts[l - 1], starts[l] - starts[l - 1]);
            buf_putc(outb, '\n');
        }
        covered_to = x->end;
    }
    if (nl >= 0 && outb->len - mark <= left) {
        return outb->len - mark;
    }
    /* signatures only */
    buf_truncate(outb, head_end);
    for (size_t i = 0; i < nh; i++) {
        if (hs[i]->sym_id) {
            ixt_sig_line(outb, &hs[i]->sym, 0);
            buf_putc(outb, '\n');
        }
    }
    if (nl < 0) {
        buf_puts(outb, "(file could not be read: signatures only)\n");
    } else {
        buf_puts(outb, "(bodies left out to stay within max_tokens)\n");
    }
    if (outb->len - mark <= left) {
        return outb->len - mark;
    }
    buf_truncate(outb, mark);
    return 0;
}

err tool_ctx_compose(tool_call *call, tool_out *out)
{
    const char *task = arg_str(call, "task", "");
    if (!*task) {
        return gx_bad_arg(out, "task must not be empty");
    }
    char dir[PATH_MAX_LEN + 1];
    if (!gx_dir_arg(call, out, arg_str(call, "path", "."), dir, sizeof dir)) {
        return ERR_OK;
    }
    int64_t max_files = arg_int(call, "max_files", 6);
    size_t budget = (size_t)arg_int(call, "max_tokens", 6000) * 4;
    ix_view v;
    err rc;
    gx_graph *g = gx_graph_open(call, out, &v, &rc);
    if (!g) {
        return rc;
    }
    hits h = {0};
    size_t nseed = bm25_seeds(call, v.db, task, dir, &h, SEED_CHUNKS);
    cfile *fv = NULL;
    size_t nf = 0, fcap = 0;
    for (size_t i = 0; i < nseed; i++) {
        cfile *f = file_of(call->a, &fv, &nf, &fcap, h.v[i].path);
        if (f) {
            f->bm25 += h.v[i].bm25;
            add_why(f, h.v[i].why);
        }
    }
    /* one hop along call edges from the 10 best seeds (symbols) */
    for (size_t i = 0; i < nseed && i < 10 && !tool_expired(call); i++) {
        size_t before = h.n;
        expand_hit(call, v.db, dir, &h, i, 1.0);
        for (size_t k = before; k < h.n; k++) {
            cfile *f = file_of(call->a, &fv, &nf, &fcap, h.v[k].path);
            if (f && strcmp(f->path, h.v[i].path) != 0) {
                link_from(f, h.v[i].bm25);
                add_why(f, h.v[k].why);
            }
        }
    }
    /* one hop along import edges from the seed files */
    size_t nseedfiles = nf;
    for (size_t i = 0; i < nseedfiles; i++) {
        uint32_t u = gx_node_of_path(g, fv[i].path);
        if (u == UINT32_MAX) {
            continue;
        }
        const uint32_t *offs[2] = {g->imp_off, g->impby_off};
        const uint32_t *adjs[2] = {g->imp, g->impby};
        for (int s = 0; s < 2; s++) {
            for (uint32_t k = offs[s][u]; k < offs[s][u + 1] && k - offs[s][u] < 20; k++) {
                const char *p = g->paths[adjs[s][k]];
                if (!gx_under(p, dir)) {
                    continue;
                }
                const char *seed_path = fv[i].path;
                double seed_score = fv[i].bm25;
                cfile *f = file_of(call->a, &fv, &nf, &fcap, p);
                if (f) {
                    link_from(f, seed_score);
                    add_why(f, arena_printf(call->a, "%s %s", s == 0 ? "imported by" : "imports",
                                            seed_path));
                }
            }
        }
    }
    for (size_t i = 0; i < nf; i++) {
        fv[i].score = fv[i].bm25 + 0.5 * fv[i].neigh;
    }
    if (nf) {
        qsort(fv, nf, sizeof *fv, cfile_cmp);
    }
    size_t take = nf < (size_t)max_files ? nf : (size_t)max_files;
    buf body;
    buf_init(&body, (size_t)4 << 20);
    json_t *files = json_array();
    size_t used = 0, shown = 0;
    hit **hs = arena_alloc(call->a, (h.n ? h.n : 1) * sizeof(hit *));
    for (size_t i = 0; i < take && hs; i++) {
        size_t nh = 0;
        for (size_t k = 0; k < h.n; k++) {
            if (strcmp(h.v[k].path, fv[i].path) == 0) {
                hs[nh++] = &h.v[k];
            }
        }
        if (nh == 0) {
            /* linked by imports only: its top-level symbols' signatures stand for it */
            ix_sym *syms = NULL;
            int64_t ns = ixt_file_symbols(call, v.db, fv[i].path, &syms);
            size_t mark = body.len;
            buf_printf(&body, "## %s  (score %.1f: %s)\n", fv[i].path, fv[i].score,
                       fv[i].why.ptr ? fv[i].why.ptr : "");
            for (int64_t s = 0; s < ns; s++) {
                if (syms[s].depth == 0) {
                    ixt_sig_line(&body, &syms[s], 0);
                    buf_putc(&body, '\n');
                }
            }
            if (body.len - mark > budget - used) {
                buf_truncate(&body, mark);
                break;
            }
            used += body.len - mark;
        } else {
            qsort(hs, nh, sizeof(hit *), hit_line_cmp);
            size_t u = compose_file(call, &body, &fv[i], hs, nh, budget - used);
            if (u == 0) {
                break;
            }
            used += u;
        }
        shown++;
        json_array_append_new(files, json_pack("{s:s, s:f, s:s}", "path", fv[i].path, "score",
                                               round(fv[i].score * 100) / 100, "why",
                                               fv[i].why.ptr ? fv[i].why.ptr : ""));
    }
    buf_printf(&out->text, "compose: '%s' → %zu files (bm25 + graph)\n", task, shown);
    buf_append(&out->text, body.ptr ? body.ptr : "", body.len);
    if (shown < take) {
        buf_printf(&out->text, "(%zu more files left out to stay within max_tokens)\n",
                   take - shown);
    }
    if (nf == 0) {
        buf_printf(&out->text, "(no indexed code matches '%s')\n", task);
    } else {
        ixt_hint(&out->text);
        buf_putc(&out->text, '\n');
    }
    rc = body.failed ? ERR_NOMEM : ERR_OK;
    buf_release(&body);
    for (size_t i = 0; i < nf; i++) {
        buf_release(&fv[i].why);
    }
    out->structured = json_pack("{s:s, s:o}", "task", task, "files", files);
    gx_graph_put(g);
    index_view_close(&v);
    return rc;
}

/* ---- ctx_explore ---- */

err tool_ctx_explore(tool_call *call, tool_out *out)
{
    const char *query = arg_str(call, "query", "");
    if (!*query) {
        return gx_bad_arg(out, "query must not be empty");
    }
    char dir[PATH_MAX_LEN + 1];
    if (!gx_dir_arg(call, out, arg_str(call, "path", "."), dir, sizeof dir)) {
        return ERR_OK;
    }
    int turns = (int)arg_int(call, "max_turns", 3);
    bool citation = arg_bool(call, "citation", false);
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    const char *keywords = "";
    gx_fts_query(call->a, query, &keywords);
    buf log;
    buf_init(&log, (size_t)1 << 20);
    buf_printf(&log, "EXPLORE: %s\nkeywords: %s\n", query, keywords);
    hits h = {0};
    size_t n1 = bm25_seeds(call, v.db, query, dir, &h, 10);
    buf_printf(&log, "turn 1: bm25 seeds → %zu new hits\n", n1);
    int done_turns = 1;
    for (int t = 2; t <= turns && h.n > 0; t++) {
        if (tool_expired(call)) {
            buf_puts(&log, "(stopped at the time budget)\n");
            break;
        }
        /* the 3 best symbols not yet expanded */
        qsort(h.v, h.n, sizeof *h.v, hit_cmp);
        size_t picked[3];
        int np = 0;
        for (size_t i = 0; i < h.n && np < 3; i++) {
            if (h.v[i].sym_id && !h.v[i].expanded) {
                picked[np++] = i;
            }
        }
        if (np == 0) {
            break;
        }
        buf names;
        buf_init(&names, 4096);
        const char *pnames[3];
        for (int k = 0; k < np; k++) {
            pnames[k] = h.v[picked[k]].sym.name;
        }
        size_t added = 0;
        for (int k = 0; k < np; k++) {
            buf_printf(&names, "%s%s", k ? ", " : "", pnames[k]);
            added += expand_hit(call, v.db, dir, &h, picked[k], 0.5);
        }
        buf_printf(&log, "turn %d: %s → %zu new hits\n", t, names.ptr ? names.ptr : "", added);
        buf_release(&names);
        done_turns = t;
        if (added == 0) {
            break;
        }
    }
    (void)done_turns;
    if (h.n) {
        qsort(h.v, h.n, sizeof *h.v, hit_cmp);
    }
    if (!citation) {
        buf_append(&out->text, log.ptr, log.len);
    }
    buf_release(&log);
    buf_puts(&out->text, "<final_answer>\n");
    json_t *cites = json_array();
    for (size_t i = 0; i < h.n && i < 10; i++) {
        hit *x = &h.v[i];
        buf_printf(&out->text, "%s:%lld-%lld", x->path, (long long)x->start, (long long)x->end);
        if (x->sym_id) {
            buf_printf(&out->text, "  %s (%s)", x->sym.name, ixt_kind_filter(x->sym.kind));
        }
        buf_putc(&out->text, '\n');
        json_t *c =
            json_pack("{s:s, s:I, s:I, s:f}", "path", x->path, "start", (json_int_t)x->start, "end",
                      (json_int_t)x->end, "score", round(x->score * 100) / 100);
        if (c && x->sym_id) {
            json_object_set_new(c, "symbol", json_string(x->sym.name));
            json_object_set_new(c, "kind", json_string(ixt_kind_filter(x->sym.kind)));
        }
        json_array_append_new(cites, c);
    }
    buf_puts(&out->text, "</final_answer>\n");
    out->structured =
        json_pack("{s:s, s:s, s:o}", "query", query, "keywords", keywords, "citations", cites);
    index_view_close(&v);
    return ERR_OK;
}

/* overview.c - ctx_overview and ctx_repomap: the files (and symbols) that matter most, ranked by
 * PageRank over the file graph (tools.md §2.6, §2.7).
 *
 * The plain ranking (30 iterations) is part of the cached file graph, so it is computed once per
 * index generation; a request with a task (overview) or focus files (repomap) runs a 50-
 * iteration personalized PageRank whose teleport mass sits on the files that match (BM25 over
 * the chunk index for a task, globs for focus files). For a task the final score is that rank
 * times its lift over the plain rank (capped at 10): PageRank alone drifts to the hubs. Ties
 * fall back to the plain rank, then to path order, so the output is a pure function of the index
 * state and the arguments.
 *
 * Symbols of a file are ranked by in-degree (call sites naming them, one indexed count each):
 * symbol rank = file rank × (1 + in-degree) / Σ over the file's symbols of (1 + in-degree). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tools/common.h"
#include "tools/graphdb.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"
#include "ws/glob.h"

const char ctx_overview_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"task\":{\"type\":\"string\",\"maxLength\":2048,\"description\":\"what you are working on: "
    "ranks the files most relevant to it\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"restrict to a "
    "subdirectory (default .)\"}}}";

const char ctx_repomap_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"max_tokens\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":16384,\"default\":2048},"
    "\"focus_files\":{\"type\":\"array\",\"maxItems\":50,\"items\":{\"type\":\"string\","
    "\"maxLength\":4096},\"description\":\"globs of files to boost in the ranking\"}}}";

#define OVERVIEW_FILES 20
#define OVERVIEW_DIRS 25
#define REPOMAP_SYMS 8
#define MAX_RANKED_SYMS 300 /* symbols of one file whose in-degree is counted */

typedef struct ranked {
    const gx_graph *g;
    const double *r; /* personalized, or NULL */
} ranked;

static int rank_cmp(const void *x, const void *y, void *ctx)
{
    const ranked *k = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (k->r && k->r[a] != k->r[b]) {
        return k->r[a] > k->r[b] ? -1 : 1;
    }
    if (k->g->rank[a] != k->g->rank[b]) {
        return k->g->rank[a] > k->g->rank[b] ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

/* the nodes under dir, ordered by (r, plain rank, path); returns the count */
static uint32_t order_nodes(const gx_graph *g, const double *r, const char *dir, uint32_t *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        /* personalized: only what the teleport mass reaches */
        if (gx_under(g->paths[i], dir) && (!r || r[i] > 1e-12)) {
            out[n++] = i;
        }
    }
    ranked k = {g, r};
    qsort_r(out, n, sizeof *out, rank_cmp, &k);
    return n;
}

typedef struct rsym {
    ix_sym s;
    int64_t indeg;
    double rank;
} rsym;

/* Python's __init__ and friends are called by the language, not by name: they rank last */
static bool dunder(const char *n)
{
    size_t l = strlen(n);
    return l > 4 && n[0] == '_' && n[1] == '_' && n[l - 1] == '_' && n[l - 2] == '_';
}

static int rsym_cmp(const void *x, const void *y)
{
    const rsym *a = x, *b = y;
    bool da = dunder(a->s.name), db = dunder(b->s.name);
    if (da != db) {
        return da ? 1 : -1;
    }
    if ((a->s.depth == 0) != (b->s.depth == 0)) {
        return a->s.depth == 0 ? -1 : 1; /* top-level definitions before members */
    }
    if (a->indeg != b->indeg) {
        return a->indeg > b->indeg ? -1 : 1;
    }
    return a->s.start_line < b->s.start_line ? -1 : a->s.start_line > b->s.start_line;
}

/* a file's symbols ranked (top-level and methods; not fields, enumerators, locals) */
static int64_t ranked_symbols(tool_call *call, sqlite3 *db, const char *path, double file_rank,
                              rsym **out)
{
    ix_sym *syms = NULL;
    int64_t n = ixt_file_symbols(call, db, path, &syms);
    *out = NULL;
    if (n <= 0) {
        return 0;
    }
    rsym *v = arena_alloc(call->a, (size_t)n * sizeof *v);
    sqlite3_stmt *st = gx_prep(db, "SELECT COUNT(*) FROM calls WHERE callee = ?1");
    if (!v || !st) {
        sqlite3_finalize(st);
        return 0;
    }
    int64_t m = 0;
    double total = 0;
    for (int64_t i = 0; i < n && m < MAX_RANKED_SYMS; i++) {
        const char *k = syms[i].kind;
        if (strcmp(k, "field") == 0 || strcmp(k, "enumerator") == 0 ||
            (syms[i].depth > 0 && strcmp(k, "method") != 0 && strcmp(k, "fn") != 0)) {
            continue;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, syms[i].name, -1, SQLITE_STATIC);
        int64_t c = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        v[m].s = syms[i];
        v[m].indeg = c;
        total += 1.0 + (double)c;
        m++;
    }
    sqlite3_finalize(st);
    for (int64_t i = 0; i < m; i++) {
        v[i].rank = total > 0 ? file_rank * (1.0 + (double)v[i].indeg) / total : 0;
    }
    qsort(v, (size_t)m, sizeof *v, rsym_cmp);
    *out = v;
    return m;
}

static void header(tool_call *call, tool_out *out, const gx_graph *g)
{
    ix_status st;
    memset(&st, 0, sizeof st);
    index_status(call->cfg, call->ws, &st);
    /* languages: distinct non-empty ones among the graph's files */
    int64_t langs = 0;
    const char *seen[64];
    int ns = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        const char *l = g->langs[i];
        if (!*l) {
            continue;
        }
        bool dup = false;
        for (int k = 0; k < ns; k++) {
            if (strcmp(seen[k], l) == 0) {
                dup = true;
                break;
            }
        }
        if (!dup) {
            langs++;
            if (ns < 64) {
                seen[ns++] = l;
            }
        }
    }
    char age[24];
    gx_age(st.built_at, age);
    buf_printf(&out->text,
               "%s: %u files, %lld symbols, %lld call edges, %lld languages (indexed %s ago)\n",
               call->ws->id, g->n, (long long)st.symbols, (long long)st.calls, (long long)langs,
               age);
    if (g->calls_partial) {
        buf_puts(&out->text, "(ranked by import edges only: the call edges were too many to "
                             "aggregate within the time budget)\n");
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

typedef struct dirent_r {
    const char *dir; /* "src/auth/" or "./" */
    double rank;
    uint32_t files;
    uint32_t first; /* index into the ordered list of its best file */
} dirent_r;

static int dir_cmp(const void *x, const void *y)
{
    const dirent_r *a = x, *b = y;
    if (a->rank != b->rank) {
        return a->rank > b->rank ? -1 : 1;
    }
    return strcmp(a->dir, b->dir);
}

err tool_ctx_overview(tool_call *call, tool_out *out)
{
    const char *task = arg_str(call, "task", NULL);
    if (task && !*task) {
        task = NULL;
    }
    char dir[PATH_MAX_LEN + 1];
    if (!gx_dir_arg(call, out, arg_str(call, "path", "."), dir, sizeof dir)) {
        return ERR_OK;
    }
    ix_view v;
    err rc;
    gx_graph *g = gx_graph_open(call, out, &v, &rc);
    if (!g) {
        return rc;
    }
    size_t n = g->n ? g->n : 1;
    double *score = xmalloc(n * sizeof(double));
    double *pr = xmalloc(n * sizeof(double));
    uint32_t *order = xmalloc(n * sizeof(uint32_t));
    if (!score || !pr || !order) {
        rc = ERR_NOMEM;
        goto out;
    }
    header(call, out, g);
    const double *r = NULL;
    if (task) {
        buf_printf(&out->text, "task: '%s'\n", task);
        if (gx_bm25_files(call, v.db, g, task, score) > 0) {
            gx_pagerank(g, score, 50, pr);
            /* the personalized rank flows toward the project's hubs, which rank high for any
             * task: weight it by its lift over the plain rank (capped at 10), so the files the
             * task raises come before those that are central anyway */
            for (uint32_t i = 0; i < g->n; i++) {
                double lift = g->rank[i] > 0 ? pr[i] / g->rank[i] : 10;
                pr[i] *= lift < 10 ? lift : 10;
            }
            r = pr;
        } else {
            buf_puts(&out->text, "(no indexed code matches the task: plain ranking)\n");
        }
    }
    uint32_t m = order_nodes(g, r, dir, order);
    buf_puts(&out->text, r ? "[relevant]\n" : "[core]\n");
    json_t *files = json_array();
    for (uint32_t i = 0; i < m && i < OVERVIEW_FILES; i++) {
        uint32_t u = order[i];
        double fr = r ? r[u] : g->rank[u];
        rsym *syms = NULL;
        int64_t ns = ranked_symbols(call, v.db, g->paths[u], fr, &syms);
        int64_t total = g->nsyms[u] > ns ? g->nsyms[u] : ns; /* all the file's symbols */
        buf_printf(&out->text, "  %s — %lld symbols", g->paths[u], (long long)total);
        json_t *names = json_array();
        int shown = 0;
        for (int64_t k = 0; k < ns && shown < 3; k++) {
            bool dup = false; /* one name per line, even when several classes define it */
            for (int64_t j = 0; j < k; j++) {
                dup = dup || strcmp(syms[j].s.name, syms[k].s.name) == 0;
            }
            if (dup) {
                continue;
            }
            buf_printf(&out->text, "%s%s", shown ? ", " : ": ", syms[k].s.name);
            json_array_append_new(names, json_string(syms[k].s.name));
            shown++;
        }
        if (total > shown) {
            buf_printf(&out->text, ", … (+%lld)", (long long)(total - shown));
        }
        buf_putc(&out->text, '\n');
        json_array_append_new(files, json_pack("{s:s, s:f, s:o}", "path", g->paths[u], "rank",
                                               round(fr * 1e6) / 1e6, "symbols", names));
    }
    /* directories: each file's parent, ranked by the sum of its files' ranks */
    dirent_r *dv = xmalloc((m ? m : 1) * sizeof *dv);
    json_t *dirs = json_array();
    if (!dv) {
        rc = ERR_NOMEM;
        json_decref(files);
        json_decref(dirs);
        goto out;
    }
    uint32_t nd = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t u = order[i];
        const char *p = g->paths[u];
        const char *slash = strrchr(p, '/');
        const char *d = slash ? arena_strndup(call->a, p, (size_t)(slash - p) + 1) : "./";
        if (!d) {
            continue;
        }
        uint32_t k = 0;
        for (; k < nd; k++) {
            if (strcmp(dv[k].dir, d) == 0) {
                break;
            }
        }
        if (k == nd) {
            if (nd >= 4096) {
                continue; /* bounded: the first 4096 directories by file rank */
            }
            dv[nd++] = (dirent_r){.dir = d, .first = i};
        }
        dv[k].rank += r ? r[u] : g->rank[u];
        dv[k].files++;
    }
    qsort(dv, nd, sizeof *dv, dir_cmp);
    buf_puts(&out->text, "[directories]\n");
    for (uint32_t k = 0; k < nd && k < OVERVIEW_DIRS; k++) {
        buf_printf(&out->text, "  %s  %u files:", dv[k].dir, dv[k].files);
        int shown = 0;
        size_t dl = strcmp(dv[k].dir, "./") == 0 ? 0 : strlen(dv[k].dir);
        for (uint32_t i = dv[k].first; i < m && shown < 3; i++) {
            const char *p = g->paths[order[i]];
            bool in = dl ? strncmp(p, dv[k].dir, dl) == 0 && !strchr(p + dl, '/') : !strchr(p, '/');
            if (in) {
                buf_printf(&out->text, " %s", base_name(p));
                shown++;
            }
        }
        if (dv[k].files > (uint32_t)shown) {
            buf_puts(&out->text, " …");
        }
        buf_putc(&out->text, '\n');
        json_array_append_new(dirs,
                              json_pack("{s:s, s:i, s:f}", "path", dv[k].dir, "files",
                                        (int)dv[k].files, "rank", round(dv[k].rank * 1e6) / 1e6));
    }
    if (nd > OVERVIEW_DIRS) {
        buf_printf(&out->text, "  (+%u more directories)\n", nd - OVERVIEW_DIRS);
    }
    xfree(dv);
    out->structured = json_pack("{s:o, s:o}", "files", files, "directories", dirs);
out:
    xfree(score);
    xfree(pr);
    xfree(order);
    gx_graph_put(g);
    index_view_close(&v);
    return rc;
}

err tool_ctx_repomap(tool_call *call, tool_out *out)
{
    char dir[PATH_MAX_LEN + 1];
    if (!gx_dir_arg(call, out, arg_str(call, "path", "."), dir, sizeof dir)) {
        return ERR_OK;
    }
    int64_t budget = arg_int(call, "max_tokens", 2048);
    /* focus globs compile before anything is opened: a bad one is the caller's error */
    json_t *focus = arg_get(call, "focus_files");
    size_t nfocus = json_is_array(focus) ? json_array_size(focus) : 0;
    glob_pat *pats[50];
    size_t np = 0;
    for (size_t i = 0; i < nfocus && i < 50; i++) {
        const char *s = json_string_value(json_array_get(focus, i));
        char why[128];
        glob_pat *gp = s ? glob_compile(s, strlen(s), why, sizeof why) : NULL;
        if (!gp) {
            for (size_t k = 0; k < np; k++) {
                glob_free(pats[k]);
            }
            return tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", s ? s : "",
                             s ? why : "not a string");
        }
        pats[np++] = gp;
    }
    ix_view v;
    err rc;
    gx_graph *g = gx_graph_open(call, out, &v, &rc);
    if (!g) {
        goto free_pats;
    }
    size_t n = g->n ? g->n : 1;
    double *tele = xmalloc(n * sizeof(double));
    double *pr = xmalloc(n * sizeof(double));
    uint32_t *order = xmalloc(n * sizeof(uint32_t));
    if (!tele || !pr || !order) {
        rc = ERR_NOMEM;
        goto out;
    }
    const double *r = NULL;
    if (np) {
        uint32_t hits = 0;
        for (uint32_t i = 0; i < g->n; i++) {
            tele[i] = 0;
            for (size_t k = 0; k < np; k++) {
                if (glob_match(pats[k], g->paths[i], strlen(g->paths[i]))) {
                    tele[i] = 1;
                    hits++;
                    break;
                }
            }
        }
        if (hits) {
            /* focus files share 90% of the teleport mass, the rest is uniform */
            for (uint32_t i = 0; i < g->n; i++) {
                tele[i] = 0.1 / g->n + (tele[i] > 0 ? 0.9 / hits : 0);
            }
            gx_pagerank(g, tele, 50, pr);
            r = pr;
        }
    }
    uint32_t m = order_nodes(g, r, dir, order);
    buf body;
    buf_init(&body, (size_t)1 << 20);
    size_t limit = (size_t)budget * 4;
    uint32_t k = 0;
    json_t *files = json_array();
    char headline[160];
    for (uint32_t i = 0; i < m; i++) {
        if (tool_expired(call)) {
            break;
        }
        uint32_t u = order[i];
        double fr = r ? r[u] : g->rank[u];
        rsym *syms = NULL;
        int64_t ns = ranked_symbols(call, v.db, g->paths[u], fr, &syms);
        if (ns == 0) {
            continue; /* no symbols: nothing to map */
        }
        size_t mark = body.len;
        buf_printf(&body, "%s:\n", g->paths[u]);
        json_t *sj = json_array();
        for (int64_t s = 0; s < ns && s < REPOMAP_SYMS; s++) {
            ix_sym one = syms[s].s;
            ixt_sig_line(&body, &one, 1);
            buf_putc(&body, '\n');
            json_array_append_new(sj, json_pack("{s:s, s:I, s:f}", "name", one.name, "line",
                                                (json_int_t)one.start_line, "rank",
                                                round(syms[s].rank * 1e9) / 1e9));
        }
        /* the header line's length is bounded: count it as its worst case */
        snprintf(headline, sizeof headline, "repomap: %lld tok, %u of %u files (PageRank)\n",
                 (long long)budget, m, m);
        if (body.len + strlen(headline) > limit) {
            buf_truncate(&body, mark);
            json_decref(sj);
            break;
        }
        json_array_append_new(files, json_pack("{s:s, s:f, s:o}", "path", g->paths[u], "rank",
                                               round(fr * 1e6) / 1e6, "symbols", sj));
        k++;
    }
    buf_printf(&out->text, "repomap: %lld tok, %u of %u files (PageRank)\n", (long long)budget, k,
               m);
    buf_append(&out->text, body.ptr ? body.ptr : "", body.len);
    if (r == NULL && np) {
        buf_puts(&out->text, "(no file matches focus_files: plain ranking)\n");
    }
    if (body.failed) {
        rc = ERR_NOMEM;
    }
    buf_release(&body);
    out->structured = json_pack("{s:I, s:i, s:i, s:o}", "budget", (json_int_t)budget, "shown",
                                (int)k, "files_total", (int)m, "files", files);
out:
    xfree(tele);
    xfree(pr);
    xfree(order);
    gx_graph_put(g);
    index_view_close(&v);
free_pats:
    for (size_t i = 0; i < np; i++) {
        glob_free(pats[i]);
    }
    return rc;
}

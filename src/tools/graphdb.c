/* graphdb.c - the code graph the graph tools share (see graphdb.h).
 *
 * The file graph is built from three queries (files, resolved imports, calls whose callee has a
 * single callable definition in another file, aggregated per file pair) into CSR arrays that
 * live in the graph's own arena. A cache of GX_SLOTS graphs, keyed by tenant + workspace, holds
 * the newest generation of each; a request takes a reference, so a graph replaced by a newer
 * generation is freed only when its last reader puts it back. */
#include "tools/graphdb.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "tools/common.h"
#include "tools/ixtools.h"
#include "ws/path.h"

sqlite3_stmt *gx_prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("graph query failed to prepare: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int64_t gx_scalar(sqlite3 *db, const char *sql, int64_t def)
{
    sqlite3_stmt *st = gx_prep(db, sql);
    int64_t v = def;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

int64_t gx_file_id(sqlite3 *db, const char *relpath)
{
    sqlite3_stmt *st = gx_prep(db, "SELECT id FROM files WHERE path = ?1");
    int64_t id = -1;
    if (st) {
        sqlite3_bind_text(st, 1, relpath, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            id = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    return id;
}

const char *gx_col(arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t) {
        return "";
    }
    char *s = arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, col));
    return s ? s : "";
}

/* ---- the file graph ---- */

#define GX_SLOTS 8

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static gx_graph *cache[GX_SLOTS];
static uint64_t cache_used[GX_SLOTS];
static uint64_t cache_tick;

static void graph_free(gx_graph *g)
{
    arena_release(&g->mem);
    xfree(g);
}

void gx_graph_put(gx_graph *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1) {
        graph_free(g);
    }
}

typedef struct pair {
    uint32_t a, b, w;
} pair;

static int pair_cmp(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->a != q->a) {
        return p->a < q->a ? -1 : 1;
    }
    return p->b < q->b ? -1 : p->b > q->b;
}

static int id_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

uint32_t gx_node_of_id(const gx_graph *g, int64_t id)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->sorted_ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < g->n && g->sorted_ids[lo] == id ? g->sorted_nodes[lo] : UINT32_MAX;
}

uint32_t gx_node_of_path(const gx_graph *g, const char *relpath)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(g->paths[mid], relpath);
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < g->n && strcmp(g->paths[lo], relpath) == 0 ? (uint32_t)lo : UINT32_MAX;
}

/* sort, merge duplicates (summing weights), build forward and reverse CSR */
static bool build_csr(gx_graph *g, pair *e, size_t ne, uint32_t **off, uint32_t **adj, uint32_t **w,
                      uint32_t **roff, uint32_t **radj, int64_t *count)
{
    if (ne) {
        qsort(e, ne, sizeof *e, pair_cmp);
    }
    size_t m = 0;
    for (size_t i = 0; i < ne; i++) {
        if (m > 0 && e[m - 1].a == e[i].a && e[m - 1].b == e[i].b) {
            e[m - 1].w += e[i].w;
        } else {
            e[m++] = e[i];
        }
    }
    *count = (int64_t)m;
    uint32_t n = g->n;
    *off = arena_alloc(&g->mem, (n + 1) * sizeof(uint32_t));
    *roff = arena_alloc(&g->mem, (n + 1) * sizeof(uint32_t));
    *adj = arena_alloc(&g->mem, (m ? m : 1) * sizeof(uint32_t));
    *radj = arena_alloc(&g->mem, (m ? m : 1) * sizeof(uint32_t));
    if (w) {
        *w = arena_alloc(&g->mem, (m ? m : 1) * sizeof(uint32_t));
    }
    if (!*off || !*roff || !*adj || !*radj || (w && !*w)) {
        return false;
    }
    memset(*off, 0, (n + 1) * sizeof(uint32_t));
    memset(*roff, 0, (n + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < m; i++) {
        (*off)[e[i].a + 1]++;
        (*roff)[e[i].b + 1]++;
    }
    for (uint32_t i = 0; i < n; i++) {
        (*off)[i + 1] += (*off)[i];
        (*roff)[i + 1] += (*roff)[i];
    }
    /* e is sorted by (a, b): forward lists come out sorted; reverse lists are filled in order
     * of a, so they are sorted too */
    uint32_t *fill = xcalloc(n + 1, sizeof(uint32_t));
    if (!fill) {
        return false;
    }
    for (size_t i = 0; i < m; i++) {
        (*adj)[i] = e[i].b;
        if (w) {
            (*w)[i] = e[i].w;
        }
        uint32_t b = e[i].b;
        (*radj)[(*roff)[b] + fill[b]++] = e[i].a;
    }
    xfree(fill);
    return true;
}

static bool push_pair(pair **v, size_t *n, size_t *cap, pair p)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        pair *nv = xrealloc(*v, nc * sizeof *nv);
        if (!nv) {
            return false;
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = p;
    return true;
}

/* st's rows (a files.id, another files.id, with `weighted` a count) as edges between g's nodes
 * into e: files not in g and self edges left out, the weight the count capped at 1,000,000 or
 * else 1. Finalizes st and returns its code (SQLITE_INTERRUPT when a progress handler stopped
 * it), or -1 when the call ran past its deadline or memory ran out. */
static int read_pairs(tool_call *call, const gx_graph *g, sqlite3_stmt *st, bool weighted,
                      long *rows, pair **e, size_t *ne, size_t *cap)
{
    while (sqlite3_step(st) == SQLITE_ROW) {
        if ((++*rows & 4095) == 0 && tool_expired(call)) {
            sqlite3_finalize(st);
            return -1;
        }
        uint32_t a = gx_node_of_id(g, sqlite3_column_int64(st, 0));
        uint32_t b = gx_node_of_id(g, sqlite3_column_int64(st, 1));
        int64_t w = weighted ? sqlite3_column_int64(st, 2) : 1;
        if (a != UINT32_MAX && b != UINT32_MAX && a != b &&
            !push_pair(e, ne, cap, (pair){a, b, w > 1000000 ? 1000000 : (uint32_t)w})) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    return sqlite3_finalize(st);
}

/* SQLite's progress handler: a long query (the call-edge aggregation on a kernel-sized index)
 * stops at the call's deadline or at its own budget instead of running past them */
typedef struct budget {
    tool_call *call;
    int64_t until_ns; /* 0: the call's deadline only */
} budget;

static int over_budget(void *ctx)
{
    budget *b = ctx;
    return tool_expired(b->call) || (b->until_ns && clock_mono_ns() > b->until_ns);
}

#define CALL_EDGES_BUDGET_NS ((int64_t)8 * 1000000000) /* then the graph has import edges only */

static gx_graph *graph_load(tool_call *call, sqlite3 *db, int64_t generation)
{
    gx_graph *g = xcalloc(1, sizeof *g);
    if (!g) {
        return NULL;
    }
    arena_init(&g->mem, (size_t)2 << 30);
    atomic_init(&g->refs, 1);
    g->generation = generation;
    pair *e = NULL;
    size_t ne = 0, cap = 0;
    bool ok = false;
    int64_t nfiles = gx_scalar(db, "SELECT COUNT(*) FROM files", -1);
    if (nfiles < 0 || nfiles > 50000000) {
        goto out;
    }
    g->n = (uint32_t)nfiles;
    size_t n = g->n ? g->n : 1;
    g->ids = arena_alloc(&g->mem, n * sizeof(int64_t));
    g->paths = arena_alloc(&g->mem, n * sizeof(char *));
    g->langs = arena_alloc(&g->mem, n * sizeof(char *));
    g->lines = arena_alloc(&g->mem, n * sizeof(int32_t));
    g->nsyms = arena_alloc(&g->mem, n * sizeof(int32_t));
    g->rank = arena_alloc(&g->mem, n * sizeof(double));
    g->sorted_ids = arena_alloc(&g->mem, n * 2 * sizeof(int64_t));
    g->sorted_nodes = arena_alloc(&g->mem, n * sizeof(uint32_t));
    if (!g->ids || !g->paths || !g->langs || !g->lines || !g->nsyms || !g->rank || !g->sorted_ids ||
        !g->sorted_nodes) {
        goto out;
    }
    budget bud = {.call = call};
    sqlite3_progress_handler(db, 20000, over_budget, &bud);
    sqlite3_stmt *st =
        gx_prep(db, "SELECT id, path, lines, n_symbols, lang FROM files ORDER BY path");
    if (!st) {
        goto out;
    }
    uint32_t i = 0;
    while (i < g->n && sqlite3_step(st) == SQLITE_ROW) {
        g->ids[i] = sqlite3_column_int64(st, 0);
        g->paths[i] = gx_col(&g->mem, st, 1);
        g->lines[i] = sqlite3_column_int(st, 2);
        g->nsyms[i] = sqlite3_column_int(st, 3);
        g->langs[i] = gx_col(&g->mem, st, 4);
        i++;
    }
    int rc = sqlite3_finalize(st);
    if (rc == SQLITE_INTERRUPT || tool_expired(call)) {
        goto out;
    }
    g->n = i;
    /* id → node: pairs (id, node) sorted by id, stored as two arrays */
    int64_t *tmp = g->sorted_ids; /* 2n scratch: (id, node) interleaved */
    for (uint32_t k = 0; k < g->n; k++) {
        tmp[2 * k] = g->ids[k];
        tmp[2 * k + 1] = k;
    }
    qsort(tmp, g->n, 2 * sizeof(int64_t), id_cmp);
    for (uint32_t k = 0; k < g->n; k++) {
        g->sorted_nodes[k] = (uint32_t)tmp[2 * k + 1];
        tmp[k] = tmp[2 * k];
    }
    st = gx_prep(db, "SELECT file_id, resolved_id FROM imports WHERE resolved_id IS NOT NULL");
    if (!st) {
        goto out;
    }
    long rows = 0;
    int fin = read_pairs(call, g, st, false, &rows, &e, &ne, &cap);
    if (fin < 0 || fin == SQLITE_INTERRUPT) {
        goto out;
    }
    if (!build_csr(g, e, ne, &g->imp_off, &g->imp, NULL, &g->impby_off, &g->impby, &g->n_imports)) {
        goto out;
    }
    ne = 0;
    /* file-level call edges: callees with exactly one callable definition with a body (a
     * header's prototype does not count), in another file. Bounded by its own budget: past it
     * the graph keeps its import edges and says so (calls_partial). */
    bud.until_ns = clock_mono_ns() + CALL_EDGES_BUDGET_NS;
    st = gx_prep(db, "WITH u AS (SELECT name, MIN(file_id) AS fid FROM symbols WHERE kind IN "
                     "(" GX_CALLABLE_KINDS ") AND NOT " GX_DECL " GROUP BY name "
                     "HAVING COUNT(*) = 1) "
                     "SELECT c.file_id, u.fid, COUNT(*) FROM calls c JOIN u ON u.name = c.callee "
                     "WHERE c.file_id != u.fid GROUP BY c.file_id, u.fid");
    if (!st) {
        goto out;
    }
    fin = read_pairs(call, g, st, true, &rows, &e, &ne, &cap);
    if (fin < 0) {
        goto out;
    }
    if (fin == SQLITE_INTERRUPT) {
        if (tool_expired(call)) {
            goto out;
        }
        ne = 0; /* over the budget, not the deadline: import edges only */
        g->calls_partial = true;
        log_warn("graph of '%s': call edges left out (their aggregation took over %d s)",
                 call->ws->id, (int)(CALL_EDGES_BUDGET_NS / 1000000000));
    }
    if (!build_csr(g, e, ne, &g->call_off, &g->call, &g->callw, &g->callby_off, &g->callby,
                   &g->n_calls)) {
        goto out;
    }
    double *tele = xmalloc(n * sizeof(double));
    if (!tele) {
        goto out;
    }
    for (uint32_t k = 0; k < g->n; k++) {
        tele[k] = 1.0;
    }
    gx_pagerank(g, tele, 30, g->rank);
    xfree(tele);
    ok = true;
out:
    sqlite3_progress_handler(db, 0, NULL, NULL); /* the connection outlives this call */
    xfree(e);
    if (!ok) {
        graph_free(g);
        return NULL;
    }
    return g;
}

gx_graph *gx_graph_get(tool_call *call, ix_view *v)
{
    if (!v->db) {
        return NULL;
    }
    char key[256];
    snprintf(key, sizeof key, "%s\x1f%s", call->ws->tenant ? call->ws->tenant : "", call->ws->id);
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < GX_SLOTS; i++) {
        gx_graph *c = cache[i];
        if (c && c->generation == v->generation && strcmp(c->key, key) == 0) {
            atomic_fetch_add(&c->refs, 1);
            cache_used[i] = ++cache_tick;
            pthread_mutex_unlock(&cache_mu);
            return c;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    /* load outside the lock (two callers may load the same generation at once; the second
     * one's graph replaces the first in the cache, both are correct) */
    gx_graph *g = graph_load(call, v->db, v->generation);
    if (!g) {
        return NULL;
    }
    snprintf(g->key, sizeof g->key, "%s", key);
    pthread_mutex_lock(&cache_mu);
    int slot = -1;
    for (int i = 0; i < GX_SLOTS; i++) {
        if (cache[i] && strcmp(cache[i]->key, key) == 0) {
            slot = i; /* an older generation (or a racing load) of this workspace */
            break;
        }
    }
    if (slot < 0) {
        uint64_t oldest = UINT64_MAX;
        for (int i = 0; i < GX_SLOTS; i++) {
            if (!cache[i]) {
                slot = i;
                break;
            }
            if (cache_used[i] < oldest) {
                oldest = cache_used[i];
                slot = i;
            }
        }
    }
    gx_graph *old = cache[slot];
    cache[slot] = g;
    cache_used[slot] = ++cache_tick;
    atomic_fetch_add(&g->refs, 1); /* the cache's reference */
    pthread_mutex_unlock(&cache_mu);
    gx_graph_put(old);
    return g;
}

gx_graph *gx_graph_need(tool_call *call, ix_view *v, err *rc)
{
    gx_graph *g = gx_graph_get(call, v);
    *rc = ERR_OK;
    if (!g) {
        index_view_close(v);
        *rc = tool_expired(call) ? ERR_CANCELLED : ERR_NOMEM;
    }
    return g;
}

gx_graph *gx_graph_open(tool_call *call, tool_out *out, ix_view *v, err *rc)
{
    if (!ixt_open(call, out, v)) {
        *rc = ERR_OK;
        return NULL;
    }
    return gx_graph_need(call, v, rc);
}

uint32_t gx_bfs(const gx_graph *g, uint32_t from, bool reverse, int max_depth, int32_t *dist)
{
    for (uint32_t i = 0; i < g->n; i++) {
        dist[i] = -1;
    }
    uint32_t *q = xmalloc((g->n ? g->n : 1) * sizeof(uint32_t));
    if (!q) {
        return 0;
    }
    const uint32_t *off = reverse ? g->impby_off : g->imp_off;
    const uint32_t *adj = reverse ? g->impby : g->imp;
    size_t head = 0, tail = 0;
    dist[from] = 0;
    q[tail++] = from;
    uint32_t reached = 0;
    while (head < tail) {
        uint32_t u = q[head++];
        if (dist[u] >= max_depth) {
            continue;
        }
        for (uint32_t k = off[u]; k < off[u + 1]; k++) {
            uint32_t w = adj[k];
            if (dist[w] < 0) {
                dist[w] = dist[u] + 1;
                q[tail++] = w;
                reached++;
            }
        }
    }
    xfree(q);
    return reached;
}

int gx_import_path(const gx_graph *g, uint32_t a, uint32_t b, int max_depth, uint32_t *path)
{
    int32_t *dist = xmalloc((g->n ? g->n : 1) * sizeof(int32_t));
    uint32_t *prev = xmalloc((g->n ? g->n : 1) * sizeof(uint32_t));
    uint32_t *q = xmalloc((g->n ? g->n : 1) * sizeof(uint32_t));
    int len = 0;
    if (!dist || !prev || !q) {
        goto out;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        dist[i] = -1;
    }
    size_t head = 0, tail = 0;
    dist[a] = 0;
    q[tail++] = a;
    while (head < tail && dist[b] < 0) {
        uint32_t u = q[head++];
        if (dist[u] >= max_depth) {
            continue;
        }
        for (uint32_t k = g->imp_off[u]; k < g->imp_off[u + 1]; k++) {
            uint32_t w = g->imp[k];
            if (dist[w] < 0) {
                dist[w] = dist[u] + 1;
                prev[w] = u;
                q[tail++] = w;
            }
        }
    }
    if (dist[b] > 0) {
        len = dist[b] + 1;
        uint32_t u = b;
        for (int i = len - 1; i >= 0; i--) {
            path[i] = u;
            u = prev[u];
        }
    }
out:
    xfree(dist);
    xfree(prev);
    xfree(q);
    return len;
}

void gx_pagerank(const gx_graph *g, const double *tele, int iters, double *rank)
{
    uint32_t n = g->n;
    if (n == 0) {
        return;
    }
    double tsum = 0;
    for (uint32_t i = 0; i < n; i++) {
        tsum += tele[i];
    }
    double *t = xmalloc(n * sizeof(double));
    double *next = xmalloc(n * sizeof(double));
    double *outw = xmalloc(n * sizeof(double));
    if (!t || !next || !outw) {
        xfree(t);
        xfree(next);
        xfree(outw);
        for (uint32_t i = 0; i < n; i++) {
            rank[i] = 1.0 / n;
        }
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        t[i] = tsum > 0 ? tele[i] / tsum : 1.0 / n;
        rank[i] = t[i];
    }
    /* edge weight: an import counts 1, a call relation log2(1 + call sites) */
    for (uint32_t u = 0; u < n; u++) {
        double w = (double)(g->imp_off[u + 1] - g->imp_off[u]);
        for (uint32_t k = g->call_off[u]; k < g->call_off[u + 1]; k++) {
            w += log2(1.0 + g->callw[k]);
        }
        outw[u] = w;
    }
    const double d = 0.85;
    for (int it = 0; it < iters; it++) {
        double dangling = 0;
        for (uint32_t i = 0; i < n; i++) {
            next[i] = 0;
            if (outw[i] <= 0) {
                dangling += rank[i];
            }
        }
        for (uint32_t u = 0; u < n; u++) {
            if (outw[u] <= 0) {
                continue;
            }
            double share = rank[u] / outw[u];
            for (uint32_t k = g->imp_off[u]; k < g->imp_off[u + 1]; k++) {
                next[g->imp[k]] += share;
            }
            for (uint32_t k = g->call_off[u]; k < g->call_off[u + 1]; k++) {
                next[g->call[k]] += share * log2(1.0 + g->callw[k]);
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            rank[i] = (1 - d) * t[i] + d * (next[i] + dangling * t[i]);
        }
    }
    xfree(t);
    xfree(next);
    xfree(outw);
}

const char *gx_fts_query(arena *a, const char *query, const char **keywords)
{
    buf toks;
    buf_init(&toks, 64 * 1024);
    index_tokenize(query, strlen(query), &toks);
    buf q, kw;
    buf_init(&q, 128 * 1024);
    buf_init(&kw, 64 * 1024);
    const char *p = toks.ptr ? toks.ptr : "";
    int nt = 0;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        const char *s = p;
        while (*p && *p != ' ') {
            p++;
        }
        if (p == s) {
            break;
        }
        /* tokens are [a-z0-9_]: quoting keeps FTS5 from reading one as an operator */
        bool dup = false;
        size_t tl = (size_t)(p - s);
        for (const char *k = kw.ptr; k && *k;) {
            const char *e = strstr(k, ", ");
            size_t kl = e ? (size_t)(e - k) : strlen(k);
            if (kl == tl && memcmp(k, s, tl) == 0) {
                dup = true;
                break;
            }
            k = e ? e + 2 : k + kl;
        }
        if (dup || nt >= 64) {
            continue;
        }
        buf_printf(&q, "%s\"%.*s\"", nt ? " OR " : "", (int)tl, s);
        buf_printf(&kw, "%s%.*s", nt ? ", " : "", (int)tl, s);
        nt++;
    }
    const char *r = arena_strdup(a, q.ptr && !q.failed ? q.ptr : "");
    if (keywords) {
        *keywords = arena_strdup(a, kw.ptr && !kw.failed ? kw.ptr : "");
    }
    buf_release(&toks);
    buf_release(&q);
    buf_release(&kw);
    return r ? r : "";
}

uint32_t gx_bm25_files(tool_call *call, sqlite3 *db, const gx_graph *g, const char *query,
                       double *score)
{
    for (uint32_t i = 0; i < g->n; i++) {
        score[i] = 0;
    }
    const char *fq = gx_fts_query(call->a, query, NULL);
    if (!*fq) {
        return 0;
    }
    sqlite3_stmt *st = gx_prep(db, "SELECT c.file_id, -bm25(chunks_fts) AS s FROM chunks_fts "
                                   "JOIN chunks c ON c.id = chunks_fts.rowid "
                                   "WHERE chunks_fts MATCH ?1 ORDER BY rank LIMIT 400");
    if (!st) {
        return 0;
    }
    sqlite3_bind_text(st, 1, fq, -1, SQLITE_STATIC);
    uint32_t hit = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t u = gx_node_of_id(g, sqlite3_column_int64(st, 0));
        double s = sqlite3_column_double(st, 1);
        if (u == UINT32_MAX || !(s > 0)) {
            continue;
        }
        if (score[u] == 0) {
            hit++;
        }
        score[u] += s;
    }
    sqlite3_finalize(st);
    return hit;
}

static bool seg_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

bool gx_is_test_path(const char *relpath)
{
    const char *p = relpath;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (e) {
            if (seg_is(p, n, "test") || seg_is(p, n, "tests") || seg_is(p, n, "spec") ||
                seg_is(p, n, "__tests__") || seg_is(p, n, "testing")) {
                return true;
            }
            p = e + 1;
            continue;
        }
        /* the file name */
        if (strncmp(p, "test_", 5) == 0 || strstr(p, "_test.") || strstr(p, ".test.") ||
            strstr(p, ".spec.") || strstr(p, "_spec.") || strstr(p, "Test.") ||
            strstr(p, "Tests.")) {
            return true;
        }
        break;
    }
    return false;
}

bool gx_under(const char *path, const char *dir)
{
    if (!dir || !*dir || strcmp(dir, ".") == 0) {
        return true;
    }
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/') {
        n--;
    }
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void gx_age(int64_t unix_s, char out[24])
{
    if (unix_s <= 0) {
        snprintf(out, 24, "never");
        return;
    }
    int64_t d = (int64_t)time(NULL) - unix_s;
    if (d < 0) {
        d = 0;
    }
    if (d < 120) {
        snprintf(out, 24, "%llds", (long long)d);
    } else if (d < 7200) {
        snprintf(out, 24, "%lldm", (long long)(d / 60));
    } else if (d < 172800) {
        snprintf(out, 24, "%lldh", (long long)(d / 3600));
    } else {
        snprintf(out, 24, "%lldd", (long long)(d / 86400));
    }
}

void gx_status_line(tool_call *call, buf *out)
{
    ix_status st;
    memset(&st, 0, sizeof st);
    index_status(call->cfg, call->ws, &st);
    char age[24];
    gx_age(st.built_at, age);
    buf_puts(out, "graph: ");
    switch (st.state) {
    case IX_READY: buf_puts(out, "ready"); break;
    case IX_BUILDING:
        buf_printf(out, "building %d%%", st.total > 0 ? (int)(st.done * 100 / st.total) : 0);
        break;
    case IX_STALE: buf_printf(out, "stale %lld files", (long long)st.pending); break;
    default: buf_puts(out, "absent"); break;
    }
    buf_printf(out, "; %lld files, %lld symbols, %lld import edges, %lld call edges; ",
               (long long)st.files, (long long)st.symbols, (long long)st.imports,
               (long long)st.calls);
    if (st.built_at > 0) {
        buf_printf(out, "built %s ago\n", age);
    } else {
        buf_puts(out, "never built\n");
    }
}

err gx_bad_arg(tool_out *out, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_truncate(&out->text, 0);
    buf_puts(&out->text, msg);
    return ERR_INVALID_ARGUMENTS;
}

bool gx_dir_arg(tool_call *call, tool_out *out, const char *p, char *rel, size_t cap)
{
    if (!p) {
        p = ".";
    }
    if (!tool_path_arg(call, out, p, strlen(p), rel, cap)) {
        return false;
    }
    if (!*rel) {
        return true;
    }
    path_status st = PATH_OK;
    int fd = path_open(call->ws->root_fd, call->ws->root_real, rel, O_RDONLY | O_DIRECTORY, &st);
    if (fd < 0) {
        tool_path_error(out, st == PATH_IO ? PATH_NOT_DIR : st, rel);
        return false;
    }
    close(fd);
    return true;
}

/* architecture.c - ctx_architecture: module-level structure from the file graph, without reading
 * files (tools.md §3.6).
 *
 * Modules are the directories at the first depth where the tree splits into >= 3 directories
 * (files above that depth form the module of their own directory). Clusters come from label
 * propagation on the undirected file import graph (nodes visited in path order, ties to the
 * smallest label, at most 20 rounds: deterministic). Cycles are the strongly connected
 * components (Tarjan, iterative) of the file import graph, each shown as its shortest cycle
 * through its first file. Layers are longest-path layers of the module graph after collapsing
 * its strongly connected components; imports inside such a component point "upward" and are the
 * violations. Everything reads the cached graph, so the cost is linear in files + edges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tools/common.h"
#include "tools/graphdb.h"
#include "tools/graphtools.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_architecture_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"overview\",\"clusters\",\"communities\","
    "\"layers\",\"cycles\",\"entrypoints\",\"hotspots\",\"health\",\"module\"],"
    "\"default\":\"overview\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"module directory "
    "(module)\"},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"text\",\"json\"],\"default\":\"text\"},"
    "\"root\":{\"type\":\"string\",\"maxLength\":4096}}}";

#define MAX_CYCLES 20
#define MAX_LIST 20
#define MAX_MODULES 512 /* the module graph is a dense matrix */

typedef struct arch {
    tool_call *call;
    const gx_graph *g;
    int depth;             /* module depth */
    uint32_t nm;           /* modules */
    const char **mod_name; /* "src/auth/" or "./" */
    uint32_t *mod_of;      /* per file */
    uint32_t *mod_files;   /* per module */
    int64_t *mod_syms;     /* per module */
    /* module graph: counts of file imports between modules, dense nm x nm when small */
    uint32_t *medge; /* nm*nm */
    /* file SCCs */
    uint32_t *scc; /* component id per file */
    uint32_t nscc;
    uint32_t *scc_size;
} arch;

/* the directory prefix of p with `depth` components ("a/b/"), or its own dir if shallower */
static const char *module_key(arena *a, const char *p, int depth)
{
    const char *s = p;
    int d = 0;
    const char *last = NULL;
    while (d < depth) {
        const char *e = strchr(s, '/');
        if (!e) {
            break;
        }
        last = e;
        s = e + 1;
        d++;
    }
    return last ? arena_strndup(a, p, (size_t)(last - p) + 1) : "./";
}

static int pick_depth(arena *a, const gx_graph *g)
{
    int best = 1;
    uint32_t best_n = 0;
    for (int d = 1; d <= 8; d++) {
        /* distinct directory prefixes with exactly d components */
        const char *prev = NULL;
        uint32_t n = 0;
        for (uint32_t i = 0; i < g->n; i++) {
            const char *p = g->paths[i];
            int slashes = 0;
            for (const char *c = p; *c; c++) {
                slashes += *c == '/';
            }
            if (slashes < d) {
                continue;
            }
            const char *k = module_key(a, p, d);
            if (!k) {
                return 1;
            }
            if (!prev || strcmp(prev, k) != 0) { /* paths are sorted: prefixes are grouped */
                n++;
                prev = k;
            }
        }
        if (n >= 3) {
            return d;
        }
        if (n > best_n) {
            best_n = n;
            best = d;
        }
        if (n == 0) {
            break;
        }
    }
    return best;
}

static bool arch_init(arch *A, tool_call *call, const gx_graph *g)
{
    memset(A, 0, sizeof *A);
    A->call = call;
    A->g = g;
    arena *a = call->a;
    A->depth = pick_depth(a, g);
    size_t n = g->n ? g->n : 1;
    A->mod_of = arena_alloc(a, n * sizeof(uint32_t));
    A->mod_name = arena_alloc(a, n * sizeof(char *));
    if (!A->mod_of || !A->mod_name) {
        return false;
    }
    /* modules in order of first appearance in path order = sorted by name except "./" */
    for (uint32_t i = 0; i < g->n; i++) {
        const char *k = module_key(a, g->paths[i], A->depth);
        if (!k) {
            return false;
        }
        uint32_t m = 0;
        for (; m < A->nm; m++) {
            if (strcmp(A->mod_name[m], k) == 0) {
                break;
            }
        }
        if (m == A->nm) {
            if (A->nm >= MAX_MODULES) {
                m = A->nm - 1; /* bounded: a flat tree of more dirs folds into the last */
            } else {
                A->mod_name[A->nm++] = k;
            }
        }
        A->mod_of[i] = m;
    }
    size_t nm = A->nm ? A->nm : 1;
    A->mod_files = arena_alloc(a, nm * sizeof(uint32_t));
    A->mod_syms = arena_alloc(a, nm * sizeof(int64_t));
    A->medge = arena_alloc(a, nm * nm * sizeof(uint32_t));
    if (!A->mod_files || !A->mod_syms || !A->medge) {
        return false;
    }
    memset(A->mod_files, 0, nm * sizeof(uint32_t));
    memset(A->mod_syms, 0, nm * sizeof(int64_t));
    memset(A->medge, 0, nm * nm * sizeof(uint32_t));
    for (uint32_t i = 0; i < g->n; i++) {
        A->mod_files[A->mod_of[i]]++;
        A->mod_syms[A->mod_of[i]] += g->nsyms[i];
        for (uint32_t k = g->imp_off[i]; k < g->imp_off[i + 1]; k++) {
            uint32_t a1 = A->mod_of[i], b1 = A->mod_of[g->imp[k]];
            if (a1 != b1) {
                A->medge[(size_t)a1 * nm + b1]++;
            }
        }
    }
    return true;
}

/* Tarjan's SCC, iterative, over the file import graph */
static bool tarjan(arch *A)
{
    const gx_graph *g = A->g;
    size_t n = g->n ? g->n : 1;
    arena *a = A->call->a;
    int64_t *index = arena_alloc(a, n * sizeof(int64_t));
    int64_t *low = arena_alloc(a, n * sizeof(int64_t));
    bool *on = arena_alloc(a, n * sizeof(bool));
    uint32_t *stack = arena_alloc(a, n * sizeof(uint32_t));
    uint32_t *cs_node = arena_alloc(a, n * sizeof(uint32_t));
    uint32_t *cs_edge = arena_alloc(a, n * sizeof(uint32_t));
    A->scc = arena_alloc(a, n * sizeof(uint32_t));
    A->scc_size = arena_alloc(a, n * sizeof(uint32_t));
    if (!index || !low || !on || !stack || !cs_node || !cs_edge || !A->scc || !A->scc_size) {
        return false;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        index[i] = -1;
        on[i] = false;
    }
    int64_t next = 0;
    size_t sp = 0;
    A->nscc = 0;
    for (uint32_t s = 0; s < g->n; s++) {
        if (index[s] >= 0) {
            continue;
        }
        size_t cp = 0;
        cs_node[cp] = s;
        cs_edge[cp++] = g->imp_off[s];
        index[s] = low[s] = next++;
        stack[sp++] = s;
        on[s] = true;
        while (cp) {
            uint32_t v = cs_node[cp - 1];
            if (cs_edge[cp - 1] < g->imp_off[v + 1]) {
                uint32_t w = g->imp[cs_edge[cp - 1]++];
                if (index[w] < 0) {
                    index[w] = low[w] = next++;
                    stack[sp++] = w;
                    on[w] = true;
                    cs_node[cp] = w;
                    cs_edge[cp++] = g->imp_off[w];
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            if (low[v] == index[v]) {
                uint32_t size = 0, w;
                do {
                    w = stack[--sp];
                    on[w] = false;
                    A->scc[w] = A->nscc;
                    size++;
                } while (w != v);
                A->scc_size[A->nscc++] = size;
            }
            cp--;
            if (cp) {
                uint32_t parent = cs_node[cp - 1];
                if (low[v] < low[parent]) {
                    low[parent] = low[v];
                }
            }
        }
    }
    return true;
}

/* the shortest cycle through s inside its component, as node list (returns length, 0 none) */
static int shortest_cycle(const arch *A, uint32_t s, uint32_t *out, int cap)
{
    const gx_graph *g = A->g;
    size_t n = g->n;
    int32_t *dist = xmalloc(n * sizeof(int32_t));
    uint32_t *prev = xmalloc(n * sizeof(uint32_t));
    uint32_t *q = xmalloc(n * sizeof(uint32_t));
    int len = 0;
    if (!dist || !prev || !q) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        dist[i] = -1;
    }
    size_t head = 0, tail = 0;
    dist[s] = 0;
    q[tail++] = s;
    uint32_t last = UINT32_MAX;
    while (head < tail && last == UINT32_MAX) {
        uint32_t u = q[head++];
        for (uint32_t k = g->imp_off[u]; k < g->imp_off[u + 1]; k++) {
            uint32_t w = g->imp[k];
            if (A->scc[w] != A->scc[s]) {
                continue;
            }
            if (w == s) {
                last = u;
                break;
            }
            if (dist[w] < 0) {
                dist[w] = dist[u] + 1;
                prev[w] = u;
                q[tail++] = w;
            }
        }
    }
    if (last != UINT32_MAX && dist[last] + 1 < cap) {
        len = dist[last] + 1;
        uint32_t u = last;
        for (int i = len - 1; i >= 0; i--) {
            out[i] = u;
            u = prev[u];
        }
    }
out:
    xfree(dist);
    xfree(prev);
    xfree(q);
    return len;
}

static uint32_t list_cycles(const arch *A, buf *t, json_t *arr, int max)
{
    const gx_graph *g = A->g;
    uint32_t found = 0;
    bool *done = xcalloc(A->nscc ? A->nscc : 1, sizeof(bool));
    uint32_t cyc[64];
    if (!done) {
        return 0;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        uint32_t c = A->scc[i];
        if (A->scc_size[c] < 2 || done[c]) {
            continue;
        }
        done[c] = true;
        found++;
        if ((int)found > max) {
            continue;
        }
        int len = shortest_cycle(A, i, cyc, 64);
        json_t *one = json_array();
        if (t) {
            buf_puts(t, "  ");
        }
        for (int k = 0; k < len; k++) {
            if (t) {
                buf_printf(t, "%s → ", g->paths[cyc[k]]);
            }
            json_array_append_new(one, json_string(g->paths[cyc[k]]));
        }
        if (t) {
            buf_printf(t, "%s", g->paths[i]);
            if (A->scc_size[c] > (uint32_t)len) {
                buf_printf(t, "  (component of %u files)", A->scc_size[c]);
            }
            buf_putc(t, '\n');
        }
        if (arr) {
            json_array_append_new(
                arr, json_pack("{s:o, s:i}", "cycle", one, "size", (int)A->scc_size[c]));
        } else {
            json_decref(one);
        }
    }
    xfree(done);
    return found;
}

/* module layers: longest path to a sink over the module graph with SCCs collapsed (small:
 * modules are few, a quadratic pass is fine) */
static void module_layers(const arch *A, int *layer, uint32_t *mscc)
{
    uint32_t nm = A->nm;
    /* module SCC by reachability (Floyd–Warshall style closure; nm <= 4096 but usually tens) */
    size_t cells = (size_t)nm * nm;
    bool *reach = xcalloc(cells ? cells : 1, sizeof(bool));
    if (!reach) {
        for (uint32_t m = 0; m < nm; m++) {
            layer[m] = 0;
            mscc[m] = m;
        }
        xfree(reach);
        return;
    }
    for (uint32_t a1 = 0; a1 < nm; a1++) {
        for (uint32_t b = 0; b < nm; b++) {
            reach[(size_t)a1 * nm + b] = A->medge[(size_t)a1 * nm + b] > 0;
        }
    }
    for (uint32_t k = 0; k < nm; k++) {
        for (uint32_t i = 0; i < nm; i++) {
            if (!reach[(size_t)i * nm + k]) {
                continue;
            }
            for (uint32_t j = 0; j < nm; j++) {
                reach[(size_t)i * nm + j] |= reach[(size_t)k * nm + j];
            }
        }
    }
    for (uint32_t m = 0; m < nm; m++) {
        mscc[m] = m;
        for (uint32_t o = 0; o < m; o++) {
            if (reach[(size_t)m * nm + o] && reach[(size_t)o * nm + m]) {
                mscc[m] = mscc[o];
                break;
            }
        }
        layer[m] = 0;
    }
    /* relax nm times: layer(m) = max over imported modules (other component) of layer + 1 */
    for (uint32_t it = 0; it < nm; it++) {
        bool changed = false;
        for (uint32_t a1 = 0; a1 < nm; a1++) {
            for (uint32_t b = 0; b < nm; b++) {
                if (A->medge[(size_t)a1 * nm + b] && mscc[a1] != mscc[b] &&
                    layer[a1] < layer[b] + 1) {
                    layer[a1] = layer[b] + 1;
                    changed = true;
                }
            }
        }
        /* one layer per component */
        for (uint32_t a1 = 0; a1 < nm; a1++) {
            for (uint32_t b = 0; b < nm; b++) {
                if (mscc[a1] == mscc[b] && layer[a1] < layer[b]) {
                    layer[a1] = layer[b];
                    changed = true;
                }
            }
        }
        if (!changed) {
            break;
        }
    }
    xfree(reach);
}

static void do_overview(arch *A, tool_out *out)
{
    const gx_graph *g = A->g;
    uint32_t nm = A->nm;
    int64_t between = 0;
    for (size_t i = 0; i < (size_t)nm * nm; i++) {
        between += A->medge[i];
    }
    buf_printf(&out->text,
               "architecture: %u modules (depth %d), %u files, %lld import edges (%lld between "
               "modules)\n",
               nm, A->depth, g->n, (long long)g->n_imports, (long long)between);
    json_t *mods = json_array();
    for (uint32_t m = 0; m < nm; m++) {
        buf_printf(&out->text, "  %s  %u files, %lld symbols", A->mod_name[m], A->mod_files[m],
                   (long long)A->mod_syms[m]);
        json_t *imps = json_object();
        bool first = true;
        for (uint32_t o = 0; o < nm; o++) {
            uint32_t c = A->medge[(size_t)m * nm + o];
            if (c) {
                buf_printf(&out->text, "%s%s (%u)", first ? "; imports → " : ", ", A->mod_name[o],
                           c);
                json_object_set_new(imps, A->mod_name[o], json_integer(c));
                first = false;
            }
        }
        buf_putc(&out->text, '\n');
        json_array_append_new(mods, json_pack("{s:s, s:i, s:I, s:o}", "module", A->mod_name[m],
                                              "files", (int)A->mod_files[m], "symbols",
                                              (json_int_t)A->mod_syms[m], "imports", imps));
    }
    out->structured = json_pack("{s:i, s:o}", "depth", A->depth, "modules", mods);
}

static int cluster_cmp(const void *x, const void *y, void *ctx)
{
    const uint32_t *size = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (size[a] != size[b]) {
        return size[a] > size[b] ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

static void do_clusters(arch *A, tool_out *out)
{
    const gx_graph *g = A->g;
    size_t n = g->n ? g->n : 1;
    uint32_t *label = xmalloc(n * sizeof(uint32_t));
    uint32_t *count = xcalloc(n, sizeof(uint32_t));
    uint32_t *touched = xmalloc(n * sizeof(uint32_t));
    uint32_t *order = xmalloc(n * sizeof(uint32_t));
    if (!label || !count || !touched || !order) {
        goto out;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        label[i] = i;
    }
    for (int round = 0; round < 20; round++) {
        bool changed = false;
        for (uint32_t u = 0; u < g->n; u++) {
            uint32_t nt = 0;
            const uint32_t *offs[2] = {g->imp_off, g->impby_off};
            const uint32_t *adjs[2] = {g->imp, g->impby};
            for (int s = 0; s < 2; s++) {
                for (uint32_t k = offs[s][u]; k < offs[s][u + 1]; k++) {
                    uint32_t l = label[adjs[s][k]];
                    if (count[l]++ == 0) {
                        touched[nt++] = l;
                    }
                }
            }
            if (nt == 0) {
                continue;
            }
            uint32_t best = label[u], bc = 0;
            for (uint32_t t = 0; t < nt; t++) {
                uint32_t l = touched[t];
                if (count[l] > bc || (count[l] == bc && l < best)) {
                    best = l;
                    bc = count[l];
                }
            }
            for (uint32_t t = 0; t < nt; t++) {
                count[touched[t]] = 0;
            }
            if (best != label[u]) {
                label[u] = best;
                changed = true;
            }
        }
        if (!changed) {
            break;
        }
    }
    /* cluster sizes, listed for clusters of >= 2 files */
    for (uint32_t i = 0; i < g->n; i++) {
        count[label[i]]++;
    }
    uint32_t nc = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (count[i] >= 2) {
            order[nc++] = i;
        }
    }
    qsort_r(order, nc, sizeof *order, cluster_cmp, count);
    buf_printf(&out->text, "%u clusters (label propagation over imports):\n", nc);
    json_t *arr = json_array();
    for (uint32_t c = 0; c < nc && c < MAX_LIST; c++) {
        uint32_t l = order[c];
        buf_printf(&out->text, "  [%u] %u files:", c + 1, count[l]);
        json_t *files = json_array();
        uint32_t shown = 0;
        for (uint32_t i = 0; i < g->n; i++) {
            if (label[i] == l) {
                if (shown < 10) {
                    buf_printf(&out->text, " %s", g->paths[i]);
                }
                shown++;
                json_array_append_new(files, json_string(g->paths[i]));
            }
        }
        if (shown > 10) {
            buf_printf(&out->text, " … (+%u)", shown - 10);
        }
        buf_putc(&out->text, '\n');
        json_array_append_new(arr, json_pack("{s:i, s:o}", "size", (int)count[l], "files", files));
    }
    if (nc > MAX_LIST) {
        buf_printf(&out->text, "(+%u more clusters)\n", nc - MAX_LIST);
    }
    out->structured = json_pack("{s:o}", "clusters", arr);
out:
    xfree(label);
    xfree(count);
    xfree(touched);
    xfree(order);
}

static uint32_t violations(const arch *A, const int *layer, const uint32_t *mscc, buf *t,
                           json_t *arr)
{
    uint32_t nm = A->nm, nv = 0;
    for (uint32_t a1 = 0; a1 < nm; a1++) {
        for (uint32_t b = 0; b < nm; b++) {
            uint32_t c = A->medge[(size_t)a1 * nm + b];
            if (c && (layer[a1] < layer[b] || (mscc[a1] == mscc[b] && a1 != b))) {
                nv++;
                if (t) {
                    buf_printf(t, "  %s → %s (%u imports)\n", A->mod_name[a1], A->mod_name[b], c);
                }
                if (arr) {
                    json_array_append_new(arr, json_pack("{s:s, s:s, s:i}", "from", A->mod_name[a1],
                                                         "to", A->mod_name[b], "imports", (int)c));
                }
            }
        }
    }
    return nv;
}

static void do_layers(arch *A, tool_out *out)
{
    uint32_t nm = A->nm ? A->nm : 1;
    int *layer = xmalloc(nm * sizeof(int));
    uint32_t *mscc = xmalloc(nm * sizeof(uint32_t));
    if (!layer || !mscc) {
        xfree(layer);
        xfree(mscc);
        return;
    }
    module_layers(A, layer, mscc);
    int top = 0;
    for (uint32_t m = 0; m < A->nm; m++) {
        top = layer[m] > top ? layer[m] : top;
    }
    buf_printf(&out->text, "%d layers (L0 = foundation: imports no other module):\n",
               A->nm ? top + 1 : 0);
    json_t *layers = json_array();
    for (int l = 0; l <= top && A->nm; l++) {
        buf_printf(&out->text, "  L%d:", l);
        json_t *mods = json_array();
        for (uint32_t m = 0; m < A->nm; m++) {
            if (layer[m] == l) {
                buf_printf(&out->text, " %s", A->mod_name[m]);
                json_array_append_new(mods, json_string(A->mod_name[m]));
            }
        }
        buf_putc(&out->text, '\n');
        json_array_append_new(layers, mods);
    }
    buf tv;
    buf_init(&tv, (size_t)1 << 20);
    json_t *va = json_array();
    uint32_t nv = violations(A, layer, mscc, &tv, va);
    buf_printf(&out->text, "violations (%u):\n", nv);
    buf_append(&out->text, tv.ptr ? tv.ptr : "", tv.len);
    buf_release(&tv);
    out->structured = json_pack("{s:o, s:o}", "layers", layers, "violations", va);
    xfree(layer);
    xfree(mscc);
}

static void do_cycles(arch *A, tool_out *out)
{
    buf t;
    buf_init(&t, (size_t)4 << 20);
    json_t *arr = json_array();
    uint32_t n = list_cycles(A, &t, arr, MAX_CYCLES);
    if (n == 0) {
        buf_printf(&out->text, "No import cycles (%u files)\n", A->g->n);
    } else {
        buf_printf(&out->text, "%u import cycle(s):\n", n);
        buf_append(&out->text, t.ptr, t.len);
        if (n > MAX_CYCLES) {
            buf_printf(&out->text, "(+%u more cycles)\n", n - MAX_CYCLES);
        }
    }
    buf_release(&t);
    out->structured = json_pack("{s:i, s:o}", "count", (int)n, "cycles", arr);
}

static void do_entrypoints(arch *A, tool_out *out, sqlite3 *db)
{
    const gx_graph *g = A->g;
    uint8_t *why = xcalloc(g->n ? g->n : 1, 1); /* bit 1 main, 2 routes, 4 no importers */
    if (!why) {
        return;
    }
    sqlite3_stmt *st =
        gx_prep(db, "SELECT DISTINCT file_id FROM symbols WHERE name = 'main' AND kind IN "
                    "('fn','method')");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        uint32_t u = gx_node_of_id(g, sqlite3_column_int64(st, 0));
        if (u != UINT32_MAX) {
            why[u] |= 1;
        }
    }
    sqlite3_finalize(st);
    st = gx_prep(db, "SELECT DISTINCT file_id FROM routes");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        uint32_t u = gx_node_of_id(g, sqlite3_column_int64(st, 0));
        if (u != UINT32_MAX) {
            why[u] |= 2;
        }
    }
    sqlite3_finalize(st);
    for (uint32_t i = 0; i < g->n; i++) {
        /* code files nobody imports but that import something: roots of the import graph */
        if (*g->langs[i] && g->impby_off[i] == g->impby_off[i + 1] &&
            g->imp_off[i] != g->imp_off[i + 1]) {
            why[i] |= 4;
        }
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        n += why[i] != 0;
    }
    buf_printf(&out->text, "%u entry point(s):\n", n);
    json_t *arr = json_array();
    uint32_t shown = 0;
    for (int pass = 0; pass < 2; pass++) { /* main/routes first, then import roots */
        for (uint32_t i = 0; i < g->n; i++) {
            bool strong = why[i] & 3;
            if (!why[i] || (pass == 0) != strong) {
                continue;
            }
            if (shown++ >= 50) {
                continue;
            }
            buf_printf(&out->text, "  %s  (%s%s%s%s%s)\n", g->paths[i], why[i] & 1 ? "main" : "",
                       (why[i] & 1) && (why[i] & 6) ? ", " : "", why[i] & 2 ? "routes" : "",
                       (why[i] & 2) && (why[i] & 4) ? ", " : "", why[i] & 4 ? "no importers" : "");
            json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:b}", "path", g->paths[i],
                                                 "main", why[i] & 1, "routes", (why[i] & 2) != 0,
                                                 "noImporters", (why[i] & 4) != 0));
        }
    }
    if (shown > 50) {
        buf_printf(&out->text, "(+%u more)\n", shown - 50);
    }
    out->structured = json_pack("{s:o}", "entrypoints", arr);
    xfree(why);
}

typedef struct hot {
    uint32_t node, fin, fout;
    double score;
} hot;

static int hot_cmp(const void *x, const void *y)
{
    const hot *a = x, *b = y;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return a->node < b->node ? -1 : a->node > b->node;
}

static void do_hotspots(arch *A, tool_out *out)
{
    const gx_graph *g = A->g;
    hot *h = xmalloc((g->n ? g->n : 1) * sizeof *h);
    if (!h) {
        return;
    }
    uint32_t nh = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        uint32_t fin =
            (g->impby_off[i + 1] - g->impby_off[i]) + (g->callby_off[i + 1] - g->callby_off[i]);
        uint32_t fout = (g->imp_off[i + 1] - g->imp_off[i]) + (g->call_off[i + 1] - g->call_off[i]);
        double s = (double)fin * fout * (g->lines[i] > 0 ? g->lines[i] : 0);
        if (s > 0) {
            h[nh++] = (hot){i, fin, fout, s};
        }
    }
    qsort(h, nh, sizeof *h, hot_cmp);
    buf_printf(&out->text, "hotspots (fan-in × fan-out × lines, top %d):\n", MAX_LIST);
    json_t *arr = json_array();
    for (uint32_t k = 0; k < nh && k < MAX_LIST; k++) {
        uint32_t u = h[k].node;
        buf_printf(&out->text, "  %s  fan-in %u, fan-out %u, %d lines (%.0f)\n", g->paths[u],
                   h[k].fin, h[k].fout, g->lines[u], h[k].score);
        json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:i, s:f}", "path", g->paths[u],
                                             "fanIn", (int)h[k].fin, "fanOut", (int)h[k].fout,
                                             "lines", g->lines[u], "score", h[k].score));
    }
    if (nh == 0) {
        buf_puts(&out->text, "  (no file has both importers and imports)\n");
    }
    out->structured = json_pack("{s:o}", "hotspots", arr);
    xfree(h);
}

static void do_health(arch *A, tool_out *out, sqlite3 *db)
{
    const gx_graph *g = A->g;
    uint32_t cycles = list_cycles(A, NULL, NULL, 0);
    uint32_t nm = A->nm ? A->nm : 1;
    int *layer = xmalloc(nm * sizeof(int));
    uint32_t *mscc = xmalloc(nm * sizeof(uint32_t));
    uint32_t nv = 0;
    if (layer && mscc) {
        module_layers(A, layer, mscc);
        nv = violations(A, layer, mscc, NULL, NULL);
    }
    xfree(layer);
    xfree(mscc);
    uint32_t orphans = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (*g->langs[i] && g->imp_off[i] == g->imp_off[i + 1] &&
            g->impby_off[i] == g->impby_off[i + 1] && g->call_off[i] == g->call_off[i + 1] &&
            g->callby_off[i] == g->callby_off[i + 1]) {
            orphans++;
        }
    }
    buf_printf(&out->text,
               "health: %u import cycles, %u layer violations, %u orphan files (of %u)\n", cycles,
               nv, orphans, g->n);
    /* largest files: top 5 by lines */
    uint32_t top[5];
    int nt = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        int pos = nt;
        while (pos > 0 && g->lines[top[pos - 1]] < g->lines[i]) {
            pos--;
        }
        if (pos >= 5) {
            continue;
        }
        int end = nt < 5 ? nt : 4;
        memmove(&top[pos + 1], &top[pos], (size_t)(end - pos) * sizeof top[0]);
        top[pos] = i;
        nt = nt < 5 ? nt + 1 : 5;
    }
    json_t *lf = json_array(), *lfn = json_array();
    buf_puts(&out->text, "largest files:\n");
    for (int k = 0; k < nt; k++) {
        buf_printf(&out->text, "  %s  %d lines\n", g->paths[top[k]], g->lines[top[k]]);
        json_array_append_new(
            lf, json_pack("{s:s, s:i}", "path", g->paths[top[k]], "lines", g->lines[top[k]]));
    }
    buf_puts(&out->text, "largest functions:\n");
    sqlite3_stmt *st = gx_prep(db, "SELECT f.path, s.name, s.start_line, s.end_line FROM symbols s "
                                   "JOIN files f ON f.id = s.file_id WHERE s.kind IN "
                                   "('fn','method') ORDER BY s.end_line - s.start_line DESC, "
                                   "f.path, s.start_line LIMIT 5");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *p = gx_col(A->call->a, st, 0), *nm2 = gx_col(A->call->a, st, 1);
        int64_t s0 = sqlite3_column_int64(st, 2), s1 = sqlite3_column_int64(st, 3);
        buf_printf(&out->text, "  %s:%lld-%lld  %s  %lld lines\n", p, (long long)s0, (long long)s1,
                   nm2, (long long)s1 - (long long)s0 + 1);
        json_array_append_new(lfn, json_pack("{s:s, s:s, s:I, s:I}", "path", p, "name", nm2,
                                             "start", (json_int_t)s0, "end", (json_int_t)s1));
    }
    sqlite3_finalize(st);
    out->structured =
        json_pack("{s:i, s:i, s:i, s:o, s:o}", "cycles", (int)cycles, "layerViolations", (int)nv,
                  "orphans", (int)orphans, "largestFiles", lf, "largestFunctions", lfn);
}

static err do_module(arch *A, tool_call *call, tool_out *out, const char *p)
{
    char rel[PATH_MAX_LEN + 1];
    if (!p || !*p) {
        return gx_bad_arg(out, "path is required for action=module");
    }
    if (!tool_path_arg(call, out, p, strlen(p), rel, sizeof rel)) {
        return ERR_OK;
    }
    const gx_graph *g = A->g;
    uint32_t nm = A->nm;
    /* the module whose name is rel (with or without the slash), else files under rel */
    json_t *files = json_array(), *in = json_object(), *outj = json_object();
    uint32_t nf = 0;
    uint32_t *cin = xcalloc(nm ? nm : 1, sizeof(uint32_t));
    uint32_t *cout = xcalloc(nm ? nm : 1, sizeof(uint32_t));
    if (!cin || !cout) {
        xfree(cin);
        xfree(cout);
        json_decref(files);
        json_decref(in);
        json_decref(outj);
        return ERR_NOMEM;
    }
    buf fl;
    buf_init(&fl, (size_t)1 << 20);
    for (uint32_t i = 0; i < g->n; i++) {
        if (!gx_under(g->paths[i], rel)) {
            continue;
        }
        nf++;
        buf_printf(&fl, "  %s  (%d lines, %d symbols)\n", g->paths[i], g->lines[i], g->nsyms[i]);
        json_array_append_new(files, json_string(g->paths[i]));
        for (uint32_t k = g->imp_off[i]; k < g->imp_off[i + 1]; k++) {
            uint32_t w = g->imp[k];
            if (!gx_under(g->paths[w], rel)) {
                cout[A->mod_of[w]]++;
            }
        }
        for (uint32_t k = g->impby_off[i]; k < g->impby_off[i + 1]; k++) {
            uint32_t w = g->impby[k];
            if (!gx_under(g->paths[w], rel)) {
                cin[A->mod_of[w]]++;
            }
        }
    }
    if (nf == 0) {
        buf_release(&fl);
        xfree(cin);
        xfree(cout);
        json_decref(files);
        json_decref(in);
        json_decref(outj);
        return tool_fail(out, "not_found", "no indexed files under '%s'", *rel ? rel : ".");
    }
    buf_printf(&out->text, "module %s: %u files\n", *rel ? rel : ".", nf);
    buf_append(&out->text, fl.ptr, fl.len);
    buf_release(&fl);
    buf_puts(&out->text, "imports →\n");
    for (uint32_t m = 0; m < nm; m++) {
        if (cout[m]) {
            buf_printf(&out->text, "  %s (%u)\n", A->mod_name[m], cout[m]);
            json_object_set_new(outj, A->mod_name[m], json_integer(cout[m]));
        }
    }
    buf_puts(&out->text, "imported by ←\n");
    for (uint32_t m = 0; m < nm; m++) {
        if (cin[m]) {
            buf_printf(&out->text, "  %s (%u)\n", A->mod_name[m], cin[m]);
            json_object_set_new(in, A->mod_name[m], json_integer(cin[m]));
        }
    }
    xfree(cin);
    xfree(cout);
    out->structured = json_pack("{s:s, s:o, s:o, s:o}", "module", *rel ? rel : ".", "files", files,
                                "imports", outj, "importedBy", in);
    return ERR_OK;
}

err tool_ctx_architecture(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "overview");
    bool json = strcmp(arg_str(call, "format", "text"), "json") == 0;
    if (strcmp(action, "module") == 0 && !arg_str(call, "path", NULL)) {
        return gx_bad_arg(out, "path is required for action=module");
    }
    ix_view v;
    err rc;
    gx_graph *g = gx_graph_open(call, out, &v, &rc);
    if (!g) {
        return rc;
    }
    arch A;
    if (!arch_init(&A, call, g) || !tarjan(&A)) {
        rc = ERR_NOMEM;
        goto out;
    }
    if (strcmp(action, "overview") == 0) {
        do_overview(&A, out);
    } else if (strcmp(action, "clusters") == 0 || strcmp(action, "communities") == 0) {
        do_clusters(&A, out);
    } else if (strcmp(action, "layers") == 0) {
        do_layers(&A, out);
    } else if (strcmp(action, "cycles") == 0) {
        do_cycles(&A, out);
    } else if (strcmp(action, "entrypoints") == 0) {
        do_entrypoints(&A, out, v.db);
    } else if (strcmp(action, "hotspots") == 0) {
        do_hotspots(&A, out);
    } else if (strcmp(action, "health") == 0) {
        do_health(&A, out, v.db);
    } else if (strcmp(action, "module") == 0) {
        rc = do_module(&A, call, out, arg_str(call, "path", ""));
    }
out:
    gx_graph_put(g);
    index_view_close(&v);
    if (json && rc == ERR_OK) {
        gt_json_text(call, out);
    }
    return rc;
}

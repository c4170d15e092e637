/* graph.c - ctx_graph: file-level dependency questions over the index (tools.md §3.1).
 *
 * Every file question (related, impact, neighbors, path, explain, context, diagram) is answered
 * from the cached file graph of the index generation (graphdb.h), whose nodes are in path order:
 * iterating nodes in index order is iterating paths in byte order, which makes every listing
 * deterministic without a sort. Symbol questions go through ixtools. Builds are the index's
 * (index_build); `diff` compares the index with what the changed files looked like at `since`,
 * read from git and re-extracted with the same parser the index uses. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jsonx.h"
#include "tools/common.h"
#include "tools/graphdb.h"
#include "tools/graphtools.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_graph_schema[] =
    "{\"type\":\"object\",\"required\":[\"action\"],\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"status\",\"related\",\"symbol\",\"impact\","
    "\"neighbors\",\"path\",\"explain\",\"context\",\"diagram\",\"diff\",\"build\",\"enrich\"]},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"file (relative to the "
    "workspace root); for symbol: relpath::name\"},"
    "\"to\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"target file (path)\"},"
    "\"direction\":{\"type\":\"string\",\"enum\":[\"in\",\"out\",\"both\"],\"default\":\"both\"},"
    "\"depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},"
    "\"kind\":{\"type\":\"string\",\"enum\":[\"deps\",\"calls\"],\"default\":\"deps\"},"
    "\"since\":{\"type\":\"string\",\"maxLength\":256,\"default\":\"HEAD~1\"},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"text\",\"json\"],\"default\":\"text\"},"
    "\"project_root\":{\"type\":\"string\",\"maxLength\":4096}}}";

void ctx_graph_needs(const json_t *args, scope_set *scopes, int *cost)
{
    gt_needs(args, "enrich", scopes, cost);
}

#define MAX_RELATED 200
#define MAX_DIAGRAM 60
#define CONTEXT_BYTES (3000 * 4)

/* ---- helpers shared with impact.c (graphtools.h) ---- */

void gt_needs(const json_t *args, const char *writer, scope_set *scopes, int *cost)
{
    const char *a = jsonx_str(args, "action");
    if (!a) {
        return;
    }
    if (strcmp(a, "build") == 0 || strcmp(a, writer) == 0) {
        *scopes |= SCOPE_INDEX;
        *cost = 10;
    } else if (strcmp(a, "status") == 0) {
        *cost = 1;
    }
}

bool gt_file_arg(tool_call *call, tool_out *out, const gx_graph *g, const char *name, const char *p,
                 uint32_t *node)
{
    char rel[PATH_MAX_LEN + 1];
    if (!p || !*p) {
        gx_bad_arg(out, "%s is required for this action", name);
        return false;
    }
    if (!tool_path_arg(call, out, p, strlen(p), rel, sizeof rel)) {
        return false;
    }
    *node = gx_node_of_path(g, rel);
    if (*node == UINT32_MAX) {
        tool_fail(out, "not_found", "'%s' is not in the index (no such file, or not indexed)",
                  *rel ? rel : ".");
        return false;
    }
    return true;
}

void gt_render_path(tool_out *out, const gx_graph *g, uint32_t a, uint32_t b, int max_depth)
{
    uint32_t path[16];
    int len = gx_import_path(g, a, b, max_depth, path);
    json_t *nodes = json_array();
    if (len == 0) {
        buf_printf(&out->text, "No import path from '%s' to '%s' (searched up to depth %d)\n",
                   g->paths[a], g->paths[b], max_depth);
    } else {
        buf_printf(&out->text, "Import path (%d hop(s)):\n", len - 1);
        for (int i = 0; i < len; i++) {
            buf_printf(&out->text, "  %s%s\n", i ? "→ " : "", g->paths[path[i]]);
            json_array_append_new(nodes, json_string(g->paths[path[i]]));
        }
    }
    out->structured = json_pack("{s:s, s:s, s:I, s:o}", "from", g->paths[a], "to", g->paths[b],
                                "hops", (json_int_t)(len ? len - 1 : -1), "path", nodes);
}

void gt_render_impact(tool_out *out, const gx_graph *g, const uint32_t *roots, size_t nroots,
                      int depth, const char *header_fmt_subject, bool tests_block)
{
    int32_t *best = xmalloc((g->n ? g->n : 1) * sizeof(int32_t));
    int32_t *dist = xmalloc((g->n ? g->n : 1) * sizeof(int32_t));
    if (!best || !dist) {
        xfree(best);
        xfree(dist);
        return;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        best[i] = -1;
    }
    for (size_t r = 0; r < nroots; r++) {
        gx_bfs(g, roots[r], true, depth, dist);
        for (uint32_t i = 0; i < g->n; i++) {
            if (dist[i] > 0 && (best[i] < 0 || dist[i] < best[i])) {
                best[i] = dist[i];
            }
        }
    }
    for (size_t r = 0; r < nroots; r++) {
        best[roots[r]] = -1; /* a changed file is not its own dependent */
    }
    int64_t n = 0, tests = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (best[i] > 0) {
            n++;
            tests += gx_is_test_path(g->paths[i]);
        }
    }
    json_t *files = json_array(), *tj = json_array();
    if (tests_block) {
        buf_printf(&out->text, "Impact of %s: %lld dependent files (depth≤%d), %lld tests\n",
                   header_fmt_subject, (long long)n, depth, (long long)tests);
    } else {
        buf_printf(&out->text, "%lld files depend on %s (depth≤%d):\n", (long long)n,
                   header_fmt_subject, depth);
    }
    for (int k = 1; k <= depth; k++) {
        for (uint32_t i = 0; i < g->n; i++) {
            if (best[i] == k) {
                buf_printf(&out->text, "  [%d] %s\n", k, g->paths[i]);
                json_array_append_new(files,
                                      json_pack("{s:s, s:i}", "path", g->paths[i], "depth", k));
                if (gx_is_test_path(g->paths[i])) {
                    json_array_append_new(tj, json_string(g->paths[i]));
                }
            }
        }
    }
    if (tests_block && tests > 0) {
        buf_puts(&out->text, "tests:\n");
        for (uint32_t i = 0; i < g->n; i++) {
            if (best[i] > 0 && gx_is_test_path(g->paths[i])) {
                buf_printf(&out->text, "  %s\n", g->paths[i]);
            }
        }
    }
    out->structured = json_pack("{s:I, s:i, s:o, s:o}", "count", (json_int_t)n, "depth", depth,
                                "files", files, "tests", tj);
    xfree(best);
    xfree(dist);
}

err gt_build(tool_call *call, tool_out *out, bool full, const char *extra_note)
{
    /* the answer of ctx_index action=build (ixtools), so both tools word it alike */
    err rc = ixt_build(call, out, full, "", false, NULL);
    if (rc == ERR_OK && !out->is_error) {
        buf_putc(&out->text, '\n');
        if (extra_note) {
            buf_printf(&out->text, "%s\n", extra_note);
        }
    }
    return rc;
}

/* ---- actions ---- */

static const char *reason_name[] = {"imports",   "imported-by", "calls",
                                    "called-by", "co-changed",  "same-dir"};
#define N_REASONS 6

static void related(tool_call *call, tool_out *out, const gx_graph *g, uint32_t u)
{
    uint8_t *why = xcalloc(g->n ? g->n : 1, 1); /* 0 none, else reason + 1 */
    if (!why) {
        return;
    }
    for (uint32_t k = g->imp_off[u]; k < g->imp_off[u + 1]; k++) {
        why[g->imp[k]] = why[g->imp[k]] ? why[g->imp[k]] : 1;
    }
    for (uint32_t k = g->impby_off[u]; k < g->impby_off[u + 1]; k++) {
        why[g->impby[k]] = why[g->impby[k]] ? why[g->impby[k]] : 2;
    }
    for (uint32_t k = g->call_off[u]; k < g->call_off[u + 1]; k++) {
        why[g->call[k]] = why[g->call[k]] ? why[g->call[k]] : 3;
    }
    for (uint32_t k = g->callby_off[u]; k < g->callby_off[u + 1]; k++) {
        why[g->callby[k]] = why[g->callby[k]] ? why[g->callby[k]] : 4;
    }
    const char *p = g->paths[u];
    /* git co-change partners, when ctx_graph action=enrich has counted them */
    const char *co[64];
    uint32_t con[64];
    size_t nco = gt_cochanged(call, p, co, con, 64);
    for (size_t k = 0; k < nco; k++) {
        uint32_t w = gx_node_of_path(g, co[k]);
        if (w != UINT32_MAX && !why[w]) {
            why[w] = 5;
        }
    }
    const char *slash = strrchr(p, '/');
    size_t dl = slash ? (size_t)(slash - p) + 1 : 0;
    for (uint32_t i = 0; i < g->n; i++) {
        const char *q = g->paths[i];
        if (i != u && !why[i] && strncmp(q, p, dl) == 0 && !strchr(q + dl, '/')) {
            why[i] = 6;
        }
    }
    why[u] = 0;
    int64_t n = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        n += why[i] != 0;
    }
    buf_printf(&out->text, "%lld files related to %s:\n", (long long)n, p);
    json_t *arr = json_array();
    int64_t shown = 0;
    for (int r = 1; r <= N_REASONS; r++) {
        for (uint32_t i = 0; i < g->n; i++) {
            if (why[i] != r) {
                continue;
            }
            if (shown++ >= MAX_RELATED) {
                continue;
            }
            buf_printf(&out->text, "  %s  (%s)\n", g->paths[i], reason_name[r - 1]);
            json_array_append_new(
                arr, json_pack("{s:s, s:s}", "path", g->paths[i], "reason", reason_name[r - 1]));
        }
    }
    if (shown > MAX_RELATED) {
        buf_printf(&out->text, "(+%lld more not shown)\n", (long long)(shown - MAX_RELATED));
    }
    out->structured = json_pack("{s:s, s:o}", "path", p, "related", arr);
    xfree(why);
}

static void list_nodes(buf *t, json_t *arr, const gx_graph *g, const uint32_t *adj, uint32_t a,
                       uint32_t b)
{
    for (uint32_t k = a; k < b; k++) {
        buf_printf(t, "  %s\n", g->paths[adj[k]]);
        json_array_append_new(arr, json_string(g->paths[adj[k]]));
    }
}

static void neighbors(tool_out *out, const gx_graph *g, uint32_t u, const char *dir)
{
    json_t *o = json_pack("{s:s}", "path", g->paths[u]);
    if (strcmp(dir, "in") != 0) {
        json_t *a = json_array();
        buf_printf(&out->text, "imports (%u):\n", g->imp_off[u + 1] - g->imp_off[u]);
        list_nodes(&out->text, a, g, g->imp, g->imp_off[u], g->imp_off[u + 1]);
        json_object_set_new(o, "imports", a);
    }
    if (strcmp(dir, "out") != 0) {
        json_t *a = json_array();
        buf_printf(&out->text, "imported by (%u):\n", g->impby_off[u + 1] - g->impby_off[u]);
        list_nodes(&out->text, a, g, g->impby, g->impby_off[u], g->impby_off[u + 1]);
        json_object_set_new(o, "importedBy", a);
    }
    out->structured = o;
}

static void explain(tool_call *call, tool_out *out, sqlite3 *db, const gx_graph *g, uint32_t u)
{
    const char *p = g->paths[u];
    ix_sym *syms = NULL;
    int64_t ns = ixt_file_symbols(call, db, p, &syms);
    if (ns < 0) {
        ns = 0;
    }
    buf_printf(&out->text, "%s: %s, %d lines, %lld symbols\n", p,
               *g->langs[u] ? g->langs[u] : "unknown language", g->lines[u], (long long)ns);
    json_t *top = json_array();
    if (ns > 0) {
        buf_puts(&out->text, "top symbols:");
        int shown = 0;
        for (int64_t i = 0; i < ns && shown < 5; i++) {
            if (syms[i].depth != 0) {
                continue;
            }
            buf_printf(&out->text, "%s %s (%s)", shown ? "," : "", syms[i].name,
                       ixt_kind_filter(syms[i].kind));
            json_array_append_new(top, json_string(syms[i].name));
            shown++;
        }
        if (ns > shown) {
            buf_printf(&out->text, " (+%lld)", (long long)(ns - shown));
        }
        buf_putc(&out->text, '\n');
    }
    uint32_t ni = g->imp_off[u + 1] - g->imp_off[u];
    uint32_t nb = g->impby_off[u + 1] - g->impby_off[u];
    buf_printf(&out->text, "imports %u files, imported by %u files\n", ni, nb);
    /* callers from other files: file-level call edges into u, most call sites first */
    uint32_t a = g->callby_off[u], b = g->callby_off[u + 1];
    json_t *callers = json_array();
    if (b > a) {
        buf_puts(&out->text, "top callers from other files:\n");
        bool *done = xcalloc(b - a, sizeof(bool));
        for (int shown = 0; done && shown < 5 && shown < (int)(b - a); shown++) {
            uint32_t best = UINT32_MAX, bw = 0;
            for (uint32_t k = a; k < b; k++) {
                uint32_t v = g->callby[k], w = 0;
                for (uint32_t j = g->call_off[v]; j < g->call_off[v + 1]; j++) {
                    if (g->call[j] == u) {
                        w = g->callw[j];
                    }
                }
                if (!done[k - a] && (best == UINT32_MAX || w > bw)) {
                    best = k;
                    bw = w;
                }
            }
            done[best - a] = true;
            buf_printf(&out->text, "  %s  (%u call sites)\n", g->paths[g->callby[best]], bw);
            json_array_append_new(callers, json_pack("{s:s, s:i}", "path",
                                                     g->paths[g->callby[best]], "calls", (int)bw));
        }
        xfree(done);
    }
    json_t *tests = json_array();
    for (uint32_t k = g->impby_off[u]; k < g->impby_off[u + 1]; k++) {
        if (gx_is_test_path(g->paths[g->impby[k]])) {
            json_array_append_new(tests, json_string(g->paths[g->impby[k]]));
        }
    }
    if (json_array_size(tests)) {
        buf_puts(&out->text, "tests importing it:");
        size_t i;
        json_t *t;
        json_array_foreach (tests, i, t) {
            buf_printf(&out->text, " %s", json_string_value(t));
        }
        buf_putc(&out->text, '\n');
    } else {
        buf_puts(&out->text, "tests importing it: none\n");
    }
    out->structured =
        json_pack("{s:s, s:s, s:i, s:I, s:o, s:i, s:i, s:o, s:o}", "path", p, "language",
                  g->langs[u], "lines", g->lines[u], "symbols", (json_int_t)ns, "topSymbols", top,
                  "imports", (int)ni, "importedBy", (int)nb, "callers", callers, "tests", tests);
}

/* signature lines of one file under a heading; false when the budget ran out */
static bool file_sigs(tool_call *call, buf *t, sqlite3 *db, const char *p, const char *why,
                      size_t budget)
{
    ix_sym *syms = NULL;
    int64_t ns = ixt_file_symbols(call, db, p, &syms);
    size_t start = t->len;
    buf_printf(t, "%s:%s%s%s\n", p, why ? "  (" : "", why ? why : "", why ? ")" : "");
    for (int64_t i = 0; i < ns; i++) {
        ixt_sig_line(t, &syms[i], syms[i].depth + 1);
        buf_putc(t, '\n');
    }
    if (t->len > budget) {
        buf_truncate(t, start);
        return false;
    }
    return true;
}

static void context(tool_call *call, tool_out *out, sqlite3 *db, const gx_graph *g, uint32_t u)
{
    size_t base = out->text.len;
    size_t budget = base + CONTEXT_BYTES;
    int64_t left = 0, shown = 0;
    json_t *files = json_array();
    if (file_sigs(call, &out->text, db, g->paths[u], NULL, budget)) {
        json_array_append_new(files, json_string(g->paths[u]));
    } else {
        left++;
    }
    struct {
        const uint32_t *off, *adj;
        const char *why;
    } lists[] = {{g->imp_off, g->imp, "imports"}, {g->impby_off, g->impby, "imported-by"}};
    for (int l = 0; l < 2; l++) {
        for (uint32_t k = lists[l].off[u]; k < lists[l].off[u + 1]; k++) {
            const char *q = g->paths[lists[l].adj[k]];
            if (file_sigs(call, &out->text, db, q, lists[l].why, budget)) {
                json_array_append_new(files, json_string(q));
                shown++;
            } else {
                left++;
            }
        }
    }
    if (left) {
        buf_printf(&out->text, "(%lld neighbouring files left out to stay within 3000 tok)\n",
                   (long long)left);
    }
    ixt_hint(&out->text);
    buf_putc(&out->text, '\n');
    out->structured = json_pack("{s:s, s:o, s:I}", "path", g->paths[u], "files", files, "omitted",
                                (json_int_t)left);
    (void)shown;
}

static void mermaid_label(buf *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '"') {
            buf_puts(t, "#quot;");
        } else if (*s == '\n' || *s == '\r') {
            buf_putc(t, ' ');
        } else {
            buf_putc(t, *s);
        }
    }
}

static int rank_cmp_ctx(const void *x, const void *y, void *ctx)
{
    const gx_graph *g = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (g->rank[a] != g->rank[b]) {
        return g->rank[a] > g->rank[b] ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

static void diagram_deps(tool_out *out, const gx_graph *g, uint32_t u, int depth)
{
    uint32_t *pick = xmalloc((g->n ? g->n : 1) * sizeof(uint32_t));
    int32_t *idx = xmalloc((g->n ? g->n : 1) * sizeof(int32_t));
    if (!pick || !idx) {
        xfree(pick);
        xfree(idx);
        return;
    }
    uint32_t np = 0;
    bool capped = false;
    for (uint32_t i = 0; i < g->n; i++) {
        idx[i] = -1;
    }
    if (u != UINT32_MAX) {
        /* breadth-first both ways from u */
        int32_t *d = xmalloc((g->n ? g->n : 1) * sizeof(int32_t));
        if (d) {
            for (uint32_t i = 0; i < g->n; i++) {
                d[i] = -1;
            }
            d[u] = 0;
            pick[np++] = u;
            for (uint32_t h = 0; h < np; h++) {
                uint32_t v = pick[h];
                if (d[v] >= depth) {
                    continue;
                }
                const uint32_t *offs[2] = {g->imp_off, g->impby_off};
                const uint32_t *adjs[2] = {g->imp, g->impby};
                for (int s = 0; s < 2; s++) {
                    for (uint32_t k = offs[s][v]; k < offs[s][v + 1]; k++) {
                        uint32_t w = adjs[s][k];
                        if (d[w] >= 0) {
                            continue;
                        }
                        if (np >= MAX_DIAGRAM) {
                            capped = true;
                            continue;
                        }
                        d[w] = d[v] + 1;
                        pick[np++] = w;
                    }
                }
            }
            xfree(d);
        }
    } else {
        for (uint32_t i = 0; i < g->n; i++) {
            pick[i] = i;
        }
        qsort_r(pick, g->n, sizeof(uint32_t), rank_cmp_ctx, (void *)g);
        np = g->n < MAX_DIAGRAM ? g->n : MAX_DIAGRAM;
        capped = g->n > MAX_DIAGRAM;
    }
    for (uint32_t i = 0; i < np; i++) {
        idx[pick[i]] = (int32_t)i;
    }
    json_t *nodes = json_array(), *edges = json_array();
    buf_puts(&out->text, "```mermaid\ngraph LR\n");
    for (uint32_t i = 0; i < np; i++) {
        buf_printf(&out->text, "  n%u[\"", i);
        mermaid_label(&out->text, g->paths[pick[i]]);
        buf_puts(&out->text, "\"]\n");
        json_array_append_new(nodes, json_string(g->paths[pick[i]]));
    }
    for (uint32_t i = 0; i < np; i++) {
        uint32_t v = pick[i];
        for (uint32_t k = g->imp_off[v]; k < g->imp_off[v + 1]; k++) {
            int32_t j = idx[g->imp[k]];
            if (j >= 0) {
                buf_printf(&out->text, "  n%u --> n%d\n", i, j);
                json_array_append_new(
                    edges, json_pack("{s:s, s:s}", "from", g->paths[v], "to", g->paths[g->imp[k]]));
            }
        }
    }
    buf_puts(&out->text, "```\n");
    if (capped) {
        buf_printf(&out->text, "(diagram capped at %d nodes)\n", MAX_DIAGRAM);
    }
    out->structured = json_pack("{s:s, s:o, s:o}", "kind", "deps", "nodes", nodes, "edges", edges);
    xfree(pick);
    xfree(idx);
}

static int find_sym(int64_t *ids, int n, int64_t id)
{
    for (int i = 0; i < n; i++) {
        if (ids[i] == id) {
            return i;
        }
    }
    return -1;
}

static void diagram_calls(tool_call *call, tool_out *out, sqlite3 *db, const char *p, int depth)
{
    ix_sym *syms = NULL;
    int64_t ns = ixt_file_symbols(call, db, p, &syms);
    int64_t ids[MAX_DIAGRAM];
    const char *labels[MAX_DIAGRAM];
    ix_sym nodesym[MAX_DIAGRAM];
    int hopn[MAX_DIAGRAM];
    int n = 0;
    bool capped = false;
    for (int64_t i = 0; i < ns && n < MAX_DIAGRAM; i++) {
        if (strcmp(syms[i].kind, "fn") == 0 || strcmp(syms[i].kind, "method") == 0) {
            ids[n] = syms[i].id;
            nodesym[n] = syms[i];
            hopn[n] = 0;
            labels[n++] = arena_printf(call->a, "%s#%s", syms[i].path, syms[i].name);
        }
    }
    buf edges_txt;
    buf_init(&edges_txt, (size_t)1 << 20);
    json_t *edges = json_array();
    for (int i = 0; i < n && !tool_expired(call); i++) {
        if (hopn[i] >= depth) {
            continue;
        }
        ix_edge *ev = NULL;
        int64_t ne = ixt_callees(call, db, &nodesym[i], &ev, 500);
        ne = ne < 500 ? ne : 500;
        for (int64_t k = 0; k < ne; k++) {
            if (ev[k].candidates != 1 || !ev[k].other.id) {
                continue;
            }
            int j = find_sym(ids, n, ev[k].other.id);
            if (j < 0) {
                if (n >= MAX_DIAGRAM) {
                    capped = true;
                    continue;
                }
                j = n++;
                ids[j] = ev[k].other.id;
                nodesym[j] = ev[k].other;
                hopn[j] = hopn[i] + 1;
                labels[j] = arena_printf(call->a, "%s#%s", ev[k].other.path, ev[k].other.name);
            }
            char line[64];
            snprintf(line, sizeof line, "  s%d --> s%d\n", i, j);
            if (!strstr(edges_txt.ptr ? edges_txt.ptr : "", line)) {
                buf_puts(&edges_txt, line);
                json_array_append_new(edges,
                                      json_pack("{s:s, s:s}", "from", labels[i], "to", labels[j]));
            }
        }
    }
    json_t *nodes = json_array();
    buf_puts(&out->text, "```mermaid\ngraph LR\n");
    for (int i = 0; i < n; i++) {
        buf_printf(&out->text, "  s%d[\"", i);
        mermaid_label(&out->text, labels[i] ? labels[i] : "?");
        buf_puts(&out->text, "\"]\n");
        json_array_append_new(nodes, json_string(labels[i] ? labels[i] : "?"));
    }
    if (edges_txt.ptr) {
        buf_append(&out->text, edges_txt.ptr, edges_txt.len);
    }
    buf_puts(&out->text, "```\n");
    if (capped) {
        buf_printf(&out->text, "(diagram capped at %d nodes)\n", MAX_DIAGRAM);
    }
    buf_release(&edges_txt);
    out->structured = json_pack("{s:s, s:o, s:o}", "kind", "calls", "nodes", nodes, "edges", edges);
}

static err symbol_action(tool_call *call, tool_out *out, sqlite3 *db, const char *q)
{
    ix_sym s;
    int64_t n = ixt_find_symbols(call, db, q, NULL, NULL, &s, 1);
    if (n <= 0) {
        return ixt_fail_no_symbol(out, db, q);
    }
    const char *text = NULL;
    size_t len = 0;
    if (!ixt_read_file(call, out, s.path, &text, &len)) {
        return ERR_OK;
    }
    size_t *starts = NULL;
    int64_t nl = ixt_line_index(call->a, text, len, &starts);
    if (nl < 0) {
        return ERR_NOMEM;
    }
    ixt_handle(&out->text, &s);
    buf_printf(&out->text, "  (%s %s, L%lld-%lld)\n", s.exported ? "+" : "-",
               ixt_kind_filter(s.kind), (long long)s.start_line, (long long)s.end_line);
    buf_printf(&out->text, "File: %s (%lld lines, %zu tokens)\n\n", s.path, (long long)nl,
               (len + 3) / 4);
    for (int64_t l = s.start_line; l >= 1 && l <= s.end_line && l <= nl; l++) {
        buf_printf(&out->text, "%4lld|", (long long)l);
        ixt_put_source(&out->text, text + starts[l - 1], starts[l] - starts[l - 1]);
        buf_putc(&out->text, '\n');
    }
    if (n > 1) {
        buf_printf(&out->text, "(%lld other definitions match '%s'; name one with relpath::name)\n",
                   (long long)(n - 1), q);
    }
    ixt_hint(&out->text);
    buf_putc(&out->text, '\n');
    buf h, id;
    buf_init(&h, 8192);
    buf_init(&id, 8192);
    ixt_handle(&h, &s);
    ixt_id(&id, &s);
    out->structured =
        json_pack("{s:[{s:s, s:s, s:s, s:I, s:I, s:s}]}", "symbols", "handle", h.ptr ? h.ptr : "",
                  "id", id.ptr ? id.ptr : "", "path", s.path, "start", (json_int_t)s.start_line,
                  "end", (json_int_t)s.end_line, "kind", ixt_kind_filter(s.kind));
    buf_release(&h);
    buf_release(&id);
    return ERR_OK;
}

void gt_json_text(tool_call *call, tool_out *out)
{
    if (out->is_error || !out->structured) {
        return;
    }
    /* the index note line (tools.md §1.6) stays in front of the document */
    size_t keep = 0;
    if (out->text.ptr && out->text.len > 7 && strncmp(out->text.ptr, "[index:", 7) == 0) {
        const char *nl = memchr(out->text.ptr, '\n', out->text.len);
        keep = nl ? (size_t)(nl - out->text.ptr) + 1 : 0;
    }
    buf_truncate(&out->text, keep);
    /* the main list is the first array member: it is what gets cut to fit maxOutputBytes */
    const char *key = NULL, *k;
    json_t *v;
    json_object_foreach (out->structured, k, v) {
        if (!key && json_is_array(v)) {
            key = k;
        }
    }
    json_t *doc = out->structured;
    out->structured = NULL;
    ixt_json_result(call, out, doc, key);
}

err tool_ctx_graph(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "status");
    bool json = strcmp(arg_str(call, "format", "text"), "json") == 0;
    if (strcmp(action, "build") == 0) {
        return gt_build(call, out, false, NULL);
    }
    if (strcmp(action, "enrich") == 0) {
        size_t pairs = 0;
        char why[512];
        if (!gt_cochange_compute(call, &pairs, why, sizeof why)) {
            return tool_fail(out, "git_error", "enrich needs git history: %s", why);
        }
        char note[160];
        snprintf(note, sizeof note,
                 "co-change edges: %zu file pairs changed together in 2+ of the last 500 "
                 "commits (shown by action=related as co-changed)",
                 pairs);
        return gt_build(call, out, false, note);
    }
    if (strcmp(action, "status") == 0) {
        gx_status_line(call, &out->text);
        if (json) {
            out->structured = json_pack("{s:s}", "status", out->text.ptr ? out->text.ptr : "");
            gt_json_text(call, out);
        }
        return ERR_OK;
    }
    if (strcmp(action, "diff") == 0) {
        return gt_diff(call, out, arg_str(call, "since", "HEAD~1"));
    }
    const char *path = arg_str(call, "path", NULL);
    bool need_path = strcmp(action, "diagram") != 0;
    if (need_path && (!path || !*path)) {
        return gx_bad_arg(out, "path is required for action=%s", action);
    }
    if (strcmp(action, "path") == 0 && !arg_str(call, "to", NULL)) {
        return gx_bad_arg(out, "to is required for action=path");
    }
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    err rc = ERR_OK;
    if (strcmp(action, "symbol") == 0) {
        rc = symbol_action(call, out, v.db, path);
        goto done;
    }
    gx_graph *g = gx_graph_need(call, &v, &rc);
    if (!g) {
        return rc;
    }
    uint32_t u = UINT32_MAX, w = UINT32_MAX;
    if (path && *path && !gt_file_arg(call, out, g, "path", path, &u)) {
        rc = out->is_error ? ERR_OK : ERR_INVALID_ARGUMENTS;
        goto put;
    }
    if (strcmp(action, "related") == 0) {
        related(call, out, g, u);
    } else if (strcmp(action, "impact") == 0) {
        gt_render_impact(out, g, &u, 1, (int)arg_int(call, "depth", 5), g->paths[u], false);
    } else if (strcmp(action, "neighbors") == 0) {
        neighbors(out, g, u, arg_str(call, "direction", "both"));
    } else if (strcmp(action, "path") == 0) {
        if (gt_file_arg(call, out, g, "to", arg_str(call, "to", ""), &w)) {
            gt_render_path(out, g, u, w, 10);
        } else if (!out->is_error) {
            rc = ERR_INVALID_ARGUMENTS;
        }
    } else if (strcmp(action, "explain") == 0) {
        explain(call, out, v.db, g, u);
    } else if (strcmp(action, "context") == 0) {
        context(call, out, v.db, g, u);
    } else if (strcmp(action, "diagram") == 0) {
        int depth = (int)arg_int(call, "depth", 2);
        if (strcmp(arg_str(call, "kind", "deps"), "calls") == 0) {
            if (u == UINT32_MAX) {
                /* no file named: the highest-ranked file */
                for (uint32_t i = 0; i < g->n; i++) {
                    if (u == UINT32_MAX || g->rank[i] > g->rank[u]) {
                        u = i;
                    }
                }
            }
            if (u != UINT32_MAX) {
                diagram_calls(call, out, v.db, g->paths[u], depth);
            } else {
                buf_puts(&out->text, "```mermaid\ngraph LR\n```\n");
            }
        } else {
            diagram_deps(out, g, u, depth);
        }
    }
put:
    gx_graph_put(g);
done:
    index_view_close(&v);
    if (json && rc == ERR_OK) {
        gt_json_text(call, out);
    }
    return rc;
}

/* callgraph.c - ctx_callgraph: callers, callees, call paths and a caller-count risk rating of one
 * function (tools.md §3.2).
 *
 * Every step is an indexed lookup through ixtools (ixt_callers by calls.callee, ixt_callees by
 * calls.caller_id, definitions by symbols.name), so the cost follows the size of the answer,
 * not of the index. Walks are bounded three ways: the depth the caller asked for (1-5, trace
 * 10), MAX_EDGES listed edges and MAX_NODES visited symbols, and the call's deadline. A symbol
 * is expanded once per walk, so recursion and mutual recursion terminate. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "tools/graphdb.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_callgraph_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"callers\",\"callees\",\"trace\",\"risk\"],"
    "\"default\":\"callers\"},"
    "\"symbol\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"function: bare name, "
    "Class.method, relpath::name or a handle relpath#name@Lstart\"},"
    "\"file\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"keep only edges whose "
    "caller file path contains this\"},"
    "\"depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5,\"default\":1},"
    "\"from\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"to\":{\"type\":\"string\",\"maxLength\":4096}}}";

#define MAX_TARGETS 8    /* definitions one symbol argument may name */
#define MAX_EDGES 500    /* edges listed */
#define MAX_NODES 20000  /* symbols visited by one walk */
#define EDGES_PER_Q 5000 /* edges fetched per lookup */
#define TRACE_DEPTH 10

typedef struct walk {
    tool_call *call;
    sqlite3 *db;
    const char *file_filter; /* NULL: none */
    bool callers;            /* direction */
    int max_depth;
    /* visited symbol ids (linear probing set) */
    int64_t *seen;
    size_t seen_cap, seen_n;
    /* output */
    buf *text;
    json_t *edges;
    int64_t listed, omitted;
    bool stopped; /* deadline or a node cap */
} walk;

static bool seen_add(walk *w, int64_t id)
{
    if (w->seen_n * 2 >= w->seen_cap) {
        return false;
    }
    size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL) & (w->seen_cap - 1);
    while (w->seen[h]) {
        if (w->seen[h] == id) {
            return false;
        }
        h = (h + 1) & (w->seen_cap - 1);
    }
    w->seen[h] = id;
    w->seen_n++;
    return true;
}

static bool seen_init(walk *w)
{
    w->seen_cap = 65536; /* 2 * MAX_NODES, power of two */
    w->seen = arena_alloc(w->call->a, w->seen_cap * sizeof(int64_t));
    if (!w->seen) {
        return false;
    }
    memset(w->seen, 0, w->seen_cap * sizeof(int64_t));
    return true;
}

static const char *sym_name(const ix_sym *s)
{
    return s->id && s->name && *s->name ? s->name : "<top level>";
}

static void edge_json(walk *w, const ix_sym *caller, const char *caller_file, int64_t line,
                      const char *callee, const char *callee_file)
{
    json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "caller", sym_name(caller), "callerFile",
                          caller_file, "line", (json_int_t)line, "callee", callee);
    if (e && callee_file && *callee_file) {
        json_object_set_new(e, "calleeFile", json_string(callee_file));
    }
    if (e) {
        json_array_append_new(w->edges, e);
    }
}

static bool keep_edge(const walk *w, const char *caller_file)
{
    return !w->file_filter || strstr(caller_file, w->file_filter) != NULL;
}

/* The call sites whose callee resolves to one of targets (which all bear the same name, as the
 * definitions one symbol argument names do), in (path, line) order. The calling files come
 * first, in path order with their site counts (index-only, ixt_calling_files); each is resolved
 * once (ixt_resolve_callee; not at all when the name has a sole definition), and only the sites
 * of files that still fit under cap are read: the others are counted, not fetched. which[i]
 * (arena) is the index of the target edge i calls. Returns the count, at most cap edges
 * stored; -1 on error. */
static int64_t fetch_callers(walk *w, const ix_sym *targets, int nt, ix_edge **out, int **which,
                             int64_t cap)
{
    *out = NULL;
    *which = NULL;
    ix_callfile *files = NULL;
    int64_t nf = ixt_calling_files(w->call, w->db, targets[0].name, &files);
    if (nf <= 0) {
        return nf;
    }
    /* a name with a single definition resolves to it from every file */
    int sole_t = -1;
    int64_t sole = ixt_sole_definition(w->db, targets[0].name);
    for (int t = 0; sole && t < nt; t++) {
        if (targets[t].id == sole) {
            sole_t = t;
        }
    }
    if (sole && sole_t < 0) {
        return 0; /* every call goes to a definition that is not a target */
    }
    /* else each file's resolution, all at once */
    int64_t *defs = NULL;
    if (!sole) {
        defs = arena_alloc(w->call->a, (size_t)nf * sizeof *defs);
        if (!defs) {
            return -1;
        }
        if (!ixt_resolve_files(w->call, w->db, targets[0].name, files, nf, defs)) {
            w->stopped = true; /* the deadline: the files not reached count as unresolved */
        }
    }
    /* the caller's symbol comes with the row (one indexed lookup each, no second query) */
    sqlite3_stmt *st = gx_prep(
        w->db, "SELECT c.line, coalesce(c.caller_id, 0), s.name, s.qname, s.kind, s.start_line, "
               "s.end_line, coalesce(s.parent_id, 0) "
               "FROM calls c LEFT JOIN symbols s ON s.id = c.caller_id "
               "WHERE c.callee = ?1 AND c.file_id = ?2 ORDER BY c.line, c.rowid");
    if (!st) {
        return -1;
    }
    int64_t n = 0, vcap = 0;
    ix_edge *v = NULL;
    int *wv = NULL;
    for (int64_t i = 0; i < nf; i++) {
        int target = sole_t;
        for (int t = 0; !sole && t < nt; t++) {
            if (defs[i] && targets[t].id == defs[i]) {
                target = t;
            }
        }
        if (target < 0) {
            continue;
        }
        int64_t stored = 0;
        if (n < cap) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, targets[0].name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, files[i].file_id);
        }
        int64_t last_caller = -1;
        ix_sym last_sym;
        memset(&last_sym, 0, sizeof last_sym);
        while (n + stored < cap && sqlite3_step(st) == SQLITE_ROW) {
            int64_t k = n + stored;
            if (k == vcap) {
                int64_t nc = vcap ? vcap * 2 : 32;
                ix_edge *nv = arena_alloc(w->call->a, (size_t)nc * sizeof *nv);
                int *nw = arena_alloc(w->call->a, (size_t)nc * sizeof *nw);
                if (!nv || !nw) {
                    break;
                }
                if (k) {
                    memcpy(nv, v, (size_t)k * sizeof *nv);
                    memcpy(nw, wv, (size_t)k * sizeof *nw);
                }
                v = nv;
                wv = nw;
                vcap = nc;
            }
            ix_edge *e = &v[k];
            memset(e, 0, sizeof *e);
            e->line = sqlite3_column_int64(st, 0);
            e->path = files[i].path;
            e->callee = targets[target].name;
            e->candidates = 1;
            int64_t caller = sqlite3_column_int64(st, 1);
            if (caller && caller != last_caller && sqlite3_column_type(st, 2) != SQLITE_NULL) {
                /* rows of one caller are adjacent (increasing lines): copy it once */
                memset(&last_sym, 0, sizeof last_sym);
                last_sym.id = caller;
                last_sym.file_id = files[i].file_id;
                last_sym.path = e->path;
                last_sym.name = gx_col(w->call->a, st, 2);
                last_sym.qname = gx_col(w->call->a, st, 3);
                last_sym.kind = gx_col(w->call->a, st, 4);
                last_sym.signature = "";
                last_sym.start_line = sqlite3_column_int64(st, 5);
                last_sym.end_line = sqlite3_column_int64(st, 6);
                last_sym.parent_id = sqlite3_column_int64(st, 7);
                last_caller = caller;
            }
            if (caller && caller == last_caller) {
                e->other = last_sym;
            }
            wv[k] = target;
            stored++;
        }
        /* the sites past cap are counted, not read */
        n += files[i].sites > stored ? files[i].sites : stored;
    }
    sqlite3_finalize(st);
    *out = v;
    *which = wv;
    return n;
}

/* list the edges at the targets (one symbol, or the definitions of the argument at hop 1) and
 * recurse (depth > 1 format of §3.2) */
static void expand(walk *w, const ix_sym *targets, int nt, int hop)
{
    if (w->stopped || hop > w->max_depth) {
        return;
    }
    if (tool_expired(w->call)) {
        w->stopped = true;
        return;
    }
    for (int t = 0; t < (w->callers ? 1 : nt) && !w->stopped; t++) {
        ix_edge *ev = NULL;
        int *which = NULL;
        /* without a file filter every edge past MAX_EDGES is only counted: fetch no more
           callers than can still be listed (callees: a body's calls, few) */
        int64_t cap = EDGES_PER_Q;
        if (w->callers && !w->file_filter) {
            cap = w->listed < MAX_EDGES ? MAX_EDGES - w->listed : 0;
        }
        int64_t n = w->callers ? fetch_callers(w, targets, nt, &ev, &which, cap)
                               : ixt_callees(w->call, w->db, &targets[t], &ev, cap);
        if (n < 0) {
            w->stopped = true;
            return;
        }
        int64_t have = n < cap ? n : cap;
        if (n > have) {
            w->omitted += n - have;
        }
        if (!ev || (w->callers && !which)) {
            have = 0; /* nothing stored (out of arena memory) */
        }
        for (int64_t i = 0; i < have && !w->stopped; i++) {
            ix_edge *e = &ev[i];
            const ix_sym *sym = w->callers && which ? &targets[which[i]] : &targets[t];
            /* callers: the caller's file is the call site's; callees: the site is in sym */
            if (!keep_edge(w, e->path)) {
                continue;
            }
            if (w->listed >= MAX_EDGES) {
                w->omitted++;
                continue;
            }
            w->listed++;
            bool one_hop = w->max_depth == 1;
            if (w->callers) {
                if (one_hop) {
                    buf_printf(w->text, "  %s → %s  (L%lld)\n", e->path, sym_name(&e->other),
                               (long long)e->line);
                } else {
                    buf_printf(w->text, "%*s%s ← %s  (%s:L%lld)\n", 2 * hop, "",
                               sym_name(&e->other), sym->name, e->path, (long long)e->line);
                }
                edge_json(w, &e->other, e->path, e->line, sym->name, sym->path);
            } else {
                if (one_hop) {
                    buf_printf(w->text, "  → %s  (%s:L%lld)\n", e->callee, e->path,
                               (long long)e->line);
                } else {
                    buf_printf(w->text, "%*s%s → %s  (%s:L%lld)\n", 2 * hop, "", sym->name,
                               e->callee, e->path, (long long)e->line);
                }
                edge_json(w, sym, e->path, e->line, e->callee,
                          e->candidates == 1 ? e->other.path : NULL);
            }
            /* expand the other end once it is a resolved symbol not seen before */
            bool expandable = w->callers ? e->other.id != 0 : (e->candidates == 1 && e->other.id);
            if (hop < w->max_depth && expandable) {
                if (w->seen_n >= MAX_NODES) {
                    w->stopped = true;
                    break;
                }
                if (seen_add(w, e->other.id)) {
                    ix_sym next = e->other;
                    expand(w, &next, 1, hop + 1);
                }
            }
        }
    }
}

/* count distinct transitive callers (risk): breadth-first, depth <= 5 */
static int64_t count_callers(walk *w, ix_sym *targets, int nt, int64_t *direct)
{
    ix_sym *queue = xmalloc(MAX_NODES * sizeof(ix_sym));
    int *qd = xmalloc(MAX_NODES * sizeof(int));
    if (!queue || !qd) {
        xfree(queue);
        xfree(qd);
        w->stopped = true;
        return 0;
    }
    size_t head = 0, tail = 0;
    for (int i = 0; i < nt; i++) {
        seen_add(w, targets[i].id);
        queue[tail] = targets[i];
        qd[tail++] = 0;
    }
    int64_t total = 0;
    *direct = 0;
    /* file-level call sites have no symbol: count each calling file once per callee */
    while (head < tail && !w->stopped) {
        ix_sym s = queue[head];
        int d = qd[head++];
        if (d >= 5) {
            continue;
        }
        if (tool_expired(w->call)) {
            w->stopped = true;
            break;
        }
        ix_edge *ev = NULL;
        int *which = NULL;
        /* the definitions the argument names share a name: one pass finds the callers of all */
        int64_t n = d == 0 ? fetch_callers(w, targets, nt, &ev, &which, EDGES_PER_Q)
                           : fetch_callers(w, &s, 1, &ev, &which, EDGES_PER_Q);
        if (d == 0) {
            head = (size_t)nt; /* the other targets were served by this pass */
        }
        int64_t have = n < EDGES_PER_Q ? n : EDGES_PER_Q;
        if (!ev) {
            have = 0; /* nothing stored (out of arena memory) */
        }
        const char *last_top_file = NULL;
        for (int64_t i = 0; i < have; i++) {
            ix_edge *e = &ev[i];
            if (!keep_edge(w, e->path)) {
                continue;
            }
            if (!e->other.id) {
                if (!last_top_file || strcmp(last_top_file, e->path) != 0) {
                    total++;
                    *direct += d == 0;
                    last_top_file = e->path;
                }
                continue;
            }
            if (!seen_add(w, e->other.id)) {
                continue;
            }
            total++;
            *direct += d == 0;
            if (tail < MAX_NODES) {
                queue[tail] = e->other;
                qd[tail++] = d + 1;
            } else {
                w->stopped = true;
            }
        }
    }
    xfree(queue);
    xfree(qd);
    return total;
}

/* the definitions a symbol argument names; 0 with the failure in out when there are none */
static int targets_of(tool_call *call, tool_out *out, sqlite3 *db, const char *q, ix_sym *t)
{
    int64_t n = ixt_find_symbols(call, db, q, NULL, NULL, t, MAX_TARGETS);
    if (n <= 0) {
        ixt_fail_no_symbol(out, db, q);
        return 0;
    }
    int m = n < MAX_TARGETS ? (int)n : MAX_TARGETS, k = 1;
    /* one call name per walk: keep the definitions named like the first */
    for (int i = 1; i < m; i++) {
        if (strcmp(t[i].name, t[0].name) == 0) {
            t[k++] = t[i];
        }
    }
    return k;
}

typedef struct hop {
    int64_t id;
    int prev;
    ix_sym sym;
    const char *site_path;
    int64_t site_line;
} hop;

static err do_trace(tool_call *call, tool_out *out, sqlite3 *db, const char *from, const char *to)
{
    ix_sym fs[MAX_TARGETS], ts[MAX_TARGETS];
    int nf = targets_of(call, out, db, from, fs);
    if (!nf) {
        return ERR_OK;
    }
    int nt = targets_of(call, out, db, to, ts);
    if (!nt) {
        return ERR_OK;
    }
    walk w = {.call = call, .db = db};
    if (!seen_init(&w)) {
        return ERR_NOMEM;
    }
    hop *v = xmalloc(MAX_NODES * sizeof(hop));
    int *depth = xmalloc(MAX_NODES * sizeof(int));
    if (!v || !depth) {
        xfree(v);
        xfree(depth);
        return ERR_NOMEM;
    }
    size_t head = 0, tail = 0;
    int found = -1;
    for (int i = 0; i < nf; i++) {
        if (seen_add(&w, fs[i].id)) {
            v[tail] = (hop){.id = fs[i].id, .prev = -1, .sym = fs[i]};
            depth[tail++] = 0;
        }
    }
    for (size_t i = 0; i < tail && found < 0; i++) {
        for (int k = 0; k < nt; k++) {
            if (v[i].id == ts[k].id) {
                found = (int)i;
            }
        }
    }
    bool stopped = false;
    while (head < tail && found < 0) {
        size_t u = head++;
        if (depth[u] >= TRACE_DEPTH) {
            continue;
        }
        if (tool_expired(call)) {
            stopped = true;
            break;
        }
        ix_edge *ev = NULL;
        int64_t n = ixt_callees(call, db, &v[u].sym, &ev, EDGES_PER_Q);
        int64_t have = n < EDGES_PER_Q ? n : EDGES_PER_Q;
        for (int64_t i = 0; i < have && found < 0; i++) {
            ix_edge *e = &ev[i];
            if (e->candidates != 1 || !e->other.id || !seen_add(&w, e->other.id)) {
                continue;
            }
            if (tail >= MAX_NODES) {
                stopped = true;
                break;
            }
            v[tail] = (hop){.id = e->other.id,
                            .prev = (int)u,
                            .sym = e->other,
                            .site_path = e->path,
                            .site_line = e->line};
            depth[tail] = depth[u] + 1;
            for (int k = 0; k < nt; k++) {
                if (e->other.id == ts[k].id) {
                    found = (int)tail;
                }
            }
            tail++;
        }
    }
    if (found < 0) {
        buf_printf(&out->text, "No call path found from '%s' to '%s' (searched up to depth %d)\n",
                   from, to, TRACE_DEPTH);
        if (stopped) {
            buf_puts(&out->text, "(search stopped at the time or node budget)\n");
        }
        out->structured = json_pack("{s:[]}", "edges");
    } else {
        int chain[TRACE_DEPTH + 1], k = 0;
        for (int i = found; i >= 0 && k <= TRACE_DEPTH; i = v[i].prev) {
            chain[k++] = i;
        }
        buf_printf(&out->text, "Call path (%d hop(s)):\n", k - 1);
        json_t *edges = json_array();
        for (int i = k - 1; i >= 0; i--) {
            hop *h = &v[chain[i]];
            if (i == k - 1) {
                buf_printf(&out->text, "  %s  (%s:L%lld)\n", h->sym.name, h->sym.path,
                           (long long)h->sym.start_line);
            } else {
                hop *p = &v[h->prev];
                buf_printf(&out->text, "  → %s  (%s:L%lld)\n", h->sym.name, h->site_path,
                           (long long)h->site_line);
                json_array_append_new(edges, json_pack("{s:s, s:s, s:I, s:s, s:s}", "caller",
                                                       p->sym.name, "callerFile", h->site_path,
                                                       "line", (json_int_t)h->site_line, "callee",
                                                       h->sym.name, "calleeFile", h->sym.path));
            }
        }
        ixt_hint(&out->text);
        buf_putc(&out->text, '\n');
        out->structured = json_pack("{s:o}", "edges", edges);
    }
    xfree(v);
    xfree(depth);
    return ERR_OK;
}

err tool_ctx_callgraph(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "callers");
    const char *symbol = arg_str(call, "symbol", NULL);
    const char *file = arg_str(call, "file", NULL);
    int depth = (int)arg_int(call, "depth", 1);
    bool trace = strcmp(action, "trace") == 0;
    if (trace) {
        if (!arg_str(call, "from", NULL) || !arg_str(call, "to", NULL)) {
            return gx_bad_arg(out, "from and to are required for action=trace");
        }
    } else if (!symbol || !*symbol) {
        return gx_bad_arg(out, "symbol is required for action=%s", action);
    }
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    err rc = ERR_OK;
    if (trace) {
        rc = do_trace(call, out, v.db, arg_str(call, "from", ""), arg_str(call, "to", ""));
        index_view_close(&v);
        return rc;
    }
    ix_sym t[MAX_TARGETS];
    int nt = targets_of(call, out, v.db, symbol, t);
    if (!nt) {
        index_view_close(&v);
        return ERR_OK;
    }
    walk w = {.call = call,
              .db = v.db,
              .file_filter = file && *file ? file : NULL,
              .callers = strcmp(action, "callees") != 0,
              .max_depth = depth};
    if (!seen_init(&w)) {
        index_view_close(&v);
        return ERR_NOMEM;
    }
    if (strcmp(action, "risk") == 0) {
        int64_t direct = 0;
        int64_t total = count_callers(&w, t, nt, &direct);
        const char *level = total > 10   ? "CRITICAL"
                            : total >= 5 ? "HIGH"
                            : total >= 2 ? "MEDIUM"
                                         : "LOW";
        buf_printf(&out->text,
                   "Risk: %s — %lld transitive caller(s) of '%s' (depth≤5, %lld direct)\n", level,
                   (long long)total, symbol, (long long)direct);
        buf_puts(&out->text, "Thresholds: CRITICAL >10 | HIGH 5–10 | MEDIUM 2–4 | LOW 0–1\n");
        if (w.stopped) {
            buf_puts(&out->text, "(count stopped at the time or node budget: a lower bound)\n");
        }
        out->structured = json_pack("{s:s, s:I, s:I}", "risk", level, "transitive",
                                    (json_int_t)total, "direct", (json_int_t)direct);
        index_view_close(&v);
        return ERR_OK;
    }
    /* the header needs the count: render the list into its own buffer first */
    buf body;
    buf_init(&body, (size_t)8 << 20);
    w.text = &body;
    w.edges = json_array();
    for (int i = 0; i < nt && !w.stopped; i++) {
        seen_add(&w, t[i].id);
    }
    expand(&w, t, nt, 1);
    const char *what = w.callers ? "caller" : "callee";
    if (w.listed == 0 && w.omitted == 0) {
        /* the build's own count (meta n_calls) when it kept one: no table scan */
        int64_t edges = gx_scalar(v.db,
                                  "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta "
                                  "WHERE key = 'n_calls'), (SELECT COUNT(*) FROM calls))",
                                  0);
        if (depth > 1) {
            buf_printf(&out->text, "No %ss found for '%s' (depth≤%d, %lld edges in graph)\n", what,
                       symbol, depth, (long long)edges);
        } else {
            buf_printf(&out->text, "No %ss found for '%s' (%lld edges in graph)\n", what, symbol,
                       (long long)edges);
        }
    } else {
        buf_printf(&out->text, "%lld %s(s) of '%s'", (long long)w.listed + (long long)w.omitted,
                   what, symbol);
        if (depth > 1) {
            buf_printf(&out->text, " (depth≤%d)", depth);
        }
        buf_puts(&out->text, ":\n");
        buf_append(&out->text, body.ptr, body.len);
        if (w.omitted) {
            buf_printf(&out->text, "(+%lld more not shown; narrow with file= or lower depth)\n",
                       (long long)w.omitted);
        }
        ixt_hint(&out->text);
        buf_putc(&out->text, '\n');
    }
    if (w.stopped) {
        buf_puts(&out->text,
                 "(walk stopped at the time or node budget: results may be incomplete)\n");
    }
    if (body.failed) {
        rc = ERR_NOMEM;
    }
    buf_release(&body);
    out->structured = json_pack("{s:o}", "edges", w.edges);
    index_view_close(&v);
    return rc;
}

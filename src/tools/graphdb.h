/* graphdb.h - the code graph the graph tools share (tools.md §3 "Common").
 *
 * Two views of one index:
 * - per-call SQL helpers for symbol-level questions (callers, callees): they go through the
 *   index's b-trees (calls.callee, calls.caller_id, symbols.name) and never scan a table, so a
 *   callers query stays in milliseconds on a kernel-sized index;
 * - a whole-workspace file graph (file nodes, import edges file→file, call edges aggregated to
 *   file→file where the callee resolves to one definition) loaded once per index generation and
 *   shared read-only by every request through a small process-wide cache (refcounted, mutex
 *   guarded). Node order is path order, so every walk over it is deterministic.
 *
 * Symbol-level call resolution is ixtools' (ixt_resolve_callee, ixt_callers, ixt_callees); the
 * file graph counts only call edges whose callee has a single callable definition. */
#ifndef CTXD_TOOLS_GRAPHDB_H
#define CTXD_TOOLS_GRAPHDB_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "index/index.h"
#include "tools/tool.h"

/* the storage kinds a call can target (SQL list, for `kind IN (...)`), as ixtools resolves */
#define GX_CALLABLE_KINDS "'fn','method','macro','class','struct'"
/* a definition without a body (a C prototype): its node is no longer than its signature */
#define GX_DECL "(end_byte - start_byte <= length(signature) + 2)"

/* ---- per-call SQL helpers ---- */

/* prepare a statement (NULL on error, logged) */
sqlite3_stmt *gx_prep(sqlite3 *db, const char *sql);
/* a single integer from a query with no parameters (def on error / no row) */
int64_t gx_scalar(sqlite3 *db, const char *sql, int64_t def);
/* files.id of relpath, -1 when not indexed */
int64_t gx_file_id(sqlite3 *db, const char *relpath);
/* a column as an arena string ("" for NULL) */
const char *gx_col(arena *a, sqlite3_stmt *st, int col);

/* ---- the whole-workspace file graph ---- */

typedef struct gx_graph {
    atomic_int refs;
    char key[256]; /* tenant \x1f workspace */
    int64_t generation;
    arena mem;
    uint32_t n;         /* files, in path order */
    int64_t *ids;       /* files.id per node */
    const char **paths; /* relpath per node */
    const char **langs; /* "" when none */
    int32_t *lines;     /* line count per node */
    int32_t *nsyms;     /* symbols per node */
    /* CSR adjacency; each list sorted by node (so by path), without duplicates */
    uint32_t *imp_off, *imp;     /* node imports */
    uint32_t *impby_off, *impby; /* node is imported by */
    uint32_t *call_off, *call;   /* node calls into (resolved, other files) */
    uint32_t *callw;             /* number of call sites per call edge */
    uint32_t *callby_off, *callby;
    int64_t n_imports, n_calls; /* distinct file edges */
    bool calls_partial;         /* call edges left out: their query passed its budget */
    double *rank;               /* plain PageRank (damping 0.85, 30 iterations), sums to 1 */
    /* per-id lookup: id2node[k] for sorted ids */
    int64_t *sorted_ids;
    uint32_t *sorted_nodes;
} gx_graph;

/* The file graph of the view's index generation (loaded on first use, then cached). NULL when
 * the load failed or ran past the call's deadline (then nothing is cached). Release with
 * gx_graph_put. */
gx_graph *gx_graph_get(tool_call *call, ix_view *v);
void gx_graph_put(gx_graph *g);
/* gx_graph_get for a handler that cannot go on without the graph: on failure the view is closed
 * and NULL returned with *rc the handler's answer (ERR_CANCELLED past the call's deadline, else
 * ERR_NOMEM); else *rc is ERR_OK */
gx_graph *gx_graph_need(tool_call *call, ix_view *v, err *rc);
/* ixt_open, then gx_graph_need: NULL with *rc = ERR_OK when there is no index to open (the
 * failure is in out, the view is closed) */
gx_graph *gx_graph_open(tool_call *call, tool_out *out, ix_view *v, err *rc);
/* the node of a files.id, or UINT32_MAX */
uint32_t gx_node_of_id(const gx_graph *g, int64_t id);
/* the node of a relpath, or UINT32_MAX */
uint32_t gx_node_of_path(const gx_graph *g, const char *relpath);

/* Breadth-first distances over import edges from node `from`: reverse=true follows "imported
 * by" (dependents), false follows "imports". dist[] (n entries, caller-allocated) gets -1 for
 * unreached nodes. Stops at max_depth. Returns the number reached (excluding from). */
uint32_t gx_bfs(const gx_graph *g, uint32_t from, bool reverse, int max_depth, int32_t *dist);
/* Shortest import path a → b (following imports), up to max_depth hops: the node list in
 * path[] (caller-allocated, max_depth+1 entries); returns its length (0 = none). */
int gx_import_path(const gx_graph *g, uint32_t a, uint32_t b, int max_depth, uint32_t *path);

/* Personalized PageRank (damping 0.85, iters iterations) with teleport weights tele[] (n
 * entries, >= 0, not all zero) into rank[] (n entries). */
void gx_pagerank(const gx_graph *g, const double *tele, int iters, double *rank);

/* BM25 scores of files for a free-text query: tele[] (g->n entries, zeroed first) gets the sum
 * of -bm25 over the best chunks of each file (at most 400 chunks). Returns the number of files
 * with a positive score. */
uint32_t gx_bm25_files(tool_call *call, sqlite3 *db, const gx_graph *g, const char *query,
                       double *score);
/* the FTS5 MATCH expression for a query: its code-aware tokens OR-ed, each quoted; "" when it
 * has none. Also gives the keywords, comma-separated (may be NULL). */
const char *gx_fts_query(arena *a, const char *query, const char **keywords);

/* a test file by the usual conventions: a path segment or name with test/tests/spec/__tests__,
 * or a name like test_x.py, x_test.go, x.test.ts, x.spec.js, XTest.java */
bool gx_is_test_path(const char *relpath);
/* path is rel itself or lies under the directory rel ("" or "." = everything) */
bool gx_under(const char *path, const char *dir);

/* age as "<n>s", "<n>m", "<n>h", "<n>d" of a unix time (or "never") */
void gx_age(int64_t unix_s, char out[24]);

/* an argument an action requires is missing or malformed: the message (naming the argument)
 * into out, and ERR_INVALID_ARGUMENTS so the dispatcher answers 400 invalid_arguments */
err gx_bad_arg(tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* a directory argument (`path` of ctx_overview, ctx_repomap, ctx_compose, ctx_explore):
 * normalized into rel (cap >= PATH_MAX_LEN + 1), "" for the root; false with the failure in out
 * (path_outside_root, path_denied, not_found, not_a_directory) */
bool gx_dir_arg(tool_call *call, tool_out *out, const char *p, char *rel, size_t cap);

/* the graph status line of ctx_graph status / ctx_impact status */
void gx_status_line(tool_call *call, buf *out);

#endif

/* test_graphdb.c - the graph tools' shared algorithms (src/tools/graphdb.c) on hand-built graphs:
 * PageRank (plain and personalized), breadth-first dependents, shortest import paths, and the
 * path helpers (test-file conventions, directory containment, the FTS5 query of a task). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/arena.h"
#include "tools/graphdb.h"

/* a graph of n nodes with import edges (a imports b), CSR built by hand; no call edges */
typedef struct tg {
    gx_graph g;
    uint32_t off[16], adj[32], roff[16], radj[32], zero[16], none[1];
    const char *paths[16];
} tg;

static void make(tg *t, uint32_t n, const uint32_t (*e)[2], size_t ne)
{
    memset(t, 0, sizeof *t);
    t->g.n = n;
    for (size_t i = 0; i < ne; i++) {
        t->off[e[i][0] + 1]++;
        t->roff[e[i][1] + 1]++;
    }
    for (uint32_t i = 0; i < n; i++) {
        t->off[i + 1] += t->off[i];
        t->roff[i + 1] += t->roff[i];
    }
    uint32_t fo[16] = {0}, fr[16] = {0};
    /* edges must be given sorted by (a, b) so that lists come out sorted */
    for (size_t i = 0; i < ne; i++) {
        uint32_t a = e[i][0], b = e[i][1];
        t->adj[t->off[a] + fo[a]++] = b;
        t->radj[t->roff[b] + fr[b]++] = a;
    }
    t->g.imp_off = t->off;
    t->g.imp = t->adj;
    t->g.impby_off = t->roff;
    t->g.impby = t->radj;
    t->g.call_off = t->zero;
    t->g.callby_off = t->zero;
    t->g.call = t->none;
    t->g.callby = t->none;
    t->g.callw = t->none;
    t->g.paths = t->paths;
}

Test(graphdb, pagerank_ranks_the_hub_and_sums_to_one)
{
    /* 1, 2, 3 import 0 (the hub); 3 also imports 2 */
    static const uint32_t e[][2] = {{1, 0}, {2, 0}, {3, 0}, {3, 2}};
    tg t;
    make(&t, 4, e, 4);
    double tele[4] = {1, 1, 1, 1}, r[4];
    gx_pagerank(&t.g, tele, 30, r);
    double sum = r[0] + r[1] + r[2] + r[3];
    cr_assert(fabs(sum - 1.0) < 1e-9, "sum %f", sum);
    cr_assert(r[0] > r[2] && r[2] > r[1], "%f %f %f %f", r[0], r[1], r[2], r[3]);
    cr_assert(fabs(r[1] - r[3]) < 1e-12, "1 and 3 are both unimported: %f %f", r[1], r[3]);
    /* personalized on node 3: its target 2 now outranks the untouched node 1 by far */
    double p[4] = {0, 0, 0, 1}, rp[4];
    gx_pagerank(&t.g, p, 50, rp);
    cr_assert(rp[3] > rp[1] && rp[2] > rp[1], "%f %f %f %f", rp[0], rp[1], rp[2], rp[3]);
    cr_assert(rp[1] < 1e-12, "node 1 is unreachable from the teleport mass: %g", rp[1]);
}

Test(graphdb, bfs_and_paths)
{
    /* chain 0 → 1 → 2 → 3, plus 4 → 2 */
    static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 3}, {4, 2}};
    tg t;
    make(&t, 5, e, 4);
    int32_t d[5];
    /* dependents of 3 (reverse edges) */
    cr_assert_eq(gx_bfs(&t.g, 3, true, 10, d), 4);
    cr_assert_eq(d[2], 1);
    cr_assert_eq(d[1], 2);
    cr_assert_eq(d[4], 2);
    cr_assert_eq(d[0], 3);
    cr_assert_eq(gx_bfs(&t.g, 3, true, 2, d), 3, "depth 2 stops before node 0");
    cr_assert_eq(d[0], -1);
    uint32_t path[11];
    int len = gx_import_path(&t.g, 0, 3, 10, path);
    cr_assert_eq(len, 4);
    cr_assert(path[0] == 0 && path[1] == 1 && path[2] == 2 && path[3] == 3);
    cr_assert_eq(gx_import_path(&t.g, 3, 0, 10, path), 0, "edges are directed");
    cr_assert_eq(gx_import_path(&t.g, 0, 3, 2, path), 0, "three hops do not fit in two");
}

Test(graphdb, path_helpers)
{
    cr_assert(gx_is_test_path("tests/test_util.c"));
    cr_assert(gx_is_test_path("src/__tests__/a.ts"));
    cr_assert(gx_is_test_path("pkg/server_test.go"));
    cr_assert(gx_is_test_path("web/app.spec.ts"));
    cr_assert(gx_is_test_path("test_x.py"));
    cr_assert(gx_is_test_path("src/FooTest.java"));
    cr_assert_not(gx_is_test_path("src/contest.c"));
    cr_assert_not(gx_is_test_path("src/latest/main.c"));
    cr_assert(gx_under("src/a.c", "src"));
    cr_assert(gx_under("src/a.c", "src/"));
    cr_assert(gx_under("src/a.c", "."));
    cr_assert(gx_under("src/a.c", ""));
    cr_assert_not(gx_under("srcx/a.c", "src"));
    cr_assert_not(gx_under("src", "src/a.c"));
}

Test(graphdb, fts_query_quotes_tokens)
{
    arena a;
    arena_init(&a, 1 << 20);
    const char *kw = NULL;
    const char *q = gx_fts_query(&a, "verifyToken OR \"x\" NEAR(", &kw);
    /* operators and quotes from the caller never reach FTS5 unquoted */
    cr_assert(strstr(q, "\"verify\""), "%s", q);
    cr_assert(strstr(q, "\"token\""), "%s", q);
    cr_assert_null(strstr(q, "NEAR("), "%s", q);
    for (const char *p = q; *p; p++) {
        cr_assert(*p != '(' && *p != '*' && *p != ':', "%s", q);
    }
    cr_assert(strstr(kw, "verify"), "%s", kw);
    cr_assert_str_eq(gx_fts_query(&a, "!! ..", NULL), "");
    arena_release(&a);
}

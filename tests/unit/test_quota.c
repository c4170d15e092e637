/* test_quota.c - the index's side of storage quotas (index.h "storage quota"), through the
 * hook a server installs, here a fake one: the estimate's arithmetic, the refusal before a
 * build, the rollback of a build that grows past the quota (nothing of it left), the report of
 * the bytes on disk after every pass, an incremental update stopped by the quota while one
 * that only removes goes through, and builds refused once the hook is removed (shutdown).
 * (The server's side, 507 on REST and MCP: tests/integration/test_quota.c.) */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "index/index.h"

#include "fixtures.h"

/* the fake store: one tenant's quota, and what was reported */
static struct {
    int64_t quota;
    int64_t used_other;
    bool fail;
    int reports;
    int64_t last_bytes;
    char last_tenant[64];
} F;

static bool fake_get(void *ctx, const char *tenant, ix_quota *out)
{
    (void)ctx;
    (void)tenant;
    out->quota = F.quota;
    out->used_other = F.used_other;
    return !F.fail;
}

static void fake_report(void *ctx, const char *tenant, int64_t bytes)
{
    (void)ctx;
    F.reports++;
    F.last_bytes = bytes;
    snprintf(F.last_tenant, sizeof F.last_tenant, "%s", tenant);
}

static config *load_one_ws(const char *dir, const char *ws)
{
    char cfgp[200], json[800];
    snprintf(cfgp, sizeof cfgp, "%s/team.json", dir);
    snprintf(json, sizeof json,
             "{\"dataDir\": \"%s/data\", \"workspaces\": [{\"id\": \"w\", \"root\": \"%s\","
             " \"tenant\": \"acme\"}], \"tokens\": []}",
             dir, ws);
    fixture_write(dir, "team.json", json);
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(cfgp, true, &p);
    cr_assert_not_null(c, "%s", p.text.ptr);
    config_problems_release(&p);
    return c;
}

static long long sql_int(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* n one-line functions with two calls each: an index several times the estimate */
static char *dense(int tag, int n)
{
    size_t cap = (size_t)n * 96 + 1, len = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(s + len, cap - len,
                                "int fn_%d_%d(int a) { return helper_%d(a) + other_%d(a); }\n", tag,
                                i, i, i);
    }
    return s;
}

typedef struct tree {
    char dir[64], ws[200], db[300], wal[310];
    config *c;
    const cfg_workspace *w;
    long long text_bytes; /* the bytes of the files the estimate counts at 2 per byte */
    int n_files;          /* every file the walk sees */
} tree;

static void add(tree *t, const char *rel, const char *content, bool text)
{
    fixture_write(t->ws, rel, content);
    t->n_files++;
    if (text) {
        t->text_bytes += (long long)strlen(content);
    }
}

/* ten dense C files and one binary-named file (counted as a row only) */
static void make_tree(tree *t)
{
    memset(t, 0, sizeof *t);
    fixture_tmpdir("quota", t->dir, sizeof t->dir);
    snprintf(t->ws, sizeof t->ws, "%s/ws", t->dir);
    for (int f = 0; f < 10; f++) {
        char rel[32];
        snprintf(rel, sizeof rel, "f%d.c", f);
        char *s = dense(f, 150);
        add(t, rel, s, true);
        free(s);
    }
    add(t, "logo.png", "not really a picture, but named like one\n", false);
    t->c = load_one_ws(t->dir, t->ws);
    t->w = &t->c->workspaces[0];
    snprintf(t->db, sizeof t->db, "%s/data/index/acme/w.db", t->dir);
    snprintf(t->wal, sizeof t->wal, "%s-wal", t->db);
    index_setup(t->c->data_dir, 2);
    memset(&F, 0, sizeof F);
    F.quota = -1;
    index_set_quota_fns(fake_get, fake_report, NULL);
}

static void free_tree(tree *t)
{
    index_shutdown();
    index_set_quota_fns(NULL, NULL, NULL);
    config_unref(t->c);
}

static long long expected_estimate(const tree *t)
{
    return IX_EST_EMPTY_BYTES + (long long)t->n_files * IX_EST_ROW_BYTES +
           t->text_bytes * IX_EST_FACTOR_NUM / IX_EST_FACTOR_DEN;
}

Test(quota, estimate_refuses_before_anything_is_written)
{
    tree t;
    make_tree(&t);
    F.quota = 0;
    ix_summary sum;
    ix_status st;
    cr_assert_not(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st));
    cr_assert(sum.over_quota && sum.stopped, "%s", sum.why);
    cr_assert_eq(sum.quota_bytes, 0);
    cr_assert_eq(sum.quota_used, 0);
    cr_assert_eq(sum.quota_requested, expected_estimate(&t), "%lld vs %lld",
                 (long long)sum.quota_requested, expected_estimate(&t));
    char want[96];
    snprintf(want, sizeof want, "storage quota exceeded (%lld of 0)", expected_estimate(&t));
    cr_assert(strncmp(sum.why, want, strlen(want)) == 0, "%s", sum.why);
    cr_assert_eq(file_size(t.db), 0, "no database may be created");
    /* wait=false the same: no job */
    cr_assert_not(index_build(t.c, t.w, false, "", false, NULL, NULL, NULL, &sum, &st));
    cr_assert(sum.over_quota);
    cr_assert_str_eq(st.job, "");
    /* the bytes used elsewhere count: a quota the estimate fits alone, but not with them */
    F.quota = expected_estimate(&t) + 10;
    F.used_other = 11;
    cr_assert_not(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st));
    cr_assert(sum.over_quota);
    cr_assert_eq(sum.quota_used, 11);
    /* a hook that cannot answer refuses rather than skipping the quota */
    F.fail = true;
    cr_assert_not(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st));
    cr_assert_not(sum.over_quota);
    cr_assert(strstr(sum.why, "cannot read the storage quota of tenant 'acme'"), "%s", sum.why);
    free_tree(&t);
}

Test(quota, growth_past_the_quota_rolls_the_whole_build_back)
{
    tree t;
    make_tree(&t);
    /* the real size, measured without a quota on a copy of the tree */
    tree u;
    make_tree(&u);
    ix_summary sum;
    ix_status st;
    cr_assert(index_build(u.c, u.w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    long long real = sql_int(u.db, "SELECT page_count * page_size FROM pragma_page_count(),"
                                   " pragma_page_size()");
    free_tree(&u);
    index_setup(t.c->data_dir, 2);
    index_set_quota_fns(fake_get, fake_report, NULL);
    long long est = expected_estimate(&t);
    cr_assert_gt(real, est + est / 2, "%lld vs %lld", real, est);

    F.quota = est + (real - est) / 2;
    F.reports = 0;
    cr_assert_not(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st));
    cr_assert(sum.over_quota && sum.stopped);
    cr_assert(strncmp(sum.why, "stopped: storage quota exceeded (", 33) == 0, "%s", sum.why);
    cr_assert_leq(sum.quota_used, F.quota);
    cr_assert_gt(sum.quota_used + sum.quota_requested, F.quota);
    /* nothing of the build: the schema only, and what is on disk was reported */
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM files"), 0);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM symbols"), 0);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM meta WHERE key = 'generation'"), 0);
    cr_assert_eq(F.reports, 1);
    cr_assert_str_eq(F.last_tenant, "acme");
    cr_assert_eq(F.last_bytes, file_size(t.db) + file_size(t.wal));
    cr_assert_eq(F.last_bytes, sum.quota_used);
    /* the status says so */
    index_status(t.c, t.w, &st);
    cr_assert(strncmp(st.last_stop, "stopped: storage quota exceeded (", 33) == 0, "%s",
              st.last_stop);
    cr_assert_eq(st.quota_bytes, F.quota);
    buf b;
    buf_init(&b, 4096);
    index_status_text(&st, &b);
    cr_assert(strstr(b.ptr, "\nlast build stopped: storage quota exceeded ("), "%s", b.ptr);
    buf_release(&b);

    /* enough room: it commits, the WAL is given back, the bytes on disk are reported */
    F.quota = real * 3;
    cr_assert(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM files"), t.n_files);
    cr_assert_eq(file_size(t.wal), 0);
    cr_assert_eq(F.last_bytes, file_size(t.db));
    index_status(t.c, t.w, &st);
    cr_assert_str_eq(st.last_stop, "", "a build that commits clears the stop");
    cr_assert_eq(st.tenant_bytes, file_size(t.db));
    buf_init(&b, 4096);
    index_status_text(&st, &b);
    char q[96];
    snprintf(q, sizeof q, "; tenant storage %lld of quota %lld", file_size(t.db),
             (long long)F.quota);
    cr_assert(strstr(b.ptr, q), "%s", b.ptr);
    buf_release(&b);
    free_tree(&t);
}

Test(quota, updates_that_grow_past_the_quota_stop_removals_do_not)
{
    tree t;
    make_tree(&t);
    F.quota = 100000000;
    ix_summary sum;
    ix_status st;
    cr_assert(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    long long size = file_size(t.db) + file_size(t.wal);
    cr_assert_eq(F.last_bytes, size);
    /* a new dense file named by the watcher, with almost no room left: rolled back */
    F.quota = size + 4096;
    char *s = dense(99, 400);
    fixture_write(t.ws, "big.c", s);
    free(s);
    const char *const added[] = {"big.c"};
    char why[300];
    cr_assert_not(index_update_paths(t.c, t.w, added, 1, NULL, &sum, why, sizeof why));
    cr_assert(sum.over_quota, "%s", why);
    cr_assert(strncmp(why, "stopped: storage quota exceeded (", 33) == 0, "%s", why);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM files WHERE path = 'big.c'"), 0);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM symbols WHERE name = 'fn_99_1'"), 0);
    /* now over a lowered quota: removing a file grows nothing and goes through */
    F.quota = 1000;
    char rm[300];
    snprintf(rm, sizeof rm, "%s/f3.c", t.ws);
    cr_assert_eq(unlink(rm), 0);
    const char *const gone[] = {"f3.c"};
    cr_assert(index_update_paths(t.c, t.w, gone, 1, NULL, &sum, why, sizeof why), "%s", why);
    cr_assert_eq(sum.removed, 1);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM files WHERE path = 'f3.c'"), 0);
    /* an explicit build while over the quota is refused at once, even with nothing to do */
    cr_assert_not(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st));
    cr_assert(sum.over_quota);
    cr_assert(strstr(sum.why, "over its storage quota"), "%s", sum.why);
    free_tree(&t);
}

Test(quota, builds_are_refused_once_the_hook_is_removed)
{
    tree t;
    make_tree(&t);
    index_set_quota_fns(NULL, NULL, NULL);
    ix_summary sum;
    ix_status st;
    cr_assert_not(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st));
    cr_assert(strstr(sum.why, "shutting down"), "%s", sum.why);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM files"), -1, "nothing written");
    /* installed again: quota -1 means none */
    index_set_quota_fns(fake_get, fake_report, NULL);
    F.quota = -1;
    cr_assert(index_build(t.c, t.w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    cr_assert_eq(sql_int(t.db, "SELECT count(*) FROM files"), t.n_files);
    free_tree(&t);
}

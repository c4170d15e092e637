/* test_index.c - the index's pure parts: tokenizer, schema and migrations, version refusal,
 * the lease, import resolution. (Builds over real trees: tests/integration/test_index.c.) */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "index/index.h"
#include "index/resolve.h"
#include "index/store.h"

#include "fixtures.h"

static char *tok(const char *s)
{
    static char out[1024];
    buf b;
    buf_init(&b, 4096);
    index_tokenize(s, strlen(s), &b);
    snprintf(out, sizeof out, "%s", b.ptr ? b.ptr : "");
    buf_release(&b);
    return out;
}

Test(index, tokenizer_splits_code_words)
{
    cr_assert_str_eq(tok("parseHTTPRequest(foo_bar, x);"),
                     "parsehttprequest parse http request foo_bar foo bar");
    cr_assert_str_eq(tok("a b cd"), "cd");
    cr_assert_str_eq(tok("getV2Api __init__ MAX_SIZE"),
                     "getv2api get v2 api __init__ max_size max size");
    cr_assert_str_eq(tok("src/auth/token.c"), "src auth token");
    cr_assert_str_eq(tok("naïve_ünicode"), "na ve_ nicode");
    /* a word longer than 64 bytes is dropped */
    char longw[80];
    memset(longw, 'a', 70);
    longw[70] = '\0';
    cr_assert_str_eq(tok(longw), "");
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

Test(index, schema_is_created_at_version_2_private_and_wal)
{
    char dir[64], path[200], why[300];
    fixture_tmpdir("ixunit", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/index/local/main.db", dir);
    sqlite3 *db = ix_db_open_rw(path, why, sizeof why);
    cr_assert_not_null(db, "%s", why);
    cr_assert_eq(ix_meta_int(db, "schema_version", 0), 2);
    cr_assert_eq(count_rows(db,
                            "SELECT count(*) FROM sqlite_master WHERE name IN ('files',"
                            "'symbols','imports','calls','routes','chunks','chunks_fts','meta')"),
                 8);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name"
                                " IN ('symbols_name','calls_callee_file','calls_caller')"),
                 3);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    cr_assert_eq(count_rows(db, "PRAGMA foreign_keys"), 1);
    sqlite3_close(db);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/index/local", dir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);
    /* opening again keeps the data (no second migration) */
    snprintf(path, sizeof path, "%s/index/local/main.db", dir);
    db = ix_db_open_rw(path, why, sizeof why);
    cr_assert_not_null(db);
    cr_assert(ix_meta_set_text(db, "commit", "abc"));
    sqlite3_close(db);
    db = ix_db_open_rw(path, why, sizeof why);
    char v[16];
    cr_assert(ix_meta_text(db, "commit", v, sizeof v));
    cr_assert_str_eq(v, "abc");
    /* a version 1 database (calls indexed by callee alone) is upgraded in place at open */
    cr_assert(ix_exec(db, "DROP INDEX calls_callee_file; CREATE INDEX calls_callee ON "
                          "calls(callee); UPDATE meta SET value = '1' WHERE key = "
                          "'schema_version'"));
    sqlite3_close(db);
    db = ix_db_open_rw(path, why, sizeof why);
    cr_assert_not_null(db, "%s", why);
    cr_assert_eq(ix_meta_int(db, "schema_version", 0), 2);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                "'calls_callee_file'"),
                 1);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'calls_callee'"),
                 0);
    cr_assert(ix_meta_text(db, "commit", v, sizeof v));
    cr_assert_str_eq(v, "abc");
    /* a first build that stopped midway (it drops the secondary indexes of symbols, calls and
       chunks and creates them at its end) gets them back at the next open for writing */
    cr_assert(ix_indexes_drop(db));
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                "tbl_name IN ('symbols', 'calls', 'chunks')"),
                 0);
    sqlite3_close(db);
    db = ix_db_open_rw(path, why, sizeof why);
    cr_assert_not_null(db, "%s", why);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                "tbl_name IN ('symbols', 'calls', 'chunks')"),
                 6);
    sqlite3_close(db);
}

Test(index, newer_schema_is_refused_untouched)
{
    char dir[64], path[200], why[300];
    fixture_tmpdir("ixunit", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
                              "INSERT INTO meta VALUES ('schema_version', '7');"
                              "CREATE TABLE future(x);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    cr_assert_null(ix_db_open_rw(path, why, sizeof why));
    cr_assert(strstr(why, "schema version 7, newer than this binary's (2)"), "%s", why);
    cr_assert_null(ix_db_open_ro(path, why, sizeof why));
    cr_assert(strstr(why, "newer"), "%s", why);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM sqlite_master"),
                 3); /* meta, its index, future */
    cr_assert_eq(count_rows(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
    sqlite3_close(db);
}

Test(index, lease_is_exclusive)
{
    char dir[64], path[200], why[300];
    fixture_tmpdir("ixunit", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a/b.db", dir);
    int a = ix_lease_acquire(path, false, NULL, why, sizeof why);
    cr_assert_geq(a, 0, "%s", why);
    int b = ix_lease_acquire(path, false, NULL, why, sizeof why);
    cr_assert_eq(b, -1);
    cr_assert(strstr(why, "another process"), "%s", why);
    ix_lease_release(a);
    b = ix_lease_acquire(path, false, NULL, why, sizeof why);
    cr_assert_geq(b, 0, "%s", why);
    ix_lease_release(b);
}

static ix_resolver *fixture(void)
{
    static const char *const files[] = {
        "web/src/app.ts",
        "web/src/util.ts",
        "web/src/comp/index.tsx",
        "web/src/legacy.js",
        "py/pkg/__init__.py",
        "py/pkg/mod.py",
        "py/pkg/sub/__init__.py",
        "py/pkg/sub/deep.py",
        "py/main.py",
        "c/src/main.c",
        "c/src/local.h",
        "c/include/lib/api.h",
        "c/arch/x86/include/lib/api.h",
        "go/internal/store/a.go",
        "go/internal/store/a_test.go",
        "go/internal/store/b.go",
        "rs/src/main.rs",
        "rs/src/net.rs",
        "rs/src/net/tcp.rs",
        "rs/src/db/mod.rs",
        "java/src/main/java/com/acme/Foo.java",
        "kt/src/com/acme/Bar.kt",
        "rb/lib/helper.rb",
        "rb/app.rb",
    };
    ix_resolver *r = ix_resolver_new();
    cr_assert_not_null(r);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        cr_assert(ix_resolver_add(r, (int64_t)i + 1, files[i]));
    }
    return r;
}

Test(index, import_resolution)
{
    ix_resolver *r = fixture();
    /* JS/TS */
    cr_assert_eq(ix_resolve(r, "web/src/app.ts", "typescript", "./util"), 2);
    cr_assert_eq(ix_resolve(r, "web/src/app.ts", "typescript", "./util.js"), 2);
    cr_assert_eq(ix_resolve(r, "web/src/app.ts", "typescript", "./comp"), 3);
    cr_assert_eq(ix_resolve(r, "web/src/comp/index.tsx", "tsx", "../legacy"), 4);
    cr_assert_eq(ix_resolve(r, "web/src/app.ts", "typescript", "react"), 0);
    cr_assert_eq(ix_resolve(r, "web/src/app.ts", "typescript", "../../../../etc/passwd"), 0);
    /* Python */
    cr_assert_eq(ix_resolve(r, "py/pkg/mod.py", "python", ".sub.deep"), 8);
    cr_assert_eq(ix_resolve(r, "py/pkg/sub/deep.py", "python", "..mod"), 6);
    cr_assert_eq(ix_resolve(r, "py/pkg/sub/deep.py", "python", "."), 7);
    cr_assert_eq(ix_resolve(r, "py/main.py", "python", "pkg.sub"), 7);
    cr_assert_eq(ix_resolve(r, "py/main.py", "python", "pkg.mod"), 6);
    cr_assert_eq(ix_resolve(r, "py/main.py", "python", "os.path"), 0);
    /* C: beside the file, then the shortest path ending with the include */
    cr_assert_eq(ix_resolve(r, "c/src/main.c", "c", "local.h"), 11);
    cr_assert_eq(ix_resolve(r, "c/src/main.c", "c", "lib/api.h"), 12);
    cr_assert_eq(ix_resolve(r, "c/src/main.c", "c", "stdio.h"), 0);
    cr_assert_eq(ix_resolve(r, "c/src/main.c", "c", "api.h"), 12);
    /* Go: the first non-test file of the package directory */
    cr_assert_eq(ix_resolve(r, "go/cmd/x.go", "go", "example.com/acme/go/internal/store"), 14);
    cr_assert_eq(ix_resolve(r, "go/cmd/x.go", "go", "fmt"), 0);
    /* Rust */
    cr_assert_eq(ix_resolve(r, "rs/src/main.rs", "rust", "net"), 18);
    cr_assert_eq(ix_resolve(r, "rs/src/net.rs", "rust", "tcp"), 19);
    cr_assert_eq(ix_resolve(r, "rs/src/main.rs", "rust", "crate::db::Pool"), 20);
    cr_assert_eq(ix_resolve(r, "rs/src/net/tcp.rs", "rust", "crate::net::tcp::{Conn, Addr}"), 19);
    cr_assert_eq(ix_resolve(r, "rs/src/main.rs", "rust", "std::io"), 0);
    /* JVM */
    cr_assert_eq(ix_resolve(r, "java/src/x/Y.java", "java", "com.acme.Foo"), 21);
    cr_assert_eq(ix_resolve(r, "java/src/x/Y.java", "java", "static com.acme.Foo.bar"), 21);
    cr_assert_eq(ix_resolve(r, "kt/src/x.kt", "kotlin", "com.acme.Bar"), 22);
    cr_assert_eq(ix_resolve(r, "kt/src/x.kt", "kotlin", "com.acme.*"), 0);
    /* Ruby */
    cr_assert_eq(ix_resolve(r, "rb/app.rb", "ruby", "lib/helper"), 23);
    cr_assert_eq(ix_resolve(r, "rb/lib/x.rb", "ruby", "./helper"), 23);
    ix_resolver_free(r);
}

/* ---- passes over a real tree, through the public API ---- */

/* team.json in dir with the one workspace "w" rooted at ws and the data under dir/data, loaded */
static config *load_one_ws(const char *dir, const char *ws)
{
    char cfgp[200], json[800];
    snprintf(cfgp, sizeof cfgp, "%s/team.json", dir);
    snprintf(json, sizeof json,
             "{\"dataDir\": \"%s/data\", \"workspaces\": [{\"id\": \"w\", \"root\": \"%s\"}],"
             " \"tokens\": []}",
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
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    long long n = count_rows(db, sql);
    sqlite3_close(db);
    return n;
}

Test(index, update_paths_touches_only_the_named_files)
{
    char dir[64], ws[200], dbp[300];
    fixture_tmpdir("ixunit", dir, sizeof dir);
    snprintf(ws, sizeof ws, "%s/ws", dir);
    fixture_write(ws, "a.c", "int alpha(void) { return 1; }\n");
    fixture_write(ws, "b.c", "int beta(void) { return 2; }\n");
    fixture_write(ws, "sub/c.c", "#include \"../d.h\"\nint gamma(void) { return 3; }\n");
    fixture_write(ws, ".hidden/x.c", "int hidden(void) { return 4; }\n");
    fixture_write(ws, ".gitignore", "ignored.c\nbuild/\n");
    fixture_write(ws, "build/gen.c", "int gen(void) { return 5; }\n");
    cr_assert_eq(system("true"), 0);
    char gitdir[300];
    snprintf(gitdir, sizeof gitdir, "%s/.git", ws);
    cr_assert_eq(mkdir(gitdir, 0700), 0);
    config *c = load_one_ws(dir, ws);
    const cfg_workspace *w = &c->workspaces[0];
    index_setup(c->data_dir, 2);
    ix_summary sum;
    ix_status st;
    cr_assert(index_build(c, w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    cr_assert_eq(sum.files, 3);
    cr_assert_eq(sum.parsed, 3);
    snprintf(dbp, sizeof dbp, "%s/data/index/local/w.db", dir);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM imports WHERE resolved_id IS NULL"), 1);
    /* the first build inserted without the secondary indexes and created them at its end */
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                              " ('symbols_name', 'symbols_file', 'calls_callee_file',"
                              " 'calls_caller', 'calls_file', 'chunks_file')"),
                 6);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM symbols INDEXED BY symbols_name"
                              " WHERE name = 'alpha'"),
                 1);

    /* a.c changes, b.c is changed on disk but not named (so it must stay as it was), d.h is
       new and named (the include of sub/c.c now resolves); names outside the root, hidden,
       ignored or missing are dropped */
    fixture_write(ws, "a.c", "int alpha2(void) { return 1; }\n");
    fixture_write(ws, "b.c", "int beta2(void) { return 2; }\n");
    fixture_write(ws, "d.h", "int delta(void);\n");
    fixture_write(ws, "ignored.c", "int ign(void);\n");
    fixture_write(ws, ".hidden/x.c", "int hidden2(void) { return 4; }\n");
    const char *const paths[] = {"a.c",       "d.h", "../../etc/passwd", ".hidden/x.c",
                                 "ignored.c", "a.c", "nothere/z.c",      "build/gen.c"};
    char why[300];
    cr_assert(index_update_paths(c, w, paths, 8, "0123456789abcdef0123456789abcdef01234567", &sum,
                                 why, sizeof why),
              "%s", why);
    cr_assert_eq(sum.parsed, 2, "parsed %lld", (long long)sum.parsed);
    cr_assert_eq(sum.removed, 0);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM symbols WHERE name = 'alpha2'"), 1);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM symbols WHERE name = 'alpha'"), 0);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM symbols WHERE name = 'beta'"), 1);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM symbols WHERE name IN ('ign', 'hidden2',"
                              " 'gen')"),
                 0);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM imports i JOIN files f ON"
                              " f.id = i.resolved_id WHERE f.path = 'd.h'"),
                 1);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM meta WHERE key = 'commit' AND"
                              " value = '0123456789abcdef0123456789abcdef01234567'"),
                 1);
    /* a named file that is gone is removed, its import edges unresolved again */
    char rm[300];
    snprintf(rm, sizeof rm, "%s/d.h", ws);
    cr_assert_eq(unlink(rm), 0);
    const char *const gone[] = {"d.h"};
    cr_assert(index_update_paths(c, w, gone, 1, NULL, &sum, why, sizeof why), "%s", why);
    cr_assert_eq(sum.removed, 1);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM files WHERE path = 'd.h'"), 0);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM imports WHERE resolved_id IS NULL"), 1);
    /* the status reads the committed state */
    index_status(c, w, &st);
    cr_assert_eq(st.state, IX_READY);
    cr_assert_eq(st.files, 3);
    buf b;
    buf_init(&b, 4096);
    index_status_text(&st, &b);
    static const char want[] = "index: ready\nfiles 3 (3 parsed, 0 skipped), symbols 3, import "
                               "edges 1, call edges 0, chunks 3; languages: c 3; built ";
    cr_assert(strncmp(b.ptr, want, sizeof want - 1) == 0, "%s", b.ptr);
    buf_release(&b);
    /* views: a snapshot with a generation */
    ix_view v;
    cr_assert(index_view_open(c, w, &v));
    cr_assert_gt(v.generation, 0);
    cr_assert_str_eq(v.note, "");
    cr_assert_eq(count_rows(v.db, "SELECT count(*) FROM files"), 3);
    index_view_close(&v);
    index_shutdown();
    config_unref(c);
}

typedef struct holder {
    int fd;
    int ms;
} holder;

static void *release_later(void *arg)
{
    holder *h = arg;
    usleep((useconds_t)h->ms * 1000);
    ix_lease_release(h->fd);
    return NULL;
}

typedef struct seen_progress {
    int calls;
    bool waiting;
} seen_progress;

static void on_progress(void *ctx, int64_t done, int64_t total, const char *message)
{
    seen_progress *s = ctx;
    s->calls++;
    if (strstr(message, "waiting for another process' build of w")) {
        s->waiting = true;
    }
}

Test(index, build_waits_for_the_lease_and_joins_a_running_job)
{
    char dir[64], ws[200], dbp[300];
    fixture_tmpdir("ixunit", dir, sizeof dir);
    snprintf(ws, sizeof ws, "%s/ws", dir);
    fixture_write(ws, "a.py", "def a():\n    return 1\n");
    config *c = load_one_ws(dir, ws);
    const cfg_workspace *w = &c->workspaces[0];
    index_setup(c->data_dir, 1);
    snprintf(dbp, sizeof dbp, "%s/data/index/local/w.db", dir);
    char why[300];
    /* another "process" holds the lease for 700 ms */
    holder h = {ix_lease_acquire(dbp, false, NULL, why, sizeof why), 700};
    cr_assert_geq(h.fd, 0, "%s", why);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, release_later, &h), 0);
    ix_summary sum, sum2;
    ix_status st, st2;
    /* a build started without waiting is a job; a second request joins it (same job id) */
    cr_assert(index_build(c, w, false, "", false, NULL, NULL, NULL, &sum, &st));
    cr_assert_eq(st.state, IX_BUILDING);
    cr_assert(strncmp(st.job, "b-w-", 4) == 0, "%s", st.job);
    seen_progress sp = {0};
    cr_assert(index_build(c, w, false, "", true, NULL, on_progress, &sp, &sum2, &st2), "%s",
              sum2.why);
    cr_assert_str_eq(st2.job, st.job);
    cr_assert(sp.waiting, "progress never said it waited (%d calls)", sp.calls);
    cr_assert_eq(sum2.parsed, 1);
    pthread_join(t, NULL);
    index_shutdown();
    config_unref(c);
}

Test(index, subpath_build_is_confined_to_its_directory)
{
    char dir[64], ws[200], dbp[300];
    fixture_tmpdir("ixunit", dir, sizeof dir);
    snprintf(ws, sizeof ws, "%s/ws", dir);
    fixture_write(ws, "top.c", "int top(void) { return 1; }\n");
    fixture_write(ws, "sub/in.c", "int in(void) { return 2; }\n");
    config *c = load_one_ws(dir, ws);
    const cfg_workspace *w = &c->workspaces[0];
    index_setup(c->data_dir, 1);
    ix_summary sum;
    ix_status st;
    cr_assert(index_build(c, w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    cr_assert_eq(sum.files, 2);
    /* outside the root: refused before anything runs */
    cr_assert_not(index_build(c, w, false, "../..", true, NULL, NULL, NULL, &sum, &st));
    cr_assert_neq(sum.why[0], '\0');
    /* a scan of sub/ sees sub's changes only: top.c's removal waits for a scan that covers it */
    char rm[300];
    snprintf(rm, sizeof rm, "%s/top.c", ws);
    cr_assert_eq(unlink(rm), 0);
    fixture_write(ws, "sub/in.c", "int in2(void) { return 2; }\n");
    cr_assert(index_build(c, w, false, "sub", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    cr_assert_eq(sum.parsed, 1);
    cr_assert_eq(sum.removed, 0);
    snprintf(dbp, sizeof dbp, "%s/data/index/local/w.db", dir);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM files WHERE path = 'top.c'"), 1);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM symbols WHERE name = 'in2'"), 1);
    cr_assert(index_build(c, w, false, "", true, NULL, NULL, NULL, &sum, &st), "%s", sum.why);
    cr_assert_eq(sum.removed, 1);
    cr_assert_eq(sql_int(dbp, "SELECT count(*) FROM files WHERE path = 'top.c'"), 0);
    index_shutdown();
    config_unref(c);
}

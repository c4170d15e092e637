/* test_index.c - the persistent index through the real binary: `ctxd index` (summary,
 * incremental passes, changed and deleted files, skipped files, a file the parser chokes on,
 * errors), and the background build at `serve` start. The database is checked with SQL,
 * opened read-only from the test process. */
#include <criterion/criterion.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void db_path(server *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/data/index/local/main.db", s->dir);
}

/* index_db_int on the workspace "main", asserting that the database answers */
static long long q_int(server *s, const char *sql)
{
    long long v = index_db_int(s, "main", sql);
    cr_assert_neq(v, -1, "%s: no answer from the index database", sql);
    return v;
}

/* index_db_text on the workspace "main"; "" when there is no answer; valid until the next call */
static const char *q_text(server *s, const char *sql)
{
    static char *v;
    free(v);
    v = index_db_text(s, "main", sql);
    return v ? v : "";
}

static int run_index(server *s, char **out, char **err)
{
    const char *args[] = {"index", "--config", s->config, NULL};
    return run_ctxd(args, out, err);
}

/* "index built: F files (P parsed, U unchanged, S skipped), ..." -> F P U S */
static void parse_summary(const char *out, long *f, long *p, long *u, long *sk)
{
    regex_t re;
    cr_assert_eq(regcomp(&re,
                         "^index built: ([0-9]+) files \\(([0-9]+) parsed, ([0-9]+) unchanged, "
                         "([0-9]+) skipped\\), [0-9]+ symbols, [0-9]+ edges, [0-9]+ chunks in "
                         "[0-9]+\\.[0-9] s\n$",
                         REG_EXTENDED),
                 0);
    regmatch_t m[5];
    cr_assert_eq(regexec(&re, out, 5, m, 0), 0, "summary line: '%s'", out);
    long *dst[4] = {f, p, u, sk};
    for (int i = 0; i < 4; i++) {
        *dst[i] = strtol(out + m[i + 1].rm_so, NULL, 10);
    }
    regfree(&re);
}

static void fixture(server *s)
{
    srv_init(s);
    srv_config(s, "\"maxIndexBytes\": 4096");
    ws_write(s, "src/main.c",
             "#include \"util.h\"\n\nstatic int twice(int x)\n{\n    return add(x, x);\n}\n\n"
             "int main(void)\n{\n    return twice(2);\n}\n");
    ws_write(s, "src/util.h", "int add(int a, int b);\n");
    ws_write(s, "lib/app.py",
             "from .models import User\n\nclass Server:\n    def handle_request(self, req):\n"
             "        return parse_body(req)\n\ndef parse_body(req):\n    return req\n");
    ws_write(s, "lib/models.py", "class User:\n    pass\n");
    ws_write_bytes(s, "data.bin",
                   "\x7f"
                   "ELF\0\0\1\2",
                   8);
    /* over maxIndexBytes: recorded, never parsed */
    char *big = malloc(6000);
    memset(big, 'x', 5999);
    for (int i = 80; i < 5999; i += 81) {
        big[i] = '\n';
    }
    big[5999] = '\0';
    ws_write(s, "src/big.c", big);
    free(big);
    /* garbage the C grammar cannot make sense of: deep nesting, stray bytes, no closing */
    char *bad = malloc(4000);
    size_t o = 0;
    o += (size_t)sprintf(bad + o, "int broken(void) { return ");
    for (int i = 0; i < 3000; i++) {
        bad[o++] = '(';
    }
    o += (size_t)sprintf(bad + o,
                         "\n}}}} #if #else @@@ \xff\xfe int ok_after(void) { return 1; }\n");
    bad[o] = '\0';
    ws_write(s, "src/bad.c", bad);
    free(bad);
}

Test(index_it, cli_builds_then_refreshes_only_what_changed, .timeout = 120)
{
    server s;
    fixture(&s);
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    long f, p, u, sk;
    parse_summary(out, &f, &p, &u, &sk);
    /* README.md, src/{main.c,util.c,util.h,big.c,bad.c}, lib/{app.py,models.py}, data.bin */
    cr_assert_eq(f, 9, "%s", out);
    cr_assert_eq(u, 0);
    cr_assert_eq(p + sk, 9);
    free(out);
    free(err);

    /* the database: private, with the expected rows */
    char path[400];
    db_path(&s, path, sizeof path);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    cr_assert_eq(q_int(&s, "SELECT start_line * 100 + end_line FROM symbols s JOIN files f ON"
                           " f.id = s.file_id WHERE f.path = 'src/util.c' AND s.name = 'add'"
                           " AND s.kind = 'fn'"),
                 104);
    cr_assert_str_eq(q_text(&s, "SELECT qname FROM symbols WHERE name = 'handle_request'"),
                     "Server.handle_request");
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM calls c JOIN symbols s ON s.id = c.caller_id"
                           " WHERE s.name = 'twice' AND c.callee = 'add'"),
                 1);
    /* imports resolved to files */
    cr_assert_str_eq(q_text(&s,
                            "SELECT t.path FROM imports i JOIN files f ON f.id = i.file_id"
                            " JOIN files t ON t.id = i.resolved_id WHERE f.path = 'src/main.c'"),
                     "src/util.h");
    cr_assert_str_eq(q_text(&s,
                            "SELECT t.path FROM imports i JOIN files f ON f.id = i.file_id"
                            " JOIN files t ON t.id = i.resolved_id WHERE f.path = 'lib/app.py'"),
                     "lib/models.py");
    cr_assert_str_eq(q_text(&s, "SELECT status FROM files WHERE path = 'data.bin'"), "binary");
    cr_assert_str_eq(q_text(&s, "SELECT status FROM files WHERE path = 'src/big.c'"), "too_large");
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols s JOIN files f ON f.id = s.file_id"
                           " WHERE f.path IN ('src/big.c', 'data.bin')"),
                 0);
    /* the file the parser choked on is recorded, and did not stop the build */
    const char *bad = q_text(&s, "SELECT status FROM files WHERE path = 'src/bad.c'");
    cr_assert(strcmp(bad, "ok") == 0 || strcmp(bad, "parse_error") == 0, "%s", bad);
    /* the text index: BM25 finds a chunk by a camel/snake part, one FTS row per chunk */
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'request'"), 2);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM chunks_fts"),
                 q_int(&s, "SELECT count(*) FROM chunks"));
    cr_assert_eq(q_int(&s, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);

    /* a second run parses nothing */
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    parse_summary(out, &f, &p, &u, &sk);
    cr_assert_eq(f, 9);
    cr_assert_eq(p, 0, "%s", out);
    cr_assert_eq(u, 9, "%s", out);
    free(out);
    free(err);

    /* one file changes: exactly that file is parsed, its symbols replaced */
    ws_write(&s, "src/util.c",
             "int sub(int a, int b)\n{\n    return a - b;\n}\n\nint neg(int a)"
             "\n{\n    return -a;\n}\n");
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    parse_summary(out, &f, &p, &u, &sk);
    cr_assert_eq(p, 1, "%s", out);
    cr_assert_eq(u, 8, "%s", out);
    free(out);
    free(err);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols s JOIN files f ON f.id = s.file_id"
                           " WHERE f.path = 'src/util.c' AND s.name = 'add'"),
                 0);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols s JOIN files f ON f.id = s.file_id"
                           " WHERE f.path = 'src/util.c' AND s.name IN ('sub', 'neg')"),
                 2);
    cr_assert_eq(q_int(&s, "SELECT n_symbols FROM files WHERE path = 'src/util.c'"), 2);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'neg'"), 1);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM chunks_fts"),
                 q_int(&s, "SELECT count(*) FROM chunks"));
    cr_assert_eq(q_int(&s, "SELECT value FROM meta WHERE key = 'n_symbols'"),
                 q_int(&s, "SELECT count(*) FROM symbols"));

    /* a file is deleted: its rows go, and imports of it become unresolved */
    cr_assert_eq(unlink(ws_path(&s, "lib/models.py")), 0);
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    parse_summary(out, &f, &p, &u, &sk);
    cr_assert_eq(f, 8, "%s", out);
    free(out);
    free(err);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM files WHERE path = 'lib/models.py'"), 0);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols WHERE name = 'User'"), 0);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols WHERE file_id NOT IN (SELECT id FROM"
                           " files)"),
                 0);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM chunks_fts"),
                 q_int(&s, "SELECT count(*) FROM chunks"));
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM imports WHERE source = '.models' AND"
                           " resolved_id IS NULL"),
                 1);
}

Test(index_it, full_rebuild_reparses_everything, .timeout = 60)
{
    server s;
    fixture(&s);
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    long long syms = q_int(&s, "SELECT count(*) FROM symbols");
    free(out);
    free(err);
    const char *args[] = {"index", "--config", s.config, "--workspace", "main", "--full", NULL};
    cr_assert_eq(run_ctxd(args, &out, &err), 0, "stderr: %s", err);
    long f, p, u, sk;
    parse_summary(out, &f, &p, &u, &sk);
    cr_assert_eq(u, 0, "%s", out);
    cr_assert_eq(p + sk, 9, "%s", out);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols"), syms);
    free(out);
    free(err);
}

Test(index_it, cli_errors_are_clear, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char *out = NULL, *err = NULL;
    const char *unknown[] = {"index", "--config", s.config, "--workspace", "nope", NULL};
    cr_assert_eq(run_ctxd(unknown, &out, &err), 1);
    cr_assert(strstr(err, "unknown workspace 'nope'"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);
    dir_write(&s, "bad.json", "{\"port\": \"x\"}", NULL, 0);
    char badcfg[400];
    snprintf(badcfg, sizeof badcfg, "%s/bad.json", s.dir);
    const char *bad[] = {"index", "--config", badcfg, NULL};
    cr_assert_eq(run_ctxd(bad, &out, &err), 1);
    cr_assert(strstr(err, "port"), "%s", err);
    free(out);
    free(err);
    const char *usage[] = {"index", NULL};
    cr_assert_eq(run_ctxd(usage, NULL, NULL), 2);
}

Test(index_it, newer_database_is_refused_untouched, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char dir[400], path[400];
    snprintf(dir, sizeof dir, "%s/data/index/local", s.dir);
    char cmd[900];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    cr_assert_eq(system(cmd), 0);
    db_path(&s, path, sizeof path);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
                              "INSERT INTO meta VALUES ('schema_version', '42');",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_index(&s, &out, &err), 1);
    cr_assert(strstr(err, "schema version 42, newer than this binary's"), "%s", err);
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM sqlite_master"), 2);
    cr_assert_eq(q_int(&s, "SELECT value FROM meta WHERE key = 'schema_version'"), 42);
    free(out);
    free(err);
}

Test(index_it, serve_builds_in_the_background, .timeout = 60)
{
    server s;
    fixture(&s);
    cr_assert(srv_start(&s));
    /* the server answers at once; the index appears without any request */
    resp *r = req(&s, "GET", "/health", NULL, NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    char path[400];
    db_path(&s, path, sizeof path);
    bool built = false;
    for (int i = 0; i < 200 && !built; i++) {
        struct stat sb;
        if (stat(path, &sb) == 0 &&
            index_db_int(&s, "main", "SELECT count(*) FROM meta WHERE key = 'built_at'") == 1) {
            built = true;
        } else {
            usleep(50000);
        }
    }
    cr_assert(built, "no index built within 10 s");
    cr_assert_eq(q_int(&s, "SELECT count(*) FROM symbols WHERE name = 'main'"), 1);
    cr_assert(log_wait(&s, 0, "index local/main: index built: 9 files", 5000));
    /* `ctxd index` beside the server: the lease is free again, nothing to parse */
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    long f, p, u, sk;
    parse_summary(out, &f, &p, &u, &sk);
    cr_assert_eq(p, 0, "%s", out);
    free(out);
    free(err);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(index_it, sigterm_stops_a_running_build_cleanly, .timeout = 120)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    /* enough files that the first build is still running when the signal comes */
    cr_assert_eq(ws_sh(&s, "for d in $(seq 1 40); do mkdir -p gen/d$d; for f in $(seq 1 60); do "
                           "printf 'int f%%s_%%s(int x)\\n{\\n    return x + %%s;\\n}\\n' $d $f $f "
                           "> gen/d$d/f$f.c; done; done"),
                 0);
    cr_assert(srv_start(&s));
    cr_assert(log_wait(&s, 0, "Tools:", 5000));
    long long t0 = now_ms();
    cr_assert_eq(srv_stop(&s), 0); /* exit 0: no leak under LeakSanitizer, nothing hung */
    cr_assert_lt(now_ms() - t0, 5000);
    /* whatever was committed is whole: every stored file has its rows */
    char path[400];
    db_path(&s, path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) == 0 && index_db_int(&s, "main", "SELECT count(*) FROM files") > 0) {
        cr_assert_eq(q_int(&s, "SELECT count(*) FROM files f WHERE f.status = 'ok' AND"
                               " f.n_symbols != (SELECT count(*) FROM symbols s WHERE"
                               " s.file_id = f.id)"),
                     0);
    }
    /* and the next run completes it */
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_index(&s, &out, &err), 0, "stderr: %s", err);
    long f, p, u, sk;
    parse_summary(out, &f, &p, &u, &sk);
    cr_assert_eq(f, 2403, "%s", out);
    free(out);
    free(err);
}

Test(index_it, reload_that_adds_a_workspace_indexes_it, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char second[400];
    dir_write(&s, "second/lib.py", "def second_fn():\n    return 2\n", second, sizeof second);
    *strrchr(second, '/') = '\0';
    cr_assert(srv_start(&s));
    cr_assert(log_wait(&s, 0, "index local/main: index built:", 10000));
    size_t mark = cfg_add_ws(&s, "second", second);
    cr_assert(log_wait(&s, mark, "index local/second: index built: 1 files (1 parsed", 10000));
    /* the workspace that was there is not rebuilt by the reload */
    char *log = slurp(s.log);
    cr_assert_null(strstr(log + mark, "index local/main:"), "%s", log + mark);
    free(log);
    cr_assert_eq(
        index_db_int(&s, "second", "SELECT count(*) FROM symbols WHERE name = 'second_fn'"), 1);
    cr_assert_eq(srv_stop(&s), 0);
}

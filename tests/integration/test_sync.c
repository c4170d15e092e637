/* test_sync.c - keeping indexes fresh from git and the filesystem (DESIGN §5 "Git", tools.md
 * §1.6): `ctxd team sync` on real repositories (a bare "remote" in the test's directory and a
 * clone as the workspace), the watcher and the periodic sync inside `serve`.
 *
 * The index is checked through its database (read-only, with SQLite), the checkout through
 * git itself, and what ran through marker files that a hostile repository would create. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define GITENV                                                                                     \
    "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t "                          \
    "GIT_COMMITTER_EMAIL=t@e GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent; "

/* the workspace becomes a clone of s->dir/remote.git (branch main, upstream set); s->dir/other
 * is a second clone that plays the teammate who pushes */
static void make_repos(server *s)
{
    cr_assert_eq(ws_sh(s,
                       GITENV "git init -q --bare -b main ../remote.git && git init -q -b main && "
                              "git add -A && git commit -qm init && "
                              "git remote add origin ../remote.git && "
                              "git push -q -u origin main 2>/dev/null && "
                              "git clone -q ../remote.git ../other 2>/dev/null"),
                 0);
}

/* a commit pushed from the other clone: util.c changed, new.c added, README.md removed */
static void push_change(server *s)
{
    cr_assert_eq(ws_sh(s, GITENV
                       "cd ../other && "
                       "printf 'int add(int a, int b)\\n{\\n    return a + b;\\n}\\n"
                       "int sub(int a, int b)\\n{\\n    return a - b;\\n}\\n' > src/util.c && "
                       "printf 'int fresh_symbol(void)\\n{\\n    return 7;\\n}\\n' > "
                       "src/new.c && git rm -q README.md && git add -A && "
                       "git commit -qm change && git push -q 2>/dev/null"),
                 0);
}

static char *head_of(const char *dir)
{
    char *h = sh_out("git -C '%s' rev-parse HEAD", dir);
    if (h) {
        h[strcspn(h, "\n")] = '\0';
    }
    return h;
}

static int sync_cmd(server *s, const char *ws, char **err)
{
    const char *args[] = {"team", "sync", "--config", s->config, ws ? "--workspace" : NULL,
                          ws,     NULL};
    return run_ctxd(args, NULL, err);
}

/* poll the database until the query answers want; the milliseconds it took, or -1 */
static long long until_db(server *s, const char *sql, long long want, int timeout_ms)
{
    long long t0 = now_ms();
    do {
        if (index_db_int(s, "main", sql) == want) {
            return now_ms() - t0;
        }
        usleep(20000);
    } while (now_ms() - t0 < timeout_ms);
    return -1;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

Test(sync, fast_forward_reindexes_only_the_changed_files, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    ws_write(&s, "src/stable.c", "int stable(void)\n{\n    return 1;\n}\n");
    make_repos(&s);
    char *err = NULL;
    cr_assert_eq(sync_cmd(&s, NULL, &err), 0, "%s", err);
    cr_expect(strstr(err, "sync main: up to date with 'origin/main'"), "%s", err);
    free(err);
    cr_assert_eq(index_db_int(&s, "main", "SELECT count(*) FROM files WHERE path='README.md'"), 1);
    long long stable_id =
        index_db_int(&s, "main", "SELECT id FROM files WHERE path='src/stable.c'");
    cr_assert(stable_id > 0);

    char other[400];
    snprintf(other, sizeof other, "%s/other", s.dir);
    push_change(&s);
    char *want = head_of(other);
    cr_assert_eq(sync_cmd(&s, "main", &err), 0, "%s", err);
    cr_expect(strstr(err, "sync main: fast-forwarded"), "%s", err);
    cr_expect(strstr(err, "from 'origin/main' (3 files changed)"), "%s", err);
    /* the summary: two files parsed (util.c, new.c), one removed, nothing else touched */
    cr_expect(strstr(err, "sync main: 2 files parsed, 0 skipped, 1 removed"), "%s", err);
    free(err);
    char *head = head_of(s.ws);
    cr_expect_str_eq(head, want);
    char *commit = index_db_text(&s, "main", "SELECT value FROM meta WHERE key='commit'");
    cr_expect(commit && strcmp(commit, want) == 0, "indexed commit %s, HEAD %s", commit, want);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM files WHERE path='README.md'"), 0);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='fresh_symbol'"),
                 1);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='sub'"), 1);
    cr_expect_eq(index_db_int(&s, "main", "SELECT id FROM files WHERE path='src/stable.c'"),
                 stable_id);
    free(commit);
    free(head);
    free(want);

    /* a second sync has nothing to do */
    cr_assert_eq(sync_cmd(&s, NULL, &err), 0, "%s", err);
    cr_expect(strstr(err, "up to date"), "%s", err);
    cr_expect(strstr(err, "sync main: 0 files parsed"), "%s", err);
    free(err);
    srv_cleanup(&s);
}

Test(sync, dirty_checkout_is_not_touched, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    make_repos(&s);
    push_change(&s);
    char *before = head_of(s.ws);
    ws_write(&s, "src/main.c",
             "int main(void) {\n    return 42; /* local work */\n}\nint local_only(void) {\n"
             "    return 1;\n}\n");
    char *err = NULL;
    cr_assert_eq(sync_cmd(&s, NULL, &err), 0, "%s", err);
    cr_expect(strstr(err, "sync main: working tree has local changes (1 file); not updated — "
                          "index refreshed from the working tree"),
              "%s", err);
    free(err);
    char *after = head_of(s.ws);
    cr_expect_str_eq(after, before, "HEAD moved in a dirty checkout");
    char *body = slurp(ws_path(&s, "src/main.c"));
    cr_expect(body && strstr(body, "local work"), "the local change was lost");
    char readme[400];
    snprintf(readme, sizeof readme, "%s/README.md", s.ws);
    cr_expect(exists(readme), "the upstream change was applied to a dirty tree");
    /* the index reflects the working tree */
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM files WHERE path='src/main.c'"), 1);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='fresh_symbol'"),
                 0);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='local_only'"),
                 1);

    /* the local change is dropped, then the sync applies: the file that went back to its
       committed content is in no diff, and still must not keep the local symbol */
    cr_assert_eq(ws_sh(&s, "git checkout -q -- src/main.c"), 0);
    cr_assert_eq(sync_cmd(&s, NULL, &err), 0, "%s", err);
    cr_expect(strstr(err, "fast-forwarded"), "%s", err);
    free(err);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='local_only'"),
                 0);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='fresh_symbol'"),
                 1);
    free(body);
    free(before);
    free(after);
    srv_cleanup(&s);
}

Test(sync, workspace_without_git, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char *err = NULL;
    cr_assert_eq(sync_cmd(&s, NULL, &err), 0, "%s", err);
    cr_expect(strstr(err, "sync main: not a git checkout (no git repository at or above"), "%s",
              err);
    cr_expect(strstr(err, "index refreshed from the working tree"), "%s", err);
    free(err);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name='add'"), 1);

    cr_assert_eq(sync_cmd(&s, "nope", &err), 2);
    cr_expect(strstr(err, "no workspace 'nope'"), "%s", err);
    free(err);
    srv_cleanup(&s);
}

Test(sync, failure_exits_non_zero_with_the_reason, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    make_repos(&s);
    cr_assert_eq(ws_sh(&s, "mv ../remote.git ../gone.git"), 0);
    char *err = NULL;
    cr_expect_eq(sync_cmd(&s, NULL, &err), 1, "%s", err);
    cr_expect(strstr(err, "sync main: git fetch: "), "%s", err);
    cr_expect(strstr(err, "not updated"), "%s", err);
    cr_expect(strstr(err, "ctxd: sync failed for 1 workspace"), "%s", err);
    free(err);
    srv_cleanup(&s);
}

/* hooks, core.fsmonitor in the checkout's config, a .gitmodules with an ext:: URL and a bare
 * repository committed inside the tree: a sync runs none of them */
Test(sync, hostile_repository_runs_nothing, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    make_repos(&s);
    char marker[400], script[400];
    snprintf(marker, sizeof marker, "%s/ran", s.dir);
    snprintf(script, sizeof script, "%s/evil.sh", s.dir);
    char body[600];
    snprintf(body, sizeof body, "#!/bin/sh\ntouch '%s'\n", marker);
    FILE *f = fopen(script, "w");
    fputs(body, f);
    fclose(f);
    chmod(script, 0755);
    cr_assert_eq(ws_sh(&s,
                       GITENV "cd ../other && "
                              "printf '[submodule \"m\"]\\n\\tpath = m\\n\\turl = ext::%s\\n' > "
                              ".gitmodules && "
                              "git update-index --add --cacheinfo "
                              "160000,0123456789abcdef0123456789abcdef01234567,m && "
                              "git init -q --bare inner.git && cp '%s' inner.git/hooks/post-update "
                              "&& git add -A && git commit -qm hostile && git push -q 2>/dev/null",
                       script, script),
                 0);
    cr_assert_eq(ws_sh(&s,
                       "cp '%s' .git/hooks/post-merge && cp '%s' .git/hooks/post-checkout && "
                       "git config core.fsmonitor '%s' && git config diff.external '%s'",
                       script, script, script, script),
                 0);
    char *err = NULL;
    cr_assert_eq(sync_cmd(&s, NULL, &err), 0, "%s", err);
    cr_expect(strstr(err, "fast-forwarded"), "%s", err);
    free(err);
    cr_expect(!exists(marker), "a program named by the repository ran");
    char sub[400];
    snprintf(sub, sizeof sub, "%s/.gitmodules", s.ws);
    cr_expect(exists(sub), "the fast-forward did not happen");
    srv_cleanup(&s);
}

Test(sync, watcher_reindexes_an_edit_within_a_second, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    ws_write(&s, "ignored/skip.c", "int never_indexed(void) { return 0; }\n");
    ws_write(&s, ".ignore", "ignored/\n");
    cr_assert(srv_start(&s));
    cr_assert(until_db(&s, "SELECT count(*) FROM symbols WHERE name='add'", 1, 20000) >= 0,
              "the first build did not commit");
    cr_assert(log_wait(&s, 0, "watch 'main': watching", 5000));

    ws_write(&s, "src/util.c",
             "int add(int a, int b)\n{\n    return a + b;\n}\n"
             "int edited_fn(void)\n{\n    return 3;\n}\n");
    long long took = until_db(&s, "SELECT count(*) FROM symbols WHERE name='edited_fn'", 1, 3000);
    cr_expect(took >= 0 && took <= 1000, "the edit was re-indexed after %lld ms", took);

    /* a new directory is watched: a file created in it later is indexed too */
    ws_write(&s, "lib/deep/one.c", "int in_new_dir(void) { return 1; }\n");
    cr_expect(until_db(&s, "SELECT count(*) FROM symbols WHERE name='in_new_dir'", 1, 3000) >= 0);
    usleep(300000);
    ws_write(&s, "lib/deep/two.c", "int later_file(void) { return 2; }\n");
    cr_expect(until_db(&s, "SELECT count(*) FROM symbols WHERE name='later_file'", 1, 3000) >= 0);

    /* removed files leave the index; a removed directory takes its files along */
    cr_assert_eq(ws_sh(&s, "rm src/main.c && rm -r lib"), 0);
    cr_expect(until_db(&s, "SELECT count(*) FROM files WHERE path='src/main.c'", 0, 3000) >= 0);
    cr_expect(until_db(&s, "SELECT count(*) FROM files WHERE path LIKE 'lib/%'", 0, 3000) >= 0);

    /* ignored directories are neither indexed nor watched */
    ws_write(&s, "ignored/more.c", "int never_either(void) { return 0; }\n");
    usleep(500000);
    cr_expect_eq(index_db_int(&s, "main", "SELECT count(*) FROM symbols WHERE name LIKE 'never_%'"),
                 0);
    cr_expect_eq(srv_stop(&s), 0);
    srv_cleanup(&s);
}

Test(sync, watch_limit_falls_back_to_a_rescan, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"watchMaxDirs\": 1");
    cr_assert(srv_start(&s));
    cr_expect(log_wait(&s, 0,
                       "watch 'main': more than 1 directories to watch (watchMaxDirs); falling "
                       "back to a stat rescan every 30 s",
                       10000));
    cr_expect_eq(srv_stop(&s), 0);
    srv_cleanup(&s);
}

Test(sync, serve_syncs_periodically, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"syncIntervalSec\": 1, \"watch\": false");
    make_repos(&s);
    cr_assert(srv_start(&s));
    cr_assert(until_db(&s, "SELECT count(*) FROM symbols WHERE name='add'", 1, 20000) >= 0);
    push_change(&s);
    char other[400];
    snprintf(other, sizeof other, "%s/other", s.dir);
    char *want = head_of(other);
    cr_expect(log_wait(&s, 0, "sync main: fast-forwarded", 10000));
    char *head = head_of(s.ws);
    cr_expect_str_eq(head, want);
    cr_expect(until_db(&s, "SELECT count(*) FROM symbols WHERE name='fresh_symbol'", 1, 5000) >= 0);
    free(head);
    free(want);
    cr_expect_eq(srv_stop(&s), 0);
    srv_cleanup(&s);
}

/* a reload starts the watcher of an added workspace and stops the one of a removed workspace;
 * a reload that leaves a workspace as it was keeps its watcher */
Test(sync, reload_starts_and_stops_watchers, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    char p[600];
    dir_write(&s, "second/b.c", "int in_second(void) { return 2; }\n", p, sizeof p);
    *strrchr(p, '/') = '\0';
    cr_assert(srv_start(&s));
    cr_assert(log_wait(&s, 0, "watch 'main': watching", 10000));

    size_t mark = cfg_add_ws(&s, "second", p);
    cr_assert(log_wait(&s, mark, "watch 'second': watching", 10000));

    json_t *doc = cfg_load(&s);
    json_array_remove(json_object_get(doc, "workspaces"), 1);
    mark = log_size(&s);
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(log_wait(&s, mark, "watch 'second': stopped", 10000));
    cr_assert(log_wait(&s, mark, "config reloaded", 10000));
    char *log = slurp(s.log);
    cr_expect(!strstr(log + mark, "watch 'main': stopped"),
              "an unchanged workspace lost its watcher");
    free(log);
    cr_expect_eq(srv_stop(&s), 0);
    srv_cleanup(&s);
}

/* a checkout that git cannot be run on is a failure with its reason, not "no upstream" */
Test(sync, git_missing_is_a_failure, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    make_repos(&s);
    char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", "/nonexistent", 1); /* ctxd runs by its full path and finds no git */
    char *err = NULL;
    cr_expect_eq(sync_cmd(&s, NULL, &err), 1, "%s", err);
    setenv("PATH", path, 1);
    free(path);
    cr_expect(strstr(err, "sync main: cannot run git: "), "%s", err);
    cr_expect(strstr(err, "index refreshed from the working tree"), "%s", err);
    free(err);
    srv_cleanup(&s);
}

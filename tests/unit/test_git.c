/* test_git.c - src/index/git.c: ref validation (against git check-ref-format itself),
 * repository location (.git directory, .git file, nothing below the root), and the runner on
 * real repositories: HEAD, cleanliness, diffs, and that repository content runs nothing. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "index/git.h"

#include "fixtures.h"

static char tmp[200]; /* short, so every path built from it fits */

static void setup_tmp(void)
{
    fixture_tmpdir("git", tmp, sizeof tmp);
}

static int run(const char *const *argv, const char *cwd)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (cwd && chdir(cwd) != 0) {
            _exit(127);
        }
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup_tmp(void)
{
    const char *const argv[] = {"rm", "-rf", tmp, NULL};
    run(argv, NULL);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ---- refs ---- */

Test(git, refs_good)
{
    const char *good[] = {"main",
                          "HEAD",
                          "HEAD~2",
                          "main^1",
                          "HEAD~",
                          "HEAD^^",
                          "a~1^2",
                          "origin/main",
                          "refs/heads/feature/x-y",
                          "v1.2.3",
                          "0123456789abcdef0123456789abcdef01234567",
                          "abc1234",
                          "0123456789ABCDEF0123456789abcdef01234567~3",
                          "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_expect(git_validate_ref(good[i]), "'%s' should be accepted", good[i]);
    }
}

Test(git, refs_bad)
{
    char longref[GIT_REF_MAX + 10];
    memset(longref, 'a', sizeof longref - 1);
    longref[sizeof longref - 1] = '\0';
    const char *bad[] = {"-x",
                         "--upload-pack=touch /tmp/pwned",
                         "--output=/tmp/x",
                         "-",
                         "a..b",
                         "main...dev",
                         "@{-1}",
                         "HEAD@{1}",
                         "@",
                         "with space",
                         "",
                         "~1",
                         "^",
                         "main~1x",
                         "a/",
                         "/a",
                         "a//b",
                         ".hidden",
                         "refs/heads/.x",
                         "x.lock",
                         "refs/x.lock/y",
                         "end.",
                         "a:b",
                         "a?b",
                         "a*",
                         "a[b",
                         "a\\b",
                         "tab\there",
                         "nl\n",
                         "del\x7f",
                         longref};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect(!git_validate_ref(bad[i]), "'%s' should be refused", bad[i]);
    }
    cr_expect(!git_validate_ref(NULL));
}

/* without a ~N/^N suffix and not hex, the answer is git check-ref-format's own */
Test(git, refs_agree_with_git)
{
    const char *cases[] = {"main",  "a..b",       "@{x",     "a@{b",   "@",          "x@",
                           "a/b/c", "a/.b",       "a.lock",  "a.b",    "a/b.lock/c", "trailing/",
                           "x y",   "semi;colon", "dollar$", "quote'", "back`tick",  "é/ü",
                           "a]b",   "{brace}",    "#hash",   "+plus",  "a,b",        "HEAD"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const argv[] = {"git", "check-ref-format", "--allow-onelevel", cases[i], NULL};
        bool git_ok = run(argv, NULL) == 0;
        cr_expect_eq(git_validate_ref(cases[i]), git_ok, "'%s': git says %s", cases[i],
                     git_ok ? "valid" : "invalid");
    }
}

/* ---- locating the repository ---- */

Test(git, dot_git_directory_and_prefix, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256];
    fixture_write(tmp, "repo/.git/HEAD", "ref: refs/heads/main\n");
    snprintf(p, sizeof p, "%s/repo/src/lib", tmp);
    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/repo/.git", tmp);
    cr_expect_str_eq(r.git_dir, want);
    snprintf(want, sizeof want, "%s/repo", tmp);
    cr_expect_str_eq(r.work_tree, want);
    cr_expect_str_eq(r.prefix, "src/lib/");
    git_repo_release(&r);

    snprintf(p, sizeof p, "%s/repo", tmp);
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    cr_expect_str_eq(r.prefix, "");
    git_repo_release(&r);
}

Test(git, dot_git_file_worktree, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256];
    fixture_write(tmp, "store/wt1/HEAD", "0123456789abcdef0123456789abcdef01234567\n");
    fixture_write(tmp, "checkout/.git", "gitdir: ../store/wt1\n");
    snprintf(p, sizeof p, "%s/checkout", tmp);
    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/store/wt1", tmp);
    cr_expect_str_eq(r.git_dir, want);
    snprintf(want, sizeof want, "%s/checkout", tmp);
    cr_expect_str_eq(r.work_tree, want);
    cr_expect_str_eq(r.prefix, "");
    git_repo_release(&r);

    /* an absolute gitdir works too; a file naming no git directory is refused */
    char line[PATH_MAX + 16];
    snprintf(line, sizeof line, "gitdir: %s/store/wt1\r\n", tmp);
    fixture_write(tmp, "checkout/.git", line);
    snprintf(p, sizeof p, "%s/checkout", tmp);
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    git_repo_release(&r);
    fixture_write(tmp, "checkout/.git", "gitdir: ../nowhere\n");
    snprintf(p, sizeof p, "%s/checkout", tmp);
    cr_expect(!git_repo_open_dir(p, &r, why, sizeof why));
    cr_expect(strstr(why, "not a git directory"), "%s", why);
    fixture_write(tmp, "checkout/.git", "hello\n");
    snprintf(p, sizeof p, "%s/checkout", tmp);
    cr_expect(!git_repo_open_dir(p, &r, why, sizeof why));
    cr_expect(strstr(why, "not a gitdir file"), "%s", why);
}

/* a bare repository inside the tree (the root itself looks like one) is never used */
Test(git, no_discovery_below_root, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256];
    snprintf(p, sizeof p, "%s/ws", tmp);
    const char *const argv[] = {"git", "init", "-q", "--bare", p, NULL};
    cr_assert_eq(run(argv, NULL), 0);
    git_repo r;
    cr_expect(!git_repo_open_dir(p, &r, why, sizeof why));
    cr_expect(strstr(why, "no git repository at or above"), "%s", why);
    cr_expect(!git_repo_open_dir("relative/path", &r, why, sizeof why));
}

/* ---- the runner on a real repository ---- */

static void git_in(const char *dir, const char *const *args)
{
    const char *argv[32] = {
        "git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"};
    size_t k = 7;
    for (size_t i = 0; args[i] && k < 31; i++) {
        argv[k++] = args[i];
    }
    argv[k] = NULL;
    cr_assert_eq(run(argv, dir), 0, "git %s failed", args[0]);
}

/* tmp/r, a new repository on the branch main, into p */
static void init_repo(char *p, size_t cap)
{
    snprintf(p, cap, "%s/r", tmp);
    cr_assert_eq(mkdir(p, 0700), 0);
    const char *const init[] = {"init", "-q", "-b", "main", NULL};
    git_in(p, init);
}

typedef struct names {
    char v[8][128];
    int n;
} names;

static bool add_name(void *ctx, const char *rel)
{
    names *n = ctx;
    if (n->n < 8) {
        snprintf(n->v[n->n++], 128, "%s", rel);
    }
    return true;
}

Test(git, head_clean_diff, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256], a[41], b[41];
    init_repo(p, sizeof p);
    fixture_write(tmp, "r/top.c", "int top;\n");
    fixture_write(tmp, "r/sub/x.c", "int x;\n");
    const char *const add[] = {"add", "-A", NULL};
    const char *const c1[] = {"commit", "-q", "-m", "one", NULL};
    git_in(p, add);
    git_in(p, c1);

    /* the workspace is the subdirectory; the server's environment must not redirect git */
    setenv("GIT_DIR", "/nonexistent", 1);
    setenv("GIT_WORK_TREE", "/nonexistent", 1);
    snprintf(p, sizeof p, "%s/r/sub", tmp);
    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    cr_assert(git_head(&r, a));
    cr_expect_eq(strlen(a), 40);
    int64_t n = -5;
    cr_expect(git_is_clean(&r, &n, why, sizeof why));
    cr_expect_eq(n, 0);

    fixture_write(tmp, "r/sub/x.c", "int x2;\n");
    fixture_write(tmp, "r/top.c", "int top2;\n");
    fixture_write(tmp, "r/sub/new.c", "int n;\n"); /* untracked: not a local change */
    cr_expect(!git_is_clean(&r, &n, why, sizeof why));
    cr_expect_eq(n, 2);

    snprintf(p, sizeof p, "%s/r", tmp);
    unsetenv("GIT_DIR");
    unsetenv("GIT_WORK_TREE");
    const char *const c2[] = {"commit", "-q", "-am", "two", NULL};
    git_in(p, c2);
    setenv("GIT_DIR", "/nonexistent", 1);
    cr_assert(git_head(&r, b));
    cr_expect_str_neq(a, b);

    names nm = {0};
    int64_t got = git_diff_names(&r, a, b, add_name, &nm, why, sizeof why);
    cr_assert_eq(got, 1, "%s", why); /* top.c lies outside the workspace */
    cr_expect_str_eq(nm.v[0], "x.c");
    memset(&nm, 0, sizeof nm);
    cr_expect_eq(git_diff_names(&r, "HEAD~1", "HEAD", add_name, &nm, why, sizeof why), 1);
    memset(&nm, 0, sizeof nm);
    cr_expect_eq(git_commit_files(&r, b, add_name, &nm, why, sizeof why), 1);
    cr_expect_str_eq(nm.v[0], "x.c");
    memset(&nm, 0, sizeof nm);
    cr_expect_eq(git_commit_files(&r, a, add_name, &nm, why, sizeof why), 1); /* root commit */
    /* against the working tree: the local edit of x.c since the last commit */
    fixture_write(tmp, "r/sub/x.c", "int x3;\n");
    memset(&nm, 0, sizeof nm);
    cr_expect_eq(git_diff_names(&r, "HEAD", NULL, add_name, &nm, why, sizeof why), 1, "%s", why);
    cr_expect_str_eq(nm.v[0], "x.c");
    memset(&nm, 0, sizeof nm);
    cr_expect_eq(git_diff_names(&r, a, NULL, add_name, &nm, why, sizeof why), 1, "%s", why);
    cr_expect_eq(git_diff_names(&r, "-p", NULL, add_name, &nm, why, sizeof why), -1);
    cr_expect_eq(git_diff_names(&r, "--output=/tmp/x", "HEAD", add_name, &nm, why, sizeof why), -1);
    cr_expect(strstr(why, "not a valid ref"), "%s", why);
    cr_expect_eq(git_diff_names(&r, "nosuchref", "HEAD", add_name, &nm, why, sizeof why), -1);
    unsetenv("GIT_DIR");
    git_repo_release(&r);
}

/* core.fsmonitor, hooks, external diff and textconv named by the repository run nothing */
Test(git, repository_runs_nothing, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256], script[PATH_MAX], marker[PATH_MAX];
    init_repo(p, sizeof p);
    snprintf(marker, sizeof marker, "%s/ran", tmp);
    snprintf(script, sizeof script, "%s/evil.sh", tmp);
    char body[PATH_MAX + 64];
    snprintf(body, sizeof body, "#!/bin/sh\ntouch '%s'\n", marker);
    fixture_write(tmp, "evil.sh", body);
    chmod(script, 0755);
    fixture_write(tmp, "r/a.txt", "one\n");
    fixture_write(tmp, "r/.gitattributes", "*.txt diff=evil\n");
    const char *const add[] = {"add", "-A", NULL};
    const char *const c1[] = {"commit", "-q", "-m", "one", NULL};
    git_in(p, add);
    git_in(p, c1);
    fixture_write(tmp, "r/a.txt", "two\n");
    const char *const c2[] = {"commit", "-q", "-am", "two", NULL};
    git_in(p, c2);
    const char *const cfgs[][4] = {{"config", "core.fsmonitor", script, NULL},
                                   {"config", "diff.external", script, NULL},
                                   {"config", "diff.evil.textconv", script, NULL},
                                   {"config", "core.pager", script, NULL}};
    for (size_t i = 0; i < 4; i++) {
        git_in(p, cfgs[i]);
    }
    fixture_write(tmp, "r/.git/hooks/post-checkout", body);
    snprintf(script, sizeof script, "%s/r/.git/hooks/post-checkout", tmp);
    chmod(script, 0755);

    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    char head[41];
    cr_expect(git_head(&r, head));
    int64_t n;
    cr_expect(git_is_clean(&r, &n, why, sizeof why), "%s", why);
    names nm = {0};
    cr_expect_eq(git_diff_names(&r, "HEAD~1", "HEAD", add_name, &nm, why, sizeof why), 1);
    cr_expect_eq(git_commit_files(&r, "HEAD", add_name, &nm, why, sizeof why), 1);
    git_repo_release(&r);
    cr_expect(!exists(marker), "a program named by the repository ran");
}

/* a command past its bound fails visibly instead of returning a cut answer */
Test(git, bounded_output, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256];
    init_repo(p, sizeof p);
    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    const char *const args[] = {"version", "--build-options", NULL};
    git_result res;
    cr_expect(!git_run(&r, args, 10000, 8, &res));
    cr_expect(res.too_big);
    cr_expect(strstr(res.errtext, "passed 8 bytes"), "%s", res.errtext);
    git_result_release(&res);
    cr_expect(git_run(&r, args, 10000, 1 << 16, &res));
    cr_expect(strstr(res.out.ptr, "git version"));
    git_result_release(&res);
    git_repo_release(&r);
}

/* a credential in a remote URL never reaches the error text */
Test(git, credentials_in_messages_are_redacted, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[512];
    init_repo(p, sizeof p);
    const char *const remote[] = {"remote", "add", "origin",
                                  "https://alice:s3cr3t-token@127.0.0.1:1/x.git", NULL};
    git_in(p, remote);
    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    cr_expect(!git_fetch(&r, why, sizeof why));
    cr_expect(strstr(why, "git fetch: "), "%s", why);
    cr_expect(!strstr(why, "s3cr3t"), "%s", why);
    cr_expect(!strstr(why, "alice"), "%s", why);
    /* git names what it could not use in its message: the runner redacts it itself */
    const char *const args[] = {"show-ref", "--verify",
                                "refs/https://bob:hunter2@example.org/y.git", NULL};
    git_result res;
    cr_expect(!git_run(&r, args, 10000, 4096, &res));
    cr_expect(strstr(res.errtext, "https://***@example.org/y.git"), "%s", res.errtext);
    cr_expect(!strstr(res.errtext, "hunter2"), "%s", res.errtext);
    git_result_release(&res);
    git_repo_release(&r);
}

/* a real linked worktree (its .git is a file): HEAD and cleanliness are the worktree's own */
Test(git, linked_worktree, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], wt[PATH_MAX], why[256], main_head[41], wt_head[41];
    init_repo(p, sizeof p);
    fixture_write(tmp, "r/a.c", "int a;\n");
    const char *const add[] = {"add", "-A", NULL};
    const char *const c1[] = {"commit", "-q", "-m", "one", NULL};
    git_in(p, add);
    git_in(p, c1);
    snprintf(wt, sizeof wt, "%s/wt", tmp);
    const char *const mk[] = {"worktree", "add", "-q", "-b", "side", wt, NULL};
    git_in(p, mk);
    fixture_write(tmp, "wt/a.c", "int a2;\n");
    const char *const c2[] = {"commit", "-q", "-am", "side", NULL};
    git_in(wt, c2);

    git_repo r;
    cr_assert(git_repo_open_dir(wt, &r, why, sizeof why), "%s", why);
    cr_expect(strstr(r.git_dir, "/r/.git/worktrees/wt"), "%s", r.git_dir);
    cr_expect_str_eq(r.work_tree, wt);
    cr_assert(git_head(&r, wt_head));
    int64_t n;
    cr_expect(git_is_clean(&r, &n, why, sizeof why), "%s", why);
    git_repo_release(&r);
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    cr_assert(git_head(&r, main_head));
    git_repo_release(&r);
    cr_expect_str_neq(wt_head, main_head);
}

/* a command past its timeout is killed with everything it started, and says so */
Test(git, timeout_kills_the_session, .init = setup_tmp, .fini = cleanup_tmp)
{
    char p[PATH_MAX], why[256], marker[PATH_MAX], alias[PATH_MAX + 64];
    init_repo(p, sizeof p);
    git_repo r;
    cr_assert(git_repo_open_dir(p, &r, why, sizeof why), "%s", why);
    /* the test's own alias: a child that would touch the marker after 2 s unless killed */
    snprintf(marker, sizeof marker, "%s/late", tmp);
    snprintf(alias, sizeof alias, "alias.slow=!sleep 2; touch '%s'", marker);
    const char *const args[] = {"-c", alias, "slow", NULL};
    git_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_expect(!git_run(&r, args, 300, 4096, &res));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    cr_expect(res.timed_out);
    cr_expect(ms < 1500, "took %ld ms", ms);
    cr_expect(strstr(res.errtext, "did not finish"), "%s", res.errtext);
    git_result_release(&res);
    git_repo_release(&r);
    usleep(2500000);
    cr_expect(!exists(marker), "a child of the killed git lived on");
}

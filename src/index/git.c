/* git.c - running git safely on a workspace's own repository (the rules are in git.h).
 *
 * One runner (git_run) builds every command line: the fixed options first, the caller's
 * arguments after them, the environment filtered. The child is spawned with posix_spawnp in a
 * session of its own (no controlling terminal to prompt on, one process group to kill), with
 * stdin on /dev/null, the server's blocked signals unblocked and its ignored SIGPIPE restored.
 * Both pipes are drained with poll until the child closes them or the deadline passes. */
#include "index/git.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "ws/path.h"

extern char **environ;

static atomic_bool cancelled_all; /* git_cancel_all: the server is stopping */

#define GIT_TIMEOUT_MS 30000        /* local commands */
#define GIT_FETCH_TIMEOUT_MS 300000 /* fetch and merge may move much data */
#define GIT_SMALL_OUT (64 << 10)    /* rev-parse and friends */
#define GIT_NAMES_OUT ((size_t)64 << 20)
#define GIT_STDERR_KEEP 4096
#define GIT_DOT_FILE_MAX 4096

/* ---- locating the repository ---- */

static bool is_git_dir(const char *dir)
{
    char p[PATH_MAX];
    struct stat sb;
    if (snprintf(p, sizeof p, "%s/HEAD", dir) >= (int)sizeof p) {
        return false;
    }
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* a `.git` file: "gitdir: <path>" (relative to the file's directory); the canonical target */
static char *read_dot_git_file(const char *dir, const char *file, char *why, size_t why_len)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, why_len, "cannot read '%s': %s", file, strerror(errno));
        return NULL;
    }
    char text[GIT_DOT_FILE_MAX + 1];
    size_t n = read_full(fd, text, GIT_DOT_FILE_MAX);
    close(fd);
    text[n] = '\0';
    if (strncmp(text, "gitdir:", 7) != 0) {
        snprintf(why, why_len, "'%s' is not a gitdir file", file);
        return NULL;
    }
    char *v = text + 7;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    size_t len = strcspn(v, "\r\n");
    v[len] = '\0';
    if (len == 0 || strlen(v) != len) {
        snprintf(why, why_len, "'%s' names no git directory", file);
        return NULL;
    }
    char joined[PATH_MAX];
    int w = v[0] == '/' ? snprintf(joined, sizeof joined, "%s", v)
                        : snprintf(joined, sizeof joined, "%s/%s", dir, v);
    if (w < 0 || (size_t)w >= sizeof joined) {
        snprintf(why, why_len, "'%s' names a path that is too long", file);
        return NULL;
    }
    char *real = realpath(joined, NULL);
    if (!real || !is_git_dir(real)) {
        snprintf(why, why_len, "'%s' points to '%s', which is not a git directory", file, joined);
        free(real);
        return NULL;
    }
    char *out = xstrdup(real);
    free(real);
    return out;
}

bool git_repo_open_dir(const char *root_real, git_repo *r, char *why, size_t why_len)
{
    memset(r, 0, sizeof *r);
    size_t rl = strlen(root_real);
    if (root_real[0] != '/' || rl >= PATH_MAX) {
        snprintf(why, why_len, "'%s' is not an absolute path", root_real);
        return false;
    }
    char dir[PATH_MAX];
    memcpy(dir, root_real, rl + 1);
    while (rl > 1 && dir[rl - 1] == '/') {
        dir[--rl] = '\0';
    }
    for (;;) {
        char dot[PATH_MAX];
        struct stat sb;
        int dw = snprintf(dot, sizeof dot, "%s/.git", strcmp(dir, "/") == 0 ? "" : dir);
        if (dw > 0 && (size_t)dw < sizeof dot && stat(dot, &sb) == 0) {
            char *gd = NULL;
            if (S_ISDIR(sb.st_mode)) {
                if (!is_git_dir(dot)) {
                    snprintf(why, why_len, "'%s' is not a git directory (no HEAD)", dot);
                    return false;
                }
                gd = xstrdup(dot);
            } else if (S_ISREG(sb.st_mode)) {
                gd = read_dot_git_file(dir, dot, why, why_len);
                if (!gd) {
                    return false;
                }
            }
            if (gd) {
                size_t dl = strlen(dir);
                const char *rest = root_real + (strcmp(dir, "/") == 0 ? 1 : dl);
                while (*rest == '/') {
                    rest++;
                }
                size_t restl = strlen(rest);
                while (restl && rest[restl - 1] == '/') {
                    restl--;
                }
                r->git_dir = gd;
                r->work_tree = xstrdup(dir);
                r->prefix = xmalloc(restl + 2);
                if (!r->work_tree || !r->prefix) {
                    git_repo_release(r);
                    snprintf(why, why_len, "out of memory");
                    return false;
                }
                memcpy(r->prefix, rest, restl);
                if (restl) {
                    r->prefix[restl++] = '/';
                }
                r->prefix[restl] = '\0';
                return true;
            }
        }
        if (strcmp(dir, "/") == 0) {
            break;
        }
        char *slash = strrchr(dir, '/');
        if (slash == dir) {
            dir[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    snprintf(why, why_len, "no git repository at or above '%s'", root_real);
    return false;
}

bool git_repo_open(const cfg_workspace *ws, git_repo *r, char *why, size_t why_len)
{
    return git_repo_open_dir(ws->root_real, r, why, why_len);
}

void git_repo_release(git_repo *r)
{
    xfree(r->git_dir);
    xfree(r->work_tree);
    xfree(r->prefix);
    memset(r, 0, sizeof *r);
}

/* ---- refs from callers ---- */

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

/* git-check-ref-format(1) with --allow-onelevel, on s[0..n) */
static bool ref_format_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '/' || s[n - 1] == '/' || s[n - 1] == '.') {
        return false;
    }
    if (n == 1 && s[0] == '@') {
        return false;
    }
    size_t comp = 0; /* start of the current component */
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : '/';
        if (c == '/') {
            size_t cl = i - comp;
            if (cl == 0 || s[comp] == '.') {
                return false;
            }
            if (cl >= 5 && memcmp(s + i - 5, ".lock", 5) == 0) {
                return false;
            }
            comp = i + 1;
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' ||
            c == '*' || c == '[' || c == '\\') {
            return false;
        }
        if (c == '.' && i + 1 < n && s[i + 1] == '.') {
            return false;
        }
        if (c == '@' && i + 1 < n && s[i + 1] == '{') {
            return false;
        }
    }
    return true;
}

bool git_validate_ref(const char *ref)
{
    if (!ref || !ref[0] || ref[0] == '-') {
        return false;
    }
    size_t n = strnlen(ref, GIT_REF_MAX + 1);
    if (n > GIT_REF_MAX) {
        return false;
    }
    /* peel the ~N / ^N suffixes off the end */
    size_t end = n;
    for (int ops = 0; ops < 16; ops++) {
        size_t j = end;
        while (j > 0 && ref[j - 1] >= '0' && ref[j - 1] <= '9') {
            j--;
        }
        if (end - j > 9 || j == 0 || (ref[j - 1] != '~' && ref[j - 1] != '^')) {
            break;
        }
        end = j - 1;
    }
    if (end == 0) {
        return false;
    }
    if (end >= 4 && end <= 64 && all_hex(ref, end)) {
        return true;
    }
    /* what remains must not hold a ~ or ^ the loop left (too many, or a digit run too long) */
    return ref_format_ok(ref, end);
}

/* ---- the runner ---- */

static bool env_dropped(const char *kv)
{
    static const char *const drop[] = {
        "GIT_DIR=",
        "GIT_WORK_TREE=",
        "GIT_INDEX_FILE=",
        "GIT_OBJECT_DIRECTORY=",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES=",
        "GIT_COMMON_DIR=",
        "GIT_NAMESPACE=",
        "GIT_CEILING_DIRECTORIES=",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM=",
        "GIT_EXTERNAL_DIFF=",
        "GIT_DIFF_OPTS=",
        "GIT_PAGER=",
        "PAGER=",
        "GIT_EDITOR=",
        "GIT_SEQUENCE_EDITOR=",
        "GIT_TERMINAL_PROMPT=",
        "GIT_OPTIONAL_LOCKS=",
        "GIT_CONFIG_PARAMETERS=",
        "GIT_CONFIG_COUNT=",
        "GIT_MERGE_AUTOEDIT=",
        "LC_ALL=",
        NULL,
    };
    for (int i = 0; drop[i]; i++) {
        if (strncmp(kv, drop[i], strlen(drop[i])) == 0) {
            return true;
        }
    }
    /* GIT_CONFIG_KEY_<n> / GIT_CONFIG_VALUE_<n> go with GIT_CONFIG_COUNT */
    return strncmp(kv, "GIT_CONFIG_KEY_", 15) == 0 || strncmp(kv, "GIT_CONFIG_VALUE_", 17) == 0;
}

static char **build_env(void)
{
    static char *const add[] = {
        "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0", "GIT_EDITOR=:",
        "GIT_MERGE_AUTOEDIT=no", "GIT_PAGER=cat",        "LC_ALL=C",
    };
    size_t n = 0;
    for (char **e = environ; e && *e; e++) {
        n++;
    }
    size_t n_add = sizeof add / sizeof add[0];
    char **env = xcalloc(n + n_add + 1, sizeof *env);
    if (!env) {
        return NULL;
    }
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        if (!env_dropped(*e)) {
            env[k++] = *e;
        }
    }
    for (size_t i = 0; i < n_add; i++) {
        env[k++] = add[i];
    }
    env[k] = NULL;
    return env;
}

static void set_err(git_result *res, const char *fmt, const char *arg)
{
    snprintf(res->errtext, sizeof res->errtext, fmt, arg);
}

/* a remote URL in a message may carry a credential (https://user:token@host/...): the
 * userinfo part of every URL becomes "***" before the text reaches a log or a terminal */
static void redact_userinfo(char *s)
{
    for (char *p = strstr(s, "://"); p; p = strstr(p, "://")) {
        char *start = p + 3;
        size_t span = strcspn(start, "@/ '\"");
        if (start[span] != '@') {
            p = start;
            continue;
        }
        if (span >= 3) { /* never longer than it was: the text stays within its buffer */
            memmove(start + 3, start + span, strlen(start + span) + 1);
            span = 3;
        }
        memset(start, '*', span);
        p = start + span;
    }
}

/* stderr, one line: newlines become "; ", "fatal: " and "error: " prefixes dropped */
static void keep_stderr(git_result *res, const char *text, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < sizeof res->errtext;) {
        if (strncmp(text + i, "fatal: ", 7) == 0 || strncmp(text + i, "error: ", 7) == 0) {
            i += 7;
            continue;
        }
        char c = text[i++];
        if (c == '\n' || c == '\r') {
            while (i < n && (text[i] == '\n' || text[i] == '\r')) {
                i++;
            }
            if (i < n && k) {
                res->errtext[k++] = ';';
                res->errtext[k++] = ' ';
            }
            continue;
        }
        res->errtext[k++] = (unsigned char)c < 0x20 ? ' ' : c;
    }
    res->errtext[k] = '\0';
    redact_userinfo(res->errtext);
}

void git_cancel_all(void)
{
    atomic_store(&cancelled_all, true);
}

void git_result_release(git_result *res)
{
    buf_release(&res->out);
}

bool git_run(const git_repo *r, const char *const *args, int64_t timeout_ms, size_t max_out,
             git_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = -1;
    buf_init(&res->out, max_out);
    char gd_opt[PATH_MAX + 16], wt_opt[PATH_MAX + 16];
    if (snprintf(gd_opt, sizeof gd_opt, "--git-dir=%s", r->git_dir) >= (int)sizeof gd_opt ||
        snprintf(wt_opt, sizeof wt_opt, "--work-tree=%s", r->work_tree) >= (int)sizeof wt_opt) {
        set_err(res, "%s", "repository path too long");
        return false;
    }
    static const char *const fixed[] = {
        "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat",
        "-c", "core.quotePath=false", "-c", "submodule.recurse=false",
    };
    size_t nf = sizeof fixed / sizeof fixed[0], na = 0;
    while (args[na]) {
        na++;
    }
    const char **argv = xcalloc(na + nf + 4, sizeof *argv);
    char **env = build_env();
    int out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    bool fa_ok = false, at_ok = false, ok = false;
    pid_t pid = -1;
    char errbuf[GIT_STDERR_KEEP];
    size_t errlen = 0;
    if (!argv || !env) {
        set_err(res, "%s", "out of memory");
        goto done;
    }
    if (atomic_load(&cancelled_all)) {
        set_err(res, "%s", "the server is stopping");
        goto done;
    }
    size_t k = 0;
    argv[k++] = "git";
    argv[k++] = gd_opt;
    argv[k++] = wt_opt;
    for (size_t i = 0; i < nf; i++) {
        argv[k++] = fixed[i];
    }
    for (size_t i = 0; i < na; i++) {
        argv[k++] = args[i];
    }
    argv[k] = NULL;

    if (pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0) {
        set_err(res, "cannot create a pipe: %s", strerror(errno));
        goto done;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        set_err(res, "%s", "cannot prepare git");
        goto done;
    }
    fa_ok = true;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
    /* in the work tree, as git itself would be: a relative remote URL means what it says */
    posix_spawn_file_actions_addchdir_np(&fa, r->work_tree);
    if (posix_spawnattr_init(&at) != 0) {
        set_err(res, "%s", "cannot prepare git");
        goto done;
    }
    at_ok = true;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGHUP);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    int rc = posix_spawnp(&pid, "git", &fa, &at, (char *const *)argv, env);
    if (rc != 0) {
        pid = -1;
        set_err(res, "cannot run git: %s", strerror(rc));
        goto done;
    }
    close(out_p[1]);
    close(err_p[1]);
    out_p[1] = err_p[1] = -1;

    int64_t deadline = clock_mono_ms() + timeout_ms;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0 || atomic_load(&cancelled_all)) {
            res->timed_out = true;
            break;
        }
        struct pollfd pf[2] = {{out_open ? out_p[0] : -1, POLLIN, 0},
                               {err_open ? err_p[0] : -1, POLLIN, 0}};
        int n = poll(pf, 2, left > 200 ? 200 : (int)left);
        if (n < 0 && errno != EINTR) {
            res->timed_out = true; /* cannot wait on it any more: stop it like a timeout */
            break;
        }
        char chunk[16384];
        if (out_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(out_p[0], chunk, sizeof chunk);
            if (got > 0) {
                buf_append(&res->out, chunk, (size_t)got);
                if (res->out.failed) {
                    res->too_big = true;
                    break;
                }
            } else if (got == 0 || errno != EINTR) {
                out_open = false;
            }
        }
        if (err_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(err_p[0], chunk, sizeof chunk);
            if (got > 0) {
                size_t take = (size_t)got;
                if (take > sizeof errbuf - errlen) {
                    take = sizeof errbuf - errlen;
                }
                memcpy(errbuf + errlen, chunk, take);
                errlen += take;
            } else if (got == 0 || errno != EINTR) {
                err_open = false;
            }
        }
    }
    int wst = 0;
    bool reaped = false;
    if (!res->timed_out && !res->too_big) {
        /* the pipes are closed; git exits right after, but the deadline holds here too */
        for (;;) {
            pid_t got = waitpid(pid, &wst, WNOHANG);
            if (got == pid) {
                reaped = true;
                break;
            }
            if (got < 0 && errno != EINTR) {
                break;
            }
            if (clock_mono_ms() >= deadline || atomic_load(&cancelled_all)) {
                res->timed_out = true;
                break;
            }
            usleep(2000);
        }
    }
    if (!reaped) {
        if (res->timed_out || res->too_big) {
            kill(-pid, SIGKILL); /* the whole session: ssh, remote helpers, upload-pack */
        }
        pid_t got;
        while ((got = waitpid(pid, &wst, 0)) < 0 && errno == EINTR) {
        }
        reaped = got == pid;
    }
    pid = -1;
    keep_stderr(res, errbuf, errlen);
    if (res->timed_out && atomic_load(&cancelled_all)) {
        snprintf(res->errtext, sizeof res->errtext, "stopped: the server is stopping");
    } else if (res->timed_out) {
        snprintf(res->errtext, sizeof res->errtext, "git did not finish within %lld s",
                 (long long)(timeout_ms / 1000));
    } else if (res->too_big) {
        snprintf(res->errtext, sizeof res->errtext, "git's answer passed %zu bytes", max_out);
    } else if (!reaped) {
        snprintf(res->errtext, sizeof res->errtext, "cannot wait for git: %s", strerror(errno));
    } else if (WIFEXITED(wst)) {
        res->status = WEXITSTATUS(wst);
        ok = res->status == 0;
        if (!ok && !res->errtext[0]) {
            snprintf(res->errtext, sizeof res->errtext, "git exited with status %d", res->status);
        }
    } else {
        snprintf(res->errtext, sizeof res->errtext, "git was killed by signal %d",
                 WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
    }

done:
    if (fa_ok) {
        posix_spawn_file_actions_destroy(&fa);
    }
    if (at_ok) {
        posix_spawnattr_destroy(&at);
    }
    for (int i = 0; i < 2; i++) {
        if (out_p[i] >= 0) {
            close(out_p[i]);
        }
        if (err_p[i] >= 0) {
            close(err_p[i]);
        }
    }
    xfree(env);
    xfree(argv);
    return ok;
}

/* ---- queries and updates ---- */

static void copy_why(char *why, size_t why_len, const char *what, const git_result *res)
{
    if (why && why_len) {
        snprintf(why, why_len, "%s: %s", what, res->errtext[0] ? res->errtext : "failed");
    }
}

/* the first line of out, trimmed, into dst; false when empty or too long */
static bool first_line(const git_result *res, char *dst, size_t cap)
{
    const char *s = res->out.ptr ? res->out.ptr : "";
    size_t n = strcspn(s, "\r\n");
    if (n == 0 || n >= cap) {
        return false;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

bool git_head(const git_repo *r, char out[41])
{
    out[0] = '\0';
    static const char *const args[] = {"rev-parse", "--verify", "--quiet", "HEAD^{commit}", NULL};
    git_result res;
    bool ok = git_run(r, args, GIT_TIMEOUT_MS, GIT_SMALL_OUT, &res);
    char line[80];
    ok = ok && first_line(&res, line, sizeof line) && strlen(line) == 40 && all_hex(line, 40);
    if (ok) {
        memcpy(out, line, 41);
    }
    git_result_release(&res);
    return ok;
}

bool git_head_ws(const cfg_workspace *ws, char out[41])
{
    git_repo r;
    char why[256];
    out[0] = '\0';
    if (!git_repo_open(ws, &r, why, sizeof why)) {
        return false;
    }
    bool ok = git_head(&r, out);
    git_repo_release(&r);
    return ok;
}

bool git_indexable_commit(const cfg_workspace *ws, char out[41])
{
    git_repo r;
    char why[256];
    out[0] = '\0';
    if (!git_repo_open(ws, &r, why, sizeof why)) {
        return false;
    }
    int64_t n = -1;
    bool ok = git_is_clean(&r, &n, why, sizeof why) ? git_head(&r, out) : n > 0;
    git_repo_release(&r);
    return ok;
}

/* NUL-separated entries in out (porcelain -z, --name-only -z) */
static int64_t count_z(const git_result *res)
{
    int64_t n = 0;
    for (size_t i = 0; i < res->out.len; i++) {
        n += res->out.ptr[i] == '\0';
    }
    return n;
}

bool git_is_clean(const git_repo *r, int64_t *n_changed, char *why, size_t why_len)
{
    static const char *const args[] = {"status",
                                       "--porcelain=v1",
                                       "-z",
                                       "--untracked-files=no",
                                       "--ignore-submodules=all",
                                       "--no-renames",
                                       NULL};
    git_result res;
    bool ok = git_run(r, args, GIT_TIMEOUT_MS, GIT_NAMES_OUT, &res);
    int64_t n = ok ? count_z(&res) : -1;
    if (!ok) {
        copy_why(why, why_len, "git status", &res);
    }
    git_result_release(&res);
    if (n_changed) {
        *n_changed = n;
    }
    return n == 0;
}

bool git_upstream(const git_repo *r, char *out, size_t cap, char *why, size_t why_len)
{
    static const char *const args[] = {"rev-parse", "--abbrev-ref", "--symbolic-full-name",
                                       "@{upstream}", NULL};
    git_result res;
    bool ok = git_run(r, args, GIT_TIMEOUT_MS, GIT_SMALL_OUT, &res) && first_line(&res, out, cap);
    if (!ok) {
        snprintf(why, why_len, "%s", res.errtext[0] ? res.errtext : "no upstream branch");
    }
    git_result_release(&res);
    return ok;
}

bool git_fetch(const git_repo *r, char *why, size_t why_len)
{
    /* no remote named: the current branch's remote, else origin; never one from a caller */
    static const char *const args[] = {"-c",
                                       "protocol.ext.allow=never",
                                       "-c",
                                       "fetch.recurseSubmodules=false",
                                       "fetch",
                                       "--quiet",
                                       "--no-recurse-submodules",
                                       "--no-write-fetch-head",
                                       NULL};
    git_result res;
    bool ok = git_run(r, args, GIT_FETCH_TIMEOUT_MS, GIT_SMALL_OUT, &res);
    if (!ok) {
        copy_why(why, why_len, "git fetch", &res);
    }
    git_result_release(&res);
    return ok;
}

git_ff_result git_ff(const git_repo *r, char old[41], char new_[41], int64_t *n_dirty, char *why,
                     size_t why_len)
{
    old[0] = new_[0] = '\0';
    int64_t dirty = 0;
    bool clean = git_is_clean(r, &dirty, why, why_len);
    if (n_dirty) {
        *n_dirty = dirty;
    }
    if (dirty < 0) {
        return GIT_FF_FAILED;
    }
    if (!git_head(r, old)) {
        snprintf(why, why_len, "HEAD does not name a commit");
        return GIT_FF_FAILED;
    }
    if (!clean) {
        memcpy(new_, old, 41);
        return GIT_FF_DIRTY;
    }
    char up[256];
    if (!git_upstream(r, up, sizeof up, why, why_len)) {
        memcpy(new_, old, 41);
        return GIT_FF_FAILED;
    }
    static const char *const args[] = {"-c",          "merge.verifySignatures=false",
                                       "merge",       "--ff-only",
                                       "--no-edit",   "--quiet",
                                       "--no-stat",   "--no-verify",
                                       "@{upstream}", NULL};
    git_result res;
    bool ok = git_run(r, args, GIT_FETCH_TIMEOUT_MS, GIT_SMALL_OUT, &res);
    if (!ok) {
        char what[300];
        snprintf(what, sizeof what, "cannot fast-forward to '%s'", up);
        copy_why(why, why_len, what, &res);
    }
    git_result_release(&res);
    if (!git_head(r, new_)) {
        snprintf(why, why_len, "HEAD does not name a commit after the merge");
        return GIT_FF_FAILED;
    }
    if (!ok) {
        return GIT_FF_FAILED;
    }
    return strcmp(old, new_) == 0 ? GIT_FF_UP_TO_DATE : GIT_FF_UPDATED;
}

/* report each NUL-separated repository path under the workspace prefix */
static int64_t report_names(const git_repo *r, const git_result *res, git_path_fn fn, void *ctx)
{
    size_t pl = strlen(r->prefix);
    int64_t n = 0;
    const char *p = res->out.ptr ? res->out.ptr : "";
    const char *end = p + res->out.len;
    while (p < end) {
        size_t len = strnlen(p, (size_t)(end - p));
        if (len > pl && len - pl < PATH_MAX_LEN && strncmp(p, r->prefix, pl) == 0) {
            n++;
            if (!fn(ctx, p + pl)) {
                break;
            }
        }
        p += len + 1;
    }
    return n;
}

int64_t git_diff_names(const git_repo *r, const char *old, const char *new_, git_path_fn fn,
                       void *ctx, char *why, size_t why_len)
{
    if (!git_validate_ref(old) || (new_ && !git_validate_ref(new_))) {
        snprintf(why, why_len, "not a valid ref: '%.64s'", git_validate_ref(old) ? new_ : old);
        return -1;
    }
    /* without new_, the commit against the working tree (tracked files) */
    const char *const args[] = {"diff",
                                "--name-only",
                                "-z",
                                "--no-renames",
                                "--no-ext-diff",
                                "--no-textconv",
                                "--end-of-options",
                                old,
                                new_ ? new_ : "--",
                                new_ ? "--" : NULL,
                                NULL};
    git_result res;
    int64_t n = -1;
    if (git_run(r, args, GIT_TIMEOUT_MS, GIT_NAMES_OUT, &res)) {
        n = report_names(r, &res, fn, ctx);
    } else {
        copy_why(why, why_len, "git diff", &res);
    }
    git_result_release(&res);
    return n;
}

int64_t git_commit_files(const git_repo *r, const char *commit, git_path_fn fn, void *ctx,
                         char *why, size_t why_len)
{
    if (!git_validate_ref(commit)) {
        snprintf(why, why_len, "not a valid ref: '%.64s'", commit);
        return -1;
    }
    const char *const args[] = {"diff-tree",
                                "-r",
                                "--no-commit-id",
                                "--name-only",
                                "-z",
                                "--no-renames",
                                "--no-ext-diff",
                                "--no-textconv",
                                "--root",
                                "-m",
                                "--first-parent",
                                "--end-of-options",
                                commit,
                                "--",
                                NULL};
    git_result res;
    int64_t n = -1;
    if (git_run(r, args, GIT_TIMEOUT_MS, GIT_NAMES_OUT, &res)) {
        n = report_names(r, &res, fn, ctx);
    } else {
        copy_why(why, why_len, "git diff-tree", &res);
    }
    git_result_release(&res);
    return n;
}

/* ctags.c - the Universal Ctags batch runner (ctags.h).
 *
 * The child is started with fork + execve (not a shell): everything it needs (argv, envp, the
 * /dev/null descriptor) is prepared before the fork, and the child only calls async-signal-safe
 * functions (fchdir, dup2, close_range, execve, _exit). Its stdin is one end of a Unix socket
 * pair, so writing the file list after ctags died yields EPIPE from send(MSG_NOSIGNAL) instead
 * of a SIGPIPE; its stdout is a pipe read line by line. One poll() loop feeds the list and reads
 * the tags at once (a long list could otherwise fill both pipes and deadlock), waking every
 * 100 ms to look at the cancel flag.
 *
 * Which executable: the first `ctags` on PATH that lists the `json` feature (Universal Ctags
 * built with libjansson; Exuberant Ctags has no --list-features), found once per process,
 * together with its language map (`--list-maps`) for ctags_language_of(). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "lang/ctags.h"

#define CTAGS_PATH_MAX 4096
#define CTAGS_LIST_OUT_MAX (1u << 20) /* --list-features / --list-maps output */
#define CTAGS_MAPS_MAX 512            /* languages */
#define CTAGS_GLOBS_MAX 4096          /* patterns across all languages */
#define POLL_MS 100

static char ctags_exe[CTAGS_PATH_MAX];
static bool ctags_ok;
static pthread_once_t ctags_once = PTHREAD_ONCE_INIT;

typedef struct map_glob {
    const char *lang; /* into map_text */
    const char *glob;
} map_glob;
static char *map_text; /* --list-maps output, split in place; lives for the process */
static map_glob map_globs[CTAGS_GLOBS_MAX];
static size_t n_map_globs;

/* the environment of the child: no HOME (no ~/.ctags.d), no XDG dirs, C locale */
static char *const child_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", NULL};

typedef struct child {
    pid_t pid;
    int in;  /* our end of its stdin (socket), or -1 */
    int out; /* our end of its stdout (pipe), or -1 */
} child;

/* Start exe with argv, cwd at dir_fd (or "/" when -1). false with errno on failure. */
static bool spawn(char *const argv[], int dir_fd, child *c)
{
    int sv[2] = {-1, -1}, po[2] = {-1, -1};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) {
        return false;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        goto close_null;
    }
    if (pipe2(po, O_CLOEXEC) != 0) {
        goto close_sv;
    }
    pid_t pid = fork();
    if (pid < 0) {
        goto close_po;
    }
    if (pid == 0) {
        /* the child: async-signal-safe calls only */
        if ((dir_fd >= 0 ? fchdir(dir_fd) : chdir("/")) != 0) {
            _exit(126);
        }
        if (dup2(sv[1], 0) < 0 || dup2(po[1], 1) < 0 || dup2(devnull, 2) < 0) {
            _exit(126);
        }
        if (close_range(3, ~0u, 0) != 0) {
            for (int fd = 3; fd < 1024; fd++) {
                close(fd);
            }
        }
        execve(ctags_exe, argv, child_env);
        _exit(127);
    }
    close(sv[1]);
    close(po[1]);
    close(devnull);
    c->pid = pid;
    c->in = sv[0];
    c->out = po[0];
    return true;
close_po:
    close(po[0]);
    close(po[1]);
close_sv:
    close(sv[0]);
    close(sv[1]);
close_null : {
    int e = errno;
    close(devnull);
    errno = e;
}
    return false;
}

/* reap c; kill it first when `kill_it`; the exit status (or -1 when it did not exit normally) */
static int reap(child *c, bool kill_it)
{
    if (c->in >= 0) {
        close(c->in);
        c->in = -1;
    }
    if (c->out >= 0) {
        close(c->out);
        c->out = -1;
    }
    if (c->pid <= 0) {
        return -1;
    }
    if (kill_it) {
        kill(c->pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    c->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* run exe with argv and no input, collecting stdout (up to max bytes) into out */
static bool capture(char *const argv[], buf *out, size_t max)
{
    child c;
    if (!spawn(argv, -1, &c)) {
        return false;
    }
    close(c.in);
    c.in = -1;
    char chunk[8192];
    for (;;) {
        ssize_t k = read(c.out, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        if (out->len + (size_t)k > max) {
            reap(&c, true);
            return false;
        }
        buf_append(out, chunk, (size_t)k);
    }
    return reap(&c, false) == 0 && !out->failed;
}

/* the first executable `ctags` on PATH */
static bool find_exe(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    for (const char *p = path; *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len > 0 && len + 7 < sizeof ctags_exe && p[0] == '/') {
            memcpy(ctags_exe, p, len);
            memcpy(ctags_exe + len, "/ctags", 7);
            struct stat sb;
            if (stat(ctags_exe, &sb) == 0 && S_ISREG(sb.st_mode) && access(ctags_exe, X_OK) == 0) {
                return true;
            }
        }
        p += len + (colon ? 1 : 0);
    }
    ctags_exe[0] = '\0';
    return false;
}

static void load_maps(void)
{
    char *argv[] = {"ctags", "--options=NONE", "--list-maps", NULL};
    buf b;
    buf_init(&b, CTAGS_LIST_OUT_MAX);
    if (!capture(argv, &b, CTAGS_LIST_OUT_MAX) || !b.ptr) {
        buf_release(&b);
        return;
    }
    size_t len;
    map_text = buf_detach(&b, &len);
    /* "Lang     *.a *.b [Mm]akefile\n": the first word is the language, the rest globs */
    for (char *line = map_text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        char *save = NULL;
        const char *lang = strtok_r(line, " \t", &save);
        for (char *g; lang && (g = strtok_r(NULL, " \t", &save)) != NULL;) {
            if (n_map_globs < CTAGS_GLOBS_MAX) {
                map_globs[n_map_globs++] = (map_glob){lang, g};
            }
        }
        line = nl ? nl + 1 : NULL;
    }
}

static void init_once(void)
{
    if (!find_exe()) {
        return;
    }
    char *argv[] = {"ctags", "--options=NONE", "--list-features", NULL};
    buf b;
    buf_init(&b, CTAGS_LIST_OUT_MAX);
    bool ran = capture(argv, &b, CTAGS_LIST_OUT_MAX);
    /* a line "json  supports json format output" */
    bool json = false;
    for (const char *p = b.ptr; ran && p && *p;) {
        if (strncmp(p, "json", 4) == 0 && (p[4] == ' ' || p[4] == '\t')) {
            json = true;
            break;
        }
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    buf_release(&b);
    if (!json) {
        log_info("ctags: '%s' lacks JSON output; no fallback parser", ctags_exe);
        return;
    }
    load_maps();
    ctags_ok = true;
}

bool ctags_available(void)
{
    pthread_once(&ctags_once, init_once);
    return ctags_ok;
}

const char *ctags_language_of(const char *relpath)
{
    if (!ctags_available() || !relpath) {
        return NULL;
    }
    const char *base = strrchr(relpath, '/');
    base = base ? base + 1 : relpath;
    for (size_t i = 0; i < n_map_globs; i++) {
        if (fnmatch(map_globs[i].glob, base, 0) == 0) {
            return map_globs[i].lang;
        }
    }
    return NULL;
}

/* ---- the run */

typedef struct run {
    const char *const *relpaths;
    size_t n;
    size_t cur; /* the file ctags is on (tags arrive file by file) */
    ctags_tag_fn fn;
    void *ctx;
    ctags_stats *st;
    bool stop;
} run;

static const char *field_str(json_t *o, const char *key, char *dst, size_t cap)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) {
            len--; /* cut at a UTF-8 boundary */
        }
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return dst;
}

static uint32_t field_u32(json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) {
        return 0;
    }
    json_int_t i = json_integer_value(v);
    return i > 0 && i <= (json_int_t)UINT32_MAX ? (uint32_t)i : 0;
}

/* the index of path in relpaths, looking forward from the current file */
static bool locate(run *r, const char *path, size_t *idx)
{
    if (strncmp(path, "./", 2) == 0) {
        path += 2;
    }
    for (size_t i = r->cur; i < r->n; i++) {
        if (strcmp(r->relpaths[i], path) == 0) {
            r->cur = i;
            *idx = i;
            return true;
        }
    }
    return false;
}

static void one_line(run *r, const char *line, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "_type")) ||
        strcmp(json_string_value(json_object_get(o, "_type")), "tag") != 0) {
        r->st->junk_lines++;
        json_decref(o);
        return;
    }
    char path[CTAGS_PATH_MAX], name[CTAGS_FIELD_MAX], kind[CTAGS_FIELD_MAX];
    char scope[CTAGS_FIELD_MAX], scope_kind[CTAGS_FIELD_MAX], language[CTAGS_FIELD_MAX];
    char sig[CTAGS_FIELD_MAX];
    ctags_tag t = {0};
    size_t idx;
    if (!field_str(o, "path", path, sizeof path) || !locate(r, path, &idx) ||
        !(t.name = field_str(o, "name", name, sizeof name)) ||
        (t.line = field_u32(o, "line")) == 0) {
        r->st->junk_lines++;
        json_decref(o);
        return;
    }
    t.relpath = r->relpaths[idx];
    t.kind = field_str(o, "kind", kind, sizeof kind);
    if (!t.kind) {
        t.kind = "unknown";
    }
    t.scope = field_str(o, "scope", scope, sizeof scope);
    t.scope_kind = field_str(o, "scopeKind", scope_kind, sizeof scope_kind);
    t.language = field_str(o, "language", language, sizeof language);
    if (!t.language) {
        t.language = "";
    }
    t.signature = field_str(o, "signature", sig, sizeof sig);
    t.end_line = field_u32(o, "end");
    r->st->tags++;
    if (!r->fn(r->ctx, &t)) {
        r->stop = true;
    }
    json_decref(o);
}

err ctags_run(int root_fd, const char *const *relpaths, size_t n, ctags_tag_fn fn, void *ctx,
              const atomic_bool *cancel, ctags_stats *st)
{
    ctags_stats dummy;
    if (!st) {
        st = &dummy;
    }
    memset(st, 0, sizeof *st);
    if (!ctags_available()) {
        return ERR_IO;
    }
    if (n == 0) {
        return ERR_OK;
    }
    /* the list: "./rel\n" per path (never read as an option: -L accepts options in its input) */
    buf list;
    buf_init(&list, 0);
    for (size_t i = 0; i < n; i++) {
        if (!relpaths[i][0] || strchr(relpaths[i], '\n') || strchr(relpaths[i], '\r')) {
            st->skipped++;
            continue;
        }
        buf_puts(&list, "./");
        buf_puts(&list, relpaths[i]);
        buf_putc(&list, '\n');
        st->files++;
    }
    if (list.failed) {
        buf_release(&list);
        return ERR_NOMEM;
    }
    char *line = xmalloc(CTAGS_LINE_MAX + 1);
    if (!line) {
        buf_release(&list);
        return ERR_NOMEM;
    }
    char *argv[] = {"ctags",
                    "--options=NONE",
                    "-L",
                    "-",
                    "--output-format=json",
                    "--fields=+nKzSel",
                    "--sort=no",
                    "-f",
                    "-",
                    NULL};
    child c = {0, -1, -1};
    err rc = ERR_OK;
    if (!spawn(argv, root_fd, &c)) {
        log_warn("ctags: cannot start '%s': %s", ctags_exe, strerror(errno));
        rc = ERR_IO;
        goto free_all;
    }
    run r = {relpaths, n, 0, fn, ctx, st, false};
    size_t sent = 0, ll = 0;
    bool overlong = false;
    if (list.len == 0) {
        close(c.in);
        c.in = -1;
    }
    char chunk[16384];
    while (c.out >= 0) {
        if (cancel && atomic_load(cancel)) {
            r.stop = true;
        }
        if (r.stop) {
            rc = ERR_CANCELLED;
            break;
        }
        struct pollfd pf[2] = {{c.out, POLLIN, 0}, {c.in, POLLOUT, 0}};
        int np = c.in >= 0 ? 2 : 1;
        int k = poll(pf, (nfds_t)np, POLL_MS);
        if (k < 0 && errno != EINTR) {
            rc = ERR_IO;
            break;
        }
        if (k <= 0) {
            continue;
        }
        if (np == 2 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(c.in, list.ptr + sent, list.len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                sent += (size_t)w;
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == list.len) {
                shutdown(c.in, SHUT_WR); /* end of the list: ctags starts on the last files */
                close(c.in);
                c.in = -1;
            }
        }
        if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }
        ssize_t got = read(c.out, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            close(c.out);
            c.out = -1;
            break;
        }
        for (ssize_t i = 0; i < got && !r.stop; i++) {
            char ch = chunk[i];
            if (ch != '\n') {
                if (ll < CTAGS_LINE_MAX) {
                    line[ll++] = ch;
                } else {
                    overlong = true;
                }
                continue;
            }
            if (overlong) {
                st->long_lines++;
            } else if (ll > 0) {
                one_line(&r, line, ll);
            }
            ll = 0;
            overlong = false;
        }
    }
    if (rc == ERR_OK && !r.stop && ll > 0 && !overlong) {
        one_line(&r, line, ll); /* a last line without its newline */
    }
    if (rc == ERR_OK && r.stop) {
        rc = ERR_CANCELLED;
    }
    int status = reap(&c, rc != ERR_OK);
    if (rc == ERR_OK && status != 0) {
        log_warn("ctags: exited with status %d", status);
        rc = ERR_IO;
    }
free_all:
    xfree(line);
    buf_release(&list);
    return rc;
}

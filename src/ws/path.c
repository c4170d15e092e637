/* path.c - workspace path confinement (see path.h). */
#include "ws/path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/alloc.h"
#include "ws/glob.h"

const char *path_status_code(path_status s)
{
    switch (s) {
    case PATH_OK: return "ok";
    case PATH_OUTSIDE: return "path_outside_root";
    case PATH_DENIED: return "path_denied";
    case PATH_NOT_FOUND: return "not_found";
    case PATH_NOT_FILE: return "not_a_file";
    case PATH_NOT_DIR: return "not_a_directory";
    default: return "not_found";
    }
}

/* under: is p equal to or below dir (at a component boundary)? returns the rest (no slash) */
static const char *under(const char *p, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    if (strncmp(p, dir, n) != 0) {
        return NULL;
    }
    if (p[n] == '\0') {
        return p + n;
    }
    if (p[n] == '/') {
        return p + n + 1;
    }
    return NULL;
}

path_status path_normalize(const char *in, size_t len, const char *root_abs, const char *root_real,
                           char *out, size_t out_cap, char *why, size_t why_len)
{
    /* on refusal out stays "": callers may print it, and a half-built path is no path */
    out[0] = '\0';
    if (memchr(in, '\0', len)) {
        snprintf(why, why_len, "path contains a NUL byte");
        return PATH_OUTSIDE;
    }
    if (len > PATH_MAX_LEN) {
        snprintf(why, why_len, "path is longer than %d bytes", PATH_MAX_LEN);
        return PATH_OUTSIDE;
    }
    char tmp[PATH_MAX_LEN + 1];
    memcpy(tmp, in, len);
    tmp[len] = '\0';
    const char *p = tmp;
    if (p[0] == '/') {
        const char *rest = NULL;
        if (root_abs) {
            rest = under(p, root_abs);
        }
        if (!rest && root_real) {
            rest = under(p, root_real);
        }
        if (!rest) {
            snprintf(why, why_len, "'%.200s' is an absolute path outside the workspace root", p);
            return PATH_OUTSIDE;
        }
        p = rest;
    }
    /* split into components, dropping empty and `.` ones, refusing `..` */
    size_t o = 0;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            /* tmp, not in: in is len bytes, not necessarily NUL-terminated */
            snprintf(why, why_len,
                     "'%.200s' has a '..' segment; paths must stay inside the workspace root", tmp);
            out[0] = '\0';
            return PATH_OUTSIDE;
        }
        if (n > PATH_MAX_COMPONENT) {
            snprintf(why, why_len, "a component of the path is longer than %d bytes",
                     PATH_MAX_COMPONENT);
            out[0] = '\0';
            return PATH_OUTSIDE;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o + n + 2 > out_cap) {
                snprintf(why, why_len, "path is too long");
                out[0] = '\0';
                return PATH_OUTSIDE;
            }
            if (o) {
                out[o++] = '/';
            }
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/') {
            p++;
        }
    }
    out[o] = '\0';
    return PATH_OK;
}

/* ---- deny-list ---- */

static const char *const builtin_denied[] = {".env",
                                             ".env.*",
                                             "*.pem",
                                             "*.key",
                                             "*.p12",
                                             "*.pfx",
                                             "*.keystore",
                                             "id_rsa*",
                                             "id_ed25519*",
                                             "*.kdbx",
                                             ".npmrc",
                                             ".pypirc",
                                             ".netrc",
                                             "credentials*.json",
                                             "secrets.json",
                                             "secrets.yaml",
                                             "secrets.yml",
                                             "secrets.toml",
                                             "secrets.ini",
                                             "secrets.env",
                                             NULL};

static pthread_mutex_t deny_lock = PTHREAD_MUTEX_INITIALIZER;
static char **extra_denied;
static size_t n_extra_denied;
static char *protected_paths[16];
static size_t n_protected;

void path_set_extra_denied(char **patterns, size_t n)
{
    pthread_mutex_lock(&deny_lock);
    for (size_t i = 0; i < n_extra_denied; i++) {
        xfree(extra_denied[i]);
    }
    xfree(extra_denied);
    extra_denied = n ? xcalloc(n, sizeof *extra_denied) : NULL;
    n_extra_denied = 0;
    for (size_t i = 0; extra_denied && i < n; i++) {
        extra_denied[n_extra_denied++] = xstrdup(patterns[i]);
    }
    pthread_mutex_unlock(&deny_lock);
}

void path_protect(const char *abs_real_path)
{
    pthread_mutex_lock(&deny_lock);
    for (size_t i = 0; i < n_protected; i++) {
        if (strcmp(protected_paths[i], abs_real_path) == 0) {
            pthread_mutex_unlock(&deny_lock);
            return;
        }
    }
    if (n_protected < sizeof protected_paths / sizeof *protected_paths) {
        protected_paths[n_protected++] = xstrdup(abs_real_path);
    }
    pthread_mutex_unlock(&deny_lock);
}

static size_t n_protected_snapshot(void)
{
    pthread_mutex_lock(&deny_lock);
    size_t n = n_protected;
    pthread_mutex_unlock(&deny_lock);
    return n;
}

bool path_protected_abs(const char *abs)
{
    bool hit = false;
    pthread_mutex_lock(&deny_lock);
    for (size_t i = 0; i < n_protected && !hit; i++) {
        hit = under(abs, protected_paths[i]) != NULL;
    }
    pthread_mutex_unlock(&deny_lock);
    return hit;
}

size_t path_protected_list(const char **out, size_t max)
{
    pthread_mutex_lock(&deny_lock);
    size_t n = n_protected < max ? n_protected : max;
    for (size_t i = 0; i < n; i++) {
        out[i] = protected_paths[i];
    }
    pthread_mutex_unlock(&deny_lock);
    return n;
}

bool path_denied_name(const char *name)
{
    size_t n = strlen(name);
    if (strcmp(name, ".git") == 0) {
        return true;
    }
    for (int i = 0; builtin_denied[i]; i++) {
        if (wildmatch(builtin_denied[i], strlen(builtin_denied[i]), name, n)) {
            return true;
        }
    }
    bool hit = false;
    pthread_mutex_lock(&deny_lock);
    for (size_t i = 0; i < n_extra_denied && !hit; i++) {
        const char *pat = extra_denied[i];
        hit = wildmatch(pat, strlen(pat), name, n);
    }
    pthread_mutex_unlock(&deny_lock);
    return hit;
}

bool path_denied_rel(const char *rel)
{
    /* `.git` anywhere, a secret name as the last component */
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 4 && memcmp(p, ".git", 4) == 0) {
            return true;
        }
        if (!slash) {
            return path_denied_name(p);
        }
        p = slash + 1;
    }
    return false;
}

/* ---- opening ---- */

static int openat2_beneath(int dirfd, const char *rel, int flags)
{
    struct open_how how = {0};
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
}

/* Fallback without openat2: walk components with O_NOFOLLOW; a symlink is resolved by hand
 * (relative targets only, spliced into the remaining path, depth-limited) and `..` is refused,
 * which is stricter than RESOLVE_BENEATH but never weaker. */
static int walk_beneath(int root_fd, const char *rel, int flags)
{
    char pathbuf[PATH_MAX_LEN * 2 + 2];
    snprintf(pathbuf, sizeof pathbuf, "%s", rel);
    int dfd = dup(root_fd);
    int links = 0;
    char *p = pathbuf;
    if (dfd < 0) {
        return -1;
    }
    for (;;) {
        while (*p == '/') {
            p++;
        }
        if (!*p) {
            /* the root itself */
            int fd = openat(dfd, ".", flags | O_CLOEXEC);
            close(dfd);
            return fd;
        }
        char *slash = strchr(p, '/');
        bool last = !slash || !slash[strspn(slash, "/")];
        if (slash) {
            *slash = '\0';
        }
        if (strcmp(p, "..") == 0) {
            close(dfd);
            errno = EXDEV;
            return -1;
        }
        int fd = openat(dfd, p, (last ? flags : (O_PATH | O_DIRECTORY)) | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && (errno == ELOOP || errno == ENOTDIR || errno == EMLINK)) {
            char target[PATH_MAX_LEN + 1];
            ssize_t tn = readlinkat(dfd, p, target, sizeof target - 1);
            if (tn < 0) {
                close(dfd);
                return -1;
            }
            target[tn] = '\0';
            if (target[0] == '/' || ++links > 40) {
                close(dfd);
                errno = EXDEV;
                return -1;
            }
            char rest[PATH_MAX_LEN + 1];
            snprintf(rest, sizeof rest, "%s", slash ? slash + 1 : "");
            snprintf(pathbuf, sizeof pathbuf, "%s%s%s", target, *rest ? "/" : "", rest);
            p = pathbuf;
            continue;
        }
        close(dfd);
        if (fd < 0 || last) {
            return fd;
        }
        dfd = fd;
        p = slash + 1;
    }
}

static bool have_openat2 = true;

int path_open_walked(int root_fd, const char *rel)
{
    if (have_openat2) {
        struct open_how how = {0};
        how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        int fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS) {
            return fd;
        }
        have_openat2 = false;
    }
    path_status st;
    return path_open(root_fd, NULL, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW, &st);
}

int path_open(int root_fd, const char *root_real, const char *rel, int flags, path_status *st)
{
    if (path_denied_rel(rel)) {
        *st = PATH_DENIED;
        return -1;
    }
    const char *r = *rel ? rel : ".";
    int fd = -1;
    bool via_link = true;
    if (have_openat2) {
        /* first without following any symlink: then the target is the path asked for, which
           was checked above, and the costly readlink of the descriptor is not needed */
        struct open_how how = {0};
        how.flags = (unsigned long long)(flags | O_CLOEXEC);
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, root_fd, r, &how, sizeof how);
        if (fd >= 0) {
            via_link = false;
        } else if (errno == ELOOP) {
            fd = openat2_beneath(root_fd, r, flags);
        } else if (errno == ENOSYS) {
            have_openat2 = false;
        }
    }
    if (!have_openat2) {
        fd = walk_beneath(root_fd, rel, flags);
    }
    if (fd < 0) {
        switch (errno) {
        case EXDEV:
        case ELOOP: *st = PATH_OUTSIDE; break;
        case ENOENT: *st = PATH_NOT_FOUND; break;
        case ENOTDIR: *st = (flags & O_DIRECTORY) ? PATH_NOT_DIR : PATH_NOT_FOUND; break;
        case EACCES:
        case EPERM: *st = PATH_DENIED; break;
        default: *st = PATH_IO;
        }
        return -1;
    }
    if (!via_link) {
        if (root_real && n_protected_snapshot() > 0) {
            char abs[PATH_MAX_LEN * 2 + 2];
            snprintf(abs, sizeof abs, "%s/%s", root_real, rel);
            if (path_protected_abs(abs)) {
                close(fd);
                *st = PATH_DENIED;
                return -1;
            }
        }
        *st = PATH_OK;
        return fd;
    }
    /* the resolved target must pass the deny-list too (a link named a.txt to .env) */
    char proc[64], real[PATH_MAX_LEN + 1];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, real, sizeof real - 1);
    if (n > 0) {
        real[n] = '\0';
        const char *inner = root_real ? under(real, root_real) : NULL;
        if (path_protected_abs(real) || (inner && *inner && path_denied_rel(inner))) {
            close(fd);
            *st = PATH_DENIED;
            return -1;
        }
    }
    *st = PATH_OK;
    return fd;
}

int path_open_file(int root_fd, const char *root_real, const char *rel, struct stat *sb,
                   path_status *st)
{
    int fd = path_open(root_fd, root_real, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, st);
    if (fd < 0) {
        return -1;
    }
    if (fstat(fd, sb) != 0) {
        close(fd);
        *st = PATH_IO;
        return -1;
    }
    if (!S_ISREG(sb->st_mode)) {
        close(fd);
        *st = PATH_NOT_FILE;
        return -1;
    }
    /* O_NONBLOCK stays: it has no effect on reads of a regular file */
    return fd;
}

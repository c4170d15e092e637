/* path.h - confinement of every path to its workspace root (DESIGN §5, tools.md §1.3).
 *
 * A caller's path is first checked as text (path_normalize: no NUL, no `..` segment, not
 * absolute unless it names a place inside the root, bounded length), then opened by the kernel
 * relative to the root's descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so a
 * symlink (or a checkout changing underneath) can never lead outside; where openat2 is missing
 * the fallback walks component by component with O_NOFOLLOW and resolves relative links itself
 * under the same rule. The deny-list (secrets, `.git`, the server's own files) is checked on the
 * requested path and on the resolved target. Nothing here uses realpath-then-open. */
#ifndef CTXD_WS_PATH_H
#define CTXD_WS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define PATH_MAX_LEN 4096
#define PATH_MAX_COMPONENT 255

typedef enum {
    PATH_OK = 0,
    PATH_OUTSIDE,   /* path_outside_root */
    PATH_DENIED,    /* path_denied */
    PATH_NOT_FOUND, /* not_found */
    PATH_NOT_FILE,  /* not_a_file */
    PATH_NOT_DIR,   /* not_a_directory */
    PATH_IO,        /* any other failure */
} path_status;

const char *path_status_code(path_status s);

/* Check a caller's path and rewrite it into out as a clean relative path (`""` for the root).
 * root_abs/root_real: the root as configured and canonical (an absolute path under either is
 * accepted and made relative). On refusal, a sentence in why and out is "". */
path_status path_normalize(const char *in, size_t len, const char *root_abs, const char *root_real,
                           char *out, size_t out_cap, char *why, size_t why_len);

/* The deny-list: built-in secret patterns + extra (config secretDenyList); `.git` segments;
 * the server's own files (set once at start with path_protect). rel is root-relative. */
void path_set_extra_denied(char **patterns, size_t n);
void path_protect(const char *abs_real_path); /* a file or directory of the server's own */
bool path_denied_rel(const char *rel);
bool path_denied_name(const char *name);
bool path_protected_abs(const char *abs);
/* the protected paths (pointers stay valid for the life of the process) */
size_t path_protected_list(const char **out, size_t max);

/* Open rel (already normalized) under root_fd. flags as open(2) (O_CLOEXEC added). On success
 * returns the fd; on failure -1 with *st set. Also checks the deny-list on the resolved target
 * (root_real is the canonical root, to make the target relative). */
int path_open(int root_fd, const char *root_real, const char *rel, int flags, path_status *st);

/* Open a file the walker found (rel names no symlink anywhere: walks never follow them) for
 * reading: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so a component swapped for a symlink after
 * the walk fails instead of leading elsewhere; no resolved-target check is needed. -1 on error. */
int path_open_walked(int root_fd, const char *rel);

/* Open a regular file for reading: O_NONBLOCK (a FIFO cannot hang us), then fstat: a directory
 * gives PATH_NOT_FILE, so does anything not regular. *sb receives the stat. */
int path_open_file(int root_fd, const char *root_real, const char *rel, struct stat *sb,
                   path_status *st);

#endif

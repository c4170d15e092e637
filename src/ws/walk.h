/* walk.h - the one directory walker every tool uses (tree, glob, search; later the indexer).
 *
 * Visibility follows tools.md §1.4: `.gitignore` files count only inside a git repository (a
 * `.git` directory or file in their directory or an ancestor, so a root holding several
 * checkouts gets each one's rules, and a root inside a repository gets the `.gitignore` files
 * above it), together with that repository's `.git/info/exclude`; `.ignore` and `.ctxdignore`
 * count everywhere; config `ignore` lines apply at the root. Precedence as ripgrep: class by
 * class (config, .ctxdignore, .ignore, .gitignore, info/exclude), and within a class the
 * deepest file that has a matching line decides, by its last matching line. An ignored
 * directory is not entered. The deny-list (secrets, `.git`, the server's own files) applies
 * always and cannot be switched off; denied files are counted, not shown.
 *
 * Entries of a directory are visited in byte order of their names, so output is deterministic.
 * Symlinked directories are never followed. The walk stops at the deadline or on cancel. */
#ifndef CTXD_WS_WALK_H
#define CTXD_WS_WALK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws/path.h"

typedef enum {
    WALK_FILE = 1,  /* a regular file */
    WALK_DIR,       /* a directory (visited before its content) */
    WALK_LINK_FILE, /* a symlink to a regular file inside the root (only with list_links) */
    WALK_OTHER,     /* FIFO, socket, device: listed by ctx_tree, never opened */
} walk_type;

typedef struct walk_opts {
    bool respect_ignore; /* ignore files and config `ignore` (never the deny-list) */
    bool skip_hidden;    /* skip names starting with `.` below the start */
    bool list_links;     /* report symlinks to files inside the root as WALK_LINK_FILE */
    bool list_other;     /* report FIFOs, sockets, devices as WALK_OTHER */
    int max_depth;       /* 0 = unlimited; 1 = the start's direct children only */
    int64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
    const atomic_bool *cancel;
    char **extra_ignore; /* gitignore-style lines applied at the root (config `ignore`) */
    size_t n_extra_ignore;
} walk_opts;

typedef struct walk_entry {
    const char *rel; /* root-relative path */
    size_t rel_len;
    const char *name;
    int depth; /* 1 = a direct child of the start */
    walk_type type;
    int dir_fd; /* descriptor of the containing directory (openat with name) */
} walk_entry;

typedef enum { WALK_CONTINUE, WALK_SKIP, WALK_STOP } walk_action;
typedef walk_action (*walk_fn)(const walk_entry *e, void *ctx);

typedef struct walk_stats {
    size_t files, dirs;
    size_t denied;  /* secret-like files skipped by the deny-list */
    bool timed_out; /* stopped by the deadline */
    bool cancelled;
} walk_stats;

/* Walk from start_rel (normalized, root-relative; "" = root), which must be a directory.
 * Returns PATH_OK, or why the start could not be opened. */
path_status walk_tree(int root_fd, const char *root_real, const char *start_rel, const walk_opts *o,
                      walk_fn fn, void *ctx, walk_stats *st);

#endif

/* git.h - running git safely on a workspace's own repository (DESIGN §5 "Git").
 *
 * Invariants, for every command this module runs:
 * - git runs from an argument vector (posix_spawnp), never through a shell; stdin is /dev/null;
 *   it runs in its own process group, which is killed when the command's timeout passes;
 *   stdout and stderr are captured up to a bound (a bigger answer is an error, never silently
 *   cut); the signal mask and dispositions the server set are reset in the child.
 * - `--git-dir` and `--work-tree` name the repository found once, at or above the workspace root,
 *   by git_repo_open (a `.git` directory, or a `.git` file `gitdir: ...` of a worktree or
 *   submodule). git never discovers a repository itself, so a bare repository committed inside
 *   the tree is never used, and GIT_DIR and friends from the server's environment are dropped.
 * - GIT_TERMINAL_PROMPT=0, GIT_OPTIONAL_LOCKS=0 (reads never take the index lock), and
 *   `-c core.fsmonitor=false -c core.hooksPath=/dev/null -c core.pager=cat`, plus
 *   `--no-ext-diff --no-textconv` on diffs, so no read runs a program named by the repository.
 *   Fetches add `-c protocol.ext.allow=never` and `--no-recurse-submodules` (a `.gitmodules` URL
 *   is repository content, not the operator's configuration) and fetch only the remote the
 *   checkout already has; updates are fast-forwards only, never of a tree with local changes.
 * - A ref that comes from a caller passes git_validate_ref and is given after
 *   `--end-of-options`. */
#ifndef CTXD_INDEX_GIT_H
#define CTXD_INDEX_GIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/buf.h"

#define GIT_REF_MAX 256 /* longest ref (with its ~N/^N suffix) git_validate_ref accepts */

/* The repository of a workspace. Strings are owned (git_repo_release frees them). */
typedef struct git_repo {
    char *git_dir;   /* absolute: the `.git` directory, or where a `.git` file points */
    char *work_tree; /* absolute, canonical: the directory that holds `.git` */
    char *prefix;    /* the workspace root relative to work_tree: "" or "sub/dir/" */
} git_repo;

/* Find the repository at or above ws->root_real (never below it). false when there is none
 * (why says so: "no git repository at or above '/srv/x'") or a `.git` file is malformed. */
bool git_repo_open(const cfg_workspace *ws, git_repo *r, char *why, size_t why_len);
/* the same from a canonical directory path (tests, tools without a workspace struct) */
bool git_repo_open_dir(const char *root_real, git_repo *r, char *why, size_t why_len);
void git_repo_release(git_repo *r);

/* A ref from a caller: `git check-ref-format --allow-onelevel` rules, or 4-64 hex digits,
 * either optionally followed by ~N / ^N (N optional digits), at most GIT_REF_MAX bytes; never
 * anything starting with `-`. Pure: runs no process. */
bool git_validate_ref(const char *ref);

/* The result of one git command. out and errtext are NUL-terminated (errtext: git's stderr,
 * trimmed, bounded, fit for a message to the operator; never contains a credential since we
 * never pass one). */
typedef struct git_result {
    int status;     /* exit status, or -1 when git could not run, timed out or was killed */
    bool timed_out; /* killed at the timeout */
    bool too_big;   /* stdout passed its bound: out is incomplete and the call failed */
    buf out;
    char errtext[512];
} git_result;

/* Run `git <fixed options> args...` (args NULL-terminated, args[0] the subcommand) with a
 * timeout in ms and a bound on stdout. true when it ran and exited 0. res must be released
 * with git_result_release whatever the answer. */
bool git_run(const git_repo *r, const char *const *args, int64_t timeout_ms, size_t max_out,
             git_result *res);
void git_result_release(git_result *res);
/* shutdown: every running git command is killed and every later one fails at once */
void git_cancel_all(void);

/* HEAD's commit id (40 hex + NUL); false (out "") on an unborn branch or without git */
bool git_head(const git_repo *r, char out[41]);
/* convenience for callers holding only a workspace: resolve, read HEAD, release */
bool git_head_ws(const cfg_workspace *ws, char out[41]);

/* The commit a build of the working tree may record as its indexed commit (meta `commit`):
 * HEAD when the tracked files are clean, else "" (the index then holds local changes that no
 * commit describes, so a later sync must not diff from HEAD). false without git. */
bool git_indexable_commit(const cfg_workspace *ws, char out[41]);

/* No tracked file modified, staged or deleted (untracked files do not count: a fast-forward
 * never touches them unless it would overwrite one, which git refuses). *n_changed (may be
 * NULL) receives the number of changed paths; -1 is returned there when git failed. */
bool git_is_clean(const git_repo *r, int64_t *n_changed, char *why, size_t why_len);

/* the current branch's upstream, e.g. "origin/main"; false (why) when there is none */
bool git_upstream(const git_repo *r, char *out, size_t cap, char *why, size_t why_len);

/* Fetch the remote the checkout already has (the current branch's, else `origin`). */
bool git_fetch(const git_repo *r, char *why, size_t why_len);

typedef enum {
    GIT_FF_UPDATED,    /* HEAD moved from old to new */
    GIT_FF_UP_TO_DATE, /* nothing to do: old == new */
    GIT_FF_DIRTY,      /* the working tree has local changes: not touched */
    GIT_FF_FAILED,     /* why says what */
} git_ff_result;

/* Fast-forward the current branch to its upstream (merge --ff-only), only when the tree is
 * clean. old and new receive HEAD before and after; *n_dirty the count of local changes. */
git_ff_result git_ff(const git_repo *r, char old[41], char new_[41], int64_t *n_dirty, char *why,
                     size_t why_len);

/* Called once per changed path, relative to the WORKSPACE root ('/'-separated); paths outside
 * the root (the workspace may be a subdirectory of the repository) are not reported. Return
 * false to stop. */
typedef bool (*git_path_fn)(void *ctx, const char *rel);

/* `git diff --name-only old new`: files changed between two commits (refs are validated);
 * new_ NULL: between old and the working tree (tracked files: ctx_impact/ctx_graph `since`).
 * Returns the number of paths reported, or -1 on failure (why). */
int64_t git_diff_names(const git_repo *r, const char *old, const char *new_, git_path_fn fn,
                       void *ctx, char *why, size_t why_len);
/* The files one commit changed (against its first parent; all its files for a root commit). */
int64_t git_commit_files(const git_repo *r, const char *commit, git_path_fn fn, void *ctx,
                         char *why, size_t why_len);

#endif

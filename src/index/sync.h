/* sync.h - one workspace's sync: git fetch, fast-forward of a clean checkout, incremental
 * re-index of what changed (DESIGN §5 "Git", tools.md §1.6). Shared by `ctxd team sync` and
 * the periodic sync inside `serve` (watch.h).
 *
 * The changed set after a fast-forward comes from `git diff --name-only <indexed>..<new>`
 * (the indexed commit when the index records one, else the HEAD before the update), never
 * from a walk. A checkout with local changes is never touched: its index is refreshed from
 * the working tree (a stat-based incremental build). A workspace without git, or a branch
 * without an upstream, gets the refresh only. */
#ifndef CTXD_INDEX_SYNC_H
#define CTXD_INDEX_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "index/git.h"
#include "index/index.h"

/* paths from one diff past this count: a stat-based incremental build instead (cheaper than
 * handing the index a list nearly as long as the tree) */
#define SYNC_MAX_PATHS 100000

typedef struct sync_report {
    bool git;         /* the workspace lies in a git checkout */
    git_ff_result ff; /* when git */
    int64_t dirty;    /* local changes, when ff is GIT_FF_DIRTY */
    char old[41], new_[41];
    bool incremental;   /* only the diff's paths were re-indexed */
    int64_t changed;    /* paths the diff named */
    ix_summary sum;     /* the re-index */
    bool ok;            /* false: something failed; message says what */
    char message[1280]; /* one line for the operator, "sync main: ..." */
} sync_report;

/* Sync one workspace. fetch=false skips `git fetch` (the fast-forward then uses what was
 * fetched before). fn/ctx: progress of a walking build (may be NULL). Blocks until done. */
bool sync_workspace(const config *c, const cfg_workspace *ws, bool fetch, const atomic_bool *cancel,
                    ix_progress_fn fn, void *ctx, sync_report *rep);

#endif

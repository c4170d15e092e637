/* build.h - the build pipeline of one workspace's index (internal to src/index/).
 *
 * One pass = a producer (the walker, or an explicit list of paths) that stats candidates
 * against the files table, N parse workers (each with its own x_parser, one arena per file),
 * and ONE writer (the calling thread, owning the SQLite connection) that replaces each changed
 * file's rows in batched transactions (every IX_BATCH_FILES files or IX_BATCH_MS), then deletes
 * removed files and resolves imports. Readers see whole files only: a file's rows change inside
 * one transaction. */
#ifndef CTXD_INDEX_BUILD_H
#define CTXD_INDEX_BUILD_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "index/index.h"

#define IX_BATCH_FILES 500
#define IX_BATCH_MS 200

/* live progress of a pass, read by status and views from other threads */
typedef struct ix_progress {
    atomic_llong done, total;
    atomic_bool waiting; /* for another process' lease */
    pthread_mutex_t mu;  /* guards dir */
    char dir[256];       /* the directory being walked */
} ix_progress;

typedef struct ix_pass {
    const config *c;
    const cfg_workspace *ws;
    bool full;
    const char *subpath;      /* walk mode: "" or a normalized directory */
    const char *const *paths; /* list mode when not NULL */
    size_t n_paths;
    const char *commit;      /* may be NULL: stored as meta commit */
    const atomic_bool *stop; /* shutdown */
    ix_progress *prog;       /* may be NULL */
    int threads;             /* parse workers (>= 1) */
    /* the tenant's storage quota (index.h): -1 none; else the pass writes in one transaction
       and rolls back when the database grows past quota - quota_base */
    int64_t quota;
    int64_t quota_base; /* the tenant's bytes outside this index */
    atomic_bool *halt;  /* set by ix_run_pass itself to end the pass early (quota) */
} ix_pass;

/* run one pass on an open, writable database (the caller holds the lease) */
bool ix_run_pass(const ix_pass *p, sqlite3 *db, ix_summary *sum, char *why, size_t why_len);

/* The growth a walking pass would add to the index (index.h IX_EST_*): for every file the
 * walk finds whose stat differs from its row (every file when full), the estimated bytes of
 * its new rows minus those of its old ones; minus the rows of files that are gone; plus an
 * empty index's bytes when db is NULL (no index yet). Never below 0. files: the candidates.
 * false when the walk failed or was stopped. */
bool ix_estimate(const ix_pass *p, sqlite3 *db, int64_t *bytes, int64_t *files);

/* the running in-process build of a workspace: true with its job id and progress */
bool ix_job_progress(const cfg_workspace *ws, char job[24], int64_t *done, int64_t *total);
/* free the parsers kept between passes, and keep none from now on (index_shutdown); open:
 * keep them again (index_setup) */
void ix_parsers_release(void);
void ix_parsers_open(void);
/* close the calling thread's cached read connections (view.c) */
void ix_view_release_thread(void);
/* the tenant's storage quota through the hook (index.h) and the bytes it uses now; false
 * (quota -1) when it has none or it cannot be read */
bool ix_quota_usage(const config *c, const char *tenant, int64_t *quota, int64_t *used);
/* "" or why the last build of the workspace in this process was stopped by the quota (cleared
 * by the next build that commits) */
void ix_last_stop(const cfg_workspace *ws, char *out, size_t cap);
/* the building note of tools.md §1.6 ("" when no build runs) */
void ix_building_note(const cfg_workspace *ws, char *out, size_t cap);
/* 1234567 -> "1,234,567" */
void ix_group_digits(int64_t v, char *out, size_t cap);

#endif

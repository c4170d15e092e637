/* jobs.c - index builds as server jobs: one per workspace at a time, joined by later requests.
 *
 * A job is a thread that holds a reference to the config snapshot it was started with (so its
 * workspace stays valid across reloads), waits for a build slot (IX_MAX_BUILDS run at once in
 * the process: a build already uses every core), takes the workspace's lease (an flock shared
 * with other processes: `ctxd index` beside a server waits for it) and runs one pass. A second
 * request for the same workspace joins the running job. Jobs are freed once finished and no
 * waiter holds them; index_shutdown stops them (the pass checks the stop flag between files and
 * inside the parser) and joins every thread. index_update_paths runs on its caller's thread
 * under the same lease. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "index/build.h"
#include "index/git.h"
#include "index/index.h"
#include "index/store.h"
#include "ws/path.h"

#define IX_MAX_BUILDS 1

typedef struct job {
    struct job *next;
    char key[160]; /* tenant/workspace */
    char id[24];
    config *cfg;
    const cfg_workspace *ws;
    bool full;
    char *subpath;
    pthread_t th;
    bool finished;
    int refs; /* the thread's + each waiter's; under G.mu */
    ix_progress prog;
    ix_summary sum;
    bool ok;
    char why[sizeof(((ix_summary *)0)->why)];
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot freed, a job finished, or stop */
    job *jobs;
    int running;
    unsigned seq;
    int threads;
    bool up;
    atomic_bool stop;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int parse_threads(void)
{
    if (G.threads > 0) {
        return G.threads;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

void index_setup(const char *data_dir, int threads)
{
    pthread_mutex_lock(&G.mu);
    ix_set_data_dir(data_dir);
    G.threads = threads;
    G.up = true;
    atomic_store(&G.stop, false);
    pthread_mutex_unlock(&G.mu);
    ix_parsers_open();
}

static void job_free(job *j)
{
    pthread_mutex_destroy(&j->prog.mu);
    config_unref(j->cfg);
    xfree(j->subpath);
    xfree(j);
}

/* join and free finished jobs nobody waits on; G.mu held */
static void reap(void)
{
    for (job **pp = &G.jobs; *pp;) {
        job *j = *pp;
        if (j->finished && j->refs == 0) {
            *pp = j->next;
            pthread_join(j->th, NULL);
            job_free(j);
        } else {
            pp = &j->next;
        }
    }
}

void index_shutdown(void)
{
    pthread_mutex_lock(&G.mu);
    atomic_store(&G.stop, true);
    pthread_cond_broadcast(&G.cv);
    /* wait for every job's thread to finish (they see the stop flag promptly) */
    for (;;) {
        bool all = true;
        for (job *j = G.jobs; j; j = j->next) {
            all = all && j->finished;
        }
        if (all) {
            break;
        }
        pthread_cond_wait(&G.cv, &G.mu);
    }
    for (job *j = G.jobs; j;) {
        job *next = j->next;
        pthread_join(j->th, NULL);
        job_free(j);
        j = next;
    }
    G.jobs = NULL;
    G.up = false;
    pthread_mutex_unlock(&G.mu);
    ix_parsers_release();
    ix_view_release_thread();
}

static void job_key(const cfg_workspace *ws, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", ws->tenant, ws->id);
}

/* the running job of a workspace, G.mu held */
static job *find_running(const cfg_workspace *ws)
{
    char key[160];
    job_key(ws, key, sizeof key);
    for (job *j = G.jobs; j; j = j->next) {
        if (!j->finished && strcmp(j->key, key) == 0) {
            return j;
        }
    }
    return NULL;
}

bool ix_job_progress(const cfg_workspace *ws, char job_id[24], int64_t *done, int64_t *total)
{
    pthread_mutex_lock(&G.mu);
    job *j = find_running(ws);
    if (j) {
        snprintf(job_id, 24, "%s", j->id);
        *done = atomic_load(&j->prog.done);
        *total = atomic_load(&j->prog.total);
    }
    pthread_mutex_unlock(&G.mu);
    return j != NULL;
}

static int pct(int64_t done, int64_t total)
{
    if (total <= 0) {
        return 0;
    }
    int64_t p = done * 100 / total;
    return p > 99 ? 99 : (int)p;
}

void ix_building_note(const cfg_workspace *ws, char *out, size_t cap)
{
    char id[24], a[32], b[32];
    int64_t done, total;
    out[0] = '\0';
    if (!ix_job_progress(ws, id, &done, &total)) {
        return;
    }
    ix_group_digits(done, a, sizeof a);
    ix_group_digits(total, b, sizeof b);
    snprintf(out, cap, "[index: building %d%% (%s/%s files) — results may be incomplete]",
             pct(done, total), a, b);
}

/* one pass under the lease; the database is opened and closed here */
static bool build_locked(const config *c, const cfg_workspace *ws, ix_pass *p, ix_summary *sum,
                         char *why, size_t why_len)
{
    char path[4200];
    if (!ix_db_path(c, ws, path, sizeof path)) {
        snprintf(why, why_len, "index path too long");
        return false;
    }
    int lease = ix_lease_acquire(path, false, &G.stop, why, why_len);
    if (lease < 0) {
        if (p->prog) {
            atomic_store(&p->prog->waiting, true);
        }
        log_info("index %s/%s: waiting for another process' build", ws->tenant, ws->id);
        lease = ix_lease_acquire(path, true, &G.stop, why, why_len);
        if (p->prog) {
            atomic_store(&p->prog->waiting, false);
        }
        if (lease < 0) {
            return false;
        }
    }
    sqlite3 *db = ix_db_open_rw(path, why, why_len);
    bool ok = false;
    if (db) {
        ok = ix_run_pass(p, db, sum, why, why_len);
        sqlite3_close(db);
    }
    ix_lease_release(lease);
    return ok;
}

static void *job_main(void *arg)
{
    job *j = arg;
    pthread_mutex_lock(&G.mu);
    while (G.running >= IX_MAX_BUILDS && !atomic_load(&G.stop)) {
        pthread_cond_wait(&G.cv, &G.mu);
    }
    bool go = !atomic_load(&G.stop);
    if (go) {
        G.running++;
    }
    pthread_mutex_unlock(&G.mu);
    if (go) {
        ix_pass p = {.c = j->cfg,
                     .ws = j->ws,
                     .full = j->full,
                     .subpath = j->subpath,
                     .stop = &G.stop,
                     .prog = &j->prog,
                     .threads = parse_threads()};
        j->ok = build_locked(j->cfg, j->ws, &p, &j->sum, j->why, sizeof j->why);
        char head[41];
        if (j->ok && !j->subpath[0] && git_indexable_commit(j->ws, head)) {
            /* a whole-tree build of a clean checkout indexes HEAD ("" when the tree has local
               changes: the next sync then refreshes by stat instead of diffing) */
            index_set_commit(j->cfg, j->ws, head);
        }
        if (j->ok) {
            buf line;
            buf_init(&line, 1024);
            index_summary_text(&j->sum, &line);
            log_info("index %s/%s: %s", j->ws->tenant, j->ws->id, line.ptr ? line.ptr : "");
            buf_release(&line);
        } else {
            log_warn("index %s/%s: build did not complete: %s", j->ws->tenant, j->ws->id, j->why);
        }
    } else {
        snprintf(j->why, sizeof j->why, "stopped: the server is shutting down");
        j->sum.stopped = true;
        snprintf(j->sum.why, sizeof j->sum.why, "%s", j->why);
    }
    pthread_mutex_lock(&G.mu);
    if (go) {
        G.running--;
    }
    j->finished = true;
    j->refs--;
    pthread_cond_broadcast(&G.cv);
    pthread_mutex_unlock(&G.mu);
    return NULL;
}

static void fill_building(const job *j, ix_status *st)
{
    st->state = IX_BUILDING;
    snprintf(st->job, sizeof st->job, "%s", j->id);
    st->done = atomic_load(&j->prog.done);
    st->total = atomic_load(&j->prog.total);
}

bool index_build(const config *c, const cfg_workspace *ws, bool full, const char *subpath,
                 bool wait, const atomic_bool *cancel, ix_progress_fn fn, void *ctx,
                 ix_summary *sum, ix_status *st)
{
    memset(sum, 0, sizeof *sum);
    memset(st, 0, sizeof *st);
    if (ws->root_fd < 0) {
        snprintf(sum->why, sizeof sum->why, "workspace '%s' is not open", ws->id);
        return false;
    }
    /* the scan's directory, checked and made relative like any caller's path */
    char sub[PATH_MAX_LEN] = "";
    if (subpath && subpath[0]) {
        char w[160];
        if (path_normalize(subpath, strlen(subpath), ws->root, ws->root_real, sub, sizeof sub, w,
                           sizeof w) != PATH_OK) {
            snprintf(sum->why, sizeof sum->why, "%s", w);
            return false;
        }
    }
    pthread_mutex_lock(&G.mu);
    if (!G.up) {
        /* a caller that did not set up: the config's dataDir and thread count */
        G.up = true;
        G.threads = c->index_threads;
    }
    if (atomic_load(&G.stop)) {
        pthread_mutex_unlock(&G.mu);
        snprintf(sum->why, sizeof sum->why, "stopped: the server is shutting down");
        sum->stopped = true;
        return false;
    }
    reap();
    job *j = find_running(ws);
    if (!j) {
        j = xcalloc(1, sizeof *j);
        char *sp = xstrdup(sub);
        if (!j || !sp) {
            xfree(j);
            xfree(sp);
            pthread_mutex_unlock(&G.mu);
            snprintf(sum->why, sizeof sum->why, "out of memory");
            return false;
        }
        job_key(ws, j->key, sizeof j->key);
        snprintf(j->id, sizeof j->id, "b-%.12s-%u", ws->id, ++G.seq);
        j->cfg = config_ref((config *)c);
        j->ws = ws;
        j->full = full;
        j->subpath = sp;
        j->refs = 1;
        pthread_mutex_init(&j->prog.mu, NULL);
        if (pthread_create(&j->th, NULL, job_main, j) != 0) {
            pthread_mutex_unlock(&G.mu);
            job_free(j);
            snprintf(sum->why, sizeof sum->why, "cannot start the build thread");
            return false;
        }
        j->next = G.jobs;
        G.jobs = j;
    }
    j->refs++;
    fill_building(j, st);
    pthread_mutex_unlock(&G.mu);
    if (!wait) {
        pthread_mutex_lock(&G.mu);
        j->refs--;
        pthread_mutex_unlock(&G.mu);
        return true;
    }
    bool ok = false;
    int64_t last = 0;
    pthread_mutex_lock(&G.mu);
    for (;;) {
        if (j->finished) {
            *sum = j->sum;
            ok = j->ok;
            if (!ok && !sum->why[0]) {
                snprintf(sum->why, sizeof sum->why, "%s", j->why);
            }
            break;
        }
        if (cancel && atomic_load(cancel)) {
            /* the caller gives up waiting; the build goes on */
            fill_building(j, st);
            snprintf(sum->why, sizeof sum->why, "still building (job %s)", j->id);
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&G.cv, &G.mu, &ts);
        int64_t now = clock_mono_ms();
        if (fn && !j->finished && now - last >= 250) {
            last = now;
            int64_t done = atomic_load(&j->prog.done), total = atomic_load(&j->prog.total);
            char msg[300];
            if (atomic_load(&j->prog.waiting)) {
                snprintf(msg, sizeof msg, "waiting for another process' build of %s", ws->id);
            } else {
                pthread_mutex_lock(&j->prog.mu);
                snprintf(msg, sizeof msg, "%s", j->prog.dir[0] ? j->prog.dir : ".");
                pthread_mutex_unlock(&j->prog.mu);
            }
            pthread_mutex_unlock(&G.mu);
            fn(ctx, done, total, msg);
            pthread_mutex_lock(&G.mu);
        }
    }
    j->refs--;
    pthread_mutex_unlock(&G.mu);
    return ok;
}

void index_start_all(const config *c)
{
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *ws = &c->workspaces[i];
        if (ws->root_fd < 0) {
            continue;
        }
        ix_summary sum;
        ix_status st;
        if (!index_build(c, ws, false, "", false, NULL, NULL, NULL, &sum, &st)) {
            log_warn("index %s/%s: cannot start a build: %s", ws->tenant, ws->id, sum.why);
        }
    }
}

void index_start_added(const config *old, const config *c)
{
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *ws = &c->workspaces[i];
        const cfg_workspace *was = config_workspace(old, ws->tenant, ws->id);
        if (ws->root_fd < 0 || (was && strcmp(was->root_real, ws->root_real) == 0)) {
            continue;
        }
        ix_summary sum;
        ix_status st;
        if (!index_build(c, ws, false, "", false, NULL, NULL, NULL, &sum, &st)) {
            log_warn("index %s/%s: cannot start a build: %s", ws->tenant, ws->id, sum.why);
        }
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool index_update_paths(const config *c, const cfg_workspace *ws, const char *const *paths,
                        size_t n, const char *commit, ix_summary *sum, char *why, size_t why_len)
{
    memset(sum, 0, sizeof *sum);
    why[0] = '\0';
    if (ws->root_fd < 0) {
        snprintf(why, why_len, "workspace '%s' is not open", ws->id);
        return false;
    }
    /* every path checked as text and made clean and relative; duplicates dropped */
    char **clean = xcalloc(n ? n : 1, sizeof *clean);
    size_t m = 0;
    bool ok = clean != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char out[PATH_MAX_LEN], w[160];
        if (!paths[i] ||
            path_normalize(paths[i], strlen(paths[i]), ws->root, ws->root_real, out, sizeof out, w,
                           sizeof w) != PATH_OK ||
            !out[0]) {
            continue;
        }
        clean[m] = xstrdup(out);
        ok = clean[m] != NULL;
        m += ok;
    }
    if (!ok) {
        snprintf(why, why_len, "out of memory");
    } else {
        qsort(clean, m, sizeof *clean, cmp_str);
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            if (k > 0 && strcmp(clean[k - 1], clean[i]) == 0) {
                xfree(clean[i]);
                continue;
            }
            clean[k++] = clean[i];
        }
        m = k;
        int threads = parse_threads();
        ix_pass p = {.c = c,
                     .ws = ws,
                     .subpath = "",
                     .paths = (const char *const *)clean,
                     .n_paths = m,
                     .commit = commit,
                     .stop = &G.stop,
                     .threads = (size_t)threads > m ? (m ? (int)m : 1) : threads};
        ok = build_locked(c, ws, &p, sum, why, why_len);
    }
    for (size_t i = 0; i < m; i++) {
        xfree(clean[i]);
    }
    xfree(clean);
    return ok;
}

bool index_set_commit(const config *c, const cfg_workspace *ws, const char *commit)
{
    char path[4200], why[300];
    if (!ix_db_path(c, ws, path, sizeof path)) {
        return false;
    }
    sqlite3 *db = ix_db_open_rw(path, why, sizeof why);
    if (!db) {
        log_warn("index %s/%s: %s", ws->tenant, ws->id, why);
        return false;
    }
    bool ok = ix_meta_set_text(db, "commit", commit ? commit : "");
    sqlite3_close(db);
    return ok;
}

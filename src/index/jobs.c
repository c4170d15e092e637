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
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- events (issue 6, EVENTS): the build/sync hook (index.h) ---- */

static _Atomic(ix_event_fn) event_fn;

void index_set_event_fn(ix_event_fn fn)
{
    atomic_store(&event_fn, fn);
}

void index_event(const char *kind, const cfg_workspace *ws, bool ok, const ix_summary *sum,
                 const char *message)
{
    ix_event_fn fn = atomic_load(&event_fn);
    if (fn) {
        fn(kind, ws, ok, sum, message);
    }
}

/* ---- the storage quota hook (index.h) ---- */

static struct {
    pthread_rwlock_t lk; /* calls hold it shared; (un)installing, exclusive */
    ix_quota_get_fn get;
    ix_quota_report_fn report;
    void *ctx;
    bool removed; /* installed once and removed since: builds are refused (shutdown) */
} Q = {.lk = PTHREAD_RWLOCK_INITIALIZER};

void index_set_quota_fns(ix_quota_get_fn get, ix_quota_report_fn report, void *ctx)
{
    pthread_rwlock_wrlock(&Q.lk);
    Q.removed = !get && (Q.get || Q.removed);
    Q.get = get;
    Q.report = report;
    Q.ctx = ctx;
    pthread_rwlock_unlock(&Q.lk);
}

/* the tenant's quota; false (why says so) when it cannot be known */
static bool quota_get(const char *tenant, ix_quota *q, char *why, size_t why_len)
{
    q->quota = -1;
    q->used_other = 0;
    pthread_rwlock_rdlock(&Q.lk);
    bool ok = true;
    if (Q.get) {
        ok = Q.get(Q.ctx, tenant, q);
        if (!ok) {
            snprintf(why, why_len, "cannot read the storage quota of tenant '%s'", tenant);
        }
    } else if (Q.removed) {
        ok = false;
        snprintf(why, why_len, "stopped: the server is shutting down");
    }
    pthread_rwlock_unlock(&Q.lk);
    return ok;
}

static int64_t file_bytes(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (int64_t)sb.st_size : 0;
}

int64_t index_tenant_bytes(const config *c, const char *tenant, const char *except_ws)
{
    char dir[4200];
    if (!ix_tenant_dir(c, tenant, dir, sizeof dir)) {
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    size_t skip = except_ws ? strlen(except_ws) : 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        bool is_db = n > 3 && strcmp(e->d_name + n - 3, ".db") == 0;
        bool is_wal = n > 7 && strcmp(e->d_name + n - 7, ".db-wal") == 0;
        if (!is_db && !is_wal) {
            continue;
        }
        size_t stem = n - (is_db ? 3 : 7);
        if (except_ws && stem == skip && strncmp(e->d_name, except_ws, skip) == 0) {
            continue;
        }
        char path[4600];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path) {
            total += file_bytes(path);
        }
    }
    closedir(d);
    return total;
}

bool ix_quota_usage(const config *c, const char *tenant, int64_t *quota, int64_t *used)
{
    ix_quota q;
    char why[160];
    *quota = -1;
    *used = 0;
    if (!quota_get(tenant, &q, why, sizeof why) || q.quota < 0) {
        return false;
    }
    *quota = q.quota;
    *used = q.used_other + index_tenant_bytes(c, tenant, NULL);
    return true;
}

void index_report_tenant(const config *c, const char *tenant)
{
    int64_t bytes = index_tenant_bytes(c, tenant, NULL);
    pthread_rwlock_rdlock(&Q.lk);
    if (Q.report) {
        Q.report(Q.ctx, tenant, bytes);
    }
    pthread_rwlock_unlock(&Q.lk);
}

/* the last quota stop per workspace ("tenant/ws"), for ctx_index status; a few recent ones */
#define LAST_STOPS 64
static struct {
    pthread_mutex_t mu;
    char key[LAST_STOPS][160];
    char why[LAST_STOPS][160];
    unsigned next;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void last_stop_set(const char *key, const char *why)
{
    pthread_mutex_lock(&L.mu);
    int slot = -1;
    for (int i = 0; i < LAST_STOPS && slot < 0; i++) {
        if (strcmp(L.key[i], key) == 0) {
            slot = i;
        }
    }
    if (slot < 0 && why) {
        slot = (int)(L.next++ % LAST_STOPS);
    }
    if (slot >= 0) {
        snprintf(L.key[slot], sizeof L.key[slot], "%s", why ? key : "");
        snprintf(L.why[slot], sizeof L.why[slot], "%s", why ? why : "");
    }
    pthread_mutex_unlock(&L.mu);
}

static int parse_threads(void)
{
    if (G.threads > 0) {
        return G.threads;
    }
    /* one parse thread per core plus one: the writer thread takes about a third of a core and
       waits on its commits, the parsers on reads; with only one per core a core idles then
       (the kernel on 2 cores: -6% wall) */
    long n = sysconf(_SC_NPROCESSORS_ONLN) + 1;
    return n < 2 ? 1 : n > 64 ? 64 : (int)n;
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

void ix_last_stop(const cfg_workspace *ws, char *out, size_t cap)
{
    char key[160];
    job_key(ws, key, sizeof key);
    out[0] = '\0';
    pthread_mutex_lock(&L.mu);
    for (int i = 0; i < LAST_STOPS; i++) {
        if (L.key[i][0] && strcmp(L.key[i], key) == 0) {
            snprintf(out, cap, "%s", L.why[i]);
        }
    }
    pthread_mutex_unlock(&L.mu);
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
    /* the quota as it is now, under the lease: what the tenant's other files take */
    ix_quota q;
    if (!quota_get(ws->tenant, &q, why, why_len)) {
        ix_lease_release(lease);
        return false;
    }
    p->quota = q.quota;
    p->quota_base = q.quota >= 0 ? q.used_other + index_tenant_bytes(c, ws->tenant, ws->id) : 0;
    sqlite3 *db = ix_db_open_rw(path, why, why_len);
    bool ok = false;
    if (db) {
        ok = ix_run_pass(p, db, sum, why, why_len);
        if (q.quota >= 0) {
            /* what a tenant with a quota is charged is what is on disk: the WAL goes back to
               nothing once its pages are in the database (readers between two calls hold no
               snapshot, so this rarely waits) */
            ix_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
        sqlite3_close(db);
    }
    char key[160];
    job_key(ws, key, sizeof key);
    if (sum->over_quota) {
        last_stop_set(key, sum->why);
    } else if (ok) {
        last_stop_set(key, NULL);
    }
    ix_lease_release(lease);
    index_report_tenant(c, ws->tenant);
    return ok;
}

/* Give a WAL left large (by builds from before the tenant had a quota) back: what is charged
 * is what is on disk. Never waits: a writer at work keeps its WAL, and truncates it itself. */
static void wal_truncate(const char *db_path)
{
    char wal[4300];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    if (file_bytes(wal) == 0) {
        return;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 0);
        ix_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    sqlite3_close(db);
}

/* Before a build starts: refused at once when the tenant is over its quota, or when the
 * growth the build would add (ix_estimate) passes it. A walk of the tree by stat, done only
 * for tenants with a quota. true: the build may start (also when the estimate cannot be made:
 * the build itself then meets the same problem, or the quota while it writes). */
static bool quota_precheck(const config *c, const cfg_workspace *ws, bool full, const char *sub,
                           ix_summary *sum)
{
    ix_quota q;
    if (!quota_get(ws->tenant, &q, sum->why, sizeof sum->why)) {
        return false;
    }
    if (q.quota < 0) {
        return true;
    }
    char path[4200], w[300] = "";
    if (!ix_db_path(c, ws, path, sizeof path)) {
        return true;
    }
    wal_truncate(path);
    int64_t used = q.used_other + index_tenant_bytes(c, ws->tenant, NULL);
    sqlite3 *db = ix_db_open_ro(path, w, sizeof w);
    if (!db && w[0]) {
        return true; /* a database this binary cannot read: the build says so */
    }
    ix_pass p = {.c = c, .ws = ws, .full = full, .subpath = sub, .stop = &G.stop, .quota = -1};
    int64_t est = 0, files = 0;
    bool ok = ix_estimate(&p, db, &est, &files);
    if (db) {
        sqlite3_close(db);
    }
    if (!ok || (used <= q.quota && (est == 0 || used + est <= q.quota))) {
        return true;
    }
    sum->stopped = true;
    sum->over_quota = true;
    sum->quota_used = used;
    sum->quota_bytes = q.quota;
    sum->quota_requested = est;
    if (used > q.quota) {
        snprintf(sum->why, sizeof sum->why,
                 "storage quota exceeded (%" PRId64 " of %" PRId64 "): the tenant is over its "
                 "storage quota",
                 used, q.quota);
    } else {
        snprintf(sum->why, sizeof sum->why,
                 "storage quota exceeded (%" PRId64 " of %" PRId64
                 "): the build needs about %" PRId64 " bytes more (%" PRId64 " files)",
                 used + est, q.quota, est, files);
    }
    return false;
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
        index_event("index_built", j->ws, j->ok, &j->sum, j->ok ? NULL : j->why); /* EVENTS */
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
    /* the quota, before a job exists (a request that joins a running build is not checked
       again: the build checks itself while it writes) */
    char running_id[24];
    int64_t rd, rt;
    if (!atomic_load(&G.stop) && !ix_job_progress(ws, running_id, &rd, &rt) &&
        !quota_precheck(c, ws, full, sub, sum)) {
        log_info("index %s/%s: build refused: %s", ws->tenant, ws->id, sum->why);
        return false;
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

/* ---- tenant deletion (issue 5, ADMIN) ---- */

void index_wait_tenant(const char *tenant)
{
    char pre[64];
    int pl = snprintf(pre, sizeof pre, "%s/", tenant);
    if (pl <= 0 || (size_t)pl >= sizeof pre) {
        return;
    }
    pthread_mutex_lock(&G.mu);
    for (;;) {
        bool busy = false;
        for (job *j = G.jobs; j && !busy; j = j->next) {
            busy = !j->finished && strncmp(j->key, pre, (size_t)pl) == 0;
        }
        if (!busy) {
            break;
        }
        pthread_cond_wait(&G.cv, &G.mu); /* job_main broadcasts when a job finishes */
    }
    pthread_mutex_unlock(&G.mu);
}

/* watch.c - the inotify watcher per workspace and the periodic sync of `serve` (watch.h).
 *
 * Each watcher is one thread owning one inotify descriptor, a table wd -> directory (relative
 * to the root) and a set of changed paths. Directories are added through descriptors the
 * walker opened beneath the root (inotify_add_watch on /proc/self/fd/N), never by a path
 * string that a symlink could redirect. The thread polls the inotify descriptor and an
 * eventfd that watch_stop signals; the set is flushed WATCH_COALESCE_MS after its first path.
 *
 * A watcher keeps copies of its workspace's identity (tenant, id, canonical root) and a dup of
 * the root descriptor, and looks the workspace up in the current config snapshot when it
 * flushes: a reload that leaves the workspace as it was keeps the watcher (and its watches). */
#include "index/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "index/git.h"
#include "index/sync.h"
#include "ws/path.h"
#include "ws/walk.h"

#define DIR_MASK                                                                                   \
    (IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO |            \
     IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

typedef struct wd_ent {
    int wd;
    char *rel; /* "" for the root */
} wd_ent;

typedef struct watcher {
    struct watcher *next;
    char *tenant, *id, *root_real;
    int root_fd, ifd, efd;
    size_t max_dirs;
    pthread_t th;
    bool started;
    atomic_bool stop;
    atomic_llong pending;
    /* thread-owned */
    wd_ent *wds;
    size_t n_wds, cap_wds;
    char **set; /* open addressing; NULL = empty slot */
    size_t set_cap, set_n;
    bool rescan;      /* a stat-based build is due instead of (or besides) the set */
    bool fallback;    /* no inotify: a stat-based build every WATCH_RESCAN_SEC */
    int64_t flush_at; /* monotonic ms; 0 = nothing due */
} watcher;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static watcher *watchers;

/* ---- the set of changed paths ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static void set_clear(watcher *w)
{
    for (size_t i = 0; i < w->set_cap; i++) {
        xfree(w->set[i]);
    }
    xfree(w->set);
    w->set = NULL;
    w->set_cap = w->set_n = 0;
}

static void due(watcher *w)
{
    if (!w->flush_at) {
        w->flush_at = clock_mono_ms() + WATCH_COALESCE_MS;
    }
}

static void want_rescan(watcher *w)
{
    w->rescan = true;
    set_clear(w); /* the build covers every path */
    due(w);
}

static bool set_insert(char **tab, size_t cap, char *s)
{
    size_t i = hash_str(s) & (cap - 1);
    while (tab[i]) {
        if (strcmp(tab[i], s) == 0) {
            return false;
        }
        i = (i + 1) & (cap - 1);
    }
    tab[i] = s;
    return true;
}

static void set_add(watcher *w, const char *rel)
{
    if (w->rescan) {
        return;
    }
    if (w->set_n >= WATCH_MAX_PENDING) {
        want_rescan(w);
        return;
    }
    if ((w->set_n + 1) * 2 > w->set_cap) {
        size_t cap = w->set_cap ? w->set_cap * 2 : 64;
        char **tab = xcalloc(cap, sizeof *tab);
        if (!tab) {
            want_rescan(w);
            return;
        }
        for (size_t i = 0; i < w->set_cap; i++) {
            if (w->set[i]) {
                set_insert(tab, cap, w->set[i]);
            }
        }
        xfree(w->set);
        w->set = tab;
        w->set_cap = cap;
    }
    char *s = xstrdup(rel);
    if (!s) {
        want_rescan(w);
        return;
    }
    if (set_insert(w->set, w->set_cap, s)) {
        w->set_n++;
        atomic_store(&w->pending, (long long)w->set_n);
    } else {
        xfree(s);
    }
    due(w);
}

/* ---- the wd table (wds only grow, so appends keep it sorted) ---- */

static wd_ent *find_wd(watcher *w, int wd)
{
    size_t lo = 0, hi = w->n_wds;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->wds[mid].wd == wd) {
            return &w->wds[mid];
        }
        if (w->wds[mid].wd < wd) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static void drop_wd(watcher *w, int wd)
{
    wd_ent *e = find_wd(w, wd);
    if (e) {
        xfree(e->rel);
        size_t i = (size_t)(e - w->wds);
        memmove(e, e + 1, (w->n_wds - i - 1) * sizeof *e);
        w->n_wds--;
    }
}

static void free_wds(watcher *w)
{
    for (size_t i = 0; i < w->n_wds; i++) {
        xfree(w->wds[i].rel);
    }
    xfree(w->wds);
    w->wds = NULL;
    w->n_wds = w->cap_wds = 0;
}

static void go_fallback(watcher *w, const char *reason)
{
    log_warn("watch '%s': %s; falling back to a stat rescan every %d s", w->id, reason,
             WATCH_RESCAN_SEC);
    if (w->ifd >= 0) {
        close(w->ifd);
        w->ifd = -1;
    }
    free_wds(w);
    w->fallback = true;
    want_rescan(w);
}

/* watch the directory open as dfd, named rel; false when a limit was hit (fallback set) */
static bool add_watch(watcher *w, int dfd, const char *rel)
{
    if (w->fallback) {
        return false;
    }
    if (w->n_wds >= w->max_dirs) {
        char reason[160];
        snprintf(reason, sizeof reason, "more than %zu directories to watch (watchMaxDirs)",
                 w->max_dirs);
        go_fallback(w, reason);
        return false;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", dfd);
    int wd = inotify_add_watch(w->ifd, proc, DIR_MASK);
    if (wd < 0) {
        if (errno == ENOSPC) {
            go_fallback(w, "the kernel's inotify watch limit is reached "
                           "(sysctl fs.inotify.max_user_watches)");
            return false;
        }
        log_debug("watch '%s': cannot watch '%s': %s", w->id, rel, strerror(errno));
        return true; /* gone already, or unreadable: nothing to watch there */
    }
    char *copy = xstrdup(rel);
    if (!copy) {
        go_fallback(w, "out of memory");
        return false;
    }
    wd_ent *e = find_wd(w, wd);
    if (e) { /* the same directory again (moved back, or seen twice) */
        xfree(e->rel);
        e->rel = copy;
        return true;
    }
    if (w->n_wds == w->cap_wds) {
        size_t cap = w->cap_wds ? w->cap_wds * 2 : 256;
        wd_ent *nw = xrealloc(w->wds, cap * sizeof *nw);
        if (!nw) {
            xfree(copy);
            go_fallback(w, "out of memory");
            return false;
        }
        w->wds = nw;
        w->cap_wds = cap;
    }
    size_t i = w->n_wds;
    while (i > 0 && w->wds[i - 1].wd > wd) { /* wds grow; this keeps the order if one did not */
        w->wds[i] = w->wds[i - 1];
        i--;
    }
    w->wds[i] = (wd_ent){wd, copy};
    w->n_wds++;
    return true;
}

/* ---- walking ---- */

typedef struct add_ctx {
    watcher *w;
    bool report_files; /* a new directory: its files are changes too */
} add_ctx;

static walk_action on_walk(const walk_entry *e, void *vctx)
{
    add_ctx *a = vctx;
    if (atomic_load(&a->w->stop)) {
        return WALK_STOP;
    }
    if (e->type == WALK_DIR) {
        int dfd = openat(e->dir_fd, e->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
            return WALK_SKIP;
        }
        bool ok = add_watch(a->w, dfd, e->rel);
        close(dfd);
        return ok ? WALK_CONTINUE : WALK_STOP;
    }
    if (e->type == WALK_FILE && a->report_files) {
        set_add(a->w, e->rel);
    }
    return WALK_CONTINUE;
}

static void walk_opts_for(const config *c, walk_opts *o)
{
    memset(o, 0, sizeof *o);
    o->respect_ignore = true;
    o->skip_hidden = true;
    if (c) {
        o->extra_ignore = c->ignore_globs;
        o->n_extra_ignore = c->n_ignore_globs;
    }
}

static void watch_tree(watcher *w, const char *start, bool report_files)
{
    config *c = config_current();
    walk_opts o;
    walk_opts_for(c, &o);
    add_ctx a = {w, report_files};
    walk_stats st;
    walk_tree(w->root_fd, w->root_real, start, &o, on_walk, &a, &st);
    config_unref(c);
}

typedef struct visible_ctx {
    const char *name;
    bool found;
} visible_ctx;

static walk_action on_visible(const walk_entry *e, void *vctx)
{
    visible_ctx *v = vctx;
    if (e->type == WALK_DIR && strcmp(e->name, v->name) == 0) {
        v->found = true;
        return WALK_STOP;
    }
    return e->type == WALK_DIR ? WALK_SKIP : WALK_CONTINUE;
}

/* a directory that appeared: watched and its files reported, when the index would visit it */
static void new_dir(watcher *w, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    char parent[PATH_MAX_LEN];
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - rel) : 0, rel);
    config *c = config_current();
    walk_opts o;
    walk_opts_for(c, &o);
    o.max_depth = 1;
    visible_ctx v = {slash ? slash + 1 : rel, false};
    walk_stats st;
    walk_tree(w->root_fd, w->root_real, parent, &o, on_visible, &v, &st);
    config_unref(c);
    if (!v.found) {
        return;
    }
    /* the directory itself first (walk_tree reports only what lies below its start) */
    path_status ps;
    int dfd = path_open(w->root_fd, w->root_real, rel, O_PATH | O_DIRECTORY, &ps);
    if (dfd < 0) {
        return;
    }
    bool ok = add_watch(w, dfd, rel);
    close(dfd);
    if (ok) {
        watch_tree(w, rel, true);
    }
}

/* a directory that went away: its watches dropped, its indexed files reported */
static void gone_dir(watcher *w, const char *rel)
{
    size_t rl = strlen(rel);
    for (size_t i = 0; i < w->n_wds;) {
        const char *r = w->wds[i].rel;
        if (strncmp(r, rel, rl) == 0 && (r[rl] == '\0' || r[rl] == '/')) {
            inotify_rm_watch(w->ifd, w->wds[i].wd);
            drop_wd(w, w->wds[i].wd);
        } else {
            i++;
        }
    }
    config *c = config_current();
    const cfg_workspace *ws = c ? config_workspace(c, w->tenant, w->id) : NULL;
    ix_view v;
    if (ws && index_view_open(c, ws, &v)) {
        if (v.db) {
            sqlite3_stmt *q = NULL;
            if (sqlite3_prepare_v2(v.db, "SELECT path FROM files WHERE path >= ?1 AND path < ?2",
                                   -1, &q, NULL) == SQLITE_OK) {
                char lo[PATH_MAX_LEN + 2], hi[PATH_MAX_LEN + 2];
                snprintf(lo, sizeof lo, "%s/", rel);
                snprintf(hi, sizeof hi, "%s0", rel); /* '0' follows '/' */
                sqlite3_bind_text(q, 1, lo, -1, SQLITE_STATIC);
                sqlite3_bind_text(q, 2, hi, -1, SQLITE_STATIC);
                while (sqlite3_step(q) == SQLITE_ROW) {
                    set_add(w, (const char *)sqlite3_column_text(q, 0));
                }
            }
            sqlite3_finalize(q);
        }
        index_view_close(&v);
    }
    config_unref(c);
}

/* ---- events ---- */

static bool is_ignore_file(const char *name)
{
    return strcmp(name, ".gitignore") == 0 || strcmp(name, ".ignore") == 0 ||
           strcmp(name, ".ctxdignore") == 0;
}

static void on_event(watcher *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        log_warn("watch '%s': the kernel's event queue overflowed; rescanning", w->id);
        want_rescan(w);
        return;
    }
    if (ev->mask & IN_IGNORED) {
        drop_wd(w, ev->wd);
        return;
    }
    wd_ent *e = find_wd(w, ev->wd);
    if (!e || !ev->len || !ev->name[0]) {
        return;
    }
    if (is_ignore_file(ev->name)) {
        want_rescan(w); /* what is visible changed */
        return;
    }
    if (ev->name[0] == '.') {
        return; /* hidden: not indexed, not watched (.git among them) */
    }
    char rel[PATH_MAX_LEN];
    int n = e->rel[0] ? snprintf(rel, sizeof rel, "%s/%s", e->rel, ev->name)
                      : snprintf(rel, sizeof rel, "%s", ev->name);
    if (n < 0 || (size_t)n >= sizeof rel || path_denied_rel(rel)) {
        return;
    }
    char abs[PATH_MAX_LEN * 2];
    snprintf(abs, sizeof abs, "%s/%s", w->root_real, rel);
    if (path_protected_abs(abs)) {
        return; /* the data dir, the audit log, the config */
    }
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
            gone_dir(w, rel);
        }
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            new_dir(w, rel);
        }
        return;
    }
    set_add(w, rel);
}

static void read_events(watcher *w)
{
    char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read(w->ifd, evbuf, sizeof evbuf);
        if (len <= 0) {
            return;
        }
        for (char *p = evbuf; p < evbuf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            on_event(w, ev);
            if (w->fallback) {
                return; /* ifd is closed */
            }
            p += sizeof *ev + ev->len;
        }
    }
}

/* ---- flushing ---- */

static void flush(watcher *w)
{
    config *c = config_current();
    const cfg_workspace *ws = c ? config_workspace(c, w->tenant, w->id) : NULL;
    if (!ws || !ws->root_real || strcmp(ws->root_real, w->root_real) != 0) {
        config_unref(c);
        return; /* the workspace is gone or moved: watch_reload stops this watcher */
    }
    int64_t t0 = clock_mono_ms();
    ix_summary sum;
    memset(&sum, 0, sizeof sum);
    char why[256] = "";
    if (w->rescan) {
        w->rescan = false;
        set_clear(w);
        ix_status st;
        memset(&st, 0, sizeof st);
        bool ok = index_build(c, ws, false, "", true, &w->stop, NULL, NULL, &sum, &st);
        log_info("watch '%s': rescan: %lld files parsed, %lld removed in %lld ms%s%s", w->id,
                 (long long)sum.parsed, (long long)sum.removed, (long long)(clock_mono_ms() - t0),
                 ok ? "" : "; failed: ", ok ? "" : sum.why);
    } else if (w->set_n) {
        size_t n = 0;
        const char **paths = xcalloc(w->set_n, sizeof *paths);
        if (!paths) {
            want_rescan(w);
            config_unref(c);
            return;
        }
        for (size_t i = 0; i < w->set_cap; i++) {
            if (w->set[i]) {
                paths[n++] = w->set[i];
            }
        }
        /* the indexed commit stays: these are working-tree edits, which no commit describes
           (a later sync diffs from it, and re-parses only what really changed) */
        bool ok = index_update_paths(c, ws, paths, n, NULL, &sum, why, sizeof why);
        xfree(paths);
        if (ok) {
            log_debug("watch '%s': re-indexed %zu path%s (%lld parsed, %lld removed) in %lld ms",
                      w->id, n, n == 1 ? "" : "s", (long long)sum.parsed, (long long)sum.removed,
                      (long long)(clock_mono_ms() - t0));
        } else {
            log_warn("watch '%s': re-indexing %zu path%s failed: %s", w->id, n, n == 1 ? "" : "s",
                     why);
        }
        set_clear(w);
    }
    atomic_store(&w->pending, 0);
    config_unref(c);
}

/* ---- the thread ---- */

static void *watch_main(void *arg)
{
    watcher *w = arg;
    if (!w->fallback) {
        int rfd = openat(w->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd >= 0 && add_watch(w, rfd, "")) {
            watch_tree(w, "", false);
        }
        if (rfd >= 0) {
            close(rfd);
        }
        if (!w->fallback) {
            log_info("watch '%s': watching %zu directories", w->id, w->n_wds);
        }
    }
    int64_t next_rescan = clock_mono_ms() + (int64_t)WATCH_RESCAN_SEC * 1000;
    while (!atomic_load(&w->stop)) {
        int64_t now = clock_mono_ms();
        int64_t wake = w->flush_at ? w->flush_at : -1;
        if (w->fallback && (wake < 0 || next_rescan < wake)) {
            wake = next_rescan;
        }
        int timeout = wake < 0 ? -1 : wake <= now ? 0 : (int)(wake - now);
        struct pollfd pf[2] = {{w->efd, POLLIN, 0}, {w->ifd, POLLIN, 0}};
        int n = poll(pf, w->ifd >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (pf[0].revents & POLLIN) {
            break;
        }
        if (w->ifd >= 0 && (pf[1].revents & POLLIN)) {
            read_events(w);
        }
        now = clock_mono_ms();
        if (w->fallback && now >= next_rescan) {
            w->rescan = true;
            w->flush_at = now;
            next_rescan = now + (int64_t)WATCH_RESCAN_SEC * 1000;
        }
        if (w->flush_at && now >= w->flush_at) {
            w->flush_at = 0;
            flush(w);
        }
    }
    return NULL;
}

static void watcher_free(watcher *w)
{
    set_clear(w);
    free_wds(w);
    if (w->ifd >= 0) {
        close(w->ifd);
    }
    if (w->efd >= 0) {
        close(w->efd);
    }
    if (w->root_fd >= 0) {
        close(w->root_fd);
    }
    xfree(w->tenant);
    xfree(w->id);
    xfree(w->root_real);
    xfree(w);
}

static watcher *watcher_start(const cfg_workspace *ws, size_t max_dirs)
{
    watcher *w = xcalloc(1, sizeof *w);
    if (!w) {
        return NULL;
    }
    w->ifd = w->efd = w->root_fd = -1;
    w->tenant = xstrdup(ws->tenant ? ws->tenant : "local");
    w->id = xstrdup(ws->id);
    w->root_real = xstrdup(ws->root_real);
    w->root_fd = ws->root_fd >= 0 ? fcntl(ws->root_fd, F_DUPFD_CLOEXEC, 0) : -1;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    w->max_dirs = max_dirs;
    atomic_init(&w->stop, false);
    atomic_init(&w->pending, 0);
    if (!w->tenant || !w->id || !w->root_real || w->root_fd < 0 || w->efd < 0) {
        log_warn("watch '%s': cannot start: %s", ws->id, strerror(errno ? errno : ENOMEM));
        watcher_free(w);
        return NULL;
    }
    w->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (w->ifd < 0) {
        char reason[160];
        snprintf(reason, sizeof reason, "cannot start inotify: %s", strerror(errno));
        go_fallback(w, reason);
    }
    if (pthread_create(&w->th, NULL, watch_main, w) != 0) {
        log_warn("watch '%s': cannot start a thread", ws->id);
        watcher_free(w);
        return NULL;
    }
    w->started = true;
    return w;
}

static void watcher_stop(watcher *w)
{
    atomic_store(&w->stop, true);
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof one) < 0) {
        /* the eventfd cannot be full at 1; the stop flag is seen at the next wake anyway */
    }
    if (w->started) {
        pthread_join(w->th, NULL);
    }
    watcher_free(w);
}

/* ---- the periodic sync ---- */

static pthread_t sync_th;
static bool sync_started;
static pthread_cond_t sync_cv;
static bool sync_stopping;
static atomic_bool sync_cancel;
static int64_t sync_interval_sec; /* guarded by mu */

static void *sync_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    int64_t last = clock_mono_ms();
    while (!sync_stopping) {
        int64_t interval = sync_interval_sec;
        if (interval <= 0) {
            pthread_cond_wait(&sync_cv, &mu);
            last = clock_mono_ms();
            continue;
        }
        int64_t due_ms = last + interval * 1000;
        if (clock_mono_ms() < due_ms) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t left = due_ms - clock_mono_ms();
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&sync_cv, &mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&mu);
        config *c = config_current();
        for (size_t i = 0; c && i < c->n_workspaces && !atomic_load(&sync_cancel); i++) {
            sync_report rep;
            bool ok = sync_workspace(c, &c->workspaces[i], true, &sync_cancel, NULL, NULL, &rep);
            if (ok) {
                log_info("%s (%lld parsed, %lld removed in %.1f s)", rep.message,
                         (long long)rep.sum.parsed, (long long)rep.sum.removed, rep.sum.seconds);
            } else {
                log_warn("%s", rep.message);
            }
        }
        config_unref(c);
        pthread_mutex_lock(&mu);
        last = clock_mono_ms();
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* ---- the public side ---- */

static size_t max_dirs_of(const config *c)
{
    return c->watch_max_dirs > 0 ? (size_t)c->watch_max_dirs : 1;
}

static bool same_ws(const watcher *w, const cfg_workspace *ws)
{
    return strcmp(w->tenant, ws->tenant ? ws->tenant : "local") == 0 &&
           strcmp(w->id, ws->id) == 0 && ws->root_real && strcmp(w->root_real, ws->root_real) == 0;
}

void watch_start(const config *c)
{
    pthread_mutex_lock(&mu);
    if (!sync_started) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&sync_cv, &ca);
        pthread_condattr_destroy(&ca);
        sync_stopping = false;
        atomic_store(&sync_cancel, false);
        sync_interval_sec = c->sync_interval_sec;
        sync_started = pthread_create(&sync_th, NULL, sync_main, NULL) == 0;
        if (!sync_started) {
            log_warn("cannot start the periodic sync thread");
        }
    }
    pthread_mutex_unlock(&mu);
    watch_reload(c);
    if (c->sync_interval_sec > 0) {
        log_info("sync: every %lld s", (long long)c->sync_interval_sec);
    }
}

void watch_reload(const config *c)
{
    watcher *stop_list = NULL;
    pthread_mutex_lock(&mu);
    if (sync_interval_sec != c->sync_interval_sec) {
        sync_interval_sec = c->sync_interval_sec;
        pthread_cond_signal(&sync_cv);
    }
    /* watchers whose workspace is gone, moved, or no longer to be watched */
    for (watcher **pp = &watchers; *pp;) {
        watcher *w = *pp;
        bool keep = false;
        for (size_t i = 0; c->watch && i < c->n_workspaces && !keep; i++) {
            keep = same_ws(w, &c->workspaces[i]);
        }
        if (keep) {
            pp = &w->next;
        } else {
            *pp = w->next;
            w->next = stop_list;
            stop_list = w;
        }
    }
    for (size_t i = 0; c->watch && i < c->n_workspaces; i++) {
        const cfg_workspace *ws = &c->workspaces[i];
        bool have = false;
        for (watcher *w = watchers; w && !have; w = w->next) {
            have = same_ws(w, ws);
        }
        if (!have && ws->root_real && ws->root_fd >= 0) {
            watcher *w = watcher_start(ws, max_dirs_of(c));
            if (w) {
                w->next = watchers;
                watchers = w;
            }
        }
    }
    pthread_mutex_unlock(&mu);
    while (stop_list) { /* joined outside the lock: a flush may be looking up status */
        watcher *w = stop_list;
        stop_list = w->next;
        log_info("watch '%s': stopped", w->id);
        watcher_stop(w);
    }
}

void watch_stop(void)
{
    git_cancel_all();
    pthread_mutex_lock(&mu);
    watcher *list = watchers;
    watchers = NULL;
    bool joined_sync = sync_started;
    if (sync_started) {
        sync_stopping = true;
        atomic_store(&sync_cancel, true);
        pthread_cond_signal(&sync_cv);
    }
    pthread_mutex_unlock(&mu);
    while (list) {
        watcher *w = list;
        list = w->next;
        watcher_stop(w);
    }
    if (joined_sync) {
        pthread_join(sync_th, NULL);
        pthread_cond_destroy(&sync_cv);
        pthread_mutex_lock(&mu);
        sync_started = false;
        pthread_mutex_unlock(&mu);
    }
}

int64_t watch_pending(const char *tenant, const char *ws_id)
{
    int64_t n = 0;
    pthread_mutex_lock(&mu);
    for (watcher *w = watchers; w; w = w->next) {
        if (strcmp(w->tenant, tenant ? tenant : "local") == 0 && strcmp(w->id, ws_id) == 0) {
            n = atomic_load(&w->pending);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return n;
}

/* HEAD per workspace root, read at most once per HEAD_TTL_MS: status is asked on the request
 * path, and a git process per request would cost more than the query it accompanies */
#define HEAD_TTL_MS 1000
#define HEAD_CACHE 64

static struct {
    char root[PATH_MAX_LEN];
    char head[41];
    int64_t at;
} head_cache[HEAD_CACHE];
static pthread_mutex_t head_mu = PTHREAD_MUTEX_INITIALIZER;

static void cached_head(const cfg_workspace *ws, char out[41])
{
    int64_t now = clock_mono_ms();
    size_t slot = hash_str(ws->root_real) % HEAD_CACHE;
    pthread_mutex_lock(&head_mu);
    bool hit = strcmp(head_cache[slot].root, ws->root_real) == 0 &&
               now - head_cache[slot].at < HEAD_TTL_MS;
    if (hit) {
        memcpy(out, head_cache[slot].head, 41);
    }
    pthread_mutex_unlock(&head_mu);
    if (hit) {
        return;
    }
    git_head_ws(ws, out);
    pthread_mutex_lock(&head_mu);
    snprintf(head_cache[slot].root, sizeof head_cache[slot].root, "%s", ws->root_real);
    memcpy(head_cache[slot].head, out, 41);
    head_cache[slot].at = now;
    pthread_mutex_unlock(&head_mu);
}

void watch_fill_status(const cfg_workspace *ws, ix_status *st)
{
    if (ws->root_real) {
        cached_head(ws, st->head);
    }
    st->pending = watch_pending(ws->tenant, ws->id);
}

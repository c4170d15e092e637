/* sync.c - one workspace's sync (the rules are in sync.h).
 *
 * Every outcome ends in exactly one operator line in rep->message, written in the shape
 * "sync <ws>: <what happened>[; <what was done instead>]", and an index that reflects the
 * working tree: after a fast-forward by the diff's paths, otherwise by a stat-based build. */
#include "index/sync.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/metrics.h"

typedef struct path_list {
    char **v;
    size_t n, cap;
    bool overflow; /* more than SYNC_MAX_PATHS, or out of memory */
} path_list;

static bool collect(void *vctx, const char *rel)
{
    path_list *l = vctx;
    if (l->n >= SYNC_MAX_PATHS) {
        l->overflow = true;
        return false;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **nv = xrealloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->overflow = true;
            return false;
        }
        l->v = nv;
        l->cap = cap;
    }
    char *s = xstrdup(rel);
    if (!s) {
        l->overflow = true;
        return false;
    }
    l->v[l->n++] = s;
    return true;
}

static void list_release(path_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        xfree(l->v[i]);
    }
    xfree(l->v);
    memset(l, 0, sizeof *l);
}

/* a stat-based incremental build, waited for; records the indexed commit: HEAD when the tree
 * is clean, "" when it holds local changes (no commit describes the index then) */
static bool refresh(const config *c, const cfg_workspace *ws, const git_repo *r,
                    const atomic_bool *cancel, ix_progress_fn fn, void *ctx, sync_report *rep,
                    char *why, size_t why_len)
{
    ix_status st;
    memset(&st, 0, sizeof st);
    bool ok = index_build(c, ws, false, "", true, cancel, fn, ctx, &rep->sum, &st);
    if (!ok || rep->sum.stopped) {
        snprintf(why, why_len, "index build failed: %s",
                 rep->sum.why[0] ? rep->sum.why : "see the server log");
        return false;
    }
    char head[41] = "";
    if (r && git_indexable_commit(ws, head)) {
        index_set_commit(c, ws, head);
    }
    return true;
}

/* The diff base: the index's own commit. false when there is none to diff from: no index
 * yet, or one built from a tree with local changes (commit "") — then only a stat-based
 * refresh is right, since files changed and reverted since are in no diff. */
static bool diff_base(const config *c, const cfg_workspace *ws, char base[41])
{
    ix_status st;
    memset(&st, 0, sizeof st);
    index_status(c, ws, &st);
    if (st.state == IX_ABSENT || strlen(st.commit) != 40 || !git_validate_ref(st.commit)) {
        return false;
    }
    memcpy(base, st.commit, 41);
    return true;
}

/* re-index what changed between base and new (by the diff), or refresh when that cannot be */
static bool reindex_diff(const config *c, const cfg_workspace *ws, const git_repo *r,
                         const char *new_, const atomic_bool *cancel, ix_progress_fn fn, void *ctx,
                         sync_report *rep, char *why, size_t why_len)
{
    char base[41];
    if (!diff_base(c, ws, base)) {
        return refresh(c, ws, r, cancel, fn, ctx, rep, why, why_len);
    }
    path_list l = {0};
    char dwhy[256] = "";
    int64_t n =
        strcmp(base, new_) == 0 ? 0 : git_diff_names(r, base, new_, collect, &l, dwhy, sizeof dwhy);
    if (n < 0 || l.overflow) {
        /* the indexed commit is gone (history rewritten upstream), or the diff is huge */
        list_release(&l);
        return refresh(c, ws, r, cancel, fn, ctx, rep, why, why_len);
    }
    rep->incremental = true;
    rep->changed = (int64_t)l.n;
    bool ok = true;
    int64_t t0 = clock_mono_ms();
    if (l.n > 0) {
        ok =
            index_update_paths(c, ws, (const char *const *)l.v, l.n, new_, &rep->sum, why, why_len);
    } else {
        ok = index_set_commit(c, ws, new_);
        if (!ok) {
            snprintf(why, why_len, "cannot record the indexed commit");
        }
    }
    if (rep->sum.seconds <= 0) {
        rep->sum.seconds = (double)(clock_mono_ms() - t0) / 1000.0;
    }
    list_release(&l);
    return ok;
}

static void short_id(const char *id, char out[13])
{
    snprintf(out, 13, "%.12s", id[0] ? id : "(none)");
}

bool sync_workspace(const config *c, const cfg_workspace *ws, bool fetch, const atomic_bool *cancel,
                    ix_progress_fn fn, void *ctx, sync_report *rep)
{
    memset(rep, 0, sizeof *rep);
    int64_t t0 = clock_mono_ms();
    git_repo r;
    char why[512] = "", gwhy[512] = "";
    if (!git_repo_open(ws, &r, gwhy, sizeof gwhy)) {
        rep->ok = refresh(c, ws, NULL, cancel, fn, ctx, rep, why, sizeof why);
        snprintf(rep->message, sizeof rep->message, "sync %s: not a git checkout (%s); %s", ws->id,
                 gwhy, rep->ok ? "index refreshed from the working tree" : why);
        goto done;
    }
    rep->git = true;

    char up[256];
    gwhy[0] = '\0';
    bool has_up = git_upstream(&r, up, sizeof up, gwhy, sizeof gwhy);
    if (!has_up && strncmp(gwhy, "cannot run git", 14) == 0) {
        /* a checkout we cannot read is a failure, not a branch without upstream */
        bool idx = refresh(c, ws, NULL, cancel, fn, ctx, rep, why, sizeof why);
        rep->ok = false;
        snprintf(rep->message, sizeof rep->message, "sync %s: %s; not updated — %s", ws->id, gwhy,
                 idx ? "index refreshed from the working tree" : why);
        goto done_repo;
    }
    if (!has_up) {
        /* nothing to sync from: not a failure of the sync, the checkout is what it is */
        rep->ok = refresh(c, ws, &r, cancel, fn, ctx, rep, why, sizeof why);
        git_head(&r, rep->old);
        memcpy(rep->new_, rep->old, 41);
        rep->ff = GIT_FF_UP_TO_DATE;
        snprintf(rep->message, sizeof rep->message,
                 "sync %s: the branch has no upstream (%s); not updated — %s", ws->id, gwhy,
                 rep->ok ? "index refreshed from the working tree" : why);
        goto done_repo;
    }
    bool fetch_ok = !fetch || git_fetch(&r, gwhy, sizeof gwhy);
    if (!fetch_ok) {
        rep->ff = GIT_FF_FAILED;
        git_head(&r, rep->old);
        memcpy(rep->new_, rep->old, 41);
        bool idx = refresh(c, ws, &r, cancel, fn, ctx, rep, why, sizeof why);
        rep->ok = false;
        snprintf(rep->message, sizeof rep->message, "sync %s: %s; not updated — %s", ws->id, gwhy,
                 idx ? "index refreshed from the working tree" : why);
        goto done_repo;
    }
    rep->ff = git_ff(&r, rep->old, rep->new_, &rep->dirty, gwhy, sizeof gwhy);
    char o12[13], n12[13];
    short_id(rep->old, o12);
    short_id(rep->new_, n12);
    switch (rep->ff) {
    case GIT_FF_DIRTY: {
        rep->ok = refresh(c, ws, &r, cancel, fn, ctx, rep, why, sizeof why);
        snprintf(rep->message, sizeof rep->message,
                 "sync %s: working tree has local changes (%lld file%s); not updated — %s", ws->id,
                 (long long)rep->dirty, rep->dirty == 1 ? "" : "s",
                 rep->ok ? "index refreshed from the working tree" : why);
        break;
    }
    case GIT_FF_FAILED: {
        bool idx = refresh(c, ws, &r, cancel, fn, ctx, rep, why, sizeof why);
        rep->ok = false;
        snprintf(rep->message, sizeof rep->message, "sync %s: %s; not updated — %s", ws->id, gwhy,
                 idx ? "index refreshed from the working tree" : why);
        break;
    }
    case GIT_FF_UPDATED:
    case GIT_FF_UP_TO_DATE: {
        rep->ok = reindex_diff(c, ws, &r, rep->new_, cancel, fn, ctx, rep, why, sizeof why);
        if (rep->ff == GIT_FF_UPDATED) {
            snprintf(rep->message, sizeof rep->message,
                     "sync %s: fast-forwarded %s..%s from '%s' (%lld file%s changed)%s%s", ws->id,
                     o12, n12, up, (long long)rep->changed, rep->changed == 1 ? "" : "s",
                     rep->ok ? "" : "; ", rep->ok ? "" : why);
        } else {
            snprintf(rep->message, sizeof rep->message, "sync %s: up to date with '%s' at %s%s%s",
                     ws->id, up, n12, rep->ok ? "" : "; ", rep->ok ? "" : why);
        }
        break;
    }
    }
done_repo:
    git_repo_release(&r);
done:
    if (rep->sum.seconds <= 0) {
        rep->sum.seconds = (double)(clock_mono_ms() - t0) / 1000.0;
    }
    metrics_sync_result(rep->ok); /* METRICS (issue 6): ctxd_sync_total{result} */
    index_event("sync_done", ws, rep->ok, &rep->sum, rep->message); /* EVENTS (issue 6) */
    return rep->ok;
}

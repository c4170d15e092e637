/* cochange.c - git co-change edges for ctx_graph action=enrich (tools.md §3.1): files that
 * changed together in the last 500 commits.
 *
 * One `git log -n 500 --no-merges --name-only` (argument vector, DESIGN §5 options through
 * git_run) is read; every commit that touched 2 to MAX_COMMIT_FILES files inside the workspace
 * counts one for each pair of them (a bigger commit, a reformatting or a vendor drop, says
 * nothing about coupling). Pairs seen at least twice are kept. The result lives in a small
 * process-wide table keyed by tenant + workspace, replaced by the next enrich; `related` lists
 * a file's co-change partners with the reason `co-changed`. The index schema is not touched. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "index/git.h"
#include "tools/graphtools.h"

#define MAX_COMMITS "500"
#define MAX_COMMIT_FILES 50
#define MAX_LOG_BYTES ((size_t)32 << 20)
#define CO_SLOTS 8

typedef struct co_pair {
    char *a, *b; /* a < b */
    uint32_t n;
} co_pair;

typedef struct co_set {
    char key[256];
    char head[41];
    co_pair *v;
    size_t n;
} co_set;

static pthread_mutex_t co_mu = PTHREAD_MUTEX_INITIALIZER;
static co_set *co_tab[CO_SLOTS];

static void co_free(co_set *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; s->v && i < s->n; i++) {
        xfree(s->v[i].a);
        xfree(s->v[i].b);
    }
    xfree(s->v);
    xfree(s);
}

/* pairs are counted in an open-addressing table keyed by "a\nb" */
typedef struct pair_tab {
    char **keys;
    uint32_t *counts;
    size_t cap, n;
} pair_tab;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static bool tab_grow(pair_tab *t)
{
    size_t nc = t->cap ? t->cap * 2 : 4096;
    char **nk = xcalloc(nc, sizeof *nk);
    uint32_t *nn = xcalloc(nc, sizeof *nn);
    if (!nk || !nn) {
        xfree(nk);
        xfree(nn);
        return false;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->keys[i]) {
            size_t h = hash_str(t->keys[i]) & (nc - 1);
            while (nk[h]) {
                h = (h + 1) & (nc - 1);
            }
            nk[h] = t->keys[i];
            nn[h] = t->counts[i];
        }
    }
    xfree(t->keys);
    xfree(t->counts);
    t->keys = nk;
    t->counts = nn;
    t->cap = nc;
    return true;
}

static bool tab_add(pair_tab *t, const char *a, const char *b)
{
    if ((t->n + 1) * 2 > t->cap && !tab_grow(t)) {
        return false;
    }
    char key[2 * 4097 + 2];
    int kl = snprintf(key, sizeof key, "%s\n%s", a, b);
    if (kl < 0 || (size_t)kl >= sizeof key) {
        return true; /* absurdly long paths: not counted */
    }
    size_t h = hash_str(key) & (t->cap - 1);
    while (t->keys[h]) {
        if (strcmp(t->keys[h], key) == 0) {
            t->counts[h]++;
            return true;
        }
        h = (h + 1) & (t->cap - 1);
    }
    t->keys[h] = xstrdup(key);
    if (!t->keys[h]) {
        return false;
    }
    t->counts[h] = 1;
    t->n++;
    return true;
}

static void tab_release(pair_tab *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        xfree(t->keys[i]);
    }
    xfree(t->keys);
    xfree(t->counts);
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* count the pairs of one commit's files (workspace-relative, sorted) */
static bool count_commit(pair_tab *t, char **files, size_t n)
{
    if (n < 2 || n > MAX_COMMIT_FILES) {
        return true;
    }
    qsort(files, n, sizeof *files, str_cmp);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(files[i], files[j]) != 0 && !tab_add(t, files[i], files[j])) {
                return false;
            }
        }
    }
    return true;
}

static void co_key(const tool_call *call, char *key, size_t cap)
{
    snprintf(key, cap, "%s\x1f%s", call->ws->tenant ? call->ws->tenant : "", call->ws->id);
}

bool gt_cochange_compute(tool_call *call, size_t *pairs, char *why, size_t why_len)
{
    git_repo r;
    if (!git_repo_open(call->ws, &r, why, why_len)) {
        return false;
    }
    const char *args[] = {"log",           "-n", MAX_COMMITS, "--no-merges", "--name-only",
                          "--format=%x01", NULL};
    git_result res;
    bool ok = git_run(&r, args, 20000, MAX_LOG_BYTES, &res);
    if (!ok) {
        snprintf(why, why_len, "git log failed: %s",
                 res.errtext[0] ? res.errtext : (res.too_big ? "output too large" : "error"));
        git_result_release(&res);
        git_repo_release(&r);
        return false;
    }
    char head[41] = "";
    git_head(&r, head);
    size_t plen = r.prefix ? strlen(r.prefix) : 0;
    pair_tab t = {0};
    char **files = xcalloc(MAX_COMMIT_FILES + 1, sizeof *files);
    size_t nf = 0;
    bool too_many = false, fine = files != NULL;
    char *p = res.out.ptr ? res.out.ptr : "";
    while (fine && *p) {
        char *e = strchr(p, '\n');
        if (e) {
            *e = '\0';
        }
        if (*p == '\x01') { /* a new commit */
            fine = too_many || count_commit(&t, files, nf);
            nf = 0;
            too_many = false;
        } else if (*p && (!plen || strncmp(p, r.prefix, plen) == 0)) {
            if (nf < MAX_COMMIT_FILES + 1) {
                files[nf++] = p + plen;
            }
            too_many = nf > MAX_COMMIT_FILES;
        }
        if (!e) {
            break;
        }
        p = e + 1;
    }
    if (fine && !too_many) {
        fine = count_commit(&t, files, nf);
    }
    xfree(files);
    co_set *s = fine ? xcalloc(1, sizeof *s) : NULL;
    fine = fine && s;
    if (s) {
        co_key(call, s->key, sizeof s->key);
        snprintf(s->head, sizeof s->head, "%s", head);
        size_t keep = 0;
        for (size_t i = 0; i < t.cap; i++) {
            keep += t.keys[i] && t.counts[i] >= 2;
        }
        s->v = xcalloc(keep ? keep : 1, sizeof *s->v);
        for (size_t i = 0; s->v && i < t.cap; i++) {
            if (t.keys[i] && t.counts[i] >= 2) {
                char *nl = strchr(t.keys[i], '\n');
                s->v[s->n].a = xstrndup(t.keys[i], (size_t)(nl - t.keys[i]));
                s->v[s->n].b = xstrdup(nl + 1);
                s->v[s->n].n = t.counts[i];
                if (!s->v[s->n].a || !s->v[s->n].b) {
                    xfree(s->v[s->n].a);
                    xfree(s->v[s->n].b);
                    break;
                }
                s->n++;
            }
        }
        fine = s->v != NULL;
    }
    tab_release(&t);
    git_result_release(&res);
    git_repo_release(&r);
    if (!fine) {
        co_free(s);
        snprintf(why, why_len, "out of memory counting co-changes");
        return false;
    }
    *pairs = s->n;
    pthread_mutex_lock(&co_mu);
    int slot = -1;
    for (int i = 0; i < CO_SLOTS && slot < 0; i++) {
        if (co_tab[i] && strcmp(co_tab[i]->key, s->key) == 0) {
            slot = i;
        }
    }
    for (int i = 0; i < CO_SLOTS && slot < 0; i++) {
        if (!co_tab[i]) {
            slot = i;
        }
    }
    if (slot < 0) {
        slot = 0; /* more enriched workspaces than slots: the oldest entry goes */
    }
    co_set *old = co_tab[slot];
    co_tab[slot] = s;
    pthread_mutex_unlock(&co_mu);
    co_free(old);
    return true;
}

size_t gt_cochanged(tool_call *call, const char *path, const char **out, uint32_t *counts,
                    size_t cap)
{
    char key[256];
    co_key(call, key, sizeof key);
    size_t n = 0;
    pthread_mutex_lock(&co_mu);
    for (int i = 0; i < CO_SLOTS; i++) {
        co_set *s = co_tab[i];
        if (!s || strcmp(s->key, key) != 0) {
            continue;
        }
        for (size_t k = 0; k < s->n && n < cap; k++) {
            const char *other = strcmp(s->v[k].a, path) == 0   ? s->v[k].b
                                : strcmp(s->v[k].b, path) == 0 ? s->v[k].a
                                                               : NULL;
            if (other) {
                out[n] = arena_strdup(call->a, other);
                counts[n] = s->v[k].n;
                n += out[n] != NULL;
            }
        }
    }
    pthread_mutex_unlock(&co_mu);
    return n;
}

/* share.c - per-tenant in-flight counts and the fair share of maxConcurrency (see share.h). */
#include "limit/share.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

struct share_slot {
    share_slot *chain;         /* next in the hash slot */
    share_slot *newer, *older; /* recency list */
    uint64_t hash;
    int in_flight;
    char tenant[];
};

struct share_table {
    pthread_mutex_t lock;
    share_slot **slots;
    size_t mask;
    size_t count, max;
    size_t in_flight; /* slots held, all tenants */
    size_t active;    /* tenants with in_flight > 0 */
    share_slot *newest, *oldest;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

share_table *share_new(size_t max_tenants)
{
    share_table *t = xcalloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    size_t n = 16;
    while (n < max_tenants * 2) {
        n *= 2;
    }
    t->slots = xcalloc(n, sizeof(share_slot *));
    if (!t->slots) {
        xfree(t);
        return NULL;
    }
    t->mask = n - 1;
    t->max = max_tenants < 1 ? 1 : max_tenants;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void share_free(share_table *t)
{
    if (!t) {
        return;
    }
    share_slot *e = t->newest;
    while (e) {
        share_slot *next = e->older;
        xfree(e);
        e = next;
    }
    xfree(t->slots);
    pthread_mutex_destroy(&t->lock);
    xfree(t);
}

int share_limit(int max_total, size_t active, int tenant_max)
{
    if (tenant_max > 0) {
        return tenant_max;
    }
    if (active <= 1) {
        return max_total;
    }
    return (int)(((size_t)max_total + active - 1) / active);
}

static void unlink_recency(share_table *t, share_slot *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    } else {
        t->newest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    } else {
        t->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void push_newest(share_table *t, share_slot *e)
{
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest) {
        t->newest->newer = e;
    }
    t->newest = e;
    if (!t->oldest) {
        t->oldest = e;
    }
}

/* forget the least recently used tenant holding no slot; false if every one holds some */
static bool evict_idle(share_table *t)
{
    share_slot *e = t->oldest;
    while (e && e->in_flight > 0) {
        e = e->newer;
    }
    if (!e) {
        return false;
    }
    share_slot **pp = &t->slots[e->hash & t->mask];
    while (*pp != e) {
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    unlink_recency(t, e);
    t->count--;
    xfree(e);
    return true;
}

static share_slot *find_or_add(share_table *t, const char *tenant)
{
    uint64_t h = fnv1a(tenant);
    for (share_slot *e = t->slots[h & t->mask]; e; e = e->chain) {
        if (e->hash == h && strcmp(e->tenant, tenant) == 0) {
            unlink_recency(t, e);
            push_newest(t, e);
            return e;
        }
    }
    if (t->count >= t->max && !evict_idle(t)) {
        return NULL;
    }
    size_t n = strlen(tenant);
    share_slot *e = xmalloc(sizeof *e + n + 1);
    if (!e) {
        return NULL;
    }
    memcpy(e->tenant, tenant, n + 1);
    e->hash = h;
    e->in_flight = 0;
    e->chain = t->slots[h & t->mask];
    t->slots[h & t->mask] = e;
    push_newest(t, e);
    t->count++;
    return e;
}

share_result share_acquire(share_table *t, const char *tenant, int max_total, int tenant_max,
                           share_slot **slot, int *limit)
{
    *slot = NULL;
    pthread_mutex_lock(&t->lock);
    share_result r = SHARE_FULL;
    int lim = max_total;
    if (t->in_flight < (size_t)(max_total > 0 ? max_total : 0)) {
        share_slot *e = find_or_add(t, tenant);
        if (e) {
            lim = share_limit(max_total, t->active + (e->in_flight == 0 ? 1 : 0), tenant_max);
            if (e->in_flight >= lim) {
                r = SHARE_TENANT_FULL;
            } else {
                if (e->in_flight++ == 0) {
                    t->active++;
                }
                t->in_flight++;
                *slot = e;
                r = SHARE_OK;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (limit) {
        *limit = lim;
    }
    return r;
}

void share_release(share_table *t, share_slot *slot)
{
    if (!slot) {
        return;
    }
    pthread_mutex_lock(&t->lock);
    if (slot->in_flight > 0) {
        if (--slot->in_flight == 0) {
            t->active--;
        }
        t->in_flight--;
    }
    pthread_mutex_unlock(&t->lock);
}

size_t share_in_flight(share_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->in_flight;
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t share_active(share_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->active;
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t share_size(share_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

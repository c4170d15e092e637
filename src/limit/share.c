/* share.c - per-tenant in-flight counts and the fair share of maxConcurrency (see share.h). */
#include "limit/share.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/lrumap.h"

struct share_slot {
    int in_flight;
};

struct share_table {
    pthread_mutex_t lock;
    lrumap *map;      /* tenant -> share_slot */
    size_t in_flight; /* slots held, all tenants */
    size_t active;    /* tenants with in_flight > 0 */
};

/* a tenant holding slots is never forgotten: its share_slot is still to be released */
static bool idle(const void *v)
{
    return ((const share_slot *)v)->in_flight == 0;
}

share_table *share_new(size_t max_tenants)
{
    share_table *t = xcalloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    t->map = lrumap_new(max_tenants, sizeof(share_slot), idle);
    if (!t->map) {
        xfree(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void share_free(share_table *t)
{
    if (!t) {
        return;
    }
    lrumap_free(t->map);
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

share_result share_acquire(share_table *t, const char *tenant, int max_total, int tenant_max,
                           share_slot **slot, int *limit)
{
    *slot = NULL;
    pthread_mutex_lock(&t->lock);
    share_result r = SHARE_FULL;
    int lim = max_total;
    if (t->in_flight < (size_t)(max_total > 0 ? max_total : 0)) {
        share_slot *e = lrumap_get(t->map, tenant, true, NULL);
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
    size_t n = lrumap_size(t->map);
    pthread_mutex_unlock(&t->lock);
    return n;
}

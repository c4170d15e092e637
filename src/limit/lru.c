/* lru.c - the LRU-bounded bucket table (see bucket.h): buckets in an lrumap (O(1) per
 * operation, nothing rehashes on the request path) under one mutex; each operation is a handful
 * of pointer moves, far below the cost of the request it guards. */
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/lrumap.h"
#include "limit/bucket.h"

struct limiter {
    pthread_mutex_t lock;
    lrumap *map;
};

limiter *limiter_new(size_t max_entries)
{
    limiter *l = xcalloc(1, sizeof *l);
    if (!l) {
        return NULL;
    }
    l->map = lrumap_new(max_entries, sizeof(bucket), NULL);
    if (!l->map) {
        xfree(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void limiter_free(limiter *l)
{
    if (!l) {
        return;
    }
    lrumap_free(l->map);
    pthread_mutex_destroy(&l->lock);
    xfree(l);
}

/* the key's bucket: found (retuned to capacity/rate when create and they changed) or, with
   create, made full (the least recently used key forgotten when the table is full); NULL when
   absent without create, or out of memory */
static bucket *lookup(limiter *l, const char *key, double capacity, double rate, bool create)
{
    bool created;
    bucket *b = lrumap_get(l->map, key, create, &created);
    if (b && created) {
        bucket_init(b, capacity, rate, clock_mono_ns());
    } else if (b && create && (b->capacity != capacity || b->rate != rate)) {
        bucket_retune(b, capacity, rate);
    }
    return b;
}

bool limiter_take(limiter *l, const char *key, double capacity, double rate, double cost,
                  rate_state *st)
{
    pthread_mutex_lock(&l->lock);
    bucket *b = lookup(l, key, capacity, rate, true);
    bool ok;
    if (!b) {
        /* out of memory: fail open for this one request rather than refuse everyone */
        ok = true;
        if (st) {
            *st = (rate_state){true, capacity, rate, capacity, 0, 0};
        }
    } else {
        ok = bucket_take(b, cost, clock_mono_ns(), st);
    }
    pthread_mutex_unlock(&l->lock);
    return ok;
}

void limiter_refund(limiter *l, const char *key, double cost)
{
    pthread_mutex_lock(&l->lock);
    bucket *b = lookup(l, key, 0, 0, false);
    if (b) {
        bucket_refund(b, cost);
    }
    pthread_mutex_unlock(&l->lock);
}

void limiter_drain(limiter *l, const char *key, double capacity, double rate, double cost)
{
    pthread_mutex_lock(&l->lock);
    bucket *b = lookup(l, key, capacity, rate, true);
    if (b) {
        bucket_take(b, 0, clock_mono_ns(), NULL);
        b->tokens -= cost;
        if (b->tokens < 0) {
            b->tokens = 0;
        }
    }
    pthread_mutex_unlock(&l->lock);
}

size_t limiter_size(limiter *l)
{
    pthread_mutex_lock(&l->lock);
    size_t n = lrumap_size(l->map);
    pthread_mutex_unlock(&l->lock);
    return n;
}

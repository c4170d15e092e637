/* lru.c - the LRU-bounded bucket table (see bucket.h).
 *
 * Open hashing with chains; the table has a fixed number of slots (a power of two at least
 * twice max_entries), so lookups stay O(1) and nothing rehashes on the request path. One mutex
 * guards the table: each operation is a handful of pointer moves, far below the cost of the
 * request it guards. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "limit/bucket.h"

typedef struct entry entry;
struct entry {
    entry *chain;         /* next in the hash slot */
    entry *newer, *older; /* recency list */
    uint64_t hash;
    bucket b;
    char key[];
};

struct limiter {
    pthread_mutex_t lock;
    entry **slots;
    size_t mask;
    size_t count, max;
    entry *newest, *oldest;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

limiter *limiter_new(size_t max_entries)
{
    limiter *l = xcalloc(1, sizeof *l);
    if (!l) {
        return NULL;
    }
    size_t n = 16;
    while (n < max_entries * 2) {
        n *= 2;
    }
    l->slots = xcalloc(n, sizeof(entry *));
    if (!l->slots) {
        xfree(l);
        return NULL;
    }
    l->mask = n - 1;
    l->max = max_entries;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void limiter_free(limiter *l)
{
    if (!l) {
        return;
    }
    entry *e = l->newest;
    while (e) {
        entry *next = e->older;
        xfree(e);
        e = next;
    }
    xfree(l->slots);
    pthread_mutex_destroy(&l->lock);
    xfree(l);
}

static void unlink_recency(limiter *l, entry *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    } else {
        l->newest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    } else {
        l->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void push_newest(limiter *l, entry *e)
{
    e->older = l->newest;
    e->newer = NULL;
    if (l->newest) {
        l->newest->newer = e;
    }
    l->newest = e;
    if (!l->oldest) {
        l->oldest = e;
    }
}

static void remove_entry(limiter *l, entry *e)
{
    entry **pp = &l->slots[e->hash & l->mask];
    while (*pp != e) {
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    unlink_recency(l, e);
    l->count--;
    xfree(e);
}

/* find or create (evicting the oldest when full); NULL only when out of memory */
static entry *lookup(limiter *l, const char *key, double capacity, double rate, bool create)
{
    uint64_t h = fnv1a(key);
    for (entry *e = l->slots[h & l->mask]; e; e = e->chain) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            unlink_recency(l, e);
            push_newest(l, e);
            if (create && (e->b.capacity != capacity || e->b.rate != rate)) {
                bucket_retune(&e->b, capacity, rate);
            }
            return e;
        }
    }
    if (!create) {
        return NULL;
    }
    if (l->count >= l->max && l->oldest) {
        remove_entry(l, l->oldest);
    }
    size_t kl = strlen(key);
    entry *e = xmalloc(sizeof *e + kl + 1);
    if (!e) {
        return NULL;
    }
    memcpy(e->key, key, kl + 1);
    e->hash = h;
    bucket_init(&e->b, capacity, rate, clock_mono_ns());
    e->chain = l->slots[h & l->mask];
    l->slots[h & l->mask] = e;
    push_newest(l, e);
    l->count++;
    return e;
}

bool limiter_take(limiter *l, const char *key, double capacity, double rate, double cost,
                  rate_state *st)
{
    pthread_mutex_lock(&l->lock);
    entry *e = lookup(l, key, capacity, rate, true);
    bool ok;
    if (!e) {
        /* out of memory: fail open for this one request rather than refuse everyone */
        ok = true;
        if (st) {
            *st = (rate_state){true, capacity, rate, capacity, 0, 0};
        }
    } else {
        ok = bucket_take(&e->b, cost, clock_mono_ns(), st);
    }
    pthread_mutex_unlock(&l->lock);
    return ok;
}

void limiter_refund(limiter *l, const char *key, double cost)
{
    pthread_mutex_lock(&l->lock);
    entry *e = lookup(l, key, 0, 0, false);
    if (e) {
        bucket_refund(&e->b, cost);
    }
    pthread_mutex_unlock(&l->lock);
}

void limiter_drain(limiter *l, const char *key, double capacity, double rate, double cost)
{
    pthread_mutex_lock(&l->lock);
    entry *e = lookup(l, key, capacity, rate, true);
    if (e) {
        bucket_take(&e->b, 0, clock_mono_ns(), NULL);
        e->b.tokens -= cost;
        if (e->b.tokens < 0) {
            e->b.tokens = 0;
        }
    }
    pthread_mutex_unlock(&l->lock);
}

size_t limiter_size(limiter *l)
{
    pthread_mutex_lock(&l->lock);
    size_t n = l->count;
    pthread_mutex_unlock(&l->lock);
    return n;
}

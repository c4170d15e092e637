/* lrumap.c - the LRU-bounded string map (see lrumap.h). */
#include "core/lrumap.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

typedef struct node node;
struct node {
    node *chain;         /* next in the hash slot */
    node *newer, *older; /* recency list */
    uint64_t hash;
    char *key; /* after the value, in the same allocation */
    alignas(max_align_t) unsigned char value[];
};

struct lrumap {
    node **slots;
    size_t mask;
    size_t count, max, value_size;
    lrumap_evictable_fn evictable;
    node *newest, *oldest;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

lrumap *lrumap_new(size_t max_entries, size_t value_size, lrumap_evictable_fn evictable)
{
    lrumap *m = xcalloc(1, sizeof *m);
    if (!m) {
        return NULL;
    }
    m->max = max_entries < 1 ? 1 : max_entries;
    size_t n = 16;
    while (n < m->max * 2) {
        n *= 2;
    }
    m->slots = xcalloc(n, sizeof(node *));
    if (!m->slots) {
        xfree(m);
        return NULL;
    }
    m->mask = n - 1;
    m->value_size = value_size;
    m->evictable = evictable;
    return m;
}

void lrumap_free(lrumap *m)
{
    if (!m) {
        return;
    }
    node *e = m->newest;
    while (e) {
        node *next = e->older;
        xfree(e);
        e = next;
    }
    xfree(m->slots);
    xfree(m);
}

static void unlink_recency(lrumap *m, node *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    } else {
        m->newest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    } else {
        m->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void push_newest(lrumap *m, node *e)
{
    e->older = m->newest;
    e->newer = NULL;
    if (m->newest) {
        m->newest->newer = e;
    }
    m->newest = e;
    if (!m->oldest) {
        m->oldest = e;
    }
}

/* forget the least recently used entry that may go; false if none may */
static bool evict_one(lrumap *m)
{
    node *e = m->oldest;
    while (e && m->evictable && !m->evictable(e->value)) {
        e = e->newer;
    }
    if (!e) {
        return false;
    }
    node **pp = &m->slots[e->hash & m->mask];
    while (*pp != e) {
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    unlink_recency(m, e);
    m->count--;
    xfree(e);
    return true;
}

void *lrumap_get(lrumap *m, const char *key, bool create, bool *created)
{
    if (created) {
        *created = false;
    }
    uint64_t h = fnv1a(key);
    for (node *e = m->slots[h & m->mask]; e; e = e->chain) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            unlink_recency(m, e);
            push_newest(m, e);
            return e->value;
        }
    }
    if (!create || (m->count >= m->max && !evict_one(m))) {
        return NULL;
    }
    size_t kl = strlen(key);
    node *e = xmalloc(sizeof *e + m->value_size + kl + 1);
    if (!e) {
        return NULL;
    }
    memset(e->value, 0, m->value_size);
    e->key = (char *)e->value + m->value_size;
    memcpy(e->key, key, kl + 1);
    e->hash = h;
    e->chain = m->slots[h & m->mask];
    m->slots[h & m->mask] = e;
    push_newest(m, e);
    m->count++;
    if (created) {
        *created = true;
    }
    return e->value;
}

size_t lrumap_size(const lrumap *m)
{
    return m->count;
}

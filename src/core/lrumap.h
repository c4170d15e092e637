/* lrumap.h - a string-keyed map bounded to a number of entries, the least recently used evicted.
 *
 * Every operation is O(1): a fixed table of chained slots (a power of two, at least twice the
 * bound, never rehashed, so nothing reallocates on a request path) and a recency list. Each entry
 * holds value_size bytes of its owner's value, zeroed when the entry is made; a value's address
 * stays valid until its entry is evicted or the map freed. An owner can keep an entry from being
 * evicted (a tenant with calls in flight) with the evictable callback. Not locked: the owner holds
 * its own mutex around every call. */
#ifndef CTXD_CORE_LRUMAP_H
#define CTXD_CORE_LRUMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lrumap lrumap;
/* whether the entry holding value may be evicted */
typedef bool (*lrumap_evictable_fn)(const void *value);

/* NULL evictable: any entry may be */
lrumap *lrumap_new(size_t max_entries, size_t value_size, lrumap_evictable_fn evictable);
void lrumap_free(lrumap *m);
/* The value of key, made the most recently used. When absent and create is set, a new zeroed
 * entry (*created = true; the least recently used evictable entry goes first when the map is
 * full). NULL when absent without create, out of memory, or full of entries that may not be
 * evicted. created may be NULL. */
void *lrumap_get(lrumap *m, const char *key, bool create, bool *created);
size_t lrumap_size(const lrumap *m);

#endif

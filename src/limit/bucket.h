/* bucket.h - token buckets and the LRU table that holds one per key.
 *
 * A bucket refills continuously: tokens = min(capacity, tokens + elapsed_s * rate). A cost
 * above the capacity is charged as the capacity (http-conventions.md §1.1), so a call that is
 * dearer than a small tier's whole bucket waits for a full bucket instead of never passing.
 * bucket_* functions are not locked; limiter_* and the global bucket are. */
#ifndef CTXD_LIMIT_BUCKET_H
#define CTXD_LIMIT_BUCKET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bucket {
    double tokens;
    double capacity;
    double rate; /* tokens per second */
    int64_t last_ns;
} bucket;

/* what a charge left, for the RateLimit headers */
typedef struct rate_state {
    bool allowed;
    double capacity;
    double rate;
    double remaining;   /* tokens after the charge (or now, if refused) */
    double retry_after; /* seconds until the cost is available (refused only) */
    double full_in;     /* seconds until the bucket is full again */
} rate_state;

void bucket_init(bucket *b, double capacity, double rate, int64_t now_ns);
/* set a new capacity/rate (config reload) keeping the fill level, clamped */
void bucket_retune(bucket *b, double capacity, double rate);
bool bucket_take(bucket *b, double cost, int64_t now_ns, rate_state *st);
void bucket_refund(bucket *b, double cost);

/* a locked single bucket (the global one) */
typedef struct locked_bucket {
    pthread_mutex_t lock;
    bucket b;
} locked_bucket;

void locked_bucket_init(locked_bucket *lb, double capacity, double rate);
bool locked_bucket_take(locked_bucket *lb, double capacity, double rate, double cost,
                        rate_state *st);
void locked_bucket_refund(locked_bucket *lb, double cost);

/* An LRU-bounded table of buckets keyed by string (token id, client IP), O(1) per operation:
 * a hash table for lookup and a doubly linked list for recency; when full, the least recently
 * used entry is evicted (a forgotten key starts again with a full bucket). */
typedef struct limiter limiter;

limiter *limiter_new(size_t max_entries);
void limiter_free(limiter *l);
bool limiter_take(limiter *l, const char *key, double capacity, double rate, double cost,
                  rate_state *st);
void limiter_refund(limiter *l, const char *key, double cost);
/* charge cost but never below zero and never refuse (probing costs, tools.md §1.10) */
void limiter_drain(limiter *l, const char *key, double capacity, double rate, double cost);
size_t limiter_size(limiter *l);

#endif

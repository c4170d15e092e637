/* bucket.c - token bucket arithmetic (see bucket.h). */
#include "limit/bucket.h"

#include "core/clock.h"

static void refill(bucket *b, int64_t now_ns)
{
    if (now_ns > b->last_ns) {
        double elapsed = (double)(now_ns - b->last_ns) / 1e9;
        b->tokens += elapsed * b->rate;
        if (b->tokens > b->capacity) {
            b->tokens = b->capacity;
        }
        b->last_ns = now_ns;
    }
}

void bucket_init(bucket *b, double capacity, double rate, int64_t now_ns)
{
    b->capacity = capacity;
    b->rate = rate;
    b->tokens = capacity;
    b->last_ns = now_ns;
}

void bucket_retune(bucket *b, double capacity, double rate)
{
    b->capacity = capacity;
    b->rate = rate;
    if (b->tokens > capacity) {
        b->tokens = capacity;
    }
}

bool bucket_take(bucket *b, double cost, int64_t now_ns, rate_state *st)
{
    refill(b, now_ns);
    if (cost > b->capacity) {
        cost = b->capacity;
    }
    bool ok = b->tokens + 1e-9 >= cost;
    if (ok) {
        b->tokens -= cost;
        if (b->tokens < 0) {
            b->tokens = 0;
        }
    }
    if (st) {
        st->allowed = ok;
        st->capacity = b->capacity;
        st->rate = b->rate;
        st->remaining = b->tokens;
        st->retry_after = ok ? 0 : (cost - b->tokens) / b->rate;
        st->full_in = (b->capacity - b->tokens) / b->rate;
    }
    return ok;
}

void bucket_refund(bucket *b, double cost)
{
    b->tokens += cost;
    if (b->tokens > b->capacity) {
        b->tokens = b->capacity;
    }
}

void locked_bucket_init(locked_bucket *lb, double capacity, double rate)
{
    pthread_mutex_init(&lb->lock, NULL);
    bucket_init(&lb->b, capacity, rate, clock_mono_ns());
}

bool locked_bucket_take(locked_bucket *lb, double capacity, double rate, double cost,
                        rate_state *st)
{
    pthread_mutex_lock(&lb->lock);
    if (lb->b.capacity != capacity || lb->b.rate != rate) {
        bucket_retune(&lb->b, capacity, rate);
    }
    bool ok = bucket_take(&lb->b, cost, clock_mono_ns(), st);
    pthread_mutex_unlock(&lb->lock);
    return ok;
}

void locked_bucket_refund(locked_bucket *lb, double cost)
{
    pthread_mutex_lock(&lb->lock);
    bucket_refund(&lb->b, cost);
    pthread_mutex_unlock(&lb->lock);
}

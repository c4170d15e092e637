/* test_limit.c - token buckets and the LRU table of buckets (src/limit): refill arithmetic on a
 * controlled clock, the cost cap, refunds, LRU eviction, the never-below-zero drain of refused
 * calls (tools.md §1.10), and a multithreaded run that must never hand out more than the
 * capacity plus what the elapsed time refilled. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "core/clock.h"
#include "limit/bucket.h"

#define S(x) ((int64_t)((x)*1e9)) /* seconds to ns */

Test(bucket, starts_full_and_refills_at_rate)
{
    bucket b;
    rate_state st;
    bucket_init(&b, 10, 2, 0);
    cr_assert(bucket_take(&b, 10, 0, &st), "a new bucket is full");
    cr_assert_float_eq(st.remaining, 0, 1e-9);
    cr_assert_float_eq(st.full_in, 5, 1e-9, "10 tokens at 2/s");
    cr_assert_not(bucket_take(&b, 1, 0, &st));
    cr_assert_not(st.allowed);
    cr_assert_float_eq(st.retry_after, 0.5, 1e-9, "one token at 2/s");
    cr_assert_not(bucket_take(&b, 1, S(0.4), &st));
    cr_assert_float_eq(st.retry_after, 0.1, 1e-9);
    cr_assert(bucket_take(&b, 1, S(0.5), &st));
    cr_assert_float_eq(st.remaining, 0, 1e-9);
    /* a long pause refills to the capacity, not beyond */
    cr_assert(bucket_take(&b, 10, S(100), &st));
    cr_assert_not(bucket_take(&b, 0.5, S(100), &st));
    cr_assert(bucket_take(&b, 3, S(101.5), &st));
    cr_assert_float_eq(st.remaining, 0, 1e-9);
    cr_assert_eq(st.capacity, 10);
    cr_assert_eq(st.rate, 2);
}

Test(bucket, clock_going_backwards_adds_nothing)
{
    bucket b;
    bucket_init(&b, 4, 1, S(10));
    cr_assert(bucket_take(&b, 4, S(10), NULL));
    cr_assert_not(bucket_take(&b, 1, S(5), NULL), "an earlier time refills nothing");
    cr_assert(bucket_take(&b, 1, S(11), NULL));
}

Test(bucket, cost_above_capacity_is_charged_as_capacity)
{
    bucket b;
    rate_state st;
    bucket_init(&b, 5, 1, 0);
    cr_assert(bucket_take(&b, 8, 0, &st), "a dear call passes on a full bucket");
    cr_assert_float_eq(st.remaining, 0, 1e-9);
    cr_assert_not(bucket_take(&b, 8, S(1), &st));
    cr_assert_float_eq(st.retry_after, 4, 1e-9, "it waits for a full bucket, not forever");
    cr_assert(bucket_take(&b, 8, S(5), &st));
}

Test(bucket, refund_and_retune)
{
    bucket b;
    bucket_init(&b, 10, 1, 0);
    cr_assert(bucket_take(&b, 10, 0, NULL));
    bucket_refund(&b, 3);
    cr_assert(bucket_take(&b, 3, 0, NULL));
    cr_assert_not(bucket_take(&b, 1, 0, NULL));
    bucket_refund(&b, 100);
    cr_assert_float_eq(b.tokens, 10, 1e-9, "a refund never fills past the capacity");
    bucket_retune(&b, 4, 2);
    cr_assert_float_eq(b.tokens, 4, 1e-9, "a smaller capacity clamps the level");
    bucket_retune(&b, 8, 2);
    cr_assert_float_eq(b.tokens, 4, 1e-9, "a larger one keeps it");
}

Test(limiter, keys_have_separate_buckets)
{
    limiter *l = limiter_new(100);
    cr_assert(limiter_take(l, "a", 2, 0.001, 2, NULL));
    cr_assert_not(limiter_take(l, "a", 2, 0.001, 1, NULL));
    cr_assert(limiter_take(l, "b", 2, 0.001, 1, NULL), "another key is not affected");
    cr_assert_eq(limiter_size(l), 2);
    limiter_refund(l, "a", 1);
    cr_assert(limiter_take(l, "a", 2, 0.001, 1, NULL));
    limiter_refund(l, "zzz", 1); /* an unknown key: nothing happens */
    cr_assert_eq(limiter_size(l), 2);
    limiter_free(l);
}

Test(limiter, lru_eviction_keeps_the_most_recent)
{
    limiter *l = limiter_new(3);
    /* capacity 1, a negligible refill: a drained key stays drained for the test */
    cr_assert(limiter_take(l, "a", 1, 1e-6, 1, NULL));
    cr_assert(limiter_take(l, "b", 1, 1e-6, 1, NULL));
    cr_assert(limiter_take(l, "c", 1, 1e-6, 1, NULL));
    cr_assert_not(limiter_take(l, "a", 1, 1e-6, 1, NULL), "a is drained, and now the newest");
    cr_assert(limiter_take(l, "d", 1, 1e-6, 1, NULL), "a fourth key evicts the oldest: b");
    cr_assert_eq(limiter_size(l), 3);
    cr_assert_not(limiter_take(l, "a", 1, 1e-6, 1, NULL), "a was kept");
    cr_assert_not(limiter_take(l, "d", 1, 1e-6, 1, NULL), "d was kept");
    cr_assert(limiter_take(l, "b", 1, 1e-6, 1, NULL), "b was forgotten: a full bucket again");
    cr_assert_eq(limiter_size(l), 3);
    cr_assert(limiter_take(l, "c", 1, 1e-6, 1, NULL), "c, the oldest, made room for b: full again");
    limiter_free(l);
}

Test(limiter, many_keys_stay_bounded)
{
    limiter *l = limiter_new(50);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "ip-%d", i);
        limiter_take(l, key, 5, 1, 1, NULL);
    }
    cr_assert_eq(limiter_size(l), 50);
    limiter_free(l);
}

Test(limiter, drain_never_refuses_and_never_goes_below_zero)
{
    limiter *l = limiter_new(10);
    rate_state st;
    /* 100 tokens/s, capacity 2: a debt of 998 would take ten seconds to repay */
    limiter_drain(l, "k", 2, 100, 1000);
    cr_assert_not(limiter_take(l, "k", 2, 100, 1, &st), "drained to zero");
    cr_assert_leq(st.retry_after, 0.011, "zero, not a debt: %f", st.retry_after);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    cr_assert(limiter_take(l, "k", 2, 100, 1, &st), "30 ms later it refilled from zero");
    /* a drain on a new key starts from a full bucket */
    limiter_drain(l, "fresh", 5, 0.001, 2);
    cr_assert(limiter_take(l, "fresh", 5, 0.001, 3, NULL));
    cr_assert_not(limiter_take(l, "fresh", 5, 0.001, 1, NULL));
    limiter_free(l);
}

typedef struct race {
    limiter *l;
    locked_bucket *lb;
    atomic_int allowed;
} race;

static void *hammer(void *arg)
{
    race *r = arg;
    for (int i = 0; i < 10000; i++) {
        if (r->l ? limiter_take(r->l, "shared", 100, 10, 1, NULL)
                 : locked_bucket_take(r->lb, 100, 10, 1, NULL)) {
            atomic_fetch_add(&r->allowed, 1);
        }
    }
    return NULL;
}

static void run_race(race *r)
{
    int64_t t0 = clock_mono_ns();
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, r), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    double elapsed = (double)(clock_mono_ns() - t0) / 1e9;
    int got = atomic_load(&r->allowed);
    /* 40000 attempts on one bucket: at most the capacity plus the refill of the elapsed time */
    cr_assert_leq(got, 100 + 10 * elapsed + 1, "%d allowed in %.3f s", got, elapsed);
    cr_assert_geq(got, 100, "the full bucket is available: %d", got);
}

Test(limiter, concurrent_takes_never_exceed_capacity_plus_refill)
{
    race r = {.l = limiter_new(16)};
    run_race(&r);
    cr_assert_eq(limiter_size(r.l), 1);
    limiter_free(r.l);
}

Test(locked_bucket, concurrent_takes_never_exceed_capacity_plus_refill)
{
    locked_bucket lb;
    locked_bucket_init(&lb, 100, 10);
    race r = {.lb = &lb};
    run_race(&r);
    locked_bucket_refund(&lb, 1000);
    cr_assert_float_eq(lb.b.tokens, 100, 1e-9);
}

/* test_limit.c - token buckets and the LRU table of buckets (src/limit): refill arithmetic on a
 * controlled clock, the cost cap, refunds, LRU eviction, the never-below-zero drain of refused
 * calls (tools.md §1.10), and a multithreaded run that must never hand out more than the
 * capacity plus what the elapsed time refilled (and exactly the capacity with no refill).
 * Also: the tenants' shares of maxConcurrency (share.c), rateTiers and toolCosts in team.json
 * (policy.c) and the key-then-tenant charge of the dispatcher. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "core/clock.h"
#include "limit/bucket.h"
#include "limit/policy.h"
#include "limit/share.h"
#include "tools/dispatch.h"
#include "tools/registry.h"

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

/* ---- exact counts under threads (LIMITS): with a refill of ~0, N threads x M takes on a bucket
 * of capacity C hand out exactly C tokens, no more (no race) and no fewer (no lost update) ---- */

typedef struct exact {
    limiter *l;
    const char *key;
    atomic_int allowed;
} exact;

static void *take_many(void *arg)
{
    exact *x = arg;
    for (int i = 0; i < 2000; i++) {
        if (limiter_take(x->l, x->key, 1234, 1e-9, 1, NULL)) {
            atomic_fetch_add(&x->allowed, 1);
        }
    }
    return NULL;
}

Test(limiter, threads_take_exactly_the_capacity)
{
    limiter *l = limiter_new(10000);
    exact x = {.l = l, .key = "tenant-a"};
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(pthread_create(&th[i], NULL, take_many, &x), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
    }
    cr_assert_eq(atomic_load(&x.allowed), 1234, "8 x 2000 takes on capacity 1234: %d passed",
                 atomic_load(&x.allowed));
    limiter_free(l);
}

/* ---- the tenants' shares of maxConcurrency (src/limit/share.c) ---- */

Test(share, arithmetic)
{
    cr_assert_eq(share_limit(32, 1, 0), 32, "alone: the whole");
    cr_assert_eq(share_limit(32, 0, 0), 32);
    cr_assert_eq(share_limit(32, 2, 0), 16);
    cr_assert_eq(share_limit(32, 3, 0), 11, "ceil(32/3)");
    cr_assert_eq(share_limit(5, 2, 0), 3, "ceil(5/2)");
    cr_assert_eq(share_limit(1, 4, 0), 1, "never below one slot");
    cr_assert_eq(share_limit(32, 40, 0), 1);
    cr_assert_eq(share_limit(32, 3, 4), 4, "a tenant's own limit wins");
    cr_assert_eq(share_limit(32, 1, 2), 2, "even alone");
}

Test(share, a_lone_tenant_gets_the_whole_and_shares_it_under_contention)
{
    share_table *t = share_new(100);
    share_slot *a[8] = {0}, *b[4] = {0}, *s = NULL;
    int lim = 0;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(share_acquire(t, "a", 4, 0, &a[i], &lim), SHARE_OK, "slot %d", i);
        cr_assert_eq(lim, 4);
    }
    cr_assert_eq(share_acquire(t, "a", 4, 0, &s, &lim), SHARE_FULL, "maxConcurrency is held");
    cr_assert_null(s);
    cr_assert_eq(share_acquire(t, "b", 4, 0, &s, &lim), SHARE_FULL, "for everyone");
    cr_assert_eq(share_in_flight(t), 4);
    cr_assert_eq(share_active(t), 1);
    /* one of a's calls ends: b (2 active now) gets a slot of its share of 2 */
    share_release(t, a[3]);
    cr_assert_eq(share_acquire(t, "b", 4, 0, &b[0], &lim), SHARE_OK);
    cr_assert_eq(lim, 2, "ceil(4/2)");
    cr_assert_eq(share_active(t), 2);
    /* another of a's calls ends: a still holds 2, all of its share while b runs */
    share_release(t, a[2]);
    cr_assert_eq(share_in_flight(t), 3);
    cr_assert_eq(share_acquire(t, "a", 4, 0, &s, &lim), SHARE_TENANT_FULL,
                 "a holds 2 of its share of 2 while b runs");
    cr_assert_eq(lim, 2);
    cr_assert_null(s);
    cr_assert_eq(share_acquire(t, "b", 4, 0, &b[1], &lim), SHARE_OK, "b's second slot");
    cr_assert_eq(share_acquire(t, "b", 4, 0, &s, &lim), SHARE_FULL);
    /* b finishes: a is alone again and may take the whole */
    share_release(t, b[0]);
    share_release(t, b[1]);
    cr_assert_eq(share_active(t), 1);
    cr_assert_eq(share_acquire(t, "a", 4, 0, &a[2], &lim), SHARE_OK);
    cr_assert_eq(share_acquire(t, "a", 4, 0, &a[3], &lim), SHARE_OK);
    cr_assert_eq(lim, 4);
    for (int i = 0; i < 4; i++) {
        share_release(t, a[i]);
    }
    cr_assert_eq(share_in_flight(t), 0);
    cr_assert_eq(share_active(t), 0);
    share_release(t, NULL); /* nothing held: nothing happens */
    share_free(t);
}

Test(share, three_tenants_split_evenly_and_own_limits_hold)
{
    share_table *t = share_new(100);
    share_slot *s[16] = {0};
    int n = 0, lim = 0;
    cr_assert_eq(share_acquire(t, "a", 9, 0, &s[n++], &lim), SHARE_OK);
    cr_assert_eq(share_acquire(t, "b", 9, 0, &s[n++], &lim), SHARE_OK);
    cr_assert_eq(share_acquire(t, "c", 9, 0, &s[n++], &lim), SHARE_OK);
    cr_assert_eq(lim, 3, "ceil(9/3) with a, b and c running");
    cr_assert_eq(share_acquire(t, "c", 9, 0, &s[n++], &lim), SHARE_OK);
    cr_assert_eq(share_acquire(t, "c", 9, 0, &s[n++], &lim), SHARE_OK);
    share_slot *x = NULL;
    cr_assert_eq(share_acquire(t, "c", 9, 0, &x, &lim), SHARE_TENANT_FULL);
    cr_assert_eq(share_in_flight(t), 5, "a refusal holds nothing");
    /* a tenant with its own max_concurrency */
    cr_assert_eq(share_acquire(t, "d", 9, 1, &s[n++], &lim), SHARE_OK);
    cr_assert_eq(share_acquire(t, "d", 9, 1, &x, &lim), SHARE_TENANT_FULL);
    cr_assert_eq(lim, 1);
    for (int i = 0; i < n; i++) {
        share_release(t, s[i]);
    }
    cr_assert_eq(share_in_flight(t), 0);
    share_free(t);
}

Test(share, lru_forgets_idle_tenants_never_running_ones)
{
    share_table *t = share_new(3);
    share_slot *a = NULL, *s = NULL;
    cr_assert_eq(share_acquire(t, "a", 100, 0, &a, NULL), SHARE_OK); /* a keeps running */
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        cr_assert_eq(share_acquire(t, name, 100, 0, &s, NULL), SHARE_OK, "%s", name);
        share_release(t, s);
        cr_assert_leq(share_size(t), 3);
    }
    cr_assert_eq(share_size(t), 3);
    cr_assert_eq(share_active(t), 1);
    /* a, though the least recently used, was never evicted: its slot is still counted */
    share_release(t, a);
    cr_assert_eq(share_in_flight(t), 0);
    cr_assert_eq(share_active(t), 0);
    /* a table full of running tenants refuses a new one rather than grow */
    share_slot *r[3];
    cr_assert_eq(share_acquire(t, "x", 100, 0, &r[0], NULL), SHARE_OK);
    cr_assert_eq(share_acquire(t, "y", 100, 0, &r[1], NULL), SHARE_OK);
    cr_assert_eq(share_acquire(t, "z", 100, 0, &r[2], NULL), SHARE_OK);
    cr_assert_eq(share_acquire(t, "w", 100, 0, &s, NULL), SHARE_FULL);
    cr_assert_eq(share_size(t), 3);
    for (int i = 0; i < 3; i++) {
        share_release(t, r[i]);
    }
    cr_assert_eq(share_acquire(t, "w", 100, 0, &s, NULL), SHARE_OK, "room once one is idle");
    share_release(t, s);
    share_free(t);
}

typedef struct share_race {
    share_table *t;
    atomic_int held, max_held, next_id;
} share_race;

static void *share_hammer(void *arg)
{
    share_race *r = arg;
    char tenant[8];
    snprintf(tenant, sizeof tenant, "t%d", atomic_fetch_add(&r->next_id, 1) % 3);
    for (int i = 0; i < 5000; i++) {
        share_slot *s = NULL;
        if (share_acquire(r->t, tenant, 4, 0, &s, NULL) == SHARE_OK) {
            /* counted after the acquire and uncounted before the release: never above what
               the table holds */
            int h = atomic_fetch_add(&r->held, 1) + 1;
            int m = atomic_load(&r->max_held);
            while (h > m && !atomic_compare_exchange_weak(&r->max_held, &m, h)) {
            }
            atomic_fetch_sub(&r->held, 1);
            share_release(r->t, s);
        }
    }
    return NULL;
}

Test(share, threads_never_exceed_the_total_and_leave_nothing_held)
{
    share_race r = {.t = share_new(16)};
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(pthread_create(&th[i], NULL, share_hammer, &r), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
    }
    cr_assert_leq(atomic_load(&r.max_held), 4, "at most maxConcurrency at once: %d",
                  atomic_load(&r.max_held));
    cr_assert_geq(atomic_load(&r.max_held), 1);
    cr_assert_eq(share_in_flight(r.t), 0, "every slot came back");
    cr_assert_eq(share_active(r.t), 0);
    cr_assert_eq(share_size(r.t), 3);
    share_free(r.t);
}

/* ---- rateTiers and toolCosts in team.json (src/limit/policy.c), and the charge of a call:
 * key bucket, then tenant bucket (tools/dispatch.c) ---- */

static char cfg_dir[64];

static void cfg_init(void)
{
    cr_assert(registry_init(), "the tool table installs the catalog toolCosts is checked against");
    snprintf(cfg_dir, sizeof cfg_dir, "/tmp/ctxd-limit-XXXXXX");
    cr_assert_not_null(mkdtemp(cfg_dir));
}

static void cfg_fini(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cfg_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", cfg_dir);
    }
}

TestSuite(policy, .init = cfg_init, .fini = cfg_fini, .timeout = 20);

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* load team.json with these members (no braces); problems into p (caller releases) */
static config *load_cfg(const char *members, config_problems *p)
{
    char path[128];
    snprintf(path, sizeof path, "%s/team.json", cfg_dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "{%s}", members);
    fclose(f);
    config_problems_init(p);
    return config_load(path, false, p);
}

static config *load_good(const char *members)
{
    config_problems p;
    config *c = load_cfg(members, &p);
    cr_assert_not_null(c, "refused: %s", p.text.ptr ? p.text.ptr : "");
    config_problems_release(&p);
    return c;
}

/* the config is refused and its problems contain each of the lines given (NULL-terminated) */
static void load_bad(const char *members, int count, ...)
{
    config_problems p;
    config *c = load_cfg(members, &p);
    cr_assert_null(c, "accepted: %s", members);
    const char *text = p.text.ptr ? p.text.ptr : "";
    cr_assert_eq(p.count, count, "%d problems, not %d:\n%s", p.count, count, text);
    va_list ap;
    va_start(ap, count);
    for (const char *want; (want = va_arg(ap, const char *));) {
        cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
    }
    va_end(ap);
    config_problems_release(&p);
}

Test(policy, the_default_tier_comes_from_key_rps_and_burst)
{
    config *c = load_good("\"keyRps\": 3, \"keyRateBurst\": 7, \"maxRps\": 40, \"rateBurst\": 80");
    cr_assert_eq(c->n_tiers, 1);
    const cfg_tier *d = limit_tier(c, "default");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->name, "default");
    cr_assert_float_eq(d->rps, 3, 1e-9);
    cr_assert_float_eq(d->burst, 7, 1e-9);
    cr_assert_float_eq(d->tenant_rps, 40, 1e-9, "tenantRps defaults to maxRps");
    cr_assert_float_eq(d->tenant_burst, 80, 1e-9, "tenantBurst defaults to rateBurst");
    cr_assert_null(limit_tier(c, "gold"));
    cr_assert_eq(limit_tier_for(c, "gold"), d, "an unknown tier is served as the default");
    cr_assert_eq(limit_tier_for(c, NULL), d);
    config_unref(c);
}

Test(policy, tiers_are_read_and_default_may_be_overridden)
{
    config *c = load_good(
        "\"maxRps\": 40, \"rateBurst\": 80, \"rateTiers\": {"
        "\"gold\": {\"rps\": 50, \"burst\": 500, \"tenantRps\": 100, \"tenantBurst\": 1000},"
        "\"small\": {\"rps\": 0.5, \"burst\": 5},"
        "\"default\": {\"rps\": 2, \"burst\": 20, \"tenantBurst\": 30}},"
        "\"tokens\": [{\"id\": \"t\", \"sha256Hex\": \"" HEX64 "\", \"tier\": \"gold\"},"
        "{\"id\": \"u\", \"sha256Hex\": \"" HEX64 "\"}]");
    cr_assert_eq(c->n_tiers, 3);
    const cfg_tier *g = limit_tier(c, "gold");
    cr_assert_not_null(g);
    cr_assert_float_eq(g->rps, 50, 1e-9);
    cr_assert_float_eq(g->burst, 500, 1e-9);
    cr_assert_float_eq(g->tenant_rps, 100, 1e-9);
    cr_assert_float_eq(g->tenant_burst, 1000, 1e-9);
    const cfg_tier *s = limit_tier(c, "small");
    cr_assert_float_eq(s->rps, 0.5, 1e-9);
    cr_assert_float_eq(s->tenant_rps, 40, 1e-9);
    cr_assert_float_eq(s->tenant_burst, 80, 1e-9);
    const cfg_tier *d = limit_tier_for(c, "default");
    cr_assert_eq(d, &c->tiers[0]);
    cr_assert_float_eq(d->rps, 2, 1e-9);
    cr_assert_float_eq(d->burst, 20, 1e-9);
    cr_assert_float_eq(d->tenant_rps, 40, 1e-9);
    cr_assert_float_eq(d->tenant_burst, 30, 1e-9);
    cr_assert_str_eq(c->tokens[0].tier, "gold");
    cr_assert_null(c->tokens[1].tier);
    char names[128];
    limit_tier_names(c, names, sizeof names);
    cr_assert(strstr(names, "default") && strstr(names, "gold") && strstr(names, "small"), "%s",
              names);
    config_unref(c);
}

Test(policy, bad_tiers_each_reported_with_their_field)
{
    load_bad("\"rateTiers\": {\"gold\": {\"rps\": 0, \"burst\": 10}}", 1,
             "rateTiers.gold.rps: must be a number > 0", NULL);
    load_bad("\"rateTiers\": {"
             "\"gold\": {\"rps\": -1, \"burst\": 0.5},"
             "\"Bad Name\": {\"rps\": 1, \"burst\": 1},"
             "\"_x\": {\"rps\": 1, \"burst\": 1},"
             "\"silver\": 5,"
             "\"bronze\": {\"rps\": \"fast\"},"
             "\"iron\": {\"rps\": 1, \"burst\": 2, \"brust\": 3, \"tenantRps\": 0, "
             "\"tenantBurst\": 0}}",
             10, "rateTiers.gold.rps: must be a number > 0",
             "rateTiers.gold.burst: must be a number >= 1", "rateTiers.Bad Name: not a tier name",
             "rateTiers._x: not a tier name", "rateTiers.silver: must be an object",
             "rateTiers.bronze.rps: must be a number > 0, not a string",
             "rateTiers.bronze.burst: required", "rateTiers.iron.brust: unknown field",
             "rateTiers.iron.tenantRps: must be a number > 0",
             "rateTiers.iron.tenantBurst: must be a number >= 1", NULL);
    load_bad("\"rateTiers\": [1]", 1, "rateTiers: must be an object", NULL);
    load_bad("\"rateTiers\": {\"abcdefghijabcdefghijabcdefghijabc\": {\"rps\": 1, \"burst\": 1}}",
             1, "not a tier name", NULL);
}

Test(policy, a_token_tier_must_be_configured)
{
    load_bad("\"rateTiers\": {\"gold\": {\"rps\": 1, \"burst\": 1}}, \"tokens\": ["
             "{\"id\": \"t\", \"sha256Hex\": \"" HEX64 "\", \"tier\": \"platinum\"},"
             "{\"id\": \"u\", \"sha256Hex\": \"" HEX64 "\", \"tier\": 3}]",
             2, "tokens[0].tier: must name a tier of rateTiers (default, gold)",
             "tokens[1].tier: must name a tier of rateTiers", NULL);
    /* "default" always exists */
    config *c = load_good("\"tokens\": [{\"id\": \"t\", \"sha256Hex\": \"" HEX64
                          "\", \"tier\": \"default\"}]");
    cr_assert_str_eq(c->tokens[0].tier, "default");
    config_unref(c);
}

Test(policy, bad_tool_costs_each_reported)
{
    load_bad("\"toolCosts\": {\"ctx_nope\": 3, \"ctx_symbol\": 2, \"ctx_tree\": 1001, "
             "\"ctx_glob\": -1, \"ctx_read\": 1.5, \"ctx_graph:bild\": 10, \"ctx_tree:deep\": 2, "
             "\"ctx_search:\": 1, \":build\": 1}",
             9, "toolCosts.ctx_nope: unknown tool", "toolCosts.ctx_symbol: a deprecated alias",
             "toolCosts.ctx_tree: must be an integer between 0 and 1000",
             "toolCosts.ctx_glob: must be an integer between 0 and 1000",
             "toolCosts.ctx_read: must be an integer between 0 and 1000",
             "toolCosts.ctx_graph:bild: ctx_graph has no action 'bild' (actions: status,",
             "toolCosts.ctx_tree:deep: ctx_tree takes no action argument",
             "toolCosts.ctx_search:: ctx_search has no action ''", "toolCosts.:build: unknown tool",
             NULL);
    load_bad("\"toolCosts\": 10", 1, "toolCosts: must be an object", NULL);
}

static size_t tool_no(const char *name)
{
    const tool_def *d = registry_find(name);
    cr_assert_not_null(d, "%s", name);
    return registry_index(d);
}

Test(policy, tool_costs_override_tool_then_action)
{
    cr_assert(registry_init());
    config *c = load_good("\"toolCosts\": {\"ctx_tree\": 5, \"ctx_graph\": 3, "
                          "\"ctx_graph:build\": 20, \"ctx_graph:status\": 0, "
                          "\"ctx_index:build-full\": 50, \"ctx_search:regex\": 4}");
    size_t tree = tool_no("ctx_tree"), graph = tool_no("ctx_graph"), idx = tool_no("ctx_index"),
           read = tool_no("ctx_read"), search = tool_no("ctx_search");
    cr_assert_eq(limit_tool_cost(c, tree, NULL, 1), 5, "the tool's own entry");
    cr_assert_eq(limit_tool_cost(c, graph, "build", 10), 20, "tool:action first");
    cr_assert_eq(limit_tool_cost(c, graph, "status", 1), 0, "a free action");
    cr_assert_eq(limit_tool_cost(c, graph, "related", 2), 3, "then the tool's entry");
    cr_assert_eq(limit_tool_cost(c, graph, NULL, 2), 3);
    cr_assert_eq(limit_tool_cost(c, idx, "build-full", 10), 50);
    cr_assert_eq(limit_tool_cost(c, idx, "build", 10), 10, "then the table (needs) cost");
    cr_assert_eq(limit_tool_cost(c, idx, "status", 1), 1);
    cr_assert_eq(limit_tool_cost(c, read, NULL, 1), 1, "not configured: the table");
    cr_assert_eq(limit_tool_cost(c, search, "regex", 1), 4);
    cr_assert_eq(limit_tool_cost(c, search, "bm25", 1), 1);
    cr_assert_eq(limit_tool_cost(c, 100000, "build", 7), 7, "out of the table: unchanged");
    config_unref(c);
}

/* the default costs of the tool table match tools.md §0: reads 1, graph queries 2, builds 10 */
Test(policy, default_costs_match_the_contract)
{
    cr_assert(registry_init());
    struct {
        const char *tool, *args;
        int cost;
    } cases[] = {
        {"ctx_read", "{}", 1},
        {"ctx_tree", "{}", 1},
        {"ctx_search", "{}", 1},
        {"ctx_search", "{\"action\":\"find_related\"}", 2},
        {"ctx_search", "{\"action\":\"reindex\"}", 10},
        {"ctx_graph", "{\"action\":\"related\"}", 2},
        {"ctx_graph", "{\"action\":\"status\"}", 1},
        {"ctx_graph", "{\"action\":\"build\"}", 10},
        {"ctx_graph", "{\"action\":\"enrich\"}", 10},
        {"ctx_impact", "{\"action\":\"analyze\"}", 2},
        {"ctx_impact", "{\"action\":\"update\"}", 10},
        {"ctx_index", "{\"action\":\"status\"}", 1},
        {"ctx_index", "{\"action\":\"build\"}", 10},
        {"ctx_index", "{\"action\":\"build-full\"}", 10},
        {"ctx_callgraph", "{}", 2},
        {"ctx_overview", "{}", 2},
        {"index_folder", "{}", 10},
        {"search_symbols", "{}", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tool_def *d = registry_find(cases[i].tool);
        cr_assert_not_null(d);
        json_t *args = json_loads(cases[i].args, 0, NULL);
        scope_set need = d->scopes;
        int cost = d->cost;
        if (d->needs) {
            d->needs(args, &need, &cost);
        }
        cr_assert_eq(cost, cases[i].cost, "%s %s costs %d", cases[i].tool, cases[i].args, cost);
        json_decref(args);
    }
}

static principal who_of(const char *token_id, const char *tenant, const char *tier)
{
    principal p = {.token_id = token_id, .tenant_id = tenant, .tier = tier, .scopes = 0};
    return p;
}

Test(policy, tenant_bucket_refuses_when_two_keys_together_pass_it)
{
    dispatch_setup();
    /* keys of 10, a tenant bucket of 15, refills too slow to matter */
    config *c = load_good("\"rateTiers\": {\"t\": {\"rps\": 0.001, \"burst\": 10, "
                          "\"tenantRps\": 0.001, \"tenantBurst\": 15}}");
    principal a1 = who_of("a1", "acme", "t"), a2 = who_of("a2", "acme", "t"),
              b1 = who_of("b1", "beta", "t");
    rate_state st;
    const char *policy = NULL;
    for (int i = 0; i < 8; i++) {
        cr_assert(dispatch_charge(c, &a1, 1, &st, &policy), "a1 call %d", i);
        cr_assert_str_eq(policy, "key");
        cr_assert_float_eq(st.capacity, 10, 1e-9, "the served state is the key bucket's");
    }
    for (int i = 0; i < 7; i++) {
        cr_assert(dispatch_charge(c, &a2, 1, &st, &policy), "a2 call %d", i);
    }
    /* acme has spent 15: a2 (3 left in its own bucket) is refused by the tenant bucket */
    cr_assert_not(dispatch_charge(c, &a2, 1, &st, &policy));
    cr_assert_str_eq(policy, "tenant");
    cr_assert_float_eq(st.capacity, 15, 1e-9, "the refusal describes the tenant bucket");
    cr_assert_gt(st.retry_after, 100, "at 0.001/s");
    cr_assert_not(dispatch_charge(c, &a1, 1, &st, &policy));
    cr_assert_str_eq(policy, "tenant");
    /* another tenant is untouched */
    for (int i = 0; i < 10; i++) {
        cr_assert(dispatch_charge(c, &b1, 1, &st, &policy), "b1 call %d", i);
    }
    cr_assert_not(dispatch_charge(c, &b1, 1, &st, &policy));
    cr_assert_str_eq(policy, "key", "b1's own bucket is the one empty");
    config_unref(c);
}

Test(policy, a_tenant_refusal_gives_the_key_charge_back)
{
    dispatch_setup();
    config *c = load_good("\"rateTiers\": {\"t\": {\"rps\": 0.001, \"burst\": 10, "
                          "\"tenantRps\": 0.001, \"tenantBurst\": 4}}");
    principal a = who_of("a", "acme", "t"), b = who_of("b", "acme", "t");
    rate_state st;
    const char *policy;
    cr_assert(dispatch_charge(c, &b, 4, &st, &policy), "b empties the tenant bucket");
    for (int i = 0; i < 5; i++) {
        cr_assert_not(dispatch_charge(c, &a, 2, &st, &policy));
        cr_assert_str_eq(policy, "tenant");
    }
    /* a's key bucket still holds its 10 (seen through a tenant whose bucket is full) */
    principal a_elsewhere = who_of("a", "fresh", "t");
    cr_assert(dispatch_charge(c, &a_elsewhere, 4, &st, &policy), "%s", policy);
    cr_assert_float_eq(st.remaining, 6, 1e-3, "the refused charges were refunded");
    config_unref(c);
}

Test(policy, tiers_size_the_buckets_and_unknown_tiers_get_the_default)
{
    dispatch_setup();
    config *c = load_good("\"keyRps\": 0.001, \"keyRateBurst\": 3, \"rateTiers\": {"
                          "\"big\": {\"rps\": 0.001, \"burst\": 6}}");
    principal big = who_of("k1", "x", "big"), gone = who_of("k2", "y", "removed-tier"),
              none = who_of("k3", "z", NULL);
    rate_state st;
    const char *policy;
    int n = 0;
    while (n < 100 && dispatch_charge(c, &big, 1, &st, &policy)) {
        n++;
    }
    cr_assert_eq(n, 6);
    n = 0;
    while (n < 100 && dispatch_charge(c, &gone, 1, &st, &policy)) {
        n++;
    }
    cr_assert_eq(n, 3, "a tier not in the config is served as default");
    n = 0;
    while (n < 100 && dispatch_charge(c, &none, 1, &st, &policy)) {
        n++;
    }
    cr_assert_eq(n, 3);
    config_unref(c);
}

Test(policy, tenant_max_concurrency_recorded_in_the_snapshot)
{
    config *c = load_good("");
    cr_assert_eq(limit_tenant_max_concurrency(c, "acme"), 0, "none recorded");
    char id[16];
    /* sorted arrival (the store lists by id), past the first growth */
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "t%03d", i);
        limit_set_tenant_max_concurrency(c, id, i + 1);
    }
    /* out of order, an update, and a zero that records nothing */
    limit_set_tenant_max_concurrency(c, "a-first", 7);
    limit_set_tenant_max_concurrency(c, "t050", 3);
    limit_set_tenant_max_concurrency(c, "zero", 0);
    cr_assert_eq(c->n_tenants, 101);
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "t%03d", i);
        cr_assert_eq(limit_tenant_max_concurrency(c, id), i == 50 ? 3 : i + 1, "%s", id);
    }
    cr_assert_eq(limit_tenant_max_concurrency(c, "a-first"), 7);
    cr_assert_eq(limit_tenant_max_concurrency(c, "zero"), 0);
    cr_assert_eq(limit_tenant_max_concurrency(c, "t1000"), 0);
    for (size_t i = 1; i < c->n_tenants; i++) {
        cr_assert_lt(strcmp(c->tenants[i - 1].id, c->tenants[i].id), 0);
    }
    config_unref(c);
}

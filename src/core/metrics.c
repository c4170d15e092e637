/* metrics.c - the metrics registry (see metrics.h). */
#include "core/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

const double metrics_bounds[METRICS_NBOUNDS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                0.5,   1,    2.5,   5,    10,  30};
const double metrics_build_bounds[METRICS_BUILD_NBOUNDS] = {1, 5, 10, 30, 60, 120, 300, 600, 1800};

#define CODE_MIN 100
#define CODE_N 500 /* 100..599 */

/* routes: slot 0 is "unmatched"; others are claimed by compare-and-swap of the route pointer */
static _Atomic(const char *) routes[METRICS_MAX_ROUTES];
static atomic_ullong route_codes[METRICS_MAX_ROUTES][CODE_N];
static metrics_hist route_hist[METRICS_MAX_ROUTES];
static metrics_hist tool_hist[METRICS_MAX_TOOLS];
static atomic_ullong rate_limited[METRICS_POLICY__COUNT];
static atomic_ullong auth_failures[METRICS_AUTH__COUNT];
static atomic_llong sse_open[METRICS_SSE__COUNT];

/* event kinds: appended under kind_lock, read without it up to kinds_n (release/acquire) */
static pthread_mutex_t kind_lock = PTHREAD_MUTEX_INITIALIZER;
static char kinds[METRICS_MAX_KINDS][METRICS_KIND_MAX + 1];
static atomic_size_t kinds_n;
static atomic_ullong kind_counts[METRICS_MAX_KINDS];

static atomic_ullong build_buckets[METRICS_BUILD_NBOUNDS + 1];
static atomic_ullong build_sum_ms;
static atomic_ullong sync_ok, sync_failed;

static const char *const policy_names[METRICS_POLICY__COUNT] = {
    "global", "ip", "key", "tenant", "concurrency", "tenant-concurrency"};
static const char *const auth_names[METRICS_AUTH__COUNT] = {"missing", "invalid", "conflict"};
static const char *const sse_names[METRICS_SSE__COUNT] = {"events", "mcp"};

static void hist_observe(metrics_hist *h, int64_t ns)
{
    if (ns < 0) {
        ns = 0;
    }
    double s = (double)ns / 1e9;
    size_t b = 0;
    while (b < METRICS_NBOUNDS && s > metrics_bounds[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (unsigned long long)ns, memory_order_relaxed);
}

static size_t route_slot(const char *route)
{
    if (!route) {
        return 0;
    }
    for (size_t i = 1; i < METRICS_MAX_ROUTES; i++) {
        const char *cur = atomic_load_explicit(&routes[i], memory_order_acquire);
        if (!cur) {
            const char *expect = NULL;
            if (atomic_compare_exchange_strong(&routes[i], &expect, route)) {
                return i;
            }
            cur = expect; /* another thread claimed it meanwhile */
        }
        if (cur == route || strcmp(cur, route) == 0) {
            return i;
        }
    }
    return 0; /* more templates than slots: counted as unmatched */
}

void metrics_http_request(const char *route, int code, int64_t duration_ns)
{
    size_t i = route_slot(route);
    if (code >= CODE_MIN && code < CODE_MIN + CODE_N) {
        atomic_fetch_add_explicit(&route_codes[i][code - CODE_MIN], 1, memory_order_relaxed);
    }
    hist_observe(&route_hist[i], duration_ns);
}

void metrics_tool_duration(size_t tool_index, int64_t duration_ns)
{
    if (tool_index < METRICS_MAX_TOOLS) {
        hist_observe(&tool_hist[tool_index], duration_ns);
    }
}

void metrics_rate_limited(const char *policy)
{
    for (size_t p = 0; policy && p < METRICS_POLICY__COUNT; p++) {
        if (strcmp(policy, policy_names[p]) == 0) {
            atomic_fetch_add_explicit(&rate_limited[p], 1, memory_order_relaxed);
            return;
        }
    }
}

void metrics_auth_failure(metrics_auth_reason why)
{
    if ((unsigned)why < METRICS_AUTH__COUNT) {
        atomic_fetch_add_explicit(&auth_failures[why], 1, memory_order_relaxed);
    }
}

static atomic_llong inflight;

void metrics_inflight_add(int delta)
{
    atomic_fetch_add_explicit(&inflight, delta, memory_order_relaxed);
}

int64_t metrics_inflight(void)
{
    int64_t v = (int64_t)atomic_load(&inflight);
    return v < 0 ? 0 : v;
}

void metrics_sse_add(metrics_sse_kind kind, int delta)
{
    if ((unsigned)kind < METRICS_SSE__COUNT) {
        atomic_fetch_add_explicit(&sse_open[kind], delta, memory_order_relaxed);
    }
}

void metrics_event_emitted(const char *kind)
{
    if (!kind || !kind[0] || strlen(kind) > METRICS_KIND_MAX) {
        kind = "other";
    }
    size_t n = atomic_load_explicit(&kinds_n, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kinds[i], kind) == 0) {
            atomic_fetch_add_explicit(&kind_counts[i], 1, memory_order_relaxed);
            return;
        }
    }
    pthread_mutex_lock(&kind_lock);
    n = atomic_load_explicit(&kinds_n, memory_order_relaxed);
    size_t i = 0;
    while (i < n && strcmp(kinds[i], kind) != 0) {
        i++;
    }
    if (i == n && n < METRICS_MAX_KINDS - 1) {
        snprintf(kinds[n], sizeof kinds[n], "%s", kind);
        atomic_store_explicit(&kinds_n, n + 1, memory_order_release);
    } else if (i == n) {
        /* the table is full: the last slot is "other" */
        i = METRICS_MAX_KINDS - 1;
        if (n < METRICS_MAX_KINDS) {
            snprintf(kinds[i], sizeof kinds[i], "other");
            atomic_store_explicit(&kinds_n, (size_t)METRICS_MAX_KINDS, memory_order_release);
        }
    }
    pthread_mutex_unlock(&kind_lock);
    atomic_fetch_add_explicit(&kind_counts[i], 1, memory_order_relaxed);
}

void metrics_index_build(double seconds)
{
    if (seconds < 0) {
        seconds = 0;
    }
    size_t b = 0;
    while (b < METRICS_BUILD_NBOUNDS && seconds > metrics_build_bounds[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&build_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&build_sum_ms, (unsigned long long)(seconds * 1000.0),
                              memory_order_relaxed);
}

void metrics_sync_result(bool ok)
{
    atomic_fetch_add_explicit(ok ? &sync_ok : &sync_failed, 1, memory_order_relaxed);
}

const char *metrics_label_policy(metrics_policy p)
{
    return (unsigned)p < METRICS_POLICY__COUNT ? policy_names[p] : "?";
}

const char *metrics_label_auth(metrics_auth_reason r)
{
    return (unsigned)r < METRICS_AUTH__COUNT ? auth_names[r] : "?";
}

const char *metrics_label_sse(metrics_sse_kind k)
{
    return (unsigned)k < METRICS_SSE__COUNT ? sse_names[k] : "?";
}

size_t metrics_route_count(void)
{
    size_t n = 1;
    while (n < METRICS_MAX_ROUTES && atomic_load_explicit(&routes[n], memory_order_acquire)) {
        n++;
    }
    return n;
}

const char *metrics_route_name(size_t i)
{
    const char *r = i > 0 && i < METRICS_MAX_ROUTES
                        ? atomic_load_explicit(&routes[i], memory_order_acquire)
                        : NULL;
    return r ? r : "unmatched";
}

uint64_t metrics_route_code_count(size_t i, int code)
{
    if (i >= METRICS_MAX_ROUTES || code < CODE_MIN || code >= CODE_MIN + CODE_N) {
        return 0;
    }
    return atomic_load_explicit(&route_codes[i][code - CODE_MIN], memory_order_relaxed);
}

const metrics_hist *metrics_route_hist(size_t i)
{
    return i < METRICS_MAX_ROUTES ? &route_hist[i] : NULL;
}

const metrics_hist *metrics_tool_hist(size_t tool_index)
{
    return tool_index < METRICS_MAX_TOOLS ? &tool_hist[tool_index] : NULL;
}

uint64_t metrics_rate_limited_count(metrics_policy p)
{
    return (unsigned)p < METRICS_POLICY__COUNT ? atomic_load(&rate_limited[p]) : 0;
}

uint64_t metrics_auth_failure_count(metrics_auth_reason r)
{
    return (unsigned)r < METRICS_AUTH__COUNT ? atomic_load(&auth_failures[r]) : 0;
}

int64_t metrics_sse_open(metrics_sse_kind k)
{
    int64_t v = (unsigned)k < METRICS_SSE__COUNT ? (int64_t)atomic_load(&sse_open[k]) : 0;
    return v < 0 ? 0 : v;
}

size_t metrics_event_kind_count(void)
{
    return atomic_load_explicit(&kinds_n, memory_order_acquire);
}

const char *metrics_event_kind(size_t i)
{
    return i < metrics_event_kind_count() ? kinds[i] : "";
}

uint64_t metrics_event_count(size_t i)
{
    return i < METRICS_MAX_KINDS ? atomic_load(&kind_counts[i]) : 0;
}

void metrics_build_hist(uint64_t *buckets, double *sum, uint64_t *count)
{
    uint64_t n = 0;
    for (size_t b = 0; b <= METRICS_BUILD_NBOUNDS; b++) {
        buckets[b] = atomic_load(&build_buckets[b]);
        n += buckets[b];
    }
    *sum = (double)atomic_load(&build_sum_ms) / 1000.0;
    *count = n;
}

uint64_t metrics_sync_count(bool ok)
{
    return atomic_load(ok ? &sync_ok : &sync_failed);
}

uint64_t metrics_hist_count(const metrics_hist *h)
{
    uint64_t n = 0;
    for (size_t b = 0; b <= METRICS_NBOUNDS; b++) {
        n += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
    }
    return n;
}

double metrics_hist_sum(const metrics_hist *h)
{
    return (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}

int64_t metrics_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) {
        return 0;
    }
    long long size = 0, resident = 0;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return n == 2 && page > 0 ? (int64_t)resident * page : 0;
}

/* ---- usage table: open addressing over a key string, under one mutex ---- */

typedef struct usage_row {
    char *key; /* tenant \x1f workspace \x1f channel \x1f token \x1f tool, NULL when empty */
    size_t tenant_len;
    metrics_usage u;
} usage_row;

#define USAGE_SLOTS (METRICS_USAGE_MAX * 2)
static pthread_mutex_t usage_lock = PTHREAD_MUTEX_INITIALIZER;
static usage_row *usage;
static size_t usage_n;
static uint64_t usage_drops;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

void metrics_usage_add(const char *tenant, const char *workspace, const char *channel,
                       const char *token, size_t tool_index, const metrics_usage *u)
{
    char key[512];
    int kl = snprintf(key, sizeof key, "%s\x1f%s\x1f%s\x1f%s\x1f%zu", tenant ? tenant : "",
                      workspace ? workspace : "", channel ? channel : "default", token ? token : "",
                      tool_index);
    if (kl < 0 || (size_t)kl >= sizeof key || !tenant || tool_index >= METRICS_MAX_TOOLS) {
        return;
    }
    pthread_mutex_lock(&usage_lock);
    if (!usage) {
        usage = xcalloc(USAGE_SLOTS, sizeof *usage);
    }
    size_t i = (size_t)(fnv(key) % USAGE_SLOTS);
    while (usage[i].key && strcmp(usage[i].key, key) != 0) {
        i = (i + 1) % USAGE_SLOTS;
    }
    if (!usage[i].key) {
        if (usage_n >= METRICS_USAGE_MAX) {
            usage_drops++;
            pthread_mutex_unlock(&usage_lock);
            return;
        }
        usage[i].key = xstrdup(key);
        usage[i].tenant_len = strlen(tenant);
        usage_n++;
    }
    metrics_usage *r = &usage[i].u;
    r->calls += u->calls;
    r->bytes += u->bytes;
    r->tokens_original += u->tokens_original;
    r->tokens_sent += u->tokens_sent;
    r->known_hash_hits += u->known_hash_hits;
    r->truncations += u->truncations;
    if (u->last_ms > r->last_ms) {
        r->last_ms = u->last_ms;
    }
    pthread_mutex_unlock(&usage_lock);
}

void metrics_usage_each(const char *tenant, metrics_usage_fn fn, void *ctx)
{
    size_t tl = strlen(tenant);
    pthread_mutex_lock(&usage_lock);
    for (size_t i = 0; usage && i < USAGE_SLOTS; i++) {
        const usage_row *row = &usage[i];
        if (!row->key || row->tenant_len != tl || memcmp(row->key, tenant, tl) != 0) {
            continue;
        }
        /* split the key's fields (bounded: the key was at most 511 bytes) */
        char copy[512];
        snprintf(copy, sizeof copy, "%s", row->key + tl + 1);
        char *f[4] = {copy, NULL, NULL, NULL};
        for (int k = 1; k < 4; k++) {
            char *sep = f[k - 1] ? strchr(f[k - 1], '\x1f') : NULL;
            if (sep) {
                *sep = '\0';
                f[k] = sep + 1;
            }
        }
        if (!f[1] || !f[2] || !f[3]) {
            continue;
        }
        /* workspace, channel, token, tool index */
        size_t tool = (size_t)strtoull(f[3], NULL, 10);
        metrics_usage u = row->u;
        if (!fn(f[0], f[1], f[2], tool, &u, ctx)) {
            break;
        }
    }
    pthread_mutex_unlock(&usage_lock);
}

uint64_t metrics_usage_dropped(void)
{
    pthread_mutex_lock(&usage_lock);
    uint64_t d = usage_drops;
    pthread_mutex_unlock(&usage_lock);
    return d;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&usage_lock);
    for (size_t i = 0; usage && i < USAGE_SLOTS; i++) {
        xfree(usage[i].key);
    }
    xfree(usage);
    usage = NULL;
    usage_n = 0;
    usage_drops = 0;
    pthread_mutex_unlock(&usage_lock);
}

/* metrics.h - the process's metrics registry (issue 6; http-conventions.md §5).
 *
 * Counters and fixed-bucket histograms that the request path bumps with atomic adds only (no
 * lock, no allocation): HTTP requests by route template and status code, request and tool-call
 * latency, rate-limit refusals by policy, authentication failures by reason, open SSE streams by
 * kind, events emitted by kind, index builds and sync results. Label sets are bounded: routes
 * and event kinds are interned into small fixed tables (an overflow is counted under "other"),
 * tools are the tool table's indexes, status codes 100-599.
 *
 * The usage table (for ctx_metrics and ctx_cost) is the one part behind a mutex: per (tenant,
 * workspace, channel, token, tool) the calls, bytes and estimated tokens served, `known_hash`
 * hits and truncations, bounded to METRICS_USAGE_MAX keys (later keys are counted as dropped).
 * It is read per tenant only. In memory: a restart starts it from zero. */
#ifndef CTXD_CORE_METRICS_H
#define CTXD_CORE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* request and tool-call latency buckets, in seconds (http-conventions.md §5.3: 0.005 ... 30) */
#define METRICS_NBOUNDS 12
extern const double metrics_bounds[METRICS_NBOUNDS];
/* index build duration buckets (1 ... 1800 s) */
#define METRICS_BUILD_NBOUNDS 9
extern const double metrics_build_bounds[METRICS_BUILD_NBOUNDS];

#define METRICS_MAX_ROUTES 64
#define METRICS_MAX_TOOLS 64
#define METRICS_MAX_KINDS 32
#define METRICS_KIND_MAX 48 /* bytes of an event kind label */
#define METRICS_USAGE_MAX 65536

/* a histogram: per-bucket (not cumulative) counts, the last one for +Inf, and the sum in ns */
typedef struct metrics_hist {
    atomic_ullong bucket[METRICS_NBOUNDS + 1];
    atomic_ullong sum_ns;
} metrics_hist;

typedef enum { METRICS_SSE_EVENTS, METRICS_SSE_MCP, METRICS_SSE__COUNT } metrics_sse_kind;

typedef enum {
    METRICS_POLICY_GLOBAL,
    METRICS_POLICY_IP,
    METRICS_POLICY_KEY,
    METRICS_POLICY_TENANT,
    METRICS_POLICY_CONCURRENCY,
    METRICS_POLICY_TENANT_CONCURRENCY,
    METRICS_POLICY__COUNT
} metrics_policy;

typedef enum {
    METRICS_AUTH_MISSING,
    METRICS_AUTH_INVALID,
    METRICS_AUTH_CONFLICT,
    METRICS_AUTH__COUNT
} metrics_auth_reason;

/* ---- recording (any thread) ---- */
/* one answered HTTP request: route is the matched template (a static string), NULL for none */
void metrics_http_request(const char *route, int code, int64_t duration_ns);
/* the run time of one admitted tool call (the tool table's index) */
void metrics_tool_duration(size_t tool_index, int64_t duration_ns);
/* a 429 by policy name ("global", "ip", "key", "tenant", "concurrency", "tenant-concurrency") */
void metrics_rate_limited(const char *policy);
void metrics_auth_failure(metrics_auth_reason why);
/* +1 when an admitted tool call starts running, -1 when it ends */
void metrics_inflight_add(int delta);
int64_t metrics_inflight(void);
/* +1 when a stream opens, -1 when it ends */
void metrics_sse_add(metrics_sse_kind kind, int delta);
/* one event appended to the bus (the EVENTS helper's events_emit calls it) */
void metrics_event_emitted(const char *kind);
/* one finished index build / one sync of a workspace */
void metrics_index_build(double seconds);
void metrics_sync_result(bool ok);

/* ---- reading (the renderers) ---- */
const char *metrics_label_policy(metrics_policy p);
const char *metrics_label_auth(metrics_auth_reason r);
const char *metrics_label_sse(metrics_sse_kind k);
/* the interned routes ("unmatched" for requests without one); the count */
size_t metrics_route_count(void);
const char *metrics_route_name(size_t i);
uint64_t metrics_route_code_count(size_t i, int code);
const metrics_hist *metrics_route_hist(size_t i);
const metrics_hist *metrics_tool_hist(size_t tool_index);
uint64_t metrics_rate_limited_count(metrics_policy p);
uint64_t metrics_auth_failure_count(metrics_auth_reason r);
int64_t metrics_sse_open(metrics_sse_kind k);
size_t metrics_event_kind_count(void);
const char *metrics_event_kind(size_t i);
uint64_t metrics_event_count(size_t i);
/* index builds: buckets (METRICS_BUILD_NBOUNDS + 1, per bucket), sum in seconds, count */
void metrics_build_hist(uint64_t *buckets, double *sum, uint64_t *count);
uint64_t metrics_sync_count(bool ok);
/* histogram totals */
uint64_t metrics_hist_count(const metrics_hist *h);
double metrics_hist_sum(const metrics_hist *h);

/* ---- per-caller usage (ctx_metrics, ctx_cost) ---- */
typedef struct metrics_usage {
    uint64_t calls;
    uint64_t bytes;           /* text bytes sent */
    uint64_t tokens_original; /* estimated tokens of what the tool read (tools.md §1.8) */
    uint64_t tokens_sent;     /* ceil(bytes / 4) */
    uint64_t known_hash_hits; /* files not resent because the caller proved it held them */
    uint64_t truncations;     /* outputs cut at maxOutputBytes */
    int64_t last_ms;          /* unix ms of the last call */
} metrics_usage;

void metrics_usage_add(const char *tenant, const char *workspace, const char *channel,
                       const char *token, size_t tool_index, const metrics_usage *u);
/* every usage row of tenant (only that tenant's); stop when fn returns false */
typedef bool (*metrics_usage_fn)(const char *workspace, const char *channel, const char *token,
                                 size_t tool_index, const metrics_usage *u, void *ctx);
void metrics_usage_each(const char *tenant, metrics_usage_fn fn, void *ctx);
uint64_t metrics_usage_dropped(void);

/* resident set size in bytes (0 when unknown) */
int64_t metrics_rss_bytes(void);
/* forget everything (tests) */
void metrics_reset(void);

#endif

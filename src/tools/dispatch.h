/* dispatch.h - the one path every tool call takes, from REST and from MCP alike.
 *
 * tool_dispatch() decides, in this order (tools.md §1.10): the tool exists (unknown_tool), the
 * caller holds its scopes for this action (scope_denied), the workspace resolves within the
 * caller's tenant (unknown_workspace), the arguments fit the schema (invalid_arguments), the
 * caller's key bucket and then its tenant's bucket have the call's cost (toolCosts, else the
 * tool table; rate_limited), a concurrency slot is free within maxConcurrency and the tenant's
 * share of it (concurrency_limited); then it runs the handler under the deadline and cancels the
 * work when the deadline passes (request_timeout). Refusals before the run charge 1 unit of
 * probing cost to the key and tenant buckets without refusing for it. Every outcome is counted
 * (metrics) and described in the result's audit fields; the transport writes the audit line when
 * its response is done. */
#ifndef CTXD_TOOLS_DISPATCH_H
#define CTXD_TOOLS_DISPATCH_H

#include <jansson.h>
#include <stdatomic.h>

#include "auth/auth.h"
#include "config/config.h"
#include "core/arena.h"
#include "limit/bucket.h"
#include "store/store.h"
#include "tools/tool.h"

typedef struct dispatch_req {
    const config *cfg;
    const principal *who;
    const char *name;
    json_t *args;                 /* borrowed; may be NULL (= {}) */
    const char *workspace_body;   /* REST body workspaceId */
    const char *workspace_header; /* x-leanctx-workspace / X-Workspace */
    const char *channel_body;
    const atomic_bool *cancel; /* set by the transport when the client goes away */
    arena *a;
    tool_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} dispatch_req;

typedef enum {
    OUTCOME_OK,
    OUTCOME_TOOL_ERROR,
    OUTCOME_DENIED,
    OUTCOME_RATE_LIMITED,
    OUTCOME_TIMEOUT,
    OUTCOME_ERROR,
    OUTCOME__COUNT
} dispatch_outcome;

typedef struct dispatch_res {
    err code;          /* ERR_OK: `out` holds the tool result (maybe isError) */
    char message[512]; /* the error sentence otherwise */
    tool_out out;
    scope_set needed; /* scope_denied: what the call needs */
    bool has_rate;    /* a key bucket was consulted: headers to send */
    rate_state rate;
    /* the bucket the headers describe: "key" (served), or the refusing policy: "key",
       "tenant", "concurrency", "tenant-concurrency" (rate.capacity = the tenant's share) */
    const char *rate_policy;
    dispatch_outcome outcome;
    /* audit fields */
    const char *tool;         /* as called */
    const char *workspace_id; /* resolved, or NULL */
    const char *channel_id;
    bool allowed;
    bool has_args;
    char args_md5[33];
    char args_hmac[65];
    /* quota (QUOTA): members the error body (REST) or the JSON-RPC error's data (MCP) adds,
       owned, NULL when none: quota_exceeded gives used_bytes, quota_bytes, requested_bytes */
    json_t *error_data;
} dispatch_res;

/* charge cost units outside a tool call (other authenticated requests cost 1,
 * http-conventions.md §1.1) to the caller's key bucket and then its tenant's bucket, sized by the
 * caller's tier; false when one is empty: *policy names it ("key" or "tenant") and st says for
 * how long. On success st is the key bucket's state and *policy "key". */
bool dispatch_charge(const config *c, const principal *who, int cost, rate_state *st,
                     const char **policy);

/* process-wide state: per-key and per-tenant buckets, per-tenant in-flight counts */
void dispatch_setup(void);
void dispatch_res_init(dispatch_res *r);
void dispatch_res_release(dispatch_res *r);
void tool_dispatch(const dispatch_req *req, dispatch_res *res);

/* calls so far per tool and outcome (the counters /v1/metrics will export, issue 6) */
uint64_t dispatch_count(size_t tool_index, dispatch_outcome o);

/* Append the result as a CallToolResult object (MCP's shape, also REST's `result`):
 * {"content":[{"type":"text","text":...}],"isError":..,"structuredContent":..}; extra, when
 * not NULL, is raw JSON members inserted before the closing brace (`"resultType":"complete"`). */
void dispatch_write_result(buf *out, const dispatch_res *res, const char *extra);

/* the channel id rule of tools.md §1.1 */
bool dispatch_channel_ok(const char *c);

/* EVENTS: the server's store, handed to every tool call as tool_call.st (serve.c sets it at
   start and clears it at shutdown; NULL: none) */
void dispatch_set_store(store *s);

#endif

/* tool.h - what a tool handler sees and produces, and the tool table's entry type.
 *
 * Tools know nothing of HTTP or MCP: they receive a tool_call (validated arguments, the
 * resolved workspace, the limits that apply, a deadline and a cancel flag) and fill a
 * tool_out (text for the model, optional structuredContent, isError). REST and MCP both reach
 * them only through tool_dispatch() (dispatch.h). */
#ifndef CTXD_TOOLS_TOOL_H
#define CTXD_TOOLS_TOOL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/scope.h"
#include "config/config.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "limit/bucket.h"
#include "store/store.h" /* EVENTS: tool_call.st */

typedef struct tool_def tool_def;

/* progress of a long call (MCP notifications/progress): done so far, total when known (< 0:
 * unknown), a short message */
typedef void (*tool_progress_fn)(void *ctx, double done, double total, const char *message);

typedef struct tool_call {
    const tool_def *def;
    const config *cfg;
    const cfg_workspace *ws;
    json_t *args;         /* validated; reserved keys removed */
    const char *token_id; /* the caller */
    const char *tenant_id;
    const char *channel_id; /* tools.md §1.1; "default" when none was given */
    arena *a;               /* request-lifetime memory */
    int64_t deadline_ns;    /* CLOCK_MONOTONIC */
    const atomic_bool *cancel;
    tool_progress_fn progress; /* NULL: nobody listens */
    void *progress_ctx;
    int64_t progress_last_ns;
    /* EVENTS: the server's store (dispatch_set_store), NULL when none */
    store *st;
    /* METRICS (issue 6): the caller's key bucket after this call's charge (ctx_metrics'
       rate-limit headroom); NULL when the call was not charged */
    const rate_state *rate;
} tool_call;

typedef struct tool_out {
    buf text;
    json_t *structured; /* may be NULL; owned */
    bool is_error;
    const char *error_code; /* tool-level code (tools.md §1.2) when is_error */
} tool_out;

/* the (scopes, cost) a call needs, from the entry and the call's action/flags (tools.md §1.10) */
typedef void (*tool_needs_fn)(const json_t *args, scope_set *scopes, int *cost);
typedef err (*tool_handler_fn)(tool_call *call, tool_out *out);

struct tool_def {
    const char *name;
    const char *title;
    const char *description;
    scope_set scopes; /* the base set; needs() may add */
    int cost;
    const char *schema_text; /* JSON Schema of the arguments */
    tool_needs_fn needs;     /* may be NULL */
    tool_handler_fn handler;
    bool read_only, destructive, idempotent;
    bool quick;     /* bounded work: may run on the connection thread (tools.def) */
    json_t *schema; /* parsed once at start (registry_init) */
};

/* helpers for handlers */
bool tool_expired(const tool_call *call);
/* an isError result: `ERROR: <message>` + structuredContent {error_code, message} */
err tool_fail(tool_out *out, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* report progress, at most every 250 ms (and never from two threads at once: call it from
 * the thread that runs the handler) */
void tool_progress(tool_call *call, double done, double total, const char *message);
/* cut text at the last whole line that fits max bytes, with a visible note (tools.md §1.5) */
void tool_cap_output(tool_out *out, size_t max);
/* argument accessors (arguments were validated against the schema, so types are right) */
const char *arg_str(const tool_call *call, const char *key, const char *def);
int64_t arg_int(const tool_call *call, const char *key, int64_t def);
double arg_num(const tool_call *call, const char *key, double def);
bool arg_bool(const tool_call *call, const char *key, bool def);
json_t *arg_get(const tool_call *call, const char *key);

#endif

/* api.h - the REST surface: the route table the HTTP server serves. */
#ifndef CTXD_API_API_H
#define CTXD_API_API_H

#include "http/http.h"
#include "tools/dispatch.h"

const route *api_routes(size_t *n);
/* a tool call made by an HTTP request (REST or MCP): the caller fills name, args and the
 * body's workspace/channel (and progress); this fills the rest from r (config snapshot,
 * caller, workspace header, cancel flag, arena), runs tool_dispatch, records the audit fields
 * and adds the RateLimit headers. res is initialized here; release it with
 * dispatch_res_release. */
void api_tool_call(http_req *r, dispatch_req *req, dispatch_res *res);
/* charge an authenticated request other than a tool call: 1 unit from the caller's key bucket
 * and its tenant's bucket. False when one is empty, after answering the 429 (policy "key" or
 * "tenant", Retry-After and RateLimit headers). */
bool api_charge_key(http_req *r);
/* the integer query parameter name (def when absent) into *out; false after answering 400 when it
   is not an integer between min and max */
bool api_query_int(http_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                   int64_t *out);

/* ---- METRICS (issue 6; metrics_api.c) ---- */
/* the store /v1/metrics reads tenants' storage from (NULL: none); before http_start */
void api_metrics_setup(store *s);
/* GET /v1/metrics[?format=prometheus] (scope audit; the text to `local` credentials only) */
void api_metrics(http_req *r);

/* ---- EVENTS (issue 6; events_api.c), scope events ---- */
/* GET /v1/events: SSE (http-conventions.md §3) */
void api_events_stream(http_req *r);
/* GET /v1/events/search?q=&limit= */
void api_events_search(http_req *r);
/* GET /v1/context/summary?channelId=&workspaceId=&limit= */
void api_context_summary(http_req *r);

/* ---- the admin API (issue 5, ADMIN; admin.c) ---- */
/* rebuild the server's config snapshot from team.json and the store (SIGHUP's path); false,
   with the problems logged, when it failed and the running snapshot stays */
typedef bool (*api_reload_fn)(const char *why);
/* the store the admin API manages and the reload it triggers; before http_start */
void api_admin_setup(store *s, api_reload_fn reload);
/* the /admin routes (DESIGN §10) */
const route *admin_routes(size_t *n);

#endif

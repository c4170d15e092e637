/* v1.c - the /health and /v1 REST routes (DESIGN §4), thin adapters over the tool table and
 * tool_dispatch(). The route table at the bottom is the whole REST surface. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/strutil.h"
#include "core/utf8.h"
#include "tools/dispatch.h"
#include "tools/registry.h"

static const char *const read_modes[] = {
    "auto",    "full", "raw",      "reference",    "signatures", "map",     "aggressive",
    "entropy", "diff", "anchored", "anchored:N-M", "lines:N-M",  "lines:N", "lines:a,b-c"};

static void health(http_req *r)
{
    char up[16];
    int64_t s = http_uptime_seconds();
    clock_short_duration(s, up);
    http_json(r, 200,
              json_pack("{s:s, s:s, s:s, s:I}", "status", "ok", "version", CTXD_VERSION, "uptime",
                        up, "uptimeSeconds", (json_int_t)s));
}

static json_t *visible_tools(const config *c, const principal *who)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < registry_count(); i++) {
        const tool_def *d = registry_at(i);
        if (registry_visible(d, c, who)) {
            json_array_append_new(arr, registry_describe(d));
        }
    }
    return arr;
}

/* An authenticated route other than a tool call costs 1 from the caller's key bucket and its
 * tenant's bucket (http-conventions.md §1.1), so listing cannot be used to poll around the
 * limits. False when a bucket is empty; the 429 has then been answered. */
bool api_charge_key(http_req *r)
{
    rate_state st;
    const char *policy = "key";
    if (dispatch_charge(r->cfg, &r->who, 1, &st, &policy)) {
        return true;
    }
    http_rate_headers(r, policy, &st, true);
    char msg[160];
    snprintf(msg, sizeof msg, "rate limit exceeded for this %s; retry in %.0f s", policy,
             st.retry_after < 1 ? 1 : ceil(st.retry_after));
    http_error(r, ERR_RATE_LIMITED, msg,
               json_pack("{s:s, s:I}", "policy", policy, "retryAfterMs",
                         (json_int_t)(st.retry_after * 1000)));
    return false;
}

static bool charge_key(http_req *r)
{
    return api_charge_key(r);
}

static void manifest(http_req *r)
{
    if (!charge_key(r)) {
        return;
    }
    r->audit.allowed = true;
    json_t *ws = json_array();
    for (size_t i = 0; i < r->cfg->n_workspaces; i++) {
        const cfg_workspace *w = &r->cfg->workspaces[i];
        if (strcmp(w->tenant, r->who.tenant_id) == 0) {
            json_array_append_new(ws, json_pack("{s:s, s:s}", "id", w->id, "label", w->label));
        }
    }
    json_t *modes = json_array();
    for (size_t i = 0; i < sizeof read_modes / sizeof read_modes[0]; i++) {
        json_array_append_new(modes, json_string(read_modes[i]));
    }
    json_t *body =
        json_pack("{s:{s:s, s:s}, s:i, s:o, s:o, s:o, s:o}", "server", "name", "ctxd", "version",
                  CTXD_VERSION, "contractVersion", 1, "readModes", modes, "workspaces", ws,
                  "scopes", scope_json(r->who.scopes), "tools", visible_tools(r->cfg, &r->who));
    /* the default names a workspace of one tenant: others are not told it exists */
    const char *def = r->cfg->default_workspace_id;
    json_object_set_new(body, "defaultWorkspaceId",
                        def && config_workspace(r->cfg, r->who.tenant_id, def) ? json_string(def)
                                                                               : json_null());
    json_object_set_new(body, "tokenId", json_string(r->who.token_id));
    http_json(r, 200, body);
}

bool api_query_int(http_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                   int64_t *out)
{
    const char *v = http_query(r, name);
    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_i64(v, strlen(v), min, max, out)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be an integer between %lld and %lld", name,
                 (long long)min, (long long)max);
        http_error(r, ERR_INVALID_REQUEST, msg, NULL);
        return false;
    }
    return true;
}

static void tools_list(http_req *r)
{
    int64_t offset, limit;
    if (!api_query_int(r, "offset", 0, 0, 1000000, &offset) ||
        !api_query_int(r, "limit", 50, 1, 200, &limit) || !charge_key(r)) {
        return;
    }
    r->audit.allowed = true;
    json_t *all = visible_tools(r->cfg, &r->who);
    json_t *page = json_array();
    size_t total = json_array_size(all);
    for (size_t i = (size_t)offset; i < total && i < (size_t)(offset + limit); i++) {
        json_array_append(page, json_array_get(all, i));
    }
    json_decref(all);
    http_json(r, 200,
              json_pack("{s:o, s:I, s:I, s:I}", "tools", page, "total", (json_int_t)total, "offset",
                        (json_int_t)offset, "limit", (json_int_t)limit));
}

static void capabilities(http_req *r)
{
    if (!charge_key(r)) {
        return;
    }
    r->audit.allowed = true;
    http_json(r, 200,
              json_pack("{s:i, s:{s:s, s:s}, s:s, s:[s], s:{s:b, s:b, s:b, s:b}, s:{s:i}, s:{s:s}}",
                        "contract_version", 1, "server", "name", "ctxd", "version", CTXD_VERSION,
                        "plane", "team", "transports", "rest", "features", "tools", 1, "audit", 1,
                        "rateLimits", 1, "workspaces", 1, "contracts",
                        "leanctx.contract.http_mcp.contract_version", 1, "contract_status",
                        "http-mcp", "stable"));
}

void api_tool_call(http_req *r, dispatch_req *req, dispatch_res *res)
{
    const char *wh = http_header(r, "x-leanctx-workspace");
    req->cfg = r->cfg;
    req->who = &r->who;
    req->workspace_header = wh ? wh : http_header(r, "X-Workspace");
    req->cancel = &r->cancel;
    req->a = &r->a;
    dispatch_res_init(res);
    tool_dispatch(req, res);
    r->audit.tool = arena_strdup(&r->a, req->name);
    if (res->code == ERR_OK && res->out.is_error && res->out.error_code) {
        r->tool_error = arena_strdup(&r->a, res->out.error_code); /* request log (issue 5) */
    }
    r->audit.workspace_id = res->workspace_id;
    r->audit.allowed = res->allowed;
    r->audit.has_args = res->has_args;
    memcpy(r->audit.args_md5, res->args_md5, sizeof res->args_md5);
    memcpy(r->audit.args_hmac, res->args_hmac, sizeof res->args_hmac);
    if (res->has_rate) {
        http_rate_headers(r, res->rate_policy, &res->rate,
                          res->code == ERR_RATE_LIMITED || res->code == ERR_CONCURRENCY_LIMITED);
    }
}

static void tools_call(http_req *r)
{
    json_t *body = r->json;
    if (!json_is_object(body)) {
        http_error(r, ERR_INVALID_REQUEST, "the body must be a JSON object {name, arguments?}",
                   NULL);
        return;
    }
    const char *name = jsonx_str(body, "name");
    if (!name) {
        http_error(r, ERR_INVALID_REQUEST, "name is required and must be a string", NULL);
        return;
    }
    json_t *args = json_object_get(body, "arguments");
    if (args && json_is_null(args)) {
        args = NULL;
    }
    json_t *wsb = json_object_get(body, "workspaceId");
    json_t *chb = json_object_get(body, "channelId");
    if ((wsb && !json_is_null(wsb) && !json_is_string(wsb)) ||
        (chb && !json_is_null(chb) && !json_is_string(chb))) {
        http_error(r, ERR_INVALID_REQUEST, "workspaceId and channelId must be strings", NULL);
        return;
    }
    dispatch_req req = {
        .name = name,
        .args = args,
        .workspace_body = json_is_string(wsb) ? json_string_value(wsb) : NULL,
        .channel_body = json_is_string(chb) ? json_string_value(chb) : NULL,
    };
    dispatch_res res;
    api_tool_call(r, &req, &res);
    if (res.code == ERR_OK) {
        buf b;
        buf_init(&b, 0);
        buf_puts(&b, "{\"result\":");
        dispatch_write_result(&b, &res, NULL);
        buf_putc(&b, '}');
        http_json_buf(r, 200, &b);
    } else {
        json_t *extra = NULL;
        if (res.code == ERR_SCOPE_DENIED) {
            buf s;
            buf_init(&s, 512);
            scope_format(&s, res.needed, " ");
            char h[600];
            snprintf(h, sizeof h, "Bearer error=\"insufficient_scope\", scope=\"%s\"",
                     s.ptr ? s.ptr : "");
            http_header_add(r, "WWW-Authenticate", h);
            extra = json_pack("{s:o}", "requiredScopes", scope_json(res.needed));
            buf_release(&s);
        } else if (res.code == ERR_RATE_LIMITED || res.code == ERR_CONCURRENCY_LIMITED) {
            extra = json_pack(
                "{s:s, s:I}", "policy", res.rate_policy, "retryAfterMs",
                (json_int_t)(res.code == ERR_RATE_LIMITED ? res.rate.retry_after * 1000 : 1000));
        } else if (res.error_data) {
            /* quota: used_bytes, quota_bytes, requested_bytes */
            extra = json_incref(res.error_data);
        }
        http_error(r, res.code, res.message, extra);
    }
    dispatch_res_release(&res);
}

/* a call to a quick tool (tools.def) runs on the connection thread; anything else, including
 * a name that is not a tool (its refusal is quick too, but rare), on the pool */
static bool call_needs_pool(http_req *r)
{
    const char *name = jsonx_str(r->json, "name");
    const tool_def *d = name ? registry_find_callable(name) : NULL;
    return !(d && d->quick);
}

static const route v1_routes[] = {
    {.path = "/health", .method = "GET", .fn = health},
    {.path = "/healthz", .method = "GET", .fn = health},
    {.path = "/v1/manifest", .method = "GET", .flags = ROUTE_AUTH | ROUTE_AUDITED, .fn = manifest},
    {.path = "/v1/tools", .method = "GET", .flags = ROUTE_AUTH | ROUTE_AUDITED, .fn = tools_list},
    {.path = "/v1/tools/call",
     .method = "POST",
     .flags = ROUTE_AUTH | ROUTE_AUDITED | ROUTE_BODY | ROUTE_POOL,
     .fn = tools_call,
     .pooled = call_needs_pool},
    {.path = "/v1/capabilities",
     .method = "GET",
     .flags = ROUTE_AUTH | ROUTE_AUDITED,
     .fn = capabilities},
    /* METRICS (issue 6): metrics_api.c */
    {.path = "/v1/metrics",
     .method = "GET",
     .flags = ROUTE_AUTH | ROUTE_AUDITED,
     .fn = api_metrics},
    /* EVENTS (issue 6): events_api.c */
    {.path = "/v1/events",
     .method = "GET",
     .flags = ROUTE_AUTH | ROUTE_AUDITED,
     .fn = api_events_stream},
    {.path = "/v1/events/search",
     .method = "GET",
     .flags = ROUTE_AUTH | ROUTE_AUDITED,
     .fn = api_events_search},
    {.path = "/v1/context/summary",
     .method = "GET",
     .flags = ROUTE_AUTH | ROUTE_AUDITED,
     .fn = api_context_summary},
};

const route *api_routes(size_t *n)
{
    *n = sizeof v1_routes / sizeof v1_routes[0];
    return v1_routes;
}

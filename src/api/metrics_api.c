/* metrics_api.c - GET /v1/metrics (issue 6; DESIGN §4-§5, http-conventions.md §5).
 *
 * Scope `audit`. JSON by default: a `local` credential (the operator's) sees the whole
 * process; a credential of another tenant sees only its own tenant's numbers (its tool calls,
 * bytes and tokens from the usage table, its workspaces' index counts, its storage). The
 * Prometheus text (?format=prometheus), whose series span tenants, is served to `local`
 * credentials only (403 scope_denied otherwise). Index numbers come from the index's own
 * status (index_status: its meta rows, never a scan). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "audit/audit.h"
#include "core/metrics.h"
#include "index/index.h"
#include "mcp/session.h"
#include "store/store.h"
#include "tools/dispatch.h"
#include "tools/registry.h"

/* at most this many workspaces and tenants are listed (the label sets stay bounded) */
#define METRICS_MAX_WORKSPACES 1000
#define METRICS_MAX_TENANTS 1000

static store *metrics_store;

void api_metrics_setup(store *s)
{
    metrics_store = s;
}

static const char *const outcome_names[OUTCOME__COUNT] = {"ok",           "tool_error", "denied",
                                                          "rate_limited", "timeout",    "error"};

static bool is_local(const http_req *r)
{
    return strcmp(r->who.tenant_id, STORE_LOCAL_TENANT) == 0;
}

/* ---- Prometheus text ---- */

/* a label value: backslash, double quote and line feed escaped (§5.1) */
static void put_label(buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\') {
            buf_puts(b, "\\\\");
        } else if (*p == '"') {
            buf_puts(b, "\\\"");
        } else if (*p == '\n') {
            buf_puts(b, "\\n");
        } else {
            buf_putc(b, *p);
        }
    }
}

static void family(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_double(buf *b, double v)
{
    if (isnan(v)) {
        buf_puts(b, "NaN");
    } else {
        buf_printf(b, "%.9g", v);
    }
}

/* one histogram's samples; labels is "" or `name="value",` (with the trailing comma) */
static void put_hist(buf *b, const char *name, const char *labels, const metrics_hist *h)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= METRICS_NBOUNDS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < METRICS_NBOUNDS) {
            buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, metrics_bounds[i],
                       (unsigned long long)cum);
        } else {
            buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
        }
    }
    size_t ll = strlen(labels);
    /* the sum and count carry the same labels without the trailing comma */
    buf_printf(b, "%s_sum%s%.*s%s ", name, ll ? "{" : "", (int)(ll ? ll - 1 : 0), labels,
               ll ? "}" : "");
    put_double(b, (double)atomic_load(&h->sum_ns) / 1e9);
    buf_printf(b, "\n%s_count%s%.*s%s %llu\n", name, ll ? "{" : "", (int)(ll ? ll - 1 : 0), labels,
               ll ? "}" : "", (unsigned long long)cum);
}

typedef struct tenant_row {
    char id[APIKEY_TENANT_MAX + 1];
    int64_t used, quota;
} tenant_row;

typedef struct tenant_list {
    tenant_row *rows;
    size_t n, cap;
    arena *a;
} tenant_list;

static bool tenant_cb(const store_tenant *t, void *ctx)
{
    tenant_list *l = ctx;
    if (l->n >= l->cap) {
        return false;
    }
    tenant_row *row = &l->rows[l->n++];
    snprintf(row->id, sizeof row->id, "%s", t->id);
    row->used = t->storage_used_bytes;
    row->quota = t->storage_quota_bytes;
    return true;
}

/* the tenants (all, or the one named) with their storage numbers; n = 0 without a store */
static void tenants_load(http_req *r, const char *only, tenant_list *l)
{
    l->cap = only ? 1 : METRICS_MAX_TENANTS;
    l->n = 0;
    l->rows = arena_alloc(&r->a, l->cap * sizeof *l->rows);
    if (!l->rows || !metrics_store) {
        l->cap = 0;
        return;
    }
    if (only) {
        store_tenant t;
        if (store_tenant_get(metrics_store, only, &t) == ERR_OK) {
            tenant_cb(&t, l);
        }
        return;
    }
    if (store_tenant_list(metrics_store, tenant_cb, l) != ERR_OK) {
        l->n = 0;
    }
}

static void prometheus(http_req *r)
{
    buf b;
    buf_init(&b, (size_t)64 << 20);
    int64_t up = http_uptime_seconds();

    family(&b, "ctxd_build_info", "gauge", "Build metadata; value is always 1.");
    buf_puts(&b, "ctxd_build_info{version=\"");
    put_label(&b, CTXD_VERSION);
    buf_puts(&b, "\",commit=\"");
    put_label(&b, CTXD_COMMIT);
    buf_puts(&b, "\"} 1\n");
    family(&b, "ctxd_start_time_seconds", "gauge", "Start time of the process, unix seconds.");
    buf_printf(&b, "ctxd_start_time_seconds %lld\n", (long long)(time(NULL) - up));
    family(&b, "ctxd_uptime_seconds", "gauge", "Seconds since the server started.");
    buf_printf(&b, "ctxd_uptime_seconds %lld\n", (long long)up);
    family(&b, "ctxd_process_resident_memory_bytes", "gauge", "Resident set size of the process.");
    buf_printf(&b, "ctxd_process_resident_memory_bytes %lld\n", (long long)metrics_rss_bytes());

    size_t nr = metrics_route_count();
    family(&b, "ctxd_http_requests_total", "counter",
           "HTTP requests by route template and status.");
    for (size_t i = 0; i < nr; i++) {
        for (int code = 100; code < 600; code++) {
            uint64_t v = metrics_route_code_count(i, code);
            if (v) {
                buf_puts(&b, "ctxd_http_requests_total{route=\"");
                put_label(&b, metrics_route_name(i));
                buf_printf(&b, "\",code=\"%d\"} %llu\n", code, (unsigned long long)v);
            }
        }
    }
    family(&b, "ctxd_http_request_duration_seconds", "histogram",
           "Time from the first byte of a request until its response is queued (SSE streams: until "
           "they end).");
    for (size_t i = 0; i < nr; i++) {
        const metrics_hist *h = metrics_route_hist(i);
        if (metrics_hist_count(h) == 0) {
            continue;
        }
        buf lb;
        buf_init(&lb, 1024);
        buf_puts(&lb, "route=\"");
        put_label(&lb, metrics_route_name(i));
        buf_puts(&lb, "\",");
        put_hist(&b, "ctxd_http_request_duration_seconds", lb.ptr ? lb.ptr : "", h);
        buf_release(&lb);
    }

    family(&b, "ctxd_tool_calls_total", "counter", "Tool calls by tool and outcome.");
    for (size_t t = 0; t < registry_count(); t++) {
        for (int o = 0; o < OUTCOME__COUNT; o++) {
            uint64_t v = dispatch_count(t, (dispatch_outcome)o);
            if (v) {
                buf_printf(&b, "ctxd_tool_calls_total{tool=\"%s\",outcome=\"%s\"} %llu\n",
                           registry_at(t)->name, outcome_names[o], (unsigned long long)v);
            }
        }
    }
    family(&b, "ctxd_tool_call_duration_seconds", "histogram",
           "Run time of admitted tool calls, from admission to the handler's end.");
    for (size_t t = 0; t < registry_count(); t++) {
        const metrics_hist *h = metrics_tool_hist(t);
        if (h && metrics_hist_count(h)) {
            char lb[128];
            snprintf(lb, sizeof lb, "tool=\"%s\",", registry_at(t)->name);
            put_hist(&b, "ctxd_tool_call_duration_seconds", lb, h);
        }
    }
    family(&b, "ctxd_inflight_tool_calls", "gauge", "Tool calls running now.");
    buf_printf(&b, "ctxd_inflight_tool_calls %lld\n", (long long)metrics_inflight());
    family(&b, "ctxd_rate_limited_total", "counter", "Requests refused with 429, by policy.");
    for (int p = 0; p < METRICS_POLICY__COUNT; p++) {
        buf_printf(&b, "ctxd_rate_limited_total{policy=\"%s\"} %llu\n",
                   metrics_label_policy((metrics_policy)p),
                   (unsigned long long)metrics_rate_limited_count((metrics_policy)p));
    }
    family(&b, "ctxd_auth_failures_total", "counter", "Failed authentications, by reason.");
    for (int a = 0; a < METRICS_AUTH__COUNT; a++) {
        buf_printf(&b, "ctxd_auth_failures_total{reason=\"%s\"} %llu\n",
                   metrics_label_auth((metrics_auth_reason)a),
                   (unsigned long long)metrics_auth_failure_count((metrics_auth_reason)a));
    }
    family(&b, "ctxd_sse_streams", "gauge", "Open Server-Sent Events streams, by kind.");
    for (int k = 0; k < METRICS_SSE__COUNT; k++) {
        buf_printf(&b, "ctxd_sse_streams{kind=\"%s\"} %lld\n",
                   metrics_label_sse((metrics_sse_kind)k),
                   (long long)metrics_sse_open((metrics_sse_kind)k));
    }
    family(&b, "ctxd_mcp_sessions", "gauge", "Live MCP sessions (Mcp-Session-Id).");
    buf_printf(&b, "ctxd_mcp_sessions %zu\n", session_count());
    family(&b, "ctxd_events_appended_total", "counter", "Events emitted on the bus, by kind.");
    for (size_t k = 0; k < metrics_event_kind_count(); k++) {
        buf_puts(&b, "ctxd_events_appended_total{kind=\"");
        put_label(&b, metrics_event_kind(k));
        buf_printf(&b, "\"} %llu\n", (unsigned long long)metrics_event_count(k));
    }

    /* per workspace, from the index's own status */
    family(&b, "ctxd_index_files", "gauge", "Files in the last committed index build.");
    buf files, syms, last;
    buf_init(&files, (size_t)16 << 20);
    buf_init(&syms, (size_t)16 << 20);
    buf_init(&last, (size_t)16 << 20);
    const config *c = r->cfg;
    for (size_t i = 0; i < c->n_workspaces && i < METRICS_MAX_WORKSPACES; i++) {
        const cfg_workspace *w = &c->workspaces[i];
        ix_status st;
        memset(&st, 0, sizeof st);
        index_status(c, w, &st);
        buf lb;
        buf_init(&lb, 1024);
        buf_puts(&lb, "{tenant=\"");
        put_label(&lb, w->tenant);
        buf_puts(&lb, "\",workspace=\"");
        put_label(&lb, w->id);
        buf_puts(&lb, "\"}");
        const char *l = lb.ptr ? lb.ptr : "";
        buf_printf(&files, "ctxd_index_files%s %lld\n", l, (long long)st.files);
        buf_printf(&syms, "ctxd_index_symbols%s %lld\n", l, (long long)st.symbols);
        if (st.built_at > 0) {
            buf_printf(&last, "ctxd_index_last_success_timestamp_seconds%s %lld\n", l,
                       (long long)st.built_at);
        }
        buf_release(&lb);
    }
    buf_append(&b, files.ptr ? files.ptr : "", files.len);
    family(&b, "ctxd_index_symbols", "gauge", "Symbols in the last committed index build.");
    buf_append(&b, syms.ptr ? syms.ptr : "", syms.len);
    family(&b, "ctxd_index_last_success_timestamp_seconds", "gauge",
           "Unix time of the last committed index build.");
    buf_append(&b, last.ptr ? last.ptr : "", last.len);
    buf_release(&files);
    buf_release(&syms);
    buf_release(&last);

    uint64_t bb[METRICS_BUILD_NBOUNDS + 1], bn;
    double bs;
    metrics_build_hist(bb, &bs, &bn);
    family(&b, "ctxd_index_build_duration_seconds", "histogram",
           "Duration of index builds run by this process.");
    uint64_t cum = 0;
    for (size_t i = 0; i <= METRICS_BUILD_NBOUNDS; i++) {
        cum += bb[i];
        if (i < METRICS_BUILD_NBOUNDS) {
            buf_printf(&b, "ctxd_index_build_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       metrics_build_bounds[i], (unsigned long long)cum);
        } else {
            buf_printf(&b, "ctxd_index_build_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                       (unsigned long long)cum);
        }
    }
    buf_puts(&b, "ctxd_index_build_duration_seconds_sum ");
    put_double(&b, bs);
    buf_printf(&b, "\nctxd_index_build_duration_seconds_count %llu\n", (unsigned long long)bn);
    family(&b, "ctxd_sync_total", "counter", "Workspace syncs, by result.");
    buf_printf(&b, "ctxd_sync_total{result=\"ok\"} %llu\nctxd_sync_total{result=\"error\"} %llu\n",
               (unsigned long long)metrics_sync_count(true),
               (unsigned long long)metrics_sync_count(false));

    tenant_list tl;
    tenants_load(r, NULL, &tl);
    family(&b, "ctxd_tenant_storage_bytes", "gauge", "Index storage a tenant uses, in bytes.");
    for (size_t i = 0; i < tl.n; i++) {
        buf_puts(&b, "ctxd_tenant_storage_bytes{tenant=\"");
        put_label(&b, tl.rows[i].id);
        buf_printf(&b, "\"} %lld\n", (long long)tl.rows[i].used);
    }
    family(&b, "ctxd_tenant_storage_quota_bytes", "gauge",
           "A tenant's storage quota in bytes (tenants without a quota are not listed).");
    for (size_t i = 0; i < tl.n; i++) {
        if (tl.rows[i].quota >= 0) {
            buf_puts(&b, "ctxd_tenant_storage_quota_bytes{tenant=\"");
            put_label(&b, tl.rows[i].id);
            buf_printf(&b, "\"} %lld\n", (long long)tl.rows[i].quota);
        }
    }
    family(&b, "ctxd_audit_write_failures_total", "counter",
           "Audit lines that could not be written.");
    buf_printf(&b, "ctxd_audit_write_failures_total %llu\n",
               (unsigned long long)audit_write_failures());
    family(&b, "ctxd_request_log_dropped_total", "counter",
           "Request log rows dropped because the writer's queue was full.");
    buf_printf(&b, "ctxd_request_log_dropped_total %llu\n",
               (unsigned long long)(metrics_store ? store_log_dropped(metrics_store) : 0));

    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    http_json_buf(r, 200, &b);
}

/* ---- JSON ---- */

typedef struct usage_acc {
    uint64_t calls[METRICS_MAX_TOOLS], bytes[METRICS_MAX_TOOLS], orig[METRICS_MAX_TOOLS],
        sent[METRICS_MAX_TOOLS];
} usage_acc;

static bool usage_cb(const char *ws, const char *ch, const char *tok, size_t tool,
                     const metrics_usage *u, void *ctx)
{
    (void)ws;
    (void)ch;
    (void)tok;
    usage_acc *acc = ctx;
    if (tool < METRICS_MAX_TOOLS) {
        acc->calls[tool] += u->calls;
        acc->bytes[tool] += u->bytes;
        acc->orig[tool] += u->tokens_original;
        acc->sent[tool] += u->tokens_sent;
    }
    return true;
}

static json_t *hist_json(const metrics_hist *h)
{
    json_t *buckets = json_array();
    uint64_t cum = 0;
    for (size_t i = 0; i <= METRICS_NBOUNDS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        json_array_append_new(buckets,
                              json_pack("{s:s, s:I}", "le", i < METRICS_NBOUNDS ? "" : "+Inf",
                                        "count", (json_int_t)cum));
        if (i < METRICS_NBOUNDS) {
            char le[32];
            snprintf(le, sizeof le, "%g", metrics_bounds[i]);
            json_object_set_new(json_array_get(buckets, i), "le", json_string(le));
        }
    }
    return json_pack("{s:I, s:f, s:o}", "count", (json_int_t)cum, "sumSeconds", metrics_hist_sum(h),
                     "buckets", buckets);
}

static void json_snapshot(http_req *r)
{
    const char *tenant = r->who.tenant_id;
    bool local = is_local(r);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:I}", "tenant", tenant, "version", CTXD_VERSION, "commit",
                  CTXD_COMMIT, "uptimeSeconds", (json_int_t)http_uptime_seconds());

    /* the tenant's own usage by tool (every tenant, the operator's included) */
    usage_acc *acc = arena_alloc(&r->a, sizeof *acc);
    json_t *usage = json_array();
    if (acc) {
        memset(acc, 0, sizeof *acc);
        metrics_usage_each(tenant, usage_cb, acc);
        for (size_t t = 0; t < registry_count() && t < METRICS_MAX_TOOLS; t++) {
            if (acc->calls[t]) {
                json_array_append_new(
                    usage, json_pack("{s:s, s:I, s:I, s:{s:I, s:I}}", "tool", registry_at(t)->name,
                                     "calls", (json_int_t)acc->calls[t], "bytes",
                                     (json_int_t)acc->bytes[t], "tokens", "original",
                                     (json_int_t)acc->orig[t], "sent", (json_int_t)acc->sent[t]));
            }
        }
    }
    json_object_set_new(o, "usage", usage);

    /* index counts of the workspaces the caller may see */
    json_t *wss = json_array();
    const config *c = r->cfg;
    size_t listed = 0;
    for (size_t i = 0; i < c->n_workspaces && listed < METRICS_MAX_WORKSPACES; i++) {
        const cfg_workspace *w = &c->workspaces[i];
        if (!local && strcmp(w->tenant, tenant) != 0) {
            continue;
        }
        ix_status st;
        memset(&st, 0, sizeof st);
        index_status(c, w, &st);
        json_array_append_new(
            wss, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "tenant", w->tenant, "workspace",
                           w->id, "files", (json_int_t)st.files, "symbols", (json_int_t)st.symbols,
                           "builtAt", (json_int_t)st.built_at, "ageSeconds",
                           (json_int_t)(st.built_at > 0 ? time(NULL) - st.built_at : -1)));
        listed++;
    }
    json_object_set_new(o, "workspaces", wss);

    tenant_list tl;
    tenants_load(r, local ? NULL : tenant, &tl);
    json_t *storage = json_array();
    for (size_t i = 0; i < tl.n; i++) {
        json_t *row = json_pack("{s:s, s:I}", "tenant", tl.rows[i].id, "usedBytes",
                                (json_int_t)tl.rows[i].used);
        json_object_set_new(row, "quotaBytes",
                            tl.rows[i].quota >= 0 ? json_integer(tl.rows[i].quota) : json_null());
        json_array_append_new(storage, row);
    }
    json_object_set_new(o, "storage", storage);

    if (local) {
        /* process-wide series: they span tenants, so only the operator's credentials see them */
        json_object_set_new(o, "rssBytes", json_integer(metrics_rss_bytes()));
        json_t *reqs = json_array();
        json_t *lat = json_object();
        for (size_t i = 0; i < metrics_route_count(); i++) {
            for (int code = 100; code < 600; code++) {
                uint64_t v = metrics_route_code_count(i, code);
                if (v) {
                    json_array_append_new(reqs, json_pack("{s:s, s:i, s:I}", "route",
                                                          metrics_route_name(i), "code", code,
                                                          "count", (json_int_t)v));
                }
            }
            if (metrics_hist_count(metrics_route_hist(i))) {
                json_object_set_new(lat, metrics_route_name(i), hist_json(metrics_route_hist(i)));
            }
        }
        json_object_set_new(o, "httpRequests", reqs);
        json_object_set_new(o, "httpRequestDuration", lat);
        json_t *calls = json_array();
        json_t *tlat = json_object();
        for (size_t t = 0; t < registry_count(); t++) {
            for (int oc = 0; oc < OUTCOME__COUNT; oc++) {
                uint64_t v = dispatch_count(t, (dispatch_outcome)oc);
                if (v) {
                    json_array_append_new(
                        calls, json_pack("{s:s, s:s, s:I}", "tool", registry_at(t)->name, "outcome",
                                         outcome_names[oc], "count", (json_int_t)v));
                }
            }
            const metrics_hist *h = metrics_tool_hist(t);
            if (h && metrics_hist_count(h)) {
                json_object_set_new(tlat, registry_at(t)->name, hist_json(h));
            }
        }
        json_object_set_new(o, "toolCalls", calls);
        json_object_set_new(o, "toolCallDuration", tlat);
        json_object_set_new(o, "inflightToolCalls", json_integer(metrics_inflight()));
        json_t *rl = json_object();
        for (int p = 0; p < METRICS_POLICY__COUNT; p++) {
            json_object_set_new(
                rl, metrics_label_policy((metrics_policy)p),
                json_integer((json_int_t)metrics_rate_limited_count((metrics_policy)p)));
        }
        json_object_set_new(o, "rateLimited", rl);
        json_t *af = json_object();
        for (int a = 0; a < METRICS_AUTH__COUNT; a++) {
            json_object_set_new(
                af, metrics_label_auth((metrics_auth_reason)a),
                json_integer((json_int_t)metrics_auth_failure_count((metrics_auth_reason)a)));
        }
        json_object_set_new(o, "authFailures", af);
        json_t *sse = json_object();
        for (int k = 0; k < METRICS_SSE__COUNT; k++) {
            json_object_set_new(sse, metrics_label_sse((metrics_sse_kind)k),
                                json_integer(metrics_sse_open((metrics_sse_kind)k)));
        }
        json_object_set_new(o, "sseStreams", sse);
        json_object_set_new(o, "mcpSessions", json_integer((json_int_t)session_count()));
        json_t *ev = json_object();
        for (size_t k = 0; k < metrics_event_kind_count(); k++) {
            json_object_set_new(ev, metrics_event_kind(k),
                                json_integer((json_int_t)metrics_event_count(k)));
        }
        json_object_set_new(o, "eventsAppended", ev);
        json_object_set_new(o, "sync",
                            json_pack("{s:I, s:I}", "ok", (json_int_t)metrics_sync_count(true),
                                      "error", (json_int_t)metrics_sync_count(false)));
    }
    http_json(r, 200, o);
}

void api_metrics(http_req *r)
{
    if (!(r->who.scopes & SCOPE_AUDIT)) {
        http_header_add(r, "WWW-Authenticate",
                        "Bearer error=\"insufficient_scope\", scope=\"audit\"");
        http_error(r, ERR_SCOPE_DENIED, "/v1/metrics needs the audit scope",
                   json_pack("{s:[s]}", "requiredScopes", "audit"));
        return;
    }
    const char *fmt = http_query(r, "format");
    if (fmt && strcmp(fmt, "prometheus") != 0 && strcmp(fmt, "json") != 0) {
        http_error(r, ERR_INVALID_REQUEST, "format must be json or prometheus", NULL);
        return;
    }
    bool prom = fmt && strcmp(fmt, "prometheus") == 0;
    if (prom && !is_local(r)) {
        http_error(r, ERR_SCOPE_DENIED,
                   "the Prometheus text spans tenants: it is served to credentials of the "
                   "tenant 'local' only; use the JSON snapshot",
                   NULL);
        return;
    }
    if (!api_charge_key(r)) {
        return;
    }
    r->audit.allowed = true;
    if (prom) {
        prometheus(r);
    } else {
        json_snapshot(r);
    }
}

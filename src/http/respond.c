/* respond.c - building responses: JSON bodies, the error envelope, rate-limit headers. */
#include <ctype.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "http/http.h"

const char *http_header(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void http_header_add(http_req *r, const char *name, const char *value)
{
    if (r->nhdr < HTTP_MAX_HEADERS && value) {
        r->hdr_name[r->nhdr] = name;
        r->hdr_value[r->nhdr] = arena_strdup(&r->a, value);
        r->nhdr++;
    }
}

void http_json(http_req *r, int status, json_t *body)
{
    if (r->responded) {
        json_decref(body);
        return;
    }
    buf b;
    buf_init(&b, 0);
    jsonx_dump(&b, body);
    json_decref(body);
    http_json_buf(r, status, &b);
}

void http_json_buf(http_req *r, int status, buf *body)
{
    if (r->responded) {
        buf_release(body);
        return;
    }
    buf b = *body;
    buf_init(body, 0);
    if (b.failed) {
        buf_release(&b);
        buf_init(&b, 0);
        buf_printf(&b,
                   "{\"error\":\"the response could not be built (request "
                   "%s)\",\"error_code\":\"internal\"}",
                   r->request_id);
        status = 500;
    }
    r->resp = buf_detach(&b, &r->resp_len);
    r->status = status;
    r->responded = true;
}

void http_empty(http_req *r, int status)
{
    if (r->responded) {
        return;
    }
    r->resp = NULL;
    r->resp_len = 0;
    r->status = status;
    r->no_body = true;
    r->responded = true;
}

bool http_base_url(http_req *r, char *out, size_t cap)
{
    /* config publicUrl names the server as clients reach it (behind a TLS-terminating proxy);
       else plain HTTP, since ctxd serves no TLS and an https:// URL made up here would point
       nowhere. A Host that is not a plain host[:port] is refused so it can never break the
       quoting of a header. */
    if (r->cfg->public_url) {
        snprintf(out, cap, "%s", r->cfg->public_url);
        return true;
    }
    const char *h = http_header(r, "Host");
    if (!h || !*h || strlen(h) > 255) {
        return false;
    }
    for (const char *p = h; *p; p++) {
        if (!(isalnum((unsigned char)*p) || strchr(".-:[]_", *p))) {
            return false;
        }
    }
    snprintf(out, cap, "http://%s", h);
    return true;
}

void http_error(http_req *r, err code, const char *message, json_t *extra)
{
    int status = err_http_status(code);
    json_t *body = json_object();
    if (r->route && (r->route->flags & ROUTE_JSONRPC)) {
        /* MCP: a JSON-RPC error without id (the request was not read or not understood),
           mcp.md §6; the REST error_code travels in data */
        json_t *data = json_pack("{s:s}", "error_code", err_code(code));
        if (extra) {
            json_object_update(data, extra);
            json_decref(extra);
        }
        if (status >= 500) {
            json_object_set_new(data, "requestId", json_string(r->request_id));
        }
        json_object_set_new(body, "jsonrpc", json_string("2.0"));
        json_object_set_new(body, "error",
                            json_pack("{s:i, s:s, s:o}", "code", err_rpc_code(code), "message",
                                      message, "data", data));
    } else {
        json_object_set_new(body, "error", json_string(message));
        json_object_set_new(body, "error_code", json_string(err_code(code)));
        if (extra) {
            json_object_update(body, extra);
            json_decref(extra);
        }
        if (status >= 500) {
            json_object_set_new(body, "requestId", json_string(r->request_id));
        }
    }
    if (code == ERR_UNAUTHORIZED) {
        /* RFC 6750 §3.1: error="invalid_token" when a credential was presented, none otherwise;
           resource_metadata names the RFC 9728 document (mcp.md §9) */
        bool presented = http_header(r, "Authorization") || http_header(r, "X-API-Key");
        char base[300] = "";
        http_base_url(r, base, sizeof base);
        char h[600];
        snprintf(h, sizeof h,
                 "Bearer realm=\"ctxd\", %sresource_metadata=\"%s/.well-known/"
                 "oauth-protected-resource/mcp\", scope=\"search\"",
                 presented ? "error=\"invalid_token\", " : "", base);
        http_header_add(r, "WWW-Authenticate", h);
    }
    /* a refusal names its reason; a call that ran and then failed shows only in `status` */
    if (code != ERR_REQUEST_TIMEOUT && code != ERR_INTERNAL) {
        r->audit.denied_reason = err_code(code);
        r->audit.allowed = false;
    }
    http_json(r, status, body);
}

void http_rate_headers(http_req *r, const char *policy, const rate_state *st, bool refused)
{
    char v[160];
    bool tenant_share = strcmp(policy, "tenant-concurrency") == 0; /* st->capacity: the share */
    if (strcmp(policy, "concurrency") == 0 || tenant_share) {
        snprintf(v, sizeof v, "\"%s\";q=%d;qu=\"concurrent-requests\"", policy,
                 tenant_share ? (int)st->capacity : r->cfg->max_concurrency);
        http_header_add(r, "RateLimit-Policy", v);
        if (refused) {
            http_header_add(r, "Retry-After", "1");
            snprintf(v, sizeof v, "\"%s\";r=0;t=1", policy);
            http_header_add(r, "RateLimit", v);
        }
        return;
    }
    long long w = (long long)ceil(st->capacity / st->rate);
    snprintf(v, sizeof v, "\"%s\";q=%lld;w=%lld", policy, (long long)floor(st->capacity),
             w < 1 ? 1 : w);
    http_header_add(r, "RateLimit-Policy", v);
    if (refused) {
        long long ra = (long long)ceil(st->retry_after);
        if (ra < 1) {
            ra = 1;
        }
        char ras[32];
        snprintf(ras, sizeof ras, "%lld", ra);
        http_header_add(r, "Retry-After", ras);
        snprintf(v, sizeof v, "\"%s\";r=0;t=%lld", policy, ra);
        http_header_add(r, "RateLimit", v);
    } else {
        snprintf(v, sizeof v, "\"%s\";r=%lld;t=%lld", policy, (long long)floor(st->remaining),
                 (long long)ceil(st->full_in));
        http_header_add(r, "RateLimit", v);
    }
    if (r->cfg->legacy_rate_limit_headers && strcmp(policy, "key") == 0) {
        /* GitHub's family (http-conventions.md §1.4), for clients that only know it */
        long long cap = (long long)floor(st->capacity);
        long long rem = refused ? 0 : (long long)floor(st->remaining);
        long long reset =
            (long long)(time(NULL) + (long long)ceil(refused ? st->retry_after : st->full_in));
        snprintf(v, sizeof v, "%lld", cap);
        http_header_add(r, "x-ratelimit-limit", v);
        snprintf(v, sizeof v, "%lld", rem);
        http_header_add(r, "x-ratelimit-remaining", v);
        snprintf(v, sizeof v, "%lld", cap - rem);
        http_header_add(r, "x-ratelimit-used", v);
        snprintf(v, sizeof v, "%lld", reset);
        http_header_add(r, "x-ratelimit-reset", v);
        http_header_add(r, "x-ratelimit-resource", "key");
    }
}

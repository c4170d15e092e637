/* http.h - the HTTP request as the API layer sees it, over libmicrohttpd.
 *
 * The server (server.c) owns the connection: it parses nothing but HTTP, enforces what every
 * route shares (Host/Origin check, body limit, JSON content type, authentication with the
 * per-IP bucket for failures, the global bucket, the audit gate) in the order of mcp.md §6, and
 * hands a complete request to the route's handler. A handler answers with http_json() or
 * http_error(); the audit line is written when the response has been sent. */
#ifndef CTXD_HTTP_HTTP_H
#define CTXD_HTTP_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "config/config.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "limit/bucket.h"

typedef struct http_req http_req;
typedef void (*route_fn)(http_req *r);

enum {
    ROUTE_AUTH = 1,     /* needs a valid credential */
    ROUTE_AUDITED = 2,  /* one audit line per request */
    ROUTE_BODY = 4,     /* POST with a JSON body */
    ROUTE_POOL = 8,     /* runs on the tool pool, not on the connection's thread */
    ROUTE_JSONRPC = 16, /* refusals are JSON-RPC error objects (MCP), not the REST envelope */
};

typedef struct route {
    /* an exact path, or a template whose `{name}` segments each match one non-empty path
       segment of at most HTTP_PARAM_MAX bytes without '/' (read with http_param); the template
       is also the audit `method` (http-conventions.md §4.1: `/admin/tenants/{id}`) */
    const char *path;
    const char *method; /* GET, POST, PATCH or DELETE */
    unsigned flags;
    route_fn fn;
    /* with ROUTE_POOL: whether this request needs the pool (NULL: always) */
    bool (*pooled)(http_req *r);
} route;

#define HTTP_MAX_HEADERS 24
/* route parameters (admin API): at most this many per template, each at most this long */
#define HTTP_MAX_PARAMS 2
#define HTTP_PARAM_MAX 128

struct http_req {
    atomic_int refs; /* the connection's, plus one per job still working for it */
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const route *route;
    config *cfg; /* the snapshot this request started with (a reference) */
    arena a;
    char request_id[33];
    int64_t start_ns;
    char ip[64];
    char ip_key[96]; /* the rate-limit key of the client address */
    bool deferred;   /* no body: decided on the second call */
    bool in_pool;    /* the route runs on the pool; the connection is suspended */

    buf body;
    bool body_too_large;
    size_t discarded; /* body bytes dropped after body_too_large */
    json_t *json;     /* the parsed body (ROUTE_BODY) */

    /* the `{name}` segments of the matched template */
    char param_name[HTTP_MAX_PARAMS][32];
    char param_value[HTTP_MAX_PARAMS][HTTP_PARAM_MAX + 1];
    int nparam;

    principal who;
    bool authed;
    atomic_bool cancel;

    /* the response */
    int status;
    char *resp; /* JSON text */
    size_t resp_len;
    const char *hdr_name[HTTP_MAX_HEADERS];
    const char *hdr_value[HTTP_MAX_HEADERS];
    int nhdr;
    bool responded;
    bool no_body;   /* 202/204: no Content-Type, no body */
    bool streaming; /* an SSE response has been queued (sse.h) */
    /* METRICS (issue 6): the Content-Type of a non-JSON body (static), NULL: application/json */
    const char *content_type;
    bool metered; /* METRICS (issue 6): counted in ctxd_http_requests_total already */

    /* the audit line */
    bool audited;
    audit_record audit;
    /* request log (issue 5): the tool's error_code when its result was isError (arena) */
    const char *tool_error;
};

/* keep a request alive past its connection (work that writes to its SSE stream) */
http_req *http_req_ref(http_req *r);
void http_req_unref(http_req *r);

/* request accessors */
const char *http_header(http_req *r, const char *name);
const char *http_query(http_req *r, const char *name);
/* the value of the route template's `{name}` segment, or NULL when the template has none */
const char *http_param(const http_req *r, const char *name);

/* responses: each takes ownership of body */
void http_header_add(http_req *r, const char *name, const char *value);
void http_json(http_req *r, int status, json_t *body);
/* a body already serialized as JSON text; takes the buffer's content (a failed buffer: 500) */
void http_json_buf(http_req *r, int status, buf *body);
/* a response without a body (202 Accepted, 204 No Content) */
void http_empty(http_req *r, int status);
/* the DESIGN §4 envelope; extra members may be added with extra (owned, may be NULL) */
void http_error(http_req *r, err code, const char *message, json_t *extra);
/* `http://<Host>` of the request into out; false when the Host header is missing or unusable */
bool http_base_url(http_req *r, char *out, size_t cap);
/* add the Retry-After / RateLimit headers of a rate_state for policy */
void http_rate_headers(http_req *r, const char *policy, const rate_state *st, bool refused);

/* server lifecycle (server.c) */
/* the store API keys are checked against: set before http_start, cleared after http_stop */
void http_set_store(store *s);
err http_start(const route *routes, size_t n_routes, char *why, size_t why_len);
int http_bound_port(void);
/* stop accepting, wait up to ms for in-flight requests, then stop */
void http_stop(int64_t drain_ms);
int64_t http_uptime_seconds(void);

/* host/origin policy (hostcheck.c) */
bool http_loopback_bind(const char *host);
bool http_host_allowed(const config *c, const char *host_header);
bool http_origin_allowed(const config *c, const char *origin, const char *host_header);

#endif

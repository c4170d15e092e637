/* server.c - the libmicrohttpd daemon and the shared request pipeline (see http.h).
 *
 * Threads: an epoll thread pool (workerThreads, default one per core) reads, admits and
 * answers connections. A route marked ROUTE_POOL (tool calls that walk a tree) suspends its
 * connection and runs on the tool pool (core/pool.h, maxConcurrency + cores threads); the pool
 * thread resumes the connection when the answer is ready, and the connection's thread sends
 * it. So a long call holds a pool thread, never the connections that share an epoll thread.
 * Tool work is bounded by requestTimeoutMs and maxConcurrency and cancelled cooperatively.
 *
 * Pipeline for a request (mcp.md §6 order): route lookup (404/405 before anything else),
 * Host/Origin (403), Content-Length against maxBodyBytes (413, body not read), Content-Type
 * (415), authentication (401; failures charge the client IP's bucket and turn into 429 when it
 * is empty, so bad credentials cannot be guessed fast or spend anyone's budget), the global
 * bucket (429), the audit gate (503 when the audit log cannot be written), then the body is
 * read and parsed (400) and the route runs. Each step that refuses answers at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/pool.h"
#include "core/strutil.h"
#include "http/flood.h"
#include "http/http.h"
#include "http/sse.h"

/* how much of a body past maxBodyBytes is read and dropped so the 413 can be sent */
#define BODY_DISCARD_MAX ((size_t)8 << 20)

static struct MHD_Daemon *daemon_handle;
static const route *route_table;
static size_t n_route_table;
static limiter *ip_limiter;
static locked_bucket global_bucket;
static atomic_int active;
static int64_t started_mono_ms;
static int bound_port;
static store *key_store; /* API keys (http_set_store); NULL refuses them */

int64_t http_uptime_seconds(void)
{
    return (clock_mono_ms() - started_mono_ms) / 1000;
}

int http_bound_port(void)
{
    return bound_port;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t cap, char *bucket_key,
                      size_t key_cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    snprintf(bucket_key, key_cap, "ip:unknown");
    if (!ci || !ci->client_addr) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
        snprintf(bucket_key, key_cap, "ip:%s", out);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)cap);
        /* one host commonly holds a whole /64: bucket by it */
        const unsigned char *b = s6->sin6_addr.s6_addr;
        snprintf(bucket_key, key_cap, "ip6:%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1],
                 b[2], b[3], b[4], b[5], b[6], b[7]);
    }
}

/* Does url match the route template tpl? A `{name}` segment of the template matches one
 * non-empty segment of the url of at most HTTP_PARAM_MAX bytes (no '/'); everything else must
 * be equal. With out, the parameters are copied into it (at most HTTP_MAX_PARAMS). */
static bool match_template(const char *tpl, const char *url, http_req *out)
{
    int n = 0;
    while (*tpl && *url) {
        if (*tpl != '{') {
            if (*tpl++ != *url++) {
                return false;
            }
            continue;
        }
        const char *close = strchr(tpl, '}');
        size_t seg = strcspn(url, "/");
        if (!close || seg == 0 || seg > HTTP_PARAM_MAX || n >= HTTP_MAX_PARAMS) {
            return false;
        }
        if (out) {
            snprintf(out->param_name[n], sizeof out->param_name[n], "%.*s", (int)(close - tpl - 1),
                     tpl + 1);
            memcpy(out->param_value[n], url, seg);
            out->param_value[n][seg] = '\0';
        }
        n++;
        tpl = close + 1;
        url += seg;
    }
    if (*tpl || *url) {
        return false;
    }
    if (out) {
        out->nparam = n;
    }
    return true;
}

const char *http_param(const http_req *r, const char *name)
{
    for (int i = 0; i < r->nparam; i++) {
        if (strcmp(r->param_name[i], name) == 0) {
            return r->param_value[i];
        }
    }
    return NULL;
}

/* the route for url and method; out (may be NULL) receives the template's parameters.
   path_known: some route has this path (a 405 rather than a 404); allow: its methods. */
static const route *find_route(const char *url, const char *method, bool *path_known, char *allow,
                               size_t allow_cap, http_req *out)
{
    *path_known = false;
    allow[0] = '\0';
    for (size_t i = 0; i < n_route_table; i++) {
        if (!match_template(route_table[i].path, url, NULL)) {
            continue;
        }
        *path_known = true;
        if (strcmp(route_table[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(route_table[i].method, "GET") == 0)) {
            if (out) {
                match_template(route_table[i].path, url, out);
            }
            return &route_table[i];
        }
        size_t l = strlen(allow);
        snprintf(allow + l, allow_cap - l, "%s%s", l ? ", " : "", route_table[i].method);
    }
    return NULL;
}

static enum MHD_Result queue(http_req *r)
{
    if (r->streaming) {
        return MHD_YES; /* sse_begin queued the response */
    }
    if (!r->responded) {
        http_error(r, ERR_INTERNAL, "no response was produced", NULL);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
    r->resp = NULL;
    if (!resp) {
        return MHD_NO;
    }
    if (!r->no_body) {
        /* METRICS (issue 6): a route may answer another type (the Prometheus text) */
        MHD_add_response_header(resp, "Content-Type",
                                r->content_type ? r->content_type : "application/json");
    }
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (int i = 0; i < r->nhdr; i++) {
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
    }
    r->audit.status = r->status;
    /* METRICS (issue 6): counted before the first byte goes out, so a client that reads
       /v1/metrics after its previous response sees that request counted */
    r->metered = true;
    metrics_http_request(r->route ? r->route->path : NULL, r->status,
                         clock_mono_ns() - r->start_ns);
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* the checks that need no body; true when the request may go on */
static bool admit(http_req *r, const char *ip_key)
{
    config *c = r->cfg;
    const char *host = http_header(r, "Host");
    const char *origin = http_header(r, "Origin");
    bool host_ok = http_host_allowed(c, host), origin_ok = http_origin_allowed(c, origin, host);
    if (origin && host_ok && origin_ok) {
        /* a browser may read the answer (and the headers it needs) */
        http_header_add(r, "Access-Control-Allow-Origin", origin);
        http_header_add(r, "Vary", "Origin");
        http_header_add(r, "Access-Control-Expose-Headers",
                        "Mcp-Session-Id, WWW-Authenticate, Retry-After, RateLimit, "
                        "RateLimit-Policy, X-Request-Id");
    }
    if (!host_ok || !origin_ok) {
        http_error(r, ERR_FORBIDDEN_ORIGIN,
                   !host_ok ? "Host header not allowed for this server (see allowedHosts)"
                            : "Origin not allowed (see allowedHosts)",
                   NULL);
        return false;
    }
    if (r->route->flags & ROUTE_BODY) {
        const char *cl = http_header(r, "Content-Length");
        uint64_t n;
        if (cl && parse_u64(cl, strlen(cl), UINT64_MAX, &n) && n > c->max_body_bytes) {
            char msg[160];
            snprintf(msg, sizeof msg, "request body of %llu bytes is over maxBodyBytes (%zu)",
                     (unsigned long long)n, c->max_body_bytes);
            http_error(r, ERR_PAYLOAD_TOO_LARGE, msg, NULL);
            return false;
        }
        const char *ct = http_header(r, "Content-Type");
        size_t ctl = ct ? strcspn(ct, "; ") : 0;
        if (!ct || ctl != 16 || strncasecmp(ct, "application/json", 16) != 0) {
            http_error(r, ERR_UNSUPPORTED_MEDIA_TYPE, "the request body must be application/json",
                       NULL);
            return false;
        }
    }
    if (!(r->route->flags & ROUTE_AUTH)) {
        return true;
    }
    auth_result ar = auth_authenticate(c, key_store, &r->a, http_header(r, "Authorization"),
                                       http_header(r, "X-API-Key"), &r->who);
    if (ar != AUTH_OK) {
        metrics_auth_failure(ar == AUTH_CONFLICT  ? METRICS_AUTH_CONFLICT
                             : ar == AUTH_MISSING ? METRICS_AUTH_MISSING
                                                  : METRICS_AUTH_INVALID); /* METRICS (issue 6) */
        rate_state st;
        if (!limiter_take(ip_limiter, ip_key, c->ip_burst, c->ip_rps, 1, &st)) {
            http_rate_headers(r, "ip", &st, true);
            metrics_rate_limited("ip"); /* METRICS (issue 6) */
            char msg[160];
            snprintf(msg, sizeof msg,
                     "too many unauthenticated requests from this address; retry in %.0f s",
                     st.retry_after < 1 ? 1 : ceil(st.retry_after));
            http_error(r, ERR_RATE_LIMITED, msg,
                       json_pack("{s:s, s:I}", "policy", "ip", "retryAfterMs",
                                 (json_int_t)(st.retry_after * 1000)));
            /* a flood is summarized: one audit line per address per minute (flood.h) */
            r->audited = r->audited && flood_refusal(r->ip, r->route->path);
            return false;
        }
        if (ar == AUTH_CONFLICT) {
            http_error(r, ERR_INVALID_REQUEST,
                       "Authorization and X-API-Key carry different credentials", NULL);
        } else {
            http_error(r, ERR_UNAUTHORIZED,
                       ar == AUTH_MISSING ? "missing credential: send Authorization: Bearer <token>"
                                          : "invalid or revoked token",
                       NULL);
        }
        return false;
    }
    r->authed = true;
    r->audit.token_id = r->who.token_id;
    r->audit.tenant_id = r->who.tenant_id;
    rate_state gs;
    if (!locked_bucket_take(&global_bucket, c->rate_burst, c->max_rps, 1, &gs)) {
        http_rate_headers(r, "global", &gs, true);
        metrics_rate_limited("global"); /* METRICS (issue 6) */
        char msg[160];
        snprintf(msg, sizeof msg, "server-wide rate limit exceeded (maxRps=%g); retry in %.0f s",
                 c->max_rps, gs.retry_after < 1 ? 1 : ceil(gs.retry_after));
        http_error(r, ERR_RATE_LIMITED, msg,
                   json_pack("{s:s, s:I}", "policy", "global", "retryAfterMs",
                             (json_int_t)(gs.retry_after * 1000)));
        return false;
    }
    if ((r->route->flags & ROUTE_AUDITED) && !audit_ready()) {
        http_error(r, ERR_AUDIT_UNAVAILABLE,
                   "the audit log cannot be written; requests are refused until it can", NULL);
        return false;
    }
    return true;
}

/* on a pool thread: run the route, then wake the connection, whose next call queues it */
static void run_pooled(void *arg)
{
    http_req *r = arg;
    r->route->fn(r);
    MHD_resume_connection(r->conn);
}

static void run(http_req *r)
{
    if (r->route->flags & ROUTE_BODY) {
        char why[300];
        r->json = jsonx_parse(r->body.ptr ? r->body.ptr : "", r->body.len, why, sizeof why);
        if (!r->json) {
            if (r->route->flags & ROUTE_JSONRPC) {
                /* JSON-RPC's own code for a body that does not parse */
                http_json(r, 400,
                          json_pack("{s:s, s:{s:i, s:s, s:{s:s}}}", "jsonrpc", "2.0", "error",
                                    "code", -32700, "message", why, "data", "error_code",
                                    "invalid_request"));
                r->audit.denied_reason = "invalid_request";
                return;
            }
            http_error(r, ERR_INVALID_REQUEST, why, NULL);
            return;
        }
    }
    if ((r->route->flags & ROUTE_POOL) && pool_threads() > 0 &&
        (!r->route->pooled || r->route->pooled(r))) {
        r->in_pool = true;
        MHD_suspend_connection(r->conn);
        if (pool_submit(run_pooled, r)) {
            return;
        }
        MHD_resume_connection(r->conn); /* pool stopping: run here */
        r->in_pool = false;
    }
    r->route->fn(r);
}

/* A CORS preflight (mcp.md §8): answered before authentication, 204 for an allowed Origin on
 * a known path, 403 otherwise. Never `*`, never credentials: those travel in Authorization. */
static void preflight(http_req *r)
{
    bool known;
    char allow[64];
    find_route(r->url, "", &known, allow, sizeof allow, NULL);
    const char *origin = http_header(r, "Origin");
    const char *host = http_header(r, "Host");
    if (!known || !origin || !http_host_allowed(r->cfg, host) ||
        !http_origin_allowed(r->cfg, origin, host)) {
        http_error(r, ERR_FORBIDDEN_ORIGIN, "preflight from an origin that is not allowed", NULL);
        return;
    }
    http_header_add(r, "Access-Control-Allow-Origin", origin);
    http_header_add(r, "Vary", "Origin");
    http_header_add(r, "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
    http_header_add(r, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Accept, MCP-Protocol-Version, Mcp-Session-Id, "
                    "Mcp-Method, Mcp-Name, Last-Event-ID, X-API-Key, X-Workspace, "
                    "x-leanctx-workspace");
    http_header_add(r, "Access-Control-Max-Age", "600");
    http_empty(r, 204);
}

/* route, then the shared checks; false when r already holds the answer (or the route ran) */
static bool decide(http_req *r)
{
    const char *ip_key = r->ip_key;
    const char *url = r->url, *method = r->method;
    bool known;
    char allow[64];
    if (strcmp(method, "OPTIONS") == 0) {
        preflight(r);
        return false;
    }
    r->route = find_route(url, method, &known, allow, sizeof allow, r);
    if (!r->route) {
        if (known) {
            http_header_add(r, "Allow", allow);
            http_error(r, ERR_METHOD_NOT_ALLOWED, "method not allowed on this route", NULL);
        } else {
            http_error(r, ERR_NOT_FOUND, "no such route", NULL);
        }
        return false;
    }
    r->audited = (r->route->flags & ROUTE_AUDITED) != 0;
    r->audit.method = r->route->path;
    if (!admit(r, ip_key)) {
        return false;
    }
    if (!(r->route->flags & ROUTE_BODY)) {
        run(r);
        return false;
    }
    return true;
}

/* http_stop: while draining, new connections are closed as soon as they are accepted */
static atomic_bool draining;

static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)cls;
    (void)addr;
    (void)len;
    return atomic_load(&draining) ? MHD_NO : MHD_YES;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    http_req *r = *con_cls;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        if (!r) {
            return MHD_NO;
        }
        *con_cls = r;
        atomic_init(&r->refs, 1);
        atomic_fetch_add(&active, 1);
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->start_ns = clock_mono_ns();
        r->audit.ts_ms = clock_wall_ms();
        arena_init(&r->a, 0);
        crypto_random_hex(16, r->request_id);
        r->audit.request_id = r->request_id;
        r->cfg = config_current();
        buf_init(&r->body, r->cfg->max_body_bytes);
        client_ip(conn, r->ip, sizeof r->ip, r->ip_key, sizeof r->ip_key);
        r->audit.source_ip = r->ip;
        /* A request without a body is answered on the next call: a response queued on the
           first one makes libmicrohttpd close the connection, as it cannot know that no body
           follows. A request with a body is judged at once, so a refusal reads none of it. */
        const char *cl = http_header(r, "Content-Length");
        bool has_body = (cl && strcmp(cl, "0") != 0) || http_header(r, "Transfer-Encoding");
        if (!has_body) {
            r->deferred = true;
            return MHD_YES;
        }
        if (!decide(r)) {
            return r->in_pool ? MHD_YES : queue(r);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->body_too_large) {
            buf_append(&r->body, upload_data, *upload_data_size);
            if (r->body.failed) {
                /* a chunked body grew past the limit: keep none of it, decide the answer now */
                r->body_too_large = true;
                buf_release(&r->body);
                char msg[160];
                snprintf(msg, sizeof msg, "request body is over maxBodyBytes (%zu)",
                         r->cfg->max_body_bytes);
                http_error(r, ERR_PAYLOAD_TOO_LARGE, msg, NULL);
            }
        } else {
            /* libmicrohttpd cannot queue a response in the middle of a body (MHD_queue_response
             * fails there, and closing at once loses the answer), so the rest is read and
             * dropped, but only up to BODY_DISCARD_MAX: past that the connection is closed */
            r->discarded += *upload_data_size;
            if (r->discarded > BODY_DISCARD_MAX) {
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->deferred) {
        r->deferred = false;
        if (decide(r)) {
            run(r); /* a body route with an empty body: the parse refuses it */
        }
    } else if (r->in_pool) {
        if (!r->responded) {
            return MHD_YES; /* woken early: the pool has not answered yet */
        }
        r->in_pool = false;
    } else if (!r->responded) {
        run(r);
    }
    /* a route handed to the pool answers when the pool resumes the connection */
    return r->in_pool ? MHD_YES : queue(r);
}

/* ---- request log (issue 5, LOG) ---- */

/* the error_code answered with status, for a failure that names no refusal (500, 504) */
static const char *status_error_code(int status)
{
    for (int e = ERR_OK + 1; e < ERR__COUNT; e++) {
        if (err_http_status((err)e) == status) {
            return err_code((err)e);
        }
    }
    return NULL;
}

/* One request_log row (DESIGN §8) for an authenticated request that reached its route, queued
 * for the store's writer (never a write on this thread): the tool called, or the route's path
 * template; error_message is the error code of a refusal, of a failure, or of a tool's isError
 * result, never a message, output or argument, plus the request id for a 5xx. */
static void request_log_row(http_req *r)
{
    int status = r->audit.status ? r->audit.status : r->status ? r->status : 499;
    const char *code = r->audit.denied_reason ? r->audit.denied_reason : r->tool_error;
    if (!code && status >= 400) {
        code = status_error_code(status);
    }
    char msg[STORE_LOG_TEXT_MAX + 1];
    if (code && status >= 500) {
        snprintf(msg, sizeof msg, "%s request %s", code, r->request_id);
        code = msg;
    }
    store_log_row row = {
        .ts_ms = r->audit.ts_ms,
        .tenant_id = r->who.tenant_id,
        .token_id = r->who.token_id,
        .tool = r->audit.tool ? r->audit.tool : r->route->path,
        .duration_ms = (clock_mono_ns() - r->start_ns) / 1000000,
        .status = status,
        .error_message = code,
    };
    store_log_enqueue(key_store, &row);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    http_req *r = *con_cls;
    if (!r) {
        return;
    }
    if (r->audited) {
        r->audit.duration_ms = (clock_mono_ns() - r->start_ns) / 1000000;
        if (!r->audit.status) {
            r->audit.status = r->status ? r->status : 499;
        }
        audit_write(&r->audit);
    }
    if (r->authed && r->route && key_store && r->cfg->request_log) {
        request_log_row(r); /* request log (issue 5) */
    }
    if (!r->metered) {
        /* METRICS (issue 6): a stream (counted when it ends) or a request never answered */
        int code = r->audit.status ? r->audit.status : r->status;
        metrics_http_request(r->route ? r->route->path : NULL, code ? code : 499,
                             clock_mono_ns() - r->start_ns);
    }
    atomic_store(&r->cancel, true); /* work still running for it (a stream's) stops */
    *con_cls = NULL;
    atomic_fetch_sub(&active, 1);
    http_req_unref(r);
}

http_req *http_req_ref(http_req *r)
{
    atomic_fetch_add(&r->refs, 1);
    return r;
}

void http_req_unref(http_req *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1) {
        return;
    }
    json_decref(r->json);
    buf_release(&r->body);
    xfree(r->resp);
    arena_release(&r->a);
    config_unref(r->cfg);
    xfree(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.')) {
        msg[--n] = '\0';
    }
    log_debug("http: %s", msg);
}

void http_set_store(store *s)
{
    key_store = s;
}

err http_start(const route *routes, size_t n_routes, char *why, size_t why_len)
{
    config *c = config_current();
    route_table = routes;
    n_route_table = n_routes;
    ip_limiter = limiter_new(10000);
    locked_bucket_init(&global_bucket, c->rate_burst, c->max_rps);
    started_mono_ms = clock_mono_ms();

    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", c->port);
    int gai = getaddrinfo(c->host, port, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(why, why_len, "cannot resolve host '%s': %s", c->host, gai_strerror(gai));
        config_unref(c);
        return ERR_IO;
    }
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* connection threads only read, write and admit: one per core; tool calls run on the
       pool, so a long one never stalls the connections that share its thread */
    unsigned threads =
        c->worker_threads > 0 ? (unsigned)c->worker_threads : (unsigned)(cores < 1 ? 1 : cores);
    /* one pool thread per concurrency slot, plus one per core for the calls refused with
       concurrency_limited: a call is then never queued behind a slot it could not get */
    int tool_threads = c->max_concurrency + (int)(cores < 1 ? 1 : cores);
    if (tool_threads > 1024) {
        tool_threads = 1024;
    }
    if (!pool_start(tool_threads)) {
        snprintf(why, why_len, "cannot start the tool threads");
        config_unref(c);
        return ERR_NOMEM;
    }
    daemon_handle = MHD_start_daemon(
        flags, (uint16_t)c->port, accept_policy, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)4096, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!daemon_handle) {
        snprintf(why, why_len, "cannot listen on %s:%d: %s", c->host, c->port,
                 errno ? strerror(errno) : "unknown error");
        config_unref(c);
        return ERR_IO;
    }
    bound_port = c->port;
    /* with port 0 the kernel chose one: ask the daemon which */
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    if (di && di->port) {
        bound_port = di->port;
    }
    config_unref(c);
    return ERR_OK;
}

void http_stop(int64_t drain_ms)
{
    if (!daemon_handle) {
        return;
    }
    /* Not MHD_quiesce_daemon: in libmicrohttpd 0.9.75 it races with the epoll worker threads,
       which remove the listen socket from their epoll sets too; the loser panics ("Failed to
       remove listen FD from epoll set") and aborts the process, about one stop in a hundred
       after recent traffic. The accept policy closes new connections instead. */
    atomic_store(&draining, true);
    sse_shutdown(); /* streams would wait for events that will not come */
    int64_t until = clock_mono_ms() + drain_ms;
    while (atomic_load(&active) > 0 && clock_mono_ms() < until) {
        usleep(10000);
    }
    pool_stop(); /* calls still running finish (each within its deadline) and resume */
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    atomic_store(&draining, false);
}

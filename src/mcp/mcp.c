/* mcp.c - the Model Context Protocol over Streamable HTTP on /mcp, both eras (mcp.md).
 *
 * The era is decided per request (mcp.md §1): a `_meta` protocol version in the body means the
 * stateless 2026-07-28 era, whose headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) must
 * agree with the body; `initialize` or an Mcp-Session-Id means the session-based 2025 era.
 * Every tools/call goes through tool_dispatch(), the same path as REST, so scopes, limits,
 * deadline and audit are identical; only the rendering of outcomes differs (mcp.md §6).
 * Answers are JSON (never SSE): the spec lets the server choose, and clients must accept both.
 * The transport's refusals before this code runs (Host/Origin, body size, authentication,
 * global bucket, audit gate) are JSON-RPC errors too: the routes are marked ROUTE_JSONRPC. */
#include "mcp/mcp.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/alloc.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/pool.h"
#include "http/sse.h"
#include "mcp/session.h"
#include "tools/dispatch.h"
#include "tools/registry.h"

#define MODERN "2026-07-28"
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER "io.modelcontextprotocol/serverInfo"
#define PAGE_SIZE 50

static const char *const legacy_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

static bool is_legacy_version(const char *v)
{
    for (size_t i = 0; i < sizeof legacy_versions / sizeof legacy_versions[0]; i++) {
        if (v && strcmp(v, legacy_versions[i]) == 0) {
            return true;
        }
    }
    return false;
}

typedef struct mcp_call {
    http_req *r;
    sse_stream *stream; /* answers go here as events when the call streams (mcp.md §7) */
    buf *batch;         /* answers are collected here inside a batch (2025-03-26) */
    json_t *id;         /* borrowed from the body; NULL for notifications */
    const char *method;
    json_t *params;
    bool modern;
    char version[16];
    char sid[SESSION_ID_LEN + 1]; /* legacy: the session, "" otherwise */
    double last_progress;
} mcp_call;

/* ---- replies ---- */

/* the message in b is the answer: the HTTP response, or the stream's last event */
static void send_message(mcp_call *m, int status, buf *b)
{
    if (m->batch) {
        buf_putc(m->batch, m->batch->len ? ',' : '[');
        buf_append(m->batch, b->ptr ? b->ptr : "null", b->ptr ? b->len : 4);
        buf_release(b);
        return;
    }
    if (m->stream) {
        sse_event(m->stream, NULL, "message", b->ptr ? b->ptr : "", b->len);
        buf_release(b);
        return;
    }
    http_json_buf(m->r, status, b);
}

static void reply_raw(mcp_call *m, int status, buf *result)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"jsonrpc\":\"2.0\",\"id\":");
    jsonx_dump(&b, m->id ? m->id : json_null());
    buf_puts(&b, ",\"result\":");
    buf_append(&b, result->ptr ? result->ptr : "{}", result->ptr ? result->len : 2);
    buf_putc(&b, '}');
    buf_release(result);
    send_message(m, status, &b);
}

static void reply(mcp_call *m, json_t *result)
{
    if (m->modern) {
        if (!json_object_get(result, "resultType")) {
            json_object_set_new(result, "resultType", json_string("complete"));
        }
        json_t *meta = json_object_get(result, "_meta");
        if (!meta) {
            meta = json_object();
            json_object_set_new(result, "_meta", meta);
        }
        json_object_set_new(meta, META_SERVER,
                            json_pack("{s:s, s:s}", "name", "ctxd", "version", CTXD_VERSION));
    }
    buf b;
    buf_init(&b, 0);
    jsonx_dump(&b, result);
    json_decref(result);
    reply_raw(m, 200, &b);
}

/* a JSON-RPC error; data (owned, may be NULL) gets the REST error_code when one is given */
static void reply_error(mcp_call *m, int status, int code, const char *message,
                        const char *error_code, json_t *data)
{
    if (error_code) {
        if (!data) {
            data = json_object();
        }
        json_object_set_new(data, "error_code", json_string(error_code));
    }
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (data) {
        json_object_set_new(e, "data", data);
    }
    json_t *body = json_pack("{s:s, s:o}", "jsonrpc", "2.0", "error", e);
    if (m->id) {
        json_object_set(body, "id", m->id);
    }
    if (error_code && strcmp(error_code, "unauthorized") != 0) {
        m->r->audit.denied_reason = error_code;
    }
    buf b;
    buf_init(&b, 0);
    jsonx_dump(&b, body);
    json_decref(body);
    send_message(m, status, &b);
}

/* a request id as a lookup key: its JSON text (so 1 and "1" differ, as they must) */
static void request_key(const json_t *id, char *out, size_t cap)
{
    buf b;
    buf_init(&b, cap - 1);
    jsonx_canonical(&b, id);
    snprintf(out, cap, "%s", b.ptr && !b.failed ? b.ptr : "?");
    buf_release(&b);
}

/* ---- headers of the modern era ---- */

/* the Mcp-Name value decoded from `=?base64?...?=` when it is so encoded (mcp.md §3) */
static bool header_value(const char *h, char *out, size_t cap)
{
    size_t n = strlen(h);
    if (n >= 12 && strncmp(h, "=?base64?", 9) == 0 && strcmp(h + n - 2, "?=") == 0) {
        long len = crypto_base64_decode(h + 9, n - 11, (unsigned char *)out, cap - 1);
        if (len < 0 || memchr(out, '\0', (size_t)len)) {
            return false;
        }
        out[len] = '\0';
        return true;
    }
    snprintf(out, cap, "%s", h);
    return strlen(h) < cap;
}

/* 2026-07-28: version, headers and required _meta; false when an error has been answered */
static bool check_modern(mcp_call *m, const char *meta_version, json_t *meta)
{
    http_req *r = m->r;
    /* header against body first: a mismatch is -32020 whatever the versions are */
    const char *hv = http_header(r, "MCP-Protocol-Version");
    if (!hv || strcmp(hv, meta_version) != 0) {
        reply_error(m, 400, -32020,
                    hv ? "MCP-Protocol-Version header does not match _meta protocol version"
                       : "MCP-Protocol-Version header is required",
                    NULL, NULL);
        return false;
    }
    if (strcmp(meta_version, MODERN) != 0) {
        json_t *sup = json_pack("[s, s, s, s]", MODERN, legacy_versions[0], legacy_versions[1],
                                legacy_versions[2]);
        reply_error(m, 400, -32022, "unsupported protocol version", NULL,
                    json_pack("{s:o, s:s}", "supported", sup, "requested", meta_version));
        return false;
    }
    const char *hm = http_header(r, "Mcp-Method");
    if (!hm || strcmp(hm, m->method) != 0) {
        reply_error(m, 400, -32020,
                    hm ? "Mcp-Method header does not match the body's method"
                       : "Mcp-Method header is required",
                    NULL, NULL);
        return false;
    }
    if (strcmp(m->method, "tools/call") == 0 || strcmp(m->method, "resources/read") == 0 ||
        strcmp(m->method, "prompts/get") == 0) {
        const char *hn = http_header(r, "Mcp-Name");
        const char *name =
            jsonx_str(m->params, strcmp(m->method, "resources/read") == 0 ? "uri" : "name");
        char dec[1024];
        if (!hn || !name || !header_value(hn, dec, sizeof dec) || strcmp(dec, name) != 0) {
            reply_error(m, 400, -32020,
                        hn ? "Mcp-Name header does not match the body"
                           : "Mcp-Name header is required",
                        NULL, NULL);
            return false;
        }
    }
    if (!json_is_object(json_object_get(meta, META_CAPS))) {
        reply_error(m, 400, -32602, "_meta is missing " META_CAPS, NULL, NULL);
        return false;
    }
    snprintf(m->version, sizeof m->version, "%s", MODERN);
    return true;
}

/* ---- methods ---- */

static const char instructions_public[] =
    "Code context for this team's workspaces. Start with ctx_search or ctx_tree; read files with "
    "ctx_read (mode=lines:N-M for a window).";

static void m_initialize(mcp_call *m)
{
    http_req *r = m->r;
    const char *want = jsonx_str(m->params, "protocolVersion");
    const char *v = is_legacy_version(want) ? want : legacy_versions[0];
    char id[SESSION_ID_LEN + 1];
    if (!session_create(r->who.token_id, v, id)) {
        reply_error(m, 500, -32603, "cannot create a session", "internal", NULL);
        return;
    }
    http_header_add(r, "Mcp-Session-Id", id);
    const char *ws = r->cfg->default_workspace_id;
    char instr[512];
    snprintf(instr, sizeof instr,
             "Code context for workspace %s. Start with ctx_search or ctx_tree; read files with "
             "ctx_read (mode=lines:N-M for a window).",
             ws ? ws : "(name one with the x-leanctx-workspace header)");
    reply(m, json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", v,
                       "capabilities", "tools", "listChanged", 1, "serverInfo", "name", "ctxd",
                       "version", CTXD_VERSION, "instructions", instr));
}

static void m_discover(mcp_call *m)
{
    json_t *sup = json_pack("[s, s, s, s]", MODERN, legacy_versions[0], legacy_versions[1],
                            legacy_versions[2]);
    reply(m, json_pack("{s:o, s:{s:{s:b}}, s:s, s:i, s:s}", "supportedVersions", sup,
                       "capabilities", "tools", "listChanged", 1, "instructions",
                       instructions_public, "ttlMs", 3600000, "cacheScope", "public"));
}

/* the catalog's identity for cursors: a cursor from another catalog version is refused */
static void catalog_hash(char out[17])
{
    buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < registry_count(); i++) {
        buf_puts(&b, registry_at(i)->name);
        buf_putc(&b, ',');
    }
    char hex[65];
    crypto_sha256_hex(b.ptr ? b.ptr : "", b.len, hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
    buf_release(&b);
}

static void m_tools_list(mcp_call *m)
{
    http_req *r = m->r;
    char hash[17];
    catalog_hash(hash);
    size_t offset = 0;
    const char *cursor = jsonx_str(m->params, "cursor");
    if (json_object_get(m->params, "cursor") &&
        !json_is_null(json_object_get(m->params, "cursor"))) {
        /* the only valid cursors are the ones we hand out: compare with a fresh encoding */
        bool ok = false;
        if (cursor && strlen(cursor) < 200) {
            for (size_t off = PAGE_SIZE; off < registry_count() + PAGE_SIZE && !ok;
                 off += PAGE_SIZE) {
                char plain[64], enc[100];
                snprintf(plain, sizeof plain, "v1:%s:%zu", hash, off);
                crypto_base64url(plain, strlen(plain), enc);
                if (strcmp(enc, cursor) == 0) {
                    ok = true;
                    offset = off;
                }
            }
        }
        if (!ok) {
            reply_error(m, 200, -32602, "invalid cursor", NULL, NULL);
            return;
        }
    }
    json_t *tools = json_array();
    size_t visible = 0;
    bool more = false;
    for (size_t i = 0; i < registry_count(); i++) {
        const tool_def *d = registry_at(i);
        if (!registry_visible(d, r->cfg, &r->who)) {
            continue;
        }
        if (visible >= offset && visible < offset + PAGE_SIZE) {
            json_array_append_new(tools, registry_describe(d));
        } else if (visible >= offset + PAGE_SIZE) {
            more = true;
        }
        visible++;
    }
    json_t *result = json_pack("{s:o}", "tools", tools);
    if (more) {
        char plain[64], enc[100];
        snprintf(plain, sizeof plain, "v1:%s:%zu", hash, offset + PAGE_SIZE);
        crypto_base64url(plain, strlen(plain), enc);
        json_object_set_new(result, "nextCursor", json_string(enc));
    }
    if (m->modern) {
        json_object_set_new(result, "ttlMs", json_integer(300000));
        json_object_set_new(result, "cacheScope", json_string("private"));
    }
    reply(m, result);
}

/* notifications/progress on the call's stream (only when the client sent a progressToken) */
static void send_progress(void *ctx, double done, double total, const char *message)
{
    mcp_call *m = ctx;
    json_t *token = json_object_get(json_object_get(m->params, "_meta"), "progressToken");
    if (!token || !m->stream) {
        return;
    }
    /* progress must increase strictly: report what is done, and never the same value twice */
    if (done <= m->last_progress) {
        done = m->last_progress + 0.001;
    }
    m->last_progress = done;
    json_t *params = json_pack("{s:O, s:f}", "progressToken", token, "progress", done);
    if (total >= 0) {
        json_object_set_new(params, "total", json_real(total));
    }
    if (message) {
        json_object_set_new(params, "message", json_string(message));
    }
    json_t *n = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", "notifications/progress",
                          "params", params);
    buf b;
    buf_init(&b, 0);
    jsonx_dump(&b, n);
    json_decref(n);
    sse_event(m->stream, NULL, "message", b.ptr ? b.ptr : "", b.len);
    buf_release(&b);
}

static void call_tool(mcp_call *m);

/* a refusal the model can act on, answered as a tool result with isError (mcp.md §6), in the
   shape tools use for their own failures */
static void reply_refusal_as_result(mcp_call *m, err code, const char *message)
{
    dispatch_res shown;
    dispatch_res_init(&shown);
    tool_fail(&shown.out, err_code(code), "%s", message);
    buf b;
    buf_init(&b, 0);
    dispatch_write_result(&b, &shown, m->modern ? "\"resultType\":\"complete\"" : NULL);
    dispatch_res_release(&shown);
    m->r->audit.denied_reason = err_code(code);
    reply_raw(m, 200, &b);
}

/* a legacy call can be cancelled by id (notifications/cancelled from its session) */
static void m_tools_call(mcp_call *m)
{
    char key[128] = "";
    if (m->sid[0] && m->id) {
        request_key(m->id, key, sizeof key);
        session_inflight_add(m->sid, key, &m->r->cancel);
    }
    call_tool(m);
    if (key[0]) {
        session_inflight_remove(m->sid, key);
    }
}

static void call_tool(mcp_call *m)
{
    http_req *r = m->r;
    const char *name = jsonx_str(m->params, "name");
    r->audit.tool = name ? arena_strdup(&r->a, name) : NULL;
    if (!name) {
        reply_error(m, 200, -32602, "params.name is required and must be a string", NULL, NULL);
        return;
    }
    json_t *args = json_object_get(m->params, "arguments");
    if (args && json_is_null(args)) {
        args = NULL;
    }
    dispatch_req req = {
        .name = name,
        .args = args,
        .progress = m->stream ? send_progress : NULL,
        .progress_ctx = m,
    };
    dispatch_res res;
    api_tool_call(r, &req, &res);
    const tool_def *d = registry_find_callable(name);
    if (res.code == ERR_REQUEST_TIMEOUT && atomic_load(&r->cancel)) {
        /* cancelled by the client (notifications/cancelled): the spec sends nothing more; an
           HTTP request still needs its answer, so it is a plain error nobody waits for */
        reply_error(m, 200, -32800, "request cancelled", NULL, NULL);
        dispatch_res_release(&res);
        return;
    }
    switch (res.code) {
    case ERR_OK: {
        buf b;
        buf_init(&b, 0);
        char extra[256] = "";
        if (m->modern) {
            snprintf(extra, sizeof extra,
                     "\"resultType\":\"complete\",\"_meta\":{\"" META_SERVER
                     "\":{\"name\":\"ctxd\",\"version\":\"%s\"}}",
                     CTXD_VERSION);
        }
        dispatch_write_result(&b, &res, m->modern ? extra : NULL);
        reply_raw(m, 200, &b);
        break;
    }
    case ERR_INVALID_ARGUMENTS:
    case ERR_INVALID_REQUEST: {
        /* input the model can fix: a tool error it sees, in every era (mcp.md §6) */
        reply_refusal_as_result(m, res.code, res.message);
        break;
    }
    case ERR_UNKNOWN_TOOL: {
        char msg[160];
        snprintf(msg, sizeof msg, "Unknown tool: %.100s", name);
        reply_error(m, 200, -32602, msg, "unknown_tool", NULL);
        break;
    }
    case ERR_SCOPE_DENIED:
        if (d && registry_visible(d, r->cfg, &r->who)) {
            /* the tool is the caller's, the action is not: a result, not an OAuth step-up
               that static keys cannot satisfy (DESIGN §11.2) */
            reply_refusal_as_result(m, res.code, res.message);
        } else {
            buf s;
            buf_init(&s, 512);
            scope_format(&s, res.needed, " ");
            char base[300] = "";
            http_base_url(r, base, sizeof base);
            char h[1024];
            snprintf(h, sizeof h,
                     "Bearer error=\"insufficient_scope\", scope=\"%s\", resource_metadata=\"%s/"
                     ".well-known/oauth-protected-resource/mcp\", error_description=\"%s\"",
                     s.ptr ? s.ptr : "", base, res.message);
            http_header_add(r, "WWW-Authenticate", h);
            buf_release(&s);
            reply_error(m, 403, err_rpc_code(ERR_SCOPE_DENIED), res.message, "scope_denied",
                        json_pack("{s:o}", "requiredScopes", scope_json(res.needed)));
        }
        break;
    case ERR_UNKNOWN_WORKSPACE:
        reply_error(m, 400, -32602, res.message, "unknown_workspace", NULL);
        break;
    case ERR_RATE_LIMITED:
    case ERR_CONCURRENCY_LIMITED:
        reply_error(
            m, 429, err_rpc_code(res.code), res.message, err_code(res.code),
            json_pack(
                "{s:s, s:I}", "policy", res.rate_policy, "retryAfterMs",
                (json_int_t)(res.code == ERR_RATE_LIMITED ? res.rate.retry_after * 1000 : 1000)));
        break;
    default: {
        int status = err_http_status(res.code);
        json_t *data = status >= 500 ? json_pack("{s:s}", "requestId", r->request_id) : NULL;
        if (res.error_data) {
            /* quota: used_bytes, quota_bytes, requested_bytes beside error_code (mcp.md §6) */
            if (!data) {
                data = json_object();
            }
            json_object_update(data, res.error_data);
        }
        reply_error(m, status, err_rpc_code(res.code), res.message, err_code(res.code), data);
        /* a call that ran and then failed shows in status, not as a refusal */
        if (res.code == ERR_REQUEST_TIMEOUT || res.code == ERR_INTERNAL) {
            r->audit.denied_reason = NULL;
        }
    }
    }
    if (res.allowed) {
        r->audit.allowed = true;
    }
    dispatch_res_release(&res);
}

/* everything but tools/call costs 1 from the key bucket, as any authenticated request does */
static bool charge(mcp_call *m)
{
    rate_state st;
    const char *policy = "key";
    if (dispatch_charge(m->r->cfg, &m->r->who, 1, &st, &policy)) {
        return true;
    }
    http_rate_headers(m->r, policy, &st, true);
    reply_error(m, 429, err_rpc_code(ERR_RATE_LIMITED),
                strcmp(policy, "tenant") == 0 ? "rate limit exceeded for this tenant"
                                              : "rate limit exceeded for this key",
                "rate_limited",
                json_pack("{s:s, s:I}", "policy", policy, "retryAfterMs",
                          (json_int_t)(st.retry_after * 1000)));
    return false;
}

/* a tools/call streams when the client asked for progress and accepts SSE (mcp.md §7) */
static bool wants_stream(http_req *r)
{
    json_t *params = json_object_get(r->json, "params");
    json_t *token = json_object_get(json_object_get(params, "_meta"), "progressToken");
    const char *accept = http_header(r, "Accept");
    return (json_is_string(token) || json_is_integer(token)) && accept &&
           strstr(accept, "text/event-stream");
}

typedef struct stream_job {
    mcp_call m;
} stream_job;

/* on a pool thread: the call itself, its progress and its answer go to the stream */
static void run_streaming_call(void *arg)
{
    stream_job *j = arg;
    m_tools_call(&j->m);
    sse_close(j->m.stream);
    sse_unref(j->m.stream);
    http_req_unref(j->m.r);
    xfree(j);
}

/* answer with the stream's headers now, run the call on the pool; the connection's thread
   sends events as they come */
static void start_streaming_call(mcp_call *m)
{
    http_req *r = m->r;
    stream_job *j = xcalloc(1, sizeof *j);
    sse_stream *s = j ? sse_begin(r) : NULL;
    if (!s) {
        xfree(j);
        reply_error(m, 500, -32603, "cannot open a stream", "internal", NULL);
        return;
    }
    j->m = *m;
    j->m.stream = s;
    j->m.last_progress = -1;
    http_req_ref(r);
    if (!pool_submit(run_streaming_call, j)) {
        run_streaming_call(j); /* the pool is stopping: run here */
    }
}

static void m_listen(mcp_call *m);

/* ---- the endpoint ---- */

/* a notification or a response needs no answer: 202, or nothing inside a batch */
static void accepted(mcp_call *m)
{
    if (!m->batch) {
        http_empty(m->r, 202);
    }
}

/* one JSON-RPC message (the whole body, or one member of a batch) */
static void handle(mcp_call *mm, json_t *msg)
{
    mcp_call m = *mm;
    http_req *r = m.r;
    const char *jv = jsonx_str(msg, "jsonrpc");
    if (!json_is_object(msg) || !jv || strcmp(jv, "2.0") != 0) {
        reply_error(&m, 400, -32600, "not a JSON-RPC 2.0 message", "invalid_request", NULL);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    if (id && !json_is_string(id) && !json_is_integer(id)) {
        reply_error(&m, 400, -32600, "id must be a string or an integer", "invalid_request", NULL);
        return;
    }
    m.id = id;
    const char *method = jsonx_str(msg, "method");
    if (!method) {
        if (id && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
            accepted(&m); /* a response to a server request: ctxd sends none */
            return;
        }
        reply_error(&m, 400, -32600, "method is required", "invalid_request", NULL);
        return;
    }
    m.method = method;
    r->audit.method = arena_strdup(&r->a, method);
    json_t *params = json_object_get(msg, "params");
    if (params && !json_is_object(params)) {
        reply_error(&m, 400, -32602, "params must be an object", "invalid_request", NULL);
        return;
    }
    m.params = params;
    json_t *meta = json_object_get(params, "_meta");
    const char *meta_version = jsonx_str(meta, META_VERSION);
    const char *hv = http_header(r, "MCP-Protocol-Version");
    const char *sid = http_header(r, "Mcp-Session-Id");

    if (meta_version) {
        m.modern = true;
        if (!check_modern(&m, meta_version, meta)) {
            return;
        }
    } else if (hv && strcmp(hv, MODERN) == 0) {
        m.modern = true;
        reply_error(&m, 400, -32602, "_meta is missing " META_VERSION, NULL, NULL);
        return;
    } else if (strcmp(method, "initialize") == 0) {
        if (m.batch) {
            reply_error(&m, 400, -32600, "initialize must not be part of a batch",
                        "invalid_request", NULL);
            return;
        }
        if (!charge(&m)) {
            return;
        }
        r->audit.allowed = true;
        m_initialize(&m);
        return;
    } else if (sid) {
        snprintf(m.sid, sizeof m.sid, "%s", sid);
        if (!session_touch(sid, r->who.token_id, m.version)) {
            reply_error(&m, 404, -32600, "unknown or expired session; send initialize again",
                        "not_found", NULL);
            return;
        }
        if (hv && !is_legacy_version(hv)) {
            reply_error(&m, 400, -32600, "unsupported MCP-Protocol-Version", NULL, NULL);
            return;
        }
    } else {
        reply_error(&m, 400, -32600,
                    "no session: send initialize first, or a per-request _meta protocol version",
                    "invalid_request", NULL);
        return;
    }

    if (!id) {
        /* notifications: initialized (nothing to do), cancelled (stop that request) */
        if (strcmp(method, "notifications/cancelled") == 0 && sid) {
            json_t *rid = json_object_get(params, "requestId");
            if (json_is_string(rid) || json_is_integer(rid)) {
                char key[128];
                request_key(rid, key, sizeof key);
                session_cancel(sid, key);
            }
        }
        r->audit.allowed = true;
        accepted(&m);
        return;
    }
    if (strcmp(method, "tools/call") == 0) {
        if (!m.batch && wants_stream(r)) {
            start_streaming_call(&m);
            return;
        }
        m_tools_call(&m);
        return;
    }
    if (!charge(&m)) {
        return;
    }
    r->audit.allowed = true;
    if (strcmp(method, "tools/list") == 0) {
        m_tools_list(&m);
    } else if (strcmp(method, "ping") == 0 && !m.modern) {
        reply(&m, json_object());
    } else if (strcmp(method, "server/discover") == 0 && m.modern) {
        m_discover(&m);
    } else if (strcmp(method, "subscriptions/listen") == 0 && m.modern) {
        m_listen(&m);
    } else {
        char msg2[160];
        snprintf(msg2, sizeof msg2, "Method not found: %.100s", method);
        r->audit.allowed = false;
        reply_error(&m, m.modern ? 404 : 200, -32601, msg2, NULL, NULL);
    }
}

static void mcp_post(http_req *r)
{
    mcp_call m = {.r = r};
    json_t *msg = r->json;
    r->audit.method = "/mcp";
    if (!json_is_array(msg)) {
        handle(&m, msg);
        return;
    }
    /* A batch: only the 2025-03-26 revision has them (and says servers must accept them);
       later ones and the stateless era forbid them (mcp.md §1) */
    const char *sid = http_header(r, "Mcp-Session-Id");
    char version[16];
    if (!sid || !session_touch(sid, r->who.token_id, version) ||
        strcmp(version, "2025-03-26") != 0 || json_array_size(msg) == 0 ||
        json_array_size(msg) > 100) {
        reply_error(&m, 400, -32600,
                    "JSON-RPC batches are accepted only inside a 2025-03-26 session (1-100 "
                    "messages); send one message per request",
                    "invalid_request", NULL);
        return;
    }
    buf out;
    buf_init(&out, 0);
    m.batch = &out;
    size_t i;
    json_t *one;
    json_array_foreach (msg, i, one) {
        handle(&m, one);
    }
    r->audit.method = "batch"; /* not the last member's method */
    if (out.len == 0) {
        buf_release(&out);
        http_empty(r, 202); /* notifications only */
        return;
    }
    buf_putc(&out, ']');
    http_json_buf(r, 200, &out);
}

static void mcp_get(http_req *r)
{
    mcp_call m = {.r = r};
    r->audit.method = "/mcp";
    const char *sid = http_header(r, "Mcp-Session-Id");
    char version[16];
    if (sid && !session_touch(sid, r->who.token_id, version)) {
        reply_error(&m, 404, -32600, "unknown or expired session", "not_found", NULL);
        return;
    }
    if (!sid) {
        http_header_add(r, "Allow", "POST, DELETE");
        reply_error(&m, 405, -32601, "GET opens a session's stream: send its Mcp-Session-Id", NULL,
                    NULL);
        return;
    }
    const char *accept = http_header(r, "Accept");
    if (accept && !strstr(accept, "text/event-stream") && !strstr(accept, "*/*")) {
        reply_error(&m, 406, -32600, "the GET stream is text/event-stream", NULL, NULL);
        return;
    }
    /* the session's server-to-client stream: tools/list_changed after a reload, keep-alives */
    sse_stream *s = sse_begin(r);
    if (!s) {
        reply_error(&m, 500, -32603, "cannot open a stream", "internal", NULL);
        return;
    }
    if (!session_attach_stream(sid, r->who.token_id, s, http_header(r, "Last-Event-ID"))) {
        /* checked above, gone since: the headers are out, so say it and end */
        sse_comment(s, "unknown or expired session");
        sse_close(s);
    } else {
        r->audit.allowed = true;
        if (strcmp(version, "2025-11-25") == 0 && !http_header(r, "Last-Event-ID")) {
            sse_event(s, "0", NULL, "", 0); /* the priming event of that revision */
        }
    }
    sse_unref(s);
}

/* modern listen streams (subscriptions/listen, mcp.md §4.4) */
typedef struct listener {
    struct listener *next;
    sse_stream *stream;
    char token_id[65];
    char sub_id[128]; /* the listen request's id as JSON text */
} listener;

static pthread_mutex_t listen_lock = PTHREAD_MUTEX_INITIALIZER;
static listener *listeners;

#define LISTEN_PER_TOKEN 8
#define LISTEN_TOTAL 256

/* drop listeners whose client went away; count the live ones (all, and this token's) */
static void listeners_prune(const char *token_id, int *all, int *mine)
{
    *all = *mine = 0;
    for (listener **pp = &listeners; *pp;) {
        listener *l = *pp;
        if (sse_gone(l->stream)) {
            *pp = l->next;
            sse_unref(l->stream);
            xfree(l);
            continue;
        }
        (*all)++;
        *mine += strcmp(l->token_id, token_id) == 0;
        pp = &l->next;
    }
}

static void m_listen(mcp_call *m)
{
    http_req *r = m->r;
    json_t *want = json_object_get(m->params, "notifications");
    bool tools = json_is_true(json_object_get(want, "toolsListChanged"));
    pthread_mutex_lock(&listen_lock);
    int all, mine;
    listeners_prune(r->who.token_id, &all, &mine);
    pthread_mutex_unlock(&listen_lock);
    if (all >= LISTEN_TOTAL || mine >= LISTEN_PER_TOKEN) {
        http_header_add(r, "Retry-After", "1");
        reply_error(m, 429, err_rpc_code(ERR_CONCURRENCY_LIMITED),
                    mine >= LISTEN_PER_TOKEN ? "too many listen streams for this token (8)"
                                             : "too many listen streams on this server",
                    "concurrency_limited", json_pack("{s:I}", "retryAfterMs", (json_int_t)1000));
        return;
    }
    listener *l = xcalloc(1, sizeof *l);
    sse_stream *s = l ? sse_begin(r) : NULL;
    if (!s) {
        xfree(l);
        reply_error(m, 500, -32603, "cannot open a stream", "internal", NULL);
        return;
    }
    request_key(m->id, l->sub_id, sizeof l->sub_id);
    char ack[512];
    snprintf(ack, sizeof ack,
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/subscriptions/acknowledged\","
             "\"params\":{\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":%s},"
             "\"notifications\":{%s}}}",
             l->sub_id, tools ? "\"toolsListChanged\":true" : "");
    sse_event(s, NULL, "message", ack, strlen(ack));
    if (!tools) {
        /* nothing this server could tell it: keep the stream (keep-alives) but never notify */
        l->sub_id[0] = '\0';
    }
    l->stream = s; /* the caller's reference moves into the list */
    snprintf(l->token_id, sizeof l->token_id, "%s", r->who.token_id);
    pthread_mutex_lock(&listen_lock);
    l->next = listeners;
    listeners = l;
    pthread_mutex_unlock(&listen_lock);
    r->audit.allowed = true;
}

void mcp_tools_changed(void)
{
    session_broadcast("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}");
    pthread_mutex_lock(&listen_lock);
    for (listener *l = listeners; l; l = l->next) {
        if (l->sub_id[0] && !sse_gone(l->stream)) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\","
                     "\"params\":{\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":%s}}}",
                     l->sub_id);
            sse_event(l->stream, NULL, "message", msg, strlen(msg));
        }
    }
    pthread_mutex_unlock(&listen_lock);
}

static void mcp_delete(http_req *r)
{
    mcp_call m = {.r = r};
    r->audit.method = "/mcp";
    const char *sid = http_header(r, "Mcp-Session-Id");
    if (!sid) {
        http_header_add(r, "Allow", "POST");
        reply_error(&m, 405, -32601, "DELETE ends a session: send its Mcp-Session-Id", NULL, NULL);
        return;
    }
    if (!session_delete(sid, r->who.token_id)) {
        reply_error(&m, 404, -32600, "unknown or expired session", "not_found", NULL);
        return;
    }
    r->audit.allowed = true;
    http_empty(r, 204);
}

/* RFC 9728 protected-resource metadata (mcp.md §9) */
static void well_known(http_req *r, bool for_mcp)
{
    char base[300];
    if (!http_base_url(r, base, sizeof base)) {
        http_error(r, ERR_INVALID_REQUEST, "the Host header is missing or not a host[:port]", NULL);
        return;
    }
    char resource[320];
    snprintf(resource, sizeof resource, "%s%s", base, for_mcp ? "/mcp" : "");
    http_json(r, 200,
              json_pack("{s:s, s:o, s:[s], s:s}", "resource", resource, "scopes_supported",
                        scope_json(SCOPE_ALL), "bearer_methods_supported", "header",
                        "resource_name", "ctxd"));
}

static void well_known_mcp(http_req *r)
{
    well_known(r, true);
}

static void well_known_root(http_req *r)
{
    well_known(r, false);
}

/* a tools/call of a tool that walks a tree goes to the pool; everything else is quick */
static bool post_needs_pool(http_req *r)
{
    if (json_is_array(r->json)) {
        return true; /* a batch may hold any call: off the connection thread */
    }
    const char *method = jsonx_str(r->json, "method");
    if (!method || strcmp(method, "tools/call") != 0 || wants_stream(r)) {
        return false; /* a streaming call answers here and hands its work to the pool itself */
    }
    const char *name = jsonx_str(json_object_get(r->json, "params"), "name");
    const tool_def *d = name ? registry_find_callable(name) : NULL;
    return !(d && d->quick);
}

static const route routes[] = {
    {.path = "/mcp",
     .method = "POST",
     .flags = ROUTE_AUTH | ROUTE_AUDITED | ROUTE_BODY | ROUTE_POOL | ROUTE_JSONRPC,
     .fn = mcp_post,
     .pooled = post_needs_pool},
    {.path = "/mcp",
     .method = "GET",
     .flags = ROUTE_AUTH | ROUTE_AUDITED | ROUTE_JSONRPC,
     .fn = mcp_get},
    {.path = "/mcp",
     .method = "DELETE",
     .flags = ROUTE_AUTH | ROUTE_AUDITED | ROUTE_JSONRPC,
     .fn = mcp_delete},
    {.path = "/.well-known/oauth-protected-resource/mcp", .method = "GET", .fn = well_known_mcp},
    {.path = "/.well-known/oauth-protected-resource", .method = "GET", .fn = well_known_root},
};

const route *mcp_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

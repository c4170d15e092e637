/* err.h - the one table of error codes.
 *
 * Each row: C name, HTTP status, JSON-RPC code (for /mcp, mcp.md §6), the stable `error_code`
 * string of the REST envelope (DESIGN §4). Functions that act return `err`; ERR_OK is 0. */
#ifndef CTXD_CORE_ERR_H
#define CTXD_CORE_ERR_H

#define ERR_LIST(X)                                                                                \
    X(OK, 200, 0, "ok")                                                                            \
    X(UNAUTHORIZED, 401, -31401, "unauthorized")                                                   \
    X(SCOPE_DENIED, 403, -31403, "scope_denied")                                                   \
    X(FORBIDDEN_ORIGIN, 403, -31403, "forbidden_origin")                                           \
    X(UNKNOWN_WORKSPACE, 400, -32602, "unknown_workspace")                                         \
    X(UNKNOWN_TOOL, 404, -32602, "unknown_tool")                                                   \
    X(NOT_FOUND, 404, -32601, "not_found")                                                         \
    X(METHOD_NOT_ALLOWED, 405, -32601, "method_not_allowed")                                       \
    X(CONFLICT, 409, -32600, "conflict")                                                           \
    X(UNSUPPORTED_MEDIA_TYPE, 415, -32600, "unsupported_media_type")                               \
    X(INVALID_REQUEST, 400, -32600, "invalid_request")                                             \
    X(INVALID_ARGUMENTS, 400, -32602, "invalid_arguments")                                         \
    X(PAYLOAD_TOO_LARGE, 413, -31413, "payload_too_large")                                         \
    X(RATE_LIMITED, 429, -31429, "rate_limited")                                                   \
    X(CONCURRENCY_LIMITED, 429, -31429, "concurrency_limited")                                     \
    X(QUOTA_EXCEEDED, 507, -31507, "quota_exceeded")                                               \
    X(REQUEST_TIMEOUT, 504, -31504, "request_timeout")                                             \
    X(AUDIT_UNAVAILABLE, 503, -31503, "audit_unavailable")                                         \
    X(INTERNAL, 500, -32603, "internal")                                                           \
    /* not HTTP-facing: internal failures mapped by callers */                                     \
    X(NOMEM, 500, -32603, "internal")                                                              \
    X(IO, 500, -32603, "internal")                                                                 \
    X(LIMIT, 409, -32600, "conflict") /* a store cap (per workspace) was reached */                \
    X(CANCELLED, 504, -31504, "request_timeout")

typedef enum {
#define X(name, status, rpc, code) ERR_##name,
    ERR_LIST(X)
#undef X
        ERR__COUNT
} err;

int err_http_status(err e);
int err_rpc_code(err e);
const char *err_code(err e);

#define WARN_UNUSED __attribute__((warn_unused_result))

#endif

/* sse.h - Server-Sent Events responses (http-conventions.md §3, mcp.md §7).
 *
 * A stream is a bounded byte queue between producers (any thread: a tool call reporting
 * progress, a config reload announcing a tool list change) and the connection's thread, which
 * libmicrohttpd drives through a content-reader callback: when the queue is empty the
 * connection is suspended, and the next write resumes it. A stream is refcounted: the
 * response holds one reference until the connection is done with it, each producer holds one
 * while it may write. When the client goes away, writes fail (and the request's cancel flag is
 * set), so producers stop. Every open stream gets a `: keep-alive` comment after 15 s of
 * silence. */
#ifndef CTXD_HTTP_SSE_H
#define CTXD_HTTP_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

#define SSE_MAX_PENDING ((size_t)16 << 20)

typedef struct sse_stream sse_stream;

/* Answer r with a 200 text/event-stream response (plus r's extra headers). Returns the stream
 * with one reference for the caller, or NULL. The request's own reference to the stream is
 * released when the connection is done. */
sse_stream *sse_begin(http_req *r);
sse_stream *sse_ref(sse_stream *s);
void sse_unref(sse_stream *s);
/* one event: `id:` (may be NULL), `event:` (may be NULL), one `data:` line per line of data;
 * false when the client has gone or the stream is closed or over SSE_MAX_PENDING */
bool sse_event(sse_stream *s, const char *id, const char *event, const char *data, size_t len);
bool sse_comment(sse_stream *s, const char *text);
/* no more events: the response ends once the queue is drained */
void sse_close(sse_stream *s);
bool sse_gone(sse_stream *s);
/* server shutdown: end every open stream */
void sse_shutdown(void);

/* EVENTS (issue 6): a pull stream. When the queue is empty the connection's thread calls
 * refill(s, ctx) (outside the stream's lock; it writes with sse_event and friends) before
 * sleeping, after sse_set_refill and after every sse_kick; done(ctx) runs once when the
 * connection is finished with the stream. sse_kick may be called from any thread. */
typedef void (*sse_refill_fn)(sse_stream *s, void *ctx);
void sse_set_refill(sse_stream *s, sse_refill_fn refill, void (*done)(void *ctx), void *ctx);
void sse_kick(sse_stream *s);
/* the `retry: <ms>` line (http-conventions.md §3) */
bool sse_retry(sse_stream *s, int ms);

#endif

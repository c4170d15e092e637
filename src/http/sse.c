/* sse.c - SSE streams over libmicrohttpd content-reader callbacks (see sse.h).
 *
 * Locking: each stream has its own mutex. The connection thread suspends the connection while
 * holding it (so a concurrent write cannot slip between "queue empty" and "suspended" and be
 * left unseen); a writer resumes only after releasing it, so the two never wait on each other
 * through libmicrohttpd's own locks. */
#include "http/sse.h"

#include <microhttpd.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/metrics.h"

#define KEEPALIVE_MS 15000

struct sse_stream {
    pthread_mutex_t lock;
    int refs;
    struct MHD_Connection *conn;
    http_req *req; /* a reference: its cancel flag is set when the client goes away */
    buf pending;
    size_t sent_off; /* consumed prefix of pending */
    bool suspended;
    bool closed;
    bool gone;
    int64_t last_ms;
    sse_stream *next, *prev; /* the list of open streams, for keep-alives */
    int metrics_kind;        /* METRICS (issue 6): ctxd_sse_streams{kind} while listed */
    /* EVENTS (issue 6): a pull stream (sse_set_refill) */
    sse_refill_fn refill;
    void (*refill_done)(void *ctx);
    void *refill_ctx;
    bool kicked;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static sse_stream *streams;
static pthread_t ticker;
static bool ticker_started;

sse_stream *sse_ref(sse_stream *s)
{
    pthread_mutex_lock(&s->lock);
    s->refs++;
    pthread_mutex_unlock(&s->lock);
    return s;
}

void sse_unref(sse_stream *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        buf_release(&s->pending);
        pthread_mutex_destroy(&s->lock);
        xfree(s);
    }
}

/* append text and wake the connection if it sleeps; false when the stream cannot take it */
static bool push(sse_stream *s, const char *text, size_t n)
{
    pthread_mutex_lock(&s->lock);
    if (s->gone || s->closed || s->pending.len - s->sent_off + n > SSE_MAX_PENDING) {
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    buf_append(&s->pending, text, n);
    s->last_ms = clock_mono_ms();
    bool wake = s->suspended;
    s->suspended = false;
    pthread_mutex_unlock(&s->lock);
    if (wake) {
        MHD_resume_connection(s->conn);
    }
    return true;
}

bool sse_event(sse_stream *s, const char *id, const char *event, const char *data, size_t len)
{
    buf b;
    buf_init(&b, SSE_MAX_PENDING);
    if (id) {
        buf_printf(&b, "id: %s\n", id);
    }
    if (event) {
        buf_printf(&b, "event: %s\n", event);
    }
    /* one data: line per line: compact JSON has none, but a payload is never trusted to */
    const char *p = data, *end = data + len;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        buf_puts(&b, "data: ");
        buf_append(&b, p, l);
        buf_putc(&b, '\n');
        p += l + (nl ? 1 : 0);
    } while (p < end);
    buf_putc(&b, '\n');
    bool ok = !b.failed && push(s, b.ptr, b.len);
    buf_release(&b);
    return ok;
}

bool sse_comment(sse_stream *s, const char *text)
{
    char line[256];
    int n = snprintf(line, sizeof line, ": %s\n\n", text);
    return push(s, line, (size_t)n);
}

void sse_close(sse_stream *s)
{
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    bool wake = s->suspended;
    s->suspended = false;
    pthread_mutex_unlock(&s->lock);
    if (wake) {
        MHD_resume_connection(s->conn);
    }
}

bool sse_gone(sse_stream *s)
{
    pthread_mutex_lock(&s->lock);
    bool g = s->gone;
    pthread_mutex_unlock(&s->lock);
    return g;
}

void sse_shutdown(void)
{
    /* every open stream ends now (a `: shutdown` comment first, http-conventions.md §3): a
       suspended stream would otherwise keep its connection, and the daemon, alive */
    sse_stream *all[1024];
    int n = 0;
    pthread_mutex_lock(&list_lock);
    for (sse_stream *s = streams; s && n < 1024; s = s->next) {
        all[n++] = sse_ref(s);
    }
    pthread_mutex_unlock(&list_lock);
    for (int i = 0; i < n; i++) {
        sse_comment(all[i], "shutdown");
        sse_close(all[i]);
        sse_unref(all[i]);
    }
}

/* EVENTS (issue 6): pull streams */
void sse_set_refill(sse_stream *s, sse_refill_fn refill, void (*done)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&s->lock);
    s->refill = refill;
    s->refill_done = done;
    s->refill_ctx = ctx;
    pthread_mutex_unlock(&s->lock);
    sse_kick(s);
}

void sse_kick(sse_stream *s)
{
    pthread_mutex_lock(&s->lock);
    s->kicked = true;
    bool wake = s->suspended && !s->gone;
    s->suspended = false;
    pthread_mutex_unlock(&s->lock);
    if (wake) {
        MHD_resume_connection(s->conn);
    }
}

bool sse_retry(sse_stream *s, int ms)
{
    char line[32];
    int n = snprintf(line, sizeof line, "retry: %d\n\n", ms);
    return push(s, line, (size_t)n);
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    sse_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    /* EVENTS: a pull stream's producer is asked for more (outside the lock) while kicked */
    while (s->refill && s->kicked && !s->closed && s->pending.len == s->sent_off) {
        s->kicked = false;
        sse_refill_fn fn = s->refill;
        void *ctx = s->refill_ctx;
        pthread_mutex_unlock(&s->lock);
        fn(s, ctx);
        pthread_mutex_lock(&s->lock);
    }
    size_t avail = s->pending.len - s->sent_off;
    if (avail) {
        size_t n = avail < max ? avail : max;
        memcpy(out, s->pending.ptr + s->sent_off, n);
        s->sent_off += n;
        if (s->sent_off == s->pending.len) {
            buf_truncate(&s->pending, 0);
            s->sent_off = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return (ssize_t)n;
    }
    if (s->closed) {
        pthread_mutex_unlock(&s->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void reader_done(void *cls)
{
    sse_stream *s = cls;
    pthread_mutex_lock(&list_lock);
    if (s->prev) {
        s->prev->next = s->next;
    } else if (streams == s) {
        streams = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    pthread_mutex_unlock(&list_lock);
    metrics_sse_add((metrics_sse_kind)s->metrics_kind, -1); /* METRICS (issue 6) */
    pthread_mutex_lock(&s->lock);
    s->gone = true;
    http_req *r = s->req;
    if (!s->closed && r) {
        atomic_store(&r->cancel, true); /* the client went away before the end */
    }
    s->req = NULL;
    pthread_mutex_unlock(&s->lock);
    /* EVENTS: the pull stream's producer lets go */
    pthread_mutex_lock(&s->lock);
    void (*done)(void *) = s->refill_done;
    void *done_ctx = s->refill_ctx;
    s->refill = NULL;
    s->refill_done = NULL;
    pthread_mutex_unlock(&s->lock);
    if (done) {
        done(done_ctx);
    }
    /* the response can outlive the request's own end (libmicrohttpd destroys it later), so
       the stream held a reference until here */
    if (r) {
        http_req_unref(r);
    }
    sse_unref(s);
}

static void *tick(void *unused)
{
    (void)unused;
    for (;;) {
        sleep(1);
        /* collect under the list lock, write after it: a write may resume a connection, and
           the connection thread takes the list lock when it is done with a stream */
        sse_stream *due[256];
        int n = 0;
        int64_t now = clock_mono_ms();
        pthread_mutex_lock(&list_lock);
        for (sse_stream *s = streams; s && n < 256; s = s->next) {
            pthread_mutex_lock(&s->lock);
            if (!s->closed && !s->gone && now - s->last_ms >= KEEPALIVE_MS) {
                s->refs++;
                due[n++] = s;
            }
            pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_unlock(&list_lock);
        for (int i = 0; i < n; i++) {
            sse_comment(due[i], "keep-alive");
            sse_unref(due[i]);
        }
    }
    return NULL;
}

sse_stream *sse_begin(http_req *r)
{
    sse_stream *s = xcalloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->refs = 2; /* the response's and the caller's */
    s->conn = r->conn;
    s->req = http_req_ref(r);
    s->last_ms = clock_mono_ms();
    buf_init(&s->pending, SSE_MAX_PENDING + 4096);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, s, reader_done);
    if (!resp) {
        http_req_unref(r);
        pthread_mutex_destroy(&s->lock);
        xfree(s);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    for (int i = 0; i < r->nhdr; i++) {
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
    }
    /* METRICS (issue 6): the events stream (/v1/events...) or an MCP one */
    s->metrics_kind = r->route && strncmp(r->route->path, "/v1/events", 10) == 0
                          ? METRICS_SSE_EVENTS
                          : METRICS_SSE_MCP;
    metrics_sse_add((metrics_sse_kind)s->metrics_kind, 1);
    pthread_mutex_lock(&list_lock);
    s->next = streams;
    if (streams) {
        streams->prev = s;
    }
    streams = s;
    if (!ticker_started && pthread_create(&ticker, NULL, tick, NULL) == 0) {
        pthread_detach(ticker);
        ticker_started = true;
    }
    pthread_mutex_unlock(&list_lock);
    r->status = 200;
    r->audit.status = 200;
    r->responded = true;
    r->streaming = true;
    MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return s;
}

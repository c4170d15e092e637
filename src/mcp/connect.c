/* connect.c - `ctxd connect`: the stdio MCP bridge (mcp.md §12).
 *
 * An MCP server on stdin/stdout that forwards every message to a team server's /mcp. Each line
 * on stdin is one JSON-RPC message; it is POSTed as it is (the exact bytes, so the server sees
 * what the client wrote), with the headers of the era the message belongs to:
 * - legacy (2025-*): the client sends `initialize`; the bridge keeps the Mcp-Session-Id and the
 *   negotiated version from its answer and sends both on every later message. When the server
 *   answers 404 to a request that carried the session (it restarted, the session is gone), the
 *   bridge initializes again with the client's original initialize params, out of sight of the
 *   client, and retries the request once.
 * - modern (2026-07-28, a `_meta` protocol version in params): MCP-Protocol-Version, Mcp-Method
 *   and Mcp-Name are derived from the body; values that are not plain ASCII travel as
 *   `=?base64?…?=`.
 * A JSON answer is written as one line; an event stream is parsed and each message written as
 * its own line as it arrives (progress first, then the response). A legacy stream that ends
 * before its response is resumed with GET + Last-Event-ID after the server's `retry:` delay.
 *
 * Threads: the main thread reads stdin; every message runs on its own detached thread with its
 * own curl easy handle, so a long tools/call never holds up a ping or a cancellation. At most
 * MAX_INFLIGHT run at once (the reader waits for a slot). Legacy messages read after an
 * initialize wait until it is answered (the reader counts it before the next line), so they
 * carry its session even when their thread starts first. Output goes through emit_line(): one
 * write of message + newline under out_mu. `notifications/cancelled` for a modern request
 * aborts its transfer (closing the stream is the modern cancellation); for a legacy one it is
 * forwarded. Either way nothing more is written for the cancelled request. At the end of stdin
 * the bridge waits up to DRAIN_MS for messages in flight, ends the legacy session (DELETE) and
 * exits 0.
 *
 * Invariant: stdout carries only protocol. The real stdout is moved to a private descriptor at
 * start and fd 1 is pointed at stderr, so nothing a library prints can reach the client.
 *
 * Failures become JSON-RPC errors for requests (never for notifications, whose failures are
 * logged): a refused connection is retried for up to RECONNECT_MS (a restarting server); a
 * non-2xx answer keeps the server's JSON-RPC error (code and data) with the HTTP status named in
 * the message and in data.httpStatus, or is built from the status and the REST envelope. Every
 * buffer is bounded: a line over MAX_LINE, a body or an event over MAX_BODY. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "mcp/mcp.h"

#define MAX_LINE ((size_t)16 << 20) /* one message from the client */
#define MAX_BODY ((size_t)64 << 20) /* one answer or one event from the server */
#define MAX_OUT (2 * MAX_BODY)      /* one message re-serialized for the client */
#define MAX_HEADER_VALUE 8192       /* longer Mcp-Name values are left out (spec advice) */
#define MAX_INFLIGHT 64             /* messages being forwarded at once */
#define RECONNECT_MS 10000          /* how long a refused connection is retried */
#define DRAIN_MS 5000               /* how long EOF waits for messages in flight */
#define INIT_TIMEOUT_MS 60000L      /* an initialize (the client's or ours) */
#define RESUME_TRIES 5              /* GET + Last-Event-ID attempts for one stream */
#define SESSION_MAX 256
#define META_VERSION "io.modelcontextprotocol/protocolVersion"

/* ---- configuration (set once before any thread starts) ---- */

static struct {
    char *url;       /* <base>/mcp */
    char *auth;      /* "Authorization: Bearer <token>" */
    char *workspace; /* "x-leanctx-workspace: <id>", or NULL */
} bridge;

/* ---- output ---- */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = -1;
static atomic_bool out_broken;

/* write one message and its newline with one write() under the lock */
static void emit_line(buf *line)
{
    buf_putc(line, '\n');
    if (line->failed) {
        log_error("a message for the client is larger than %zu bytes; dropped", (size_t)MAX_OUT);
        return;
    }
    pthread_mutex_lock(&out_mu);
    size_t off = 0;
    while (off < line->len && !atomic_load(&out_broken)) {
        ssize_t w = write(out_fd, line->ptr + off, line->len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            log_error("cannot write to stdout: %s", strerror(errno));
            atomic_store(&out_broken, true);
            break;
        }
        off += (size_t)w;
    }
    pthread_mutex_unlock(&out_mu);
}

static bool has_newline(const char *p, size_t n)
{
    return memchr(p, '\n', n) || memchr(p, '\r', n);
}

/* a message the server sent: its own bytes when they are one line, else re-serialized */
static void emit_text(const char *text, size_t n, const json_t *parsed)
{
    buf line;
    buf_init(&line, MAX_OUT);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n' ||
                 text[n - 1] == '\r')) {
        n--;
    }
    while (n && (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) {
        text++;
        n--;
    }
    if (has_newline(text, n)) {
        jsonx_dump(&line, parsed);
    } else {
        buf_append(&line, text, n);
    }
    emit_line(&line);
    buf_release(&line);
}

static void emit_json(const json_t *m)
{
    buf line;
    buf_init(&line, MAX_OUT);
    jsonx_dump(&line, m);
    emit_line(&line);
    buf_release(&line);
}

/* a JSON-RPC error response; data is stolen (may be NULL), id borrowed (NULL: null) */
static void emit_error(const json_t *id, int code, const char *message, json_t *data)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (data) {
        json_object_set_new(e, "data", data);
    }
    json_t *m =
        json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", e);
    if (m) {
        emit_json(m);
    }
    json_decref(m);
}

/* ---- the legacy session (shared by every thread) ---- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char id[SESSION_MAX]; /* Mcp-Session-Id, "" when there is none */
    char version[32];     /* the negotiated protocolVersion, "" before initialize */
    json_t *init_params;  /* the client's initialize params (immutable once stored) */
    unsigned gen;         /* bumped whenever the session changes */
    unsigned reinits;
    /* client initializes read from stdin and not finished: counted by the reader, so that a
       message read after an initialize waits for it even if its thread starts first */
    int pending;
    bool running; /* an initialize exchange (the client's or ours) is under way */
} sess = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

typedef struct session_view {
    char id[SESSION_MAX];
    char version[32];
    unsigned gen;
} session_view;

/* the session as it is once no initialize is pending */
static void session_get(session_view *v)
{
    pthread_mutex_lock(&sess.mu);
    while (sess.pending > 0 || sess.running) {
        pthread_cond_wait(&sess.cv, &sess.mu);
    }
    memcpy(v->id, sess.id, sizeof v->id);
    memcpy(v->version, sess.version, sizeof v->version);
    v->gen = sess.gen;
    pthread_mutex_unlock(&sess.mu);
}

/* the reader saw a client initialize */
static void session_expect_init(void)
{
    pthread_mutex_lock(&sess.mu);
    sess.pending++;
    pthread_mutex_unlock(&sess.mu);
}

/* claim the right to run an initialize: the client's (one after the other), or the bridge's
 * own, which gives way when the session changed since gen (false then) */
static bool session_begin_init(bool own, unsigned gen)
{
    pthread_mutex_lock(&sess.mu);
    while (sess.running || (own && sess.pending > 0)) {
        pthread_cond_wait(&sess.cv, &sess.mu);
    }
    if (own && sess.gen != gen) {
        pthread_mutex_unlock(&sess.mu);
        return false;
    }
    sess.running = true;
    pthread_mutex_unlock(&sess.mu);
    return true;
}

/* end an initialize; with ok, the new session (id may be "": a server without sessions) and
 * the params to use for the next re-initialize (a new reference, or NULL to keep the old) */
static void session_end_init(bool own, bool ok, const char *id, const char *version, json_t *params)
{
    pthread_mutex_lock(&sess.mu);
    if (ok) {
        snprintf(sess.id, sizeof sess.id, "%s", id);
        snprintf(sess.version, sizeof sess.version, "%s", version ? version : "");
        if (params) {
            json_decref(sess.init_params);
            sess.init_params = params;
        }
        sess.gen++;
    } else {
        json_decref(params);
    }
    sess.running = false;
    if (!own) {
        sess.pending--;
    }
    pthread_cond_broadcast(&sess.cv);
    pthread_mutex_unlock(&sess.mu);
}

/* ---- messages in flight ---- */

typedef struct call call;
struct call {
    char *line; /* the client's bytes, forwarded as they are */
    size_t len;
    json_t *msg;
    const json_t *id;      /* borrowed from msg; NULL for notifications and batches */
    const char *method;    /* borrowed; NULL for a response or a batch */
    bool wants_reply;      /* a request, or a batch holding one */
    bool modern;           /* params._meta carries a protocol version */
    bool initialize;       /* the client's (legacy) initialize */
    bool cancel;           /* notifications/cancelled */
    const char *proto;     /* modern: that version (borrowed) */
    atomic_bool cancelled; /* the client cancelled it: write nothing more for it */
    atomic_bool abort;     /* stop its HTTP transfer */
    call *prev, *next;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    call *head;
    int n;
} inflight = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static atomic_bool hard_stop; /* end of input and the drain time is over: abort everything */

static void call_free(call *c)
{
    json_decref(c->msg);
    xfree(c->line);
    xfree(c);
}

static void call_done(call *c)
{
    pthread_mutex_lock(&inflight.mu);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        inflight.head = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    inflight.n--;
    pthread_cond_broadcast(&inflight.cv);
    pthread_mutex_unlock(&inflight.mu);
    call_free(c);
}

/* mark the in-flight request with this id (not `self`); with abort also stop its transfer.
 * Returns whether one was found and, in modern, its era */
static bool mark_request(const json_t *id, const call *self, bool abort, bool *modern)
{
    bool found = false;
    pthread_mutex_lock(&inflight.mu);
    for (call *c = inflight.head; c; c = c->next) {
        if (c != self && c->id && json_equal(c->id, id)) {
            atomic_store(&c->cancelled, true);
            if (abort || c->modern) {
                atomic_store(&c->abort, true);
            }
            if (modern) {
                *modern = c->modern;
            }
            found = true;
        }
    }
    pthread_mutex_unlock(&inflight.mu);
    return found;
}

/* ---- one HTTP exchange ---- */

typedef struct target {
    const char *session;       /* Mcp-Session-Id */
    const char *version;       /* MCP-Protocol-Version */
    const char *mcp_method;    /* modern: Mcp-Method */
    const char *mcp_name;      /* modern: Mcp-Name */
    const char *last_event_id; /* a resumed stream */
} target;

typedef struct exchange {
    call *c;        /* whose abort flag stops the transfer; NULL for the bridge's own */
    bool to_client; /* messages of an event stream go to stdout as they arrive */
    CURL *h;
    CURLcode rc;
    long status;
    char errbuf[CURL_ERROR_SIZE];
    char session[SESSION_MAX]; /* Mcp-Session-Id of the answer */
    char retry_after[24];
    bool started, sse, too_large;
    bool refused; /* some attempt found no server listening */
    buf body;     /* a plain answer */
    /* the event stream: the current line and event, the last id and retry delay */
    buf line, data;
    bool skip_lf;
    char last_id[256];
    long retry_ms;
    json_t *reply;    /* a plain 2xx answer, parsed */
    json_t *response; /* the JSON-RPC response among the messages (a reference) */
} exchange;

static void exchange_init(exchange *x, call *c, bool to_client)
{
    memset(x, 0, sizeof *x);
    x->c = c;
    x->to_client = to_client;
    buf_init(&x->body, MAX_BODY);
    buf_init(&x->line, MAX_BODY);
    buf_init(&x->data, MAX_BODY);
}

static void exchange_release(exchange *x)
{
    buf_release(&x->body);
    buf_release(&x->line);
    buf_release(&x->data);
    json_decref(x->reply);
    json_decref(x->response);
    x->reply = x->response = NULL;
}

/* ready for another attempt; the stream's last id and retry delay survive (resumption) */
static void exchange_reset(exchange *x)
{
    call *c = x->c;
    bool to_client = x->to_client;
    char last_id[sizeof x->last_id];
    memcpy(last_id, x->last_id, sizeof last_id);
    long retry_ms = x->retry_ms;
    exchange_release(x);
    exchange_init(x, c, to_client);
    memcpy(x->last_id, last_id, sizeof last_id);
    x->retry_ms = retry_ms;
}

static bool stopping(const exchange *x)
{
    return atomic_load(&hard_stop) || (x->c && atomic_load(&x->c->abort));
}

static bool is_response(const json_t *m)
{
    return json_is_object(m) && !json_object_get(m, "method") &&
           (json_object_get(m, "result") || json_object_get(m, "error"));
}

/* a message that arrived on an event stream */
static void stream_message(exchange *x, const char *text, size_t n)
{
    char why[200];
    json_t *m = jsonx_parse(text, n, why, sizeof why);
    if (!m) {
        log_warn("ignoring an event from the server that is not JSON: %s", why);
        return;
    }
    if (is_response(m)) {
        json_decref(x->response);
        x->response = json_incref(m);
    }
    if (x->to_client && !(x->c && atomic_load(&x->c->cancelled))) {
        emit_text(text, n, m);
    }
    json_decref(m);
}

/* one complete line of the event stream (WHATWG server-sent events) */
static void sse_line(exchange *x)
{
    const char *l = x->line.ptr ? x->line.ptr : "";
    size_t n = x->line.len;
    if (n == 0) { /* end of an event: dispatch its data */
        if (x->data.len) {
            buf_truncate(&x->data, x->data.len - 1); /* the newline after the last data line */
            if (x->data.len) {
                stream_message(x, x->data.ptr, x->data.len);
            }
            buf_truncate(&x->data, 0);
        }
        return;
    }
    if (l[0] == ':') {
        return; /* a comment (keep-alive) */
    }
    const char *colon = memchr(l, ':', n);
    size_t name_len = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vn = n - (size_t)(v - l);
    if (vn && *v == ' ') {
        v++;
        vn--;
    }
    if (name_len == 4 && memcmp(l, "data", 4) == 0) {
        buf_append(&x->data, v, vn);
        buf_putc(&x->data, '\n');
    } else if (name_len == 2 && memcmp(l, "id", 2) == 0) {
        if (vn < sizeof x->last_id && !memchr(v, '\0', vn)) {
            memcpy(x->last_id, v, vn);
            x->last_id[vn] = '\0';
        }
    } else if (name_len == 5 && memcmp(l, "retry", 5) == 0) {
        long ms = 0;
        size_t i = 0;
        for (; i < vn && i < 9 && v[i] >= '0' && v[i] <= '9'; i++) {
            ms = ms * 10 + (v[i] - '0');
        }
        if (i == vn && vn > 0) {
            x->retry_ms = ms;
        }
    }
}

static void sse_feed(exchange *x, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (x->skip_lf && p[i] == '\n') {
            i++;
        }
        x->skip_lf = false;
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r') {
            j++;
        }
        buf_append(&x->line, p + i, j - i);
        if (j == n) {
            break;
        }
        x->skip_lf = p[j] == '\r';
        sse_line(x);
        buf_truncate(&x->line, 0);
        i = j + 1;
    }
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    exchange *x = ud;
    size_t n = size * nmemb;
    if (!x->started) {
        x->started = true;
        char *ct = NULL;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
        x->sse = x->status / 100 == 2 && ct && strncasecmp(ct, "text/event-stream", 17) == 0;
    }
    if (x->sse) {
        sse_feed(x, p, n);
    } else {
        buf_append(&x->body, p, n);
    }
    if (x->body.failed || x->line.failed || x->data.failed) {
        x->too_large = true;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* copy a header's value when the line is `name: value` */
static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') {
        return;
    }
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    size_t len = (size_t)(end - v);
    for (size_t i = 0; i < len; i++) {
        if (v[i] < 0x21 || v[i] > 0x7e) {
            return; /* session ids and Retry-After are visible ASCII; anything else is ignored */
        }
    }
    if (len < cap) {
        memcpy(out, v, len);
        out[len] = '\0';
    }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    exchange *x = ud;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new header block: forget an earlier one */
        x->session[0] = x->retry_after[0] = '\0';
    }
    header_value(p, n, "Mcp-Session-Id", x->session, sizeof x->session);
    header_value(p, n, "Retry-After", x->retry_after, sizeof x->retry_after);
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    return stopping(ud) ? 1 : 0;
}

/* plain visible ASCII goes as it is; with encode, anything else as =?base64?<UTF-8 bytes>?=
 * (mcp.md §3: leading or trailing spaces, controls, non-ASCII, or a value that looks encoded) */
static void add_header(struct curl_slist **h, const char *name, const char *value, bool encode)
{
    size_t n = strlen(value);
    bool plain = !encode || (n > 0 && value[0] != ' ' && value[n - 1] != ' ' &&
                             strncmp(value, "=?base64?", 9) != 0);
    for (size_t i = 0; encode && plain && i < n; i++) {
        plain = value[i] >= 0x20 && value[i] <= 0x7e;
    }
    buf line;
    buf_init(&line, MAX_HEADER_VALUE + 256);
    buf_printf(&line, "%s: ", name);
    if (plain) {
        buf_append(&line, value, n);
    } else if (n / 3 * 4 + 4 + 11 <= MAX_HEADER_VALUE && buf_reserve(&line, n / 3 * 4 + 16)) {
        buf_puts(&line, "=?base64?");
        int w = EVP_EncodeBlock((unsigned char *)line.ptr + line.len, (const unsigned char *)value,
                                (int)n);
        line.len += (size_t)w;
        buf_puts(&line, "?=");
    } else {
        line.failed = true;
    }
    if (line.failed) {
        log_warn("header %s left out: its value is longer than %d bytes", name, MAX_HEADER_VALUE);
    } else {
        struct curl_slist *nh = curl_slist_append(*h, line.ptr);
        if (nh) {
            *h = nh;
        }
    }
    buf_release(&line);
}

static struct curl_slist *headers_for(const target *t, bool post)
{
    struct curl_slist *h = NULL;
    add_header(&h, "Accept", post ? "application/json, text/event-stream" : "text/event-stream",
               false);
    if (post) {
        add_header(&h, "Content-Type", "application/json", false);
    }
    h = curl_slist_append(h, bridge.auth);
    if (bridge.workspace) {
        h = curl_slist_append(h, bridge.workspace);
    }
    if (t->session) {
        add_header(&h, "Mcp-Session-Id", t->session, false);
    }
    if (t->version) {
        add_header(&h, "MCP-Protocol-Version", t->version, true);
    }
    if (t->mcp_method) {
        add_header(&h, "Mcp-Method", t->mcp_method, true);
    }
    if (t->mcp_name) {
        add_header(&h, "Mcp-Name", t->mcp_name, true);
    }
    if (t->last_event_id) {
        add_header(&h, "Last-Event-ID", t->last_event_id, false);
    }
    return curl_slist_append(h, "Expect:");
}

static void transfer(exchange *x, const char *verb, const char *body, size_t len, const target *t,
                     long timeout_ms)
{
    CURL *h = curl_easy_init();
    if (!h) {
        x->rc = CURLE_FAILED_INIT;
        snprintf(x->errbuf, sizeof x->errbuf, "cannot create a transfer");
        return;
    }
    bool post = strcmp(verb, "POST") == 0;
    struct curl_slist *hl = headers_for(t, post);
    x->h = h;
    curl_easy_setopt(h, CURLOPT_URL, bridge.url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ctxd-connect/" CTXD_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (timeout_ms > 0) {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    }
    if (post) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(verb, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, verb);
    }
    x->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->sse && x->rc == CURLE_OK) {
        /* a last event without its blank line: lenient, it is a whole message or nothing */
        if (x->line.len) {
            sse_line(x);
            buf_truncate(&x->line, 0);
        }
        sse_line(x);
    }
    x->h = NULL;
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
}

/* sleep ms in short steps, waking early when the exchange is being stopped */
static void nap(const exchange *x, long ms)
{
    while (ms > 0 && !stopping(x)) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* one request with retries while the server refuses connections (it is restarting), then the
 * plain answer parsed into x->reply */
static void send_to_server(exchange *x, const char *verb, const char *body, size_t len,
                           const target *t, long timeout_ms)
{
    int64_t until = clock_mono_ms() + RECONNECT_MS;
    long delay = 100;
    bool refused = false;
    for (bool first = true;; first = false) {
        exchange_reset(x);
        transfer(x, verb, body, len, t, timeout_ms);
        if (x->rc == CURLE_COULDNT_CONNECT) {
            refused = true;
        }
        if (x->rc != CURLE_COULDNT_CONNECT || stopping(x)) {
            break;
        }
        int64_t left = until - clock_mono_ms();
        if (left <= 0) {
            break;
        }
        if (first) {
            log_info("cannot reach '%s' (%s); retrying for up to %d s", bridge.url, x->errbuf,
                     RECONNECT_MS / 1000);
        }
        nap(x, delay < left ? delay : (long)left);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
    }
    x->refused = refused;
    if (x->rc == CURLE_OK && x->status / 100 == 2 && !x->sse && x->body.len) {
        x->reply = jsonx_parse(x->body.ptr, x->body.len, NULL, 0);
        if (is_response(x->reply)) {
            x->response = json_incref(x->reply);
        }
    }
}

/* ---- answering the client ---- */

static const char *curl_why(const exchange *x)
{
    return x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->rc);
}

/* the JSON-RPC code for an HTTP refusal that came without a JSON-RPC body (mcp.md §6) */
static int code_for_status(long st)
{
    switch (st) {
    case 401:
    case 403:
    case 413:
    case 429:
    case 503:
    case 504:
    case 507: return (int)(-31000 - st);
    case 400:
    case 415: return -32600;
    default: return -32603;
    }
}

/* the first line of a text body, without controls, at most 200 bytes */
static void text_excerpt(const buf *b, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < b->len && b->ptr[i] != '\n' && o + 1 < cap && o < 200; i++) {
        unsigned char ch = (unsigned char)b->ptr[i];
        if (ch >= 0x20 && ch != 0x7f) {
            out[o++] = (char)ch;
        }
    }
    while (o && out[o - 1] == ' ') {
        o--;
    }
    out[o] = '\0';
}

/* a non-2xx answer to a request, as a JSON-RPC error for the client */
static void answer_http_error(const call *c, const exchange *x)
{
    char msg[1200];
    json_t *body = x->body.len ? jsonx_parse(x->body.ptr, x->body.len, NULL, 0) : NULL;
    json_t *rpc_err = json_object_get(body, "error");
    json_t *code = json_object_get(rpc_err, "code");
    if (json_is_object(rpc_err) && json_is_integer(code)) {
        /* the server's JSON-RPC error: its code and data stay, the status is named */
        const char *text = jsonx_str(rpc_err, "message");
        snprintf(msg, sizeof msg, "ctxd server answered %ld: %s", x->status,
                 text ? text : "(no message)");
        json_t *data = json_object_get(rpc_err, "data");
        data = data ? json_deep_copy(data) : json_object();
        if (json_is_object(data) && !json_object_get(data, "httpStatus")) {
            json_object_set_new(data, "httpStatus", json_integer(x->status));
        }
        emit_error(c->id, (int)json_integer_value(code), msg, data);
        json_decref(body);
        return;
    }
    /* the REST envelope {error, error_code}, or a body that is not JSON */
    json_t *data = json_pack("{s:I}", "httpStatus", (json_int_t)x->status);
    const char *text = jsonx_str(body, "error");
    const char *ecode = jsonx_str(body, "error_code");
    char excerpt[256] = "";
    if (!text && !body) {
        text_excerpt(&x->body, excerpt, sizeof excerpt);
        text = excerpt[0] ? excerpt : NULL;
    }
    if (ecode) {
        json_object_set_new(data, "error_code", json_string(ecode));
    }
    int64_t retry;
    if (x->retry_after[0] && strspn(x->retry_after, "0123456789") == strlen(x->retry_after) &&
        strlen(x->retry_after) < 9) {
        retry = strtoll(x->retry_after, NULL, 10);
        json_object_set_new(data, "retryAfterMs", json_integer(retry * 1000));
    }
    if (text) {
        snprintf(msg, sizeof msg, "ctxd server answered %ld: %s", x->status, text);
    } else {
        snprintf(msg, sizeof msg, "ctxd server answered %ld", x->status);
    }
    emit_error(c->id, code_for_status(x->status), msg, data);
    json_decref(body);
}

/* what the client sees once the exchange for c is over */
static void answer(call *c, const exchange *x)
{
    if (atomic_load(&c->cancelled)) {
        return; /* a cancelled request gets no response */
    }
    char msg[1400];
    const char *what = c->method ? c->method : "message";
    if (x->too_large) {
        snprintf(msg, sizeof msg, "the ctxd server's answer is larger than %zu bytes",
                 (size_t)MAX_BODY);
        log_warn("%s: %s", what, msg);
        if (c->wants_reply && !x->response) {
            emit_error(c->id, -32603, msg, NULL);
        }
        return;
    }
    if (x->rc != CURLE_OK && !x->response) {
        if (x->rc == CURLE_COULDNT_CONNECT || x->rc == CURLE_COULDNT_RESOLVE_HOST) {
            snprintf(msg, sizeof msg, "cannot reach ctxd server at %s: %s", bridge.url,
                     curl_why(x));
        } else if (x->rc == CURLE_ABORTED_BY_CALLBACK && x->refused) {
            snprintf(msg, sizeof msg,
                     "cannot reach ctxd server at %s (still retrying at the end of input)",
                     bridge.url);
        } else if (x->rc == CURLE_ABORTED_BY_CALLBACK) {
            snprintf(msg, sizeof msg, "ctxd connect is exiting (end of input) before %s answered",
                     bridge.url);
        } else {
            snprintf(msg, sizeof msg, "lost the connection to ctxd server at %s: %s", bridge.url,
                     curl_why(x));
        }
        log_warn("%s: %s", what, msg);
        if (c->wants_reply) {
            emit_error(c->id, -32603, msg, NULL);
        }
        return;
    }
    if (x->status / 100 != 2) {
        if (c->wants_reply) {
            answer_http_error(c, x);
        } else {
            char excerpt[256];
            text_excerpt(&x->body, excerpt, sizeof excerpt);
            log_warn("the ctxd server refused %s with %ld: %s", what, x->status, excerpt);
        }
        return;
    }
    if (x->sse) {
        if (c->wants_reply && !x->response) {
            emit_error(c->id, -32603, "the ctxd server ended the event stream before answering",
                       json_pack("{s:I}", "httpStatus", (json_int_t)x->status));
        }
        return;
    }
    if (!x->body.len) {
        if (c->wants_reply) {
            snprintf(msg, sizeof msg, "ctxd server answered %ld without a response", x->status);
            emit_error(c->id, -32603, msg, json_pack("{s:I}", "httpStatus", (json_int_t)x->status));
        }
        return;
    }
    if (!x->reply) {
        snprintf(msg, sizeof msg, "ctxd server answered %ld with a body that is not JSON",
                 x->status);
        log_warn("%s: %s", what, msg);
        if (c->wants_reply) {
            emit_error(c->id, -32603, msg, json_pack("{s:I}", "httpStatus", (json_int_t)x->status));
        }
        return;
    }
    if (!c->wants_reply) {
        log_debug("the server answered %s with a body; not forwarded", what);
        return;
    }
    emit_text(x->body.ptr, x->body.len, x->reply);
}

/* ---- forwarding ---- */

/* a legacy stream that ended before its response: GET it again from its last event id after
 * the server's retry delay (mcp.md §7) */
static void resume(exchange *x, target *t)
{
    for (int i = 0;
         i < RESUME_TRIES && x->sse && !x->response && x->last_id[0] && t->session && !stopping(x);
         i++) {
        long wait = x->retry_ms > 0 ? x->retry_ms : 1000;
        nap(x, wait > 10000 ? 10000 : wait);
        char last[sizeof x->last_id];
        memcpy(last, x->last_id, sizeof last);
        t->last_event_id = last;
        log_info("resuming an event stream after event '%s'", last);
        send_to_server(x, "GET", NULL, 0, t, 0);
        t->last_event_id = NULL;
    }
}

/* params.name (tools/call, prompts/get) or params.uri (resources/read): the modern Mcp-Name */
static const char *mcp_name_of(const call *c)
{
    json_t *params = json_object_get(c->msg, "params");
    if (strcmp(c->method, "tools/call") == 0 || strcmp(c->method, "prompts/get") == 0) {
        return jsonx_str(params, "name");
    }
    if (strcmp(c->method, "resources/read") == 0) {
        return jsonx_str(params, "uri");
    }
    return NULL;
}

/* the bridge's own initialize after the server lost the session; true when the session has
 * been replaced (by this call or by another thread that got there first) */
static bool reinitialize(unsigned gen)
{
    if (!session_begin_init(true, gen)) {
        return true;
    }
    pthread_mutex_lock(&sess.mu);
    json_t *params = json_incref(sess.init_params);
    unsigned n = ++sess.reinits;
    pthread_mutex_unlock(&sess.mu);
    if (!params) {
        session_end_init(true, false, NULL, NULL, NULL);
        return false;
    }
    char id[48];
    snprintf(id, sizeof id, "ctxd-connect-reinit-%u", n);
    json_t *msg = json_pack("{s:s, s:s, s:s, s:O}", "jsonrpc", "2.0", "id", id, "method",
                            "initialize", "params", params);
    buf body;
    buf_init(&body, MAX_LINE);
    jsonx_dump(&body, msg);
    json_decref(msg);
    json_decref(params);

    exchange x;
    exchange_init(&x, NULL, false);
    target t = {0};
    send_to_server(&x, "POST", body.ptr, body.len, &t, INIT_TIMEOUT_MS);
    buf_release(&body);
    json_t *result = json_object_get(x.response, "result");
    bool ok = x.rc == CURLE_OK && x.status / 100 == 2 && json_is_object(result);
    char sid[SESSION_MAX], version[32];
    snprintf(sid, sizeof sid, "%s", x.session);
    const char *v = ok ? jsonx_str(result, "protocolVersion") : NULL;
    snprintf(version, sizeof version, "%s", v ? v : "");
    if (!ok) {
        log_warn("initializing a new session failed (%s %ld)",
                 x.rc == CURLE_OK ? "HTTP" : curl_why(&x), x.status);
    }
    exchange_release(&x);
    if (ok) {
        static const char initialized[] =
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
        target nt = {.session = sid[0] ? sid : NULL, .version = version[0] ? version : NULL};
        exchange y;
        exchange_init(&y, NULL, false);
        send_to_server(&y, "POST", initialized, sizeof initialized - 1, &nt, INIT_TIMEOUT_MS);
        if (y.rc != CURLE_OK || y.status / 100 != 2) {
            log_warn("notifications/initialized for the new session failed (%ld)", y.status);
        }
        exchange_release(&y);
        log_info("the server lost the session (restarted?): initialized a new one");
    }
    session_end_init(true, ok, sid, version, NULL);
    return ok;
}

/* the client's initialize: remember the session and the params for a later re-initialize */
static void run_initialize(call *c)
{
    session_begin_init(false, 0);
    exchange x;
    exchange_init(&x, c, true);
    target t = {0};
    send_to_server(&x, "POST", c->line, c->len, &t, INIT_TIMEOUT_MS);
    json_t *result = json_object_get(x.response, "result");
    bool ok = x.rc == CURLE_OK && x.status / 100 == 2 && json_is_object(result);
    const char *version = ok ? jsonx_str(result, "protocolVersion") : NULL;
    json_t *params = json_object_get(c->msg, "params");
    if (ok) {
        log_info("initialized: protocol %s, %s", version ? version : "(not named)",
                 x.session[0] ? "session kept" : "no session");
    }
    /* the answer goes out first: messages that waited for the session then follow it */
    answer(c, &x);
    session_end_init(false, ok, x.session, version,
                     ok ? (params ? json_deep_copy(params) : json_object()) : NULL);
    exchange_release(&x);
}

/* the message to the server: the client's bytes with the headers of its era; a legacy request
 * that finds its session gone initializes a new one and is sent once more */
static void run_forward(call *c)
{
    session_view s = {.gen = 0};
    target t = {0};
    if (c->modern) {
        t.version = c->proto;
        t.mcp_method = c->method;
        t.mcp_name = c->method ? mcp_name_of(c) : NULL;
    } else {
        session_get(&s);
        t.session = s.id[0] ? s.id : NULL;
        t.version = s.version[0] ? s.version : NULL;
    }
    exchange x;
    exchange_init(&x, c, true);
    send_to_server(&x, "POST", c->line, c->len, &t, 0);
    if (!c->modern && t.session && x.rc == CURLE_OK && x.status == 404 && c->wants_reply &&
        !stopping(&x)) {
        if (reinitialize(s.gen)) {
            session_get(&s);
            t.session = s.id[0] ? s.id : NULL;
            t.version = s.version[0] ? s.version : NULL;
            send_to_server(&x, "POST", c->line, c->len, &t, 0);
        }
    }
    if (!c->modern && x.sse && !x.response) {
        resume(&x, &t);
    }
    answer(c, &x);
    exchange_release(&x);
}

/* notifications/cancelled: modern requests are cancelled by closing their stream; legacy ones
 * by forwarding the notification (and then dropping the transfer, whose answer nobody wants) */
static void run_cancel(call *c)
{
    const json_t *rid = json_object_get(json_object_get(c->msg, "params"), "requestId");
    bool modern = c->modern;
    bool found = rid && mark_request(rid, c, false, &modern);
    if (found && modern) {
        log_debug("cancelled a request: its stream is closed");
        return;
    }
    if (!found) {
        pthread_mutex_lock(&sess.mu);
        bool have_session = sess.id[0] != '\0';
        pthread_mutex_unlock(&sess.mu);
        if (modern || !have_session) {
            return; /* finished, unknown, or nothing on the server to tell */
        }
    }
    run_forward(c);
    if (found) {
        mark_request(rid, c, true, NULL);
    }
}

static void *call_main(void *arg)
{
    call *c = arg;
    if (c->cancel) {
        run_cancel(c);
    } else if (c->initialize) {
        run_initialize(c);
    } else {
        run_forward(c);
    }
    call_done(c);
    return NULL;
}

/* ---- input ---- */

static bool has_request(const json_t *m)
{
    return json_is_object(m) && json_is_string(json_object_get(m, "method")) &&
           json_object_get(m, "id");
}

/* one line from stdin (ownership of line passes here) */
static void handle_line(char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) {
        len--;
    }
    size_t lead = strspn(line, " \t");
    if (lead >= len) {
        xfree(line);
        return; /* blank lines are not messages */
    }
    char why[200], msg[300];
    json_t *m = jsonx_parse(line, len, why, sizeof why);
    if (!m) {
        snprintf(msg, sizeof msg, "parse error: %s", why);
        emit_error(NULL, -32700, msg, NULL);
        xfree(line);
        return;
    }
    if (!json_is_object(m) && !(json_is_array(m) && json_array_size(m) > 0)) {
        emit_error(NULL, -32600, "invalid request: a JSON-RPC message is an object", NULL);
        json_decref(m);
        xfree(line);
        return;
    }
    call *c = xcalloc(1, sizeof *c);
    if (!c) {
        log_error("out of memory; message dropped");
        json_decref(m);
        xfree(line);
        return;
    }
    c->line = line;
    c->len = len;
    c->msg = m;
    if (json_is_object(m)) {
        c->method = jsonx_str(m, "method");
        c->id = c->method ? json_object_get(m, "id") : NULL;
        c->wants_reply = has_request(m);
        json_t *meta = json_object_get(json_object_get(m, "params"), "_meta");
        c->proto = jsonx_str(meta, META_VERSION);
        c->modern = c->proto != NULL;
        c->initialize =
            c->wants_reply && !c->modern && c->method && strcmp(c->method, "initialize") == 0;
        c->cancel = c->method && !c->id && strcmp(c->method, "notifications/cancelled") == 0;
    } else {
        size_t i;
        json_t *e;
        json_array_foreach (m, i, e) {
            c->wants_reply |= has_request(e);
        }
    }
    atomic_init(&c->cancelled, false);
    atomic_init(&c->abort, false);

    /* a cancellation has slots of its own: it must get through when every slot holds a long
       call (the one it may be cancelling) */
    pthread_mutex_lock(&inflight.mu);
    while (inflight.n >= (c->cancel ? 2 * MAX_INFLIGHT : MAX_INFLIGHT)) {
        pthread_cond_wait(&inflight.cv, &inflight.mu);
    }
    c->next = inflight.head;
    if (inflight.head) {
        inflight.head->prev = c;
    }
    inflight.head = c;
    inflight.n++;
    pthread_mutex_unlock(&inflight.mu);
    if (c->initialize) {
        /* counted only once it has a slot: messages waiting for it must never hold every
           slot while it waits for one */
        session_expect_init();
    }

    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, call_main, c) != 0) {
        call_main(c); /* no thread to spare: forward it here, in order */
    }
    pthread_attr_destroy(&attr);
}

/* read stdin to its end, one message per line */
static void read_input(void)
{
    buf line;
    buf_init(&line, MAX_LINE);
    bool skipping = false; /* the current line went over MAX_LINE */
    char chunk[65536];
    while (!atomic_load(&out_broken)) {
        ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            log_error("cannot read stdin: %s", strerror(errno));
        }
        if (r <= 0) {
            break;
        }
        size_t off = 0, n = (size_t)r;
        while (off < n) {
            char *nl = memchr(chunk + off, '\n', n - off);
            size_t seg = nl ? (size_t)(nl - (chunk + off)) : n - off;
            if (!skipping) {
                buf_append(&line, chunk + off, seg);
                skipping = line.failed;
            }
            off += seg;
            if (!nl) {
                break;
            }
            off++;
            if (skipping) {
                char msg[120];
                snprintf(msg, sizeof msg, "parse error: a message longer than %zu bytes; skipped",
                         (size_t)MAX_LINE);
                emit_error(NULL, -32700, msg, NULL);
                skipping = false;
                buf_release(&line);
            } else {
                size_t len;
                char *p = buf_detach(&line, &len);
                if (p) {
                    handle_line(p, len);
                }
            }
            buf_init(&line, MAX_LINE);
        }
    }
    if (line.len && !skipping) {
        size_t len;
        char *p = buf_detach(&line, &len);
        handle_line(p, len);
    }
    buf_release(&line);
}

/* wait up to ms for the messages in flight; true when none is left */
static bool drain(long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&inflight.mu);
    while (inflight.n > 0) {
        if (pthread_cond_timedwait(&inflight.cv, &inflight.mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool empty = inflight.n == 0;
    int left = inflight.n;
    pthread_mutex_unlock(&inflight.mu);
    if (!empty) {
        log_warn("%d message(s) still in flight after %ld ms", left, ms);
    }
    return empty;
}

/* end the legacy session on the server (the spec's SHOULD): it holds nothing worth keeping */
static void end_session(void)
{
    session_view s;
    session_get(&s);
    if (!s.id[0]) {
        return;
    }
    exchange x;
    exchange_init(&x, NULL, false);
    target t = {.session = s.id, .version = s.version[0] ? s.version : NULL};
    transfer(&x, "DELETE", NULL, 0, &t, 2000L);
    exchange_release(&x);
}

/* ---- configuration ---- */

static const char *setting(int argc, char **argv, const char *flag, const char *env,
                           const char *seed_env)
{
    const char *v = cli_opt(argc, argv, flag);
    if (!v || !*v) {
        v = getenv(env);
    }
    if (!v || !*v) {
        v = getenv(seed_env);
    }
    return v && *v ? v : NULL;
}

static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

/* <base>/mcp from a base URL or one that already ends in /mcp */
static char *endpoint_url(const char *server)
{
    buf b;
    buf_init(&b, 4096);
    if (!strstr(server, "://")) {
        buf_puts(&b, "http://");
    }
    buf_puts(&b, server);
    if (b.failed || !b.ptr) {
        buf_release(&b);
        return NULL;
    }
    const char *scheme = strstr(b.ptr, "://");
    size_t keep = scheme ? (size_t)(scheme - b.ptr) + 3 : 0;
    while (b.len > keep && b.ptr[b.len - 1] == '/') {
        buf_truncate(&b, b.len - 1);
    }
    if (!(b.len >= 4 && strcmp(b.ptr + b.len - 4, "/mcp") == 0)) {
        buf_puts(&b, "/mcp");
    }
    if (b.failed) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static void set_log_level(const char *level)
{
    if (level) {
        log_set_level(strcmp(level, "debug") == 0   ? LOG_DEBUG
                      : strcmp(level, "warn") == 0  ? LOG_WARN
                      : strcmp(level, "error") == 0 ? LOG_ERROR
                                                    : LOG_INFO);
    }
}

int mcp_connect_main(int argc, char **argv)
{
    static const char *const opts[] = {"--server", "--token", "--workspace", "--log-level", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    set_log_level(cli_opt(argc, argv, "--log-level"));
    const char *server = setting(argc, argv, "--server", "CTXD_SERVER", "LEANCTX_TEAM_SERVER");
    const char *token = setting(argc, argv, "--token", "CTXD_TOKEN", "LEANCTX_TEAM_TOKEN");
    const char *ws = setting(argc, argv, "--workspace", "CTXD_WORKSPACE", "LEANCTX_WORKSPACE");
    if (!server) {
        fprintf(stderr, "ctxd connect: no server: set CTXD_SERVER (e.g. http://127.0.0.1:9877) "
                        "or pass --server URL\n");
        return 2;
    }
    if (!token) {
        fprintf(stderr, "ctxd connect: no token: set CTXD_TOKEN or pass --token T\n");
        return 2;
    }
    if (!header_safe(server) || strchr(server, ' ')) {
        fprintf(stderr, "ctxd connect: the server URL '%s' holds spaces or control characters\n",
                server);
        return 2;
    }
    if (!header_safe(token) || strchr(token, ' ')) {
        fprintf(stderr, "ctxd connect: the token holds spaces or control characters\n");
        return 2;
    }
    if (ws && !header_safe(ws)) {
        fprintf(stderr, "ctxd connect: the workspace '%s' holds control characters\n", ws);
        return 2;
    }

    /* stdout is the protocol channel: keep it private and send fd 1 to stderr */
    fflush(stdout);
    out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (out_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        fprintf(stderr, "ctxd connect: cannot set up stdout: %s\n", strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "ctxd connect: cannot initialize libcurl\n");
        return 1;
    }
    bridge.url = endpoint_url(server);
    buf b;
    buf_init(&b, 65536);
    buf_printf(&b, "Authorization: Bearer %s", token);
    bridge.auth = buf_detach(&b, NULL);
    if (ws) {
        buf_init(&b, 65536);
        buf_printf(&b, "x-leanctx-workspace: %s", ws);
        bridge.workspace = buf_detach(&b, NULL);
    }
    if (!bridge.url || !bridge.auth || (ws && !bridge.workspace)) {
        fprintf(stderr, "ctxd connect: out of memory\n");
        return 1;
    }
    log_info("ctxd connect: forwarding stdio to '%s'%s%s%s", bridge.url, ws ? " (workspace '" : "",
             ws ? ws : "", ws ? "')" : "");

    read_input();
    bool idle = drain(DRAIN_MS);
    if (!idle) {
        atomic_store(&hard_stop, true);
        idle = drain(1000);
    }
    if (idle) {
        end_session();
        curl_global_cleanup();
    }
    /* threads still running (they could not be stopped in time) end with the process */
    return 0;
}

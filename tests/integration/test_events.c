/* test_events.c - the event bus over HTTP (issue 6, EVENTS; http-conventions.md §3): live
 * delivery between two tokens of one tenant and channel, isolation by tenant and channel,
 * resume with Last-Event-ID while events keep flowing (no gap, no duplicate), replay after a
 * restart with the same ids, payload level by scope, retention (events_pruned), a slow consumer
 * (gap, then a replay that loses nothing), search and summary, and bad input. The SSE client
 * here speaks HTTP/1.0 over a raw socket (a close-delimited body: no chunk framing to strip). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define EV_CAP 16 /* streams per credential */
#define FAST                                                                                       \
    "\"maxRps\": 100000, \"rateBurst\": 100000, \"keyRps\": 100000, \"keyRateBurst\": 100000"

static server S;

static void up(void)
{
    srv_init(&S);
}

static void down(void)
{
    srv_cleanup(&S);
}

/* ---- a small SSE client ---- */

typedef struct sse_cli {
    int fd;
    pthread_t th;
    pthread_mutex_t mu;
    char *buf;
    size_t len, cap;
    bool eof;
    volatile bool paused; /* the reader thread does not read while set */
    volatile bool stop;
} sse_cli;

static void *sse_reader(void *v)
{
    sse_cli *c = v;
    char tmp[16384];
    while (!c->stop) {
        if (c->paused) {
            usleep(10000);
            continue;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        ssize_t n = read(c->fd, tmp, sizeof tmp);
        pthread_mutex_lock(&c->mu);
        if (n <= 0) {
            c->eof = true;
            pthread_mutex_unlock(&c->mu);
            break;
        }
        if (c->len + (size_t)n + 1 > c->cap) {
            c->cap = (c->len + (size_t)n + 1) * 2;
            c->buf = realloc(c->buf, c->cap);
        }
        memcpy(c->buf + c->len, tmp, (size_t)n);
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

/* open GET path with the token (and one more header line, may be NULL); rcvbuf > 0 makes the
   socket's receive buffer that small (a slow consumer) */
static sse_cli *sse_open(server *s, const char *path, const char *token, const char *extra,
                         int rcvbuf, bool paused)
{
    sse_cli *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(c->fd >= 0);
    if (rcvbuf > 0) {
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    char rq[2048];
    int n = snprintf(rq, sizeof rq,
                     "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                     "Accept: text/event-stream\r\n%s%s\r\n",
                     path, s->port, token, extra ? extra : "", extra ? "\r\n" : "");
    cr_assert_eq(write(c->fd, rq, (size_t)n), n);
    c->paused = paused;
    pthread_create(&c->th, NULL, sse_reader, c);
    return c;
}

static void sse_close(sse_cli *c)
{
    c->stop = true;
    pthread_join(c->th, NULL);
    close(c->fd);
    free(c->buf);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* the events received so far: [{id (or null), event, data (parsed)}], comments and retry
   lines as {"comment": ...} / {"retry": ...} */
static json_t *sse_parse(sse_cli *c, long *status)
{
    json_t *out = json_array();
    pthread_mutex_lock(&c->mu);
    char *copy = c->buf ? strdup(c->buf) : strdup("");
    pthread_mutex_unlock(&c->mu);
    *status = 0;
    if (strncmp(copy, "HTTP/1.", 7) == 0) {
        *status = strtol(copy + 9, NULL, 10);
    }
    char *body = strstr(copy, "\r\n\r\n");
    if (!body) {
        free(copy);
        return out;
    }
    body += 4;
    /* only complete blocks (ended by an empty line) */
    char *end = body;
    for (char *p = body; (p = strstr(p, "\n\n")); p += 2) {
        end = p + 2;
    }
    *end = '\0';
    free(copy);
    /* parse again block by block (the copy above was cut at the last complete block) */
    pthread_mutex_lock(&c->mu);
    copy = c->buf ? strdup(c->buf) : strdup("");
    pthread_mutex_unlock(&c->mu);
    body = strstr(copy, "\r\n\r\n");
    body = body ? body + 4 : copy + strlen(copy);
    for (char *blk = body;;) {
        char *sep = strstr(blk, "\n\n");
        if (!sep) {
            break;
        }
        *sep = '\0';
        json_t *ev = json_object();
        for (char *line = blk; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) {
                *nl = '\0';
            }
            if (strncmp(line, "id: ", 4) == 0) {
                json_object_set_new(ev, "id", json_integer(strtoll(line + 4, NULL, 10)));
            } else if (strncmp(line, "event: ", 7) == 0) {
                json_object_set_new(ev, "event", json_string(line + 7));
            } else if (strncmp(line, "data: ", 6) == 0) {
                json_t *d = json_loads(line + 6, 0, NULL);
                json_object_set_new(ev, "data", d ? d : json_string(line + 6));
            } else if (strncmp(line, "retry: ", 7) == 0) {
                json_object_set_new(ev, "retry", json_integer(strtoll(line + 7, NULL, 10)));
            } else if (line[0] == ':') {
                json_object_set_new(ev, "comment", json_string(line + 1));
            }
            line = nl ? nl + 1 : NULL;
        }
        json_array_append_new(out, ev);
        blk = sep + 2;
    }
    free(copy);
    return out;
}

/* the events of kind (NULL: any with an id) received so far */
static json_t *sse_of(sse_cli *c, const char *kind)
{
    long st;
    json_t *all = sse_parse(c, &st);
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach (all, i, e) {
        const char *k = json_string_value(json_object_get(e, "event"));
        if (kind ? (k && strcmp(k, kind) == 0) : json_object_get(e, "id") != NULL) {
            json_array_append(out, e);
        }
    }
    json_decref(all);
    return out;
}

/* wait until n events of kind (NULL: with an id) arrived; the list (new reference) */
static json_t *sse_wait(sse_cli *c, const char *kind, size_t n, int timeout_ms)
{
    long long until = now_ms() + timeout_ms;
    for (;;) {
        json_t *got = sse_of(c, kind);
        if (json_array_size(got) >= n || now_ms() > until) {
            return got;
        }
        json_decref(got);
        usleep(20000);
    }
}

static bool sse_eof_wait(sse_cli *c, int timeout_ms)
{
    long long until = now_ms() + timeout_ms;
    while (now_ms() < until) {
        pthread_mutex_lock(&c->mu);
        bool e = c->eof;
        pthread_mutex_unlock(&c->mu);
        if (e) {
            return true;
        }
        usleep(20000);
    }
    return false;
}

/* a tool call that succeeds (cheap) on channel ch as token */
static void tree_call(server *s, const char *token, const char *ch)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"name\": \"ctx_tree\", \"arguments\": {\"depth\": 1}, \"channelId\": \"%s\"}", ch);
    resp *r = req(s, "POST", "/v1/tools/call", token, NULL, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

static void read_call(server *s, const char *token)
{
    resp *r = call_tool(s, token, "ctx_read", "{\"path\": \"README.md\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

/* the stream has started (its retry line arrived): subscribed, so later events reach it */
static void sse_started(sse_cli *c)
{
    long long until = now_ms() + 10000;
    for (;;) {
        long st;
        json_t *all = sse_parse(c, &st);
        bool seen = json_array_size(all) > 0 && json_object_get(json_array_get(all, 0), "retry");
        json_decref(all);
        if (seen) {
            cr_assert_eq(st, 200);
            return;
        }
        cr_assert(now_ms() < until, "the stream did not start");
        usleep(20000);
    }
}

TestSuite(events, .init = up, .fini = down, .timeout = 120);

Test(events, live_between_tokens_isolated_by_tenant_and_channel)
{
    srv_config(&S, FAST);
    srv_tenant(&S, "acme");
    char watcher[80], caller[80], acme[128];
    cr_assert(srv_token(&S, "watcher", "events", watcher));
    cr_assert(srv_token(&S, "caller", "search", caller));
    srv_key(&S, "acme", "read", NULL, acme);
    cr_assert(srv_start(&S));

    sse_cli *a = sse_open(&S, "/v1/events", watcher, NULL, 0, false);
    sse_cli *other_ch = sse_open(&S, "/v1/events?channelId=team/b", watcher, NULL, 0, false);
    sse_cli *other_tenant = sse_open(&S, "/v1/events", acme, NULL, 0, false);
    sse_started(a);
    sse_started(other_ch);
    sse_started(other_tenant);

    long st;
    json_t *first = sse_parse(a, &st);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(first, 0), "retry")), 3000);
    json_decref(first);

    tree_call(&S, caller, "default");
    json_t *got = sse_wait(a, "tool_call_recorded", 1, 10000);
    cr_assert_eq(json_array_size(got), 1);
    json_t *d = json_object_get(json_array_get(got, 0), "data");
    cr_assert_str_eq(json_string_value(json_object_get(d, "kind")), "tool_call_recorded");
    cr_assert_str_eq(json_string_value(json_object_get(d, "channelId")), "default");
    cr_assert_str_eq(json_string_value(json_object_get(d, "workspaceId")), "main");
    cr_assert_str_eq(json_string_value(json_object_get(d, "actor")), "caller");
    cr_assert_eq(json_integer_value(json_object_get(d, "id")),
                 json_integer_value(json_object_get(json_array_get(got, 0), "id")));
    json_t *p = json_object_get(d, "payload");
    cr_assert_str_eq(json_string_value(json_object_get(p, "tool")), "ctx_tree");
    cr_assert_str_eq(json_string_value(json_object_get(p, "outcome")), "ok");
    /* `events` alone: references only */
    cr_assert(json_is_true(json_object_get(p, "redacted")));
    cr_assert_null(json_object_get(p, "argumentsMd5"));
    json_decref(got);

    /* a call on the other channel reaches only that channel's subscriber */
    tree_call(&S, caller, "team/b");
    json_t *b = sse_wait(other_ch, "tool_call_recorded", 1, 10000);
    cr_assert_eq(json_array_size(b), 1);
    json_decref(b);
    usleep(300000);
    json_t *a2 = sse_of(a, "tool_call_recorded");
    cr_assert_eq(json_array_size(a2), 1, "the default channel saw another channel's event");
    json_decref(a2);
    json_t *t = sse_of(other_tenant, NULL);
    cr_assert_eq(json_array_size(t), 0, "another tenant saw this tenant's events");
    json_decref(t);

    /* search and summary see the caller's tenant only */
    resp *r = req(&S, "GET", "/v1/events/search?q=ctx_tree", watcher, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "count")), 2, "%s", r->body);
    resp_free(r);
    r = req(&S, "GET", "/v1/events/search?q=ctx_tree", acme, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "count")), 0, "%s", r->body);
    resp_free(r);
    r = req(&S, "GET", "/v1/context/summary?channelId=team/b", watcher, NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "totalEvents")), 1, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r->json, "eventCountsByKind"),
                                                    "tool_call_recorded")),
                 1, "%s", r->body);
    resp_free(r);

    sse_close(a);
    sse_close(other_ch);
    sse_close(other_tenant);
    cr_assert_eq(srv_stop(&S), 0);
}

Test(events, full_payload_with_audit)
{
    srv_config(&S, FAST);
    char full[80];
    cr_assert(srv_token(&S, "auditor", "events,audit", full));
    cr_assert(srv_start(&S));
    sse_cli *a = sse_open(&S, "/v1/events", full, NULL, 0, false);
    sse_started(a);
    read_call(&S, S.token);
    json_t *got = sse_wait(a, "tool_call_recorded", 1, 10000);
    cr_assert_eq(json_array_size(got), 1);
    json_t *p = json_object_get(json_object_get(json_array_get(got, 0), "data"), "payload");
    cr_assert_str_eq(json_string_value(json_object_get(p, "tool")), "ctx_read");
    /* never argument text (ctxd.db holds none), only its digest */
    cr_assert_null(json_object_get(p, "path"));
    cr_assert_str_eq(json_string_value(json_object_get(p, "outcome")), "ok");
    cr_assert(json_is_integer(json_object_get(p, "durationMs")));
    cr_assert_eq(strlen(json_string_value(json_object_get(p, "argumentsMd5"))), 32);
    cr_assert_null(json_object_get(p, "redacted"));
    json_decref(got);
    sse_close(a);
    cr_assert_eq(srv_stop(&S), 0);
}

typedef struct pump {
    server *s;
    const char *token;
    int n;
    pthread_t th;
} pump;

static void *pump_main(void *v)
{
    pump *p = v;
    for (int i = 0; i < p->n; i++) {
        resp *r = req(p->s, "POST", "/v1/tools/call", p->token, NULL,
                      "{\"name\": \"ctx_tree\", \"arguments\": {\"depth\": 1}}");
        resp_free(r);
        usleep(5000);
    }
    return NULL;
}

/* the ids of a list of events are strictly increasing (no duplicate, in order) */
static void check_increasing(json_t *evs)
{
    int64_t prev = 0;
    size_t i;
    json_t *e;
    json_array_foreach (evs, i, e) {
        int64_t id = json_integer_value(json_object_get(e, "id"));
        cr_assert_gt(id, prev, "event %zu: id %lld after %lld", i, (long long)id, (long long)prev);
        prev = id;
    }
}

Test(events, resume_with_last_event_id_while_events_flow)
{
    srv_config(&S, FAST);
    char watcher[80];
    cr_assert(srv_token(&S, "watcher", "events", watcher));
    cr_assert(srv_start(&S));
    /* only tool calls on this channel: ids are consecutive in this stream */
    sse_cli *a = sse_open(&S, "/v1/events?kind=tool_call_recorded", watcher, NULL, 0, false);
    sse_started(a);
    pump p = {.s = &S, .token = S.token, .n = 120};
    pthread_create(&p.th, NULL, pump_main, &p);
    json_t *first = sse_wait(a, "tool_call_recorded", 20, 30000);
    cr_assert_geq(json_array_size(first), 20);
    sse_close(a);
    json_decref(first);
    /* reconnect from a known id while the pump goes on; since in the query loses to the
       header */
    usleep(200000);
    int64_t last = 15;
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %lld", (long long)last);
    sse_cli *b = sse_open(&S, "/v1/events?kind=tool_call_recorded&since=3", watcher, hdr, 0, false);
    pthread_join(p.th, NULL);
    /* the truth: every tool call event, from the store */
    sse_cli *all = sse_open(&S, "/v1/events?kind=tool_call_recorded&since=0&limit=1000", watcher,
                            NULL, 0, false);
    json_t *truth = sse_wait(all, "tool_call_recorded", 120, 30000);
    cr_assert_eq(json_array_size(truth), 120);
    json_t *want = json_array();
    size_t i;
    json_t *e;
    json_array_foreach (truth, i, e) {
        if (json_integer_value(json_object_get(e, "id")) > last) {
            json_array_append(want, json_object_get(e, "id"));
        }
    }
    json_t *seen = sse_wait(b, "tool_call_recorded", json_array_size(want), 30000);
    usleep(300000); /* a late duplicate would show now */
    json_decref(seen);
    seen = sse_of(b, "tool_call_recorded");
    cr_assert_eq(json_array_size(seen), json_array_size(want), "got %zu events, want %zu",
                 json_array_size(seen), json_array_size(want));
    json_array_foreach (seen, i, e) {
        cr_assert_eq(json_integer_value(json_object_get(e, "id")),
                     json_integer_value(json_array_get(want, i)), "event %zu: a gap or duplicate",
                     i);
    }
    json_decref(seen);
    json_decref(want);
    json_decref(truth);
    sse_close(b);
    sse_close(all);
    cr_assert_eq(srv_stop(&S), 0);
}

Test(events, restart_replays_same_ids_and_continues)
{
    srv_config(&S, FAST);
    char watcher[80];
    cr_assert(srv_token(&S, "watcher", "events", watcher));
    cr_assert(srv_start(&S));
    for (int i = 0; i < 5; i++) {
        tree_call(&S, S.token, "default");
    }
    sse_cli *a = sse_open(&S, "/v1/events?kind=tool_call_recorded", watcher, NULL, 0, false);
    json_t *before = sse_wait(a, "tool_call_recorded", 5, 10000);
    cr_assert_eq(json_array_size(before), 5);
    sse_close(a);
    cr_assert_eq(srv_stop(&S), 0, "SIGTERM must drain and exit 0");
    cr_assert(srv_start(&S));
    a = sse_open(&S, "/v1/events?kind=tool_call_recorded&since=0", watcher, NULL, 0, false);
    json_t *after = sse_wait(a, "tool_call_recorded", 5, 10000);
    cr_assert_eq(json_array_size(after), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *x = json_array_get(before, i), *y = json_array_get(after, i);
        cr_assert_eq(json_integer_value(json_object_get(x, "id")),
                     json_integer_value(json_object_get(y, "id")));
        cr_assert(json_equal(json_object_get(x, "data"), json_object_get(y, "data")),
                  "replayed event %zu differs", i);
    }
    int64_t last = json_integer_value(json_object_get(json_array_get(after, 4), "id"));
    tree_call(&S, S.token, "default");
    json_t *more = sse_wait(a, "tool_call_recorded", 6, 10000);
    cr_assert_eq(json_array_size(more), 6);
    cr_assert_gt(json_integer_value(json_object_get(json_array_get(more, 5), "id")), last);
    json_decref(before);
    json_decref(after);
    json_decref(more);
    sse_close(a);
    cr_assert_eq(srv_stop(&S), 0);
}

static long long db_int(const char *sql)
{
    char p[400];
    snprintf(p, sizeof p, "%s/data/ctxd.db", S.dir);
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

Test(events, retention_prunes_and_since_before_oldest_says_events_pruned)
{
    srv_config(&S, FAST);
    char watcher[80];
    cr_assert(srv_token(&S, "watcher", "events", watcher));
    cr_assert(srv_start(&S));
    for (int i = 0; i < 4; i++) {
        tree_call(&S, S.token, "default");
    }
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert_eq(db_int("SELECT count(*) FROM events WHERE kind = 'tool_call_recorded'"), 4);
    /* two of them 40 days old: past the default retention of 30 days */
    char p[400];
    snprintf(p, sizeof p, "%s/data/ctxd.db", S.dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "UPDATE events SET ts = ts - 40 * 86400000 WHERE id IN (SELECT id "
                              "FROM events ORDER BY id LIMIT 2)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    long long total = db_int("SELECT count(*) FROM events");
    long long third = db_int("SELECT id FROM events ORDER BY id LIMIT 1 OFFSET 2");
    cr_assert(srv_start(&S));
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM events WHERE id < %lld", third);
    long long until = now_ms() + 20000;
    while (db_int(q) != 0 && now_ms() < until) {
        usleep(100000);
    }
    cr_assert_eq(db_int(q), 0, "not pruned");
    cr_assert_geq(db_int("SELECT count(*) FROM events"), total - 2);
    /* the search index lost the pruned rows too */
    cr_assert_eq(db_int("SELECT count(*) FROM events_fts WHERE events_fts MATCH 'ctx_tree'"),
                 db_int("SELECT count(*) FROM events WHERE summary LIKE 'ctx_tree%'"));
    sse_cli *a = sse_open(&S, "/v1/events?since=0", watcher, NULL, 0, false);
    json_t *pr = sse_wait(a, "events_pruned", 1, 10000);
    cr_assert_eq(json_array_size(pr), 1);
    cr_assert_eq(json_integer_value(
                     json_object_get(json_object_get(json_array_get(pr, 0), "data"), "oldestId")),
                 third);
    json_t *rest = sse_wait(a, NULL, (size_t)(total - 2), 10000);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(rest, 0), "id")), third);
    json_decref(pr);
    json_decref(rest);
    sse_close(a);
    cr_assert_eq(srv_stop(&S), 0);
}

typedef struct lpump {
    server *s;
    int n;
    int failed;
    pthread_t th;
} lpump;

/* n calls of ctx_read on a missing file (a tool error, quickly) */
static void *lpump_main(void *v)
{
    lpump *p = v;
    char body[600];
    char path[251];
    memset(path, 'p', 250);
    path[250] = '\0';
    snprintf(body, sizeof body, "{\"name\": \"ctx_read\", \"arguments\": {\"path\": \"%s\"}}",
             path);
    for (int i = 0; i < p->n; i++) {
        resp *r = req(p->s, "POST", "/v1/tools/call", p->s->token, NULL, body);
        p->failed += r->status != 200;
        resp_free(r);
    }
    return NULL;
}

Test(events, slow_consumer_gets_gap_then_everything, .timeout = 300)
{
    srv_config(&S, FAST);
    char watcher[80];
    cr_assert(srv_token(&S, "watcher", "events,audit", watcher));
    cr_assert(srv_start(&S));
    sse_cli *a =
        sse_open(&S, "/v1/events?kind=tool_call_recorded&limit=1000", watcher, NULL, 2048, false);
    sse_started(a);
    a->paused = true; /* it stops reading: the socket fills, then its queue */
    /* loopback TCP buffers hold up to ~4 MB (tcp_wmem max): 16,000 events of ~370 bytes
       (~5.9 MB), from two threads */
    const int n = 16000;
    lpump p1 = {.s = &S, .n = n / 2}, p2 = {.s = &S, .n = n - n / 2};
    pthread_create(&p1.th, NULL, lpump_main, &p1);
    pthread_create(&p2.th, NULL, lpump_main, &p2);
    pthread_join(p1.th, NULL);
    pthread_join(p2.th, NULL);
    cr_assert_eq(p1.failed + p2.failed, 0);
    a->paused = false;
    json_t *gap = sse_wait(a, "gap", 1, 60000);
    cr_assert_eq(json_array_size(gap), 1, "no gap event after %d events unread", n);
    json_t *gd = json_object_get(json_array_get(gap, 0), "data");
    cr_assert_str_eq(json_string_value(json_object_get(gd, "reason")), "slow_consumer");
    cr_assert(json_is_true(json_object_get(gd, "replaying")));
    json_decref(gap);
    /* the replay from the store after the gap: every event once, in order */
    json_t *all = sse_wait(a, "tool_call_recorded", (size_t)n, 60000);
    cr_assert_eq(json_array_size(all), (size_t)n);
    check_increasing(all);
    json_decref(all);
    sse_close(a);
    cr_assert_eq(srv_stop(&S), 0);
}

Test(events, bad_input)
{
    srv_config(&S, FAST);
    char watcher[80], noev[80];
    cr_assert(srv_token(&S, "watcher", "events", watcher));
    cr_assert(srv_token(&S, "noev", "search", noev));
    cr_assert(srv_start(&S));
    static const char *const bad[] = {
        "/v1/events?since=abc",
        "/v1/events?since=-4",
        "/v1/events?limit=0",
        "/v1/events?limit=1001",
        "/v1/events?access_token=x",
        "/v1/events?token=abc",
        "/v1/events?channelId=../x",
        "/v1/events?channelId=a//b",
        "/v1/events?kind=Tool-Call",
        "/v1/events/search",
        "/v1/events/search?q=",
        "/v1/context/summary?channelId=%2Fx",
        "/v1/events/search?q=a&limit=0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        resp *r = req(&S, "GET", bad[i], watcher, NULL, NULL);
        expect_error(r, 400, "invalid_request");
        resp_free(r);
    }
    const char *lei[] = {"Last-Event-ID: x1", NULL};
    resp *r = req(&S, "GET", "/v1/events", watcher, lei, NULL);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = req(&S, "GET", "/v1/events?workspaceId=nope", watcher, NULL, NULL);
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);
    static const char *const gated[] = {"/v1/events", "/v1/events/search?q=x",
                                        "/v1/context/summary"};
    for (size_t i = 0; i < 3; i++) {
        r = req(&S, "GET", gated[i], noev, NULL, NULL);
        expect_error(r, 403, "scope_denied");
        resp_free(r);
    }
    /* no header, a token in the query: unauthorized, never accepted */
    r = req(&S, "GET", "/v1/events?access_token=x", NULL, NULL, NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    /* the per-credential cap: the 17th stream is refused before it starts */
    sse_cli *cl[EV_CAP];
    for (int i = 0; i < EV_CAP; i++) {
        char path[64];
        snprintf(path, sizeof path, "/v1/events?channelId=c%d", i);
        cl[i] = sse_open(&S, path, watcher, NULL, 0, false);
        sse_started(cl[i]);
    }
    r = req(&S, "GET", "/v1/events?channelId=c99", watcher, NULL, NULL);
    expect_error(r, 429, "concurrency_limited");
    resp_free(r);
    for (int i = 0; i < EV_CAP; i++) {
        sse_close(cl[i]);
    }
    cr_assert_eq(srv_stop(&S), 0);
}

Test(events, shutdown_ends_streams_cleanly)
{
    srv_config(&S, FAST);
    char watcher[80];
    cr_assert(srv_token(&S, "watcher", "events", watcher));
    cr_assert(srv_start(&S));
    sse_cli *a = sse_open(&S, "/v1/events", watcher, NULL, 0, false);
    sse_started(a);
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert(sse_eof_wait(a, 10000));
    long st;
    json_t *all = sse_parse(a, &st);
    json_t *last = json_array_get(all, json_array_size(all) - 1);
    cr_assert_str_eq(json_string_value(json_object_get(last, "comment")), " shutdown");
    json_decref(all);
    sse_close(a);
}

/* issue 6's scenario: two agents on one workspace and channel; one saves a decision, the other
   sees it live on its event stream and reads it with ctx_session; a third on another channel and
   a key of another tenant see nothing */
Test(events, decision_seen_live_and_read_back_others_see_nothing)
{
    srv_config(&S, FAST);
    srv_tenant(&S, "acme");
    char alice[80], bob[80], carol[80], acme[128];
    cr_assert(srv_token(&S, "alice", "search,sessionMutations,events", alice));
    cr_assert(srv_token(&S, "bob", "search,events", bob));
    cr_assert(srv_token(&S, "carol", "search,events", carol));
    srv_key(&S, "acme", "read", NULL, acme);
    cr_assert(srv_start(&S));

    sse_cli *b =
        sse_open(&S, "/v1/events?channelId=feat/auth&kind=session_mutated", bob, NULL, 0, false);
    sse_cli *c = sse_open(&S, "/v1/events?channelId=feat/other", carol, NULL, 0, false);
    sse_cli *x = sse_open(&S, "/v1/events?channelId=feat/auth", acme, NULL, 0, false);
    sse_started(b);
    sse_started(c);
    sse_started(x);

    resp *r = call_tool(&S, alice, "ctx_session",
                        "{\"action\":\"decision\",\"value\":\"use JWT with 15 min expiry\","
                        "\"channelId\":\"feat/auth\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);

    json_t *got = sse_wait(b, "session_mutated", 1, 10000);
    cr_assert_eq(json_array_size(got), 1, "bob did not see the decision live");
    json_t *d = json_object_get(json_array_get(got, 0), "data");
    cr_assert_str_eq(json_string_value(json_object_get(d, "actor")), "alice");
    cr_assert_str_eq(json_string_value(json_object_get(d, "channelId")), "feat/auth");
    /* bob has `events` without `audit`: references, not the value */
    char *dj = json_dumps(d, JSON_COMPACT);
    cr_assert(dj && !strstr(dj, "15 min expiry"), "%s", dj ? dj : "(null)");
    free(dj);
    json_decref(got);

    /* and reads it with ctx_session */
    r = call_tool(&S, bob, "ctx_session", "{\"action\":\"status\",\"channelId\":\"feat/auth\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "- use JWT with 15 min expiry\n"), "%s", r->body);
    resp_free(r);

    /* the other channel and the other tenant saw nothing, and read nothing */
    usleep(300000);
    json_t *cc = sse_of(c, NULL), *xx = sse_of(x, NULL);
    cr_assert_eq(json_array_size(cc), 0, "another channel saw the decision");
    cr_assert_eq(json_array_size(xx), 0, "another tenant saw the decision");
    json_decref(cc);
    json_decref(xx);
    r = call_tool(&S, carol, "ctx_session", "{\"action\":\"status\",\"channelId\":\"feat/other\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_null(strstr(r->body, "15 min expiry"), "%s", r->body);
    resp_free(r);

    sse_close(b);
    sse_close(c);
    sse_close(x);
    cr_assert_eq(srv_stop(&S), 0);
}

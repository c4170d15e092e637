/* events_api.c - GET /v1/events (SSE), /v1/events/search and /v1/context/summary (issue 6,
 * EVENTS; http-conventions.md §3, DESIGN §4).
 *
 * A stream is a pull stream (sse_set_refill): the connection's thread asks for more when it has
 * sent what it had. The order of work is §3's: the handler subscribes to the live feed first
 * (and is refused with 429 before any stream starts when a cap is reached), then the refills
 * replay from the store in pages of `limit` (or the latest `limit` without since), then take the
 * live queue, skipping ids <= the last sent. A live queue that overflowed (a slow consumer) gets
 * one `event: gap` and the stream replays from the last id sent, so the client loses nothing;
 * without a store to replay from, the stream ends after the gap and the client resumes with
 * Last-Event-ID. Payloads: references for `events`, full for `events` + `audit`. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/strutil.h"
#include "events/events.h"
#include "http/sse.h"

#define PAGE_DEFAULT 200
#define PAGE_MAX 1000
#define LIVE_BATCH 64
#define SEARCH_Q_MAX 256
#define SUMMARY_WINDOW 1000

typedef enum { PH_REPLAY, PH_LIVE, PH_END } phase;

typedef struct ev_stream {
    _Atomic(sse_stream *) s; /* a reference, set once the stream exists */
    ev_sub *sub;
    char tenant[APIKEY_TENANT_MAX + 1];
    char channel[STORE_EV_CHANNEL_MAX + 1];
    char workspace[STORE_WS_ID_MAX + 1];
    char kind[STORE_EV_KIND_MAX + 1];
    bool full;
    bool latest; /* the first replay is the latest `limit` (no since) */
    bool started;
    int64_t pruned_oldest; /* > 0: say events_pruned first */
    int limit;
    int64_t last_sent;
    phase ph;
} ev_stream;

/* the caller's gate: the events scope; true when the route may go on */
static bool gate(http_req *r, const char *what)
{
    if (!(r->who.scopes & SCOPE_EVENTS)) {
        http_header_add(r, "WWW-Authenticate",
                        "Bearer error=\"insufficient_scope\", scope=\"events\"");
        char msg[120];
        snprintf(msg, sizeof msg, "%s needs the events scope", what);
        http_error(r, ERR_SCOPE_DENIED, msg, json_pack("{s:[s]}", "requiredScopes", "events"));
        return false;
    }
    /* a credential in the URL ends up in logs and histories: never accepted there */
    static const char *const cred[] = {"token",  "access_token", "api_key",
                                       "apiKey", "key",          "authorization"};
    for (size_t i = 0; i < sizeof cred / sizeof cred[0]; i++) {
        if (http_query(r, cred[i])) {
            http_error(r, ERR_INVALID_REQUEST,
                       "credentials in the query string are refused: send the Authorization "
                       "(or X-API-Key) header",
                       NULL);
            return false;
        }
    }
    return api_charge_key(r);
}

/* channelId (default "default"), workspaceId (query, else the workspace header; must be the
   tenant's; NULL: any of them) and kind; false after answering 400 */
static bool filters(http_req *r, const char **channel, const char **workspace, const char **kind)
{
    *channel = http_query(r, "channelId");
    if (!*channel) {
        *channel = "default";
    } else if (!dispatch_channel_ok(*channel)) {
        http_error(
            r, ERR_INVALID_REQUEST,
            "channelId must be 1-128 characters of [A-Za-z0-9._/-] with no empty or '..' segment",
            NULL);
        return false;
    }
    *workspace = http_query(r, "workspaceId");
    if (!*workspace) {
        *workspace = http_header(r, "x-leanctx-workspace");
    }
    if (!*workspace) {
        *workspace = http_header(r, "X-Workspace");
    }
    if (*workspace && !config_workspace(r->cfg, r->who.tenant_id, *workspace)) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown workspace '%.100s'", *workspace);
        http_error(r, ERR_UNKNOWN_WORKSPACE, msg, NULL);
        return false;
    }
    if (kind) {
        *kind = http_query(r, "kind");
        if (*kind) {
            size_t n = strlen(*kind);
            bool ok = n > 0 && n <= STORE_EV_KIND_MAX;
            for (size_t i = 0; ok && i < n; i++) {
                char c = (*kind)[i];
                ok = (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
            }
            if (!ok) {
                http_error(r, ERR_INVALID_REQUEST, "kind must be 1-48 characters of [a-z0-9_]",
                           NULL);
                return false;
            }
        }
    }
    return true;
}

/* ---- the stream ---- */

static void stream_wake(void *ctx)
{
    ev_stream *e = ctx;
    sse_stream *s = atomic_load(&e->s);
    if (s) {
        sse_kick(s);
    }
}

static void stream_release(void *ctx)
{
    ev_stream *e = ctx;
    sse_unref(atomic_load(&e->s));
    xfree(e);
}

/* the connection is done with the stream: leave the live feed */
static void stream_done(void *ctx)
{
    ev_stream *e = ctx;
    events_unsubscribe(e->sub); /* the last reference calls stream_release */
}

static bool send_row(ev_stream *e, sse_stream *s, const store_event *row)
{
    json_t *j = NULL;
    events_format(&j, row, e->full);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        return false;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)row->id);
    bool ok = sse_event(s, id, row->kind, text, strlen(text));
    free(text);
    if (ok) {
        e->last_sent = row->id;
    }
    return ok;
}

typedef struct replay_out {
    ev_stream *e;
    sse_stream *s;
    bool failed;
} replay_out;

static bool replay_one(const store_event *row, void *v)
{
    replay_out *o = v;
    if (row->id <= o->e->last_sent && !o->e->latest) {
        return true;
    }
    if (!send_row(o->e, o->s, row)) {
        o->failed = true;
        return false;
    }
    return true;
}

static void end_stream(ev_stream *e, sse_stream *s)
{
    e->ph = PH_END;
    sse_close(s);
}

static void refill(sse_stream *s, void *ctx)
{
    ev_stream *e = ctx;
    if (e->ph == PH_END) {
        return;
    }
    if (!e->started) {
        e->started = true;
        if (!sse_retry(s, 3000)) {
            end_stream(e, s);
            return;
        }
        if (e->pruned_oldest > 0) {
            char d[64];
            int n = snprintf(d, sizeof d, "{\"oldestId\":%lld}", (long long)e->pruned_oldest);
            (void)sse_event(s, NULL, "events_pruned", d, (size_t)n);
        }
    }
    if (e->ph == PH_REPLAY) {
        store_event_query q = {
            .tenant_id = e->tenant,
            .channel_id = e->channel,
            .workspace_id = e->workspace[0] ? e->workspace : NULL,
            .kind = e->kind[0] ? e->kind : NULL,
            .after_id = e->latest ? -1 : e->last_sent,
            .limit = e->limit,
        };
        replay_out o = {.e = e, .s = s};
        int n = 0;
        err rc = events_replay(&q, replay_one, &o, &n);
        bool was_latest = e->latest;
        e->latest = false;
        if (rc != ERR_OK || o.failed) {
            /* the client resumes from the last id it got */
            (void)sse_comment(s, "replay failed");
            end_stream(e, s);
            return;
        }
        if (was_latest || n < e->limit) {
            e->ph = PH_LIVE;
        }
        sse_kick(s); /* the next page, or the live queue */
        return;
    }
    ev_event *got[LIVE_BATCH];
    bool overflow = false, ended = false;
    size_t n = events_take(e->sub, got, LIVE_BATCH, &overflow, &ended);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (ok && !overflow && got[i]->row.id > e->last_sent) {
            ok = send_row(e, s, &got[i]->row);
        }
        ev_event_unref(got[i]);
    }
    if (ended) {
        (void)sse_comment(s, "shutdown");
        end_stream(e, s);
        return;
    }
    if (!ok) {
        end_stream(e, s);
        return;
    }
    if (overflow) {
        char d[160];
        bool can = events_store() != NULL;
        int dn = snprintf(d, sizeof d,
                          "{\"lastId\":%lld,\"reason\":\"slow_consumer\",\"queueMax\":%d,"
                          "\"replaying\":%s}",
                          (long long)e->last_sent, EV_QUEUE_MAX, can ? "true" : "false");
        if (!sse_event(s, NULL, "gap", d, (size_t)dn) || !can) {
            end_stream(e, s);
            return;
        }
        e->ph = PH_REPLAY; /* refill from the store from the last id sent */
        sse_kick(s);
        return;
    }
    if (n == LIVE_BATCH) {
        sse_kick(s);
    }
}

void api_events_stream(http_req *r)
{
    if (!gate(r, "/v1/events")) {
        return;
    }
    const char *channel, *workspace, *kind;
    int64_t limit, since = -1;
    if (!filters(r, &channel, &workspace, &kind) ||
        !api_query_int(r, "limit", PAGE_DEFAULT, 1, PAGE_MAX, &limit) ||
        !api_query_int(r, "since", -1, 0, INT64_MAX, &since)) {
        return;
    }
    const char *lei = http_header(r, "Last-Event-ID");
    if (lei) {
        int64_t v;
        if (!parse_i64(lei, strlen(lei), 0, INT64_MAX, &v)) {
            http_error(r, ERR_INVALID_REQUEST, "Last-Event-ID must be an event id (an integer)",
                       NULL);
            return;
        }
        since = v; /* the header wins (http-conventions.md §3) */
    }
    ev_stream *e = xcalloc(1, sizeof *e);
    if (!e) {
        http_error(r, ERR_INTERNAL, "out of memory", NULL);
        return;
    }
    snprintf(e->tenant, sizeof e->tenant, "%s", r->who.tenant_id);
    snprintf(e->channel, sizeof e->channel, "%s", channel);
    snprintf(e->workspace, sizeof e->workspace, "%s", workspace ? workspace : "");
    snprintf(e->kind, sizeof e->kind, "%s", kind ? kind : "");
    e->full = (r->who.scopes & SCOPE_AUDIT) != 0;
    e->limit = (int)limit;
    e->latest = since < 0;
    e->ph = PH_REPLAY;
    if (since >= 0) {
        int64_t oldest, last;
        events_bounds(e->tenant, &oldest, &last);
        if (since > last) {
            since = last; /* an id not given yet: from what exists */
        }
        if (oldest > 0 && since + 1 < oldest) {
            e->pruned_oldest = oldest;
        }
        e->last_sent = since;
    }
    /* subscribe first: an event emitted while replaying is queued, none falls between */
    ev_filter f = {.tenant = e->tenant,
                   .channel = e->channel,
                   .workspace = workspace,
                   .kind = kind,
                   .credential = r->who.token_id};
    ev_sub_result sr = events_subscribe(&f, stream_wake, stream_release, e, &e->sub);
    if (sr != EV_SUB_OK) {
        xfree(e);
        if (sr == EV_SUB_DOWN) {
            http_error(r, ERR_INTERNAL, "the event bus is not running", NULL);
            return;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "too many event streams %s (at most %d); retry later",
                 sr == EV_SUB_CHANNEL_FULL      ? "on this workspace and channel"
                 : sr == EV_SUB_CREDENTIAL_FULL ? "for this credential"
                                                : "on this server",
                 sr == EV_SUB_CHANNEL_FULL      ? EV_SUBS_PER_CHANNEL
                 : sr == EV_SUB_CREDENTIAL_FULL ? EV_SUBS_PER_CREDENTIAL
                                                : EV_SUBS_TOTAL);
        http_header_add(r, "Retry-After", "1");
        http_error(r, ERR_CONCURRENCY_LIMITED, msg, NULL);
        return;
    }
    r->audit.allowed = true;
    sse_stream *s = sse_begin(r);
    if (!s) {
        events_unsubscribe(e->sub); /* frees e */
        http_error(r, ERR_INTERNAL, "cannot start the stream", NULL);
        return;
    }
    atomic_store(&e->s, s); /* the caller's reference, released with e */
    sse_set_refill(s, refill, stream_done, e);
}

/* ---- search ---- */

typedef struct collect {
    json_t *arr;
    bool full;
    json_t *kinds;  /* summary: counts by kind */
    json_t *agents; /* summary: agents seen */
    int64_t total;
} collect;

static bool collect_row(const store_event *row, void *v)
{
    collect *c = v;
    json_t *j = NULL;
    events_format(&j, row, c->full);
    if (j) {
        json_array_append_new(c->arr, j);
    }
    return true;
}

void api_events_search(http_req *r)
{
    if (!gate(r, "/v1/events/search")) {
        return;
    }
    const char *q = http_query(r, "q");
    int64_t limit;
    if (!q || !*q || strlen(q) > SEARCH_Q_MAX) {
        http_error(r, ERR_INVALID_REQUEST, "q must be 1-256 bytes of search words", NULL);
        return;
    }
    if (!api_query_int(r, "limit", 50, 1, 500, &limit)) {
        return;
    }
    store *st = events_store();
    collect c = {.arr = json_array(), .full = (r->who.scopes & SCOPE_AUDIT) != 0};
    if (st && store_event_search(st, r->who.tenant_id, q, (int)limit, collect_row, &c) != ERR_OK) {
        json_decref(c.arr);
        http_error(r, ERR_INTERNAL, "the event search failed", NULL);
        return;
    }
    r->audit.allowed = true;
    size_t n = json_array_size(c.arr);
    http_json(r, 200,
              json_pack("{s:o, s:I, s:s}", "results", c.arr, "count", (json_int_t)n, "query", q));
}

/* ---- context summary ---- */

static bool summary_row(const store_event *row, void *v)
{
    collect *c = v;
    c->total++;
    json_t *k = json_object_get(c->kinds, row->kind);
    json_object_set_new(c->kinds, row->kind, json_integer(k ? json_integer_value(k) + 1 : 1));
    if (row->agent_id[0]) {
        json_t *a = json_object_get(c->agents, row->agent_id);
        json_object_set_new(c->agents, row->agent_id,
                            json_integer(a ? json_integer_value(a) + 1 : 1));
    }
    char ts[32];
    clock_rfc3339(row->ts_ms, ts);
    json_array_append_new(c->arr,
                          json_pack("{s:I, s:s, s:s, s:s?, s:s}", "id", (json_int_t)row->id, "kind",
                                    row->kind, "summary", row->summary, "actor",
                                    row->agent_id[0] ? row->agent_id : NULL, "timestamp", ts));
    return true;
}

void api_context_summary(http_req *r)
{
    if (!gate(r, "/v1/context/summary")) {
        return;
    }
    const char *channel, *workspace;
    int64_t recent;
    if (!filters(r, &channel, &workspace, NULL) ||
        !api_query_int(r, "limit", 20, 1, 100, &recent)) {
        return;
    }
    collect c = {.arr = json_array(), .kinds = json_object(), .agents = json_object()};
    store_event_query q = {.tenant_id = r->who.tenant_id,
                           .channel_id = channel,
                           .workspace_id = workspace,
                           .after_id = -1,
                           .limit = SUMMARY_WINDOW};
    int n = 0;
    if (events_replay(&q, summary_row, &c, &n) != ERR_OK) {
        json_decref(c.arr);
        json_decref(c.kinds);
        json_decref(c.agents);
        http_error(r, ERR_INTERNAL, "the event summary failed", NULL);
        return;
    }
    /* the last `limit` summaries, newest first */
    json_t *last = json_array();
    for (size_t i = json_array_size(c.arr); i > 0 && json_array_size(last) < (size_t)recent; i--) {
        json_array_append(last, json_array_get(c.arr, i - 1));
    }
    json_t *agents = json_array();
    const char *key;
    json_t *val;
    json_object_foreach (c.agents, key, val) {
        json_array_append_new(agents, json_pack("{s:s, s:O}", "agent", key, "events", val));
    }
    json_decref(c.agents);
    json_decref(c.arr);
    r->audit.allowed = true;
    http_json(r, 200,
              json_pack("{s:s?, s:s, s:I, s:o, s:o, s:o, s:i}", "workspaceId", workspace,
                        "channelId", channel, "totalEvents", (json_int_t)c.total,
                        "eventCountsByKind", c.kinds, "recentEvents", last, "agents", agents,
                        "window", SUMMARY_WINDOW));
}

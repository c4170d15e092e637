/* events.h - the event bus (issue 6; http-conventions.md §3, DESIGN §8).
 *
 * Every tool call, session change, knowledge change, index build and sync emits one typed event.
 * An event has an id that increases per tenant (one sequence per tenant, so a tenant cannot count
 * another's activity), a time, its tenant, workspace, channel, agent (the caller's token id or key
 * prefix), kind, a one-line summary (searchable; tool names and digests, never file contents) and
 * two payloads: `refs` (what an `events` credential sees) and `full` (what `events` + `audit`
 * sees).
 *
 * events_emit never blocks on the database: the event is numbered and handed to the live
 * subscribers at once, and persisted by the store's background writer in batches; a replay reads
 * the store and the writer's pending batch, so no event falls between them. Subscribers hold a
 * bounded queue; a subscriber that falls behind gets an explicit gap instead of unbounded memory.
 * Tenant isolation: an event reaches only subscribers of its own tenant. */
#ifndef CTXD_EVENTS_EVENTS_H
#define CTXD_EVENTS_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "store/store.h"

typedef struct ev_spec {
    const char *tenant;    /* required */
    const char *workspace; /* may be NULL */
    const char *channel;   /* NULL: "default" */
    const char *agent;     /* token id / key prefix, may be NULL */
    const char *kind;      /* tool_call_recorded, session_mutated, knowledge_remembered, ... */
    const char *summary;   /* one line, at most 512 bytes kept */
    json_t *refs;          /* borrowed (copied): the reference payload, may be NULL */
    json_t *full;          /* borrowed (copied): the full payload, may be NULL (= refs) */
} ev_spec;

/* start the bus over the store (serve.c, once; NULL store: events are live only) */
void events_setup(store *st);
/* stop: subscribers are ended, pending events written */
void events_shutdown(void);
/* emit one event; returns its id (> 0), or 0 when the bus is not running or the spec is invalid */
int64_t events_emit(const ev_spec *e);

/* ---- added by the EVENTS helper: subscribers, replay, formatting ---- */

#define EV_QUEUE_MAX 256          /* events queued per subscriber before it overflows */
#define EV_SUBS_PER_CHANNEL 64    /* subscribers per (tenant, workspace, channel) */
#define EV_SUBS_PER_CREDENTIAL 16 /* open streams per credential */
#define EV_SUBS_TOTAL 1024        /* open streams in all */

/* a live event: the row (its JSON strings owned by the event), shared by the queues */
typedef struct ev_event {
    store_event row;
    int refs;
} ev_event;
void ev_event_unref(ev_event *e);

typedef struct ev_filter {
    const char *tenant;     /* required */
    const char *channel;    /* required */
    const char *workspace;  /* NULL: any */
    const char *kind;       /* NULL: any */
    const char *credential; /* the subscriber's token id (per-credential cap) */
} ev_filter;

typedef struct ev_sub ev_sub;
/* wake: an event was queued (called without the bus's lock, from the emitting thread);
   release: the subscription is gone (last reference), ctx may be freed */
typedef void (*ev_wake_fn)(void *ctx);
typedef enum {
    EV_SUB_OK,
    EV_SUB_CHANNEL_FULL,
    EV_SUB_CREDENTIAL_FULL,
    EV_SUB_TOTAL_FULL,
    EV_SUB_DOWN
} ev_sub_result;
/* subscribe to the live feed (before replaying: no gap); the filter's strings are copied */
ev_sub_result events_subscribe(const ev_filter *f, ev_wake_fn wake, ev_wake_fn release, void *ctx,
                               ev_sub **out);
/* take up to max queued events, oldest first (the caller unrefs each); *overflow is set when
   the queue overflowed since the last take (it was dropped: replay from the last id sent);
   *ended when the bus shut down */
size_t events_take(ev_sub *s, ev_event **out, size_t max, bool *overflow, bool *ended);
void events_unsubscribe(ev_sub *s);

/* the tenant's events matching q (persisted ones, then those the writer has not written yet),
   oldest first: ids > q->after_id, or with after_id < 0 the newest q->limit; *n receives how
   many were handed to fn. Works without a store (live only: nothing to replay). */
err events_replay(const store_event_query *q, store_event_fn fn, void *ctx, int *n);
/* the tenant's oldest kept id (0: none) and last id given (0: none) */
void events_bounds(const char *tenant, int64_t *oldest, int64_t *last);
/* ContextEventV1 (http-conventions.md §3) of e into out: the full payload or the references */
void events_format(json_t **out, const store_event *e, bool full);
/* the store, for search and summary (NULL: none) */
store *events_store(void);
/* the default retention in days (eventRetentionDays; tenants' event_retention_days override) */
void events_set_retention(int days);
/* the index's hook (index_set_event_fn, installed by serve.c): a build ("index_built") or a
   sync ("sync_done") of ws finished; emitted on the default channel with agent "server" */
struct ix_summary;
void events_index_hook(const char *kind, const cfg_workspace *ws, bool ok,
                       const struct ix_summary *sum, const char *message);

#endif

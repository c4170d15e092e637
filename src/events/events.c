/* events.c - the event bus (see events.h).
 *
 * One mutex (bus.mu) guards the per-tenant sequences, the writer's pending list and every
 * subscriber's queue: an emit numbers the event, appends it to the pending list and to the
 * queue of each matching subscriber in one critical section, so the id order is the order of
 * every queue and of the pending list. The writer thread takes the pending list's head in
 * batches, writes it (store_event_append) and only then removes it, so a replay that reads the
 * pending list first and the store second never misses an event (ids are deduplicated).
 * Retention: the writer prunes a small batch every PRUNE_EVERY_MS. */
#include "events/events.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "index/index.h"

#define FLUSH_MS 200
#define FLUSH_ROWS 512
#define PENDING_MAX 100000 /* events kept for a failing store before the oldest are dropped */
#define PRUNE_EVERY_MS 60000
#define PRUNE_BATCH 500

typedef struct seq_ent {
    char tenant[APIKEY_TENANT_MAX + 1];
    int64_t last;
    int64_t oldest; /* the oldest id known kept (0: none) */
} seq_ent;

struct ev_sub {
    ev_sub *next, *prev;
    int refs; /* the list's (while subscribed) and each wake in progress */
    char tenant[APIKEY_TENANT_MAX + 1];
    char channel[STORE_EV_CHANNEL_MAX + 1];
    char workspace[STORE_WS_ID_MAX + 1]; /* "" any */
    char kind[STORE_EV_KIND_MAX + 1];    /* "" any */
    char credential[160];
    ev_event *q[EV_QUEUE_MAX];
    size_t head, count;
    bool overflow;
    bool ended;
    bool listed;
    ev_wake_fn wake, release;
    void *ctx;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running;
    bool stop;
    store *st;
    seq_ent *seqs;
    size_t n_seqs, cap_seqs;
    ev_event **pending; /* ring: pend_head .. + n_pending */
    size_t pend_cap, pend_head, n_pending;
    size_t writing; /* the first `writing` pending events are being written */
    ev_sub *subs;
    int n_subs;
    pthread_t writer;
    int retention_days;
    int64_t last_prune_ms;
} bus = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .retention_days = 30};

void ev_event_unref(ev_event *e)
{
    if (!e) {
        return;
    }
    pthread_mutex_lock(&bus.mu);
    bool last = --e->refs == 0;
    pthread_mutex_unlock(&bus.mu);
    if (last) {
        xfree((char *)e->row.refs_json);
        xfree((char *)e->row.full_json);
        xfree(e);
    }
}

/* under mu: drop one reference without freeing under the lock's holder's feet */
static void unref_locked(ev_event *e, ev_event **freelist)
{
    if (--e->refs == 0) {
        /* reuse refs_json's slot is not possible: chain through the row's id field */
        e->row.id = (int64_t)(intptr_t)*freelist;
        *freelist = e;
    }
}

static void free_list(ev_event *fl)
{
    while (fl) {
        ev_event *next = (ev_event *)(intptr_t)fl->row.id;
        xfree((char *)fl->row.refs_json);
        xfree((char *)fl->row.full_json);
        xfree(fl);
        fl = next;
    }
}

/* ---- per-tenant sequences ---- */

static seq_ent *seq_find(const char *tenant)
{
    for (size_t i = 0; i < bus.n_seqs; i++) {
        if (strcmp(bus.seqs[i].tenant, tenant) == 0) {
            return &bus.seqs[i];
        }
    }
    return NULL;
}

/* the tenant's entry, read from the store the first time (mu not held) */
static seq_ent *seq_get(const char *tenant)
{
    /* the first event of a tenant reads the store under the lock: once per tenant, and the
       store cannot close meanwhile (events_shutdown clears bus.st under it) */
    pthread_mutex_lock(&bus.mu);
    seq_ent *e = seq_find(tenant);
    if (!e) {
        int64_t last = 0, oldest = 0;
        if (bus.st && store_event_bounds(bus.st, tenant, &last, &oldest) != ERR_OK) {
            pthread_mutex_unlock(&bus.mu);
            return NULL; /* a sequence that might repeat ids is worse than no event */
        }
        if (bus.n_seqs == bus.cap_seqs) {
            size_t nc = bus.cap_seqs ? bus.cap_seqs * 2 : 16;
            seq_ent *ns = xrealloc(bus.seqs, nc * sizeof *ns);
            if (!ns) {
                pthread_mutex_unlock(&bus.mu);
                return NULL;
            }
            bus.seqs = ns;
            bus.cap_seqs = nc;
        }
        e = &bus.seqs[bus.n_seqs++];
        memset(e, 0, sizeof *e);
        snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
        e->last = last;
        e->oldest = oldest;
    }
    pthread_mutex_unlock(&bus.mu);
    return e;
}

/* ---- the writer ---- */

static bool pending_push(ev_event *e, ev_event **freelist)
{
    if (bus.n_pending == bus.pend_cap) {
        if (bus.pend_cap >= PENDING_MAX) {
            if (bus.writing > 0) {
                return false;
            }
            /* the store has been failing for a long time: the oldest unwritten one goes */
            unref_locked(bus.pending[bus.pend_head], freelist);
            bus.pend_head = (bus.pend_head + 1) % bus.pend_cap;
            bus.n_pending--;
        } else {
            size_t nc = bus.pend_cap ? bus.pend_cap * 2 : 1024;
            ev_event **np = xmalloc(nc * sizeof(ev_event *));
            if (!np) {
                return false;
            }
            for (size_t i = 0; i < bus.n_pending; i++) {
                np[i] = bus.pending[(bus.pend_head + i) % bus.pend_cap];
            }
            xfree(bus.pending);
            bus.pending = np;
            bus.pend_cap = nc;
            bus.pend_head = 0;
        }
    }
    bus.pending[(bus.pend_head + bus.n_pending) % bus.pend_cap] = e;
    bus.n_pending++;
    e->refs++;
    return true;
}

/* write what is pending (the caller does not hold mu); false when the store failed */
static bool flush_pending(void)
{
    pthread_mutex_lock(&bus.mu);
    size_t n = bus.n_pending < FLUSH_ROWS ? bus.n_pending : FLUSH_ROWS;
    store *st = bus.st;
    if (n == 0 || !st) {
        pthread_mutex_unlock(&bus.mu);
        return true;
    }
    bus.writing = n;
    store_event *rows = xmalloc(n * sizeof *rows);
    if (rows) {
        for (size_t i = 0; i < n; i++) {
            rows[i] = bus.pending[(bus.pend_head + i) % bus.pend_cap]->row;
        }
    }
    pthread_mutex_unlock(&bus.mu);
    if (!rows) {
        pthread_mutex_lock(&bus.mu);
        bus.writing = 0;
        pthread_mutex_unlock(&bus.mu);
        return false;
    }
    /* the events cannot go away meanwhile: the pending list holds a reference */
    err e = store_event_append(st, rows, n);
    xfree(rows);
    ev_event *fl = NULL;
    pthread_mutex_lock(&bus.mu);
    bus.writing = 0;
    if (e == ERR_OK) {
        for (size_t i = 0; i < n; i++) {
            unref_locked(bus.pending[bus.pend_head], &fl);
            bus.pend_head = (bus.pend_head + 1) % bus.pend_cap;
            bus.n_pending--;
        }
    }
    pthread_mutex_unlock(&bus.mu);
    free_list(fl);
    return e == ERR_OK;
}

static void prune(int64_t now)
{
    store *st = bus.st;
    int64_t deleted = 0;
    if (st && store_event_prune(st, clock_wall_ms(), bus.retention_days, PRUNE_BATCH, &deleted) ==
                  ERR_OK) {
        if (deleted > 0) {
            log_info("events: %lld event%s older than their retention pruned", (long long)deleted,
                     deleted == 1 ? "" : "s");
            /* the oldest kept ids moved: read them again when next needed */
            pthread_mutex_lock(&bus.mu);
            for (size_t i = 0; i < bus.n_seqs; i++) {
                bus.seqs[i].oldest = -1;
            }
            pthread_mutex_unlock(&bus.mu);
        }
    }
    /* a full batch: more to do soon, else wait the whole period */
    bus.last_prune_ms = deleted >= PRUNE_BATCH ? now - PRUNE_EVERY_MS + 1000 : now;
}

/* wake the subscribers taken (each holding a reference, outside bus.mu), then drop those
   references: the last one releases a subscriber that unsubscribed meanwhile */
static void wake_all(ev_sub **wake, int nw)
{
    for (int i = 0; i < nw; i++) {
        wake[i]->wake(wake[i]->ctx);
    }
    for (int i = 0; i < nw; i++) {
        ev_sub *s = wake[i];
        pthread_mutex_lock(&bus.mu);
        bool last = --s->refs == 0;
        pthread_mutex_unlock(&bus.mu);
        if (last) {
            s->release(s->ctx);
            xfree(s);
        }
    }
}

static void *writer_main(void *unused)
{
    (void)unused;
    int failures = 0;
    bus.last_prune_ms = clock_mono_ms() - PRUNE_EVERY_MS + 2000; /* the first pass soon */
    pthread_mutex_lock(&bus.mu);
    while (!bus.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t wait_ms = failures ? 1000 : FLUSH_MS;
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (bus.n_pending < FLUSH_ROWS) {
            pthread_cond_timedwait(&bus.cv, &bus.mu, &ts);
        }
        pthread_mutex_unlock(&bus.mu);
        failures = flush_pending() ? 0 : failures + 1;
        int64_t now = clock_mono_ms();
        if (now - bus.last_prune_ms >= PRUNE_EVERY_MS) {
            prune(now);
        }
        pthread_mutex_lock(&bus.mu);
    }
    pthread_mutex_unlock(&bus.mu);
    return NULL;
}

void events_setup(store *st)
{
    pthread_mutex_lock(&bus.mu);
    if (bus.running) {
        pthread_mutex_unlock(&bus.mu);
        return;
    }
    bus.st = st;
    bus.stop = false;
    bus.running = true;
    bool start = st != NULL;
    pthread_mutex_unlock(&bus.mu);
    if (start && pthread_create(&bus.writer, NULL, writer_main, NULL) != 0) {
        log_error("events: cannot start the writer: events are live only");
        pthread_mutex_lock(&bus.mu);
        bus.st = NULL;
        pthread_mutex_unlock(&bus.mu);
    }
}

void events_set_retention(int days)
{
    pthread_mutex_lock(&bus.mu);
    bus.retention_days = days < 1 ? 1 : days > 3650 ? 3650 : days;
    pthread_mutex_unlock(&bus.mu);
}

store *events_store(void)
{
    pthread_mutex_lock(&bus.mu);
    store *st = bus.running ? bus.st : NULL;
    pthread_mutex_unlock(&bus.mu);
    return st;
}

void events_shutdown(void)
{
    pthread_mutex_lock(&bus.mu);
    if (!bus.running) {
        pthread_mutex_unlock(&bus.mu);
        return;
    }
    bus.running = false;
    bus.stop = true;
    bool joined = bus.st != NULL;
    pthread_cond_broadcast(&bus.cv);
    /* every subscriber learns it is over */
    ev_sub *wake[EV_SUBS_TOTAL];
    int nw = 0;
    for (ev_sub *s = bus.subs; s; s = s->next) {
        s->ended = true;
        if (nw < EV_SUBS_TOTAL) {
            s->refs++;
            wake[nw++] = s;
        }
    }
    pthread_mutex_unlock(&bus.mu);
    wake_all(wake, nw);
    if (joined) {
        pthread_join(bus.writer, NULL);
    }
    /* what the writer had not written yet */
    for (int tries = 0; tries < 1000; tries++) {
        pthread_mutex_lock(&bus.mu);
        size_t left = bus.n_pending;
        pthread_mutex_unlock(&bus.mu);
        if (left == 0 || !flush_pending()) {
            break;
        }
    }
    ev_event *fl = NULL;
    pthread_mutex_lock(&bus.mu);
    if (bus.n_pending) {
        log_warn("events: %zu event%s could not be written before closing", bus.n_pending,
                 bus.n_pending == 1 ? "" : "s");
    }
    while (bus.n_pending) {
        unref_locked(bus.pending[bus.pend_head], &fl);
        bus.pend_head = (bus.pend_head + 1) % bus.pend_cap;
        bus.n_pending--;
    }
    xfree(bus.pending);
    bus.pending = NULL;
    bus.pend_cap = bus.pend_head = 0;
    xfree(bus.seqs);
    bus.seqs = NULL;
    bus.n_seqs = bus.cap_seqs = 0;
    bus.st = NULL;
    pthread_mutex_unlock(&bus.mu);
    free_list(fl);
}

/* ---- emit ---- */

static bool kind_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > STORE_EV_KIND_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((k[i] >= 'a' && k[i] <= 'z') || k[i] == '_' || (k[i] >= '0' && k[i] <= '9'))) {
            return false;
        }
    }
    return true;
}

/* copy at most cap-1 bytes of s, cut at a UTF-8 boundary, newlines as spaces */
static void copy_line(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s && s[n] && n + 1 < cap; n++) {
        out[n] = s[n] == '\n' || s[n] == '\r' ? ' ' : s[n];
    }
    if (s && s[n]) {
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80) {
            n--; /* out[n] would start a cut character: drop back to its lead byte */
        }
    }
    out[n] = '\0';
}

static bool sub_matches(const ev_sub *s, const store_event *r)
{
    return strcmp(s->tenant, r->tenant_id) == 0 && strcmp(s->channel, r->channel_id) == 0 &&
           (!s->workspace[0] || strcmp(s->workspace, r->workspace_id) == 0) &&
           (!s->kind[0] || strcmp(s->kind, r->kind) == 0);
}

int64_t events_emit(const ev_spec *spec)
{
    if (!spec || !spec->tenant || !spec->kind || !kind_ok(spec->kind) || !spec->tenant[0] ||
        strlen(spec->tenant) > APIKEY_TENANT_MAX) {
        return 0;
    }
    pthread_mutex_lock(&bus.mu);
    bool running = bus.running;
    pthread_mutex_unlock(&bus.mu);
    if (!running) {
        return 0;
    }
    seq_ent *se = seq_get(spec->tenant);
    if (!se) {
        return 0;
    }
    ev_event *e = xcalloc(1, sizeof *e);
    if (!e) {
        return 0;
    }
    store_event *r = &e->row;
    r->ts_ms = clock_wall_ms();
    snprintf(r->tenant_id, sizeof r->tenant_id, "%s", spec->tenant);
    copy_line(r->workspace_id, sizeof r->workspace_id, spec->workspace);
    copy_line(r->channel_id, sizeof r->channel_id, spec->channel ? spec->channel : "default");
    copy_line(r->agent_id, sizeof r->agent_id, spec->agent);
    snprintf(r->kind, sizeof r->kind, "%s", spec->kind);
    copy_line(r->summary, sizeof r->summary, spec->summary ? spec->summary : spec->kind);
    /* the references payload says it is one when a fuller one exists */
    json_t *refs = spec->refs ? json_deep_copy(spec->refs) : json_object();
    if (refs && spec->full && json_is_object(refs)) {
        json_object_set_new(refs, "redacted", json_true());
    }
    char *rj = refs ? json_dumps(refs, JSON_COMPACT) : NULL;
    json_decref(refs);
    char *fj = spec->full ? json_dumps(spec->full, JSON_COMPACT) : NULL;
    if (!rj || (spec->full && !fj)) {
        free(rj);
        free(fj);
        xfree(e);
        return 0;
    }
    /* jansson's buffers come from malloc: copy them into the funnel's */
    r->refs_json = xstrdup(rj);
    r->full_json = fj ? xstrdup(fj) : NULL;
    free(rj);
    free(fj);
    if (!r->refs_json || (fj && !r->full_json)) {
        xfree((char *)r->refs_json);
        xfree((char *)r->full_json);
        xfree(e);
        return 0;
    }
    e->refs = 1; /* ours until the end of this function */

    ev_sub *wake[EV_SUBS_TOTAL];
    int nw = 0;
    ev_event *fl = NULL;
    pthread_mutex_lock(&bus.mu);
    if (!bus.running) {
        pthread_mutex_unlock(&bus.mu);
        ev_event_unref(e);
        return 0;
    }
    se = seq_find(spec->tenant); /* the array may have moved */
    r->id = ++se->last;
    metrics_event_emitted(r->kind);
    if (se->oldest == 0) {
        se->oldest = r->id;
    }
    if (bus.st) {
        (void)pending_push(e, &fl);
        if (bus.n_pending >= FLUSH_ROWS) {
            pthread_cond_signal(&bus.cv);
        }
    }
    for (ev_sub *s = bus.subs; s; s = s->next) {
        if (s->ended || !sub_matches(s, r)) {
            continue;
        }
        if (s->count == EV_QUEUE_MAX) {
            /* a slow consumer: its queue is dropped; it replays from the last id it sent */
            for (size_t i = 0; i < s->count; i++) {
                unref_locked(s->q[(s->head + i) % EV_QUEUE_MAX], &fl);
            }
            s->head = s->count = 0;
            s->overflow = true;
        } else if (!s->overflow) {
            s->q[(s->head + s->count) % EV_QUEUE_MAX] = e;
            s->count++;
            e->refs++;
        }
        if (nw < EV_SUBS_TOTAL) {
            s->refs++;
            wake[nw++] = s;
        }
    }
    int64_t id = r->id;
    unref_locked(e, &fl);
    pthread_mutex_unlock(&bus.mu);
    free_list(fl);
    wake_all(wake, nw);
    return id;
}

/* ---- subscribers ---- */

ev_sub_result events_subscribe(const ev_filter *f, ev_wake_fn wake, ev_wake_fn release, void *ctx,
                               ev_sub **out)
{
    *out = NULL;
    ev_sub *s = xcalloc(1, sizeof *s);
    if (!s) {
        return EV_SUB_DOWN;
    }
    snprintf(s->tenant, sizeof s->tenant, "%s", f->tenant);
    snprintf(s->channel, sizeof s->channel, "%s", f->channel);
    snprintf(s->workspace, sizeof s->workspace, "%s", f->workspace ? f->workspace : "");
    snprintf(s->kind, sizeof s->kind, "%s", f->kind ? f->kind : "");
    snprintf(s->credential, sizeof s->credential, "%s", f->credential ? f->credential : "");
    s->wake = wake;
    s->release = release;
    s->ctx = ctx;
    s->refs = 1;
    pthread_mutex_lock(&bus.mu);
    ev_sub_result res = EV_SUB_OK;
    int on_channel = 0, of_credential = 0;
    for (ev_sub *o = bus.subs; o; o = o->next) {
        if (strcmp(o->tenant, s->tenant) == 0 && strcmp(o->channel, s->channel) == 0 &&
            strcmp(o->workspace, s->workspace) == 0) {
            on_channel++;
        }
        if (strcmp(o->tenant, s->tenant) == 0 && strcmp(o->credential, s->credential) == 0) {
            of_credential++;
        }
    }
    if (!bus.running) {
        res = EV_SUB_DOWN;
    } else if (bus.n_subs >= EV_SUBS_TOTAL) {
        res = EV_SUB_TOTAL_FULL;
    } else if (of_credential >= EV_SUBS_PER_CREDENTIAL) {
        res = EV_SUB_CREDENTIAL_FULL;
    } else if (on_channel >= EV_SUBS_PER_CHANNEL) {
        res = EV_SUB_CHANNEL_FULL;
    }
    if (res == EV_SUB_OK) {
        s->next = bus.subs;
        if (bus.subs) {
            bus.subs->prev = s;
        }
        bus.subs = s;
        s->listed = true;
        bus.n_subs++;
    }
    pthread_mutex_unlock(&bus.mu);
    if (res != EV_SUB_OK) {
        xfree(s);
        return res;
    }
    *out = s;
    return EV_SUB_OK;
}

size_t events_take(ev_sub *s, ev_event **out, size_t max, bool *overflow, bool *ended)
{
    pthread_mutex_lock(&bus.mu);
    size_t n = 0;
    while (n < max && s->count) {
        out[n++] = s->q[s->head];
        s->head = (s->head + 1) % EV_QUEUE_MAX;
        s->count--;
    }
    *overflow = s->overflow;
    s->overflow = false;
    *ended = s->ended;
    pthread_mutex_unlock(&bus.mu);
    return n;
}

void events_unsubscribe(ev_sub *s)
{
    if (!s) {
        return;
    }
    ev_event *fl = NULL;
    pthread_mutex_lock(&bus.mu);
    if (s->listed) {
        if (s->prev) {
            s->prev->next = s->next;
        } else {
            bus.subs = s->next;
        }
        if (s->next) {
            s->next->prev = s->prev;
        }
        s->listed = false;
        bus.n_subs--;
    }
    s->ended = true;
    for (size_t i = 0; i < s->count; i++) {
        unref_locked(s->q[(s->head + i) % EV_QUEUE_MAX], &fl);
    }
    s->head = s->count = 0;
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&bus.mu);
    free_list(fl);
    if (last) {
        s->release(s->ctx);
        xfree(s);
    }
}

/* ---- replay ---- */

static bool filter_ok(const store_event_query *q, const store_event *r)
{
    return strcmp(q->tenant_id, r->tenant_id) == 0 &&
           (!q->channel_id || strcmp(q->channel_id, r->channel_id) == 0) &&
           (!q->workspace_id || strcmp(q->workspace_id, r->workspace_id) == 0) &&
           (!q->kind || strcmp(q->kind, r->kind) == 0) &&
           (!q->agent_id || strcmp(q->agent_id, r->agent_id) == 0);
}

typedef struct replay_ctx {
    store_event_fn fn;
    void *ctx;
    int64_t last;
    int n;
    bool stopped;
} replay_ctx;

static bool replay_row(const store_event *e, void *v)
{
    replay_ctx *rc = v;
    rc->last = e->id;
    rc->n++;
    if (!rc->fn(e, rc->ctx)) {
        rc->stopped = true;
        return false;
    }
    return true;
}

err events_replay(const store_event_query *q, store_event_fn fn, void *ctx, int *n)
{
    *n = 0;
    if (!q->tenant_id || q->limit < 1 || q->limit > 10000) {
        return ERR_INVALID_ARGUMENTS;
    }
    /* the pending ones first (a snapshot of references), then the store: an event written
       between the two is in both and handed over once */
    size_t cap = 0, np = 0;
    ev_event **snap = NULL;
    pthread_mutex_lock(&bus.mu);
    store *st = bus.running ? bus.st : NULL;
    for (size_t i = 0; i < bus.n_pending; i++) {
        ev_event *e = bus.pending[(bus.pend_head + i) % bus.pend_cap];
        if ((q->after_id < 0 || e->row.id > q->after_id) && filter_ok(q, &e->row)) {
            if (np == cap) {
                size_t nc = cap ? cap * 2 : 64;
                ev_event **ns = xrealloc(snap, nc * sizeof(ev_event *));
                if (!ns) {
                    break;
                }
                snap = ns;
                cap = nc;
            }
            e->refs++;
            snap[np++] = e;
        }
    }
    pthread_mutex_unlock(&bus.mu);

    replay_ctx rc = {.fn = fn, .ctx = ctx, .last = q->after_id < 0 ? 0 : q->after_id};
    err e = ERR_OK;
    size_t from = 0; /* the first pending one to hand over */
    if (q->after_id < 0 && (int)np >= q->limit) {
        from = np - (size_t)q->limit;
    } else if (st) {
        store_event_query sq = *q;
        if (q->after_id < 0) {
            sq.limit = q->limit - (int)np;
        }
        e = store_event_list(st, &sq, replay_row, &rc);
    }
    int budget = q->limit - rc.n;
    for (size_t i = from; e == ERR_OK && !rc.stopped && i < np && budget > 0; i++) {
        if (snap[i]->row.id > rc.last) {
            (void)replay_row(&snap[i]->row, &rc);
            budget--;
        }
    }
    for (size_t i = 0; i < np; i++) {
        ev_event_unref(snap[i]);
    }
    xfree(snap);
    *n = rc.n;
    return e;
}

void events_bounds(const char *tenant, int64_t *oldest, int64_t *last)
{
    *oldest = 0;
    *last = 0;
    seq_ent *se = seq_get(tenant);
    if (!se) {
        return;
    }
    pthread_mutex_lock(&bus.mu);
    se = seq_find(tenant);
    bool stale = se && se->oldest < 0;
    store *st = bus.st;
    if (se) {
        *oldest = se->oldest;
        *last = se->last;
    }
    pthread_mutex_unlock(&bus.mu);
    if (stale && st) {
        int64_t l = 0, o = 0;
        if (store_event_bounds(st, tenant, &l, &o) == ERR_OK) {
            pthread_mutex_lock(&bus.mu);
            se = seq_find(tenant);
            if (se && se->oldest < 0) {
                /* nothing kept in the store: the first pending one, if any */
                se->oldest = o ? o : se->last + 1;
            }
            *oldest = se ? se->oldest : o;
            pthread_mutex_unlock(&bus.mu);
        }
    }
}

void events_format(json_t **out, const store_event *e, bool full)
{
    char ts[32];
    clock_rfc3339(e->ts_ms, ts);
    const char *pj = full && e->full_json ? e->full_json : e->refs_json;
    json_t *payload = pj ? json_loads(pj, 0, NULL) : NULL;
    *out =
        json_pack("{s:I, s:s?, s:s, s:s, s:s?, s:s, s:i, s:s, s:s, s:o}", "id", (json_int_t)e->id,
                  "workspaceId", e->workspace_id[0] ? e->workspace_id : NULL, "channelId",
                  e->channel_id, "kind", e->kind, "actor", e->agent_id[0] ? e->agent_id : NULL,
                  "timestamp", ts, "version", 1, "consistencyLevel", "local", "summary", e->summary,
                  "payload", payload ? payload : json_object());
}

/* ---- index hooks ---- */

void events_index_hook(const char *kind, const cfg_workspace *ws, bool ok,
                       const struct ix_summary *sum, const char *message)
{
    if (!ws || !ws->tenant || !kind) {
        return;
    }
    json_t *refs = json_pack("{s:s, s:s}", "workspaceId", ws->id, "outcome", ok ? "ok" : "failed");
    if (refs && sum) {
        json_object_set_new(refs, "files", json_integer(sum->files));
        json_object_set_new(refs, "parsed", json_integer(sum->parsed));
        json_object_set_new(refs, "removed", json_integer(sum->removed));
        json_object_set_new(refs, "symbols", json_integer(sum->symbols));
        json_object_set_new(refs, "durationMs", json_integer((json_int_t)(sum->seconds * 1000)));
        json_object_set_new(refs, "stopped", json_boolean(sum->stopped));
    }
    char summary[STORE_EV_SUMMARY_MAX + 1];
    if (message && *message) {
        snprintf(summary, sizeof summary, "%s %s: %s", kind, ws->id, message);
    } else {
        snprintf(summary, sizeof summary, "%s %s: %lld files, %lld parsed, %.1f s", kind, ws->id,
                 sum ? (long long)sum->files : 0LL, sum ? (long long)sum->parsed : 0LL,
                 sum ? sum->seconds : 0.0);
    }
    ev_spec sp = {.tenant = ws->tenant,
                  .workspace = ws->id,
                  .agent = "server",
                  .kind = kind,
                  .summary = summary,
                  .refs = refs};
    (void)events_emit(&sp);
    json_decref(refs);
}

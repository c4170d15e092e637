/* session.c - the session table (see session.h): a fixed array of slots with hash chains for
 * lookup, under one mutex. Creation (rare) sweeps expired sessions; lookups are O(1). Ids are
 * compared in constant time once their hash matched. */
#include "mcp/session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "http/sse.h"

#define MAX_SESSIONS 10000
#define MAX_PER_TOKEN 64
#define IDLE_MS (30 * 60 * 1000)

#define BUCKETS 16384 /* a power of two */
#define REPLAY 16     /* messages kept per session for Last-Event-ID */

typedef struct session {
    int next; /* the next slot in this hash chain, or -1 */
    char id[SESSION_ID_LEN + 1];
    char token_id[65];
    char version[16];
    int64_t last_ms;
    bool used;
    sse_stream *stream; /* the GET stream, or NULL */
    /* the GET stream's recent messages, for a client that resumes with Last-Event-ID */
    long seq;
    struct {
        long seq;
        char *msg;
    } ring[REPLAY];
} session;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static session *table;
static int heads[BUCKETS];

static unsigned bucket_of(const char *id)
{
    unsigned h = 2166136261u;
    for (const char *p = id; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    return h & (BUCKETS - 1);
}

static void unlink_slot(int i)
{
    int *pp = &heads[bucket_of(table[i].id)];
    while (*pp != i) {
        pp = &table[*pp].next;
    }
    *pp = table[i].next;
    table[i].used = false;
    if (table[i].stream) {
        sse_close(table[i].stream);
        sse_unref(table[i].stream);
        table[i].stream = NULL;
    }
    for (int k = 0; k < REPLAY; k++) {
        xfree(table[i].ring[k].msg);
        table[i].ring[k].msg = NULL;
    }
}

/* drop expired sessions; returns a free slot index or -1 */
static int sweep(int64_t now)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (table[i].used && now - table[i].last_ms > IDLE_MS) {
            unlink_slot(i);
        }
        if (!table[i].used && free_slot < 0) {
            free_slot = i;
        }
    }
    return free_slot;
}

static int oldest(const char *token_id)
{
    int o = -1;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (table[i].used && (!token_id || strcmp(table[i].token_id, token_id) == 0) &&
            (o < 0 || table[i].last_ms < table[o].last_ms)) {
            o = i;
        }
    }
    return o;
}

bool session_create(const char *token_id, const char *version, char id[SESSION_ID_LEN + 1])
{
    unsigned char raw[32];
    if (!crypto_random(raw, sizeof raw)) {
        return false;
    }
    char enc[48]; /* 44 characters of encoding, padding and NUL before they are cut */
    crypto_base64url(raw, sizeof raw, enc);
    memcpy(id, enc, SESSION_ID_LEN + 1);
    pthread_mutex_lock(&lock);
    if (!table) {
        table = xcalloc(MAX_SESSIONS, sizeof *table);
        if (!table) {
            pthread_mutex_unlock(&lock);
            return false;
        }
        for (int i = 0; i < BUCKETS; i++) {
            heads[i] = -1;
        }
    }
    int64_t now = clock_mono_ms();
    int slot = sweep(now);
    int mine = 0;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        mine += table[i].used && strcmp(table[i].token_id, token_id) == 0;
    }
    if (mine >= MAX_PER_TOKEN || slot < 0) {
        int o = oldest(mine >= MAX_PER_TOKEN ? token_id : NULL);
        if (o >= 0) {
            unlink_slot(o);
            slot = o;
        }
    }
    if (slot < 0) {
        pthread_mutex_unlock(&lock);
        return false;
    }
    session *s = &table[slot];
    memcpy(s->id, id, SESSION_ID_LEN + 1);
    snprintf(s->token_id, sizeof s->token_id, "%s", token_id);
    snprintf(s->version, sizeof s->version, "%s", version);
    s->last_ms = now;
    s->used = true;
    s->stream = NULL;
    s->seq = 0;
    unsigned b = bucket_of(s->id);
    s->next = heads[b];
    heads[b] = slot;
    pthread_mutex_unlock(&lock);
    return true;
}

static session *find(const char *id, const char *token_id)
{
    if (!table || strlen(id) != SESSION_ID_LEN) {
        return NULL;
    }
    for (int i = heads[bucket_of(id)]; i >= 0; i = table[i].next) {
        session *s = &table[i];
        if (crypto_equal(s->id, id, SESSION_ID_LEN)) {
            if (clock_mono_ms() - s->last_ms > IDLE_MS) {
                unlink_slot(i);
                return NULL;
            }
            return strcmp(s->token_id, token_id) == 0 ? s : NULL;
        }
    }
    return NULL;
}

bool session_touch(const char *id, const char *token_id, char version[16])
{
    pthread_mutex_lock(&lock);
    session *s = find(id, token_id);
    if (s) {
        s->last_ms = clock_mono_ms();
        memcpy(version, s->version, 16);
    }
    pthread_mutex_unlock(&lock);
    return s != NULL;
}

bool session_delete(const char *id, const char *token_id)
{
    pthread_mutex_lock(&lock);
    session *s = find(id, token_id);
    if (s) {
        unlink_slot((int)(s - table));
    }
    pthread_mutex_unlock(&lock);
    return s != NULL;
}

bool session_attach_stream(const char *id, const char *token_id, sse_stream *st,
                           const char *last_event_id)
{
    /* A new GET replaces the session's stream rather than being refused: a client whose
       stream broke reconnects at once, and a suspended stream notices a vanished peer only at
       its next write, which may be a keep-alive 15 s away. The old stream is ended. With
       Last-Event-ID, the messages after that id that are still kept are sent again first. */
    sse_stream *old = NULL;
    long after = -1;
    if (last_event_id) {
        char *end;
        long v = strtol(last_event_id, &end, 10);
        after = *end || v < 0 ? -1 : v;
    }
    char *replay[REPLAY];
    long replay_seq[REPLAY];
    int nreplay = 0;
    pthread_mutex_lock(&lock);
    session *s = find(id, token_id);
    if (s) {
        old = s->stream;
        s->stream = sse_ref(st);
        s->last_ms = clock_mono_ms();
        for (long q = after + 1; after >= 0 && q <= s->seq; q++) {
            int k = (int)(q % REPLAY);
            if (s->ring[k].msg && s->ring[k].seq == q) {
                replay_seq[nreplay] = q;
                replay[nreplay++] = xstrdup(s->ring[k].msg);
            }
        }
    }
    pthread_mutex_unlock(&lock);
    if (old) {
        sse_close(old);
        sse_unref(old);
    }
    for (int i = 0; i < nreplay; i++) {
        char eid[32];
        snprintf(eid, sizeof eid, "%ld", replay_seq[i]);
        if (replay[i]) {
            sse_event(st, eid, "message", replay[i], strlen(replay[i]));
        }
        xfree(replay[i]);
    }
    return s != NULL;
}

void session_broadcast(const char *msg)
{
    /* kept in every session (a client between two GETs resumes with Last-Event-ID), sent to
       the live streams after the lock is released: a write may wake a connection */
    sse_stream *live[256];
    long live_seq[256];
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; table && i < MAX_SESSIONS; i++) {
        session *s = &table[i];
        if (!s->used) {
            continue;
        }
        long q = ++s->seq;
        int k = (int)(q % REPLAY);
        xfree(s->ring[k].msg);
        s->ring[k].msg = xstrdup(msg);
        s->ring[k].seq = q;
        if (s->stream && !sse_gone(s->stream) && n < 256) {
            live_seq[n] = q;
            live[n++] = sse_ref(s->stream);
        }
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) {
        char eid[32];
        snprintf(eid, sizeof eid, "%ld", live_seq[i]);
        sse_event(live[i], eid, "message", msg, strlen(msg));
        sse_unref(live[i]);
    }
}

/* in-flight requests: a short list (bounded by concurrent calls) scanned under its own lock */
typedef struct inflight {
    struct inflight *next;
    char sid[SESSION_ID_LEN + 1];
    char key[128];
    atomic_bool *cancel;
} inflight;

static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static inflight *inflights;

void session_inflight_add(const char *id, const char *request_key, atomic_bool *cancel)
{
    inflight *f = xcalloc(1, sizeof *f);
    if (!f) {
        return;
    }
    snprintf(f->sid, sizeof f->sid, "%s", id);
    snprintf(f->key, sizeof f->key, "%s", request_key);
    f->cancel = cancel;
    pthread_mutex_lock(&inflight_lock);
    f->next = inflights;
    inflights = f;
    pthread_mutex_unlock(&inflight_lock);
}

void session_inflight_remove(const char *id, const char *request_key)
{
    pthread_mutex_lock(&inflight_lock);
    for (inflight **pp = &inflights; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->sid, id) == 0 && strcmp((*pp)->key, request_key) == 0) {
            inflight *f = *pp;
            *pp = f->next;
            xfree(f);
            break;
        }
    }
    pthread_mutex_unlock(&inflight_lock);
}

bool session_cancel(const char *id, const char *request_key)
{
    bool hit = false;
    pthread_mutex_lock(&inflight_lock);
    for (inflight *f = inflights; f; f = f->next) {
        if (strcmp(f->sid, id) == 0 && strcmp(f->key, request_key) == 0) {
            atomic_store(f->cancel, true);
            hit = true;
        }
    }
    pthread_mutex_unlock(&inflight_lock);
    return hit;
}

size_t session_count(void)
{
    int64_t now = clock_mono_ms();
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; table && i < MAX_SESSIONS; i++) {
        n += table[i].used && now - table[i].last_ms <= IDLE_MS;
    }
    pthread_mutex_unlock(&lock);
    return n;
}

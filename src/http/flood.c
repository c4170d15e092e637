/* flood.c - per-address refusal summaries (see flood.h): a small table under one mutex; lines
 * are written after it is released. */
#include "http/flood.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"

static int64_t window_ms = 60000;

void flood_set_window_ms(int64_t ms)
{
    window_ms = ms;
}

typedef struct flood {
    char ip[64];
    char method[64];
    long count;        /* refusals not yet written */
    int64_t first_ms;  /* wall time of the first of them */
    int64_t last_ms;   /* wall time of the last */
    int64_t line_mono; /* when this address last got a line */
    int64_t used_mono;
    bool used;
} flood;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static flood table[FLOOD_ADDRESSES];

static void write_summary(const flood *f)
{
    char rid[33];
    crypto_random_hex(16, rid);
    audit_record a = {
        .ts_ms = f->last_ms,
        .request_id = rid,
        .method = f->method,
        .allowed = false,
        .denied_reason = "rate_limited",
        .status = 429,
        .source_ip = f->ip,
        .flood_count = f->count,
        .flood_first_ms = f->first_ms,
        .flood_last_ms = f->last_ms,
    };
    audit_write(&a);
}

bool flood_refusal(const char *ip, const char *method)
{
    int64_t now = clock_mono_ms(), wall = clock_wall_ms();
    flood due = {0};
    bool write_due = false, write_own = false;
    pthread_mutex_lock(&lock);
    flood *f = NULL, *oldest = &table[0];
    for (int i = 0; i < FLOOD_ADDRESSES; i++) {
        if (table[i].used && strcmp(table[i].ip, ip) == 0) {
            f = &table[i];
            break;
        }
        if (!table[i].used || (oldest->used && table[i].used_mono < oldest->used_mono)) {
            oldest = &table[i];
        }
    }
    if (!f) {
        f = oldest;
        if (f->used && f->count > 0) {
            due = *f; /* evicted with refusals still to tell */
            write_due = true;
        }
        memset(f, 0, sizeof *f);
        f->used = true;
        snprintf(f->ip, sizeof f->ip, "%s", ip);
        f->line_mono = now - window_ms; /* a new address gets its first line at once */
    }
    snprintf(f->method, sizeof f->method, "%s", method ? method : "");
    f->used_mono = now;
    if (now - f->line_mono >= window_ms) {
        if (f->count > 0) {
            due = *f;
            write_due = true;
        }
        f->count = 0;
        f->line_mono = now;
        write_own = true;
    } else {
        if (f->count == 0) {
            f->first_ms = wall;
        }
        f->count++;
        f->last_ms = wall;
    }
    pthread_mutex_unlock(&lock);
    if (write_due) {
        write_summary(&due);
    }
    return write_own;
}

void flood_flush(void)
{
    int64_t now = clock_mono_ms();
    flood due[64];
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FLOOD_ADDRESSES && n < 64; i++) {
        flood *f = &table[i];
        if (f->used && f->count > 0 && now - f->line_mono >= window_ms) {
            due[n++] = *f;
            f->count = 0;
            f->line_mono = now;
        }
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) {
        write_summary(&due[i]);
    }
}

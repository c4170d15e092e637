/* arena.c - chunked bump allocator (see arena.h). Chunks double up to 1 MiB; a large request
 * gets a chunk of its own so small allocations keep filling the current chunk. */
#include "core/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

struct arena_chunk {
    arena_chunk *next;
    size_t cap;
    size_t used;
    _Alignas(16) unsigned char data[];
};

#define ARENA_DEFAULT_MAX ((size_t)256 << 20)

void arena_init(arena *a, size_t max_total)
{
    a->head = NULL;
    a->used_total = 0;
    a->max_total = max_total ? max_total : ARENA_DEFAULT_MAX;
}

static arena_chunk *new_chunk(arena *a, size_t need)
{
    size_t cap = a->head ? a->head->cap * 2 : 4096;
    if (cap > (1u << 20)) {
        cap = 1u << 20;
    }
    if (cap < need) {
        cap = need;
    }
    if (a->used_total + cap > a->max_total) {
        cap = need; /* near the cap, a chunk of just what was asked still fits */
    }
    size_t total;
    if (!size_add(cap, sizeof(arena_chunk), &total) || cap > a->max_total - a->used_total) {
        return NULL;
    }
    arena_chunk *c = xmalloc(total);
    if (!c) {
        return NULL;
    }
    c->cap = cap;
    c->used = 0;
    a->used_total += cap;
    return c;
}

void *arena_alloc(arena *a, size_t n)
{
    size_t need;
    if (!size_add(n, 15, &need)) {
        return NULL;
    }
    need &= ~(size_t)15;
    if (need == 0) {
        need = 16;
    }
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        arena_chunk *fresh = new_chunk(a, need);
        if (!fresh) {
            return NULL;
        }
        if (c && need > c->cap / 2) {
            /* big one-off: keep the current chunk on top for the small ones */
            fresh->next = c->next;
            c->next = fresh;
        } else {
            fresh->next = c;
            a->head = fresh;
        }
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *d = arena_alloc(a, (size_t)n + 1);
    if (!d) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

void arena_release(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        xfree(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

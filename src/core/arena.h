/* arena.h - a bump allocator owned by one request.
 *
 * Everything a request produces (parsed paths, output text, scratch) lives in its arena and is
 * released at once by arena_release(). An arena has a hard maximum (bytes across all chunks);
 * past it allocations return NULL, so a runaway tool cannot take the process' memory. */
#ifndef CTXD_CORE_ARENA_H
#define CTXD_CORE_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;
typedef struct arena {
    arena_chunk *head;
    size_t used_total; /* bytes handed to chunks so far */
    size_t max_total;  /* hard cap; 0 = default (256 MiB) */
} arena;

void arena_init(arena *a, size_t max_total);
void *arena_alloc(arena *a, size_t n); /* 16-byte aligned, NULL past the cap */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_release(arena *a);

#endif

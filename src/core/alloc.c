/* alloc.c - heap funnel with optional failure injection (see alloc.h). */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown = -1;

void alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n);
}

static bool should_fail(void)
{
    long v = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (v < 0) {
        return false;
    }
    if (v == 0) {
        return true;
    }
    atomic_fetch_sub(&fail_countdown, 1);
    return false;
}

void *xmalloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *xcalloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(count ? count : 1, size ? size : 1);
}

void *xrealloc(void *p, size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

void xfree(void *p)
{
    free(p);
}

/* alloc.h - the one funnel every heap allocation goes through.
 *
 * xmalloc/xcalloc/xrealloc return NULL on failure (they never abort): callers handle it like any
 * other error. Tests can make the Nth allocation fail (alloc_fail_after) to exercise those paths.
 * Size arithmetic helpers detect overflow instead of wrapping. */
#ifndef CTXD_CORE_ALLOC_H
#define CTXD_CORE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void xfree(void *p);

/* make allocation number n (counting from now, 0-based) and every later one fail; -1 disables */
void alloc_fail_after(long n);

/* overflow-checked size arithmetic: return false on overflow */
static inline bool size_add(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

#endif

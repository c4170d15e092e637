/* buf.c - bounded growable buffer (see buf.h). */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "core/alloc.h"

void buf_init(buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : BUF_DEFAULT_MAX;
    b->failed = false;
}

bool buf_reserve(buf *b, size_t extra)
{
    if (b->failed) {
        return false;
    }
    size_t need;
    if (!size_add(b->len, extra, &need) || !size_add(need, 1, &need) || need - 1 > b->max) {
        b->failed = true;
        return false;
    }
    if (need <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (!size_mul(cap, 2, &cap)) {
            cap = need;
            break;
        }
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    char *p = xrealloc(b->ptr, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->ptr = p;
    b->cap = cap;
    p[b->len] = '\0'; /* the invariant holds from the first allocation on, even while empty */
    return true;
}

void buf_append(buf *b, const void *data, size_t n)
{
    if (!buf_reserve(b, n)) {
        return;
    }
    if (n) {
        memcpy(b->ptr + b->len, data, n);
    }
    b->len += n;
    b->ptr[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_printf(buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_truncate(buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->ptr[len] = '\0';
    }
}

char *buf_detach(buf *b, size_t *len)
{
    if (!b->ptr) {
        buf_reserve(b, 0);
    }
    char *p = b->ptr;
    if (len) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_release(buf *b)
{
    xfree(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

size_t read_full(int fd, void *dst, size_t n)
{
    size_t o = 0;
    while (o < n) {
        ssize_t r = read(fd, (char *)dst + o, n - o);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        o += (size_t)r;
    }
    return o;
}

bool buf_read_fd(buf *b, int fd)
{
    for (;;) {
        if (!buf_reserve(b, 8192)) {
            return true; /* over the maximum: b->failed tells */
        }
        ssize_t r = read(fd, b->ptr + b->len, b->cap - 1 - b->len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return false;
        }
        if (r == 0) {
            return true;
        }
        b->len += (size_t)r;
        b->ptr[b->len] = '\0';
    }
}

/* buf.h - a growable byte buffer with a hard maximum and a sticky error.
 *
 * Appends past `max` (or a failed allocation) set `failed` and are ignored from then on, so a
 * builder can append freely and check once at the end. The content is always NUL-terminated
 * (the terminator is not counted in len). */
#ifndef CTXD_CORE_BUF_H
#define CTXD_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
    bool failed;
} buf;

#define BUF_DEFAULT_MAX ((size_t)64 << 20)

void buf_init(buf *b, size_t max);
bool buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_truncate(buf *b, size_t len);
/* read fd to its end into b; a file larger than b's maximum leaves b failed. false on a read
 * error (errno set) */
bool buf_read_fd(buf *b, int fd);
/* read up to n bytes from fd, retrying after short reads and EINTR; the count read (less than
 * n at end of file or on an error) */
size_t read_full(int fd, void *dst, size_t n);
/* hand the content to the caller (to xfree); the buffer is reset */
char *buf_detach(buf *b, size_t *len);
void buf_release(buf *b);

#endif

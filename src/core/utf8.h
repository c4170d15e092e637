/* utf8.h - UTF-8 validation and repair.
 *
 * Everything ctxd emits as JSON must be valid UTF-8 (DESIGN §4): file content with invalid
 * sequences is repaired by replacing each maximal invalid subpart with U+FFFD. */
#ifndef CTXD_CORE_UTF8_H
#define CTXD_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* the number of leading bytes of p below 0x80 (SSE2, 16 at a time) */
size_t utf8_ascii_run(const unsigned char *p, size_t n);
/* length of the valid sequence at s (1..4), or 0 if invalid */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* where no valid sequence starts at s: the length of its maximal invalid subpart (>= 1) */
size_t utf8_invalid_len(const unsigned char *s, size_t n);
bool utf8_valid(const char *s, size_t n);
/* append s to out with each maximal invalid subpart (Unicode §3.9, U+FFFD substitution of
 * maximal subparts: what WHATWG and Rust's from_utf8_lossy do) replaced by one U+FFFD */
void utf8_append_repaired(buf *out, const char *s, size_t n);
/* append UTF-16 code units (after any byte-order mark; le: little-endian) as UTF-8; an unpaired
 * surrogate or a final odd byte becomes U+FFFD */
void utf8_append_utf16(buf *out, const unsigned char *s, size_t n, bool le);

#endif

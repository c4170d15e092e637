/* utf8.h - UTF-8 validation and repair.
 *
 * Everything ctxd emits as JSON must be valid UTF-8 (DESIGN §4): file content with invalid
 * sequences is repaired by replacing each maximal invalid subpart with U+FFFD. */
#ifndef CTXD_CORE_UTF8_H
#define CTXD_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* length of the valid sequence at s (1..4), or 0 if invalid */
size_t utf8_seq_len(const unsigned char *s, size_t n);
bool utf8_valid(const char *s, size_t n);
/* append s to out with invalid sequences replaced by U+FFFD */
void utf8_append_repaired(buf *out, const char *s, size_t n);

#endif

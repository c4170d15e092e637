/* linediff.h - a line diff (Myers, linear space) and its unified rendering.
 *
 * Used by ctx_read mode=diff and ctx_delta (tools.md §2.1, §2.10). Lines follow ctx_read's rule:
 * split on '\n', a final newline does not make an extra empty line, a '\r' stays in the line.
 *
 * Bounded: memory is O(N + M) in the caller's arena; time is O((N + M) * D) with D capped by
 * `max_cost` per sub-problem and a total work budget. When a cap is reached the remaining
 * region is reported as replaced (deleted and inserted whole): the diff stays correct (applying
 * it yields the new text), only no longer minimal. */
#ifndef CTXD_TOOLS_LINEDIFF_H
#define CTXD_TOOLS_LINEDIFF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"

typedef struct ld_line {
    const char *p;
    size_t n; /* without the '\n' */
} ld_line;

typedef struct ld_stats {
    size_t added, deleted; /* lines */
    size_t hunks;
    bool minimal; /* false when a cap made part of the diff a whole replacement */
} ld_stats;

/* split text into lines (in a); the count, or (size_t)-1 when the arena is exhausted */
size_t ld_split(arena *a, const char *s, size_t n, ld_line **out);

/* Append the hunks of a unified diff of old -> new with ctx context lines to out:
 * `@@ -a,b +c,d @@` then ` ctx`, `-old`, `+new` lines (text repaired to valid UTF-8). Nothing
 * is appended when the line sequences are equal. work_budget bounds the total number of snake
 * steps (0: a default proportional to the input). false when the arena is exhausted or cancel
 * became true. */
bool ld_unified(arena *a, const ld_line *old, size_t nold, const ld_line *new_, size_t nnew,
                int ctx, size_t work_budget, const atomic_bool *cancel, buf *out, ld_stats *st);

#endif

/* readmodes.h - ctx_read's structural and lossy renderings (tools.md §2.1): signatures, map,
 * aggressive, entropy, and auto's choice among the modes.
 *
 * Each renderer appends one complete rendering (its header line included) of a whole file that
 * read.c has loaded (UTF-8, transcoded from UTF-16 when it had a byte-order mark) to out. They
 * never fail on content: a file they cannot make sense of still gets a rendering that says so.
 * false only when memory ran out or the call was cancelled. Anti-inflation (a lossy rendering
 * larger than `full` is replaced by `full`) is read.c's job, since only it knows full's size. */
#ifndef CTXD_TOOLS_READMODES_H
#define CTXD_TOOLS_READMODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "tools/read.h"
#include "tools/tool.h"

typedef struct rm_src {
    const char *rel; /* workspace-relative path */
    const char *data;
    size_t len;
    int64_t nlines;
    double aggressiveness;      /* 0..1 (entropy, aggressive) */
    const char *const *protect; /* identifiers whose lines are always kept */
    size_t nprotect;
} rm_src;

bool rm_signatures(tool_call *call, const rm_src *f, buf *out);
bool rm_map(tool_call *call, const rm_src *f, buf *out);
/* *use_full set when the result would be under 5% of a file under 2000 tokens (§2.1) */
bool rm_aggressive(tool_call *call, const rm_src *f, buf *out, bool *use_full);
bool rm_entropy(tool_call *call, const rm_src *f, buf *out);

/* auto's deterministic choice (READ_FULL, READ_MAP, READ_SIGNATURES or READ_AGGRESSIVE) */
read_kind rm_auto_choice(const rm_src *f);

/* the Shannon entropy in bits of one line's token distribution (identifiers, numbers,
 * strings, operator runs), exposed for tests */
double rm_line_entropy(const char *p, size_t n);

#endif

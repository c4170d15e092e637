/* extract_text.h - the text helpers of extract.c that cpp_fast.c shares, so that both paths
 * produce byte-identical names, signatures and import sources (internal to src/lang/). */
#ifndef CTXD_LANG_EXTRACT_TEXT_H
#define CTXD_LANG_EXTRACT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* src[b..e) with whitespace runs collapsed to one space and trimmed, capped at `max` bytes
 * (then cut at a UTF-8 boundary and ended with "…"); NULL only when the arena is full */
char *x_collapse(arena *a, const char *src, uint32_t b, uint32_t e, size_t max);
/* the signature of a definition without a body at src[b..e): its text up to a `{` that ends a
 * line, without trailing `;` and blanks, collapsed and capped at X_SIG_MAX */
char *x_sig_text(arena *a, const char *src, uint32_t b, uint32_t e);
/* an import source: src[b..e) without its quotes or angle brackets */
const char *x_source_text(arena *a, const char *src, uint32_t b, uint32_t e);

#endif

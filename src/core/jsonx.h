/* jsonx.h - JSON helpers over jansson.
 *
 * jsonx_parse is the only way outside input becomes a json_t: it rejects duplicate keys and
 * nesting deeper than JSONX_MAX_DEPTH (tools.md §1.1), allows \u0000 inside strings (so that a
 * path holding NUL reaches the path check and is refused with a reason, not a parse error).
 * jsonx_canonical writes RFC 8785 canonical JSON, the input of the audit hashes. */
#ifndef CTXD_CORE_JSONX_H
#define CTXD_CORE_JSONX_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

#define JSONX_MAX_DEPTH 64

/* NULL on failure with a sentence in why (lower case, no period) */
json_t *jsonx_parse(const char *data, size_t len, char *why, size_t why_len);
int jsonx_depth(const json_t *v);
void jsonx_canonical(buf *out, const json_t *v);
/* compact dump into out (UTF-8, no ASCII escaping, insertion order) */
void jsonx_dump(buf *out, const json_t *v);
/* append s as a quoted JSON string: `"`, `\` and controls escaped, invalid UTF-8 replaced by
 * U+FFFD, everything else raw. One pass with a fast path for runs of plain ASCII: this is
 * the hot path of every tool result (a file's text). */
void jsonx_put_string(buf *out, const char *s, size_t n);
/* the string value of key if it is a string (NUL-free), else NULL */
const char *jsonx_str(const json_t *obj, const char *key);
/* "an object", "an array", "a string", "an integer", "a number", "a boolean" or "null": for
   messages such as `field: must be a string, not an integer` */
const char *jsonx_type_name(const json_t *v);

#endif

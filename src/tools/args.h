/* args.h - validation of tool arguments against the tool's JSON Schema.
 *
 * The subset of JSON Schema the tool table uses: `type` (a name or a list of names), `enum`,
 * `minimum`/`maximum`, `maxLength`, `maxItems`, `items` (recursively), `required`,
 * `additionalProperties: false`. Unknown argument names are not errors (tools.md §1.1): they
 * are collected so the result can say `note: ignored unknown argument(s): a, b`. */
#ifndef CTXD_TOOLS_ARGS_H
#define CTXD_TOOLS_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* false with a sentence naming the argument in why; unknown names appended to unknown
 * (comma-separated) */
bool args_validate(const json_t *schema, const json_t *args, buf *unknown, char *why,
                   size_t why_len);

#endif

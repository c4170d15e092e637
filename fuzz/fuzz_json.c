/* fuzz_json.c - request bodies: jsonx_parse (limits, duplicate keys) and the canonical form
 * the audit hashes are computed over, and the one-pass string escaper of every response.
 *
 * Invariants: canonical output parses back to an equal value, and canonicalizing that gives
 * the same bytes (a fixed point); jsonx_put_string always yields one valid JSON string. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf esc;
    buf_init(&esc, 0);
    jsonx_put_string(&esc, (const char *)data, size);
    json_error_t e;
    json_t *s = json_loadb(esc.ptr, esc.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!json_is_string(s)) {
        abort();
    }
    json_decref(s);
    buf_release(&esc);

    char why[256];
    json_t *v = jsonx_parse((const char *)data, size, why, sizeof why);
    if (!v) {
        return 0;
    }
    buf c1, c2;
    buf_init(&c1, 0);
    buf_init(&c2, 0);
    jsonx_canonical(&c1, v);
    json_t *back = jsonx_parse(c1.ptr, c1.len, why, sizeof why);
    if (!back) {
        /* jansson cannot read integers beyond 2^63 back, and RFC 8785 writes a large real
           such as 1.0000732e20 as such an integer: only that may fail to round-trip */
        if (!strstr(why, "too big")) {
            abort();
        }
        json_decref(v);
        buf_release(&c1);
        buf_release(&c2);
        return 0;
    }
    jsonx_canonical(&c2, back);
    if (c1.len != c2.len || memcmp(c1.ptr, c2.ptr, c1.len) != 0) {
        abort();
    }
    json_decref(back);
    json_decref(v);
    buf_release(&c1);
    buf_release(&c2);
    return 0;
}

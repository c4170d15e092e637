/* jsonx.c - parse limits and canonical serialization (see jsonx.h). */
#include "core/jsonx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

int jsonx_depth(const json_t *v)
{
    int best = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            int d = jsonx_depth(child);
            if (d > best) {
                best = d;
            }
        }
        return best + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            int d = jsonx_depth(child);
            if (d > best) {
                best = d;
            }
        }
        return best + 1;
    }
    return 0;
}

json_t *jsonx_parse(const char *data, size_t len, char *why, size_t why_len)
{
    json_error_t e;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
    if (!v) {
        if (why) {
            snprintf(why, why_len, "malformed JSON at line %d column %d: %s", e.line, e.column,
                     e.text);
        }
        return NULL;
    }
    if (jsonx_depth(v) > JSONX_MAX_DEPTH) {
        json_decref(v);
        if (why) {
            snprintf(why, why_len, "JSON nested deeper than %d levels", JSONX_MAX_DEPTH);
        }
        return NULL;
    }
    return v;
}

static void canon_string(buf *out, const char *s, size_t n)
{
    buf_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char tmp[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                esc = tmp;
            }
        }
        if (esc) {
            buf_append(out, s + run, i - run);
            buf_puts(out, esc);
            run = i + 1;
        }
    }
    buf_append(out, s + run, n - run);
    buf_putc(out, '"');
}

/* shortest representation that reads back to the same double (ECMAScript-like) */
static void canon_real(buf *out, double d)
{
    if (!isfinite(d)) {
        buf_puts(out, "null");
        return;
    }
    if (d == 0) {
        buf_putc(out, '0');
        return;
    }
    if (d == floor(d) && fabs(d) < 1e21) {
        buf_printf(out, "%.0f", d);
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    buf_puts(out, tmp);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void jsonx_canonical(buf *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        const char **keys = xcalloc(n ? n : 1, sizeof *keys);
        if (!keys) {
            out->failed = true;
            return;
        }
        size_t i = 0;
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            keys[i++] = k;
        }
        qsort(keys, n, sizeof *keys, key_cmp);
        buf_putc(out, '{');
        for (i = 0; i < n; i++) {
            if (i) {
                buf_putc(out, ',');
            }
            canon_string(out, keys[i], strlen(keys[i]));
            buf_putc(out, ':');
            jsonx_canonical(out, json_object_get(v, keys[i]));
        }
        buf_putc(out, '}');
        xfree(keys);
        break;
    }
    case JSON_ARRAY: {
        buf_putc(out, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) {
                buf_putc(out, ',');
            }
            jsonx_canonical(out, json_array_get(v, i));
        }
        buf_putc(out, ']');
        break;
    }
    case JSON_STRING:
        canon_string(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_printf(out, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        canon_real(out, json_real_value(v));
        break;
    case JSON_TRUE:
        buf_puts(out, "true");
        break;
    case JSON_FALSE:
        buf_puts(out, "false");
        break;
    case JSON_NULL:
        buf_puts(out, "null");
        break;
    }
}

static int dump_cb(const char *chunk, size_t size, void *data)
{
    buf_append(data, chunk, size);
    return ((buf *)data)->failed ? -1 : 0;
}

void jsonx_dump(buf *out, const json_t *v)
{
    if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) != 0) {
        out->failed = true;
    }
}

const char *jsonx_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        return NULL;
    }
    return json_string_value(v);
}

/* jsonx.c - parse limits and canonical serialization (see jsonx.h). */
#include "core/jsonx.h"

#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/utf8.h"

int jsonx_depth(const json_t *v)
{
    int best = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach ((json_t *)v, k, child) {
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
        json_array_foreach (v, i, child) {
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
    json_t *v =
        json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
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

/* RFC 8785 §3.2.2.3: ECMAScript's Number.prototype.toString. The shortest digit string that
 * reads back to the same double (d1..dk, value = 0.d1..dk x 10^n), then: integers up to 21
 * digits written out with zeros, fractions down to 1e-6 as 0.000ddd, the rest as d.ddde±x. */
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
    if (d < 0) {
        buf_putc(out, '-');
        d = -d;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    /* tmp is `D[.DDD]e±XX`: collect the digits, drop trailing zeros */
    char digits[24];
    int k = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9' && k < (int)sizeof digits - 1) {
            digits[k++] = *p;
        }
    }
    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }
    digits[k] = '\0';
    int n = (int)strtol(p + 1, NULL, 10) + 1; /* printf wrote it: within ±324 */
    if (k <= n && n <= 21) {
        buf_append(out, digits, (size_t)k);
        for (int i = k; i < n; i++) {
            buf_putc(out, '0');
        }
    } else if (0 < n && n <= 21) {
        buf_append(out, digits, (size_t)n);
        buf_putc(out, '.');
        buf_append(out, digits + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        buf_puts(out, "0.");
        for (int i = n; i < 0; i++) {
            buf_putc(out, '0');
        }
        buf_append(out, digits, (size_t)k);
    } else {
        buf_putc(out, digits[0]);
        if (k > 1) {
            buf_putc(out, '.');
            buf_append(out, digits + 1, (size_t)(k - 1));
        }
        buf_printf(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
}

/* RFC 8785 §3.2.3: keys sort by UTF-16 code units. That is UTF-8 byte order except where one
 * key has a character of U+E000..U+FFFF (lead byte 0xEE/0xEF) and the other one above U+FFFF
 * (lead byte 0xF0..0xF4, a surrogate pair 0xD800.. in UTF-16) at the first difference. */
static int key_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;
    size_t i = 0;
    while (x[i] && x[i] == y[i]) {
        i++;
    }
    if (x[i] == y[i]) {
        return 0;
    }
    /* the character that differs starts at the same offset in both */
    size_t s = i;
    while (s > 0 && (x[s] & 0xC0) == 0x80) {
        s--;
    }
    unsigned char lx = x[s], ly = y[s];
    bool bmp_high_x = lx == 0xEE || lx == 0xEF, bmp_high_y = ly == 0xEE || ly == 0xEF;
    if (bmp_high_x && ly >= 0xF0) {
        return 1;
    }
    if (bmp_high_y && lx >= 0xF0) {
        return -1;
    }
    return x[i] < y[i] ? -1 : 1;
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
        json_object_foreach ((json_t *)v, k, child) {
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
    case JSON_STRING: canon_string(out, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: {
        /* RFC 8785 numbers are doubles: past 2^53 an integer is written as its double is */
        long long i = (long long)json_integer_value(v);
        if (i > (1LL << 53) || i < -(1LL << 53)) {
            canon_real(out, (double)i);
        } else {
            buf_printf(out, "%lld", i);
        }
        break;
    }
    case JSON_REAL: canon_real(out, json_real_value(v)); break;
    case JSON_TRUE: buf_puts(out, "true"); break;
    case JSON_FALSE: buf_puts(out, "false"); break;
    case JSON_NULL: buf_puts(out, "null"); break;
    }
}

static int dump_cb(const char *chunk, size_t size, void *data)
{
    buf_append(data, chunk, size);
    return ((buf *)data)->failed ? -1 : 0;
}

void jsonx_dump(buf *out, const json_t *v)
{
    if (json_dump_callback(v, dump_cb, out,
                           JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) != 0) {
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

/* the number of leading bytes that go into a JSON string as they are: 0x20..0x7f but `"` and
 * `\\` (SSE2: bytes >= 0x80 are negative as signed, so one compare catches them with the
 * controls) */
static size_t plain_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                  bslash = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i bad =
            _mm_or_si128(_mm_cmplt_epi8(v, space),
                         _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        unsigned mask = (unsigned)_mm_movemask_epi8(bad);
        if (mask) {
            return i + (unsigned)__builtin_ctz(mask);
        }
    }
#endif
    while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\') {
        i++;
    }
    return i;
}

void jsonx_put_string(buf *out, const char *s, size_t n)
{
    if (!buf_reserve(out, n + n / 8 + 2)) {
        return;
    }
    buf_putc(out, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < n) {
        i += plain_run(p + i, n - i);
        if (i >= n) {
            break;
        }
        if (p[i] >= 0x80) {
            size_t l = utf8_seq_len(p + i, n - i);
            if (l) {
                i += l;
                continue;
            }
            buf_append(out, s + run, i - run);
            buf_append(out, "\xEF\xBF\xBD", 3);
            i += utf8_invalid_len(p + i, n - i);
            run = i;
            continue;
        }
        buf_append(out, s + run, i - run);
        char esc[8];
        const char *e = esc;
        switch (p[i]) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\t': e = "\\t"; break;
        case '\r': e = "\\r"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        default: snprintf(esc, sizeof esc, "\\u%04x", p[i]);
        }
        buf_puts(out, e);
        i++;
        run = i;
    }
    buf_append(out, s + run, n - run);
    buf_putc(out, '"');
}

const char *jsonx_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

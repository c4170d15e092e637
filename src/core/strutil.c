/* strutil.c - slices and checked integer parsing (see strutil.h). */
#include "core/strutil.h"

#include <ctype.h>

bool str_ieq(str a, str b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (tolower((unsigned char)a.ptr[i]) != tolower((unsigned char)b.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool str_has_prefix(str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

bool str_has_suffix(str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v)) {
            return false;
        }
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    bool neg = len > 0 && s[0] == '-';
    uint64_t mag;
    if (!parse_u64(s + neg, len - neg, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &mag)) {
        return false;
    }
    int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

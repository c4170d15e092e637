/* strutil.h - string slices and checked number parsing.
 *
 * `str` is a non-owning {ptr, len} slice passed by value; NUL termination only at library and
 * syscall edges. Number parsers refuse trailing garbage and out-of-range values (no atoi). */
#ifndef CTXD_CORE_STRUTIL_H
#define CTXD_CORE_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const char *ptr;
    size_t len;
} str;

static inline str str_c(const char *s)
{
    return (str){s, s ? strlen(s) : 0};
}
static inline bool str_eq(str a, str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static inline bool str_eq_c(str a, const char *b)
{
    return str_eq(a, str_c(b));
}
bool str_ieq(str a, str b);
bool str_has_prefix(str s, const char *prefix);
bool str_has_suffix(str s, const char *suffix);

bool parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);
bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif

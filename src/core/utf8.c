/* utf8.c - strict UTF-8 decoding per RFC 3629 (no overlongs, no surrogates, max U+10FFFF). */
#include "core/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t utf8_ascii_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        unsigned mask =
            (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
        if (mask) {
            return i + (unsigned)__builtin_ctz(mask);
        }
    }
#endif
    while (i < n && p[i] < 0x80) {
        i++;
    }
    return i;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) {
            return 0;
        }
        if (c == 0xE0 && s[1] < 0xA0) {
            return 0;
        }
        if (c == 0xED && s[1] >= 0xA0) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) {
            return 0;
        }
        if (c == 0xF0 && s[1] < 0x90) {
            return 0;
        }
        if (c == 0xF4 && s[1] >= 0x90) {
            return 0;
        }
        return 4;
    }
    return 0;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        i += utf8_ascii_run(p + i, n - i);
        if (i >= n) {
            break;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (!l) {
            return false;
        }
        i += l;
    }
    return true;
}

/* The length of the maximal subpart at s, where no valid sequence starts: the longest prefix
 * of a well-formed sequence (at least the first byte), which becomes one U+FFFD. */
size_t utf8_invalid_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 1; /* a continuation byte or a byte that never starts a sequence */
    }
    size_t i = 1;
    while (i <= need && i < n && s[i] >= lo && s[i] <= hi) {
        i++;
        lo = 0x80;
        hi = 0xBF;
    }
    return i;
}

void utf8_append_repaired(buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        i += utf8_ascii_run(p + i, n - i);
        if (i >= n) {
            break;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (l) {
            i += l;
            continue;
        }
        buf_append(out, s + run, i - run);
        buf_append(out, "\xEF\xBF\xBD", 3);
        i += utf8_invalid_len(p + i, n - i);
        run = i;
    }
    buf_append(out, s + run, n - run);
}

static void put_cp(buf *out, unsigned cp)
{
    char e[4];
    size_t k;
    if (cp < 0x80) {
        e[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        e[0] = (char)(0xC0 | cp >> 6);
        e[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        e[0] = (char)(0xE0 | cp >> 12);
        e[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        e[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        e[0] = (char)(0xF0 | cp >> 18);
        e[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        e[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        e[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    buf_append(out, e, k);
}

void utf8_append_utf16(buf *out, const unsigned char *s, size_t n, bool le)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        unsigned u = le ? (unsigned)(s[i] | s[i + 1] << 8) : (unsigned)(s[i] << 8 | s[i + 1]);
        unsigned cp = u;
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
            unsigned v =
                le ? (unsigned)(s[i + 2] | s[i + 3] << 8) : (unsigned)(s[i + 2] << 8 | s[i + 3]);
            if (v >= 0xDC00 && v <= 0xDFFF) {
                cp = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00);
                i += 2;
            } else {
                cp = 0xFFFD;
            }
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            cp = 0xFFFD;
        }
        put_cp(out, cp);
    }
    if (i < n) {
        put_cp(out, 0xFFFD);
    }
}

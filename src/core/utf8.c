/* utf8.c - strict UTF-8 decoding per RFC 3629 (no overlongs, no surrogates, max U+10FFFF). */
#include "core/utf8.h"

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
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (!l) {
            return false;
        }
        i += l;
    }
    return true;
}

void utf8_append_repaired(buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (l) {
            i += l;
            continue;
        }
        buf_append(out, s + run, i - run);
        buf_append(out, "\xEF\xBF\xBD", 3);
        i++;
        /* skip continuation bytes that belonged to the broken sequence */
        while (i < n && (p[i] & 0xC0) == 0x80) {
            i++;
        }
        run = i;
    }
    buf_append(out, s + run, n - run);
}

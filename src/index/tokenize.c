/* tokenize.c - the code-aware tokenizer of the text index (tools.md §2.2).
 *
 * A word is a maximal run of [A-Za-z0-9_]. Each word of at least 2 bytes is emitted lowercased;
 * when it has parts (snake_case pieces, camelCase humps: `parseHTTPRequest` -> parse, http,
 * request), the parts of at least 2 bytes follow it, so a query for `request` finds
 * `parseHTTPRequest`. Words longer than IX_TOKEN_MAX (hashes, base64, minified code) are
 * dropped: they would only bloat the index. Output is space-separated, fed to FTS5's
 * unicode61 tokenizer with `_` as a token character, so it splits exactly here. */
#include <stdbool.h>
#include <stddef.h>

#include "index/index.h"

#define IX_TOKEN_MAX 64

static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static void emit(buf *out, const char *s, size_t n)
{
    char low[IX_TOKEN_MAX];
    for (size_t i = 0; i < n; i++) {
        low[i] = is_upper(s[i]) ? (char)(s[i] - 'A' + 'a') : s[i];
    }
    if (out->len) {
        buf_putc(out, ' ');
    }
    buf_append(out, low, n);
}

/* the parts of one word: split at `_` and at camelCase boundaries */
static void emit_parts(buf *out, const char *w, size_t n)
{
    size_t starts[IX_TOKEN_MAX + 1], ends[IX_TOKEN_MAX + 1], np = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && w[i] == '_') {
            i++;
        }
        if (i >= n) {
            break;
        }
        size_t s = i;
        i++;
        while (i < n && w[i] != '_') {
            /* a boundary before an upper-case letter that follows a lower-case one or a digit
               (fooBar, v2Api), and before the last capital of a run followed by lower case
               (HTTPRequest -> HTTP Request) */
            if (is_upper(w[i]) && (!is_upper(w[i - 1]) || (i + 1 < n && is_lower(w[i + 1])))) {
                break;
            }
            i++;
        }
        starts[np] = s;
        ends[np] = i;
        np++;
    }
    if (np < 2) {
        return;
    }
    for (size_t k = 0; k < np; k++) {
        if (ends[k] - starts[k] >= 2) {
            emit(out, w + starts[k], ends[k] - starts[k]);
        }
    }
}

void index_tokenize(const char *s, size_t n, buf *out)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !word_char((unsigned char)s[i])) {
            i++;
        }
        size_t start = i;
        while (i < n && word_char((unsigned char)s[i])) {
            i++;
        }
        size_t len = i - start;
        if (len < 2 || len > IX_TOKEN_MAX) {
            continue;
        }
        emit(out, s + start, len);
        emit_parts(out, s + start, len);
    }
}

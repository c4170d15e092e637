/* fuzz_ref.c - git_validate_ref (src/index/git.c) on arbitrary bytes: a ref a caller sends
 * (`since`, `base`) before it is ever handed to git.
 *
 * Oracle: whatever is accepted can never be read by git as an option, a range, a reflog or
 * another-repository selector, nor escape an argument: it does not start with '-', holds no
 * "..", "@{", control character, space, ':', '\\', '?', '*' or '[', is at most GIT_REF_MAX
 * bytes, does not end with '/' '.' or ".lock", and a '~' or '^' is only ever followed by digits
 * and more such suffixes up to the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/git.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GIT_REF_MAX || s[0] == '-' || strstr(s, "..") || strstr(s, "@{")) {
        abort();
    }
    if (s[n - 1] == '/' || (n >= 5 && strcmp(s + n - 5, ".lock") == 0)) {
        abort();
    }
    const char *suffix = strpbrk(s, "~^");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == ' ' || c == ':' || c == '\\' || c == '?' || c == '*' ||
            c == '[') {
            abort();
        }
    }
    if (suffix) {
        if (suffix == s) {
            abort();
        }
        for (const char *p = suffix; *p; p++) {
            if (*p != '~' && *p != '^' && (*p < '0' || *p > '9')) {
                abort();
            }
        }
    } else if (s[n - 1] == '.') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    if (git_validate_ref(s)) {
        check(s);
    }
    free(s);
    return 0;
}

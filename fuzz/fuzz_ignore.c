/* fuzz_ignore.c - libFuzzer target for ignore rule files (src/ws/ignore.c).
 *
 * Input: the rule file's content, a NUL byte, then a relative path (a missing NUL means an empty
 * path). Parses, checks the rule cap, and matches the path as a file and as a directory; a
 * directory-only rule can only add matches, so a file verdict other than "none" must come from
 * a rule that also applies to the directory. Build: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t clen = nul ? (size_t)(nul - data) : size;
    const char *path = nul ? in + clen + 1 : in + size;
    size_t plen = nul ? size - clen - 1 : 0;

    ignore_rules *r = ignore_rules_parse(in, clen);
    if (!r) {
        abort(); /* only out of memory may fail */
    }
    if (ignore_rules_count(r) > IGNORE_MAX_RULES) {
        abort();
    }
    ignore_verdict as_file = ignore_rules_match(r, path, plen, false);
    ignore_verdict as_dir = ignore_rules_match(r, path, plen, true);
    if (as_file > IGNORE_INCLUDED || as_dir > IGNORE_INCLUDED) {
        abort();
    }
    if (as_file != IGNORE_NONE && as_dir == IGNORE_NONE) {
        abort();
    }
    ignore_rules_free(r);
    return 0;
}

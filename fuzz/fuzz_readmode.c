/* fuzz_readmode.c - ctx_read's mode grammar (`lines:a,b-c`, `anchored:N-M`, ...).
 *
 * Invariants: an accepted line spec has 1..READ_MAX_SEGS segments, sorted, disjoint and not
 * adjacent after merging, each with 1 <= start <= end; an accepted `density:` sets an
 * aggressiveness within [0, 1]; every accepted mode has a name and a NUL-terminated note. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char mode[2048];
    if (size >= sizeof mode) {
        size = sizeof mode - 1;
    }
    memcpy(mode, data, size);
    mode[size] = '\0';
    read_spec s;
    if (!read_parse_mode(mode, &s)) {
        return 0;
    }
    if (!read_kind_name(s.kind) || !memchr(s.note, '\0', sizeof s.note)) {
        abort();
    }
    if (s.has_aggressiveness && !(s.aggressiveness >= 0 && s.aggressiveness <= 1)) {
        abort();
    }
    if (!s.windowed) {
        return 0;
    }
    if (s.nsegs < 1 || s.nsegs > READ_MAX_SEGS) {
        abort();
    }
    for (int i = 0; i < s.nsegs; i++) {
        if (s.segs[i].start < 1 || s.segs[i].end < s.segs[i].start) {
            abort();
        }
        if (i && s.segs[i].start <= s.segs[i - 1].end + 1) {
            abort();
        }
    }
    return 0;
}

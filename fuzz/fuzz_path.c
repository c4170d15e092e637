/* fuzz_path.c - path_normalize and the deny-list on arbitrary caller paths.
 *
 * Invariants checked: a path that normalizes is relative, has no empty, `.` or `..` segment,
 * no NUL, and fits the limits; normalizing it again gives the same string (idempotence). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[PATH_MAX_LEN + 1], again[PATH_MAX_LEN + 1], why[512];
    path_status st = path_normalize((const char *)data, size, "/srv/root", "/srv/root", out,
                                    sizeof out, why, sizeof why);
    if (st != PATH_OK) {
        return 0;
    }
    size_t n = strlen(out);
    if (n && (out[0] == '/' || out[n - 1] == '/')) {
        abort();
    }
    for (const char *p = out; *p;) {
        const char *s = strchr(p, '/');
        size_t l = s ? (size_t)(s - p) : strlen(p);
        if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.')) {
            abort();
        }
        p += l + (s ? 1 : 0);
    }
    if (path_normalize(out, n, "/srv/root", "/srv/root", again, sizeof again, why, sizeof why) !=
            PATH_OK ||
        strcmp(out, again) != 0) {
        abort();
    }
    (void)path_denied_rel(out);
    return 0;
}

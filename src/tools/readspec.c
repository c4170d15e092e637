/* readspec.c - ctx_read's mode grammar and line anchors (tools.md §2.1; read.h).
 *
 * Pure functions over strings: no file access, no tool state, so the fuzz target
 * (fuzz/fuzz_readmode.c) links this file with core alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "tools/read.h"

/* ---- mode grammar ---- */

static bool parse_num(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    if (*s < '0' || *s > '9') {
        return false;
    }
    while (*s >= '0' && *s <= '9') {
        if (v > 100000000000LL) {
            return false;
        }
        v = v * 10 + (*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

static int seg_cmp(const void *a, const void *b)
{
    const read_seg *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* sort, merge overlapping and adjacent segments */
static void normalize_segs(read_spec *s)
{
    qsort(s->segs, (size_t)s->nsegs, sizeof s->segs[0], seg_cmp);
    int o = 0;
    for (int i = 0; i < s->nsegs; i++) {
        if (o && s->segs[i].start <= s->segs[o - 1].end + 1) {
            if (s->segs[i].end > s->segs[o - 1].end) {
                s->segs[o - 1].end = s->segs[i].end;
            }
        } else {
            s->segs[o++] = s->segs[i];
        }
    }
    s->nsegs = o;
}

bool read_parse_mode(const char *mode, read_spec *s)
{
    memset(s, 0, sizeof *s);
    if (strncmp(mode, "lines:", 6) == 0 || strncmp(mode, "anchored:", 9) == 0) {
        bool anchored = mode[0] == 'a';
        const char *p = mode + (anchored ? 9 : 6);
        s->kind = anchored ? READ_ANCHORED : READ_LINES;
        s->windowed = true;
        while (*p) {
            if (s->nsegs == READ_MAX_SEGS) {
                return false;
            }
            int64_t a, b;
            if (!parse_num(&p, &a) || a < 1) {
                return false;
            }
            b = a;
            bool open_end = false;
            if (*p == '-') {
                p++;
                if (!parse_num(&p, &b) || b < a) {
                    return false;
                }
            } else {
                open_end = true;
            }
            s->segs[s->nsegs].start = a;
            s->segs[s->nsegs].end = b;
            s->segs[s->nsegs].open_end = open_end;
            s->nsegs++;
            if (*p == ',') {
                p++;
                if (!*p) {
                    return false;
                }
            } else if (*p) {
                return false;
            }
        }
        if (s->nsegs == 0 || (anchored && s->nsegs != 1)) {
            return false;
        }
        /* a lone `lines:N` means N to the end; in a list, N is one line */
        if (s->nsegs == 1 && s->segs[0].open_end) {
            s->segs[0].end = INT64_MAX;
        }
        snprintf(s->spec, sizeof s->spec, "%s", mode + (anchored ? 9 : 6));
        normalize_segs(s);
        return true;
    }
    static const struct {
        const char *name;
        read_kind kind;
    } plain[] = {{"full", READ_FULL},
                 {"raw", READ_RAW},
                 {"reference", READ_REFERENCE},
                 {"anchored", READ_ANCHORED},
                 {"auto", READ_AUTO},
                 {"signatures", READ_SIGNATURES},
                 {"map", READ_MAP},
                 {"aggressive", READ_AGGRESSIVE},
                 {"entropy", READ_ENTROPY},
                 {"diff", READ_DIFF}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(mode, plain[i].name) == 0) {
            s->kind = plain[i].kind;
            return true;
        }
    }
    /* lean-ctx's spellings, served by the nearest mode ctxd offers (with a note) */
    static const struct {
        const char *name;
        read_kind kind;
        const char *as;
    } nearest[] = {{"full-compact", READ_AGGRESSIVE, "aggressive"},
                   {"cognitive", READ_MAP, "map"},
                   {"mdl", READ_MAP, "map"},
                   {"task", READ_ENTROPY, "entropy"}};
    for (size_t i = 0; i < sizeof nearest / sizeof nearest[0]; i++) {
        if (strcmp(mode, nearest[i].name) == 0) {
            s->kind = nearest[i].kind;
            snprintf(s->note, sizeof s->note, "[note: mode '%s' is not offered; served as '%s']",
                     mode, nearest[i].as);
            return true;
        }
    }
    if (strncmp(mode, "density:", 8) == 0) {
        /* density:0.NN keeps about that share: entropy with aggressiveness 1 - 0.NN */
        const char *p = mode + 8;
        char *end;
        if (!((p[0] >= '0' && p[0] <= '9') || p[0] == '.')) {
            return false;
        }
        double d = strtod(p, &end);
        if (*end || end - p > 12 || !(d >= 0 && d <= 1)) {
            return false;
        }
        s->kind = READ_ENTROPY;
        s->has_aggressiveness = true;
        s->aggressiveness = 1 - d;
        snprintf(s->note, sizeof s->note, "[note: mode '%s' is not offered; served as 'entropy']",
                 mode);
        return true;
    }
    if (strchr(mode, ':')) {
        return false; /* malformed lines:/anchored: spellings and other colon forms */
    }
    s->kind = READ_FULL;
    snprintf(s->note, sizeof s->note, "[WARNING: unknown mode '%.100s', falling back to full]",
             mode);
    return true;
}

/* ---- anchors ---- */

void read_anchor(const char *p, size_t n, char out[5])
{
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\v' ||
                     p[n - 1] == '\f')) {
        n--;
    }
    char hex[65];
    crypto_sha256_hex(p, n, hex);
    memcpy(out, hex, 4);
    out[4] = '\0';
}

static const char *const kind_names[] = {
    [READ_AUTO] = "auto",
    [READ_FULL] = "full",
    [READ_RAW] = "raw",
    [READ_REFERENCE] = "reference",
    [READ_LINES] = "lines",
    [READ_ANCHORED] = "anchored",
    [READ_SIGNATURES] = "signatures",
    [READ_MAP] = "map",
    [READ_AGGRESSIVE] = "aggressive",
    [READ_ENTROPY] = "entropy",
    [READ_DIFF] = "diff",
};

const char *read_kind_name(read_kind k)
{
    return (size_t)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "full";
}

bool read_kind_lossy(read_kind k)
{
    return k == READ_SIGNATURES || k == READ_MAP || k == READ_AGGRESSIVE || k == READ_ENTROPY;
}

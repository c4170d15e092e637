/* read.h - ctx_read's mode grammar (tools.md §2.1), exposed for tests and the fuzzer.
 *
 * read_parse_mode and read_anchor live in readspec.c, which depends on nothing but core, so the
 * fuzz target links them alone. */
#ifndef CTXD_TOOLS_READ_H
#define CTXD_TOOLS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define READ_MAX_SEGS 50

typedef enum {
    READ_AUTO,
    READ_FULL,
    READ_RAW,
    READ_REFERENCE,
    READ_LINES,
    READ_ANCHORED,
    READ_SIGNATURES,
    READ_MAP,
    READ_AGGRESSIVE,
    READ_ENTROPY,
    READ_DIFF
} read_kind;

typedef struct read_seg {
    int64_t start, end; /* 1-based, inclusive; end INT64_MAX = to the end */
    bool open_end;
} read_seg;

typedef struct read_spec {
    read_kind kind;
    bool windowed; /* lines:... or anchored:N-M */
    read_seg segs[READ_MAX_SEGS];
    int nsegs;
    char spec[1200]; /* the text after `lines:` as given */
    char note[200];  /* a first line to print (mode served as another) */
    char suffix[32]; /* header suffix such as ` mode:auto→full` */
    char known_hash[65];
    bool has_aggressiveness; /* density:0.NN set it (1 - 0.NN) */
    double aggressiveness;
} read_spec;

/* false for a malformed mode (invalid_arguments) */
bool read_parse_mode(const char *mode, read_spec *s);
/* the mode's name as structuredContent and suffixes print it ("signatures", "lines", ...) */
const char *read_kind_name(read_kind k);
/* lossy renderings, subject to anti-inflation */
bool read_kind_lossy(read_kind k);
/* the 4-hex anchor of a line (SHA-256 of the line without trailing whitespace) */
void read_anchor(const char *line, size_t n, char out[5]);

#endif

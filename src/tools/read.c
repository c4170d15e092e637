/* read.c - ctx_read: one file, or a batch, in the view that fits (tools.md §2.1).
 *
 * Files are read, never mmapped (a checkout truncating a mapped file would SIGBUS the server).
 * Whole-file views (full, raw, anchored) load files up to maxReadBytes; line windows and
 * `reference` stream the file in chunks, so no file is unreadable. Output is always valid UTF-8
 * (invalid sequences become U+FFFD); the sha is over the raw bytes. Modes that need the symbol
 * index (signatures, map, aggressive, entropy, diff) are not offered yet: they are served as
 * full with a first line that says so, never silently. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/utf8.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "tools/read.h"

const char ctx_read_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"file, relative to the "
    "workspace root\"},"
    "\"paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\",\"maxLength\":"
    "4096},\"description\":\"batch read\"},"
    "\"mode\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"auto, full, raw, "
    "reference, anchored, anchored:N-M, lines:N-M, lines:N, lines:a,b-c\"},"
    "\"raw\":{\"type\":\"boolean\"},"
    "\"start_line\":{\"type\":\"integer\",\"minimum\":1},"
    "\"offset\":{\"type\":\"integer\",\"minimum\":1},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1},"
    "\"known_hash\":{\"type\":\"string\",\"maxLength\":64},"
    "\"fresh\":{\"type\":\"boolean\"},"
    "\"aggressiveness\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
    "\"protect\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":4096}}}}";

#define CHUNK (256 * 1024)
#define BINARY_PROBE 8192

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
                 {"auto", READ_AUTO}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(mode, plain[i].name) == 0) {
            s->kind = plain[i].kind;
            return true;
        }
    }
    /* modes of the symbol index (issue: code intelligence) and lean-ctx's spellings */
    static const char *const later[] = {
        "signatures",   "map",       "aggressive", "entropy", "diff",
        "full-compact", "cognitive", "mdl",        "task",    NULL};
    for (int i = 0; later[i]; i++) {
        if (strcmp(mode, later[i]) == 0) {
            s->kind = READ_FULL;
            snprintf(s->note, sizeof s->note,
                     "[note: mode '%s' is not offered yet (it needs the symbol index); served as "
                     "'full']",
                     mode);
            return true;
        }
    }
    if (strncmp(mode, "density:", 8) == 0) {
        s->kind = READ_FULL;
        snprintf(s->note, sizeof s->note,
                 "[note: mode '%.40s' is not offered yet; served as 'full']", mode);
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

/* ---- file access ---- */

typedef struct file_view {
    const char *rel;
    int fd;
    size_t size;
    char *data; /* whole content when loaded (transcoded to UTF-8 if it had a UTF-16 BOM) */
    size_t len;
    bool loaded;
    bool binary;
    char sha12[13];
} file_view;

/* UTF-16 (with BOM) to UTF-8 */
static char *utf16_to_utf8(const unsigned char *s, size_t n, bool le, size_t *out_len)
{
    buf b;
    buf_init(&b, n * 2 + 16);
    utf8_append_utf16(&b, s + 2, n - 2, le);
    if (b.failed) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, out_len);
}

/* load the whole file (size <= max), hash it, detect binary, transcode UTF-16 */
static bool load_file(file_view *f, size_t max)
{
    if (f->size > max) {
        return false;
    }
    char *raw = xmalloc(f->size + 1);
    if (!raw) {
        return false;
    }
    size_t got;
    got = read_full(f->fd, raw, f->size);
    raw[got] = '\0';
    char hex[65];
    crypto_sha256_hex(raw, got, hex);
    memcpy(f->sha12, hex, 12);
    f->sha12[12] = '\0';
    const unsigned char *u = (const unsigned char *)raw;
    if (got >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        size_t ol;
        char *t = utf16_to_utf8(u, got, u[0] == 0xFF, &ol);
        xfree(raw);
        if (!t) {
            return false;
        }
        f->data = t;
        f->len = ol;
    } else if (got >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        memmove(raw, raw + 3, got - 3);
        f->data = raw;
        f->len = got - 3;
    } else {
        f->data = raw;
        f->len = got;
        f->binary = memchr(raw, '\0', got < BINARY_PROBE ? got : BINARY_PROBE) != NULL;
    }
    f->loaded = true;
    return true;
}

/* ---- line iteration over a loaded buffer or a streamed descriptor ---- */

typedef bool (*line_fn)(int64_t no, const char *p, size_t n, void *ctx);

/* calls fn for every line (without its '\n'); returns the line count, or -1 when cancelled */
static int64_t for_each_line(tool_call *call, file_view *f, line_fn fn, void *ctx)
{
    int64_t no = 0;
    if (f->loaded) {
        const char *p = f->data, *end = f->data + f->len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (fn && !fn(++no, p, n, ctx)) {
                fn = NULL; /* keep counting */
            } else if (!fn) {
                ++no;
            }
            p += n + 1;
            if ((no & 0xFFFF) == 0 && tool_expired(call)) {
                return -1;
            }
        }
        return no;
    }
    /* streamed: chunks, a carry buffer for a line that crosses a chunk boundary */
    char *chunk = xmalloc(CHUNK);
    buf carry;
    buf_init(&carry, (size_t)1 << 30);
    if (!chunk) {
        return -1;
    }
    if (lseek(f->fd, 0, SEEK_SET) < 0) {
        xfree(chunk);
        return -1;
    }
    for (;;) {
        ssize_t r = read(f->fd, chunk, CHUNK);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        const char *p = chunk, *end = chunk + r;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) {
                buf_append(&carry, p, (size_t)(end - p));
                break;
            }
            const char *lp = p;
            size_t ln = (size_t)(nl - p);
            if (carry.len) {
                buf_append(&carry, p, ln);
                lp = carry.ptr;
                ln = carry.len;
            }
            ++no;
            if (fn && !fn(no, lp, ln, ctx)) {
                fn = NULL;
            }
            buf_truncate(&carry, 0);
            p = nl + 1;
        }
        if (tool_expired(call)) {
            xfree(chunk);
            buf_release(&carry);
            return -1;
        }
    }
    if (carry.len) {
        ++no;
        if (fn) {
            fn(no, carry.ptr, carry.len, ctx);
        }
    }
    xfree(chunk);
    buf_release(&carry);
    return no;
}

/* ---- rendering ---- */

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

typedef struct window_ctx {
    const read_spec *spec;
    buf *out;
    int seg;          /* current segment */
    int64_t last_out; /* last line number written */
    int64_t shown;
    bool anchored;
    bool numbered;
} window_ctx;

static bool emit_window(int64_t no, const char *p, size_t n, void *vctx)
{
    window_ctx *w = vctx;
    while (w->seg < w->spec->nsegs && no > w->spec->segs[w->seg].end) {
        w->seg++;
    }
    if (w->seg >= w->spec->nsegs) {
        return false;
    }
    if (no < w->spec->segs[w->seg].start) {
        return true;
    }
    if (w->last_out && no != w->last_out + 1) {
        buf_puts(w->out, "  ...\n");
    }
    if (w->anchored) {
        char a[5];
        read_anchor(p, n, a);
        buf_printf(w->out, "%lld:%s|", (long long)no, a);
    } else if (w->numbered) {
        buf_printf(w->out, "%4lld| ", (long long)no);
    }
    utf8_append_repaired(w->out, p, n);
    buf_putc(w->out, '\n');
    w->last_out = no;
    w->shown++;
    return true;
}

static const char *ext_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

/* one file; appends to text. *failed is the error_code if the file failed (message already
 * appended as `ERROR: <rel>: ...` in batch mode, or the whole result set to isError when
 * single), else NULL. */
static err read_one(tool_call *call, tool_out *out, const char *path, size_t plen,
                    const read_spec *spec0, bool batch, json_t *files, const char **failed)
{
    char rel[PATH_MAX_LEN + 1] = "";
    tool_out tmp = {0};
    buf_init(&tmp.text, 0);
    *failed = NULL;
    file_view f = {.fd = -1};
    err rc = ERR_OK;
    read_spec spec = *spec0;
    buf *dst = &out->text;
    size_t start_len = dst->len;

    if (!tool_path_arg(call, &tmp, path, plen, rel, sizeof rel)) {
        goto fail;
    }
    f.rel = rel;
    struct stat sb;
    path_status ps;
    f.fd = path_open_file(call->ws->root_fd, call->ws->root_real, rel, &sb, &ps);
    if (f.fd < 0) {
        if (ps == PATH_NOT_FILE && S_ISDIR(sb.st_mode)) {
            /* a directory deserves a pointer to the right tool */
            tool_fail(&tmp, "not_a_file",
                      "'%s' is a directory, not a file; use ctx_tree path=\"%s\"", rel,
                      *rel ? rel : ".");
        } else {
            tool_path_error(&tmp, ps, *rel ? rel : path);
        }
        goto fail;
    }
    f.size = (size_t)sb.st_size;
    bool whole = !spec.windowed && spec.kind != READ_REFERENCE;
    size_t max = call->cfg->max_read_bytes;
    if (f.size <= max) {
        if (!load_file(&f, max)) {
            rc = ERR_NOMEM;
            goto out;
        }
    } else if (whole) {
        tool_fail(&tmp, "file_too_large",
                  "'%s' is %zu bytes, over maxReadBytes (%zu); read it with a line window "
                  "(mode=\"lines:1-200\") or mode=reference",
                  rel, f.size, max);
        goto fail;
    }
    if (f.binary) {
        buf_printf(dst, "[binary file: %s, %zu bytes]\n", rel, f.size);
        goto done;
    }
    if (spec.kind == READ_AUTO) {
        /* without the symbol index, auto is full (ctx_read's cap notes what did not fit) */
        spec.kind = READ_FULL;
        snprintf(spec.suffix, sizeof spec.suffix, " mode:auto→full");
    }
    if (spec.known_hash[0] && f.loaded && strncmp(spec.known_hash, f.sha12, 12) == 0 &&
        strlen(spec.known_hash) == 12) {
        buf_printf(dst, "[unchanged: %s — sha:%s matches; content not resent]\n", rel, f.sha12);
        goto done;
    }
    if (spec.note[0]) {
        buf_printf(dst, "%s\n", spec.note);
    }
    int64_t nlines;
    if (spec.kind == READ_RAW) {
        utf8_append_repaired(dst, f.data, f.len);
        /* verbatim: the one newline the result loses at the end is this extra one (alone), or
           the separator before the next file (batch) */
        if (!batch || (f.len && f.data[f.len - 1] != '\n')) {
            buf_putc(dst, '\n');
        }
        nlines = for_each_line(call, &f, NULL, NULL);
    } else if (spec.kind == READ_REFERENCE) {
        nlines = for_each_line(call, &f, NULL, NULL);
        if (nlines < 0) {
            rc = ERR_CANCELLED;
            goto out;
        }
        buf_printf(dst, "%s: %lld lines, %zu tok (%s)\n", rel, (long long)nlines, (f.size + 3) / 4,
                   ext_of(rel));
    } else if (spec.kind == READ_FULL) {
        nlines = for_each_line(call, &f, NULL, NULL);
        buf_printf(dst, "%s %lldL sha:%s%s\n", rel, (long long)nlines, f.sha12, spec.suffix);
        utf8_append_repaired(dst, f.data, f.len);
        if (f.len && f.data[f.len - 1] != '\n') {
            buf_putc(dst, '\n');
        }
    } else {
        /* line windows and anchored views */
        nlines = for_each_line(call, &f, NULL, NULL);
        if (nlines < 0) {
            rc = ERR_CANCELLED;
            goto out;
        }
        bool anchored = spec.kind == READ_ANCHORED;
        if (!spec.windowed) {
            spec.nsegs = 1;
            spec.segs[0].start = 1;
            spec.segs[0].end = INT64_MAX;
        }
        if (spec.windowed && spec.segs[0].start > nlines) {
            tool_fail(&tmp, "out_of_range", "'%s' has %lld lines; line %lld is past the end", rel,
                      (long long)nlines, (long long)spec.segs[0].start);
            goto fail;
        }
        buf_printf(dst, "%s %lldL", rel, (long long)nlines);
        if (spec.windowed) {
            buf_printf(dst, " lines:%s", spec.spec);
        }
        if (anchored) {
            buf_puts(dst, " [anchored: N:hhhh|line]");
        }
        buf_putc(dst, '\n');
        window_ctx w = {.spec = &spec, .out = dst, .anchored = anchored, .numbered = !anchored};
        if (for_each_line(call, &f, emit_window, &w) < 0) {
            rc = ERR_CANCELLED;
            goto out;
        }
    }
    if (nlines < 0) {
        rc = ERR_CANCELLED;
        goto out;
    }
    if (files) {
        size_t sent = dst->len - start_len;
        json_array_append_new(
            files, json_pack("{s:s, s:I, s:s, s:s, s:{s:I, s:I}, s:b}", "path", rel, "lines",
                             (json_int_t)nlines, "sha", f.loaded ? f.sha12 : "", "mode",
                             spec.kind == READ_RAW         ? "raw"
                             : spec.kind == READ_REFERENCE ? "reference"
                             : spec.kind == READ_ANCHORED  ? "anchored"
                             : spec.kind == READ_LINES     ? "lines"
                                                           : "full",
                             "tokens", "original", (json_int_t)((f.size + 3) / 4), "sent",
                             (json_int_t)((sent + 3) / 4), "truncated", 0));
    }
done:
    goto out;
fail:
    *failed = tmp.error_code ? tmp.error_code : "not_found";
    if (batch) {
        const char *msg = tmp.text.ptr ? tmp.text.ptr : "ERROR: failed";
        if (strncmp(msg, "ERROR: ", 7) == 0) {
            msg += 7;
        }
        buf_printf(dst, "ERROR: %s: %s\n", *rel ? rel : path, msg);
    } else {
        buf_truncate(dst, 0);
        buf_append(dst, tmp.text.ptr, tmp.text.len);
        out->structured = tmp.structured;
        tmp.structured = NULL;
        out->is_error = true;
        out->error_code = tmp.error_code;
    }
out:
    if (f.fd >= 0) {
        close(f.fd);
    }
    xfree(f.data);
    buf_release(&tmp.text);
    json_decref(tmp.structured);
    return rc;
}

err tool_ctx_read(tool_call *call, tool_out *out)
{
    read_spec spec;
    const char *mode = arg_str(call, "mode", "auto");
    if (arg_bool(call, "raw", false)) {
        mode = "raw";
    }
    int64_t start = arg_int(call, "start_line", arg_int(call, "offset", 0));
    int64_t limit = arg_int(call, "limit", 0);
    char window[64];
    if (start > 0 || limit > 0) {
        if (start <= 0) {
            start = 1;
        }
        if (limit > 0) {
            snprintf(window, sizeof window, "lines:%lld-%lld", (long long)start,
                     (long long)(start + limit - 1));
        } else {
            snprintf(window, sizeof window, "lines:%lld", (long long)start);
        }
        mode = window;
    }
    if (!read_parse_mode(mode, &spec)) {
        buf_printf(&out->text,
                   "invalid read mode \"%.100s\": expected lines:START-END, e.g. lines:72-92, or a "
                   "comma list such as lines:5,10-20",
                   mode);
        return ERR_INVALID_ARGUMENTS;
    }
    const char *kh = arg_str(call, "known_hash", NULL);
    if (kh) {
        snprintf(spec.known_hash, sizeof spec.known_hash, "%s", kh);
    }
    strlist paths = {0};
    if (!tool_paths_arg(call, &paths, NULL)) {
        strlist_release(&paths);
        return ERR_NOMEM;
    }
    if (paths.n == 0) {
        strlist_release(&paths);
        buf_puts(&out->text, "path is required (or paths for a batch)");
        return ERR_INVALID_ARGUMENTS;
    }
    bool batch = json_is_array(arg_get(call, "paths")) && paths.n > 0;
    json_t *files = json_array();
    size_t nfailed = 0;
    const char *first_code = NULL;
    err rc = ERR_OK;
    for (size_t i = 0; i < paths.n && rc == ERR_OK; i++) {
        if (i) {
            buf_putc(&out->text, '\n');
        }
        const char *failed;
        rc = read_one(call, out, paths.v[i], paths.lens[i], &spec, batch, files, &failed);
        nfailed += failed != NULL;
        if (failed && !first_code) {
            first_code = failed;
        }
        if (!batch && failed) {
            break;
        }
    }
    strlist_release(&paths);
    if (rc != ERR_OK) {
        json_decref(files);
        return rc;
    }
    if (out->text.len && out->text.ptr[out->text.len - 1] == '\n') {
        buf_truncate(&out->text, out->text.len - 1);
    }
    if (batch) {
        if (nfailed == json_array_size(arg_get(call, "paths"))) {
            /* every file failed: an error result like a single failure, with the first code */
            out->is_error = true;
            out->error_code = first_code;
            out->structured = json_pack("{s:s, s:s}", "error_code", first_code, "message",
                                        out->text.ptr ? out->text.ptr : "");
        }
        if (!out->structured) {
            out->structured = json_pack("{s:o}", "files", files);
            files = NULL;
        }
    } else if (!out->is_error && json_array_size(files) == 1) {
        out->structured = json_incref(json_array_get(files, 0));
    }
    json_decref(files);
    return ERR_OK;
}

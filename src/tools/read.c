/* read.c - ctx_read: one file, or a batch, in the view that fits (tools.md §2.1).
 *
 * Files are read, never mmapped (a checkout truncating a mapped file would SIGBUS the server).
 * Whole-file views (full, raw, anchored) load files up to maxReadBytes; line windows and
 * `reference` stream the file in chunks, so no file is unreadable. Output is always valid UTF-8
 * (invalid sequences become U+FFFD); the sha is over the raw bytes.
 *
 * The structural and lossy modes (signatures, map, aggressive, entropy) render in readmodes.c;
 * this file applies the rule they share: a lossy rendering larger than `full` is replaced by
 * `full` (anti-inflation), and so is a diff larger than the file. Every delivery of a loaded
 * file except `reference` is recorded in the caller's read ledger (ledger.h), which is what
 * `diff` compares against. */
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
#include "tools/ledger.h"
#include "tools/linediff.h"
#include "tools/read.h"
#include "tools/readmodes.h"

const char ctx_read_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"file, relative to the "
    "workspace root\"},"
    "\"paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\",\"maxLength\":"
    "4096},\"description\":\"batch read\"},"
    "\"mode\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"auto, full, raw, "
    "reference, signatures, map, aggressive, entropy, diff, anchored, anchored:N-M, lines:N-M, "
    "lines:N, lines:a,b-c\"},"
    "\"raw\":{\"type\":\"boolean\"},"
    "\"start_line\":{\"type\":\"integer\",\"minimum\":1},"
    "\"offset\":{\"type\":\"integer\",\"minimum\":1},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1},"
    "\"known_hash\":{\"type\":\"string\",\"maxLength\":64},"
    "\"fresh\":{\"type\":\"boolean\"},"
    "\"aggressiveness\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
    "\"protect\":{\"type\":\"array\",\"maxItems\":50,\"items\":{\"type\":\"string\","
    "\"maxLength\":4096},\"description\":\"identifiers whose lines lossy modes always keep\"}}}";

#define CHUNK (256 * 1024)
#define BINARY_PROBE 8192

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
    char sha[65];
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
    memcpy(f->sha, hex, 65);
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

static void render_full(buf *out, const file_view *f, const char *rel, int64_t nlines,
                        const char *suffix)
{
    buf_printf(out, "%s %lldL sha:%s%s\n", rel, (long long)nlines, f->sha12, suffix);
    utf8_append_repaired(out, f->data, f->len);
    if (f->len && f->data[f->len - 1] != '\n') {
        buf_putc(out, '\n');
    }
}

/* the read ledger: this caller now holds this version (a loaded file's; a streamed window of a
 * file over maxReadBytes has no hash to record) */
static void record(tool_call *call, const ledger_key *key, const file_view *f, const char *rel)
{
    if (f->loaded && !f->binary) {
        ledger_record(key, rel, f->sha, f->data, f->len, call->cfg->ledger_blob_bytes);
    }
}

/* the protect argument as a list in the arena */
static size_t protect_list(tool_call *call, const char ***out)
{
    json_t *arr = arg_get(call, "protect");
    size_t n = json_array_size(arr), k = 0;
    const char **v = n ? arena_alloc(call->a, n * sizeof *v) : NULL;
    for (size_t i = 0; v && i < n; i++) {
        const char *w = json_string_value(json_array_get(arr, i));
        if (w && *w) {
            v[k++] = w;
        }
    }
    *out = v;
    return k;
}

/* diff against the caller's last delivery of this path (before this one is recorded) */
static bool render_diff(tool_call *call, const ledger_key *key, const file_view *f, const char *rel,
                        int64_t nlines, buf *out)
{
    ledger_entry prev;
    bool known = ledger_get(key, rel, call->a, &prev);
    if (known && strcmp(prev.sha, f->sha) == 0) {
        buf_printf(out, "[unchanged: %s — no edits detected]\n", rel);
        return true;
    }
    if (!known || !prev.content) {
        /* never delivered, or the blob store let that version go (ledgerBlobBytes) */
        buf_puts(out, "[no cached version for diff — use mode=full first]\n");
        return true;
    }
    ld_line *a, *b;
    size_t na = ld_split(call->a, prev.content, prev.len, &a);
    size_t nb = ld_split(call->a, f->data, f->len, &b);
    if (na == (size_t)-1 || nb == (size_t)-1) {
        return false;
    }
    buf hunks;
    buf_init(&hunks, out->max);
    ld_stats st;
    if (!ld_unified(call->a, a, na, b, nb, 3, 0, call->cancel, &hunks, &st)) {
        buf_release(&hunks);
        return false;
    }
    if (!st.hunks) {
        /* the same lines (only a final newline or a byte-order mark changed) */
        buf_printf(out, "[unchanged: %s — no edits detected]\n", rel);
    } else {
        buf_printf(out, "%s %lldL diff vs sha:%.12s\n", rel, (long long)nlines, prev.sha);
        buf_append(out, hunks.ptr, hunks.len);
    }
    buf_release(&hunks);
    return true;
}

/* put suffix at the end of the first line of b (auto's `mode:auto→m`) */
static void suffix_first_line(buf *b, const char *suffix)
{
    const char *nl = b->ptr ? memchr(b->ptr, '\n', b->len) : NULL;
    size_t at = nl ? (size_t)(nl - b->ptr) : b->len;
    size_t sl = strlen(suffix);
    size_t old = b->len;
    buf_append(b, suffix, sl); /* grow, then shift the tail */
    if (!b->failed) {
        memmove(b->ptr + at + sl, b->ptr + at, old - at);
        memcpy(b->ptr + at, suffix, sl);
    }
}

/* the lossy and diff modes: render, then serve full instead when full is smaller (or when
 * aggressive says it removed nearly everything of a small file); spec->kind and suffix then
 * say full */
static err render_whole(tool_call *call, read_spec *spec, const file_view *f, const char *rel,
                        int64_t nlines, const ledger_key *key, bool chose, buf *dst)
{
    buf r, full;
    buf_init(&r, dst->max);
    buf_init(&full, dst->max);
    rm_src src = {.rel = rel,
                  .data = f->data,
                  .len = f->len,
                  .nlines = nlines,
                  .aggressiveness = spec->has_aggressiveness
                                        ? spec->aggressiveness
                                        : arg_num(call, "aggressiveness", 0.5)};
    const char **protect;
    src.nprotect = protect_list(call, &protect);
    src.protect = protect;
    bool use_full = false, ok = false;
    switch (spec->kind) {
    case READ_SIGNATURES: ok = rm_signatures(call, &src, &r); break;
    case READ_MAP: ok = rm_map(call, &src, &r); break;
    case READ_AGGRESSIVE: ok = rm_aggressive(call, &src, &r, &use_full); break;
    case READ_ENTROPY: ok = rm_entropy(call, &src, &r); break;
    default: ok = render_diff(call, key, f, rel, nlines, &r); break;
    }
    if (!ok || r.failed) {
        buf_release(&r);
        buf_release(&full);
        return tool_expired(call) ? ERR_CANCELLED : ERR_NOMEM;
    }
    /* full's size: its header plus the content repaired to UTF-8, which is never shorter than
       the raw bytes (each invalid subpart of 1-3 bytes becomes the 3 bytes of U+FFFD); only a
       rendering above that bound needs full rendered to compare */
    bool larger = false;
    if (!use_full) {
        size_t header_min = strlen(rel) + sizeof " 0L sha:123456789012\n" - 1;
        if (r.len > header_min + f->len) {
            render_full(&full, f, rel, nlines, "");
            larger = r.len > full.len;
        }
    }
    if (use_full || larger) {
        /* anti-inflation (tools.md §2.1): never more than full would send */
        snprintf(spec->suffix, sizeof spec->suffix, " mode:%s→full",
                 chose ? "auto" : read_kind_name(spec->kind));
        spec->kind = READ_FULL;
        render_full(dst, f, rel, nlines, spec->suffix);
    } else {
        if (chose && spec->suffix[0]) {
            suffix_first_line(&r, spec->suffix);
        }
        buf_append(dst, r.ptr ? r.ptr : "", r.len);
    }
    buf_release(&r);
    buf_release(&full);
    return ERR_OK;
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
    int64_t nlines = for_each_line(call, &f, NULL, NULL);
    if (nlines < 0) {
        rc = ERR_CANCELLED;
        goto out;
    }
    bool chose = spec.kind == READ_AUTO;
    if (chose) {
        rm_src probe = {.rel = rel, .data = f.data, .len = f.len, .nlines = nlines};
        spec.kind = rm_auto_choice(&probe);
        snprintf(spec.suffix, sizeof spec.suffix, " mode:auto→%s", read_kind_name(spec.kind));
    }
    ledger_key key = {call->tenant_id, call->ws->id, call->channel_id, call->token_id};
    if (spec.known_hash[0] && f.loaded && strncmp(spec.known_hash, f.sha12, 12) == 0 &&
        strlen(spec.known_hash) == 12) {
        buf_printf(dst, "[unchanged: %s — sha:%s matches; content not resent]\n", rel, f.sha12);
        record(call, &key, &f, rel);
        goto done;
    }
    if (spec.note[0]) {
        buf_printf(dst, "%s\n", spec.note);
    }
    if (spec.kind == READ_RAW) {
        utf8_append_repaired(dst, f.data, f.len);
        /* verbatim: the one newline the result loses at the end is this extra one (alone), or
           the separator before the next file (batch) */
        if (!batch || (f.len && f.data[f.len - 1] != '\n')) {
            buf_putc(dst, '\n');
        }
    } else if (spec.kind == READ_REFERENCE) {
        buf_printf(dst, "%s: %lld lines, %zu tok (%s)\n", rel, (long long)nlines, (f.size + 3) / 4,
                   ext_of(rel));
    } else if (spec.kind == READ_FULL) {
        render_full(dst, &f, rel, nlines, spec.suffix);
    } else if (read_kind_lossy(spec.kind) || spec.kind == READ_DIFF) {
        rc = render_whole(call, &spec, &f, rel, nlines, &key, chose, dst);
        if (rc != ERR_OK) {
            goto out;
        }
    } else {
        /* line windows and anchored views */
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
    if (spec.kind != READ_REFERENCE) {
        record(call, &key, &f, rel);
    }
    if (files) {
        size_t sent = dst->len - start_len;
        /* the mode served: what the header's suffix says when auto or anti-inflation chose */
        const char *served = read_kind_name(spec.kind);
        json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:s, s:{s:I, s:I}, s:b}", "path",
                                               rel, "lines", (json_int_t)nlines, "sha",
                                               f.loaded ? f.sha12 : "", "mode", served, "tokens",
                                               "original", (json_int_t)((f.size + 3) / 4), "sent",
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

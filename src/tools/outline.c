/* outline.c - ctx_outline (tools.md §2.5): the symbols of a file, or of every file under a
 * directory, from the index.
 *
 * A file is answered from its symbol rows in source order; a directory from one query over
 * the symbols of the files under it, in path order, cut at 600 files that have a symbol left
 * after the kind/match filters. Depth comes from the parent links (parents precede children in
 * source order), so the indentation is that of the code. Nothing here walks the tree or parses:
 * a file the index does not know is reported from the disk only to tell "missing" from "no
 * symbols". */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tools/common.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_outline_schema[] =
    "{\"type\":\"object\",\"required\":[\"path\"],\"properties\":{"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"file or directory\"},"
    "\"kind\":{\"type\":\"string\",\"enum\":[\"fn\",\"method\",\"struct\",\"class\",\"trait\","
    "\"interface\",\"enum\",\"type\",\"const\",\"var\",\"impl\",\"module\",\"all\"],"
    "\"default\":\"all\"},"
    "\"match\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"keep symbols whose name "
    "contains this (case-insensitive)\"},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"text\",\"json\"],\"default\":\"text\"}}}";

#define OUTLINE_MAX_FILES 600

typedef struct filter {
    const char *kind;  /* NULL = all */
    const char *match; /* NULL = none */
    const char *note;  /* the index note, carried in JSON documents as "index_note" */
} filter;

static bool keep(const filter *f, const ix_sym *s)
{
    if (!ixt_kind_is(s->kind, f->kind)) {
        return false;
    }
    return !f->match || strcasestr(s->name, f->match) != NULL;
}

static const char *parent_name(const ix_sym *v, size_t i)
{
    if (!v[i].parent_id) {
        return NULL;
    }
    for (size_t j = i; j-- > 0;) {
        if (v[j].id == v[i].parent_id) {
            return v[j].name;
        }
    }
    return NULL;
}

/* {"path","language","backend","symbols":[...]} of one file's kept symbols */
static json_t *file_json(const char *path, const char *lang, const char *backend, const ix_sym *v,
                         size_t n, const filter *f, size_t limit, size_t *budget)
{
    json_t *syms = json_array();
    for (size_t i = 0; i < n && json_array_size(syms) < limit; i++) {
        if (!keep(f, &v[i])) {
            continue;
        }
        if (budget) {
            /* about what the member costs in the serialized document */
            size_t cost = 120 + strlen(v[i].name) * 2 + strlen(v[i].kind) +
                          (v[i].signature ? strlen(v[i].signature) : 0) + 40;
            if (cost > *budget) {
                *budget = 0;
                break;
            }
            *budget -= cost;
        }
        buf sig;
        buf_init(&sig, 4096);
        ixt_sig_line(&sig, &v[i], 0);
        const char *pn = parent_name(v, i);
        json_array_append_new(syms,
                              json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:o}", "kind", v[i].kind,
                                        "name", v[i].name, "signature", sig.ptr ? sig.ptr : "",
                                        "start_line", (json_int_t)v[i].start_line, "end_line",
                                        (json_int_t)v[i].end_line, "exported", v[i].exported,
                                        "parent", pn ? json_string(pn) : json_null()));
        buf_release(&sig);
    }
    return json_pack("{s:s, s:s?, s:s, s:o}", "path", path, "language", lang, "backend",
                     backend ? backend : "regex", "symbols", syms);
}

static void none_line(buf *out, const filter *f, const char *shown)
{
    if (f->match) {
        buf_printf(out, "No symbols matching '%s' in %s", f->match, shown);
    } else if (f->kind) {
        buf_printf(out, "No '%s' symbols in %s", f->kind, shown);
    } else {
        buf_printf(out, "No symbols found in %s", shown);
    }
}

/* the file's language and backend from the index; false when it is not indexed */
static bool file_row(tool_call *call, sqlite3 *db, const char *rel, const char **lang,
                     const char **backend)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT lang, backend FROM files WHERE path = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(st);
        return false;
    }
    sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        const unsigned char *l = sqlite3_column_text(st, 0), *b = sqlite3_column_text(st, 1);
        *lang = l ? arena_strdup(call->a, (const char *)l) : NULL;
        *backend = b ? arena_strdup(call->a, (const char *)b) : NULL;
    }
    sqlite3_finalize(st);
    return found;
}

static err outline_file(tool_call *call, tool_out *out, sqlite3 *db, const char *rel,
                        const filter *f, bool json)
{
    const char *lang = NULL, *backend = NULL;
    file_row(call, db, rel, &lang, &backend);
    ix_sym *v = NULL;
    int64_t n = ixt_file_symbols(call, db, rel, &v);
    if (n < 0) {
        n = 0;
    }
    if (json) {
        json_t *doc = file_json(rel, lang, backend, v, (size_t)n, f, SIZE_MAX, NULL);
        if (f->note) {
            json_object_set_new(doc, "index_note", json_string(f->note));
        }
        ixt_json_result(call, out, doc, "symbols");
        return ERR_OK;
    }
    /* structuredContent mirrors the lines that fit the output cap, not the whole file */
    size_t kept = 0, fit = 0, cap = call->cfg->max_output_bytes;
    for (int64_t i = 0; i < n; i++) {
        if (!keep(f, &v[i])) {
            continue;
        }
        ixt_sig_line(&out->text, &v[i], v[i].depth);
        buf_putc(&out->text, '\n');
        kept++;
        fit += !cap || out->text.len <= cap;
    }
    if (!kept) {
        none_line(&out->text, f, rel);
        return ERR_OK;
    }
    ixt_hint(&out->text);
    size_t budget = cap ? cap : SIZE_MAX;
    out->structured = file_json(rel, lang, backend, v, (size_t)n, f, fit, &budget);
    if (fit < kept || budget == 0) {
        json_object_set_new(out->structured, "truncated", json_true());
    }
    return ERR_OK;
}

/* a file's accumulated rows, flushed when the next file starts */
typedef struct dir_state {
    tool_call *call;
    tool_out *out;
    const filter *f;
    bool json;
    json_t *files;
    size_t emitted;
    bool truncated;
    bool cut;      /* text mode: files past the output cap left out of the document */
    size_t budget; /* text mode: bytes the document may still take (about maxOutputBytes) */
    ix_sym *v;
    size_t n, cap;
    const char *lang, *backend;
} dir_state;

static void flush_file(dir_state *d)
{
    if (!d->n) {
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++) {
        kept += keep(d->f, &d->v[i]);
    }
    if (kept) {
        if (d->emitted == OUTLINE_MAX_FILES) {
            d->truncated = true;
        } else {
            d->emitted++;
            if (d->json) {
                json_array_append_new(d->files, file_json(d->v[0].path, d->lang, d->backend, d->v,
                                                          d->n, d->f, SIZE_MAX, NULL));
            } else {
                /* the document covers the lines that fit the output cap (the text is cut there
                   by the dispatcher), so a huge tree does not build a huge document */
                size_t cap = d->call->cfg->max_output_bytes, fit = 0, sent = 0;
                bool head_fits = !cap || d->out->text.len <= cap;
                buf_puts(&d->out->text, d->v[0].path);
                buf_putc(&d->out->text, '\n');
                for (size_t i = 0; i < d->n; i++) {
                    if (keep(d->f, &d->v[i])) {
                        ixt_sig_line(&d->out->text, &d->v[i], d->v[i].depth + 1);
                        buf_putc(&d->out->text, '\n');
                        sent++;
                        fit += !cap || d->out->text.len <= cap;
                    }
                }
                if (head_fits && fit && d->budget) {
                    json_array_append_new(d->files, file_json(d->v[0].path, d->lang, d->backend,
                                                              d->v, d->n, d->f, fit, &d->budget));
                }
                if (fit < sent || !d->budget) {
                    d->cut = true;
                }
            }
        }
    }
    d->n = 0;
}

static bool push_row(dir_state *d, const ix_sym *s)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 256;
        ix_sym *nv = arena_alloc(d->call->a, nc * sizeof *nv);
        if (!nv) {
            return false;
        }
        if (d->n) {
            memcpy(nv, d->v, d->n * sizeof *nv);
        }
        d->v = nv;
        d->cap = nc;
    }
    ix_sym *t = &d->v[d->n];
    *t = *s;
    t->depth = 0;
    if (t->parent_id) {
        for (size_t j = d->n; j-- > 0;) {
            if (d->v[j].id == t->parent_id) {
                t->depth = d->v[j].depth + 1;
                break;
            }
        }
    }
    d->n++;
    return true;
}

static const char *col(tool_call *call, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? arena_strndup(call->a, (const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

static err outline_dir(tool_call *call, tool_out *out, sqlite3 *db, const char *rel,
                       const filter *f, bool json)
{
    /* files under rel: path = rel/..., or every file at the root */
    const char *prefix = rel[0] ? arena_printf(call->a, "%s/", rel) : "";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            db,
            "SELECT s.id, coalesce(s.parent_id, 0), f.path, s.name, s.qname, s.kind, "
            "s.signature, s.params, s.ret, s.start_line, s.end_line, s.exported, s.is_async, "
            "f.lang, f.backend FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE substr(f.path, 1, length(?1)) = ?1 "
            "ORDER BY f.path, s.start_byte, s.end_byte DESC, s.id",
            -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return ERR_INTERNAL;
    }
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    dir_state d = {.call = call,
                   .out = out,
                   .f = f,
                   .json = json,
                   .files = json_array(),
                   .budget = call->cfg->max_output_bytes ? call->cfg->max_output_bytes : SIZE_MAX};
    const char *cur = NULL;
    size_t rows = 0;
    while (!d.truncated && sqlite3_step(st) == SQLITE_ROW) {
        if ((++rows & 1023) == 0 && tool_expired(call)) {
            break;
        }
        const char *path = (const char *)sqlite3_column_text(st, 2);
        if (!cur || strcmp(cur, path) != 0) {
            flush_file(&d);
            cur = col(call, st, 2);
            d.lang = col(call, st, 13);
            d.backend = col(call, st, 14);
        }
        ix_sym s = {
            .id = sqlite3_column_int64(st, 0),
            .parent_id = sqlite3_column_int64(st, 1),
            .path = cur,
            .name = col(call, st, 3),
            .qname = col(call, st, 4),
            .kind = col(call, st, 5),
            .signature = col(call, st, 6),
            .params = col(call, st, 7),
            .ret = col(call, st, 8),
            .lang = d.lang,
            .start_line = sqlite3_column_int64(st, 9),
            .end_line = sqlite3_column_int64(st, 10),
            .exported = sqlite3_column_int(st, 11) != 0,
            .is_async = sqlite3_column_int(st, 12) != 0,
        };
        if (!cur || !s.name || !s.qname || !s.kind || !push_row(&d, &s)) {
            break;
        }
    }
    flush_file(&d);
    sqlite3_finalize(st);

    /* files the index skipped for their size (tools.md §2.5) */
    int64_t too_large = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM files WHERE status = 'too_large' AND "
                           "substr(path, 1, length(?1)) = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            too_large = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);

    const char *shown = rel[0] ? rel : ".";
    json_t *doc = json_pack("{s:s, s:o, s:b}", "path", shown, "files", d.files, "truncated",
                            d.truncated || d.cut);
    if (json) {
        if (f->note) {
            json_object_set_new(doc, "index_note", json_string(f->note));
        }
        ixt_json_result(call, out, doc, "files");
        return ERR_OK;
    }
    if (!d.emitted) {
        none_line(&out->text, f, shown);
    } else {
        if (d.truncated) {
            buf_printf(&out->text, "[truncated at %d files — narrow the path for the rest]\n",
                       OUTLINE_MAX_FILES);
        }
    }
    if (too_large) {
        /* the limit as configured (maxIndexBytes), in the unit that reads best */
        size_t lim = call->cfg->max_index_bytes;
        char limit[32];
        if (lim && lim % (1024 * 1024) == 0) {
            snprintf(limit, sizeof limit, "%zu MiB", lim / (1024 * 1024));
        } else if (lim && lim % 1024 == 0) {
            snprintf(limit, sizeof limit, "%zu KiB", lim / 1024);
        } else {
            snprintf(limit, sizeof limit, "%zu bytes", lim);
        }
        buf_printf(&out->text, "%s(%lld files over %s not indexed)\n", d.emitted ? "" : "\n",
                   (long long)too_large, limit);
    }
    if (d.emitted) {
        ixt_hint(&out->text);
    }
    while (out->text.len && out->text.ptr[out->text.len - 1] == '\n') {
        buf_truncate(&out->text, out->text.len - 1); /* results end without a newline */
    }
    out->structured = doc;
    return ERR_OK;
}

/* does rel name a directory of the index (some indexed file lies under it) */
static bool indexed_dir(sqlite3 *db, const char *rel)
{
    if (!rel[0]) {
        return true;
    }
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM files WHERE path > ?1 || '/' AND path < ?1 || '0' "
                           "LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

err tool_ctx_outline(tool_call *call, tool_out *out)
{
    const char *rel = NULL;
    if (!ixt_path_arg(call, out, arg_str(call, "path", "."), &rel)) {
        return ERR_OK;
    }
    filter f = {.kind = arg_str(call, "kind", NULL), .match = arg_str(call, "match", NULL)};
    if (f.kind && strcmp(f.kind, "all") == 0) {
        f.kind = NULL;
    }
    if (f.match && !f.match[0]) {
        f.match = NULL;
    }
    bool json = strcmp(arg_str(call, "format", "text"), "json") == 0;

    /* the path must exist inside the root whatever the index says (a stale index row must not
       make a deleted or denied file look present) */
    path_status ps = PATH_OK;
    int fd = path_open(call->ws->root_fd, call->ws->root_real, rel, O_RDONLY | O_NONBLOCK, &ps);
    if (fd < 0) {
        return tool_path_error(out, ps, rel[0] ? rel : ".");
    }
    struct stat sb;
    bool is_dir = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
    close(fd);

    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    if (json) {
        buf_truncate(&out->text, 0); /* the text is the document alone */
        f.note = v.note[0] ? v.note : NULL;
    }
    err rc;
    if (is_dir || indexed_dir(v.db, rel)) {
        rc = outline_dir(call, out, v.db, rel, &f, json);
    } else {
        rc = outline_file(call, out, v.db, rel, &f, json);
    }
    index_view_close(&v);
    return rc;
}

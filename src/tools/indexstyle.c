/* indexstyle.c - the index-style tools (tools.md §5): index_folder, search_symbols,
 * get_symbol_source, get_file_outline, for agents written against jCodeMunch-like servers.
 *
 * Thin entries over the same index and the same helpers as ctx_search and ctx_outline: symbol
 * ids are `relpath::qualified.name#kind` with jCodeMunch kinds (ixt_kind_jcm), lean-ctx handles
 * are accepted wherever an id is, and each result is one compact JSON document that is both the
 * text and structuredContent (ixt_json_result keeps it whole under maxOutputBytes by dropping
 * trailing items). `repo` is resolved by the dispatcher like workspaceId. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/utf8.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"
#include "ws/glob.h"

#define REPO_PROP                                                                                  \
    "\"repo\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"workspace id\"}"

const char index_folder_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"default\":\".\"},"
    "\"incremental\":{\"type\":\"boolean\",\"default\":true},"
    "\"extra_ignore_patterns\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":"
    "\"string\",\"maxLength\":4096}},"
    "\"wait\":{\"type\":\"boolean\",\"default\":false},"
    "\"use_ai_summaries\":{\"type\":\"boolean\"},"
    "\"follow_symlinks\":{\"type\":\"boolean\"}," REPO_PROP "}}";

const char search_symbols_schema[] =
    "{\"type\":\"object\",\"required\":[\"query\"],\"properties\":{"
    "\"query\":{\"type\":\"string\",\"maxLength\":2048},"
    "\"kind\":{\"type\":\"string\",\"enum\":[\"function\",\"class\",\"method\",\"constant\","
    "\"type\",\"template\",\"import\"]},"
    "\"file_pattern\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"language\":{\"type\":\"string\",\"maxLength\":64},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":10},"
    "\"detail_level\":{\"type\":\"string\",\"enum\":[\"compact\",\"standard\",\"full\"],"
    "\"default\":\"standard\"}," REPO_PROP "}}";

const char get_symbol_source_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"symbol_id\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"symbol_ids\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\","
    "\"maxLength\":4096}},"
    "\"context_lines\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":50,\"default\":0},"
    "\"verify\":{\"type\":\"boolean\",\"default\":false}," REPO_PROP "}}";

const char get_file_outline_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"file_path\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"file_paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\","
    "\"maxLength\":4096}}," REPO_PROP "}}";

static char *id_of(tool_call *call, const ix_sym *s)
{
    buf b;
    buf_init(&b, 16384);
    ixt_id(&b, s);
    char *r = b.ptr ? arena_strndup(call->a, b.ptr, b.len) : arena_strdup(call->a, "");
    buf_release(&b);
    return r;
}

static char *sig_of(tool_call *call, const ix_sym *s)
{
    if (s->signature && s->signature[0]) {
        return (char *)s->signature;
    }
    buf b;
    buf_init(&b, 16384);
    ixt_sig_line(&b, s, 0);
    char *r = b.ptr ? arena_strndup(call->a, b.ptr, b.len) : arena_strdup(call->a, "");
    buf_release(&b);
    return r;
}

/* the index note travels inside the document (the text must stay one JSON document) */
static void take_note(tool_out *out, const ix_view *v, json_t *doc)
{
    buf_truncate(&out->text, 0);
    if (v->note[0]) {
        json_object_set_new(doc, "index_note", json_string(v->note));
    }
}

/* ---- index_folder ---- */

err tool_index_folder(tool_call *call, tool_out *out)
{
    const char *rel = NULL;
    if (!ixt_path_arg(call, out, arg_str(call, "path", "."), &rel)) {
        return ERR_OK;
    }
    bool incremental = arg_bool(call, "incremental", true);
    bool wait = arg_bool(call, "wait", false);
    ix_status st;
    memset(&st, 0, sizeof st);
    tool_out tmp = {0};
    buf_init(&tmp.text, 0);
    err rc = ixt_build(call, &tmp, !incremental, rel, wait, &st);
    if (rc != ERR_OK || tmp.is_error) {
        buf_truncate(&out->text, 0);
        buf_append(&out->text, tmp.text.ptr ? tmp.text.ptr : "", tmp.text.len);
        out->is_error = tmp.is_error;
        out->error_code = tmp.error_code;
        out->structured = tmp.structured;
        buf_release(&tmp.text);
        return rc;
    }
    buf_release(&tmp.text);
    json_decref(tmp.structured);

    bool built = st.state != IX_BUILDING && st.built_at != 0;
    json_t *skips = json_object();
    /* "too_large 2, binary 14" → {"too_large":2,"binary":14} */
    for (const char *p = st.skipped_reasons; *p;) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *sp = strchr(p, ' ');
        if (!sp) {
            break;
        }
        char key[64];
        size_t kl = (size_t)(sp - p) < sizeof key - 1 ? (size_t)(sp - p) : sizeof key - 1;
        memcpy(key, p, kl);
        key[kl] = 0;
        char *end = NULL;
        long long nv = strtoll(sp + 1, &end, 10);
        if (end == sp + 1) {
            break;
        }
        json_object_set_new(skips, key, json_integer(nv));
        p = end;
    }
    json_t *nosym = json_array();
    int64_t nosym_count = 0;
    if (built) {
        ix_view v;
        memset(&v, 0, sizeof v);
        if (index_view_open(call->cfg, call->ws, &v) && v.db) {
            sqlite3_stmt *q = NULL;
            if (sqlite3_prepare_v2(v.db,
                                   "SELECT path FROM files WHERE status = 'ok' AND n_symbols = 0 "
                                   "AND (?1 = '' OR path = ?1 OR substr(path, 1, length(?1) + 1) "
                                   "= ?1 || '/') ORDER BY path",
                                   -1, &q, NULL) == SQLITE_OK) {
                sqlite3_bind_text(q, 1, rel, -1, SQLITE_STATIC);
                while (sqlite3_step(q) == SQLITE_ROW) {
                    if (nosym_count++ < 20) {
                        json_array_append_new(nosym,
                                              json_string((const char *)sqlite3_column_text(q, 0)));
                    }
                }
            }
            sqlite3_finalize(q);
        }
        index_view_close(&v);
    }
    json_t *doc = json_pack(
        "{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:I}", "success", 1,
        "repo", call->ws->id, "folder", rel[0] ? rel : ".", "status", built ? "built" : "building",
        "job", st.job, "file_count", (json_int_t)st.files, "symbol_count", (json_int_t)st.symbols,
        "indexed", (json_int_t)st.parsed, "unchanged", (json_int_t)st.unchanged, "skipped",
        (json_int_t)st.skipped, "discovery_skip_counts", skips, "no_symbols_count",
        (json_int_t)nosym_count, "no_symbols_files", nosym, "duration_ms", (json_int_t)st.build_ms);
    json_t *extra = arg_get(call, "extra_ignore_patterns");
    if (json_is_array(extra) && json_array_size(extra)) {
        /* the builder applies the workspace's ignore files and config `ignore`; per-request
           patterns are not part of its job description, so say so rather than pretend */
        json_object_set_new(doc, "note",
                            json_string("extra_ignore_patterns not applied: add them to the "
                                        "workspace's .ctxdignore or the config's ignore list"));
    }
    ixt_json_result(call, out, doc, "no_symbols_files");
    return ERR_OK;
}

/* ---- search_symbols ---- */

/* the storage kinds of a jCodeMunch kind, as an SQL list */
static const char *jcm_kinds_sql(const char *k)
{
    if (!k) {
        return NULL;
    }
    if (strcmp(k, "function") == 0) {
        return "('fn')";
    }
    if (strcmp(k, "method") == 0) {
        return "('method')";
    }
    if (strcmp(k, "class") == 0) {
        return "('class','struct','union','interface','trait','enum','impl','module')";
    }
    if (strcmp(k, "constant") == 0) {
        return "('const','var','field','enumerator','macro')";
    }
    if (strcmp(k, "type") == 0) {
        return "('type')";
    }
    return "('')"; /* template, import: not indexed as symbols */
}

static void like_escape(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') {
            buf_putc(b, '\\');
        }
        buf_putc(b, *s);
    }
}

typedef struct found {
    ix_sym *v;
    size_t n, cap;
} found;

static bool found_has(const found *f, int64_t id)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].id == id) {
            return true;
        }
    }
    return false;
}

/* the symbols whose ids st's rows give (first column), in row order, leaving out those found
 * already and those outside gl (may be NULL), until f is full */
static void collect(tool_call *call, sqlite3 *db, sqlite3_stmt *st, const glob_list *gl, found *f)
{
    while (f->n < f->cap && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        ix_sym s;
        if (found_has(f, id) || !ixt_sym_by_id(call, db, id, &s)) {
            continue;
        }
        if (gl && !glob_list_match(gl, s.path, strlen(s.path))) {
            continue;
        }
        f->v[f->n++] = s;
    }
}

static json_t *source_of(tool_call *call, const ix_sym *s, int64_t ctx, char hash[65], bool *cut);

err tool_search_symbols(tool_call *call, tool_out *out)
{
    const char *query = arg_str(call, "query", "");
    const char *kind = arg_str(call, "kind", NULL);
    const char *fpat = arg_str(call, "file_pattern", NULL);
    const char *lang = arg_str(call, "language", NULL);
    int64_t max = arg_int(call, "max_results", 10);
    const char *detail = arg_str(call, "detail_level", "standard");
    glob_list *gl = NULL;
    char why[256];
    if (fpat && fpat[0] && !(gl = glob_list_compile(fpat, strlen(fpat), why, sizeof why))) {
        return tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", fpat, why);
    }
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        glob_list_free(gl);
        return ERR_OK;
    }
    found f = {.cap = (size_t)max};
    f.v = arena_alloc(call->a, f.cap * sizeof *f.v);
    buf pre, con;
    buf_init(&pre, 8192);
    buf_init(&con, 8192);
    like_escape(&pre, query);
    buf_putc(&pre, '%');
    buf_putc(&con, '%');
    like_escape(&con, query);
    buf_putc(&con, '%');
    const char *ks = jcm_kinds_sql(kind);
    /* tiers: exact name, prefix, contains (case-insensitive), each in (path, line) order */
    static const char *const tiers[] = {
        "lower(s.name) = lower(?1)",
        "s.name LIKE ?2 ESCAPE '\\'",
        "s.name LIKE ?3 ESCAPE '\\'",
    };
    for (size_t t = 0; t < 3 && f.v && f.n < f.cap && query[0]; t++) {
        char *sql = arena_printf(
            call->a,
            "SELECT s.id FROM symbols s JOIN files f ON f.id = s.file_id WHERE %s "
            "AND (?4 IS NULL OR f.lang = ?4) %s%s ORDER BY f.path, s.start_line, s.id LIMIT 20000",
            tiers[t], ks ? "AND s.kind IN " : "", ks ? ks : "");
        sqlite3_stmt *st = NULL;
        if (!sql || sqlite3_prepare_v2(v.db, sql, -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            break;
        }
        sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pre.ptr ? pre.ptr : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, con.ptr ? con.ptr : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, lang && lang[0] ? lang : NULL, -1, SQLITE_STATIC);
        collect(call, v.db, st, gl, &f);
        sqlite3_finalize(st);
    }
    /* then BM25 over the symbols' chunks (name tokens, signature, body text) */
    if (f.v && f.n < f.cap && query[0]) {
        buf toks;
        buf_init(&toks, 1 << 20);
        index_tokenize(query, strlen(query), &toks);
        buf m;
        buf_init(&m, 1 << 20);
        for (char *p = toks.ptr, *save = NULL, *tok = p ? strtok_r(p, " ", &save) : NULL; tok;
             tok = strtok_r(NULL, " ", &save)) {
            buf_printf(&m, "%s\"%s\"", m.len ? " OR " : "", tok);
        }
        sqlite3_stmt *st = NULL;
        char *sql = arena_printf(call->a,
                                 "SELECT c.symbol_id FROM chunks_fts JOIN chunks c ON c.id = "
                                 "chunks_fts.rowid JOIN symbols s ON s.id = c.symbol_id JOIN "
                                 "files f ON f.id = s.file_id WHERE chunks_fts MATCH ?1 AND "
                                 "(?2 IS NULL OR f.lang = ?2) %s%s ORDER BY bm25(chunks_fts), "
                                 "f.path, s.start_line LIMIT 2000",
                                 ks ? "AND s.kind IN " : "", ks ? ks : "");
        if (m.len && sql && sqlite3_prepare_v2(v.db, sql, -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, m.ptr, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, lang && lang[0] ? lang : NULL, -1, SQLITE_STATIC);
            collect(call, v.db, st, gl, &f);
        }
        sqlite3_finalize(st);
        buf_release(&toks);
        buf_release(&m);
    }
    buf_release(&pre);
    buf_release(&con);
    glob_list_free(gl);

    json_t *res = json_array();
    bool compact = strcmp(detail, "compact") == 0, full = strcmp(detail, "full") == 0;
    for (size_t i = 0; i < f.n; i++) {
        const ix_sym *s = &f.v[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id_of(call, s), "name", s->name, "kind",
                      ixt_kind_jcm(s->kind), "file", s->path, "line", (json_int_t)s->start_line);
        if (!compact) {
            json_object_set_new(o, "end_line", json_integer(s->end_line));
            json_object_set_new(o, "signature", json_string(sig_of(call, s)));
        }
        if (full) {
            char hash[65];
            bool cut = false;
            json_t *src = source_of(call, s, 0, hash, &cut);
            json_object_set_new(o, "source", src ? src : json_null());
        }
        json_array_append_new(res, o);
    }
    json_t *doc = json_pack("{s:s, s:s, s:I, s:o}", "repo", call->ws->id, "query", query,
                            "result_count", (json_int_t)f.n, "results", res);
    take_note(out, &v, doc);
    index_view_close(&v);
    ixt_json_result(call, out, doc, "results");
    return ERR_OK;
}

/* ---- get_symbol_source ---- */

/* the symbol's lines (with ctx lines around), read now; NULL when the file cannot be read */
static json_t *source_of(tool_call *call, const ix_sym *s, int64_t ctx, char hash[65], bool *cut)
{
    *cut = false;
    const char *text = NULL;
    size_t len = 0;
    bool ok = ixt_read_file_quiet(call, s->path, &text, &len);
    hash[0] = 0;
    if (!ok) {
        return NULL;
    }
    size_t *starts = NULL;
    int64_t lines = ixt_line_index(call->a, text, len, &starts);
    int64_t a = s->start_line - ctx, b = s->end_line + ctx;
    if (a < 1) {
        a = 1;
    }
    if (b > lines) {
        b = lines;
    }
    if (lines <= 0 || a > b) {
        crypto_sha256_hex("", 0, hash);
        return json_string("");
    }
    size_t from = starts[a - 1], to = starts[b];
    crypto_sha256_hex(text + from, to - from, hash);
    /* a document is never cut mid-way (tools.md §1.5): a source longer than the output cap is
       cut at a line end here, and the caller marks the document truncated */
    size_t max = call->cfg->max_output_bytes > 4096 ? call->cfg->max_output_bytes - 2048 : 2048;
    if (to - from > max) {
        size_t end = from + max;
        while (end > from && text[end - 1] != '\n') {
            end--;
        }
        to = end > from ? end : from + max; /* one huge line: cut inside it */
        *cut = true;
    }
    buf r;
    buf_init(&r, 0);
    utf8_append_repaired(&r, text + from, to - from);
    json_t *j = json_stringn(r.ptr ? r.ptr : "", r.len);
    buf_release(&r);
    return j;
}

/* whether the file's bytes are those the index parsed */
static bool file_unchanged(tool_call *call, sqlite3 *db, const char *rel)
{
    const char *text = NULL;
    size_t len = 0;
    bool ok = ixt_read_file_quiet(call, rel, &text, &len);
    if (!ok) {
        return false;
    }
    char now[65];
    crypto_sha256_hex(text, len, now);
    sqlite3_stmt *st = NULL;
    bool same = false;
    if (sqlite3_prepare_v2(db, "SELECT hash FROM files WHERE path = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *h = (const char *)sqlite3_column_text(st, 0);
            same = h && strcmp(h, now) == 0;
        }
    }
    sqlite3_finalize(st);
    return same;
}

static json_t *one_source(tool_call *call, sqlite3 *db, const char *id, int64_t ctx, bool verify,
                          const char **why)
{
    ix_sym s;
    if (ixt_find_symbols(call, db, id, NULL, NULL, &s, 1) < 1) {
        *why = "no_such_symbol";
        return NULL;
    }
    char hash[65];
    bool cut = false;
    json_t *src = source_of(call, &s, ctx, hash, &cut);
    if (!src) {
        *why = "file not readable";
        return NULL;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:s}", "id", id_of(call, &s),
                          "name", s.name, "kind", ixt_kind_jcm(s.kind), "file", s.path, "line",
                          (json_int_t)s.start_line, "end_line", (json_int_t)s.end_line, "signature",
                          sig_of(call, &s), "source", src, "content_hash", hash);
    if (verify) {
        json_object_set_new(o, "verified", json_boolean(file_unchanged(call, db, s.path)));
    }
    if (cut) {
        json_object_set_new(o, "truncated", json_true());
    }
    return o;
}

err tool_get_symbol_source(tool_call *call, tool_out *out)
{
    const char *one = arg_str(call, "symbol_id", NULL);
    json_t *many = arg_get(call, "symbol_ids");
    if ((!one || !one[0]) && !(json_is_array(many) && json_array_size(many))) {
        buf_puts(&out->text, "symbol_id or symbol_ids is required");
        return ERR_INVALID_ARGUMENTS;
    }
    int64_t ctx = arg_int(call, "context_lines", 0);
    bool verify = arg_bool(call, "verify", false);
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    if (one && one[0]) {
        const char *why = NULL;
        json_t *o = one_source(call, v.db, one, ctx, verify, &why);
        if (!o) {
            err rc = why && strcmp(why, "no_such_symbol") == 0
                         ? ixt_fail_no_symbol(out, v.db, one)
                         : tool_fail(out, "not_found", "the file of '%s' is not readable", one);
            index_view_close(&v);
            return rc;
        }
        take_note(out, &v, o);
        index_view_close(&v);
        ixt_json_result(call, out, o, NULL);
        return ERR_OK;
    }
    json_t *syms = json_array(), *errs = json_array();
    size_t i;
    json_t *it;
    json_array_foreach (many, i, it) {
        const char *id = json_string_value(it);
        const char *why = NULL;
        json_t *o = id ? one_source(call, v.db, id, ctx, verify, &why) : NULL;
        if (o) {
            json_array_append_new(syms, o);
        } else {
            json_array_append_new(errs, json_pack("{s:s, s:s}", "id", id ? id : "", "error",
                                                  why ? why : "not a string"));
        }
    }
    json_t *doc = json_pack("{s:o, s:o}", "symbols", syms, "errors", errs);
    take_note(out, &v, doc);
    index_view_close(&v);
    ixt_json_result(call, out, doc, "symbols");
    return ERR_OK;
}

/* ---- get_file_outline ---- */

/* one file's outline document, or NULL with *code and *msg set */
static json_t *file_outline(tool_call *call, sqlite3 *db, const char *path, const char **code,
                            char *msg, size_t msg_len)
{
    char rel[PATH_MAX_LEN + 1], why[400];
    path_status ps = path_normalize(path, strlen(path), call->ws->root, call->ws->root_real, rel,
                                    sizeof rel, why, sizeof why);
    if (ps != PATH_OK) {
        *code = path_status_code(ps);
        snprintf(msg, msg_len, "%s", why);
        return NULL;
    }
    struct stat sb;
    int fd = path_open_file(call->ws->root_fd, call->ws->root_real, rel, &sb, &ps);
    if (fd < 0) {
        *code = path_status_code(ps);
        snprintf(msg, msg_len, "cannot open '%.400s': %s", rel, *code);
        return NULL;
    }
    close(fd);
    ix_sym *v = NULL;
    int64_t n = ixt_file_symbols(call, db, rel, &v);
    const char *lang = n >= 0 && v && n > 0 ? v[0].lang : NULL;
    json_t *syms = json_array();
    for (int64_t i = 0; v && i < n; i++) {
        const char *parent = NULL;
        for (int64_t j = i; v[i].parent_id && j-- > 0;) {
            if (v[j].id == v[i].parent_id) {
                parent = id_of(call, &v[j]);
                break;
            }
        }
        json_array_append_new(
            syms, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s?}", "id", id_of(call, &v[i]),
                            "name", v[i].name, "kind", ixt_kind_jcm(v[i].kind), "signature",
                            sig_of(call, &v[i]), "line", (json_int_t)v[i].start_line, "end_line",
                            (json_int_t)v[i].end_line, "parent", parent));
    }
    return json_pack("{s:s, s:s, s:s?, s:o}", "repo", call->ws->id, "file", rel, "language", lang,
                     "symbols", syms);
}

err tool_get_file_outline(tool_call *call, tool_out *out)
{
    const char *one = arg_str(call, "file_path", NULL);
    json_t *many = arg_get(call, "file_paths");
    if ((!one || !one[0]) && !(json_is_array(many) && json_array_size(many))) {
        buf_puts(&out->text, "file_path or file_paths is required");
        return ERR_INVALID_ARGUMENTS;
    }
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    const char *code = NULL;
    char msg[600];
    if (one && one[0]) {
        json_t *doc = file_outline(call, v.db, one, &code, msg, sizeof msg);
        if (!doc) {
            index_view_close(&v);
            return tool_fail(out, code, "%s", msg);
        }
        take_note(out, &v, doc);
        index_view_close(&v);
        ixt_json_result(call, out, doc, "symbols");
        return ERR_OK;
    }
    json_t *res = json_array();
    size_t i;
    json_t *it;
    json_array_foreach (many, i, it) {
        const char *p = json_string_value(it);
        json_t *doc = p ? file_outline(call, v.db, p, &code, msg, sizeof msg) : NULL;
        if (!doc) {
            doc = json_pack("{s:s, s:s, s:s}", "file", p ? p : "", "error_code",
                            p ? code : "invalid_arguments", "error", p ? msg : "not a string");
        }
        json_array_append_new(res, doc);
    }
    json_t *doc = json_pack("{s:o}", "results", res);
    take_note(out, &v, doc);
    index_view_close(&v);
    ixt_json_result(call, out, doc, "results");
    return ERR_OK;
}

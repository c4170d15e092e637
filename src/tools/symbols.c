/* symbols.c - ctx_search's index-backed actions (tools.md §2.2): symbol, bm25 (and its alias
 * semantic), find_related, reindex. The regex action stays in search.c, which hands the others
 * here (ctx_search_index).
 *
 * symbol: ixt_find_symbols resolves the argument; one to five matches are shown with their
 * source read from the file now (through the root descriptor), more are listed.
 * bm25: SQLite FTS5 bm25() over chunks_fts, the query tokenized by the index's own tokenizer
 * (index_tokenize) so both sides agree on terms; the best candidates by raw BM25 are re-scored
 * with the boosts of §2.2 and ordered by score, path, start line.
 * find_related: imports and importers of the file (import edges), callers and callees of the
 * symbol enclosing `line` (call edges resolved as ixtools does), then the chunks most similar
 * by BM25 to the symbol's (or file's) own text, scored relative to the source chunk. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"
#include "ws/glob.h"

#define BM25_CANDIDATES 400
#define BM25_CANDIDATES_FILTERED 4000
#define SNIPPET_LINES 5
#define LIST_MAX 20
#define SHOW_MAX 5
#define QUERY_TERMS_MAX 256
#define RELATED_TERMS 24

void ctx_search_needs(const json_t *args, scope_set *scopes, int *cost)
{
    const char *a = json_string_value(json_object_get(args, "action"));
    if (!a) {
        return;
    }
    if (strcmp(a, "reindex") == 0) {
        *scopes |= SCOPE_INDEX;
        *cost = 10;
    } else if (strcmp(a, "find_related") == 0) {
        *cost = 2;
    }
}

/* ---- symbol ---- */

/* one match rendered as §2.2 shows: the handle line, the file line, the body */
static void render_symbol(tool_call *call, tool_out *out, const ix_sym *s)
{
    ixt_handle(&out->text, s);
    buf_printf(&out->text, "  (%c %s, L%lld-%lld)\n", s->exported ? '+' : '-', s->kind,
               (long long)s->start_line, (long long)s->end_line);
    const char *text = NULL;
    size_t len = 0;
    tool_out scratch = {0};
    buf_init(&scratch.text, 4096);
    bool ok = ixt_read_file(call, &scratch, s->path, &text, &len);
    if (!ok) {
        buf_printf(&out->text, "File: %s (not readable now: %s)\n", s->path,
                   scratch.text.ptr ? scratch.text.ptr : "error");
        buf_release(&scratch.text);
        json_decref(scratch.structured);
        return;
    }
    buf_release(&scratch.text);
    json_decref(scratch.structured);
    size_t *starts = NULL;
    int64_t lines = ixt_line_index(call->a, text, len, &starts);
    buf_printf(&out->text, "File: %s (%lld lines, %zu tokens)\n\n", s->path, (long long)lines,
               (len + 3) / 4);
    int64_t end = s->end_line < lines ? s->end_line : lines;
    for (int64_t l = s->start_line; l >= 1 && l <= end; l++) {
        size_t a = starts[l - 1], b = starts[l];
        while (b > a && (text[b - 1] == '\n' || text[b - 1] == '\r')) {
            b--;
        }
        buf_printf(&out->text, "%4lld|", (long long)l);
        utf8_append_repaired(&out->text, text + a, b - a);
        buf_putc(&out->text, '\n');
    }
}

static json_t *sym_json(const ix_sym *s)
{
    buf h, id;
    buf_init(&h, 8192);
    buf_init(&id, 8192);
    ixt_handle(&h, s);
    ixt_id(&id, s);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "handle", h.ptr ? h.ptr : "", "id",
                          id.ptr ? id.ptr : "", "path", s->path, "start", (json_int_t)s->start_line,
                          "end", (json_int_t)s->end_line, "kind", s->kind);
    buf_release(&h);
    buf_release(&id);
    return o;
}

static err action_symbol(tool_call *call, tool_out *out, sqlite3 *db)
{
    const char *handle = arg_str(call, "handle", NULL);
    const char *name = arg_str(call, "name", NULL);
    const char *q = handle && handle[0] ? handle : name;
    if (!q || !q[0]) {
        buf_truncate(&out->text, 0);
        buf_puts(&out->text, "name or handle is required for action=symbol");
        return ERR_INVALID_ARGUMENTS;
    }
    const char *file = arg_str(call, "file", NULL);
    const char *rel = NULL;
    if (file && file[0] && !ixt_path_arg(call, out, file, &rel)) {
        return ERR_OK;
    }
    const char *kind = arg_str(call, "kind", NULL);
    ix_sym *v = arena_alloc(call->a, LIST_MAX * sizeof *v);
    if (!v) {
        return ERR_NOMEM;
    }
    int64_t n = ixt_find_symbols(call, db, q, rel, kind, v, LIST_MAX);
    if (n == 0) {
        return ixt_fail_no_symbol(out, db, q);
    }
    json_t *arr = json_array();
    int64_t shown = n < LIST_MAX ? n : LIST_MAX;
    for (int64_t i = 0; i < shown; i++) {
        json_array_append_new(arr, sym_json(&v[i]));
    }
    if (n <= SHOW_MAX) {
        for (int64_t i = 0; i < n; i++) {
            if (i) {
                buf_puts(&out->text, "\n---\n\n");
            }
            render_symbol(call, out, &v[i]);
        }
    } else {
        buf_printf(&out->text, "%lld matches for '%s'. Narrow with file= or kind=:\n", (long long)n,
                   q);
        for (int64_t i = 0; i < shown; i++) {
            buf_printf(&out->text, "  %s::%s (%s:L%lld-%lld)\n", v[i].path, v[i].qname, v[i].kind,
                       (long long)v[i].start_line, (long long)v[i].end_line);
        }
        if (n > shown) {
            buf_printf(&out->text, "  ... and %lld more\n", (long long)(n - shown));
        }
        ixt_hint(&out->text);
    }
    /* drop the final newline of a rendered body: results end without one */
    while (out->text.len && out->text.ptr[out->text.len - 1] == '\n') {
        buf_truncate(&out->text, out->text.len - 1);
    }
    out->structured = json_pack("{s:o}", "symbols", arr);
    return ERR_OK;
}

/* ---- bm25 ---- */

typedef struct terms {
    char **v;
    size_t n;
} terms;

/* the distinct tokens of s (index_tokenize), in first-seen order, at most max */
static void tokenize(arena *a, const char *s, size_t len, size_t max, terms *t)
{
    buf b;
    buf_init(&b, 1 << 20);
    index_tokenize(s, len, &b);
    t->v = arena_alloc(a, (max + 1) * sizeof *t->v);
    t->n = 0;
    if (!t->v || !b.ptr) {
        buf_release(&b);
        return;
    }
    const char *p = b.ptr, *e = b.ptr + b.len;
    while (p < e && t->n < max) {
        while (p < e && *p == ' ') {
            p++;
        }
        const char *q = p;
        while (q < e && *q != ' ') {
            q++;
        }
        if (q > p) {
            bool dup = false;
            for (size_t i = 0; i < t->n && !dup; i++) {
                dup = strlen(t->v[i]) == (size_t)(q - p) && memcmp(t->v[i], p, q - p) == 0;
            }
            if (!dup) {
                char *tok = arena_strndup(a, p, (size_t)(q - p));
                if (tok) {
                    t->v[t->n++] = tok;
                }
            }
        }
        p = q;
    }
    buf_release(&b);
}

static bool has_term(const terms *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i], s) == 0) {
            return true;
        }
    }
    return false;
}

/* an FTS5 query: every term quoted (tokens are [a-z0-9_] but quoting keeps it safe), OR-ed */
static char *fts_query(arena *a, const terms *t)
{
    buf b;
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < t->n; i++) {
        buf_puts(&b, i ? " OR \"" : "\"");
        for (const char *p = t->v[i]; *p; p++) {
            if (*p == '"') {
                buf_putc(&b, '"');
            }
            buf_putc(&b, *p);
        }
        buf_putc(&b, '"');
    }
    char *s = b.ptr ? arena_strndup(a, b.ptr, b.len) : NULL;
    buf_release(&b);
    return s;
}

static bool is_prose(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) {
        return false;
    }
    static const char *const ext[] = {".md", ".mdx", ".rst", ".txt", ".adoc"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        if (strcasecmp(dot, ext[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* one word of identifier characters (`verify_token`, `parseURL`, `a.b`, `mod::f`) */
static bool looks_like_identifier(const char *q)
{
    while (*q == ' ') {
        q++;
    }
    size_t n = strlen(q);
    while (n && q[n - 1] == ' ') {
        n--;
    }
    if (!n || !(isalpha((unsigned char)q[0]) || q[0] == '_')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = q[i];
        if (!(isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':')) {
            return false;
        }
    }
    return true;
}

typedef struct hit {
    const char *path, *symbol, *kind;
    int64_t start, end, chunk_id, symbol_id;
    double score;
} hit;

static int hit_cmp(const void *pa, const void *pb)
{
    const hit *a = pa, *b = pb;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    int c = strcmp(a->path, b->path);
    if (c) {
        return c;
    }
    return (a->start > b->start) - (a->start < b->start);
}

/* the path restriction of a query: "" (all), a file, or a directory */
static const char *path_sql = "(?2 = '' OR f.path = ?2 OR substr(f.path, 1, length(?2) + 1) = ?2 "
                              "|| '/')";

/* Run one BM25 query; fills hits (arena) sorted by boosted score; returns the count (all
 * candidates kept, caller cuts). exclude_file: drop chunks of that file id (0: none). */
static int64_t bm25_run(tool_call *call, sqlite3 *db, const terms *q, const char *rel,
                        const glob_list *inc, const glob_list *exc, bool ident,
                        int64_t exclude_file, int64_t limit, hit **out)
{
    *out = NULL;
    if (!q->n) {
        return 0;
    }
    char *match = fts_query(call->a, q);
    char *sql = arena_printf(
        call->a,
        "SELECT c.id, c.start_line, c.end_line, f.path, s.name, s.kind, -bm25(chunks_fts), "
        "coalesce(c.symbol_id, 0), c.file_id FROM chunks_fts JOIN chunks c ON c.id = "
        "chunks_fts.rowid JOIN files f ON f.id = c.file_id LEFT JOIN symbols s ON s.id = "
        "c.symbol_id WHERE chunks_fts MATCH ?1 AND %s AND c.file_id != ?4 "
        "ORDER BY bm25(chunks_fts) LIMIT ?3",
        path_sql);
    if (!match || !sql) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit);
    sqlite3_bind_int64(st, 4, exclude_file);
    hit *v = arena_alloc(call->a, (size_t)limit * sizeof *v);
    int64_t n = 0;
    while (v && sqlite3_step(st) == SQLITE_ROW && n < limit) {
        const char *path = (const char *)sqlite3_column_text(st, 3);
        size_t pl = strlen(path);
        /* include/exclude globs are relative to the search path */
        size_t off = rel[0] && strncmp(path, rel, strlen(rel)) == 0 && path[strlen(rel)] == '/'
                         ? strlen(rel) + 1
                         : 0;
        if (inc && !glob_list_match(inc, path + off, pl - off)) {
            continue;
        }
        if (exc && glob_list_match(exc, path + off, pl - off)) {
            continue;
        }
        hit *h = &v[n];
        h->chunk_id = sqlite3_column_int64(st, 0);
        h->start = sqlite3_column_int64(st, 1);
        h->end = sqlite3_column_int64(st, 2);
        h->path = arena_strdup(call->a, path);
        const unsigned char *sn = sqlite3_column_text(st, 4), *sk = sqlite3_column_text(st, 5);
        h->symbol = sn ? arena_strdup(call->a, (const char *)sn) : NULL;
        h->kind = sk ? arena_strdup(call->a, (const char *)sk) : NULL;
        h->score = sqlite3_column_double(st, 6);
        h->symbol_id = sqlite3_column_int64(st, 7);
        if (!h->path) {
            break;
        }
        /* boosts of §2.2: the symbol named by a query term, terms in the path, prose files */
        if (h->symbol) {
            char *low = arena_strdup(call->a, h->symbol);
            for (char *p = low; p && *p; p++) {
                *p = (char)tolower((unsigned char)*p);
            }
            for (size_t i = 0; low && i < q->n; i++) {
                if (strlen(q->v[i]) >= 3 && strcmp(low, q->v[i]) == 0) {
                    h->score += 2.0;
                    break;
                }
            }
        }
        terms pt;
        tokenize(call->a, path, pl, 64, &pt);
        for (size_t i = 0; i < q->n; i++) {
            if (has_term(&pt, q->v[i])) {
                h->score += 0.5;
            }
        }
        if (ident && is_prose(path)) {
            h->score -= 1.0;
        }
        n++;
    }
    sqlite3_finalize(st);
    if (n > 1) {
        qsort(v, (size_t)n, sizeof *v, hit_cmp);
    }
    *out = v;
    return n;
}

static void chunk_totals(sqlite3 *db, int64_t *chunks, int64_t *files)
{
    *chunks = *files = 0;
    sqlite3_stmt *st = NULL;
    /* the build's chunk count (meta n_chunks) rather than a scan of the chunks table; files
       are those the text index covers (everything read as text) */
    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                           "'n_chunks'), (SELECT count(*) FROM chunks)), (SELECT count(*) FROM "
                           "files WHERE status NOT IN ('too_large', 'binary'))",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *chunks = sqlite3_column_int64(st, 0);
        *files = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
}

/* up to SNIPPET_LINES lines of the chunk, read from the file now */
static void put_snippet(tool_call *call, tool_out *out, const hit *h)
{
    const char *text = NULL;
    size_t len = 0;
    bool ok = ixt_read_file_quiet(call, h->path, &text, &len);
    if (!ok) {
        return;
    }
    size_t *starts = NULL;
    int64_t lines = ixt_line_index(call->a, text, len, &starts);
    for (int64_t l = h->start, k = 0; l >= 1 && l <= lines && l <= h->end && k < SNIPPET_LINES;
         l++, k++) {
        buf_printf(&out->text, "\n  %4lld|", (long long)l);
        size_t mark = out->text.len;
        buf_putc(&out->text, ' ');
        ixt_put_source(&out->text, text + starts[l - 1], starts[l] - starts[l - 1]);
        if (out->text.len == mark + 1) {
            buf_truncate(&out->text, mark); /* a blank line: no trailing space */
        }
    }
}

static err action_bm25(tool_call *call, tool_out *out, sqlite3 *db)
{
    const char *query = arg_str(call, "query", NULL);
    if (!query || !query[0]) {
        buf_truncate(&out->text, 0);
        buf_puts(&out->text, "query is required for action=bm25");
        return ERR_INVALID_ARGUMENTS;
    }
    const char *mode = arg_str(call, "mode", "bm25");
    if (strcmp(mode, "bm25") != 0) {
        buf_printf(&out->text,
                   "[note: mode '%s' needs embeddings, which ctxd does not have; served as "
                   "'bm25']\n",
                   mode);
    }
    int64_t top_k = arg_int(call, "top_k", 10);
    const char *rel = "";
    const char *p = arg_str(call, "path", ".");
    if (!ixt_path_arg(call, out, p, &rel)) {
        return ERR_OK;
    }
    const char *inc_s = arg_str(call, "include", NULL), *exc_s = arg_str(call, "exclude", NULL);
    glob_list *inc = NULL, *exc = NULL;
    char why[256];
    if (inc_s && inc_s[0] && !(inc = glob_list_compile(inc_s, strlen(inc_s), why, sizeof why))) {
        return tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", inc_s, why);
    }
    if (exc_s && exc_s[0] && !(exc = glob_list_compile(exc_s, strlen(exc_s), why, sizeof why))) {
        glob_list_free(inc);
        return tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", exc_s, why);
    }
    terms q;
    tokenize(call->a, query, strlen(query), QUERY_TERMS_MAX, &q);
    hit *v = NULL;
    int64_t limit = inc || exc || rel[0] ? BM25_CANDIDATES_FILTERED : BM25_CANDIDATES;
    int64_t n = bm25_run(call, db, &q, rel, inc, exc, looks_like_identifier(query), 0, limit, &v);
    glob_list_free(inc);
    glob_list_free(exc);
    if (n < 0) {
        return ERR_INTERNAL;
    }
    int64_t chunks, files;
    chunk_totals(db, &chunks, &files);
    json_t *arr = json_array();
    out->structured = json_pack("{s:o}", "results", arr);
    if (n == 0) {
        buf_printf(&out->text, "0 results for '%s' (bm25 over %lld chunks)", query,
                   (long long)chunks);
        return ERR_OK;
    }
    int64_t shown = n < top_k ? n : top_k;
    buf_printf(&out->text,
               "%lld results for '%s' (bm25 over %lld chunks in %lld files):", (long long)shown,
               query, (long long)chunks, (long long)files);
    for (int64_t i = 0; i < shown; i++) {
        const hit *h = &v[i];
        if (h->symbol) {
            buf_printf(&out->text, "\n%s:%lld-%lld %s (%s) score=%.2f", h->path,
                       (long long)h->start, (long long)h->end, h->symbol, h->kind, h->score);
        } else {
            buf_printf(&out->text, "\n%s:%lld-%lld (text) score=%.2f", h->path, (long long)h->start,
                       (long long)h->end, h->score);
        }
        put_snippet(call, out, h);
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:s?, s:s?, s:f}", "path", h->path,
                                             "start", (json_int_t)h->start, "end",
                                             (json_int_t)h->end, "symbol", h->symbol, "kind",
                                             h->kind, "score", round(h->score * 100) / 100));
    }
    return ERR_OK;
}

/* ---- find_related ---- */

typedef struct rel_item {
    const char *path;
    int64_t start, end; /* 0: the whole file */
    const char *reason; /* imports imported-by calls called-by similar */
    double score;
} rel_item;

typedef struct rel_list {
    rel_item *v;
    size_t n, cap;
} rel_list;

static bool rel_push(tool_call *call, rel_list *l, const char *path, int64_t start, int64_t end,
                     const char *reason, double score)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].path, path) == 0 && l->v[i].start == start && l->v[i].end == end &&
            strcmp(l->v[i].reason, reason) == 0) {
            return true;
        }
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        rel_item *nv = arena_alloc(call->a, nc * sizeof *nv);
        if (!nv) {
            return false;
        }
        if (l->n) {
            memcpy(nv, l->v, l->n * sizeof *nv);
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = (rel_item){path, start, end, reason, score};
    return true;
}

static void import_edges(tool_call *call, sqlite3 *db, int64_t fid, rel_list *l)
{
    static const struct {
        const char *sql, *reason;
    } q[] = {
        {"SELECT DISTINCT f.path FROM imports i JOIN files f ON f.id = i.resolved_id "
         "WHERE i.file_id = ?1 AND i.resolved_id != ?1 ORDER BY f.path LIMIT 500",
         "imports"},
        {"SELECT DISTINCT f.path FROM imports i JOIN files f ON f.id = i.file_id "
         "WHERE i.resolved_id = ?1 AND i.file_id != ?1 ORDER BY f.path LIMIT 500",
         "imported-by"},
    };
    for (size_t k = 0; k < 2; k++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, q[k].sql, -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            continue;
        }
        sqlite3_bind_int64(st, 1, fid);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *p = arena_strdup(call->a, (const char *)sqlite3_column_text(st, 0));
            if (!p || !rel_push(call, l, p, 0, 0, q[k].reason, 0)) {
                break;
            }
        }
        sqlite3_finalize(st);
    }
}

static int64_t file_id_of(sqlite3 *db, const char *rel)
{
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM files WHERE path = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            id = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    return id;
}

/* the chunk of the file the similarity is measured from: the symbol's, else the file's first */
static void similar_chunks(tool_call *call, sqlite3 *db, const char *rel, int64_t fid,
                           const ix_sym *sym, rel_list *l)
{
    const char *text = NULL;
    size_t len = 0;
    bool ok = ixt_read_file_quiet(call, rel, &text, &len);
    if (!ok) {
        return;
    }
    size_t *starts = NULL;
    int64_t lines = ixt_line_index(call->a, text, len, &starts);
    int64_t a = sym ? sym->start_line : 1, b = sym ? sym->end_line : 200;
    if (b > lines) {
        b = lines;
    }
    if (a < 1 || a > b) {
        return;
    }
    terms q;
    tokenize(call->a, text + starts[a - 1], starts[b] - starts[a - 1], 512, &q);
    /* keep the longer (more specific) terms first, at most RELATED_TERMS */
    terms pick = {.v = q.v, .n = 0};
    for (size_t minlen = 6; minlen >= 3 && pick.n < RELATED_TERMS; minlen--) {
        for (size_t i = 0; i < q.n && pick.n < RELATED_TERMS; i++) {
            size_t tl = strlen(q.v[i]);
            if ((minlen == 6 ? tl >= 6 : tl == minlen) && q.v[i][0]) {
                char *t = q.v[i];
                /* move into the picked prefix */
                q.v[i] = q.v[pick.n];
                q.v[pick.n] = t;
                pick.n++;
            }
        }
    }
    /* reference: the best score the query reaches on the source itself */
    hit *self = NULL;
    double ref = 0;
    int64_t ns = bm25_run(call, db, &pick, rel, NULL, NULL, false, 0, 50, &self);
    for (int64_t i = 0; i < ns; i++) {
        if (self[i].score > ref) {
            ref = self[i].score;
        }
    }
    hit *v = NULL;
    int64_t n = bm25_run(call, db, &pick, "", NULL, NULL, false, fid, 20, &v);
    if (ref <= 0 && n > 0) {
        ref = v[0].score;
    }
    for (int64_t i = 0; i < n; i++) {
        double sim = ref > 0 ? v[i].score / ref : 0;
        if (sim > 1) {
            sim = 1;
        }
        if (sim < 0.05) {
            break;
        }
        if (!rel_push(call, l, v[i].path, v[i].start, v[i].end, "similar", sim)) {
            break;
        }
    }
}

static err action_find_related(tool_call *call, tool_out *out, sqlite3 *db)
{
    const char *fp = arg_str(call, "file_path", NULL);
    if (!fp || !fp[0]) {
        buf_truncate(&out->text, 0);
        buf_puts(&out->text, "file_path is required for action=find_related");
        return ERR_INVALID_ARGUMENTS;
    }
    const char *rel = NULL;
    if (!ixt_path_arg(call, out, fp, &rel)) {
        return ERR_OK;
    }
    int64_t fid = file_id_of(db, rel);
    if (!fid) {
        return tool_fail(out, "not_found", "%s is not in the index (missing, ignored or skipped)",
                         rel);
    }
    int64_t line = arg_int(call, "line", 0);
    int64_t max = arg_int(call, "max_results", 10);
    ix_sym sym;
    bool has_sym = line > 0 && ixt_sym_at(call, db, rel, line, &sym);

    rel_list l = {0};
    import_edges(call, db, fid, &l);
    if (has_sym) {
        ix_edge *e = NULL;
        int64_t n = ixt_callees(call, db, &sym, &e, 200);
        for (int64_t i = 0; i < n && i < 200; i++) {
            if (e[i].other.id && e[i].other.id != sym.id) {
                rel_push(call, &l, e[i].other.path, e[i].other.start_line, e[i].other.end_line,
                         "calls", 0);
            }
        }
        n = ixt_callers(call, db, &sym, &e, 200);
        for (int64_t i = 0; i < n && i < 200; i++) {
            if (e[i].other.id && e[i].other.id != sym.id) {
                rel_push(call, &l, e[i].other.path, e[i].other.start_line, e[i].other.end_line,
                         "called-by", 0);
            } else if (!e[i].other.id) {
                rel_push(call, &l, e[i].path, e[i].line, e[i].line, "called-by", 0);
            }
        }
    }
    similar_chunks(call, db, rel, fid, has_sym ? &sym : NULL, &l);

    if (has_sym) {
        buf_printf(&out->text, "%zu related to %s:%lld ∈%s:", l.n, rel, (long long)line, sym.name);
    } else if (line > 0) {
        buf_printf(&out->text, "%zu related to %s:%lld:", l.n, rel, (long long)line);
    } else {
        buf_printf(&out->text, "%zu related to %s:", l.n, rel);
    }
    json_t *arr = json_array();
    size_t shown = l.n < (size_t)max ? l.n : (size_t)max;
    for (size_t i = 0; i < shown; i++) {
        const rel_item *r = &l.v[i];
        buf_printf(&out->text, "\n  %s", r->path);
        if (r->start) {
            buf_printf(&out->text, ":%lld-%lld", (long long)r->start, (long long)r->end);
        }
        if (strcmp(r->reason, "similar") == 0) {
            buf_printf(&out->text, "  similar %.2f", r->score);
        } else {
            buf_printf(&out->text, "  %s", r->reason);
        }
        json_t *o = json_pack("{s:s, s:s}", "path", r->path, "reason", r->reason);
        if (r->start) {
            json_object_set_new(o, "start", json_integer(r->start));
            json_object_set_new(o, "end", json_integer(r->end));
        }
        if (strcmp(r->reason, "similar") == 0) {
            json_object_set_new(o, "score", json_real(round(r->score * 100) / 100));
        }
        json_array_append_new(arr, o);
    }
    if (l.n > shown) {
        buf_printf(&out->text, "\n(+%zu more not shown; raise max_results)", l.n - shown);
    }
    out->structured = json_pack("{s:o}", "related", arr);
    return ERR_OK;
}

/* ---- dispatch of the actions ---- */

err ctx_search_index(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "regex");
    if (strcmp(action, "reindex") == 0) {
        const char *rel = NULL;
        if (!ixt_path_arg(call, out, arg_str(call, "path", "."), &rel)) {
            return ERR_OK;
        }
        return ixt_build(call, out, false, rel, true, NULL);
    }
    /* required arguments are checked before the index is consulted, so a malformed call gets
       the same answer whatever the index state */
    static const struct {
        const char *action, *arg, *alt;
    } req[] = {{"symbol", "name", "handle"},
               {"bm25", "query", NULL},
               {"semantic", "query", NULL},
               {"find_related", "file_path", NULL}};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        if (strcmp(action, req[i].action) != 0) {
            continue;
        }
        const char *a = arg_str(call, req[i].arg, NULL);
        const char *b = req[i].alt ? arg_str(call, req[i].alt, NULL) : NULL;
        if ((!a || !a[0]) && (!b || !b[0])) {
            buf_truncate(&out->text, 0);
            buf_printf(&out->text, "%s%s%s is required for action=%s", req[i].arg,
                       req[i].alt ? " or " : "", req[i].alt ? req[i].alt : "", action);
            return ERR_INVALID_ARGUMENTS;
        }
    }
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    err rc;
    if (strcmp(action, "symbol") == 0) {
        rc = action_symbol(call, out, v.db);
    } else if (strcmp(action, "find_related") == 0) {
        rc = action_find_related(call, out, v.db);
    } else {
        rc = action_bm25(call, out, v.db); /* bm25 and its alias semantic */
    }
    index_view_close(&v);
    return rc;
}

/* ixtools.c - what the index-backed tools share (see ixtools.h).
 *
 * Every query here is a prepared statement on the caller's read view (one read transaction,
 * so a build committing meanwhile cannot make two queries of one call disagree); results are
 * copied into the call's arena before the statement is finalized. Symbol arguments are parsed
 * by shape (handle, id, file-qualified, dotted, bare) and turned into one parameterized query,
 * never into SQL text. Call edges are kept by callee name in the index and resolved here, at
 * query time, in the order tools.md §3 gives: same file, imported files, unique name. */
#include "tools/ixtools.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/strutil.h"
#include "core/utf8.h"
#include "tools/common.h"

#define SOURCE_WIDTH 150 /* code points of a quoted source line (tools.md §1.5) */
#define MAX_CANDIDATES 100000

/* ---- index view ---- */

bool ixt_open(tool_call *call, tool_out *out, ix_view *v)
{
    memset(v, 0, sizeof *v);
    bool ok = index_view_open(call->cfg, call->ws, v);
    if (ok && v->db) {
        if (v->note[0]) {
            buf_puts(&out->text, v->note);
            buf_putc(&out->text, '\n');
        }
        return true;
    }
    if (v->note[0]) {
        buf_puts(&out->text, v->note);
        buf_putc(&out->text, '\n');
        buf_printf(&out->text,
                   "no index of workspace '%s' has been committed yet; ask again when the build "
                   "is done (ctx_index action=status shows its progress)",
                   call->ws->id);
    } else {
        ix_status st;
        memset(&st, 0, sizeof st);
        index_status(call->cfg, call->ws, &st);
        buf line;
        buf_init(&line, 1024);
        index_status_text(&st, &line);
        const char *l = line.ptr ? line.ptr : "index: absent";
        const char *nl = strchr(l, '\n');
        buf_printf(&out->text,
                   "[%.*s]\nno index of workspace '%s' is available yet; an index build starts "
                   "with ctx_index action=build (needs the index scope)",
                   (int)(nl ? (size_t)(nl - l) : strlen(l)), l, call->ws->id);
        buf_release(&line);
    }
    index_view_close(v);
    return false;
}

/* ---- kinds ---- */

const char *ixt_kind_filter(const char *k)
{
    if (!k) {
        return "var";
    }
    static const char *const map[][2] = {
        {"fn", "fn"},         {"method", "method"}, {"class", "class"},
        {"struct", "struct"}, {"union", "struct"},  {"interface", "interface"},
        {"trait", "trait"},   {"enum", "enum"},     {"enumerator", "const"},
        {"type", "type"},     {"const", "const"},   {"var", "var"},
        {"field", "var"},     {"macro", "const"},   {"impl", "impl"},
        {"module", "module"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i][0], k) == 0) {
            return map[i][1];
        }
    }
    return "var";
}

const char *ixt_kind_jcm(const char *k)
{
    const char *f = ixt_kind_filter(k);
    if (strcmp(f, "fn") == 0) {
        return "function";
    }
    if (strcmp(f, "method") == 0) {
        return "method";
    }
    if (strcmp(f, "const") == 0 || strcmp(f, "var") == 0) {
        return "constant";
    }
    if (strcmp(f, "type") == 0) {
        return "type";
    }
    return "class";
}

bool ixt_kind_is(const char *storage_kind, const char *filter)
{
    if (!filter || !filter[0] || strcmp(filter, "all") == 0) {
        return true;
    }
    return strcmp(ixt_kind_filter(storage_kind), filter) == 0;
}

/* ---- rows ---- */

#define SYM_COLS                                                                                   \
    "s.id, s.file_id, coalesce(s.parent_id, 0), f.path, s.name, s.qname, s.kind, s.signature, "    \
    "s.params, s.ret, f.lang, s.start_line, s.end_line, s.exported, s.is_async"

static const char *col_str(tool_call *call, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t) {
        return NULL;
    }
    return arena_strndup(call->a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

static int count_dots(const char *s)
{
    int n = 0;
    for (; s && *s; s++) {
        n += *s == '.';
    }
    return n;
}

static bool row_sym(tool_call *call, sqlite3_stmt *st, ix_sym *s)
{
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    s->file_id = sqlite3_column_int64(st, 1);
    s->parent_id = sqlite3_column_int64(st, 2);
    s->path = col_str(call, st, 3);
    s->name = col_str(call, st, 4);
    s->qname = col_str(call, st, 5);
    s->kind = col_str(call, st, 6);
    s->signature = col_str(call, st, 7);
    s->params = col_str(call, st, 8);
    s->ret = col_str(call, st, 9);
    s->lang = col_str(call, st, 10);
    s->start_line = sqlite3_column_int64(st, 11);
    s->end_line = sqlite3_column_int64(st, 12);
    s->exported = sqlite3_column_int(st, 13) != 0;
    s->is_async = sqlite3_column_int(st, 14) != 0;
    if (!s->path || !s->name || !s->qname || !s->kind) {
        return false; /* out of arena memory (the columns are NOT NULL) */
    }
    if (!s->signature) {
        s->signature = "";
    }
    int d = count_dots(s->qname) - count_dots(s->name);
    s->depth = s->parent_id && d > 0 ? d : 0;
    return true;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("index query failed to prepare: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

bool ixt_sym_by_id(tool_call *call, sqlite3 *db, int64_t id, ix_sym *out)
{
    sqlite3_stmt *st =
        prep(db, "SELECT " SYM_COLS " FROM symbols s JOIN files f ON f.id = s.file_id "
                 "WHERE s.id = ?1");
    if (!st) {
        return false;
    }
    sqlite3_bind_int64(st, 1, id);
    bool ok = sqlite3_step(st) == SQLITE_ROW && row_sym(call, st, out);
    sqlite3_finalize(st);
    return ok;
}

int64_t ixt_symbol_count(sqlite3 *db)
{
    /* the build's own count (meta n_symbols) when it kept one: no table scan */
    sqlite3_stmt *st = prep(db, "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE "
                                "key = 'n_symbols'), (SELECT count(*) FROM symbols))");
    int64_t n = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

err ixt_fail_no_symbol(tool_out *out, sqlite3 *db, const char *name)
{
    return tool_fail(out, "no_such_symbol",
                     "Symbol '%.200s' not found in index (%lld symbols indexed). Try "
                     "ctx_search(pattern=\"%.200s\") for a broader search.",
                     name, (long long)ixt_symbol_count(db), name);
}

/* ---- symbol arguments ---- */

typedef struct sym_query {
    const char *path;   /* exact file, or NULL */
    const char *name;   /* name = ?, or NULL */
    const char *qname;  /* qname = ? or ends with "." qname, or NULL */
    const char *either; /* name = ? or qname = ? (relpath::x) */
    const char *jcm;    /* jCodeMunch kind from an id */
    int64_t line;       /* start_line from a handle, 0 = any */
} sym_query;

/* the shapes of tools.md §1.8 and §2.2, in the order that keeps them apart: an id
 * `relpath::qname#kind`, a handle `relpath#name@Lstart`, `relpath::name`, `Class.method`, name */
static bool parse_symbol_arg(arena *a, const char *q, sym_query *sq)
{
    memset(sq, 0, sizeof *sq);
    const char *dc = strstr(q, "::");
    const char *hash = strrchr(q, '#');
    if (dc && dc > q) {
        sq->path = arena_strndup(a, q, (size_t)(dc - q));
        const char *rest = dc + 2;
        if (hash && hash > rest) {
            sq->qname = arena_strndup(a, rest, (size_t)(hash - rest));
            sq->jcm = hash[1] ? hash + 1 : NULL;
            if (sq->qname && !sq->qname[0]) {
                return false;
            }
        } else {
            sq->either = rest;
        }
        return sq->path && (sq->qname || sq->either) && (sq->either ? rest[0] != 0 : true);
    }
    if (hash && hash > q) {
        const char *at = strstr(hash, "@L");
        if (at) {
            int64_t line = 0;
            const char *ls = at + 2;
            if (!parse_i64(ls, strlen(ls), 1, INT64_MAX, &line)) {
                return false;
            }
            sq->path = arena_strndup(a, q, (size_t)(hash - q));
            sq->name = arena_strndup(a, hash + 1, (size_t)(at - hash - 1));
            sq->line = line;
            return sq->path && sq->name && sq->name[0];
        }
    }
    if (strchr(q, '.') && q[0] != '.' && q[strlen(q) - 1] != '.') {
        sq->qname = q;
        return true;
    }
    sq->name = q;
    return q[0] != 0;
}

int64_t ixt_find_symbols(tool_call *call, sqlite3 *db, const char *query, const char *file,
                         const char *kind, ix_sym *out, int cap)
{
    sym_query sq;
    if (!query || !parse_symbol_arg(call->a, query, &sq)) {
        return 0;
    }
    /* The WHERE clause holds only the conditions this argument needs, so SQLite plans each
       shape on its indexes (symbols.name, files.path) instead of scanning: a lookup is a few
       index probes even on a kernel-sized index. A dotted name matches a qualified name
       exactly, or as its tail after a container the caller left out (`Cls.m` finds
       `mod.Cls.m`), both through the name index on its last component; or a name that itself
       holds dots. */
    const char *last = NULL;
    if (sq.qname) {
        const char *dot = strrchr(sq.qname, '.');
        last = dot ? dot + 1 : sq.qname;
    }
    buf sql;
    buf_init(&sql, 4096);
    buf_puts(&sql, "SELECT " SYM_COLS " FROM symbols s JOIN files f ON f.id = s.file_id WHERE 1");
    if (sq.name) {
        buf_puts(&sql, " AND s.name = ?1");
    }
    if (sq.qname) {
        buf_puts(&sql, " AND ((s.name = ?3 AND (s.qname = ?2 OR (length(s.qname) > length(?2) AND "
                       "substr(s.qname, -length(?2) - 1) = '.' || ?2))) OR s.name = ?2)");
    }
    if (sq.either) {
        buf_puts(&sql, " AND (s.name = ?4 OR s.qname = ?4)");
    }
    if (sq.path) {
        buf_puts(&sql, " AND f.path = ?5");
    }
    if (file && file[0]) {
        buf_puts(&sql, " AND f.path = ?6");
    }
    if (sq.line) {
        buf_puts(&sql, " AND s.start_line = ?7");
    }
    buf_puts(&sql, " ORDER BY s.exported DESC, f.path, s.start_line, s.id");
    sqlite3_stmt *st = sql.failed ? NULL : prep(db, sql.ptr);
    buf_release(&sql);
    if (!st) {
        return 0;
    }
    /* binding a parameter the text does not name is a harmless SQLITE_RANGE */
    sqlite3_bind_text(st, 1, sq.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sq.qname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, last, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sq.either, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, sq.path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, file && file[0] ? file : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, sq.line);
    int64_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < MAX_CANDIDATES) {
        const char *k = (const char *)sqlite3_column_text(st, 6);
        if (!k || !ixt_kind_is(k, kind)) {
            continue;
        }
        if (sq.jcm && strcmp(ixt_kind_jcm(k), sq.jcm) != 0) {
            continue;
        }
        if (n < cap && out && !row_sym(call, st, &out[n])) {
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int64_t ixt_file_symbols(tool_call *call, sqlite3 *db, const char *relpath, ix_sym **out)
{
    *out = NULL;
    sqlite3_stmt *st = prep(db, "SELECT id FROM files WHERE path = ?1");
    if (!st) {
        return -1;
    }
    sqlite3_bind_text(st, 1, relpath, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return -1;
    }
    int64_t fid = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    st = prep(db, "SELECT " SYM_COLS ", s.start_byte FROM symbols s JOIN files f ON f.id = "
                  "s.file_id WHERE s.file_id = ?1 "
                  "ORDER BY s.start_byte, s.end_byte DESC, s.id");
    if (!st) {
        return -1;
    }
    sqlite3_bind_int64(st, 1, fid);
    size_t cap = 0, n = 0;
    ix_sym *v = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            ix_sym *nv = arena_alloc(call->a, nc * sizeof *nv);
            if (!nv) {
                break;
            }
            if (n) {
                memcpy(nv, v, n * sizeof *v);
            }
            v = nv;
            cap = nc;
        }
        if (!row_sym(call, st, &v[n])) {
            break;
        }
        /* parents come before their children (outer before inner): depth = parent's + 1 */
        v[n].depth = 0;
        if (v[n].parent_id) {
            for (size_t j = n; j-- > 0;) {
                if (v[j].id == v[n].parent_id) {
                    v[n].depth = v[j].depth + 1;
                    break;
                }
            }
        }
        n++;
    }
    sqlite3_finalize(st);
    *out = v;
    return (int64_t)n;
}

bool ixt_sym_at(tool_call *call, sqlite3 *db, const char *relpath, int64_t line, ix_sym *out)
{
    sqlite3_stmt *st = prep(
        db, "SELECT " SYM_COLS " FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE f.path = ?1 AND s.start_line <= ?2 AND s.end_line >= ?2 "
            "ORDER BY (s.kind IN ('fn','method')) DESC, s.end_line - s.start_line, s.start_line "
            "DESC LIMIT 1");
    if (!st) {
        return false;
    }
    sqlite3_bind_text(st, 1, relpath, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, line);
    bool ok = sqlite3_step(st) == SQLITE_ROW && row_sym(call, st, out);
    sqlite3_finalize(st);
    return ok;
}

/* ---- call edges ---- */

#define CALLABLE "s.kind IN ('fn','method','macro','class','struct')"

/* a definition without a body (a C prototype, an interface method): its node is no longer
   than its signature */
#define DECL "(s.end_byte - s.start_byte <= length(s.signature) + 2)"

/* candidates of one resolution level; the first (definitions before declarations) into out */
static int64_t level_candidates(tool_call *call, sqlite3 *db, const char *sql, int64_t file_id,
                                const char *callee, ix_sym *out, bool *first_is_decl)
{
    sqlite3_stmt *st = prep(db, sql);
    if (!st) {
        return 0;
    }
    sqlite3_bind_text(st, 1, callee, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, file_id);
    int64_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < MAX_CANDIDATES) {
        if (n == 0) {
            *first_is_decl = sqlite3_column_int(st, 15) != 0;
            if (out && !row_sym(call, st, out)) {
                break;
            }
        }
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int64_t ixt_resolve_callee(tool_call *call, sqlite3 *db, int64_t file_id, const char *callee,
                           ix_sym *out)
{
    static const char *const levels[] = {
        "SELECT " SYM_COLS ", " DECL " FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.name = ?1 AND " CALLABLE " AND s.file_id = ?2 "
        "ORDER BY " DECL ", s.exported DESC, s.start_line, s.id",
        "SELECT " SYM_COLS ", " DECL " FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.name = ?1 AND " CALLABLE " AND s.file_id IN "
        "(SELECT resolved_id FROM imports WHERE file_id = ?2 AND resolved_id IS NOT NULL) "
        "ORDER BY " DECL ", s.exported DESC, f.path, s.start_line, s.id",
        "SELECT " SYM_COLS ", " DECL " FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.name = ?1 AND " CALLABLE " "
        "ORDER BY " DECL ", s.exported DESC, f.path, s.start_line, s.id",
    };
    static const char *const definitions =
        "SELECT " SYM_COLS ", " DECL " FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.name = ?1 AND " CALLABLE " AND NOT " DECL " AND ?2 = ?2 "
        "ORDER BY s.exported DESC, f.path, s.start_line, s.id";
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        bool decl = false;
        int64_t n = level_candidates(call, db, levels[l], file_id, callee, out, &decl);
        if (!n) {
            continue;
        }
        if (decl) {
            /* only declarations here (a header's prototype): the definition lives elsewhere,
               in a file the caller does not import; take it when there is one */
            ix_sym def;
            bool d2 = false;
            int64_t m = level_candidates(call, db, definitions, file_id, callee, &def, &d2);
            if (m) {
                if (out) {
                    *out = def;
                }
                return m;
            }
        }
        return n;
    }
    if (out) {
        memset(out, 0, sizeof *out);
    }
    return 0;
}

static ix_edge *edge_push(arena *a, ix_edge **v, int64_t *cap, int64_t n)
{
    if (n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 32;
        ix_edge *nv = arena_alloc(a, (size_t)nc * sizeof *nv);
        if (!nv) {
            return NULL;
        }
        if (n) {
            memcpy(nv, *v, (size_t)n * sizeof *nv);
        }
        *v = nv;
        *cap = nc;
    }
    if (!*v) {
        return NULL;
    }
    memset(&(*v)[n], 0, sizeof **v);
    return &(*v)[n];
}

/* edge n of v from st's row (callee, line, path in columns 0 to 2); NULL when memory ran out */
static ix_edge *edge_of_row(tool_call *call, sqlite3_stmt *st, ix_edge **v, int64_t *cap, int64_t n)
{
    ix_edge *e = edge_push(call->a, v, cap, n);
    if (!e) {
        return NULL;
    }
    e->callee = col_str(call, st, 0);
    e->line = sqlite3_column_int64(st, 1);
    e->path = col_str(call, st, 2);
    return e->callee && e->path ? e : NULL;
}

int64_t ixt_callees(tool_call *call, sqlite3 *db, const ix_sym *sym, ix_edge **out, int64_t cap)
{
    *out = NULL;
    sqlite3_stmt *st = prep(db, "SELECT c.callee, c.line, f.path, c.file_id FROM calls c "
                                "JOIN files f ON f.id = c.file_id WHERE c.caller_id = ?1 "
                                "ORDER BY c.line, c.callee");
    if (!st) {
        return -1;
    }
    sqlite3_bind_int64(st, 1, sym->id);
    int64_t n = 0, vcap = 0;
    ix_edge *v = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n >= cap) {
            n++;
            continue;
        }
        ix_edge *e = edge_of_row(call, st, &v, &vcap, n);
        if (!e) {
            break;
        }
        e->candidates =
            ixt_resolve_callee(call, db, sqlite3_column_int64(st, 3), e->callee, &e->other);
        n++;
        if (tool_expired(call)) {
            break;
        }
    }
    sqlite3_finalize(st);
    *out = v;
    return n;
}

int64_t ixt_sole_definition(sqlite3 *db, const char *name)
{
    /* exactly one callable with a body (NULL byte spans count as bodies, but only a known body
       is what the declaration fallback of ixt_resolve_callee picks), or exactly one callable */
    sqlite3_stmt *st = prep(db, "SELECT COUNT(*), MIN(s.id), "
                                "SUM(coalesce(" DECL ", 0) = 0), SUM(" DECL " = 0), "
                                "MIN(CASE WHEN " DECL " = 0 THEN s.id END) "
                                "FROM symbols s WHERE s.name = ?1 AND " CALLABLE);
    if (!st) {
        return 0;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int64_t id = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) == 1) {
            id = sqlite3_column_int64(st, 1);
        } else if (sqlite3_column_int64(st, 2) == 1 && sqlite3_column_int64(st, 3) == 1) {
            id = sqlite3_column_int64(st, 4);
        }
    }
    sqlite3_finalize(st);
    return id;
}

int64_t ixt_calling_files(tool_call *call, sqlite3 *db, const char *name, ix_callfile **out)
{
    *out = NULL;
    /* index-only over calls(callee, file_id, line); one files lookup per calling file */
    sqlite3_stmt *st = prep(db, "SELECT c.file_id, f.path, COUNT(*) FROM calls c "
                                "JOIN files f ON f.id = c.file_id WHERE c.callee = ?1 "
                                "GROUP BY c.file_id ORDER BY f.path");
    if (!st) {
        return -1;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int64_t n = 0, cap = 0;
    ix_callfile *v = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            int64_t nc = cap ? cap * 2 : 64;
            ix_callfile *nv = arena_alloc(call->a, (size_t)nc * sizeof *nv);
            if (!nv) {
                n = -1;
                break;
            }
            if (n) {
                memcpy(nv, v, (size_t)n * sizeof *nv);
            }
            v = nv;
            cap = nc;
        }
        v[n].file_id = sqlite3_column_int64(st, 0);
        v[n].path = col_str(call, st, 1);
        v[n].sites = sqlite3_column_int64(st, 2);
        if (!v[n].path) {
            n = -1;
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    *out = n > 0 ? v : NULL;
    return n;
}

static int64_t bsearch_id(const int64_t *v, int64_t n, int64_t id)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && v[lo] == id ? lo : -1;
}

bool ixt_resolve_files(tool_call *call, sqlite3 *db, const char *name, const ix_callfile *files,
                       int64_t nf, int64_t *def)
{
    /* A file without a candidate of its own resolves at level 2 by the set of candidate files
       it imports, else at level 3 (the same for all): its answer is a function of that set.
       So: the candidates' files (at most 64: a bit each), the importers of those files in one
       indexed query, and one ixt_resolve_callee per distinct set; files that hold a candidate
       are resolved themselves. */
    enum { MAX_CF = 64, MAX_SETS = 256 };
    memset(def, 0, (size_t)nf * sizeof *def);
    int64_t cf[MAX_CF], ncf = 0;
    bool direct = false; /* resolve every file itself */
    sqlite3_stmt *st =
        prep(db, "SELECT DISTINCT s.file_id FROM symbols s WHERE s.name = ?1 AND " CALLABLE
                 " ORDER BY 1");
    if (!st) {
        return false;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (ncf == MAX_CF) {
            direct = true;
            break;
        }
        cf[ncf++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    int64_t *imp = NULL, *mask = NULL, nimp = 0;
    if (!direct && ncf) {
        st = prep(db, "SELECT i.file_id, i.resolved_id FROM imports i WHERE i.resolved_id IN "
                      "(SELECT s.file_id FROM symbols s WHERE s.name = ?1 AND " CALLABLE ") "
                      "ORDER BY i.file_id");
        if (!st) {
            return false;
        }
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int64_t cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t f = sqlite3_column_int64(st, 0);
            int64_t b = bsearch_id(cf, ncf, sqlite3_column_int64(st, 1));
            if (b < 0) {
                continue;
            }
            if (!nimp || imp[nimp - 1] != f) {
                if (nimp == cap) {
                    int64_t nc = cap ? cap * 2 : 256;
                    int64_t *ni = arena_alloc(call->a, (size_t)nc * sizeof *ni);
                    int64_t *nm = arena_alloc(call->a, (size_t)nc * sizeof *nm);
                    if (!ni || !nm) {
                        sqlite3_finalize(st);
                        return false;
                    }
                    if (nimp) {
                        memcpy(ni, imp, (size_t)nimp * sizeof *ni);
                        memcpy(nm, mask, (size_t)nimp * sizeof *nm);
                    }
                    imp = ni;
                    mask = nm;
                    cap = nc;
                }
                imp[nimp] = f;
                mask[nimp++] = 0;
            }
            mask[nimp - 1] |= (int64_t)((uint64_t)1 << b);
        }
        sqlite3_finalize(st);
    }
    int64_t set_mask[MAX_SETS], set_def[MAX_SETS];
    int nsets = 0;
    for (int64_t i = 0; i < nf; i++) {
        int64_t f = files[i].file_id;
        bool own = direct || bsearch_id(cf, ncf, f) >= 0;
        int64_t m = 0;
        if (!own) {
            int64_t k = bsearch_id(imp, nimp, f);
            m = k >= 0 ? mask[k] : 0;
            int j = 0;
            while (j < nsets && set_mask[j] != m) {
                j++;
            }
            if (j < nsets) {
                def[i] = set_def[j];
                continue;
            }
        }
        ix_sym target;
        def[i] = ixt_resolve_callee(call, db, f, name, &target) ? target.id : 0;
        if (!own && nsets < MAX_SETS) {
            set_mask[nsets] = m;
            set_def[nsets++] = def[i];
        }
        if (tool_expired(call)) {
            for (int64_t r = i + 1; r < nf; r++) {
                def[r] = 0;
            }
            return false;
        }
    }
    return true;
}

int64_t ixt_callers(tool_call *call, sqlite3 *db, const ix_sym *sym, ix_edge **out, int64_t cap)
{
    *out = NULL;
    ix_callfile *files = NULL;
    int64_t nf = ixt_calling_files(call, db, sym->name, &files);
    if (nf <= 0) {
        return nf;
    }
    /* a name with one definition resolves to it from every file: no per-file resolution */
    int64_t sole = ixt_sole_definition(db, sym->name);
    if (sole && sole != sym->id) {
        return 0;
    }
    int64_t *defs = NULL;
    if (!sole) {
        defs = arena_alloc(call->a, (size_t)nf * sizeof *defs);
        if (!defs) {
            return -1;
        }
        /* false at the deadline: the files not reached resolved to nothing (a partial count,
           as before) */
        (void)ixt_resolve_files(call, db, sym->name, files, nf, defs);
    }
    sqlite3_stmt *st = prep(db, "SELECT c.line, coalesce(c.caller_id, 0) FROM calls c "
                                "WHERE c.callee = ?1 AND c.file_id = ?2 ORDER BY c.line, c.rowid");
    if (!st) {
        return -1;
    }
    int64_t n = 0, vcap = 0;
    ix_edge *v = NULL;
    for (int64_t i = 0; i < nf; i++) {
        if (!sole && defs[i] != sym->id) {
            continue;
        }
        if (n >= cap) {
            n += files[i].sites; /* counted, not stored */
            continue;
        }
        /* the sites of this file, stored while there is room */
        int64_t stored = 0;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, sym->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, files[i].file_id);
        while (n + stored < cap && sqlite3_step(st) == SQLITE_ROW) {
            ix_edge *e = edge_push(call->a, &v, &vcap, n + stored);
            if (!e) {
                break;
            }
            e->callee = sym->name;
            e->path = files[i].path;
            e->line = sqlite3_column_int64(st, 0);
            int64_t caller = sqlite3_column_int64(st, 1);
            if (caller && !ixt_sym_by_id(call, db, caller, &e->other)) {
                memset(&e->other, 0, sizeof e->other);
            }
            e->candidates = 1;
            stored++;
        }
        n += files[i].sites > stored ? files[i].sites : stored;
        if (tool_expired(call)) {
            break;
        }
    }
    sqlite3_finalize(st);
    *out = v;
    return n;
}

/* ---- rendering ---- */

/* append s cut at max code points, `…` marking a cut */
static void put_capped(buf *out, const char *s, size_t max)
{
    size_t n = strlen(s), i = 0, cps = 0;
    while (i < n && cps < max) {
        size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
        i += l ? l : 1;
        cps++;
    }
    utf8_append_repaired(out, s, i);
    if (i < n) {
        buf_puts(out, "…");
    }
}

static void put_indent(buf *out, int levels)
{
    for (int i = 0; i < levels && i < 64; i++) {
        buf_puts(out, "  ");
    }
}

void ixt_sig_line(buf *out, const ix_sym *s, int indent)
{
    put_indent(out, indent);
    const char *f = ixt_kind_filter(s->kind);
    bool fn = strcmp(f, "fn") == 0 || strcmp(f, "method") == 0;
    if (strcmp(s->kind, "macro") == 0 && s->params && s->params[0]) {
        fn = true; /* a function-like macro reads as one */
    }
    if (fn) {
        buf_puts(out, "fn ");
        if (s->is_async) {
            buf_puts(out, "async ");
        }
    } else {
        buf_puts(out, s->kind);
        buf_putc(out, ' ');
    }
    if (s->exported) {
        buf_puts(out, "pub ");
    }
    utf8_append_repaired(out, s->name, strlen(s->name));
    if (fn) {
        const char *p = s->params && s->params[0] ? s->params : "()";
        put_capped(out, p, 120);
        if (s->ret && s->ret[0] && strcmp(s->ret, "void") != 0) { /* void: returns none */
            buf_puts(out, " → ");
            put_capped(out, s->ret, 120);
        }
    } else if ((strcmp(s->kind, "const") == 0 || strcmp(s->kind, "var") == 0) && s->ret &&
               s->ret[0]) {
        buf_putc(out, ':');
        put_capped(out, s->ret, 120);
    }
    if (s->end_line > s->start_line) {
        buf_printf(out, " @L%lld-%lld", (long long)s->start_line, (long long)s->end_line);
    } else {
        buf_printf(out, " @L%lld", (long long)s->start_line);
    }
}

void ixt_handle(buf *out, const ix_sym *s)
{
    buf_printf(out, "%s#%s@L%lld", s->path, s->name, (long long)s->start_line);
}

void ixt_id(buf *out, const ix_sym *s)
{
    buf_printf(out, "%s::%s#%s", s->path, s->qname, ixt_kind_jcm(s->kind));
}

void ixt_hint(buf *out)
{
    buf_puts(out, "↳ re-target any symbol: ctx_search(action=\"symbol\", "
                  "handle=\"path#name@Lstart\")");
}

/* ---- file text ---- */

bool ixt_read_file(tool_call *call, tool_out *out, const char *relpath, const char **text,
                   size_t *len)
{
    path_status ps = PATH_OK;
    struct stat sb;
    int fd = path_open_file(call->ws->root_fd, call->ws->root_real, relpath, &sb, &ps);
    if (fd < 0) {
        tool_path_error(out, ps, relpath);
        return false;
    }
    size_t max = call->cfg->max_read_bytes ? call->cfg->max_read_bytes : ((size_t)8 << 20);
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        tool_fail(out, "file_too_large", "'%s' is larger than maxReadBytes (%zu bytes)", relpath,
                  max);
        return false;
    }
    size_t want = (size_t)sb.st_size;
    char *p = arena_alloc(call->a, want + 1);
    if (!p) {
        close(fd);
        tool_fail(out, "file_too_large", "'%s' does not fit this request's memory", relpath);
        return false;
    }
    size_t got = read_full(fd, p, want);
    close(fd);
    p[got] = 0;
    *text = p;
    *len = got;
    return true;
}

bool ixt_read_file_quiet(tool_call *call, const char *relpath, const char **text, size_t *len)
{
    tool_out scratch = {0};
    buf_init(&scratch.text, 4096);
    bool ok = ixt_read_file(call, &scratch, relpath, text, len);
    buf_release(&scratch.text);
    json_decref(scratch.structured);
    return ok;
}

int64_t ixt_line_index(arena *a, const char *text, size_t len, size_t **starts)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += text[i] == '\n';
    }
    if (len && text[len - 1] != '\n') {
        n++;
    }
    size_t *v = arena_alloc(a, (n + 1) * sizeof *v);
    if (!v) {
        return -1;
    }
    size_t k = 0;
    if (len) {
        v[k++] = 0;
    }
    for (size_t i = 0; i < len && k < n; i++) {
        if (text[i] == '\n' && i + 1 < len) {
            v[k++] = i + 1;
        }
    }
    v[n] = len;
    *starts = v;
    return (int64_t)n;
}

void ixt_put_source(buf *out, const char *s, size_t n)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    size_t i = 0, cps = 0;
    while (i < n && cps < SOURCE_WIDTH) {
        size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
        i += l ? l : utf8_invalid_len((const unsigned char *)s + i, n - i);
        cps++;
    }
    utf8_append_repaired(out, s, i);
    if (i < n) {
        buf_puts(out, "…");
    }
}

/* ---- results ---- */

void ixt_json_result(tool_call *call, tool_out *out, json_t *doc, const char *array_key)
{
    size_t max = call->cfg->max_output_bytes ? call->cfg->max_output_bytes : 131072;
    size_t keep = out->text.len; /* a note line printed before the document stays */
    json_t *arr = array_key ? json_object_get(doc, array_key) : NULL;
    for (;;) {
        buf_truncate(&out->text, keep);
        char *s = json_dumps(doc, JSON_COMPACT);
        if (!s) {
            break;
        }
        size_t n = strlen(s);
        if (keep + n <= max || !json_is_array(arr) || json_array_size(arr) == 0) {
            buf_append(&out->text, s, n);
            free(s);
            break;
        }
        free(s);
        /* drop about the overflowing share of the items at once, at least one */
        size_t items = json_array_size(arr);
        size_t drop = items * (keep + n - max) / (keep + n) + 1;
        while (drop-- && json_array_size(arr)) {
            json_array_remove(arr, json_array_size(arr) - 1);
        }
        json_object_set_new(doc, "truncated", json_true());
    }
    json_decref(out->structured);
    out->structured = doc;
}

bool ixt_path_arg(tool_call *call, tool_out *out, const char *p, const char **rel)
{
    char tmp[PATH_MAX_LEN + 1];
    if (!tool_path_arg(call, out, p, strlen(p), tmp, sizeof tmp)) {
        return false;
    }
    *rel = arena_strdup(call->a, tmp);
    if (!*rel) {
        tool_fail(out, "not_found", "out of memory for '%s'", p);
        return false;
    }
    return true;
}

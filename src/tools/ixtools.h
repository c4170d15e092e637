/* ixtools.h - what the index-backed tools share: opening the caller's index view, resolving a
 * symbol argument, and rendering symbols in the formats of tools.md (§1.8, §2.1, §2.2). */
#ifndef CTXD_TOOLS_IXTOOLS_H
#define CTXD_TOOLS_IXTOOLS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "index/index.h"
#include "tools/tool.h"

/* one symbol row, as tools need it (strings live in the call's arena) */
typedef struct ix_sym {
    int64_t id, file_id, parent_id; /* parent_id 0: none */
    const char *path, *name, *qname, *kind, *signature, *params, *ret, *lang;
    int64_t start_line, end_line;
    bool exported, is_async;
    int depth; /* nesting level (for indentation), 0 = top */
} ix_sym;

/* open the index view of the call's workspace; the note (if any) is appended to out->text
 * first. false: no index has committed yet, and out holds the "index building" answer. */
bool ixt_open(tool_call *call, tool_out *out, ix_view *v);

/* Resolve a symbol argument: bare name, `Class.method`, `relpath::name`, a handle
 * `relpath#name@Lstart`, or an id `relpath::qualified.name#kind`. file (may be NULL) restricts
 * to a path; kind (may be NULL) to a tools.md kind (fn method struct class ...). Fills up to
 * cap matches ordered by (exported desc, path, start_line); returns the total count. */
int64_t ixt_find_symbols(tool_call *call, sqlite3 *db, const char *query, const char *file,
                         const char *kind, ix_sym *out, int cap);
/* the symbols of one file in source order (depth filled); returns count, -1 when the file is
 * not indexed */
int64_t ixt_file_symbols(tool_call *call, sqlite3 *db, const char *relpath, ix_sym **out);

/* tools.md §2.1 signature line: `<indent>fn [async ][pub ]name(params) → Ret @Lstart-end` */
void ixt_sig_line(buf *out, const ix_sym *s, int indent);
/* handle `relpath#name@Lstart` and id `relpath::qname#kind` (jCodeMunch kinds) */
void ixt_handle(buf *out, const ix_sym *s);
void ixt_id(buf *out, const ix_sym *s);
/* the hint line of §1.8 */
void ixt_hint(buf *out);
/* map a storage kind to the tools.md filter kind ("fn" "method" "struct" ...) and back */
const char *ixt_kind_filter(const char *storage_kind);

/* ---- additions (tools-search) ----
 * ixt_open closes the view itself when it returns false; after true, the caller closes it
 * (index_view_close). Index-style tools that must answer with one JSON document drop the note
 * from the text and carry v->note as "index_note" instead.
 * Conventions: every render helper appends exactly one line WITHOUT the final newline; the
 * `indent` of ixt_sig_line counts nesting levels (two spaces each), callers pass s->depth (plus
 * one for a line under a file heading). */

/* the jCodeMunch kind of a storage kind, used in ids and index-style filters: function, method,
 * class (class struct union interface trait enum impl module), constant, type */
const char *ixt_kind_jcm(const char *storage_kind);
/* does a storage kind pass a tools.md filter kind (NULL or "all" passes everything) */
bool ixt_kind_is(const char *storage_kind, const char *filter);

/* one symbol by id; false when it is gone */
bool ixt_sym_by_id(tool_call *call, sqlite3 *db, int64_t id, ix_sym *out);
/* the innermost symbol of a file enclosing line (fn/method preferred over containers);
 * false when none */
bool ixt_sym_at(tool_call *call, sqlite3 *db, const char *relpath, int64_t line, ix_sym *out);
/* number of symbols in the index (the no_such_symbol message) */
int64_t ixt_symbol_count(sqlite3 *db);
/* the no_such_symbol failure of tools.md §2.2 */
err ixt_fail_no_symbol(tool_out *out, sqlite3 *db, const char *name);

/* Resolve a call edge (tools.md §3): the callee name called from file_id, among callable
 * definitions (fn method macro class struct): in the same file, else in the files that file
 * imports (imports.resolved_id), else anywhere. Definitions with a body come before bodiless
 * declarations; a level holding only declarations (a C header's prototype) gives way to the
 * definitions of that name anywhere, when there are any. Returns the number of candidates at
 * the deciding level (0: unresolved); out receives the first of them (exported desc, path,
 * line), so 1 means resolved. */
int64_t ixt_resolve_callee(tool_call *call, sqlite3 *db, int64_t file_id, const char *callee,
                           ix_sym *out);

/* a call edge seen from one end: the call site and the symbol at the other end */
typedef struct ix_edge {
    const char *path;   /* file of the call site */
    int64_t line;       /* line of the call site */
    const char *callee; /* the name as called */
    ix_sym other;       /* callers: the enclosing caller (id 0: file level);
                           callees: the resolved definition (id 0: unresolved) */
    int64_t candidates; /* callees: ixt_resolve_callee's count */
} ix_edge;
/* the calls made inside sym's body (by caller_id), in line order, each resolved; count, -1 on
 * error; at most cap (total still counted) */
int64_t ixt_callees(tool_call *call, sqlite3 *db, const ix_sym *sym, ix_edge **out, int64_t cap);
/* the call sites whose callee name resolves to sym, in (path, line) order; count, -1 on error;
 * at most cap stored (total still counted: the rows past cap are counted per calling file, not
 * read) */
int64_t ixt_callers(tool_call *call, sqlite3 *db, const ix_sym *sym, ix_edge **out, int64_t cap);
/* the definition every call of name resolves to whichever file calls it (ixt_resolve_callee):
 * the single callable with a body (declarations beside it resolve to it), or the single
 * callable; 0 when the resolution depends on the calling file (or there is none) */
int64_t ixt_sole_definition(sqlite3 *db, const char *name);
/* the files that call name (calls.callee), in path order, with their number of call sites
 * (index-only over calls(callee, file_id, line)); count, -1 on error */
typedef struct ix_callfile {
    int64_t file_id;
    const char *path;
    int64_t sites;
} ix_callfile;
int64_t ixt_calling_files(tool_call *call, sqlite3 *db, const char *name, ix_callfile **out);
/* def[i] = the definition a call of name in files[i] resolves to (ixt_resolve_callee; 0: none),
 * for all nf files at once: files without a candidate of their own are resolved once per
 * distinct set of candidate files they import. false on error or at the deadline (the files
 * not reached are 0) */
bool ixt_resolve_files(tool_call *call, sqlite3 *db, const char *name, const ix_callfile *files,
                       int64_t nf, int64_t *def);

/* a workspace file's bytes, read through the root descriptor (never followed outside the
 * root, deny-list applied), into the arena; false with out filled (isError) on failure. At
 * most maxReadBytes. */
bool ixt_read_file(tool_call *call, tool_out *out, const char *relpath, const char **text,
                   size_t *len);
/* the same for a tool that goes on without the file (a snippet, a hash check): false when it
 * cannot be read now, and nothing reported */
bool ixt_read_file_quiet(tool_call *call, const char *relpath, const char **text, size_t *len);
/* append one source line (without its terminator): invalid UTF-8 repaired, trailing `\r` and
 * whitespace trimmed, longer than 150 code points cut there with `…` */
void ixt_put_source(buf *out, const char *s, size_t n);
/* the byte offsets of every line start, plus one entry = len at the end (arena), so line i
 * (1-based) is text[starts[i-1] .. starts[i]) with its `\n`; returns the count of lines (a
 * final newline does not start a line), -1 when out of memory */
int64_t ixt_line_index(arena *a, const char *text, size_t len, size_t **starts);
/* a result that is one JSON document (index-style tools, format=json): the compact dump is
 * the text and the same object is structuredContent (doc is taken). When the text would pass
 * maxOutputBytes, trailing items of the array doc[array_key] are dropped until it fits and the
 * document says "truncated": true (tools.md §1.5). */
void ixt_json_result(tool_call *call, tool_out *out, json_t *doc, const char *array_key);
/* Start (or join) an index build of the call's workspace; with wait, follow it until it
 * commits or the deadline is near (then the status is the answer). Writes the text and
 * structuredContent of ctx_index build (tools.md §3.5); final (may be NULL) receives the last
 * status seen. ERR_QUOTA_EXCEEDED when the tenant is over its storage quota. (index_tool.c) */
err ixt_build(tool_call *call, tool_out *out, bool full, const char *subpath, bool wait,
              ix_status *final);
/* a path argument as a workspace-relative path (arena); false with out filled on refusal */
bool ixt_path_arg(tool_call *call, tool_out *out, const char *p, const char **rel);
#endif

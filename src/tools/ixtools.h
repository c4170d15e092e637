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
#endif

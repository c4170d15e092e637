/* resolve.h - import resolution: which workspace file an import names (imports.resolved_id).
 *
 * A resolver holds the indexed paths (id, path) with lookups by exact path, by base name (for
 * "any file whose path ends with /<x>") and by directory (Go packages). Rules per language:
 *   javascript/typescript/tsx  './x' '../x': x, x.ts .tsx .js .jsx .mjs .cjs, x/index.*;
 *                              a './x.js' written for TypeScript also finds x.ts / x.tsx
 *   python      dotted 'a.b' -> a/b.py or a/b/__init__.py (from the root, else any path ending
 *               so); leading dots are relative to the importing file's package
 *   c/cpp       relative to the including file's directory, then the root, then any file whose
 *               path ends with /<include> (shortest path, then byte order)
 *   go          the longest suffix of the import path that is an indexed directory: its first
 *               .go file (non-test files first)
 *   rust        `x` (mod x) -> x.rs or x/mod.rs beside the file (or in its stem's directory);
 *               crate::a::b -> <crate src>/a/b.rs, a/b/mod.rs, a.rs, a/mod.rs;
 *               self:: and super:: relative to the module's directory
 *   java/kotlin/scala  a.b.C -> a path ending a/b/C.<ext> (a trailing .* or member dropped)
 *   ruby        require_relative-style './x' or 'x' -> x.rb beside the file, then lib/x.rb, x.rb
 *   php         './x.php' relative to the file
 * The result never leaves the workspace: a relative path climbing above the root resolves to
 * nothing. */
#ifndef CTXD_INDEX_RESOLVE_H
#define CTXD_INDEX_RESOLVE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ix_resolver ix_resolver;

ix_resolver *ix_resolver_new(void);
/* add one file (path relative, '/'-separated); false when out of memory */
bool ix_resolver_add(ix_resolver *r, int64_t id, const char *path);
/* all files of an index database */
ix_resolver *ix_resolver_load(sqlite3 *db);
void ix_resolver_free(ix_resolver *r);

/* the files.id the import names, or 0 */
int64_t ix_resolve(ix_resolver *r, const char *from_path, const char *lang, const char *source);

#endif

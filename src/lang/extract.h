/* extract.h - what the index learns from one file: definitions, imports, call sites, routes.
 *
 * x_extract() parses a buffer with the language's tree-sitter grammar and runs the language's
 * query (queries/<lang>.scm). The query is ours, and its capture names are the contract:
 *
 *   @def.<kind>   the whole definition node; kinds: fn method class struct union interface trait
 *                 enum enumerator type const var field macro impl module (the storage kinds; tools
 *                 map them onto their filters)
 *   @name         the definition's name node (required with @def.*)
 *   @params       optional: the parameter list node (text kept, whitespace collapsed)
 *   @ret          optional: the return type node
 *   @body         optional: the body node; the signature is the text from the definition's start
 *                 up to the body (without a @body: the `body` field of the node if it has one,
 *                 else up to the first `{` or end of the first line)
 *   @call         a call site node, with @callee: the called name (for `a.b.f()` the node `f`)
 *   @import       an import/include/use node, with @source: the module/path as written
 *   @export       optional, on a definition pattern: the definition is exported
 *
 * Predicates #eq?, #not-eq?, #match?, #not-match? and #any-of? are evaluated. Containers come
 * from nesting: a definition inside another's byte range has it as parent, and its qualified
 * name is parent.qname + "." + name. A call's caller is the innermost fn/method (else any
 * definition) enclosing it, or -1 at file level. Whether a definition is exported follows the
 * language's rule (lang.c) unless the pattern captured @export.
 *
 * Everything returned lives in the arena; one x_parser per thread (it keeps a TSParser and the
 * compiled queries). Parsing stops when *cancel becomes true or after the timeout. */
#ifndef CTXD_LANG_EXTRACT_H
#define CTXD_LANG_EXTRACT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "lang/lang.h"

#define X_SIG_MAX 240    /* signature text cap (bytes, cut at a UTF-8 boundary, then `…`) */
#define X_PARAMS_MAX 120 /* params cap, tools.md §2.1 */

typedef struct x_symbol {
    const char *name;
    const char *qname; /* container-qualified: Class.method */
    const char *kind;  /* one of the kinds above (static string) */
    int parent;        /* index into syms, or -1 */
    uint32_t start_line, end_line; /* 1-based, inclusive */
    uint32_t start_byte, end_byte;
    const char *signature; /* declaration text up to the body, whitespace collapsed */
    const char *params;    /* "(const char *t)" or NULL */
    const char *ret;       /* "int" or NULL */
    bool is_async;
    bool exported;
} x_symbol;

typedef struct x_import {
    const char *source; /* as written, quotes removed: "./util", "os.path", "stdio.h" */
    uint32_t line;
} x_import;

typedef struct x_call {
    int caller; /* index into syms, or -1 (file level) */
    const char *callee;
    uint32_t line;
} x_call;

typedef struct x_route {
    const char *method;    /* GET POST PUT PATCH DELETE HEAD OPTIONS ANY */
    const char *path;      /* "/users/:id" as written (with a class/blueprint prefix applied) */
    const char *handler;   /* may be NULL */
    const char *framework; /* express flask fastapi django spring rails nextjs go actix axum */
    uint32_t line;
} x_route;

typedef struct x_file {
    lang_id lang;
    x_symbol *syms; /* in source order (start_byte, then outer before inner) */
    size_t n_syms;
    x_import *imports;
    size_t n_imports;
    x_call *calls;
    size_t n_calls;
    x_route *routes;
    size_t n_routes;
    uint32_t lines;
    bool had_errors; /* the tree has ERROR nodes (results are still used) */
} x_file;

typedef struct x_parser x_parser;

x_parser *x_parser_new(void);
void x_parser_free(x_parser *p);

/* false only when the file could not be parsed at all (timeout, cancel, out of memory): `why`
 * then says which. relpath is used for route rules that depend on the path (Next.js, Rails). */
bool x_extract(x_parser *p, lang_id lang, const char *relpath, const char *src, size_t n,
               arena *a, const atomic_bool *cancel, x_file *out, char *why, size_t why_len);

/* routes by framework conventions (routes.c), for any file (also those without a grammar) */
void x_routes(const char *relpath, lang_id lang, const char *src, size_t n, arena *a, x_file *out);

#endif

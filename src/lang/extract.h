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
 *                 else the node's text up to a `{` that ends a line); a body that ends after the
 *                 definition node (a sibling) extends the definition to its end
 *   @call         a call site node, with @callee: the called name (for `a.b.f()` the node `f`)
 *   @import       an import/include/use node, with @source: the module/path as written
 *   @export       optional, on a definition pattern: the definition is exported
 *   @scope        optional: a container name that qualifies the definition although it does not
 *                 enclose it (Go's receiver type: qname T.M); a fn with a scope becomes a method
 *
 * Predicates #eq?, #not-eq?, #match?, #not-match? and #any-of? are evaluated. Containers come
 * from nesting: a definition inside another's byte range has it as parent, and its qualified
 * name is parent.qname + "." + name. A call's caller is the innermost fn/method (else any
 * definition) enclosing it, or -1 at file level. Whether a definition is exported follows the
 * language's rule (lang.c) unless the pattern captured @export.
 *
 * Engine rules (extract.c) the queries rely on:
 * - Patterns are tried in file order; when several match the same definition node with the same
 *   name, the first pattern wins (write specific patterns before general ones).
 * - C/C++: when @name is a declarator, the name is the identifier inside it (through pointer,
 *   array, init, parenthesized and function declarators), a `A::B::f` name has the scope A.B
 *   (qname A.B.f, kind method), and a var/field whose declarator declares a function (not a
 *   pointer to one) is a prototype: kind fn. Params default to that function declarator's list.
 * - Containers (possible parents) are fn method class struct union interface trait enum type
 *   impl module definitions; a var/const/field/macro/enumerator contains nothing. A macro
 *   has no parent (the preprocessor knows no scopes).
 * - A fn directly inside a class/struct/union/interface/trait/enum/impl is a method. A
 *   struct/union/enum/class tag inside a typedef is the typedef's sibling. Vars, consts and
 *   body-less function declarations inside a function are locals and dropped.
 * - start_line is the line of the name (as ctags reports it: decorators or a return type on the
 *   lines before do not move it); start_byte/end_byte/end_line are the definition node's.
 * - exported: C/C++ no `static` before the name (members as their container, macros always);
 *   Go initial upper case; Python no leading `_` (dunders count as exported); JS/TS inside an
 *   export statement (members: container exported, not private/protected/#name); Rust `pub`,
 *   or a member of a trait or of a trait impl; Java/C# `public` or an interface member;
 *   PHP/Scala not private/protected; Kotlin not private/protected/internal; Swift not
 *   private/fileprivate (internal, the default, counts as exported); Ruby/Bash always; Lua not
 *   `local`. Anything nested in a function is not exported; enumerators follow their enum.
 * - is_async: the word `async` in the signature (Kotlin: `suspend`).
 * - x_extract fills routes by running x_routes() (routes.c) on the same buffer.
 * - A C/C++ file made only of preprocessor lines skips tree-sitter (cpp_fast.c) with an
 *   identical result.
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
#define X_NAME_MAX 256   /* name/callee cap (bytes) */
#define X_MAX_SYMS 200000
#define X_MAX_CALLS 200000
#define X_MAX_IMPORTS 50000
#define X_PARSE_BUDGET_MS 10000 /* per file: parse + query */

typedef struct x_symbol {
    const char *name;
    const char *qname;             /* container-qualified: Class.method */
    const char *kind;              /* one of the kinds above (static string) */
    int parent;                    /* index into syms, or -1 */
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
    bool routes_truncated; /* more than the per-file cap (routes.c), or out of arena */
    uint32_t lines;
    bool had_errors; /* the tree has ERROR nodes (results are still used) */
    bool truncated;  /* a cap (X_MAX_*) dropped symbols, calls or imports */
} x_file;

typedef struct x_parser x_parser;

x_parser *x_parser_new(void);
void x_parser_free(x_parser *p);
/* fast paths (default on): a C/C++ file made only of preprocessor lines is read by a line
 * scanner (cpp_fast.c) with the same result as a parse; off, every file is parsed (tests) */
void x_parser_set_fast_paths(x_parser *p, bool on);
/* the time one file may take (parse + query), in ms; 0 restores X_PARSE_BUDGET_MS */
void x_parser_set_budget(x_parser *p, uint32_t ms);

/* false only when the file could not be parsed at all (timeout, cancel, out of memory): `why`
 * then says which. relpath is used for route rules that depend on the path (Next.js, Rails). */
bool x_extract(x_parser *p, lang_id lang, const char *relpath, const char *src, size_t n, arena *a,
               const atomic_bool *cancel, x_file *out, char *why, size_t why_len);

/* whether the language's query exists and compiles (false with the reason in `why`); tests use
 * it to catch a broken .scm file, which x_extract otherwise logs once and treats as absent */
bool x_query_check(lang_id lang, char *why, size_t why_len);

/* routes by framework conventions (routes.c), for any file (also those without a grammar) */
void x_routes(const char *relpath, lang_id lang, const char *src, size_t n, arena *a, x_file *out);
bool x_routes_ready(void); /* the route patterns compiled (false only through a bug in routes.c) */

#endif

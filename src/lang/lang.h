/* lang.h - the languages ctxd parses: detection by file name and first line, and each
 * language's tree-sitter grammar and extraction query.
 *
 * The table (lang.c) is the one place a language is added: its id, its name as tools print and
 * filter it ("c", "python", "typescript", ...), its file name rules, its grammar function and its
 * query (src/lang/queries/<name>.scm, embedded at build time). Files of other languages are
 * handed to Universal Ctags (ctags.h) when ctags knows them. */
#ifndef CTXD_LANG_LANG_H
#define CTXD_LANG_LANG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct TSLanguage TSLanguage;

typedef enum {
    LANG_NONE = 0,
    LANG_C,
    LANG_CPP,
    LANG_PYTHON,
    LANG_JAVASCRIPT,
    LANG_TYPESCRIPT,
    LANG_TSX,
    LANG_GO,
    LANG_RUST,
    LANG_JAVA,
    LANG_CSHARP,
    LANG_RUBY,
    LANG_PHP,
    LANG_BASH,
    LANG_KOTLIN,
    LANG_SWIFT,
    LANG_SCALA,
    LANG_LUA,
    LANG__COUNT
} lang_id;

/* by extension / file name, then by a `#!` first line (head: the first bytes, may be NULL; a
 * `.h` whose first 64 KiB show C++ (namespace, template, class, access specifiers, std::) is
 * C++) */
lang_id lang_detect(const char *relpath, const char *head, size_t n);
const char *lang_name(lang_id l);       /* "c", "cpp", "python", ...; "" for LANG_NONE */
lang_id lang_by_name(const char *name); /* LANG_NONE when unknown */
const TSLanguage *lang_grammar(lang_id l);
const char *lang_query(lang_id l); /* the extraction query text (queries/<name>.scm) */

#endif

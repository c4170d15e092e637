/* glob.h - glob matching for caller globs (ctx_glob, include/exclude) and ignore files.
 *
 * Syntax: `*` any run of characters but `/`; `?` one character but `/`; `[...]` a class
 * (`[!...]`/`[^...]` negated, ranges, `\` escapes, POSIX `[:alpha:]` etc.); `**` as a whole path
 * segment matches zero or more directories (leading, trailing or between two slashes, as in
 * gitignore(5)); `{a,b}` alternatives
 * (nested allowed), matched in place: a pattern whose alternatives would multiply past
 * GLOB_MAX_ALTERNATIVES is refused; `\x` matches x literally.
 *
 * Matching never backtracks exponentially: it is git's wildmatch algorithm with its early abort
 * (a `*` that failed to match the rest of the text at every position makes every outer `*` fail
 * too), so a crafted pattern from a repository cannot stall a walk. Case-sensitive, byte-wise;
 * multi-byte UTF-8 characters count as several for `?` (as in git). */
#ifndef CTXD_WS_GLOB_H
#define CTXD_WS_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#define GLOB_MAX_PATTERN 1024
#define GLOB_MAX_ALTERNATIVES 1000

/* match one brace-free pattern against text; `*`/`?` do not cross `/`, `**` segments do */
bool wildmatch(const char *pat, size_t plen, const char *text, size_t tlen);

typedef struct glob_pat glob_pat;

/* Compile a caller glob. A pattern without `/` matches the last path component at any depth
 * (`*.ts` matches `a/b.ts`); one with `/` matches the whole relative path (a leading `/` is
 * dropped). Returns NULL with a reason (`unbalanced '{'`, `too many alternatives`, `pattern
 * too long`, `unterminated character class`, `empty pattern`) in why. */
glob_pat *glob_compile(const char *pat, size_t len, char *why, size_t why_len);
bool glob_match(const glob_pat *g, const char *path, size_t len);
void glob_free(glob_pat *g);

/* A comma-separated list of globs (commas inside braces do not split: `*.{c,h},*.py`):
 * matches when any member matches. NULL with a reason on error. */
typedef struct glob_list glob_list;
glob_list *glob_list_compile(const char *spec, size_t len, char *why, size_t why_len);
bool glob_list_match(const glob_list *l, const char *path, size_t len);
void glob_list_free(glob_list *l);

#endif

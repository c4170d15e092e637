/* ignore.h - one ignore file's rules (.gitignore, .ignore, .ctxdignore, .git/info/exclude).
 *
 * Semantics are git's (gitignore(5)): blank lines and `#` comments skipped (`\#` escapes);
 * trailing unescaped spaces trimmed; `!` negates (`\!` escapes); a trailing `/` makes the rule
 * match directories only; a rule with a `/` at the start or in the middle is anchored to the
 * file's own directory, otherwise it matches a name at any depth below it; `**` as in glob.h;
 * the LAST matching rule of a file decides. Combining files (precedence between classes and
 * depths, not descending into ignored directories) is the walker's job, not this module's.
 * Rule files are repository content: lines longer than IGNORE_MAX_LINE and files with more than
 * IGNORE_MAX_RULES rules are cut (the rest ignored), and matching is linear-ish (glob.h). */
#ifndef CTXD_WS_IGNORE_H
#define CTXD_WS_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#define IGNORE_MAX_LINE 4096
#define IGNORE_MAX_RULES 10000

typedef enum { IGNORE_NONE = 0, IGNORE_EXCLUDED = 1, IGNORE_INCLUDED = 2 } ignore_verdict;

typedef struct ignore_rules ignore_rules;

/* parse the content of one rule file; NULL only when out of memory */
ignore_rules *ignore_rules_parse(const char *content, size_t len);
/* number of rules kept (for tests and diagnostics) */
size_t ignore_rules_count(const ignore_rules *r);
/* rel: the path relative to the rule file's directory, `/`-separated, no leading `/`;
 * is_dir: whether the path names a directory. Returns the verdict of the last matching rule. */
ignore_verdict ignore_rules_match(const ignore_rules *r, const char *rel, size_t len, bool is_dir);
void ignore_rules_free(ignore_rules *r);

#endif

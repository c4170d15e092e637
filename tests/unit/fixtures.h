/* fixtures.h - the unit tests' fixtures: the files under tests/fixtures/ (a path and its
 * content, found whether the test binary runs from the repository root or from a build
 * directory, or wherever $CTXD_FIXTURES names), and trees a test writes itself in a fresh
 * temporary directory. Every function asserts with Criterion, so it is called from a test. */
#ifndef CTXD_TESTS_FIXTURES_H
#define CTXD_TESTS_FIXTURES_H

#include <stddef.h>

/* tests/fixtures/<rel>, in a static buffer valid until the next call; fails the test when the
 * fixture is nowhere to be found */
const char *fixture_path(const char *rel);
/* the content of tests/fixtures/<rel> (malloc, NUL-terminated, at most 1 MiB - 1 bytes read),
 * its length in *n */
char *fixture_slurp(const char *rel, size_t *n);
/* a new directory /tmp/ctxd-<name>-XXXXXX, its real path into out */
void fixture_tmpdir(const char *name, char *out, size_t cap);
/* write content to dir/rel, creating the missing directories on the way (mode 0700) */
void fixture_write(const char *dir, const char *rel, const char *content);

#endif

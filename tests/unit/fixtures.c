/* fixtures.c - see fixtures.h. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *fixture_path(const char *rel)
{
    static const char *const roots[] = {"tests/fixtures", "../tests/fixtures",
                                        "../../tests/fixtures"};
    static char pathbuf[1024];
    const char *env = getenv("CTXD_FIXTURES");
    struct stat sb;
    if (env) {
        snprintf(pathbuf, sizeof pathbuf, "%s/%s", env, rel);
        return pathbuf;
    }
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        snprintf(pathbuf, sizeof pathbuf, "%s/%s", roots[i], rel);
        if (stat(pathbuf, &sb) == 0) {
            return pathbuf;
        }
    }
    cr_assert_fail("fixture '%s' not found (run from the repository or build directory)", rel);
    return NULL;
}

char *fixture_slurp(const char *rel, size_t *n)
{
    const char *path = fixture_path(rel);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open '%s'", path);
    char *data = malloc(1 << 20);
    cr_assert_not_null(data);
    *n = fread(data, 1, (1 << 20) - 1, f);
    data[*n] = '\0';
    fclose(f);
    return data;
}

void fixture_tmpdir(const char *name, char *out, size_t cap)
{
    char t[256];
    snprintf(t, sizeof t, "/tmp/ctxd-%s-XXXXXX", name);
    cr_assert_not_null(mkdtemp(t), "cannot create '%s'", t);
    char *real = realpath(t, NULL);
    cr_assert_not_null(real);
    int n = snprintf(out, cap, "%s", real);
    free(real);
    cr_assert(n > 0 && (size_t)n < cap, "'%s': path too long", t);
}

void fixture_write(const char *dir, const char *rel, const char *content)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    cr_assert(n > 0 && (size_t)n < sizeof path, "'%s/%s': path too long", dir, rel);
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        cr_assert(mkdir(path, 0700) == 0 || errno == EEXIST, "cannot create '%s'", path);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write '%s'", path);
    fputs(content, f);
    fclose(f);
}

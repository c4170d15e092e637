/* test_cpp_fast.c - the preprocessor-only fast path (src/lang/cpp_fast.c) against tree-sitter.
 *
 * The fast path must give exactly what the parse gives: every symbol field (name, qname, kind,
 * parent, spans, signature, params, ret, flags) and every import, for the fixtures under
 * tests/fixtures/lang/cpp_fast/ and, when CTXD_CPP_FAST_TREE names directories (the kernel's
 * include/ and drivers/gpu/drm/amd/include/asic_reg, say), for every .h file in them. It must
 * also refuse the files it cannot read alone (a declaration, a quoted comment opener, no final
 * newline) so that they are parsed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "lang/cpp_fast.h"
#include "lang/extract.h"
#include "lang/lang.h"

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)sz + 1);
    *n = fread(data, 1, (size_t)sz, f);
    data[*n] = '\0';
    fclose(f);
    return data;
}

static const char *fixture_dir(void)
{
    static const char *const roots[] = {"tests/fixtures/lang/cpp_fast",
                                        "../tests/fixtures/lang/cpp_fast",
                                        "../../tests/fixtures/lang/cpp_fast"};
    struct stat sb;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (stat(roots[i], &sb) == 0) {
            return roots[i];
        }
    }
    cr_assert_fail("fixtures lang/cpp_fast not found (run from the repository or build dir)");
    return NULL;
}

static bool str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* "" when both results are identical, else what differs first */
static void diff(const x_file *f, const x_file *t, char *why, size_t len)
{
    why[0] = '\0';
    if (f->had_errors != t->had_errors || f->truncated != t->truncated) {
        snprintf(why, len, "flags: parse had_errors %d truncated %d", t->had_errors, t->truncated);
        return;
    }
    if (f->n_syms != t->n_syms || f->n_imports != t->n_imports || t->n_calls != 0) {
        snprintf(why, len,
                 "counts: fast %zu syms %zu imports, parse %zu syms %zu imports %zu calls",
                 f->n_syms, f->n_imports, t->n_syms, t->n_imports, t->n_calls);
        return;
    }
    for (size_t i = 0; i < f->n_syms; i++) {
        const x_symbol *a = &f->syms[i], *b = &t->syms[i];
        if (!str_same(a->name, b->name) || !str_same(a->qname, b->qname) ||
            strcmp(a->kind, b->kind) != 0 || a->parent != b->parent ||
            a->start_line != b->start_line || a->end_line != b->end_line ||
            a->start_byte != b->start_byte || a->end_byte != b->end_byte ||
            !str_same(a->signature, b->signature) || !str_same(a->params, b->params) ||
            !str_same(a->ret, b->ret) || a->is_async != b->is_async || a->exported != b->exported) {
            snprintf(why, len,
                     "symbol %zu: fast %s L%u-%u [%u,%u) sig '%s' params '%s' | parse %s %s L%u-%u "
                     "[%u,%u) sig '%s' params '%s' parent %d exp %d",
                     i, a->name, a->start_line, a->end_line, a->start_byte, a->end_byte,
                     a->signature, a->params ? a->params : "-", b->kind, b->name, b->start_line,
                     b->end_line, b->start_byte, b->end_byte, b->signature,
                     b->params ? b->params : "-", b->parent, b->exported);
            return;
        }
    }
    for (size_t i = 0; i < f->n_imports; i++) {
        if (!str_same(f->imports[i].source, t->imports[i].source) ||
            f->imports[i].line != t->imports[i].line) {
            snprintf(why, len, "import %zu: fast %s L%u, parse %s L%u", i, f->imports[i].source,
                     f->imports[i].line, t->imports[i].source, t->imports[i].line);
            return;
        }
    }
}

/* 1: fast path taken and identical, 0: not taken, -1: taken and different (why says how) */
static int compare(x_parser *xp, lang_id lang, const char *src, size_t n, char *why, size_t len)
{
    arena a;
    arena_init(&a, (size_t)1 << 30);
    x_file fast, parsed;
    memset(&fast, 0, sizeof fast);
    int rc = 0;
    if (x_cpp_fast(src, n, &a, &fast)) {
        x_parser_set_fast_paths(xp, false);
        bool ok = x_extract(xp, lang, "x.h", src, n, &a, NULL, &parsed, why, len);
        x_parser_set_fast_paths(xp, true);
        cr_assert(ok, "parse failed: %s", why);
        diff(&fast, &parsed, why, len);
        rc = why[0] ? -1 : 1;
    }
    arena_release(&a);
    return rc;
}

static int compare_file(x_parser *xp, lang_id lang, const char *path, char *why, size_t len)
{
    size_t n;
    char *src = read_all(path, &n);
    cr_assert_not_null(src, "cannot read '%s'", path);
    int rc = compare(xp, lang, src, n, why, len);
    free(src);
    return rc;
}

Test(cpp_fast, fixtures_match_the_parse)
{
    x_parser *xp = x_parser_new();
    char path[1024], why[2048];
    static const char *const taken[] = {"regs.h", "crlf.h"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fixture_dir(), taken[i]);
        for (int l = 0; l < 2; l++) {
            int rc = compare_file(xp, l ? LANG_CPP : LANG_C, path, why, sizeof why);
            cr_assert_eq(rc, 1, "%s (%s): %s", taken[i], l ? "cpp" : "c",
                         rc == 0 ? "fast path not taken" : why);
        }
    }
    static const char *const refused[] = {"not_only_cpp.h", "quoted_comment.h", "no_newline.h",
                                          "comment_blank.h"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fixture_dir(), refused[i]);
        cr_assert_eq(compare_file(xp, LANG_C, path, why, sizeof why), 0, "%s: taken", refused[i]);
    }
    x_parser_free(xp);
}

Test(cpp_fast, regs_fixture_content)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/regs.h", fixture_dir());
    size_t n = 0;
    char *src = read_all(path, &n);
    cr_assert_not_null(src);
    arena a;
    arena_init(&a, (size_t)64 << 20);
    x_file f;
    memset(&f, 0, sizeof f);
    cr_assert(x_cpp_fast(src, n, &a, &f));
    cr_assert_eq(f.n_imports, 3);
    cr_assert_str_eq(f.imports[0].source, "linux/types.h");
    cr_assert_str_eq(f.imports[1].source, "local/defs.h");
    cr_assert_str_eq(f.imports[2].source, "CONFIG_HEADER");
    bool seen_long = false, seen_f = false;
    for (size_t i = 0; i < f.n_syms; i++) {
        if (strcmp(f.syms[i].name, "LONG_ONE") == 0) {
            seen_long = true;
            cr_assert_eq(f.syms[i].end_line, f.syms[i].start_line + 2);
        }
        if (strcmp(f.syms[i].name, "F") == 0) {
            seen_f = true;
            cr_assert_str_eq(f.syms[i].params, "(a, b)");
            cr_assert_str_eq(f.syms[i].signature, "#define F(a, b) ((a) + (b))");
        }
    }
    cr_assert(seen_long && seen_f);
    arena_release(&a);
    free(src);
}

static size_t bytes_taken, bytes_total;

static void walk(x_parser *xp, const char *dir, size_t *taken, size_t *total, size_t *bad)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    char path[4096], why[2048];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            walk(xp, path, taken, total, bad);
            continue;
        }
        size_t nl = strlen(e->d_name);
        if (!S_ISREG(sb.st_mode) || nl < 2 || strcmp(e->d_name + nl - 2, ".h") != 0) {
            continue;
        }
        (*total)++;
        bytes_total += (size_t)sb.st_size;
        int rc = compare_file(xp, LANG_C, path, why, sizeof why);
        if (rc == 1) {
            (*taken)++;
            bytes_taken += (size_t)sb.st_size;
        } else if (rc < 0) {
            if (*bad < 10) {
                cr_log_error("%s: %s", path, why);
            }
            (*bad)++;
        }
    }
    closedir(d);
}

/* CTXD_CPP_FAST_TREE="dir1:dir2": every .h under them (skipped when unset) */
Test(cpp_fast, real_headers_match_the_parse, .timeout = 600)
{
    const char *env = getenv("CTXD_CPP_FAST_TREE");
    if (!env || !*env) {
        cr_skip_test("CTXD_CPP_FAST_TREE not set");
    }
    x_parser *xp = x_parser_new();
    size_t taken = 0, total = 0, bad = 0;
    char *dirs = strdup(env);
    for (char *save = NULL, *tok = strtok_r(dirs, ":", &save); tok;
         tok = strtok_r(NULL, ":", &save)) {
        walk(xp, tok, &taken, &total, &bad);
    }
    free(dirs);
    cr_log_info("cpp_fast: %zu of %zu headers taken (%zu of %zu MB), %zu different", taken, total,
                bytes_taken >> 20, bytes_total >> 20, bad);
    cr_assert_eq(bad, 0, "%zu headers differ (see the log)", bad);
    x_parser_free(xp);
}

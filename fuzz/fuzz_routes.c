/* fuzz_routes.c - libFuzzer target for x_routes (src/lang/routes.c), the route scanner that
 * reads every indexed file of the frameworks' languages.
 *
 * Input: one selector byte (which language and which path the file has: Express, Next.js
 * pages and app router, Flask/FastAPI/Django, Spring in Java and Kotlin, Rails' routes.rb, Go,
 * Rust), then the file content. Besides crashes and slow inputs (run with -timeout), it checks
 * what the index relies on: at most the per-file cap, every route with a known framework, an
 * upper-case method, a path, and a line inside the file. Build: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "lang/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    lang_id lang;
    const char *path;
} cases[] = {
    {LANG_JAVASCRIPT, "server.js"},
    {LANG_TYPESCRIPT, "pages/api/users/[id].ts"},
    {LANG_TYPESCRIPT, "app/(shop)/orders/[id]/route.ts"},
    {LANG_PYTHON, "app/urls.py"},
    {LANG_JAVA, "src/UserController.java"},
    {LANG_KOTLIN, "src/UserController.kt"},
    {LANG_RUBY, "config/routes.rb"},
    {LANG_GO, "main.go"},
    {LANG_RUST, "src/main.rs"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t k = data[0] % (sizeof cases / sizeof cases[0]);
    const char *src = (const char *)data + 1;
    size_t n = size - 1;
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) {
        lines += src[i] == '\n';
    }
    arena a;
    arena_init(&a, 64u << 20);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes(cases[k].path, cases[k].lang, src, n, &a, &xf);
    if (xf.n_routes > 2000) {
        abort();
    }
    for (size_t i = 0; i < xf.n_routes; i++) {
        const x_route *r = &xf.routes[i];
        if (!r->method || !r->method[0] || !r->path || !r->framework || r->line < 1 ||
            r->line > lines) {
            abort();
        }
        for (const char *m = r->method; *m; m++) {
            if (*m >= 'a' && *m <= 'z') {
                abort();
            }
        }
    }
    arena_release(&a);
    return 0;
}

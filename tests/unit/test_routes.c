/* test_routes.c - x_routes (src/lang/routes.c): one fixture project per framework under
 * tests/fixtures/routes/, with the exact routes expected (method, path, handler, line), the
 * commented-out declarations each fixture carries not reported, and the per-file cap. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "lang/extract.h"

#include "fixtures.h"

/* "METHOD path → handler L<line> framework" per route, one per line */
static char *render(const x_file *xf)
{
    size_t cap = 64 + xf->n_routes * 200;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < xf->n_routes; i++) {
        const x_route *r = &xf->routes[i];
        len += (size_t)snprintf(out + len, cap - len, "%s %s -> %s L%u %s\n", r->method, r->path,
                                r->handler ? r->handler : "-", r->line, r->framework);
    }
    return out;
}

/* the routes of fixture project `dir`, file `rel` inside it (the path routes.c sees) */
static char *routes_of(const char *dir, const char *rel, lang_id lang)
{
    char full[512];
    snprintf(full, sizeof full, "routes/%s/%s", dir, rel);
    size_t n;
    char *src = fixture_slurp(full, &n);
    arena a;
    arena_init(&a, 0);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes(rel, lang, src, n, &a, &xf);
    cr_assert(!xf.routes_truncated);
    char *text = render(&xf);
    arena_release(&a);
    free(src);
    return text;
}

static void expect(const char *dir, const char *rel, lang_id lang, const char *want)
{
    char *got = routes_of(dir, rel, lang);
    cr_assert_str_eq(got, want, "routes of %s/%s:\n--- got\n%s--- want\n%s", dir, rel, got, want);
    free(got);
}

Test(routes, patterns_compile)
{
    cr_assert(x_routes_ready());
}

Test(routes, express)
{
    expect("express", "server.js", LANG_JAVASCRIPT,
           "GET /health -> health L5 express\n"
           "POST /login -> auth.login L6 express\n"
           "DELETE /users/:id -> - L7 express\n"
           "ANY /proxy/* -> proxy L12 express\n"
           "GET /items/:id -> items.show L13 express\n"
           "PATCH /items/:id -> items.update L13 express\n");
}

Test(routes, flask_blueprint_prefix_and_methods)
{
    expect("flask", "app.py", LANG_PYTHON,
           "GET / -> index L7 flask\n"
           "GET /items -> items L12 flask\n"
           "POST /items -> items L12 flask\n"
           "GET /api/v1/users/<int:uid> -> get_user L19 flask\n"
           "DELETE /api/v1/users/<int:uid> -> delete_user L27 flask\n"
           "POST /logout -> logout L36 flask\n"
           "GET /api/v1/ping -> ping_view L37 flask\n");
}

Test(routes, fastapi_router_prefix)
{
    expect("fastapi", "main.py", LANG_PYTHON,
           "GET /ping -> ping L7 fastapi\n"
           "POST /orders/ -> create_order L12 fastapi\n"
           "PUT /orders/{order_id} -> replace_order L17 fastapi\n");
}

Test(routes, django)
{
    expect("django", "urls.py", LANG_PYTHON,
           "ANY / -> views.home L6 django\n"
           "ANY /articles/<int:year>/ -> views.year_archive L7 django\n"
           "ANY ^legacy/(?P<slug>[\\w-]+)/$ -> views.LegacyView L9 django\n");
}

Test(routes, spring_class_prefix)
{
    expect("spring", "UserController.java", LANG_JAVA,
           "GET /api/users -> list L9 spring\n"
           "GET /api/users/{id} -> get L14 spring\n"
           "POST /api/users/ -> create L19 spring\n"
           "PUT /api/users/{id} -> update L26 spring\n"
           "PATCH /api/users/{id} -> update L26 spring\n"
           "ANY /api/users/search -> search L31 spring\n");
}

Test(routes, spring_kotlin)
{
    const char *src = "@RestController\n"
                      "@RequestMapping(\"/v2\")\n"
                      "class OrderController(private val svc: OrderService) {\n"
                      "    @GetMapping(\"/orders/{id}\")\n"
                      "    fun order(@PathVariable id: Long): Order = svc.find(id)\n"
                      "}\n";
    arena a;
    arena_init(&a, 0);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes("src/OrderController.kt", LANG_KOTLIN, src, strlen(src), &a, &xf);
    char *got = render(&xf);
    cr_assert_str_eq(got, "GET /v2/orders/{id} -> order L4 spring\n");
    free(got);
    arena_release(&a);
}

Test(routes, rails_verbs_resources_namespaces)
{
    expect("rails", "config/routes.rb", LANG_RUBY,
           "GET / -> pages#home L2 rails\n"
           "GET /about -> pages#about L3 rails\n"
           "POST /login -> sessions#create L4 rails\n"
           "GET /ping -> health#ping L5 rails\n"
           "GET /photos -> photos#index L8 rails\n"
           "POST /photos -> photos#create L8 rails\n"
           "GET /photos/new -> photos#new L8 rails\n"
           "GET /photos/:id/edit -> photos#edit L8 rails\n"
           "GET /photos/:id -> photos#show L8 rails\n"
           "PATCH /photos/:id -> photos#update L8 rails\n"
           "DELETE /photos/:id -> photos#destroy L8 rails\n"
           "GET /posts -> posts#index L10 rails\n"
           "GET /posts/:id -> posts#show L10 rails\n"
           "GET /posts/:post_id/comments -> comments#index L11 rails\n"
           "POST /posts/:post_id/comments -> comments#create L11 rails\n"
           "GET /posts/:post_id/comments/new -> comments#new L11 rails\n"
           "GET /posts/:post_id/comments/:id -> comments#show L11 rails\n"
           "PATCH /posts/:post_id/comments/:id -> comments#update L11 rails\n"
           "GET /admin/profile -> admin/profiles#show L15 rails\n"
           "GET /admin/stats -> admin/stats#index L16 rails\n");
}

Test(routes, rails_only_in_routes_file)
{
    const char *src = "get 'x', to: 'a#b'\n";
    arena a;
    arena_init(&a, 0);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes("app/models/user.rb", LANG_RUBY, src, strlen(src), &a, &xf);
    cr_assert_eq(xf.n_routes, 0);
    arena_release(&a);
}

Test(routes, nextjs_pages_api)
{
    expect("nextjs", "pages/api/users/[id].ts", LANG_TYPESCRIPT,
           "ANY /api/users/[id] -> - L3 nextjs\n");
}

Test(routes, nextjs_app_router)
{
    expect("nextjs", "app/(shop)/orders/[id]/route.ts", LANG_TYPESCRIPT,
           "GET /orders/[id] -> GET L3 nextjs\n"
           "DELETE /orders/[id] -> DELETE L9 nextjs\n");
}

Test(routes, go_net_http_and_gin)
{
    expect("go", "main.go", LANG_GO,
           "GET /items/{id} -> getItem L11 go\n"
           "ANY /healthz -> - L12 go\n"
           "ANY /static/ -> - L13 go\n"
           "POST /upload -> upload L14 go\n"
           "GET /ping -> handlers.Ping L18 go\n"
           "POST /users -> createUser L19 go\n"
           "ANY /proxy -> proxy L20 go\n"
           "GET /v1/items -> listItems L26 go\n"
           "DELETE /v1/admin/items/:id -> deleteItem L27 go\n");
}

Test(routes, actix)
{
    expect("actix", "main.rs", LANG_RUST,
           "GET /hello/{name} -> greet L3 actix\n"
           "POST /echo -> echo L8 actix\n"
           "GET /users/{id} -> get_user L23 actix\n"
           "DELETE /users/{id} -> delete_user L24 actix\n"
           "GET /status -> status L26 actix\n");
}

Test(routes, axum)
{
    expect("axum", "main.rs", LANG_RUST,
           "GET / -> root L6 axum\n"
           "GET /users -> list_users L7 axum\n"
           "POST /users -> create_user L7 axum\n"
           "GET /users/:id -> handlers::show L9 axum\n"
           "DELETE /users/:id -> handlers::remove L9 axum\n");
}

Test(routes, capped_per_file)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 2500; i++) {
        buf_printf(&b, "app.get('/r%d', h%d);\n", i, i);
    }
    arena a;
    arena_init(&a, 0);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes("big.js", LANG_JAVASCRIPT, b.ptr, b.len, &a, &xf);
    cr_assert_eq(xf.n_routes, 2000);
    cr_assert(xf.routes_truncated);
    cr_assert_str_eq(xf.routes[1999].path, "/r1999");
    cr_assert_str_eq(xf.routes[1999].handler, "h1999");
    cr_assert_eq(xf.routes[1999].line, 2000);
    arena_release(&a);
    buf_release(&b);
}

Test(routes, other_languages_have_none)
{
    const char *src = "app.get('/x', h)\n";
    arena a;
    arena_init(&a, 0);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes("notes.md", LANG_NONE, src, strlen(src), &a, &xf);
    cr_assert_eq(xf.n_routes, 0);
    x_routes("x.c", LANG_C, src, strlen(src), &a, &xf);
    cr_assert_eq(xf.n_routes, 0);
    arena_release(&a);
}

/* found by fuzz_routes: a method that is not a word was reported as an empty method */
Test(routes, junk_method_is_any)
{
    const char *src = "@app.route('/x', methods=['', 'get', 'P-T'])\n"
                      "def x():\n"
                      "    pass\n";
    arena a;
    arena_init(&a, 0);
    x_file xf;
    memset(&xf, 0, sizeof xf);
    x_routes("app.py", LANG_PYTHON, src, strlen(src), &a, &xf);
    char *got = render(&xf);
    cr_assert_str_eq(got, "ANY /x -> x L1 flask\n"
                          "GET /x -> x L1 flask\n"
                          "ANY /x -> x L1 flask\n");
    free(got);
    arena_release(&a);
}

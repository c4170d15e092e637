/* test_extract_more.c - extraction for Rust, Java, C#, Ruby, PHP, Bash, Kotlin, Swift, Scala
 * and Lua (src/lang/queries/<lang>.scm through x_extract): per language one fixture under
 * tests/fixtures/lang/<lang>/ with every definition (kind, qualified name, span, exported), every
 * call site and every import expected exactly; names and start lines were checked against
 * Universal Ctags on the same fixtures. Also the Universal Ctags batch runner (ctags.c) on
 * languages without a grammar (Make, Perl, SQL). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "lang/ctags.h"
#include "lang/extract.h"

#include "fixtures.h"

typedef struct extracted {
    arena a;
    x_parser *p;
    x_file xf;
    char *src;
} extracted;

static void extract(const char *rel, lang_id lang, extracted *e)
{
    size_t n;
    e->src = fixture_slurp(rel, &n);
    arena_init(&e->a, 0);
    e->p = x_parser_new();
    cr_assert_not_null(e->p);
    memset(&e->xf, 0, sizeof e->xf);
    char why[128] = "";
    atomic_bool cancel = false;
    cr_assert(x_extract(e->p, lang, rel, e->src, n, &e->a, &cancel, &e->xf, why, sizeof why),
              "x_extract(%s): %s", rel, why);
    cr_assert(!e->xf.had_errors, "%s parses with errors", rel);
}

static void release(extracted *e)
{
    x_parser_free(e->p);
    arena_release(&e->a);
    free(e->src);
}

static const x_symbol *find_sym(const x_file *xf, const char *qname)
{
    for (size_t i = 0; i < xf->n_syms; i++) {
        if (strcmp(xf->syms[i].qname, qname) == 0) {
            return &xf->syms[i];
        }
    }
    cr_assert_fail("no symbol '%s'", qname);
    return NULL;
}

static void check(const char *rel, lang_id lang, const char *want_syms, const char *want_calls,
                  const char *want_imports)
{
    char full[256];
    snprintf(full, sizeof full, "lang/%s", rel);
    extracted e;
    extract(full, lang, &e);
    buf s, c, im;
    buf_init(&s, 0);
    buf_init(&c, 0);
    buf_init(&im, 0);
    for (size_t i = 0; i < e.xf.n_syms; i++) {
        const x_symbol *y = &e.xf.syms[i];
        buf_printf(&s, "%s %s L%u-%u%s\n", y->kind, y->qname, y->start_line, y->end_line,
                   y->exported ? " exported" : "");
        /* the qualified name ends with the name; the parent's qname is its prefix */
        size_t nl = strlen(y->name), ql = strlen(y->qname);
        cr_assert(ql >= nl && strcmp(y->qname + ql - nl, y->name) == 0, "%s / %s", y->name,
                  y->qname);
        if (y->parent >= 0) {
            const char *pq = e.xf.syms[y->parent].qname;
            cr_assert(strncmp(y->qname, pq, strlen(pq)) == 0, "%s not under %s", y->qname, pq);
        }
    }
    for (size_t i = 0; i < e.xf.n_calls; i++) {
        const x_call *y = &e.xf.calls[i];
        buf_printf(&c, "%s L%u <- %s\n", y->callee, y->line,
                   y->caller >= 0 ? e.xf.syms[y->caller].qname : "-");
    }
    for (size_t i = 0; i < e.xf.n_imports; i++) {
        buf_printf(&im, "%s L%u\n", e.xf.imports[i].source, e.xf.imports[i].line);
    }
    cr_expect_str_eq(s.ptr ? s.ptr : "", want_syms, "%s definitions:\n--- got\n%s--- want\n%s", rel,
                     s.ptr ? s.ptr : "", want_syms);
    cr_expect_str_eq(c.ptr ? c.ptr : "", want_calls, "%s calls:\n--- got\n%s--- want\n%s", rel,
                     c.ptr ? c.ptr : "", want_calls);
    cr_expect_str_eq(im.ptr ? im.ptr : "", want_imports, "%s imports:\n--- got\n%s--- want\n%s",
                     rel, im.ptr ? im.ptr : "", want_imports);
    buf_release(&s);
    buf_release(&c);
    buf_release(&im);
    release(&e);
}

/* every query of this part compiles against its grammar (the offset and error type otherwise) */
Test(extract_more, queries_compile)
{
    static const lang_id langs[] = {LANG_RUST, LANG_JAVA,   LANG_CSHARP, LANG_RUBY,  LANG_PHP,
                                    LANG_BASH, LANG_KOTLIN, LANG_SWIFT,  LANG_SCALA, LANG_LUA};
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        const char *q = lang_query(langs[i]);
        cr_assert(q && *q, "no query for %s", lang_name(langs[i]));
        uint32_t off = 0;
        TSQueryError et = TSQueryErrorNone;
        TSQuery *tq = ts_query_new(lang_grammar(langs[i]), q, (uint32_t)strlen(q), &off, &et);
        cr_assert_not_null(tq, "%s.scm: error %d at offset %u: %.40s", lang_name(langs[i]), (int)et,
                           off, q + off);
        ts_query_delete(tq);
    }
}

Test(extract_more, rust)
{
    check("rust/shapes.rs", LANG_RUST,
          /* definitions: kind qname Lstart-end [exported] */
          "module util L5-5\n"
          "const MAX L7-7 exported\n"
          "var COUNTER L8-8\n"
          "type Map L9-9 exported\n"
          "macro square L11-15\n"
          "struct Point L17-20 exported\n"
          "field Point.x L18-18 exported\n"
          "field Point.y L19-19\n"
          "enum Shape L22-25 exported\n"
          "enumerator Shape.Circle L23-23 exported\n"
          "enumerator Shape.Rect L24-24 exported\n"
          "trait Area L27-32 exported\n"
          "method Area.area L28-28 exported\n"
          "method Area.describe L29-31 exported\n"
          "impl Shape L34-41\n"
          "method Shape.area L35-40 exported\n"
          "impl Point L43-47\n"
          "method Point.new L44-46 exported\n"
          "module geo L49-54 exported\n"
          "fn geo.dist L50-53 exported\n"
          "fn run L56-60 exported\n",
          /* calls: callee Lline <- caller */
          "format L30 <- Area.describe\n"
          "square L37 <- Shape.area\n"
          "abs L52 <- geo.dist\n"
          "sqrt L52 <- geo.dist\n"
          "new L57 <- run\n"
          "dist L58 <- run\n"
          "helper L59 <- run\n",
          /* imports */
          "std::collections::HashMap L2\n"
          "crate::util::{helper, Other} L3\n"
          "serde L4\n"
          "util L5\n");
}

Test(extract_more, java)
{
    check("java/Shop.java", LANG_JAVA,
          /* definitions: kind qname Lstart-end [exported] */
          "module com.example.shop L1-1\n"
          "class Shop L8-38 exported\n"
          "field Shop.LIMIT L9-9\n"
          "field Shop.items L10-10\n"
          "field Shop.count L11-11\n"
          "field Shop.total L11-11\n"
          "method Shop.Shop L13-15 exported\n"
          "method Shop.add L17-20 exported\n"
          "class Shop.Item L22-24\n"
          "field Shop.Item.name L23-23\n"
          "interface Shop.Listener L26-28\n"
          "method Shop.Listener.onAdd L27-27\n"
          "enum Shop.Status L30-37\n"
          "enumerator Shop.Status.OPEN L31-31\n"
          "enumerator Shop.Status.CLOSED L32-32\n"
          "method Shop.Status.isOpen L34-36\n"
          "class Price L40-44\n"
          "method Price.Price L41-43\n"
          "interface Audited L46-48\n"
          "method Audited.value L47-47\n",
          /* calls: callee Lline <- caller */
          "ArrayList L10 <- Shop.items\n"
          "add L18 <- Shop.add\n"
          "max L19 <- Shop.add\n"
          "size L19 <- Shop.add\n"
          "validate L42 <- Price.Price\n",
          /* imports */
          "java.util.List L3\n"
          "java.util.ArrayList L4\n"
          "java.lang.Math.max L5\n"
          "java.io L6\n");
}

Test(extract_more, csharp)
{
    check("csharp/Orders.cs", LANG_CSHARP,
          /* definitions: kind qname Lstart-end [exported] */
          "module Shop.Orders L5-50\n"
          "type Shop.Orders.Changed L7-7 exported\n"
          "interface Shop.Orders.IStore L9-12 exported\n"
          "method Shop.Orders.IStore.Find L11-11 exported\n"
          "enum Shop.Orders.State L14-18 exported\n"
          "enumerator Shop.Orders.State.New L16-16 exported\n"
          "enumerator Shop.Orders.State.Paid L17-17 exported\n"
          "struct Shop.Orders.Money L20-23 exported\n"
          "field Shop.Orders.Money.Cents L22-22 exported\n"
          "class Shop.Orders.Line L25-25 exported\n"
          "class Shop.Orders.Order L27-49 exported\n"
          "field Shop.Orders.Order.lines L29-29\n"
          "field Shop.Orders.Order.Id L30-30 exported\n"
          "field Shop.Orders.Order.OnChanged L31-31 exported\n"
          "method Shop.Orders.Order.Order L33-36 exported\n"
          "method Shop.Orders.Order.Find L38-42 exported\n"
          "method Shop.Orders.Order.Load L44-48\n"
          "fn Shop.Orders.Order.Load.Twice L46-46\n",
          /* calls: callee Lline <- caller */
          "List L29 <- Shop.Orders.Order.lines\n"
          "WriteLine L40 <- Shop.Orders.Order.Find\n"
          "Load L41 <- Shop.Orders.Order.Find\n"
          "T L47 <- Shop.Orders.Order.Load\n",
          /* imports */
          "System L1\n"
          "System.Collections.Generic L2\n"
          "System.Text.Json L3\n");
}

Test(extract_more, ruby)
{
    check("ruby/store.rb", LANG_RUBY,
          /* definitions: kind qname Lstart-end [exported] */
          "module Shop L4-29 exported\n"
          "const Shop.VERSION L5-5 exported\n"
          "class Shop.Store L7-28 exported\n"
          "const Shop.Store.LIMIT L8-8 exported\n"
          "method Shop.Store.initialize L10-12 exported\n"
          "method Shop.Store.build L14-16 exported\n"
          "method Shop.Store.add L18-21 exported\n"
          "method Shop.Store.registry L24-26 exported\n"
          "fn top_level L31-33 exported\n",
          /* calls: callee Lline <- caller */
          "require L1 <- -\n"
          "require_relative L2 <- -\n"
          "new L15 <- Shop.Store.build\n"
          "fetch L15 <- Shop.Store.build\n"
          "push L19 <- Shop.Store.add\n"
          "log L20 <- Shop.Store.add\n"
          "build L32 <- top_level\n",
          /* imports */
          "json L1\n"
          "lib/helpers L2\n");
}

Test(extract_more, php)
{
    check("php/Cart.php", LANG_PHP,
          /* definitions: kind qname Lstart-end [exported] */
          "module App\\Shop L2-2 exported\n"
          "const APP_NAME L9-9 exported\n"
          "interface Priced L11-14 exported\n"
          "method Priced.price L13-13 exported\n"
          "trait Counts L16-19 exported\n"
          "field Counts.count L18-18\n"
          "enum Status L21-25 exported\n"
          "enumerator Status.Open L23-23 exported\n"
          "enumerator Status.Closed L24-24 exported\n"
          "class Cart L27-47 exported\n"
          "const Cart.MAX L30-30 exported\n"
          "field Cart.items L31-31\n"
          "method Cart.__construct L33-35 exported\n"
          "method Cart.price L37-41 exported\n"
          "method Cart.totals L43-46 exported\n"
          "fn make_cart L49-52 exported\n",
          /* calls: callee Lline <- caller */
          "info L39 <- Cart.price\n"
          "array_sum L40 <- Cart.price\n"
          "totals L40 <- Cart.price\n"
          "array_map L45 <- Cart.totals\n"
          "total L45 <- Cart.totals\n"
          "Cart L51 <- make_cart\n",
          /* imports */
          "App\\Models\\Item L4\n"
          "Psr\\Log\\LoggerInterface L5\n"
          "/bootstrap.php L6\n"
          "helpers.php L7\n");
}

Test(extract_more, bash)
{
    check("bash/deploy.sh", LANG_BASH,
          /* definitions: kind qname Lstart-end [exported] */
          "fn log L6-8 exported\n"
          "fn build L10-13 exported\n"
          "fn deploy L15-18 exported\n",
          /* calls: callee Lline <- caller */
          "set L2 <- -\n"
          "source L3 <- -\n"
          ". L4 <- -\n"
          "echo L7 <- log\n"
          "log L11 <- build\n"
          "make L12 <- build\n"
          "build L16 <- deploy\n"
          "rsync L17 <- deploy\n"
          "deploy L20 <- -\n",
          /* imports */
          "./lib/common.sh L3\n"
          "$HOME/.deployrc L4\n");
}

Test(extract_more, kotlin)
{
    check("kotlin/Library.kt", LANG_KOTLIN,
          /* definitions: kind qname Lstart-end [exported] */
          "module org.example.library L1-1 exported\n"
          "const LIMIT L6-6 exported\n"
          "type Shelf L8-8 exported\n"
          "class Book L10-10 exported\n"
          "field Book.title L10-10 exported\n"
          "field Book.pages L10-10 exported\n"
          "class Genre L12-15 exported\n"
          "enumerator Genre.FICTION L13-13 exported\n"
          "enumerator Genre.SCIENCE L14-14 exported\n"
          "interface Catalog L17-19 exported\n"
          "method Catalog.find L18-18 exported\n"
          "class Library L21-39 exported\n"
          "field Library.name L21-21\n"
          "field Library.books L22-22\n"
          "field Library.visits L23-23 exported\n"
          "method Library.constructor L25-25 exported\n"
          "method Library.find L27-29 exported\n"
          "method Library.add L31-34 exported\n"
          "method Library.create L37-37 exported\n"
          "class Registry L41-43 exported\n"
          "field Registry.all L42-42 exported\n"
          "fn main L45-48 exported\n",
          /* calls: callee Lline <- caller */
          "mutableListOf L22 <- Library.books\n"
          "firstOrNull L28 <- Library.find\n"
          "add L32 <- Library.add\n"
          "max L33 <- Library.add\n"
          "Library L37 <- Library.create\n"
          "HashMap L42 <- Registry.all\n"
          "create L46 <- main\n"
          "add L47 <- main\n"
          "Book L47 <- main\n",
          /* imports */
          "kotlin.math.max L3\n"
          "org.example.util L4\n");
}

Test(extract_more, swift)
{
    check("swift/Garage.swift", LANG_SWIFT,
          /* definitions: kind qname Lstart-end [exported] */
          "var maxCars L4-4 exported\n"
          "type Plate L5-5 exported\n"
          "interface Vehicle L7-10 exported\n"
          "field Vehicle.wheels L8-8 exported\n"
          "method Vehicle.drive L9-9 exported\n"
          "enum Fuel L12-15 exported\n"
          "enumerator Fuel.petrol L13-13 exported\n"
          "enumerator Fuel.electric L14-14 exported\n"
          "struct Car L17-25 exported\n"
          "field Car.wheels L18-18 exported\n"
          "field Car.plate L19-19 exported\n"
          "method Car.drive L21-24 exported\n"
          "class Garage L27-38 exported\n"
          "field Garage.cars L28-28\n"
          "method Garage.init L30-32 exported\n"
          "method Garage.park L34-37 exported\n"
          "impl Garage L40-42 exported\n"
          "method Garage.count L41-41 exported\n"
          "fn openGarage L44-46 exported\n",
          /* calls: callee Lline <- caller */
          "print L22 <- Car.drive\n"
          "reserveCapacity L31 <- Garage.init\n"
          "append L35 <- Garage.park\n"
          "drive L36 <- Garage.park\n"
          "Garage L45 <- openGarage\n",
          /* imports */
          "Foundation L1\n"
          "UIKit L2\n");
}

Test(extract_more, scala)
{
    check("scala/Inventory.scala", LANG_SCALA,
          /* definitions: kind qname Lstart-end [exported] */
          "module shop.inventory L1-1 exported\n"
          "trait Store L6-8 exported\n"
          "method Store.find L7-7 exported\n"
          "class Entry L10-10 exported\n"
          "class Inventory L12-25 exported\n"
          "field Inventory.entries L13-13\n"
          "field Inventory.version L14-14 exported\n"
          "type Inventory.Key L15-15 exported\n"
          "method Inventory.find L17-17 exported\n"
          "method Inventory.add L19-22 exported\n"
          "method Inventory.bump L24-24\n"
          "class Inventory L27-30 exported\n"
          "field Inventory.Default L28-28 exported\n"
          "method Inventory.apply L29-29 exported\n",
          /* calls: callee Lline <- caller */
          "get L17 <- Inventory.find\n"
          "map L17 <- Inventory.find\n"
          "update L20 <- Inventory.add\n"
          "bump L21 <- Inventory.add\n"
          "Inventory L29 <- Inventory.apply\n",
          /* imports */
          "scala.collection.mutable L3\n"
          "shop.model L4\n");
}

Test(extract_more, lua)
{
    check("lua/account.lua", LANG_LUA,
          /* definitions: kind qname Lstart-end [exported] */
          "fn clamp L6-8\n"
          "fn new L10-12 exported\n"
          "method M.deposit L14-17 exported\n"
          "fn encode L19-21 exported\n"
          "fn global_helper L23-25 exported\n"
          "fn __index L28-30 exported\n",
          /* calls: callee Lline <- caller */
          "require L1 <- -\n"
          "require L2 <- -\n"
          "max L7 <- clamp\n"
          "min L7 <- clamp\n"
          "setmetatable L11 <- new\n"
          "clamp L11 <- new\n"
          "log L16 <- M.deposit\n"
          "encode L20 <- encode\n"
          "print L24 <- global_helper\n"
          "rawget L29 <- __index\n",
          /* imports */
          "cjson L1\n"
          "lib.util L2\n");
}

/* signatures, parameters and return types of a few definitions */
Test(extract_more, signatures)
{
    extracted e;
    extract("lang/rust/shapes.rs", LANG_RUST, &e);
    const x_symbol *s = find_sym(&e.xf, "Point.new");
    cr_expect_str_eq(s->signature, "pub fn new(x: i32, y: i32) -> Self");
    cr_expect_str_eq(s->params, "(x: i32, y: i32)");
    cr_expect_str_eq(s->ret, "Self");
    cr_expect(find_sym(&e.xf, "run")->is_async);
    cr_expect(!find_sym(&e.xf, "geo.dist")->is_async);
    release(&e);

    extract("lang/java/Shop.java", LANG_JAVA, &e);
    s = find_sym(&e.xf, "Shop.add");
    cr_expect_str_eq(s->signature, "public void add(Item item)");
    cr_expect_str_eq(s->params, "(Item item)");
    cr_expect_str_eq(s->ret, "void");
    release(&e);

    extract("lang/php/Cart.php", LANG_PHP, &e);
    s = find_sym(&e.xf, "Cart.totals");
    cr_expect_str_eq(s->signature, "public static function totals(array $items): array");
    cr_expect_str_eq(s->ret, "array");
    release(&e);

    extract("lang/lua/account.lua", LANG_LUA, &e);
    s = find_sym(&e.xf, "M.deposit");
    cr_expect_str_eq(s->name, "deposit");
    cr_expect_str_eq(s->signature, "function M:deposit(v)");
    cr_expect_str_eq(s->params, "(v)");
    release(&e);
}

/* ---- Universal Ctags */

typedef struct tag_log {
    buf b;
    size_t stop_after; /* 0 = never stop */
    size_t seen;
} tag_log;

static bool log_tag(void *ctx, const ctags_tag *t)
{
    tag_log *l = ctx;
    buf_printf(&l->b, "%s:%u %s %s%s%s %s\n", t->relpath, t->line, t->kind,
               t->scope ? t->scope : "", t->scope ? "." : "", t->name, t->language);
    l->seen++;
    return l->stop_after == 0 || l->seen < l->stop_after;
}

static int open_dir(const char *rel)
{
    int fd = open(fixture_path(rel), O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert(fd >= 0, "cannot open '%s'", rel);
    return fd;
}

Test(extract_more, ctags_batch)
{
    if (!ctags_available()) {
        cr_skip_test("no Universal Ctags with JSON output on PATH");
    }
    int root = open_dir("lang/ctags");
    const char *files[] = {"Makefile", "missing.tcl", "sub/util.pl", "schema.sql"};
    tag_log l = {.stop_after = 0};
    buf_init(&l.b, 0);
    ctags_stats st;
    err rc = ctags_run(root, files, 4, log_tag, &l, NULL, &st);
    cr_assert_eq(rc, ERR_OK);
    cr_expect_str_eq(l.b.ptr, "Makefile:1 macro CC Make\n"
                              "Makefile:3 target all Make\n"
                              "Makefile:5 target build Make\n"
                              "Makefile:8 target clean Make\n"
                              "sub/util.pl:1 package Util::Text Perl\n"
                              "sub/util.pl:4 subroutine trim Perl\n"
                              "sub/util.pl:10 subroutine shout Perl\n"
                              "schema.sql:1 table users SQL\n"
                              "schema.sql:2 field users.id SQL\n"
                              "schema.sql:3 field users.name SQL\n"
                              "schema.sql:6 view active_users SQL\n");
    cr_expect_eq(st.files, 4);
    cr_expect_eq(st.tags, 11);
    cr_expect_eq(st.junk_lines, 0);
    /* the tag's relpath is the caller's own string */
    buf_release(&l.b);
    close(root);
}

Test(extract_more, ctags_language_map)
{
    if (!ctags_available()) {
        cr_skip_test("no Universal Ctags with JSON output on PATH");
    }
    cr_expect_str_eq(ctags_language_of("build/Makefile"), "Make");
    cr_expect_str_eq(ctags_language_of("lib/x.pm"), "Perl");
    cr_expect_str_eq(ctags_language_of("db/schema.sql"), "SQL");
    cr_expect_null(ctags_language_of("notes.unknown-extension"));
}

/* names that look like options stay file names; names ctags cannot be given are skipped */
Test(extract_more, ctags_odd_names)
{
    if (!ctags_available()) {
        cr_skip_test("no Universal Ctags with JSON output on PATH");
    }
    char dir[] = "/tmp/ctxd-ctags-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/--version.pl", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("sub odd { 1 }\n", f);
    fclose(f);
    int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert(root >= 0);
    const char *files[] = {"--version.pl", "bad\nname.pl"};
    tag_log l = {.stop_after = 0};
    buf_init(&l.b, 0);
    ctags_stats st;
    cr_assert_eq(ctags_run(root, files, 2, log_tag, &l, NULL, &st), ERR_OK);
    cr_expect_str_eq(l.b.ptr, "--version.pl:1 subroutine odd Perl\n");
    cr_expect_eq(st.files, 1);
    cr_expect_eq(st.skipped, 1);
    buf_release(&l.b);
    close(root);
    unlink(path);
    rmdir(dir);
}

Test(extract_more, ctags_cancel)
{
    if (!ctags_available()) {
        cr_skip_test("no Universal Ctags with JSON output on PATH");
    }
    int root = open_dir("lang/ctags");
    const char *files[] = {"Makefile", "sub/util.pl", "schema.sql"};
    /* the callback stops the run */
    tag_log l = {.stop_after = 2};
    buf_init(&l.b, 0);
    cr_assert_eq(ctags_run(root, files, 3, log_tag, &l, NULL, NULL), ERR_CANCELLED);
    cr_expect_eq(l.seen, 2);
    buf_release(&l.b);
    /* the flag, set before the start */
    tag_log l2 = {.stop_after = 0};
    buf_init(&l2.b, 0);
    atomic_bool cancel = true;
    cr_assert_eq(ctags_run(root, files, 3, log_tag, &l2, &cancel, NULL), ERR_CANCELLED);
    cr_expect_eq(l2.seen, 0);
    buf_release(&l2.b);
    close(root);
}

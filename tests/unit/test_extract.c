/* test_extract.c - the extraction engine (src/lang/extract.c) and the language table (lang.c).
 *
 * One fixture per language under tests/fixtures/lang/<lang>/ with the exact symbols expected
 * (kind, qualified name, span, exported, async, signature, params, return type), the calls
 * (caller → callee, line) and the imports; then the language table (extensions, file names,
 * `#!` lines), every query compiling, files with syntax errors, empty, binary and one-huge-line
 * input, the per-file symbol cap, cancellation, and two threads extracting at once. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "lang/extract.h"
#include "lang/lang.h"

#include "fixtures.h"

/* one line per symbol, call and import:
 *   <kind> <qname> L<start>-<end>[ pub][ async] | <signature>[ | params=..][ | ret=..]
 *   call <caller qname or -> -> <callee> L<line>
 *   import <source> L<line> */
static char *render(const x_file *xf)
{
    size_t cap = 256 + (xf->n_syms + xf->n_calls + xf->n_imports) * 700;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    size_t len = 0;
    out[0] = '\0';
#define APP(...) len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, __VA_ARGS__)
    for (size_t i = 0; i < xf->n_syms; i++) {
        const x_symbol *s = &xf->syms[i];
        APP("%s %s L%u-%u%s%s | %s", s->kind, s->qname, s->start_line, s->end_line,
            s->exported ? " pub" : "", s->is_async ? " async" : "", s->signature);
        if (s->params) {
            APP(" | params=%s", s->params);
        }
        if (s->ret) {
            APP(" | ret=%s", s->ret);
        }
        APP("\n");
    }
    for (size_t i = 0; i < xf->n_calls; i++) {
        const x_call *c = &xf->calls[i];
        APP("call %s -> %s L%u\n", c->caller >= 0 ? xf->syms[c->caller].qname : "-", c->callee,
            c->line);
    }
    for (size_t i = 0; i < xf->n_imports; i++) {
        APP("import %s L%u\n", xf->imports[i].source, xf->imports[i].line);
    }
#undef APP
    cr_assert_lt(len, cap);
    return out;
}

/* parents must point backwards at a definition that encloses the child */
static void check_invariants(const x_file *xf)
{
    for (size_t i = 0; i < xf->n_syms; i++) {
        const x_symbol *s = &xf->syms[i];
        cr_assert_leq(s->start_line, s->end_line, "%s", s->qname);
        if (i > 0) {
            cr_assert_leq(xf->syms[i - 1].start_byte, s->start_byte, "source order at %s",
                          s->qname);
        }
        if (s->parent >= 0) {
            cr_assert_lt((size_t)s->parent, i);
            const x_symbol *p = &xf->syms[s->parent];
            cr_assert_leq(p->start_byte, s->start_byte, "%s in %s", s->qname, p->qname);
            cr_assert_geq(p->end_byte, s->end_byte, "%s in %s", s->qname, p->qname);
        }
    }
    for (size_t i = 0; i < xf->n_calls; i++) {
        cr_assert_lt(xf->calls[i].caller, (int)xf->n_syms);
    }
}

static void check_fixture(const char *rel, const char *expected)
{
    size_t n;
    char *src = fixture_slurp(rel, &n);
    lang_id l = lang_detect(rel, src, n);
    cr_assert_neq(l, LANG_NONE, "%s", rel);
    x_parser *p = x_parser_new();
    cr_assert_not_null(p);
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    cr_assert(x_extract(p, l, rel, src, n, &a, NULL, &xf, why, sizeof why), "%s: %s", rel, why);
    cr_assert_eq(xf.lang, l);
    cr_assert_not(xf.truncated);
    check_invariants(&xf);
    char *got = render(&xf);
    cr_assert_str_eq(got, expected, "%s: got\n%s", rel, got);
    free(got);
    arena_release(&a);
    x_parser_free(p);
    free(src);
}

Test(extract, c_source)
{
    check_fixture(
        "lang/c/sample.c",
        "macro MAX L3-3 pub | #define MAX 10\n"
        "macro SQ L4-4 pub | #define SQ(x) ((x) * (x)) | params=(x)\n"
        "type point_t L5-5 pub | typedef struct point { int x, y; } point_t\n"
        "struct point L5-5 pub | struct point\n"
        "field point.x L5-5 pub | int x, y\n"
        "field point.y L5-5 pub | int x, y\n"
        "type ulong L6-6 pub | typedef unsigned long ulong\n"
        "type cmp_fn L7-7 pub | typedef int (*cmp_fn)(const void *, const void *) | params=(const "
        "void *, const void *)\n"
        "struct node L8-8 pub | struct node\n"
        "field node.next L8-8 pub | struct node *next\n"
        "field node.cb L8-8 pub | int (*cb)(int) | params=(int)\n"
        "field node.name L8-8 pub | char name[16]\n"
        "union u L9-9 pub | union u\n"
        "field u.i L9-9 pub | int i\n"
        "field u.f L9-9 pub | float f\n"
        "enum color L10-10 pub | enum color\n"
        "enumerator color.RED L10-10 pub | RED\n"
        "enumerator color.GREEN L10-10 pub | GREEN = 2\n"
        "enumerator color.BLUE L10-10 pub | BLUE\n"
        "var counter L11-11 | static int counter = 0\n"
        "var shared L12-12 pub | extern int shared\n"
        "var a L13-13 pub | int a, *b\n"
        "var b L13-13 pub | int a, *b\n"
        "fn proto L14-14 pub | int proto(int a, char **argv) | params=(int a, char **argv) | "
        "ret=int\n"
        "fn ptr_ret L15-19 | static int *ptr_ret(void) | params=(void) | ret=int *\n"
        "fn foo_init L20-24 | static int __init foo_init(void) | params=(void) | ret=int\n"
        "fn gnu_style L26-32 | static PyObject * gnu_style(PyObject *self, PyObject *args) | "
        "params=(PyObject *self, PyObject *args) | ret=PyObject *\n"
        "fn signal L33-33 pub | void (*signal(int sig, void (*func)(int)))(int) | params=(int sig, "
        "void (*func)(int)) | ret=void\n"
        "fn knr L34-34 pub | int knr(a, b) int a; int b; | params=(a, b) | ret=int\n"
        "fn SYSCALL_DEFINE1 L35-38 pub | SYSCALL_DEFINE1(close, unsigned int, fd) | params=(close, "
        "unsigned int, fd)\n"
        "call foo_init -> printf L22\n"
        "call foo_init -> SQ L23\n"
        "call gnu_style -> ptr_ret L29\n"
        "call gnu_style -> tp_free L30\n"
        "call SYSCALL_DEFINE1 -> close_fd L37\n"
        "call - -> EXPORT_SYMBOL L39\n"
        "import stdio.h L1\n"
        "import util.h L2\n");
}

Test(extract, c_header)
{
    check_fixture(
        "lang/c/sample.h",
        "macro SAMPLE_H L2-2 pub | #define SAMPLE_H\n"
        "fn buf_len L6-6 pub | extern size_t buf_len(const struct buf *b) | params=(const struct "
        "buf *b) | ret=size_t\n"
        "fn buf_detach L7-8 pub | char *buf_detach(struct buf *b, size_t *len) | params=(struct "
        "buf *b, size_t *len) | ret=char *\n"
        "fn buf_empty L9-9 | static inline int buf_empty(const struct buf *b) | params=(const "
        "struct buf *b) | ret=int\n"
        "type buf_free_fn L10-10 pub | typedef void (*buf_free_fn)(void *) | params=(void *)\n"
        "fn buf_grow L11-11 pub | buf_grow(struct buf *b, size_t n) __THROW __wur | params=(struct "
        "buf *b, size_t n)\n"
        "enum buf_mode L12-17 pub | enum buf_mode\n"
        "enumerator buf_mode.BUF_RAW L13-13 pub | BUF_RAW = 0\n"
        "macro BUF_RAW L14-14 pub | # define BUF_RAW BUF_RAW\n"
        "enumerator buf_mode.BUF_LINE L15-15 pub | BUF_LINE\n"
        "macro BUF_LINE L16-16 pub | # define BUF_LINE BUF_LINE\n"
        "call buf_empty -> buf_len L9\n"
        "import stddef.h L3\n");
}

Test(extract, cpp)
{
    check_fixture("lang/cpp/shapes.cpp",
                  "module geo L3-26 pub | namespace geo\n"
                  "module geo.detail L4-4 pub | namespace detail\n"
                  "fn geo.detail.helper L4-4 pub | int helper(int x) | params=(int x) | ret=int\n"
                  "class geo.Box L6-16 pub | class Box : public Base\n"
                  "method geo.Box.Box L8-8 pub | Box() = default | params=()\n"
                  "method geo.Box.Box L9-9 pub | explicit Box(T v) | params=(T v)\n"
                  "method geo.Box.~Box L10-10 pub | ~Box() | params=()\n"
                  "method geo.Box.get L11-11 pub | T get() const | params=() | ret=T\n"
                  "field geo.Box.count L12-12 pub | static int count\n"
                  "method geo.Box.draw L13-13 pub | virtual void draw(int scale) = 0 | params=(int "
                  "scale) | ret=void\n"
                  "field geo.Box.value_ L15-15 pub | T value_\n"
                  "struct geo.Point L17-17 pub | struct Point\n"
                  "field geo.Point.x L17-17 pub | double x, y\n"
                  "field geo.Point.y L17-17 pub | double x, y\n"
                  "enum geo.Color L18-18 pub | enum class Color\n"
                  "enumerator geo.Color.Red L18-18 pub | Red\n"
                  "enumerator geo.Color.Green L18-18 pub | Green\n"
                  "type geo.IntBox L19-19 pub | using IntBox = Box<int>\n"
                  "type geo.Points L20-20 pub | typedef std::vector<Point> Points\n"
                  "method geo.Box.Box L22-22 pub | Box<T>::Box(T v) : value_(v) | params=(T v)\n"
                  "method geo.Box.draw L23-23 pub | void Box<int>::draw(int scale) | params=(int "
                  "scale) | ret=void\n"
                  "var geo.Box.count L24-24 pub | int Box<int>::count = 0\n"
                  "fn geo.area L25-25 | static double area(const Point &p) | params=(const Point "
                  "&p) | ret=double\n"
                  "call geo.Box.Box -> helper L22\n"
                  "call geo.Box.draw -> sort L23\n"
                  "call geo.Box.draw -> get L23\n"
                  "call geo.Box.draw -> Point L23\n"
                  "import vector L1\n"
                  "import shape.hpp L2\n");
}

Test(extract, python)
{
    check_fixture(
        "lang/python/shop.py",
        "const MAX_SIZE L7-7 pub | MAX_SIZE = 10\n"
        "var _private L8-8 | _private = 1\n"
        "var a L9-9 pub | a, b = 1, 2\n"
        "var b L9-9 pub | a, b = 1, 2\n"
        "class Shape L11-28 pub | class Shape(Base):\n"
        "var Shape.sides L12-12 pub | sides = 0\n"
        "method Shape.__init__ L14-16 pub | def __init__(self, n: int) -> None: | params=(self, n: "
        "int) | ret=None\n"
        "method Shape.area L19-20 pub | def area(self): | params=(self)\n"
        "method Shape.fetch L22-23 pub async | async def fetch(self, url): | params=(self, url)\n"
        "method Shape._hidden L25-28 | def _hidden(self): | params=(self)\n"
        "fn Shape._hidden.inner L26-27 | def inner(): | params=()\n"
        "fn top L30-31 pub | def top(x, *args, **kw) -> \"Shape\": | params=(x, *args, **kw) | "
        "ret=\"Shape\"\n"
        "const CONFIG L34-34 pub | CONFIG = {}\n"
        "fn square L35-35 pub | square = lambda v:\n"
        "call Shape.area -> compute L20\n"
        "call Shape.fetch -> get L23\n"
        "call Shape._hidden -> inner L28\n"
        "call top -> Shape L31\n"
        "import os L2\n"
        "import sys L2\n"
        "import os.path L3\n"
        "import . L4\n"
        "import .pkg.mod L5\n"
        "import collections L6\n");
}

Test(extract, javascript)
{
    check_fixture("lang/javascript/widget.js",
                  "const fs L4-4 | const fs = require('fs')\n"
                  "const MAX L5-5 | const MAX = 3\n"
                  "var counter L6-6 | let counter = 0\n"
                  "var legacy L7-7 | var legacy = 1\n"
                  "fn add L9-11 pub | function add(a, b) | params=(a, b)\n"
                  "fn mul L13-13 pub | const mul = (a, b) => | params=(a, b)\n"
                  "fn neg L14-14 | const neg = x => | params=x\n"
                  "fn later L15-15 async | const later = async () => | params=()\n"
                  "fn gen L17-17 | function* gen() | params=()\n"
                  "class Widget L19-31 pub | class Widget extends Base\n"
                  "field Widget.count L20-20 pub | count = 0\n"
                  "field Widget.#secret L21-21 | #secret = 1\n"
                  "method Widget.constructor L22-25 pub | constructor(el) | params=(el)\n"
                  "method Widget.render L26-29 pub async | async render() | params=()\n"
                  "method Widget.create L30-30 pub | static create() | params=()\n"
                  "call fs -> require L4\n"
                  "call add -> sum L10\n"
                  "call Widget.render -> draw L28\n"
                  "call Widget.render -> Frame L28\n"
                  "call Widget.create -> Widget L30\n"
                  "import react L1\n"
                  "import ./util.js L2\n"
                  "import ./helpers L3\n"
                  "import fs L4\n"
                  "import ./lazy L15\n");
}

Test(extract, typescript)
{
    check_fixture(
        "lang/typescript/shapes.ts",
        "interface Shape L3-6 pub | interface Shape\n"
        "method Shape.area L4-4 pub | area(): number | params=() | ret=number\n"
        "field Shape.name L5-5 pub | name: string\n"
        "type Id L7-7 pub | type Id = string | number\n"
        "enum Dir L8-8 pub | enum Dir\n"
        "enumerator Dir.Up L8-8 pub | Up = 1\n"
        "enumerator Dir.Down L8-8 pub | Down\n"
        "fn ext L9-9 | function ext(x: number): void | params=(x: number) | ret=void\n"
        "module NS L10-10 | namespace NS\n"
        "const NS.inner L10-10 | const inner = 1\n"
        "class Base L11-19 pub | abstract class Base<T> implements Shape\n"
        "field Base.secret L12-12 | private secret: number = 0\n"
        "field Base.name L13-13 pub | name = \"b\"\n"
        "method Base.area L14-14 pub | abstract area(): number | params=() | ret=number\n"
        "method Base.helper L15-15 | protected helper(x: T): T | params=(x: T) | ret=T\n"
        "method Base.load L16-18 pub async | public async load(url: string): Promise<T> | "
        "params=(url: string) | ret=Promise<T>\n"
        "fn make L20-20 pub | const make = (n: number): Base<number> => | params=(n: number) | "
        "ret=Base<number>\n"
        "fn plain L21-21 | function plain(a: number, b: string): boolean | params=(a: number, b: "
        "string) | ret=boolean\n"
        "call Base.load -> fetchJson L17\n"
        "call make -> Impl L20\n"
        "call plain -> check L21\n"
        "import @angular/core L1\n"
        "import ./foo L2\n");
}

Test(extract, tsx)
{
    check_fixture("lang/tsx/view.tsx",
                  "interface Props L4-4 pub | interface Props\n"
                  "field Props.id L4-4 pub | id: number\n"
                  "field Props.label L4-4 pub | label?: string\n"
                  "fn Card L6-9 pub | function Card({ id, label }: Props): JSX.Element | params=({ "
                  "id, label }: Props) | ret=JSX.Element\n"
                  "fn Badge L11-11 | const Badge = (p: Props) => | params=(p: Props)\n"
                  "class Panel L13-17 pub | class Panel extends React.Component<Props>\n"
                  "method Panel.render L14-16 pub | render() | params=()\n"
                  "call Card -> useQuery L7\n"
                  "call Card -> track L8\n"
                  "call Badge -> format L11\n"
                  "call Panel.render -> Card L15\n"
                  "import react L1\n"
                  "import ./hooks L2\n");
}

Test(extract, go)
{
    check_fixture(
        "lang/go/shop.go",
        "const MaxItems L9-9 pub | MaxItems = 10\n"
        "const a L11-11 | a = iota\n"
        "const B L12-12 pub | B\n"
        "var Registry L15-15 pub | Registry = map[string]int{}\n"
        "var local L16-16 | local int\n"
        "struct Item L18-21 pub | Item struct\n"
        "field Item.Name L19-19 pub | Name string\n"
        "field Item.price L20-20 | price int\n"
        "interface Store L23-26 pub | Store\n"
        "method Store.Get L24-24 pub | Get(id string) (*Item, error) | params=(id string) | "
        "ret=(*Item, error)\n"
        "method Store.list L25-25 | list() []Item | params=() | ret=[]Item\n"
        "type ID L28-28 pub | ID = string\n"
        "type Count L29-29 pub | Count int\n"
        "fn NewItem L31-37 pub | func NewItem(name string, price int) *Item | params=(name string, "
        "price int) | ret=*Item\n"
        "method Item.Price L39-39 pub | func (it *Item) Price() int | params=() | ret=int\n"
        "method Box.get L41-41 | func (s Box[T]) get() T | params=() | ret=T\n"
        "call NewItem -> Println L32\n"
        "call NewItem -> ToUpper L32\n"
        "call Box.get -> helper L41\n"
        "import fmt L4\n"
        "import strings L5\n"
        "import os L7\n");
}

Test(extract, detect_by_name)
{
    static const struct {
        const char *path;
        lang_id l;
    } cases[] = {
        {"a.c", LANG_C},
        {"inc/a.h", LANG_C},
        {"a.cc", LANG_CPP},
        {"a.cpp", LANG_CPP},
        {"a.cxx", LANG_CPP},
        {"a.hpp", LANG_CPP},
        {"a.hh", LANG_CPP},
        {"a.hxx", LANG_CPP},
        {"a.h++", LANG_CPP},
        {"a.ipp", LANG_CPP},
        {"a.py", LANG_PYTHON},
        {"a.pyi", LANG_PYTHON},
        {"a.js", LANG_JAVASCRIPT},
        {"a.mjs", LANG_JAVASCRIPT},
        {"a.cjs", LANG_JAVASCRIPT},
        {"a.jsx", LANG_JAVASCRIPT},
        {"a.ts", LANG_TYPESCRIPT},
        {"a.mts", LANG_TYPESCRIPT},
        {"a.cts", LANG_TYPESCRIPT},
        {"a.tsx", LANG_TSX},
        {"a.go", LANG_GO},
        {"a.rs", LANG_RUST},
        {"A.java", LANG_JAVA},
        {"A.cs", LANG_CSHARP},
        {"a.rb", LANG_RUBY},
        {"lib/tasks/x.rake", LANG_RUBY},
        {"Rakefile", LANG_RUBY},
        {"sub/Gemfile", LANG_RUBY},
        {"a.php", LANG_PHP},
        {"a.sh", LANG_BASH},
        {"a.bash", LANG_BASH},
        {"a.kt", LANG_KOTLIN},
        {"b.kts", LANG_KOTLIN},
        {"a.swift", LANG_SWIFT},
        {"a.scala", LANG_SCALA},
        {"a.sc", LANG_SCALA},
        {"a.lua", LANG_LUA},
        {"SCRIPT.PY", LANG_PYTHON},
        {"a.txt", LANG_NONE},
        {"Makefile", LANG_NONE},
        {".c", LANG_NONE},
        {"dir.c/README", LANG_NONE},
        {"a.d.ts", LANG_TYPESCRIPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(lang_detect(cases[i].path, NULL, 0), cases[i].l, "%s", cases[i].path);
    }
}

Test(extract, detect_by_shebang)
{
    static const struct {
        const char *head;
        lang_id l;
    } cases[] = {
        {"#!/usr/bin/env python3\nimport os\n", LANG_PYTHON},
        {"#!/usr/bin/python3.11 -u\n", LANG_PYTHON},
        {"#!/usr/bin/env node\n", LANG_JAVASCRIPT},
        {"#!/usr/bin/env -S node --no-warnings\n", LANG_JAVASCRIPT},
        {"#!/bin/sh\n", LANG_BASH},
        {"#!/bin/bash -e\n", LANG_BASH},
        {"#! /usr/bin/env FOO=1 bash\n", LANG_BASH},
        {"#!/usr/bin/ruby\n", LANG_RUBY},
        {"#!/usr/bin/env php\n", LANG_PHP},
        {"#!/usr/bin/env lua5.4\n", LANG_LUA},
        {"#!/usr/bin/env perl\n", LANG_NONE},
        {"#!/usr/bin/env shellcheck\n", LANG_NONE},
        {"#!\n", LANG_NONE},
        {"# not a shebang\n", LANG_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *h = cases[i].head;
        cr_assert_eq(lang_detect("bin/tool", h, strlen(h)), cases[i].l, "%s", h);
    }
    /* a .h is C unless its first bytes show C++ */
    const char *hc = "#ifdef __cplusplus\nextern \"C\" {\n#endif\nint f(void);\n";
    const char *hcpp = "#pragma once\nnamespace geo {\nclass Box;\n}\n";
    cr_assert_eq(lang_detect("x.h", hc, strlen(hc)), LANG_C);
    cr_assert_eq(lang_detect("x.h", hcpp, strlen(hcpp)), LANG_CPP);
    cr_assert_eq(lang_detect("x.c", hcpp, strlen(hcpp)), LANG_C);
    /* the extension wins over the first line */
    cr_assert_eq(lang_detect("x.rb", "#!/usr/bin/env python\n", 22), LANG_RUBY);
}

Test(extract, names_round_trip_and_queries_compile)
{
    for (int i = LANG_NONE + 1; i < LANG__COUNT; i++) {
        const char *name = lang_name((lang_id)i);
        cr_assert_gt(strlen(name), 0);
        cr_assert_eq(lang_by_name(name), (lang_id)i, "%s", name);
        cr_assert_not_null(lang_grammar((lang_id)i), "%s", name);
        char why[256];
        cr_assert(x_query_check((lang_id)i, why, sizeof why), "%s: %s", name, why);
    }
    cr_assert_str_eq(lang_name(LANG_NONE), "");
    cr_assert_eq(lang_by_name("cobol"), LANG_NONE);
    cr_assert_null(lang_query(LANG_NONE));
    char why[64];
    cr_assert_not(x_query_check(LANG_NONE, why, sizeof why));
}

static bool run(x_parser *p, lang_id l, const char *src, size_t n, arena *a, x_file *xf,
                const atomic_bool *cancel, char *why, size_t why_len)
{
    return x_extract(p, l, "t", src, n, a, cancel, xf, why, why_len);
}

static const x_symbol *find_sym(const x_file *xf, const char *qname)
{
    for (size_t i = 0; i < xf->n_syms; i++) {
        if (strcmp(xf->syms[i].qname, qname) == 0) {
            return &xf->syms[i];
        }
    }
    return NULL;
}

Test(extract, syntax_errors_still_yield_symbols)
{
    const char *src = "int good(void) { return 1; }\n"
                      "int broken(int x) { return x + ; @@ }\n"
                      "$$$ ;\n"
                      "static int later(void) { return good(); }\n";
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    cr_assert(run(p, LANG_C, src, strlen(src), &a, &xf, NULL, why, sizeof why), "%s", why);
    cr_assert(xf.had_errors);
    check_invariants(&xf);
    const x_symbol *g = find_sym(&xf, "good");
    const x_symbol *l = find_sym(&xf, "later");
    cr_assert_not_null(g);
    cr_assert_not_null(l);
    cr_assert_str_eq(g->kind, "fn");
    cr_assert_eq(l->start_line, 4);
    cr_assert_not(l->exported);
    cr_assert_not_null(find_sym(&xf, "broken"));
    cr_assert_eq(xf.n_calls, 1);
    cr_assert_eq(xf.calls[0].caller, l - xf.syms);
    cr_assert_eq(xf.lines, 4);

    const char *py =
        "def ok(a):\n    return a\n\ndef bad(:\n    pass\n\nclass K:\n    def m(self): pass\n";
    cr_assert(run(p, LANG_PYTHON, py, strlen(py), &a, &xf, NULL, why, sizeof why), "%s", why);
    cr_assert(xf.had_errors);
    cr_assert_not_null(find_sym(&xf, "ok"));
    cr_assert_not_null(find_sym(&xf, "K"));
    arena_release(&a);
    x_parser_free(p);
}

Test(extract, empty_and_no_query)
{
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    for (int i = LANG_NONE + 1; i < LANG__COUNT; i++) {
        cr_assert(run(p, (lang_id)i, "", 0, &a, &xf, NULL, why, sizeof why), "%s", why);
        cr_assert_eq(xf.n_syms + xf.n_calls + xf.n_imports + xf.n_routes, 0);
        cr_assert_eq(xf.lines, 0);
        cr_assert_not(xf.had_errors);
    }
    /* no grammar: nothing extracted, not an error; lines still counted */
    cr_assert(run(p, LANG_NONE, "a\nb\nc", 5, &a, &xf, NULL, why, sizeof why));
    cr_assert_eq(xf.n_syms, 0);
    cr_assert_eq(xf.lines, 3);
    arena_release(&a);
    x_parser_free(p);
}

Test(extract, binary_and_huge_line)
{
    size_t n = 256u << 10;
    char *buf = malloc(n);
    cr_assert_not_null(buf);
    uint32_t seed = 12345;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (char)(seed >> 16);
    }
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    static const lang_id langs[] = {LANG_C, LANG_PYTHON, LANG_JAVASCRIPT, LANG_GO};
    for (size_t k = 0; k < sizeof langs / sizeof langs[0]; k++) {
        bool ok = run(p, langs[k], buf, n / 4, &a, &xf, NULL, why, sizeof why);
        if (ok) {
            check_invariants(&xf);
        }
    }
    /* one 256 KiB line: a function whose name is 64 KiB long and a long parameter list */
    size_t name_len = 64u << 10;
    memcpy(buf, "int ", 4);
    memset(buf + 4, 'x', name_len);
    size_t o = 4 + name_len;
    memcpy(buf + o, "(int a", 6);
    o += 6;
    while (o < n - 16) {
        memcpy(buf + o, ", int a", 7);
        o += 7;
    }
    memcpy(buf + o, ") { f(); }", 10);
    o += 10;
    cr_assert(run(p, LANG_C, buf, o, &a, &xf, NULL, why, sizeof why), "%s", why);
    cr_assert_eq(xf.n_syms, 1);
    const x_symbol *s = &xf.syms[0];
    cr_assert_leq(strlen(s->name), X_NAME_MAX + 3);
    cr_assert_leq(strlen(s->signature), X_SIG_MAX + 3);
    cr_assert_leq(strlen(s->params), X_PARAMS_MAX + 3);
    cr_assert(strstr(s->signature, "\xe2\x80\xa6") != NULL,
              "a cut signature ends with an ellipsis");
    cr_assert_eq(s->start_line, 1);
    cr_assert_eq(xf.n_calls, 1);
    cr_assert_eq(xf.calls[0].caller, 0);
    arena_release(&a);
    x_parser_free(p);
    free(buf);
}

Test(extract, symbol_cap, .timeout = 120)
{
    /* one enum with more enumerators than a file may hold */
    size_t count = X_MAX_SYMS + 10;
    size_t cap = 32 + count * 12;
    char *src = malloc(cap);
    cr_assert_not_null(src);
    size_t o = (size_t)snprintf(src, cap, "enum e {\n");
    for (size_t i = 0; i < count; i++) {
        o += (size_t)snprintf(src + o, cap - o, "E%zu,\n", i);
    }
    o += (size_t)snprintf(src + o, cap - o, "};\n");
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    x_parser_set_budget(p, 110000); /* slow under sanitizers; the cap is what is tested */
    cr_assert(run(p, LANG_C, src, o, &a, &xf, NULL, why, sizeof why), "%s", why);
    cr_assert(xf.truncated);
    cr_assert_leq(xf.n_syms, X_MAX_SYMS);
    cr_assert_geq(xf.n_syms, X_MAX_SYMS - 1);
    arena_release(&a);
    x_parser_free(p);
    free(src);
}

/* a C file big enough that the parser checks its progress callback many times */
static char *big_c(size_t funcs, size_t *n)
{
    size_t cap = funcs * 64 + 1;
    char *src = malloc(cap);
    cr_assert_not_null(src);
    size_t o = 0;
    for (size_t i = 0; i < funcs; i++) {
        o += (size_t)snprintf(src + o, cap - o, "int f%zu(int a) { return g(a) + %zu; }\n", i, i);
    }
    *n = o;
    return src;
}

Test(extract, cancellation, .timeout = 120)
{
    size_t n;
    char *src = big_c(20000, &n);
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    atomic_bool cancel = true;
    cr_assert_not(run(p, LANG_C, src, n, &a, &xf, &cancel, why, sizeof why));
    cr_assert_str_eq(why, "cancelled");
    cr_assert_eq(xf.n_syms, 0);
    /* the parser is usable again afterwards (the halted parse does not leak into the next) */
    atomic_store(&cancel, false);
    x_parser_set_budget(p, 110000); /* slow under sanitizers on a loaded machine */
    cr_assert(run(p, LANG_C, src, n, &a, &xf, &cancel, why, sizeof why), "%s", why);
    cr_assert_eq(xf.n_syms, 20000);
    cr_assert_eq(xf.n_calls, 20000);
    cr_assert_str_eq(xf.syms[19999].qname, "f19999");
    arena_release(&a);
    x_parser_free(p);
    free(src);
}

Test(extract, time_budget)
{
    size_t n;
    char *src = big_c(200000, &n);
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    x_parser_set_budget(p, 1);
    cr_assert_not(run(p, LANG_C, src, n, &a, &xf, NULL, why, sizeof why));
    cr_assert(strstr(why, "timed out") != NULL, "%s", why);
    arena_release(&a);
    x_parser_free(p);
    free(src);
}

typedef struct job {
    const char *src;
    size_t n;
    char *rendered;
} job;

static void *extract_thread(void *arg)
{
    job *j = arg;
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    if (p && x_extract(p, LANG_C, "t.c", j->src, j->n, &a, NULL, &xf, why, sizeof why)) {
        j->rendered = render(&xf);
    }
    arena_release(&a);
    x_parser_free(p);
    return NULL;
}

Test(extract, two_threads)
{
    size_t n;
    char *src = big_c(2000, &n);
    job jobs[2] = {{src, n, NULL}, {src, n, NULL}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, extract_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    cr_assert_not_null(jobs[0].rendered);
    cr_assert_not_null(jobs[1].rendered);
    cr_assert_str_eq(jobs[0].rendered, jobs[1].rendered);
    free(jobs[0].rendered);
    free(jobs[1].rendered);
    free(src);
}

Test(extract, fills_routes)
{
    const char *src = "const express = require('express');\n"
                      "const app = express();\n"
                      "app.get('/users/:id', getUser);\n";
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    cr_assert(x_extract(p, LANG_JAVASCRIPT, "server.js", src, strlen(src), &a, NULL, &xf, why,
                        sizeof why),
              "%s", why);
    cr_assert_eq(xf.n_routes, 1);
    cr_assert_str_eq(xf.routes[0].method, "GET");
    cr_assert_str_eq(xf.routes[0].path, "/users/:id");
    cr_assert_eq(xf.routes[0].line, 3);
    cr_assert_eq(xf.n_imports, 1);
    arena_release(&a);
    x_parser_free(p);
}

/* an attribute macro between the type and the name (the kernel's __weak, __init...) is not the
   return type */
Test(extract, c_attribute_macros_are_not_return_types)
{
    const char *src =
        "static int __latent_entropy dup_mmap(struct mm_struct *mm)\n{\n\treturn 0;\n}\n"
        "void __weak arch_task_cache_init(void) { }\n"
        "static __net_init int loopback_net_init(struct net *net) { return 0; }\n"
        "static struct page *__weak pg(int x) { return 0; }\n"
        "static inline __attribute__((unused)) unsigned long f2(void) { return 0; }\n"
        "__u32 keep_u32(void) { return 0; }\n";
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    cr_assert(run(p, LANG_C, src, strlen(src), &a, &xf, NULL, why, sizeof why), "%s", why);
    const char *want[][2] = {{"dup_mmap", "int"},
                             {"arch_task_cache_init", "void"},
                             {"loopback_net_init", "int"},
                             {"pg", "struct page *"},
                             {"f2", "unsigned long"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const x_symbol *s = find_sym(&xf, want[i][0]);
        cr_assert_not_null(s, "%s", want[i][0]);
        cr_expect_str_eq(s->ret ? s->ret : "(none)", want[i][1], "%s", want[i][0]);
    }
    /* a type that merely starts with __ and is the only word before the name stays a type */
    const x_symbol *k = find_sym(&xf, "keep_u32");
    cr_assert_not_null(k);
    cr_expect_str_eq(k->ret ? k->ret : "(none)", "__u32");
    arena_release(&a);
    x_parser_free(p);
}

/* kernel heads the C grammar cannot read whole: no `struct` variable, the function is found and
   stays file-local (static), and the locals of a macro-made definition are not file symbols */
Test(extract, c_misparsed_heads_keep_their_function_and_drop_locals)
{
    const char *src =
        "static __latent_entropy struct task_struct *copy_process(\n"
        "\t\t\t\t\tstruct pid *pid,\n\t\t\t\t\tint trace)\n{\n\tint x;\n\treturn 0;\n}\n"
        "int g;\n"
        "{\n\tint err;\n\tstruct kernel_clone_args kargs;\n}\n";
    x_parser *p = x_parser_new();
    arena a;
    arena_init(&a, 0);
    x_file xf;
    char why[128];
    cr_assert(run(p, LANG_C, src, strlen(src), &a, &xf, NULL, why, sizeof why), "%s", why);
    check_invariants(&xf);
    const x_symbol *cp = find_sym(&xf, "copy_process");
    cr_assert_not_null(cp);
    cr_assert_str_eq(cp->kind, "fn");
    cr_assert_not(cp->exported, "copy_process is static");
    cr_assert_null(find_sym(&xf, "struct"));
    cr_assert_null(find_sym(&xf, "x"));
    cr_assert_null(find_sym(&xf, "err"), "a local of a file-scope block");
    cr_assert_null(find_sym(&xf, "kargs"));
    const x_symbol *g = find_sym(&xf, "g");
    cr_assert(g && g->exported, "a global stays");
    arena_release(&a);
    x_parser_free(p);
}

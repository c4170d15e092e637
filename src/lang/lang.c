/* lang.c - the language table: names, file name rules, grammars and embedded queries.
 *
 * One row per language, in lang_id order (a static assertion keeps the two in step). Detection
 * looks at the file's base name first (Rakefile, Gemfile), then its extension (exact, then
 * lower-cased, so `X.PY` is Python but `.C` stays unknown rather than guessed), and only for a
 * file none of those name, at a `#!` first line. The query texts come from the generated table
 * lang_query_texts[] (scripts/embed_queries.py embeds whatever src/lang/queries/<name>.scm exist),
 * so a language whose query is not written yet simply has none: lang_query() returns NULL. */
#include "lang/lang.h"

#include <string.h>

#include <tree_sitter/api.h>

const TSLanguage *tree_sitter_c(void);
const TSLanguage *tree_sitter_cpp(void);
const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);
const TSLanguage *tree_sitter_go(void);
const TSLanguage *tree_sitter_rust(void);
const TSLanguage *tree_sitter_java(void);
const TSLanguage *tree_sitter_c_sharp(void);
const TSLanguage *tree_sitter_ruby(void);
const TSLanguage *tree_sitter_php(void);
const TSLanguage *tree_sitter_bash(void);
const TSLanguage *tree_sitter_kotlin(void);
const TSLanguage *tree_sitter_swift(void);
const TSLanguage *tree_sitter_scala(void);
const TSLanguage *tree_sitter_lua(void);

/* generated (lang_queries.c) */
typedef struct lang_query_text {
    const char *name;
    const char *text;
} lang_query_text;
extern const lang_query_text lang_query_texts[];

typedef struct lang_row {
    lang_id id;
    const char *name;
    const char *exts[9];      /* with the dot; NULL-terminated */
    const char *basenames[3]; /* whole file names; NULL-terminated */
    const char *interps[6];   /* `#!` interpreter name prefixes; NULL-terminated */
    const TSLanguage *(*grammar)(void);
} lang_row;

static const lang_row rows[] = {
    {LANG_NONE, "", {NULL}, {NULL}, {NULL}, NULL},
    {LANG_C, "c", {".c", ".h", NULL}, {NULL}, {NULL}, tree_sitter_c},
    {LANG_CPP,
     "cpp",
     {".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".h++", ".ipp", NULL},
     {NULL},
     {NULL},
     tree_sitter_cpp},
    {LANG_PYTHON, "python", {".py", ".pyi", NULL}, {NULL}, {"python", NULL}, tree_sitter_python},
    {LANG_JAVASCRIPT,
     "javascript",
     {".js", ".mjs", ".cjs", ".jsx", NULL},
     {NULL},
     {"node", "nodejs", NULL},
     tree_sitter_javascript},
    {LANG_TYPESCRIPT,
     "typescript",
     {".ts", ".mts", ".cts", NULL},
     {NULL},
     {"ts-node", NULL},
     tree_sitter_typescript},
    {LANG_TSX, "tsx", {".tsx", NULL}, {NULL}, {NULL}, tree_sitter_tsx},
    {LANG_GO, "go", {".go", NULL}, {NULL}, {NULL}, tree_sitter_go},
    {LANG_RUST, "rust", {".rs", NULL}, {NULL}, {NULL}, tree_sitter_rust},
    {LANG_JAVA, "java", {".java", NULL}, {NULL}, {NULL}, tree_sitter_java},
    {LANG_CSHARP, "csharp", {".cs", NULL}, {NULL}, {NULL}, tree_sitter_c_sharp},
    {LANG_RUBY,
     "ruby",
     {".rb", ".rake", NULL},
     {"Rakefile", "Gemfile", NULL},
     {"ruby", NULL},
     tree_sitter_ruby},
    {LANG_PHP, "php", {".php", NULL}, {NULL}, {"php", NULL}, tree_sitter_php},
    {LANG_BASH,
     "bash",
     {".sh", ".bash", NULL},
     {NULL},
     {"bash", "sh", "dash", "ash", NULL},
     tree_sitter_bash},
    {LANG_KOTLIN, "kotlin", {".kt", ".kts", NULL}, {NULL}, {NULL}, tree_sitter_kotlin},
    {LANG_SWIFT, "swift", {".swift", NULL}, {NULL}, {NULL}, tree_sitter_swift},
    {LANG_SCALA, "scala", {".scala", ".sc", NULL}, {NULL}, {NULL}, tree_sitter_scala},
    {LANG_LUA, "lua", {".lua", NULL}, {NULL}, {"lua", "luajit", NULL}, tree_sitter_lua},
};
_Static_assert(sizeof rows / sizeof rows[0] == LANG__COUNT, "one row per lang_id");

static const lang_row *row_of(lang_id l)
{
    if ((int)l <= LANG_NONE || (int)l >= LANG__COUNT) {
        return NULL;
    }
    return &rows[l];
}

static bool ascii_lower_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        if (ca != *b) {
            return false;
        }
    }
    return *a == *b;
}

static lang_id by_ext(const char *ext, bool fold)
{
    for (int i = 1; i < LANG__COUNT; i++) {
        for (const char *const *e = rows[i].exts; *e; e++) {
            if (fold ? ascii_lower_eq(ext, *e) : strcmp(ext, *e) == 0) {
                return rows[i].id;
            }
        }
    }
    return LANG_NONE;
}

/* the interpreter a `#!` line runs: the first word's base name, or for `env` the first word
 * after it that is neither an option nor a VAR=value assignment */
static size_t shebang_interp(const char *head, size_t n, const char **out)
{
    size_t end = 0;
    while (end < n && head[end] != '\n' && head[end] != '\r') {
        end++;
    }
    size_t i = 2; /* after "#!" */
    bool after_env = false;
    while (i < end) {
        while (i < end && (head[i] == ' ' || head[i] == '\t')) {
            i++;
        }
        size_t w = i;
        while (i < end && head[i] != ' ' && head[i] != '\t') {
            i++;
        }
        if (w == i) {
            break;
        }
        const char *word = head + w;
        size_t len = i - w;
        const char *slash = memrchr(word, '/', len);
        if (slash) {
            len -= (size_t)(slash + 1 - word);
            word = slash + 1;
        }
        if (!after_env && len == 3 && memcmp(word, "env", 3) == 0) {
            after_env = true;
            continue;
        }
        if (after_env && (word[0] == '-' || memchr(word, '=', len))) {
            continue;
        }
        *out = word;
        return len;
    }
    return 0;
}

/* "python3.11" runs python: the prefix must be followed by nothing, a digit, '.' or '-' */
static bool interp_matches(const char *word, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (len < pl || memcmp(word, prefix, pl) != 0) {
        return false;
    }
    if (len == pl) {
        return true;
    }
    char c = word[pl];
    return (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* a `.h` is C unless its first bytes show C++ (C headers' `extern "C"` guards do not count):
 * C++ headers parsed with the C grammar lose their classes, methods and namespaces */
static bool looks_cpp(const char *head, size_t n)
{
    static const char *const markers[] = {
        "\nnamespace ",
        "\ntemplate <",
        "\ntemplate<",
        "\nclass ",
        "public:",
        "private:",
        "protected:",
        "std::",
        "\nusing ",
        "#include <string>\n",
        "#include <vector>\n",
        "#include <memory>\n",
    };
    if (n > 65536) {
        n = 65536;
    }
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        if (memmem(head, n, markers[i], strlen(markers[i]))) {
            return true;
        }
    }
    return false;
}

lang_id lang_detect(const char *relpath, const char *head, size_t n)
{
    if (relpath) {
        const char *base = strrchr(relpath, '/');
        base = base ? base + 1 : relpath;
        for (int i = 1; i < LANG__COUNT; i++) {
            for (const char *const *b = rows[i].basenames; *b; b++) {
                if (strcmp(base, *b) == 0) {
                    return rows[i].id;
                }
            }
        }
        const char *dot = strrchr(base, '.');
        if (dot && dot != base) {
            lang_id l = by_ext(dot, false);
            if (l == LANG_NONE) {
                l = by_ext(dot, true);
            }
            if (l == LANG_C && strcmp(dot, ".h") == 0 && head && looks_cpp(head, n)) {
                l = LANG_CPP;
            }
            if (l != LANG_NONE) {
                return l;
            }
        }
    }
    if (head && n > 2 && head[0] == '#' && head[1] == '!') {
        const char *word = NULL;
        size_t len = shebang_interp(head, n, &word);
        if (len == 0) {
            return LANG_NONE;
        }
        for (int i = 1; i < LANG__COUNT; i++) {
            for (const char *const *p = rows[i].interps; *p; p++) {
                if (interp_matches(word, len, *p)) {
                    return rows[i].id;
                }
            }
        }
    }
    return LANG_NONE;
}

const char *lang_name(lang_id l)
{
    const lang_row *r = row_of(l);
    return r ? r->name : "";
}

lang_id lang_by_name(const char *name)
{
    if (!name) {
        return LANG_NONE;
    }
    for (int i = 1; i < LANG__COUNT; i++) {
        if (strcmp(name, rows[i].name) == 0) {
            return rows[i].id;
        }
    }
    return LANG_NONE;
}

const TSLanguage *lang_grammar(lang_id l)
{
    const lang_row *r = row_of(l);
    return r ? r->grammar() : NULL;
}

const char *lang_query(lang_id l)
{
    const lang_row *r = row_of(l);
    if (!r) {
        return NULL;
    }
    for (const lang_query_text *q = lang_query_texts; q->name; q++) {
        if (strcmp(q->name, r->name) == 0) {
            return q->text;
        }
    }
    return NULL;
}

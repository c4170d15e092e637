/* alias.c - the argument rewrites of the deprecated aliases (aliases.def, tools.md §6).
 *
 * Each rewrite turns the alias's arguments into the target tool's, leaving names it does not
 * know in place: the target's validation then reports them as ignored, as for any call. A
 * rewrite refuses only what it cannot translate (an unknown action or language); missing
 * arguments are left to the target, which names them after the scope check (tools.md §1.10). */
#include "tools/alias.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

/* language name → include glob by extension (ctx_semantic_search `languages`) */
static const struct {
    const char *lang, *glob;
} lang_globs[] = {
    {"c", "*.{c,h}"},
    {"cpp", "*.{cc,cpp,cxx,c++,hh,hpp,hxx,h}"},
    {"c++", "*.{cc,cpp,cxx,c++,hh,hpp,hxx,h}"},
    {"python", "*.{py,pyi}"},
    {"javascript", "*.{js,jsx,mjs,cjs}"},
    {"typescript", "*.{ts,tsx,mts,cts}"},
    {"tsx", "*.tsx"},
    {"go", "*.go"},
    {"rust", "*.rs"},
    {"java", "*.java"},
    {"csharp", "*.cs"},
    {"c#", "*.cs"},
    {"ruby", "*.rb"},
    {"php", "*.php"},
    {"bash", "*.{sh,bash}"},
    {"shell", "*.{sh,bash}"},
    {"kotlin", "*.{kt,kts}"},
    {"swift", "*.swift"},
    {"scala", "*.{scala,sc}"},
    {"lua", "*.lua"},
    {"markdown", "*.{md,mdx}"},
};

static bool add_language(buf *inc, const char *l, char *why, size_t why_len)
{
    const char *g = NULL;
    for (size_t i = 0; i < sizeof lang_globs / sizeof lang_globs[0]; i++) {
        if (strcasecmp(lang_globs[i].lang, l) == 0) {
            g = lang_globs[i].glob;
        }
    }
    if (inc->len) {
        buf_putc(inc, ',');
    }
    if (g) {
        buf_puts(inc, g);
        return true;
    }
    /* an unknown name is taken as an extension, if it looks like one */
    size_t n = strlen(l);
    if (n == 0 || n > 16 ||
        strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+") != n) {
        snprintf(why, why_len, "languages: unknown language '%.40s'", l);
        return false;
    }
    buf_printf(inc, "*.%s", l);
    return true;
}

static bool alias_semantic_search(json_t *args, const char **target, char *shown, size_t shown_len,
                                  char *why, size_t why_len)
{
    /* artifacts=true: the artifact index (ctx_artifacts action=search, scope artifacts) */
    json_t *art = json_object_get(args, "artifacts");
    if (art && !json_is_boolean(art)) {
        snprintf(why, why_len, "artifacts must be a boolean");
        return false;
    }
    if (json_is_true(art)) {
        json_t *q = json_object_get(args, "query");
        json_t *k = json_object_get(args, "top_k");
        json_t *n = json_pack("{s:s, s:O?, s:O?}", "action", "search", "query", q, "top_k", k);
        json_object_clear(args);
        json_object_update(args, n);
        json_decref(n);
        *target = "ctx_artifacts";
        snprintf(shown, shown_len, "ctx_artifacts action=search");
        return true;
    }
    json_object_del(args, "artifacts");
    const char *action = json_string_value(json_object_get(args, "action"));
    const char *target_action = "bm25";
    if (action && strcmp(action, "reindex") == 0) {
        target_action = "reindex";
    } else if (action && strcmp(action, "find_related") == 0) {
        target_action = "find_related";
    } else if (action && strcmp(action, "search") != 0) {
        snprintf(why, why_len, "action must be one of: search, reindex, find_related");
        return false;
    }
    json_object_set_new(args, "action", json_string(target_action));
    snprintf(shown, shown_len, "ctx_search action=%s", target_action);

    json_t *pg = json_object_get(args, "path_glob");
    json_t *langs = json_object_get(args, "languages");
    if (pg && !json_is_string(pg)) {
        snprintf(why, why_len, "path_glob must be a string");
        return false;
    }
    if (pg) {
        json_object_set(args, "include", pg);
        json_object_del(args, "path_glob");
    } else if (langs) {
        buf inc;
        buf_init(&inc, 4096);
        bool ok = true;
        if (json_is_string(langs)) {
            ok = add_language(&inc, json_string_value(langs), why, why_len);
        } else if (json_is_array(langs) && json_array_size(langs) <= 20) {
            size_t i;
            json_t *it;
            json_array_foreach (langs, i, it) {
                if (!json_is_string(it)) {
                    snprintf(why, why_len, "languages must be strings");
                    ok = false;
                    break;
                }
                if (!(ok = add_language(&inc, json_string_value(it), why, why_len))) {
                    break;
                }
            }
        } else {
            snprintf(why, why_len, "languages must be a string or an array of at most 20");
            ok = false;
        }
        if (ok && inc.len) {
            json_object_set_new(args, "include", json_string(inc.ptr));
        }
        buf_release(&inc);
        if (!ok) {
            return false;
        }
    }
    json_object_del(args, "languages");
    return true;
}

static bool alias_symbol(json_t *args, const char **target, char *shown, size_t shown_len,
                         char *why, size_t why_len)
{
    json_object_set_new(args, "action", json_string("symbol"));
    snprintf(shown, shown_len, "ctx_search action=symbol");
    return true;
}

static bool alias_multi_read(json_t *args, const char **target, char *shown, size_t shown_len,
                             char *why, size_t why_len)
{
    snprintf(shown, shown_len, "ctx_read paths=[…]");
    return true;
}

static bool alias_smart_read(json_t *args, const char **target, char *shown, size_t shown_len,
                             char *why, size_t why_len)
{
    json_object_set_new(args, "mode", json_string("auto"));
    snprintf(shown, shown_len, "ctx_read mode=auto");
    return true;
}

static const tool_alias aliases[] = {
#define ALIAS(n, t, fn) {.name = #n, .target = (t), .rewrite = (fn)},
#include "tools/aliases.def"
#undef ALIAS
};

const tool_alias *alias_find(const char *name)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(aliases[i].name, name) == 0) {
            return &aliases[i];
        }
    }
    return NULL;
}

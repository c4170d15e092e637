/* registry.c - the tool table built from tools.def (see registry.h). */
#include "tools/registry.h"

#include <string.h>

#include "core/log.h"
#include "limit/policy.h"
#include "tools/alias.h"
#include "tools/handlers.h"

/* NOLINTBEGIN(bugprone-macro-parentheses): X-macro arguments are initializers and names */
static tool_def table[] = {
#define X(c, nm, ti, sc, co, ro, de, id, qu, ne, desc)                                             \
    {.name = nm,                                                                                   \
     .title = ti,                                                                                  \
     .description = desc,                                                                          \
     .scopes = sc,                                                                                 \
     .cost = co,                                                                                   \
     .schema_text = c##_schema,                                                                    \
     .needs = ne,                                                                                  \
     .handler = tool_##c,                                                                          \
     .read_only = ro,                                                                              \
     .destructive = de,                                                                            \
     .idempotent = id,                                                                             \
     .quick = qu},
#include "tools/tools.def"
#undef X
};
/* NOLINTEND(bugprone-macro-parentheses) */

#define N_TOOLS (sizeof table / sizeof table[0])

/* the catalog the limit layer checks toolCosts against (limit_set_catalog) */
static limit_tool catalog[N_TOOLS];
/* NOLINTBEGIN(bugprone-macro-parentheses): X-macro arguments are names */
static const char *const alias_names[] = {
#define ALIAS(nm, target, rewrite) #nm,
#include "tools/aliases.def"
#undef ALIAS
    NULL};
/* NOLINTEND(bugprone-macro-parentheses) */

bool registry_init(void)
{
    for (size_t i = 0; i < N_TOOLS; i++) {
        catalog[i] = (limit_tool){table[i].name, table[i].schema_text};
    }
    limit_set_catalog(catalog, N_TOOLS, alias_names);
    for (size_t i = 0; i < N_TOOLS; i++) {
        if (table[i].schema) {
            continue;
        }
        json_error_t e;
        table[i].schema = json_loads(table[i].schema_text, 0, &e);
        if (!table[i].schema || !json_is_object(table[i].schema)) {
            log_error("tool '%s': schema does not parse: %s", table[i].name, e.text);
            return false;
        }
    }
    return true;
}

size_t registry_count(void)
{
    return N_TOOLS;
}

const tool_def *registry_at(size_t i)
{
    return i < N_TOOLS ? &table[i] : NULL;
}

const tool_def *registry_find(const char *name)
{
    for (size_t i = 0; i < N_TOOLS; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

const tool_def *registry_find_callable(const char *name)
{
    const tool_def *d = registry_find(name);
    if (!d) {
        const tool_alias *al = alias_find(name);
        d = al ? registry_find(al->target) : NULL;
    }
    return d;
}

size_t registry_index(const tool_def *d)
{
    return (size_t)(d - table);
}

bool registry_visible(const tool_def *d, const config *c, const principal *who)
{
    return (d->scopes & who->scopes) == d->scopes &&
           config_tenant_tool_allowed(c, who->tenant_id, registry_index(d));
}

json_t *registry_describe(const tool_def *d)
{
    return json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:b, s:b, s:b, s:b}}", "name", d->name, "title",
                     d->title, "description", d->description, "inputSchema", d->schema,
                     "annotations", "title", d->title, "readOnlyHint", d->read_only,
                     "destructiveHint", d->destructive, "idempotentHint", d->idempotent,
                     "openWorldHint", 0);
}

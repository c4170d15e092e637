/* policy.c - rate tiers and per-tool costs of a config (see policy.h). */
#include "limit/policy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jsonx.h"
#include "core/log.h"
/* the tool catalog (limit_set_catalog): set once at start, read-only after */
static const limit_tool *tools;
static size_t n_tools;
static const char *const no_aliases[] = {NULL};
static const char *const *alias_names = no_aliases;

void limit_set_catalog(const limit_tool *t, size_t n, const char *const *aliases)
{
    tools = t;
    n_tools = n;
    alias_names = aliases ? aliases : no_aliases;
}

#define N_TOOLS n_tools

static bool tier_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CFG_TIER_NAME_MAX ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
            return false;
        }
    }
    return true;
}

/* a name from the file, made printable and short for a problem line */
static void shown(const char *s, char out[48])
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j < 40; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (strlen(s) > 40) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

/* member `key` of a tier: absent (ok, *out untouched), or a number >= min (> 0 when min is 0) */
static bool tier_num(json_t *t, const char *tier, const char *key, double min, bool required,
                     double *out, config_problems *p)
{
    json_t *v = json_object_get(t, key);
    const char *want = min > 0 ? "a number >= 1" : "a number > 0";
    if (!v || json_is_null(v)) {
        if (required) {
            config_problem(p, "rateTiers.%s.%s: required, %s", tier, key, want);
            return false;
        }
        return true;
    }
    double d = json_is_number(v) ? json_number_value(v) : -1;
    bool ok = json_is_number(v) && (min > 0 ? d >= min : d > 0) && d <= 1e9;
    if (!ok) {
        if (json_is_number(v)) {
            config_problem(p, "rateTiers.%s.%s: must be %s (at most 1e9), not %g", tier, key, want,
                           d);
        } else {
            config_problem(p, "rateTiers.%s.%s: must be %s, not %s", tier, key, want,
                           jsonx_type_name(v));
        }
        return false;
    }
    *out = d;
    return true;
}

static void load_tiers(config *c, json_t *root, config_problems *p)
{
    json_t *obj = json_object_get(root, "rateTiers");
    size_t n = obj && json_is_object(obj) ? json_object_size(obj) : 0;
    c->tiers = xcalloc(n + 1, sizeof *c->tiers);
    if (!c->tiers) {
        config_problem(p, "rateTiers: out of memory");
        return;
    }
    cfg_tier *def = &c->tiers[0];
    snprintf(def->name, sizeof def->name, "default");
    def->rps = c->key_rps;
    def->burst = c->key_burst;
    def->tenant_rps = c->max_rps;
    def->tenant_burst = c->rate_burst;
    c->n_tiers = 1;
    if (!obj || json_is_null(obj)) {
        return;
    }
    if (!json_is_object(obj)) {
        config_problem(p,
                       "rateTiers: must be an object of tier name -> {rps, burst, tenantRps?, "
                       "tenantBurst?}, not %s",
                       jsonx_type_name(obj));
        return;
    }
    if (n > LIMIT_TIERS_MAX) {
        config_problem(p, "rateTiers: at most %d tiers, not %zu", LIMIT_TIERS_MAX, n);
        return;
    }
    const char *name;
    json_t *t;
    json_object_foreach (obj, name, t) {
        char nm[48];
        shown(name, nm);
        if (!tier_name_ok(name)) {
            config_problem(p,
                           "rateTiers.%s: not a tier name (1-32 characters of [a-z0-9_-], "
                           "starting with a letter or digit)",
                           nm);
            continue;
        }
        if (!json_is_object(t)) {
            config_problem(p,
                           "rateTiers.%s: must be an object {rps, burst, tenantRps?, "
                           "tenantBurst?}, not %s",
                           nm, jsonx_type_name(t));
            continue;
        }
        bool ok = true;
        const char *mk;
        json_t *mv;
        json_object_foreach (t, mk, mv) {
            if (strcmp(mk, "rps") != 0 && strcmp(mk, "burst") != 0 &&
                strcmp(mk, "tenantRps") != 0 && strcmp(mk, "tenantBurst") != 0) {
                char mks[48];
                shown(mk, mks);
                config_problem(p,
                               "rateTiers.%s.%s: unknown field (known: rps, burst, tenantRps, "
                               "tenantBurst)",
                               nm, mks);
                ok = false;
            }
        }
        cfg_tier tier = {.tenant_rps = c->max_rps, .tenant_burst = c->rate_burst};
        snprintf(tier.name, sizeof tier.name, "%s", name);
        ok = tier_num(t, nm, "rps", 0, true, &tier.rps, p) && ok;
        ok = tier_num(t, nm, "burst", 1, true, &tier.burst, p) && ok;
        ok = tier_num(t, nm, "tenantRps", 0, false, &tier.tenant_rps, p) && ok;
        ok = tier_num(t, nm, "tenantBurst", 1, false, &tier.tenant_burst, p) && ok;
        if (!ok) {
            continue;
        }
        if (strcmp(name, "default") == 0) {
            *def = tier;
        } else {
            c->tiers[c->n_tiers++] = tier;
        }
    }
}

/* the `action` enum of a tool's schema (new reference), or NULL */
static json_t *action_enum(const char *schema_text)
{
    json_t *schema = json_loads(schema_text, 0, NULL);
    json_t *en =
        json_object_get(json_object_get(json_object_get(schema, "properties"), "action"), "enum");
    json_t *out = json_is_array(en) ? json_incref(en) : NULL;
    json_decref(schema);
    return out;
}

static int cost_order(const void *a, const void *b)
{
    const cfg_tool_cost *x = a, *y = b;
    if (x->tool != y->tool) {
        return x->tool < y->tool ? -1 : 1;
    }
    return strcmp(x->action, y->action);
}

static void load_costs(config *c, json_t *root, config_problems *p)
{
    c->tool_cost = xmalloc((N_TOOLS + 1) * sizeof *c->tool_cost);
    if (!c->tool_cost) {
        config_problem(p, "toolCosts: out of memory");
        return;
    }
    for (size_t i = 0; i < N_TOOLS; i++) {
        c->tool_cost[i] = -1;
    }
    json_t *obj = json_object_get(root, "toolCosts");
    if (!obj || json_is_null(obj)) {
        return;
    }
    if (!json_is_object(obj)) {
        config_problem(p,
                       "toolCosts: must be an object of \"tool\" or \"tool:action\" -> cost "
                       "(an integer 0-%d), not %s",
                       LIMIT_TOOL_COST_MAX, jsonx_type_name(obj));
        return;
    }
    size_t n = json_object_size(obj);
    if (n > LIMIT_TOOL_COSTS_MAX) {
        config_problem(p, "toolCosts: at most %d entries, not %zu", LIMIT_TOOL_COSTS_MAX, n);
        return;
    }
    c->tool_costs = xcalloc(n + 1, sizeof *c->tool_costs);
    if (!c->tool_costs) {
        config_problem(p, "toolCosts: out of memory");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        char ks[48];
        shown(key, ks);
        const char *colon = strchr(key, ':');
        size_t tl = colon ? (size_t)(colon - key) : strlen(key);
        size_t tool = N_TOOLS;
        for (size_t i = 0; i < N_TOOLS; i++) {
            if (strlen(tools[i].name) == tl && strncmp(tools[i].name, key, tl) == 0) {
                tool = i;
            }
        }
        bool ok = true;
        if (tool == N_TOOLS) {
            bool alias = false;
            for (size_t i = 0; alias_names[i]; i++) {
                alias = alias ||
                        (strlen(alias_names[i]) == tl && strncmp(alias_names[i], key, tl) == 0);
            }
            config_problem(p, "toolCosts.%s: %s", ks,
                           alias ? "a deprecated alias: set the cost of the tool it becomes"
                                 : "unknown tool (a name from tools/list, optionally "
                                   "followed by :action)");
            ok = false;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > LIMIT_TOOL_COST_MAX) {
            config_problem(p, "toolCosts.%s: must be an integer between 0 and %d", ks,
                           LIMIT_TOOL_COST_MAX);
            ok = false;
        }
        if (ok && colon) {
            const char *action = colon + 1;
            json_t *en = action_enum(tools[tool].schema);
            bool found = false;
            size_t i;
            json_t *a;
            json_array_foreach (en, i, a) {
                found = found || (json_is_string(a) && strcmp(json_string_value(a), action) == 0);
            }
            if (!found) {
                char list[400] = "";
                size_t used = 0;
                json_array_foreach (en, i, a) {
                    if (json_is_string(a) &&
                        used + strlen(json_string_value(a)) + 3 < sizeof list) {
                        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                                 used ? ", " : "", json_string_value(a));
                    }
                }
                if (en) {
                    config_problem(p, "toolCosts.%s: %s has no action '%.40s' (actions: %s)", ks,
                                   tools[tool].name, action, list);
                } else {
                    config_problem(p, "toolCosts.%s: %s takes no action argument", ks,
                                   tools[tool].name);
                }
                ok = false;
            }
            json_decref(en);
        }
        if (!ok) {
            continue;
        }
        int cost = (int)json_integer_value(v);
        if (!colon) {
            c->tool_cost[tool] = cost;
            continue;
        }
        cfg_tool_cost *e = &c->tool_costs[c->n_tool_costs];
        e->tool = tool;
        e->action = xstrdup(colon + 1);
        e->cost = cost;
        if (!e->action) {
            config_problem(p, "toolCosts: out of memory");
            continue;
        }
        c->n_tool_costs++;
    }
    qsort(c->tool_costs, c->n_tool_costs, sizeof *c->tool_costs, cost_order);
}

void limit_config_load(config *c, json_t *root, config_problems *p)
{
    load_tiers(c, root, p);
    load_costs(c, root, p);
}

void limit_config_free(config *c)
{
    for (size_t i = 0; i < c->n_tool_costs; i++) {
        xfree(c->tool_costs[i].action);
    }
    xfree(c->tool_costs);
    xfree(c->tool_cost);
    xfree(c->tiers);
    c->tool_costs = NULL;
    c->tool_cost = NULL;
    c->tiers = NULL;
    c->n_tool_costs = c->n_tiers = 0;
}

const cfg_tier *limit_tier(const config *c, const char *name)
{
    for (size_t i = 0; name && i < c->n_tiers; i++) {
        if (strcmp(c->tiers[i].name, name) == 0) {
            return &c->tiers[i];
        }
    }
    return NULL;
}

/* names already warned about in this config generation (bounded: a flood of odd names from the
 * store warns about the first few only) */
#define WARNED_MAX 32
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t warned_generation;
static char warned[WARNED_MAX][CFG_TIER_NAME_MAX + 1];
static size_t n_warned;

static void warn_once(const config *c, const char *name)
{
    pthread_mutex_lock(&warned_lock);
    if (warned_generation != c->generation) {
        warned_generation = c->generation;
        n_warned = 0;
    }
    bool seen = false;
    for (size_t i = 0; i < n_warned && !seen; i++) {
        seen = strncmp(warned[i], name, CFG_TIER_NAME_MAX) == 0;
    }
    if (!seen && n_warned < WARNED_MAX) {
        snprintf(warned[n_warned++], sizeof warned[0], "%s", name);
        char nm[48];
        shown(name, nm);
        log_warn("rate tier '%s' is not in rateTiers: credentials of that tier get the tier "
                 "'default'",
                 nm);
    }
    pthread_mutex_unlock(&warned_lock);
}

const cfg_tier *limit_tier_for(const config *c, const char *name)
{
    if (!name || strcmp(name, "default") == 0) {
        return &c->tiers[0];
    }
    const cfg_tier *t = limit_tier(c, name);
    if (t) {
        return t;
    }
    warn_once(c, name);
    return &c->tiers[0];
}

void limit_tier_names(const config *c, char *out, size_t cap)
{
    size_t used = 0;
    if (cap) {
        out[0] = '\0';
    }
    for (size_t i = 0; i < c->n_tiers && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", c->tiers[i].name);
        used += w > 0 ? (size_t)w : 0;
    }
}

int limit_tool_cost(const config *c, size_t tool, const char *action, int table_cost)
{
    if (!c->tool_cost || tool >= N_TOOLS) {
        return table_cost;
    }
    if (action && c->n_tool_costs) {
        /* the first entry of this tool (sorted by tool, then action) */
        size_t lo = 0, hi = c->n_tool_costs;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (c->tool_costs[mid].tool < tool) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (size_t i = lo; i < c->n_tool_costs && c->tool_costs[i].tool == tool; i++) {
            if (strcmp(c->tool_costs[i].action, action) == 0) {
                return c->tool_costs[i].cost;
            }
        }
    }
    return c->tool_cost[tool] >= 0 ? c->tool_cost[tool] : table_cost;
}

void limit_set_tenant_max_concurrency(config *c, const char *tenant, int max_concurrency)
{
    if (max_concurrency <= 0) {
        return;
    }
    cfg_tenant *t = config_tenant_entry(c, tenant, true);
    if (!t) {
        log_warn("tenant '%s': max_concurrency not applied (out of memory)", tenant);
        return;
    }
    t->max_concurrency = max_concurrency;
}

int limit_tenant_max_concurrency(const config *c, const char *tenant)
{
    const cfg_tenant *t = config_tenant(c, tenant);
    return t ? t->max_concurrency : 0;
}

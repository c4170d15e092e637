/* policy.h - the rate policy of a config: tiers (`rateTiers`) and per-tool costs (`toolCosts`).
 *
 * rateTiers maps a tier name ([a-z0-9][a-z0-9_-]{0,31}) to {rps, burst, tenantRps?,
 * tenantBurst?}: a credential of the tier gets a key bucket of capacity burst refilled at rps, and
 * its tenant's bucket is sized by tenantBurst/tenantRps (default rateBurst/maxRps). The tier
 * "default" always exists ({keyRps, keyRateBurst} unless rateTiers.default overrides it).
 * toolCosts maps "tool" or "tool:action" to an integer 0..1000; the tool must be in tools.def and
 * the action in the tool's `action` enum. The cost of a call is toolCosts["tool:action"], else
 * toolCosts["tool"], else the tool table's cost (with its needs() raise). */
#ifndef CTXD_LIMIT_POLICY_H
#define CTXD_LIMIT_POLICY_H

#include <jansson.h>

#include "config/config.h"

#define LIMIT_TIERS_MAX 64
#define LIMIT_TOOL_COST_MAX 1000
#define LIMIT_TOOL_COSTS_MAX 512

/* parse rateTiers and toolCosts of root into c (every problem into p); called by config_load
 * before the tokens are read, so that a token's tier can be checked with limit_tier */
void limit_config_load(config *c, json_t *root, config_problems *p);

/* The tool catalog toolCosts is checked against (tools.md §0): the tools in tool-table order
 * (name, and argument schema text whose `action` enum lists the actions) and the deprecated
 * aliases (NULL-terminated). The tool registry installs it once at start (registry_init, which
 * main() calls first), before any config is loaded, so this layer never reads the tool table
 * above it; without a catalog every toolCosts name is refused as unknown. */
typedef struct limit_tool {
    const char *name;
    const char *schema;
} limit_tool;
void limit_set_catalog(const limit_tool *tools, size_t n, const char *const *aliases);
void limit_config_free(config *c);

/* the tier of that name, or NULL */
const cfg_tier *limit_tier(const config *c, const char *name);
/* the tier a credential of tier `name` gets: that tier, or "default" when name is NULL or not
 * configured (a warning is logged once per name and config generation; never the credential) */
const cfg_tier *limit_tier_for(const config *c, const char *name);
/* the configured tier names, comma-separated, into out (for messages) */
void limit_tier_names(const config *c, char *out, size_t cap);

/* the cost of a call of tool number `tool` (registry_index) with this action (NULL: none),
 * whose table cost (after needs()) is table_cost */
int limit_tool_cost(const config *c, size_t tool, const char *action, int table_cost);

/* The tenant setting max_concurrency (DESIGN §11.12), recorded in a snapshot while it is built
 * (serve.c merges the store's tenants into every snapshot), so that no call reads the store:
 * a change takes effect with the next snapshot (any reload). O(log tenants) per lookup; the
 * tenants arrive sorted by id, so recording them is O(1) each. */
void limit_set_tenant_max_concurrency(config *c, const char *tenant, int max_concurrency);
/* the tenant's max_concurrency, or 0 when it has none */
int limit_tenant_max_concurrency(const config *c, const char *tenant);

#endif

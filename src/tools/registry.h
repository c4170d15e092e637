/* registry.h - the tool table as data: lookup by name, listing order, visibility per scopes. */
#ifndef CTXD_TOOLS_REGISTRY_H
#define CTXD_TOOLS_REGISTRY_H

#include <stddef.h>

#include "auth/auth.h"
#include "config/config.h"
#include "tools/tool.h"

/* parse every schema; false (with the tool's name in the log) if one is broken: a bug */
bool registry_init(void);
size_t registry_count(void);
const tool_def *registry_at(size_t i);
const tool_def *registry_find(const char *name);
/* the entry a call by this name runs: the tool, or the target of a deprecated alias (tools.md §6)
 */
const tool_def *registry_find_callable(const char *name);
size_t registry_index(const tool_def *d);
/* listed for the caller: it holds the base scopes of the tool, and its tenant's
   settings.allowed_tools (if set, in the snapshot c) name the tool */
bool registry_visible(const tool_def *d, const config *c, const principal *who);
/* the MCP/REST description object {name,title,description,inputSchema,annotations} */
json_t *registry_describe(const tool_def *d);

#endif

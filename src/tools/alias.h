/* alias.h - deprecated tool names rewritten to current calls (aliases.def, tools.md §6). */
#ifndef CTXD_TOOLS_ALIAS_H
#define CTXD_TOOLS_ALIAS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tool_alias {
    const char *name;
    const char *target;
    /* rewrite args (a JSON object, edited in place) into the target's arguments; *target
       (preset to the alias's target) may be switched to another tool for this call; shown
       receives the target call as the deprecation line names it ("ctx_search action=bm25");
       false with a sentence in why when the call cannot be rewritten (invalid_arguments) */
    bool (*rewrite)(json_t *args, const char **target, char *shown, size_t shown_len, char *why,
                    size_t why_len);
} tool_alias;

/* the alias called name, or NULL */
const tool_alias *alias_find(const char *name);

#endif

/* scope.h - scopes as a bit set, roles as named scope sets (DESIGN §5).
 *
 * Scope names are accepted case-insensitively (`sessionMutations` == `sessionmutations`) and
 * printed in their canonical spelling. Pure functions: no config, no I/O. */
#ifndef CTXD_AUTH_SCOPE_H
#define CTXD_AUTH_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

#define SCOPE_LIST(X)                                                                              \
    X(SEARCH, "search")                                                                            \
    X(GRAPH, "graph")                                                                              \
    X(ARTIFACTS, "artifacts")                                                                      \
    X(INDEX, "index")                                                                              \
    X(EVENTS, "events")                                                                            \
    X(SESSION_MUTATIONS, "sessionMutations")                                                       \
    X(KNOWLEDGE, "knowledge")                                                                      \
    X(AUDIT, "audit")                                                                              \
    X(ADMIN, "admin")

enum {
#define X(name, s) SCOPE_BIT_##name,
    SCOPE_LIST(X)
#undef X
        SCOPE__COUNT
};

typedef unsigned scope_set;
#define X(name, s) static const scope_set SCOPE_##name = 1u << SCOPE_BIT_##name;
SCOPE_LIST(X)
#undef X
#define SCOPE_ALL ((1u << SCOPE__COUNT) - 1)

/* 0 when the name is not a scope */
scope_set scope_parse(const char *name, size_t len);
/* a comma-separated list; false (with the offending name in bad) on an unknown scope */
bool scope_parse_list(const char *list, scope_set *out, char *bad, size_t bad_len);
/* seed 2's key permissions, a comma-separated list of read, write, admin (case-insensitive):
   read = search, graph, artifacts, events; write = read + index, sessionMutations, knowledge;
   admin = every scope. False (with the offending name in bad) on an unknown permission. */
bool scope_parse_permissions(const char *list, scope_set *out, char *bad, size_t bad_len);
/* role name -> scope set; false for an unknown role */
bool scope_role(const char *role, scope_set *out);
/* canonical names of the set, joined by sep */
void scope_format(buf *out, scope_set s, const char *sep);
/* canonical names of the set as a JSON array of strings (new reference) */
json_t *scope_json(scope_set s);

#endif

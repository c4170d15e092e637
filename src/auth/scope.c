/* scope.c - scope names and roles (see scope.h). */
#include "auth/scope.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const names[] = {
#define X(name, s) s,
    SCOPE_LIST(X)
#undef X
};

scope_set scope_parse(const char *name, size_t len)
{
    for (unsigned i = 0; i < SCOPE__COUNT; i++) {
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

static scope_set permission(const char *name, size_t len)
{
    const scope_set read = SCOPE_SEARCH | SCOPE_GRAPH | SCOPE_ARTIFACTS | SCOPE_EVENTS;
    if (len == 4 && strncasecmp(name, "read", 4) == 0) {
        return read;
    }
    if (len == 5 && strncasecmp(name, "write", 5) == 0) {
        return read | SCOPE_INDEX | SCOPE_SESSION_MUTATIONS | SCOPE_KNOWLEDGE;
    }
    if (len == 5 && strncasecmp(name, "admin", 5) == 0) {
        return SCOPE_ALL;
    }
    return 0;
}

/* a comma-separated list of names, each mapped by one (0: unknown) */
static bool parse_names(const char *list, scope_set (*one_of)(const char *, size_t), scope_set *out,
                        char *bad, size_t bad_len)
{
    scope_set s = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        /* trim spaces around names: `search, graph` is what people type */
        const char *a = p, *b = p + n;
        while (a < b && *a == ' ') {
            a++;
        }
        while (b > a && b[-1] == ' ') {
            b--;
        }
        if (b > a) {
            scope_set one = one_of(a, (size_t)(b - a));
            if (!one) {
                snprintf(bad, bad_len, "%.*s", (int)(b - a), a);
                return false;
            }
            s |= one;
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    *out = s;
    return true;
}

bool scope_parse_list(const char *list, scope_set *out, char *bad, size_t bad_len)
{
    return parse_names(list, scope_parse, out, bad, bad_len);
}

bool scope_parse_permissions(const char *list, scope_set *out, char *bad, size_t bad_len)
{
    return parse_names(list, permission, out, bad, bad_len);
}

bool scope_role(const char *role, scope_set *out)
{
    if (strcasecmp(role, "viewer") == 0) {
        *out = SCOPE_SEARCH;
    } else if (strcasecmp(role, "member") == 0) {
        *out = SCOPE_SEARCH | SCOPE_GRAPH | SCOPE_INDEX | SCOPE_KNOWLEDGE | SCOPE_EVENTS;
    } else if (strcasecmp(role, "admin") == 0 || strcasecmp(role, "owner") == 0) {
        *out = SCOPE_ALL;
    } else {
        return false;
    }
    return true;
}

void scope_format(buf *out, scope_set s, const char *sep)
{
    bool first = true;
    for (unsigned i = 0; i < SCOPE__COUNT; i++) {
        if (s & (1u << i)) {
            if (!first) {
                buf_puts(out, sep);
            }
            buf_puts(out, names[i]);
            first = false;
        }
    }
}

json_t *scope_json(scope_set s)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < SCOPE__COUNT; i++) {
        if (s & (1u << i)) {
            json_array_append_new(arr, json_string(names[i]));
        }
    }
    return arr;
}

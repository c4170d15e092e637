/* common.c - shared helpers for the file tools (see common.h). */
#include "tools/common.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

bool tool_path_arg(tool_call *call, tool_out *out, const char *p, size_t plen, char *rel,
                   size_t cap)
{
    char why[400];
    path_status st =
        path_normalize(p, plen, call->ws->root, call->ws->root_real, rel, cap, why, sizeof why);
    if (st != PATH_OK) {
        tool_fail(out, path_status_code(st), "%s", why);
        return false;
    }
    return true;
}

err tool_path_error(tool_out *out, path_status st, const char *shown)
{
    switch (st) {
    case PATH_OUTSIDE:
        return tool_fail(out, "path_outside_root",
                         "'%s' resolves outside the workspace root (a symlink leaving it?)", shown);
    case PATH_DENIED:
        return tool_fail(out, "path_denied",
                         "'%s' is denied by the boundary policy (secrets, .git, server files)",
                         shown);
    case PATH_NOT_FOUND: return tool_fail(out, "not_found", "%s does not exist", shown);
    case PATH_NOT_FILE: return tool_fail(out, "not_a_file", "'%s' is not a regular file", shown);
    case PATH_NOT_DIR: return tool_fail(out, "not_a_directory", "'%s' is not a directory", shown);
    default: return tool_fail(out, "not_found", "cannot open '%s'", shown);
    }
}

void tool_walk_opts(const tool_call *call, walk_opts *o)
{
    memset(o, 0, sizeof *o);
    o->respect_ignore = true;
    o->deadline_ns = call->deadline_ns;
    o->cancel = call->cancel;
    o->extra_ignore = call->cfg->ignore_globs;
    o->n_extra_ignore = call->cfg->n_ignore_globs;
}

bool strlist_push(strlist *l, arena *a, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **nv = xrealloc(l->v, nc * sizeof *nv);
        if (!nv) {
            return false;
        }
        l->v = nv;
        size_t *nl = xrealloc(l->lens, nc * sizeof *nl);
        if (!nl) {
            return false;
        }
        l->lens = nl;
        l->cap = nc;
    }
    char *c = arena_strndup(a, s, len);
    if (!c) {
        return false;
    }
    l->lens[l->n] = len;
    l->v[l->n++] = c;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort_unique(strlist *l)
{
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
    }
    /* overlapping roots (paths [".", "src"]) find a file twice: it is still one file */
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (o == 0 || strcmp(l->v[i], l->v[o - 1]) != 0) {
            l->v[o] = l->v[i];
            l->lens[o] = strlen(l->v[i]); /* sorted lists hold results, never NUL */
            o++;
        }
    }
    l->n = o;
}

void strlist_release(strlist *l)
{
    xfree(l->v);
    xfree(l->lens);
    l->v = NULL;
    l->lens = NULL;
    l->n = l->cap = 0;
}

bool tool_paths_arg(tool_call *call, strlist *out, const char *def)
{
    json_t *arr = arg_get(call, "paths");
    if (json_is_array(arr) && json_array_size(arr) > 0) {
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
            if (!strlist_push(out, call->a, json_string_value(v), json_string_length(v))) {
                return false;
            }
        }
        return true;
    }
    json_t *p = arg_get(call, "path");
    if (json_is_string(p)) {
        return strlist_push(out, call->a, json_string_value(p), json_string_length(p));
    }
    return def ? strlist_push(out, call->a, def, strlen(def)) : true;
}

err tool_quota_refusal(tool_call *call, tool_out *out, int64_t requested)
{
    int64_t quota = -1, used = 0;
    if (call->st && store_tenant_quota(call->st, call->tenant_id, &quota, &used) != ERR_OK) {
        quota = -1;
        used = 0;
    }
    buf_truncate(&out->text, 0);
    buf_printf(&out->text,
               "storage quota exceeded (%lld of %lld): this write would pass the tenant's "
               "storage quota, so nothing was written; remove what is no longer needed or ask "
               "for a larger quota",
               (long long)used, (long long)quota);
    json_decref(out->structured);
    out->structured = json_pack("{s:I, s:I, s:I}", "used_bytes", (json_int_t)used, "quota_bytes",
                                (json_int_t)quota, "requested_bytes", (json_int_t)requested);
    return ERR_QUOTA_EXCEEDED;
}

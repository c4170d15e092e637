/* common.h - helpers the file tools share: path arguments, walk options, string lists. */
#ifndef CTXD_TOOLS_COMMON_H
#define CTXD_TOOLS_COMMON_H

#include "tools/tool.h"
#include "ws/path.h"
#include "ws/walk.h"

/* Normalize a path argument into rel (cap >= PATH_MAX_LEN+1). On refusal fills out with the
 * isError result (path_outside_root + the reason) and returns false. */
bool tool_path_arg(tool_call *call, tool_out *out, const char *p, size_t plen, char *rel,
                   size_t cap);
/* the isError result for a path that failed to open */
err tool_path_error(tool_out *out, path_status st, const char *shown);
/* walk options from the call: deadline, cancel, config ignore lines */
void tool_walk_opts(const tool_call *call, walk_opts *o);

/* a growable list of strings living in the call's arena */
typedef struct strlist {
    char **v;
    size_t *lens; /* a string may hold NUL (a hostile path): keep its real length */
    size_t n, cap;
} strlist;
bool strlist_push(strlist *l, arena *a, const char *s, size_t len);
/* sort in byte order and drop duplicates */
void strlist_sort_unique(strlist *l);
void strlist_release(strlist *l);

/* the `paths` argument (array of strings) or else the single `path` (default def) */
bool tool_paths_arg(tool_call *call, strlist *out, const char *def);

/* (QUOTA, issue 6) a store write refused by the tenant's storage quota, answered as an index
   build is (tools.md §3.5): the sentence in out->text, {used_bytes, quota_bytes,
   requested_bytes} in out->structured; returns ERR_QUOTA_EXCEEDED for dispatch to send 507 */
err tool_quota_refusal(tool_call *call, tool_out *out, int64_t requested);

#endif

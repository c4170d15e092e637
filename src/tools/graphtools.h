/* graphtools.h - pieces the graph tools share beyond graphdb.h: argument checks and renderings
 * used by both ctx_graph (graph.c) and ctx_impact (impact.c), and the graph diff. */
#ifndef CTXD_TOOLS_GRAPHTOOLS_H
#define CTXD_TOOLS_GRAPHTOOLS_H

#include "index/git.h"
#include "tools/graphdb.h"

/* the scope and cost of a graph tool's call (ctx_graph, ctx_impact): action=build and the
 * tool's other writing action (`writer`) need SCOPE_INDEX and cost 10, action=status costs 1 */
void gt_needs(const json_t *args, const char *writer, scope_set *scopes, int *cost);
/* a file argument (named `name` in messages) that must be an indexed file: its node; false
 * with the failure in out (invalid_arguments when missing, path_outside_root, not_found) */
bool gt_file_arg(tool_call *call, tool_out *out, const gx_graph *g, const char *name, const char *p,
                 uint32_t *node);
/* `Import path (k hop(s)):` / `No import path from ...` (tools.md §3.1 path) */
void gt_render_path(tool_out *out, const gx_graph *g, uint32_t a, uint32_t b, int max_depth);
/* the dependents of roots up to depth as `  [k] relpath` lines, sorted by k then path; header
 * `<n> files depend on <subject> (depth≤d):` or, with tests_block, ctx_impact's
 * `Impact of <subject>: <n> dependent files (depth≤d), <t> tests` plus a `tests:` list */
void gt_render_impact(tool_out *out, const gx_graph *g, const uint32_t *roots, size_t nroots,
                      int depth, const char *subject, bool tests_block);
/* start (or join) an index build of the call's workspace, as ctx_index action=build answers;
 * extra_note (may be NULL) is appended as its own line */
err gt_build(tool_call *call, tool_out *out, bool full, const char *extra_note);
/* format=json: the text becomes the structuredContent document (its main array cut to fit
 * maxOutputBytes, never the document itself; ixt_json_result) */
void gt_json_text(tool_call *call, tool_out *out);
/* ctx_graph action=enrich: count the pairs of files changed together in the last 500 commits
 * (cochange.c) and keep those seen twice or more for `related`; false with why on failure */
bool gt_cochange_compute(tool_call *call, size_t *pairs, char *why, size_t why_len);
/* the files co-changed with path (from the last enrich), up to cap, into out (arena strings)
 * with their commit counts; returns how many */
size_t gt_cochanged(tool_call *call, const char *path, const char **out, uint32_t *counts,
                    size_t cap);
/* the workspace's git repository, for a diff from ref (the value of the argument named arg) to
 * HEAD: false with the failure in out and *rc the handler's answer when ref is not a git ref
 * (invalid_arguments) or there is no repository (git_error); release r after true */
bool gt_git_open(tool_call *call, tool_out *out, const char *arg, const char *ref, git_repo *r,
                 err *rc);
/* ctx_graph action=diff: the graph now against the graph of the changed files at `since` */
err gt_diff(tool_call *call, tool_out *out, const char *since);

#endif

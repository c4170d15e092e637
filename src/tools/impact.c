/* impact.c - ctx_impact: the blast radius of a change (tools.md §3.3).
 *
 * analyze: the files that import the file, directly or transitively (reverse import edges,
 * breadth-first, depth 1-10), with the tests among them; diff: the same for every file git says
 * changed between `base` and HEAD, as one union keeping each dependent's smallest hop count;
 * chain: the import path between two files; status/build/update: as ctx_graph/ctx_index. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jsonx.h"
#include "index/git.h"
#include "tools/graphtools.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_impact_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"analyze\",\"diff\",\"chain\",\"status\","
    "\"build\",\"update\"],\"default\":\"analyze\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"file (analyze, chain "
    "source)\"},"
    "\"to\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"chain target file\"},"
    "\"base\":{\"type\":\"string\",\"maxLength\":256,\"default\":\"HEAD~1\"},"
    "\"since\":{\"type\":\"string\",\"maxLength\":256,\"description\":\"alias of base\"},"
    "\"depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"default\":5},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"text\",\"json\"],\"default\":\"text\"},"
    "\"root\":{\"type\":\"string\",\"maxLength\":4096}}}";

void ctx_impact_needs(const json_t *args, scope_set *scopes, int *cost)
{
    gt_needs(args, "update", scopes, cost);
}

#define MAX_CHANGED 2000

typedef struct changed {
    const gx_graph *g;
    uint32_t *nodes;
    size_t n, total;
} changed;

static bool on_changed(void *ctx, const char *rel)
{
    changed *c = ctx;
    c->total++;
    uint32_t u = gx_node_of_path(c->g, rel);
    if (u != UINT32_MAX && c->n < MAX_CHANGED) {
        c->nodes[c->n++] = u;
    }
    return c->total < 100000;
}

static err impact_diff(tool_call *call, tool_out *out, const gx_graph *g, const char *base,
                       int depth)
{
    git_repo r;
    err rc;
    if (!gt_git_open(call, out, "base", base, &r, &rc)) {
        return rc;
    }
    char why[512];
    changed c = {.g = g, .nodes = xmalloc(MAX_CHANGED * sizeof(uint32_t))};
    if (!c.nodes) {
        git_repo_release(&r);
        return ERR_NOMEM;
    }
    int64_t n = git_diff_names(&r, base, "HEAD", on_changed, &c, why, sizeof why);
    git_repo_release(&r);
    if (n < 0) {
        xfree(c.nodes);
        return tool_fail(out, "git_error", "git diff %s..HEAD failed: %s", base, why);
    }
    buf_printf(&out->text, "%zu changed file(s) %s..HEAD (%zu indexed):\n", c.total, base, c.n);
    for (size_t i = 0; i < c.n; i++) {
        buf_printf(&out->text, "  %s\n", g->paths[c.nodes[i]]);
    }
    const char *subject = arena_printf(call->a, "%zu changed file(s)", c.n);
    gt_render_impact(out, g, c.nodes, c.n, depth, subject ? subject : "changes", true);
    json_t *ch = json_array();
    for (size_t i = 0; i < c.n; i++) {
        json_array_append_new(ch, json_string(g->paths[c.nodes[i]]));
    }
    if (out->structured) {
        json_object_set_new(out->structured, "changed", ch);
        json_object_set_new(out->structured, "base", json_string(base));
    } else {
        json_decref(ch);
    }
    xfree(c.nodes);
    return ERR_OK;
}

err tool_ctx_impact(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "analyze");
    bool json = strcmp(arg_str(call, "format", "text"), "json") == 0;
    int depth = (int)arg_int(call, "depth", 5);
    if (strcmp(action, "build") == 0) {
        return gt_build(call, out, true, NULL);
    }
    if (strcmp(action, "update") == 0) {
        return gt_build(call, out, false, NULL);
    }
    if (strcmp(action, "status") == 0) {
        gx_status_line(call, &out->text);
        if (json) {
            out->structured = json_pack("{s:s}", "status", out->text.ptr ? out->text.ptr : "");
            gt_json_text(call, out);
        }
        return ERR_OK;
    }
    const char *path = arg_str(call, "path", NULL);
    bool is_diff = strcmp(action, "diff") == 0;
    if (!is_diff && (!path || !*path)) {
        return gx_bad_arg(out, "path is required for action=%s", action);
    }
    if (strcmp(action, "chain") == 0 && !arg_str(call, "to", NULL)) {
        return gx_bad_arg(out, "to is required for action=chain");
    }
    const char *base = arg_str(call, "base", NULL);
    if (!base) {
        base = arg_str(call, "since", "HEAD~1");
    }
    if (is_diff && !git_validate_ref(base)) {
        return gx_bad_arg(out, "base must be a git ref (branch, tag, commit id, HEAD~N): '%.80s'",
                          base);
    }
    ix_view v;
    err rc;
    gx_graph *g = gx_graph_open(call, out, &v, &rc);
    if (!g) {
        return rc;
    }
    uint32_t u = UINT32_MAX, w = UINT32_MAX;
    if (is_diff) {
        rc = impact_diff(call, out, g, base, depth);
    } else if (gt_file_arg(call, out, g, "path", path, &u)) {
        if (strcmp(action, "chain") == 0) {
            if (gt_file_arg(call, out, g, "to", arg_str(call, "to", ""), &w)) {
                gt_render_path(out, g, u, w, 10);
            } else if (!out->is_error) {
                rc = ERR_INVALID_ARGUMENTS;
            }
        } else {
            gt_render_impact(out, g, &u, 1, depth, g->paths[u], true);
        }
    } else if (!out->is_error) {
        rc = ERR_INVALID_ARGUMENTS;
    }
    gx_graph_put(g);
    index_view_close(&v);
    if (json && rc == ERR_OK) {
        gt_json_text(call, out);
    }
    return rc;
}

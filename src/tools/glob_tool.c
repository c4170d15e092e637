/* glob_tool.c - ctx_glob: files by name pattern (tools.md §2.4).
 *
 * The pattern is matched against each file's path relative to the walk's start (`path`), so
 * the pattern `src/` + `*.c` with path=. and `*.c` with path=src both find src/a.c; a pattern
 * without `/` matches the file name at any depth. Output paths are workspace-relative, in byte
 * order. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "ws/glob.h"

const char ctx_glob_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"pattern\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"glob: *, ?, [..], **, "
    "{a,b}\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"default\":\".\"},"
    "\"paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\",\"maxLength\":"
    "4096}},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500,\"default\":200},"
    "\"ignore_gitignore\":{\"type\":\"boolean\",\"default\":false}},"
    "\"required\":[\"pattern\"]}";

typedef struct glob_ctx {
    tool_call *call;
    glob_pat *g;
    size_t start_len; /* length of the start path prefix to strip, incl. its '/' */
    strlist hits;
    size_t walked;
    bool oom;
} glob_ctx;

static walk_action on_entry(const walk_entry *e, void *vctx)
{
    glob_ctx *c = vctx;
    if (e->type == WALK_DIR) {
        return WALK_CONTINUE;
    }
    if (e->type != WALK_FILE && e->type != WALK_LINK_FILE) {
        return WALK_CONTINUE;
    }
    c->walked++;
    const char *sub = e->rel + c->start_len;
    if (glob_match(c->g, sub, e->rel_len - c->start_len)) {
        if (!strlist_push(&c->hits, c->call->a, e->rel, e->rel_len)) {
            c->oom = true;
            return WALK_STOP;
        }
    }
    return WALK_CONTINUE;
}

err tool_ctx_glob(tool_call *call, tool_out *out)
{
    json_t *pv = arg_get(call, "pattern");
    const char *pattern = json_string_value(pv);
    char why[256];
    glob_pat *g = glob_compile(pattern, json_string_length(pv), why, sizeof why);
    if (!g) {
        return tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", pattern, why);
    }
    strlist paths = {0};
    glob_ctx c = {.call = call, .g = g};
    err rc = ERR_OK;
    if (!tool_paths_arg(call, &paths, ".")) {
        rc = ERR_NOMEM;
        goto out;
    }
    walk_stats total = {0};
    for (size_t i = 0; i < paths.n; i++) {
        char rel[PATH_MAX_LEN + 1];
        if (!tool_path_arg(call, out, paths.v[i], paths.lens[i], rel, sizeof rel)) {
            goto out;
        }
        walk_opts o;
        tool_walk_opts(call, &o);
        o.respect_ignore = !arg_bool(call, "ignore_gitignore", false);
        o.list_links = true;
        c.start_len = *rel ? strlen(rel) + 1 : 0;
        walk_stats st;
        path_status ps =
            walk_tree(call->ws->root_fd, call->ws->root_real, rel, &o, on_entry, &c, &st);
        if (ps != PATH_OK) {
            tool_path_error(out, ps, *rel ? rel : ".");
            goto out;
        }
        if (c.oom) {
            rc = ERR_NOMEM;
            goto out;
        }
        if (st.cancelled) {
            rc = ERR_CANCELLED;
            goto out;
        }
        total.denied += st.denied;
        total.timed_out |= st.timed_out;
    }
    strlist_sort_unique(&c.hits);
    size_t max = (size_t)arg_int(call, "max_results", 200);
    json_t *files = json_array();
    if (c.hits.n == 0) {
        buf_printf(&out->text, "0 files matched '%s' in %zu files walked", pattern, c.walked);
    } else {
        size_t shown = c.hits.n < max ? c.hits.n : max;
        for (size_t i = 0; i < shown; i++) {
            buf_printf(&out->text, "%s\n", c.hits.v[i]);
            json_array_append_new(files, json_string(c.hits.v[i]));
        }
        buf_printf(&out->text, "\n%zu files matched (walked %zu)", c.hits.n, c.walked);
        if (c.hits.n > max) {
            buf_printf(&out->text, "\n(+%zu more; raise max_results or narrow pattern)",
                       c.hits.n - max);
        }
    }
    if (total.timed_out) {
        buf_puts(&out->text, "\n(walk stopped at the time budget: results may be incomplete)");
    }
    if (total.denied) {
        buf_printf(&out->text, "\n(%zu secret-like files skipped by boundary policy)",
                   total.denied);
    }
    out->structured =
        json_pack("{s:o, s:I, s:I, s:b}", "files", files, "matched", (json_int_t)c.hits.n, "walked",
                  (json_int_t)c.walked, "truncated", c.hits.n > max);
out:
    glob_free(g);
    strlist_release(&paths);
    strlist_release(&c.hits);
    return rc;
}

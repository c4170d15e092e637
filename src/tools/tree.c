/* tree.c - ctx_tree: a directory listing with whole-subtree file counts (tools.md §2.3).
 *
 * One walk of the subtree (within the call's deadline) both collects the entries shown (those
 * at most `depth` levels down, in walk order, which is name order per directory) and adds
 * every visible file to the counts of the shown directories above it. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "tools/common.h"
#include "tools/handlers.h"

const char ctx_tree_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"directory, relative to the "
    "workspace root (default .)\"},"
    "\"paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\",\"maxLength\":"
    "4096}},"
    "\"depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"default\":3},"
    "\"show_hidden\":{\"type\":\"boolean\",\"default\":false},"
    "\"respect_gitignore\":{\"type\":\"boolean\",\"default\":true},"
    "\"max_entries\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5000,\"default\":500}}}";

typedef struct node {
    const char *name;
    int depth;
    bool is_dir;
    size_t count;
} node;

typedef struct tree_ctx {
    arena *a;
    int max_depth;
    node *nodes;
    size_t n, cap;
    size_t stack[16]; /* node index of the shown directory at each depth (1-based) */
    size_t total_files;
    bool oom;
} tree_ctx;

static walk_action on_entry(const walk_entry *e, void *vctx)
{
    tree_ctx *t = vctx;
    bool is_dir = e->type == WALK_DIR;
    if (e->type == WALK_FILE || e->type == WALK_LINK_FILE) {
        t->total_files++;
        int top = e->depth - 1 < t->max_depth ? e->depth - 1 : t->max_depth;
        for (int d = 1; d <= top; d++) {
            t->nodes[t->stack[d]].count++;
        }
    }
    if (e->depth > t->max_depth) {
        return WALK_CONTINUE;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        node *nn = xrealloc(t->nodes, nc * sizeof *nn);
        if (!nn) {
            t->oom = true;
            return WALK_STOP;
        }
        t->nodes = nn;
        t->cap = nc;
    }
    node *n = &t->nodes[t->n];
    n->name = arena_strdup(t->a, e->name);
    n->depth = e->depth;
    n->is_dir = is_dir;
    n->count = 0;
    if (is_dir) {
        t->stack[e->depth] = t->n;
    }
    t->n++;
    return WALK_CONTINUE;
}

static err tree_one(tool_call *call, tool_out *out, const char *p, size_t plen, bool several)
{
    char rel[PATH_MAX_LEN + 1];
    if (!tool_path_arg(call, out, p, plen, rel, sizeof rel)) {
        return ERR_OK;
    }
    int depth = (int)arg_int(call, "depth", 3);
    size_t max_entries = (size_t)arg_int(call, "max_entries", 500);
    walk_opts o;
    tool_walk_opts(call, &o);
    o.respect_ignore = arg_bool(call, "respect_gitignore", true);
    o.skip_hidden = !arg_bool(call, "show_hidden", false);
    o.list_links = true;
    o.list_other = true;
    tree_ctx t = {.a = call->a, .max_depth = depth};
    walk_stats st;
    path_status ps = walk_tree(call->ws->root_fd, call->ws->root_real, rel, &o, on_entry, &t, &st);
    const char *shown = *rel ? rel : ".";
    if (ps != PATH_OK) {
        xfree(t.nodes);
        if (several) {
            buf_printf(&out->text, "ERROR: %s: %s\n", shown, path_status_code(ps));
            return ERR_OK;
        }
        if (ps == PATH_NOT_DIR) {
            const char *slash = strrchr(rel, '/');
            return tool_fail(
                out, "not_a_directory",
                "'%s' is a file, not a directory. Use path=\"%.*s\" for the containing directory.",
                shown, slash ? (int)(slash - rel) : 1, slash ? rel : ".");
        }
        if (ps == PATH_NOT_FOUND) {
            return tool_fail(out, "not_found", "%s does not exist or is not a directory", shown);
        }
        return tool_path_error(out, ps, shown);
    }
    if (t.oom) {
        xfree(t.nodes);
        return ERR_NOMEM;
    }
    if (st.cancelled) {
        xfree(t.nodes);
        return ERR_CANCELLED;
    }
    if (t.n == 0) {
        buf_printf(&out->text, "%s/ (empty directory, depth=%d)\n", shown, depth);
    } else {
        buf_printf(&out->text, "%s/ (%zu files)\n", shown, t.total_files);
        size_t shown_n = t.n < max_entries ? t.n : max_entries;
        for (size_t i = 0; i < shown_n; i++) {
            node *n = &t.nodes[i];
            for (int d = 0; d < n->depth; d++) {
                buf_puts(&out->text, "  ");
            }
            if (n->is_dir) {
                buf_printf(&out->text, "%s/ (%zu)\n", n->name, n->count);
            } else {
                buf_printf(&out->text, "%s\n", n->name);
            }
        }
        if (t.n > max_entries) {
            buf_printf(&out->text, "[truncated at %zu entries — narrow path or lower depth]\n",
                       max_entries);
        }
    }
    if (st.timed_out) {
        buf_puts(&out->text, "(walk stopped at the time budget: counts may be incomplete)\n");
    }
    if (st.denied) {
        buf_printf(&out->text, "(%zu secret-like files skipped by boundary policy)\n", st.denied);
    }
    if (!several) {
        out->structured =
            json_pack("{s:s, s:I, s:I, s:b}", "path", shown, "files", (json_int_t)t.total_files,
                      "entries", (json_int_t)t.n, "truncated", t.n > max_entries);
    }
    xfree(t.nodes);
    return ERR_OK;
}

err tool_ctx_tree(tool_call *call, tool_out *out)
{
    strlist paths = {0};
    if (!tool_paths_arg(call, &paths, ".")) {
        strlist_release(&paths);
        return ERR_NOMEM;
    }
    err rc = ERR_OK;
    for (size_t i = 0; i < paths.n && rc == ERR_OK && !out->is_error; i++) {
        if (i) {
            buf_putc(&out->text, '\n');
        }
        rc = tree_one(call, out, paths.v[i], paths.lens[i], paths.n > 1);
    }
    strlist_release(&paths);
    if (out->text.len && out->text.ptr[out->text.len - 1] == '\n' && !out->is_error) {
        buf_truncate(&out->text, out->text.len - 1);
    }
    return rc;
}

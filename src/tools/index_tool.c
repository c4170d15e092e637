/* index_tool.c - ctx_index (tools.md §3.5): the state of the workspace index, and explicit
 * build requests; also the build step ctx_search action=reindex and index_folder share.
 *
 * A build is a server job (index.h): the request starts it, or joins the one running, and
 * never owns it. wait=true follows it (with progress notifications) until it commits or the
 * request's deadline comes near; then the status is the answer and the build goes on. Only explicit
 * build requests need the `index` scope (ctx_index_needs); `status` is a query like any other. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_index_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"status\",\"build\",\"build-full\"],"
    "\"default\":\"status\"},"
    "\"wait\":{\"type\":\"boolean\",\"default\":false,\"description\":\"block until the build "
    "ends (progress notifications when a progressToken was sent)\"},"
    "\"project_root\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"accepted, "
    "ignored: the workspace is the project\"}}}";

/* stop following a build this long before the request's deadline */
#define WAIT_MARGIN_NS (750LL * 1000000)

void ctx_index_needs(const json_t *args, scope_set *scopes, int *cost)
{
    const char *a = json_string_value(json_object_get(args, "action"));
    if (a && (strcmp(a, "build") == 0 || strcmp(a, "build-full") == 0)) {
        *scopes = SCOPE_INDEX;
        *cost = 10;
    }
}

/* the text of `status` (tools.md §3.5): the index's own status lines, then the commit line */
static void render_status(const ix_status *st, tool_out *out)
{
    index_status_text(st, &out->text);
    if (!st->built_at) {
        buf_puts(&out->text, "\nno build has committed yet");
    }
    buf_printf(&out->text, "\ncommit %s, HEAD %s, %lld files pending",
               st->commit[0] ? st->commit : "(none)", st->head[0] ? st->head : "(no git)",
               (long long)st->pending);
}

static const char *state_name(ix_state s)
{
    switch (s) {
    case IX_BUILDING: return "building";
    case IX_READY: return "ready";
    case IX_STALE: return "stale";
    default: return "absent";
    }
}

static json_t *status_json(const ix_status *st)
{
    json_t *o = json_pack(
        "{s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, "
        "s:s, s:I, s:I, s:s, s:s, s:I, s:I}",
        "state", state_name(st->state), "job", st->job[0] ? st->job : NULL, "done",
        (json_int_t)st->done, "total", (json_int_t)st->total, "files", (json_int_t)st->files,
        "parsed", (json_int_t)st->parsed, "unchanged", (json_int_t)st->unchanged, "skipped",
        (json_int_t)st->skipped, "symbols", (json_int_t)st->symbols, "imports",
        (json_int_t)st->imports, "calls", (json_int_t)st->calls, "chunks", (json_int_t)st->chunks,
        "routes", (json_int_t)st->routes, "skippedReasons", st->skipped_reasons, "languages",
        st->languages, "builtAt", (json_int_t)st->built_at, "buildMs", (json_int_t)st->build_ms,
        "commit", st->commit, "head", st->head, "pending", (json_int_t)st->pending, "storageBytes",
        (json_int_t)st->storage_bytes);
    if (o && st->quota_bytes >= 0) {
        json_object_set_new(o, "tenantStorageBytes", json_integer(st->tenant_bytes));
        json_object_set_new(o, "storageQuotaBytes", json_integer(st->quota_bytes));
    }
    if (o && st->last_stop[0]) {
        json_object_set_new(o, "lastStop", json_string(st->last_stop));
    }
    return o;
}

static err status_action(tool_call *call, tool_out *out)
{
    ix_status st;
    memset(&st, 0, sizeof st);
    index_status(call->cfg, call->ws, &st);
    render_status(&st, out);
    out->structured = status_json(&st);
    return ERR_OK;
}

/* following a build: progress to the caller, and the end of the wait when the request's
   deadline comes near or the client goes away (index_build then returns, the build goes on) */
typedef struct wait_ctx {
    tool_call *call;
    atomic_bool stop;
} wait_ctx;

static void on_progress(void *vctx, int64_t done, int64_t total, const char *message)
{
    wait_ctx *w = vctx;
    tool_progress(w->call, (double)done, total > 0 ? (double)total : -1, message);
    int64_t now = clock_mono_ns();
    if ((w->call->cancel && atomic_load(w->call->cancel)) ||
        (w->call->deadline_ns && now + WAIT_MARGIN_NS > w->call->deadline_ns)) {
        atomic_store(&w->stop, true);
    }
}

/* 507 quota_exceeded (tools.md §3.5): the sentence, and the numbers the error body carries
   (dispatch moves structuredContent into it: used_bytes, quota_bytes, requested_bytes) */
static err quota_refusal(const ix_summary *sum, tool_out *out)
{
    buf_truncate(&out->text, 0);
    buf_puts(&out->text, sum->why);
    json_decref(out->structured);
    out->structured = json_pack("{s:I, s:I, s:I}", "used_bytes", (json_int_t)sum->quota_used,
                                "quota_bytes", (json_int_t)sum->quota_bytes, "requested_bytes",
                                (json_int_t)sum->quota_requested);
    return ERR_QUOTA_EXCEEDED;
}

err ixt_build(tool_call *call, tool_out *out, bool full, const char *subpath, bool wait,
              ix_status *final)
{
    ix_status before, st;
    memset(&before, 0, sizeof before);
    memset(&st, 0, sizeof st);
    index_status(call->cfg, call->ws, &before);
    ix_summary sum;
    memset(&sum, 0, sizeof sum);
    if (!wait) {
        if (!index_build(call->cfg, call->ws, full, subpath, false, NULL, NULL, NULL, &sum, &st)) {
            if (sum.over_quota) {
                return quota_refusal(&sum, out);
            }
            return tool_fail(out, "conflict", "index build of workspace '%s' could not start: %s",
                             call->ws->id, sum.why[0] ? sum.why : "unknown reason");
        }
        if (before.state == IX_BUILDING) {
            int64_t pct = st.total > 0 ? st.done * 100 / st.total : 0;
            buf_printf(&out->text, "index build already running for %s (job %s, %lld%%)",
                       call->ws->id, st.job[0] ? st.job : before.job, (long long)pct);
        } else {
            /* the walk counts the files as it goes: right after the start there may be none */
            if (st.total > 0) {
                buf_printf(&out->text, "index build started for %s (job %s): %lld files to scan",
                           call->ws->id, st.job, (long long)st.total);
            } else {
                buf_printf(&out->text,
                           "index build started for %s (job %s): counting the files to scan",
                           call->ws->id, st.job);
            }
        }
        if (final) {
            *final = st;
        }
        out->structured = json_pack("{s:s, s:s, s:I}", "status", "building", "job", st.job, "total",
                                    (json_int_t)st.total);
        return ERR_OK;
    }

    wait_ctx w = {.call = call};
    atomic_init(&w.stop, false);
    bool ok =
        index_build(call->cfg, call->ws, full, subpath, true, &w.stop, on_progress, &w, &sum, &st);
    char job[sizeof st.job];
    memcpy(job, st.job, sizeof job);
    index_status(call->cfg, call->ws, &st);
    if (!st.job[0]) {
        memcpy(st.job, job, sizeof job); /* the finished job keeps its name */
    }
    if (final) {
        *final = st;
    }
    if (!ok && sum.over_quota) {
        return quota_refusal(&sum, out);
    }
    if (ok) {
        buf_printf(&out->text,
                   "index built: %lld files (%lld parsed, %lld unchanged, %lld skipped), %lld "
                   "symbols, %lld edges, %lld chunks in %.1f s",
                   (long long)sum.files, (long long)sum.parsed, (long long)sum.unchanged,
                   (long long)sum.skipped, (long long)sum.symbols, (long long)sum.edges,
                   (long long)sum.chunks, sum.seconds);
        out->structured = status_json(&st);
        return ERR_OK;
    }
    if (atomic_load(&w.stop) || st.state == IX_BUILDING) {
        /* the wait ended before the build: the status is the answer, the job goes on */
        render_status(&st, out);
        buf_puts(&out->text, "\n(the build goes on as a server job; ask ctx_index "
                             "action=status later)");
        out->structured = status_json(&st);
        return ERR_OK;
    }
    return tool_fail(out, "conflict", "index build of workspace '%s' did not complete: %s",
                     call->ws->id, sum.why[0] ? sum.why : "see the server log");
}

err tool_ctx_index(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "status");
    if (strcmp(action, "status") == 0) {
        return status_action(call, out);
    }
    return ixt_build(call, out, strcmp(action, "build-full") == 0, "",
                     arg_bool(call, "wait", false), NULL);
}

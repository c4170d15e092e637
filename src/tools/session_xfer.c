/* session_xfer.c - ctx_handoff (tools.md §4.2) and ctx_share (§4.3).
 *
 * Both are immutable store items (session.h): a handoff belongs to the workspace (channel "")
 * and is visible to its sender, its addressee, and everyone when it has none; a share belongs
 * to the channel and is pulled by its addressee (or everyone when broadcast). File references
 * carry the content's sha256 and line count at the time, never the content. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "tools/session.h"
#include "ws/path.h"

const char ctx_handoff_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"create\",\"show\",\"list\",\"pull\",\"clear\","
    "\"export\",\"import\"],\"default\":\"list\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"handoff id for show, pull, "
    "export (default: the latest)\"},"
    "\"paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\",\"maxLength\":"
    "4096},\"description\":\"files to include (create)\"},"
    "\"to_agent\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"addressee, "
    "team:<tokenId>; omitted = anyone\"},"
    "\"message\":{\"type\":\"string\",\"maxLength\":65536},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"json\",\"summary\",\"a2a\"],\"default\":"
    "\"summary\"},"
    "\"apply_session\":{\"type\":\"boolean\",\"default\":true},"
    "\"apply_workflow\":{\"type\":\"boolean\",\"default\":true},"
    "\"apply_knowledge\":{\"type\":\"boolean\",\"default\":false},"
    "\"privacy\":{\"type\":\"string\",\"enum\":[\"full\",\"refs\"],\"default\":\"full\"},"
    "\"write\":{\"type\":\"boolean\"},\"filename\":{\"type\":\"string\",\"maxLength\":4096}}}";

const char ctx_share_schema[] =
    "{\"type\":\"object\",\"required\":[\"action\"],\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"push\",\"pull\",\"list\",\"clear\"]},"
    "\"paths\":{\"type\":[\"string\",\"array\"],\"maxLength\":65536,\"maxItems\":20,"
    "\"items\":{\"type\":\"string\",\"maxLength\":4096},\"description\":\"files to share "
    "(comma-separated or an array)\"},"
    "\"to_agent\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"addressee, "
    "team:<tokenId>; omitted = everyone on the channel\"},"
    "\"message\":{\"type\":\"string\",\"maxLength\":65536}}}";

void ctx_handoff_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    const char *a = jsonx_str(args, "action");
    if (a && (strcmp(a, "create") == 0 || strcmp(a, "pull") == 0 || strcmp(a, "clear") == 0 ||
              strcmp(a, "import") == 0)) {
        *scopes = SCOPE_SESSION_MUTATIONS;
        if (strcmp(a, "pull") == 0 && json_is_true(json_object_get(args, "apply_knowledge"))) {
            *scopes |= SCOPE_KNOWLEDGE;
        }
    }
}

void ctx_share_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    const char *a = jsonx_str(args, "action");
    if (a && (strcmp(a, "push") == 0 || strcmp(a, "clear") == 0)) {
        *scopes = SCOPE_SESSION_MUTATIONS;
    }
}

/* to_agent as an actor (team:<id>); false with the message in out (invalid_arguments) */
static bool to_agent_arg(tool_call *call, tool_out *out, char to[STORE_ACTOR_MAX + 1])
{
    const char *v;
    to[0] = '\0';
    if (!sess_str_arg(call, out, "to_agent", 128, &v)) {
        return false;
    }
    if (!v || !*v) {
        return true;
    }
    const char *id = strncmp(v, "team:", 5) == 0 ? v + 5 : v;
    bool ok = *id != '\0';
    for (const char *p = id; *p && ok; p++) {
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr("._-:@", *p);
    }
    if (!ok) {
        buf_printf(&out->text, "to_agent must be team:<tokenId> (letters, digits, . _ - : @)");
        return false;
    }
    snprintf(to, STORE_ACTOR_MAX + 1, "team:%s", id);
    return true;
}

static const char *jstr(const json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

/* ---- ctx_handoff ---- */

static bool visible(const store_item *it, const char *me)
{
    return !it->to[0] || strcmp(it->to, me) == 0 || strcmp(it->from, me) == 0;
}

typedef struct find_ctx {
    const char *me;
    const char *id; /* NULL: the newest visible */
    store_item found;
    bool ok;
    buf *rows; /* list */
    json_t *items;
} find_ctx;

static bool find_row(const store_item *it, void *v)
{
    find_ctx *f = v;
    if (!visible(it, f->me) || (f->id && strcmp(f->id, it->id) != 0)) {
        return true;
    }
    f->found = *it;
    f->found.body = xstrdup(it->body);
    f->ok = true;
    return false;
}

static bool list_row(const store_item *it, void *v)
{
    find_ctx *f = v;
    if (!visible(it, f->me)) {
        return true;
    }
    json_t *b = json_loads(it->body, 0, NULL);
    size_t nfiles = json_array_size(json_object_get(b, "files"));
    char age[16];
    sess_age(it->created_at, age);
    buf_printf(f->rows, "%s  %s → %s  %zu file%s  %s ago\n", it->id, it->from,
               it->to[0] ? it->to : "anyone", nfiles, nfiles == 1 ? "" : "s", age);
    json_array_append_new(f->items, json_pack("{s:s, s:s, s:s?, s:I, s:s}", "id", it->id, "from",
                                              it->from, "to", it->to[0] ? it->to : NULL, "files",
                                              (json_int_t)nfiles, "createdAt", it->created_at));
    json_decref(b);
    return json_array_size(f->items) < 100;
}

/* the handoff named by `path` (or the newest visible), body parsed; NULL with out filled */
static json_t *find_handoff(tool_call *call, tool_out *out, store_item *it)
{
    const char *id = arg_str(call, "path", NULL);
    find_ctx f = {.me = sess_actor(call), .id = id && *id ? id : NULL};
    err e = store_item_list(call->st, call->tenant_id, call->ws->id, "handoff", "",
                            SESS_HANDOFFS_KEEP, find_row, &f);
    if (e != ERR_OK) {
        sess_store_fail(call, out, e);
        return NULL;
    }
    if (!f.ok) {
        if (f.id) {
            tool_fail(out, "not_found", "no handoff '%s' for you in workspace %s", f.id,
                      call->ws->id);
        } else {
            tool_fail(out, "not_found", "no handoff for you in workspace %s", call->ws->id);
        }
        return NULL;
    }
    *it = f.found;
    json_t *b = json_loads(it->body, 0, NULL);
    if (!json_is_object(b)) {
        json_decref(b);
        store_item_release(it);
        tool_fail(out, "not_found", "handoff '%s' is unreadable", f.found.id);
        return NULL;
    }
    return b;
}

static void handoff_summary(buf *b, const json_t *h)
{
    char age[16];
    sess_age(jstr(h, "createdAt", ""), age);
    buf_printf(b, "handoff %s from %s to %s, %s ago (channel %s, session rev %lld)\n",
               jstr(h, "id", "?"), jstr(h, "from", "?"), jstr(h, "to", "anyone"), age,
               jstr(h, "channel", "default"),
               (long long)json_integer_value(json_object_get(h, "sessionRev")));
    const char *task = jstr(h, "task", "");
    buf_printf(b, "task: %s\n", *task ? task : "(none)");
    const char *msg = jstr(h, "message", "");
    if (*msg) {
        buf_printf(b, "message: %s\n", msg);
    }
    const json_t *wf = json_object_get(h, "workflow");
    if (json_is_object(wf)) {
        buf_printf(b, "workflow %s: %s\n", jstr(wf, "name", "?"), jstr(wf, "state", "?"));
    }
    const json_t *s = json_object_get(h, "session");
    buf_printf(b, "findings: %zu, decisions: %zu\n",
               json_array_size(json_object_get(s, "findings")),
               json_array_size(json_object_get(s, "decisions")));
    const json_t *files = json_object_get(h, "files");
    buf_printf(b, "files (%zu):\n", json_array_size(files));
    size_t i;
    json_t *f;
    json_array_foreach (files, i, f) {
        buf_printf(b, "  %s sha:%.12s %lld lines\n", jstr(f, "path", "?"), jstr(f, "sha", ""),
                   (long long)json_integer_value(json_object_get(f, "lines")));
    }
}

/* store the handoff h (id, from me, to "" = anyone, created now) as an item of the workspace;
 *requested receives about what it adds to the tenant's storage */
static err put_handoff(tool_call *call, const json_t *h, const char *id, const char *me,
                       const char *to, const char *now, int64_t *requested)
{
    char *text = json_dumps(h, JSON_COMPACT);
    if (!text) {
        return ERR_NOMEM;
    }
    store_item it = {0};
    snprintf(it.kind, sizeof it.kind, "handoff");
    snprintf(it.id, sizeof it.id, "%s", id);
    snprintf(it.from, sizeof it.from, "%s", me);
    snprintf(it.to, sizeof it.to, "%s", to);
    snprintf(it.created_at, sizeof it.created_at, "%s", now);
    it.body = text;
    err e = store_item_add(call->st, call->tenant_id, call->ws->id, &it, SESS_HANDOFFS_KEEP);
    *requested = 64 + (int64_t)strlen(text);
    free(text);
    return e;
}

static err handoff_create(tool_call *call, tool_out *out)
{
    char to[STORE_ACTOR_MAX + 1];
    const char *msg;
    if (!to_agent_arg(call, out, to) ||
        !sess_str_arg(call, out, "message", SESS_MESSAGE_MAX, &msg)) {
        return ERR_INVALID_ARGUMENTS;
    }
    json_t *files = NULL;
    json_t *paths = arg_get(call, "paths");
    if (!paths) {
        files = json_array();
    } else if (!sess_file_refs(call, out, paths, &files)) {
        json_decref(files);
        return out->is_error ? ERR_OK : ERR_INVALID_ARGUMENTS;
    }
    json_t *sess, *wf;
    store_doc sm, wm;
    if (!sess_load(call, out, "session", &sess, &sm)) {
        json_decref(files);
        return ERR_OK;
    }
    if (!sess_load(call, out, "workflow", &wf, &wm)) {
        json_decref(files);
        json_decref(sess);
        return ERR_OK;
    }
    bool refs = strcmp(arg_str(call, "privacy", "full"), "refs") == 0;
    char id[STORE_ITEM_ID_MAX + 1];
    sess_new_id("h-", id);
    char now[32];
    clock_rfc3339(clock_wall_ms(), now);
    const char *me = sess_actor(call);
    json_t *h =
        json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:o, s:I, s:s}", "id", id, "from", me, "to",
                  to[0] ? to : NULL, "createdAt", now, "channel", call->channel_id, "task",
                  jstr(sess, "task", ""), "message", msg ? msg : "", "files", files, "sessionRev",
                  (json_int_t)sm.rev, "privacy", refs ? "refs" : "full");
    json_t *ss = json_object();
    if (!refs) {
        static const char *const keys[] = {"findings", "decisions", "files"};
        for (size_t i = 0; i < 3; i++) {
            json_t *x = json_object_get(sess, keys[i]);
            json_object_set_new(ss, keys[i], x ? json_incref(x) : json_array());
        }
    }
    json_object_set_new(h, "session", ss);
    if (json_is_true(json_object_get(wf, "active"))) {
        json_object_set_new(h, "workflow",
                            json_pack("{s:O?, s:O?, s:O?}", "name", json_object_get(wf, "name"),
                                      "state", json_object_get(wf, "state"), "spec",
                                      json_object_get(wf, "spec")));
    }
    int64_t requested = 0;
    err e = put_handoff(call, h, id, me, to, now, &requested);
    size_t n = json_array_size(json_object_get(h, "files"));
    err rc = ERR_OK;
    if (e == ERR_OK) {
        buf_printf(&out->text, "handoff %s created: %zu file%s\n", id, n, n == 1 ? "" : "s");
        out->structured = json_pack("{s:s, s:I}", "id", id, "files", (json_int_t)n);
        sess_emit(call, "ctx_handoff", "create", sm.rev, msg);
    } else if (e == ERR_INVALID_ARGUMENTS) {
        tool_fail(out, "conflict", "the handoff would exceed %zu bytes", STORE_BODY_MAX);
    } else {
        rc = sess_write_fail(call, out, e, requested);
    }
    json_decref(h);
    json_decref(sess);
    json_decref(wf);
    return rc;
}

static bool sha_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) {
            return false;
        }
    }
    return n == 64;
}

/* the handoff JSON in `message`, stored as a new handoff from the caller (a claimed sender kept
   as importedFrom; entries restamped; files keep their recorded sha; no workflow state) */
static err handoff_import(tool_call *call, tool_out *out)
{
    char to[STORE_ACTOR_MAX + 1];
    const char *msg;
    if (!to_agent_arg(call, out, to) ||
        !sess_str_arg(call, out, "message", SESS_MESSAGE_MAX, &msg)) {
        return ERR_INVALID_ARGUMENTS;
    }
    char why[200] = "";
    json_t *in = msg ? jsonx_parse(msg, strlen(msg), why, sizeof why) : NULL;
    const char *me = sess_actor(call);
    char now[32];
    clock_rfc3339(clock_wall_ms(), now);
    json_t *files = json_array();
    const json_t *src = json_object_get(in, "files");
    const json_t *sess = json_object_get(in, "session");
    json_t *none = json_array();
    const json_t *fsrc = json_object_get(sess, "findings");
    const json_t *dsrc = json_object_get(sess, "decisions");
    json_t *fnd = sess_import_entries(fsrc ? fsrc : none, me, now);
    json_t *dec = sess_import_entries(dsrc ? dsrc : none, me, now);
    json_decref(none);
    const char *task = jstr(in, "task", "");
    const char *note = jstr(in, "message", "");
    bool ok = json_is_object(in) && fnd && dec && (!src || json_is_array(src)) &&
              json_array_size(src) <= SESS_PATHS_MAX && strlen(task) <= SESS_VALUE_MAX;
    size_t i;
    json_t *f;
    json_array_foreach (ok ? src : NULL, i, f) {
        const char *p = jstr(f, "path", NULL);
        const char *sha = jstr(f, "sha", "");
        json_t *lines = json_object_get(f, "lines");
        char rel[PATH_MAX_LEN + 1];
        if (!p || !sha_ok(sha) ||
            (lines && (!json_is_integer(lines) || json_integer_value(lines) < 0))) {
            ok = false;
            break;
        }
        if (!tool_path_arg(call, out, p, strlen(p), rel, sizeof rel)) {
            json_decref(in);
            json_decref(files);
            json_decref(fnd);
            json_decref(dec);
            return ERR_OK;
        }
        json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "path", rel, "sha", sha, "lines",
                                               lines ? json_integer_value(lines) : 0));
    }
    if (!ok) {
        buf_printf(&out->text,
                   "message must be a handoff as JSON: {task, message, files: [{path, sha (64 "
                   "hex), lines}] (at most %d), session: {findings, decisions}}%s%s",
                   SESS_PATHS_MAX, *why ? ": " : "", why);
        json_decref(in);
        json_decref(files);
        json_decref(fnd);
        json_decref(dec);
        return ERR_INVALID_ARGUMENTS;
    }
    char id[STORE_ITEM_ID_MAX + 1];
    sess_new_id("h-", id);
    const char *claimed = jstr(in, "from", NULL);
    json_t *h =
        json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:{s:o, s:o}}", "id", id,
                  "from", me, "to", to[0] ? to : NULL, "createdAt", now, "channel",
                  call->channel_id, "task", task, "message", note, "files", files, "sessionRev",
                  (json_int_t)0, "privacy", "full", "session", "findings", fnd, "decisions", dec);
    if (claimed && strcmp(claimed, me) != 0 && strlen(claimed) <= STORE_ACTOR_MAX) {
        json_object_set_new(h, "importedFrom", json_string(claimed));
    }
    json_decref(in);
    int64_t requested = 0;
    err e = put_handoff(call, h, id, me, to, now, &requested);
    size_t n = json_array_size(json_object_get(h, "files"));
    json_decref(h);
    if (e != ERR_OK) {
        return sess_write_fail(call, out, e, requested);
    }
    buf_printf(&out->text, "handoff %s imported: %zu file%s\n", id, n, n == 1 ? "" : "s");
    out->structured = json_pack("{s:s, s:I}", "id", id, "files", (json_int_t)n);
    sess_emit(call, "ctx_handoff", "import", 0, NULL);
    return ERR_OK;
}

static err handoff_list(tool_call *call, tool_out *out)
{
    buf rows;
    buf_init(&rows, BUF_DEFAULT_MAX);
    find_ctx f = {.me = sess_actor(call), .rows = &rows, .items = json_array()};
    err e = store_item_list(call->st, call->tenant_id, call->ws->id, "handoff", "",
                            SESS_HANDOFFS_KEEP, list_row, &f);
    if (e != ERR_OK) {
        buf_release(&rows);
        json_decref(f.items);
        return sess_store_fail(call, out, e);
    }
    if (!json_array_size(f.items)) {
        buf_printf(&out->text, "No handoffs in workspace %s\n", call->ws->id);
    } else {
        buf_append(&out->text, rows.ptr, rows.len);
    }
    buf_release(&rows);
    out->structured = json_pack("{s:o}", "handoffs", f.items);
    return ERR_OK;
}

static err handoff_show(tool_call *call, tool_out *out, const char *format)
{
    store_item it;
    json_t *h = find_handoff(call, out, &it);
    if (!h) {
        return ERR_OK;
    }
    if (strcmp(format, "json") == 0) {
        jsonx_dump(&out->text, h);
        buf_putc(&out->text, '\n');
    } else if (strcmp(format, "a2a") == 0) {
        buf sum;
        buf_init(&sum, BUF_DEFAULT_MAX);
        handoff_summary(&sum, h);
        json_t *m = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:O}], s:{s:s, s:s}}", "kind",
                              "message", "role", "agent", "messageId", it.id, "parts", "kind",
                              "text", "text", sum.ptr ? sum.ptr : "", "kind", "data", "data", h,
                              "metadata", "from", it.from, "to", it.to[0] ? it.to : "anyone");
        buf_release(&sum);
        jsonx_dump(&out->text, m);
        buf_putc(&out->text, '\n');
        json_decref(m);
    } else {
        handoff_summary(&out->text, h);
    }
    out->structured = h;
    store_item_release(&it);
    return ERR_OK;
}

typedef struct pull_ctx {
    const json_t *h;
    const char *actor;
    char now[32];
    int task_set, findings, decisions, files;
    int wf_applied; /* 0 nothing, 1 started, 2 moved, 3 kept (another workflow) */
} pull_ctx;

static err pull_session(json_t *doc, void *v, tool_out *out)
{
    (void)out;
    pull_ctx *p = v;
    p->task_set = p->findings = p->decisions = p->files = 0;
    const char *task = jstr(p->h, "task", "");
    if (*task && strcmp(jstr(doc, "task", ""), task) != 0) {
        json_object_set_new(doc, "task", json_string(task));
        json_object_set_new(doc, "taskBy", json_string(p->actor));
        json_object_set_new(doc, "taskAt", json_string(p->now));
        p->task_set = 1;
    }
    const json_t *s = json_object_get(p->h, "session");
    p->findings = sess_merge_entries(doc, "findings", json_object_get(s, "findings"));
    p->decisions = sess_merge_entries(doc, "decisions", json_object_get(s, "decisions"));
    p->files = sess_merge_files(doc, json_object_get(p->h, "files"));
    return ERR_OK;
}

static err pull_workflow(json_t *doc, void *v, tool_out *out)
{
    (void)out;
    pull_ctx *p = v;
    const json_t *w = json_object_get(p->h, "workflow");
    const char *name = jstr(w, "name", "");
    if (json_is_true(json_object_get(doc, "active")) && strcmp(jstr(doc, "name", ""), name) != 0) {
        p->wf_applied = 3;
        return ERR_OK;
    }
    p->wf_applied = json_is_true(json_object_get(doc, "active")) ? 2 : 1;
    if (p->wf_applied == 1) {
        json_object_set_new(doc, "name", json_string(name));
        json_object_set(doc, "spec", json_object_get(w, "spec"));
        json_object_set_new(doc, "evidence", json_array());
        json_object_set_new(doc, "active", json_true());
    }
    json_object_set(doc, "state", json_object_get(w, "state"));
    json_object_set_new(doc, "since", json_string(p->now));
    return ERR_OK;
}

static err handoff_pull(tool_call *call, tool_out *out)
{
    store_item it;
    json_t *h = find_handoff(call, out, &it);
    if (!h) {
        return ERR_OK;
    }
    pull_ctx p = {.h = h, .actor = sess_actor(call)};
    clock_rfc3339(clock_wall_ms(), p.now);
    buf_printf(&out->text, "pulled handoff %s from %s into %s/%s\n", it.id, it.from, call->ws->id,
               call->channel_id);
    json_t *st = json_pack("{s:s}", "id", it.id);
    if (arg_bool(call, "apply_session", true)) {
        int64_t rev = 0;
        err r = sess_mutate(call, out, "session", pull_session, &p, &rev, NULL);
        if (r != ERR_OK || out->is_error) {
            json_decref(h);
            json_decref(st);
            store_item_release(&it);
            return r;
        }
        buf_printf(&out->text, "session: %s, +%d findings, +%d decisions, +%d files (rev %lld)\n",
                   p.task_set ? "task set" : "task unchanged", p.findings, p.decisions, p.files,
                   (long long)rev);
        json_object_set_new(st, "sessionRev", json_integer(rev));
        sess_emit(call, "ctx_handoff", "pull", rev, NULL);
    }
    if (arg_bool(call, "apply_workflow", true) && json_is_object(json_object_get(h, "workflow"))) {
        int64_t rev = 0;
        err r = sess_mutate(call, out, "workflow", pull_workflow, &p, &rev, NULL);
        if (r != ERR_OK || out->is_error) {
            json_decref(h);
            json_decref(st);
            store_item_release(&it);
            return r;
        }
        const json_t *w = json_object_get(h, "workflow");
        static const char *const what[] = {"unchanged", "started", "moved", "kept"};
        buf_printf(&out->text, "workflow: %s %s at %s\n", jstr(w, "name", "?"), what[p.wf_applied],
                   jstr(w, "state", "?"));
        sess_emit(call, "ctx_workflow", "pull", rev, NULL);
    }
    if (arg_bool(call, "apply_knowledge", false)) {
        buf_puts(&out->text, "knowledge: the handoff carries no knowledge entries\n");
    }
    /* files whose content changed since the handoff */
    json_t *changed = json_array();
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(h, "files"), i, f) {
        char now_sha[65];
        const char *path = jstr(f, "path", "");
        sess_file_sha(call, path, now_sha);
        if (strcmp(now_sha, jstr(f, "sha", "")) != 0) {
            buf_printf(&out->text, "changed since handoff: %s%s\n", path,
                       now_sha[0] ? "" : " (missing now)");
            json_array_append_new(changed, json_string(path));
        }
    }
    if (!json_array_size(changed)) {
        buf_puts(&out->text, "files: all unchanged since the handoff\n");
    }
    json_object_set_new(st, "changedFiles", changed);
    out->structured = st;
    json_decref(h);
    store_item_release(&it);
    return ERR_OK;
}

static err handoff_clear(tool_call *call, tool_out *out)
{
    int64_t n = 0;
    err e = store_item_delete(call->st, call->tenant_id, call->ws->id, "handoff", "",
                              sess_actor(call), true, NULL, &n);
    if (e != ERR_OK) {
        return sess_store_fail(call, out, e);
    }
    buf_printf(&out->text, "cleared %lld handoff%s sent by or to you\n", (long long)n,
               n == 1 ? "" : "s");
    out->structured = json_pack("{s:I}", "deleted", (json_int_t)n);
    if (n) {
        sess_emit(call, "ctx_handoff", "clear", 0, NULL);
    }
    return ERR_OK;
}

err tool_ctx_handoff(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    const char *a = arg_str(call, "action", "list");
    if (strcmp(a, "create") == 0) {
        return handoff_create(call, out);
    }
    if (strcmp(a, "show") == 0) {
        return handoff_show(call, out, arg_str(call, "format", "summary"));
    }
    if (strcmp(a, "export") == 0) {
        const char *fmt = arg_str(call, "format", "json");
        return handoff_show(call, out, strcmp(fmt, "summary") == 0 ? "json" : fmt);
    }
    if (strcmp(a, "pull") == 0) {
        return handoff_pull(call, out);
    }
    if (strcmp(a, "clear") == 0) {
        return handoff_clear(call, out);
    }
    if (strcmp(a, "import") == 0) {
        return handoff_import(call, out);
    }
    return handoff_list(call, out);
}

/* ---- ctx_share ---- */

typedef struct share_ctx {
    const char *me;
    bool pull;
    buf *b;
    json_t *items;
} share_ctx;

static bool share_row(const store_item *it, void *v)
{
    share_ctx *c = v;
    if (c->pull && it->to[0] && strcmp(it->to, c->me) != 0) {
        return true;
    }
    json_t *body = json_loads(it->body, 0, NULL);
    const json_t *files = json_object_get(body, "files");
    if (c->pull) {
        char age[16];
        sess_age(it->created_at, age);
        buf_printf(c->b, "from %s %s ago: %s\n", it->from, age, jstr(body, "message", ""));
        size_t i;
        json_t *f;
        json_array_foreach (files, i, f) {
            buf_printf(c->b, "  %s sha:%.12s\n", jstr(f, "path", "?"), jstr(f, "sha", ""));
        }
    } else {
        buf_printf(c->b, "%s  %s → %s  %zu file%s\n", it->id, it->from,
                   it->to[0] ? it->to : "everyone", json_array_size(files),
                   json_array_size(files) == 1 ? "" : "s");
    }
    json_t *row = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:o}", "id", it->id, "from", it->from, "to",
                            it->to[0] ? it->to : NULL, "createdAt", it->created_at, "message",
                            jstr(body, "message", ""), "files",
                            files ? json_incref((json_t *)files) : json_array());
    json_array_append_new(c->items, row);
    json_decref(body);
    return json_array_size(c->items) < 50;
}

err tool_ctx_share(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    const char *a = arg_str(call, "action", "list");
    const char *me = sess_actor(call);
    if (strcmp(a, "push") == 0) {
        char to[STORE_ACTOR_MAX + 1];
        const char *msg;
        if (!to_agent_arg(call, out, to) ||
            !sess_str_arg(call, out, "message", SESS_MESSAGE_MAX, &msg)) {
            return ERR_INVALID_ARGUMENTS;
        }
        json_t *paths = arg_get(call, "paths");
        if (!paths || (json_is_string(paths) && !*json_string_value(paths)) ||
            (json_is_array(paths) && !json_array_size(paths))) {
            buf_puts(&out->text, "paths is required for action=push");
            return ERR_INVALID_ARGUMENTS;
        }
        json_t *files = NULL;
        if (!sess_file_refs(call, out, paths, &files)) {
            json_decref(files);
            return out->is_error ? ERR_OK : ERR_INVALID_ARGUMENTS;
        }
        store_item it = {0};
        snprintf(it.channel, sizeof it.channel, "%s", call->channel_id);
        snprintf(it.kind, sizeof it.kind, "share");
        sess_new_id("sh-", it.id);
        snprintf(it.from, sizeof it.from, "%s", me);
        snprintf(it.to, sizeof it.to, "%s", to);
        clock_rfc3339(clock_wall_ms(), it.created_at);
        size_t n = json_array_size(files);
        json_t *body = json_pack("{s:s, s:s, s:s?, s:o, s:s, s:s}", "id", it.id, "from", me, "to",
                                 to[0] ? to : NULL, "files", files, "message", msg ? msg : "",
                                 "createdAt", it.created_at);
        it.body = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        err e = it.body
                    ? store_item_add(call->st, call->tenant_id, call->ws->id, &it, SESS_SHARES_KEEP)
                    : ERR_NOMEM;
        int64_t requested = it.body ? 64 + (int64_t)strlen(it.body) : 0;
        store_item_release(&it);
        if (e != ERR_OK) {
            return sess_write_fail(call, out, e, requested);
        }
        buf_printf(&out->text, "shared %zu file%s (id %s)\n", n, n == 1 ? "" : "s", it.id);
        out->structured = json_pack("{s:s, s:I}", "id", it.id, "files", (json_int_t)n);
        sess_emit(call, "ctx_share", "push", 0, msg);
        return ERR_OK;
    }
    if (strcmp(a, "clear") == 0) {
        int64_t n = 0;
        err e = store_item_delete(call->st, call->tenant_id, call->ws->id, "share",
                                  call->channel_id, me, false, NULL, &n);
        if (e != ERR_OK) {
            return sess_store_fail(call, out, e);
        }
        buf_printf(&out->text, "cleared %lld shared context%s you sent on %s/%s\n", (long long)n,
                   n == 1 ? "" : "s", call->ws->id, call->channel_id);
        out->structured = json_pack("{s:I}", "deleted", (json_int_t)n);
        if (n) {
            sess_emit(call, "ctx_share", "clear", 0, NULL);
        }
        return ERR_OK;
    }
    buf rows;
    buf_init(&rows, BUF_DEFAULT_MAX);
    share_ctx c = {.me = me, .pull = strcmp(a, "pull") == 0, .b = &rows, .items = json_array()};
    err e = store_item_list(call->st, call->tenant_id, call->ws->id, "share", call->channel_id,
                            SESS_SHARES_KEEP, share_row, &c);
    if (e != ERR_OK) {
        buf_release(&rows);
        json_decref(c.items);
        return sess_store_fail(call, out, e);
    }
    if (!json_array_size(c.items)) {
        buf_puts(&out->text, "No shared contexts\n");
    } else {
        buf_append(&out->text, rows.ptr, rows.len);
    }
    buf_release(&rows);
    out->structured = json_pack("{s:o}", "items", c.items);
    return ERR_OK;
}

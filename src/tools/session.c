/* session.c - ctx_session (tools.md §4.1) and the helpers of session.h.
 *
 * The session of (workspace, channel) is one JSON document in the store:
 *   {task, taskBy, taskAt, findings:[{text, by, at}], decisions:[…], files:[path…],
 *    agents:[actor…], lastSnapshot?}
 * with its revision, updated_at and updated_by kept by the store. findings and decisions keep
 * the newest SESS_LIST_MAX entries, files SESS_FILES_MAX, agents SESS_AGENTS_MAX. Snapshots are
 * store items of kind "snapshot": {name, rev, session}. */
#include "tools/session.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/events.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "ws/path.h"

const char ctx_session_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"status\",\"show\",\"list\",\"load\",\"resume\","
    "\"export\",\"save\",\"snapshot\",\"checkpoint\",\"task\",\"finding\",\"decision\","
    "\"restore\",\"reset\",\"cleanup\",\"diff\",\"import\"],\"default\":\"status\"},"
    "\"value\":{\"type\":\"string\",\"maxLength\":16384,\"description\":\"text for "
    "task/finding/decision; snapshot name for save; JSON {task, findings, decisions, files} for "
    "import\"},"
    "\"session_id\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"a snapshot id for "
    "load, resume, export, restore, diff (default: the current state; for diff the latest "
    "snapshot)\"}}}";

static bool is_write(const char *a)
{
    static const char *const w[] = {"save",     "snapshot", "checkpoint", "task",    "finding",
                                    "decision", "restore",  "reset",      "cleanup", "import"};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        if (strcmp(a, w[i]) == 0) {
            return true;
        }
    }
    return false;
}

void ctx_session_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    const char *a = jsonx_str(args, "action");
    if (a && is_write(a)) {
        *scopes = SCOPE_SESSION_MUTATIONS;
    }
}

/* ---- helpers (session.h) ---- */

const char *sess_actor(const tool_call *call)
{
    const char *t = call->token_id ? call->token_id : "anonymous";
    return arena_printf(call->a, "team:%s", t);
}

bool sess_ready(const tool_call *call, tool_out *out)
{
    if (!call->st || !call->ws || !call->tenant_id) {
        tool_fail(out, "conflict",
                  "shared sessions need the server's store (<dataDir>/ctxd.db), which this "
                  "server does not have");
        return false;
    }
    return true;
}

err sess_store_fail(tool_call *call, tool_out *out, err e)
{
    return sess_write_fail(call, out, e, 0);
}

err sess_write_fail(tool_call *call, tool_out *out, err e, int64_t requested)
{
    if (e == ERR_NOT_FOUND) {
        return tool_fail(out, "not_found", "the tenant no longer exists");
    }
    if (e == ERR_QUOTA_EXCEEDED) {
        return tool_quota_refusal(call, out, requested);
    }
    if (e == ERR_LIMIT) {
        return tool_fail(out, "conflict",
                         "this workspace holds the most it may (%d channels with a session or "
                         "workflow, %d snapshots, handoffs or shares of a kind); nothing was "
                         "changed",
                         STORE_DOCS_PER_WS, STORE_ITEMS_PER_WS);
    }
    return tool_fail(out, "conflict", "the store failed (%s); nothing was changed", err_code(e));
}

static int64_t parse_time_ms(const char *t)
{
    struct tm tm = {0};
    int ms = 0;
    if (!t || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

void sess_age(const char *rfc3339, char out[16])
{
    int64_t t = parse_time_ms(rfc3339);
    if (t < 0) {
        snprintf(out, 16, "?");
        return;
    }
    int64_t s = (clock_wall_ms() - t) / 1000;
    clock_short_duration(s < 0 ? 0 : s, out);
}

void sess_emit(const tool_call *call, const char *tool, const char *action, int64_t rev,
               const char *value)
{
    char summary[512];
    snprintf(summary, sizeof summary, "%s %s by team:%s on %s/%s (rev %lld)", tool, action,
             call->token_id ? call->token_id : "anonymous", call->ws->id, call->channel_id,
             (long long)rev);
    json_t *refs =
        json_pack("{s:s, s:s, s:I}", "tool", tool, "action", action, "revision", (json_int_t)rev);
    json_t *full = json_deep_copy(refs);
    if (value && full) {
        json_object_set_new(full, "value", json_string(value));
    }
    ev_spec e = {.tenant = call->tenant_id,
                 .workspace = call->ws->id,
                 .channel = call->channel_id,
                 .agent = call->token_id,
                 .kind = "session_mutated",
                 .summary = summary,
                 .refs = refs,
                 .full = full};
    (void)events_emit(&e);
    json_decref(refs);
    json_decref(full);
}

void sess_new_id(const char *prefix, char out[STORE_ITEM_ID_MAX + 1])
{
    char hex[13];
    if (!crypto_random_hex(6, hex)) {
        /* the CSPRNG failed: a time-based id still never collides within one process */
        snprintf(hex, sizeof hex, "%012llx",
                 (unsigned long long)(clock_mono_ns() & 0xffffffffffffULL));
    }
    snprintf(out, STORE_ITEM_ID_MAX + 1, "%s%s", prefix, hex);
}

bool sess_str_arg(const tool_call *call, tool_out *out, const char *key, size_t max, const char **v)
{
    json_t *j = arg_get(call, key);
    *v = NULL;
    if (!j) {
        return true;
    }
    if (!json_is_string(j)) {
        tool_fail(out, "invalid_arguments", "%s must be a string", key);
        return false;
    }
    size_t n = json_string_length(j);
    if (n > max) {
        buf_truncate(&out->text, 0);
        buf_printf(&out->text, "%s is longer than %zu bytes", key, max);
        return false;
    }
    if (strlen(json_string_value(j)) != n) {
        buf_truncate(&out->text, 0);
        buf_printf(&out->text, "%s must not contain NUL characters", key);
        return false;
    }
    *v = json_string_value(j);
    return true;
}

bool sess_load(tool_call *call, tool_out *out, const char *kind, json_t **doc, store_doc *meta)
{
    store_doc d;
    err e = store_doc_get(call->st, call->tenant_id, call->ws->id, kind, call->channel_id, &d);
    *doc = NULL;
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        sess_store_fail(call, out, e);
        return false;
    }
    if (d.body) {
        *doc = json_loads(d.body, 0, NULL);
    }
    if (!json_is_object(*doc)) {
        json_decref(*doc);
        *doc = json_object();
    }
    store_doc_release(&d);
    *meta = d;
    return true;
}

static void remember_agent(json_t *doc, const char *actor)
{
    json_t *ag = json_object_get(doc, "agents");
    if (!json_is_array(ag)) {
        ag = json_array();
        json_object_set_new(doc, "agents", ag);
    }
    size_t i;
    json_t *v;
    json_array_foreach (ag, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), actor) == 0) {
            json_array_remove(ag, i); /* moved to the end: most recent last */
            break;
        }
    }
    json_array_append_new(ag, json_string(actor));
    while (json_array_size(ag) > SESS_AGENTS_MAX) {
        json_array_remove(ag, 0);
    }
}

err sess_mutate(tool_call *call, tool_out *out, const char *kind, sess_edit_fn fn, void *ctx,
                int64_t *rev_out, json_t **doc_out)
{
    const char *actor = sess_actor(call);
    for (int attempt = 0; attempt < SESS_RETRIES; attempt++) {
        if (tool_expired(call)) {
            return ERR_CANCELLED;
        }
        json_t *doc;
        store_doc meta;
        if (!sess_load(call, out, kind, &doc, &meta)) {
            return ERR_OK;
        }
        err r = fn(doc, ctx, out);
        if (r != ERR_OK || out->is_error) {
            json_decref(doc);
            return r;
        }
        remember_agent(doc, actor);
        char *body = json_dumps(doc, JSON_COMPACT);
        int64_t rev = 0;
        err e = body ? store_doc_put(call->st, call->tenant_id, call->ws->id, kind,
                                     call->channel_id, meta.rev, body, actor, &rev)
                     : ERR_NOMEM;
        int64_t requested = body ? 64 + (int64_t)strlen(body) : 0; /* the document written */
        free(body);
        if (e == ERR_OK) {
            *rev_out = rev;
            if (doc_out) {
                *doc_out = doc;
            } else {
                json_decref(doc);
            }
            return ERR_OK;
        }
        json_decref(doc);
        if (e == ERR_INVALID_ARGUMENTS) {
            tool_fail(out, "conflict", "the %s would exceed %zu bytes; nothing was changed", kind,
                      STORE_BODY_MAX);
            return ERR_OK;
        }
        if (e != ERR_CONFLICT) {
            return sess_write_fail(call, out, e, requested);
        }
        /* another writer committed first: read again (after a short, growing pause once
           contention persists, so writers do not keep colliding in lockstep) */
        if (attempt >= 2) {
            unsigned char r8;
            crypto_random(&r8, 1);
            struct timespec ts = {0, (long)(200000 + (long)r8 * 4000) * (attempt < 10 ? 1 : 4)};
            nanosleep(&ts, NULL);
        }
    }
    tool_fail(out, "conflict",
              "the %s on %s/%s kept changing under this write (%d attempts); try again", kind,
              call->ws->id, call->channel_id, SESS_RETRIES);
    return ERR_OK;
}

bool sess_file_refs(tool_call *call, tool_out *out, const json_t *paths, json_t **refs)
{
    *refs = json_array();
    json_t *list = json_array();
    if (json_is_string(paths)) {
        const char *s = json_string_value(paths);
        while (*s) {
            const char *c = strchr(s, ',');
            size_t n = c ? (size_t)(c - s) : strlen(s);
            while (n && (*s == ' ' || *s == '\t')) {
                s++, n--;
            }
            while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
                n--;
            }
            if (n) {
                json_array_append_new(list, json_stringn(s, n));
            }
            s = c ? c + 1 : s + strlen(s);
        }
    } else if (json_is_array(paths)) {
        json_array_extend(list, (json_t *)paths);
    }
    if (json_array_size(list) > SESS_PATHS_MAX) {
        json_decref(list);
        buf_truncate(&out->text, 0);
        buf_printf(&out->text, "paths has more than %d items", SESS_PATHS_MAX);
        return false; /* not is_error: the caller answers ERR_INVALID_ARGUMENTS */
    }
    size_t i;
    json_t *p;
    json_array_foreach (list, i, p) {
        if (!json_is_string(p)) {
            continue;
        }
        char rel[PATH_MAX_LEN + 1];
        if (!tool_path_arg(call, out, json_string_value(p), json_string_length(p), rel,
                           sizeof rel)) {
            json_decref(list);
            return false;
        }
        struct stat sb;
        path_status ps;
        int fd = path_open_file(call->ws->root_fd, call->ws->root_real, rel, &sb, &ps);
        if (fd < 0) {
            tool_path_error(out, ps, *rel ? rel : json_string_value(p));
            json_decref(list);
            return false;
        }
        if ((size_t)sb.st_size > call->cfg->max_read_bytes) {
            close(fd);
            tool_fail(out, "file_too_large", "'%s' is %lld bytes, over maxReadBytes (%zu)", rel,
                      (long long)sb.st_size, call->cfg->max_read_bytes);
            json_decref(list);
            return false;
        }
        buf b;
        buf_init(&b, call->cfg->max_read_bytes + 1);
        bool ok = buf_read_fd(&b, fd) && !b.failed;
        close(fd);
        if (!ok) {
            buf_release(&b);
            tool_fail(out, "not_found", "cannot read '%s'", rel);
            json_decref(list);
            return false;
        }
        char sha[65];
        crypto_sha256_hex(b.ptr ? b.ptr : "", b.len, sha);
        json_int_t lines = 0;
        const char *d = b.ptr ? b.ptr : "";
        for (size_t k = 0; k < b.len; k++) {
            lines += d[k] == '\n';
        }
        if (b.len && d[b.len - 1] != '\n') {
            lines++;
        }
        buf_release(&b);
        json_array_append_new(
            *refs, json_pack("{s:s, s:s, s:I}", "path", rel, "sha", sha, "lines", lines));
    }
    json_decref(list);
    return true;
}

void sess_file_sha(tool_call *call, const char *rel, char out[65])
{
    out[0] = '\0';
    struct stat sb;
    path_status ps;
    int fd = path_open_file(call->ws->root_fd, call->ws->root_real, rel, &sb, &ps);
    if (fd < 0) {
        return;
    }
    buf b;
    buf_init(&b, call->cfg->max_read_bytes + 1);
    if ((size_t)sb.st_size <= call->cfg->max_read_bytes && buf_read_fd(&b, fd) && !b.failed) {
        crypto_sha256_hex(b.ptr ? b.ptr : "", b.len, out);
    }
    close(fd);
    buf_release(&b);
}

/* ---- rendering ---- */

static const char *str_or(const json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

/* one entry: "- text  (by, age ago)"; a multi-line text keeps its lines, indented */
static void put_entry(buf *b, const json_t *e, bool with_time)
{
    const char *t = str_or(e, "text", "");
    buf_puts(b, "- ");
    for (const char *p = t; *p; p++) {
        buf_putc(b, *p);
        if (*p == '\n' && p[1]) {
            buf_puts(b, "  ");
        }
    }
    if (with_time) {
        char age[16];
        sess_age(str_or(e, "at", ""), age);
        buf_printf(b, "  (%s, %s ago)", str_or(e, "by", "?"), age);
    }
    buf_putc(b, '\n');
}

static void put_list(buf *b, const json_t *doc, const char *key, size_t last, bool with_time)
{
    const json_t *a = json_object_get(doc, key);
    size_t n = json_array_size(a);
    if (!n) {
        return;
    }
    size_t from = last && n > last ? n - last : 0;
    if (from) {
        buf_printf(b, "%s (last %zu of %zu):\n", key, n - from, n);
    } else {
        buf_printf(b, "%s (%zu):\n", key, n);
    }
    for (size_t i = from; i < n; i++) {
        put_entry(b, json_array_get(a, i), with_time);
    }
}

static void put_agents(buf *b, const json_t *doc)
{
    const json_t *ag = json_object_get(doc, "agents");
    size_t i;
    json_t *v;
    json_array_foreach (ag, i, v) {
        buf_printf(b, "%s%s", i ? ", " : "", json_string_value(v));
    }
    if (!json_array_size(ag)) {
        buf_puts(b, "none");
    }
}

static void render(tool_call *call, buf *b, const json_t *doc, const store_doc *meta, bool full)
{
    if (meta->rev == 0) {
        buf_printf(b, "session %s/%s rev 0: empty (no task, findings or decisions yet)\n",
                   call->ws->id, call->channel_id);
        return;
    }
    char age[16];
    sess_age(meta->updated_at, age);
    buf_printf(b, "session %s/%s rev %lld, updated %s ago by %s; agents: ", call->ws->id,
               call->channel_id, (long long)meta->rev, age, meta->updated_by);
    put_agents(b, doc);
    buf_putc(b, '\n');
    const char *task = str_or(doc, "task", NULL);
    buf_printf(b, "task: %s\n", task && *task ? task : "(none)");
    put_list(b, doc, "findings", full ? 0 : 5, full);
    put_list(b, doc, "decisions", full ? 0 : 5, full);
    const json_t *files = json_object_get(doc, "files");
    size_t n = json_array_size(files);
    if (n) {
        size_t from = !full && n > 10 ? n - 10 : 0;
        buf_puts(b, "files:");
        for (size_t i = n; i-- > from;) {
            buf_printf(b, " %s", json_string_value(json_array_get(files, i)));
        }
        buf_putc(b, '\n');
    }
}

static json_t *texts(const json_t *a)
{
    json_t *r = json_array();
    size_t i;
    json_t *v;
    json_array_foreach (a, i, v) {
        json_array_append(r, v);
    }
    return r;
}

static json_t *structured(tool_call *call, const json_t *doc, const store_doc *meta)
{
    const char *task = str_or(doc, "task", NULL);
    json_t *files = json_object_get(doc, "files");
    json_t *agents = json_object_get(doc, "agents");
    return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "workspace", call->ws->id,
                     "channel", call->channel_id, "rev", (json_int_t)meta->rev, "task",
                     task ? json_string(task) : json_null(), "findings",
                     texts(json_object_get(doc, "findings")), "decisions",
                     texts(json_object_get(doc, "decisions")), "files",
                     files ? json_deep_copy(files) : json_array(), "agents",
                     agents ? json_deep_copy(agents) : json_array(), "updatedAt",
                     meta->rev ? json_string(meta->updated_at) : json_null());
}

/* ---- merging (session.h) ---- */

static bool has_text(const json_t *a, const char *t)
{
    size_t i;
    json_t *e;
    json_array_foreach (a, i, e) {
        if (strcmp(str_or(e, "text", ""), t) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *array_member(json_t *doc, const char *key)
{
    json_t *a = json_object_get(doc, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(doc, key, a);
    }
    return a;
}

int sess_merge_entries(json_t *doc, const char *key, const json_t *from)
{
    json_t *a = array_member(doc, key);
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach (from, i, e) {
        const char *t = str_or(e, "text", NULL);
        if (t && !has_text(a, t)) {
            json_array_append(a, e);
            n++;
        }
    }
    while (json_array_size(a) > SESS_LIST_MAX) {
        json_array_remove(a, 0);
    }
    return n;
}

int sess_merge_files(json_t *doc, const json_t *from)
{
    json_t *files = array_member(doc, "files");
    int n = 0;
    size_t i;
    json_t *f;
    json_array_foreach (from, i, f) {
        const char *path = json_is_string(f) ? json_string_value(f) : str_or(f, "path", NULL);
        bool have = false;
        size_t k;
        json_t *x;
        json_array_foreach (files, k, x) {
            have = have || (path && json_is_string(x) && strcmp(json_string_value(x), path) == 0);
        }
        if (path && !have) {
            json_array_append_new(files, json_string(path));
            n++;
        }
    }
    while (json_array_size(files) > SESS_FILES_MAX) {
        json_array_remove(files, 0);
    }
    return n;
}

json_t *sess_import_entries(const json_t *src, const char *actor, const char *now)
{
    if (!json_is_array(src) || json_array_size(src) > SESS_LIST_MAX) {
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach (src, i, e) {
        const char *t = json_is_string(e) ? json_string_value(e) : str_or(e, "text", NULL);
        if (!t || strlen(t) > SESS_VALUE_MAX) {
            json_decref(out);
            return NULL;
        }
        json_t *n = json_pack("{s:s, s:s, s:s}", "text", t, "by", actor, "at", now);
        const char *claimed = json_is_object(e) ? str_or(e, "by", NULL) : NULL;
        if (claimed && strcmp(claimed, actor) != 0 && strlen(claimed) <= STORE_ACTOR_MAX) {
            json_object_set_new(n, "importedFrom", json_string(claimed));
        }
        json_array_append_new(out, n);
    }
    return out;
}

/* ---- edits ---- */

typedef struct edit_ctx {
    const char *action;
    const char *value;
    const char *actor;
    char now[32];
    json_t *snapshot; /* restore: the snapshot's session; save: receives a copy */
    const char *snap_id, *snap_name;
    int merged[3]; /* import: findings, decisions, files added */
} edit_ctx;

static void append_entry(json_t *doc, const char *key, const edit_ctx *c)
{
    json_t *a = json_object_get(doc, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(doc, key, a);
    }
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:s}", "text", c->value, "by", c->actor, "at", c->now));
    while (json_array_size(a) > SESS_LIST_MAX) {
        json_array_remove(a, 0);
    }
}

static err edit(json_t *doc, void *v, tool_out *out)
{
    edit_ctx *c = v;
    (void)out;
    if (strcmp(c->action, "task") == 0) {
        json_object_set_new(doc, "task", json_string(c->value));
        json_object_set_new(doc, "taskBy", json_string(c->actor));
        json_object_set_new(doc, "taskAt", json_string(c->now));
    } else if (strcmp(c->action, "finding") == 0) {
        append_entry(doc, "findings", c);
    } else if (strcmp(c->action, "decision") == 0) {
        append_entry(doc, "decisions", c);
    } else if (strcmp(c->action, "reset") == 0) {
        json_object_del(doc, "task");
        json_object_del(doc, "taskBy");
        json_object_del(doc, "taskAt");
        json_object_set_new(doc, "findings", json_array());
        json_object_set_new(doc, "decisions", json_array());
    } else if (strcmp(c->action, "import") == 0) {
        const char *task = str_or(c->snapshot, "task", NULL);
        if (task) {
            json_object_set_new(doc, "task", json_string(task));
            json_object_set_new(doc, "taskBy", json_string(c->actor));
            json_object_set_new(doc, "taskAt", json_string(c->now));
        }
        c->merged[0] =
            sess_merge_entries(doc, "findings", json_object_get(c->snapshot, "findings"));
        c->merged[1] =
            sess_merge_entries(doc, "decisions", json_object_get(c->snapshot, "decisions"));
        c->merged[2] = sess_merge_files(doc, json_object_get(c->snapshot, "files"));
    } else if (strcmp(c->action, "restore") == 0) {
        static const char *const keys[] = {"task",     "taskBy",    "taskAt",
                                           "findings", "decisions", "files"};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
            json_t *x = json_object_get(c->snapshot, keys[i]);
            if (x) {
                json_object_set(doc, keys[i], x);
            } else {
                json_object_del(doc, keys[i]);
            }
        }
    } else { /* save, snapshot, checkpoint */
        json_object_set_new(doc, "lastSnapshot",
                            json_pack("{s:s, s:s}", "id", c->snap_id, "name", c->snap_name));
        json_decref(c->snapshot);
        c->snapshot = json_deep_copy(doc);
    }
    return ERR_OK;
}

/* ---- actions ---- */

typedef struct list_ctx {
    buf *b;
    json_t *rows;
} list_ctx;

static bool list_row(const store_doc *d, void *v)
{
    list_ctx *l = v;
    json_t *doc = json_loads(d->body ? d->body : "{}", 0, NULL);
    char age[16];
    sess_age(d->updated_at, age);
    buf_printf(l->b, "%s  %lld  ", d->channel, (long long)d->rev);
    put_agents(l->b, doc);
    buf_printf(l->b, "  %s ago\n", age);
    json_t *ag = json_object_get(doc, "agents");
    json_array_append_new(l->rows, json_pack("{s:s, s:I, s:o, s:s}", "channel", d->channel, "rev",
                                             (json_int_t)d->rev, "agents",
                                             ag ? json_incref(ag) : json_array(), "updatedAt",
                                             d->updated_at));
    json_decref(doc);
    return json_array_size(l->rows) < 1000;
}

static err do_list(tool_call *call, tool_out *out)
{
    json_t *rows = json_array();
    buf body;
    buf_init(&body, BUF_DEFAULT_MAX);
    list_ctx l = {&body, rows};
    err e = store_doc_list(call->st, call->tenant_id, call->ws->id, "session", list_row, &l);
    if (e != ERR_OK) {
        buf_release(&body);
        json_decref(rows);
        return sess_store_fail(call, out, e);
    }
    if (!json_array_size(rows)) {
        buf_printf(&out->text, "no sessions in workspace %s\n", call->ws->id);
    } else {
        buf_printf(&out->text, "workspace: %s\nchannel  rev  agents  updated\n", call->ws->id);
        buf_append(&out->text, body.ptr, body.len);
    }
    buf_release(&body);
    out->structured = json_pack("{s:s, s:o}", "workspace", call->ws->id, "sessions", rows);
    return ERR_OK;
}

/* the snapshot session_id of this channel (a JSON object), or NULL with out filled */
static json_t *load_snapshot(tool_call *call, tool_out *out, const char *id, store_item *it)
{
    err e = store_item_get(call->st, call->tenant_id, call->ws->id, "snapshot", call->channel_id,
                           id, it);
    if (e == ERR_NOT_FOUND) {
        tool_fail(out, "not_found", "no snapshot '%s' on %s/%s (ctx_session action=save makes one)",
                  id, call->ws->id, call->channel_id);
        return NULL;
    }
    if (e != ERR_OK) {
        sess_store_fail(call, out, e);
        return NULL;
    }
    json_t *snap = json_loads(it->body, 0, NULL);
    if (!json_is_object(snap)) {
        json_decref(snap);
        store_item_release(it);
        tool_fail(out, "not_found", "snapshot '%s' is unreadable", id);
        return NULL;
    }
    return snap;
}

static err do_read(tool_call *call, tool_out *out, const char *action)
{
    const char *sid = arg_str(call, "session_id", NULL);
    json_t *doc;
    store_doc meta;
    store_item it = {0};
    json_t *snap = NULL;
    if (sid && strcmp(action, "status") != 0 && strcmp(action, "show") != 0) {
        snap = load_snapshot(call, out, sid, &it);
        if (!snap) {
            return ERR_OK;
        }
        doc = json_incref(json_object_get(snap, "session"));
        if (!json_is_object(doc)) {
            json_decref(doc);
            doc = json_object();
        }
        memset(&meta, 0, sizeof meta);
        meta.rev = json_integer_value(json_object_get(snap, "rev"));
        snprintf(meta.updated_at, sizeof meta.updated_at, "%s", it.created_at);
        snprintf(meta.updated_by, sizeof meta.updated_by, "%s", it.from);
    } else if (!sess_load(call, out, "session", &doc, &meta)) {
        return ERR_OK;
    }
    out->structured = structured(call, doc, &meta);
    if (snap) {
        json_object_set_new(out->structured, "snapshot",
                            json_pack("{s:s, s:s, s:s}", "id", it.id, "name",
                                      str_or(snap, "name", ""), "createdAt", it.created_at));
        buf_printf(&out->text, "snapshot %s \"%s\" (saved by %s at %s)\n", it.id,
                   str_or(snap, "name", ""), it.from, it.created_at);
    }
    if (strcmp(action, "export") == 0) {
        jsonx_dump(&out->text, out->structured);
        buf_putc(&out->text, '\n');
    } else {
        render(call, &out->text, doc, &meta, strcmp(action, "status") != 0);
        if (strcmp(action, "resume") == 0 && meta.rev) {
            /* where we were: five lines */
            const json_t *f = json_object_get(doc, "findings");
            const json_t *d = json_object_get(doc, "decisions");
            const json_t *files = json_object_get(doc, "files");
            buf_puts(&out->text, "where we were:\n");
            buf_printf(&out->text, "1. task: %s\n", str_or(doc, "task", "(none)"));
            buf_printf(&out->text, "2. last finding: %s\n",
                       json_array_size(f)
                           ? str_or(json_array_get(f, json_array_size(f) - 1), "text", "")
                           : "(none)");
            buf_printf(&out->text, "3. last decision: %s\n",
                       json_array_size(d)
                           ? str_or(json_array_get(d, json_array_size(d) - 1), "text", "")
                           : "(none)");
            buf_printf(&out->text, "4. files in play: %zu\n", json_array_size(files));
            buf_printf(&out->text, "5. last change: rev %lld by %s\n", (long long)meta.rev,
                       meta.updated_by);
        }
    }
    json_decref(doc);
    json_decref(snap);
    store_item_release(&it);
    return ERR_OK;
}

static err do_cleanup(tool_call *call, tool_out *out)
{
    char before[32];
    clock_rfc3339(clock_wall_ms() - (int64_t)30 * 24 * 3600 * 1000, before);
    int64_t n = 0;
    err e = store_item_delete(call->st, call->tenant_id, call->ws->id, "snapshot", call->channel_id,
                              NULL, false, before, &n);
    if (e != ERR_OK) {
        return sess_store_fail(call, out, e);
    }
    store_doc meta;
    json_t *doc;
    if (!sess_load(call, out, "session", &doc, &meta)) {
        return ERR_OK;
    }
    buf_printf(&out->text, "deleted %lld snapshot%s older than 30 days on %s/%s\n", (long long)n,
               n == 1 ? "" : "s", call->ws->id, call->channel_id);
    out->structured = structured(call, doc, &meta);
    json_object_set_new(out->structured, "deleted", json_integer(n));
    json_decref(doc);
    if (n) {
        sess_emit(call, "ctx_session", "cleanup", meta.rev, NULL);
    }
    return ERR_OK;
}

/* entries of b whose text a lacks, as text lines "<sign> <what>: <text>" and a JSON array */
static json_t *entries_missing(buf *o, const json_t *a, const json_t *b, const char *sign,
                               const char *what)
{
    json_t *r = json_array();
    size_t i;
    json_t *e;
    json_array_foreach (b, i, e) {
        const char *t = str_or(e, "text", "");
        if (!has_text(a, t)) {
            buf_printf(o, "%s %s: %s\n", sign, what, t);
            json_array_append_new(r, json_string(t));
        }
    }
    return r;
}

static json_t *files_missing(buf *o, const json_t *a, const json_t *b, const char *sign)
{
    json_t *r = json_array();
    size_t i, k;
    json_t *e, *x;
    json_array_foreach (b, i, e) {
        bool have = false;
        json_array_foreach (a, k, x) {
            have = have || json_equal(x, e);
        }
        if (!have && json_is_string(e)) {
            buf_printf(o, "%s file: %s\n", sign, json_string_value(e));
            json_array_append(r, e);
        }
    }
    return r;
}

/* what changed between snapshot session_id (default: the latest) and the current state */
static err do_diff(tool_call *call, tool_out *out)
{
    store_item it = {0};
    json_t *snap = load_snapshot(call, out, arg_str(call, "session_id", NULL), &it);
    if (!snap) {
        return ERR_OK;
    }
    json_t *doc;
    store_doc meta;
    if (!sess_load(call, out, "session", &doc, &meta)) {
        json_decref(snap);
        store_item_release(&it);
        return ERR_OK;
    }
    const json_t *old = json_object_get(snap, "session");
    long long old_rev = (long long)json_integer_value(json_object_get(snap, "rev"));
    buf_printf(&out->text, "diff snapshot %s \"%s\" (rev %lld) → current (rev %lld)\n", it.id,
               str_or(snap, "name", ""), old_rev, (long long)meta.rev);
    const char *t0 = str_or(old, "task", ""), *t1 = str_or(doc, "task", "");
    bool task_changed = strcmp(t0, t1) != 0;
    if (task_changed) {
        buf_printf(&out->text, "task: %s → %s\n", *t0 ? t0 : "(none)", *t1 ? t1 : "(none)");
    } else {
        buf_puts(&out->text, "task: unchanged\n");
    }
    size_t mark = out->text.len;
    json_t *fa = entries_missing(&out->text, json_object_get(old, "findings"),
                                 json_object_get(doc, "findings"), "+", "finding");
    json_t *fr = entries_missing(&out->text, json_object_get(doc, "findings"),
                                 json_object_get(old, "findings"), "-", "finding");
    json_t *da = entries_missing(&out->text, json_object_get(old, "decisions"),
                                 json_object_get(doc, "decisions"), "+", "decision");
    json_t *dr = entries_missing(&out->text, json_object_get(doc, "decisions"),
                                 json_object_get(old, "decisions"), "-", "decision");
    json_t *xa = files_missing(&out->text, json_object_get(old, "files"),
                               json_object_get(doc, "files"), "+");
    json_t *xr = files_missing(&out->text, json_object_get(doc, "files"),
                               json_object_get(old, "files"), "-");
    if (out->text.len == mark) {
        buf_puts(&out->text, "no findings, decisions or files changed\n");
    }
    out->structured =
        json_pack("{s:s, s:I, s:I, s:b, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}}", "snapshot",
                  it.id, "fromRev", (json_int_t)old_rev, "toRev", (json_int_t)meta.rev,
                  "taskChanged", task_changed, "findings", "added", fa, "removed", fr, "decisions",
                  "added", da, "removed", dr, "files", "added", xa, "removed", xr);
    json_decref(doc);
    json_decref(snap);
    store_item_release(&it);
    return ERR_OK;
}

/* the import value, normalized into {task?, findings, decisions, files}; NULL with the message
   in out (invalid_arguments) or out filled (a path error) */
static json_t *import_parse(tool_call *call, tool_out *out, const char *value, const char *actor,
                            const char *now)
{
    char why[200];
    json_t *in = value ? jsonx_parse(value, strlen(value), why, sizeof why) : NULL;
    if (!json_is_object(in)) {
        buf_printf(&out->text, "value must be a JSON object {task, findings, decisions, files}%s%s",
                   in || !value ? "" : ": ", in || !value ? "" : why);
        json_decref(in);
        return NULL;
    }
    json_t *norm = json_object();
    const json_t *task = json_object_get(in, "task");
    if (json_is_string(task)) {
        json_object_set(norm, "task", (json_t *)task);
    }
    static const char *const keys[] = {"findings", "decisions"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *src = json_object_get(in, keys[i]);
        json_t *e = src ? sess_import_entries(src, actor, now) : json_array();
        if (!e) {
            buf_printf(&out->text,
                       "value.%s must be an array of at most %d strings or {text} "
                       "objects",
                       keys[i], SESS_LIST_MAX);
            json_decref(in);
            json_decref(norm);
            return NULL;
        }
        json_object_set_new(norm, keys[i], e);
    }
    json_t *files = json_array();
    const json_t *src = json_object_get(in, "files");
    if (src && (!json_is_array(src) || json_array_size(src) > SESS_FILES_MAX)) {
        buf_printf(&out->text, "value.files must be an array of at most %d paths", SESS_FILES_MAX);
        json_decref(in);
        json_decref(norm);
        json_decref(files);
        return NULL;
    }
    size_t i;
    json_t *f;
    json_array_foreach (src, i, f) {
        const char *p = json_is_string(f) ? json_string_value(f) : str_or(f, "path", NULL);
        char rel[PATH_MAX_LEN + 1];
        if (!p) {
            continue;
        }
        if (!tool_path_arg(call, out, p, strlen(p), rel, sizeof rel)) {
            json_decref(in);
            json_decref(norm);
            json_decref(files);
            return NULL;
        }
        json_array_append_new(files, json_string(rel));
    }
    json_object_set_new(norm, "files", files);
    json_decref(in);
    return norm;
}

err tool_ctx_session(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    const char *action = arg_str(call, "action", "status");
    if (strcmp(action, "list") == 0) {
        return do_list(call, out);
    }
    if (strcmp(action, "cleanup") == 0) {
        return do_cleanup(call, out);
    }
    if (strcmp(action, "diff") == 0) {
        return do_diff(call, out);
    }
    if (!is_write(action)) {
        return do_read(call, out, action);
    }

    edit_ctx c = {.action = action, .actor = sess_actor(call)};
    clock_rfc3339(clock_wall_ms(), c.now);
    if (!sess_str_arg(call, out, "value", SESS_VALUE_MAX, &c.value)) {
        return ERR_INVALID_ARGUMENTS;
    }
    bool needs_value = strcmp(action, "task") == 0 || strcmp(action, "finding") == 0 ||
                       strcmp(action, "decision") == 0 || strcmp(action, "import") == 0;
    if (needs_value && (!c.value || !*c.value)) {
        buf_printf(&out->text, "value is required for action=%s", action);
        return ERR_INVALID_ARGUMENTS;
    }
    store_item it = {0};
    char snap_id[STORE_ITEM_ID_MAX + 1] = "";
    bool saving = strcmp(action, "save") == 0 || strcmp(action, "snapshot") == 0 ||
                  strcmp(action, "checkpoint") == 0;
    if (strcmp(action, "import") == 0) {
        c.snapshot = import_parse(call, out, c.value, c.actor, c.now);
        if (!c.snapshot) {
            return out->is_error ? ERR_OK : ERR_INVALID_ARGUMENTS;
        }
    } else if (strcmp(action, "restore") == 0) {
        const char *sid = arg_str(call, "session_id", NULL);
        json_t *snap = load_snapshot(call, out, sid, &it);
        if (!snap) {
            return ERR_OK;
        }
        c.snapshot = json_incref(json_object_get(snap, "session"));
        json_decref(snap);
        if (!json_is_object(c.snapshot)) {
            json_decref(c.snapshot);
            c.snapshot = json_object();
        }
    } else if (saving) {
        sess_new_id("s-", snap_id);
        c.snap_id = snap_id;
        c.snap_name = c.value && *c.value ? c.value : c.now;
    }

    int64_t rev = 0;
    json_t *doc = NULL;
    err r = sess_mutate(call, out, "session", edit, &c, &rev, &doc);
    if (r != ERR_OK || out->is_error) {
        json_decref(c.snapshot);
        store_item_release(&it);
        return r;
    }
    if (saving) {
        json_object_del(c.snapshot, "lastSnapshot");
        json_t *body = json_pack("{s:s, s:I, s:O}", "name", c.snap_name, "rev", (json_int_t)rev,
                                 "session", c.snapshot);
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        store_item sn = {0};
        snprintf(sn.channel, sizeof sn.channel, "%s", call->channel_id);
        snprintf(sn.kind, sizeof sn.kind, "snapshot");
        snprintf(sn.id, sizeof sn.id, "%s", snap_id);
        snprintf(sn.from, sizeof sn.from, "%s", c.actor);
        sn.body = text;
        err e =
            text ? store_item_add(call->st, call->tenant_id, call->ws->id, &sn, SESS_SNAPSHOTS_KEEP)
                 : ERR_NOMEM;
        int64_t requested = text ? 64 + (int64_t)strlen(text) : 0;
        free(text);
        if (e != ERR_OK) {
            json_decref(doc);
            json_decref(c.snapshot);
            return sess_write_fail(call, out, e, requested);
        }
        buf_printf(&out->text, "saved snapshot %s \"%s\" of %s/%s at rev %lld\n", snap_id,
                   c.snap_name, call->ws->id, call->channel_id, (long long)rev);
    } else if (strcmp(action, "restore") == 0) {
        buf_printf(&out->text, "restored snapshot %s on %s/%s: now rev %lld\n", it.id, call->ws->id,
                   call->channel_id, (long long)rev);
    } else if (strcmp(action, "import") == 0) {
        buf_printf(&out->text,
                   "imported into %s/%s: %s, +%d findings, +%d decisions, +%d files; rev %lld\n",
                   call->ws->id, call->channel_id,
                   json_object_get(c.snapshot, "task") ? "task set" : "task unchanged", c.merged[0],
                   c.merged[1], c.merged[2], (long long)rev);
    } else if (strcmp(action, "reset") == 0) {
        buf_printf(&out->text,
                   "reset %s/%s: task, findings and decisions cleared (snapshots "
                   "kept); rev %lld\n",
                   call->ws->id, call->channel_id, (long long)rev);
    } else {
        const json_t *a = json_object_get(doc, strcmp(action, "finding") == 0    ? "findings"
                                               : strcmp(action, "decision") == 0 ? "decisions"
                                                                                 : "task");
        buf_printf(&out->text, "%s %s on %s/%s: rev %lld", action,
                   strcmp(action, "task") == 0 ? "set" : "added", call->ws->id, call->channel_id,
                   (long long)rev);
        if (json_is_array(a)) {
            buf_printf(&out->text, " (%zu %s)", json_array_size(a),
                       strcmp(action, "finding") == 0 ? "findings" : "decisions");
        }
        buf_putc(&out->text, '\n');
    }
    store_doc meta = {.rev = rev};
    clock_rfc3339(clock_wall_ms(), meta.updated_at);
    out->structured = structured(call, doc, &meta);
    if (saving) {
        json_object_set_new(out->structured, "snapshotId", json_string(snap_id));
    }
    sess_emit(call, "ctx_session", action, rev, c.value);
    json_decref(doc);
    json_decref(c.snapshot);
    store_item_release(&it);
    return ERR_OK;
}

/* proof.c - ctx_proof and ctx_verify (tools.md §4.7-4.8): what context the caller used, as a
 * machine-checkable record, and whether it still holds.
 *
 * Receipts come from the caller's own `tool_call_recorded` events (dispatch.c records for every
 * call the arguments' HMAC, the SHA-256 and size of the result text sent, the duration and, for
 * ctx_read, the mode), kept in the store for eventRetentionDays; the files come from the
 * caller's read ledger (ledger.h, in memory since the server started). A ContextProofV1 is
 * serialized with sorted keys and no whitespace, so its SHA-256 is stable; write=true stores it
 * as an artifact (kind proof) of the workspace, never as a file in it.
 *
 * ctx_verify: `stats` counts the caller's receipts per tool; `proof` re-hashes each file of a
 * stored proof (or of the ledger) against the workspace now; `v2` checks each receipt of a
 * stored proof against the server's record of that call (same event id, tool, arguments HMAC
 * and result SHA-256): `ok`, `changed` (the record differs: the proof was edited), `missing`
 * (no such record: pruned by retention, or never made here). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/events.h"
#include "index/git.h"
#include "tools/artifacts.h"
#include "tools/handlers.h"
#include "tools/ledger.h"
#include "tools/session.h"

#define PROOF_STATS_MAX 10000 /* receipts ctx_verify stats reads */
#define PROOF_NAME_MAX 128

const char ctx_proof_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"export\"],\"default\":\"export\"},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"json\",\"summary\",\"both\"],"
    "\"default\":\"summary\"},"
    "\"write\":{\"type\":\"boolean\",\"default\":false,\"description\":\"also store it as an "
    "artifact (needs the artifacts scope)\"},"
    "\"filename\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"the artifact name "
    "(default proof-<timestamp>.json)\"},"
    "\"max_evidence\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"default\":50},"
    "\"max_ledger_files\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5000,\"default\":500},"
    "\"project_root\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"accepted, "
    "ignored\"}}}";

const char ctx_verify_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"stats\",\"proof\",\"v2\"],\"default\":\"stats\"},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"summary\",\"json\",\"both\"],"
    "\"default\":\"summary\"},"
    "\"id\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"a stored proof's name "
    "(default: your latest)\"}}}";

void ctx_proof_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    if (json_is_true(json_object_get(args, "write"))) {
        *scopes |= SCOPE_ARTIFACTS;
    }
}

/* ---- receipts: the caller's tool_call_recorded events here ---- */

typedef struct receipts {
    json_t *arr; /* evidence items, oldest first */
    json_t *tools, *modes;
    int64_t calls, errors, bytes;
} receipts;

static void bump(json_t *o, const char *k, int64_t by)
{
    json_t *v = json_object_get(o, k);
    json_object_set_new(o, k, json_integer(json_integer_value(v) + by));
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool on_receipt(const store_event *e, void *v)
{
    receipts *r = v;
    json_t *full = json_loads(e->full_json   ? e->full_json
                              : e->refs_json ? e->refs_json
                                             : "{}",
                              0, NULL);
    if (!json_is_object(full)) {
        json_decref(full);
        return true;
    }
    const char *tool = json_string_value(json_object_get(full, "tool"));
    const char *outcome = json_string_value(json_object_get(full, "outcome"));
    const char *mode = json_string_value(json_object_get(full, "mode"));
    int64_t bytes = json_integer_value(json_object_get(full, "bytes"));
    char ts[32];
    clock_rfc3339(e->ts_ms, ts);
    json_t *item = json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s, s:O?, s:s?, s:I}", "eventId",
                             (json_int_t)e->id, "ts", ts, "tool", tool ? tool : "?", "action",
                             json_string_value(json_object_get(full, "action")), "argumentsHmac",
                             jstr(full, "argumentsHmac"), "resultSha", jstr(full, "resultSha"),
                             "durationMs", json_object_get(full, "durationMs"), "outcome", outcome,
                             "bytes", (json_int_t)bytes);
    if (item) {
        json_array_append_new(r->arr, item);
    }
    r->calls++;
    r->errors += outcome && strcmp(outcome, "ok") != 0;
    r->bytes += bytes;
    bump(r->tools, tool ? tool : "?", 1);
    if (mode) {
        bump(r->modes, mode, 1);
    }
    json_decref(full);
    return true;
}

static err load_receipts(const tool_call *call, int limit, receipts *r)
{
    *r = (receipts){.arr = json_array(), .tools = json_object(), .modes = json_object()};
    store_event_query q = {.tenant_id = call->tenant_id,
                           .workspace_id = call->ws->id,
                           .channel_id = call->channel_id,
                           .kind = "tool_call_recorded",
                           .agent_id = call->token_id ? call->token_id : "",
                           .after_id = -1,
                           .limit = limit};
    int n = 0;
    return events_replay(&q, on_receipt, r, &n);
}

static void receipts_release(receipts *r)
{
    json_decref(r->arr);
    json_decref(r->tools);
    json_decref(r->modes);
}

/* "ctx_read 8, ctx_search 4" (most first, at most 12) */
static void put_counts(buf *out, const json_t *counts)
{
    json_t *o = json_deep_copy(counts);
    const char *k;
    json_t *v;
    int shown = 0;
    while (shown < 12) {
        const char *best = NULL;
        int64_t bn = 0;
        json_object_foreach (o, k, v) {
            int64_t n = json_integer_value(v);
            if (n > 0 && (n > bn || (n == bn && best && strcmp(k, best) < 0))) {
                best = k;
                bn = n;
            }
        }
        if (!best) {
            break;
        }
        buf_printf(out, "%s%s %" PRId64, shown ? ", " : "", best, bn);
        json_object_set_new(o, best, json_integer(0)); /* shown: skip it next round */
        shown++;
    }
    json_decref(o);
}

/* ---- ctx_proof ---- */

static json_t *git_state(const tool_call *call)
{
    git_repo r;
    char why[256];
    if (!git_repo_open(call->ws, &r, why, sizeof why)) {
        return json_pack("{s:n, s:n}", "head", "dirty");
    }
    char head[41];
    bool has_head = git_head(&r, head);
    int64_t changed = -1;
    bool clean = git_is_clean(&r, &changed, why, sizeof why);
    json_t *g = json_pack("{s:s?}", "head", has_head ? head : NULL);
    json_object_set_new(g, "dirty", changed < 0 ? json_null() : json_boolean(!clean));
    if (changed >= 0) {
        json_object_set_new(g, "changedFiles", json_integer(changed));
    }
    git_repo_release(&r);
    return g;
}

static json_t *ledger_files(tool_call *call, int max)
{
    ledger_key k = {.tenant = call->tenant_id,
                    .workspace = call->ws->id,
                    .channel = call->channel_id,
                    .token = call->token_id ? call->token_id : ""};
    ledger_item *items = NULL;
    size_t n = ledger_list(&k, call->a, &items);
    json_t *arr = json_array();
    for (size_t i = 0; n != (size_t)-1 && i < n && i < (size_t)max; i++) {
        char at[32];
        clock_rfc3339(items[i].at_ms, at);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "path", items[i].path, "sha",
                                             items[i].sha, "lastRead", at));
    }
    return arr;
}

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > PROOF_NAME_MAX || n[0] == '.' || n[0] == '-') {
        return false;
    }
    for (const char *p = n; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static void emit_proof(tool_call *call, const char *name, const char *sha, size_t evidence,
                       size_t files)
{
    json_t *refs =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "tool", "ctx_proof", "name", name, "sha256", sha,
                  "evidence", (json_int_t)evidence, "files", (json_int_t)files);
    char summary[STORE_EV_SUMMARY_MAX + 1];
    snprintf(summary, sizeof summary, "ctx_proof stored %.200s (%zu receipts, %zu files)", name,
             evidence, files);
    ev_spec sp = {.tenant = call->tenant_id,
                  .workspace = call->ws->id,
                  .channel = call->channel_id,
                  .agent = call->token_id,
                  .kind = "proof_added",
                  .summary = summary,
                  .refs = refs};
    (void)events_emit(&sp);
    json_decref(refs);
}

err tool_ctx_proof(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    bool write = arg_bool(call, "write", false);
    const char *filename = arg_str(call, "filename", NULL);
    if (filename && !name_ok(filename)) {
        buf_printf(&out->text,
                   "filename must be 1-%d characters of [A-Za-z0-9._-], not starting "
                   "with '.' or '-'",
                   PROOF_NAME_MAX);
        return ERR_INVALID_ARGUMENTS;
    }
    receipts r;
    err e = load_receipts(call, (int)arg_int(call, "max_evidence", 50), &r);
    if (e != ERR_OK) {
        receipts_release(&r);
        return sess_store_fail(call, out, e);
    }
    char now[32];
    clock_rfc3339(clock_wall_ms(), now);
    json_t *ledger = ledger_files(call, (int)arg_int(call, "max_ledger_files", 500));
    size_t n_evidence = json_array_size(r.arr), n_files = json_array_size(ledger);
    json_t *proof = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:O, s:o, s:{s:O, s:O, s:I, s:I, s:I}}",
        "schema", "ContextProofV1", "workspace", call->ws->id, "channel", call->channel_id, "agent",
        sess_actor(call), "generatedAt", now, "server", "name", "ctxd", "version", CTXD_VERSION,
        "git", git_state(call), "evidence", r.arr, "ledger", ledger, "pipeline", "tools", r.tools,
        "modes", r.modes, "calls", (json_int_t)r.calls, "errors", (json_int_t)r.errors, "bytes",
        (json_int_t)r.bytes);
    char *text = proof ? json_dumps(proof, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text) {
        json_decref(proof);
        receipts_release(&r);
        return ERR_NOMEM;
    }
    char sha[65];
    crypto_sha256_hex(text, strlen(text), sha);
    char name[PROOF_NAME_MAX + 1] = "";
    if (write) {
        if (filename) {
            snprintf(name, sizeof name, "%s", filename);
        } else {
            char stamp[32];
            time_t t = (time_t)(clock_wall_ms() / 1000);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
            snprintf(name, sizeof name, "proof-%s-%.8s.json", stamp, sha);
        }
        size_t len = strlen(text);
        e = art_put_text(call, name, "proof", true, text, len, sha, 0);
        if (e != ERR_OK) {
            free(text);
            json_decref(proof);
            receipts_release(&r);
            return art_store_fail(call, out, e, (int64_t)len * 3);
        }
        emit_proof(call, name, sha, n_evidence, n_files);
    }
    const char *format = arg_str(call, "format", "summary");
    if (strcmp(format, "json") != 0) {
        json_t *g = json_object_get(proof, "git");
        const char *head = json_string_value(json_object_get(g, "head"));
        json_t *dirty = json_object_get(g, "dirty");
        buf_printf(&out->text, "ContextProofV1 %s/%s by %s at %s\n", call->ws->id, call->channel_id,
                   sess_actor(call), now);
        if (!head) {
            buf_puts(&out->text, "git: not a git checkout (or no commit yet)\n");
        } else {
            buf_printf(&out->text, "git: HEAD %.12s, %s", head,
                       json_is_true(dirty)    ? "dirty"
                       : json_is_false(dirty) ? "clean"
                                              : "status ?");
            if (json_is_true(dirty)) {
                buf_printf(&out->text, " (%" PRId64 " changed files)",
                           (int64_t)json_integer_value(json_object_get(g, "changedFiles")));
            }
            buf_putc(&out->text, '\n');
        }
        buf_printf(&out->text, "evidence: %zu tool calls", n_evidence);
        if (n_evidence) {
            buf_puts(&out->text, " (");
            put_counts(&out->text, r.tools);
            buf_printf(&out->text, "); %" PRId64 " errors; %" PRId64 " bytes sent", r.errors,
                       r.bytes);
        }
        if (json_object_size(r.modes)) {
            buf_puts(&out->text, "; ctx_read modes: ");
            put_counts(&out->text, r.modes);
        }
        buf_printf(&out->text, "\nledger: %zu files read\nsha256: %s", n_files, sha);
        if (write) {
            buf_printf(
                &out->text,
                "\nstored as artifact %s (ctx_verify action=proof id=%s re-checks the files, "
                "action=v2 the receipts)",
                name, name);
        }
        if (strcmp(format, "both") == 0) {
            buf_puts(&out->text, "\n\n");
        }
    }
    if (strcmp(format, "summary") != 0) {
        buf_puts(&out->text, text);
    }
    out->structured = json_pack("{s:O, s:s, s:s?}", "proof", proof, "sha256", sha, "artifact",
                                write ? name : NULL);
    free(text);
    json_decref(proof);
    receipts_release(&r);
    return ERR_OK;
}

/* ---- ctx_verify ---- */

static err verify_stats(tool_call *call, tool_out *out, const char *format)
{
    receipts r;
    err e = load_receipts(call, PROOF_STATS_MAX, &r);
    if (e != ERR_OK) {
        receipts_release(&r);
        return sess_store_fail(call, out, e);
    }
    /* per tool: calls, errors, bytes */
    json_t *per = json_object();
    size_t i;
    json_t *it;
    json_array_foreach (r.arr, i, it) {
        const char *tool = json_string_value(json_object_get(it, "tool"));
        json_t *row = json_object_get(per, tool);
        if (!row) {
            row = json_pack("{s:I, s:I, s:I}", "calls", (json_int_t)0, "errors", (json_int_t)0,
                            "bytes", (json_int_t)0);
            json_object_set_new(per, tool, row);
        }
        bump(row, "calls", 1);
        const char *oc = json_string_value(json_object_get(it, "outcome"));
        bump(row, "errors", oc && strcmp(oc, "ok") != 0);
        bump(row, "bytes", json_integer_value(json_object_get(it, "bytes")));
    }
    out->structured = json_pack("{s:s, s:I, s:I, s:I, s:o}", "agent", sess_actor(call), "calls",
                                (json_int_t)r.calls, "errors", (json_int_t)r.errors, "bytes",
                                (json_int_t)r.bytes, "tools", per);
    if (strcmp(format, "json") != 0) {
        double rate = r.calls ? 100.0 * (double)r.errors / (double)r.calls : 0;
        buf_printf(&out->text,
                   "stats for %s in %s/%s: %" PRId64 " calls, %" PRId64 " errors (%.1f%%), %" PRId64
                   " bytes sent (~%" PRId64 " tokens)",
                   sess_actor(call), call->ws->id, call->channel_id, r.calls, r.errors, rate,
                   r.bytes, (r.bytes + 3) / 4);
        if (r.calls) {
            buf_puts(&out->text, "\nby tool: ");
            put_counts(&out->text, r.tools);
        }
        if (r.calls >= PROOF_STATS_MAX) {
            buf_printf(&out->text, "\n(the last %d calls)", PROOF_STATS_MAX);
        }
        if (strcmp(format, "both") == 0) {
            buf_puts(&out->text, "\n\n");
        }
    }
    if (strcmp(format, "summary") != 0) {
        jsonx_dump(&out->text, out->structured);
    }
    receipts_release(&r);
    return ERR_OK;
}

/* the proof to check: id, else the caller's latest stored one; NULL (and *none) when there is
   none to fall back from, or with the error result in out */
static json_t *load_proof(tool_call *call, tool_out *out, const char **name, bool *none)
{
    *none = false;
    const char *id = arg_str(call, "id", NULL);
    store_art a;
    err e = id ? store_art_get(call->st, call->tenant_id, call->ws->id, id, &a)
               : store_art_latest(call->st, call->tenant_id, call->ws->id, "proof",
                                  sess_actor(call), &a);
    if (e == ERR_NOT_FOUND && !id) {
        *none = true;
        return NULL;
    }
    if (e == ERR_NOT_FOUND || (e == ERR_OK && (!a.stored || strcmp(a.kind, "proof") != 0))) {
        store_art_release(&a);
        tool_fail(out, "not_found", "no stored proof named '%s' in %s (ctx_artifacts action=list)",
                  id, call->ws->id);
        return NULL;
    }
    if (e != ERR_OK) {
        sess_store_fail(call, out, e);
        return NULL;
    }
    json_t *p = json_loads(a.body ? a.body : "", 0, NULL);
    *name = arena_strdup(call->a, a.name);
    store_art_release(&a);
    if (!json_is_object(p)) {
        json_decref(p);
        tool_fail(out, "conflict", "the stored proof '%s' is not a JSON object", *name);
        return NULL;
    }
    return p;
}

static void put_result(tool_call *call, tool_out *out, const char *format, const char *what,
                       const char *source, json_t *items, int64_t ok, int64_t changed,
                       int64_t missing, buf *lines)
{
    out->structured = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "check", what, "source", source,
                                "ok", (json_int_t)ok, "changed", (json_int_t)changed, "missing",
                                (json_int_t)missing, "items", items);
    if (strcmp(format, "json") != 0) {
        buf_printf(&out->text,
                   "%s of %s in %s: %" PRId64 " ok, %" PRId64 " changed, %" PRId64 " missing", what,
                   source, call->ws->id, ok, changed, missing);
        if (lines->len) {
            buf_putc(&out->text, '\n');
            buf_append(&out->text, lines->ptr, lines->len - 1);
        }
        if (strcmp(format, "both") == 0) {
            buf_puts(&out->text, "\n\n");
        }
    }
    if (strcmp(format, "summary") != 0) {
        jsonx_dump(&out->text, out->structured);
    }
}

static err verify_files(tool_call *call, tool_out *out, const char *format)
{
    const char *name = NULL;
    bool none = false;
    json_t *proof = load_proof(call, out, &name, &none);
    if (!proof && !none) {
        return ERR_OK;
    }
    json_t *files =
        proof ? json_incref(json_object_get(proof, "ledger")) : ledger_files(call, 5000);
    const char *source = proof ? arena_printf(call->a, "proof %s", name) : "your read ledger";
    json_t *items = json_array();
    int64_t ok = 0, changed = 0, missing = 0;
    buf lines;
    buf_init(&lines, (size_t)1 << 20);
    size_t i;
    json_t *f;
    json_array_foreach (files, i, f) {
        if (tool_expired(call)) {
            buf_puts(&lines, "(stopped at the time budget)\n");
            break;
        }
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *was = json_string_value(json_object_get(f, "sha"));
        if (!path || !was) {
            continue;
        }
        char now[65];
        sess_file_sha(call, path, now);
        const char *st = !now[0] ? "missing" : strcmp(now, was) == 0 ? "ok" : "changed";
        ok += st[0] == 'o';
        changed += st[0] == 'c';
        missing += st[0] == 'm';
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s?}", "path", path, "status", st,
                                               "sha", was, "now", now[0] ? now : NULL));
        if (st[0] == 'c') {
            buf_printf(&lines, "changed  %s  (was %.12s, now %.12s)\n", path, was, now);
        } else if (st[0] == 'm') {
            buf_printf(&lines, "missing  %s  (gone, unreadable or over maxReadBytes)\n", path);
        }
    }
    if (json_array_size(files) == 0) {
        buf_puts(&lines, "(no files: read some with ctx_read first)\n");
    }
    put_result(call, out, format, "files", source, items, ok, changed, missing, &lines);
    buf_release(&lines);
    json_decref(files);
    json_decref(proof);
    return ERR_OK;
}

typedef struct one_event {
    int64_t id;
    bool found;
    char agent[STORE_EV_AGENT_MAX + 1];
    json_t *full;
} one_event;

static bool on_one(const store_event *e, void *v)
{
    one_event *o = v;
    if (e->id == o->id && strcmp(e->kind, "tool_call_recorded") == 0) {
        o->found = true;
        snprintf(o->agent, sizeof o->agent, "%s", e->agent_id);
        o->full = json_loads(e->full_json   ? e->full_json
                             : e->refs_json ? e->refs_json
                                            : "{}",
                             0, NULL);
    }
    return false;
}

/* the same string under k in both (absent counts as "": a failed call has no resultSha) */
static bool same_str(const json_t *a, const json_t *b, const char *k)
{
    return json_is_object(a) && strcmp(jstr(a, k), jstr(b, k)) == 0;
}

static err verify_receipts(tool_call *call, tool_out *out, const char *format)
{
    const char *name = NULL;
    bool none = false;
    json_t *proof = load_proof(call, out, &name, &none);
    if (none) {
        return tool_fail(out, "not_found",
                         "you have no stored proof in %s: ctx_proof write=true stores one",
                         call->ws->id);
    }
    if (!proof) {
        return ERR_OK;
    }
    json_t *items = json_array();
    int64_t ok = 0, changed = 0, missing = 0;
    buf lines;
    buf_init(&lines, (size_t)1 << 20);
    size_t i;
    json_t *ev;
    json_array_foreach (json_object_get(proof, "evidence"), i, ev) {
        if (tool_expired(call)) {
            buf_puts(&lines, "(stopped at the time budget)\n");
            break;
        }
        one_event o = {.id = json_integer_value(json_object_get(ev, "eventId"))};
        store_event_query q = {.tenant_id = call->tenant_id, .after_id = o.id - 1, .limit = 1};
        int n = 0;
        if (o.id > 0) {
            (void)events_replay(&q, on_one, &o, &n);
        }
        const char *st = "missing";
        if (o.found) {
            bool same = strcmp(o.agent, call->token_id ? call->token_id : "") == 0 &&
                        same_str(o.full, ev, "tool") && same_str(o.full, ev, "argumentsHmac") &&
                        same_str(o.full, ev, "resultSha");
            st = same ? "ok" : "changed";
        }
        json_decref(o.full);
        ok += st[0] == 'o';
        changed += st[0] == 'c';
        missing += st[0] == 'm';
        const char *tool = json_string_value(json_object_get(ev, "tool"));
        const char *ts = json_string_value(json_object_get(ev, "ts"));
        json_array_append_new(items,
                              json_pack("{s:I, s:s?, s:s?, s:s}", "eventId", (json_int_t)o.id,
                                        "tool", tool, "ts", ts, "status", st));
        if (st[0] != 'o') {
            buf_printf(&lines, "%-8s #%" PRId64 " %s at %s%s\n", st, o.id, tool ? tool : "?",
                       ts ? ts : "?",
                       st[0] == 'm' ? " (no such record: pruned by retention, or not made here)"
                                    : " (the server's record differs from the proof)");
        }
    }
    put_result(call, out, format, "receipts", arena_printf(call->a, "proof %s", name), items, ok,
               changed, missing, &lines);
    buf_release(&lines);
    json_decref(proof);
    return ERR_OK;
}

err tool_ctx_verify(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    const char *action = arg_str(call, "action", "stats");
    const char *format = arg_str(call, "format", "summary");
    if (strcmp(action, "proof") == 0) {
        return verify_files(call, out, format);
    }
    if (strcmp(action, "v2") == 0) {
        return verify_receipts(call, out, format);
    }
    return verify_stats(call, out, format);
}

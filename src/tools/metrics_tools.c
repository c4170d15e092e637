/* metrics_tools.c - ctx_metrics, ctx_cost, ctx_heatmap, ctx_cache (tools.md §4.9-§4.12).
 *
 * Computed from the server's own records, always within the caller's tenant:
 * - the usage table of the metrics registry (core/metrics.h): per (workspace, channel, agent,
 *   tool) the calls, bytes and estimated tokens served, known_hash hits and truncations, counted
 *   by dispatch for every admitted call since the server started (a call is counted when it
 *   ends, so a tool's own call is not in its answer);
 * - the request log in the store (ctx_cost): calls, errors and rate-limit refusals per agent and
 *   tool over the log's retention, all workspaces (the log has no workspace column);
 * - the read ledger (tools/ledger.h: ctx_heatmap, ctx_cache). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/metrics.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "tools/ledger.h"
#include "tools/registry.h"

#define COST_MAX_ROWS 4096  /* (agent, tool) pairs considered per answer */
#define HEAT_MAX_FILES 4096 /* distinct files aggregated by ctx_heatmap */
#define HEAT_TOP 20

const char ctx_metrics_schema[] = "{\"type\":\"object\",\"additionalProperties\":false}";

const char ctx_cost_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"report\",\"agent\",\"tools\",\"json\","
    "\"status\"],\"default\":\"report\"},"
    "\"agent_id\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,\"description\":\"agent "
    "(token id or key prefix) for action=agent\"},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"default\":20}"
    "}}";

const char ctx_heatmap_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"status\",\"detail\"],\"default\":\"status\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"restrict to a "
    "directory\"}"
    "}}";

const char ctx_cache_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"status\",\"clear\",\"invalidate\"],"
    "\"default\":\"status\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"the file to forget "
    "(invalidate)\"}"
    "}}";

void ctx_cost_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    const char *a = json_string_value(json_object_get(args, "action"));
    if (a && strcmp(a, "agent") == 0) {
        *scopes |= SCOPE_AUDIT;
    }
}

static const char *tool_name(size_t i)
{
    return i < registry_count() ? registry_at(i)->name : "?";
}

/* ---- ctx_metrics ---- */

typedef struct mine {
    const tool_call *call;
    metrics_usage total;
    metrics_usage by_tool[METRICS_MAX_TOOLS];
} mine;

static void usage_sum(metrics_usage *a, const metrics_usage *b)
{
    a->calls += b->calls;
    a->bytes += b->bytes;
    a->tokens_original += b->tokens_original;
    a->tokens_sent += b->tokens_sent;
    a->known_hash_hits += b->known_hash_hits;
    a->truncations += b->truncations;
    if (b->last_ms > a->last_ms) {
        a->last_ms = b->last_ms;
    }
}

static bool mine_cb(const char *ws, const char *ch, const char *tok, size_t tool,
                    const metrics_usage *u, void *ctx)
{
    mine *m = ctx;
    if (strcmp(ws, m->call->ws->id) == 0 && strcmp(ch, m->call->channel_id) == 0 &&
        strcmp(tok, m->call->token_id) == 0 && tool < METRICS_MAX_TOOLS) {
        usage_sum(&m->total, u);
        usage_sum(&m->by_tool[tool], u);
    }
    return true;
}

static json_t *usage_json(const metrics_usage *u)
{
    return json_pack("{s:I, s:I, s:{s:I, s:I}, s:I, s:I}", "calls", (json_int_t)u->calls, "bytes",
                     (json_int_t)u->bytes, "tokens", "original", (json_int_t)u->tokens_original,
                     "sent", (json_int_t)u->tokens_sent, "knownHashHits",
                     (json_int_t)u->known_hash_hits, "truncations", (json_int_t)u->truncations);
}

static int saved_pct(const metrics_usage *u)
{
    if (u->tokens_original == 0 || u->tokens_sent >= u->tokens_original) {
        return 0;
    }
    return (int)(100 * (u->tokens_original - u->tokens_sent) / u->tokens_original);
}

err tool_ctx_metrics(tool_call *call, tool_out *out)
{
    mine *m = arena_alloc(call->a, sizeof *m);
    if (!m) {
        return ERR_NOMEM;
    }
    memset(m, 0, sizeof *m);
    m->call = call;
    metrics_usage_each(call->tenant_id, mine_cb, m);
    buf *t = &out->text;
    buf_printf(t, "metrics: %s in %s/%s (since the server started; this call not counted)\n",
               call->token_id, call->ws->id, call->channel_id);
    buf_printf(t,
               "calls %llu · sent %llu B ≈ %llu tok · original ≈ %llu tok (saved %d%%) · "
               "known_hash hits %llu · truncated %llu\n",
               (unsigned long long)m->total.calls, (unsigned long long)m->total.bytes,
               (unsigned long long)m->total.tokens_sent,
               (unsigned long long)m->total.tokens_original, saved_pct(&m->total),
               (unsigned long long)m->total.known_hash_hits,
               (unsigned long long)m->total.truncations);
    json_t *tools = json_array();
    for (size_t i = 0; i < METRICS_MAX_TOOLS; i++) {
        const metrics_usage *u = &m->by_tool[i];
        if (!u->calls) {
            continue;
        }
        buf_printf(t, "  %-20s %6llu calls %10llu B %8llu tok sent %8llu tok original\n",
                   tool_name(i), (unsigned long long)u->calls, (unsigned long long)u->bytes,
                   (unsigned long long)u->tokens_sent, (unsigned long long)u->tokens_original);
        json_t *row = usage_json(u);
        json_object_set_new(row, "tool", json_string(tool_name(i)));
        json_array_append_new(tools, row);
    }
    ledger_key k = {call->tenant_id, call->ws->id, call->channel_id, call->token_id};
    ledger_item *items = NULL;
    size_t n = ledger_list(&k, call->a, &items);
    if (n == (size_t)-1) {
        n = 0;
    }
    buf_printf(t, "read ledger: %zu file baseline%s\n", n, n == 1 ? "" : "s");
    json_t *rate = json_null();
    if (call->rate && call->rate->capacity > 0) {
        /* the key bucket after this call's charge: what the caller may still spend at once */
        buf_printf(t, "rate limit: %.0f of %.0f units left in your key bucket (refill %g/s)\n",
                   call->rate->remaining, call->rate->capacity, call->rate->rate);
        rate = json_pack("{s:f, s:f, s:f}", "remaining", call->rate->remaining, "capacity",
                         call->rate->capacity, "refillPerSecond", call->rate->rate);
    }
    out->structured = usage_json(&m->total);
    json_object_set_new(out->structured, "tools", tools);
    json_object_set_new(out->structured, "ledgerFiles", json_integer((json_int_t)n));
    json_object_set_new(out->structured, "rateLimit", rate);
    json_object_set_new(out->structured, "workspaceId", json_string(call->ws->id));
    json_object_set_new(out->structured, "channelId", json_string(call->channel_id));
    return ERR_OK;
}

/* ---- ctx_cost ---- */

typedef struct cost_row {
    const char *agent; /* arena */
    size_t tool;
    metrics_usage u;
    int64_t log_calls, log_errors, log_rate_limited, log_ms;
} cost_row;

typedef struct cost_acc {
    const tool_call *call;
    const char *agent; /* only this agent, NULL: all */
    cost_row *rows;
    size_t n, cap;
    bool full;
} cost_acc;

static cost_row *cost_find(cost_acc *c, const char *agent, size_t tool)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->rows[i].tool == tool && strcmp(c->rows[i].agent, agent) == 0) {
            return &c->rows[i];
        }
    }
    if (c->n >= c->cap) {
        c->full = true;
        return NULL;
    }
    const char *a = arena_strdup(c->call->a, agent);
    if (!a) {
        c->full = true;
        return NULL;
    }
    cost_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof *r);
    r->agent = a;
    r->tool = tool;
    return r;
}

static bool cost_usage_cb(const char *ws, const char *ch, const char *tok, size_t tool,
                          const metrics_usage *u, void *ctx)
{
    (void)ch;
    cost_acc *c = ctx;
    if (strcmp(ws, c->call->ws->id) != 0 || (c->agent && strcmp(tok, c->agent) != 0)) {
        return true;
    }
    cost_row *r = cost_find(c, tok, tool);
    if (r) {
        usage_sum(&r->u, u);
    }
    return true;
}

static bool cost_log_cb(const store_usage_row *row, void *ctx)
{
    cost_acc *c = ctx;
    const tool_def *d = registry_find(row->tool);
    if (!d) {
        return true; /* an alias or a refused unknown name: not a tool of the table */
    }
    cost_row *r = cost_find(c, row->token_id, registry_index(d));
    if (r) {
        r->log_calls += row->calls;
        r->log_errors += row->errors;
        r->log_rate_limited += row->rate_limited;
        r->log_ms += row->duration_ms;
    }
    return true;
}

static int cost_cmp(const void *a, const void *b)
{
    const cost_row *x = a, *y = b;
    uint64_t xt = x->u.tokens_sent, yt = y->u.tokens_sent;
    if (xt != yt) {
        return xt > yt ? -1 : 1;
    }
    if (x->log_calls != y->log_calls) {
        return x->log_calls > y->log_calls ? -1 : 1;
    }
    int s = strcmp(x->agent, y->agent);
    return s ? s : strcmp(tool_name(x->tool), tool_name(y->tool));
}

static json_t *cost_row_json(const cost_row *r, bool with_agent)
{
    json_t *o = usage_json(&r->u);
    json_object_set_new(o, "tool", json_string(tool_name(r->tool)));
    if (with_agent) {
        json_object_set_new(o, "agent", json_string(r->agent));
    }
    json_object_set_new(o, "requestLog",
                        json_pack("{s:I, s:I, s:I, s:I}", "calls", (json_int_t)r->log_calls,
                                  "errors", (json_int_t)r->log_errors, "rateLimited",
                                  (json_int_t)r->log_rate_limited, "durationMs",
                                  (json_int_t)r->log_ms));
    return o;
}

err tool_ctx_cost(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "report");
    int64_t limit = arg_int(call, "limit", 20);
    bool agents = strcmp(action, "agent") == 0;
    cost_acc c = {.call = call, .cap = COST_MAX_ROWS};
    c.agent = agents ? arg_str(call, "agent_id", NULL) : call->token_id;
    c.rows = arena_alloc(call->a, c.cap * sizeof *c.rows);
    if (!c.rows) {
        return ERR_NOMEM;
    }
    metrics_usage_each(call->tenant_id, cost_usage_cb, &c);
    bool have_log = false;
    if (call->st) {
        have_log =
            store_log_usage(call->st, call->tenant_id, c.agent, 0, 1000, cost_log_cb, &c) == ERR_OK;
    }
    qsort(c.rows, c.n, sizeof *c.rows, cost_cmp);

    metrics_usage total = {0};
    int64_t log_calls = 0, log_errors = 0, log_rl = 0;
    for (size_t i = 0; i < c.n; i++) {
        usage_sum(&total, &c.rows[i].u);
        log_calls += c.rows[i].log_calls;
        log_errors += c.rows[i].log_errors;
        log_rl += c.rows[i].log_rate_limited;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < c.n && (int64_t)i < limit; i++) {
        json_array_append_new(rows, cost_row_json(&c.rows[i], agents));
    }
    out->structured = usage_json(&total);
    json_object_set_new(out->structured, "requestLog",
                        have_log
                            ? json_pack("{s:I, s:I, s:I}", "calls", (json_int_t)log_calls, "errors",
                                        (json_int_t)log_errors, "rateLimited", (json_int_t)log_rl)
                            : json_null());
    json_object_set_new(out->structured, "rows", rows);
    json_object_set_new(out->structured, "workspaceId", json_string(call->ws->id));
    if (c.full) {
        json_object_set_new(out->structured, "incomplete", json_true());
    }

    buf *t = &out->text;
    if (strcmp(action, "json") == 0) {
        jsonx_dump(t, out->structured);
        return ERR_OK;
    }
    const char *who = agents ? (c.agent ? c.agent : "all agents") : call->token_id;
    buf_printf(t,
               "cost: %s in %s — %llu calls, %llu B sent ≈ %llu tok (original ≈ %llu tok, saved "
               "%d%%)\n",
               who, call->ws->id, (unsigned long long)total.calls, (unsigned long long)total.bytes,
               (unsigned long long)total.tokens_sent, (unsigned long long)total.tokens_original,
               saved_pct(&total));
    if (have_log) {
        buf_printf(t,
                   "request log (all workspaces, retained): %lld calls, %lld errors, %lld "
                   "rate-limited\n",
                   (long long)log_calls, (long long)log_errors, (long long)log_rl);
    }
    if (strcmp(action, "status") == 0) {
        return ERR_OK;
    }
    for (size_t i = 0; i < c.n && (int64_t)i < limit; i++) {
        const cost_row *r = &c.rows[i];
        if (agents) {
            buf_printf(t, "  %-28s ", r->agent);
        } else {
            buf_puts(t, "  ");
        }
        buf_printf(t, "%-20s %6llu calls %10llu B %8llu tok", tool_name(r->tool),
                   (unsigned long long)r->u.calls, (unsigned long long)r->u.bytes,
                   (unsigned long long)r->u.tokens_sent);
        if (have_log) {
            buf_printf(t, " | log %lld calls %lld err %lld 429", (long long)r->log_calls,
                       (long long)r->log_errors, (long long)r->log_rate_limited);
        }
        buf_putc(t, '\n');
    }
    if ((int64_t)c.n > limit) {
        buf_printf(t, "… %zu more (limit=%lld)\n", c.n - (size_t)limit, (long long)limit);
    }
    return ERR_OK;
}

/* ---- ctx_heatmap ---- */

typedef struct heat_file {
    const char *path;
    uint64_t reads;
    int64_t last_ms;
    size_t first_item; /* index into the ledger items, for detail */
} heat_file;

static int heat_cmp(const void *a, const void *b)
{
    const heat_file *x = a, *y = b;
    if (x->reads != y->reads) {
        return x->reads > y->reads ? -1 : 1;
    }
    return strcmp(x->path, y->path);
}

static int item_cmp(const void *a, const void *b)
{
    const ledger_item *x = a, *y = b;
    int s = strcmp(x->path, y->path);
    return s ? s : strcmp(x->token, y->token);
}

/* rel under dir ("" = everything) */
static bool under(const char *rel, const char *dir)
{
    size_t n = strlen(dir);
    return n == 0 || (strncmp(rel, dir, n) == 0 && (rel[n] == '/' || rel[n] == '\0'));
}

static bool dir_arg(tool_call *call, tool_out *out, char *dir, size_t cap)
{
    dir[0] = '\0';
    const char *p = arg_str(call, "path", NULL);
    if (!p) {
        return true;
    }
    if (!tool_path_arg(call, out, p, strlen(p), dir, cap)) {
        return false;
    }
    if (strcmp(dir, ".") == 0) {
        dir[0] = '\0';
    }
    return true;
}

err tool_ctx_heatmap(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "status");
    char dir[PATH_MAX_LEN + 1];
    if (!dir_arg(call, out, dir, sizeof dir)) {
        return ERR_OK;
    }
    ledger_key k = {call->tenant_id, call->ws->id, call->channel_id, NULL};
    ledger_item *items = NULL;
    size_t n = ledger_list(&k, call->a, &items);
    if (n == (size_t)-1) {
        return tool_fail(out, "too_large", "the channel's read ledger is too large to list");
    }
    qsort(items, n, sizeof *items, item_cmp);
    heat_file *files = arena_alloc(call->a, HEAT_MAX_FILES * sizeof *files);
    if (!files) {
        return ERR_NOMEM;
    }
    size_t nf = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!under(items[i].path, dir)) {
            continue;
        }
        total += items[i].reads;
        if (nf && strcmp(files[nf - 1].path, items[i].path) == 0) {
            files[nf - 1].reads += items[i].reads;
            if (items[i].at_ms > files[nf - 1].last_ms) {
                files[nf - 1].last_ms = items[i].at_ms;
            }
        } else if (nf < HEAT_MAX_FILES) {
            files[nf++] = (heat_file){items[i].path, items[i].reads, items[i].at_ms, i};
        }
    }
    qsort(files, nf, sizeof *files, heat_cmp);
    bool detail = strcmp(action, "detail") == 0;
    buf *t = &out->text;
    buf_printf(t, "heatmap: %s/%s%s%s — %zu file%s, %llu reads\n", call->ws->id, call->channel_id,
               dir[0] ? " under " : "", dir, nf, nf == 1 ? "" : "s", (unsigned long long)total);
    json_t *arr = json_array();
    size_t show = detail ? nf : (nf < HEAT_TOP ? nf : HEAT_TOP);
    for (size_t f = 0; f < show; f++) {
        buf_printf(t, "%6llu  %s\n", (unsigned long long)files[f].reads, files[f].path);
        json_t *row =
            json_pack("{s:s, s:I}", "path", files[f].path, "reads", (json_int_t)files[f].reads);
        if (detail) {
            char ts[32];
            clock_rfc3339(files[f].last_ms, ts);
            json_object_set_new(row, "lastAccess", json_string(ts));
            json_t *agents = json_array();
            for (size_t i = files[f].first_item; i < n && strcmp(items[i].path, files[f].path) == 0;
                 i++) {
                clock_rfc3339(items[i].at_ms, ts);
                buf_printf(t, "        %4llu  %s  last %s\n", (unsigned long long)items[i].reads,
                           items[i].token, ts);
                json_array_append_new(agents,
                                      json_pack("{s:s, s:I, s:s}", "agent", items[i].token, "reads",
                                                (json_int_t)items[i].reads, "lastAccess", ts));
            }
            json_object_set_new(row, "agents", agents);
        }
        json_array_append_new(arr, row);
    }
    if (nf == 0) {
        buf_puts(t, "(no reads recorded on this channel yet)\n");
    }
    out->structured = json_pack("{s:o, s:I, s:I}", "files", arr, "totalFiles", (json_int_t)nf,
                                "totalReads", (json_int_t)total);
    return ERR_OK;
}

/* ---- ctx_cache ---- */

err tool_ctx_cache(tool_call *call, tool_out *out)
{
    const char *action = arg_str(call, "action", "status");
    ledger_key k = {call->tenant_id, call->ws->id, call->channel_id, call->token_id};
    buf *t = &out->text;
    if (strcmp(action, "clear") == 0) {
        size_t n = ledger_forget(&k, NULL);
        buf_printf(t,
                   "cache cleared: %zu baseline%s forgotten (next ctx_delta reports no earlier "
                   "read)\n",
                   n, n == 1 ? "" : "s");
        out->structured = json_pack("{s:s, s:I}", "action", "clear", "forgotten", (json_int_t)n);
        return ERR_OK;
    }
    if (strcmp(action, "invalidate") == 0) {
        const char *p = arg_str(call, "path", NULL);
        if (!p) {
            return tool_fail(out, "invalid_arguments", "action=invalidate needs path");
        }
        char rel[PATH_MAX_LEN + 1];
        if (!tool_path_arg(call, out, p, strlen(p), rel, sizeof rel)) {
            return ERR_OK;
        }
        size_t n = ledger_forget(&k, rel);
        buf_printf(t, "%s: %s\n", rel, n ? "baseline forgotten" : "no baseline held");
        out->structured = json_pack("{s:s, s:s, s:I}", "action", "invalidate", "path", rel,
                                    "forgotten", (json_int_t)n);
        return ERR_OK;
    }
    ledger_item *items = NULL;
    size_t n = ledger_list(&k, call->a, &items);
    if (n == (size_t)-1) {
        return tool_fail(out, "too_large", "the read ledger is too large to list");
    }
    size_t held = 0;
    int64_t oldest = 0, newest = 0;
    for (size_t i = 0; i < n; i++) {
        held += items[i].held;
        if (!oldest || items[i].at_ms < oldest) {
            oldest = items[i].at_ms;
        }
        if (items[i].at_ms > newest) {
            newest = items[i].at_ms;
        }
    }
    size_t blob = ledger_blob_bytes(call->tenant_id);
    buf_printf(t,
               "cache: %zu baseline%s in %s/%s (%zu with content held); tenant blob store "
               "%zu B\n",
               n, n == 1 ? "" : "s", call->ws->id, call->channel_id, held, blob);
    out->structured =
        json_pack("{s:s, s:I, s:I, s:I}", "action", "status", "entries", (json_int_t)n, "held",
                  (json_int_t)held, "tenantBlobBytes", (json_int_t)blob);
    if (n) {
        char o[32], w[32];
        clock_rfc3339(oldest, o);
        clock_rfc3339(newest, w);
        buf_printf(t, "oldest %s · newest %s\n", o, w);
        json_object_set_new(out->structured, "oldest", json_string(o));
        json_object_set_new(out->structured, "newest", json_string(w));
    }
    return ERR_OK;
}

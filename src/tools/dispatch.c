/* dispatch.c - the single tool-call path (see dispatch.h). */
#include "tools/dispatch.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/metrics.h"
#include "events/events.h"
#include "limit/policy.h"
#include "limit/share.h"
#include "tools/alias.h"
#include "tools/args.h"
#include "tools/registry.h"

#define MAX_TOOLS 64

/* rate charging (LIMITS): a bucket per credential (sized by its tier), one per tenant (sized by
   the tier's tenantBurst/tenantRps; DESIGN §11.10), and the tenants' shares of maxConcurrency */
static limiter *key_limiter;
static limiter *tenant_limiter;
static share_table *shares;
static atomic_ullong counts[MAX_TOOLS][OUTCOME__COUNT];

/* EVENTS: the server's store for tool_call.st */
static _Atomic(store *) dispatch_store;

void dispatch_set_store(store *s)
{
    atomic_store(&dispatch_store, s);
}

void dispatch_setup(void)
{
    if (!key_limiter) {
        key_limiter = limiter_new(10000);
    }
    if (!tenant_limiter) {
        tenant_limiter = limiter_new(10000);
    }
    if (!shares) {
        shares = share_new(10000);
    }
}

/* the key bucket, then the tenant bucket; a tenant refusal gives the key's charge back */
static bool charge(const principal *who, const cfg_tier *t, int cost, rate_state *st,
                   const char **policy)
{
    *policy = "key";
    if (!limiter_take(key_limiter, who->token_id, t->burst, t->rps, cost, st)) {
        return false;
    }
    rate_state ts;
    if (!limiter_take(tenant_limiter, who->tenant_id, t->tenant_burst, t->tenant_rps, cost, &ts)) {
        limiter_refund(key_limiter, who->token_id, cost);
        *st = ts;
        *policy = "tenant";
        return false;
    }
    return true;
}

static void uncharge(const principal *who, int cost)
{
    limiter_refund(key_limiter, who->token_id, cost);
    limiter_refund(tenant_limiter, who->tenant_id, cost);
}

/* the probing cost of a refused call (tools.md §1.10): never below zero, never refused */
static void probe(const config *c, const principal *who)
{
    const cfg_tier *t = limit_tier_for(c, who->tier);
    limiter_drain(key_limiter, who->token_id, t->burst, t->rps, 1);
    limiter_drain(tenant_limiter, who->tenant_id, t->tenant_burst, t->tenant_rps, 1);
}

bool dispatch_charge(const config *c, const principal *who, int cost, rate_state *st,
                     const char **policy)
{
    bool ok = charge(who, limit_tier_for(c, who->tier), cost, st, policy);
    if (!ok) {
        metrics_rate_limited(*policy); /* METRICS (issue 6) */
    }
    return ok;
}

/* the action a call names: its argument, else the schema's default (a call of ctx_search
   without action is a regex search), else NULL */
static const char *call_action(const tool_def *d, const json_t *args)
{
    const char *a = json_string_value(json_object_get(args, "action"));
    if (a) {
        return a;
    }
    json_t *prop = json_object_get(json_object_get(d->schema, "properties"), "action");
    return json_string_value(json_object_get(prop, "default"));
}

uint64_t dispatch_count(size_t tool_index, dispatch_outcome o)
{
    return tool_index < MAX_TOOLS ? atomic_load(&counts[tool_index][o]) : 0;
}

void dispatch_res_init(dispatch_res *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out.text, 0);
}

void dispatch_res_release(dispatch_res *r)
{
    buf_release(&r->out.text);
    json_decref(r->out.structured);
    r->out.structured = NULL;
    json_decref(r->error_data); /* quota */
    r->error_data = NULL;
}

bool dispatch_channel_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n > 128 || c[0] == '/' || c[n - 1] == '/') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '/' || ch == '-')) {
            return false;
        }
    }
    /* no empty or `..` segment */
    const char *p = c;
    while (*p) {
        const char *s = strchr(p, '/');
        size_t len = s ? (size_t)(s - p) : strlen(p);
        if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.')) {
            return false;
        }
        p += len + (s ? 1 : 0);
    }
    return true;
}

static void refuse(dispatch_res *res, err code, dispatch_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(dispatch_res *res, err code, dispatch_outcome o, const char *fmt, ...)
{
    res->code = code;
    res->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

/* the workspace the call names (tools.md §1.1 precedence), resolved within the tenant */
static const cfg_workspace *resolve_workspace(const dispatch_req *req, const char *arg_ws,
                                              dispatch_res *res)
{
    const config *c = req->cfg;
    const char *tenant = req->who->tenant_id;
    const char *want = req->workspace_body ? req->workspace_body
                       : arg_ws            ? arg_ws
                                           : req->workspace_header;
    if (want) {
        const cfg_workspace *ws = config_workspace(c, tenant, want);
        if (!ws) {
            /* the same answer whether it exists for another tenant or not at all */
            refuse(res, ERR_UNKNOWN_WORKSPACE, OUTCOME_DENIED, "unknown workspace '%.100s'", want);
        }
        return ws;
    }
    /* DESIGN §11.4 (ADMIN): the tenant's settings.default_workspace_id, which the snapshot
       carries (read from the store when it was built, not per request) */
    const char *tenant_def = config_tenant_default(c, tenant);
    const cfg_workspace *tws = tenant_def ? config_workspace(c, tenant, tenant_def) : NULL;
    if (tws) {
        return tws;
    }
    if (c->default_workspace_id) {
        const cfg_workspace *ws = config_workspace(c, tenant, c->default_workspace_id);
        if (ws) {
            return ws;
        }
    }
    const cfg_workspace *only = NULL;
    size_t n = 0;
    char ids[200] = "";
    size_t il = 0;
    for (size_t i = 0; i < c->n_workspaces; i++) {
        if (strcmp(c->workspaces[i].tenant, tenant) == 0) {
            only = &c->workspaces[i];
            n++;
            if (il < sizeof ids) {
                int w = snprintf(ids + il, sizeof ids - il, "%s%s", il ? ", " : "", only->id);
                il = w < 0 || (size_t)w >= sizeof ids - il ? sizeof ids : il + (size_t)w;
            }
        }
    }
    if (n == 1) {
        return only;
    }
    if (n == 0) {
        refuse(res, ERR_UNKNOWN_WORKSPACE, OUTCOME_DENIED,
               "no workspace is configured for this token's tenant");
    } else {
        refuse(res, ERR_UNKNOWN_WORKSPACE, OUTCOME_DENIED,
               "no workspace named: send workspaceId in the body or arguments, or the "
               "x-leanctx-workspace header (this tenant has %zu: %s%s), or set the tenant's "
               "settings.default_workspace_id",
               n, ids, il >= sizeof ids ? ", ..." : "");
    }
    return NULL;
}

/* ---- METRICS (issue 6): what one admitted call served (tools.md §1.8: tokens are
   ceil(bytes / 4)); the original size comes from the tool's structuredContent.tokens or the
   sum of its files' tokens.original (ctx_read), else it is what was sent ---- */
static uint64_t structured_original(const json_t *st)
{
    json_int_t o = json_integer_value(json_object_get(json_object_get(st, "tokens"), "original"));
    if (o > 0) {
        return (uint64_t)o;
    }
    uint64_t sum = 0;
    size_t i;
    const json_t *f;
    json_array_foreach (json_object_get(st, "files"), i, f) {
        o = json_integer_value(json_object_get(json_object_get(f, "tokens"), "original"));
        sum += o > 0 ? (uint64_t)o : 0;
    }
    return sum;
}

static void metrics_count_usage(const principal *who, size_t tool_index, const dispatch_res *res,
                                bool truncated)
{
    const char *t = res->out.text.ptr ? res->out.text.ptr : "";
    size_t n = res->out.text.len;
    metrics_usage u = {.calls = 1,
                       .bytes = n,
                       .tokens_sent = (n + 3) / 4,
                       .truncations = truncated ? 1 : 0,
                       .last_ms = clock_wall_ms()};
    u.tokens_original = structured_original(res->out.structured);
    if (u.tokens_original < u.tokens_sent) {
        u.tokens_original = u.tokens_sent;
    }
    /* ctx_read's answer to a proven known_hash: one "[unchanged: ..." line per file */
    static const char mark[] = "[unchanged: ";
    bool is_read = strcmp(registry_at(tool_index)->name, "ctx_read") == 0;
    for (const char *p = t; is_read && (p = strstr(p, mark)) != NULL; p += sizeof mark - 1) {
        if (p == t || p[-1] == '\n') {
            u.known_hash_hits++;
        }
    }
    metrics_usage_add(who->tenant_id, res->workspace_id, res->channel_id, who->token_id, tool_index,
                      &u);
}

static void count(const tool_def *d, dispatch_outcome o)
{
    if (d) {
        size_t i = registry_index(d);
        if (i < MAX_TOOLS) {
            atomic_fetch_add(&counts[i][o], 1);
        }
    }
}

/* EVENTS (issue 6): the tool_call_recorded event of an allowed call. The summary and the
   references name the tool, action and outcome; the full payload adds the duration, the
   arguments' MD5 and the error code - never argument text (events persist in ctxd.db, which
   holds no argument text: test_reqlog), file contents or tool output. */
static const char *outcome_name(dispatch_outcome o)
{
    static const char *const names[OUTCOME__COUNT] = {"ok",           "tool_error", "denied",
                                                      "rate_limited", "timeout",    "error"};
    return o < OUTCOME__COUNT ? names[o] : "error";
}

static void emit_call(const dispatch_req *req, const dispatch_res *res, const tool_def *d,
                      const json_t *args, int64_t ms)
{
    const char *action = call_action(d, args);
    const char *outcome = outcome_name(res->outcome);
    char summary[STORE_EV_SUMMARY_MAX + 1];
    snprintf(summary, sizeof summary, "%s%s%.48s %s %lldms", d->name, action ? " " : "",
             action ? action : "", outcome, (long long)ms);
    json_t *refs =
        json_pack("{s:s, s:s?, s:s}", "tool", d->name, "action", action, "outcome", outcome);
    json_t *full = json_pack("{s:s, s:s?, s:s, s:I, s:s}", "tool", d->name, "action", action,
                             "outcome", outcome, "durationMs", (json_int_t)ms, "argumentsMd5",
                             res->has_args ? res->args_md5 : "");
    if (res->code != ERR_OK && full) {
        json_object_set_new(full, "errorCode", json_string(err_code(res->code)));
    }
    /* ARTIFACTS (issue 6): what a ContextProofV1 receipt holds (ctx_proof, ctx_verify v2): the
       arguments' HMAC, the SHA-256 and size of the text sent, and ctx_read's mode */
    if (full) {
        json_object_set_new(full, "argumentsHmac",
                            json_string(res->has_args ? res->args_hmac : ""));
        if (res->code == ERR_OK) {
            char sha[65];
            crypto_sha256_hex(res->out.text.ptr ? res->out.text.ptr : "", res->out.text.len, sha);
            json_object_set_new(full, "resultSha", json_string(sha));
            json_object_set_new(full, "bytes", json_integer((json_int_t)res->out.text.len));
        }
        const char *mode = json_string_value(json_object_get(args, "mode"));
        if (mode && strcmp(d->name, "ctx_read") == 0) {
            size_t ml = strcspn(mode, ":");
            json_object_set_new(full, "mode", json_stringn(mode, ml < 32 ? ml : 32));
        }
    }
    ev_spec sp = {.tenant = req->who->tenant_id,
                  .workspace = res->workspace_id,
                  .channel = res->channel_id,
                  .agent = req->who->token_id,
                  .kind = "tool_call_recorded",
                  .summary = summary,
                  .refs = refs,
                  .full = full};
    (void)events_emit(&sp);
    json_decref(refs);
    json_decref(full);
}

void tool_dispatch(const dispatch_req *req, dispatch_res *res)
{
    const config *c = req->cfg;
    const principal *who = req->who;
    bool truncated = false; /* METRICS (issue 6): the output was cut at maxOutputBytes */
    res->tool = req->name;
    res->allowed = false;

    /* the audit hashes cover the arguments as received (reserved keys included) */
    json_t *args = req->args ? json_deep_copy(req->args) : json_object();
    if (!args) {
        refuse(res, ERR_INTERNAL, OUTCOME_ERROR, "out of memory");
        return;
    }
    if (json_is_object(args) || !req->args) {
        audit_record tmp = {0};
        audit_hash_args(&tmp, req->args);
        memcpy(res->args_md5, tmp.args_md5, sizeof res->args_md5);
        memcpy(res->args_hmac, tmp.args_hmac, sizeof res->args_hmac);
        res->has_args = true;
    }

    const tool_def *d = registry_find(req->name);
    scope_set need = 0;
    int cost = 1;
    /* a deprecated alias becomes its target call here (aliases.def), audited as called */
    char alias_shown[96] = "";
    const tool_alias *al = d ? NULL : alias_find(req->name);
    if (al) {
        char why[200];
        const char *target = al->target;
        if (json_is_object(args) &&
            !al->rewrite(args, &target, alias_shown, sizeof alias_shown, why, sizeof why)) {
            refuse(res, ERR_INVALID_ARGUMENTS, OUTCOME_DENIED, "%s", why);
            goto out;
        }
        d = registry_find(target);
    }
    if (!d) {
        probe(c, who);
        refuse(res, ERR_UNKNOWN_TOOL, OUTCOME_DENIED, "unknown tool: %.100s", req->name);
        goto out;
    }
    if (!config_tenant_tool_allowed(c, who->tenant_id, registry_index(d))) {
        /* not listed for this tenant (registry_visible), so not callable either */
        probe(c, who);
        refuse(res, ERR_UNKNOWN_TOOL, OUTCOME_DENIED,
               "unknown tool: %.100s (not in this tenant's settings.allowed_tools)", req->name);
        goto out;
    }
    if (!json_is_object(args)) {
        refuse(res, ERR_INVALID_ARGUMENTS, OUTCOME_DENIED, "arguments must be a JSON object");
        goto out;
    }
    need = d->scopes;
    cost = d->cost;
    if (d->needs) {
        d->needs(args, &need, &cost);
    }
    cost = limit_tool_cost(c, registry_index(d), call_action(d, args), cost); /* toolCosts */
    if ((who->scopes & need) != need) {
        probe(c, who);
        res->needed = need;
        buf names;
        buf_init(&names, 256);
        scope_format(&names, need & ~who->scopes, ", ");
        refuse(res, ERR_SCOPE_DENIED, OUTCOME_DENIED, "%s needs the %s scope%s", d->name,
               names.ptr ? names.ptr : "?", strchr(names.ptr ? names.ptr : "", ',') ? "s" : "");
        buf_release(&names);
        goto out;
    }

    /* reserved keys: workspace and channel fallbacks, never passed to handlers */
    const char *arg_ws = NULL;
    json_t *wsv = json_object_get(args, "workspaceId");
    if (!wsv && json_object_get(json_object_get(d->schema, "properties"), "repo")) {
        wsv = json_object_get(args, "repo"); /* index-style tools name it `repo` (tools.md §5) */
    }
    if (wsv) {
        if (!json_is_string(wsv)) {
            refuse(res, ERR_INVALID_ARGUMENTS, OUTCOME_DENIED, "workspaceId must be a string");
            goto out;
        }
        arg_ws = json_string_value(wsv);
    }
    const cfg_workspace *ws = resolve_workspace(req, arg_ws, res);
    if (!ws) {
        goto out;
    }
    res->workspace_id = ws->id;
    const char *channel = req->channel_body;
    json_t *chv = json_object_get(args, "channelId");
    if (!channel && json_is_string(chv)) {
        channel = json_string_value(chv);
    }
    if (channel && !dispatch_channel_ok(channel)) {
        refuse(
            res, ERR_INVALID_REQUEST, OUTCOME_DENIED,
            "channelId must be 1-128 characters of [A-Za-z0-9._/-] with no empty or '..' segment");
        goto out;
    }
    /* a copy: the argument's string goes with json_object_del below */
    res->channel_id = channel ? arena_strdup(req->a, channel) : "default";
    if (!res->channel_id) {
        refuse(res, ERR_INTERNAL, OUTCOME_ERROR, "out of memory");
        goto out;
    }
    json_object_del(args, "workspaceId");
    json_object_del(args, "channelId");
    json_object_del(args, "agentId");

    buf unknown;
    buf_init(&unknown, 4096);
    char why[400];
    if (!args_validate(d->schema, args, &unknown, why, sizeof why)) {
        buf_release(&unknown);
        refuse(res, ERR_INVALID_ARGUMENTS, OUTCOME_DENIED, "%s", why);
        goto out;
    }

    res->has_rate = true;
    if (!charge(who, limit_tier_for(c, who->tier), cost, &res->rate, &res->rate_policy)) {
        buf_release(&unknown);
        refuse(res, ERR_RATE_LIMITED, OUTCOME_RATE_LIMITED,
               "rate limit exceeded for this %s; retry in %.0f s",
               strcmp(res->rate_policy, "tenant") == 0 ? "tenant" : "key",
               res->rate.retry_after < 1 ? 1 : ceil(res->rate.retry_after));
        goto out;
    }
    /* the tenant setting max_concurrency comes with the snapshot (0 = none) */
    share_slot *slot = NULL;
    int share = 0;
    share_result sr = share_acquire(shares, who->tenant_id, c->max_concurrency,
                                    limit_tenant_max_concurrency(c, who->tenant_id), &slot, &share);
    if (sr != SHARE_OK) {
        uncharge(who, cost);
        buf_release(&unknown);
        if (sr == SHARE_TENANT_FULL) {
            res->rate_policy = "tenant-concurrency";
            res->rate.capacity = share;
            refuse(res, ERR_CONCURRENCY_LIMITED, OUTCOME_RATE_LIMITED,
                   "too many tool calls in flight for this tenant (it may have %d of "
                   "maxConcurrency=%d now); retry in 1 s",
                   share, c->max_concurrency);
        } else {
            res->rate_policy = "concurrency";
            refuse(res, ERR_CONCURRENCY_LIMITED, OUTCOME_RATE_LIMITED,
                   "too many tool calls in flight (maxConcurrency=%d); retry in 1 s",
                   c->max_concurrency);
        }
        goto out;
    }

    res->allowed = true;
    int64_t start = clock_mono_ns();
    tool_call call = {
        .def = d,
        .cfg = c,
        .ws = ws,
        .args = args,
        .token_id = who->token_id,
        .tenant_id = who->tenant_id,
        .channel_id = res->channel_id,
        .a = req->a,
        .deadline_ns = start + c->request_timeout_ms * 1000000,
        .cancel = req->cancel,
        .progress = req->progress,
        .progress_ctx = req->progress_ctx,
        .st = atomic_load(&dispatch_store), /* EVENTS */
        .rate = &res->rate,                 /* METRICS (issue 6) */
    };
    metrics_inflight_add(1); /* METRICS (issue 6) */
    err rc = d->handler(&call, &res->out);
    share_release(shares, slot);
    int64_t end = clock_mono_ns();
    metrics_inflight_add(-1);                              /* METRICS (issue 6) */
    metrics_tool_duration(registry_index(d), end - start); /* METRICS (issue 6) */

    if (rc == ERR_CANCELLED || (rc == ERR_OK && end > call.deadline_ns)) {
        refuse(res, ERR_REQUEST_TIMEOUT, OUTCOME_TIMEOUT,
               "%s took longer than requestTimeoutMs (%lld ms) and was stopped", d->name,
               (long long)c->request_timeout_ms);
    } else if (rc == ERR_INVALID_ARGUMENTS) {
        refuse(res, ERR_INVALID_ARGUMENTS, OUTCOME_DENIED, "%s",
               res->out.text.ptr ? res->out.text.ptr : "invalid arguments");
    } else if (rc == ERR_QUOTA_EXCEEDED) {
        /* an index build refused or stopped by the tenant's storage quota (tools.md §3.5) */
        refuse(res, ERR_QUOTA_EXCEEDED, OUTCOME_DENIED, "%s",
               res->out.text.ptr ? res->out.text.ptr : "storage quota exceeded");
        /* the numbers (used_bytes, quota_bytes, requested_bytes) go into the error body */
        res->error_data = res->out.structured;
        res->out.structured = NULL;
    } else if (rc != ERR_OK) {
        log_error("tool '%s' failed: %s", d->name, err_code(rc));
        refuse(res, ERR_INTERNAL, OUTCOME_ERROR, "internal error in %s", d->name);
    } else {
        res->code = ERR_OK;
        if (alias_shown[0]) {
            buf nb;
            buf_init(&nb, res->out.text.max);
            buf_printf(&nb, "[deprecated: %s → use %s]\n", req->name, alias_shown);
            buf_append(&nb, res->out.text.ptr ? res->out.text.ptr : "", res->out.text.len);
            buf_release(&res->out.text);
            res->out.text = nb;
        }
        res->outcome = res->out.is_error ? OUTCOME_TOOL_ERROR : OUTCOME_OK;
        truncated = res->out.text.len > c->max_output_bytes; /* METRICS (issue 6) */
        tool_cap_output(&res->out, c->max_output_bytes);
        if (unknown.len) {
            if (res->out.text.len && res->out.text.ptr[res->out.text.len - 1] != '\n') {
                buf_putc(&res->out.text, '\n');
            }
            buf_printf(&res->out.text, "note: ignored unknown argument(s): %s", unknown.ptr);
        }
    }
    if (res->code != ERR_OK) {
        buf_truncate(&res->out.text, 0);
        json_decref(res->out.structured);
        res->out.structured = NULL;
    }
    emit_call(req, res, d, args, (end - start) / 1000000); /* EVENTS */
    buf_release(&unknown);
out:
    count(d, res->outcome);
    /* METRICS (issue 6): refusals by policy; the caller's usage (ctx_metrics, ctx_cost) */
    if (res->outcome == OUTCOME_RATE_LIMITED && res->rate_policy) {
        metrics_rate_limited(res->rate_policy);
    }
    if (d && res->allowed && res->workspace_id) {
        metrics_count_usage(who, registry_index(d), res, truncated);
    }
    json_decref(args);
}

/* Written directly rather than built as a JSON tree: the text block is the bulk of every
 * response, and escaping it in one pass is several times cheaper than building and dumping a
 * tree around it. */
void dispatch_write_result(buf *out, const dispatch_res *res, const char *extra)
{
    buf_puts(out, "{\"content\":[{\"type\":\"text\",\"text\":");
    jsonx_put_string(out, res->out.text.ptr ? res->out.text.ptr : "", res->out.text.len);
    buf_printf(out, "}],\"isError\":%s", res->out.is_error ? "true" : "false");
    if (res->out.structured) {
        buf_puts(out, ",\"structuredContent\":");
        jsonx_dump(out, res->out.structured);
    }
    if (extra) {
        buf_putc(out, ',');
        buf_puts(out, extra);
    }
    buf_putc(out, '}');
}

/* session_flow.c - ctx_workflow (tools.md §4.4): a small state machine per (workspace, channel).
 *
 * The workflow document (kind "workflow", session.h): {name, spec:{states, initial,
 * transitions}, state, since, active, evidence:[{key, value, state, by, at}], history:[{from,
 * to, by, at}]}. start needs no active workflow; every other action but start needs one
 * (`conflict` otherwise); a transition must be in the spec; complete moves to the final state
 * ("done" when the spec has it, else a state without outgoing transitions) when that is
 * allowed from the current one, and ends the workflow; stop ends it where it is. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "tools/handlers.h"
#include "tools/session.h"

#define WF_STATES_MAX 32
#define WF_STATE_LEN 64
#define WF_HISTORY_MAX 100

const char ctx_workflow_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"start\",\"status\",\"transition\",\"complete\","
    "\"evidence_add\",\"evidence_list\",\"stop\"],\"default\":\"status\"},"
    "\"name\":{\"type\":\"string\",\"maxLength\":64,\"default\":\"plan_code_test\"},"
    "\"spec\":{\"type\":\"string\",\"maxLength\":16384,\"description\":\"JSON {\\\"states\\\":[…],"
    "\\\"initial\\\":\\\"…\\\",\\\"transitions\\\":{\\\"from\\\":[\\\"to\\\",…]}}\"},"
    "\"to\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"transition target\"},"
    "\"key\":{\"type\":\"string\",\"maxLength\":256},"
    "\"value\":{\"type\":\"string\",\"maxLength\":16384}}}";

static const char builtin_spec[] =
    "{\"states\":[\"plan\",\"code\",\"test\",\"done\"],\"initial\":\"plan\",\"transitions\":"
    "{\"plan\":[\"code\"],\"code\":[\"test\"],\"test\":[\"code\",\"done\"]}}";

void ctx_workflow_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    const char *a = jsonx_str(args, "action");
    if (a && strcmp(a, "status") != 0 && strcmp(a, "evidence_list") != 0) {
        *scopes = SCOPE_SESSION_MUTATIONS;
    }
}

static const char *jstr(const json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

static bool state_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > WF_STATE_LEN) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.')) {
            return false;
        }
    }
    return true;
}

static bool has_state(const json_t *spec, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(spec, "states"), i, v) {
        if (strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

/* the spec, checked; NULL with the message in why */
static json_t *parse_spec(const char *text, char *why, size_t why_len)
{
    char jwhy[200];
    json_t *s = jsonx_parse(text, strlen(text), jwhy, sizeof jwhy);
    if (!s) {
        snprintf(why, why_len, "spec is not JSON: %s", jwhy);
        return NULL;
    }
    const json_t *states = json_object_get(s, "states");
    const json_t *tr = json_object_get(s, "transitions");
    const char *initial = jstr(s, "initial", NULL);
    if (!json_is_object(s) || !json_is_array(states) || !json_array_size(states) ||
        json_array_size(states) > WF_STATES_MAX) {
        snprintf(why, why_len, "spec.states must be an array of 1 to %d state names",
                 WF_STATES_MAX);
        goto bad;
    }
    size_t i;
    json_t *v;
    json_array_foreach (states, i, v) {
        if (!json_is_string(v) || !state_name_ok(json_string_value(v))) {
            snprintf(why, why_len,
                     "spec.states[%zu] must be a name of 1 to %d letters, digits, _ - .", i,
                     WF_STATE_LEN);
            goto bad;
        }
        for (size_t k = 0; k < i; k++) {
            if (json_equal(v, json_array_get(states, k))) {
                snprintf(why, why_len, "spec.states names '%s' twice", json_string_value(v));
                goto bad;
            }
        }
    }
    if (!initial || !has_state(s, initial)) {
        snprintf(why, why_len, "spec.initial must be one of spec.states");
        goto bad;
    }
    if (tr && !json_is_object(tr)) {
        snprintf(why, why_len, "spec.transitions must be an object");
        goto bad;
    }
    const char *from;
    json_object_foreach ((json_t *)tr, from, v) {
        if (!has_state(s, from) || !json_is_array(v)) {
            snprintf(why, why_len, "spec.transitions.%.64s: not a state with an array of targets",
                     from);
            goto bad;
        }
        size_t k;
        json_t *to;
        json_array_foreach (v, k, to) {
            if (!json_is_string(to) || !has_state(s, json_string_value(to))) {
                snprintf(why, why_len, "spec.transitions.%.64s[%zu] is not one of spec.states",
                         from, k);
                goto bad;
            }
        }
    }
    if (!tr) {
        json_object_set_new(s, "transitions", json_object());
    }
    return s;
bad:
    json_decref(s);
    return NULL;
}

static bool allowed(const json_t *spec, const char *from, const char *to)
{
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(json_object_get(spec, "transitions"), from), i, v) {
        if (strcmp(json_string_value(v), to) == 0) {
            return true;
        }
    }
    return false;
}

/* the final state: "done" when the spec has it, else the first state without transitions */
static const char *final_state(const json_t *spec)
{
    if (has_state(spec, "done")) {
        return "done";
    }
    const json_t *tr = json_object_get(spec, "transitions");
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(spec, "states"), i, v) {
        if (!json_array_size(json_object_get(tr, json_string_value(v)))) {
            return json_string_value(v);
        }
    }
    return NULL;
}

typedef struct wf_ctx {
    const char *action;
    const char *actor;
    char now[32];
    const char *name, *to, *key, *value;
    json_t *spec; /* start */
} wf_ctx;

static void push_bounded(json_t *doc, const char *key, json_t *item, size_t max)
{
    json_t *a = json_object_get(doc, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(doc, key, a);
    }
    json_array_append_new(a, item);
    while (json_array_size(a) > max) {
        json_array_remove(a, 0);
    }
}

static bool move(json_t *doc, const wf_ctx *c, const char *to, tool_out *out)
{
    const char *from = jstr(doc, "state", "?");
    if (!allowed(json_object_get(doc, "spec"), from, to)) {
        tool_fail(out, "conflict", "workflow %s: no transition %s → %s in its spec",
                  jstr(doc, "name", "?"), from, to);
        return false;
    }
    push_bounded(
        doc, "history",
        json_pack("{s:s, s:s, s:s, s:s}", "from", from, "to", to, "by", c->actor, "at", c->now),
        WF_HISTORY_MAX);
    json_object_set_new(doc, "state", json_string(to));
    json_object_set_new(doc, "since", json_string(c->now));
    return true;
}

static err wf_edit(json_t *doc, void *v, tool_out *out)
{
    wf_ctx *c = v;
    bool active = json_is_true(json_object_get(doc, "active"));
    if (strcmp(c->action, "start") == 0) {
        if (active) {
            tool_fail(out, "conflict",
                      "workflow %s is active (state %s); complete or stop it first",
                      jstr(doc, "name", "?"), jstr(doc, "state", "?"));
            return ERR_OK;
        }
        json_object_clear(doc);
        json_object_set_new(doc, "name", json_string(c->name));
        json_object_set(doc, "spec", c->spec);
        json_object_set(doc, "state", json_object_get(c->spec, "initial"));
        json_object_set_new(doc, "since", json_string(c->now));
        json_object_set_new(doc, "startedBy", json_string(c->actor));
        json_object_set_new(doc, "active", json_true());
        json_object_set_new(doc, "evidence", json_array());
        json_object_set_new(doc, "history", json_array());
        return ERR_OK;
    }
    if (!active) {
        tool_fail(out, "conflict",
                  "no active workflow on this channel (ctx_workflow action=start)");
        return ERR_OK;
    }
    if (strcmp(c->action, "transition") == 0) {
        move(doc, c, c->to, out);
    } else if (strcmp(c->action, "complete") == 0) {
        const char *fin = final_state(json_object_get(doc, "spec"));
        if (!fin) {
            tool_fail(out, "conflict", "workflow %s has no final state", jstr(doc, "name", "?"));
            return ERR_OK;
        }
        char final_copy[WF_STATE_LEN + 1];
        snprintf(final_copy, sizeof final_copy, "%s", fin);
        if (strcmp(jstr(doc, "state", ""), final_copy) != 0 && !move(doc, c, final_copy, out)) {
            return ERR_OK;
        }
        json_object_set_new(doc, "active", json_false());
    } else if (strcmp(c->action, "stop") == 0) {
        json_object_set_new(doc, "active", json_false());
        json_object_set_new(doc, "stoppedBy", json_string(c->actor));
    } else { /* evidence_add */
        json_t *ev = json_object_get(doc, "evidence");
        if (json_array_size(ev) >= SESS_EVIDENCE_MAX) {
            tool_fail(out, "conflict", "workflow %s already holds %d evidence items",
                      jstr(doc, "name", "?"), SESS_EVIDENCE_MAX);
            return ERR_OK;
        }
        push_bounded(doc, "evidence",
                     json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", c->key, "value", c->value,
                               "state", jstr(doc, "state", "?"), "by", c->actor, "at", c->now),
                     SESS_EVIDENCE_MAX);
    }
    return ERR_OK;
}

static void render(tool_out *out, const json_t *doc, bool list_evidence)
{
    char age[16];
    sess_age(jstr(doc, "since", ""), age);
    const char *state = jstr(doc, "state", "?");
    bool active = json_is_true(json_object_get(doc, "active"));
    buf_printf(&out->text, "workflow %s: %s (since %s)%s\n", jstr(doc, "name", "?"), state, age,
               active ? "" : " — ended");
    const json_t *next =
        json_object_get(json_object_get(json_object_get(doc, "spec"), "transitions"), state);
    buf_puts(&out->text, "next:");
    size_t i;
    json_t *v;
    json_array_foreach (active ? next : NULL, i, v) {
        buf_printf(&out->text, "%s %s", i ? "," : "", json_string_value(v));
    }
    if (!active || !json_array_size(next)) {
        buf_puts(&out->text, " (none)");
    }
    const json_t *ev = json_object_get(doc, "evidence");
    buf_printf(&out->text, "\nevidence: %zu\n", json_array_size(ev));
    if (list_evidence) {
        json_array_foreach (ev, i, v) {
            buf_printf(&out->text, "- [%s] %s: %s (%s)\n", jstr(v, "state", "?"),
                       jstr(v, "key", ""), jstr(v, "value", ""), jstr(v, "by", "?"));
        }
    }
    json_t *nx = json_array();
    json_array_foreach (active ? next : NULL, i, v) {
        json_array_append(nx, v);
    }
    out->structured =
        json_pack("{s:s, s:s, s:s, s:b, s:o, s:I, s:O}", "name", jstr(doc, "name", "?"), "state",
                  state, "since", jstr(doc, "since", ""), "active", active, "next", nx, "evidence",
                  (json_int_t)json_array_size(ev), "spec", json_object_get(doc, "spec"));
}

err tool_ctx_workflow(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    wf_ctx c = {.action = arg_str(call, "action", "status"), .actor = sess_actor(call)};
    clock_rfc3339(clock_wall_ms(), c.now);
    bool read = strcmp(c.action, "status") == 0 || strcmp(c.action, "evidence_list") == 0;
    if (read) {
        json_t *doc;
        store_doc meta;
        if (!sess_load(call, out, "workflow", &doc, &meta)) {
            return ERR_OK;
        }
        if (!json_is_true(json_object_get(doc, "active"))) {
            json_decref(doc);
            return tool_fail(out, "conflict",
                             "no active workflow on %s/%s (ctx_workflow action=start)",
                             call->ws->id, call->channel_id);
        }
        render(out, doc, strcmp(c.action, "evidence_list") == 0);
        json_decref(doc);
        return ERR_OK;
    }
    const char *spec_text;
    if (!sess_str_arg(call, out, "name", 64, &c.name) ||
        !sess_str_arg(call, out, "spec", SESS_SPEC_MAX, &spec_text) ||
        !sess_str_arg(call, out, "to", WF_STATE_LEN, &c.to) ||
        !sess_str_arg(call, out, "key", 256, &c.key) ||
        !sess_str_arg(call, out, "value", SESS_VALUE_MAX, &c.value)) {
        return ERR_INVALID_ARGUMENTS;
    }
    if (strcmp(c.action, "start") == 0) {
        if (!c.name || !*c.name) {
            c.name = "plan_code_test";
        }
        if (!state_name_ok(c.name)) {
            buf_puts(&out->text, "name must be 1 to 64 letters, digits, _ - .");
            return ERR_INVALID_ARGUMENTS;
        }
        char why[256];
        if (!spec_text && strcmp(c.name, "plan_code_test") != 0) {
            buf_printf(&out->text, "spec is required for a workflow other than plan_code_test");
            return ERR_INVALID_ARGUMENTS;
        }
        c.spec = parse_spec(spec_text ? spec_text : builtin_spec, why, sizeof why);
        if (!c.spec) {
            buf_puts(&out->text, why);
            return ERR_INVALID_ARGUMENTS;
        }
    } else if (strcmp(c.action, "transition") == 0 && (!c.to || !*c.to)) {
        buf_puts(&out->text, "to is required for action=transition");
        return ERR_INVALID_ARGUMENTS;
    } else if (strcmp(c.action, "evidence_add") == 0 && (!c.key || !*c.key || !c.value)) {
        buf_puts(&out->text, "key and value are required for action=evidence_add");
        return ERR_INVALID_ARGUMENTS;
    }
    int64_t rev = 0;
    json_t *doc = NULL;
    err r = sess_mutate(call, out, "workflow", wf_edit, &c, &rev, &doc);
    json_decref(c.spec);
    if (r != ERR_OK || out->is_error) {
        return r;
    }
    render(out, doc, false);
    json_object_set_new(out->structured, "rev", json_integer(rev));
    json_decref(doc);
    sess_emit(call, "ctx_workflow", c.action, rev, c.value);
    return ERR_OK;
}

/* admin.c - the admin API (DESIGN §10): tenants, their keys, their workspaces, stats.
 *
 * Every route needs the `admin` scope (403 scope_denied otherwise) and costs 1 from the
 * caller's key and tenant buckets, like any authenticated non-tool route. Who may do what is
 * DESIGN §5 "Operator and tenant admins":
 *  - the operator: `admin` held by a credential of the tenant `local`: everything;
 *  - a tenant admin: `admin` held by a credential of another tenant: its own record (not its
 *    storage_quota_bytes or rate_limit_tier), its keys (never with another tier than the
 *    tenant's), its stats and its workspace list. Any other tenant's id answers 404 not_found
 *    exactly like an id that does not exist (no oracle); creating and listing tenants, the
 *    server's stats, registering workspace roots and deleting a tenant answer 403 scope_denied.
 * Decisions this file makes where DESIGN is silent: PATCH `settings` merges into the stored
 * object (a member set to null removes that setting); revoking a key revoked already is 409
 * conflict; a workspace root outside allowedRoots is 400 invalid_request, one that overlaps the
 * data dir 409 conflict (like an overlap with another tenant's root); a tenant that team.json
 * still names (a workspace or token with its `tenant`) cannot be deleted (409), since the
 * server would go on serving and indexing it; workspace roots are shown to the operator only.
 *
 * Changes that must check and then act (registering a workspace, deleting a tenant, merging
 * settings) run under one mutex, so two concurrent deletes of a tenant give one 204 and 404s,
 * and two registrations cannot both pass the overlap check. Changes that alter what the server
 * serves (a workspace registered, a tenant deleted, settings changed) go through the server's
 * reload (the hook serve.c sets): the new snapshot merges the store's workspaces and the
 * tenants' settings it carries (default_workspace_id, max_concurrency), starts the new
 * workspaces' index builds and watchers, and drops the deleted tenant's (watchers joined); the
 * deletion then waits for the tenant's builds and removes its files. A running build is
 * awaited, not cancelled (the build's stop flag is the process-wide shutdown one). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "auth/apikey.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "index/index.h"
#include "index/store.h"
#include "limit/policy.h"
#include "store/store.h"
#include "tools/ledger.h"
#include "tools/registry.h"

#define ALLOWED_TOOLS_MAX 256
#define WS_LIST_MAX 10000

static store *admin_store;
static api_reload_fn reload_hook;
static pthread_mutex_t admin_mu = PTHREAD_MUTEX_INITIALIZER;

void api_admin_setup(store *s, api_reload_fn reload)
{
    admin_store = s;
    reload_hook = reload;
}

/* ---- shared checks and shapes ---- */

static bool is_operator(const http_req *r)
{
    return strcmp(r->who.tenant_id, STORE_LOCAL_TENANT) == 0;
}

/* the admin scope, then the charge; true when the route may go on */
static bool gate(http_req *r)
{
    if (!(r->who.scopes & SCOPE_ADMIN)) {
        http_header_add(r, "WWW-Authenticate",
                        "Bearer error=\"insufficient_scope\", scope=\"admin\"");
        http_error(r, ERR_SCOPE_DENIED, "the admin API needs the admin scope",
                   json_pack("{s:[s]}", "requiredScopes", "admin"));
        return false;
    }
    if (!admin_store) {
        http_error(r, ERR_INTERNAL, "the admin API has no store", NULL);
        return false;
    }
    if (!api_charge_key(r)) {
        return false;
    }
    r->audit.allowed = true;
    return true;
}

static void operator_only(http_req *r, const char *what)
{
    char msg[200];
    snprintf(msg, sizeof msg, "%s is the operator's (an admin credential of the tenant 'local')",
             what);
    http_error(r, ERR_SCOPE_DENIED, msg, NULL);
}

static void store_failed(http_req *r, err e)
{
    log_error("admin: store call failed (%s), request %s", err_code(e), r->request_id);
    http_error(r, ERR_INTERNAL, "the store could not complete the request", NULL);
}

static void not_found(http_req *r, const char *what, const char *id)
{
    char msg[200];
    snprintf(msg, sizeof msg, "no %s '%.64s'", what, id ? id : "");
    http_error(r, ERR_NOT_FOUND, msg, NULL);
}

/* the {id} of the path as a tenant the caller may manage; 404 (answered) when it is not one,
   whether absent or another tenant's */
static bool target_tenant(http_req *r, store_tenant *t)
{
    const char *id = http_param(r, "id");
    if (!id || !apikey_tenant_valid(id, strlen(id)) ||
        (!is_operator(r) && strcmp(id, r->who.tenant_id) != 0)) {
        not_found(r, "tenant", id);
        return false;
    }
    err e = store_tenant_get(admin_store, id, t);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "tenant", id);
        return false;
    }
    if (e != ERR_OK) {
        store_failed(r, e);
        return false;
    }
    return true;
}

static json_t *tenant_json(const store_tenant *t)
{
    char why[200];
    json_t *settings = jsonx_parse(t->settings, strlen(t->settings), why, sizeof why);
    if (!json_is_object(settings)) {
        json_decref(settings);
        settings = json_object();
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:o}", "id", t->id, "name", t->name,
                     "created_at", t->created_at, "storage_quota_bytes",
                     t->storage_quota_bytes < 0 ? json_null()
                                                : json_integer(t->storage_quota_bytes),
                     "storage_used_bytes", (json_int_t)t->storage_used_bytes, "rate_limit_tier",
                     t->rate_limit_tier, "settings", settings);
}

/* the body as an object whose members are all in known; else 400 naming the unknown ones */
static json_t *body_object(http_req *r, const char *const *known)
{
    if (!json_is_object(r->json)) {
        http_error(r, ERR_INVALID_REQUEST, "the body must be a JSON object", NULL);
        return NULL;
    }
    char unknown[300] = "", list[200] = "";
    size_t u = 0, l = 0;
    for (int i = 0; known[i] && l < sizeof list; i++) {
        int w = snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", known[i]);
        l = w < 0 ? sizeof list : l + (size_t)w;
    }
    const char *k;
    json_t *v;
    json_object_foreach (r->json, k, v) {
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++) {
            ok = strcmp(known[i], k) == 0;
        }
        if (!ok && u < sizeof unknown) {
            int w = snprintf(unknown + u, sizeof unknown - u, "%s'%.40s'", u ? ", " : "", k);
            u = w < 0 ? sizeof unknown : u + (size_t)w;
        }
    }
    if (u) {
        char msg[600];
        snprintf(msg, sizeof msg, "unknown field%s %s (known: %s)", strchr(unknown, ',') ? "s" : "",
                 unknown, list);
        http_error(r, ERR_INVALID_REQUEST, msg, NULL);
        return NULL;
    }
    return r->json;
}

static void bad(http_req *r, const char *fmt, const char *arg)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, arg);
    http_error(r, ERR_INVALID_REQUEST, msg, NULL);
}

static bool text_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max || strlen(s) != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

/* name: a string of 1-STORE_NAME_MAX characters without control characters */
static bool take_name(http_req *r, json_t *v, char *out, size_t cap)
{
    if (!json_is_string(v) ||
        !text_ok(json_string_value(v), json_string_length(v), STORE_NAME_MAX)) {
        bad(r, "name must be a string of 1-%s characters without control characters", "200");
        return false;
    }
    snprintf(out, cap, "%s", json_string_value(v));
    return true;
}

/* storage_quota_bytes: an integer >= 0, or null for no quota (-1) */
static bool take_quota(http_req *r, json_t *v, int64_t *out)
{
    if (json_is_null(v)) {
        *out = -1;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        bad(r, "storage_quota_bytes must be an integer >= 0, or null for no quota%s", "");
        return false;
    }
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* rate_limit_tier: a tier the config defines */
static bool take_tier(http_req *r, json_t *v, char *out, size_t cap)
{
    const char *t = json_string_value(v);
    if (!t || json_string_length(v) > STORE_TIER_MAX || !limit_tier(r->cfg, t)) {
        char names[400], msg[600];
        limit_tier_names(r->cfg, names, sizeof names);
        snprintf(msg, sizeof msg, "rate_limit_tier must name a configured tier (%s)", names);
        http_error(r, ERR_INVALID_REQUEST, msg, NULL);
        return false;
    }
    snprintf(out, cap, "%s", t);
    return true;
}

/* settings (DESIGN §11.12, a closed set) merged into the stored object: a member set to null
   removes that setting. The merged text goes to out. */
static bool take_settings(http_req *r, json_t *v, const char *stored, char *out, size_t cap,
                          bool *snapshot_changed)
{
    static const char *const known = "default_workspace_id, max_concurrency, "
                                     "event_retention_days, request_log_retention_days, "
                                     "allowed_tools";
    if (!json_is_object(v)) {
        bad(r, "settings must be an object with any of: %s", known);
        return false;
    }
    char why[200];
    json_t *merged = jsonx_parse(stored, strlen(stored), why, sizeof why);
    if (!json_is_object(merged)) {
        json_decref(merged);
        merged = json_object();
    }
    const char *k;
    json_t *val;
    char msg[600] = "";
    json_object_foreach (v, k, val) {
        /* the snapshot carries settings (default_workspace_id, max_concurrency, allowed_tools):
           rebuilt */
        *snapshot_changed = true;
        if (strcmp(k, "default_workspace_id") == 0) {
            if (!json_is_null(val) &&
                !(json_is_string(val) && config_ws_id_ok(json_string_value(val)))) {
                snprintf(msg, sizeof msg,
                         "settings.default_workspace_id must be a workspace id (1-64 characters "
                         "of [A-Za-z0-9._-]) or null");
            }
        } else if (strcmp(k, "max_concurrency") == 0) {
            if (!json_is_null(val) && !(json_is_integer(val) && json_integer_value(val) >= 1 &&
                                        json_integer_value(val) <= 1024)) {
                snprintf(msg, sizeof msg, "settings.max_concurrency must be an integer 1..1024");
            }
        } else if (strcmp(k, "event_retention_days") == 0 ||
                   strcmp(k, "request_log_retention_days") == 0) {
            if (!json_is_null(val) && !(json_is_integer(val) && json_integer_value(val) >= 1 &&
                                        json_integer_value(val) <= 3650)) {
                snprintf(msg, sizeof msg, "settings.%s must be an integer 1..3650", k);
            }
        } else if (strcmp(k, "allowed_tools") == 0) {
            if (!json_is_null(val) &&
                (!json_is_array(val) || json_array_size(val) > ALLOWED_TOOLS_MAX)) {
                snprintf(msg, sizeof msg,
                         "settings.allowed_tools must be a list of at most %d tool names",
                         ALLOWED_TOOLS_MAX);
            }
            size_t i;
            json_t *t;
            json_array_foreach (val, i, t) {
                if (!msg[0] && (!json_is_string(t) || !registry_find(json_string_value(t)))) {
                    snprintf(msg, sizeof msg,
                             "settings.allowed_tools[%zu]: %s%.64s%s is not a tool", i,
                             json_is_string(t) ? "'" : "",
                             json_is_string(t) ? json_string_value(t) : "a non-string",
                             json_is_string(t) ? "'" : "");
                }
            }
        } else {
            snprintf(msg, sizeof msg, "settings.%.64s is not a tenant setting (known: %s)", k,
                     known);
        }
        if (msg[0]) {
            break;
        }
        if (json_is_null(val)) {
            json_object_del(merged, k);
        } else {
            json_object_set(merged, k, val);
        }
    }
    if (msg[0]) {
        json_decref(merged);
        http_error(r, ERR_INVALID_REQUEST, msg, NULL);
        return false;
    }
    char *text = json_dumps(merged, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(merged);
    if (!text || strlen(text) >= cap) {
        free(text);
        bad(r, "settings are too large (at most %s bytes)", "4096");
        return false;
    }
    snprintf(out, cap, "%s", text);
    free(text);
    return true;
}

/* the server's snapshot again, from team.json and the store; false (logged) when it failed */
static bool reload(const char *why)
{
    return reload_hook && reload_hook(why);
}

/* ---- tenants ---- */

static bool list_tenant(const store_tenant *t, void *ctx)
{
    json_array_append_new(ctx, tenant_json(t));
    return true;
}

static void tenants_list(http_req *r)
{
    if (!gate(r)) {
        return;
    }
    if (!is_operator(r)) {
        operator_only(r, "listing tenants");
        return;
    }
    json_t *arr = json_array();
    err e = store_tenant_list(admin_store, list_tenant, arr);
    if (e != ERR_OK) {
        json_decref(arr);
        store_failed(r, e);
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "tenants", arr));
}

static void tenants_create(http_req *r)
{
    static const char *const known[] = {"name",     "id", "storage_quota_bytes", "rate_limit_tier",
                                        "settings", NULL};
    if (!gate(r)) {
        return;
    }
    if (!is_operator(r)) {
        operator_only(r, "creating tenants");
        return;
    }
    json_t *b = body_object(r, known);
    if (!b) {
        return;
    }
    store_tenant t;
    memset(&t, 0, sizeof t);
    t.storage_quota_bytes = -1;
    json_t *v;
    bool snapshot_changed = false;
    if (!(v = json_object_get(b, "name"))) {
        http_error(r, ERR_INVALID_REQUEST, "name is required", NULL);
        return;
    }
    if (!take_name(r, v, t.name, sizeof t.name)) {
        return;
    }
    if ((v = json_object_get(b, "id"))) {
        const char *id = json_string_value(v);
        if (!id || !apikey_tenant_valid(id, json_string_length(v))) {
            bad(r,
                "id must be 1-32 characters of [a-z0-9-] starting with a letter or digit "
                "(it is part of every API key)%s",
                "");
            return;
        }
        snprintf(t.id, sizeof t.id, "%s", id);
    }
    if ((v = json_object_get(b, "storage_quota_bytes")) &&
        !take_quota(r, v, &t.storage_quota_bytes)) {
        return;
    }
    if ((v = json_object_get(b, "rate_limit_tier")) &&
        !take_tier(r, v, t.rate_limit_tier, sizeof t.rate_limit_tier)) {
        return;
    }
    if ((v = json_object_get(b, "settings")) &&
        !take_settings(r, v, "{}", t.settings, sizeof t.settings, &snapshot_changed)) {
        return;
    }
    err e = store_tenant_create_new(admin_store, &t);
    if (e == ERR_CONFLICT) {
        char msg[120];
        snprintf(msg, sizeof msg, "tenant '%s' already exists", t.id);
        http_error(r, ERR_CONFLICT, msg, NULL);
        return;
    }
    if (e != ERR_OK) {
        store_failed(r, e);
        return;
    }
    if (snapshot_changed) {
        reload("a tenant was created");
    }
    http_json(r, 201, tenant_json(&t));
}

static void tenant_get(http_req *r)
{
    store_tenant t;
    if (gate(r) && target_tenant(r, &t)) {
        http_json(r, 200, tenant_json(&t));
    }
}

static void tenant_patch(http_req *r)
{
    static const char *const known[] = {"name", "storage_quota_bytes", "rate_limit_tier",
                                        "settings", NULL};
    store_tenant t;
    if (!gate(r)) {
        return;
    }
    pthread_mutex_lock(&admin_mu); /* settings are read, merged and written back */
    json_t *b = NULL, *v;
    bool snapshot_changed = false;
    if (!target_tenant(r, &t) || !(b = body_object(r, known))) {
        goto out;
    }
    if (!is_operator(r) &&
        (json_object_get(b, "storage_quota_bytes") || json_object_get(b, "rate_limit_tier"))) {
        http_error(r, ERR_SCOPE_DENIED,
                   "storage_quota_bytes and rate_limit_tier of a tenant are set by the operator",
                   NULL);
        goto out;
    }
    if ((v = json_object_get(b, "name")) && !take_name(r, v, t.name, sizeof t.name)) {
        goto out;
    }
    if ((v = json_object_get(b, "storage_quota_bytes")) &&
        !take_quota(r, v, &t.storage_quota_bytes)) {
        goto out;
    }
    if ((v = json_object_get(b, "rate_limit_tier")) &&
        !take_tier(r, v, t.rate_limit_tier, sizeof t.rate_limit_tier)) {
        goto out;
    }
    char settings[STORE_SETTINGS_MAX + 1];
    if ((v = json_object_get(b, "settings"))) {
        if (!take_settings(r, v, t.settings, settings, sizeof settings, &snapshot_changed)) {
            goto out;
        }
        snprintf(t.settings, sizeof t.settings, "%s", settings);
    }
    err e = store_tenant_update(admin_store, &t);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "tenant", t.id);
        goto out;
    }
    if (e != ERR_OK) {
        store_failed(r, e);
        goto out;
    }
    if (snapshot_changed) {
        reload("a tenant's settings changed");
    }
    http_json(r, 200, tenant_json(&t));
out:
    pthread_mutex_unlock(&admin_mu);
}

/* the entries of team.json that name tenant (workspaces, active tokens) */
static size_t config_uses(const config *c, const char *tenant)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_workspaces; i++) {
        n += !c->workspaces[i].from_store && strcmp(c->workspaces[i].tenant, tenant) == 0;
    }
    for (size_t i = 0; i < c->n_tokens; i++) {
        n += !c->tokens[i].revoked && strcmp(c->tokens[i].tenant, tenant) == 0;
    }
    return n;
}

static void tenant_delete(http_req *r)
{
    store_tenant t;
    if (!gate(r)) {
        return;
    }
    pthread_mutex_lock(&admin_mu);
    if (!target_tenant(r, &t)) {
        goto out;
    }
    if (!is_operator(r)) {
        operator_only(r, "deleting a tenant");
        goto out;
    }
    if (strcmp(t.id, STORE_LOCAL_TENANT) == 0) {
        http_error(r, ERR_CONFLICT,
                   "the tenant 'local' cannot be deleted (team.json's tokens and workspaces "
                   "belong to it)",
                   NULL);
        goto out;
    }
    config *c = config_current();
    size_t uses = c ? config_uses(c, t.id) : 0;
    config_unref(c);
    if (uses) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "team.json still names tenant '%s' (%zu workspace or token entr%s): remove them "
                 "first, or the server would go on serving it",
                 t.id, uses, uses == 1 ? "y" : "ies");
        http_error(r, ERR_CONFLICT, msg, NULL);
        goto out;
    }
    /* rows first: its keys fail from the next request on. The log rows still queued are
       committed before, so that none outlives the tenant (a tenant made again with the same id
       starts with empty stats). */
    if (store_flush(admin_store) != ERR_OK) {
        log_warn("admin: pending log rows not written before deleting tenant '%s'", t.id);
    }
    err e = store_tenant_delete(admin_store, t.id);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "tenant", t.id);
        goto out;
    }
    if (e != ERR_OK) {
        store_failed(r, e);
        goto out;
    }
    /* its workspaces leave the snapshot (watchers joined), its builds end, then its files go,
       and what the process holds of it in memory (read ledger entries and blobs) */
    reload("a tenant was deleted");
    index_wait_tenant(t.id);
    (void)ledger_drop_tenant(t.id);
    char why[600];
    e = store_tenant_remove_files(r->cfg->data_dir, t.id, why, sizeof why);
    if (e != ERR_OK) {
        log_error("admin: tenant '%s' deleted, but its files were not all removed: %s", t.id, why);
        http_error(r, ERR_INTERNAL, "the tenant was deleted, but its files were not all removed",
                   NULL);
        goto out;
    }
    log_info("admin: tenant '%s' deleted with its keys, workspaces, log rows and files", t.id);
    http_empty(r, 204);
out:
    pthread_mutex_unlock(&admin_mu);
}

/* ---- keys ---- */

static json_t *key_json(const store_key *k)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:b, s:s, s:o, s:o}", "prefix", k->key_prefix,
                     "tenant_id", k->tenant_id, "scopes", scope_json(k->scopes), "rate_limit_tier",
                     k->rate_limit_tier, "test", k->test, "created_at", k->created_at,
                     "last_used_at",
                     k->last_used_at[0] ? json_string(k->last_used_at) : json_null(), "revoked_at",
                     k->revoked_at[0] ? json_string(k->revoked_at) : json_null());
}

static bool list_key(const store_key *k, void *ctx)
{
    json_array_append_new(ctx, key_json(k));
    return true;
}

static void keys_list(http_req *r)
{
    store_tenant t;
    if (!gate(r) || !target_tenant(r, &t)) {
        return;
    }
    json_t *arr = json_array();
    err e = store_key_list(admin_store, t.id, list_key, arr);
    if (e != ERR_OK) {
        json_decref(arr);
        store_failed(r, e);
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "keys", arr));
}

/* a list of strings through parse (one name at a time) into *set; false (answered) on the
   first that does not parse */
static bool take_names(http_req *r, json_t *v, const char *field, bool permissions, scope_set *set)
{
    if (!json_is_array(v) || json_array_size(v) > 64) {
        bad(r, "%s must be a list of names", field);
        return false;
    }
    size_t i;
    json_t *s;
    json_array_foreach (v, i, s) {
        const char *name = json_string_value(s);
        scope_set one = 0;
        char badname[64];
        bool ok = name && strlen(name) == json_string_length(s) && !strchr(name, ',') &&
                  (permissions ? scope_parse_permissions(name, &one, badname, sizeof badname)
                               : (one = scope_parse(name, strlen(name))) != 0);
        if (!ok) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s[%zu]: %s%.40s%s is not a known %s (known: %s)", field, i,
                     name ? "'" : "", name ? name : "a non-string", name ? "'" : "",
                     permissions ? "permission" : "scope",
                     permissions ? "read, write, admin"
                                 : "search, graph, artifacts, index, events, sessionMutations, "
                                   "knowledge, audit, admin");
            http_error(r, ERR_INVALID_REQUEST, msg, NULL);
            return false;
        }
        *set |= one;
    }
    return true;
}

static void keys_create(http_req *r)
{
    static const char *const known[] = {"permissions", "scopes", "rate_limit_tier", "test", NULL};
    store_tenant t;
    json_t *b, *v;
    if (!gate(r) || !target_tenant(r, &t) || !(b = body_object(r, known))) {
        return;
    }
    store_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.tenant_id, sizeof k.tenant_id, "%s", t.id);
    snprintf(k.rate_limit_tier, sizeof k.rate_limit_tier, "%s", t.rate_limit_tier);
    json_t *perms = json_object_get(b, "permissions"), *scopes = json_object_get(b, "scopes");
    if (perms && !take_names(r, perms, "permissions", true, &k.scopes)) {
        return;
    }
    if (scopes && !take_names(r, scopes, "scopes", false, &k.scopes)) {
        return;
    }
    if (!perms && !scopes) {
        char badname[16];
        (void)scope_parse_permissions("read", &k.scopes, badname, sizeof badname);
    }
    if (!k.scopes) {
        http_error(r, ERR_INVALID_REQUEST, "the key would have no scope", NULL);
        return;
    }
    if ((v = json_object_get(b, "rate_limit_tier"))) {
        if (!take_tier(r, v, k.rate_limit_tier, sizeof k.rate_limit_tier)) {
            return;
        }
        if (!is_operator(r) && strcmp(k.rate_limit_tier, t.rate_limit_tier) != 0) {
            http_error(r, ERR_SCOPE_DENIED,
                       "a tenant admin's keys have the tenant's rate_limit_tier; another tier is "
                       "the operator's to give",
                       NULL);
            return;
        }
    }
    if ((v = json_object_get(b, "test"))) {
        if (!json_is_boolean(v)) {
            http_error(r, ERR_INVALID_REQUEST, "test must be true or false", NULL);
            return;
        }
        k.test = json_is_true(v);
    }
    char key[APIKEY_MAX_LEN + 1];
    err e = store_key_mint(admin_store, &k, key);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "tenant", t.id); /* deleted meanwhile */
        return;
    }
    if (e != ERR_OK) {
        store_failed(r, e);
        return;
    }
    json_t *body = key_json(&k);
    json_object_set_new(body, "key", json_string(key));
    memset(key, 0, sizeof key);
    log_info("admin: key %s created for tenant '%s'", k.key_prefix, k.tenant_id);
    http_json(r, 201, body);
}

static void key_revoke(http_req *r)
{
    if (!gate(r)) {
        return;
    }
    const char *prefix = http_param(r, "prefix");
    char tenant[APIKEY_TENANT_MAX + 1];
    if (!prefix || !store_prefix_tenant(prefix, tenant) ||
        (!is_operator(r) && strcmp(tenant, r->who.tenant_id) != 0)) {
        not_found(r, "key", prefix);
        return;
    }
    err e = store_key_revoke(admin_store, tenant, prefix);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "key", prefix);
    } else if (e == ERR_CONFLICT) {
        char msg[200];
        snprintf(msg, sizeof msg, "key '%s' is revoked already", prefix);
        http_error(r, ERR_CONFLICT, msg, NULL);
    } else if (e != ERR_OK) {
        store_failed(r, e);
    } else {
        log_info("admin: key %s revoked", prefix);
        http_empty(r, 204);
    }
}

/* ---- workspaces ---- */

typedef struct ws_rows {
    store_workspace *v;
    size_t n, cap;
    bool full;
} ws_rows;

static bool collect_ws(const store_workspace *w, void *ctx)
{
    ws_rows *rows = ctx;
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 16;
        store_workspace *grown = cap <= WS_LIST_MAX ? xrealloc(rows->v, cap * sizeof *grown) : NULL;
        if (!grown) {
            rows->full = true;
            return false;
        }
        rows->v = grown;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *w;
    return true;
}

static json_t *ws_json(const char *tenant, const char *id, const char *label, const char *root,
                       const char *source, const char *created_at, bool served, bool show_root)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", id, "label", label, "tenant_id",
                          tenant, "source", source, "served", served);
    if (show_root) {
        json_object_set_new(o, "root", json_string(root));
    }
    if (created_at) {
        json_object_set_new(o, "created_at", json_string(created_at));
    }
    return o;
}

static void workspaces_list(http_req *r)
{
    store_tenant t;
    if (!gate(r) || !target_tenant(r, &t)) {
        return;
    }
    ws_rows rows = {0};
    err e = store_workspace_list(admin_store, t.id, collect_ws, &rows);
    if (e != ERR_OK || rows.full) {
        xfree(rows.v);
        store_failed(r, e != ERR_OK ? e : ERR_NOMEM);
        return;
    }
    json_t *arr = json_array();
    const config *c = r->cfg;
    bool op = is_operator(r);
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *w = &c->workspaces[i];
        if (strcmp(w->tenant, t.id) != 0) {
            continue;
        }
        const char *created = NULL;
        for (size_t j = 0; j < rows.n && w->from_store; j++) {
            created = strcmp(rows.v[j].id, w->id) == 0 ? rows.v[j].created_at : created;
        }
        json_array_append_new(arr, ws_json(w->tenant, w->id, w->label, w->root_real,
                                           w->from_store ? "store" : "config", created, true, op));
    }
    /* registered, but not served (its root is gone): listed so that it can be seen */
    for (size_t j = 0; j < rows.n; j++) {
        const cfg_workspace *w = config_workspace(c, t.id, rows.v[j].id);
        if (!w || !w->from_store) {
            json_array_append_new(arr, ws_json(t.id, rows.v[j].id, rows.v[j].label, rows.v[j].root,
                                               "store", rows.v[j].created_at, false, op));
        }
    }
    xfree(rows.v);
    http_json(r, 200, json_pack("{s:o}", "workspaces", arr));
}

/* the conflict of a canonical root with the server's data or another tenant's roots: a
   sentence in why, or false */
static bool root_conflict(const config *c, const ws_rows *all, const char *tenant, const char *real,
                          char *why, size_t why_len)
{
    char *dd = realpath(c->data_dir, NULL);
    bool hit = config_paths_overlap(real, dd ? dd : c->data_dir);
    free(dd);
    if (hit) {
        snprintf(why, why_len, "the root overlaps the server's data dir");
        return true;
    }
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *w = &c->workspaces[i];
        if (strcmp(w->tenant, tenant) != 0 && config_paths_overlap(real, w->root_real)) {
            snprintf(why, why_len,
                     "the root overlaps a workspace root of another tenant (overlapping roots "
                     "would show one tenant's files to another)");
            return true;
        }
    }
    for (size_t i = 0; i < all->n; i++) {
        if (strcmp(all->v[i].tenant_id, tenant) != 0 &&
            config_paths_overlap(real, all->v[i].root)) {
            snprintf(why, why_len, "the root overlaps a workspace root of another tenant");
            return true;
        }
    }
    return false;
}

static void workspaces_create(http_req *r)
{
    static const char *const known[] = {"id", "label", "root", NULL};
    store_tenant t;
    if (!gate(r)) {
        return;
    }
    pthread_mutex_lock(&admin_mu); /* check, insert and reload as one step */
    json_t *b;
    config *c = NULL;
    char *real = NULL;
    ws_rows all = {0};
    if (!target_tenant(r, &t)) {
        goto out;
    }
    if (!is_operator(r)) {
        operator_only(r, "registering a workspace root");
        goto out;
    }
    if (!(b = body_object(r, known))) {
        goto out;
    }
    const char *id = jsonx_str(b, "id"), *root = jsonx_str(b, "root");
    json_t *lv = json_object_get(b, "label");
    const char *label = json_string_value(lv);
    if (!id || !config_ws_id_ok(id)) {
        bad(r, "id is required: 1-64 characters of [A-Za-z0-9._-]%s", "");
        goto out;
    }
    if (lv && !(label && text_ok(label, json_string_length(lv), STORE_NAME_MAX))) {
        bad(r, "label must be a string of 1-%s characters without control characters", "200");
        goto out;
    }
    if (!root || root[0] != '/' || strlen(root) > STORE_ROOT_MAX ||
        strlen(root) != json_string_length(json_object_get(b, "root"))) {
        bad(r, "root is required: an absolute path of at most %s bytes", "4096");
        goto out;
    }
    struct stat st;
    real = realpath(root, NULL);
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char msg[400];
        snprintf(msg, sizeof msg, "root '%.200s' %s", root,
                 !real && (errno == ENOENT || errno == ENOTDIR) ? "does not exist"
                 : !real                                        ? "cannot be resolved"
                                                                : "is not a directory");
        http_error(r, ERR_INVALID_REQUEST, msg, NULL);
        goto out;
    }
    if (strlen(real) > STORE_ROOT_MAX) {
        bad(r, "root is longer than %s bytes once resolved", "4096");
        goto out;
    }
    c = config_current();
    if (!config_root_allowed(c, real)) {
        char msg[400];
        snprintf(msg, sizeof msg, "root '%.200s' is not within allowedRoots", real);
        http_error(r, ERR_INVALID_REQUEST, msg, NULL);
        goto out;
    }
    err e = store_workspace_list_all(admin_store, collect_ws, &all);
    if (e != ERR_OK || all.full) {
        store_failed(r, e != ERR_OK ? e : ERR_NOMEM);
        goto out;
    }
    bool taken = config_workspace(c, t.id, id) != NULL;
    for (size_t i = 0; i < all.n && !taken; i++) {
        taken = strcmp(all.v[i].tenant_id, t.id) == 0 && strcmp(all.v[i].id, id) == 0;
    }
    if (taken) {
        char msg[200];
        snprintf(msg, sizeof msg, "tenant '%s' has a workspace '%s' already", t.id, id);
        http_error(r, ERR_CONFLICT, msg, NULL);
        goto out;
    }
    char why[300];
    if (root_conflict(c, &all, t.id, real, why, sizeof why)) {
        http_error(r, ERR_CONFLICT, why, NULL);
        goto out;
    }
    store_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.tenant_id, sizeof w.tenant_id, "%s", t.id);
    snprintf(w.id, sizeof w.id, "%s", id);
    snprintf(w.label, sizeof w.label, "%s", label ? label : id);
    snprintf(w.root, sizeof w.root, "%s", real);
    e = store_workspace_add(admin_store, &w);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "tenant", t.id);
        goto out;
    }
    if (e != ERR_OK) {
        store_failed(r, e == ERR_CONFLICT ? ERR_INTERNAL : e);
        goto out;
    }
    /* served from the next snapshot on: builds and watchers start as for a team.json one */
    config_unref(c);
    c = NULL;
    bool ok = reload("a workspace was registered");
    config *now = config_current();
    const cfg_workspace *served = now ? config_workspace(now, t.id, id) : NULL;
    ok = ok && served && served->from_store;
    config_unref(now);
    if (!ok) {
        if (store_workspace_delete(admin_store, t.id, id) != ERR_OK) {
            log_error("admin: workspace '%s' of tenant '%s' could not be taken back", id, t.id);
        }
        log_error("admin: workspace '%s' of tenant '%s' registered but not served (the reload "
                  "failed; see above), so it was taken back; request %s",
                  id, t.id, r->request_id);
        http_error(r, ERR_INTERNAL,
                   "the workspace could not be served (the server's config does not reload)", NULL);
        goto out;
    }
    store_workspace back;
    if (store_workspace_get(admin_store, t.id, id, &back) == ERR_OK) {
        w = back;
    }
    log_info("admin: workspace '%s' of tenant '%s' registered at '%s'", id, t.id, real);
    http_json(r, 201,
              ws_json(w.tenant_id, w.id, w.label, w.root, "store", w.created_at, true, true));
out:
    free(real);
    xfree(all.v);
    config_unref(c);
    pthread_mutex_unlock(&admin_mu);
}

/* ---- stats ---- */

/* symbols of the workspaces of tenant (NULL: all), from each index's meta counts */
static int64_t symbols_of(const config *c, const char *tenant, int64_t *repos)
{
    int64_t n = 0;
    *repos = 0;
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *w = &c->workspaces[i];
        if (tenant && strcmp(w->tenant, tenant) != 0) {
            continue;
        }
        (*repos)++;
        ix_view v;
        if (index_view_open(c, w, &v)) {
            n += ix_meta_int(v.db, "n_symbols", 0);
        }
        index_view_close(&v);
    }
    return n;
}

static void stats_all(http_req *r)
{
    if (!gate(r)) {
        return;
    }
    if (!is_operator(r)) {
        operator_only(r, "the server's stats are");
        return;
    }
    store_stats s;
    err e = store_stats_get(admin_store, NULL, clock_wall_ms(), &s);
    if (e != ERR_OK) {
        store_failed(r, e);
        return;
    }
    int64_t repos;
    int64_t symbols = symbols_of(r->cfg, NULL, &repos);
    http_json(r, 200,
              json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "tenants", (json_int_t)s.tenants,
                        "total_repos", (json_int_t)repos, "total_symbols", (json_int_t)symbols,
                        "storage_used_bytes", (json_int_t)s.storage_used_bytes, "requests_24h",
                        (json_int_t)s.requests_24h, "rate_limit_hits_24h",
                        (json_int_t)s.rate_limit_hits_24h, "uptime_seconds",
                        (json_int_t)http_uptime_seconds()));
}

static void stats_tenant(http_req *r)
{
    store_tenant t;
    if (!gate(r) || !target_tenant(r, &t)) {
        return;
    }
    store_stats s;
    err e = store_stats_get(admin_store, t.id, clock_wall_ms(), &s);
    if (e == ERR_NOT_FOUND) {
        not_found(r, "tenant", t.id);
        return;
    }
    if (e != ERR_OK) {
        store_failed(r, e);
        return;
    }
    int64_t repos;
    int64_t symbols = symbols_of(r->cfg, t.id, &repos);
    http_json(r, 200,
              json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "tenant_id", t.id, "repos",
                        (json_int_t)repos, "symbols", (json_int_t)symbols, "storage_used_bytes",
                        (json_int_t)s.storage_used_bytes, "requests_24h",
                        (json_int_t)s.requests_24h, "rate_limit_hits_24h",
                        (json_int_t)s.rate_limit_hits_24h));
}

#define ADMIN (ROUTE_AUTH | ROUTE_AUDITED)
/* routes that may reload the config, join watchers or wait for builds run on the pool, so a
   connection thread (shared by many connections) is never held by them */
#define ADMIN_SLOW (ADMIN | ROUTE_POOL)

static const route admin_table[] = {
    {.path = "/admin/tenants", .method = "GET", .flags = ADMIN, .fn = tenants_list},
    {.path = "/admin/tenants",
     .method = "POST",
     .flags = ADMIN_SLOW | ROUTE_BODY,
     .fn = tenants_create},
    {.path = "/admin/tenants/{id}", .method = "GET", .flags = ADMIN, .fn = tenant_get},
    {.path = "/admin/tenants/{id}",
     .method = "PATCH",
     .flags = ADMIN_SLOW | ROUTE_BODY,
     .fn = tenant_patch},
    {.path = "/admin/tenants/{id}", .method = "DELETE", .flags = ADMIN_SLOW, .fn = tenant_delete},
    {.path = "/admin/tenants/{id}/keys", .method = "GET", .flags = ADMIN, .fn = keys_list},
    {.path = "/admin/tenants/{id}/keys",
     .method = "POST",
     .flags = ADMIN | ROUTE_BODY,
     .fn = keys_create},
    {.path = "/admin/keys/{prefix}", .method = "DELETE", .flags = ADMIN, .fn = key_revoke},
    {.path = "/admin/tenants/{id}/workspaces",
     .method = "GET",
     .flags = ADMIN,
     .fn = workspaces_list},
    {.path = "/admin/tenants/{id}/workspaces",
     .method = "POST",
     .flags = ADMIN_SLOW | ROUTE_BODY,
     .fn = workspaces_create},
    {.path = "/admin/stats", .method = "GET", .flags = ADMIN, .fn = stats_all},
    {.path = "/admin/tenants/{id}/stats", .method = "GET", .flags = ADMIN, .fn = stats_tenant},
};

const route *admin_routes(size_t *n)
{
    *n = sizeof admin_table / sizeof admin_table[0];
    return admin_table;
}

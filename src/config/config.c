/* config.c - team.json loading and validation (see config.h).
 *
 * The loader walks the JSON once, checking each known field and recording a problem for every
 * violation instead of stopping at the first; only when the problem list is empty does it
 * return a snapshot. Unknown fields are allowed (a newer ctxd may have written them) and kept
 * by the rewriter (rewrite.c). */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/apikey.h"
#include "core/alloc.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "limit/policy.h" /* rateTiers, toolCosts (LIMITS) */
#include "ws/glob.h"      /* artifactGlobs (ARTIFACTS) */

void config_problems_init(config_problems *p)
{
    buf_init(&p->text, 1 << 20);
    p->count = 0;
}

void config_problem(config_problems *p, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    buf_puts(&p->text, line);
    buf_putc(&p->text, '\n');
    p->count++;
}

void config_problems_release(config_problems *p)
{
    buf_release(&p->text);
}

/* a path from the file, made absolute against the file's directory */
static char *abs_path(const char *dir, const char *p)
{
    if (p[0] == '/') {
        return xstrdup(p);
    }
    while (p[0] == '.' && p[1] == '/') {
        p += 2;
    }
    if (strcmp(p, ".") == 0 || p[0] == '\0') {
        return xstrdup(dir);
    }
    size_t n = strlen(dir) + 1 + strlen(p) + 1;
    char *out = xmalloc(n);
    if (out) {
        snprintf(out, n, "%s/%s", dir, p);
    }
    return out;
}

bool config_ws_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

/* typed getters: absent -> default, wrong type or range -> a problem */
static char *get_string(json_t *o, const char *key, const char *def, config_problems *p)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        return def ? xstrdup(def) : NULL;
    }
    if (!json_is_string(v)) {
        config_problem(p, "%s: must be a string, not %s", key, jsonx_type_name(v));
        return def ? xstrdup(def) : NULL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        config_problem(p, "%s: must not contain NUL characters", key);
        return def ? xstrdup(def) : NULL;
    }
    return xstrdup(json_string_value(v));
}

static bool get_bool(json_t *o, const char *key, bool def, config_problems *p)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        return def;
    }
    if (!json_is_boolean(v)) {
        config_problem(p, "%s: must be true or false, not %s", key, jsonx_type_name(v));
        return def;
    }
    return json_is_true(v);
}

static int64_t get_int(json_t *o, const char *key, int64_t def, int64_t min, int64_t max,
                       config_problems *p)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        return def;
    }
    if (!json_is_integer(v)) {
        config_problem(p, "%s: must be an integer, not %s", key, jsonx_type_name(v));
        return def;
    }
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        config_problem(p, "%s: must be between %lld and %lld, not %lld", key, (long long)min,
                       (long long)max, (long long)i);
        return def;
    }
    return i;
}

static double get_num(json_t *o, const char *key, double def, double min, double max,
                      config_problems *p)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        return def;
    }
    if (!json_is_number(v)) {
        config_problem(p, "%s: must be a number, not %s", key, jsonx_type_name(v));
        return def;
    }
    double d = json_number_value(v);
    if (!(d >= min && d <= max)) {
        config_problem(p, "%s: must be between %g and %g, not %g", key, min, max, d);
        return def;
    }
    return d;
}

static char **get_strings(json_t *o, const char *key, size_t *n, config_problems *p)
{
    *n = 0;
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_array(v)) {
        config_problem(p, "%s: must be an array of strings, not %s", key, jsonx_type_name(v));
        return NULL;
    }
    char **out = xcalloc(json_array_size(v) + 1, sizeof *out);
    if (!out) {
        config_problem(p, "%s: out of memory", key);
        return NULL;
    }
    size_t i;
    json_t *s;
    json_array_foreach (v, i, s) {
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
            config_problem(p, "%s[%zu]: must be a string, not %s", key, i, jsonx_type_name(s));
            continue;
        }
        out[(*n)++] = xstrdup(json_string_value(s));
    }
    return out;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xfree(v[i]);
    }
    xfree(v);
}

static bool hex_decode32(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64) {
        return false;
    }
    for (int i = 0; i < 32; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + j];
            int d;
            if (c >= '0' && c <= '9') {
                d = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                d = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                d = c - 'A' + 10;
            } else {
                return false;
            }
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    return true;
}

static void load_workspaces(config *c, json_t *root, bool open_roots, config_problems *p)
{
    json_t *arr = json_object_get(root, "workspaces");
    if (!arr || json_is_null(arr)) {
        return;
    }
    if (!json_is_array(arr)) {
        config_problem(p, "workspaces: must be an array, not %s", jsonx_type_name(arr));
        return;
    }
    c->workspaces = xcalloc(json_array_size(arr) + 1, sizeof *c->workspaces);
    size_t i;
    json_t *w;
    json_array_foreach (arr, i, w) {
        char field[64];
        if (!json_is_object(w)) {
            config_problem(p, "workspaces[%zu]: must be an object, not %s", i, jsonx_type_name(w));
            continue;
        }
        cfg_workspace *ws = &c->workspaces[c->n_workspaces];
        memset(ws, 0, sizeof *ws);
        ws->root_fd = -1;
        const char *id = jsonx_str(w, "id");
        const char *wroot = jsonx_str(w, "root");
        const char *label = jsonx_str(w, "label");
        const char *tenant = jsonx_str(w, "tenant");
        bool ok = true;
        if (!id || !config_ws_id_ok(id)) {
            config_problem(p, "workspaces[%zu].id: required, 1-64 characters of [A-Za-z0-9._-]", i);
            ok = false;
        } else {
            for (size_t j = 0; j < c->n_workspaces; j++) {
                if (strcmp(c->workspaces[j].id, id) == 0 &&
                    strcmp(c->workspaces[j].tenant, tenant ? tenant : "local") == 0) {
                    config_problem(p, "workspaces[%zu].id: '%s' is used twice", i, id);
                    ok = false;
                }
            }
        }
        if (json_object_get(w, "label") && !label) {
            config_problem(p, "workspaces[%zu].label: must be a string", i);
        }
        if (tenant && !apikey_tenant_valid(tenant, strlen(tenant))) {
            config_problem(
                p, "workspaces[%zu].tenant: '%s' is not a tenant id ([a-z0-9][a-z0-9-]{0,31})", i,
                tenant);
            ok = false;
        }
        snprintf(field, sizeof field, "workspaces[%zu].root", i);
        char *abs = NULL, *real = NULL;
        if (!wroot || !*wroot) {
            config_problem(p, "%s: required, the directory of the checkout", field);
            ok = false;
        } else {
            abs = abs_path(c->dir, wroot);
            struct stat st;
            real = abs ? realpath(abs, NULL) : NULL;
            if (!real) {
                config_problem(p, "%s: cannot resolve '%s': %s", field, wroot, strerror(errno));
                ok = false;
            } else if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
                config_problem(p, "%s: '%s' is not a directory", field, wroot);
                ok = false;
            } else if (open_roots) {
                ws->root_fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (ws->root_fd < 0) {
                    config_problem(p, "%s: cannot open '%s': %s", field, wroot, strerror(errno));
                    ok = false;
                }
            }
        }
        if (!ok) {
            xfree(abs);
            free(real);
            if (ws->root_fd >= 0) {
                close(ws->root_fd);
            }
            continue;
        }
        ws->id = xstrdup(id);
        ws->label = xstrdup(label ? label : id);
        ws->root = abs;
        ws->root_real = xstrdup(real);
        free(real);
        ws->tenant = xstrdup(tenant ? tenant : "local");
        c->n_workspaces++;
    }
}

/* allowedRoots (admin API, ADMIN): absolute directories, kept canonical so that the
   component-boundary check compares like with like */
static void load_allowed_roots(config *c, json_t *root, config_problems *p)
{
    size_t n = 0;
    char **raw = get_strings(root, "allowedRoots", &n, p);
    if (!raw) {
        return;
    }
    c->allowed_roots = xcalloc(n + 1, sizeof *c->allowed_roots);
    for (size_t i = 0; c->allowed_roots && i < n; i++) {
        struct stat st;
        char *real = raw[i][0] == '/' ? realpath(raw[i], NULL) : NULL;
        if (raw[i][0] != '/') {
            config_problem(p, "allowedRoots[%zu]: '%s' must be an absolute path", i, raw[i]);
        } else if (!real) {
            config_problem(p, "allowedRoots[%zu]: cannot resolve '%s': %s", i, raw[i],
                           strerror(errno));
        } else if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            config_problem(p, "allowedRoots[%zu]: '%s' is not a directory", i, raw[i]);
        } else {
            c->allowed_roots[c->n_allowed_roots++] = xstrdup(real);
        }
        free(real);
    }
    free_strings(raw, n);
}

/* artifactGlobs (ARTIFACTS, issue 6): at most CFG_ARTIFACT_GLOBS_MAX globs, each compiled once
   here so that a bad one stops the start; absent: tools.md §4.6's default list */
static void load_artifact_globs(config *c, json_t *root, config_problems *p)
{
    static const char *const defaults[] = {
        "docs/**/*.md",           "**/adr/**/*.md", "**/*.openapi.{json,yaml}",
        "**/openapi.{json,yaml}", "**/*.sql",       "**/*.proto"};
    if (!json_object_get(root, "artifactGlobs")) {
        size_t n = sizeof defaults / sizeof defaults[0];
        c->artifact_globs = xcalloc(n + 1, sizeof *c->artifact_globs);
        for (size_t i = 0; c->artifact_globs && i < n; i++) {
            c->artifact_globs[c->n_artifact_globs++] = xstrdup(defaults[i]);
        }
        return;
    }
    c->artifact_globs = get_strings(root, "artifactGlobs", &c->n_artifact_globs, p);
    if (c->n_artifact_globs > CFG_ARTIFACT_GLOBS_MAX) {
        config_problem(p, "artifactGlobs: at most %d globs, not %zu", CFG_ARTIFACT_GLOBS_MAX,
                       c->n_artifact_globs);
    }
    for (size_t i = 0; i < c->n_artifact_globs; i++) {
        char why[128];
        glob_pat *g =
            glob_compile(c->artifact_globs[i], strlen(c->artifact_globs[i]), why, sizeof why);
        if (!g) {
            config_problem(p, "artifactGlobs[%zu]: '%s': %s", i, c->artifact_globs[i], why);
        }
        glob_free(g);
    }
}

static void load_tokens(config *c, json_t *root, config_problems *p)
{
    json_t *arr = json_object_get(root, "tokens");
    if (!arr || json_is_null(arr)) {
        return;
    }
    if (!json_is_array(arr)) {
        config_problem(p, "tokens: must be an array, not %s", jsonx_type_name(arr));
        return;
    }
    c->tokens = xcalloc(json_array_size(arr) + 1, sizeof *c->tokens);
    size_t i;
    json_t *t;
    json_array_foreach (arr, i, t) {
        if (!json_is_object(t)) {
            config_problem(p, "tokens[%zu]: must be an object, not %s", i, jsonx_type_name(t));
            continue;
        }
        cfg_token *tok = &c->tokens[c->n_tokens];
        memset(tok, 0, sizeof *tok);
        bool ok = true;
        const char *id = jsonx_str(t, "id");
        const char *hex = jsonx_str(t, "sha256Hex");
        const char *role = jsonx_str(t, "role");
        const char *tenant = jsonx_str(t, "tenant");
        if (!id || !config_ws_id_ok(id)) {
            config_problem(p, "tokens[%zu].id: required, 1-64 characters of [A-Za-z0-9._-]", i);
            ok = false;
        } else if (strncmp(id, "ctxd_live_", 10) == 0 || strncmp(id, "ctxd_test_", 10) == 0) {
            /* an id is a principal's name (rate-limit bucket, MCP sessions, audit tokenId), and
               API keys are named by their prefix: the two namespaces must not meet */
            config_problem(
                p, "tokens[%zu].id: '%s' starts like an API key (ctxd_live_, ctxd_test_)", i, id);
            ok = false;
        } else {
            for (size_t j = 0; j < c->n_tokens; j++) {
                if (strcmp(c->tokens[j].id, id) == 0) {
                    config_problem(p, "tokens[%zu].id: '%s' is used twice", i, id);
                    ok = false;
                }
            }
        }
        if (!hex || !hex_decode32(hex, tok->sha256)) {
            config_problem(p, "tokens[%zu].sha256Hex: required, 64 hexadecimal characters", i);
            ok = false;
        }
        scope_set scopes = 0;
        json_t *sv = json_object_get(t, "scopes");
        if (sv && !json_is_array(sv)) {
            config_problem(p, "tokens[%zu].scopes: must be an array of scope names", i);
            ok = false;
        } else if (sv) {
            size_t k;
            json_t *s;
            json_array_foreach (sv, k, s) {
                scope_set one = json_is_string(s)
                                    ? scope_parse(json_string_value(s), json_string_length(s))
                                    : 0;
                if (!one) {
                    config_problem(
                        p,
                        "tokens[%zu].scopes[%zu]: unknown scope %s%s%s (known: search, graph, "
                        "artifacts, index, events, sessionMutations, knowledge, audit, admin)",
                        i, k, json_is_string(s) ? "'" : "",
                        json_is_string(s) ? json_string_value(s) : jsonx_type_name(s),
                        json_is_string(s) ? "'" : "");
                    ok = false;
                }
                scopes |= one;
            }
        }
        if (role) {
            scope_set rs;
            if (!scope_role(role, &rs)) {
                config_problem(
                    p, "tokens[%zu].role: unknown role '%s' (known: viewer, member, admin, owner)",
                    i, role);
                ok = false;
            } else {
                scopes |= rs;
            }
        }
        if (tenant && !apikey_tenant_valid(tenant, strlen(tenant))) {
            config_problem(p, "tokens[%zu].tenant: '%s' is not a tenant id", i, tenant);
            ok = false;
        }
        /* the token's rate tier (LIMITS): must name a configured tier */
        json_t *tierv = json_object_get(t, "tier");
        if (tierv && !json_is_null(tierv) && !limit_tier(c, json_string_value(tierv))) {
            char names[512];
            limit_tier_names(c, names, sizeof names);
            config_problem(p, "tokens[%zu].tier: must name a tier of rateTiers (%s)", i, names);
            ok = false;
        }
        json_t *rev = json_object_get(t, "revokedAt");
        if (!ok) {
            continue;
        }
        tok->id = xstrdup(id);
        tok->scopes = scopes;
        tok->role = role ? xstrdup(role) : NULL;
        tok->tenant = xstrdup(tenant ? tenant : "local");
        tok->revoked = rev && !json_is_null(rev);
        tok->tier = json_is_string(tierv) ? xstrdup(json_string_value(tierv)) : NULL;
        c->n_tokens++;
    }
}

static void free_tenants(config *c)
{
    for (size_t i = 0; i < c->n_tenants; i++) {
        xfree(c->tenants[i].id);
        xfree(c->tenants[i].default_workspace_id);
    }
    xfree(c->tenants);
}

static void config_free(config *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->n_workspaces; i++) {
        cfg_workspace *w = &c->workspaces[i];
        xfree(w->id);
        xfree(w->label);
        xfree(w->root);
        xfree(w->root_real);
        xfree(w->tenant);
        if (w->root_fd >= 0) {
            close(w->root_fd);
        }
    }
    xfree(c->workspaces);
    for (size_t i = 0; i < c->n_tokens; i++) {
        xfree(c->tokens[i].id);
        xfree(c->tokens[i].role);
        xfree(c->tokens[i].tenant);
        xfree(c->tokens[i].tier);
    }
    xfree(c->tokens);
    free_strings(c->allowed_hosts, c->n_allowed_hosts);
    free_strings(c->secret_deny_list, c->n_secret_deny);
    free_strings(c->ignore_globs, c->n_ignore_globs);
    xfree(c->path);
    xfree(c->dir);
    xfree(c->host);
    xfree(c->default_workspace_id);
    xfree(c->audit_log_path);
    xfree(c->data_dir);
    xfree(c->audit_hmac_key_file);
    xfree(c->public_url);
    free_strings(c->allowed_roots, c->n_allowed_roots);   /* admin API (ADMIN) */
    free_strings(c->artifact_globs, c->n_artifact_globs); /* ARTIFACTS (issue 6) */
    free_tenants(c);
    limit_config_free(c);
    xfree(c);
}

static const char *const known_fields[] = {"host",
                                           "port",
                                           "defaultWorkspaceId",
                                           "auditLogPath",
                                           "disableHostCheck",
                                           "allowedHosts",
                                           "maxBodyBytes",
                                           "maxConcurrency",
                                           "maxRps",
                                           "rateBurst",
                                           "requestTimeoutMs",
                                           "workspaces",
                                           "tokens",
                                           "dataDir",
                                           "keyRps",
                                           "keyRateBurst",
                                           "ipRps",
                                           "ipRateBurst",
                                           "maxOutputBytes",
                                           "maxReadBytes",
                                           "ledgerBlobBytes",
                                           "searchBudgetMs",
                                           "secretDenyList",
                                           "ignore",
                                           "auditHmacKeyFile",
                                           "auditSyncMs",
                                           "workerThreads",
                                           "maxIndexBytes",
                                           "indexThreads",
                                           "legacyRateLimitHeaders",
                                           "publicUrl",
                                           "syncIntervalSec",
                                           "watch",
                                           "watchMaxDirs",
                                           "allowedRoots", /* admin API (ADMIN) */
                                           "rateTiers",
                                           "toolCosts",
                                           "requestLog", /* request log (issue 5) */
                                           "requestLogRetentionDays",
                                           "eventRetentionDays", /* EVENTS (issue 6) */
                                           "artifactGlobs",      /* ARTIFACTS (issue 6) */
                                           NULL};

static atomic_ulong generation_counter;

config *config_load(const char *path, bool open_roots, config_problems *p)
{
    config *c = xcalloc(1, sizeof *c);
    if (!c) {
        config_problem(p, "config: out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
    char *real = realpath(path, NULL);
    if (!real) {
        config_problem(p, "config: cannot open '%s': %s", path, strerror(errno));
        config_free(c);
        return NULL;
    }
    c->path = xstrdup(real);
    char *slash = strrchr(real, '/');
    c->dir = slash == real ? xstrdup("/") : xstrndup(real, (size_t)(slash - real));
    free(real);

    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    buf data;
    buf_init(&data, 16 << 20);
    if (fd < 0 || !buf_read_fd(&data, fd)) {
        config_problem(p, "config: cannot read '%s': %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        buf_release(&data);
        config_free(c);
        return NULL;
    }
    close(fd);
    if (data.failed) {
        config_problem(p, "config: '%s' is larger than 16 MiB", path);
        buf_release(&data);
        config_free(c);
        return NULL;
    }
    char why[256];
    json_t *root = jsonx_parse(data.ptr ? data.ptr : "", data.len, why, sizeof why);
    buf_release(&data);
    if (!root) {
        config_problem(p, "config: %s", why);
        config_free(c);
        return NULL;
    }
    if (!json_is_object(root)) {
        config_problem(p, "config: the top level must be a JSON object");
        json_decref(root);
        config_free(c);
        return NULL;
    }

    const char *key;
    json_t *val;
    json_object_foreach (root, key, val) {
        bool known = false;
        for (int i = 0; known_fields[i]; i++) {
            known = known || strcmp(known_fields[i], key) == 0;
        }
        if (!known) {
            log_warn("config: unknown field '%s' kept but not used", key);
        }
    }

    c->host = get_string(root, "host", "127.0.0.1", p);
    c->port = (int)get_int(root, "port", 9877, 0, 65535, p);
    c->default_workspace_id = get_string(root, "defaultWorkspaceId", NULL, p);
    c->disable_host_check = get_bool(root, "disableHostCheck", false, p);
    c->allowed_hosts = get_strings(root, "allowedHosts", &c->n_allowed_hosts, p);
    c->max_body_bytes = (size_t)get_int(root, "maxBodyBytes", 2097152, 1, (int64_t)1 << 30, p);
    c->max_concurrency = (int)get_int(root, "maxConcurrency", 32, 1, 100000, p);
    c->max_rps = get_num(root, "maxRps", 50, 0.001, 1e9, p);
    c->rate_burst = get_num(root, "rateBurst", 100, 1, 1e9, p);
    c->request_timeout_ms = get_int(root, "requestTimeoutMs", 30000, 1, 86400000, p);
    c->key_rps = get_num(root, "keyRps", 10, 0.001, 1e9, p);
    c->key_burst = get_num(root, "keyRateBurst", 100, 1, 1e9, p);
    c->ip_rps = get_num(root, "ipRps", 2, 0.001, 1e9, p);
    c->ip_burst = get_num(root, "ipRateBurst", 20, 1, 1e9, p);
    c->max_output_bytes = (size_t)get_int(root, "maxOutputBytes", 131072, 1024, 64 << 20, p);
    c->max_read_bytes = (size_t)get_int(root, "maxReadBytes", 8 << 20, 1024, (int64_t)1 << 30, p);
    c->ledger_blob_bytes =
        (size_t)get_int(root, "ledgerBlobBytes", 256 << 20, 0, (int64_t)1 << 40, p);
    c->search_budget_ms = get_int(root, "searchBudgetMs", 10000, 10, 3600000, p);
    c->secret_deny_list = get_strings(root, "secretDenyList", &c->n_secret_deny, p);
    c->ignore_globs = get_strings(root, "ignore", &c->n_ignore_globs, p);
    c->audit_sync_ms = get_int(root, "auditSyncMs", 1000, 0, 3600000, p);
    c->worker_threads = (int)get_int(root, "workerThreads", 0, 0, 1024, p);
    c->max_index_bytes =
        (size_t)get_int(root, "maxIndexBytes", 16 << 20, 1024, (int64_t)1 << 30, p);
    c->index_threads = (int)get_int(root, "indexThreads", 0, 0, 256, p);
    c->legacy_rate_limit_headers = get_bool(root, "legacyRateLimitHeaders", false, p);
    c->sync_interval_sec = get_int(root, "syncIntervalSec", 0, 0, 7 * 86400, p);
    c->watch = get_bool(root, "watch", true, p);
    c->watch_max_dirs = get_int(root, "watchMaxDirs", 65536, 1, 1048576, p);
    /* request log (issue 5) */
    c->request_log = get_bool(root, "requestLog", true, p);
    c->request_log_retention_days = (int)get_int(root, "requestLogRetentionDays", 30, 1, 3650, p);
    c->event_retention_days = (int)get_int(root, "eventRetentionDays", 30, 1, 3650, p); /* EVENTS */
    c->public_url = get_string(root, "publicUrl", NULL, p);
    if (c->public_url) {
        size_t n = strlen(c->public_url);
        bool scheme =
            strncmp(c->public_url, "http://", 7) == 0 || strncmp(c->public_url, "https://", 8) == 0;
        bool plain = true;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)c->public_url[i];
            plain = plain && ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
        }
        if (!scheme || !plain || n > 200 || c->public_url[n - 1] == '/') {
            config_problem(p, "publicUrl: must be an http:// or https:// URL without a trailing "
                              "slash, quotes or spaces (at most 200 characters)");
        }
    }

    char *dd = get_string(root, "dataDir", "ctxd-data", p);
    c->data_dir = dd ? abs_path(c->dir, dd) : NULL;
    xfree(dd);
    char *alp = get_string(root, "auditLogPath", NULL, p);
    if (alp) {
        c->audit_log_path = abs_path(c->dir, alp);
        xfree(alp);
    } else if (c->data_dir) {
        c->audit_log_path = abs_path(c->data_dir, "audit.log");
    }
    char *hk = get_string(root, "auditHmacKeyFile", NULL, p);
    if (hk) {
        c->audit_hmac_key_file = abs_path(c->dir, hk);
        xfree(hk);
    } else if (c->data_dir) {
        c->audit_hmac_key_file = abs_path(c->data_dir, "audit-hmac.key");
    }

    load_workspaces(c, root, open_roots, p);
    limit_config_load(c, root, p); /* before the tokens, which name tiers (LIMITS) */
    load_tokens(c, root, p);
    /* allowedRoots (admin API, ADMIN) */
    load_allowed_roots(c, root, p);
    load_artifact_globs(c, root, p); /* ARTIFACTS (issue 6) */

    if (c->default_workspace_id && c->n_workspaces > 0 &&
        !config_workspace(c, NULL, c->default_workspace_id)) {
        config_problem(p, "defaultWorkspaceId: '%s' is not the id of a configured workspace",
                       c->default_workspace_id);
    }
    json_decref(root);
    if (p->count > 0) {
        config_free(c);
        return NULL;
    }
    c->generation = atomic_fetch_add(&generation_counter, 1) + 1;
    return c;
}

config *config_ref(config *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void config_unref(config *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        config_free(c);
    }
}

const cfg_workspace *config_workspace(const config *c, const char *tenant, const char *id)
{
    for (size_t i = 0; i < c->n_workspaces; i++) {
        if (strcmp(c->workspaces[i].id, id) == 0 &&
            (!tenant || strcmp(c->workspaces[i].tenant, tenant) == 0)) {
            return &c->workspaces[i];
        }
    }
    return NULL;
}

size_t config_active_tokens(const config *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_tokens; i++) {
        n += !c->tokens[i].revoked;
    }
    return n;
}

/* The current snapshot. A mutex (not a bare atomic pointer) because taking a reference must be
 * atomic with reading the pointer, or a reload could free the snapshot in between. */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static config *current;

config *config_current(void)
{
    pthread_mutex_lock(&current_lock);
    config *c = current ? config_ref(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return c;
}

void config_set_current(config *c)
{
    pthread_mutex_lock(&current_lock);
    config *old = current;
    current = c;
    pthread_mutex_unlock(&current_lock);
    config_unref(old);
}

/* ---- admin API (issue 5, ADMIN): store workspaces and tenant defaults in a snapshot ---- */

bool config_add_store_workspace(config *c, const char *tenant, const char *id, const char *label,
                                const char *root, bool open_root, char *why, size_t why_len)
{
    if (!apikey_tenant_valid(tenant, strlen(tenant)) || !config_ws_id_ok(id)) {
        snprintf(why, why_len, "'%s' of tenant '%s' is not a valid workspace id", id, tenant);
        return false;
    }
    if (config_workspace(c, tenant, id)) {
        snprintf(why, why_len, "tenant '%s' already has a workspace '%s' (team.json wins)", tenant,
                 id);
        return false;
    }
    char *real = root[0] == '/' ? realpath(root, NULL) : NULL;
    struct stat st;
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, why_len, "root '%s' of workspace '%s' is not a directory: %s", root, id,
                 real ? "not a directory" : strerror(errno));
        free(real);
        return false;
    }
    int fd = -1;
    if (open_root && (fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, why_len, "cannot open root '%s' of workspace '%s': %s", root, id,
                 strerror(errno));
        free(real);
        return false;
    }
    /* config_load allocates n + 1 entries; grow by one (the snapshot is not shared yet) */
    cfg_workspace *grown = xrealloc(c->workspaces, (c->n_workspaces + 2) * sizeof *grown);
    if (!grown) {
        snprintf(why, why_len, "out of memory");
        free(real);
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    c->workspaces = grown;
    cfg_workspace *w = &c->workspaces[c->n_workspaces];
    memset(w, 0, sizeof *w * 2);
    w->id = xstrdup(id);
    w->label = xstrdup(label && *label ? label : id);
    w->root = xstrdup(root);
    w->root_real = xstrdup(real);
    w->root_fd = fd;
    w->tenant = xstrdup(tenant);
    w->from_store = true;
    free(real);
    c->n_workspaces++;
    return true;
}

/* the first index whose id is >= id */
static size_t tenant_pos(const config *c, const char *id)
{
    size_t lo = 0, hi = c->n_tenants;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->tenants[mid].id, id) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

cfg_tenant *config_tenant_entry(config *c, const char *id, bool create)
{
    size_t i = tenant_pos(c, id);
    if (i < c->n_tenants && strcmp(c->tenants[i].id, id) == 0) {
        return &c->tenants[i];
    }
    if (!create) {
        return NULL;
    }
    /* capacity 16, then doubled: a count of 0, or a power of two from 16 on, fills the array */
    size_t n = c->n_tenants;
    if (n == 0 || (n >= 16 && (n & (n - 1)) == 0)) {
        cfg_tenant *grown = xrealloc(c->tenants, (n ? 2 * n : 16) * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        c->tenants = grown;
    }
    char *copy = xstrdup(id);
    if (!copy) {
        return NULL;
    }
    memmove(&c->tenants[i + 1], &c->tenants[i], (n - i) * sizeof *c->tenants);
    c->tenants[i] = (cfg_tenant){.id = copy};
    c->n_tenants++;
    return &c->tenants[i];
}

const cfg_tenant *config_tenant(const config *c, const char *id)
{
    return config_tenant_entry((config *)c, id, false);
}

void config_set_tenant_default(config *c, const char *tenant, const char *ws_id)
{
    cfg_tenant *t = config_tenant_entry(c, tenant, true);
    if (t) {
        xfree(t->default_workspace_id);
        t->default_workspace_id = xstrdup(ws_id);
    }
}

const char *config_tenant_default(const config *c, const char *tenant)
{
    const cfg_tenant *t = config_tenant(c, tenant);
    return t ? t->default_workspace_id : NULL;
}

bool config_tenant_tool_allowed(const config *c, const char *tenant, size_t tool_index)
{
    const cfg_tenant *t = config_tenant(c, tenant);
    return !t || !t->tools_limited || (tool_index < 64 && (t->allowed_tools >> tool_index) & 1);
}

/* a equals b or lies below it at a component boundary */
static bool path_within(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n == 1 && b[0] == '/') {
        return a[0] == '/';
    }
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

bool config_paths_overlap(const char *a, const char *b)
{
    return path_within(a, b) || path_within(b, a);
}

bool config_root_allowed(const config *c, const char *path)
{
    if (c->n_allowed_roots == 0) {
        return true;
    }
    for (size_t i = 0; i < c->n_allowed_roots; i++) {
        if (path_within(path, c->allowed_roots[i])) {
            return true;
        }
    }
    return false;
}

/* config.h - team.json: load, validate, defaults, immutable snapshots.
 *
 * A config is loaded whole and validated whole: config_load reports every problem it finds as a
 * line `field: what is wrong` and returns NULL if there is any, so a bad file is never half
 * applied. A loaded config is an immutable, refcounted snapshot: the server swaps the current
 * snapshot on reload (SIGHUP, inotify) and every request holds the one it started with until it
 * ends. Relative paths in the file are relative to the file's own directory. */
#ifndef CTXD_CONFIG_CONFIG_H
#define CTXD_CONFIG_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scope.h"
#include "core/buf.h"

typedef struct cfg_workspace {
    char *id;
    char *label;
    char *root;      /* as configured, made absolute */
    char *root_real; /* canonical (symlinks resolved) */
    int root_fd;     /* O_PATH|O_DIRECTORY descriptor of root_real, or -1 (check-config) */
    char *tenant;
    bool from_store; /* registered through the admin API (the store), not team.json (ADMIN) */
} cfg_workspace;

typedef struct cfg_token {
    char *id;
    unsigned char sha256[32];
    scope_set scopes;
    char *role; /* may be NULL */
    char *tenant;
    bool revoked;
    char *tier; /* rate tier (LIMITS): NULL = "default"; names a configured tier */
} cfg_token;

/* rate tiers and per-tool costs (LIMITS: parsed and looked up by src/limit/policy.c) */
#define CFG_TIER_NAME_MAX 32
#define CFG_ARTIFACT_GLOBS_MAX 64 /* artifactGlobs (ARTIFACTS) */
typedef struct cfg_tier {
    char name[CFG_TIER_NAME_MAX + 1];
    double rps, burst;               /* each credential's own bucket (refill/s, capacity) */
    double tenant_rps, tenant_burst; /* the bucket its tenant shares (default maxRps/rateBurst) */
} cfg_tier;

typedef struct cfg_tool_cost {
    size_t tool;  /* index in tools.def order (registry_index) */
    char *action; /* NULL: the whole tool */
    int cost;
} cfg_tool_cost;

/* a store tenant's settings (DESIGN §11.12) as the request path needs them: merged into the
   snapshot when the server builds it (serve.c), never read from the store per request */
typedef struct cfg_tenant {
    char *id;
    char *default_workspace_id; /* settings.default_workspace_id, or NULL */
    int max_concurrency;        /* settings.max_concurrency, or 0 */
    bool tools_limited;         /* settings.allowed_tools is set: */
    uint64_t allowed_tools;     /* bit i = tool i of tools.def (registry_index) */
} cfg_tenant;

typedef struct config {
    atomic_int refs;
    uint64_t generation; /* increases with every successful load in this process */
    char *path;          /* absolute path of the file */
    char *dir;           /* its directory */

    /* the seed's fields */
    char *host;
    int port;
    char *default_workspace_id; /* may be NULL */
    char *audit_log_path;
    bool disable_host_check;
    char **allowed_hosts;
    size_t n_allowed_hosts;
    size_t max_body_bytes;
    int max_concurrency;
    double max_rps;
    double rate_burst;
    int64_t request_timeout_ms;
    cfg_workspace *workspaces;
    size_t n_workspaces;
    cfg_token *tokens;
    size_t n_tokens;

    /* ctxd's additions (docs/config.md) */
    char *data_dir;
    double key_rps, key_burst; /* the default rate tier of a credential */
    double ip_rps, ip_burst;   /* unauthenticated traffic, per client IP */
    size_t max_output_bytes;
    size_t max_read_bytes;
    size_t ledger_blob_bytes; /* read ledger blob store per tenant (tools.md §1.7) */
    int64_t search_budget_ms;
    char **secret_deny_list; /* extra patterns, added to the built-in list */
    size_t n_secret_deny;
    char **ignore_globs; /* config `ignore`: gitignore-style lines applied to every workspace */
    size_t n_ignore_globs;
    char *audit_hmac_key_file;
    int64_t audit_sync_ms;
    int worker_threads; /* HTTP connection threads */
    /* the index: files larger than max_index_bytes are recorded, never parsed (DESIGN §11.6);
       index_threads parse workers per build, 0 = one per core */
    size_t max_index_bytes;
    int index_threads;
    bool legacy_rate_limit_headers;
    char *public_url;          /* NULL, or http(s)://host[:port][/path] without a trailing slash */
    int64_t sync_interval_sec; /* serve: git sync of every workspace this often; 0 = off */
    bool watch;                /* serve: inotify watcher per workspace (edits re-indexed) */
    int64_t watch_max_dirs;    /* directories one workspace's watcher may watch */

    /* rate tiers and per-tool costs (LIMITS, src/limit/policy.c): tiers[0] is "default";
       tool_cost[i] is toolCosts["<tool i>"] or -1; tool_costs holds the "tool:action" entries
       sorted by tool */
    cfg_tier *tiers;
    size_t n_tiers;
    int *tool_cost;
    cfg_tool_cost *tool_costs;
    size_t n_tool_costs;
    /* store tenants' settings merged into the snapshot when it is built, sorted by id */
    cfg_tenant *tenants;
    size_t n_tenants;
    /* request log (issue 5): one row per authenticated request, kept this many days */
    bool request_log;
    int request_log_retention_days;
    int event_retention_days; /* EVENTS (issue 6): eventRetentionDays */

    /* admin API (issue 5, ADMIN): allowedRoots (canonical absolute dirs; none = any root) that
       a workspace registered through the API must equal or lie below */
    char **allowed_roots;
    size_t n_allowed_roots;

    /* ARTIFACTS (issue 6): artifactGlobs, the workspace files ctx_artifacts registers (checked
       globs; the default list of tools.md §4.6 when the config has none; [] = none) */
    char **artifact_globs;
    size_t n_artifact_globs;
} config;

typedef struct config_problems {
    buf text; /* one `field: what is wrong` per line */
    int count;
} config_problems;

void config_problems_init(config_problems *p);
void config_problem(config_problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void config_problems_release(config_problems *p);

/* Load and validate. open_roots: open each workspace root (serve) or only check it (check-config).
 * Returns a snapshot with one reference, or NULL with every problem in p. */
config *config_load(const char *path, bool open_roots, config_problems *p);
config *config_ref(config *c);
void config_unref(config *c);

/* a workspace or token id: 1-64 characters of [A-Za-z0-9._-] */
bool config_ws_id_ok(const char *s);
/* the workspace `id` of `tenant` (NULL: of any tenant) */
const cfg_workspace *config_workspace(const config *c, const char *tenant, const char *id);
size_t config_active_tokens(const config *c);

/* ---- admin API (issue 5, ADMIN): store workspaces and tenant defaults in a snapshot ----
 * Called by the server on a snapshot it has just loaded, before anyone else sees it. */
/* append the workspace (tenant, id) at root to c, opened like a configured one (canonical
   root, a directory, an O_PATH descriptor when open_root), marked from_store; false with a
   sentence in why (nothing added) when the root fails or the id is taken for that tenant */
bool config_add_store_workspace(config *c, const char *tenant, const char *id, const char *label,
                                const char *root, bool open_root, char *why, size_t why_len);
/* the settings entry of tenant id in the snapshot: an existing one, or (create) a new zeroed one
   kept in id order; NULL when absent (or out of memory) */
cfg_tenant *config_tenant_entry(config *c, const char *id, bool create);
const cfg_tenant *config_tenant(const config *c, const char *id);
/* record a tenant's settings.default_workspace_id (copied) */
void config_set_tenant_default(config *c, const char *tenant, const char *ws_id);
/* the tenant's default_workspace_id, or NULL */
const char *config_tenant_default(const config *c, const char *tenant);
/* whether the tenant's settings.allowed_tools (if any) admit tool tool_index of tools.def */
bool config_tenant_tool_allowed(const config *c, const char *tenant, size_t tool_index);
/* whether path (canonical, absolute) equals or lies below one of allowedRoots at a
   path-component boundary (/srv/t admits /srv/t/x, not /srv/tenants); true when none is set */
bool config_root_allowed(const config *c, const char *path);
/* path relation at a component boundary: a == b, or one lies below the other */
bool config_paths_overlap(const char *a, const char *b);

/* The current snapshot of the running server (swap on reload). */
config *config_current(void);       /* returns a new reference */
void config_set_current(config *c); /* takes the caller's reference */

#endif

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
} cfg_workspace;

typedef struct cfg_token {
    char *id;
    unsigned char sha256[32];
    scope_set scopes;
    char *role; /* may be NULL */
    char *tenant;
    bool revoked;
} cfg_token;

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

/* the workspace `id` of `tenant` (NULL: of any tenant) */
const cfg_workspace *config_workspace(const config *c, const char *tenant, const char *id);
size_t config_active_tokens(const config *c);

/* The current snapshot of the running server (swap on reload). */
config *config_current(void);       /* returns a new reference */
void config_set_current(config *c); /* takes the caller's reference */

#endif

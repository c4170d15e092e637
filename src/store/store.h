/* store.h - the server's shared state: tenants, API keys, workspaces, request log (DESIGN §8).
 *
 * One interface, one opaque handle: the embedded implementation is SQLite (store_sqlite.c,
 * <dataDir>/ctxd.db); a PostgreSQL one can follow behind the same header, so nothing here names
 * an engine. Invariants every implementation keeps:
 *  - The schema is versioned by numbered migrations (src/store/migrations/NNNN_name.sql),
 *    applied in order at open, each in its own transaction; a store whose schema is newer than
 *    the binary's is refused untouched (ERR_CONFLICT from store_open, why says so).
 *  - The tenant `local` always exists (the first migration creates it) and cannot be deleted.
 *  - Every query of a tenant-owned row (keys, workspaces, log rows) filters by tenant_id: a
 *    function that reads or changes such rows takes the tenant and never reaches another's.
 *  - Nothing is cached across calls: a change committed by another process (the CLI revoking a
 *    key while the server runs) is seen by the next call.
 *  - State a caller asked to change (tenants, keys, workspaces) is committed before the call
 *    returns; `last_used_at` is not: store_key_touch records it in memory and a background
 *    writer commits the batch every STORE_FLUSH_MS, at most once a minute per key.
 * A handle may be used from several threads at once; the callbacks of the list functions run
 * while the store is held and must not call it. Timestamps are RFC 3339 UTC with
 * milliseconds (`2026-11-21T07:41:09.512Z`); request_log.ts is milliseconds since the epoch.
 * Functions that act return `err`: ERR_OK, ERR_NOT_FOUND, ERR_CONFLICT (exists already, or the
 * change is refused: deleting `local`, revoking twice), ERR_INVALID_ARGUMENTS (an id that breaks
 * its rule), ERR_IO (the database failed; the reason is logged). */
#ifndef CTXD_STORE_STORE_H
#define CTXD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/apikey.h"
#include "auth/scope.h"
#include "core/err.h"

typedef struct store store;

#define STORE_NAME_MAX 200
#define STORE_TIER_MAX 32
#define STORE_SETTINGS_MAX 4096
#define STORE_WS_ID_MAX 64
#define STORE_ROOT_MAX 4096
#define STORE_FLUSH_MS 2000
#define STORE_TOUCH_EVERY_MS 60000
#define STORE_LOCAL_TENANT "local"
#define STORE_DEFAULT_TIER "default"

typedef struct store_tenant {
    char id[APIKEY_TENANT_MAX + 1];
    char name[STORE_NAME_MAX + 1];
    char created_at[32];                   /* "" on create: now */
    char settings[STORE_SETTINGS_MAX + 1]; /* a JSON object; "" on create: {} */
    int64_t storage_quota_bytes;           /* -1: no quota */
    int64_t storage_used_bytes;
    char rate_limit_tier[STORE_TIER_MAX + 1]; /* "" on create: STORE_DEFAULT_TIER */
} store_tenant;

typedef struct store_key {
    char key_hash[65]; /* lowercase hex SHA-256 of the whole key */
    char key_prefix[APIKEY_PREFIX_MAX + 1];
    char tenant_id[APIKEY_TENANT_MAX + 1];
    scope_set scopes;
    char rate_limit_tier[STORE_TIER_MAX + 1];
    char created_at[32]; /* "" on create: now */
    char last_used_at[32];
    char revoked_at[32]; /* "" while active */
    bool test;
} store_key;

typedef struct store_workspace {
    char tenant_id[APIKEY_TENANT_MAX + 1];
    char id[STORE_WS_ID_MAX + 1];
    char label[STORE_NAME_MAX + 1];
    char root[STORE_ROOT_MAX + 1];
    char created_at[32];
} store_workspace;

typedef struct store_log_row {
    int64_t ts_ms;
    const char *tenant_id;
    const char *token_id; /* may be NULL */
    const char *tool;     /* may be NULL */
    int64_t duration_ms;
    int status;
    const char *error_message; /* the error_code (DESIGN §8), may be NULL */
} store_log_row;

/* the schema version this binary migrates to */
int store_schema_version(void);

/* Open (creating dataDir 0700 and the database 0600 if needed) and migrate. On failure *out is
 * NULL and why holds a sentence naming the file. */
err store_open(const char *data_dir, store **out, char *why, size_t why_len) WARN_UNUSED;
/* commit pending last_used_at updates, stop the writer, close; NULL is a no-op */
void store_close(store *s);

/* tenants */
err store_tenant_create(store *s, const store_tenant *t) WARN_UNUSED;
err store_tenant_get(store *s, const char *id, store_tenant *out) WARN_UNUSED;
/* calls fn for each tenant in id order; fn returns false to stop */
typedef bool (*store_tenant_fn)(const store_tenant *t, void *ctx);
err store_tenant_list(store *s, store_tenant_fn fn, void *ctx) WARN_UNUSED;
/* removes the tenant with its keys, workspaces and log rows, in one transaction; `local` is
 * refused (ERR_CONFLICT). Files (index directories) are the caller's. */
err store_tenant_delete(store *s, const char *id) WARN_UNUSED;

/* API keys */
/* ERR_NOT_FOUND when the tenant does not exist, ERR_CONFLICT when the hash or prefix is taken */
err store_key_create(store *s, const store_key *k) WARN_UNUSED;
/* the key of tenant_id whose key_hash is hash (revoked or not: the caller decides), only while
 * its tenant exists; ERR_NOT_FOUND otherwise */
err store_key_find(store *s, const char *tenant_id, const char *hash, store_key *out) WARN_UNUSED;
/* the tenant's keys, newest first */
typedef bool (*store_key_fn)(const store_key *k, void *ctx);
err store_key_list(store *s, const char *tenant_id, store_key_fn fn, void *ctx) WARN_UNUSED;
/* ERR_NOT_FOUND for an unknown prefix, ERR_CONFLICT when already revoked */
err store_key_revoke(store *s, const char *tenant_id, const char *prefix) WARN_UNUSED;
/* note a use of the key now; written later in a batch (see above); never blocks on the database */
void store_key_touch(store *s, const char *tenant_id, const char *prefix);
/* write the pending last_used_at updates now (shutdown, tests) */
err store_flush(store *s) WARN_UNUSED;

/* workspaces registered in the store (the admin API's; team.json's stay in the config) */
err store_workspace_add(store *s, const store_workspace *w) WARN_UNUSED;
typedef bool (*store_workspace_fn)(const store_workspace *w, void *ctx);
err store_workspace_list(store *s, const char *tenant_id, store_workspace_fn fn,
                         void *ctx) WARN_UNUSED;

/* request log: rows appended in one transaction; a count of a tenant's rows since since_ms */
err store_log_append(store *s, const store_log_row *rows, size_t n) WARN_UNUSED;
err store_log_count(store *s, const char *tenant_id, int64_t since_ms, int64_t *out) WARN_UNUSED;

/* ---- request log: batched writer, retention pruning, stats (issue 5, LOG) ----
 * The request path never writes the database: store_log_enqueue copies the row into a bounded
 * queue (STORE_LOG_QUEUE_MAX rows) and returns; the store's writer thread commits the queue in
 * one transaction every STORE_FLUSH_MS, or sooner once STORE_LOG_FLUSH_ROWS rows are pending.
 * When the queue is full the oldest pending row is dropped (counted; one warning a minute), so
 * enqueue never blocks. store_flush and store_close commit what is pending. Rows older than the
 * retention (store_set_log_retention; a tenant's settings.request_log_retention_days overrides
 * it) are deleted by the writer in batches of STORE_PRUNE_BATCH rows, each its own
 * transaction (a few per tick, within a time budget), so no write lock is held long. Stats read
 * committed rows: they lag the requests by at most STORE_FLUSH_MS. */
#define STORE_LOG_QUEUE_MAX 65536
#define STORE_LOG_FLUSH_ROWS 1000
#define STORE_PRUNE_BATCH 1000
#define STORE_LOG_TEXT_MAX 96 /* tenant, token, tool, error_message: cut to this on enqueue */
#define STORE_RETENTION_DEFAULT_DAYS 30
#define STORE_RETENTION_MIN_DAYS 1
#define STORE_RETENTION_MAX_DAYS 3650

/* copy the row into the writer's queue; O(1), never blocks on the database; starts the writer */
void store_log_enqueue(store *s, const store_log_row *row);
/* rows dropped so far because the queue was full */
uint64_t store_log_dropped(const store *s);
/* the default retention in days (clamped to STORE_RETENTION_MIN_DAYS..MAX); enables the
 * writer's background pruning; called at start and on reload */
void store_set_log_retention(store *s, int days);
/* one full prune pass (in batches of STORE_PRUNE_BATCH until nothing is left): deletes the rows
 * older than now_ms minus the retention of their tenant (its settings' request_log_retention_days,
 * else default_days); *deleted (may be NULL) receives the number of rows deleted */
err store_log_prune(store *s, int64_t now_ms, int default_days, int64_t *deleted) WARN_UNUSED;

typedef struct store_stats {
    int64_t tenants;    /* 1 for a single tenant */
    int64_t workspaces; /* the store's workspaces (the caller adds team.json's) */
    int64_t requests_24h;
    int64_t rate_limit_hits_24h; /* rows of the last 24 h with status 429 */
    int64_t storage_used_bytes;  /* sum of tenants.storage_used_bytes */
} store_stats;
/* tenant_id NULL: all tenants; ERR_NOT_FOUND for an unknown tenant */
err store_stats_get(store *s, const char *tenant_id, int64_t now_ms, store_stats *out) WARN_UNUSED;

/* ---- admin API: tenant update, workspace get/delete, key lookup by prefix, minting, tenant
 * files (issue 5, ADMIN) ----
 * Engine-specific ones in store_sqlite.c; store_tenant_create_new, store_key_mint and
 * store_tenant_remove_files sit above any engine (store_admin.c), shared by the CLI and the
 * admin API so both create, mint and delete the same way. */

/* replace name, settings, storage_quota_bytes (-1: none) and rate_limit_tier of tenant t->id
   (created_at and storage_used_bytes are kept); ERR_NOT_FOUND for an unknown tenant */
err store_tenant_update(store *s, const store_tenant *t) WARN_UNUSED;
/* the workspace id of tenant_id; ERR_NOT_FOUND when there is none */
err store_workspace_get(store *s, const char *tenant_id, const char *id,
                        store_workspace *out) WARN_UNUSED;
/* remove the workspace id of tenant_id; ERR_NOT_FOUND when there is none */
err store_workspace_delete(store *s, const char *tenant_id, const char *id) WARN_UNUSED;
/* every tenant's workspaces, by tenant then id (the server merges them into its config) */
err store_workspace_list_all(store *s, store_workspace_fn fn, void *ctx) WARN_UNUSED;
/* the key of tenant_id whose key_prefix is prefix (revoked or not); ERR_NOT_FOUND otherwise */
err store_key_find_prefix(store *s, const char *tenant_id, const char *prefix,
                          store_key *out) WARN_UNUSED;

/* create t; when t->id is "" an id of 8 random lowercase hex characters is drawn (again when
   taken) and written back into t->id. ERR_CONFLICT when a given id is taken. */
err store_tenant_create_new(store *s, store_tenant *t) WARN_UNUSED;
/* A new API key for k->tenant_id with k->scopes, k->rate_limit_tier ("" = STORE_DEFAULT_TIER)
   and k->test: drawn from the CSPRNG (again on a prefix collision), stored as its SHA-256; the
   whole key goes to key_out (shown once, never stored or logged) and k is completed (key_hash,
   key_prefix, created_at). ERR_NOT_FOUND when the tenant does not exist. */
err store_key_mint(store *s, store_key *k, char key_out[APIKEY_MAX_LEN + 1]) WARN_UNUSED;
/* the tenant's key_prefix rule: ctxd_(live|test)_<tenant>_<8 Base62>; the tenant goes to
   tenant (APIKEY_TENANT_MAX + 1 bytes) when it holds */
bool store_prefix_tenant(const char *prefix, char *tenant);
/* Remove the files a tenant owns under data_dir (its index databases, <data_dir>/index/<id>/),
   without following symlinks. Nothing there is ERR_OK. ERR_INVALID_ARGUMENTS for an id that
   breaks the tenant rule (so no path can leave data_dir); ERR_IO with why otherwise. */
err store_tenant_remove_files(const char *data_dir, const char *tenant_id, char *why,
                              size_t why_len) WARN_UNUSED;

/* ---- storage quota (issue 5, QUOTA) ----
 * storage_used_bytes is measured by the index (its files on disk, index.h index_tenant_bytes)
 * and written here after every committed build and at serve start. */
/* the tenant's storage_quota_bytes (-1: none) and storage_used_bytes; ERR_NOT_FOUND */
err store_tenant_quota(store *s, const char *id, int64_t *quota, int64_t *used) WARN_UNUSED;
/* set the tenant's storage_used_bytes (negative: 0); ERR_NOT_FOUND for an unknown tenant */
err store_tenant_storage_set(store *s, const char *id, int64_t bytes) WARN_UNUSED;

#endif

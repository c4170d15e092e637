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

#endif

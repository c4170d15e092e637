/* store.h - the index database of one workspace: where it lives, opening it (schema creation,
 * migrations, refusal of a newer schema), the cross-process build lease, the meta table.
 *
 * Internal to src/index/ (and git.c / watch.c): tools reach the database through
 * index_view_open() only. The schema itself is documented in index.h, the contract. */
#ifndef CTXD_INDEX_STORE_H
#define CTXD_INDEX_STORE_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define IX_SCHEMA_VERSION 2

/* the data dir databases live under, fixed at start (index_setup): a reload that changes
 * dataDir takes effect at the next start, as for the rest of the server. NULL: the config's */
void ix_set_data_dir(const char *dir);
/* <dataDir>/index/<tenant>/<workspace>.db into out; false when it does not fit */
bool ix_db_path(const config *c, const cfg_workspace *ws, char *out, size_t cap);
/* <dataDir>/index/<tenant> (the directory of the tenant's databases) into out; false when it
 * does not fit or the tenant is not a plain name */
bool ix_tenant_dir(const config *c, const char *tenant, char *out, size_t cap);

/* Open (creating it and its directories, 0700/0600) the database for writing: WAL,
 * synchronous=NORMAL, foreign keys on, schema created or migrated to IX_SCHEMA_VERSION. A
 * database with a newer schema is refused untouched. NULL with a sentence in why. */
sqlite3 *ix_db_open_rw(const char *path, char *why, size_t why_len);
/* Open an existing database for reading (query_only); NULL when it does not exist or its
 * schema is newer than this binary's (why says which; "" when it simply does not exist). */
sqlite3 *ix_db_open_ro(const char *path, char *why, size_t why_len);

/* The build lease: an exclusive flock on <db>.lock, one build per workspace across processes.
 * wait: block (polling cancel every 100 ms) until it is free. Returns the lock's fd, or -1
 * (busy without wait, cancelled, or an error: why says which). */
int ix_lease_acquire(const char *db_path, bool wait, const atomic_bool *cancel, char *why,
                     size_t why_len);
void ix_lease_release(int fd);

/* meta: key -> value (text); the integer helpers parse/print decimal */
int64_t ix_meta_int(sqlite3 *db, const char *key, int64_t def);
bool ix_meta_text(sqlite3 *db, const char *key, char *out, size_t cap);
bool ix_meta_set_int(sqlite3 *db, const char *key, int64_t v);
bool ix_meta_set_text(sqlite3 *db, const char *key, const char *v);

/* page_count * page_size of the main database */
int64_t ix_storage_bytes(sqlite3 *db);
bool ix_exec(sqlite3 *db, const char *sql);
/* drop / create (if missing) the secondary indexes of symbols, calls and chunks: a first build
 * into an empty index inserts without them and creates them at its end */
bool ix_indexes_drop(sqlite3 *db);
bool ix_indexes_create(sqlite3 *db);

#endif

/* ledger.h - the read ledger: what each caller has been given (tools.md §1.7).
 *
 * Key: (tenant, workspace, channel, tokenId) and a workspace-relative path. For every file
 * delivered by ctx_read (any mode but `reference`), ctx_delta or get_symbol_source the ledger
 * keeps the content hash (SHA-256 hex of the raw file bytes), the time and a delivery count;
 * the delivered content itself goes to a blob store shared by the tenant's callers, keyed by
 * hash (equal versions are held once), bounded by bytes per tenant (config ledgerBlobBytes) with
 * least-recently-used eviction. A baseline whose blob was evicted is still known by hash
 * (`content` NULL), so tools can say "baseline no longer held" rather than "never read".
 *
 * In memory, process-wide, one mutex (every operation is a hash lookup and a few pointer moves;
 * copies of content happen under it, bounded by maxReadBytes). The entry table is bounded too:
 * at most LEDGER_MAX_ENTRIES entries and LEDGER_MAX_META_BYTES of keys, the least recently
 * recorded entry going first. A restart forgets everything, which only costs callers a full
 * read. */
#ifndef CTXD_TOOLS_LEDGER_H
#define CTXD_TOOLS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#define LEDGER_MAX_ENTRIES 262144
#define LEDGER_MAX_META_BYTES ((size_t)64 << 20)

typedef struct ledger_key {
    const char *tenant, *workspace, *channel, *token; /* token NULL: the whole channel (lists) */
} ledger_key;

typedef struct ledger_entry {
    char sha[65];        /* SHA-256 hex of the delivered version */
    int64_t at_ms;       /* unix ms of the last delivery */
    uint64_t reads;      /* deliveries of this path to this caller */
    const char *content; /* that version (in the arena), NULL when the blob store dropped it */
    size_t len;
} ledger_entry;

typedef struct ledger_item {
    const char *path;  /* in the arena */
    const char *token; /* the caller it belongs to (in the arena) */
    char sha[65];
    int64_t at_ms;
    uint64_t reads;
    bool held; /* its content is still in the blob store */
} ledger_item;

/* Record a delivery of relpath at version sha (64 hex) with that version's content (the text
 * served, may be NULL to record the hash only). blob_cap: the tenant's blob store bound in bytes
 * (content larger than it is not kept). false on allocation failure (nothing changed). */
bool ledger_record(const ledger_key *k, const char *relpath, const char *sha, const char *content,
                   size_t len, size_t blob_cap);
/* the caller's last delivery of relpath; false when there is none (or the arena is full) */
bool ledger_get(const ledger_key *k, const char *relpath, arena *a, ledger_entry *e);
/* forget one path (relpath) or all of the caller's baselines (relpath NULL); the count */
size_t ledger_forget(const ledger_key *k, const char *relpath);
/* the caller's entries, or the channel's when k->token is NULL, most recent first; the count,
 * (size_t)-1 when the arena is full */
size_t ledger_list(const ledger_key *k, arena *a, ledger_item **out);
/* bytes the tenant's blob store holds */
size_t ledger_blob_bytes(const char *tenant);
/* forget a deleted tenant's entries and blobs; the number of entries dropped */
size_t ledger_drop_tenant(const char *tenant);
/* drop everything (tests, shutdown) */
void ledger_reset(void);

#endif

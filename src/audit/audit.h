/* audit.h - the JSON Lines audit log (DESIGN §9, http-conventions.md §4).
 *
 * One line per audited request, allowed or denied, in a fixed key order, written with one
 * write(2) on an O_APPEND descriptor when the response is complete; fdatasync at most every
 * auditSyncMs. Never raw arguments or tokens: arguments appear only as argumentsMd5 (MD5 of the
 * RFC 8785 canonical JSON) and argumentsHmac (HMAC-SHA256 of the same bytes with the server's
 * audit key, generated once with mode 0600 when not configured).
 *
 * Fail closed: when a write fails the log enters the "failed" state; audit_ready() then answers
 * false and the server refuses audited requests with 503 audit_unavailable before they run.
 * Each refusal still tries to write its own line (after reopening the path); the first write
 * that succeeds ends the state. */
#ifndef CTXD_AUDIT_AUDIT_H
#define CTXD_AUDIT_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct audit_record {
    int64_t ts_ms;
    const char *request_id;
    const char *token_id;     /* NULL -> null */
    const char *tenant_id;    /* NULL -> null */
    const char *workspace_id; /* NULL -> null */
    const char *tool;         /* NULL -> null */
    const char *method;
    bool allowed;
    const char *denied_reason; /* NULL -> null */
    int status;
    int64_t duration_ms;
    const char *source_ip;
    bool has_args;
    char args_md5[33];
    char args_hmac[65];
    /* a flood summary (flood.h): refusals counted, first and last; count 0 = not a summary */
    long flood_count;
    int64_t flood_first_ms, flood_last_ms;
} audit_record;

/* open the log (creating its directory) and load or create the HMAC key; a sentence in why */
err audit_open(const char *log_path, const char *hmac_key_path, int64_t sync_ms, char *why,
               size_t why_len) WARN_UNUSED;
void audit_close(void);
/* reopen the path (SIGHUP, logrotate); a failure enters the failed state */
void audit_reopen(void);
void audit_set_sync_ms(int64_t sync_ms);
bool audit_ready(void);
/* write one line; false (and the failed state) if it could not be written whole */
bool audit_write(const audit_record *r);
/* fill r->args_md5/args_hmac from the tool arguments (NULL hashes as {}) */
void audit_hash_args(audit_record *r, const json_t *args);
uint64_t audit_write_failures(void);

#endif

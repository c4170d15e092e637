/* session.h - legacy-era MCP sessions (mcp.md §10).
 *
 * A session is minted by `initialize` and bound to the credential that created it and to the
 * negotiated protocol version; a request with the id but another credential is answered as
 * if the session did not exist. Sessions hold no tool state (that lives per workspace and
 * channel), only what the transport needs. Idle sessions expire after 30 minutes; at most 64
 * per credential and 10,000 in all, the least recently used dropped first. */
#ifndef CTXD_MCP_SESSION_H
#define CTXD_MCP_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define SESSION_ID_LEN 43 /* 32 random bytes, base64url without padding */

/* mint a session; false when out of memory or randomness */
bool session_create(const char *token_id, const char *version, char id[SESSION_ID_LEN + 1]);
/* the negotiated version of a live session of this credential (copied to version), or false */
bool session_touch(const char *id, const char *token_id, char version[16]);
/* end a session; false when there is none for this credential */
bool session_delete(const char *id, const char *token_id);
/* live sessions now: created, not deleted, not idle past their expiry (metrics) */
size_t session_count(void);

/* the session's server-to-client GET stream (mcp.md §2): one at a time, a new one replacing
 * (and ending) the old; with last_event_id (may be NULL) the kept messages after it are sent
 * again first. False when the session is unknown. */
typedef struct sse_stream sse_stream;
bool session_attach_stream(const char *id, const char *token_id, sse_stream *s,
                           const char *last_event_id);
/* a message for every session's GET stream, numbered per session (its event id) and kept for
 * replay */
void session_broadcast(const char *msg);

/* in-flight requests of a session, so notifications/cancelled can stop one (mcp.md §10);
 * key: the request id as canonical JSON text */
void session_inflight_add(const char *id, const char *request_key, atomic_bool *cancel);
void session_inflight_remove(const char *id, const char *request_key);
/* set the cancel flag of that request; false when it is not (or no longer) running */
bool session_cancel(const char *id, const char *request_key);

#endif

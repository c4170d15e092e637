/* session.h - what the collaboration tools share (issue 6, SESSIONS; tools.md §4.1-4.4):
 * ctx_session (session.c), ctx_handoff and ctx_share (session_xfer.c), ctx_workflow
 * (session_flow.c).
 *
 * State lives in the store (store.h "shared sessions"): one document per (tenant, workspace,
 * kind, channel) with a revision ("session", "workflow"), and immutable items (snapshots,
 * handoffs, shares). A write reads the document, changes it and writes it back naming the
 * revision it read; when another writer committed meanwhile the store answers a conflict and
 * the write starts over from the new revision (sess_mutate), so no update is lost. Every
 * mutation is committed before the response and emits `session_mutated` (refs: action and
 * revision, never the values; full: the value too). */
#ifndef CTXD_TOOLS_SESSION_H
#define CTXD_TOOLS_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "tools/tool.h"

#define SESS_VALUE_MAX 16384   /* task/finding/decision value, evidence value, knowledge */
#define SESS_MESSAGE_MAX 65536 /* handoff/share message */
#define SESS_SPEC_MAX 16384    /* workflow spec */
#define SESS_LIST_MAX 100      /* findings, decisions kept per session (oldest dropped) */
#define SESS_FILES_MAX 50      /* files in play kept per session */
#define SESS_AGENTS_MAX 64     /* agents remembered per session */
#define SESS_SNAPSHOTS_KEEP 50 /* per channel */
#define SESS_HANDOFFS_KEEP 200 /* per workspace */
#define SESS_SHARES_KEEP 200   /* per channel */
#define SESS_EVIDENCE_MAX 100  /* per workflow */
#define SESS_PATHS_MAX 20      /* paths of one handoff or share (tools.md §1.5) */
#define SESS_RETRIES 200       /* compare-and-set attempts before answering `conflict` */

/* the caller as an actor: team:<tokenId> (arena) */
const char *sess_actor(const tool_call *call);
/* false (with the isError result in out) when the server has no store */
bool sess_ready(const tool_call *call, tool_out *out);
/* a tool error for a store failure (a read's) */
err sess_store_fail(tool_call *call, tool_out *out, err e);
/* the same for a write that would add about `requested` bytes: ERR_QUOTA_EXCEEDED is returned
   for dispatch to answer 507 quota_exceeded with the numbers (tool_quota_refusal) */
err sess_write_fail(tool_call *call, tool_out *out, err e, int64_t requested);
/* "3m" for the time since an RFC 3339 timestamp ("?" when it does not parse) */
void sess_age(const char *rfc3339, char out[16]);
/* emit session_mutated for this call: refs {tool, action, revision}, full adds value (may be NULL)
 */
void sess_emit(const tool_call *call, const char *tool, const char *action, int64_t rev,
               const char *value);
/* a fresh random id: prefix + 12 lowercase hex characters */
void sess_new_id(const char *prefix, char out[STORE_ITEM_ID_MAX + 1]);
/* a string argument, checked for NUL bytes and max bytes; false with out filled (the caller
   returns ERR_INVALID_ARGUMENTS) */
bool sess_str_arg(const tool_call *call, tool_out *out, const char *key, size_t max,
                  const char **v);

/* Change the document (kind, this call's channel): fn edits doc (a JSON object, empty for a new
 * one) and returns ERR_OK to write it, or an error after filling out (nothing is written). The
 * write names the revision read; on a concurrent write the document is read again and fn runs
 * again. *rev_out receives the revision written; *doc_out (may be NULL) the document (new ref). */
typedef err (*sess_edit_fn)(json_t *doc, void *ctx, tool_out *out);
err sess_mutate(tool_call *call, tool_out *out, const char *kind, sess_edit_fn fn, void *ctx,
                int64_t *rev_out, json_t **doc_out);
/* the document of kind on this call's channel as JSON (new ref, an empty object when none) and
   its revision/updated fields; false with out filled on a store error */
bool sess_load(tool_call *call, tool_out *out, const char *kind, json_t **doc, store_doc *meta);

/* append the entries of from ([{text, …}]) that doc[key] does not hold yet (same text), keeping
   the newest SESS_LIST_MAX; returns how many were added */
int sess_merge_entries(json_t *doc, const char *key, const json_t *from);
/* append the paths of from (strings, or objects with "path") that doc.files lacks, keeping the
   newest SESS_FILES_MAX; returns how many were added */
int sess_merge_files(json_t *doc, const json_t *from);
/* imported entries ([string | {text, by?, …}], ≤ SESS_LIST_MAX) restamped: by = actor, at =
   now, a claimed different author kept as importedFrom; NULL when src is not such an array */
json_t *sess_import_entries(const json_t *src, const char *actor, const char *now);

/* file references for handoffs and shares: [{path, sha, lines}] of paths (a comma-separated
   string or an array, ≤ SESS_PATHS_MAX; more: false with the message in out and out->is_error
   unset, for ERR_INVALID_ARGUMENTS),
   each opened under the workspace root like ctx_read; false with out filled on a path error */
bool sess_file_refs(tool_call *call, tool_out *out, const json_t *paths, json_t **refs);
/* the sha256 hex of a workspace file now, or "" when it cannot be read */
void sess_file_sha(tool_call *call, const char *rel, char out[65]);

#endif

/* rewrite.h - changing team.json on disk: token create/revoke, zero-config creation.
 *
 * Every change is a read-modify-write of the whole file made under an exclusive flock on
 * `<config>.lock` (so two concurrent `token` commands cannot lose each other's change), written
 * to a temporary file in the same directory, fsynced, renamed over the original, and followed
 * by an fsync of the directory. Fields this version does not know are kept as they were. */
#ifndef CTXD_CONFIG_REWRITE_H
#define CTXD_CONFIG_REWRITE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"

/* the edit callback changes doc in place; return false (with a sentence in why) to abort */
typedef bool (*config_edit_fn)(json_t *doc, void *ctx, char *why, size_t why_len);

/* apply edit to the file at path under the lock; create: start from {} if the file is absent */
err config_rewrite(const char *path, bool create, config_edit_fn edit, void *ctx, char *why,
                   size_t why_len) WARN_UNUSED;

/* write doc to path atomically (temp + fsync + rename + fsync dir); mode of a new file 0600 */
err config_write_atomic(const char *path, const json_t *doc, char *why, size_t why_len) WARN_UNUSED;

#endif

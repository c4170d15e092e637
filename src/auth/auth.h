/* auth.h - who is calling: credentials to principals.
 *
 * A credential comes from `Authorization: Bearer <t>` (scheme case-insensitive) or
 * `X-API-Key: <t>`; a request carrying both must carry the same credential in both. Two kinds
 * (http-conventions.md §2):
 *  - A config token is 64 hex characters; its SHA-256 is compared with every configured token's
 *    digest in constant time, and the loop never exits early, so timing tells nothing about
 *    which token (or how much of one) matched. Revoked tokens fail like unknown ones.
 *  - An API key `ctxd_live_<tenant>_<random>_<checksum>` (or ctxd_test_, the same) is checked in
 *    the order of §2.3: shape, then checksum (a failure touches no database), then the row whose
 *    key_hash is the key's SHA-256 within the key's tenant (digests compared in constant time),
 *    whose tenant must exist and which must not be revoked; then its scopes. The row is read on
 *    every request (no cache), so a revocation by the CLI holds on the next one. A use is noted
 *    for last_used_at without a write on the request path (store_key_touch).
 * Every failure is the same AUTH_INVALID: no oracle for what was wrong. */
#ifndef CTXD_AUTH_AUTH_H
#define CTXD_AUTH_AUTH_H

#include <stdbool.h>

#include "auth/scope.h"
#include "config/config.h"
#include "core/arena.h"
#include "store/store.h"

typedef struct principal {
    /* a config token's id (in the config snapshot the request holds), or an API key's
       key_prefix (in the request's arena): both live as long as the request */
    const char *token_id;
    const char *tenant_id;
    scope_set scopes;
    /* the credential's rate tier (a config token's `tier`, an API key's rate_limit_tier), same
       lifetime as token_id; "default" when it has none. Whether the tier is configured is the
       limiter's question (limit_tier_for): a key may name one a reload has removed. */
    const char *tier;
} principal;

typedef enum {
    AUTH_OK,
    AUTH_MISSING,  /* no credential */
    AUTH_INVALID,  /* malformed, unknown or revoked: one answer, no oracle */
    AUTH_CONFLICT, /* Authorization and X-API-Key disagree */
} auth_result;

/* authorization / x_api_key: the header values or NULL. st: the store API keys are looked up
 * in (NULL: API keys are refused); ar: where a key's principal strings are copied. */
auth_result auth_authenticate(const config *c, store *st, arena *ar, const char *authorization,
                              const char *x_api_key, principal *out);

#endif

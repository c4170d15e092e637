/* auth.h - who is calling: credentials to principals.
 *
 * A credential comes from `Authorization: Bearer <t>` (scheme case-insensitive) or
 * `X-API-Key: <t>`; a request carrying both must carry the same credential in both. A config
 * token is 64 hex characters; its SHA-256 is compared with every configured token's digest in
 * constant time, and the loop never exits early, so timing tells nothing about which token (or
 * how much of one) matched. Revoked tokens fail like unknown ones. */
#ifndef CTXD_AUTH_AUTH_H
#define CTXD_AUTH_AUTH_H

#include <stdbool.h>

#include "auth/scope.h"
#include "config/config.h"

typedef struct principal {
    const char *token_id; /* points into the config snapshot */
    const char *tenant_id;
    scope_set scopes;
} principal;

typedef enum {
    AUTH_OK,
    AUTH_MISSING,  /* no credential */
    AUTH_INVALID,  /* malformed, unknown or revoked: one answer, no oracle */
    AUTH_CONFLICT, /* Authorization and X-API-Key disagree */
} auth_result;

/* authorization / x_api_key: the header values or NULL */
auth_result auth_authenticate(const config *c, const char *authorization, const char *x_api_key,
                              principal *out);

#endif

/* auth.c - credential checks (see auth.h). */
#include "auth/auth.h"

#include <string.h>
#include <strings.h>

#include "core/crypto.h"

static const char *bearer(const char *h)
{
    if (!h) {
        return NULL;
    }
    while (*h == ' ') {
        h++;
    }
    if (strncasecmp(h, "bearer ", 7) != 0) {
        return "";
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return h;
}

static bool is_hex64(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++) {
        char c = t[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return n == 64;
}

auth_result auth_authenticate(const config *c, const char *authorization, const char *x_api_key,
                              principal *out)
{
    const char *a = bearer(authorization);
    const char *k = x_api_key;
    if (a && k) {
        size_t la = strcspn(a, " \t"), lk = strcspn(k, " \t");
        if (la != lk || !crypto_equal(a, k, la)) {
            return AUTH_CONFLICT;
        }
    }
    const char *tok = a ? a : k;
    if (!tok) {
        return AUTH_MISSING;
    }
    char t[65];
    size_t n = strcspn(tok, " \t\r\n");
    if (n != 64 || tok[n] != '\0') {
        return AUTH_INVALID;
    }
    memcpy(t, tok, 64);
    t[64] = '\0';
    if (!is_hex64(t)) {
        return AUTH_INVALID;
    }
    /* tokens are printed lowercase; accept the same token typed in uppercase */
    for (int i = 0; i < 64; i++) {
        if (t[i] >= 'A' && t[i] <= 'F') {
            t[i] = (char)(t[i] - 'A' + 'a');
        }
    }
    unsigned char digest[32];
    crypto_sha256(t, 64, digest);
    const cfg_token *hit = NULL;
    for (size_t i = 0; i < c->n_tokens; i++) {
        bool eq = crypto_equal(digest, c->tokens[i].sha256, 32);
        /* no early exit and no branch on secrets beyond selecting the hit */
        if (eq && !c->tokens[i].revoked) {
            hit = &c->tokens[i];
        }
    }
    if (!hit) {
        return AUTH_INVALID;
    }
    out->token_id = hit->id;
    out->tenant_id = hit->tenant;
    out->scopes = hit->scopes;
    return AUTH_OK;
}

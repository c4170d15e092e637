/* auth.c - credential checks (see auth.h). */
#include "auth/auth.h"

#include <string.h>
#include <strings.h>

#include "auth/apikey.h"
#include "core/crypto.h"
#include "core/log.h"

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

/* an API key of n characters (§2.3's order; see auth.h) */
static auth_result api_key(store *st, arena *a, const char *tok, size_t n, principal *out)
{
    apikey k;
    if (!st || !apikey_parse(tok, n, &k)) {
        return AUTH_INVALID; /* shape or checksum: no database access */
    }
    char hash[65];
    apikey_hash_hex(tok, n, hash);
    store_key row;
    err e = store_key_find(st, k.tenant, hash, &row);
    if (e != ERR_OK) {
        if (e != ERR_NOT_FOUND) {
            log_warn("api key lookup failed (%s); the request is refused", err_code(e));
        }
        return AUTH_INVALID;
    }
    /* the index found the row by its hash; the decision compares the digests in constant time */
    bool ok = strlen(row.key_hash) == 64 && crypto_equal(row.key_hash, hash, 64);
    ok = ok && strcmp(row.tenant_id, k.tenant) == 0 && strcmp(row.key_prefix, k.prefix) == 0;
    ok = ok && row.revoked_at[0] == '\0';
    if (!ok) {
        return AUTH_INVALID;
    }
    char *id = arena_strdup(a, row.key_prefix);
    char *tenant = arena_strdup(a, row.tenant_id);
    char *tier = arena_strdup(a, row.rate_limit_tier[0] ? row.rate_limit_tier : "default");
    if (!id || !tenant || !tier) {
        return AUTH_INVALID;
    }
    out->token_id = id;
    out->tenant_id = tenant;
    out->tier = tier;
    out->scopes = row.scopes;
    store_key_touch(st, row.tenant_id, row.key_prefix);
    return AUTH_OK;
}

auth_result auth_authenticate(const config *c, store *st, arena *ar, const char *authorization,
                              const char *x_api_key, principal *out)
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
    if (tok[n] != '\0') {
        return AUTH_INVALID;
    }
    if (apikey_looks_like(tok, n)) {
        return api_key(st, ar, tok, n, out);
    }
    if (n != 64) {
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
    out->tier = hit->tier ? hit->tier : "default";
    return AUTH_OK;
}

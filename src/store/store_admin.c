/* store_admin.c - store operations that sit above any engine (store.h, the ADMIN block):
 * creating a tenant with a generated id, minting an API key, the key_prefix rule, and removing
 * a tenant's files under the data dir.
 *
 * The CLI (`ctxd tenant`, `ctxd keys`) and the admin API call these, so a tenant or key made
 * either way is made the same way: ids and keys come from the CSPRNG and are drawn again when
 * taken; a key's plaintext leaves only through key_out (the store keeps its SHA-256). File
 * removal takes the tenant id through the tenant rule first ([a-z0-9][a-z0-9-]{0,31}: no '/',
 * no '..'), so the path it removes is always <data_dir>/index/<id>, and walks it without
 * following symlinks (a link planted there is removed, never its target). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "store/store.h"

err store_tenant_create_new(store *s, store_tenant *t)
{
    bool generate = t->id[0] == '\0';
    err e = ERR_CONFLICT;
    /* a generated id that happens to be taken is drawn again */
    for (int attempt = 0; e == ERR_CONFLICT && attempt < (generate ? 8 : 1); attempt++) {
        if (generate && !crypto_random_hex(4, t->id)) {
            return ERR_INTERNAL;
        }
        e = store_tenant_create(s, t);
    }
    if (e == ERR_OK && !t->created_at[0]) {
        store_tenant back;
        if (store_tenant_get(s, t->id, &back) == ERR_OK) {
            *t = back;
        }
    }
    return e;
}

err store_key_mint(store *s, store_key *k, char key_out[APIKEY_MAX_LEN + 1])
{
    if (!apikey_tenant_valid(k->tenant_id, strlen(k->tenant_id))) {
        return ERR_INVALID_ARGUMENTS;
    }
    if (!k->rate_limit_tier[0]) {
        snprintf(k->rate_limit_tier, sizeof k->rate_limit_tier, "%s", STORE_DEFAULT_TIER);
    }
    err e = ERR_CONFLICT;
    /* a prefix collision (62^8 per tenant) is drawn again */
    for (int attempt = 0; e == ERR_CONFLICT && attempt < 4; attempt++) {
        apikey parsed;
        if (!apikey_generate(k->tenant_id, k->test, key_out) ||
            !apikey_parse(key_out, strlen(key_out), &parsed)) {
            e = ERR_INTERNAL;
            break;
        }
        snprintf(k->key_prefix, sizeof k->key_prefix, "%s", parsed.prefix);
        apikey_hash_hex(key_out, strlen(key_out), k->key_hash);
        e = store_key_create(s, k);
    }
    if (e != ERR_OK) {
        /* the plaintext of a key that was not stored must not linger */
        memset(key_out, 0, APIKEY_MAX_LEN + 1);
        return e;
    }
    store_key back;
    if (store_key_find(s, k->tenant_id, k->key_hash, &back) == ERR_OK) {
        *k = back;
    }
    return ERR_OK;
}

bool store_prefix_tenant(const char *prefix, char *tenant)
{
    size_t n = strlen(prefix);
    if (!apikey_looks_like(prefix, n) || n < APIKEY_KIND_LEN + 2 + APIKEY_PREFIX_RANDOM ||
        n > APIKEY_PREFIX_MAX) {
        return false;
    }
    size_t tl = n - APIKEY_KIND_LEN - 1 - APIKEY_PREFIX_RANDOM;
    if (prefix[APIKEY_KIND_LEN + tl] != '_' || !apikey_tenant_valid(prefix + APIKEY_KIND_LEN, tl)) {
        return false;
    }
    for (size_t i = n - APIKEY_PREFIX_RANDOM; i < n; i++) {
        char c = prefix[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
            return false;
        }
    }
    memcpy(tenant, prefix + APIKEY_KIND_LEN, tl);
    tenant[tl] = '\0';
    return true;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

err store_tenant_remove_files(const char *data_dir, const char *tenant_id, char *why,
                              size_t why_len)
{
    if (!apikey_tenant_valid(tenant_id, strlen(tenant_id))) {
        snprintf(why, why_len, "'%s' is not a tenant id", tenant_id);
        return ERR_INVALID_ARGUMENTS;
    }
    char dir[4200];
    if (snprintf(dir, sizeof dir, "%s/index/%s", data_dir, tenant_id) >= (int)sizeof dir) {
        snprintf(why, why_len, "data dir path too long");
        return ERR_INVALID_ARGUMENTS;
    }
    struct stat sb;
    if (lstat(dir, &sb) != 0) {
        if (errno == ENOENT) {
            return ERR_OK;
        }
        snprintf(why, why_len, "cannot read '%s': %s", dir, strerror(errno));
        return ERR_IO;
    }
    int rc = S_ISDIR(sb.st_mode) ? nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) : unlink(dir);
    if (rc != 0) {
        snprintf(why, why_len, "cannot remove '%s': %s", dir, strerror(errno));
        return ERR_IO;
    }
    return ERR_OK;
}

/* apikey.c - API key format (see apikey.h). */
#include "auth/apikey.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/crypto.h"

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool apikey_tenant_valid(const char *id, size_t len)
{
    if (len == 0 || len > APIKEY_TENANT_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool apikey_looks_like(const char *t, size_t len)
{
    return len >= APIKEY_KIND_LEN && (memcmp(t, "ctxd_live_", APIKEY_KIND_LEN) == 0 ||
                                      memcmp(t, "ctxd_test_", APIKEY_KIND_LEN) == 0);
}

uint32_t apikey_crc32(const void *data, size_t n)
{
    /* zlib's crc32() takes a uInt length: feed it in pieces (keys are short; this is for
       completeness) */
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (n > 0) {
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = crc32(crc, p, step);
        p += step;
        n -= step;
    }
    return (uint32_t)crc;
}

void apikey_base62_6(uint32_t v, char out[APIKEY_CHECK_LEN + 1])
{
    for (int i = APIKEY_CHECK_LEN - 1; i >= 0; i--) {
        out[i] = base62[v % 62];
        v /= 62;
    }
    out[APIKEY_CHECK_LEN] = '\0';
}

bool apikey_parse(const char *key, size_t len, apikey *out)
{
    /* split from the right: _<6 checksum>, _<30 random>, the rest after the kind is the tenant */
    const size_t tail = 1 + APIKEY_RANDOM_LEN + 1 + APIKEY_CHECK_LEN;
    if (!apikey_looks_like(key, len) || len < APIKEY_KIND_LEN + 1 + tail || len > APIKEY_MAX_LEN) {
        return false;
    }
    size_t tenant_len = len - APIKEY_KIND_LEN - tail;
    const char *tenant = key + APIKEY_KIND_LEN;
    const char *random = tenant + tenant_len + 1;
    const char *check = random + APIKEY_RANDOM_LEN + 1;
    if (tenant[tenant_len] != '_' || random[APIKEY_RANDOM_LEN] != '_' ||
        !apikey_tenant_valid(tenant, tenant_len)) {
        return false;
    }
    for (size_t i = 0; i < APIKEY_RANDOM_LEN; i++) {
        if (!is_base62(random[i])) {
            return false;
        }
    }
    char want[APIKEY_CHECK_LEN + 1];
    apikey_base62_6(apikey_crc32(key, (size_t)(check - 1 - key)), want);
    /* the checksum is not a secret (it is computed from the key itself): a plain compare */
    if (memcmp(want, check, APIKEY_CHECK_LEN) != 0) {
        return false;
    }
    out->test = key[5] == 't';
    memcpy(out->tenant, tenant, tenant_len);
    out->tenant[tenant_len] = '\0';
    size_t plen = (size_t)(random - key) + APIKEY_PREFIX_RANDOM;
    memcpy(out->prefix, key, plen);
    out->prefix[plen] = '\0';
    return true;
}

bool apikey_generate(const char *tenant, bool test, char out[APIKEY_MAX_LEN + 1])
{
    size_t tl = strlen(tenant);
    if (!apikey_tenant_valid(tenant, tl)) {
        return false;
    }
    /* the kind, the tenant and a `_`: fits, since the tenant is at most APIKEY_TENANT_MAX */
    char *p =
        out + snprintf(out, APIKEY_MAX_LEN + 1, "ctxd_%s_%s_", test ? "test" : "live", tenant);
    /* rejection sampling: 248 = 4 * 62, so `byte mod 62` over [0, 248) is uniform */
    size_t have = 0;
    while (have < APIKEY_RANDOM_LEN) {
        unsigned char pool[64];
        if (!crypto_random(pool, sizeof pool)) {
            return false;
        }
        for (size_t i = 0; i < sizeof pool && have < APIKEY_RANDOM_LEN; i++) {
            if (pool[i] < 248) {
                p[have++] = base62[pool[i] % 62];
            }
        }
    }
    p += APIKEY_RANDOM_LEN;
    uint32_t crc = apikey_crc32(out, (size_t)(p - out));
    *p++ = '_';
    apikey_base62_6(crc, p);
    return true;
}

void apikey_hash_hex(const char *key, size_t len, char out[65])
{
    crypto_sha256_hex(key, len, out);
}

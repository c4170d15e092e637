/* apikey.h - the format of store-backed API keys (http-conventions.md §2.3): generation,
 * parsing, checksum, display prefix and digest. Pure functions over strings: no store, no I/O
 * beyond the CSPRNG.
 *
 *   ctxd_live_<tenant>_<random>_<checksum>      (or ctxd_test_...: the kind is only a label)
 *
 * tenant: [a-z0-9][a-z0-9-]{0,31} (no `_`, so a key splits unambiguously from the right);
 * random: 30 Base62 characters drawn by rejection sampling; checksum: the zlib CRC-32 of
 * everything before `_<checksum>`, as 6 Base62 digits, most significant first, left-padded
 * with `0`. A key is 48 + len(tenant) characters. The checksum catches every single-character
 * typo and every swap of adjacent characters, so a mistyped key is refused without a lookup.
 *
 * key_prefix = kind prefix + tenant + `_` + the first 8 random characters: it names a key in
 * listings, revocations and the audit log, and is useless as a credential. */
#ifndef CTXD_AUTH_APIKEY_H
#define CTXD_AUTH_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APIKEY_KIND_LEN 10 /* "ctxd_live_" */
#define APIKEY_TENANT_MAX 32
#define APIKEY_RANDOM_LEN 30
#define APIKEY_CHECK_LEN 6
#define APIKEY_PREFIX_RANDOM 8
/* 48 + the longest tenant */
#define APIKEY_MAX_LEN (APIKEY_KIND_LEN + APIKEY_TENANT_MAX + 1 + APIKEY_RANDOM_LEN + 1 + 6)
#define APIKEY_PREFIX_MAX (APIKEY_KIND_LEN + APIKEY_TENANT_MAX + 1 + APIKEY_PREFIX_RANDOM)

typedef struct apikey {
    bool test;                          /* ctxd_test_ */
    char tenant[APIKEY_TENANT_MAX + 1]; /* NUL-terminated */
    char prefix[APIKEY_PREFIX_MAX + 1]; /* the display and revocation id */
} apikey;

/* the tenant id rule shared by keys, the store and the CLI: [a-z0-9][a-z0-9-]{0,31} */
bool apikey_tenant_valid(const char *id, size_t len);
/* true when t starts like an API key (ctxd_live_ / ctxd_test_), whatever follows */
bool apikey_looks_like(const char *t, size_t len);
/* the zlib / IEEE 802.3 CRC-32 of n bytes */
uint32_t apikey_crc32(const void *data, size_t n);
/* v as 6 Base62 digits, most significant first, zero-padded; out[6] = NUL */
void apikey_base62_6(uint32_t v, char out[APIKEY_CHECK_LEN + 1]);

/* Shape and checksum of key[0..len): true and out filled when both hold. Nothing is looked up:
 * a false here is answered like an unknown key. */
bool apikey_parse(const char *key, size_t len, apikey *out);

/* A new key for tenant (which must be valid): random part from the CSPRNG. False when the
 * tenant is invalid or no randomness is available. out holds APIKEY_MAX_LEN + 1 bytes. */
bool apikey_generate(const char *tenant, bool test, char out[APIKEY_MAX_LEN + 1]);

/* lowercase hex SHA-256 of the whole key string: what api_keys.key_hash holds */
void apikey_hash_hex(const char *key, size_t len, char out[65]);

#endif

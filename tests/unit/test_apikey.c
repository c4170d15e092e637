/* test_apikey.c - the API key format of http-conventions.md §2.3: the worked example to the
 * byte, CRC-32 and Base62, generation, and what the checksum must catch (every single-character
 * typo and every swap of adjacent characters) and what the shape must refuse; then
 * auth_authenticate with a key against a real store. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/auth.h"
#include "store/store.h"

TestSuite(apikey, .timeout = 20);

static const char example[] = "ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4_3QqKlg";
static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

Test(apikey, crc32_is_the_zlib_variant)
{
    cr_assert_eq(apikey_crc32("123456789", 9), 0xCBF43926u);
    cr_assert_eq(apikey_crc32("", 0), 0u);
}

Test(apikey, base62_six_digits_most_significant_first)
{
    char out[7];
    apikey_base62_6(0, out);
    cr_assert_str_eq(out, "000000");
    apikey_base62_6(61, out);
    cr_assert_str_eq(out, "00000z");
    apikey_base62_6(62, out);
    cr_assert_str_eq(out, "000010");
    apikey_base62_6(0xFFFFFFFFu, out);
    cr_assert_str_eq(out, "4gfFC3");
}

Test(apikey, worked_example)
{
    const char *body = "ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4";
    uint32_t crc = apikey_crc32(body, strlen(body));
    cr_assert_eq(crc, 0xBB75BF7Cu, "crc %08x", crc);
    cr_assert_eq(crc, 3145056124u);
    char check[7];
    apikey_base62_6(crc, check);
    cr_assert_str_eq(check, "3QqKlg");
    cr_assert_eq(strlen(example), 52);
    apikey k;
    cr_assert(apikey_parse(example, strlen(example), &k));
    cr_assert_str_eq(k.tenant, "acme");
    cr_assert_str_eq(k.prefix, "ctxd_live_acme_yXBHMoc5");
    cr_assert_not(k.test);
    char hash[65];
    apikey_hash_hex(example, strlen(example), hash);
    cr_assert_str_eq(hash, "beb19be1d9c653902dcb46c6c70a00d0e4487e75e227bd05ed48966fa865eee4");

    /* the example's own counter-example: last random character changed to '5' */
    char typo[sizeof example];
    memcpy(typo, example, sizeof example);
    typo[44] = '5';
    cr_assert_eq(apikey_crc32(typo, 45), 3430060010u);
    cr_assert_not(apikey_parse(typo, strlen(typo), &k));
}

Test(apikey, every_single_character_typo_is_rejected)
{
    size_t n = strlen(example);
    char key[sizeof example];
    static const char extra[] = "_-.+/ ";
    int tried = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof alphabet - 1 + sizeof extra - 1; j++) {
            char c = j < sizeof alphabet - 1 ? alphabet[j] : extra[j - (sizeof alphabet - 1)];
            if (c == example[i]) {
                continue;
            }
            memcpy(key, example, sizeof example);
            key[i] = c;
            apikey k;
            cr_assert_not(apikey_parse(key, n, &k), "typo at %zu ('%c') accepted: %s", i, c, key);
            tried++;
        }
    }
    cr_assert_gt(tried, 3000);
}

Test(apikey, every_adjacent_swap_is_rejected)
{
    size_t n = strlen(example);
    char key[sizeof example];
    for (size_t i = 0; i + 1 < n; i++) {
        if (example[i] == example[i + 1]) {
            continue;
        }
        memcpy(key, example, sizeof example);
        key[i] = example[i + 1];
        key[i + 1] = example[i];
        apikey k;
        cr_assert_not(apikey_parse(key, n, &k), "swap at %zu accepted: %s", i, key);
    }
}

/* a key with a correct checksum over whatever body is given: only the shape can refuse it */
static void with_checksum(const char *body, char *out, size_t cap)
{
    char check[7];
    apikey_base62_6(apikey_crc32(body, strlen(body)), check);
    snprintf(out, cap, "%s_%s", body, check);
}

Test(apikey, shape_is_checked_even_with_a_valid_checksum)
{
    char key[256];
    apikey k;
    const char *bad[] = {
        "ctxd_live_Acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4",  /* uppercase tenant */
        "ctxd_live_ac_me_yXBHMoc5L40zBANMAAcNPMMcv7FQw4", /* '_' in the tenant */
        "ctxd_live_-acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4", /* leading '-' */
        "ctxd_live__yXBHMoc5L40zBANMAAcNPMMcv7FQw4",      /* empty tenant */
        "ctxd_live_ac.me_yXBHMoc5L40zBANMAAcNPMMcv7FQw4", /* '.' */
        "ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw",   /* 29 random */
        "ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4x", /* 31 random */
        "ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQ-4",  /* '-' in random */
        "ctxd_prod_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4",  /* unknown kind */
        "ctxd_live_0123456789abcdef0123456789abcdefg_yXBHMoc5L40zBANMAAcNPMMcv7FQw4", /* 33 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        with_checksum(bad[i], key, sizeof key);
        cr_assert_not(apikey_parse(key, strlen(key), &k), "accepted: %s", key);
    }
    /* the same construction with a good body is accepted: the checks above are the shape's */
    with_checksum("ctxd_test_0123456789abcdef0123456789abcdef_yXBHMoc5L40zBANMAAcNPMMcv7FQw4", key,
                  sizeof key);
    cr_assert(apikey_parse(key, strlen(key), &k), "%s", key);
    cr_assert(k.test);
    cr_assert_str_eq(k.tenant, "0123456789abcdef0123456789abcdef");
    cr_assert_eq(strlen(key), 48 + 32);
    /* a bad checksum digit */
    cr_assert_not(apikey_parse("ctxd_live_acme_yXBHMoc5L40zBANMAAcNPMMcv7FQw4_3QqKl!", 52, &k));
    cr_assert_not(apikey_parse("", 0, &k));
    cr_assert_not(apikey_parse("ctxd_live_", 10, &k));
}

Test(apikey, tenant_ids)
{
    const char *good[] = {"a", "acme", "0", "a-b", "team-42", "0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_assert(apikey_tenant_valid(good[i], strlen(good[i])), "%s", good[i]);
    }
    const char *bad[] = {"",
                         "Acme",
                         "a_b",
                         "-a",
                         "a.b",
                         "a b",
                         "a/b",
                         "\xc3\xa4",
                         "a\n",
                         "a;rm",
                         "..",
                         "a%2",
                         "0123456789abcdef0123456789abcdefg"};
    char key[APIKEY_MAX_LEN + 1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(apikey_tenant_valid(bad[i], strlen(bad[i])), "'%s'", bad[i]);
        cr_assert_not(apikey_generate(bad[i], false, key), "'%s'", bad[i]);
    }
}

Test(apikey, generated_keys_parse_and_differ)
{
    char prev[APIKEY_MAX_LEN + 1] = "";
    int counts[128] = {0};
    for (int i = 0; i < 200; i++) {
        char key[APIKEY_MAX_LEN + 1];
        cr_assert(apikey_generate("team-7", i % 2 == 1, key));
        cr_assert_eq(strlen(key), 48 + 6, "%s", key);
        cr_assert_eq(strncmp(key, i % 2 ? "ctxd_test_team-7_" : "ctxd_live_team-7_", 17), 0);
        apikey k;
        cr_assert(apikey_parse(key, strlen(key), &k), "%s", key);
        cr_assert_str_eq(k.tenant, "team-7");
        cr_assert_eq(strncmp(k.prefix, key, strlen(k.prefix)), 0);
        cr_assert_eq(strlen(k.prefix), 17 + 8);
        cr_assert_str_neq(key, prev);
        for (int j = 17; j < 47; j++) {
            cr_assert(strchr(alphabet, key[j]), "%s", key);
            counts[(unsigned char)key[j]]++;
        }
        memcpy(prev, key, sizeof prev);
    }
    /* 6000 draws over 62 symbols: each appears (expected ~97 times each) */
    for (size_t j = 0; j < sizeof alphabet - 1; j++) {
        cr_assert_gt(counts[(unsigned char)alphabet[j]], 30, "'%c'", alphabet[j]);
    }
}

Test(apikey, looks_like)
{
    cr_assert(apikey_looks_like("ctxd_live_x", 11));
    cr_assert(apikey_looks_like("ctxd_test_", 10));
    cr_assert_not(apikey_looks_like("ctxd_live", 9));
    cr_assert_not(
        apikey_looks_like("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 64));
}

/* auth_authenticate with a key: the order of §2.3 against a real store */
static char auth_dir[64];

static void auth_init(void)
{
    snprintf(auth_dir, sizeof auth_dir, "/tmp/ctxd-apikey-XXXXXX");
    cr_assert_not_null(mkdtemp(auth_dir));
}

static void auth_fini(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", auth_dir);
    if (system(cmd) != 0) {
        abort();
    }
}

Test(apikey, authenticate_in_the_order_of_the_conventions, .init = auth_init, .fini = auth_fini)
{
    store *st = NULL;
    char why[512];
    cr_assert_eq(store_open(auth_dir, &st, why, sizeof why), ERR_OK, "%s", why);
    store_tenant t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "acme");
    t.storage_quota_bytes = -1;
    cr_assert_eq(store_tenant_create(st, &t), ERR_OK);
    char key[APIKEY_MAX_LEN + 1];
    apikey k;
    cr_assert(apikey_generate("acme", false, key));
    cr_assert(apikey_parse(key, strlen(key), &k));
    store_key row;
    memset(&row, 0, sizeof row);
    apikey_hash_hex(key, strlen(key), row.key_hash);
    snprintf(row.key_prefix, sizeof row.key_prefix, "%s", k.prefix);
    snprintf(row.tenant_id, sizeof row.tenant_id, "acme");
    row.scopes = SCOPE_SEARCH;
    cr_assert_eq(store_key_create(st, &row), ERR_OK);

    config c;
    memset(&c, 0, sizeof c);
    arena a;
    arena_init(&a, 0);
    principal who;
    char bearer[128];
    snprintf(bearer, sizeof bearer, "Bearer %s", key);
    cr_assert_eq(auth_authenticate(&c, st, &a, bearer, NULL, &who), AUTH_OK);
    cr_assert_str_eq(who.token_id, k.prefix);
    cr_assert_str_eq(who.tenant_id, "acme");
    cr_assert_eq(who.scopes, SCOPE_SEARCH);
    cr_assert_eq(auth_authenticate(&c, st, &a, NULL, key, &who), AUTH_OK, "X-API-Key");
    cr_assert_eq(auth_authenticate(&c, st, &a, bearer, key, &who), AUTH_OK, "both, equal");
    cr_assert_eq(auth_authenticate(&c, NULL, &a, bearer, NULL, &who), AUTH_INVALID, "no store");

    /* a checksum failure never reaches the store: an unusable handle shows it */
    char typo[APIKEY_MAX_LEN + 1];
    snprintf(typo, sizeof typo, "%s", key);
    typo[20] = typo[20] == 'a' ? 'b' : 'a';
    store *poison = (store *)(uintptr_t)1;
    cr_assert_eq(auth_authenticate(&c, poison, &a, NULL, typo, &who), AUTH_INVALID);
    cr_assert_eq(auth_authenticate(&c, poison, &a, NULL, "ctxd_live_acme_x", &who), AUTH_INVALID);

    /* revoked: refused at once */
    cr_assert_eq(store_key_revoke(st, "acme", k.prefix), ERR_OK);
    cr_assert_eq(auth_authenticate(&c, st, &a, NULL, key, &who), AUTH_INVALID);
    arena_release(&a);
    store_close(st);
}

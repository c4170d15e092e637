/* crypto.c - thin wrappers over libcrypto's one-shot EVP functions. */
#include "core/crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

/* Algorithms are fetched once: OpenSSL 3 looks an algorithm up in its provider tables (under a
 * lock) on every implicit use such as EVP_sha256(), which showed as a tenth of a small
 * request's CPU time. */
static pthread_once_t fetched = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_md5;
static EVP_MAC *mac_hmac;

static void fetch_all(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&fetched, fetch_all);
    return md_sha256 ? md_sha256 : EVP_sha256();
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void crypto_sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    EVP_Digest(data, n, out, &len, sha256_md(), NULL);
}

void crypto_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char d[32];
    crypto_sha256(data, n, d);
    crypto_hex(d, 32, out);
}

void crypto_md5_hex(const void *data, size_t n, char out[33])
{
    unsigned char d[16];
    unsigned int len = 16;
    pthread_once(&fetched, fetch_all);
    EVP_Digest(data, n, d, &len, md_md5 ? md_md5 : EVP_md5(), NULL);
    crypto_hex(d, 16, out);
}

void crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n,
                            char out[65])
{
    unsigned char d[32] = {0};
    size_t len = 0;
    pthread_once(&fetched, fetch_all);
    EVP_MAC_CTX *ctx = mac_hmac ? EVP_MAC_CTX_new(mac_hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || !EVP_MAC_init(ctx, key, key_len, params) || !EVP_MAC_update(ctx, data, n) ||
        !EVP_MAC_final(ctx, d, &len, sizeof d)) {
        memset(d, 0, sizeof d); /* all zeros never equals a real HMAC: a failure is visible */
    }
    EVP_MAC_CTX_free(ctx);
    crypto_hex(d, 32, out);
}

bool crypto_random(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1;
}

bool crypto_random_hex(size_t n, char *out)
{
    unsigned char tmp[64];
    if (n > sizeof tmp || !crypto_random(tmp, n)) {
        return false;
    }
    crypto_hex(tmp, n, out);
    return true;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_base64url(const void *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=') {
        len--;
    }
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
}

long crypto_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    /* EVP_DecodeBlock wants whole 4-character groups and counts padding as zero bytes */
    char padded[1024];
    size_t pad = (4 - n % 4) % 4;
    if (n + pad >= sizeof padded || (n + pad) / 4 * 3 > cap) {
        return -1;
    }
    memcpy(padded, in, n);
    memset(padded + n, '=', pad);
    size_t total = n + pad, eq = 0;
    while (eq < total && eq < 2 && padded[total - 1 - eq] == '=') {
        eq++;
    }
    int len = EVP_DecodeBlock(out, (const unsigned char *)padded, (int)total);
    if (len < 0 || (size_t)len < eq) {
        return -1;
    }
    return len - (long)eq;
}

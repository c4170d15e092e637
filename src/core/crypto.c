/* crypto.c - thin wrappers over libcrypto's one-shot EVP functions. */
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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
    EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
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
    EVP_Digest(data, n, d, &len, EVP_md5(), NULL);
    crypto_hex(d, 16, out);
}

void crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n,
                            char out[65])
{
    unsigned char d[32];
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, data, n, d, &len);
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

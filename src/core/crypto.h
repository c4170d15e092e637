/* crypto.h - the hashing and randomness ctxd needs, over OpenSSL libcrypto.
 *
 * Hex output is lowercase. crypto_equal compares in constant time (CRYPTO_memcmp); every
 * comparison of a secret or of a digest of one goes through it. */
#ifndef CTXD_CORE_CRYPTO_H
#define CTXD_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

void crypto_sha256(const void *data, size_t n, unsigned char out[32]);
void crypto_sha256_hex(const void *data, size_t n, char out[65]);
void crypto_md5_hex(const void *data, size_t n, char out[33]);
void crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n,
                            char out[65]);
bool crypto_random(void *out, size_t n);
/* 2n hex chars from n random bytes, NUL-terminated; out must hold 2n+1 */
bool crypto_random_hex(size_t n, char *out);
bool crypto_equal(const void *a, const void *b, size_t n);
/* base64url without padding (RFC 4648 §5); out must hold 4 * ceil(n / 3) + 1 */
void crypto_base64url(const void *in, size_t n, char *out);
/* standard base64 (padding optional) into out; the decoded length, or -1 when in is not
   base64 or the result does not fit cap */
long crypto_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
void crypto_hex(const unsigned char *in, size_t n, char *out);

#endif

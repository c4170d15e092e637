/* fuzz_apikey.c - apikey_parse (src/auth/apikey.c) on arbitrary bytes: the credential a client
 * sends before anything is looked up.
 *
 * Oracle: whatever is accepted matches the secret-scanning pattern of http-conventions.md §2.3
 * (`ctxd_(live|test)_<tenant>_<30 base62>_<6 base62>`, tenant `[a-z0-9][a-z0-9-]{0,31}`), its
 * checksum is the CRC-32 of everything before it, its prefix is a prefix of the input, and a
 * key generated for the parsed tenant parses back to the same tenant. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/apikey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool b62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    apikey k;
    if (!apikey_parse(s, size, &k)) {
        return 0;
    }
    size_t tl = strlen(k.tenant);
    if (size != 48 + tl || !apikey_tenant_valid(k.tenant, tl) ||
        memcmp(s + 10, k.tenant, tl) != 0 || s[10 + tl] != '_' || s[size - 7] != '_') {
        abort();
    }
    for (size_t i = 11 + tl; i < size; i++) {
        if (i != size - 7 && !b62(s[i])) {
            abort();
        }
    }
    char check[7];
    apikey_base62_6(apikey_crc32(s, size - 7), check);
    if (memcmp(check, s + size - 6, 6) != 0 || strncmp(s, k.prefix, strlen(k.prefix)) != 0) {
        abort();
    }
    char again[APIKEY_MAX_LEN + 1];
    apikey back;
    if (!apikey_generate(k.tenant, k.test, again) || !apikey_parse(again, strlen(again), &back) ||
        strcmp(back.tenant, k.tenant) != 0 || back.test != k.test) {
        abort();
    }
    return 0;
}

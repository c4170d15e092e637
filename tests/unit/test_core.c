/* test_core.c - the core helpers (src/core): bounded buffers and their sticky failure, arena
 * caps, UTF-8 repair and UTF-16 transcoding, checked number parsing, the crypto wrappers
 * against published vectors, time formatting, the allocation funnel and the error table. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/lrumap.h"
#include "core/strutil.h"
#include "core/utf8.h"

/* ---- buf ------------------------------------------------------------------------------------ */

Test(buf, appends_up_to_the_maximum_then_fails_sticky)
{
    buf b;
    buf_init(&b, 10);
    buf_append(&b, "0123456789", 10);
    cr_assert_not(b.failed);
    cr_assert_eq(b.len, 10);
    cr_assert_str_eq(b.ptr, "0123456789");
    buf_putc(&b, 'x');
    cr_assert(b.failed, "one byte past the maximum fails");
    cr_assert_eq(b.len, 10, "a failed append changes nothing");
    cr_assert_str_eq(b.ptr, "0123456789");
    /* sticky: even an append that would fit after a truncation is ignored */
    buf_truncate(&b, 2);
    buf_puts(&b, "ab");
    cr_assert_str_eq(b.ptr, "01");
    cr_assert_not(buf_reserve(&b, 0));
    buf_release(&b);
}

Test(buf, printf_short_and_long)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%d-%s", 42, "x");
    cr_assert_str_eq(b.ptr, "42-x");
    char big[1000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_printf(&b, "[%s]", big);
    cr_assert_eq(b.len, 4 + 2 + 999);
    cr_assert_eq(b.ptr[b.len], '\0');
    cr_assert_eq(b.ptr[5], 'q');
    buf_release(&b);

    buf_init(&b, 300);
    buf_printf(&b, "%s", big);
    cr_assert(b.failed, "a long printf past the maximum fails");
    cr_assert_eq(b.len, 0);
    buf_release(&b);
}

Test(buf, detach_and_nul_termination)
{
    buf b;
    buf_init(&b, 0);
    size_t n = 99;
    char *p = buf_detach(&b, &n);
    cr_assert_not_null(p, "an empty buffer detaches as \"\"");
    cr_assert_eq(n, 0);
    cr_assert_str_eq(p, "");
    xfree(p);
    buf_append(&b, "a\0b", 3);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(b.ptr[3], '\0');
    p = buf_detach(&b, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(p, "a\0b", 4), 0);
    cr_assert_null(b.ptr);
    cr_assert_eq(b.len, 0);
    xfree(p);
}

Test(buf, allocation_failure_is_a_failure_not_a_crash)
{
    buf b;
    buf_init(&b, 0);
    alloc_fail_after(0);
    buf_puts(&b, "hello");
    alloc_fail_after(-1);
    cr_assert(b.failed);
    cr_assert_eq(b.len, 0);
    buf_release(&b);
}

/* ---- arena ---------------------------------------------------------------------------------- */

Test(arena, allocations_are_aligned_and_usable)
{
    arena a;
    arena_init(&a, 0);
    for (size_t n = 0; n < 100; n++) {
        char *p = arena_alloc(&a, n);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 16, 0, "16-byte aligned");
        memset(p, 0xAB, n);
    }
    char *s = arena_strndup(&a, "hello world", 5);
    cr_assert_str_eq(s, "hello");
    cr_assert_str_eq(arena_printf(&a, "%s=%d", "x", 7), "x=7");
    cr_assert_null(arena_alloc(&a, SIZE_MAX), "size overflow is refused");
    cr_assert_null(arena_alloc(&a, SIZE_MAX - 8));
    arena_release(&a);
    cr_assert_eq(a.used_total, 0);
    cr_assert_not_null(arena_alloc(&a, 10), "a released arena can be used again");
    arena_release(&a);
}

Test(arena, hard_cap_counts_what_was_asked_for)
{
    arena a;
    arena_init(&a, 8192);
    cr_assert_not_null(arena_alloc(&a, 4000));
    cr_assert_not_null(arena_alloc(&a, 4000), "8000 of 8192 bytes: must fit");
    cr_assert_null(arena_alloc(&a, 200), "past the cap");
    cr_assert_not_null(arena_alloc(&a, 64), "what is left in the current chunk is still usable");
    cr_assert_leq(a.used_total, 8192);
    arena_release(&a);

    arena_init(&a, 1000);
    cr_assert_null(arena_alloc(&a, 1001));
    cr_assert_not_null(arena_alloc(&a, 992));
    arena_release(&a);
}

/* ---- UTF-8 ---------------------------------------------------------------------------------- */

static char *repaired(const char *s, size_t n)
{
    static char out[256];
    buf b;
    buf_init(&b, 0);
    utf8_append_repaired(&b, s, n);
    snprintf(out, sizeof out, "%s", b.ptr ? b.ptr : "");
    buf_release(&b);
    return out;
}

#define R(lit) repaired(lit, sizeof(lit) - 1)
#define FFFD "\xef\xbf\xbd"

Test(utf8, valid_text_is_unchanged)
{
    cr_assert_str_eq(R("plain ascii"), "plain ascii");
    cr_assert_str_eq(R("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    cr_assert_str_eq(R("\xef\xbf\xbf \xf4\x8f\xbf\xbf"), "\xef\xbf\xbf \xf4\x8f\xbf\xbf",
                     "U+FFFF, U+10FFFF");
    cr_assert(utf8_valid("caf\xc3\xa9", 5));
    cr_assert_not(utf8_valid("caf\xc3", 4));
}

/* one U+FFFD per maximal subpart (Unicode §3.9, the W3C/WHATWG practice) */
Test(utf8, each_maximal_invalid_subpart_becomes_one_replacement)
{
    cr_assert_str_eq(R("a\xff"
                       "b"),
                     "a" FFFD "b");
    cr_assert_str_eq(R("\x80\x80"), FFFD FFFD, "two stray continuation bytes");
    cr_assert_str_eq(R("\xe2\x82x"), FFFD "x", "a truncated 3-byte sequence is one subpart");
    cr_assert_str_eq(R("\xe2\x82"), FFFD, "truncated at the end");
    cr_assert_str_eq(R("\xf0\x9f\x98"), FFFD);
    cr_assert_str_eq(R("\xc3"), FFFD);
    cr_assert_str_eq(R("\xc0\xaf"), FFFD FFFD, "overlong: C0 never starts a sequence");
    cr_assert_str_eq(R("\xe0\x80\xaf"), FFFD FFFD FFFD, "overlong 3-byte");
    cr_assert_str_eq(R("\xed\xa0\x80"), FFFD FFFD FFFD, "a UTF-16 surrogate");
    cr_assert_str_eq(R("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD, "past U+10FFFF");
    cr_assert_str_eq(R("\xf5\x80"), FFFD FFFD);
    cr_assert_str_eq(R("\xe2\x28\xa1"), FFFD "(" FFFD);
    cr_assert_str_eq(R("x\xe2\x82\xe2\x82\xac"), "x" FFFD "\xe2\x82\xac",
                     "a valid sequence right after");
    cr_assert_str_eq(R("a\0b"), "a", "NUL is valid UTF-8 and kept (the C string stops there)");
}

static char *from16(const char *s, size_t n, bool le)
{
    static char out[256];
    buf b;
    buf_init(&b, 0);
    utf8_append_utf16(&b, (const unsigned char *)s, n, le);
    snprintf(out, sizeof out, "%s", b.ptr ? b.ptr : "");
    buf_release(&b);
    return out;
}

Test(utf8, utf16_transcoding)
{
    cr_assert_str_eq(from16("h\0i\0", 4, true), "hi");
    cr_assert_str_eq(from16("\0h\0i", 4, false), "hi");
    cr_assert_str_eq(from16("\xe9\0\xac\x20", 4, true), "\xc3\xa9\xe2\x82\xac");
    cr_assert_str_eq(from16("\x3d\xd8\x00\xde", 4, true), "\xf0\x9f\x98\x80", "a surrogate pair");
    cr_assert_str_eq(from16("\x00\xdcx\0", 4, true), FFFD "x", "a lone low surrogate");
    cr_assert_str_eq(from16("\x3d\xd8x\0", 4, true), FFFD "x", "a high surrogate without its pair");
    cr_assert_str_eq(from16("\x3d\xd8", 2, true), FFFD, "a high surrogate at the end");
    cr_assert_str_eq(from16("h\0i", 3, true), "h" FFFD, "an odd final byte");
}

/* ---- number parsing and strings ------------------------------------------------------------ */

static bool u64(const char *s, uint64_t max, uint64_t *v)
{
    return parse_u64(s, strlen(s), max, v);
}
static bool i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
    return parse_i64(s, strlen(s), min, max, v);
}

Test(strutil, parse_u64_ranges)
{
    uint64_t v;
    cr_assert(u64("0", UINT64_MAX, &v) && v == 0);
    cr_assert(u64("007", UINT64_MAX, &v) && v == 7);
    cr_assert(u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
    cr_assert_not(u64("18446744073709551616", UINT64_MAX, &v), "overflow");
    cr_assert_not(u64("99999999999999999999", UINT64_MAX, &v));
    cr_assert(u64("100", 100, &v) && v == 100);
    cr_assert_not(u64("101", 100, &v));
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(u64(bad[i], UINT64_MAX, &v), "'%s'", bad[i]);
    }
    cr_assert(parse_u64("123abc", 3, 1000, &v) && v == 123, "only len bytes are read");
}

Test(strutil, parse_i64_ranges)
{
    int64_t v;
    cr_assert(i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v) && v == INT64_MIN);
    cr_assert(i64("9223372036854775807", INT64_MIN, INT64_MAX, &v) && v == INT64_MAX);
    cr_assert_not(i64("9223372036854775808", INT64_MIN, INT64_MAX, &v));
    cr_assert_not(i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v));
    cr_assert(i64("-5", -10, 10, &v) && v == -5);
    cr_assert_not(i64("-11", -10, 10, &v));
    cr_assert_not(i64("11", -10, 10, &v));
    cr_assert(i64("0", 0, 0, &v) && v == 0);
    cr_assert(i64("-0", 0, 0, &v) && v == 0);
    const char *bad[] = {"", "-", "--1", "+5", "5-", " 5", "5 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(i64(bad[i], INT64_MIN, INT64_MAX, &v), "'%s'", bad[i]);
    }
}

Test(strutil, slices)
{
    cr_assert(str_eq(str_c("abc"), (str){"abcdef", 3}));
    cr_assert_not(str_eq_c((str){"abc", 3}, "ab"));
    cr_assert(str_eq(str_c(NULL), str_c("")));
    cr_assert(str_ieq(str_c("SessionMutations"), str_c("sessionmutations")));
    cr_assert_not(str_ieq(str_c("abc"), str_c("abd")));
    cr_assert(str_has_prefix(str_c("lines:1-2"), "lines:"));
    cr_assert_not(str_has_prefix(str_c("li"), "lines:"));
    cr_assert(str_has_suffix(str_c("a.json"), ".json"));
    cr_assert_not(str_has_suffix(str_c("json"), ".json"));
}

/* ---- crypto --------------------------------------------------------------------------------- */

Test(crypto, sha256_vectors)
{
    char hex[65];
    crypto_sha256_hex("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    crypto_sha256_hex(two, strlen(two), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    unsigned char raw[32];
    crypto_sha256("abc", 3, raw);
    cr_assert_eq(raw[0], 0xba);
    cr_assert_eq(raw[31], 0xad);
}

Test(crypto, md5_vectors)
{
    char hex[33];
    crypto_md5_hex("", 0, hex);
    cr_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
    crypto_md5_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "900150983cd24fb0d6963f7d28e17f72");
    crypto_md5_hex("{}", 2, hex);
    cr_assert_str_eq(hex, "99914b932bd37a50b983c5e7c90ae93b",
                     "http-conventions.md §4.1: no arguments");
}

Test(crypto, hmac_sha256_rfc4231)
{
    char hex[65];
    /* RFC 4231 test case 2 */
    const char *data = "what do ya want for nothing?";
    crypto_hmac_sha256_hex("Jefe", 4, data, strlen(data), hex);
    cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* test case 1: 20 bytes of 0x0b, "Hi There" */
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    crypto_hmac_sha256_hex(key, sizeof key, "Hi There", 8, hex);
    cr_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

Test(crypto, random_hex_and_constant_time_equal)
{
    char a[65], b[65];
    cr_assert(crypto_random_hex(32, a));
    cr_assert(crypto_random_hex(32, b));
    cr_assert_eq(strlen(a), 64);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 64, "lowercase hex: %s", a);
    cr_assert_str_neq(a, b);
    cr_assert_not(crypto_random_hex(65, a), "more than 64 bytes is refused, not overflowed");
    cr_assert(crypto_equal("abc", "abc", 3));
    cr_assert_not(crypto_equal("abc", "abd", 3));
    char h[5];
    crypto_hex((const unsigned char *)"\x01\xfe", 2, h);
    cr_assert_str_eq(h, "01fe");
}

/* ---- clock ---------------------------------------------------------------------------------- */

Test(clock, rfc3339)
{
    char out[32];
    clock_rfc3339(0, out);
    cr_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    clock_rfc3339(1795246869512LL, out);
    cr_assert_str_eq(out, "2026-11-21T07:41:09.512Z", "http-conventions.md §4.2's timestamp");
    clock_rfc3339(951782400007LL, out); /* 2000-02-29, a leap day */
    cr_assert_str_eq(out, "2000-02-29T00:00:00.007Z");
    clock_rfc3339(clock_wall_ms(), out);
    cr_assert_eq(strlen(out), 24);
    cr_assert_eq(out[10], 'T');
    cr_assert_eq(out[23], 'Z');
}

Test(clock, short_durations_and_monotonic_time)
{
    char out[16];
    const struct {
        int64_t s;
        const char *want;
    } cases[] = {{-5, "0s"},   {0, "0s"},      {59, "59s"},   {60, "1m"},     {3599, "59m"},
                 {3600, "1h"}, {86399, "23h"}, {86400, "1d"}, {864000, "10d"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clock_short_duration(cases[i].s, out);
        cr_assert_str_eq(out, cases[i].want, "%lld", (long long)cases[i].s);
    }
    int64_t a = clock_mono_ns(), b = clock_mono_ns();
    cr_assert_geq(b, a);
    cr_assert_geq(clock_mono_ms(), a / 1000000);
}

/* ---- alloc and err -------------------------------------------------------------------------- */

Test(alloc, failure_injection_and_overflow_checks)
{
    alloc_fail_after(1);
    void *p = xmalloc(8);
    void *q = xmalloc(8);
    char *d = xstrdup("x");
    alloc_fail_after(-1);
    cr_assert_not_null(p, "the first allocation succeeds");
    cr_assert_null(q, "the second fails");
    cr_assert_null(d, "and every later one");
    xfree(p);
    p = xcalloc(0, 0);
    cr_assert_not_null(p, "zero-size allocations return a pointer");
    xfree(p);
    size_t r;
    cr_assert(size_add(1, 2, &r) && r == 3);
    cr_assert_not(size_add(SIZE_MAX, 1, &r));
    cr_assert(size_mul(1 << 20, 1 << 10, &r) && r == (size_t)1 << 30);
    cr_assert_not(size_mul(SIZE_MAX / 2 + 1, 2, &r));
}

Test(err, table)
{
    cr_assert_eq(err_http_status(ERR_OK), 200);
    cr_assert_eq(err_http_status(ERR_NOT_FOUND), 404);
    cr_assert_eq(err_http_status(ERR_RATE_LIMITED), 429);
    cr_assert_str_eq(err_code(ERR_INVALID_ARGUMENTS), "invalid_arguments");
    cr_assert_str_eq(err_code(ERR_NOMEM), "internal", "internal failures are not exposed by name");
    cr_assert_str_eq(err_code(ERR_CANCELLED), "request_timeout");
    cr_assert_eq(err_rpc_code(ERR_INVALID_ARGUMENTS), -32602);
}

Test(crypto, base64url_and_decode)
{
    char out[64];
    crypto_base64url("", 0, out);
    cr_assert_str_eq(out, "");
    crypto_base64url("\xfb\xff", 2, out); /* +/ in standard base64 become -_ */
    cr_assert_str_eq(out, "-_8");
    crypto_base64url("foobar", 6, out);
    cr_assert_str_eq(out, "Zm9vYmFy");
    unsigned char dec[32];
    cr_assert_eq(crypto_base64_decode("Y3R4X3RyZWU=", 12, dec, sizeof dec), 8);
    cr_assert(memcmp(dec, "ctx_tree", 8) == 0);
    cr_assert_eq(crypto_base64_decode("Y3R4X3RyZWU", 11, dec, sizeof dec), 8, "padding optional");
    cr_assert_eq(crypto_base64_decode("Zg", 2, dec, sizeof dec), 1);
    cr_assert_eq(dec[0], 'f');
    cr_assert_eq(crypto_base64_decode("Y3R4*", 5, dec, sizeof dec), -1, "not base64");
    cr_assert_eq(crypto_base64_decode("Zm9vYmFy", 8, dec, 3), -1, "does not fit");
}

static bool lrumap_test_evictable(const void *v)
{
    return *(const int *)v == 0;
}

Test(lrumap, bounded_least_recently_used_evicted_pinned_kept)
{
    lrumap *m = lrumap_new(3, sizeof(int), lrumap_test_evictable);
    cr_assert_not_null(m);
    bool created = false;
    int *a = lrumap_get(m, "a", true, &created);
    cr_assert(a && created && *a == 0, "a new value is zeroed");
    *a = 1; /* pinned: not evictable */
    int *b = lrumap_get(m, "b", true, NULL);
    int *c = lrumap_get(m, "c", true, NULL);
    cr_assert(b && c);
    cr_assert_eq(lrumap_get(m, "a", false, &created), a, "found again, same address");
    cr_assert_not(created);
    cr_assert_null(lrumap_get(m, "zz", false, NULL), "absent without create");
    /* full: the least recently used evictable entry (b: a is pinned) goes */
    cr_assert_not_null(lrumap_get(m, "d", true, NULL));
    cr_assert_eq(lrumap_size(m), 3);
    cr_assert_null(lrumap_get(m, "b", false, NULL));
    cr_assert_not_null(lrumap_get(m, "c", false, NULL));
    /* every entry pinned: nothing can be added */
    *(int *)lrumap_get(m, "c", false, NULL) = 1;
    *(int *)lrumap_get(m, "d", false, NULL) = 1;
    cr_assert_null(lrumap_get(m, "e", true, NULL));
    cr_assert_eq(lrumap_size(m), 3);
    lrumap_free(m);
}

/* test_jsonx.c - outside JSON (src/core/jsonx.c): the parse limits of tools.md §1.1 (duplicate
 * keys, nesting depth, NUL in strings) and RFC 8785 canonical JSON, the input of the audit
 * hashes (http-conventions.md §4.1), down to the worked MD5 and HMAC values of §4.2. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/jsonx.h"

static json_t *parse(const char *s, char *why, size_t why_len)
{
    return jsonx_parse(s, strlen(s), why, why_len);
}

/* the canonical form of a JSON text, in a static buffer */
static const char *canon(const char *s)
{
    static char out[4096];
    char why[256] = "";
    json_t *v = parse(s, why, sizeof why);
    cr_assert_not_null(v, "'%s' did not parse: %s", s, why);
    buf b;
    buf_init(&b, 0);
    jsonx_canonical(&b, v);
    cr_assert_not(b.failed);
    snprintf(out, sizeof out, "%s", b.ptr);
    buf_release(&b);
    json_decref(v);
    return out;
}

Test(jsonx, canonical_sorts_keys_recursively_without_whitespace)
{
    cr_assert_str_eq(canon("{ \"b\" : 1, \"a\" : { \"d\" : [ 3 , 1 ], \"c\" : null } }"),
                     "{\"a\":{\"c\":null,\"d\":[3,1]},\"b\":1}");
    cr_assert_str_eq(canon("{}"), "{}");
    cr_assert_str_eq(canon("[]"), "[]");
    cr_assert_str_eq(canon("[true,false,null,\"\"]"), "[true,false,null,\"\"]");
    cr_assert_str_eq(canon("{\"aa\":1,\"a\":2,\"B\":3,\"_\":4}"),
                     "{\"B\":3,\"_\":4,\"a\":2,\"aa\":1}");
}

Test(jsonx, canonical_key_order_is_utf16_code_units)
{
    /* RFC 8785 §3.2.3: U+1F600 (UTF-16 D83D DE00) sorts before U+E000, unlike in UTF-8 */
    cr_assert_str_eq(
        canon("{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"\\u20ac\":3,\"\\u00e9\":4,\"z\":5}"),
        "{\"z\":5,\"\xc3\xa9\":4,\"\xe2\x82\xac\":3,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1}");
    cr_assert_str_eq(canon("{\"\\uffff\":1,\"\\ud800\\udc00\":2}"),
                     "{\"\xf0\x90\x80\x80\":2,\"\xef\xbf\xbf\":1}");
    /* a prefix sorts first */
    cr_assert_str_eq(canon("{\"ab\":1,\"a\":2}"), "{\"a\":2,\"ab\":1}");
}

Test(jsonx, canonical_string_escapes)
{
    cr_assert_str_eq(canon("[\"q\\\"b\\\\s\\/\"]"), "[\"q\\\"b\\\\s/\"]",
                     "only \\\" and \\\\ stay escaped");
    cr_assert_str_eq(canon("[\"\\b\\f\\n\\r\\t\"]"), "[\"\\b\\f\\n\\r\\t\"]");
    cr_assert_str_eq(canon("[\"\\u0001\\u001f\\u000b\"]"), "[\"\\u0001\\u001f\\u000b\"]",
                     "lowercase hex");
    cr_assert_str_eq(canon("[\"\\u007f\\u00e9\\u2028\"]"), "[\"\x7f\xc3\xa9\xe2\x80\xa8\"]",
                     "non-ASCII and DEL as raw UTF-8");
    cr_assert_str_eq(canon("[\"a\\u0000b\"]"), "[\"a\\u0000b\"]", "NUL inside a string survives");
}

Test(jsonx, canonical_numbers_are_ecmascript_shortest_form)
{
    const struct {
        const char *in, *want;
    } cases[] = {
        {"1.0", "1"},
        {"-1.0", "-1"},
        {"100", "100"},
        {"1e2", "100"},
        {"1E30", "1e+30"},
        {"1e21", "1e+21"},
        {"1e20", "100000000000000000000"},
        {"0.1", "0.1"},
        {"-0.0", "0"},
        {"0.000001", "0.000001"},
        {"1e-7", "1e-7"},
        {"1.5e-5", "0.000015"},
        {"2e-3", "0.002"},
        {"4.50", "4.5"},
        {"123.456", "123.456"},
        {"333333333.33333329", "333333333.3333333"},
        {"1e-27", "1e-27"},
        {"5e-324", "5e-324"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"9007199254740992", "9007199254740992"},
        {"9007199254740993", "9007199254740992"}, /* a double cannot hold it */
        {"-9223372036854775808", "-9223372036854776000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[64], want[64];
        snprintf(in, sizeof in, "[%s]", cases[i].in);
        snprintf(want, sizeof want, "[%s]", cases[i].want);
        cr_assert_str_eq(canon(in), want, "%s", cases[i].in);
    }
}

Test(jsonx, rfc8785_sample)
{
    /* RFC 8785 §3.2.2 */
    cr_assert_str_eq(
        canon("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
              " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
              " \"literals\": [null, true, false]}"),
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
        "1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* http-conventions.md §4.1/§4.2: the worked audit hashes */
static void hashes(const char *args, char md5[33], char hmac[65])
{
    char why[128];
    json_t *v = parse(args, why, sizeof why);
    cr_assert_not_null(v, "%s", why);
    buf b;
    buf_init(&b, 0);
    jsonx_canonical(&b, v);
    crypto_md5_hex(b.ptr, b.len, md5);
    const char *key = "example-audit-hmac-key-do-not-use";
    crypto_hmac_sha256_hex(key, strlen(key), b.ptr, b.len, hmac);
    buf_release(&b);
    json_decref(v);
}

Test(jsonx, worked_audit_hashes)
{
    cr_assert_str_eq(canon("{\"path\":\"src/server/http.c\",\"mode\":\"signatures\"}"),
                     "{\"mode\":\"signatures\",\"path\":\"src/server/http.c\"}");
    char md5[33], hmac[65];
    hashes("{\"path\":\"src/server/http.c\",\"mode\":\"signatures\"}", md5, hmac);
    cr_assert_str_eq(md5, "0206a80f985ca0b26d59100b269e129e");
    cr_assert_str_eq(hmac, "ba8674f69e8c80393df47db056ce83f405b0a0b63626dbcd0ff78ff0195461d4");
    hashes("{\"action\":\"build\"}", md5, hmac);
    cr_assert_str_eq(md5, "c12a270c29f067e5578c684f2d1a256a");
    cr_assert_str_eq(hmac, "b64f873d7565dfecd6fd65b01fc6df517d2493a5329def922fbf8fc36a5f230d");
    hashes("{}", md5, hmac);
    cr_assert_str_eq(md5, "99914b932bd37a50b983c5e7c90ae93b");
    /* the hash does not depend on the order or spacing the client used */
    char md5b[33];
    hashes("{ \"mode\" : \"signatures\" ,\n \"path\" : \"src/server/http.c\" }", md5b, hmac);
    hashes("{\"path\":\"src/server/http.c\",\"mode\":\"signatures\"}", md5, hmac);
    cr_assert_str_eq(md5, md5b);
}

Test(jsonx, duplicate_keys_are_refused)
{
    char why[256] = "";
    cr_assert_null(parse("{\"a\":1,\"a\":2}", why, sizeof why));
    cr_assert(strstr(why, "duplicate"), "%s", why);
    cr_assert_null(parse("{\"x\":{\"path\":\"a\",\"path\":\"b\"}}", why, sizeof why), "nested too");
    cr_assert_null(parse("[{\"k\":1,\"k\":1}]", why, sizeof why), "even with equal values");
    json_t *v = parse("{\"a\":1,\"A\":2}", why, sizeof why);
    cr_assert_not_null(v, "keys are case-sensitive: %s", why);
    json_decref(v);
}

/* n nested containers: arrays, or objects {"k": ...} */
static char *nested(int n, bool objects)
{
    char *s = malloc((size_t)n * 6 + 8);
    cr_assert_not_null(s);
    const char *open = objects ? "{\"k\":" : "[";
    size_t o = 0, ol = strlen(open);
    for (int i = 0; i < n; i++) {
        memcpy(s + o, open, ol);
        o += ol;
    }
    s[o++] = '1';
    for (int i = 0; i < n; i++) {
        s[o++] = objects ? '}' : ']';
    }
    s[o] = '\0';
    return s;
}

Test(jsonx, nesting_depth_64_is_accepted_65_refused)
{
    char why[256] = "";
    for (int objects = 0; objects < 2; objects++) {
        char *ok = nested(JSONX_MAX_DEPTH, objects);
        json_t *v = parse(ok, why, sizeof why);
        cr_assert_not_null(v, "depth 64 (%s): %s", objects ? "objects" : "arrays", why);
        cr_assert_eq(jsonx_depth(v), 64);
        json_decref(v);
        free(ok);
        char *deep = nested(JSONX_MAX_DEPTH + 1, objects);
        cr_assert_null(parse(deep, why, sizeof why), "depth 65 (%s)",
                       objects ? "objects" : "arrays");
        cr_assert_str_eq(why, "JSON nested deeper than 64 levels");
        free(deep);
    }
    char *deep = nested(5000, false);
    cr_assert_null(parse(deep, why, sizeof why), "very deep input is refused, not a crash");
    free(deep);
    cr_assert_eq(jsonx_depth(json_integer(1)), 0);
}

Test(jsonx, malformed_input_and_nul_in_strings)
{
    char why[256] = "";
    cr_assert_null(parse("{\"a\":", why, sizeof why));
    cr_assert(strncmp(why, "malformed JSON at line 1", 24) == 0, "%s", why);
    cr_assert_null(parse("", why, sizeof why));
    json_t *v = parse("{\"path\":\"a\\u0000b\",\"ok\":\"x\",\"n\":1}", why, sizeof why);
    cr_assert_not_null(v, "a NUL inside a string is parsed (and refused later, with a reason): %s",
                       why);
    cr_assert_eq(json_string_length(json_object_get(v, "path")), 3);
    cr_assert_null(jsonx_str(v, "path"), "jsonx_str never hands out a string with a NUL");
    cr_assert_str_eq(jsonx_str(v, "ok"), "x");
    cr_assert_null(jsonx_str(v, "n"));
    cr_assert_null(jsonx_str(v, "missing"));
    json_decref(v);
    v = parse("42", why, sizeof why);
    cr_assert_not_null(v, "any JSON value, not only objects");
    json_decref(v);
}

Test(jsonx, dump_is_compact_in_insertion_order)
{
    json_t *v = json_pack("{s:s, s:i, s:[f]}", "z", "\xc3\xa9", "a", 1, "m", 0.5);
    buf b;
    buf_init(&b, 0);
    jsonx_dump(&b, v);
    cr_assert_str_eq(b.ptr, "{\"z\":\"\xc3\xa9\",\"a\":1,\"m\":[0.5]}");
    buf_release(&b);
    json_decref(v);
}

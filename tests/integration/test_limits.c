/* test_limits.c - the limits of DESIGN §5 and http-conventions.md §1 as a client meets them:
 * maxBodyBytes (answered before the body is read), requestTimeoutMs (the work is cut, not just
 * the answer), maxConcurrency, the global bucket (rateBurst / maxRps), the per-key bucket
 * (keyRateBurst / keyRps), the per-IP bucket for unauthenticated traffic, and /health outside
 * all of them. Every 429 must carry Retry-After, RateLimit-Policy and RateLimit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"

static const char *const tree_body = "{\"name\":\"ctx_tree\",\"arguments\":{\"depth\":1}}";

/* a 429 as http-conventions §1.2/1.3 describe it, for one policy; returns Retry-After */
static long expect_429(resp *r, const char *code, const char *policy)
{
    expect_error(r, 429, code);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "policy")), policy, "%s", r->body);
    cr_assert(json_is_integer(json_object_get(r->json, "retryAfterMs")), "%s", r->body);
    const char *ra = resp_header(r, "Retry-After");
    cr_assert(ra && strspn(ra, "0123456789") == strlen(ra) && *ra, "Retry-After: %s", ra);
    long secs = strtol(ra, NULL, 10);
    cr_assert_geq(secs, 1);
    char want[64];
    snprintf(want, sizeof want, "\"%s\";", policy);
    const char *pol = resp_header(r, "RateLimit-Policy");
    cr_assert(pol && strncmp(pol, want, strlen(want)) == 0, "RateLimit-Policy: %s", pol);
    if (strcmp(policy, "concurrency") != 0) {
        snprintf(want, sizeof want, "\"%s\";r=0;t=%ld", policy, secs);
        cr_assert_str_eq(resp_header(r, "RateLimit"), want);
    }
    return secs;
}

Test(limits, max_body_bytes_answers_before_reading_the_body)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    /* announce 100 MB, send a few bytes, keep the connection open: the 413 must come at once */
    char head[512];
    int n =
        snprintf(head, sizeof head,
                 "POST /v1/tools/call HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                 "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"name\":",
                 s.token);
    long long t0 = now_ms();
    char *out = raw_http(&s, head, (size_t)n, 3000);
    long long took = now_ms() - t0;
    cr_assert(strncmp(out, "HTTP/1.1 413", 12) == 0, "%s", out);
    cr_assert(strstr(out, "\"error_code\":\"payload_too_large\""), "%s", out);
    cr_assert(strstr(out, "100000000 bytes is over maxBodyBytes (2097152)"), "%s", out);
    cr_assert_lt(took, 1000, "the 413 took %lld ms: the server waited for the body", took);
    free(out);
    resp *r = req(&s, "GET", "/health", NULL, NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, request_timeout_cuts_the_work)
{
    server s;
    srv_init(&s);
    /* ~3000 files x ~5 ms each of regex work: seconds of CPU, far beyond 300 ms */
    make_slow_tree(&s, "ws/slow", 3000);
    srv_config(&s, "\"requestTimeoutMs\": 300");
    cr_assert(srv_start(&s));
    long long t0 = now_ms();
    resp *r = call_tool(&s, s.token, "ctx_search",
                        "{\"pattern\":\"" SLOW_PATTERN "\",\"path\":\"slow\"}");
    long long took = now_ms() - t0;
    expect_error(r, 504, "request_timeout");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                     "ctx_search took longer than requestTimeoutMs (300 ms) and was stopped");
    cr_assert(json_is_string(json_object_get(r->json, "requestId")), "5xx bodies name the request");
    cr_assert_lt(took, 1300, "504 after %lld ms: the work was not cut at the deadline", took);
    cr_assert_geq(took, 250, "504 after %lld ms: before the deadline?", took);
    resp_free(r);
    /* the stopped search does not keep the workers busy: a cheap call is quick again */
    t0 = now_ms();
    r = call_tool(&s, s.token, "ctx_tree", "{\"depth\":1}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_lt(now_ms() - t0, 500);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

/* one/big.txt: 3000 lines on which SLOW_PATTERN backtracks for about a millisecond each */
static void write_costly_file(server *s)
{
    size_t n = 3000 * 25 + 1;
    char *body = malloc(n);
    for (size_t i = 0; i < 3000; i++) {
        memcpy(body + i * 25, "aaaaaaaaaaaaaaaaaaaaaaaa\n", 25);
    }
    body[n - 1] = '\0';
    ws_write(s, "one/big.txt", body);
    free(body);
}

Test(limits, request_timeout_cuts_the_work_inside_one_file)
{
    server s;
    srv_init(&s);
    /* one file of 3000 costly lines: the deadline must be seen between lines, not files */
    write_costly_file(&s);
    srv_config(&s, "\"requestTimeoutMs\": 300");
    cr_assert(srv_start(&s));
    long long t0 = now_ms();
    resp *r =
        call_tool(&s, s.token, "ctx_search", "{\"pattern\":\"" SLOW_PATTERN "\",\"path\":\"one\"}");
    long long took = now_ms() - t0;
    expect_error(r, 504, "request_timeout");
    cr_assert_lt(took, 1300, "504 after %lld ms: the work was not cut at the deadline", took);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, search_budget_stops_with_a_note_inside_one_file)
{
    server s;
    srv_init(&s);
    write_costly_file(&s);
    srv_config(&s, "\"searchBudgetMs\": 300");
    cr_assert(srv_start(&s));
    long long t0 = now_ms();
    resp *r =
        call_tool(&s, s.token, "ctx_search", "{\"pattern\":\"" SLOW_PATTERN "\",\"path\":\"one\"}");
    long long took = now_ms() - t0;
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(result_text(r), "(search stopped after the 0s budget"), "%s", result_text(r));
    cr_assert_lt(took, 1300, "answered after %lld ms: the budget was not kept", took);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, slow_calls_do_not_stall_other_connections)
{
    server s;
    srv_init(&s);
    make_slow_tree(&s, "ws/slow", 3000);
    /* as many slow calls as connection threads by default (one per core), and more */
    srv_config(&s, "\"searchBudgetMs\": 1500, \"workerThreads\": 2");
    cr_assert(srv_start(&s));
    bg_req slow[3];
    for (int i = 0; i < 3; i++) {
        bg_start(&slow[i], &s, s.token,
                 "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
                 "\",\"path\":\"slow\"}}");
    }
    usleep(300000);
    for (int i = 0; i < 5; i++) {
        long long t0 = now_ms();
        resp *r = call_tool(&s, s.token, "ctx_read", "{\"path\":\"src/main.c\"}");
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert_lt(now_ms() - t0, 300, "a read waited %lld ms behind slow searches",
                     now_ms() - t0);
        resp_free(r);
        t0 = now_ms();
        r = req(&s, "GET", "/health", NULL, NULL, NULL);
        cr_assert_eq(r->status, 200);
        cr_assert_lt(now_ms() - t0, 300);
        resp_free(r);
    }
    for (int i = 0; i < 3; i++) {
        resp *r = bg_join(&slow[i]);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, max_concurrency)
{
    server s;
    srv_init(&s);
    make_slow_tree(&s, "ws/slow", 3000);
    /* the slow call is bounded by the search budget: about 1.5 s, then 200 with a note */
    srv_config(&s, "\"maxConcurrency\": 1, \"searchBudgetMs\": 1500");
    cr_assert(srv_start(&s));
    bg_req slow;
    bg_start(&slow, &s, s.token,
             "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
             "\",\"path\":\"slow\"}}");
    usleep(400000);
    resp *r = call_tool(&s, s.token, "ctx_tree", "{\"depth\":1}");
    long long refused_at = now_ms();
    cr_assert_str_eq(resp_header(r, "Retry-After"), "1");
    expect_429(r, "concurrency_limited", "concurrency");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"),
                     "\"concurrency\";q=1;qu=\"concurrent-requests\"");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "retryAfterMs")), 1000);
    resp_free(r);
    resp *sr = bg_join(&slow);
    cr_assert_eq(sr->status, 200, "%s", sr->body);
    cr_assert_gt(slow.done_ms, refused_at,
                 "the slow call was over before the refusal: no contention shown");
    cr_assert(strstr(result_text(sr), "(search stopped after the 1s budget"), "%s",
              result_text(sr));
    resp_free(sr);
    /* the slot is free again */
    r = call_tool(&s, s.token, "ctx_tree", "{\"depth\":1}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

typedef struct burst {
    int ok, refused;
    long long ms; /* from the first request sent to the last answer */
} burst;

/* n sequential tool calls; every refusal is checked as a 429 of that policy */
static burst run_burst(server *s, const char *token, int n, const char *policy)
{
    burst b = {0};
    long long t0 = now_ms();
    for (int i = 0; i < n; i++) {
        resp *r = req(s, "POST", "/v1/tools/call", token, NULL, tree_body);
        if (r->status == 200) {
            b.ok++;
        } else {
            expect_429(r, "rate_limited", policy);
            b.refused++;
        }
        resp_free(r);
    }
    b.ms = now_ms() - t0;
    return b;
}

/* authenticated GET routes spend the same bucket (a slow refill, so the timing of a loaded
 * machine cannot refill it between two requests) */
Test(limits, global_bucket_counts_get_routes)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"maxRps\": 0.2, \"rateBurst\": 2, \"keyRps\": 100000, "
                   "\"keyRateBurst\": 100000");
    cr_assert(srv_start(&s));
    for (int i = 0; i < 2; i++) {
        resp *r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    resp *r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    expect_429(r, "rate_limited", "global");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, global_bucket)
{
    server s;
    srv_init(&s);
    /* the tenant bucket, by default as large as the global one, is opened wide too: charged
       after the global bucket a moment later, it could refuse first by a hair */
    srv_config(&s, "\"maxRps\": 20, \"rateBurst\": 40, \"keyRps\": 100000, "
                   "\"keyRateBurst\": 100000, \"rateTiers\": {\"default\": {\"rps\": 100000, "
                   "\"burst\": 100000, \"tenantRps\": 100000, \"tenantBurst\": 100000}}");
    cr_assert(srv_start(&s));
    /* 90 calls: the 40 of the burst pass, plus what refills at 20/s while they run */
    burst b = run_burst(&s, s.token, 90, "global");
    double want_ok = 40 + 20.0 * (double)b.ms / 1000;
    cr_assert_eq(b.ok + b.refused, 90);
    cr_assert(fabs(b.ok - want_ok) <= 3, "%d passed in %lld ms, expected %.1f", b.ok, b.ms,
              want_ok);
    if (b.ms < 150) {
        cr_assert(abs(b.refused - 50) <= 3, "%d refused", b.refused);
    }
    /* the bucket is empty now, though a loaded machine may let a token refill (one per 50 ms)
       before the next call: the first refusal within a few calls is the one to inspect */
    resp *r = NULL;
    for (int i = 0; i < 20; i++) {
        r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
        if (r->status != 200) {
            break;
        }
        resp_free(r);
        r = NULL;
    }
    cr_assert_not_null(r, "20 calls after the burst passed: the global bucket refills too fast");
    expect_429(r, "rate_limited", "global");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"global\";q=40;w=2");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "maxRps=20"), "%s",
              r->body);
    resp_free(r);

    /* a second later about 20 more have refilled (capacity refills at maxRps) */
    long long pause_start = now_ms();
    usleep(1000000);
    long long gap = now_ms() - pause_start;
    b = run_burst(&s, s.token, 40, "global");
    want_ok = 20.0 * (double)(gap + b.ms) / 1000;
    cr_assert(fabs(b.ok - want_ok) <= 3, "%d passed after %lld ms pause + %lld ms, expected %.1f",
              b.ok, gap, b.ms, want_ok);
    cr_assert_gt(b.refused, 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, per_key_bucket)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"keyRateBurst\": 10, \"keyRps\": 1");
    char other[80];
    cr_assert(srv_token(&s, "other", "search", other));
    cr_assert(srv_start(&s));
    for (int i = 0; i < 10; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
        cr_assert_eq(r->status, 200, "call %d: %s", i + 1, r->body);
        /* every served call tells the client where its key bucket stands */
        cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=10;w=10");
        char want[64];
        snprintf(want, sizeof want, "\"key\";r=%d;t=", 9 - i);
        const char *rl = resp_header(r, "RateLimit");
        cr_assert(rl && strncmp(rl, want, strlen(want)) == 0, "call %d: RateLimit: %s", i + 1, rl);
        resp_free(r);
    }
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
    long ra = expect_429(r, "rate_limited", "key");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=10;w=10");
    cr_assert_eq(ra, 1, "one token refills in 1 s at keyRps 1");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")),
                     "rate limit exceeded for this key; retry in 1 s");
    resp_free(r);
    /* another key has its own bucket */
    for (int i = 0; i < 3; i++) {
        r = req(&s, "POST", "/v1/tools/call", other, NULL, tree_body);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    /* the first refills at keyRps */
    usleep(1100000);
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
    expect_429(r, "rate_limited", "key");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, other_authenticated_routes_spend_the_key_bucket)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"keyRateBurst\": 3, \"keyRps\": 0.01");
    cr_assert(srv_start(&s));
    const char *paths[] = {"/v1/manifest", "/v1/tools", "/v1/capabilities"};
    for (int i = 0; i < 3; i++) {
        resp *r = req(&s, "GET", paths[i], s.token, NULL, NULL);
        cr_assert_eq(r->status, 200, "%s: %s", paths[i], r->body);
        resp_free(r);
    }
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
    expect_429(r, "rate_limited", "key");
    resp_free(r);
    r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    expect_429(r, "rate_limited", "key");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=3;w=300");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, health_is_exempt)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"maxRps\": 0.01, \"rateBurst\": 2, \"ipRps\": 0.01, \"ipRateBurst\": 2");
    cr_assert(srv_start(&s));
    for (int i = 0; i < 2; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
    expect_429(r, "rate_limited", "global");
    resp_free(r);
    /* the global bucket is empty, the IP bucket is tiny: /health and /healthz still answer */
    for (int i = 0; i < 60; i++) {
        r = req(&s, "GET", i % 2 ? "/healthz" : "/health", i % 3 ? NULL : s.token, NULL, NULL);
        cr_assert_eq(r->status, 200, "health call %d: %s", i, r->body);
        cr_assert_null(resp_header(r, "Retry-After"));
        resp_free(r);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, unauthenticated_traffic_spends_only_the_ip_bucket)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"maxRps\": 0.01, \"rateBurst\": 3, \"ipRps\": 0.01, \"ipRateBurst\": 5");
    cr_assert(srv_start(&s));
    const char *bad = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    for (int i = 0; i < 5; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", i % 2 ? bad : NULL, NULL, tree_body);
        expect_error(r, 401, "unauthorized");
        resp_free(r);
    }
    /* the IP bucket is empty: guessing now gets 429, with the ip policy */
    for (int i = 0; i < 10; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", bad, NULL, tree_body);
        expect_429(r, "rate_limited", "ip");
        cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"ip\";q=5;w=500");
        resp_free(r);
    }
    /* none of that spent the global bucket (capacity 3): a valid token gets its 3 calls... */
    for (int i = 0; i < 3; i++) {
        resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
        cr_assert_eq(r->status, 200, "valid call %d: %s", i + 1, r->body);
        resp_free(r);
    }
    /* ...and then the global bucket is what refuses it */
    resp *r = req(&s, "POST", "/v1/tools/call", s.token, NULL, tree_body);
    expect_429(r, "rate_limited", "global");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, legacy_rate_limit_headers_when_asked)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"keyRateBurst\": 10, \"keyRps\": 1, \"legacyRateLimitHeaders\": true");
    cr_assert(srv_start(&s));
    resp *r = call_tool(&s, s.token, "ctx_read", "{\"path\":\"src/main.c\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "x-ratelimit-limit"), "10");
    cr_assert_str_eq(resp_header(r, "x-ratelimit-remaining"), "9");
    cr_assert_str_eq(resp_header(r, "x-ratelimit-used"), "1");
    cr_assert_str_eq(resp_header(r, "x-ratelimit-resource"), "key");
    long long reset = atoll(resp_header(r, "x-ratelimit-reset"));
    long long now = (long long)time(NULL);
    cr_assert(reset >= now && reset <= now + 3, "reset %lld, now %lld", reset, now);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
    /* off by default */
    server d;
    srv_init(&d);
    srv_config(&d, "");
    cr_assert(srv_start(&d));
    r = call_tool(&d, d.token, "ctx_read", "{\"path\":\"src/main.c\"}");
    cr_assert_null(resp_header(r, "x-ratelimit-limit"));
    resp_free(r);
    cr_assert_eq(srv_stop(&d), 0);
}

/* ---- rate tiers, per-tool costs, tenant buckets and shares (issue 5, DESIGN §11.10) ---- */

/* calls until the first refusal (at most max); the refusal is checked as a 429 of that policy
 * and returned in *refusal (caller frees); *ms is the time the calls took */
static int calls_until_refused(server *s, const char *token, const char *name, const char *args,
                               int max, const char *policy, resp **refusal, long long *ms)
{
    long long t0 = now_ms();
    for (int i = 0; i < max; i++) {
        resp *r = call_tool(s, token, name, args);
        if (r->status != 200) {
            *ms = now_ms() - t0;
            expect_429(r, "rate_limited", policy);
            *refusal = r;
            return i;
        }
        resp_free(r);
    }
    cr_assert_fail("%d calls of %s and no refusal", max, name);
    return max;
}

Test(limits, key_of_a_small_tier_gets_its_burst_then_429)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"rateTiers\": {\"small\": {\"rps\": 1, \"burst\": 5}}");
    char key[128], big[128];
    srv_key(&s, "local", "read", "--tier=small", key);
    srv_key(&s, "local", "read", NULL, big); /* the tenant's tier: default */
    cr_assert(srv_start(&s));
    resp *r = NULL;
    long long ms = 0;
    int ok = calls_until_refused(&s, key, "ctx_tree", "{\"depth\":1}", 40, "key", &r, &ms);
    /* 5, plus one per second the calls took (rps 1) on a slow machine */
    cr_assert(ok >= 5 && ok <= 5 + (int)(ms / 1000) + 1, "%d passed in %lld ms", ok, ms);
    if (ms < 900) {
        cr_assert_eq(ok, 5, "exactly the burst within the first second");
    }
    cr_assert_str_eq(resp_header(r, "Retry-After"), "1");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=5;w=5");
    resp_free(r);
    /* the other key of the tenant has the default tier's 100 */
    for (int i = 0; i < 8; i++) {
        r = call_tool(&s, big, "ctx_tree", "{\"depth\":1}");
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=100;w=10");
        resp_free(r);
    }
    /* a key whose tier the config lacks (removed since the key was made) gets the default, and
       the server warns once, naming the tier and never the key */
    char orphan[128];
    srv_key(&s, "local", "read", "--tier=small", orphan);
    size_t from = log_size(&s);
    json_t *doc = cfg_load(&s);
    json_object_del(doc, "rateTiers");
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(log_wait(&s, from, "config reloaded", 10000), "no reload");
    for (int i = 0; i < 7; i++) {
        r = call_tool(&s, orphan, "ctx_tree", "{\"depth\":1}");
        cr_assert_eq(r->status, 200, "call %d: %s", i, r->body);
        cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=100;w=10");
        resp_free(r);
    }
    cr_assert(log_wait(&s, from, "rate tier 'small' is not in rateTiers", 5000));
    char *log = slurp(s.log);
    const char *first = strstr(log + from, "rate tier 'small'");
    cr_assert(first && !strstr(first + 1, "rate tier 'small'"), "warned once");
    cr_assert_null(strstr(log, orphan), "the key is never logged");
    free(log);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, config_token_with_a_tier)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"rateTiers\": {\"tiny\": {\"rps\": 0.01, \"burst\": 3}}");
    json_t *doc = cfg_load(&s);
    json_object_set_new(json_array_get(json_object_get(doc, "tokens"), 0), "tier",
                        json_string("tiny"));
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(srv_start(&s));
    resp *r = NULL;
    long long ms = 0;
    cr_assert_eq(calls_until_refused(&s, s.token, "ctx_tree", "{\"depth\":1}", 20, "key", &r, &ms),
                 3);
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=3;w=300");
    resp_free(r);
    /* other routes spend the same bucket */
    r = req(&s, "GET", "/v1/manifest", s.token, NULL, NULL);
    expect_429(r, "rate_limited", "key");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, tool_costs_override_the_table)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"keyRateBurst\": 10, \"keyRps\": 0.01, "
                   "\"toolCosts\": {\"ctx_tree\": 5, \"ctx_glob\": 0}");
    cr_assert(srv_start(&s));
    /* a free tool does not move the bucket */
    for (int i = 0; i < 15; i++) {
        resp *r = call_tool(&s, s.token, "ctx_glob", "{\"pattern\":\"*.c\"}");
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert_str_eq(resp_header(r, "RateLimit"), "\"key\";r=10;t=0");
        resp_free(r);
    }
    resp *r = NULL;
    long long ms = 0;
    cr_assert_eq(calls_until_refused(&s, s.token, "ctx_tree", "{\"depth\":1}", 10, "key", &r, &ms),
                 2, "cost 5 drains a burst of 10 in two calls");
    /* 5 tokens at 0.01/s */
    cr_assert_str_eq(resp_header(r, "Retry-After"), "500");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, tool_action_costs_override_the_tool)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"keyRateBurst\": 10, \"keyRps\": 0.01, "
                   "\"toolCosts\": {\"ctx_index:status\": 4, \"ctx_index\": 1, "
                   "\"ctx_search:regex\": 3}");
    cr_assert(srv_start(&s));
    resp *r = call_tool(&s, s.token, "ctx_index", "{\"action\":\"status\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "RateLimit"), "\"key\";r=6;t=400");
    resp_free(r);
    /* no action: the schema's default (regex) is the action priced */
    r = call_tool(&s, s.token, "ctx_search", "{\"pattern\":\"main\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "RateLimit"), "\"key\";r=3;t=700");
    resp_free(r);
    /* an action without an entry: the tool's own (or the table) */
    r = call_tool(&s, s.token, "ctx_search", "{\"action\":\"symbol\",\"name\":\"main\"}");
    cr_assert(r->status == 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "RateLimit"), "\"key\";r=2;t=800");
    resp_free(r);
    r = call_tool(&s, s.token, "ctx_index", "{\"action\":\"status\"}");
    expect_429(r, "rate_limited", "key");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

/* team.json with a workspace for tenants acme and beta; the tenants and keys in the store */
static void two_tenants(server *s, const char *extra)
{
    srv_init(s);
    char a[600], b[600];
    dir_write(s, "a/a.txt", "acme\n", a, sizeof a);
    dir_write(s, "b/b.txt", "beta\n", b, sizeof b);
    char more[1400];
    snprintf(more, sizeof more,
             "{\"id\": \"aws\", \"root\": \"%s/a\", \"tenant\": \"acme\"}, "
             "{\"id\": \"bws\", \"root\": \"%s/b\", \"tenant\": \"beta\"}",
             s->dir, s->dir);
    srv_config_ws(s, more, extra);
    srv_tenant(s, "acme");
    srv_tenant(s, "beta");
}

Test(limits, tenant_bucket_is_shared_by_the_tenants_keys)
{
    server s;
    two_tenants(&s, "\"rateTiers\": {\"team\": {\"rps\": 0.01, \"burst\": 100, "
                    "\"tenantRps\": 0.01, \"tenantBurst\": 6}}");
    char a1[128], a2[128], b1[128];
    srv_key(&s, "acme", "read", "--tier=team", a1);
    srv_key(&s, "acme", "read", "--tier=team", a2);
    srv_key(&s, "beta", "read", "--tier=team", b1);
    cr_assert(srv_start(&s));
    for (int i = 0; i < 4; i++) {
        resp *r = call_tool(&s, a1, "ctx_tree", "{}");
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    resp *r = NULL;
    long long ms = 0;
    cr_assert_eq(calls_until_refused(&s, a2, "ctx_tree", "{}", 10, "tenant", &r, &ms), 2,
                 "acme's keys together spend its 6");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"tenant\";q=6;w=600");
    cr_assert(strstr(json_string_value(json_object_get(r->json, "error")), "for this tenant"), "%s",
              r->body);
    resp_free(r);
    r = call_tool(&s, a1, "ctx_tree", "{}");
    expect_429(r, "rate_limited", "tenant");
    resp_free(r);
    /* routes other than tool calls spend (and are refused by) the tenant bucket too */
    r = req(&s, "GET", "/v1/tools", a1, NULL, NULL);
    expect_429(r, "rate_limited", "tenant");
    resp_free(r);
    /* beta is not affected */
    for (int i = 0; i < 6; i++) {
        r = call_tool(&s, b1, "ctx_tree", "{}");
        cr_assert_eq(r->status, 200, "beta call %d: %s", i, r->body);
        cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=100;w=10000");
        resp_free(r);
    }
    r = call_tool(&s, b1, "ctx_tree", "{}");
    expect_429(r, "rate_limited", "tenant");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, a_reload_retunes_tiers_keeping_the_fill_level)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"rateTiers\": {\"t\": {\"rps\": 0.01, \"burst\": 10}}");
    char key[128];
    srv_key(&s, "local", "read", "--tier=t", key);
    cr_assert(srv_start(&s));
    for (int i = 0; i < 8; i++) {
        resp *r = call_tool(&s, key, "ctx_tree", "{}");
        cr_assert_eq(r->status, 200, "%s", r->body);
        resp_free(r);
    }
    size_t from = log_size(&s);
    json_t *doc = cfg_load(&s);
    json_t *t = json_object_get(json_object_get(doc, "rateTiers"), "t");
    json_object_set_new(t, "burst", json_integer(20));
    cfg_save(&s, doc);
    json_decref(doc);
    cr_assert(log_wait(&s, from, "config reloaded", 10000), "no reload");
    /* 2 tokens left: a larger capacity is not a refill */
    resp *r = NULL;
    long long ms = 0;
    cr_assert_eq(calls_until_refused(&s, key, "ctx_tree", "{}", 10, "key", &r, &ms), 2);
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"), "\"key\";q=20;w=2000");
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(limits, unknown_tiers_are_refused_by_check_config_and_keys_create)
{
    server s;
    srv_init(&s);
    srv_config(&s, "\"rateTiers\": {\"gold\": {\"rps\": 0, \"burst\": 10}, "
                   "\"silver\": {\"rps\": 1, \"burst\": 2}}, \"toolCosts\": {\"ctx_shell\": 1}");
    json_t *doc = cfg_load(&s);
    json_object_set_new(json_array_get(json_object_get(doc, "tokens"), 0), "tier",
                        json_string("platinum"));
    cfg_save(&s, doc);
    json_decref(doc);
    char *out = NULL, *err = NULL;
    const char *args[] = {"check-config", "--config", s.config, NULL};
    cr_assert_eq(run_ctxd(args, &out, &err), 1, "%s", err);
    cr_assert(strstr(err, "3 problems"), "%s", err);
    cr_assert(strstr(err, "rateTiers.gold.rps: must be a number > 0"), "%s", err);
    cr_assert(strstr(err, "tokens[0].tier: must name a tier of rateTiers (default, silver)"), "%s",
              err);
    cr_assert(strstr(err, "toolCosts.ctx_shell: unknown tool"), "%s", err);
    free(out);
    free(err);
    /* serve refuses it too */
    cr_assert_not(srv_start(&s));
    /* a valid config: keys create --tier must name one of its tiers */
    srv_config(&s, "\"rateTiers\": {\"silver\": {\"rps\": 1, \"burst\": 2}}");
    cr_assert_eq(
        srv_ctl(&s, &out, &err, "keys", "create", "--tenant", "local", "--tier", "gold", NULL), 2,
        "%s", err);
    cr_assert_str_eq(out, "", "no key printed");
    cr_assert(strstr(err, "no rate tier 'gold'") && strstr(err, "default, silver"), "%s", err);
    free(out);
    free(err);
    char key[128];
    srv_key(&s, "local", "read", "--tier=silver", key);
    srv_key(&s, "local", "read", "--tier=default", key);
}

Test(limits, tenant_concurrency_share)
{
    server s;
    two_tenants(&s, "\"maxConcurrency\": 4, \"searchBudgetMs\": 1500");
    make_slow_tree(&s, "a/slow", 3000);
    char a1[128], b1[128];
    srv_key(&s, "acme", "read", NULL, a1);
    srv_key(&s, "beta", "read", NULL, b1);
    make_slow_tree(&s, "b/slow", 3000);
    cr_assert(srv_start(&s));
    static const char slow_body[] =
        "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
        "\",\"path\":\"slow\"}}";
    /* acme alone may take more than half: two slow calls, and beta one */
    bg_req slow[3];
    bg_start(&slow[0], &s, a1, slow_body);
    bg_start(&slow[1], &s, a1, slow_body);
    bg_start(&slow[2], &s, b1, slow_body);
    usleep(500000);
    /* 3 of 4 slots held, 2 tenants running: acme's share is ceil(4/2) = 2, and it holds 2 */
    resp *r = call_tool(&s, a1, "ctx_tree", "{}");
    long long refused_at = now_ms();
    expect_429(r, "concurrency_limited", "tenant-concurrency");
    cr_assert_str_eq(resp_header(r, "Retry-After"), "1");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"),
                     "\"tenant-concurrency\";q=2;qu=\"concurrent-requests\"");
    cr_assert_str_eq(resp_header(r, "RateLimit"), "\"tenant-concurrency\";r=0;t=1");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "retryAfterMs")), 1000);
    resp_free(r);
    /* beta, under its share, still gets the last slot */
    r = call_tool(&s, b1, "ctx_tree", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    for (int i = 0; i < 3; i++) {
        resp *sr = bg_join(&slow[i]);
        cr_assert_eq(sr->status, 200, "%s", sr->body);
        cr_assert_gt(slow[i].done_ms, refused_at, "slow call %d was over before the refusal", i);
        resp_free(sr);
    }
    /* nothing in flight: acme alone again */
    r = call_tool(&s, a1, "ctx_tree", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

/* the tenant setting max_concurrency (DESIGN §11.12), read from the store into the snapshot */
Test(limits, tenant_max_concurrency_setting)
{
    server s;
    two_tenants(&s, "\"maxConcurrency\": 8, \"searchBudgetMs\": 1500");
    make_slow_tree(&s, "a/slow", 3000);
    char a1[128];
    srv_key(&s, "acme", "read", NULL, a1);
    char db[400];
    snprintf(db, sizeof db, "%s/data/ctxd.db", s.dir);
    sqlite3 *h = NULL;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h,
                              "UPDATE tenants SET settings = '{\"max_concurrency\":1}' "
                              "WHERE id = 'acme'",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    cr_assert(srv_start(&s));
    static const char slow_body[] =
        "{\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN
        "\",\"path\":\"slow\"}}";
    bg_req slow;
    bg_start(&slow, &s, a1, slow_body);
    usleep(500000);
    /* alone, but capped at 1 by its setting */
    resp *r = call_tool(&s, a1, "ctx_tree", "{}");
    long long refused_at = now_ms();
    expect_429(r, "concurrency_limited", "tenant-concurrency");
    cr_assert_str_eq(resp_header(r, "RateLimit-Policy"),
                     "\"tenant-concurrency\";q=1;qu=\"concurrent-requests\"");
    resp_free(r);
    resp *sr = bg_join(&slow);
    cr_assert_eq(sr->status, 200, "%s", sr->body);
    cr_assert_gt(slow.done_ms, refused_at, "the slow call was over before the refusal");
    resp_free(sr);
    r = call_tool(&s, a1, "ctx_tree", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(srv_stop(&s), 0);
}

/* keys_bench.c - what key validation and the bucket checks cost per request, in-process (run by
 * bench/keys.sh; built on demand: `ninja -C <build> bench_keys`).
 *
 * A real store (SQLite in a temporary data dir) holds a tenant and an API key; a team.json gives
 * a rate tier too large to refuse anything. Each iteration does what a request does before its
 * route runs:
 *   off: auth_authenticate (shape, checksum, SHA-256, the key row read from SQLite, constant-time
 *        compare, the batched last_used_at note), the principal's strings in the request arena;
 *   on:  the same plus the buckets: global (locked_bucket_take), key and tenant
 *        (dispatch_charge, with the tier lookup).
 * The two are run alternately, several rounds each, and the best round of each is reported
 * (the least disturbed by other load on the machine). A config token is measured the same way.
 * Usage: bench_keys [iterations per round, default 200000] [rounds, default 3] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "limit/bucket.h"
#include "store/store.h"
#include "tools/dispatch.h"

#define TOKEN "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define TOKEN_SHA "2a8abfa8cb9906290437854193ca6bca41d4d4e26d1d454bd66a35158095e737"

static double run(const config *c, store *st, const char *authz, long n, bool limits,
                  locked_bucket *global)
{
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < n; i++) {
        arena a;
        arena_init(&a, 1 << 20);
        principal who;
        if (auth_authenticate(c, st, &a, authz, NULL, &who) != AUTH_OK) {
            fprintf(stderr, "bench_keys: the credential was refused\n");
            exit(1);
        }
        if (limits) {
            rate_state rs;
            const char *policy;
            if (!locked_bucket_take(global, 1e9, 1e9, 1, &rs) ||
                !dispatch_charge(c, &who, 1, &rs, &policy)) {
                fprintf(stderr, "bench_keys: a bucket refused (%s)\n", policy);
                exit(1);
            }
        }
        arena_release(&a);
    }
    return (double)(clock_mono_ns() - t0) / 1e3 / (double)n; /* µs per request */
}

static void measure(const char *what, const config *c, store *st, const char *authz, long n,
                    int rounds, locked_bucket *global)
{
    double best_off = 1e30, best_on = 1e30;
    run(c, st, authz, n / 10 + 1, true, global); /* warm caches and the tables */
    for (int r = 0; r < rounds; r++) {
        double off = run(c, st, authz, n, false, global);
        double on = run(c, st, authz, n, true, global);
        best_off = off < best_off ? off : best_off;
        best_on = on < best_on ? on : best_on;
    }
    printf("%-13s auth only %6.2f us/request, auth + buckets %6.2f us/request, buckets add "
           "%5.2f us; total vs the 20 us goal: %.2fx\n",
           what, best_off, best_on, best_on - best_off, best_on / 20.0);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_keys [iterations >= 1] [rounds >= 1]\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char dir[] = "/tmp/ctxd-bench-keys-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[256], cmd[300];
    snprintf(path, sizeof path, "%s/team.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    /* a tier that never refuses: the loop measures the work, not the refusals */
    fprintf(f,
            "{\"dataDir\": \"data\", \"rateTiers\": {\"bench\": {\"rps\": 1e9, \"burst\": 1e9, "
            "\"tenantRps\": 1e9, \"tenantBurst\": 1e9}}, \"tokens\": [{\"id\": \"bench\", "
            "\"sha256Hex\": \"%s\", \"scopes\": [\"search\"], \"tier\": \"bench\"}]}",
            TOKEN_SHA);
    fclose(f);
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(path, false, &p);
    if (!c) {
        fprintf(stderr, "bench_keys: %s", p.text.ptr ? p.text.ptr : "config refused\n");
        return 1;
    }
    config_problems_release(&p);
    store *st = NULL;
    char why[512];
    if (store_open(c->data_dir, &st, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "bench_keys: %s\n", why);
        return 1;
    }
    store_tenant t = {.storage_quota_bytes = -1};
    snprintf(t.id, sizeof t.id, "acme");
    snprintf(t.name, sizeof t.name, "acme");
    store_key k = {.scopes = SCOPE_SEARCH};
    snprintf(k.tenant_id, sizeof k.tenant_id, "acme");
    snprintf(k.rate_limit_tier, sizeof k.rate_limit_tier, "bench");
    char key[APIKEY_MAX_LEN + 1];
    if (store_tenant_create(st, &t) != ERR_OK || store_key_mint(st, &k, key) != ERR_OK) {
        fprintf(stderr, "bench_keys: cannot create the tenant and key\n");
        return 1;
    }
    dispatch_setup();
    locked_bucket global;
    locked_bucket_init(&global, 1e9, 1e9);
    char authz[APIKEY_MAX_LEN + 16];
    snprintf(authz, sizeof authz, "Bearer %s", key);
    printf("%ld requests per round, best of %d rounds\n", n, rounds);
    measure("API key", c, st, authz, n, rounds, &global);
    measure("config token", c, st, "Bearer " TOKEN, n, rounds, &global);
    memset(key, 0, sizeof key);
    store_close(st);
    config_unref(c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

/* keys_cmd.c - `ctxd keys create|list|revoke`: the API keys of tenants (DESIGN §2, §5, §10).
 *
 * create prints the full key once, on stdout, alone on its line (KEY="$(ctxd keys create ...)"),
 * everything else on stderr; the store keeps only its SHA-256 and its key_prefix. Scopes are
 * the union of --permissions (read, write, admin) and --scopes; neither given means read. The
 * tier defaults to the tenant's. revoke takes the key_prefix a listing shows
 * (ctxd_live_<tenant>_<8 chars>); it holds for a running server on its next request. */
#include <stdio.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/scope.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "limit/policy.h"
#include "store/store.h"

static int keys_create(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--tenant", "--permissions",
                                       "--scopes", "--tier",   NULL};
    static const char *const flags[] = {"--test", NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *tenant = cli_opt(argc, argv, "--tenant");
    const char *perms = cli_opt(argc, argv, "--permissions");
    const char *scopes = cli_opt(argc, argv, "--scopes");
    const char *tier = cli_opt(argc, argv, "--tier");
    bool test = cli_flag(argc, argv, "--test");
    if (!tenant) {
        fprintf(stderr, "ctxd: --tenant T is required\n");
        return 2;
    }
    if (!apikey_tenant_valid(tenant, strlen(tenant))) {
        fprintf(stderr,
                "ctxd: '%s' is not a tenant id: 1-32 characters of [a-z0-9-], starting "
                "with a letter or digit\n",
                tenant);
        return 2;
    }
    scope_set set = 0, more = 0;
    char bad[128];
    if (perms && !scope_parse_permissions(perms, &set, bad, sizeof bad)) {
        fprintf(stderr, "ctxd: unknown permission '%s' (known: read, write, admin)\n", bad);
        return 2;
    }
    if (scopes && !scope_parse_list(scopes, &more, bad, sizeof bad)) {
        fprintf(stderr,
                "ctxd: unknown scope '%s' (known: search, graph, artifacts, index, events, "
                "sessionMutations, knowledge, audit, admin)\n",
                bad);
        return 2;
    }
    set |= more;
    if (!perms && !scopes) {
        (void)scope_parse_permissions("read", &set, bad, sizeof bad);
    }
    if (!set) {
        fprintf(stderr, "ctxd: the key would have no scope: give --permissions or --scopes\n");
        return 2;
    }
    if (tier && !cli_tier_ok(tier)) {
        fprintf(stderr, "ctxd: --tier wants 1-%d characters of [a-z0-9_-], got '%s'\n",
                STORE_TIER_MAX, tier);
        return 2;
    }
    config *conf = NULL;
    store *st = cli_store_open(cfg, &conf);
    if (!st) {
        return 1;
    }
    /* the tier must be one the config defines (LIMITS: rateTiers) */
    if (tier && !limit_tier(conf, tier)) {
        char names[512];
        limit_tier_names(conf, names, sizeof names);
        fprintf(stderr, "ctxd: no rate tier '%s' in the config (rateTiers defines: %s)\n", tier,
                names);
        store_close(st);
        config_unref(conf);
        return 2;
    }
    config_unref(conf);
    store_tenant t;
    err e = store_tenant_get(st, tenant, &t);
    if (e != ERR_OK) {
        store_close(st);
        if (e == ERR_NOT_FOUND) {
            fprintf(stderr, "ctxd: no tenant '%s' (create it with: ctxd tenant create)\n", tenant);
        } else {
            fprintf(stderr, "ctxd: cannot read tenant '%s' (%s)\n", tenant, err_code(e));
        }
        return 1;
    }
    store_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.tenant_id, sizeof k.tenant_id, "%s", tenant);
    snprintf(k.rate_limit_tier, sizeof k.rate_limit_tier, "%s", tier ? tier : t.rate_limit_tier);
    k.scopes = set;
    k.test = test;
    char key[APIKEY_MAX_LEN + 1];
    e = store_key_mint(st, &k, key); /* the admin API mints the same way */
    store_close(st);
    if (e != ERR_OK) {
        fprintf(stderr, "ctxd: cannot create a key for tenant '%s' (%s)\n", tenant, err_code(e));
        return 1;
    }
    printf("%s\n", key);
    fflush(stdout);
    buf sc;
    buf_init(&sc, 1024);
    scope_format(&sc, set, ",");
    fprintf(stderr,
            "ctxd: created key %s for tenant '%s' (scopes %s, tier %s); it is shown once, store "
            "it now\n",
            k.key_prefix, tenant, sc.ptr ? sc.ptr : "", k.rate_limit_tier);
    buf_release(&sc);
    return 0;
}

static bool print_key(const store_key *k, void *ctx)
{
    buf sc;
    buf_init(&sc, 1024);
    scope_format(&sc, k->scopes, ",");
    printf("%-52s %-12s %-24s %-24s %-24s %s\n", k->key_prefix, k->rate_limit_tier, k->created_at,
           k->last_used_at[0] ? k->last_used_at : "-", k->revoked_at[0] ? k->revoked_at : "-",
           sc.ptr ? sc.ptr : "");
    buf_release(&sc);
    return true;
}

static int keys_list(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--tenant", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *tenant = cli_opt(argc, argv, "--tenant");
    if (!tenant) {
        fprintf(stderr, "ctxd: --tenant T is required\n");
        return 2;
    }
    store *st = cli_store_open(cfg, NULL);
    if (!st) {
        return 1;
    }
    store_tenant t;
    err e = store_tenant_get(st, tenant, &t);
    if (e == ERR_OK) {
        printf("%-52s %-12s %-24s %-24s %-24s %s\n", "PREFIX", "TIER", "CREATED", "LAST_USED",
               "REVOKED", "SCOPES");
        e = store_key_list(st, tenant, print_key, NULL);
    }
    store_close(st);
    if (e == ERR_NOT_FOUND) {
        fprintf(stderr, "ctxd: no tenant '%s'\n", tenant);
        return 1;
    }
    if (e != ERR_OK) {
        fprintf(stderr, "ctxd: cannot list keys (%s)\n", err_code(e));
        return 1;
    }
    return 0;
}

static int keys_revoke(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--prefix", NULL};
    static const char *const flags[] = {NULL};
    const char *pos;
    if (!cli_check_opts_pos(argc, argv, opts, flags, &pos)) {
        return 2;
    }
    const char *prefix = cli_opt(argc, argv, "--prefix");
    prefix = prefix ? prefix : pos;
    char tenant[APIKEY_TENANT_MAX + 1];
    if (!prefix) {
        fprintf(stderr, "usage: ctxd keys revoke --config FILE <prefix>\n");
        return 2;
    }
    if (!store_prefix_tenant(prefix, tenant)) {
        fprintf(stderr,
                "ctxd: '%s' is not a key prefix (ctxd_live_<tenant>_<8 characters>, as 'ctxd keys "
                "list' shows it)\n",
                prefix);
        return 2;
    }
    store *st = cli_store_open(cfg, NULL);
    if (!st) {
        return 1;
    }
    err e = store_key_revoke(st, tenant, prefix);
    store_close(st);
    if (e == ERR_NOT_FOUND) {
        fprintf(stderr, "ctxd: no key '%s'\n", prefix);
        return 1;
    }
    if (e == ERR_CONFLICT) {
        fprintf(stderr, "ctxd: key '%s' is already revoked\n", prefix);
        return 1;
    }
    if (e != ERR_OK) {
        fprintf(stderr, "ctxd: cannot revoke '%s' (%s)\n", prefix, err_code(e));
        return 1;
    }
    fprintf(stderr, "ctxd: revoked key '%s' (a running server refuses it from the next request)\n",
            prefix);
    return 0;
}

int cli_keys(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"create", keys_create}, {"list", keys_list}, {"revoke", keys_revoke}, {NULL, NULL}};
    return cli_run_verb("keys", verbs, argc, argv);
}

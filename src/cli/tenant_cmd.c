/* tenant_cmd.c - `ctxd tenant create|list|show|delete`: the tenants of the store (DESIGN §2).
 *
 * These commands change <dataDir>/ctxd.db directly, also while a server runs (WAL; the server
 * caches nothing of it). Output meant for scripts goes to stdout (a new tenant's id alone on
 * its line, the list, the record); messages go to stderr. A tenant id follows the rule of
 * http-conventions.md §2.3, `[a-z0-9][a-z0-9-]{0,31}`, since it is part of every API key;
 * created without --id it is 8 random lowercase hex characters (seed 2). Deleting a tenant
 * removes its keys, workspaces and log rows, then its index directory <dataDir>/index/<id>/;
 * `local` (team.json's tenant) cannot be deleted. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth/apikey.h"
#include "cli/cli.h"
#include "core/strutil.h"
#include "store/store.h"

store *cli_store_open(const char *config_path, config **cfg_out)
{
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(config_path, false, &p);
    if (!c) {
        fprintf(stderr, "ctxd: %d problem%s in %s\n%s", p.count, p.count == 1 ? "" : "s",
                config_path, p.text.ptr ? p.text.ptr : "");
        config_problems_release(&p);
        return NULL;
    }
    config_problems_release(&p);
    store *st = NULL;
    char why[512];
    if (store_open(c->data_dir, &st, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        config_unref(c);
        return NULL;
    }
    if (cfg_out) {
        *cfg_out = c;
    } else {
        config_unref(c);
    }
    return st;
}

static bool takes_value(const char *a, const char *const *with_value)
{
    for (int i = 0; with_value[i]; i++) {
        if (strcmp(a, with_value[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool cli_check_opts_pos(int argc, char **argv, const char *const *with_value,
                        const char *const *flags, const char **positional)
{
    *positional = NULL;
    char *rest[64];
    int n = 0;
    for (int i = 0; i < argc && n < 64; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (*positional) {
                fprintf(stderr, "ctxd: unexpected argument '%s'\n", argv[i]);
                return false;
            }
            *positional = argv[i];
            continue;
        }
        rest[n++] = argv[i];
        if (takes_value(argv[i], with_value) && i + 1 < argc) {
            rest[n++] = argv[++i];
        }
    }
    if (n >= 64) {
        fprintf(stderr, "ctxd: too many arguments\n");
        return false;
    }
    return cli_check_opts(n, rest, with_value, flags);
}

bool cli_tier_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > STORE_TIER_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > STORE_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

static void bad_tenant_id(const char *id)
{
    fprintf(stderr,
            "ctxd: '%s' is not a tenant id: 1-32 characters of [a-z0-9-], starting with a letter "
            "or digit\n",
            id);
}

static int tenant_create(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--id", "--name", "--quota", "--tier", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    store_tenant t;
    memset(&t, 0, sizeof t);
    t.storage_quota_bytes = -1;
    const char *id = cli_opt(argc, argv, "--id");
    const char *name = cli_opt(argc, argv, "--name");
    const char *quota = cli_opt(argc, argv, "--quota");
    const char *tier = cli_opt(argc, argv, "--tier");
    if (id && !apikey_tenant_valid(id, strlen(id))) {
        bad_tenant_id(id);
        return 2;
    }
    if (!name || !name_ok(name)) {
        fprintf(stderr, "ctxd: --name is required: 1-%d characters, no control characters\n",
                STORE_NAME_MAX);
        return 2;
    }
    if (quota) {
        uint64_t q;
        if (!parse_u64(quota, strlen(quota), INT64_MAX, &q)) {
            fprintf(stderr, "ctxd: --quota wants a number of bytes, got '%s'\n", quota);
            return 2;
        }
        t.storage_quota_bytes = (int64_t)q;
    }
    if (tier && !cli_tier_ok(tier)) {
        fprintf(stderr, "ctxd: --tier wants 1-%d characters of [a-z0-9_-], got '%s'\n",
                STORE_TIER_MAX, tier);
        return 2;
    }
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.rate_limit_tier, sizeof t.rate_limit_tier, "%s", tier ? tier : STORE_DEFAULT_TIER);
    store *st = cli_store_open(cfg, NULL);
    if (!st) {
        return 1;
    }
    if (id) {
        snprintf(t.id, sizeof t.id, "%s", id);
    }
    /* without --id one is drawn (the admin API creates the same way) */
    err e = store_tenant_create_new(st, &t);
    store_close(st);
    if (e == ERR_CONFLICT) {
        fprintf(stderr, "ctxd: tenant '%s' already exists\n", t.id);
        return 1;
    }
    if (e != ERR_OK) {
        fprintf(stderr, "ctxd: cannot create tenant '%s' (%s)\n", t.id, err_code(e));
        return 1;
    }
    printf("%s\n", t.id);
    fflush(stdout);
    fprintf(stderr, "ctxd: created tenant '%s' (%s)\n", t.id, t.name);
    return 0;
}

static void quota_text(int64_t q, char out[32])
{
    if (q < 0) {
        snprintf(out, 32, "none");
    } else {
        snprintf(out, 32, "%" PRId64, q);
    }
}

static bool print_row(const store_tenant *t, void *ctx)
{
    char q[32];
    quota_text(t->storage_quota_bytes, q);
    printf("%-32s %-12s %-14s %-14" PRId64 " %-24s %s\n", t->id, t->rate_limit_tier, q,
           t->storage_used_bytes, t->created_at, t->name);
    return true;
}

static int tenant_list(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    store *st = cli_store_open(cfg, NULL);
    if (!st) {
        return 1;
    }
    printf("%-32s %-12s %-14s %-14s %-24s %s\n", "ID", "TIER", "QUOTA", "USED", "CREATED", "NAME");
    err e = store_tenant_list(st, print_row, NULL);
    store_close(st);
    if (e != ERR_OK) {
        fprintf(stderr, "ctxd: cannot list tenants (%s)\n", err_code(e));
        return 1;
    }
    return 0;
}

typedef struct key_count {
    int active, total;
} key_count;

static bool count_key(const store_key *k, void *ctx)
{
    key_count *n = ctx;
    n->total++;
    n->active += k->revoked_at[0] == '\0';
    return true;
}

/* the tenant id of show/delete: --id or the one positional argument */
static const char *tenant_arg(int argc, char **argv, const char *const *opts, int *rc)
{
    static const char *const flags[] = {NULL};
    const char *pos;
    if (!cli_check_opts_pos(argc, argv, opts, flags, &pos)) {
        *rc = 2;
        return NULL;
    }
    const char *id = cli_opt(argc, argv, "--id");
    id = id ? id : pos;
    if (!id) {
        fprintf(stderr, "ctxd: name the tenant: --id ID\n");
        *rc = 2;
        return NULL;
    }
    if (!apikey_tenant_valid(id, strlen(id))) {
        bad_tenant_id(id);
        *rc = 2;
        return NULL;
    }
    return id;
}

static int tenant_show(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--id", NULL};
    int rc = 0;
    const char *id = tenant_arg(argc, argv, opts, &rc);
    if (!id) {
        return rc;
    }
    config *c = NULL;
    store *st = cli_store_open(cfg, &c);
    if (!st) {
        return 1;
    }
    store_tenant t;
    key_count keys = {0, 0};
    err e = store_tenant_get(st, id, &t);
    if (e == ERR_OK) {
        e = store_key_list(st, id, count_key, &keys);
    }
    store_close(st);
    if (e != ERR_OK) {
        if (e == ERR_NOT_FOUND) {
            fprintf(stderr, "ctxd: no tenant '%s'\n", id);
        } else {
            fprintf(stderr, "ctxd: cannot read tenant '%s' (%s)\n", id, err_code(e));
        }
        config_unref(c);
        return 1;
    }
    size_t n_ws = 0;
    for (size_t i = 0; i < c->n_workspaces; i++) {
        n_ws += strcmp(c->workspaces[i].tenant, id) == 0;
    }
    config_unref(c);
    char q[32];
    quota_text(t.storage_quota_bytes, q);
    printf("id: %s\nname: %s\ncreated_at: %s\nrate_limit_tier: %s\nstorage_quota_bytes: %s\n"
           "storage_used_bytes: %" PRId64 "\nsettings: %s\nkeys: %d active, %d in all\n"
           "config workspaces: %zu\n",
           t.id, t.name, t.created_at, t.rate_limit_tier, q, t.storage_used_bytes, t.settings,
           keys.active, keys.total, n_ws);
    return 0;
}

static int tenant_delete(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--id", NULL};
    int rc = 0;
    const char *id = tenant_arg(argc, argv, opts, &rc);
    if (!id) {
        return rc;
    }
    if (strcmp(id, STORE_LOCAL_TENANT) == 0) {
        fprintf(stderr, "ctxd: the tenant 'local' cannot be deleted (team.json's tokens and "
                        "workspaces belong to it)\n");
        return 1;
    }
    config *c = NULL;
    store *st = cli_store_open(cfg, &c);
    if (!st) {
        return 1;
    }
    err e = store_tenant_delete(st, id);
    store_close(st);
    if (e != ERR_OK) {
        if (e == ERR_NOT_FOUND) {
            fprintf(stderr, "ctxd: no tenant '%s'\n", id);
        } else {
            fprintf(stderr, "ctxd: cannot delete tenant '%s' (%s)\n", id, err_code(e));
        }
        config_unref(c);
        return 1;
    }
    /* its files: the same removal the admin API's DELETE does */
    char why[600];
    if (store_tenant_remove_files(c->data_dir, id, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: tenant '%s' deleted, but its files were not fully removed: %s\n", id,
                why);
        config_unref(c);
        return 1;
    }
    size_t n_ws = 0;
    for (size_t i = 0; i < c->n_workspaces; i++) {
        n_ws += strcmp(c->workspaces[i].tenant, id) == 0;
    }
    config_unref(c);
    fprintf(stderr, "ctxd: deleted tenant '%s' with its keys, workspaces and index data\n", id);
    if (n_ws) {
        fprintf(stderr, "ctxd: note: %s still names %zu workspace%s of tenant '%s'\n", cfg, n_ws,
                n_ws == 1 ? "" : "s", id);
    }
    return 0;
}

int cli_tenant(int argc, char **argv)
{
    static const cli_verb verbs[] = {{"create", tenant_create},
                                     {"list", tenant_list},
                                     {"show", tenant_show},
                                     {"delete", tenant_delete},
                                     {NULL, NULL}};
    return cli_run_verb("tenant", verbs, argc, argv);
}

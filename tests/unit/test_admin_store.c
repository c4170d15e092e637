/* test_admin_store.c - what the admin API builds on below HTTP: the store's ADMIN block (tenant
 * update, workspace get/delete/list_all, key lookup by prefix, minting, generated tenant ids,
 * the key_prefix rule, removal of a tenant's files without following links) and the snapshot
 * helpers of config.h (store workspaces merged in, tenant defaults, allowedRoots and the
 * path-component boundary). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "store/store.h"

static char dir[64];

static void init(void)
{
    snprintf(dir, sizeof dir, "/tmp/ctxd-admin-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void fini(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        abort();
    }
}

TestSuite(admin_store, .init = init, .fini = fini, .timeout = 30);

static store *open_ok(void)
{
    store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), ERR_OK, "%s", why);
    return s;
}

static void put_file(const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    cr_assert_eq(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fputs(content, f);
    fclose(f);
}

static bool exists(const char *rel)
{
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return lstat(p, &sb) == 0;
}

Test(admin_store, tenant_create_new_and_update)
{
    store *s = open_ok();
    store_tenant t;
    memset(&t, 0, sizeof t);
    t.storage_quota_bytes = -1;
    snprintf(t.name, sizeof t.name, "generated");
    cr_assert_eq(store_tenant_create_new(s, &t), ERR_OK);
    regex_t re;
    cr_assert_eq(regcomp(&re, "^[0-9a-f]{8}$", REG_EXTENDED), 0);
    cr_assert_eq(regexec(&re, t.id, 0, NULL, 0), 0, "%s", t.id);
    regfree(&re);
    cr_assert(t.created_at[0], "created_at filled back");
    /* a given id that is taken: conflict, nothing drawn instead */
    store_tenant again = t;
    cr_assert_eq(store_tenant_create_new(s, &again), ERR_CONFLICT);
    cr_assert_str_eq(again.id, t.id);

    /* update keeps created_at and storage_used_bytes, replaces the rest */
    store_tenant u = t;
    snprintf(u.name, sizeof u.name, "renamed");
    snprintf(u.settings, sizeof u.settings, "{\"max_concurrency\":3}");
    snprintf(u.rate_limit_tier, sizeof u.rate_limit_tier, "gold");
    u.storage_quota_bytes = 0;
    snprintf(u.created_at, sizeof u.created_at, "1999-01-01T00:00:00.000Z");
    u.storage_used_bytes = 77;
    cr_assert_eq(store_tenant_update(s, &u), ERR_OK);
    store_tenant back;
    cr_assert_eq(store_tenant_get(s, t.id, &back), ERR_OK);
    cr_assert_str_eq(back.name, "renamed");
    cr_assert_str_eq(back.settings, "{\"max_concurrency\":3}");
    cr_assert_str_eq(back.rate_limit_tier, "gold");
    cr_assert_eq(back.storage_quota_bytes, 0, "a quota of 0 is a quota");
    cr_assert_str_eq(back.created_at, t.created_at);
    cr_assert_eq(back.storage_used_bytes, 0);
    u.storage_quota_bytes = -1;
    cr_assert_eq(store_tenant_update(s, &u), ERR_OK);
    cr_assert_eq(store_tenant_get(s, t.id, &back), ERR_OK);
    cr_assert_eq(back.storage_quota_bytes, -1, "null: no quota");
    snprintf(u.id, sizeof u.id, "nobody");
    cr_assert_eq(store_tenant_update(s, &u), ERR_NOT_FOUND);
    store_close(s);
}

Test(admin_store, key_mint_and_prefix_lookup)
{
    store *s = open_ok();
    store_tenant t;
    memset(&t, 0, sizeof t);
    t.storage_quota_bytes = -1;
    snprintf(t.id, sizeof t.id, "acme");
    cr_assert_eq(store_tenant_create(s, &t), ERR_OK);
    store_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.tenant_id, sizeof k.tenant_id, "acme");
    k.scopes = SCOPE_SEARCH | SCOPE_ADMIN;
    k.test = true;
    char key[APIKEY_MAX_LEN + 1];
    cr_assert_eq(store_key_mint(s, &k, key), ERR_OK);
    apikey parsed;
    cr_assert(apikey_parse(key, strlen(key), &parsed), "%s", key);
    cr_assert(parsed.test);
    cr_assert_str_eq(k.key_prefix, parsed.prefix);
    cr_assert_str_eq(k.rate_limit_tier, STORE_DEFAULT_TIER);
    cr_assert(k.created_at[0]);
    char hash[65];
    apikey_hash_hex(key, strlen(key), hash);
    cr_assert_str_eq(k.key_hash, hash, "only the digest is stored");
    store_key found;
    cr_assert_eq(store_key_find_prefix(s, "acme", k.key_prefix, &found), ERR_OK);
    cr_assert_eq(found.scopes, SCOPE_SEARCH | SCOPE_ADMIN);
    cr_assert_str_eq(found.key_hash, hash);
    /* the prefix filter is the tenant's */
    cr_assert_eq(store_key_find_prefix(s, "local", k.key_prefix, &found), ERR_NOT_FOUND);
    cr_assert_eq(store_key_find_prefix(s, "acme", "ctxd_test_acme_00000000", &found),
                 ERR_NOT_FOUND);
    /* a tenant that does not exist: nothing minted, the buffer wiped */
    store_key none;
    memset(&none, 0, sizeof none);
    snprintf(none.tenant_id, sizeof none.tenant_id, "ghost");
    none.scopes = SCOPE_SEARCH;
    cr_assert_eq(store_key_mint(s, &none, key), ERR_NOT_FOUND);
    cr_assert_eq(key[0], '\0');
    snprintf(none.tenant_id, sizeof none.tenant_id, "Bad_Id");
    cr_assert_eq(store_key_mint(s, &none, key), ERR_INVALID_ARGUMENTS);
    store_close(s);
}

Test(admin_store, prefix_rule)
{
    char t[APIKEY_TENANT_MAX + 1];
    cr_assert(store_prefix_tenant("ctxd_live_acme_AbCd0123", t));
    cr_assert_str_eq(t, "acme");
    cr_assert(store_prefix_tenant("ctxd_test_a-b-c_zzzzzzzz", t));
    cr_assert_str_eq(t, "a-b-c");
    const char *bad[] = {"acme",
                         "ctxd_live_acme_AbCd012",   /* 7 random chars */
                         "ctxd_live_acme_AbCd01234", /* 9: the tenant would be acme_A */
                         "ctxd_live_Acme_AbCd0123",
                         "ctxd_live__AbCd0123",
                         "ctxd_live_acme_AbCd-123",
                         "ctxd_prod_acme_AbCd0123",
                         "ctxd_live_../x_AbCd0123",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(store_prefix_tenant(bad[i], t), "'%s'", bad[i]);
    }
}

static bool count_ws(const store_workspace *w, void *ctx)
{
    (*(int *)ctx)++;
    return true;
}

Test(admin_store, workspaces_get_delete_list_all)
{
    store *s = open_ok();
    const char *tenants[] = {"acme", "beta"};
    for (int i = 0; i < 2; i++) {
        store_tenant t;
        memset(&t, 0, sizeof t);
        t.storage_quota_bytes = -1;
        snprintf(t.id, sizeof t.id, "%s", tenants[i]);
        cr_assert_eq(store_tenant_create(s, &t), ERR_OK);
        store_workspace w;
        memset(&w, 0, sizeof w);
        snprintf(w.tenant_id, sizeof w.tenant_id, "%s", tenants[i]);
        snprintf(w.id, sizeof w.id, "web");
        snprintf(w.root, sizeof w.root, "/srv/%s", tenants[i]);
        cr_assert_eq(store_workspace_add(s, &w), ERR_OK);
    }
    store_workspace got;
    cr_assert_eq(store_workspace_get(s, "beta", "web", &got), ERR_OK);
    cr_assert_str_eq(got.root, "/srv/beta");
    cr_assert_str_eq(got.label, "web");
    cr_assert_eq(store_workspace_get(s, "beta", "api", &got), ERR_NOT_FOUND);
    int n = 0;
    cr_assert_eq(store_workspace_list_all(s, count_ws, &n), ERR_OK);
    cr_assert_eq(n, 2);
    /* delete is per tenant: acme's "web" stays */
    cr_assert_eq(store_workspace_delete(s, "beta", "web"), ERR_OK);
    cr_assert_eq(store_workspace_delete(s, "beta", "web"), ERR_NOT_FOUND);
    cr_assert_eq(store_workspace_get(s, "acme", "web", &got), ERR_OK);
    n = 0;
    cr_assert_eq(store_workspace_list_all(s, count_ws, &n), ERR_OK);
    cr_assert_eq(n, 1);
    store_close(s);
}

Test(admin_store, remove_files_stays_inside_and_follows_no_link)
{
    put_file("index/acme/web.db", "index");
    put_file("index/acme/web.db-wal", "wal");
    put_file("index/acme/sub/x.db", "x");
    put_file("index/acme-2/web.db", "other tenant");
    put_file("outside/keep.txt", "precious");
    char target[256], link[256];
    snprintf(target, sizeof target, "%s/outside", dir);
    snprintf(link, sizeof link, "%s/index/acme/link", dir);
    cr_assert_eq(symlink(target, link), 0);
    char why[512] = "";
    cr_assert_eq(store_tenant_remove_files(dir, "acme", why, sizeof why), ERR_OK, "%s", why);
    cr_assert_not(exists("index/acme"), "the tenant's directory is gone");
    cr_assert(exists("outside/keep.txt"), "a link's target is never removed");
    cr_assert(exists("index/acme-2/web.db"), "a tenant whose id starts the same stays");
    /* nothing there: fine; an id that could leave the data dir: refused */
    cr_assert_eq(store_tenant_remove_files(dir, "acme", why, sizeof why), ERR_OK);
    cr_assert_eq(store_tenant_remove_files(dir, "..", why, sizeof why), ERR_INVALID_ARGUMENTS);
    cr_assert_eq(store_tenant_remove_files(dir, "a/b", why, sizeof why), ERR_INVALID_ARGUMENTS);
    cr_assert_eq(store_tenant_remove_files(dir, "", why, sizeof why), ERR_INVALID_ARGUMENTS);
    cr_assert(exists("index/acme-2/web.db"));
}

Test(admin_store, path_boundaries)
{
    cr_assert(config_paths_overlap("/srv/t", "/srv/t"));
    cr_assert(config_paths_overlap("/srv/t/x", "/srv/t"));
    cr_assert(config_paths_overlap("/srv/t", "/srv/t/x"));
    cr_assert_not(config_paths_overlap("/srv/tenants", "/srv/t"));
    cr_assert_not(config_paths_overlap("/srv/t", "/srv/tenants"));
    cr_assert_not(config_paths_overlap("/srv/a", "/srv/b"));
    cr_assert(config_paths_overlap("/", "/anything"));
}

/* a config file in dir with the given members (no workspaces of its own unless given) */
static config *load_cfg(const char *members)
{
    char p[256];
    snprintf(p, sizeof p, "%s/team.json", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"dataDir\": \"data\"%s%s}", members[0] ? ", " : "", members);
    fclose(f);
    config_problems pr;
    config_problems_init(&pr);
    config *c = config_load(p, true, &pr);
    cr_assert_not_null(c, "%s", pr.text.ptr ? pr.text.ptr : "");
    config_problems_release(&pr);
    return c;
}

Test(admin_store, allowed_roots_and_store_workspaces_in_a_snapshot)
{
    put_file("srv/t/a/f.txt", "a");
    put_file("srv/tenants/f.txt", "b");
    char members[600], t[256], a[256], tenants[256], ws[256];
    snprintf(t, sizeof t, "%s/srv/t", dir);
    snprintf(a, sizeof a, "%s/srv/t/a", dir);
    snprintf(tenants, sizeof tenants, "%s/srv/tenants", dir);
    snprintf(ws, sizeof ws, "%s/srv", dir);
    snprintf(members, sizeof members,
             "\"allowedRoots\": [\"%s/\"], \"workspaces\": [{\"id\": \"main\", \"root\": \"%s\"}]",
             t, ws);
    config *c = load_cfg(members);
    cr_assert_eq(c->n_allowed_roots, 1);
    cr_assert_str_eq(c->allowed_roots[0], t, "kept canonical (no trailing slash)");
    cr_assert(config_root_allowed(c, t));
    cr_assert(config_root_allowed(c, a));
    cr_assert_not(config_root_allowed(c, tenants));

    /* a store workspace appended and opened; the same id of the same tenant refused; a root
       that is not a directory refused */
    char why[600];
    cr_assert(config_add_store_workspace(c, "acme", "web", "Web", a, true, why, sizeof why), "%s",
              why);
    const cfg_workspace *w = config_workspace(c, "acme", "web");
    cr_assert_not_null(w);
    cr_assert(w->from_store);
    cr_assert_geq(w->root_fd, 0);
    cr_assert_str_eq(w->root_real, a);
    cr_assert_not(config_workspace(c, "local", "web"), "another tenant's id space");
    cr_assert_not(config_add_store_workspace(c, "acme", "web", "", a, true, why, sizeof why));
    cr_assert_not(
        config_add_store_workspace(c, "acme", "gone", "", "/no/such/dir", true, why, sizeof why));
    cr_assert_not(config_add_store_workspace(c, "Bad", "x", "", a, true, why, sizeof why));
    cr_assert(config_add_store_workspace(c, "beta", "main", NULL, tenants, false, why, sizeof why),
              "%s", why);
    cr_assert_eq(c->n_workspaces, 3);
    cr_assert_str_eq(config_workspace(c, "beta", "main")->label, "main");

    /* tenant defaults */
    cr_assert_null(config_tenant_default(c, "acme"));
    config_set_tenant_default(c, "acme", "web");
    config_set_tenant_default(c, "beta", "main");
    cr_assert_str_eq(config_tenant_default(c, "acme"), "web");
    cr_assert_str_eq(config_tenant_default(c, "beta"), "main");
    config_unref(c); /* everything appended is freed with the snapshot (ASan checks) */

    /* no allowedRoots: any root; a bad entry is a problem with its field */
    c = load_cfg("");
    cr_assert(config_root_allowed(c, tenants));
    config_unref(c);
    char p[256];
    snprintf(p, sizeof p, "%s/team.json", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"allowedRoots\": [\"relative\", \"/no/such/dir\", 7]}");
    fclose(f);
    config_problems pr;
    config_problems_init(&pr);
    cr_assert_null(config_load(p, false, &pr));
    cr_assert(pr.text.ptr && strstr(pr.text.ptr, "allowedRoots[0]") &&
                  strstr(pr.text.ptr, "allowedRoots[1]") && strstr(pr.text.ptr, "allowedRoots[2]"),
              "%s", pr.text.ptr ? pr.text.ptr : "");
    config_problems_release(&pr);
}

/* quota.c - the storage quota hook over the store (see quota.h). */
#include "cli/quota.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "index/index.h"

static bool quota_get(void *ctx, const char *tenant, ix_quota *out)
{
    int64_t used = 0, index_bytes = 0;
    out->quota = -1;
    out->used_other = 0;
    err e = store_tenant_quota(ctx, tenant, &out->quota, &used);
    if (e == ERR_NOT_FOUND) {
        out->quota = -1; /* a team.json tenant without a store row: no quota */
        return true;
    }
    /* besides its index files, a tenant stores sessions, knowledge and artifacts (QUOTA) */
    if (e == ERR_OK) {
        e = store_tenant_usage(ctx, tenant, &index_bytes, &out->used_other);
    }
    return e == ERR_OK;
}

static void quota_report(void *ctx, const char *tenant, int64_t index_bytes)
{
    err e = store_tenant_storage_set(ctx, tenant, index_bytes);
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        log_warn("cannot record the storage used by tenant '%s': %s", tenant, err_code(e));
    }
}

void cli_quota_install(store *s)
{
    index_set_quota_fns(quota_get, quota_report, s);
}

void cli_quota_uninstall(void)
{
    index_set_quota_fns(NULL, NULL, NULL);
}

typedef struct ids {
    char (*id)[APIKEY_TENANT_MAX + 1];
    size_t n, cap;
    bool failed;
} ids;

/* runs while the store is held: only collect */
static bool collect(const store_tenant *t, void *vctx)
{
    ids *x = vctx;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        void *grown = xrealloc(x->id, cap * sizeof *x->id);
        if (!grown) {
            x->failed = true;
            return false;
        }
        x->id = grown;
        x->cap = cap;
    }
    snprintf(x->id[x->n++], sizeof x->id[0], "%s", t->id);
    return true;
}

void cli_quota_measure_all(store *s, const config *c)
{
    ids x = {0};
    if (store_tenant_list(s, collect, &x) != ERR_OK || x.failed) {
        log_warn("cannot list the tenants to measure their storage");
    }
    for (size_t i = 0; i < x.n; i++) {
        index_report_tenant(c, x.id[i]);
    }
    xfree(x.id);
}

/* session_cmd.c - `ctxd session list`: the shared sessions of a workspace (issue 6, SESSIONS),
 * in the seed's format:
 *
 *   workspace: my-team
 *   channel: feat/auth-refactor rev:14 agents: cursor, claude-code
 *
 * one line per channel in name order, agents by token id (most recent last). Reads
 * <dataDir>/ctxd.db directly, also while a server runs (WAL). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

static bool print_row(const store_doc *d, void *ctx)
{
    (void)ctx;
    printf("channel: %s rev:%lld agents: ", d->channel, (long long)d->rev);
    json_t *doc = json_loads(d->body ? d->body : "{}", 0, NULL);
    size_t i;
    json_t *a;
    int n = 0;
    json_array_foreach (json_object_get(doc, "agents"), i, a) {
        const char *s = json_string_value(a);
        if (s) {
            printf("%s%s", n++ ? ", " : "", strncmp(s, "team:", 5) == 0 ? s + 5 : s);
        }
    }
    printf("%s\n", n ? "" : "-");
    json_decref(doc);
    return true;
}

static int session_list(int argc, char **argv)
{
    static const char *const opts[] = {"--config", "--workspace", "--tenant", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *path = cli_opt(argc, argv, "--config");
    const char *tenant = cli_opt(argc, argv, "--tenant");
    const char *ws = cli_opt(argc, argv, "--workspace");
    if (!tenant) {
        tenant = STORE_LOCAL_TENANT;
    }
    config *cfg = NULL;
    store *st = cli_store_open(path ? path : "team.json", &cfg);
    if (!st) {
        return 1;
    }
    if (!ws) {
        ws = cfg->default_workspace_id;
    }
    int rc = 0;
    store_workspace sw;
    if (!ws) {
        fprintf(stderr, "ctxd: --workspace W is required (the config has no defaultWorkspaceId)\n");
        rc = 2;
    } else if (!config_workspace(cfg, tenant, ws) &&
               store_workspace_get(st, tenant, ws, &sw) != ERR_OK) {
        fprintf(stderr, "ctxd: no workspace '%s' for tenant '%s'\n", ws, tenant);
        rc = 1;
    } else {
        printf("workspace: %s\n", ws);
        if (store_doc_list(st, tenant, ws, "session", print_row, NULL) != ERR_OK) {
            fprintf(stderr, "ctxd: cannot read the sessions (see the log above)\n");
            rc = 1;
        }
    }
    fflush(stdout);
    store_close(st);
    config_unref(cfg);
    return rc;
}

int cli_session(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "list") != 0) {
        fprintf(stderr, "usage: ctxd session list --workspace W [--config FILE] [--tenant T]\n");
        return 2;
    }
    return session_list(argc - 1, argv + 1);
}

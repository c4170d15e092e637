/* main.c - argument parsing and subcommand dispatch; the only place that exits. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "mcp/mcp.h"
#include "tools/registry.h"

static const char usage[] =
    "ctxd - a team server that gives AI coding agents compact, precise context about code\n"
    "\n"
    "usage:\n"
    "  ctxd serve --config team.json            serve the workspaces of a config\n"
    "  ctxd serve --data-dir DIR [--bind HOST:PORT] [--root PATH]\n"
    "                                           zero-config: writes DIR/team.json with one\n"
    "                                           workspace (PATH, default .) and prints a new\n"
    "                                           admin token once (only on first start)\n"
    "  ctxd team serve --config team.json       the same as serve\n"
    "  ctxd team token create --config F --id ID --scopes a,b,... [--role R] [--tenant T]\n"
    "  ctxd team token list --config F\n"
    "  ctxd team token revoke --config F --id ID\n"
    "  ctxd team sync --config F [--workspace W]\n"
    "                                           git fetch + fast-forward + incremental re-index\n"
    "  ctxd index --config F [--workspace W] [--full]\n"
    "                                           build or refresh the code index\n"
    "  ctxd tenant create --config F --name NAME [--id ID] [--quota BYTES] [--tier T]\n"
    "  ctxd tenant list --config F | show|delete --config F ID\n"
    "  ctxd keys create --config F --tenant T [--permissions read,write,admin] [--scopes a,b]\n"
    "                   [--tier T] [--test]     prints a new API key once\n"
    "  ctxd keys list --config F --tenant T | revoke --config F PREFIX\n"
    "  ctxd session list --workspace W [--config F] [--tenant T]\n"
    "                                           shared sessions: channel, rev, agents\n"
    "  ctxd connect [--server URL] [--token T] [--workspace W]\n"
    "                                           MCP on stdin/stdout, forwarded to a team server\n"
    "                                           (env CTXD_SERVER, CTXD_TOKEN, CTXD_WORKSPACE)\n"
    "  ctxd check-config --config F             validate; print every problem with its field\n"
    "  ctxd --version | help [COMMAND]\n"
    "\n"
    "scopes: search, graph, artifacts, index, events, sessionMutations, knowledge, audit, admin\n"
    "roles:  viewer, member, admin, owner\n"
    "permissions (API keys): read, write, admin\n";

static const struct {
    const char *cmd;
    const char *text;
} topics[] = {
    {"serve",
     "ctxd serve --config FILE [--bind HOST:PORT] [--log-level debug|info|warn|error]\n"
     "ctxd serve --data-dir DIR [--bind HOST:PORT] [--root PATH]\n"
     "  Serves REST (/health, /v1/...) on the config's host:port. SIGHUP reloads the config and\n"
     "  reopens the audit log; edits of the config file are picked up within a second; SIGTERM\n"
     "  drains requests in flight and exits 0. --team is accepted and ignored.\n"},
    {"team",
     "ctxd team serve --config FILE\n"
     "ctxd team token create --config FILE --id ID --scopes a,b,... [--role R] [--tenant T]\n"
     "  Prints the new token once on stdout (TOKEN=\"$(ctxd team token create ...)\"); the config\n"
     "  keeps only its SHA-256. Roles: viewer=search; member=search,graph,index,knowledge,events;\n"
     "  admin/owner=all.\n"
     "ctxd team token list --config FILE\n"
     "ctxd team token revoke --config FILE --id ID\n"
     "ctxd team sync --config FILE [--workspace ID] [--tenant T]\n"
     "  For each workspace (or the one named): git fetch of the remote the checkout already\n"
     "  has, fast-forward when the working tree is clean (a tree with local changes is not\n"
     "  touched, and the output says so), then re-index only the files the update changed.\n"
     "  A workspace without git gets an index refresh. Exit 1 if any workspace failed.\n"},
    {"index",
     "ctxd index --config FILE [--workspace ID] [--tenant T] [--full] [--log-level LEVEL]\n"
     "  Builds or refreshes the index of the workspace (every workspace without --workspace):\n"
     "  only files whose content changed are parsed; --full re-parses every file. Progress on\n"
     "  stderr (a bar on a terminal), the summary line on stdout. A server building the same\n"
     "  workspace is waited for. Exit 1 if a build failed or the workspace is unknown.\n"},
    {"tenant",
     "ctxd tenant create --config FILE --name NAME [--id ID] [--quota BYTES] [--tier T]\n"
     "  Creates a tenant in <dataDir>/ctxd.db and prints its id on stdout. ID: 1-32 characters\n"
     "  of [a-z0-9-] starting with a letter or digit (it is part of every API key); without\n"
     "  --id, 8 random lowercase hex characters. --quota: storage in bytes (default: none);\n"
     "  --tier: the rate-limit tier (default: default).\n"
     "ctxd tenant list --config FILE\n"
     "ctxd tenant show --config FILE ID        (or --id ID)\n"
     "ctxd tenant delete --config FILE ID      (or --id ID)\n"
     "  Removes the tenant, its API keys, workspaces and request log rows, and its index\n"
     "  directory <dataDir>/index/ID/. The tenant 'local' (team.json's) cannot be deleted.\n"},
    {"keys",
     "ctxd keys create --config FILE --tenant T [--permissions read,write,admin] [--scopes a,b]\n"
     "                 [--tier T] [--test]\n"
     "  Prints a new API key once on stdout (KEY=\"$(ctxd keys create ...)\"); the store keeps\n"
     "  only its SHA-256. Format: ctxd_live_<tenant>_<30 base62>_<6 base62 CRC-32> (--test:\n"
     "  ctxd_test_..., a label: it works the same). Scopes: the union of the permissions'\n"
     "  (read = search,graph,artifacts,events; write = read + index,sessionMutations,knowledge;\n"
     "  admin = all) and --scopes; neither given: read. The tier defaults to the tenant's.\n"
     "  A key is sent like a token: Authorization: Bearer <key>, or X-API-Key: <key>.\n"
     "ctxd keys list --config FILE --tenant T\n"
     "  prefix, tier, created, last used (updated within a minute), revoked, scopes\n"
     "ctxd keys revoke --config FILE PREFIX\n"
     "  PREFIX as listed (ctxd_live_<tenant>_<8 characters>); a running server refuses the key\n"
     "  from its next request.\n"},
    {"session",
     "ctxd session list --workspace W [--config FILE] [--tenant T]\n"
     "  The shared sessions (ctx_session) of workspace W (default: defaultWorkspaceId) of\n"
     "  tenant T (default: local), one line per channel: `channel: NAME rev:N agents: a, b`.\n"
     "  FILE defaults to team.json.\n"},
    {"connect",
     "ctxd connect [--server URL] [--token T] [--workspace W] [--log-level LEVEL]\n"
     "  An MCP server on stdin/stdout (newline-delimited JSON-RPC) that forwards every\n"
     "  message to URL/mcp, with the token as a bearer credential and the workspace as\n"
     "  x-leanctx-workspace. Defaults: CTXD_SERVER, CTXD_TOKEN, CTXD_WORKSPACE, else\n"
     "  LEANCTX_TEAM_SERVER, LEANCTX_TEAM_TOKEN, LEANCTX_WORKSPACE. Survives a server\n"
     "  restart (a lost session is initialized again); HTTP failures become JSON-RPC\n"
     "  errors. stdout carries only protocol; diagnostics go to stderr. Exit 0 at the end\n"
     "  of stdin, 2 without a server or token. In an MCP client's config:\n"
     "    {\"command\": \"ctxd\", \"args\": [\"connect\"],\n"
     "     \"env\": {\"CTXD_SERVER\": \"http://127.0.0.1:9877\", \"CTXD_TOKEN\": \"...\"}}\n"},
    {"check-config", "ctxd check-config --config FILE\n  Validates the file; prints every problem "
                     "as `field: what is wrong`; exit 1 if any.\n"},
};

int cli_run_verb(const char *cmd, const cli_verb *verbs, int argc, char **argv)
{
    char names[200] = "", alts[200] = ""; /* "a, b, c" and "a|b|c" */
    size_t nl = 0, al = 0;
    for (const cli_verb *v = verbs; v->name && nl < sizeof names && al < sizeof alts; v++) {
        int w = snprintf(names + nl, sizeof names - nl, "%s%s", nl ? ", " : "", v->name);
        int x = snprintf(alts + al, sizeof alts - al, "%s%s", al ? "|" : "", v->name);
        nl = w < 0 ? sizeof names : nl + (size_t)w;
        al = x < 0 ? sizeof alts : al + (size_t)x;
    }
    if (argc < 1) {
        fprintf(stderr, "usage: ctxd %s %s --config FILE ...\n", cmd, alts);
        return 2;
    }
    const char *cfg = cli_opt(argc, argv, "--config");
    if (!cfg) {
        fprintf(stderr, "ctxd: --config FILE is required\n");
        return 2;
    }
    for (const cli_verb *v = verbs; v->name; v++) {
        if (strcmp(argv[0], v->name) == 0) {
            return v->fn(argc - 1, argv + 1, cfg);
        }
    }
    fprintf(stderr, "ctxd: unknown %s command '%s' (%s)\n", cmd, argv[0], names);
    return 2;
}

const char *cli_opt(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc) {
            return argv[i + 1];
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }
    return NULL;
}

bool cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static bool in_list(const char *a, const char *const *list, size_t *matched_len)
{
    for (int i = 0; list[i]; i++) {
        size_t n = strlen(list[i]);
        if (strcmp(a, list[i]) == 0 || (strncmp(a, list[i], n) == 0 && a[n] == '=')) {
            *matched_len = n;
            return true;
        }
    }
    return false;
}

bool cli_check_opts(int argc, char **argv, const char *const *with_value, const char *const *flags)
{
    for (int i = 0; i < argc; i++) {
        size_t n;
        if (in_list(argv[i], with_value, &n)) {
            if (argv[i][n] == '=') {
                continue;
            }
            if (i + 1 >= argc) {
                fprintf(stderr, "ctxd: %s needs a value\n", argv[i]);
                return false;
            }
            i++;
            continue;
        }
        if (in_list(argv[i], flags, &n)) {
            continue;
        }
        fprintf(stderr, "ctxd: unknown option '%s' (see 'ctxd help')\n", argv[i]);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    /* the tool table first: configs check toolCosts against it (limit_set_catalog) */
    if (!registry_init()) {
        return 1;
    }
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("ctxd %s (%s)\n", CTXD_VERSION, CTXD_COMMIT);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2) {
            for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
                if (strcmp(argv[2], topics[i].cmd) == 0) {
                    fputs(topics[i].text, stdout);
                    return 0;
                }
            }
            fprintf(stderr, "ctxd: no help for '%s'\n", argv[2]);
            return 2;
        }
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0) {
        return cli_serve(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "connect") == 0) {
        return mcp_connect_main(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "index") == 0) {
        return cli_index(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "tenant") == 0) {
        return cli_tenant(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "keys") == 0) {
        return cli_keys(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "session") == 0) { /* SESSIONS (issue 6) */
        return cli_session(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "check-config") == 0) {
        return cli_check_config(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "team") == 0 && argc > 2) {
        if (strcmp(argv[2], "serve") == 0) {
            return cli_serve(argc - 3, argv + 3);
        }
        if (strcmp(argv[2], "token") == 0) {
            return cli_token(argc - 3, argv + 3);
        }
        if (strcmp(argv[2], "sync") == 0) {
            return cli_sync(argc - 3, argv + 3);
        }
    }
    fprintf(stderr, "ctxd: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}

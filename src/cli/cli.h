/* cli.h - the subcommands main() dispatches to. Each returns the process exit code:
 * 0 success, 1 failure (the reason already printed on stderr), 2 usage error. */
#ifndef CTXD_CLI_CLI_H
#define CTXD_CLI_CLI_H

#include <stdbool.h>

#include "config/config.h"
#include "store/store.h"

int cli_serve(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_index(int argc, char **argv);
int cli_sync(int argc, char **argv);   /* team sync (sync_cmd.c) */
int cli_tenant(int argc, char **argv); /* tenant create|list|show|delete (tenant_cmd.c) */
int cli_keys(int argc, char **argv);   /* keys create|list|revoke (keys_cmd.c) */
/* session list (session_cmd.c; SESSIONS, issue 6) */
int cli_session(int argc, char **argv);

/* a command's verbs (`ctxd keys create ...`): argv[0] names one; --config FILE is required */
typedef struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv, const char *config_path); /* argv after the verb */
} cli_verb;
/* run the verb argv[0] of command cmd (verbs ends with {NULL}); 2 with a message on stderr for a
   missing or unknown verb or a missing --config */
int cli_run_verb(const char *cmd, const cli_verb *verbs, int argc, char **argv);

/* shared option parsing: `--name value` or `--name=value`; NULL when absent */
const char *cli_opt(int argc, char **argv, const char *name);
bool cli_flag(int argc, char **argv, const char *name);
/* every argument is a known option (with a value unless it is a flag): else print and false */
bool cli_check_opts(int argc, char **argv, const char *const *with_value, const char *const *flags);

/* the config at path for a command other than serve (serve.c): NULL after printing its
 * problems on stderr */
config *cli_config_load(const char *path);
/* deny the server's own files (the config, dataDir, the audit log and its key, and the config's
 * secret deny list) to every workspace path, so that nothing serves or indexes them */
void cli_deny_server_files(const config *c);

/* the store of the config at path (its dataDir), for the tenant and key commands: NULL after
 * printing why on stderr. The config is loaded without opening workspace roots; with cfg_out,
 * the caller gets a reference to it. */
store *cli_store_open(const char *config_path, config **cfg_out);
/* cli_check_opts for a command that also takes at most one positional argument (NULL when
 * absent); false after printing the problem */
bool cli_check_opts_pos(int argc, char **argv, const char *const *with_value,
                        const char *const *flags, const char **positional);
/* a rate-limit tier name: 1-32 characters of [a-z0-9_-] */
bool cli_tier_ok(const char *t);

#endif

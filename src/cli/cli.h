/* cli.h - the subcommands main() dispatches to. Each returns the process exit code:
 * 0 success, 1 failure (the reason already printed on stderr), 2 usage error. */
#ifndef CTXD_CLI_CLI_H
#define CTXD_CLI_CLI_H

#include <stdbool.h>

int cli_serve(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_index(int argc, char **argv);
int cli_sync(int argc, char **argv); /* team sync (sync_cmd.c) */

/* shared option parsing: `--name value` or `--name=value`; NULL when absent */
const char *cli_opt(int argc, char **argv, const char *name);
bool cli_flag(int argc, char **argv, const char *name);
/* every argument is a known option (with a value unless it is a flag): else print and false */
bool cli_check_opts(int argc, char **argv, const char *const *with_value, const char *const *flags);

#endif

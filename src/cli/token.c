/* token.c - `ctxd team token create|list|revoke` and `ctxd check-config`.
 *
 * The plaintext token is printed once, on stdout, alone on its line, so that
 * TOKEN="$(ctxd team token create ...)" works; everything else goes to stderr. The config keeps
 * only sha256Hex. Changes go through config_rewrite (locked, atomic, unknown fields kept). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/scope.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/rewrite.h"
#include "core/clock.h"
#include "core/crypto.h"

typedef struct create_ctx {
    const char *id;
    scope_set scopes;
    const char *role;
    const char *tenant;
    char sha_hex[65];
} create_ctx;

static bool edit_create(json_t *doc, void *vctx, char *why, size_t why_len)
{
    create_ctx *c = vctx;
    json_t *tokens = json_object_get(doc, "tokens");
    if (!tokens || json_is_null(tokens)) {
        tokens = json_array();
        json_object_set_new(doc, "tokens", tokens);
    }
    if (!json_is_array(tokens)) {
        snprintf(why, why_len, "tokens: must be an array");
        return false;
    }
    size_t i;
    json_t *t;
    json_array_foreach (tokens, i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (id && strcmp(id, c->id) == 0) {
            json_t *rev = json_object_get(t, "revokedAt");
            if (!rev || json_is_null(rev)) {
                snprintf(why, why_len,
                         "token '%s' already exists; revoke it first or pick another id", c->id);
                return false;
            }
            json_array_remove(tokens, i); /* a revoked id may be reused */
            break;
        }
    }
    json_t *scopes = scope_json(c->scopes);
    char created[32];
    clock_rfc3339(clock_wall_ms(), created);
    json_t *tok = json_pack("{s:s, s:s, s:o, s:s}", "id", c->id, "sha256Hex", c->sha_hex, "scopes",
                            scopes, "createdAt", created);
    if (c->role) {
        json_object_set_new(tok, "role", json_string(c->role));
    }
    if (c->tenant) {
        json_object_set_new(tok, "tenant", json_string(c->tenant));
    }
    json_array_append_new(tokens, tok);
    return true;
}

static bool edit_revoke(json_t *doc, void *vctx, char *why, size_t why_len)
{
    const char *id = vctx;
    json_t *tokens = json_object_get(doc, "tokens");
    size_t i;
    json_t *t;
    json_array_foreach (tokens, i, t) {
        const char *tid = json_string_value(json_object_get(t, "id"));
        if (tid && strcmp(tid, id) == 0) {
            json_t *rev = json_object_get(t, "revokedAt");
            if (rev && !json_is_null(rev)) {
                snprintf(why, why_len, "token '%s' is already revoked", id);
                return false;
            }
            char now[32];
            clock_rfc3339(clock_wall_ms(), now);
            json_object_set_new(t, "revokedAt", json_string(now));
            return true;
        }
    }
    snprintf(why, why_len, "no token with id '%s'", id);
    return false;
}

/* mint a token; on success prints the plaintext on stdout */
int cli_token_create(const char *config_path, const char *id, const char *scopes_arg,
                     const char *role, const char *tenant, bool create_file);
int cli_token_create(const char *config_path, const char *id, const char *scopes_arg,
                     const char *role, const char *tenant, bool create_file)
{
    create_ctx c = {.id = id, .role = role, .tenant = tenant};
    if (scopes_arg) {
        char bad[128];
        if (!scope_parse_list(scopes_arg, &c.scopes, bad, sizeof bad)) {
            fprintf(stderr,
                    "ctxd: unknown scope '%s' (known: search, graph, artifacts, index, events, "
                    "sessionMutations, knowledge, audit, admin)\n",
                    bad);
            return 2;
        }
    }
    if (role) {
        scope_set rs;
        if (!scope_role(role, &rs)) {
            fprintf(stderr, "ctxd: unknown role '%s' (known: viewer, member, admin, owner)\n",
                    role);
            return 2;
        }
    }
    if (!c.scopes && !role) {
        fprintf(stderr, "ctxd: give --scopes a,b,... or --role R\n");
        return 2;
    }
    char token[65];
    if (!crypto_random_hex(32, token)) {
        fprintf(stderr, "ctxd: no randomness available\n");
        return 1;
    }
    crypto_sha256_hex(token, 64, c.sha_hex);
    char why[512];
    if (config_rewrite(config_path, create_file, edit_create, &c, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        return 1;
    }
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr, "ctxd: created token '%s'; it is shown once, store it now\n", id);
    return 0;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    /* ctxd_live_/ctxd_test_ name API keys (config.c refuses such token ids too) */
    if (n == 0 || n > 64 || strncmp(s, "ctxd_live_", 10) == 0 ||
        strncmp(s, "ctxd_test_", 10) == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.')) {
            return false;
        }
    }
    return true;
}

static int token_create(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--id", "--scopes", "--role", "--tenant", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *id = cli_opt(argc, argv, "--id");
    if (!id || !id_ok(id)) {
        fprintf(stderr, "ctxd: --id is required: 1-64 characters of [A-Za-z0-9._-]\n");
        return 2;
    }
    return cli_token_create(cfg, id, cli_opt(argc, argv, "--scopes"), cli_opt(argc, argv, "--role"),
                            cli_opt(argc, argv, "--tenant"), false);
}

static int token_revoke(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", "--id", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *id = cli_opt(argc, argv, "--id");
    if (!id) {
        fprintf(stderr, "ctxd: --id is required\n");
        return 2;
    }
    char why[512];
    if (config_rewrite(cfg, false, edit_revoke, (void *)id, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        return 1;
    }
    fprintf(stderr, "ctxd: revoked token '%s' (a running server applies it within a second)\n", id);
    return 0;
}

static int token_list(int argc, char **argv, const char *cfg)
{
    static const char *const opts[] = {"--config", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(cfg, false, &p);
    if (!c) {
        fprintf(stderr, "%s", p.text.ptr ? p.text.ptr : "");
        config_problems_release(&p);
        return 1;
    }
    config_problems_release(&p);
    printf("%-24s %-8s %-8s %s\n", "ID", "STATUS", "TENANT", "SCOPES");
    for (size_t i = 0; i < c->n_tokens; i++) {
        buf s;
        buf_init(&s, 1024);
        scope_format(&s, c->tokens[i].scopes, ",");
        printf("%-24s %-8s %-8s %s\n", c->tokens[i].id, c->tokens[i].revoked ? "revoked" : "active",
               c->tokens[i].tenant, s.ptr ? s.ptr : "");
        buf_release(&s);
    }
    config_unref(c);
    return 0;
}

int cli_token(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"create", token_create}, {"list", token_list}, {"revoke", token_revoke}, {NULL, NULL}};
    return cli_run_verb("team token", verbs, argc, argv);
}

int cli_check_config(int argc, char **argv)
{
    static const char *const opts[] = {"--config", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *cfg = cli_opt(argc, argv, "--config");
    if (!cfg) {
        fprintf(stderr, "ctxd: --config FILE is required\n");
        return 2;
    }
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(cfg, false, &p);
    if (!c) {
        fprintf(stderr, "%s: %d problem%s\n%s", cfg, p.count, p.count == 1 ? "" : "s",
                p.text.ptr ? p.text.ptr : "");
        config_problems_release(&p);
        return 1;
    }
    config_problems_release(&p);
    fprintf(stderr, "%s: ok (%zu workspaces, %zu active tokens)\n", cfg, c->n_workspaces,
            config_active_tokens(c));
    config_unref(c);
    return 0;
}

/* test_escape.c - the path escape battery (tools.md §1.3, §1.4; DESIGN §5): every way a caller
 * or a checkout could lead a tool outside the workspace root, to a secret, to the server's own
 * files or into a hang, and the answer it must get: an isError result with the right
 * error_code (path_outside_root, path_denied, not_found, not_a_file), never content.
 *
 * Outside the root, next to ws/, every test has outside/secret.txt and wsx/secret.txt holding
 * TOPSECRET: no answer may ever contain that word. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static server S;

static void suite_init(void)
{
    srv_init(&S);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/outside' '%s/wsx' && echo TOPSECRET > '%s/outside/secret.txt' && "
             "echo TOPSECRET > '%s/wsx/secret.txt'",
             S.dir, S.dir, S.dir, S.dir);
    cr_assert_eq(system(cmd), 0);
}

static void suite_fini(void)
{
    srv_cleanup(&S);
}

TestSuite(escape, .init = suite_init, .fini = suite_fini, .timeout = 20);

static void up(const char *extra)
{
    srv_config(&S, extra);
    cr_assert(srv_start(&S), "server did not start");
}

/* Call a tool (arguments as a printf format); the result must be an isError tool result with
 * this error_code and must not leak the secret. Returns the text (static copy). */
static const char *refused(const char *code, const char *tool, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *refused(const char *code, const char *tool, const char *fmt, ...)
{
    static char text[4096];
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    resp *r = call_tool(&S, S.token, tool, args);
    cr_assert_eq(r->status, 200, "%s %s: HTTP %ld %s", tool, args, r->status, r->body);
    cr_assert(result_is_error(r), "%s %s must be refused: %s", tool, args, r->body);
    cr_assert_str_eq(tool_error_code(r), code, "%s %s: %s", tool, args, r->body);
    cr_assert_null(strstr(r->body, "TOPSECRET"), "%s", r->body);
    snprintf(text, sizeof text, "%s", result_text(r));
    resp_free(r);
    return text;
}

/* Call a tool that must succeed; returns its text (static copy) after checking no leak. */
static const char *allowed(const char *tool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *allowed(const char *tool, const char *fmt, ...)
{
    static char text[65536];
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    resp *r = call_tool(&S, S.token, tool, args);
    cr_assert_eq(r->status, 200, "%s %s: HTTP %ld %s", tool, args, r->status, r->body);
    cr_assert_not(result_is_error(r), "%s %s: %s", tool, args, r->body);
    cr_assert_null(strstr(r->body, "TOPSECRET"), "%s", r->body);
    snprintf(text, sizeof text, "%s", result_text(r));
    resp_free(r);
    return text;
}

/* ---- textual escapes ------------------------------------------------------------------------ */

Test(escape, dot_dot_segments)
{
    up("");
    const char *paths[] = {"..",
                           "../x",
                           "a/../../x",
                           "./../x",
                           "src/..",
                           "src/../..",
                           "../ws/README.md",
                           "../outside/secret.txt",
                           "src/../../outside/secret.txt"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        refused("path_outside_root", "ctx_read", "{\"path\":\"%s\"}", paths[i]);
    }
    cr_assert_str_eq(refused("path_outside_root", "ctx_read", "{\"path\":\"../x\"}"),
                     "ERROR: '../x' has a '..' segment; paths must stay inside the workspace root");
    refused("path_outside_root", "ctx_tree", "{\"path\":\"..\"}");
    refused("path_outside_root", "ctx_tree", "{\"paths\":[\".\",\"../outside\"]}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"TOP\",\"path\":\"../outside\"}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"TOP\",\"paths\":[\"src\",\"..\"]}");
    refused("path_outside_root", "ctx_search",
            "{\"queries\":[{\"pattern\":\"TOP\",\"path\":\"../outside/secret.txt\"}]}");
    refused("path_outside_root", "ctx_glob", "{\"pattern\":\"*\",\"path\":\"../outside\"}");
}

Test(escape, absolute_paths)
{
    up("");
    refused("path_outside_root", "ctx_read", "{\"path\":\"/etc/passwd\"}");
    cr_assert_str_eq(refused("path_outside_root", "ctx_read", "{\"path\":\"/etc/passwd\"}"),
                     "ERROR: '/etc/passwd' is an absolute path outside the workspace root");
    refused("path_outside_root", "ctx_read", "{\"path\":\"%s/outside/secret.txt\"}", S.dir);
    /* a sibling sharing the root's name as a prefix is outside */
    refused("path_outside_root", "ctx_read", "{\"path\":\"%sx/secret.txt\"}", S.ws);
    refused("path_outside_root", "ctx_read", "{\"path\":\"%s/../outside/secret.txt\"}", S.ws);
    refused("path_outside_root", "ctx_tree", "{\"path\":\"/\"}");
    refused("path_outside_root", "ctx_glob", "{\"pattern\":\"passwd\",\"path\":\"/etc\"}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"root\",\"path\":\"/etc/passwd\"}");
}

Test(escape, absolute_path_inside_the_root_is_made_relative)
{
    up("");
    const char *t = allowed("ctx_read", "{\"path\":\"%s/src/main.c\",\"mode\":\"lines:1\"}", S.ws);
    cr_assert_str_eq(t,
                     "src/main.c 3L lines:1\n   1| int main(void) {\n   2|     return 0;\n   3| }");
    cr_assert_str_eq(allowed("ctx_tree", "{\"path\":\"%s\",\"depth\":1}", S.ws), "./ (3 files)\n"
                                                                                 "  README.md\n"
                                                                                 "  src/ (2)");
    cr_assert_str_eq(allowed("ctx_search", "{\"pattern\":\"return 0\",\"path\":\"%s/src\"}", S.ws),
                     "1 matches in 1 files:\nsrc/main.c:2 return 0;");
}

Test(escape, names_that_only_look_like_escapes)
{
    up("");
    const char *paths[] = {
        "%2e%2e/%2e%2e/etc/passwd", "%2e%2e", "..%2fx",  "..\\\\..\\\\etc\\\\passwd",
        "file:///etc/passwd",       "...",    "....//x", "src/.../main.c"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        refused("not_found", "ctx_read", "{\"path\":\"%s\"}", paths[i]);
    }
    /* `~` is a name too; the secret name at its end is denied before anything is opened */
    refused("path_denied", "ctx_read", "{\"path\":\"~/.ssh/id_rsa\"}");
}

Test(escape, nul_bytes_and_overlong_paths)
{
    up("");
    cr_assert_str_eq(
        refused("path_outside_root", "ctx_read", "{\"path\":\"src/main.c\\u0000.txt\"}"),
        "ERROR: path contains a NUL byte");
    refused("path_outside_root", "ctx_read", "{\"path\":\"\\u0000\"}");
    refused("path_outside_root", "ctx_tree", "{\"path\":\"src\\u0000/../..\"}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"x\",\"path\":\"src\\u0000\"}");

    /* 5000 bytes: over the 4 KiB string limit, refused before the tool runs */
    char *longp = malloc(5001);
    memset(longp, 'a', 5000);
    longp[5000] = '\0';
    char *body = malloc(6000);
    snprintf(body, 6000, "{\"path\":\"%s\"}", longp);
    resp *r = call_tool(&S, S.token, "ctx_read", body);
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(error_code(r), "invalid_arguments");
    resp_free(r);
    /* one component of 300 bytes */
    longp[300] = '\0';
    cr_assert_str_eq(refused("path_outside_root", "ctx_read", "{\"path\":\"src/%s\"}", longp),
                     "ERROR: a component of the path is longer than 255 bytes");
    /* 4096 bytes of short components: within every limit, and simply not there */
    for (int i = 0; i < 4096; i += 2) {
        longp[i] = 'a';
        longp[i + 1] = '/';
    }
    longp[4095] = 'a';
    longp[4096] = '\0';
    snprintf(body, 6000, "{\"path\":\"%s\"}", longp);
    r = call_tool(&S, S.token, "ctx_read", body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(result_is_error(r));
    cr_assert_str_eq(tool_error_code(r), "not_found", "%s", r->body);
    resp_free(r);
    free(body);
    free(longp);
}

/* ---- symlinks ---------------------------------------------------------------------------------
 */

Test(escape, symlinks_leading_outside)
{
    cr_assert_eq(ws_sh(&S, "ln -s /etc/passwd pw && ln -s ../outside ext && "
                           "ln -s ../outside/secret.txt out.txt && ln -s b.lnk a.lnk && "
                           "ln -s ../outside/secret.txt b.lnk && mkdir -p sub/deeper && "
                           "ln -s ../../outside sub/up && ln -s ../../../outside sub/deeper/up3 && "
                           "ln -s /proc/self/root proc && ln -s loop2 loop1 && ln -s loop1 loop2"),
                 0);
    up("");
    refused("path_outside_root", "ctx_read", "{\"path\":\"pw\"}");
    cr_assert_str_eq(
        refused("path_outside_root", "ctx_read", "{\"path\":\"out.txt\"}"),
        "ERROR: 'out.txt' resolves outside the workspace root (a symlink leaving it?)");
    refused("path_outside_root", "ctx_read", "{\"path\":\"ext/secret.txt\"}");
    refused("path_outside_root", "ctx_read", "{\"path\":\"a.lnk\"}"); /* a chain */
    refused("path_outside_root", "ctx_read", "{\"path\":\"sub/up/secret.txt\"}");
    refused("path_outside_root", "ctx_read", "{\"path\":\"sub/deeper/up3/secret.txt\"}");
    refused("path_outside_root", "ctx_read", "{\"path\":\"proc/etc/passwd\"}");
    refused("path_outside_root", "ctx_read", "{\"path\":\"loop1\"}");
    refused("path_outside_root", "ctx_tree", "{\"path\":\"ext\"}");
    refused("path_outside_root", "ctx_tree", "{\"path\":\"sub/up\"}");
    refused("path_outside_root", "ctx_glob", "{\"pattern\":\"*\",\"path\":\"ext\"}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"TOP\",\"path\":\"ext\"}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"TOP\",\"path\":\"out.txt\"}");
    refused("path_outside_root", "ctx_search", "{\"pattern\":\"root\",\"path\":\"pw\"}");

    /* walks neither list nor follow any of them */
    cr_assert_str_eq(allowed("ctx_tree", "{\"depth\":5,\"show_hidden\":true}"), "./ (3 files)\n"
                                                                                "  README.md\n"
                                                                                "  src/ (2)\n"
                                                                                "    main.c\n"
                                                                                "    util.c\n"
                                                                                "  sub/ (0)\n"
                                                                                "    deeper/ (0)");
    cr_assert_str_eq(allowed("ctx_glob", "{\"pattern\":\"*\"}"),
                     "README.md\nsrc/main.c\nsrc/util.c\n\n3 files matched (walked 3)");
    cr_assert_str_eq(allowed("ctx_search", "{\"pattern\":\"TOP[S]ECRET|root:\",\"hidden\":true}"),
                     "0 matches for 'TOP[S]ECRET|root:' in 3 files");
}

Test(escape, symlinks_inside_the_root_are_followed_for_reads_only)
{
    cr_assert_eq(
        ws_sh(&S,
              "ln -s src/main.c link.c && ln -s src alias && ln -s ../README.md src/readme.lnk"),
        0);
    up("");
    const char *t = allowed("ctx_read", "{\"path\":\"link.c\",\"mode\":\"lines:1\"}");
    cr_assert_str_eq(t, "link.c 3L lines:1\n   1| int main(void) {\n   2|     return 0;\n   3| }");
    t = allowed("ctx_read", "{\"path\":\"alias/util.c\",\"mode\":\"lines:1-1\"}");
    cr_assert_str_eq(t, "alias/util.c 4L lines:1-1\n   1| int add(int a, int b)");
    allowed("ctx_read", "{\"path\":\"src/readme.lnk\"}");
    /* tree and glob list a link to a file inside; a linked directory is not followed */
    cr_assert_str_eq(allowed("ctx_tree", "{}"), "./ (5 files)\n"
                                                "  README.md\n"
                                                "  link.c\n"
                                                "  src/ (3)\n"
                                                "    main.c\n"
                                                "    readme.lnk\n"
                                                "    util.c");
    cr_assert_str_eq(allowed("ctx_glob", "{\"pattern\":\"*.c\"}"),
                     "link.c\nsrc/main.c\nsrc/util.c\n\n3 files matched (walked 5)");
    /* search skips links altogether: each file is counted once, under its own path */
    cr_assert_str_eq(allowed("ctx_search", "{\"pattern\":\"int main\"}"),
                     "1 matches in 1 files:\nsrc/main.c:1 int main(void) {");
}

/* ---- the deny-list ------------------------------------------------------------------------------
 */

Test(escape, secret_files_are_denied)
{
    cr_assert_eq(ws_sh(&S, "git init -q ."), 0);
    const char *secrets[] = {".env",
                             "sub/.env.local",
                             "id_rsa",
                             "keys/id_ed25519.pub",
                             "x.pem",
                             "tls/server.key",
                             "a.p12",
                             "b.pfx",
                             "c.keystore",
                             "vault.kdbx",
                             ".npmrc",
                             ".pypirc",
                             ".netrc",
                             "credentials.json",
                             "conf/credentials-prod.json",
                             "secrets.json",
                             "secrets.yaml",
                             "secrets.yml",
                             "secrets.toml",
                             "secrets.ini",
                             "secrets.env"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        ws_write(&S, secrets[i], "TOPSECRET\n");
    }
    ws_write(&S, "secrets.py", "import os\n");
    ws_write(&S, "Lib/secrets.py", "import os\n");
    ws_write(&S, "secrets.go", "package x\n");
    ws_write(&S, "environment.txt", "ok\n");
    cr_assert_eq(ws_sh(&S, "ln -s .env innocent.txt && ln -s .git/config gitcfg.txt"), 0);
    up("");
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        refused("path_denied", "ctx_read", "{\"path\":\"%s\"}", secrets[i]);
    }
    cr_assert_str_eq(
        refused("path_denied", "ctx_read", "{\"path\":\".env\"}"),
        "ERROR: '.env' is denied by the boundary policy (secrets, .git, server files)");
    /* denied whether or not it exists: no existence oracle */
    refused("path_denied", "ctx_read", "{\"path\":\"nowhere/.env.production\"}");
    /* a link with an innocent name is judged by its target */
    refused("path_denied", "ctx_read", "{\"path\":\"innocent.txt\"}");
    refused("path_denied", "ctx_read", "{\"path\":\"gitcfg.txt\"}");
    refused("path_denied", "ctx_search", "{\"pattern\":\"TOP\",\"path\":\"innocent.txt\"}");
    /* .git in any position */
    refused("path_denied", "ctx_read", "{\"path\":\".git/config\"}");
    refused("path_denied", "ctx_read", "{\"path\":\".git/HEAD\"}");
    refused("path_denied", "ctx_tree", "{\"path\":\".git\"}");
    refused("path_denied", "ctx_search", "{\"pattern\":\"core\",\"path\":\".git\"}");
    refused("path_denied", "ctx_glob", "{\"pattern\":\"*\",\"path\":\".git\"}");
    refused("path_denied", "ctx_read", "{\"paths\":[\".env\",\"id_rsa\"]}");
    /* source files named like secrets are source files */
    allowed("ctx_read", "{\"path\":\"secrets.py\"}");
    allowed("ctx_read", "{\"path\":\"Lib/secrets.py\"}");
    allowed("ctx_read", "{\"path\":\"secrets.go\"}");
    allowed("ctx_read", "{\"path\":\"environment.txt\"}");
    /* a batch shows the refusal in place */
    const char *t =
        allowed("ctx_read", "{\"paths\":[\"secrets.py\",\".env\"],\"mode\":\"lines:1\"}");
    cr_assert_str_eq(t,
                     "secrets.py 1L lines:1\n   1| import os\n\nERROR: .env: '.env' is denied by "
                     "the boundary policy (secrets, .git, server files)");
    /* walks skip them and say how many */
    t = allowed("ctx_search", "{\"pattern\":\"TOP[S]ECRET\",\"hidden\":true}");
    cr_assert_str_eq(t, "0 matches for 'TOP[S]ECRET' in 7 files\n"
                        "(21 secret-like files skipped by boundary policy)");
    t = allowed("ctx_glob", "{\"pattern\":\"*\"}");
    cr_assert_null(strstr(t, ".git/"), "%s", t);
    cr_assert(strstr(t, "\n(21 secret-like files skipped by boundary policy)"), "%s", t);
    t = allowed("ctx_tree", "{\"show_hidden\":true,\"depth\":10}");
    cr_assert_null(strstr(t, ".git"), "%s", t);
    cr_assert_null(strstr(t, "id_rsa"), "%s", t);
    cr_assert(strstr(t, "\n(21 secret-like files skipped by boundary policy)"), "%s", t);
}

Test(escape, uppercase_git_directory_is_not_a_crash)
{
    ws_write(&S, "x.txt", "x\n");
    up("");
    resp *r = call_tool(&S, S.token, "ctx_read", "{\"path\":\".GIT/config\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(result_is_error(r));
    const char *code = tool_error_code(r);
    cr_assert(strcmp(code, "not_found") == 0 || strcmp(code, "path_denied") == 0, "%s", r->body);
    resp_free(r);
    allowed("ctx_tree", "{\"path\":\".\"}");
}

Test(escape, config_secret_deny_list_extends_the_built_in_one)
{
    ws_write(&S, "conf/app.secret", "TOPSECRET\n");
    ws_write(&S, "conf/tokens.txt", "TOPSECRET\n");
    ws_write(&S, "conf/app.conf", "ok\n");
    up("\"secretDenyList\": [\"*.secret\", \"tokens.txt\"]");
    refused("path_denied", "ctx_read", "{\"path\":\"conf/app.secret\"}");
    refused("path_denied", "ctx_read", "{\"path\":\"conf/tokens.txt\"}");
    refused("path_denied", "ctx_read", "{\"path\":\".env\"}"); /* the built-in list stays */
    allowed("ctx_read", "{\"path\":\"conf/app.conf\"}");
    cr_assert_str_eq(
        allowed("ctx_tree", "{\"path\":\"conf\"}"),
        "conf/ (1 files)\n  app.conf\n(2 secret-like files skipped by boundary policy)");
    cr_assert_str_eq(
        allowed("ctx_search", "{\"pattern\":\"TOP[S]ECRET\"}"),
        "0 matches for 'TOP[S]ECRET' in 4 files\n(2 secret-like files skipped by boundary policy)");
}

Test(escape, the_servers_own_files_inside_the_root)
{
    /* config and dataDir (audit log, HMAC key) inside the workspace */
    snprintf(S.config, sizeof S.config, "%.280s/team.json", S.ws);
    snprintf(S.audit, sizeof S.audit, "%.280s/data/audit.log", S.ws);
    up("");
    cr_assert_eq(ws_sh(&S, "ln -s team.json cfg.txt && ln -s data d"), 0);
    resp *warm = call_tool(&S, S.token, "ctx_tree", "{}"); /* makes the audit log exist */
    resp_free(warm);
    refused("path_denied", "ctx_read", "{\"path\":\"team.json\"}");
    refused("path_denied", "ctx_read", "{\"path\":\"data/audit.log\"}");
    refused("path_denied", "ctx_read", "{\"path\":\"data/audit-hmac.key\"}");
    refused("path_denied", "ctx_read", "{\"path\":\"%s/team.json\"}", S.ws);
    refused("path_denied", "ctx_read", "{\"path\":\"cfg.txt\"}");
    refused("path_denied", "ctx_read", "{\"path\":\"d/audit.log\"}");
    refused("path_denied", "ctx_tree", "{\"path\":\"data\"}");
    refused("path_denied", "ctx_search", "{\"pattern\":\"sha256Hex\",\"path\":\"team.json\"}");
    refused("path_denied", "ctx_glob", "{\"pattern\":\"*\",\"path\":\"data\"}");
    cr_assert_str_eq(allowed("ctx_tree", "{\"show_hidden\":true}"), "./ (3 files)\n"
                                                                    "  README.md\n"
                                                                    "  src/ (2)\n"
                                                                    "    main.c\n"
                                                                    "    util.c");
    cr_assert_str_eq(
        allowed("ctx_search", "{\"pattern\":\"sha256Hex|tokenId|ctx_tree\",\"hidden\":true}"),
        "0 matches for 'sha256Hex|tokenId|ctx_tree' in 3 files");
    cr_assert_str_eq(allowed("ctx_glob", "{\"pattern\":\"*.{json,log,key}\"}"),
                     "0 files matched '*.{json,log,key}' in 3 files walked");
}

Test(escape, fifo_is_never_opened_for_reading)
{
    cr_assert_eq(ws_sh(&S, "mkfifo src/pipe"), 0);
    up("");
    long long t0 = now_ms();
    cr_assert_str_eq(refused("not_a_file", "ctx_read", "{\"path\":\"src/pipe\"}"),
                     "ERROR: 'src/pipe' is not a regular file");
    refused("not_a_file", "ctx_read", "{\"path\":\"src/pipe\",\"mode\":\"lines:1-2\"}");
    cr_assert_str_eq(allowed("ctx_search", "{\"pattern\":\"return\"}"),
                     "2 matches in 2 files [src/main.c, src/util.c]:\n"
                     "src/main.c:2 return 0;\n"
                     "src/util.c:3 return a + b;");
    resp *r = call_tool(&S, S.token, "ctx_search", "{\"pattern\":\"x\",\"path\":\"src/pipe\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(result_is_error(r), "%s", r->body);
    resp_free(r);
    /* ctx_tree lists it (it exists) but does not count it as a file; glob does not list it */
    cr_assert_str_eq(allowed("ctx_tree", "{\"path\":\"src\"}"),
                     "src/ (2 files)\n  main.c\n  pipe\n  util.c");
    cr_assert_str_eq(allowed("ctx_glob", "{\"pattern\":\"src/*\"}"),
                     "src/main.c\nsrc/util.c\n\n2 files matched (walked 3)");
    cr_assert_lt(now_ms() - t0, 5000, "a FIFO must not block a worker");
}

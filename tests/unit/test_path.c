/* test_path.c - workspace path confinement (src/ws/path.c): the textual check and rewrite of
 * path_normalize, the secret deny-list (tools.md §1.4), the server's protected files, and
 * path_open/path_open_file on a real directory with symlinks and a FIFO. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "ws/path.h"

#define ROOT "/srv/ws"

static path_status norm_in(const char *in, size_t len, const char *root_real, char *out, size_t cap,
                           char *why)
{
    return path_normalize(in, len, ROOT, root_real, out, cap, why, 256);
}

/* normalize in; returns the rewritten path or "!<code>" */
static const char *norm(const char *in)
{
    static char out[PATH_MAX_LEN + 1], res[PATH_MAX_LEN + 16];
    char why[256] = "";
    memset(out, 'Z', sizeof out);
    path_status st = norm_in(in, strlen(in), "/real/ws", out, sizeof out, why);
    if (st != PATH_OK) {
        cr_assert_str_eq(out, "", "a refused path leaves out empty ('%s')", in);
        cr_assert(why[0], "a refusal says why ('%s')", in);
        snprintf(res, sizeof res, "!%s", path_status_code(st));
        return res;
    }
    return out;
}

Test(path_normalize, clean_relative_paths)
{
    cr_assert_str_eq(norm(""), "");
    cr_assert_str_eq(norm("."), "");
    cr_assert_str_eq(norm("./"), "");
    cr_assert_str_eq(norm("./."), "");
    cr_assert_str_eq(norm("src"), "src");
    cr_assert_str_eq(norm("src/"), "src");
    cr_assert_str_eq(norm("./src//main.c"), "src/main.c");
    cr_assert_str_eq(norm("a/./b/./c"), "a/b/c");
    cr_assert_str_eq(norm("a///b"), "a/b");
    cr_assert_str_eq(norm("..."), "...", "three dots is a name");
    cr_assert_str_eq(norm("..a/b.."), "..a/b..");
    cr_assert_str_eq(norm(".hidden/.x"), ".hidden/.x");
    cr_assert_str_eq(norm("%2e%2e"), "%2e%2e", "no URL decoding: just a name");
    cr_assert_str_eq(norm("a\\..\\b"), "a\\..\\b", "backslash is not a separator");
}

Test(path_normalize, dot_dot_anywhere_is_outside)
{
    const char *bad[] = {"..",        "../",    "../x",      "a/..", "a/../b",
                         "a/../../x", "./../x", "a/b/../..", "x/..", ".//..//"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_str_eq(norm(bad[i]), "!path_outside_root", "'%s'", bad[i]);
    }
}

Test(path_normalize, absolute_paths_inside_either_root_are_made_relative)
{
    cr_assert_str_eq(norm("/srv/ws"), "");
    cr_assert_str_eq(norm("/srv/ws/"), "");
    cr_assert_str_eq(norm("/srv/ws/src/main.c"), "src/main.c");
    cr_assert_str_eq(norm("/real/ws/src"), "src", "the canonical root is accepted too");
    cr_assert_str_eq(norm("/srv/ws//a/./b"), "a/b");
    cr_assert_str_eq(norm("/srv/wsx/a"), "!path_outside_root", "a prefix is not a parent");
    cr_assert_str_eq(norm("/srv/w"), "!path_outside_root");
    cr_assert_str_eq(norm("/srv"), "!path_outside_root");
    cr_assert_str_eq(norm("/etc/passwd"), "!path_outside_root");
    cr_assert_str_eq(norm("/"), "!path_outside_root");
    cr_assert_str_eq(norm("/srv/ws/../ws/x"), "!path_outside_root");
    char out[64], why[256];
    cr_assert_eq(path_normalize("/srv/ws/a", 9, NULL, NULL, out, sizeof out, why, sizeof why),
                 PATH_OUTSIDE, "no root given: every absolute path is outside");
}

Test(path_normalize, nul_bytes_and_lengths)
{
    char out[PATH_MAX_LEN + 1], why[256];
    cr_assert_eq(norm_in("a\0b", 3, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_str_eq(why, "path contains a NUL byte");
    cr_assert_eq(norm_in("\0", 1, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_eq(norm_in("ok", 2, NULL, out, sizeof out, why), PATH_OK, "len bounds the input");
    /* the input need not be NUL-terminated: the message quotes len bytes, no more (fuzz_path) */
    cr_assert_eq(norm_in("..XYZ", 2, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_str_eq(why, "'..' has a '..' segment; paths must stay inside the workspace root");
    cr_assert_eq(norm_in("a/b/..x", 6, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_str_eq(why, "'a/b/..' has a '..' segment; paths must stay inside the workspace root");
    cr_assert_eq(norm_in("/etc/pass", 4, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_str_eq(why, "'/etc' is an absolute path outside the workspace root");

    char *p = xmalloc(PATH_MAX_LEN + 2);
    memset(p, 'a', PATH_MAX_LEN + 1);
    p[PATH_MAX_LEN + 1] = '\0';
    cr_assert_eq(norm_in(p, PATH_MAX_LEN + 1, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_str_eq(why, "path is longer than 4096 bytes");
    /* components: 255 bytes pass, 256 do not */
    memset(p, 'b', 255);
    p[255] = '\0';
    cr_assert_eq(norm_in(p, 255, NULL, out, sizeof out, why), PATH_OK);
    p[255] = 'b';
    p[256] = '\0';
    cr_assert_eq(norm_in(p, 256, NULL, out, sizeof out, why), PATH_OUTSIDE);
    cr_assert_str_eq(why, "a component of the path is longer than 255 bytes");
    xfree(p);
    /* an output buffer too small is a refusal, never an overflow */
    char small[8];
    memset(small, 'Z', sizeof small);
    cr_assert_eq(path_normalize("abc/defgh", 9, NULL, NULL, small, sizeof small, why, sizeof why),
                 PATH_OUTSIDE);
    cr_assert_str_eq(small, "");
    cr_assert_eq(path_normalize("abc/de", 6, NULL, NULL, small, sizeof small, why, sizeof why),
                 PATH_OK);
    cr_assert_str_eq(small, "abc/de");
}

/* ---- deny-list ------------------------------------------------------------------------------ */

Test(deny, built_in_secret_names)
{
    const char *denied[] = {".env",         ".env.local",       ".env.production",
                            "server.pem",   "tls.key",          "a.p12",
                            "b.pfx",        "c.keystore",       "id_rsa",
                            "id_rsa.pub",   "id_ed25519",       "id_ed25519.pub",
                            "db.kdbx",      ".npmrc",           ".pypirc",
                            ".netrc",       "credentials.json", "credentials-prod.json",
                            "secrets.json", "secrets.yaml",     "secrets.yml",
                            "secrets.toml", "secrets.ini",      "secrets.env",
                            ".git"};
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        cr_assert(path_denied_name(denied[i]), "'%s' must be denied", denied[i]);
    }
    const char *allowed[] = {"secrets.py",  "secrets.go",       "secrets.rs",  "secrets",
                             "secret.json", "mysecrets.json",   "env",         "x.env",
                             ".envrc",      "environment.ts",   "pem.c",       "keys.c",
                             "my_id_rsa",   "credentials.yaml", "credentials", ".gitignore",
                             ".github",     ".gitattributes",   "key",         "README.md"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        cr_assert_not(path_denied_name(allowed[i]), "'%s' must not be denied", allowed[i]);
    }
}

Test(deny, relative_paths_deny_on_the_name_and_any_git_segment)
{
    cr_assert(path_denied_rel("config/.env"));
    cr_assert(path_denied_rel("a/b/c/id_rsa"));
    cr_assert(path_denied_rel("deploy/secrets.json"));
    cr_assert_not(path_denied_rel("Lib/secrets.py"), "CPython's secrets module is source code");
    cr_assert_not(path_denied_rel("pkg/secrets.go"));
    cr_assert(path_denied_rel(".git"));
    cr_assert(path_denied_rel(".git/config"));
    cr_assert(path_denied_rel("vendor/lib/.git/HEAD"));
    cr_assert(path_denied_rel("sub/.git"));
    cr_assert_not(path_denied_rel(".github/workflows/ci.yml"));
    cr_assert_not(path_denied_rel(".gitignore"));
    cr_assert_not(path_denied_rel("a.git/x"));
    cr_assert_not(path_denied_rel("src/main.c"));
    cr_assert_not(path_denied_rel(""));
    cr_assert_not(path_denied_rel(".env/readme.txt"), "only the last component is a secret name");
}

Test(deny, config_extends_the_list)
{
    cr_assert_not(path_denied_name("app.secret"));
    char *extra[] = {"*.secret", "vault-*"};
    path_set_extra_denied(extra, 2);
    cr_assert(path_denied_name("app.secret"));
    cr_assert(path_denied_rel("conf/vault-token.txt"));
    cr_assert(path_denied_name(".env"), "the built-in list stays");
    cr_assert_not(path_denied_name("app.secrets"));
    path_set_extra_denied(NULL, 0);
    cr_assert_not(path_denied_name("app.secret"), "a reload can take patterns away");
}

Test(deny, protected_server_files)
{
    path_protect("/srv/data");
    path_protect("/srv/team.json");
    path_protect("/srv/data"); /* twice is once */
    const char *list[16];
    cr_assert_eq(path_protected_list(list, 16), 2);
    cr_assert(path_protected_abs("/srv/data"));
    cr_assert(path_protected_abs("/srv/data/audit.log"));
    cr_assert(path_protected_abs("/srv/team.json"));
    cr_assert_not(path_protected_abs("/srv/database/x"), "a prefix is not a parent");
    cr_assert_not(path_protected_abs("/srv/team.json5"));
    cr_assert_not(path_protected_abs("/srv"));
}

/* ---- opening under a real root ----------------------------------------------------------- */

static char dir[64];
static int root_fd = -1;
static char root_real[PATH_MAX_LEN];

static void sh(const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof full, "cd '%s' && %s", dir, cmd);
    cr_assert_eq(system(full), 0, "%s", cmd);
}

static void open_init(void)
{
    snprintf(dir, sizeof dir, "/tmp/ctxd-path-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    sh("mkdir -p ws/src out && echo hi > ws/src/a.c && echo s > out/secret && echo e > ws/.env && "
       "ln -s ../out ws/ext && ln -s ../out/secret ws/s.lnk && ln -s /etc/passwd ws/abs && "
       "ln -s src/a.c ws/in.lnk && ln -s .env ws/env.lnk && mkfifo ws/pipe");
    char p[128];
    snprintf(p, sizeof p, "%s/ws", dir);
    cr_assert_not_null(realpath(p, root_real));
    root_fd = open(root_real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(root_fd, 0);
}

static void open_fini(void)
{
    if (root_fd >= 0) {
        close(root_fd);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
}

TestSuite(path_open, .init = open_init, .fini = open_fini, .timeout = 10);

static path_status open_st(const char *rel, int flags)
{
    path_status st = PATH_IO;
    int fd = path_open(root_fd, root_real, rel, flags, &st);
    if (fd >= 0) {
        close(fd);
        cr_assert_eq(st, PATH_OK);
    }
    return st;
}

Test(path_open, statuses)
{
    cr_assert_eq(open_st("src/a.c", O_RDONLY), PATH_OK);
    cr_assert_eq(open_st("in.lnk", O_RDONLY), PATH_OK, "a link to a file inside");
    cr_assert_eq(open_st("", O_RDONLY | O_DIRECTORY), PATH_OK, "the root itself");
    cr_assert_eq(open_st("src", O_RDONLY | O_DIRECTORY), PATH_OK);
    cr_assert_eq(open_st("nope", O_RDONLY), PATH_NOT_FOUND);
    cr_assert_eq(open_st("src/a.c/x", O_RDONLY), PATH_NOT_FOUND);
    cr_assert_eq(open_st("src/a.c", O_RDONLY | O_DIRECTORY), PATH_NOT_DIR);
    cr_assert_eq(open_st("ext/secret", O_RDONLY), PATH_OUTSIDE);
    cr_assert_eq(open_st("ext", O_RDONLY | O_DIRECTORY), PATH_OUTSIDE);
    cr_assert_eq(open_st("s.lnk", O_RDONLY), PATH_OUTSIDE);
    cr_assert_eq(open_st("abs", O_RDONLY), PATH_OUTSIDE);
    cr_assert_eq(open_st(".env", O_RDONLY), PATH_DENIED);
    cr_assert_eq(open_st("env.lnk", O_RDONLY), PATH_DENIED, "judged by the target too");
    cr_assert_eq(open_st(".git/config", O_RDONLY), PATH_DENIED, "denied before it is looked up");
}

Test(path_open, open_file_refuses_directories_and_fifos_without_blocking)
{
    struct stat sb;
    path_status st;
    int fd = path_open_file(root_fd, root_real, "src/a.c", &sb, &st);
    cr_assert_geq(fd, 0);
    cr_assert_eq(sb.st_size, 3);
    char b[8] = "";
    cr_assert_eq(read(fd, b, sizeof b), 3, "a regular file reads normally (blocking again)");
    close(fd);
    cr_assert_eq(path_open_file(root_fd, root_real, "src", &sb, &st), -1);
    cr_assert_eq(st, PATH_NOT_FILE);
    cr_assert(S_ISDIR(sb.st_mode));
    cr_assert_eq(path_open_file(root_fd, root_real, "pipe", &sb, &st), -1, "a FIFO does not block");
    cr_assert_eq(st, PATH_NOT_FILE);
    cr_assert(S_ISFIFO(sb.st_mode));
}

Test(path_open, walked_paths_never_follow_links)
{
    int fd = path_open_walked(root_fd, "src/a.c");
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(path_open_walked(root_fd, "in.lnk"), -1, "even a link inside the root");
    cr_assert_eq(path_open_walked(root_fd, "ext/secret"), -1);
}

Test(path_status, codes)
{
    cr_assert_str_eq(path_status_code(PATH_OUTSIDE), "path_outside_root");
    cr_assert_str_eq(path_status_code(PATH_DENIED), "path_denied");
    cr_assert_str_eq(path_status_code(PATH_NOT_FOUND), "not_found");
    cr_assert_str_eq(path_status_code(PATH_NOT_FILE), "not_a_file");
    cr_assert_str_eq(path_status_code(PATH_NOT_DIR), "not_a_directory");
    cr_assert_str_eq(path_status_code(PATH_IO), "not_found");
}

/* harness.c - see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *ctxd_bin(void)
{
    static char path[4096];
    if (!path[0]) {
        const char *b = getenv("CTXD_BIN");
        char *r = realpath(b ? b : "build/ctxd", NULL);
        snprintf(path, sizeof path, "%s", r ? r : (b ? b : "build/ctxd"));
        free(r);
    }
    return path;
}

#define bin ctxd_bin

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

void ws_write(server *s, const char *rel, const char *content)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", s->ws, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

void dir_write(server *s, const char *rel, const char *content, char *path, size_t path_cap)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", s->dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    if (path) {
        snprintf(path, path_cap, "%s", p);
    }
}

void make_slow_tree(server *s, const char *rel, int nfiles)
{
    const char *body = "aaaaaaaaaaaaaaaaaaaaaaaa\naaaaaaaaaaaaaaaaaaaaaaaa\n"
                       "aaaaaaaaaaaaaaaaaaaaaaaa\naaaaaaaaaaaaaaaaaaaaaaaa\n";
    for (int i = 0; i < nfiles; i++) {
        char name[300];
        snprintf(name, sizeof name, "%s/d%02d/f%05d.txt", rel, i / 200, i);
        dir_write(s, name, body, NULL, 0);
    }
}

void srv_init(server *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/ctxd-test-XXXXXX");
    if (!mkdtemp(s->dir)) {
        abort();
    }
    snprintf(s->ws, sizeof s->ws, "%s/ws", s->dir);
    snprintf(s->config, sizeof s->config, "%s/team.json", s->dir);
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
    snprintf(s->audit, sizeof s->audit, "%s/data/audit.log", s->dir);
    mkdirs(s->ws);
    ws_write(s, "README.md", "# Demo\n\nA small workspace for tests.\n");
    ws_write(s, "src/main.c", "int main(void) {\n    return 0;\n}\n");
    ws_write(s, "src/util.c", "int add(int a, int b)\n{\n    return a + b;\n}\n");
}

void srv_config(server *s, const char *extra)
{
    srv_config_ws(s, NULL, extra);
}

void srv_config_ws(server *s, const char *more_ws, const char *extra)
{
    /* the token "all" holds every scope; its plaintext is a fixed test value */
    snprintf(s->token, sizeof s->token, "%s",
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    char cmd[4096];
    FILE *f = fopen(s->config, "w");
    /* sha256 of the token above */
    fprintf(f,
            "{\n  \"host\": \"127.0.0.1\",\n  \"port\": 0,\n  \"defaultWorkspaceId\": \"main\",\n"
            "  \"dataDir\": \"data\",\n"
            "  \"workspaces\": [{\"id\": \"main\", \"label\": \"Main\", \"root\": \"%s\"}%s%s],\n"
            "  \"tokens\": [{\"id\": \"all\", \"sha256Hex\": "
            "\"c9ce1c4c7a9c9fe8a5d7a0b1f2f2f0b0b5b5d5c1e7ab9bfb6a8b6f0b0b0b0b0b\", "
            "\"scopes\": "
            "[\"search\",\"graph\",\"artifacts\",\"index\",\"events\",\"sessionMutations\","
            "\"knowledge\",\"audit\"]}]%s%s\n}\n",
            s->ws, more_ws && *more_ws ? ", " : "", more_ws ? more_ws : "",
            extra && *extra ? ",\n  " : "", extra ? extra : "");
    fclose(f);
    /* put the real digest in: computed by the shell to keep the harness free of crypto code */
    snprintf(cmd, sizeof cmd,
             "h=$(printf %%s %s | sha256sum | cut -d' ' -f1) && sed -i "
             "\"s/c9ce1c4c7a9c9fe8a5d7a0b1f2f2f0b0b5b5d5c1e7ab9bfb6a8b6f0b0b0b0b0b/$h/\" %s",
             s->token, s->config);
    if (system(cmd) != 0) {
        abort();
    }
}

int run_ctxd(const char *const *args, char **out, char **err)
{
    char outp[] = "/tmp/ctxd-run-out-XXXXXX", errp[] = "/tmp/ctxd-run-err-XXXXXX";
    int ofd = mkstemp(outp), efd = mkstemp(errp);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        const char *argv[32];
        int n = 0;
        argv[n++] = bin();
        for (int i = 0; args[i] && n < 31; i++) {
            argv[n++] = args[i];
        }
        argv[n] = NULL;
        execv(bin(), (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    close(ofd);
    close(efd);
    if (out) {
        *out = slurp(outp);
    }
    if (err) {
        *err = slurp(errp);
    }
    unlink(outp);
    unlink(errp);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool srv_token(server *s, const char *id, const char *scopes, char out[80])
{
    const char *args[] = {"team", "token", "create",   "--config", s->config,
                          "--id", id,      "--scopes", scopes,     NULL};
    char *o = NULL;
    int rc = run_ctxd(args, &o, NULL);
    bool ok = rc == 0 && o && strlen(o) == 65;
    if (ok) {
        memcpy(out, o, 64);
        out[64] = '\0';
    }
    free(o);
    return ok;
}

bool srv_start(server *s)
{
    int lfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        /* a test that fails an assertion never reaches srv_stop: the server goes with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(lfd, 2);
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        /* the server may run under other sanitizer options than the tests (scripts/test.sh:
           leaks are checked in the server, whose clean exit the tests assert) */
        const char *so = getenv("CTXD_SERVER_ASAN_OPTIONS");
        if (so) {
            setenv("ASAN_OPTIONS", so, 1);
        }
        execl(bin(), bin(), "serve", "--config", s->config, (char *)NULL);
        _exit(127);
    }
    close(lfd);
    s->pid = pid;
    for (int i = 0; i < 500; i++) {
        char *log = slurp(s->log);
        const char *p = log ? strstr(log, "Team Server - ") : NULL;
        if (p) {
            const char *nl = strchr(p, '\n');
            const char *colon = nl ? memrchr(p, ':', (size_t)(nl - p)) : NULL;
            if (colon) {
                s->port = atoi(colon + 1);
                free(log);
                return true;
            }
        }
        free(log);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            return false;
        }
        usleep(10000);
    }
    return false;
}

int srv_stop(server *s)
{
    if (!s->pid) {
        return -1;
    }
    kill(s->pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return -1;
}

typedef struct sink {
    char *p;
    size_t n;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *k = ud;
    size_t add = size * nmemb;
    char *np = realloc(k->p, k->n + add + 1);
    if (!np) {
        return 0;
    }
    memcpy(np + k->n, ptr, add);
    k->n += add;
    np[k->n] = '\0';
    k->p = np;
    return add;
}

resp *req(server *s, const char *method, const char *path, const char *token,
          const char *const *headers, const char *body)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    CURL *c = curl_easy_init();
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    struct curl_slist *h = NULL;
    char auth[200];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    bool has_ct = false;
    for (int i = 0; headers && headers[i]; i++) {
        h = curl_slist_append(h, headers[i]);
        has_ct |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
    }
    if (body) {
        if (!has_ct) {
            h = curl_slist_append(h, "Content-Type: application/json");
        }
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    sink b = {0}, hd = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
    resp *r = calloc(1, sizeof *r);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    }
    r->body = b.p ? b.p : strdup("");
    r->headers = hd.p ? hd.p : strdup("");
    r->json = json_loads(r->body, 0, NULL);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

resp *call_tool(server *s, const char *token, const char *name, const char *args_json)
{
    char body[65536];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"arguments\":%s}", name,
             args_json ? args_json : "{}");
    return req(s, "POST", "/v1/tools/call", token, NULL, body);
}

const char *resp_header(resp *r, const char *name)
{
    static __thread char value[1024];
    size_t n = strlen(name);
    const char *p = r->headers;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') {
                v++;
            }
            size_t l = nl ? (size_t)(nl - v) : strlen(v);
            while (l && (v[l - 1] == '\r' || v[l - 1] == ' ')) {
                l--;
            }
            snprintf(value, sizeof value, "%.*s", (int)l, v);
            return value;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

const char *result_text(resp *r)
{
    json_t *t = json_object_get(
        json_array_get(json_object_get(json_object_get(r->json, "result"), "content"), 0), "text");
    return json_is_string(t) ? json_string_value(t) : "";
}

bool result_is_error(resp *r)
{
    return json_is_true(json_object_get(json_object_get(r->json, "result"), "isError"));
}

const char *error_code(resp *r)
{
    json_t *c = json_object_get(r->json, "error_code");
    return json_is_string(c) ? json_string_value(c) : "";
}

void resp_free(resp *r)
{
    if (r) {
        json_decref(r->json);
        free(r->body);
        free(r->headers);
        free(r);
    }
}

char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t got;
    while ((got = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            cap *= 2;
            p = realloc(p, cap);
        }
    }
    p[n] = '\0';
    fclose(f);
    return p;
}

json_t *audit_lines(server *s)
{
    json_t *arr = json_array();
    char *text = slurp(s->audit);
    if (!text) {
        return arr;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) {
            json_array_append_new(arr, j);
        }
    }
    free(text);
    return arr;
}

/* ---- helpers for the tool and escape suites ---- */

void ws_write_bytes(server *s, const char *rel, const void *data, size_t len)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", s->ws, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

const char *ws_path(server *s, const char *rel)
{
    static __thread char p[1024];
    snprintf(p, sizeof p, "%s/%s", s->ws, rel);
    return p;
}

int ws_sh(server *s, const char *fmt, ...)
{
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "cd '%s' && ( ", s->ws);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + n, sizeof cmd - (size_t)n - 4, fmt, ap);
    va_end(ap);
    strcat(cmd, " )");
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *sh_out(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return NULL;
    }
    size_t cap = 4096, n = 0, got;
    char *out = malloc(cap);
    while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 2) {
            cap *= 2;
            out = realloc(out, cap);
        }
    }
    out[n] = '\0';
    pclose(p);
    return out;
}

const char *tool_error_code(resp *r)
{
    json_t *sc = json_object_get(json_object_get(r->json, "result"), "structuredContent");
    json_t *c = json_object_get(sc, "error_code");
    return json_is_string(c) ? json_string_value(c) : "";
}

void srv_cleanup(server *s)
{
    if (s->pid) {
        srv_stop(s);
    }
    if (s->dir[0] && strncmp(s->dir, "/tmp/ctxd-test-", 15) == 0) {
        char cmd[600];
        /* a test may have made parts unreadable or unwritable: give them back first */
        snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", s->dir, s->dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cleanup of '%s' failed\n", s->dir);
        }
    }
}

bool is_error(resp *r, long status, const char *code, char *why, size_t why_len)
{
    const char *ct = resp_header(r, "Content-Type");
    bool json_ct = ct && strncmp(ct, "application/json", 16) == 0;
    const char *rid = resp_header(r, "X-Request-Id");
    bool rid_ok = rid && strlen(rid) == 32 && strspn(rid, "0123456789abcdef") == 32;
    json_t *e = json_object_get(r->json, "error");
    json_t *c = json_object_get(r->json, "error_code");
    if (r->status != status) {
        snprintf(why, why_len, "status %ld, expected %ld: %s", r->status, status, r->body);
    } else if (!json_is_object(r->json)) {
        snprintf(why, why_len, "the body is not a JSON object: %s", r->body);
    } else if (!json_is_string(e) || !*json_string_value(e)) {
        snprintf(why, why_len, "no \"error\" sentence: %s", r->body);
    } else if (!json_is_string(c) || strcmp(json_string_value(c), code) != 0) {
        snprintf(why, why_len, "error_code is not \"%s\": %s", code, r->body);
    } else if (!json_ct) {
        snprintf(why, why_len, "Content-Type is '%s', not application/json", ct ? ct : "(none)");
    } else if (!rid_ok) {
        snprintf(why, why_len, "X-Request-Id is '%s', not 32 hex digits", rid ? rid : "(none)");
    } else {
        return true;
    }
    return false;
}

char *raw_http(server *s, const char *data, size_t len, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    sink k = {0};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return strdup("");
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            break; /* the server may close before taking it all: read what it said */
        }
        off += (size_t)w;
    }
    long long until = now_ms() + timeout_ms;
    for (;;) {
        long long left = until - now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            break;
        }
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            break;
        }
        on_data(chunk, 1, (size_t)n, &k);
    }
    close(fd);
    return k.p ? k.p : strdup("");
}

static void *bg_run(void *arg)
{
    bg_req *b = arg;
    b->r = req(b->s, "POST", "/v1/tools/call", b->token, NULL, b->body);
    b->done_ms = now_ms();
    return NULL;
}

void bg_start(bg_req *b, server *s, const char *token, const char *body)
{
    b->s = s;
    b->token = token;
    b->body = body;
    b->r = NULL;
    b->done_ms = 0;
    if (pthread_create(&b->thread, NULL, bg_run, b) != 0) {
        abort();
    }
}

resp *bg_join(bg_req *b)
{
    pthread_join(b->thread, NULL);
    return b->r;
}

json_t *cfg_load(server *s)
{
    return json_load_file(s->config, 0, NULL);
}

void cfg_save(server *s, json_t *doc)
{
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s.edit", s->config);
    if (json_dump_file(doc, tmp, JSON_INDENT(2)) != 0 || rename(tmp, s->config) != 0) {
        abort();
    }
}

size_t log_size(server *s)
{
    struct stat st;
    return stat(s->log, &st) == 0 ? (size_t)st.st_size : 0;
}

bool log_wait(server *s, size_t from, const char *needle, int timeout_ms)
{
    long long until = now_ms() + timeout_ms;
    do {
        char *log = slurp(s->log);
        bool hit = log && strlen(log) >= from && strstr(log + from, needle);
        free(log);
        if (hit) {
            return true;
        }
        usleep(20000);
    } while (now_ms() < until);
    return false;
}

json_t *audit_wait(server *s, size_t n, int timeout_ms)
{
    long long until = now_ms() + timeout_ms;
    for (;;) {
        json_t *lines = audit_lines(s);
        if (json_array_size(lines) >= n || now_ms() >= until) {
            return lines;
        }
        json_decref(lines);
        usleep(10000);
    }
}

/* ---- helpers for the suites that call tools and read the index ---- */

void srv_up(server *s, const char *extra_fields)
{
    srv_config(s, extra_fields);
    bool ok = srv_start(s);
    char *log = ok ? NULL : slurp(s->log);
    cr_assert(ok, "server did not start: %s", log ? log : "");
    free(log);
}

void index_build_wait(server *s)
{
    resp *r = call_tool(s, s->token, "ctx_index", "{\"action\":\"build\",\"wait\":true}");
    cr_assert_eq(r->status, 200, "build: %s", r->body);
    cr_assert(strncmp(result_text(r), "index built: ", 13) == 0, "build: %s", result_text(r));
    resp_free(r);
}

const char *tool_callf(server *s, resp **last, const char *token, bool want_error, const char *name,
                       const char *fmt, ...)
{
    char args[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    resp_free(*last);
    resp *r = *last = call_tool(s, token, name, args);
    cr_assert_eq(r->status, 200, "%s %s: HTTP %ld %s", name, args, r->status, r->body);
    cr_assert_eq(result_is_error(r), want_error, "%s %s: isError should be %d: %s", name, args,
                 want_error, r->body);
    return result_text(r);
}

json_t *structured_content(resp *r)
{
    json_t *sc = json_object_get(json_object_get(r->json, "result"), "structuredContent");
    cr_assert(json_is_object(sc), "no structuredContent: %s", r->body);
    return sc;
}

char *ws_sha12(server *s, const char *rel)
{
    char *h = sh_out("sha256sum '%s' | cut -c1-12", ws_path(s, rel));
    cr_assert(h && strlen(h) == 13, "sha256sum failed");
    h[12] = '\0';
    return h;
}

/* the index database of ws_id, read-only; NULL when it cannot be opened */
static sqlite3 *index_db_open(server *s, const char *ws_id)
{
    char path[400];
    snprintf(path, sizeof path, "%s/data/index/local/%s.db", s->dir, ws_id);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000); /* a server may be creating the schema */
    return db;
}

long long index_db_int(server *s, const char *ws_id, const char *sql)
{
    sqlite3 *db = index_db_open(s, ws_id);
    if (!db) {
        return -1;
    }
    sqlite3_stmt *q = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

char *index_db_text(server *s, const char *ws_id, const char *sql)
{
    sqlite3 *db = index_db_open(s, ws_id);
    if (!db) {
        return NULL;
    }
    sqlite3_stmt *q = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
        sqlite3_column_text(q, 0)) {
        v = strdup((const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

size_t cfg_add_ws(server *s, const char *id, const char *root)
{
    json_t *doc = cfg_load(s);
    json_array_append_new(json_object_get(doc, "workspaces"),
                          json_pack("{s:s, s:s}", "id", id, "root", root));
    size_t mark = log_size(s);
    cfg_save(s, doc);
    json_decref(doc);
    return mark;
}

/* ---- tenants and API keys through the CLI ---- */

int srv_ctl(server *s, char **out, char **err, ...)
{
    const char *args[28];
    int n = 0;
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 24) {
        args[n++] = a;
    }
    va_end(ap);
    args[n++] = "--config";
    args[n++] = s->config;
    args[n] = NULL;
    return run_ctxd(args, out, err);
}

void srv_tenant(server *s, const char *id)
{
    char *err = NULL;
    int rc = srv_ctl(s, NULL, &err, "tenant", "create", "--id", id, "--name", id, NULL);
    cr_assert_eq(rc, 0, "tenant create %s: %s", id, err);
    free(err);
}

void srv_key(server *s, const char *tenant_id, const char *perms, const char *extra, char out[128])
{
    char *o = NULL, *e = NULL;
    int rc = extra ? srv_ctl(s, &o, &e, "keys", "create", "--tenant", tenant_id, "--permissions",
                             perms, extra, NULL)
                   : srv_ctl(s, &o, &e, "keys", "create", "--tenant", tenant_id, "--permissions",
                             perms, NULL);
    cr_assert_eq(rc, 0, "keys create: %s", e);
    size_t n = strlen(o);
    cr_assert(n > 1 && o[n - 1] == '\n' && !memchr(o, '\n', n - 1), "one line on stdout: '%s'", o);
    o[n - 1] = '\0';
    snprintf(out, 128, "%s", o);
    free(o);
    free(e);
}

bool re_matches(const char *re, const char *s)
{
    regex_t rx;
    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0, "%s", re);
    bool ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

/* test_connect.c - `ctxd connect`, the stdio bridge (mcp.md §12), as an MCP client on stdio
 * sees it: the real binary spawned with pipes in front of a real ctxd. Every line the bridge
 * writes on stdout is checked to be one JSON-RPC message (stdout carries only protocol); the
 * tests cover both eras end to end, HTTP failures as JSON-RPC errors, a server restart in the
 * middle of a session, cancellation, concurrency, bounded input and the configuration
 * sources (flags, CTXD_*, the seed's LEANCTX_*). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MODERN_META                                                                                \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                       \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"
#define INITIALIZE(id)                                                                             \
    "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"initialize\",\"params\":{"                   \
    "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"                                      \
    "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}"
#define INITIALIZED "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"

/* a running `ctxd connect` */
typedef struct bridge {
    pid_t pid;
    int in, out;   /* its stdin (we write) and stdout (we read) */
    char err[320]; /* its stderr, a file in the test dir */
    char *pending; /* stdout bytes after the last newline */
    size_t npending;
    bool eof;
    json_t *lines; /* every stdout line, parsed, in order */
} bridge;

/* "KEY=VALUE" entries for the child's environment; the bridge's own variables are cleared
 * first so the test's environment cannot leak in */
static void bridge_start(bridge *b, server *s, const char *const *env, const char *const *args)
{
    memset(b, 0, sizeof *b);
    b->lines = json_array();
    snprintf(b->err, sizeof b->err, "%s/connect-%d.log", s->dir, (int)now_ms() % 100000);
    int in[2], out[2];
    /* close-on-exec: a server started later must not hold the pipes open (no EOF then) */
    cr_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
    int efd = open(b->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(efd, 2);
        close(in[1]);
        close(out[0]);
        static const char *const vars[] = {
            "CTXD_SERVER",        "CTXD_TOKEN",        "CTXD_WORKSPACE", "LEANCTX_TEAM_SERVER",
            "LEANCTX_TEAM_TOKEN", "LEANCTX_WORKSPACE", "http_proxy",     "HTTP_PROXY",
            "all_proxy",          "ALL_PROXY"};
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
            unsetenv(vars[i]);
        }
        for (int i = 0; env && env[i]; i++) {
            putenv((char *)env[i]);
        }
        const char *argv[16];
        int n = 0;
        argv[n++] = ctxd_bin();
        argv[n++] = "connect";
        for (int i = 0; args && args[i] && n < 15; i++) {
            argv[n++] = args[i];
        }
        argv[n] = NULL;
        execv(ctxd_bin(), (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(efd);
    b->pid = pid;
    b->in = in[1];
    b->out = out[0];
}

/* a bridge on the server's URL with this token */
static void bridge_for(bridge *b, server *s, const char *token)
{
    static __thread char url[128], tok[128];
    snprintf(url, sizeof url, "CTXD_SERVER=http://127.0.0.1:%d", s->port);
    snprintf(tok, sizeof tok, "CTXD_TOKEN=%s", token);
    const char *env[] = {url, tok, NULL};
    bridge_start(b, s, env, NULL);
}

static void bridge_send(bridge *b, const char *line)
{
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t w = write(b->in, line + off, n - off);
        cr_assert(w > 0, "writing to the bridge failed: %s", strerror(errno));
        off += (size_t)w;
    }
    cr_assert_eq(write(b->in, "\n", 1), 1);
}

/* every stdout line must be one JSON-RPC 2.0 message: a request or notification (method), or
 * a response with an id and exactly one of result and error{code, message} */
static json_t *check_line(const char *line)
{
    json_error_t e;
    json_t *m = json_loads(line, 0, &e);
    cr_assert(json_is_object(m), "stdout carries something that is not a JSON object: '%s'", line);
    cr_assert_str_eq(json_string_value(json_object_get(m, "jsonrpc")), "2.0", "line: %s", line);
    if (!json_object_get(m, "method")) {
        json_t *res = json_object_get(m, "result"), *err = json_object_get(m, "error");
        cr_assert(json_object_get(m, "id"), "a response without id: %s", line);
        cr_assert((res != NULL) != (err != NULL), "not exactly one of result/error: %s", line);
        if (err) {
            cr_assert(json_is_integer(json_object_get(err, "code")), "line: %s", line);
            cr_assert(json_is_string(json_object_get(err, "message")), "line: %s", line);
        }
    }
    return m;
}

/* the next stdout message within timeout_ms (borrowed from b->lines), or NULL */
static json_t *bridge_next(bridge *b, int timeout_ms)
{
    long long until = now_ms() + timeout_ms;
    for (;;) {
        char *nl = b->npending ? memchr(b->pending, '\n', b->npending) : NULL;
        if (nl) {
            *nl = '\0';
            json_t *m = check_line(b->pending);
            size_t used = (size_t)(nl - b->pending) + 1;
            memmove(b->pending, nl + 1, b->npending - used);
            b->npending -= used;
            json_array_append_new(b->lines, m);
            return m;
        }
        long long left = until - now_ms();
        if (b->eof || left <= 0) {
            return NULL;
        }
        struct pollfd p = {b->out, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0) {
            continue;
        }
        char chunk[65536];
        ssize_t r = read(b->out, chunk, sizeof chunk);
        if (r <= 0) {
            b->eof = true;
            cr_assert_eq(b->npending, 0, "stdout ends with a partial line: '%.*s'",
                         (int)b->npending, b->pending);
            continue;
        }
        b->pending = realloc(b->pending, b->npending + (size_t)r + 1);
        memcpy(b->pending + b->npending, chunk, (size_t)r);
        b->npending += (size_t)r;
        b->pending[b->npending] = '\0';
    }
}

static bool has_id(json_t *m, long long id)
{
    json_t *v = json_object_get(m, "id");
    return json_is_integer(v) && json_integer_value(v) == id && !json_object_get(m, "method");
}

/* the response with this id, skipping other messages; NULL after timeout_ms */
static json_t *bridge_reply(bridge *b, long long id, int timeout_ms)
{
    for (size_t i = 0; i < json_array_size(b->lines); i++) {
        if (has_id(json_array_get(b->lines, i), id)) {
            return json_array_get(b->lines, i);
        }
    }
    long long until = now_ms() + timeout_ms;
    for (;;) {
        long long left = until - now_ms();
        json_t *m = bridge_next(b, left > 0 ? (int)left : 0);
        if (!m) {
            return NULL;
        }
        if (has_id(m, id)) {
            return m;
        }
    }
}

/* send a request and wait for its answer */
static json_t *call(bridge *b, long long id, const char *line, int timeout_ms)
{
    bridge_send(b, line);
    json_t *m = bridge_reply(b, id, timeout_ms);
    cr_assert(m, "no answer to request %lld within %d ms", id, timeout_ms);
    return m;
}

/* close stdin, read stdout to its end; the exit status (or -1) */
static int bridge_finish(bridge *b)
{
    if (b->in >= 0) {
        close(b->in);
        b->in = -1;
    }
    long long until = now_ms() + 15000;
    while (!b->eof && now_ms() < until) {
        bridge_next(b, 500);
    }
    int st = 0;
    for (int i = 0; i < 1500 && waitpid(b->pid, &st, WNOHANG) == 0; i++) {
        usleep(10000);
    }
    if (waitpid(b->pid, &st, WNOHANG) == 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void bridge_free(bridge *b)
{
    if (b->in >= 0) {
        close(b->in);
    }
    close(b->out);
    free(b->pending);
    json_decref(b->lines);
}

static json_t *result_of(json_t *m)
{
    json_t *r = json_object_get(m, "result");
    cr_assert(json_is_object(r), "not a result: %s", json_dumps(m, JSON_COMPACT));
    return r;
}

static json_t *error_of(json_t *m)
{
    json_t *e = json_object_get(m, "error");
    cr_assert(json_is_object(e), "not an error: %s", json_dumps(m, JSON_COMPACT));
    return e;
}

static const char *tool_text(json_t *m)
{
    json_t *t =
        json_object_get(json_array_get(json_object_get(result_of(m), "content"), 0), "text");
    return json_is_string(t) ? json_string_value(t) : "";
}

static long long err_code(json_t *m)
{
    return json_integer_value(json_object_get(error_of(m), "code"));
}

static const char *err_message(json_t *m)
{
    return json_string_value(json_object_get(error_of(m), "message"));
}

/* a legacy session: initialize (id 1) and notifications/initialized */
static void handshake(bridge *b)
{
    json_t *r = result_of(call(b, 1, INITIALIZE(1), 10000));
    cr_assert_str_eq(json_string_value(json_object_get(r, "protocolVersion")), "2025-11-25");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "serverInfo"), "name")),
                     "ctxd");
    bridge_send(b, INITIALIZED);
}

static bool tools_include(json_t *m, const char *name)
{
    json_t *tools = json_object_get(result_of(m), "tools");
    size_t i;
    json_t *t;
    json_array_foreach (tools, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0) {
            return true;
        }
    }
    return false;
}

/* a local port nothing listens on */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t len = sizeof sa;
    cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    cr_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

Test(connect, legacy_session_initialize_list_call)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, s.token);
    handshake(&b);

    json_t *list = call(&b, 2, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", 10000);
    cr_assert(tools_include(list, "ctx_read"), "tools/list lacks ctx_read");
    json_t *read = call(&b, 3,
                        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
                        "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"src/util.c\"}}}",
                        10000);
    cr_assert(strstr(tool_text(read), "return a + b;"), "ctx_read text: %s", tool_text(read));
    cr_assert(!json_is_true(json_object_get(result_of(read), "isError")));
    json_t *ping = call(&b, 4, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}", 10000);
    cr_assert_eq(json_object_size(result_of(ping)), 0);
    /* a string id comes back as it was */
    bridge_send(&b, "{\"jsonrpc\":\"2.0\",\"id\":\"x-5\",\"method\":\"ping\"}");
    json_t *m = bridge_next(&b, 10000);
    cr_assert(m && json_is_string(json_object_get(m, "id")));
    cr_assert_str_eq(json_string_value(json_object_get(m, "id")), "x-5");

    cr_assert_eq(bridge_finish(&b), 0, "exit status at the end of stdin");
    /* the notification produced nothing: exactly one line per request */
    cr_assert_eq(json_array_size(b.lines), 5, "stdout lines: %zu", json_array_size(b.lines));
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, modern_requests_carry_their_headers)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, s.token);
    /* no initialize: each request names its version in _meta; the server refuses a request
       whose MCP-Protocol-Version, Mcp-Method or Mcp-Name headers disagree with it (-32020) */
    json_t *d =
        call(&b, 1,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{" MODERN_META
             "}}",
             10000);
    cr_assert(json_is_array(json_object_get(result_of(d), "supportedVersions")));
    json_t *list = call(
        &b, 2,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{" MODERN_META "}}",
        10000);
    cr_assert(tools_include(list, "ctx_read"));
    cr_assert_str_eq(json_string_value(json_object_get(result_of(list), "resultType")), "complete");
    json_t *read =
        call(&b, 3,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
             "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\"}," MODERN_META "}}",
             10000);
    cr_assert(strstr(tool_text(read), "# Demo"), "ctx_read text: %s", tool_text(read));
    /* a tool name that is not plain ASCII travels as =?base64?...?= and still matches the body:
       the answer is "unknown tool", not a header mismatch */
    json_t *odd = call(&b, 4,
                       "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{"
                       "\"name\":\"ctx_r\xc3\xa9\x61\x64\",\"arguments\":{}," MODERN_META "}}",
                       10000);
    cr_assert_eq(err_code(odd), -32602, "%s", err_message(odd));
    cr_assert_eq(bridge_finish(&b), 0);
    cr_assert_eq(json_array_size(b.lines), 4);
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, bad_token_is_a_jsonrpc_error_naming_401)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, "not-a-valid-token");
    json_t *m = call(&b, 1, INITIALIZE(1), 10000);
    cr_assert_eq(err_code(m), -31401, "%s", err_message(m));
    cr_assert(strstr(err_message(m), "401"), "message: %s", err_message(m));
    json_t *data = json_object_get(error_of(m), "data");
    cr_assert_eq(json_integer_value(json_object_get(data, "httpStatus")), 401);
    cr_assert_str_eq(json_string_value(json_object_get(data, "error_code")), "unauthorized");
    bridge_send(&b, INITIALIZED); /* refused too, but a notification gets no answer */
    m = call(&b, 2, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", 10000);
    cr_assert(strstr(err_message(m), "401"), "message: %s", err_message(m));
    cr_assert_eq(bridge_finish(&b), 0);
    /* nothing but the two answers on stdout */
    cr_assert_eq(json_array_size(b.lines), 2, "stdout lines: %zu", json_array_size(b.lines));
    char *err = slurp(b.err);
    cr_assert(err && strstr(err, "401"), "stderr names the refused notification: %s", err);
    cr_assert(!strstr(err, "not-a-valid-token"), "the token is never logged");
    free(err);
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, server_restart_mid_session_is_transparent)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    /* pin the port so the restarted server comes back at the same address */
    char extra[64];
    snprintf(extra, sizeof extra, "%d", s.port);
    json_t *doc = cfg_load(&s);
    json_object_set_new(doc, "port", json_integer(s.port));
    cfg_save(&s, doc);
    json_decref(doc);

    bridge b;
    bridge_for(&b, &s, s.token);
    handshake(&b);
    json_t *m = call(&b, 2,
                     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"src/util.c\"}}}",
                     10000);
    cr_assert(strstr(tool_text(m), "return a + b;"));

    cr_assert_eq(srv_stop(&s), 0);
    /* the call goes out while the server is down: the bridge retries the connection, then
       finds its session gone (404) and initializes a new one before sending the call again */
    bridge_send(&b, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
                    "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"README.md\"}}}");
    usleep(800000);
    cr_assert(srv_start(&s), "the server did not come back");
    cr_assert_eq(s.port, atoi(extra));
    m = bridge_reply(&b, 3, 15000);
    cr_assert(m, "no answer to the call after the restart");
    cr_assert(strstr(tool_text(m), "# Demo"), "after the restart: %s", json_dumps(m, JSON_COMPACT));
    /* and later calls use the new session without another round */
    m = call(&b, 4, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}", 10000);
    result_of(m);
    cr_assert_eq(bridge_finish(&b), 0);
    cr_assert_eq(json_array_size(b.lines), 4, "the bridge's own initialize is not shown");
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, unreachable_server_is_a_jsonrpc_error, .timeout = 60)
{
    server s;
    srv_init(&s);
    int port = closed_port();
    char url[80];
    snprintf(url, sizeof url, "CTXD_SERVER=127.0.0.1:%d", port);
    const char *env[] = {url, "CTXD_TOKEN=t", NULL};
    bridge b;
    bridge_start(&b, &s, env, NULL);
    long long t0 = now_ms();
    json_t *m = call(&b, 7, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", 20000);
    long long took = now_ms() - t0;
    char want[120];
    snprintf(want, sizeof want, "cannot reach ctxd server at http://127.0.0.1:%d/mcp: ", port);
    cr_assert(strstr(err_message(m), want), "message: %s", err_message(m));
    /* it kept trying for a while (a restarting server), then gave up */
    cr_assert_geq(took, 8000, "gave up after %lld ms", took);
    cr_assert_eq(bridge_finish(&b), 0);
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, missing_server_or_token_exits_2)
{
    server s;
    srv_init(&s);
    const char *only_token[] = {"CTXD_TOKEN=t", NULL};
    const char *only_server[] = {"CTXD_SERVER=http://127.0.0.1:1", NULL};
    const char *const *cases[] = {only_token, only_server};
    const char *needle[] = {"CTXD_SERVER", "CTXD_TOKEN"};
    for (int i = 0; i < 2; i++) {
        bridge b;
        bridge_start(&b, &s, cases[i], NULL);
        cr_assert_eq(bridge_finish(&b), 2);
        cr_assert_eq(json_array_size(b.lines), 0, "stdout must stay empty");
        char *err = slurp(b.err);
        cr_assert(err && strstr(err, needle[i]), "stderr: %s", err);
        free(err);
        bridge_free(&b);
    }
    srv_cleanup(&s);
}

Test(connect, bad_input_lines_get_jsonrpc_errors, .timeout = 60)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, s.token);
    handshake(&b);
    bridge_send(&b, "{not json");
    json_t *m = bridge_next(&b, 5000);
    cr_assert(m && json_is_null(json_object_get(m, "id")));
    cr_assert_eq(err_code(m), -32700);
    bridge_send(&b, "17");
    m = bridge_next(&b, 5000);
    cr_assert(m);
    cr_assert_eq(err_code(m), -32600);
    bridge_send(&b, "   "); /* blank lines are ignored */
    /* a line over 16 MiB is refused and skipped, and the bridge goes on */
    size_t big = (size_t)17 << 20;
    char *line = malloc(big + 64);
    int n = snprintf(line, 64,
                     "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":{\"x\":\"");
    memset(line + n, 'a', big);
    memcpy(line + n + big, "\"}}", 4);
    bridge_send(&b, line);
    free(line);
    m = bridge_next(&b, 10000);
    cr_assert(m && json_is_null(json_object_get(m, "id")));
    cr_assert_eq(err_code(m), -32700);
    cr_assert(strstr(err_message(m), "16777216"), "message: %s", err_message(m));
    m = call(&b, 10, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}", 10000);
    result_of(m);
    cr_assert_eq(bridge_finish(&b), 0);
    cr_assert_eq(json_array_size(b.lines), 5);
    bridge_free(&b);
    srv_cleanup(&s);
}

/* a ctx_search that takes seconds (stopped by the server after requestTimeoutMs) */
#define SLOW_CALL(id, meta)                                                                        \
    "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"tools/call\",\"params\":{"                   \
    "\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"" SLOW_PATTERN "\","                     \
    "\"path\":\"slow\"}" meta "}}"

/* no line with this id arrives within ms */
static void expect_silence(bridge *b, long long id, int ms)
{
    long long until = now_ms() + ms;
    for (long long left; (left = until - now_ms()) > 0;) {
        json_t *m = bridge_next(b, (int)left);
        cr_assert(!m || !has_id(m, id), "an answer to cancelled request %lld: %s", id,
                  json_dumps(m, JSON_COMPACT));
    }
}

Test(connect, slow_call_blocks_nothing_and_cancel_silences_it, .timeout = 90)
{
    server s;
    srv_init(&s);
    make_slow_tree(&s, "ws/slow", 3000);
    srv_config(&s, "\"requestTimeoutMs\": 4000");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, s.token);
    handshake(&b);
    long long t0 = now_ms();
    bridge_send(&b, SLOW_CALL(10, ""));
    usleep(300000);
    json_t *m = call(&b, 11, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\"}", 3000);
    result_of(m);
    cr_assert(!bridge_reply(&b, 10, 0), "the slow call had already finished: not a test");
    cr_assert_lt(now_ms() - t0, 2500, "ping waited for the slow call");
    /* legacy cancellation: forwarded to the server; its answer (if any) is never shown */
    bridge_send(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                    "\"params\":{\"requestId\":10,\"reason\":\"test\"}}");
    expect_silence(&b, 10, 5500); /* past requestTimeoutMs: it would have answered by now */
    m = call(&b, 12, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"ping\"}", 5000);
    result_of(m);
    cr_assert_eq(bridge_finish(&b), 0);
    cr_assert_eq(json_array_size(b.lines), 3);
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, modern_cancel_closes_the_stream, .timeout = 90)
{
    server s;
    srv_init(&s);
    make_slow_tree(&s, "ws/slow", 3000);
    srv_config(&s, "\"requestTimeoutMs\": 4000");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, s.token);
    bridge_send(&b, SLOW_CALL(20, "," MODERN_META));
    usleep(300000);
    json_t *m = call(
        &b, 21,
        "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/list\",\"params\":{" MODERN_META "}}",
        3000);
    result_of(m);
    cr_assert(!bridge_reply(&b, 20, 0), "the slow call had already finished: not a test");
    bridge_send(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                    "\"params\":{\"requestId\":20}}");
    expect_silence(&b, 20, 5500);
    cr_assert_eq(bridge_finish(&b), 0);
    cr_assert_eq(json_array_size(b.lines), 1);
    bridge_free(&b);
    srv_cleanup(&s);
}

Test(connect, seed_variables_flags_and_workspace)
{
    server s;
    srv_init(&s);
    char other[400];
    snprintf(other, sizeof other, "%s/other", s.dir);
    dir_write(&s, "other/only-b.txt", "from workspace b\n", NULL, 0);
    char more[600];
    snprintf(more, sizeof more, "{\"id\": \"b\", \"label\": \"B\", \"root\": \"%s\"}", other);
    srv_config_ws(&s, more, "");
    cr_assert(srv_start(&s));
    const char *read_b = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                         "\"name\":\"ctx_read\",\"arguments\":{\"path\":\"only-b.txt\"}}}";

    /* the seed's variables when the CTXD_* ones are absent; the workspace rides along */
    char url[100], tok[120];
    snprintf(url, sizeof url, "LEANCTX_TEAM_SERVER=http://127.0.0.1:%d/", s.port);
    snprintf(tok, sizeof tok, "LEANCTX_TEAM_TOKEN=%s", s.token);
    const char *seed_env[] = {url, tok, "LEANCTX_WORKSPACE=b", NULL};
    bridge b;
    bridge_start(&b, &s, seed_env, NULL);
    handshake(&b);
    json_t *m = call(&b, 2, read_b, 10000);
    cr_assert(strstr(tool_text(m), "from workspace b"), "%s", json_dumps(m, JSON_COMPACT));
    cr_assert_eq(bridge_finish(&b), 0);
    bridge_free(&b);

    /* flags beat the environment; a URL that already ends in /mcp is used as it is */
    int dead = closed_port();
    char bad_url[80], flag_url[100];
    snprintf(bad_url, sizeof bad_url, "CTXD_SERVER=http://127.0.0.1:%d", dead);
    snprintf(flag_url, sizeof flag_url, "http://127.0.0.1:%d/mcp", s.port);
    const char *env[] = {bad_url, "CTXD_TOKEN=wrong", "CTXD_WORKSPACE=nope", NULL};
    const char *args[] = {"--server", flag_url, "--token", s.token, "--workspace=b", NULL};
    bridge_start(&b, &s, env, args);
    handshake(&b);
    m = call(&b, 2, read_b, 10000);
    cr_assert(strstr(tool_text(m), "from workspace b"), "%s", json_dumps(m, JSON_COMPACT));
    cr_assert_eq(bridge_finish(&b), 0);
    bridge_free(&b);

    /* an unknown workspace is the server's error, carried to the client */
    snprintf(url, sizeof url, "CTXD_SERVER=http://127.0.0.1:%d", s.port);
    snprintf(tok, sizeof tok, "CTXD_TOKEN=%s", s.token);
    const char *env2[] = {url, tok, "CTXD_WORKSPACE=nope", NULL};
    bridge_start(&b, &s, env2, NULL);
    handshake(&b);
    m = call(&b, 2, read_b, 10000);
    json_t *e = json_object_get(m, "error");
    json_t *r = json_object_get(m, "result");
    const char *code =
        e ? json_string_value(json_object_get(json_object_get(e, "data"), "error_code"))
          : json_string_value(
                json_object_get(json_object_get(r, "structuredContent"), "error_code"));
    cr_assert(code && strcmp(code, "unknown_workspace") == 0, "%s", json_dumps(m, JSON_COMPACT));
    cr_assert_eq(bridge_finish(&b), 0);
    bridge_free(&b);
    srv_cleanup(&s);
}

/* ---- an event stream, from a one-shot fake server (ctxd itself answers /mcp with JSON) ---- */

typedef struct fake_sse {
    int lfd, port;
    char request[65536]; /* what the bridge sent: headers and body */
    atomic_bool release; /* the test saw the progress: send the response */
    pthread_t thread;
} fake_sse;

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    if (send(fd, s, n, MSG_NOSIGNAL) != (ssize_t)n) {
        fprintf(stderr, "fake server: short send\n");
    }
}

static void *fake_main(void *arg)
{
    fake_sse *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    size_t n = 0;
    for (;;) { /* headers, then Content-Length bytes of body */
        ssize_t r = recv(fd, f->request + n, sizeof f->request - 1 - n, 0);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
        f->request[n] = '\0';
        char *end = strstr(f->request, "\r\n\r\n");
        char *cl = strcasestr(f->request, "Content-Length:");
        if (end && cl && n >= (size_t)(end + 4 - f->request) + strtoul(cl + 15, NULL, 10)) {
            break;
        }
    }
    put(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
    put(fd, ": keep-alive\r\n\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":"
            "\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":1}}"
            "\r\n\r\n");
    /* one message over two data lines: the client must get it as one line */
    put(fd, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\n"
            "data: \"params\":{\"progressToken\":\"p\",\"progress\":2}}\n\n");
    for (int i = 0; i < 1000 && !atomic_load(&f->release); i++) {
        usleep(10000);
    }
    put(fd, "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":30,\"result\":{\"content\":[{\"type\":"
            "\"text\",\"text\":\"done\"}]}}\n\n");
    close(fd);
    return NULL;
}

static void fake_start(fake_sse *f)
{
    memset(f, 0, sizeof *f);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t len = sizeof sa;
    cr_assert(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    cr_assert(listen(f->lfd, 4) == 0);
    cr_assert(getsockname(f->lfd, (struct sockaddr *)&sa, &len) == 0);
    f->port = ntohs(sa.sin_port);
    cr_assert(pthread_create(&f->thread, NULL, fake_main, f) == 0);
}

static double progress_of(json_t *m)
{
    cr_assert(m, "no message");
    cr_assert_str_eq(json_string_value(json_object_get(m, "method")), "notifications/progress");
    return json_number_value(json_object_get(json_object_get(m, "params"), "progress"));
}

Test(connect, event_stream_messages_arrive_one_line_each_as_sent)
{
    server s;
    srv_init(&s);
    fake_sse *f = calloc(1, sizeof *f);
    fake_start(f);
    char url[80];
    snprintf(url, sizeof url, "CTXD_SERVER=http://127.0.0.1:%d", f->port);
    const char *env[] = {url, "CTXD_TOKEN=tk-1", "CTXD_WORKSPACE=w1", NULL};
    bridge b;
    bridge_start(&b, &s, env, NULL);
    bridge_send(&b, "{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"tools/call\",\"params\":{"
                    "\"name\":\"\xc3\xa9\",\"arguments\":{},\"_meta\":{\"progressToken\":\"p\","
                    "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
    /* progress is written while the call is still running, before the response exists */
    cr_assert_eq(progress_of(bridge_next(&b, 5000)), 1);
    cr_assert_eq(progress_of(bridge_next(&b, 5000)), 2);
    atomic_store(&f->release, true);
    json_t *m = bridge_reply(&b, 30, 5000);
    cr_assert(m, "no response after the progress");
    cr_assert_str_eq(tool_text(m), "done");
    pthread_join(f->thread, NULL);
    close(f->lfd);

    /* what went over the wire: the modern headers derived from the body */
    const char *want[] = {"POST /mcp HTTP/1.1\r\n",
                          "\r\nAuthorization: Bearer tk-1\r\n",
                          "\r\nx-leanctx-workspace: w1\r\n",
                          "\r\nAccept: application/json, text/event-stream\r\n",
                          "\r\nContent-Type: application/json\r\n",
                          "\r\nMCP-Protocol-Version: 2026-07-28\r\n",
                          "\r\nMcp-Method: tools/call\r\n",
                          "\r\nMcp-Name: =?base64?w6k=?=\r\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert(strstr(f->request, want[i]), "the request lacks '%s':\n%s", want[i], f->request);
    }
    cr_assert(!strcasestr(f->request, "Mcp-Session-Id"), "a modern request carries no session");
    cr_assert_eq(bridge_finish(&b), 0);
    cr_assert_eq(json_array_size(b.lines), 3);
    bridge_free(&b);
    free(f);
    srv_cleanup(&s);
}

Test(connect, progress_from_ctxd_comes_before_the_response)
{
    server s;
    srv_init(&s);
    srv_config(&s, "");
    cr_assert(srv_start(&s));
    bridge b;
    bridge_for(&b, &s, s.token);
    handshake(&b);
    /* a progressToken makes ctxd answer a search with an event stream: its progress
       notifications reach the client first, each on its own line, then the response */
    bridge_send(&b, "{\"jsonrpc\":\"2.0\",\"id\":40,\"method\":\"tools/call\",\"params\":{"
                    "\"name\":\"ctx_search\",\"arguments\":{\"pattern\":\"return\"},"
                    "\"_meta\":{\"progressToken\":\"tok-40\"}}}");
    json_t *m = bridge_reply(&b, 40, 10000);
    cr_assert(m, "no response to the search");
    cr_assert(strstr(tool_text(m), "src/util.c"), "%s", tool_text(m));
    size_t progress = 0;
    for (size_t i = 1; i + 1 < json_array_size(b.lines); i++) { /* after initialize's answer */
        json_t *p = json_array_get(b.lines, i);
        cr_assert_str_eq(json_string_value(json_object_get(p, "method")), "notifications/progress");
        cr_assert_str_eq(
            json_string_value(json_object_get(json_object_get(p, "params"), "progressToken")),
            "tok-40");
        progress++;
    }
    cr_assert_geq(progress, 1, "no progress notification before the response");
    cr_assert_eq(bridge_finish(&b), 0);
    bridge_free(&b);
    srv_cleanup(&s);
}

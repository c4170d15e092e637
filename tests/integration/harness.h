/* harness.h - integration test support: a temporary workspace and config, the real ctxd
 * binary started on 127.0.0.1 (port chosen by the kernel), and an HTTP client (libcurl).
 *
 * Every test gets its own directory under /tmp and its own server, so tests are isolated and
 * Criterion may run them in parallel. */
#ifndef CTXD_TESTS_HARNESS_H
#define CTXD_TESTS_HARNESS_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct server {
    pid_t pid;
    int port;
    char dir[256];    /* the test's temp dir */
    char ws[300];     /* dir/ws: the workspace root */
    char config[300]; /* dir/team.json */
    char log[300];    /* dir/server.log: the server's stderr */
    char audit[300];  /* dir/data/audit.log unless the config says otherwise */
    char token[80];   /* an all-scopes token, id "all" */
} server;

typedef struct resp {
    long status;
    char *body;
    json_t *json; /* parsed body, or NULL */
    char *headers;
} resp;

/* the absolute path of the binary under test ($CTXD_BIN, default build/ctxd) */
const char *ctxd_bin(void);
/* a fresh temp dir with a small workspace (see harness.c for its files) */
void srv_init(server *s);
/* write team.json: the workspace "main" (default), the token "all", plus extra top-level
 * fields given as JSON object members without braces (e.g. "\"maxRps\": 5"), may be "" */
void srv_config(server *s, const char *extra_fields);
/* srv_config plus more workspaces: more_ws is JSON objects without the brackets, appended to
 * the workspaces array after "main" (e.g. "{\"id\": \"b\", \"root\": \"/x\"}"), may be NULL */
void srv_config_ws(server *s, const char *more_ws, const char *extra_fields);
/* mint a token with ctxd itself; returns true and fills out */
bool srv_token(server *s, const char *id, const char *scopes, char out[80]);
bool srv_start(server *s);
/* SIGTERM and wait; returns the exit status (or -1) */
int srv_stop(server *s);
/* run ctxd with args (NULL-terminated); returns exit status; stdout/stderr into out/err if given */
int run_ctxd(const char *const *args, char **out, char **err);

/* write a file under the workspace, creating directories */
void ws_write(server *s, const char *rel, const char *content);
/* write a file under the test's temp dir (s->dir), creating directories; fills path if given */
void dir_write(server *s, const char *rel, const char *content, char *path, size_t path_cap);
/* a tree under s->dir/rel that a catastrophic-backtracking regex (SLOW_PATTERN) makes ctx_search
 * spend about 5 ms per file on (4 lines of 24 'a': PCRE2 tries every split of each run); the
 * walk itself is fast. SLOW_PATTERN is written JSON-escaped, ready to paste into a body. */
void make_slow_tree(server *s, const char *rel, int nfiles);
#define SLOW_PATTERN "(a|aa)+\\\\d"

/* team.json as JSON (new reference), and an atomic replacement of it (temp file + rename) */
json_t *cfg_load(server *s);
void cfg_save(server *s, json_t *doc);
/* wait until the server log contains needle (counting from byte offset `from`); true if seen */
bool log_wait(server *s, size_t from, const char *needle, int timeout_ms);
size_t log_size(server *s);

/* requests: headers is a NULL-terminated list of "Name: value" lines, may be NULL */
resp *req(server *s, const char *method, const char *path, const char *token,
          const char *const *headers, const char *body);
resp *call_tool(server *s, const char *token, const char *name, const char *args_json);
const char *resp_header(resp *r, const char *name); /* static copy of the value, or NULL */
const char *result_text(resp *r);                   /* result.content[0].text */
bool result_is_error(resp *r);
const char *error_code(resp *r); /* error_code of an error envelope */
void resp_free(resp *r);
/* true when r is the DESIGN §4 error envelope with this status and error_code: an object whose
 * "error" is a non-empty string and "error_code" the code, Content-Type application/json and an
 * X-Request-Id of 32 lowercase hex digits; otherwise false with the reason in why */
bool is_error(resp *r, long status, const char *code, char *why, size_t why_len);
#define expect_error(r, st, code)                                                                  \
    do {                                                                                           \
        char why_[1024];                                                                           \
        cr_assert(is_error((r), (st), (code), why_, sizeof why_), "%s", why_);                     \
    } while (0)

/* a raw HTTP exchange over one TCP connection: send data, read until the server closes or
 * timeout_ms passes; returns what was read (malloc, maybe empty) */
char *raw_http(server *s, const char *data, size_t len, int timeout_ms);

/* a request run on its own thread (a slow call while the test does something else) */
typedef struct bg_req {
    server *s;
    const char *token;
    const char *body;
    resp *r;
    long long done_ms; /* now_ms() when the response arrived */
    pthread_t thread;
} bg_req;
void bg_start(bg_req *b, server *s, const char *token, const char *body);
resp *bg_join(bg_req *b);

/* the audit log's lines, parsed */
json_t *audit_lines(server *s);
/* the same, once there are at least n (a line is written after its response is sent, so a
 * client can see the response first); whatever is there after timeout_ms otherwise */
json_t *audit_wait(server *s, size_t n, int timeout_ms);
/* a whole file's content (malloc), or NULL */
char *slurp(const char *path);
long long now_ms(void);

/* ---- helpers for the tool and escape suites (test_tools.c, test_escape.c) ---- */
/* write len bytes (may hold NUL) under the workspace, creating directories */
void ws_write_bytes(server *s, const char *rel, const void *data, size_t len);
/* the absolute path of rel under the workspace, in a static per-thread buffer */
const char *ws_path(server *s, const char *rel);
/* run a shell command (printf format) in the workspace directory; returns its exit status */
int ws_sh(server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* run a shell command (printf format) and return its stdout (malloc), or NULL */
char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* result.structuredContent.error_code of an isError tool result, or "" */
const char *tool_error_code(resp *r);
/* stop the server (if running) and remove the test's temp dir */
void srv_cleanup(server *s);

/* ---- helpers for the suites that call tools and read the index (test_tools.c,
 * test_readmodes.c, test_ixtools.c, test_graph.c, test_index.c, test_sync.c); the ones that
 * assert do so with Criterion, so they are called from a test ---- */
/* srv_config(s, extra_fields) and srv_start; asserts the server started (its log in the
 * message) */
void srv_up(server *s, const char *extra_fields);
/* ctx_index action=build wait=true; asserts HTTP 200 and a summary "index built: ..." */
void index_build_wait(server *s);
/* call a tool as token with printf-formatted arguments; asserts HTTP 200 and that the isError
 * flag is want_error. The response replaces *last (the one before is freed) and owns the
 * returned result text, valid until the next call. */
const char *tool_callf(server *s, resp **last, const char *token, bool want_error, const char *name,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* whether s has a line matching the POSIX extended regex re (REG_NEWLINE: ^ and $ match at
   line ends); asserts that re compiles */
bool re_matches(const char *re, const char *s);
/* result.structuredContent of r; asserts it is an object */
json_t *structured_content(resp *r);
/* the first 12 hex digits of the SHA-256 of rel under the workspace (malloc); asserts */
char *ws_sha12(server *s, const char *rel);
/* the first column of the first row of sql on the index database of workspace ws_id
 * (s->dir/data/index/local/<ws_id>.db, opened read-only for this query): as an integer, -1 when
 * the database, the query or the row is not there (yet); as text (malloc), NULL likewise */
long long index_db_int(server *s, const char *ws_id, const char *sql);
char *index_db_text(server *s, const char *ws_id, const char *sql);
/* append the workspace {"id": id, "root": root} to team.json (an atomic replacement, which a
 * running server reloads); returns the log size before the change, for log_wait */
size_t cfg_add_ws(server *s, const char *id, const char *root);

/* ---- tenants and API keys through the CLI (`ctxd tenant`, `ctxd keys`) ---- */
/* run ctxd with the words given (NULL-terminated) and then `--config <team.json>`; stdout and
 * stderr into *out / *err (malloc) when not NULL; returns the exit status */
int srv_ctl(server *s, char **out, char **err, ...);
/* `tenant create --id id --name id`; asserts it succeeded */
void srv_tenant(server *s, const char *id);
/* `keys create --tenant t --permissions perms [extra]`: the new key into out; asserts */
void srv_key(server *s, const char *tenant_id, const char *perms, const char *extra, char out[128]);

#endif

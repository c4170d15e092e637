/* serve.c - `ctxd serve`: start, reload on SIGHUP and on team.json changes, drain on SIGTERM.
 *
 * Signals are blocked in every thread (the mask is set before any thread starts) and read
 * from a signalfd by the main thread, which also watches the config's directory with inotify
 * (the token commands replace the file by rename, so the directory is what must be watched).
 * A reload builds a whole new snapshot; if it has any problem, nothing changes and every
 * problem is logged. Requests in flight keep the snapshot they started with. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "cli/quota.h"
#include "config/config.h"
#include "config/rewrite.h"
#include "core/alloc.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "events/events.h"
#include "http/flood.h"
#include "http/http.h"
#include "index/index.h"
#include "index/watch.h"
#include "limit/policy.h"
#include "mcp/mcp.h"
#include "store/store.h"
#include "tools/dispatch.h"
#include "tools/registry.h"
#include "ws/path.h"

int cli_token_create(const char *config_path, const char *id, const char *scopes_arg,
                     const char *role, const char *tenant, bool create_file);

static char *bind_host; /* --bind overrides, applied to every loaded snapshot */
static int bind_port = -1;
static store *log_store; /* request log (issue 5): retention set at start and on reload */

/* ---- admin API (issue 5, ADMIN): the store's workspaces and tenant defaults in every
 * snapshot, and reloads the admin API triggers ----
 * Every snapshot the server builds (start, SIGHUP, team.json change, admin API) merges the
 * workspaces registered in the store (opened like team.json's; one whose root is gone, or
 * clashes with team.json, is skipped with a warning rather than failing the reload) and each
 * tenant's settings.default_workspace_id, so no request reads the store for them. Reloads are
 * serialized: the admin API calls them from request threads. */
static store *admin_store;
static char admin_cfg_path[PATH_MAX];
static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER;

static bool merge_ws(const store_workspace *w, void *ctx)
{
    config *c = ctx;
    char why[600];
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *o = &c->workspaces[i];
        if (strcmp(o->tenant, w->tenant_id) != 0 && config_paths_overlap(o->root_real, w->root)) {
            log_warn("workspace '%s' of tenant '%s' (store) not served: its root overlaps "
                     "workspace '%s' of tenant '%s'",
                     w->id, w->tenant_id, o->id, o->tenant);
            return true;
        }
    }
    if (!config_add_store_workspace(c, w->tenant_id, w->id, w->label, w->root, true, why,
                                    sizeof why)) {
        log_warn("workspace '%s' of tenant '%s' (store) not served: %s", w->id, w->tenant_id, why);
    }
    return true;
}

static bool merge_default(const store_tenant *t, void *ctx)
{
    char why[200];
    json_t *s = jsonx_parse(t->settings, strlen(t->settings), why, sizeof why);
    const char *def = jsonx_str(s, "default_workspace_id");
    if (def) {
        config_set_tenant_default(ctx, t->id, def);
    }
    /* LIMITS: the tenant's cap on calls in flight (settings.max_concurrency) */
    json_t *mc = json_object_get(s, "max_concurrency");
    if (json_is_integer(mc) && json_integer_value(mc) > 0 && json_integer_value(mc) <= 1000000) {
        limit_set_tenant_max_concurrency(ctx, t->id, (int)json_integer_value(mc));
    }
    /* settings.allowed_tools: the tools the tenant may list and call (admin.c checked the names) */
    json_t *at = json_object_get(s, "allowed_tools");
    if (json_is_array(at)) {
        cfg_tenant *e = config_tenant_entry(ctx, t->id, true);
        if (e) {
            e->tools_limited = true;
            size_t i;
            json_t *v;
            json_array_foreach (at, i, v) {
                const tool_def *d = json_is_string(v) ? registry_find(json_string_value(v)) : NULL;
                size_t ti = d ? registry_index(d) : 64;
                if (ti < 64) {
                    e->allowed_tools |= (uint64_t)1 << ti;
                }
            }
        }
    }
    json_decref(s);
    return true;
}

static void merge_store(config *c, store *st)
{
    if (store_workspace_list_all(st, merge_ws, c) != ERR_OK ||
        store_tenant_list(st, merge_default, c) != ERR_OK) {
        log_error("cannot read the store's workspaces and tenants; serving team.json's only");
    }
}

static config *load(const char *path, config_problems *p)
{
    config *c = config_load(path, true, p);
    if (c && bind_host) {
        xfree(c->host);
        c->host = xstrdup(bind_host);
    }
    if (c && bind_port >= 0) {
        c->port = bind_port;
    }
    if (c && admin_store) {
        merge_store(c, admin_store); /* admin API (ADMIN) */
    }
    return c;
}

config *cli_config_load(const char *path)
{
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(path, true, &p);
    if (!c) {
        fprintf(stderr, "ctxd: %d problem%s in %s\n%s", p.count, p.count == 1 ? "" : "s", path,
                p.text.ptr ? p.text.ptr : "");
    }
    config_problems_release(&p);
    return c;
}

static bool parse_bind(const char *b)
{
    const char *colon = strrchr(b, ':');
    if (!colon) {
        return false;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon == b) {
        return false;
    }
    size_t hl = (size_t)(colon - b);
    if (b[0] == '[' && hl >= 2 && b[hl - 1] == ']') {
        bind_host = xstrndup(b + 1, hl - 2);
    } else {
        bind_host = xstrndup(b, hl);
    }
    bind_port = (int)port;
    return true;
}

static int mkdirs(const char *path, mode_t mode)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, mode) != 0 && errno != EEXIST) {
                xfree(p);
                return -1;
            }
            *s = '/';
        }
    }
    int rc = mkdir(p, mode) != 0 && errno != EEXIST ? -1 : 0;
    xfree(p);
    return rc;
}

static void protect(const char *path)
{
    char *real = path ? realpath(path, NULL) : NULL;
    if (real) {
        path_protect(real);
        free(real);
    } else if (path) {
        path_protect(path);
    }
}

void cli_deny_server_files(const config *c)
{
    path_set_extra_denied(c->secret_deny_list, c->n_secret_deny);
    protect(c->path);
    protect(c->data_dir);
    protect(c->audit_log_path);
    protect(c->audit_hmac_key_file);
}

static void apply_runtime(const config *c)
{
    cli_deny_server_files(c);
    audit_set_sync_ms(c->audit_sync_ms);
}

static void reload(const char *path, const char *why)
{
    config_problems p;
    config_problems_init(&p);
    config *n = load(path, &p);
    if (!n) {
        log_error("reload (%s) failed; the running config stays. %d problem%s:", why, p.count,
                  p.count == 1 ? "" : "s");
        const char *line = p.text.ptr ? p.text.ptr : "";
        while (*line) {
            const char *nl = strchr(line, '\n');
            int len = nl ? (int)(nl - line) : (int)strlen(line);
            log_error("  %.*s", len, line);
            line += len + (nl ? 1 : 0);
        }
        config_problems_release(&p);
        return;
    }
    config_problems_release(&p);
    config *old = config_current();
    if (strcmp(old->host, n->host) != 0 || old->port != n->port) {
        log_warn("reload: host/port changed; that takes effect at the next start");
    }
    if (strcmp(old->data_dir, n->data_dir) != 0) {
        log_warn("reload: dataDir changed; that takes effect at the next start");
    }
    if (strcmp(old->audit_log_path, n->audit_log_path) != 0) {
        char err_why[300];
        if (audit_open(n->audit_log_path, n->audit_hmac_key_file, n->audit_sync_ms, err_why,
                       sizeof err_why) != ERR_OK) {
            log_error("reload: %s; keeping the running config", err_why);
            config_unref(old);
            config_unref(n);
            return;
        }
    }
    apply_runtime(n);
    if (log_store) {
        store_set_log_retention(log_store, n->request_log_retention_days); /* request log */
        events_set_retention(n->event_retention_days);                     /* EVENTS */
    }
    index_start_added(old, n); /* before the swap: n is still ours to read */
    watch_reload(n);           /* watchers of added or moved workspaces, the sync interval */
    config_unref(old);
    size_t n_ws = n->n_workspaces, n_tok = config_active_tokens(n);
    config_set_current(n);
    /* logged once it is true: a request that follows the line sees the new snapshot */
    log_info("config reloaded (%s): %zu workspaces, %zu active tokens", why, n_ws, n_tok);
    mcp_tools_changed(); /* scopes or tokens may have changed what a caller may list */
}

/* reload under reload_mu (admin API, ADMIN); true when a new snapshot is in place */
static bool reload_serialized(const char *path, const char *why)
{
    pthread_mutex_lock(&reload_mu);
    config *before = config_current();
    reload(path, why);
    config *after = config_current();
    bool swapped = after != before;
    config_unref(after);
    config_unref(before);
    pthread_mutex_unlock(&reload_mu);
    return swapped;
}

static bool admin_reload(const char *why)
{
    return reload_serialized(admin_cfg_path, why);
}

/* zero-config: DIR/team.json with one workspace and a new admin token (printed once) */
static int zero_config(const char *dir, const char *root, char *cfg_path, size_t cap)
{
    if (mkdirs(dir, 0700) != 0) {
        fprintf(stderr, "ctxd: cannot create data dir '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(cfg_path, cap, "%s/team.json", dir);
    struct stat sb;
    if (stat(cfg_path, &sb) == 0) {
        return 0; /* loaded as it is: a restart mints no second token */
    }
    char *root_real = realpath(root ? root : ".", NULL);
    if (!root_real) {
        fprintf(stderr, "ctxd: cannot use root '%s': %s\n", root ? root : ".", strerror(errno));
        return 1;
    }
    const char *base = strrchr(root_real, '/');
    base = base && base[1] ? base + 1 : "workspace";
    json_t *doc =
        json_pack("{s:s, s:i, s:s, s:s, s:[{s:s, s:s, s:s}], s:[]}", "host",
                  bind_host ? bind_host : "127.0.0.1", "port", bind_port >= 0 ? bind_port : 9877,
                  "defaultWorkspaceId", "main", "dataDir", ".", "workspaces", "id", "main", "label",
                  base, "root", root_real, "tokens");
    free(root_real);
    char why[512];
    err rc = config_write_atomic(cfg_path, doc, why, sizeof why);
    json_decref(doc);
    if (rc != ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        return 1;
    }
    fprintf(stderr,
            "ctxd: wrote %s (workspace 'main'); admin token follows on stdout, shown once:\n",
            cfg_path);
    return cli_token_create(cfg_path, "admin", NULL, "admin", NULL, false);
}

int cli_serve(int argc, char **argv)
{
    static const char *const opts[] = {"--config", "--data-dir",  "--bind",
                                       "--root",   "--log-level", NULL};
    static const char *const flags[] = {"--team", NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *cfg_arg = cli_opt(argc, argv, "--config");
    const char *data_dir = cli_opt(argc, argv, "--data-dir");
    const char *bind = cli_opt(argc, argv, "--bind");
    const char *root = cli_opt(argc, argv, "--root");
    const char *level = cli_opt(argc, argv, "--log-level");
    /* one malloc arena per core, not eight: request threads allocate little, and fewer arenas
       keep the resident set close to what is in use */
    mallopt(M_ARENA_MAX,
            (int)(sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 2));
    if (level) {
        log_set_level(strcmp(level, "debug") == 0   ? LOG_DEBUG
                      : strcmp(level, "warn") == 0  ? LOG_WARN
                      : strcmp(level, "error") == 0 ? LOG_ERROR
                                                    : LOG_INFO);
    }
    if (bind && !parse_bind(bind)) {
        fprintf(stderr, "ctxd: --bind wants HOST:PORT (e.g. 0.0.0.0:9877 or [::1]:9877)\n");
        return 2;
    }
    char cfg_path[PATH_MAX];
    if (cfg_arg) {
        if (root) {
            fprintf(stderr, "ctxd: --root goes with --data-dir (zero-config); the config names its "
                            "workspaces\n");
            return 2;
        }
        snprintf(cfg_path, sizeof cfg_path, "%s", cfg_arg);
    } else if (data_dir) {
        int rc = zero_config(data_dir, root, cfg_path, sizeof cfg_path);
        if (rc != 0) {
            return rc;
        }
    } else {
        fprintf(
            stderr,
            "usage: ctxd serve --config FILE | --data-dir DIR [--bind HOST:PORT] [--root PATH]\n");
        return 2;
    }

    /* block the signals we handle before any thread exists (the audit syncer is the first),
       so that only the signalfd below sees them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    config_problems p;
    config_problems_init(&p);
    config *c = load(cfg_path, &p);
    if (!c) {
        fprintf(stderr, "ctxd: refusing to start: %d problem%s in %s\n%s", p.count,
                p.count == 1 ? "" : "s", cfg_path, p.text.ptr ? p.text.ptr : "");
        config_problems_release(&p);
        return 1;
    }
    config_problems_release(&p);
    if (mkdirs(c->data_dir, 0700) != 0) {
        fprintf(stderr, "ctxd: cannot create dataDir '%s': %s\n", c->data_dir, strerror(errno));
        config_unref(c);
        return 1;
    }
    char why[512];
    /* tenants and API keys: opened (and migrated) once, before any request can need it */
    store *st = NULL;
    if (store_open(c->data_dir, &st, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: refusing to start: %s\n", why);
        config_unref(c);
        return 1;
    }
    admin_store = st; /* admin API: this and every later snapshot serve the store's workspaces */
    snprintf(admin_cfg_path, sizeof admin_cfg_path, "%s", cfg_path);
    merge_store(c, st);
    if (audit_open(c->audit_log_path, c->audit_hmac_key_file, c->audit_sync_ms, why, sizeof why) !=
        ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        store_close(st);
        config_unref(c);
        return 1;
    }
    apply_runtime(c);
    if (!registry_init()) {
        store_close(st);
        config_unref(c);
        return 1;
    }
    dispatch_setup();

    int sfd = signalfd(-1, &set, SFD_CLOEXEC);

    config_set_current(config_ref(c));
    /* the whole HTTP surface: REST and MCP, one table */
    size_t n_rest, n_mcp;
    const route *rest = api_routes(&n_rest);
    const route *mcp = mcp_routes(&n_mcp);
    size_t n_admin;
    const route *adm = admin_routes(&n_admin);
    static route all[64];
    if (n_rest + n_mcp + n_admin > sizeof all / sizeof all[0]) {
        fprintf(stderr, "ctxd: too many routes\n");
        store_close(st);
        config_unref(c);
        return 1;
    }
    memcpy(all, rest, n_rest * sizeof *rest);
    memcpy(all + n_rest, mcp, n_mcp * sizeof *mcp);
    memcpy(all + n_rest + n_mcp, adm, n_admin * sizeof *adm);
    api_admin_setup(st, admin_reload);
    api_metrics_setup(st); /* METRICS (issue 6): /v1/metrics reads tenants' storage */
    http_set_store(st);
    dispatch_set_store(st);                        /* EVENTS: tool_call.st */
    events_setup(st);                              /* EVENTS: the bus over the store */
    events_set_retention(c->event_retention_days); /* EVENTS */
    index_set_event_fn(events_index_hook);         /* EVENTS: index_built, sync_done */
    log_store = st; /* request log (issue 5): background pruning from now on */
    store_set_log_retention(st, c->request_log_retention_days);
    if (http_start(all, n_rest + n_mcp + n_admin, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        http_set_store(NULL);
        events_shutdown();        /* EVENTS */
        dispatch_set_store(NULL); /* EVENTS */
        store_close(st);
        config_unref(c);
        return 1;
    }
    if (!http_loopback_bind(c->host) && c->n_allowed_hosts == 0 && !c->disable_host_check) {
        log_warn("listening on %s with no allowedHosts: any Host header is accepted (set "
                 "allowedHosts to restrict)",
                 c->host);
    }
    /* everything that watches is in place before the banner says the server is up: an edit of
       team.json or of a workspace made right after it is seen */
    /* index every workspace in the background; tools answer meanwhile with a building note */
    index_setup(c->data_dir, c->index_threads);
    cli_quota_install(st); /* storage quota (QUOTA): before any build; usage measured once */
    cli_quota_measure_all(st, c);
    index_start_all(c);
    watch_start(c); /* inotify per workspace (config watch), periodic sync (syncIntervalSec) */
    int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    const char *base = strrchr(c->path, '/') + 1;
    if (ifd >= 0 && inotify_add_watch(ifd, c->dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        log_warn("cannot watch '%s' for changes: %s; use SIGHUP to reload", c->dir,
                 strerror(errno));
    }
    fprintf(stderr, "Team Server - %s:%d\n", c->host, http_bound_port());
    fprintf(stderr, "Workspaces: %zu (", c->n_workspaces);
    for (size_t i = 0; i < c->n_workspaces; i++) {
        fprintf(stderr, "%s%s", i ? ", " : "", c->workspaces[i].id);
    }
    fprintf(stderr, ")\nTokens: %zu active\nTools: %zu available\n", config_active_tokens(c),
            registry_count());
    fflush(stderr);
    char path_copy[PATH_MAX];
    snprintf(path_copy, sizeof path_copy, "%s", c->path);
    char base_copy[NAME_MAX + 1];
    snprintf(base_copy, sizeof base_copy, "%s", base);
    int64_t drain_ms = c->request_timeout_ms + 2000;
    config_unref(c);

    for (;;) {
        struct pollfd pfd[2] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}};
        int n = poll(pfd, ifd >= 0 ? 2 : 1, 5000);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            /* quiet for 5 s: give freed heap back to the system, so RSS follows the load */
            malloc_trim(0);
            flood_flush();
            continue;
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    audit_reopen();
                    reload_serialized(path_copy, "SIGHUP");
                } else {
                    log_info("shutting down: draining requests in flight");
                    break;
                }
            }
        }
        if (ifd >= 0 && (pfd[1].revents & POLLIN)) {
            char evbuf[4096] __attribute__((aligned(8)));
            bool hit = false;
            ssize_t len;
            while ((len = read(ifd, evbuf, sizeof evbuf)) > 0) {
                for (char *ptr = evbuf; ptr < evbuf + len;) {
                    struct inotify_event *ev = (struct inotify_event *)ptr;
                    if (ev->len && strcmp(ev->name, base_copy) == 0) {
                        hit = true;
                    }
                    ptr += sizeof *ev + ev->len;
                }
            }
            if (hit) {
                usleep(20000); /* let a burst of writes settle */
                while (read(ifd, evbuf, sizeof evbuf) > 0) {
                }
                reload_serialized(path_copy, "file changed");
            }
        }
    }
    http_stop(drain_ms);
    http_set_store(NULL);
    index_set_event_fn(NULL); /* EVENTS */
    events_shutdown();        /* EVENTS: subscribers ended, pending events written */
    dispatch_set_store(NULL); /* EVENTS */
    api_admin_setup(NULL, NULL);
    log_store = NULL;
    /* storage quota (QUOTA): no build reports to a closed store */
    cli_quota_uninstall();
    store_close(st);  /* commits the last batch of last_used_at */
    index_shutdown(); /* stops running builds between files and joins them */
    watch_stop();     /* after it: a watcher waiting for a build's lease is released */
    audit_close();
    config_set_current(NULL);
    log_info("stopped");
    return 0;
}

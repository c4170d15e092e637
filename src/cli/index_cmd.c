/* index_cmd.c - `ctxd index --config F [--workspace W] [--tenant T] [--full]`: build or refresh
 * the index of one workspace (or every workspace of the config) and print the summary.
 *
 * Progress goes to stderr: a bar redrawn in place on a terminal, else one line every few
 * seconds (logs and CI stay readable). The summary line goes to stdout. A server building the
 * same workspace holds its lease: this command waits for it, then refreshes (a pass that finds
 * nothing changed). Exit 0 on success, 1 when a build failed or the config is bad, 2 on usage. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/quota.h"
#include "config/config.h"
#include "core/log.h"
#include "index/index.h"
#include "store/store.h"

static void group(int64_t v, char *out, size_t cap)
{
    char raw[32];
    int n = snprintf(raw, sizeof raw, "%" PRId64, v < 0 ? 0 : v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = raw[i];
    }
    out[o] = '\0';
}

static void on_progress(void *vctx, int64_t done, int64_t total, const char *message)
{
    cli_progress *p = vctx;
    /* on a terminal every update redraws the bar; elsewhere a line every 5 s */
    if (!cli_progress_due(p, p->tty ? 0 : 5000, false)) {
        return;
    }
    char d[32], t[32];
    group(done, d, sizeof d);
    group(total, t, sizeof t);
    int pct = cli_progress_pct(done, total);
    if (p->tty) {
        char bar[31];
        cli_progress_bar(pct, 30, bar);
        /* \033[K clears what a longer previous line left */
        fprintf(stderr, "\r%s [%s] %3d%% %s/%s files  %.40s\033[K", p->ws, bar, pct, d, t, message);
        p->drew = true;
    } else {
        fprintf(stderr, "indexing %s: %s/%s files (%d%%) %s\n", p->ws, d, t, pct, message);
    }
    fflush(stderr);
}

/* storage quotas (issue 5, QUOTA): the tenants' quotas come from the store, and what their
   index files take is recorded there after every build */
static store *quota_store;

static bool quota_open(const config *c)
{
    char why[512];
    if (store_open(c->data_dir, &quota_store, why, sizeof why) != ERR_OK) {
        fprintf(stderr, "ctxd: %s\n", why);
        return false;
    }
    cli_quota_install(quota_store);
    return true;
}

static void quota_close(void)
{
    if (quota_store) {
        cli_quota_uninstall();
        store_close(quota_store);
        quota_store = NULL;
    }
}

static bool build_one(const config *c, const cfg_workspace *ws, bool full)
{
    cli_progress pc;
    cli_progress_init(&pc, ws->id);
    ix_summary sum;
    ix_status st;
    bool ok = index_build(c, ws, full, "", true, NULL, on_progress, &pc, &sum, &st);
    cli_progress_end(&pc, true);
    if (!ok) {
        fprintf(stderr, "ctxd: index of '%s' failed: %s\n", ws->id,
                sum.why[0] ? sum.why : "unknown error");
        return false;
    }
    buf line;
    buf_init(&line, 1024);
    index_summary_text(&sum, &line);
    if (c->n_workspaces > 1) {
        fprintf(stderr, "workspace %s/%s:\n", ws->tenant, ws->id);
    }
    printf("%s\n", line.ptr ? line.ptr : "");
    fflush(stdout);
    buf_release(&line);
    return true;
}

int cli_index(int argc, char **argv)
{
    static const char *const opts[] = {"--config", "--workspace", "--tenant", "--log-level", NULL};
    static const char *const flags[] = {"--full", NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *path = cli_opt(argc, argv, "--config");
    const char *wsid = cli_opt(argc, argv, "--workspace");
    const char *tenant = cli_opt(argc, argv, "--tenant");
    const char *level = cli_opt(argc, argv, "--log-level");
    bool full = cli_flag(argc, argv, "--full");
    if (!path) {
        fprintf(stderr, "usage: ctxd index --config FILE [--workspace W] [--tenant T] [--full]\n");
        return 2;
    }
    /* the summary is the output; the build's own log lines would repeat it */
    log_set_level(!level                        ? LOG_WARN
                  : strcmp(level, "debug") == 0 ? LOG_DEBUG
                  : strcmp(level, "info") == 0  ? LOG_INFO
                  : strcmp(level, "error") == 0 ? LOG_ERROR
                                                : LOG_WARN);
    config *c = cli_config_load(path);
    if (!c) {
        return 1;
    }
    int rc = 0;
    if (wsid) {
        const cfg_workspace *ws = NULL;
        int matches = 0;
        for (size_t i = 0; i < c->n_workspaces; i++) {
            if (strcmp(c->workspaces[i].id, wsid) == 0 &&
                (!tenant || strcmp(c->workspaces[i].tenant, tenant) == 0)) {
                ws = ws ? ws : &c->workspaces[i];
                matches++;
            }
        }
        if (matches == 0) {
            fprintf(stderr, "ctxd: unknown workspace '%s'; the config has:", wsid);
            for (size_t i = 0; i < c->n_workspaces; i++) {
                fprintf(stderr, " %s/%s", c->workspaces[i].tenant, c->workspaces[i].id);
            }
            fputc('\n', stderr);
            config_unref(c);
            return 1;
        }
        if (matches > 1) {
            fprintf(stderr,
                    "ctxd: workspace '%s' exists in several tenants; name one with "
                    "--tenant\n",
                    wsid);
            config_unref(c);
            return 1;
        }
        if (!quota_open(c)) {
            config_unref(c);
            return 1;
        }
        index_setup(c->data_dir, c->index_threads);
        rc = build_one(c, ws, full) ? 0 : 1;
    } else {
        if (!quota_open(c)) {
            config_unref(c);
            return 1;
        }
        index_setup(c->data_dir, c->index_threads);
        for (size_t i = 0; i < c->n_workspaces; i++) {
            if (tenant && strcmp(c->workspaces[i].tenant, tenant) != 0) {
                continue;
            }
            if (!build_one(c, &c->workspaces[i], full)) {
                rc = 1;
            }
        }
    }
    index_shutdown();
    quota_close();
    config_unref(c);
    return rc;
}

/* sync_cmd.c - `ctxd team sync --config F [--workspace W]`: for each workspace, git fetch of
 * the checkout's own remote, fast-forward when the working tree is clean, incremental
 * re-index of what changed (index/sync.h), then a summary. --tenant T limits the run to one
 * tenant's workspaces (workspace ids are unique per tenant only).
 *
 * Output goes to stderr: a progress bar when stderr is a terminal, a progress line every few
 * seconds otherwise, then per workspace one line saying what happened and one summary line
 * (files parsed, skipped, symbols, edges, seconds). Exit 0 when every workspace synced, 1 when
 * any failed (its line says why), 2 on a usage error. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "config/config.h"
#include "core/clock.h"
#include "index/index.h"
#include "index/sync.h"

static void on_progress(void *vctx, int64_t done, int64_t total, const char *message)
{
    cli_progress *p = vctx;
    bool last = total > 0 && done >= total;
    /* a redraw every 100 ms on a terminal, a line every 2 s elsewhere; the last always */
    if (!cli_progress_due(p, p->tty ? 100 : 2000, last)) {
        return;
    }
    if (p->tty) {
        int pct = cli_progress_pct(done, total);
        char bar[21];
        cli_progress_bar(pct, 20, bar);
        fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld files %-30.30s", p->ws, bar, pct,
                (long long)done, (long long)total, message ? message : "");
        p->drew = !last;
        if (last) {
            fputc('\n', stderr); /* the bar is complete: whatever follows gets its own line */
        }
    } else {
        fprintf(stderr, "%s: indexed %lld/%lld files%s%s\n", p->ws, (long long)done,
                (long long)total, message && *message ? " — " : "", message ? message : "");
    }
    fflush(stderr);
}

int cli_sync(int argc, char **argv)
{
    static const char *const opts[] = {"--config", "--workspace", "--tenant", NULL};
    static const char *const flags[] = {NULL};
    if (!cli_check_opts(argc, argv, opts, flags)) {
        return 2;
    }
    const char *cfg_path = cli_opt(argc, argv, "--config");
    const char *only = cli_opt(argc, argv, "--workspace");
    const char *tenant = cli_opt(argc, argv, "--tenant");
    if (!cfg_path) {
        fprintf(stderr, "usage: ctxd team sync --config FILE [--workspace ID] [--tenant T]\n");
        return 2;
    }
    config *c = cli_config_load(cfg_path);
    if (!c) {
        return 1;
    }
    if (only && !config_workspace(c, tenant, only)) {
        fprintf(stderr, "ctxd: no workspace '%s'%s%s in %s\n", only, tenant ? " of tenant " : "",
                tenant ? tenant : "", c->path);
        config_unref(c);
        return 2;
    }
    if (c->n_workspaces == 0) {
        fprintf(stderr, "ctxd: %s has no workspaces\n", c->path);
        config_unref(c);
        return 1;
    }
    /* the server's own files are never indexed, as in serve */
    cli_deny_server_files(c);
    index_setup(c->data_dir, 0);

    int failed = 0;
    for (size_t i = 0; i < c->n_workspaces; i++) {
        const cfg_workspace *ws = &c->workspaces[i];
        if ((only && strcmp(ws->id, only) != 0) ||
            (tenant && (!ws->tenant || strcmp(ws->tenant, tenant) != 0))) {
            continue;
        }
        cli_progress pr;
        cli_progress_init(&pr, ws->id);
        int64_t t0 = clock_mono_ms();
        sync_report rep;
        bool ok = sync_workspace(c, ws, true, NULL, on_progress, &pr, &rep);
        cli_progress_end(&pr, false);
        double secs = (double)(clock_mono_ms() - t0) / 1000.0;
        fprintf(stderr, "%s\n", rep.message);
        fprintf(stderr,
                "sync %s: %lld file%s parsed, %lld skipped, %lld removed, %lld symbols, %lld "
                "edges in %.1f s%s\n",
                ws->id, (long long)rep.sum.parsed, rep.sum.parsed == 1 ? "" : "s",
                (long long)rep.sum.skipped, (long long)rep.sum.removed, (long long)rep.sum.symbols,
                (long long)rep.sum.edges, secs, ok ? "" : " (failed)");
        fflush(stderr);
        failed += !ok;
    }
    index_shutdown();
    config_unref(c);
    if (failed) {
        fprintf(stderr, "ctxd: sync failed for %d workspace%s\n", failed, failed == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

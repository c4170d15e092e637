/* watch.h - keeping indexes fresh inside `serve`: an inotify watcher per workspace and the
 * periodic sync (config `watch`, `syncIntervalSec`; tools.md §1.6).
 *
 * The watcher watches every directory of the workspace the index would visit (ignore rules
 * honoured, hidden directories, `.git/` and the server's own files such as the data dir
 * skipped), at most `watchMaxDirs` of them. Events are coalesced for WATCH_COALESCE_MS after
 * the first one, then exactly the changed paths are handed to index_update_paths (a new
 * directory is watched and its files indexed; a removed or moved-away one has its indexed
 * files removed), so an edit is searchable within a second. Past the watch limit (ours or the
 * kernel's), or when the kernel queue overflows, a clear log line says so and the workspace
 * falls back to a stat-based incremental build every WATCH_RESCAN_SEC seconds. An edit of an
 * ignore file (.gitignore, .ignore, .ctxdignore) changes what is visible: it triggers such a
 * build too. The periodic sync runs sync_workspace (sync.h) on every workspace each
 * `syncIntervalSec` seconds. Everything stops on watch_stop (SIGTERM): threads joined,
 * running git commands killed, builds cancelled, memory freed. */
#ifndef CTXD_INDEX_WATCH_H
#define CTXD_INDEX_WATCH_H

#include <stdint.h>

#include "config/config.h"
#include "index/index.h"

#define WATCH_COALESCE_MS 100
#define WATCH_RESCAN_SEC 30
#define WATCH_MAX_PENDING 65536 /* distinct paths in one batch; more: a stat-based build */

/* serve: watchers for c's workspaces (when c->watch) and the periodic sync thread */
void watch_start(const config *c);
/* after a reload: workspaces added, removed or moved get their watcher started or stopped
 * (unchanged ones keep theirs); a changed syncIntervalSec takes effect at once */
void watch_reload(const config *c);
/* stop and join everything (SIGTERM); safe when nothing was started */
void watch_stop(void);

/* paths the watcher saw change and has not re-indexed yet (0 without a watcher) */
int64_t watch_pending(const char *tenant, const char *ws_id);
/* the git side of ctx_index status: HEAD ("" without git; read at most once a second per
 * workspace) and pending. index_status fills commit from the index; its callers (or
 * index_status itself) call this to complete the status. */
void watch_fill_status(const cfg_workspace *ws, ix_status *st);

#endif

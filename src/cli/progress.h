/* progress.h - the progress display of the CLI commands that build indexes (`ctxd index`,
 * `ctxd team sync`): on a terminal a bar redrawn in place on stderr, elsewhere a line at most
 * every few seconds, so that logs and CI stay readable.
 *
 * This module owns the state, the pacing and the bar; each command keeps its own wording (the
 * line it prints around the bar). Invariant: while `drew` is set the cursor stands at the end of
 * a bar with no newline, and cli_progress_end must run before anything else is printed. */
#ifndef CTXD_CLI_PROGRESS_H
#define CTXD_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_progress {
    const char *ws;  /* the workspace id shown */
    bool tty;        /* stderr is a terminal: draw a bar in place */
    int64_t last_ms; /* clock_mono_ms() of the last update drawn (of the start before any) */
    bool drew;       /* a bar is on the line: end it before printing anything else */
} cli_progress;

/* the display of one workspace's build, starting now */
void cli_progress_init(cli_progress *p, const char *ws);
/* whether an update is due: always when it is the last one, else when every_ms have passed since
 * the last update drawn; when due, now counts as the last update drawn */
bool cli_progress_due(cli_progress *p, int64_t every_ms, bool last);
/* the share done in percent, 0 while the total is unknown, at most 100 */
int cli_progress_pct(int64_t done, int64_t total);
/* a bar of width cells for pct: '#' for the share done, '.' for the rest; out holds width + 1 */
void cli_progress_bar(int pct, int width, char *out);
/* end a bar still on the line: erase it (the command prints its summary in its place), or keep
 * it and end its line */
void cli_progress_end(cli_progress *p, bool erase);

#endif

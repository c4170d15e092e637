/* progress.c - see progress.h. */
#include "cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "core/clock.h"

void cli_progress_init(cli_progress *p, const char *ws)
{
    *p = (cli_progress){
        .ws = ws, .tty = isatty(STDERR_FILENO) == 1, .last_ms = clock_mono_ms(), .drew = false};
}

bool cli_progress_due(cli_progress *p, int64_t every_ms, bool last)
{
    int64_t now = clock_mono_ms();
    if (now - p->last_ms < every_ms && !last) {
        return false;
    }
    p->last_ms = now;
    return true;
}

int cli_progress_pct(int64_t done, int64_t total)
{
    int pct = total > 0 ? (int)(done * 100 / total) : 0;
    return pct > 100 ? 100 : pct;
}

void cli_progress_bar(int pct, int width, char *out)
{
    int fill = pct * width / 100;
    for (int i = 0; i < width; i++) {
        out[i] = i < fill ? '#' : '.';
    }
    out[width] = '\0';
}

void cli_progress_end(cli_progress *p, bool erase)
{
    if (p->drew) {
        /* \033[K clears the rest of the line */
        fputs(erase ? "\r\033[K" : "\n", stderr);
        p->drew = false;
    }
}

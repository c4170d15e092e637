/* log.c - stderr logger; one fprintf per line under stdio's own lock. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/clock.h"

static log_level min_level = LOG_INFO;

void log_set_level(log_level l)
{
    min_level = l;
}

void log_msg(log_level l, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (l < min_level) {
        return;
    }
    char ts[32];
    clock_rfc3339(clock_wall_ms(), ts);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s\n", ts, names[l], msg);
}

/* clock.c - time helpers (see clock.h). */
#include "core/clock.h"

#include <stdio.h>
#include <time.h>

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_rfc3339(int64_t wall_ms, char out[32])
{
    time_t s = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    /* years past 9999 do not occur; the cast keeps the compiler's width analysis quiet */
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (int)(wall_ms % 1000));
}

void clock_short_duration(int64_t seconds, char out[16])
{
    seconds = seconds < 0 ? 0 : seconds % 100000000000LL;
    if (seconds < 60) {
        snprintf(out, 16, "%llds", (long long)seconds);
    } else if (seconds < 3600) {
        snprintf(out, 16, "%lldm", (long long)(seconds / 60));
    } else if (seconds < 86400) {
        snprintf(out, 16, "%lldh", (long long)(seconds / 3600));
    } else {
        snprintf(out, 16, "%lldd", (long long)(seconds / 86400));
    }
}

/* clock.h - monotonic and wall time in milliseconds, RFC 3339 formatting. */
#ifndef CTXD_CORE_CLOCK_H
#define CTXD_CORE_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_ns(void);
int64_t clock_wall_ms(void);
/* `2026-11-21T07:41:09.512Z`; out must hold 25 bytes */
void clock_rfc3339(int64_t wall_ms, char out[32]);
/* `2m`, `3h`, `5d`, `42s`: the seed's short uptime string */
void clock_short_duration(int64_t seconds, char out[16]);

#endif

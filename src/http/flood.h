/* flood.h - summarized refusals of unauthenticated floods (DESIGN §11.8).
 *
 * Once a client address has emptied its bucket, its refusals are not audited one by one (a
 * flood would fill the disk): the first refusal of a minute is written at once, the ones after
 * it are counted and written as one line with `count`, `firstTs` and `lastTs` when the minute is
 * over (at the next refusal, or by flood_flush, which the server calls every few seconds).
 * At most FLOOD_ADDRESSES addresses are tracked; past that the least recent is flushed early. */
#ifndef CTXD_HTTP_FLOOD_H
#define CTXD_HTTP_FLOOD_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"

#define FLOOD_ADDRESSES 1024

/* a refusal from ip (the audit sourceIp) for the route method; true when the caller should
 * write this refusal's own line now (the first of its minute) */
bool flood_refusal(const char *ip, const char *method);
/* write the summaries whose minute is over */
void flood_flush(void);
/* the window, 60 s unless a test shortens it */
void flood_set_window_ms(int64_t ms);

#endif

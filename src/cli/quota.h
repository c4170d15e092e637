/* quota.h - the index's storage quota hook (index/index.h) over the store (issue 5, QUOTA).
 *
 * The processes that build indexes and own a store (`serve`, `ctxd index`) install it: the
 * index then reads each tenant's storage_quota_bytes before and during a build, and reports
 * the bytes of the tenant's index files after every build, which become the tenant's
 * storage_used_bytes. Tenants that exist only in team.json (no store row) have no quota. */
#ifndef CTXD_CLI_QUOTA_H
#define CTXD_CLI_QUOTA_H

#include "config/config.h"
#include "store/store.h"

/* install the hook over s (s must outlive cli_quota_uninstall) */
void cli_quota_install(store *s);
/* remove it; waits for calls in flight. Builds started after this are refused (shutdown). */
void cli_quota_uninstall(void);
/* measure every store tenant's index files once and record them (serve start) */
void cli_quota_measure_all(store *s, const config *c);

#endif

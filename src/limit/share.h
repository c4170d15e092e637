/* share.h - concurrency fairness between tenants (DESIGN §11.10).
 *
 * Every running tool call holds one slot. At most max_total slots are held at once (config
 * maxConcurrency), and a tenant holds at most its share: its own limit when it has one (the tenant
 * setting max_concurrency), else the whole of max_total while it is the only tenant with calls in
 * flight, else ceil(max_total / the number of tenants with calls in flight, itself included).
 * A tenant over its share is refused while others' calls run; their calls finishing or starting
 * move the share. One mutex guards the table; an acquire is O(1) plus, when the table is full, a
 * walk past the tenants holding slots (at most max_total) to the least recently used idle one,
 * which is forgotten. A release is O(1) (the slot is the tenant's entry, which is never evicted
 * while it holds slots). */
#ifndef CTXD_LIMIT_SHARE_H
#define CTXD_LIMIT_SHARE_H

#include <stddef.h>

typedef struct share_table share_table;
typedef struct share_slot share_slot;

typedef enum {
    SHARE_OK,
    SHARE_FULL,        /* max_total slots are held */
    SHARE_TENANT_FULL, /* the tenant holds its share */
} share_result;

share_table *share_new(size_t max_tenants);
void share_free(share_table *t);

/* the share of a tenant when `active` tenants (itself included, so >= 1) have calls in flight;
 * tenant_max > 0 is the tenant's own limit */
int share_limit(int max_total, size_t active, int tenant_max);

/* take a slot for tenant: SHARE_OK with *slot to give back to share_release; otherwise nothing is
 * held. *limit (may be NULL) receives the tenant's share at that moment. */
share_result share_acquire(share_table *t, const char *tenant, int max_total, int tenant_max,
                           share_slot **slot, int *limit);
void share_release(share_table *t, share_slot *slot);

/* counters (tests, metrics): slots held, tenants holding slots, tenants remembered */
size_t share_in_flight(share_table *t);
size_t share_active(share_table *t);
size_t share_size(share_table *t);

#endif

/* Where groups of objects were allocated, from tracemalloc's traces: for the
 * leak suspects of leaks and report. */
#ifndef PYMAC_TRACEMALLOC_SITES_H
#define PYMAC_TRACEMALLOC_SITES_H

#include <stdio.h>

#include "object.h"
#include "tracemalloc.h"

typedef pymac_alloc_site pm_tm_site;

typedef struct pm_tm_sites pm_tm_sites;

/* NULL when the process did not trace (nothing to add); the calls below
 * accept NULL. */
pm_tm_sites *pm_tm_sites_open(pymac_session *s);
/* Counts an object for group `group` of set `set` (any numbering). */
void pm_tm_sites_add(pm_tm_sites *t, uint32_t set, uint32_t group, const pm_object *o);
/* The line whose blocks of the group's objects hold the most bytes (most
 * blocks on a tie); false when none of them was traced. */
bool pm_tm_sites_top(pm_tm_sites *t, uint32_t set, uint32_t group, pm_tm_site *out);
/* Were the traces read only in part (a damaged table; the warnings say)? */
bool pm_tm_sites_partial(const pm_tm_sites *t);
void pm_tm_sites_free(pm_tm_sites *t);

#endif

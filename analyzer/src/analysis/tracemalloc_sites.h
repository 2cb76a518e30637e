/* Where groups of objects were allocated, from tracemalloc's traces: for the
 * leak suspects of leaks and report. */
#ifndef PYMAC_TRACEMALLOC_SITES_H
#define PYMAC_TRACEMALLOC_SITES_H

#include <stdio.h>

#include "object.h"
#include "tracemalloc.h"

typedef struct pm_tm_site {
    char filename[1024];
    uint32_t lineno;
    uint64_t objects, bytes; /* the group's traced objects from this line, their blocks' bytes */
    uint64_t traced;         /* the group's objects that have a trace at all */
} pm_tm_site;

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

/* `, "allocated_at": {"filename", "lineno", "objects", "bytes", "traced_objects"}` */
void pm_tm_site_json(FILE *out, const pm_tm_site *site);
/* "<indent>allocated at FILE:LINE: N of M traced objects, B bytes" and a newline */
void pm_tm_site_text(FILE *out, const pm_tm_site *site, const char *indent);

#endif

/* The census and the GC view of a free-threaded CPython (census_ft.c). */
#ifndef PYMAC_CENSUS_FT_H
#define PYMAC_CENSUS_FT_H

#include "census.h"
#include "gc_ft.h"
#include "mimalloc.h"

/* The object in used block `block` of page p, if its header validates
 * (tracked: the GC lists it, so its size is not checked against the block). */
bool pm_ft_object_in_block(pymac_session *s, const pm_mi_page *p, uint64_t block, pm_object *o,
                           bool tracked);
/* pm_objects_walk over the mimalloc heaps (generation 0: gc.get_objects()
 * lists it, 3: frozen, -1: neither). */
pymac_status pm_ft_objects_walk(pymac_session *s, unsigned flags, pm_visit_fn visit, void *ctx,
                                pymac_census *counters, pymac_error *err);

#endif

/* Census internals. */
#ifndef PYMAC_CENSUS_H
#define PYMAC_CENSUS_H

#include "pm.h"

#include "object.h"
#include "objmap.h"

/* Called once per object found; return false to stop (out of memory).
 * generation: 0..2 on a GC list, 3 permanent, -1 untracked or not GC. */
typedef bool (*pm_visit_fn)(void *ctx, const pm_object *o, int generation);

typedef struct pm_walk {
    pymac_session *s;
    pm_objmap map;
    pymac_census *c; /* counters only: objects, bytes, freelisted, raw, invalid, partial */
    pm_visit_fn visit;
    void *ctx;
    uint64_t bad_size;   /* objects found whose ob_size cannot be */
    uint64_t *parked;    /* 3.14+: objects on free lists, sorted (pm_freelist_parked) */
    size_t nparked;
} pm_walk;

void pm_census_free(pymac_census *c);
/* Records a newly found object (no-op if known). False when out of memory. */
bool pm_walk_found(pm_walk *w, const pm_object *o, int generation);
enum {
    PM_WALK_GC_ONLY = 1,     /* only the objects on the GC lists */
    PM_WALK_GENERATIONS = 2, /* visit GC objects with their generation (in list order) */
};
/* Visits every live object once: the GC lists, then (unless PM_WALK_GC_ONLY)
 * the other objects in pymalloc blocks, then objects outside pymalloc that
 * found objects point to. Without PM_WALK_GENERATIONS, GC objects in
 * pymalloc are visited with the blocks (generation -1), in address order.
 * Counters go to *counters. */
pymac_status pm_objects_walk(pymac_session *s, unsigned flags, pm_visit_fn visit, void *ctx,
                             pymac_census *counters, pymac_error *err);
struct pm_layout;
/* Is an object already known in the pymalloc block (at its start, or after
 * a GC head and pre-header that fit in the block)? */
/* front: the debug hooks' header before each allocation (0 without them) */
bool pm_block_known(const pm_objmap *m, const struct pm_layout *L, uint32_t front, uint64_t block,
                    uint32_t size);
/* Finds the objects outside pymalloc that found objects point to. */
pymac_status pm_census_reach(pm_walk *w, pymac_error *err);

#endif

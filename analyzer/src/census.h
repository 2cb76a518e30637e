/* Census internals. */
#ifndef PYMAC_CENSUS_H
#define PYMAC_CENSUS_H

#include "pm.h"

#include "object.h"
#include "objmap.h"

typedef struct tally {
    pymac_type_count *rows; /* indexed by pm_type.index */
    size_t cap;
} tally;

void pm_census_free(pymac_census *c);
bool pm_tally_count(tally *t, const pm_object *o);
/* Adds a newly found object to the map and the counts (no-op if known). */
bool pm_census_add(pm_objmap *m, tally *t, pymac_census *c, const pm_object *o);
/* Finds the objects outside pymalloc that found objects point to. */
pymac_status pm_census_reach(pymac_session *s, pm_objmap *m, tally *t, pymac_census *c,
                             pymac_error *err);

#endif

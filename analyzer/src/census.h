/* Census internals. */
#ifndef PYMAC_CENSUS_H
#define PYMAC_CENSUS_H

#include "pm.h"

void pm_census_free(pymac_census *c);

#endif

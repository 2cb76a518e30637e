/* GC internals shared with the census. */
#ifndef PYMAC_GC_H
#define PYMAC_GC_H

#include "pm.h"

void pm_gc_free(pymac_gc *gc);

#endif

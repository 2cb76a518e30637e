/* The GC of a free-threaded CPython (gc_ft.c): the tracked objects of the
 * mimalloc GC heaps. */
#ifndef PYMAC_GC_FT_H
#define PYMAC_GC_FT_H

#include "mimalloc.h"
#include "pm.h"

/* Where a heap's blocks hold their object: after the pre-header in GC_PRE. */
uint32_t pm_ft_object_offset(unsigned kind);
/* ob_gc_bits of the object in block `block` of GC heap page p; false if
 * unreadable. */
bool pm_ft_gc_bits(pymac_session *s, const pm_mi_page *p, uint64_t block, uint64_t *bits);
/* Does gc.get_objects() list an object with these bits (frozen: does
 * gc.get_freeze_count() count it)? */
bool pm_ft_gc_listed(uint64_t bits, bool frozen);
/* pymac_gc_walk's result: the tracked objects, each generation reporting
 * all of them as gc.get_objects(i) does, the frozen ones as permanent. */
pymac_status pm_ft_gc_walk(pymac_session *s, pymac_gc **out, pymac_error *err);

#endif

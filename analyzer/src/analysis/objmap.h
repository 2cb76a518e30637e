/* A set of object addresses: one bit per 16 bytes inside the allocator's
 * equal-sized regions (pymalloc's arenas), one bit per 8 bytes inside its
 * other regions (mimalloc's segments), a hash set for the few objects
 * outside them. Sized from the allocator (heap/heap.h), so a census of
 * millions of objects costs megabytes, not a malloc per object. */
#ifndef PYMAC_OBJMAP_H
#define PYMAC_OBJMAP_H

#include "heap.h"

typedef struct pm_objmap {
    uint64_t arena_size;   /* the equal-sized regions' size (pm_heap.region_size) */
    uint64_t *arena_base;  /* sorted bases: index a is the allocator's region a */
    uint8_t **bits;        /* per sorted arena: arena_size / 16 bits */
    uint8_t **pending;     /* the same, for addresses set aside to visit later (lazy) */
    size_t narenas;
    /* granule (arena-sized) -> up to two sorted-arena indexes + 1 (0 = none) */
    unsigned granule_shift;
    uint64_t *granule_key;
    uint32_t (*granule_arenas)[2];
    size_t granule_cap;
    /* regions of other sizes (a free-threaded build's mimalloc segments):
     * one bit per 8 bytes, sorted, disjoint */
    uint64_t *region_base, *region_size;
    uint8_t **region_bits;
    size_t nregions;
    uint64_t *outside;     /* open addressing, 0 = empty */
    size_t outside_cap, outside_n;
} pm_objmap;

/* An empty set over the regions of h (false on no memory). */
bool pm_objmap_init(pm_objmap *m, const pm_heap *h);
void pm_objmap_free(pm_objmap *m);
/* Index of the equal-sized region (arena) holding addr, or -1. */
long pm_objmap_arena(const pm_objmap *m, uint64_t addr);
/* Is addr inside one of the other regions (a segment)? */
bool pm_objmap_in_region(const pm_objmap *m, uint64_t addr);
bool pm_objmap_has(const pm_objmap *m, uint64_t addr);
/* Makes [base, base + size) a dense region: its objects cost a bit each, not
 * a hash entry (millions of them, on a free-threaded build). Regions come in
 * address order, disjoint, before any address of theirs is added; false on no
 * memory or a region out of order. */
bool pm_objmap_add_region(pm_objmap *m, uint64_t base, uint64_t size);
/* Adds addr; returns false if it was there already (or on no memory). */
bool pm_objmap_add(pm_objmap *m, uint64_t addr);

/* Adds addr to a second set, over the arenas only, of addresses to visit
 * later in address order (pending[a], laid out as bits[a]; NULL while arena
 * a has none; the visitor clears the bits it visits). False if addr is not a
 * 16-aligned address in an arena, or on no memory (*nomem then set). */
bool pm_objmap_pend(pm_objmap *m, uint64_t addr, bool *nomem);

#endif

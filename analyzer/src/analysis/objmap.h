/* A set of object addresses: one bit per 16 bytes inside pymalloc arenas,
 * a hash set for the few objects outside them. Sized from the heap, so a
 * census of millions of objects costs megabytes, not a malloc per object. */
#ifndef PYMAC_OBJMAP_H
#define PYMAC_OBJMAP_H

#include "pm.h"

typedef struct pm_objmap {
    const pymac_pymalloc *heap;
    uint64_t *arena_base;  /* sorted arena bases */
    uint32_t *arena_heap;  /* per sorted arena: its index in heap->arenas */
    uint8_t **bits;        /* per sorted arena: arena_size / 16 bits */
    uint8_t **pending;     /* the same, for addresses set aside to visit later (lazy) */
    size_t narenas;
    /* granule (arena-sized) -> up to two sorted-arena indexes + 1 (0 = none) */
    unsigned granule_shift;
    uint64_t *granule_key;
    uint32_t (*granule_arenas)[2];
    size_t granule_cap;
    /* dense regions outside pymalloc (a free-threaded build's mimalloc
     * segments): one bit per 8 bytes, sorted, disjoint */
    uint64_t *region_base, *region_size;
    uint8_t **region_bits;
    size_t nregions;
    uint64_t *outside;     /* open addressing, 0 = empty */
    size_t outside_cap, outside_n;
} pm_objmap;

bool pm_objmap_init(pm_objmap *m, const pymac_pymalloc *h);
void pm_objmap_free(pm_objmap *m);
/* Index of the arena holding addr, or -1. */
long pm_objmap_arena(const pm_objmap *m, uint64_t addr);
bool pm_objmap_has(const pm_objmap *m, uint64_t addr);
/* The block of a carved, not empty pool that holds addr, from the heap walk
 * (no read of the target): its start and size. False outside such blocks. */
bool pm_objmap_block(const pm_objmap *m, uint64_t addr, uint64_t *block, uint32_t *size);
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

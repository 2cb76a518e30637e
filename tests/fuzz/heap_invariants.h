/* The allocator interface's invariants (analyzer/src/heap/heap.h), checked
 * by the fuzz targets on whatever heap their input made: regions sorted and
 * disjoint, and every used block each_used_block visits lies in its unit and
 * region and is the block block_of names. A broken invariant aborts, which
 * libFuzzer reports with the input. */
#ifndef PYMAC_FUZZ_HEAP_INVARIANTS_H
#define PYMAC_FUZZ_HEAP_INVARIANTS_H

#include <stdlib.h>

#include "heap.h"

static bool fuzz_check_block(void *ctx, const pm_heap_unit *u, uint64_t block)
{
    const pm_heap *h = ctx;
    pm_heap_block b;
    if (block < u->first || block + u->block_size > u->end || u->region < 0 ||
        pm_heap_region_of(h, block) != u->region)
        abort();
    /* a sample of the blocks: the state walks the unit's free list */
    if (((block / 16) & 63) == 0 &&
        (!pm_heap_block_of(h, block + u->block_size / 2, &b) || b.addr != block ||
         b.size != u->block_size || pm_heap_addr_state(h, block) == 0))
        abort();
    return true;
}

static inline void fuzz_check_heap(pymac_session *s)
{
    const pm_heap *heap = NULL;
    pymac_error err;
    if (pm_heap_get(s, &heap, &err) > PYMAC_PARTIAL)
        return;
    for (size_t i = 0; i + 1 < heap->nregions; i++)
        if (heap->regions[i].base + heap->regions[i].size > heap->regions[i + 1].base)
            abort(); /* regions sorted and disjoint */
    static const pm_heap_visitor check = {NULL, fuzz_check_block};
    bool partial = false;
    pm_heap_each_used_block(heap, &check, (void *)heap, &partial, &err);
}

#endif

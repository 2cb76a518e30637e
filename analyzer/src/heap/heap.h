/* The allocator interface: what the census, the leak scan, the object map
 * and the views ask of the allocator that holds a CPython's objects, be it
 * pymalloc (arenas of pools; heap_pymalloc.c) or mimalloc (segments of
 * pages, a free-threaded build's; heap_mimalloc.c).
 *
 * One vocabulary for both: a region is an arena or a segment, a unit is a
 * pool or a page, and a unit cuts its memory into blocks of one size.
 * glibc's chunks are not a backend: no walk visits their blocks one by one;
 * glibc_heap.h only says which memory malloc has freed.
 *
 * A new allocator plugs in as one more pm_heap_ops (ARCHITECTURE.md). */
#ifndef PYMAC_HEAP_H
#define PYMAC_HEAP_H

#include "pm.h"

/* An arena or a segment: the memory the allocator reserved as one piece. */
typedef struct pm_heap_region {
    uint64_t base, size;
} pm_heap_region;

/* A pool or a page: blocks of one size, from `first` on. */
typedef struct pm_heap_unit {
    uint64_t addr;       /* the pool, or the page (mi_page_t) */
    uint64_t first;      /* its first block */
    uint64_t end;        /* the end of its memory */
    uint64_t block_size;
    uint32_t nblocks;    /* blocks handed out at least once (carved, capacity) */
    uint32_t kind;       /* pymalloc: the size class; mimalloc: the heap kind (PM_MI_HEAP_*) */
    long region;         /* index in pm_heap.regions, or -1 */
    const void *native;  /* the backend's record: pymac_pool, pm_mi_page */
} pm_heap_unit;

/* The block holding an address. */
typedef struct pm_heap_block {
    uint64_t addr, size;
    int used;            /* 1 in use, 0 free, -1 not known (pymalloc: asking walks a free list) */
} pm_heap_block;

/* Called per unit with used blocks (return false to skip its blocks), then
 * per used block of it in address order (return false to stop: no memory). */
typedef struct pm_heap_visitor {
    bool (*unit)(void *ctx, const pm_heap_unit *u);
    bool (*block)(void *ctx, const pm_heap_unit *u, uint64_t block);
} pm_heap_visitor;

typedef struct pm_heap_totals {
    uint64_t regions, region_bytes, units, blocks_used, bytes_used;
} pm_heap_totals;

typedef struct pm_heap pm_heap;

typedef struct pm_heap_ops {
    const char *name; /* "pymalloc", "mimalloc" */
    /* Walks the allocator (once a session) and fills h's regions. */
    pymac_status (*open)(pymac_session *s, pm_heap *h, pymac_error *err);
    /* Each used block of each unit, unit by unit. Units it cannot read are
     * warned about and skipped (*partial set); PYMAC_E_NOMEM when a visitor
     * stops. */
    pymac_status (*each_used_block)(const pm_heap *h, const pm_heap_visitor *v, void *ctx,
                                    bool *partial, pymac_error *err);
    /* The block of a unit holding addr, from the walk (no read of the
     * target); false outside every unit's blocks. region: the index of the
     * region holding addr when the caller knows it, else -1. */
    bool (*block_of)(const pm_heap *h, long region, uint64_t addr, pm_heap_block *b);
    /* 1: addr is in a used block; 0: in the allocator's memory but in what
     * no one uses (a free block, slack, a free slice): stale; -1: outside. */
    int (*addr_state)(const pm_heap *h, uint64_t addr);
    /* The end of the memory from addr on whose used blocks are all objects
     * (or their buffers), which a scan for references can skip; 0 if none. */
    uint64_t (*object_span_end)(const pm_heap *h, uint64_t addr);
    /* Where addr is, in the allocator's words ("pymalloc arena 0x..., pool
     * 0x..., ...", "mimalloc segment 0x..., page ..."), for the object view; false
     * when the allocator has nothing to say of addr. */
    bool (*whereis)(const pm_heap *h, uint64_t addr, char *buf, size_t cap);
    void (*totals)(const pm_heap *h, pm_heap_totals *t);
} pm_heap_ops;

struct pm_heap {
    const pm_heap_ops *ops;
    pymac_session *s;
    const void *walk;         /* the backend's walk: pymac_pymalloc, pm_mi_walk */
    pm_heap_region *regions;  /* sorted by base, disjoint */
    size_t nregions;
    uint64_t region_size;     /* all regions' size when equal (arenas), else 0 */
    /* Every object inside the regions is met by each_used_block, so a
     * pointer into them to no known object is into raw memory (pymalloc).
     * mimalloc skips pages whose free list is broken: false. */
    bool regions_walked;
    uint32_t *region_native;  /* per region: the backend's index of it */
    void *priv;               /* the backend's own index (freed with h) */
    bool partial;             /* the walk could not read everything */
};

/* The session's allocator, opened on first use and kept (s->allocator):
 * mimalloc on a free-threaded build, else pymalloc. */
pymac_status pm_heap_get(pymac_session *s, const pm_heap **out, pymac_error *err);
void pm_heap_free(pymac_session *s);

/* The region holding addr, or -1. (Inline: the backends use it, and the
 * dispatcher in heap.c uses the backends.) */
static inline long pm_heap_region_of(const pm_heap *h, uint64_t addr)
{
    size_t lo = pm_upper_bound_at(h->regions, h->nregions, sizeof *h->regions,
                                  offsetof(pm_heap_region, base), addr);
    return lo && addr - h->regions[lo - 1].base < h->regions[lo - 1].size ? (long)lo - 1 : -1;
}

static inline pymac_status pm_heap_each_used_block(const pm_heap *h, const pm_heap_visitor *v,
                                                   void *ctx, bool *partial, pymac_error *err)
{
    return h->ops->each_used_block(h, v, ctx, partial, err);
}

static inline bool pm_heap_block_of(const pm_heap *h, uint64_t addr, pm_heap_block *b)
{
    return h->ops->block_of(h, -1, addr, b);
}

/* The same, in region `region`, which holds addr (an object map knows it). */
static inline bool pm_heap_block_in(const pm_heap *h, long region, uint64_t addr,
                                    pm_heap_block *b)
{
    return h->ops->block_of(h, region, addr, b);
}

static inline int pm_heap_addr_state(const pm_heap *h, uint64_t addr)
{
    return h->ops->addr_state(h, addr);
}

static inline uint64_t pm_heap_object_span_end(const pm_heap *h, uint64_t addr)
{
    return h->ops->object_span_end(h, addr);
}

static inline bool pm_heap_whereis(const pm_heap *h, uint64_t addr, char *buf, size_t cap)
{
    return h->ops->whereis(h, addr, buf, cap);
}

static inline void pm_heap_totals_of(const pm_heap *h, pm_heap_totals *t)
{
    h->ops->totals(h, t);
}

extern const pm_heap_ops pm_heap_pymalloc_ops, pm_heap_mimalloc_ops;

#endif

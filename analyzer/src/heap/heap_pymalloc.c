/* pymalloc behind the allocator interface (heap.h): regions are arenas,
 * units are pools, over the walk of obmalloc.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "obmalloc.h"

/* priv: per arena (h->arenas order) its region index */
static const uint32_t *arena_region(const pm_heap *h)
{
    return h->priv;
}

static pymac_status pymalloc_open(pymac_session *s, pm_heap *h, pymac_error *err)
{
    const pymac_pymalloc *p;
    pymac_status st = pymac_pymalloc_walk(s, &p, err);
    if (st > PYMAC_PARTIAL)
        return st;
    h->walk = p;
    h->region_size = p->arena_size;
    h->regions_walked = true;
    size_t n = p->narenas;
    h->regions = malloc((n + 1) * sizeof *h->regions);
    h->region_native = malloc((n + 1) * sizeof *h->region_native);
    uint32_t *inverse = malloc((n + 1) * sizeof *inverse);
    h->priv = inverse;
    if (!h->regions || !h->region_native || !inverse)
        return pm_nomem(err);
    /* arenas sorted by base (disjoint: the walk drops overlapping entries), each
     * back to its table entry */
    uint64_t *keyed = malloc((n + 1) * 2 * sizeof *keyed);
    if (!keyed)
        return pm_nomem(err);
    for (size_t i = 0; i < n; i++) {
        keyed[2 * i] = p->arenas[i].address;
        keyed[2 * i + 1] = i;
    }
    pm_sort(keyed, n, 2 * sizeof *keyed, pm_cmp_u64);
    for (size_t r = 0; r < n; r++) {
        h->regions[r] = (pm_heap_region){keyed[2 * r], p->arena_size};
        h->region_native[r] = (uint32_t)keyed[2 * r + 1];
        inverse[keyed[2 * r + 1]] = (uint32_t)r;
    }
    h->nregions = n;
    free(keyed);
    return st;
}

static pymac_status pymalloc_each_used_block(const pm_heap *h, const pm_heap_visitor *v,
                                             void *ctx, bool *partial, pymac_error *err)
{
    pymac_session *s = h->s;
    const pymac_pymalloc *p = h->walk;
    uint8_t *is_free = malloc(p->pool_size / 16 + 1);
    if (!is_free)
        return pm_nomem(err);
    /* the pools in walk order: grouped by arena, arenas in table order */
    for (size_t a = 0; a < p->narenas; a++) {
        const pymac_arena *ar = &p->arenas[a];
        for (size_t i = ar->first_pool; i < ar->first_pool + ar->npools; i++) {
            const pymac_pool *pool = &p->pools[i];
            if ((i & 1023) == 0)
                pm_progress(s, "walking the heap", i, p->npools);
            if (pool->state == PYMAC_POOL_EMPTY)
                continue;
            memset(is_free, 0, pool->blocks_total);
            uint32_t chain;
            if (pm_pool_free_list(s, p, pool, is_free, &chain) != PYMAC_OK) {
                pm_warn(s, "pool 0x%llx: free list unreadable, its blocks are skipped",
                        (unsigned long long)pool->address);
                *partial = true;
                continue;
            }
            pm_heap_unit u = {
                .addr = pool->address,
                .first = pool->address + p->pool_overhead,
                .end = pool->address + p->pool_size,
                .block_size = pool->block_size,
                .nblocks = pool->blocks_total - pool->blocks_never_used,
                .kind = pool->size_class,
                .region = arena_region(h)[a],
                .native = pool,
            };
            if (v->unit && !v->unit(ctx, &u))
                continue;
            for (uint32_t b = 0; b < u.nblocks; b++)
                if (!is_free[b] && !v->block(ctx, &u, u.first + (uint64_t)b * u.block_size)) {
                    free(is_free);
                    return pm_nomem(err);
                }
        }
    }
    free(is_free);
    pm_progress(s, "walking the heap", p->npools, p->npools);
    return PYMAC_OK;
}

/* The pool of a carved, not empty pool's block at addr (no read). */
static const pymac_pool *pool_of(const pm_heap *h, long r, uint64_t addr)
{
    const pymac_pymalloc *p = h->walk;
    if (r < 0)
        r = pm_heap_region_of(h, addr);
    if (r < 0 || !p->pool_size)
        return NULL;
    return pm_pymalloc_pool(p, &p->arenas[h->region_native[r]],
                            addr & ~(uint64_t)(p->pool_size - 1));
}

static bool pymalloc_block_of(const pm_heap *h, long region, uint64_t addr, pm_heap_block *b)
{
    const pymac_pymalloc *p = h->walk;
    const pymac_pool *pool = pool_of(h, region, addr);
    if (!pool || pool->state == PYMAC_POOL_EMPTY || !pool->block_size ||
        addr < pool->address + p->pool_overhead)
        return false;
    uint64_t i = (addr - pool->address - p->pool_overhead) / pool->block_size;
    if (i >= pool->blocks_total)
        return false; /* the pool's tail, past its last block */
    b->addr = pool->address + p->pool_overhead + i * pool->block_size;
    b->size = pool->block_size;
    b->used = -1; /* only the pool's free list says */
    return true;
}

static int pymalloc_addr_state(const pm_heap *h, uint64_t addr)
{
    if (pm_heap_region_of(h, addr) < 0)
        return -1;
    pymac_whereis w;
    if (pymac_whereis_address(h->s, addr, &w, NULL) > PYMAC_PARTIAL)
        return 1; /* a pool it cannot read: taken as live, not as stale */
    return w.kind == PYMAC_WHERE_BLOCK ? w.in_use : w.kind == PYMAC_WHERE_NOT_PYMALLOC ? -1 : 0;
}

static uint64_t pymalloc_object_span_end(const pm_heap *h, uint64_t addr)
{
    long r = pm_heap_region_of(h, addr);
    return r < 0 ? 0 : h->regions[r].base + h->regions[r].size;
}

static bool pymalloc_whereis(const pm_heap *h, uint64_t addr, char *buf, size_t cap)
{
    pymac_whereis w;
    pymac_error e;
    if (pymac_whereis_address(h->s, addr, &w, &e) > PYMAC_PARTIAL)
        snprintf(buf, cap, "unknown");
    else if (w.kind == PYMAC_WHERE_BLOCK)
        snprintf(buf, cap, "pymalloc arena 0x%llx, pool 0x%llx, size class %u (%u bytes), block 0x%llx%s",
                 (unsigned long long)w.arena, (unsigned long long)w.pool, w.size_class,
                 w.block_size, (unsigned long long)w.block, w.in_use ? "" : " (FREE)");
    else if (w.kind == PYMAC_WHERE_NOT_PYMALLOC)
        return false;
    else
        snprintf(buf, cap, "inside a pymalloc arena, but not in a block");
    return true;
}

static void pymalloc_totals(const pm_heap *h, pm_heap_totals *t)
{
    const pymac_pymalloc *p = h->walk;
    memset(t, 0, sizeof *t);
    t->regions = p->narenas;
    t->region_bytes = (uint64_t)p->narenas * p->arena_size;
    t->units = p->npools;
    for (size_t i = 0; i < p->narenas; i++) {
        t->blocks_used += p->arenas[i].blocks_in_use;
        t->bytes_used += p->arenas[i].bytes_in_use;
    }
}

const pm_heap_ops pm_heap_pymalloc_ops = {
    .name = "pymalloc",
    .open = pymalloc_open,
    .each_used_block = pymalloc_each_used_block,
    .block_of = pymalloc_block_of,
    .addr_state = pymalloc_addr_state,
    .object_span_end = pymalloc_object_span_end,
    .whereis = pymalloc_whereis,
    .totals = pymalloc_totals,
};

/* mimalloc behind the allocator interface (heap.h): regions are segments,
 * units are pages, over the walk of mimalloc.c. */
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "mimalloc.h"

static pymac_status mimalloc_open(pymac_session *s, pm_heap *h, pymac_error *err)
{
    const pm_mi_walk *w;
    pymac_status st = pm_mi_session_walk(s, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    h->walk = w;
    h->regions = malloc((w->nsegs + 1) * sizeof *h->regions);
    h->region_native = malloc((w->nsegs + 1) * sizeof *h->region_native);
    if (!h->regions || !h->region_native)
        return pm_nomem(err);
    for (size_t i = 0; i < w->nsegs; i++) { /* the walk sorts them */
        h->regions[i] = (pm_heap_region){w->segs[i].addr, w->segs[i].size};
        h->region_native[i] = (uint32_t)i;
    }
    h->nregions = w->nsegs;
    return st;
}

/* Pages whose free list broke are skipped: the walk warned of them. */
static pymac_status mimalloc_each_used_block(const pm_heap *h, const pm_heap_visitor *v,
                                             void *ctx, bool *partial, pymac_error *err)
{
    (void)partial;
    const pm_mi_walk *w = h->walk;
    for (size_t i = 0; i < w->npages; i++) {
        const pm_mi_page *p = &w->pages[i];
        if (p->bad)
            continue;
        pm_heap_unit u = {
            .addr = p->addr,
            .first = p->start,
            .end = p->start + p->area,
            .block_size = p->block_size,
            .nblocks = p->capacity,
            .kind = p->kind,
            .region = pm_heap_region_of(h, p->segment),
            .native = p,
        };
        if (v->unit && !v->unit(ctx, &u))
            continue;
        for (uint32_t b = 0; b < p->capacity; b++)
            if (!pm_mi_block_free(w, p, b) &&
                !v->block(ctx, &u, p->start + (uint64_t)b * p->block_size))
                return pm_nomem(err);
    }
    return PYMAC_OK;
}

static bool mimalloc_block_of(const pm_heap *h, long region, uint64_t addr, pm_heap_block *b)
{
    (void)region;
    const pm_mi_page *p = pm_mi_page_of(h->walk, addr);
    if (!p || !p->block_size || addr < p->start)
        return false;
    uint64_t i = (addr - p->start) / p->block_size;
    if (i >= p->capacity)
        return false;
    b->addr = p->start + i * p->block_size;
    b->size = p->block_size;
    /* -1 on a page whose free lists broke, as pm_mi_addr_state says */
    b->used = p->bad ? -1 : !pm_mi_block_free(h->walk, p, (uint32_t)i);
    return true;
}

static int mimalloc_addr_state(const pm_heap *h, uint64_t addr)
{
    return pm_mi_addr_live(h->s, addr);
}

static uint64_t mimalloc_object_span_end(const pm_heap *h, uint64_t addr)
{
    return pm_mi_object_page_end(h->s, addr);
}

static bool mimalloc_whereis(const pm_heap *h, uint64_t addr, char *buf, size_t cap)
{
    return pm_mi_describe(h->s, addr, buf, cap);
}

static void mimalloc_totals(const pm_heap *h, pm_heap_totals *t)
{
    const pm_mi_walk *w = h->walk;
    memset(t, 0, sizeof *t);
    t->regions = w->nsegs;
    for (size_t i = 0; i < w->nsegs; i++)
        t->region_bytes += w->segs[i].size;
    t->units = w->npages;
    for (size_t i = 0; i < w->npages; i++) {
        t->blocks_used += w->pages[i].live;
        t->bytes_used += (uint64_t)w->pages[i].live * w->pages[i].block_size;
    }
}

const pm_heap_ops pm_heap_mimalloc_ops = {
    .name = "mimalloc",
    .open = mimalloc_open,
    .each_used_block = mimalloc_each_used_block,
    .block_of = mimalloc_block_of,
    .addr_state = mimalloc_addr_state,
    .object_span_end = mimalloc_object_span_end,
    .whereis = mimalloc_whereis,
    .totals = mimalloc_totals,
};

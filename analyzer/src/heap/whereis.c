/* Where does an address live: which arena, pool, size class and block, and
 * is that block in use. On 3.10+ the answer is confirmed against the
 * allocator's own arena_map radix tree. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "obmalloc.h"

/* address_in_range() of 3.10+: -1 unreadable, 0 no, 1 yes. */
static int radix_lookup(pymac_session *s, const pymac_pymalloc *h, uint64_t p)
{
    const pm_layout *L = s->layout;
    unsigned arena_bits = pm_log2_u64(h->arena_size), bot_bits = pm_log2_u64(L->map_bot_len),
             mid_bits = pm_log2_u64(L->map_mid_len);
    uint64_t i1 = (p >> (arena_bits + bot_bits + mid_bits)) & (L->map_top_len - 1);
    uint64_t i2 = (p >> (arena_bits + bot_bits)) & (L->map_mid_len - 1);
    uint64_t i3 = (p >> arena_bits) & (L->map_bot_len - 1);
    uint64_t mid, bot, hi, lo;
    if (!pm_read_u64(s, s->rt->om.arena_map_root.addr + 8 * i1, &mid))
        return -1;
    if (!mid)
        return 0;
    if (!pm_read_u64(s, mid + 8 * i2, &bot))
        return -1;
    if (!bot)
        return 0;
    uint64_t cov = bot + (uint64_t)L->coverage_size * i3;
    if (!pm_read_field(s, cov, &L->cov_tail_hi, &hi) ||
        !pm_read_field(s, cov, &L->cov_tail_lo, &lo))
        return -1;
    int32_t shi = (int32_t)(uint32_t)hi, slo = (int32_t)(uint32_t)lo;
    int32_t tail = (int32_t)(p & (h->arena_size - 1));
    return (tail < slo) || (tail >= shi && shi != 0);
}

static const pymac_arena *arena_of(const pymac_pymalloc *h, uint64_t addr)
{
    for (size_t i = 0; i < h->narenas; i++)
        if (addr >= h->arenas[i].address && addr - h->arenas[i].address < h->arena_size)
            return &h->arenas[i];
    return NULL;
}

/* Classifies a block of a used pool by walking the pool's free list. */
static pymac_status block_state(pymac_session *s, const pymac_pymalloc *h, const pymac_pool *pool,
                                pymac_whereis *w)
{
    uint64_t off = w->block - pool->address;
    uint32_t never_from = pool->blocks_total - pool->blocks_never_used;
    if (w->block_index >= never_from) {
        w->in_use = 0;
        w->free_reason = "never used";
        return PYMAC_OK;
    }
    if (pool->state == PYMAC_POOL_FULL) {
        w->in_use = 1;
        return PYMAC_OK;
    }
    uint8_t *is_free = calloc(pool->blocks_total, 1);
    if (!is_free)
        return PYMAC_E_NOMEM;
    uint32_t chain;
    pymac_status st = pm_pool_free_list(s, h, pool, is_free, &chain);
    if (st == PYMAC_OK) {
        w->in_use = !is_free[w->block_index];
        w->free_reason = w->in_use ? NULL : "on the pool's free list";
    }
    free(is_free);
    (void)off;
    return st;
}

pymac_status pymac_whereis_address(pymac_session *s, uint64_t addr, pymac_whereis *w,
                                   pymac_error *err)
{
    memset(w, 0, sizeof *w);
    w->address = addr;
    if (!pm_mapped(s, addr)) {
        w->kind = PYMAC_WHERE_UNMAPPED;
        return pm_fail(err, PYMAC_E_ADDRESS, "give an address inside the process's memory",
                       "0x%llx is not mapped in the process", (unsigned long long)addr);
    }
    const pymac_pymalloc *h;
    pymac_status st = pymac_pymalloc_walk(s, &h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (h->has_radix_tree) {
        int r = radix_lookup(s, h, addr);
        w->radix_confirmed = r == 1;
    }
    const pymac_arena *a = arena_of(h, addr);
    if (!a) {
        w->kind = PYMAC_WHERE_NOT_PYMALLOC;
        if (w->radix_confirmed)
            pm_warn(s, "the arena map claims 0x%llx but no arena holds it",
                    (unsigned long long)addr);
        return st;
    }
    w->arena = a->address;
    w->arena_index = a->index;
    uint64_t pool_addr = addr & ~(uint64_t)(h->pool_size - 1);
    uint64_t first = (a->address + h->pool_size - 1) & ~(uint64_t)(h->pool_size - 1);
    if (addr < first || pool_addr >= first + (uint64_t)a->pools_carved * h->pool_size) {
        w->kind = PYMAC_WHERE_ARENA_SLACK;
        return st;
    }
    const pymac_pool *pool = pm_pymalloc_pool(h, a, pool_addr);
    w->pool = pool_addr;
    if (!pool)
        return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged; the arenas view warns",
                       "pool 0x%llx, which holds 0x%llx, has an unreadable or corrupt header",
                       (unsigned long long)pool_addr, (unsigned long long)addr);
    w->pool_state = pool->state;
    uint64_t off = addr - pool->address;
    if (off < h->pool_overhead) {
        w->kind = PYMAC_WHERE_POOL_HEADER;
        return st;
    }
    if (pool->state == PYMAC_POOL_EMPTY) {
        w->kind = PYMAC_WHERE_BLOCK;
        w->in_use = 0;
        w->free_reason = "pool is empty";
        return st;
    }
    w->size_class = pool->size_class;
    w->block_size = pool->block_size;
    w->block_index = (uint32_t)((off - h->pool_overhead) / pool->block_size);
    if (w->block_index >= pool->blocks_total) {
        w->kind = PYMAC_WHERE_ARENA_SLACK; /* the pool's unusable tail */
        return st;
    }
    w->kind = PYMAC_WHERE_BLOCK;
    w->block = pool->address + h->pool_overhead + (uint64_t)w->block_index * pool->block_size;
    w->offset_in_block = (uint32_t)(addr - w->block);
    pymac_status bs = block_state(s, h, pool, w);
    if (bs == PYMAC_E_NOMEM)
        return pm_nomem(err);
    if (bs) {
        pm_warn(s, "the free list of pool 0x%llx is corrupt", (unsigned long long)pool->address);
        return PYMAC_PARTIAL;
    }
    return st;
}

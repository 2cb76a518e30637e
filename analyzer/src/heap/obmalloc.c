/* The pymalloc walk: arenas -> pools -> blocks (CPython 3.8 and newer, default build).
 *
 * Only pool headers are read here, one per pool, so the walk costs far less
 * than reading the core; free lists are walked on demand (pm_pool_free_list)
 * by the views that need block-level detail. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "obmalloc.h"

/* Compile-time constants of Objects/obmalloc.c that DWARF cannot carry
 * (they are macros). Each is cross-checked against data in the core. */
enum {
    PM_ALIGNMENT = 16,          /* ALIGNMENT on 64-bit builds */
    PM_POOL_SIZE_SMALL = 4096,  /* 3.8, 3.9 */
    PM_POOL_SIZE_LARGE = 16384, /* 3.10+: USE_LARGE_POOLS, with the radix tree */
    PM_MAX_ARENAS = 1 << 24,    /* sanity bound on maxarenas: 16 TiB of arenas */
};

static uint64_t var_uint(pymac_session *s, const pm_var *v, bool *ok)
{
    uint64_t x = 0;
    if (!v->ok || !pm_read_uint(s, v->addr, v->size > 8 ? 8 : v->size, &x))
        *ok = false;
    return x;
}

static pymac_status geometry(pymac_session *s, pymac_pymalloc *h, pymac_error *err)
{
    const pm_layout *L = s->layout;
    const pm_obmalloc_vars *om = &s->rt->om;
    h->has_radix_tree = L->has_radix;
    h->pool_size = L->has_radix ? PM_POOL_SIZE_LARGE : PM_POOL_SIZE_SMALL;
    /* nfp2lasta has MAX_POOLS_IN_ARENA + 1 pointers. */
    uint32_t max_pools = om->nfp2lasta.size / 8 - 1;
    h->arena_size = h->pool_size * max_pools;
    /* usedpools has two pointers per size class. */
    h->nclasses = om->usedpools.size / 16;
    h->pool_overhead = (L->pool_header_size + PM_ALIGNMENT - 1) / PM_ALIGNMENT * PM_ALIGNMENT;
    if (max_pools < 1 || max_pools > 1024 || h->nclasses < 1 ||
        h->nclasses > PYMAC_MAX_SIZE_CLASSES)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL,
                       "unexpected pymalloc geometry (%u pools per arena, %u size classes)",
                       max_pools, h->nclasses);
    for (uint32_t i = 0; i < h->nclasses; i++)
        h->classes[i].block_size = (i + 1) * PM_ALIGNMENT;
    return PYMAC_OK;
}

static pymac_status read_counters(pymac_session *s, pymac_pymalloc *h, pymac_error *err)
{
    const pm_obmalloc_vars *om = &s->rt->om;
    bool ok = true;
    h->maxarenas = (uint32_t)var_uint(s, &om->maxarenas, &ok);
    h->ntimes_arena_allocated = var_uint(s, &om->ntimes_arena_allocated, &ok);
    h->narenas_highwater = var_uint(s, &om->narenas_highwater, &ok);
    h->narenas_currently_allocated = var_uint(s, &om->narenas_currently_allocated, &ok);
    if (om->raw_allocated_blocks.ok)
        h->raw_allocated_blocks = var_uint(s, &om->raw_allocated_blocks, &ok);
    if (h->has_radix_tree) {
        const pm_layout *L = s->layout;
        h->arena_map_mid_count = var_uint(s, &om->arena_map_mid_count, &ok);
        h->arena_map_bot_count = var_uint(s, &om->arena_map_bot_count, &ok);
        h->arena_map_root_size = L->map_root_size;
        h->arena_map_mid_size = L->map_mid_size;
        h->arena_map_bot_size = L->map_bot_size;
    }
    if (!ok)
        return pm_fail(err, PYMAC_E_CORRUPT, "the core lacks the interpreter's data pages",
                       "cannot read pymalloc's counters");
    /* The table lies in the target's memory: a count larger than that memory
     * is garbage, and would cost a huge allocation before the read fails. */
    if (h->maxarenas > PM_MAX_ARENAS ||
        (uint64_t)h->maxarenas * s->layout->arena_object_size > s->target.space_bytes)
        return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                       "pymalloc's arena table claims %u entries", h->maxarenas);
    return PYMAC_OK;
}

bool pm_decode_pool(const pymac_pymalloc *h, const pm_layout *L, const void *hdr, uint64_t addr,
                    pymac_pool *p, char *why, size_t whycap)
{
    uint64_t count = pm_get_uint(hdr, L->ph_count.off, L->ph_count.size);
    uint64_t freeblock = pm_get_uint(hdr, L->ph_freeblock.off, L->ph_freeblock.size);
    uint64_t szidx = pm_get_uint(hdr, L->ph_szidx.off, L->ph_szidx.size);
    uint64_t nextoffset = pm_get_uint(hdr, L->ph_nextoffset.off, L->ph_nextoffset.size);
    uint64_t maxnext = pm_get_uint(hdr, L->ph_maxnextoffset.off, L->ph_maxnextoffset.size);
    memset(p, 0, sizeof *p);
    p->address = addr;
    p->arena_index = (uint32_t)pm_get_uint(hdr, L->ph_arenaindex.off, L->ph_arenaindex.size);
    if (count == 0) {
        /* Empty: szidx and the free list are stale. */
        p->state = PYMAC_POOL_EMPTY;
        return true;
    }
    if (szidx >= h->nclasses) {
        snprintf(why, whycap, "size class %llu", (unsigned long long)szidx);
        return false;
    }
    uint32_t size = h->classes[szidx].block_size;
    uint32_t nblocks = (h->pool_size - h->pool_overhead) / size;
    if (count > nblocks) {
        snprintf(why, whycap, "%llu blocks in use of %u", (unsigned long long)count, nblocks);
        return false;
    }
    if (maxnext != h->pool_size - size || nextoffset < h->pool_overhead ||
        nextoffset > h->pool_size || (nextoffset - h->pool_overhead) % size) {
        snprintf(why, whycap, "nextoffset %llu / maxnextoffset %llu",
                 (unsigned long long)nextoffset, (unsigned long long)maxnext);
        return false;
    }
    p->size_class = (uint32_t)szidx;
    p->block_size = size;
    p->blocks_total = nblocks;
    p->blocks_in_use = (uint32_t)count;
    p->blocks_never_used =
        nextoffset <= maxnext ? (uint32_t)((maxnext - nextoffset) / size + 1) : 0;
    p->blocks_free_listed = nblocks - p->blocks_in_use - p->blocks_never_used;
    if (p->blocks_never_used > nblocks - p->blocks_in_use) {
        snprintf(why, whycap, "never-used tail larger than the free blocks");
        return false;
    }
    p->state = freeblock ? PYMAC_POOL_USED : PYMAC_POOL_FULL;
    /* pymalloc: no free list means every block is in use; a free list is
     * never empty */
    if (!freeblock && p->blocks_in_use != nblocks) {
        snprintf(why, whycap, "no free list but %u of %u blocks in use", p->blocks_in_use,
                 nblocks);
        return false;
    }
    if (freeblock && !p->blocks_free_listed) {
        snprintf(why, whycap, "a free list but no free-listed blocks");
        return false;
    }
    return true;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

static pymac_status walk_arena(pymac_session *s, pymac_pymalloc *h, const void *ao, uint32_t index,
                               size_t *pool_cap, pymac_error *err)
{
    const pm_layout *L = s->layout;
    pymac_arena a = {0};
    a.address = pm_get_uint(ao, L->ao_address.off, L->ao_address.size);
    uint64_t pool_address = pm_get_uint(ao, L->ao_pool_address.off, L->ao_pool_address.size);
    a.nfreepools = (uint32_t)pm_get_uint(ao, L->ao_nfreepools.off, L->ao_nfreepools.size);
    a.pools_total = (uint32_t)pm_get_uint(ao, L->ao_ntotalpools.off, L->ao_ntotalpools.size);
    a.index = index;
    a.first_pool = h->npools;
    uint32_t max_pools = h->arena_size / h->pool_size;
    uint64_t first = (a.address + h->pool_size - 1) & ~(uint64_t)(h->pool_size - 1);
    bool misaligned = first != a.address;
    if (misaligned)
        h->misaligned_arenas++;
    h->unused_pools += a.nfreepools;
    if (a.pools_total != max_pools - (misaligned ? 1u : 0u) || a.nfreepools > a.pools_total ||
        pool_address < first || pool_address > first + (uint64_t)a.pools_total * h->pool_size ||
        (pool_address - first) % h->pool_size) {
        pm_warn(s, "arena %u at 0x%llx has an inconsistent header (%u pools, pool_address 0x%llx)",
                index, (unsigned long long)a.address, a.pools_total,
                (unsigned long long)pool_address);
        h->partial = 1;
        pool_address = first; /* do not walk it */
    }
    /* carved: every pool below pool_address, whether its header decodes or not */
    a.pools_carved = (uint32_t)((pool_address - first) / h->pool_size);
    unsigned char scratch[256];
    if (L->pool_header_size > sizeof scratch)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL, "pool header of %u bytes",
                       L->pool_header_size);
    for (uint64_t p = first; p < pool_address; p += h->pool_size) {
        if (!grow((void **)&h->pools, pool_cap, h->npools + 1, sizeof *h->pools))
            return pm_nomem(err);
        const void *hdr = pm_read_sparse(s, p, scratch, L->pool_header_size) ? scratch : NULL;
        pymac_pool *pool = &h->pools[h->npools];
        char why[96];
        if (!hdr) {
            pm_warn(s, "pool 0x%llx of arena %u is not in the core", (unsigned long long)p, index);
            h->partial = 1;
            continue;
        }
        if (!pm_decode_pool(h, L, hdr, p, pool, why, sizeof why)) {
            pm_warn(s, "pool 0x%llx of arena %u has a corrupt header (%s)", (unsigned long long)p,
                    index, why);
            h->partial = 1;
            continue;
        }
        if (pool->arena_index != index) {
            pm_warn(s, "pool 0x%llx claims arena %u but lies in arena %u", (unsigned long long)p,
                    pool->arena_index, index);
            h->partial = 1;
        }
        h->npools++;
        switch (pool->state) {
        case PYMAC_POOL_EMPTY:
            a.pools_empty++;
            continue;
        case PYMAC_POOL_USED:
            a.pools_used++;
            break;
        case PYMAC_POOL_FULL:
            a.pools_full++;
            break;
        }
        pymac_size_class *c = &h->classes[pool->size_class];
        c->pools++;
        c->blocks_in_use += pool->blocks_in_use;
        c->blocks_free += pool->blocks_total - pool->blocks_in_use;
        a.blocks_in_use += pool->blocks_in_use;
        a.bytes_in_use += (uint64_t)pool->blocks_in_use * pool->block_size;
    }
    a.npools = h->npools - a.first_pool;
    h->arenas[h->narenas++] = a;
    return PYMAC_OK;
}

/* Per table entry, whether to leave it out of the walk: CPython's arenas are
 * disjoint, so of entries whose spans overlap (a damaged table) only the
 * lowest is walked; one whose span wraps past the address space is dropped.
 * Either way the walk warns and is partial. NULL when out of memory. */
static uint8_t *overlapping_arenas(pymac_session *s, pymac_pymalloc *h, const unsigned char *table)
{
    const pm_layout *L = s->layout;
    uint8_t *skip = calloc(h->maxarenas + 1, 1);
    uint64_t *keyed = malloc(((size_t)h->maxarenas + 1) * 2 * sizeof *keyed);
    if (!skip || !keyed) {
        free(skip);
        free(keyed);
        return NULL;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < h->maxarenas; i++) {
        uint64_t addr = pm_get_uint(table + (size_t)i * L->arena_object_size, L->ao_address.off,
                                    L->ao_address.size);
        if (!addr)
            continue;
        if (addr > UINT64_MAX - h->arena_size) {
            pm_warn(s, "arena %u at 0x%llx would end past the address space; it is skipped", i,
                    (unsigned long long)addr);
            skip[i] = 1;
            h->partial = 1;
            continue;
        }
        keyed[2 * n] = addr;
        keyed[2 * n + 1] = i;
        n++;
    }
    pm_sort(keyed, n, 2 * sizeof *keyed, pm_cmp_u64);
    for (size_t k = 1, kept = 0; k < n; k++) {
        if (keyed[2 * k] - keyed[2 * kept] >= h->arena_size) {
            kept = k;
            continue;
        }
        pm_warn(s, "arena %u at 0x%llx overlaps arena %u at 0x%llx; it is skipped",
                (unsigned)keyed[2 * k + 1], (unsigned long long)keyed[2 * k],
                (unsigned)keyed[2 * kept + 1], (unsigned long long)keyed[2 * kept]);
        skip[keyed[2 * k + 1]] = 1;
        h->partial = 1;
    }
    free(keyed);
    return skip;
}

/* Walks a linked list of arena objects, checking every link lands in the table. */
static void check_arena_list(pymac_session *s, pymac_pymalloc *h, const unsigned char *table,
                             uint64_t table_addr, uint64_t head, bool want_allocated,
                             const char *name)
{
    const pm_layout *L = s->layout;
    uint64_t prev = 0;
    for (uint64_t n = 0, a = head; a; n++) {
        uint64_t off = a - table_addr;
        if (a < table_addr || off >= (uint64_t)h->maxarenas * L->arena_object_size ||
            off % L->arena_object_size || n > h->maxarenas) {
            pm_warn(s, "%s list leaves the arena table at 0x%llx", name, (unsigned long long)a);
            h->partial = 1;
            return;
        }
        const unsigned char *ao = table + off;
        uint64_t addr = pm_get_uint(ao, L->ao_address.off, L->ao_address.size);
        if ((addr != 0) != want_allocated) {
            pm_warn(s, "%s list holds arena object %llu with address 0x%llx", name,
                    (unsigned long long)(off / L->arena_object_size), (unsigned long long)addr);
            h->partial = 1;
            return;
        }
        if (want_allocated &&
            pm_get_uint(ao, L->ao_prevarena.off, L->ao_prevarena.size) != prev) {
            pm_warn(s, "%s list has a broken back link at arena object %llu", name,
                    (unsigned long long)(off / L->arena_object_size));
            h->partial = 1;
            return;
        }
        prev = a;
        a = pm_get_uint(ao, L->ao_nextarena.off, L->ao_nextarena.size);
    }
}

pymac_status pymac_pymalloc_walk(pymac_session *s, const pymac_pymalloc **out, pymac_error *err)
{
    if (s->pymalloc) {
        *out = s->pymalloc;
        return s->pymalloc->partial ? PYMAC_PARTIAL : PYMAC_OK;
    }
    *out = NULL;
    pymac_pymalloc *h = calloc(1, sizeof *h);
    if (!h)
        return pm_nomem(err);
    if (s->layout->free_threaded) { /* pymalloc holds nothing: see mimalloc.c */
        *out = s->pymalloc = h;
        return PYMAC_OK;
    }
    if (!PM_OBJECTS_IN_PYMALLOC(s->rt))
        pm_warn(s, "the process allocated objects with %s, not pymalloc: its arenas hold none "
                "of them, and objects on no GC list are found only through pointers",
                pm_allocator_name(s->rt));
    pymac_status st = geometry(s, h, err);
    if (!st)
        st = read_counters(s, h, err);
    const pm_layout *L = s->layout;
    const pm_obmalloc_vars *om = &s->rt->om;
    if (om->from_code_only) {
        pm_warn(s, "pymalloc's statics were named by this stripped build's code, and its arena "
                "table does not confirm them (damaged?): the arenas are read as the table holds "
                "them, %u pools each, and usable_arenas is not checked",
                om->nfp2lasta.size / 8 - 1);
        h->partial = 1;
    }
    uint64_t table_addr = 0;
    unsigned char *table = NULL;
    size_t table_len = (size_t)h->maxarenas * L->arena_object_size;
    if (!st && (!pm_read_u64(s, om->arenas.addr, &table_addr) ||
                (table_len && !table_addr))) {
        st = pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                     "cannot read pymalloc's arena table pointer");
    }
    if (!st && table_len) {
        table = malloc(table_len);
        h->arenas = calloc(h->maxarenas, sizeof *h->arenas);
        if (!table || !h->arenas)
            st = pm_nomem(err);
        else if (!pm_read(s, table_addr, table, table_len))
            st = pm_fail(err, PYMAC_E_CORRUPT, "the core may be truncated or damaged",
                         "the arena table (%u entries at 0x%llx) is not in the core",
                         h->maxarenas, (unsigned long long)table_addr);
    }
    uint8_t *skip = NULL;
    if (!st && table && !(skip = overlapping_arenas(s, h, table)))
        st = pm_nomem(err);
    size_t pool_cap = 0;
    for (uint32_t i = 0; !st && i < h->maxarenas; i++) {
        const unsigned char *ao = table + (size_t)i * L->arena_object_size;
        if (!skip[i] && pm_get_uint(ao, L->ao_address.off, L->ao_address.size) != 0)
            st = walk_arena(s, h, ao, i, &pool_cap, err);
    }
    free(skip);
    if (!st && h->narenas != h->narenas_currently_allocated) {
        /* a zeroed or overwritten table would otherwise just look smaller */
        pm_warn(s, "the arena table holds %zu allocated arenas but pymalloc counts %llu",
                h->narenas, (unsigned long long)h->narenas_currently_allocated);
        h->partial = 1;
    }
    if (!st && table) {
        uint64_t usable = 0, unused = 0;
        pm_read_u64(s, om->usable_arenas.addr, &usable);
        check_arena_list(s, h, table, table_addr, usable, true, "usable_arenas");
        if (om->unused_arena_objects.ok && pm_read_u64(s, om->unused_arena_objects.addr, &unused))
            check_arena_list(s, h, table, table_addr, unused, false, "unused_arena_objects");
    }
    free(table);
    if (st) {
        free(h->arenas);
        free(h->pools);
        free(h);
        return pm_explain_truncation(s, st, false, err);
    }
    s->pymalloc = h;
    *out = h;
    return h->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

pymac_status pm_pool_free_list(pymac_session *s, const pymac_pymalloc *h, const pymac_pool *p,
                               uint8_t *is_free, uint32_t *chain_len)
{
    const pm_layout *L = s->layout;
    *chain_len = 0;
    if (p->state == PYMAC_POOL_EMPTY || p->state == PYMAC_POOL_FULL)
        return PYMAC_OK;
    unsigned char hdr[256];
    uint64_t fb;
    if (!pm_read(s, p->address, hdr, L->pool_header_size))
        return PYMAC_E_ADDRESS;
    fb = pm_get_uint(hdr, L->ph_freeblock.off, L->ph_freeblock.size);
    uint32_t nfree = p->blocks_total - p->blocks_in_use;
    /* Bounded by the free blocks the header promises: a loop cannot hang us. */
    for (uint32_t n = 0; fb; n++) {
        uint64_t off = fb - p->address;
        if (fb < p->address || off < h->pool_overhead || off >= h->pool_size ||
            (off - h->pool_overhead) % p->block_size || n >= nfree)
            return PYMAC_E_CORRUPT;
        uint32_t idx = (uint32_t)((off - h->pool_overhead) / p->block_size);
        if (is_free) {
            if (is_free[idx])
                return PYMAC_E_CORRUPT; /* a cycle */
            is_free[idx] = 1;
        }
        (*chain_len)++;
        if (!pm_read_u64(s, fb, &fb))
            return PYMAC_E_ADDRESS;
    }
    return PYMAC_OK;
}

const pymac_pool *pm_pymalloc_pool(const pymac_pymalloc *h, const pymac_arena *a, uint64_t pool_addr)
{
    size_t lo = a->first_pool, end = a->first_pool + a->npools, hi = end;
    if (!h->pool_size)
        return NULL;
    /* where it is when no pool before it was left out */
    uint64_t first = (a->address + h->pool_size - 1) & ~(uint64_t)(h->pool_size - 1);
    if (pool_addr >= first && (pool_addr - first) / h->pool_size < a->npools &&
        h->pools[lo + (pool_addr - first) / h->pool_size].address == pool_addr)
        return &h->pools[lo + (pool_addr - first) / h->pool_size];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->pools[mid].address < pool_addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && h->pools[lo].address == pool_addr ? &h->pools[lo] : NULL;
}

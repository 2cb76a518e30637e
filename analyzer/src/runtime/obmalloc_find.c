/* pymalloc's file statics of CPython 3.8-3.11 in a stripped interpreter
 * (statics_find.h). The method, proven on pyenv's GCC builds and Debian's
 * LTO build (where the statics sit in another order: adjacency is no rule):
 *
 * - The stats function: exported _PyObject_DebugMallocStats, or the local
 *   function its code branches to (GCC's .part.0), whichever names the
 *   printone labels (.rodata strings, read from the file).
 * - ntimes_arena_allocated, narenas_highwater (and 3.10+ the arena map's
 *   mid/bot counts): the one static loaded into %rdx (printone's value)
 *   between the calls around the instruction putting the label in %rsi.
 * - maxarenas, arenas: the stats function's one other 4-byte and one other
 *   8-byte .bss load; 3.9+ _Py_GetAllocatedBlocks loads the same two and
 *   raw_allocated_blocks (3.8: its one load is _Py_AllocatedBlocks).
 * - narenas_currently_allocated: new_arena's store of the same register
 *   shortly before the one store to narenas_highwater, next to the
 *   increment of ntimes_arena_allocated.
 * - usedpools and the number of size classes: the one run of pairs in the
 *   file's initial .data that point 16 bytes before themselves (an empty
 *   circular pool list), checked in the core: each pair empty or heading
 *   pools of its own size class; the pool size follows from the pools.
 * - usable_arenas, unused_arena_objects, nfp2lasta: their values follow
 *   from the arena table's links; each is the one .bss word (window, for
 *   nfp2lasta) holding that value. Its length (MAX_POOLS_IN_ARENA + 1)
 *   follows from the arenas' ntotalpools. With no arena ever allocated
 *   (PYTHONMALLOC=malloc) they hold their initial NULLs: values without an
 *   address, which is all pymac reads of them.
 * - arena_map_root (3.10+): the one other .bss array the functions counting
 *   the map's nodes name (arena_map_mark_used); with arenas allocated, it
 *   must be the one .bss array in which every arena maps to the coverage
 *   arena_map_mark_used wrote for it.
 * Each finder answers only when exactly one candidate passes. What the code
 * and the file name (the stats function's statics, arenas, maxarenas,
 * raw_allocated_blocks, narenas_currently_allocated, usedpools' image,
 * arena_map_root) is found in obmalloc_find_code.c; this file confirms it in
 * the core's data and finds the rest there. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "statics_find.h"

enum {
    MAX_BSS = 64 << 20,       /* bytes of .bss read at most */
    MAX_ARENA_TABLE = 1 << 24, /* entries (pymalloc's own bound is lower) */
    DEFAULT_MAX_POOLS = 64,   /* ARENA_SIZE / POOL_SIZE of every 3.8-3.11 build */
};

typedef struct finder {
    pymac_session *s;
    const pm_layout *L;
    pm_section bss;
    uint8_t *bss_copy; /* the core's .bss */
    /* the arena table */
    uint64_t table_addr;
    uint32_t maxarenas, max_pools, pool_size;
    uint8_t *table;
} finder;

/* ---- data: usedpools, the arena table and what follows from it ---- */

static bool read_pool(const finder *f, uint64_t pool, uint64_t *szidx, uint64_t *maxnext,
                      uint64_t *next, uint64_t *prev, uint64_t *arenaindex)
{
    const pm_layout *L = f->L;
    return pm_read_field(f->s, pool, &L->ph_szidx, szidx) &&
           pm_read_field(f->s, pool, &L->ph_maxnextoffset, maxnext) &&
           pm_read_field(f->s, pool, &L->ph_nextpool, next) &&
           pm_read_field(f->s, pool, &L->ph_prevpool, prev) &&
           pm_read_field(f->s, pool, &L->ph_arenaindex, arenaindex);
}

/* Each pair of the core's usedpools is empty or heads a circular list of
 * pools of its own class; the pool size they imply. A pool in the part a
 * cut-short core lacks neither confirms nor refutes (nor is listed): the
 * walk reads the core as partial, as the DWARF run does. */
static bool usedpools_check(finder *f, uint64_t base, uint32_t n, uint64_t *used_pools,
                            size_t *nused)
{
    *nused = 0;
    f->pool_size = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint64_t head = base + 16ull * k - 16, first, last;
        if (!pm_read_u64(f->s, base + 16ull * k, &first) ||
            !pm_read_u64(f->s, base + 16ull * k + 8, &last))
            return false;
        if (first == head && last == head)
            continue;
        uint64_t ends[2] = {first, last};
        bool cut = false;
        for (int e = 0; e < 2 && !cut; e++) {
            uint64_t szidx, maxnext, next, prev, ai;
            uint64_t lacked = pm_target_about_of(&f->s->target).missing_reads;
            bool read = read_pool(f, ends[e], &szidx, &maxnext, &next, &prev, &ai);
            cut = !read && pm_target_about_of(&f->s->target).missing_reads > lacked;
            if (cut)
                continue;
            if (!read || szidx != k ||
                (e == 0 && prev != head) || (e == 1 && next != head))
                return false;
            uint64_t size = maxnext + 16ull * (k + 1);
            if (size & (size - 1) || ends[e] % size || (f->pool_size && f->pool_size != size))
                return false;
            f->pool_size = (uint32_t)size;
        }
        if (!cut)
            used_pools[(*nused)++] = first;
    }
    uint32_t want = f->L->has_radix ? 16384 : 4096; /* POOL_SIZE of this version */
    if (!f->pool_size)
        f->pool_size = want; /* no pool in use: nothing tells otherwise */
    return f->pool_size == want;
}

static uint64_t ao(const finder *f, uint32_t i, const pm_field *fld)
{
    return pm_get_uint(f->table + (size_t)i * f->L->arena_object_size, (uint32_t)fld->off,
                       fld->size);
}

/* The arena table at arenas' value; MAX_POOLS_IN_ARENA from its arenas
 * (ntotalpools, one more if the arena is not pool-aligned). */
static bool read_table(finder *f, uint64_t arenas, uint64_t maxarenas)
{
    const pm_layout *L = f->L;
    uint32_t m;
    uint64_t v;
    if (!pm_read_u64(f->s, arenas, &f->table_addr) || !pm_read_uint(f->s, maxarenas, 4, &v))
        return false;
    m = (uint32_t)v;
    f->maxarenas = m;
    if (m > MAX_ARENA_TABLE || (m && !pm_span_readable(f->s, f->table_addr, m,
                                                        L->arena_object_size)))
        return false;
    f->table = malloc((size_t)m * L->arena_object_size + 1);
    if (!f->table || (m && !pm_read(f->s, f->table_addr, f->table,
                                    (size_t)m * L->arena_object_size)))
        return false;
    f->max_pools = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint64_t addr = ao(f, i, &L->ao_address);
        if (!addr)
            continue;
        uint32_t pools = (uint32_t)ao(f, i, &L->ao_ntotalpools) + (addr % f->pool_size != 0);
        if (!pools || (f->max_pools && f->max_pools != pools))
            return false;
        f->max_pools = pools;
    }
    if (!f->max_pools)
        f->max_pools = DEFAULT_MAX_POOLS; /* no arena says */
    return true;
}

/* Every pool on usedpools lies in the arena its arenaindex names. */
static bool pools_in_arenas(const finder *f, const uint64_t *pools, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t szidx, maxnext, next, prev, ai;
        if (!read_pool(f, pools[i], &szidx, &maxnext, &next, &prev, &ai) || ai >= f->maxarenas)
            return false;
        uint64_t base = ao(f, (uint32_t)ai, &f->L->ao_address);
        if (!base || pools[i] < base || pools[i] - base >= (uint64_t)f->pool_size * f->max_pools)
            return false;
    }
    return true;
}

static uint64_t entry_addr(const finder *f, uint32_t i)
{
    return f->table_addr + (uint64_t)i * f->L->arena_object_size;
}

/* The index of the entry at a, or -1 if a is not one. */
static int64_t entry_index(const finder *f, uint64_t a)
{
    uint64_t sz = f->L->arena_object_size;
    if (a < f->table_addr || (a - f->table_addr) % sz || (a - f->table_addr) / sz >= f->maxarenas)
        return -1;
    return (int64_t)((a - f->table_addr) / sz);
}

/* usable_arenas: the one allocated arena with free pools and no prevarena
 * (0 when none has free pools); unused_arena_objects: the one unallocated
 * entry no other links to (0 when every entry is in use). nfp[k]: the last
 * arena with k free pools on the usable list. False if the links are not
 * one list each. */
static bool derive_heads(const finder *f, uint64_t *usable, uint64_t *unused, uint64_t *nfp)
{
    const pm_layout *L = f->L;
    uint32_t m = f->maxarenas, nusable = 0, nunused = 0;
    *usable = *unused = 0;
    uint8_t *linked = calloc(m + 1, 1);
    if (!linked)
        return false;
    for (uint32_t i = 0; i < m; i++) {
        bool alloc = ao(f, i, &L->ao_address) != 0;
        if (alloc && ao(f, i, &L->ao_nfreepools) > 0 && !ao(f, i, &L->ao_prevarena)) {
            *usable = entry_addr(f, i);
            nusable++;
        }
        int64_t next = entry_index(f, ao(f, i, &L->ao_nextarena));
        if (!alloc && next >= 0)
            linked[next] = 1;
    }
    for (uint32_t i = 0; i < m; i++)
        if (!ao(f, i, &L->ao_address) && !linked[i]) {
            *unused = entry_addr(f, i);
            nunused++;
        }
    free(linked);
    if (nusable > 1 || nunused > 1)
        return false;
    memset(nfp, 0, 8ull * (f->max_pools + 1));
    uint64_t a = *usable;
    for (uint32_t steps = 0; a && steps <= m; steps++) {
        int64_t i = entry_index(f, a);
        if (i < 0)
            return false;
        uint64_t k = ao(f, (uint32_t)i, &L->ao_nfreepools);
        if (k > f->max_pools)
            return false;
        nfp[k] = a;
        a = ao(f, (uint32_t)i, &L->ao_nextarena);
    }
    return a == 0;
}

static uint64_t bss_word(const finder *f, uint64_t addr)
{
    return pm_get_uint(f->bss_copy, (uint32_t)(addr - f->bss.addr), 8);
}

/* The one 8-aligned .bss word holding v, outside [skip_lo, skip_hi) and
 * not at skip; 0 if none or several. */
static uint64_t bss_holding(const finder *f, uint64_t v, uint64_t skip, uint64_t skip_lo,
                            uint64_t skip_hi)
{
    uint64_t found = 0;
    for (uint64_t a = (f->bss.addr + 7) & ~7ull; a + 8 <= f->bss.addr + f->bss.size; a += 8) {
        if (bss_word(f, a) != v || a == skip || (a >= skip_lo && a < skip_hi))
            continue;
        if (found)
            return 0;
        found = a;
    }
    return found;
}

/* nfp2lasta: the one .bss window of max_pools + 1 words equal to nfp. */
static uint64_t nfp_window(const finder *f, const uint64_t *nfp)
{
    uint32_t len = f->max_pools + 1, j = 0;
    while (j < len && !nfp[j])
        j++;
    if (j == len)
        return 0;
    uint64_t found = 0;
    for (uint64_t a = (f->bss.addr + 7) & ~7ull; a + 8 <= f->bss.addr + f->bss.size; a += 8) {
        if (bss_word(f, a) != nfp[j] || a - f->bss.addr < 8ull * j)
            continue;
        uint64_t base = a - 8ull * j;
        if (base + 8ull * len > f->bss.addr + f->bss.size)
            continue;
        uint32_t k = 0;
        while (k < len && bss_word(f, base + 8ull * k) == nfp[k])
            k++;
        if (k < len)
            continue;
        if (found)
            return 0;
        found = base;
    }
    return found;
}

/* 3.10+: does the radix tree rooted at root hold, for the arena at base,
 * the coverage arena_map_mark_used wrote (tail_hi: -1 for an aligned
 * arena, else its offset in the ARENA_SIZE block)? */
static bool maps_arena(const finder *f, uint64_t root, uint64_t base)
{
    const pm_layout *L = f->L;
    uint64_t arena_size = (uint64_t)f->pool_size * f->max_pools;
    unsigned a_bits = pm_log2_u64(arena_size), b_bits = pm_log2_u64(L->map_bot_len),
             m_bits = pm_log2_u64(L->map_mid_len);
    uint64_t i1 = (base >> (a_bits + b_bits + m_bits)) & (L->map_top_len - 1);
    uint64_t i2 = (base >> (a_bits + b_bits)) & (L->map_mid_len - 1);
    uint64_t i3 = (base >> a_bits) & (L->map_bot_len - 1);
    if (8 * i1 + 8 > L->map_root_size)
        return false;
    uint64_t mid = bss_word(f, root + 8 * i1), bot, hi;
    if (!mid || !pm_read_u64(f->s, mid + 8 * i2, &bot) || !bot ||
        !pm_read_field(f->s, bot + (uint64_t)L->coverage_size * i3, &L->cov_tail_hi, &hi))
        return false;
    int32_t tail = (int32_t)(base & (arena_size - 1));
    return (int32_t)(uint32_t)hi == (tail ? tail : -1);
}

/* arena_map_root: the one .bss array of map_root_size bytes that maps
 * every allocated arena. */
static uint64_t radix_root(const finder *f)
{
    const pm_layout *L = f->L;
    uint64_t first = 0;
    for (uint32_t i = 0; i < f->maxarenas && !first; i++)
        first = ao(f, i, &L->ao_address);
    if (!first || !L->map_top_len || !L->map_mid_len || !L->map_bot_len || !L->coverage_size ||
        L->map_root_size > f->bss.size)
        return 0;
    uint64_t arena_size = (uint64_t)f->pool_size * f->max_pools;
    unsigned shift = pm_log2_u64(arena_size) + pm_log2_u64(L->map_bot_len) + pm_log2_u64(L->map_mid_len);
    uint64_t i1 = (first >> shift) & (L->map_top_len - 1), found = 0;
    for (uint64_t a = (f->bss.addr + 7) & ~7ull; a + 8 <= f->bss.addr + f->bss.size; a += 8) {
        if (!bss_word(f, a) || a - f->bss.addr < 8 * i1)
            continue;
        uint64_t root = a - 8 * i1;
        if (root + L->map_root_size > f->bss.addr + f->bss.size || root == found)
            continue;
        bool all = true;
        for (uint32_t i = 0; i < f->maxarenas && all; i++) {
            uint64_t base = ao(f, i, &L->ao_address);
            all = !base || maps_arena(f, root, base);
        }
        if (!all)
            continue;
        if (found)
            return 0;
        found = root;
    }
    return found;
}

static bool read_bss(finder *f)
{
    if (!f->bss.size || f->bss.size > MAX_BSS)
        return false;
    f->bss_copy = calloc(1, f->bss.size + 8);
    if (!f->bss_copy)
        return false;
    /* page by page: a page the core lacks reads as zeros (it was never written) */
    for (uint64_t a = f->bss.addr; a < f->bss.addr + f->bss.size;) {
        uint64_t end = (a | 4095) + 1;
        if (end > f->bss.addr + f->bss.size)
            end = f->bss.addr + f->bss.size;
        pm_read(f->s, a, f->bss_copy + (a - f->bss.addr), end - a);
        a = end;
    }
    return true;
}

/* The code named arenas, maxarenas, the counters and arena_map_root (each
 * the one candidate of its pattern), and usedpools holds lists of pools,
 * but the arena table does not confirm them or its links are not one list
 * each: a damaged table, which the DWARF run reads as partial. What the
 * code named is the answer, flagged: the walk warns and is partial.
 * usable_arenas and unused_arena_objects, found only from the table's
 * links, are unknown; nfp2lasta's length is the default geometry's. */
static bool code_only(pm_obmalloc_vars *om)
{
    om->from_code_only = true;
    om->usable_arenas = (pm_var){0, 8, false};
    om->unused_arena_objects = (pm_var){0, 8, false};
    om->nfp2lasta = (pm_var){0, 8u * (DEFAULT_MAX_POOLS + 1), false};
    return true;
}

/* The core's data confirms what the code named (om holds it) and gives the
 * rest: the counters' order, usedpools' lists, the arena table holding their
 * pools, the lists' heads and nfp2lasta (from the table's links, each then
 * the one .bss word holding it), and 3.10+ the radix tree mapping every
 * arena. A damaged table leaves what the code named (code_only). */
static bool confirm_in_data(finder *f, pm_obmalloc_vars *om, const char **missing,
                            const char **detail, bool *never_allocated)
{
    pymac_session *s = f->s;
    uint64_t arenas = om->arenas.addr, maxarenas = om->maxarenas.addr;
    if (!pm_module_section(s, ".bss", &f->bss))
        return false;
    /* the counters' order: every arena allocated once, the highwater mark
     * counts at most that many at once, and no more than the table holds */
    uint64_t ntimes, high, cur;
    *missing = "narenas_currently_allocated";
    if (!pm_read_u64(s, om->ntimes_arena_allocated.addr, &ntimes) ||
        !pm_read_u64(s, om->narenas_highwater.addr, &high) ||
        !pm_read_u64(s, om->narenas_currently_allocated.addr, &cur) || ntimes < high ||
        high < cur)
        return false;
    /* usedpools, from the file; then the core */
    *missing = "usedpools";
    uint32_t nclasses = om->usedpools.size / 16;
    uint64_t *pools = malloc(nclasses * sizeof *pools);
    size_t npools = 0;
    bool ok = pools && usedpools_check(f, om->usedpools.addr, nclasses, pools, &npools);
    if (pools && !ok)
        *detail = " (the file's image has one, but the core's copy does not hold lists of "
                  "pools of each class: a damaged or truncated core?)";
    /* the arena table; the pools on usedpools must be in its arenas */
    bool table = ok && read_table(f, arenas, maxarenas) && high <= f->maxarenas &&
                 pools_in_arenas(f, pools, npools);
    free(pools);
    if (!ok)
        return false;
    if (!table)
        return code_only(om);
    uint64_t usable = 0, unused = 0, *nfp = calloc(f->max_pools + 1, 8);
    uint64_t nfp_len = 8ull * (f->max_pools + 1);
    *missing = "usable_arenas";
    if (!nfp)
        return false;
    if (!derive_heads(f, &usable, &unused, nfp)) {
        free(nfp);
        return code_only(om);
    }
    if (!read_bss(f)) {
        free(nfp);
        return false;
    }
    if (!ntimes) {
        /* pymalloc never allocated an arena (PYTHONMALLOC=malloc): its
         * lists are empty and nfp2lasta all NULL, as initialized. pymac
         * reads only their values (and nfp2lasta's length): no address */
        free(nfp);
        *never_allocated = true;
        om->nfp2lasta = (pm_var){0, (uint32_t)nfp_len, false};
        om->usable_arenas = (pm_var){0, 8, false};
        om->unused_arena_objects = (pm_var){0, 8, false};
    } else {
        if (!usable)
            *detail = " (no arena has a free pool: the list is empty, and no word of the "
                      "data can be told to be its head)";
        uint64_t nfp_at = usable ? nfp_window(f, nfp) : 0;
        free(nfp);
        if (!usable)
            return false;
        *missing = "nfp2lasta";
        if (!nfp_at)
            return false;
        om->nfp2lasta = pm_var_at(nfp_at, (uint32_t)nfp_len);
        om->usable_arenas = pm_var_at(bss_holding(f, usable, arenas, nfp_at, nfp_at + nfp_len), 8);
        *missing = "usable_arenas";
        if (!om->usable_arenas.ok)
            return false;
        /* optional to the walk: with no unallocated entry there is no list */
        om->unused_arena_objects =
            pm_var_at(unused ? bss_holding(f, unused, arenas, nfp_at, nfp_at + nfp_len) : 0, 8);
    }
    /* the code names the radix tree's root; with arenas allocated, the data
     * must agree */
    *missing = "arena_map_root";
    if (f->L->has_radix && cur && radix_root(f) != om->arena_map_root.addr)
        return false;
    *missing = NULL;
    return true;
}

bool pm_confirm_obmalloc(pymac_session *s, const pm_obmalloc_vars *code, pm_obmalloc_vars *om,
                         const char **missing, const char **detail, bool *never_allocated)
{
    finder f = {.s = s, .L = s->layout};
    *om = *code;
    *detail = "";
    *never_allocated = false;
    bool ok = confirm_in_data(&f, om, missing, detail, never_allocated);
    free(f.bss_copy);
    free(f.table);
    if (!ok)
        memset(om, 0, sizeof *om);
    return ok;
}

bool pm_find_obmalloc(pymac_session *s, pm_obmalloc_vars *om, const char **missing,
                      const char **detail, bool *never_allocated)
{
    pm_obmalloc_vars code;
    *detail = "";
    *never_allocated = false;
    memset(om, 0, sizeof *om);
    return pm_find_obmalloc_in_code(s, &code, missing) &&
           pm_confirm_obmalloc(s, &code, om, missing, detail, never_allocated);
}

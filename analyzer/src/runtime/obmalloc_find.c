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
 * Each finder answers only when exactly one candidate passes. */
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "layout.h"
#include "statics_find.h"

/* The stats function's labels (printone's second argument) and whose value
 * each prints (printone's third). */
static const struct {
    const char *text;
    const char *name;
    size_t var; /* offset in pm_obmalloc_vars */
    unsigned width;
    bool radix; /* 3.10+ */
} LABELS[] = {
    {"# arenas allocated total", "ntimes_arena_allocated",
     offsetof(pm_obmalloc_vars, ntimes_arena_allocated), 8, false},
    {"# arenas highwater mark", "narenas_highwater",
     offsetof(pm_obmalloc_vars, narenas_highwater), 8, false},
    {"# arena map mid nodes", "arena_map_mid_count",
     offsetof(pm_obmalloc_vars, arena_map_mid_count), 4, true},
    {"# arena map bot nodes", "arena_map_bot_count",
     offsetof(pm_obmalloc_vars, arena_map_bot_count), 4, true},
};

enum {
    MIN_CLASSES = 8,          /* a usedpools array has at least this many classes */
    MAX_CLASSES = 256,        /* and at most this many */
    MAX_BSS = 64 << 20,       /* bytes of .bss read at most */
    MAX_ARENA_TABLE = 1 << 24, /* entries (pymalloc's own bound is lower) */
    LABEL_WINDOW = 32,        /* bytes after a label load when no call follows */
    NEW_ARENA_WINDOW = 48,    /* bytes before the store to narenas_highwater */
    DEFAULT_MAX_POOLS = 64,   /* ARENA_SIZE / POOL_SIZE of every 3.8-3.11 build */
};

typedef struct finder {
    pymac_session *s;
    const pm_layout *L;
    pm_section text, rodata, data, bss;
    pm_insn *body; /* the stats function's code, at [body_lo, body_hi) */
    size_t nbody;
    uint64_t body_lo, body_hi;
    uint64_t *calls; /* addresses of its calls to function starts */
    size_t ncalls;
    uint8_t *bss_copy; /* the core's .bss */
    /* the arena table */
    uint64_t table_addr;
    uint32_t maxarenas, max_pools, pool_size;
    uint8_t *table;
} finder;

static uint64_t label_addr(const finder *f, const char *text)
{
    size_t off;
    return pm_find_cstring(f->rodata.bytes, f->rodata.size, text, &off) == 1 ? f->rodata.addr + off
                                                                             : 0;
}

static bool names_label(const pm_insn *v, size_t n, uint64_t label)
{
    for (size_t i = 0; i < n; i++)
        if ((v[i].kind == PM_INSN_LEA || v[i].kind == PM_INSN_IMM32) && v[i].target == label)
            return true;
    return false;
}

/* The stats function: the export, or the one local function it branches to
 * that names the label. */
static bool stats_body(finder *f, uint64_t label)
{
    uint64_t lo, hi;
    pm_insn *head;
    size_t nhead;
    if (!pm_module_export_bounds(f->s, "_PyObject_DebugMallocStats", &lo, &hi) ||
        !pm_module_insns(f->s, lo, hi, &head, &nhead))
        return false;
    if (names_label(head, nhead, label)) {
        f->body = head;
        f->nbody = nhead;
        f->body_lo = lo;
        f->body_hi = hi;
    }
    uint64_t chosen = 0;
    for (size_t i = 0; !f->body && i < nhead; i++) {
        uint64_t t = head[i].target, flo, fhi;
        if ((head[i].kind != PM_INSN_CALL && head[i].kind != PM_INSN_JMP) ||
            (t >= lo && t < hi) || t == chosen || !pm_section_has(&f->text, t, 1) ||
            !pm_module_function_bounds(f->s, t, &flo, &fhi) || flo != t)
            continue;
        pm_insn *v;
        size_t n;
        if (!pm_module_insns(f->s, flo, fhi, &v, &n))
            continue;
        if (names_label(v, n, label)) {
            if (chosen) { /* two functions name it: no answer */
                free(v);
                free(f->body);
                f->body = NULL;
                break;
            }
            chosen = t;
            f->body = v;
            f->nbody = n;
            f->body_lo = flo;
            f->body_hi = fhi;
            continue;
        }
        free(v);
    }
    if (f->body != head)
        free(head);
    if (!f->body)
        return false;
    f->calls = malloc((f->nbody + 1) * sizeof *f->calls);
    if (!f->calls)
        return false;
    for (size_t i = 0; i < f->nbody; i++)
        if (f->body[i].kind == PM_INSN_CALL && pm_module_function_start(f->s, f->body[i].target))
            f->calls[f->ncalls++] = f->body[i].at;
    return true;
}

uint64_t pm_printone_static(const pm_insn *body, size_t n, const uint64_t *calls,
                            size_t ncalls, uint64_t label, unsigned width, uint64_t lo,
                            uint64_t hi)
{
    uint64_t found = 0;
    bool site = false;
    for (size_t i = 0; label && i < n; i++) {
        const pm_insn *in = &body[i];
        if ((in->kind != PM_INSN_LEA && in->kind != PM_INSN_IMM32) || in->reg != PM_REG_RSI ||
            in->target != label)
            continue;
        site = true;
        uint64_t prev = 0, next = UINT64_MAX;
        for (size_t c = 0; c < ncalls; c++) {
            if (calls[c] < in->at && calls[c] > prev)
                prev = calls[c];
            if (calls[c] > in->at && calls[c] < next)
                next = calls[c];
        }
        if (next == UINT64_MAX)
            next = in->at + LABEL_WINDOW;
        for (size_t j = 0; j < n; j++) {
            const pm_insn *ld = &body[j];
            bool kind = width == 8 ? ld->kind == PM_INSN_LOAD && ld->width == 8
                                   : ld->kind == PM_INSN_LOAD_SX32;
            if (!kind || ld->reg != PM_REG_RDX || ld->at <= prev || ld->at >= next ||
                ld->target < lo || ld->target >= hi || hi - ld->target < width)
                continue;
            if (found && found != ld->target)
                return 0;
            found = ld->target;
        }
    }
    return site ? found : 0;
}

/* The static printed under the label, in the stats function. */
static uint64_t by_label(const finder *f, const char *text, unsigned width)
{
    return pm_printone_static(f->body, f->nbody, f->calls, f->ncalls, label_addr(f, text), width,
                              f->bss.addr, f->bss.addr + f->bss.size);
}

/* The distinct .bss loads of width bytes in v[0 .. n), but those in skip[];
 * how many, the first in *one. */
static size_t bss_loads(const finder *f, const pm_insn *v, size_t n, unsigned width,
                        const uint64_t *skip, size_t nskip, uint64_t *one)
{
    uint64_t seen[8];
    size_t nseen = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != PM_INSN_LOAD || v[i].width != width ||
            !pm_section_has(&f->bss, v[i].target, width))
            continue;
        bool dup = false;
        for (size_t k = 0; k < nskip; k++)
            dup |= skip[k] == v[i].target;
        for (size_t k = 0; k < nseen; k++)
            dup |= seen[k] == v[i].target;
        if (dup)
            continue;
        if (nseen < sizeof seen / sizeof seen[0])
            seen[nseen++] = v[i].target;
        total++;
    }
    *one = nseen ? seen[0] : 0;
    return total;
}

typedef struct hw_stores {
    uint64_t hw, at;
    uint8_t reg;
    size_t n;
} hw_stores;

static bool count_hw_store(void *ctx, const pm_insn *in)
{
    hw_stores *h = ctx;
    if (in->kind == PM_INSN_STORE && in->width == 8 && in->target == h->hw) {
        h->at = in->at;
        h->reg = in->reg;
        h->n++;
    }
    return true;
}

/* new_arena: ++narenas_currently_allocated; ++ntimes_arena_allocated; and
 * the one store to narenas_highwater, from the register just stored to
 * narenas_currently_allocated. */
static uint64_t ncurrent_from_new_arena(const finder *f, uint64_t hw, uint64_t ntimes)
{
    hw_stores h = {.hw = hw};
    pm_code_scan(f->text.bytes, f->text.size, f->text.addr, count_hw_store, &h);
    pm_insn *v;
    size_t n;
    if (h.n != 1 || h.at - f->text.addr < NEW_ARENA_WINDOW ||
        !pm_module_insns(f->s, h.at - NEW_ARENA_WINDOW, h.at, &v, &n))
        return 0;
    uint64_t found = 0;
    bool bump = false, two = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i].target == ntimes && v[i].width == 8 &&
            ((v[i].kind == PM_INSN_MEM_IMM && v[i].reg == 0 && v[i].imm == 1) ||
             (v[i].kind == PM_INSN_MEM_OTHER && v[i].reg == 0)))
            bump = true;
        if (v[i].kind != PM_INSN_STORE || v[i].width != 8 || v[i].reg != h.reg ||
            v[i].target == hw || !pm_section_has(&f->bss, v[i].target, 8))
            continue;
        two |= found && found != v[i].target;
        found = v[i].target;
    }
    free(v);
    return bump && !two ? found : 0;
}

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

uint64_t pm_self_pair_run(const uint8_t *image, uint64_t size, uint64_t addr, uint64_t link,
                          uint32_t min, uint32_t max, uint32_t *n)
{
    uint64_t found = 0;
    size_t runs = 0;
    uint32_t len = 0;
    if (!image)
        return 0;
    for (uint64_t a = (addr + 15) & ~(uint64_t)15;; a += 16) {
        bool pair = a >= addr && a + 16 <= addr + size;
        if (pair) {
            uint32_t off = (uint32_t)(a - addr);
            uint64_t self = a - (addr - link) - 16;
            pair = pm_get_uint(image, off, 8) == self && pm_get_uint(image, off + 8, 8) == self;
        }
        if (pair) {
            len++;
            continue;
        }
        if (len >= min) {
            runs++;
            found = a - 16ull * len;
            *n = len;
        }
        len = 0;
        if (a + 16 > addr + size)
            break;
    }
    return runs == 1 && *n <= max ? found : 0;
}

/* usedpools: the one run of empty pool lists in the file's .data; *n pairs. */
static uint64_t usedpools_in_image(const finder *f, uint32_t *n)
{
    return pm_self_pair_run(f->data.bytes, f->data.size, f->data.addr,
                            f->data.addr - f->s->python.elf_bias, MIN_CLASSES, MAX_CLASSES, n);
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

typedef struct count_users {
    uint64_t mid, bot;
    uint64_t at[16]; /* instructions naming either count */
    size_t n;
    bool overflow;
} count_users;

static bool note_count_user(void *ctx, const pm_insn *in)
{
    count_users *c = ctx;
    bool rip_operand = in->kind == PM_INSN_LOAD || in->kind == PM_INSN_LOAD_SX32 ||
                       in->kind == PM_INSN_STORE || in->kind == PM_INSN_CMP ||
                       in->kind == PM_INSN_MEM_IMM || in->kind == PM_INSN_MEM_OTHER;
    if ((in->target != c->mid && in->target != c->bot) || !rip_operand)
        return true;
    if (c->n == sizeof c->at / sizeof c->at[0]) {
        c->overflow = true;
        return false;
    }
    c->at[c->n++] = in->at;
    return true;
}

/* arena_map_root from the code: the one other .bss static the functions
 * counting the map's nodes name (arena_map_mark_used, with arena_map_get
 * inlined: a lea of the root in a shared library, an indexed absolute
 * operand in a non-PIE executable); the stats function aside. 0 if none or
 * several. */
static uint64_t radix_root_in_code(const finder *f, uint64_t mid, uint64_t bot)
{
    count_users c = {.mid = mid, .bot = bot};
    pm_code_scan(f->text.bytes, f->text.size, f->text.addr, note_count_user, &c);
    if (c.overflow)
        return 0;
    uint64_t found = 0, done_lo[16];
    size_t ndone = 0;
    for (size_t i = 0; i < c.n; i++) {
        uint64_t lo, hi;
        if (!pm_module_function_bounds(f->s, c.at[i], &lo, &hi))
            return 0;
        bool seen = lo == f->body_lo;
        for (size_t k = 0; k < ndone; k++)
            seen |= done_lo[k] == lo;
        if (seen)
            continue;
        done_lo[ndone++] = lo;
        pm_insn *v;
        size_t n;
        if (!pm_module_insns(f->s, lo, hi, &v, &n))
            return 0;
        for (size_t j = 0; j < n; j++) {
            if ((v[j].kind != PM_INSN_LEA && v[j].kind != PM_INSN_ABS_INDEXED) ||
                v[j].target == mid || v[j].target == bot ||
                !pm_section_has(&f->bss, v[j].target, 8))
                continue;
            if (found && found != v[j].target) {
                free(v);
                return 0;
            }
            found = v[j].target;
        }
        free(v);
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

static pm_var var(uint64_t addr, uint32_t size)
{
    pm_var v = {addr, size, addr != 0};
    return v;
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

/* The statics the code and the file name, with no read of the core: the
 * counters, arenas, maxarenas, raw_allocated_blocks,
 * narenas_currently_allocated, usedpools (the file's initial image) and
 * 3.10+ arena_map_root. */
static bool find_in_code(finder *f, pm_obmalloc_vars *om, const char **missing)
{
    pymac_session *s = f->s;
    const pm_layout *L = f->L;
    bool radix = L->has_radix;
    uint64_t label = 0;
    *missing = "the allocator's code (_PyObject_DebugMallocStats)";
    if (!pm_module_section(s, ".text", &f->text) || !f->text.bytes ||
        !pm_module_section(s, ".rodata", &f->rodata) || !f->rodata.bytes ||
        !pm_module_section(s, ".data", &f->data) || !pm_module_section(s, ".bss", &f->bss) ||
        !(label = label_addr(f, LABELS[0].text)) || !stats_body(f, label))
        return false;
    uint64_t known[6];
    size_t nknown = 0;
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++) {
        if (LABELS[i].radix && !radix)
            continue;
        pm_var *v = (pm_var *)((char *)om + LABELS[i].var);
        *v = var(by_label(f, LABELS[i].text, LABELS[i].width), LABELS[i].width);
        *missing = LABELS[i].name;
        if (!v->ok)
            return false;
        known[nknown++] = v->addr;
    }
    /* arenas, maxarenas: the stats function's other .bss loads */
    uint64_t arenas, maxarenas, raw = 0;
    *missing = "arenas";
    if (bss_loads(f, f->body, f->nbody, 8, known, nknown, &arenas) != 1)
        return false;
    *missing = "maxarenas";
    if (bss_loads(f, f->body, f->nbody, 4, known, nknown, &maxarenas) != 1)
        return false;
    /* raw_allocated_blocks: _Py_GetAllocatedBlocks's load (3.9+: beside
     * the same arenas and maxarenas) */
    *missing = s->rt->minor == 8 ? "_Py_AllocatedBlocks" : "raw_allocated_blocks";
    uint64_t lo, hi, other;
    pm_insn *v;
    size_t n;
    if (!pm_module_export_bounds(s, "_Py_GetAllocatedBlocks", &lo, &hi) ||
        !pm_module_insns(s, lo, hi, &v, &n))
        return false;
    uint64_t pair[2] = {arenas, maxarenas};
    size_t n8 = bss_loads(f, v, n, 8, NULL, 0, &other),
           n4 = bss_loads(f, v, n, 4, NULL, 0, &other);
    if (s->rt->minor == 8 && n8 == 1 && n4 == 0)
        bss_loads(f, v, n, 8, NULL, 0, &raw);
    else if (s->rt->minor > 8 && n4 == 1 && other == maxarenas && n8 == 2 &&
             bss_loads(f, v, n, 8, pair, 1, &raw) == 1 && raw != arenas)
        ;
    else
        raw = 0;
    free(v);
    if (!raw)
        return false;
    om->raw_allocated_blocks = var(raw, 8);
    om->arenas = var(arenas, 8);
    om->maxarenas = var(maxarenas, 4);
    *missing = "narenas_currently_allocated";
    om->narenas_currently_allocated = var(
        ncurrent_from_new_arena(f, om->narenas_highwater.addr, om->ntimes_arena_allocated.addr),
        8);
    if (!om->narenas_currently_allocated.ok)
        return false;
    *missing = "usedpools";
    uint32_t nclasses = 0;
    uint64_t used = usedpools_in_image(f, &nclasses);
    om->usedpools = var(used, 16 * nclasses);
    if (!om->usedpools.ok)
        return false;
    if (radix) {
        *missing = "arena_map_root";
        om->arena_map_root = var(radix_root_in_code(f, om->arena_map_mid_count.addr,
                                                    om->arena_map_bot_count.addr),
                                 L->map_root_size);
        if (!om->arena_map_root.ok)
            return false;
    }
    *missing = NULL;
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
        om->nfp2lasta = var(nfp_at, (uint32_t)nfp_len);
        om->usable_arenas = var(bss_holding(f, usable, arenas, nfp_at, nfp_at + nfp_len), 8);
        *missing = "usable_arenas";
        if (!om->usable_arenas.ok)
            return false;
        /* optional to the walk: with no unallocated entry there is no list */
        om->unused_arena_objects =
            var(unused ? bss_holding(f, unused, arenas, nfp_at, nfp_at + nfp_len) : 0, 8);
    }
    /* the code names the radix tree's root; with arenas allocated, the data
     * must agree */
    *missing = "arena_map_root";
    if (f->L->has_radix && cur && radix_root(f) != om->arena_map_root.addr)
        return false;
    *missing = NULL;
    return true;
}

bool pm_find_obmalloc_in_code(pymac_session *s, pm_obmalloc_vars *code, const char **missing)
{
    finder f = {.s = s, .L = s->layout};
    memset(code, 0, sizeof *code);
    bool ok = find_in_code(&f, code, missing);
    free(f.body);
    free(f.calls);
    if (!ok)
        memset(code, 0, sizeof *code);
    return ok;
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

/* Free glibc malloc memory, from the documented chunk format (malloc/malloc.c,
 * "malloc_chunk details"; x86-64: SIZE_SZ 8, MALLOC_ALIGNMENT 16, MINSIZE 32):
 *
 *   chunk+0  prev_size  (the previous chunk's size if it is free, else its data)
 *   chunk+8  size | A (4, non-main arena) | M (2, mmapped) | P (1, PREV_INUSE)
 *   chunk+16 user data (fd, bk, ... when free) up to chunk+size+8
 *
 * A heap is a run of chunks, each starting where the previous one ends; the
 * last is the top chunk, which reaches the end of the heap. A chunk is free
 * when the next chunk's P bit is clear. Chunks in the tcache (glibc 2.26+)
 * keep P set, so they are found through the tcache_perthread_struct, a
 * chunk near the start of the heap its thread first allocated from (the
 * first one up to 2.41; 2.42+ allocates it lazily, after e.g. the locale's):
 *   2.26-2.29: uint8_t counts[64];  tcache_entry *entries[64]  (chunk 0x250)
 *   2.30-2.41: uint16_t counts[64]; tcache_entry *entries[64]  (chunk 0x290)
 *   2.42+:     uint16_t num_slots[76]; tcache_entry *entries[76] (chunk 0x300)
 * entries[i] (i < 64) points to the user data of the first chunk of size
 * 32 + 16 i; 2.42's 12 large bins hold bigger chunks. num_slots counts the
 * room left, not the entries, so 2.42+ chains are followed to NULL. Each
 * entry's first word is the next one, since 2.32 stored as (address of that
 * word >> 12) ^ next ("safe-linking", PROTECT_PTR); its second the tcache
 * key, one random value per process (2.29+). Both forms are tried, and a bin
 * counts only if its whole chain checks out: every entry the user data of a
 * walked chunk of the bin's size, exactly counts[i] of them (2.42+: all with
 * the same key), then NULL. A candidate that is not the heap's first chunk is
 * taken only when every bin checks out and one holds a chunk.
 *
 * Thread arenas' heaps are 64 MiB-aligned mmaps that start with a heap_info
 * (ar_ptr, prev, size, ...); their chunks begin after it (and, in an arena's
 * first heap, after its malloc_state), at an offset found by trying each one
 * until a chain reaches heap_info.size exactly.
 *
 * Fastbin chunks also keep P set; they are not found (they need main_arena,
 * a libc-private symbol), so stale pointers in them still count. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "glibc_heap.h"
#include "pm.h"
#include "ranges.h"

enum {
    MINSIZE = 32,
    ALIGN = 16,
    TCACHE_BINS = 64,       /* up to 2.41; 2.42+: these small bins ... */
    TCACHE_BINS_242 = 76,   /* ... and 12 large ones */
    TCACHE_PROBE = 16,      /* chunks at a heap's start tried as the tcache */
    MAX_TCACHE_COUNT = 65535,
    MAX_TCACHES = 4096,
    MAX_HEAP_PROBE = 4096, /* bytes after heap_info to look for the first chunk */
};
#define HEAP_MAX_SIZE (64ull << 20)
#define MAX_CHUNKS (1ull << 28)

static bool add_free(pm_glibc_heap *h, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return true;
    if (!pm_ranges_push(&h->free, &h->nfree, &h->capfree, lo, hi)) {
        h->nomem = true;
        return false;
    }
    return true;
}

static bool rd64(pm_heap_read_fn rd, void *ctx, uint64_t addr, uint64_t *v)
{
    return rd(ctx, addr, v, 8);
}

/* The size of the chunk at p, or 0 if its header is not sane for [p, hi). */
static uint64_t chunk_size(pm_heap_read_fn rd, void *ctx, uint64_t p, uint64_t hi, uint64_t *raw)
{
    if (!rd64(rd, ctx, p + 8, raw) || (*raw & 2) /* mmapped: never inside a heap */)
        return 0;
    uint64_t size = *raw & ~(uint64_t)7;
    if (size < MINSIZE || size % ALIGN || size > hi - p)
        return 0;
    return size;
}

/* Does the chain from first reach hi (to within the page the top ends in)? */
static bool chain_ok(pm_heap_read_fn rd, void *ctx, uint64_t first, uint64_t hi, size_t *n)
{
    uint64_t p = first, raw;
    *n = 0;
    while (p < hi && *n < MAX_CHUNKS) {
        uint64_t size = chunk_size(rd, ctx, p, hi, &raw);
        if (!size)
            return false;
        ++*n;
        p += size;
        if (hi - p < ALIGN) /* the top chunk ends the heap; what follows is slack */
            return *n >= 2;
    }
    return false;
}

bool pm_glibc_heap_add(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx, uint64_t first,
                       uint64_t hi)
{
    size_t n;
    if ((first & (ALIGN - 1)) || first >= hi || !chain_ok(rd, ctx, first, hi, &n))
        return false;
    uint64_t p = first, raw, prev = 0, prev_size = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t size = chunk_size(rd, ctx, p, hi, &raw);
        if (!pm_ranges_push(&h->chunks, &h->nchunks, &h->capchunks, p, size)) {
            h->nomem = true;
            return false;
        }
        /* this chunk's P bit says whether the previous one is in use */
        if (prev_size && !(raw & 1)) {
            h->nfree_chunks++;
            if (!add_free(h, prev + 16, p))
                return false;
        }
        prev = p;
        prev_size = size;
        p += size;
    }
    /* the top chunk: never handed out since the heap last grew, or given back */
    h->nfree_chunks++;
    if (!add_free(h, prev + 16, hi))
        return false;
    h->nheaps++;
    /* a tcache_perthread_struct among the first chunks? (checked when resolved) */
    for (size_t i = 0; i < n && i < TCACHE_PROBE; i++) {
        uint64_t at = h->chunks[2 * (h->nchunks - n + i)];
        uint64_t size = h->chunks[2 * (h->nchunks - n + i) + 1];
        if ((size != 0x250 && size != 0x290 && size != 0x300) ||
            h->ntcache_structs >= MAX_TCACHES)
            continue;
        pm_tcache_ref *t = realloc(h->tcache_structs, (h->ntcache_structs + 1) * sizeof *t);
        if (!t) {
            h->nomem = true;
            return false;
        }
        h->tcache_structs = t;
        t[h->ntcache_structs].mem = at + 16;
        t[h->ntcache_structs].size = size;
        t[h->ntcache_structs].first = i == 0;
        h->ntcache_structs++;
    }
    return true;
}

/* The size of the walked chunk whose user data is at mem, or 0. */
static uint64_t walked_chunk(const pm_glibc_heap *h, uint64_t mem)
{
    if (mem < 16 || (mem & (ALIGN - 1)))
        return 0;
    uint64_t p = mem - 16;
    size_t n = h->chunks ? h->nchunks : 0, lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->chunks[2 * mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && h->chunks[2 * lo] == p ? h->chunks[2 * lo + 1] : 0;
}

/* One tcache bin's chain from head: count entries (or, with count
 * UINT64_MAX, up to NULL), each the user data of a walked chunk of the bin's
 * size (size 0: any chunk bigger than the small bins'), and with a key, each
 * holding *key (0: taken from the first) as its second word. Adds the chunks
 * as free with commit. Returns the entries found, or UINT64_MAX. */
static uint64_t tcache_bin(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx, uint64_t head,
                           uint64_t count, uint64_t size, bool protect, uint64_t *key,
                           bool commit)
{
    uint64_t e = head, k = 0;
    uint64_t bound = count == UINT64_MAX ? MAX_TCACHE_COUNT : count;
    for (; k < bound && e; k++) {
        uint64_t next, got = walked_chunk(h, e), word;
        if (!got || (size ? got != size : got <= MINSIZE + ALIGN * (TCACHE_BINS - 1)) ||
            !rd64(rd, ctx, e, &next))
            return UINT64_MAX;
        if (key) {
            if (!rd64(rd, ctx, e + 8, &word) || (*key && word != *key) || !word)
                return UINT64_MAX;
            *key = word;
        }
        if (commit && !add_free(h, e, e + got - 8))
            return UINT64_MAX;
        e = protect ? next ^ (e >> 12) : next;
    }
    if (e != 0 || (count != UINT64_MAX && k != count))
        return UINT64_MAX;
    return k;
}

/* The struct's bins: how many, the width of counts[] (0: 2.42's num_slots,
 * which do not count entries). */
static void tcache_shape(uint64_t size, unsigned *nbins, unsigned *cw)
{
    *nbins = size == 0x300 ? TCACHE_BINS_242 : TCACHE_BINS;
    *cw = size == 0x250 ? 1 : size == 0x290 ? 2 : 0;
}

/* Checks (commit false) or adds (commit true) the candidate's bins. A first
 * chunk of the old sizes keeps the bins that check out and marks the others
 * bad; any other candidate is all or nothing. Returns the chunks found, or
 * UINT64_MAX when the candidate is not a tcache. */
static uint64_t tcache_bins(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx,
                            const pm_tcache_ref *t, bool commit)
{
    unsigned nbins, cw;
    tcache_shape(t->size, &nbins, &cw);
    bool lenient = t->first && cw;
    unsigned char counts[TCACHE_BINS_242 * 2];
    uint64_t entries[TCACHE_BINS_242], key = 0, total = 0;
    unsigned cbytes = cw ? cw : 2;
    if (!rd(ctx, t->mem, counts, nbins * cbytes) ||
        !rd(ctx, t->mem + ((nbins * cbytes + 7) & ~7u), entries, nbins * sizeof entries[0])) {
        if (lenient)
            h->tcache_bad = true;
        return UINT64_MAX;
    }
    for (unsigned i = 0; i < nbins; i++) {
        uint64_t count = cw == 2   ? (uint64_t)counts[2 * i] | (uint64_t)counts[2 * i + 1] << 8
                         : cw == 1 ? counts[i]
                                   : UINT64_MAX;
        uint64_t size = i < TCACHE_BINS ? MINSIZE + (uint64_t)ALIGN * i : 0;
        if (!entries[i] && (!cw || !count))
            continue;
        uint64_t found = UINT64_MAX;
        bool protect = true;
        if (count == UINT64_MAX || count <= MAX_TCACHE_COUNT) {
            uint64_t *kp = cw ? NULL : &key;
            found = tcache_bin(h, rd, ctx, entries[i], count, size, true, kp, false);
            if (found == UINT64_MAX) {
                protect = false;
                found = tcache_bin(h, rd, ctx, entries[i], count, size, false, kp, false);
            }
        }
        if (found == UINT64_MAX) {
            if (!lenient)
                return UINT64_MAX;
            if (commit)
                h->tcache_bad = true;
            continue;
        }
        if (commit && tcache_bin(h, rd, ctx, entries[i], count, size, protect, NULL, true) ==
                          UINT64_MAX)
            return UINT64_MAX; /* out of memory */
        total += found;
    }
    return total;
}

static void tcache_resolve(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx, const pm_tcache_ref *t)
{
    bool lenient = t->first && t->size != 0x300;
    if (!lenient) {
        uint64_t n = tcache_bins(h, rd, ctx, t, false);
        if (n == UINT64_MAX || n == 0)
            return; /* not this process's tcache, or nothing in it */
    }
    uint64_t n = tcache_bins(h, rd, ctx, t, true);
    if (n != UINT64_MAX)
        h->ntcache += n;
}

void pm_glibc_heap_finish(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx)
{
    /* heaps may have been added out of address order */
    pm_ranges_sort(h->chunks, h->nchunks);
    for (size_t i = 0; i < h->ntcache_structs && !h->nomem; i++)
        tcache_resolve(h, rd, ctx, &h->tcache_structs[i]);
    h->nfree = pm_ranges_normalize(h->free, h->nfree);
}

bool pm_glibc_heap_is_free(const pm_glibc_heap *h, uint64_t addr)
{
    return pm_ranges_contains(h->free, h->nfree, addr);
}

uint64_t pm_glibc_heap_chunk(const pm_glibc_heap *h, uint64_t mem)
{
    return walked_chunk(h, mem);
}

void pm_glibc_heap_drop_chunks(pm_glibc_heap *h)
{
    free(h->chunks);
    h->chunks = NULL;
    h->capchunks = 0;
}

void pm_glibc_heap_release(pm_glibc_heap *h)
{
    free(h->free);
    free(h->chunks);
    free(h->tcache_structs);
    memset(h, 0, sizeof *h);
}

/* ---- the target's heaps ---- */

static bool session_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return pm_read(ctx, addr, buf, len);
}

void pm_glibc_heap_scan(pymac_session *s, pm_glibc_heap *h)
{
    size_t nsegs;
    const pm_segment *segs = pm_target_ranges(&s->target, &nsegs);
    for (size_t i = 0; i < nsegs && !h->nomem; i++) {
        const pm_segment *sg = &segs[i];
        uint64_t lo = sg->vaddr, hi = sg->vaddr + sg->memsz;
        if (!(sg->flags & PF_W) || sg->memsz < 4096)
            continue;
        /* the main heap: chunks from the start of the [heap] mapping */
        if (pm_glibc_heap_add(h, session_read, s, lo, hi))
            continue;
        /* a thread arena's heap: heap_info at a HEAP_MAX_SIZE boundary */
        uint64_t size;
        if (lo % HEAP_MAX_SIZE || !pm_read_u64(s, lo + 16, &size) || size < 4096 ||
            size > HEAP_MAX_SIZE || size > sg->memsz)
            continue;
        for (uint64_t off = 32; off < MAX_HEAP_PROBE; off += ALIGN)
            if (pm_glibc_heap_add(h, session_read, s, lo + off, lo + size))
                break;
    }
    pm_glibc_heap_finish(h, session_read, s);
}

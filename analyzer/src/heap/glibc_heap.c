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
 * keep P set, so they are found through the tcache_perthread_struct, which
 * is the first chunk of the heap its thread first allocated from:
 *   2.26-2.29: uint8_t counts[64];  tcache_entry *entries[64]  (chunk 0x250)
 *   2.30+:     uint16_t counts[64]; tcache_entry *entries[64]  (chunk 0x290)
 * entries[i] points to the user data of the first chunk of size 32 + 16 i;
 * each entry's first word is the next one, since 2.32 stored as
 * (address of that word >> 12) ^ next ("safe-linking", PROTECT_PTR). Both
 * forms are tried, and a bin counts only if its whole chain checks out: every
 * entry the user data of a walked chunk of the bin's size, exactly counts[i]
 * of them, then NULL.
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
    TCACHE_BINS = 64,
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
    /* a tcache_perthread_struct as the first chunk? (checked when resolved) */
    uint64_t first_size = h->chunks[2 * (h->nchunks - n) + 1];
    if ((first_size == 0x250 || first_size == 0x290) && h->ntcache_structs < MAX_TCACHES) {
        pm_tcache_ref *t = realloc(h->tcache_structs, (h->ntcache_structs + 1) * sizeof *t);
        if (!t) {
            h->nomem = true;
            return false;
        }
        h->tcache_structs = t;
        t[h->ntcache_structs].mem = first + 16;
        t[h->ntcache_structs].size = first_size;
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
    size_t lo = 0, hi = h->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->chunks[2 * mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->nchunks && h->chunks[2 * lo] == p ? h->chunks[2 * lo + 1] : 0;
}

/* Follows one tcache bin; on success adds its chunks and returns true. */
static bool tcache_bin(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx, uint64_t head,
                       uint64_t count, uint64_t size, bool protect, bool commit)
{
    uint64_t e = head;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t next;
        if (walked_chunk(h, e) != size || !rd64(rd, ctx, e, &next))
            return false;
        if (commit && !add_free(h, e, e + size - 8))
            return false;
        e = protect ? next ^ (e >> 12) : next;
    }
    return e == 0;
}

static void tcache_resolve(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx, const pm_tcache_ref *t)
{
    unsigned cw = t->size == 0x290 ? 2 : 1; /* width of counts[] */
    unsigned char counts[TCACHE_BINS * 2];
    uint64_t entries[TCACHE_BINS];
    if (!rd(ctx, t->mem, counts, TCACHE_BINS * cw) ||
        !rd(ctx, t->mem + TCACHE_BINS * cw, entries, sizeof entries)) {
        h->tcache_bad = true;
        return;
    }
    for (unsigned i = 0; i < TCACHE_BINS; i++) {
        uint64_t count = cw == 2 ? (uint64_t)counts[2 * i] | (uint64_t)counts[2 * i + 1] << 8
                                 : counts[i];
        uint64_t size = MINSIZE + (uint64_t)ALIGN * i;
        if (!count && !entries[i])
            continue;
        if (count > MAX_TCACHE_COUNT) {
            h->tcache_bad = true;
            continue;
        }
        bool protect = true;
        if (!tcache_bin(h, rd, ctx, entries[i], count, size, true, false)) {
            protect = false;
            if (!tcache_bin(h, rd, ctx, entries[i], count, size, false, false)) {
                h->tcache_bad = true;
                continue;
            }
        }
        if (!tcache_bin(h, rd, ctx, entries[i], count, size, protect, true))
            return; /* out of memory */
        h->ntcache += count;
    }
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

/* The mimalloc walk of a free-threaded CPython (see mimalloc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "mimalloc.h"

enum {
    MAX_WARNINGS = 8,        /* per walk, then a count */
    MAX_DELAYED = 1 << 22,   /* blocks on one heap's thread_delayed_free list */
};

/* Low bits of xthread_free: the mi_delayed_t state, not part of the pointer. */
#define PM_MI_DELAYED_MASK 3ull

typedef struct walker {
    pymac_session *s;
    const pm_mi_layout *L;
    pm_mi_walk *w;
    size_t cap_pages, cap_segs, cap_threads, cap_bits, cap_delayed;
    uint64_t *delayed; /* blocks on the heaps' thread_delayed_free lists */
    size_t ndelayed;
    unsigned warnings;
    size_t last_seg;   /* index of the last segment used: a lookup cache */
    bool nomem;
    unsigned char *pagebuf;
} walker;

static void warn(walker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(walker *k, const char *fmt, ...)
{
    k->w->partial = true;
    if (k->warnings++ >= MAX_WARNINGS)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pm_warn(k->s, "mimalloc: %s", msg);
}

static bool grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    while (c <= n)
        c *= 2;
    void *p = realloc(*v, c * elem);
    if (!p)
        return false;
    *v = p;
    *cap = c;
    return true;
}

static bool rd(walker *k, uint64_t addr, const pm_field *f, uint64_t *out)
{
    unsigned char b[8];
    unsigned n = f->bit_size ? (f->bit_off + f->bit_size + 7u) / 8 : f->size > 8 ? 8 : f->size;
    if (!f->ok || !n || n > 8 || !pm_read(k->s, addr + (uint64_t)f->off, b, n))
        return false;
    pm_field at0 = *f; /* the same field, in a buffer that starts where it does */
    at0.off = 0;
    if (!at0.bit_size)
        at0.size = n;
    *out = pm_field_get(b, &at0);
    return true;
}

/* A free-list link: a plain pointer, or (MI_ENCODE_FREELIST) mimalloc's
 * mi_ptr_decode of it with the owner's keys; null is what encodes NULL. */
static uint64_t decode(uint64_t x, const uint64_t *keys, uint64_t null)
{
    if (!keys)
        return x;
    uint64_t v = x - keys[0];
    unsigned sh = (unsigned)(keys[0] & 63);
    v = sh ? (v >> sh) | (v << (64 - sh)) : v;
    v ^= keys[1];
    return v == null ? 0 : v;
}

/* The segment geometry, from a segment whose header checks out at some
 * power-of-two alignment: slice size = segment_size / segment_slices, and
 * the alignment is MI_SLICES_PER_SEGMENT (slices[] has one more) slices. */
static bool find_align(walker *k, uint64_t addr)
{
    const pm_mi_layout *L = k->L;
    uint64_t per = L->max_slices - 1;
    for (unsigned shift = 16; shift <= 40; shift++) {
        uint64_t a = 1ull << shift;
        if (a % per)
            continue;
        uint64_t slice = a / per, seg = addr & ~(a - 1), size, nslices, entries;
        if (slice < 4096 || (slice & (slice - 1)))
            continue;
        if (!rd(k, seg, &L->sg_segment_size, &size) ||
            !rd(k, seg, &L->sg_segment_slices, &nslices) ||
            !rd(k, seg, &L->sg_slice_entries, &entries))
            continue;
        if (!nslices || size != nslices * slice || size / slice != nslices || !entries ||
            entries > L->max_slices || addr - seg >= size)
            continue;
        k->w->slice_size = slice;
        k->w->seg_align = a;
        return true;
    }
    return false;
}

static long thread_of(const pm_mi_walk *w, uint64_t mi_id)
{
    for (size_t i = 0; mi_id && i < w->nthreads; i++)
        if (w->threads[i].mi_thread_id == mi_id)
            return (long)i;
    return -1;
}

/* The segment at seg (read and checked once), or -1. */
static long segment_at(walker *k, uint64_t seg, bool abandoned)
{
    pm_mi_walk *w = k->w;
    if (k->last_seg < w->nsegs && w->segs[k->last_seg].addr == seg)
        return (long)k->last_seg;
    for (size_t i = 0; i < w->nsegs; i++)
        if (w->segs[i].addr == seg)
            return (long)(k->last_seg = i);
    const pm_mi_layout *L = k->L;
    uint64_t size, nslices, entries, tid = 0, used = 0;
    if (!rd(k, seg, &L->sg_segment_size, &size) || !rd(k, seg, &L->sg_segment_slices, &nslices) ||
        !rd(k, seg, &L->sg_slice_entries, &entries)) {
        warn(k, "segment 0x%llx unreadable", (unsigned long long)seg);
        return -1;
    }
    if (!nslices || size != nslices * w->slice_size || size / w->slice_size != nslices ||
        !entries || entries > L->max_slices) {
        warn(k, "segment 0x%llx: impossible header (size %llu, %llu slices, %llu entries)",
             (unsigned long long)seg, (unsigned long long)size, (unsigned long long)nslices,
             (unsigned long long)entries);
        return -1;
    }
    rd(k, seg, &L->sg_thread_id, &tid);
    rd(k, seg, &L->sg_used, &used);
    if (!grow((void **)&w->segs, &k->cap_segs, w->nsegs, sizeof *w->segs)) {
        k->nomem = true;
        return -1;
    }
    long th = thread_of(w, tid);
    w->segs[w->nsegs] = (pm_mi_segment){.addr = seg, .size = size, .thread_id = tid,
                                        .thread = th < 0 ? PM_MI_NO_THREAD : (uint32_t)th,
                                        .used = used, .abandoned = abandoned};
    if (abandoned)
        w->abandoned_segments++;
    return (long)(k->last_seg = w->nsegs++);
}

/* Follows one free list of page p, marking its blocks in map; the count of
 * blocks, or -1 when the list leaves the page, is misaligned or loops. */
static long walk_free_list(walker *k, const pm_mi_page *p, uint64_t head, uint8_t *map,
                           const uint64_t *keys, const char *name)
{
    long n = 0;
    for (uint64_t b = head; b;) {
        uint64_t off = b - p->start, idx = off / p->block_size;
        if (b < p->start || idx >= p->capacity || off % p->block_size) {
            warn(k, "page 0x%llx: %s list leads to 0x%llx, not a block of the page",
                 (unsigned long long)p->addr, name, (unsigned long long)b);
            return -1;
        }
        if (map[idx / 8] >> (idx % 8) & 1) {
            warn(k, "page 0x%llx: %s list meets block 0x%llx twice (a loop)",
                 (unsigned long long)p->addr, name, (unsigned long long)b);
            return -1;
        }
        map[idx / 8] |= (uint8_t)(1u << (idx % 8));
        n++;
        uint64_t next;
        if (!pm_read_u64(k->s, b, &next)) {
            warn(k, "page 0x%llx: %s block 0x%llx unreadable", (unsigned long long)p->addr,
                 name, (unsigned long long)b);
            return -1;
        }
        b = decode(next, keys, p->addr);
    }
    return n;
}

/* Start of a page's blocks: mimalloc offsets small-block pages by a few
 * blocks (_mi_segment_page_start_from_slice) to spread cache lines. */
static uint64_t start_offset(uint64_t xblock_size)
{
    if (xblock_size >= 8 && xblock_size <= 64)
        return 3 * xblock_size;
    if (xblock_size > 64 && xblock_size <= 512)
        return xblock_size;
    return 0;
}

/* Adds the page at addr (a slice entry of its segment), of heap kind `kind`. */
static void add_page(walker *k, uint64_t addr, int kind, long thread, bool abandoned)
{
    const pm_mi_layout *L = k->L;
    pm_mi_walk *w = k->w;
    if (!w->seg_align && !find_align(k, addr)) {
        warn(k, "page 0x%llx: no mimalloc segment holds it", (unsigned long long)addr);
        return;
    }
    uint64_t seg = addr & ~(w->seg_align - 1);
    long si = segment_at(k, seg, abandoned);
    if (si < 0)
        return;
    uint64_t entries;
    rd(k, seg, &L->sg_slice_entries, &entries);
    uint64_t first = seg + (uint64_t)L->sg_slices.off, idx = (addr - first) / L->page_size;
    if (addr < first || (addr - first) % L->page_size || idx >= entries) {
        warn(k, "page 0x%llx is not a slice of segment 0x%llx", (unsigned long long)addr,
             (unsigned long long)seg);
        return;
    }
    const unsigned char *pg = pm_view(k->s, addr, L->page_size, k->pagebuf);
    if (!pg) {
        warn(k, "page 0x%llx unreadable", (unsigned long long)addr);
        return;
    }
    pm_mi_page p = {.addr = addr, .segment = seg, .abandoned = abandoned,
                    .thread = thread < 0 ? PM_MI_NO_THREAD : (uint32_t)thread};
    uint64_t slices = pm_field_get(pg, &L->pg_slice_count);
    uint64_t soff = pm_field_get(pg, &L->pg_slice_offset);
    uint64_t xbs = pm_field_get(pg, &L->pg_xblock_size);
    p.capacity = (uint32_t)pm_field_get(pg, &L->pg_capacity);
    p.reserved = (uint32_t)pm_field_get(pg, &L->pg_reserved);
    p.used = (uint32_t)pm_field_get(pg, &L->pg_used);
    p.kind = (uint8_t)(kind >= 0 ? (unsigned)kind : pm_field_get(pg, &L->pg_tag));
    uint64_t xtf = pm_field_get(pg, &L->pg_xthread_free);
    p.delayed_flag = (uint8_t)(xtf & PM_MI_DELAYED_MASK);
    if (!slices || soff || idx + slices > entries || !xbs) {
        warn(k, "page 0x%llx: not a page in use (%llu slices at offset %llu, block size %llu)",
             (unsigned long long)addr, (unsigned long long)slices, (unsigned long long)soff,
             (unsigned long long)xbs);
        return;
    }
    uint64_t psize = slices * w->slice_size, so = start_offset(xbs);
    if (so >= psize)
        so = 0;
    p.start = seg + idx * w->slice_size + so;
    p.area = psize - so;
    p.block_size = xbs;
    /* a huge page's block is the whole page (xblock_size saturates) */
    if (xbs > p.area && p.capacity == 1 && p.reserved == 1)
        p.block_size = p.area;
    if (p.block_size > p.area || !p.capacity || p.capacity > p.reserved ||
        (uint64_t)p.reserved * p.block_size > p.area) {
        warn(k, "page 0x%llx: impossible block size %llu for %u of %u blocks in %llu bytes",
             (unsigned long long)addr, (unsigned long long)xbs, p.capacity, p.reserved,
             (unsigned long long)p.area);
        p.bad = true;
        p.capacity = 0;
    }
    if (!grow((void **)&w->pages, &k->cap_pages, w->npages, sizeof *w->pages)) {
        k->nomem = true;
        return;
    }
    size_t nb = ((size_t)p.capacity + 7) / 8;
    if (!grow((void **)&w->bits, &k->cap_bits, w->nbits_bytes + nb, 1)) {
        k->nomem = true;
        return;
    }
    p.free_bits = w->nbits_bytes;
    uint8_t *map = w->bits + p.free_bits;
    memset(map, 0, nb);
    w->nbits_bytes += nb;
    uint64_t keys[2], *kp = NULL;
    if (L->pg_keys.ok && L->pg_keys.size >= 16) {
        keys[0] = pm_get_uint(pg, (uint32_t)L->pg_keys.off, 8);
        keys[1] = pm_get_uint(pg, (uint32_t)L->pg_keys.off + 8, 8);
        kp = keys;
    }
    if (!p.bad) {
        long f = walk_free_list(k, &p, pm_field_get(pg, &L->pg_free), map, kp, "free");
        long l = f < 0 ? -1 : walk_free_list(k, &p, pm_field_get(pg, &L->pg_local_free), map, kp,
                                             "local free");
        long t = l < 0 ? -1 : walk_free_list(k, &p, xtf & ~PM_MI_DELAYED_MASK, map, kp,
                                             "thread free");
        if (t < 0) {
            p.bad = true; /* which blocks are free is unknown: list none */
            memset(map, 0xff, nb);
        } else {
            p.nfree = (uint32_t)f;
            p.nlocal = (uint32_t)l;
            p.nthread = (uint32_t)t;
            p.live = p.capacity - p.nfree - p.nlocal - p.nthread;
        }
    }
    w->segs[si].pages++;
    if (thread >= 0)
        w->threads[thread].pages++;
    w->pages[w->npages++] = p;
}

/* Collects a heap's thread_delayed_free list (blocks other threads freed
 * into full pages, still counted as used by their pages). */
static void collect_delayed(walker *k, uint64_t heap, const unsigned char *hb)
{
    const pm_mi_layout *L = k->L;
    uint64_t keys[2], *kp = NULL;
    if (L->pg_keys.ok && L->heap_keys.ok && L->heap_keys.size >= 16) {
        keys[0] = pm_get_uint(hb, (uint32_t)L->heap_keys.off, 8);
        keys[1] = pm_get_uint(hb, (uint32_t)L->heap_keys.off + 8, 8);
        kp = keys;
    }
    uint64_t b = pm_field_get(hb, &L->heap_delayed_free);
    for (size_t n = 0; b; n++) {
        if (n >= MAX_DELAYED || (b & 7)) {
            warn(k, "heap 0x%llx: delayed free list does not end", (unsigned long long)heap);
            return;
        }
        if (!grow((void **)&k->delayed, &k->cap_delayed, k->ndelayed, sizeof *k->delayed)) {
            k->nomem = true;
            return;
        }
        k->delayed[k->ndelayed++] = b;
        uint64_t next;
        if (!pm_read_u64(k->s, b, &next)) {
            warn(k, "heap 0x%llx: delayed free block 0x%llx unreadable",
                 (unsigned long long)heap, (unsigned long long)b);
            return;
        }
        b = decode(next, kp, heap);
    }
}

static void walk_heap(walker *k, uint64_t heap, int kind, long thread)
{
    const pm_mi_layout *L = k->L;
    unsigned char *hb = malloc(L->heap_size);
    if (!hb) {
        k->nomem = true;
        return;
    }
    if (!pm_read(k->s, heap, hb, L->heap_size)) {
        warn(k, "heap 0x%llx unreadable", (unsigned long long)heap);
        free(hb);
        return;
    }
    uint64_t tid = pm_field_get(hb, &L->heap_thread_id);
    if (thread >= 0 && !k->w->threads[thread].mi_thread_id)
        k->w->threads[thread].mi_thread_id = tid;
    /* one queue per size bin, then the full pages' queue */
    uint64_t bound = k->s->target.space_bytes / 4096 + 1;
    for (uint64_t q = 0; q < L->nqueues && !k->nomem; q++) {
        uint64_t page = pm_get_uint(hb, (uint32_t)L->heap_pages.off + (uint32_t)(q * L->queue_size) +
                                            (uint32_t)L->pq_first.off,
                                    L->pq_first.size);
        for (uint64_t n = 0; page && !k->nomem; n++) {
            if (n > bound) {
                warn(k, "heap 0x%llx: page queue %llu does not end (a loop)",
                     (unsigned long long)heap, (unsigned long long)q);
                break;
            }
            add_page(k, page, kind, thread, false);
            if (!rd(k, page, &L->pg_next, &page)) {
                warn(k, "heap 0x%llx: page 0x%llx unreadable", (unsigned long long)heap,
                     (unsigned long long)page);
                break;
            }
        }
    }
    collect_delayed(k, heap, hb);
    free(hb);
}

/* The pages of an abandoned segment, found by its slices (as
 * mi_segment_visit_pages does): each page's tag says its heap kind. */
static void walk_segment_slices(walker *k, uint64_t seg)
{
    const pm_mi_layout *L = k->L;
    long si = segment_at(k, seg, true);
    if (si < 0)
        return;
    k->w->segs[si].abandoned = true;
    uint64_t entries;
    rd(k, seg, &L->sg_slice_entries, &entries);
    uint64_t first = seg + (uint64_t)L->sg_slices.off, i, count;
    /* the first slice span holds the segment's own header */
    if (!rd(k, first, &L->pg_slice_count, &i) || !i) {
        warn(k, "segment 0x%llx: unreadable first slice", (unsigned long long)seg);
        return;
    }
    while (i < entries && !k->nomem) {
        uint64_t slice = first + i * L->page_size, xbs;
        if (!rd(k, slice, &L->pg_slice_count, &count) || !count ||
            !rd(k, slice, &L->pg_xblock_size, &xbs)) {
            warn(k, "segment 0x%llx: slice %llu unreadable or empty", (unsigned long long)seg,
                 (unsigned long long)i);
            return;
        }
        if (xbs)
            add_page(k, slice, -1, -1, true);
        i += count;
    }
}

static void walk_abandoned(walker *k, uint64_t interp)
{
    const pm_mi_layout *L = k->L;
    pm_mi_walk *w = k->w;
    uint64_t heads[2];
    if (!rd(k, interp, &L->interp_abandoned, &heads[0]) ||
        !rd(k, interp, &L->interp_abandoned_visited, &heads[1])) {
        warn(k, "the abandoned segment pool of interpreter 0x%llx is unreadable",
             (unsigned long long)interp);
        return;
    }
    for (int h = 0; h < 2 && !k->nomem; h++) {
        uint64_t seg = heads[h];
        if (seg && !w->seg_align && !find_align(k, seg)) {
            warn(k, "abandoned segment 0x%llx: not a mimalloc segment", (unsigned long long)seg);
            continue;
        }
        /* `abandoned` carries an ABA tag in the bits below the alignment */
        if (seg)
            seg &= ~(w->seg_align - 1);
        uint64_t bound = k->s->target.space_bytes / (w->seg_align ? w->seg_align : 1) + 1;
        for (uint64_t n = 0; seg && !k->nomem; n++) {
            bool again = false;
            for (size_t i = 0; i < w->nsegs && !again; i++)
                again = w->segs[i].addr == seg && w->segs[i].abandoned;
            if (again || n > bound || (seg & (w->seg_align - 1))) {
                warn(k, "abandoned segment list loops or is misaligned at 0x%llx",
                     (unsigned long long)seg);
                break;
            }
            walk_segment_slices(k, seg);
            if (!rd(k, seg, &L->sg_abandoned_next, &seg)) {
                warn(k, "abandoned segment 0x%llx unreadable", (unsigned long long)seg);
                break;
            }
        }
    }
}

static int cmp_page(const void *a, const void *b)
{
    const pm_mi_page *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_seg(const void *a, const void *b)
{
    const pm_mi_segment *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

const pm_mi_page *pm_mi_page_of(const pm_mi_walk *w, uint64_t addr)
{
    /* the last page starting at or below addr */
    size_t lo = pm_upper_bound_at(w->pages, w->npages, sizeof *w->pages,
                                  offsetof(pm_mi_page, start), addr);
    if (!lo)
        return NULL;
    const pm_mi_page *p = &w->pages[lo - 1];
    return addr - p->start < p->area ? p : NULL;
}

const pm_mi_segment *pm_mi_segment_of(const pm_mi_walk *w, uint64_t addr)
{
    /* the last segment starting at or below addr */
    size_t lo = pm_upper_bound_at(w->segs, w->nsegs, sizeof *w->segs,
                                  offsetof(pm_mi_segment, addr), addr);
    if (!lo)
        return NULL;
    const pm_mi_segment *g = &w->segs[lo - 1];
    return addr - g->addr < g->size ? g : NULL;
}

bool pm_mi_block_free(const pm_mi_walk *w, const pm_mi_page *p, uint32_t b)
{
    return b >= p->capacity || (w->bits[p->free_bits + b / 8] >> (b % 8) & 1);
}

static int cmp_page_start(const void *a, const void *b)
{
    const pm_mi_page *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* One page less in the counts of the segment and thread that held it. */
static void uncount_page(pm_mi_walk *w, const pm_mi_page *p)
{
    pm_mi_segment *g = (pm_mi_segment *)pm_mi_segment_of(w, p->segment);
    if (g && g->addr == p->segment && g->pages)
        g->pages--;
    if (p->thread < w->nthreads && w->threads[p->thread].pages)
        w->threads[p->thread].pages--;
}

/* mimalloc's segments are disjoint, and so are the pages' block areas, each
 * inside its segment: of a damaged header's overlapping claims only the
 * lowest is kept, each other dropped with a warning (lookups by address
 * need one answer). Segments and pages come sorted by address. */
static void drop_overlaps(walker *k)
{
    pm_mi_walk *w = k->w;
    size_t n = 0;
    for (size_t i = 0; i < w->nsegs; i++) {
        const pm_mi_segment *g = &w->segs[i], *kept = n ? &w->segs[n - 1] : NULL;
        if (kept && g->addr - kept->addr < kept->size) {
            warn(k, "segment 0x%llx overlaps segment 0x%llx; its pages are skipped",
                 (unsigned long long)g->addr, (unsigned long long)kept->addr);
            if (g->abandoned && w->abandoned_segments)
                w->abandoned_segments--;
            continue;
        }
        w->segs[n++] = *g;
    }
    w->nsegs = n;
    pm_sort(w->pages, w->npages, sizeof *w->pages, cmp_page_start);
    n = 0;
    for (size_t i = 0; i < w->npages; i++) {
        const pm_mi_page *p = &w->pages[i], *kept = n ? &w->pages[n - 1] : NULL;
        const pm_mi_segment *g = pm_mi_segment_of(w, p->segment);
        if (!g || g->addr != p->segment) { /* its segment was dropped, with a warning */
            uncount_page(w, p);
            continue;
        }
        if (p->start - g->addr > g->size || p->area > g->size - (p->start - g->addr)) {
            warn(k, "page 0x%llx: its blocks (0x%llx, %llu bytes) leave segment 0x%llx; it is "
                 "skipped", (unsigned long long)p->addr, (unsigned long long)p->start,
                 (unsigned long long)p->area, (unsigned long long)g->addr);
            uncount_page(w, p);
            continue;
        }
        if (kept && p->start - kept->start < kept->area) {
            warn(k, "page 0x%llx overlaps page 0x%llx; it is skipped", (unsigned long long)p->addr,
                 (unsigned long long)kept->addr);
            uncount_page(w, p);
            continue;
        }
        w->pages[n++] = *p;
    }
    w->npages = n;
}

/* Sorts, drops pages met twice (queues that loop into each other) and
 * overlapping claims, and marks the blocks of the heaps' delayed free lists
 * free in their pages. */
static void finish(walker *k)
{
    pm_mi_walk *w = k->w;
    pm_sort(w->pages, w->npages, sizeof *w->pages, cmp_page);
    size_t n = 0;
    for (size_t i = 0; i < w->npages; i++) {
        if (n && w->pages[n - 1].addr == w->pages[i].addr) {
            warn(k, "page 0x%llx is in more than one queue", (unsigned long long)w->pages[i].addr);
            continue;
        }
        w->pages[n++] = w->pages[i];
    }
    w->npages = n;
    pm_sort(w->segs, w->nsegs, sizeof *w->segs, cmp_seg);
    drop_overlaps(k);
    for (size_t i = 0; i < k->ndelayed; i++) {
        pm_mi_page *p = (pm_mi_page *)pm_mi_page_of(w, k->delayed[i]);
        uint64_t off = p ? k->delayed[i] - p->start : 0;
        if (!p || p->bad || off % p->block_size || off / p->block_size >= p->capacity) {
            warn(k, "delayed free block 0x%llx is no block of a page",
                 (unsigned long long)k->delayed[i]);
            continue;
        }
        uint32_t b = (uint32_t)(off / p->block_size);
        if (pm_mi_block_free(w, p, b))
            continue;
        w->bits[p->free_bits + b / 8] |= (uint8_t)(1u << (b % 8));
        p->ndelayed++;
        p->live--;
    }
}

pymac_status pm_mi_walk_heaps(pymac_session *s, const pm_mi_layout *L, pm_mi_walk *out,
                              pymac_error *err)
{
    memset(out, 0, sizeof *out);
    walker k = {.s = s, .L = L, .w = out, .last_seg = SIZE_MAX};
    k.pagebuf = malloc(L->page_size);
    if (!k.pagebuf)
        return pm_nomem(err);
    uint64_t interp = s->rt->main_interp, ts;
    if (!rd(&k, interp, &L->interp_threads_head, &ts)) {
        free(k.pagebuf);
        return pm_fail(err, PYMAC_E_CORRUPT, "the core lacks the interpreter's data pages",
                       "cannot read the thread list of interpreter 0x%llx",
                       (unsigned long long)interp);
    }
    /* the threads first: their heaps' thread ids name the segments' owners */
    while (ts && !k.nomem) {
        bool again = false;
        for (size_t i = 0; i < out->nthreads && !again; i++)
            again = out->threads[i].tstate == ts;
        if (again || out->nthreads >= PM_MI_MAX_THREADS) {
            warn(&k, "the thread list loops at 0x%llx", (unsigned long long)ts);
            break;
        }
        if (!grow((void **)&out->threads, &k.cap_threads, out->nthreads, sizeof *out->threads)) {
            k.nomem = true;
            break;
        }
        pm_mi_thread *t = &out->threads[out->nthreads++];
        *t = (pm_mi_thread){.tstate = ts};
        rd(&k, ts, &L->ts_native_thread_id, &t->native_id);
        if (!rd(&k, ts, &L->ts_next, &ts)) {
            warn(&k, "thread state 0x%llx unreadable", (unsigned long long)t->tstate);
            break;
        }
    }
    for (size_t i = 0; i < out->nthreads && !k.nomem; i++) {
        uint64_t init = 0, ts_addr = out->threads[i].tstate;
        if (!rd(&k, ts_addr, &L->tsi_initialized, &init) || !init)
            continue; /* mimalloc not bound to this thread yet */
        uint64_t nheaps = L->nheaps < PM_MI_HEAP_KINDS ? L->nheaps : PM_MI_HEAP_KINDS;
        for (uint64_t h = 0; h < nheaps && !k.nomem; h++)
            walk_heap(&k, ts_addr + (uint64_t)L->tsi_heaps.off + h * L->heap_size, (int)h,
                      (long)i);
    }
    if (!k.nomem)
        walk_abandoned(&k, interp);
    if (!k.nomem)
        finish(&k);
    if (k.warnings > MAX_WARNINGS)
        pm_warn(s, "mimalloc: %u problems in all", k.warnings);
    free(k.delayed);
    free(k.pagebuf);
    if (k.nomem) {
        pm_mi_walk_free(out);
        return pm_nomem(err);
    }
    return out->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

void pm_mi_walk_free(pm_mi_walk *w)
{
    free(w->threads);
    free(w->pages);
    free(w->segs);
    free(w->bits);
    memset(w, 0, sizeof *w);
}

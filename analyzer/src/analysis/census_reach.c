/* The last step of the full census: objects that live outside pymalloc
 * (larger than 512 bytes, or static) are found through the pointers of the
 * objects already found.
 *
 * The scan is conservative: every aligned word of a found object (its whole
 * pymalloc block, so pre-headers and 3.13 inline values count) is a
 * candidate pointer. A candidate outside pymalloc is taken only if it holds
 * a valid object (a type whose type chain ends at `type`, a live reference
 * count no larger than the number of words the process had mapped). A
 * candidate that is a non-object allocation (a list's item array, a dict's
 * keys) is scanned one level deeper for object pointers. */
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "graph.h"
#include "layout.h"
#include "heap.h"
#include "roots.h"

enum {
    MAX_SCAN_BYTES = 1 << 24,    /* per object or array */
    GLIBC_MIN_CHUNK = 32,
};

typedef struct reach {
    pymac_session *s;
    pm_walk *w;
    pm_objmap *m;
    const pm_heap *h;
    uint64_t *work; /* found objects outside pymalloc, still to scan */
    size_t nwork, capwork;
    uint64_t float_type;
    uint64_t max_refcnt; /* words the process had mapped; 0: unknown */
    bool nomem;
    unsigned char *buf; /* scratch for reads the core cannot serve in place */
    size_t bufcap;
} reach;

static const unsigned char *view(reach *r, uint64_t addr, size_t len)
{
    if (len > r->bufcap) {
        unsigned char *p = realloc(r->buf, len);
        if (!p)
            return NULL;
        r->buf = p;
        r->bufcap = len;
    }
    return pm_view(r->s, addr, len, r->buf);
}

/* Types whose instances hold no object pointers beyond ob_type. */
static bool pointer_free(const reach *r, const pm_type *t)
{
    if (t->flags & PM_TPFLAGS_HEAPTYPE)
        return false;
    return t->addr == r->float_type ||
           (t->flags & (PM_TPFLAGS_LONG_SUBCLASS | (1ul << 27) /* bytes */ |
                        (1ul << 28) /* str */));
}

static void push(reach *r, uint64_t addr)
{
    if (r->nwork == r->capwork) {
        size_t cap = r->capwork ? r->capwork * 2 : 1024;
        uint64_t *p = realloc(r->work, cap * sizeof *p);
        if (!p) {
            r->nomem = true;
            return;
        }
        r->work = p;
        r->capwork = cap;
    }
    r->work[r->nwork++] = addr;
}

static void scan_words(reach *r, uint64_t addr, uint64_t len, int depth);

/* The usable size of a glibc malloc chunk at p, or 0 if it does not look like one. */
static uint64_t malloc_usable(reach *r, uint64_t p)
{
    uint64_t hdr;
    if ((p & 15) || !pm_read_u64(r->s, p - 8, &hdr))
        return 0;
    uint64_t size = hdr & ~(uint64_t)7;
    if (size < GLIBC_MIN_CHUNK || size > MAX_SCAN_BYTES || (hdr & 2) /* mmapped */)
        return 0;
    return size - 8;
}

/* A heap object's count cannot exceed the references memory can hold: one
 * per mapped word. Stale memory fails this where it only looks like an
 * object: an array of pointers to a type reads as objects of that type whose
 * count is the type's address (Debian 3.11's growth core had one). Static
 * objects are exempt: leaked counts of None and the like only ever grow. */
static bool count_possible(const reach *r, const pm_object *o, uint64_t addr)
{
    return o->immortal || !r->max_refcnt || o->refcnt <= r->max_refcnt ||
           pm_target_in_file(&r->s->target, addr);
}

static uint64_t mapped_words(const pm_target *t)
{
    size_t n;
    const pm_segment *segs = pm_target_ranges(t, &n);
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += segs[i].memsz;
    return bytes / 8;
}

static void candidate(reach *r, uint64_t w, int depth)
{
    if (w < 4096 || pm_objmap_has(r->m, w))
        return;
    long arena = r->h->regions_walked ? pm_objmap_arena(r->m, w) : -1;
    if (arena >= 0) {
        /* inside pymalloc every object is known already; a pointer into an
         * unknown block is a raw allocation (an item array, dict keys, 3.11
         * dict values behind their prefix, 3.12's odd-tagged values
         * pointer): scan the whole block, one level deep */
        pm_heap_block b;
        if (depth == 0 && pm_heap_block_in(r->h, arena, w, &b) &&
            !pm_block_known(r->m, r->s->layout, r->s->rt->debug_front, b.addr, (uint32_t)b.size))
            scan_words(r, b.addr, b.size, depth + 1);
        return;
    }
    /* a free block, or room of a segment no used block covers, holds what
     * was there (the walk found every live object in the used ones) */
    if (pm_objmap_in_region(r->m, w) && pm_heap_addr_state(r->h, w) == 0)
        return;
    if ((w & 7) || !pm_mapped(r->s, w))
        return;
    pm_object o;
    /* a word that only looks like a pointer to an object: one whose length
     * cannot be is no live object (stale memory), not damage to report */
    if (pm_object_read(r->s, w, &o) && (o.refcnt || o.immortal) && !o.bad_size &&
        count_possible(r, &o, w)) {
        if (!pm_walk_found(r->w, &o, -1))
            r->nomem = true;
        else
            push(r, w);
        return;
    }
    /* a malloc chunk, if it is not in a mapped file's data (static memory
     * would pass the chunk-header test by chance) */
    if (depth == 0 && !pm_target_in_file(&r->s->target, w)) {
        uint64_t n = malloc_usable(r, w), front = r->s->rt->debug_front;
        /* with debug hooks, the chunk starts at their header; twice over when
         * pymalloc passed a large request on to the raw domain, hooked too */
        for (uint64_t k = 1; !n && front && k <= 2; k++) {
            n = malloc_usable(r, w - k * front);
            n = n > k * front ? n - k * front : 0;
        }
        pm_heap_block b;
        if (!n && pm_heap_block_of(r->h, w, &b) && b.used == 1) /* or a used block */
            n = b.addr + b.size - w;
        if (n)
            scan_words(r, w, n, depth + 1);
    }
}

static void scan_words(reach *r, uint64_t addr, uint64_t len, int depth)
{
    len &= ~(uint64_t)7;
    if (len > MAX_SCAN_BYTES)
        len = MAX_SCAN_BYTES;
    const unsigned char *p = view(r, addr, len);
    if (!p)
        return;
    /* copy out: candidate() may reuse r->buf */
    uint64_t stack[64], *words = len <= sizeof stack ? stack : malloc(len);
    if (!words) {
        r->nomem = true;
        return;
    }
    memcpy(words, p, len);
    for (uint64_t i = 0; i < len / 8 && !r->nomem; i++)
        candidate(r, words[i], depth);
    if (words != stack)
        free(words);
}

/* Scans one found object: its whole pymalloc block, or its body outside. */
static void scan_object(reach *r, uint64_t addr)
{
    const pm_layout *L = r->s->layout;
    uint64_t tp;
    /* the type alone decides whether to scan; the object was validated when found */
    if (!pm_read_field(r->s, addr, &L->ob_type, &tp))
        return;
    const pm_type *type = pm_type_get(r->s, tp);
    if (!type || pointer_free(r, type))
        return;
    pm_heap_block b;
    long arena = r->h->regions_walked ? pm_objmap_arena(r->m, addr) : -1;
    if (arena >= 0) {
        if (!pm_heap_block_in(r->h, arena, addr, &b))
            return;
        uint64_t block = b.addr, size = b.size;
        /* the whole block but the GC head, which sits just before the object
         * (3.11+ pre-header words come before it and hold dict/values) */
        if (type->flags & PM_TPFLAGS_HAVE_GC && addr >= block + L->gc_head_size) {
            uint64_t gc = addr - L->gc_head_size;
            scan_words(r, block, gc - block, 0);
            scan_words(r, addr, block + size - addr, 0);
        } else {
            scan_words(r, block, size, 0);
        }
    } else {
        /* and its pre-header words (3.11+: the managed dict or values); the
         * GC head's links lead to objects found already */
        pm_object o;
        if (pm_object_read(r->s, addr, &o)) {
            uint64_t pre = o.type->presize > L->gc_head_size ? o.type->presize - L->gc_head_size : 0;
            scan_words(r, addr - o.type->presize, pre, 0);
            scan_words(r, addr, o.footprint, 0);
        }
    }
}

/* Scans the object at base + i * unit for each bit i set in bits[nbytes]. */
static void scan_set(reach *r, uint64_t base, const uint8_t *bits, uint64_t nbytes, unsigned unit)
{
    for (uint64_t byte = 0; byte < nbytes && !r->nomem; byte++) {
        if (!bits[byte])
            continue;
        for (unsigned b = 0; b < 8; b++)
            if (bits[byte] >> b & 1)
                scan_object(r, base + (byte * 8 + b) * unit);
    }
}

static void frame_candidate(void *ctx, uint64_t target, const char *label)
{
    (void)label;
    candidate(ctx, target, 0);
}

pymac_status pm_census_reach(pm_walk *w, pymac_error *err)
{
    pymac_session *s = w->s;
    pm_objmap *m = &w->map;
    reach r = {.s = s, .w = w, .m = m, .max_refcnt = mapped_words(&s->target)};
    pymac_status st = pm_heap_get(s, &r.h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    r.float_type = pm_symbol_lookup(s, "PyFloat_Type", NULL).addr;
    /* objects found outside pymalloc so far (big GC objects) */
    for (size_t i = 0; i < m->outside_cap; i++)
        if (m->outside[i])
            push(&r, m->outside[i]);
    /* every object in pymalloc (a bit per 16 bytes), and in a dense region
     * (a free-threaded build's segments, a bit per 8 bytes) */
    for (size_t a = 0; a < m->narenas && !r.nomem; a++)
        scan_set(&r, m->arena_base[a], m->bits[a], m->arena_size / 16 / 8, 16);
    for (size_t g = 0; g < m->nregions && !r.nomem; g++)
        scan_set(&r, m->region_base[g], m->region_bits[g], m->region_size[g] / 64, 8);
    /* the threads' frames hold objects nothing else points to (3.9's module
     * frame, 520 bytes, lives in malloc) */
    pm_roots_walk(s, PM_ROOTS_FRAMES, frame_candidate, &r);
    while (r.nwork && !r.nomem)
        scan_object(&r, r.work[--r.nwork]);
    free(r.work);
    free(r.buf);
    if (r.nomem)
        return pm_nomem(err);
    return PYMAC_OK;
}

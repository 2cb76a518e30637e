/* Objects and the GC of a free-threaded CPython: the used blocks of the
 * mimalloc object heaps (mimalloc.c), not pymalloc and GC lists.
 *
 * As gc_visit_heaps (Python/gc_free_threading.c): a GC heap's object starts
 * at its block, a GC_PRE heap's after the two pre-header words; the object
 * heap holds non-GC objects at the block start and raw PyObject_Malloc
 * memory. gc.get_objects() is every GC heap object whose ob_gc_bits say
 * tracked and neither unreachable (mid-collection) nor frozen. */
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "census_ft.h"
#include "gc.h"
#include "layout.h"
#include "mimalloc.h"

/* _PyGC_BITS_* of Include/internal/pycore_gc.h (3.13t-3.15t) */
enum { GC_BITS_TRACKED = 1, GC_BITS_UNREACHABLE = 4, GC_BITS_FROZEN = 8 };

static bool is_object_heap(unsigned kind)
{
    return kind == PM_MI_HEAP_OBJECT || kind == PM_MI_HEAP_GC || kind == PM_MI_HEAP_GC_PRE;
}

uint32_t pm_ft_object_offset(unsigned kind)
{
    return kind == PM_MI_HEAP_GC_PRE ? PM_MI_PREHEADER : 0;
}

/* The object in a used block, if its header validates for the heap it is in:
 * GC types in the GC heaps (with the pre-header exactly in GC_PRE), others
 * in the object heap, and (unless the GC lists it) inline items that fit the
 * block. Not the whole tp_basicsize: compact strs and naive datetime.times
 * are allocated smaller than it, and sys.getsizeof counts storage elsewhere. */
bool pm_ft_object_in_block(pymac_session *s, const pm_mi_page *p, uint64_t block, pm_object *o,
                           bool tracked)
{
    const pm_layout *L = s->layout;
    uint32_t off = pm_ft_object_offset(p->kind);
    if (off + L->object_size > p->block_size || !pm_object_read(s, block + off, o))
        return false;
    bool gc = o->type->flags & PM_TPFLAGS_HAVE_GC;
    if (gc != (p->kind != PM_MI_HEAP_OBJECT) || o->type->presize != off)
        return false;
    if (tracked)
        return true;
    uint64_t n = o->type->itemsize ? pm_object_nitems(s, o->type, o->ob_size) : 0;
    return !o->bad_size && n <= (p->block_size - off) / (o->type->itemsize ? o->type->itemsize : 1);
}

/* ob_gc_bits of the object in a GC heap block; false if unreadable. */
static bool gc_bits(pymac_session *s, const pm_mi_page *p, uint64_t block, uint64_t *bits)
{
    const pm_layout *L = s->layout;
    return pm_read_uint(s, block + pm_ft_object_offset(p->kind) + (uint64_t)L->ob_gc_bits.off,
                        L->ob_gc_bits.size, bits);
}

/* What gc.get_objects() lists (frozen: what gc.get_freeze_count() counts). */
static bool listed(uint64_t bits, bool frozen)
{
    if (!(bits & GC_BITS_TRACKED) || (bits & GC_BITS_UNREACHABLE))
        return false;
    return frozen == ((bits & GC_BITS_FROZEN) != 0);
}

pymac_status pm_ft_objects_walk(pymac_session *s, unsigned flags, pm_visit_fn visit, void *ctx,
                                pymac_census *c, pymac_error *err)
{
    bool gc_only = flags & PM_WALK_GC_ONLY;
    const pm_mi_walk *mw;
    pymac_status st = pm_mi_session_walk(s, &mw, err);
    if (st > PYMAC_PARTIAL)
        return st;
    uint64_t missing_before = pm_target_about_of(&s->target).missing_reads;
    /* no pymalloc arenas: every object goes to the map's hash set */
    pymac_heap none = {.arena_size = 16};
    pm_walk w = {.s = s, .c = c, .visit = visit, .ctx = ctx};
    bool ok = pm_objmap_init(&w.map, &none);
    /* the segments' objects as bits (a hash entry each cost 0.3 GB and a
     * cache miss per lookup for 6.7 million objects) */
    for (size_t i = 0; ok && i < mw->nsegs; i++)
        ok = pm_objmap_add_region(&w.map, mw->segs[i].addr, mw->segs[i].size);
    if (!ok) {
        pm_objmap_free(&w.map);
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    }
    c->gc_only = gc_only;
    c->partial = st == PYMAC_PARTIAL;
    st = PYMAC_OK;
    uint64_t first_invalid = 0;
    for (size_t i = 0; i < mw->npages && !st; i++) {
        const pm_mi_page *p = &mw->pages[i];
        if (!is_object_heap(p->kind) || p->bad || (gc_only && p->kind == PM_MI_HEAP_OBJECT))
            continue;
        for (uint32_t b = 0; b < p->capacity && !st; b++) {
            if (pm_mi_block_free(mw, p, b))
                continue;
            uint64_t block = p->start + (uint64_t)b * p->block_size, bits = 0;
            bool gc = p->kind != PM_MI_HEAP_OBJECT;
            bool in_list = gc && gc_bits(s, p, block, &bits) && listed(bits, false);
            if (gc_only && !in_list)
                continue;
            pm_object o;
            bool ok = pm_ft_object_in_block(s, p, block, &o, in_list);
            if (in_list && !ok) {
                if (!c->invalid++) /* gc.get_objects() would list it: damage */
                    first_invalid = block + pm_ft_object_offset(p->kind);
                continue;
            }
            if (!ok) {
                c->raw_blocks++;
                c->raw_bytes += p->block_size;
            } else if (!in_list && o.refcnt == 0 && !o.immortal) {
                c->freelisted++;
            } else if (!pm_walk_found(&w, &o, in_list ? 0 : listed(bits, true) ? 3 : -1)) {
                st = pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
            }
        }
    }
    if (c->invalid) {
        pm_warn(s, "%llu tracked objects in the GC heaps have no valid header (the first at 0x%llx)",
                (unsigned long long)c->invalid, (unsigned long long)first_invalid);
        c->partial = 1;
    }
    if (!gc_only && !st)
        st = pm_census_reach(&w, err);
    pm_objmap_free(&w.map);
    if (st)
        return st;
    uint64_t missing_reads = pm_target_about_of(&s->target).missing_reads;
    if (missing_reads != missing_before) {
        pm_warn(s, "%llu reads fell into the missing part of the truncated core: objects "
                "there are not counted",
                (unsigned long long)(missing_reads - missing_before));
        c->partial = 1;
    }
    return c->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

typedef struct vec64 {
    uint64_t *v;
    size_t n, cap;
} vec64;

static bool push(vec64 *a, uint64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        uint64_t *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return false;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return true;
}

/* The tracked objects of the GC heaps (frozen ones apart), in address order. */
static bool collect(pymac_session *s, const pm_mi_walk *mw, bool frozen, vec64 *out)
{
    for (size_t i = 0; i < mw->npages; i++) {
        const pm_mi_page *p = &mw->pages[i];
        if ((p->kind != PM_MI_HEAP_GC && p->kind != PM_MI_HEAP_GC_PRE) || p->bad)
            continue;
        for (uint32_t b = 0; b < p->capacity; b++) {
            uint64_t block = p->start + (uint64_t)b * p->block_size, bits;
            if (!pm_mi_block_free(mw, p, b) && gc_bits(s, p, block, &bits) &&
                listed(bits, frozen) && !push(out, block + pm_ft_object_offset(p->kind)))
                return false;
        }
    }
    return true;
}

static int64_t sign_extend(uint64_t v, unsigned size)
{
    if (size >= 8)
        return (int64_t)v;
    uint64_t m = 1ull << (size * 8 - 1);
    return (int64_t)((v ^ m) - m);
}

pymac_status pm_ft_gc_walk(pymac_session *s, pymac_gc **out, pymac_error *err)
{
    const pm_layout *L = s->layout;
    const pm_mi_walk *mw;
    pymac_status st = pm_mi_session_walk(s, &mw, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pymac_gc *gc = calloc(1, sizeof *gc);
    vec64 objs = {0};
    if (!gc || !collect(s, mw, false, &objs)) {
        free(objs.v);
        free(gc);
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    }
    size_t listed_n = objs.n;
    if (!collect(s, mw, true, &objs)) {
        free(objs.v);
        free(gc);
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    }
    uint64_t state = s->rt->main_interp + (uint64_t)L->gc_state.off, collecting = 0;
    if (L->gc_collecting.ok &&
        pm_read_uint(s, state + (uint64_t)L->gc_collecting.off, L->gc_collecting.size,
                     &collecting) &&
        collecting) {
        pm_warn(s, "the core was taken during a garbage collection");
        gc->collecting = 1;
        gc->partial = 1;
    }
    /* No generation lists: gc.get_objects(generation=i) is every tracked
     * object for each i, so each generation reports all of them. */
    gc->ngenerations = L->gc_ngenerations && L->gc_ngenerations <= PYMAC_GC_MAX_GENERATIONS
                           ? (uint32_t)L->gc_ngenerations
                           : PYMAC_GC_MAX_GENERATIONS;
    for (uint32_t i = 0; i < gc->ngenerations; i++) {
        pymac_gc_generation *g = &gc->generations[i];
        g->first = 0;
        g->objects = listed_n;
        uint64_t gen = state + (uint64_t)L->gc_generations.off + (uint64_t)i * L->gc_generation_size, v;
        if (L->gc_ngenerations && L->gen_count.ok &&
            pm_read_uint(s, gen + (uint64_t)L->gen_count.off, L->gen_count.size, &v))
            g->count = sign_extend(v, L->gen_count.size);
        if (L->gc_ngenerations && L->gen_threshold.ok &&
            pm_read_uint(s, gen + (uint64_t)L->gen_threshold.off, L->gen_threshold.size, &v))
            g->threshold = sign_extend(v, L->gen_threshold.size);
    }
    gc->permanent.first = listed_n;
    gc->permanent.objects = objs.n - listed_n;
    gc->objects = objs.v;
    gc->nobjects = objs.n;
    gc->partial |= st == PYMAC_PARTIAL;
    *out = gc;
    return gc->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

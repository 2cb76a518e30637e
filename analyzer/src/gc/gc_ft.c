/* The GC of a free-threaded CPython: no generation lists, but the tracked
 * objects of the mimalloc GC heaps (heap/mimalloc.c), as gc_visit_heaps
 * (Python/gc_free_threading.c) finds them: a GC heap's object starts at its
 * block, a GC_PRE heap's after the two pre-header words, and gc.get_objects()
 * is every one whose ob_gc_bits say tracked and neither unreachable
 * (mid-collection) nor frozen. */
#include <stdlib.h>

#include "gc_ft.h"
#include "layout.h"

/* _PyGC_BITS_* of Include/internal/pycore_gc.h (3.13t-3.15t) */
enum { GC_BITS_TRACKED = 1, GC_BITS_UNREACHABLE = 4, GC_BITS_FROZEN = 8 };

uint32_t pm_ft_object_offset(unsigned kind)
{
    return kind == PM_MI_HEAP_GC_PRE ? PM_MI_PREHEADER : 0;
}

/* ob_gc_bits of the object in a GC heap block; false if unreadable. */
bool pm_ft_gc_bits(pymac_session *s, const pm_mi_page *p, uint64_t block, uint64_t *bits)
{
    const pm_layout *L = s->layout;
    return pm_read_uint(s, block + pm_ft_object_offset(p->kind) + (uint64_t)L->ob_gc_bits.off,
                        L->ob_gc_bits.size, bits);
}

/* What gc.get_objects() lists (frozen: what gc.get_freeze_count() counts). */
bool pm_ft_gc_listed(uint64_t bits, bool frozen)
{
    if (!(bits & GC_BITS_TRACKED) || (bits & GC_BITS_UNREACHABLE))
        return false;
    return frozen == ((bits & GC_BITS_FROZEN) != 0);
}

/* The tracked objects of the GC heaps (frozen ones apart), in address order. */
static bool collect(pymac_session *s, const pm_mi_walk *mw, bool frozen, pm_u64_vec *out)
{
    for (size_t i = 0; i < mw->npages; i++) {
        const pm_mi_page *p = &mw->pages[i];
        if ((p->kind != PM_MI_HEAP_GC && p->kind != PM_MI_HEAP_GC_PRE) || p->bad)
            continue;
        for (uint32_t b = 0; b < p->capacity; b++) {
            uint64_t block = p->start + (uint64_t)b * p->block_size, bits;
            if (!pm_mi_block_free(mw, p, b) && pm_ft_gc_bits(s, p, block, &bits) &&
                pm_ft_gc_listed(bits, frozen) &&
                !pm_u64_vec_push(out, block + pm_ft_object_offset(p->kind)))
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
    pm_u64_vec objs = {0};
    if (!gc || !collect(s, mw, false, &objs)) {
        free(objs.v);
        free(gc);
        return pm_nomem(err);
    }
    size_t listed_n = objs.n;
    if (!collect(s, mw, true, &objs)) {
        free(objs.v);
        free(gc);
        return pm_nomem(err);
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

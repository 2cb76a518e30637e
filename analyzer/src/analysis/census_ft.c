/* The objects of a free-threaded CPython: the used blocks of the mimalloc
 * object heaps (mimalloc.c), not pymalloc and GC lists. As gc_visit_heaps
 * (Python/gc_free_threading.c): the GC heaps' objects where gc/gc_ft.c
 * finds them; the object heap holds non-GC objects at the block start and
 * raw PyObject_Malloc memory. */
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "census_ft.h"
#include "gc.h"
#include "gc_ft.h"
#include "layout.h"
#include "heap.h"
#include "mimalloc.h"

static bool is_object_heap(unsigned kind)
{
    return kind == PM_MI_HEAP_OBJECT || kind == PM_MI_HEAP_GC || kind == PM_MI_HEAP_GC_PRE;
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


typedef struct ft_scan {
    pm_walk *w;
    bool gc_only;
    uint64_t first_invalid;
} ft_scan;

/* The object heaps' pages only (not PyMem_Malloc's), and with gc_only the
 * GC heaps' */
static bool ft_unit(void *ctx, const pm_heap_unit *u)
{
    const ft_scan *f = ctx;
    return is_object_heap(u->kind) && !(f->gc_only && u->kind == PM_MI_HEAP_OBJECT);
}

static bool ft_block(void *ctx, const pm_heap_unit *u, uint64_t block)
{
    ft_scan *f = ctx;
    pm_walk *w = f->w;
    pymac_session *s = w->s;
    pymac_census *c = w->c;
    const pm_mi_page *p = u->native;
    uint64_t bits = 0;
    bool gc = p->kind != PM_MI_HEAP_OBJECT;
    bool in_list = gc && pm_ft_gc_bits(s, p, block, &bits) && pm_ft_gc_listed(bits, false);
    if (f->gc_only && !in_list)
        return true;
    pm_object o;
    bool ok = pm_ft_object_in_block(s, p, block, &o, in_list);
    if (in_list && !ok) {
        if (!c->invalid++) /* gc.get_objects() would list it: damage */
            f->first_invalid = block + pm_ft_object_offset(p->kind);
        return true;
    }
    if (!ok) {
        c->raw_blocks++;
        c->raw_bytes += p->block_size;
    } else if (!in_list && o.refcnt == 0 && !o.immortal) {
        c->freelisted++;
    } else if (!pm_walk_found(w, &o, in_list ? 0 : pm_ft_gc_listed(bits, true) ? 3 : -1)) {
        return false;
    }
    return true;
}

pymac_status pm_ft_objects_walk(pymac_session *s, unsigned flags, pm_visit_fn visit, void *ctx,
                                pymac_census *c, pymac_error *err)
{
    bool gc_only = flags & PM_WALK_GC_ONLY;
    const pm_heap *h;
    pymac_status st = pm_heap_get(s, &h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    uint64_t missing_before = pm_target_about_of(&s->target).missing_reads;
    /* the segments' objects as bits (a hash entry each cost 0.3 GB and a
     * cache miss per lookup for 6.7 million objects) */
    pm_walk w = {.s = s, .c = c, .visit = visit, .ctx = ctx};
    if (!pm_objmap_init(&w.map, h)) {
        pm_objmap_free(&w.map);
        return pm_nomem(err);
    }
    c->gc_only = gc_only;
    c->partial = st == PYMAC_PARTIAL;
    static const pm_heap_visitor visitor = {ft_unit, ft_block};
    ft_scan f = {.w = &w, .gc_only = gc_only};
    bool partial = false;
    st = pm_heap_each_used_block(h, &visitor, &f, &partial, err);
    if (c->invalid) {
        pm_warn(s, "%llu tracked objects in the GC heaps have no valid header (the first at 0x%llx)",
                (unsigned long long)c->invalid, (unsigned long long)f.first_invalid);
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

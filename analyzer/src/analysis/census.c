/* The per-type census: every object on the GC lists, and (full census) every
 * other object found in an in-use pymalloc block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "heap.h"
#include "census.h"
#include "freelists.h"
#include "census_ft.h"
#include "object.h"
#include "objmap.h"

typedef struct tally {
    pymac_type_count *rows; /* indexed by pm_type.index */
    size_t cap;
} tally;

static bool tally_count(void *ctx, const pm_object *o, int generation)
{
    (void)generation;
    tally *t = ctx;
    size_t i = o->type->index;
    if (i >= t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap <= i)
            cap *= 2;
        pymac_type_count *p = realloc(t->rows, cap * sizeof *p);
        if (!p)
            return false;
        memset(p + t->cap, 0, (cap - t->cap) * sizeof *p);
        t->rows = p;
        t->cap = cap;
    }
    pymac_type_count *r = &t->rows[i];
    if (!r->count) {
        r->type = o->type->addr;
        snprintf(r->name, sizeof r->name, "%s", o->type->name);
    }
    r->count++;
    r->bytes += o->size;
    return true;
}

static int by_bytes(const void *a, const void *b)
{
    const pymac_type_count *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->type < y->type ? -1 : x->type > y->type; /* types of one name (ctypes) */
}

/* The object living in an allocated block that no GC list accounts for:
 * a non-GC object at the block start, or an untracked GC object after its
 * pre-header. */
static bool object_in_block(pymac_session *s, uint64_t block, uint32_t block_size, pm_object *o)
{
    const pm_layout *L = s->layout;
    /* debug hooks: the allocation starts after their header and ends before
     * their trailer */
    uint32_t front = s->rt->debug_front, back = s->rt->debug_back;
    uint32_t offsets[] = {front, front + L->gc_head_size, front + L->gc_head_size + 16};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        uint32_t off = offsets[i];
        if (off + L->object_size + back > block_size || !pm_object_read(s, block + off, o))
            continue;
        /* an impossible length: stale block contents, not an object. The
         * object's own allocation must fit; a type with its own tp_alloc may
         * allocate a fixed-size object smaller than basicsize. */
        uint64_t room = block_size - off - back;
        bool smaller = o->type->custom_alloc && !o->type->itemsize && room >= L->object_size;
        if (o->type->presize != off - front || (o->footprint > room && !smaller) || o->bad_size)
            continue;
        if (off && (o->type->flags & PM_TPFLAGS_HAVE_GC)) {
            /* not on a GC list, so the GC head must say "untracked" */
            uint64_t next;
            if (!pm_read_uint(s, block + off - L->gc_head_size + (uint64_t)L->gch_next.off,
                              L->gch_next.size, &next) || next != 0)
                continue;
        }
        return true;
    }
    return false;
}

/* Is the block's object already known (a GC object after its pre-header)?
 * Only offsets inside the block count: past it lies the next block. */
bool pm_block_known(const pm_objmap *m, const pm_layout *L, uint32_t front, uint64_t block,
                    uint32_t size)
{
    uint32_t offsets[] = {front, front + L->gc_head_size, front + L->gc_head_size + 16};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++)
        if (offsets[i] < size && pm_objmap_has(m, block + offsets[i]))
            return true;
    return false;
}

bool pm_walk_found(pm_walk *w, const pm_object *o, int generation)
{
    if (!pm_objmap_add(&w->map, o->addr))
        return true; /* seen already */
    w->c->objects++;
    w->c->bytes += o->size;
    if (o->bad_size && w->bad_size++ < 5)
        pm_warn(w->s, "object 0x%llx (%s) has an impossible ob_size %lld: counted at its "
                "fixed size", (unsigned long long)o->addr, o->type->name, (long long)o->ob_size);
    return w->visit(w->ctx, o, generation);
}

/* Visits an object a GC list holds; false when out of memory. */
static bool visit_listed(pm_walk *w, uint64_t addr, int generation)
{
    pm_object o;
    if (!pm_object_read(w->s, addr, &o)) {
        w->c->invalid++;
        return true;
    }
    return pm_walk_found(w, &o, generation);
}

/* Visits the set-aside GC objects of a block, where a GC object starts:
 * after its GC head, or after a 3.11+ pre-header too (objects elsewhere are
 * left to visit_leftovers). pending: the arena's pending bits, from base.
 * *found says whether there was one. False when out of memory. */
static bool visit_pending(pm_walk *w, uint8_t *pending, uint64_t base, uint64_t block,
                          uint32_t size, bool *found)
{
    const pm_layout *L = w->s->layout;
    uint32_t front = w->s->rt->debug_front;
    uint32_t offsets[] = {front + L->gc_head_size, front + L->gc_head_size + 16};
    *found = false;
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        uint64_t addr = block + offsets[i], bit = (addr - base) / 16;
        uint8_t mask = (uint8_t)(1u << (bit % 8));
        if (offsets[i] >= size || (addr & 15) || !(pending[bit / 8] & mask))
            continue;
        pending[bit / 8] &= (uint8_t)~mask;
        *found = true;
        if (!visit_listed(w, addr, -1))
            return false;
    }
    return true;
}

/* The set-aside GC objects the block scan did not meet (in blocks it skips:
 * free, in empty pools, at odd offsets), in address order. */
static bool visit_leftovers(pm_walk *w)
{
    pm_objmap *m = &w->map;
    size_t bytes = m->arena_size / 16 / 8;
    for (size_t a = 0; m->pending && a < m->narenas; a++) {
        for (size_t i = 0; m->pending[a] && i < bytes; i++)
            for (uint8_t b = m->pending[a][i]; b; b &= (uint8_t)(b - 1)) {
                uint64_t addr = m->arena_base[a] + (i * 8 + (unsigned)__builtin_ctz(b)) * 16;
                if (!visit_listed(w, addr, -1))
                    return false;
            }
        free(m->pending[a]);
        m->pending[a] = NULL;
    }
    return true;
}

/* The block scan: each used block of the allocator's units. */
typedef struct block_scan {
    pm_walk *w;
    uint8_t *pending; /* the unit's arena's set-aside GC objects, from base */
    uint64_t base;
} block_scan;

static bool scan_unit(void *ctx, const pm_heap_unit *u)
{
    block_scan *b = ctx;
    const pm_objmap *m = &b->w->map;
    /* a pool lies in one arena */
    long arena = m->pending ? u->region : -1;
    b->pending = arena >= 0 ? m->pending[arena] : NULL;
    b->base = arena >= 0 ? m->arena_base[arena] : 0;
    if (b->pending && u->end > b->base + m->arena_size)
        b->pending = NULL; /* a corrupt pool that spills out of its arena */
    return true;
}

static bool scan_block(void *ctx, const pm_heap_unit *u, uint64_t block)
{
    block_scan *b = ctx;
    pm_walk *w = b->w;
    pymac_session *s = w->s;
    pymac_census *c = w->c;
    uint32_t size = (uint32_t)u->block_size;
    bool listed = false;
    if (b->pending && !visit_pending(w, b->pending, b->base, block, size, &listed))
        return false;
    if (listed || pm_block_known(&w->map, s->layout, s->rt->debug_front, block, size))
        return true;
    pm_object o;
    if (!object_in_block(s, block, size, &o)) {
        c->raw_blocks++;
        c->raw_bytes += size;
    } else if ((o.refcnt == 0 && !o.immortal) || pm_addr_in(w->parked, w->nparked, o.addr)) {
        /* on a free list: a count of 0 (<= 3.13), or the list's link
         * written over the count (3.14+) */
        c->freelisted++;
    } else if (!pm_walk_found(w, &o, -1)) {
        return false;
    }
    return true;
}

static pymac_status scan_blocks(pm_walk *w, const pm_heap *h, pymac_error *err)
{
    static const pm_heap_visitor visitor = {scan_unit, scan_block};
    block_scan b = {.w = w};
    bool partial = false;
    pymac_status st = pm_heap_each_used_block(h, &visitor, &b, &partial, err);
    if (partial)
        w->c->partial = 1;
    if (st)
        return st;
    if (!visit_leftovers(w))
        return pm_nomem(err);
    return PYMAC_OK;
}

pymac_status pm_objects_walk(pymac_session *s, unsigned flags, pm_visit_fn visit, void *ctx,
                             pymac_census *c, pymac_error *err)
{
    if (s->layout->free_threaded)
        return pm_ft_objects_walk(s, flags, visit, ctx, c, err);
    bool gc_only = flags & PM_WALK_GC_ONLY;
    /* Unless generations are wanted, the GC objects in pymalloc are set aside
     * and visited by the block scan, in address order: a visit in list order
     * reads the heap once more at random, which under the resident bound
     * (core_resident.c) faults much of the core back in. */
    bool defer = !gc_only && !(flags & PM_WALK_GENERATIONS);
    const pymac_gc *gc;
    const pm_heap *h;
    pymac_status st = pymac_gc_walk(s, &gc, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pymac_status hst = pm_heap_get(s, &h, err);
    if (hst > PYMAC_PARTIAL)
        return hst;
    uint64_t missing_before = pm_target_about_of(&s->target).missing_reads;
    pm_walk w = {.s = s, .c = c, .visit = visit, .ctx = ctx};
    if (!pm_objmap_init(&w.map, h)) {
        pm_objmap_free(&w.map);
        return pm_nomem(err);
    }
    c->gc_only = gc_only;
    c->partial = st == PYMAC_PARTIAL || hst == PYMAC_PARTIAL;
    st = PYMAC_OK;
    /* gc.get_objects() covers the generations, not the permanent one */
    size_t end = gc_only ? gc->permanent.first : gc->nobjects;
    int gen = 0;
    for (size_t i = 0; i < end && !st; i++) {
        while (gen < (int)gc->ngenerations &&
               i >= gc->generations[gen].first + gc->generations[gen].objects)
            gen++;
        bool nomem = false;
        if ((defer && pm_objmap_pend(&w.map, gc->objects[i], &nomem)) ||
            (!nomem && visit_listed(&w, gc->objects[i], gen)))
            continue;
        st = pm_nomem(err);
    }
    if (!gc_only && !st) {
        st = pm_freelist_parked(s, &w.parked, &w.nparked, err);
        if (st == PYMAC_PARTIAL) {
            c->partial = 1;
            st = PYMAC_OK;
        }
    }
    if (!gc_only && !st)
        st = scan_blocks(&w, h, err);
    if (c->invalid) {
        pm_warn(s, "%llu objects on the GC lists have no valid type",
                (unsigned long long)c->invalid);
        c->partial = 1;
    }
    if (!gc_only && !st)
        st = pm_census_reach(&w, err);
    /* without pymalloc no walk finds the objects no GC list or pointer leads
     * to (the heap walk warned) */
    if (!gc_only && !PM_OBJECTS_IN_PYMALLOC(s->rt))
        c->partial = 1;
    pm_objmap_free(&w.map);
    free(w.parked);
    if (st)
        return st;
    if (w.bad_size) {
        if (w.bad_size > 5)
            pm_warn(s, "%llu objects in all have an impossible ob_size",
                    (unsigned long long)w.bad_size);
        c->partial = 1;
    }
    uint64_t missing_reads = pm_target_about_of(&s->target).missing_reads;
    if (missing_reads != missing_before) {
        /* a pointer into the part a truncated core lacks: what is there is unknown */
        pm_warn(s, "%llu reads fell into the missing part of the truncated core: objects "
                "there are not counted",
                (unsigned long long)(missing_reads - missing_before));
        c->partial = 1;
    }
    return c->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

pymac_status pymac_census_build(pymac_session *s, int gc_only, const pymac_census **out,
                                pymac_error *err)
{
    pymac_census **cache = gc_only ? &s->census_gc : &s->census_full;
    if (*cache) {
        *out = *cache;
        return (*cache)->partial ? PYMAC_PARTIAL : PYMAC_OK;
    }
    *out = NULL;
    pymac_census *c = calloc(1, sizeof *c);
    if (!c)
        return pm_nomem(err);
    tally t = {0};
    pymac_status st = pm_objects_walk(s, gc_only ? PM_WALK_GC_ONLY : 0, tally_count, &t, c, err);
    if (st > PYMAC_PARTIAL) {
        free(t.rows);
        free(c);
        return st;
    }
    /* compact the per-type rows and sort them by bytes */
    size_t n = 0;
    for (size_t i = 0; i < t.cap; i++)
        if (t.rows[i].count)
            t.rows[n++] = t.rows[i];
    pm_sort(t.rows, n, sizeof *t.rows, by_bytes);
    c->rows = t.rows;
    c->nrows = n;
    *cache = c;
    *out = c;
    return st;
}

void pm_census_free(pymac_census *c)
{
    if (c) {
        free(c->rows);
        free(c);
    }
}

/* The cyclic GC's generation lists (CPython 3.8-3.15, GIL builds).
 *
 * Each generation is a circular doubly linked list of PyGC_Head threaded
 * through _gc_next/_gc_prev; the low two bits of both carry flags during a
 * collection, so links are masked. Every link is checked: the back link of
 * each node must name the node we came from, and the walk is bounded by the
 * number of GC heads the core could hold at all. */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "gc_ft.h"
#include "layout.h"

enum { GC_LINK_FLAGS = 3 };

/* Walks one list from its head; appends object addresses to objs. */
static pymac_status walk_list(pymac_session *s, uint64_t head, const char *name,
                              pm_u64_vec *objs, uint64_t *len, int *partial)
{
    const pm_layout *L = s->layout;
    uint64_t bound = s->target.space_bytes / (L->gc_head_size + L->object_size) + 1;
    uint64_t prev = head, node;
    unsigned char scratch[64];
    *len = 0;
    if (!pm_read_field(s, head, &L->gch_next, &node)) {
        pm_warn(s, "GC %s: list head 0x%llx unreadable", name, (unsigned long long)head);
        *partial = 1;
        return PYMAC_OK;
    }
    node &= ~(uint64_t)GC_LINK_FLAGS;
    while (node != head) {
        const void *g = node ? pm_view(s, node, L->gc_head_size, scratch) : NULL;
        if (!g) {
            pm_warn(s, "GC %s: link to unreadable 0x%llx after %llu objects", name,
                    (unsigned long long)node, (unsigned long long)*len);
            *partial = 1;
            return PYMAC_OK;
        }
        uint64_t back = pm_get_uint(g, L->gch_prev.off, L->gch_prev.size) & ~(uint64_t)GC_LINK_FLAGS;
        if (back != prev) {
            pm_warn(s, "GC %s: broken back link at 0x%llx after %llu objects", name,
                    (unsigned long long)node, (unsigned long long)*len);
            *partial = 1;
            return PYMAC_OK;
        }
        if (++*len > bound) {
            pm_warn(s, "GC %s: list does not close (a cycle?) after %llu objects", name,
                    (unsigned long long)bound);
            *partial = 1;
            return PYMAC_OK;
        }
        if (objs && !pm_u64_vec_push(objs, node + L->gc_head_size))
            return PYMAC_E_NOMEM;
        prev = node;
        node = pm_get_uint(g, L->gch_next.off, L->gch_next.size) & ~(uint64_t)GC_LINK_FLAGS;
    }
    return PYMAC_OK;
}

static int64_t sign_extend(uint64_t v, unsigned size)
{
    if (size >= 8)
        return (int64_t)v;
    uint64_t m = 1ull << (size * 8 - 1);
    return (int64_t)((v ^ m) - m);
}

/* Generation i as gc.get_objects(i) and gc.get_count() see it: generations[i];
 * or, in 3.14.0-3.14.4's incremental GC (GEN_HEAD in Python/gc.c), young for
 * 0, old[visited_space] for 1 and old[visited_space ^ 1] for 2. */
static uint64_t generation_addr(const pm_layout *L, uint64_t state, uint32_t i, uint64_t visited)
{
    if (!L->gc_incremental)
        return state + (uint64_t)L->gc_generations.off + (uint64_t)i * L->gc_generation_size;
    if (i == 0)
        return state + (uint64_t)L->gc_young.off;
    return state + (uint64_t)L->gc_old.off + ((i - 1) ^ visited) * L->gc_generation_size;
}

pymac_status pymac_gc_walk(pymac_session *s, const pymac_gc **out, pymac_error *err)
{
    if (s->gc) {
        *out = s->gc;
        return s->gc->partial ? PYMAC_PARTIAL : PYMAC_OK;
    }
    *out = NULL;
    const pm_layout *L = s->layout;
    if (L->free_threaded) {
        pymac_gc *ft = NULL;
        pymac_status fst = pm_ft_gc_walk(s, &ft, err);
        if (fst <= PYMAC_PARTIAL)
            *out = s->gc = ft;
        return fst;
    }
    uint64_t owner = s->rt->minor == 8 ? s->rt->runtime_addr : s->rt->main_interp;
    uint64_t state = owner + (uint64_t)L->gc_state.off;
    pymac_gc *gc = calloc(1, sizeof *gc);
    if (!gc)
        return pm_nomem(err);
    uint64_t collecting = 0;
    if (!pm_read_field(s, state, &L->gc_collecting, &collecting)) {
        free(gc);
        pm_fail(err, PYMAC_E_CORRUPT, "the core lacks the interpreter's data pages",
                "cannot read the GC state at 0x%llx", (unsigned long long)state);
        return pm_explain_truncation(s, PYMAC_E_CORRUPT, false, err);
    }
    gc->collecting = collecting != 0;
    if (gc->collecting) {
        pm_warn(s, "the core was taken during a garbage collection: the lists may be split");
        gc->partial = 1;
    }
    pm_u64_vec objs = {0};
    gc->ngenerations = L->gc_ngenerations < PYMAC_GC_MAX_GENERATIONS ? (uint32_t)L->gc_ngenerations
                                                                     : PYMAC_GC_MAX_GENERATIONS;
    pymac_status st = PYMAC_OK;
    uint64_t visited = 0;
    if (L->gc_incremental &&
        (!pm_read_uint(s, state + (uint64_t)L->gc_visited_space.off, L->gc_visited_space.size,
                       &visited) ||
         visited > 1)) {
        pm_warn(s, "GC visited_space unreadable or not 0/1 (%llu): old spaces taken in order",
                (unsigned long long)visited);
        visited = 0;
        gc->partial = 1;
    }
    for (uint32_t i = 0; i <= gc->ngenerations && !st; i++) {
        /* generations[0..n-1], then the permanent generation (gc.freeze()) */
        bool perm = i == gc->ngenerations;
        uint64_t gen = perm ? state + (uint64_t)L->gc_permanent.off
                            : generation_addr(L, state, i, visited);
        pymac_gc_generation *g = perm ? &gc->permanent : &gc->generations[i];
        uint64_t v;
        g->head = gen + (uint64_t)L->gen_head.off;
        if (pm_read_field(s, gen, &L->gen_count, &v))
            g->count = sign_extend(v, L->gen_count.size);
        /* the incremental GC reports old[0]'s threshold for generation 1, 0 for 2 */
        uint64_t tgen = L->gc_incremental && i > 0 ? generation_addr(L, state, i, 0) : gen;
        if (L->gc_incremental && i == 2)
            g->threshold = 0;
        else if (pm_read_field(s, tgen, &L->gen_threshold, &v))
            g->threshold = sign_extend(v, L->gen_threshold.size);
        g->first = objs.n;
        char name[32];
        snprintf(name, sizeof name, perm ? "permanent generation" : "generation %u", i);
        st = walk_list(s, g->head, name, &objs, &g->objects, &gc->partial);
    }
    if (st) {
        free(objs.v);
        free(gc);
        return pm_nomem(err); /* walk_list fails only so */
    }
    gc->objects = objs.v;
    gc->nobjects = objs.n;
    s->gc = gc;
    *out = gc;
    return gc->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

void pm_gc_free(pymac_gc *gc)
{
    if (gc) {
        free(gc->objects);
        free(gc);
    }
}

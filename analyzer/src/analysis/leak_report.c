/* The leak report (pymac_find_leaks): leaks.c's analysis grouped by type
 * name, ranked by bytes, with where tracemalloc says each group was
 * allocated; and growth against a baseline core (type_diff.c).
 *
 *  unexplained references: objects whose reference count is higher than the
 *    references pymac can see: from other objects (decoded, or conservative
 *    for types it cannot decode) and from memory that is not an object
 *    (static data, stacks, C structures), scanned conservatively. What is
 *    left is the signature of a leaked Py_INCREF. Immortal objects are
 *    skipped.
 *  unreachable: objects on the GC lists that nothing reaches from the roots
 *    (the named roots of path, immortal objects, and every object whose
 *    refcount exceeds the references other objects hold, as the collector
 *    decides it): garbage the collector has not freed. */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "leaks.h"
#include "object.h"
#include "retain.h"
#include "type_diff.h"

enum { EXAMPLES = PYMAC_LEAK_EXAMPLES };

typedef pm_leak_group group;

/* Groups by type name, with an open-addressing index over the names (a leak
 * of millions of objects meets each group many times). */
typedef struct groups {
    group **v;
    size_t *n, cap;
    uint32_t *slot; /* group index + 1; 0 is empty */
    size_t nslot;   /* a power of two, at least twice *n */
} groups;

static size_t name_hash(const char *name)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

static bool reindex(groups *gs, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return false;
    for (size_t i = 0; i < *gs->n; i++) {
        size_t h = name_hash((*gs->v)[i].name) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = (uint32_t)(i + 1);
    }
    free(gs->slot);
    gs->slot = slot;
    gs->nslot = nslot;
    return true;
}

static group *find_group(groups *gs, const char *name)
{
    if ((*gs->n + 1) * 2 > gs->nslot && (*gs->n >= UINT32_MAX - 1 ||
                                         !reindex(gs, gs->nslot ? gs->nslot * 2 : 256)))
        return NULL;
    size_t h = name_hash(name) & (gs->nslot - 1);
    for (; gs->slot[h]; h = (h + 1) & (gs->nslot - 1))
        if (strcmp((*gs->v)[gs->slot[h] - 1].name, name) == 0)
            return &(*gs->v)[gs->slot[h] - 1];
    if (*gs->n == gs->cap) {
        size_t c = gs->cap ? gs->cap * 2 : 64;
        group *p = realloc(*gs->v, c * sizeof *p);
        if (!p)
            return NULL;
        *gs->v = p;
        gs->cap = c;
    }
    group *g = &(*gs->v)[*gs->n];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    gs->slot[h] = (uint32_t)++*gs->n;
    return g;
}

static int by_bytes(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void add(group *g, const pm_object *o, uint64_t refs, uint64_t retained)
{
    /* each suspect is a root of its dominator tree: no two share what they retain */
    g->retained += retained;
    if (g->objects < EXAMPLES)
        g->examples[g->objects] = o->addr;
    g->objects++;
    g->bytes += o->size;
    g->refs += refs;
}

/* Growth since the baseline: per type name, objects and bytes added. */
static pymac_status growth(pymac_session *s, pymac_session *base, group **gs, size_t *n,
                           pymac_error *err)
{
    const pymac_census *c[2];
    pymac_status st = pymac_census_build(base, 0, &c[0], err);
    if (st <= PYMAC_PARTIAL)
        st = pymac_census_build(s, 0, &c[1], err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_type_diff td;
    pymac_status dst = pm_type_diff_build(c[0], c[1], &td, err);
    if (dst != PYMAC_OK)
        return dst;
    /* keep what grew; what shrank counts as no growth */
    size_t m = 0;
    *gs = calloc(td.n + 1, sizeof **gs);
    if (!*gs) {
        pm_type_diff_free(&td);
        return pm_nomem(err);
    }
    for (size_t i = 0; i < td.n; i++) {
        const pm_diff_row *d = &td.rows[i];
        int64_t objects = d->count[1] - d->count[0], bytes = d->bytes[1] - d->bytes[0];
        if (bytes <= 0 && objects <= 0)
            continue;
        group *g = &(*gs)[m++];
        snprintf(g->name, sizeof g->name, "%s", d->name);
        g->objects = objects > 0 ? (uint64_t)objects : 0;
        g->bytes = bytes > 0 ? (uint64_t)bytes : 0;
    }
    pm_type_diff_free(&td);
    *n = m;
    pm_sort(*gs, m, sizeof **gs, by_bytes);
    return st;
}

pymac_status pm_leak_report_build(pymac_session *s, const pm_leaks *lk, pymac_leaks *out,
                                  pymac_error *err)
{
    memset(out, 0, sizeof *out);
    out->objects = lk->g.n;
    out->edges = lk->edges;
    out->stale_pointers = lk->stale;
    out->dead_objects = lk->g.dead;
    out->malloc_heaps = lk->g.malloc_heap.nheaps;
    out->malloc_chunks = lk->g.malloc_heap.nchunks;
    out->malloc_free_chunks = lk->g.malloc_heap.nfree_chunks;
    out->tcache_chunks = lk->g.malloc_heap.ntcache;
    out->tcache_checked = !lk->g.malloc_heap.tcache_bad;
    groups unexplained = {.v = &out->unexplained, .n = &out->nunexplained};
    groups unreachable = {.v = &out->unreachable, .n = &out->nunreachable};
    bool nomem = false;
    pm_tm_sites *sites = pm_tm_sites_open(s); /* NULL unless tracemalloc traced */
    /* the GC-listed objects nothing reached */
    const pymac_gc *gc;
    if (pymac_gc_walk(s, &gc, NULL) <= PYMAC_PARTIAL) {
        for (size_t i = 0; i < gc->permanent.first && !nomem; i++) {
            long idx = pm_graph_index(&lk->g, gc->objects[i]);
            pm_object o;
            if (idx >= 0 && !lk->reached[idx] && pm_object_read(s, gc->objects[i], &o)) {
                group *gr = find_group(&unreachable, o.type->name);
                if (gr)
                    add(gr, &o, 0,
                        lk->garbage_bytes ? pm_leaks_garbage_bytes(lk, (uint32_t)idx) : o.size);
                if (gr)
                    pm_tm_sites_add(sites, 1, (uint32_t)(gr - out->unreachable), &o);
                nomem = !gr;
            }
        }
    }
    for (size_t k = 0; k < lk->nunexplained && !nomem; k++) {
        pm_object o;
        uint32_t i = lk->unexplained[k].node;
        if (!pm_object_read(s, lk->g.nodes[i], &o))
            continue;
        group *gr = find_group(&unexplained, o.type->name);
        if (gr)
            add(gr, &o, lk->unexplained[k].refs,
                lk->retained_bytes ? lk->retained_bytes[i] : o.size);
        if (gr)
            pm_tm_sites_add(sites, 0, (uint32_t)(gr - out->unexplained), &o);
        nomem = !gr;
    }
    free(unexplained.slot);
    free(unreachable.slot);
    for (size_t i = 0; i < out->nunexplained; i++) {
        group *g = &out->unexplained[i];
        g->has_site = pm_tm_sites_top(sites, 0, (uint32_t)i, &g->site);
    }
    for (size_t i = 0; i < out->nunreachable; i++) {
        group *g = &out->unreachable[i];
        g->has_site = pm_tm_sites_top(sites, 1, (uint32_t)i, &g->site);
    }
    bool sites_partial = pm_tm_sites_partial(sites);
    pm_tm_sites_free(sites);
    if (nomem) {
        pm_leak_report_free(out);
        return pm_nomem(err);
    }
    pm_sort(out->unexplained, out->nunexplained, sizeof *out->unexplained, by_bytes);
    pm_sort(out->unreachable, out->nunreachable, sizeof *out->unreachable, by_bytes);
    return sites_partial ? PYMAC_PARTIAL : PYMAC_OK;
}

void pm_leak_report_free(pymac_leaks *r)
{
    free(r->unexplained);
    free(r->unreachable);
    free(r->growth);
    memset(r, 0, sizeof *r);
}

pymac_status pymac_find_leaks(pymac_session *s, pymac_session *baseline, pymac_leaks **out,
                              pymac_error *err)
{
    *out = NULL;
    group *gr_rows = NULL;
    size_t ngr = 0;
    if (baseline) { /* first: its censuses' warnings come before the graph's */
        pymac_status gst = growth(s, baseline, &gr_rows, &ngr, err);
        if (gst > PYMAC_PARTIAL) {
            free(gr_rows);
            return gst;
        }
    }
    pm_retain *r;
    pymac_status st = pm_retain_shared(s, &r, err);
    pymac_leaks *l = st > PYMAC_PARTIAL ? NULL : malloc(sizeof *l);
    if (!l) {
        free(gr_rows);
        return st > PYMAC_PARTIAL ? st : pm_nomem(err);
    }
    pymac_status rst = pm_leak_report_build(s, &r->lk, l, err);
    if (rst > PYMAC_PARTIAL) {
        free(gr_rows);
        free(l);
        return rst;
    }
    if (rst == PYMAC_PARTIAL) /* partial allocation sites */
        st = PYMAC_PARTIAL;
    l->growth = gr_rows;
    l->ngrowth = ngr;
    l->partial = st == PYMAC_PARTIAL;
    *out = l;
    return st;
}

void pymac_leaks_free(pymac_leaks *l)
{
    if (l) {
        pm_leak_report_free(l);
        free(l);
    }
}


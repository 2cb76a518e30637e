/* The reference graph: every live object as a node (a sorted address array),
 * edges recomputed on demand from the type-decoded referents, and the roots:
 * sys.modules, builtins, sys.__dict__, the interned strings and every
 * thread's frames. Used by referrers (who points here) and path (shortest
 * chain from a root). Memory: 8 bytes per node plus 4 for BFS parents. */
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "graph.h"
#include "json.h"
#include "layout.h"
#include "referents.h"
#include "value.h"


/* ---- nodes ---- */

typedef struct collect {
    uint64_t *v;
    size_t n, cap;
} collect;

static bool collect_one(void *ctx, const pm_object *o, int generation)
{
    (void)generation;
    collect *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1 << 16;
        uint64_t *p = realloc(c->v, cap * sizeof *p);
        if (!p)
            return false;
        c->v = p;
        c->cap = cap;
    }
    c->v[c->n++] = o->addr;
    return true;
}

/* Sorts addresses: LSD radix, 16 bits a pass over the bits that vary (user
 * addresses have 48), falling back to qsort if the scratch cannot be had. */
static void sort_addresses(uint64_t *v, size_t n)
{
    uint64_t *tmp = n > 4096 ? malloc(n * sizeof *tmp) : NULL;
    size_t *count = tmp ? malloc(65536 * sizeof *count) : NULL;
    if (!count) {
        free(tmp);
        if (n)
            pm_sort(v, n, sizeof *v, pm_cmp_u64);
        return;
    }
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= v[i];
    uint64_t *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 64 && (all >> shift); shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xffff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    free(count);
    free(tmp);
}

static size_t page_hash(uint64_t page, size_t mask)
{
    return (size_t)((page * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

/* The page index: node lookups cost a hash probe and a short search within
 * one page, not a binary search over millions of nodes. */
static bool index_pages(pm_graph *g)
{
    size_t npages = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!i || g->nodes[i] >> 12 != g->nodes[i - 1] >> 12)
            npages++;
    if (g->n > UINT32_MAX)
        return false;
    size_t cap = 16;
    while (cap < 2 * npages)
        cap *= 2;
    g->pages = calloc(cap, sizeof *g->pages);
    if (!g->pages)
        return false;
    g->page_mask = cap - 1;
    for (size_t i = 0; i < g->n;) {
        uint64_t page = g->nodes[i] >> 12;
        size_t j = i;
        while (j < g->n && g->nodes[j] >> 12 == page)
            j++;
        size_t h = page_hash(page, g->page_mask);
        while (g->pages[h].page)
            h = (h + 1) & g->page_mask;
        g->pages[h] = (pm_graph_page){page, (uint32_t)i, (uint32_t)j};
        i = j;
    }
    return true;
}

pymac_status pm_graph_open(pymac_session *s, pm_graph *g, pymac_error *err)
{
    memset(g, 0, sizeof *g);
    g->s = s;
    collect c = {0};
    pymac_census counters = {0};
    pymac_status st = pm_objects_walk(s, 0, collect_one, &c, &counters, err);
    if (st > PYMAC_PARTIAL) {
        free(c.v);
        return st;
    }
    sort_addresses(c.v, c.n);
    /* An object in a free malloc chunk is dead, however valid it looks (the
     * chunk's old contents, found through a stale pointer). */
    pm_glibc_heap_scan(s, &g->malloc_heap);
    if (g->malloc_heap.nomem) {
        free(c.v);
        pm_glibc_heap_release(&g->malloc_heap);
        return pm_nomem(err);
    }
    size_t m = 0;
    for (size_t i = 0; i < c.n; i++)
        if (!pm_glibc_heap_is_free(&g->malloc_heap, c.v[i]))
            c.v[m++] = c.v[i];
    g->dead = c.n - m;
    /* the array grew by doubling: give back what it did not fill */
    uint64_t *fit = m ? realloc(c.v, m * sizeof *fit) : NULL;
    g->nodes = fit ? fit : c.v;
    g->n = m;
    if (!index_pages(g)) {
        pm_graph_close(g);
        return pm_nomem(err);
    }
    g->partial = st == PYMAC_PARTIAL;
    return st;
}

void pm_graph_close(pm_graph *g)
{
    free(g->nodes);
    free(g->pages);
    pm_glibc_heap_release(&g->malloc_heap);
    memset(g, 0, sizeof *g);
}

pymac_status pm_graph_shared(pymac_session *s, const pm_graph **out, pymac_error *err)
{
    if (!s->graph) {
        pm_graph *g = malloc(sizeof *g);
        if (!g)
            return pm_nomem(err);
        pymac_status st = pm_graph_open(s, g, err);
        if (st > PYMAC_PARTIAL) {
            free(g);
            return st;
        }
        s->graph = g;
    }
    *out = s->graph;
    return s->graph->partial ? PYMAC_PARTIAL : PYMAC_OK;
}

void pm_graph_free(pm_graph *g)
{
    if (g) {
        pm_graph_close(g);
        free(g);
    }
}

long pm_graph_index(const pm_graph *g, uint64_t addr)
{
    uint64_t page = addr >> 12;
    if (!g->pages || !page)
        return -1;
    size_t h = page_hash(page, g->page_mask);
    while (g->pages[h].page && g->pages[h].page != page)
        h = (h + 1) & g->page_mask;
    if (!g->pages[h].page)
        return -1;
    size_t first = g->pages[h].first, end = g->pages[h].end;
    size_t i = first + pm_lower_bound_u64(g->nodes + first, end - first, addr);
    return i < end && g->nodes[i] == addr ? (long)i : -1;
}

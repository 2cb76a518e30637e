/* The reference graph: every live object as a node (a sorted address array),
 * edges recomputed on demand from the type-decoded referents, and the roots:
 * sys.modules, builtins, sys.__dict__, the interned strings and every
 * thread's frames. Used by referrers (who points here) and path (shortest
 * chain from a root). Memory: 8 bytes per node plus 4 for BFS parents. */
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "frames.h"
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
    size_t lo = g->pages[h].first, hi = g->pages[h].end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->nodes[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->pages[h].end && g->nodes[lo] == addr ? (long)lo : -1;
}

/* ---- roots ---- */

static bool interp_member(pymac_session *s, const char *const *paths, uint64_t *out)
{
    pm_field f;
    if (!pm_lookup_type(s, "PyInterpreterState"))
        return false;
    for (; *paths; paths++) {
        pm_lookup_field(s, "PyInterpreterState", *paths, &f);
        if (f.ok)
            return pm_read_u64(s, s->rt->main_interp + (uint64_t)f.off, out);
    }
    return false;
}

typedef struct frame_ctx {
    pymac_session *s;
    pm_root_fn fn;
    void *ctx;
} frame_ctx;

/* 3.14+ frames hold _PyStackRef (a union of one `bits` word) where 3.13 had
 * PyObject *: the low two bits are tags (GIL build, pycore_stackref.h:
 * 1 = a borrowed reference, 3 = a tagged int, 2 = invalid), the rest the
 * object's address. An untagged word passes through unchanged. */
enum { STACKREF_TAG_BITS = 3, STACKREF_INT_TAG = 3, STACKREF_INVALID = 2 };

static uint64_t stackref_object(bool tagged, uint64_t bits)
{
    if (!tagged)
        return bits;
    uint64_t tag = bits & STACKREF_TAG_BITS;
    return tag == STACKREF_INT_TAG || tag == STACKREF_INVALID ? 0 : bits & ~(uint64_t)STACKREF_TAG_BITS;
}

/* Do the target's interpreter frames hold _PyStackRef (3.14+) in localsplus? */
static bool frame_slots_tagged(pymac_session *s)
{
    const char *slot_type = pm_lookup_member_type(s, "_PyInterpreterFrame", "localsplus");
    return slot_type && strcmp(slot_type, "_PyStackRef") == 0;
}

/* Each thread's Python frames: frame objects (<= 3.10) are objects and so
 * roots themselves; 3.11+ interpreter frames live on the thread's data stack:
 * their object fields, and the live part of localsplus (frames.c: the slots
 * above the stack pointer are stale). */
static bool frame_root(void *ctx, int thread, int depth, uint64_t tstate, uint64_t f,
                       bool object)
{
    static const char *const fields[] = {"f_code", "f_executable", "f_func", "f_funcobj",
                                         "f_globals", "f_builtins", "f_locals", "frame_obj"};
    (void)tstate;
    frame_ctx *c = ctx;
    pymac_session *s = c->s;
    char label[64];
    if (!f)
        return true;
    if (object) {
        snprintf(label, sizeof label, "thread %d frame", thread);
        c->fn(c->ctx, f, label);
        return true;
    }
    snprintf(label, sizeof label, "thread %d frame %d", thread, depth);
    pm_field fld;
    uint64_t v, lp, n;
    bool tagged = frame_slots_tagged(s);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        pm_lookup_field(s, "_PyInterpreterFrame", fields[i], &fld);
        if (fld.ok && pm_read_u64(s, f + (uint64_t)fld.off, &v) && (v = stackref_object(tagged, v)))
            c->fn(c->ctx, v, label);
    }
    if (!pm_frame_live_words(s, f, &lp, &n))
        return true;
    for (uint64_t w = 0; w < n; w++)
        if (pm_read_u64(s, lp + 8 * w, &v) && (v = stackref_object(tagged, v)) && !(v & 7))
            c->fn(c->ctx, v, label);
    return true;
}

static void frame_roots(pymac_session *s, pm_root_fn fn, void *ctx)
{
    frame_ctx c = {s, fn, ctx};
    pm_frames_walk(s, frame_root, &c);
}

void pm_graph_roots(pymac_session *s, int which, pm_root_fn fn, void *ctx)
{
    if (!(which & PM_ROOTS_INTERP)) {
        frame_roots(s, fn, ctx);
        return;
    }
    static const char *const modules[] = {"imports.modules", "modules", NULL};
    static const char *const sysdict[] = {"sysdict", NULL};
    static const char *const builtins[] = {"builtins", NULL};
    static const char *const interned[] = {"cached_objects.interned_strings", NULL};
    uint64_t v;
    if (interp_member(s, modules, &v) && v)
        fn(ctx, v, "sys.modules");
    if (interp_member(s, sysdict, &v) && v)
        fn(ctx, v, "sys.__dict__");
    if (interp_member(s, builtins, &v) && v)
        fn(ctx, v, "builtins.__dict__");
    if (interp_member(s, interned, &v) && v) {
        fn(ctx, v, "interned strings");
    } else {
        pm_symbol sym = pm_symbol_lookup(s, "interned", "unicodeobject.c");
        if (sym.found && pm_read_u64(s, sym.addr, &v) && v)
            fn(ctx, v, "interned strings");
    }
    if (which & PM_ROOTS_FRAMES)
        frame_roots(s, fn, ctx);
}

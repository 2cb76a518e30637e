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

enum { FRAME_SCAN_WORDS = 96, MAX_FRAMES = 100000, MAX_THREADS = 100000 };

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
    g->nodes = c.v;
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

static bool tstate_field(pymac_session *s, const char *path, pm_field *f)
{
    pm_lookup_field(s, "PyThreadState", path, f);
    return f->ok;
}

/* The references of one 3.11+ interpreter frame: its object fields and the
 * live part of localsplus (locals, then the value stack up to stacktop);
 * the slots above stacktop are stale. */
static void frame_words(pymac_session *s, uint64_t f, const char *label, pm_root_fn fn, void *ctx)
{
    static const char *const fields[] = {"f_code", "f_executable", "f_func", "f_funcobj",
                                         "f_globals", "f_builtins", "f_locals", "frame_obj"};
    pm_field fld, localsplus, stacktop;
    uint64_t v, top;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        pm_lookup_field(s, "_PyInterpreterFrame", fields[i], &fld);
        if (fld.ok && pm_read_u64(s, f + (uint64_t)fld.off, &v) && v)
            fn(ctx, v, label);
    }
    pm_lookup_field(s, "_PyInterpreterFrame", "localsplus", &localsplus);
    pm_lookup_field(s, "_PyInterpreterFrame", "stacktop", &stacktop);
    if (!localsplus.ok || !stacktop.ok ||
        !pm_read_field(s, f, &stacktop, &top))
        return;
    top = (uint64_t)(int64_t)(int32_t)top;
    for (uint64_t w = 0; w < top && w < FRAME_SCAN_WORDS * 64; w++)
        if (pm_read_u64(s, f + (uint64_t)localsplus.off + 8 * w, &v) && v && !(v & 7))
            fn(ctx, v, label);
}

/* Each thread's Python frames: frame objects (<= 3.10) are objects and so
 * roots themselves; 3.11+ interpreter frames live on the thread's data stack
 * and are scanned for object pointers. */
static void frame_roots(pymac_session *s, pm_root_fn fn, void *ctx)
{
    static const char *const heads[] = {"threads.head", "tstate_head", NULL};
    uint64_t ts;
    pm_field next, frame, cframe, current;
    if (!interp_member(s, heads, &ts) || !tstate_field(s, "next", &next))
        return;
    bool objects = tstate_field(s, "frame", &frame) && s->rt->minor <= 10;
    bool via_cframe = tstate_field(s, "cframe", &cframe);
    bool direct = tstate_field(s, "current_frame", &current);
    pm_field previous = {0}, cur = {0};
    if (!objects) {
        pm_lookup_field(s, "_PyInterpreterFrame", "previous", &previous);
        if (!previous.ok)
            return;
        if (via_cframe)
            pm_lookup_field(s, "_PyCFrame", "current_frame", &cur);
        if (via_cframe && !cur.ok)
            return;
    }
    char label[64];
    for (int t = 0; ts && t < MAX_THREADS; t++) {
        uint64_t f = 0;
        if (objects) {
            pm_read_u64(s, ts + (uint64_t)frame.off, &f);
            snprintf(label, sizeof label, "thread %d frame", t);
            if (f)
                fn(ctx, f, label);
        } else {
            uint64_t c = 0;
            if (via_cframe) {
                if (pm_read_u64(s, ts + (uint64_t)cframe.off, &c) && c)
                    pm_read_u64(s, c + (uint64_t)cur.off, &f);
            } else if (direct) {
                pm_read_u64(s, ts + (uint64_t)current.off, &f);
            }
            for (int depth = 0; f && depth < MAX_FRAMES; depth++) {
                snprintf(label, sizeof label, "thread %d frame %d", t, depth);
                frame_words(s, f, label, fn, ctx);
                if (!pm_read_u64(s, f + (uint64_t)previous.off, &f))
                    break;
            }
        }
        if (!pm_read_u64(s, ts + (uint64_t)next.off, &ts))
            break;
    }
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

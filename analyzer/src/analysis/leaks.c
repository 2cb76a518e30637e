/* The leak analysis over the reference graph, for `leaks`:
 *  - references to each object: from other objects (decoded by type, or
 *    conservative for types pymac cannot decode) and from memory that is not
 *    an object (static data, stacks, C structures), scanned conservatively,
 *    skipping free glibc malloc memory and chunks that hold a dead object;
 *  - the refcount those must explain (immortal objects, 3.11's statically
 *    allocated ones, and the initial 1 of other static objects before 3.12
 *    explain themselves);
 *  - reachability from the roots as the collector sees them: the named
 *    roots of path, immortal objects, and every object whose refcount
 *    exceeds the references other objects hold.
 * Each node is read once; its referents are decoded once, into CSR edges. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "glibc_heap.h"
#include "heap.h"
#include "layout.h"
#include "leaks.h"
#include "ranges.h"
#include "referents.h"
#include "roots.h"
#include "stack_chunks.h"

#define MAX_SCAN (1ull << 34)
#define RC_IMMORTAL UINT32_MAX /* rc: no refcount to explain */

typedef struct leaks {
    pymac_session *s;
    pm_graph *g;
    uint32_t *incoming;
    uint32_t *exact;    /* of incoming, the references decoded exactly */
    uint32_t *rc;       /* the refcount references must explain; RC_IMMORTAL: none */
    uint32_t *edge_off; /* CSR: node i's referents are edges[edge_off[i] .. edge_off[i+1]) */
    uint32_t *edges;
    size_t nedges, capedges;
    bool no_csr;        /* too many edges for 32-bit offsets: BFS decodes again */
    const pm_heap *h;   /* the allocator (heap/heap.h) */
    uint8_t *reached;
    uint32_t *queue;
    size_t head, tail;
    uint64_t *covered; /* sorted [lo, hi) pairs of container buffers outside pymalloc */
    size_t ncovered, capcovered;
    uint64_t stale;            /* pointers to objects skipped as in free chunks */
    /* where a compact ASCII str's and a bytes object's characters start: C
     * code that holds one keeps a char * to them (inner_owner) */
    uint64_t str_data, bytes_data;
    pm_field str_compact, str_ascii;
    long cur;
    bool nomem;
} leaks;

/* ---- incoming references from objects ---- */

/* A CSR edge found by a conservative scan, until spare_edges decides on it. */
#define EDGE_CONSERVATIVE 0x80000000u

static bool count_edge(void *ctx, uint64_t target, const char *via, bool conservative)
{
    (void)via;
    leaks *l = ctx;
    long i = pm_graph_index(l->g, target);
    if (i < 0)
        return true;
    if (l->incoming[i] < UINT32_MAX)
        l->incoming[i]++;
    if (!conservative && l->exact[i] < UINT32_MAX)
        l->exact[i]++;
    if (l->no_csr)
        return true;
    if (l->nedges == l->capedges) {
        size_t cap = l->capedges ? l->capedges * 2 : 1 << 16;
        uint32_t *e = cap < UINT32_MAX ? realloc(l->edges, cap * sizeof *e) : NULL;
        if (!e) { /* BFS will decode the referents again instead */
            l->no_csr = true;
            free(l->edges);
            l->edges = NULL;
            return true;
        }
        l->edges = e;
        l->capedges = cap;
    }
    l->edges[l->nedges++] = (uint32_t)i | (conservative ? EDGE_CONSERVATIVE : 0);
    return true;
}

/* A word found by a conservative scan (a body pymac cannot decode, a code
 * object's bytecode and caches) is a reference only if the target's refcount
 * leaves room for it: when the exactly decoded references already account
 * for the whole refcount, it is a number that looks like an address, and as
 * an edge it would make the target reachable, or shared, through an object
 * that does not hold it (an int of a list's items "held" by a code object's
 * inline cache on 3.14 was then no longer retained by the list). */
static bool spare(const leaks *l, long t)
{
    return l->rc[t] != RC_IMMORTAL && l->exact[t] >= l->rc[t];
}

/* Drops the spare conservative edges from the CSR, and the marks. */
static void spare_edges(leaks *l, size_t n)
{
    uint32_t w = 0;
    for (size_t v = 0; v < n; v++) {
        uint32_t start = l->edge_off[v], end = l->edge_off[v + 1];
        l->edge_off[v] = w;
        for (uint32_t k = start; k < end; k++) {
            uint32_t e = l->edges[k], t = e & ~EDGE_CONSERVATIVE;
            if ((e & EDGE_CONSERVATIVE) && spare(l, t))
                continue;
            l->edges[w++] = t;
        }
    }
    l->edge_off[n] = w;
    l->nedges = w;
}

/* Is a in memory the non-object scan skips whole, region by region (a
 * pymalloc arena: its blocks are objects and their buffers)? */
static bool in_walked_region(const leaks *l, uint64_t a)
{
    return l->h->regions_walked && pm_heap_region_of(l->h, a) >= 0;
}

static void add_range(leaks *l, uint64_t lo, uint64_t hi)
{
    if (!pm_ranges_push(&l->covered, &l->ncovered, &l->capcovered, lo, hi))
        l->nomem = true;
}

/* Container buffers (item arrays, dict keys and values, set tables) hold
 * the references counted as the container's; outside pymalloc they sit in
 * malloc chunks, which the non-object scan must then skip: a chunk of a
 * walked heap, or an mmapped chunk (M bit; its mapping starts prev_size
 * bytes before it), never a size read from whatever precedes a pointer. */
static void cover(leaks *l, uint64_t p)
{
    uint64_t hdr, pad;
    if (!p || (p & 15))
        return;
    pm_heap_block b;
    if (pm_heap_block_of(l->h, p, &b) && b.used == 1) {
        /* a used block known to be one (a mimalloc page's): the block is the
         * buffer's, to its end (its slack keeps what the block held before) */
        add_range(l, p, b.addr + b.size);
        return;
    }
    uint64_t size = pm_glibc_heap_chunk(&l->g->malloc_heap, p);
    if (!size) {
        if (!pm_read_u64(l->s, p - 8, &hdr) || !(hdr & 2) || !pm_read_u64(l->s, p - 16, &pad))
            return;
        size = hdr & ~(uint64_t)7;
        if (size < 4096 || size > MAX_SCAN || ((p - 16 - pad) & 4095) ||
            !pm_mapped(l->s, p - 16 - pad) || !pm_mapped(l->s, p - 16 + size - 1))
            return;
    }
    add_range(l, p - 16, p - 8 + size); /* the chunk header too */
}

/* Static data: inside a loaded module's address range (its .data, and its
 * .bss, which no mapped file covers). */
static bool is_static(pymac_session *s, uint64_t addr)
{
    return s->dwfl && dwfl_addrmodule(s->dwfl, addr) != NULL;
}

/* An object malloc'd whole (outside pymalloc: a big one, or raw memory) owns
 * its chunk, and the chunk's slack past the object's footprint holds what the
 * chunk held before: stale pointers (a 3,146-byte bytes object on 3.14 kept
 * one to a leaked object in its chunk's last word). Static objects are no
 * chunk's: only a walked chunk is taken for them, never a size read from the
 * static data before them. */
static void cover_own_chunk(leaks *l, uint64_t start)
{
    if (pm_glibc_heap_chunk(&l->g->malloc_heap, start) || !is_static(l->s, start))
        cover(l, start);
}

static void cover_buffers(leaks *l, const pm_object *o, const pm_field *const *fields)
{
    for (; *fields; fields++) {
        uint64_t p;
        if ((*fields)->ok && pm_read_u64(l->s, o->addr + (uint64_t)(*fields)->off, &p))
            cover(l, p);
    }
}

static bool is_covered(const leaks *l, uint64_t addr)
{
    return pm_ranges_contains(l->covered, l->ncovered, addr);
}

/* Objects with refcount 0 are dead: 3.8-3.10 code objects' zombie frames,
 * frames and other objects parked on free lists. An in-use malloc chunk that
 * starts with one holds only stale pointers. */
static void cover_dead_chunks(leaks *l)
{
    const pm_glibc_heap *h = &l->g->malloc_heap;
    uint64_t offsets[] = {0, l->s->layout->gc_head_size};
    for (size_t i = 0; i < h->nchunks; i++) {
        uint64_t p = h->chunks[2 * i], size = h->chunks[2 * i + 1];
        if (pm_glibc_heap_is_free(h, p + 16))
            continue;
        for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
            pm_object o;
            if (pm_object_read(l->s, p + 16 + offsets[k], &o) && !o.refcnt && !o.immortal &&
                o.type->presize == offsets[k] && o.footprint <= size) {
                add_range(l, p + 16, p + size + 8);
                break;
            }
        }
    }
}

/* The compiler's PyArena blocks (Python/pyarena.c: struct _block, a header
 * then ab_size bytes of AST nodes) hold no counted reference: an AST node's
 * object pointers are borrowed, the arena's a_objects list holds them. What
 * they do hold is stale: a node's union keeps what the chunk held past its
 * own variant (a leaked object's address on 3.13 and 3.14). A live block is
 * known by its header: ab_mem right after it, ab_offset within ab_size, and
 * the chunk just big enough for both. */
static void cover_arena_blocks(leaks *l)
{
    pymac_session *s = l->s;
    pm_field f_size, f_offset, f_mem;
    pm_lookup_field(s, "_block", "ab_size", &f_size);
    pm_lookup_field(s, "_block", "ab_offset", &f_offset);
    pm_lookup_field(s, "_block", "ab_mem", &f_mem);
    uint32_t hdr = pm_lookup_size(s, "_block");
    if (!f_size.ok || !f_offset.ok || !f_mem.ok || !hdr)
        return; /* no layout for it (a stripped interpreter): blocks scanned */
    const pm_glibc_heap *h = &l->g->malloc_heap;
    for (size_t i = 0; i < h->nchunks; i++) {
        uint64_t p = h->chunks[2 * i] + 16, size = h->chunks[2 * i + 1];
        uint64_t ab_size, ab_offset, ab_mem;
        if (size < 16 + hdr || pm_glibc_heap_is_free(h, p) ||
            !pm_read_field(s, p, &f_mem, &ab_mem) || ab_mem != p + hdr ||
            !pm_read_field(s, p, &f_size, &ab_size) ||
            !pm_read_field(s, p, &f_offset, &ab_offset) || ab_offset > ab_size ||
            hdr + ab_size > size - 8 || hdr + ab_size + 64 < size - 8)
            continue;
        add_range(l, p, p + size - 8);
    }
}

static void cover_dead_range(void *ctx, uint64_t lo, uint64_t hi)
{
    add_range(ctx, lo, hi);
}

/* ---- references from memory that is not an object ---- */

typedef void (*ext_fn)(leaks *l, long idx);

/* The str or bytes whose characters start at w, or -1. A C extension that
 * holds a str often keeps only what PyUnicode_AsUTF8 gave it: for a compact
 * ASCII str, a pointer into the object (numpy's docstrings: 239 strs on
 * Debian's 3.11 were unexplained for it); PyBytes_AsString likewise. */
static long inner_owner(leaks *l, uint64_t w)
{
    uint64_t v;
    pm_object o;
    if (l->str_data && w > l->str_data) {
        long i = pm_graph_index(l->g, w - l->str_data);
        if (i >= 0 && pm_object_read(l->s, w - l->str_data, &o) &&
            (o.type->flags & PM_TPFLAGS_UNICODE_SUBCLASS) &&
            pm_read_field(l->s, o.addr, &l->str_compact, &v) && v &&
            pm_read_field(l->s, o.addr, &l->str_ascii, &v) && v)
            return i;
    }
    if (l->bytes_data && w > l->bytes_data) {
        long i = pm_graph_index(l->g, w - l->bytes_data);
        if (i >= 0 && pm_object_read(l->s, w - l->bytes_data, &o) &&
            (o.type->flags & PM_TPFLAGS_BYTES_SUBCLASS))
            return i;
    }
    return -1;
}

/* Scans writable memory outside pymalloc arenas, object bodies and the
 * covered ranges (container buffers, free and dead malloc chunks) for
 * pointers to objects. */
static void scan_external(leaks *l, ext_fn fn)
{
    pymac_session *s = l->s;
    size_t nsegs;
    const pm_segment *segs = pm_target_ranges(&s->target, &nsegs);
    uint64_t first = l->g->n ? l->g->nodes[0] : 0, last = l->g->n ? l->g->nodes[l->g->n - 1] : 0;
    for (size_t i = 0; i < nsegs; i++) {
        const pm_segment *sg = &segs[i];
        pm_progress(s, "leaks: references from other memory", i, nsegs);
        if (!(sg->flags & PF_W) || sg->memsz > MAX_SCAN)
            continue; /* read-only memory holds no counted references */
        for (uint64_t a = sg->vaddr; a + 8 <= sg->vaddr + sg->memsz;) {
            /* skip pymalloc arenas and mimalloc's object pages whole: their
             * blocks are objects or buffers */
            uint64_t end = pm_heap_object_span_end(l->h, a);
            if (end) {
                a = end;
                continue;
            }
            unsigned char page[4096];
            uint64_t n = 4096 - (a & 4095);
            if (n > sg->vaddr + sg->memsz - a)
                n = sg->vaddr + sg->memsz - a;
            const unsigned char *v = pm_view(s, a, n, page);
            if (!v) {
                a += n;
                continue;
            }
            for (uint64_t off = 0; off + 8 <= n; off += 8) {
                uint64_t w;
                memcpy(&w, v + off, 8);
                if (w < first || w > last + 64 || (w & 7)) /* + a str's header */
                    continue;
                long idx = pm_graph_index(l->g, w);
                if (idx < 0)
                    idx = inner_owner(l, w);
                if (idx < 0 || is_covered(l, a + off))
                    continue;
                if (pm_glibc_heap_is_free(&l->g->malloc_heap, a + off) ||
                    pm_heap_addr_state(l->h, a + off) == 0) {
                    l->stale++;
                    continue;
                }
                fn(l, idx);
            }
            a += n;
        }
    }
    pm_progress(s, "leaks: references from other memory", nsegs, nsegs);
}

static void ext_count(leaks *l, long idx)
{
    if (l->incoming[idx] < UINT32_MAX)
        l->incoming[idx]++;
}

/* 3.11 has no immortal objects, but its statically allocated ones (deep-
 * frozen code objects and their constants, small ints, single-character
 * strings in _PyRuntime) start with a refcount of 999999999
 * (_PyObject_IMMORTAL_INIT) that no real reference accounts for. */
enum { PY311_STATIC_REFCNT = 999999999 };

static bool effectively_immortal(const leaks *l, const pm_object *o)
{
    return o->immortal || (l->s->rt->minor == 11 && o->refcnt >= PY311_STATIC_REFCNT &&
                           is_static(l->s, o->addr));
}

/* ---- reachability ---- */

static void reach(leaks *l, long idx)
{
    if (idx < 0 || l->reached[idx])
        return;
    l->reached[idx] = 1;
    l->queue[l->tail++] = (uint32_t)idx;
}

static void root_fn(void *ctx, uint64_t target, const char *label)
{
    (void)label;
    leaks *l = ctx;
    reach(l, pm_graph_index(l->g, target));
}

static bool reach_edge(void *ctx, uint64_t target, const char *via, bool conservative)
{
    (void)via;
    leaks *l = ctx;
    long t = pm_graph_index(l->g, target);
    if (t >= 0 && !(conservative && spare(l, t)))
        reach(l, t);
    return true;
}

/* The immortal nodes and the unexplained ones, from the per-node counts
 * (which the caller then frees). */
static bool lists(const leaks *l, pm_leaks *out)
{
    size_t n = l->g->n, ni = 0, nu = 0;
    for (size_t i = 0; i < n; i++) {
        ni += l->rc[i] == RC_IMMORTAL;
        nu += l->rc[i] != RC_IMMORTAL && l->rc[i] > l->incoming[i];
    }
    out->immortal = malloc((ni + 1) * sizeof *out->immortal);
    out->unexplained = malloc((nu + 1) * sizeof *out->unexplained);
    if (!out->immortal || !out->unexplained)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (l->rc[i] == RC_IMMORTAL)
            out->immortal[out->nimmortal++] = (uint32_t)i;
        else if (l->rc[i] > l->incoming[i])
            out->unexplained[out->nunexplained++] =
                (pm_unexplained){(uint32_t)i, l->rc[i] - l->incoming[i]};
    }
    return true;
}

pymac_status pm_leaks_analyze(pymac_session *s, pm_leaks *out, pymac_error *err)
{
    return pm_leaks_analyze_keep(s, out, false, err);
}

pymac_status pm_leaks_analyze_keep(pymac_session *s, pm_leaks *out, bool keep, pymac_error *err)
{
    memset(out, 0, sizeof *out);
    pymac_status st = pm_graph_open(s, &out->g, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_graph *gp = &out->g;
    leaks l = {.s = s, .g = gp};
    l.incoming = calloc(gp->n + 1, sizeof *l.incoming);
    l.exact = calloc(gp->n + 1, sizeof *l.exact);
    l.no_csr = gp->n >= EDGE_CONSERVATIVE; /* node indexes need the mark's bit */
    l.rc = malloc((gp->n + 1) * sizeof *l.rc);
    l.edge_off = malloc((gp->n + 1) * sizeof *l.edge_off);
    l.reached = calloc(gp->n + 1, 1);
    l.queue = malloc((gp->n + 1) * sizeof *l.queue);
    pymac_status hst = pm_heap_get(s, &l.h, err);
    if (hst > PYMAC_PARTIAL) {
        st = hst;
        goto done;
    }
    if (!l.incoming || !l.exact || !l.rc || !l.edge_off || !l.reached || !l.queue) {
        st = pm_nomem(err);
        goto done;
    }
    /* where str and bytes characters start (inner_owner) */
    l.str_data = pm_lookup_size(s, "PyASCIIObject");
    pm_lookup_field(s, "PyASCIIObject", "state.compact", &l.str_compact);
    pm_lookup_field(s, "PyASCIIObject", "state.ascii", &l.str_ascii);
    if (!l.str_compact.ok || !l.str_ascii.ok)
        l.str_data = 0;
    pm_field sval;
    pm_lookup_field(s, "PyBytesObject", "ob_sval", &sval);
    l.bytes_data = sval.ok ? (uint64_t)sval.off : 0;
    /* buffers of containers, so that the non-object scan skips them */
    pm_field list_items = {0}, ma_keys = {0}, ma_values = {0}, set_table = {0};
    pm_lookup_field(s, "PyListObject", "ob_item", &list_items);
    pm_lookup_field(s, "PyDictObject", "ma_keys", &ma_keys);
    pm_lookup_field(s, "PyDictObject", "ma_values", &ma_values);
    pm_lookup_field(s, "PySetObject", "table", &set_table);
    const pm_field *list_buf[] = {&list_items, NULL}, *dict_buf[] = {&ma_keys, &ma_values, NULL},
                   *set_buf[] = {&set_table, NULL};
    uint64_t set_type = pm_symbol_lookup(s, "PySet_Type", NULL).addr;
    uint64_t frozenset_type = pm_symbol_lookup(s, "PyFrozenSet_Type", NULL).addr;
    uint64_t static_type_size = pm_lookup_size(s, "PyTypeObject");
    /* One pass over the nodes: each read once, its referents decoded once
     * into CSR edges, its refcount kept as what references must explain. */
    for (size_t i = 0; i < gp->n; i++) {
        pm_object o;
        if ((i & 16383) == 0)
            pm_progress(s, "leaks: references between objects", i, gp->n);
        l.edge_off[i] = (uint32_t)l.nedges;
        l.rc[i] = 0;
        if (!pm_object_read(s, gp->nodes[i], &o))
            continue;
        if (effectively_immortal(&l, &o)) {
            l.rc[i] = RC_IMMORTAL;
        } else {
            uint64_t rc = o.refcnt - pm_object_deferred_refs(&o);
            if (rc && s->rt->minor <= 11 && is_static(s, o.addr))
                rc--; /* a static object's initial 1 is its definition */
            l.rc[i] = rc < RC_IMMORTAL ? (uint32_t)rc : RC_IMMORTAL - 1;
        }
        pm_referents_ex(s, &o, count_edge, &l, 0, PM_REFS_EXACT | PM_REFS_NO_LABELS);
        if (!l.no_csr && l.nedges >= UINT32_MAX) {
            l.no_csr = true;
            free(l.edges);
            l.edges = NULL;
        }
        if (in_walked_region(&l, o.addr))
            continue; /* arenas are skipped whole by the non-object scan */
        uint64_t tf = o.type->flags;
        if (tf & PM_TPFLAGS_LIST_SUBCLASS)
            cover_buffers(&l, &o, list_buf);
        else if (tf & PM_TPFLAGS_DICT_SUBCLASS)
            cover_buffers(&l, &o, dict_buf);
        else if (o.type->addr == set_type || o.type->addr == frozenset_type)
            cover_buffers(&l, &o, set_buf);
        /* an object's own body is not external memory (a static type is a
         * PyTypeObject, not the metatype's heap-type size: what follows it
         * is other static data) */
        uint64_t body = o.footprint;
        if ((tf & PM_TPFLAGS_TYPE_SUBCLASS) && static_type_size) {
            const pm_type *self = pm_type_get(s, o.addr);
            if (self && !(self->flags & PM_TPFLAGS_HEAPTYPE) && body > static_type_size)
                body = static_type_size;
        }
        add_range(&l, o.addr - o.type->presize, o.addr + body);
        cover_own_chunk(&l, o.addr - o.type->presize);
    }
    l.edge_off[gp->n] = (uint32_t)l.nedges;
    if (!l.no_csr)
        spare_edges(&l, gp->n);
    pm_progress(s, "leaks: references between objects", gp->n, gp->n);
    if (l.nomem) {
        st = pm_nomem(err);
        goto done;
    }
    /* chunks that hold a dead object, and the compiler's arena blocks */
    cover_dead_chunks(&l);
    cover_arena_blocks(&l);
    if (l.nomem) {
        st = pm_nomem(err);
        goto done;
    }
    /* the threads' data stacks past their tops and above each frame's stack
     * pointer: stale slots of returned frames */
    pm_datastack_dead(s, cover_dead_range, &l);
    pm_cstack_dead(s, cover_dead_range, &l); /* and the C stacks below their pointers */
    pm_stack_chunks_parked(s, cover_dead_range, &l); /* the collector's spare work stacks */
    if (l.nomem) {
        st = pm_nomem(err);
        goto done;
    }
    /* the ranges may overlap (a buffer inside a dead chunk) */
    l.ncovered = pm_ranges_normalize(l.covered, l.ncovered);
    /* Roots, as the collector sees them: the named ones, immortal objects,
     * and every object whose refcount exceeds the references other objects
     * hold (something outside the heap holds it). Pointers found in
     * non-object memory are not roots: freed memory keeps stale ones. */
    pm_roots_walk(s, PM_ROOTS_ALL, root_fn, &l);
    for (size_t i = 0; i < gp->n; i++)
        if (l.rc[i] > l.incoming[i])
            reach(&l, (long)i);
    scan_external(&l, ext_count);
    while (l.head < l.tail) {
        l.cur = l.queue[l.head++];
        if (!l.no_csr) {
            for (uint32_t k = l.edge_off[l.cur]; k < l.edge_off[l.cur + 1]; k++)
                reach(&l, l.edges[k]);
            continue;
        }
        pm_object o;
        if (pm_object_read(s, gp->nodes[l.cur], &o))
            pm_referents_ex(s, &o, reach_edge, &l, 0, PM_REFS_EXACT | PM_REFS_NO_LABELS);
    }
    if (!lists(&l, out)) {
        st = pm_nomem(err);
        goto done;
    }
    pm_glibc_heap_drop_chunks(&gp->malloc_heap); /* no chunk is asked about again */
    out->reached = l.reached;
    out->stale = l.stale;
    out->edges = l.nedges;
    l.reached = NULL;
    if (keep && !l.no_csr) {
        /* the edges grew by doubling: give back what they did not fill */
        uint32_t *fit = l.nedges ? realloc(l.edges, l.nedges * sizeof *fit) : NULL;
        out->edge_off = l.edge_off;
        out->edge_to = fit ? fit : l.edges;
        l.edge_off = NULL;
        l.edges = NULL;
    }
done:
    free(l.incoming);
    free(l.exact);
    free(l.rc);
    free(l.edge_off);
    free(l.edges);
    free(l.reached);
    free(l.queue);
    free(l.covered);
    if (st > PYMAC_PARTIAL)
        pm_leaks_free(out);
    return st;
}

void pm_leaks_free(pm_leaks *lk)
{
    free(lk->immortal);
    free(lk->unexplained);
    free(lk->reached);
    free(lk->edge_off);
    free(lk->edge_to);
    pm_graph_close(&lk->g);
    memset(lk, 0, sizeof *lk);
}

uint64_t pm_leaks_garbage_bytes(const pm_leaks *lk, uint32_t i)
{
    if (!lk->garbage_bytes)
        return 0;
    size_t k = pm_lower_bound_u32(lk->garbage_nodes, lk->ngarbage, i);
    return k < lk->ngarbage && lk->garbage_nodes[k] == i ? lk->garbage_bytes[k] : 0;
}

/* The session's mimalloc walk, cached, and the questions the views ask of
 * it: what holds an address, the main thread, the names printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "mimalloc.h"
#include "symbols.h"

struct pm_mi_session {
    pm_mi_layout L;
    bool have_layout;
    pm_mi_walk walk;
    bool walked;
    pymac_status walk_status;
    size_t last; /* the page the last lookup found: scans ask about neighbours */
};

/* pm_mi_page_of, trying the page of the previous question first. */
static const pm_mi_page *page_near(struct pm_mi_session *m, uint64_t addr)
{
    const pm_mi_walk *w = &m->walk;
    if (m->last < w->npages) {
        const pm_mi_page *p = &w->pages[m->last];
        if (addr >= p->start && addr - p->start < p->area)
            return p;
    }
    const pm_mi_page *p = pm_mi_page_of(w, addr);
    if (p)
        m->last = (size_t)(p - w->pages);
    return p;
}

const char *pm_mi_heap_name(unsigned kind)
{
    static const char *const names[PM_MI_HEAP_KINDS] = {"mem", "object", "gc", "gc_pre"};
    return kind < PM_MI_HEAP_KINDS ? names[kind] : "?";
}

static struct pm_mi_session *session_state(pymac_session *s)
{
    if (!s->mimalloc)
        s->mimalloc = calloc(1, sizeof *s->mimalloc);
    return s->mimalloc;
}

bool pm_mi_session_set_layout(pymac_session *s, const pm_mi_layout *L)
{
    struct pm_mi_session *m = session_state(s);
    if (!m)
        return false;
    m->L = *L;
    m->have_layout = true;
    return true;
}

pymac_status pm_mi_session_walk(pymac_session *s, const pm_mi_walk **out, pymac_error *err)
{
    struct pm_mi_session *m = session_state(s);
    if (!m)
        return pm_nomem(err);
    if (!m->have_layout) {
        char buf[160];
        const char *missing;
        if (!pm_mi_layout_resolve(s, &m->L, buf, sizeof buf, &missing))
            return pm_fail(err, PYMAC_E_UNSUPPORTED,
                           "the debug info found does not match this CPython build; pass the "
                           "right one with --debug-dir",
                           "DWARF of %s (free-threaded CPython %s) lacks %s",
                           s->python.debug_path ? s->python.debug_path : "the interpreter",
                           s->rt->version, missing);
        m->have_layout = true;
    }
    if (!m->walked) {
        pymac_status st = pm_mi_walk_heaps(s, &m->L, &m->walk, err);
        if (st > PYMAC_PARTIAL)
            return st;
        m->walked = true;
        m->walk_status = st;
    }
    *out = &m->walk;
    return m->walk_status;
}

void pm_mi_session_drop(pymac_session *s)
{
    if (s->mimalloc && s->mimalloc->walked) {
        pm_mi_walk_free(&s->mimalloc->walk);
        s->mimalloc->walked = false;
    }
}

void pm_mi_session_free(pymac_session *s)
{
    pm_mi_session_drop(s);
    free(s->mimalloc);
    s->mimalloc = NULL;
}

/* Is addr in a used block (1) or a free one (0) of the page *pp holding it,
 * or unknown (-1: no page, *pp NULL; a page whose free lists broke)? */
static int block_state(pymac_session *s, const pm_mi_walk *w, uint64_t addr,
                       const pm_mi_page **pp)
{
    const pm_mi_page *p = *pp = page_near(s->mimalloc, addr);
    if (!p || p->bad || !p->block_size)
        return -1;
    uint64_t b = (addr - p->start) / p->block_size;
    return b < p->capacity && !pm_mi_block_free(w, p, (uint32_t)b);
}

int pm_mi_addr_state(pymac_session *s, uint64_t addr)
{
    const pm_mi_walk *w;
    const pm_mi_page *p;
    if (pm_mi_session_walk(s, &w, NULL) > PYMAC_PARTIAL)
        return -1;
    return block_state(s, w, addr, &p);
}

uint64_t pm_mi_object_page_end(pymac_session *s, uint64_t addr)
{
    const pm_mi_walk *w;
    if (pm_mi_session_walk(s, &w, NULL) > PYMAC_PARTIAL)
        return 0;
    const pm_mi_page *p = page_near(s->mimalloc, addr);
    if (!p || p->bad || p->kind == PM_MI_HEAP_MEM)
        return 0;
    return p->start + p->area;
}

int pm_mi_addr_live(pymac_session *s, uint64_t addr)
{
    const pm_mi_walk *w;
    const pm_mi_page *p;
    if (pm_mi_session_walk(s, &w, NULL) > PYMAC_PARTIAL)
        return -1;
    int st = block_state(s, w, addr, &p);
    if (st >= 0 || p)
        return st; /* a broken page's blocks are scanned as live */
    return pm_mi_segment_of(w, addr) ? 0 : -1;
}

const char *pm_mi_shared_flags(int64_t ref_shared)
{
    /* _Py_REF_SHARED_INIT, _Py_REF_MAYBE_WEAKREF, _Py_REF_QUEUED, _Py_REF_MERGED */
    static const char *const names[4] = {"none", "maybe weakref", "queued", "merged"};
    return names[(uint64_t)ref_shared & 3];
}

const pm_mi_layout *pm_mi_session_layout(pymac_session *s)
{
    return s->mimalloc && s->mimalloc->have_layout ? &s->mimalloc->L : NULL;
}

enum { MAX_DATA_SEGMENTS = 4, MAX_DATA_BYTES = 64 << 20 };

/* The word at addr of a segment copy [lo, lo + len), or 0 outside it. */
static uint64_t word_at(const unsigned char *copy, uint64_t lo, size_t len, uint64_t addr)
{
    uint64_t v = 0;
    if (addr >= lo && addr - lo <= len - 8 && len >= 8)
        memcpy(&v, copy + (addr - lo), 8);
    return v;
}

/* Is heap one of a thread state's own heaps (_PyThreadStateImpl.mimalloc)? */
static bool thread_heap(const pm_mi_layout *L, const pm_mi_walk *w, uint64_t heap)
{
    for (size_t i = 0; i < w->nthreads; i++) {
        uint64_t first = w->threads[i].tstate + (uint64_t)L->tsi_heaps.off;
        if (heap >= first && heap - first < L->nheaps * L->heap_size)
            return true;
    }
    return false;
}

/* Without symbols: mimalloc's static main heap and its static thread-local
 * data point at each other (_mi_heap_main.tld = &tld_main, tld_main.
 * heap_backing = &_mi_heap_main, mimalloc/src/init.c), both in the
 * interpreter's writable data. So do a thread state's heaps and its tld
 * (_PyThreadStateImpl.mimalloc), and the main thread's state is static
 * too (in _PyRuntime): the walk's threads rule those out. Every other pair
 * of words there that points both ways is a candidate; one is the answer,
 * none or several is no answer. */
static uint64_t main_heap_by_data(pymac_session *s, const pm_mi_layout *L, const pm_mi_walk *w)
{
    uint64_t seg[2 * MAX_DATA_SEGMENTS];
    size_t nseg = pm_module_writable(s, seg, MAX_DATA_SEGMENTS);
    uint64_t found = 0;
    unsigned nfound = 0;
    for (size_t i = 0; i < nseg && nfound < 2; i++) {
        uint64_t lo = seg[2 * i], len = seg[2 * i + 1] - lo;
        if (len > MAX_DATA_BYTES)
            continue;
        unsigned char *copy = calloc(1, len ? len : 1);
        if (!copy)
            return 0;
        for (uint64_t off = 0; off < len; off += 4096) { /* pages a core lacks stay zero */
            uint64_t n = len - off < 4096 ? len - off : 4096;
            if (!pm_read(s, lo + off, copy + off, n))
                memset(copy + off, 0, n);
        }
        for (uint64_t tld = lo; tld + 8 <= lo + len && nfound < 2; tld += 8) {
            uint64_t heap = word_at(copy, lo, len, tld + (uint64_t)L->tld_heap_backing.off);
            if (heap && heap % 8 == 0 &&
                word_at(copy, lo, len, heap + (uint64_t)L->heap_tld.off) == tld &&
                heap != found && !thread_heap(L, w, heap)) {
                found = heap;
                nfound++;
            }
        }
        free(copy);
    }
    return nfound == 1 ? found : 0;
}

uint64_t pm_mi_main_heap(pymac_session *s, const pm_mi_layout *L, const pm_mi_walk *w)
{
    pm_symbol sym = pm_symbol_lookup(s, "_mi_heap_main", NULL);
    if (sym.found)
        return sym.addr;
    if (!L || !w || !L->heap_tld.ok || !L->tld_heap_backing.ok || L->heap_tld.size != 8 ||
        L->tld_heap_backing.size != 8)
        return 0;
    return main_heap_by_data(s, L, w);
}

bool pm_mi_describe(pymac_session *s, uint64_t addr, char *buf, size_t cap)
{
    const pm_mi_walk *w;
    if (pm_mi_session_walk(s, &w, NULL) > PYMAC_PARTIAL)
        return false;
    const pm_mi_page *p = pm_mi_page_of(w, addr);
    if (!p || !p->block_size)
        return false;
    uint64_t b = (addr - p->start) / p->block_size;
    snprintf(buf, cap, "mimalloc segment 0x%llx%s, page 0x%llx (%s heap, %llu-byte blocks), "
             "block 0x%llx%s",
             (unsigned long long)p->segment, p->abandoned ? " (abandoned)" : "",
             (unsigned long long)p->addr, pm_mi_heap_name(p->kind),
             (unsigned long long)p->block_size, (unsigned long long)(p->start + b * p->block_size),
             b < p->capacity && !p->bad && !pm_mi_block_free(w, p, (uint32_t)b) ? "" : " (FREE)");
    return true;
}

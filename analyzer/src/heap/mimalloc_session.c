/* The session's mimalloc walk, cached, and the questions the views ask of
 * it: what holds an address, the main thread, the names printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "mimalloc.h"

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
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
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

uint64_t pm_mi_main_tstate(pymac_session *s)
{
    pm_field main_thread, thread_id, head, next;
    pm_lookup_field(s, "_PyRuntimeState", "main_thread", &main_thread);
    pm_lookup_field(s, "PyThreadState", "thread_id", &thread_id);
    pm_lookup_field(s, "PyInterpreterState", "threads.head", &head);
    pm_lookup_field(s, "PyThreadState", "next", &next);
    uint64_t want, ts, id;
    if (!main_thread.ok || !thread_id.ok || !head.ok || !next.ok ||
        !pm_read_uint(s, s->rt->runtime_addr + (uint64_t)main_thread.off, 8, &want) ||
        !pm_read_u64(s, s->rt->main_interp + (uint64_t)head.off, &ts))
        return 0;
    for (unsigned n = 0; ts && n < PM_MI_MAX_THREADS; n++) {
        if (!pm_read_uint(s, ts + (uint64_t)thread_id.off, 8, &id))
            return 0;
        if (id == want)
            return ts;
        if (!pm_read_u64(s, ts + (uint64_t)next.off, &ts))
            return 0;
    }
    return 0;
}

uint64_t pm_mi_block_rest(pymac_session *s, uint64_t addr)
{
    const pm_mi_walk *w;
    if (pm_mi_session_walk(s, &w, NULL) > PYMAC_PARTIAL)
        return 0;
    const pm_mi_page *p;
    if (block_state(s, w, addr, &p) != 1)
        return 0;
    uint64_t b = (addr - p->start) / p->block_size;
    return p->start + (b + 1) * p->block_size - addr;
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

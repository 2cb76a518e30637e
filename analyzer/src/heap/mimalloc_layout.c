/* The mimalloc walk's layout, from DWARF by member name (see mimalloc.h). */
#include <stdio.h>
#include <string.h>

#include "layout.h"
#include "mimalloc.h"

typedef struct resolver {
    pymac_session *s;
    char *buf;
    size_t cap;
    const char **missing;
} resolver;

static bool type_of(resolver *r, const char *name)
{
    if (pm_lookup_type(r->s, name))
        return true;
    if (!*r->missing) {
        snprintf(r->buf, r->cap, "type %s", name);
        *r->missing = r->buf;
    }
    return false;
}

static void member(resolver *r, const char *tname, const char *path, pm_field *f)
{
    pm_lookup_field(r->s, tname, path, f);
    if (f->ok)
        return;
    if (!*r->missing) {
        snprintf(r->buf, r->cap, "%s.%s", tname, path);
        *r->missing = r->buf;
    }
}

/* The element count (and size) of the array member tname.path. */
static uint64_t array_len(resolver *r, const char *tname, const char *path, const pm_field *f,
                          uint32_t *elem_size)
{
    uint64_t esz = 0, n = 0;
    if (f->ok && pm_lookup_array(r->s, tname, path, &esz, &n) && n && esz)
        return (elem_size ? (void)(*elem_size = (uint32_t)esz) : (void)0), n;
    if (!*r->missing) {
        snprintf(r->buf, r->cap, "%s.%s[]", tname, path);
        *r->missing = r->buf;
    }
    return 0;
}

static uint32_t size_of(resolver *r, const char *tname)
{
    uint32_t n = pm_lookup_size(r->s, tname);
    if (n)
        return n;
    if (!*r->missing) {
        snprintf(r->buf, r->cap, "sizeof(%s)", tname);
        *r->missing = r->buf;
    }
    return 0;
}

bool pm_mi_layout_resolve(pymac_session *s, pm_mi_layout *L, char *buf, size_t cap,
                          const char **missing)
{
    memset(L, 0, sizeof *L);
    *missing = NULL;
    resolver r = {.s = s, .buf = buf, .cap = cap, .missing = missing};
    if (type_of(&r, "PyInterpreterState")) {
        member(&r, "PyInterpreterState", "threads.head", &L->interp_threads_head);
        member(&r, "PyInterpreterState", "mimalloc.abandoned_pool.abandoned",
               &L->interp_abandoned);
        member(&r, "PyInterpreterState", "mimalloc.abandoned_pool.abandoned_visited",
               &L->interp_abandoned_visited);
    }
    if (type_of(&r, "PyThreadState")) {
        member(&r, "PyThreadState", "next", &L->ts_next);
        member(&r, "PyThreadState", "native_thread_id", &L->ts_native_thread_id);
    }
    if (type_of(&r, "_PyThreadStateImpl")) {
        member(&r, "_PyThreadStateImpl", "mimalloc.heaps", &L->tsi_heaps);
        member(&r, "_PyThreadStateImpl", "mimalloc.initialized", &L->tsi_initialized);
        L->nheaps = array_len(&r, "_PyThreadStateImpl", "mimalloc.heaps", &L->tsi_heaps, NULL);
    }
    if (type_of(&r, "mi_heap_t")) {
        L->heap_size = size_of(&r, "mi_heap_t");
        member(&r, "mi_heap_t", "pages", &L->heap_pages);
        member(&r, "mi_heap_t", "thread_delayed_free", &L->heap_delayed_free);
        member(&r, "mi_heap_t", "thread_id", &L->heap_thread_id);
        member(&r, "mi_heap_t", "keys", &L->heap_keys);
        L->nqueues = array_len(&r, "mi_heap_t", "pages", &L->heap_pages, &L->queue_size);
        pm_lookup_field(s, "mi_heap_t", "tld", &L->heap_tld);
        pm_lookup_field(s, "mi_tld_t", "heap_backing", &L->tld_heap_backing);
    }
    if (type_of(&r, "mi_page_queue_t"))
        member(&r, "mi_page_queue_t", "first", &L->pq_first);
    if (type_of(&r, "mi_page_t")) {
        L->page_size = size_of(&r, "mi_page_t");
        member(&r, "mi_page_t", "slice_count", &L->pg_slice_count);
        member(&r, "mi_page_t", "slice_offset", &L->pg_slice_offset);
        member(&r, "mi_page_t", "tag", &L->pg_tag);
        member(&r, "mi_page_t", "capacity", &L->pg_capacity);
        member(&r, "mi_page_t", "reserved", &L->pg_reserved);
        member(&r, "mi_page_t", "free", &L->pg_free);
        member(&r, "mi_page_t", "used", &L->pg_used);
        member(&r, "mi_page_t", "xblock_size", &L->pg_xblock_size);
        member(&r, "mi_page_t", "local_free", &L->pg_local_free);
        member(&r, "mi_page_t", "xthread_free", &L->pg_xthread_free);
        member(&r, "mi_page_t", "next", &L->pg_next);
        /* MI_ENCODE_FREELIST (debug or secure builds) adds keys[2] */
        pm_lookup_field(s, "mi_page_t", "keys", &L->pg_keys);
    }
    if (type_of(&r, "mi_segment_t")) {
        member(&r, "mi_segment_t", "segment_size", &L->sg_segment_size);
        member(&r, "mi_segment_t", "segment_slices", &L->sg_segment_slices);
        member(&r, "mi_segment_t", "slice_entries", &L->sg_slice_entries);
        member(&r, "mi_segment_t", "thread_id", &L->sg_thread_id);
        member(&r, "mi_segment_t", "abandoned_next", &L->sg_abandoned_next);
        member(&r, "mi_segment_t", "used", &L->sg_used);
        member(&r, "mi_segment_t", "slices", &L->sg_slices);
        L->max_slices = array_len(&r, "mi_segment_t", "slices", &L->sg_slices, NULL);
    }
    if (!*missing && (L->max_slices < 2 || L->page_size == 0 || L->queue_size == 0)) {
        snprintf(buf, cap, "a plausible mi_segment_t/mi_page_t geometry");
        *missing = buf;
    }
    return *missing == NULL;
}

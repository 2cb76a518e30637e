/* sys._debugmallocstats() of a free-threaded CPython: py_mimalloc_print_stats
 * (Objects/obmalloc.c) and then the calling thread's free lists.
 *
 * The thresholds are mimalloc's macros, which DWARF lacks; they follow from
 * the geometry the walk found (mimalloc/types.h): MI_BIN_HUGE is the page
 * queue count less two (pages[MI_BIN_FULL + 1], MI_BIN_FULL = MI_BIN_HUGE +
 * 1), small pages are one slice and take objects up to a quarter of it,
 * medium pages 8 slices (MI_MEDIUM_PAGE_SHIFT = 3 + MI_SMALL_PAGE_SHIFT),
 * large objects up to half a segment. The "Allocated" figures are those of
 * mimalloc's default heap of the calling thread: for the main thread
 * mimalloc's own _mi_heap_main, which CPython does not allocate from (so
 * they are zero in practice; reproduced, not improved on), found by its
 * symbol or, stripped, in the interpreter's data (pm_mi_main_heap). */
#include <stdio.h>
#include <string.h>

#include "freelists.h"
#include "layout.h"
#include "mallocstats.h"
#include "mimalloc.h"
#include "render_stats_ft.h"

typedef struct heap_stats {
    uint64_t blocks, bytes, overhead, reserved, committed;
} heap_stats;

/* _collect_alloc_stats over the areas of the heap at addr, each area as
 * _mi_heap_area_init makes it (after collecting the thread-free list). */
static bool default_heap_stats(pymac_session *s, const pm_mi_layout *L, uint64_t heap,
                               heap_stats *out)
{
    memset(out, 0, sizeof *out);
    uint64_t bound = s->target.space_bytes / 4096 + 1;
    for (uint64_t q = 0; q < L->nqueues; q++) {
        uint64_t page;
        if (!pm_read_uint(s, heap + (uint64_t)L->heap_pages.off + q * L->queue_size +
                                 (uint64_t)L->pq_first.off, 8, &page))
            return false;
        for (uint64_t n = 0; page; n++) {
            uint64_t used, cap, res, bs, tf;
            if (n > bound || !pm_read_uint(s, page + (uint64_t)L->pg_used.off, L->pg_used.size, &used) ||
                !pm_read_uint(s, page + (uint64_t)L->pg_capacity.off, L->pg_capacity.size, &cap) ||
                !pm_read_uint(s, page + (uint64_t)L->pg_reserved.off, L->pg_reserved.size, &res) ||
                !pm_read_uint(s, page + (uint64_t)L->pg_xblock_size.off, L->pg_xblock_size.size, &bs) ||
                !pm_read_uint(s, page + (uint64_t)L->pg_xthread_free.off, 8, &tf))
                return false;
            uint64_t nthread = 0; /* the thread-free list, bounded by the page's blocks */
            for (uint64_t b = tf & ~3ull; b && nthread <= cap; nthread++)
                if (!pm_read_u64(s, b, &b))
                    return false;
            if (nthread > used)
                return false;
            used -= nthread;
            out->blocks += used;
            out->bytes += used * bs;
            out->overhead += used * bs;
            out->reserved += res * bs;
            out->committed += cap * bs;
            if (!pm_read_uint(s, page + (uint64_t)L->pg_next.off, 8, &page))
                return false;
        }
    }
    return true;
}

pymac_status pm_ft_render_stats(pymac_session *s, FILE *out, pymac_error *err)
{
    const pm_mi_walk *w;
    pymac_status st = pm_mi_session_walk(s, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    const pm_mi_layout *L = pm_mi_session_layout(s);
    pm_freelist_stat fl[64];
    size_t nfl;
    pymac_status fst = pm_freelist_stats(s, fl, sizeof fl / sizeof fl[0], &nfl, err);
    if (fst)
        return pm_explain_truncation(s, fst, false, err);
    uint64_t main_heap = pm_mi_main_heap(s, L, w);
    heap_stats hs;
    if (!L || !w->slice_size || L->nqueues < 3 || !main_heap ||
        !default_heap_stats(s, L, main_heap, &hs))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL,
                       "cannot rebuild the mimalloc statistics of CPython %s (no segment geometry "
                       "or no _mi_heap_main)", s->rt->version);
    fprintf(out, "Small block threshold = %llu, in %llu size classes.\n",
            (unsigned long long)(w->slice_size / 4), (unsigned long long)(L->nqueues - 2));
    fprintf(out, "Medium block threshold = %llu\n", (unsigned long long)(w->slice_size * 8 / 4));
    fprintf(out, "Large object max size = %llu\n", (unsigned long long)(w->seg_align / 2));
    fprintf(out, "    Allocated Blocks: %llu\n", (unsigned long long)hs.blocks);
    fprintf(out, "    Allocated Bytes: %llu\n", (unsigned long long)hs.bytes);
    fprintf(out, "    Allocated Bytes w/ Overhead: %llu\n", (unsigned long long)hs.overhead);
    fprintf(out, "    Bytes Reserved: %llu\n", (unsigned long long)hs.reserved);
    fprintf(out, "    Bytes Committed: %llu\n", (unsigned long long)hs.committed);
    /* sys._debugmallocstats() then prints a blank line and the type stats. */
    fputc('\n', out);
    for (size_t i = 0; i < nfl; i++)
        pm_print_freelist(out, &fl[i]);
    return st;
}

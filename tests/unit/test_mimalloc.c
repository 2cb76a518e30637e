/* The mimalloc walk (free-threaded CPython) on a hand-made image: one
 * thread whose GC and object heaps hold a page each, in a segment of its
 * own, and an abandoned segment (a thread that has exited) whose page is
 * found by its slices. The layout is written here, not read from DWARF:
 * small segments (8 slices of 8 KiB) so the image stays small. Every block
 * state is known by construction; the damaged variants (a looping free
 * list, a block size no page can have, a wild thread-free pointer, a page
 * queue that loops) must be reported, and the rest still counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "heap.h"
#include "mi_image.h"
#include "object.h"
#include "unit.h"

static bool warned(const pymac_session *s, const char *what)
{
    for (size_t i = 0; i < pymac_warning_count(s); i++)
        if (strstr(pymac_warning(s, i), what))
            return true;
    return false;
}

static const pm_mi_page *find_page(const pm_mi_walk *w, uint64_t addr)
{
    for (size_t i = 0; i < w->npages; i++)
        if (w->pages[i].addr == addr)
            return &w->pages[i];
    return NULL;
}

static void test_pages_and_free_lists(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const pm_mi_walk *w;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_mi_session_walk(&y->s, &w, &err), PYMAC_OK);
    CU_ASSERT_EQUAL(w->slice_size, SLICE);
    CU_ASSERT_EQUAL(w->seg_align, 8 * SLICE);
    CU_ASSERT_EQUAL_FATAL(w->nthreads, 1);
    CU_ASSERT_EQUAL(w->threads[0].native_id, 4242);
    CU_ASSERT_EQUAL(w->threads[0].mi_thread_id, MI_TID);
    CU_ASSERT_EQUAL(w->threads[0].pages, 2);
    CU_ASSERT_EQUAL(w->npages, 3);
    CU_ASSERT_EQUAL_FATAL(w->nsegs, 2);
    CU_ASSERT_EQUAL(w->segs[0].addr, SEG1);
    CU_ASSERT_EQUAL(w->segs[0].thread, 0);
    CU_ASSERT_FALSE(w->segs[0].abandoned);
    CU_ASSERT_EQUAL(w->segs[1].addr, SEG2);
    CU_ASSERT_TRUE(w->segs[1].abandoned);
    CU_ASSERT_EQUAL(w->segs[1].thread, PM_MI_NO_THREAD);
    CU_ASSERT_EQUAL(w->abandoned_segments, 1);

    const pm_mi_page *p = find_page(w, PAGE_AT(SEG1, 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->kind, PM_MI_HEAP_GC);
    CU_ASSERT_EQUAL(p->start, SEG1 + SLICE + 3 * 64);
    CU_ASSERT_EQUAL(p->block_size, 64);
    CU_ASSERT_EQUAL(p->capacity, 10);
    CU_ASSERT_EQUAL(p->nfree, 2);
    CU_ASSERT_EQUAL(p->nlocal, 1);
    CU_ASSERT_EQUAL(p->nthread, 1);
    CU_ASSERT_EQUAL(p->ndelayed, 1);
    CU_ASSERT_EQUAL(p->live, 5);
    CU_ASSERT_EQUAL(p->delayed_flag, 1);
    CU_ASSERT_FALSE(p->bad);
    static const bool is_free[10] = {0, 0, 1, 0, 0, 1, 0, 1, 1, 1};
    for (uint32_t b = 0; b < 10; b++)
        CU_ASSERT_EQUAL(pm_mi_block_free(w, p, b), is_free[b]);
    CU_ASSERT_PTR_EQUAL(pm_mi_page_of(w, block_at(SEG1, 1, 64, 6) + 5), p);
    CU_ASSERT_EQUAL(pm_mi_addr_state(&y->s, block_at(SEG1, 1, 64, 6) + 5), 1);
    CU_ASSERT_EQUAL(pm_mi_addr_state(&y->s, block_at(SEG1, 1, 64, 8)), 0); /* delayed free */
    CU_ASSERT_EQUAL(pm_mi_addr_state(&y->s, SEG1 + SLICE), -1); /* before the first block */
    /* what the leak scan may read: used blocks only, inside a walked segment */
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, block_at(SEG1, 1, 64, 6) + 5), 1);
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, block_at(SEG1, 1, 64, 8)), 0);
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, block_at(SEG1, 1, 64, 9) + 64), 0); /* past capacity */
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, SEG1 + SLICE), 0);  /* room before the first block */
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, SEG1 + 8), 0);      /* the segment's header */
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, SEG2 + 8), 0);      /* an abandoned one's */
    CU_ASSERT_EQUAL(pm_mi_addr_live(&y->s, SEG1 - 8), -1);     /* no segment */
    CU_ASSERT_PTR_EQUAL(pm_mi_segment_of(w, SEG1 + 8 * SLICE - 8), &w->segs[0]);
    CU_ASSERT_PTR_EQUAL(pm_mi_segment_of(w, SEG1 + 8 * SLICE), &w->segs[1]); /* SEG2 */
    CU_ASSERT_PTR_NULL(pm_mi_segment_of(w, SEG2 + 8 * SLICE));
    /* the block holding an address, through the allocator interface: a used
     * one to its end (56 bytes from +8), a free one known as free */
    const pm_heap *heap;
    CU_ASSERT_EQUAL_FATAL(pm_heap_get(&y->s, &heap, NULL), PYMAC_OK);
    pm_heap_block b;
    CU_ASSERT_TRUE(pm_heap_block_of(heap, block_at(SEG1, 1, 64, 6) + 8, &b));
    CU_ASSERT_EQUAL(b.used, 1);
    CU_ASSERT_EQUAL(b.addr + b.size - (block_at(SEG1, 1, 64, 6) + 8), 56);
    CU_ASSERT_TRUE(pm_heap_block_of(heap, block_at(SEG1, 1, 64, 7) + 8, &b));
    CU_ASSERT_EQUAL(b.used, 0);

    p = find_page(w, PAGE_AT(SEG1, 2));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->kind, PM_MI_HEAP_OBJECT);
    CU_ASSERT_EQUAL(p->live, 2);
    CU_ASSERT_EQUAL(p->start, SEG1 + 2 * SLICE); /* blocks over 512 bytes start at once */

    p = find_page(w, PAGE_AT(SEG2, 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->kind, PM_MI_HEAP_GC_PRE);
    CU_ASSERT_TRUE(p->abandoned);
    CU_ASSERT_EQUAL(p->thread, PM_MI_NO_THREAD);
    CU_ASSERT_EQUAL(p->area, 2 * SLICE - 3 * 64);
    CU_ASSERT_EQUAL(p->live, 3);
    CU_ASSERT_EQUAL(pymac_warning_count(&y->s), 0);
    image_free(y);
}

static bool count_thing(void *ctx, const pm_object *o, int generation)
{
    size_t *n = ctx;
    if (!strcmp(o->type->name, "Thing"))
        n[0]++;
    if (!strcmp(o->type->name, "Thing2"))
        n[1]++;
    n[2] += generation == 0;
    n[3] += generation == 3;
    return true;
}

/* gc.get_objects(): tracked, not frozen, in the GC heaps of live threads and
 * abandoned segments; the full census adds the untracked and frozen ones. */
static void test_objects_and_refcounts(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    pymac_error err;
    pymac_census c = {0};
    size_t n[4] = {0};
    pymac_status st = pm_objects_walk(&y->s, PM_WALK_GC_ONLY, count_thing, n, &c, &err);
    if (st)
        fprintf(stderr, "\n%s\n", st > PYMAC_PARTIAL ? err.message : pymac_warning(&y->s, 0));
    CU_ASSERT_EQUAL_FATAL(st, PYMAC_OK);
    CU_ASSERT_EQUAL(n[0], 3);
    CU_ASSERT_EQUAL(n[1], 1);
    CU_ASSERT_EQUAL(n[2], 4);
    CU_ASSERT_EQUAL(c.invalid, 0);

    pymac_census full = {0};
    memset(n, 0, sizeof n);
    CU_ASSERT_EQUAL_FATAL(pm_objects_walk(&y->s, 0, count_thing, n, &full, &err), PYMAC_OK);
    CU_ASSERT_EQUAL(n[0], 5);
    CU_ASSERT_EQUAL(n[1], 2);
    CU_ASSERT_EQUAL(n[2], 4);
    CU_ASSERT_EQUAL(n[3], 1);         /* frozen */
    CU_ASSERT_EQUAL(full.freelisted, 1);
    CU_ASSERT_EQUAL(full.raw_blocks, 2);

    const pymac_gc *gc;
    CU_ASSERT_EQUAL_FATAL(pymac_gc_walk(&y->s, &gc, &err), PYMAC_OK);
    CU_ASSERT_EQUAL(gc->generations[0].objects, 4);
    CU_ASSERT_EQUAL(gc->generations[2].objects, 4);
    CU_ASSERT_EQUAL(gc->permanent.objects, 1);
    CU_ASSERT_EQUAL(gc->nobjects, 5);

    pm_object o;
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, block_at(SEG1, 1, 64, 0), &o));
    CU_ASSERT_EQUAL(o.refcnt, 5);
    CU_ASSERT_EQUAL(o.ref_local, 3);
    CU_ASSERT_EQUAL(o.ref_shared, 9);
    CU_ASSERT_EQUAL(o.tid, 0x1234);
    CU_ASSERT_FALSE(o.immortal);
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, block_at(SEG1, 1, 64, 1), &o));
    CU_ASSERT_EQUAL(o.refcnt, 1); /* 2 + (-4 >> 2) */
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, block_at(SEG2, 1, 64, 2) + 16, &o));
    CU_ASSERT_EQUAL(o.refcnt, 4);
    CU_ASSERT_EQUAL(o.size, 32 + 16); /* the pre-header, as sys.getsizeof counts it */
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, THING, &o));
    CU_ASSERT_TRUE(o.immortal);
    CU_ASSERT_EQUAL(pm_object_deferred_refs(&o), 0); /* immortal */
    /* deferred reference counting: 3.13t adds 1 to ob_ref_local, 3.14t
     * _Py_REF_DEFERRED (PY_SSIZE_T_MAX / 8) to the shared count; neither is a
     * reference anyone holds */
    header(y, block_at(SEG1, 1, 64, 3), 3, 2 /* _Py_REF_QUEUED */, 1 | PM_GC_BITS_DEFERRED,
           THING);
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, block_at(SEG1, 1, 64, 3), &o));
    CU_ASSERT_EQUAL(o.refcnt, 3);
    CU_ASSERT_EQUAL(pm_object_deferred_refs(&o), 1);
    header(y, block_at(SEG1, 1, 64, 3), 2, (int64_t)((uint64_t)(INT64_MAX / 8) << 2) + (5 << 2),
           1 | PM_GC_BITS_DEFERRED, THING);
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, block_at(SEG1, 1, 64, 3), &o));
    CU_ASSERT_EQUAL(o.refcnt - pm_object_deferred_refs(&o), 7);
    header(y, block_at(SEG1, 1, 64, 3), 3, 0, 1, THING); /* not deferred */
    CU_ASSERT_TRUE_FATAL(pm_object_read(&y->s, block_at(SEG1, 1, 64, 3), &o));
    CU_ASSERT_EQUAL(pm_object_deferred_refs(&o), 0);
    /* a count below zero is no live object's */
    header(y, block_at(SEG1, 1, 64, 3), 0, -8, 1, THING);
    CU_ASSERT_FALSE(pm_object_read(&y->s, block_at(SEG1, 1, 64, 3), &o));
    image_free(y);
}

/* Damage: the walk goes on, reports it, and counts the rest. */
static void test_looping_free_list(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    put(y, block_at(SEG1, 1, 64, 5), block_at(SEG1, 1, 64, 2), 8); /* 2 -> 5 -> 2 */
    const pm_mi_walk *w;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_mi_session_walk(&y->s, &w, &err), PYMAC_PARTIAL);
    const pm_mi_page *p = find_page(w, PAGE_AT(SEG1, 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(p->bad);
    CU_ASSERT_EQUAL(p->live, 0);
    CU_ASSERT_TRUE(warned(&y->s, "twice (a loop)"));
    CU_ASSERT_EQUAL(find_page(w, PAGE_AT(SEG2, 1))->live, 3); /* the others still counted */
    image_free(y);
}

static void test_impossible_block_size(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    put(y, PAGE_AT(SEG1, 2) + 28, 9000, 4); /* 2 blocks of 9000 bytes in an 8 KiB page */
    const pm_mi_walk *w;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_mi_session_walk(&y->s, &w, &err), PYMAC_PARTIAL);
    const pm_mi_page *p = find_page(w, PAGE_AT(SEG1, 2));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(p->bad);
    CU_ASSERT_EQUAL(p->capacity, 0);
    CU_ASSERT_TRUE(warned(&y->s, "impossible block size 9000"));
    CU_ASSERT_EQUAL(find_page(w, PAGE_AT(SEG1, 1))->live, 5);
    image_free(y);
}

static void test_wild_pointers(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    put(y, PAGE_AT(SEG1, 1) + 40, block_at(SEG1, 1, 64, 9) + 8, 8); /* mid-block */
    put(y, PAGE_AT(SEG1, 2) + 48, PAGE_AT(SEG1, 2), 8);              /* queue loops */
    put(y, SEG2 + 32, 0x7fff00000000ull, 8);                          /* next segment: unmapped */
    const pm_mi_walk *w;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_mi_session_walk(&y->s, &w, &err), PYMAC_PARTIAL);
    CU_ASSERT_EQUAL(w->npages, 3);
    CU_ASSERT_TRUE(find_page(w, PAGE_AT(SEG1, 1))->bad);
    CU_ASSERT_TRUE(warned(&y->s, "not a block of the page"));
    CU_ASSERT_TRUE(warned(&y->s, "more than one queue") || warned(&y->s, "does not end"));
    CU_ASSERT_TRUE(warned(&y->s, "0x7fff00000000"));
    image_free(y);
}

/* Overlapping claims (found by fuzz_mimalloc): lookups by address need one
 * page and one segment per address, so the later claim is dropped. */
static void test_overlapping_page(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    put(y, PAGE_AT(SEG1, 1), 2, 4); /* the GC page claims slice 2, the object heap's page */
    const pm_mi_walk *w;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_mi_session_walk(&y->s, &w, &err), PYMAC_PARTIAL);
    CU_ASSERT_EQUAL(w->npages, 2);
    CU_ASSERT_PTR_NULL(find_page(w, PAGE_AT(SEG1, 2)));
    CU_ASSERT_EQUAL(find_page(w, PAGE_AT(SEG1, 1))->live, 5);
    CU_ASSERT_EQUAL(w->threads[0].pages, 1);
    CU_ASSERT_EQUAL(w->segs[0].pages, 1);
    char want[96];
    snprintf(want, sizeof want, "page 0x%llx overlaps page 0x%llx; it is skipped",
             (unsigned long long)PAGE_AT(SEG1, 2), (unsigned long long)PAGE_AT(SEG1, 1));
    CU_ASSERT_TRUE(warned(&y->s, want));
    image_free(y);
}

static void test_overlapping_segment(void)
{
    img *y = image_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    put(y, SEG1, 16 * SLICE, 8); /* SEG1 claims 16 slices: SEG2 lies inside it */
    put(y, SEG1 + 8, 16, 8);
    const pm_mi_walk *w;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_mi_session_walk(&y->s, &w, &err), PYMAC_PARTIAL);
    CU_ASSERT_EQUAL_FATAL(w->nsegs, 1);
    CU_ASSERT_EQUAL(w->segs[0].addr, SEG1);
    CU_ASSERT_EQUAL(w->abandoned_segments, 0);
    CU_ASSERT_EQUAL(w->npages, 2);
    CU_ASSERT_PTR_NULL(find_page(w, PAGE_AT(SEG2, 1)));
    char want[96];
    snprintf(want, sizeof want, "segment 0x%llx overlaps segment 0x%llx; its pages are skipped",
             (unsigned long long)SEG2, (unsigned long long)SEG1);
    CU_ASSERT_TRUE(warned(&y->s, want));
    image_free(y);
}

bool register_mimalloc_tests(void)
{
    static const unit_test tests[] = {
        {"pages, free lists, abandoned segment", test_pages_and_free_lists},
        {"objects and biased refcounts", test_objects_and_refcounts},
        {"looping free list", test_looping_free_list},
        {"impossible block size", test_impossible_block_size},
        {"wild pointers and looping queue", test_wild_pointers},
        {"a page overlapping another", test_overlapping_page},
        {"a segment overlapping another", test_overlapping_segment},
        {NULL, NULL},
    };
    return unit_add_suite("mimalloc walk on a synthetic image", NULL, NULL, tests);
}

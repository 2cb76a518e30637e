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
#include "layout.h"
#include "mimalloc.h"
#include "object.h"
#include "unit.h"

enum {
    BASE = 0x100000,          /* 64 KiB aligned, like the segments */
    IMAGE = 0x40000,
    INTERP = BASE + 0x100,    /* threads.head @0, abandoned @8, abandoned_visited @16 */
    TSTATE = BASE + 0x400,    /* next @0, native id @8, initialized @16, heaps @32 */
    HEAPS = TSTATE + 32,      /* 4 heaps of HEAP_SIZE */
    HEAP_SIZE = 96,           /* pages[3] of 24 @0, delayed @72, thread_id @80 */
    TYPE_TYPE = BASE + 0x2000, THING = BASE + 0x2100, THING2 = BASE + 0x2200,
    NAMES = BASE + 0x2300,
    SEG1 = BASE + 0x10000,    /* the thread's segment */
    SEG2 = BASE + 0x20000,    /* an abandoned one */
    SLICE = 0x2000,
    SLICES = 64,              /* offset of slices[] in a segment; pages are 64 bytes */
    PAGE = 64,
    MI_TID = 0x77,
};

/* Slice i's page struct in segment seg, and block b of a page that starts
 * with slice i (block size bs: mimalloc starts small-block pages 3 blocks in). */
#define PAGE_AT(seg, i) ((seg) + SLICES + (uint64_t)(i) * PAGE)
static uint64_t block_at(uint64_t seg, unsigned i, uint64_t bs, unsigned b)
{
    uint64_t so = bs <= 64 ? 3 * bs : bs <= 512 ? bs : 0;
    return seg + i * SLICE + so + b * bs;
}

typedef struct img {
    pymac_session s;
    pm_layout L;
    pm_runtime rt;
    pm_segment seg;
    pm_mi_layout M;
    unsigned char image[IMAGE];
} img;

static void put(img *y, uint64_t addr, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        y->image[addr - BASE + i] = (unsigned char)(v >> (8 * i));
}

static pm_field F(int32_t off, uint32_t size)
{
    return (pm_field){.off = off, .size = size, .ok = true};
}

static void layout(img *y)
{
    pm_mi_layout *M = &y->M;
    M->interp_threads_head = F(0, 8);
    M->interp_abandoned = F(8, 8);
    M->interp_abandoned_visited = F(16, 8);
    M->ts_next = F(0, 8);
    M->ts_native_thread_id = F(8, 8);
    M->tsi_initialized = F(16, 4);
    M->tsi_heaps = F(32, 4 * HEAP_SIZE);
    M->nheaps = 4;
    M->heap_size = HEAP_SIZE;
    M->heap_pages = F(0, 72);
    M->nqueues = 3;
    M->queue_size = 24;
    M->pq_first = F(0, 8);
    M->heap_delayed_free = F(72, 8);
    M->heap_thread_id = F(80, 8);
    M->page_size = PAGE;
    M->pg_slice_count = F(0, 4);
    M->pg_slice_offset = F(4, 4);
    M->pg_tag = F(8, 1);
    M->pg_capacity = F(10, 2);
    M->pg_reserved = F(12, 2);
    M->pg_free = F(16, 8);
    M->pg_used = F(24, 4);
    M->pg_xblock_size = F(28, 4);
    M->pg_local_free = F(32, 8);
    M->pg_xthread_free = F(40, 8);
    M->pg_next = F(48, 8);
    M->sg_segment_size = F(0, 8);
    M->sg_segment_slices = F(8, 8);
    M->sg_slice_entries = F(16, 8);
    M->sg_thread_id = F(24, 8);
    M->sg_abandoned_next = F(32, 8);
    M->sg_used = F(40, 8);
    M->sg_slices = F(SLICES, 9 * PAGE);
    M->max_slices = 9;
    /* a free-threaded PyObject and a type's few members */
    pm_layout *L = &y->L;
    L->free_threaded = true;
    L->object_size = 32;
    L->ob_tid = F(0, 8);
    L->ob_gc_bits = F(11, 1);
    L->ob_ref_local = F(12, 4);
    L->ob_ref_shared = F(16, 8);
    L->ob_type = F(24, 8);
    L->ob_size = F(32, 8);
    L->tp_name = F(40, 8);
    L->tp_basicsize = F(48, 8);
    L->tp_itemsize = F(56, 8);
    L->tp_flags = F(64, 8);
}

/* A free-threaded object header. */
static void header(img *y, uint64_t obj, uint32_t local, int64_t shared, uint8_t bits,
                   uint64_t type)
{
    put(y, obj, 0x1234, 8); /* ob_tid */
    put(y, obj + 11, bits, 1);
    put(y, obj + 12, local, 4);
    put(y, obj + 16, (uint64_t)shared, 8);
    put(y, obj + 24, type, 8);
}

static void type_obj(img *y, uint64_t t, const char *name, uint64_t name_at, uint64_t flags)
{
    header(y, t, UINT32_MAX, 0, 0, TYPE_TYPE);
    put(y, t + 40, name_at, 8);
    put(y, t + 48, 32, 8);  /* basicsize */
    put(y, t + 64, flags, 8);
    memcpy(&y->image[name_at - BASE], name, strlen(name) + 1);
}

static void segment(img *y, uint64_t seg, uint64_t tid)
{
    put(y, seg, 8 * SLICE, 8);
    put(y, seg + 8, 8, 8);
    put(y, seg + 16, 8, 8);
    put(y, seg + 24, tid, 8);
    put(y, PAGE_AT(seg, 0), 1, 4);      /* slice 0: the segment's own header */
    put(y, PAGE_AT(seg, 0) + 28, 1, 4);
}

static void page(img *y, uint64_t pg, unsigned slices, unsigned tag, unsigned capacity,
                 unsigned reserved, unsigned used, unsigned block_size)
{
    put(y, pg, slices, 4);
    put(y, pg + 8, tag, 1);
    put(y, pg + 10, capacity, 2);
    put(y, pg + 12, reserved, 2);
    put(y, pg + 24, used, 4);
    put(y, pg + 28, block_size, 4);
}

/* The image described at the top of the file (see the tests for what each
 * block holds). */
static img *image_new(void)
{
    img *y = calloc(1, sizeof *y);
    if (!y)
        return NULL;
    layout(y);
    /* types: `type`, Thing (GC), Thing2 (GC with a managed dict: pre-header) */
    header(y, TYPE_TYPE, UINT32_MAX, 0, 0, TYPE_TYPE);
    put(y, TYPE_TYPE + 40, NAMES, 8);
    put(y, TYPE_TYPE + 48, 80, 8);
    put(y, TYPE_TYPE + 64, (1ul << 31) | (1ul << 14), 8); /* TYPE_SUBCLASS | HAVE_GC */
    memcpy(&y->image[NAMES - BASE], "type", 5);
    type_obj(y, THING, "Thing", NAMES + 16, 1ul << 14);
    type_obj(y, THING2, "Thing2", NAMES + 32, (1ul << 14) | (1ul << 4));

    put(y, INTERP, TSTATE, 8);
    put(y, INTERP + 8, SEG2 | 5, 8); /* the abandoned list, with its ABA tag */
    put(y, TSTATE + 8, 4242, 8);
    put(y, TSTATE + 16, 1, 4);
    for (int h = 0; h < 4; h++)
        put(y, HEAPS + h * HEAP_SIZE + 80, MI_TID, 8);

    /* SEG1 slice 1: the GC heap's page of 10 blocks of 64 bytes (bin 1).
     * Live: 0, 1, 3 (tracked), 4 (frozen), 6 (untracked). Free: 2 -> 5 on
     * the free list, 7 local, 9 freed by another thread (delayed-free state
     * 1 in the low bits), 8 on the heap's delayed list. The free blocks keep
     * stale, tracked headers: only the lists say they are free. */
    segment(y, SEG1, MI_TID);
    uint64_t p1 = PAGE_AT(SEG1, 1);
    page(y, p1, 1, 2, 10, 125, 7, 64);
    for (unsigned b = 0; b < 10; b++)
        header(y, block_at(SEG1, 1, 64, b), 1, 0, 1, THING);
    header(y, block_at(SEG1, 1, 64, 0), 3, (2 << 2) | 1, 1, THING); /* 3 + 2, merged flag */
    header(y, block_at(SEG1, 1, 64, 1), 2, -4, 1, THING);          /* 2 - 1 */
    header(y, block_at(SEG1, 1, 64, 4), 1, 0, 1 | 8, THING);
    header(y, block_at(SEG1, 1, 64, 6), 1, 0, 0, THING);
    put(y, p1 + 16, block_at(SEG1, 1, 64, 2), 8);
    put(y, block_at(SEG1, 1, 64, 2), block_at(SEG1, 1, 64, 5), 8);
    put(y, block_at(SEG1, 1, 64, 5), 0, 8);
    put(y, p1 + 32, block_at(SEG1, 1, 64, 7), 8);
    put(y, block_at(SEG1, 1, 64, 7), 0, 8);
    put(y, p1 + 40, block_at(SEG1, 1, 64, 9) | 1, 8);
    put(y, block_at(SEG1, 1, 64, 9), 0, 8);
    put(y, HEAPS + 2 * HEAP_SIZE + 72, block_at(SEG1, 1, 64, 8), 8);
    put(y, block_at(SEG1, 1, 64, 8), 0, 8);
    put(y, HEAPS + 2 * HEAP_SIZE + 24, p1, 8); /* queue 1 */

    /* SEG1 slice 2: the object heap's page, 2 blocks of 1 KiB holding no
     * object (raw PyObject_Malloc memory), in the full queue (2). */
    uint64_t p2 = PAGE_AT(SEG1, 2);
    page(y, p2, 1, 1, 2, 8, 2, 1024);
    put(y, HEAPS + 1 * HEAP_SIZE + 48, p2, 8);

    /* SEG2, abandoned: slice 1 starts a 2-slice GC_PRE page of 4 blocks:
     * 0 tracked, 1 free, 2 untracked, 3 on a free list of the type (count 0).
     * The objects sit 16 bytes in; slices 3-7 are a free span. */
    segment(y, SEG2, 0);
    uint64_t p3 = PAGE_AT(SEG2, 1);
    page(y, p3, 2, 3, 4, 4, 3, 64);
    header(y, block_at(SEG2, 1, 64, 0) + 16, 1, 0, 1, THING2);
    header(y, block_at(SEG2, 1, 64, 1) + 16, 1, 0, 1, THING2);
    header(y, block_at(SEG2, 1, 64, 2) + 16, 4, 0, 0, THING2);
    header(y, block_at(SEG2, 1, 64, 3) + 16, 0, 0, 0, THING2);
    put(y, p3 + 16, block_at(SEG2, 1, 64, 1), 8);
    put(y, block_at(SEG2, 1, 64, 1), 0, 8);
    put(y, PAGE_AT(SEG2, 3), 5, 4); /* free span: 5 slices, no block size */

    pm_runtime *rt = &y->rt;
    rt->minor = 13;
    rt->main_interp = INTERP;
    y->seg = (pm_segment){.vaddr = BASE, .memsz = IMAGE, .offset = 0, .filesz = IMAGE,
                          .flags = 6};
    pymac_session *s = &y->s;
    s->core.fd = -1;
    s->core.image = y->image;
    s->core.size = IMAGE;
    s->core.segs = &y->seg;
    s->core.nsegs = 1;
    s->space_bytes = IMAGE;
    s->layout = &y->L;
    s->rt = rt;
    s->target_kind = "gcore";
    s->types = calloc(1, sizeof *s->types);
    if (!s->types || !pm_mi_session_set_layout(s, &y->M)) {
        free(s->types);
        free(y);
        return NULL;
    }
    s->types->type_type = TYPE_TYPE;
    return y;
}

static void image_free(img *y)
{
    pymac_session *s = &y->s;
    s->layout = NULL;
    s->rt = NULL;
    s->core.image = NULL;
    s->core.segs = NULL;
    s->core.nsegs = 0;
    pm_session_release(s);
    free(y);
}

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

bool register_mimalloc_tests(void)
{
    static const unit_test tests[] = {
        {"pages, free lists, abandoned segment", test_pages_and_free_lists},
        {"objects and biased refcounts", test_objects_and_refcounts},
        {"looping free list", test_looping_free_list},
        {"impossible block size", test_impossible_block_size},
        {"wild pointers and looping queue", test_wild_pointers},
        {NULL, NULL},
    };
    return unit_add_suite("mimalloc walk on a synthetic image", NULL, NULL, tests);
}

/* The hand-made mimalloc image (see mi_image.h). */
#include "mi_image.h"

#include <stdlib.h>
#include <string.h>

#include "object.h"

uint64_t block_at(uint64_t seg, unsigned i, uint64_t bs, unsigned b)
{
    uint64_t so = bs <= 64 ? 3 * bs : bs <= 512 ? bs : 0;
    return seg + i * SLICE + so + b * bs;
}

void put(img *y, uint64_t addr, uint64_t v, unsigned n)
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
void header(img *y, uint64_t obj, uint32_t local, int64_t shared, uint8_t bits,
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
img *image_new(void)
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
    y->core.fd = -1;
    y->core.image = y->image;
    y->core.size = IMAGE;
    y->core.segs = &y->seg;
    y->core.nsegs = 1;
    pm_target_of_core(&s->target, &y->core); /* kind gcore, IMAGE bytes */
    s->layout = &y->L;
    s->rt = rt;
    s->types = calloc(1, sizeof *s->types);
    if (!s->types || !pm_mi_session_set_layout(s, &y->M)) {
        free(s->types);
        free(y);
        return NULL;
    }
    s->types->type_type = TYPE_TYPE;
    return y;
}

void image_free(img *y)
{
    pymac_session *s = &y->s;
    s->layout = NULL;
    s->rt = NULL;
    pm_session_release(s); /* the target borrows y->core */
    free(y);
}


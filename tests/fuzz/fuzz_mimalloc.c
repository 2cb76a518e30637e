/* libFuzzer target: the mimalloc walk of a free-threaded CPython.
 *
 * The memory is the hand-made image of tests/unit/mi_image.c (a thread's
 * GC and object heaps, an abandoned segment; layout by hand, no core or
 * DWARF needed), patched by the input: a list of records
 *
 *     u32 offset, u8 len, len bytes    (little endian, offset taken modulo
 *                                       the image size, at most 64 records)
 *
 * each writing its bytes over the valid image, so mutations land on page
 * headers, free lists, queues and segment headers of a heap that is
 * otherwise well formed. Per input: the heap walk, the allocator
 * interface's invariants (heap_invariants.h), the arenas and pools views,
 * the GC walk, both censuses, and the block state of every block of the
 * pages found.
 *
 * With $PYMAC_FUZZ_SEED_OUT set, the target writes a seed (records that
 * rewrite the heap's own metadata with its current bytes) and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "heap_invariants.h"
#include "mi_image.h"
#include "render_mimalloc.h"

enum { MAX_RECORDS = 64, REC_HDR = 5 };

static img *Y;
static unsigned char base_image[IMAGE];
static FILE *devnull;

static bool count(void *ctx, const pm_object *o, int generation)
{
    (void)generation;
    *(uint64_t *)ctx += o->refcnt;
    return true;
}

static void seed_record(FILE *f, uint64_t addr, size_t len)
{
    unsigned char hdr[REC_HDR];
    uint32_t off = (uint32_t)(addr - BASE);
    for (int i = 0; i < 4; i++)
        hdr[i] = (unsigned char)(off >> (8 * i));
    hdr[4] = (unsigned char)len;
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(base_image + off, 1, len, f);
}

static void write_seed(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    const uint64_t at[] = {PAGE_AT(SEG1, 1), PAGE_AT(SEG1, 2), PAGE_AT(SEG2, 1), PAGE_AT(SEG2, 3),
                           SEG1, SEG2, INTERP, TSTATE, HEAPS + 2 * HEAP_SIZE,
                           HEAPS + 2 * HEAP_SIZE + 64, block_at(SEG1, 1, 64, 2),
                           block_at(SEG1, 1, 64, 5), block_at(SEG2, 1, 64, 0)};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        seed_record(f, at[i], 64);
    fclose(f);
    exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    Y = image_new();
    devnull = fopen("/dev/null", "w");
    if (!Y || !devnull) {
        fprintf(stderr, "fuzz_mimalloc: cannot set up the image\n");
        exit(2);
    }
    memcpy(base_image, Y->image, IMAGE);
    const char *out = getenv("PYMAC_FUZZ_SEED_OUT");
    if (out)
        write_seed(out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memcpy(Y->image, base_image, IMAGE);
    size_t off = 0;
    for (int n = 0; n < MAX_RECORDS && off + REC_HDR <= size; n++) {
        uint32_t at = (uint32_t)pm_get_uint(data, (uint32_t)off, 4) % IMAGE;
        size_t len = data[off + 4];
        off += REC_HDR;
        if (len > size - off)
            len = size - off;
        if (len > IMAGE - at)
            len = IMAGE - at;
        memcpy(Y->image + at, data + off, len);
        off += len;
    }
    pymac_session *s = &Y->s;
    pm_session_drop_walks(s);
    s->types = calloc(1, sizeof *s->types);
    if (!s->types)
        return 0;
    s->types->type_type = TYPE_TYPE;
    pymac_error err;
    const pm_mi_walk *w;
    if (pm_mi_session_walk(s, &w, &err) <= PYMAC_PARTIAL) {
        for (size_t i = 0; i < w->npages; i++) {
            const pm_mi_page *p = &w->pages[i];
            for (uint32_t b = 0; b < p->capacity; b++) {
                (void)pm_mi_addr_state(s, p->start + (uint64_t)b * p->block_size + 3);
                (void)pm_mi_addr_live(s, p->start + (uint64_t)b * p->block_size + 3);
            }
            (void)pm_mi_addr_live(s, p->start - 8);
        }
        for (size_t i = 0; i < w->nsegs; i++) {
            (void)pm_mi_addr_live(s, w->segs[i].addr + 8);
            pm_mi_render_whereis(s, w->segs[i].addr + 8, PYMAC_JSON, devnull, &err);
            pm_mi_render_whereis(s, w->segs[i].addr + w->segs[i].size - 8, PYMAC_TEXT, devnull,
                                 &err);
        }
    }
    fuzz_check_heap(s);
    pm_mi_render_arenas(s, PYMAC_JSON, devnull, &err);
    pm_mi_render_pools(s, NULL, PYMAC_TEXT, devnull, &err);
    const pymac_gc *gc;
    pymac_gc_walk(s, &gc, &err);
    uint64_t sum = 0;
    pymac_census c = {0}, full = {0};
    pm_objects_walk(s, PM_WALK_GC_ONLY, count, &sum, &c, &err);
    pm_objects_walk(s, 0, count, &sum, &full, &err);
    pm_session_drop_walks(s);
    return 0;
}

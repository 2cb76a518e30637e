/* A free-threaded CPython's mimalloc heaps, made by hand in memory: the
 * image the unit tests (test_mimalloc.c) and the fuzz target
 * (tests/fuzz/fuzz_mimalloc.c) walk. One thread whose GC and object heaps
 * hold a page each, in a segment of its own, and an abandoned segment (a
 * thread that has exited) whose page is found by its slices. The layout is
 * written here, not read from DWARF: small segments (8 slices of 8 KiB) so
 * the image stays small. What each block holds is described in mi_image.c. */
#ifndef PYMAC_TEST_MI_IMAGE_H
#define PYMAC_TEST_MI_IMAGE_H

#include "layout.h"
#include "mimalloc.h"
#include "target_core.h"

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

/* Slice i's page struct in segment seg. */
#define PAGE_AT(seg, i) ((seg) + SLICES + (uint64_t)(i) * PAGE)
/* Block b of the page that starts with slice i (block size bs): mimalloc
 * starts small-block pages a few blocks in. */
uint64_t block_at(uint64_t seg, unsigned i, uint64_t bs, unsigned b);

typedef struct img {
    pymac_session s;
    pm_layout L;
    pm_runtime rt;
    pm_segment seg;
    pm_core core;
    pm_mi_layout M;
    unsigned char image[IMAGE];
} img;

img *image_new(void);
void image_free(img *y);
/* Writes the n low bytes of v at addr (little endian). */
void put(img *y, uint64_t addr, uint64_t v, unsigned n);
/* A free-threaded object header. */
void header(img *y, uint64_t obj, uint32_t local, int64_t shared, uint8_t bits, uint64_t type);

#endif

/* The glibc heap walker on synthetic heap images whose free chunks are known
 * by construction: boundary-tag free chunks, the top chunk, and tcache bins
 * with and without safe-linking. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "glibc_heap.h"
#include "unit.h"

enum { BASE = 0x55550000, IMAGE = 0x1000 };

typedef struct image {
    unsigned char mem[IMAGE];
} image;

static bool image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    image *im = ctx;
    if (addr < BASE || addr - BASE > IMAGE || len > IMAGE - (addr - BASE))
        return false;
    memcpy(buf, im->mem + (addr - BASE), len);
    return true;
}

static void put64(image *im, uint64_t addr, uint64_t v)
{
    memcpy(im->mem + (addr - BASE), &v, 8);
}

static void put16(image *im, uint64_t addr, uint16_t v)
{
    memcpy(im->mem + (addr - BASE), &v, 2);
}

/* Chunk starts of the test heap; sizes in the comments. */
#define TC (BASE + 0x000)    /* 0x290 tcache_perthread_struct */
#define USED1 (BASE + 0x290) /* 0x30 in use */
#define FREE1 (BASE + 0x2c0) /* 0x40 free (next chunk's P clear) */
#define T0A (BASE + 0x300)   /* 0x20 in tcache bin 0 (first) */
#define T0B (BASE + 0x320)   /* 0x20 in tcache bin 0 (second) */
#define USED2 (BASE + 0x340) /* 0x50 in use */
#define TOP (BASE + 0x390)   /* top: to the end of the image */

/* The heap; protect: safe-linked tcache next pointers (glibc 2.32+);
 * count: what counts[0] claims. */
static void build(image *im, bool protect, uint16_t count)
{
    memset(im, 0, sizeof *im);
    put64(im, TC + 8, 0x290 | 1);
    put64(im, USED1 + 8, 0x30 | 1);
    put64(im, USED1 + 16, 0x7f0000001000); /* a live pointer in use */
    put64(im, FREE1 + 8, 0x40 | 1);
    put64(im, FREE1 + 16, 0x7f0000002000); /* stale */
    put64(im, T0A + 0, 0x40);              /* prev_size of the free FREE1 */
    put64(im, T0A + 8, 0x20 | 0);          /* P clear: FREE1 is free */
    put64(im, T0B + 8, 0x20 | 1);
    put64(im, USED2 + 8, 0x50 | 1);
    put64(im, TOP + 8, (IMAGE - (TOP - BASE)) | 1);
    /* tcache: counts (uint16_t[64]) then entries[64] */
    put16(im, TC + 16, count);
    put64(im, TC + 16 + 128, T0A + 16);
    uint64_t next_a = T0B + 16, next_b = 0;
    if (protect) {
        next_a ^= (T0A + 16) >> 12;
        next_b ^= (T0B + 16) >> 12;
    }
    put64(im, T0A + 16, next_a);
    put64(im, T0A + 24, 0x1234); /* key */
    put64(im, T0B + 16, next_b);
    put64(im, T0B + 24, 0x7f0000003000); /* stale pointer in a tcache chunk */
}

static void check_heap(bool protect)
{
    static image im;
    build(&im, protect, 2);
    pm_glibc_heap h = {0};
    CU_ASSERT_TRUE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    pm_glibc_heap_finish(&h, image_read, &im);
    CU_ASSERT_EQUAL(h.nheaps, 1);
    CU_ASSERT_EQUAL(h.nchunks, 7);
    CU_ASSERT_EQUAL(h.nfree_chunks, 2); /* FREE1 and the top */
    CU_ASSERT_EQUAL(h.ntcache, 2);
    CU_ASSERT_FALSE(h.tcache_bad);
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, TC + 16));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, USED1 + 16));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, FREE1 + 8)); /* its size field */
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, FREE1 + 16));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, FREE1 + 0x38));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, T0A + 8));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, T0A + 16));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, T0B + 24));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, USED2)); /* T0B's trailing word */
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, USED2 + 8));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, USED2 + 16));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, TOP + 8));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, TOP + 16));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, BASE + IMAGE - 8));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, BASE + IMAGE));
    /* the chunk list dropped: sizes no longer known, free ranges and counts kept */
    CU_ASSERT_TRUE(pm_glibc_heap_chunk(&h, USED1 + 16) != 0);
    pm_glibc_heap_drop_chunks(&h);
    CU_ASSERT_EQUAL(pm_glibc_heap_chunk(&h, USED1 + 16), 0);
    CU_ASSERT_EQUAL(h.nchunks, 7);
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, FREE1 + 16));
    pm_glibc_heap_release(&h);
}

static void test_safe_linking(void)
{
    check_heap(true);
}

static void test_plain_tcache(void)
{
    check_heap(false);
}

/* A bin whose count does not match its chain is not trusted. */
static void test_bad_tcache(void)
{
    static image im;
    build(&im, true, 3);
    pm_glibc_heap h = {0};
    CU_ASSERT_TRUE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    pm_glibc_heap_finish(&h, image_read, &im);
    CU_ASSERT_TRUE(h.tcache_bad);
    CU_ASSERT_EQUAL(h.ntcache, 0);
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, T0A + 16));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, FREE1 + 16));
    pm_glibc_heap_release(&h);
}

/* glibc 2.42+: the tcache_perthread_struct (num_slots[76], entries[76],
 * chunk 0x300) is not the heap's first chunk; num_slots counts the room left,
 * so chains are followed to NULL, and every entry carries the same key. */
#define N_LOC (BASE + 0x000)   /* 0x20 in use (the locale's, before the tcache) */
#define N_TC (BASE + 0x020)    /* 0x300 tcache_perthread_struct */
#define N_USED1 (BASE + 0x320) /* 0x30 in use */
#define N_T0A (BASE + 0x350)   /* 0x20 in tcache bin 0 (first) */
#define N_T0B (BASE + 0x370)   /* 0x20 in tcache bin 0 (second) */
#define N_T1 (BASE + 0x390)    /* 0x30 in tcache bin 1 */
#define N_USED2 (BASE + 0x3c0) /* 0x50 in use */
#define N_TOP (BASE + 0x410)   /* top */

static uint64_t protect(uint64_t at, uint64_t next)
{
    return next ^ (at >> 12);
}

static void build_242(image *im, uint64_t key_b)
{
    memset(im, 0, sizeof *im);
    put64(im, N_LOC + 8, 0x20 | 1);
    put64(im, N_TC + 8, 0x300 | 1);
    put64(im, N_USED1 + 8, 0x30 | 1);
    put64(im, N_USED1 + 16, 0x7f0000001000);
    put64(im, N_T0A + 8, 0x20 | 1);
    put64(im, N_T0B + 8, 0x20 | 1);
    put64(im, N_T1 + 8, 0x30 | 1);
    put64(im, N_USED2 + 8, 0x50 | 1);
    put64(im, N_TOP + 8, (IMAGE - (N_TOP - BASE)) | 1);
    for (unsigned i = 0; i < 76; i++) /* room left: 16 less what each bin holds */
        put16(im, N_TC + 16 + 2 * i, (uint16_t)(i == 0 ? 14 : i == 1 ? 15 : 16));
    put64(im, N_TC + 16 + 152, N_T0A + 16);
    put64(im, N_TC + 16 + 152 + 8, N_T1 + 16);
    put64(im, N_T0A + 16, protect(N_T0A + 16, N_T0B + 16));
    put64(im, N_T0A + 24, 0x5eed5eed5eed5eed);
    put64(im, N_T0B + 16, protect(N_T0B + 16, 0));
    put64(im, N_T0B + 24, key_b);
    put64(im, N_T1 + 16, protect(N_T1 + 16, 0));
    put64(im, N_T1 + 24, 0x5eed5eed5eed5eed);
    put64(im, N_T1 + 32, 0x7f0000003000); /* stale pointer in a tcache chunk */
}

static void test_tcache_242(void)
{
    static image im;
    build_242(&im, 0x5eed5eed5eed5eed);
    pm_glibc_heap h = {0};
    CU_ASSERT_TRUE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    pm_glibc_heap_finish(&h, image_read, &im);
    CU_ASSERT_EQUAL(h.ntcache, 3);
    CU_ASSERT_FALSE(h.tcache_bad);
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, N_T0A + 16));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, N_T0B + 24));
    CU_ASSERT_TRUE(pm_glibc_heap_is_free(&h, N_T1 + 32));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, N_TC + 16));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, N_USED1 + 16));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, N_USED2 + 16));
    pm_glibc_heap_release(&h);
}

/* A chunk of the struct's size that does not check out (an entry with
 * another key) is not a tcache: nothing taken from it, nothing marked bad. */
static void test_tcache_242_not(void)
{
    static image im;
    build_242(&im, 0x1111);
    pm_glibc_heap h = {0};
    CU_ASSERT_TRUE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    pm_glibc_heap_finish(&h, image_read, &im);
    CU_ASSERT_EQUAL(h.ntcache, 0);
    CU_ASSERT_FALSE(h.tcache_bad);
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, N_T0A + 16));
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, N_T1 + 32));
    pm_glibc_heap_release(&h);
}

/* Memory that is not a heap adds nothing. */
static void test_not_a_heap(void)
{
    static image im;
    pm_glibc_heap h = {0};
    /* a chain that stops short of the end (a size that runs past it) */
    build(&im, true, 2);
    put64(&im, USED2 + 8, 0x5000 | 1);
    CU_ASSERT_FALSE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    /* a misaligned size */
    build(&im, true, 2);
    put64(&im, USED1 + 8, 0x38 | 1);
    CU_ASSERT_FALSE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    /* an mmapped bit inside a heap */
    build(&im, true, 2);
    put64(&im, USED1 + 8, 0x30 | 2);
    CU_ASSERT_FALSE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    /* zeros, and a start outside the image */
    memset(&im, 0, sizeof im);
    CU_ASSERT_FALSE(pm_glibc_heap_add(&h, image_read, &im, BASE, BASE + IMAGE));
    CU_ASSERT_FALSE(pm_glibc_heap_add(&h, image_read, &im, BASE + 2 * IMAGE, BASE + 3 * IMAGE));
    pm_glibc_heap_finish(&h, image_read, &im);
    CU_ASSERT_EQUAL(h.nheaps, 0);
    CU_ASSERT_EQUAL(h.nfree, 0);
    CU_ASSERT_FALSE(pm_glibc_heap_is_free(&h, FREE1 + 16));
    pm_glibc_heap_release(&h);
}

bool register_glibc_heap_tests(void)
{
    static const unit_test tests[] = {
        {"free chunks, top and safe-linked tcache", test_safe_linking},
        {"tcache without safe-linking (glibc < 2.32)", test_plain_tcache},
        {"a tcache bin that does not check out", test_bad_tcache},
        {"memory that is not a heap", test_not_a_heap},
        {"glibc 2.42+ tcache after other chunks", test_tcache_242},
        {"a 2.42-sized chunk that is not a tcache", test_tcache_242_not},
        {NULL, NULL},
    };
    return unit_add_suite("glibc heap", NULL, NULL, tests);
}

/* The resident-set bound of a mapped core (core_resident.c), on a sparse
 * 320 MiB file: what is resident stays within the budget, what was dropped
 * reads back unchanged, a hot set larger than the budget doubles it, and
 * reads all over the core make the bound give way. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core_resident.h"
#include "unit.h"

enum { SIZE = 320u << 20, WINDOW = 64u << 10, NWIN = SIZE / WINDOW };

typedef struct image {
    unsigned char *p;
    int fd;
} image;

/* A sparse file whose every window starts with its own number. */
static bool image_open(image *im)
{
    char path[] = "/tmp/pymac-resident-XXXXXX";
    im->fd = mkstemp(path);
    if (im->fd < 0)
        return false;
    unlink(path);
    if (ftruncate(im->fd, SIZE) != 0)
        return false;
    for (uint32_t w = 0; w < NWIN; w++)
        if (pwrite(im->fd, &w, sizeof w, (off_t)w * WINDOW) != sizeof w)
            return false;
    im->p = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, im->fd, 0);
    return im->p != MAP_FAILED;
}

static void image_close(image *im)
{
    if (im->p && im->p != MAP_FAILED)
        munmap(im->p, SIZE);
    if (im->fd >= 0)
        close(im->fd);
}

/* Resident KiB of the mapping at p, from /proc/self/smaps. */
static long resident_kib(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    long kib = -1;
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (in && sscanf(line, "Rss: %ld kB", &kib) == 1)
            break;
    }
    fclose(f);
    return kib;
}

static uint32_t window_number(image *im, pm_resident *r, uint32_t w)
{
    const unsigned char *q = im->p + (size_t)w * WINDOW;
    CU_ASSERT_TRUE(pm_resident_touch(r, q, sizeof(uint32_t)));
    uint32_t v;
    memcpy(&v, q, sizeof v);
    return v;
}

static void test_bound_and_content(void)
{
    image im = {0};
    CU_ASSERT_TRUE_FATAL(image_open(&im));
    pm_resident *r = pm_resident_new(im.p, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* three passes over every window, as the census makes them */
    bool same = true;
    for (int pass = 0; pass < 3; pass++)
        for (uint32_t w = 0; w < NWIN; w++)
            same &= window_number(&im, r, w) == w;
    CU_ASSERT_TRUE(same);
    long kib = resident_kib(im.p);
    /* the budget is a twelfth of the core, plus one window being read */
    CU_ASSERT_TRUE(kib >= 0 && kib <= (long)(SIZE / 12 + WINDOW) / 1024);
    /* and far from all of it */
    CU_ASSERT_TRUE(kib < (long)(SIZE / 1024 / 4));
    pm_resident_free(r);
    image_close(&im);
}

static void test_thrash_gives_way(void)
{
    image im = {0};
    CU_ASSERT_TRUE_FATAL(image_open(&im));
    pm_resident *r = pm_resident_new(im.p, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* random windows over the whole image, again and again */
    uint64_t x = 88172645463325252ull;
    bool gave_way = false;
    for (int i = 0; i < 50 * NWIN && !gave_way; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        gave_way = !pm_resident_touch(r, im.p + (x % NWIN) * WINDOW, 8);
    }
    CU_ASSERT_TRUE(gave_way);
    pm_resident_free(r);
    image_close(&im);
}

static void test_hot_set_grows_budget(void)
{
    image im = {0};
    CU_ASSERT_TRUE_FATAL(image_open(&im));
    pm_resident *r = pm_resident_new(im.p, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* random reads in a hot set of 1.6 budgets: the budget doubles once and
     * holds it, and the bytes read are still the right ones */
    uint32_t hot = (uint32_t)(SIZE / 12 / WINDOW) * 8 / 5;
    uint64_t x = 2463534242ull;
    bool held = true, same = true;
    for (int i = 0; i < 40 * NWIN && held; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t w = (uint32_t)(x % hot);
        const unsigned char *q = im.p + (size_t)w * WINDOW;
        held = pm_resident_touch(r, q, 4);
        uint32_t v;
        memcpy(&v, q, sizeof v);
        same &= v == w;
    }
    CU_ASSERT_TRUE(held);
    CU_ASSERT_TRUE(same);
    long kib = resident_kib(im.p);
    CU_ASSERT_TRUE(kib >= 0 && kib <= (long)(2 * (SIZE / 12) + WINDOW) / 1024);
    pm_resident_free(r);
    image_close(&im);
}

/* trim: every window dropped at once, the same bytes read again after */
static void test_drop_all(void)
{
    image im = {0};
    CU_ASSERT_TRUE_FATAL(image_open(&im));
    pm_resident *r = pm_resident_new(im.p, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    for (uint32_t w = 0; w < NWIN / 24; w++)
        CU_ASSERT_EQUAL(window_number(&im, r, w), w);
    CU_ASSERT_TRUE(resident_kib(im.p) > 0);
    pm_resident_drop_all(r);
    CU_ASSERT_EQUAL(resident_kib(im.p), 0);
    bool same = true;
    for (uint32_t w = 0; w < NWIN; w++)
        same &= window_number(&im, r, w) == w;
    CU_ASSERT_TRUE(same);
    CU_ASSERT_TRUE(resident_kib(im.p) <= (long)(SIZE / 12 + WINDOW) / 1024);
    pm_resident_free(r);
    image_close(&im);
}

static void test_small_core_unbounded(void)
{
    static unsigned char buf[1 << 20];
    CU_ASSERT_PTR_NULL(pm_resident_new(buf, sizeof buf));
}

bool register_resident_tests(void)
{
    static const unit_test tests[] = {
        {"bounded residency, same bytes after a drop", test_bound_and_content},
        {"a thrashing walk makes the bound give way", test_thrash_gives_way},
        {"a hot set larger than the budget doubles it", test_hot_set_grows_budget},
        {"a small core is not bounded", test_small_core_unbounded},
        {"everything dropped at once, the same bytes after", test_drop_all},
        {NULL, NULL},
    };
    return unit_add_suite("resident", NULL, NULL, tests);
}

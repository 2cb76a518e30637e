/* Range sets (ranges.c): sorting, merging and the lookup every heap walker
 * leans on, at their edges. */
#include <CUnit/CUnit.h>

#include "ranges.h"
#include "unit.h"

static void test_normalize(void)
{
    /* out of order; one inside another; two that touch; one apart */
    uint64_t p[] = {300, 400, 100, 200, 120, 150, 200, 250, 500, 501};
    size_t n = pm_ranges_normalize(p, 5);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_EQUAL(p[0], 100);
    CU_ASSERT_EQUAL(p[1], 250);
    CU_ASSERT_EQUAL(p[2], 300);
    CU_ASSERT_EQUAL(p[3], 400);
    CU_ASSERT_EQUAL(p[4], 500);
    CU_ASSERT_EQUAL(p[5], 501);
    /* nothing, and a NULL array of nothing */
    CU_ASSERT_EQUAL(pm_ranges_normalize(p, 0), 0);
    CU_ASSERT_EQUAL(pm_ranges_normalize(NULL, 0), 0);
}

static void test_contains(void)
{
    const uint64_t p[] = {100, 250, 300, 400, 500, 501};
    /* lo is in, hi is not */
    CU_ASSERT_TRUE(pm_ranges_contains(p, 3, 100));
    CU_ASSERT_TRUE(pm_ranges_contains(p, 3, 249));
    CU_ASSERT_FALSE(pm_ranges_contains(p, 3, 250));
    CU_ASSERT_FALSE(pm_ranges_contains(p, 3, 299));
    CU_ASSERT_TRUE(pm_ranges_contains(p, 3, 300));
    CU_ASSERT_TRUE(pm_ranges_contains(p, 3, 500));
    CU_ASSERT_FALSE(pm_ranges_contains(p, 3, 501));
    /* before the first, after the last, the extremes */
    CU_ASSERT_FALSE(pm_ranges_contains(p, 3, 99));
    CU_ASSERT_FALSE(pm_ranges_contains(p, 3, 0));
    CU_ASSERT_FALSE(pm_ranges_contains(p, 3, UINT64_MAX));
    CU_ASSERT_FALSE(pm_ranges_contains(p, 0, 100));
    CU_ASSERT_FALSE(pm_ranges_contains(NULL, 0, 100));
    /* every address of a larger set against a linear scan */
    uint64_t q[64];
    for (size_t i = 0; i < 32; i++) {
        q[2 * i] = 10 * i * i + 3;
        q[2 * i + 1] = 10 * i * i + 3 + i % 5;
    }
    size_t n = pm_ranges_normalize(q, 32);
    unsigned bad = 0;
    for (uint64_t a = 0; a < 10 * 32 * 32; a++) {
        bool in = false;
        for (size_t i = 0; i < n; i++)
            in |= a >= q[2 * i] && a < q[2 * i + 1];
        bad += in != pm_ranges_contains(q, n, a);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

bool register_ranges_tests(void)
{
    static const unit_test tests[] = {
        {"sort and merge", test_normalize},
        {"lookup at the edges", test_contains},
        {NULL, NULL},
    };
    return unit_add_suite("ranges", NULL, NULL, tests);
}

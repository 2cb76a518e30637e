/* The squarified treemap layout: Bruls et al.'s own example (values 6, 6, 4,
 * 3, 2, 2, 1 in a 6 x 4 box), and for other inputs the properties a treemap
 * must have: every rectangle inside the box, areas in proportion to the
 * values, no two overlapping; bad input refused. */
#include <CUnit/CUnit.h>
#include <math.h>

#include "treemap.h"
#include "unit.h"

#define EPS 1e-9

static double overlap(pm_rect a, pm_rect b)
{
    double w = fmin(a.x + a.w, b.x + b.w) - fmax(a.x, b.x);
    double h = fmin(a.y + a.h, b.y + b.h) - fmax(a.y, b.y);
    return w > 0 && h > 0 ? w * h : 0;
}

static void check_tiling(const double *v, size_t n, pm_rect box)
{
    pm_rect r[64];
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i];
    CU_ASSERT_TRUE_FATAL(pm_treemap_layout(v, n, box, r));
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(r[i].x >= box.x - EPS && r[i].y >= box.y - EPS);
        CU_ASSERT(r[i].x + r[i].w <= box.x + box.w + 1e-6);
        CU_ASSERT(r[i].y + r[i].h <= box.y + box.h + 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(r[i].w * r[i].h, v[i] * box.w * box.h / total, 1e-6);
        for (size_t j = 0; j < i; j++)
            CU_ASSERT(overlap(r[i], r[j]) < 1e-6);
    }
}

static void test_paper_example(void)
{
    const double v[] = {6, 6, 4, 3, 2, 2, 1};
    pm_rect r[7];
    CU_ASSERT_TRUE_FATAL(pm_treemap_layout(v, 7, (pm_rect){0, 0, 6, 4}, r));
    /* the first row: 6 and 6 stacked in a 3-wide column on the left */
    CU_ASSERT_DOUBLE_EQUAL(r[0].x, 0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[0].y, 0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[0].w, 3, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[0].h, 2, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[1].y, 2, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[1].w, 3, EPS);
    /* the second: 4 and 3 across the top of the 3 x 4 left, 7/3 high (4
     * alone would be 2.25 to 1; with 3, the worst is 1.81; with 2 too, 4.5) */
    CU_ASSERT_DOUBLE_EQUAL(r[2].x, 3, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[2].y, 0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[2].h, 7.0 / 3, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[2].w, 12.0 / 7, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[3].x, 3 + 12.0 / 7, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[3].w, 9.0 / 7, EPS);
    check_tiling(v, 7, (pm_rect){0, 0, 6, 4});
}

static void test_tilings(void)
{
    const double skewed[] = {1000, 10, 9, 8, 1, 1, 1, 0.5};
    check_tiling(skewed, 8, (pm_rect){10, 20, 800, 300});
    const double equal[] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    check_tiling(equal, 12, (pm_rect){0, 0, 100, 100});
    double many[64];
    for (size_t i = 0; i < 64; i++)
        many[i] = 64.0 - (double)i;
    check_tiling(many, 64, (pm_rect){0, 0, 1000, 400});
    const double one[] = {42};
    check_tiling(one, 1, (pm_rect){0, 0, 3, 7});
}

static void test_zeros_and_bad_input(void)
{
    const double z[] = {3, 1, 0, 0};
    pm_rect r[4];
    CU_ASSERT_TRUE_FATAL(pm_treemap_layout(z, 4, (pm_rect){0, 0, 4, 1}, r));
    CU_ASSERT_DOUBLE_EQUAL(r[2].w * r[2].h, 0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(r[0].w * r[0].h, 3, 1e-6);
    const double up[] = {1, 2};
    CU_ASSERT_FALSE(pm_treemap_layout(up, 2, (pm_rect){0, 0, 4, 4}, r));
    const double neg[] = {2, -1};
    CU_ASSERT_FALSE(pm_treemap_layout(neg, 2, (pm_rect){0, 0, 4, 4}, r));
    const double nan[] = {NAN};
    CU_ASSERT_FALSE(pm_treemap_layout(nan, 1, (pm_rect){0, 0, 4, 4}, r));
    CU_ASSERT_FALSE(pm_treemap_layout(z, 2, (pm_rect){0, 0, 0, 4}, r));
    CU_ASSERT_TRUE(pm_treemap_layout(z, 0, (pm_rect){0, 0, 4, 4}, r));
}

bool register_treemap_tests(void)
{
    static const unit_test tests[] = {
        {"Bruls et al.'s example", test_paper_example},
        {"tilings: inside, proportional, disjoint", test_tilings},
        {"zero values and bad input", test_zeros_and_bad_input},
        {NULL, NULL},
    };
    return unit_add_suite("treemap", NULL, NULL, tests);
}

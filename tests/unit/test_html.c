/* The HTML report's heap map (render_html.c) on synthetic heaps: one row
 * per arena up to 128 arenas, then rows shared by several, the arenas of
 * all rows adding up, one cell per carved pool slot, never more. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "render_html.h"
#include "unit.h"

/* narenas arenas of 64 pool slots (16 KiB pools in 1 MiB arenas), the
 * first `carved` pools of each carved, every third pool empty. */
static pymac_pymalloc *synthetic_heap(size_t narenas, uint32_t carved)
{
    pymac_pymalloc *h = calloc(1, sizeof *h);
    h->arena_size = 1 << 20;
    h->pool_size = 16 << 10;
    h->narenas = narenas;
    h->arenas = calloc(narenas, sizeof *h->arenas);
    h->npools = narenas * carved;
    h->pools = calloc(h->npools ? h->npools : 1, sizeof *h->pools);
    for (size_t a = 0; a < narenas; a++) {
        pymac_arena *ar = &h->arenas[a];
        ar->address = 0x7f0000000000ull + a * h->arena_size;
        ar->pools_total = 64;
        ar->first_pool = a * carved;
        ar->npools = carved;
        for (uint32_t i = 0; i < carved; i++) {
            pymac_pool *p = &h->pools[a * carved + i];
            p->address = ar->address + (uint64_t)i * h->pool_size;
            p->arena_index = (uint32_t)a;
            p->size_class = i % 32;
            p->block_size = 16 * (p->size_class + 1);
            p->blocks_total = 100;
            p->blocks_in_use = (uint32_t)(i * 7 % 101);
            p->state = i % 3 == 2 ? PYMAC_POOL_EMPTY : PYMAC_POOL_USED;
        }
    }
    return h;
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static size_t arenas_drawn(const char *text)
{
    size_t sum = 0;
    for (const char *p = text; (p = strstr(p, "data-arenas=\"")); p++)
        sum += strtoul(p + strlen("data-arenas=\""), NULL, 10);
    return sum;
}

static char *render(const pymac_pymalloc *h)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    pm_html_heap_map(f, h);
    fclose(f);
    return text;
}

static void free_heap(pymac_pymalloc *h)
{
    free(h->arenas);
    free(h->pools);
    free(h);
}

static void test_row_per_arena(void)
{
    pymac_pymalloc *h = synthetic_heap(100, 40);
    char *t = render(h);
    CU_ASSERT_EQUAL(count(t, "<g class=\"arena\""), 100);
    CU_ASSERT_EQUAL(arenas_drawn(t), 100);
    CU_ASSERT_EQUAL(count(t, "<rect"), 100 * 40);
    /* a used pool names its size class; an empty one says so */
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "size class 1 (32-byte blocks), 7 of 100 blocks in use"));
    CU_ASSERT_EQUAL(count(t, ": empty</title>"), 100 * 13);
    free(t);
    free_heap(h);
}

static void test_shared_rows(void)
{
    /* 1000 arenas: 8 a row, 125 rows; 300 arenas: 3 a row, 100 rows */
    size_t sizes[] = {129, 300, 1000, 5000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        pymac_pymalloc *h = synthetic_heap(sizes[k], 64);
        char *t = render(h);
        size_t rows = count(t, "<g class=\"arena\"");
        CU_ASSERT_TRUE(rows <= 128);
        CU_ASSERT_TRUE(rows >= 64);
        CU_ASSERT_EQUAL(arenas_drawn(t), sizes[k]);
        CU_ASSERT_EQUAL(count(t, "<rect"), rows * 64);
        CU_ASSERT_PTR_NOT_NULL(strstr(t, "% full on average"));
        free(t);
        free_heap(h);
    }
}

static void test_empty_heap(void)
{
    pymac_pymalloc *h = synthetic_heap(0, 0);
    char *t = render(h);
    CU_ASSERT_EQUAL(count(t, "<g class=\"arena\""), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "</svg>"));
    free(t);
    free_heap(h);
}

bool register_html_tests(void)
{
    static const unit_test tests[] = {
        {"heap map: a row per arena, a cell per carved pool", test_row_per_arena},
        {"heap map: past 128 arenas, shared rows adding up", test_shared_rows},
        {"heap map: no arenas", test_empty_heap},
        {NULL, NULL},
    };
    return unit_add_suite("html", NULL, NULL, tests);
}

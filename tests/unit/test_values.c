/* Value formatting (ints of any size, float repr, str escapes) and the
 * object address map, on synthetic data. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "layout.h"
#include "objmap.h"
#include "unit.h"
#include "value_format.h"

/* 30-bit digits of v, least significant first. */
static size_t digits_of(unsigned __int128 v, uint32_t *d)
{
    size_t n = 0;
    while (v) {
        d[n++] = (uint32_t)(v & 0x3fffffff);
        v >>= 30;
    }
    return n;
}

static void check_int(unsigned __int128 v, bool neg, const char *want)
{
    uint32_t d[8];
    char buf[64];
    size_t n = digits_of(v, d);
    CU_ASSERT_TRUE(pm_format_int(d, n, neg, buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_int(void)
{
    check_int(0, false, "0");
    check_int(0, true, "0"); /* no negative zero */
    check_int(7, false, "7");
    check_int(7, true, "-7");
    check_int(1000000000, false, "1000000000"); /* a whole group of nine zeros */
    check_int((unsigned __int128)1 << 30, false, "1073741824");
    check_int(((unsigned __int128)1 << 64) - 1, false, "18446744073709551615");
    /* 2**70 + 19998 * 7919, the medium scenario's big int */
    check_int(((unsigned __int128)1 << 70) + 19998u * 7919u, false, "1180591620717569667586");
    check_int((unsigned __int128)1 << 100, true, "-1267650600228229401496703205376");
    /* A buffer too small is refused, not overrun. */
    uint32_t d[8];
    char small[4];
    size_t n = digits_of(123456, d);
    CU_ASSERT_FALSE(pm_format_int(d, n, false, small, sizeof small));
    /* Leading zero digits (as a corrupt size might give) are ignored. */
    uint32_t z[3] = {5, 0, 0};
    char buf[16];
    CU_ASSERT_TRUE(pm_format_int(z, 3, false, buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, "5");
}

static void check_float(double v, const char *want)
{
    char buf[40];
    pm_format_float(v, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_float(void)
{
    /* what repr() prints for each */
    check_float(0.0, "0.0");
    check_float(18.875, "18.875");
    check_float(0.1, "0.1");
    check_float(1.0 / 3.0, "0.3333333333333333");
    check_float(-2.5, "-2.5");
    check_float(1e22, "1e+22");
    check_float(123456789.0, "123456789.0");
    /* fixed point from 1e-4 up to 1e16, as repr() has it */
    check_float(100.0, "100.0");
    check_float(1e15, "1000000000000000.0");
    check_float(1e16, "1e+16");
    check_float(0.0001, "0.0001");
    check_float(1e-05, "1e-05");
    check_float(-0.0, "-0.0");
    check_float(1.5e300, "1.5e+300");
    check_float(NAN, "nan");
    check_float(-INFINITY, "-inf");
}

static void check_char(uint32_t c, const char *want)
{
    char buf[16];
    pm_format_char(c, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_char(void)
{
    check_char('a', "a");
    check_char('\'', "\\'");
    check_char('\\', "\\\\");
    check_char('\n', "\\n");
    check_char(0x01, "\\x01");
    check_char(0x7f, "\\x7f");
    check_char('\r', "\\r");
    check_char(0xa0, "\\xa0");     /* no-break space: not printable */
    check_char(0xad, "\\xad");     /* soft hyphen */
    check_char(0x2028, "\\u2028"); /* line separator */
    check_char(0xd800, "\\ud800"); /* a lone surrogate */
    check_char(0xfeff, "\\ufeff"); /* BOM */
    check_char(0xf0000, "\\U000f0000"); /* private use */
    check_char(0xe9, "\xc3\xa9");            /* é */
    check_char(0x3c0, "\xcf\x80");           /* π */
    check_char(0x1f40d, "\xf0\x9f\x90\x8d"); /* the snake */
    check_char(0x110000, "\\?");
}

/* Four 256 KiB arenas in one MiB, as 3.8 and 3.9 allocate them. */
static void test_objmap_small_arenas(void)
{
    pymac_arena arenas[4] = {{0}};
    pymac_pymalloc h = {0};
    h.arena_size = 256 * 1024;
    h.narenas = 4;
    h.arenas = arenas;
    const uint64_t base = 0x7f0000000000ull;
    /* not in address order, and one misaligned by a page */
    arenas[0].address = base + 3 * h.arena_size;
    arenas[1].address = base;
    arenas[2].address = base + 2 * h.arena_size + 4096;
    arenas[3].address = base + h.arena_size;
    /* the allocator interface over that walk sorts the arenas as regions */
    pm_layout L = {0};
    pymac_session s = {.layout = &L, .pymalloc = &h};
    const pm_heap *heap;
    CU_ASSERT_EQUAL_FATAL(pm_heap_get(&s, &heap, NULL), PYMAC_OK);
    CU_ASSERT_EQUAL(heap->nregions, 4);
    for (size_t i = 0; i + 1 < heap->nregions; i++)
        CU_ASSERT(heap->regions[i].base < heap->regions[i + 1].base);
    CU_ASSERT_EQUAL(heap->region_native[0], 1); /* the lowest is table entry 1 */
    pm_objmap m;
    CU_ASSERT_FATAL(pm_objmap_init(&m, heap));
    for (int i = 0; i < 4; i++) {
        uint64_t a = arenas[i].address;
        CU_ASSERT(pm_objmap_arena(&m, a) >= 0);
        CU_ASSERT(pm_objmap_arena(&m, a + h.arena_size - 16) >= 0);
    }
    CU_ASSERT_EQUAL(pm_objmap_arena(&m, base - 16), -1);
    CU_ASSERT_EQUAL(pm_objmap_arena(&m, base + 2 * h.arena_size), -1); /* the page gap */
    CU_ASSERT_EQUAL(pm_objmap_arena(&m, base + 4 * h.arena_size + 4096), -1);
    /* inside: one bit per 16 bytes; outside: the hash set */
    CU_ASSERT_TRUE(pm_objmap_add(&m, base + 32));
    CU_ASSERT_FALSE(pm_objmap_add(&m, base + 32));
    CU_ASSERT_TRUE(pm_objmap_has(&m, base + 32));
    CU_ASSERT_FALSE(pm_objmap_has(&m, base + 48));
    CU_ASSERT_FALSE(pm_objmap_add(&m, base + 40)); /* not 16-aligned in an arena */
    for (uint64_t i = 1; i <= 5000; i++)
        CU_ASSERT_TRUE(pm_objmap_add(&m, 0x1000 * i + 8));
    CU_ASSERT_EQUAL(m.outside_n, 5000);
    CU_ASSERT_TRUE(pm_objmap_has(&m, 0x1000 * 4321 + 8));
    CU_ASSERT_FALSE(pm_objmap_has(&m, 0x1000 * 4321));
    pm_objmap_free(&m);
    pm_heap_free(&s);
}

bool register_value_tests(void)
{
    static const unit_test tests[] = {
        {"ints of any size", test_int},
        {"float repr", test_float},
        {"str characters", test_char},
        {"object map with 256 KiB arenas", test_objmap_small_arenas},
        {NULL, NULL},
    };
    return unit_add_suite("values", NULL, NULL, tests);
}

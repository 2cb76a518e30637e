/* pm_decode_pool on hand-made pool headers: NUMBLOCKS, the never-used tail,
 * free-listed blocks, and the headers it must refuse. */
#include <string.h>

#include "obmalloc.h"
#include "unit.h"

/* struct pool_header on x86-64 (48 bytes, every CPython 3.8-3.13). */
static pm_layout std_layout(void)
{
    pm_layout L;
    memset(&L, 0, sizeof L);
    L.pool_header_size = 48;
    L.ph_count = (pm_field){.off = 0, .size = 4, .ok = true};
    L.ph_freeblock = (pm_field){.off = 8, .size = 8, .ok = true};
    L.ph_nextpool = (pm_field){.off = 16, .size = 8, .ok = true};
    L.ph_prevpool = (pm_field){.off = 24, .size = 8, .ok = true};
    L.ph_arenaindex = (pm_field){.off = 32, .size = 4, .ok = true};
    L.ph_szidx = (pm_field){.off = 36, .size = 4, .ok = true};
    L.ph_nextoffset = (pm_field){.off = 40, .size = 4, .ok = true};
    L.ph_maxnextoffset = (pm_field){.off = 44, .size = 4, .ok = true};
    return L;
}

/* The same fields in another order, to show the decoder goes by the layout. */
static pm_layout shuffled_layout(void)
{
    pm_layout L = std_layout();
    L.ph_maxnextoffset.off = 0;
    L.ph_nextoffset.off = 4;
    L.ph_freeblock.off = 8;
    L.ph_szidx.off = 16;
    L.ph_arenaindex = (pm_field){.off = 20, .size = 2, .ok = true};
    L.ph_count.off = 24;
    L.ph_nextpool.off = 32;
    L.ph_prevpool.off = 40;
    return L;
}

static pymac_pymalloc make_heap(uint32_t pool_size)
{
    pymac_pymalloc h;
    memset(&h, 0, sizeof h);
    h.pool_size = pool_size;
    h.arena_size = pool_size == 4096 ? 256 * 1024 : 1024 * 1024;
    h.pool_overhead = 48;
    h.nclasses = 32;
    for (uint32_t i = 0; i < h.nclasses; i++)
        h.classes[i].block_size = (i + 1) * 16;
    return h;
}

typedef struct hdr {
    uint64_t count, freeblock, arenaindex, szidx, nextoffset, maxnext;
} hdr;

static void put_field(unsigned char *buf, const pm_field *f, uint64_t v)
{
    for (unsigned i = 0; i < f->size; i++)
        buf[f->off + i] = (unsigned char)(v >> (8 * i));
}

#define POOL_ADDR 0x7f3a12344000ull

static char why[128];

/* Decodes v written with layout L; why and *p are poisoned first. */
static bool decode_with(const pymac_pymalloc *h, const pm_layout *L, hdr v, pymac_pool *p)
{
    unsigned char buf[48];
    memset(buf, 0x5a, sizeof buf); /* nextpool/prevpool: garbage */
    put_field(buf, &L->ph_count, v.count);
    put_field(buf, &L->ph_freeblock, v.freeblock);
    put_field(buf, &L->ph_arenaindex, v.arenaindex);
    put_field(buf, &L->ph_szidx, v.szidx);
    put_field(buf, &L->ph_nextoffset, v.nextoffset);
    put_field(buf, &L->ph_maxnextoffset, v.maxnext);
    memset(p, 0xff, sizeof *p);
    memset(why, 0, sizeof why);
    return pm_decode_pool(h, L, buf, POOL_ADDR, p, why, sizeof why);
}

static bool decode(const pymac_pymalloc *h, hdr v, pymac_pool *p)
{
    pm_layout L = std_layout();
    return decode_with(h, &L, v, p);
}

/* A refused header: false, with a one-line reason. */
static bool refused(const pymac_pymalloc *h, hdr v)
{
    pymac_pool p;
    bool ok = decode(h, v, &p);
    size_t n = strnlen(why, sizeof why);
    return !ok && n > 0 && n < sizeof why && !strchr(why, '\n');
}

static void test_empty(void)
{
    pymac_pymalloc h = make_heap(16384);
    pymac_pool p;
    /* Empty pools keep stale szidx and free list: they must not matter. */
    hdr v = {.count = 0, .freeblock = POOL_ADDR + 0x1230, .arenaindex = 7, .szidx = 99,
             .nextoffset = 1, .maxnext = 2};
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.state, PYMAC_POOL_EMPTY);
    CU_ASSERT_EQUAL(p.address, POOL_ADDR);
    CU_ASSERT_EQUAL(p.arena_index, 7);
    CU_ASSERT_EQUAL(p.blocks_in_use, 0);
    CU_ASSERT_EQUAL(p.blocks_free_listed, 0);
    CU_ASSERT_EQUAL(p.blocks_never_used, 0);
}

static void test_full(void)
{
    pymac_pymalloc h = make_heap(16384);
    pymac_pool p;
    /* Class 0: (16384 - 48) / 16 = 1021 blocks, the last at 16368 = maxnextoffset;
     * after carving it nextoffset is 48 + 1021 * 16 = 16384. */
    hdr v = {.count = 1021, .freeblock = 0, .arenaindex = 3, .szidx = 0, .nextoffset = 16384,
             .maxnext = 16368};
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.state, PYMAC_POOL_FULL);
    CU_ASSERT_EQUAL(p.address, POOL_ADDR);
    CU_ASSERT_EQUAL(p.arena_index, 3);
    CU_ASSERT_EQUAL(p.size_class, 0);
    CU_ASSERT_EQUAL(p.block_size, 16);
    CU_ASSERT_EQUAL(p.blocks_total, 1021);
    CU_ASSERT_EQUAL(p.blocks_in_use, 1021);
    CU_ASSERT_EQUAL(p.blocks_free_listed, 0);
    CU_ASSERT_EQUAL(p.blocks_never_used, 0);
}

static void test_fresh(void)
{
    pymac_pymalloc h = make_heap(16384);
    pymac_pool p;
    /* A pool just set up by pymalloc: block 0 handed out, block 1 on the free
     * list (next NULL), nextoffset = 48 + 2 * 16 = 80. Never used: blocks 2..1020,
     * (16368 - 80) / 16 + 1 = 1019. */
    hdr v = {.count = 1, .freeblock = POOL_ADDR + 64, .szidx = 0, .nextoffset = 80,
             .maxnext = 16368};
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.state, PYMAC_POOL_USED);
    CU_ASSERT_EQUAL(p.blocks_total, 1021);
    CU_ASSERT_EQUAL(p.blocks_in_use, 1);
    CU_ASSERT_EQUAL(p.blocks_never_used, 1019);
    CU_ASSERT_EQUAL(p.blocks_free_listed, 1);
}

static void test_used_with_tail(void)
{
    pymac_pymalloc h = make_heap(16384);
    pymac_pool p;
    /* Class 2 (48 bytes): 16336 / 48 = 340 blocks, maxnextoffset 16384 - 48 = 16336.
     * Ten blocks carved (nextoffset 48 + 10 * 48 = 528): never used =
     * (16336 - 528) / 48 + 1 = 329 + 1 = 330; 7 in use; 340 - 7 - 330 = 3 free-listed. */
    hdr v = {.count = 7, .freeblock = POOL_ADDR + 48 + 96, .arenaindex = 12, .szidx = 2,
             .nextoffset = 528, .maxnext = 16336};
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.state, PYMAC_POOL_USED);
    CU_ASSERT_EQUAL(p.arena_index, 12);
    CU_ASSERT_EQUAL(p.size_class, 2);
    CU_ASSERT_EQUAL(p.block_size, 48);
    CU_ASSERT_EQUAL(p.blocks_total, 340);
    CU_ASSERT_EQUAL(p.blocks_in_use, 7);
    CU_ASSERT_EQUAL(p.blocks_never_used, 330);
    CU_ASSERT_EQUAL(p.blocks_free_listed, 3);

    /* The same header in another field order decodes the same. */
    pm_layout L = shuffled_layout();
    pymac_pool q;
    CU_ASSERT_TRUE_FATAL(decode_with(&h, &L, v, &q));
    CU_ASSERT_EQUAL(q.state, PYMAC_POOL_USED);
    CU_ASSERT_EQUAL(q.arena_index, 12);
    CU_ASSERT_EQUAL(q.block_size, 48);
    CU_ASSERT_EQUAL(q.blocks_in_use, 7);
    CU_ASSERT_EQUAL(q.blocks_never_used, 330);
    CU_ASSERT_EQUAL(q.blocks_free_listed, 3);
}

static void test_largest_class(void)
{
    pymac_pymalloc h = make_heap(16384);
    pymac_pool p;
    /* Class 31 (512 bytes): 16336 / 512 = 31 blocks at 48 + 512k, the last at
     * 15408 <= maxnextoffset 15872. */
    hdr v = {.count = 29, .freeblock = POOL_ADDR + 560, .szidx = 31, .nextoffset = 15408,
             .maxnext = 15872};
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.block_size, 512);
    CU_ASSERT_EQUAL(p.blocks_total, 31);
    CU_ASSERT_EQUAL(p.blocks_never_used, 1); /* (15872 - 15408) / 512 + 1 */
    CU_ASSERT_EQUAL(p.blocks_free_listed, 1);
    /* Every block carved (nextoffset 48 + 31 * 512 = 15920 > maxnextoffset). */
    v.count = 30;
    v.nextoffset = 15920;
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.state, PYMAC_POOL_USED);
    CU_ASSERT_EQUAL(p.blocks_never_used, 0);
    CU_ASSERT_EQUAL(p.blocks_free_listed, 1);
}

/* NUMBLOCKS per class, worked out by hand: (pool - 48) / size. */
static const struct {
    uint32_t szidx, n16k, n4k;
} numblocks[] = {
    {0, 1021, 253}, /* 16336/16, 4048/16 */
    {1, 510, 126},  /* 16336/32 = 510.5, 4048/32 = 126.5 */
    {2, 340, 84},   /* 4048/48 = 84.3 */
    {3, 255, 63},   /* 16336/64 = 255.25 */
    {7, 127, 31},   /* size 128: 127.6, 31.6 */
    {15, 63, 15},   /* size 256: 63.8, 15.8 */
    {31, 31, 7},    /* size 512: 31.9, 7.9 */
};

static void check_numblocks(uint32_t pool_size)
{
    pymac_pymalloc h = make_heap(pool_size);
    for (size_t i = 0; i < sizeof numblocks / sizeof numblocks[0]; i++) {
        uint32_t size = (numblocks[i].szidx + 1) * 16;
        uint32_t n = pool_size == 16384 ? numblocks[i].n16k : numblocks[i].n4k;
        hdr v = {.count = n, .szidx = numblocks[i].szidx, .nextoffset = 48 + n * size,
                 .maxnext = pool_size - size};
        pymac_pool p;
        CU_ASSERT_TRUE(decode(&h, v, &p));
        CU_ASSERT_EQUAL(p.blocks_total, n);
        CU_ASSERT_EQUAL(p.state, PYMAC_POOL_FULL);
        CU_ASSERT_EQUAL(p.blocks_never_used, 0);
        v.count = n + 1; /* one more than fits */
        CU_ASSERT_TRUE(refused(&h, v));
    }
}

static void test_numblocks_16k(void)
{
    check_numblocks(16384);
}

static void test_numblocks_4k(void)
{
    check_numblocks(4096);
    /* 3.8/3.9: a used class-31 pool, 4 blocks carved (nextoffset 48 + 4 * 512 =
     * 2096), 3 in use; never used (3584 - 2096) / 512 + 1 = 3 (blocks 4..6). */
    pymac_pymalloc h = make_heap(4096);
    pymac_pool p;
    hdr v = {.count = 3, .freeblock = POOL_ADDR + 48, .szidx = 31, .nextoffset = 2096,
             .maxnext = 3584};
    CU_ASSERT_TRUE_FATAL(decode(&h, v, &p));
    CU_ASSERT_EQUAL(p.blocks_total, 7);
    CU_ASSERT_EQUAL(p.blocks_never_used, 3);
    CU_ASSERT_EQUAL(p.blocks_free_listed, 1);
    /* A 16 KiB pool's maxnextoffset is nonsense in a 4 KiB heap. */
    v = (hdr){.count = 1021, .szidx = 0, .nextoffset = 16384, .maxnext = 16368};
    CU_ASSERT_TRUE(refused(&h, v));
}

static void test_corrupt(void)
{
    pymac_pymalloc h = make_heap(16384);
    hdr good = {.count = 1000, .freeblock = POOL_ADDR + 48, .szidx = 0, .nextoffset = 16384,
                .maxnext = 16368};
    pymac_pool p;
    CU_ASSERT_TRUE(decode(&h, good, &p)); /* the baseline is fine */

    hdr v = good;
    v.szidx = 32; /* == nclasses */
    CU_ASSERT_TRUE(refused(&h, v));
    v.szidx = UINT32_MAX;
    CU_ASSERT_TRUE(refused(&h, v));

    v = good;
    v.count = 1022; /* > NUMBLOCKS */
    CU_ASSERT_TRUE(refused(&h, v));
    v.count = UINT32_MAX;
    CU_ASSERT_TRUE(refused(&h, v));

    v = good;
    v.maxnext = 16352; /* class 1's, not class 0's */
    CU_ASSERT_TRUE(refused(&h, v));
    v.maxnext = 0;
    CU_ASSERT_TRUE(refused(&h, v));

    v = good;
    v.nextoffset = 32; /* inside the header */
    CU_ASSERT_TRUE(refused(&h, v));
    v.nextoffset = 16400; /* past the pool */
    CU_ASSERT_TRUE(refused(&h, v));

    v = good;
    v.freeblock = 0; /* full, yet 21 blocks neither in use nor never used */
    CU_ASSERT_TRUE(refused(&h, v));

    v = good;
    v.nextoffset = 80; /* 1019 never used + 1000 in use > 1021 */
    CU_ASSERT_TRUE(refused(&h, v));

    /* The reason fits whatever room it is given. */
    unsigned char buf[48] = {0};
    pm_layout L = std_layout();
    put_field(buf, &L.ph_count, 5);
    put_field(buf, &L.ph_szidx, 40);
    char small[6];
    memset(small, 'x', sizeof small);
    CU_ASSERT_FALSE(pm_decode_pool(&h, &L, buf, POOL_ADDR, &p, small, sizeof small));
    CU_ASSERT_EQUAL(strnlen(small, sizeof small), sizeof small - 1);
}

/* ---- regressions: bugs these tests found, since fixed ---- */

/* pymalloc keeps freeblock non-NULL while a pool has any free block (it
 * carves the next never-used block as soon as the list runs out), so
 * freeblock == NULL means every block is in use, and a non-NULL freeblock
 * points at a free-listed block. pm_decode_pool only checks "freeblock NULL
 * => nothing free-listed" and accepts a FULL pool with never-used blocks
 * (blocks_in_use < blocks_total) and a USED pool with an empty free list. */
static void test_bug_state_vs_counts(void)
{
    pymac_pymalloc h = make_heap(16384);
    /* never used: (16368 - 16048) / 16 + 1 = 21; 1000 + 21 = 1021, free-listed 0 */
    hdr v = {.count = 1000, .freeblock = 0, .szidx = 0, .nextoffset = 16048, .maxnext = 16368};
    CU_ASSERT_TRUE(refused(&h, v));
    v.freeblock = POOL_ADDR + 48;
    CU_ASSERT_TRUE(refused(&h, v));
}

bool register_pool_tests(void)
{
    static const unit_test tests[] = {
        {"empty pool", test_empty},
        {"full pool", test_full},
        {"freshly initialised pool", test_fresh},
        {"used pool with a never-used tail", test_used_with_tail},
        {"largest size class", test_largest_class},
        {"NUMBLOCKS, 16 KiB pools (3.10+)", test_numblocks_16k},
        {"NUMBLOCKS, 4 KiB pools (3.8, 3.9)", test_numblocks_4k},
        {"corrupt headers", test_corrupt},
        {NULL, NULL},
    };
    /* Bugs these tests found, fixed since: kept as regressions. */
    static const unit_test bugs[] = {
        {"pool state vs block counts", test_bug_state_vs_counts},
        {NULL, NULL},
    };
    if (!unit_add_suite("pool", NULL, NULL, tests))
        return false;
    return unit_add_suite("pool regressions", NULL, NULL, bugs);
}

/* tracemalloc's tables (tracemalloc.c) on synthetic hash tables: empty, full,
 * looping, miscounted and damaged, in both entry shapes (3.8's inline key and
 * data, 3.9+'s key and value pointers); and Snapshot.statistics()'s grouping
 * and order (tracemalloc_stats.c) on hand-made traces. The offsets below are
 * those of the x86-64 builds (`ptype/o _Py_hashtable_entry_t`). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "synth.h"
#include "tracemalloc.h"
#include "unit.h"

static pm_field fld(int32_t off, uint32_t size)
{
    pm_field f;
    memset(&f, 0, sizeof f);
    f.off = off;
    f.size = size;
    f.ok = true;
    return f;
}

/* 3.9+: {next, key_hash, key, value}; table {nentries, nbuckets, buckets} */
static pm_tm_layout layout_39(void)
{
    pm_tm_layout T;
    memset(&T, 0, sizeof T);
    T.entry_size = 32;
    T.bucket_size = 8;
    T.ht_nentries = fld(0, 8);
    T.ht_nbuckets = fld(8, 8);
    T.ht_buckets = fld(16, 8);
    T.e_next = fld(0, 8);
    T.e_key = fld(16, 8);
    T.e_value = fld(24, 8);
    return T;
}

/* 3.8: {next, key_hash} then key_size bytes of key and the data; table
 * {num_buckets, entries, buckets, key_size, data_size}; pointer_t packed */
static pm_tm_layout layout_38(void)
{
    pm_tm_layout T;
    memset(&T, 0, sizeof T);
    T.inline_entries = true;
    T.entry_size = 16;
    T.bucket_size = 8;
    T.ht_nbuckets = fld(0, 8);
    T.ht_nentries = fld(8, 8);
    T.ht_buckets = fld(16, 8);
    T.ht_key_size = fld(24, 8);
    T.ht_data_size = fld(32, 8);
    T.e_next = fld(0, 8);
    T.pointer_key_size = 12;
    T.pk_ptr = fld(0, 8);
    T.pk_domain = fld(8, 4);
    return T;
}

typedef struct entry {
    uint64_t key, value;
    uint32_t domain; /* 3.8 keys of 12 bytes */
    uint64_t bucket;
    uint64_t addr;   /* where it was written */
} entry;

/* A table whose buckets chain entries[] (each pushed at its bucket's head);
 * `count` is what its header claims. */
static uint64_t make_table(synth *sy, const pm_tm_layout *T, uint64_t nbuckets, entry *e,
                           size_t n, uint64_t count, uint64_t key_size)
{
    uint64_t ht = synth_alloc(sy, 64);
    uint64_t buckets = synth_alloc(sy, nbuckets * 8);
    synth_wfield(sy, ht, &T->ht_nbuckets, nbuckets);
    synth_wfield(sy, ht, &T->ht_nentries, count);
    synth_wfield(sy, ht, &T->ht_buckets, buckets);
    if (T->inline_entries) {
        synth_wfield(sy, ht, &T->ht_key_size, key_size);
        synth_wfield(sy, ht, &T->ht_data_size, 16);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t a = synth_alloc(sy, T->entry_size + key_size + 16);
        uint64_t b = buckets + e[i].bucket * 8;
        synth_wfield(sy, a, &T->e_next, synth_r64(sy, b));
        if (T->inline_entries) {
            synth_w64(sy, a + T->entry_size, e[i].key);
            if (key_size == 12)
                synth_w32(sy, a + T->entry_size + 8, e[i].domain);
            e[i].value = a + T->entry_size + key_size; /* the inline data */
        } else {
            synth_wfield(sy, a, &T->e_key, e[i].key);
            synth_wfield(sy, a, &T->e_value, e[i].value);
        }
        synth_w64(sy, b, a);
        e[i].addr = a;
    }
    synth_sync(sy);
    return ht;
}

typedef struct seen {
    uint64_t key[64], value[64];
    uint32_t domain[64];
    size_t n;
} seen;

static bool collect(void *ctx, uint64_t key, uint32_t domain, uint64_t value)
{
    seen *s = ctx;
    if (s->n < 64) {
        s->key[s->n] = key;
        s->domain[s->n] = domain;
        s->value[s->n] = value;
    }
    s->n++;
    return true;
}

/* Each entry reported once, with its own value. */
static void expect_all(const seen *got, const entry *e, size_t n)
{
    CU_ASSERT_EQUAL_FATAL(got->n, n);
    for (size_t i = 0; i < n; i++) {
        size_t hits = 0;
        for (size_t j = 0; j < got->n; j++)
            if (got->key[j] == e[i].key && got->value[j] == e[i].value &&
                got->domain[j] == e[i].domain)
                hits++;
        CU_ASSERT_EQUAL(hits, 1);
    }
}

static void test_empty(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = layout_39();
    seen got = {0};
    uint64_t ht = make_table(sy, &T, 8, NULL, 0, 0, 8);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_OK);
    CU_ASSERT_EQUAL(got.n, 0);
    /* empty, whatever its buckets pointer says */
    synth_w64(sy, ht + 16, synth_hole(sy));
    synth_sync(sy);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_OK);
    CU_ASSERT_EQUAL(got.n, 0);
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 0);
    synth_free(sy);
}

static void test_full(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = layout_39();
    /* 4 buckets: chains of 3, 0, 1 and 6 */
    entry e[10];
    uint64_t where[10] = {0, 0, 0, 2, 3, 3, 3, 3, 3, 3};
    for (size_t i = 0; i < 10; i++)
        e[i] = (entry){.key = 0x1000 + i * 16, .value = 0x9000 + i, .bucket = where[i]};
    uint64_t ht = make_table(sy, &T, 4, e, 10, 10, 8);
    seen got = {0};
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_OK);
    expect_all(&got, e, 10);
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 0);
    synth_free(sy);
}

static void test_inline_38(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = layout_38();
    entry e[3] = {{.key = 0x5000, .bucket = 1}, {.key = 0x6000, .bucket = 1},
                  {.key = 0x7000, .bucket = 0}};
    /* pointer keys: domain 0 */
    uint64_t ht = make_table(sy, &T, 2, e, 3, 3, 8);
    seen got = {0};
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_OK);
    expect_all(&got, e, 3);
    /* {ptr, domain} keys once another domain was used */
    entry d[3] = {{.key = 0x5000, .domain = 0, .bucket = 0},
                  {.key = 0x5000, .domain = 7, .bucket = 0},
                  {.key = 0x8000, .domain = 0xfffffffe, .bucket = 1}};
    ht = make_table(sy, &T, 2, d, 3, 3, 12);
    memset(&got, 0, sizeof got);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_OK);
    expect_all(&got, d, 3);
    /* a key size that is neither: nothing read, said so */
    synth_w64(sy, ht + 24, 10);
    synth_sync(sy);
    memset(&got, 0, sizeof got);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_PARTIAL);
    CU_ASSERT_EQUAL(got.n, 0);
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 1);
    synth_free(sy);
}

static void test_looping_chain(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = layout_39();
    entry e[4];
    for (size_t i = 0; i < 4; i++)
        e[i] = (entry){.key = 0x2000 + i * 16, .value = i, .bucket = i == 3};
    uint64_t ht = make_table(sy, &T, 2, e, 4, 4, 8);
    /* bucket 0 chains e2 -> e1 -> e0: point e0 back at e2 */
    synth_w64(sy, e[0].addr, e[2].addr);
    synth_sync(sy);
    seen got = {0};
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_PARTIAL);
    CU_ASSERT(got.n <= 4); /* never more than the table counts */
    CU_ASSERT(got.n >= 3);
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(pymac_warning(sy->s, 0), "looping"));
    /* a chain into itself, with a count that is huge */
    synth_w64(sy, e[3].addr, e[3].addr);
    synth_w64(sy, ht, 1000000);
    synth_sync(sy);
    memset(&got, 0, sizeof got);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_PARTIAL);
    synth_free(sy);
}

static void test_damaged(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = layout_39();
    entry e[4];
    for (size_t i = 0; i < 4; i++)
        e[i] = (entry){.key = 0x3000 + i * 16, .value = i, .bucket = i % 2};
    /* fewer entries than counted */
    uint64_t ht = make_table(sy, &T, 2, e, 4, 5, 8);
    seen got = {0};
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_PARTIAL);
    expect_all(&got, e, 4);
    /* a chain into an unmapped page: the other bucket still read */
    synth_w64(sy, ht, 4);
    synth_w64(sy, e[2].addr, synth_hole(sy)); /* bucket 0: e2 -> hole */
    synth_sync(sy);
    memset(&got, 0, sizeof got);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_PARTIAL);
    CU_ASSERT_EQUAL(got.n, 3); /* e2, then e3 and e1 of bucket 1 */
    /* buckets more than memory holds: nothing read */
    synth_w64(sy, ht + 8, UINT64_MAX / 8);
    synth_sync(sy);
    memset(&got, 0, sizeof got);
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, ht, collect, &got), PYMAC_PARTIAL);
    CU_ASSERT_EQUAL(got.n, 0);
    /* a table header in a hole */
    CU_ASSERT_EQUAL(pm_tm_table_walk(sy->s, &T, synth_hole(sy), collect, &got), PYMAC_PARTIAL);
    synth_free(sy);
}

/* ---- statistics ---- */

/* files: 0 "a.py" < 1 "b.py"; tracebacks most recent first */
static void test_statistics(void)
{
    char *files[] = {"a.py", "b.py"};
    pm_tm_frame frames[] = {
        {0, 10}, {1, 5},          /* tb0: a.py:10 called from b.py:5 */
        {0, 20}, {1, 5},          /* tb1: a.py:20 called from b.py:5 */
        {0, 10}, {1, 7},          /* tb2: a.py:10 called from b.py:7 */
        {1, 9},                   /* tb3: b.py:9 alone */
    };
    pm_tm_traceback tbs[] = {{1, 0, 2, 2}, {2, 2, 2, 2}, {3, 4, 2, 2}, {4, 6, 1, 1},
                             {5, 7, 0, 0}}; /* tb4 unreadable */
    pm_tm_trace traces[] = {
        {.ptr = 1, .size = 100, .tb = 0}, {.ptr = 2, .size = 50, .tb = 0},
        {.ptr = 3, .size = 150, .tb = 1}, {.ptr = 4, .size = 30, .tb = 2},
        {.ptr = 5, .size = 120, .tb = 3}, {.ptr = 6, .size = 999, .tb = 4},
    };
    pm_tracemalloc tm = {.tracing = true, .max_nframe = 2, .traces = traces, .ntraces = 6,
                         .tracebacks = tbs, .ntracebacks = 5, .frames = frames, .nframes = 7,
                         .files = files, .nfiles = 2};
    pm_tm_stat *st;
    size_t n;
    /* lineno: a.py:10 180/3, a.py:20 150/1, b.py:9 120/1 */
    CU_ASSERT_EQUAL_FATAL(pm_tm_statistics(&tm, PM_TM_LINENO, false, &st, &n), PYMAC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT(st[0].size == 180 && st[0].count == 3 && st[0].one.file == 0 &&
              st[0].one.lineno == 10);
    CU_ASSERT(st[1].size == 150 && st[1].one.lineno == 20);
    CU_ASSERT(st[2].size == 120 && st[2].one.file == 1 && st[2].one.lineno == 9);
    free(st);
    /* filename: a.py 330/4, b.py 120/1, lineno 0 */
    CU_ASSERT_EQUAL_FATAL(pm_tm_statistics(&tm, PM_TM_FILENAME, false, &st, &n), PYMAC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT(st[0].size == 330 && st[0].count == 4 && st[0].one.file == 0 &&
              st[0].one.lineno == 0);
    CU_ASSERT(st[1].size == 120 && st[1].count == 1 && st[1].one.file == 1);
    free(st);
    /* cumulative lineno: b.py:5 300/3, a.py:10 180/3, a.py:20 150/1,
     * b.py:9 120/1, b.py:7 30/1 */
    CU_ASSERT_EQUAL_FATAL(pm_tm_statistics(&tm, PM_TM_LINENO, true, &st, &n), PYMAC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT(st[0].size == 300 && st[0].count == 3 && st[0].one.file == 1 &&
              st[0].one.lineno == 5);
    CU_ASSERT(st[1].size == 180 && st[1].one.lineno == 10);
    CU_ASSERT(st[4].size == 30 && st[4].one.lineno == 7);
    free(st);
    /* traceback: tb1 150/1 and tb0 150/2 tie on size: the count decides */
    CU_ASSERT_EQUAL_FATAL(pm_tm_statistics(&tm, PM_TM_TRACEBACK, false, &st, &n), PYMAC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT(st[0].frames == &frames[0] && st[0].count == 2);
    CU_ASSERT(st[1].frames == &frames[2]);
    CU_ASSERT(st[2].frames == &frames[6] && st[2].nframes == 1);
    CU_ASSERT(st[3].frames == &frames[4]);
    free(st);
    CU_ASSERT_EQUAL(pm_tm_statistics(&tm, PM_TM_TRACEBACK, true, &st, &n), PYMAC_E_USAGE);
}

/* Equal size and count: Python compares the tracebacks oldest frame first,
 * and sorts the larger first. */
static void test_statistics_ties(void)
{
    char *files[] = {"a.py", "b.py", "c.py"};
    pm_tm_frame frames[] = {
        {2, 1}, {0, 9},  /* tb0: c.py:1 <- a.py:9 (oldest a.py:9) */
        {0, 1}, {1, 1},  /* tb1: a.py:1 <- b.py:1 (oldest b.py:1) */
        {1, 1},          /* tb2: b.py:1 alone: a prefix of tb1 in Python's order */
    };
    pm_tm_traceback tbs[] = {{1, 0, 2, 2}, {2, 2, 2, 2}, {3, 4, 1, 1}};
    pm_tm_trace traces[] = {{.ptr = 1, .size = 8, .tb = 0}, {.ptr = 2, .size = 8, .tb = 1},
                            {.ptr = 3, .size = 8, .tb = 2}};
    pm_tracemalloc tm = {.tracing = true, .max_nframe = 2, .traces = traces, .ntraces = 3,
                         .tracebacks = tbs, .ntracebacks = 3, .frames = frames, .nframes = 5,
                         .files = files, .nfiles = 3};
    pm_tm_stat *st;
    size_t n;
    /* (b.py:1, a.py:1) > (b.py:1,) > (a.py:9, c.py:1) */
    CU_ASSERT_EQUAL_FATAL(pm_tm_statistics(&tm, PM_TM_TRACEBACK, false, &st, &n), PYMAC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT(st[0].frames == &frames[2]);
    CU_ASSERT(st[1].frames == &frames[4]);
    CU_ASSERT(st[2].frames == &frames[0]);
    free(st);
    /* lineno: c.py:1 > b.py:1 > a.py:1, all 8 bytes once */
    CU_ASSERT_EQUAL_FATAL(pm_tm_statistics(&tm, PM_TM_LINENO, false, &st, &n), PYMAC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT(st[0].one.file == 2 && st[1].one.file == 1 && st[2].one.file == 0);
    free(st);
}

/* ---- the stripped finder's steps (tracemalloc_find.c) ---- */

/* .bss of the sketches below; T_ and P_ the traced memory and its peak,
 * TR the traces, DM the domains, LK the lock, AL an allocator's ctx */
enum { BSS_LO = 0x3ae500, BSS_HI = 0x3ae700, T_ = 0x3ae5b8, P_ = 0x3ae5b0, TR = 0x3ae590,
       DM = 0x3ae588, LK = 0x3ae5e0, AL = 0x3ae628, DATA = 0x373de8 };

static pm_insn op(uint8_t kind, uint8_t reg, uint8_t width, uint64_t target)
{
    pm_insn i = {.kind = kind, .reg = reg, .width = width, .target = target, .len = 7};
    return i;
}

static void test_code_traced(void)
{
    /* Untrack with remove_trace inlined: sub %rax,traced(%rip) */
    pm_insn untrack[] = {
        op(PM_INSN_LOAD, 7, 8, LK),    op(PM_INSN_LOAD, 7, 8, TR),
        op(PM_INSN_LOAD, 7, 8, AL),    op(PM_INSN_SUB_FROM, 0, 8, T_),
        op(PM_INSN_LOAD, 7, 8, DM),    op(PM_INSN_SUB_FROM, 0, 8, DATA), /* not .bss */
        op(PM_INSN_SUB_FROM, 1, 4, LK), /* an int: not a size_t */
    };
    pm_tm_fn fns[2] = {{untrack, 7}, {untrack, 3}};
    CU_ASSERT_EQUAL(pm_tm_code_traced(fns, 1, BSS_LO, BSS_HI), T_);
    /* the same static from two functions: still one */
    pm_insn again[] = {op(PM_INSN_SUB_FROM, 2, 8, T_)};
    fns[1] = (pm_tm_fn){again, 1};
    CU_ASSERT_EQUAL(pm_tm_code_traced(fns, 2, BSS_LO, BSS_HI), T_);
    /* a second static subtracted from: no answer */
    pm_insn other[] = {op(PM_INSN_SUB_FROM, 2, 8, P_)};
    fns[1] = (pm_tm_fn){other, 1};
    CU_ASSERT_EQUAL(pm_tm_code_traced(fns, 2, BSS_LO, BSS_HI), 0);
    /* none: no answer */
    fns[0].n = 3;
    CU_ASSERT_EQUAL(pm_tm_code_traced(fns, 1, BSS_LO, BSS_HI), 0);
}

static void test_code_peak(void)
{
    /* add_trace: mov traced,%rdx; add; cmp %rax,peak; mov %rax,traced; ...
     * mov %rax,peak (out of line) */
    pm_insn add[] = {
        op(PM_INSN_LOAD, 5, 8, TR),       op(PM_INSN_LOAD, PM_REG_RDX, 8, T_),
        op(PM_INSN_CMP, 0, 8, P_),        op(PM_INSN_STORE, 0, 8, T_),
        op(PM_INSN_STORE, 3, 8, AL),      op(PM_INSN_STORE, 0, 8, P_),
        op(PM_INSN_LOAD, 7, 8, DM),
    };
    pm_tm_fn fns[2] = {{add, 7}, {add, 0}};
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 1, T_, BSS_LO, BSS_HI), P_);
    /* no store to the traced memory: no answer */
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 1, 0x3ae5c0, BSS_LO, BSS_HI), 0);
    /* the peak stored from another register than the traced memory */
    add[5].reg = 3;
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 1, T_, BSS_LO, BSS_HI), 0);
    add[5].reg = 0;
    /* stored from it but never read (compared with another register) */
    add[2].reg = 1;
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 1, T_, BSS_LO, BSS_HI), 0);
    /* loaded then compared: read all the same */
    add[2] = op(PM_INSN_LOAD, 1, 8, P_);
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 1, T_, BSS_LO, BSS_HI), P_);
    /* the store and the read in different functions do not make a pattern */
    pm_insn split[] = {op(PM_INSN_STORE, 0, 8, T_), op(PM_INSN_STORE, 0, 8, AL)};
    pm_insn reader[] = {op(PM_INSN_CMP, 0, 8, AL)};
    fns[1] = (pm_tm_fn){split, 2};
    pm_tm_fn two[2] = {{split, 2}, {reader, 1}};
    CU_ASSERT_EQUAL(pm_tm_code_peak(two, 2, T_, BSS_LO, BSS_HI), 0);
    /* a second word that fits, in another function: no answer */
    pm_insn also[] = {op(PM_INSN_STORE, 0, 8, T_), op(PM_INSN_CMP, 0, 8, AL),
                      op(PM_INSN_STORE, 0, 8, AL)};
    fns[1] = (pm_tm_fn){also, 3};
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 2, T_, BSS_LO, BSS_HI), 0);
    /* outside .bss: not a static of these */
    CU_ASSERT_EQUAL(pm_tm_code_peak(fns, 1, T_, BSS_LO, P_), 0);
}

static void test_code_tables(void)
{
    pm_insn track[] = {op(PM_INSN_LOAD, 7, 8, LK), op(PM_INSN_LOAD, 5, 8, TR),
                       op(PM_INSN_LOAD, 2, 8, T_), op(PM_INSN_LOAD, 7, 8, DM),
                       op(PM_INSN_LOAD, 7, 8, AL), op(PM_INSN_LOAD, 0, 8, DATA)};
    pm_insn untrack[] = {op(PM_INSN_LOAD, 7, 8, LK), op(PM_INSN_LOAD, 7, 8, TR),
                         op(PM_INSN_LOAD, 7, 8, DM), op(PM_INSN_LOAD, 7, 8, AL),
                         op(PM_INSN_LOAD, 0, 8, DATA)};
    pm_insn get[] = {op(PM_INSN_LOAD, 7, 8, DM), op(PM_INSN_LOAD, 7, 8, LK),
                     op(PM_INSN_LOAD, 7, 8, TR), op(PM_INSN_LOAD, 7, 8, TR),
                     op(PM_INSN_LOAD, 0, 8, DATA), op(PM_INSN_LOAD, 0, 4, AL)};
    pm_tm_fn a[1] = {{track, 6}}, b[1] = {{untrack, 5}}, c[1] = {{get, 6}};
    const pm_tm_fn *sets[3] = {a, b, c};
    size_t nsets[3] = {1, 1, 1};
    uint64_t skip[2] = {T_, P_}, out[8];
    /* in all three, .bss, 8 bytes, not skipped: DM < TR < LK (AL is read as
     * 4 bytes in one, T_ is in one only, DATA is not .bss) */
    CU_ASSERT_EQUAL_FATAL(pm_tm_code_tables(sets, nsets, 3, BSS_LO, BSS_HI, skip, 2, out, 8), 3);
    CU_ASSERT(out[0] == DM && out[1] == TR && out[2] == LK);
    /* skipped */
    skip[1] = TR;
    CU_ASSERT_EQUAL(pm_tm_code_tables(sets, nsets, 3, BSS_LO, BSS_HI, skip, 2, out, 8), 2);
    /* more than the room: the count says so */
    CU_ASSERT_EQUAL(pm_tm_code_tables(sets, nsets, 3, BSS_LO, BSS_HI, NULL, 0, out, 1), 3);
    /* one export naming none: none */
    nsets[2] = 0;
    CU_ASSERT_EQUAL(pm_tm_code_tables(sets, nsets, 3, BSS_LO, BSS_HI, NULL, 0, out, 8), 0);
}

/* The layout with trace_t {size, traceback} */
static pm_tm_layout with_trace(pm_tm_layout T)
{
    T.tr_size = fld(0, 8);
    T.tr_traceback = fld(8, 8);
    T.trace_size = 16;
    return T;
}

/* A 3.9+ traces table of n traces of the given sizes (each its own trace_t
 * with a traceback pointer). */
static uint64_t traces_table(synth *sy, const pm_tm_layout *T, const uint64_t *sizes, size_t n)
{
    entry e[8];
    for (size_t i = 0; i < n; i++) {
        uint64_t tr = synth_alloc(sy, 16);
        synth_wfield(sy, tr, &T->tr_size, sizes[i]);
        synth_wfield(sy, tr, &T->tr_traceback, 0x7000 + 16 * i);
        e[i] = (entry){.key = 0x10000 + 64 * i, .value = tr, .bucket = i % 4};
    }
    return make_table(sy, T, 4, e, n, n, 8);
}

/* A static (a word) holding v. */
static uint64_t word(synth *sy, uint64_t v)
{
    uint64_t w = synth_alloc(sy, 8);
    synth_w64(sy, w, v);
    return w;
}

static void test_confirm(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = with_trace(layout_39());
    uint64_t sizes[3] = {100, 200, 300}, other[1] = {50};
    uint64_t traces = traces_table(sy, &T, sizes, 3), seven = traces_table(sy, &T, other, 1);
    entry d[1] = {{.key = 7, .value = seven, .bucket = 1}};
    uint64_t domains = make_table(sy, &T, 4, d, 1, 1, 8);
    uint64_t empty = make_table(sy, &T, 4, NULL, 0, 0, 8);
    uint64_t empty2 = make_table(sy, &T, 8, NULL, 0, 0, 8);
    /* a lock: sem_t {value 1, private 128} */
    uint64_t lock = synth_alloc(sy, 32);
    synth_w64(sy, lock, 1);
    synth_w64(sy, lock + 8, 128);
    uint64_t s_tr = word(sy, traces), s_dm = word(sy, domains), s_lk = word(sy, lock);
    uint64_t s_em = word(sy, empty), s_em2 = word(sy, empty2), s_null = word(sy, 0);
    uint64_t traced = word(sy, 650), peak = word(sy, 700);
    synth_sync(sy);
    uint64_t tr, dm;
    uint64_t cand[4] = {s_dm, s_tr, s_lk, s_null};
    CU_ASSERT_TRUE(pm_tm_confirm(sy->s, &T, true, cand, 4, traced, peak, &tr, &dm));
    CU_ASSERT_EQUAL(tr, s_tr);
    CU_ASSERT_EQUAL(dm, s_dm);
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 0); /* the wrong ones' walks are not said */
    /* the sizes do not add up to the traced memory: none */
    synth_w64(sy, traced, 651);
    synth_sync(sy);
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, true, cand, 4, traced, peak, &tr, &dm));
    CU_ASSERT(tr == 0 && dm == 0);
    /* a peak below the traced memory: none */
    synth_w64(sy, traced, 650);
    synth_w64(sy, peak, 649);
    synth_sync(sy);
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, true, cand, 4, traced, peak, &tr, &dm));
    synth_w64(sy, peak, 650);
    synth_w64(sy, traced, 600);
    synth_sync(sy);
    /* 600: the traces with an empty domains table, which is one candidate */
    uint64_t with_empty[3] = {s_tr, s_em, s_lk};
    CU_ASSERT_TRUE(pm_tm_confirm(sy->s, &T, true, with_empty, 3, traced, peak, &tr, &dm));
    CU_ASSERT(tr == s_tr && dm == s_em);
    /* two empty tables either of which could be the domains: no answer */
    uint64_t two_empty[3] = {s_tr, s_em, s_em2};
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, true, two_empty, 3, traced, peak, &tr, &dm));
    /* an "empty" table with an entry in a bucket is no table */
    synth_w64(sy, synth_r64(sy, empty2 + 16) + 8, traces);
    synth_sync(sy);
    CU_ASSERT_TRUE(pm_tm_confirm(sy->s, &T, true, two_empty, 3, traced, peak, &tr, &dm));
    CU_ASSERT(tr == s_tr && dm == s_em);
    /* without domains (3.8's shape), the traces alone make the sum: 600
     * yes, 650 (the other domain's 50 counted) no */
    CU_ASSERT_TRUE(pm_tm_confirm(sy->s, &T, false, cand, 4, traced, peak, &tr, &dm));
    CU_ASSERT(tr == s_tr && dm == 0);
    synth_w64(sy, traced, 650);
    synth_sync(sy);
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, false, cand, 4, traced, peak, &tr, &dm));
    /* a domains table keying domain 0 (which tracemalloc_traces holds): no */
    synth_w64(sy, traced, 650);
    synth_wfield(sy, d[0].addr, &T.e_key, 0);
    synth_sync(sy);
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, true, cand, 4, traced, peak, &tr, &dm));
    /* a trace without a traceback is no trace */
    synth_wfield(sy, d[0].addr, &T.e_key, 7);
    uint64_t first = synth_r64(sy, synth_r64(sy, traces + 16)); /* bucket 0's entry */
    synth_wfield(sy, synth_r64(sy, first + 24), &T.tr_traceback, 0);
    synth_sync(sy);
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, true, cand, 4, traced, peak, &tr, &dm));
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 0);
    synth_free(sy);
}

static void test_confirm_38(void)
{
    synth *sy = synth_new(12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sy);
    pm_tm_layout T = with_trace(layout_38());
    /* {ptr, domain} keys: two domains in the one table */
    entry e[3] = {{.key = 0x5000, .domain = 0, .bucket = 0},
                  {.key = 0x5000, .domain = 7, .bucket = 1},
                  {.key = 0x6000, .domain = 0, .bucket = 1}};
    uint64_t traces = make_table(sy, &T, 2, e, 3, 3, 12);
    for (size_t i = 0; i < 3; i++) {
        synth_wfield(sy, e[i].value, &T.tr_size, 10 * (i + 1));
        synth_wfield(sy, e[i].value, &T.tr_traceback, 0x7000);
    }
    /* the file names' table: pointer keys, no data */
    entry f[1] = {{.key = 0x9000, .bucket = 0}};
    uint64_t names = make_table(sy, &T, 2, f, 1, 1, 8);
    synth_w64(sy, names + 32, 0); /* data_size */
    uint64_t cand[2] = {word(sy, names), word(sy, traces)};
    uint64_t traced = word(sy, 60), peak = word(sy, 60), tr, dm;
    synth_sync(sy);
    CU_ASSERT_TRUE(pm_tm_confirm(sy->s, &T, false, cand, 2, traced, peak, &tr, &dm));
    CU_ASSERT(tr == cand[1] && dm == 0);
    /* the names' table holding traces' sizes (data_size 16, yet no traceback): no */
    synth_w64(sy, names + 32, 16);
    synth_w64(sy, traced, 0);
    synth_w64(sy, peak, 0);
    synth_sync(sy);
    CU_ASSERT_FALSE(pm_tm_confirm(sy->s, &T, false, cand, 2, traced, peak, &tr, &dm));
    CU_ASSERT_EQUAL(pymac_warning_count(sy->s), 0);
    synth_free(sy);
}

bool register_tracemalloc_tests(void)
{
    static const unit_test tests[] = {
        {"empty table", test_empty},
        {"full table, chains of several entries", test_full},
        {"3.8 inline entries, pointer and {ptr, domain} keys", test_inline_38},
        {"looping chain", test_looping_chain},
        {"miscounted and damaged tables", test_damaged},
        {"statistics by lineno, filename, cumulative, traceback", test_statistics},
        {"statistics ties in Python's order", test_statistics_ties},
        {"stripped finder: the traced memory in the code", test_code_traced},
        {"stripped finder: the peak in the code", test_code_peak},
        {"stripped finder: the tables' candidates in the code", test_code_tables},
        {"stripped finder: the traces decide (3.9+)", test_confirm},
        {"stripped finder: the traces decide (3.8)", test_confirm_38},
        {NULL, NULL},
    };
    return unit_add_suite("tracemalloc", NULL, NULL, tests);
}

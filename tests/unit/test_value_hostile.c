/* The value and referent decoders on hostile synthetic memory: pointers into
 * unmapped memory, lengths the memory cannot hold, impossible field values,
 * self-reference, broken types. Each must give a marked result (an object
 * shown as "<type object>" or "<invalid 0x...>", or no edges) in bounded work
 * (reader calls are counted), never a crash, a sanitizer report or a lie. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "referents.h"
#include "synth.h"
#include "unit.h"

static void test_bad_pointers(void)
{
    FOR_EACH_SHAPE(sy)
    {
        const pm_value_layout *V = sy->s->values;
        const ref_layout *R = sy->s->refs;
        uint64_t hole = synth_hole(sy), far = 0xdead00000000ull;
        char want[128];
        /* an item pointing into unmapped memory, or nowhere */
        uint64_t items[] = {hole, synth_int(sy, 2), far};
        snprintf(want, sizeof want, "[<invalid 0x%llx>, 2, <invalid 0x%llx>]",
                 (unsigned long long)hole, (unsigned long long)far);
        uint64_t l = synth_list(sy, items, 3);
        EXPECT_REPR(sy, l, want);
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, l, 0, &es)); /* edges as stored: the caller checks */
        CU_ASSERT_EQUAL(es.n, 3);
        /* the items array itself unmapped */
        uint64_t l2 = synth_list(sy, items, 3);
        synth_w64(sy, l2 + 24, hole);
        EXPECT_REPR(sy, l2, "<list object>");
        CU_ASSERT_TRUE(synth_referents(sy, l2, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        /* ob_type unmapped: not an object */
        uint64_t o = synth_int(sy, 5);
        synth_w64(sy, o + 8, hole + 64);
        char buf[64];
        CU_ASSERT_FALSE(synth_repr(sy, o, buf, sizeof buf));
        /* str data (legacy str) unmapped */
        uint64_t s = synth_str_legacy(sy, "gone");
        synth_wfield(sy, s, &V->str_data, hole);
        EXPECT_REPR(sy, s, "<str object>");
        uint64_t t = synth_tuple(sy, &s, 1);
        snprintf(want, sizeof want, "(<str 0x%llx>,)", (unsigned long long)s);
        EXPECT_REPR(sy, t, want);
        /* dict keys unmapped: no pairs */
        uint64_t k[] = {synth_str(sy, "a")}, v[] = {synth_int(sy, 1)};
        uint64_t d = synth_dict(sy, k, v, 1, true);
        synth_wfield(sy, d, &R->ma_keys, hole);
        EXPECT_REPR(sy, d, "{...} len=1");
        CU_ASSERT_TRUE(synth_referents(sy, d, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        /* a function whose qualname points nowhere */
        uint64_t f = synth_function(sy, far, 0, 0);
        EXPECT_REPR(sy, f, "<function object>");
        /* a set table in a hole */
        uint64_t st = synth_set(sy, v, 1, false);
        synth_w64(sy, st + 40, hole);
        CU_ASSERT_TRUE(synth_referents(sy, st, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
    }
}

static void test_absurd_lengths(void)
{
    FOR_EACH_SHAPE(sy)
    {
        const pm_value_layout *V = sy->s->values;
        synth_edges es;
        char buf[256];
        uint64_t items[] = {synth_int(sy, 1), synth_int(sy, 2)};
        /* a list whose ob_size (2**62) exceeds what it allocated */
        uint64_t l = synth_list(sy, items, 2);
        synth_w64(sy, l + 16, 1ull << 62);
        EXPECT_REPR(sy, l, "<list object>");
        sy->reads = 0;
        /* not OK: the damage is reported (partial, with a warning), no item read */
        CU_ASSERT_FALSE(synth_referents(sy, l, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        CU_ASSERT_TRUE(sy->reads < 100);
        /* a tuple of 2**62 items */
        uint64_t t = synth_tuple(sy, items, 2);
        synth_w64(sy, t + 16, 1ull << 62);
        EXPECT_REPR(sy, t, "<tuple object>");
        /* a tuple whose length is negative */
        uint64_t t2 = synth_tuple(sy, items, 2);
        synth_w64(sy, t2 + 16, (uint64_t)INT64_MIN);
        CU_ASSERT_TRUE(synth_repr(sy, t2, buf, sizeof buf));
        CU_ASSERT_STRING_EQUAL(buf, "<tuple object>");
        /* an int subclass instance (a negative tp_dictoffset, counted from the
         * end of its items) of length INT64_MIN: its item count was taken by
         * negating ob_size as int64_t, undefined (UBSan stops on it) */
        uint64_t flag = synth_type(sy, "Flag", 24, 4, PM_TPFLAGS_LONG_SUBCLASS | PM_TPFLAGS_HEAPTYPE);
        synth_wfield(sy, flag, &sy->s->refs->tp_dictoffset, (uint64_t)-8);
        uint64_t f = synth_object(sy, flag, 48);
        synth_w64(sy, f + 16, (uint64_t)INT64_MIN);
        synth_referents(sy, f, PM_REFS_EXACT, &es);
        CU_ASSERT_PTR_NULL(synth_edge_find(&es, ".__dict__"));
        /* a str of 2**40 characters (its data would run far out of memory) */
        uint64_t s = synth_str(sy, "short");
        synth_wfield(sy, s, &V->str_length, 1ull << 40);
        EXPECT_REPR(sy, s, "<str object>");
        CU_ASSERT_TRUE(synth_sizeof(sy, s) < 1000); /* not 2**40 bytes */
        /* a negative str length */
        uint64_t s2 = synth_str(sy, "short");
        synth_wfield(sy, s2, &V->str_length, (uint64_t)-5);
        EXPECT_REPR(sy, s2, "<str object>");
        CU_ASSERT_TRUE(synth_sizeof(sy, s2) < 1000);
        /* kind 3 does not exist */
        uint64_t s3 = synth_str(sy, "abc");
        synth_wfield(sy, s3, &V->str_kind, 3);
        EXPECT_REPR(sy, s3, "<str object>");
        CU_ASSERT_TRUE(synth_sizeof(sy, s3) < 1000);
        /* bytes of 2**62, and of a negative length */
        uint64_t b = synth_bytes(sy, "abc", 3);
        synth_w64(sy, b + 16, 1ull << 62);
        EXPECT_REPR(sy, b, "<bytes object>");
        uint64_t b2 = synth_bytes(sy, "abc", 3);
        synth_w64(sy, b2 + 16, (uint64_t)-3);
        EXPECT_REPR(sy, b2, "<bytes object>");
        /* an int of 2**40 digits: its digits are not in memory */
        uint64_t i1 = synth_int(sy, 12345);
        synth_w64(sy, i1 + 16, sy->minor >= 12 ? (1ull << 40) << 3 : 1ull << 40);
        EXPECT_REPR(sy, i1, "<int object>");
        /* and the most negative ob_size (no -INT64_MIN) */
        uint64_t i2 = synth_int(sy, 12345);
        synth_w64(sy, i2 + 16, (uint64_t)INT64_MIN);
        EXPECT_REPR(sy, i2, "<int object>");
        /* 3.12+: sign bits 3 do not exist */
        if (sy->minor >= 12) {
            uint64_t i3 = synth_int(sy, 12345);
            synth_w64(sy, i3 + 16, 1 << 3 | 3);
            EXPECT_REPR(sy, i3, "<int object>");
        }
        /* an int of 100 digits is printed by size */
        uint32_t d[100];
        for (int j = 0; j < 100; j++)
            d[j] = 0x3fffffff;
        EXPECT_REPR(sy, synth_int_digits(sy, false, d, 100), "<int of 3000 bits>");
        /* a set mask of 2**40 */
        uint64_t st = synth_set(sy, items, 2, false);
        synth_w64(sy, st + 32, 1ull << 40);
        sy->reads = 0;
        CU_ASSERT_TRUE(synth_referents(sy, st, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        CU_ASSERT_TRUE(sy->reads < 100);
        CU_ASSERT_TRUE(synth_sizeof(sy, st) < 1000);
    }
}

static void test_self_reference(void)
{
    FOR_EACH_SHAPE(sy)
    {
        /* l = [1]; l.append(l): two levels shown, then the list by address */
        uint64_t one = synth_int(sy, 1);
        uint64_t l = synth_list_alloc(sy, &one, 1, 2);
        synth_w64(sy, synth_r64(sy, l + 24) + 8, l);
        synth_w64(sy, l + 16, 2);
        char want[96];
        snprintf(want, sizeof want, "[1, [1, <list 0x%llx>]]", (unsigned long long)l);
        EXPECT_REPR(sy, l, want);
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, l, 0, &es));
        CU_ASSERT_EQUAL(es.n, 2);
        EXPECT_EDGE(sy, &es, "[1]", l);
        /* an instance whose dict has the instance itself as a key
         * (o.__dict__[o] = 1 is legal Python): the key's label must not
         * recurse into the instance's attributes again */
        uint64_t cls = synth_class(sy, "Node", 0);
        uint64_t attrs = synth_dict(sy, &one, &one, 1, false);
        uint64_t node = synth_instance(sy, cls, attrs, NULL, 0);
        uint64_t key_at = synth_r64(sy, attrs + 32) + (sy->minor <= 10 ? 40 : 32) + 8 + 8;
        synth_w64(sy, key_at, node); /* the entry's key: the instance */
        EXPECT_REPR(sy, node, "<Node object <Node object>>");
        CU_ASSERT_TRUE(synth_referents(sy, node, 0, &es));
        EXPECT_EDGE(sy, &es, ".<Node object>", one);
    }
}

static void test_bad_dict_keys(void)
{
    FOR_EACH_SHAPE(sy)
    {
        const ref_layout *R = sy->s->refs;
        uint64_t k[] = {synth_str(sy, "a"), synth_str(sy, "b")};
        uint64_t v[] = {synth_int(sy, 1), synth_int(sy, 2)};
        /* dk_nentries beyond what 8 slots can hold (5): the entries after the
         * keys object are other memory, never pairs */
        uint64_t d = synth_dict(sy, k, v, 2, false);
        uint64_t keys = synth_r64(sy, d + 32);
        /* plant a plausible pair right after the table's 5 entries */
        uint64_t after = keys + (sy->minor <= 10 ? 40 : 32) + 8 + 5 * 24;
        synth_w64(sy, after + 8, k[0]);
        synth_w64(sy, after + 16, v[1]);
        synth_wfield(sy, keys, &R->dk_nentries, 6);
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, d, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        EXPECT_REPR(sy, d, "{...} len=2");
        /* 2**29 entries: refused at once, not walked */
        synth_wfield(sy, keys, &R->dk_nentries, 1ull << 29);
        synth_flush(sy);
        sy->reads = 0;
        CU_ASSERT_TRUE(synth_referents(sy, d, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        CU_ASSERT_TRUE(sy->reads < 100);
        /* a size that is not a power of two, or an index width that does not match */
        uint64_t d2 = synth_dict(sy, k, v, 2, false);
        uint64_t keys2 = synth_r64(sy, d2 + 32);
        if (sy->minor <= 10)
            synth_wfield(sy, keys2, &R->dk_size, 12);
        else
            synth_wfield(sy, keys2, &R->dk_log2_index_bytes, 20);
        CU_ASSERT_TRUE(synth_referents(sy, d2, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        /* 3.11+: a dk_kind that does not exist */
        if (sy->minor >= 11) {
            uint64_t d3 = synth_dict(sy, k, v, 2, false);
            synth_wfield(sy, synth_r64(sy, d3 + 32), &R->dk_kind, 7);
            CU_ASSERT_TRUE(synth_referents(sy, d3, 0, &es));
            CU_ASSERT_EQUAL(es.n, 0);
        }
    }
}

/* 3.13 values blocks say how many values they hold: keys with more entries
 * than that are not read past it */
static void test_bad_values_capacity(void)
{
    FOR_EACH_SHAPE(sy)
    {
        if (sy->minor < 13)
            continue;
        uint64_t names[] = {synth_str(sy, "x"), synth_str(sy, "y")};
        uint64_t values[] = {synth_int(sy, 1), synth_int(sy, 2)};
        uint64_t keys = synth_shared_keys(sy, names, 2);
        uint64_t cls = synth_class(sy, "Point", keys);
        uint64_t o = synth_instance(sy, cls, 0, values, 2);
        synth_w8(sy, o + 16, 1); /* inline values: capacity 1 */
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, o, 0, &es));
        EXPECT_EDGE(sy, &es, ".x", values[0]);
        CU_ASSERT_PTR_NULL(synth_edge_find(&es, ".y"));
        uint64_t d = synth_split_dict(sy, keys, values, 2);
        synth_w8(sy, synth_r64(sy, d + 40), 1); /* ma_values: capacity 1 */
        CU_ASSERT_TRUE(synth_referents(sy, d, 0, &es));
        CU_ASSERT_PTR_NULL(synth_edge_find(&es, "['y']"));
    }
}

static void test_bad_types(void)
{
    FOR_EACH_SHAPE(sy)
    {
        const pm_layout *L = sy->s->layout;
        char buf[128], want[128];
        /* tp_name unmapped */
        uint64_t t1 = synth_type(sy, "Ghost", 16, 0, 0);
        synth_wfield(sy, t1, &L->tp_name, synth_hole(sy));
        uint64_t o1 = synth_object(sy, t1, 16);
        CU_ASSERT_FALSE(synth_repr(sy, o1, buf, sizeof buf));
        /* tp_name with no NUL before the end of mapped memory */
        uint64_t t2 = synth_type(sy, "Ghost", 16, 0, 0);
        uint64_t name = synth_hole(sy) - 40;
        synth_wbytes(sy, name, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 40);
        synth_wfield(sy, t2, &L->tp_name, name);
        uint64_t o2 = synth_object(sy, t2, 16);
        CU_ASSERT_FALSE(synth_repr(sy, o2, buf, sizeof buf));
        /* tp_name of 200 bytes and no NUL within the name's bound */
        uint64_t t3 = synth_type(sy, "Ghost", 16, 0, 0);
        uint64_t long_name = synth_alloc(sy, 256);
        for (int i = 0; i < 200; i++)
            synth_w8(sy, long_name + (uint64_t)i, 'B');
        synth_wfield(sy, t3, &L->tp_name, long_name);
        uint64_t o3 = synth_object(sy, t3, 16);
        CU_ASSERT_FALSE(synth_repr(sy, o3, buf, sizeof buf));
        /* as items: marked invalid */
        uint64_t items[] = {o1, o2, o3};
        snprintf(want, sizeof want, "[<invalid 0x%llx>, <invalid 0x%llx>, <invalid 0x%llx>]",
                 (unsigned long long)o1, (unsigned long long)o2, (unsigned long long)o3);
        EXPECT_REPR(sy, synth_list(sy, items, 3), want);
        /* a type whose own type is not a type */
        uint64_t t4 = synth_type(sy, "Orphan", 16, 0, 0);
        synth_w64(sy, t4 + 8, synth_int(sy, 9));
        CU_ASSERT_FALSE(synth_repr(sy, synth_object(sy, t4, 16), buf, sizeof buf));
        /* a metatype chain that loops (type(T) is M, type(M) is M, M not `type`) */
        uint64_t m = synth_type(sy, "Meta", 920, 40, PM_TPFLAGS_TYPE_SUBCLASS);
        synth_w64(sy, m + 8, m);
        uint64_t t5 = synth_type(sy, "Looped", 16, 0, 0);
        synth_w64(sy, t5 + 8, m);
        CU_ASSERT_FALSE(synth_repr(sy, synth_object(sy, t5, 16), buf, sizeof buf));
    }
}

bool register_value_hostile_tests(void)
{
    static const unit_test tests[] = {
        {"hostile: unmapped pointers", test_bad_pointers},
        {"hostile: absurd lengths", test_absurd_lengths},
        {"hostile: self-reference", test_self_reference},
        {"hostile: dict keys", test_bad_dict_keys},
        {"hostile: types", test_bad_types},
        {"hostile: 3.13 values capacity", test_bad_values_capacity},
        {NULL, NULL},
    };
    return unit_add_suite("values in hostile memory", NULL, NULL, tests);
}

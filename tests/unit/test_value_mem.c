/* The value and referent decoders (value.c, referents.c) on synthetic memory
 * images (synth.c) of the 3.10, 3.11, 3.12 and 3.13 layouts. The expected
 * texts are what Python prints (repr() of the same value), in the decoders'
 * short forms: containers show their first three items and their length when
 * cut, dicts their first three keys, instances their class and attribute
 * names. Hostile images are in test_value_hostile.c. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "referents.h"
#include "synth.h"
#include "unit.h"

/* ---- scalars ---- */

static void test_ints(void)
{
    FOR_EACH_SHAPE(sy)
    {
        EXPECT_REPR(sy, synth_int(sy, 0), "0");
        EXPECT_REPR(sy, synth_int(sy, 7), "7");
        EXPECT_REPR(sy, synth_int(sy, -7), "-7");
        EXPECT_REPR(sy, synth_int(sy, 1073741824), "1073741824"); /* 2**30: two digits */
        EXPECT_REPR(sy, synth_int(sy, INT64_MIN), "-9223372036854775808");
        /* 2**64 = 16 * 2**60: digits 0, 0, 16 */
        uint32_t d64[] = {0, 0, 16};
        EXPECT_REPR(sy, synth_int_digits(sy, false, d64, 3), "18446744073709551616");
        /* -(2**100) = -(2**10 * 2**90) */
        uint32_t d100[] = {0, 0, 0, 1024};
        EXPECT_REPR(sy, synth_int_digits(sy, true, d100, 4), "-1267650600228229401496703205376");
        /* 2**70 + 19998 * 7919 = 158364162 + 2**10 * 2**60 */
        uint32_t d70[] = {158364162, 0, 1024};
        EXPECT_REPR(sy, synth_int_digits(sy, false, d70, 3), "1180591620717569667586");
        EXPECT_REPR(sy, sy->true_, "True");
        EXPECT_REPR(sy, sy->false_, "False");
        EXPECT_REPR(sy, sy->none, "None");
    }
}

static void test_floats(void)
{
    static const struct {
        double v;
        const char *repr;
    } cases[] = {
        {18.875, "18.875"}, {0.1, "0.1"},      {-2.5, "-2.5"},       {100.0, "100.0"},
        {-0.0, "-0.0"},     {1e16, "1e+16"},   {1e15, "1000000000000000.0"},
        {0.0001, "0.0001"}, {1e-05, "1e-05"},  {123456789012345678.0, "1.2345678901234568e+17"},
        {2.5e-300, "2.5e-300"},
    };
    FOR_EACH_SHAPE(sy)
    {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            EXPECT_REPR(sy, synth_float(sy, cases[i].v), cases[i].repr);
    }
}

/* ---- str and bytes ---- */

static void test_strs(void)
{
    FOR_EACH_SHAPE(sy)
    {
        EXPECT_REPR(sy, synth_str(sy, ""), "''");
        EXPECT_REPR(sy, synth_str(sy, "hello"), "'hello'"); /* compact ASCII */
        /* repr('h\xe9llo\n'): é is printable, the newline is escaped (kind 1, not ASCII) */
        EXPECT_REPR(sy, synth_str(sy, "h\xc3\xa9llo\n"), "'h\xc3\xa9llo\\n'");
        EXPECT_REPR(sy, synth_str(sy, "\xcf\x80\xe2\x89\x88" "3.14"), "'\xcf\x80\xe2\x89\x88" "3.14'"); /* kind 2 */
        EXPECT_REPR(sy, synth_str(sy, "\xf0\x9f\x90\x8d snake"), "'\xf0\x9f\x90\x8d snake'"); /* kind 4 */
        EXPECT_REPR(sy, synth_str(sy, "tab\there\\"), "'tab\\there\\\\'");
        EXPECT_REPR(sy, synth_str(sy, "\r\x01\x7f"), "'\\r\\x01\\x7f'");
        /* quotes as repr() picks them */
        EXPECT_REPR(sy, synth_str(sy, "it's"), "\"it's\"");
        EXPECT_REPR(sy, synth_str(sy, "say \"hi\""), "'say \"hi\"'");
        EXPECT_REPR(sy, synth_str(sy, "a'b\"c"), "'a\\'b\"c'");
        /* not printable: no-break space, soft hyphen, line separator */
        EXPECT_REPR(sy, synth_str(sy, "\xc2\xa0\xc2\xad\xe2\x80\xa8"), "'\\xa0\\xad\\u2028'");
        /* legacy (not compact) strings: data in a block of its own */
        EXPECT_REPR(sy, synth_str_legacy(sy, "legacy"), "'legacy'");
        EXPECT_REPR(sy, synth_str_legacy(sy, "h\xc3\xa9llo"), "'h\xc3\xa9llo'");
        EXPECT_REPR(sy, synth_str_legacy(sy, "\xf0\x9f\x90\x8d"), "'\xf0\x9f\x90\x8d'");
        /* long: the first 48 characters, then the length */
        char text[61];
        memset(text, 'a', 60);
        text[60] = '\0';
        char want[128];
        snprintf(want, sizeof want, "'%.48s'...(60 chars)", text);
        EXPECT_REPR(sy, synth_str(sy, text), want);
    }
}

static void test_bytes(void)
{
    FOR_EACH_SHAPE(sy)
    {
        EXPECT_REPR(sy, synth_bytes(sy, "", 0), "b''");
        EXPECT_REPR(sy, synth_bytes(sy, "abc", 3), "b'abc'");
        /* repr(b'\x00\xff\t\r\n\\') */
        EXPECT_REPR(sy, synth_bytes(sy, "\x00\xff\t\r\n\\", 6), "b'\\x00\\xff\\t\\r\\n\\\\'");
        EXPECT_REPR(sy, synth_bytes(sy, "it's", 4), "b\"it's\"");
        EXPECT_REPR(sy, synth_bytes(sy, "\x80\x7f", 2), "b'\\x80\\x7f'");
        unsigned char big[100];
        memset(big, 'z', sizeof big);
        char want[128];
        snprintf(want, sizeof want, "b'%.48s'...(100 bytes)", (const char *)big);
        EXPECT_REPR(sy, synth_bytes(sy, big, sizeof big), want);
    }
}

/* ---- containers ---- */

static void test_sequences(void)
{
    FOR_EACH_SHAPE(sy)
    {
        uint64_t items[] = {synth_int(sy, 1), synth_str(sy, "a"), sy->none, synth_int(sy, 4),
                            synth_float(sy, 5.5)};
        EXPECT_REPR(sy, synth_tuple(sy, items, 3), "(1, 'a', None)");
        EXPECT_REPR(sy, synth_tuple(sy, items, 1), "(1,)");
        EXPECT_REPR(sy, synth_tuple(sy, items, 0), "() len=0");
        EXPECT_REPR(sy, synth_tuple(sy, items, 5), "(1, 'a', None, ...) len=5");
        EXPECT_REPR(sy, synth_list(sy, items, 3), "[1, 'a', None]");
        EXPECT_REPR(sy, synth_list(sy, items, 1), "[1]");
        EXPECT_REPR(sy, synth_list(sy, items, 0), "[] len=0");
        EXPECT_REPR(sy, synth_list_alloc(sy, items, 4, 8), "[1, 'a', None, ...] len=4");
        /* nested: two levels of containers decoded, the third by type and
         * address; values that hold nothing are decoded at any depth */
        uint64_t inner = synth_list(sy, items, 2);
        EXPECT_REPR(sy, synth_list(sy, &inner, 1), "[[1, 'a']]");
        uint64_t middle = synth_tuple(sy, &inner, 1);
        char want[96];
        snprintf(want, sizeof want, "[(<list 0x%llx>,)]", (unsigned long long)inner);
        EXPECT_REPR(sy, synth_list(sy, &middle, 1), want);
    }
}

static void test_dicts(void)
{
    FOR_EACH_SHAPE(sy)
    {
        uint64_t keys[] = {synth_str(sy, "a"), synth_str(sy, "b"), synth_str(sy, "c"),
                           synth_str(sy, "d"), synth_int(sy, 5)};
        uint64_t values[] = {synth_int(sy, 1), synth_int(sy, 2), synth_int(sy, 3),
                             synth_int(sy, 4), sy->none};
        EXPECT_REPR(sy, synth_dict(sy, keys, values, 0, false), "{} len=0");
        EXPECT_REPR(sy, synth_dict(sy, keys, values, 2, true), "{'a': ..., 'b': ...} len=2");
        EXPECT_REPR(sy, synth_dict(sy, keys, values, 3, false),
                    "{'a': ..., 'b': ..., 'c': ...} len=3");
        EXPECT_REPR(sy, synth_dict(sy, keys, values, 5, false),
                    "{'a': ..., 'b': ..., 'c': ..., ...} len=5");
        /* 12 entries: 32 slots */
        uint64_t k12[12], v12[12];
        for (int i = 0; i < 12; i++) {
            k12[i] = synth_int(sy, 100 + i);
            v12[i] = synth_int(sy, i);
        }
        EXPECT_REPR(sy, synth_dict(sy, k12, v12, 12, false),
                    "{100: ..., 101: ..., 102: ..., ...} len=12");
        /* a split table: shared keys, values apart */
        uint64_t shared = synth_shared_keys(sy, keys, 2);
        uint64_t split = synth_split_dict(sy, shared, values, 2);
        EXPECT_REPR(sy, split, "{'a': ..., 'b': ...} len=2");
        /* the same pairs as the dict holds */
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, split, 0, &es));
        CU_ASSERT_EQUAL(es.n, 4);
        EXPECT_EDGE(sy, &es, "key 'a'", keys[0]);
        EXPECT_EDGE(sy, &es, "['a']", values[0]);
        EXPECT_EDGE(sy, &es, "key 'b'", keys[1]);
        EXPECT_EDGE(sy, &es, "['b']", values[1]);
        uint64_t d = synth_dict(sy, keys, values, 5, true);
        CU_ASSERT_TRUE(synth_referents(sy, d, 0, &es));
        CU_ASSERT_EQUAL(es.n, 10);
        EXPECT_EDGE(sy, &es, "key 'c'", keys[2]);
        EXPECT_EDGE(sy, &es, "['c']", values[2]);
        EXPECT_EDGE(sy, &es, "key 5", keys[4]);
        EXPECT_EDGE(sy, &es, "[5]", values[4]);
    }
}

static void test_sets(void)
{
    FOR_EACH_SHAPE(sy)
    {
        uint64_t items[10];
        for (int i = 0; i < 10; i++)
            items[i] = synth_int(sy, i);
        uint64_t small = synth_set(sy, items, 3, false), big = synth_set(sy, items, 10, false);
        uint64_t frozen = synth_set(sy, items, 2, true);
        /* repr() lists the items in table order */
        EXPECT_REPR(sy, small, "{0, 1, 2}");
        EXPECT_REPR(sy, big, "{0, 1, 2, ...} len=10");
        EXPECT_REPR(sy, frozen, "frozenset({0, 1})");
        EXPECT_REPR(sy, synth_set(sy, items, 0, false), "set() len=0");
        EXPECT_REPR(sy, synth_set(sy, items, 0, true), "frozenset() len=0");
        uint64_t in_list = synth_list(sy, &small, 1);
        EXPECT_REPR(sy, in_list, "[{...} len=3]"); /* inside a container: the length */
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, big, 0, &es));
        CU_ASSERT_EQUAL(es.n, 10);
        for (int i = 0; i < 10; i++) {
            bool found = false;
            for (size_t j = 0; j < es.n; j++)
                found |= es.e[j].target == items[i] && !strcmp(es.e[j].via, "item");
            CU_ASSERT_TRUE(found);
        }
        /* a deleted entry holds the dummy key: not an item */
        uint64_t table = synth_r64(sy, small + 40);
        synth_w64(sy, table + 16 * 2, sy->set_dummy);
        CU_ASSERT_TRUE(synth_referents(sy, small, 0, &es));
        CU_ASSERT_EQUAL(es.n, 2);
        for (size_t j = 0; j < es.n; j++)
            CU_ASSERT_NOT_EQUAL(es.e[j].target, items[1]);
    }
}

static void test_sizeof(void)
{
    FOR_EACH_SHAPE(sy)
    {
        bool old = sy->minor <= 11; /* PyASCIIObject lost wstr in 3.12 */
        /* sys.getsizeof() of each, as the real interpreters print it */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_str(sy, "hello")), old ? 54 : 46);
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_str(sy, "h\xc3\xa9llo")), old ? 78 : 62);
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_str(sy, "\xcf\x80")), old ? 76 : 60);
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_str(sy, "\xf0\x9f\x90\x8d")), old ? 80 : 64);
        /* a legacy str: the object plus its data block */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_str_legacy(sy, "hello")), old ? 86 : 70);
        uint64_t items[10];
        for (int i = 0; i < 10; i++)
            items[i] = synth_int(sy, i);
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_list(sy, items, 0)), 56);       /* [] */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_list(sy, items, 5)), 96);       /* [None]*5 */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_list_alloc(sy, items, 3, 8)), 120);
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_set(sy, items, 0, false)), 216);  /* set() */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_set(sy, items, 10, false)), 728); /* set(range(10)) */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_set(sy, items, 0, true)), 216);   /* frozenset() */
        /* the generic rule applies to the rest */
        CU_ASSERT_EQUAL(synth_sizeof(sy, synth_int(sy, 5)), 0);
    }
}

/* ---- types, functions, modules, code, instances ---- */

static void test_named(void)
{
    FOR_EACH_SHAPE(sy)
    {
        EXPECT_REPR(sy, sy->t_str, "<class 'str'>");
        EXPECT_REPR(sy, sy->t_type, "<class 'type'>");
        /* a static type with a module in its tp_name, as repr() shows it */
        EXPECT_REPR(sy, synth_type(sy, "collections.OrderedDict", 48, 0, PM_TPFLAGS_HAVE_GC),
                    "<class 'collections.OrderedDict'>");
        uint64_t cls = synth_class(sy, "Point", 0);
        EXPECT_REPR(sy, cls, "<class 'Point'>");
        uint64_t code = synth_code(sy, synth_str(sy, "norm"), synth_str(sy, "/src/geo.py"), 42);
        EXPECT_REPR(sy, code, "<code 'norm' '/src/geo.py':42>");
        uint64_t globals = synth_dict(sy, NULL, NULL, 0, true);
        uint64_t f = synth_function(sy, synth_str(sy, "Point.norm"), code, globals);
        EXPECT_REPR(sy, f, "<function 'Point.norm'>");
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, f, 0, &es));
        EXPECT_EDGE(sy, &es, ".__code__", code);
        EXPECT_EDGE(sy, &es, ".__globals__", globals);
        uint64_t m = synth_module(sy, synth_str(sy, "geo"), globals);
        EXPECT_REPR(sy, m, "<module 'geo'>");
        CU_ASSERT_TRUE(synth_referents(sy, m, 0, &es));
        EXPECT_EDGE(sy, &es, ".__dict__", globals);
        /* a function whose qualname is not a str is marked as such */
        uint64_t g = synth_function(sy, synth_int(sy, 3), code, globals);
        EXPECT_REPR(sy, g, "<function object>");
    }
}

/* An instance with attributes x = 1, y = 'two': in a dict (every version),
 * in a split dict over the class's cached keys (3.10), or in values over
 * them (3.11+: managed values, 3.12 tagged, 3.13 inline). */
static void test_instances(void)
{
    FOR_EACH_SHAPE(sy)
    {
        uint64_t names[] = {synth_str(sy, "x"), synth_str(sy, "y")};
        uint64_t values[] = {synth_int(sy, 1), synth_str(sy, "two")};
        uint64_t keys = synth_shared_keys(sy, names, 2);
        uint64_t cls = synth_class(sy, "Point", keys);
        uint64_t dict = synth_dict(sy, names, values, 2, true);
        uint64_t a = synth_instance(sy, cls, dict, NULL, 0);
        EXPECT_REPR(sy, a, "<Point object x, y>");
        synth_edges es;
        CU_ASSERT_TRUE(synth_referents(sy, a, 0, &es));
        EXPECT_EDGE(sy, &es, "type", cls);
        EXPECT_EDGE(sy, &es, ".x", values[0]);
        EXPECT_EDGE(sy, &es, ".y", values[1]);
        /* exactly the references the instance holds: its class and its dict */
        CU_ASSERT_TRUE(synth_referents(sy, a, PM_REFS_EXACT, &es));
        EXPECT_EDGE(sy, &es, "type", cls);
        EXPECT_EDGE(sy, &es, ".__dict__", dict);
        size_t to_dict = 0;
        for (size_t i = 0; i < es.n; i++)
            to_dict += es.e[i].target == dict;
        CU_ASSERT_EQUAL(to_dict, 1);
        CU_ASSERT_PTR_NULL(synth_edge_find(&es, ".x"));

        uint64_t b = sy->minor <= 10
                         ? synth_instance(sy, cls, synth_split_dict(sy, keys, values, 2), NULL, 0)
                         : synth_instance(sy, cls, 0, values, 2);
        EXPECT_REPR(sy, b, "<Point object x, y>");
        CU_ASSERT_TRUE(synth_referents(sy, b, 0, &es));
        EXPECT_EDGE(sy, &es, ".x", values[0]);
        EXPECT_EDGE(sy, &es, ".y", values[1]);
        if (sy->minor >= 11) {
            /* the values belong to the instance itself */
            CU_ASSERT_TRUE(synth_referents(sy, b, PM_REFS_EXACT, &es));
            CU_ASSERT_EQUAL(es.n, 3);
            EXPECT_EDGE(sy, &es, ".x", values[0]);
            EXPECT_EDGE(sy, &es, ".y", values[1]);
        }
        if (sy->minor <= 10) {
            /* the __weakref__ slot: found by the scan, but not a reference the
             * instance owns, so not an exact edge */
            uint64_t weak = synth_object(sy, sy->t_object, 16);
            synth_w64(sy, a + 24, weak);
            CU_ASSERT_TRUE(synth_referents(sy, a, 0, &es));
            synth_expect_edge(sy, &es, "+24", weak, true, __LINE__);
            CU_ASSERT_TRUE(synth_referents(sy, a, PM_REFS_EXACT, &es));
            for (size_t i = 0; i < es.n; i++)
                CU_ASSERT_NOT_EQUAL(es.e[i].target, weak);
        }
        /* no attributes */
        uint64_t empty = synth_dict(sy, NULL, NULL, 0, true);
        EXPECT_REPR(sy, synth_instance(sy, cls, empty, NULL, 0), "<Point object>");
    }
}

static void test_referents_items(void)
{
    FOR_EACH_SHAPE(sy)
    {
        uint64_t items[] = {synth_int(sy, 1), synth_str(sy, "a"), sy->none};
        synth_edges es;
        uint64_t l = synth_list(sy, items, 3), t = synth_tuple(sy, items, 3);
        CU_ASSERT_TRUE(synth_referents(sy, l, 0, &es));
        CU_ASSERT_EQUAL(es.n, 3);
        EXPECT_EDGE(sy, &es, "[0]", items[0]);
        EXPECT_EDGE(sy, &es, "[1]", items[1]);
        EXPECT_EDGE(sy, &es, "[2]", items[2]);
        CU_ASSERT_TRUE(synth_referents(sy, t, PM_REFS_NO_LABELS, &es));
        CU_ASSERT_EQUAL(es.n, 3);
        CU_ASSERT_EQUAL(es.e[0].target, items[0]);
        CU_ASSERT_EQUAL(es.e[2].target, items[2]);
        CU_ASSERT_STRING_EQUAL(es.e[0].via, "");
    }
}

/* Headers as pm_object_read reads them: refcounts, 3.12+ immortality, sizes. */
static void test_headers(void)
{
    FOR_EACH_SHAPE(sy)
    {
        pm_object o;
        synth_sync(sy);
        CU_ASSERT_TRUE_FATAL(pm_object_read(sy->s, sy->none, &o));
        CU_ASSERT_EQUAL(o.immortal, sy->minor >= 12);
        CU_ASSERT_EQUAL(o.refcnt, synth_static_refcnt(sy));
        CU_ASSERT_EQUAL(o.size, 16);
        uint64_t i = synth_int(sy, 1 << 30); /* two digits */
        synth_w64(sy, i, 3);
        synth_sync(sy);
        CU_ASSERT_TRUE_FATAL(pm_object_read(sy->s, i, &o));
        CU_ASSERT_FALSE(o.immortal);
        CU_ASSERT_EQUAL(o.refcnt, 3);
        CU_ASSERT_EQUAL(o.size, 32); /* sys.getsizeof(2**30) */
        uint64_t t = synth_tuple(sy, &i, 1);
        synth_sync(sy);
        CU_ASSERT_TRUE_FATAL(pm_object_read(sy->s, t, &o));
        CU_ASSERT_EQUAL(o.ob_size, 1);
        CU_ASSERT_EQUAL(o.size, 48); /* sys.getsizeof((1,)): 24 + 8 + the GC head */
        /* a count with a non-zero high half is not immortal, and too big to be real */
        synth_w64(sy, i, 0x10000ffffffffull);
        synth_sync(sy);
        CU_ASSERT_FALSE(pm_object_read(sy->s, i, &o));
    }
}

/* Members of cells, types, functions; edges without labels. */
static void test_referents_members(void)
{
    FOR_EACH_SHAPE(sy)
    {
        synth_edges es;
        uint64_t v = synth_int(sy, 42);
        uint64_t cell = synth_object(sy, sy->t_cell, 24);
        synth_w64(sy, cell + 16, v);
        CU_ASSERT_TRUE(synth_referents(sy, cell, 0, &es));
        CU_ASSERT_EQUAL(es.n, 1);
        EXPECT_EDGE(sy, &es, ".cell_contents", v);
        const ref_layout *R = sy->s->refs;
        uint64_t cls = synth_class(sy, "Point", 0);
        uint64_t mro = synth_tuple(sy, &cls, 1), bases = synth_tuple(sy, &sy->t_object, 1);
        uint64_t dict = synth_dict(sy, NULL, NULL, 0, true);
        synth_wfield(sy, cls, &R->tp_mro, mro);
        synth_wfield(sy, cls, &R->tp_bases, bases);
        synth_wfield(sy, cls, &R->tp_dict, dict);
        CU_ASSERT_TRUE(synth_referents(sy, cls, 0, &es));
        EXPECT_EDGE(sy, &es, ".__mro__", mro);
        EXPECT_EDGE(sy, &es, ".__bases__", bases);
        EXPECT_EDGE(sy, &es, ".__dict__", dict);
        uint64_t defaults = synth_tuple(sy, &v, 1);
        uint64_t f = synth_function(sy, synth_str(sy, "f"), 0, dict);
        synth_wfield(sy, f, &R->func_defaults, defaults);
        synth_wfield(sy, f, &R->func_closure, mro);
        CU_ASSERT_TRUE(synth_referents(sy, f, 0, &es));
        EXPECT_EDGE(sy, &es, ".__defaults__", defaults);
        EXPECT_EDGE(sy, &es, ".__closure__", mro);
        CU_ASSERT_PTR_NULL(synth_edge_find(&es, ".__code__")); /* NULL: no edge */
        /* a dict without labels: every key and every value */
        uint64_t k[] = {synth_str(sy, "a"), synth_str(sy, "b")}, vals[] = {v, sy->none};
        uint64_t d = synth_dict(sy, k, vals, 2, true);
        CU_ASSERT_TRUE(synth_referents(sy, d, PM_REFS_NO_LABELS, &es));
        CU_ASSERT_EQUAL(es.n, 4);
        CU_ASSERT_EQUAL(es.e[0].target, k[0]);
        CU_ASSERT_EQUAL(es.e[1].target, v);
        CU_ASSERT_EQUAL(es.e[2].target, k[1]);
        CU_ASSERT_EQUAL(es.e[3].target, sy->none);
        /* a split dict whose values array is unmapped: no pairs */
        uint64_t shared = synth_shared_keys(sy, k, 2);
        uint64_t split = synth_split_dict(sy, shared, vals, 2);
        synth_wfield(sy, split, &R->ma_values, synth_hole(sy));
        CU_ASSERT_TRUE(synth_referents(sy, split, 0, &es));
        CU_ASSERT_EQUAL(es.n, 0);
        EXPECT_REPR(sy, split, "{...} len=2");
    }
}

/* A small buffer truncates with a marker and never overruns. */
static void test_small_buffers(void)
{
    FOR_EACH_SHAPE(sy)
    {
        uint64_t s = synth_str(sy, "abcdefghijklmnopqrstuvwxyz");
        char buf[12];
        memset(buf, 'X', sizeof buf);
        CU_ASSERT_TRUE(synth_repr(sy, s, buf, 10));
        CU_ASSERT_STRING_EQUAL(buf, "'abcde...");
        CU_ASSERT_EQUAL(buf[10], 'X');
        CU_ASSERT_TRUE(synth_repr(sy, s, buf, 1));
        CU_ASSERT_STRING_EQUAL(buf, "");
    }
}

bool register_value_mem_tests(void)
{
    static const unit_test tests[] = {
        {"int, bool and None", test_ints},
        {"float repr", test_floats},
        {"str of every kind", test_strs},
        {"bytes", test_bytes},
        {"tuple and list", test_sequences},
        {"dict, combined and split", test_dicts},
        {"set and frozenset", test_sets},
        {"sys.getsizeof of str, list, set", test_sizeof},
        {"type, code, function, module", test_named},
        {"instances: dict, split, managed, inline", test_instances},
        {"referents of list and tuple", test_referents_items},
        {"object headers", test_headers},
        {"referents of cells, types, functions", test_referents_members},
        {"small buffers", test_small_buffers},
        {NULL, NULL},
    };
    return unit_add_suite("values in memory", NULL, NULL, tests);
}

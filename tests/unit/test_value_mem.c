/* The value and referent decoders (value.c, referents.c) on synthetic memory
 * images (synth.c) of the 3.10, 3.11, 3.12 and 3.13 layouts. The expected
 * texts are what Python prints (repr() of the same value), in the decoders'
 * short forms: containers show their first three items and their length when
 * cut, dicts their first three keys, instances their class and attribute
 * names. Hostile images must give a marked result, not a crash or a lie. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "referents.h"
#include "synth.h"
#include "unit.h"

static const unsigned minors[] = {10, 11, 12, 13};
#define FOR_EACH_SHAPE(sy)                                                                    \
    for (size_t shape_i_ = 0; shape_i_ < sizeof minors / sizeof minors[0]; shape_i_++)        \
        for (synth *sy = synth_new(minors[shape_i_]), *once_ = sy; once_;                     \
             synth_free(sy), once_ = NULL)

static void expect_repr_at(synth *sy, uint64_t addr, const char *want, int line)
{
    char buf[512];
    bool ok = synth_repr(sy, addr, buf, sizeof buf);
    if (!ok || strcmp(buf, want))
        fprintf(stderr, "\n    3.%u, line %d: got %s[%s], want [%s]\n", sy->minor, line,
                ok ? "" : "(not an object) ", buf, want);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_STRING_EQUAL(buf, want);
}
#define EXPECT_REPR(sy, addr, want) expect_repr_at(sy, addr, want, __LINE__)

static void expect_edge_at(const synth *sy, const synth_edges *es, const char *via,
                           uint64_t target, bool conservative, int line)
{
    const synth_edge *e = synth_edge_find(es, via);
    if (!e || e->target != target || e->conservative != conservative) {
        fprintf(stderr, "\n    3.%u, line %d: edge [%s] %s; edges:", sy->minor, line, via,
                e ? "differs" : "missing");
        for (size_t i = 0; i < es->n; i++)
            fprintf(stderr, " [%s]%s->0x%llx", es->e[i].via, es->e[i].conservative ? "(c)" : "",
                    (unsigned long long)es->e[i].target);
        fprintf(stderr, "\n");
    }
    CU_ASSERT_PTR_NOT_NULL(e);
    if (e) {
        CU_ASSERT_EQUAL(e->target, target);
        CU_ASSERT_EQUAL(e->conservative, conservative);
    }
}
#define EXPECT_EDGE(sy, es, via, target) expect_edge_at(sy, es, via, target, false, __LINE__)

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
        EXPECT_REPR(sy, small, "{...} len=3");
        EXPECT_REPR(sy, big, "{...} len=10");
        EXPECT_REPR(sy, frozen, "{...} len=2");
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

/* ---- hostile memory ---- */

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
        CU_ASSERT_TRUE(synth_referents(sy, l, 0, &es));
        CU_ASSERT_TRUE(es.n <= 2);
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
        {"hostile: unmapped pointers", test_bad_pointers},
        {"hostile: absurd lengths", test_absurd_lengths},
        {"hostile: self-reference", test_self_reference},
        {"hostile: dict keys", test_bad_dict_keys},
        {"hostile: types", test_bad_types},
        {"small buffers", test_small_buffers},
        {NULL, NULL},
    };
    return unit_add_suite("values in memory", NULL, NULL, tests);
}

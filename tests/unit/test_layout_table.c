/* Layout tables as the library uses them: the committed ones sorted for the
 * binary search and one per version and build kind; and the table source's
 * answers from a small table of known facts, with what a question the table
 * was not made for gives. (The committed tables' contents are proven against
 * DWARF by the layout/tables test.) */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_table.h"
#include "unit.h"

static void test_committed(void)
{
    size_t n = 0;
    for (const pm_layout_table *const *t = pm_layout_tables; *t; t++, n++) {
        for (size_t i = 1; i < (*t)->nanswers; i++) {
            /* by question, then by patch ranges that do not overlap */
            const pm_layout_answer *a = &(*t)->answers[i - 1], *b = &(*t)->answers[i];
            int c = pm_answer_cmp(a->kind, a->type, a->path, a->anchor, b->kind, b->type,
                                  b->path, b->anchor);
            CU_ASSERT(c < 0 || (c == 0 && a->patch_max < b->patch_min));
        }
        for (size_t i = 0; i < (*t)->nanswers; i++) {
            const pm_layout_answer *a = &(*t)->answers[i];
            CU_ASSERT(a->patch_min <= a->patch_max);
            CU_ASSERT_PTR_EQUAL(pm_table_answer(*t, a->kind, a->type, a->path, a->anchor,
                                                a->patch_min, NULL), a);
            CU_ASSERT_PTR_EQUAL(pm_table_answer(*t, a->kind, a->type, a->path, a->anchor,
                                                a->patch_max, NULL), a);
        }
        CU_ASSERT_PTR_EQUAL(pm_table_for((*t)->minor, (*t)->free_threaded), *t);
        /* no two tables claim one version and build kind */
        for (const pm_layout_table *const *u = t + 1; *u; u++)
            CU_ASSERT(!((*u)->minor == (*t)->minor && (*u)->free_threaded == (*t)->free_threaded));
    }
    CU_ASSERT(n >= 1);
    CU_ASSERT_PTR_NULL(pm_table_for(16, false)); /* none: exit 7 without DWARF */
    CU_ASSERT_PTR_NULL(pm_table_for(7, false));
}

/* A table of a few facts, as the generator writes them (sorted); builds
 * 3.99.0 and 3.99.9 disagree on _PyRuntimeState.tracemalloc. */
static const pm_layout_answer answers[] = {
    {'a', "_gc_runtime_state", "generations", "", true, 0, 0u, 0, 0, 24u, 3u, "", 0, 255},
    {'h', "PyObject", "", "", true, 0, 0u, 0, 0, 0u, 0u, "", 0, 255},
    {'h', "nothing_like_it", "", "", false, 0, 0u, 0, 0, 0u, 0u, "", 0, 255},
    {'l', "_Py_freelists", "", "", true, 3, 0u, 0, 0, 0u, 0u, "floats:0;ints:16;tuples:32;", 0, 255},
    {'m', "PyASCIIObject", "state.kind", "", true, 32, 4u, 2, 3, 0u, 0u, "", 0, 255},
    {'m', "PyDictKeysObject", "dk_size", "", false, 0, 0u, 0, 0, 0u, 0u, "", 0, 255},
    {'m', "_PyRuntimeState", "tracemalloc", "", true, 10080, 232u, 0, 0, 0u, 0u, "", 0, 0},
    {'m', "_PyRuntimeState", "tracemalloc", "", true, 10104, 232u, 0, 0, 0u, 0u, "", 9, 255},
    {'m', "_Py_hashtable_t", "buckets", "PyTraceMalloc_Track", true, 40, 8u, 0, 0, 0u, 0u, "", 0, 255},
    {'s', "PyObject", "", "", true, 16, 0u, 0, 0, 0u, 0u, "", 0, 255},
    {'t', "_PyInterpreterFrame", "localsplus", "", true, 0, 0u, 0, 0, 0u, 0u, "_PyStackRef", 0, 255},
};
static const pm_layout_table small = {"pyunit", 99, false, "3.99.0 3.99.9", answers,
                                      sizeof answers / sizeof answers[0]};

typedef struct seen {
    char names[8][32];
    int64_t offs[8];
    int n, stop_after;
} seen;

static bool each(void *ctx, const char *name, int64_t off)
{
    seen *w = ctx;
    snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
    w->offs[w->n++] = off;
    return w->n != w->stop_after;
}

static void test_source(void)
{
    pymac_session *s = calloc(1, sizeof *s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(pm_layout_source_table_open(s, &small, 12, NULL), PYMAC_OK);
    pm_field f;
    pm_lookup_field(s, "PyASCIIObject", "state.kind", &f);
    CU_ASSERT(f.ok && f.off == 32 && f.size == 4 && f.bit_off == 2 && f.bit_size == 3);
    pm_lookup_field(s, "PyDictKeysObject", "dk_size", &f); /* absent in this build */
    CU_ASSERT_FALSE(f.ok);
    CU_ASSERT_EQUAL(pm_lookup_size(s, "PyObject"), 16);
    CU_ASSERT_TRUE(pm_lookup_type(s, "PyObject"));
    CU_ASSERT_FALSE(pm_lookup_type(s, "nothing_like_it"));
    uint64_t esz = 0, count = 0;
    CU_ASSERT_TRUE(pm_lookup_array(s, "_gc_runtime_state", "generations", &esz, &count));
    CU_ASSERT(esz == 24 && count == 3);
    pm_lookup_field_near(s, "_Py_hashtable_t", "buckets", "PyTraceMalloc_Track", &f);
    CU_ASSERT(f.ok && f.off == 40);
    const char *tn = pm_lookup_member_type(s, "_PyInterpreterFrame", "localsplus");
    CU_ASSERT(tn && strcmp(tn, "_PyStackRef") == 0);
    seen all = {.stop_after = -1}, two = {.stop_after = 2};
    CU_ASSERT_EQUAL(pm_lookup_members(s, "_Py_freelists", each, &all), 3);
    CU_ASSERT(all.n == 3 && strcmp(all.names[2], "tuples") == 0 && all.offs[2] == 32);
    CU_ASSERT_EQUAL(pm_lookup_members(s, "_Py_freelists", each, &two), 2); /* as DWARF counts */
    CU_ASSERT_EQUAL(s->warnings.n, 0);
    /* a question the table was not made for: absent, and said once */
    pm_lookup_field(s, "PyObject", "ob_refcnt", &f);
    CU_ASSERT_FALSE(f.ok);
    CU_ASSERT_EQUAL(s->warnings.n, 1);
    CU_ASSERT(s->warnings.n && strstr(s->warnings.v[0], "PyObject.ob_refcnt") != NULL);
    /* where the builds disagree: a patch one of them is has its answer, one
     * between them has none */
    pm_lookup_field(s, "_PyRuntimeState", "tracemalloc", &f);
    CU_ASSERT(f.ok && f.off == 10104);
    s->layout_source->close(s->layout_source);
    CU_ASSERT_EQUAL_FATAL(pm_layout_source_table_open(s, &small, 5, NULL), PYMAC_OK);
    pm_lookup_field(s, "_PyRuntimeState", "tracemalloc", &f);
    CU_ASSERT_FALSE(f.ok);
    CU_ASSERT(s->warnings.n == 2 && strstr(s->warnings.v[1], "disagree") != NULL);
    bool unproven;
    CU_ASSERT_PTR_NULL(pm_table_answer(&small, 'm', "_PyRuntimeState", "tracemalloc", "", 5,
                                       &unproven));
    CU_ASSERT_TRUE(unproven);
    CU_ASSERT_PTR_NOT_NULL(pm_table_answer(&small, 'm', "_PyRuntimeState", "tracemalloc", "", 0,
                                           &unproven));
    s->layout_source->close(s->layout_source);
    pm_warnings_clear(&s->warnings);
    free(s);
}

bool register_layout_table_tests(void)
{
    static const unit_test tests[] = {
        {"committed tables sorted, one per version and kind", test_committed},
        {"the table source's answers, and a question it lacks", test_source},
        {NULL, NULL},
    };
    return unit_add_suite("layout tables", NULL, NULL, tests);
}

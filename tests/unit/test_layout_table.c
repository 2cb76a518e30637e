/* The committed layout tables as the library looks them up: sorted for the
 * binary search, one per version and build kind, and what a missing version
 * or key gives. (Their contents are proven against DWARF by tests/layout.) */
#include <string.h>

#include "layout_table.h"
#include "unit.h"

static void test_sorted_and_complete(void)
{
    size_t n = 0, nfacts = 0;
    for (const pm_layout_table *const *t = pm_layout_tables; *t; t++, n++) {
        if (!nfacts)
            nfacts = (*t)->nfacts;
        /* every table answers the same key list */
        CU_ASSERT_EQUAL((*t)->nfacts, nfacts);
        for (size_t i = 1; i < (*t)->nfacts; i++) {
            const pm_layout_fact *a = &(*t)->facts[i - 1], *b = &(*t)->facts[i];
            CU_ASSERT(pm_fact_cmp(a->kind, a->type, a->path, b->kind, b->type, b->path) < 0);
        }
        for (size_t i = 0; i < (*t)->nfacts; i++) {
            const pm_layout_fact *f = &(*t)->facts[i];
            CU_ASSERT_PTR_EQUAL(pm_table_fact(*t, f->kind, f->type, f->path), f);
        }
        /* no two tables claim one version and build kind */
        for (const pm_layout_table *const *u = t + 1; *u; u++)
            CU_ASSERT(!((*u)->minor == (*t)->minor && (*u)->free_threaded == (*t)->free_threaded &&
                        (*u)->patch_min <= (*t)->patch_max && (*t)->patch_min <= (*u)->patch_max));
    }
    CU_ASSERT(n >= 6);
}

static void test_choice(void)
{
    for (unsigned minor = 8; minor <= 13; minor++) {
        const pm_layout_table *t = pm_table_for(minor, 1, false);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_EQUAL(t->minor, minor);
        CU_ASSERT_FALSE(t->free_threaded);
    }
    CU_ASSERT_PTR_NULL(pm_table_for(16, 0, false)); /* no table: exit 7 without DWARF */
    CU_ASSERT_PTR_NULL(pm_table_for(7, 18, false));
    CU_ASSERT_PTR_NULL(pm_table_for(13, 0, true)); /* no free-threaded table yet */
}

static void test_facts(void)
{
    const pm_layout_table *t310 = pm_table_for(10, 13, false), *t311 = pm_table_for(11, 7, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t310);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t311);
    /* 3.11 replaced dk_size by dk_log2_size: listed in both, present in one */
    const pm_layout_fact *f = pm_table_fact(t310, PM_FACT_MEMBER, "PyDictKeysObject", "dk_size");
    CU_ASSERT(f && f->present);
    f = pm_table_fact(t311, PM_FACT_MEMBER, "PyDictKeysObject", "dk_size");
    CU_ASSERT(f && !f->present);
    f = pm_table_fact(t311, PM_FACT_ARRAY, "_gc_runtime_state", "generations");
    CU_ASSERT(f && f->present && f->count == 3);
    f = pm_table_fact(t311, PM_FACT_MEMBER, "PyASCIIObject", "state.kind");
    CU_ASSERT(f && f->present && f->bit_size == 3);
    CU_ASSERT_PTR_NULL(pm_table_fact(t311, PM_FACT_MEMBER, "PyObject", "no_such_member"));
    CU_ASSERT_PTR_NULL(pm_table_fact(t311, PM_FACT_SIZE, "PyObject", "ob_type"));
}

bool register_layout_table_tests(void)
{
    static const unit_test tests[] = {
        {"tables sorted, complete, not overlapping", test_sorted_and_complete},
        {"table chosen by version and build kind", test_choice},
        {"facts and missing keys", test_facts},
        {NULL, NULL},
    };
    return unit_add_suite("layout tables", NULL, NULL, tests);
}

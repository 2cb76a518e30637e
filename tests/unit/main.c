/* pymac-unit-tests
 *
 * Runs every CUnit suite; exits 0 only if all asserts pass. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

bool unit_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
                    const unit_test *tests)
{
    CU_pSuite suite = CU_add_suite(name, init, cleanup);
    if (!suite)
        return false;
    for (; tests->name; tests++)
        if (!CU_add_test(suite, tests->name, tests->fn))
            return false;
    return true;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 1;
    }
    if (!register_core_tests() || !register_dwarf_tests() ||
        !register_pool_tests() || !register_format_tests() ||
        !register_value_tests() || !register_value_mem_tests() ||
        !register_value_hostile_tests() || !register_resident_tests() ||
        !register_glibc_heap_tests() || !register_walk_tests() ||
        !register_ranges_tests() || !register_tracemalloc_tests() ||
        !register_dominators_tests() || !register_mimalloc_tests() ||
        !register_html_tests() || !register_decompress_tests() ||
        !register_treemap_tests() || !register_layout_table_tests() ||
        !register_code_scan_tests()) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    unsigned suites_failed = CU_get_number_of_suites_failed();
    unsigned asserts = CU_get_number_of_asserts();
    unsigned tests = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    printf("\n%u tests, %u asserts, %u failed asserts, %u suites failed to set up\n", tests,
           asserts, failures, suites_failed);
    if (tests == 0 || failures || suites_failed)
        return 1;
    return 0;
}

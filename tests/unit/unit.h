/* Suite registration shared by the unit-test files. */
#ifndef PYMAC_UNIT_H
#define PYMAC_UNIT_H

#include <CUnit/CUnit.h>
#include <stdbool.h>

/* Each returns false when CUnit could not register the suite. */
bool register_core_tests(void);
bool register_dwarf_tests(void);
bool register_pool_tests(void);
bool register_format_tests(void);
bool register_value_tests(void);
bool register_resident_tests(void);
bool register_value_mem_tests(void);
bool register_value_hostile_tests(void);
bool register_glibc_heap_tests(void);
bool register_walk_tests(void);
bool register_ranges_tests(void);
bool register_tracemalloc_tests(void);
bool register_dominators_tests(void);
bool register_mimalloc_tests(void);
bool register_html_tests(void);
bool register_decompress_tests(void);
bool register_treemap_tests(void);
bool register_layout_table_tests(void);
bool register_code_scan_tests(void);

/* Registers tests[] (NULL-terminated by name) in a new suite. */
typedef struct unit_test {
    const char *name;
    CU_TestFunc fn;
} unit_test;
bool unit_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
                    const unit_test *tests);

#endif

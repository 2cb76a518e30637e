/* The committed layout tables (written by tools/gen-layout-tables; see
 * README, "Without debug info"). A new table file is listed here and in
 * analyzer/CMakeLists.txt. */
#include "../layout_table.h"

extern const pm_layout_table pm_table_py38, pm_table_py39, pm_table_py310, pm_table_py311,
    pm_table_py312, pm_table_py313;

const pm_layout_table *const pm_layout_tables[] = {
    &pm_table_py38,  &pm_table_py39,  &pm_table_py310, &pm_table_py311,
    &pm_table_py312, &pm_table_py313, NULL,
};

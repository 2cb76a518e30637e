/* Every committed layout table (written by tools/gen-layout-tables). */
#include <stddef.h>

#include "layout_table.h"

extern const pm_layout_table pm_layout_table_py310;
extern const pm_layout_table pm_layout_table_py311;
extern const pm_layout_table pm_layout_table_py312;
extern const pm_layout_table pm_layout_table_py313;
extern const pm_layout_table pm_layout_table_py313t;
extern const pm_layout_table pm_layout_table_py314;
extern const pm_layout_table pm_layout_table_py315;
extern const pm_layout_table pm_layout_table_py38;
extern const pm_layout_table pm_layout_table_py39;

const pm_layout_table *const pm_layout_tables[] = {
    &pm_layout_table_py310,
    &pm_layout_table_py311,
    &pm_layout_table_py312,
    &pm_layout_table_py313,
    &pm_layout_table_py313t,
    &pm_layout_table_py314,
    &pm_layout_table_py315,
    &pm_layout_table_py38,
    &pm_layout_table_py39,
    NULL,
};

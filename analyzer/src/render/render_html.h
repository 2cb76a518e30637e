/* Parts of the HTML report (render_html.c) that tests look at on their own. */
#ifndef PYMAC_RENDER_HTML_H
#define PYMAC_RENDER_HTML_H

#include <stdio.h>

#include "pymac/pymac.h"

/* The heap map: an SVG of <g class="arena" data-arenas="N"> rows of pool
 * cells, at most 128 rows (arenas share a row past that). */
void pm_html_heap_map(FILE *out, const pymac_pymalloc *h);

struct pm_heavy;
/* The top retainers as a treemap: an SVG of <g class="retainer"
 * data-address="0x..." data-retained="N"> rectangles, one per listed object
 * that no other listed one dominates (areas in proportion to retained bytes). */
void pm_html_treemap(FILE *out, const struct pm_heavy *v, size_t n);

#endif

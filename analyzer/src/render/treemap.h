/* A squarified treemap layout (Bruls, Huizing and van Wijk, 2000): n values,
 * largest first, as rectangles that tile a box with areas in proportion to
 * the values and sides as near square as the order allows. For the HTML
 * report's top retainers. */
#ifndef PYMAC_TREEMAP_H
#define PYMAC_TREEMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pm_rect {
    double x, y, w, h;
} pm_rect;

/* Lays out values[0..n) (non-negative, in decreasing order) in box; out[i]
 * is value i's rectangle (zero-sized for a zero value). False (out untouched)
 * when the values are not in decreasing order, one is negative or not finite,
 * or the box is empty. */
bool pm_treemap_layout(const double *values, size_t n, pm_rect box, pm_rect *out);

#endif

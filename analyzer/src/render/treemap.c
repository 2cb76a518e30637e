/* Squarified treemap: rows of rectangles laid along the shorter side of the
 * space left; a value joins the current row while that does not worsen the
 * row's worst aspect ratio, else the row is fixed and the next one starts. */
#include <math.h>
#include <stdbool.h>

#include "treemap.h"

/* The worst aspect ratio of a row of areas summing to sum, min..max among
 * them, laid along a side of length side. */
static double worst(double sum, double min, double max, double side)
{
    double s2 = sum * sum, w2 = side * side;
    double a = w2 * max / s2, b = s2 / (w2 * min);
    return a > b ? a : b;
}

/* Places areas[0..k) as one row along the shorter side of *space into
 * out[0..k), then takes the row's strip off *space. */
static void place_row(const double *areas, size_t k, double sum, pm_rect *space, pm_rect *out)
{
    bool horizontal = space->w >= space->h; /* the row is a column on the left */
    double side = horizontal ? space->h : space->w;
    double thick = side > 0 ? sum / side : 0, pos = 0;
    for (size_t i = 0; i < k; i++) {
        double len = thick > 0 ? areas[i] / thick : 0;
        out[i] = horizontal ? (pm_rect){space->x, space->y + pos, thick, len}
                            : (pm_rect){space->x + pos, space->y, len, thick};
        pos += len;
    }
    if (horizontal) {
        space->x += thick;
        space->w -= thick;
    } else {
        space->y += thick;
        space->h -= thick;
    }
    if (space->w < 0)
        space->w = 0;
    if (space->h < 0)
        space->h = 0;
}

bool pm_treemap_layout(const double *values, size_t n, pm_rect box, pm_rect *out)
{
    double total = 0;
    if (!(box.w > 0) || !(box.h > 0) || !isfinite(box.w) || !isfinite(box.h))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i]) || values[i] < 0 || (i && values[i] > values[i - 1]))
            return false;
        total += values[i];
    }
    if (!n)
        return true;
    if (!(total > 0)) {
        for (size_t i = 0; i < n; i++)
            out[i] = (pm_rect){box.x, box.y, 0, 0};
        return true;
    }
    /* areas in the box's units; out[] holds them until each row is placed */
    double scale = box.w * box.h / total;
    for (size_t i = 0; i < n; i++)
        out[i].w = values[i] * scale;
    double areas_buf[64];
    pm_rect space = box;
    size_t start = 0;
    while (start < n) {
        double side = space.w < space.h ? space.w : space.h;
        double sum = out[start].w, min = sum, max = sum;
        size_t end = start + 1;
        while (end < n && out[end].w > 0) {
            double a = out[end].w, s2 = sum + a;
            double mn = a < min ? a : min, mx = a > max ? a : max;
            if (worst(s2, mn, mx, side) > worst(sum, min, max, side))
                break;
            sum = s2;
            min = mn;
            max = mx;
            end++;
        }
        /* the row's areas, before place_row overwrites out[] with rectangles */
        size_t k = 0;
        double *areas = areas_buf;
        for (size_t i = start; i < end && k < sizeof areas_buf / sizeof *areas_buf; i++)
            areas[k++] = out[i].w;
        if (k < end - start) { /* a row longer than the buffer: place it in chunks */
            end = start + k;
            sum = 0;
            for (size_t i = 0; i < k; i++)
                sum += areas[i];
        }
        place_row(areas, k, sum, &space, out + start);
        start = end;
        while (start < n && !(out[start].w > 0) && !(values[start] > 0)) {
            out[start] = (pm_rect){space.x, space.y, 0, 0}; /* zero values: no area */
            start++;
        }
    }
    return true;
}

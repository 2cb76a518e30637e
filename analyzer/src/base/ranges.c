#include "ranges.h"

#include <stdlib.h>

#include "pm.h"

bool pm_ranges_push(uint64_t **v, size_t *n, size_t *cap, uint64_t a, uint64_t b)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        uint64_t *p = realloc(*v, c * 2 * sizeof *p);
        if (!p)
            return false;
        *v = p;
        *cap = c;
    }
    (*v)[2 * *n] = a;
    (*v)[2 * *n + 1] = b;
    (*n)++;
    return true;
}

void pm_ranges_sort(uint64_t *pairs, size_t n)
{
    pm_sort(pairs, n, 2 * sizeof *pairs, pm_cmp_u64);
}

size_t pm_ranges_merge(uint64_t *pairs, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = pairs[2 * i], hi = pairs[2 * i + 1];
        if (m && lo <= pairs[2 * m - 1]) {
            if (hi > pairs[2 * m - 1])
                pairs[2 * m - 1] = hi;
            continue;
        }
        pairs[2 * m] = lo;
        pairs[2 * m + 1] = hi;
        m++;
    }
    return m;
}

size_t pm_ranges_normalize(uint64_t *pairs, size_t n)
{
    pm_ranges_sort(pairs, n);
    return pm_ranges_merge(pairs, n);
}

bool pm_ranges_contains(const uint64_t *pairs, size_t n, uint64_t addr)
{
    /* most lookups fall outside every range (pymalloc arenas, static data) */
    if (!n || addr < pairs[0] || addr >= pairs[2 * n - 1])
        return false;
    /* the first pair whose lo is above addr */
    size_t lo = pm_upper_bound_at(pairs, n, 2 * sizeof *pairs, 0, addr);
    return lo && addr < pairs[2 * (lo - 1) + 1];
}

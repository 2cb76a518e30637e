/* Sets of address ranges kept as a flat array of [lo, hi) pairs:
 * pairs[2 i] = lo, pairs[2 i + 1] = hi. The heap walkers build them (free
 * malloc chunks, memory a leak report has accounted for) and then ask, many
 * times, whether an address falls in one. */
#ifndef PYMAC_RANGES_H
#define PYMAC_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends the pair (a, b) to *v (n pairs, room for cap), growing it; false
 * (and *v unchanged) when out of memory. */
bool pm_ranges_push(uint64_t **v, size_t *n, size_t *cap, uint64_t a, uint64_t b);
/* Sorts n pairs by lo. */
void pm_ranges_sort(uint64_t *pairs, size_t n);
/* Sorted pairs, overlapping or touching ones merged in place; returns how
 * many pairs remain. */
size_t pm_ranges_merge(uint64_t *pairs, size_t n);
/* Sorts and merges: what every lookup below needs first. */
size_t pm_ranges_normalize(uint64_t *pairs, size_t n);
/* Is addr in one of n sorted, merged pairs? (binary search) */
bool pm_ranges_contains(const uint64_t *pairs, size_t n, uint64_t addr);

#endif

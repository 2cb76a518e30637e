/* Formatting helpers of the sys._debugmallocstats() text. */
#ifndef PYMAC_MALLOCSTATS_H
#define PYMAC_MALLOCSTATS_H

#include <stdint.h>
#include <stdio.h>

/* One "name = value" line as obmalloc.c's printone() writes it: msg padded to
 * 35 columns, '=', value right-aligned in 21 columns with thousands commas. */
uint64_t pm_printone(FILE *out, const char *msg, uint64_t value);

struct pm_freelist_stat;
/* One free list's line: "N names * SIZE bytes each" right-aligned in 48
 * columns, then printone of the bytes. */
void pm_print_freelist(FILE *out, const struct pm_freelist_stat *f);

#endif

/* The lines of the sys._debugmallocstats() text that the default and the
 * free-threaded build print alike (Objects/obmalloc.c's printone, and the
 * free lists' lines). */
#include <stdio.h>

#include "freelists.h"
#include "mallocstats.h"

/* "msg" padded to 35 columns, '=', the value right-aligned in 21 columns with
 * thousands separators. Returns value, so totals can be summed as printed. */
uint64_t pm_printone(FILE *out, const char *msg, uint64_t value)
{
    char digits[32];
    int n = 0, group = 0;
    uint64_t v = value;
    do {
        if (group == 3) {
            digits[n++] = ',';
            group = 0;
        }
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
        group++;
    } while (v);
    fprintf(out, "%-35s=", msg);
    /* obmalloc.c's printone keeps only the rightmost 21 characters */
    if (n > 21)
        n = 21;
    fprintf(out, "%*s", 21 - n, "");
    while (n)
        fputc(digits[--n], out);
    fputc('\n', out);
    return value;
}

void pm_print_freelist(FILE *out, const pm_freelist_stat *f)
{
    char line[160], padded[224];
    snprintf(line, sizeof line, "%d %.63ss * %llu bytes each", f->count, f->name,
             (unsigned long long)f->elem_size);
    snprintf(padded, sizeof padded, "%48s ", line);
    pm_printone(out, padded, (uint64_t)(int64_t)f->count * f->elem_size);
}

/* Pure formatting helpers of the value decoders (unit-tested on their own). */
#ifndef PYMAC_VALUE_FORMAT_H
#define PYMAC_VALUE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal text of a CPython int from its 30-bit digits (least significant
 * first). digits is clobbered. Returns false if buf is too small. */
bool pm_format_int(uint32_t *digits, size_t ndigits, bool negative, char *buf, size_t cap);
/* repr() of a float: the shortest text that reads back as the same double. */
void pm_format_float(double d, char *buf, size_t cap);
/* One code point as repr() shows it inside quotes: control characters and
 * the non-printable code points escaped (\\xhh, \\uhhhh, \\Uhhhhhhhh), the
 * rest as UTF-8. Writes at most 10 bytes plus NUL into buf (cap >= 11). */
void pm_format_char(uint32_t c, char *buf, size_t cap);

#endif

/* Formatting of int, float and str contents for the value decoders. */
#include "value_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pm_format_int(uint32_t *d, size_t n, bool negative, char *buf, size_t cap)
{
    /* Repeated division by 10^9, collecting nine decimal digits at a time. */
    char tmp[4096];
    size_t pos = sizeof tmp - 1;
    tmp[pos] = '\0';
    while (n && (d[n - 1] & 0x3fffffff) == 0)
        n--;
    do {
        uint64_t rem = 0;
        for (size_t i = n; i-- > 0;) {
            uint64_t cur = (rem << 30) | (d[i] & 0x3fffffff);
            d[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (n && d[n - 1] == 0)
            n--;
        for (int k = 0; k < 9 && (n || rem); k++) {
            if (pos == 0)
                return false;
            tmp[--pos] = (char)('0' + rem % 10);
            rem /= 10;
        }
    } while (n);
    if (tmp[pos] == '\0')
        tmp[--pos] = '0';
    int k = snprintf(buf, cap, "%s%s", negative && strcmp(tmp + pos, "0") ? "-" : "", tmp + pos);
    return k >= 0 && (size_t)k < cap;
}

void pm_format_float(double d, char *buf, size_t cap)
{
    if (isnan(d)) {
        snprintf(buf, cap, "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, cap, d < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".e") && strlen(buf) + 2 < cap)
        strcat(buf, ".0");
}

void pm_format_char(uint32_t c, char *buf, size_t cap)
{
    if (c == '\'' || c == '\\')
        snprintf(buf, cap, "\\%c", (char)c);
    else if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "%c", (char)c);
    else if (c == '\n')
        snprintf(buf, cap, "\\n");
    else if (c == '\t')
        snprintf(buf, cap, "\\t");
    else if (c < 0xa0)
        snprintf(buf, cap, "\\x%02x", c);
    else if (c < 0x800)
        snprintf(buf, cap, "%c%c", 0xc0 | c >> 6, 0x80 | (c & 0x3f));
    else if (c < 0x10000)
        snprintf(buf, cap, "%c%c%c", 0xe0 | c >> 12, 0x80 | (c >> 6 & 0x3f), 0x80 | (c & 0x3f));
    else if (c < 0x110000)
        snprintf(buf, cap, "%c%c%c%c", 0xf0 | c >> 18, 0x80 | (c >> 12 & 0x3f),
                 0x80 | (c >> 6 & 0x3f), 0x80 | (c & 0x3f));
    else
        snprintf(buf, cap, "\\?");
}

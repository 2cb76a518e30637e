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
    /* the fewest significant digits that read back as d */
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    if (prec > 17)
        prec = 17;
    const char *x = strchr(e, 'e');
    int exp = x ? atoi(x + 1) : 0;
    /* repr() uses exponent notation below 1e-4 and from 1e16 on */
    if (exp < -4 || exp >= 16) {
        snprintf(buf, cap, "%s", e);
        return;
    }
    int decimals = prec - 1 - exp;
    snprintf(buf, cap, "%.*f", decimals > 0 ? decimals : 0, d);
    if (!strchr(buf, '.') && strlen(buf) + 2 < cap)
        strcat(buf, ".0");
}

/* Code points str.isprintable() refuses beyond Latin-1 (and that repr()
 * therefore escapes): the separators (Zs, Zl, Zp), the common format
 * characters (Cf), surrogates (Cs) and the private use areas (Co).
 * Unassigned code points (Cn) would need the Unicode tables: shown as is. */
static bool escaped_wide(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        {0x0600, 0x0605}, {0x061c, 0x061c}, {0x06dd, 0x06dd}, {0x070f, 0x070f},
        {0x1680, 0x1680}, {0x180e, 0x180e}, {0x2000, 0x200f}, {0x2028, 0x202f},
        {0x205f, 0x2064}, {0x2066, 0x206f}, {0x3000, 0x3000}, {0xd800, 0xf8ff},
        {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0xfffe, 0xffff}, {0x110bd, 0x110bd},
        {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f}, {0xf0000, 0x10ffff},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return true;
    return false;
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
    else if (c == '\r')
        snprintf(buf, cap, "\\r");
    else if (c <= 0xa0 || c == 0xad)
        snprintf(buf, cap, "\\x%02x", c);
    else if (c < 0x110000 && escaped_wide(c))
        snprintf(buf, cap, c < 0x10000 ? "\\u%04x" : "\\U%08x", c);
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

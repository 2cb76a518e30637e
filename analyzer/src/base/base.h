/* The floor every layer stands on: error values, strings, byte and sort
 * helpers. Knows nothing of targets or CPython. */
#ifndef PYMAC_BASE_H
#define PYMAC_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pymac/pymac.h"

/* ---- errors (error.c) ---- */

/* Sets err (may be NULL) and returns status, so callers can `return pm_fail(...)`. */
pymac_status pm_fail(pymac_error *err, pymac_status status, const char *hint, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
/* Warnings: what a view could not read, said beside a partial result. */
typedef struct pm_warnings {
    char **v;
    size_t n;
} pm_warnings;
/* Appends a message (one line; at most 1000 are kept). */
void pm_warnings_add(pm_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pm_warnings_clear(pm_warnings *w);
/* Drops the messages added after the first n (a probe's, whose answer was
 * not taken). */
void pm_warnings_truncate(pm_warnings *w, size_t n);

/* The one out-of-memory failure: pm_nomem(err). */
pymac_status pm_nomem(pymac_error *err);

/* Little-endian field extraction from a buffer. */
static inline uint64_t pm_get_uint(const void *base, uint32_t off, unsigned size)
{
    const unsigned char *p = (const unsigned char *)base + off;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* qsort comparator of uint64_t keys (a [lo, hi) pair sorts by its lo). */
static inline int pm_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* qsort, but for empty or single-element arrays, which may be NULL (qsort's
 * base must never be, even for zero elements: found by UBSan on a core whose
 * damage left nothing to sort). */
static inline void pm_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* The first position in the ascending a[0 .. n) whose value is not below v
 * (n if none): pm_lower_bound_u32 and pm_lower_bound_u64 (addresses). */
#define PM_LOWER_BOUND(name, T)                                                \
    static inline size_t name(const T *a, size_t n, T v)                       \
    {                                                                          \
        size_t lo = 0, hi = n;                                                 \
        while (lo < hi) {                                                      \
            size_t mid = lo + (hi - lo) / 2;                                   \
            if (a[mid] < v)                                                    \
                lo = mid + 1;                                                  \
            else                                                               \
                hi = mid;                                                      \
        }                                                                      \
        return lo;                                                             \
    }
PM_LOWER_BOUND(pm_lower_bound_u32, uint32_t)
PM_LOWER_BOUND(pm_lower_bound_u64, uint64_t)
#undef PM_LOWER_BOUND

/* floor(log2(v)), 0 for v <= 1: a power of two's bit count (the radix
 * tree's levels). */
static inline unsigned pm_log2_u64(uint64_t v)
{
    unsigned n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

/* For a sorted array of n elements of `stride` bytes, each with a u64 key
 * at byte `key`: how many keys are <= v (the index after the last element
 * at or below v; 0 if none is). The lookup of "the region holding addr". */
static inline size_t pm_upper_bound_at(const void *a, size_t n, size_t stride, size_t key,
                                       uint64_t v)
{
    const unsigned char *p = a;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k;
        memcpy(&k, p + mid * stride + key, sizeof k);
        if (k <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A growing array of 64-bit values (addresses): from 4096, doubling. */
typedef struct pm_u64_vec {
    uint64_t *v;
    size_t n, cap;
} pm_u64_vec;

/* Appends x; false when out of memory (*a unchanged). */
static inline bool pm_u64_vec_push(pm_u64_vec *a, uint64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        uint64_t *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return false;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return true;
}

char *pm_strdup(const char *s);
char *pm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* Free-list statistics of the main interpreter. */
#ifndef PYMAC_FREELISTS_H
#define PYMAC_FREELISTS_H

#include "pm.h"

typedef struct pm_freelist_stat {
    char name[64];      /* "free PyDictObject", "free 3-sized PyTupleObject" */
    int32_t count;      /* objects parked on the list */
    uint64_t elem_size; /* bytes each, as CPython prints it */
} pm_freelist_stat;

/* Fills out[] in the order _PyObject_DebugTypeStats() prints them. */
pymac_status pm_freelist_stats(pymac_session *s, pm_freelist_stat *out, size_t cap, size_t *n,
                               pymac_error *err);

/* The objects parked on the main interpreter's free lists where CPython
 * keeps them chained through their first word (3.14+: struct _Py_freelist,
 * the link written over ob_refcnt by _PyFreeList_Push): sorted addresses in
 * *out (free it), none on versions that keep counts of 0 instead. PARTIAL
 * (with a warning) when a chain breaks off or runs past its count. */
pymac_status pm_freelist_parked(pymac_session *s, uint64_t **out, size_t *n, pymac_error *err);
/* Is addr among the n sorted addresses of v? */
bool pm_addr_in(const uint64_t *v, size_t n, uint64_t addr);

#endif

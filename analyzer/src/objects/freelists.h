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

#endif

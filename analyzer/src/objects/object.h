/* Objects and their types, read from the target and validated. */
#ifndef PYMAC_OBJECT_H
#define PYMAC_OBJECT_H

#include "pm.h"

/* Py_TPFLAGS_* bits: ABI constants of Include/object.h, not in DWARF. */
#define PM_TPFLAGS_MANAGED_WEAKREF (1ul << 3) /* 3.12+ */
#define PM_TPFLAGS_MANAGED_DICT (1ul << 4)    /* 3.11+ */
#define PM_TPFLAGS_HEAPTYPE (1ul << 9)
#define PM_TPFLAGS_READY (1ul << 12)
#define PM_TPFLAGS_HAVE_GC (1ul << 14)
#define PM_TPFLAGS_LONG_SUBCLASS (1ul << 24)
#define PM_TPFLAGS_LIST_SUBCLASS (1ul << 25)
#define PM_TPFLAGS_TUPLE_SUBCLASS (1ul << 26)
#define PM_TPFLAGS_BYTES_SUBCLASS (1ul << 27)
#define PM_TPFLAGS_UNICODE_SUBCLASS (1ul << 28)
#define PM_TPFLAGS_DICT_SUBCLASS (1ul << 29)
#define PM_TPFLAGS_TYPE_SUBCLASS (1ul << 31)

/* _PyGC_BITS_DEFERRED of a free-threaded ob_gc_bits (pycore_gc.h, 3.13t+) */
#define PM_GC_BITS_DEFERRED 64u

typedef struct pm_type {
    uint64_t addr;
    bool valid;          /* its type chain ends at `type` and its fields are sane */
    char name[96];       /* type(o).__name__ */
    uint64_t basicsize, itemsize, flags;
    uint32_t presize;    /* bytes before the object: GC head and pre-header */
    bool custom_alloc;   /* tp_alloc is not PyType_GenericAlloc: an object may be
                          * allocated smaller than basicsize (3.14+'s
                          * datetime.time without tzinfo: 32 bytes of 40) */
    uint32_t index;      /* dense index, for per-type tables */
} pm_type;

typedef struct pm_type_table {
    pm_type **slots;     /* open addressing on addr; NULL = empty */
    size_t cap, n;
    pm_type **blocks;    /* the types themselves, in blocks that never move, so a
                          * pm_type pointer stays valid for the session */
    size_t nblocks;
    uint64_t type_type;  /* &PyType_Type */
    uint64_t generic_alloc; /* &PyType_GenericAlloc, 0 if unknown */
    const pm_type *last; /* the last valid type returned */
    uint64_t *bad;       /* addresses known not to be types (a bounded cache) */
    size_t bad_cap, bad_n;
} pm_type_table;

/* Looks a type up (and validates it once). NULL if addr is not a type. */
const pm_type *pm_type_get(pymac_session *s, uint64_t addr);
void pm_type_table_free(pm_type_table *t);

typedef struct pm_object {
    uint64_t addr;
    uint64_t refcnt;     /* raw ob_refcnt */
    bool immortal;       /* 3.12+: the low 32 bits are negative as int32 */
    const pm_type *type;
    int64_t ob_size;     /* for var-sized types */
    uint64_t size;       /* as sys.getsizeof() would report (generic rule) */
    uint64_t footprint;  /* the object's own allocation from addr (no pre-header, no
                          * separate buffers such as a dict's keys): where its body ends */
    bool bad_size;       /* ob_size cannot be: the items would run past any
                          * plausible size or out of mapped memory; size is then
                          * the fixed part only */
    /* free-threaded builds: refcnt is ref_local + (ref_shared >> 2) */
    bool ft;
    uint32_t ref_local;  /* the owner thread's count; UINT32_MAX: immortal */
    int64_t ref_shared;  /* other threads' count << 2 | merged/queued flags */
    uint64_t tid;        /* ob_tid: the owner thread (0: none) */
    uint8_t gc_bits;     /* ob_gc_bits */
} pm_object;

struct pm_layout;
/* The biased count of a free-threaded object from its header bytes h. False
 * when it cannot be a live object's (negative). */
bool pm_object_ft_refcnt(const void *h, const struct pm_layout *L, pm_object *o);
/* The part of o's refcount that deferred reference counting adds and no
 * reference accounts for (free-threaded, _PyGC_BITS_DEFERRED): 1 on 3.13t
 * (_PyObject_SetDeferredRefcount's ob_ref_local += 1), _Py_REF_DEFERRED
 * (PY_SSIZE_T_MAX / 8, in ob_ref_shared) on 3.14t+; 0 otherwise. What the
 * collector subtracts in update_refs (gc_free_threading.c). */
uint64_t pm_object_deferred_refs(const pm_object *o);

/* Reads and validates the object at addr: readable header, a valid type,
 * a plausible reference count. */
bool pm_object_read(pymac_session *s, uint64_t addr, pm_object *out);

/* The number of items ob_size says an object of type t has: |ob_size|
 * (taken as unsigned: no -INT64_MIN), or on 3.12+ for ints the digit count
 * of lv_tag (digit count << 3 | sign). */
uint64_t pm_object_nitems(const pymac_session *s, const pm_type *t, int64_t ob_size);

#endif

/* The mimalloc heaps of a free-threaded CPython (3.13t+): every thread's
 * heaps by kind, their pages, the segments that hold the pages, the
 * segments of threads that have exited (abandoned), and per page which
 * blocks are in use.
 *
 * Truth: CPython's Include/internal/pycore_mimalloc.h (the heap kinds and
 * _mimalloc_thread_state), Include/internal/mimalloc/mimalloc/types.h (the
 * structs), Objects/mimalloc/heap.c and segment.c (how mimalloc itself
 * visits its blocks: _mi_heap_area_visit_blocks, mi_segment_visit_pages),
 * Python/gc_free_threading.c (gc_visit_heaps: where objects start).
 * Member offsets come from DWARF by name (pm_mi_layout_resolve); the walk
 * reads through pm_read/pm_read_sparse only, checks every pointer against
 * the page or segment it must lie in, and bounds every list. */
#ifndef PYMAC_MIMALLOC_H
#define PYMAC_MIMALLOC_H

#include "dwarf_types.h"
#include "pm.h"

/* CPython's _Py_mimalloc_heap_id: the heap kinds, which are also the page
 * tags (pycore_mimalloc.h). */
enum {
    PM_MI_HEAP_MEM = 0,    /* PyMem_Malloc() */
    PM_MI_HEAP_OBJECT = 1, /* objects the GC does not track */
    PM_MI_HEAP_GC = 2,     /* GC objects, the object at the block's start */
    PM_MI_HEAP_GC_PRE = 3, /* GC objects with a pre-header (managed dict/weakref) */
    PM_MI_HEAP_KINDS = 4,
};
/* Bytes before the object in a GC_PRE block: 2 * sizeof(PyObject *)
 * (gc_visit_heaps_lock_held's offset_pre, without debug hooks). */
#define PM_MI_PREHEADER 16u

const char *pm_mi_heap_name(unsigned kind);

/* Bound on an interpreter's PyThreadState list. */
#define PM_MI_MAX_THREADS (1u << 14)

/* Where the walk reads, from DWARF. */
typedef struct pm_mi_layout {
    /* the interpreter's threads and their heaps */
    pm_field interp_threads_head, ts_next, ts_native_thread_id;
    pm_field tsi_heaps, tsi_initialized; /* _PyThreadStateImpl.mimalloc.{heaps,initialized} */
    uint64_t nheaps;                     /* elements of heaps[] */
    pm_field interp_abandoned, interp_abandoned_visited; /* ...mimalloc.abandoned_pool.* */
    /* mi_heap_t */
    uint32_t heap_size;
    pm_field heap_pages, heap_delayed_free, heap_thread_id, heap_keys;
    /* mi_heap_t.tld and mi_tld_t.heap_backing: how _mi_heap_main is found
     * without symbols (ok=false: only by its symbol) */
    pm_field heap_tld, tld_heap_backing;
    uint64_t nqueues;                    /* MI_BIN_FULL + 1 */
    uint32_t queue_size;
    pm_field pq_first;
    /* mi_page_t (which is also mi_slice_t) */
    uint32_t page_size;
    pm_field pg_slice_count, pg_slice_offset, pg_tag, pg_capacity, pg_reserved, pg_free, pg_used,
        pg_xblock_size, pg_local_free, pg_xthread_free, pg_next;
    pm_field pg_keys;                    /* only when free lists are encoded (ok=false: plain) */
    /* mi_segment_t */
    pm_field sg_segment_size, sg_segment_slices, sg_slice_entries, sg_thread_id,
        sg_abandoned_next, sg_used, sg_slices;
    uint64_t max_slices;                 /* elements of slices[]: MI_SLICES_PER_SEGMENT + 1 */
} pm_mi_layout;

/* Fills L from the session's DWARF; on failure names the first member
 * missing in *missing (static storage or buf). */
bool pm_mi_layout_resolve(pymac_session *s, pm_mi_layout *L, char *buf, size_t cap,
                          const char **missing);

typedef struct pm_mi_thread {
    uint64_t tstate;      /* PyThreadState */
    uint64_t native_id;   /* the LWP */
    uint64_t mi_thread_id;/* mimalloc's id (the heaps' thread_id) */
    uint32_t pages;
} pm_mi_thread;

enum { PM_MI_NO_THREAD = UINT32_MAX };

typedef struct pm_mi_page {
    uint64_t addr;        /* the mi_page_t (a slice entry in its segment) */
    uint64_t segment;
    uint64_t start;       /* first block */
    uint64_t block_size;
    uint64_t area;        /* bytes of the page's blocks area */
    uint32_t capacity, reserved, used;
    uint32_t nfree, nlocal, nthread, ndelayed; /* blocks on each free list */
    uint32_t live;        /* blocks in use: capacity minus every free list */
    uint32_t thread;      /* index in pm_mi_walk.threads, or PM_MI_NO_THREAD */
    uint8_t kind;         /* heap kind (the page's tag) */
    uint8_t delayed_flag; /* xthread_free's low 2 bits (mi_delayed_t) */
    bool abandoned;       /* found in an abandoned segment */
    bool bad;             /* a free list was broken: its blocks are not listed */
    size_t free_bits;     /* offset of its free bitmap in pm_mi_walk.bits */
} pm_mi_page;

typedef struct pm_mi_segment {
    uint64_t addr, size;
    uint64_t thread_id;   /* mimalloc thread id; 0 when abandoned */
    uint32_t thread;      /* index in threads, or PM_MI_NO_THREAD */
    uint32_t pages;       /* pages of the object heaps found in it */
    uint64_t used;        /* pages in use, as the segment counts them */
    bool abandoned;
} pm_mi_segment;

typedef struct pm_mi_walk {
    pm_mi_thread *threads;
    size_t nthreads;
    pm_mi_page *pages;    /* sorted by start, disjoint, each inside its segment */
    size_t npages;
    pm_mi_segment *segs;  /* sorted by address, disjoint */
    size_t nsegs;
    uint8_t *bits;        /* free bitmaps, one bit per block of capacity */
    size_t nbits_bytes;
    uint64_t slice_size, seg_align; /* MI_SEGMENT_SLICE_SIZE, MI_SEGMENT_SIZE */
    uint64_t abandoned_segments;
    bool partial;
} pm_mi_walk;

/* Walks the main interpreter's mimalloc heaps (with the layout L) into *out.
 * Damage is warned about and makes the walk partial; only running out of
 * memory or an unreadable interpreter is an error. */
pymac_status pm_mi_walk_heaps(pymac_session *s, const pm_mi_layout *L, pm_mi_walk *out,
                              pymac_error *err);
void pm_mi_walk_free(pm_mi_walk *w);

/* Is block b (by index) of page p free? */
bool pm_mi_block_free(const pm_mi_walk *w, const pm_mi_page *p, uint32_t b);

/* The session's walk: the layout resolved and the heaps walked once, cached
 * in s->mimalloc; freed by pm_mi_session_free (drop_walks: walk only). */
pymac_status pm_mi_session_walk(pymac_session *s, const pm_mi_walk **out, pymac_error *err);
void pm_mi_session_drop(pymac_session *s);
void pm_mi_session_free(pymac_session *s);
/* The layout the session's walk used (NULL before a walk). */
const pm_mi_layout *pm_mi_session_layout(pymac_session *s);
/* mimalloc's own main heap, _mi_heap_main (the "Allocated" figures of the
 * main thread's statistics): by its symbol, else found in the interpreter's
 * writable data (the walk w tells the thread states' heaps apart); 0 when
 * neither finds exactly one. */
uint64_t pm_mi_main_heap(pymac_session *s, const pm_mi_layout *L, const pm_mi_walk *w);
/* Gives a session a layout made by hand (tests): no DWARF is read. */
bool pm_mi_session_set_layout(pymac_session *s, const pm_mi_layout *L);

/* Is addr in a used block (1), a free block (0) of a mimalloc page, or in
 * no page (-1, also when the heaps cannot be walked)? */
int pm_mi_addr_state(pymac_session *s, uint64_t addr);
/* "mimalloc segment 0x..., page 0x... (gc heap, 64-byte blocks), block
 * 0x..." for the block holding addr, into buf; false when no page holds it. */
bool pm_mi_describe(pymac_session *s, uint64_t addr, char *buf, size_t cap);
/* The name of a free-threaded ob_ref_shared's low bits (_Py_REF_*). */
const char *pm_mi_shared_flags(int64_t ref_shared);

/* The page holding addr, or NULL. */
const pm_mi_page *pm_mi_page_of(const pm_mi_walk *w, uint64_t addr);
/* The walked segment holding addr, or NULL. */
const pm_mi_segment *pm_mi_segment_of(const pm_mi_walk *w, uint64_t addr);

/* Does addr hold what a program put there (1: a used block of a walked
 * page), or what it left (0: elsewhere in a walked segment: free blocks, the
 * room before a page's first block and past its capacity, free slices, the
 * segment's own header), or is it outside every walked segment (-1, also
 * when the heaps cannot be walked)? The leak scan skips 0: stale pointers. */
int pm_mi_addr_live(pymac_session *s, uint64_t addr);
/* The end of the blocks of the object, GC or GC pre-header heap page that
 * holds addr (its used blocks are objects, its free ones stale), or 0: the
 * leak scan skips such a page whole, as it skips pymalloc's arenas. */
uint64_t pm_mi_object_page_end(pymac_session *s, uint64_t addr);

#endif

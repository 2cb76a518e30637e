/* Which glibc malloc memory is free: the main (sbrk) heap and thread-arena
 * heaps walked chunk by chunk, plus the chunks parked in the tcache. Used
 * to skip stale pointers in freed memory when counting references. */
#ifndef PYMAC_GLIBC_HEAP_H
#define PYMAC_GLIBC_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads len bytes at addr of the target; false if unreadable. */
typedef bool (*pm_heap_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

typedef struct pm_tcache_ref {
    uint64_t mem;  /* user data of a tcache_perthread_struct */
    uint64_t size; /* its chunk size: 0x250 (glibc 2.26-2.29), 0x290 (2.30-2.41), 0x300 */
    bool first;    /* the heap's first chunk (where glibc up to 2.41 puts it) */
} pm_tcache_ref;

typedef struct pm_glibc_heap {
    uint64_t *free;  /* sorted, disjoint [lo, hi) pairs: bytes of free chunks */
    size_t nfree, capfree;
    uint64_t *chunks; /* (start, size) of every chunk walked (for tcache checks);
                       * NULL once dropped, when nchunks still counts them */
    size_t nchunks, capchunks;
    size_t nheaps;        /* heaps whose chunk chain was walked end to end */
    size_t nfree_chunks;  /* free by the boundary tags (incl. each heap's top) */
    size_t ntcache;       /* chunks found in tcache bins */
    bool tcache_bad;      /* a tcache bin did not check out (its chunks kept) */
    pm_tcache_ref *tcache_structs; /* candidates, resolved by finish */
    size_t ntcache_structs;
    bool nomem;
} pm_glibc_heap;

/* Walks [lo, hi) as one heap if it is one: the chain of chunks from `first`
 * must reach the end of the region (its top chunk) exactly, with every size
 * field sane. Returns false (and adds nothing) if it is not a heap. A heap
 * whose first chunk is a tcache_perthread_struct (main heap, or a thread's
 * first heap) also has its tcache bins read. */
bool pm_glibc_heap_add(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx, uint64_t first,
                       uint64_t hi);
/* Reads the tcache bins, then sorts and merges the free ranges; call once,
 * after the last add. */
void pm_glibc_heap_finish(pm_glibc_heap *h, pm_heap_read_fn rd, void *ctx);
/* Is addr inside a free chunk? (after finish) */
bool pm_glibc_heap_is_free(const pm_glibc_heap *h, uint64_t addr);
/* The size of the walked chunk whose user data starts at mem, or 0. */
uint64_t pm_glibc_heap_chunk(const pm_glibc_heap *h, uint64_t mem);
/* Frees the chunk list (the free ranges and the counts stay): for when no
 * more chunk sizes will be asked. */
void pm_glibc_heap_drop_chunks(pm_glibc_heap *h);
void pm_glibc_heap_release(pm_glibc_heap *h);

struct pymac_session;
/* Finds and walks the heaps of the session's target: every writable segment
 * that starts a chunk chain (the main heap) or holds a heap_info header at a
 * 64 MiB boundary (a thread arena's heap). */
void pm_glibc_heap_scan(struct pymac_session *s, pm_glibc_heap *h);

#endif

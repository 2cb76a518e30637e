/* The reference graph of the live objects. */
#ifndef PYMAC_GRAPH_H
#define PYMAC_GRAPH_H

#include "glibc_heap.h"
#include "pm.h"

/* A hash slot: the nodes [first, end) whose address lies in one 4 KiB page. */
typedef struct pm_graph_page {
    uint64_t page; /* address >> 12; 0 = empty slot */
    uint32_t first, end;
} pm_graph_page;

typedef struct pm_graph {
    pymac_session *s;
    uint64_t *nodes; /* every live object, sorted by address */
    size_t n;
    pm_graph_page *pages; /* open addressing, a power of two in size */
    size_t page_mask;
    pm_glibc_heap malloc_heap; /* the target's glibc heaps: which memory is free */
    size_t dead;               /* objects dropped: they lie in free malloc memory */
    bool partial;
} pm_graph;

pymac_status pm_graph_open(pymac_session *s, pm_graph *g, pymac_error *err);
void pm_graph_close(pm_graph *g);
/* The session's graph: built on first use, kept until pymac_close (so that
 * several referrers or path questions cost one walk). The status is that
 * of the build: PYMAC_OK or PYMAC_PARTIAL, or an error and no graph. */
pymac_status pm_graph_shared(pymac_session *s, const pm_graph **out, pymac_error *err);
/* Closes and frees a graph from pm_graph_shared (NULL is fine). */
void pm_graph_free(pm_graph *g);
/* Index of the object at addr, or -1 if it is not a live object. */
long pm_graph_index(const pm_graph *g, uint64_t addr);

#endif

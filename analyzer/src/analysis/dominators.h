/* Immediate dominators and retained sizes of a directed graph given in CSR
 * form with several roots (dominators.c). The roots hang off a virtual
 * super-root: a node reached from two roots is dominated by the super-root
 * only. Self-contained: no session, no target memory. */
#ifndef PYMAC_DOMINATORS_H
#define PYMAC_DOMINATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* idom values that are not a node */
#define PM_DOM_ROOT (UINT32_MAX - 1) /* dominated by the super-root only */
#define PM_DOM_NONE UINT32_MAX       /* not reached from any root */

typedef struct pm_dom_graph {
    size_t n;              /* nodes 0 .. n-1 (n < 2^31: compute fails above) */
    const uint32_t *off;   /* node i's successors: edges[off[i] .. off[i+1]) */
    const uint32_t *edges;
    const uint32_t *roots; /* the super-root's successors, in order (repeats are fine) */
    size_t nroots;
} pm_dom_graph;

typedef struct pm_dominators {
    size_t n;
    uint32_t *idom;  /* per node: its immediate dominator, PM_DOM_ROOT or PM_DOM_NONE */
    uint32_t *order; /* the reached nodes in depth-first preorder: each after its dominators */
    size_t nreached;
    uint64_t *retained_bytes;   /* per node (after pm_dominators_retain): itself and all it dominates */
    uint32_t *retained_objects; /* the same, counted in nodes */
} pm_dominators;

/* Lengauer-Tarjan with path compression (iterative throughout: graphs have
 * millions of nodes). False when out of memory (out is then empty). Edges to
 * nodes >= n are ignored. */
bool pm_dominators_compute(const pm_dom_graph *g, pm_dominators *out);
/* Sums sizes[i] over the dominator tree; false when out of memory. With
 * sizes NULL, d->retained_bytes (n + 1 of them, the caller's malloc) holds
 * the sizes and the sums replace them; an unreached node's becomes 0. */
bool pm_dominators_retain(pm_dominators *d, const uint64_t *sizes);
void pm_dominators_free(pm_dominators *d);

#endif

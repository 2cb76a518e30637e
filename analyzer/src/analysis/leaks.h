/* The leak analysis (leaks.c): references found to every node of the
 * reference graph, the refcount they must explain, and reachability. */
#ifndef PYMAC_LEAKS_H
#define PYMAC_LEAKS_H

#include <stdio.h>

#include "graph.h"
#include "tracemalloc_sites.h"

/* A node whose refcount exceeds the references found to it, by how many. */
typedef struct pm_unexplained {
    uint32_t node, refs;
} pm_unexplained;

typedef struct pm_leaks {
    pm_graph g;
    uint8_t *reached;   /* per node: reached from a root */
    /* the nodes whose refcount needs no explaining (immortal ones, 3.11's
     * static ones), and those with references unexplained: ascending, and
     * few, where a refcount per node would cost 8 bytes for each */
    uint32_t *immortal;
    size_t nimmortal;
    pm_unexplained *unexplained;
    size_t nunexplained;
    uint64_t stale;     /* pointers to objects skipped as lying in free malloc chunks */
    size_t edges;       /* references between nodes decoded */
    /* kept with pm_leaks_analyze_keep only (retain.c): the CSR edges (NULL if
     * there were too many for 32-bit offsets) */
    uint32_t *edge_off, *edge_to;
    /* borrowed from retain.c when it computed them, else NULL: per node, what
     * it retains from the roots (reached nodes), and from the garbage (the
     * unreached nodes, as entered from the unreached GC objects) */
    const uint64_t *retained_bytes;
    const uint64_t *garbage_bytes; /* by position in garbage_nodes (pm_leaks_garbage_bytes) */
    const uint32_t *garbage_nodes; /* the unreached nodes, ascending */
    size_t ngarbage;
} pm_leaks;

pymac_status pm_leaks_analyze(pymac_session *s, pm_leaks *out, pymac_error *err);
pymac_status pm_leaks_analyze_keep(pymac_session *s, pm_leaks *out, bool keep, pymac_error *err);
void pm_leaks_free(pm_leaks *lk);
/* What unreached node i retains from the garbage, 0 if that is unknown. */
uint64_t pm_leaks_garbage_bytes(const pm_leaks *lk, uint32_t i);

/* The leak report's groups (leak_report.c; pymac_leaks in pymac.h). */
typedef pymac_leak_group pm_leak_group;

/* The unexplained and unreachable groups of lk, and its counts, into *out
 * (its growth left empty). PYMAC_PARTIAL when tracemalloc's traces, for
 * the allocation sites, were read only in part. */
pymac_status pm_leak_report_build(pymac_session *s, const pm_leaks *lk, pymac_leaks *out,
                                  pymac_error *err);
/* Frees the groups of *r (not r itself). */
void pm_leak_report_free(pymac_leaks *r);

#endif

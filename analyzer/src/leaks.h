/* The leak analysis (leaks.c): references found to every node of the
 * reference graph, the refcount they must explain, and reachability. */
#ifndef PYMAC_LEAKS_H
#define PYMAC_LEAKS_H

#include "graph.h"

#define PM_RC_IMMORTAL UINT32_MAX

typedef struct pm_leaks {
    pm_graph g;
    uint32_t *incoming; /* per node: references found (saturating) */
    uint32_t *rc;       /* per node: the refcount they must explain; PM_RC_IMMORTAL: none */
    uint8_t *reached;   /* per node: reached from a root */
    uint64_t stale;     /* pointers to objects skipped as lying in free malloc chunks */
    size_t edges;       /* references between nodes decoded */
} pm_leaks;

pymac_status pm_leaks_analyze(pymac_session *s, pm_leaks *out, pymac_error *err);
void pm_leaks_free(pm_leaks *lk);

#endif

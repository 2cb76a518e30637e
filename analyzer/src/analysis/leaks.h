/* The leak analysis (leaks.c): references found to every node of the
 * reference graph, the refcount they must explain, and reachability. */
#ifndef PYMAC_LEAKS_H
#define PYMAC_LEAKS_H

#include <stdio.h>

#include "graph.h"
#include "tracemalloc_sites.h"

#define PM_RC_IMMORTAL UINT32_MAX

typedef struct pm_leaks {
    pm_graph g;
    uint32_t *incoming; /* per node: references found (saturating) */
    uint32_t *rc;       /* per node: the refcount they must explain; PM_RC_IMMORTAL: none */
    uint8_t *reached;   /* per node: reached from a root */
    uint64_t stale;     /* pointers to objects skipped as lying in free malloc chunks */
    size_t edges;       /* references between nodes decoded */
    /* kept with pm_leaks_analyze_keep only (retain.c): the CSR edges (NULL if
     * there were too many for 32-bit offsets), each node's size and type */
    uint32_t *edge_off, *edge_to;
    uint64_t *size, *type;
    /* borrowed from retain.c when it computed them, else NULL: per node, what
     * it retains from the roots (reached nodes), and from the garbage (the
     * unreached nodes, as entered from the unreached GC objects) */
    const uint64_t *retained_bytes, *garbage_bytes;
} pm_leaks;

pymac_status pm_leaks_analyze(pymac_session *s, pm_leaks *out, pymac_error *err);
pymac_status pm_leaks_analyze_keep(pymac_session *s, pm_leaks *out, bool keep, pymac_error *err);
void pm_leaks_free(pm_leaks *lk);

/* The leaks view's two reports, grouped by type name (render_leaks.c). */
enum { PM_LEAK_EXAMPLES = 5 };
typedef struct pm_leak_group {
    char name[96];
    uint64_t objects, bytes, refs; /* refs: unexplained references, summed */
    uint64_t retained;             /* what freeing them would free (retain.c) */
    uint64_t examples[PM_LEAK_EXAMPLES];
    bool has_site;      /* tracemalloc traced some of them: where most were allocated */
    pm_tm_site site;
} pm_leak_group;

typedef struct pm_leak_report {
    pm_leak_group *unexplained, *unreachable; /* each by bytes, largest first */
    size_t nunexplained, nunreachable;
} pm_leak_report;

/* PYMAC_PARTIAL when tracemalloc's traces, for the allocation sites, were
 * read only in part. */
pymac_status pm_leak_report_build(pymac_session *s, const pm_leaks *lk, pm_leak_report *out,
                                  pymac_error *err);
void pm_leak_report_free(pm_leak_report *r);
/* "key": [{"type", "objects", "bytes", ["unexplained_refs",] "examples"}, ...],
 * the first `top` groups (0: all). */
void pm_leak_groups_json(FILE *out, const char *key, const pm_leak_group *g, size_t n,
                         size_t top, bool refs);

#endif

/* Dominators (dominators.c) against a brute-force computation: v dominates w
 * when w cannot be reached from the roots once v is taken out. Many small
 * random graphs with cycles, self-loops, repeated edges, unreached nodes and
 * several (repeated) roots; and chains too long for recursion. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "dominators.h"
#include "unit.h"

enum { MAXN = 14, MAXE = 64 };

typedef struct small {
    size_t n, nroots;
    uint32_t off[MAXN + 1], edges[MAXE], roots[4];
    uint64_t sizes[MAXN];
} small;

static uint32_t rnd(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return (uint32_t)(*st >> 11);
}

/* Reached from the roots with node `cut` removed (cut = MAXN: none). */
static void reach(const small *g, uint32_t cut, bool *seen)
{
    uint32_t q[MAXN];
    size_t head = 0, tail = 0;
    memset(seen, 0, MAXN * sizeof *seen);
    for (size_t k = 0; k < g->nroots; k++)
        if (g->roots[k] != cut && !seen[g->roots[k]]) {
            seen[g->roots[k]] = true;
            q[tail++] = g->roots[k];
        }
    while (head < tail) {
        uint32_t v = q[head++];
        for (uint32_t e = g->off[v]; e < g->off[v + 1]; e++) {
            uint32_t w = g->edges[e];
            if (w != cut && !seen[w]) {
                seen[w] = true;
                q[tail++] = w;
            }
        }
    }
}

static void check_one(const small *g, unsigned *bad)
{
    bool dom[MAXN][MAXN] = {{0}}; /* dom[d][v]: d dominates v (reflexive) */
    bool all[MAXN], without[MAXN];
    reach(g, MAXN, all);
    for (uint32_t d = 0; d < g->n; d++) {
        reach(g, d, without);
        for (uint32_t v = 0; v < g->n; v++)
            dom[d][v] = all[v] && (d == v || !without[v]);
    }
    pm_dom_graph dg = {g->n, g->off, g->edges, g->roots, g->nroots};
    pm_dominators d;
    CU_ASSERT_TRUE_FATAL(pm_dominators_compute(&dg, &d));
    CU_ASSERT_TRUE_FATAL(pm_dominators_retain(&d, g->sizes));
    size_t nreached = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        nreached += all[v];
        uint32_t want = all[v] ? PM_DOM_ROOT : PM_DOM_NONE;
        size_t best = 0;
        /* the immediate dominator: the strict dominator with most dominators */
        for (uint32_t u = 0; u < g->n; u++) {
            if (u == v || !dom[u][v])
                continue;
            size_t depth = 0;
            for (uint32_t x = 0; x < g->n; x++)
                depth += dom[x][u];
            if (depth > best) {
                best = depth;
                want = u;
            }
        }
        uint64_t bytes = 0, objects = 0;
        for (uint32_t w = 0; w < g->n; w++)
            if (dom[v][w]) {
                bytes += g->sizes[w];
                objects++;
            }
        *bad += d.idom[v] != want || d.retained_bytes[v] != bytes ||
                d.retained_objects[v] != objects;
    }
    *bad += d.nreached != nreached;
    /* the sums in place (the sizes where the sums go): the same sums, and 0
     * for an unreached node */
    uint64_t *inplace = malloc((g->n + 1) * sizeof *inplace), *was = d.retained_bytes;
    CU_ASSERT_TRUE_FATAL(inplace != NULL);
    memcpy(inplace, g->sizes, g->n * sizeof *inplace);
    d.retained_bytes = inplace;
    CU_ASSERT_TRUE_FATAL(pm_dominators_retain(&d, NULL));
    for (uint32_t v = 0; v < g->n; v++)
        *bad += inplace[v] != (all[v] ? was[v] : 0);
    free(was);
    /* preorder: each node after its immediate dominator */
    uint32_t pos[MAXN];
    for (size_t k = 0; k < d.nreached; k++)
        pos[d.order[k]] = (uint32_t)k;
    for (size_t k = 0; k < d.nreached; k++) {
        uint32_t v = d.order[k];
        *bad += d.idom[v] < g->n && pos[d.idom[v]] >= k;
    }
    pm_dominators_free(&d);
}

static void test_random(void)
{
    uint64_t st = 0x9e3779b97f4a7c15ull;
    unsigned bad = 0, graphs = 0;
    for (int iter = 0; iter < 20000; iter++) {
        small g = {0};
        g.n = 1 + rnd(&st) % MAXN;
        size_t ne = 0, density = 1 + rnd(&st) % 4;
        for (uint32_t v = 0; v < g.n; v++) {
            g.off[v] = (uint32_t)ne;
            size_t deg = rnd(&st) % (density + 1);
            for (size_t k = 0; k < deg && ne < MAXE; k++)
                g.edges[ne++] = rnd(&st) % (uint32_t)g.n; /* loops, repeats, cycles */
            g.sizes[v] = 16 + rnd(&st) % 1000;
        }
        g.off[g.n] = (uint32_t)ne;
        g.nroots = 1 + rnd(&st) % 4;
        for (size_t k = 0; k < g.nroots; k++)
            g.roots[k] = rnd(&st) % (uint32_t)g.n;
        check_one(&g, &bad);
        graphs++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(graphs, 20000);
}

/* A chain of a million nodes with a back edge to its start, and a second
 * root joining half-way: no recursion depth to overflow. */
static void test_long_chain(void)
{
    enum { N = 1000000 };
    uint32_t *off = malloc((N + 1) * sizeof *off), *edges = malloc(N * sizeof *edges);
    uint64_t *sizes = malloc(N * sizeof *sizes);
    CU_ASSERT_TRUE_FATAL(off && edges && sizes);
    for (uint32_t v = 0; v < N; v++) {
        off[v] = v;
        edges[v] = v + 1 < N ? v + 1 : 0;
        sizes[v] = 8;
    }
    off[N] = N;
    uint32_t roots[] = {0, N / 2};
    pm_dom_graph g = {N, off, edges, roots, 2};
    pm_dominators d;
    CU_ASSERT_TRUE_FATAL(pm_dominators_compute(&g, &d));
    CU_ASSERT_TRUE_FATAL(pm_dominators_retain(&d, sizes));
    CU_ASSERT_EQUAL(d.nreached, N);
    CU_ASSERT_EQUAL(d.idom[0], PM_DOM_ROOT);
    CU_ASSERT_EQUAL(d.idom[N / 2], PM_DOM_ROOT);
    CU_ASSERT_EQUAL(d.idom[1], 0);
    CU_ASSERT_EQUAL(d.idom[N / 2 + 1], N / 2);
    CU_ASSERT_EQUAL(d.idom[N - 1], N - 2);
    CU_ASSERT_EQUAL(d.retained_objects[0], N / 2);
    CU_ASSERT_EQUAL(d.retained_objects[N / 2], N / 2);
    CU_ASSERT_EQUAL(d.retained_bytes[N / 2 + 1], 8ull * (N / 2 - 1));
    pm_dominators_free(&d);
    /* no roots, and no nodes */
    g.nroots = 0;
    CU_ASSERT_TRUE_FATAL(pm_dominators_compute(&g, &d));
    CU_ASSERT_EQUAL(d.nreached, 0);
    CU_ASSERT_EQUAL(d.idom[7], PM_DOM_NONE);
    pm_dominators_free(&d);
    g.n = 0;
    CU_ASSERT_TRUE_FATAL(pm_dominators_compute(&g, &d));
    CU_ASSERT_TRUE(pm_dominators_retain(&d, sizes));
    pm_dominators_free(&d);
    free(off);
    free(edges);
    free(sizes);
}

bool register_dominators_tests(void)
{
    static const unit_test tests[] = {
        {"against brute force on random graphs", test_random},
        {"a million-node chain", test_long_chain},
        {NULL, NULL},
    };
    return unit_add_suite("dominators", NULL, NULL, tests);
}

/* Immediate dominators by Lengauer and Tarjan ("A fast algorithm for finding
 * dominators in a flowgraph", 1979), the simple version: path compression
 * without balanced linking, O(E log N). Vertices are numbered in depth-first
 * preorder from a virtual super-root (number 0) whose successors are the
 * roots. Every step that the paper writes recursively (the DFS, compress) is
 * an explicit loop here: reference graphs have chains millions long. */
#include <stdlib.h>
#include <string.h>

#include "dominators.h"

#define NONE UINT32_MAX

typedef struct lt {
    uint32_t *dfn;   /* node -> preorder number, NONE if unreached */
    uint32_t *vert;  /* number -> node (vert[0] unused: the super-root) */
    uint32_t *par;   /* number -> DFS parent's number */
    uint32_t *semi, *label, *anc, *idom, *bucket, *next;
    uint32_t *poff, *preds; /* number -> predecessors' numbers (CSR) */
    uint32_t *stack;
    size_t r; /* numbers 0 .. r */
} lt;

/* Preorder numbering by an iterative DFS; cursor[k] is the next edge of the
 * node on stack[k]. */
static bool number(const pm_dom_graph *g, lt *t)
{
    uint32_t *cursor = malloc((g->n + 1) * sizeof *cursor);
    if (!cursor)
        return false;
    size_t r = 0;
    for (size_t k = 0; k < g->nroots; k++) {
        uint32_t root = g->roots[k];
        if (root >= g->n || t->dfn[root] != NONE)
            continue;
        size_t sp = 0;
        t->dfn[root] = (uint32_t)++r;
        t->vert[r] = root;
        t->par[r] = 0;
        t->stack[sp] = root;
        cursor[sp++] = g->off[root];
        while (sp) {
            uint32_t v = t->stack[sp - 1];
            if (cursor[sp - 1] == g->off[v + 1]) {
                sp--;
                continue;
            }
            uint32_t w = g->edges[cursor[sp - 1]++];
            if (w >= g->n || t->dfn[w] != NONE)
                continue;
            t->dfn[w] = (uint32_t)++r;
            t->vert[r] = w;
            t->par[r] = t->dfn[v];
            t->stack[sp] = w;
            cursor[sp++] = g->off[w];
        }
    }
    free(cursor);
    t->r = r;
    return true;
}

/* Predecessors by number, over the reached nodes (the super-root precedes
 * every root). */
static bool predecessors(const pm_dom_graph *g, lt *t)
{
    size_t r = t->r;
    t->poff = calloc(r + 2, sizeof *t->poff);
    if (!t->poff)
        return false;
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t v = 1; v <= r; v++) {
            uint32_t node = t->vert[v];
            for (uint32_t e = g->off[node]; e < g->off[node + 1]; e++) {
                uint32_t w = g->edges[e];
                if (w >= g->n || t->dfn[w] == NONE)
                    continue;
                if (pass == 0)
                    t->poff[t->dfn[w] + 1]++;
                else
                    t->preds[t->poff[t->dfn[w]]++] = (uint32_t)v;
            }
        }
        for (size_t k = 0; k < g->nroots; k++) {
            uint32_t root = g->roots[k];
            if (root >= g->n)
                continue;
            if (pass == 0)
                t->poff[t->dfn[root] + 1]++;
            else
                t->preds[t->poff[t->dfn[root]]++] = 0;
        }
        if (pass == 0) {
            for (size_t v = 1; v <= r + 1; v++)
                t->poff[v] += t->poff[v - 1];
            total = t->poff[r + 1];
            t->preds = malloc((total ? total : 1) * sizeof *t->preds);
            if (!t->preds)
                return false;
        } else {
            /* the fill advanced each start to the next one's: shift back */
            memmove(t->poff + 1, t->poff, (r + 1) * sizeof *t->poff);
            t->poff[0] = 0;
        }
    }
    return true;
}

/* Path compression along the ancestor links of the forest built so far,
 * from v up to the child of its tree's top (an explicit stack). */
static void compress(lt *t, uint32_t v)
{
    size_t sp = 0;
    for (uint32_t x = v; t->anc[t->anc[x]] != NONE; x = t->anc[x])
        t->stack[sp++] = x;
    while (sp) {
        uint32_t x = t->stack[--sp], a = t->anc[x];
        if (t->semi[t->label[a]] < t->semi[t->label[x]])
            t->label[x] = t->label[a];
        t->anc[x] = t->anc[a];
    }
}

static uint32_t eval(lt *t, uint32_t v)
{
    if (t->anc[v] == NONE)
        return v;
    compress(t, v);
    return t->label[v];
}

static void lt_free(lt *t)
{
    free(t->dfn);
    free(t->vert);
    free(t->par);
    free(t->semi);
    free(t->label);
    free(t->anc);
    free(t->idom);
    free(t->bucket);
    free(t->next);
    free(t->poff);
    free(t->preds);
    free(t->stack);
}

bool pm_dominators_compute(const pm_dom_graph *g, pm_dominators *out)
{
    memset(out, 0, sizeof *out);
    if (g->n >= PM_DOM_ROOT)
        return false;
    size_t n1 = g->n + 1;
    lt t = {0};
    t.dfn = malloc(n1 * sizeof *t.dfn);
    t.vert = malloc(n1 * sizeof *t.vert);
    t.par = malloc(n1 * sizeof *t.par);
    t.stack = malloc(n1 * sizeof *t.stack);
    if (!t.dfn || !t.vert || !t.par || !t.stack)
        goto fail;
    memset(t.dfn, 0xff, n1 * sizeof *t.dfn);
    if (!number(g, &t) || !predecessors(g, &t))
        goto fail;
    size_t r1 = t.r + 1;
    t.semi = malloc(r1 * sizeof *t.semi);
    t.label = malloc(r1 * sizeof *t.label);
    t.anc = malloc(r1 * sizeof *t.anc);
    t.idom = malloc(r1 * sizeof *t.idom);
    t.bucket = malloc(r1 * sizeof *t.bucket);
    t.next = malloc(r1 * sizeof *t.next);
    if (!t.semi || !t.label || !t.anc || !t.idom || !t.bucket || !t.next)
        goto fail;
    for (uint32_t v = 0; v <= t.r; v++) {
        t.semi[v] = t.label[v] = v;
        t.anc[v] = t.bucket[v] = NONE;
        t.idom[v] = 0;
    }
    for (uint32_t w = (uint32_t)t.r; w >= 1; w--) {
        /* the semidominator: the least semi over the predecessors' evals */
        for (uint32_t k = t.poff[w]; k < t.poff[w + 1]; k++) {
            uint32_t u = eval(&t, t.preds[k]);
            if (t.semi[u] < t.semi[w])
                t.semi[w] = t.semi[u];
        }
        t.next[w] = t.bucket[t.semi[w]];
        t.bucket[t.semi[w]] = w;
        uint32_t p = t.par[w];
        t.anc[w] = p; /* link */
        /* implicit immediate dominators of the vertices whose semi is p */
        for (uint32_t v = t.bucket[p]; v != NONE; v = t.next[v]) {
            uint32_t u = eval(&t, v);
            t.idom[v] = t.semi[u] < t.semi[v] ? u : p;
        }
        t.bucket[p] = NONE;
    }
    for (uint32_t w = 1; w <= t.r; w++)
        if (t.idom[w] != t.semi[w])
            t.idom[w] = t.idom[t.idom[w]];
    out->n = g->n;
    out->nreached = t.r;
    out->idom = malloc(n1 * sizeof *out->idom);
    out->order = malloc(r1 * sizeof *out->order);
    if (!out->idom || !out->order)
        goto fail;
    for (size_t i = 0; i < g->n; i++) {
        uint32_t v = t.dfn[i];
        out->idom[i] = v == NONE ? PM_DOM_NONE : t.idom[v] ? t.vert[t.idom[v]] : PM_DOM_ROOT;
    }
    for (size_t v = 1; v <= t.r; v++)
        out->order[v - 1] = t.vert[v];
    lt_free(&t);
    return true;
fail:
    lt_free(&t);
    pm_dominators_free(out);
    return false;
}

bool pm_dominators_retain(pm_dominators *d, const uint64_t *sizes)
{
    free(d->retained_bytes);
    free(d->retained_objects);
    d->retained_bytes = calloc(d->n + 1, sizeof *d->retained_bytes);
    d->retained_objects = calloc(d->n + 1, sizeof *d->retained_objects);
    if (!d->retained_bytes || !d->retained_objects)
        return false;
    for (size_t k = 0; k < d->nreached; k++) {
        uint32_t v = d->order[k];
        d->retained_bytes[v] = sizes[v];
        d->retained_objects[v] = 1;
    }
    /* children after their dominators in preorder: sum from the end */
    for (size_t k = d->nreached; k-- > 0;) {
        uint32_t v = d->order[k], p = d->idom[v];
        if (p < d->n) {
            d->retained_bytes[p] += d->retained_bytes[v];
            d->retained_objects[p] += d->retained_objects[v];
        }
    }
    return true;
}

void pm_dominators_free(pm_dominators *d)
{
    free(d->idom);
    free(d->order);
    free(d->retained_bytes);
    free(d->retained_objects);
    memset(d, 0, sizeof *d);
}

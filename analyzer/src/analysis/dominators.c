/* Immediate dominators by Lengauer and Tarjan ("A fast algorithm for finding
 * dominators in a flowgraph", 1979), the simple version: path compression
 * without balanced linking, O(E log N). Vertices are numbered in depth-first
 * preorder from a virtual super-root (number 0) whose successors are the
 * roots. Every step that the paper writes recursively (the DFS, compress) is
 * an explicit loop here: reference graphs have chains millions long.
 *
 * Memory is the constraint (a core of 6.7 M objects has 6.7 M nodes, and
 * each array of them costs 27 MB), so arrays are shared where their live
 * ranges do not overlap, in the main loop's reverse preorder:
 *  - par[v] is read at v's step; v then enters its semidominator's bucket,
 *    whose chain link needs a slot until v leaves the bucket, when its
 *    (tentative) idom is written: par, the bucket chain and idom are one
 *    array (pni);
 *  - compress walks up by reversing the ancestor links and down by
 *    restoring them, so it needs no stack;
 *  - the predecessor lists lie in the order of their vertices, which the
 *    main loop visits last to first, each list marked at its first entry:
 *    no offsets are kept (every vertex has one predecessor at least, its
 *    parent or the super-root);
 *  - the preorder numbering (node -> number and number -> node) is needed
 *    only to build the predecessor lists and, at the end, to name the
 *    idoms' nodes: it is given back in between, and the depth-first search,
 *    which is deterministic, runs again for the end. */
#include <stdlib.h>
#include <string.h>

#include "dominators.h"

#define NONE UINT32_MAX
#define FIRST 0x80000000u /* a predecessor list's first entry (numbers are below) */

typedef struct lt {
    uint32_t *vert;   /* number -> node */
    uint32_t *pni;    /* number -> DFS parent's number, then bucket chain, then idom */
    uint32_t *semi, *label, *anc, *bucket;
    uint32_t *poff;   /* while predecessors() builds preds: where each list starts */
    uint32_t *preds;  /* the predecessors' numbers, by vertex, each list's first FIRST-marked */
    size_t r;         /* numbers 0 .. r */
    size_t npreds;
} lt;

static bool seen(const uint32_t *dfn, const uint64_t *bits, uint32_t v)
{
    return dfn ? dfn[v] != NONE : (bits[v / 64] >> (v % 64)) & 1;
}

/* Preorder numbering by an iterative DFS into vert, and into dfn (node ->
 * number) and pni (the parents' numbers) unless NULL: then a bitmap marks
 * the nodes seen. stack[k] is a node on the DFS path, cursor[k] its next
 * edge. */
static bool number(const pm_dom_graph *g, lt *t, uint32_t *dfn)
{
    uint32_t *stack = malloc((g->n + 1) * sizeof *stack);
    uint32_t *cursor = malloc((g->n + 1) * sizeof *cursor);
    uint64_t *bits = dfn ? NULL : calloc(g->n / 64 + 1, sizeof *bits);
    if (!stack || !cursor || (!dfn && !bits)) {
        free(stack);
        free(cursor);
        free(bits);
        return false;
    }
    size_t r = 0;
    for (size_t k = 0; k < g->nroots; k++) {
        uint32_t root = g->roots[k];
        if (root >= g->n || seen(dfn, bits, root))
            continue;
        size_t sp = 0;
        ++r;
        if (dfn) {
            dfn[root] = (uint32_t)r;
            t->pni[r] = 0;
        } else {
            bits[root / 64] |= 1ull << (root % 64);
        }
        t->vert[r] = root;
        stack[sp] = root;
        cursor[sp++] = g->off[root];
        while (sp) {
            uint32_t v = stack[sp - 1];
            if (cursor[sp - 1] == g->off[v + 1]) {
                sp--;
                continue;
            }
            uint32_t w = g->edges[cursor[sp - 1]++];
            if (w >= g->n || seen(dfn, bits, w))
                continue;
            ++r;
            if (dfn) {
                dfn[w] = (uint32_t)r;
                t->pni[r] = dfn[v];
            } else {
                bits[w / 64] |= 1ull << (w % 64);
            }
            t->vert[r] = w;
            stack[sp] = w;
            cursor[sp++] = g->off[w];
        }
    }
    free(stack);
    free(cursor);
    free(bits);
    t->r = r;
    return true;
}

/* Predecessors by number, over the reached nodes (the super-root precedes
 * every root). */
static bool predecessors(const pm_dom_graph *g, lt *t, const uint32_t *dfn)
{
    size_t r = t->r;
    t->poff = calloc(r + 2, sizeof *t->poff);
    if (!t->poff)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t v = 1; v <= r; v++) {
            uint32_t node = t->vert[v];
            for (uint32_t e = g->off[node]; e < g->off[node + 1]; e++) {
                uint32_t w = g->edges[e];
                if (w >= g->n || dfn[w] == NONE)
                    continue;
                if (pass == 0)
                    t->poff[dfn[w] + 1]++;
                else
                    t->preds[t->poff[dfn[w]]++] = (uint32_t)v;
            }
        }
        for (size_t k = 0; k < g->nroots; k++) {
            uint32_t root = g->roots[k];
            if (root >= g->n)
                continue;
            if (pass == 0)
                t->poff[dfn[root] + 1]++;
            else
                t->preds[t->poff[dfn[root]]++] = 0;
        }
        if (pass == 0) {
            for (size_t v = 1; v <= r + 1; v++)
                t->poff[v] += t->poff[v - 1];
            size_t total = t->poff[r + 1];
            t->npreds = total;
            t->preds = malloc((total ? total : 1) * sizeof *t->preds);
            if (!t->preds)
                return false;
        }
    }
    /* the fill advanced each start to the next one's: poff[v - 1] is where
     * v's list starts, poff[v] where it ends (none is empty: a vertex was
     * numbered through an edge, or as a root) */
    for (size_t v = 1; v <= r; v++) {
        if (t->poff[v - 1] == t->poff[v])
            return false;
        t->preds[t->poff[v - 1]] |= FIRST;
    }
    free(t->poff);
    t->poff = NULL;
    return true;
}

/* Path compression along the ancestor links of the forest built so far,
 * from v up to the child of its tree's top. Up: each link is reversed to
 * point back down; down: restored, to the top's child, with the labels. */
static void compress(lt *t, uint32_t v)
{
    uint32_t x = v, below = NONE;
    while (t->anc[t->anc[x]] != NONE) {
        uint32_t up = t->anc[x];
        t->anc[x] = below;
        below = x;
        x = up;
    }
    /* x is the topmost vertex whose link stays; below, the chain under it */
    uint32_t a = x;
    while (below != NONE) {
        uint32_t y = below;
        below = t->anc[y];
        if (t->semi[t->label[a]] < t->semi[t->label[y]])
            t->label[y] = t->label[a];
        t->anc[y] = t->anc[a];
        a = y;
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
    free(t->vert);
    free(t->pni);
    free(t->semi);
    free(t->label);
    free(t->anc);
    free(t->bucket);
    free(t->poff);
    free(t->preds);
}

/* The semidominators, and the idoms implicitly (Lengauer-Tarjan's steps 2
 * and 3), into pni. */
static void semidominators(lt *t)
{
    uint32_t *pni = t->pni;
    for (uint32_t v = 0; v <= t->r; v++) {
        t->semi[v] = t->label[v] = v;
        t->anc[v] = t->bucket[v] = NONE;
    }
    size_t k = t->npreds; /* w's list ends where w + 1's starts */
    for (uint32_t w = (uint32_t)t->r; w >= 1; w--) {
        uint32_t p = pni[w]; /* w's parent: its last use */
        /* the semidominator: the least semi over the predecessors' evals */
        uint32_t e;
        do {
            e = t->preds[--k];
            uint32_t u = eval(t, e & ~FIRST);
            if (t->semi[u] < t->semi[w])
                t->semi[w] = t->semi[u];
        } while (!(e & FIRST));
        pni[w] = t->bucket[t->semi[w]]; /* w joins its semidominator's bucket */
        t->bucket[t->semi[w]] = w;
        t->anc[w] = p; /* link */
        /* implicit immediate dominators of the vertices whose semi is p */
        for (uint32_t v = t->bucket[p]; v != NONE;) {
            uint32_t next = pni[v], u = eval(t, v);
            pni[v] = t->semi[u] < t->semi[v] ? u : p;
            v = next;
        }
        t->bucket[p] = NONE;
    }
    pni[0] = 0;
    for (uint32_t w = 1; w <= t->r; w++)
        if (pni[w] != t->semi[w])
            pni[w] = pni[pni[w]];
}

bool pm_dominators_compute(const pm_dom_graph *g, pm_dominators *out)
{
    memset(out, 0, sizeof *out);
    if (g->n >= FIRST)
        return false;
    size_t n1 = g->n + 1;
    lt t = {0};
    uint32_t *dfn = malloc(n1 * sizeof *dfn); /* node -> number, until the predecessors */
    t.vert = malloc(n1 * sizeof *t.vert);
    t.pni = malloc(n1 * sizeof *t.pni);
    if (!dfn || !t.vert || !t.pni)
        goto fail;
    memset(dfn, 0xff, n1 * sizeof *dfn);
    if (!number(g, &t, dfn) || !predecessors(g, &t, dfn))
        goto fail;
    size_t r1 = t.r + 1;
    /* the numbering is not needed again until the end: give its pages back
     * while the main loop runs */
    free(dfn);
    free(t.vert);
    dfn = t.vert = NULL;
    t.semi = malloc(r1 * sizeof *t.semi);
    t.label = malloc(r1 * sizeof *t.label);
    t.anc = malloc(r1 * sizeof *t.anc);
    t.bucket = malloc(r1 * sizeof *t.bucket);
    if (!t.semi || !t.label || !t.anc || !t.bucket)
        goto fail;
    semidominators(&t);
    free(t.semi);
    free(t.label);
    free(t.anc);
    free(t.bucket);
    free(t.poff);
    free(t.preds);
    t.semi = t.label = t.anc = t.bucket = t.poff = t.preds = NULL;
    /* the same search again, for number -> node */
    size_t reached = t.r;
    t.vert = malloc(n1 * sizeof *t.vert);
    if (!t.vert || !number(g, &t, NULL) || t.r != reached)
        goto fail;
    out->n = g->n;
    out->nreached = t.r;
    out->idom = malloc(n1 * sizeof *out->idom);
    if (!out->idom)
        goto fail;
    for (size_t i = 0; i < n1; i++)
        out->idom[i] = PM_DOM_NONE;
    for (size_t v = 1; v <= t.r; v++)
        out->idom[t.vert[v]] = t.pni[v] ? t.vert[t.pni[v]] : PM_DOM_ROOT;
    /* the preorder: vert without the super-root's slot */
    memmove(t.vert, t.vert + 1, t.r * sizeof *t.vert);
    uint32_t *order = realloc(t.vert, r1 * sizeof *order);
    out->order = order ? order : t.vert;
    t.vert = NULL;
    lt_free(&t);
    return true;
fail:
    free(dfn);
    lt_free(&t);
    pm_dominators_free(out);
    return false;
}

bool pm_dominators_retain(pm_dominators *d, const uint64_t *sizes)
{
    free(d->retained_objects);
    d->retained_objects = calloc(d->n + 1, sizeof *d->retained_objects);
    if (sizes) {
        free(d->retained_bytes);
        d->retained_bytes = calloc(d->n + 1, sizeof *d->retained_bytes);
    } else if (d->retained_bytes) {
        for (size_t i = 0; i < d->n; i++)
            if (d->idom[i] == PM_DOM_NONE)
                d->retained_bytes[i] = 0;
    }
    if (!d->retained_bytes || !d->retained_objects)
        return false;
    for (size_t k = 0; k < d->nreached; k++) {
        uint32_t v = d->order[k];
        if (sizes)
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

/* Retention over the leak analysis's graph: the same nodes, the same CSR
 * edges (decoded once, by leaks.c), the same roots (path's named roots,
 * immortal objects, and objects whose refcount exceeds the references
 * found), then Lengauer-Tarjan (dominators.c) and the sums over the
 * dominator tree. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "object.h"
#include "retain.h"
#include "roots.h"

static uint16_t label_index(pm_retain *r, const char *label)
{
    /* frames come in order, so the last label is the likely one */
    for (size_t k = r->nlabels; k-- > 0;)
        if (strcmp(r->labels[k], label) == 0)
            return (uint16_t)k;
    if (r->nlabels == PM_RETAIN_MAX_LABELS)
        return (uint16_t)(r->nlabels - 1); /* a label is a hint; the last one stands in */
    char *copy = pm_strdup(label);
    if (!copy) {
        r->nomem = true;
        return 0;
    }
    r->labels[r->nlabels] = copy;
    return (uint16_t)r->nlabels++;
}

static void add_root(pm_retain *r, long idx, const char *label, bool frame, bool named)
{
    if (idx < 0 || r->nomem)
        return;
    if (r->nroots == r->caproots) {
        size_t cap = r->caproots ? r->caproots * 2 : 1024;
        pm_retain_root *v = realloc(r->roots, cap * sizeof *v);
        if (!v) {
            r->nomem = true;
            return;
        }
        r->roots = v;
        r->caproots = cap;
    }
    uint16_t l = label_index(r, label);
    r->roots[r->nroots++] = (pm_retain_root){(uint32_t)idx, l, frame, named};
}

/* by node, then by the order the roots came in */
static int by_node(const void *a, const void *b)
{
    const pm_retain_root *x = *(const pm_retain_root *const *)a, *y = *(const pm_retain_root *const *)b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* root_at: each root node once, with the label of the first root that named
 * it (a sorted list: roots are few beside the nodes) */
static bool index_roots(pm_retain *r)
{
    const pm_retain_root **v = malloc((r->nroots + 1) * sizeof *v);
    r->root_at = malloc((r->nroots + 1) * sizeof *r->root_at);
    if (!v || !r->root_at) {
        free(v);
        return false;
    }
    for (size_t k = 0; k < r->nroots; k++)
        v[k] = &r->roots[k];
    pm_sort(v, r->nroots, sizeof *v, by_node);
    for (size_t k = 0; k < r->nroots; k++)
        if (!r->nroot_at || r->root_at[r->nroot_at - 1].node != v[k]->node)
            r->root_at[r->nroot_at++] = *v[k];
    free(v);
    return true;
}

typedef struct root_ctx {
    pm_retain *r;
    bool frame;
} root_ctx;

static void on_root(void *ctx, uint64_t target, const char *label)
{
    root_ctx *c = ctx;
    add_root(c->r, pm_graph_index(&c->r->lk.g, target), label, c->frame, true);
}

/* Each node's size into size[], and its hidden mark: the roots, modules and
 * their dicts, what `dominators` leaves out by default. */
static void measure(pymac_session *s, pm_retain *r, uint64_t *size)
{
    pm_field md_dict;
    pm_lookup_field(s, "PyModuleObject", "md_dict", &md_dict);
    for (size_t k = 0; k < r->nroot_at; k++)
        r->hidden[r->root_at[k].node] = 1;
    size_t n = r->lk.g.n;
    for (size_t i = 0; i < n; i++) {
        pm_object o;
        if ((i & 16383) == 0)
            pm_progress(s, "retained: sizes", i, n);
        size[i] = 0;
        if (!pm_retain_object(s, r, (uint32_t)i, &o))
            continue;
        size[i] = o.size;
        if (strcmp(o.type->name, "module") != 0)
            continue;
        r->hidden[i] = 1;
        uint64_t d;
        long k;
        if (md_dict.ok && pm_read_u64(s, o.addr + (uint64_t)md_dict.off, &d) &&
            (k = pm_graph_index(&r->lk.g, d)) >= 0)
            r->hidden[k] = 1;
    }
    pm_progress(s, "retained: sizes", n, n);
}

/* The position of node i in the ascending nodes[0 .. m) (it is there). */
static uint32_t garbage_position(const uint32_t *nodes, size_t m, uint32_t i)
{
    return (uint32_t)pm_lower_bound_u32(nodes, m, i);
}

/* What the garbage retains: a second tree over the unreached nodes only,
 * entered from the unreached GC objects. A reached node's referents are
 * reached too, so no path from the garbage leaves it and comes back: the
 * subgraph of the unreached nodes has the same dominators, at the size of
 * the garbage, not of the heap. */
static bool garbage(pymac_session *s, pm_retain *r, const uint64_t *size)
{
    const pymac_gc *gc;
    const pm_leaks *lk = &r->lk;
    size_t n = lk->g.n, m = 0, ne = 0, nroots = 0;
    if (pymac_gc_walk(s, &gc, NULL) > PYMAC_PARTIAL)
        return true; /* no GC lists: no garbage to weigh */
    for (size_t i = 0; i < n; i++)
        m += !lk->reached[i];
    uint32_t *nodes = malloc((m + 1) * sizeof *nodes), *off = malloc((m + 2) * sizeof *off);
    uint32_t *ids = malloc((gc->permanent.first + 1) * sizeof *ids);
    uint64_t *sizes = malloc((m + 1) * sizeof *sizes);
    uint32_t *edges = NULL;
    bool ok = nodes && off && ids && sizes;
    for (size_t i = 0, k = 0; ok && i < n; i++)
        if (!lk->reached[i])
            nodes[k++] = (uint32_t)i;
    for (size_t k = 0; ok && k < m; k++)
        for (uint32_t e = lk->edge_off[nodes[k]]; e < lk->edge_off[nodes[k] + 1]; e++)
            ne += !lk->reached[lk->edge_to[e]];
    ok = ok && (edges = malloc((ne + 1) * sizeof *edges));
    if (ok) {
        /* renumbered: node i is at its position in nodes */
        ne = 0;
        for (size_t k = 0; k < m; k++) {
            off[k] = (uint32_t)ne;
            sizes[k] = size[nodes[k]];
            for (uint32_t e = lk->edge_off[nodes[k]]; e < lk->edge_off[nodes[k] + 1]; e++)
                if (!lk->reached[lk->edge_to[e]])
                    edges[ne++] = garbage_position(nodes, m, lk->edge_to[e]);
        }
        off[m] = (uint32_t)ne;
        for (size_t i = 0; i < gc->permanent.first; i++) {
            long k = pm_graph_index(&lk->g, gc->objects[i]);
            if (k >= 0 && !lk->reached[k])
                ids[nroots++] = garbage_position(nodes, m, (uint32_t)k);
        }
        pm_dom_graph dg = {m, off, edges, ids, nroots};
        ok = pm_dominators_compute(&dg, &r->garbage) && pm_dominators_retain(&r->garbage, sizes);
    }
    if (ok) {
        r->garbage_nodes = nodes;
        r->lk.garbage_nodes = nodes;
        r->lk.ngarbage = m;
        r->lk.garbage_bytes = r->garbage.retained_bytes;
    } else {
        free(nodes);
    }
    free(off);
    free(edges);
    free(ids);
    free(sizes);
    return ok;
}

static pymac_status build(pymac_session *s, pm_retain *r, pymac_error *err)
{
    pymac_status st = pm_leaks_analyze_keep(s, &r->lk, true, err);
    if (st > PYMAC_PARTIAL)
        return st;
    size_t n = r->lk.g.n;
    if (!r->lk.edge_off)
        return pm_fail(err, PYMAC_E_NOMEM, NULL,
                       "too many references for the dominator tree (over 2^32)");
    r->labels = calloc(PM_RETAIN_MAX_LABELS, sizeof *r->labels);
    if (!r->labels)
        return pm_nomem(err);
    root_ctx c = {r, false};
    pm_roots_walk(s, PM_ROOTS_INTERP, on_root, &c);
    c.frame = true;
    pm_roots_walk(s, PM_ROOTS_FRAMES, on_root, &c);
    for (size_t k = 0; k < r->lk.nimmortal; k++)
        add_root(r, (long)r->lk.immortal[k], "immortal", false, false);
    for (size_t k = 0; k < r->lk.nunexplained; k++)
        add_root(r, (long)r->lk.unexplained[k].node, "refcount above the references found",
                 false, false);
    if (r->nomem || !index_roots(r))
        return pm_nomem(err);
    uint32_t *ids = malloc((r->nroots + 1) * sizeof *ids);
    if (!ids)
        return pm_nomem(err);
    for (size_t k = 0; k < r->nroots; k++)
        ids[k] = r->roots[k].node;
    pm_dom_graph dg = {n, r->lk.edge_off, r->lk.edge_to, ids, r->nroots};
    pm_target_trim(&s->target); /* the tree reads no target memory: its pages go back */
    bool ok = pm_dominators_compute(&dg, &r->dom);
    free(ids);
    /* sizes after the tree, whose arrays are given back by then, into the
     * array their sums take (the views read the few sizes and types they
     * print from the objects) */
    uint64_t *size = ok ? malloc((n + 1) * sizeof *size) : NULL;
    ok = size && (r->hidden = calloc(n + 1, 1));
    if (ok)
        measure(s, r, size);
    ok = ok && garbage(s, r, size);
    if (ok) {
        r->dom.retained_bytes = size;
        ok = pm_dominators_retain(&r->dom, NULL);
    } else {
        free(size);
    }
    if (!ok)
        return pm_nomem(err);
    r->lk.retained_bytes = r->dom.retained_bytes;
    return st;
}

pymac_status pm_retain_shared(pymac_session *s, pm_retain **out, pymac_error *err)
{
    if (!s->retain) {
        pm_retain *r = calloc(1, sizeof *r);
        if (!r)
            return pm_nomem(err);
        pymac_status st = build(s, r, err);
        if (st > PYMAC_PARTIAL) {
            pm_retain_free(r);
            return st;
        }
        s->retain = r;
    }
    *out = s->retain;
    return s->retain->lk.g.partial ? PYMAC_PARTIAL : PYMAC_OK;
}

void pm_retain_free(pm_retain *r)
{
    if (!r)
        return;
    pm_leaks_free(&r->lk);
    pm_dominators_free(&r->dom);
    pm_dominators_free(&r->garbage);
    for (size_t k = 0; r->labels && k < r->nlabels; k++)
        free(r->labels[k]);
    free(r->labels);
    free(r->roots);
    free(r->root_at);
    free(r->garbage_nodes);
    free(r->hidden);
    free(r->path_parent);
    free(r);
}

bool pm_retain_object(pymac_session *s, const pm_retain *r, uint32_t i, pm_object *o)
{
    return i < r->lk.g.n && pm_object_read(s, r->lk.g.nodes[i], o) && o->type->addr;
}

uint64_t pm_retain_size(pymac_session *s, const pm_retain *r, uint32_t i)
{
    pm_object o;
    return pm_retain_object(s, r, i, &o) ? o.size : 0;
}

const pm_type *pm_retain_type(pymac_session *s, const pm_retain *r, uint32_t i)
{
    pm_object o;
    return pm_retain_object(s, r, i, &o) ? o.type : NULL;
}

const char *pm_retain_root_name(const pm_retain *r, uint32_t i)
{
    size_t lo = 0, hi = r->nroot_at;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->root_at[mid].node < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nroot_at && r->root_at[lo].node == i ? r->labels[r->root_at[lo].label] : NULL;
}

/* The BFS queue: blocks of a fixed size, linked, so that it costs what the
 * frontier holds (mostly far less than the graph) and never a copy. */
enum { QBLOCK = 1 << 16 };
typedef struct qblock {
    struct qblock *next;
    uint32_t v[QBLOCK];
} qblock;

typedef struct queue {
    qblock *head, *tail;
    size_t first, end; /* in head, in tail */
} queue;

static bool queue_push(queue *q, uint32_t x)
{
    if (!q->tail || q->end == QBLOCK) {
        qblock *b = malloc(sizeof *b);
        if (!b)
            return false;
        b->next = NULL;
        if (q->tail)
            q->tail->next = b;
        else
            q->head = b;
        q->tail = b;
        q->end = 0;
    }
    q->tail->v[q->end++] = x;
    return true;
}

static bool queue_pop(queue *q, uint32_t *x)
{
    if (!q->head || (q->head == q->tail && q->first == q->end))
        return false;
    if (q->first == QBLOCK) {
        qblock *b = q->head;
        q->head = b->next;
        q->first = 0;
        free(b);
    }
    *x = q->head->v[q->first++];
    return true;
}

static void queue_free(queue *q)
{
    while (q->head) {
        qblock *b = q->head;
        q->head = b->next;
        free(b);
    }
}

bool pm_retain_paths(pymac_session *s, pm_retain *r)
{
    if (r->path_parent)
        return true;
    pm_target_trim(&s->target); /* the search reads no target memory */
    size_t n = r->lk.g.n;
    uint32_t *parent = malloc((n + 1) * sizeof *parent);
    queue q = {0};
    bool ok = parent != NULL;
    if (ok)
        memset(parent, 0xff, (n + 1) * sizeof *parent);
    /* as path: the interpreter's roots to completion, then the frames */
    for (int phase = 0; phase < 2 && ok; phase++) {
        for (size_t k = 0; k < r->nroots && ok; k++) {
            const pm_retain_root *rt = &r->roots[k];
            if (!rt->named || rt->frame != (phase == 1) || parent[rt->node] != PM_PATH_NONE)
                continue;
            parent[rt->node] = PM_PATH_ROOT;
            ok = queue_push(&q, rt->node);
        }
        uint32_t v;
        while (ok && queue_pop(&q, &v)) {
            for (uint32_t e = r->lk.edge_off[v]; e < r->lk.edge_off[v + 1] && ok; e++) {
                uint32_t w = r->lk.edge_to[e];
                if (parent[w] == PM_PATH_NONE) {
                    parent[w] = v;
                    ok = queue_push(&q, w);
                }
            }
        }
    }
    queue_free(&q);
    if (!ok) {
        free(parent);
        return false;
    }
    r->path_parent = parent;
    return true;
}

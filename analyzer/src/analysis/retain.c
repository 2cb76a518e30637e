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
    if (!r->root_of[idx])
        r->root_of[idx] = (uint16_t)(l + 1);
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

/* Modules and their dicts: what `dominators` leaves out by default. */
static void mark_modules(pymac_session *s, pm_retain *r)
{
    pm_field md_dict;
    pm_lookup_field(s, "PyModuleObject", "md_dict", &md_dict);
    for (size_t i = 0; i < r->lk.g.n; i++) {
        const pm_type *t = r->lk.type[i] ? pm_type_get(s, r->lk.type[i]) : NULL;
        if (!t || strcmp(t->name, "module") != 0)
            continue;
        r->hidden[i] = 1;
        uint64_t d;
        long k;
        if (md_dict.ok && pm_read_u64(s, r->lk.g.nodes[i] + (uint64_t)md_dict.off, &d) &&
            (k = pm_graph_index(&r->lk.g, d)) >= 0)
            r->hidden[k] = 1;
    }
}

/* What the garbage retains: a second tree over the unreached nodes only
 * (reached ones weigh nothing), entered from the unreached GC objects. */
static bool garbage(pymac_session *s, pm_retain *r)
{
    const pymac_gc *gc;
    size_t n = r->lk.g.n, m = 0;
    if (pymac_gc_walk(s, &gc, NULL) > PYMAC_PARTIAL)
        return true; /* no GC lists: no garbage to weigh */
    uint32_t *ids = malloc((gc->permanent.first + 1) * sizeof *ids);
    uint64_t *sizes = malloc((n + 1) * sizeof *sizes);
    bool ok = ids && sizes;
    if (ok) {
        for (size_t i = 0; i < gc->permanent.first; i++) {
            long k = pm_graph_index(&r->lk.g, gc->objects[i]);
            if (k >= 0 && !r->lk.reached[k])
                ids[m++] = (uint32_t)k;
        }
        for (size_t i = 0; i < n; i++)
            sizes[i] = r->lk.reached[i] ? 0 : r->lk.size[i];
        pm_dom_graph dg = {n, r->lk.edge_off, r->lk.edge_to, ids, m};
        ok = pm_dominators_compute(&dg, &r->garbage) && pm_dominators_retain(&r->garbage, sizes);
        if (ok)
            r->lk.garbage_bytes = r->garbage.retained_bytes;
    }
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
    r->root_of = calloc(n + 1, sizeof *r->root_of);
    r->hidden = calloc(n + 1, 1);
    if (!r->labels || !r->root_of || !r->hidden)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    root_ctx c = {r, false};
    pm_graph_roots(s, PM_ROOTS_INTERP, on_root, &c);
    c.frame = true;
    pm_graph_roots(s, PM_ROOTS_FRAMES, on_root, &c);
    for (size_t i = 0; i < n; i++)
        if (r->lk.rc[i] == PM_RC_IMMORTAL)
            add_root(r, (long)i, "immortal", false, false);
    for (size_t i = 0; i < n; i++)
        if (r->lk.rc[i] != PM_RC_IMMORTAL && r->lk.rc[i] > r->lk.incoming[i])
            add_root(r, (long)i, "refcount above the references found", false, false);
    if (r->nomem)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    uint32_t *ids = malloc((r->nroots + 1) * sizeof *ids);
    if (!ids)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    for (size_t k = 0; k < r->nroots; k++)
        ids[k] = r->roots[k].node;
    pm_dom_graph dg = {n, r->lk.edge_off, r->lk.edge_to, ids, r->nroots};
    bool ok = pm_dominators_compute(&dg, &r->dom) && pm_dominators_retain(&r->dom, r->lk.size);
    free(ids);
    if (!ok)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    mark_modules(s, r);
    r->lk.retained_bytes = r->dom.retained_bytes;
    if (!garbage(s, r))
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    return st;
}

pymac_status pm_retain_shared(pymac_session *s, pm_retain **out, pymac_error *err)
{
    if (!s->retain) {
        pm_retain *r = calloc(1, sizeof *r);
        if (!r)
            return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
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
    free(r->root_of);
    free(r->hidden);
    free(r->path_parent);
    free(r);
}

const char *pm_retain_root_name(const pm_retain *r, uint32_t i)
{
    return i < r->lk.g.n && r->root_of[i] ? r->labels[r->root_of[i] - 1] : NULL;
}

bool pm_retain_paths(pymac_session *s, pm_retain *r)
{
    (void)s;
    if (r->path_parent)
        return true;
    size_t n = r->lk.g.n;
    uint32_t *parent = malloc((n + 1) * sizeof *parent), *queue = malloc((n + 1) * sizeof *queue);
    if (!parent || !queue) {
        free(parent);
        free(queue);
        return false;
    }
    memset(parent, 0xff, (n + 1) * sizeof *parent);
    size_t head = 0, tail = 0;
    /* as path: the interpreter's roots to completion, then the frames */
    for (int phase = 0; phase < 2; phase++) {
        for (size_t k = 0; k < r->nroots; k++) {
            const pm_retain_root *rt = &r->roots[k];
            if (!rt->named || rt->frame != (phase == 1) || parent[rt->node] != PM_PATH_NONE)
                continue;
            parent[rt->node] = PM_PATH_ROOT;
            queue[tail++] = rt->node;
        }
        while (head < tail) {
            uint32_t v = queue[head++];
            for (uint32_t e = r->lk.edge_off[v]; e < r->lk.edge_off[v + 1]; e++) {
                uint32_t w = r->lk.edge_to[e];
                if (parent[w] == PM_PATH_NONE) {
                    parent[w] = v;
                    queue[tail++] = w;
                }
            }
        }
    }
    free(queue);
    r->path_parent = parent;
    return true;
}

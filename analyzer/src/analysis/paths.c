/* referrers (who points at an object, and how) and path (the shortest chain
 * of references from a root to it), as data: render_graph.c prints them. */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "referents.h"
#include "roots.h"
#include "value.h"

enum { NO_PARENT = UINT32_MAX, ROOT = UINT32_MAX - 1, MAX_ROOT_LABELS = 4096 };

/* The live object at addr, and the graph around it. */
static pymac_status open_graph_for(pymac_session *s, uint64_t addr, pm_object *o,
                                   const pm_graph **g, pymac_error *err)
{
    if (!pm_object_read(s, addr, o) || (!o->refcnt && !o->immortal))
        return pm_fail(err, PYMAC_E_ADDRESS,
                       "find object addresses with: pymac-analyze objects CORE",
                       "0x%llx is not a live object", (unsigned long long)addr);
    return pm_graph_shared(s, g, err);
}

/* ---- referrers ---- */

typedef struct ref_finder {
    uint64_t goal, from;
    const pm_object *src;
    pymac_referrers *r;
    size_t cap;
    bool nomem;
} ref_finder;

static void add_referrer(ref_finder *f, uint64_t from, const char *type, const char *via,
                         bool conservative)
{
    pymac_referrers *r = f->r;
    if (f->nomem)
        return;
    if (r->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        pymac_referrer *g = realloc(r->referrers, cap * sizeof *g);
        if (!g) {
            f->nomem = true;
            return;
        }
        r->referrers = g;
        f->cap = cap;
    }
    pymac_referrer *e = &r->referrers[r->n];
    e->address = from;
    e->type = pm_strdup(type);
    e->via = pm_strdup(via);
    e->conservative = conservative;
    if (!e->type || !e->via) {
        free(e->type);
        free(e->via);
        f->nomem = true;
        return;
    }
    r->n++;
}

typedef struct spot {
    uint64_t goal;
    bool hit;
} spot;

/* First pass, unlabelled (cheap): does this object refer to the goal? */
static bool spot_ref(void *ctx, uint64_t target, const char *via, bool conservative)
{
    (void)via;
    (void)conservative;
    spot *sp = ctx;
    sp->hit = sp->hit || target == sp->goal;
    return !sp->hit;
}

/* Second pass, on the referrers only: every edge to the goal, labelled. */
static bool find_ref(void *ctx, uint64_t target, const char *via, bool conservative)
{
    ref_finder *f = ctx;
    if (target == f->goal)
        add_referrer(f, f->from, f->src->type->name, via, conservative);
    return true;
}

static void find_root(void *ctx, uint64_t target, const char *label)
{
    ref_finder *f = ctx;
    if (target == f->goal)
        add_referrer(f, 0, label, "(root)", false);
}

void pymac_referrers_free(pymac_referrers *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->referrers[i].type);
        free(r->referrers[i].via);
    }
    free(r->referrers);
    free(r);
}

pymac_status pymac_find_referrers(pymac_session *s, uint64_t addr, pymac_referrers **out,
                                  pymac_error *err)
{
    *out = NULL;
    pm_object goal;
    const pm_graph *g;
    pymac_status st = open_graph_for(s, addr, &goal, &g, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pymac_referrers *r = calloc(1, sizeof *r);
    if (!r)
        return pm_nomem(err);
    r->address = addr;
    r->refcnt = goal.refcnt;
    r->immortal = goal.immortal;
    r->partial = st == PYMAC_PARTIAL;
    ref_finder f = {.goal = addr, .r = r};
    pm_roots_walk(s, PM_ROOTS_ALL, find_root, &f);
    for (size_t i = 0; i < g->n && !f.nomem; i++) {
        pm_object o;
        spot sp = {addr, false};
        if (!pm_object_read(s, g->nodes[i], &o))
            continue;
        pm_referents_ex(s, &o, spot_ref, &sp, 0, PM_REFS_EXACT | PM_REFS_NO_LABELS);
        if (!sp.hit)
            continue;
        f.from = o.addr;
        f.src = &o;
        pm_referents_ex(s, &o, find_ref, &f, 0, PM_REFS_EXACT);
    }
    if (f.nomem) {
        pymac_referrers_free(r);
        return pm_nomem(err);
    }
    *out = r;
    return st;
}

/* ---- path ---- */

typedef struct bfs {
    const pm_graph *g;
    uint32_t *parent;
    uint16_t *root_label; /* for nodes reached from a root */
    char **labels;
    size_t nlabels;
    uint32_t *queue;
    size_t head, tail;
    long goal;
    uint32_t cur;
} bfs;

static void visit(bfs *b, long idx, uint32_t parent)
{
    if (idx < 0 || b->parent[idx] != NO_PARENT)
        return;
    b->parent[idx] = parent;
    b->queue[b->tail++] = (uint32_t)idx;
}

static void seed_root(void *ctx, uint64_t target, const char *label)
{
    bfs *b = ctx;
    long idx = pm_graph_index(b->g, target);
    if (idx < 0 || b->parent[idx] != NO_PARENT)
        return;
    size_t l = 0;
    while (l < b->nlabels && strcmp(b->labels[l], label) != 0)
        l++;
    if (l == b->nlabels) {
        if (b->nlabels == MAX_ROOT_LABELS)
            return;
        b->labels[b->nlabels++] = pm_strdup(label);
    }
    b->root_label[idx] = (uint16_t)l;
    visit(b, idx, ROOT);
}

static bool expand(void *ctx, uint64_t target, const char *via, bool conservative)
{
    (void)via;
    (void)conservative;
    bfs *b = ctx;
    visit(b, pm_graph_index(b->g, target), b->cur);
    return b->parent[b->goal] == NO_PARENT; /* stop once the goal is reached */
}

typedef struct via_finder {
    uint64_t target;
    char via[96];
    bool found;
} via_finder;

static bool find_via(void *ctx, uint64_t target, const char *via, bool conservative)
{
    via_finder *v = ctx;
    if (target != v->target)
        return true;
    snprintf(v->via, sizeof v->via, "%s%s", via, conservative ? " (conservative)" : "");
    v->found = true;
    return false;
}

void pymac_path_free(pymac_path *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->steps[i].type);
        free(p->steps[i].via);
        free(p->steps[i].value);
    }
    free(p->steps);
    free(p->type);
    free(p->root);
    free(p);
}

/* The steps along the chain (goal first in chain, so read backwards). */
static bool fill_steps(pymac_session *s, const pm_graph *g, const uint32_t *chain, size_t len,
                       pymac_path *p)
{
    p->steps = calloc(len, sizeof *p->steps);
    if (!p->steps)
        return false;
    for (size_t k = len; k-- > 0;) {
        pm_object o, parent;
        uint64_t a = g->nodes[chain[k]];
        via_finder v = {.target = a};
        if (k + 1 < len && pm_object_read(s, g->nodes[chain[k + 1]], &parent))
            pm_referents_ex(s, &parent, find_via, &v, 0, PM_REFS_EXACT);
        const char *via = k + 1 == len ? "" : v.found ? v.via : "?";
        bool valid = pm_object_read(s, a, &o);
        char value[80] = "";
        if (valid)
            pm_value_repr(s, &o, value, sizeof value);
        pymac_path_step *st = &p->steps[p->n++];
        st->address = a;
        st->type = pm_strdup(valid ? o.type->name : "?");
        st->via = pm_strdup(via);
        st->value = pm_strdup(value);
        if (!st->type || !st->via || !st->value)
            return false;
    }
    return true;
}

pymac_status pymac_find_path(pymac_session *s, uint64_t addr, pymac_path **out, pymac_error *err)
{
    *out = NULL;
    pm_object goal;
    const pm_graph *g;
    pymac_status st = open_graph_for(s, addr, &goal, &g, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pymac_path *p = calloc(1, sizeof *p);
    uint32_t *chain = NULL;
    bfs b = {.g = g, .goal = pm_graph_index(g, addr)};
    b.parent = malloc(g->n * sizeof *b.parent);
    b.root_label = calloc(g->n, sizeof *b.root_label);
    b.queue = malloc(g->n * sizeof *b.queue);
    b.labels = calloc(MAX_ROOT_LABELS, sizeof *b.labels);
    if (!p || !b.parent || !b.root_label || !b.queue || !b.labels || b.goal < 0) {
        st = b.goal < 0 ? pm_fail(err, PYMAC_E_ADDRESS, NULL,
                                  "0x%llx was not found among the live objects",
                                  (unsigned long long)addr)
                        : pm_nomem(err);
        goto done;
    }
    p->address = addr;
    if (!(p->type = pm_strdup(goal.type->name))) {
        st = pm_nomem(err);
        goto done;
    }
    memset(b.parent, 0xff, g->n * sizeof *b.parent);
    /* The interpreter's roots first, to completion, so that paths name
     * modules; a thread's frames only for what they alone reach. */
    for (int phase = 0; phase < 2 && b.parent[b.goal] == NO_PARENT; phase++) {
        pm_roots_walk(s, phase ? PM_ROOTS_FRAMES : PM_ROOTS_INTERP, seed_root, &b);
        while (b.head < b.tail && b.parent[b.goal] == NO_PARENT) {
            b.cur = b.queue[b.head++];
            pm_object o;
            if (pm_object_read(s, g->nodes[b.cur], &o))
                pm_referents_ex(s, &o, expand, &b, 0, PM_REFS_EXACT | PM_REFS_NO_LABELS);
        }
    }
    if (b.parent[b.goal] == NO_PARENT)
        goto done; /* not found */
    /* the chain, goal first */
    size_t len = 0, cap = 64;
    chain = malloc(cap * sizeof *chain);
    for (uint32_t i = (uint32_t)b.goal; chain; i = b.parent[i]) {
        if (len == cap) {
            uint32_t *q = realloc(chain, (cap *= 2) * sizeof *chain);
            if (!q)
                break;
            chain = q;
        }
        chain[len++] = i;
        if (b.parent[i] == ROOT)
            break;
    }
    if (!chain) {
        st = pm_nomem(err);
        goto done;
    }
    p->found = 1;
    p->root = pm_strdup(b.labels[b.root_label[chain[len - 1]]]);
    if (!p->root || !fill_steps(s, g, chain, len, p))
        st = pm_nomem(err);
done:
    free(chain);
    for (size_t i = 0; b.labels && i < b.nlabels; i++)
        free(b.labels[i]);
    free(b.labels);
    free(b.parent);
    free(b.root_label);
    free(b.queue);
    if (st > PYMAC_PARTIAL) {
        pymac_path_free(p);
        return st;
    }
    *out = p;
    return st;
}

/* referrers (who points at an object, and how) and path (the shortest chain
 * of references from a root to it). */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "json.h"
#include "referents.h"
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
    pymac_session *s;
    FILE *out;
    pymac_format fmt;
    size_t n;
} ref_finder;

static void print_referrer(ref_finder *f, uint64_t from, const char *type, const char *via,
                           bool conservative)
{
    if (f->fmt == PYMAC_JSON) {
        fprintf(f->out, "%s\n  {\"address\": ", f->n ? "," : "");
        if (from)
            fprintf(f->out, "\"0x%llx\"", (unsigned long long)from);
        else
            fputs("null", f->out);
        fputs(", \"type\": ", f->out);
        pm_json_str(f->out, type);
        fputs(", \"via\": ", f->out);
        pm_json_str(f->out, via);
        fprintf(f->out, ", \"conservative\": %s}", conservative ? "true" : "false");
    } else if (from) {
        fprintf(f->out, "0x%014llx  %-24.24s %s%s\n", (unsigned long long)from, type, via,
                conservative ? "  (conservative)" : "");
    } else {
        fprintf(f->out, "%-16s  %-24.24s %s\n", "root", type, via);
    }
    f->n++;
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
        print_referrer(f, f->from, f->src->type->name, via, conservative);
    return true;
}

static void find_root(void *ctx, uint64_t target, const char *label)
{
    ref_finder *f = ctx;
    if (target == f->goal)
        print_referrer(f, 0, label, "(root)", false);
}

pymac_status pymac_render_referrers(pymac_session *s, uint64_t addr, pymac_format fmt,
                                    FILE *out, pymac_error *err)
{
    pm_object goal;
    const pm_graph *g;
    pymac_status st = open_graph_for(s, addr, &goal, &g, err);
    if (st > PYMAC_PARTIAL)
        return st;
    ref_finder f = {.goal = addr, .s = s, .out = out, .fmt = fmt};
    if (fmt == PYMAC_JSON)
        fprintf(out, "{\"address\": \"0x%llx\", \"referrers\": [", (unsigned long long)addr);
    else
        fprintf(out, "%-16s  %-24s %s\n", "referrer", "type", "how");
    pm_graph_roots(s, PM_ROOTS_ALL, find_root, &f);
    for (size_t i = 0; i < g->n; i++) {
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
    char rc[32];
    snprintf(rc, sizeof rc, "%llu", (unsigned long long)goal.refcnt);
    if (fmt == PYMAC_JSON) {
        fprintf(out, "],\n \"refcnt\": %s, \"found\": %zu, \"partial\": %s, ",
                goal.immortal ? "\"immortal\"" : rc, f.n, st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%zu references found; the object's refcount is %s\n", f.n,
                goal.immortal ? "immortal" : rc);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
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

pymac_status pymac_render_path(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                               pymac_error *err)
{
    pm_object goal;
    const pm_graph *g;
    pymac_status st = open_graph_for(s, addr, &goal, &g, err);
    if (st > PYMAC_PARTIAL)
        return st;
    bfs b = {.g = g, .goal = pm_graph_index(g, addr)};
    b.parent = malloc(g->n * sizeof *b.parent);
    b.root_label = calloc(g->n, sizeof *b.root_label);
    b.queue = malloc(g->n * sizeof *b.queue);
    b.labels = calloc(MAX_ROOT_LABELS, sizeof *b.labels);
    if (!b.parent || !b.root_label || !b.queue || !b.labels || b.goal < 0) {
        st = b.goal < 0 ? pm_fail(err, PYMAC_E_ADDRESS, NULL,
                                  "0x%llx was not found among the live objects",
                                  (unsigned long long)addr)
                        : pm_nomem(err);
        goto done;
    }
    memset(b.parent, 0xff, g->n * sizeof *b.parent);
    /* The interpreter's roots first, to completion, so that paths name
     * modules; a thread's frames only for what they alone reach. */
    for (int phase = 0; phase < 2 && b.parent[b.goal] == NO_PARENT; phase++) {
        pm_graph_roots(s, phase ? PM_ROOTS_FRAMES : PM_ROOTS_INTERP, seed_root, &b);
        while (b.head < b.tail && b.parent[b.goal] == NO_PARENT) {
            b.cur = b.queue[b.head++];
            pm_object o;
            if (pm_object_read(s, g->nodes[b.cur], &o))
                pm_referents_ex(s, &o, expand, &b, 0, PM_REFS_EXACT | PM_REFS_NO_LABELS);
        }
    }
    if (b.parent[b.goal] == NO_PARENT) {
        if (fmt == PYMAC_JSON)
            fprintf(out, "{\"address\": \"0x%llx\", \"found\": false, \"path\": []}\n",
                    (unsigned long long)addr);
        else
            fprintf(out, "no path: 0x%llx (%s) is not reachable from sys.modules, builtins, "
                         "sys, the interned strings or any thread's frames\n",
                    (unsigned long long)addr, goal.type->name);
        goto done;
    }
    /* the chain, goal first */
    size_t len = 0, cap = 64;
    uint32_t *chain = malloc(cap * sizeof *chain);
    for (uint32_t i = (uint32_t)b.goal; chain; i = b.parent[i]) {
        if (len == cap) {
            uint32_t *p = realloc(chain, (cap *= 2) * sizeof *chain);
            if (!p)
                break;
            chain = p;
        }
        chain[len++] = i;
        if (b.parent[i] == ROOT)
            break;
    }
    if (!chain) {
        st = pm_nomem(err);
        goto done;
    }
    const char *root = b.labels[b.root_label[chain[len - 1]]];
    char oneline[1024];
    snprintf(oneline, sizeof oneline, "%s", root);
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"address\": \"0x%llx\", \"found\": true, \"root\": ",
                (unsigned long long)addr);
        pm_json_str(out, root);
        fputs(", \"path\": [", out);
    } else {
        fprintf(out, "%s\n", root);
    }
    for (size_t k = len; k-- > 0;) {
        pm_object o, parent;
        uint64_t a = g->nodes[chain[k]];
        via_finder v = {.target = a};
        if (k + 1 < len && pm_object_read(s, g->nodes[chain[k + 1]], &parent))
            pm_referents_ex(s, &parent, find_via, &v, 0, PM_REFS_EXACT);
        const char *via = k + 1 == len ? "" : v.found ? v.via : "?";
        bool valid = pm_object_read(s, a, &o);
        const char *type = valid ? o.type->name : "?";
        size_t used = strlen(oneline);
        if (k + 1 < len && used < sizeof oneline)
            snprintf(oneline + used, sizeof oneline - used, "%s%s",
                     via[0] == '.' || via[0] == '[' ? "" : " ", via);
        if (fmt == PYMAC_JSON) {
            fprintf(out, "%s\n  {\"address\": \"0x%llx\", \"type\": ", k + 1 == len ? "" : ",",
                    (unsigned long long)a);
            pm_json_str(out, type);
            fputs(", \"via\": ", out);
            pm_json_str(out, via);
            fputc('}', out);
        } else {
            char value[80] = "";
            if (valid)
                pm_value_repr(s, &o, value, sizeof value);
            fprintf(out, "  %-28s -> %s @0x%llx  %s\n", k + 1 == len ? "(root)" : via, type,
                    (unsigned long long)a, value);
        }
    }
    if (fmt == PYMAC_JSON) {
        fputs("],\n \"text\": ", out);
        pm_json_str(out, oneline);
        fputs("}\n", out);
    } else {
        fprintf(out, "%s -> %s @0x%llx\n", oneline, goal.type->name, (unsigned long long)addr);
    }
    free(chain);
done:
    for (size_t i = 0; b.labels && i < b.nlabels; i++)
        free(b.labels[i]);
    free(b.labels);
    free(b.parent);
    free(b.root_label);
    free(b.queue);
    return st;
}

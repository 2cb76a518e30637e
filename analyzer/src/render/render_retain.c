/* retained (what one object keeps alive, who dominates it, how it is
 * reached), dominators (the objects that retain the most, as a tree of
 * dominators or folded stacks) and types --retained (what freeing every
 * instance of a type would free). The analysis is retain.c. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "object.h"
#include "referents.h"
#include "retain.h"
#include "tracemalloc_sites.h"
#include "value.h"
#include "render_json.h"
#include "render_tracemalloc.h"

enum { MAX_FOLDED_FRAMES = 64, MAX_TREE_INDENT = 32, MAX_PATH = 1 << 20 };

static const char *SEVERAL_ROOTS = "several roots";

static const char *type_name(pymac_session *s, const pm_retain *r, uint32_t i)
{
    const pm_type *t = pm_retain_type(s, r, i);
    return t ? t->name : "?";
}

/* ---- the keys every entry has ---- */

static void dominator_json(FILE *out, const pm_retain *r, uint32_t i)
{
    uint32_t d = r->dom.idom[i];
    if (d == PM_DOM_NONE) {
        fputs("null", out);
    } else if (d == PM_DOM_ROOT) {
        const char *name = pm_retain_root_name(r, i);
        char buf[160];
        snprintf(buf, sizeof buf, "root: %s", name ? name : SEVERAL_ROOTS);
        pm_json_str(out, buf);
    } else {
        fprintf(out, "\"0x%llx\"", (unsigned long long)r->lk.g.nodes[d]);
    }
}

static void dominator_text(pymac_session *s, FILE *out, const pm_retain *r, uint32_t i)
{
    uint32_t d = r->dom.idom[i];
    if (d == PM_DOM_NONE) {
        fputs("none: not reached from any root (garbage, see leaks)", out);
    } else if (d == PM_DOM_ROOT) {
        const char *name = pm_retain_root_name(r, i);
        fprintf(out, "root: %s", name ? name : SEVERAL_ROOTS);
    } else {
        fprintf(out, "0x%llx %s", (unsigned long long)r->lk.g.nodes[d], type_name(s, r, d));
    }
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

/* The path view's chain for node i (goal first), from the shared BFS tree;
 * *len 0 if path's roots do not reach it. */
static uint32_t *path_chain(const pm_retain *r, uint32_t i, size_t *len)
{
    *len = 0;
    if (r->path_parent[i] == PM_PATH_NONE)
        return NULL;
    size_t cap = 64;
    uint32_t *chain = malloc(cap * sizeof *chain);
    for (uint32_t v = i; chain && *len < MAX_PATH; v = r->path_parent[v]) {
        if (*len == cap) {
            uint32_t *p = realloc(chain, (cap *= 2) * sizeof *chain);
            if (!p) {
                free(chain);
                return NULL;
            }
            chain = p;
        }
        chain[(*len)++] = v;
        if (r->path_parent[v] == PM_PATH_ROOT)
            break;
    }
    return chain;
}

/* `path` as the path view gives it: JSON, its list of steps from the root;
 * text, its one line. */
static void path_out(pymac_session *s, FILE *out, pymac_format fmt, const pm_retain *r,
                     uint32_t i)
{
    size_t len;
    uint32_t *chain = path_chain(r, i, &len);
    if (!chain || !len) {
        fputs(fmt == PYMAC_JSON ? "[]" : "(no path from sys.modules, builtins, sys, the "
                                         "interned strings or a thread's frames)",
              out);
        free(chain);
        return;
    }
    if (fmt == PYMAC_TEXT)
        fputs(pm_retain_root_name(r, chain[len - 1]), out);
    else
        fputc('[', out);
    for (size_t k = len; k-- > 0;) {
        uint64_t a = r->lk.g.nodes[chain[k]];
        via_finder v = {.target = a};
        pm_object parent;
        if (k + 1 < len && pm_object_read(s, r->lk.g.nodes[chain[k + 1]], &parent))
            pm_referents_ex(s, &parent, find_via, &v, 0, PM_REFS_EXACT);
        const char *via = k + 1 == len ? "" : v.found ? v.via : "?";
        if (fmt == PYMAC_JSON) {
            fprintf(out, "%s{\"address\": \"0x%llx\", \"type\": ", k + 1 == len ? "" : ", ",
                    (unsigned long long)a);
            pm_json_str(out, type_name(s, r, chain[k]));
            fputs(", \"via\": ", out);
            pm_json_str(out, via);
            fputc('}', out);
        } else if (k + 1 < len) {
            fprintf(out, "%s%s", via[0] == '.' || via[0] == '[' ? "" : " ", via);
        }
    }
    if (fmt == PYMAC_JSON)
        fputc(']', out);
    else
        fprintf(out, " -> %s @0x%llx", type_name(s, r, i), (unsigned long long)r->lk.g.nodes[i]);
    free(chain);
}

/* One object's keys; with site, also where it was allocated (as leaks says
 * it of a group: "allocated_at"). */
static void entry_json(pymac_session *s, FILE *out, const pm_retain *r, uint32_t i,
                       const pm_tm_site *site)
{
    fprintf(out, "{\"address\": \"0x%llx\", \"type\": ", (unsigned long long)r->lk.g.nodes[i]);
    pm_json_str(out, type_name(s, r, i));
    fprintf(out, ", \"size\": %llu, ", (unsigned long long)pm_retain_size(s, r, i));
    if (r->dom.idom[i] == PM_DOM_NONE)
        fputs("\"retained_bytes\": null, \"retained_objects\": null", out);
    else
        fprintf(out, "\"retained_bytes\": %llu, \"retained_objects\": %lu",
                (unsigned long long)r->dom.retained_bytes[i],
                (unsigned long)r->dom.retained_objects[i]);
    fputs(", \"dominator\": ", out);
    dominator_json(out, r, i);
    fputs(", \"path\": ", out);
    path_out(s, out, PYMAC_JSON, r, i);
    if (site)
        pm_tm_site_json(out, site);
    fputc('}', out);
}

static pymac_status open_retain(pymac_session *s, pm_retain **r, pymac_error *err)
{
    pymac_status st = pm_retain_shared(s, r, err);
    if (st <= PYMAC_PARTIAL && !pm_retain_paths(s, *r))
        return pm_nomem(err);
    return st;
}

/* ---- retained ADDR ---- */

pymac_status pymac_render_retained(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                                   pymac_error *err)
{
    pm_retain *r;
    pymac_status st = open_retain(s, &r, err);
    if (st > PYMAC_PARTIAL)
        return st;
    long i = pm_graph_index(&r->lk.g, addr);
    if (i < 0)
        return pm_fail(err, PYMAC_E_ADDRESS, "find object addresses with: pymac-analyze objects CORE",
                       "0x%llx is not a live object", (unsigned long long)addr);
    uint32_t v = (uint32_t)i;
    if (fmt == PYMAC_JSON) {
        entry_json(s, out, r, v, NULL);
        fputc('\n', out);
        return st;
    }
    pm_object o;
    char value[80] = "";
    if (pm_object_read(s, addr, &o))
        pm_value_repr(s, &o, value, sizeof value);
    fprintf(out, "0x%llx %s  %s\n", (unsigned long long)addr, type_name(s, r, v), value);
    fprintf(out, "  size        %llu bytes\n", (unsigned long long)pm_retain_size(s, r, v));
    if (r->dom.idom[v] != PM_DOM_NONE)
        fprintf(out, "  retained    %llu bytes in %lu objects (itself and all it dominates)\n",
                (unsigned long long)r->dom.retained_bytes[v],
                (unsigned long)r->dom.retained_objects[v]);
    fputs("  dominator   ", out);
    dominator_text(s, out, r, v);
    fputs("\n  path        ", out);
    path_out(s, out, PYMAC_TEXT, r, v);
    fputc('\n', out);
    if (st == PYMAC_PARTIAL)
        fputs("PARTIAL: see the warnings\n", out);
    pymac_render_warnings(s, out);
    return st;
}

/* ---- dominators ---- */

static int type_matches(pymac_session *s, const pm_retain *r, uint32_t i, const char *name)
{
    return !name || strcmp(type_name(s, r, i), name) == 0;
}

/* heavier first; ties by address */
static bool heavier(const pm_retain *r, uint32_t a, uint32_t b)
{
    uint64_t x = r->dom.retained_bytes[a], y = r->dom.retained_bytes[b];
    return x != y ? x > y : a < b;
}

/* A min-heap (the lightest on top) of the `limit` heaviest candidates. */
static void heap_push(const pm_retain *r, uint32_t *h, size_t *n, size_t limit, uint32_t v)
{
    if (*n == limit) {
        if (!heavier(r, v, h[0]))
            return;
        h[0] = v;
    } else {
        size_t k = (*n)++;
        h[k] = v;
        while (k && heavier(r, h[(k - 1) / 2], h[k])) {
            uint32_t t = h[k];
            h[k] = h[(k - 1) / 2];
            h[(k - 1) / 2] = t;
            k = (k - 1) / 2;
        }
        return;
    }
    for (size_t k = 0;;) {
        size_t c = 2 * k + 1, m = k;
        if (c < *n && heavier(r, h[m], h[c]))
            m = c;
        if (c + 1 < *n && heavier(r, h[m], h[c + 1]))
            m = c + 1;
        if (m == k)
            break;
        uint32_t t = h[k];
        h[k] = h[m];
        h[m] = t;
        k = m;
    }
}

typedef struct weighed {
    uint64_t bytes;
    uint32_t node;
} weighed;

static int by_retained(const void *a, const void *b)
{
    const weighed *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* A listed node and its position in the listing. */
typedef struct listed_at {
    uint32_t node, pos;
} listed_at;

static int by_node(const void *a, const void *b)
{
    const listed_at *x = a, *y = b;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* Node v's entry in the by-node sorted at[0 .. n), or NULL. */
static const listed_at *listed(const listed_at *at, size_t n, uint32_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (at[mid].node < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && at[lo].node == v ? &at[lo] : NULL;
}

typedef struct listing {
    uint32_t *v;     /* the listed nodes, heaviest first */
    size_t n;
    uint32_t *up;    /* per listed position: the position of its nearest listed dominator, or n */
    pm_tm_site *site; /* per listed position: where it was allocated (tracemalloc), */
    bool *has_site;   /* when the process traced and the object has a trace; else NULL */
} listing;

/* Each listed object's allocation site, when the process ran tracemalloc
 * (issue 16: dominators name where their heavy objects came from). Returns
 * false when the traces were read only in part. */
static bool listing_sites(pymac_session *s, const pm_retain *r, listing *L)
{
    pm_tm_sites *t = pm_tm_sites_open(s);
    if (!t)
        return true; /* not traced: nothing to add */
    L->site = calloc(L->n + 1, sizeof *L->site);
    L->has_site = calloc(L->n + 1, sizeof *L->has_site);
    if (L->site && L->has_site) {
        for (size_t k = 0; k < L->n; k++) {
            pm_object o;
            if (pm_object_read(s, r->lk.g.nodes[L->v[k]], &o))
                pm_tm_sites_add(t, 0, (uint32_t)k, &o);
        }
        for (size_t k = 0; k < L->n; k++)
            L->has_site[k] = pm_tm_sites_top(t, 0, (uint32_t)k, &L->site[k]);
    } else {
        free(L->site);
        free(L->has_site);
        L->site = NULL;
        L->has_site = NULL;
    }
    bool whole = !pm_tm_sites_partial(t);
    pm_tm_sites_free(t);
    return whole;
}

static pymac_status select_heavy(pymac_session *s, const pm_retain *r,
                                 const pymac_dominators_filter *f, listing *L, pymac_error *err)
{
    size_t n = r->lk.g.n, cap = f->limit && f->limit < n ? f->limit : n;
    L->v = malloc((cap + 1) * sizeof *L->v);
    L->up = malloc((cap + 1) * sizeof *L->up);
    if (!L->v || !L->up)
        return pm_nomem(err);
    for (size_t k = 0; k < r->dom.nreached; k++) {
        uint32_t v = r->dom.order[k];
        if (!f->all && r->hidden[v])
            continue;
        if (r->dom.retained_bytes[v] < f->min_bytes || !type_matches(s, r, v, f->type_name))
            continue;
        heap_push(r, L->v, &L->n, cap, v);
    }
    weighed *w = malloc((L->n + 1) * sizeof *w);
    /* pos: each listed node's position, by node (few beside the nodes) */
    listed_at *pos = malloc((L->n + 1) * sizeof *pos);
    if (!w || !pos) {
        free(w);
        free(pos);
        return pm_nomem(err);
    }
    for (size_t k = 0; k < L->n; k++)
        w[k] = (weighed){r->dom.retained_bytes[L->v[k]], L->v[k]};
    pm_sort(w, L->n, sizeof *w, by_retained);
    for (size_t k = 0; k < L->n; k++) {
        L->v[k] = w[k].node;
        pos[k] = (listed_at){w[k].node, (uint32_t)k};
    }
    free(w);
    pm_sort(pos, L->n, sizeof *pos, by_node);
    /* each one's nearest listed dominator */
    for (size_t k = 0; k < L->n; k++) {
        L->up[k] = (uint32_t)L->n;
        for (uint32_t d = r->dom.idom[L->v[k]]; d < n; d = r->dom.idom[d]) {
            const listed_at *p = listed(pos, L->n, d);
            if (p) {
                L->up[k] = p->pos;
                break;
            }
        }
    }
    free(pos);
    return PYMAC_OK;
}

static void print_line(pymac_session *s, FILE *out, const pm_retain *r, uint32_t v, size_t depth)
{
    pm_object o;
    char value[64] = "";
    if (pm_object_read(s, r->lk.g.nodes[v], &o))
        pm_value_repr(s, &o, value, sizeof value);
    fprintf(out, "%14llu %10lu  %*s%s @0x%llx  %s\n",
            (unsigned long long)r->dom.retained_bytes[v], (unsigned long)r->dom.retained_objects[v],
            (int)(2 * (depth < MAX_TREE_INDENT ? depth : MAX_TREE_INDENT)), "", type_name(s, r, v),
            (unsigned long long)r->lk.g.nodes[v], value);
}

/* The tree: each listed object under the listed object that dominates it
 * (an explicit stack: the listing may be a chain as long as the graph). */
static bool print_tree(pymac_session *s, FILE *out, const pm_retain *r, const listing *L)
{
    size_t n = L->n;
    uint32_t *first = malloc((n + 1) * sizeof *first), *next = malloc((n + 1) * sizeof *next);
    uint32_t *stack = malloc((n + 1) * sizeof *stack), *depth = malloc((n + 1) * sizeof *depth);
    bool ok = first && next && stack && depth;
    if (ok) {
        for (size_t k = 0; k <= n; k++)
            first[k] = UINT32_MAX;
        /* children lists in order, heaviest first: link from the end */
        for (size_t k = n; k-- > 0;) {
            next[k] = first[L->up[k]];
            first[L->up[k]] = (uint32_t)k;
        }
        size_t sp = 0;
        for (uint32_t c = first[n]; c != UINT32_MAX; c = next[c]) {
            stack[sp] = c;
            depth[sp++] = 0;
            while (sp) {
                uint32_t k = stack[--sp], d = depth[sp];
                print_line(s, out, r, L->v[k], d);
                if (L->has_site && L->has_site[k])
                    fprintf(out, "%26s%*sallocated at %s:%u\n", "",
                            (int)(2 * (d < MAX_TREE_INDENT ? d : MAX_TREE_INDENT)), "",
                            L->site[k].filename, L->site[k].lineno);
                /* push the children in reverse so the heaviest comes out first */
                size_t base = sp;
                for (uint32_t ch = first[k]; ch != UINT32_MAX; ch = next[ch]) {
                    stack[sp] = ch;
                    depth[sp++] = d + 1;
                }
                for (size_t a = base, b = sp; a + 1 < b; a++, b--) {
                    uint32_t t = stack[a];
                    stack[a] = stack[b - 1];
                    stack[b - 1] = t;
                }
            }
        }
    }
    free(first);
    free(next);
    free(stack);
    free(depth);
    return ok;
}

/* One line per listed object: its dominator chain from the root, and its
 * retained bytes less those of the listed objects directly under it, so
 * that a flame graph's widths add up to retained sizes. */
static bool print_folded(pymac_session *s, FILE *out, const pm_retain *r, const listing *L)
{
    uint64_t *self = malloc((L->n + 1) * sizeof *self);
    if (!self)
        return false;
    for (size_t k = 0; k < L->n; k++)
        self[k] = r->dom.retained_bytes[L->v[k]];
    for (size_t k = 0; k < L->n; k++)
        if (L->up[k] < L->n)
            self[L->up[k]] -= r->dom.retained_bytes[L->v[k]];
    uint32_t chain[MAX_FOLDED_FRAMES];
    for (size_t k = 0; k < L->n; k++) {
        size_t len = 0;
        uint32_t v = L->v[k], top = v;
        bool cut = false;
        for (uint32_t d = v; d < r->lk.g.n; d = r->dom.idom[d]) {
            if (len == MAX_FOLDED_FRAMES) {
                cut = true;
                break;
            }
            chain[len++] = d;
            top = d;
        }
        const char *root = pm_retain_root_name(r, top);
        fputs(cut ? "..." : root ? root : SEVERAL_ROOTS, out);
        for (size_t j = len; j-- > 0;)
            fprintf(out, ";%s@0x%llx", type_name(s, r, chain[j]),
                    (unsigned long long)r->lk.g.nodes[chain[j]]);
        fprintf(out, " %llu\n", (unsigned long long)self[k]);
    }
    free(self);
    return true;
}

pymac_status pymac_render_dominators(pymac_session *s, const pymac_dominators_filter *f,
                                     pymac_format fmt, FILE *out, pymac_error *err)
{
    pm_retain *r;
    pymac_status st = open_retain(s, &r, err);
    if (st > PYMAC_PARTIAL)
        return st;
    listing L = {0};
    pymac_status lst = select_heavy(s, r, f, &L, err);
    if (lst != PYMAC_OK) {
        st = lst;
        goto done;
    }
    if (!(f->folded && fmt == PYMAC_TEXT) && !listing_sites(s, r, &L) && st == PYMAC_OK)
        st = PYMAC_PARTIAL; /* allocation sites from a damaged trace table */
    if (f->folded && fmt == PYMAC_TEXT) {
        if (!print_folded(s, out, r, &L))
            st = pm_nomem(err);
        goto done;
    }
    if (fmt == PYMAC_JSON) {
        fputs("{\"dominators\": [", out);
        for (size_t k = 0; k < L.n; k++) {
            fputs(k ? ",\n  " : "\n  ", out);
            entry_json(s, out, r, L.v[k], L.has_site && L.has_site[k] ? &L.site[k] : NULL);
        }
        fprintf(out, "],\n \"objects\": %zu, \"reached\": %zu, \"roots\": %zu, \"partial\": %s, ",
                r->lk.g.n, r->dom.nreached, r->nroots, st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        goto done;
    }
    fprintf(out, "%14s %10s  %s\n", "retained", "objects", "object (each under the listed object "
                                                          "that dominates it)");
    if (!print_tree(s, out, r, &L)) {
        st = pm_nomem(err);
        goto done;
    }
    fprintf(out, "\n%zu live objects, %zu reached from %zu roots.%s Who holds one: "
                 "pymac-analyze retained CORE ADDR\n",
            r->lk.g.n, r->dom.nreached, r->nroots,
            f->all ? "" : " Roots, modules and module dicts left out (--all keeps them).");
    if (st == PYMAC_PARTIAL)
        fputs("PARTIAL: see the warnings\n", out);
    pymac_render_warnings(s, out);
done:
    free(L.v);
    free(L.up);
    free(L.site);
    free(L.has_site);
    return st;
}

/* ---- types --retained ---- */

typedef struct type_row {
    const pm_type *type;
    uint64_t count, bytes, retained;
} type_row;

static int by_type_retained(const void *a, const void *b)
{
    const type_row *x = a, *y = b;
    if (x->retained != y->retained)
        return x->retained < y->retained ? 1 : -1;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    int c = strcmp(x->type->name, y->type->name);
    return c ? c : pm_cmp_u64(&x->type->addr, &y->type->addr);
}

/* Per type, the retained bytes of its instances taken together: those of
 * each instance that no other instance dominates. A walk of the dominator
 * tree keeps, per type, how many of its instances are above the current
 * node. */
static pymac_status types_retained(pymac_session *s, const pm_retain *r, type_row **rows,
                                   size_t *nrows, pymac_error *err)
{
    size_t n = r->lk.g.n, ntypes = s->types ? s->types->n : 0;
    type_row *row = calloc(ntypes + 1, sizeof *row);
    uint32_t *above = calloc(ntypes + 1, sizeof *above), *tix = malloc((n + 1) * sizeof *tix);
    uint32_t *first = malloc((n + 1) * sizeof *first), *next = malloc((n + 1) * sizeof *next);
    uint32_t *stack = malloc((n + 1) * sizeof *stack);
    uint8_t *open = calloc(n + 1, 1);
    pymac_status st = PYMAC_OK;
    if (!row || !above || !tix || !first || !next || !stack || !open) {
        st = pm_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        pm_object o;
        const pm_type *t = pm_retain_object(s, r, (uint32_t)i, &o) ? o.type : NULL;
        tix[i] = t && t->index < ntypes ? t->index : UINT32_MAX;
        first[i] = UINT32_MAX;
        if (tix[i] != UINT32_MAX) {
            row[tix[i]].type = t;
            row[tix[i]].count++;
            row[tix[i]].bytes += o.size;
        }
    }
    first[n] = UINT32_MAX;
    /* the dominator tree's children lists; n stands for the super-root */
    for (size_t k = r->dom.nreached; k-- > 0;) {
        uint32_t v = r->dom.order[k], p = r->dom.idom[v] < n ? r->dom.idom[v] : (uint32_t)n;
        next[v] = first[p];
        first[p] = v;
    }
    size_t sp = 0;
    for (uint32_t c = first[n]; c != UINT32_MAX; c = next[c])
        stack[sp++] = c;
    while (sp) {
        uint32_t v = stack[sp - 1];
        uint32_t t = tix[v];
        if (open[v]) { /* leaving v */
            sp--;
            if (t != UINT32_MAX)
                above[t]--;
            continue;
        }
        open[v] = 1;
        if (t != UINT32_MAX) {
            if (!above[t])
                row[t].retained += r->dom.retained_bytes[v];
            above[t]++;
        }
        for (uint32_t c = first[v]; c != UINT32_MAX; c = next[c])
            stack[sp++] = c; /* each node is pushed once: the stack never exceeds n */
    }
    size_t m = 0;
    for (size_t k = 0; k < ntypes; k++)
        if (row[k].type)
            row[m++] = row[k];
    pm_sort(row, m, sizeof *row, by_type_retained);
    *rows = row;
    *nrows = m;
    row = NULL;
done:
    free(row);
    free(above);
    free(tix);
    free(first);
    free(next);
    free(stack);
    free(open);
    return st;
}

pymac_status pymac_render_types_retained(pymac_session *s, pymac_format fmt, FILE *out,
                                         pymac_error *err)
{
    pm_retain *r;
    pymac_status st = pm_retain_shared(s, &r, err);
    if (st > PYMAC_PARTIAL)
        return st;
    type_row *rows = NULL;
    size_t n = 0;
    pymac_status tst = types_retained(s, r, &rows, &n, err);
    if (tst != PYMAC_OK)
        return tst;
    if (fmt == PYMAC_JSON) {
        fputs("{\"types\": [", out);
        for (size_t k = 0; k < n; k++) {
            fputs(k ? ",\n  " : "\n  ", out);
            fputs("{\"type\": ", out);
            pm_json_str(out, rows[k].type->name);
            fprintf(out, ", \"count\": %llu, \"bytes\": %llu, \"retained_bytes\": %llu, "
                         "\"type_address\": \"0x%llx\"}",
                    (unsigned long long)rows[k].count, (unsigned long long)rows[k].bytes,
                    (unsigned long long)rows[k].retained, (unsigned long long)rows[k].type->addr);
        }
        fprintf(out, "],\n \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%-32s %12s %14s %16s\n", "type", "objects", "bytes", "retained bytes");
        for (size_t k = 0; k < n; k++)
            fprintf(out, "%-32s %12llu %14llu %16llu\n", rows[k].type->name,
                    (unsigned long long)rows[k].count, (unsigned long long)rows[k].bytes,
                    (unsigned long long)rows[k].retained);
        fputs("(retained: what freeing every instance would free, as the dominator tree from "
              "leaks's roots says)\n",
              out);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
    free(rows);
    return st;
}

size_t pm_retain_heaviest(pymac_session *s, pm_retain *r, size_t n, pm_heavy *out)
{
    pymac_dominators_filter f = {NULL, 0, n, 0, 0};
    listing L = {0};
    size_t m = 0;
    if (n && select_heavy(s, r, &f, &L, NULL) == PYMAC_OK) {
        for (; m < L.n && m < n; m++) {
            uint32_t v = L.v[m];
            out[m] = (pm_heavy){.addr = r->lk.g.nodes[v],
                                .retained_bytes = r->dom.retained_bytes[v],
                                .retained_objects = r->dom.retained_objects[v],
                                .up = L.up[m] < L.n ? L.up[m] : (uint32_t)L.n};
            snprintf(out[m].type, sizeof out[m].type, "%s", type_name(s, r, v));
        }
    }
    free(L.v);
    free(L.up);
    return m;
}

void pm_retain_top(pymac_session *s, pm_retain *r, size_t n, pymac_format fmt, FILE *out)
{
    pymac_dominators_filter f = {NULL, 0, n, 0, 0};
    listing L = {0};
    pymac_status st = pm_retain_paths(s, r) ? select_heavy(s, r, &f, &L, NULL) : PYMAC_E_NOMEM;
    if (st == PYMAC_OK)
        listing_sites(s, r, &L); /* a damaged trace table: leaks's own warnings say */
    if (fmt == PYMAC_JSON)
        fputs("\"top_retainers\": [", out);
    for (size_t k = 0; st == PYMAC_OK && k < L.n; k++) {
        bool site = L.has_site && L.has_site[k];
        if (fmt == PYMAC_JSON) {
            fputs(k ? ",\n  " : "\n  ", out);
            entry_json(s, out, r, L.v[k], site ? &L.site[k] : NULL);
        } else {
            fputs("  ", out);
            print_line(s, out, r, L.v[k], 0);
            if (site)
                fprintf(out, "%28sallocated at %s:%u\n", "", L.site[k].filename,
                        L.site[k].lineno);
        }
    }
    if (fmt == PYMAC_JSON)
        fputc(']', out);
    else if (st != PYMAC_OK || !L.n)
        fputs("  (none)\n", out);
    free(L.v);
    free(L.up);
    free(L.site);
    free(L.has_site);
}

/* leaks: two reports over the reference graph, ranked by bytes.
 *
 *  unexplained references: objects whose reference count is higher than the
 *    references pymac can see: from other objects (decoded, or conservative
 *    for types it cannot decode) and from memory that is not an object
 *    (static data, stacks, C structures), scanned conservatively. What is
 *    left is the signature of a leaked Py_INCREF. Immortal objects are
 *    skipped.
 *  unreachable: objects on the GC lists that nothing reaches from the roots
 *    (the named roots of path, immortal objects, and every object whose
 *    refcount exceeds the references other objects hold, as the collector
 *    decides it): garbage the collector has not freed.
 * The analysis is leaks.c. Growth against a baseline core is `diff`. */
#include <stdlib.h>
#include <string.h>

#include "leaks.h"
#include "retain.h"
#include "object.h"
#include "json.h"
#include "type_diff.h"
#include "render_json.h"

enum { EXAMPLES = PM_LEAK_EXAMPLES };

typedef pm_leak_group group;

/* ---- reports ---- */

/* Groups by type name, with an open-addressing index over the names (a leak
 * of millions of objects meets each group many times). */
typedef struct groups {
    group **v;
    size_t *n, cap;
    uint32_t *slot; /* group index + 1; 0 is empty */
    size_t nslot;   /* a power of two, at least twice *n */
} groups;

static size_t name_hash(const char *name)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

static bool reindex(groups *gs, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return false;
    for (size_t i = 0; i < *gs->n; i++) {
        size_t h = name_hash((*gs->v)[i].name) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = (uint32_t)(i + 1);
    }
    free(gs->slot);
    gs->slot = slot;
    gs->nslot = nslot;
    return true;
}

static group *find_group(groups *gs, const char *name)
{
    if ((*gs->n + 1) * 2 > gs->nslot && (*gs->n >= UINT32_MAX - 1 ||
                                         !reindex(gs, gs->nslot ? gs->nslot * 2 : 256)))
        return NULL;
    size_t h = name_hash(name) & (gs->nslot - 1);
    for (; gs->slot[h]; h = (h + 1) & (gs->nslot - 1))
        if (strcmp((*gs->v)[gs->slot[h] - 1].name, name) == 0)
            return &(*gs->v)[gs->slot[h] - 1];
    if (*gs->n == gs->cap) {
        size_t c = gs->cap ? gs->cap * 2 : 64;
        group *p = realloc(*gs->v, c * sizeof *p);
        if (!p)
            return NULL;
        *gs->v = p;
        gs->cap = c;
    }
    group *g = &(*gs->v)[*gs->n];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    gs->slot[h] = (uint32_t)++*gs->n;
    return g;
}

static int by_bytes(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return strcmp(x->name, y->name);
}

void pm_leak_groups_json(FILE *out, const char *key, const pm_leak_group *gs, size_t n,
                         size_t top, bool refs)
{
    fprintf(out, "\"%s\": [", key);
    for (size_t i = 0; i < n && (!top || i < top); i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        fputs("{\"type\": ", out);
        pm_json_str(out, gs[i].name);
        fprintf(out, ", \"objects\": %llu, \"bytes\": %llu", (unsigned long long)gs[i].objects,
                (unsigned long long)gs[i].bytes);
        if (refs)
            fprintf(out, ", \"unexplained_refs\": %llu", (unsigned long long)gs[i].refs);
        fprintf(out, ", \"retained_bytes\": %llu", (unsigned long long)gs[i].retained);
        fputs(", \"examples\": [", out);
        for (uint64_t k = 0; k < gs[i].objects && k < EXAMPLES && gs[i].examples[k]; k++)
            fprintf(out, "%s\"0x%llx\"", k ? ", " : "", (unsigned long long)gs[i].examples[k]);
        fputs("]", out);
        if (gs[i].has_site)
            pm_tm_site_json(out, &gs[i].site);
        fputs("}", out);
    }
    fputs("]", out);
}

static void print_groups(FILE *out, pymac_format fmt, const char *key, const char *title,
                         const group *gs, size_t n, bool refs)
{
    if (fmt == PYMAC_JSON) {
        pm_leak_groups_json(out, key, gs, n, 0, refs);
        return;
    }
    fprintf(out, "%s\n", title);
    if (!n)
        fputs("  (none)\n", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-28.28s %9llu objects %12llu bytes %12llu retained", gs[i].name,
                (unsigned long long)gs[i].objects, (unsigned long long)gs[i].bytes,
                (unsigned long long)gs[i].retained);
        if (refs)
            fprintf(out, " %9llu refs", (unsigned long long)gs[i].refs);
        for (uint64_t k = 0; k < gs[i].objects && k < 3 && gs[i].examples[k]; k++)
            fprintf(out, "%s0x%llx", k ? " " : "  e.g. ", (unsigned long long)gs[i].examples[k]);
        fputc('\n', out);
        if (gs[i].has_site)
            pm_tm_site_text(out, &gs[i].site, "    ");
    }
}

static void add(group *g, const pm_object *o, uint64_t refs, uint64_t retained)
{
    /* each suspect is a root of its dominator tree: no two share what they retain */
    g->retained += retained;
    if (g->objects < EXAMPLES)
        g->examples[g->objects] = o->addr;
    g->objects++;
    g->bytes += o->size;
    g->refs += refs;
}

/* Growth since the baseline: per type name, objects and bytes added. */
static pymac_status growth(pymac_session *s, pymac_session *base, group **gs, size_t *n,
                           pymac_error *err)
{
    const pymac_census *c[2];
    pymac_status st = pymac_census_build(base, 0, &c[0], err);
    if (st <= PYMAC_PARTIAL)
        st = pymac_census_build(s, 0, &c[1], err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_type_diff td;
    pymac_status dst = pm_type_diff_build(c[0], c[1], &td, err);
    if (dst != PYMAC_OK)
        return dst;
    /* keep what grew; what shrank counts as no growth */
    size_t m = 0;
    *gs = calloc(td.n + 1, sizeof **gs);
    if (!*gs) {
        pm_type_diff_free(&td);
        return pm_nomem(err);
    }
    for (size_t i = 0; i < td.n; i++) {
        const pm_diff_row *d = &td.rows[i];
        int64_t objects = d->count[1] - d->count[0], bytes = d->bytes[1] - d->bytes[0];
        if (bytes <= 0 && objects <= 0)
            continue;
        group *g = &(*gs)[m++];
        snprintf(g->name, sizeof g->name, "%s", d->name);
        g->objects = objects > 0 ? (uint64_t)objects : 0;
        g->bytes = bytes > 0 ? (uint64_t)bytes : 0;
    }
    pm_type_diff_free(&td);
    *n = m;
    pm_sort(*gs, m, sizeof **gs, by_bytes);
    return st;
}

pymac_status pm_leak_report_build(pymac_session *s, const pm_leaks *lk, pm_leak_report *out,
                                  pymac_error *err)
{
    memset(out, 0, sizeof *out);
    groups unexplained = {.v = &out->unexplained, .n = &out->nunexplained};
    groups unreachable = {.v = &out->unreachable, .n = &out->nunreachable};
    bool nomem = false;
    pm_tm_sites *sites = pm_tm_sites_open(s); /* NULL unless tracemalloc traced */
    /* the GC-listed objects nothing reached */
    const pymac_gc *gc;
    if (pymac_gc_walk(s, &gc, NULL) <= PYMAC_PARTIAL) {
        for (size_t i = 0; i < gc->permanent.first && !nomem; i++) {
            long idx = pm_graph_index(&lk->g, gc->objects[i]);
            pm_object o;
            if (idx >= 0 && !lk->reached[idx] && pm_object_read(s, gc->objects[i], &o)) {
                group *gr = find_group(&unreachable, o.type->name);
                if (gr)
                    add(gr, &o, 0,
                        lk->garbage_bytes ? pm_leaks_garbage_bytes(lk, (uint32_t)idx) : o.size);
                if (gr)
                    pm_tm_sites_add(sites, 1, (uint32_t)(gr - out->unreachable), &o);
                nomem = !gr;
            }
        }
    }
    for (size_t k = 0; k < lk->nunexplained && !nomem; k++) {
        pm_object o;
        uint32_t i = lk->unexplained[k].node;
        if (!pm_object_read(s, lk->g.nodes[i], &o))
            continue;
        group *gr = find_group(&unexplained, o.type->name);
        if (gr)
            add(gr, &o, lk->unexplained[k].refs,
                lk->retained_bytes ? lk->retained_bytes[i] : o.size);
        if (gr)
            pm_tm_sites_add(sites, 0, (uint32_t)(gr - out->unexplained), &o);
        nomem = !gr;
    }
    free(unexplained.slot);
    free(unreachable.slot);
    for (size_t i = 0; i < out->nunexplained; i++) {
        group *g = &out->unexplained[i];
        g->has_site = pm_tm_sites_top(sites, 0, (uint32_t)i, &g->site);
    }
    for (size_t i = 0; i < out->nunreachable; i++) {
        group *g = &out->unreachable[i];
        g->has_site = pm_tm_sites_top(sites, 1, (uint32_t)i, &g->site);
    }
    bool sites_partial = pm_tm_sites_partial(sites);
    pm_tm_sites_free(sites);
    if (nomem) {
        pm_leak_report_free(out);
        return pm_nomem(err);
    }
    pm_sort(out->unexplained, out->nunexplained, sizeof *out->unexplained, by_bytes);
    pm_sort(out->unreachable, out->nunreachable, sizeof *out->unreachable, by_bytes);
    return sites_partial ? PYMAC_PARTIAL : PYMAC_OK;
}

void pm_leak_report_free(pm_leak_report *r)
{
    free(r->unexplained);
    free(r->unreachable);
    memset(r, 0, sizeof *r);
}

pymac_status pymac_render_leaks(pymac_session *s, pymac_session *baseline, pymac_format fmt,
                                FILE *out, pymac_error *err)
{
    group *gr_rows = NULL;
    size_t ngr = 0;
    if (baseline) {
        pymac_status gst = growth(s, baseline, &gr_rows, &ngr, err);
        if (gst > PYMAC_PARTIAL) {
            free(gr_rows);
            return gst;
        }
    }
    pm_retain *r;
    pymac_status st = pm_retain_shared(s, &r, err);
    if (st > PYMAC_PARTIAL) {
        free(gr_rows);
        return st;
    }
    const pm_leaks *lk = &r->lk;
    pm_leak_report rep;
    pymac_status rst = pm_leak_report_build(s, lk, &rep, err);
    if (rst > PYMAC_PARTIAL) {
        free(gr_rows);
        return rst;
    }
    if (rst == PYMAC_PARTIAL) /* partial allocation sites */
        st = PYMAC_PARTIAL;
    const group *un = rep.unexplained, *unr = rep.unreachable;
    size_t nun = rep.nunexplained, nunr = rep.nunreachable;
    if (fmt == PYMAC_JSON) {
        fputc('{', out);
        print_groups(out, fmt, "unexplained", NULL, un, nun, true);
        fputs(",\n ", out);
        print_groups(out, fmt, "unreachable", NULL, unr, nunr, false);
        if (baseline) {
            fputs(",\n ", out);
            print_groups(out, fmt, "growth", NULL, gr_rows, ngr, false);
        }
        fprintf(out,
                ",\n \"malloc_heap\": {\"heaps\": %zu, \"chunks\": %zu, \"free_chunks\": %zu, "
                "\"tcache_chunks\": %zu, \"tcache_checked\": %s, \"stale_pointers\": %llu, "
                "\"dead_objects\": %zu}",
                lk->g.malloc_heap.nheaps, lk->g.malloc_heap.nchunks, lk->g.malloc_heap.nfree_chunks,
                lk->g.malloc_heap.ntcache, lk->g.malloc_heap.tcache_bad ? "false" : "true",
                (unsigned long long)lk->stale, lk->g.dead);
        fputs(",\n ", out);
        pm_retain_top(s, r, PM_TOP_RETAINERS, fmt, out);
        fprintf(out, ",\n \"objects\": %zu, \"edges\": %zu, \"partial\": %s, ", lk->g.n, lk->edges,
                st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        print_groups(out, fmt, "",
                     "unexplained references (refcount above the references found; a leaked "
                     "Py_INCREF?), by bytes:",
                     un, nun, true);
        print_groups(out, fmt, "",
                     "\nunreachable (on the GC lists, reached from no root; uncollected "
                     "garbage), by bytes:",
                     unr, nunr, false);
        if (baseline)
            print_groups(out, fmt, "",
                         "\ngrowth since the baseline core (objects and bytes added), by bytes:",
                         gr_rows, ngr, false);
        fputs("\ntop retainers (what freeing each would free; pymac-analyze dominators):\n", out);
        pm_retain_top(s, r, PM_TOP_RETAINERS, fmt, out);
        fprintf(out, "\n%zu live objects examined. Growth against an older core: pymac-analyze "
                     "diff OLDCORE NEWCORE\n",
                lk->g.n);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
    free(gr_rows);
    pm_leak_report_free(&rep);
    return st;
}

/* Allocation sites of groups of objects (the leak suspects): per group, the
 * line (tracemalloc's lineno key: the most recent frame) whose traced blocks
 * of the group's objects hold the most bytes. */
#include <stdlib.h>
#include <string.h>

#include "tracemalloc_sites.h"

typedef struct rec {
    uint32_t set, group, file, line;
    uint64_t count, bytes;
} rec;

struct pm_tm_sites {
    pm_tracemalloc tm;
    rec *v;
    size_t n, cap;
    bool nomem, finished;
};

pm_tm_sites *pm_tm_sites_open(pymac_session *s)
{
    pm_tm_sites *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pymac_error err = {0};
    pymac_status st = pm_tracemalloc_read(s, &t->tm, &err);
    if (st > PYMAC_PARTIAL || !t->tm.tracing || !t->tm.ntraces) {
        if (st > PYMAC_PARTIAL && st != PYMAC_E_UNSUPPORTED)
            pm_warn(s, "tracemalloc: %s: no allocation sites", err.message);
        pm_tm_sites_free(t);
        return NULL;
    }
    return t;
}

void pm_tm_sites_add(pm_tm_sites *t, uint32_t set, uint32_t group, const pm_object *o)
{
    if (!t || t->nomem)
        return;
    /* the block the object was allocated in, pre-header and all: on 3.11
     * too, where get_object_traceback() misses objects with a pre-header */
    const pm_tm_trace *tr = pm_tm_find(&t->tm, o->addr - o->type->presize);
    if (!tr || tr->tb >= t->tm.ntracebacks || !t->tm.tracebacks[tr->tb].nframe)
        return;
    const pm_tm_frame *f = &t->tm.frames[t->tm.tracebacks[tr->tb].first];
    if (t->n == t->cap) {
        size_t c = t->cap ? t->cap * 2 : 256;
        rec *p = realloc(t->v, c * sizeof *p);
        if (!p) {
            t->nomem = true;
            return;
        }
        t->v = p;
        t->cap = c;
    }
    t->v[t->n++] = (rec){set, group, f->file, f->lineno, 1, tr->size};
}

static int cmp_rec(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->set != y->set)
        return x->set < y->set ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* One record per (set, group, line), summed. */
static void finish(pm_tm_sites *t)
{
    pm_sort(t->v, t->n, sizeof *t->v, cmp_rec);
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++) {
        rec *r = &t->v[i];
        if (m && t->v[m - 1].set == r->set && t->v[m - 1].group == r->group &&
            t->v[m - 1].file == r->file && t->v[m - 1].line == r->line) {
            t->v[m - 1].count += r->count;
            t->v[m - 1].bytes += r->bytes;
        } else {
            t->v[m++] = *r;
        }
    }
    t->n = m;
    t->finished = true;
}

bool pm_tm_sites_top(pm_tm_sites *t, uint32_t set, uint32_t group, pm_tm_site *out)
{
    if (!t || t->nomem)
        return false;
    if (!t->finished)
        finish(t);
    /* the group's records: a binary search for the first */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].set < set || (t->v[mid].set == set && t->v[mid].group < group))
            lo = mid + 1;
        else
            hi = mid;
    }
    const rec *best = NULL;
    uint64_t traced = 0;
    for (size_t i = lo; i < t->n && t->v[i].set == set && t->v[i].group == group; i++) {
        const rec *r = &t->v[i];
        traced += r->count;
        /* most bytes, then most blocks; the first line in file order on a tie */
        if (!best || r->bytes > best->bytes || (r->bytes == best->bytes && r->count > best->count))
            best = r;
    }
    if (!best)
        return false;
    snprintf(out->filename, sizeof out->filename, "%s", t->tm.files[best->file]);
    out->lineno = best->line;
    out->objects = best->count;
    out->bytes = best->bytes;
    out->traced = traced;
    return true;
}

bool pm_tm_sites_partial(const pm_tm_sites *t)
{
    return t && (t->tm.partial || t->nomem);
}

void pm_tm_sites_free(pm_tm_sites *t)
{
    if (!t)
        return;
    pm_tracemalloc_free(&t->tm);
    free(t->v);
    free(t);
}

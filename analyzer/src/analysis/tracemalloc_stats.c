/* Snapshot.statistics() of Lib/tracemalloc.py, on the traces read from the
 * core: group the traces by key (Snapshot._group_by), then sort the groups
 * by (size, count, traceback), largest first. */
#include <stdlib.h>
#include <string.h>

#include "tracemalloc.h"

static int cmp_frame(const pm_tm_frame *a, const pm_tm_frame *b)
{
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return a->lineno < b->lineno ? -1 : a->lineno > b->lineno;
}

/* Any total order on keys, for grouping: frames as stored. */
static int cmp_key(const void *x, const void *y)
{
    const pm_tm_stat *a = x, *b = y;
    const pm_tm_frame *fa = pm_tm_stat_frames(a), *fb = pm_tm_stat_frames(b);
    for (uint32_t i = 0; i < a->nframes && i < b->nframes; i++) {
        int c = cmp_frame(&fa[i], &fb[i]);
        if (c)
            return c;
    }
    return a->nframes < b->nframes ? -1 : a->nframes > b->nframes;
}

/* Python's order of Traceback objects: their frames oldest first (the
 * reverse of the stored order), compared as tuples of (filename, lineno);
 * file indexes follow the order of the names' texts. */
static int cmp_traceback(const pm_tm_stat *a, const pm_tm_stat *b)
{
    const pm_tm_frame *fa = pm_tm_stat_frames(a), *fb = pm_tm_stat_frames(b);
    for (uint32_t i = 0; i < a->nframes && i < b->nframes; i++) {
        int c = cmp_frame(&fa[a->nframes - 1 - i], &fb[b->nframes - 1 - i]);
        if (c)
            return c;
    }
    return a->nframes < b->nframes ? -1 : a->nframes > b->nframes;
}

/* statistics.sort(reverse=True, key=lambda s: (s.size, s.count, s.traceback)) */
static int cmp_result(const void *x, const void *y)
{
    const pm_tm_stat *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return -cmp_traceback(a, b);
}

pymac_status pm_tm_statistics(const pm_tracemalloc *tm, pm_tm_key key, bool cumulative,
                              pm_tm_stat **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (cumulative && key == PM_TM_TRACEBACK)
        return PYMAC_E_USAGE; /* "cumulative mode cannot by used with key type 'traceback'" */
    /* one item per trace, or per frame of each trace when cumulative */
    size_t nitems = 0;
    for (size_t i = 0; i < tm->ntraces; i++) {
        const pm_tm_trace *t = &tm->traces[i];
        if (t->tb < tm->ntracebacks)
            nitems += cumulative ? tm->tracebacks[t->tb].nframe : 1;
    }
    pm_tm_stat *items = calloc(nitems ? nitems : 1, sizeof *items);
    if (!items)
        return PYMAC_E_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < tm->ntraces; i++) {
        const pm_tm_trace *t = &tm->traces[i];
        if (t->tb >= tm->ntracebacks || !tm->tracebacks[t->tb].nframe)
            continue; /* unreadable traceback */
        const pm_tm_traceback *tb = &tm->tracebacks[t->tb];
        const pm_tm_frame *f = &tm->frames[tb->first];
        uint32_t nf = cumulative ? tb->nframe : 1;
        for (uint32_t j = 0; j < nf; j++) {
            pm_tm_stat *it = &items[k++];
            it->size = t->size;
            it->count = 1;
            it->nframes = 1;
            if (key == PM_TM_TRACEBACK) {
                it->frames = f;
                it->nframes = tb->nframe;
            } else {
                it->one = f[j];
                if (key == PM_TM_FILENAME)
                    it->one.lineno = 0;
            }
        }
    }
    pm_sort(items, k, sizeof *items, cmp_key);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && cmp_key(&items[m - 1], &items[i]) == 0) {
            items[m - 1].size += items[i].size;
            items[m - 1].count++;
        } else {
            items[m++] = items[i];
        }
    }
    pm_sort(items, m, sizeof *items, cmp_result);
    *out = items;
    *n = m;
    return PYMAC_OK;
}

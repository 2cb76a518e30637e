/* diff (pymac_diff_build): two censuses of the same program per type name
 * (type_diff.c), and pymalloc's totals in each. */
#include <stdio.h>
#include <stdlib.h>

#include "type_diff.h"

static pymac_pymalloc_totals totals(const pymac_pymalloc *h)
{
    pymac_pymalloc_totals t = {.arenas = h->narenas};
    for (size_t i = 0; i < h->narenas; i++) {
        t.pools_used += h->arenas[i].pools_used;
        t.pools_full += h->arenas[i].pools_full;
        t.blocks_in_use += h->arenas[i].blocks_in_use;
        t.bytes_in_use += h->arenas[i].bytes_in_use;
    }
    return t;
}

pymac_status pymac_diff_build(pymac_session *old, pymac_session *new_, pymac_diff **out,
                              pymac_error *err)
{
    *out = NULL;
    pymac_session *ss[2] = {old, new_};
    const pymac_census *c[2];
    const pymac_pymalloc *h[2];
    pymac_status st = PYMAC_OK;
    for (int i = 0; i < 2; i++) {
        pymac_status a = pymac_census_build(ss[i], 0, &c[i], err);
        if (a > PYMAC_PARTIAL)
            return a;
        pymac_status b = pymac_pymalloc_walk(ss[i], &h[i], err);
        if (b > PYMAC_PARTIAL)
            return b;
        if (a == PYMAC_PARTIAL || b == PYMAC_PARTIAL)
            st = PYMAC_PARTIAL;
    }
    pm_type_diff td;
    pymac_status dst = pm_type_diff_build(c[0], c[1], &td, err);
    if (dst != PYMAC_OK)
        return dst;
    pymac_diff *d = calloc(1, sizeof *d);
    if (d)
        d->types = calloc(td.n + 1, sizeof *d->types);
    if (!d || !d->types) {
        free(d);
        pm_type_diff_free(&td);
        return pm_nomem(err);
    }
    for (size_t k = 0; k < td.n; k++) {
        pymac_type_delta *r = &d->types[k];
        snprintf(r->name, sizeof r->name, "%s", td.rows[k].name);
        for (int x = 0; x < 2; x++) {
            r->count[x] = td.rows[k].count[x];
            r->bytes[x] = td.rows[k].bytes[x];
        }
    }
    d->ntypes = td.n;
    pm_type_diff_free(&td);
    d->pymalloc[0] = totals(h[0]);
    d->pymalloc[1] = totals(h[1]);
    d->partial = st == PYMAC_PARTIAL;
    *out = d;
    return st;
}

void pymac_diff_free(pymac_diff *d)
{
    if (d) {
        free(d->types);
        free(d);
    }
}

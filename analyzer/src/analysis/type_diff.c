/* Two censuses compared per type name: both row lists sorted by name and
 * merged, so that same-named types (one per ctypes array length, say) add up. */
#include <stdlib.h>
#include <string.h>

#include "type_diff.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pymac_type_count *)a)->name, ((const pymac_type_count *)b)->name);
}

static int by_growth(const void *a, const void *b)
{
    const pm_diff_row *x = a, *y = b;
    int64_t dx = x->bytes[1] - x->bytes[0], dy = y->bytes[1] - y->bytes[0];
    if (dx != dy)
        return dx < dy ? 1 : -1;
    int64_t cx = x->count[1] - x->count[0], cy = y->count[1] - y->count[0];
    if (cx != cy)
        return cx < cy ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* A census's rows, sorted by __name__. */
static pymac_type_count *sorted_rows(const pymac_census *c)
{
    pymac_type_count *r = malloc((c->nrows + 1) * sizeof *r);
    if (!r)
        return NULL;
    memcpy(r, c->rows, c->nrows * sizeof *r);
    pm_sort(r, c->nrows, sizeof *r, by_name);
    return r;
}

pymac_status pm_type_diff_build(const pymac_census *old, const pymac_census *new_,
                                pm_type_diff *d, pymac_error *err)
{
    const pymac_census *c[2] = {old, new_};
    memset(d, 0, sizeof *d);
    pymac_type_count **r = d->sorted;
    r[0] = sorted_rows(c[0]);
    r[1] = sorted_rows(c[1]);
    pm_diff_row *rows = d->rows = calloc(c[0]->nrows + c[1]->nrows + 1, sizeof *rows);
    if (!r[0] || !r[1] || !rows) {
        pm_type_diff_free(d);
        return pm_nomem(err);
    }
    size_t i = 0, j = 0, n = 0;
    while (i < c[0]->nrows || j < c[1]->nrows) {
        int cmp = i == c[0]->nrows ? 1 : j == c[1]->nrows ? -1 : strcmp(r[0][i].name, r[1][j].name);
        const char *name = cmp <= 0 ? r[0][i].name : r[1][j].name;
        pm_diff_row *row = n && strcmp(rows[n - 1].name, name) == 0 ? &rows[n - 1] : &rows[n++];
        row->name = name;
        if (cmp <= 0) {
            row->count[0] += (int64_t)r[0][i].count;
            row->bytes[0] += (int64_t)r[0][i].bytes;
            i++;
        }
        if (cmp >= 0) {
            row->count[1] += (int64_t)r[1][j].count;
            row->bytes[1] += (int64_t)r[1][j].bytes;
            j++;
        }
    }
    pm_sort(rows, n, sizeof *rows, by_growth);
    d->n = n;
    return PYMAC_OK;
}

void pm_type_diff_free(pm_type_diff *d)
{
    free(d->rows);
    free(d->sorted[0]);
    free(d->sorted[1]);
    memset(d, 0, sizeof *d);
}

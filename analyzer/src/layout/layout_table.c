/* Looking facts up in the committed layout tables. */
#include <string.h>

#include "layout_table.h"

int pm_fact_cmp(char ka, const char *ta, const char *pa, char kb, const char *tb, const char *pb)
{
    int c = strcmp(ta, tb);
    if (c)
        return c;
    c = strcmp(pa, pb);
    if (c)
        return c;
    return (ka > kb) - (ka < kb);
}

const pm_layout_table *pm_table_for(unsigned minor, unsigned patch, bool free_threaded)
{
    for (const pm_layout_table *const *t = pm_layout_tables; *t; t++)
        if ((*t)->minor == minor && (*t)->free_threaded == free_threaded &&
            patch >= (*t)->patch_min && patch <= (*t)->patch_max)
            return *t;
    return NULL;
}

const pm_layout_fact *pm_table_fact(const pm_layout_table *t, char kind, const char *type,
                                    const char *path)
{
    size_t lo = 0, hi = t->nfacts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const pm_layout_fact *f = &t->facts[mid];
        int c = pm_fact_cmp(kind, type, path, f->kind, f->type, f->path);
        if (c == 0)
            return f;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

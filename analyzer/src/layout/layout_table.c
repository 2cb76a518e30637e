/* Looking answers up in the committed layout tables. */
#include <string.h>

#include "layout_table.h"

int pm_answer_cmp(char ka, const char *ta, const char *pa, const char *aa, char kb,
                  const char *tb, const char *pb, const char *ab)
{
    if (ka != kb)
        return ka < kb ? -1 : 1;
    int c = strcmp(ta, tb);
    if (!c)
        c = strcmp(pa, pb);
    if (!c)
        c = strcmp(aa, ab);
    return c;
}

const pm_layout_table *pm_table_for(unsigned minor, bool free_threaded)
{
    for (const pm_layout_table *const *t = pm_layout_tables; *t; t++)
        if ((*t)->minor == minor && (*t)->free_threaded == free_threaded)
            return *t;
    return NULL;
}

const pm_layout_answer *pm_table_answer(const pm_layout_table *t, char kind, const char *type,
                                        const char *path, const char *anchor, unsigned patch,
                                        bool *unproven)
{
    size_t lo = 0, hi = t->nanswers;
    path = path ? path : "";
    anchor = anchor ? anchor : "";
    if (unproven)
        *unproven = false;
    /* the first answer to the question (one per range of patches, in order) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const pm_layout_answer *a = &t->answers[mid];
        if (pm_answer_cmp(kind, type, path, anchor, a->kind, a->type, a->path, a->anchor) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < t->nanswers; i++) {
        const pm_layout_answer *a = &t->answers[i];
        if (pm_answer_cmp(kind, type, path, anchor, a->kind, a->type, a->path, a->anchor) != 0)
            break;
        if (patch >= a->patch_min && patch <= a->patch_max)
            return a;
        if (unproven)
            *unproven = true;
    }
    return NULL;
}

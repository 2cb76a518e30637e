/* The views by name, one dispatch for every front end, and views rendered
 * into strings for front ends without a FILE*. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm.h"

static const pymac_view_name VIEWS[] = {
    {"report", PYMAC_VIEW_REPORT, 0},
    {"info", PYMAC_VIEW_INFO, 0},
    {"stats", PYMAC_VIEW_STATS, 0},
    {"arenas", PYMAC_VIEW_ARENAS, 0},
    {"pools", PYMAC_VIEW_POOLS, 0},
    {"whereis", PYMAC_VIEW_WHEREIS, PYMAC_VIEW_ADDRESSES},
    {"gc", PYMAC_VIEW_GC, 0},
    {"types", PYMAC_VIEW_TYPES, 0},
    {"summary", PYMAC_VIEW_TYPES, 0},
    {"objects", PYMAC_VIEW_OBJECTS, 0},
    {"object", PYMAC_VIEW_OBJECT, PYMAC_VIEW_ADDRESSES},
    {"diff", PYMAC_VIEW_DIFF, 1},
    {"referrers", PYMAC_VIEW_REFERRERS, PYMAC_VIEW_ADDRESSES},
    {"path", PYMAC_VIEW_PATH, PYMAC_VIEW_ADDRESSES},
    {"leaks", PYMAC_VIEW_LEAKS, 0},
};

const pymac_view_name *pymac_view_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof VIEWS / sizeof VIEWS[0]; i++)
        if (strcmp(name, VIEWS[i].name) == 0)
            return &VIEWS[i];
    return NULL;
}

pymac_status pymac_render_to(pymac_session *s, const pymac_view *v, pymac_session *other,
                             FILE *out, pymac_error *err)
{
    switch (v->kind) {
    case PYMAC_VIEW_INFO:
        return pymac_render_info(s, v->format, out, err);
    case PYMAC_VIEW_STATS:
        return pymac_render_stats(s, v->format, out, err);
    case PYMAC_VIEW_ARENAS:
        return pymac_render_arenas(s, v->format, out, err);
    case PYMAC_VIEW_POOLS:
        return pymac_render_pools(s, &v->pools, v->format, out, err);
    case PYMAC_VIEW_WHEREIS:
        return pymac_render_whereis(s, v->address, v->format, out, err);
    case PYMAC_VIEW_GC:
        return pymac_render_gc(s, v->format, out, err);
    case PYMAC_VIEW_TYPES:
        return pymac_render_types(s, v->gc_only, v->format, out, err);
    case PYMAC_VIEW_OBJECTS:
        return pymac_render_objects(s, &v->objects, v->format, out, err);
    case PYMAC_VIEW_OBJECT:
        return pymac_render_object(s, v->address, v->format, out, err);
    case PYMAC_VIEW_REFERRERS:
        return pymac_render_referrers(s, v->address, v->format, out, err);
    case PYMAC_VIEW_PATH:
        return pymac_render_path(s, v->address, v->format, out, err);
    case PYMAC_VIEW_LEAKS:
        return pymac_render_leaks(s, other, v->format, out, err);
    case PYMAC_VIEW_REPORT:
        return pymac_render_report(s, v->format, out, err);
    case PYMAC_VIEW_DIFF:
        if (!other)
            return pm_fail(err, PYMAC_E_USAGE, NULL, "diff needs a second session");
        return pymac_render_diff(s, other, v->format, out, err);
    }
    return pm_fail(err, PYMAC_E_USAGE, NULL, "unknown view %d", (int)v->kind);
}

char *pymac_render_view(pymac_session *s, const pymac_view *v, pymac_status *status,
                        pymac_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        *status = pm_nomem(err);
        return NULL;
    }
    *status = pymac_render_to(s, v, NULL, out, err);
    fclose(out);
    if (*status > PYMAC_PARTIAL) {
        free(buf);
        return NULL;
    }
    return buf;
}

void pymac_free(void *p)
{
    free(p);
}

/* The gc view: the generation lists' counts, text or JSON. */
#include "json.h"
#include "pm.h"
#include "render_json.h"

pymac_status pymac_render_gc(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err)
{
    const pymac_gc *gc;
    pymac_status st = pymac_gc_walk(s, &gc, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (fmt == PYMAC_JSON) {
        fputs("{\"generations\": [", out);
        for (uint32_t i = 0; i < gc->ngenerations; i++)
            fprintf(out, "%s{\"objects\": %llu, \"count\": %lld, \"threshold\": %lld}",
                    i ? ", " : "", (unsigned long long)gc->generations[i].objects,
                    (long long)gc->generations[i].count, (long long)gc->generations[i].threshold);
        fprintf(out, "],\n \"permanent\": {\"objects\": %llu}, \"collecting\": %s, \"partial\": %s, ",
                (unsigned long long)gc->permanent.objects, gc->collecting ? "true" : "false",
                gc->partial ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return st;
    }
    fprintf(out, "%-12s %12s %8s %10s\n", "generation", "objects", "count", "threshold");
    uint64_t total = 0;
    for (uint32_t i = 0; i < gc->ngenerations; i++) {
        const pymac_gc_generation *g = &gc->generations[i];
        fprintf(out, "%-12u %12llu %8lld %10lld\n", i, (unsigned long long)g->objects,
                (long long)g->count, (long long)g->threshold);
        total += g->objects;
    }
    fprintf(out, "%-12s %12llu\n", "permanent", (unsigned long long)gc->permanent.objects);
    fprintf(out, "%-12s %12llu\n", "total", (unsigned long long)(total + gc->permanent.objects));
    if (gc->partial)
        fputs("PARTIAL: the GC lists could not be walked completely; see the warnings\n", out);
    pymac_render_warnings(s, out);
    return st;
}

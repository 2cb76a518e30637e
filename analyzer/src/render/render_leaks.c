/* leaks: the leak report (analysis/leak_report.c, over leaks.c's analysis)
 * as text or JSON, with the top retainers (retain.c). */
#include <stdlib.h>
#include <string.h>

#include "leaks.h"
#include "retain.h"
#include "object.h"
#include "json.h"
#include "render_json.h"
#include "render_leaks.h"
#include "render_tracemalloc.h"

typedef pm_leak_group group;

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
        for (uint64_t k = 0; k < gs[i].objects && k < PYMAC_LEAK_EXAMPLES && gs[i].examples[k]; k++)
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

pymac_status pymac_render_leaks(pymac_session *s, pymac_session *baseline, pymac_format fmt,
                                FILE *out, pymac_error *err)
{
    pymac_leaks *lk;
    pymac_status st = pymac_find_leaks(s, baseline, &lk, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_retain *r; /* the report's, kept by the session */
    pymac_status rst = pm_retain_shared(s, &r, err);
    if (rst > PYMAC_PARTIAL) {
        pymac_leaks_free(lk);
        return rst;
    }
    if (fmt == PYMAC_JSON) {
        fputc('{', out);
        print_groups(out, fmt, "unexplained", NULL, lk->unexplained, lk->nunexplained, true);
        fputs(",\n ", out);
        print_groups(out, fmt, "unreachable", NULL, lk->unreachable, lk->nunreachable, false);
        if (baseline) {
            fputs(",\n ", out);
            print_groups(out, fmt, "growth", NULL, lk->growth, lk->ngrowth, false);
        }
        fprintf(out,
                ",\n \"malloc_heap\": {\"heaps\": %zu, \"chunks\": %zu, \"free_chunks\": %zu, "
                "\"tcache_chunks\": %zu, \"tcache_checked\": %s, \"stale_pointers\": %llu, "
                "\"dead_objects\": %zu}",
                lk->malloc_heaps, lk->malloc_chunks, lk->malloc_free_chunks, lk->tcache_chunks,
                lk->tcache_checked ? "true" : "false", (unsigned long long)lk->stale_pointers,
                lk->dead_objects);
        fputs(",\n ", out);
        pm_retain_top(s, r, PM_TOP_RETAINERS, fmt, out);
        fprintf(out, ",\n \"objects\": %zu, \"edges\": %zu, \"partial\": %s, ", lk->objects,
                lk->edges, st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        print_groups(out, fmt, "",
                     "unexplained references (refcount above the references found; a leaked "
                     "Py_INCREF?), by bytes:",
                     lk->unexplained, lk->nunexplained, true);
        print_groups(out, fmt, "",
                     "\nunreachable (on the GC lists, reached from no root; uncollected "
                     "garbage), by bytes:",
                     lk->unreachable, lk->nunreachable, false);
        if (baseline)
            print_groups(out, fmt, "",
                         "\ngrowth since the baseline core (objects and bytes added), by bytes:",
                         lk->growth, lk->ngrowth, false);
        fputs("\ntop retainers (what freeing each would free; pymac-analyze dominators):\n", out);
        pm_retain_top(s, r, PM_TOP_RETAINERS, fmt, out);
        fprintf(out, "\n%zu live objects examined. Growth against an older core: pymac-analyze "
                     "diff OLDCORE NEWCORE\n",
                lk->objects);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
    pymac_leaks_free(lk);
    return st;
}

/* The report: the one screen a person wants first from a core. What the
 * interpreter is, how the pymalloc heap is laid out, the GC generations, the
 * types that hold the most bytes, and the leak suspects. Each part is what
 * its own view says (info, arenas, gc, types, leaks), cut short. */
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "json.h"
#include "layout.h"
#include "leaks.h"
#include "retain.h"
#include "pm.h"
#include "render_json.h"
#include "render_tracemalloc.h"
#include "render_leaks.h"

enum { TOP_TYPES = 10, TOP_CLASSES = 3, TOP_SUSPECTS = 3 };

/* A view's JSON document, without its final newline, as a member value. */
static pymac_status embed(FILE *out, const char *key, pymac_status (*render)(pymac_session *,
                                                                              pymac_format, FILE *,
                                                                              pymac_error *),
                          pymac_session *s, pymac_error *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return pm_nomem(err);
    pymac_status st = render(s, PYMAC_JSON, mem, err);
    fclose(mem);
    if (st <= PYMAC_PARTIAL) {
        while (len && text[len - 1] == '\n')
            len--;
        pm_json_key(out, key);
        fwrite(text, 1, len, out);
        fputs(",\n ", out);
    }
    free(text);
    return st;
}

static void heap_totals(const pymac_pymalloc *h, uint64_t *blocks, uint64_t *bytes,
                        uint64_t *free_b)
{
    *blocks = *bytes = *free_b = 0;
    for (uint32_t i = 0; i < h->nclasses; i++) {
        *blocks += h->classes[i].blocks_in_use;
        *bytes += h->classes[i].blocks_in_use * h->classes[i].block_size;
        *free_b += h->classes[i].blocks_free * h->classes[i].block_size;
    }
}

static void text_heap(FILE *out, const pymac_pymalloc *h)
{
    uint64_t blocks, bytes, free_b;
    heap_totals(h, &blocks, &bytes, &free_b);
    fprintf(out,
            "pymalloc: %zu arenas (%llu MiB), %zu pools carved, %llu blocks in use (%llu bytes), "
            "%llu bytes free in used pools\n",
            h->narenas, (unsigned long long)h->narenas * h->arena_size >> 20, h->npools,
            (unsigned long long)blocks, (unsigned long long)bytes, (unsigned long long)free_b);
    fputs("  largest size classes by bytes in use:", out);
    uint8_t shown[PYMAC_MAX_SIZE_CLASSES] = {0};
    for (int k = 0; k < TOP_CLASSES; k++) {
        int best = -1;
        for (uint32_t i = 0; i < h->nclasses; i++)
            if (!shown[i] && h->classes[i].blocks_in_use &&
                (best < 0 || h->classes[i].blocks_in_use * h->classes[i].block_size >
                                 h->classes[best].blocks_in_use * h->classes[best].block_size))
                best = (int)i;
        if (best < 0)
            break;
        shown[best] = 1;
        const pymac_size_class *c = &h->classes[best];
        fprintf(out, "%s%u-byte blocks %llu (%llu bytes)", k ? ", " : " ", c->block_size,
                (unsigned long long)c->blocks_in_use,
                (unsigned long long)(c->blocks_in_use * c->block_size));
    }
    fputc('\n', out);
}

/* A free-threaded build's objects are in mimalloc's segments (the
 * allocator interface's totals), not pymalloc's arenas. */
static void text_mimalloc(FILE *out, const pm_heap_totals *t)
{
    fprintf(out, "mimalloc: %llu segment%s (%llu MiB), %llu pages, %llu blocks in use (%llu bytes)\n",
            (unsigned long long)t->regions, t->regions == 1 ? "" : "s",
            (unsigned long long)t->region_bytes >> 20,
            (unsigned long long)t->units, (unsigned long long)t->blocks_used,
            (unsigned long long)t->bytes_used);
}

static void text_gc(FILE *out, const pymac_gc *gc)
{
    fputs("GC lists:", out);
    for (uint32_t i = 0; i < gc->ngenerations; i++)
        fprintf(out, "%s generation %u %llu objects (count %lld of %lld)", i ? "," : "", i,
                (unsigned long long)gc->generations[i].objects,
                (long long)gc->generations[i].count, (long long)gc->generations[i].threshold);
    fprintf(out, ", permanent %llu%s\n", (unsigned long long)gc->permanent.objects,
            gc->collecting ? " (the core was taken during a collection)" : "");
}

static void text_types(FILE *out, const pymac_census *c)
{
    fprintf(out, "\nlargest types (of %llu objects, %llu bytes):\n", (unsigned long long)c->objects,
            (unsigned long long)c->bytes);
    fprintf(out, "  %-30s %12s %14s %9s\n", "type", "objects", "bytes", "avg size");
    for (size_t i = 0; i < c->nrows && i < TOP_TYPES; i++)
        fprintf(out, "  %-30.30s %12llu %14llu %9.1f\n", c->rows[i].name,
                (unsigned long long)c->rows[i].count, (unsigned long long)c->rows[i].bytes,
                (double)c->rows[i].bytes / (double)c->rows[i].count);
}

static void text_suspects(FILE *out, const char *title, const pm_leak_group *g, size_t n,
                          bool refs)
{
    fprintf(out, "  %s:", title);
    if (!n)
        fputs(" none", out);
    fputc('\n', out);
    for (size_t i = 0; i < n && i < TOP_SUSPECTS; i++) {
        fprintf(out, "    %-28.28s %9llu objects %12llu bytes", g[i].name,
                (unsigned long long)g[i].objects, (unsigned long long)g[i].bytes);
        if (refs)
            fprintf(out, " %7llu refs", (unsigned long long)g[i].refs);
        fprintf(out, " %12llu retained", (unsigned long long)g[i].retained);
        if (g[i].examples[0])
            fprintf(out, "  e.g. 0x%llx", (unsigned long long)g[i].examples[0]);
        fputc('\n', out);
        if (g[i].has_site)
            pm_tm_site_text(out, &g[i].site, "      ");
    }
    if (n > TOP_SUSPECTS)
        fprintf(out, "    ... and %zu more types\n", n - TOP_SUSPECTS);
}

static pymac_status worse(pymac_status a, pymac_status b)
{
    return a > b ? a : b;
}

pymac_status pymac_render_report(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err)
{
    const pymac_pymalloc *h;
    const pymac_gc *gc;
    const pymac_census *c;
    pymac_status st = pymac_pymalloc_walk(s, &h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_heap_totals mi = {0};
    bool ft = s->layout->free_threaded;
    if (ft) {
        const pm_heap *heap;
        pymac_status hs = pm_heap_get(s, &heap, err);
        if (hs > PYMAC_PARTIAL)
            return hs;
        st = worse(st, hs);
        pm_heap_totals_of(heap, &mi);
    }
    pymac_status st2 = pymac_gc_walk(s, &gc, err);
    if (st2 > PYMAC_PARTIAL)
        return st2;
    st = worse(st, st2);
    st2 = pymac_census_build(s, 0, &c, err);
    if (st2 > PYMAC_PARTIAL)
        return st2;
    st = worse(st, st2);
    pm_retain *r;
    st2 = pm_retain_shared(s, &r, err);
    if (st2 > PYMAC_PARTIAL)
        return st2;
    st = worse(st, st2);
    pymac_leaks sus;
    st2 = pm_leak_report_build(s, &r->lk, &sus, err);
    if (st2 > PYMAC_PARTIAL)
        return st2;
    st = worse(st, st2); /* partial allocation sites */
    if (fmt == PYMAC_JSON) {
        fputc('{', out);
        if ((st2 = embed(out, "info", pymac_render_info, s, err)) <= PYMAC_PARTIAL)
            st2 = embed(out, "gc", pymac_render_gc, s, err);
        if (st2 > PYMAC_PARTIAL) {
            pm_leak_report_free(&sus);
            return st2;
        }
        uint64_t blocks, bytes, free_b;
        heap_totals(h, &blocks, &bytes, &free_b);
        if (ft)
            fprintf(out,
                    "\"mimalloc\": {\"segments\": %llu, \"segment_bytes\": %llu, \"pages\": %llu, "
                    "\"blocks_in_use\": %llu, \"bytes_in_use\": %llu},\n ",
                    (unsigned long long)mi.regions, (unsigned long long)mi.region_bytes,
                    (unsigned long long)mi.units, (unsigned long long)mi.blocks_used,
                    (unsigned long long)mi.bytes_used);
        else
            fprintf(out,
                    "\"pymalloc\": {\"arenas\": %zu, \"arena_size\": %u, \"pools_carved\": %zu, "
                    "\"blocks_in_use\": %llu, \"bytes_in_use\": %llu, "
                    "\"bytes_free_in_used_pools\": %llu},\n ",
                    h->narenas, h->arena_size, h->npools, (unsigned long long)blocks,
                    (unsigned long long)bytes, (unsigned long long)free_b);
        fprintf(out, "\"objects\": %llu, \"bytes\": %llu,\n \"top_types\": [",
                (unsigned long long)c->objects, (unsigned long long)c->bytes);
        for (size_t i = 0; i < c->nrows && i < TOP_TYPES; i++) {
            fputs(i ? ",\n  {\"type\": " : "\n  {\"type\": ", out);
            pm_json_str(out, c->rows[i].name);
            fprintf(out, ", \"count\": %llu, \"bytes\": %llu}", (unsigned long long)c->rows[i].count,
                    (unsigned long long)c->rows[i].bytes);
        }
        fputs("],\n ", out);
        fputs("\"leaks\": {", out);
        pm_leak_groups_json(out, "unexplained", sus.unexplained, sus.nunexplained, TOP_SUSPECTS,
                            true);
        fprintf(out, ", \"unexplained_types\": %zu,\n  ", sus.nunexplained);
        pm_leak_groups_json(out, "unreachable", sus.unreachable, sus.nunreachable, TOP_SUSPECTS,
                            false);
        fprintf(out, ", \"unreachable_types\": %zu},\n ", sus.nunreachable);
        pm_retain_top(s, r, PM_TOP_RETAINERS, fmt, out);
        fprintf(out, ",\n \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        pm_leak_report_free(&sus);
        return st;
    }
    pymac_info in;
    if ((st2 = pymac_get_info(s, &in, err)) != PYMAC_OK) {
        pm_leak_report_free(&sus);
        return st2;
    }
    fprintf(out, "%s: a %s core of %s, CPython %s, %u thread%s\n", in.core_path, in.core_kind,
            in.executable, in.python_version, in.nthreads, in.nthreads == 1 ? "" : "s");
    fprintf(out, "interpreter in %s (debug info: %s)\n\n", in.python_module, in.debuginfo_source);
    if (ft)
        text_mimalloc(out, &mi);
    else
        text_heap(out, h);
    text_gc(out, gc);
    text_types(out, c);
    fputs("\nleak suspects:\n", out);
    text_suspects(out, "unexplained references (refcount above the references found; a leaked "
                       "Py_INCREF?)",
                  sus.unexplained, sus.nunexplained, true);
    text_suspects(out, "unreachable (on the GC lists, reached from no root: uncollected garbage)",
                  sus.unreachable, sus.nunreachable, false);
    fputs("\ntop retainers (what freeing each would free):\n", out);
    pm_retain_top(s, r, PM_TOP_RETAINERS, fmt, out);
    fputs("\nmore: pymac-analyze stats|arenas|pools|gc|types|objects|leaks CORE, "
          "object|referrers|path CORE ADDR\n",
          out);
    if (st == PYMAC_PARTIAL)
        fputs("PARTIAL: some of the heap could not be read; see the warnings\n", out);
    pymac_render_warnings(s, out);
    pm_leak_report_free(&sus);
    return st;
}

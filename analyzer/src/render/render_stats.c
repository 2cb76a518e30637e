/* sys._debugmallocstats() text, rebuilt from the heap walk. The layout of
 * every line follows Objects/obmalloc.c so the output compares byte for byte. */
#include <stdio.h>
#include <string.h>

#include "freelists.h"
#include "mallocstats.h"
#include "pm.h"
#include "layout.h"
#include "render_stats_ft.h"

pymac_status pymac_render_stats(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err)
{
    if (fmt != PYMAC_TEXT)
        return pm_fail(err, PYMAC_E_USAGE, "use arenas --json or pools --json for data",
                       "stats is CPython's own text report and has no JSON form");
    if (s->layout->free_threaded)
        return pm_ft_render_stats(s, out, err);
    if (s->rt->obj_alloc == PM_ALLOC_MIMALLOC)
        return pm_fail(err, PYMAC_E_UNSUPPORTED,
                       "pymac reproduces mimalloc's report for the free-threaded build only; "
                       "types, gc and leaks still work",
                       "the process allocated objects with %s: its sys._debugmallocstats() "
                       "printed mimalloc's figures, which pymac cannot give for a default build",
                       pm_allocator_name(s->rt));
    if (!PM_OBJECTS_IN_PYMALLOC(s->rt) || s->rt->obj_wrapped) {
        /* CPython prints no allocator section then: _PyObject_DebugMallocStats
         * returns 0 unless the object domain's malloc is pymalloc's, or the
         * debug hooks' around it; tracemalloc's hooks on top hide it too.
         * Only the free lists */
        pm_freelist_stat fl[64];
        size_t nfl;
        pymac_status fst = pm_freelist_stats(s, fl, sizeof fl / sizeof fl[0], &nfl, err);
        if (fst)
            return pm_explain_truncation(s, fst, false, err);
        for (size_t i = 0; i < nfl; i++)
            pm_print_freelist(out, &fl[i]);
        return PYMAC_OK;
    }
    const pymac_pymalloc *h;
    pymac_status st = pymac_pymalloc_walk(s, &h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_freelist_stat fl[64];
    size_t nfl;
    pymac_status fst = pm_freelist_stats(s, fl, sizeof fl / sizeof fl[0], &nfl, err);
    if (fst)
        return pm_explain_truncation(s, fst, false, err);

    fprintf(out, "Small block threshold = %u, in %u size classes.\n",
            h->nclasses * h->classes[0].block_size, h->nclasses);
    fputs("\nclass   size   num pools   blocks in use  avail blocks\n"
          "-----   ----   ---------   -------------  ------------\n",
          out);
    uint64_t allocated = 0, available = 0, headers = 0, quantization = 0;
    for (uint32_t i = 0; i < h->nclasses; i++) {
        const pymac_size_class *c = &h->classes[i];
        if (!c->pools)
            continue;
        fprintf(out, "%5u %6u %11llu %15llu %13llu\n", i, c->block_size,
                (unsigned long long)c->pools, (unsigned long long)c->blocks_in_use,
                (unsigned long long)c->blocks_free);
        allocated += c->blocks_in_use * c->block_size;
        available += c->blocks_free * c->block_size;
        headers += c->pools * h->pool_overhead;
        quantization += c->pools * ((h->pool_size - h->pool_overhead) % c->block_size);
    }
    fputc('\n', out);
    char buf[128];
    pm_printone(out, "# arenas allocated total", h->ntimes_arena_allocated);
    pm_printone(out, "# arenas reclaimed", h->ntimes_arena_allocated - h->narenas);
    pm_printone(out, "# arenas highwater mark", h->narenas_highwater);
    pm_printone(out, "# arenas allocated current", h->narenas);
    snprintf(buf, sizeof buf, "%zu arenas * %u bytes/arena", h->narenas, h->arena_size);
    pm_printone(out, buf, (uint64_t)h->narenas * h->arena_size);
    fputc('\n', out);
    uint64_t total = pm_printone(out, "# bytes in allocated blocks", allocated);
    total += pm_printone(out, "# bytes in available blocks", available);
    snprintf(buf, sizeof buf, "%llu unused pools * %u bytes", (unsigned long long)h->unused_pools,
             h->pool_size);
    total += pm_printone(out, buf, h->unused_pools * h->pool_size);
    total += pm_printone(out, "# bytes lost to pool headers", headers);
    total += pm_printone(out, "# bytes lost to quantization", quantization);
    total += pm_printone(out, "# bytes lost to arena alignment",
                      h->misaligned_arenas * h->pool_size);
    pm_printone(out, "Total", total);
    if (h->has_radix_tree) {
        fputs("\narena map counts\n", out);
        pm_printone(out, "# arena map mid nodes", h->arena_map_mid_count);
        pm_printone(out, "# arena map bot nodes", h->arena_map_bot_count);
        fputc('\n', out);
        total = pm_printone(out, "# bytes lost to arena map root", h->arena_map_root_size);
        total += pm_printone(out, "# bytes lost to arena map mid",
                          h->arena_map_mid_size * h->arena_map_mid_count);
        total += pm_printone(out, "# bytes lost to arena map bot",
                          h->arena_map_bot_size * h->arena_map_bot_count);
        pm_printone(out, "Total", total);
    }
    /* sys._debugmallocstats() then prints a blank line and the type stats. */
    fputc('\n', out);
    for (size_t i = 0; i < nfl; i++)
        pm_print_freelist(out, &fl[i]);
    return st;
}

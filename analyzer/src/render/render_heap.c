/* The arenas, pools and whereis views, as text tables or JSON. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "layout.h"
#include "obmalloc.h"
#include "pm.h"
#include "render_mimalloc.h"
#include "render_json.h"

static const char *const pool_state_names[] = {"used", "full", "empty"};

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void partial_footer(pymac_session *s, FILE *out, int partial)
{
    if (partial)
        fputs("PARTIAL: some of the heap could not be read; see the warnings\n", out);
    pymac_render_warnings(s, out);
}

pymac_status pymac_render_arenas(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err)
{
    if (s->layout->free_threaded)
        return pm_mi_render_arenas(s, fmt, out, err);
    const pymac_pymalloc *h;
    pymac_status st = pymac_pymalloc_walk(s, &h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    uint64_t pools = 0, used = 0, full = 0, empty = 0, blocks = 0, bytes = 0;
    for (size_t i = 0; i < h->narenas; i++) {
        const pymac_arena *a = &h->arenas[i];
        pools += a->pools_total;
        used += a->pools_used;
        full += a->pools_full;
        empty += a->pools_empty;
        blocks += a->blocks_in_use;
        bytes += a->bytes_in_use;
    }
    uint64_t capacity = (uint64_t)h->narenas * h->arena_size;
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"arena_size\": %u, \"pool_size\": %u, \"arenas\": [", h->arena_size,
                h->pool_size);
        for (size_t i = 0; i < h->narenas; i++) {
            const pymac_arena *a = &h->arenas[i];
            fprintf(out,
                    "%s\n  {\"index\": %u, \"address\": \"0x%llx\", \"pools_total\": %u, "
                    "\"pools_used\": %u, \"pools_full\": %u, \"pools_empty\": %u, "
                    "\"pools_never_used\": %u, \"blocks_in_use\": %llu, \"bytes_in_use\": %llu, "
                    "\"fill_percent\": %.2f}",
                    i ? "," : "", a->index, (unsigned long long)a->address, a->pools_total,
                    a->pools_used, a->pools_full, a->pools_empty,
                    a->pools_total - a->pools_carved, (unsigned long long)a->blocks_in_use,
                    (unsigned long long)a->bytes_in_use, pct(a->bytes_in_use, h->arena_size));
        }
        fprintf(out,
                "],\n \"totals\": {\"arenas\": %zu, \"pools_total\": %llu, \"pools_used\": %llu, "
                "\"pools_full\": %llu, \"pools_empty\": %llu, \"blocks_in_use\": %llu, "
                "\"bytes_in_use\": %llu, \"bytes_mapped\": %llu, \"fill_percent\": %.2f},\n "
                "\"partial\": %s, ",
                h->narenas, (unsigned long long)pools, (unsigned long long)used,
                (unsigned long long)full, (unsigned long long)empty, (unsigned long long)blocks,
                (unsigned long long)bytes, (unsigned long long)capacity, pct(bytes, capacity),
                h->partial ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return st;
    }
    fprintf(out, "%5s  %-18s  %5s  %5s  %5s  %5s  %13s  %13s  %6s\n", "index", "address",
            "pools", "used", "full", "empty", "blocks in use", "bytes in use", "fill%");
    for (size_t i = 0; i < h->narenas; i++) {
        const pymac_arena *a = &h->arenas[i];
        fprintf(out, "%5u  0x%016llx  %5u  %5u  %5u  %5u  %13llu  %13llu  %5.1f%%\n", a->index,
                (unsigned long long)a->address, a->pools_total, a->pools_used, a->pools_full,
                a->pools_empty, (unsigned long long)a->blocks_in_use,
                (unsigned long long)a->bytes_in_use, pct(a->bytes_in_use, h->arena_size));
    }
    fprintf(out, "%5s  %-18s  %5llu  %5llu  %5llu  %5llu  %13llu  %13llu  %5.1f%%\n", "total",
            "", (unsigned long long)pools, (unsigned long long)used, (unsigned long long)full,
            (unsigned long long)empty, (unsigned long long)blocks, (unsigned long long)bytes,
            pct(bytes, capacity));
    fprintf(out, "%zu arenas of %u KiB, pools of %u KiB\n", h->narenas, h->arena_size / 1024,
            h->pool_size / 1024);
    partial_footer(s, out, h->partial);
    return st;
}

static bool pool_selected(const pymac_pymalloc *h, const pymac_pool *p, const pymac_pool_filter *f)
{
    if (f && f->size_class >= 0 && (p->state == PYMAC_POOL_EMPTY || (int)p->size_class != f->size_class))
        return false;
    if (f && f->arena) {
        const pymac_arena *a = NULL;
        for (size_t i = 0; i < h->narenas && !a; i++)
            if (h->arenas[i].index == p->arena_index)
                a = &h->arenas[i];
        if (!a || a->address != f->arena)
            return false;
    }
    return true;
}

/* Checks a used pool's free list against the counts its header gives. */
static bool pool_consistent(pymac_session *s, const pymac_pymalloc *h, const pymac_pool *p)
{
    if (p->state != PYMAC_POOL_USED)
        return true;
    uint32_t chain;
    return pm_pool_free_list(s, h, p, NULL, &chain) == PYMAC_OK &&
           chain == p->blocks_free_listed;
}

pymac_status pymac_render_pools(pymac_session *s, const pymac_pool_filter *filter,
                                pymac_format fmt, FILE *out, pymac_error *err)
{
    if (s->layout->free_threaded)
        return pm_mi_render_pools(s, filter, fmt, out, err);
    const pymac_pymalloc *h;
    pymac_status st = pymac_pymalloc_walk(s, &h, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (filter && filter->arena) {
        bool found = false;
        for (size_t i = 0; i < h->narenas && !found; i++)
            found = h->arenas[i].address == filter->arena;
        if (!found)
            return pm_fail(err, PYMAC_E_ADDRESS, "list arena addresses with: pymac-analyze arenas",
                           "no pymalloc arena starts at 0x%llx",
                           (unsigned long long)filter->arena);
    }
    if (filter && filter->size_class >= (int)h->nclasses)
        return pm_fail(err, PYMAC_E_USAGE, NULL, "size class %d out of range 0..%u",
                       filter->size_class, h->nclasses - 1);
    int partial = h->partial;
    uint64_t n = 0, in_use = 0, total = 0;
    if (fmt == PYMAC_JSON)
        fprintf(out, "{\"pool_size\": %u, \"pools\": [", h->pool_size);
    else
        fprintf(out, "%-18s  %5s  %5s  %5s  %9s  %9s  %9s  %5s\n", "address", "arena", "class",
                "size", "in use", "total", "free list", "state");
    for (size_t i = 0; i < h->npools; i++) {
        const pymac_pool *p = &h->pools[i];
        if (!pool_selected(h, p, filter))
            continue;
        if (!pool_consistent(s, h, p)) {
            pm_warn(s, "pool 0x%llx: its free list disagrees with its header",
                    (unsigned long long)p->address);
            partial = 1;
        }
        in_use += p->blocks_in_use;
        total += p->blocks_total;
        bool empty = p->state == PYMAC_POOL_EMPTY;
        if (fmt == PYMAC_JSON) {
            fprintf(out,
                    "%s\n  {\"address\": \"0x%llx\", \"arena_index\": %u, \"size_class\": ",
                    n ? "," : "", (unsigned long long)p->address, p->arena_index);
            if (empty)
                fputs("null, \"block_size\": null", out);
            else
                fprintf(out, "%u, \"block_size\": %u", p->size_class, p->block_size);
            fprintf(out,
                    ", \"blocks_in_use\": %u, \"blocks_total\": %u, \"blocks_free_listed\": %u, "
                    "\"blocks_never_used\": %u, \"state\": \"%s\"}",
                    p->blocks_in_use, p->blocks_total, p->blocks_free_listed,
                    p->blocks_never_used, pool_state_names[p->state]);
        } else if (empty) {
            fprintf(out, "0x%016llx  %5u  %5s  %5s  %9u  %9s  %9s  %5s\n",
                    (unsigned long long)p->address, p->arena_index, "-", "-", 0u, "-", "-",
                    "empty");
        } else {
            fprintf(out, "0x%016llx  %5u  %5u  %5u  %9u  %9u  %9u  %5s\n",
                    (unsigned long long)p->address, p->arena_index, p->size_class, p->block_size,
                    p->blocks_in_use, p->blocks_total, p->blocks_free_listed,
                    pool_state_names[p->state]);
        }
        n++;
    }
    if (fmt == PYMAC_JSON) {
        fprintf(out,
                "],\n \"totals\": {\"pools\": %llu, \"blocks_in_use\": %llu, \"blocks_total\": "
                "%llu},\n \"partial\": %s, ",
                (unsigned long long)n, (unsigned long long)in_use, (unsigned long long)total,
                partial ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%llu pools, %llu blocks in use of %llu\n", (unsigned long long)n,
                (unsigned long long)in_use, (unsigned long long)total);
        partial_footer(s, out, partial);
    }
    return partial ? PYMAC_PARTIAL : st;
}

static const char *const where_names[] = {"unmapped", "not in pymalloc", "arena slack",
                                          "pool header", "block"};

pymac_status pymac_render_whereis(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                                  pymac_error *err)
{
    if (s->layout->free_threaded)
        return pm_mi_render_whereis(s, addr, fmt, out, err);
    pymac_whereis w;
    pymac_status st = pymac_whereis_address(s, addr, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    const char *state = w.kind != PYMAC_WHERE_BLOCK ? NULL : w.in_use ? "in use" : "free";
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"address\": \"0x%llx\", \"where\": ", (unsigned long long)addr);
        pm_json_str(out, where_names[w.kind]);
        if (w.kind >= PYMAC_WHERE_ARENA_SLACK)
            fprintf(out, ", \"arena\": \"0x%llx\", \"arena_index\": %u",
                    (unsigned long long)w.arena, w.arena_index);
        if (w.kind >= PYMAC_WHERE_POOL_HEADER)
            fprintf(out, ", \"pool\": \"0x%llx\", \"pool_state\": \"%s\"",
                    (unsigned long long)w.pool, pool_state_names[w.pool_state]);
        if (w.kind == PYMAC_WHERE_BLOCK && w.block_size)
            fprintf(out,
                    ", \"size_class\": %u, \"block_size\": %u, \"block\": \"0x%llx\", "
                    "\"block_index\": %u, \"offset_in_block\": %u",
                    w.size_class, w.block_size, (unsigned long long)w.block, w.block_index,
                    w.offset_in_block);
        if (state) {
            fprintf(out, ", \"in_use\": %s, \"free_reason\": ", w.in_use ? "true" : "false");
            pm_json_str(out, w.free_reason);
        }
        if (s->pymalloc && s->pymalloc->has_radix_tree)
            fprintf(out, ", \"arena_map\": %s", w.radix_confirmed ? "true" : "false");
        fprintf(out, ", \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return st;
    }
    fprintf(out, "0x%llx: %s", (unsigned long long)addr, where_names[w.kind]);
    if (w.kind >= PYMAC_WHERE_ARENA_SLACK)
        fprintf(out, "\n  arena       0x%llx (index %u)", (unsigned long long)w.arena,
                w.arena_index);
    if (w.kind >= PYMAC_WHERE_POOL_HEADER)
        fprintf(out, "\n  pool        0x%llx (%s)", (unsigned long long)w.pool,
                pool_state_names[w.pool_state]);
    if (w.kind == PYMAC_WHERE_BLOCK && w.block_size)
        fprintf(out,
                "\n  size class  %u (%u-byte blocks)\n  block       0x%llx (index %u, offset %u)",
                w.size_class, w.block_size, (unsigned long long)w.block, w.block_index,
                w.offset_in_block);
    if (state)
        fprintf(out, "\n  state       %s%s%s", state, w.free_reason ? ": " : "",
                w.free_reason ? w.free_reason : "");
    if (s->pymalloc && s->pymalloc->has_radix_tree)
        fprintf(out, "\n  arena map   %s", w.radix_confirmed ? "in a pymalloc arena" :
                                                              "not in a pymalloc arena");
    fputc('\n', out);
    partial_footer(s, out, st == PYMAC_PARTIAL);
    return st;
}

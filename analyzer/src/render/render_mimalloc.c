/* The arenas and pools views of a free-threaded CPython: mimalloc's
 * segments and pages (mimalloc.c), with "allocator": "mimalloc". */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mimalloc.h"
#include "render_mimalloc.h"
#include "render_json.h"

static uint64_t native_id(const pm_mi_walk *w, uint32_t thread)
{
    return thread < w->nthreads ? w->threads[thread].native_id : 0;
}

static void footer(pymac_session *s, FILE *out, bool partial)
{
    if (partial)
        fputs("PARTIAL: some of the heaps could not be read; see the warnings\n", out);
    pymac_render_warnings(s, out);
}

pymac_status pm_mi_render_arenas(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err)
{
    const pm_mi_walk *w;
    pymac_status st = pm_mi_session_walk(s, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    /* blocks and bytes in use per segment, from its pages */
    uint64_t *blocks = calloc(w->nsegs + 1, sizeof *blocks), *bytes = calloc(w->nsegs + 1, 8);
    if (!blocks || !bytes) {
        free(blocks);
        free(bytes);
        return pm_nomem(err);
    }
    for (size_t i = 0, j = 0; i < w->npages; i++) {
        while (j < w->nsegs && w->segs[j].addr < w->pages[i].segment)
            j++;
        if (j < w->nsegs && w->segs[j].addr == w->pages[i].segment) {
            blocks[j] += w->pages[i].live;
            bytes[j] += w->pages[i].live * w->pages[i].block_size;
        }
    }
    uint64_t tb = 0, tby = 0, tsize = 0;
    for (size_t i = 0; i < w->nsegs; i++) {
        tb += blocks[i];
        tby += bytes[i];
        tsize += w->segs[i].size;
    }
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"allocator\": \"mimalloc\", \"slice_size\": %llu, \"segment_size\": %llu, "
                "\"segments\": [", (unsigned long long)w->slice_size,
                (unsigned long long)w->seg_align);
        for (size_t i = 0; i < w->nsegs; i++) {
            const pm_mi_segment *g = &w->segs[i];
            fprintf(out,
                    "%s\n  {\"address\": \"0x%llx\", \"size\": %llu, \"kind\": \"%s\", "
                    "\"pages_used\": %llu, \"object_heap_pages\": %u, \"abandoned\": %s, "
                    "\"thread\": %llu, \"blocks_in_use\": %llu, \"bytes_in_use\": %llu}",
                    i ? "," : "", (unsigned long long)g->addr, (unsigned long long)g->size,
                    g->size > w->seg_align ? "huge" : "normal", (unsigned long long)g->used,
                    g->pages, g->abandoned ? "true" : "false",
                    (unsigned long long)native_id(w, g->thread), (unsigned long long)blocks[i],
                    (unsigned long long)bytes[i]);
        }
        fprintf(out,
                "],\n \"totals\": {\"segments\": %zu, \"abandoned\": %llu, \"pages\": %zu, "
                "\"blocks_in_use\": %llu, \"bytes_in_use\": %llu, \"bytes_mapped\": %llu},\n "
                "\"partial\": %s, ",
                w->nsegs, (unsigned long long)w->abandoned_segments, w->npages,
                (unsigned long long)tb, (unsigned long long)tby, (unsigned long long)tsize,
                w->partial ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%-18s  %10s  %-6s  %5s  %-12s  %13s  %13s\n", "segment", "size", "kind",
                "pages", "owner", "blocks in use", "bytes in use");
        for (size_t i = 0; i < w->nsegs; i++) {
            const pm_mi_segment *g = &w->segs[i];
            char owner[32];
            if (g->abandoned)
                snprintf(owner, sizeof owner, "abandoned");
            else
                snprintf(owner, sizeof owner, "LWP %llu",
                         (unsigned long long)native_id(w, g->thread));
            fprintf(out, "0x%016llx  %10llu  %-6s  %5llu  %-12s  %13llu  %13llu\n",
                    (unsigned long long)g->addr, (unsigned long long)g->size,
                    g->size > w->seg_align ? "huge" : "normal", (unsigned long long)g->used,
                    owner, (unsigned long long)blocks[i], (unsigned long long)bytes[i]);
        }
        fprintf(out, "%-18s  %10llu  %-6s  %5zu  %-12s  %13llu  %13llu\n", "total",
                (unsigned long long)tsize, "", w->npages, "", (unsigned long long)tb,
                (unsigned long long)tby);
        fprintf(out, "allocator: mimalloc; %zu segments (%llu abandoned), slices of %llu KiB\n",
                w->nsegs, (unsigned long long)w->abandoned_segments,
                (unsigned long long)w->slice_size / 1024);
        footer(s, out, w->partial);
    }
    free(blocks);
    free(bytes);
    return st;
}

pymac_status pm_mi_render_pools(pymac_session *s, const pymac_pool_filter *filter,
                                pymac_format fmt, FILE *out, pymac_error *err)
{
    const pm_mi_walk *w;
    pymac_status st = pm_mi_session_walk(s, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    uint64_t seg = filter ? filter->arena : 0;
    if (seg) {
        bool found = false;
        for (size_t i = 0; i < w->nsegs && !found; i++)
            found = w->segs[i].addr == seg;
        if (!found)
            return pm_fail(err, PYMAC_E_ADDRESS, "list segment addresses with: pymac-analyze arenas",
                           "no mimalloc segment starts at 0x%llx", (unsigned long long)seg);
    }
    if (fmt == PYMAC_JSON)
        fputs("{\"allocator\": \"mimalloc\", \"pages\": [", out);
    else
        fprintf(out, "%-18s  %-18s  %-6s  %-12s  %8s  %5s  %5s  %5s  %5s  %5s  %5s  %5s\n", "page",
                "segment", "heap", "owner", "block", "cap", "used", "live", "free", "local",
                "thread", "delay");
    size_t n = 0;
    uint64_t live = 0, bytes = 0;
    for (size_t i = 0; i < w->npages; i++) {
        const pm_mi_page *p = &w->pages[i];
        if (seg && p->segment != seg)
            continue;
        live += p->live;
        bytes += p->live * p->block_size;
        if (fmt == PYMAC_JSON) {
            fprintf(out,
                    "%s\n  {\"address\": \"0x%llx\", \"segment\": \"0x%llx\", \"heap\": \"%s\", "
                    "\"thread\": %llu, \"abandoned\": %s, \"block_size\": %llu, \"capacity\": %u, "
                    "\"reserved\": %u, \"used\": %u, \"blocks_in_use\": %u, \"free\": %u, "
                    "\"local_free\": %u, \"thread_free\": %u, \"delayed_free\": %u, "
                    "\"delayed_flag\": %u, \"bad\": %s}",
                    n ? "," : "", (unsigned long long)p->addr, (unsigned long long)p->segment,
                    pm_mi_heap_name(p->kind), (unsigned long long)native_id(w, p->thread),
                    p->abandoned ? "true" : "false", (unsigned long long)p->block_size,
                    p->capacity, p->reserved, p->used, p->live, p->nfree, p->nlocal, p->nthread,
                    p->ndelayed, p->delayed_flag, p->bad ? "true" : "false");
        } else {
            char owner[32];
            if (p->abandoned)
                snprintf(owner, sizeof owner, "abandoned");
            else
                snprintf(owner, sizeof owner, "LWP %llu",
                         (unsigned long long)native_id(w, p->thread));
            fprintf(out, "0x%016llx  0x%016llx  %-6s  %-12s  %8llu  %5u  %5u  %5u  %5u  %5u  %5u  "
                    "%5u%s\n",
                    (unsigned long long)p->addr, (unsigned long long)p->segment,
                    pm_mi_heap_name(p->kind), owner, (unsigned long long)p->block_size,
                    p->capacity, p->used, p->live, p->nfree, p->nlocal, p->nthread, p->ndelayed,
                    p->bad ? "  BAD" : "");
        }
        n++;
    }
    if (fmt == PYMAC_JSON) {
        fprintf(out, "],\n \"totals\": {\"pages\": %zu, \"blocks_in_use\": %llu, "
                "\"bytes_in_use\": %llu},\n \"partial\": %s, ",
                n, (unsigned long long)live, (unsigned long long)bytes,
                w->partial ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%zu pages, %llu blocks in use, %llu bytes\n", n, (unsigned long long)live,
                (unsigned long long)bytes);
        footer(s, out, w->partial);
    }
    return st;
}

/* Why a block is not in use (the bitmap does not say which free list). */
static const char *free_reason(const pm_mi_page *p, uint32_t b)
{
    return p->bad                ? "unknown (the page's free lists are damaged)"
           : b >= p->capacity ? "free: never used (past the page's capacity)"
                              : "free: on one of the page's free lists";
}

pymac_status pm_mi_render_whereis(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                                  pymac_error *err)
{
    const pm_mi_walk *w;
    pymac_status st = pm_mi_session_walk(s, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (!pm_mapped(s, addr)) /* as the default build's whereis says it */
        return pm_fail(err, PYMAC_E_ADDRESS, "give an address inside the process's memory",
                       "0x%llx is not mapped in the process", (unsigned long long)addr);
    const pm_mi_page *p = pm_mi_page_of(w, addr);
    /* no page: in a segment's own header or its free slices, or elsewhere */
    const pm_mi_segment *g = p ? NULL : pm_mi_segment_of(w, addr);
    const char *where = p ? "block" : g ? "segment" : "not mimalloc";
    uint32_t b = 0;
    uint64_t block = 0;
    bool in_use = false;
    if (p && p->block_size) {
        b = (uint32_t)((addr - p->start) / p->block_size);
        block = p->start + (uint64_t)b * p->block_size;
        in_use = !p->bad && !pm_mi_block_free(w, p, b);
    }
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"address\": \"0x%llx\", \"allocator\": \"mimalloc\", \"where\": \"%s\"",
                (unsigned long long)addr, where);
        if (p)
            fprintf(out,
                    ", \"segment\": \"0x%llx\", \"page\": \"0x%llx\", \"heap\": \"%s\", "
                    "\"thread\": %llu, \"abandoned\": %s, \"block_size\": %llu, \"block\": "
                    "\"0x%llx\", \"block_index\": %u, \"offset_in_block\": %llu, \"in_use\": %s",
                    (unsigned long long)p->segment, (unsigned long long)p->addr,
                    pm_mi_heap_name(p->kind), (unsigned long long)native_id(w, p->thread),
                    p->abandoned ? "true" : "false", (unsigned long long)p->block_size,
                    (unsigned long long)block, b, (unsigned long long)(addr - block),
                    in_use ? "true" : "false");
        if (g)
            fprintf(out, ", \"segment\": \"0x%llx\", \"in_use\": false",
                    (unsigned long long)g->addr);
        fprintf(out, ", \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return st;
    }
    fprintf(out, "address     0x%llx\n", (unsigned long long)addr);
    if (g) {
        fprintf(out,
                "segment     0x%llx%s\nwhere       in no block of a page: the segment's header, "
                "room before a page's first block, or free slices\nstate       free\n",
                (unsigned long long)g->addr, g->abandoned ? " (abandoned)" : "");
    } else if (!p) {
        fprintf(out, "where       mapped, but in no segment of the mimalloc heaps walked\n");
    } else {
        fprintf(out,
                "segment     0x%llx%s\npage        0x%llx (%s heap, %s, blocks of %llu bytes)\n"
                "block       0x%llx (#%u, offset %llu)\nstate       %s\n",
                (unsigned long long)p->segment, p->abandoned ? " (abandoned)" : "",
                (unsigned long long)p->addr, pm_mi_heap_name(p->kind),
                p->abandoned ? "no owner" : "owned by a thread", (unsigned long long)p->block_size,
                (unsigned long long)block, b, (unsigned long long)(addr - block),
                in_use ? "in use" : free_reason(p, b));
    }
    footer(s, out, st == PYMAC_PARTIAL);
    return st;
}

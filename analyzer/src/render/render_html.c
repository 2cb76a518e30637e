/* report --html: the report as one self-contained page (inline CSS and SVG,
 * no script, and a Content-Security-Policy that forbids any fetch), for a
 * browser. Everything drawn is aggregated: one cell per pool slot of at most
 * MAX_ROWS rows of arenas (arenas share a row beyond that), one bar per type
 * of the largest; never one element per object, so the page of a core of
 * millions of objects stays small. */
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "layout.h"
#include "leaks.h"
#include "pm.h"
#include "render_html.h"
#include "retain.h"
#include "treemap.h"

/* a heap map cell is CELL_W x ROW_H pixels; the arena's address goes left of its row */
enum { MAX_ROWS = 128, MAX_SLOTS = 256, TOP_TYPES = 20, TOP_SUSPECTS = 10, CELL_W = 12, ROW_H = 14,
       LABEL_W = 130, TOP_RETAINERS = 30, MAP_W = 1000, MAP_H = 420 };

static void esc(FILE *out, const char *t)
{
    for (; t && *t; t++) {
        switch (*t) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*t >= 0x20 || *t == '\n')
                fputc(*t, out);
        }
    }
}

static const char STYLE[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
    "h1{font-size:1.6em;margin:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:right}"
    "th{background:#eee}td:first-child,th:first-child{text-align:left}"
    "tr:nth-child(even) td{background:#f7f7f7}code,pre{font:12px/1.3 monospace}"
    "pre.path{margin:0;white-space:pre-wrap;text-align:left}.note{color:#666}.warn{color:#a40}"
    "svg text{font:11px sans-serif}.legend span{display:inline-block;width:14px;height:10px;"
    "margin:0 4px 0 12px}";

/* Fill 0..1 as a colour: pale yellow (empty) to dark red (full). */
static void fill_colour(FILE *out, double f)
{
    int r = (int)(255 - 90 * f), g = (int)(240 - 200 * f), b = (int)(190 - 170 * f);
    fprintf(out, "#%02x%02x%02x", r, g, b);
}

/* Slot of a pool in its arena (pools start at the first pool-aligned address). */
static long pool_slot(const pymac_pymalloc *h, const pymac_arena *a, const pymac_pool *p)
{
    uint64_t first = (a->address + h->pool_size - 1) / h->pool_size * h->pool_size;
    if (p->address < first)
        return -1;
    uint64_t i = (p->address - first) / h->pool_size;
    return i < a->pools_total && i < MAX_SLOTS ? (long)i : -1;
}

void pm_html_heap_map(FILE *out, const pymac_pymalloc *h)
{
    size_t per_row = (h->narenas + MAX_ROWS - 1) / MAX_ROWS;
    if (per_row == 0)
        per_row = 1;
    size_t rows = (h->narenas + per_row - 1) / per_row;
    uint32_t slots = 0;
    for (size_t i = 0; i < h->narenas; i++)
        if (h->arenas[i].pools_total > slots)
            slots = h->arenas[i].pools_total;
    if (slots > MAX_SLOTS)
        slots = MAX_SLOTS;
    fprintf(out, "<p>Each row is %s, each cell a pool: colour by fill (blocks in use of the "
                 "pool's blocks), grey for an empty pool, none where no pool was carved. Hover "
                 "for the size class.</p>\n",
            per_row == 1 ? "an arena" : "a group of arenas (the average of each pool slot)");
    fprintf(out, "<svg id=\"heap-map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
                 "height=\"%zu\" role=\"img\" aria-label=\"pymalloc heap map\">\n",
            LABEL_W + slots * CELL_W, rows * ROW_H + 4);
    double *fill = calloc(slots ? slots : 1, sizeof *fill);
    unsigned *carved = calloc(slots ? slots : 1, sizeof *carved);
    unsigned *empty = calloc(slots ? slots : 1, sizeof *empty);
    for (size_t r = 0; fill && carved && empty && r < rows; r++) {
        size_t lo = r * per_row, hi = lo + per_row < h->narenas ? lo + per_row : h->narenas;
        memset(fill, 0, slots * sizeof *fill);
        memset(carved, 0, slots * sizeof *carved);
        memset(empty, 0, slots * sizeof *empty);
        const pymac_pool *one[MAX_SLOTS] = {0};
        for (size_t k = lo; k < hi; k++) {
            const pymac_arena *a = &h->arenas[k];
            for (size_t j = 0; j < a->npools && a->first_pool + j < h->npools; j++) {
                const pymac_pool *p = &h->pools[a->first_pool + j];
                long s = pool_slot(h, a, p);
                if (s < 0 || (uint32_t)s >= slots)
                    continue;
                carved[s]++;
                one[s] = p;
                if (p->state == PYMAC_POOL_EMPTY)
                    empty[s]++;
                else if (p->blocks_total)
                    fill[s] += (double)p->blocks_in_use / p->blocks_total;
            }
        }
        fprintf(out, "<g class=\"arena\" data-arenas=\"%zu\" data-address=\"0x%llx\">"
                     "<text x=\"0\" y=\"%zu\">0x%llx</text>\n",
                hi - lo, (unsigned long long)h->arenas[lo].address, r * ROW_H + ROW_H - 3,
                (unsigned long long)h->arenas[lo].address);
        for (uint32_t s = 0; s < slots; s++) {
            if (!carved[s])
                continue;
            fprintf(out, "<rect x=\"%u\" y=\"%zu\" width=\"%d\" height=\"%d\" fill=\"",
                    LABEL_W + s * CELL_W, r * ROW_H + 1, CELL_W - 2, ROW_H - 2);
            if (empty[s] == carved[s])
                fputs("#ccc", out);
            else
                fill_colour(out, fill[s] / (carved[s] - empty[s]));
            if (per_row == 1) {
                const pymac_pool *p = one[s];
                if (p->state == PYMAC_POOL_EMPTY)
                    fprintf(out, "\"><title>pool 0x%llx: empty</title></rect>\n",
                            (unsigned long long)p->address);
                else
                    fprintf(out, "\"><title>pool 0x%llx: size class %u (%u-byte blocks), %u of "
                                 "%u blocks in use</title></rect>\n",
                            (unsigned long long)p->address, p->size_class, p->block_size,
                            p->blocks_in_use, p->blocks_total);
            } else {
                fprintf(out, "\"><title>pool slot %u of %zu arenas: %u carved, %u empty, "
                             "%.0f%% full on average</title></rect>\n",
                        s, hi - lo, carved[s], empty[s],
                        carved[s] > empty[s] ? 100 * fill[s] / (carved[s] - empty[s]) : 0.0);
            }
        }
        fputs("</g>\n", out);
    }
    free(fill);
    free(carved);
    free(empty);
    fputs("</svg>\n<p class=\"legend\">empty pool<span style=\"background:#ccc\"></span> "
          "fill 0%<span style=\"background:", out);
    fill_colour(out, 0);
    fputs("\"></span> 50%<span style=\"background:", out);
    fill_colour(out, 0.5);
    fputs("\"></span> 100%<span style=\"background:", out);
    fill_colour(out, 1);
    fputs("\"></span></p>\n", out);
}

static void size_classes(FILE *out, const pymac_pymalloc *h)
{
    fputs("<table id=\"size-classes\"><tr><th>size class</th><th>block size</th><th>pools</th>"
          "<th>blocks in use</th><th>bytes in use</th><th>free blocks</th></tr>\n", out);
    for (uint32_t i = 0; i < h->nclasses; i++) {
        const pymac_size_class *c = &h->classes[i];
        if (!c->pools)
            continue;
        fprintf(out, "<tr><td>%u</td><td>%u</td><td>%llu</td><td>%llu</td><td>%llu</td>"
                     "<td>%llu</td></tr>\n",
                i, c->block_size, (unsigned long long)c->pools,
                (unsigned long long)c->blocks_in_use,
                (unsigned long long)(c->blocks_in_use * c->block_size),
                (unsigned long long)c->blocks_free);
    }
    fputs("</table>\n", out);
}

static void types_chart(FILE *out, const pymac_census *c)
{
    size_t n = c->nrows < TOP_TYPES ? c->nrows : TOP_TYPES;
    uint64_t max = n ? c->rows[0].bytes : 1;
    fprintf(out, "<svg id=\"types-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" "
                 "height=\"%zu\" role=\"img\" aria-label=\"largest types by bytes\">\n",
            n * 18 + 4);
    for (size_t i = 0; i < n; i++) {
        const pymac_type_count *r = &c->rows[i];
        double w = max ? 560.0 * (double)r->bytes / (double)max : 0;
        fprintf(out, "<g class=\"type-bar\"><text x=\"0\" y=\"%zu\">", i * 18 + 13);
        esc(out, r->name);
        fprintf(out, "</text><rect x=\"220\" y=\"%zu\" width=\"%.1f\" height=\"14\" "
                     "fill=\"#4a7ab5\"><title>",
                i * 18 + 2, w < 1 ? 1 : w);
        esc(out, r->name);
        fprintf(out, ": %llu objects, %llu bytes</title></rect><text x=\"%.1f\" y=\"%zu\">"
                     "%llu bytes, %llu objects</text></g>\n",
                (unsigned long long)r->count, (unsigned long long)r->bytes, 226 + (w < 1 ? 1 : w),
                i * 18 + 13, (unsigned long long)r->bytes, (unsigned long long)r->count);
    }
    fputs("</svg>\n", out);
}

static void types_table(FILE *out, const pymac_census *c)
{
    size_t n = c->nrows < TOP_TYPES ? c->nrows : TOP_TYPES;
    fputs("<table id=\"types\"><tr><th>type</th><th>objects</th><th>bytes</th>"
          "<th>avg size</th></tr>\n", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", out);
        esc(out, c->rows[i].name);
        fprintf(out, "</td><td>%llu</td><td>%llu</td><td>%.1f</td></tr>\n",
                (unsigned long long)c->rows[i].count, (unsigned long long)c->rows[i].bytes,
                (double)c->rows[i].bytes / (double)c->rows[i].count);
    }
    fputs("</table>\n", out);
}

/* The path view's text for addr, or why there is none. */
static void path_of(FILE *out, pymac_session *s, uint64_t addr)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    pymac_error err = {0};
    pymac_status st = mem ? pymac_render_path(s, addr, PYMAC_TEXT, mem, &err) : PYMAC_E_NOMEM;
    if (mem)
        fclose(mem);
    fputs("<pre class=\"path\">", out);
    if (st <= PYMAC_PARTIAL)
        esc(out, text);
    else
        esc(out, err.message[0] ? err.message : "no path");
    fputs("</pre>", out);
    free(text);
}

/* A colour per type name (a hash of it on a palette of muted hues). */
static const char *type_colour(const char *name)
{
    static const char *const palette[] = {"#8fb3d9", "#e3a77a", "#9cc98f", "#d99191", "#b7a3d6",
                                          "#c9b38a", "#e0a6c8", "#a6a6a6", "#c7cf7e", "#85c7c2"};
    unsigned h = 5381;
    for (const char *p = name; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return palette[h % (sizeof palette / sizeof *palette)];
}

void pm_html_treemap(FILE *out, const pm_heavy *v, size_t n)
{
    /* the top-level ones only: their retained sets are disjoint, so their
     * areas add up (one dominated by another is inside its area already) */
    double values[TOP_RETAINERS];
    size_t idx[TOP_RETAINERS], m = 0;
    for (size_t k = 0; k < n && m < TOP_RETAINERS; k++)
        if (v[k].up >= n) {
            values[m] = (double)v[k].retained_bytes;
            idx[m++] = k;
        }
    pm_rect r[TOP_RETAINERS];
    if (!m || !pm_treemap_layout(values, m, (pm_rect){0, 0, MAP_W, MAP_H}, r)) {
        fputs("<p id=\"treemap\" class=\"note\">no object retains anything beyond the roots</p>\n",
              out);
        return;
    }
    fprintf(out, "<svg id=\"treemap\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "role=\"img\" aria-label=\"top retainers\">\n", MAP_W, MAP_H, MAP_W, MAP_H);
    for (size_t j = 0; j < m; j++) {
        const pm_heavy *h = &v[idx[j]];
        fprintf(out, "<g class=\"retainer\" data-address=\"0x%llx\" data-retained=\"%llu\">"
                     "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                     "stroke=\"#fff\" stroke-width=\"2\"><title>",
                (unsigned long long)h->addr, (unsigned long long)h->retained_bytes, r[j].x, r[j].y,
                r[j].w, r[j].h, type_colour(h->type));
        esc(out, h->type);
        fprintf(out, " @0x%llx: retains %llu bytes in %llu objects</title></rect>",
                (unsigned long long)h->addr, (unsigned long long)h->retained_bytes,
                (unsigned long long)h->retained_objects);
        if (r[j].w > 70 && r[j].h > 30) { /* a label where it fits */
            fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" clip-path=\"inset(0)\">",
                    r[j].x + 5, r[j].y + 15);
            esc(out, h->type);
            fprintf(out, "</text><text x=\"%.2f\" y=\"%.2f\">%.1f KiB</text>", r[j].x + 5,
                    r[j].y + 28, (double)h->retained_bytes / 1024);
        }
        fputs("</g>\n", out);
    }
    fputs("</svg>\n", out);
}

/* The heaviest objects: the treemap, then a table of all of them. */
static void retainers(FILE *out, pymac_session *s)
{
    pm_retain *r;
    pymac_error err = {0};
    pm_heavy v[TOP_RETAINERS];
    size_t n = 0;
    if (pm_retain_shared(s, &r, &err) <= PYMAC_PARTIAL && pm_retain_paths(s, r))
        n = pm_retain_heaviest(s, r, TOP_RETAINERS, v);
    fputs("<h2>Top retainers</h2>\n<p>What freeing each object would free (it and all it "
          "dominates); an area per object that no other listed one dominates.</p>\n", out);
    pm_html_treemap(out, v, n);
    fputs("<table id=\"retainers\"><tr><th>object</th><th>address</th><th>retained bytes</th>"
          "<th>objects</th></tr>\n", out);
    for (size_t k = 0; k < n; k++) {
        fputs("<tr><td>", out);
        esc(out, v[k].type);
        fprintf(out, "</td><td><code>0x%llx</code></td><td>%llu</td><td>%llu</td></tr>\n",
                (unsigned long long)v[k].addr, (unsigned long long)v[k].retained_bytes,
                (unsigned long long)v[k].retained_objects);
    }
    fputs("</table>\n", out);
}

static void suspects(FILE *out, pymac_session *s, const char *id, const char *title,
                     const pm_leak_group *g, size_t n, bool refs)
{
    fprintf(out, "<h3>%s</h3>\n", title);
    if (!n) {
        fprintf(out, "<p id=\"%s\" class=\"note\">none</p>\n", id);
        return;
    }
    bool sites = false;
    for (size_t i = 0; i < n && i < TOP_SUSPECTS; i++)
        sites |= g[i].has_site;
    fprintf(out, "<table id=\"%s\"><tr><th>type</th><th>objects</th><th>bytes</th>%s"
                 "<th>example</th><th>%s</th>%s</tr>\n",
            id, refs ? "<th>unexplained refs</th>" : "",
            refs ? "path from a root to the example" : "",
            sites ? "<th>allocated at (tracemalloc)</th>" : "");
    for (size_t i = 0; i < n && i < TOP_SUSPECTS; i++) {
        fputs("<tr class=\"leak-row\"><td>", out);
        esc(out, g[i].name);
        fprintf(out, "</td><td>%llu</td><td>%llu</td>", (unsigned long long)g[i].objects,
                (unsigned long long)g[i].bytes);
        if (refs)
            fprintf(out, "<td>%llu</td>", (unsigned long long)g[i].refs);
        fprintf(out, "<td><code>0x%llx</code></td><td>", (unsigned long long)g[i].examples[0]);
        /* unreachable objects have no path by definition */
        if (refs && g[i].examples[0] && i < 3)
            path_of(out, s, g[i].examples[0]);
        fputs("</td>", out);
        if (sites) {
            fputs("<td class=\"site\">", out);
            if (g[i].has_site) {
                fputs("<code>", out);
                esc(out, g[i].site.filename);
                fprintf(out, ":%u</code> (%llu of %llu traced)", g[i].site.lineno,
                        (unsigned long long)g[i].site.objects,
                        (unsigned long long)g[i].site.traced);
            }
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    if (n > TOP_SUSPECTS)
        fprintf(out, "<p class=\"note\">... and %zu more types (pymac-analyze leaks)</p>\n",
                n - TOP_SUSPECTS);
}

pymac_status pymac_render_html(pymac_session *s, FILE *out, pymac_error *err)
{
    const pymac_pymalloc *h;
    const pymac_gc *gc;
    const pymac_census *c;
    pymac_status st = pymac_pymalloc_walk(s, &h, err), st2;
    if (st > PYMAC_PARTIAL)
        return st;
    if ((st2 = pymac_gc_walk(s, &gc, err)) > PYMAC_PARTIAL)
        return st2;
    st = st2 > st ? st2 : st;
    if ((st2 = pymac_census_build(s, 0, &c, err)) > PYMAC_PARTIAL)
        return st2;
    st = st2 > st ? st2 : st;
    pm_leaks lk;
    if ((st2 = pm_leaks_analyze(s, &lk, err)) > PYMAC_PARTIAL)
        return st2;
    st = st2 > st ? st2 : st;
    pymac_leaks sus;
    st2 = pm_leak_report_build(s, &lk, &sus, err);
    pm_leaks_free(&lk);
    if (st2 > PYMAC_PARTIAL)
        return st2;
    pymac_info in;
    if ((st2 = pymac_get_info(s, &in, err)) != PYMAC_OK) {
        pm_leak_report_free(&sus);
        return st2;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<title>pymac report: ", out);
    esc(out, in.core_path);
    fprintf(out, "</title>\n<style>%s</style></head><body>\n<h1>pymac report</h1>\n", STYLE);
    fputs("<p id=\"target\">", out);
    esc(out, in.core_path);
    fprintf(out, ": a %s core of <code>", in.core_kind);
    esc(out, in.executable);
    fprintf(out, "</code>, CPython <span id=\"version\">%s</span>, %u thread%s", in.python_version,
            in.nthreads, in.nthreads == 1 ? "" : "s");
    if (in.compression)
        fprintf(out, " (%s-compressed)", in.compression);
    fputs("<br>interpreter in <code>", out);
    esc(out, in.python_module);
    fputs("</code>, debug info: ", out);
    esc(out, in.debuginfod_urls ? "debuginfod" : in.debuginfo_source);
    fputs("</p>\n", out);
    if (st == PYMAC_PARTIAL || pymac_warning_count(s)) {
        fprintf(out, "<div id=\"warnings\" class=\"warn\"><p>%s</p><ul>",
                st == PYMAC_PARTIAL ? "PARTIAL: some of the heap could not be read." : "Warnings:");
        for (size_t i = 0; i < pymac_warning_count(s) && i < 50; i++) {
            fputs("<li>", out);
            esc(out, pymac_warning(s, i));
            fputs("</li>", out);
        }
        fputs("</ul></div>\n", out);
    }
    bool ft = s->layout->free_threaded; /* objects in mimalloc's segments, not pymalloc */
    const pm_heap *heap;
    if (ft && pm_heap_get(s, &heap, NULL) <= PYMAC_PARTIAL) {
        pm_heap_totals mi;
        pm_heap_totals_of(heap, &mi);
        fprintf(out, "<h2>mimalloc heap</h2>\n<p id=\"heap-summary\"><span id=\"segments\">%llu"
                     "</span> segments (%llu MiB), %llu pages, %llu blocks in use (%llu bytes)</p>\n",
                (unsigned long long)mi.regions, (unsigned long long)mi.region_bytes >> 20,
                (unsigned long long)mi.units, (unsigned long long)mi.blocks_used,
                (unsigned long long)mi.bytes_used);
    } else if (!ft) {
        uint64_t blocks = 0, bytes = 0;
        for (uint32_t i = 0; i < h->nclasses; i++) {
            blocks += h->classes[i].blocks_in_use;
            bytes += h->classes[i].blocks_in_use * h->classes[i].block_size;
        }
        fprintf(out,
                "<h2>pymalloc heap</h2>\n<p id=\"heap-summary\"><span id=\"arenas\">%zu</span> "
                "arenas (%llu MiB), %zu pools carved, %llu blocks in use (%llu bytes)</p>\n",
                h->narenas, (unsigned long long)h->narenas * h->arena_size >> 20, h->npools,
                (unsigned long long)blocks, (unsigned long long)bytes);
        pm_html_heap_map(out, h);
    }
    fprintf(out, "<h2>Largest types</h2>\n<p>Of %llu objects, %llu bytes.</p>\n",
            (unsigned long long)c->objects, (unsigned long long)c->bytes);
    types_chart(out, c);
    retainers(out, s);
    fputs("<h2>Leak suspects</h2>\n", out);
    suspects(out, s, "leak-unexplained",
             "Unexplained references (refcount above the references found: a leaked "
             "Py_INCREF?)",
             sus.unexplained, sus.nunexplained, true);
    suspects(out, s, "leak-unreachable",
             "Unreachable (on the GC lists, reached from no root: uncollected garbage)",
             sus.unreachable, sus.nunreachable, false);
    fputs("<h2>Tables</h2>\n", out);
    if (!ft) {
        fputs("<h3>Size classes</h3>\n", out);
        size_classes(out, h);
    }
    fputs("<h3>GC generations</h3>\n<table id=\"gc\"><tr><th>generation</th><th>objects</th>"
          "<th>count</th><th>threshold</th></tr>\n", out);
    for (uint32_t i = 0; i < gc->ngenerations; i++)
        fprintf(out, "<tr><td>%u</td><td>%llu</td><td>%lld</td><td>%lld</td></tr>\n", i,
                (unsigned long long)gc->generations[i].objects,
                (long long)gc->generations[i].count, (long long)gc->generations[i].threshold);
    fprintf(out, "<tr><td>permanent</td><td>%llu</td><td></td><td></td></tr></table>\n",
            (unsigned long long)gc->permanent.objects);
    fputs("<h3>Largest types</h3>\n", out);
    types_table(out, c);
    fputs("<p class=\"note\">The paths are what <code>pymac-analyze path</code> finds; "
          "allocation sites, where the process ran tracemalloc, what <code>pymac-analyze "
          "leaks</code> says. Made by pymac 0.1.0.</p>\n</body></html>\n",
          out);
    pm_leak_report_free(&sus);
    return st;
}

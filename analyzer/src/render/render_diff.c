/* diff: two censuses of the same program (two cores, or a core and a live
 * process), per type name, sorted by bytes grown; and the pymalloc totals. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pm.h"
#include "type_diff.h"

typedef struct heap_totals {
    uint64_t arenas, pools_used, pools_full, blocks, bytes;
} heap_totals;

static heap_totals totals(const pymac_pymalloc *h)
{
    heap_totals t = {h->narenas, 0, 0, 0, 0};
    for (size_t i = 0; i < h->narenas; i++) {
        t.pools_used += h->arenas[i].pools_used;
        t.pools_full += h->arenas[i].pools_full;
        t.blocks += h->arenas[i].blocks_in_use;
        t.bytes += h->arenas[i].bytes_in_use;
    }
    return t;
}

pymac_status pymac_render_diff(pymac_session *old, pymac_session *new_, pymac_format fmt,
                               FILE *out, pymac_error *err)
{
    pymac_session *ss[2] = {old, new_};
    const pymac_census *c[2];
    const pymac_pymalloc *h[2];
    pymac_status st = PYMAC_OK;
    for (int i = 0; i < 2; i++) {
        pymac_status a = pymac_census_build(ss[i], 0, &c[i], err);
        if (a > PYMAC_PARTIAL)
            return a;
        pymac_status b = pymac_pymalloc_walk(ss[i], &h[i], err);
        if (b > PYMAC_PARTIAL)
            return b;
        if (a == PYMAC_PARTIAL || b == PYMAC_PARTIAL)
            st = PYMAC_PARTIAL;
    }
    pm_type_diff td;
    pymac_status dst = pm_type_diff_build(c[0], c[1], &td, err);
    if (dst != PYMAC_OK)
        return dst;
    const pm_diff_row *rows = td.rows;
    size_t n = td.n;
    heap_totals t[2] = {totals(h[0]), totals(h[1])};
    if (fmt == PYMAC_JSON) {
        fputs("{\"types\": [", out);
        for (size_t k = 0; k < n; k++) {
            fputs(k ? ",\n  " : "\n  ", out);
            fputs("{\"type\": ", out);
            pm_json_str(out, rows[k].name);
            fprintf(out,
                    ", \"old_count\": %lld, \"new_count\": %lld, \"count_delta\": %lld, "
                    "\"old_bytes\": %lld, \"new_bytes\": %lld, \"bytes_delta\": %lld}",
                    (long long)rows[k].count[0], (long long)rows[k].count[1],
                    (long long)(rows[k].count[1] - rows[k].count[0]), (long long)rows[k].bytes[0],
                    (long long)rows[k].bytes[1], (long long)(rows[k].bytes[1] - rows[k].bytes[0]));
        }
        fputs("],\n \"pymalloc\": {", out);
        for (int k = 0; k < 2; k++)
            fprintf(out,
                    "%s\"%s\": {\"arenas\": %llu, \"pools_used\": %llu, \"pools_full\": %llu, "
                    "\"blocks_in_use\": %llu, \"bytes_in_use\": %llu}",
                    k ? ", " : "", k ? "new" : "old", (unsigned long long)t[k].arenas,
                    (unsigned long long)t[k].pools_used, (unsigned long long)t[k].pools_full,
                    (unsigned long long)t[k].blocks, (unsigned long long)t[k].bytes);
        fprintf(out, "},\n \"partial\": %s}\n", st == PYMAC_PARTIAL ? "true" : "false");
    } else {
        fprintf(out, "%-28s %11s %11s %10s %13s %13s %12s\n", "type", "old count", "new count",
                "delta", "old bytes", "new bytes", "delta bytes");
        int64_t tot[2][2] = {{0, 0}, {0, 0}};
        for (size_t k = 0; k < n; k++) {
            const pm_diff_row *d = &rows[k];
            for (int x = 0; x < 2; x++) {
                tot[x][0] += d->count[x];
                tot[x][1] += d->bytes[x];
            }
            if (d->count[0] == d->count[1] && d->bytes[0] == d->bytes[1])
                continue; /* unchanged types are noise */
            fprintf(out, "%-28.28s %11lld %11lld %+10lld %13lld %13lld %+12lld\n", d->name,
                    (long long)d->count[0], (long long)d->count[1],
                    (long long)(d->count[1] - d->count[0]), (long long)d->bytes[0],
                    (long long)d->bytes[1], (long long)(d->bytes[1] - d->bytes[0]));
        }
        fprintf(out, "%-28s %11lld %11lld %+10lld %13lld %13lld %+12lld\n", "total",
                (long long)tot[0][0], (long long)tot[1][0], (long long)(tot[1][0] - tot[0][0]),
                (long long)tot[0][1], (long long)tot[1][1], (long long)(tot[1][1] - tot[0][1]));
        fprintf(out,
                "\npymalloc      %12s %12s\n"
                "arenas        %12llu %12llu\n"
                "pools used    %12llu %12llu\n"
                "pools full    %12llu %12llu\n"
                "blocks in use %12llu %12llu\n"
                "bytes in use  %12llu %12llu\n",
                "old", "new", (unsigned long long)t[0].arenas, (unsigned long long)t[1].arenas,
                (unsigned long long)t[0].pools_used, (unsigned long long)t[1].pools_used,
                (unsigned long long)t[0].pools_full, (unsigned long long)t[1].pools_full,
                (unsigned long long)t[0].blocks, (unsigned long long)t[1].blocks,
                (unsigned long long)t[0].bytes, (unsigned long long)t[1].bytes);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(old, out);
        pymac_render_warnings(new_, out);
    }
    pm_type_diff_free(&td);
    return st;
}

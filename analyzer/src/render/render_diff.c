/* diff: pymac_diff_build's comparison of two censuses of the same program
 * (two cores, or a core and a live process), per type name, sorted by bytes
 * grown; and the pymalloc totals. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pm.h"

pymac_status pymac_render_diff(pymac_session *old, pymac_session *new_, pymac_format fmt,
                               FILE *out, pymac_error *err)
{
    pymac_diff *d;
    pymac_status st = pymac_diff_build(old, new_, &d, err);
    if (st > PYMAC_PARTIAL)
        return st;
    const pymac_type_delta *rows = d->types;
    size_t n = d->ntypes;
    const pymac_pymalloc_totals *t = d->pymalloc;
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
                    (unsigned long long)t[k].blocks_in_use, (unsigned long long)t[k].bytes_in_use);
        fprintf(out, "},\n \"partial\": %s}\n", st == PYMAC_PARTIAL ? "true" : "false");
    } else {
        fprintf(out, "%-28s %11s %11s %10s %13s %13s %12s\n", "type", "old count", "new count",
                "delta", "old bytes", "new bytes", "delta bytes");
        int64_t tot[2][2] = {{0, 0}, {0, 0}};
        for (size_t k = 0; k < n; k++) {
            const pymac_type_delta *r = &rows[k];
            for (int x = 0; x < 2; x++) {
                tot[x][0] += r->count[x];
                tot[x][1] += r->bytes[x];
            }
            if (r->count[0] == r->count[1] && r->bytes[0] == r->bytes[1])
                continue; /* unchanged types are noise */
            fprintf(out, "%-28.28s %11lld %11lld %+10lld %13lld %13lld %+12lld\n", r->name,
                    (long long)r->count[0], (long long)r->count[1],
                    (long long)(r->count[1] - r->count[0]), (long long)r->bytes[0],
                    (long long)r->bytes[1], (long long)(r->bytes[1] - r->bytes[0]));
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
                (unsigned long long)t[0].blocks_in_use, (unsigned long long)t[1].blocks_in_use,
                (unsigned long long)t[0].bytes_in_use, (unsigned long long)t[1].bytes_in_use);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(old, out);
        pymac_render_warnings(new_, out);
    }
    pymac_diff_free(d);
    return st;
}

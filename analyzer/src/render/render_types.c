/* The types view: the census as a table or a JSON list. */
#include "json.h"
#include "layout.h"
#include "pm.h"

pymac_status pymac_render_types(pymac_session *s, int gc_only, pymac_format fmt, FILE *out,
                                pymac_error *err)
{
    const pymac_census *c;
    pymac_status st = pymac_census_build(s, gc_only, &c, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (fmt == PYMAC_JSON) {
        fputc('[', out);
        for (size_t i = 0; i < c->nrows; i++) {
            fputs(i ? ",\n " : "", out);
            fputs("{\"type\": ", out);
            pm_json_str(out, c->rows[i].name);
            fprintf(out, ", \"count\": %llu, \"bytes\": %llu, \"type_address\": \"0x%llx\"}",
                    (unsigned long long)c->rows[i].count, (unsigned long long)c->rows[i].bytes,
                    (unsigned long long)c->rows[i].type);
        }
        fputs("]\n", out);
        if (st == PYMAC_PARTIAL)
            pymac_render_warnings(s, stderr);
        return st;
    }
    fprintf(out, "%-32s %12s %14s %10s\n", "type", "objects", "bytes", "avg size");
    for (size_t i = 0; i < c->nrows; i++) {
        const pymac_type_count *r = &c->rows[i];
        fprintf(out, "%-32s %12llu %14llu %10.1f\n", r->name, (unsigned long long)r->count,
                (unsigned long long)r->bytes, (double)r->bytes / (double)r->count);
    }
    fprintf(out, "%-32s %12llu %14llu\n", "total", (unsigned long long)c->objects,
            (unsigned long long)c->bytes);
    if (gc_only)
        fputs("(GC generations 0-2, as gc.get_objects(); sizes as sys.getsizeof)\n", out);
    else
        fprintf(out,
                "also: %llu free-listed objects (refcount 0, not live), %llu %s blocks "
                "(%llu bytes) holding no object\n",
                (unsigned long long)c->freelisted, (unsigned long long)c->raw_blocks,
                s->layout->free_threaded ? "mimalloc" : "pymalloc",
                (unsigned long long)c->raw_bytes);
    if (st == PYMAC_PARTIAL)
        fputs("PARTIAL: see the warnings\n", out);
    pymac_render_warnings(s, out);
    return st;
}

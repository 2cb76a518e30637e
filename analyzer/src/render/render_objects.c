/* The objects view (a filtered listing) and the object view (one object). */
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "heap.h"
#include "json.h"
#include "mimalloc.h"
#include "layout.h"
#include "referents.h"
#include "render_tracemalloc.h"
#include "value.h"
#include "render_json.h"

typedef struct lister {
    pymac_session *s;
    const pymac_object_filter *f;
    pymac_format fmt;
    FILE *out;
    uint64_t shown, matched;
} lister;

static void refcnt_text(const pm_object *o, char *buf, size_t cap, bool json)
{
    if (o->immortal)
        snprintf(buf, cap, json ? "\"immortal\"" : "immortal");
    else
        snprintf(buf, cap, "%llu", (unsigned long long)o->refcnt);
}

static bool list_one(void *ctx, const pm_object *o, int gen)
{
    lister *l = ctx;
    const pymac_object_filter *f = l->f;
    if (f->type_name && strcmp(f->type_name, o->type->name) != 0)
        return true;
    if (f->generation >= 0 && gen != f->generation)
        return true;
    if (o->size < f->min_size)
        return true;
    l->matched++;
    if (f->limit && l->shown >= f->limit)
        return true;
    l->shown++;
    char value[160], rc[32];
    pm_value_repr(l->s, o, value, sizeof value);
    refcnt_text(o, rc, sizeof rc, l->fmt == PYMAC_JSON);
    if (l->fmt == PYMAC_JSON) {
        fprintf(l->out, "%s\n  {\"address\": \"0x%llx\", \"type\": ", l->shown > 1 ? "," : "",
                (unsigned long long)o->addr);
        pm_json_str(l->out, o->type->name);
        fprintf(l->out, ", \"refcnt\": %s, \"size\": %llu, \"generation\": ", rc,
                (unsigned long long)o->size);
        if (gen >= 0)
            fprintf(l->out, "%d", gen);
        else
            fputs("null", l->out);
        fputs(", \"value\": ", l->out);
        pm_json_str(l->out, value);
        fputc('}', l->out);
    } else {
        char g[8] = "-";
        if (gen >= 0)
            snprintf(g, sizeof g, gen == 3 ? "perm" : "%d", gen);
        fprintf(l->out, "0x%014llx  %-20.20s %10s %8llu  %4s  %s\n", (unsigned long long)o->addr,
                o->type->name, rc, (unsigned long long)o->size, g, value);
    }
    return true;
}

pymac_status pymac_render_objects(pymac_session *s, const pymac_object_filter *f,
                                  pymac_format fmt, FILE *out, pymac_error *err)
{
    lister l = {.s = s, .f = f, .fmt = fmt, .out = out};
    pymac_census counters = {0};
    if (fmt == PYMAC_JSON)
        fputs("{\"objects\": [", out);
    else
        fprintf(out, "%-16s  %-20s %10s %8s  %4s  %s\n", "address", "type", "refcnt", "size",
                "gen", "value");
    /* A generation filter only needs the GC lists. */
    unsigned flags = PM_WALK_GENERATIONS | (f->generation >= 0 ? PM_WALK_GC_ONLY : 0);
    pymac_status st = pm_objects_walk(s, flags, list_one, &l, &counters, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (fmt == PYMAC_JSON) {
        fprintf(out, "],\n \"matched\": %llu, \"shown\": %llu, \"partial\": %s, ",
                (unsigned long long)l.matched, (unsigned long long)l.shown,
                st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%llu objects matched", (unsigned long long)l.matched);
        if (l.shown < l.matched)
            fprintf(out, ", %llu shown (--limit)", (unsigned long long)l.shown);
        fputc('\n', out);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
    return st;
}

/* Generation of a GC-tracked object, -1 if not on any list. */
static int generation_of(pymac_session *s, uint64_t addr)
{
    const pymac_gc *gc;
    if (pymac_gc_walk(s, &gc, NULL) > PYMAC_PARTIAL)
        return -1;
    for (size_t i = 0; i < gc->nobjects; i++) {
        if (gc->objects[i] != addr)
            continue;
        for (uint32_t g = 0; g < gc->ngenerations; g++)
            if (i >= gc->generations[g].first &&
                i < gc->generations[g].first + gc->generations[g].objects)
                return (int)g;
        return 3; /* permanent */
    }
    return -1;
}

static const char *where_text(pymac_session *s, uint64_t addr, char *buf, size_t cap)
{
    const pm_heap *h;
    if (pm_heap_get(s, &h, NULL) > PYMAC_PARTIAL)
        return "unknown";
    if (!pm_heap_whereis(h, addr, buf, cap))
        snprintf(buf, cap, "outside pymalloc (malloc or static data)");
    return buf;
}

typedef struct ref_printer {
    pymac_session *s;
    FILE *out;
    pymac_format fmt;
    size_t n;
} ref_printer;

static bool print_ref(void *ctx, uint64_t target, const char *via, bool conservative)
{
    ref_printer *p = ctx;
    pm_object t;
    bool valid = pm_object_read(p->s, target, &t);
    char value[96];
    if (valid)
        pm_value_repr(p->s, &t, value, sizeof value);
    else
        snprintf(value, sizeof value, "<not an object>");
    if (p->fmt == PYMAC_JSON) {
        fprintf(p->out, "%s\n  {\"address\": \"0x%llx\", \"type\": ", p->n ? "," : "",
                (unsigned long long)target);
        pm_json_str(p->out, valid ? t.type->name : NULL);
        fputs(", \"via\": ", p->out);
        pm_json_str(p->out, via);
        fprintf(p->out, ", \"conservative\": %s, \"value\": ", conservative ? "true" : "false");
        pm_json_str(p->out, value);
        fputc('}', p->out);
    } else {
        fprintf(p->out, "  %-24.24s 0x%014llx  %-16.16s %s%s\n", via, (unsigned long long)target,
                valid ? t.type->name : "?", value, conservative ? "  (conservative)" : "");
    }
    p->n++;
    return true;
}

/* Why an address holds no object, for the error message. */
static pymac_status not_an_object(pymac_session *s, uint64_t addr, pymac_error *err)
{
    pymac_whereis w;
    pymac_status st = pymac_whereis_address(s, addr, &w, err);
    if (st > PYMAC_PARTIAL)
        return st;
    const char *what = "no valid object header";
    char why[96];
    uint64_t tp;
    if (w.kind == PYMAC_WHERE_BLOCK && !w.in_use) {
        what = w.free_reason ? w.free_reason : "a free block";
    } else if (pm_read_field(s, addr, &s->layout->ob_type, &tp)) {
        /* say what is wrong with the header: its type pointer, or the type */
        snprintf(why, sizeof why, "%s 0x%llx",
                 !pm_mapped(s, tp) ? "its type pointer is unmapped:"
                 : pm_type_get(s, tp) ? "an implausible reference count, type"
                                      : "its type is not a valid type object:",
                 (unsigned long long)tp);
        what = why;
    }
    return pm_fail(err, PYMAC_E_ADDRESS,
                   "find object addresses with: pymac-analyze objects CORE --type NAME",
                   "0x%llx is not a live object (%s%s)", (unsigned long long)addr,
                   w.kind == PYMAC_WHERE_BLOCK ? "pymalloc block: " : "", what);
}

pymac_status pymac_render_object(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                                 pymac_error *err)
{
    if (!pm_mapped(s, addr))
        return pm_fail(err, PYMAC_E_ADDRESS, "give an address inside the process's memory",
                       "0x%llx is not mapped in the process", (unsigned long long)addr);
    pm_object o;
    if (!pm_object_read(s, addr, &o))
        return not_an_object(s, addr, err);
    if (o.ft && pm_mi_addr_state(s, addr) == 0)
        return pm_fail(err, PYMAC_E_ADDRESS,
                       "find object addresses with: pymac-analyze objects CORE --type NAME",
                       "0x%llx is not a live object (a free mimalloc block)",
                       (unsigned long long)addr);
    pymac_whereis w;
    if (pymac_whereis_address(s, addr, &w, NULL) <= PYMAC_PARTIAL && w.kind == PYMAC_WHERE_BLOCK &&
        !w.in_use)
        return not_an_object(s, addr, err);
    char value[512], rc[32], where[256];
    pm_value_repr(s, &o, value, sizeof value);
    refcnt_text(&o, rc, sizeof rc, fmt == PYMAC_JSON);
    int gen = generation_of(s, addr);
    where_text(s, addr, where, sizeof where);
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"address\": \"0x%llx\", \"type\": ", (unsigned long long)addr);
        pm_json_str(out, o.type->name);
        fprintf(out, ", \"type_address\": \"0x%llx\", \"refcnt\": %s, \"size\": %llu, "
                     "\"generation\": ",
                (unsigned long long)o.type->addr, rc, (unsigned long long)o.size);
        if (gen >= 0)
            fprintf(out, "%d", gen);
        else
            fputs("null", out);
        if (o.ft) /* the biased count's parts and the owner thread */
            fprintf(out, ", \"ref_local\": %u, \"ref_shared\": %lld, \"shared_flags\": \"%s\", "
                         "\"ob_tid\": \"0x%llx\"",
                    o.ref_local, (long long)o.ref_shared, pm_mi_shared_flags(o.ref_shared),
                    (unsigned long long)o.tid);
        fputs(", \"where\": ", out);
        pm_json_str(out, where);
        fputs(", \"value\": ", out);
        pm_json_str(out, value);
        pymac_status tst = pm_render_object_traceback(s, &o, fmt, out);
        fputs(", \"referents\": [", out);
        ref_printer rp = {s, out, fmt, 0};
        pymac_status st = pm_referents(s, &o, print_ref, &rp, 10000);
        if (tst == PYMAC_PARTIAL)
            st = PYMAC_PARTIAL;
        if (o.bad_size) {
            pm_warn(s, "ob_size %lld is impossible: the size shown is the fixed part only",
                    (long long)o.ob_size);
            st = PYMAC_PARTIAL;
        }
        fprintf(out, "], \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return st == PYMAC_PARTIAL ? PYMAC_PARTIAL : PYMAC_OK;
    }
    fprintf(out,
            "object      0x%llx\n"
            "type        %s (type object 0x%llx)\n"
            "refcount    %s\n"
            "size        %llu bytes (as sys.getsizeof)\n",
            (unsigned long long)addr, o.type->name, (unsigned long long)o.type->addr, rc,
            (unsigned long long)o.size);
    if (o.ft)
        fprintf(out, "refcount is local %u + shared %lld >> 2 (flags: %s); owner thread 0x%llx\n",
                o.ref_local, (long long)o.ref_shared, pm_mi_shared_flags(o.ref_shared),
                (unsigned long long)o.tid);
    if (gen >= 0)
        fprintf(out, "generation  %s\n", gen == 3 ? "permanent" : (char[]){(char)('0' + gen), 0});
    else
        fprintf(out, "generation  not tracked by the GC\n");
    fprintf(out, "lives in    %s\nvalue       %s\nreferents:\n", where, value);
    ref_printer rp = {s, out, fmt, 0};
    pymac_status st = pm_referents(s, &o, print_ref, &rp, 1000);
    if (!rp.n)
        fputs("  (none)\n", out);
    if (pm_render_object_traceback(s, &o, fmt, out) == PYMAC_PARTIAL)
        st = PYMAC_PARTIAL;
    if (o.bad_size || st == PYMAC_PARTIAL) {
        if (o.bad_size)
            pm_warn(s, "ob_size %lld is impossible: the size shown is the fixed part only",
                    (long long)o.ob_size);
        fputs("PARTIAL: see the warnings\n", out);
        st = PYMAC_PARTIAL;
    }
    pymac_render_warnings(s, out);
    return st == PYMAC_PARTIAL ? PYMAC_PARTIAL : PYMAC_OK;
}

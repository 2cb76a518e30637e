/* The objects view (a filtered listing) and the object view (one object). */
#include <stdlib.h>
#include <string.h>

#include "census.h"
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

static void print_ref(FILE *out, pymac_format fmt, const pymac_referent *r, size_t i)
{
    if (fmt == PYMAC_JSON) {
        fprintf(out, "%s\n  {\"address\": \"0x%llx\", \"type\": ", i ? "," : "",
                (unsigned long long)r->address);
        pm_json_str(out, r->type);
        fputs(", \"via\": ", out);
        pm_json_str(out, r->via);
        fprintf(out, ", \"conservative\": %s, \"value\": ", r->conservative ? "true" : "false");
        pm_json_str(out, r->value);
        fputc('}', out);
    } else {
        fprintf(out, "  %-24.24s 0x%014llx  %-16.16s %s%s\n", r->via, (unsigned long long)r->address,
                r->type ? r->type : "?", r->value, r->conservative ? "  (conservative)" : "");
    }
}

pymac_status pymac_render_object(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                                 pymac_error *err)
{
    pymac_object *ob;
    pymac_status st = pymac_get_object(s, addr, fmt == PYMAC_JSON ? 10000 : 1000, &ob, err);
    if (st > PYMAC_PARTIAL)
        return st;
    pm_object o; /* for its traceback: read as pymac_get_object read it */
    bool have = pm_object_read(s, addr, &o);
    char rc[32];
    if (ob->immortal)
        snprintf(rc, sizeof rc, fmt == PYMAC_JSON ? "\"immortal\"" : "immortal");
    else
        snprintf(rc, sizeof rc, "%llu", (unsigned long long)ob->refcnt);
    int gen = ob->generation;
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"address\": \"0x%llx\", \"type\": ", (unsigned long long)addr);
        pm_json_str(out, ob->type);
        fprintf(out, ", \"type_address\": \"0x%llx\", \"refcnt\": %s, \"size\": %llu, "
                     "\"generation\": ",
                (unsigned long long)ob->type_address, rc, (unsigned long long)ob->size);
        if (gen >= 0)
            fprintf(out, "%d", gen);
        else
            fputs("null", out);
        if (ob->free_threaded) /* the biased count's parts and the owner thread */
            fprintf(out, ", \"ref_local\": %u, \"ref_shared\": %lld, \"shared_flags\": \"%s\", "
                         "\"ob_tid\": \"0x%llx\"",
                    ob->ref_local, (long long)ob->ref_shared, pm_mi_shared_flags(ob->ref_shared),
                    (unsigned long long)ob->owner_thread);
        fputs(", \"where\": ", out);
        pm_json_str(out, ob->where);
        fputs(", \"value\": ", out);
        pm_json_str(out, ob->value);
        if (have && pm_render_object_traceback(s, &o, fmt, out) == PYMAC_PARTIAL)
            st = PYMAC_PARTIAL;
        fputs(", \"referents\": [", out);
        for (size_t i = 0; i < ob->nreferents; i++)
            print_ref(out, fmt, &ob->referents[i], i);
        fprintf(out, "], \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
        pymac_object_free(ob);
        return st;
    }
    fprintf(out,
            "object      0x%llx\n"
            "type        %s (type object 0x%llx)\n"
            "refcount    %s\n"
            "size        %llu bytes (as sys.getsizeof)\n",
            (unsigned long long)addr, ob->type, (unsigned long long)ob->type_address, rc,
            (unsigned long long)ob->size);
    if (ob->free_threaded)
        fprintf(out, "refcount is local %u + shared %lld >> 2 (flags: %s); owner thread 0x%llx\n",
                ob->ref_local, (long long)ob->ref_shared, pm_mi_shared_flags(ob->ref_shared),
                (unsigned long long)ob->owner_thread);
    if (gen >= 0)
        fprintf(out, "generation  %s\n", gen == 3 ? "permanent" : (char[]){(char)('0' + gen), 0});
    else
        fprintf(out, "generation  not tracked by the GC\n");
    fprintf(out, "lives in    %s\nvalue       %s\nreferents:\n", ob->where, ob->value);
    for (size_t i = 0; i < ob->nreferents; i++)
        print_ref(out, fmt, &ob->referents[i], i);
    if (!ob->nreferents)
        fputs("  (none)\n", out);
    if (have && pm_render_object_traceback(s, &o, fmt, out) == PYMAC_PARTIAL)
        st = PYMAC_PARTIAL;
    if (st == PYMAC_PARTIAL)
        fputs("PARTIAL: see the warnings\n", out);
    pymac_render_warnings(s, out);
    pymac_object_free(ob);
    return st;
}

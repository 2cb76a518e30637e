/* One object as data (pymac_get_object): its header, generation, where the
 * allocator keeps it, a short repr and its referents, for the object view
 * and any caller of the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "heap.h"
#include "layout.h"
#include "mimalloc.h"
#include "object.h"
#include "referents.h"
#include "value.h"

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

static void where_text(pymac_session *s, uint64_t addr, char *buf, size_t cap)
{
    const pm_heap *h;
    if (pm_heap_get(s, &h, NULL) > PYMAC_PARTIAL)
        snprintf(buf, cap, "unknown");
    else if (!pm_heap_whereis(h, addr, buf, cap))
        snprintf(buf, cap, "outside pymalloc (malloc or static data)");
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

typedef struct collector {
    pymac_session *s;
    pymac_object *o;
    size_t cap;
    bool nomem;
} collector;

static bool collect_ref(void *ctx, uint64_t target, const char *via, bool conservative)
{
    collector *c = ctx;
    pymac_object *o = c->o;
    if (o->nreferents == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        pymac_referent *p = realloc(o->referents, cap * sizeof *p);
        if (!p)
            return !(c->nomem = true);
        o->referents = p;
        c->cap = cap;
    }
    pm_object t;
    bool valid = pm_object_read(c->s, target, &t);
    char value[96];
    if (valid)
        pm_value_repr(c->s, &t, value, sizeof value);
    else
        snprintf(value, sizeof value, "<not an object>");
    pymac_referent *r = &o->referents[o->nreferents++];
    *r = (pymac_referent){.address = target, .conservative = conservative};
    r->type = valid ? pm_strdup(t.type->name) : NULL;
    r->via = pm_strdup(via);
    r->value = pm_strdup(value);
    if ((valid && !r->type) || !r->via || !r->value)
        return !(c->nomem = true);
    return true;
}

void pymac_object_free(pymac_object *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nreferents; i++) {
        free(o->referents[i].type);
        free(o->referents[i].via);
        free(o->referents[i].value);
    }
    free(o->referents);
    free(o->type);
    free(o->where);
    free(o->value);
    free(o);
}

pymac_status pymac_get_object(pymac_session *s, uint64_t addr, size_t max_referents,
                              pymac_object **out, pymac_error *err)
{
    *out = NULL;
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
    pymac_object *r = calloc(1, sizeof *r);
    if (!r)
        return pm_nomem(err);
    char value[512], where[256];
    pm_value_repr(s, &o, value, sizeof value);
    r->address = addr;
    r->type_address = o.type->addr;
    r->refcnt = o.refcnt;
    r->immortal = o.immortal;
    r->size = o.size;
    r->bad_size = o.bad_size;
    r->generation = generation_of(s, addr);
    r->free_threaded = o.ft;
    r->ref_local = o.ref_local;
    r->ref_shared = o.ref_shared;
    r->owner_thread = o.tid;
    where_text(s, addr, where, sizeof where);
    r->type = pm_strdup(o.type->name);
    r->where = pm_strdup(where);
    r->value = pm_strdup(value);
    collector c = {.s = s, .o = r};
    pymac_status st = PYMAC_OK;
    if (r->type && r->where && r->value)
        st = pm_referents(s, &o, collect_ref, &c, max_referents);
    if (!r->type || !r->where || !r->value || c.nomem) {
        pymac_object_free(r);
        return pm_nomem(err);
    }
    if (o.bad_size) {
        pm_warn(s, "ob_size %lld is impossible: the size shown is the fixed part only",
                (long long)o.ob_size);
        st = PYMAC_PARTIAL;
    }
    r->partial = st == PYMAC_PARTIAL;
    *out = r;
    return st == PYMAC_PARTIAL ? PYMAC_PARTIAL : PYMAC_OK;
}

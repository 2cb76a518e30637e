/* The DWARF layout source: member offsets and sizes by name from the
 * interpreter's debug info (dwarf_types.c does the DWARF work). Types are
 * looked up near the interpreter's runtime and allocator code first, and
 * each type found once is remembered, so a walker may ask per use. */
#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_types.h"
#include "layout.h"

enum { TYPE_MEMO = 64 };

typedef struct dwarf_source {
    pm_layout_source ops; /* first: the session holds a pm_layout_source * */
    pymac_session *s;     /* for the anchors' addresses */
    pm_dwarf dw;
    uint64_t anchors[4]; /* functions whose CUs define the types we need */
    struct {
        const char *name; /* a copy */
        uint64_t near;
        bool found;
        Dwarf_Die die;
    } memo[TYPE_MEMO];
    size_t next;
    char pointer_name[128]; /* member_type's answer for a pointer member */
} dwarf_source;

static bool find(dwarf_source *d, const char *name, uint64_t near, Dwarf_Die *out)
{
    for (size_t i = 0; i < TYPE_MEMO && d->memo[i].name; i++)
        if (d->memo[i].near == near && strcmp(d->memo[i].name, name) == 0) {
            *out = d->memo[i].die;
            return d->memo[i].found;
        }
    bool found = false;
    if (near) {
        uint64_t a[1] = {near};
        found = pm_dwarf_find_type(&d->dw, name, a, 1, out);
    } else {
        found = pm_dwarf_find_type(&d->dw, name, d->anchors, 4, out);
    }
    size_t slot = d->next++ % TYPE_MEMO;
    char *copy = pm_strdup(name);
    if (copy) {
        free((char *)d->memo[slot].name);
        d->memo[slot].name = copy;
        d->memo[slot].near = near;
        d->memo[slot].found = found;
        if (found)
            d->memo[slot].die = *out;
    }
    return found;
}

static bool has(pm_layout_source *src, const char *type)
{
    Dwarf_Die t;
    return find((dwarf_source *)src, type, 0, &t);
}

static bool field(pm_layout_source *src, const char *type, const char *path, pm_field *out)
{
    Dwarf_Die t;
    out->ok = find((dwarf_source *)src, type, 0, &t) && pm_dwarf_member(&t, path, out);
    return out->ok;
}

/* The address of the function named anchor, 0 if none (or not found). */
static uint64_t anchor_addr(dwarf_source *d, const char *anchor)
{
    return anchor ? pm_symbol_lookup(d->s, anchor, NULL).addr : 0;
}

static bool field_near(pm_layout_source *src, const char *type, const char *path,
                       const char *anchor, pm_field *out)
{
    Dwarf_Die t;
    dwarf_source *d = (dwarf_source *)src;
    uint64_t near = anchor_addr(d, anchor);
    out->ok = ((near && find(d, type, near, &t)) || find(d, type, 0, &t)) &&
              pm_dwarf_member(&t, path, out);
    return out->ok;
}

static int64_t size(pm_layout_source *src, const char *type, const char *anchor)
{
    Dwarf_Die t;
    dwarf_source *d = (dwarf_source *)src;
    uint64_t near = anchor_addr(d, anchor);
    /* near a given function first, then near the runtime */
    if ((near && find(d, type, near, &t)) || find(d, type, 0, &t))
        return pm_dwarf_sizeof(&t);
    return -1;
}

static bool array(pm_layout_source *src, const char *type, const char *path, uint64_t *elem_size,
                  uint64_t *count)
{
    Dwarf_Die t, mt, elem;
    pm_field f;
    return find((dwarf_source *)src, type, 0, &t) && pm_dwarf_member_typed(&t, path, &f, &mt) &&
           pm_dwarf_array_elem(&mt, &elem, elem_size, count);
}

static const char *member_type(pm_layout_source *src, const char *type, const char *path)
{
    Dwarf_Die t, mt, elem;
    pm_field f;
    uint64_t esz, n;
    if (!find((dwarf_source *)src, type, 0, &t) || !pm_dwarf_member_typed(&t, path, &f, &mt))
        return NULL;
    if (dwarf_tag(&mt) == DW_TAG_array_type && pm_dwarf_array_elem(&mt, &elem, &esz, &n))
        return dwarf_diename(&elem);
    if (dwarf_tag(&mt) == DW_TAG_pointer_type) {
        /* "char*" for a (const) char *, "_object*" for a PyObject *: the
         * pointee without qualifiers or typedefs, then a star */
        Dwarf_Attribute at;
        Dwarf_Die to;
        const char *name;
        dwarf_source *d = (dwarf_source *)src;
        if (!dwarf_attr(&mt, DW_AT_type, &at) || !dwarf_formref_die(&at, &to) ||
            !pm_dwarf_strip(&to) || !(name = dwarf_diename(&to)))
            return NULL;
        snprintf(d->pointer_name, sizeof d->pointer_name, "%s*", name);
        return d->pointer_name;
    }
    return dwarf_diename(&mt);
}

typedef struct each_ctx {
    bool (*fn)(void *ctx, const char *name, int64_t off);
    void *ctx;
} each_ctx;

static bool each(void *ctx, const char *name, int64_t off, Dwarf_Die *mtype)
{
    (void)mtype;
    each_ctx *e = ctx;
    return e->fn(e->ctx, name, off);
}

static int members(pm_layout_source *src, const char *type,
                   bool (*fn)(void *ctx, const char *name, int64_t off), void *ctx)
{
    Dwarf_Die t;
    each_ctx e = {fn, ctx};
    return find((dwarf_source *)src, type, 0, &t) ? pm_dwarf_each_member(&t, each, &e) : -1;
}

static void close_source(pm_layout_source *src)
{
    dwarf_source *d = (dwarf_source *)src;
    for (size_t i = 0; i < TYPE_MEMO; i++)
        free((char *)d->memo[i].name);
    free(d);
}

pymac_status pm_layout_source_dwarf(pymac_session *s, pymac_error *err)
{
    dwarf_source *d = calloc(1, sizeof *d);
    if (!d)
        return pm_nomem(err);
    d->ops = (pm_layout_source){.name = "DWARF", .has = has, .field = field, .size = size,
                                .array = array, .member_type = member_type, .members = members,
                                .field_near = field_near,
                                .close = close_source};
    d->s = s;
    d->dw.mod = s->python.mod;
    d->dw.dwarf = s->python.dwarf;
    /* (the order the runtime and allocator CUs are searched in) */
    d->anchors[0] = pm_symbol_lookup(s, "PyObject_Malloc", NULL).addr;
    d->anchors[1] = pm_symbol_lookup(s, "PyInterpreterState_New", NULL).addr;
    d->anchors[2] = pm_symbol_lookup(s, "_PyObject_DebugMallocStats", NULL).addr;
    d->anchors[3] = pm_symbol_lookup(s, "_PyRuntimeState_Init", NULL).addr;
    s->layout_source = &d->ops;
    return PYMAC_OK;
}

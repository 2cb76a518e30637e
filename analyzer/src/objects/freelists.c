/* Free-list counts, as _PyObject_DebugTypeStats() prints them.
 *
 * Where the counters live moved from file statics (3.8, 3.9) into the
 * interpreter state (3.10+), and into interp->object_state.freelists in 3.13.
 * 3.14 made every list a struct _Py_freelist {freelist, size}: the count is
 * its `size` (a Py_ssize_t) and the tuple lists an array of those structs, so
 * the stride of the tuple counts is the array's element size from DWARF.
 * 3.15 prints the size of a GC type's objects with the GC header in front
 * (PyListObjects * 56 where 3.14 says 40; PyFloatObject and PyDictKeysObject,
 * not GC objects, unchanged): `gc_header` below. Each line names the counter;
 * its location and element size come from the symbol table and DWARF. */
#include <string.h>

#include "freelists.h"
#include "layout.h"
#include "statics_find.h"

typedef struct fl_line {
    const char *label;      /* "PyDictObject" as printed */
    const char *size_type;  /* DWARF type whose sizeof is printed */
    const char *anchor;     /* a function in the defining file, to find the type fast */
    const char *file;       /* file-static counter (3.8, 3.9): source file */
    const char *interp_path; /* 3.10+: member of PyInterpreterState */
} fl_line;

typedef struct fl_version {
    unsigned min_minor, max_minor;
    fl_line lines[8];
    const char *tuple_file;   /* tuples: file-static numfree[] */
    const char *tuple_path;   /* or interp member */
    bool tuple_index_is_size; /* <= 3.10: numfree[size]; 3.11+: numfree[size - 1] */
    const char *tuple_count;  /* 3.14+: member of each array element holding the count */
    bool gc_header;           /* 3.15+: GC types' sizes include sizeof(PyGC_Head) */
} fl_version;

#define DICT_ANCHOR "PyDict_New"
static const fl_version versions[] = {
    {8, 8,
     {{"PyCFunctionObject", "PyCFunctionObject", "PyCFunction_NewEx", "methodobject.c", NULL},
      {"PyDictObject", "PyDictObject", DICT_ANCHOR, "dictobject.c", NULL},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", "floatobject.c", NULL},
      {"PyFrameObject", "PyFrameObject", "PyFrame_New", "frameobject.c", NULL},
      {"PyListObject", "PyListObject", "PyList_New", "listobject.c", NULL},
      {"PyMethodObject", "PyMethodObject", "PyMethod_New", "classobject.c", NULL}},
     "tupleobject.c", NULL, true, NULL, false},
    {9, 9,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, "dictobject.c", NULL},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", "floatobject.c", NULL},
      {"PyFrameObject", "PyFrameObject", "PyFrame_New", "frameobject.c", NULL},
      {"PyListObject", "PyListObject", "PyList_New", "listobject.c", NULL}},
     "tupleobject.c", NULL, true, NULL, false},
    {10, 10,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "dict_state.numfree"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL, "float_state.numfree"},
      {"PyFrameObject", "PyFrameObject", "PyFrame_New", NULL, "frame.numfree"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "list.numfree"}},
     NULL, "tuple.numfree", true, NULL, false},
    {11, 12,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "dict_state.numfree"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL, "float_state.numfree"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "list.numfree"}},
     NULL, "tuple.numfree", false, NULL, false},
    {13, 13,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "object_state.freelists.dicts.numfree"},
      {"PyDictKeysObject", "PyDictKeysObject", DICT_ANCHOR, NULL,
       "object_state.freelists.dictkeys.numfree"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL,
       "object_state.freelists.floats.numfree"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "object_state.freelists.lists.numfree"}},
     NULL, "object_state.freelists.tuples.numfree", false, NULL, false},
    {14, 14,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "object_state.freelists.dicts.size"},
      {"PyDictKeysObject", "PyDictKeysObject", DICT_ANCHOR, NULL,
       "object_state.freelists.dictkeys.size"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL,
       "object_state.freelists.floats.size"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "object_state.freelists.lists.size"}},
     NULL, "object_state.freelists.tuples", false, "size", false},
    /* 3.15, and versions newer than pymac knows while their names hold */
    {15, 255,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "object_state.freelists.dicts.size"},
      {"PyDictKeysObject", "PyDictKeysObject", DICT_ANCHOR, NULL,
       "object_state.freelists.dictkeys.size"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL,
       "object_state.freelists.floats.size"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "object_state.freelists.lists.size"}},
     NULL, "object_state.freelists.tuples", false, "size", true},
};

/* The lines whose objects are GC objects, for gc_header (tuples are too). */
static bool is_gc_type(const char *label)
{
    return strcmp(label, "PyDictObject") == 0 || strcmp(label, "PyListObject") == 0;
}

static const fl_version *for_minor(unsigned minor)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (minor >= versions[i].min_minor && minor <= versions[i].max_minor)
            return &versions[i];
    return NULL;
}

/* sizeof(name) as the file defining the function anchor has it; -1 if unknown. */
static int64_t size_near(pymac_session *s, const char *name, const char *anchor)
{
    return pm_lookup_size_near(s, name, anchor);
}

/* Where a counter lives: a file static, or a member of the main interpreter
 * (of the main thread's _PyThreadStateImpl on a free-threaded build). *owner
 * and *path say which struct and member, for the array's element. */
static bool locate(pymac_session *s, const char *file, const char *interp_path, pm_var *out,
                   const char **owner, const char **path)
{
    if (file) {
        pm_symbol sym = pm_symbol_lookup(s, "numfree", file);
        *out = (pm_var){sym.addr, (uint32_t)sym.size, sym.found};
        if (!sym.found && !s->python.dwarf) { /* stripped: statics_find.c */
            uint32_t size = 0;
            uint64_t at = pm_find_numfree(s, file, &size);
            *out = (pm_var){at, size, at != 0};
        }
        return out->ok;
    }
    pm_field f;
    static const char per_thread[] = "object_state.";
    if (s->layout->free_threaded && !strncmp(interp_path, per_thread, sizeof per_thread - 1)) {
        /* free-threaded: the calling (main) thread's _PyThreadStateImpl.freelists */
        uint64_t ts = pm_main_tstate(s);
        const char *member = interp_path + sizeof per_thread - 1;
        pm_lookup_field(s, "_PyThreadStateImpl", member, &f);
        if (!ts || !f.ok)
            return false;
        *out = (pm_var){ts + (uint64_t)f.off, f.size, true};
        if (owner)
            *owner = "_PyThreadStateImpl", *path = member;
        return true;
    }
    pm_lookup_field(s, "PyInterpreterState", interp_path, &f);
    if (!f.ok)
        return false;
    *out = (pm_var){s->rt->main_interp + (uint64_t)f.off, f.size, true};
    if (owner)
        *owner = "PyInterpreterState", *path = interp_path;
    return true;
}

pymac_status pm_freelist_stats(pymac_session *s, pm_freelist_stat *out, size_t cap, size_t *n,
                               pymac_error *err)
{
    *n = 0;
    const fl_version *v = for_minor(s->rt->minor);
    uint64_t gc_head = v && v->gc_header ? pm_lookup_size(s, "PyGC_Head") : 0;
    if (v && v->gc_header && !gc_head)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                       "DWARF lacks sizeof(PyGC_Head) (CPython %s)", s->rt->version);
    if (!v)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL, "no free-list table for CPython %s",
                       s->rt->version);
    for (size_t i = 0; i < sizeof v->lines / sizeof v->lines[0] && v->lines[i].label; i++) {
        const fl_line *l = &v->lines[i];
        int64_t elem_size = size_near(s, l->size_type, l->anchor);
        pm_var var;
        uint64_t count;
        if (elem_size < 0 || !locate(s, l->file, l->interp_path, &var, NULL, NULL))
            return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                           "cannot find the %s free list in CPython %s", l->label,
                           s->rt->version);
        if (!pm_read_uint(s, var.addr, var.size > 8 ? 8 : var.size, &count))
            return pm_fail(err, PYMAC_E_CORRUPT, NULL, "cannot read the %s free-list count",
                           l->label);
        if (*n >= cap)
            return pm_fail(err, PYMAC_E_INTERNAL, NULL, "too many free lists");
        pm_freelist_stat *o = &out[(*n)++];
        snprintf(o->name, sizeof o->name, "free %s", l->label);
        o->count = (int32_t)count; /* the counters are C ints */
        o->elem_size = (uint64_t)elem_size + (is_gc_type(l->label) ? gc_head : 0);
    }
    /* Tuples: one line per saved size, from a counter array. */
    int64_t tuple_size = size_near(s, "PyTupleObject", "PyTuple_New");
    pm_var arr;
    const char *owner = NULL, *path = NULL;
    if (tuple_size < 0 || !locate(s, v->tuple_file, v->tuple_path, &arr, &owner, &path))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL, "cannot find the tuple free lists");
    /* sizeof(PyTupleObject) holds one item slot already. */
    uint64_t base = (uint64_t)tuple_size - 8 + gc_head;
    /* an int numfree[] (<= 3.13), or struct _Py_freelist tuples[] (3.14+) */
    uint32_t stride = 4, count_off = 0, count_size = 4;
    if (v->tuple_count) {
        uint64_t esz = 0, len;
        pm_field f;
        pm_lookup_field(s, "_Py_freelist", v->tuple_count, &f);
        if (!owner || !pm_lookup_array(s, owner, path, &esz, &len) || !esz || !f.ok ||
            f.size > 8 || f.off < 0 || (uint64_t)f.off + f.size > esz)
            return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                           "the tuple free lists of CPython %s are not an array of structs "
                           "with '%s'", s->rt->version, v->tuple_count);
        stride = (uint32_t)esz;
        count_off = (uint32_t)f.off;
        count_size = f.size;
    }
    uint32_t entries = arr.size / stride;
    uint32_t first = v->tuple_index_is_size ? 1 : 0;
    for (uint32_t idx = first; idx < entries; idx++) {
        uint64_t count;
        if (!pm_read_uint(s, arr.addr + (uint64_t)idx * stride + count_off, count_size, &count))
            return pm_fail(err, PYMAC_E_CORRUPT, NULL, "cannot read the tuple free-list counts");
        uint32_t size = v->tuple_index_is_size ? idx : idx + 1;
        if (*n >= cap)
            return pm_fail(err, PYMAC_E_INTERNAL, NULL, "too many free lists");
        pm_freelist_stat *o = &out[(*n)++];
        snprintf(o->name, sizeof o->name, "free %u-sized PyTupleObject", size);
        o->count = (int32_t)count;
        o->elem_size = base + 8ull * size;
    }
    return PYMAC_OK;
}

/* ---- free-listed objects (3.14+) ---- */

typedef struct parked {
    pymac_session *s;
    uint64_t base;           /* &interp->object_state.freelists */
    pm_field head, size;     /* struct _Py_freelist members */
    uint64_t fl_size;        /* sizeof(struct _Py_freelist) */
    uint64_t *v;
    size_t n, cap;
    bool broken, nomem;
} parked;

static void walk_chain(parked *p, const char *name, uint64_t list)
{
    pymac_session *s = p->s;
    uint64_t node, count;
    if (!pm_read_uint(s, list + (uint64_t)p->head.off, p->head.size, &node) ||
        !pm_read_uint(s, list + (uint64_t)p->size.off, p->size.size, &count)) {
        pm_warn(s, "free list %s at 0x%llx unreadable", name, (unsigned long long)list);
        p->broken = true;
        return;
    }
    /* size is -1 for a disabled list; the chain can be no longer than the
     * target's memory holds pointers */
    uint64_t bound = (int64_t)count < 0 ? 0 : count;
    if (bound > s->target.space_bytes / 8)
        bound = s->target.space_bytes / 8;
    uint64_t seen = 0;
    while (node && seen < bound) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 256;
            uint64_t *v = realloc(p->v, cap * sizeof *v);
            if (!v) {
                p->nomem = true;
                return;
            }
            p->v = v;
            p->cap = cap;
        }
        p->v[p->n++] = node;
        seen++;
        if (!pm_read_u64(s, node, &node)) {
            pm_warn(s, "free list %s: link to unreadable 0x%llx after %llu objects", name,
                    (unsigned long long)node, (unsigned long long)seen);
            p->broken = true;
            return;
        }
    }
    if (node || seen != bound) {
        pm_warn(s, "free list %s: %llu objects chained, its size says %lld", name,
                (unsigned long long)seen + (node != 0), (long long)count);
        p->broken = true;
    }
}

/* One member of struct _Py_freelists: a struct _Py_freelist or an array of them. */
static bool each_list(void *ctx, const char *name, int64_t off)
{
    parked *p = ctx;
    const char *tn = pm_lookup_member_type(p->s, "_Py_freelists", name);
    if (!tn || strcmp(tn, "_Py_freelist") != 0)
        return true;
    uint64_t esz = p->fl_size, len = 1;
    if (pm_lookup_array(p->s, "_Py_freelists", name, &esz, &len) && esz != p->fl_size)
        return true;
    for (uint64_t i = 0; i < len && !p->nomem; i++)
        walk_chain(p, name, p->base + (uint64_t)off + i * p->fl_size);
    return !p->nomem;
}

pymac_status pm_freelist_parked(pymac_session *s, uint64_t **out, size_t *n, pymac_error *err)
{
    *out = NULL;
    *n = 0;
    parked p = {.s = s};
    pm_field at;
    /* 3.13 and older: no struct _Py_freelist; their free-listed objects have
     * a refcount of 0 and are told apart by it */
    pm_lookup_field(s, "_Py_freelist", "freelist", &p.head);
    pm_lookup_field(s, "_Py_freelist", "size", &p.size);
    if (!p.head.ok || !p.size.ok)
        return PYMAC_OK;
    p.fl_size = pm_lookup_size(s, "_Py_freelist");
    pm_lookup_field(s, "PyInterpreterState", "object_state.freelists", &at);
    if (!at.ok || !pm_lookup_type(s, "_Py_freelists") || !p.fl_size)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                       "DWARF of CPython %s has struct _Py_freelist but not "
                       "PyInterpreterState.object_state.freelists", s->rt->version);
    p.base = s->rt->main_interp + (uint64_t)at.off;
    pm_lookup_members(s, "_Py_freelists", each_list, &p);
    if (p.nomem) {
        free(p.v);
        return pm_nomem(err);
    }
    pm_sort(p.v, p.n, sizeof *p.v, pm_cmp_u64);
    *out = p.v;
    *n = p.n;
    return p.broken ? PYMAC_PARTIAL : PYMAC_OK;
}

bool pm_addr_in(const uint64_t *v, size_t n, uint64_t addr)
{
    size_t i = pm_lower_bound_u64(v, n, addr);
    return i < n && v[i] == addr;
}

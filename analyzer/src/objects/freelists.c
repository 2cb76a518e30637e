/* Free-list counts, as _PyObject_DebugTypeStats() prints them.
 *
 * Where the counters live moved from file statics (3.8, 3.9) into the
 * interpreter state (3.10+), and into interp->object_state.freelists in 3.13.
 * Each line names the counter; its location and element size come from the
 * symbol table and DWARF. */
#include <string.h>

#include "freelists.h"
#include "layout.h"

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
     "tupleobject.c", NULL, true},
    {9, 9,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, "dictobject.c", NULL},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", "floatobject.c", NULL},
      {"PyFrameObject", "PyFrameObject", "PyFrame_New", "frameobject.c", NULL},
      {"PyListObject", "PyListObject", "PyList_New", "listobject.c", NULL}},
     "tupleobject.c", NULL, true},
    {10, 10,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "dict_state.numfree"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL, "float_state.numfree"},
      {"PyFrameObject", "PyFrameObject", "PyFrame_New", NULL, "frame.numfree"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "list.numfree"}},
     NULL, "tuple.numfree", true},
    {11, 12,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "dict_state.numfree"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL, "float_state.numfree"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "list.numfree"}},
     NULL, "tuple.numfree", false},
    {13, 13,
     {{"PyDictObject", "PyDictObject", DICT_ANCHOR, NULL, "object_state.freelists.dicts.numfree"},
      {"PyDictKeysObject", "PyDictKeysObject", DICT_ANCHOR, NULL,
       "object_state.freelists.dictkeys.numfree"},
      {"PyFloatObject", "PyFloatObject", "PyFloat_FromDouble", NULL,
       "object_state.freelists.floats.numfree"},
      {"PyListObject", "PyListObject", "PyList_New", NULL, "object_state.freelists.lists.numfree"}},
     NULL, "object_state.freelists.tuples.numfree", false},
};

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
    return pm_lookup_size_near(s, name, anchor ? pm_symbol_lookup(s, anchor, NULL).addr : 0);
}

/* Where a counter lives: a file static, or a member of the main interpreter. */
static bool locate(pymac_session *s, const char *file, const char *interp_path, pm_var *out)
{
    if (file) {
        pm_symbol sym = pm_symbol_lookup(s, "numfree", file);
        *out = (pm_var){sym.addr, (uint32_t)sym.size, sym.found};
        return sym.found;
    }
    pm_field f;
    pm_lookup_field(s, "PyInterpreterState", interp_path, &f);
    if (!f.ok)
        return false;
    *out = (pm_var){s->rt->main_interp + (uint64_t)f.off, f.size, true};
    return true;
}

pymac_status pm_freelist_stats(pymac_session *s, pm_freelist_stat *out, size_t cap, size_t *n,
                               pymac_error *err)
{
    *n = 0;
    const fl_version *v = for_minor(s->rt->minor);
    if (!v)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL, "no free-list table for CPython %s",
                       s->rt->version);
    for (size_t i = 0; i < sizeof v->lines / sizeof v->lines[0] && v->lines[i].label; i++) {
        const fl_line *l = &v->lines[i];
        int64_t elem_size = size_near(s, l->size_type, l->anchor);
        pm_var var;
        uint64_t count;
        if (elem_size < 0 || !locate(s, l->file, l->interp_path, &var))
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
        o->elem_size = (uint64_t)elem_size;
    }
    /* Tuples: one line per saved size, from a counter array. */
    int64_t tuple_size = size_near(s, "PyTupleObject", "PyTuple_New");
    pm_var arr;
    if (tuple_size < 0 || !locate(s, v->tuple_file, v->tuple_path, &arr))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL, "cannot find the tuple free lists");
    /* sizeof(PyTupleObject) holds one item slot already. */
    uint64_t base = (uint64_t)tuple_size - 8;
    uint32_t entries = arr.size / 4;
    uint32_t first = v->tuple_index_is_size ? 1 : 0;
    for (uint32_t idx = first; idx < entries; idx++) {
        uint64_t count;
        if (!pm_read_uint(s, arr.addr + idx * 4, 4, &count))
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

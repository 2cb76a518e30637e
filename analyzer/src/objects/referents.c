/* Referents decoded by type: container items, dict keys and values, instance
 * attributes (instance dict, 3.11+ managed dict and values, 3.13 inline
 * values), function, type, module and cell members. Anything else is scanned
 * conservatively and its edges are marked so. Every count taken from the
 * target is capped before it drives a loop. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "ref_layout.h"
#include "referents.h"
#include "statics_find.h"
#include "value.h"

/* bounds on counts read from the target; memory reads fail long before */
enum { MAX_DICT_ENTRIES = 1 << 30 };
#define MAX_EDGES (1ull << 36)

static const ref_layout *layout(pymac_session *s)
{
    if (s->refs)
        return s->refs;
    ref_layout *R = calloc(1, sizeof *R);
    if (!R)
        return NULL;
    const struct {
        const char *sym;
        uint64_t *out;
    } types[] = {
        {"PyTuple_Type", &R->t_tuple},   {"PyList_Type", &R->t_list},
        {"PyDict_Type", &R->t_dict},     {"PySet_Type", &R->t_set},
        {"PyFrozenSet_Type", &R->t_frozenset}, {"PyFunction_Type", &R->t_function},
        {"PyModule_Type", &R->t_module}, {"PyCell_Type", &R->t_cell},
        {"PyType_Type", &R->t_type},     {"PyFloat_Type", &R->t_float},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        *types[i].out = pm_symbol_lookup(s, types[i].sym, NULL).addr;
    pm_lookup_field(s, "PyTupleObject", "ob_item", &R->tuple_items);
    pm_lookup_field(s, "PyListObject", "ob_item", &R->list_items);
    pm_lookup_field(s, "PyListObject", "allocated", &R->list_allocated);
    pm_lookup_field(s, "PySetObject", "table", &R->set_table);
    pm_lookup_field(s, "PySetObject", "mask", &R->set_mask);
    R->set_entry_size = pm_lookup_size(s, "setentry");
    pm_lookup_field(s, "setentry", "key", &R->set_entry_key);
    pm_lookup_field(s, "PyDictObject", "ma_keys", &R->ma_keys);
    pm_lookup_field(s, "PyDictObject", "ma_values", &R->ma_values);
    pm_lookup_field(s, "PyDictKeysObject", "dk_size", &R->dk_size);           /* <= 3.10 */
    pm_lookup_field(s, "PyDictKeysObject", "dk_log2_size", &R->dk_log2_size); /* 3.11+ */
    pm_lookup_field(s, "PyDictKeysObject", "dk_log2_index_bytes", &R->dk_log2_index_bytes);
    pm_lookup_field(s, "PyDictKeysObject", "dk_kind", &R->dk_kind);
    pm_lookup_field(s, "PyDictKeysObject", "dk_nentries", &R->dk_nentries);
    pm_lookup_field(s, "PyDictKeysObject", "dk_indices", &R->dk_indices);
    pm_lookup_field(s, "PyDictValues", "values", &R->values_values);
    pm_lookup_field(s, "PyDictValues", "capacity", &R->values_capacity); /* 3.13 */
    R->entry_size = pm_lookup_size(s, "PyDictKeyEntry");
    pm_lookup_field(s, "PyDictKeyEntry", "me_key", &R->entry_key);
    pm_lookup_field(s, "PyDictKeyEntry", "me_value", &R->entry_value);
    R->unicode_entry_size = pm_lookup_size(s, "PyDictUnicodeEntry");
    pm_lookup_field(s, "PyDictUnicodeEntry", "me_key", &R->uentry_key);
    pm_lookup_field(s, "PyDictUnicodeEntry", "me_value", &R->uentry_value);
    pm_lookup_field(s, "PyFunctionObject", "func_code", &R->func_code);
    pm_lookup_field(s, "PyFunctionObject", "func_globals", &R->func_globals);
    pm_lookup_field(s, "PyFunctionObject", "func_defaults", &R->func_defaults);
    pm_lookup_field(s, "PyFunctionObject", "func_closure", &R->func_closure);
    pm_lookup_field(s, "PyFunctionObject", "func_dict", &R->func_dict);
    pm_lookup_field(s, "PyFunctionObject", "func_kwdefaults", &R->func_kwdefaults);
    pm_lookup_field(s, "PyFunctionObject", "func_doc", &R->func_doc);
    pm_lookup_field(s, "PyFunctionObject", "func_name", &R->func_name);
    pm_lookup_field(s, "PyFunctionObject", "func_qualname", &R->func_qualname);
    pm_lookup_field(s, "PyFunctionObject", "func_module", &R->func_module);
    pm_lookup_field(s, "PyFunctionObject", "func_annotations", &R->func_annotations);
    pm_lookup_field(s, "PyFunctionObject", "func_builtins", &R->func_builtins);     /* 3.10+ */
    pm_lookup_field(s, "PyFunctionObject", "func_typeparams", &R->func_typeparams); /* 3.12+ */
    pm_lookup_field(s, "PyHeapTypeObject", "ht_name", &R->ht_name);
    pm_lookup_field(s, "PyHeapTypeObject", "ht_qualname", &R->ht_qualname);
    pm_lookup_field(s, "PyHeapTypeObject", "ht_slots", &R->ht_slots);
    pm_lookup_field(s, "PyHeapTypeObject", "ht_module", &R->ht_module); /* 3.9+ */
    pm_lookup_field(s, "PyTypeObject", "tp_base", &R->tp_base);
    pm_lookup_field(s, "PyTypeObject", "tp_subclasses", &R->tp_subclasses);
    pm_lookup_field(s, "PyModuleObject", "md_dict", &R->md_dict);
    pm_lookup_field(s, "PyModuleObject", "md_name", &R->md_name);
    pm_lookup_field(s, "PyCellObject", "ob_ref", &R->cell_ref);
    pm_lookup_field(s, "PyTypeObject", "tp_dict", &R->tp_dict);
    pm_lookup_field(s, "PyTypeObject", "tp_mro", &R->tp_mro);
    pm_lookup_field(s, "PyTypeObject", "tp_bases", &R->tp_bases);
    pm_lookup_field(s, "PyTypeObject", "tp_dictoffset", &R->tp_dictoffset);
    pm_lookup_field(s, "PyTypeObject", "tp_weaklistoffset", &R->tp_weaklistoffset);
    pm_lookup_field(s, "PyHeapTypeObject", "ht_cached_keys", &R->ht_cached_keys);
    R->set_dummy = pm_symbol_lookup(s, "_dummy_struct", "setobject.c").addr;
    if (!R->set_dummy && !s->python.dwarf) /* stripped: what _PySet_Dummy points to */
        R->set_dummy = pm_find_set_dummy(s);
    R->resolved = true;
    s->refs = R;
    return R;
}

/* ---- dicts ---- */

typedef struct dict_keys {
    uint64_t entries, nentries;
    uint32_t esize;
    const pm_field *key, *value;
} dict_keys;

/* Where a keys object's entries are, for 3.8-3.10 and 3.11+ layouts. A keys
 * object whose fields break CPython's invariants (a power-of-two size, the
 * index width that size implies, at most USABLE_FRACTION(size) entries) is
 * refused: its "entries" would be other memory read as pairs. */
static bool keys_entries(pymac_session *s, const ref_layout *R, uint64_t keys, dict_keys *k)
{
    uint64_t n, size, indices = keys + (uint64_t)R->dk_indices.off;
    if (!R->dk_indices.ok || !pm_read_field(s, keys, &R->dk_nentries, &n) || n > MAX_DICT_ENTRIES)
        return false;
    k->nentries = n;
    k->key = &R->entry_key;
    k->value = &R->entry_value;
    k->esize = R->entry_size;
    if (R->dk_size.ok) {
        if (!pm_read_field(s, keys, &R->dk_size, &size) || size > MAX_DICT_ENTRIES * 2ull || !size ||
            (size & (size - 1)))
            return false;
        unsigned ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffull ? 4 : 8;
        k->entries = indices + size * ix;
    } else {
        uint64_t log2_size, log2_index, kind;
        if (!pm_read_field(s, keys, &R->dk_log2_size, &log2_size) || log2_size > 32 ||
            !pm_read_field(s, keys, &R->dk_log2_index_bytes, &log2_index) ||
            !pm_read_field(s, keys, &R->dk_kind, &kind) || kind > 2 /* GENERAL, UNICODE, SPLIT */)
            return false;
        unsigned wide = log2_size < 8 ? 0 : log2_size < 16 ? 1 : log2_size < 32 ? 2 : 3;
        if (log2_index != log2_size + wide)
            return false;
        size = 1ull << log2_size;
        k->entries = indices + (1ull << log2_index);
        if (kind != 0) { /* DICT_KEYS_UNICODE or DICT_KEYS_SPLIT: no hash in entries */
            k->key = &R->uentry_key;
            k->value = &R->uentry_value;
            k->esize = R->unicode_entry_size;
        }
    }
    if (n > (size << 1) / 3) /* USABLE_FRACTION */
        return false;
    return k->esize && k->key->ok && k->value->ok &&
           pm_span_readable(s, k->entries, n, k->esize);
}

static uint64_t values_array(const ref_layout *R, uint64_t values)
{
    /* 3.8-3.10: PyObject **; 3.11+: PyDictValues with values[] (3.13: after a header) */
    return values + (R->values_values.ok ? (uint64_t)R->values_values.off : 0);
}

/* Pairs from keys entries; for split tables (values != 0: the dict's values
 * block) the values come from that block, which on 3.13 says how many it
 * holds: a keys object with more entries than that is not this block's. */
static bool keys_items(pymac_session *s, const ref_layout *R, uint64_t keys, uint64_t values,
                       pm_dict_fn fn, void *ctx)
{
    dict_keys k;
    uint64_t array = values ? values_array(R, values) : 0, capacity = UINT64_MAX;
    if (!keys_entries(s, R, keys, &k))
        return false;
    if (values && R->values_capacity.ok && !pm_read_field(s, values, &R->values_capacity, &capacity))
        return false;
    for (uint64_t i = 0; i < k.nentries; i++) {
        uint64_t e = k.entries + i * k.esize, key, value;
        if (!pm_read_u64(s, e + (uint64_t)k.key->off, &key))
            return false;
        if (!key)
            continue;
        if (values) {
            if (i >= capacity || !pm_read_u64(s, array + 8 * i, &value))
                return false;
        } else if (!pm_read_u64(s, e + (uint64_t)k.value->off, &value)) {
            return false;
        }
        if (value && !fn(ctx, key, value))
            return true;
    }
    return true;
}

bool pm_dict_items(pymac_session *s, uint64_t dict, pm_dict_fn fn, void *ctx)
{
    const ref_layout *R = layout(s);
    uint64_t keys, values = 0;
    if (!R || !pm_read_field(s, dict, &R->ma_keys, &keys) || !keys)
        return false;
    pm_read_field(s, dict, &R->ma_values, &values);
    return keys_items(s, R, keys, values, fn, ctx);
}

/* ---- edges ---- */

typedef struct emit {
    pymac_session *s;
    pm_ref_fn fn;
    void *ctx;
    size_t left;
    bool stop;
    const char *prefix; /* "." for attributes, else dict item syntax */
    bool exact;         /* one edge per reference the object itself holds */
    bool no_labels;     /* the caller ignores `via`: skip formatting it */
} emit;

static void edge(emit *e, uint64_t target, const char *via, bool conservative)
{
    if (e->stop || !target)
        return;
    if (!e->left || !e->fn(e->ctx, target, via, conservative)) {
        e->stop = true;
        return;
    }
    e->left--;
}

static void member(emit *e, uint64_t base, const pm_field *f, const char *via)
{
    uint64_t v;
    if (pm_read_field(e->s, base, f, &v))
        edge(e, v, via, false);
}

static void array(emit *e, uint64_t items, uint64_t n, const char *fmt)
{
    for (uint64_t i = 0; i < n && !e->stop; i++) {
        uint64_t v;
        if (!pm_read_u64(e->s, items + 8 * i, &v))
            return;
        char via[32] = "";
        if (!e->no_labels)
            snprintf(via, sizeof via, fmt, (unsigned long long)i);
        edge(e, v, via, false);
    }
}

/* Short text of a key for an edge label: 'name' for str keys. */
static void key_text(pymac_session *s, uint64_t key, char *buf, size_t cap)
{
    pm_object k;
    if (!pm_object_read(s, key, &k))
        snprintf(buf, cap, "<0x%llx>", (unsigned long long)key);
    else if (k.type->flags & PM_TPFLAGS_HEAPTYPE)
        /* not pm_value_repr: an instance's value lists its attributes, whose
         * labels are its keys, which may be the instance itself (legal after
         * o.__dict__[o] = 1): the recursion would not end */
        snprintf(buf, cap, "<%.32s object>", k.type->name);
    else
        pm_value_repr(s, &k, buf, cap);
}

static bool dict_edge(void *ctx, uint64_t key, uint64_t value)
{
    emit *e = ctx;
    char k[48], via[64];
    if (e->no_labels) {
        if (!e->prefix)
            edge(e, key, "", false);
        edge(e, value, "", false);
        return !e->stop;
    }
    key_text(e->s, key, k, sizeof k);
    if (e->prefix) {
        /* attributes: .name without the quotes */
        size_t n = strlen(k);
        if (n >= 2 && k[0] == '\'' && k[n - 1] == '\'') {
            k[n - 1] = '\0';
            snprintf(via, sizeof via, ".%s", k + 1);
        } else {
            snprintf(via, sizeof via, ".%s", k);
        }
        edge(e, value, via, false);
    } else {
        snprintf(via, sizeof via, "key %s", k);
        edge(e, key, via, false);
        snprintf(via, sizeof via, "[%s]", k);
        edge(e, value, via, false);
    }
    return !e->stop;
}

static void set_items(emit *e, const ref_layout *R, uint64_t set)
{
    uint64_t table, mask;
    /* mask + 1 is the table's size, a power of two */
    if (!pm_read_field(e->s, set, &R->set_table, &table) || !pm_read_field(e->s, set, &R->set_mask, &mask) ||
        mask > MAX_DICT_ENTRIES || (mask & (mask + 1)) || !R->set_entry_size ||
        !pm_span_readable(e->s, table, mask + 1, R->set_entry_size))
        return;
    uint64_t dummy = R->set_dummy;
    for (uint64_t i = 0; i <= mask && !e->stop; i++) {
        uint64_t key;
        if (!pm_read_u64(e->s, table + i * R->set_entry_size + (uint64_t)R->set_entry_key.off,
                         &key))
            return;
        if (key && key != dummy)
            edge(e, key, "item", false);
    }
}

/* Instance attributes: __dict__, or the 3.11+ managed dict / values. Returns
 * the offset of a __dict__ slot in the object that gave an exact edge (0 if
 * none), which the conservative scan must not count again. */
static uint64_t instance_attrs(emit *e, const ref_layout *R, const pm_object *o)
{
    pymac_session *s = e->s;
    uint64_t flags = o->type->flags, dictptr = 0, values = 0, offset = 0;
    unsigned minor = s->rt->minor;
    e->prefix = ".";
    if (minor >= 11 && (flags & PM_TPFLAGS_MANAGED_DICT)) {
        /* pre-header, just before the GC head (none on the free-threaded
         * build: MANAGED_DICT_OFFSET is -8 there, -24 with a PyGC_Head):
         * [-16] values (3.11) / weakrefs (3.12+), [-8] dict or values */
        uint64_t w, pre = o->addr - s->layout->gc_head_size;
        if (!pm_read_u64(s, pre - 8, &w))
            return 0;
        if (minor == 12 && (w & 1))
            values = w + 1; /* tagged PyDictValues pointer */
        else
            dictptr = w;
        if (minor == 11 && !dictptr)
            pm_read_u64(s, pre - 16, &values);
        if (minor >= 13 && !dictptr && (flags & (1ul << 2) /* INLINE_VALUES */))
            values = o->addr + o->type->basicsize;
    } else if (pm_read_field(s, o->type->addr, &R->tp_dictoffset, &offset) && (int64_t)offset > 0 &&
               offset < o->type->basicsize) {
        pm_read_u64(s, o->addr + offset, &dictptr);
    } else if ((int64_t)offset < 0 && (int64_t)offset > -4096 && o->type->itemsize) {
        /* var-sized (e.g. int subclasses such as IntFlag members): counted
         * back from the end of the items, rounded up to a pointer */
        uint64_t n = pm_object_nitems(s, o->type, o->ob_size), at = 0;
        if (n < (1u << 24)) {
            uint64_t end = (o->type->basicsize + n * o->type->itemsize + 7) & ~(uint64_t)7;
            if (end + offset + 8 <= o->size - o->type->presize + 8 &&
                pm_read_u64(s, o->addr + end + offset, &dictptr))
                at = end + offset;
        }
        offset = at; /* the word decoded, for the conservative scan to skip */
    } else {
        offset = 0;
    }
    /* a __dict__ slot holds a dict: anything else there is not one (memory
     * taken for an object because it starts like one: ctypes' StgInfo on 3.11
     * "held" a list's item through it) */
    pm_object d;
    if (dictptr && !(pm_object_read(s, dictptr, &d) && (d.type->flags & PM_TPFLAGS_DICT_SUBCLASS)))
        dictptr = offset = 0;
    uint64_t counted = 0;
    if (dictptr && e->exact) {
        /* the attributes are the dict's references, not the instance's */
        e->prefix = NULL;
        edge(e, dictptr, ".__dict__", false);
        counted = (int64_t)offset > 0 ? offset : 0;
    } else if (dictptr) {
        pm_dict_items(s, dictptr, dict_edge, e);
    } else if (values) {
        uint64_t keys;
        if (pm_read_field(s, o->type->addr, &R->ht_cached_keys, &keys) && keys)
            keys_items(s, R, keys, values, dict_edge, e);
    }
    e->prefix = NULL;
    return counted;
}

/* Words of an object we cannot decode that point at valid objects; the word
 * at offset `skip` (when not 0) was decoded already. For exact edges the
 * type's weak reference list is skipped too: the object holds no reference
 * to it. */
static void conservative(emit *e, const ref_layout *R, const pm_object *o, uint64_t skip)
{
    uint64_t weak = 0;
    if (e->exact && (!pm_read_field(e->s, o->type->addr, &R->tp_weaklistoffset, &weak) ||
                     (int64_t)weak <= 0 || weak >= o->type->basicsize))
        weak = 0;
    uint64_t n = (o->size - o->type->presize) / 8, start = 2; /* skip refcnt, type */
    if (n > 4096)
        n = 4096;
    for (uint64_t i = start; i < n && !e->stop; i++) {
        uint64_t w;
        pm_object t;
        if ((skip && 8 * i == skip) || (weak && 8 * i == weak))
            continue;
        if (!pm_read_u64(e->s, o->addr + 8 * i, &w))
            return;
        if (w && !(w & 7) && w != o->addr && pm_object_read(e->s, w, &t) &&
            (t.refcnt || t.immortal)) {
            char via[32] = "";
            if (!e->no_labels)
                snprintf(via, sizeof via, "+%llu", (unsigned long long)(8 * i));
            edge(e, w, via, true);
        }
    }
}

pymac_status pm_referents(pymac_session *s, const pm_object *o, pm_ref_fn fn, void *ctx,
                          size_t limit)
{
    return pm_referents_ex(s, o, fn, ctx, limit, 0);
}

pymac_status pm_referents_ex(pymac_session *s, const pm_object *o, pm_ref_fn fn, void *ctx,
                             size_t limit, int flags)
{
    const ref_layout *R = layout(s);
    if (!R)
        return PYMAC_E_NOMEM;
    emit e = {.s = s, .fn = fn, .ctx = ctx, .left = limit ? limit : MAX_EDGES,
              .exact = flags & PM_REFS_EXACT, .no_labels = flags & PM_REFS_NO_LABELS};
    uint64_t t = o->type->addr, v;
    pymac_status st = PYMAC_OK;
    if (o->type->flags & PM_TPFLAGS_HEAPTYPE)
        edge(&e, t, "type", false); /* instances of heap types own a reference to it */
    uint64_t tf = o->type->flags;
    bool heap = tf & PM_TPFLAGS_HEAPTYPE;
    bool is_tuple = t == R->t_tuple || (tf & PM_TPFLAGS_TUPLE_SUBCLASS);
    bool is_list = t == R->t_list || (tf & PM_TPFLAGS_LIST_SUBCLASS);
    bool is_dict = t == R->t_dict || (tf & PM_TPFLAGS_DICT_SUBCLASS);
    if (is_tuple || is_list || is_dict) {
        /* the container part, for subclasses too */
        if (is_tuple && R->tuple_items.ok && o->bad_size) {
            pm_warn(s, "tuple 0x%llx has an impossible length %lld: its items are not read",
                    (unsigned long long)o->addr, (long long)o->ob_size);
            st = PYMAC_PARTIAL;
        } else if (is_tuple && R->tuple_items.ok && o->ob_size > 0) {
            uint64_t items = o->addr + (uint64_t)R->tuple_items.off;
            if (pm_span_readable(s, items, (uint64_t)o->ob_size, 8))
                array(&e, items, (uint64_t)o->ob_size, "[%llu]");
        } else if (is_list) {
            /* list has no item size: its length is read here, not by
             * pm_object_read; a length beyond the allocated slots is damage */
            uint64_t len, alloc = 0;
            if (pm_read_field(s, o->addr, &R->list_items, &v) &&
                pm_read_u64(s, o->addr + (uint64_t)s->layout->ob_size.off, &len) && len) {
                if (R->list_allocated.ok && (!pm_read_field(s, o->addr, &R->list_allocated, &alloc) ||
                                             len > alloc || alloc > MAX_EDGES)) {
                    pm_warn(s, "list 0x%llx has length %lld but %lld allocated slots: its "
                            "items are not read", (unsigned long long)o->addr, (long long)len,
                            (long long)alloc);
                    st = PYMAC_PARTIAL;
                } else if (pm_span_readable(s, v, len, 8)) {
                    array(&e, v, len < MAX_EDGES ? len : MAX_EDGES, "[%llu]");
                }
            }
        } else if (is_dict) {
            pm_dict_items(s, o->addr, dict_edge, &e);
        }
        /* a subclass's own fields: a Python subclass's attributes; C members
         * (e.g. ctypes' StgDict) conservatively. Tuple items would be seen
         * twice by a scan, and list and dict headers hold no object. */
        uint64_t counted = heap ? instance_attrs(&e, R, o) : 0;
        if (!is_tuple && t != R->t_list && t != R->t_dict && !(tf & PM_TPFLAGS_MANAGED_DICT))
            conservative(&e, R, o, counted);
    } else if (t == R->t_set || t == R->t_frozenset) {
        set_items(&e, R, o->addr);
    } else if (t == R->t_function) {
        member(&e, o->addr, &R->func_code, ".__code__");
        member(&e, o->addr, &R->func_globals, ".__globals__");
        member(&e, o->addr, &R->func_defaults, ".__defaults__");
        member(&e, o->addr, &R->func_kwdefaults, ".__kwdefaults__");
        member(&e, o->addr, &R->func_closure, ".__closure__");
        member(&e, o->addr, &R->func_dict, ".__dict__");
        member(&e, o->addr, &R->func_doc, ".__doc__");
        member(&e, o->addr, &R->func_name, ".__name__");
        member(&e, o->addr, &R->func_qualname, ".__qualname__");
        member(&e, o->addr, &R->func_module, ".__module__");
        member(&e, o->addr, &R->func_annotations, ".__annotations__");
        member(&e, o->addr, &R->func_builtins, ".__builtins__");
        member(&e, o->addr, &R->func_typeparams, ".__type_params__");
    } else if (t == R->t_module) {
        member(&e, o->addr, &R->md_dict, ".__dict__");
        /* a strong reference module_traverse does not visit: the name kept
         * for messages after the dict is cleared (an interned, immortal str
         * on the default build; a counted one free-threaded 3.13) */
        member(&e, o->addr, &R->md_name, ".md_name");
    } else if (t == R->t_cell) {
        member(&e, o->addr, &R->cell_ref, ".cell_contents");
    } else if (t == R->t_type || (o->type->flags & PM_TPFLAGS_TYPE_SUBCLASS)) {
        member(&e, o->addr, &R->tp_mro, ".__mro__");
        member(&e, o->addr, &R->tp_bases, ".__bases__");
        member(&e, o->addr, &R->tp_dict, ".__dict__");
        /* the dict of weak references to subclasses (3.12 keeps a static
         * builtin type's index there instead: not an object, so no node) */
        member(&e, o->addr, &R->tp_subclasses, ".__subclasses__");
        /* a heap type owns its base and the names and slots of its header */
        uint64_t tflags = 0;
        if (pm_read_field(s, o->addr, &s->layout->tp_flags, &tflags) && (tflags & PM_TPFLAGS_HEAPTYPE)) {
            member(&e, o->addr, &R->tp_base, ".__base__");
            member(&e, o->addr, &R->ht_name, ".__name__");
            member(&e, o->addr, &R->ht_qualname, ".__qualname__");
            member(&e, o->addr, &R->ht_slots, ".__slots__");
            member(&e, o->addr, &R->ht_module, ".__module__ (ht_module)");
        }
    } else if (o->type->flags & PM_TPFLAGS_HEAPTYPE) {
        /* __slots__ and C-level members: a managed dict (3.11+) lives before
         * the object, not in it, but a C base's fields (property's fget, a
         * ctypes or extension struct) do */
        uint64_t counted = instance_attrs(&e, R, o);
        conservative(&e, R, o, counted);
    } else if (!(t == R->t_float ||
                 (tf & (PM_TPFLAGS_LONG_SUBCLASS | PM_TPFLAGS_BYTES_SUBCLASS |
                        PM_TPFLAGS_UNICODE_SUBCLASS)))) {
        /* ints, floats, bytes and strs hold no object pointer: their data
         * would only give false edges */
        conservative(&e, R, o, 0);
    }
    return st;
}

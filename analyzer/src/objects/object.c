/* Objects and types: header reads, type validation, sizes. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "object.h"
#include "value.h"

enum {
    TYPE_CHAIN_MAX = 8,           /* type(type(...)) steps before giving up */
    MAX_BASICSIZE = 1 << 20,
    MAX_ITEMSIZE = 1 << 16,
};
/* A count this large is a pointer or garbage, not references. */
#define PM_REFCNT_PLAUSIBLE (1ull << 40)

static pm_type_table *table(pymac_session *s)
{
    if (!s->types) {
        s->types = calloc(1, sizeof *s->types);
        if (s->types) {
            s->types->type_type = pm_symbol_lookup(s, "PyType_Type", NULL).addr;
            s->types->generic_alloc = pm_symbol_lookup(s, "PyType_GenericAlloc", NULL).addr;
        }
    }
    return s->types;
}

static size_t slot_of_cap(uint64_t addr, size_t cap)
{
    uint64_t h = addr * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

static size_t slot_of(const pm_type_table *t, uint64_t addr)
{
    return slot_of_cap(addr, t->cap);
}

enum { TYPES_PER_BLOCK = 256 };

/* A new entry for addr (not present yet); NULL when out of memory. */
static pm_type *insert(pm_type_table *t, uint64_t addr)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        pm_type **slots = calloc(cap, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i])
                continue;
            size_t j = slot_of_cap(t->slots[i]->addr, cap);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    if (t->n == t->nblocks * TYPES_PER_BLOCK) {
        pm_type **blocks = realloc(t->blocks, (t->nblocks + 1) * sizeof *blocks);
        if (!blocks)
            return NULL;
        t->blocks = blocks;
        if (!(t->blocks[t->nblocks] = calloc(TYPES_PER_BLOCK, sizeof(pm_type))))
            return NULL;
        t->nblocks++;
    }
    pm_type *e = &t->blocks[t->n / TYPES_PER_BLOCK][t->n % TYPES_PER_BLOCK];
    e->addr = addr;
    e->index = (uint32_t)t->n++;
    size_t j = slot_of(t, addr);
    while (t->slots[j])
        j = (j + 1) & (t->cap - 1);
    t->slots[j] = e;
    return e;
}

/* Is `mt` type or a metatype? Follows type(type(...)) to PyType_Type. */
static bool is_metatype(pymac_session *s, uint64_t mt, uint64_t type_type)
{
    const pm_layout *L = s->layout;
    for (int i = 0; i < TYPE_CHAIN_MAX && mt; i++) {
        if (mt == type_type)
            return true;
        uint64_t flags;
        if (!pm_read_field(s, mt, &L->tp_flags, &flags) || !(flags & PM_TPFLAGS_TYPE_SUBCLASS))
            return false;
        if (!pm_read_field(s, mt, &L->ob_type, &mt))
            return false;
    }
    return false;
}

static uint32_t presize_of(pymac_session *s, uint64_t flags)
{
    const pm_layout *L = s->layout;
    uint32_t n = (flags & PM_TPFLAGS_HAVE_GC) ? L->gc_head_size : 0;
    unsigned minor = s->rt->minor;
    uint64_t pre = minor >= 12 ? (PM_TPFLAGS_MANAGED_DICT | PM_TPFLAGS_MANAGED_WEAKREF)
                   : minor == 11 ? PM_TPFLAGS_MANAGED_DICT
                                 : 0;
    if (flags & pre)
        n += 2 * 8; /* two pointers: dict/values and weakrefs */
    return n;
}

static bool validate(pymac_session *s, pm_type *t, uint64_t type_type)
{
    const pm_layout *L = s->layout;
    uint64_t mt, name_ptr;
    if (!pm_read_field(s, t->addr, &L->ob_type, &mt) || !is_metatype(s, mt, type_type))
        return false;
    if (!pm_read_field(s, t->addr, &L->tp_flags, &t->flags) ||
        !pm_read_field(s, t->addr, &L->tp_basicsize, &t->basicsize) ||
        !pm_read_field(s, t->addr, &L->tp_itemsize, &t->itemsize) ||
        !pm_read_field(s, t->addr, &L->tp_name, &name_ptr))
        return false;
    /* READY is not required: 3.9 never readies functools._lru_list_elem, yet it has
     * instances. */
    if (t->basicsize < L->object_size ||
        t->basicsize > MAX_BASICSIZE || t->itemsize > MAX_ITEMSIZE)
        return false;
    char name[sizeof t->name] = "";
    if (!pm_read_cstr(s, name_ptr, name, sizeof name) || !name[0]) {
        /* its type chain ends at `type`: a real type whose name is damaged
         * (said once: a type found invalid is not validated again) */
        if (name[0] || pm_mapped(s, name_ptr))
            pm_warn(s, "type 0x%llx has an unreadable or unterminated tp_name at 0x%llx: its "
                    "objects are not counted", (unsigned long long)t->addr,
                    (unsigned long long)name_ptr);
        return false;
    }
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    /* type.__name__: the part of tp_name after the last dot */
    const char *dot = strrchr(name, '.');
    snprintf(t->name, sizeof t->name, "%s", dot ? dot + 1 : name);
    t->presize = presize_of(s, t->flags);
    uint64_t alloc;
    t->custom_alloc = L->tp_alloc.ok && s->types->generic_alloc &&
                      pm_read_field(s, t->addr, &L->tp_alloc, &alloc) && alloc &&
                      alloc != s->types->generic_alloc;
    return true;
}

enum { BAD_CACHE_MAX = 1 << 20 };

/* Conservative scans ask about many words that are not types; remember them
 * in a compact set (8 bytes each, dropped when full) rather than as full
 * pm_type slots. */
static bool bad_has(const pm_type_table *t, uint64_t addr)
{
    if (!t->bad_cap)
        return false;
    for (size_t j = slot_of_cap(addr, t->bad_cap); t->bad[j]; j = (j + 1) & (t->bad_cap - 1))
        if (t->bad[j] == addr)
            return true;
    return false;
}

static void bad_add(pm_type_table *t, uint64_t addr)
{
    if (!t->bad_cap || t->bad_n * 2 >= t->bad_cap) {
        size_t cap = t->bad_cap ? t->bad_cap * 2 : 4096;
        if (cap > BAD_CACHE_MAX)
            cap = BAD_CACHE_MAX; /* full: start over at the same size */
        uint64_t *p = calloc(cap, sizeof *p);
        if (!p)
            return;
        if (cap != t->bad_cap) /* rehash what we had */
            for (size_t i = 0; i < t->bad_cap; i++)
                if (t->bad[i]) {
                    size_t j = slot_of_cap(t->bad[i], cap);
                    while (p[j])
                        j = (j + 1) & (cap - 1);
                    p[j] = t->bad[i];
                }
        if (cap == t->bad_cap)
            t->bad_n = 0;
        free(t->bad);
        t->bad = p;
        t->bad_cap = cap;
    }
    size_t j = slot_of_cap(addr, t->bad_cap);
    while (t->bad[j] && t->bad[j] != addr)
        j = (j + 1) & (t->bad_cap - 1);
    if (!t->bad[j]) {
        t->bad[j] = addr;
        t->bad_n++;
    }
}

const pm_type *pm_type_get(pymac_session *s, uint64_t addr)
{
    pm_type_table *tt = table(s);
    if (!tt || !addr || (addr & 7))
        return NULL;
    /* neighbours in memory are mostly of one type: a one-entry cache first */
    if (tt->last && tt->last->addr == addr)
        return tt->last;
    if (tt->cap) {
        for (size_t j = slot_of(tt, addr); tt->slots[j]; j = (j + 1) & (tt->cap - 1))
            if (tt->slots[j]->addr == addr)
                return tt->last = tt->slots[j];
    }
    if (bad_has(tt, addr))
        return NULL;
    pm_type tmp = {.addr = addr};
    tmp.valid = validate(s, &tmp, tt->type_type);
    if (!tmp.valid) {
        bad_add(tt, addr);
        return NULL;
    }
    pm_type *t = insert(tt, addr);
    if (!t)
        return NULL;
    uint32_t index = t->index;
    *t = tmp;
    t->index = index;
    return tt->last = t;
}

void pm_type_table_free(pm_type_table *t)
{
    if (t) {
        for (size_t i = 0; i < t->nblocks; i++)
            free(t->blocks[i]);
        free(t->blocks);
        free(t->slots);
        free(t->bad);
        free(t);
    }
}

bool pm_object_ft_refcnt(const void *h, const struct pm_layout *L, pm_object *o)
{
    uint64_t local = pm_get_uint(h, L->ob_ref_local.off, L->ob_ref_local.size);
    int64_t shared = (int64_t)pm_get_uint(h, L->ob_ref_shared.off, L->ob_ref_shared.size);
    o->ft = true;
    o->tid = pm_get_uint(h, L->ob_tid.off, L->ob_tid.size);
    o->ref_local = (uint32_t)local;
    o->ref_shared = shared;
    o->gc_bits = (uint8_t)pm_get_uint(h, L->ob_gc_bits.off, L->ob_gc_bits.size);
    o->immortal = o->ref_local == UINT32_MAX; /* _Py_IMMORTAL_REFCNT_LOCAL */
    /* Py_REFCNT: local + (shared >> _Py_REF_SHARED_SHIFT), an arithmetic
     * shift (another thread's decrements can leave shared negative) */
    int64_t n = (int64_t)o->ref_local + (shared < 0 ? -(int64_t)((0 - (uint64_t)shared) >> 2) -
                                                          (((0 - (uint64_t)shared) & 3) != 0)
                                                    : shared >> 2);
    if (!o->immortal && n < 0)
        return false; /* no live object has a negative count */
    o->refcnt = o->immortal ? o->ref_local : (uint64_t)n;
    return true;
}

/* _Py_REF_DEFERRED (pycore_object.h, 3.14+) */
#define PM_REF_DEFERRED (INT64_MAX / 8)

uint64_t pm_object_deferred_refs(const pm_object *o)
{
    if (!o->ft || o->immortal || !(o->gc_bits & PM_GC_BITS_DEFERRED))
        return 0;
    /* 3.13t's one local reference, or 3.14t's share: told apart by size, as
     * no object has 2^60 real references */
    return o->refcnt >= (uint64_t)PM_REF_DEFERRED ? (uint64_t)PM_REF_DEFERRED : o->refcnt ? 1 : 0;
}

bool pm_object_read(pymac_session *s, uint64_t addr, pm_object *o)
{
    const pm_layout *L = s->layout;
    unsigned char hdr[48]; /* PyObject (32 bytes free-threaded) and ob_size */
    memset(o, 0, sizeof *o);
    o->addr = addr;
    if ((addr & 7) || L->object_size + 8 > sizeof hdr)
        return false;
    /* header and ob_size in one view when the core holds them */
    const void *h = pm_target_view(&s->target, addr, L->object_size + 8);
    if (!h)
        h = pm_view(s, addr, L->object_size, hdr);
    if (!h)
        return false;
    uint64_t tp = pm_get_uint(h, L->ob_type.off, L->ob_type.size);
    o->type = pm_type_get(s, tp);
    if (!o->type)
        return false;
    if (L->free_threaded) {
        if (!pm_object_ft_refcnt(h, L, o))
            return false;
    } else {
        o->refcnt = pm_get_uint(h, L->ob_refcnt.off, L->ob_refcnt.size);
        /* 3.12+: immortal objects have the low 32 bits of the count negative */
        /* The high half is 0 in a real immortal count (CPython sets UINT_MAX):
         * a pointer or index bytes in a reused block are not immortal objects. */
        o->immortal =
            s->rt->minor >= 12 && (int32_t)(uint32_t)o->refcnt < 0 && !(o->refcnt >> 32);
    }
    /* free-threaded deferred counting adds _Py_REF_DEFERRED (2^60) to the count */
    if (!o->immortal && o->refcnt >= PM_REFCNT_PLAUSIBLE &&
        !(o->ft && (o->gc_bits & PM_GC_BITS_DEFERRED)))
        return false;
    uint64_t size = o->type->basicsize;
    if (o->type->itemsize) {
        uint64_t v;
        if (h != hdr && (uint32_t)L->ob_size.off + L->ob_size.size <= L->object_size + 8)
            v = pm_get_uint(h, L->ob_size.off, L->ob_size.size);
        else if (!pm_read_field(s, addr, &L->ob_size, &v))
            return false;
        o->ob_size = (int64_t)v;
        uint64_t n = pm_object_nitems(s, o->type, o->ob_size);
        /* Not every type with an item size keeps ob_size at the usual place
         * (3.11+ generators size their frame from the code object). */
        if (n <= (1ull << 40) / o->type->itemsize &&
            pm_mapped(s, addr + size + n * o->type->itemsize - 1))
            size += n * o->type->itemsize;
        else if (o->type->flags & (PM_TPFLAGS_LONG_SUBCLASS | PM_TPFLAGS_TUPLE_SUBCLASS |
                                   PM_TPFLAGS_BYTES_SUBCLASS | PM_TPFLAGS_TYPE_SUBCLASS))
            o->bad_size = true; /* these surely keep their length there: it is damaged */
    }
    o->size = size + o->type->presize;
    uint64_t special = pm_value_sizeof(s, o);
    if (special)
        o->size = special;
    /* the object's own allocation: a dict's getsizeof counts its keys and
     * values tables, and others' (a 3.15 untracked frozenset's table) their
     * separate buffers too, which are other allocations */
    uint64_t own = size + o->type->presize;
    o->footprint = (o->type->flags & PM_TPFLAGS_DICT_SUBCLASS) ? size
                   : (o->size < own ? o->size : own) - o->type->presize;
    return true;
}

uint64_t pm_object_nitems(const pymac_session *s, const pm_type *t, int64_t ob_size)
{
    uint64_t v = (uint64_t)ob_size;
    if (s->rt->minor >= 12 && (t->flags & PM_TPFLAGS_LONG_SUBCLASS))
        return v >> 3; /* PyLongObject.lv_tag */
    return ob_size < 0 ? 0 - v : v;
}

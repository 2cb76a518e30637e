/* A pymac session over a synthetic memory image (see synth.h). The member
 * offsets below are those of the x86-64 builds of CPython 3.10.13, 3.11.7,
 * 3.12.1 and 3.13.0, as `gdb -batch -ex 'ptype/o STRUCT' libpythonX.Y.so`
 * prints them; the tests use them to lay objects out, the decoders to read
 * them back. */
#include "synth.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "referents.h"
#include "value.h"

enum { IMAGE_SIZE = 8 << 20 };
#define IMAGE_BASE 0x100000000000ull

static const synth_shape shapes[] = {
    {10, 408, 888, 872, 48, 72, 80, 72, 136, 176, 0, 40, 104, 112},
    {11, 408, 904, 872, 48, 72, 80, 72, 136, 184, 2, 72, 112, 120},
    {12, 416, 920, 880, 40, 56, 64, 56, 144, 192, 2, 68, 112, 120},
    {13, 416, 928, 880, 40, 56, 64, 56, 144, 200, 2, 68, 112, 120},
};

static pm_field F(int32_t off, uint32_t size)
{
    return (pm_field){.off = off, .size = size, .ok = true};
}

/* A bitfield as DWARF gives it: the byte it starts in, its bit offset there. */
static pm_field BF(int32_t off, uint8_t bit_off, uint8_t bit_size)
{
    return (pm_field){.off = off, .size = 4, .ok = true, .bit_off = bit_off, .bit_size = bit_size};
}

static const synth_shape *shape_of(unsigned minor)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (shapes[i].minor == minor)
            return &shapes[i];
    return NULL;
}

/* ---- memory ---- */

static bool synth_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    synth *sy = ctx;
    sy->reads++;
    if (!len || addr < sy->base || len > sy->size || addr - sy->base > sy->size - len)
        return false;
    uint64_t off = addr - sy->base;
    for (uint64_t p = off / SYNTH_PAGE; p <= (off + len - 1) / SYNTH_PAGE; p++)
        if (!sy->mapped[p])
            return false;
    memcpy(buf, sy->mem + off, len);
    return true;
}

static unsigned char *at(synth *sy, uint64_t addr, size_t n)
{
    if (addr < sy->base || n > sy->size || addr - sy->base > sy->size - n) {
        fprintf(stderr, "synth: write of %zu bytes at 0x%llx is outside the image\n", n,
                (unsigned long long)addr);
        abort();
    }
    sy->dirty = true;
    return sy->mem + (addr - sy->base);
}

uint64_t synth_alloc(synth *sy, size_t size)
{
    uint64_t a = (sy->next + 15) & ~15ull;
    size = (size + 15) & ~(size_t)15;
    at(sy, a, size ? size : 16);
    sy->next = a + (size ? size : 16);
    return a;
}

uint64_t synth_hole(synth *sy)
{
    uint64_t a = (sy->next + SYNTH_PAGE - 1) & ~(uint64_t)(SYNTH_PAGE - 1);
    at(sy, a, SYNTH_PAGE);
    sy->mapped[(a - sy->base) / SYNTH_PAGE] = 0;
    sy->next = a + SYNTH_PAGE;
    return a;
}

void synth_wbytes(synth *sy, uint64_t addr, const void *p, size_t n)
{
    memcpy(at(sy, addr, n), p, n);
}

void synth_w8(synth *sy, uint64_t addr, uint8_t v)
{
    *at(sy, addr, 1) = v;
}

void synth_w32(synth *sy, uint64_t addr, uint32_t v)
{
    unsigned char *p = at(sy, addr, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void synth_w64(synth *sy, uint64_t addr, uint64_t v)
{
    unsigned char *p = at(sy, addr, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t synth_r64(synth *sy, uint64_t addr)
{
    const unsigned char *p = at(sy, addr, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void synth_wfield(synth *sy, uint64_t base, const pm_field *f, uint64_t v)
{
    if (!f->ok) {
        fprintf(stderr, "synth: write to a field this shape lacks\n");
        abort();
    }
    uint64_t a = base + (uint64_t)f->off;
    if (!f->bit_size) {
        unsigned char *p = at(sy, a, f->size);
        for (unsigned i = 0; i < f->size && i < 8; i++)
            p[i] = (unsigned char)(v >> (8 * i));
        return;
    }
    unsigned nbytes = (f->bit_off + f->bit_size + 7u) / 8u;
    unsigned char *p = at(sy, a, nbytes);
    uint64_t w = 0, mask = ((1ull << f->bit_size) - 1) << f->bit_off;
    for (unsigned i = 0; i < nbytes; i++)
        w |= (uint64_t)p[i] << (8 * i);
    w = (w & ~mask) | ((v << f->bit_off) & mask);
    for (unsigned i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(w >> (8 * i));
}

uint64_t synth_static_refcnt(const synth *sy)
{
    return sy->minor >= 12 ? 0xffffffffull : 1000;
}

void synth_header(synth *sy, uint64_t obj, uint64_t refcnt, uint64_t type)
{
    synth_w64(sy, obj, refcnt);
    synth_w64(sy, obj + 8, type);
}

void synth_flush(synth *sy)
{
    pymac_session *s = sy->s;
    s->target.ops->flush(&s->target);
    uint64_t tt = s->types->type_type;
    pm_type_table_free(s->types);
    s->types = calloc(1, sizeof *s->types);
    if (!s->types)
        abort();
    s->types->type_type = tt;
}

/* ---- layouts ---- */

static void fill_layouts(synth *sy, const synth_shape *sh)
{
    pymac_session *s = sy->s;
    pm_layout *L = s->layout;
    L->object_size = 16;
    L->ob_refcnt = F(0, 8);
    L->ob_type = F(8, 8);
    L->ob_size = F(16, 8);
    L->tp_name = F(24, 8);
    L->tp_basicsize = F(32, 8);
    L->tp_itemsize = F(40, 8);
    L->tp_flags = F(168, 8);
    L->gc_head_size = 16;
    s->rt->minor = sh->minor;
    s->rt->hexversion = 0x03000000u | sh->minor << 16;
    snprintf(s->rt->version, sizeof s->rt->version, "3.%u (synthetic)", sh->minor);

    pm_value_layout *V = s->values;
    V->ascii_size = sh->ascii_size;
    V->compact_size = sh->compact_size;
    V->unicode_size = sh->unicode_size;
    V->str_length = F(16, 8);
    V->str_kind = BF(32, 2, 3);
    V->str_compact = BF(32, 5, 1);
    V->str_ascii = BF(32, 6, 1);
    V->str_data = F((int32_t)sh->str_data, 8);
    V->float_val = F(16, 8);
    V->long_digits = F(24, 4);
    V->long_tag = F(16, 8); /* ob_size, or long_value.lv_tag: at 16 either way */
    V->bytes_sval = F(32, 1);
    V->tuple_items = F(24, 8);
    V->list_items = F(24, 8);
    V->list_allocated = F(32, 8);
    V->dict_used = F(16, 8);
    V->set_used = F(24, 8);
    V->set_mask = F(32, 8);
    V->set_table = F(40, 8);
    V->set_smalltable = F(64, 128);
    V->func_qualname = F(40, 8);
    V->module_name = F(48, 8);
    V->code_name = F((int32_t)sh->co_name, 8);
    V->code_filename = F((int32_t)sh->co_filename, 8);
    V->code_firstlineno = F((int32_t)sh->co_firstlineno, 4);

    ref_layout *R = s->refs;
    R->tuple_items = F(24, 8);
    R->list_items = F(24, 8);
    R->list_allocated = F(32, 8);
    R->set_table = F(40, 8);
    R->set_mask = F(32, 8);
    R->set_entry_size = 16;
    R->set_entry_key = F(0, 8);
    R->ma_keys = F(32, 8);
    R->ma_values = F(40, 8);
    if (sh->minor <= 10) {
        R->dk_size = F(8, 8);
        R->dk_nentries = F(32, 8);
        R->dk_indices = F(40, 0);
    } else {
        R->dk_log2_size = F(8, 1);
        R->dk_log2_index_bytes = F(9, 1);
        R->dk_kind = F(10, 1);
        R->dk_nentries = F(24, 8);
        R->dk_indices = F(32, 0);
        R->values_values = F(sh->minor >= 13 ? 8 : 0, 8);
        if (sh->minor >= 13)
            R->values_capacity = F(0, 1);
        R->unicode_entry_size = 16;
        R->uentry_key = F(0, 8);
        R->uentry_value = F(8, 8);
    }
    R->entry_size = 24;
    R->entry_key = F(8, 8);
    R->entry_value = F(16, 8);
    R->func_globals = F(16, 8);
    R->func_code = F(48, 8);
    R->func_defaults = F(56, 8);
    R->func_kwdefaults = F(64, 8);
    R->func_closure = F(72, 8);
    R->func_dict = F(88, 8);
    R->md_dict = F(16, 8);
    R->cell_ref = F(16, 8);
    R->tp_dict = F(264, 8);
    R->tp_weaklistoffset = F(208, 8);
    R->tp_dictoffset = F(288, 8);
    R->tp_bases = F(336, 8);
    R->tp_mro = F(344, 8);
    R->ht_cached_keys = F((int32_t)sh->ht_cached_keys, 8);
}

static uint64_t cstring(synth *sy, const char *text)
{
    size_t n = strlen(text) + 1;
    uint64_t a = synth_alloc(sy, n);
    synth_wbytes(sy, a, text, n);
    return a;
}

static uint64_t presize_of(const synth *sy, uint64_t flags)
{
    uint64_t n = (flags & PM_TPFLAGS_HAVE_GC) ? 16 : 0;
    if (sy->minor >= 11 && (flags & PM_TPFLAGS_MANAGED_DICT))
        n += 16;
    else if (sy->minor >= 12 && (flags & PM_TPFLAGS_MANAGED_WEAKREF))
        n += 16;
    return n;
}

/* A type object; the built-in ones are static, hence immortal on 3.12+. */
static uint64_t type_object(synth *sy, const char *tp_name, uint64_t basicsize,
                            uint64_t itemsize, uint64_t flags, size_t size, uint64_t refcnt)
{
    uint64_t t = synth_alloc(sy, 16 + size) + 16; /* types are GC objects */
    synth_header(sy, t, refcnt, sy->t_type ? sy->t_type : t);
    const pm_layout *L = sy->s->layout;
    synth_wfield(sy, t, &L->tp_name, cstring(sy, tp_name));
    synth_wfield(sy, t, &L->tp_basicsize, basicsize);
    synth_wfield(sy, t, &L->tp_itemsize, itemsize);
    synth_wfield(sy, t, &L->tp_flags, flags | PM_TPFLAGS_READY);
    return t;
}

uint64_t synth_type(synth *sy, const char *tp_name, uint64_t basicsize, uint64_t itemsize,
                    uint64_t flags)
{
    return type_object(sy, tp_name, basicsize, itemsize, flags, sy->shape->type_size,
                       synth_static_refcnt(sy));
}

uint64_t synth_object(synth *sy, uint64_t type, size_t size)
{
    uint64_t flags = synth_r64(sy, type + (uint64_t)sy->s->layout->tp_flags.off);
    uint64_t pre = presize_of(sy, flags);
    uint64_t o = synth_alloc(sy, pre + size) + pre;
    synth_header(sy, o, 1, type);
    return o;
}

static void builtin_types(synth *sy, const synth_shape *sh)
{
    const uint64_t gc = PM_TPFLAGS_HAVE_GC;
    sy->t_type = synth_type(sy, "type", sh->heaptype_size, 40,
                            gc | SYNTH_TPF_BASETYPE | PM_TPFLAGS_TYPE_SUBCLASS);
    sy->t_object = synth_type(sy, "object", 16, 0, SYNTH_TPF_BASETYPE);
    sy->t_str = synth_type(sy, "str", sh->unicode_size, 0, SYNTH_TPF_BASETYPE | SYNTH_TPF_UNICODE_SUBCLASS);
    sy->t_int = synth_type(sy, "int", 24, 4, SYNTH_TPF_BASETYPE | PM_TPFLAGS_LONG_SUBCLASS);
    sy->t_bool = synth_type(sy, "bool", 24, 4, PM_TPFLAGS_LONG_SUBCLASS);
    sy->t_float = synth_type(sy, "float", 24, 0, SYNTH_TPF_BASETYPE);
    sy->t_none = synth_type(sy, "NoneType", 16, 0, 0);
    sy->t_bytes = synth_type(sy, "bytes", 33, 1, SYNTH_TPF_BASETYPE | SYNTH_TPF_BYTES_SUBCLASS);
    sy->t_tuple = synth_type(sy, "tuple", 24, 8, gc | SYNTH_TPF_BASETYPE | SYNTH_TPF_TUPLE_SUBCLASS);
    sy->t_list = synth_type(sy, "list", 40, 0, gc | SYNTH_TPF_BASETYPE | SYNTH_TPF_LIST_SUBCLASS);
    sy->t_dict = synth_type(sy, "dict", 48, 0, gc | SYNTH_TPF_BASETYPE | SYNTH_TPF_DICT_SUBCLASS);
    sy->t_set = synth_type(sy, "set", 200, 0, gc | SYNTH_TPF_BASETYPE);
    sy->t_frozenset = synth_type(sy, "frozenset", 200, 0, gc | SYNTH_TPF_BASETYPE);
    sy->t_function = synth_type(sy, "function", sh->func_size, 0, gc);
    sy->t_module = synth_type(sy, "module", 56, 0, gc | SYNTH_TPF_BASETYPE);
    sy->t_code = synth_type(sy, "code", sh->code_size, sh->code_itemsize, 0);
    sy->t_cell = synth_type(sy, "cell", 24, 0, gc);
    uint64_t rc = synth_static_refcnt(sy);
    sy->none = synth_object(sy, sy->t_none, 16);
    synth_header(sy, sy->none, rc, sy->t_none);
    sy->set_dummy = synth_object(sy, sy->t_none, 16); /* setobject.c's _dummy_struct */
    synth_header(sy, sy->set_dummy, rc, sy->t_none);
    uint32_t one = 1;
    if (sy->minor >= 12) {
        sy->false_ = synth_int_raw(sy, 1 /* zero */, NULL, 0);
        sy->true_ = synth_int_raw(sy, 1 << 3, &one, 1);
    } else {
        sy->false_ = synth_int_raw(sy, 0, NULL, 0);
        sy->true_ = synth_int_raw(sy, 1, &one, 1);
    }
    synth_header(sy, sy->false_, rc, sy->t_bool);
    synth_header(sy, sy->true_, rc, sy->t_bool);

    pm_value_layout *V = sy->s->values;
    V->t_str = sy->t_str;
    V->t_int = sy->t_int;
    V->t_bool = sy->t_bool;
    V->t_float = sy->t_float;
    V->t_none = sy->t_none;
    V->t_bytes = sy->t_bytes;
    V->t_tuple = sy->t_tuple;
    V->t_list = sy->t_list;
    V->t_dict = sy->t_dict;
    V->t_set = sy->t_set;
    V->t_frozenset = sy->t_frozenset;
    V->t_type = sy->t_type;
    V->t_function = sy->t_function;
    V->t_module = sy->t_module;
    V->t_code = sy->t_code;
    V->resolved = true;
    ref_layout *R = sy->s->refs;
    R->t_tuple = sy->t_tuple;
    R->t_list = sy->t_list;
    R->t_dict = sy->t_dict;
    R->t_set = sy->t_set;
    R->t_frozenset = sy->t_frozenset;
    R->t_function = sy->t_function;
    R->t_module = sy->t_module;
    R->t_cell = sy->t_cell;
    R->t_type = sy->t_type;
    R->set_dummy = sy->set_dummy;
    R->resolved = true;
}

synth *synth_new(unsigned minor)
{
    synth *sy = calloc(1, sizeof *sy);
    if (!sy)
        return NULL;
    sy->minor = minor;
    const synth_shape *sh = shape_of(minor);
    sy->shape = sh;
    pymac_session *s = calloc(1, sizeof *s);
    sy->s = s;
    sy->size = IMAGE_SIZE;
    sy->base = IMAGE_BASE;
    sy->mem = calloc(1, IMAGE_SIZE);
    sy->mapped = malloc(IMAGE_SIZE / SYNTH_PAGE);
    if (!sh || !s || !sy->mem || !sy->mapped) {
        synth_free(sy);
        return NULL;
    }
    memset(sy->mapped, 1, IMAGE_SIZE / SYNTH_PAGE);
    sy->mapped[0] = 0; /* a guard page */
    sy->next = sy->base + SYNTH_PAGE;
    if (pm_target_open_reader(&s->target, (pm_reader){synth_read, sy}, "synthetic", IMAGE_SIZE,
                              NULL)) {
        synth_free(sy);
        return NULL;
    }
    s->layout = calloc(1, sizeof *s->layout);
    s->rt = calloc(1, sizeof *s->rt);
    s->values = calloc(1, sizeof *s->values);
    s->refs = calloc(1, sizeof *s->refs);
    s->types = calloc(1, sizeof *s->types);
    if (!s->layout || !s->rt || !s->values || !s->refs || !s->types) {
        synth_free(sy);
        return NULL;
    }
    fill_layouts(sy, sh);
    builtin_types(sy, sh);
    s->types->type_type = sy->t_type; /* what the symbol PyType_Type would give */
    return sy;
}

void synth_free(synth *sy)
{
    if (!sy)
        return;
    pymac_close(sy->s);
    free(sy->mem);
    free(sy->mapped);
    free(sy);
}

uint64_t synth_class(synth *sy, const char *name, uint64_t cached_keys)
{
    const synth_shape *sh = sy->shape;
    uint64_t flags = PM_TPFLAGS_HEAPTYPE | PM_TPFLAGS_HAVE_GC | SYNTH_TPF_BASETYPE, basicsize;
    int64_t dictoffset = -1, weaklistoffset = -32; /* 3.12+: before the object */
    if (sy->minor <= 10) {
        basicsize = 32; /* __dict__ at 16, __weakref__ at 24 */
        dictoffset = 16;
        weaklistoffset = 24;
    } else if (sy->minor == 11) {
        basicsize = 24; /* __weakref__ at 16; the dict before the object */
        weaklistoffset = 16;
        flags |= PM_TPFLAGS_MANAGED_DICT;
    } else {
        basicsize = 16;
        flags |= PM_TPFLAGS_MANAGED_DICT | PM_TPFLAGS_MANAGED_WEAKREF;
        if (sy->minor >= 13)
            flags |= SYNTH_TPF_INLINE_VALUES;
    }
    uint64_t t = type_object(sy, name, basicsize, 0, flags, sh->heaptype_size, 5);
    const ref_layout *R = sy->s->refs;
    synth_wfield(sy, t, &R->tp_dictoffset, (uint64_t)dictoffset);
    synth_wfield(sy, t, &R->tp_weaklistoffset, (uint64_t)weaklistoffset);
    synth_wfield(sy, t, &R->ht_cached_keys, cached_keys);
    return t;
}

/* ---- decoding ---- */

void synth_sync(synth *sy)
{
    if (sy->dirty)
        sy->s->target.ops->flush(&sy->s->target);
    sy->dirty = false;
}

bool synth_repr(synth *sy, uint64_t addr, char *buf, size_t cap)
{
    pm_object o;
    buf[0] = '\0';
    synth_sync(sy);
    if (!pm_object_read(sy->s, addr, &o))
        return false;
    pm_value_repr(sy->s, &o, buf, cap);
    return true;
}

uint64_t synth_sizeof(synth *sy, uint64_t addr)
{
    pm_object o;
    synth_sync(sy);
    return pm_object_read(sy->s, addr, &o) ? pm_value_sizeof(sy->s, &o) : 0;
}

static bool collect(void *ctx, uint64_t target, const char *via, bool conservative)
{
    synth_edges *es = ctx;
    es->calls++;
    if (es->n == sizeof es->e / sizeof es->e[0])
        return false;
    synth_edge *e = &es->e[es->n++];
    e->target = target;
    snprintf(e->via, sizeof e->via, "%s", via);
    e->conservative = conservative;
    return true;
}

bool synth_referents(synth *sy, uint64_t addr, int flags, synth_edges *out)
{
    pm_object o;
    memset(out, 0, sizeof *out);
    synth_sync(sy);
    if (!pm_object_read(sy->s, addr, &o))
        return false;
    return pm_referents_ex(sy->s, &o, collect, out, 0, flags) == PYMAC_OK;
}

const synth_edge *synth_edge_find(const synth_edges *es, const char *via)
{
    for (size_t i = 0; i < es->n; i++)
        if (!strcmp(es->e[i].via, via))
            return &es->e[i];
    return NULL;
}

/* ---- checks ---- */

const unsigned synth_minors[4] = {10, 11, 12, 13};

void synth_expect_repr(synth *sy, uint64_t addr, const char *want, int line)
{
    char buf[512];
    bool ok = synth_repr(sy, addr, buf, sizeof buf);
    if (!ok || strcmp(buf, want))
        fprintf(stderr, "\n    3.%u, line %d: got %s[%s], want [%s]\n", sy->minor, line,
                ok ? "" : "(not an object) ", buf, want);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

void synth_expect_edge(const synth *sy, const synth_edges *es, const char *via,
                           uint64_t target, bool conservative, int line)
{
    const synth_edge *e = synth_edge_find(es, via);
    if (!e || e->target != target || e->conservative != conservative) {
        fprintf(stderr, "\n    3.%u, line %d: edge [%s] %s; edges:", sy->minor, line, via,
                e ? "differs" : "missing");
        for (size_t i = 0; i < es->n; i++)
            fprintf(stderr, " [%s]%s->0x%llx", es->e[i].via, es->e[i].conservative ? "(c)" : "",
                    (unsigned long long)es->e[i].target);
        fprintf(stderr, "\n");
    }
    CU_ASSERT_PTR_NOT_NULL(e);
    if (e) {
        CU_ASSERT_EQUAL(e->target, target);
        CU_ASSERT_EQUAL(e->conservative, conservative);
    }
}

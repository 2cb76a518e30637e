/* Value decoders. Each reads only through pm_read (bounds-checked against the
 * core), caps every length it takes from the target, and marks truncation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict_size.h"
#include "layout.h"
#include "referents.h"
#include "value.h"
#include "value_format.h"
#include "value_layout.h"

enum { MAX_TEXT = 48, MAX_DIGITS = 64 /* 30-bit digits: ~570 decimal digits */ };

static const pm_value_layout *layout(pymac_session *s)
{
    if (s->values && s->values->resolved)
        return s->values;
    if (!s->values && !(s->values = calloc(1, sizeof *s->values)))
        return NULL;
    pm_value_layout *V = s->values;
    const struct {
        const char *sym;
        uint64_t *out;
    } types[] = {
        {"PyUnicode_Type", &V->t_str},    {"PyLong_Type", &V->t_int},
        {"PyBool_Type", &V->t_bool},      {"PyFloat_Type", &V->t_float},
        {"_PyNone_Type", &V->t_none},     {"PyBytes_Type", &V->t_bytes},
        {"PyTuple_Type", &V->t_tuple},    {"PyList_Type", &V->t_list},
        {"PyDict_Type", &V->t_dict},      {"PySet_Type", &V->t_set},
        {"PyFrozenSet_Type", &V->t_frozenset}, {"PyType_Type", &V->t_type},
        {"PyFunction_Type", &V->t_function}, {"PyModule_Type", &V->t_module},
        {"PyCode_Type", &V->t_code},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        *types[i].out = pm_symbol_lookup(s, types[i].sym, NULL).addr;
    V->ascii_size = pm_lookup_size(s, "PyASCIIObject");
    V->compact_size = pm_lookup_size(s, "PyCompactUnicodeObject");
    pm_lookup_field(s, "PyASCIIObject", "length", &V->str_length);
    pm_lookup_field(s, "PyASCIIObject", "state.kind", &V->str_kind);
    pm_lookup_field(s, "PyASCIIObject", "state.compact", &V->str_compact);
    pm_lookup_field(s, "PyASCIIObject", "state.ascii", &V->str_ascii);
    pm_lookup_field(s, "PyUnicodeObject", "data.any", &V->str_data);
    pm_lookup_field(s, "PyFloatObject", "ob_fval", &V->float_val);
    if (s->rt->minor >= 12) {
        pm_lookup_field(s, "PyLongObject", "long_value.ob_digit", &V->long_digits);
        pm_lookup_field(s, "PyLongObject", "long_value.lv_tag", &V->long_tag);
    } else {
        pm_lookup_field(s, "PyLongObject", "ob_digit", &V->long_digits);
        pm_lookup_field(s, "PyVarObject", "ob_size", &V->long_tag);
    }
    pm_lookup_field(s, "PyBytesObject", "ob_sval", &V->bytes_sval);
    pm_lookup_field(s, "PyTupleObject", "ob_item", &V->tuple_items);
    pm_lookup_field(s, "PyListObject", "ob_item", &V->list_items);
    pm_lookup_field(s, "PyListObject", "allocated", &V->list_allocated);
    pm_dict_size_resolve(s, &V->dict_size);
    pm_lookup_field(s, "PySetObject", "mask", &V->set_mask);
    pm_lookup_field(s, "PySetObject", "table", &V->set_table);
    pm_lookup_field(s, "PySetObject", "smalltable", &V->set_smalltable);
    V->unicode_size = pm_lookup_size(s, "PyUnicodeObject");
    pm_lookup_field(s, "PyDictObject", "ma_used", &V->dict_used);
    pm_lookup_field(s, "PySetObject", "used", &V->set_used);
    pm_lookup_field(s, "PyFunctionObject", "func_qualname", &V->func_qualname);
    pm_lookup_field(s, "PyModuleObject", "md_name", &V->module_name);
    pm_lookup_field(s, "PyCodeObject", "co_name", &V->code_name);
    pm_lookup_field(s, "PyCodeObject", "co_filename", &V->code_filename);
    pm_lookup_field(s, "PyCodeObject", "co_firstlineno", &V->code_firstlineno);
    V->resolved = true;
    return V;
}

typedef struct out {
    char *p;
    size_t cap, n;
    bool truncated;
} out;

/* Cuts a UTF-8 sequence that truncation left incomplete at the end of o
 * (the output must stay valid UTF-8: JSON and terminals read it). */
static void utf8_trim(out *o)
{
    size_t i = o->n, cont = 0;
    while (i > 0 && cont < 4 && ((unsigned char)o->p[i - 1] & 0xc0) == 0x80)
        i--, cont++;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)o->p[i - 1];
    size_t want = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
    if (lead >= 0x80 && cont < want)
        o->n = i - 1;
    o->p[o->n] = '\0';
}

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->n + 1 >= o->cap) {
        o->truncated = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    if ((size_t)k >= o->cap - o->n) {
        o->n = o->cap - 1;
        o->truncated = true;
        utf8_trim(o);
    } else {
        o->n += (size_t)k;
    }
}

/* Appends a code point as repr() shows it between `quote`s. */
static void put_char(out *o, uint32_t c, char quote)
{
    char buf[16];
    if (c == '\'' && quote == '"') {
        put(o, "'");
        return;
    }
    pm_format_char(c, buf, sizeof buf);
    put(o, "%s", buf);
}

/* repr() quotes with ' unless the text has a ' and no ". */
static char quote_for(const unsigned char *buf, uint64_t n, unsigned kind)
{
    bool single = false, dbl = false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t c = pm_get_uint(buf, (uint32_t)(i * kind), kind);
        single |= c == '\'';
        dbl |= c == '"';
    }
    return single && !dbl ? '"' : '\'';
}

static bool str_value(pymac_session *s, const pm_value_layout *V, uint64_t addr, out *o)
{
    uint64_t len, kind, compact, ascii, data;
    if (!pm_read_field(s, addr, &V->str_length, &len) || !pm_read_field(s, addr, &V->str_kind, &kind) ||
        !pm_read_field(s, addr, &V->str_compact, &compact) || !pm_read_field(s, addr, &V->str_ascii, &ascii))
        return false;
    if (kind != 1 && kind != 2 && kind != 4)
        return false;
    if (compact)
        data = addr + (ascii ? V->ascii_size : V->compact_size);
    else if (!pm_read_field(s, addr, &V->str_data, &data))
        return false;
    /* the text and its NUL must be in memory: a longer length is corrupt */
    if (len >= s->target.space_bytes || !pm_span_readable(s, data, len + 1, kind))
        return false;
    uint64_t n = len < MAX_TEXT ? len : MAX_TEXT;
    unsigned char buf[MAX_TEXT * 4];
    if (!pm_read(s, data, buf, n * kind))
        return false;
    char q = quote_for(buf, n, (unsigned)kind);
    put(o, "%c", q);
    for (uint64_t i = 0; i < n; i++)
        put_char(o, (uint32_t)pm_get_uint(buf, (uint32_t)(i * kind), (unsigned)kind), q);
    if (len > n)
        put(o, "%c...(%llu chars)", q, (unsigned long long)len);
    else
        put(o, "%c", q);
    return true;
}

/* The whole text of the str at addr as UTF-8 (lone surrogates in their
 * three-byte form, so byte order stays code point order), NUL-terminated.
 * False if addr is not a str, its text is unreadable or does not fit cap. */
bool pm_str_utf8(pymac_session *s, uint64_t addr, char *buf, size_t cap)
{
    const pm_value_layout *V = layout(s);
    uint64_t type, len, kind, compact, ascii, data;
    if (!V || !V->t_str || !pm_read_u64(s, addr + (uint64_t)s->layout->ob_type.off, &type) ||
        type != V->t_str || !pm_read_field(s, addr, &V->str_length, &len) ||
        !pm_read_field(s, addr, &V->str_kind, &kind) || !pm_read_field(s, addr, &V->str_compact, &compact) ||
        !pm_read_field(s, addr, &V->str_ascii, &ascii))
        return false;
    if ((kind != 1 && kind != 2 && kind != 4) || len >= cap)
        return false;
    if (compact)
        data = addr + (ascii ? V->ascii_size : V->compact_size);
    else if (!pm_read_field(s, addr, &V->str_data, &data))
        return false;
    size_t n = 0;
    unsigned char chunk[256];
    for (uint64_t i = 0; i < len;) {
        uint64_t take = len - i < sizeof chunk / kind ? len - i : sizeof chunk / kind;
        if (!pm_read(s, data + i * kind, chunk, take * kind))
            return false;
        for (uint64_t j = 0; j < take; j++) {
            uint32_t c = (uint32_t)pm_get_uint(chunk, (uint32_t)(j * kind), (unsigned)kind);
            unsigned char e[4];
            size_t k = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            if (c > 0x10ffff)
                return false;
            if (k == 1)
                e[0] = (unsigned char)c;
            else if (k == 2)
                e[0] = (unsigned char)(0xc0 | c >> 6), e[1] = (unsigned char)(0x80 | (c & 0x3f));
            else if (k == 3)
                e[0] = (unsigned char)(0xe0 | c >> 12),
                e[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f)),
                e[2] = (unsigned char)(0x80 | (c & 0x3f));
            else
                e[0] = (unsigned char)(0xf0 | c >> 18),
                e[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f)),
                e[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f)),
                e[3] = (unsigned char)(0x80 | (c & 0x3f));
            if (n + k >= cap)
                return false;
            memcpy(buf + n, e, k);
            n += k;
        }
        i += take;
    }
    buf[n] = 0;
    return true;
}

/* Python ints: 30-bit digits, least significant first. Printed in decimal by
 * repeated division by 10^9. */
static bool int_value(pymac_session *s, const pm_value_layout *V, uint64_t addr, bool is_bool,
                      out *o)
{
    uint64_t tag;
    if (!pm_read_field(s, addr, &V->long_tag, &tag) || !V->long_digits.ok)
        return false;
    uint64_t ndigits;
    bool negative;
    if (s->rt->minor >= 12) {
        ndigits = tag >> 3;
        negative = (tag & 3) == 2;
        if ((tag & 3) == 3) /* the sign is 0 (positive), 1 (zero) or 2 (negative) */
            return false;
    } else {
        negative = (int64_t)tag < 0;
        ndigits = negative ? 0 - tag : tag;
    }
    if (is_bool) {
        put(o, ndigits ? "True" : "False");
        return true;
    }
    /* a digit count the memory cannot hold is corrupt, not a big int */
    if (!pm_span_readable(s, addr + (uint64_t)V->long_digits.off, ndigits, 4))
        return false;
    if (ndigits > MAX_DIGITS) {
        put(o, "<int of %llu bits>", (unsigned long long)ndigits * 30);
        return true;
    }
    uint32_t d[MAX_DIGITS];
    if (ndigits && !pm_read(s, addr + (uint64_t)V->long_digits.off, d, ndigits * 4))
        return false;
    char dec[MAX_DIGITS * 10 + 2];
    if (!pm_format_int(d, ndigits, negative, dec, sizeof dec))
        return false;
    put(o, "%s", dec);
    return true;
}

static bool float_value(pymac_session *s, const pm_value_layout *V, uint64_t addr, out *o)
{
    double d;
    if (!V->float_val.ok || !pm_read(s, addr + (uint64_t)V->float_val.off, &d, sizeof d))
        return false;
    char buf[40];
    pm_format_float(d, buf, sizeof buf);
    put(o, "%s", buf);
    return true;
}

static bool bytes_value(pymac_session *s, const pm_value_layout *V, const pm_object *ob, out *o)
{
    uint64_t len = (uint64_t)ob->ob_size, n = len < MAX_TEXT ? len : MAX_TEXT;
    uint64_t sval = ob->addr + (uint64_t)V->bytes_sval.off;
    unsigned char buf[MAX_TEXT];
    /* the bytes and their NUL must be in memory */
    if (!V->bytes_sval.ok || ob->ob_size < 0 || len >= s->target.space_bytes ||
        !pm_span_readable(s, sval, len + 1, 1) || !pm_read(s, sval, buf, n))
        return false;
    char q = quote_for(buf, n, 1);
    put(o, "b%c", q);
    for (uint64_t i = 0; i < n; i++) {
        unsigned c = buf[i];
        if (c == (unsigned char)q || c == '\\')
            put(o, "\\%c", c);
        else if (c == '\t' || c == '\n' || c == '\r')
            put(o, "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
        else if (c < 0x20 || c >= 0x7f)
            put(o, "\\x%02x", c);
        else
            put(o, "%c", c);
    }
    if (len > n)
        put(o, "%c...(%llu bytes)", q, (unsigned long long)len);
    else
        put(o, "%c", q);
    return true;
}

uint64_t pm_value_sizeof(pymac_session *s, const pm_object *ob)
{
    const pm_value_layout *V = layout(s);
    uint64_t t = ob->type->addr, a = ob->addr;
    if (!V)
        return 0;
    if (t == V->t_str) {
        /* hot in the census: one view of the header, fields taken from it */
        unsigned char buf[128];
        const void *h = V->ascii_size <= sizeof buf ? pm_view(s, a, V->ascii_size, buf) : NULL;
        if (!h || !V->str_length.ok || !V->str_kind.ok || !V->str_compact.ok || !V->str_ascii.ok)
            return 0;
        uint64_t len = pm_field_get(h, &V->str_length), kind = pm_field_get(h, &V->str_kind),
                 compact = pm_field_get(h, &V->str_compact),
                 ascii = pm_field_get(h, &V->str_ascii), data;
        if (len > (1ull << 40) || len >= s->target.space_bytes || (kind != 1 && kind != 2 && kind != 4))
            return 0;
        if (compact)
            return (ascii ? V->ascii_size : V->compact_size) + (len + 1) * kind;
        return V->unicode_size + (pm_read_field(s, a, &V->str_data, &data) && data ? (len + 1) * kind : 0);
    }
    if (t == V->t_list) {
        uint64_t allocated;
        if (!pm_read_field(s, a, &V->list_allocated, &allocated) || allocated > (1ull << 40))
            return 0;
        return ob->type->basicsize + allocated * 8 + ob->type->presize;
    }
    if (t == V->t_set || t == V->t_frozenset) {
        uint64_t table, mask;
        if (!pm_read_field(s, a, &V->set_table, &table) || !pm_read_field(s, a, &V->set_mask, &mask) ||
            mask > (1ull << 40))
            return 0;
        uint64_t extra = table != a + (uint64_t)V->set_smalltable.off ? (mask + 1) * 16 : 0;
        return ob->type->basicsize + extra + ob->type->presize;
    }
    if (ob->type->flags & PM_TPFLAGS_DICT_SUBCLASS)
        return pm_dict_sizeof(s, &V->dict_size, ob);
    return 0;
}

static void item_repr(pymac_session *s, uint64_t addr, out *o, int depth);

typedef struct dict_preview {
    pymac_session *s;
    out *o;
    size_t n;
    int depth;
} dict_preview;

static bool preview_key(void *ctx, uint64_t key, uint64_t value)
{
    dict_preview *dp = ctx;
    (void)value;
    if (dp->n == 3)
        return false;
    put(dp->o, dp->n ? ", " : "");
    item_repr(dp->s, key, dp->o, dp->depth + 1);
    put(dp->o, ": ...");
    dp->n++;
    return true;
}

typedef struct set_preview {
    pymac_session *s;
    out *o;
    size_t n;
    int depth;
} set_preview;

static bool preview_item(void *ctx, uint64_t target, const char *via, bool conservative)
{
    set_preview *sp = ctx;
    (void)via;
    if (conservative)
        return true;
    put(sp->o, sp->n ? ", " : "");
    item_repr(sp->s, target, sp->o, sp->depth + 1);
    sp->n++;
    return sp->n < 3;
}

typedef struct attr_preview {
    out *o;
    size_t n;
} attr_preview;

static bool preview_attr(void *ctx, uint64_t target, const char *via, bool conservative)
{
    attr_preview *ap = ctx;
    (void)target;
    if (conservative || via[0] != '.')
        return true;
    if (ap->n == 6) {
        put(ap->o, ", ...");
        return false;
    }
    put(ap->o, ap->n ? ", %s" : " %s", via + 1);
    ap->n++;
    return true;
}

static bool seq_value(pymac_session *s, const pm_object *ob, uint64_t items, uint64_t len,
                      const char *open, const char *close, out *o, int depth)
{
    /* a length whose items cannot all be in memory is corrupt */
    if (!pm_span_readable(s, items, len, 8))
        return false;
    put(o, "%s", open);
    uint64_t n = len < 3 ? len : 3;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t item;
        if (!pm_read_u64(s, items + 8 * i, &item))
            return false;
        put(o, i ? ", " : "");
        item_repr(s, item, o, depth + 1);
    }
    if (len > n)
        put(o, ", ...");
    else if (len == 1 && open[0] == '(')
        put(o, ","); /* (1,) */
    put(o, "%s", close);
    if (len > n || len == 0)
        put(o, " len=%llu", (unsigned long long)len);
    (void)ob;
    return true;
}

static bool str_at(pymac_session *s, const pm_value_layout *V, uint64_t base, const pm_field *f,
                   out *o)
{
    uint64_t p;
    pm_object so;
    return pm_read_field(s, base, f, &p) && pm_object_read(s, p, &so) && so.type->addr == V->t_str &&
           str_value(s, V, p, o);
}

static bool decode(pymac_session *s, const pm_object *ob, out *o, int depth)
{
    const pm_value_layout *V = layout(s);
    if (!V)
        return false;
    uint64_t t = ob->type->addr, v;
    if (t == V->t_str)
        return str_value(s, V, ob->addr, o);
    if (t == V->t_int || t == V->t_bool)
        return int_value(s, V, ob->addr, t == V->t_bool, o);
    if (t == V->t_float)
        return float_value(s, V, ob->addr, o);
    if (t == V->t_none) {
        put(o, "None");
        return true;
    }
    if (t == V->t_bytes)
        return bytes_value(s, V, ob, o);
    if (t == V->t_tuple && V->tuple_items.ok)
        return seq_value(s, ob, ob->addr + (uint64_t)V->tuple_items.off, (uint64_t)ob->ob_size,
                         "(", ")", o, depth);
    if (t == V->t_list && pm_read_field(s, ob->addr, &V->list_items, &v)) {
        uint64_t len, allocated;
        if (!pm_read_field(s, ob->addr, &s->layout->ob_size, &len) ||
            !pm_read_field(s, ob->addr, &V->list_allocated, &allocated) || len > allocated)
            return false; /* 0 <= len <= allocated, always */
        return seq_value(s, ob, v, len, "[", "]", o, depth);
    }
    if (t == V->t_dict && pm_read_field(s, ob->addr, &V->dict_used, &v)) {
        dict_preview dp = {s, o, 0, depth};
        put(o, "{");
        if (depth == 0)
            pm_dict_items(s, ob->addr, preview_key, &dp);
        put(o, dp.n < v ? (dp.n ? ", ...} len=%llu" : "...} len=%llu") : "} len=%llu",
            (unsigned long long)v);
        return true;
    }
    if ((t == V->t_set || t == V->t_frozenset) && pm_read_field(s, ob->addr, &V->set_used, &v)) {
        /* repr() lists a set's items in table order: its first three */
        bool frozen = t == V->t_frozenset;
        if (!v) {
            put(o, frozen ? "frozenset() len=0" : "set() len=0");
            return true;
        }
        set_preview sp = {s, o, 0, depth};
        put(o, frozen ? "frozenset({" : "{");
        if (depth == 0)
            pm_referents_ex(s, ob, preview_item, &sp, 3, PM_REFS_NO_LABELS);
        put(o, sp.n < v ? (sp.n ? ", ...}" : "...}") : "}");
        put(o, frozen ? ")" : "");
        if (sp.n < v)
            put(o, " len=%llu", (unsigned long long)v);
        return true;
    }
    if (t == V->t_type || (ob->type->flags & PM_TPFLAGS_TYPE_SUBCLASS)) {
        const pm_type *ty = pm_type_get(s, ob->addr);
        if (!ty)
            return false;
        /* a static type's repr() is its whole tp_name ("collections.OrderedDict");
         * a class's would add its __module__, which is not read here */
        char full[sizeof ty->name];
        if (!(ty->flags & PM_TPFLAGS_HEAPTYPE) && pm_read_field(s, ob->addr, &s->layout->tp_name, &v) &&
            pm_read_cstr(s, v, full, sizeof full))
            put(o, "<class '%s'>", full);
        else
            put(o, "<class '%s'>", ty->name);
        return true;
    }
    if (t == V->t_function) {
        put(o, "<function ");
        bool ok = str_at(s, V, ob->addr, &V->func_qualname, o);
        put(o, ">");
        return ok;
    }
    if (t == V->t_module) {
        put(o, "<module ");
        bool ok = str_at(s, V, ob->addr, &V->module_name, o);
        put(o, ">");
        return ok;
    }
    if (t == V->t_code) {
        put(o, "<code ");
        bool ok = str_at(s, V, ob->addr, &V->code_name, o);
        put(o, " ");
        ok = ok && str_at(s, V, ob->addr, &V->code_filename, o);
        if (ok && pm_read_field(s, ob->addr, &V->code_firstlineno, &v))
            put(o, ":%lld", (long long)(int32_t)v);
        put(o, ">");
        return ok;
    }
    if ((ob->type->flags & PM_TPFLAGS_HEAPTYPE) && depth == 0) {
        /* an instance: its class and attribute names */
        attr_preview ap = {o, 0};
        put(o, "<%s object", ob->type->name);
        pm_referents(s, ob, preview_attr, &ap, 64);
        put(o, ap.n ? ">" : ">");
        return true;
    }
    return false;
}

/* Values that hold no other objects: decoded at any depth. */
static bool is_leaf(const pm_value_layout *V, uint64_t t)
{
    return t == V->t_str || t == V->t_int || t == V->t_bool || t == V->t_float ||
           t == V->t_none || t == V->t_bytes;
}

static void item_repr(pymac_session *s, uint64_t addr, out *o, int depth)
{
    pm_object it;
    if (!pm_object_read(s, addr, &it)) {
        put(o, "<invalid 0x%llx>", (unsigned long long)addr);
        return;
    }
    const pm_value_layout *V = layout(s);
    bool leaf = V && is_leaf(V, it.type->addr);
    size_t mark = o->n;
    if ((depth > 1 && !leaf) || !decode(s, &it, o, depth)) {
        o->n = mark; /* what a failed decode had written goes */
        o->p[mark] = '\0';
        put(o, "<%s 0x%llx>", it.type->name, (unsigned long long)addr);
    }
}

void pm_value_repr(pymac_session *s, const pm_object *ob, char *buf, size_t cap)
{
    out o = {.p = buf, .cap = cap};
    if (!cap)
        return;
    buf[0] = '\0';
    if (!decode(s, ob, &o, 0)) {
        o.n = 0;
        buf[0] = '\0';
        put(&o, "<%s object>", ob->type->name);
    }
    if (o.truncated && cap > 4) {
        o.n = cap - 4; /* room for "...", not inside a character */
        utf8_trim(&o);
        strcpy(buf + o.n, "...");
    }
}

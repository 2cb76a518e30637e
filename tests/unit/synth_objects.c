/* Objects laid out in a synthetic image (see synth.h): str, int, float,
 * bytes, tuple, list, dict keys and dicts, sets, code, functions, modules
 * and instances, each as its CPython version lays it out. */
#include <stdlib.h>
#include <string.h>

#include "synth.h"

/* Code points of a UTF-8 text (the tests' own, well-formed). */
static size_t decode_utf8(const char *p, uint32_t *cp, size_t cap)
{
    size_t n = 0;
    const unsigned char *u = (const unsigned char *)p;
    while (*u && n < cap) {
        uint32_t c = *u++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        c &= more == 3 ? 0x07 : more == 2 ? 0x0f : more == 1 ? 0x1f : 0x7f;
        while (more-- > 0 && *u)
            c = c << 6 | (*u++ & 0x3f);
        cp[n++] = c;
    }
    return n;
}

static void write_chars(synth *sy, uint64_t data, const uint32_t *cp, size_t n, unsigned kind)
{
    for (size_t i = 0; i <= n; i++) {
        uint32_t c = i < n ? cp[i] : 0; /* and the terminating NUL */
        for (unsigned b = 0; b < kind; b++)
            synth_w8(sy, data + i * kind + b, (uint8_t)(c >> (8 * b)));
    }
}

static uint64_t str_object(synth *sy, const char *utf8, bool compact)
{
    uint32_t cp[512];
    size_t n = decode_utf8(utf8, cp, 512);
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = cp[i] > max ? cp[i] : max;
    unsigned kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
    bool ascii = max < 0x80;
    const pm_value_layout *V = sy->s->values;
    uint64_t head = compact ? (ascii ? V->ascii_size : V->compact_size) : V->unicode_size;
    uint64_t o = synth_object(sy, sy->t_str, head + (compact ? (n + 1) * kind : 0));
    synth_wfield(sy, o, &V->str_length, n);
    synth_w64(sy, o + 24, (uint64_t)-1); /* hash: not computed */
    synth_wfield(sy, o, &V->str_kind, kind);
    synth_wfield(sy, o, &V->str_compact, compact);
    synth_wfield(sy, o, &V->str_ascii, ascii);
    if (sy->minor <= 11)
        synth_wfield(sy, o, &(pm_field){.off = 32, .size = 4, .ok = true, .bit_off = 7,
                                        .bit_size = 1}, 1); /* state.ready */
    uint64_t data = o + head;
    if (!compact) {
        data = synth_alloc(sy, (n + 1) * kind);
        synth_wfield(sy, o, &V->str_data, data);
    }
    write_chars(sy, data, cp, n, kind);
    return o;
}

uint64_t synth_str(synth *sy, const char *utf8)
{
    return str_object(sy, utf8, true);
}

uint64_t synth_str_legacy(synth *sy, const char *utf8)
{
    return str_object(sy, utf8, false);
}

uint64_t synth_int_raw(synth *sy, uint64_t tag, const uint32_t *digits, size_t n)
{
    uint64_t o = synth_object(sy, sy->t_int, 24 + 4 * (n ? n : 1));
    synth_w64(sy, o + 16, tag);
    for (size_t i = 0; i < n; i++)
        synth_w32(sy, o + 24 + 4 * i, digits[i]);
    return o;
}

uint64_t synth_int_digits(synth *sy, bool negative, const uint32_t *digits, size_t n)
{
    uint64_t tag;
    if (sy->minor >= 12)
        tag = (uint64_t)n << 3 | (n == 0 ? 1 : negative ? 2 : 0);
    else
        tag = negative ? (uint64_t) - (int64_t)n : n;
    return synth_int_raw(sy, tag, digits, n);
}

uint64_t synth_int(synth *sy, int64_t v)
{
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint32_t d[3];
    size_t n = 0;
    for (; m; m >>= 30)
        d[n++] = (uint32_t)(m & 0x3fffffff);
    return synth_int_digits(sy, v < 0, d, n);
}

uint64_t synth_float(synth *sy, double v)
{
    uint64_t o = synth_object(sy, sy->t_float, 24);
    synth_wbytes(sy, o + 16, &v, sizeof v);
    return o;
}

uint64_t synth_bytes(synth *sy, const void *p, size_t n)
{
    uint64_t o = synth_object(sy, sy->t_bytes, 33 + n);
    synth_w64(sy, o + 16, n);
    synth_w64(sy, o + 24, (uint64_t)-1);
    synth_wbytes(sy, o + 32, p, n);
    synth_w8(sy, o + 32 + n, 0);
    return o;
}

uint64_t synth_tuple(synth *sy, const uint64_t *items, size_t n)
{
    uint64_t o = synth_object(sy, sy->t_tuple, 24 + 8 * n);
    synth_w64(sy, o + 16, n);
    for (size_t i = 0; i < n; i++)
        synth_w64(sy, o + 24 + 8 * i, items[i]);
    return o;
}

uint64_t synth_list_alloc(synth *sy, const uint64_t *items, size_t n, size_t allocated)
{
    uint64_t o = synth_object(sy, sy->t_list, 40);
    uint64_t array = allocated ? synth_alloc(sy, 8 * allocated) : 0;
    synth_w64(sy, o + 16, n);
    synth_w64(sy, o + 24, array);
    synth_w64(sy, o + 32, allocated);
    for (size_t i = 0; i < n; i++)
        synth_w64(sy, array + 8 * i, items[i]);
    return o;
}

uint64_t synth_list(synth *sy, const uint64_t *items, size_t n)
{
    return synth_list_alloc(sy, items, n, n);
}

/* A keys object of 2**log2 slots and n entries; entries of 24 bytes (hash,
 * key, value) or, for kind 1 and 2 (3.11+), of 16 (key, value). */
static uint64_t keys_object(synth *sy, const uint64_t *keys, const uint64_t *values, size_t n,
                            unsigned kind)
{
    unsigned log2 = 3;
    while (((1u << log2) * 2) / 3 < n)
        log2++;
    uint64_t size = 1ull << log2, usable = size * 2 / 3;
    unsigned ix = size <= 0x80 ? 1 : size <= 0x8000 ? 2 : 4;
    uint64_t esize = kind ? 16 : 24, hdr = sy->minor <= 10 ? 40 : 32;
    /* two spare entries after the table, as malloc's rounding would leave */
    uint64_t k = synth_alloc(sy, hdr + size * ix + (usable + 2) * esize);
    synth_w64(sy, k, 1); /* dk_refcnt */
    if (sy->minor <= 10) {
        synth_w64(sy, k + 8, size);
        synth_w64(sy, k + 24, usable - n);
        synth_w64(sy, k + 32, n);
    } else {
        unsigned lix = ix == 1 ? 0 : ix == 2 ? 1 : 2;
        synth_w8(sy, k + 8, (uint8_t)log2);
        synth_w8(sy, k + 9, (uint8_t)(log2 + lix));
        synth_w8(sy, k + 10, (uint8_t)kind);
        synth_w64(sy, k + 16, usable - n);
        synth_w64(sy, k + 24, n);
    }
    /* indices: entry i in slot i (as if no two hashes collide), the rest empty */
    for (uint64_t i = 0; i < size; i++)
        for (unsigned b = 0; b < ix; b++)
            synth_w8(sy, k + hdr + i * ix + b, i < n ? (uint8_t)(i >> (8 * b)) : 0xff);
    uint64_t e = k + hdr + size * ix;
    for (size_t i = 0; i < n; i++) {
        uint64_t at_ = e + i * esize;
        if (kind) {
            synth_w64(sy, at_, keys[i]);
            synth_w64(sy, at_ + 8, values ? values[i] : 0);
        } else {
            synth_w64(sy, at_, 0x1234567 + i); /* me_hash */
            synth_w64(sy, at_ + 8, keys[i]);
            synth_w64(sy, at_ + 16, values ? values[i] : 0);
        }
    }
    return k;
}

static uint64_t dict_object(synth *sy, uint64_t keys, uint64_t values, size_t used)
{
    uint64_t d = synth_object(sy, sy->t_dict, 48);
    synth_w64(sy, d + 16, used);
    synth_w64(sy, d + 32, keys);
    synth_w64(sy, d + 40, values);
    return d;
}

uint64_t synth_dict(synth *sy, const uint64_t *keys, const uint64_t *values, size_t n,
                    bool unicode)
{
    return dict_object(sy, keys_object(sy, keys, values, n, unicode && sy->minor >= 11), 0, n);
}

uint64_t synth_shared_keys(synth *sy, const uint64_t *keys, size_t n)
{
    return keys_object(sy, keys, NULL, n, sy->minor >= 11 ? 2 : 0);
}

uint64_t synth_values(synth *sy, const uint64_t *values, size_t n)
{
    uint64_t v;
    if (sy->minor <= 10) {
        v = synth_alloc(sy, 8 * n);
    } else if (sy->minor <= 12) {
        v = synth_alloc(sy, 16 + 8 * n) + 16; /* the insertion-order prefix before */
    } else {
        v = synth_alloc(sy, 8 + 8 * n);
        synth_w8(sy, v, (uint8_t)n);     /* capacity */
        synth_w8(sy, v + 1, (uint8_t)n); /* size */
        synth_w8(sy, v + 3, 1);          /* valid */
    }
    uint64_t array = v + (sy->minor >= 13 ? 8 : 0);
    for (size_t i = 0; i < n; i++)
        synth_w64(sy, array + 8 * i, values[i]);
    return v;
}

uint64_t synth_split_dict(synth *sy, uint64_t keys, const uint64_t *values, size_t n)
{
    return dict_object(sy, keys, synth_values(sy, values, n), n);
}

uint64_t synth_set(synth *sy, const uint64_t *items, size_t n, bool frozen)
{
    uint64_t o = synth_object(sy, frozen ? sy->t_frozenset : sy->t_set, 200);
    uint64_t mask = 7;
    while (n * 5 >= mask * 3)
        mask = mask * 2 + 1;
    uint64_t table = mask == 7 ? o + 64 : synth_alloc(sy, (mask + 1) * 16);
    synth_w64(sy, o + 16, n); /* fill */
    synth_w64(sy, o + 24, n); /* used */
    synth_w64(sy, o + 32, mask);
    synth_w64(sy, o + 40, table);
    synth_w64(sy, o + 48, (uint64_t)-1);
    for (size_t i = 0; i < n; i++) {
        /* spread over the table, as hashing spreads them: even slots, then odd */
        uint64_t slot = 2 * i <= mask ? 2 * i : 2 * i - mask;
        synth_w64(sy, table + 16 * slot, items[i]);
        synth_w64(sy, table + 16 * slot + 8, 0x777 + i);
    }
    return o;
}

uint64_t synth_code(synth *sy, uint64_t name, uint64_t filename, int firstlineno)
{
    const synth_shape *sh = sy->shape;
    uint64_t o = synth_object(sy, sy->t_code, sh->code_size);
    const pm_value_layout *V = sy->s->values;
    synth_wfield(sy, o, &V->code_name, name);
    synth_wfield(sy, o, &V->code_filename, filename);
    synth_wfield(sy, o, &V->code_firstlineno, (uint32_t)firstlineno);
    return o;
}

uint64_t synth_function(synth *sy, uint64_t qualname, uint64_t code, uint64_t globals)
{
    uint64_t o = synth_object(sy, sy->t_function, sy->shape->func_size);
    synth_w64(sy, o + 16, globals);
    synth_w64(sy, o + 32, qualname); /* func_name */
    synth_w64(sy, o + 40, qualname);
    synth_w64(sy, o + 48, code);
    return o;
}

uint64_t synth_module(synth *sy, uint64_t name, uint64_t dict)
{
    uint64_t o = synth_object(sy, sy->t_module, 56);
    synth_w64(sy, o + 16, dict);
    synth_w64(sy, o + 48, name);
    return o;
}

uint64_t synth_instance(synth *sy, uint64_t cls, uint64_t dict, const uint64_t *values,
                        size_t nvalues)
{
    const pm_layout *L = sy->s->layout;
    uint64_t basicsize = synth_r64(sy, cls + (uint64_t)L->tp_basicsize.off);
    if (sy->minor <= 10) {
        uint64_t o = synth_object(sy, cls, basicsize);
        synth_w64(sy, o + 16, dict); /* values on 3.10 live in a split dict */
        return o;
    }
    size_t inline_bytes = sy->minor >= 13 ? 8 + 8 * (dict ? 0 : nvalues) : 0;
    uint64_t o = synth_object(sy, cls, basicsize + inline_bytes);
    if (dict) {
        synth_w64(sy, o - 24, dict);
        return o;
    }
    if (sy->minor == 11) {
        synth_w64(sy, o - 32, synth_values(sy, values, nvalues));
    } else if (sy->minor == 12) {
        synth_w64(sy, o - 24, synth_values(sy, values, nvalues) - 1); /* tagged */
    } else {
        uint64_t v = o + basicsize;
        synth_w8(sy, v, (uint8_t)nvalues);
        synth_w8(sy, v + 1, (uint8_t)nvalues);
        synth_w8(sy, v + 2, 1); /* embedded */
        synth_w8(sy, v + 3, 1); /* valid */
        for (size_t i = 0; i < nvalues; i++)
            synth_w64(sy, v + 8 + 8 * i, values[i]);
    }
    return o;
}

/* A pymac session over a synthetic memory image: no core, no interpreter.
 *
 * The image is a run of pages served through the session's reader; a page
 * can be unmapped. The layouts the decoders use (object and type headers,
 * value and referent layouts) are filled in for the shape of one CPython
 * version with the member offsets of its x86-64 build (as `ptype/o` shows
 * them), and the built-in type objects are laid out in the image, so the
 * truth of every object built here is known by construction. */
#ifndef PYMAC_TEST_SYNTH_H
#define PYMAC_TEST_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "object.h"
#include "ref_layout.h"
#include "value_layout.h"

/* What differs between the versions' layouts (byte sizes and offsets). */
typedef struct synth_shape {
    unsigned minor;
    uint32_t type_size, heaptype_size, ht_cached_keys;
    uint32_t ascii_size, compact_size, unicode_size, str_data;
    uint32_t func_size;
    uint32_t code_size, code_itemsize, co_firstlineno, co_filename, co_name;
} synth_shape;

/* Py_TPFLAGS_* bits that object.h does not need */
#define SYNTH_TPF_INLINE_VALUES (1ul << 2) /* 3.13 */
#define SYNTH_TPF_BASETYPE (1ul << 10)
#define SYNTH_TPF_LIST_SUBCLASS (1ul << 25)
#define SYNTH_TPF_TUPLE_SUBCLASS (1ul << 26)
#define SYNTH_TPF_BYTES_SUBCLASS (1ul << 27)
#define SYNTH_TPF_UNICODE_SUBCLASS (1ul << 28)
#define SYNTH_TPF_DICT_SUBCLASS (1ul << 29)

typedef struct synth {
    pymac_session *s;
    unsigned minor;          /* 3.minor shape: 10, 11, 12 or 13 */
    const synth_shape *shape;
    uint64_t base;           /* first address of the image */
    size_t size;             /* its bytes */
    unsigned char *mem;
    unsigned char *mapped;   /* one flag per page */
    uint64_t next;           /* bump allocator */
    uint64_t reads;          /* reader calls: the work the decoders did */
    bool dirty;              /* written since the session last read */
    /* the built-in types, laid out in the image */
    uint64_t t_type, t_object, t_str, t_int, t_bool, t_float, t_none, t_bytes, t_tuple, t_list,
        t_dict, t_set, t_frozenset, t_function, t_module, t_code, t_cell;
    uint64_t none, true_, false_, set_dummy;
} synth;

enum { SYNTH_PAGE = 4096 };

/* A session of the 3.minor shape over a fresh image; NULL if unsupported. */
synth *synth_new(unsigned minor);
void synth_free(synth *sy);

/* Raw memory. */
uint64_t synth_alloc(synth *sy, size_t size); /* zeroed, 16-aligned */
uint64_t synth_hole(synth *sy);               /* a page inside the image, unmapped */
void synth_w8(synth *sy, uint64_t addr, uint8_t v);
void synth_w32(synth *sy, uint64_t addr, uint32_t v);
void synth_w64(synth *sy, uint64_t addr, uint64_t v);
void synth_wbytes(synth *sy, uint64_t addr, const void *p, size_t n);
uint64_t synth_r64(synth *sy, uint64_t addr);
/* Writes v into a field (bitfields too) of the struct at base. */
void synth_wfield(synth *sy, uint64_t base, const pm_field *f, uint64_t v);
/* The object header: refcount and type. */
void synth_header(synth *sy, uint64_t obj, uint64_t refcnt, uint64_t type);
/* The reference count CPython gives immortal objects (3.12+), else 1000. */
uint64_t synth_static_refcnt(const synth *sy);
/* Drops what the session cached of memory and types. Writes make the memory
 * cache stale; the decoding helpers below drop it before they decode. */
void synth_flush(synth *sy);
/* Drops the memory cache if the image was written since; for tests that call
 * the library directly rather than through the helpers below. */
void synth_sync(synth *sy);

/* Objects. Each returns the object's address. */
uint64_t synth_object(synth *sy, uint64_t type, size_t size); /* its pre-header included */
uint64_t synth_type(synth *sy, const char *tp_name, uint64_t basicsize, uint64_t itemsize,
                    uint64_t flags);
/* A class: a heap type. dictoffset is used on <= 3.10 shapes (a __dict__ slot);
 * 3.11+ classes get a managed dict (and 3.13 inline values). */
uint64_t synth_class(synth *sy, const char *name, uint64_t cached_keys);
/* str from UTF-8: compact (kind from the widest code point), or legacy:
 * a PyUnicodeObject whose data is a separate block. */
uint64_t synth_str(synth *sy, const char *utf8);
uint64_t synth_str_legacy(synth *sy, const char *utf8);
uint64_t synth_int(synth *sy, int64_t v);
uint64_t synth_int_digits(synth *sy, bool negative, const uint32_t *digits, size_t n);
/* An int whose header says ndigits (sign negative) over the digits given. */
uint64_t synth_int_raw(synth *sy, uint64_t tag, const uint32_t *digits, size_t n);
uint64_t synth_float(synth *sy, double v);
uint64_t synth_bytes(synth *sy, const void *p, size_t n);
uint64_t synth_tuple(synth *sy, const uint64_t *items, size_t n);
uint64_t synth_list(synth *sy, const uint64_t *items, size_t n);
uint64_t synth_list_alloc(synth *sy, const uint64_t *items, size_t n, size_t allocated);
/* A combined dict; unicode: 3.11+ DICT_KEYS_UNICODE entries (no hash). */
uint64_t synth_dict(synth *sy, const uint64_t *keys, const uint64_t *values, size_t n,
                    bool unicode);
/* Shared keys (a class's cached keys), and a split dict over them. */
uint64_t synth_shared_keys(synth *sy, const uint64_t *keys, size_t n);
uint64_t synth_values(synth *sy, const uint64_t *values, size_t n); /* a values array */
uint64_t synth_split_dict(synth *sy, uint64_t keys, const uint64_t *values, size_t n);
uint64_t synth_set(synth *sy, const uint64_t *items, size_t n, bool frozen);
uint64_t synth_code(synth *sy, uint64_t name, uint64_t filename, int firstlineno);
uint64_t synth_function(synth *sy, uint64_t qualname, uint64_t code, uint64_t globals);
uint64_t synth_module(synth *sy, uint64_t name, uint64_t dict);
/* An instance of a class made by synth_class: its attributes in a dict
 * (dict != 0), or (3.11+) in values over the class's cached keys. */
uint64_t synth_instance(synth *sy, uint64_t cls, uint64_t dict, const uint64_t *values,
                        size_t nvalues);

/* pm_value_repr of the object at addr into buf; false (and buf "") if
 * pm_object_read refuses it. */
bool synth_repr(synth *sy, uint64_t addr, char *buf, size_t cap);
/* pm_value_sizeof of the object at addr (0 if not an object). */
uint64_t synth_sizeof(synth *sy, uint64_t addr);

/* Referents of the object at addr, collected. */
typedef struct synth_edge {
    uint64_t target;
    char via[64];
    bool conservative;
} synth_edge;
typedef struct synth_edges {
    synth_edge e[64];
    size_t n, calls;
} synth_edges;
bool synth_referents(synth *sy, uint64_t addr, int flags, synth_edges *out);
/* The edge labelled via, or NULL. */
const synth_edge *synth_edge_find(const synth_edges *es, const char *via);

/* ---- checks (CUnit asserts) ---- */

/* Runs the statement after it once per shape, with sy a fresh image. */
extern const unsigned synth_minors[4];
#define FOR_EACH_SHAPE(sy)                                                                    \
    for (size_t shape_i_ = 0; shape_i_ < 4; shape_i_++)                                       \
        for (synth *sy = synth_new(synth_minors[shape_i_]), *once_ = sy; once_;               \
             synth_free(sy), once_ = NULL)

/* Asserts the object at addr decodes to want (and says what it got if not). */
void synth_expect_repr(synth *sy, uint64_t addr, const char *want, int line);
#define EXPECT_REPR(sy, addr, want) synth_expect_repr(sy, addr, want, __LINE__)
/* Asserts an edge labelled via leads to target. */
void synth_expect_edge(const synth *sy, const synth_edges *es, const char *via,
                       uint64_t target, bool conservative, int line);
#define EXPECT_EDGE(sy, es, via, target) synth_expect_edge(sy, es, via, target, false, __LINE__)

#endif

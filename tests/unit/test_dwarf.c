/* DWARF layout resolution against the compiler's own offsetof/sizeof: the
 * structs of layout_sample.h are compiled into the sample shared objects
 * (DWARF 4 and DWARF 5) and into this test. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dwarf_types.h"
#include "layout_sample.h"
#include "unit.h"

struct dup_type_1 {
    DUP_TYPE_BODY_1
};
struct dup_type_2 {
    DUP_TYPE_BODY_2
};

typedef struct sample {
    const char *path;
    int version;
    Dwfl *dwfl;
    pm_dwarf dw;
    uint64_t use1, use2; /* run-time addresses of one function in each CU */
} sample;

static sample samples[] = {
    {.path = LAYOUT_SAMPLE_DWARF4, .version = 4},
    {.path = LAYOUT_SAMPLE_DWARF5, .version = 5},
};
static sample *cur;

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static uint64_t symbol(Dwfl_Module *mod, const char *name)
{
    int n = dwfl_module_getsymtab(mod);
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *nm = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (nm && strcmp(nm, name) == 0 && GELF_ST_TYPE(sym.st_info) == STT_FUNC)
            return addr;
    }
    return 0;
}

static int sample_open(sample *s)
{
    cur = s;
    s->dwfl = dwfl_begin(&callbacks);
    if (!s->dwfl)
        return -1;
    dwfl_report_begin(s->dwfl);
    Dwfl_Module *mod = dwfl_report_offline(s->dwfl, "layout_sample", s->path, -1);
    if (!mod || dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
        fprintf(stderr, "%s: %s\n", s->path, dwfl_errmsg(-1));
        return -1;
    }
    Dwarf_Addr bias;
    s->dw.mod = mod;
    s->dw.dwarf = dwfl_module_getdwarf(mod, &bias);
    s->use1 = symbol(mod, "layout_sample_use");
    s->use2 = symbol(mod, "layout_sample2_use");
    if (!s->dw.dwarf || !s->use1 || !s->use2) {
        fprintf(stderr, "%s: no DWARF or symbols\n", s->path);
        return -1;
    }
    return 0;
}

static int sample_close(void)
{
    if (cur && cur->dwfl)
        dwfl_end(cur->dwfl);
    if (cur)
        cur->dwfl = NULL;
    cur = NULL;
    return 0;
}

static int open_dwarf4(void)
{
    return sample_open(&samples[0]);
}

static int open_dwarf5(void)
{
    return sample_open(&samples[1]);
}

/* An assert whose failure message says what was being checked. */
static void checkf(bool cond, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void checkf(bool cond, int line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CU_assertImplementation(cond ? CU_TRUE : CU_FALSE, (unsigned)line, msg, __FILE__, "",
                            CU_FALSE);
}

static Dwarf_Die type_die(const char *name)
{
    Dwarf_Die die;
    memset(&die, 0, sizeof die);
    bool found = pm_dwarf_find_type(&cur->dw, name, NULL, 0, &die);
    checkf(found, __LINE__, "DWARF %d: type %s found", cur->version, name);
    return die;
}

static void member_at(Dwarf_Die *type, const char *path, size_t off, size_t size, int line)
{
    pm_field f;
    memset(&f, 0xaa, sizeof f);
    bool found = pm_dwarf_member(type, path, &f);
    checkf(found && f.ok, line, "DWARF %d: member %s found", cur->version, path);
    if (!found)
        return;
    checkf(f.off >= 0 && (size_t)f.off == off, line, "DWARF %d: %s at %d, want %zu",
           cur->version, path, f.off, off);
    checkf(f.size == size, line, "DWARF %d: %s is %u bytes, want %zu", cur->version, path,
           f.size, size);
    checkf(f.bit_size == 0, line, "DWARF %d: %s is not a bitfield", cur->version, path);
}

/* Member `m` (a dotted path) of type T: offset and size as this compiler says. */
#define MEMBER(die, T, m) member_at(&(die), #m, offsetof(T, m), sizeof(((T *)0)->m), __LINE__)

static void sizeof_is(const char *name, size_t size, int line)
{
    Dwarf_Die die = type_die(name);
    int64_t got = pm_dwarf_sizeof(&die);
    checkf(got >= 0 && (size_t)got == size, line, "DWARF %d: sizeof %s = %lld, want %zu",
           cur->version, name, (long long)got, size);
}

/* The DIE's name is want (NULL: the DIE has none). */
static void name_is(Dwarf_Die *die, const char *want, int line)
{
    const char *nm = dwarf_diename(die);
    checkf(want ? nm && strcmp(nm, want) == 0 : nm == NULL, line, "DWARF %d: DIE named %s, want %s",
           cur->version, nm ? nm : "(none)", want ? want : "(none)");
}

/* ---- tests ---- */

static void test_version(void)
{
    /* The sample really carries the DWARF version the suite is named for. */
    Dwarf_Off next;
    size_t hsize;
    Dwarf_Half version = 0;
    CU_ASSERT_EQUAL(dwarf_next_unit(cur->dw.dwarf, 0, &next, &hsize, &version, NULL, NULL,
                                    NULL, NULL, NULL),
                    0);
    CU_ASSERT_EQUAL(version, cur->version);
}

static void test_find_types(void)
{
    sizeof_is("pool_header", sizeof(struct pool_header), __LINE__);
    sizeof_is("arena_object", sizeof(struct arena_object), __LINE__);
    sizeof_is("arena_coverage_t", sizeof(arena_coverage_t), __LINE__);
    sizeof_is("arena_map_bot_t", sizeof(arena_map_bot_t), __LINE__);
    sizeof_is("arena_map_bot", sizeof(struct arena_map_bot), __LINE__);
    sizeof_is("cv_coverage_t", sizeof(cv_coverage_t), __LINE__);
    sizeof_is("_obmalloc_state", sizeof(struct _obmalloc_state), __LINE__);
    sizeof_is("_obmalloc_mgmt", sizeof(struct _obmalloc_mgmt), __LINE__); /* defined inside */
    sizeof_is("_obmalloc_pools", sizeof(struct _obmalloc_pools), __LINE__);
    sizeof_is("PyASCIIObject_sample", sizeof(PyASCIIObject_sample), __LINE__);
    sizeof_is("anon_bits", sizeof(struct anon_bits), __LINE__);
    sizeof_is("flex_sample", sizeof(struct flex_sample), __LINE__);
    sizeof_is("poolp", sizeof(poolp), __LINE__);
    sizeof_is("block", 1, __LINE__);
    sizeof_is("unsigned int", sizeof(unsigned int), __LINE__);
    CU_ASSERT_EQUAL(sizeof(struct pool_header), 48); /* the shape CPython has */

    /* What is found is what was asked for. */
    Dwarf_Die d = type_die("pool_header");
    CU_ASSERT_EQUAL(dwarf_tag(&d), DW_TAG_structure_type);
    name_is(&d, "pool_header", __LINE__);
    d = type_die("arena_coverage_t");
    CU_ASSERT_EQUAL(dwarf_tag(&d), DW_TAG_typedef);
    CU_ASSERT_TRUE(pm_dwarf_strip(&d));
    CU_ASSERT_EQUAL(dwarf_tag(&d), DW_TAG_structure_type);
    name_is(&d, NULL, __LINE__); /* the anonymous struct */
    d = type_die("cv_coverage_t");
    CU_ASSERT_TRUE(pm_dwarf_strip(&d)); /* typedef -> const -> volatile -> typedef -> struct */
    CU_ASSERT_EQUAL(dwarf_tag(&d), DW_TAG_structure_type);
}

static void test_missing_types(void)
{
    Dwarf_Die d;
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "no_such_type", NULL, 0, &d));
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "opaque_thing", NULL, 0, &d)); /* declared only */
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "opaque_t", NULL, 0, &d)); /* typedef of that */
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "layout_sample_use", NULL, 0, &d)); /* a function */
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "ref", NULL, 0, &d)); /* a member */
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "pool_heade", NULL, 0, &d));
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "", NULL, 0, &d));
    uint64_t anchors[] = {cur->use1};
    CU_ASSERT_FALSE(pm_dwarf_find_type(&cur->dw, "no_such_type", anchors, 1, &d));
}

static void test_anchors(void)
{
    /* Each CU has its own struct dup_type; the anchor's CU wins. */
    Dwarf_Die d;
    uint64_t a1[] = {cur->use1}, a2[] = {cur->use2}, a02[] = {0, cur->use2};
    CU_ASSERT_TRUE_FATAL(pm_dwarf_find_type(&cur->dw, "dup_type", a1, 1, &d));
    CU_ASSERT_EQUAL(pm_dwarf_sizeof(&d), (int64_t)sizeof(struct dup_type_1));
    CU_ASSERT_TRUE_FATAL(pm_dwarf_find_type(&cur->dw, "dup_type", a2, 1, &d));
    CU_ASSERT_EQUAL(pm_dwarf_sizeof(&d), (int64_t)sizeof(struct dup_type_2));
    CU_ASSERT_TRUE_FATAL(pm_dwarf_find_type(&cur->dw, "dup_type", a02, 2, &d));
    CU_ASSERT_EQUAL(pm_dwarf_sizeof(&d), (int64_t)sizeof(struct dup_type_2));
    /* An anchor outside the module: every CU is searched. */
    uint64_t nowhere[] = {0x10};
    CU_ASSERT_TRUE_FATAL(pm_dwarf_find_type(&cur->dw, "dup_type", nowhere, 1, &d));
    int64_t size = pm_dwarf_sizeof(&d);
    CU_ASSERT(size == (int64_t)sizeof(struct dup_type_1) ||
              size == (int64_t)sizeof(struct dup_type_2));
    /* A type only the other CU has is still found. */
    CU_ASSERT_TRUE(pm_dwarf_find_type(&cur->dw, "pool_header", a2, 1, &d));
    CU_ASSERT_EQUAL(pm_dwarf_sizeof(&d), (int64_t)sizeof(struct pool_header));
}

static void test_pool_header(void)
{
    Dwarf_Die d = type_die("pool_header");
    MEMBER(d, struct pool_header, ref);
    MEMBER(d, struct pool_header, ref._padding);
    MEMBER(d, struct pool_header, ref.count);
    MEMBER(d, struct pool_header, freeblock);
    MEMBER(d, struct pool_header, nextpool);
    MEMBER(d, struct pool_header, prevpool);
    MEMBER(d, struct pool_header, arenaindex);
    MEMBER(d, struct pool_header, szidx);
    MEMBER(d, struct pool_header, nextoffset);
    MEMBER(d, struct pool_header, maxnextoffset);

    /* pm_field_get reads what the offsets say. */
    struct pool_header ph;
    memset(&ph, 0xcc, sizeof ph);
    ph.ref.count = 0x12345678u;
    ph.nextoffset = 0x4000;
    ph.nextpool = (struct pool_header *)(uintptr_t)0x7f0011223344ull;
    pm_field f;
    Dwarf_Die ft;
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member(&d, "ref.count", &f));
    CU_ASSERT_EQUAL(pm_field_get(&ph, &f), 0x12345678u);
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member(&d, "nextoffset", &f));
    CU_ASSERT_EQUAL(pm_field_get(&ph, &f), 0x4000);
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "nextpool", &f, &ft));
    CU_ASSERT_EQUAL(pm_field_get(&ph, &f), 0x7f0011223344ull);
    CU_ASSERT_EQUAL(dwarf_tag(&ft), DW_TAG_pointer_type);
}

static void test_arena_object(void)
{
    Dwarf_Die d = type_die("arena_object");
    MEMBER(d, struct arena_object, address);
    MEMBER(d, struct arena_object, pool_address);
    MEMBER(d, struct arena_object, nfreepools);
    MEMBER(d, struct arena_object, ntotalpools);
    MEMBER(d, struct arena_object, freepools);
    MEMBER(d, struct arena_object, nextarena);
    MEMBER(d, struct arena_object, prevarena);
    d = type_die("arena_coverage_t");
    MEMBER(d, arena_coverage_t, tail_hi);
    MEMBER(d, arena_coverage_t, tail_lo);
    d = type_die("cv_coverage_t");
    MEMBER(d, cv_coverage_t, tail_lo);
    d = type_die("arena_map_bot_t");
    MEMBER(d, arena_map_bot_t, arenas);
}

static void test_obmalloc_state(void)
{
    Dwarf_Die d = type_die("_obmalloc_state");
    MEMBER(d, struct _obmalloc_state, pools);
    MEMBER(d, struct _obmalloc_state, pools.used);
    MEMBER(d, struct _obmalloc_state, mgmt);
    MEMBER(d, struct _obmalloc_state, mgmt.arenas);
    MEMBER(d, struct _obmalloc_state, mgmt.maxarenas);
    MEMBER(d, struct _obmalloc_state, mgmt.unused_arena_objects);
    MEMBER(d, struct _obmalloc_state, mgmt.usable_arenas);
    MEMBER(d, struct _obmalloc_state, mgmt.nfp2lasta);
    MEMBER(d, struct _obmalloc_state, mgmt.narenas_currently_allocated);
    MEMBER(d, struct _obmalloc_state, mgmt.ntimes_arena_allocated);
    MEMBER(d, struct _obmalloc_state, mgmt.narenas_highwater);
    MEMBER(d, struct _obmalloc_state, mgmt.raw_allocated_blocks);
    MEMBER(d, struct _obmalloc_state, usage);
    MEMBER(d, struct _obmalloc_state, usage.ptrs);
    MEMBER(d, struct _obmalloc_state, usage.count);
    MEMBER(d, struct _obmalloc_state, anon_a); /* through the anonymous struct */
    MEMBER(d, struct _obmalloc_state, anon_b); /* ... and the anonymous union in it */
    MEMBER(d, struct _obmalloc_state, anon_c);
    MEMBER(d, struct _obmalloc_state, handle);
    MEMBER(d, struct _obmalloc_state, qualified);

    pm_field f;
    Dwarf_Die ft;
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "qualified", &f, &ft));
    CU_ASSERT_EQUAL(dwarf_tag(&ft), DW_TAG_base_type); /* const volatile typedef stripped */
    name_is(&ft, "unsigned int", __LINE__);
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "mgmt", &f, &ft));
    CU_ASSERT_EQUAL(dwarf_tag(&ft), DW_TAG_structure_type);
    name_is(&ft, "_obmalloc_mgmt", __LINE__);
    /* A member's type resolves further members relative to itself. */
    member_at(&ft, "narenas_highwater", offsetof(struct _obmalloc_mgmt, narenas_highwater),
              sizeof(size_t), __LINE__);
}

static void test_missing_members(void)
{
    Dwarf_Die d = type_die("_obmalloc_state");
    pm_field f;
    static const char *const missing[] = {
        "nope", "mgmt.nope", "arenas", /* only under mgmt */
        "mgmt.arenas.address",         /* through a pointer */
        "usage.count.x",               /* into an int */
        "", ".mgmt", "mgmt.", "mgmt..arenas", "Mgmt", "mgm", "mgmtx",
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        memset(&f, 0, sizeof f);
        bool found = pm_dwarf_member(&d, missing[i], &f);
        checkf(!found, __LINE__, "DWARF %d: \"%s\" is not a member", cur->version, missing[i]);
        checkf(!f.ok, __LINE__, "DWARF %d: \"%s\" leaves ok false", cur->version, missing[i]);
    }
    Dwarf_Die s = type_die("PyASCIIObject_sample");
    CU_ASSERT_FALSE(pm_dwarf_member(&s, "kind", &f)); /* inside the named member state */
    Dwarf_Die b = type_die("unsigned int");
    CU_ASSERT_FALSE(pm_dwarf_member(&b, "x", &f));
}

static void test_arrays(void)
{
    Dwarf_Die d = type_die("_obmalloc_state"), elem;
    pm_field f;
    Dwarf_Die ft;
    uint64_t esz = 0, count = 0;
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "mgmt.nfp2lasta", &f, &ft));
    CU_ASSERT_EQUAL(dwarf_tag(&ft), DW_TAG_array_type);
    CU_ASSERT_TRUE(pm_dwarf_array_elem(&ft, &elem, &esz, &count));
    CU_ASSERT_EQUAL(esz, sizeof(struct arena_object *));
    CU_ASSERT_EQUAL(count, SAMPLE_MAX_POOLS_IN_ARENA + 1);
    CU_ASSERT_EQUAL(dwarf_tag(&elem), DW_TAG_pointer_type);

    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "pools.used", &f, &ft));
    CU_ASSERT_TRUE(pm_dwarf_array_elem(&ft, &elem, &esz, &count));
    CU_ASSERT_EQUAL(esz, sizeof(poolp));
    CU_ASSERT_EQUAL(count, 2 * SAMPLE_NB_SMALL_SIZE_CLASSES);

    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "usage.ptrs", &f, &ft));
    CU_ASSERT_TRUE(pm_dwarf_array_elem(&ft, &elem, &esz, &count));
    CU_ASSERT_EQUAL(esz, 8);
    CU_ASSERT_EQUAL(count, 4);

    /* An array of typedef'd anonymous structs, and a member of its element. */
    Dwarf_Die bot = type_die("arena_map_bot_t");
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&bot, "arenas", &f, &ft));
    CU_ASSERT_TRUE_FATAL(pm_dwarf_array_elem(&ft, &elem, &esz, &count));
    CU_ASSERT_EQUAL(esz, sizeof(arena_coverage_t));
    CU_ASSERT_EQUAL(count, 32);
    member_at(&elem, "tail_lo", offsetof(arena_coverage_t, tail_lo), sizeof(int32_t), __LINE__);

    /* Not arrays. */
    CU_ASSERT_FALSE(pm_dwarf_array_elem(&d, &elem, &esz, &count));
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&d, "mgmt.arenas", &f, &ft));
    CU_ASSERT_FALSE(pm_dwarf_array_elem(&ft, &elem, &esz, &count));

    /* A flexible array member: found, at the end, zero bytes. */
    Dwarf_Die fx = type_die("flex_sample");
    member_at(&fx, "data", offsetof(struct flex_sample, data), 0, __LINE__);
    member_at(&fx, "n", offsetof(struct flex_sample, n), sizeof(long), __LINE__);
    /* ... whose elements have a size but no count (3.15's tracemalloc frames[]) */
    CU_ASSERT_TRUE_FATAL(pm_dwarf_member_typed(&fx, "data", &f, &ft));
    esz = count = 99;
    CU_ASSERT_TRUE(pm_dwarf_array_elem(&ft, &elem, &esz, &count));
    CU_ASSERT_EQUAL(esz, sizeof(char));
    CU_ASSERT_EQUAL(count, 0);
}

/* Lowest set bit (from the start of the struct) and the number of set bits. */
static int set_bits(const void *p, size_t n, int *count)
{
    const unsigned char *b = p;
    int first = -1;
    *count = 0;
    for (size_t i = 0; i < n * 8; i++) {
        if (b[i / 8] >> (i % 8) & 1) {
            if (first < 0)
                first = (int)i;
            ++*count;
        }
    }
    return first;
}

/* `ones` is the struct with only the bitfield set (all ones); `val` holds
 * `want` in it with every other bit set. */
static void bitfield_at(Dwarf_Die *type, const char *path, const void *ones, const void *val,
                        size_t n, uint64_t want, int line)
{
    int nbits, first = set_bits(ones, n, &nbits);
    pm_field f;
    memset(&f, 0, sizeof f);
    bool found = pm_dwarf_member(type, path, &f);
    checkf(found && f.ok, line, "DWARF %d: bitfield %s found", cur->version, path);
    if (!found)
        return;
    checkf(f.off * 8 + f.bit_off == first, line, "DWARF %d: %s at bit %d, want %d",
           cur->version, path, f.off * 8 + f.bit_off, first);
    checkf(f.bit_size == nbits, line, "DWARF %d: %s has %u bits, want %d", cur->version, path,
           f.bit_size, nbits);
    uint64_t got = pm_field_get(val, &f);
    checkf(got == want, line, "DWARF %d: %s reads %llu, want %llu", cur->version, path,
           (unsigned long long)got, (unsigned long long)want);
}

#define BITFIELD(die, T, m, maxval, v)                                                       \
    do {                                                                                     \
        T ones_, val_;                                                                       \
        memset(&ones_, 0, sizeof ones_);                                                     \
        ones_.m = (maxval);                                                                  \
        memset(&val_, 0xff, sizeof val_);                                                    \
        val_.m = (v);                                                                        \
        bitfield_at(&(die), #m, &ones_, &val_, sizeof(T), (v), __LINE__);                    \
    } while (0)

static void test_bitfields(void)
{
    Dwarf_Die d = type_die("PyASCIIObject_sample");
    MEMBER(d, PyASCIIObject_sample, state);
    MEMBER(d, PyASCIIObject_sample, hash);
    BITFIELD(d, PyASCIIObject_sample, state.interned, 3, 2);
    BITFIELD(d, PyASCIIObject_sample, state.kind, 7, 4);
    BITFIELD(d, PyASCIIObject_sample, state.kind, 7, 1);
    BITFIELD(d, PyASCIIObject_sample, state.compact, 1, 0);
    BITFIELD(d, PyASCIIObject_sample, state.ascii, 1, 1);
    BITFIELD(d, PyASCIIObject_sample, state.statically_allocated, 1, 0);
}

/* ---- regressions: bugs these tests found, since fixed ---- */

/* With DWARF 5 (GCC's default), a bitfield's DW_AT_data_bit_offset counts
 * from the start of the struct that directly holds it. pm_dwarf_member adds
 * it to the offset of the outer struct only (`container`), dropping the
 * offset of an anonymous struct the member was found through: anon_bits.hi
 * (bit 67) comes back at bit 3. DWARF 4 (DW_AT_bit_offset, relative to the
 * member's byte offset, which find_member does accumulate) is right. */
static void test_bug_anon_bitfields(void)
{
    Dwarf_Die d = type_die("anon_bits");
    BITFIELD(d, struct anon_bits, lo, 7, 5);
    BITFIELD(d, struct anon_bits, hi, 31, 17);
}

static const unit_test dwarf_tests[] = {
    {"DWARF version of the sample", test_version},
    {"types by name", test_find_types},
    {"missing types", test_missing_types},
    {"anchors pick the CU", test_anchors},
    {"pool_header", test_pool_header},
    {"arena_object, arena_coverage_t", test_arena_object},
    {"_obmalloc_state: nested and anonymous members", test_obmalloc_state},
    {"missing members", test_missing_members},
    {"arrays", test_arrays},
    {"bitfields", test_bitfields},
    {NULL, NULL},
};

bool register_dwarf_tests(void)
{
    /* Bugs these tests found, fixed since: kept as regressions. */
    static const unit_test bugs[] = {
        {"bitfields in an anonymous struct", test_bug_anon_bitfields},
        {NULL, NULL},
    };
    if (!unit_add_suite("dwarf 4", open_dwarf4, sample_close, dwarf_tests) ||
        !unit_add_suite("dwarf 5", open_dwarf5, sample_close, dwarf_tests))
        return false;
    return (unit_add_suite("dwarf 4 regressions", open_dwarf4, sample_close, bugs) &&
                           unit_add_suite("dwarf 5 regressions", open_dwarf5, sample_close, bugs));
}

/* The functions the object allocator's struct can hold, in a stripped
 * interpreter (allocator.c's questions, statics_find.h): _PyObject_Malloc,
 * _PyMem_RawMalloc, _PyMem_DebugMalloc and _PyObject_MiMalloc are static
 * functions of Objects/obmalloc.c, which only the symbol table names.
 *
 * - 3.8-3.11 (file_statics): the structs are file statics too, found from
 *   the test _PyObject_DebugMallocStats inlines (below).
 * - 3.12+ (runtime_allocators): the structs are members of _PyRuntime (the
 *   layout places them), whose initial image in the file is
 *   _PyRuntimeState_INIT: allocators.standard.obj {NULL, _PyObject_Malloc,
 *   ...}, .standard.raw {NULL, _PyMem_RawMalloc, ...}, and allocators.debug
 *   {'r', raw}, {'m', mem}, {'o', obj} holding the same functions. The test
 *   _PyObject_DebugMallocStats inlines compares with _PyObject_Malloc and
 *   one other function, before its first call: _PyMem_DebugMalloc on 3.12,
 *   _PyObject_MiMalloc on 3.13+ (which tests allocators.is_debug_enabled
 *   instead; Debian's 3.14 names only it there, a build without mimalloc
 *   only _PyObject_Malloc). A debug hook is known
 *   by its ctx, its domain's debug_alloc_api_t (PyMem_SetupDebugHooks sets
 *   it so), whatever its address. Default builds only: a free-threaded
 *   build's objects are always mimalloc's. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "layout.h"
#include "statics_find.h"

enum {
    PROLOGUE_MAX = 0x60,  /* bytes of _PyObject_DebugMallocStats read for the test */
    PROLOGUE_MAX_12 = 0xc0, /* 3.12+: its test reads _PyRuntime through the GOT first */
    API_ALLOC_OFF = 8,    /* debug_alloc_api_t {char api_id; PyMemAllocatorEx alloc;}: LP64 */
    API_SIZE_MAX = 128,   /* bytes of a debug_alloc_api_t at most */
};

static bool image_byte(pymac_session *s, uint64_t addr, char want)
{
    uint64_t w;
    return pm_module_image_u64(s, addr, &w) && (char)(w & 0xff) == want;
}

/* The .text addresses the prologue compares with: lea C(%rip) in a shared
 * library, $C in a non-PIE executable; *n of them (at most 8). */
static size_t prologue_consts(const pm_insn *v, size_t n, const pm_section *text, uint64_t *c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[i].kind == PM_INSN_LEA || v[i].kind == PM_INSN_CMP_IMM ||
                             v[i].kind == PM_INSN_IMM32
                         ? v[i].target
                     : v[i].kind == PM_INSN_MEM_IMM ? (uint64_t)v[i].imm
                                                    : 0;
        if (!x || !pm_section_has(text, x, 1))
            continue;
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup |= c[j] == x;
        if (!dup && k < 8)
            c[k++] = x;
    }
    return k;
}

/* The test at the top of _PyObject_DebugMallocStats ([lo, hi), read up to
 * max bytes): its instructions up to the first call of a function (an e8
 * byte inside another instruction is no call), malloc'd. */
static bool stats_test(pymac_session *s, const pm_section *text, uint64_t lo, uint64_t hi,
                       uint64_t max, pm_insn **v, size_t *n)
{
    if (hi > lo + max)
        hi = lo + max;
    if (!pm_module_insns(s, lo, hi, v, n))
        return false;
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].kind == PM_INSN_CALL && pm_section_has(text, (*v)[i].target, 1) &&
            pm_module_function_start(s, (*v)[i].target))
            *n = i;
    return true;
}

/* _PyMem_PymallocEnabled(), inlined at the top of the export on every build
 * read: `_PyObject.malloc == _PyMem_DebugMalloc ? _PyMem_Debug.obj.alloc.malloc
 * == _PyObject_Malloc : _PyObject.malloc == _PyObject_Malloc`. Its first
 * .data operand is _PyObject.malloc, its second _PyMem_Debug.obj.alloc.malloc;
 * it compares with two functions. The file's image tells which: _PyObject
 * is {NULL, _PyObject_Malloc, ...} and _PyMem_Debug {'r', raw}, {'m', mem},
 * {'o', obj} with mem's and obj's malloc _PyObject_Malloc. */
static bool file_statics(pymac_session *s, pm_allocator_statics *out)
{
    pm_section text, data;
    uint64_t lo, hi, bias = s->python.elf_bias;
    pm_insn *v;
    size_t n;
    pm_field f_malloc, f_ctx;
    memset(out, 0, sizeof *out);
    pm_lookup_field(s, "PyMemAllocatorEx", "malloc", &f_malloc);
    pm_lookup_field(s, "PyMemAllocatorEx", "ctx", &f_ctx);
    if (!f_malloc.ok || !f_ctx.ok || !pm_module_section(s, ".text", &text) ||
        !pm_module_section(s, ".data", &data) ||
        !pm_module_export_bounds(s, "_PyObject_DebugMallocStats", &lo, &hi))
        return false;
    if (!stats_test(s, &text, lo, hi, PROLOGUE_MAX, &v, &n))
        return false;
    uint64_t m1 = 0, m2 = 0, c[8];
    for (size_t i = 0; i < n && !m2; i++) {
        bool mem = v[i].kind == PM_INSN_LOAD || v[i].kind == PM_INSN_CMP ||
                   v[i].kind == PM_INSN_MEM_IMM;
        if (!mem || !pm_section_has(&data, v[i].target, 8))
            continue;
        if (!m1)
            m1 = v[i].target;
        else if (v[i].target != m1)
            m2 = v[i].target;
    }
    size_t nc = prologue_consts(v, n, &text, c);
    free(v);
    uint64_t pyobject = m1 - (uint64_t)f_malloc.off, ctx, pymalloc, img;
    if (!m2 || nc != 2 || !pm_module_image_u64(s, pyobject + (uint64_t)f_ctx.off, &ctx) || ctx ||
        !pm_module_image_u64(s, m1, &img))
        return false;
    pymalloc = img + bias;
    if (pymalloc != c[0] && pymalloc != c[1])
        return false;
    /* _PyMem_Debug: 'o' just before obj's allocator, 'm' and 'r' one and
     * two struct sizes before it: the one size that fits */
    uint64_t o_at = m2 - (uint64_t)f_malloc.off - API_ALLOC_OFF, size = 0;
    if (!image_byte(s, o_at, 'o'))
        return false;
    for (uint64_t sz = 16; sz <= API_SIZE_MAX; sz += 8) {
        if (o_at < data.addr + 2 * sz || !image_byte(s, o_at - sz, 'm') ||
            !image_byte(s, o_at - 2 * sz, 'r'))
            continue;
        if (size)
            return false;
        size = sz;
    }
    uint64_t debug = o_at - 2 * size, mem_malloc, raw;
    if (!size ||
        !pm_module_image_u64(s, debug + size + API_ALLOC_OFF + (uint64_t)f_malloc.off,
                             &mem_malloc) ||
        mem_malloc + bias != pymalloc || !pm_module_image_u64(s, m2, &img) ||
        img + bias != pymalloc ||
        !pm_module_image_u64(s, debug + API_ALLOC_OFF + (uint64_t)f_malloc.off, &raw) ||
        !pm_section_has(&text, raw + bias, 1) || raw + bias == pymalloc)
        return false;
    out->pyobject = pyobject;
    out->debug_obj_alloc = o_at + API_ALLOC_OFF;
    out->pymalloc = pymalloc;
    out->debug_malloc = pymalloc == c[0] ? c[1] : c[0];
    out->raw_malloc = raw + bias;
    out->debug_ctx = o_at;
    return true;
}

void pm_runtime_allocator_fields(pymac_session *s, pm_runtime_allocators *a)
{
    static const struct {
        const char *path;
        size_t at;
    } members[] = {
        {"allocators.standard.obj", offsetof(pm_runtime_allocators, std_obj)},
        {"allocators.standard.raw", offsetof(pm_runtime_allocators, std_raw)},
        {"allocators.debug.obj", offsetof(pm_runtime_allocators, dbg_obj)},
        {"allocators.debug.obj.alloc", offsetof(pm_runtime_allocators, dbg_alloc)},
        {"allocators.debug.obj.api_id", offsetof(pm_runtime_allocators, api_id)},
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        pm_lookup_field(s, "_PyRuntimeState", members[i].path,
                        (pm_field *)((char *)a + members[i].at));
}

static bool runtime_allocators(pymac_session *s, pm_allocator_statics *out)
{
    pm_section text;
    pm_runtime_allocators a;
    pm_field f_malloc, f_ctx;
    pm_runtime_allocator_fields(s, &a);
    pm_lookup_field(s, "PyMemAllocatorEx", "malloc", &f_malloc);
    pm_lookup_field(s, "PyMemAllocatorEx", "ctx", &f_ctx);
    uint64_t rt = s->rt->runtime_addr, bias = s->python.elf_bias, lo, hi;
    if (s->layout->free_threaded || !a.std_obj.ok || !a.std_raw.ok || !a.dbg_obj.ok ||
        !a.dbg_alloc.ok || !a.api_id.ok || !f_malloc.ok || !f_ctx.ok ||
        !pm_module_section(s, ".text", &text) ||
        !pm_module_export_bounds(s, "_PyObject_DebugMallocStats", &lo, &hi))
        return false;
    uint64_t obj = rt + (uint64_t)a.std_obj.off, alloc = rt + (uint64_t)a.dbg_alloc.off;
    uint64_t ctx, pymalloc, raw, wrapped;
    if (!pm_module_image_u64(s, obj + (uint64_t)f_ctx.off, &ctx) || ctx ||
        !pm_module_image_u64(s, obj + (uint64_t)f_malloc.off, &pymalloc) ||
        !pm_module_image_u64(s, alloc + (uint64_t)f_malloc.off, &wrapped) ||
        wrapped != pymalloc ||
        !pm_module_image_u64(s, rt + (uint64_t)a.std_raw.off + (uint64_t)f_malloc.off, &raw) ||
        !image_byte(s, rt + (uint64_t)a.api_id.off, 'o'))
        return false;
    pymalloc += bias;
    raw += bias;
    pm_insn *v;
    size_t n;
    uint64_t c[8];
    if (!pm_section_has(&text, pymalloc, 1) || !pm_section_has(&text, raw, 1) ||
        raw == pymalloc || !stats_test(s, &text, lo, hi, PROLOGUE_MAX_12, &v, &n))
        return false;
    size_t nc = prologue_consts(v, n, &text, c);
    free(v);
    /* _PyObject_Malloc and one other function, the test's first: Debian's
     * 3.14 compares with _PyObject_MiMalloc alone before its first call; a
     * 3.13+ built without mimalloc names _PyObject_Malloc alone */
    uint64_t other = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i] == raw || (c[i] != pymalloc && other))
            return false;
        if (c[i] != pymalloc)
            other = c[i];
    }
    if (!nc)
        return false;
    out->pyobject = obj;
    out->debug_obj_alloc = alloc;
    out->pymalloc = pymalloc;
    out->raw_malloc = raw;
    out->debug_ctx = rt + (uint64_t)a.dbg_obj.off;
    if (s->rt->minor == 12)
        out->debug_malloc = other;
    else
        out->mimalloc = other;
    return true;
}

bool pm_find_allocator_statics(pymac_session *s, pm_allocator_statics *out)
{
    memset(out, 0, sizeof *out);
    return s->rt->minor >= 12 ? runtime_allocators(s, out) : file_statics(s, out);
}

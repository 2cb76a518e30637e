/* File statics named by one exported function's code (statics_find.h):
 * the function's only .bss operand is the static, checked by its value.
 *
 * - getversion.c's `version` (3.8-3.10): Py_GetVersion formats into it and
 *   returns it; its text starts "3.X.Y".
 * - unicodeobject.c's `interned` (3.8-3.11): PyUnicode_InternInPlace's;
 *   NULL or a dict.
 * - setobject.c's _dummy_struct: exported _PySet_Dummy points to it.
 * - the 3.8/3.9 free-list counters: each file's exported
 *   _PyX_DebugMallocStats prints its numfree (tupleobject.c's indexes the
 *   array numfree[PyTuple_MAXSAVESIZE], whose length is its loop's bound). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "layout.h"
#include "statics_find.h"

/* The function's .bss operands: whether there is just one static among
 * them (its address in *one, else 0), every use of which has width bytes
 * (0: any; a lea has none). The decoded code goes to *code if asked. */
static bool single_bss_operand(pymac_session *s, const char *function, unsigned width,
                               uint64_t *one, pm_insn **code, size_t *ncode)
{
    uint64_t lo, hi, seen = 0;
    size_t n;
    pm_insn *v;
    pm_section bss;
    *one = 0;
    if (code) {
        *code = NULL;
        *ncode = 0;
    }
    if (!pm_module_section(s, ".bss", &bss) || !pm_module_export_bounds(s, function, &lo, &hi) ||
        !pm_module_insns(s, lo, hi, &v, &n))
        return false;
    bool single = true, widths_ok = true;
    for (size_t i = 0; i < n; i++) {
        switch (v[i].kind) {
        case PM_INSN_LOAD:
        case PM_INSN_LOAD_SX32:
        case PM_INSN_STORE:
        case PM_INSN_LEA:
        case PM_INSN_CMP:
        case PM_INSN_SUB_FROM:
        case PM_INSN_MEM_IMM:
        case PM_INSN_MEM_OTHER:
            break;
        default:
            continue;
        }
        if (!pm_section_has(&bss, v[i].target, 1))
            continue;
        if (seen && v[i].target != seen)
            single = false;
        seen = v[i].target;
        if (width && v[i].width != width && v[i].kind != PM_INSN_LEA)
            widths_ok = false;
    }
    if (code) {
        *code = v;
        *ncode = n;
    } else {
        free(v);
    }
    *one = seen && single && widths_ok ? seen : 0;
    return *one != 0;
}

uint64_t pm_find_single_bss_operand(pymac_session *s, const char *function, unsigned width)
{
    uint64_t one;
    single_bss_operand(s, function, width, &one, NULL, NULL);
    return one;
}

uint64_t pm_find_version_buffer(pymac_session *s)
{
    uint64_t at = pm_find_single_bss_operand(s, "Py_GetVersion", 0);
    char text[16] = "";
    unsigned minor, micro;
    return at && pm_read(s, at, text, sizeof text - 1) &&
                   sscanf(text, "3.%u.%u", &minor, &micro) == 2
               ? at
               : 0;
}

uint64_t pm_find_interned(pymac_session *s)
{
    uint64_t at = pm_find_single_bss_operand(s, "PyUnicode_InternInPlace", 8), dict, type;
    pm_symbol dict_type = pm_symbol_lookup(s, "PyDict_Type", NULL);
    const pm_layout *L = s->layout;
    if (!at || !dict_type.found || !pm_read_u64(s, at, &dict))
        return 0;
    if (!dict)
        return at; /* not made yet */
    return pm_read_field(s, dict, &L->ob_type, &type) && type == dict_type.addr ? at : 0;
}

uint64_t pm_find_set_dummy(pymac_session *s)
{
    pm_symbol ptr = pm_symbol_lookup(s, "_PySet_Dummy", NULL);
    const pm_layout *L = s->layout;
    uint64_t dummy, type, name;
    char text[32];
    if (!ptr.found || !pm_read_u64(s, ptr.addr, &dummy) || !dummy ||
        !pm_read_field(s, dummy, &L->ob_type, &type) ||
        !pm_read_field(s, type, &L->tp_name, &name) || !pm_read_cstr(s, name, text, sizeof text))
        return 0;
    return strcmp(text, "<dummy key> type") == 0 ? dummy : 0;
}

/* 3.8/3.9: the function printing each file's free list. */
static const struct {
    const char *file, *function;
} FREELIST_STATS[] = {
    {"floatobject.c", "_PyFloat_DebugMallocStats"},
    {"listobject.c", "_PyList_DebugMallocStats"},
    {"dictobject.c", "_PyDict_DebugMallocStats"},
    {"tupleobject.c", "_PyTuple_DebugMallocStats"},
    {"frameobject.c", "_PyFrame_DebugMallocStats"},
    {"methodobject.c", "_PyCFunction_DebugMallocStats"},
    {"classobject.c", "_PyMethod_DebugMallocStats"},
};

enum { MAX_FREE = 1 << 20, MAX_TUPLE_SAVE = 256 };

uint64_t pm_find_numfree(pymac_session *s, const char *file, uint32_t *size)
{
    const char *function = NULL;
    for (size_t i = 0; i < sizeof FREELIST_STATS / sizeof FREELIST_STATS[0]; i++)
        if (strcmp(FREELIST_STATS[i].file, file) == 0)
            function = FREELIST_STATS[i].function;
    if (!function)
        return 0;
    bool tuple = strcmp(file, "tupleobject.c") == 0;
    pm_insn *v = NULL;
    size_t n = 0;
    uint64_t at, count, len = 1;
    if (!single_bss_operand(s, function, 4, &at, &v, &n)) {
        free(v);
        return 0;
    }
    if (tuple) {
        /* for (i = 1; i < PyTuple_MAXSAVESIZE; i++): the one compare with a
         * constant is the bound */
        size_t bounds = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i].kind == PM_INSN_CMP_IMM) {
                bounds++;
                len = v[i].target;
            }
        if (bounds != 1 || len < 2 || len > MAX_TUPLE_SAVE)
            len = 0;
    }
    free(v);
    /* each count an int, not negative, and not more objects than fit */
    for (uint64_t i = 0; i < len; i++)
        if (!pm_read_uint(s, at + 4 * i, 4, &count) || count > MAX_FREE)
            return 0;
    *size = (uint32_t)(4 * len);
    return len ? at : 0;
}

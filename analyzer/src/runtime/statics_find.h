/* CPython 3.8-3.11 keep pymalloc's state, the interned strings, the
 * getversion.c buffer and the 3.8/3.9 free lists in file statics, which only
 * the symbol table or DWARF names: a stripped interpreter (strip --strip-all,
 * as container images ship it) has neither. These finders read them from
 * the code of exported functions (.dynsym survives strip), the file's
 * .rodata strings and initial .data image, and the core's data, each
 * cross-checked; each fails closed (no answer) unless exactly one candidate
 * passes. Used only when the symbol lookup fails. */
#ifndef PYMAC_STATICS_FIND_H
#define PYMAC_STATICS_FIND_H

#include "layout.h"

/* Fills om (every member) for a stripped 3.8-3.11, from the code of
 * _PyObject_DebugMallocStats, _Py_GetAllocatedBlocks and new_arena, the
 * initial image of usedpools and the arena table (obmalloc_find.c). On
 * failure, false, *missing names the static not found and *detail says
 * more ("" or a parenthesis starting with a space). *never_allocated: no
 * arena was ever allocated (PYTHONMALLOC=malloc), and usable_arenas,
 * unused_arena_objects and nfp2lasta, all NULL, have no address (ok false;
 * nfp2lasta's size is still its length). */
bool pm_find_obmalloc(pymac_session *s, pm_obmalloc_vars *om, const char **missing,
                      const char **detail, bool *never_allocated);
/* Its two halves. What the code and the file's initial image name, with no
 * read of the core (the counters, arenas, maxarenas, raw_allocated_blocks,
 * narenas_currently_allocated, usedpools, 3.10+ arena_map_root); then, in
 * om, those confirmed against the core's data and the rest found there
 * (om->from_code_only when a damaged arena table confirms nothing). The
 * fuzz target runs the first once and the second on each input. */
bool pm_find_obmalloc_in_code(pymac_session *s, pm_obmalloc_vars *code, const char **missing);
bool pm_confirm_obmalloc(pymac_session *s, const pm_obmalloc_vars *code, pm_obmalloc_vars *om,
                         const char **missing, const char **detail, bool *never_allocated);

/* The one run of at least min and at most max 16-byte-aligned pairs of
 * words in image[0 .. size) (mapped at addr, linked at link) that each hold
 * the pair's own link-time address minus 16: usedpools' initial image (an
 * empty circular list per size class). Its address, and *n pairs; 0 if
 * there is no such run or more than one. */
uint64_t pm_self_pair_run(const uint8_t *image, uint64_t size, uint64_t addr, uint64_t link,
                          uint32_t min, uint32_t max, uint32_t *n);

/* The static whose value printone prints under a label: between the calls
 * (calls[], addresses of calls to function starts) around each instruction
 * putting label in %rsi, the one load into %rdx of a width-byte static in
 * [lo, hi) (8: mov, 4: movslq of an int). 0 if no such instruction puts
 * the label, or the loads name none or several statics. */
struct pm_insn;
uint64_t pm_printone_static(const struct pm_insn *body, size_t n, const uint64_t *calls,
                            size_t ncalls, uint64_t label, unsigned width, uint64_t lo,
                            uint64_t hi);

/* The object allocator's structs and the functions they can hold
 * (allocator.c's questions), from the test _PyObject_DebugMallocStats
 * inlines and the file's initial image of the structs (allocator_find.c):
 * 3.8-3.11 _PyObject and _PyMem_Debug, 3.12+ _PyRuntime.allocators. The
 * object domain's struct, the debug hooks' (the allocator they wrap), the
 * debug hooks' ctx (their debug_alloc_api_t), and _PyObject_Malloc,
 * _PyMem_RawMalloc, _PyMem_DebugMalloc (0 on 3.13+: the hook is known by
 * its ctx) and 3.13+ _PyObject_MiMalloc. */
typedef struct pm_allocator_statics {
    uint64_t pyobject, debug_obj_alloc, debug_ctx;
    uint64_t pymalloc, raw_malloc, debug_malloc, mimalloc;
} pm_allocator_statics;
bool pm_find_allocator_statics(pymac_session *s, pm_allocator_statics *out);
/* 3.12+: the members of _PyRuntimeState the search reads. Asked on every
 * run, symbols or not: the layout tables hold the answers of the questions
 * DWARF builds were asked. */
typedef struct pm_runtime_allocators {
    pm_field std_obj, std_raw, dbg_obj, dbg_alloc, api_id;
} pm_runtime_allocators;
void pm_runtime_allocator_fields(pymac_session *s, pm_runtime_allocators *a);

/* The one .bss static the code of the exported function names (with a
 * width of 4 or 8 if width; any if 0), or 0 (statics_find.c). */
uint64_t pm_find_single_bss_operand(pymac_session *s, const char *function, unsigned width);
/* 3.8-3.10: getversion.c's `version` buffer, which Py_GetVersion formats
 * into; 0 if not found. */
uint64_t pm_find_version_buffer(pymac_session *s);
/* unicodeobject.c's `interned` dict pointer: the .bss operand of
 * PyUnicode_InternInPlace, whose value is NULL or a dict; 0 if not found. */
uint64_t pm_find_interned(pymac_session *s);
/* setobject.c's _dummy_struct: the object exported _PySet_Dummy points to,
 * whose type is named "<dummy key> type"; 0 if not found. */
uint64_t pm_find_set_dummy(pymac_session *s);
/* 3.8/3.9: the numfree counter (an int, or the tuple's int[] whose size
 * goes to *size) of the free list of the file the exported anchor is in,
 * checked against the objects on the list; 0 if not found. */
uint64_t pm_find_numfree(pymac_session *s, const char *file, uint32_t *size);

#endif

/* Modules, symbols and debug info (libdwfl): the interpreter's module found
 * among the target's, its symbols, and read-only file bytes a core lacks. */
#ifndef PYMAC_SYMBOLS_H
#define PYMAC_SYMBOLS_H

#include <elfutils/libdwfl.h>

#include "base.h"

typedef struct pm_module {
    Dwfl_Module *mod;
    const char *name;        /* name as the core reports it */
    const char *path;        /* the ELF file found for it */
    uint64_t low, high;      /* mapped range */
    uint64_t bias;
    char build_id[129];      /* hex; empty if none */
    const char *debug_path;  /* where the DWARF came from */
    const char *debug_source;
    Elf *elf;                /* main ELF file */
    uint64_t elf_bias;
    Dwarf *dwarf;            /* its debug info; DIE addresses + bias = run time */
    /* with no DWARF: why, and how to get it (said if no layout table can
     * stand in either) */
    char no_dwarf_why[512];
    char no_dwarf_hint[512];
    bool no_dwarf_said; /* why is what the debuginfod servers answered */
} pm_module;

typedef struct pm_symbol {
    uint64_t addr;  /* run-time address (bias applied) */
    uint64_t size;
    bool found;
} pm_symbol;

/* Reports the target's modules to libdwfl, then finds the interpreter. */
pymac_status pm_modules_open(pymac_session *s, pymac_error *err);
/* Is the file at path, by its name, a CPython interpreter or libpython? */
bool pm_is_python_name(const char *path);
pymac_status pm_not_python(pymac_session *s, pymac_error *err);
/* A failure (corrupt state, no interpreter found) in a truncated core whose
 * missing part was read (or, at_open, any such failure while opening one) is
 * reported as truncation, which is what it is; other statuses pass through. */
pymac_status pm_explain_truncation(pymac_session *s, pymac_status st, bool at_open,
                                   pymac_error *err);

/* ---- --sysroot (sysroot.c) ---- */
/* path under the session's sysroot (malloc'd), or NULL without one */
char *pm_sysroot_path(const pymac_session *s, const char *path);
/* libdwfl's find_elf: the sysroot's copy first, then the target's own callback */
int pm_sysroot_find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
                        Dwarf_Addr base, char **file_name, Elf **elfp);
/* gives every reported module the session, for pm_sysroot_find_elf */
void pm_sysroot_attach(pymac_session *s);
/* a process whose root is not ours: /proc/PID/root becomes the sysroot */
pymac_status pm_sysroot_for_pid(pymac_session *s, int pid, pymac_error *err);

/* Finds a symbol in the python module by name; a file-static may carry a
 * compiler suffix (".0", ".lto_priv.0"), and file_hint ("floatobject.c")
 * picks among statics of the same name. */
pm_symbol pm_symbol_lookup(pymac_session *s, const char *name, const char *file_hint);
/* Reads bytes from the module's ELF file at a run-time address. */
bool pm_module_file_read(pymac_session *s, uint64_t addr, void *buf, size_t len);
/* The python module's writable PT_LOAD segments (.data, .bss: where its
 * statics live) at run time, as [lo, hi) pairs into pairs[2 * cap]; how
 * many (0 without the module's ELF headers). */
size_t pm_module_writable(pymac_session *s, uint64_t *pairs, size_t cap);

/* ---- the module's ELF file as code and initial data (module_image.c) ---- */

/* A section of the python module: run-time address, size, and its bytes in
 * the file (NULL for .bss, which has none). */
typedef struct pm_section {
    uint64_t addr, size;
    const uint8_t *bytes;
} pm_section;
/* The allocated section named name (".text", ".rodata", ".data", ".bss"). */
bool pm_module_section(pymac_session *s, const char *name, pm_section *out);
/* Are the len bytes at addr inside sec? */
bool pm_section_has(const pm_section *sec, uint64_t addr, uint64_t len);
/* [lo, hi) of the function holding the run-time address addr, from the
 * module's .eh_frame (local functions too, which .dynsym does not list). */
bool pm_module_function_bounds(pymac_session *s, uint64_t addr, uint64_t *lo, uint64_t *hi);
/* Does a function (an .eh_frame FDE) start at addr? */
static inline bool pm_module_function_start(pymac_session *s, uint64_t addr)
{
    uint64_t lo, hi;
    return pm_module_function_bounds(s, addr, &lo, &hi) && lo == addr;
}
/* Is the module's code x86-64, the only machine code_scan.h reads? */
bool pm_module_is_x86_64(pymac_session *s);
/* The word at addr in .data (or .PyRuntime) as the file holds it, before the program ran:
 * link-time addresses (a shared library's RELATIVE addends), without the
 * bias. */
bool pm_module_image_u64(pymac_session *s, uint64_t addr, uint64_t *out);
/* The instructions of known forms (code_scan.h) in [lo, hi) of the file's
 * .text, malloc'd into *out; false if the range is not there. */
struct pm_insn;
bool pm_module_insns(pymac_session *s, uint64_t lo, uint64_t hi, struct pm_insn **out, size_t *n);
/* [lo, hi) of an exported function, by its size in .dynsym. */
bool pm_module_export_bounds(pymac_session *s, const char *name, uint64_t *lo, uint64_t *hi);

#endif

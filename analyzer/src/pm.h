/* Internal declarations shared by the library's source files. */
#ifndef PYMAC_PM_H
#define PYMAC_PM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pymac/pymac.h"

#include <elfutils/libdwfl.h>

/* ---- errors and warnings (error.c) ---- */

/* Sets err (may be NULL) and returns status, so callers can `return pm_fail(...)`. */
pymac_status pm_fail(pymac_error *err, pymac_status status, const char *hint, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
void pm_warn(pymac_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the memory of the target (target_core.c) ---- */

typedef struct pm_segment {
    uint64_t vaddr, memsz;  /* what the process had mapped */
    uint64_t offset, filesz; /* what the core holds of it */
    uint32_t flags;          /* PF_R | PF_W | PF_X */
    uint64_t missing;        /* bytes after filesz a truncated core lacks */
} pm_segment;

typedef struct pm_mapped_file {
    uint64_t start, end, file_offset;
    const char *path;
} pm_mapped_file;

typedef struct pm_core {
    int fd;
    const unsigned char *image; /* the whole core, mmapped (or the caller's buffer) */
    bool owns_image;            /* image is our mapping, to unmap on close */
    size_t size;
    Elf *elf;
    pm_segment *segs;          /* PT_LOAD, sorted by vaddr */
    size_t nsegs;
    pm_mapped_file *files;     /* NT_FILE */
    size_t nfiles;
    char *file_strings;        /* storage for files[].path */
    unsigned nthreads;         /* NT_PRSTATUS notes */
    char *psargs;              /* NT_PRPSINFO command line */
    char *execfn;              /* AT_EXECFN, when the auxv note has it */
    bool kernel_core;          /* read-only file pages left out */
    const pm_segment *last;    /* segment of the last read: a lookup cache */
    struct pm_resident *resident; /* bound on the image's resident pages, or NULL */
    uint64_t expected_size;    /* bytes the program headers say the core has */
    uint64_t missing_reads;    /* reads that fell into the missing tail of a truncated core */
} pm_core;

pymac_status pm_core_open(pm_core *core, const char *path, pymac_error *err);
/* The same parse of a core already in memory (size bytes at image, which must
 * outlive the core, and which libelf may rewrite in place if it is not native
 * x86-64: pass a private copy); name is for messages. For tests and fuzzing. */
pymac_status pm_core_open_image(pm_core *core, const void *image, size_t size, const char *name,
                                pymac_error *err);
void pm_core_close(pm_core *core);
void pm_core_sort_segments(pm_core *core);
/* The core's own bytes at addr (len of them), or NULL if the core lacks any of them. */
const void *pm_core_ptr(const pm_core *core, uint64_t addr, size_t len);
/* Copies len bytes at addr out of the core file with pread(), not through
 * the mapping: for reads a page apart, where a page fault per read costs more
 * than a system call. False if the core lacks any of them. */
bool pm_core_copy(const pm_core *core, uint64_t addr, void *buf, size_t len);
/* True when some PT_LOAD covers addr (even if the core left the page out). */
bool pm_core_mapped(const pm_core *core, uint64_t addr);

/* ---- modules, symbols, debug info (modules.c) ---- */

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
    char no_dwarf_hint[512]; /* without DWARF: how to get it (package, --debug-dir) */
} pm_module;

typedef struct pm_symbol {
    uint64_t addr;  /* run-time address (bias applied) */
    uint64_t size;
    bool found;
} pm_symbol;

/* ---- reads from live targets (mem_cache.c) ---- */

typedef struct pm_reader {
    bool (*read)(void *ctx, uint64_t addr, void *buf, size_t len); /* all or nothing */
    void *ctx;
} pm_reader;

typedef struct pm_mem_cache pm_mem_cache;
bool pm_mem_cache_read(pymac_session *s, uint64_t addr, void *buf, size_t len);
void pm_mem_cache_flush(pm_mem_cache *c);
void pm_mem_cache_free(pm_mem_cache *c);

struct pm_proc;

/* ---- the session (session.c) ---- */

/* A remembered pm_symbol_lookup answer; name and hint share one allocation. */
typedef struct pm_symbol_memo {
    char *name;
    const char *hint; /* "" for none */
    pm_symbol sym;
} pm_symbol_memo;
enum { PM_SYMBOL_MEMO = 32 };

struct pm_layout;
struct pm_runtime;

struct pymac_session {
    char *core_path;
    char *exe_override;
    char **debug_dirs;
    size_t n_debug_dirs;
    char *debuginfo_path;    /* the libdwfl search path we built */
    pm_core core;            /* a core file; for live targets only its maps and threads */
    const char *target_kind; /* "gcore", "kernel", "live", "gdb" */
    pm_reader reader;        /* live targets: reads go here, through the cache */
    pm_mem_cache *cache;
    struct pm_proc *proc;    /* a process pymac attached to (target_proc.c) */
    uint64_t space_bytes;    /* bytes mapped: bounds list walks */
    pymac_host host;                 /* a debugger's reader (pymac_open_host) */
    pymac_host_module *host_modules; /* its list of loaded files */
    size_t nhost_modules;
    Dwfl_Callbacks *callbacks;
    Dwfl *dwfl;
    pm_module python;        /* the module holding the interpreter */
    struct pm_layout *layout;
    struct pm_runtime *rt;
    pymac_heap *heap;        /* cached walk */
    pymac_gc *gc;            /* cached GC lists */
    struct pm_type_table *types; /* validated types by address */
    struct pm_value_layout *values; /* value decoders' layout, resolved on first use */
    struct ref_layout *refs;        /* referent decoders' layout, likewise */
    pymac_census *census_gc, *census_full;
    struct pm_graph *graph;         /* the reference graph's nodes, built on first use */
    char **warnings;
    size_t nwarnings;
    pm_symbol_memo symbol_memo[PM_SYMBOL_MEMO];
    size_t symbol_memo_next;
};

/* Frees what was read from the target's memory (heap walk, GC lists, type
 * table, censuses, graph, warnings) and leaves what came from DWARF and the
 * modules: the next view walks memory again. The session itself stays. */
void pm_session_drop_walks(pymac_session *s);
/* Frees all a session owns, but not the session itself (pymac_close frees
 * it too): for sessions embedded in another struct, as the tests make. */
void pm_session_release(pymac_session *s);

/* A failure (corrupt state, no interpreter found) in a truncated core whose
 * missing part was read (or, at_open, any such failure while opening one) is
 * reported as truncation, which is what it is; other statuses pass through. */
pymac_status pm_explain_truncation(pymac_session *s, pymac_status st, bool at_open,
                                   pymac_error *err);

/* Reads len bytes at addr from the core, or from the mapped ELF file when the
 * core left the page out. Returns false if neither has them. */
bool pm_read(pymac_session *s, uint64_t addr, void *buf, size_t len);
/* Is addr mapped in the target? */
bool pm_mapped(pymac_session *s, uint64_t addr);
/* Like pm_read, but returns a pointer: into the core when it holds the whole
 * range, else into scratch (which must have len bytes). NULL if unreadable. */
const void *pm_view(pymac_session *s, uint64_t addr, size_t len, void *scratch);
/* pm_read for reads pages apart (one pool header per pool): from a core, a
 * pread() of the file rather than a page fault of its mapping, five times
 * cheaper per header on a virtualised kernel (bench/README.md). */
bool pm_read_sparse(pymac_session *s, uint64_t addr, void *buf, size_t len);
bool pm_read_u64(pymac_session *s, uint64_t addr, uint64_t *out);
/* Reads an unsigned integer of 1, 2, 4 or 8 bytes. */
bool pm_read_uint(pymac_session *s, uint64_t addr, unsigned size, uint64_t *out);
/* Can count elements of size bytes at addr be in the target? False when they
 * would exceed its mapped bytes or wrap around, or their first or last byte is
 * unreadable: a length read from the target that its memory cannot hold. */
bool pm_span_readable(pymac_session *s, uint64_t addr, uint64_t count, uint64_t size);
/* Reads a NUL-terminated string of at most cap-1 bytes. */
bool pm_read_cstr(pymac_session *s, uint64_t addr, char *buf, size_t cap);

/* Reports the target's modules to libdwfl, then finds the interpreter. */
pymac_status pm_modules_open(pymac_session *s, pymac_error *err);
/* Is the file at path, by its name, a CPython interpreter or libpython? */
bool pm_is_python_name(const char *path);
pymac_status pm_not_python(pymac_session *s, pymac_error *err);
/* Finds a symbol in the python module by name; a file-static may carry a
 * compiler suffix (".0", ".lto_priv.0"), and file_hint ("floatobject.c")
 * picks among statics of the same name. */
pm_symbol pm_symbol_lookup(pymac_session *s, const char *name, const char *file_hint);
/* Reads bytes from the module's ELF file at a run-time address. */
bool pm_module_file_read(pymac_session *s, uint64_t addr, void *buf, size_t len);

/* Little-endian field extraction from a buffer. */
static inline uint64_t pm_get_uint(const void *base, uint32_t off, unsigned size)
{
    const unsigned char *p = (const unsigned char *)base + off;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* qsort, but for empty or single-element arrays, which may be NULL (qsort's
 * base must never be, even for zero elements: found by UBSan on a core whose
 * damage left nothing to sort). */
/* qsort comparator of uint64_t keys (a [lo, hi) pair sorts by its lo). */
static inline int pm_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static inline void pm_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

char *pm_strdup(const char *s);
char *pm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* The session: the context every layer is handed. Each layer keeps its
 * state in the session under a type of its own (most of them incomplete
 * here); the session opens and frees them in order (session.c). Also the
 * reads of the target's memory (target/memory.c) and warnings. */
#ifndef PYMAC_PM_H
#define PYMAC_PM_H

#include "base.h"
#include "symbols.h"
#include "target.h"

/* A warning of the session's (pm_warnings_add). */
#define pm_warn(s, ...) pm_warnings_add(&(s)->warnings, __VA_ARGS__)

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
struct pm_mi_session;
struct pm_mi_session;

struct pymac_session {
    char *core_path;
    char *exe_override;
    char *sysroot;           /* files the target names are looked up here first */
    char **debug_dirs;
    size_t n_debug_dirs;
    char *debuginfo_path;    /* the libdwfl search path we built */
    pm_target target;        /* core, process or debugger (target/) */
    Dwfl_Callbacks *callbacks;
    Dwfl *dwfl;
    pm_module python;        /* the module holding the interpreter */
    struct pm_layout_source *layout_source; /* where layouts come from (layout/) */
    struct pm_layout *layout;
    struct pm_runtime *rt;
    pymac_pymalloc *pymalloc;    /* cached walk */
    struct pm_heap *allocator;   /* the allocator interface over the walk (heap/heap.h) */
    struct pm_mi_session *mimalloc; /* free-threaded builds: mimalloc.c's layout and walk */
    pymac_gc *gc;            /* cached GC lists */
    struct pm_type_table *types; /* validated types by address */
    struct pm_value_layout *values; /* value decoders' layout, resolved on first use */
    struct ref_layout *refs;        /* referent decoders' layout, likewise */
    pymac_census *census_gc, *census_full;
    struct pm_graph *graph;         /* the reference graph's nodes, built on first use */
    struct pm_retain *retain;       /* dominator tree and retained sizes (retain.c), likewise */
    pm_warnings warnings;
    pm_symbol_memo symbol_memo[PM_SYMBOL_MEMO];
    size_t symbol_memo_next;
    pymac_progress_fn progress; /* the caller's progress report (open options), or NULL */
    void *progress_ctx;
};

/* Progress of a long walk, for the caller's progress line (pymac_progress_fn). */
static inline void pm_progress(pymac_session *s, const char *what, uint64_t done, uint64_t total)
{
    if (s->progress)
        s->progress(s->progress_ctx, what, done, total);
}

/* Frees what was read from the target's memory (heap walk, GC lists, type
 * table, censuses, graph, warnings) and leaves what came from DWARF and the
 * modules: the next view walks memory again. The session itself stays. */
void pm_session_drop_walks(pymac_session *s);
/* Frees all a session owns, but not the session itself (pymac_close frees
 * it too): for sessions embedded in another struct, as the tests make. */
void pm_session_release(pymac_session *s);

/* ---- reads of the target's memory (target/memory.c) ---- */

/* Reads len bytes at addr from the target (from a core, or from the mapped
 * ELF file when the core left the page out). False if neither has them. */
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

#endif

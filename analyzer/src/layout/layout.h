/* Where things are in this build of CPython: struct member offsets by name,
 * from the session's layout source, and the addresses of the interpreter's
 * state. */
#ifndef PYMAC_LAYOUT_H
#define PYMAC_LAYOUT_H

#include "field.h"
#include "pm.h"

/* A variable in the target: address and byte size. */
typedef struct pm_var {
    uint64_t addr;
    uint32_t size;
    bool ok;
} pm_var;

/* The variable at addr, found if addr is not 0. */
static inline pm_var pm_var_at(uint64_t addr, uint32_t size)
{
    return (pm_var){addr, size, addr != 0};
}

/* Where layouts come from: one source per session, asked by name
 * ("PyTypeObject", "tp_flags"), so that no walker knows which. DWARF is the
 * only one today (source_dwarf.c); _Py_DebugOffsets (3.13+) and tables
 * generated from CPython's headers (stripped builds) plug in here. */
typedef struct pm_layout_source {
    const char *name; /* provenance: "DWARF" */
    bool (*has)(struct pm_layout_source *src, const char *type);
    /* type.path ("mgmt.arenas": nested members) in out; out->ok false if absent */
    bool (*field)(struct pm_layout_source *src, const char *type, const char *path,
                  pm_field *out);
    /* field, as defined in the compilation unit of the function named anchor
     * first (types private to one file); anchor NULL: as field */
    bool (*field_near)(struct pm_layout_source *src, const char *type, const char *path,
                       const char *anchor, pm_field *out);
    /* sizeof(type), -1 if unknown; anchor: a function whose compilation unit's
     * definition is preferred (NULL: the runtime's and allocator's) */
    int64_t (*size)(struct pm_layout_source *src, const char *type, const char *anchor);
    /* the element size and count of the array member type.path */
    bool (*array)(struct pm_layout_source *src, const char *type, const char *path,
                  uint64_t *elem_size, uint64_t *count);
    /* the name of the type of member type.path (an array's: its element's;
     * a pointer's: its target's with a '*', e.g. "char*"), NULL if unknown:
     * tells 3.14's _PyStackRef slots from PyObject *, 3.15's C-string file
     * names from str objects */
    const char *(*member_type)(struct pm_layout_source *src, const char *type, const char *path);
    /* calls fn with each named direct member of type (name, offset) until fn
     * returns false; -1 if type is unknown or not a struct */
    int (*members)(struct pm_layout_source *src, const char *type,
                   bool (*fn)(void *ctx, const char *name, int64_t off), void *ctx);
    void (*close)(struct pm_layout_source *src);
} pm_layout_source;

/* Opens the DWARF source of the interpreter's module (s->layout_source). */
pymac_status pm_layout_source_dwarf(pymac_session *s, pymac_error *err);
/* With PYMAC_LAYOUT_RECORD=FILE set, wraps s->layout_source in one that
 * appends each question and answer to FILE (source_record.c). */
void pm_layout_source_record(pymac_session *s);
/* Without DWARF: the layout table of the runtime's version and build kind
 * as s->layout_source, checked against _Py_DebugOffsets where the build has
 * them (3.13+); exit 7 naming the version when no table covers it. Needs
 * rt->version and rt->runtime_addr (source_table.c). */
pymac_status pm_layout_source_choose_table(pymac_session *s, pymac_error *err);
/* 3.13+: compares the offsets _Py_DebugOffsets publishes with the layout
 * source's (debug_offsets.c); a table that disagrees is refused. */
pymac_status pm_debug_offsets_check(pymac_session *s, pymac_error *err);

typedef struct pm_layout {
    /* struct arena_object */
    uint32_t arena_object_size;
    pm_field ao_address, ao_pool_address, ao_nfreepools, ao_ntotalpools, ao_freepools,
        ao_nextarena, ao_prevarena;
    /* struct pool_header */
    uint32_t pool_header_size;
    pm_field ph_count, ph_freeblock, ph_nextpool, ph_prevpool, ph_arenaindex, ph_szidx,
        ph_nextoffset, ph_maxnextoffset;
    /* the arena_map radix tree (3.10+) */
    bool has_radix;
    uint32_t map_root_size, map_mid_size, map_bot_size;
    uint64_t map_top_len, map_mid_len, map_bot_len; /* entries per node */
    uint32_t coverage_size;
    pm_field cov_tail_hi, cov_tail_lo;
    /* _PyRuntimeState and PyInterpreterState */
    pm_field rt_interp_main, rt_interp_head, interp_next, interp_obmalloc;
    /* struct _obmalloc_state members (3.12+), relative to the state */
    pm_field om_arenas, om_maxarenas, om_unused_arena_objects, om_usable_arenas, om_nfp2lasta,
        om_narenas_currently_allocated, om_ntimes_arena_allocated, om_narenas_highwater,
        om_raw_allocated_blocks, om_usedpools, om_arena_map_root, om_arena_map_mid_count,
        om_arena_map_bot_count;
    /* the cyclic GC: _gc_runtime_state is in _PyRuntime (3.8) or the interpreter */
    pm_field gc_state;        /* _PyRuntimeState.gc or PyInterpreterState.gc */
    pm_field gc_generations, gc_permanent, gc_collecting;
    uint32_t gc_generation_size;
    uint64_t gc_ngenerations;
    /* 3.14.0-3.14.4's incremental GC: `young` and `old[2]` instead of
     * generations[3]; which old space is generation 1 is `visited_space` */
    bool gc_incremental;
    pm_field gc_young, gc_old, gc_visited_space;
    pm_field gen_head, gen_threshold, gen_count;
    uint32_t gc_head_size;
    pm_field gch_next, gch_prev;
    /* objects and types */
    uint32_t object_size;
    pm_field ob_refcnt, ob_type, ob_size;
    /* free-threaded builds (3.13t+): no ob_refcnt, no pymalloc, no GC lists;
     * the count is ob_ref_local + (ob_ref_shared >> 2) (biased counting) */
    bool free_threaded;
    pm_field ob_tid, ob_ref_local, ob_ref_shared, ob_gc_bits;
    pm_field tp_name, tp_basicsize, tp_itemsize, tp_flags;
    pm_field tp_alloc; /* optional (ok false in synthetic layouts) */
} pm_layout;

/* The allocator's state variables, wherever this version keeps them. */
typedef struct pm_obmalloc_vars {
    pm_var arenas, maxarenas, unused_arena_objects, usable_arenas, nfp2lasta,
        narenas_currently_allocated, ntimes_arena_allocated, narenas_highwater,
        raw_allocated_blocks, usedpools, arena_map_root, arena_map_mid_count, arena_map_bot_count;
    /* a stripped 3.8-3.11 whose arena table does not confirm the statics
     * its code names (damaged): usable_arenas and unused_arena_objects
     * unknown, nfp2lasta's length assumed (obmalloc_find.c); the walk is
     * partial */
    bool from_code_only;
} pm_obmalloc_vars;

typedef struct pm_runtime {
    char version[32];
    uint32_t hexversion;
    unsigned minor;           /* 3.minor */
    bool untested;            /* minor > PM_MAX_MINOR */
    uint64_t runtime_addr;    /* &_PyRuntime */
    uint64_t main_interp;
    uint64_t obmalloc_state;  /* 3.12+: the main interpreter's state */
    pm_obmalloc_vars om;
    uint8_t obj_alloc;        /* pm_obj_alloc: who allocated objects (default build) */
    bool debug_hooks;         /* PyMem debug hooks around it */
    bool obj_wrapped;         /* other hooks on top of it (tracemalloc's) */
    /* bytes the debug hooks put before and after each pymalloc allocation
     * (2 and 1 size_t: the size, the API id and pad bytes; the tail's pad
     * bytes), 0 without them */
    uint32_t debug_front, debug_back;
    /* where the layouts came from: "dwarf", "table" or "debug_offsets+table" */
    const char *layout_source;
    const struct pm_layout_table *table; /* the table, without DWARF */
    unsigned debug_offsets_checked;      /* _Py_DebugOffsets members that agreed */
} pm_runtime;

/* The object domain's allocator of a default build (allocator.c). */
typedef enum pm_obj_alloc {
    PM_ALLOC_UNKNOWN = 0, /* not told (no symbols): pymalloc, as the build has it */
    PM_ALLOC_PYMALLOC,
    PM_ALLOC_MALLOC,      /* PYTHONMALLOC=malloc */
    PM_ALLOC_MIMALLOC,    /* PYTHONMALLOC=mimalloc */
    PM_ALLOC_OTHER,       /* PyMem_SetAllocator */
} pm_obj_alloc;
void pm_allocator_detect(pymac_session *s);
/* "pymalloc", "malloc (PYTHONMALLOC=malloc)", ... */
const char *pm_allocator_name(const pm_runtime *rt);
/* Did objects go to pymalloc (also when not told)? */
#define PM_OBJECTS_IN_PYMALLOC(rt) \
    ((rt)->obj_alloc == PM_ALLOC_UNKNOWN || (rt)->obj_alloc == PM_ALLOC_PYMALLOC)

/* The versions pymac was tested on. A newer one is read from its DWARF all
 * the same, with a warning (pymac_untested_version), and refused only when a
 * structure pymac needs is missing or changed shape; an older one is refused. */
#define PM_MIN_MINOR 8
#define PM_MAX_MINOR 15
#define PM_NEWEST_TESTED "3.15"

pymac_status pm_runtime_open(pymac_session *s, pymac_error *err);
/* The main thread's PyThreadState (the one whose thread_id is
 * _PyRuntime.main_thread), or 0. */
uint64_t pm_main_tstate(pymac_session *s);
pymac_status pm_layout_resolve(pymac_session *s, pymac_error *err);
/* The layout source's answers (false, 0 or ok false without a source). */
bool pm_lookup_type(pymac_session *s, const char *type);
/* type.path resolved by name; out->ok is false when the source lacks it (for
 * members only some versions have). */
void pm_lookup_field(pymac_session *s, const char *type, const char *path, pm_field *out);
/* The element size and count of the array member type.path. */
bool pm_lookup_array(pymac_session *s, const char *type, const char *path, uint64_t *elem_size,
                     uint64_t *count);
/* type.path as the compilation unit of the function at near defines type
 * (then anywhere); out->ok false if absent. */
void pm_lookup_field_near(pymac_session *s, const char *type, const char *path,
                          const char *anchor, pm_field *out);
/* The type name of member type.path (an array's element's, a pointer's
 * target's with a '*'), or NULL. */
const char *pm_lookup_member_type(pymac_session *s, const char *type, const char *path);
/* Each named direct member of type, in order (see pm_layout_source.members). */
int pm_lookup_members(pymac_session *s, const char *type,
                      bool (*fn)(void *ctx, const char *name, int64_t off), void *ctx);
/* sizeof(type) as defined near the function named anchor (see
 * pm_layout_source.size), -1 if unknown. */
int64_t pm_lookup_size_near(pymac_session *s, const char *type, const char *anchor);
/* Reads the member f of the struct at base (up to 8 bytes; bitfields too). */
bool pm_read_field(pymac_session *s, uint64_t base, const pm_field *f, uint64_t *out);
/* sizeof(type), 0 when unknown. */
uint32_t pm_lookup_size(pymac_session *s, const char *type);

#endif

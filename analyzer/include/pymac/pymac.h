/*
 * pymac — the one public header of libpymac.
 *
 * libpymac reads the memory of a CPython process (today: a core file) and
 * reports where the memory went.  Every fallible call returns a pymac_status
 * and, on failure, fills a pymac_error with a one-line message and a hint that
 * names the fix.  The status values double as the CLI's exit codes.
 *
 * Everything hangs off a pymac_session; there is no global state, so several
 * sessions (cores) can be open at once.  Sessions are not thread-safe.
 */
#ifndef PYMAC_PYMAC_H
#define PYMAC_PYMAC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PYMAC_BUILDING)
#define PYMAC_API __attribute__((visibility("default")))
#else
#define PYMAC_API
#endif

/* Status codes; also the exit codes of pymac-analyze (see README.md). */
typedef enum pymac_status {
    PYMAC_OK = 0,
    PYMAC_PARTIAL = 1,          /* results printed, but incomplete: see warnings */
    PYMAC_E_USAGE = 2,          /* bad command line or argument */
    PYMAC_E_IO = 3,             /* a file cannot be opened or read */
    PYMAC_E_NOT_CORE = 4,       /* not an ELF core file */
    PYMAC_E_TRUNCATED = 5,      /* the core is shorter than its headers say */
    PYMAC_E_NOT_PYTHON = 6,     /* no CPython interpreter in the process */
    PYMAC_E_NO_DEBUGINFO = 7,   /* DWARF for the interpreter not found */
    PYMAC_E_MISMATCH = 8,       /* a binary found does not match the core */
    PYMAC_E_UNSUPPORTED = 9,    /* CPython version or build not supported */
    PYMAC_E_ADDRESS = 10,       /* an address is not mapped / not what was asked */
    PYMAC_E_CORRUPT = 11,       /* interpreter state in the core is inconsistent */
    PYMAC_E_NOMEM = 12,         /* out of memory */
    PYMAC_E_INTERNAL = 13,      /* a bug in pymac */
} pymac_status;

typedef struct pymac_error {
    pymac_status status;
    char message[512]; /* one line, no trailing newline */
    char hint[512];    /* how to fix it; may be empty */
} pymac_error;

/* Name of a status ("ok", "not-core", ...), for JSON and logs. */
PYMAC_API const char *pymac_status_name(pymac_status status);

typedef struct pymac_session pymac_session;

/* Progress of a long step (decompressing a core, a walk of the heap): done of
 * total units, what names the step ("decompressing zstd core"). Called now
 * and then, and once with done == total when the step ends (also when it
 * fails). For a front end's progress line; the library prints nothing. */
typedef void (*pymac_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

typedef struct pymac_open_options {
    const char *core_path;            /* required; zstd, xz, lz4 or gzip compressed is fine */
    const char *exe_path;             /* overrides the executable named by the core */
    const char *const *debug_dirs;    /* extra debug-file directories, searched first */
    size_t n_debug_dirs;
    const char *sysroot;              /* look up the files the target names under this
                                         directory first, and debug files under its
                                         usr/lib/debug (GDB's `set sysroot`); NULL: none,
                                         except /proc/PID/root for a process whose root
                                         is not ours (chroot, container) */
    pymac_progress_fn progress;       /* optional */
    void *progress_ctx;
} pymac_open_options;

PYMAC_API pymac_status pymac_open_core(const pymac_open_options *opts, pymac_session **out,
                                       pymac_error *err);

/* A running process. stop:
 *   PYMAC_STOP    every thread is stopped (ptrace seize + interrupt) until
 *                 pymac_close; if the caller dies, the kernel resumes them;
 *   PYMAC_NO_STOP memory is read while the process runs, and results carry a
 *                 warning that they may be inconsistent;
 *   PYMAC_HELD    a debugger holds the process stopped: read it as it is.
 * opts->core_path is ignored. */
enum { PYMAC_NO_STOP = 0, PYMAC_STOP = 1, PYMAC_HELD = 2 };
PYMAC_API pymac_status pymac_open_pid(int pid, int stop, const pymac_open_options *opts,
                                      pymac_session **out, pymac_error *err);
/* Resumes the threads of a process opened with stop; async-signal-safe, for
 * a front end's SIGINT/SIGTERM handler. The session must still be closed. */
PYMAC_API void pymac_release(pymac_session *s);

/* A target only a debugger can read (GDB's inferior: a core, a live process,
 * a gdbserver target). read() must fill all len bytes or return 0; pymac
 * caches what it reads in 16 KiB chunks. */
typedef int (*pymac_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
typedef struct pymac_host_module {
    const char *path;  /* the ELF file */
    uint64_t bias;     /* load bias: run-time address minus file address */
} pymac_host_module;
typedef struct pymac_host {
    pymac_read_fn read;
    void *ctx;
    const pymac_host_module *modules;
    size_t nmodules;
    unsigned nthreads;
    const char *kind;  /* "gdb" or whatever names the target */
    const uint64_t *ranges; /* optional: mapped [start, end) pairs, 2 * nranges values; */
    size_t nranges;         /* without them every probe of an address is a read */
} pymac_host;
PYMAC_API pymac_status pymac_open_host(const pymac_host *host, const pymac_open_options *opts,
                                       pymac_session **out, pymac_error *err);
PYMAC_API void pymac_close(pymac_session *s);

/* Warnings collected so far (partial results, odd but survivable data). */
PYMAC_API size_t pymac_warning_count(const pymac_session *s);
PYMAC_API const char *pymac_warning(const pymac_session *s, size_t i);

/* ---- info ---------------------------------------------------------------- */

typedef struct pymac_info {
    const char *core_path;
    const char *core_kind;         /* "gcore" or "kernel" */
    const char *executable;        /* as the core names it (or --exe) */
    const char *python_version;    /* "3.11.7" */
    uint32_t hexversion;           /* PY_VERSION_HEX */
    const char *python_module;     /* path of libpython or the static executable */
    const char *python_build_id;   /* hex */
    const char *debuginfo_path;    /* file the DWARF came from */
    const char *debuginfo_source;  /* "module itself", "build-id directory", ... */
    unsigned nthreads;             /* threads in the core (NT_PRSTATUS notes) */
    uint64_t runtime_address;      /* &_PyRuntime */
    uint64_t main_interpreter;     /* interpreters.main */
    uint64_t obmalloc_state;       /* 0 on 3.8-3.11 (file statics) */
    int untested_version;          /* newer than the newest version pymac was tested on */
    const char *newest_tested;     /* that version, "3.15" */
    const char *compression;       /* "zstd", "xz", "lz4", "gzip"; NULL: a plain core */
    uint64_t compressed_bytes;     /* the compressed file's size */
    uint64_t core_bytes;           /* the core's size (decompressed) */
    const char *debuginfod_urls;   /* debuginfo_source "debuginfod": DEBUGINFOD_URLS */
    /* Where struct layouts came from: "dwarf"; "table", a layout table pymac
     * ships, generated from the DWARF of builds of the same version and kind
     * (no DWARF found); "debug_offsets+table", the table checked against the
     * build's own _Py_DebugOffsets (3.13+). */
    const char *layout_source;
    const char *layout_table;      /* the table's name ("py312"), NULL with DWARF */
    const char *layout_build;      /* "default" or "free-threaded" */
    const char *layout_proven_on;  /* the builds it was generated from, "3.12.1" */
    unsigned debug_offsets_checked; /* _Py_DebugOffsets members that agreed */
} pymac_info;

/* Non-NULL when the target's CPython is newer than the newest version pymac
 * was tested on (read from its DWARF all the same): that version, "3.15". */
PYMAC_API const char *pymac_untested_version(const pymac_session *s);

PYMAC_API pymac_status pymac_get_info(pymac_session *s, pymac_info *out, pymac_error *err);

/* ---- pymalloc: arenas, pools, size classes ------------------------------- */

typedef enum pymac_pool_state {
    PYMAC_POOL_USED = 0,  /* some blocks allocated, some free */
    PYMAC_POOL_FULL = 1,  /* every block allocated */
    PYMAC_POOL_EMPTY = 2, /* carved once, no block allocated now */
} pymac_pool_state;

typedef struct pymac_pool {
    uint64_t address;
    uint32_t arena_index;
    uint32_t size_class;   /* meaningless for empty pools */
    uint32_t block_size;
    uint32_t blocks_in_use;
    uint32_t blocks_total; /* NUMBLOCKS for the class */
    uint32_t blocks_free_listed;  /* blocks on the pool's free list */
    uint32_t blocks_never_used;   /* blocks past nextoffset */
    pymac_pool_state state;
} pymac_pool;

typedef struct pymac_arena {
    uint64_t address;      /* base from mmap */
    uint32_t index;        /* in the arenas[] table */
    uint32_t pools_total;  /* ntotalpools: 64, or 63 when not pool-aligned */
    uint32_t pools_carved; /* pools below pool_address */
    uint32_t pools_used, pools_full, pools_empty;
    uint32_t nfreepools;   /* as the arena object records it */
    uint64_t blocks_in_use;
    uint64_t bytes_in_use; /* blocks_in_use * block size, summed */
    size_t first_pool;     /* index into pymac_pymalloc.pools */
    size_t npools;         /* carved pools of this arena in pymac_pymalloc.pools */
} pymac_arena;

typedef struct pymac_size_class {
    uint32_t block_size;
    uint64_t pools;          /* used + full pools */
    uint64_t blocks_in_use;
    uint64_t blocks_free;    /* free-listed + never-used blocks of those pools */
} pymac_size_class;

#define PYMAC_MAX_SIZE_CLASSES 64

typedef struct pymac_pymalloc {
    /* allocator geometry for this build */
    uint32_t arena_size, pool_size, pool_overhead, nclasses;
    uint32_t maxarenas;
    int has_radix_tree;
    /* counters the allocator keeps */
    uint64_t ntimes_arena_allocated, narenas_highwater, narenas_currently_allocated;
    uint64_t raw_allocated_blocks;
    uint64_t arena_map_mid_count, arena_map_bot_count;
    uint64_t arena_map_root_size, arena_map_mid_size, arena_map_bot_size;
    /* what the walk found */
    size_t narenas;
    pymac_arena *arenas;     /* allocated arenas, in table order */
    size_t npools;
    pymac_pool *pools;       /* carved pools, grouped by arena */
    uint64_t unused_pools;   /* sum of nfreepools: empty + never-carved */
    uint64_t misaligned_arenas;
    pymac_size_class classes[PYMAC_MAX_SIZE_CLASSES];
    int partial;             /* some arena or pool could not be read */
} pymac_pymalloc;

/* Walks the arenas once per session and caches the result (owned by s). */
PYMAC_API pymac_status pymac_pymalloc_walk(pymac_session *s, const pymac_pymalloc **out,
                                           pymac_error *err);

typedef enum pymac_where_kind {
    PYMAC_WHERE_UNMAPPED = 0,   /* the address is not in the process image */
    PYMAC_WHERE_NOT_PYMALLOC,   /* mapped, but outside every pymalloc arena */
    PYMAC_WHERE_ARENA_SLACK,    /* inside an arena but not in a carved pool */
    PYMAC_WHERE_POOL_HEADER,
    PYMAC_WHERE_BLOCK,
} pymac_where_kind;

typedef struct pymac_whereis {
    uint64_t address;
    pymac_where_kind kind;
    uint64_t arena;          /* arena base, when in an arena */
    uint32_t arena_index;
    uint64_t pool;           /* pool address */
    pymac_pool_state pool_state;
    uint32_t size_class, block_size;
    uint64_t block;          /* start of the block holding the address */
    uint32_t block_index;
    uint32_t offset_in_block;
    int in_use;              /* 1 allocated, 0 free (free list, never used, or empty pool) */
    const char *free_reason; /* "on the pool's free list", "never used", "pool is empty" */
    int radix_confirmed;     /* 3.10+: the arena_map radix tree agrees */
} pymac_whereis;

PYMAC_API pymac_status pymac_whereis_address(pymac_session *s, uint64_t addr,
                                             pymac_whereis *out, pymac_error *err);

/* ---- the cyclic GC --------------------------------------------------------- */

#define PYMAC_GC_MAX_GENERATIONS 3

typedef struct pymac_gc_generation {
    uint64_t head;      /* address of the list head (a PyGC_Head) */
    uint64_t objects;   /* list length: len(gc.get_objects(generation=i)) */
    int64_t count;      /* gc.get_count()[i] */
    int64_t threshold;  /* gc.get_threshold()[i] */
    size_t first;       /* index of its first object in pymac_gc.objects */
} pymac_gc_generation;

typedef struct pymac_gc {
    uint32_t ngenerations;
    pymac_gc_generation generations[PYMAC_GC_MAX_GENERATIONS];
    pymac_gc_generation permanent; /* gc.freeze()'s list */
    int collecting;                /* the core was taken mid-collection */
    int partial;                   /* a list could not be walked to its end */
    uint64_t *objects;             /* PyObject addresses, generation by generation */
    size_t nobjects;
} pymac_gc;

/* Walks the main interpreter's generation lists once per session (cached). */
PYMAC_API pymac_status pymac_gc_walk(pymac_session *s, const pymac_gc **out, pymac_error *err);

/* ---- the census: objects per type ----------------------------------------- */

typedef struct pymac_type_count {
    char name[96];     /* type(o).__name__ */
    uint64_t type;     /* address of the type object */
    uint64_t count;
    uint64_t bytes;    /* sum of sys.getsizeof()-style sizes */
} pymac_type_count;

typedef struct pymac_census {
    int gc_only;           /* only the GC generations (as gc.get_objects()) */
    pymac_type_count *rows;/* sorted by bytes, largest first */
    size_t nrows;
    uint64_t objects, bytes;
    uint64_t freelisted;   /* refcount-0 objects parked on free lists (not live) */
    uint64_t raw_blocks, raw_bytes; /* in-use pymalloc blocks holding no object */
    uint64_t invalid;      /* GC list entries without a valid type */
    int partial;
} pymac_census;

/* Builds (once per session and kind) the census. */
PYMAC_API pymac_status pymac_census_build(pymac_session *s, int gc_only,
                                          const pymac_census **out, pymac_error *err);

/* Who refers to the object at addr, and how; every root and live object is
 * asked (the session's reference graph, built once). */
typedef struct pymac_referrer {
    uint64_t address;  /* the referring object; 0 for a root */
    char *type;        /* its type's name, or the root's label */
    char *via;         /* how: "[3]", ".name", "['key']"; "(root)" for a root */
    int conservative;  /* found by a conservative scan of memory */
} pymac_referrer;

typedef struct pymac_referrers {
    uint64_t address;
    uint64_t refcnt;   /* the object's own count (immortal: see below) */
    int immortal;
    size_t n;
    pymac_referrer *referrers; /* roots first, then objects by address */
    int partial;
} pymac_referrers;

/* PYMAC_E_ADDRESS if addr is not a live object. Free with pymac_referrers_free. */
PYMAC_API pymac_status pymac_find_referrers(pymac_session *s, uint64_t addr,
                                            pymac_referrers **out, pymac_error *err);
PYMAC_API void pymac_referrers_free(pymac_referrers *r);

/* The shortest chain of references from a root (sys.modules, builtins, sys,
 * interned strings first; then thread frames) to the object at addr. */
typedef struct pymac_path_step {
    uint64_t address;
    char *type;        /* "?" if it cannot be read */
    char *via;         /* how the step before refers to it; "" for the first */
    char *value;       /* a short repr ("" if none) */
} pymac_path_step;

typedef struct pymac_path {
    uint64_t address;
    char *type;        /* the object's type's name */
    int found;         /* 0: not reachable from any root */
    char *root;        /* the root's label */
    size_t n;
    pymac_path_step *steps; /* the root's object first, the object itself last */
} pymac_path;

PYMAC_API pymac_status pymac_find_path(pymac_session *s, uint64_t addr, pymac_path **out,
                                       pymac_error *err);
PYMAC_API void pymac_path_free(pymac_path *p);

/* The leak report: objects whose refcount the references found do not
 * explain (a leaked Py_INCREF?), objects on the GC lists no root reaches
 * (uncollected garbage), and, against a baseline core, growth; each grouped
 * by type name, largest first in bytes. */
typedef struct pymac_alloc_site {
    char filename[1024];     /* where tracemalloc says most of a group's bytes were allocated */
    uint32_t lineno;
    uint64_t objects, bytes; /* the group's traced objects from this line, their blocks' bytes */
    uint64_t traced;         /* the group's objects that have a trace at all */
} pymac_alloc_site;

#define PYMAC_LEAK_EXAMPLES 5

typedef struct pymac_leak_group {
    char name[96];           /* the objects' type's name */
    uint64_t objects, bytes; /* growth: added since the baseline (never negative) */
    uint64_t refs;           /* unexplained references, summed (unexplained only) */
    uint64_t retained;       /* what freeing them would free */
    uint64_t examples[PYMAC_LEAK_EXAMPLES]; /* addresses of the first ones (0: none) */
    int has_site;            /* tracemalloc traced some of them: site says where */
    pymac_alloc_site site;
} pymac_leak_group;

typedef struct pymac_leaks {
    pymac_leak_group *unexplained, *unreachable, *growth;
    size_t nunexplained, nunreachable, ngrowth; /* ngrowth: 0 without a baseline */
    size_t objects;          /* live objects examined */
    size_t edges;            /* references between them decoded */
    uint64_t stale_pointers; /* pointers to objects skipped as lying in freed memory */
    size_t dead_objects;     /* malloc chunks holding a dead object */
    /* glibc malloc's heaps, walked to tell freed memory apart */
    size_t malloc_heaps, malloc_chunks, malloc_free_chunks, tcache_chunks;
    int tcache_checked;      /* every tcache bin checked out */
    int partial;
} pymac_leaks;

/* baseline: an older core of the same program, for growth, or NULL. Free
 * with pymac_leaks_free. */
PYMAC_API pymac_status pymac_find_leaks(pymac_session *s, pymac_session *baseline,
                                        pymac_leaks **out, pymac_error *err);
PYMAC_API void pymac_leaks_free(pymac_leaks *l);

/* Two censuses of one program (two cores, or a core and a live process)
 * compared per type name, and pymalloc's totals in each. */
typedef struct pymac_type_delta {
    char name[96];
    int64_t count[2], bytes[2]; /* [0] old, [1] new */
} pymac_type_delta;

typedef struct pymac_pymalloc_totals {
    uint64_t arenas, pools_used, pools_full, blocks_in_use, bytes_in_use;
} pymac_pymalloc_totals;

typedef struct pymac_diff {
    pymac_type_delta *types;  /* by bytes grown, then objects grown, then name */
    size_t ntypes;
    pymac_pymalloc_totals pymalloc[2]; /* old, new */
    int partial;
} pymac_diff;

/* Free with pymac_diff_free. */
PYMAC_API pymac_status pymac_diff_build(pymac_session *old, pymac_session *new_, pymac_diff **out,
                                        pymac_error *err);
PYMAC_API void pymac_diff_free(pymac_diff *d);

/* One object: its header, where it lives, a short repr and what it refers
 * to. */
typedef struct pymac_referent {
    uint64_t address;
    char *type;          /* its type's name; NULL: no valid object there */
    char *via;           /* how the object refers to it: "[3]", ".name", "['key']" */
    char *value;         /* a short repr, or "<not an object>" */
    int conservative;    /* found by a conservative scan */
} pymac_referent;

typedef struct pymac_object {
    uint64_t address;
    uint64_t type_address;
    char *type;          /* its type's name */
    uint64_t refcnt;
    int immortal;
    uint64_t size;       /* as sys.getsizeof() */
    int bad_size;        /* ob_size is impossible: size is the fixed part only */
    int generation;      /* 0-2, 3 permanent, -1 on no GC list */
    /* free-threaded builds: refcnt is ref_local + (ref_shared >> 2) */
    int free_threaded;
    uint32_t ref_local;
    int64_t ref_shared;
    uint64_t owner_thread; /* ob_tid */
    char *where;         /* where the allocator keeps it */
    char *value;         /* a short repr */
    size_t nreferents;
    pymac_referent *referents; /* in the order the object holds them */
    int partial;         /* the referents could not all be read, or past the limit */
} pymac_object;

/* max_referents: at most that many referents are listed (the views ask for
 * 1,000 in text and 10,000 in JSON; 0: a built-in bound).
 * PYMAC_E_ADDRESS (naming why) if addr holds no live object. Free with
 * pymac_object_free. */
PYMAC_API pymac_status pymac_get_object(pymac_session *s, uint64_t addr, size_t max_referents,
                                        pymac_object **out, pymac_error *err);
PYMAC_API void pymac_object_free(pymac_object *o);

/* ---- rendering: the views both front ends print -------------------------- */

typedef enum pymac_format { PYMAC_TEXT = 0, PYMAC_JSON = 1 } pymac_format;

typedef struct pymac_pool_filter {
    uint64_t arena;      /* 0: all arenas; else an arena base address */
    int size_class;      /* -1: all classes */
} pymac_pool_filter;

/* Each returns PYMAC_OK, PYMAC_PARTIAL (printed, but incomplete), or an error
 * (nothing useful printed). */
PYMAC_API pymac_status pymac_render_info(pymac_session *s, pymac_format f, FILE *out,
                                         pymac_error *err);
/* Exactly what sys._debugmallocstats() printed in the process (text only). */
PYMAC_API pymac_status pymac_render_stats(pymac_session *s, pymac_format f, FILE *out,
                                          pymac_error *err);
PYMAC_API pymac_status pymac_render_arenas(pymac_session *s, pymac_format f, FILE *out,
                                           pymac_error *err);
PYMAC_API pymac_status pymac_render_pools(pymac_session *s, const pymac_pool_filter *filter,
                                          pymac_format f, FILE *out, pymac_error *err);
PYMAC_API pymac_status pymac_render_whereis(pymac_session *s, uint64_t addr, pymac_format f,
                                            FILE *out, pymac_error *err);
PYMAC_API pymac_status pymac_render_gc(pymac_session *s, pymac_format f, FILE *out,
                                       pymac_error *err);
PYMAC_API pymac_status pymac_render_types(pymac_session *s, int gc_only, pymac_format f,
                                          FILE *out, pymac_error *err);
typedef struct pymac_object_filter {
    const char *type_name; /* type(o).__name__, or NULL for all */
    int generation;        /* 0..2 (3 = permanent): only that GC list; -1 all objects */
    uint64_t min_size;     /* bytes, as sys.getsizeof */
    uint64_t limit;        /* rows to print; 0 = all */
} pymac_object_filter;

PYMAC_API pymac_status pymac_render_objects(pymac_session *s, const pymac_object_filter *f,
                                            pymac_format fmt, FILE *out, pymac_error *err);
PYMAC_API pymac_status pymac_render_object(pymac_session *s, uint64_t addr, pymac_format fmt,
                                           FILE *out, pymac_error *err);
/* Per type name: objects and bytes in old and new, sorted by bytes grown;
 * and the pymalloc totals of both. */
PYMAC_API pymac_status pymac_render_diff(pymac_session *old, pymac_session *new_,
                                         pymac_format fmt, FILE *out, pymac_error *err);

/* Who refers to the object at addr, and how (list index, dict key,
 * attribute, root); and the shortest chain of references from a root
 * (sys.modules, builtins, sys, interned strings, thread frames) to it. */
PYMAC_API pymac_status pymac_render_referrers(pymac_session *s, uint64_t addr, pymac_format fmt,
                                              FILE *out, pymac_error *err);
PYMAC_API pymac_status pymac_render_path(pymac_session *s, uint64_t addr, pymac_format fmt,
                                         FILE *out, pymac_error *err);

/* Unexplained references (refcount above the references found: a leaked
 * Py_INCREF) and unreachable GC objects, grouped by type, by bytes; with a
 * baseline session (an older core of the same program, or NULL) also the
 * growth per type since then. */
PYMAC_API pymac_status pymac_render_leaks(pymac_session *s, pymac_session *baseline,
                                          pymac_format fmt, FILE *out, pymac_error *err);

/* The one-screen report: the interpreter, the pymalloc heap, the GC lists,
 * the largest types and the leak suspects (the top of the leaks view). */
PYMAC_API pymac_status pymac_render_report(pymac_session *s, pymac_format fmt, FILE *out,
                                           pymac_error *err);
/* The report as one self-contained HTML page (inline CSS and SVG, no script,
 * nothing fetched): heap map, largest types, leak suspects with paths, tables. */
PYMAC_API pymac_status pymac_render_html(pymac_session *s, FILE *out, pymac_error *err);

/* tracemalloc: what tracemalloc.take_snapshot().statistics(key_type,
 * cumulative) returned at the moment of the core, largest first (limit rows,
 * 0 = all), with the traced memory, its peak, the traceback limit and the
 * domains. A process that did not trace gives one line and PYMAC_OK. */
typedef enum pymac_tm_key_type {
    PYMAC_TM_LINENO = 0, PYMAC_TM_FILENAME = 1, PYMAC_TM_TRACEBACK = 2
} pymac_tm_key_type;
typedef struct pymac_tracemalloc_options {
    pymac_tm_key_type key_type;
    int cumulative;        /* not with PYMAC_TM_TRACEBACK */
    uint64_t limit;
} pymac_tracemalloc_options;
PYMAC_API pymac_status pymac_render_tracemalloc(pymac_session *s,
                                                const pymac_tracemalloc_options *o,
                                                pymac_format fmt, FILE *out, pymac_error *err);
/* Two traced cores of one program per allocation site: what
 * new_snapshot.compare_to(old_snapshot, key_type, cumulative) returns,
 * sorted as it sorts (by the size grown, largest first). */
PYMAC_API pymac_status pymac_render_diff_sites(pymac_session *old, pymac_session *new_,
                                               const pymac_tracemalloc_options *o,
                                               pymac_format fmt, FILE *out, pymac_error *err);

/* Retention (render_retain.c): what an object keeps alive (itself and all it
 * dominates: every path from the roots to those passes through it), its
 * immediate dominator and its path; the objects that retain the most, as a
 * tree of dominators or folded stacks; per type, what freeing every instance
 * would free. */
typedef struct pymac_dominators_filter {
    const char *type_name; /* only objects of this type(o).__name__; NULL all */
    uint64_t min_bytes;    /* only objects retaining at least this */
    uint64_t limit;        /* at most this many; 0 all */
    int all;               /* keep roots, modules and module dicts */
    int folded;            /* text: root;...;holder;object N lines */
} pymac_dominators_filter;
PYMAC_API pymac_status pymac_render_retained(pymac_session *s, uint64_t addr, pymac_format fmt,
                                             FILE *out, pymac_error *err);
PYMAC_API pymac_status pymac_render_dominators(pymac_session *s, const pymac_dominators_filter *f,
                                               pymac_format fmt, FILE *out, pymac_error *err);
PYMAC_API pymac_status pymac_render_types_retained(pymac_session *s, pymac_format fmt, FILE *out,
                                                   pymac_error *err);

/* One view, rendered into a string: what a front end that cannot hand the
 * library a FILE* (GDB's Python) calls. */
typedef enum pymac_view_kind {
    PYMAC_VIEW_INFO, PYMAC_VIEW_STATS, PYMAC_VIEW_ARENAS, PYMAC_VIEW_POOLS,
    PYMAC_VIEW_WHEREIS, PYMAC_VIEW_GC, PYMAC_VIEW_TYPES, PYMAC_VIEW_OBJECTS,
    PYMAC_VIEW_OBJECT, PYMAC_VIEW_REFERRERS, PYMAC_VIEW_PATH, PYMAC_VIEW_LEAKS,
    PYMAC_VIEW_REPORT, PYMAC_VIEW_DIFF, PYMAC_VIEW_RETAINED, PYMAC_VIEW_DOMINATORS,
    PYMAC_VIEW_TRACEMALLOC,
} pymac_view_kind;

typedef struct pymac_view {
    pymac_view_kind kind;
    pymac_format format;
    uint64_t address;              /* whereis, object */
    int gc_only;                   /* types */
    pymac_pool_filter pools;       /* pools */
    pymac_object_filter objects;   /* objects */
    int retained;                  /* types: with retained bytes */
    pymac_dominators_filter dominators; /* dominators */
    pymac_tracemalloc_options tracemalloc; /* tracemalloc; diff by site */
    int diff_by_site;              /* diff: per tracemalloc allocation site, not per type */
} pymac_view;

/* Returns the rendered text (free it with pymac_free), or NULL on error with
 * *status and err set. *status is PYMAC_PARTIAL for incomplete results. */
PYMAC_API char *pymac_render_view(pymac_session *s, const pymac_view *v, pymac_status *status,
                                  pymac_error *err);
/* One view onto out. other is the second session of the views that take
 * one: diff's new core (required), leaks' baseline (or NULL). */
PYMAC_API pymac_status pymac_render_to(pymac_session *s, const pymac_view *v,
                                       pymac_session *other, FILE *out, pymac_error *err);

/* The views by name, as front ends spell them (one table for the CLI, GDB
 * and any other): each name's kind and what follows the core on a command
 * line. */
enum { PYMAC_VIEW_ADDRESSES = -1 };
typedef struct pymac_view_name {
    const char *name;     /* "types"; aliases too ("summary") */
    pymac_view_kind kind;
    int args;             /* 0; 1: another core (diff); PYMAC_VIEW_ADDRESSES: one or more */
} pymac_view_name;
/* The view called name, or NULL. */
PYMAC_API const pymac_view_name *pymac_view_by_name(const char *name);
PYMAC_API void pymac_free(void *p);
/* The load bias of an ELF file given the run-time address of one of its
 * symbols (for debuggers that know where a symbol is but not the bias). */
PYMAC_API pymac_status pymac_symbol_bias(const char *path, const char *symbol,
                                         uint64_t runtime_address, uint64_t *bias,
                                         pymac_error *err);

/* Prints the session's warnings, one per line, prefixed "warning: ". */
PYMAC_API void pymac_render_warnings(const pymac_session *s, FILE *out);

#ifdef __cplusplus
}
#endif
#endif

/* tracemalloc's traces, read from the target: for every traced memory block
 * its size and the Python traceback that allocated it, as the process's own
 * tracemalloc module held them. */
#ifndef PYMAC_TRACEMALLOC_H
#define PYMAC_TRACEMALLOC_H

#include "dwarf_types.h"
#include "pm.h"

/* A frame: index into pm_tracemalloc.files (sorted by text, so comparing
 * indexes compares file names as Python compares str) and a line number. */
typedef struct pm_tm_frame {
    uint32_t file;
    uint32_t lineno;
} pm_tm_frame;

/* A traceback_t: frames[first .. first + nframe), most recent first, as
 * tracemalloc stores them. */
typedef struct pm_tm_traceback {
    uint64_t addr;
    uint32_t first, nframe, total_nframe;
} pm_tm_traceback;

typedef struct pm_tm_trace {
    uint64_t ptr, size;
    uint64_t tb_addr; /* the traceback_t in the target */
    uint32_t domain;
    uint32_t tb;      /* index into tracebacks */
} pm_tm_trace;

/* Layouts of _Py_hashtable_t, its entries and the trace structs, from DWARF. */
typedef struct pm_tm_layout {
    bool inline_entries;  /* 3.8: key and data follow the entry header */
    uint32_t entry_size, bucket_size;
    pm_field ht_nentries, ht_nbuckets, ht_buckets, ht_key_size, ht_data_size;
    pm_field e_next, e_key, e_value;
    uint32_t pointer_key_size; /* 3.8: sizeof(pointer_t), a {ptr, domain} key */
    pm_field pk_ptr, pk_domain;
    uint32_t trace_size;
    pm_field tr_size, tr_traceback;
    pm_field tb_nframe, tb_total_nframe, tb_frames;
    uint32_t frame_size;
    pm_field fr_filename, fr_lineno;
    bool fr_cstring;        /* 3.15+: the file name is a char *, not a str */
} pm_tm_layout;

/* Where the state is: addresses of the variables (3.8-3.11 statics) or of
 * the members of _PyRuntime.tracemalloc (3.12+). 0 when absent. */
typedef struct pm_tm_vars {
    uint64_t tracing, max_nframe, use_domain; /* ints */
    uint64_t traced_memory, peak_traced_memory; /* size_t */
    uint64_t traces, domains;                 /* _Py_hashtable_t * */
    uint32_t int_size;
    /* a stripped 3.8-3.11 that is not tracing: _tracemalloc.c's statics are
     * not located (no symbol names them), and need not be: with tracing off
     * its counters are 0 (tracemalloc_clear_traces() zeroes them on stop)
     * and there is no trace to read */
    bool untraced_unlocated;
} pm_tm_vars;

typedef struct pm_tracemalloc {
    bool tracing;
    int64_t max_nframe;   /* tracemalloc.get_traceback_limit() */
    uint64_t traced_memory, peak_traced_memory;
    pm_tm_trace *traces;
    size_t ntraces;
    pm_tm_traceback *tracebacks;
    size_t ntracebacks;
    pm_tm_frame *frames;
    size_t nframes;
    char **files;         /* UTF-8, distinct, sorted */
    size_t nfiles;
    uint32_t *domains;    /* distinct domains with traces, ascending */
    size_t ndomains;
    bool partial;         /* some table, trace or traceback could not be read */
} pm_tracemalloc;

/* Bounds on what a table may claim: more is corruption, not data. */
enum { PM_TM_MAX_FRAMES = 65535, PM_TM_MAX_FILENAME = 4096 };

/* One entry of a _Py_hashtable_t: its key (3.8's {ptr, domain} keys give
 * both) and the address of its value (3.9+: the value pointer; 3.8: the
 * inline data). Return false to stop the walk. */
typedef bool (*pm_tm_entry_fn)(void *ctx, uint64_t key, uint32_t key_domain, uint64_t value);

/* Walks every entry of the table at addr: each bucket's chain, at most as
 * many entries as the table says it has (a longer or looping chain stops the
 * walk). PYMAC_OK, PYMAC_PARTIAL (damaged: what was read was reported, and a
 * warning says why), or an error for a table header that cannot be read. */
pymac_status pm_tm_table_walk(pymac_session *s, const pm_tm_layout *T, uint64_t addr,
                              pm_tm_entry_fn fn, void *ctx);

pymac_status pm_tm_layout_resolve(pymac_session *s, pm_tm_layout *T, pymac_error *err);
pymac_status pm_tm_locate(pymac_session *s, pm_tm_vars *v, pymac_error *err);

/* ---- a stripped 3.8-3.11 that traces (tracemalloc_find.c) ---- */

/* Fills v->traced_memory, peak_traced_memory, traces and (3.9+) domains
 * from the code of _tracemalloc.c's exports, confirmed by the traces; false
 * unless exactly one answer passes, and *missing names the static not
 * found. */
bool pm_tm_find_statics(pymac_session *s, const pm_tm_layout *T, pm_tm_vars *v,
                        const char **missing);

/* Its steps, for the tests. One function's decoded code (code_scan.h). */
typedef struct pm_tm_fn {
    struct pm_insn *v;
    size_t n;
} pm_tm_fn;
/* The one 8-byte static in [lo, hi) that `sub %reg, X(%rip)` takes from in
 * fns (remove_trace's traced memory); 0 if none or several. */
uint64_t pm_tm_code_traced(const pm_tm_fn *fns, size_t nfns, uint64_t lo, uint64_t hi);
/* The one 8-byte static P in [lo, hi), not traced, that some function of
 * fns stores from a register it stores to traced, and compares with that
 * register or loads (add_trace's peak); 0 if none or several. */
uint64_t pm_tm_code_peak(const pm_tm_fn *fns, size_t nfns, uint64_t traced, uint64_t lo,
                         uint64_t hi);
/* The 8-byte statics in [lo, hi) loaded in every one of the k sets of
 * functions, but those in skip[]: ascending, at most cap of them into out;
 * how many there are (0 as well when out of memory). */
size_t pm_tm_code_tables(const pm_tm_fn *const sets[], const size_t nsets[], size_t k,
                         uint64_t lo, uint64_t hi, const uint64_t *skip, size_t nskip,
                         uint64_t *out, size_t cap);
/* Which of the n candidate statics is tracemalloc_traces (and, with
 * has_domains, tracemalloc_domains): the one assignment whose tables walk
 * whole, hold traces (domains: other domains' traces tables) and whose sizes
 * add up to the value at traced_at, which the value at peak_at is not
 * below. False (both 0) for none or several. */
bool pm_tm_confirm(pymac_session *s, const pm_tm_layout *T, bool has_domains,
                   const uint64_t *cand, size_t n, uint64_t traced_at, uint64_t peak_at,
                   uint64_t *traces, uint64_t *domains);

/* Reads the whole state. A process that did not trace gives tracing = false
 * and PYMAC_OK; PYMAC_PARTIAL when parts were unreadable. */
pymac_status pm_tracemalloc_read(pymac_session *s, pm_tracemalloc *out, pymac_error *err);
void pm_tracemalloc_free(pm_tracemalloc *tm);

/* tracemalloc.get_object_traceback(): reads only the trace of the block
 * holding the object at addr (type flags `flags`, pre-header `presize`), as
 * CPython looks it up: tm->ntraces is 1 when it has one, 0 when CPython
 * would return None. */
pymac_status pm_tm_read_object(pymac_session *s, uint64_t addr, uint64_t flags, uint32_t presize,
                               pm_tracemalloc *tm, pymac_error *err);
/* The traced block an object lives in, as get_object_traceback() finds it. */
uint64_t pm_tm_block_of(const pymac_session *s, uint64_t addr, uint64_t flags, uint32_t presize);
/* The trace of the block in domain 0 (traces read whole), or NULL. */
const pm_tm_trace *pm_tm_find(const pm_tracemalloc *tm, uint64_t block);

/* Snapshot.statistics(key_type, cumulative): one row per key, as
 * tracemalloc groups them. frames (most recent first, as stored) point into
 * the pm_tracemalloc for the traceback key; the other keys have one frame,
 * `one` (lineno 0 for filename). */
typedef enum pm_tm_key { PM_TM_LINENO, PM_TM_FILENAME, PM_TM_TRACEBACK } pm_tm_key;
typedef struct pm_tm_stat {
    uint64_t size, count;
    pm_tm_frame one;
    const pm_tm_frame *frames; /* NULL: just `one` */
    uint32_t nframes;
} pm_tm_stat;

static inline const pm_tm_frame *pm_tm_stat_frames(const pm_tm_stat *st)
{
    return st->frames ? st->frames : &st->one;
}

/* Sorted as Snapshot.statistics() sorts: by (size, count, traceback),
 * largest first, the traceback compared oldest frame first. Traces whose
 * traceback could not be read are left out (the read said partial). */
pymac_status pm_tm_statistics(const pm_tracemalloc *tm, pm_tm_key key, bool cumulative,
                              pm_tm_stat **out, size_t *n);

#endif

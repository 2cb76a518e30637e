/* Resolves, once per session, every struct member the walkers read, from the
 * session's layout source. A name the source lacks is an error naming it,
 * never a guessed offset. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"

typedef struct resolver {
    pymac_session *s;
    const char *missing; /* first "type.member" not found */
    char buf[160];
} resolver;

static bool type_of(resolver *r, const char *name)
{
    if (pm_lookup_type(r->s, name))
        return true;
    if (!r->missing) {
        snprintf(r->buf, sizeof r->buf, "type %s", name);
        r->missing = r->buf;
    }
    return false;
}

static void field(resolver *r, const char *tname, const char *path, pm_field *out)
{
    pm_lookup_field(r->s, tname, path, out);
    if (out->ok)
        return;
    out->ok = false;
    if (!r->missing) {
        snprintf(r->buf, sizeof r->buf, "%s.%s", tname, path);
        r->missing = r->buf;
    }
}

static uint32_t size_of(resolver *r, const char *tname, const char *label)
{
    int64_t n = pm_lookup_size_near(r->s, tname, NULL);
    if (n <= 0 && !r->missing) {
        snprintf(r->buf, sizeof r->buf, "sizeof(%s)", label);
        r->missing = r->buf;
    }
    return n > 0 ? (uint32_t)n : 0;
}

static void resolve_arena_and_pool(resolver *r, pm_layout *L)
{
    if (type_of(r, "arena_object")) {
        L->arena_object_size = size_of(r, "arena_object", "struct arena_object");
        field(r, "arena_object", "address", &L->ao_address);
        field(r, "arena_object", "pool_address", &L->ao_pool_address);
        field(r, "arena_object", "nfreepools", &L->ao_nfreepools);
        field(r, "arena_object", "ntotalpools", &L->ao_ntotalpools);
        field(r, "arena_object", "freepools", &L->ao_freepools);
        field(r, "arena_object", "nextarena", &L->ao_nextarena);
        field(r, "arena_object", "prevarena", &L->ao_prevarena);
    }
    if (type_of(r, "pool_header")) {
        L->pool_header_size = size_of(r, "pool_header", "struct pool_header");
        field(r, "pool_header", "ref.count", &L->ph_count);
        field(r, "pool_header", "freeblock", &L->ph_freeblock);
        field(r, "pool_header", "nextpool", &L->ph_nextpool);
        field(r, "pool_header", "prevpool", &L->ph_prevpool);
        field(r, "pool_header", "arenaindex", &L->ph_arenaindex);
        field(r, "pool_header", "szidx", &L->ph_szidx);
        field(r, "pool_header", "nextoffset", &L->ph_nextoffset);
        field(r, "pool_header", "maxnextoffset", &L->ph_maxnextoffset);
    }
}

/* Node sizes and fan-out of the arena_map radix tree, from the node types. */
static void resolve_radix(resolver *r, pm_layout *L)
{
    L->has_radix = pm_lookup_type(r->s, "arena_map_bot");
    if (!L->has_radix)
        return;
    pm_field f;
    uint64_t esz;
    if (type_of(r, "arena_map_top")) {
        L->map_root_size = size_of(r, "arena_map_top", "arena_map_top");
        field(r, "arena_map_top", "ptrs", &f);
        if (f.ok && !pm_lookup_array(r->s, "arena_map_top", "ptrs", &esz, &L->map_top_len))
            r->missing = "arena_map_top.ptrs[]";
    }
    if (type_of(r, "arena_map_mid")) {
        L->map_mid_size = size_of(r, "arena_map_mid", "arena_map_mid");
        field(r, "arena_map_mid", "ptrs", &f);
        if (f.ok && !pm_lookup_array(r->s, "arena_map_mid", "ptrs", &esz, &L->map_mid_len))
            r->missing = "arena_map_mid.ptrs[]";
    }
    L->map_bot_size = size_of(r, "arena_map_bot", "arena_map_bot");
    field(r, "arena_map_bot", "arenas", &f);
    if (f.ok && !pm_lookup_array(r->s, "arena_map_bot", "arenas", &esz, &L->map_bot_len))
        r->missing = "arena_map_bot.arenas[]";
    if (type_of(r, "arena_coverage_t")) {
        L->coverage_size = size_of(r, "arena_coverage_t", "arena_coverage_t");
        field(r, "arena_coverage_t", "tail_hi", &L->cov_tail_hi);
        field(r, "arena_coverage_t", "tail_lo", &L->cov_tail_lo);
    }
}

static void resolve_runtime(resolver *r, pm_layout *L, unsigned minor)
{
    if (type_of(r, "_PyRuntimeState")) {
        field(r, "_PyRuntimeState", "interpreters.main", &L->rt_interp_main);
        field(r, "_PyRuntimeState", "interpreters.head", &L->rt_interp_head);
    }
    if (!type_of(r, "PyInterpreterState"))
        return;
    field(r, "PyInterpreterState", "next", &L->interp_next);
    if (minor < 12)
        return;
    field(r, "PyInterpreterState", "obmalloc", &L->interp_obmalloc);
    if (!type_of(r, "_obmalloc_state"))
        return;
    static const struct {
        const char *path;
        size_t off;
    } members[] = {
        {"mgmt.arenas", offsetof(pm_layout, om_arenas)},
        {"mgmt.maxarenas", offsetof(pm_layout, om_maxarenas)},
        {"mgmt.unused_arena_objects", offsetof(pm_layout, om_unused_arena_objects)},
        {"mgmt.usable_arenas", offsetof(pm_layout, om_usable_arenas)},
        {"mgmt.nfp2lasta", offsetof(pm_layout, om_nfp2lasta)},
        {"mgmt.narenas_currently_allocated", offsetof(pm_layout, om_narenas_currently_allocated)},
        {"mgmt.ntimes_arena_allocated", offsetof(pm_layout, om_ntimes_arena_allocated)},
        {"mgmt.narenas_highwater", offsetof(pm_layout, om_narenas_highwater)},
        {"mgmt.raw_allocated_blocks", offsetof(pm_layout, om_raw_allocated_blocks)},
        {"pools.used", offsetof(pm_layout, om_usedpools)},
        {"usage.arena_map_root", offsetof(pm_layout, om_arena_map_root)},
        {"usage.arena_map_mid_count", offsetof(pm_layout, om_arena_map_mid_count)},
        {"usage.arena_map_bot_count", offsetof(pm_layout, om_arena_map_bot_count)},
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        field(r, "_obmalloc_state", members[i].path,
              (pm_field *)((char *)L + members[i].off));
}

static void resolve_gc(resolver *r, pm_layout *L, unsigned minor)
{
    if (minor == 8) {
        if (type_of(r, "_PyRuntimeState"))
            field(r, "_PyRuntimeState", "gc", &L->gc_state);
    } else if (type_of(r, "PyInterpreterState")) {
        field(r, "PyInterpreterState", "gc", &L->gc_state);
    }
    if (type_of(r, "_gc_runtime_state")) {
        /* generations[3] (3.8-3.13, 3.14.5+), or 3.14.0-3.14.4's young + old[2] */
        pm_lookup_field(r->s, "_gc_runtime_state", "generations", &L->gc_generations);
        pm_lookup_field(r->s, "_gc_runtime_state", "young", &L->gc_young);
        L->gc_incremental = !L->gc_generations.ok && L->gc_young.ok;
        const char *gens = "generations";
        if (L->gc_incremental) {
            field(r, "_gc_runtime_state", "old", &L->gc_old);
            field(r, "_gc_runtime_state", "visited_space", &L->gc_visited_space);
            gens = "old";
        } else {
            field(r, "_gc_runtime_state", "generations", &L->gc_generations);
        }
        field(r, "_gc_runtime_state", "permanent_generation", &L->gc_permanent);
        field(r, "_gc_runtime_state", "collecting", &L->gc_collecting);
        uint64_t esz, n = 0;
        if (pm_lookup_array(r->s, "_gc_runtime_state", gens, &esz, &n)) {
            L->gc_generation_size = (uint32_t)esz;
            /* young, then the two old spaces */
            L->gc_ngenerations = L->gc_incremental ? (n == 2 ? 3 : 0) : n;
        }
        if (L->gc_incremental && n != 2 && !r->missing)
            r->missing = "_gc_runtime_state.old[2]";
    }
    if (type_of(r, "gc_generation")) {
        field(r, "gc_generation", "head", &L->gen_head);
        field(r, "gc_generation", "threshold", &L->gen_threshold);
        field(r, "gc_generation", "count", &L->gen_count);
    }
    if (type_of(r, "PyGC_Head")) {
        L->gc_head_size = size_of(r, "PyGC_Head", "PyGC_Head");
        field(r, "PyGC_Head", "_gc_next", &L->gch_next);
        field(r, "PyGC_Head", "_gc_prev", &L->gch_prev);
    }
}

/* Free-threaded: the GC state holds counts and thresholds only, in 3.13t's
 * generations[] or 3.14t's young and old[2] (one after the other, which is
 * how gc.get_count() and get_threshold() list them). */
static void resolve_ft_gc(resolver *r, pm_layout *L)
{
    if (type_of(r, "PyInterpreterState"))
        field(r, "PyInterpreterState", "gc", &L->gc_state);
    if (type_of(r, "_gc_runtime_state"))
        field(r, "_gc_runtime_state", "collecting", &L->gc_collecting);
    L->gc_head_size = 0; /* no PyGC_Head before objects (_PyType_PreHeaderSize) */
    if (!pm_lookup_type(r->s, "_gc_runtime_state"))
        return;
    uint64_t esz, n;
    pm_field old;
    pm_lookup_field(r->s, "_gc_runtime_state", "generations", &L->gc_generations);
    if (L->gc_generations.ok) {
        if (pm_lookup_array(r->s, "_gc_runtime_state", "generations", &esz, &L->gc_ngenerations))
            L->gc_generation_size = (uint32_t)esz;
    } else {
        pm_lookup_field(r->s, "_gc_runtime_state", "young", &L->gc_generations);
        pm_lookup_field(r->s, "_gc_runtime_state", "old", &old);
        if (!L->gc_generations.ok || !old.ok ||
            !pm_lookup_array(r->s, "_gc_runtime_state", "old", &esz, &n) ||
            old.off != L->gc_generations.off + (int32_t)esz)
            return;
        L->gc_generation_size = (uint32_t)esz;
        L->gc_ngenerations = 1 + n;
    }
    if (pm_lookup_type(r->s, "gc_generation")) {
        pm_lookup_field(r->s, "gc_generation", "threshold", &L->gen_threshold);
        pm_lookup_field(r->s, "gc_generation", "count", &L->gen_count);
        if (!L->gen_threshold.ok || !L->gen_count.ok)
            L->gc_ngenerations = 0;
    }
}

static void resolve_objects(resolver *r, pm_layout *L)
{
    if (type_of(r, "PyObject")) {
        L->object_size = size_of(r, "PyObject", "PyObject");
        if (L->free_threaded) {
            field(r, "PyObject", "ob_tid", &L->ob_tid);
            field(r, "PyObject", "ob_ref_local", &L->ob_ref_local);
            field(r, "PyObject", "ob_ref_shared", &L->ob_ref_shared);
            field(r, "PyObject", "ob_gc_bits", &L->ob_gc_bits);
        } else {
            field(r, "PyObject", "ob_refcnt", &L->ob_refcnt);
        }
        field(r, "PyObject", "ob_type", &L->ob_type);
    }
    if (type_of(r, "PyVarObject"))
        field(r, "PyVarObject", "ob_size", &L->ob_size);
    if (type_of(r, "PyTypeObject")) {
        field(r, "PyTypeObject", "tp_name", &L->tp_name);
        field(r, "PyTypeObject", "tp_basicsize", &L->tp_basicsize);
        field(r, "PyTypeObject", "tp_itemsize", &L->tp_itemsize);
        field(r, "PyTypeObject", "tp_flags", &L->tp_flags);
        pm_lookup_field(r->s, "PyTypeObject", "tp_alloc", &L->tp_alloc);
    }
}

pymac_status pm_layout_resolve(pymac_session *s, pymac_error *err)
{
    pm_layout *L = calloc(1, sizeof *L);
    if (!L)
        return pm_nomem(err);
    s->layout = L;
    resolver r = {.s = s};
    /* A free-threaded build's PyObject has a split count, not ob_refcnt; its
     * objects live in mimalloc (mimalloc.c), so pymalloc and the GC lists are
     * not resolved. */
    pm_field ft;
    pm_lookup_field(s, "PyObject", "ob_ref_local", &ft);
    L->free_threaded = ft.ok;
    /* 3.13+: the runtime says so itself (_Py_DebugOffsets.free_threaded) */
    uint64_t said;
    pm_lookup_field(s, "_PyRuntimeState", "debug_offsets.free_threaded", &ft);
    if (ft.ok && pm_read_uint(s, s->rt->runtime_addr + (uint64_t)ft.off, ft.size, &said) &&
        (said == 1) != L->free_threaded && said <= 1)
        return pm_fail(err, PYMAC_E_MISMATCH, "pass the debug info of this build with --debug-dir",
                       "debug info %s describes a %s build, but the core's _PyRuntime says "
                       "free_threaded = %llu", s->python.debug_path,
                       L->free_threaded ? "free-threaded" : "default (GIL)",
                       (unsigned long long)said);
    if (!L->free_threaded) {
        resolve_arena_and_pool(&r, L);
        resolve_radix(&r, L);
    }
    resolve_runtime(&r, L, L->free_threaded ? 0 : s->rt->minor);
    if (L->free_threaded)
        resolve_ft_gc(&r, L);
    else
        resolve_gc(&r, L, s->rt->minor);
    resolve_objects(&r, L);
    if (r.missing && s->rt->untested)
        return pm_fail(err, PYMAC_E_UNSUPPORTED,
                       "pymac reads CPython up to " PM_NEWEST_TESTED " and newer versions "
                       "while their structures keep their names and shapes",
                       "CPython %s is newer than pymac knows (newest tested " PM_NEWEST_TESTED
                       ") and its DWARF lacks %s", s->rt->version, r.missing);
    if (r.missing)
        return pm_fail(err, PYMAC_E_UNSUPPORTED,
                       "the debug info found does not match this CPython build; pass the right "
                       "one with --debug-dir",
                       "DWARF of %s (CPython %s) lacks %s", s->python.debug_path,
                       s->rt->version, r.missing);
    /* A version newer than pymac knows: the walkers rely on these shapes,
     * which every tested GIL build has (a free-threaded build differs). */
    const struct {
        const char *what;
        uint32_t got, want;
    } shapes[] = {
        {"PyObject", L->object_size, 16},          {"PyGC_Head", L->gc_head_size, 16},
        {"struct pool_header", L->pool_header_size, 48},
        {"struct arena_object", L->arena_object_size, 48},
        {"PyGC_Head._gc_next", L->gch_next.size, 8}, {"PyGC_Head._gc_prev", L->gch_prev.size, 8},
    };
    for (size_t i = 0; s->rt->untested && i < sizeof shapes / sizeof shapes[0]; i++)
        if (shapes[i].got != shapes[i].want)
            return pm_fail(err, PYMAC_E_UNSUPPORTED,
                           "pymac reads CPython up to " PM_NEWEST_TESTED " and newer versions "
                           "while their structures keep their names and shapes",
                           "CPython %s is newer than pymac knows (newest tested " PM_NEWEST_TESTED
                           ") and its %s changed shape (%u bytes, pymac reads %u)",
                           s->rt->version, shapes[i].what, shapes[i].got, shapes[i].want);
    /* The radix tree arrived with 3.10; its presence must agree with the version. */
    if (!L->free_threaded && L->has_radix != (s->rt->minor >= 10))
        return pm_fail(err, PYMAC_E_MISMATCH, "pass the debug info of this build with --debug-dir",
                       "debug info %s does not fit CPython %s (arena map %s)",
                       s->python.debug_path, s->rt->version,
                       L->has_radix ? "present" : "missing");
    return PYMAC_OK;
}

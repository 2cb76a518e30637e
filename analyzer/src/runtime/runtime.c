/* The interpreter in the core: its version, _PyRuntime, the main
 * interpreter, and where the allocator keeps its state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "statics_find.h"

static const char MISMATCH_HINT[] =
    "the debug info does not describe this interpreter; give the matching file with --debug-dir";

/* 3.11+ export Py_Version (PY_VERSION_HEX, in .rodata). Older versions keep
 * the version text Py_GetVersion() formatted at start-up in a static buffer. */
static bool read_version(pymac_session *s, pm_runtime *rt)
{
    pm_symbol sym = pm_symbol_lookup(s, "Py_Version", NULL);
    uint64_t hex;
    if (sym.found && pm_read_u64(s, sym.addr, &hex) && (hex >> 24) == 3) {
        rt->hexversion = (uint32_t)hex;
        rt->minor = (hex >> 16) & 0xff;
        unsigned micro = (hex >> 8) & 0xff, level = (hex >> 4) & 0xf, serial = hex & 0xf;
        static const char *const levels[16] = {[0xa] = "a", [0xb] = "b", [0xc] = "rc"};
        if (level == 0xf || !levels[level])
            snprintf(rt->version, sizeof rt->version, "3.%u.%u", rt->minor, micro);
        else
            snprintf(rt->version, sizeof rt->version, "3.%u.%u%s%u", rt->minor, micro,
                     levels[level], serial);
        return true;
    }
    sym = pm_symbol_lookup(s, "version", "getversion.c");
    if (!sym.found && !s->python.dwarf) /* stripped: Py_GetVersion's buffer */
        sym.found = (sym.addr = pm_find_version_buffer(s)) != 0;
    char text[64];
    unsigned major, minor, micro;
    if (sym.found && pm_read_cstr(s, sym.addr, text, sizeof text) &&
        sscanf(text, "%u.%u.%u", &major, &minor, &micro) == 3 && major == 3) {
        size_t n = strcspn(text, " ");
        snprintf(rt->version, sizeof rt->version, "%.*s", (int)n, text);
        rt->minor = minor;
        rt->hexversion = (3u << 24) | (minor << 16) | (micro << 8) | 0xf0;
        return true;
    }
    /* Last resort: the soname, libpython3.X.so */
    const char *base = strrchr(s->python.path, '/');
    base = base ? base + 1 : s->python.path;
    if (sscanf(base, "libpython3.%u", &minor) == 1 || sscanf(base, "python3.%u", &minor) == 1) {
        rt->minor = minor;
        rt->hexversion = (3u << 24) | (minor << 16);
        snprintf(rt->version, sizeof rt->version, "3.%u", minor);
        return true;
    }
    return false;
}

static pm_var var_from_symbol(pymac_session *s, const char *name)
{
    pm_symbol sym = pm_symbol_lookup(s, name, "obmalloc.c");
    pm_var v = {sym.addr, (uint32_t)sym.size, sym.found && sym.size > 0};
    return v;
}

static pm_var var_in_state(uint64_t state, const pm_field *f)
{
    pm_var v = {state + (uint64_t)f->off, f->size, f->ok};
    return v;
}

/* 3.8-3.11 keep the allocator in file statics of Objects/obmalloc.c;
 * 3.12 embeds a struct _obmalloc_state in the interpreter, 3.13 points to it. */
static pymac_status locate_obmalloc(pymac_session *s, pymac_error *err)
{
    pm_runtime *rt = s->rt;
    pm_layout *L = s->layout;
    pm_obmalloc_vars *om = &rt->om;
    bool never_allocated = false; /* a stripped 3.8-3.11 that made no arena */
    if (rt->minor <= 11) {
        om->arenas = var_from_symbol(s, "arenas");
        om->maxarenas = var_from_symbol(s, "maxarenas");
        om->unused_arena_objects = var_from_symbol(s, "unused_arena_objects");
        om->usable_arenas = var_from_symbol(s, "usable_arenas");
        om->nfp2lasta = var_from_symbol(s, "nfp2lasta");
        om->narenas_currently_allocated = var_from_symbol(s, "narenas_currently_allocated");
        om->ntimes_arena_allocated = var_from_symbol(s, "ntimes_arena_allocated");
        om->narenas_highwater = var_from_symbol(s, "narenas_highwater");
        om->raw_allocated_blocks = var_from_symbol(s, rt->minor == 8 ? "_Py_AllocatedBlocks"
                                                                       : "raw_allocated_blocks");
        om->usedpools = var_from_symbol(s, "usedpools");
        if (L->has_radix) {
            om->arena_map_root = var_from_symbol(s, "arena_map_root");
            om->arena_map_mid_count = var_from_symbol(s, "arena_map_mid_count");
            om->arena_map_bot_count = var_from_symbol(s, "arena_map_bot_count");
        }
        const char *missing = NULL, *detail = "";
        /* no symbol names them (a stripped build): found from the code and
         * data (obmalloc_find.c), all or none */
        if (!om->arenas.ok && !s->python.dwarf &&
            !pm_find_obmalloc(s, om, &missing, &detail, &never_allocated))
            return pm_fail(err, PYMAC_E_NO_DEBUGINFO, s->python.no_dwarf_hint,
                           "%s, and CPython %s keeps pymalloc's '%s' in a file static that "
                           "only the symbol table or DWARF names; its search in the code and "
                           "data of the stripped build found no single answer%s",
                           s->python.no_dwarf_why, rt->version, missing, detail);
    } else {
        uint64_t base = rt->main_interp + (uint64_t)L->interp_obmalloc.off;
        if (rt->minor >= 13 && !pm_read_u64(s, base, &base))
            return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                           "cannot read the main interpreter's obmalloc pointer at 0x%llx",
                           (unsigned long long)base);
        rt->obmalloc_state = base;
        om->arenas = var_in_state(base, &L->om_arenas);
        om->maxarenas = var_in_state(base, &L->om_maxarenas);
        om->unused_arena_objects = var_in_state(base, &L->om_unused_arena_objects);
        om->usable_arenas = var_in_state(base, &L->om_usable_arenas);
        om->nfp2lasta = var_in_state(base, &L->om_nfp2lasta);
        om->narenas_currently_allocated = var_in_state(base, &L->om_narenas_currently_allocated);
        om->ntimes_arena_allocated = var_in_state(base, &L->om_ntimes_arena_allocated);
        om->narenas_highwater = var_in_state(base, &L->om_narenas_highwater);
        om->raw_allocated_blocks = var_in_state(base, &L->om_raw_allocated_blocks);
        om->usedpools = var_in_state(base, &L->om_usedpools);
        om->arena_map_root = var_in_state(base, &L->om_arena_map_root);
        om->arena_map_mid_count = var_in_state(base, &L->om_arena_map_mid_count);
        om->arena_map_bot_count = var_in_state(base, &L->om_arena_map_bot_count);
    }
    const struct {
        const char *name;
        const pm_var *v;
    } required[] = {
        {"arenas", &om->arenas},
        {"maxarenas", &om->maxarenas},
        {"usable_arenas", &om->usable_arenas},
        {"nfp2lasta", &om->nfp2lasta},
        {"narenas_currently_allocated", &om->narenas_currently_allocated},
        {"ntimes_arena_allocated", &om->ntimes_arena_allocated},
        {"narenas_highwater", &om->narenas_highwater},
        {"usedpools", &om->usedpools},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        /* the lists and nfp2lasta of a pymalloc that made no arena: NULL,
         * read as such without an address (the walk reads nothing else);
         * of a damaged arena table, unknown (the walk says so) */
        if ((never_allocated || om->from_code_only) &&
            (required[i].v == &om->usable_arenas || required[i].v == &om->nfp2lasta))
            continue;
        if (!required[i].v->ok)
            return pm_fail(err, PYMAC_E_UNSUPPORTED,
                           "pymalloc state not found: was this CPython built --without-pymalloc?",
                           "the allocator variable '%s' is missing from %s", required[i].name,
                           s->python.path);
    }
    if (L->has_radix && (!om->arena_map_root.ok || !om->arena_map_mid_count.ok ||
                         !om->arena_map_bot_count.ok))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, MISMATCH_HINT,
                       "the arena map (radix tree) variables are missing from %s",
                       s->python.path);
    return PYMAC_OK;
}

pymac_status pm_runtime_open(pymac_session *s, pymac_error *err)
{
    pm_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return pm_nomem(err);
    s->rt = rt;
    if (!read_version(s, rt))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, MISMATCH_HINT,
                       "cannot tell which CPython version %s is", s->python.path);
    if (rt->minor < PM_MIN_MINOR)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, "pymac supports CPython 3.8 and newer",
                       "CPython %s is not supported", rt->version);
    rt->untested = rt->minor > PM_MAX_MINOR;
    pm_symbol runtime = pm_symbol_lookup(s, "_PyRuntime", NULL);
    if (!runtime.found)
        return pm_not_python(s, err);
    rt->runtime_addr = runtime.addr;
    rt->layout_source = "dwarf";
    pymac_status st = s->layout_source ? PYMAC_OK : pm_layout_source_choose_table(s, err);
    if (st)
        return st;
    st = pm_layout_resolve(s, err);
    if (!st)
        st = pm_debug_offsets_check(s, err);
    if (st)
        return st;
    pm_layout *L = s->layout;
    if (!pm_read_u64(s, rt->runtime_addr + (uint64_t)L->rt_interp_main.off, &rt->main_interp))
        return pm_fail(err, PYMAC_E_CORRUPT, "the core lacks the interpreter's data pages",
                       "cannot read _PyRuntime at 0x%llx", (unsigned long long)rt->runtime_addr);
    if (rt->main_interp == 0)
        return pm_fail(err, PYMAC_E_NOT_PYTHON,
                       "the core was taken before Python started or after it finalized",
                       "CPython %s is loaded but has no main interpreter", rt->version);
    if (!pm_mapped(s, rt->main_interp))
        return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                       "the main interpreter pointer 0x%llx is not mapped",
                       (unsigned long long)rt->main_interp);
    if (L->free_threaded)
        return PYMAC_OK; /* no pymalloc: the heaps are mimalloc's (mimalloc.c) */
    pm_allocator_detect(s);
    return locate_obmalloc(s, err);
}

const char *pymac_untested_version(const pymac_session *s)
{
    return s && s->rt && s->rt->untested ? PM_NEWEST_TESTED : NULL;
}

/* A bound on the interpreter's thread list (mimalloc's walk has the same). */
enum { MAX_THREADS = 1 << 14 };

uint64_t pm_main_tstate(pymac_session *s)
{
    pm_field main_thread, thread_id, head, next;
    pm_lookup_field(s, "_PyRuntimeState", "main_thread", &main_thread);
    pm_lookup_field(s, "PyThreadState", "thread_id", &thread_id);
    pm_lookup_field(s, "PyInterpreterState", "threads.head", &head);
    pm_lookup_field(s, "PyThreadState", "next", &next);
    uint64_t want, ts, id;
    if (!main_thread.ok || !thread_id.ok || !head.ok || !next.ok ||
        !pm_read_uint(s, s->rt->runtime_addr + (uint64_t)main_thread.off, 8, &want) ||
        !pm_read_u64(s, s->rt->main_interp + (uint64_t)head.off, &ts))
        return 0;
    for (unsigned n = 0; ts && n < MAX_THREADS; n++) {
        if (!pm_read_uint(s, ts + (uint64_t)thread_id.off, 8, &id))
            return 0;
        if (id == want)
            return ts;
        if (!pm_read_u64(s, ts + (uint64_t)next.off, &ts))
            return 0;
    }
    return 0;
}

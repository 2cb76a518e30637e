/* Which allocator the process gave objects to. A default build can run
 * without pymalloc: PYTHONMALLOC=malloc (objects in glibc's heap, as
 * valgrind and ASan users run it), PYTHONMALLOC=mimalloc (3.13+), and debug
 * hooks around any of them (PYTHONMALLOC=debug, -X dev, a --with-pydebug
 * build), which put a header before each object in its block. pymalloc's
 * views must not report an empty or misread heap as the process's.
 *
 * The object domain's PyMemAllocatorEx holds the functions in use: in
 * _PyRuntime.allocators.standard.obj (3.12+) or obmalloc.c's file static
 * _PyObject (3.8-3.11); with debug hooks, the functions wrapped are in
 * _PyRuntime.allocators.debug.obj.alloc (3.12+) or _PyMem_Debug.obj.alloc
 * (debug_alloc_api_t raw, mem, obj). Each function is known by its symbol;
 * in a stripped build, by the code and the file's initial image
 * (allocator_find.c). */
#include "layout.h"
#include "statics_find.h"
#include "symbols.h"

static uint64_t func(pymac_session *s, const char *name)
{
    pm_symbol f = pm_symbol_lookup(s, name, "obmalloc.c");
    return f.found ? f.addr : 0;
}

/* The member f of the PyMemAllocatorEx at addr, or 0. */
static uint64_t member_of(pymac_session *s, uint64_t addr, const pm_field *f)
{
    uint64_t v;
    return addr && f->ok && pm_read_field(s, addr, f, &v) ? v : 0;
}

/* The object domain's allocator (debug: the one the hooks wrap), or 0.
 * found: the statics of a stripped 3.8-3.11, from its code (statics_find.h). */
static uint64_t obj_allocator(pymac_session *s, bool debug, const pm_allocator_statics *found)
{
    pm_field f;
    if (found)
        return debug ? found->debug_obj_alloc : found->pyobject;
    if (s->rt->minor >= 12) {
        pm_lookup_field(s, "_PyRuntimeState",
                        debug ? "allocators.debug.obj.alloc" : "allocators.standard.obj", &f);
        return f.ok ? s->rt->runtime_addr + (uint64_t)f.off : 0;
    }
    if (!debug) {
        pm_symbol v = pm_symbol_lookup(s, "_PyObject", "obmalloc.c");
        return v.found ? v.addr : 0;
    }
    pm_symbol v = pm_symbol_lookup(s, "_PyMem_Debug", "obmalloc.c");
    uint32_t api = pm_lookup_size(s, "debug_alloc_api_t");
    pm_lookup_field(s, "debug_alloc_api_t", "alloc", &f);
    return v.found && api && f.ok ? v.addr + 2ull * api + (uint64_t)f.off : 0;
}

/* Hooks that wrap an allocator and keep it as their ctx (tracemalloc's, and
 * any written the same way) are looked through, a few deep. */
enum { MAX_WRAPPERS = 4 };

void pm_allocator_detect(pymac_session *s)
{
    pm_runtime *rt = s->rt;
    rt->obj_alloc = PM_ALLOC_UNKNOWN;
    uint64_t debug = func(s, "_PyMem_DebugMalloc"), pymalloc = func(s, "_PyObject_Malloc");
    uint64_t raw = func(s, "_PyMem_RawMalloc");
    uint64_t mi = rt->minor >= 13 ? func(s, "_PyObject_MiMalloc") : 0;
    /* a stripped build: no symbol names these; its code and the file's
     * initial image do (allocator_find.c) */
    pm_allocator_statics statics;
    const pm_allocator_statics *found = NULL;
    if (rt->minor >= 12 && !s->layout->free_threaded) {
        pm_runtime_allocators asked; /* for the tables (statics_find.h) */
        pm_runtime_allocator_fields(s, &asked);
    }
    if (!pymalloc && !s->python.dwarf && pm_find_allocator_statics(s, &statics)) {
        found = &statics;
        debug = statics.debug_malloc;
        pymalloc = statics.pymalloc;
        raw = statics.raw_malloc;
        mi = statics.mimalloc;
    }
    uint64_t at = obj_allocator(s, false, found), fn = 0;
    /* both members asked up front, whatever the symbols let us tell: a
     * layout table made from a build with them answers one without */
    pm_field f_malloc, f_ctx;
    pm_lookup_field(s, "PyMemAllocatorEx", "malloc", &f_malloc);
    pm_lookup_field(s, "PyMemAllocatorEx", "ctx", &f_ctx);
    for (int depth = 0; at && depth <= MAX_WRAPPERS; depth++) {
        fn = member_of(s, at, &f_malloc);
        if (!fn)
            return; /* no symbols or layout to tell (a stripped build): not told */
        uint64_t ctx = member_of(s, at, &f_ctx);
        /* found: a debug hook's ctx is its domain's debug_alloc_api_t */
        bool hook = fn == debug || (found && ctx && ctx == found->debug_ctx);
        if (hook && !rt->debug_hooks) {
            if (!debug)
                debug = fn; /* 3.13+ stripped: the hook, known by its ctx */
            /* obmalloc.c's debug layout: [size_t n][API id + SST-1 pad
             * bytes] the data [SST pad bytes]; SST = sizeof(size_t) */
            /* found in x86-64 code: an LP64 size_t */
            uint32_t sst = found ? 8 : pm_lookup_size(s, "size_t");
            rt->debug_hooks = true;
            rt->debug_front = 2 * sst;
            rt->debug_back = sst;
            at = obj_allocator(s, true, found);
            continue;
        }
        if (fn == pymalloc || fn == raw || (mi && fn == mi))
            break;
        if (!ctx || ctx == at)
            break;
        at = ctx; /* a wrapper: what it wraps */
        if (!depth)
            rt->obj_wrapped = true;
    }
    if (fn && fn == pymalloc)
        rt->obj_alloc = PM_ALLOC_PYMALLOC;
    else if (fn && fn == raw)
        rt->obj_alloc = PM_ALLOC_MALLOC;
    else if (mi && fn == mi)
        rt->obj_alloc = PM_ALLOC_MIMALLOC;
    else if (fn && pymalloc && raw && (mi || rt->minor < 13))
        rt->obj_alloc = PM_ALLOC_OTHER; /* none of CPython's: PyMem_SetAllocator */
    /* else a function we could not name: not told */
}

const char *pm_allocator_name(const pm_runtime *rt)
{
    switch (rt->obj_alloc) {
    case PM_ALLOC_MALLOC:
        return "malloc (PYTHONMALLOC=malloc)";
    case PM_ALLOC_MIMALLOC:
        return "mimalloc (PYTHONMALLOC=mimalloc)";
    case PM_ALLOC_OTHER:
        return "an allocator set with PyMem_SetAllocator";
    default:
        return "pymalloc";
    }
}

/* libFuzzer target: the heap walkers over a memory image.
 *
 * A real session is opened ONCE, from the seed core named by
 * $PYMAC_FUZZ_CORE (taken in a system root: $PYMAC_FUZZ_SYSROOT names it, as
 * --sysroot does): that gives the CPython layout (DWARF member offsets),
 * the runtime's addresses (_PyRuntime, the allocator's state, the GC state)
 * and the interpreter's ELF file for read-only pages, exactly as pymac sees
 * them on a real core. The fuzz input then replaces the core's memory: it is
 * a list of records
 *
 *     u64 vaddr, u16 len, len bytes         (little endian, at most 512 records)
 *
 * each of which becomes a PT_LOAD segment whose bytes are the input's own
 * bytes (no copy, so ASan sees a read past a record as a read past the input).
 * The caches that depend on memory (heap walk, GC lists, type table, census,
 * warnings) are dropped before and after each input, so every input starts
 * from nothing; what was resolved from DWARF stays.
 *
 * Per input: the arena/pool walk (pm_decode_pool on each header), the free
 * list of every used pool, the allocator interface's invariants
 * (heap_invariants.h), whereis on addresses inside each record, the GC
 * list walk, pm_object_read (type validation) of the GC objects, their value
 * rendering and referents, the full census (pymalloc block scan and the
 * reach to objects outside pymalloc), on a stripped 3.8-3.11 the search
 * for pymalloc's file statics (runtime/obmalloc_find.c), whose checks read
 * the input's memory, and tracemalloc's state (3.8-3.11's seed says it
 * traces: on a stripped build, its statics are searched for in the code
 * and confirmed in the input's memory, tracemalloc_find.c).
 *
 * The seed corpus is made from the same core: run with $PYMAC_FUZZ_SEED_OUT
 * set to a file name, and the target writes a seed (the allocator's
 * variables, the GC state, the arena table, the pool headers of the first
 * arenas with a few whole pools, the first objects of each GC list and their
 * types, 3.8-3.11's _Py_tracemalloc_config with tracing set) and exits.
 * Nothing is committed but this code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "heap_invariants.h"
#include "gc.h"
#include "heap.h"
#include "layout.h"
#include "object.h"
#include "obmalloc.h"
#include "referents.h"
#include "statics_find.h"
#include "target_core.h"
#include "tracemalloc.h"
#include "value.h"

enum { MAX_RECORDS = 512, REC_HDR = 10 };

static pymac_session *S;
static pm_target real_target; /* kept open: the symbols read its files */
static pm_core fuzz_core;      /* the input as a core: the session's target */
static uint64_t type_type;
static pm_segment segs[MAX_RECORDS];
/* a stripped 3.8-3.11: the pymalloc statics its code names, found once */
static pm_obmalloc_vars code_statics;
static bool statics_in_code;

static bool count_ref(void *ctx, uint64_t target, const char *via, bool conservative)
{
    (void)target;
    (void)conservative;
    *(size_t *)ctx += strlen(via) + 1;
    return true;
}

/* ---- the seed ---- */

typedef struct seed {
    FILE *f;
    size_t records, bytes;
} seed;

static void put_bytes(seed *sd, uint64_t addr, const void *buf, size_t len)
{
    unsigned char h[REC_HDR];
    for (int i = 0; i < 8; i++)
        h[i] = (unsigned char)(addr >> (8 * i));
    h[8] = (unsigned char)len;
    h[9] = (unsigned char)(len >> 8);
    fwrite(h, 1, sizeof h, sd->f);
    fwrite(buf, 1, len, sd->f);
    sd->records++;
    sd->bytes += len + REC_HDR;
}

/* Writes what the real core holds of [addr, addr+len) as one record. */
static void put(seed *sd, uint64_t addr, size_t len)
{
    unsigned char buf[65535];
    if (!addr || sd->records >= MAX_RECORDS - 1)
        return;
    if (len > sizeof buf)
        len = sizeof buf;
    /* the longest readable prefix */
    while (len && !pm_read(S, addr, buf, len))
        len /= 2;
    if (!len)
        return;
    put_bytes(sd, addr, buf, len);
}

static void put_var(seed *sd, const pm_var *v)
{
    if (v->ok)
        put(sd, v->addr, v->size > 4096 ? 4096 : v->size);
}

static void put_object(seed *sd, uint64_t obj)
{
    const pm_layout *L = S->layout;
    pm_object o;
    put(sd, obj - L->gc_head_size - 16, L->gc_head_size + 16 + 96);
    if (!pm_object_read(S, obj, &o))
        return;
    uint64_t name = 0;
    put(sd, o.type->addr, L->tp_flags.off + 8);
    if (pm_read_u64(S, o.type->addr + L->tp_name.off, &name))
        put(sd, name, 48);
}

static void write_seed(const char *path)
{
    const pm_layout *L = S->layout;
    const pm_obmalloc_vars *om = &S->rt->om;
    seed sd = {.f = fopen(path, "wb")};
    if (!sd.f) {
        perror(path);
        exit(1);
    }
    const pm_var *vars[] = {&om->arenas,
                            &om->maxarenas,
                            &om->unused_arena_objects,
                            &om->usable_arenas,
                            &om->narenas_currently_allocated,
                            &om->ntimes_arena_allocated,
                            &om->narenas_highwater,
                            &om->raw_allocated_blocks,
                            &om->arena_map_root,
                            &om->arena_map_mid_count,
                            &om->arena_map_bot_count};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (vars[i] != &om->maxarenas)
            put_var(&sd, vars[i]);
    /* the GC state: generations, permanent generation, collecting flag */
    uint64_t owner = S->rt->minor == 8 ? S->rt->runtime_addr : S->rt->main_interp;
    uint64_t state = owner + L->gc_state.off;
    uint64_t span = L->gc_generations.off + L->gc_ngenerations * L->gc_generation_size;
    if (L->gc_permanent.off + L->gc_generation_size > span)
        span = L->gc_permanent.off + L->gc_generation_size;
    if (L->gc_collecting.off + 8u > span)
        span = L->gc_collecting.off + 8u;
    put(&sd, state, span);
    const pymac_pymalloc *h;
    pymac_error err;
    pymac_pymalloc_walk(S, &h, &err);
    uint64_t table = 0;
    /* Two arena objects (maxarenas patched to match) keep the walk short:
     * the walk reads every pool of every arena, and the census every block
     * of every pool it decodes. */
    uint32_t narenas = h && h->maxarenas > 2 ? 2 : h ? h->maxarenas : 0;
    if (h && pm_read_u64(S, om->arenas.addr, &table))
        put(&sd, table, (size_t)narenas * L->arena_object_size);
    if (om->maxarenas.ok && om->maxarenas.size <= 8) {
        unsigned char v[8] = {(unsigned char)narenas};
        put_bytes(&sd, om->maxarenas.addr, v, om->maxarenas.size);
    }
    /* in the first arenas: a few pools with their first blocks, and empty ones */
    size_t used = 0, empty = 0;
    for (size_t a = 0; h && a < h->narenas && a < narenas; a++) {
        const pymac_arena *ar = &h->arenas[a];
        for (size_t p = ar->first_pool; p < ar->first_pool + ar->npools; p++) {
            const pymac_pool *pl = &h->pools[p];
            if (pl->state == PYMAC_POOL_EMPTY ? empty++ < 2 : pl->block_size >= 64 && used++ < 6)
                put(&sd, pl->address, pl->state == PYMAC_POOL_EMPTY ? L->pool_header_size : 4096);
        }
    }
    /* the first objects of each GC list, their types and names */
    const pymac_gc *gc;
    pymac_gc_walk(S, &gc, &err);
    for (uint32_t g = 0; gc && g <= gc->ngenerations; g++) {
        const pymac_gc_generation *gen = g < gc->ngenerations ? &gc->generations[g] : &gc->permanent;
        put(&sd, gen->head, L->gc_head_size);
        for (size_t i = 0; i < gen->objects && i < 12; i++)
            put_object(&sd, gc->objects[gen->first + i]);
    }
    /* 3.8-3.11: tracemalloc's config (up to max_nframe), saying it traces */
    pm_symbol config = pm_symbol_lookup(S, "_Py_tracemalloc_config", NULL);
    pm_field tracing, nframe;
    pm_lookup_field_near(S, "_PyTraceMalloc_Config", "tracing", "PyTraceMalloc_Track", &tracing);
    pm_lookup_field_near(S, "_PyTraceMalloc_Config", "max_nframe", "PyTraceMalloc_Track", &nframe);
    unsigned char cbuf[64];
    size_t clen = nframe.ok ? (size_t)nframe.off + nframe.size : 0;
    if (config.found && tracing.ok && tracing.size == 4 && tracing.off + 4 <= (int64_t)clen &&
        clen <= sizeof cbuf && pm_read(S, config.addr, cbuf, clen)) {
        cbuf[tracing.off] = 1;
        put_bytes(&sd, config.addr, cbuf, clen);
    }
    fclose(sd.f);
    fprintf(stderr, "fuzz_heap: seed %s: %zu records, %zu bytes\n", path, sd.records, sd.bytes);
    exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *core = getenv("PYMAC_FUZZ_CORE");
    if (!core) {
        fprintf(stderr, "fuzz_heap: set PYMAC_FUZZ_CORE to a core of a CPython process "
                        "(fixtures/make-core --scenario small)\n");
        exit(2);
    }
    /* a core taken in a system root (make-core --root) names its files inside it */
    pymac_open_options opts = {.core_path = core, .sysroot = getenv("PYMAC_FUZZ_SYSROOT")};
    pymac_error err;
    if (pymac_open_core(&opts, &S, &err) != PYMAC_OK) {
        fprintf(stderr, "fuzz_heap: cannot open %s: %s\n", core, err.message);
        exit(2);
    }
    const char *out = getenv("PYMAC_FUZZ_SEED_OUT");
    if (out)
        write_seed(out);
    /* Resolve the DWARF-derived layouts now, on the real memory, so that no
     * input pays for them. */
    const pymac_gc *gc;
    pymac_gc_walk(S, &gc, &err);
    for (size_t i = 0; gc && i < gc->nobjects && i < 64; i++) {
        pm_object o;
        char buf[128];
        if (pm_object_read(S, gc->objects[i], &o)) {
            pm_value_repr(S, &o, buf, sizeof buf);
            size_t refs = 0;
            pm_referents(S, &o, count_ref, &refs, 1);
        }
    }
    type_type = S->types ? S->types->type_type : 0;
    const char *missing;
    statics_in_code = !S->python.dwarf && S->rt->minor <= 11 &&
                      pm_find_obmalloc_in_code(S, &code_statics, &missing);
    pm_session_drop_walks(S);
    /* the real core's files and threads, with the input's bytes (below) */
    real_target = S->target;
    fuzz_core = *(const pm_core *)real_target.impl;
    fuzz_core.elf = NULL;
    fuzz_core.fd = -1;
    pm_target_of_core(&S->target, &fuzz_core);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0, off = 0;
    while (n < MAX_RECORDS && off + REC_HDR <= size) {
        uint64_t vaddr = pm_get_uint(data, (uint32_t)off, 8);
        size_t len = (size_t)pm_get_uint(data, (uint32_t)off + 8, 2);
        off += REC_HDR;
        if (len > size - off)
            len = size - off;
        if (len)
            segs[n++] = (pm_segment){.vaddr = vaddr, .memsz = len, .offset = off,
                                     .filesz = len, .flags = 5};
        off += len;
    }
    fuzz_core.image = data;
    fuzz_core.size = size;
    fuzz_core.segs = segs;
    fuzz_core.nsegs = n;
    fuzz_core.last = NULL;
    S->target.space_bytes = size;
    pm_core_sort_segments(&fuzz_core);
    pm_session_drop_walks(S);
    S->types = calloc(1, sizeof *S->types);
    if (!S->types)
        return 0;
    S->types->type_type = type_type;

    pymac_error err;
    const pymac_pymalloc *h = NULL;
    pymac_pymalloc_walk(S, &h, &err);
    for (size_t i = 0; h && i < h->npools && i < 256; i++) {
        const pymac_pool *p = &h->pools[i];
        if (p->state != PYMAC_POOL_EMPTY &&
            (p->blocks_in_use > p->blocks_total ||
             p->blocks_in_use + p->blocks_never_used + p->blocks_free_listed != p->blocks_total))
            abort(); /* a decoded pool must add up */
        uint8_t *is_free = calloc(p->blocks_total ? p->blocks_total : 1, 1);
        uint32_t chain;
        if (is_free)
            pm_pool_free_list(S, h, p, is_free, &chain);
        free(is_free);
    }
    for (size_t i = 0; i < n && i < 32; i++) {
        pymac_whereis w;
        uint64_t addr = segs[i].vaddr + segs[i].filesz / 2;
        pymac_status st = pymac_whereis_address(S, addr, &w, &err);
        if (st > PYMAC_PARTIAL || !h)
            continue;
        /* the answer must be about the pool and block that hold addr */
        if ((w.kind == PYMAC_WHERE_POOL_HEADER || w.kind == PYMAC_WHERE_BLOCK) &&
            w.pool != (addr & ~(uint64_t)(h->pool_size - 1)))
            abort();
        if (w.kind == PYMAC_WHERE_BLOCK && w.block_size &&
            (addr < w.block || addr - w.block >= w.block_size))
            abort();
    }
    fuzz_check_heap(S);
    const pymac_gc *gc = NULL;
    pymac_gc_walk(S, &gc, &err);
    for (size_t i = 0; gc && i < gc->nobjects && i < 256; i++) {
        pm_object o;
        if (!pm_object_read(S, gc->objects[i], &o))
            continue;
        char buf[160];
        pm_value_repr(S, &o, buf, sizeof buf);
        size_t refs = 0;
        pm_referents(S, &o, count_ref, &refs, 256);
    }
    const pymac_census *c;
    pymac_census_build(S, 0, &c, &err);
    if (statics_in_code) {
        /* a stripped 3.8-3.11: what its code names, checked against the
         * input's memory (usedpools, the arena table's links, .bss); an
         * answer names every static the walk needs */
        pm_obmalloc_vars om;
        const char *missing, *detail;
        bool never_allocated;
        if (pm_confirm_obmalloc(S, &code_statics, &om, &missing, &detail, &never_allocated) &&
            (!om.arenas.ok || !om.maxarenas.ok || !om.usedpools.ok ||
             !om.narenas_currently_allocated.ok ||
             (!never_allocated && !om.from_code_only && !om.usable_arenas.ok)))
            abort();
    }
    /* tracemalloc: what was read hangs together */
    pm_tracemalloc tm;
    if (pm_tracemalloc_read(S, &tm, &err) <= PYMAC_PARTIAL) {
        for (size_t i = 0; i < tm.ntraces; i++)
            if (tm.traces[i].tb > tm.ntracebacks)
                abort();
        for (size_t i = 0; i < tm.ntracebacks; i++)
            if (tm.tracebacks[i].first + tm.tracebacks[i].nframe > tm.nframes)
                abort();
        for (size_t i = 0; i < tm.nframes; i++)
            if (tm.frames[i].file >= tm.nfiles)
                abort();
    }
    pm_tracemalloc_free(&tm);
    pm_session_drop_walks(S);
    fuzz_core.image = NULL;
    fuzz_core.nsegs = 0;
    return 0;
}

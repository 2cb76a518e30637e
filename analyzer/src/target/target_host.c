/* Targets read through a callback: a debugger's inferior (pymac_open_host:
 * GDB's reader, its list of loaded files and mapped ranges), or a bare
 * reader with no map (the unit tests' synthetic memory). The shared live
 * ops are here too; target_proc.c uses them for a process. */
#include <string.h>

#include "target_live.h"

static pm_live *live_of(const pm_target *t)
{
    return t->impl; /* each live kind's struct starts with its pm_live */
}

bool pm_live_read(pm_target *t, uint64_t addr, void *buf, size_t len)
{
    pm_live *l = live_of(t);
    /* a known map spares the reader the probes of unmapped addresses */
    if (l->map.nsegs && (!pm_core_mapped(&l->map, addr) ||
                         !pm_core_mapped(&l->map, addr + (len ? len - 1 : 0))))
        return false;
    return pm_mem_cache_read(&l->cache, &l->reader, addr, buf, len);
}

bool pm_live_mapped(pm_target *t, uint64_t addr)
{
    pm_live *l = live_of(t);
    if (l->map.nsegs)
        return pm_core_mapped(&l->map, addr);
    unsigned char b;
    return pm_live_read(t, addr, &b, 1); /* a debugger's inferior: ask it */
}

const pm_segment *pm_live_ranges(const pm_target *t, size_t *n)
{
    *n = live_of(t)->map.nsegs;
    return live_of(t)->map.segs;
}

const pm_mapped_file *pm_live_files(const pm_target *t, size_t *n)
{
    *n = live_of(t)->map.nfiles;
    return live_of(t)->map.files;
}

unsigned pm_live_threads(const pm_target *t)
{
    return live_of(t)->map.nthreads;
}

void pm_live_about(const pm_target *t, pm_target_about *out)
{
    out->execfn = live_of(t)->map.execfn;
    out->psargs = live_of(t)->map.psargs;
}

void pm_live_flush(pm_target *t)
{
    pm_mem_cache_flush(live_of(t)->cache);
}

void pm_live_release(pm_live *l)
{
    pm_mem_cache_free(l->cache);
    l->cache = NULL;
    pm_core_close(&l->map);
}

/* ---- a debugger's inferior ---- */

typedef struct host_target {
    pm_live live;
    pymac_host host;
    pymac_host_module *modules; /* its list of loaded files (our copies) */
    size_t nmodules;
} host_target;

static bool host_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    host_target *h = ctx;
    return h->host.read(h->host.ctx, addr, buf, len) != 0;
}

/* A debugger told us which files are loaded where. */
static int host_report_modules(pm_target *t, Dwfl *dwfl, const char *exe_override)
{
    (void)exe_override;
    host_target *h = t->impl;
    int n = 0;
    for (size_t i = 0; i < h->nmodules; i++) {
        const pymac_host_module *m = &h->modules[i];
        if (dwfl_report_elf(dwfl, m->path, m->path, -1, m->bias, false))
            n++;
    }
    return n ? n : -1;
}

static void host_close(pm_target *t)
{
    host_target *h = t->impl;
    pm_live_release(&h->live);
    for (size_t i = 0; i < h->nmodules; i++)
        free((char *)h->modules[i].path);
    free(h->modules);
    free(h);
}

static const pm_target_ops host_ops = {
    .read = pm_live_read,
    .mapped = pm_live_mapped,
    .ranges = pm_live_ranges,
    .files = pm_live_files,
    .threads = pm_live_threads,
    .about = pm_live_about,
    .report_modules = host_report_modules,
    .find_elf = dwfl_build_id_find_elf,
    .flush = pm_live_flush,
    .close = host_close,
};

pymac_status pm_target_open_host(pm_target *t, const pymac_host *host, pymac_error *err)
{
    host_target *h = calloc(1, sizeof *h);
    if (!h)
        return pm_nomem(err);
    h->live.map.fd = -1;
    t->ops = &host_ops;
    t->impl = h;
    h->host = *host;
    h->modules = calloc(host->nmodules, sizeof *h->modules);
    if (!h->modules)
        return pm_nomem(err);
    for (size_t i = 0; i < host->nmodules; i++) {
        h->modules[i].path = pm_strdup(host->modules[i].path);
        h->modules[i].bias = host->modules[i].bias;
        h->nmodules++;
    }
    t->kind = host->kind ? host->kind : "gdb";
    pm_core *map = &h->live.map;
    map->nthreads = host->nthreads;
    t->space_bytes = 1ull << 40; /* unknown: bound walks by a generous 1 TiB */
    if (host->nranges && (map->segs = calloc(host->nranges, sizeof *map->segs))) {
        t->space_bytes = 0;
        for (size_t i = 0; i < host->nranges; i++) {
            uint64_t lo = host->ranges[2 * i], hi = host->ranges[2 * i + 1];
            if (hi <= lo)
                continue;
            map->segs[map->nsegs++] = (pm_segment){.vaddr = lo, .memsz = hi - lo};
            t->space_bytes += hi - lo;
        }
        pm_core_sort_segments(map);
    }
    h->live.reader = (pm_reader){host_read, h};
    return PYMAC_OK;
}

/* ---- a bare reader ---- */

static int no_modules(pm_target *t, Dwfl *dwfl, const char *exe_override)
{
    (void)t, (void)dwfl, (void)exe_override;
    return -1;
}

static void reader_close(pm_target *t)
{
    pm_live_release(t->impl);
    free(t->impl);
}

static const pm_target_ops reader_ops = {
    .read = pm_live_read,
    .mapped = pm_live_mapped,
    .ranges = pm_live_ranges,
    .files = pm_live_files,
    .threads = pm_live_threads,
    .about = pm_live_about,
    .report_modules = no_modules,
    .find_elf = dwfl_build_id_find_elf,
    .flush = pm_live_flush,
    .close = reader_close,
};

pymac_status pm_target_open_reader(pm_target *t, pm_reader reader, const char *kind,
                                   uint64_t space_bytes, pymac_error *err)
{
    pm_live *l = calloc(1, sizeof *l);
    if (!l)
        return pm_nomem(err);
    l->map.fd = -1;
    l->reader = reader;
    t->ops = &reader_ops;
    t->impl = l;
    t->kind = kind;
    t->space_bytes = space_bytes;
    return PYMAC_OK;
}

/* A session: one core, its modules, the interpreter found in it, and the
 * reads everything else goes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "gc.h"
#include "graph.h"
#include "object.h"
#include "target_proc.h"
#include "layout.h"
#include "layout_table.h"

static pymac_session *new_session(const pymac_open_options *opts)
{
    pymac_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->core.fd = -1;
    s->core_path = pm_strdup(opts ? opts->core_path : NULL);
    s->exe_override = pm_strdup(opts ? opts->exe_path : NULL);
    if (opts && opts->n_debug_dirs) {
        s->debug_dirs = calloc(opts->n_debug_dirs, sizeof *s->debug_dirs);
        for (size_t i = 0; s->debug_dirs && i < opts->n_debug_dirs; i++)
            s->debug_dirs[s->n_debug_dirs++] = pm_strdup(opts->debug_dirs[i]);
    }
    return s;
}

pymac_status pm_explain_truncation(pymac_session *s, pymac_status st, bool at_open,
                                   pymac_error *err)
{
    const pm_core *c = &s->core;
    if ((st != PYMAC_E_CORRUPT && st != PYMAC_E_NOT_PYTHON) || !c->image ||
        c->expected_size <= c->size || (!at_open && !c->missing_reads))
        return st;
    if (st == PYMAC_E_NOT_PYTHON) {
        /* only if an interpreter was mapped: a cut core of /bin/sh is still not Python */
        bool python = false;
        for (size_t i = 0; i < c->nfiles && !python; i++)
            python = pm_is_python_name(c->files[i].path);
        if (!python)
            return st;
    }
    /* what could not be read, when it says more than "no interpreter" */
    char what[sizeof err->message + 4] = "";
    if (err && st == PYMAC_E_CORRUPT)
        snprintf(what, sizeof what, " (%s)", err->message);
    return pm_fail(err, PYMAC_E_TRUNCATED,
                   "the core was cut short while being written (ulimit -c, a full disk, an "
                   "interrupted copy); take it again with room for all of it",
                   "core truncated: %zu of %llu bytes, and the interpreter's own state is in "
                   "the missing part%s",
                   c->size, (unsigned long long)c->expected_size, what);
}

/* Everything after the target is readable: modules, DWARF, the runtime. */
static pymac_status finish_open(pymac_session *s, pymac_status st, pymac_session **out,
                                pymac_error *err)
{
    if (!st)
        st = pm_modules_open(s, err);
    if (!st)
        st = pm_runtime_open(s, err);
    st = pm_explain_truncation(s, st, true, err);
    if (st) {
        pymac_close(s);
        return st;
    }
    *out = s;
    return PYMAC_OK;
}

pymac_status pymac_open_core(const pymac_open_options *opts, pymac_session **out,
                             pymac_error *err)
{
    *out = NULL;
    if (!opts || !opts->core_path)
        return pm_fail(err, PYMAC_E_USAGE, NULL, "no core file given");
    pymac_session *s = new_session(opts);
    if (!s)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    pymac_status st = pm_core_open(&s->core, s->core_path, err);
    s->target_kind = s->core.kernel_core ? "kernel" : "gcore";
    s->space_bytes = s->core.size;
    if (!st && s->core.expected_size > s->core.size)
        pm_warn(s, "core truncated: %zu of %llu bytes; memory past byte %zu is missing",
                s->core.size, (unsigned long long)s->core.expected_size, s->core.size);
    return finish_open(s, st, out, err);
}

pymac_status pymac_open_pid(int pid, int stop, const pymac_open_options *opts,
                            pymac_session **out, pymac_error *err)
{
    *out = NULL;
    pymac_session *s = new_session(opts);
    if (!s)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    free(s->core_path);
    s->core_path = pm_asprintf("pid %d", pid);
    if (stop != PYMAC_STOP && stop != PYMAC_NO_STOP && stop != PYMAC_HELD) {
        pymac_close(s);
        return pm_fail(err, PYMAC_E_USAGE, NULL, "unknown stop mode %d", stop);
    }
    pymac_status st = pm_proc_attach(s, pid, stop, err);
    return finish_open(s, st, out, err);
}

void pymac_release(pymac_session *s)
{
    if (s)
        pm_proc_release(s->proc);
}

static bool host_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    pymac_session *s = ctx;
    return s->host.read(s->host.ctx, addr, buf, len) != 0;
}

pymac_status pymac_open_host(const pymac_host *host, const pymac_open_options *opts,
                             pymac_session **out, pymac_error *err)
{
    *out = NULL;
    if (!host || !host->read || !host->nmodules)
        return pm_fail(err, PYMAC_E_USAGE, NULL, "a host target needs a reader and its modules");
    pymac_session *s = new_session(opts);
    if (!s)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    s->host = *host;
    s->host_modules = calloc(host->nmodules, sizeof *s->host_modules);
    if (!s->host_modules) {
        pymac_close(s);
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < host->nmodules; i++) {
        s->host_modules[i].path = pm_strdup(host->modules[i].path);
        s->host_modules[i].bias = host->modules[i].bias;
        s->nhost_modules++;
    }
    free(s->core_path);
    s->core_path = pm_strdup(host->kind ? host->kind : "debugger target");
    s->target_kind = host->kind ? host->kind : "gdb";
    s->core.nthreads = host->nthreads;
    s->space_bytes = 1ull << 40; /* unknown: bound walks by a generous 1 TiB */
    if (host->nranges && (s->core.segs = calloc(host->nranges, sizeof *s->core.segs))) {
        s->space_bytes = 0;
        for (size_t i = 0; i < host->nranges; i++) {
            uint64_t lo = host->ranges[2 * i], hi = host->ranges[2 * i + 1];
            if (hi <= lo)
                continue;
            s->core.segs[s->core.nsegs++] = (pm_segment){.vaddr = lo, .memsz = hi - lo};
            s->space_bytes += hi - lo;
        }
        pm_core_sort_segments(&s->core);
    }
    s->reader.read = host_read;
    s->reader.ctx = s;
    return finish_open(s, PYMAC_OK, out, err);
}

void pm_session_drop_walks(pymac_session *s)
{
    if (s->heap) {
        free(s->heap->arenas);
        free(s->heap->pools);
        free(s->heap);
        s->heap = NULL;
    }
    pm_gc_free(s->gc);
    s->gc = NULL;
    pm_census_free(s->census_gc);
    pm_census_free(s->census_full);
    s->census_gc = s->census_full = NULL;
    pm_graph_free(s->graph);
    s->graph = NULL;
    pm_type_table_free(s->types);
    s->types = NULL;
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    s->warnings = NULL;
    s->nwarnings = 0;
}

void pymac_close(pymac_session *s)
{
    if (!s)
        return;
    pm_session_release(s);
    free(s);
}

void pm_session_release(pymac_session *s)
{
    pm_session_drop_walks(s);
    free(s->values);
    free(s->refs);
    free(s->layout);
    free(s->rt);
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s->callbacks);
    pm_proc_detach(s);
    pm_mem_cache_free(s->cache);
    pm_core_close(&s->core);
    for (size_t i = 0; i < PM_SYMBOL_MEMO; i++)
        free(s->symbol_memo[i].name);
    for (size_t i = 0; i < s->n_debug_dirs; i++)
        free(s->debug_dirs[i]);
    free(s->debug_dirs);
    free(s->debuginfo_path);
    for (size_t i = 0; i < s->nhost_modules; i++)
        free((char *)s->host_modules[i].path);
    free(s->host_modules);
    free(s->core_path);
    free(s->exe_override);
}

bool pm_mapped(pymac_session *s, uint64_t addr)
{
    if (s->core.image || s->core.nsegs)
        return pm_core_mapped(&s->core, addr);
    unsigned char b;
    return pm_read(s, addr, &b, 1); /* a debugger's inferior: ask it */
}

bool pm_read(pymac_session *s, uint64_t addr, void *buf, size_t len)
{
    if (s->reader.read) {
        /* a known map spares the reader the probes of unmapped addresses */
        if (s->core.nsegs && (!pm_core_mapped(&s->core, addr) ||
                              !pm_core_mapped(&s->core, addr + (len ? len - 1 : 0))))
            return false;
        return pm_mem_cache_read(s, addr, buf, len);
    }
    unsigned char *dst = buf;
    while (len) {
        if (addr + len < addr)
            return false;
        /* Take the longest run the core holds, piece by piece across segments. */
        size_t n = len;
        const void *p = pm_core_ptr(&s->core, addr, n);
        /* (when the core lacks even the first byte, no shorter run helps) */
        while (!p && n > 1 && pm_core_ptr(&s->core, addr, 1)) {
            n = (n + 1) / 2;
            p = pm_core_ptr(&s->core, addr, n);
        }
        if (p) {
            memcpy(dst, p, n);
        } else {
            /* Left out of the core: read-only file pages come from the ELF file. */
            n = len;
            if (!pm_module_file_read(s, addr, dst, n))
                return false;
        }
        dst += n;
        addr += n;
        len -= n;
    }
    return true;
}

const void *pm_view(pymac_session *s, uint64_t addr, size_t len, void *scratch)
{
    const void *p = s->core.image ? pm_core_ptr(&s->core, addr, len) : NULL;
    if (p)
        return p;
    return pm_read(s, addr, scratch, len) ? scratch : NULL;
}

bool pm_read_sparse(pymac_session *s, uint64_t addr, void *buf, size_t len)
{
    if (s->core.image && pm_core_copy(&s->core, addr, buf, len))
        return true;
    return pm_read(s, addr, buf, len); /* ELF files, a live process, a debugger */
}

bool pm_read_u64(pymac_session *s, uint64_t addr, uint64_t *out)
{
    return pm_read_uint(s, addr, 8, out);
}

bool pm_read_uint(pymac_session *s, uint64_t addr, unsigned size, uint64_t *out)
{
    unsigned char b[8];
    if (size == 0 || size > 8 || !pm_read(s, addr, b, size))
        return false;
    *out = pm_get_uint(b, 0, size);
    return true;
}

bool pm_span_readable(pymac_session *s, uint64_t addr, uint64_t count, uint64_t size)
{
    if (!count || !size)
        return true;
    if (count > s->space_bytes / size)
        return false;
    uint64_t bytes = count * size;
    unsigned char b;
    return addr + bytes - 1 >= addr && pm_read(s, addr, &b, 1) &&
           pm_read(s, addr + bytes - 1, &b, 1);
}

bool pm_read_cstr(pymac_session *s, uint64_t addr, char *buf, size_t cap)
{
    for (size_t i = 0; i < cap; i++) {
        if (!pm_read(s, addr + i, &buf[i], 1))
            return false;
        if (buf[i] == '\0')
            return true;
    }
    buf[cap - 1] = '\0';
    return false; /* no terminator within cap */
}

pymac_status pymac_get_info(pymac_session *s, pymac_info *out, pymac_error *err)
{
    (void)err;
    memset(out, 0, sizeof *out);
    out->core_path = s->core_path;
    out->core_kind = s->target_kind;
    out->executable = s->exe_override ? s->exe_override
                      : s->core.execfn ? s->core.execfn
                      : s->core.nfiles  ? s->core.files[0].path
                                        : "?";
    out->python_version = s->rt->version;
    out->hexversion = s->rt->hexversion;
    out->python_module = s->python.path;
    out->python_build_id = s->python.build_id;
    out->debuginfo_path = s->python.debug_path;
    out->debuginfo_source = s->python.debug_source;
    out->nthreads = s->core.nthreads;
    out->runtime_address = s->rt->runtime_addr;
    out->main_interpreter = s->rt->main_interp;
    out->obmalloc_state = s->rt->obmalloc_state;
    out->layout_source = s->rt->layout_source;
    const pm_layout_table *t = s->rt->table;
    if (t) {
        out->layout_table = t->name;
        out->layout_versions = s->rt->layout_versions;
        out->layout_build = t->free_threaded ? "free-threaded" : "default";
        out->layout_proven_on = t->proven_on;
    }
    out->debug_offsets_checked = s->rt->debug_offsets_checked;
    return PYMAC_OK;
}

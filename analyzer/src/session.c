/* A session: one core, its modules, the interpreter found in it, and the
 * reads everything else goes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "gc.h"
#include "graph.h"
#include "retain.h"
#include "object.h"
#include "layout.h"
#include "layout_table.h"
#include "mimalloc.h"

/* Read-only file pages a core left out, from the ELF files found for them. */
static bool fill_from_files(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return pm_module_file_read(ctx, addr, buf, len);
}

static pymac_session *new_session(const pymac_open_options *opts)
{
    pymac_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->target.fill = (pm_reader){fill_from_files, s};
    s->core_path = pm_strdup(opts ? opts->core_path : NULL);
    s->exe_override = pm_strdup(opts ? opts->exe_path : NULL);
    s->sysroot = pm_strdup(opts && opts->sysroot && opts->sysroot[0] ? opts->sysroot : NULL);
    s->progress = opts ? opts->progress : NULL;
    s->progress_ctx = opts ? opts->progress_ctx : NULL;
    if (opts && opts->n_debug_dirs) {
        s->debug_dirs = calloc(opts->n_debug_dirs, sizeof *s->debug_dirs);
        for (size_t i = 0; s->debug_dirs && i < opts->n_debug_dirs; i++)
            s->debug_dirs[s->n_debug_dirs++] = pm_strdup(opts->debug_dirs[i]);
    }
    return s;
}

/* Everything after the target is readable: modules, DWARF, the runtime. */
static pymac_status finish_open(pymac_session *s, pymac_status st, pymac_session **out,
                                pymac_error *err)
{
    if (!st)
        st = pm_modules_open(s, err);
    if (!st && s->python.dwarf) { /* without, runtime.c asks for a table */
        st = pm_layout_source_dwarf(s, err);
        pm_layout_source_record(s);
    }
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
        return pm_nomem(err);
    pymac_status st = pm_target_open_core(&s->target, s->core_path, opts->progress,
                                          opts->progress_ctx, err);
    pm_target_about c = pm_target_about_of(&s->target);
    if (!st && c.expected_size > c.size)
        pm_warn(s, "core truncated: %zu of %llu bytes; memory past byte %zu is missing",
                (size_t)c.size, (unsigned long long)c.expected_size, (size_t)c.size);
    return finish_open(s, st, out, err);
}

pymac_status pymac_open_pid(int pid, int stop, const pymac_open_options *opts,
                            pymac_session **out, pymac_error *err)
{
    *out = NULL;
    pymac_session *s = new_session(opts);
    if (!s)
        return pm_nomem(err);
    free(s->core_path);
    s->core_path = pm_asprintf("pid %d", pid);
    if (stop != PYMAC_STOP && stop != PYMAC_NO_STOP && stop != PYMAC_HELD) {
        pymac_close(s);
        return pm_fail(err, PYMAC_E_USAGE, NULL, "unknown stop mode %d", stop);
    }
    pymac_status st = pm_target_open_pid(&s->target, pid, stop, err);
    if (!st && stop == PYMAC_NO_STOP)
        pm_warn(s, "process %d was not stopped (--no-stop): it ran while being read, so the "
                   "results may be inconsistent",
                pid);
    return finish_open(s, st, out, err);
}

void pymac_release(pymac_session *s)
{
    if (s && s->target.ops && s->target.ops->release)
        s->target.ops->release(&s->target); /* async-signal-safe */
}

pymac_status pymac_open_host(const pymac_host *host, const pymac_open_options *opts,
                             pymac_session **out, pymac_error *err)
{
    *out = NULL;
    if (!host || !host->read || !host->nmodules)
        return pm_fail(err, PYMAC_E_USAGE, NULL, "a host target needs a reader and its modules");
    pymac_session *s = new_session(opts);
    if (!s)
        return pm_nomem(err);
    pymac_status st = pm_target_open_host(&s->target, host, err);
    if (st) {
        pymac_close(s);
        return st;
    }
    free(s->core_path);
    s->core_path = pm_strdup(host->kind ? host->kind : "debugger target");
    return finish_open(s, PYMAC_OK, out, err);
}

void pm_session_drop_walks(pymac_session *s)
{
    pm_heap_free(s); /* before the walks it indexes */
    if (s->pymalloc) {
        free(s->pymalloc->arenas);
        free(s->pymalloc->pools);
        free(s->pymalloc);
        s->pymalloc = NULL;
    }
    pm_mi_session_drop(s);
    pm_gc_free(s->gc);
    s->gc = NULL;
    pm_census_free(s->census_gc);
    pm_census_free(s->census_full);
    s->census_gc = s->census_full = NULL;
    pm_graph_free(s->graph);
    s->graph = NULL;
    pm_retain_free(s->retain);
    s->retain = NULL;
    pm_type_table_free(s->types);
    s->types = NULL;
    pm_warnings_clear(&s->warnings);
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
    pm_mi_session_free(s);
    free(s->values);
    free(s->refs);
    free(s->layout);
    if (s->layout_source)
        s->layout_source->close(s->layout_source);
    free(s->rt);
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s->callbacks);
    pm_target_close(&s->target);
    for (size_t i = 0; i < PM_SYMBOL_MEMO; i++)
        free(s->symbol_memo[i].name);
    for (size_t i = 0; i < s->n_debug_dirs; i++)
        free(s->debug_dirs[i]);
    free(s->debug_dirs);
    free(s->debuginfo_path);
    free(s->core_path);
    free(s->exe_override);
    free(s->sysroot);
}

size_t pymac_warning_count(const pymac_session *s)
{
    return s ? s->warnings.n : 0;
}

const char *pymac_warning(const pymac_session *s, size_t i)
{
    return s && i < s->warnings.n ? s->warnings.v[i] : NULL;
}

void pymac_render_warnings(const pymac_session *s, FILE *out)
{
    for (size_t i = 0; s && i < s->warnings.n; i++)
        fprintf(out, "warning: %s\n", s->warnings.v[i]);
}

pymac_status pymac_get_info(pymac_session *s, pymac_info *out, pymac_error *err)
{
    (void)err;
    memset(out, 0, sizeof *out);
    out->core_path = s->core_path;
    out->core_kind = s->target.kind;
    pm_target_about about = pm_target_about_of(&s->target);
    size_t nfiles;
    const pm_mapped_file *files = pm_target_files(&s->target, &nfiles);
    out->executable = s->exe_override ? s->exe_override
                      : about.execfn   ? about.execfn
                      : nfiles         ? files[0].path
                                       : "?";
    out->python_version = s->rt->version;
    out->hexversion = s->rt->hexversion;
    out->python_module = s->python.path;
    out->python_build_id = s->python.build_id;
    out->debuginfo_path = s->python.debug_path;
    out->debuginfo_source = s->python.debug_source;
    out->nthreads = pm_target_threads(&s->target);
    out->runtime_address = s->rt->runtime_addr;
    out->main_interpreter = s->rt->main_interp;
    out->obmalloc_state = s->rt->obmalloc_state;
    out->newest_tested = pymac_untested_version(s);
    out->untested_version = out->newest_tested != NULL;
    out->compression = about.compression;
    out->compressed_bytes = about.compressed_size;
    out->core_bytes = about.size;
    out->layout_source = s->rt->layout_source;
    const pm_layout_table *t = s->rt->table;
    if (t) {
        out->layout_table = t->name;
        out->layout_build = t->free_threaded ? "free-threaded" : "default";
        out->layout_proven_on = t->proven_on;
    }
    out->debug_offsets_checked = s->rt->debug_offsets_checked;
    if (out->debuginfo_source && strcmp(out->debuginfo_source, "debuginfod") == 0)
        out->debuginfod_urls = getenv("DEBUGINFOD_URLS");
    return PYMAC_OK;
}

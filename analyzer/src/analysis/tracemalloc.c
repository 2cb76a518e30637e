/* Reads tracemalloc's tables out of the target.
 *
 * 3.8-3.11 keep the state in file statics of Modules/_tracemalloc.c
 * (tracemalloc_traces, tracemalloc_domains from 3.9, the traced memory and
 * its peak) and the config in _Py_tracemalloc_config (obmalloc.c); 3.12+
 * keep all of it in _PyRuntime.tracemalloc. The tables are _Py_hashtable_t:
 * an array of buckets, each a singly linked chain of entries. 3.8's entries
 * carry key and data inline after the entry header (the traces table's key
 * is a pointer, or a packed {ptr, domain} once a domain other than 0 was
 * used); 3.9+ entries hold key and value pointers, the traces table maps a
 * pointer to a trace_t, and tracemalloc_domains maps each other domain to
 * a traces table of its own. Every layout comes from DWARF by name. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "object.h"
#include "tracemalloc.h"
#include "value.h"

/* Members of the module's types: as its CU defines them (found near one of
 * its public functions), for types private to Modules/_tracemalloc.c. */
static bool member(pymac_session *s, const char *type, const char *path, pm_field *f)
{
    pm_lookup_field_near(s, type, path, "PyTraceMalloc_Track", f);
    return f->ok;
}

static uint32_t size_of(pymac_session *s, const char *type)
{
    int64_t n = pm_lookup_size_near(s, type, "PyTraceMalloc_Track");
    return n > 0 ? (uint32_t)n : 0;
}

pymac_status pm_tm_layout_resolve(pymac_session *s, pm_tm_layout *T, pymac_error *err)
{
    memset(T, 0, sizeof *T);
    const char *missing = NULL;
    pm_field f;
    if (!member(s, "_Py_hashtable_t", "buckets", &T->ht_buckets) ||
        !member(s, "_Py_hashtable_entry_t", "_Py_slist_item.next", &T->e_next) ||
        !(T->bucket_size = size_of(s, "_Py_slist_t")))
        missing = "_Py_hashtable_entry_t._Py_slist_item.next";
    else {
        T->inline_entries = !member(s, "_Py_hashtable_entry_t", "key", &T->e_key);
        T->entry_size = size_of(s, "_Py_hashtable_entry_t");
        if (T->inline_entries) {
            if (!member(s, "_Py_hashtable_t", "num_buckets", &T->ht_nbuckets) ||
                !member(s, "_Py_hashtable_t", "entries", &T->ht_nentries) ||
                !member(s, "_Py_hashtable_t", "key_size", &T->ht_key_size) ||
                !member(s, "_Py_hashtable_t", "data_size", &T->ht_data_size))
                missing = "_Py_hashtable_t.num_buckets";
            else if (!member(s, "pointer_t", "ptr", &T->pk_ptr) ||
                     !member(s, "pointer_t", "domain", &T->pk_domain))
                missing = "pointer_t";
            else
                T->pointer_key_size = size_of(s, "pointer_t");
        } else if (!member(s, "_Py_hashtable_t", "nbuckets", &T->ht_nbuckets) ||
                   !member(s, "_Py_hashtable_t", "nentries", &T->ht_nentries) ||
                   !member(s, "_Py_hashtable_entry_t", "value", &T->e_value))
            missing = "_Py_hashtable_t.nbuckets";
    }
    if (!missing) {
        const char *tb = member(s, "traceback_t", "nframe", &f) ? "traceback_t"
                                                                : "tracemalloc_traceback";
        const char *fr = pm_lookup_member_type(s, tb, "frames");
        uint64_t esz = 0, n;
        if (!member(s, "trace_t", "size", &T->tr_size) ||
            !member(s, "trace_t", "traceback", &T->tr_traceback))
            missing = "trace_t";
        else if (!member(s, tb, "nframe", &T->tb_nframe) || !member(s, tb, "frames", &T->tb_frames))
            missing = "traceback_t.frames";
        else if (!fr || !pm_lookup_array(s, tb, "frames", &esz, &n) ||
                 !member(s, fr, "filename", &T->fr_filename) ||
                 !member(s, fr, "lineno", &T->fr_lineno))
            missing = "frame_t";
        else {
            T->trace_size = size_of(s, "trace_t");
            member(s, tb, "total_nframe", &T->tb_total_nframe); /* 3.9+ */
            T->frame_size = (uint32_t)esz;
            const char *ft = pm_lookup_member_type(s, fr, "filename");
            T->fr_cstring = ft && strcmp(ft, "char*") == 0;
        }
    }
    if (!missing && (!T->entry_size || !T->bucket_size || !T->frame_size || !T->trace_size ||
                     T->ht_nbuckets.size != 8 || T->ht_buckets.size != 8 || T->e_next.size != 8))
        missing = "the sizes of _Py_hashtable_t";
    if (missing)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                       "DWARF of %s (CPython %s) lacks %s, which tracemalloc's tables need",
                       s->python.debug_path, s->rt->version, missing);
    return PYMAC_OK;
}

static uint64_t static_var(pymac_session *s, const char *name, const char *file)
{
    pm_symbol sym = pm_symbol_lookup(s, name, file);
    return sym.found ? sym.addr : 0;
}

pymac_status pm_tm_locate(pymac_session *s, pm_tm_vars *v, pymac_error *err)
{
    memset(v, 0, sizeof *v);
    pm_field f;
    if (!member(s, "_PyTraceMalloc_Config", "tracing", &f))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                       "DWARF of CPython %s lacks struct _PyTraceMalloc_Config", s->rt->version);
    v->int_size = f.size;
    uint64_t config;
    if (s->rt->minor >= 12) {
        pm_field base;
        if (!member(s, "_PyRuntimeState", "tracemalloc", &base))
            return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                           "DWARF of CPython %s lacks _PyRuntimeState.tracemalloc",
                           s->rt->version);
        uint64_t st = s->rt->runtime_addr;
        static const struct {
            const char *path;
            size_t at;
        } m[] = {
            {"config", offsetof(pm_tm_vars, tracing)},
            {"traced_memory", offsetof(pm_tm_vars, traced_memory)},
            {"peak_traced_memory", offsetof(pm_tm_vars, peak_traced_memory)},
            {"traces", offsetof(pm_tm_vars, traces)},
            {"domains", offsetof(pm_tm_vars, domains)},
        };
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
            char path[64];
            snprintf(path, sizeof path, "tracemalloc.%s", m[i].path);
            if (!member(s, "_PyRuntimeState", path, &f))
                return pm_fail(err, PYMAC_E_UNSUPPORTED,
                               "pass matching debug info with --debug-dir",
                               "DWARF of CPython %s lacks _PyRuntimeState.tracemalloc.%s",
                               s->rt->version, m[i].path);
            *(uint64_t *)((char *)v + m[i].at) = st + (uint64_t)f.off;
        }
        config = v->tracing;
    } else {
        config = static_var(s, "_Py_tracemalloc_config", "obmalloc.c");
        v->traced_memory = static_var(s, "tracemalloc_traced_memory", "_tracemalloc.c");
        v->peak_traced_memory = static_var(s, "tracemalloc_peak_traced_memory", "_tracemalloc.c");
        v->traces = static_var(s, "tracemalloc_traces", "_tracemalloc.c");
        if (s->rt->minor >= 9)
            v->domains = static_var(s, "tracemalloc_domains", "_tracemalloc.c");
        bool all = v->traced_memory && v->peak_traced_memory && v->traces &&
                   (s->rt->minor < 9 || v->domains);
        if (config && !all && !s->python.dwarf) {
            /* stripped: only the config is exported (_Py_tracemalloc_config);
             * _tracemalloc.c's statics are named by no symbol. Not tracing,
             * they hold nothing (pm_tm_vars.untraced_unlocated); tracing,
             * they hold the traces, and are searched for in the code,
             * the traces confirming them (tracemalloc_find.c). */
            uint64_t tracing;
            member(s, "_PyTraceMalloc_Config", "tracing", &f);
            if (!pm_read_uint(s, config + (uint64_t)f.off, v->int_size, &tracing))
                return pm_fail(err, PYMAC_E_CORRUPT, NULL,
                               "tracemalloc's configuration at 0x%llx cannot be read",
                               (unsigned long long)config);
            if (tracing) {
                pm_tm_layout T;
                const char *missing = "tracemalloc_traces";
                pymac_status st = pm_tm_layout_resolve(s, &T, err);
                if (st != PYMAC_OK)
                    return st;
                if (!pm_tm_find_statics(s, &T, v, &missing))
                    return pm_fail(err, PYMAC_E_NO_DEBUGINFO, s->python.no_dwarf_hint,
                                   "%s, and the process traced with tracemalloc, whose state "
                                   "(%s) CPython %s keeps in file statics that only the "
                                   "symbol table or DWARF names, and that its code and data "
                                   "did not tell", s->python.no_dwarf_why, missing,
                                   s->rt->version);
            } else {
                v->untraced_unlocated = true;
            }
            all = true;
        }
        if (!config || !all)
            return pm_fail(err, PYMAC_E_UNSUPPORTED, "pass matching debug info with --debug-dir",
                           "the symbols of tracemalloc's state are missing from %s (CPython %s)",
                           s->python.debug_path ? s->python.debug_path : s->python.path,
                           s->rt->version);
    }
    member(s, "_PyTraceMalloc_Config", "tracing", &f);
    v->tracing = config + (uint64_t)f.off;
    if (!member(s, "_PyTraceMalloc_Config", "max_nframe", &f))
        return pm_fail(err, PYMAC_E_UNSUPPORTED, NULL,
                       "DWARF of CPython %s lacks _PyTraceMalloc_Config.max_nframe",
                       s->rt->version);
    v->max_nframe = config + (uint64_t)f.off;
    if (member(s, "_PyTraceMalloc_Config", "use_domain", &f)) /* 3.8 */
        v->use_domain = config + (uint64_t)f.off;
    return PYMAC_OK;
}

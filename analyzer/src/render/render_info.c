/* The info view: what this core is and where pymac found what it needs. */
#include "json.h"
#include "layout.h"
#include "pm.h"
#include "render_json.h"

/* The object allocator's short name, as the JSON gives it. */
static const char *allocator_key(const pymac_session *s)
{
    if (s->layout->free_threaded)
        return "mimalloc";
    switch (s->rt->obj_alloc) {
    case PM_ALLOC_MALLOC:
        return "malloc";
    case PM_ALLOC_MIMALLOC:
        return "mimalloc";
    case PM_ALLOC_OTHER:
        return "other";
    default:
        return "pymalloc";
    }
}

pymac_status pymac_render_info(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err)
{
    pymac_info in;
    pymac_status st = pymac_get_info(s, &in, err);
    if (st)
        return st;
    if (fmt == PYMAC_JSON) {
        fputc('{', out);
        const char *keys[] = {"core", "core_kind", "executable", "python_version",
                              "python_module", "python_build_id", "debuginfo_path",
                              "debuginfo_source"};
        const char *vals[] = {in.core_path,      in.core_kind,       in.executable,
                              in.python_version, in.python_module,   in.python_build_id,
                              in.debuginfo_path, in.debuginfo_source};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            pm_json_key(out, keys[i]);
            pm_json_str(out, vals[i]);
            fputs(", ", out);
        }
        fprintf(out,
                "\"hexversion\": %u, \"threads\": %u, \"runtime_address\": \"0x%llx\", "
                "\"main_interpreter\": \"0x%llx\", ",
                in.hexversion, in.nthreads, (unsigned long long)in.runtime_address,
                (unsigned long long)in.main_interpreter);
        fprintf(out, "\"allocator\": \"%s\", \"debug_hooks\": %s, ", allocator_key(s),
                s->rt->debug_hooks ? "true" : "false");
        if (in.debuginfod_urls) {
            pm_json_key(out, "debuginfod_urls");
            pm_json_str(out, in.debuginfod_urls);
            fputs(", ", out);
        }
        pm_json_key(out, "layout_source");
        pm_json_str(out, in.layout_source);
        fputs(", ", out);
        pm_json_key(out, "layout_table");
        if (in.layout_table) {
            fputs("{", out);
            pm_json_key(out, "name");
            pm_json_str(out, in.layout_table);
            fputs(", ", out);
            pm_json_key(out, "build");
            pm_json_str(out, in.layout_build);
            fputs(", ", out);
            pm_json_key(out, "proven_on");
            pm_json_str(out, in.layout_proven_on);
            fputs("}, ", out);
        } else {
            fputs("null, ", out);
        }
        fprintf(out, "\"debug_offsets_checked\": %u, ", in.debug_offsets_checked);
        if (in.compression)
            fprintf(out,
                    "\"compressed\": {\"format\": \"%s\", \"compressed_bytes\": %llu, "
                    "\"core_bytes\": %llu}, ",
                    in.compression, (unsigned long long)in.compressed_bytes,
                    (unsigned long long)in.core_bytes);
        else
            fputs("\"compressed\": null, ", out);
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return PYMAC_OK;
    }
    fprintf(out, "target:           %s (%s)\n", in.core_path, in.core_kind);
    if (in.compression)
        fprintf(out, "compressed:       %s (%.1f MiB -> %.1f MiB)\n", in.compression,
                in.compressed_bytes / 1048576.0, in.core_bytes / 1048576.0);
    fprintf(out,
            "executable:       %s\n"
            "python:           CPython %s (hexversion 0x%08x)\n"
            "interpreter in:   %s\n"
            "build-id:         %s\n",
            in.executable, in.python_version, in.hexversion, in.python_module,
            in.python_build_id[0] ? in.python_build_id : "none");
    if (in.debuginfod_urls)
        fprintf(out, "debug info:       debuginfod (%s), cached as %s\n", in.debuginfod_urls,
                in.debuginfo_path ? in.debuginfo_path : "?");
    else
        fprintf(out, "debug info:       %s (%s)\n", in.debuginfo_path ? in.debuginfo_path : "?",
                in.debuginfo_source);
    fprintf(out,
            "threads:          %u\n"
            "_PyRuntime:       0x%llx\n"
            "main interpreter: 0x%llx\n",
            in.nthreads, (unsigned long long)in.runtime_address,
            (unsigned long long)in.main_interpreter);
    fprintf(out, "allocator:        %s%s\n",
            s->layout->free_threaded ? "mimalloc (free-threaded build)" : pm_allocator_name(s->rt),
            s->rt->debug_hooks ? ", with debug hooks (PYTHONMALLOC=debug, -X dev or a debug build)"
                               : "");
    if (in.layout_table)
        fprintf(out, "layouts:          %s: table %s (CPython 3.%u, %s build; generated from %s)",
                in.layout_source, in.layout_table, in.hexversion >> 16 & 0xff, in.layout_build,
                in.layout_proven_on);
    else
        fprintf(out, "layouts:          %s", in.layout_source);
    if (in.debug_offsets_checked)
        fprintf(out, ", %u offsets agree with _Py_DebugOffsets", in.debug_offsets_checked);
    fputc('\n', out);
    if (in.untested_version)
        fprintf(out, "untested:         CPython %s is newer than the newest version pymac was "
                     "tested on (%s)\n",
                in.python_version, in.newest_tested);
    pymac_render_warnings(s, out);
    return PYMAC_OK;
}

/* The info view: what this core is and where pymac found what it needs. */
#include "json.h"
#include "pm.h"

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
        pm_json_key(out, "layout_source");
        pm_json_str(out, in.layout_source);
        fputs(", ", out);
        pm_json_key(out, "layout_table");
        if (in.layout_table) {
            fputc('{', out);
            const char *tk[] = {"name", "versions", "build", "proven_on"};
            const char *tv[] = {in.layout_table, in.layout_versions, in.layout_build,
                                in.layout_proven_on};
            for (size_t i = 0; i < 4; i++) {
                if (i)
                    fputs(", ", out);
                pm_json_key(out, tk[i]);
                pm_json_str(out, tv[i]);
            }
            fprintf(out, ", \"debug_offsets_checked\": %u}, ", in.debug_offsets_checked);
        } else {
            fputs("null, ", out);
        }
        pm_json_warnings(out, s);
        fputs("}\n", out);
        return PYMAC_OK;
    }
    fprintf(out,
            "target:           %s (%s)\n"
            "executable:       %s\n"
            "python:           CPython %s (hexversion 0x%08x)\n"
            "interpreter in:   %s\n"
            "build-id:         %s\n"
            "debug info:       %s (%s)\n"
            "threads:          %u\n"
            "_PyRuntime:       0x%llx\n"
            "main interpreter: 0x%llx\n",
            in.core_path, in.core_kind, in.executable, in.python_version, in.hexversion,
            in.python_module, in.python_build_id[0] ? in.python_build_id : "none",
            in.debuginfo_path ? in.debuginfo_path : "?", in.debuginfo_source, in.nthreads,
            (unsigned long long)in.runtime_address, (unsigned long long)in.main_interpreter);
    if (in.layout_table)
        fprintf(out, "layouts:          %s: table %s (CPython %s, %s build; generated from %s)",
                in.layout_source, in.layout_table, in.layout_versions, in.layout_build,
                in.layout_proven_on);
    else
        fprintf(out, "layouts:          %s", in.layout_source);
    if (in.debug_offsets_checked)
        fprintf(out, ", %u offsets confirmed by _Py_DebugOffsets", in.debug_offsets_checked);
    fputc('\n', out);
    pymac_render_warnings(s, out);
    return PYMAC_OK;
}

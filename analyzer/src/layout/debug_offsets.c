/* _Py_DebugOffsets (3.13+): the offsets CPython publishes at the start of
 * _PyRuntime for out-of-process tools. Each one pymac also uses is read from
 * the target and compared with what the layout source says: a layout table
 * that disagrees with the build in front of it is refused. They cover no
 * allocator state, no GC lists and no refcount, so they check the table
 * rather than replace it (as pystack uses them). With DWARF the same check
 * runs: a disagreement there is said as a warning. */
#include <string.h>

#include "layout.h"

typedef struct do_entry {
    const char *member;
    char kind;
    const char *type, *path;
} do_entry;

static const do_entry entries[] = {
#define PM_DO(member, kind, type, path) {member, kind, type, path},
#include "debug_offsets.def"
#undef PM_DO
};

static const char HINT[] =
    "the layout table does not describe this build: install its debug info (python3.X-dbg) or "
    "pass --debug-dir";

pymac_status pm_debug_offsets_check(pymac_session *s, pymac_error *err)
{
    pm_runtime *rt = s->rt;
    char cookie[8];
    bool table = rt->table != NULL;
    if (rt->minor < 13 || !pm_read(s, rt->runtime_addr, cookie, sizeof cookie))
        return PYMAC_OK; /* none published (a table is not checked: before 3.13) */
    if (memcmp(cookie, "xdebugpy", 8) != 0) {
        /* every 3.13+ build publishes them: the start of _PyRuntime is damaged */
        if (table)
            pm_warn(s, "no _Py_DebugOffsets at _PyRuntime (0x%llx; its cookie is damaged): the "
                    "layout table is used unchecked", (unsigned long long)rt->runtime_addr);
        return PYMAC_OK;
    }
    unsigned checked = 0;
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        const do_entry *e = &entries[i];
        pm_field where, ours = {0};
        pm_lookup_field(s, "_Py_DebugOffsets", e->member, &where);
        if (e->kind == 's') {
            uint32_t n = pm_lookup_size(s, e->type);
            ours.ok = n > 0;
            ours.off = (int32_t)n;
        } else {
            pm_lookup_field(s, e->type, e->path, &ours);
        }
        uint64_t published;
        if (!where.ok || !ours.ok)
            continue; /* this version has no such member */
        if (!pm_read_u64(s, rt->runtime_addr + (uint64_t)where.off, &published))
            return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                           "cannot read _Py_DebugOffsets.%s", e->member);
        if (published == (uint64_t)ours.off) {
            checked++;
            continue;
        }
        if (!table) {
            pm_warn(s, "_Py_DebugOffsets.%s is %llu, but the DWARF says %s%s%s is at %lld",
                    e->member, (unsigned long long)published, e->type, e->path[0] ? "." : "",
                    e->path, (long long)ours.off);
            continue;
        }
        return pm_fail(err, PYMAC_E_MISMATCH, HINT,
                       "_Py_DebugOffsets.%s is %llu in this build; the layout table says %s%s%s "
                       "is %lld",
                       e->member, (unsigned long long)published, e->type, e->path[0] ? "." : "",
                       e->path, (long long)ours.off);
    }
    rt->debug_offsets_checked = checked;
    if (table && checked)
        rt->layout_source = "debug_offsets+table";
    return PYMAC_OK;
}

/* _Py_DebugOffsets (3.13+): the offsets CPython publishes in _PyRuntime for
 * out-of-process tools. Without DWARF, each one pymac also uses is read from
 * the target and compared with the layout table: a table that disagrees with
 * the build in front of it is refused, never used. It covers no allocator
 * state, no GC lists and no refcount, so it checks the table rather than
 * replacing it (the arrangement pystack uses). */
#include <string.h>

#include "layout.h"
#include "layout_table.h"

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
    const pm_layout_table *t = rt->table;
    if (rt->minor < 13 || !t)
        return PYMAC_OK;
    char cookie[8];
    if (!pm_read(s, rt->runtime_addr, cookie, sizeof cookie) || memcmp(cookie, "xdebugpy", 8) != 0)
        return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                       "_PyRuntime at 0x%llx does not start with _Py_DebugOffsets' cookie",
                       (unsigned long long)rt->runtime_addr);
    const pm_layout_fact *v = pm_table_fact(t, PM_FACT_MEMBER, "_Py_DebugOffsets", "version");
    uint64_t version;
    if (!v || !v->present || !pm_read_u64(s, rt->runtime_addr + (uint64_t)v->off, &version))
        return pm_fail(err, PYMAC_E_CORRUPT, NULL, "cannot read _Py_DebugOffsets.version");
    if ((version >> 16) != (rt->hexversion >> 16))
        return pm_fail(err, PYMAC_E_MISMATCH, HINT,
                       "_Py_DebugOffsets says version 0x%llx, the interpreter 0x%x",
                       (unsigned long long)version, rt->hexversion);
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        const do_entry *e = &entries[i];
        const pm_layout_fact *where = pm_table_fact(t, PM_FACT_MEMBER, "_Py_DebugOffsets", e->member);
        const pm_layout_fact *ours = pm_table_fact(t, e->kind, e->type, e->path);
        uint64_t published;
        if (!where || !where->present || !ours || !ours->present)
            return pm_fail(err, PYMAC_E_NO_DEBUGINFO, s->python.no_dwarf_hint,
                           "the layout table %s lacks %s.%s or _Py_DebugOffsets.%s", t->name,
                           e->type, e->path, e->member);
        if (!pm_read_u64(s, rt->runtime_addr + (uint64_t)where->off, &published))
            return pm_fail(err, PYMAC_E_CORRUPT, "the core may be damaged",
                           "cannot read _Py_DebugOffsets.%s", e->member);
        uint64_t expected = e->kind == PM_FACT_SIZE ? ours->size : (uint64_t)ours->off;
        if (published != expected)
            return pm_fail(err, PYMAC_E_MISMATCH, HINT,
                           "_Py_DebugOffsets.%s is %llu in this build; the layout table %s says "
                           "%s%s%s is %llu",
                           e->member, (unsigned long long)published, t->name, e->type,
                           e->path[0] ? "." : "", e->path, (unsigned long long)expected);
    }
    rt->debug_offsets_checked = sizeof entries / sizeof entries[0];
    rt->layout_source = "debug_offsets+table";
    return PYMAC_OK;
}

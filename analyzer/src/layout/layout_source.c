/* The string-keyed layout lookups every walker uses, answered by the source
 * chosen at open: DWARF when the interpreter has it, else the committed
 * layout table of its version and build kind (layout_table.h).
 *
 * With PYMAC_LAYOUT_LOG=FILE in the environment each lookup is appended to
 * FILE as "kind type path" (layout_keys.def's vocabulary): the test that
 * proves the key list complete runs every view that way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_table.h"

static void log_lookup(pymac_session *s, char kind, const char *type, const char *path)
{
    if (!s->rt->layout_log_path)
        return;
    /* opened per line: a test hook, and the session keeps no file open */
    FILE *f = fopen(s->rt->layout_log_path, "a");
    if (f) {
        fprintf(f, "%c %s %s\n", kind, type, path[0] ? path : "-");
        fclose(f);
    }
}

bool pm_find_type(pymac_session *s, const char *name, Dwarf_Die *out)
{
    pm_runtime *rt = s->rt;
    if (!rt->dw.dwarf)
        return false;
    uint64_t anchors[4] = {rt->anchors_obmalloc[0], rt->anchors_runtime[0],
                           rt->anchors_obmalloc[1], rt->anchors_runtime[1]};
    return pm_dwarf_find_type(&rt->dw, name, anchors, 4, out);
}

static const pm_layout_fact *table_fact(pymac_session *s, char kind, const char *type,
                                        const char *path)
{
    const pm_layout_fact *f = pm_table_fact(s->rt->table, kind, type, path);
    return f && f->present ? f : NULL;
}

void pm_lookup_field(pymac_session *s, const char *type, const char *path, pm_field *out)
{
    log_lookup(s, PM_FACT_MEMBER, type, path);
    if (s->rt->table) {
        const pm_layout_fact *f = table_fact(s, PM_FACT_MEMBER, type, path);
        memset(out, 0, sizeof *out);
        if (f) {
            out->off = f->off;
            out->size = f->size;
            out->bit_off = f->bit_off;
            out->bit_size = f->bit_size;
            out->ok = true;
        }
        return;
    }
    Dwarf_Die t;
    out->ok = pm_find_type(s, type, &t) && pm_dwarf_member(&t, path, out);
}

uint32_t pm_lookup_size(pymac_session *s, const char *type)
{
    log_lookup(s, PM_FACT_SIZE, type, "");
    if (s->rt->table) {
        const pm_layout_fact *f = table_fact(s, PM_FACT_SIZE, type, "");
        return f ? f->size : 0;
    }
    Dwarf_Die t;
    int64_t n = pm_find_type(s, type, &t) ? pm_dwarf_sizeof(&t) : -1;
    return n > 0 ? (uint32_t)n : 0;
}

uint32_t pm_lookup_size_near(pymac_session *s, const char *type, const char *function)
{
    if (s->rt->table || !function)
        return pm_lookup_size(s, type);
    log_lookup(s, PM_FACT_SIZE, type, "");
    /* Several files define a type of this name: the one the function's file sees. */
    uint64_t a[1] = {pm_symbol_lookup(s, function, NULL).addr};
    Dwarf_Die t;
    if (!(a[0] && pm_dwarf_find_type(&s->rt->dw, type, a, 1, &t)) && !pm_find_type(s, type, &t))
        return 0;
    int64_t n = pm_dwarf_sizeof(&t);
    return n > 0 ? (uint32_t)n : 0;
}

bool pm_lookup_array(pymac_session *s, const char *type, const char *path, uint64_t *elem_size,
                     uint64_t *count)
{
    log_lookup(s, PM_FACT_ARRAY, type, path);
    if (s->rt->table) {
        const pm_layout_fact *f = table_fact(s, PM_FACT_ARRAY, type, path);
        if (f) {
            *elem_size = f->elem_size;
            *count = f->count;
        }
        return f != NULL;
    }
    Dwarf_Die t, elem;
    pm_field f;
    return pm_find_type(s, type, &t) && pm_dwarf_member(&t, path, &f) &&
           pm_dwarf_array_elem(&f.type, &elem, elem_size, count);
}

bool pm_layout_has_type(pymac_session *s, const char *type)
{
    return pm_lookup_size(s, type) > 0;
}

/* 3.13+: _PyRuntime starts with _Py_DebugOffsets: "xdebugpy", the version,
 * then free_threaded. Older versions have no free-threaded build. */
static bool free_threaded(pymac_session *s)
{
    char cookie[8];
    uint64_t ft;
    return s->rt->minor >= 13 && pm_read(s, s->rt->runtime_addr, cookie, sizeof cookie) &&
           memcmp(cookie, "xdebugpy", 8) == 0 && pm_read_u64(s, s->rt->runtime_addr + 16, &ft) &&
           ft == 1;
}

pymac_status pm_layout_choose(pymac_session *s, pymac_error *err)
{
    pm_runtime *rt = s->rt;
    const char *log = getenv("PYMAC_LAYOUT_LOG");
    rt->layout_log_path = log && *log ? log : NULL;
    if (s->python.dwarf) {
        rt->layout_source = "dwarf";
        return PYMAC_OK;
    }
    bool ft = free_threaded(s);
    unsigned patch = (rt->hexversion >> 8) & 0xff;
    rt->table = pm_table_for(rt->minor, patch, ft);
    if (!rt->table)
        return pm_fail(err, PYMAC_E_NO_DEBUGINFO, s->python.no_dwarf_hint,
                       "no DWARF debug info for %s (build-id %s), and no layout table for CPython "
                       "%s (%s build)",
                       s->python.path, s->python.build_id[0] ? s->python.build_id : "unknown",
                       rt->version, ft ? "free-threaded" : "default");
    rt->layout_source = "table";
    snprintf(rt->layout_versions, sizeof rt->layout_versions, "3.%u.%u-3.%u.%u", rt->table->minor,
             rt->table->patch_min, rt->table->minor, rt->table->patch_max);
    return pm_debug_offsets_check(s, err);
}

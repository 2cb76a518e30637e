/* The table layout source: when the interpreter has no DWARF, the committed
 * layout table of its version and build kind answers the same string-keyed
 * questions (layout_table.h; the tables are generated from DWARF and proven
 * against it by tests/layout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_table.h"

typedef struct table_source {
    pm_layout_source ops; /* first: the session holds a pm_layout_source * */
    const pm_layout_table *t;
} table_source;

static const pm_layout_fact *fact(pm_layout_source *src, char kind, const char *type,
                                  const char *path)
{
    const pm_layout_fact *f = pm_table_fact(((table_source *)src)->t, kind, type, path);
    return f && f->present ? f : NULL;
}

/* A type exists when the table knows any fact of it (sorted by type first). */
static bool has(pm_layout_source *src, const char *type)
{
    const pm_layout_table *t = ((table_source *)src)->t;
    for (size_t i = 0; i < t->nfacts; i++)
        if (t->facts[i].present && strcmp(t->facts[i].type, type) == 0)
            return true;
    return false;
}

static bool field(pm_layout_source *src, const char *type, const char *path, pm_field *out)
{
    const pm_layout_fact *f = fact(src, PM_FACT_MEMBER, type, path);
    memset(out, 0, sizeof *out);
    if (!f)
        return false;
    out->off = f->off;
    out->size = f->size;
    out->bit_off = f->bit_off;
    out->bit_size = f->bit_size;
    out->ok = true;
    return true;
}

/* One size per type name: the generator resolved it near the same function
 * the library names (layout_keys.def's PM_SIZE_NEAR), so `near` is moot. */
static int64_t size(pm_layout_source *src, const char *type, uint64_t near)
{
    (void)near;
    const pm_layout_fact *f = fact(src, PM_FACT_SIZE, type, "");
    return f ? (int64_t)f->size : -1;
}

static bool array(pm_layout_source *src, const char *type, const char *path, uint64_t *elem_size,
                  uint64_t *count)
{
    const pm_layout_fact *f = fact(src, PM_FACT_ARRAY, type, path);
    if (f) {
        *elem_size = f->elem_size;
        *count = f->count;
    }
    return f != NULL;
}

static void close_source(pm_layout_source *src)
{
    free(src);
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

pymac_status pm_layout_source_table(pymac_session *s, pymac_error *err)
{
    pm_runtime *rt = s->rt;
    bool ft = free_threaded(s);
    unsigned patch = (rt->hexversion >> 8) & 0xff;
    const pm_layout_table *t = pm_table_for(rt->minor, patch, ft);
    if (!t)
        return pm_fail(err, PYMAC_E_NO_DEBUGINFO, s->python.no_dwarf_hint,
                       "no DWARF debug info for %s (build-id %s), and no layout table for CPython "
                       "%s (%s build)",
                       s->python.path, s->python.build_id[0] ? s->python.build_id : "unknown",
                       rt->version, ft ? "free-threaded" : "default");
    table_source *ts = calloc(1, sizeof *ts);
    if (!ts)
        return pm_nomem(err);
    ts->ops = (pm_layout_source){.name = "table", .has = has, .field = field, .size = size,
                                 .array = array, .close = close_source};
    ts->t = t;
    s->layout_source = &ts->ops;
    rt->table = t;
    rt->layout_source = "table";
    snprintf(rt->layout_versions, sizeof rt->layout_versions, "3.%u.%u-3.%u.%u", t->minor,
             t->patch_min, t->minor, t->patch_max);
    return pm_debug_offsets_check(s, err);
}

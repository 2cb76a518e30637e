/* The table layout source: when the interpreter has no DWARF, the committed
 * table of its version and build kind gives the answers DWARF gave for a
 * build of the same kind (layout_table.h). A question the table was not
 * generated for is answered "absent", and said once as a warning: the
 * views that needed it say what they could not do, never a guess. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_table.h"

enum { MAX_MISSES = 8 };

typedef struct table_source {
    pm_layout_source ops; /* first: the session holds a pm_layout_source * */
    pymac_session *s;
    const pm_layout_table *t;
    unsigned patch;       /* the target's 3.minor.patch */
    unsigned misses;
    char type_name[128];  /* member_type's answer */
} table_source;

static table_source *ts_of(pm_layout_source *src)
{
    return (table_source *)src;
}

static const pm_layout_answer *ask(pm_layout_source *src, char kind, const char *type,
                                   const char *path, const char *anchor)
{
    table_source *ts = ts_of(src);
    bool unproven;
    const pm_layout_answer *a =
        pm_table_answer(ts->t, kind, type, path, anchor, ts->patch, &unproven);
    if (!a && ts->misses++ < MAX_MISSES)
        pm_warn(ts->s, "the layout table %s has no answer for %c %s%s%s%s%s (%s): what needs it "
                "is left out",
                ts->t->name, kind, type, path && path[0] ? "." : "", path ? path : "",
                anchor && anchor[0] ? " near " : "", anchor ? anchor : "",
                unproven ? "the builds it was made from disagree, and none is this patch "
                           "release"
                         : "it was not made for this question");
    return a && a->present ? a : NULL;
}

static bool has(pm_layout_source *src, const char *type)
{
    return ask(src, PM_ANS_HAS, type, "", "") != NULL;
}

static bool member(pm_layout_source *src, const char *type, const char *path, const char *anchor,
                   pm_field *out)
{
    const pm_layout_answer *a = ask(src, PM_ANS_MEMBER, type, path, anchor);
    memset(out, 0, sizeof *out);
    if (!a)
        return false;
    out->off = (int32_t)a->off;
    out->size = a->size;
    out->bit_off = a->bit_off;
    out->bit_size = a->bit_size;
    out->ok = true;
    return true;
}

static bool field(pm_layout_source *src, const char *type, const char *path, pm_field *out)
{
    return member(src, type, path, "", out);
}

static bool field_near(pm_layout_source *src, const char *type, const char *path,
                       const char *anchor, pm_field *out)
{
    return member(src, type, path, anchor, out);
}

static int64_t size(pm_layout_source *src, const char *type, const char *anchor)
{
    const pm_layout_answer *a = ask(src, PM_ANS_SIZE, type, "", anchor);
    return a ? a->off : -1;
}

static bool array(pm_layout_source *src, const char *type, const char *path, uint64_t *elem_size,
                  uint64_t *count)
{
    const pm_layout_answer *a = ask(src, PM_ANS_ARRAY, type, path, "");
    if (a) {
        *elem_size = a->elem_size;
        *count = a->count;
    }
    return a != NULL;
}

static const char *member_type(pm_layout_source *src, const char *type, const char *path)
{
    const pm_layout_answer *a = ask(src, PM_ANS_TYPE, type, path, "");
    if (!a)
        return NULL;
    snprintf(ts_of(src)->type_name, sizeof ts_of(src)->type_name, "%s", a->text);
    return ts_of(src)->type_name;
}

/* The recorded list, "name:off;...", handed out one member at a time. */
static int members(pm_layout_source *src, const char *type,
                   bool (*fn)(void *ctx, const char *name, int64_t off), void *ctx)
{
    const pm_layout_answer *a = ask(src, PM_ANS_MEMBERS, type, "", "");
    if (!a)
        return -1;
    int n = 0;
    for (const char *p = a->text; *p;) {
        const char *colon = strchr(p, ':'), *end = colon ? strchr(colon, ';') : NULL;
        char name[128];
        int64_t off;
        if (!colon || !end || (size_t)(colon - p) >= sizeof name ||
            sscanf(colon + 1, "%" SCNd64, &off) != 1)
            break;
        memcpy(name, p, (size_t)(colon - p));
        name[colon - p] = '\0';
        n++;
        if (!fn(ctx, name, off))
            break;
        p = end + 1;
    }
    return n;
}

static void close_source(pm_layout_source *src)
{
    free(src);
}

pymac_status pm_layout_source_table_open(pymac_session *s, const pm_layout_table *t,
                                         unsigned patch, pymac_error *err)
{
    table_source *ts = calloc(1, sizeof *ts);
    if (!ts)
        return pm_nomem(err);
    ts->ops = (pm_layout_source){.name = "table", .has = has, .field = field,
                                 .field_near = field_near, .size = size, .array = array,
                                 .member_type = member_type, .members = members,
                                 .close = close_source};
    ts->s = s;
    ts->t = t;
    ts->patch = patch;
    s->layout_source = &ts->ops;
    return PYMAC_OK;
}

/* 3.13+: _PyRuntime starts with _Py_DebugOffsets: the cookie "xdebugpy",
 * the version, then free_threaded. Older versions have no such build. */
static bool free_threaded(pymac_session *s)
{
    char cookie[8];
    uint64_t ft;
    return s->rt->minor >= 13 && pm_read(s, s->rt->runtime_addr, cookie, sizeof cookie) &&
           memcmp(cookie, "xdebugpy", 8) == 0 && pm_read_u64(s, s->rt->runtime_addr + 16, &ft) &&
           ft == 1;
}

pymac_status pm_layout_source_choose_table(pymac_session *s, pymac_error *err)
{
    pm_runtime *rt = s->rt;
    bool ft = free_threaded(s);
    unsigned patch = (rt->hexversion >> 8) & 0xff;
    const pm_layout_table *t = pm_table_for(rt->minor, ft);
    if (!t)
        return pm_fail(err, PYMAC_E_NO_DEBUGINFO, s->python.no_dwarf_hint,
                       "%s, and pymac has no layout table for CPython %s (%s build)",
                       s->python.no_dwarf_why, rt->version, ft ? "free-threaded" : "default");
    pymac_status st = pm_layout_source_table_open(s, t, patch, err);
    if (st)
        return st;
    rt->table = t;
    rt->layout_source = "table";
    if (s->python.no_dwarf_said)
        pm_warn(s, "%s; the layouts come from pymac's table %s instead", s->python.no_dwarf_why,
                t->name);
    return PYMAC_OK;
}

/* A layout source that records: every question asked of the source it wraps
 * (DWARF) and the answer, one line each, appended to a file. Set
 * PYMAC_LAYOUT_RECORD=FILE to get one; tools/gen-layout-tables runs the views
 * on cores of builds with DWARF this way and makes the layout tables of the
 * answers. The line: kind, type, path, anchor, present, off, size, bit_off,
 * bit_size, elem_size, count, text, tab-separated (layout_table.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_table.h"

typedef struct record_source {
    pm_layout_source ops; /* first: the session holds a pm_layout_source * */
    pm_layout_source *inner;
    FILE *out;
    char list[16384];     /* members' answer being built */
    size_t used;
    bool list_full;
} record_source;

static record_source *rec(pm_layout_source *src)
{
    return (record_source *)src;
}

static void line(record_source *r, char kind, const char *type, const char *path,
                 const char *anchor, bool present, int64_t off, uint32_t size, unsigned bit_off,
                 unsigned bit_size, uint64_t elem_size, uint64_t count, const char *text)
{
    fprintf(r->out, "%c\t%s\t%s\t%s\t%d\t%" PRId64 "\t%u\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%s\n",
            kind, type, path ? path : "", anchor ? anchor : "", present, off, size, bit_off,
            bit_size, elem_size, count, text ? text : "");
}

static bool has(pm_layout_source *src, const char *type)
{
    bool yes = rec(src)->inner->has(rec(src)->inner, type);
    line(rec(src), PM_ANS_HAS, type, "", "", yes, 0, 0, 0, 0, 0, 0, "");
    return yes;
}

static void member_line(record_source *r, const char *type, const char *path, const char *anchor,
                        const pm_field *f)
{
    line(r, PM_ANS_MEMBER, type, path, anchor, f->ok, f->ok ? f->off : 0, f->ok ? f->size : 0,
         f->ok ? f->bit_off : 0, f->ok ? f->bit_size : 0, 0, 0, "");
}

static bool field(pm_layout_source *src, const char *type, const char *path, pm_field *out)
{
    pm_layout_source *in = rec(src)->inner;
    out->ok = in->field(in, type, path, out);
    member_line(rec(src), type, path, "", out);
    return out->ok;
}

static bool field_near(pm_layout_source *src, const char *type, const char *path,
                       const char *anchor, pm_field *out)
{
    pm_layout_source *in = rec(src)->inner;
    out->ok = in->field_near ? in->field_near(in, type, path, anchor, out)
                             : in->field(in, type, path, out);
    member_line(rec(src), type, path, anchor, out);
    return out->ok;
}

static int64_t size(pm_layout_source *src, const char *type, const char *anchor)
{
    pm_layout_source *in = rec(src)->inner;
    int64_t n = in->size(in, type, anchor);
    line(rec(src), PM_ANS_SIZE, type, "", anchor, n >= 0, n, 0, 0, 0, 0, 0, "");
    return n;
}

static bool array(pm_layout_source *src, const char *type, const char *path, uint64_t *elem_size,
                  uint64_t *count)
{
    pm_layout_source *in = rec(src)->inner;
    uint64_t e = 0, c = 0;
    bool yes = in->array(in, type, path, &e, &c);
    line(rec(src), PM_ANS_ARRAY, type, path, "", yes, 0, 0, 0, 0, yes ? e : 0, yes ? c : 0, "");
    if (yes) {
        *elem_size = e;
        *count = c;
    }
    return yes;
}

static const char *member_type(pm_layout_source *src, const char *type, const char *path)
{
    pm_layout_source *in = rec(src)->inner;
    const char *name = in->member_type ? in->member_type(in, type, path) : NULL;
    line(rec(src), PM_ANS_TYPE, type, path, "", name != NULL, 0, 0, 0, 0, 0, 0, name);
    return name;
}

static bool collect(void *ctx, const char *name, int64_t off)
{
    record_source *r = ctx;
    int n = snprintf(r->list + r->used, sizeof r->list - r->used, "%s:%" PRId64 ";", name, off);
    if (n < 0 || (size_t)n >= sizeof r->list - r->used)
        r->list_full = true;
    else
        r->used += (size_t)n;
    return true;
}

typedef struct pass_on {
    bool (*fn)(void *ctx, const char *name, int64_t off);
    void *ctx;
    bool stopped;
} pass_on;

static bool call(void *ctx, const char *name, int64_t off)
{
    pass_on *p = ctx;
    if (!p->stopped && !p->fn(p->ctx, name, off))
        p->stopped = true;
    return true;
}

/* The whole list is recorded, whatever fn stops at; fn sees what it would
 * have seen. */
static int members(pm_layout_source *src, const char *type,
                   bool (*fn)(void *ctx, const char *name, int64_t off), void *ctx)
{
    record_source *r = rec(src);
    pm_layout_source *in = r->inner;
    r->used = 0;
    r->list[0] = '\0';
    r->list_full = false;
    int n = in->members ? in->members(in, type, collect, r) : -1;
    if (!r->list_full)
        line(r, PM_ANS_MEMBERS, type, "", "", n >= 0, n, 0, 0, 0, 0, 0, r->list);
    pass_on p = {fn, ctx, false};
    return in->members ? in->members(in, type, call, &p) : -1;
}

static void close_source(pm_layout_source *src)
{
    record_source *r = rec(src);
    r->inner->close(r->inner);
    fclose(r->out);
    free(r);
}

void pm_layout_source_record(pymac_session *s)
{
    const char *path = getenv("PYMAC_LAYOUT_RECORD");
    if (!path || !path[0] || !s->layout_source)
        return;
    record_source *r = calloc(1, sizeof *r);
    FILE *out = r ? fopen(path, "a") : NULL;
    if (!out) {
        free(r);
        return;
    }
    r->inner = s->layout_source;
    r->out = out;
    r->ops = (pm_layout_source){.name = r->inner->name, .has = has, .field = field,
                                .field_near = field_near, .size = size, .array = array,
                                .member_type = member_type, .members = members,
                                .close = close_source};
    s->layout_source = &r->ops;
}

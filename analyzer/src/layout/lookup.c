/* Members by name from the layout source (pm_lookup_*), and reading them. */
#include <stdio.h>

#include "layout.h"

uint64_t pm_field_get(const void *base, const pm_field *f)
{
    const unsigned char *p = (const unsigned char *)base + f->off;
    if (!f->bit_size) {
        uint64_t v = 0;
        for (unsigned i = 0; i < f->size && i < 8; i++)
            v |= (uint64_t)p[i] << (8 * i);
        return v;
    }
    uint64_t v = 0;
    unsigned nbytes = (f->bit_off + f->bit_size + 7) / 8;
    for (unsigned i = 0; i < nbytes && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return (v >> f->bit_off) & ((1ull << f->bit_size) - 1);
}

bool pm_read_field(pymac_session *s, uint64_t base, const pm_field *f, uint64_t *out)
{
    if (!f->ok)
        return false;
    if (!f->bit_size)
        return pm_read_uint(s, base + (uint64_t)f->off, f->size > 8 ? 8 : f->size, out);
    unsigned char b[8];
    if (!pm_read(s, base + (uint64_t)f->off, b, sizeof b))
        return false;
    pm_field rel = *f;
    rel.off = 0;
    *out = pm_field_get(b, &rel);
    return true;
}

/* PYMAC_LAYOUT_LOG=FILE: each lookup appended to FILE as "kind type path"
 * (layout_keys.def's vocabulary), for the test that proves the key list of
 * the layout tables complete. Opened per line: the session keeps no file. */
static void log_lookup(pymac_session *s, char kind, const char *type, const char *path)
{
    if (!s->rt || !s->rt->layout_log_path)
        return;
    FILE *f = fopen(s->rt->layout_log_path, "a");
    if (f) {
        fprintf(f, "%c %s %s\n", kind, type, path && path[0] ? path : "-");
        fclose(f);
    }
}

bool pm_lookup_type(pymac_session *s, const char *type)
{
    log_lookup(s, 't', type, NULL); /* "t": the type exists (any fact about it) */
    pm_layout_source *src = s->layout_source;
    return src && src->has(src, type);
}

void pm_lookup_field(pymac_session *s, const char *type, const char *path, pm_field *out)
{
    pm_layout_source *src = s->layout_source;
    log_lookup(s, 'm', type, path);
    out->ok = src && src->field(src, type, path, out);
}

int64_t pm_lookup_size_near(pymac_session *s, const char *type, uint64_t near)
{
    pm_layout_source *src = s->layout_source;
    log_lookup(s, 's', type, NULL);
    return src ? src->size(src, type, near) : -1;
}

uint32_t pm_lookup_size(pymac_session *s, const char *type)
{
    int64_t n = pm_lookup_size_near(s, type, 0);
    return n > 0 ? (uint32_t)n : 0;
}

bool pm_lookup_array(pymac_session *s, const char *type, const char *path, uint64_t *elem_size,
                     uint64_t *count)
{
    pm_layout_source *src = s->layout_source;
    log_lookup(s, 'a', type, path);
    return src && src->array(src, type, path, elem_size, count);
}

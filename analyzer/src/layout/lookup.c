/* Members by name from the layout source (pm_lookup_*), and reading them. */
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

bool pm_lookup_type(pymac_session *s, const char *type)
{
    pm_layout_source *src = s->layout_source;
    return src && src->has(src, type);
}

void pm_lookup_field(pymac_session *s, const char *type, const char *path, pm_field *out)
{
    pm_layout_source *src = s->layout_source;
    out->ok = src && src->field(src, type, path, out);
}

int64_t pm_lookup_size_near(pymac_session *s, const char *type, const char *anchor)
{
    pm_layout_source *src = s->layout_source;
    return src ? src->size(src, type, anchor) : -1;
}

uint32_t pm_lookup_size(pymac_session *s, const char *type)
{
    int64_t n = pm_lookup_size_near(s, type, NULL);
    return n > 0 ? (uint32_t)n : 0;
}

bool pm_lookup_array(pymac_session *s, const char *type, const char *path, uint64_t *elem_size,
                     uint64_t *count)
{
    pm_layout_source *src = s->layout_source;
    return src && src->array(src, type, path, elem_size, count);
}

const char *pm_lookup_member_type(pymac_session *s, const char *type, const char *path)
{
    pm_layout_source *src = s->layout_source;
    return src && src->member_type ? src->member_type(src, type, path) : NULL;
}

int pm_lookup_members(pymac_session *s, const char *type,
                      bool (*fn)(void *ctx, const char *name, int64_t off), void *ctx)
{
    pm_layout_source *src = s->layout_source;
    return src && src->members ? src->members(src, type, fn, ctx) : -1;
}

void pm_lookup_field_near(pymac_session *s, const char *type, const char *path,
                          const char *anchor, pm_field *out)
{
    pm_layout_source *src = s->layout_source;
    if (src && src->field_near && anchor)
        out->ok = src->field_near(src, type, path, anchor, out);
    else
        pm_lookup_field(s, type, path, out);
}

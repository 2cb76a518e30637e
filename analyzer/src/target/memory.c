/* Reads of the target's memory, whatever its kind: what every walker calls.
 * Each goes to the target's ops table (target.h). */
#include <string.h>

#include "pm.h"

bool pm_mapped(pymac_session *s, uint64_t addr)
{
    return s->target.ops->mapped(&s->target, addr);
}

bool pm_read(pymac_session *s, uint64_t addr, void *buf, size_t len)
{
    return s->target.ops->read(&s->target, addr, buf, len);
}

const void *pm_view(pymac_session *s, uint64_t addr, size_t len, void *scratch)
{
    const void *p = pm_target_view(&s->target, addr, len);
    if (p)
        return p;
    return pm_read(s, addr, scratch, len) ? scratch : NULL;
}

bool pm_read_sparse(pymac_session *s, uint64_t addr, void *buf, size_t len)
{
    pm_target *t = &s->target;
    return t->ops->read_sparse ? t->ops->read_sparse(t, addr, buf, len)
                               : t->ops->read(t, addr, buf, len);
}

bool pm_read_u64(pymac_session *s, uint64_t addr, uint64_t *out)
{
    return pm_read_uint(s, addr, 8, out);
}

bool pm_read_uint(pymac_session *s, uint64_t addr, unsigned size, uint64_t *out)
{
    unsigned char b[8];
    if (size == 0 || size > 8 || !pm_read(s, addr, b, size))
        return false;
    *out = pm_get_uint(b, 0, size);
    return true;
}

bool pm_span_readable(pymac_session *s, uint64_t addr, uint64_t count, uint64_t size)
{
    if (!count || !size)
        return true;
    if (count > s->target.space_bytes / size)
        return false;
    uint64_t bytes = count * size;
    unsigned char b;
    return addr + bytes - 1 >= addr && pm_read(s, addr, &b, 1) &&
           pm_read(s, addr + bytes - 1, &b, 1);
}

bool pm_read_cstr(pymac_session *s, uint64_t addr, char *buf, size_t cap)
{
    for (size_t i = 0; i < cap; i++) {
        if (!pm_read(s, addr + i, &buf[i], 1))
            return false;
        if (buf[i] == '\0')
            return true;
    }
    buf[cap - 1] = '\0';
    return false; /* no terminator within cap */
}

/* ---- what every kind shares ---- */

void pm_target_close(pm_target *t)
{
    if (t->ops)
        t->ops->close(t);
    memset(t, 0, sizeof *t);
}

bool pm_target_in_file(const pm_target *t, uint64_t addr)
{
    size_t n;
    const pm_mapped_file *f = pm_target_files(t, &n);
    for (size_t i = 0; i < n; i++)
        if (addr >= f[i].start && addr < f[i].end)
            return true;
    return false;
}

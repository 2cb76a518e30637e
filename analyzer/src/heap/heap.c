/* The session's allocator (heap.h): the backend a build's objects live in,
 * opened once and kept until the session drops its walks. */
#include <stdlib.h>

#include "heap.h"
#include "layout.h"

pymac_status pm_heap_get(pymac_session *s, const pm_heap **out, pymac_error *err)
{
    if (s->allocator) {
        *out = s->allocator;
        return s->allocator->partial ? PYMAC_PARTIAL : PYMAC_OK;
    }
    *out = NULL;
    pm_heap *h = calloc(1, sizeof *h);
    if (!h)
        return pm_nomem(err);
    h->s = s;
    h->ops = s->layout->free_threaded ? &pm_heap_mimalloc_ops : &pm_heap_pymalloc_ops;
    pymac_status st = h->ops->open(s, h, err);
    if (st > PYMAC_PARTIAL) {
        free(h->regions);
        free(h->region_native);
        free(h->priv);
        free(h);
        return st;
    }
    h->partial = st == PYMAC_PARTIAL;
    s->allocator = h;
    *out = h;
    return st;
}

void pm_heap_free(pymac_session *s)
{
    pm_heap *h = s->allocator;
    if (!h)
        return;
    free(h->regions);
    free(h->region_native);
    free(h->priv);
    free(h);
    s->allocator = NULL;
}

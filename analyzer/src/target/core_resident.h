/* A bound on the resident part of a mapped core (core_resident.c). */
#ifndef PYMAC_CORE_RESIDENT_H
#define PYMAC_CORE_RESIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pm_resident pm_resident;

/* NULL when the image is small enough to stay resident (or on no memory):
 * then there is no bound to keep. */
pm_resident *pm_resident_new(const void *image, size_t size);
void pm_resident_free(pm_resident *r);
/* Notes that len bytes at p (inside the image) are about to be read,
 * dropping older windows past the budget (which doubles while the walk
 * thrashes). False when the budget would cover the whole core: free r and
 * keep no bound from then on. */
bool pm_resident_touch(pm_resident *r, const void *p, size_t len);

/* Drops every window read so far (they refault from the page cache when
 * read again). */
void pm_resident_drop_all(pm_resident *r);

#endif

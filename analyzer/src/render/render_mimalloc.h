/* The arenas and pools views on a free-threaded build (render_mimalloc.c). */
#ifndef PYMAC_RENDER_MIMALLOC_H
#define PYMAC_RENDER_MIMALLOC_H

#include "pm.h"

/* mimalloc segments (the arenas view) and pages (the pools view; the
 * filter's arena selects a segment). */
pymac_status pm_mi_render_arenas(pymac_session *s, pymac_format fmt, FILE *out, pymac_error *err);
pymac_status pm_mi_render_pools(pymac_session *s, const pymac_pool_filter *filter,
                                pymac_format fmt, FILE *out, pymac_error *err);
/* whereis: segment, page, heap kind, block and whether it is in use. */
pymac_status pm_mi_render_whereis(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                                  pymac_error *err);

#endif

/* The object view's part of the tracemalloc view. */
#ifndef PYMAC_RENDER_TRACEMALLOC_H
#define PYMAC_RENDER_TRACEMALLOC_H

#include "object.h"
#include "tracemalloc_sites.h"

/* What tracemalloc.get_object_traceback(o) returned in the process: JSON
 * `, "traceback": [...]` (null for None), or text lines when tracemalloc
 * was tracing. PYMAC_PARTIAL (and a warning) when it cannot be read. */
pymac_status pm_render_object_traceback(pymac_session *s, const pm_object *o, pymac_format fmt,
                                        FILE *out);

/* `, "allocated_at": {"filename", "lineno", "objects", "bytes", "traced_objects"}` */
void pm_tm_site_json(FILE *out, const pm_tm_site *site);
/* "<indent>allocated at FILE:LINE: N of M traced objects, B bytes" and a newline */
void pm_tm_site_text(FILE *out, const pm_tm_site *site, const char *indent);

#endif

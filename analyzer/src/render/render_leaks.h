/* The leak report's groups as JSON, for the leaks view and the report. */
#ifndef PYMAC_RENDER_LEAKS_H
#define PYMAC_RENDER_LEAKS_H

#include <stdio.h>

#include "pm.h"

/* "key": [{"type", "objects", "bytes", ["unexplained_refs",] "retained_bytes",
 * "examples"[, "allocated_at"]}, ...], the first `top` groups (0: all). */
void pm_leak_groups_json(FILE *out, const char *key, const pymac_leak_group *g, size_t n,
                         size_t top, bool refs);

#endif

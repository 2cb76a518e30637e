/* stats on a free-threaded build (render_stats_ft.c). */
#ifndef PYMAC_RENDER_STATS_FT_H
#define PYMAC_RENDER_STATS_FT_H

#include "mallocstats.h"
#include "pm.h"

/* What sys._debugmallocstats() printed in the main thread, byte for byte. */
pymac_status pm_ft_render_stats(pymac_session *s, FILE *out, pymac_error *err);

#endif

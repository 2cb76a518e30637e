/* The progress line: "pymac-analyze: decompressing zstd core: 45% (3 s)",
 * redrawn at most ten times a second and erased when the step ends, so what
 * follows on the terminal is as without it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, bool json)
{
    memset(p, 0, sizeof *p);
    p->on = !json && isatty(STDERR_FILENO);
    p->delay = 0.5;
    const char *d = getenv("PYMAC_PROGRESS_DELAY");
    if (d && *d)
        p->delay = atof(d);
}

void cli_progress_cb(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    cli_progress *p = ctx;
    if (!p || !p->on)
        return;
    double t = now();
    if (strncmp(p->what, what, sizeof p->what - 1) != 0) {
        /* a new step */
        snprintf(p->what, sizeof p->what, "%s", what);
        p->start = t;
        p->last = 0;
    }
    if (done >= total) {
        if (p->shown)
            fputs("\r\033[K", stderr);
        p->shown = false;
        p->what[0] = '\0';
        return;
    }
    if (t - p->start < p->delay || t - p->last < 0.1)
        return;
    p->last = t;
    p->shown = true;
    fprintf(stderr, "\rpymac-analyze: %s: %d%% (%.0f s)\033[K", what,
            total ? (int)(100.0 * (double)done / (double)total) : 0, t - p->start);
    fflush(stderr);
}

/* pymac-analyze's progress line: on a terminal on stderr only, never in a
 * pipe or with --json, and only for a step that takes a while. */
#ifndef PYMAC_CLI_PROGRESS_H
#define PYMAC_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_progress {
    bool on;
    double delay;      /* seconds a step runs before its line shows */
    double start, last;
    bool shown;        /* a line is on the screen */
    char what[64];
} cli_progress;

/* On when stderr is a terminal and json is false. PYMAC_PROGRESS_DELAY
 * (seconds, default 0.5) sets the delay. */
void cli_progress_init(cli_progress *p, bool json);
/* A pymac_progress_fn; ctx is the cli_progress. */
void cli_progress_cb(void *ctx, const char *what, uint64_t done, uint64_t total);

#endif

/* Object-stack chunks parked on free lists: memory that holds stale object
 * pointers (stack_chunks.c). */
#ifndef PYMAC_STACK_CHUNKS_H
#define PYMAC_STACK_CHUNKS_H

#include "frames.h"
#include "pm.h"

/* Calls fn(ctx, lo, hi) for each _PyObjectStackChunk on the main
 * interpreter's free lists and, free-threaded, on each thread's. Chains are
 * bounded and every chunk is checked mapped; nothing on versions without
 * them (before 3.13). */
void pm_stack_chunks_parked(pymac_session *s, pm_range_fn fn, void *ctx);

#endif

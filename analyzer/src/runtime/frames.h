/* Every thread's Python frames, and which of their memory is live
 * (frames.c): the walk graph.c's roots and leaks.c's scan share. */
#ifndef PYMAC_FRAMES_H
#define PYMAC_FRAMES_H

#include "pm.h"

/* The pointer member of the main interpreter at the first of paths (NULL
 * ended) that PyInterpreterState has, as versions rename them; false if none
 * or unreadable. */
bool pm_interp_member(pymac_session *s, const char *const *paths, uint64_t *out);

/* Called for each frame, innermost first: a frame object's address (<= 3.10,
 * object true) or an interpreter frame's (3.11+). Return false to stop. */
typedef bool (*pm_frame_fn)(void *ctx, int thread, int depth, uint64_t tstate, uint64_t frame,
                            bool object);
void pm_frames_walk(pymac_session *s, pm_frame_fn fn, void *ctx);

/* The live words of a 3.11+ interpreter frame's localsplus: its locals and
 * value stack up to the saved stack pointer (stacktop, or stackpointer),
 * never more than its code's co_nlocalsplus + co_stacksize: the bound alone
 * for the executing frame, whose stack pointer is not saved. *localsplus is
 * the address of the first word. False if the frame cannot be read. */
bool pm_frame_live_words(pymac_session *s, uint64_t frame, uint64_t *localsplus,
                         uint64_t *nwords);

/* Calls fn for each range [lo, hi) of the threads' data stacks (3.11+) that
 * holds no live frame word: above each thread's top, between frames (the
 * slots above each frame's stack pointer) and chunk headers. */
typedef void (*pm_range_fn)(void *ctx, uint64_t lo, uint64_t hi);
void pm_datastack_dead(pymac_session *s, pm_range_fn fn, void *ctx);

/* Calls fn for the part of each thread's C stack below its saved stack
 * pointer (less the 128-byte red zone): from the start of the mapping that
 * holds it. Cores only (a live target's registers are not read). */
void pm_cstack_dead(pymac_session *s, pm_range_fn fn, void *ctx);

#endif

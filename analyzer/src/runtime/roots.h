/* The roots of the object graph (roots.c). */
#ifndef PYMAC_ROOTS_H
#define PYMAC_ROOTS_H

#include "pm.h"

/* Calls fn for each root reference (candidates: check with pm_graph_index):
 * the interpreter's (sys.modules, sys, builtins, interned strings) and/or
 * every thread's frames. */
typedef void (*pm_root_fn)(void *ctx, uint64_t target, const char *label);
enum { PM_ROOTS_INTERP = 1, PM_ROOTS_FRAMES = 2, PM_ROOTS_ALL = 3 };
void pm_roots_walk(pymac_session *s, int which, pm_root_fn fn, void *ctx);

#endif

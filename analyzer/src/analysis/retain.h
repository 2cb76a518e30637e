/* Retention (retain.c): the dominator tree of the leak analysis's reference
 * graph, from its roots, and what each object retains: itself and every
 * object it dominates. Built once per session (s->retain). */
#ifndef PYMAC_RETAIN_H
#define PYMAC_RETAIN_H

#include "dominators.h"
#include <stdio.h>

#include "leaks.h"

enum { PM_RETAIN_MAX_LABELS = 65535 };

typedef struct pm_retain_root {
    uint32_t node;
    uint16_t label; /* index into labels */
    bool frame;     /* a thread's frame (path seeds these after the interpreter's) */
    bool named;     /* one of path's roots (not immortal, not an unexplained refcount) */
} pm_retain_root;

typedef struct pm_retain {
    pm_leaks lk;
    pm_dominators dom;
    pm_retain_root *roots;
    size_t nroots, caproots;
    char **labels;
    size_t nlabels;
    pm_retain_root *root_at; /* each root node once, with its first root's label: by node */
    size_t nroot_at;
    uint8_t *hidden;   /* per node: a root, a module or a module's dict (dominators leaves them out) */
    uint32_t *path_parent; /* per node: the path view's BFS parent (built on first use) */
    /* the unreached nodes' tree, entered from the unreached GC objects: over
     * the subgraph of garbage_nodes (ascending), numbered by position */
    pm_dominators garbage;
    uint32_t *garbage_nodes;
    bool nomem;
} pm_retain;

/* NO_PARENT: not reached by path's roots; PATH_ROOT: one of them */
#define PM_PATH_NONE UINT32_MAX
#define PM_PATH_ROOT (UINT32_MAX - 1)

pymac_status pm_retain_shared(pymac_session *s, pm_retain **out, pymac_error *err);
void pm_retain_free(pm_retain *r);
/* Reads node i's object; false if it cannot be read or has no type. */
bool pm_retain_object(pymac_session *s, const pm_retain *r, uint32_t i, pm_object *o);
/* Node i's size as types measures it (0 if it cannot be read). */
uint64_t pm_retain_size(pymac_session *s, const pm_retain *r, uint32_t i);
/* Node i's type, NULL if it cannot be read. (Read, not kept: a type per
 * node would cost 4 bytes a node for the few that are printed.) */
const pm_type *pm_retain_type(pymac_session *s, const pm_retain *r, uint32_t i);
/* The name of root node i ("sys.modules", "thread 0 frame 2", "immortal",
 * ...), or NULL if it is not a root. */
const char *pm_retain_root_name(const pm_retain *r, uint32_t i);
/* The path view's BFS tree (same roots, same order, same edges): false when
 * out of memory. */
bool pm_retain_paths(pymac_session *s, pm_retain *r);

enum { PM_TOP_RETAINERS = 5 };
/* The n objects that retain the most (dominators' default choice): JSON,
 * "top_retainers": [entries as dominators gives them]; text, one line each
 * (render_retain.c). */
void pm_retain_top(pymac_session *s, pm_retain *r, size_t n, pymac_format fmt, FILE *out);

/* One of the heaviest objects, for pictures of them (the HTML treemap). */
typedef struct pm_heavy {
    uint64_t addr, retained_bytes, retained_objects;
    char type[96];
    uint32_t up; /* the position of its nearest listed dominator, or the count */
} pm_heavy;
/* The n objects that retain the most, as pm_retain_top chooses them, into
 * out[0..n); returns how many (render_retain.c). */
size_t pm_retain_heaviest(pymac_session *s, pm_retain *r, size_t n, pm_heavy *out);

#endif

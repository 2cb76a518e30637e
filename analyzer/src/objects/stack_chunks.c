/* The collector's object-stack chunks kept for reuse (Python/object_stack.c,
 * 3.13+): _PyObjectStackChunk buffers of PyMem_RawMalloc (glibc) memory that
 * a collection or gc.get_objects() filled with object pointers and then
 * parked on a free list, still holding them. Every object the last visit
 * pushed seems referenced from there; no reference is.
 *
 * Where the lists are: 3.13 keeps struct _Py_object_stack_freelist {items,
 * numfree} as member object_stacks of struct _Py_object_freelists, 3.14+ a
 * struct _Py_freelist {freelist, size} as member object_stack_chunks of
 * struct _Py_freelists; both chain through the chunk's first word (prev).
 * The default build has one set in interp->object_state.freelists, the
 * free-threaded one a set per thread (_PyThreadStateImpl.freelists). */
#include "frames.h"
#include "layout.h"
#include "stack_chunks.h"

/* a free list holds at most a handful (Py_object_stack_chunks_MAXFREELIST 4) */
#define MAX_CHUNKS 1024

typedef struct chunk_lists {
    pymac_session *s;
    pm_field head, count; /* relative to a set of free lists */
    uint64_t chunk_size;
    pm_field set_in_thread;
    pm_range_fn fn;
    void *ctx;
} chunk_lists;

static void walk_list(chunk_lists *c, uint64_t set)
{
    uint64_t node, count;
    if (!pm_read_field(c->s, set, &c->head, &node) || !pm_read_field(c->s, set, &c->count, &count))
        return;
    for (uint64_t k = 0; node && k < count && k < MAX_CHUNKS; k++) {
        if (!pm_mapped(c->s, node) || !pm_mapped(c->s, node + c->chunk_size - 1))
            return;
        c->fn(c->ctx, node, node + c->chunk_size);
        if (!pm_read_u64(c->s, node, &node)) /* prev, the chunk's first member */
            return;
    }
}

static bool each_thread(void *ctx, int thread, int depth, uint64_t tstate, uint64_t frame,
                        bool objects)
{
    (void)thread, (void)frame, (void)objects;
    chunk_lists *c = ctx;
    if (depth == -1)
        walk_list(c, tstate + (uint64_t)c->set_in_thread.off);
    return true;
}

void pm_stack_chunks_parked(pymac_session *s, pm_range_fn fn, void *ctx)
{
    chunk_lists c = {.s = s, .fn = fn, .ctx = ctx};
    c.chunk_size = pm_lookup_size(s, "_PyObjectStackChunk");
    if (!c.chunk_size)
        return; /* before 3.13, or no layout for it */
    const char *set_type = "_Py_object_freelists";
    pm_lookup_field(s, set_type, "object_stacks.items", &c.head);
    pm_lookup_field(s, set_type, "object_stacks.numfree", &c.count);
    if (!c.head.ok) {
        set_type = "_Py_freelists";
        pm_lookup_field(s, set_type, "object_stack_chunks.freelist", &c.head);
        pm_lookup_field(s, set_type, "object_stack_chunks.size", &c.count);
    }
    if (!c.head.ok || !c.count.ok)
        return;
    pm_field in_interp;
    pm_lookup_field(s, "PyInterpreterState", "object_state.freelists", &in_interp);
    if (in_interp.ok)
        walk_list(&c, s->rt->main_interp + (uint64_t)in_interp.off);
    pm_lookup_field(s, "_PyThreadStateImpl", "freelists", &c.set_in_thread);
    if (s->layout->free_threaded && c.set_in_thread.ok)
        pm_frames_walk(s, each_thread, &c);
}

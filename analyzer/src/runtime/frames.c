/* Threads' frames and the live part of their data stacks. Slots that a
 * returned frame left behind keep their pointers (CPython does not clear
 * them), so memory past a thread's data-stack top, or past a frame's stack
 * pointer, must count neither as references nor as roots. */
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "layout.h"
#include "ranges.h"

enum { MAX_FRAMES = 100000, MAX_THREADS = 100000, MAX_CHUNKS = 100000 };
/* a code object's locals and stack beyond this are not believed */
#define MAX_FRAME_WORDS (1u << 20)

bool pm_interp_member(pymac_session *s, const char *const *paths, uint64_t *out)
{
    pm_field f;
    if (!pm_lookup_type(s, "PyInterpreterState"))
        return false;
    for (; *paths; paths++) {
        pm_lookup_field(s, "PyInterpreterState", *paths, &f);
        if (f.ok)
            return pm_read_u64(s, s->rt->main_interp + (uint64_t)f.off, out);
    }
    return false;
}

static bool tstate_field(pymac_session *s, const char *path, pm_field *f)
{
    pm_lookup_field(s, "PyThreadState", path, f);
    return f->ok;
}

void pm_frames_walk(pymac_session *s, pm_frame_fn fn, void *ctx)
{
    static const char *const heads[] = {"threads.head", "tstate_head", NULL};
    uint64_t ts;
    pm_field next, frame, cframe, current;
    if (!pm_interp_member(s, heads, &ts) || !tstate_field(s, "next", &next))
        return;
    bool objects = tstate_field(s, "frame", &frame) && s->rt->minor <= 10;
    bool via_cframe = tstate_field(s, "cframe", &cframe);
    bool direct = tstate_field(s, "current_frame", &current);
    pm_field previous = {0}, cur = {0};
    if (!objects) {
        pm_lookup_field(s, "_PyInterpreterFrame", "previous", &previous);
        if (!previous.ok)
            return;
        if (via_cframe)
            pm_lookup_field(s, "_PyCFrame", "current_frame", &cur);
        if (via_cframe && !cur.ok)
            return;
    }
    for (int t = 0; ts && t < MAX_THREADS; t++) {
        uint64_t f = 0;
        if (!fn(ctx, t, -1, ts, 0, objects))
            return;
        if (objects) {
            pm_read_u64(s, ts + (uint64_t)frame.off, &f);
            if (f && !fn(ctx, t, 0, ts, f, true))
                return;
        } else {
            uint64_t c = 0;
            if (via_cframe) {
                if (pm_read_u64(s, ts + (uint64_t)cframe.off, &c) && c)
                    pm_read_u64(s, c + (uint64_t)cur.off, &f);
            } else if (direct) {
                pm_read_u64(s, ts + (uint64_t)current.off, &f);
            }
            for (int depth = 0; f && depth < MAX_FRAMES; depth++) {
                if (!fn(ctx, t, depth, ts, f, false))
                    return;
                if (!pm_read_u64(s, f + (uint64_t)previous.off, &f))
                    break;
            }
        }
        if (!pm_read_u64(s, ts + (uint64_t)next.off, &ts))
            break;
    }
}

/* co_nlocalsplus + co_stacksize of the code object at code, or false if it
 * is not one (3.13's entry frames run None). */
static bool code_words(pymac_session *s, uint64_t code, uint64_t *words)
{
    pm_field nlocals, stacksize, ob_type;
    uint64_t type, a, b;
    pm_lookup_field(s, "PyCodeObject", "co_nlocalsplus", &nlocals);
    pm_lookup_field(s, "PyCodeObject", "co_stacksize", &stacksize);
    pm_lookup_field(s, "PyObject", "ob_type", &ob_type);
    uint64_t code_type = pm_symbol_lookup(s, "PyCode_Type", NULL).addr;
    if (!code || !nlocals.ok || !stacksize.ok || !ob_type.ok || !code_type ||
        !pm_read_u64(s, code + (uint64_t)ob_type.off, &type) || type != code_type ||
        !pm_read_uint(s, code + (uint64_t)nlocals.off, nlocals.size, &a) ||
        !pm_read_uint(s, code + (uint64_t)stacksize.off, stacksize.size, &b))
        return false;
    a = (uint64_t)(int64_t)(int32_t)a;
    b = (uint64_t)(int64_t)(int32_t)b;
    if (a > MAX_FRAME_WORDS || b > MAX_FRAME_WORDS)
        return false;
    *words = a + b;
    return true;
}

bool pm_frame_live_words(pymac_session *s, uint64_t f, uint64_t *localsplus, uint64_t *nwords)
{
    pm_field lp, stacktop, stackpointer, code;
    pm_lookup_field(s, "_PyInterpreterFrame", "localsplus", &lp);
    if (!lp.ok)
        return false;
    *localsplus = f + (uint64_t)lp.off;
    *nwords = 0;
    pm_lookup_field(s, "_PyInterpreterFrame", "f_executable", &code);
    if (!code.ok)
        pm_lookup_field(s, "_PyInterpreterFrame", "f_code", &code);
    uint64_t co, bound;
    if (!code.ok || !pm_read_u64(s, f + (uint64_t)code.off, &co))
        return false;
    if (!code_words(s, co, &bound))
        return true; /* not a code object's frame: no locals believed */
    uint64_t top = bound;
    pm_lookup_field(s, "_PyInterpreterFrame", "stacktop", &stacktop);
    pm_lookup_field(s, "_PyInterpreterFrame", "stackpointer", &stackpointer);
    uint64_t v;
    if (stacktop.ok && pm_read_uint(s, f + (uint64_t)stacktop.off, stacktop.size, &v)) {
        int64_t t = (int64_t)(int32_t)v; /* -1 while the frame executes */
        if (t >= 0 && (uint64_t)t < top)
            top = (uint64_t)t;
    } else if (stackpointer.ok && pm_read_u64(s, f + (uint64_t)stackpointer.off, &v) && v &&
               v >= *localsplus && (v - *localsplus) / 8 < top) {
        top = (v - *localsplus) / 8;
    }
    *nwords = top;
    return true;
}

/* ---- the dead part of the data stacks ---- */

typedef struct dead_walk {
    pymac_session *s;
    uint64_t *live; /* [lo, hi) pairs of the current thread's live frames */
    size_t nlive, caplive;
    int thread;
    uint64_t tstate;
    bool nomem;
    pm_range_fn fn;
    void *ctx;
} dead_walk;

/* Reports the parts of each of the thread's chunks that no live frame covers. */
static void flush_thread(dead_walk *w)
{
    pymac_session *s = w->s;
    pm_field chunk_f, prev_f, size_f;
    uint64_t chunk;
    if (w->nomem || !w->tstate)
        return;
    pm_lookup_field(s, "PyThreadState", "datastack_chunk", &chunk_f);
    pm_lookup_field(s, "_PyStackChunk", "previous", &prev_f);
    pm_lookup_field(s, "_PyStackChunk", "size", &size_f);
    if (!chunk_f.ok || !prev_f.ok || !size_f.ok ||
        !pm_read_u64(s, w->tstate + (uint64_t)chunk_f.off, &chunk))
        return;
    w->nlive = pm_ranges_normalize(w->live, w->nlive);
    for (int k = 0; chunk && k < MAX_CHUNKS; k++) {
        uint64_t size, prev;
        if (!pm_read_u64(s, chunk + (uint64_t)size_f.off, &size) ||
            !pm_read_u64(s, chunk + (uint64_t)prev_f.off, &prev) || size > (1ull << 32))
            break;
        uint64_t lo = chunk, hi = chunk + size;
        for (size_t i = 0; i < w->nlive && lo < hi; i++) {
            uint64_t a = w->live[2 * i], b = w->live[2 * i + 1];
            if (b <= lo || a >= hi)
                continue;
            if (a > lo)
                w->fn(w->ctx, lo, a);
            lo = b;
        }
        if (lo < hi)
            w->fn(w->ctx, lo, hi);
        chunk = prev;
    }
}

static bool dead_frame(void *ctx, int thread, int depth, uint64_t tstate, uint64_t f,
                       bool object)
{
    (void)depth;
    dead_walk *w = ctx;
    if (object)
        return false; /* <= 3.10: frames are objects, there is no data stack */
    if (!f) { /* the next thread */
        flush_thread(w);
        w->nlive = 0;
        w->thread = thread;
        w->tstate = tstate;
        return !w->nomem;
    }
    uint64_t lp, n;
    if (pm_frame_live_words(w->s, f, &lp, &n) &&
        !pm_ranges_push(&w->live, &w->nlive, &w->caplive, f, lp + 8 * n))
        w->nomem = true;
    return !w->nomem;
}

void pm_datastack_dead(pymac_session *s, pm_range_fn fn, void *ctx)
{
    pm_field chunk_f;
    pm_lookup_field(s, "PyThreadState", "datastack_chunk", &chunk_f);
    if (!chunk_f.ok)
        return;
    dead_walk w = {.s = s, .thread = -1, .fn = fn, .ctx = ctx};
    pm_frames_walk(s, dead_frame, &w);
    flush_thread(&w);
    free(w.live);
}

enum { RED_ZONE = 128 };

void pm_cstack_dead(pymac_session *s, pm_range_fn fn, void *ctx)
{
    size_t nsp, nsegs;
    const uint64_t *sps = pm_target_thread_sps(&s->target, &nsp);
    const pm_segment *segs = pm_target_ranges(&s->target, &nsegs);
    for (size_t t = 0; t < nsp; t++) {
        uint64_t sp = sps[t];
        for (size_t i = 0; i < nsegs; i++) {
            const pm_segment *sg = &segs[i];
            if (sp >= sg->vaddr && sp < sg->vaddr + sg->memsz) {
                if (sp - sg->vaddr > RED_ZONE)
                    fn(ctx, sg->vaddr, sp - RED_ZONE);
                break;
            }
        }
    }
}

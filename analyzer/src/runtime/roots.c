/* Where the interpreter's live objects hang from: sys.modules, sys.__dict__,
 * builtins, the interned strings, and every thread's frames. The graph's
 * reachability, paths, leaks and retention all start from these. */
#include <stdio.h>
#include <string.h>

#include "frames.h"
#include "layout.h"
#include "roots.h"
#include "statics_find.h"
#include "symbols.h"

typedef struct frame_ctx {
    pymac_session *s;
    pm_root_fn fn;
    void *ctx;
} frame_ctx;

/* 3.14+ frames hold _PyStackRef (a union of one `bits` word) where 3.13 had
 * PyObject *: the low two bits are tags (GIL build, pycore_stackref.h:
 * 1 = a borrowed reference, 3 = a tagged int, 2 = invalid), the rest the
 * object's address. An untagged word passes through unchanged. */
enum { STACKREF_TAG_BITS = 3, STACKREF_INT_TAG = 3, STACKREF_INVALID = 2 };

static uint64_t stackref_object(bool tagged, uint64_t bits)
{
    if (!tagged)
        return bits;
    uint64_t tag = bits & STACKREF_TAG_BITS;
    return tag == STACKREF_INT_TAG || tag == STACKREF_INVALID ? 0 : bits & ~(uint64_t)STACKREF_TAG_BITS;
}

/* Do the target's interpreter frames hold _PyStackRef (3.14+) in localsplus? */
static bool frame_slots_tagged(pymac_session *s)
{
    const char *slot_type = pm_lookup_member_type(s, "_PyInterpreterFrame", "localsplus");
    return slot_type && strcmp(slot_type, "_PyStackRef") == 0;
}

/* Each thread's Python frames: frame objects (<= 3.10) are objects and so
 * roots themselves; 3.11+ interpreter frames live on the thread's data stack:
 * their object fields, and the live part of localsplus (frames.c: the slots
 * above the stack pointer are stale). */
static bool frame_root(void *ctx, int thread, int depth, uint64_t tstate, uint64_t f,
                       bool object)
{
    static const char *const fields[] = {"f_code", "f_executable", "f_func", "f_funcobj",
                                         "f_globals", "f_builtins", "f_locals", "frame_obj"};
    (void)tstate;
    frame_ctx *c = ctx;
    pymac_session *s = c->s;
    char label[64];
    if (!f)
        return true;
    if (object) {
        snprintf(label, sizeof label, "thread %d frame", thread);
        c->fn(c->ctx, f, label);
        return true;
    }
    snprintf(label, sizeof label, "thread %d frame %d", thread, depth);
    pm_field fld;
    uint64_t v, lp, n;
    bool tagged = frame_slots_tagged(s);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        pm_lookup_field(s, "_PyInterpreterFrame", fields[i], &fld);
        if (fld.ok && pm_read_u64(s, f + (uint64_t)fld.off, &v) && (v = stackref_object(tagged, v)))
            c->fn(c->ctx, v, label);
    }
    if (!pm_frame_live_words(s, f, &lp, &n))
        return true;
    for (uint64_t w = 0; w < n; w++)
        if (pm_read_u64(s, lp + 8 * w, &v) && (v = stackref_object(tagged, v)) && !(v & 7))
            c->fn(c->ctx, v, label);
    return true;
}

static void frame_roots(pymac_session *s, pm_root_fn fn, void *ctx)
{
    frame_ctx c = {s, fn, ctx};
    pm_frames_walk(s, frame_root, &c);
}

void pm_roots_walk(pymac_session *s, int which, pm_root_fn fn, void *ctx)
{
    if (!(which & PM_ROOTS_INTERP)) {
        frame_roots(s, fn, ctx);
        return;
    }
    static const char *const modules[] = {"imports.modules", "modules", NULL};
    static const char *const sysdict[] = {"sysdict", NULL};
    static const char *const builtins[] = {"builtins", NULL};
    static const char *const interned[] = {"cached_objects.interned_strings", NULL};
    uint64_t v;
    if (pm_interp_member(s, modules, &v) && v)
        fn(ctx, v, "sys.modules");
    if (pm_interp_member(s, sysdict, &v) && v)
        fn(ctx, v, "sys.__dict__");
    if (pm_interp_member(s, builtins, &v) && v)
        fn(ctx, v, "builtins.__dict__");
    if (pm_interp_member(s, interned, &v) && v) {
        fn(ctx, v, "interned strings");
    } else {
        pm_symbol sym = pm_symbol_lookup(s, "interned", "unicodeobject.c");
        if (!sym.found && !s->python.dwarf) /* stripped: statics_find.c */
            sym.found = (sym.addr = pm_find_interned(s)) != 0;
        if (sym.found && pm_read_u64(s, sym.addr, &v) && v)
            fn(ctx, v, "interned strings");
    }
    if (which & PM_ROOTS_FRAMES)
        frame_roots(s, fn, ctx);
}

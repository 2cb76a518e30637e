/* pymalloc's file statics of CPython 3.8-3.11 in a stripped interpreter,
 * the first half of the search (obmalloc_find.c has the method and the
 * second): what the code of exported functions and the file's initial image
 * name, with no read of the core's data. Each finder answers only when
 * exactly one candidate passes. */
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "layout.h"
#include "statics_find.h"

/* The stats function's labels (printone's second argument) and whose value
 * each prints (printone's third). */
static const struct {
    const char *text;
    const char *name;
    size_t var; /* offset in pm_obmalloc_vars */
    unsigned width;
    bool radix; /* 3.10+ */
} LABELS[] = {
    {"# arenas allocated total", "ntimes_arena_allocated",
     offsetof(pm_obmalloc_vars, ntimes_arena_allocated), 8, false},
    {"# arenas highwater mark", "narenas_highwater",
     offsetof(pm_obmalloc_vars, narenas_highwater), 8, false},
    {"# arena map mid nodes", "arena_map_mid_count",
     offsetof(pm_obmalloc_vars, arena_map_mid_count), 4, true},
    {"# arena map bot nodes", "arena_map_bot_count",
     offsetof(pm_obmalloc_vars, arena_map_bot_count), 4, true},
};

enum {
    MIN_CLASSES = 8,          /* a usedpools array has at least this many classes */
    MAX_CLASSES = 256,        /* and at most this many */
    LABEL_WINDOW = 32,        /* bytes after a label load when no call follows */
    NEW_ARENA_WINDOW = 48,    /* bytes before the store to narenas_highwater */
};

typedef struct finder {
    pymac_session *s;
    const pm_layout *L;
    pm_section text, rodata, data, bss;
    pm_insn *body; /* the stats function's code, at [body_lo, body_hi) */
    size_t nbody;
    uint64_t body_lo, body_hi;
    uint64_t *calls; /* addresses of its calls to function starts */
    size_t ncalls;
} finder;

static uint64_t label_addr(const finder *f, const char *text)
{
    size_t off;
    return pm_find_cstring(f->rodata.bytes, f->rodata.size, text, &off) == 1 ? f->rodata.addr + off
                                                                             : 0;
}

static bool names_label(const pm_insn *v, size_t n, uint64_t label)
{
    for (size_t i = 0; i < n; i++)
        if ((v[i].kind == PM_INSN_LEA || v[i].kind == PM_INSN_IMM32) && v[i].target == label)
            return true;
    return false;
}

/* The stats function: the export, or the one local function it branches to
 * that names the label. */
static bool stats_body(finder *f, uint64_t label)
{
    uint64_t lo, hi;
    pm_insn *head;
    size_t nhead;
    if (!pm_module_export_bounds(f->s, "_PyObject_DebugMallocStats", &lo, &hi) ||
        !pm_module_insns(f->s, lo, hi, &head, &nhead))
        return false;
    if (names_label(head, nhead, label)) {
        f->body = head;
        f->nbody = nhead;
        f->body_lo = lo;
        f->body_hi = hi;
    }
    uint64_t chosen = 0;
    for (size_t i = 0; !f->body && i < nhead; i++) {
        uint64_t t = head[i].target, flo, fhi;
        if ((head[i].kind != PM_INSN_CALL && head[i].kind != PM_INSN_JMP) ||
            (t >= lo && t < hi) || t == chosen || !pm_section_has(&f->text, t, 1) ||
            !pm_module_function_bounds(f->s, t, &flo, &fhi) || flo != t)
            continue;
        pm_insn *v;
        size_t n;
        if (!pm_module_insns(f->s, flo, fhi, &v, &n))
            continue;
        if (names_label(v, n, label)) {
            if (chosen) { /* two functions name it: no answer */
                free(v);
                free(f->body);
                f->body = NULL;
                break;
            }
            chosen = t;
            f->body = v;
            f->nbody = n;
            f->body_lo = flo;
            f->body_hi = fhi;
            continue;
        }
        free(v);
    }
    if (f->body != head)
        free(head);
    if (!f->body)
        return false;
    f->calls = malloc((f->nbody + 1) * sizeof *f->calls);
    if (!f->calls)
        return false;
    for (size_t i = 0; i < f->nbody; i++)
        if (f->body[i].kind == PM_INSN_CALL && pm_module_function_start(f->s, f->body[i].target))
            f->calls[f->ncalls++] = f->body[i].at;
    return true;
}

uint64_t pm_printone_static(const pm_insn *body, size_t n, const uint64_t *calls,
                            size_t ncalls, uint64_t label, unsigned width, uint64_t lo,
                            uint64_t hi)
{
    uint64_t found = 0;
    bool site = false;
    for (size_t i = 0; label && i < n; i++) {
        const pm_insn *in = &body[i];
        if ((in->kind != PM_INSN_LEA && in->kind != PM_INSN_IMM32) || in->reg != PM_REG_RSI ||
            in->target != label)
            continue;
        site = true;
        uint64_t prev = 0, next = UINT64_MAX;
        for (size_t c = 0; c < ncalls; c++) {
            if (calls[c] < in->at && calls[c] > prev)
                prev = calls[c];
            if (calls[c] > in->at && calls[c] < next)
                next = calls[c];
        }
        if (next == UINT64_MAX)
            next = in->at + LABEL_WINDOW;
        for (size_t j = 0; j < n; j++) {
            const pm_insn *ld = &body[j];
            bool kind = width == 8 ? ld->kind == PM_INSN_LOAD && ld->width == 8
                                   : ld->kind == PM_INSN_LOAD_SX32;
            if (!kind || ld->reg != PM_REG_RDX || ld->at <= prev || ld->at >= next ||
                ld->target < lo || ld->target >= hi || hi - ld->target < width)
                continue;
            if (found && found != ld->target)
                return 0;
            found = ld->target;
        }
    }
    return site ? found : 0;
}

/* The static printed under the label, in the stats function. */
static uint64_t by_label(const finder *f, const char *text, unsigned width)
{
    return pm_printone_static(f->body, f->nbody, f->calls, f->ncalls, label_addr(f, text), width,
                              f->bss.addr, f->bss.addr + f->bss.size);
}

/* The distinct .bss loads of width bytes in v[0 .. n), but those in skip[];
 * how many, the first in *one. */
static size_t bss_loads(const finder *f, const pm_insn *v, size_t n, unsigned width,
                        const uint64_t *skip, size_t nskip, uint64_t *one)
{
    uint64_t seen[8];
    size_t nseen = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != PM_INSN_LOAD || v[i].width != width ||
            !pm_section_has(&f->bss, v[i].target, width))
            continue;
        bool dup = false;
        for (size_t k = 0; k < nskip; k++)
            dup |= skip[k] == v[i].target;
        for (size_t k = 0; k < nseen; k++)
            dup |= seen[k] == v[i].target;
        if (dup)
            continue;
        if (nseen < sizeof seen / sizeof seen[0])
            seen[nseen++] = v[i].target;
        total++;
    }
    *one = nseen ? seen[0] : 0;
    return total;
}

typedef struct hw_stores {
    uint64_t hw, at;
    uint8_t reg;
    size_t n;
} hw_stores;

static bool count_hw_store(void *ctx, const pm_insn *in)
{
    hw_stores *h = ctx;
    if (in->kind == PM_INSN_STORE && in->width == 8 && in->target == h->hw) {
        h->at = in->at;
        h->reg = in->reg;
        h->n++;
    }
    return true;
}

/* new_arena: ++narenas_currently_allocated; ++ntimes_arena_allocated; and
 * the one store to narenas_highwater, from the register just stored to
 * narenas_currently_allocated. */
static uint64_t ncurrent_from_new_arena(const finder *f, uint64_t hw, uint64_t ntimes)
{
    hw_stores h = {.hw = hw};
    pm_code_scan(f->text.bytes, f->text.size, f->text.addr, count_hw_store, &h);
    pm_insn *v;
    size_t n;
    if (h.n != 1 || h.at - f->text.addr < NEW_ARENA_WINDOW ||
        !pm_module_insns(f->s, h.at - NEW_ARENA_WINDOW, h.at, &v, &n))
        return 0;
    uint64_t found = 0;
    bool bump = false, two = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i].target == ntimes && v[i].width == 8 &&
            ((v[i].kind == PM_INSN_MEM_IMM && v[i].reg == 0 && v[i].imm == 1) ||
             (v[i].kind == PM_INSN_MEM_OTHER && v[i].reg == 0)))
            bump = true;
        if (v[i].kind != PM_INSN_STORE || v[i].width != 8 || v[i].reg != h.reg ||
            v[i].target == hw || !pm_section_has(&f->bss, v[i].target, 8))
            continue;
        two |= found && found != v[i].target;
        found = v[i].target;
    }
    free(v);
    return bump && !two ? found : 0;
}

uint64_t pm_self_pair_run(const uint8_t *image, uint64_t size, uint64_t addr, uint64_t link,
                          uint32_t min, uint32_t max, uint32_t *n)
{
    uint64_t found = 0;
    size_t runs = 0;
    uint32_t len = 0;
    if (!image)
        return 0;
    for (uint64_t a = (addr + 15) & ~(uint64_t)15;; a += 16) {
        bool pair = a >= addr && a + 16 <= addr + size;
        if (pair) {
            uint32_t off = (uint32_t)(a - addr);
            uint64_t self = a - (addr - link) - 16;
            pair = pm_get_uint(image, off, 8) == self && pm_get_uint(image, off + 8, 8) == self;
        }
        if (pair) {
            len++;
            continue;
        }
        if (len >= min) {
            runs++;
            found = a - 16ull * len;
            *n = len;
        }
        len = 0;
        if (a + 16 > addr + size)
            break;
    }
    return runs == 1 && *n <= max ? found : 0;
}

/* usedpools: the one run of empty pool lists in the file's .data; *n pairs. */
static uint64_t usedpools_in_image(const finder *f, uint32_t *n)
{
    return pm_self_pair_run(f->data.bytes, f->data.size, f->data.addr,
                            f->data.addr - f->s->python.elf_bias, MIN_CLASSES, MAX_CLASSES, n);
}

typedef struct count_users {
    uint64_t mid, bot;
    uint64_t at[16]; /* instructions naming either count */
    size_t n;
    bool overflow;
} count_users;

static bool note_count_user(void *ctx, const pm_insn *in)
{
    count_users *c = ctx;
    bool rip_operand = in->kind == PM_INSN_LOAD || in->kind == PM_INSN_LOAD_SX32 ||
                       in->kind == PM_INSN_STORE || in->kind == PM_INSN_CMP ||
                       in->kind == PM_INSN_MEM_IMM || in->kind == PM_INSN_MEM_OTHER;
    if ((in->target != c->mid && in->target != c->bot) || !rip_operand)
        return true;
    if (c->n == sizeof c->at / sizeof c->at[0]) {
        c->overflow = true;
        return false;
    }
    c->at[c->n++] = in->at;
    return true;
}

/* arena_map_root from the code: the one other .bss static the functions
 * counting the map's nodes name (arena_map_mark_used, with arena_map_get
 * inlined: a lea of the root in a shared library, an indexed absolute
 * operand in a non-PIE executable); the stats function aside. 0 if none or
 * several. */
static uint64_t radix_root_in_code(const finder *f, uint64_t mid, uint64_t bot)
{
    count_users c = {.mid = mid, .bot = bot};
    pm_code_scan(f->text.bytes, f->text.size, f->text.addr, note_count_user, &c);
    if (c.overflow)
        return 0;
    uint64_t found = 0, done_lo[16];
    size_t ndone = 0;
    for (size_t i = 0; i < c.n; i++) {
        uint64_t lo, hi;
        if (!pm_module_function_bounds(f->s, c.at[i], &lo, &hi))
            return 0;
        bool seen = lo == f->body_lo;
        for (size_t k = 0; k < ndone; k++)
            seen |= done_lo[k] == lo;
        if (seen)
            continue;
        done_lo[ndone++] = lo;
        pm_insn *v;
        size_t n;
        if (!pm_module_insns(f->s, lo, hi, &v, &n))
            return 0;
        for (size_t j = 0; j < n; j++) {
            if ((v[j].kind != PM_INSN_LEA && v[j].kind != PM_INSN_ABS_INDEXED) ||
                v[j].target == mid || v[j].target == bot ||
                !pm_section_has(&f->bss, v[j].target, 8))
                continue;
            if (found && found != v[j].target) {
                free(v);
                return 0;
            }
            found = v[j].target;
        }
        free(v);
    }
    return found;
}

/* The statics the code and the file name, with no read of the core: the
 * counters, arenas, maxarenas, raw_allocated_blocks,
 * narenas_currently_allocated, usedpools (the file's initial image) and
 * 3.10+ arena_map_root. */
static bool find_in_code(finder *f, pm_obmalloc_vars *om, const char **missing)
{
    pymac_session *s = f->s;
    const pm_layout *L = f->L;
    bool radix = L->has_radix;
    uint64_t label = 0;
    *missing = "the allocator's code (_PyObject_DebugMallocStats)";
    if (!pm_module_section(s, ".text", &f->text) || !f->text.bytes ||
        !pm_module_section(s, ".rodata", &f->rodata) || !f->rodata.bytes ||
        !pm_module_section(s, ".data", &f->data) || !pm_module_section(s, ".bss", &f->bss) ||
        !(label = label_addr(f, LABELS[0].text)) || !stats_body(f, label))
        return false;
    uint64_t known[6];
    size_t nknown = 0;
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++) {
        if (LABELS[i].radix && !radix)
            continue;
        pm_var *v = (pm_var *)((char *)om + LABELS[i].var);
        *v = pm_var_at(by_label(f, LABELS[i].text, LABELS[i].width), LABELS[i].width);
        *missing = LABELS[i].name;
        if (!v->ok)
            return false;
        known[nknown++] = v->addr;
    }
    /* arenas, maxarenas: the stats function's other .bss loads */
    uint64_t arenas, maxarenas, raw = 0;
    *missing = "arenas";
    if (bss_loads(f, f->body, f->nbody, 8, known, nknown, &arenas) != 1)
        return false;
    *missing = "maxarenas";
    if (bss_loads(f, f->body, f->nbody, 4, known, nknown, &maxarenas) != 1)
        return false;
    /* raw_allocated_blocks: _Py_GetAllocatedBlocks's load (3.9+: beside
     * the same arenas and maxarenas) */
    *missing = s->rt->minor == 8 ? "_Py_AllocatedBlocks" : "raw_allocated_blocks";
    uint64_t lo, hi, other;
    pm_insn *v;
    size_t n;
    if (!pm_module_export_bounds(s, "_Py_GetAllocatedBlocks", &lo, &hi) ||
        !pm_module_insns(s, lo, hi, &v, &n))
        return false;
    uint64_t pair[2] = {arenas, maxarenas};
    size_t n8 = bss_loads(f, v, n, 8, NULL, 0, &other),
           n4 = bss_loads(f, v, n, 4, NULL, 0, &other);
    if (s->rt->minor == 8 && n8 == 1 && n4 == 0)
        bss_loads(f, v, n, 8, NULL, 0, &raw);
    else if (s->rt->minor > 8 && n4 == 1 && other == maxarenas && n8 == 2 &&
             bss_loads(f, v, n, 8, pair, 1, &raw) == 1 && raw != arenas)
        ;
    else
        raw = 0;
    free(v);
    if (!raw)
        return false;
    om->raw_allocated_blocks = pm_var_at(raw, 8);
    om->arenas = pm_var_at(arenas, 8);
    om->maxarenas = pm_var_at(maxarenas, 4);
    *missing = "narenas_currently_allocated";
    om->narenas_currently_allocated = pm_var_at(
        ncurrent_from_new_arena(f, om->narenas_highwater.addr, om->ntimes_arena_allocated.addr),
        8);
    if (!om->narenas_currently_allocated.ok)
        return false;
    *missing = "usedpools";
    uint32_t nclasses = 0;
    uint64_t used = usedpools_in_image(f, &nclasses);
    om->usedpools = pm_var_at(used, 16 * nclasses);
    if (!om->usedpools.ok)
        return false;
    if (radix) {
        *missing = "arena_map_root";
        om->arena_map_root = pm_var_at(radix_root_in_code(f, om->arena_map_mid_count.addr,
                                                    om->arena_map_bot_count.addr),
                                 L->map_root_size);
        if (!om->arena_map_root.ok)
            return false;
    }
    *missing = NULL;
    return true;
}

bool pm_find_obmalloc_in_code(pymac_session *s, pm_obmalloc_vars *code, const char **missing)
{
    finder f = {.s = s, .L = s->layout};
    memset(code, 0, sizeof *code);
    bool ok = find_in_code(&f, code, missing);
    free(f.body);
    free(f.calls);
    if (!ok)
        memset(code, 0, sizeof *code);
    return ok;
}


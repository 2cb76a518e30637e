/* tracemalloc's file statics of CPython 3.8-3.11 (Modules/_tracemalloc.c:
 * tracemalloc_traces, 3.9+ tracemalloc_domains, tracemalloc_traced_memory,
 * tracemalloc_peak_traced_memory) in a stripped interpreter, which names
 * them in no symbol. Used by pm_tm_locate only when the symbol lookup failed
 * on a build without DWARF, and only while the process traces: the traces
 * confirm the answer. The method, read on pyenv's GCC builds of 3.8-3.11 and
 * Debian's LTO 3.11 (non-PIE; its remove_trace and get_traceback are not
 * inlined into the exports):
 *
 * - The code: exported PyTraceMalloc_Track, PyTraceMalloc_Untrack and
 *   _PyTraceMalloc_GetTraceback, each with the local functions it calls or
 *   jumps to directly (.eh_frame starts; calls through the PLT are not
 *   followed): tracemalloc_add_trace, tracemalloc_remove_trace,
 *   tracemalloc_get_traceback where they are not inlined.
 * - tracemalloc_traced_memory: the one .bss word Untrack's code takes a size
 *   from (`sub %reg, X(%rip)`: remove_trace's `traced_memory -= size`).
 * - tracemalloc_peak_traced_memory: in one function of Track's code (the
 *   add_trace `traced_memory += size; if (traced_memory > peak) peak =
 *   traced_memory`), the one other .bss word stored from the register
 *   stored to traced memory and compared with that register (or loaded).
 * - tracemalloc_traces and tracemalloc_domains: among the .bss words loaded
 *   (8 bytes) in the code of all three exports, but those two (at most 8
 *   candidates; in the builds read, 3 or 4: the lock and allocators too).
 * - The data decides among them: the one assignment (3.8: traces; 3.9+: an
 *   ordered pair traces, domains of distinct candidates) whose tables walk
 *   whole (each table's entry count its chains' length, its buckets mapped:
 *   pm_tm_table_walk; an empty one's buckets all NULL), each entry a trace
 *   with a size and a traceback (3.8: the table's data is a trace_t; its
 *   keys pointer_t once use_domain is set), each domain a domain other than
 *   0 keyed to a traces table, and whose trace sizes add up to exactly the
 *   value of tracemalloc_traced_memory; the peak is at least that. No
 *   assignment or more than one: no answer (pm_tm_locate exits 7 naming
 *   the static).
 *
 * x86-64 only (code_scan.h): on another machine the finder declines. */
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "layout.h"
#include "tracemalloc.h"

enum {
    MAX_CALLEES = 24,   /* functions one export's code reaches: a few in the builds read */
    MAX_CANDIDATES = 8, /* .bss words loaded by all three: 3 or 4 in the builds read */
};

/* One distinct value seen, or several. */
typedef struct one {
    uint64_t v;
    bool several;
} one;

static void one_note(one *o, uint64_t x)
{
    if (o->v && o->v != x)
        o->several = true;
    o->v = x;
}

static uint64_t one_get(const one *o)
{
    return o->several ? 0 : o->v;
}

static bool in_bss(const pm_insn *in, uint64_t lo, uint64_t hi)
{
    return in->target >= lo && in->target < hi && hi - in->target >= 8;
}

uint64_t pm_tm_code_traced(const pm_tm_fn *fns, size_t nfns, uint64_t lo, uint64_t hi)
{
    one o = {0};
    for (size_t f = 0; f < nfns; f++)
        for (size_t i = 0; i < fns[f].n; i++) {
            const pm_insn *in = &fns[f].v[i];
            if (in->kind == PM_INSN_SUB_FROM && in->width == 8 && in_bss(in, lo, hi))
                one_note(&o, in->target);
        }
    return one_get(&o);
}

/* Is P compared with register r (cmp) or loaded in v[0 .. n)? */
static bool reads(const pm_insn *v, size_t n, uint64_t p, uint8_t r)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].target == p && v[i].width == 8 &&
            ((v[i].kind == PM_INSN_CMP && v[i].reg == r) || v[i].kind == PM_INSN_LOAD))
            return true;
    return false;
}

uint64_t pm_tm_code_peak(const pm_tm_fn *fns, size_t nfns, uint64_t traced, uint64_t lo,
                         uint64_t hi)
{
    one o = {0};
    for (size_t f = 0; f < nfns; f++) {
        const pm_insn *v = fns[f].v;
        size_t n = fns[f].n;
        for (size_t i = 0; i < n; i++) {
            if (v[i].kind != PM_INSN_STORE || v[i].width != 8 || v[i].target != traced)
                continue;
            for (size_t j = 0; j < n; j++)
                if (v[j].kind == PM_INSN_STORE && v[j].width == 8 && v[j].reg == v[i].reg &&
                    v[j].target != traced && in_bss(&v[j], lo, hi) &&
                    reads(v, n, v[j].target, v[i].reg))
                    one_note(&o, v[j].target);
        }
    }
    return one_get(&o);
}

/* The distinct 8-byte .bss loads of a set of functions, sorted; *n. */
static uint64_t *loads_of(const pm_tm_fn *fns, size_t nfns, uint64_t lo, uint64_t hi, size_t *n)
{
    size_t total = 0, k = 0;
    for (size_t f = 0; f < nfns; f++)
        total += fns[f].n;
    uint64_t *a = malloc((total ? total : 1) * sizeof *a);
    if (!a)
        return NULL;
    for (size_t f = 0; f < nfns; f++)
        for (size_t i = 0; i < fns[f].n; i++)
            if (fns[f].v[i].kind == PM_INSN_LOAD && fns[f].v[i].width == 8 &&
                in_bss(&fns[f].v[i], lo, hi))
                a[k++] = fns[f].v[i].target;
    pm_sort(a, k, sizeof *a, pm_cmp_u64);
    size_t d = 0;
    for (size_t i = 0; i < k; i++)
        if (!d || a[d - 1] != a[i])
            a[d++] = a[i];
    *n = d;
    return a;
}

size_t pm_tm_code_tables(const pm_tm_fn *const sets[], const size_t nsets[], size_t k, uint64_t lo,
                         uint64_t hi, const uint64_t *skip, size_t nskip, uint64_t *out, size_t cap)
{
    size_t n0 = 0, count = 0;
    uint64_t *first = k ? loads_of(sets[0], nsets[0], lo, hi, &n0) : NULL;
    uint64_t *other[8] = {0};
    size_t nother[8] = {0};
    bool ok = first && k <= 1 + sizeof other / sizeof other[0];
    for (size_t s = 1; ok && s < k; s++)
        ok = (other[s - 1] = loads_of(sets[s], nsets[s], lo, hi, &nother[s - 1])) != NULL;
    for (size_t i = 0; ok && i < n0; i++) {
        bool all = true;
        for (size_t s = 1; s < k && all; s++) {
            size_t at = pm_lower_bound_u64(other[s - 1], nother[s - 1], first[i]);
            all = at < nother[s - 1] && other[s - 1][at] == first[i];
        }
        for (size_t j = 0; j < nskip && all; j++)
            all = skip[j] != first[i];
        if (!all)
            continue;
        if (count < cap)
            out[count] = first[i];
        count++;
    }
    free(first);
    for (size_t s = 0; s + 1 < k && s < sizeof other / sizeof other[0]; s++)
        free(other[s]);
    return ok ? count : 0;
}

/* ---- the data ---- */

typedef struct sum_ctx {
    pymac_session *s;
    const pm_tm_layout *T;
    uint64_t sum;
    bool bad;
} sum_ctx;

static bool add_trace(void *ctx, uint64_t key, uint32_t key_domain, uint64_t value)
{
    (void)key;
    (void)key_domain;
    sum_ctx *c = ctx;
    uint64_t size, tb;
    if (!pm_read_field(c->s, value, &c->T->tr_size, &size) ||
        !pm_read_field(c->s, value, &c->T->tr_traceback, &tb) || !tb ||
        size > UINT64_MAX - c->sum) {
        c->bad = true;
        return false;
    }
    c->sum += size;
    return true;
}

/* A table has buckets (at least one); when it counts no entry, every
 * bucket is mapped and empty (the walk reads none then). */
static bool table_head(pymac_session *s, const pm_tm_layout *T, uint64_t addr)
{
    uint64_t nbuckets, nentries, buckets, e;
    if (!addr || !pm_read_field(s, addr, &T->ht_nbuckets, &nbuckets) ||
        !pm_read_field(s, addr, &T->ht_nentries, &nentries) ||
        !pm_read_field(s, addr, &T->ht_buckets, &buckets) || !nbuckets)
        return false;
    if (nentries)
        return true;
    if (!pm_span_readable(s, buckets, nbuckets, T->bucket_size))
        return false;
    for (uint64_t b = 0; b < nbuckets; b++)
        if (!pm_read_u64(s, buckets + b * T->bucket_size, &e) || e)
            return false;
    return true;
}

/* The table at addr, walked whole, holds traces: the sum of their sizes. */
static bool traces_sum(pymac_session *s, const pm_tm_layout *T, uint64_t addr, uint64_t *sum)
{
    uint64_t data_size;
    sum_ctx c = {.s = s, .T = T};
    if (!table_head(s, T, addr) ||
        (T->inline_entries &&
         (!pm_read_field(s, addr, &T->ht_data_size, &data_size) || data_size != T->trace_size)) ||
        pm_tm_table_walk(s, T, addr, add_trace, &c) != PYMAC_OK || c.bad)
        return false;
    *sum = c.sum;
    return true;
}

static bool add_domain(void *ctx, uint64_t key, uint32_t key_domain, uint64_t value)
{
    (void)key_domain;
    sum_ctx *c = ctx;
    uint64_t sum;
    if (!key || key > UINT32_MAX || !traces_sum(c->s, c->T, value, &sum) ||
        sum > UINT64_MAX - c->sum) {
        c->bad = true;
        return false;
    }
    c->sum += sum;
    return true;
}

/* 3.9+: the table at addr maps domains other than 0 to traces tables: the
 * sum of their traces' sizes. */
static bool domains_sum(pymac_session *s, const pm_tm_layout *T, uint64_t addr, uint64_t *sum)
{
    sum_ctx c = {.s = s, .T = T};
    if (!table_head(s, T, addr) || pm_tm_table_walk(s, T, addr, add_domain, &c) != PYMAC_OK ||
        c.bad)
        return false;
    *sum = c.sum;
    return true;
}

bool pm_tm_confirm(pymac_session *s, const pm_tm_layout *T, bool has_domains, const uint64_t *cand,
                   size_t n, uint64_t traced_at, uint64_t peak_at, uint64_t *traces,
                   uint64_t *domains)
{
    uint64_t traced, peak, val, ts[MAX_CANDIDATES], ds[MAX_CANDIDATES];
    bool ts_ok[MAX_CANDIDATES], ds_ok[MAX_CANDIDATES];
    *traces = *domains = 0;
    if (n > MAX_CANDIDATES || !pm_read_u64(s, traced_at, &traced) ||
        !pm_read_u64(s, peak_at, &peak) || peak < traced)
        return false;
    size_t mark = s->warnings.n; /* a wrong candidate's walk warns: not said */
    for (size_t i = 0; i < n; i++) {
        bool v = pm_read_u64(s, cand[i], &val);
        ts_ok[i] = v && traces_sum(s, T, val, &ts[i]);
        ds_ok[i] = has_domains && v && domains_sum(s, T, val, &ds[i]);
    }
    pm_warnings_truncate(&s->warnings, mark);
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ts_ok[i])
            continue;
        if (!has_domains) {
            if (ts[i] == traced && found++ == 0)
                *traces = cand[i];
            continue;
        }
        for (size_t j = 0; j < n; j++)
            if (j != i && ds_ok[j] && ds[j] <= UINT64_MAX - ts[i] && ts[i] + ds[j] == traced &&
                found++ == 0) {
                *traces = cand[i];
                *domains = cand[j];
            }
    }
    if (found != 1)
        *traces = *domains = 0;
    return found == 1;
}

/* ---- the finder ---- */

/* An export's code and the local functions it calls or jumps to. */
typedef struct reach {
    pm_tm_fn fn[1 + MAX_CALLEES];
    size_t n;
} reach;

static void reach_free(reach *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->fn[i].v);
    r->n = 0;
}

static bool reach_of(pymac_session *s, const pm_section *text, const char *name, reach *r)
{
    uint64_t lo, hi, starts[1 + MAX_CALLEES];
    pm_insn *v;
    size_t n;
    if (!pm_module_export_bounds(s, name, &lo, &hi) || !pm_module_insns(s, lo, hi, &v, &n))
        return false;
    r->fn[0] = (pm_tm_fn){v, n};
    r->n = 1;
    starts[0] = lo;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = v[i].target, flo, fhi;
        if ((v[i].kind != PM_INSN_CALL && v[i].kind != PM_INSN_JMP) ||
            !pm_section_has(text, t, 1) || !pm_module_function_bounds(s, t, &flo, &fhi) || flo != t)
            continue;
        bool seen = false;
        for (size_t k = 0; k < r->n; k++)
            seen |= starts[k] == t;
        if (seen)
            continue;
        if (r->n == 1 + MAX_CALLEES) /* not the few functions of _tracemalloc.c */
            return false;
        pm_insn *cv;
        size_t cn;
        if (!pm_module_insns(s, flo, fhi, &cv, &cn))
            return false;
        starts[r->n] = t;
        r->fn[r->n++] = (pm_tm_fn){cv, cn};
    }
    return true;
}

bool pm_tm_find_statics(pymac_session *s, const pm_tm_layout *T, pm_tm_vars *v,
                        const char **missing)
{
    static const char *const EXPORTS[3] = {"PyTraceMalloc_Track", "PyTraceMalloc_Untrack",
                                           "_PyTraceMalloc_GetTraceback"};
    enum { TRACK, UNTRACK, GET_TRACEBACK };
    reach r[3] = {{.n = 0}};
    pm_section text, bss;
    bool has_domains = s->rt->minor >= 9, ok = false;
    *missing = "tracemalloc_traced_memory";
    if (!pm_module_is_x86_64(s)) {
        *missing = "tracemalloc_traced_memory (pymac reads the code of x86-64 builds only)";
        return false;
    }
    if (!pm_module_section(s, ".text", &text) || !text.bytes || !pm_module_section(s, ".bss", &bss))
        return false;
    for (size_t i = 0; i < 3; i++)
        if (!reach_of(s, &text, EXPORTS[i], &r[i]))
            goto done;
    uint64_t lo = bss.addr, hi = bss.addr + bss.size;
    uint64_t traced = pm_tm_code_traced(r[UNTRACK].fn, r[UNTRACK].n, lo, hi);
    if (!traced)
        goto done;
    *missing = "tracemalloc_peak_traced_memory";
    uint64_t peak = pm_tm_code_peak(r[TRACK].fn, r[TRACK].n, traced, lo, hi);
    if (!peak)
        goto done;
    *missing = "tracemalloc_traces";
    const pm_tm_fn *const sets[3] = {r[0].fn, r[1].fn, r[2].fn};
    const size_t nsets[3] = {r[0].n, r[1].n, r[2].n};
    uint64_t skip[2] = {traced, peak}, cand[MAX_CANDIDATES], traces, domains;
    size_t n = pm_tm_code_tables(sets, nsets, 3, lo, hi, skip, 2, cand, MAX_CANDIDATES);
    if (n > MAX_CANDIDATES ||
        !pm_tm_confirm(s, T, has_domains, cand, n, traced, peak, &traces, &domains))
        goto done;
    v->traced_memory = traced;
    v->peak_traced_memory = peak;
    v->traces = traces;
    v->domains = domains;
    *missing = NULL;
    ok = true;
done:
    for (size_t i = 0; i < 3; i++)
        reach_free(&r[i]);
    return ok;
}

/* The traces, their tracebacks and file names, read once into plain arrays:
 * traces sorted by (domain, pointer), tracebacks and file names distinct. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "object.h"
#include "tracemalloc.h"
#include "value.h"

typedef struct reader {
    pymac_session *s;
    const pm_tm_layout *T;
    pm_tracemalloc *tm;
    size_t cap;
    uint32_t domain;     /* of the traces table being walked (3.9+) */
    uint64_t want;       /* pm_tm_read_object: the block looked for */
    bool nomem;
    pymac_status st;     /* PYMAC_PARTIAL once anything was left out */
} reader;

static bool rd(pymac_session *s, uint64_t base, const pm_field *f, uint64_t *out)
{
    unsigned char b[8];
    if (!f->ok || f->size == 0 || f->size > 8 || !pm_read(s, base + (uint64_t)f->off, b, f->size))
        return false;
    pm_field rel = *f;
    rel.off = 0;
    *out = pm_field_get(b, &rel);
    return true;
}

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 1024;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* One trace: key is the block's address, value where its trace_t is. */
static bool on_trace(void *ctx, uint64_t key, uint32_t key_domain, uint64_t value)
{
    reader *r = ctx;
    pm_tracemalloc *tm = r->tm;
    uint64_t size, tb;
    if (!rd(r->s, value, &r->T->tr_size, &size) || !rd(r->s, value, &r->T->tr_traceback, &tb)) {
        if (r->st == PYMAC_OK)
            pm_warn(r->s, "tracemalloc: the trace of block 0x%llx at 0x%llx cannot be read",
                    (unsigned long long)key, (unsigned long long)value);
        r->st = PYMAC_PARTIAL;
        return true;
    }
    if (!grow((void **)&tm->traces, &r->cap, tm->ntraces, sizeof *tm->traces)) {
        r->nomem = true;
        return false;
    }
    tm->traces[tm->ntraces++] = (pm_tm_trace){.ptr = key, .size = size, .tb_addr = tb,
                                              .domain = r->T->inline_entries ? key_domain
                                                                             : r->domain};
    return true;
}

/* 3.9+: the other domains, each a traces table of its own. */
static bool on_domain(void *ctx, uint64_t key, uint32_t key_domain, uint64_t value)
{
    (void)key_domain;
    reader *r = ctx;
    r->domain = (uint32_t)key;
    if (key > UINT32_MAX || pm_tm_table_walk(r->s, r->T, value, on_trace, r) != PYMAC_OK)
        r->st = PYMAC_PARTIAL;
    return !r->nomem;
}

static int cmp_trace(const void *a, const void *b)
{
    const pm_tm_trace *x = a, *y = b;
    if (x->domain != y->domain)
        return x->domain < y->domain ? -1 : 1;
    return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of v in the sorted, distinct array a[n], or n. */
static size_t find_u64(const uint64_t *a, size_t n, uint64_t v)
{
    size_t i = pm_lower_bound_u64(a, n, v);
    return i < n && a[i] == v ? i : n;
}

static size_t distinct_u64(uint64_t *a, size_t n)
{
    pm_sort(a, n, sizeof *a, pm_cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || a[k - 1] != a[i])
            a[k++] = a[i];
    return k;
}

/* Reads one traceback_t; its frames' file names stay addresses (in fileaddr)
 * until they are decoded. False (and nframe 0) when it cannot be. */
static bool read_traceback(reader *r, pm_tm_traceback *tb, uint64_t **fileaddr, size_t cap[2])
{
    pm_tracemalloc *tm = r->tm;
    const pm_tm_layout *T = r->T;
    uint64_t n, total = 0;
    tb->first = (uint32_t)tm->nframes;
    tb->nframe = 0;
    if (!tb->addr || !rd(r->s, tb->addr, &T->tb_nframe, &n) || n == 0 || n > PM_TM_MAX_FRAMES ||
        (int64_t)n > (tm->max_nframe > 1 ? tm->max_nframe : 1) ||
        (T->tb_total_nframe.ok && !rd(r->s, tb->addr, &T->tb_total_nframe, &total)))
        return false;
    uint64_t base = tb->addr + (uint64_t)T->tb_frames.off;
    if (!pm_span_readable(r->s, base, n, T->frame_size))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t file, line, at = base + i * T->frame_size;
        if (!rd(r->s, at, &T->fr_filename, &file) || !rd(r->s, at, &T->fr_lineno, &line)) {
            tm->nframes = tb->first;
            return false;
        }
        if (!grow((void **)&tm->frames, &cap[0], tm->nframes, sizeof *tm->frames) ||
            !grow((void **)fileaddr, &cap[1], tm->nframes, sizeof **fileaddr)) {
            r->nomem = true;
            return false;
        }
        (*fileaddr)[tm->nframes] = file;
        tm->frames[tm->nframes++] = (pm_tm_frame){0, (uint32_t)line};
    }
    tb->nframe = (uint32_t)n;
    tb->total_nframe = T->tb_total_nframe.ok ? (uint32_t)total : (uint32_t)n;
    return true;
}

/* Tracebacks: distinct addresses, each read once; then the file names. */
static pymac_status resolve_tracebacks(reader *r)
{
    pm_tracemalloc *tm = r->tm;
    pymac_session *s = r->s;
    uint64_t *addrs = malloc((tm->ntraces ? tm->ntraces : 1) * sizeof *addrs);
    if (!addrs)
        return PYMAC_E_NOMEM;
    for (size_t i = 0; i < tm->ntraces; i++)
        addrs[i] = tm->traces[i].tb_addr;
    size_t n = distinct_u64(addrs, tm->ntraces);
    tm->tracebacks = calloc(n ? n : 1, sizeof *tm->tracebacks);
    uint64_t *fileaddr = NULL;
    size_t cap[2] = {0, 0}, bad = 0;
    if (!tm->tracebacks) {
        free(addrs);
        return PYMAC_E_NOMEM;
    }
    tm->ntracebacks = n;
    for (size_t i = 0; i < n && !r->nomem; i++) {
        tm->tracebacks[i].addr = addrs[i];
        if (!read_traceback(r, &tm->tracebacks[i], &fileaddr, cap) && !r->nomem) {
            if (!bad++)
                pm_warn(s, "tracemalloc: the traceback at 0x%llx cannot be read: its traces are "
                        "left out of the statistics", (unsigned long long)addrs[i]);
            r->st = PYMAC_PARTIAL;
        }
    }
    for (size_t i = 0; i < tm->ntraces; i++)
        tm->traces[i].tb = (uint32_t)find_u64(addrs, n, tm->traces[i].tb_addr);
    free(addrs);
    if (r->nomem) {
        free(fileaddr);
        return PYMAC_E_NOMEM;
    }
    /* file names: distinct objects, decoded, then distinct texts in order */
    uint64_t *objs = malloc((tm->nframes ? tm->nframes : 1) * sizeof *objs);
    if (!objs) {
        free(fileaddr);
        return PYMAC_E_NOMEM;
    }
    if (tm->nframes) /* fileaddr is NULL when there are none */
        memcpy(objs, fileaddr, tm->nframes * sizeof *objs);
    size_t nobj = distinct_u64(objs, tm->nframes);
    char **text = calloc(nobj ? nobj : 1, sizeof *text);
    uint32_t *index = calloc(nobj ? nobj : 1, sizeof *index);
    tm->files = calloc(nobj ? nobj : 1, sizeof *tm->files);
    pymac_status st = text && index && tm->files ? PYMAC_OK : PYMAC_E_NOMEM;
    enum { NAME_CAP = PM_TM_MAX_FILENAME * 4 + 1 }; /* code points as UTF-8, and a NUL */
    char *b = st == PYMAC_OK ? malloc(NAME_CAP) : NULL;
    if (!b)
        st = PYMAC_E_NOMEM;
    for (size_t i = 0; i < nobj && st == PYMAC_OK; i++) {
        /* a str object (3.8-3.14), or a C string that 3.15 keeps in its
         * filenames table (bounded, and valid UTF-8 as CPython wrote it) */
        bool ok = r->T->fr_cstring ? pm_read_cstr(s, objs[i], b, PM_TM_MAX_FILENAME + 1)
                                   : pm_str_utf8(s, objs[i], b, NAME_CAP);
        if (!ok) {
            pm_warn(s, "tracemalloc: the file name at 0x%llx is not a readable %s",
                    (unsigned long long)objs[i], r->T->fr_cstring ? "C string" : "str");
            snprintf(b, NAME_CAP, "<unreadable 0x%llx>", (unsigned long long)objs[i]);
            r->st = PYMAC_PARTIAL;
        }
        if (!(text[i] = pm_strdup(b)))
            st = PYMAC_E_NOMEM;
        tm->files[i] = text[i];
    }
    free(b);
    if (st == PYMAC_OK) {
        pm_sort(tm->files, nobj, sizeof *tm->files, cmp_str);
        size_t k = 0;
        for (size_t i = 0; i < nobj; i++) {
            if (!k || strcmp(tm->files[k - 1], tm->files[i]) != 0)
                tm->files[k++] = tm->files[i]; /* the same text in two objects: one kept */
        }
        tm->nfiles = k;
        for (size_t i = 0; i < nobj; i++) {
            char **hit = bsearch(&text[i], tm->files, k, sizeof *tm->files, cmp_str);
            index[i] = (uint32_t)(hit - tm->files);
        }
        for (size_t i = 0; i < nobj; i++)
            if (tm->files[index[i]] != text[i])
                free(text[i]);
        for (size_t f = 0; f < tm->nframes; f++)
            tm->frames[f].file = index[find_u64(objs, nobj, fileaddr[f])];
    } else {
        for (size_t i = 0; i < nobj && text; i++)
            free(text[i]);
        free(tm->files);
        tm->files = NULL;
    }
    free(text);
    free(index);
    free(objs);
    free(fileaddr);
    return st;
}

static pymac_status read_state(pymac_session *s, pm_tracemalloc *tm, bool one, uint64_t want,
                               pymac_error *err);

static pymac_status read_vars(pymac_session *s, const pm_tm_vars *v, pm_tracemalloc *tm,
                              pymac_error *err)
{
    uint64_t tracing, max_nframe;
    if (!pm_read_uint(s, v->tracing, v->int_size, &tracing) ||
        !pm_read_uint(s, v->max_nframe, v->int_size, &max_nframe) ||
        (!v->untraced_unlocated &&
         (!pm_read_u64(s, v->traced_memory, &tm->traced_memory) ||
          !pm_read_u64(s, v->peak_traced_memory, &tm->peak_traced_memory))))
        return pm_fail(err, PYMAC_E_CORRUPT, NULL, "tracemalloc's configuration at 0x%llx cannot "
                       "be read", (unsigned long long)v->tracing);
    tm->tracing = tracing != 0;
    tm->max_nframe = (int32_t)max_nframe;
    return PYMAC_OK;
}

/* The one trace whose block starts at r->want (domain 0). */
static bool on_wanted(void *ctx, uint64_t key, uint32_t key_domain, uint64_t value)
{
    reader *r = ctx;
    if (key != r->want || key_domain != 0)
        return true;
    on_trace(ctx, key, key_domain, value);
    return false;
}

pymac_status pm_tracemalloc_read(pymac_session *s, pm_tracemalloc *tm, pymac_error *err)
{
    return read_state(s, tm, false, 0, err);
}

uint64_t pm_tm_block_of(const pymac_session *s, uint64_t addr, uint64_t flags, uint32_t presize)
{
    /* 3.8-3.11 step back over the GC header only (3.11's managed-dict
     * pre-header is not subtracted, so such objects have no traceback there);
     * 3.12+ over _PyType_PreHeaderSize(), GC header and pre-header. */
    uint64_t back = s->rt->minor >= 12 ? presize
                    : (flags & PM_TPFLAGS_HAVE_GC) ? s->layout->gc_head_size
                                                    : 0;
    return addr - back;
}

pymac_status pm_tm_read_object(pymac_session *s, uint64_t addr, uint64_t flags, uint32_t presize,
                               pm_tracemalloc *tm, pymac_error *err)
{
    return read_state(s, tm, true, pm_tm_block_of(s, addr, flags, presize), err);
}

const pm_tm_trace *pm_tm_find(const pm_tracemalloc *tm, uint64_t block)
{
    pm_tm_trace key = {.ptr = block, .domain = 0};
    return tm->ntraces ? bsearch(&key, tm->traces, tm->ntraces, sizeof *tm->traces, cmp_trace)
                       : NULL;
}

/* All traces, or (one) only the trace of the block at `want` in domain 0,
 * as tracemalloc_get_traceback() looks it up. */
static pymac_status read_state(pymac_session *s, pm_tracemalloc *tm, bool one, uint64_t want,
                               pymac_error *err)
{
    memset(tm, 0, sizeof *tm);
    pm_tm_layout T;
    pm_tm_vars v;
    pymac_status st = pm_tm_locate(s, &v, err);
    if (st == PYMAC_OK)
        st = read_vars(s, &v, tm, err);
    if (st != PYMAC_OK || !tm->tracing)
        return st;
    if ((st = pm_tm_layout_resolve(s, &T, err)) != PYMAC_OK)
        return st;
    reader r = {.s = s, .T = &T, .tm = tm, .st = PYMAC_OK, .want = want};
    uint64_t traces = 0, domains = 0;
    if (!pm_read_u64(s, v.traces, &traces) || !traces ||
        (v.domains && !pm_read_u64(s, v.domains, &domains)))
        return pm_fail(err, PYMAC_E_CORRUPT, NULL,
                       "tracemalloc is tracing, but its traces table cannot be read");
    if (pm_tm_table_walk(s, &T, traces, one ? on_wanted : on_trace, &r) != PYMAC_OK)
        r.st = PYMAC_PARTIAL;
    if (domains && !one && !r.nomem && pm_tm_table_walk(s, &T, domains, on_domain, &r) != PYMAC_OK)
        r.st = PYMAC_PARTIAL;
    if (r.nomem)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory reading tracemalloc's traces");
    pm_sort(tm->traces, tm->ntraces, sizeof *tm->traces, cmp_trace);
    if (resolve_tracebacks(&r) != PYMAC_OK)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory reading tracemalloc's tracebacks");
    /* the domains present, ascending */
    tm->domains = malloc((tm->ntraces ? tm->ntraces : 1) * sizeof *tm->domains);
    if (!tm->domains)
        return pm_nomem(err);
    for (size_t i = 0; i < tm->ntraces; i++)
        if (!tm->ndomains || tm->domains[tm->ndomains - 1] != tm->traces[i].domain)
            tm->domains[tm->ndomains++] = tm->traces[i].domain;
    tm->partial = r.st != PYMAC_OK;
    return r.st;
}

void pm_tracemalloc_free(pm_tracemalloc *tm)
{
    for (size_t i = 0; i < tm->nfiles; i++)
        free(tm->files[i]);
    free(tm->files);
    free(tm->traces);
    free(tm->tracebacks);
    free(tm->frames);
    free(tm->domains);
    memset(tm, 0, sizeof *tm);
}

/* A bound on how much of a mapped core is resident in our page tables.
 *
 * The kernel maps a faulting page's neighbours too (fault-around, 64 KiB by
 * default), so even a walk that reads one pool header per 16 KiB makes the
 * whole core resident, and peak RSS becomes the core's size. Here every
 * pointer handed out into the image is counted by its 64 KiB window; past a
 * budget the older half of the windows (a second chance for those read again)
 * is dropped with MADV_DONTNEED. The mapping is private, read-only and never
 * written, so a later access refaults the same bytes from the page cache: no
 * pointer ever reads anything else.
 *
 * Dropping costs a TLB flush per call and a fault per window brought back, so
 * it pays only for walks that move on (the census goes through the heap pass
 * by pass). A walk that keeps coming back to what was just dropped (the
 * reference graph's random access) would thrash. The budget doubles when,
 * four rounds in a row, more than an eighth of it comes back within two
 * rounds of being dropped (a hot set larger than the budget), or when dropped
 * windows have been read again more often than six passes over the whole
 * core would (random reads all over it). A budget that would cover the whole
 * core is no bound: it gives way for the rest of the session. */
#include <stdlib.h>
#include <sys/mman.h>

#include "core_resident.h"

enum {
    WINDOW_SHIFT = 16,
    RESIDENT = 0x8000,   /* in the FIFO */
    REFERENCED = 0x4000, /* read again since it came in */
    ROUND_MASK = 0x3fff, /* round it was dropped in, + 1 (0: never dropped) */
    RECENT_ROUNDS = 2,
    THRASH_ROUNDS = 4,
    MAX_PASSES = 6,
};

struct pm_resident {
    uintptr_t base;     /* first window of the image */
    const void *image;
    size_t size;
    uint64_t last;      /* window of the previous pointer */
    uint16_t *state;    /* per window: RESIDENT | REFERENCED | round */
    uint32_t *fifo;     /* windows, oldest at head; then as many for scratch */
    uint32_t cap, head, n;
    uint32_t round;     /* evictions so far */
    uint32_t came_back; /* windows dropped in the last RECENT_ROUNDS and read again */
    uint32_t thrash_rounds; /* rounds in a row in which too many came back */
    uint64_t nwin, refaults; /* windows; reads of dropped ones so far */
};

/* A core this small stays resident whole: it costs little, and dropping
 * pages would cost the random walks more than it saves. */
#define SMALL_CORE (256ull << 20)

static uint64_t budget_bytes(uint64_t size)
{
    uint64_t b = size / 12; /* a twelfth of the core, at most 256 MiB */
    return b > (256u << 20) ? 256u << 20 : b;
}

pm_resident *pm_resident_new(const void *image, size_t size)
{
    uintptr_t start = (uintptr_t)image;
    uint64_t nwin = ((start + size) >> WINDOW_SHIFT) - (start >> WINDOW_SHIFT) + 1;
    uint64_t cap = budget_bytes(size) >> WINDOW_SHIFT;
    if (size < SMALL_CORE || nwin > UINT32_MAX)
        return NULL; /* (the windows would not count) */
    pm_resident *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->state = calloc(nwin, sizeof *r->state);
    r->fifo = malloc(2 * cap * sizeof *r->fifo);
    if (!r->state || !r->fifo) {
        pm_resident_free(r);
        return NULL; /* no bound, no harm */
    }
    r->base = start >> WINDOW_SHIFT;
    r->image = image;
    r->size = size;
    r->cap = (uint32_t)cap;
    r->nwin = nwin;
    r->last = UINT64_MAX;
    return r;
}

void pm_resident_free(pm_resident *r)
{
    if (r) {
        free(r->state);
        free(r->fifo);
        free(r);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Drops the older half, runs of neighbouring windows in one call each. */
static void evict(pm_resident *r)
{
    uint32_t want = r->n / 2, k = 0, *old = r->fifo + r->cap;
    r->round++;
    uint16_t tag = (uint16_t)((r->round & ROUND_MASK) ? (r->round & ROUND_MASK) : 1);
    for (uint32_t seen = 0; k < want && seen < 2 * r->cap; seen++) {
        uint32_t w = r->fifo[r->head];
        r->head = (r->head + 1) % r->cap;
        if (r->state[w] & REFERENCED) {
            r->state[w] &= (uint16_t)~REFERENCED;
            r->fifo[(r->head + r->n - 1) % r->cap] = w; /* to the back */
            continue;
        }
        r->state[w] = tag;
        r->n--;
        old[k++] = w;
    }
    qsort(old, k, sizeof *old, cmp_u32);
    uintptr_t start = (uintptr_t)r->image, end = (start + r->size + 4095) & ~(uintptr_t)4095;
    for (uint32_t i = 0; i < k;) {
        uint32_t j = i + 1;
        while (j < k && old[j] == old[j - 1] + 1)
            j++;
        uintptr_t lo = (r->base + old[i]) << WINDOW_SHIFT;
        uintptr_t hi = (r->base + old[j - 1] + 1) << WINDOW_SHIFT;
        if (lo < start)
            lo = start; /* the image starts page aligned */
        if (hi > end)
            hi = end;
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
        i = j;
    }
}

void pm_resident_drop_all(pm_resident *r)
{
    uintptr_t start = (uintptr_t)r->image, end = (start + r->size + 4095) & ~(uintptr_t)4095;
    madvise((void *)start, end - start, MADV_DONTNEED);
    for (uint32_t k = 0; k < r->n; k++)
        r->state[r->fifo[(r->head + k) % r->cap]] &= (uint16_t)~(RESIDENT | REFERENCED);
    r->n = 0;
    r->head = 0;
    r->last = UINT64_MAX;
}

/* Doubles the budget, keeping the FIFO's order; false when the budget would
 * cover the core (or on no memory): then there is no bound to keep. */
static bool grow(pm_resident *r)
{
    uint64_t cap = 2 * (uint64_t)r->cap;
    uint32_t *f = cap < r->nwin ? malloc(2 * cap * sizeof *f) : NULL;
    if (!f)
        return false;
    for (uint32_t i = 0; i < r->n; i++)
        f[i] = r->fifo[(r->head + i) % r->cap];
    free(r->fifo);
    r->fifo = f;
    r->cap = (uint32_t)cap;
    r->head = 0;
    r->thrash_rounds = 0;
    r->came_back = 0;
    r->refaults = 0;
    return true;
}

static bool touch_window(pm_resident *r, uint64_t w)
{
    uint16_t st = r->state[w];
    if (st & RESIDENT) {
        r->state[w] = st | REFERENCED;
        return true;
    }
    if (st) { /* dropped before: how long ago? */
        uint32_t dropped = (st & ROUND_MASK), now = r->round & ROUND_MASK;
        if (((now - dropped) & ROUND_MASK) < RECENT_ROUNDS)
            r->came_back++;
        if (++r->refaults > MAX_PASSES * r->nwin && !grow(r))
            return false;
    }
    if (r->n == r->cap) {
        /* a burst (a walk that turns back once) is no reason to grow */
        r->thrash_rounds = r->came_back > r->cap / 8 ? r->thrash_rounds + 1 : 0;
        if (r->thrash_rounds >= THRASH_ROUNDS && !grow(r))
            return false;
        if (r->n == r->cap)
            evict(r);
        r->came_back = 0;
    }
    r->state[w] = RESIDENT;
    r->fifo[(r->head + r->n++) % r->cap] = (uint32_t)w;
    return true;
}

bool pm_resident_touch(pm_resident *r, const void *p, size_t len)
{
    uint64_t first = ((uintptr_t)p >> WINDOW_SHIFT) - r->base;
    uint64_t last = (((uintptr_t)p + (len ? len - 1 : 0)) >> WINDOW_SHIFT) - r->base;
    if (first == r->last && last == first)
        return true;
    r->last = last;
    for (uint64_t w = first; w <= last; w++)
        if (!touch_window(r, w))
            return false;
    return true;
}

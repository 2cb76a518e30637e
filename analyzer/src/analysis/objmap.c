/* Object address sets for the census and the reference walks. */
#include <stdlib.h>
#include <string.h>

#include "objmap.h"

static size_t gslot(uint64_t g, size_t cap)
{
    return (size_t)((g * 0x9E3779B97F4A7C15ull) >> 23) & (cap - 1);
}

/* Keys are granule + 1 so that granule 0 is representable. */
static void granule_add(pm_objmap *m, uint64_t g, uint32_t arena)
{
    size_t j = gslot(g, m->granule_cap);
    while (m->granule_key[j] && m->granule_key[j] != g + 1)
        j = (j + 1) & (m->granule_cap - 1);
    m->granule_key[j] = g + 1;
    uint32_t *a = m->granule_arenas[j];
    if (!a[0])
        a[0] = arena + 1;
    else if (a[0] != arena + 1 && !a[1])
        a[1] = arena + 1;
}

bool pm_objmap_init(pm_objmap *m, const pm_heap *h)
{
    memset(m, 0, sizeof *m);
    m->outside_cap = 1024;
    m->outside = calloc(m->outside_cap, sizeof *m->outside);
    if (!m->outside)
        return false;
    if (!h->region_size) {
        for (size_t i = 0; i < h->nregions; i++)
            if (!pm_objmap_add_region(m, h->regions[i].base, h->regions[i].size))
                return false;
        return true;
    }
    size_t n = h->nregions;
    m->arena_size = h->region_size;
    m->narenas = n;
    m->arena_base = malloc((n + 1) * sizeof *m->arena_base);
    m->bits = calloc(n + 1, sizeof *m->bits);
    if (!m->arena_base || !m->bits)
        return false;
    for (size_t i = 0; i < n; i++)
        m->arena_base[i] = h->regions[i].base;
    for (size_t i = 0; i < n; i++)
        if (!(m->bits[i] = calloc(m->arena_size / 16 / 8, 1)))
            return false;
    m->granule_cap = 64;
    while (m->granule_cap < n * 4 + 4)
        m->granule_cap *= 2;
    m->granule_key = calloc(m->granule_cap, sizeof *m->granule_key);
    m->granule_arenas = calloc(m->granule_cap, sizeof *m->granule_arenas);
    if (!m->granule_key || !m->granule_arenas)
        return false;
    /* Granules as large as an arena: an arena then spans at most two
     * granules, and a granule meets at most two arenas. */
    while ((1ull << m->granule_shift) < m->arena_size)
        m->granule_shift++;
    for (size_t i = 0; i < n; i++) {
        uint64_t first = m->arena_base[i] >> m->granule_shift;
        uint64_t last = (m->arena_base[i] + m->arena_size - 1) >> m->granule_shift;
        for (uint64_t g = first; g <= last; g++)
            granule_add(m, g, (uint32_t)i);
    }
    return true;
}

bool pm_objmap_add_region(pm_objmap *m, uint64_t base, uint64_t size)
{
    size_t n = m->nregions;
    if (!size || (n && base < m->region_base[n - 1] + m->region_size[n - 1]))
        return false;
    uint64_t *b = realloc(m->region_base, (n + 1) * sizeof *b);
    if (b)
        m->region_base = b;
    uint64_t *z = realloc(m->region_size, (n + 1) * sizeof *z);
    if (z)
        m->region_size = z;
    uint8_t **bits = realloc(m->region_bits, (n + 1) * sizeof *bits);
    if (bits)
        m->region_bits = bits;
    if (!b || !z || !bits || !(m->region_bits[n] = calloc(size / 64 + 1, 1)))
        return false;
    m->region_base[n] = base;
    m->region_size[n] = size;
    m->nregions = n + 1;
    return true;
}

/* The region holding addr, or -1. */
static long region_of(const pm_objmap *m, uint64_t addr)
{
    size_t lo = pm_upper_bound_at(m->region_base, m->nregions, sizeof *m->region_base, 0, addr);
    return lo && addr - m->region_base[lo - 1] < m->region_size[lo - 1] ? (long)lo - 1 : -1;
}

bool pm_objmap_in_region(const pm_objmap *m, uint64_t addr)
{
    return region_of(m, addr) >= 0;
}

void pm_objmap_free(pm_objmap *m)
{
    for (size_t i = 0; i < m->nregions; i++)
        free(m->region_bits[i]);
    free(m->region_bits);
    free(m->region_base);
    free(m->region_size);
    for (size_t i = 0; m->bits && i < m->narenas; i++)
        free(m->bits[i]);
    free(m->bits);
    for (size_t i = 0; m->pending && i < m->narenas; i++)
        free(m->pending[i]);
    free(m->pending);
    free(m->arena_base);
    free(m->outside);
    free(m->granule_key);
    free(m->granule_arenas);
    memset(m, 0, sizeof *m);
}

long pm_objmap_arena(const pm_objmap *m, uint64_t addr)
{
    if (!m->narenas)
        return -1;
    uint64_t g = addr >> m->granule_shift;
    size_t j = gslot(g, m->granule_cap);
    while (m->granule_key[j]) {
        if (m->granule_key[j] == g + 1) {
            for (int k = 0; k < 2; k++) {
                uint32_t a = m->granule_arenas[j][k];
                if (a && addr - m->arena_base[a - 1] < m->arena_size)
                    return (long)(a - 1);
            }
            return -1;
        }
        j = (j + 1) & (m->granule_cap - 1);
    }
    return -1;
}

static size_t slot(uint64_t x, size_t cap)
{
    return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

bool pm_objmap_has(const pm_objmap *m, uint64_t addr)
{
    long a = pm_objmap_arena(m, addr);
    if (a >= 0) {
        uint64_t bit = (addr - m->arena_base[a]) / 16;
        return (addr & 15) == 0 && (m->bits[a][bit / 8] >> (bit % 8) & 1);
    }
    long r = region_of(m, addr);
    if (r >= 0) {
        uint64_t bit = (addr - m->region_base[r]) / 8;
        return (addr & 7) == 0 && (m->region_bits[r][bit / 8] >> (bit % 8) & 1);
    }
    for (size_t j = slot(addr, m->outside_cap); m->outside[j]; j = (j + 1) & (m->outside_cap - 1))
        if (m->outside[j] == addr)
            return true;
    return false;
}

static bool grow_outside(pm_objmap *m)
{
    size_t cap = m->outside_cap * 2;
    uint64_t *p = calloc(cap, sizeof *p);
    if (!p)
        return false;
    for (size_t i = 0; i < m->outside_cap; i++) {
        if (!m->outside[i])
            continue;
        size_t j = slot(m->outside[i], cap);
        while (p[j])
            j = (j + 1) & (cap - 1);
        p[j] = m->outside[i];
    }
    free(m->outside);
    m->outside = p;
    m->outside_cap = cap;
    return true;
}

bool pm_objmap_add(pm_objmap *m, uint64_t addr)
{
    long a = pm_objmap_arena(m, addr);
    if (a >= 0) {
        if (addr & 15)
            return false; /* objects in pymalloc are 16-aligned */
        uint64_t bit = (addr - m->arena_base[a]) / 16;
        uint8_t *byte = &m->bits[a][bit / 8], mask = (uint8_t)(1u << (bit % 8));
        if (*byte & mask)
            return false;
        *byte |= mask;
        return true;
    }
    long r = region_of(m, addr);
    if (r >= 0) {
        if (addr & 7)
            return false;
        uint64_t bit = (addr - m->region_base[r]) / 8;
        uint8_t *byte = &m->region_bits[r][bit / 8], mask = (uint8_t)(1u << (bit % 8));
        if (*byte & mask)
            return false;
        *byte |= mask;
        return true;
    }
    if (pm_objmap_has(m, addr))
        return false;
    if ((m->outside_n + 1) * 2 > m->outside_cap && !grow_outside(m))
        return false;
    size_t j = slot(addr, m->outside_cap);
    while (m->outside[j])
        j = (j + 1) & (m->outside_cap - 1);
    m->outside[j] = addr;
    m->outside_n++;
    return true;
}

bool pm_objmap_pend(pm_objmap *m, uint64_t addr, bool *nomem)
{
    long a = pm_objmap_arena(m, addr);
    if (a < 0 || (addr & 15))
        return false;
    size_t bytes = m->arena_size / 16 / 8;
    if (!m->pending && !(m->pending = calloc(m->narenas, sizeof *m->pending)))
        return !(*nomem = true);
    if (!m->pending[a] && !(m->pending[a] = calloc(bytes, 1)))
        return !(*nomem = true);
    uint64_t bit = (addr - m->arena_base[a]) / 16;
    m->pending[a][bit / 8] |= (uint8_t)(1u << (bit % 8));
    return true;
}

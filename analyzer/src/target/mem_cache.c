/* Reads from a live target (a process, or a debugger's inferior) go through
 * a direct-mapped cache of fixed-size chunks, so a walk that touches millions
 * of objects costs one read per chunk, not one per object. Which pages of a
 * chunk could be read is remembered, so an unmapped page is never served as
 * zeros. */
#include <stdlib.h>
#include <string.h>

#include "target_live.h"

enum { PAGE = 4096, PAGES = 4, CHUNK = PAGE * PAGES, SLOTS = 2048 }; /* 32 MiB at most */

typedef struct chunk {
    uint64_t base;   /* chunk address + 1; 0 = empty */
    uint8_t page_ok; /* bit i: page i was read */
    unsigned char *data;
} chunk;

struct pm_mem_cache {
    chunk slots[SLOTS];
};

void pm_mem_cache_free(pm_mem_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        free(c->slots[i].data);
    free(c);
}

void pm_mem_cache_flush(pm_mem_cache *c)
{
    for (size_t i = 0; c && i < SLOTS; i++)
        c->slots[i].base = 0;
}

static const chunk *fetch(pm_mem_cache **cache, const pm_reader *r, uint64_t base)
{
    if (!*cache && !(*cache = calloc(1, sizeof **cache)))
        return NULL;
    chunk *c = &(*cache)->slots[(base / CHUNK) % SLOTS];
    if (c->base == base + 1)
        return c;
    if (!c->data && !(c->data = malloc(CHUNK)))
        return NULL;
    c->base = base + 1;
    c->page_ok = 0;
    if (r->read(r->ctx, base, c->data, CHUNK)) {
        c->page_ok = (1u << PAGES) - 1;
    } else {
        /* the chunk straddles the end of a mapping: page by page */
        for (unsigned p = 0; p < PAGES; p++)
            if (r->read(r->ctx, base + p * PAGE, c->data + p * PAGE, PAGE))
                c->page_ok |= (uint8_t)(1u << p);
    }
    return c;
}

bool pm_mem_cache_read(pm_mem_cache **cache, const pm_reader *r, uint64_t addr, void *buf,
                       size_t len)
{
    unsigned char *dst = buf;
    while (len) {
        uint64_t base = addr & ~(uint64_t)(CHUNK - 1), off = addr - base;
        size_t n = CHUNK - off < len ? CHUNK - off : len;
        const chunk *c = fetch(cache, r, base);
        if (!c)
            return false;
        for (uint64_t p = off / PAGE; p <= (off + n - 1) / PAGE; p++)
            if (!(c->page_ok >> p & 1))
                return false;
        memcpy(dst, c->data + off, n);
        dst += n;
        addr += n;
        len -= n;
    }
    return true;
}

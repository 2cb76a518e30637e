/* What the live kinds share (a process: target_proc.c; a debugger's inferior
 * or a bare reader: target_host.c): memory read through a callback and a
 * cache, and an address map without bytes. Internal to the target layer. */
#ifndef PYMAC_TARGET_LIVE_H
#define PYMAC_TARGET_LIVE_H

#include "target_core.h"

/* ---- reads from live targets (mem_cache.c) ---- */

typedef struct pm_mem_cache pm_mem_cache;
/* Reads through the cache at *cache (made on first use) from r. */
bool pm_mem_cache_read(pm_mem_cache **cache, const pm_reader *r, uint64_t addr, void *buf,
                       size_t len);
void pm_mem_cache_flush(pm_mem_cache *c);
void pm_mem_cache_free(pm_mem_cache *c);

/* The first member of each live kind's own struct. */
typedef struct pm_live {
    pm_reader reader;
    pm_mem_cache *cache;
    pm_core map; /* mapped ranges, files, threads, execfn: a core with no bytes */
} pm_live;

/* The ops the live kinds share (t->impl starts with a pm_live). */
bool pm_live_read(pm_target *t, uint64_t addr, void *buf, size_t len);
bool pm_live_mapped(pm_target *t, uint64_t addr);
const pm_segment *pm_live_ranges(const pm_target *t, size_t *n);
const pm_mapped_file *pm_live_files(const pm_target *t, size_t *n);
unsigned pm_live_threads(const pm_target *t);
void pm_live_about(const pm_target *t, pm_target_about *out);
void pm_live_flush(pm_target *t);
/* Frees what the pm_live holds (not the struct). */
void pm_live_release(pm_live *l);

#endif

/* pymalloc helpers shared by the walk and the views. */
#ifndef PYMAC_OBMALLOC_H
#define PYMAC_OBMALLOC_H

#include "layout.h"

/* Fills one pool from its header bytes (pool_header_size of them at hdr).
 * Returns false, with the reason in why, when the header is nonsense. */
bool pm_decode_pool(const pymac_pymalloc *h, const pm_layout *L, const void *hdr, uint64_t addr,
                    pymac_pool *p, char *why, size_t whycap);

/* The decoded pool of arena a that starts at pool_addr, or NULL. The walk
 * leaves out pools whose header is unreadable or corrupt, so a pool is found
 * by its address (the arena's pools are in address order), not by position. */
const pymac_pool *pm_pymalloc_pool(const pymac_pymalloc *h, const pymac_arena *a, uint64_t pool_addr);

/* Walks the free list of a used pool. Marks is_free[i] (blocks_total entries,
 * may be NULL) for each block on it and returns the chain length in
 * *chain_len. PYMAC_E_CORRUPT if the list leaves the pool or loops. Note the
 * chain's last element may be the first never-used block, which CPython links
 * with a NULL next pointer. */
pymac_status pm_pool_free_list(pymac_session *s, const pymac_pymalloc *h, const pymac_pool *p,
                               uint8_t *is_free, uint32_t *chain_len);

#endif

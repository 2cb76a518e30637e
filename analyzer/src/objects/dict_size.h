/* sys.getsizeof of a dict or dict subclass instance (dict_size.c). */
#ifndef PYMAC_DICT_SIZE_H
#define PYMAC_DICT_SIZE_H

#include "dwarf_types.h"
#include "pm.h"

typedef struct pm_dict_size_layout {
    pm_field ma_keys, ma_values, dk_refcnt, dk_nentries, dk_usable;
    pm_field dk_size;                                   /* <= 3.10 */
    pm_field dk_log2_size, dk_log2_index_bytes, dk_kind; /* 3.11+ */
    uint32_t keys_size, entry_size, unicode_entry_size;
} pm_dict_size_layout;

struct pm_object;
void pm_dict_size_resolve(pymac_session *s, pm_dict_size_layout *L);
/* 0 when the dict's tables cannot be read. */
uint64_t pm_dict_sizeof(pymac_session *s, const pm_dict_size_layout *L, const struct pm_object *o);

#endif

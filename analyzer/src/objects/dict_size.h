/* sys.getsizeof of a dict or dict subclass instance (dict_size.c). */
#ifndef PYMAC_DICT_SIZE_H
#define PYMAC_DICT_SIZE_H

#include "pm.h"
#include "value_layout.h" /* pm_dict_size_layout */

struct pm_object;
void pm_dict_size_resolve(pymac_session *s, pm_dict_size_layout *L);
/* 0 when the dict's tables cannot be read. */
uint64_t pm_dict_sizeof(pymac_session *s, const pm_dict_size_layout *L, const struct pm_object *o);

#endif

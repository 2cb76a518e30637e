/* Short, safe renderings of common values (str, int, float, containers...). */
#ifndef PYMAC_VALUE_H
#define PYMAC_VALUE_H

#include "object.h"

/* Writes a short repr-like text of o into buf (always NUL-terminated).
 * Never follows a pointer it has not checked; truncates with "...". */
void pm_value_repr(pymac_session *s, const pm_object *o, char *buf, size_t cap);

/* sys.getsizeof() of str, list, set and frozenset, whose __sizeof__ counts
 * their buffers; 0 for types that follow the generic rule. */
uint64_t pm_value_sizeof(pymac_session *s, const pm_object *o);

/* The whole text of the str object at addr, as UTF-8, into buf (cap bytes
 * with the NUL); false if it is not a readable str that fits. */
bool pm_str_utf8(pymac_session *s, uint64_t addr, char *buf, size_t cap);

#endif

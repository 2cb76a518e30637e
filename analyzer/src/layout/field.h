/* A member of a CPython struct, as every layout source gives it: where it is
 * and how wide, nothing of where the answer came from. */
#ifndef PYMAC_FIELD_H
#define PYMAC_FIELD_H

#include <stdbool.h>
#include <stdint.h>

/* A resolved struct member: offset from the start of the outer struct and
 * the byte size of the member. */
typedef struct pm_field {
    int32_t off;
    uint32_t size;
    bool ok;
    uint8_t bit_off, bit_size; /* bit_size != 0: a bitfield at bit bit_off of the byte at off */
} pm_field;

/* Value of a field (bitfields included) from a buffer holding the struct. */
uint64_t pm_field_get(const void *base, const pm_field *f);

#endif

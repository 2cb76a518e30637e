/* A second CU with its own `struct dup_type`, for the anchor lookups. */
#include "layout_sample.h"

struct dup_type {
    DUP_TYPE_BODY_2
};

long layout_sample2_use(struct dup_type *dup);

long layout_sample2_use(struct dup_type *dup)
{
    return dup->a + dup->b + dup->c;
}

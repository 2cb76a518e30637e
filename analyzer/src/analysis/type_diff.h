/* Two censuses of the same program compared per type name (same-named types
 * add up), for `diff` and for `leaks --baseline`'s growth. */
#ifndef PYMAC_TYPE_DIFF_H
#define PYMAC_TYPE_DIFF_H

#include "pm.h"

typedef struct pm_diff_row {
    const char *name;           /* points into the diff's own copies of the rows */
    int64_t count[2], bytes[2]; /* [0] old, [1] new */
} pm_diff_row;

typedef struct pm_type_diff {
    pm_diff_row *rows; /* by bytes grown, then objects grown, then name */
    size_t n;
    pymac_type_count *sorted[2];
} pm_type_diff;

pymac_status pm_type_diff_build(const pymac_census *old, const pymac_census *new_,
                                pm_type_diff *d, pymac_error *err);
void pm_type_diff_free(pm_type_diff *d);

#endif

/* Built with -g -O0 into a shared object whose DWARF test_dwarf.c reads. */
#include "layout_sample.h"

struct dup_type {
    DUP_TYPE_BODY_1
};

size_t layout_sample_use(struct _obmalloc_state *st, struct pool_header *ph,
                         PyASCIIObject_sample *str, struct anon_bits *ab, struct flex_sample *fx,
                         arena_coverage_t *cov, cv_coverage_t *cv, struct dup_type *dup);

/* Uses every type so that the compiler keeps its DWARF. */
size_t layout_sample_use(struct _obmalloc_state *st, struct pool_header *ph,
                         PyASCIIObject_sample *str, struct anon_bits *ab, struct flex_sample *fx,
                         arena_coverage_t *cov, cv_coverage_t *cv, struct dup_type *dup)
{
    poolp p = ph;
    return st->mgmt.maxarenas + p->szidx + str->state.kind + ab->hi + (size_t)fx->n +
           (size_t)cov->tail_lo + (size_t)cv->tail_hi + (size_t)dup->a;
}

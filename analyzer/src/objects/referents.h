/* What an object refers to, decoded by type. */
#ifndef PYMAC_REFERENTS_H
#define PYMAC_REFERENTS_H

#include "object.h"

/* One edge: `via` says how (e.g. "[3]", "['key']", ".attr", ".__code__").
 * conservative: found by scanning memory of a type pymac cannot decode.
 * Return false to stop. */
typedef bool (*pm_ref_fn)(void *ctx, uint64_t target, const char *via, bool conservative);

/* Calls fn for each referent of o. Bounded: at most `limit` edges
 * (0 = a built-in bound). PYMAC_PARTIAL, with a warning, when o's length is
 * damaged (a list longer than its allocated slots, a tuple whose items would
 * leave mapped memory) and its items were not read. */
pymac_status pm_referents(pymac_session *s, const pm_object *o, pm_ref_fn fn, void *ctx,
                          size_t limit);

/* PM_REFS_EXACT: one edge per reference o itself holds (an instance's
 * attributes in its __dict__ are the dict's edges, not the instance's), for
 * the graph. PM_REFS_NO_LABELS: `via` is empty (faster, for counting). */
enum { PM_REFS_EXACT = 1, PM_REFS_NO_LABELS = 2 };
pymac_status pm_referents_ex(pymac_session *s, const pm_object *o, pm_ref_fn fn, void *ctx,
                             size_t limit, int flags);

/* Iterates a dict's (key, value) pairs. */
typedef bool (*pm_dict_fn)(void *ctx, uint64_t key, uint64_t value);
bool pm_dict_items(pymac_session *s, uint64_t dict, pm_dict_fn fn, void *ctx);

#endif

"""Checks that fail today for a reason an open issue owns.

A listed check still runs in full. When it fails with the listed message, the
test prints "known gap (issue N): ..." with the reason and ends as skipped
(exit 77), so every run shows the gap and its owner; any other failure fails
as usual, and a listed check that passes passes (then remove its entry).
An entry names one test exactly, and the failure's message: a new failure
elsewhere, or another failure of a listed test, is never hidden.
"""
import re

GAPS = {}

# Debian 3.11 with numpy: 16 to 39 tuples of argument names (('seed', 'bg_type'),
# ('args', 'kwargs')...) with refcount 1 and no pointer to them anywhere in the
# core, not even inside another word: built by numpy's Cython modules at import
# (mtrand.pyx's code objects take their names from such tuples), probably held
# by file statics the compiler never stored. Not yet told from a leak. Issue 15
# ("false suspects on real heaps").
_CYTHON = (15, r"unexplained tuple: (3[3-9]|[4-9]\d) objects, more than the clean threshold",
           "numpy's Cython argument-name tuples, which no word in the core points at")
for _kind in ("gcore", "kernel"):
    GAPS["debian-3.11/reallib/%s/leaks_real" % _kind] = _CYTHON


def known_gap(name, message):
    """The gap's line for a failure of test name with message, or None."""
    gap = GAPS.get(name)
    if not gap or not re.search(gap[1], message):
        return None
    return "known gap (issue %d): %s: %s; the check says: %s" % (gap[0], name, gap[2], message)

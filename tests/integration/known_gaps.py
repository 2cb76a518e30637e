"""Checks that fail today for a reason an open issue owns.

A listed check still runs in full. When it fails with the listed message, the
test prints "known gap (issue N): ..." with the reason and ends as skipped
(exit 77), so every run shows the gap and its owner; any other failure fails
as usual, and a listed check that passes passes (then remove its entry).
An entry names one test exactly, and the failure's message: a new failure
elsewhere, or another failure of a listed test, is never hidden.
"""
import re

GAPS = {}  # name -> (issue, message pattern, reason); none open today


def known_gap(name, message):
    """The gap's line for a failure of test name with message, or None."""
    gap = GAPS.get(name)
    if not gap or not re.search(gap[1], message):
        return None
    return "known gap (issue %d): %s: %s; the check says: %s" % (gap[0], name, gap[2], message)

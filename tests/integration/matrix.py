#!/usr/bin/env python3
"""Prints the version matrix from the results the integration checks left:
one row per interpreter, one column per scenario x core kind.
Exits 1 when no interpreter was exercised or any check failed."""
import collections
import os
import sys


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    results = os.path.join(build, "results")
    if not os.path.isdir(results):
        print("version matrix: no results in %s (no integration test ran)" % results)
        return 1
    cells = collections.defaultdict(lambda: collections.defaultdict(dict))
    versions, missing = {}, {}
    for fn in sorted(os.listdir(results)):
        parts = fn[:-4].split("__")
        verdict = open(os.path.join(results, fn)).read().strip()
        if parts[0] == "interp":
            missing[parts[1]] = verdict
            continue
        if len(parts) != 4:
            continue
        label, scenario, kind, check = parts
        cells[label]["%s/%s" % (scenario, kind)][check] = verdict.split()[0]
        if verdict.startswith("pass"):
            versions[label] = verdict.split()[1]
    columns = sorted({c for row in cells.values() for c in row})
    print("\nversion matrix (checks passed per core)")
    print("%-14s %-9s " % ("interpreter", "version") + " ".join("%-16s" % c for c in columns))
    failed = 0
    for label in sorted(cells):
        row = []
        for c in columns:
            checks = cells[label].get(c, {})
            bad = sorted(k for k, v in checks.items() if v == "fail")
            skipped = [k for k, v in checks.items() if v == "skip"]
            failed += len(bad)
            if bad:
                row.append("FAIL " + ",".join(bad))
            elif checks and len(skipped) == len(checks):
                row.append("skip")
            else:
                row.append("%d/%d ok" % (sum(v == "pass" for v in checks.values()), len(checks)))
        print("%-14s %-9s " % (label, versions.get(label, "?")) +
              " ".join("%-16s" % r for r in row))
    for label, why in sorted(missing.items()):
        print("%-14s %-9s skipped: %s" % (label, "-", why))
    if not versions:
        print("version matrix: no interpreter was exercised")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

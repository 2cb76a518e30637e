#!/usr/bin/env python3
"""The table-equality test: every committed layout table against the DWARF
of every build with DWARF on this machine (tools/gen-layout-tables/
interpreters.py finds them; PYTHONs given are added). Fails on any fact that
differs, and on a build no table covers.

  check_tables.py GEN [PYTHON...]        GEN = the gen-layout-tables binary"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    gen, extra = sys.argv[1], [p for p in sys.argv[2:] if os.path.exists(p)]
    for p in sys.argv[2:]:
        if p not in extra:
            print("skip %s: not present" % p)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen-layout-tables",
                                                     "interpreters.py"), *extra],
                       capture_output=True, text=True)
    sys.stdout.write(p.stderr)
    builds = [line.split()[1] for line in p.stdout.splitlines()]
    if not builds:
        print("skip: no CPython build with DWARF found")
        return 77
    r = subprocess.run([gen, "check", *builds], capture_output=True, text=True)
    sys.stdout.write(r.stdout + r.stderr)
    print("%d builds checked against the committed tables" % len(builds))
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())

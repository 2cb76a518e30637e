#!/usr/bin/env python3
"""The key list is complete: every view (compare_binaries.views_for) on the
given cores, run with PYMAC_LAYOUT_LOG, asks only for layout facts that
analyzer/src/layout/layout_keys.def lists, so a table (made from that list)
answers everything DWARF answers.

  keys_complete.py CLI COREDIR..."""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from compare_binaries import views_for  # noqa: E402


def listed_keys():
    text = open(os.path.join(ROOT, "analyzer", "src", "layout", "layout_keys.def")).read()
    keys = set()
    for kind, args in re.findall(r'^PM_(SIZE_NEAR|SIZE|MEMBER|ARRAY)\(([^)]*)\)', text, re.M):
        names = re.findall(r'"([^"]*)"', args)
        if kind.startswith("SIZE"):
            keys.add(("s", names[0], "-"))
        else:
            keys.add(("m" if kind == "MEMBER" else "a", names[0], names[1]))
    return keys


def main():
    cli, dirs = sys.argv[1], [d for d in sys.argv[2:] if os.path.exists(os.path.join(d, "core"))]
    if not dirs:
        print("skip: no cores")
        return 77
    keys = listed_keys()
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "lookups")
        env = dict(os.environ, PYMAC_LAYOUT_LOG=log)
        nruns = 0
        for d in dirs:
            for cmd in views_for(d, os.path.dirname(d)):
                subprocess.run([cli] + cmd, capture_output=True, env=env, timeout=900)
                nruns += 1
        seen = {tuple(line.split()) for line in open(log)} if os.path.exists(log) else set()
    types = {k[1] for k in keys}
    # "t TYPE -": the type's existence, which any listed fact of it answers
    missing = sorted(k for k in seen if k not in keys and not (k[0] == "t" and k[1] in types))
    for k in missing:
        print("FAIL: looked up but not in layout_keys.def: %s %s %s" % k)
    print("%d runs on %d cores: %d distinct lookups, %d keys listed, %d missing"
          % (nruns, len(dirs), len(seen), len(keys), len(missing)))
    return 1 if missing or not seen else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The corruption matrix's tracemalloc cases: a core of the traced scenario,
its trace table damaged in one known place per case (corrupt.py's rules:
documented exit codes within the time bound, PARTIAL said when partial, no
files written, the oracle's numbers where the damage is not).

  corrupt_traced.py --cli PATH --python PY --work DIR setup
  corrupt_traced.py --cli PATH --python PY --work DIR CASE

`setup` makes the fixture (make-core, traced scenario, gcore) and finds the
traces table: the variable's address from the interpreter's DWARF through
GDB (tracemalloc_traces, or _PyRuntime.tracemalloc.traces on 3.12+), moved
by the load bias that &_PyRuntime in pymac's info gives; the struct member
offsets likewise from GDB.
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corrupt  # noqa: E402
from corrupt import ANY, PARTIAL, Core, Failure, SKIP, cli_json, expect_view  # noqa: E402


def gdb_values(module, exprs):
    cmds = []
    for e in exprs.values():
        cmds += ["-ex", "print/d (long)(%s)" % e]
    p = subprocess.run(["gdb", "-batch", "-nx", *cmds, module], capture_output=True, text=True,
                       timeout=120)
    vals = [l.split("=", 1)[1].strip() for l in p.stdout.splitlines() if l.startswith("$")]
    if len(vals) != len(exprs):
        raise Failure("gdb gave %d of %d values: %s" % (len(vals), len(exprs), p.stdout + p.stderr))
    return {k: int(v) for k, v in zip(exprs, vals)}


def setup(a):
    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(a.python):
        print("skip: %s is not installed" % a.python)
        return SKIP
    fix = os.path.join(a.work, "fixture")
    p = subprocess.run([corrupt.MAKE_CORE, "--python", a.python, "--scenario", "traced",
                        "--kind", "gcore", "--out", fix], timeout=300)
    if p.returncode:
        return p.returncode
    core = os.path.join(fix, "core")
    info = cli_json(a, "info", "--json", core)
    minor = int(info["python_version"].split(".")[1])
    exprs = {
        "runtime": "&_PyRuntime",
        "traces_var": "&_PyRuntime.tracemalloc.traces" if minor >= 12 else "&tracemalloc_traces",
        "ht_buckets": "&((_Py_hashtable_t *)0)->buckets",
        "ht_nbuckets": "&((_Py_hashtable_t *)0)->%s" % ("num_buckets" if minor == 8 else
                                                         "nbuckets"),
        "entry_size": "sizeof(_Py_hashtable_entry_t)",
        "tr_traceback": "&((trace_t *)0)->traceback",
        "tb_nframe": "&((traceback_t *)0)->nframe",
        "tb_nframe_size": "sizeof(((traceback_t *)0)->nframe)",
    }
    if minor == 8:
        exprs["ht_key_size"] = "&((_Py_hashtable_t *)0)->key_size"
    else:
        exprs["e_value"] = "&((_Py_hashtable_entry_t *)0)->value"
    L = gdb_values(info["python_module"], exprs)
    bias = int(info["runtime_address"], 16) - L["runtime"]
    loc = {"core": core, "minor": minor, "layout": L, "traces_var": L["traces_var"] + bias}
    with open(os.path.join(a.work, "locations.json"), "w") as f:
        json.dump(loc, f)
    print("ok: fixture %s (%s), traces at 0x%x" % (core, info["python_version"],
                                                   loc["traces_var"]))
    return 0


class Ctx(corrupt.Ctx):
    def __init__(self, a):
        super().__init__(a)
        self.minor = self.loc["minor"]

    def table(self, core):
        """(table, buckets, nbuckets) of the traces table."""
        ht = core.u(self.loc["traces_var"])
        return (ht, core.u(ht + self.L["ht_buckets"]), core.u(ht + self.L["ht_nbuckets"]))

    def entries(self, core, n):
        """The first n entries of the table, bucket by bucket."""
        ht, buckets, nbuckets = self.table(core)
        out = []
        for b in range(nbuckets):
            e = core.u(buckets + 8 * b)
            while e and len(out) < n:
                out.append(e)
                e = core.u(e)  # _Py_slist_item.next comes first
            if len(out) == n:
                break
        return out

    def trace_of(self, core, entry):
        """Where the entry's trace_t is."""
        if self.minor == 8:
            ht = self.table(core)[0]
            return entry + self.L["entry_size"] + core.u(ht + self.L["ht_key_size"])
        return core.u(entry + self.L["e_value"])


TM_VIEWS = [["tracemalloc"], ["tracemalloc", "--key-type", "traceback"],
            ["tracemalloc", "--cumulative"]]


def damaged(c, core, name, label, also=()):
    path = core.write(c.out(name))
    for v in TM_VIEWS:
        rc = expect_view(c.a, path, v, {PARTIAL}, label)[0]
        if rc != PARTIAL:
            raise Failure("%s: %s gave %d, want 1 (the damage is in the traces)" % (label, v, rc))
    # what does not read the traces keeps the oracle's numbers
    c.gc_exact(path)
    marked = c.marked("record")
    expect_view(c.a, path, ["object", hex(marked)], ANY, label)
    for v in also:  # the suspects' allocation sites come from the damaged traces
        expect_view(c.a, path, v, {PARTIAL}, label)


def case_tm_chain_loop(c):
    """An entry whose next points at itself."""
    core = c.core()
    e = c.entries(core, 1)[0]
    core.put(e, e)
    damaged(c, core, "tm_chain_loop", "traces entry 0x%x looping on itself" % e, [["leaks"]])


def case_tm_buckets_unmapped(c):
    core = c.core()
    ht = c.table(core)[0]
    core.put(ht + c.L["ht_buckets"], corrupt.unmapped_address(core))
    damaged(c, core, "tm_buckets_unmapped", "traces table 0x%x with unmapped buckets" % ht)


def case_tm_buckets_random(c):
    core = c.core()
    ht, buckets, nbuckets = c.table(core)
    rnd = random.Random(16)
    n = min(nbuckets, 512)
    core.put_bytes(buckets, bytes(rnd.randrange(256) for _ in range(8 * n)))
    damaged(c, core, "tm_buckets_random", "traces table 0x%x, %d buckets random" % (ht, n))


def case_tm_traceback_nframe(c):
    """Every traceback of the first 50 traces claims 65535 frames."""
    core = c.core()
    size = c.L["tb_nframe_size"]
    for e in c.entries(core, 50):
        tb = core.u(c.trace_of(core, e) + c.L["tr_traceback"])
        core.put(tb + c.L["tb_nframe"], (1 << (8 * size)) - 1, size)
    damaged(c, core, "tm_traceback_nframe", "50 tracebacks of 65535 frames")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    return corrupt.run(CASES, setup, Ctx)


if __name__ == "__main__":
    sys.exit(main())

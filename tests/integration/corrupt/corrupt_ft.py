#!/usr/bin/env python3
"""The corruption matrix's free-threaded cases (issue 14): a kernel core of the
small scenario under a free-threaded interpreter, its mimalloc heap damaged in
one known place per case, under corrupt.py's rules (exit codes documented,
PARTIAL said, 5 s of CPU per view, no files written, and what does not walk
the damage keeps the oracle's numbers).

  corrupt_ft.py --cli PATH --python PY --work DIR setup
  corrupt_ft.py --cli PATH --python PY --work DIR CASE

Pages are located through pymac's own pools --json (only to locate: a page of
the object heap, which the GC views do not walk), mi_page_t's member offsets
come from the interpreter's DWARF through GDB. The damaged copies keep the
kernel core's holes (cp --sparse=always): the mimalloc reservation is 1 GiB.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corrupt  # noqa: E402
from corrupt import ANY, PARTIAL, Core, Failure, SKIP, cli_json, need_partial, views  # noqa: E402
from corrupt_traced import gdb_values  # noqa: E402

PAGE_EXPRS = {
    "pg_capacity": "&((mi_page_t *)0)->capacity",
    "pg_reserved": "&((mi_page_t *)0)->reserved",
    "pg_free": "&((mi_page_t *)0)->free",
    "pg_next": "&((mi_page_t *)0)->next",
}
# what walks the heap's pages, and what walks only the GC heaps
HEAP_VIEWS = [["arenas"], ["pools"], ["types"]]
GC_VIEWS = [["gc"], ["types", "--gc-only"]]


class SparseCore(Core):
    def write(self, path, tail=b"", cut=None):
        subprocess.run(["cp", "--sparse=always", self.path, path], check=True)
        with open(path, "r+b") as f:
            for off, b in self.patches.items():
                f.seek(off)
                f.write(b)
        return path


def setup(a):
    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(a.python):
        print("skip: %s is not installed" % a.python)
        return SKIP
    fix = os.path.join(a.work, "fixture")
    p = subprocess.run([corrupt.MAKE_CORE, "--python", a.python, "--scenario", "small",
                        "--kind", "kernel", "--out", fix], timeout=300)
    if p.returncode:
        return p.returncode
    core = os.path.join(fix, "core")
    info = cli_json(a, "info", "--json", core)
    if info["allocator"] != "mimalloc":
        raise Failure("%s is not a free-threaded build" % a.python)
    loc = {"core": core, "layout": gdb_values(info["python_module"], PAGE_EXPRS),
           "pages": cli_json(a, "pools", "--json", core)["pages"]}
    with open(os.path.join(a.work, "locations.json"), "w") as f:
        json.dump(loc, f)
    print("ok: fixture %s (%s), %d pages, layout %s" % (core, info["python_version"],
                                                         len(loc["pages"]), loc["layout"]))
    return 0


class Ctx(corrupt.Ctx):
    def core(self):
        return SparseCore(self.loc["core"])

    def object_page(self, min_free=0):
        """A page of the main thread's object heap (no GC view walks it)."""
        for p in self.loc["pages"]:
            if p["heap"] == "object" and not p["abandoned"] and p["free"] >= min_free \
                    and p["blocks_in_use"] > 0:
                return p
        raise Failure("no object-heap page with %d blocks on its free list" % min_free)

    def gc_views_exact(self, path, label):
        """The GC views walk the GC heaps only: the oracle's numbers. They may
        say partial (one walk finds every heap's pages, and it met damage)."""
        views(self, path, label, ANY, GC_VIEWS)
        g = cli_json(self.a, "gc", "--json", path)
        got = [x["objects"] for x in g["generations"]]
        want = self.oracle["gc"]["generations"]
        if got != want or g["permanent"]["objects"] != self.oracle["gc"]["permanent"]:
            raise Failure("%s: gc lists %s, oracle %s" % (label, got, want))
        print("ok gc generations equal the oracle: %s" % got)
        got = {}  # types of one name (each ctypes class has its own) summed, as gc sees them
        for r in cli_json(self.a, "types", "--gc-only", "--json", path):
            got[r["type"]] = got.get(r["type"], 0) + r["count"]
        if got != self.oracle["gc_census"]:
            raise Failure("%s: the --gc-only census differs from gc.get_objects()" % label)
        print("ok the --gc-only census equals gc.get_objects()")


def damaged(c, core, name, label):
    path = core.write(c.out(name))
    need_partial(views(c, path, label, {PARTIAL}, HEAP_VIEWS), ["arenas", "pools", "types"],
                 label)
    c.gc_views_exact(path, label)
    # (leaks reads the whole 1 GiB reservation of the sparse copy: its
    # 2.7-5 s of CPU here, most of it page faults, is no measure of the damage)
    views(c, path, label, ANY, [["objects", "--limit", "20"], ["stats"]])


def case_mi_capacity(c):
    """A page claims 65,535 blocks, more than its area holds."""
    core = c.core()
    p = c.object_page()
    addr = int(p["address"], 16)
    core.put(addr + c.L["pg_capacity"], 0xffff, 2)
    core.put(addr + c.L["pg_reserved"], 0xffff, 2)
    damaged(c, core, "mi_capacity", "page 0x%x of capacity 65535" % addr)


def case_mi_freelist_loop(c):
    """A page's free list: its second block points back at the first."""
    core = c.core()
    p = c.object_page(min_free=2)
    addr = int(p["address"], 16)
    head = core.u(addr + c.L["pg_free"])
    second = core.u(head)  # mi_block_t.next comes first (free lists not encoded)
    if not second:
        raise Failure("page 0x%x: free list too short to loop" % addr)
    core.put(second, head)
    damaged(c, core, "mi_freelist_loop", "free list of page 0x%x looping at 0x%x"
            % (addr, second))


def case_mi_page_unmapped(c):
    """A page queue's link leads out of the core."""
    core = c.core()
    p = c.object_page()
    addr = int(p["address"], 16)
    core.put(addr + c.L["pg_next"], corrupt.unmapped_address(core))
    damaged(c, core, "mi_page_unmapped", "page 0x%x linked to an unmapped page" % addr)


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    return corrupt.run(CASES, setup, Ctx)


if __name__ == "__main__":
    sys.exit(main())

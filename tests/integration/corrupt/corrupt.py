#!/usr/bin/env python3
"""The corruption matrix: a small fixture core, damaged in one known place per
case, must never make pymac crash, hang, write files or lie.

  corrupt.py --cli PATH --python PY --work DIR [--root ROOT] setup
  corrupt.py --cli PATH --python PY --work DIR [--root ROOT] CASE

With --stripped, the fixture runs on a stripped copy of PY
(tests/integration/stripped/make_stripped.py, as slim container images ship
it): pymac reads it with its layout tables (setup checks that `info` says so),
and the offsets the corrupter needs come from the original build's DWARF.

With --root, PY is a path inside ROOT (a Debian root of the newest suite, as
fixtures/roots/make-sid-root makes it): the fixture runs there as in a
container, and pymac reads its core with --sysroot ROOT, GDB with its sysroot.

`setup` makes the fixture core (fixtures/make-core, small scenario, gcore) and
records where the structures are: addresses from pymac's own JSON views (used
only to locate), struct member offsets from the interpreter's DWARF through
GDB (`print &((T *)0)->member`), file offsets from the core's PT_LOAD program
headers. Each CASE writes its damaged copy into DIR and runs the views that
walk the damage, each under a 5 s timeout, in an empty working directory:
  - no signal death, no hang;
  - exit 0 or 1 only where allowed; 1 (partial) only with PARTIAL or warning
    lines in the output; any error code must be one the case allows, with one
    `pymac-analyze: <what>; <fix>` line on stderr;
  - the working directory, HOME and TMPDIR (empty directories) stay empty;
  - the views that do not touch the damage still give the oracle's numbers
    (stats byte for byte, GC list lengths, the --gc-only census).
Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import json
import mmap
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CORE = os.path.join(HERE, "..", "..", "..", "fixtures", "make-core")
MAKE_STRIPPED = os.path.join(HERE, "..", "stripped", "make_stripped.py")
TIME_LIMIT = float(os.environ.get("PYMAC_CORRUPT_TIME_LIMIT", "5"))  # CPU seconds per view
# Exit codes (README.md, pymac.h).
OK, PARTIAL, TRUNCATED, MISMATCH, ADDRESS, CORRUPT = 0, 1, 5, 8, 10, 11

# Offsets and sizes the corrupter needs, as GDB expressions on the DWARF.
DWARF_EXPRS = {
    "ao_size": "sizeof(struct arena_object)",
    "ao_address": "&((struct arena_object *)0)->address",
    "ao_ntotalpools": "&((struct arena_object *)0)->ntotalpools",
    "ao_nextarena": "&((struct arena_object *)0)->nextarena",
    "ph_count": "&((struct pool_header *)0)->ref.count",
    "ph_freeblock": "&((struct pool_header *)0)->freeblock",
    "ph_nextoffset": "&((struct pool_header *)0)->nextoffset",
    "gc_size": "sizeof(PyGC_Head)",
    "gc_next": "&((PyGC_Head *)0)->_gc_next",
    "gc_prev": "&((PyGC_Head *)0)->_gc_prev",
    "ob_type": "&((PyObject *)0)->ob_type",
    "ob_size": "&((PyVarObject *)0)->ob_size",
    "tp_name": "&((PyTypeObject *)0)->tp_name",
}


class Failure(Exception):
    pass


# ---- the core as a file: PT_LOAD segments ----

class Core:
    """The pristine core, mapped read-only; damage is a set of byte patches
    applied to a copy (the kernel copies the file: the suite stays fast)."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, "rb")
        self.data = mmap.mmap(self.file.fileno(), 0, prot=mmap.PROT_READ)
        self.patches = {}
        d = self.data
        if d[:4] != b"\x7fELF":
            raise Failure("%s is not ELF" % path)
        self.phoff, = struct.unpack_from("<Q", d, 32)
        self.phentsize, self.phnum = struct.unpack_from("<HH", d, 54)
        self.segs = []  # (index, type, offset, vaddr, filesz, memsz)
        for i in range(self.phnum):
            o = self.phoff + i * self.phentsize
            p_type, _, p_offset, p_vaddr, _, p_filesz, p_memsz = struct.unpack_from("<IIQQQQQ", d, o)
            self.segs.append((i, p_type, p_offset, p_vaddr, p_filesz, p_memsz))

    def loads(self):
        return [s for s in self.segs if s[1] == 1 and s[4]]

    def offset(self, addr, n=8):
        """File offset of addr..addr+n, which the core must hold."""
        for _, _, off, va, fsz, _ in self.loads():
            if va <= addr and addr + n <= va + fsz:
                return off + addr - va
        raise Failure("0x%x is not in the core's data" % addr)

    def mapped(self, addr):
        return any(va <= addr < va + msz for _, t, _, va, _, msz in self.segs if t == 1)

    def u(self, addr, size=8):
        """The pristine value at addr (patches are not seen)."""
        o = self.offset(addr, size)
        return int.from_bytes(self.data[o:o + size], "little")

    def put_bytes(self, addr, b):
        self.patches[self.offset(addr, len(b))] = bytes(b)

    def put(self, addr, value, size=8):
        self.put_bytes(addr, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    def find(self, needle):
        """Every address where the core's data holds needle."""
        hits = []
        for _, _, off, va, fsz, _ in self.loads():
            i = self.data.find(needle, off, off + fsz)
            while i >= 0:
                hits.append(va + i - off)
                i = self.data.find(needle, i + 1, off + fsz)
        return hits

    def write(self, path, tail=b"", cut=None):
        """The damaged copy: the file, the patches (file offsets), then tail
        appended and the result cut at `cut` bytes."""
        shutil.copyfile(self.path, path)
        with open(path, "r+b") as f:
            for off, b in self.patches.items():
                f.seek(off)
                f.write(b)
            if tail:
                f.seek(0, os.SEEK_END)
                f.write(tail)
            if cut is not None:
                f.truncate(cut)
        return path


def unmapped_address(core):
    """An 8-aligned address no segment covers, near the heap so it looks plausible."""
    top = max(va + msz for _, t, _, va, _, msz in core.segs if t == 1)
    for cand in (0x1000, 0x10000000, top + 0x100000):
        if not core.mapped(cand):
            return cand
    raise Failure("no unmapped address found")


# ---- running pymac ----

def run_cli(a, args, timeout=None):
    """Runs pymac in an empty directory, with HOME and TMPDIR empty directories
    too, which must all stay empty; returns (rc, stdout, stderr, CPU seconds)."""
    with tempfile.TemporaryDirectory(prefix="pymac-corrupt-") as top:
        dirs = {k: os.path.join(top, k) for k in ("cwd", "home", "tmp")}
        for d in dirs.values():
            os.mkdir(d)
        env = dict(os.environ, HOME=dirs["home"], TMPDIR=dirs["tmp"])
        # The bound is on CPU time (this machine may be shared: wall time
        # would measure the neighbours); a hang is caught by a wall clock of
        # 12 times as long.
        limit = timeout or TIME_LIMIT
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        root = getattr(a, "root", None)   # corrupt_traced.py has no --root
        if root:
            args = ["--sysroot", root, *args]
        try:
            p = subprocess.run([a.cli, *args], capture_output=True, text=True, cwd=dirs["cwd"],
                               env=env, timeout=12 * limit, errors="replace")
        except subprocess.TimeoutExpired:
            raise Failure("%s: no answer within %.0f s (a hang or an unbounded walk)"
                          % (" ".join(args), 12 * limit))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        took = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if took > limit:
            raise Failure("%s: %.1f s of CPU, over the %.0f s bound" % (" ".join(args), took, limit))
        for k, d in dirs.items():
            if os.listdir(d):
                raise Failure("%s wrote into its %s: %s" % (" ".join(args), k, os.listdir(d)))
    return p.returncode, p.stdout, p.stderr, took


def cli_json(a, *args):
    rc, out, err, _ = run_cli(a, [*args], timeout=60)
    if rc not in (OK, PARTIAL):
        raise Failure("%s: exit %d: %s" % (" ".join(args), rc, err))
    return json.loads(out)


def expect_view(a, core, view, allowed, label, opts=()):
    """One view on a damaged core: allowed exit codes; partial says so; errors are one line."""
    args = [*opts, *view[:1], core, *view[1:]]
    rc, out, err, took = run_cli(a, args)
    what = "%s: %s" % (label, " ".join(view))
    if rc < 0:
        raise Failure("%s: killed by signal %d; stderr: %s" % (what, -rc, err[-2000:]))
    if "runtime error:" in err or "Sanitizer" in err:
        # a sanitizer's exit status may pass for a documented code (UBSan's is 1)
        raise Failure("%s: a sanitizer reported (exit %d): %s" % (what, rc, err[-2000:]))
    if rc not in allowed:
        raise Failure("%s: exit %d, allowed %s; stderr: %s; stdout tail: %s"
                      % (what, rc, sorted(allowed), err[-1500:], out[-800:]))
    if rc == PARTIAL:
        said = "PARTIAL" in out or "warning:" in out or "warning:" in err
        if not said:
            raise Failure("%s: exit 1 but neither PARTIAL nor a warning in the output" % what)
        first = next((l for l in (out + err).splitlines() if l.startswith("warning:")), "")
    elif rc != OK:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("pymac-analyze: "):
            raise Failure("%s: exit %d needs one 'pymac-analyze: ...' line, got %r"
                          % (what, rc, err[-1500:]))
        first = lines[0]
    else:
        first = ""
    print("ok %s: exit %d in %.2fs CPU %s" % (what, rc, took, first[:160]))
    return rc, out, err


# ---- setup: the fixture and where its structures are ----

def gdb_layout(module, root=None):
    cmds = []
    if root:   # a packaged interpreter's DWARF is in -dbg, under the root's /usr/lib/debug
        cmds += ["-iex", "set sysroot " + root,
                 "-iex", "set debug-file-directory " + root + "/usr/lib/debug"]
    for expr in DWARF_EXPRS.values():
        cmds += ["-ex", "print/d (long)(%s)" % expr]
    p = subprocess.run(["gdb", "-batch", "-nx", *cmds, module], capture_output=True, text=True,
                       timeout=120)
    vals = [l.split("=", 1)[1].strip() for l in p.stdout.splitlines() if l.startswith("$")]
    if len(vals) != len(DWARF_EXPRS):
        raise Failure("gdb gave %d of %d layout values: %s" % (len(vals), len(DWARF_EXPRS),
                                                               p.stdout + p.stderr))
    return {k: int(v) for k, v in zip(DWARF_EXPRS, vals)}


def setup(a):
    os.makedirs(a.work, exist_ok=True)
    host_python = (a.root + a.python) if a.root else a.python
    if not os.path.exists(host_python):
        print("skip: %s is not installed" % host_python)
        return SKIP
    fix = os.path.join(a.work, "fixture")
    root_args = ["--root", a.root] if a.root else []
    python = a.python
    if getattr(a, "stripped", False):
        python = subprocess.run([sys.executable, MAKE_STRIPPED, a.python,
                                 os.path.join(a.work, "stripped-python")],
                                capture_output=True, text=True, check=True).stdout.strip()
    p = subprocess.run([MAKE_CORE, "--python", python, "--scenario", "small", "--kind", "gcore",
                        "--out", fix, *root_args], timeout=300)
    if p.returncode:
        return p.returncode
    core = os.path.join(fix, "core")
    info = cli_json(a, "info", "--json", core)
    dwarf_module = info["python_module"]
    if python != a.python:
        if info["layout_source"] == "dwarf":
            raise Failure("the stripped copy %s was read with DWARF (%s)"
                          % (python, info["debuginfo_path"]))
        # the same file name in the original build (bin/ or lib/)
        name = os.path.basename(dwarf_module)
        dwarf_module = os.path.realpath(a.python) if name == os.path.basename(python) else \
            subprocess.run([a.python, "-c", "import sysconfig, os; print(os.path.join("
                            "sysconfig.get_config_var('LIBDIR'), %r))" % name],
                           capture_output=True, text=True, check=True).stdout.strip()
    loc = {"core": core, "module": info["python_module"], "version": info["python_version"],
           "runtime": info["runtime_address"], "layout_source": info["layout_source"],
           "dwarf_module": dwarf_module, "layout": gdb_layout(dwarf_module, a.root)}
    arenas = cli_json(a, "arenas", "--json", core)
    loc["arenas"], loc["arena_size"] = arenas["arenas"], arenas["arena_size"]
    loc["pools"] = cli_json(a, "pools", "--json", core)["pools"]
    with open(os.path.join(a.work, "locations.json"), "w") as f:
        json.dump(loc, f)
    print("ok: fixture %s (%s, layouts from %s), layout %s" % (core, loc["version"],
                                                              loc["layout_source"], loc["layout"]))
    return 0


class Ctx:
    """What a case needs: the pristine core, locations, layout, the oracle."""

    def __init__(self, a):
        path = os.path.join(a.work, "locations.json")
        if not os.path.exists(path):
            print("skip: no fixture (setup skipped or failed)")
            sys.exit(SKIP)
        with open(path) as f:
            self.loc = json.load(f)
        self.a = a
        self.L = self.loc["layout"]
        self.dir = os.path.dirname(self.loc["core"])
        with open(os.path.join(self.dir, "oracle.json")) as f:
            self.oracle = json.load(f)
        with open(os.path.join(self.dir, "mallocstats.txt")) as f:
            self.mallocstats = f.read()

    def core(self):
        return Core(self.loc["core"])

    def out(self, name):
        return os.path.join(self.a.work, name + ".core")

    def marked(self, what):
        return self.oracle["marked"][what]["id"]

    def arena_table(self, core):
        """Address of arenas[0]: the table entry whose address field holds arena 0's
        address and whose neighbours hold the other arenas' addresses."""
        L = self.L
        ar = sorted(self.loc["arenas"], key=lambda x: x["index"])
        first = ar[0]
        hits = core.find(struct.pack("<Q", int(first["address"], 16)))
        for h in hits:
            base = h - L["ao_address"] - first["index"] * L["ao_size"]
            try:
                if all(core.u(base + x["index"] * L["ao_size"] + L["ao_address"]) ==
                       int(x["address"], 16) for x in ar):
                    return base
            except Failure:
                continue
        raise Failure("arena table not found")

    def used_pool(self, min_free=1):
        for p in self.loc["pools"]:
            if p["state"] == "used" and p["blocks_free_listed"] >= min_free:
                return p
        raise Failure("no used pool with %d free-listed blocks" % min_free)

    # oracle checks for the views that do not touch the damage
    def stats_exact(self, path):
        rc, out, err, _ = run_cli(self.a, ["stats", path])
        if rc != OK or out != self.mallocstats:
            raise Failure("stats (exit %d) differs from sys._debugmallocstats(); stderr %s"
                          % (rc, err))
        print("ok stats equals sys._debugmallocstats() byte for byte")

    def gc_exact(self, path):
        g = cli_json(self.a, "gc", "--json", path)
        got = [x["objects"] for x in g["generations"]]
        want = self.oracle["gc"]["generations"]
        if got != want or g["permanent"]["objects"] != self.oracle["gc"]["permanent"] or g["partial"]:
            raise Failure("gc lists %s (permanent %d, partial %s), oracle %s (permanent %d)"
                          % (got, g["permanent"]["objects"], g["partial"], want,
                             self.oracle["gc"]["permanent"]))
        print("ok gc list lengths equal the oracle: %s" % got)


# Each view costs a process and a walk; the suite must stay fast (it runs
# twice in CI), so the costly ones (leaks, objects) run in a few cases only.
HEAP_VIEWS = [["stats"], ["arenas"], ["pools"]]
OBJECT_VIEWS = [["gc"], ["types", "--gc-only"], ["types"]]
WIDE_VIEWS = [["objects", "--limit", "20"], ["leaks"]]
ANY = {OK, PARTIAL}


def views(c, path, label, allowed, which):
    rcs = {}
    for v in which:
        rcs[" ".join(v)] = expect_view(c.a, path, v, allowed, label)[0]
    return rcs


def need_partial(rcs, names, label):
    for n in names:
        if rcs.get(n) != PARTIAL:
            raise Failure("%s: %s gave exit %s, want 1 (the damage is in what it walks)"
                          % (label, n, rcs.get(n)))


# ---- the cases ----

def case_arena_zeroed(c):
    core = c.core()
    table = c.arena_table(core)
    n = max(x["index"] for x in c.loc["arenas"]) + 1
    core.put_bytes(table, bytes(n * c.L["ao_size"]))
    path = core.write(c.out("arena_zeroed"))
    rcs = views(c, path, "zeroed arena table", {PARTIAL, CORRUPT}, HEAP_VIEWS)
    need_partial(rcs, ["arenas", "pools"], "zeroed arena table")
    c.gc_exact(path)
    views(c, path, "zeroed arena table", {PARTIAL, CORRUPT}, OBJECT_VIEWS[1:])


def case_arena_random(c):
    core = c.core()
    table = c.arena_table(core)
    n = max(x["index"] for x in c.loc["arenas"]) + 1
    rnd = random.Random(6)
    core.put_bytes(table, bytes(rnd.randrange(256) for _ in range(n * c.L["ao_size"])))
    path = core.write(c.out("arena_random"))
    rcs = views(c, path, "random arena table", {PARTIAL, CORRUPT}, HEAP_VIEWS + [["report"]])
    need_partial(rcs, ["arenas"], "random arena table")
    c.gc_exact(path)
    views(c, path, "random arena table", {PARTIAL, CORRUPT}, OBJECT_VIEWS[1:] + WIDE_VIEWS)


def case_arena_overlap(c):
    """The highest arena's table entry moved into the lowest arena's span: the
    walk skips it, says which two overlap, and reads every other arena as the
    undamaged core holds it (found by the fuzzer: overlapping entries made
    overlapping heap regions)."""
    core = c.core()
    table = c.arena_table(core)
    by_addr = sorted(c.loc["arenas"], key=lambda x: int(x["address"], 16))
    if len(by_addr) < 2:
        print("skip: the fixture core has one arena")
        sys.exit(SKIP)
    low, victim = by_addr[0], by_addr[-1]
    moved = int(low["address"], 16) + c.loc["arena_size"] // 2  # a whole number of pools
    core.put(table + victim["index"] * c.L["ao_size"] + c.L["ao_address"], moved)
    path = core.write(c.out("arena_overlap"))
    label = "arena %d moved into arena %d" % (victim["index"], low["index"])
    rcs = views(c, path, label, {PARTIAL}, HEAP_VIEWS)
    need_partial(rcs, ["stats", "arenas", "pools"], label)
    j = cli_json(c.a, "arenas", "--json", path)
    want = "arena %d at 0x%x overlaps arena %d at %s; it is skipped" % (
        victim["index"], moved, low["index"], low["address"])
    if want not in j["warnings"] or not j["partial"]:
        raise Failure("%s: warnings %s (partial %s), want %r" % (label, j["warnings"],
                                                                 j["partial"], want))
    got = j["arenas"]
    expect = [x for x in c.loc["arenas"] if x["index"] != victim["index"]]
    if got != expect:
        raise Failure("%s: arenas %s, want the undamaged walk's but arena %d: %s"
                      % (label, got, victim["index"], expect))
    print("ok %s: skipped with a warning, the other %d arenas as undamaged" % (label, len(got)))
    c.gc_exact(path)


def case_arena_list_loop(c):
    """Every allocated arena's nextarena points at itself: usable_arenas loops."""
    core = c.core()
    table = c.arena_table(core)
    for x in c.loc["arenas"]:
        ao = table + x["index"] * c.L["ao_size"]
        core.put(ao + c.L["ao_nextarena"], ao)
    path = core.write(c.out("arena_list_loop"))
    label = "usable_arenas looping"
    rcs = views(c, path, label, {PARTIAL}, HEAP_VIEWS)
    c.gc_exact(path)
    views(c, path, label, {PARTIAL}, OBJECT_VIEWS[1:])


def damage_pool(c, field, value, size, name):
    core = c.core()
    p = c.used_pool()
    addr = int(p["address"], 16)
    core.put(addr + c.L[field], value, size)
    path = core.write(c.out(name))
    label = "pool 0x%x with %s = 0x%x" % (addr, field, value)
    rcs = views(c, path, label, {PARTIAL}, HEAP_VIEWS)
    need_partial(rcs, ["stats", "arenas", "pools"], label)
    # an address in the damaged pool: the corrupt header named, as an error
    views(c, path, label, {CORRUPT}, [["whereis", hex(addr + 64)]])
    c.gc_exact(path)
    need_partial(views(c, path, label, ANY, OBJECT_VIEWS[1:]), ["types"], label)


def case_pool_count(c):
    damage_pool(c, "ph_count", 0xfffffff0, 4, "pool_count")


def case_pool_nextoffset(c):
    damage_pool(c, "ph_nextoffset", 0xfffffff8, 4, "pool_nextoffset")


def case_freelist_loop(c):
    core = c.core()
    p = c.used_pool(min_free=2)
    addr = int(p["address"], 16)
    head = core.u(addr + c.L["ph_freeblock"])
    second = core.u(head)
    if not second:
        raise Failure("pool 0x%x: free list too short to loop" % addr)
    core.put(second, head)  # second -> head: a loop
    path = core.write(c.out("freelist_loop"))
    label = "free list of pool 0x%x looping at 0x%x" % (addr, second)
    rcs = views(c, path, label, ANY, HEAP_VIEWS)
    need_partial(rcs, ["pools"], label)
    c.stats_exact(path)  # stats reads the headers only, which are intact
    c.gc_exact(path)
    need_partial(views(c, path, label, ANY, [["types"]]), ["types"], label)


def gc_node(c, core):
    """The GC head of the marked instance, and the node after it."""
    obj = c.marked("instance")
    head = obj - c.L["gc_size"]
    nxt = core.u(head + c.L["gc_next"]) & ~3
    return head, nxt


def gc_case(c, path, label, wide=False):
    rcs = views(c, path, label, ANY, OBJECT_VIEWS + (WIDE_VIEWS if wide else []))
    need_partial(rcs, ["gc", "types --gc-only", "types"], label)
    c.stats_exact(path)
    views(c, path, label, {OK}, [["arenas"], ["pools"]])


def case_gc_loop(c):
    core = c.core()
    head, nxt = gc_node(c, core)
    # the node after points back to the node before the instance: a loop
    prev = core.u(head + c.L["gc_prev"]) & ~3
    core.put(nxt + c.L["gc_next"], prev | (core.u(nxt + c.L["gc_next"]) & 3))
    path = core.write(c.out("gc_loop"))
    gc_case(c, path, "GC list looping at 0x%x" % nxt)


def case_gc_unmapped(c):
    core = c.core()
    head, _ = gc_node(c, core)
    bad = unmapped_address(core)
    core.put(head + c.L["gc_next"], bad)
    path = core.write(c.out("gc_unmapped"))
    gc_case(c, path, "GC link to unmapped 0x%x" % bad, wide=True)


def case_type_unmapped(c):
    core = c.core()
    obj = c.marked("instance")
    bad = unmapped_address(core)
    core.put(obj + c.L["ob_type"], bad)
    path = core.write(c.out("type_unmapped"))
    label = "ob_type of 0x%x -> unmapped 0x%x" % (obj, bad)
    c.stats_exact(path)
    c.gc_exact(path)
    rcs = views(c, path, label, ANY, OBJECT_VIEWS[1:])
    need_partial(rcs, ["types --gc-only"], label)
    # the GC census is the oracle's, less the damaged instance
    got = {}
    for r in cli_json(c.a, "types", "--gc-only", "--json", path):
        got[r["type"]] = got.get(r["type"], 0) + r["count"]
    want = dict(c.oracle["gc_census"])
    want["SmallThing"] -= 1
    want = {k: v for k, v in want.items() if v}
    if got != want:
        diff = {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}
        raise Failure("%s: --gc-only census differs from the oracle less one: %s" % (label, diff))
    print("ok --gc-only census is the oracle's less the damaged instance")
    rc, out, err = expect_view(c.a, path, ["object", hex(obj)], {ADDRESS}, label)
    if "type pointer is unmapped" not in err:
        raise Failure("%s: the error does not name the unmapped type pointer: %s" % (label, err))
    views(c, path, label, ANY | {ADDRESS, CORRUPT}, [["referrers", hex(obj)], ["path", hex(obj)]])


def case_tp_name_nonul(c):
    """The class's tp_name pointed at 100 letters and no NUL: the last bytes of
    the segment that holds the class (malloc's unused top), before a gap."""
    core = c.core()
    cls = c.marked("class")
    seg = next(s for s in core.loads() if s[3] <= cls < s[3] + s[4])
    end = seg[3] + seg[4]
    if core.mapped(end):
        raise Failure("the segment of 0x%x is followed by mapped memory" % cls)
    name = end - 100
    core.put_bytes(name, b"A" * 100)
    core.put(cls + c.L["tp_name"], name)
    path = core.write(c.out("tp_name_nonul"))
    label = "tp_name of 0x%x without a NUL" % cls
    c.stats_exact(path)
    c.gc_exact(path)
    rcs = views(c, path, label, ANY, OBJECT_VIEWS[1:])
    need_partial(rcs, ["types --gc-only"], label)
    # the instance's type is damaged: the error must say so
    rc, out, err = expect_view(c.a, path, ["object", hex(c.marked("instance"))], {ADDRESS}, label)
    if "type is not a valid type object" not in err:
        raise Failure("%s: the error does not name the damaged type: %s" % (label, err))
    views(c, path, label, ANY | {CORRUPT}, [["object", hex(cls)]])


def case_ob_size_absurd(c):
    core = c.core()
    lst = c.marked("list")
    tup = c.marked("tuple")
    for obj in (lst, tup):
        core.put(obj + c.L["ob_size"], 1 << 61)
    path = core.write(c.out("ob_size_absurd"))
    label = "ob_size 2**61 in list 0x%x and tuple 0x%x" % (lst, tup)
    c.stats_exact(path)
    c.gc_exact(path)
    need_partial(views(c, path, label, ANY, OBJECT_VIEWS[1:] + WIDE_VIEWS), ["types"], label)
    for obj in (lst, tup):
        rc, out, err = expect_view(c.a, path, ["object", hex(obj)], {PARTIAL, CORRUPT}, label)
    views(c, path, label, ANY | {CORRUPT}, [["referrers", hex(c.marked("int"))]])


def case_truncated_arena(c):
    """A core cut short in the middle of an arena: the arena's segment is moved
    to the end of the file (headers and notes stay whole), then cut halfway."""
    core = c.core()
    arena = int(c.loc["arenas"][0]["address"], 16)
    seg = next(s for s in core.loads() if s[3] <= arena < s[3] + s[4])
    i, _, off, va, fsz, msz = seg
    end = len(core.data)
    core.patches[core.phoff + i * core.phentsize + 8] = struct.pack("<Q", end)  # p_offset
    cut = end + (arena - va) + c.loc["arena_size"] // 2
    path = core.write(c.out("truncated_arena"), tail=core.data[off:off + fsz], cut=cut)
    label = "core cut at %d, mid-arena 0x%x" % (cut, arena)
    rcs = views(c, path, label, {PARTIAL}, [["stats"], ["arenas"], ["pools"], ["types"]])
    rcs.update(views(c, path, label, ANY, [["info"], ["gc"], ["types", "--gc-only"],
                                           ["objects", "--limit", "5"], ["leaks"]]))
    rc, out, err, _ = run_cli(c.a, ["info", path])
    if "core truncated" not in out:
        raise Failure("%s: info does not say the core is truncated:\n%s" % (label, out))
    print("ok info says: %s" % next(l for l in out.splitlines() if "truncated" in l))


def case_dwarf_other(c):
    """DWARF from another Python version: the other version's libpython given as
    the debug file of this interpreter's build-id (--debug-dir)."""
    module = c.loc["module"]
    note = subprocess.run(["readelf", "-n", module], capture_output=True, text=True).stdout
    if "Build ID:" not in note:
        print("skip: %s has no build-id" % module)
        sys.exit(SKIP)
    bid = note.split("Build ID:")[1].split()[0]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    import glob
    others = [p for p in sorted(glob.glob(root + "/versions/3.*/lib/libpython3.*.so.1.0"))
              if os.path.realpath(p) != os.path.realpath(module)
              and not p.split("/versions/")[1].startswith(c.loc["version"].rsplit(".", 1)[0] + ".")]
    if not others:
        print("skip: no other Python version's libpython")
        sys.exit(SKIP)
    ddir = os.path.join(c.a.work, "other-dwarf")
    d = os.path.join(ddir, ".build-id", bid[:2])
    os.makedirs(d, exist_ok=True)
    target = os.path.join(d, bid[2:] + ".debug")
    if os.path.lexists(target):
        os.unlink(target)
    os.symlink(others[-1], target)
    # A module with its own DWARF (pyenv) keeps using it: exact results. One
    # whose DWARF comes from a debug file (Debian's -dbg) must refuse the other
    # build's file by name: exit 8.
    own = ".debug_info" in subprocess.run(["readelf", "-SW", module], capture_output=True,
                                          text=True).stdout
    want = OK if own else MISMATCH
    label = "DWARF of %s for %s" % (others[-1], module)
    for v in (["info"], ["stats"], ["gc"]):
        rc, out, err = expect_view(c.a, c.loc["core"], v, {want}, label,
                                   opts=["--debug-dir", ddir])
        if rc == OK and v == ["info"] and ddir in out:
            raise Failure("%s: pymac used the other version's DWARF: %s" % (label, out))
        if rc == OK and v == ["stats"] and out != c.mallocstats:
            raise Failure("%s: stats differs from the oracle" % label)
        if rc == MISMATCH and "another build" not in err:
            raise Failure("%s: the mismatch message does not say so: %s" % (label, err))


def case_debug_offsets(c):
    """A stripped 3.13+ whose _Py_DebugOffsets disagree with the layout table
    (one published offset moved): every view refuses the table, exit 8 naming
    the offset; with the cookie gone (the start of _PyRuntime damaged), the
    table serves unchecked, a warning says so, and the numbers stay the
    oracle's."""
    if c.loc.get("layout_source") != "debug_offsets+table":
        print("skip: layouts from %s, not a table checked against _Py_DebugOffsets"
              % c.loc.get("layout_source", "dwarf"))
        sys.exit(SKIP)
    member = "interpreter_state.gc"
    cmd = ["gdb", "-batch", "-nx", "-ex",
           "print/d (long)&((_Py_DebugOffsets *)0)->%s" % member, c.loc["dwarf_module"]]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    if not out.startswith("$1 = "):
        raise Failure("gdb gave no offset of _Py_DebugOffsets.%s: %r" % (member, out))
    at = int(c.loc["runtime"], 16) + int(out.split("=", 1)[1])
    core = c.core()
    core.put(at, core.u(at) + 8)
    moved = core.write(c.out("debug_offsets"))
    label = "_Py_DebugOffsets.%s moved by 8" % member
    for v in (["info"], ["stats"], ["gc"], ["objects", "--limit", "5"]):
        rc, out, err = expect_view(c.a, moved, v, {MISMATCH}, label)
        if "_Py_DebugOffsets.%s" % member not in err:
            raise Failure("%s: %s does not name the offset: %s" % (label, v[0], err))
    core = c.core()
    core.put_bytes(int(c.loc["runtime"], 16), b"xdebugpX")
    nocookie = core.write(c.out("debug_offsets"))
    info = cli_json(c.a, "info", "--json", nocookie)
    if info["layout_source"] != "table" or info["debug_offsets_checked"]:
        raise Failure("no cookie: info says %s, %s offsets checked"
                      % (info["layout_source"], info["debug_offsets_checked"]))
    rc, out, err, _ = run_cli(c.a, ["stats", nocookie])
    if "warning: no _Py_DebugOffsets" not in err:
        raise Failure("no cookie: stats does not warn that the table is unchecked: %r" % err)
    print("ok no cookie: layouts from the table, unchecked, said in a warning")
    c.stats_exact(nocookie)
    c.gc_exact(nocookie)


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def run(cases, setup_fn, ctx_cls, root=False):
    """The command line of a corruption script: `setup` or one of its cases,
    each case on a Ctx; exit 0 pass, 1 fail, 77 skip. A passed case's damaged
    copy is removed (not worth its size); a failed one's stays."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--work", required=True)
    if root:
        ap.add_argument("--root", help="the system root the interpreter runs in")
        ap.add_argument("--stripped", action="store_true",
                        help="run the fixture on a stripped copy of the interpreter")
    ap.add_argument("what", choices=["setup"] + sorted(cases))
    a = ap.parse_args()
    a.cli = os.path.abspath(a.cli)
    a.work = os.path.abspath(a.work)
    try:
        if a.what == "setup":
            return setup_fn(a)
        cases[a.what](ctx_cls(a))
    except Failure as e:
        print("FAIL %s: %s (the damaged core stays in %s)" % (a.what, e, a.work))
        return 1
    out = os.path.join(a.work, a.what + ".core")
    if os.path.exists(out):
        os.unlink(out)
    return 0


def main():
    return run(CASES, setup, Ctx, root=True)


if __name__ == "__main__":
    sys.exit(main())

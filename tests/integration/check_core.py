#!/usr/bin/env python3
"""Compares pymac-analyze's views of one fixture core with the oracle that
CPython recorded about itself just before the core was taken.

  check_core.py --check info|stats|heap|whereis --cli PATH --dir COREDIR
                --label L --scenario S --kind K --results DIR
  check_core.py --skip-missing LABEL PATH --results DIR

Exit 0 pass, 1 fail, 77 skip. Each run leaves one line in RESULTS/ for the
version matrix (tests/integration/matrix.py).
"""
import argparse
import ast
import difflib
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from known_gaps import known_gap  # noqa: E402

SKIP = 77


class Failure(Exception):
    pass


def record(results, name, verdict):
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, name.replace("/", "__") + ".txt"), "w") as f:
        f.write(verdict + "\n")


# --sysroot ROOT for cores taken in a system root (make-core --root: meta.json's
# "root"), set by main(): the core names its files by their paths inside ROOT.
SYSROOT = []


def run_cli(cli, *args, expect=(0,)):
    p = subprocess.run([cli, *SYSROOT, *args], capture_output=True, text=True, timeout=240)
    if p.returncode not in expect:
        raise Failure("%s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p.stdout


def cli_json(cli, *args):
    return json.loads(run_cli(cli, *args, "--json"))


def cli_each(cli, view, core, addrs):
    """One pymac run for several addresses (one session answers them all):
    the JSON document of each, in order."""
    docs = cli_json(cli, view, core, *[hex(x) for x in addrs])
    if len(addrs) == 1:
        docs = [docs]
    if not isinstance(docs, list) or len(docs) != len(addrs):
        raise Failure("%s of %d addresses gave %r" % (view, len(addrs), docs))
    return docs


def expect_eq(what, got, want):
    if got != want:
        raise Failure("%s: pymac says %r, CPython said %r" % (what, got, want))


# --- the oracle's sys._debugmallocstats() text ---------------------------------

def parse_mallocstats(text):
    """Per size class (pools, blocks, avail) and the '# name = value' lines."""
    classes, values = {}, {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if m:
            c, size, pools, blocks, avail = map(int, m.groups())
            classes[c] = {"size": size, "pools": pools, "blocks": blocks, "avail": avail}
            continue
        m = re.match(r"^(.*\S)\s*=\s*([\d,]+)$", line)
        if m and m.group(1).strip() not in values:
            values[m.group(1).strip()] = int(m.group(2).replace(",", ""))
    return classes, values


# --- the checks ----------------------------------------------------------------

def check_info(a, oracle):
    info = cli_json(a.cli, "info", a.core)
    expect_eq("python_version", info["python_version"], oracle["version"])
    expect_eq("hexversion", info["hexversion"], oracle["hexversion"])
    expect_eq("core_kind", info["core_kind"], a.kind)
    if info["threads"] < 1:
        raise Failure("threads: %r" % info["threads"])
    if not os.path.basename(info["python_module"]).startswith(("libpython3", "python3")):
        raise Failure("python_module: %r" % info["python_module"])
    # Debian's packaged interpreters (/usr/bin/python3.X, in a root or not) have their
    # DWARF in -dbg, i.e. under [the sysroot's] /usr/lib/debug/.build-id; a build
    # from Debian's source package keeps it in the module itself.
    packaged = a.label.startswith("debian") and oracle["executable"].startswith("/usr/")
    if packaged and info["debuginfo_source"] != "build-id directory":
        raise Failure("debian debug info should come from /usr/lib/debug/.build-id, got %r"
                      % info["debuginfo_path"])
    if SYSROOT and not info["python_module"].startswith(SYSROOT[1] + "/"):
        raise Failure("python_module %r is not under the sysroot %s"
                      % (info["python_module"], SYSROOT[1]))
    text = run_cli(a.cli, "info", a.core)
    if oracle["version"] not in text:
        raise Failure("text info does not name CPython %s" % oracle["version"])


def check_stats(a, oracle):
    with open(os.path.join(a.dir, "mallocstats.txt")) as f:
        want = f.read()
    got = run_cli(a.cli, "stats", a.core)
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                            "sys._debugmallocstats()", "pymac-analyze stats"))
        raise Failure("stats differs from CPython's report:\n" + diff)


def check_heap(a, oracle):
    with open(os.path.join(a.dir, "mallocstats.txt")) as f:
        classes, values = parse_mallocstats(f.read())
    arenas = cli_json(a.cli, "arenas", a.core)
    t = arenas["totals"]
    expect_eq("arenas", t["arenas"], values["# arenas allocated current"])
    expect_eq("blocks in use", t["blocks_in_use"], sum(c["blocks"] for c in classes.values()))
    expect_eq("bytes in use", t["bytes_in_use"], values["# bytes in allocated blocks"])
    expect_eq("used+full pools", t["pools_used"] + t["pools_full"],
              sum(c["pools"] for c in classes.values()))
    expect_eq("arenas partial", arenas["partial"], False)
    pools = cli_json(a.cli, "pools", a.core)
    expect_eq("pools partial (free lists agree with headers)", pools["partial"], False)
    per_class = {}
    for p in pools["pools"]:
        if p["state"] == "empty":
            continue
        c = per_class.setdefault(p["size_class"], {"pools": 0, "blocks": 0, "avail": 0})
        c["pools"] += 1
        c["blocks"] += p["blocks_in_use"]
        c["avail"] += p["blocks_total"] - p["blocks_in_use"]
    want = {c: {k: v[k] for k in ("pools", "blocks", "avail")} for c, v in classes.items()}
    expect_eq("per size class pools/blocks/avail", per_class, want)
    # A filtered view is a subset that adds up.
    if classes:
        c = max(classes, key=lambda k: classes[k]["pools"])
        sub = cli_json(a.cli, "pools", "--size-class", str(c), a.core)
        expect_eq("pools --size-class %d" % c, sub["totals"]["blocks_in_use"],
                  classes[c]["blocks"])


def check_whereis(a, oracle):
    """Every marked object lives in an in-use block, or outside pymalloc when
    CPython would have given it to malloc (over 512 bytes) or it is static."""
    marked = sorted(oracle["marked"].items())
    in_pymalloc = 0
    answers = cli_each(a.cli, "whereis", a.core, [m["id"] for _, m in marked])
    for (name, m), w in zip(marked, answers):
        if w["where"] == "block":
            in_pymalloc += 1
            if not w["in_use"]:
                raise Failure("marked %s at %#x: pymac says its block is free (%s)"
                              % (name, m["id"], w.get("free_reason")))
        elif w["where"] not in ("not in pymalloc", "not mimalloc"):
            raise Failure("marked %s at %#x: pymac says %s" % (name, m["id"], w["where"]))
        small = m.get("alloc_size")
        if small is not None and small <= 512 and w["where"] != "block":
            raise Failure("marked %s (%d bytes) at %#x should be in a pymalloc block"
                          % (name, small, m["id"]))
    if in_pymalloc == 0:
        raise Failure("no marked object found in a pymalloc block")
    # An address that is not mapped is an error with exit code 10.
    run_cli(a.cli, "whereis", a.core, "0x10", expect=(10,))


def check_gc(a, oracle):
    """Generation list lengths, counts and thresholds equal gc's own numbers."""
    g = cli_json(a.cli, "gc", a.core)
    want = oracle["gc"]
    expect_eq("len(gc.get_objects(generation=i))",
              [x["objects"] for x in g["generations"]], want["generations"])
    expect_eq("gc.get_count()", [x["count"] for x in g["generations"]], list(want["count"]))
    expect_eq("gc.get_threshold()", [x["threshold"] for x in g["generations"]],
              list(want["threshold"]))
    if "permanent" in want:
        expect_eq("permanent generation", g["permanent"]["objects"], want["permanent"])
    expect_eq("gc partial", g["partial"], False)


def check_mimalloc(a, oracle):
    """Free-threaded: arenas and pools are mimalloc's segments and pages, walked
    without damage, each page's counts adding up (blocks in use = capacity minus
    its free, local, thread and delayed free lists; used = capacity minus the
    first two, as mimalloc keeps it), and the GC heaps' pages hold at least the
    objects gc.get_objects() returned."""
    arenas = cli_json(a.cli, "arenas", a.core)
    pools = cli_json(a.cli, "pools", a.core)
    for doc, what in ((arenas, "arenas"), (pools, "pools")):
        expect_eq("%s allocator" % what, doc["allocator"], "mimalloc")
        expect_eq("%s partial" % what, doc["partial"], False)
    pages = pools["pages"]
    for p in pages:
        free = p["free"] + p["local_free"] + p["thread_free"] + p["delayed_free"]
        expect_eq("page %s blocks in use" % p["address"], p["blocks_in_use"], p["capacity"] - free)
        expect_eq("page %s used" % p["address"], p["used"],
                  p["capacity"] - p["free"] - p["local_free"])
    expect_eq("blocks in use, segments vs pages", arenas["totals"]["blocks_in_use"],
              pools["totals"]["blocks_in_use"])
    in_gc = sum(p["blocks_in_use"] for p in pages if p["heap"] in ("gc", "gc_pre"))
    listed = sum(oracle["gc_census"].values())
    if in_gc < listed:
        raise Failure("GC heaps hold %d blocks, gc.get_objects() returned %d" % (in_gc, listed))
    print("%d segments (%d abandoned), %d pages, %d blocks in use"
          % (arenas["totals"]["segments"], arenas["totals"]["abandoned"], len(pages),
             pools["totals"]["blocks_in_use"]))
    queued = oracle["marked"].get("queued")
    if queued:
        # the threads scenario's object whose shared count went below zero
        # while its owner is blocked: the count with the flag, as such
        o = cli_each(a.cli, "object", a.core, [queued["id"]])[0]
        expect_eq("queued object's shared flags", o["shared_flags"], "queued")
        expect_eq("queued object's refcount", o["refcnt"], queued["refcount"])
        print("queued object: local %d + shared %d >> 2, refcount %d"
              % (o["ref_local"], o["ref_shared"], o["refcnt"]))


def by_name(rows):
    """Census rows per type object -> counts per __name__, as the oracle keys them."""
    out = {}
    for r in rows:
        out[r["type"]] = out.get(r["type"], 0) + r["count"]
    return out


def check_census(a, oracle):
    gc_only = by_name(cli_json(a.cli, "types", "--gc-only", a.core))
    diff = {k: (gc_only.get(k), v) for k, v in oracle["gc_census"].items() if gc_only.get(k) != v}
    diff.update({k: (v, None) for k, v in gc_only.items() if k not in oracle["gc_census"]})
    if diff:
        raise Failure("GC census differs from gc.get_objects() (pymac, CPython): %s"
                      % dict(sorted(diff.items())[:20]))
    full = by_name(cli_json(a.cli, "types", a.core))
    for name, n in oracle.get("expected", {}).items():
        expect_eq("live %s instances" % name, full.get(name), n)
    reach = oracle["reachable_census"]
    under = {k: (full.get(k, 0), v) for k, v in reach.items() if full.get(k, 0) < v}
    if under:
        raise Failure("full census below the in-process reachable census: %s"
                      % dict(sorted(under.items())[:20]))
    total, want = sum(full.values()), sum(reach.values())
    diff = 100.0 * (total - want) / want
    print("full census %d objects, reachable %d (%+.2f%%)" % (total, want, diff))
    if abs(diff) >= 2.0:
        raise Failure("full census total %d differs from the reachable census %d by %.2f%%"
                      % (total, want, diff))


MAX_TEXT = 48  # value.c shows this many characters or bytes, then the length


def short_repr(text):
    """The value pymac shows for an int, float, str or bytes whose repr() is text:
    repr() itself, with long str and bytes cut after MAX_TEXT items (and quoted as
    repr() quotes the part shown) and followed by their length."""
    try:
        v = ast.literal_eval(text)
    except ValueError:
        return text  # frozenset({...})
    if isinstance(v, (str, bytes)) and len(v) > MAX_TEXT:
        return repr(v[:MAX_TEXT]) + "...(%d %s)" % (len(v), "chars" if isinstance(v, str)
                                                     else "bytes")
    return text


def api_dump(a, *args):
    """What pymac-api-dump (tests/integration/api, built beside the CLI)
    prints: one JSON value per line."""
    exe = os.path.join(os.path.dirname(a.cli), "pymac-api-dump")
    p = subprocess.run([exe, *SYSROOT, *args], capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise Failure("pymac-api-dump %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                          p.stderr.strip()))
    return [json.loads(line) for line in p.stdout.splitlines()]


def check_objects(a, oracle):
    """Every marked object: address, type and reference count exactly, and the
    value of the marked scalars (and small containers of them) as repr() printed it."""
    marked = sorted(oracle["marked"].items())
    for (name, m), o in zip(marked, cli_each(a.cli, "object", a.core, [m["id"] for _, m in marked])):
        expect_eq("marked %s address" % name, int(o["address"], 16), m["id"])
        expect_eq("marked %s type" % name, o["type"], m["type"])
        if o["refcnt"] == "immortal":
            if m["refcount"] < 2**31 - 1:
                raise Failure("marked %s: pymac says immortal, CPython counted %d"
                              % (name, m["refcount"]))
        else:
            expect_eq("marked %s refcount" % name, o["refcnt"], m["refcount"])
        if "repr" in m:
            expect_eq("marked %s value" % name, o["value"], short_repr(m["repr"]))
    # A free block is an error that says so, not an object.
    run_cli(a.cli, "object", a.core, "0x10", expect=(10,))
    # the data API (pymac_get_object) says the same as the view
    for (name, m), o in zip(marked, api_dump(a, "object", a.core, *[hex(m["id"]) for _, m in marked])):
        expect_eq("api: marked %s address" % name, o["address"], m["id"])
        expect_eq("api: marked %s type" % name, o["type"], m["type"])
        if not o["immortal"]:
            expect_eq("api: marked %s refcount" % name, o["refcnt"], m["refcount"])
        if "repr" in m:
            expect_eq("api: marked %s value" % name, o["value"], short_repr(m["repr"]))


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def gdb_views(a, oracle, commands, source=True):
    """Runs pymac commands in batch GDB on the core; returns {command: output}."""
    argv = ["gdb", "-batch", "-iex", "set auto-load off"]
    exe = oracle["executable"]
    if SYSROOT:   # GDB's own setting, which the pymac commands follow
        argv += ["-iex", "set sysroot " + SYSROOT[1]]
        exe = SYSROOT[1] + exe
    if source:
        argv[1:1] = ["-nx"]
        argv += ["-ex", "source " + os.path.join(REPO, "gdb", "pymac.py")]
    for i, c in enumerate(commands):
        argv += ["-ex", "echo @@BEGIN %d\\n" % i, "-ex", c, "-ex", "echo @@END\\n"]
    argv += [exe, a.core]
    env = dict(os.environ, PYMAC_LIBRARY=os.path.join(os.path.dirname(a.cli), "libpymac.so"))
    # one stream, so that error messages stay between the markers
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=240, env=env)
    text = p.stdout
    if "Traceback" in text:
        raise Failure("a Python traceback in GDB:\n" + text[-2000:])
    out = {}
    for i, c in enumerate(commands):
        start = text.find("@@BEGIN %d\n" % i)
        end = text.find("@@END\n", start)
        if start < 0 or end < 0:
            raise Failure("GDB output of %r not found:\n%s" % (c, text[-2000:]))
        out[c] = text[start + len("@@BEGIN %d\n" % i):end]
    return out


def check_gdb(a, oracle):
    """The GDB commands print the same numbers as the CLI and the oracle."""
    marked = sorted(oracle["marked"].items())
    # a type the scenario made, to complete from its first letters
    mine = sorted(oracle.get("expected") or {m["type"]: 1 for _, m in marked})[0]
    cmds = ["pymac stats", "pymac gc --json", "pymac types --gc-only --json",
            "pymac whereis 0x10", "complete pymac objects --type " + mine[:2],
            "complete pymac objects --li"] + ["pymac refcount %#x" % m["id"] for _, m in marked]
    # a path the scenario knows, through GDB
    paths = sorted(EXPECTED_PATHS.get(a.scenario, {}).items())[:1]
    path_cmds = ["pymac path --json %#x" % oracle["marked"][name]["id"] for name, _ in paths]
    out = gdb_views(a, oracle, cmds + path_cmds)
    with open(os.path.join(a.dir, "mallocstats.txt")) as f:
        if out["pymac stats"] != f.read():
            raise Failure("pymac stats in GDB differs from sys._debugmallocstats()")
    g = json.loads(out["pymac gc --json"])
    expect_eq("GDB gc generations", [x["objects"] for x in g["generations"]],
              oracle["gc"]["generations"])
    expect_eq("GDB gc counts", [x["count"] for x in g["generations"]], list(oracle["gc"]["count"]))
    expect_eq("GDB GC census", by_name(json.loads(out["pymac types --gc-only --json"])),
              oracle["gc_census"])
    if not out["pymac whereis 0x10"].startswith("pymac: 0x10 is not mapped"):
        raise Failure("GDB error for an unmapped address: %r" % out["pymac whereis 0x10"])
    completions = out["complete pymac objects --type " + mine[:2]].split()
    if mine not in completions:
        raise Failure("'--type %s' does not complete to %s: %s" % (mine[:2], mine, completions))
    expect_eq("flag completion", out["complete pymac objects --li"].strip(),
              "pymac objects --limit")
    for name, m in marked:
        got = out["pymac refcount %#x" % m["id"]].strip()
        want = "immortal" if m["refcount"] >= 2**31 - 1 else str(m["refcount"])
        expect_eq("GDB refcount of %s" % name, got, want)
    prefix = "sys.modules['scenario_%s'].__dict__" % a.scenario
    for (name, tail), c in zip(paths, path_cmds):
        expect_eq("GDB path to marked %s" % name, json.loads(out[c])["text"], prefix + tail)


def check_gdb_installed(a, oracle):
    """Plain `gdb -ex 'pymac arenas' python core`, as installed by setup.sh."""
    if not os.path.exists("/etc/gdb/gdbinit.d/pymac.gdb"):
        print("skip: pymac is not installed for GDB (run ./setup.sh)")
        sys.exit(SKIP)
    out = gdb_views(a, oracle, ["pymac arenas --json"], source=False)
    arenas = json.loads(out["pymac arenas --json"])
    cli = cli_json(a.cli, "arenas", a.core)
    expect_eq("installed GDB arenas totals", arenas["totals"], cli["totals"])


# Chains to marked objects that the scenarios fix by construction.
EXPECTED_PATHS = {
    "threads": {"exited_first": "['KEPT'][0]", "exited_last": "['KEPT'][2999]",
                "live_first": "['LIVE'][0]", "exited_list": "['KEPT']"},
    "small": {"instance": "['THING']", "list": "['LIST']", "dict": "['DICT']"},
    "medium": {"instance": "['RINGS_HEADS'][0]", "instance_dict": "['RECORDS'][4]",
               "list": "['POINTS']", "dict": "['INDEX']"},
}


def check_graph(a, oracle):
    """path names the module variable that holds a marked object; referrers
    finds at least one and at most refcount references to it."""
    prefix = "sys.modules['scenario_%s'].__dict__" % a.scenario
    paths = sorted(EXPECTED_PATHS.get(a.scenario, {}).items())
    found = cli_each(a.cli, "path", a.core, [oracle["marked"][name]["id"] for name, _ in paths])
    for (name, tail), p in zip(paths, found):
        if not p["found"]:
            raise Failure("no path to marked %s" % name)
        expect_eq("path to marked %s" % name, p["text"], prefix + tail)
    marked = sorted(oracle["marked"].items())
    for (name, m), r in zip(marked, cli_each(a.cli, "referrers", a.core,
                                             [m["id"] for _, m in marked])):
        # objects that refer to it (roots such as frame slots are listed too,
        # but a frame's stale slots make them no measure of the refcount)
        exact = [x for x in r["referrers"] if not x["conservative"] and x["address"]]
        if not exact:
            raise Failure("no referrer found for marked %s" % name)
        if r["refcnt"] != "immortal" and len(exact) > r["refcnt"]:
            raise Failure("marked %s: %d referrers but refcount %d" % (name, len(exact),
                                                                       r["refcnt"]))


def check_leaks(a, oracle):
    """The planted leaks are found exactly: every leaked Py_IncRef under
    unexplained (the objects and one unexplained reference each), the
    uncollected cycles under unreachable, neither kind reported as the other,
    and path names the cache that holds the marked widget."""
    want = oracle["expected_leaks"]
    got = cli_json(a.cli, "leaks", a.core)
    unreachable = {g["type"]: g["objects"] for g in got["unreachable"]}
    unexplained = {g["type"]: (g["objects"], g["unexplained_refs"]) for g in got["unexplained"]}
    for name, n in want["unreachable"].items():
        expect_eq("unreachable %s" % name, unreachable.get(name), n)
        if name in unexplained:
            raise Failure("%s (garbage, held by nothing) reported as unexplained: %r"
                          % (name, unexplained[name]))
    for name, n in want["unexplained"].items():
        expect_eq("unexplained %s (objects, references)" % name, unexplained.get(name), (n, n))
        if name in unreachable:
            raise Failure("%s (leaked, so held from outside) reported as unreachable" % name)
    # the data API (pymac_find_leaks): the same groups, in the same order
    api = api_dump(a, "leaks", a.core)[0]
    for key, refs in (("unexplained", "unexplained_refs"), ("unreachable", None)):
        view = [(g["type"], g["objects"], g["bytes"], g[refs] if refs else 0) for g in got[key]]
        data = [(g["type"], g["objects"], g["bytes"], g["refs"]) for g in api[key]]
        expect_eq("api: leaks %s" % key, data, view)
    expect_eq("api: leaks objects examined", api["objects"], got["objects"])
    for name, steps in oracle.get("expected_path", {}).items():
        p = cli_json(a.cli, "path", a.core, hex(oracle["marked"][name]["id"]))
        expect_eq("path to %s" % name, p["text"], "".join(steps))


# A clean interpreter's unexplained-reference residue: no group may hold more
# objects than this (what remains are references pymac does not decode, e.g.
# objects held by C state; measured at most 12 on 3.8-3.13, small and medium).
CLEAN_UNEXPLAINED_MAX = 32


def load_segments(data):
    """(file offset, vaddr, file size) of each PT_LOAD of the ELF file in data
    (bytes, a bytearray or an mmap)."""
    import struct
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data,
                                                             phoff + i * phentsize)
        if ptype == 1:
            yield off, vaddr, filesz


def pointers_to(core, addrs):
    """How many 8-byte aligned words of the core's memory (its PT_LOAD
    segments' file bytes) hold each address: an independent count of the
    pointers to it, by brute force."""
    import struct
    counts = {x: 0 for x in addrs}
    with open(core, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(0)
        head = f.read(phoff + phentsize * phnum)
        for off, vaddr, filesz in load_segments(head):
            # a segment's bytes, read: Debian's Python 3.11.2 crashed in
            # mmap.find on a kernel core whose last segment ends the file
            f.seek(off)
            seg = f.read(filesz)
            for x in addrs:
                needle = struct.pack("<Q", x)
                k = seg.find(needle)
                while k >= 0:
                    if (k + vaddr) % 8 == 0:
                        counts[x] += 1
                    k = seg.find(needle, k + 1)
    return counts


def orphaned(a, group):
    """Is an unexplained group a real leak of references, which pymac must
    report: each of its example objects has one unexplained reference and no
    word anywhere in the core points at it, so nothing in the process can
    ever release it? (numpy's Cython modules on Debian's 3.11 lose such
    references to 16-39 argument-name tuples at import.)"""
    if group["unexplained_refs"] != group["objects"] or not group["examples"]:
        return False
    found = pointers_to(a.core, [int(x, 16) for x in group["examples"]])
    return not any(found.values())


def check_leaks_clean(a, oracle):
    """A scenario without planted leaks: no unexplained-reference group above
    CLEAN_UNEXPLAINED_MAX objects, unless the references are lost for good
    (orphaned: no pointer to its examples in the whole core), and none of the
    scenario's own types reported as unexplained or unreachable."""
    got = cli_json(a.cli, "leaks", a.core)
    own = set(oracle.get("expected", {}))
    for g in got["unexplained"]:
        if g["objects"] <= CLEAN_UNEXPLAINED_MAX:
            continue
        if not orphaned(a, g):
            raise Failure("unexplained %s: %d objects, more than the clean threshold %d"
                          % (g["type"], g["objects"], CLEAN_UNEXPLAINED_MAX))
        print("orphaned %s: %d objects with a reference no word of the core holds (a leak "
              "of the process's own, rightly reported)" % (g["type"], g["objects"]))
    for key in ("unexplained", "unreachable"):
        for g in got[key]:
            if g["type"] in own:
                raise Failure("%s %s: %d objects of the scenario's own type, which it does "
                              "not leak" % (key, g["type"], g["objects"]))


def check_leaks_real(a, oracle):
    """The reallib scenario (real libraries loaded and used, nothing leaked):
    leaks_clean's bound on a real heap, where C extensions keep references in
    their own memory. Skips when the interpreter has none of the libraries."""
    libs = oracle.get("libraries") or []
    if not libs:
        print("skip: %s has none of the scenario's libraries (pyenv 3.11: sympy, networkx, "
              "flask, jinja2, pydantic; Debian 3.11: python3-numpy, python3-sqlalchemy)"
              % a.label)
        sys.exit(SKIP)
    check_leaks_clean(a, oracle)
    got = cli_json(a.cli, "leaks", a.core)
    top = max((g["objects"] for g in got["unexplained"] if g["objects"] <= CLEAN_UNEXPLAINED_MAX),
              default=0)
    print("ok %s: libraries %s, largest unexplained group %d objects (at most %d), orphans "
          "aside" % (a.label, ", ".join(libs), top, CLEAN_UNEXPLAINED_MAX))


def check_report(a, oracle):
    """The report (the default view): the interpreter, GC list lengths and
    counts, and pymalloc's blocks in use as CPython reported them; its largest
    types and leak suspects exactly the top of the types and leaks views; and
    the planted leaks as the oracle expects them wherever they are among the
    suspects shown."""
    r = cli_json(a.cli, "report", a.core)
    expect_eq("report: CPython version", r["info"]["python_version"], oracle["version"])
    expect_eq("report: GC list lengths", [g["objects"] for g in r["gc"]["generations"]],
              oracle["gc"]["generations"])
    expect_eq("report: GC counts", [g["count"] for g in r["gc"]["generations"]],
              list(oracle["gc"]["count"]))
    if oracle.get("free_threaded"):
        # mimalloc's segments hold the objects: the report says so, with the
        # arenas view's totals (the same walk), and shows no empty pymalloc
        if "pymalloc" in r:
            raise Failure("the report of a free-threaded build shows pymalloc: %r" % r["pymalloc"])
        totals = cli_json(a.cli, "arenas", a.core)["totals"]
        for key, view_key in (("segments", "segments"), ("pages", "pages"),
                              ("blocks_in_use", "blocks_in_use"), ("bytes_in_use", "bytes_in_use"),
                              ("segment_bytes", "bytes_mapped")):
            expect_eq("report: mimalloc %s" % key, r["mimalloc"][key], totals[view_key])
        # and the HTML report's heap section likewise
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            page = os.path.join(tmp, "report.html")
            run_cli(a.cli, a.core, "--html", page)
            with open(page) as f:
                html = f.read()
        m = re.search(r'<h2>mimalloc heap</h2>\s*<p id="heap-summary"><span id="segments">(\d+)</span>'
                      r' segments \(\d+ MiB\), (\d+) pages, (\d+) blocks in use', html)
        if not m or "pymalloc heap" in html or "Size classes" in html:
            raise Failure("the HTML report of a free-threaded build does not show mimalloc's heap")
        expect_eq("html: mimalloc segments, pages, blocks",
                  [int(x) for x in m.groups()],
                  [totals["segments"], totals["pages"], totals["blocks_in_use"]])
    else:
        with open(os.path.join(a.dir, "mallocstats.txt")) as f:
            classes, _ = parse_mallocstats(f.read())
        expect_eq("report: pymalloc blocks in use", r["pymalloc"]["blocks_in_use"],
                  sum(c["blocks"] for c in classes.values()))
    types = cli_json(a.cli, "types", a.core)
    expect_eq("report: largest types", r["top_types"],
              [{"type": t["type"], "count": t["count"], "bytes": t["bytes"]} for t in types[:10]])
    leaks = cli_json(a.cli, "leaks", a.core)
    for kind in ("unexplained", "unreachable"):
        expect_eq("report: %s suspects" % kind, r["leaks"][kind], leaks[kind][:3])
        expect_eq("report: %s types" % kind, r["leaks"][kind + "_types"], len(leaks[kind]))
        shown = {g["type"]: g["objects"] for g in r["leaks"][kind]}
        for name, n in oracle.get("expected_leaks", {}).get(kind, {}).items():
            if name in shown:
                expect_eq("report: %s %s" % (kind, name), shown[name], n)
    # the text form says the same
    text = run_cli(a.cli, a.core)
    heap_line = "mimalloc: " if oracle.get("free_threaded") else "pymalloc: "
    for want in ["CPython " + oracle["version"], "leak suspects:", heap_line] + \
            [t["type"] for t in types[:3]]:
        if want not in text:
            raise Failure("the report's text lacks %r" % want)


def check_growth(a, oracle):
    """diff and leaks --baseline between two cores of the growth scenario
    (PYMAC_GROWTH_STEP 1, then 2): CacheEntry grows by exactly what the two
    oracles say, Baseline not at all, the cache's payloads (bytes) by as many
    (within 1%), and the payloads come first by bytes grown.
    leaks --baseline reports the same growth as diff. In each core on its
    own, the full census counts exactly the scenario's objects (a stale copy
    in malloc memory once made it 5,001 CacheEntry on Debian 3.11)."""
    with open(os.path.join(a.baseline_dir, "oracle.json")) as f:
        old = json.load(f)
    old_core = os.path.join(a.baseline_dir, "core")
    for core, orc in ((old_core, old), (a.core, oracle)):
        counts = {r["type"]: r["count"] for r in cli_json(a.cli, "types", core)}
        for cls in ("CacheEntry", "Baseline"):
            expect_eq("types: %s in %s" % (cls, core), counts.get(cls), orc["expected"][cls])
    d = cli_json(a.cli, "diff", old_core, a.core)["types"]
    rows = {r["type"]: r for r in d}
    grown = oracle["expected"]["CacheEntry"] - old["expected"]["CacheEntry"]
    expect_eq("diff: CacheEntry grown", rows["CacheEntry"]["count_delta"], grown)
    expect_eq("diff: Baseline grown", rows["Baseline"]["count_delta"], 0)
    # The payloads: one bytes object per entry, give or take the few other
    # bytes and strs that differ between two runs of the interpreter (a
    # handful, measured; 1% allowed). The keys (str) are not held to a count.
    if abs(rows["bytes"]["count_delta"] - grown) > grown // 100:
        raise Failure("diff: bytes grew by %d, not the %d payloads (within 1%%)"
                      % (rows["bytes"]["count_delta"], grown))
    # each payload is sys.getsizeof(bytes of 200), as the process measured it
    size = oracle["payload_size"]
    expect_eq("diff: the largest growth", d[0]["type"], "bytes")
    if abs(d[0]["bytes_delta"] - grown * size) > grown * size // 100:
        raise Failure("diff: bytes grew by %d bytes, not %d payloads of %d (within 1%%)"
                      % (d[0]["bytes_delta"], grown, size))
    leaks = cli_json(a.cli, "leaks", "--baseline", old_core, a.core)
    want = [{"type": r["type"], "objects": max(r["count_delta"], 0),
             "bytes": max(r["bytes_delta"], 0)} for r in d
            if r["count_delta"] > 0 or r["bytes_delta"] > 0]
    got = [{k: g[k] for k in ("type", "objects", "bytes")} for g in leaks["growth"]]
    expect_eq("leaks --baseline growth", got[:10], want[:10])
    # the data API (pymac_diff_build, pymac_find_leaks with a baseline)
    api = {r["type"]: r for r in api_dump(a, "diff", old_core, a.core)[0]["types"]}
    expect_eq("api: diff CacheEntry grown", api["CacheEntry"]["count_delta"], grown)
    expect_eq("api: diff Baseline grown", api["Baseline"]["count_delta"], 0)
    expect_eq("api: diff rows", sorted(api), sorted(rows))
    growth = api_dump(a, "leaks", a.core, old_core)[0]["growth"]
    expect_eq("api: leaks growth", [{k: g[k] for k in ("type", "objects", "bytes")}
                                     for g in growth][:10], want[:10])


# --- a version newer than pymac knows ---------------------------------------

NEWEST_TESTED = "3.15"  # PM_NEWEST_TESTED in analyzer/src/layout.h


def patch_py_version(path, vaddr, minor, out):
    """Copies the ELF file at path (an executable or a core) to out with the
    minor version in the 8-byte Py_Version at vaddr set to minor; False when
    no PT_LOAD of path holds vaddr's bytes."""
    import struct
    with open(path, "rb") as f:
        data = bytearray(f.read())
    for off, va, filesz in load_segments(data):
        if va <= vaddr < va + filesz:
            at = off + vaddr - va
            v, = struct.unpack_from("<Q", data, at)
            struct.pack_into("<Q", data, at, (v & ~0xff0000) | (minor << 16))
            with open(out, "wb") as f:
                f.write(data)
            return True
    return False


def static_py_version(exe):
    """The address of Py_Version in exe when exe is a static executable
    (ET_EXEC: no load bias) that exports it (Debian's python3.X), else None."""
    nm = subprocess.run(["nm", "-D", exe], capture_output=True, text=True).stdout.split("\n")
    sym = [l.split()[0] for l in nm if l.endswith(" Py_Version")]
    if not sym or open(exe, "rb").read(18)[16] != 2:
        return None
    return int(sym[0], 16)


def check_untested_version(a, oracle):
    """The same core, its interpreter made to say 3.16 (Py_Version patched in
    a copy of the statically linked executable, and of the core if it holds
    that page): read all the same, exact, with a warning on stderr and
    "untested_version" in the JSON naming the newest tested version; made to
    say 3.7, refused with exit 9. A 3.8-3.11 core made to say 3.16 lacks
    structures pymac needs (3.12+'s per-interpreter allocator state): refused
    with exit 9 naming what is missing. PYMAC_TEST_ROOT: the root a
    chroot-made core's files are under."""
    import tempfile
    root = os.environ.get("PYMAC_TEST_ROOT", "")
    exe = root + oracle["executable"]
    extra = ["--debug-dir", root + "/usr/lib/debug"] if root else []
    old_shape = int(oracle["version"].split(".")[1]) < 12
    vaddr = static_py_version(exe)
    if vaddr is None:
        print("skip: %s is not a static executable exporting Py_Version" % exe)
        sys.exit(SKIP)
    with tempfile.TemporaryDirectory() as tmp:
        for minor in (16, 7):
            pexe, pcore = os.path.join(tmp, "python3.%d" % minor), os.path.join(tmp, "core")
            if not patch_py_version(exe, vaddr, minor, pexe):
                raise Failure("Py_Version at %#x is not in %s" % (vaddr, exe))
            if not patch_py_version(a.core, vaddr, minor, pcore):
                os.symlink(a.core, pcore)
            p = subprocess.run([a.cli, "gc", "--json", "--exe", pexe, pcore] + extra,
                               capture_output=True, text=True, timeout=240)
            if minor == 16 and old_shape:
                expect_eq("exit status for a 3.%s core said to be 3.16"
                          % oracle["version"].split(".")[1], p.returncode, 9)
                if "newer than pymac knows" not in p.stderr or "lacks" not in p.stderr:
                    raise Failure("the refusal does not say what is missing: %r" % p.stderr)
                os.unlink(pcore)
                continue
            if minor == 7:
                expect_eq("exit status for CPython 3.7", p.returncode, 9)
                if "3.7" not in p.stderr:
                    raise Failure("the refusal does not name 3.7: %r" % p.stderr)
                continue
            if p.returncode != 0:
                raise Failure("gc on CPython 3.%d exited %d: %s" % (minor, p.returncode,
                                                                    p.stderr.strip()))
            if "warning" not in p.stderr or NEWEST_TESTED not in p.stderr:
                raise Failure("no warning naming %s on stderr: %r" % (NEWEST_TESTED, p.stderr))
            g = json.loads(p.stdout)
            expect_eq("untested_version", g.get("untested_version"), True)
            expect_eq("newest_tested_version", g.get("newest_tested_version"), NEWEST_TESTED)
            expect_eq("gc on CPython 3.%d: generations" % minor,
                      [x["objects"] for x in g["generations"]], oracle["gc"]["generations"])
            os.unlink(pcore)


def check_retention(a, oracle):
    """retained and dominators against the process's own computation
    (fixtures/scenarios/retention.py): each container's retained objects
    exactly and bytes within 1% (sys.getsizeof against pymac's sizes), the
    immediate dominators of a few objects exactly, the keys the issue names,
    and the big containers among the heaviest objects `dominators` lists by
    default (in its JSON and in its text tree). GDB: retention_gdb."""
    want, idoms = oracle["expected_retained"], oracle["expected_idom"]
    names = sorted(want)
    docs = cli_json(a.cli, "retained", a.core, *[hex(want[n]["id"]) for n in names])
    keys = {"address", "type", "size", "retained_bytes", "retained_objects", "dominator", "path"}
    for name, d in zip(names, docs):
        expect_eq("retained %s: keys" % name, set(d), keys)
        expect_eq("retained %s: address" % name, d["address"], hex(want[name]["id"]))
        expect_eq("retained %s: objects" % name, d["retained_objects"], want[name]["objects"])
        got, exp = d["retained_bytes"], want[name]["bytes"]
        if abs(got - exp) > exp / 100:
            raise Failure("retained %s: pymac says %d bytes, CPython said %d (more than 1%% "
                          "apart)" % (name, got, exp))
        if not d["path"] or d["path"][-1]["address"] != d["address"]:
            raise Failure("retained %s: no path to it: %r" % (name, d["path"]))
    inames = sorted(idoms)
    docs = cli_json(a.cli, "retained", a.core, *[hex(idoms[n]["id"]) for n in inames])
    for name, d in zip(inames, docs):
        expect_eq("immediate dominator of %s" % name, d["dominator"], hex(idoms[name]["idom"]))
    big = [hex(want[n]["id"]) for n in ("OWNED", "SHARED", "HOLDER")]
    listed = [d["address"] for d in cli_json(a.cli, "dominators", a.core)["dominators"]]
    for name, addr in zip(("OWNED", "SHARED", "HOLDER"), big):
        if addr not in listed:
            raise Failure("dominators does not list %s (%s) among %d: %r"
                          % (name, addr, len(listed), listed))
    text = run_cli(a.cli, "dominators", a.core)
    for addr in big:
        if "@" + addr not in text:
            raise Failure("the dominators tree lacks %s" % addr)


def check_retention_gdb(a, oracle):
    """GDB's retained, dominators and types --retained say what the CLI says
    (not in the sanitizer build: GDB cannot load an ASan library)."""
    want = oracle["expected_retained"]
    big = [hex(want[n]["id"]) for n in ("OWNED", "SHARED", "HOLDER")]
    listed = [d["address"] for d in cli_json(a.cli, "dominators", a.core)["dominators"]]
    cmds = ["pymac retained --json %s" % big[0], "pymac dominators --json --limit 5",
            "pymac types --retained --json"]
    out = gdb_views(a, oracle, cmds)
    g = json.loads(out[cmds[0]])[0] if out[cmds[0]].lstrip().startswith("[") else \
        json.loads(out[cmds[0]])
    expect_eq("GDB retained OWNED objects", g["retained_objects"], want["OWNED"]["objects"])
    expect_eq("GDB dominators", [d["address"] for d in json.loads(out[cmds[1]])["dominators"]],
              listed[:5])
    rows = {r["type"]: r for r in json.loads(out[cmds[2]])["types"]}
    if rows.get("Payload", {}).get("retained_bytes", 0) < want["OWNED"]["bytes"] // 2:
        raise Failure("GDB types --retained: Payload retains %r" % rows.get("Payload"))


def check_allocator(a, oracle):
    """A process that ran with PYTHONMALLOC (make-core --allocator, in
    meta.json): info names its object allocator; stats is what
    sys._debugmallocstats() printed (malloc: the free lists alone; debug: pymalloc
    behind the hooks), and for mimalloc on a default build exit 9 in one line;
    the GC numbers and every marked object exact. With debug hooks the census
    is as exact as without (objects after the hooks' header, in pymalloc and
    twice over in malloc chunks); without pymalloc every view that walks the
    heap warns that objects on no GC list are found only through pointers."""
    with open(os.path.join(a.dir, "meta.json")) as f:
        alloc = json.load(f)["allocator"]
    want = {"malloc": ("malloc", False), "debug": ("pymalloc", True),
            "mimalloc": ("mimalloc", False)}[alloc]
    info = json.loads(run_cli(a.cli, "info", "--json", a.core))
    expect_eq("info allocator, debug_hooks", (info["allocator"], info["debug_hooks"]), want)
    with open(os.path.join(a.dir, "mallocstats.txt")) as f:
        printed = f.read()
    if alloc == "mimalloc":
        p = subprocess.run([a.cli, *SYSROOT, "stats", a.core], capture_output=True, text=True,
                           timeout=240)
        lines = p.stderr.strip().splitlines()
        if p.returncode != 9 or p.stdout or len(lines) != 1 or "mimalloc" not in lines[0]:
            raise Failure("stats of a PYTHONMALLOC=mimalloc core: exit %d, %r, %r (want 9, "
                          "one line naming mimalloc)" % (p.returncode, p.stdout[:80], p.stderr))
    elif run_cli(a.cli, "stats", a.core) != printed:
        raise Failure("stats differs from sys._debugmallocstats() under PYTHONMALLOC=%s" % alloc)
    check_gc(a, oracle)
    check_objects(a, oracle)
    if alloc == "debug":
        check_census(a, oracle)
        return
    out = run_cli(a.cli, "types", a.core, expect=(1,))
    if "not pymalloc" not in out or "found only through pointers" not in out:
        raise Failure("types without pymalloc gives no warning: %r" % out[-300:])
    gc_only = by_name(json.loads(run_cli(a.cli, "types", "--gc-only", "--json", a.core,
                                         expect=(0, 1))))
    expect_eq("GC census", gc_only, oracle["gc_census"])


CHECKS = {"info": check_info, "allocator": check_allocator, "untested_version": check_untested_version, "stats": check_stats, "heap": check_heap,
          "whereis": check_whereis, "gc": check_gc,
          "census": check_census, "objects": check_objects, "gdb": check_gdb, "graph": check_graph, "leaks": check_leaks, "report": check_report,
          "growth": check_growth,
          "leaks_clean": check_leaks_clean, "leaks_real": check_leaks_real,
          "retention": check_retention,
          "mimalloc": check_mimalloc,
          "retention_gdb": check_retention_gdb,
          "gdb_installed": check_gdb_installed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", choices=sorted(CHECKS))
    ap.add_argument("--cli")
    ap.add_argument("--dir")
    ap.add_argument("--label")
    ap.add_argument("--scenario")
    ap.add_argument("--kind")
    ap.add_argument("--results", required=True)
    ap.add_argument("--baseline-dir", help="growth: the older core's directory")
    ap.add_argument("--skip-missing", nargs=2, metavar=("LABEL", "PATH"))
    a = ap.parse_args()
    if a.skip_missing:
        label, path = a.skip_missing
        print("skip: %s: no interpreter at %s" % (label, path))
        record(a.results, "interp/" + label, "missing " + path)
        return SKIP
    name = "%s/%s/%s/%s" % (a.label, a.scenario, a.kind, a.check)
    a.core = os.path.join(a.dir, "core")
    skipfile = os.path.join(a.dir, "skip.txt")
    if os.path.exists(skipfile) or not os.path.exists(a.core):
        why = open(skipfile).read().strip() if os.path.exists(skipfile) else "no core made"
        print("skip: %s: %s" % (name, why))
        record(a.results, name, "skip " + why)
        return SKIP
    with open(os.path.join(a.dir, "oracle.json")) as f:
        oracle = json.load(f)
    try:
        with open(os.path.join(a.dir, "meta.json")) as f:
            root = json.load(f).get("root")
    except (OSError, ValueError):
        root = None
    if root:
        SYSROOT[:] = ["--sysroot", root]
    try:
        CHECKS[a.check](a, oracle)
    except Failure as e:
        gap = known_gap(name, str(e))
        if gap:
            print(gap)
            record(a.results, name, "skip " + gap)
            return SKIP
        print("FAIL %s: %s" % (name, e))
        record(a.results, name, "fail")
        return 1
    record(a.results, name, "pass " + oracle["version"])
    print("ok %s (CPython %s)" % (name, oracle["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

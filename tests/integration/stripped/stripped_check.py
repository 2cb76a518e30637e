#!/usr/bin/env python3
"""The stripped matrix: one interpreter, stripped as slim images ship it
(make_stripped.py), analyzed with no DWARF reachable, must give what the
DWARF run gives.

  stripped_check.py --python PY [--root ROOT] --label L --cli CLI --work DIR
                    --results DIR

1. A stripped copy of PY (strip --strip-all of the executable and libpython),
   and cores of it (small and leaky scenarios, gcore). Debian's interpreters
   (/usr/bin/python3.X, on the host or in ROOT) are stripped as shipped: their
   DWARF is the -dbg package's, in (ROOT)/usr/lib/debug.
2. The DWARF run: every view (compare_binaries.views_for), text and JSON, with
   --debug-dir pointing at the original's DWARF by build-id (Debian's -dbg
   files are found in /usr/lib/debug, a root's through --sysroot); info must
   say "layout_source": "dwarf".
3. In a private mount namespace (unshare -m, root) in which the pyenv
   versions directory, the cache's builds and /usr/lib/debug (the root's too)
   are empty tmpfs mounts: info must say "table" or "debug_offsets+table";
   every view's stdout, stderr and exit status equal the DWARF run's (info
   aside, whose debug-info and layout lines differ by design); and every
   oracle check of check_core.py passes.

4. In the same namespace, the stripped copy's files put where the
   original's were (stripped_in_place), and the DWARF matrix's cores of this
   row read with them: every oracle check ctest runs on the DWARF row runs
   again (matrix_checks: ctest's own list of the row's check_core.py and
   check_traced.py tests), recorded as the row stripped-LABEL; and the
   tracemalloc, object, leaks and report views of the row's traced core must
   equal their DWARF run. Step 3's cores are the row stripped-run-LABEL.

Exit 0 pass, 1 fail, 77 skip (not root, no unshare, interpreter missing).
Every version must read stripped, 3.8-3.11 included (their file statics are
found in the code and data, runtime/obmalloc_find.c)."""
import argparse
import json
import re
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))
from compare_binaries import views_for, wanted  # noqa: E402

SKIP = 77
VIEWS = {"report", "stats", "arenas", "gc", "types", "objects", "leaks", "dominators", "object",
         "referrers", "path", "whereis", "retained"}
TRACED_VIEWS = {"report", "leaks", "object"}  # and tracemalloc
CHECKS = {"small": ["info", "stats", "heap", "whereis", "gc", "census", "objects", "graph",
                    "leaks_clean"],
          "leaky": ["leaks", "report"]}
# the free-threaded build's (free_threaded.cmake): mimalloc's heaps, no pymalloc
FT_CHECKS = {"small": ["info", "stats", "gc", "census", "objects", "mimalloc", "whereis",
                       "graph", "leaks_clean"],
             "leaky": ["leaks", "report"]}


def pyenv_versions():
    return os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions")


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return out.split("Build ID:")[1].split()[0] if "Build ID:" in out else None


def interpreter_elf(python):
    """The ELF holding the interpreter: libpython or the executable."""
    q = subprocess.run([python, "-c", "import sys, sysconfig, os; print(os.path.realpath("
                        "sys.executable), os.path.join(sysconfig.get_config_var('LIBDIR'), "
                        "sysconfig.get_config_var('LDLIBRARY')))"],
                       capture_output=True, text=True, check=True).stdout.split()
    dyn = subprocess.run(["readelf", "-d", q[0]], capture_output=True, text=True).stdout
    return os.path.realpath(q[1]) if "libpython3" in dyn else q[0]


HOST_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def normalize(cmd, out):
    """The report names where debug info and layouts came from: by design
    what differs between the two runs (a line of text; keys of JSON)."""
    if "report" not in cmd:
        return out
    if "--json" in cmd:
        def drop(x):
            if isinstance(x, dict):
                return {k: drop(v) for k, v in x.items() if "debug" not in k and not k.startswith("layout")}
            if isinstance(x, list):
                return [drop(v) for v in x]
            return x
        return json.dumps(drop(json.loads(out)), sort_keys=True)
    return re.sub(r"\(debug info: [^)]*\)", "(debug info: -)", out)


def run(cli, args, extra=()):
    p = subprocess.run([cli, *extra, *args], capture_output=True, timeout=900)
    return p.returncode, p.stdout, p.stderr


def debian_shipped(python):
    """Debian's interpreters ship stripped, their DWARF in the -dbg package."""
    return python.startswith("/usr/bin/python3")


def outside(a):
    if os.geteuid() != 0 or not shutil_which("unshare"):
        print("skip: the stripped matrix needs root and unshare(1) for its mount namespace")
        return SKIP
    host_path = os.path.join(a.root, a.python.lstrip("/")) if a.root else a.python
    if not os.path.exists(host_path):
        print("skip %s: %s not installed" % (a.label, host_path))
        return SKIP
    os.makedirs(a.work, exist_ok=True)
    debug_dir = os.path.join(a.work, "debug")
    os.makedirs(debug_dir, exist_ok=True)
    if debian_shipped(a.python):
        stripped = a.python
    else:
        stripped = subprocess.run([sys.executable, os.path.join(HERE, "make_stripped.py"),
                                   a.python, os.path.join(a.work, "python")], capture_output=True,
                                  text=True, check=True).stdout.strip()
        # the original's DWARF, by build-id, for the DWARF run
        elf = interpreter_elf(a.python)
        bid = build_id(elf)
        link = os.path.join(debug_dir, ".build-id", bid[:2], bid[2:] + ".debug")
        if not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(elf, link)
    cores = {}
    for scenario in CHECKS:
        d = os.path.join(a.work, "core-" + scenario)
        if scenario != "small":
            # a stripped build pymac cannot read fails at once
            probe = subprocess.run(["unshare", "-m", HOST_PYTHON, os.path.abspath(__file__),
                                    "--inside", "--probe", *sys.argv[1:]])
            if probe.returncode != 0:
                return probe.returncode
        if not os.path.exists(os.path.join(d, "meta.json")):
            p = subprocess.run([os.path.join(ROOT, "fixtures", "make-core"), "--python", stripped,
                                "--scenario", scenario, "--kind", "gcore", "--out", d] +
                               (["--root", a.root] if a.root else []))
            if p.returncode != 0:
                print("FAIL: no %s core from %s" % (scenario, stripped))
                return 1
        cores[scenario] = d
    # the DWARF run: the views whose numbers the oracle checks (stats, GC,
    # both censuses, the marked objects, paths, leaks and retention)
    runs = [cmd for d in cores.values() for cmd in views_for(d, a.work)
            if wanted(cmd, VIEWS)]
    # and the DWARF matrix's traced core (the original's files), read
    # stripped inside as stripped_in_place puts it: the views tracemalloc's
    # state shows in (the other views' numbers are the oracle checks' on
    # every core of the row, matrix_checks)
    traced = os.path.join(a.cores, a.label + "-traced-gcore")
    if os.path.exists(os.path.join(traced, "core")):
        runs += [cmd for cmd in views_for(traced, a.cores) if wanted(cmd, TRACED_VIEWS)]
        core = os.path.join(traced, "core")
        runs += [[*sysroot(a), *j, "tracemalloc", core] for j in ([], ["--json"])]
    dwarf = {}
    for cmd in runs:
        dwarf[" ".join(cmd)] = run(a.cli, cmd, ["--debug-dir", debug_dir])
    if not dwarf:
        print("FAIL: no view to compare")
        return 1
    info = json.loads(run(a.cli, ["info", "--json", os.path.join(cores["small"], "core")],
                          ["--debug-dir", debug_dir] + sysroot(a))[1])
    if info.get("layout_source") != "dwarf":
        print("FAIL: the DWARF run's info says layout_source %r" % info.get("layout_source"))
        return 1
    with open(os.path.join(a.work, "dwarf.json"), "w") as f:
        json.dump({k: [v[0], v[1].decode("latin-1"), v[2].decode("latin-1")]
                   for k, v in dwarf.items()}, f)
    print("DWARF run: %d views (%s)" % (len(runs), info["debuginfo_path"]))
    return subprocess.run(["unshare", "-m", HOST_PYTHON, os.path.abspath(__file__), "--inside",
                           *sys.argv[1:]]).returncode


def shutil_which(name):
    import shutil
    return shutil.which(name)


def sysroot(a):
    return ["--sysroot", a.root] if a.root else []


def inside(a):
    cache = os.environ.get("PYMAC_CACHE", "/var/cache/pymac")
    hide = [pyenv_versions(), "/usr/lib/debug", os.path.join(cache, "builds")]
    if a.root:
        hide.append(os.path.join(a.root, "usr", "lib", "debug"))
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    for d in hide:
        if os.path.isdir(d):
            subprocess.run(["mount", "-t", "tmpfs", "none", d], check=True)
    if not a.probe:
        stripped_in_place(a)
    small = os.path.join(a.work, "core-small", "core")
    p = subprocess.run([a.cli] + sysroot(a) + ["info", "--json", small], capture_output=True,
                       text=True)
    # 3.8-3.11 keep pymalloc's state in file statics no symbol names in a
    # stripped build: pymac finds them in the code and data
    # (runtime/obmalloc_find.c), so every version must read here; a failure
    # to find them fails the row (no skip)
    if p.returncode != 0:
        print("FAIL: info without DWARF exited %d: %s" % (p.returncode, p.stderr.strip()))
        return 1
    info = json.loads(p.stdout)
    if a.probe:
        return 0
    if info["layout_source"] not in ("table", "debug_offsets+table") or info["debuginfo_path"]:
        print("FAIL: without DWARF, info says layout_source %r, debug info %r"
              % (info["layout_source"], info["debuginfo_path"]))
        return 1
    t = info["layout_table"]
    print("%s: layout_source %s, table %s (%s build, generated from %s), %d _Py_DebugOffsets "
          "checks" % (a.label, info["layout_source"], t["name"], t["build"], t["proven_on"],
                      info["debug_offsets_checked"]))
    with open(os.path.join(a.work, "dwarf.json")) as f:
        dwarf = json.load(f)
    ft = info["allocator"] == "mimalloc" and t["build"] == "free-threaded"
    ndiff = nsame = 0
    for key, (rc, out, err) in dwarf.items():
        cmd = key.split(" ")
        if "info" in cmd:
            continue
        got = run(a.cli, cmd)
        if (got[0], normalize(cmd, got[1].decode("latin-1")), got[2].decode("latin-1")) != \
                (rc, normalize(cmd, out), err):
            ndiff += 1
            print("DIFFERS from the DWARF run: %s (exit %d, DWARF %d)" % (key, got[0], rc))
        else:
            nsame += 1
    print("%d views identical to the DWARF run, %d differ" % (nsame, ndiff))
    nfail = 0
    for scenario, checks in (FT_CHECKS if ft else CHECKS).items():
        for what in checks:
            p = subprocess.run([HOST_PYTHON, os.path.join(os.path.dirname(HERE), "check_core.py"),
                                "--check", what, "--cli", a.cli,
                                "--dir", os.path.join(a.work, "core-" + scenario),
                                "--label", "stripped-run-" + a.label, "--scenario", scenario,
                                "--kind", "gcore", "--results", a.results],
                               capture_output=True, text=True)
            last = (p.stdout.strip().splitlines() or [p.stderr.strip()])[-1]
            print("  %s" % last)
            nfail += p.returncode != 0
    print("%d oracle checks failed" % nfail)
    nfail += matrix_checks(a)
    nfail += not unknown_version(a)
    if ndiff or nfail or not nsame:
        return 1
    return 0


def stripped_in_place(a):
    """Inside the namespace: the stripped copy's files where the original's
    were (its prefix, under a hidden directory, is an empty tmpfs now), so
    that the DWARF matrix's cores, which name the original's paths, are read
    with stripped files. A process's memory does not depend on its file's
    symbol table: these cores are what a stripped build's would be. Debian's
    rows need nothing: their files are stripped as shipped."""
    if debian_shipped(a.python):
        return
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(a.python)))
    copy = os.path.join(a.work, "python")
    os.makedirs(prefix, exist_ok=True)
    for sub in ("bin", "lib"):
        os.symlink(os.path.join(copy, sub), os.path.join(prefix, sub))


def matrix_tests(a):
    """The DWARF row's oracle checks, as ctest runs them: its own list, so
    that the stripped row runs every check the DWARF row runs, with the same
    arguments (the name's second part is the row's label)."""
    out = subprocess.run([a.ctest, "--test-dir", a.build, "--show-only=json-v1"],
                         capture_output=True, text=True, check=True).stdout
    tests = []
    for t in json.loads(out)["tests"]:
        parts = t["name"].split("/")
        cmd = t.get("command") or []
        if len(parts) < 2 or parts[1] != a.label or "--skip-missing" in cmd:
            continue
        # a 3.16 with DWARF is read with a warning (exit 9); stripped, no
        # table covers it and it must exit 7: unknown_version's case
        if parts[0] == "untested_version":
            continue
        if any(os.path.basename(c) in ("check_core.py", "check_traced.py") for c in cmd):
            tests.append((t["name"], cmd))
    return tests


def matrix_checks(a):
    """Every oracle check of the DWARF row, on its cores read stripped
    (stripped_in_place), recorded as the row stripped-LABEL. Returns the
    number of failures (one more when there was no check to run)."""
    tests = matrix_tests(a)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    took = []
    start = time.monotonic()
    for name, cmd in tests:
        # ctest's python3 may be pyenv's, which the namespace hides
        at = next(i for i, c in enumerate(cmd)
                  if os.path.basename(c) in ("check_core.py", "check_traced.py"))
        cmd = [HOST_PYTHON] + cmd[at:]
        cmd[cmd.index("--label") + 1] = "stripped-" + a.label
        cmd[cmd.index("--cli") + 1] = a.cli
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        took.append((time.monotonic() - t0, name))
        verdict = {0: "pass", SKIP: "skip"}.get(p.returncode, "fail")
        counts[verdict] += 1
        if verdict != "pass":
            last = (p.stdout.strip().splitlines() or p.stderr.strip().splitlines() or [""])[-1]
            print("  %s %s: %s" % (verdict, name, last))
    print("the DWARF row's %d oracle checks on its cores read stripped: %d passed, %d failed, "
          "%d skipped, in %.0f s (longest: %s)"
          % (len(tests), counts["pass"], counts["fail"], counts["skip"],
             time.monotonic() - start,
             ", ".join("%s %.0f s" % (n, t) for t, n in sorted(took, reverse=True)[:3])))
    if not tests:
        print("FAIL: ctest lists no oracle check of the row %s" % a.label)
    return counts["fail"] + (not tests)


def unknown_version(a):
    """A version no table covers: the small core, its interpreter made to say
    3.16 (Py_Version patched in a copy of a static executable that exports it,
    and of the core if it holds that page), must exit 7 with one line naming
    3.16. Only where the interpreter is such an executable (Debian's)."""
    import tempfile
    sys.path.insert(0, os.path.dirname(HERE))
    from check_core import patch_py_version, static_py_version
    exe = os.path.join(a.root, a.python.lstrip("/")) if a.root else a.python
    vaddr = static_py_version(exe)
    if vaddr is None:
        print("  (no 3.16 case: %s is not a static executable exporting Py_Version)" % exe)
        return True
    core = os.path.join(a.work, "core-small", "core")
    with tempfile.TemporaryDirectory() as tmp:
        pexe, pcore = os.path.join(tmp, "python3.16"), os.path.join(tmp, "core")
        if not patch_py_version(exe, vaddr, 16, pexe):
            print("FAIL: Py_Version at %#x is not in %s" % (vaddr, exe))
            return False
        if not patch_py_version(core, vaddr, 16, pcore):
            os.symlink(core, pcore)
        p = run(a.cli, ["gc", "--exe", pexe, pcore], sysroot(a))
        err = p[2].decode("latin-1").strip().splitlines()
        if p[0] != 7 or len(err) != 1 or "3.16" not in err[0]:
            print("FAIL: a stripped 3.16: exit %d, %r (want 7 and one line naming 3.16)"
                  % (p[0], err))
            return False
        print("  ok a stripped 3.16: exit 7: %s" % err[0])
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--root", help="the system root PYTHON runs in (its path is the root's)")
    ap.add_argument("--label", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--build", required=True, help="the build tree ctest lists the DWARF "
                    "matrix's tests in")
    ap.add_argument("--ctest", default="ctest")
    ap.add_argument("--cores", required=True, help="the DWARF matrix's cores")
    ap.add_argument("--inside", action="store_true")
    ap.add_argument("--probe", action="store_true", help="inside: info on the small core only")
    a = ap.parse_args()
    a.cli = os.path.abspath(a.cli)
    a.work = os.path.abspath(a.work)
    a.results = os.path.abspath(a.results)
    a.build = os.path.abspath(a.build)
    a.cores = os.path.abspath(a.cores)
    return inside(a) if a.inside else outside(a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Bad input never crashes, hangs or lies: each case expects a documented exit
code and exactly one line on stderr.

  bad_input.py --cli PATH --work DIR --fixtures DIR setup
  bad_input.py --cli PATH --work DIR --fixtures DIR CASE

`setup` makes the inputs (a small Python core, a core of /bin/sleep, a
Python core whose libpython has no debug info). Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import time

SKIP = 77
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures")
sys.dont_write_bytecode = True
# Exit codes documented in README.md and pymac.h.
USAGE, IO, NOT_CORE, TRUNCATED, NOT_PYTHON, NO_DEBUGINFO, MISMATCH, ADDRESS = 2, 3, 4, 5, 6, 7, 8, 10


def pyenv_pythons():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = []
    for minor in (12, 13, 11, 10, 9, 8):
        found += sorted(glob.glob("%s/versions/3.%d.*/bin/python3.%d" % (root, minor, minor)))
    return found


def kernel_core(argv, workdir, env=None, timeout=60, preexec=None):
    """Runs argv (which must abort) with core dumps on; returns the core's path."""
    os.makedirs(workdir, exist_ok=True)
    for old in glob.glob(os.path.join(workdir, "core*")):
        os.unlink(old)
    import resource

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        if preexec:
            preexec()

    subprocess.run(argv, cwd=workdir, env=env, preexec_fn=limits, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cores = glob.glob(os.path.join(workdir, "core*"))
    if not cores:
        return None
    path = os.path.join(workdir, "core")
    os.rename(cores[0], path)
    return path


def setup(a):
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or pattern.startswith("/"):
        print("skip: kernel cores go to %s" % pattern)
        return SKIP
    pythons = pyenv_pythons()
    if not pythons:
        print("skip: no pyenv CPython found")
        return SKIP
    py = pythons[0]
    prog = "import os; os.abort()"
    if not kernel_core([py, "-I", "-c", prog], os.path.join(a.work, "python")):
        print("FAIL: no core from %s" % py)
        return 1
    # A process that is not Python at all.
    if not kernel_core(["/bin/sh", "-c", "kill -ABRT $$"], os.path.join(a.work, "sleep")):
        print("FAIL: no core from /bin/sh")
        return 1
    # The same interpreter, but its libpython stripped of debug info: load a
    # stripped copy through LD_LIBRARY_PATH (pyenv builds use RUNPATH, which
    # LD_LIBRARY_PATH overrides).
    prefix = os.path.dirname(os.path.dirname(py))
    lib = glob.glob(os.path.join(prefix, "lib", "libpython3.*.so.1.0"))[0]
    libdir = os.path.join(a.work, "stripped-lib")
    os.makedirs(libdir)
    stripped = os.path.join(libdir, os.path.basename(lib))
    subprocess.run(["objcopy", "--strip-debug", lib, stripped], check=True)
    # ... and the debug info it lost, where --debug-dir can find it by build-id.
    note = subprocess.run(["readelf", "-n", lib], capture_output=True, text=True).stdout
    build_id = note.split("Build ID:")[1].split()[0]
    debug = os.path.join(a.work, "debug-dir", ".build-id", build_id[:2])
    os.makedirs(debug)
    shutil.copy(lib, os.path.join(debug, build_id[2:] + ".debug"))
    env = dict(os.environ, LD_LIBRARY_PATH=libdir, PYTHONHOME=prefix)
    if not kernel_core([py, "-I", "-c", prog], os.path.join(a.work, "nodebug"), env=env):
        print("FAIL: no core from the stripped interpreter")
        return 1
    # The same interpreter run from a library directory of its own, which then
    # gets another build's library under the same name: build-ids differ. The
    # swap happens here, once, so that no case changes a file another case
    # reads while ctest runs them in parallel.
    mdir = os.path.join(a.work, "mismatch-lib")
    os.makedirs(mdir)
    shutil.copy(stripped, mdir)
    menv = dict(env, LD_LIBRARY_PATH=mdir)
    if not kernel_core([py, "-I", "-c", prog], os.path.join(a.work, "mismatch"), env=menv):
        print("FAIL: no core for the mismatch case")
        return 1
    other = [p for p in pythons if os.path.dirname(os.path.dirname(p)) != prefix]
    if other:
        olib = glob.glob(os.path.join(os.path.dirname(os.path.dirname(other[0])), "lib",
                                      "libpython3.*.so.1.0"))[0]
        shutil.copy(olib, os.path.join(mdir, os.path.basename(lib)))
        open(os.path.join(a.work, "mismatch", "swapped"), "w").close()
    # A core taken "in a container": the interpreter brought into a small root
    # at /opt/python (a path the host does not have), with the host's C
    # libraries, run there with chroot (fixtures/rootrun.py).
    if os.geteuid() == 0 and not chroot_core(py, prefix, os.path.join(a.work, "root")):
        print("FAIL: no core from the interpreter run in a root")
        return 1
    print("ok: inputs in %s" % a.work)
    return 0


def chroot_core(py, prefix, root):
    """ROOT/opt/python (hard links to prefix, else copies), the shared libraries
    py needs at their own paths, ROOT/work/core from os.abort() inside ROOT."""
    sys.path.insert(0, FIXTURES)
    import rootrun

    def link_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(prefix, os.path.join(root, "opt", "python"), symlinks=True,
                    copy_function=link_copy)
    exe = os.path.join(root, "opt", "python", "bin", os.path.basename(py))
    libs = glob.glob(os.path.join(prefix, "lib", "libpython3.*.so.1.0"))
    deps = subprocess.run(["ldd", py] + libs, capture_output=True, text=True).stdout
    for line in deps.split():
        if line.startswith("/") and os.path.exists(line) and not line.startswith(prefix):
            dst = os.path.join(root, line.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.realpath(line), dst)
    for d in ("proc", "tmp", "work"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    inside = "/opt/python/bin/" + os.path.basename(exe)
    env = dict(os.environ, LD_LIBRARY_PATH="/opt/python/lib")
    env.pop("PYTHONHOME", None)
    return kernel_core([inside, "-I", "-c", "import os; os.abort()"], os.path.join(root, "work"),
                       env=env, preexec=rootrun.enter(root, "/work"))


def run(a, args, want, why, timeout=60):
    start = time.monotonic()
    p = subprocess.run([a.cli, *args], capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - start
    lines = p.stderr.splitlines()
    if p.returncode != want:
        print("FAIL %s: exit %d, want %d; stderr: %s" % (why, p.returncode, want, p.stderr))
        return False
    if p.returncode < 0:
        print("FAIL %s: killed by signal %d" % (why, -p.returncode))
        return False
    if len(lines) != 1 or not lines[0].startswith("pymac-analyze: "):
        print("FAIL %s: want one error line, got %r" % (why, p.stderr))
        return False
    print("ok %s: exit %d in %.2fs: %s" % (why, want, took, lines[0]))
    return True


def need(path):
    if not os.path.exists(path):
        print("skip: %s was not made (setup skipped)" % path)
        sys.exit(SKIP)
    return path


def case_missing_file(a):
    return run(a, ["info", os.path.join(a.work, "no-such-core")], IO, "missing file")


def case_not_elf(a):
    path = os.path.join(a.work, "not-elf")
    with open(path, "w") as f:
        f.write("this is not a core file\n" * 10)
    ok = run(a, ["info", path], NOT_CORE, "text file")
    open(path, "w").close()
    return run(a, ["info", path], NOT_CORE, "empty file") and ok


def case_not_core(a):
    return run(a, ["info", "/bin/sh"], NOT_CORE, "ELF executable, not a core")


def case_not_python(a):
    core = need(os.path.join(a.work, "sleep", "core"))
    ok = run(a, ["stats", core], NOT_PYTHON, "core of /bin/sh")
    # cut short in its memory data, it is still not Python (not "truncated")
    data = open(core, "rb").read()
    path = os.path.join(a.work, "sleep-truncated")
    with open(path, "wb") as f:
        f.write(data[:len(data) * 3 // 4])
    return run(a, ["stats", path], NOT_PYTHON, "core of /bin/sh cut at 3/4") and ok


def phdrs(data):
    """(type, offset, vaddr, filesz) of each program header of an ELF64 core."""
    import struct
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    out = []
    for i in range(phnum):
        t, _, off, va, _, fsz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        out.append((t, off, va, fsz))
    return phoff + phnum * phentsize, out


def truncation_classes(a, core, data):
    """Where a cut stops being fatal: (end of headers and notes, first byte of the
    interpreter's state or its heap, end of the segments holding them)."""
    import json
    headers_end, ph = phdrs(data)
    notes_end = max([headers_end] + [off + fsz for t, off, _, fsz in ph if t == 4])
    p = subprocess.run([a.cli, "info", "--json", core], capture_output=True, text=True, timeout=60)
    info = json.loads(p.stdout)
    p = subprocess.run([a.cli, "arenas", "--json", core], capture_output=True, text=True,
                       timeout=60)
    addrs = [int(info["runtime_address"], 16), int(info["main_interpreter"], 16)]
    addrs += [int(x["address"], 16) for x in json.loads(p.stdout)["arenas"]]
    segs = [(off, va, fsz) for t, off, va, fsz in ph if t == 1 and fsz]
    starts, ends = [], []
    for addr in addrs:
        for off, va, fsz in segs:
            if va <= addr < va + fsz:
                starts.append(off + addr - va)
                ends.append(off + fsz)
    return notes_end, min(starts), max(ends)


def case_truncated(a):
    """A cut in the ELF header: not a core (4). In the program headers or the
    notes: truncated (5). In the memory data before the interpreter's state or
    heap: truncated (5), the message says the state is missing. After the
    segments holding them: the core opens with a warning and stats is exact."""
    core = need(os.path.join(a.work, "python", "core"))
    data = open(core, "rb").read()
    size = len(data)
    full = subprocess.run([a.cli, "stats", core], capture_output=True, text=True, timeout=60)
    notes_end, state_start, state_end = truncation_classes(a, core, data)
    cuts = sorted({1, 4, 15, 16, 40, 63, 64, 100, 1000, 3000, 4096, 8192, 70000,
                   notes_end - 1, notes_end, notes_end + 1, state_start // 2, state_start,
                   (state_start + state_end) // 2, state_end - 4096,
                   state_end + 1, (state_end + size) // 2, size - 4096, size - 1} - {0})
    print("classes: notes end at %d, state from %d, state segments end at %d, size %d"
          % (notes_end, state_start, state_end, size))
    ok = True
    path = os.path.join(a.work, "truncated")
    for cut in cuts:
        if cut >= size:
            continue
        with open(path, "wb") as f:
            f.write(data[:cut])
        why = "core cut at %d of %d bytes" % (cut, size)
        if cut < 16:
            ok = run(a, ["stats", path], NOT_CORE, why + " (ELF header)") and ok
        elif cut < notes_end:
            ok = run(a, ["stats", path], TRUNCATED, why + " (headers, notes)") and ok
        elif cut <= state_start:
            ok = run(a, ["stats", path], TRUNCATED, why + " (before the interpreter)") and ok
        elif cut >= state_end:
            p = subprocess.run([a.cli, "stats", path], capture_output=True, text=True,
                               timeout=60)
            if p.returncode != 0 or p.stdout != full.stdout or \
                    "warning: core truncated: %d of %d bytes" % (cut, size) not in p.stderr:
                print("FAIL %s (after the interpreter's data): exit %d, stats %s, stderr %r"
                      % (why, p.returncode, "same" if p.stdout == full.stdout else "differs",
                         p.stderr))
                ok = False
            else:
                print("ok %s (after the interpreter's data): exit 0, stats exact, %s"
                      % (why, p.stderr.strip()))
        else:
            # inside the segments of the state and heap: either the state is
            # gone (5, one line), or the heap is partly there (1, warnings), or
            # what stats reads is all there (0, exact, with the warning)
            p = subprocess.run([a.cli, "stats", path], capture_output=True, text=True,
                               timeout=60)
            lines = p.stderr.splitlines()
            good = (p.returncode == TRUNCATED and len(lines) == 1 and
                    lines[0].startswith("pymac-analyze: core truncated")) or \
                   (p.returncode in (0, 1) and any(l.startswith("warning: core truncated")
                                                   for l in lines) and
                    (p.returncode == 1 or p.stdout == full.stdout))
            print("%s %s (inside the interpreter's data): exit %d: %s"
                  % ("ok" if good else "FAIL", why, p.returncode, lines[:2]))
            ok = good and ok
    return ok


def case_no_debuginfo(a):
    """A libpython without DWARF: pymac's layout table for the version stands
    in (info says so), and stats is what the DWARF (--debug-dir) gives, byte
    for byte; without a table it would be exit 7, which the stripped matrix
    checks with a version no table covers."""
    import json
    core = need(os.path.join(a.work, "nodebug", "core"))
    p = subprocess.run([a.cli, "info", "--json", core], capture_output=True, text=True,
                       timeout=60)
    if p.returncode == NO_DEBUGINFO:
        return run(a, ["stats", core], NO_DEBUGINFO, "libpython without DWARF, no layout table")
    info = json.loads(p.stdout) if p.returncode == 0 else {}
    if info.get("layout_source") not in ("table", "debug_offsets+table") or \
            info.get("debuginfo_path"):
        print("FAIL libpython without DWARF: info exit %d, %r" % (p.returncode, p.stderr or info))
        return False
    got = subprocess.run([a.cli, "stats", core], capture_output=True, text=True, timeout=60)
    want = subprocess.run([a.cli, "--debug-dir", os.path.join(a.work, "debug-dir"), "stats",
                           core], capture_output=True, text=True, timeout=60)
    if got.returncode != 0 or got.stdout != want.stdout or want.returncode != 0:
        print("FAIL libpython without DWARF: stats from the table (exit %d) differs from the "
              "DWARF's (exit %d)" % (got.returncode, want.returncode))
        return False
    print("ok libpython without DWARF: layouts from the table %s, stats as DWARF's, byte for "
          "byte" % info["layout_table"]["name"])
    return True


def case_debug_dir(a):
    """The fix the no-debuginfo message names works: --debug-dir DIR."""
    core = need(os.path.join(a.work, "nodebug", "core"))
    ddir = os.path.join(a.work, "debug-dir")
    p = subprocess.run([a.cli, "--debug-dir", ddir, "info", "--json", core],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        print("FAIL --debug-dir: exit %d: %s" % (p.returncode, p.stderr))
        return False
    import json
    info = json.loads(p.stdout)
    if not info["debuginfo_path"].startswith(ddir) or info["debuginfo_source"] != "build-id directory":
        print("FAIL --debug-dir: debug info from %s (%s)" % (info["debuginfo_path"],
                                                           info["debuginfo_source"]))
        return False
    print("ok --debug-dir: DWARF from %s" % info["debuginfo_path"])
    return True


def case_mismatch(a):
    core = need(os.path.join(a.work, "mismatch", "core"))
    if not os.path.exists(os.path.join(a.work, "mismatch", "swapped")):
        print("skip: only one pyenv interpreter, no other build to swap in")
        sys.exit(SKIP)
    # setup put the other build where the core says libpython was.
    return run(a, ["stats", core], MISMATCH, "libpython replaced by another build")


def case_sysroot(a):
    """A core whose interpreter is not on the host: the error names the file
    and suggests --sysroot; a wrong --sysroot says so; the right one works."""
    if os.geteuid() != 0:
        print("skip: making a core in a root needs root privileges")
        sys.exit(SKIP)
    root = os.path.join(a.work, "root")
    core = need(os.path.join(root, "work", "core"))
    ok = run(a, ["stats", core], IO, "interpreter only in a root, no --sysroot")
    ok = expect_in(a, ["stats", core], ["/opt/python/bin/python3.", "--sysroot"]) and ok
    ok = run(a, ["--sysroot", a.work, "stats", core], IO, "a --sysroot without it") and ok
    ok = expect_in(a, ["--sysroot", a.work, "stats", core], ["not under the sysroot " + a.work]) and ok
    ok = run(a, ["--sysroot", "", "stats", core], USAGE, "an empty --sysroot") and ok
    p = subprocess.run([a.cli, "--sysroot", root, "info", "--json", core],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        print("FAIL --sysroot: exit %d: %s" % (p.returncode, p.stderr))
        return False
    import json
    info = json.loads(p.stdout)
    if not info["python_module"].startswith(root + "/opt/python/"):
        print("FAIL --sysroot: interpreter from %s" % info["python_module"])
        return False
    print("ok --sysroot: %s, CPython %s" % (info["python_module"], info["python_version"]))
    return ok


def expect_in(a, args, words):
    p = subprocess.run([a.cli, *args], capture_output=True, text=True, timeout=60)
    missing = [w for w in words if w not in p.stderr]
    if missing:
        print("FAIL: the error of %s lacks %r: %s" % (" ".join(args), missing, p.stderr.strip()))
        return False
    return True


def case_bad_address(a):
    core = need(os.path.join(a.work, "python", "core"))
    ok = run(a, ["whereis", core, "0x10"], ADDRESS, "unmapped address")
    ok = run(a, ["whereis", core, "0xffffffffffffffff"], ADDRESS, "top of the address space") and ok
    return run(a, ["whereis", core, "banana"], USAGE, "not an address") and ok


def case_usage(a):
    core = need(os.path.join(a.work, "python", "core"))
    ok = run(a, [], USAGE, "no arguments")
    ok = run(a, ["--frobnicate", core], USAGE, "unknown option") and ok
    ok = run(a, ["stats", "--json", core], USAGE, "stats has no JSON form") and ok
    ok = run(a, ["pools", "--size-class", "99", core], USAGE, "size class out of range") and ok
    return run(a, ["arenas", "--arena", "0x1000", core], USAGE, "--arena on arenas") and ok


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("what", choices=["setup"] + sorted(CASES))
    a = ap.parse_args()
    if a.what == "setup":
        return setup(a)
    return 0 if CASES[a.what](a) else 1


if __name__ == "__main__":
    sys.exit(main())

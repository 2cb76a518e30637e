#!/usr/bin/env python3
"""The CPython builds with DWARF on this machine, for the layout tables:
one line per build, "TABLE FILE=VERSION", where FILE is the ELF holding the
interpreter (libpython, or the executable of a static build) and TABLE the
table that covers it (py311, py313t, ...).

  interpreters.py [--sid ROOT] [--extra PYTHON...]

pyenv's 3.8-3.13 (PYENV_ROOT or ~/.pyenv), Debian's /usr/bin/python3.X when
its -dbg package is installed, and any PYTHON given. Missing ones are
reported on stderr ("skip ..."), never silently dropped."""
import glob
import os
import subprocess
import sys

QUERY = ("import sys, sysconfig, platform, os;"
         "lib = os.path.join(sysconfig.get_config_var('LIBDIR') or '', "
         "sysconfig.get_config_var('LDLIBRARY') or '');"
         "ft = bool(sysconfig.get_config_var('Py_GIL_DISABLED'));"
         "print(platform.python_version(), int(ft), os.path.realpath(sys.executable), lib)")


def describe(python):
    p = subprocess.run([python, "-c", QUERY], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None
    version, ft, exe, lib = p.stdout.split()
    # the interpreter is in libpython when the executable links it (pyenv's
    # --enable-shared), else in the executable (Debian's static python3.X)
    dyn = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True).stdout
    path = os.path.realpath(lib) if "libpython3" in dyn else exe
    minor = version.split(".")[1]
    return "py3%s%s" % (minor, "t" if ft == "1" else ""), path, version


def has_debug(path):
    """DWARF in the file, or a Debian -dbg file by build-id."""
    out = subprocess.run(["readelf", "-S", "-n", path], capture_output=True, text=True).stdout
    if ".debug_info" in out:
        return True
    for line in out.splitlines():
        if "Build ID:" in line:
            bid = line.split()[-1]
            return os.path.exists("/usr/lib/debug/.build-id/%s/%s.debug" % (bid[:2], bid[2:]))
    return False


def main():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = []
    for minor in range(8, 14):
        found = sorted(glob.glob("%s/versions/3.%d.*/bin/python3.%d" % (root, minor, minor)))
        if found:
            candidates.append(found[0])
        else:
            print("skip pyenv 3.%d: not installed" % minor, file=sys.stderr)
    for minor in range(8, 16):
        p = "/usr/bin/python3.%d" % minor
        if os.path.exists(p):
            candidates.append(p)
    candidates += sys.argv[1:]
    for python in candidates:
        d = describe(python)
        if not d:
            print("skip %s: does not run" % python, file=sys.stderr)
            continue
        table, path, version = d
        if not has_debug(path):
            print("skip %s (%s): no DWARF (for Debian, install python3.X-dbg)" % (python, path),
                  file=sys.stderr)
            continue
        print("%s %s=%s" % (table, path, version))


if __name__ == "__main__":
    main()

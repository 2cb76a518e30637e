#!/usr/bin/env python3
"""A stripped copy of a CPython build, as slim container images ship it.

  make_stripped.py PYTHON OUTDIR      prints OUTDIR/bin/python3.X

`strip --strip-all` of the executable and, for a shared build, of libpython;
the copy's executable loads its own libpython (its RUNPATH is rewritten in
place to $ORIGIN/../lib, a shorter string, NUL-padded). lib/python3.X links to
the original standard library: the interpreter needs it to run, pymac never
reads it. Made once per build and reused (OUTDIR/.done holds the source's
identity)."""
import os
import shutil
import subprocess
import sys


def runpath_of(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        if "(RUNPATH)" in line or "(RPATH)" in line:
            return line.split("[", 1)[1].rsplit("]", 1)[0]
    return None


def rewrite_runpath(path, old, new):
    data = bytearray(open(path, "rb").read())
    needle = old.encode() + b"\0"
    if data.count(needle) != 1 or len(new) > len(old):
        sys.exit("make_stripped: cannot rewrite the RUNPATH %r of %s" % (old, path))
    at = data.index(needle)
    data[at:at + len(needle)] = new.encode().ljust(len(needle), b"\0")
    open(path, "wb").write(bytes(data))


def main():
    python, out = os.path.realpath(sys.argv[1]), sys.argv[2]
    q = subprocess.run([python, "-c", "import sys, sysconfig; print(sys.version_info[1], "
                        "sysconfig.get_config_var('LIBDIR'), sysconfig.get_config_var('LDLIBRARY'),"
                        " sysconfig.get_config_var('LIBDEST'))"], capture_output=True, text=True,
                       check=True)
    minor, libdir, ldlib, libdest = q.stdout.split()
    exe_name = os.path.basename(python)  # python3.X, or python3.Xt
    stamp = os.path.join(out, ".done")
    ident = "%s %d\n" % (python, os.stat(python).st_mtime_ns)
    target = os.path.join(out, "bin", exe_name)
    if os.path.exists(stamp) and open(stamp).read() == ident:
        print(target)
        return
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "bin"))
    os.makedirs(os.path.join(out, "lib"))
    subprocess.run(["strip", "--strip-all", "-o", target, python], check=True)
    old = runpath_of(target)
    needed = subprocess.run(["readelf", "-d", target], capture_output=True, text=True).stdout
    if "libpython3" in needed:
        lib = os.path.realpath(os.path.join(libdir, ldlib))
        soname = [l for l in needed.splitlines() if "libpython3" in l][0]
        soname = soname.split("[", 1)[1].rsplit("]", 1)[0]
        subprocess.run(["strip", "--strip-all", "-o", os.path.join(out, "lib", soname), lib],
                       check=True)
        if not old:
            sys.exit("make_stripped: %s links libpython without a RUNPATH" % python)
        rewrite_runpath(target, old, "$ORIGIN/../lib")
    # The standard library: links to the original's files, but extension
    # modules (lib-dynload) stripped copies, since a core maps them and pymac
    # reads their pages where the original builds are hidden.
    stdlib = libdest
    mine = os.path.join(out, "lib", os.path.basename(libdest))
    os.makedirs(mine)
    for name in os.listdir(stdlib):
        if name != "lib-dynload":
            os.symlink(os.path.join(stdlib, name), os.path.join(mine, name))
    dyn = os.path.join(stdlib, "lib-dynload")
    if os.path.isdir(dyn):
        os.makedirs(os.path.join(mine, "lib-dynload"))
        for name in os.listdir(dyn):
            src = os.path.join(dyn, name)
            if name.endswith(".so"):
                subprocess.run(["strip", "--strip-all", "-o",
                                os.path.join(mine, "lib-dynload", name), src], check=True)
            else:
                os.symlink(src, os.path.join(mine, "lib-dynload", name))
    open(stamp, "w").write(ident)
    print(target)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compressed cores: zstd, xz, lz4 and gzip, against the oracle.

  compressed.py --cli PATH --dir COREDIR --work DIR --label L [--kernel-dir DIR]
                [--growth-dirs OLD NEW] CASE

COREDIR holds a fixture core made by fixtures/make-core and its oracle; each
case compresses it (with the zstd, xz, lz4 and gzip tools) at test time into
WORK/CASE. Cases:
  formats   each format: stats byte for byte, the GC lists and censuses as
            check_core.py checks them on the plain core, info's
            "compressed: FMT (N MiB -> M MiB)" and its JSON sizes exactly
  names     the systemd-coredump name core.python3.UID.BOOTID.PID.TIME.zst of a
            kernel core, a zstd stream named "core", a plain core named ".gz"
  growth    diff and leaks --baseline with compressed cores on either side
            (check_core.py's growth check: the two oracles' numbers)
  corrupt   truncated and damaged streams, a stream of text, of an executable:
            each a one-line error with its documented exit code
  nospace   no room in $TMPDIR (a 2 MiB tmpfs in a private mount namespace; a
            file size limit where that cannot be made), $TMPDIR missing
  signals   SIGINT and SIGTERM while the decompressed copy is open: it has no
            name from the start, so nothing is left; its zero pages are holes
Every run gets a fresh empty $TMPDIR, which must be empty afterwards.
Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import glob
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import check_core  # noqa: E402  (the oracle comparisons of the plain cores)

SKIP = 77
IO, NOT_CORE, TRUNCATED = 3, 4, 5
# format -> (tool, its arguments to compress stdin to stdout, Debian package)
FORMATS = {
    "zstd": (["zstd", "-q", "-c", "-3"], "zstd", ".zst"),
    "xz": (["xz", "-c", "-1", "-T1"], "xz-utils", ".xz"),
    "lz4": (["lz4", "-q", "-c"], "lz4", ".lz4"),
    "gzip": (["gzip", "-c", "-1"], "gzip", ".gz"),
}


class Failure(Exception):
    pass


def compress(fmt, src, dst):
    tool, pkg, _ = FORMATS[fmt]
    if not shutil.which(tool[0]):
        print("skip: no %s (Debian package %s)" % (tool[0], pkg))
        sys.exit(SKIP)
    with open(src, "rb") as i, open(dst, "wb") as o:
        subprocess.run(tool, stdin=i, stdout=o, check=True)
    return dst


class Tmp:
    """A fresh $TMPDIR for one run; must be empty afterwards."""

    def __init__(self, a, name):
        self.path = os.path.join(a.work, "tmp-" + name)
        shutil.rmtree(self.path, ignore_errors=True)
        os.makedirs(self.path)

    def env(self, **extra):
        return dict(os.environ, TMPDIR=self.path, **extra)

    def check_empty(self, why):
        left = os.listdir(self.path)
        if left:
            raise Failure("%s left %s in $TMPDIR" % (why, left))


def run(a, args, tmp, **kw):
    return subprocess.run([a.cli, *check_core.SYSROOT, *args], capture_output=True, text=True,
                          timeout=240, env=tmp.env(), **kw)


def expect_error(a, args, code, why, tmp, contains=None, **kw):
    p = run(a, args, tmp, **kw)
    lines = p.stderr.splitlines()
    if p.returncode != code or len(lines) != 1 or not lines[0].startswith("pymac-analyze: "):
        raise Failure("%s: exit %d (want %d), stderr %r" % (why, p.returncode, code, p.stderr))
    if contains and contains not in lines[0]:
        raise Failure("%s: the error does not say %r: %s" % (why, contains, lines[0]))
    tmp.check_empty(why)
    print("ok %s: exit %d: %s" % (why, code, lines[0]))


def oracle_checks(a, core, tmp, checks=("stats", "gc", "census")):
    """check_core.py's comparisons with the oracle, on a compressed core."""
    with open(os.path.join(a.dir, "oracle.json")) as f:
        oracle = json.load(f)
    ns = types.SimpleNamespace(cli=a.cli, dir=a.dir, core=core, label=a.label, kind="gcore")
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = tmp.path
    try:
        for c in checks:
            try:
                check_core.CHECKS[c](ns, oracle)
            except check_core.Failure as e:
                raise Failure("%s of %s: %s" % (c, os.path.basename(core), e))
    finally:
        if old is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = old
    tmp.check_empty(" ".join(checks))
    return oracle


def mib(n):
    return "%.1f MiB" % (n / 1048576.0)


def case_formats(a):
    plain = os.path.join(a.dir, "core")
    size = os.path.getsize(plain)
    for fmt, (_, _, ext) in FORMATS.items():
        core = compress(fmt, plain, os.path.join(a.work, "core" + ext))
        tmp = Tmp(a, fmt)
        oracle = oracle_checks(a, core, tmp)
        p = run(a, ["info", core], tmp)
        want = "compressed:       %s (%s -> %s)" % (fmt, mib(os.path.getsize(core)), mib(size))
        if p.returncode != 0 or want not in p.stdout.splitlines():
            raise Failure("info of %s: exit %d, no line %r in:\n%s" % (core, p.returncode, want,
                                                                       p.stdout))
        info = json.loads(run(a, ["info", "--json", core], tmp).stdout)
        wantj = {"format": fmt, "compressed_bytes": os.path.getsize(core), "core_bytes": size}
        if info["compressed"] != wantj or info["python_version"] != oracle["version"]:
            raise Failure("info --json of %s: %r, want %r" % (core, info["compressed"], wantj))
        plain_info = json.loads(run(a, ["info", "--json", plain], tmp).stdout)
        if plain_info["compressed"] is not None:
            raise Failure("info --json of the plain core: compressed %r"
                          % plain_info["compressed"])
        tmp.check_empty("info")
        print("ok %s: stats, gc and censuses as the oracle (CPython %s); %s"
              % (fmt, oracle["version"], want.split(None, 1)[1]))
    return True


def case_names(a):
    """What the file is called does not matter: its first bytes do."""
    src = os.path.join(a.kernel_dir or a.dir, "core")
    saved_dir = a.dir
    a.dir = a.kernel_dir or a.dir
    try:
        boot = open("/proc/sys/kernel/random/boot_id").read().strip().replace("-", "")
        name = "core.python3.%d.%s.%d.%d000000.zst" % (os.getuid(), boot, 4242,
                                                       int(time.time()))
        sysd = compress("zstd", src, os.path.join(a.work, name))
        oracle_checks(a, sysd, Tmp(a, "systemd"), checks=("stats",))
        print("ok systemd-coredump's name %s: stats as the oracle" % name)
        bare = os.path.join(a.work, "core")
        shutil.copy(sysd, bare)
        oracle_checks(a, bare, Tmp(a, "bare"), checks=("stats",))
        print("ok a zstd stream named 'core': stats as the oracle")
        liar = os.path.join(a.work, "plain.gz")
        shutil.copy(src, liar)
        tmp = Tmp(a, "liar")
        oracle_checks(a, liar, tmp, checks=("stats",))
        if json.loads(run(a, ["info", "--json", liar], tmp).stdout)["compressed"] is not None:
            raise Failure("a plain core named .gz is said to be compressed")
        print("ok a plain core named plain.gz: read as it is")
    finally:
        a.dir = saved_dir
    return True


def case_growth(a):
    """check_core.py's growth check (diff, leaks --baseline) with the older
    core zstd and the newer xz, then the older gzip and the newer plain."""
    old_dir, new_dir = a.growth_dirs
    with open(os.path.join(new_dir, "oracle.json")) as f:
        oracle = json.load(f)
    for old_fmt, new_fmt in (("zstd", "xz"), ("gzip", None), (None, "lz4")):
        dirs = []
        for d, fmt, tag in ((old_dir, old_fmt, "old"), (new_dir, new_fmt, "new")):
            w = os.path.join(a.work, "%s-%s" % (tag, fmt or "plain"))
            shutil.rmtree(w, ignore_errors=True)
            os.makedirs(w)
            for f in ("oracle.json", "mallocstats.txt", "meta.json"):
                os.symlink(os.path.join(d, f), os.path.join(w, f))
            if fmt:
                compress(fmt, os.path.join(d, "core"), os.path.join(w, "core"))
            else:
                os.symlink(os.path.join(d, "core"), os.path.join(w, "core"))
            dirs.append(w)
        tmp = Tmp(a, "growth")
        ns = types.SimpleNamespace(cli=a.cli, dir=dirs[1], core=os.path.join(dirs[1], "core"),
                                   baseline_dir=dirs[0], label=a.label, kind="gcore")
        os.environ["TMPDIR"] = tmp.path
        try:
            check_core.check_growth(ns, oracle)
        except check_core.Failure as e:
            raise Failure("growth, old %s, new %s: %s" % (old_fmt, new_fmt, e))
        tmp.check_empty("diff, leaks --baseline")
        print("ok diff and leaks --baseline, old core %s, new core %s: the oracles' growth"
              % (old_fmt or "plain", new_fmt or "plain"))
    return True


def case_corrupt(a):
    plain = os.path.join(a.dir, "core")
    for fmt, (_, _, ext) in FORMATS.items():
        good = compress(fmt, plain, os.path.join(a.work, "good" + ext))
        data = open(good, "rb").read()
        tmp = Tmp(a, "corrupt-" + fmt)
        bad = os.path.join(a.work, "bad" + ext)
        for cut in (8, 100, len(data) // 2, len(data) - 1):
            with open(bad, "wb") as f:
                f.write(data[:cut])
            expect_error(a, ["stats", bad], TRUNCATED,
                         "%s cut at %d of %d bytes" % (fmt, cut, len(data)), tmp,
                         contains="stream ends early")
        # damage in the middle: the libraries' checks find it
        for at in (len(data) // 3, len(data) * 2 // 3):
            d = bytearray(data)
            for i in range(at, at + 64):
                d[i] ^= 0x5A
            with open(bad, "wb") as f:
                f.write(d)
            expect_error(a, ["stats", bad], IO, "%s with 64 bytes damaged at %d" % (fmt, at),
                         tmp, contains="corrupt %s stream" % fmt)
        # something else compressed
        with open(os.path.join(a.work, "text"), "w") as f:
            f.write("not a core\n" * 1000)
        other = compress(fmt, os.path.join(a.work, "text"), os.path.join(a.work, "text" + ext))
        expect_error(a, ["info", other], NOT_CORE, "%s of a text file" % fmt, tmp,
                     contains="not an ELF core")
        exe = compress(fmt, os.path.realpath("/bin/sh"), os.path.join(a.work, "sh" + ext))
        expect_error(a, ["info", exe], NOT_CORE, "%s of an executable" % fmt, tmp,
                     contains="not a core")
        # a core with garbage after the stream
        with open(bad, "wb") as f:
            f.write(data + b"garbage after the end" * 10)
        p = run(a, ["stats", bad], tmp)
        if p.returncode not in (IO,) or len(p.stderr.splitlines()) != 1:
            raise Failure("%s with trailing garbage: exit %d, %r" % (fmt, p.returncode,
                                                                      p.stderr))
        print("ok %s with trailing garbage: exit %d: %s" % (fmt, p.returncode, p.stderr.strip()))
        tmp.check_empty("trailing garbage")
    return True


def in_namespace_tmpfs(a, core, size="2m"):
    """Runs stats of core with $TMPDIR a tmpfs of size, in a private mount
    namespace (root: unshare -m; otherwise a user namespace: unshare -rm)."""
    mnt = os.path.join(a.work, "tiny")
    os.makedirs(mnt, exist_ok=True)
    script = ('mount -t tmpfs -o size=%s tmpfs "$1" || exit 99; shift; '
              'TMPDIR="$M" "$@"; rc=$?; ls -A "$M" >&2; exit $rc') % size
    for flags in (["-m"], ["-r", "-m"]):
        if not shutil.which("unshare"):
            break
        p = subprocess.run(["unshare", *flags, "sh", "-c",
                            script.replace('"$M"', '"%s"' % mnt), "sh", mnt, a.cli, "stats",
                            core], capture_output=True, text=True, timeout=240)
        if p.returncode != 99:
            return p
    return None


def case_nospace(a):
    plain = os.path.join(a.dir, "core")
    core = compress("zstd", plain, os.path.join(a.work, "core.zst"))
    tested = False
    p = in_namespace_tmpfs(a, core)
    if p is None:
        print("note: no private mount namespace here (unshare -m, -rm): the tmpfs case is "
              "not run; the file size limit case below is")
    else:
        lines = p.stderr.splitlines()
        # one error line, and `ls -A` of the tmpfs after the run printed nothing
        if p.returncode != IO or len(lines) != 1 or "no space left in" not in lines[0]:
            raise Failure("2 MiB tmpfs as $TMPDIR: exit %d, stderr %r" % (p.returncode,
                                                                         p.stderr))
        print("ok 2 MiB tmpfs as $TMPDIR: exit %d: %s; nothing left in it" % (IO, lines[0]))
        tested = True
    # a file size limit (SIGXFSZ ignored, so writes fail with EFBIG)
    tmp = Tmp(a, "fsize")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    expect_error(a, ["stats", core], IO, "a 1 MiB file size limit", tmp,
                 contains="cannot write the decompressed core", preexec_fn=limit)
    tmp = Tmp(a, "missing")
    p = subprocess.run([a.cli, "stats", core], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, TMPDIR=os.path.join(tmp.path, "no-such-dir")))
    if p.returncode != IO or len(p.stderr.splitlines()) != 1 or "TMPDIR" not in p.stderr:
        raise Failure("$TMPDIR missing: exit %d, %r" % (p.returncode, p.stderr))
    print("ok $TMPDIR missing: exit %d: %s" % (IO, p.stderr.strip()))
    return tested or True


def zero_pages(path):
    n = 0
    z = bytes(4096)
    with open(path, "rb") as f:
        while True:
            b = f.read(4096)
            if not b:
                return n
            n += b == z[:len(b)]


def case_signals(a):
    """The CLI writes every object to a pipe nobody reads, so it blocks with
    the decompressed copy open; it is looked at through /proc, then signalled."""
    plain = os.path.join(a.dir, "core")
    size = os.path.getsize(plain)
    zeros = zero_pages(plain)
    core = compress("xz", plain, os.path.join(a.work, "core.xz"))
    for sig in (signal.SIGINT, signal.SIGTERM):
        tmp = Tmp(a, "signal")
        p = subprocess.Popen([a.cli, "objects", "--limit", "0", core], env=tmp.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        found = None
        deadline = time.monotonic() + 60
        while found is None and time.monotonic() < deadline and p.poll() is None:
            for fd in glob.glob("/proc/%d/fd/*" % p.pid):
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith(tmp.path):
                    st = os.stat(fd)
                    if st.st_size == size:
                        found = (target, st)
            time.sleep(0.01)
        if found is None:
            p.kill()
            raise Failure("no decompressed copy of %d bytes under $TMPDIR seen in /proc/%d/fd"
                          % (size, p.pid))
        target, st = found
        if not target.endswith("(deleted)") or os.listdir(tmp.path):
            p.kill()
            raise Failure("the decompressed copy has a name: %s, $TMPDIR holds %s"
                          % (target, os.listdir(tmp.path)))
        # holes: no more blocks than the non-zero pages (plus one file system block
        # of slack per 4 MiB written)
        allocated = st.st_blocks * 512
        limit = (size // 4096 - zeros) * 4096 + (size // (4 << 20) + 1) * 65536
        if allocated > limit:
            p.kill()
            raise Failure("the copy holds %d bytes on disk for %d non-zero pages of %d: the "
                          "zero pages were written" % (allocated, size // 4096 - zeros,
                                                       size // 4096))
        p.send_signal(sig)
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            raise Failure("pymac-analyze ignored %s" % sig.name)
        tmp.check_empty(sig.name)
        print("ok %s: the copy (%s, %d of %d bytes on disk, %d zero pages of %d as holes) "
              "is gone, exit %d" % (sig.name, target, allocated, size, zeros, size // 4096,
                                    p.returncode))
    return True


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--kernel-dir")
    ap.add_argument("--growth-dirs", nargs=2)
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    need = [a.dir] + ([a.kernel_dir] if a.case == "names" and a.kernel_dir else []) + \
        (list(a.growth_dirs) if a.case == "growth" else [])
    for d in need:
        if not os.path.exists(os.path.join(d, "core")):
            print("skip: no fixture core in %s" % d)
            return SKIP
    # A core taken in a system root (make-core --root) names its files inside
    # it: every run, ours and check_core's, gets --sysroot ROOT.
    try:
        with open(os.path.join(a.dir, "meta.json")) as f:
            root = json.load(f).get("root")
    except (OSError, ValueError):
        root = None
    if root:
        check_core.SYSROOT[:] = ["--sysroot", root]
    a.work = os.path.join(a.work, a.case)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    try:
        CASES[a.case](a)
    except Failure as e:
        print("FAIL %s/%s: %s" % (a.label, a.case, e))
        return 1
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

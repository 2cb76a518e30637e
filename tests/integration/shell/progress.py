#!/usr/bin/env python3
"""The progress line: on a terminal on stderr only, never in a pipe or with
--json, erased when each step ends, and the output the same with it or not.

  progress.py --cli PATH --dir COREDIR --work DIR

stderr is the slave side of a pseudo-terminal; PYMAC_PROGRESS_DELAY=0 makes
every step show its line however fast it is. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import os
import pty
import re
import shutil
import subprocess
import sys

SKIP = 77
LINE = re.compile(rb"\rpymac-analyze: ([^\r\n\x1b]*): (\d+)% \(\d+ s\)\x1b\[K")
ERASE = b"\r\x1b[K"


class Failure(Exception):
    pass


def run(cli, args, tty, delay="0"):
    """(exit, stdout, what stderr got)."""
    env = dict(os.environ, PYMAC_PROGRESS_DELAY=delay)
    if not tty:
        p = subprocess.run([cli, *args], capture_output=True, env=env, timeout=240)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([cli, *args], stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    got = b""
    while True:
        try:
            d = os.read(master, 65536)
        except OSError:  # EIO: the slave side is closed
            break
        if not d:
            break
        got += d
    out = p.stdout.read()
    p.wait(timeout=240)
    os.close(master)
    return p.returncode, out, got


def check(a):
    core = os.path.join(a.dir, "core")
    os.makedirs(a.work, exist_ok=True)
    zst = os.path.join(a.work, "core.zst")
    with open(core, "rb") as i, open(zst, "wb") as o:
        subprocess.run(["zstd", "-q", "-c"], stdin=i, stdout=o, check=True)
    rc_pipe, out_pipe, err_pipe = run(a.cli, ["leaks", zst], tty=False)
    if rc_pipe not in (0, 1) or err_pipe.strip():
        raise Failure("leaks with stderr a pipe: exit %d, stderr %r (want no progress)"
                      % (rc_pipe, err_pipe[:300]))
    print("ok stderr a pipe: no progress line")
    rc, out, err = run(a.cli, ["leaks", zst], tty=True)
    steps = [m.group(1).decode() for m in LINE.finditer(err)]
    for want in ("decompressing zstd core", "walking the heap",
                 "leaks: references between objects", "leaks: references from other memory"):
        if want not in steps:
            raise Failure("no progress line %r on the terminal: %r" % (want, err[:600]))
    # the terminal got progress lines and erasures, nothing else (pty turns
    # \n into \r\n, so a stray newline would show)
    rest = LINE.sub(b"", err).replace(ERASE, b"")
    if rest.strip():
        raise Failure("the terminal got more than progress lines: %r" % rest[:300])
    if not err.endswith(ERASE):
        raise Failure("the last progress line is not erased: %r" % err[-100:])
    if rc != rc_pipe or out != out_pipe:
        raise Failure("leaks prints other output with a terminal on stderr (exit %d vs %d)"
                      % (rc, rc_pipe))
    print("ok stderr a terminal: %d progress lines (%s), each step's erased at its end, the "
          "same output" % (len(steps), ", ".join(dict.fromkeys(steps))))
    rc, out, err = run(a.cli, ["leaks", "--json", zst], tty=True)
    if LINE.search(err) or rc not in (0, 1):
        raise Failure("--json with a terminal on stderr: exit %d, %r" % (rc, err[:300]))
    print("ok --json with a terminal on stderr: no progress line")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.dir, "core")):
        print("skip: no fixture core in %s" % a.dir)
        return SKIP
    if not shutil.which("zstd"):
        print("skip: no zstd (Debian package zstd)")
        return SKIP
    try:
        check(a)
    except Failure as e:
        print("FAIL %s" % e)
        return 1
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

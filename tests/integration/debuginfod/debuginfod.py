#!/usr/bin/env python3
"""Debug info from a real debuginfod server on loopback.

  debuginfod.py --cli PATH --python PYENV_PYTHON --work DIR

A copy of the pyenv interpreter with its executable and libpython stripped
(strip --strip-all; the copy runs against its own libpython through
LD_LIBRARY_PATH) makes a core of the small scenario with its oracle. Then:
  - without DEBUGINFOD_URLS: no debug info (exit 7, or layouts from pymac's
    table where it has one for the version): nothing else on this
    machine has this build's DWARF, so what follows comes from the server;
  - a `debuginfod` started by this test on a free port, scanning a directory
    that holds the unstripped libpython: stats byte for byte and the GC lists
    as the oracle, info says "debuginfod (URL)"; then again with the server
    stopped, from the client's cache;
  - a server that does not have the build (404), and a port where nothing
    listens: one line each saying so, exit 7; or, with a layout table for the
    version, the table's answers and that line as a warning.
Every run has its own DEBUGINFOD_CACHE_PATH. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import check_core  # noqa: E402

SKIP = 77
NO_DEBUGINFO = 7
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "..", "fixtures")


class Failure(Exception):
    pass


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return out.split("Build ID:")[1].split()[0] if "Build ID:" in out else None


def has_dwarf(path):
    out = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True).stdout
    return ".debug_info" in out


def stripped_copy(a):
    """WORK/py: the interpreter's executable and libpython stripped, its
    standard library the original's (a symlink)."""
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(a.python)))
    libs = glob.glob(os.path.join(prefix, "lib", "libpython3*.so.1.0"))
    if not libs:
        print("skip: %s has no shared libpython" % prefix)
        sys.exit(SKIP)
    lib = libs[0]
    py = os.path.join(a.work, "py")
    os.makedirs(os.path.join(py, "bin"))
    os.makedirs(os.path.join(py, "lib"))
    exe = os.path.join(py, "bin", os.path.basename(a.python))
    slib = os.path.join(py, "lib", os.path.basename(lib))
    subprocess.run(["strip", "--strip-all", "-o", exe, os.path.realpath(a.python)], check=True)
    subprocess.run(["strip", "--strip-all", "-o", slib, lib], check=True)
    for d in glob.glob(os.path.join(prefix, "lib", "python3*")):
        os.symlink(d, os.path.join(py, "lib", os.path.basename(d)))
    if has_dwarf(slib) or build_id(slib) != build_id(lib) or not build_id(lib):
        raise Failure("the stripped copy %s still has DWARF or another build-id" % slib)
    return exe, slib, lib


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """debuginfod scanning one directory (-F, following symlinks), on a free port."""

    def __init__(self, a, name, directory):
        self.log = os.path.join(a.work, name + ".log")
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["debuginfod", "-p", str(self.port), "-d", os.path.join(a.work, name + ".sqlite"),
                 "-F", "-L", "-t", "0", "-g", "0", "-c", "1", directory],
                stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
            time.sleep(0.5)
            if self.proc.poll() is None:
                break
        else:
            raise Failure("debuginfod would not start: %s" % open(self.log).read()[-2000:])
        self.url = "http://127.0.0.1:%d" % self.port

    def wait_for(self, bid):
        """Until the scan has indexed bid (or 60 s)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                # (GET only: the first byte will do)
                url = "%s/buildid/%s/debuginfo" % (self.url, bid)
                with urllib.request.urlopen(url, timeout=10) as r:
                    if r.status == 200 and r.read(4) == b"\x7fELF":
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.3)
        raise Failure("debuginfod on %s never served %s: %s"
                      % (self.url, bid, open(self.log).read()[-2000:]))

    def wait_up(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/metrics", timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise Failure("debuginfod on %s does not answer" % self.url)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def env_for(a, urls, cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env["DEBUGINFOD_CACHE_PATH"] = os.path.join(a.work, cache)
    env["DEBUGINFOD_TIMEOUT"] = "30"
    if urls:
        env["DEBUGINFOD_URLS"] = urls
    return env


def run(a, args, env):
    return subprocess.run([a.cli, *args], capture_output=True, text=True, timeout=240, env=env)


def expect_no_debuginfo(a, core, env, why, contains):
    """No DWARF for this build from anywhere: exit 7 with one line saying
    `contains`; or, where pymac has a layout table for the version, the
    table's answers (info says so, and names no debug file), with what a
    server answered as a warning."""
    p = run(a, ["info", "--json", core], env)
    if p.returncode == 0:
        info = json.loads(p.stdout)
        said = contains == "no DWARF" or any(contains in w for w in info["warnings"])
        if info["layout_source"] not in ("table", "debug_offsets+table") \
                or info["debuginfo_path"] or not said:
            raise Failure("%s: info says layouts from %r, debug info %r, warnings %r (want a "
                          "table, none, and %r)" % (why, info["layout_source"],
                                                    info["debuginfo_path"], info["warnings"],
                                                    contains))
        print("ok %s: layouts from the table %s%s" % (why, info["layout_table"]["name"],
                                                      "" if contains == "no DWARF" else
                                                      ", with the warning: " + contains))
        return
    lines = p.stderr.splitlines()
    if p.returncode != NO_DEBUGINFO or len(lines) != 1 or contains not in lines[0]:
        raise Failure("%s: exit %d (want %d and one line with %r): %r"
                      % (why, p.returncode, NO_DEBUGINFO, contains, p.stderr))
    print("ok %s: exit %d: %s" % (why, p.returncode, lines[0]))


def oracle_checks(a, coredir, env):
    with open(os.path.join(coredir, "oracle.json")) as f:
        oracle = json.load(f)
    ns = types.SimpleNamespace(cli=a.cli, dir=coredir, core=os.path.join(coredir, "core"),
                               label="debuginfod", kind="gcore")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        for c in ("stats", "gc", "census"):
            try:
                check_core.CHECKS[c](ns, oracle)
            except check_core.Failure as e:
                raise Failure("%s with DWARF from debuginfod: %s" % (c, e))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return oracle


def check(a):
    for tool in ("debuginfod", "strip", "readelf"):
        if not shutil.which(tool):
            print("skip: no %s (Debian packages debuginfod, binutils)" % tool)
            return SKIP
    exe, slib, lib = stripped_copy(a)
    bid = build_id(lib)
    coredir = os.path.join(a.work, "core")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(slib))
    p = subprocess.run([os.path.join(FIXTURES, "make-core"), "--python", exe, "--scenario",
                        "small", "--kind", "gcore", "--out", coredir], env=env,
                       capture_output=True, text=True, timeout=600)
    if p.returncode == SKIP:
        print("skip: make-core: %s" % p.stdout.strip())
        return SKIP
    if p.returncode:
        raise Failure("make-core with the stripped copy: %s %s" % (p.stdout, p.stderr))
    core = os.path.join(coredir, "core")
    print("stripped copy %s (build-id %s) made %s" % (slib, bid, core))

    expect_no_debuginfo(a, core, env_for(a, None, "cache-none"),
                        "no DEBUGINFOD_URLS: no other debug info for this build", "no DWARF")
    # (a table answers as DWARF would: info must then name debuginfod's file,
    # which shows the DWARF came from the server, not from the table)

    served = os.path.join(a.work, "served")
    os.makedirs(served)
    os.symlink(lib, os.path.join(served, os.path.basename(lib)))
    up = Server(a, "server", served)
    empty_dir = os.path.join(a.work, "empty")
    os.makedirs(empty_dir)
    empty = Server(a, "empty", empty_dir)
    try:
        up.wait_for(bid)
        env = env_for(a, up.url, "cache-up")
        oracle = oracle_checks(a, coredir, env)
        info = json.loads(run(a, ["info", "--json", core], env).stdout)
        cache = os.path.join(a.work, "cache-up")
        if info["debuginfo_source"] != "debuginfod" or info.get("debuginfod_urls") != up.url \
                or not info["debuginfo_path"].startswith(cache) \
                or info["python_module"] != slib:
            raise Failure("info --json: %r" % info)
        text = run(a, ["info", core], env).stdout
        want = "debug info:       debuginfod (%s), cached as %s" % (up.url, info["debuginfo_path"])
        if want not in text.splitlines():
            raise Failure("info has no line %r:\n%s" % (want, text))
        served_log = open(up.log).read()
        if "/buildid/%s/debuginfo 200" % bid not in served_log:
            raise Failure("the server's log shows no GET of %s's debuginfo" % bid)
        print("ok server up: stats, GC lists and censuses as the oracle (CPython %s); %s"
              % (oracle["version"], want.strip()))
        up.stop()
        oracle_checks(a, coredir, env)
        print("ok server stopped: the same answers from the client's cache %s" % cache)
        empty.wait_up()
        expect_no_debuginfo(a, core, env_for(a, empty.url, "cache-404"),
                            "a server without this build", "does not have it (404)")
    finally:
        up.stop()
        empty.stop()
    expect_no_debuginfo(a, core, env_for(a, "http://127.0.0.1:%d" % free_port(), "cache-down"),
                        "no server on the port", "cannot be reached")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    a.cli = os.path.abspath(a.cli)
    if not os.path.exists(a.python):
        print("skip: no interpreter at %s" % a.python)
        return SKIP
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    try:
        rc = check(a)
    except Failure as e:
        print("FAIL %s" % e)
        return 1
    if rc == 0:
        shutil.rmtree(a.work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""pymac-analyze --pid on real processes. Each case leaves the target as it
found it: running processes keep running and exit normally when asked.

  live_check.py --cli PATH --python PATH --case CASE [--work DIR] [--root ROOT]

With --root, PATH is inside the system root ROOT and the target runs there as in a
container (fixtures/rootrun.py: its own mount namespace with ROOT as its root, by
pivot_root, so that the host sees only the paths inside ROOT in /proc/PID/maps):
pymac must find its files through /proc/PID/root with no option.

Cases:
  oracle    the oracle (small scenario) stops itself after recording what
            CPython says; pymac reads it live: stats byte for byte, GC
            numbers exact; then the process is continued and must exit 0
  running   a process that is running: info/gc/types work, it is running
            afterwards (not stopped, not traced) and exits 0 on request
  sigkill, sigint, sigterm
            pymac is killed by that signal in the middle of a full census:
            the target must not stay stopped or traced
  no_stop   --no-stop reads without stopping and says so
  no_such_pid, other_tracer
            clear errors with exit code 3
Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures")
SKIP = 77
sys.dont_write_bytecode = True
sys.path.insert(0, FIXTURES)
import rootrun  # noqa: E402
ROOT = None     # --root
STAGED = None   # --stage-prefix: that prefix inside the root


def spawn(python, args, work=None, **kw):
    """Popen of python with args; inside ROOT (working directory work) with --root."""
    if ROOT:
        kw["preexec_fn"] = rootrun.enter(ROOT, rootrun.inside(ROOT, work or os.path.join(ROOT, "tmp")),
                                         pivot=True)
    if STAGED:
        kw["env"] = dict(os.environ, LD_LIBRARY_PATH=STAGED + "/lib")
    return subprocess.Popen([python, *args], **kw)

# A process with a heap worth walking that runs until SIGUSR1, then exits 0.
RUNNER = r"""
import os, signal, sys, time
keep = [str(i) * 3 for i in range(200000)] + [{"k": i} for i in range(50000)]
done = []
signal.signal(signal.SIGUSR1, lambda *a: done.append(1))
sys.stdout.write("ready\n"); sys.stdout.flush()
deadline = time.time() + 120
while not done and time.time() < deadline:
    sum(range(1000))          # keep running: a stopped thread would stall here
    time.sleep(0.001)
sys.exit(0 if done else 3)
"""


class Failure(Exception):
    pass


def state(pid):
    """(state letter, tracer pid) from /proc/PID/status."""
    st, tracer = "?", 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("State:"):
                st = line.split()[1]
            elif line.startswith("TracerPid:"):
                tracer = int(line.split()[1])
    return st, tracer


def start_runner(python):
    p = spawn(python, ["-I", "-c", RUNNER], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        p.kill()
        raise Failure("the target process did not start")
    return p


def finish_runner(p, what):
    """The target must be running, untraced, and exit 0 when asked."""
    time.sleep(0.2)
    st, tracer = state(p.pid)
    if st in ("t", "T") or tracer:
        p.kill()
        raise Failure("%s: target left in state %s, tracer %d" % (what, st, tracer))
    p.send_signal(signal.SIGUSR1)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Failure("%s: target did not exit after SIGUSR1" % what)
    if rc != 0:
        raise Failure("%s: target exited %d" % (what, rc))


def cli(a, *args, expect=(0,)):
    p = subprocess.run([a.cli, *args], capture_output=True, text=True, timeout=120)
    if p.returncode not in expect:
        raise Failure("%s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def case_oracle(a):
    if ROOT:   # the oracle and the scenarios copied into the root
        work = rootrun.workdir(ROOT)
        there = rootrun.inside(ROOT, work)
        oracle_py = there + "/oracle.py"
    else:
        work = there = tempfile.mkdtemp(prefix="pymac-live-")
        oracle_py = os.path.join(FIXTURES, "oracle.py")
    try:
        stats = open(os.path.join(work, "mallocstats.txt"), "w")
        p = spawn(a.python, ["-I", oracle_py, "small", there, "stop"], work,
                  stderr=stats, stdout=subprocess.DEVNULL)
        for _ in range(600):
            if state(p.pid)[0] == "T":
                break
            time.sleep(0.05)
        else:
            p.kill()
            raise Failure("the oracle did not stop itself")
        want = open(os.path.join(work, "mallocstats.txt")).read()
        got = cli(a, "--pid", str(p.pid), "stats").stdout
        if got != want:
            p.kill()
            raise Failure("live stats differ from sys._debugmallocstats()")
        oracle = json.load(open(os.path.join(work, "oracle.json")))
        g = json.loads(cli(a, "--pid", str(p.pid), "gc", "--json").stdout)
        lengths = [x["objects"] for x in g["generations"]]
        counts = [x["count"] for x in g["generations"]]
        if lengths != oracle["gc"]["generations"] or counts != list(oracle["gc"]["count"]):
            p.kill()
            raise Failure("live gc %s/%s, CPython said %s/%s" % (
                lengths, counts, oracle["gc"]["generations"], oracle["gc"]["count"]))
        # still stopped by its own SIGSTOP, and not traced by us any more. The
        # SIGSTOP that PTRACE_DETACH hands back takes effect when the kernel
        # next schedules the process (before it runs any code of its own): on
        # a busy machine /proc can say R for a moment, so wait for T.
        for _ in range(100):
            st, tracer = state(p.pid)
            if st == "T" and not tracer:
                break
            time.sleep(0.05)
        if st != "T" or tracer:
            p.kill()
            raise Failure("after pymac the oracle is in state %s, tracer %d" % (st, tracer))
        p.send_signal(signal.SIGCONT)
        rc = p.wait(timeout=30)
        if rc != 0:
            raise Failure("the oracle exited %d after SIGCONT" % rc)
        print("ok: live stats equal sys._debugmallocstats() (CPython %s), gc exact, "
              "process continued and exited 0" % oracle["version"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def case_running(a):
    p = start_runner(a.python)
    try:
        info = json.loads(cli(a, "--pid", str(p.pid), "info", "--json").stdout)
        if info["core_kind"] != "live":
            raise Failure("info says %r" % info["core_kind"])
        if ROOT and not info["python_module"].startswith("/proc/%d/root/" % p.pid):
            raise Failure("in a root, the interpreter should be found through /proc/%d/root, "
                          "not at %r" % (p.pid, info["python_module"]))
        cli(a, "--pid", str(p.pid), "gc")
        types = json.loads(cli(a, "--pid", str(p.pid), "types", "--json").stdout)
        strs = sum(t["count"] for t in types if t["type"] == "str")
        if strs < 200000:
            raise Failure("only %d strs found in a process holding 200,000" % strs)
    except Exception:
        p.kill()
        raise
    finish_runner(p, "after pymac --pid")
    print("ok: live info, gc and types (%d str) on a running process; it ran on and exited 0"
          % strs)


def case_killed(a, sig):
    p = start_runner(a.python)
    try:
        # the census of this heap takes ~0.2 s: every kill lands mid-read
        for delay in (0.02, 0.06, 0.1):
            q = subprocess.Popen([a.cli, "--pid", str(p.pid), "types"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            q.send_signal(sig)
            q.wait(timeout=30)
    except Exception:
        p.kill()
        raise
    finish_runner(p, "after pymac got %s mid-read" % signal.Signals(sig).name)
    print("ok: pymac killed by %s mid-census three times; target ran on and exited 0"
          % signal.Signals(sig).name)


def case_no_stop(a):
    p = start_runner(a.python)
    try:
        r = cli(a, "--pid", str(p.pid), "--no-stop", "gc")
        if "may be inconsistent" not in r.stdout + r.stderr:
            raise Failure("--no-stop output does not warn that it may be inconsistent")
    except Exception:
        p.kill()
        raise
    finish_runner(p, "after --no-stop")
    print("ok: --no-stop warns and leaves the process running")


def case_no_such_pid(a):
    r = cli(a, "--pid", str(2**22 + 1), "info", expect=(3,))  # above any pid_max
    if len(r.stderr.splitlines()) != 1:
        raise Failure("want one error line, got %r" % r.stderr)
    print("ok: " + r.stderr.strip())


def case_other_tracer(a):
    if not shutil.which("strace"):
        print("skip: strace not installed")
        sys.exit(SKIP)
    p = start_runner(a.python)
    tracer = subprocess.Popen(["strace", "-p", str(p.pid), "-o", "/dev/null"],
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if state(p.pid)[1]:
                break
            time.sleep(0.05)
        r = cli(a, "--pid", str(p.pid), "info", expect=(3,))
        if "already traced" not in r.stderr or len(r.stderr.splitlines()) != 1:
            raise Failure("want one 'already traced' line, got %r" % r.stderr)
    finally:
        tracer.terminate()
        tracer.wait(timeout=30)
    finish_runner(p, "after the other tracer case")
    print("ok: " + r.stderr.strip())


REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def gdb_run(a, args, commands):
    argv = ["gdb", "-batch", "-nx", "-iex", "set auto-load off", "-ex",
            "source " + os.path.join(REPO, "gdb", "pymac.py")] + args
    for c in commands:
        argv += ["-ex", c]
    env = dict(os.environ, PYMAC_LIBRARY=os.path.join(os.path.dirname(a.cli), "libpymac.so"))
    # one stream, so that error messages stay between the markers
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=240, env=env)
    text = p.stdout
    if "Traceback" in text:
        raise Failure("a Python traceback in GDB:\n" + text[-2000:])
    return text


def same_gc(a, pid, text):
    cli_gc = json.loads(cli(a, "--pid", str(pid), "gc", "--json").stdout)
    want = [x["objects"] for x in cli_gc["generations"]]
    got = None
    for line in text.splitlines():
        if line.startswith('{"generations"'):
            got = [x["objects"] for x in json.loads(line.rsplit("],", 1)[0] + "]}")["generations"]]
    if got is None:
        raise Failure("no 'pymac gc --json' output from GDB:\n" + text[-2000:])
    # the process ran between the two reads: allow the youngest list to move
    if got[1:] != want[1:]:
        raise Failure("GDB says %s, the CLI %s" % (got, want))


def case_gdb_attach(a):
    p = start_runner(a.python)
    try:
        text = gdb_run(a, ["-p", str(p.pid)], ["pymac info", "pymac gc --json",
                                                "pymac types --gc-only"])
        if "live" not in text or "str" not in text and "dict" not in text:
            raise Failure("unexpected GDB output:\n" + text[-2000:])
        same_gc(a, p.pid, text)
    except Exception:
        p.kill()
        raise
    finish_runner(p, "after gdb -p with pymac commands")
    print("ok: pymac in GDB attached to a live process; it ran on and exited 0")


def case_gdbserver(a):
    if not shutil.which("gdbserver"):
        print("skip: gdbserver not installed (apt-get install gdbserver)")
        sys.exit(SKIP)
    p = start_runner(a.python)
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    server = subprocess.Popen(["gdbserver", "--once", "127.0.0.1:%d" % port, "--attach",
                               str(p.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        text = gdb_run(a, [a.python], ["target remote 127.0.0.1:%d" % port, "pymac info",
                                       "pymac gc --json", "detach"])
        if "target:           gdb" not in text:
            raise Failure("pymac did not read through gdbserver:\n" + text[-2000:])
        same_gc(a, p.pid, text)
    except Exception:
        p.kill()
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
    finish_runner(p, "after gdbserver")
    print("ok: pymac in GDB through gdbserver on loopback; the process ran on and exited 0")


CASES = {
    "oracle": case_oracle, "running": case_running, "no_stop": case_no_stop,
    "sigkill": lambda a: case_killed(a, signal.SIGKILL),
    "sigint": lambda a: case_killed(a, signal.SIGINT),
    "sigterm": lambda a: case_killed(a, signal.SIGTERM),
    "no_such_pid": case_no_such_pid, "other_tracer": case_other_tracer,
    "gdb_attach": case_gdb_attach, "gdbserver": case_gdbserver,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--root", help="run the target inside this system root")
    ap.add_argument("--stage-prefix", help="with --root: bring this host prefix into ROOT/opt")
    a = ap.parse_args()
    global ROOT, STAGED
    ROOT = os.path.abspath(a.root) if a.root else None
    host_python = os.path.join(ROOT, a.python.lstrip("/")) if ROOT else a.python
    if ROOT and a.stage_prefix:
        if not os.path.exists(os.path.join(a.stage_prefix, rootrun.STAMP)):
            print("skip: no finished interpreter build in %s" % a.stage_prefix)
            return SKIP
        STAGED = rootrun.stage(ROOT, a.stage_prefix)
    if not os.path.exists(host_python):
        print("skip: no interpreter at %s" % host_python)
        return SKIP
    if ROOT and os.geteuid() != 0:
        print("skip: running in a root needs root privileges")
        return SKIP
    try:
        CASES[a.case](a)
    except Failure as e:
        print("FAIL %s: %s" % (a.case, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

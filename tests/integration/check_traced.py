#!/usr/bin/env python3
"""The tracemalloc view and the object tracebacks of one core, against what
tracemalloc said in the process (fixtures/oracle_traced.py).

  check_traced.py --cli PATH --dir COREDIR --label L --scenario S --kind K --results DIR
                  [--baseline-dir STEP1COREDIR]

A core of the traced scenario: for the statistics by lineno, filename,
lineno cumulative and traceback, the rows of the scenario's file exactly as
CPython gave them (traceback, size, count, in CPython's order, and the text
of str(Statistic)); the traceback limit and domains exactly; the statistics
by lineno add up to the traced memory and the trace count the core holds;
the peak is at least what the oracle saw; and get_object_traceback() of
every marked object exactly. A core of another scenario (no tracemalloc):
the view says so in one line and exits 0. With --baseline-dir (two cores of
the traced scenario, the second with PYMAC_TRACED_STEP=2): diff --by site.

Exit 0 pass, 1 fail, 77 skip; one line in RESULTS/ for the version matrix.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_core  # noqa: E402
from known_gaps import known_gap  # noqa: E402
from check_core import Failure, SKIP, cli_each, cli_json, expect_eq, record, run_cli  # noqa: E402

NOT_TRACING = ("tracemalloc: the process was not tracing memory allocations "
               "(tracemalloc.is_tracing() was False)\n")


def frames(tb):
    return [[f["filename"], f["lineno"]] for f in tb]


def rows_of(view, key, path):
    """The view's rows whose most recent frame is in path, as the oracle has them."""
    out = []
    for r in view["statistics"]:
        tb = frames(r["traceback"]) if key == "traceback" else [[r["filename"], r["lineno"]]]
        if tb[-1][0] == path:
            out.append({"traceback": tb, "size": r["size"], "count": r["count"]})
    return out


def check_traced(a, oracle):
    # tracemalloc's hooks sit on top of pymalloc: sys._debugmallocstats() then
    # prints no pymalloc section, the free lists alone
    with open(os.path.join(a.dir, "mallocstats.txt")) as f:
        if run_cli(a.cli, "stats", a.core) != f.read():
            raise Failure("stats differs from sys._debugmallocstats() under tracemalloc")
    snap = oracle["tracemalloc"]["snapshot"]
    path = snap["file"]
    for name, args in (("lineno", ["--key-type", "lineno"]),
                       ("filename", ["--key-type", "filename"]),
                       ("lineno_cumulative", ["--key-type", "lineno", "--cumulative"]),
                       ("traceback", ["--key-type", "traceback"])):
        view = cli_json(a.cli, "tracemalloc", "--limit", "0", *args, a.core)
        expect_eq("%s: partial" % name, view["partial"], False)
        key = "traceback" if name == "traceback" else "lineno"
        want = [{k: r[k] for k in ("traceback", "size", "count")} for r in snap[name]]
        if not want:
            raise Failure("%s: the oracle recorded no statistics for %s" % (name, path))
        expect_eq("%s: statistics of %s" % (name, os.path.basename(path)),
                  rows_of(view, key, path), want)
        # str(Statistic) of each, in the same order among the text's lines
        text = run_cli(a.cli, "tracemalloc", "--limit", "0", *args, a.core).splitlines()
        lines = [l for l in text if ": size=" in l and not l.startswith(" ")]
        texts = [r["text"] for r in snap[name]]
        pos = 0
        for t in texts:
            try:
                pos = lines.index(t, pos) + 1
            except ValueError:
                raise Failure("%s: the text lacks %r (in this order)" % (name, t))
        if name == "lineno":
            expect_eq("traceback limit", view["traceback_limit"], snap["traceback_limit"])
            expect_eq("domains", view["domains"], snap["domains"])
            # every trace is in one lineno row: they add up to the core's own counters
            expect_eq("lineno rows' bytes = traced memory",
                      sum(r["size"] for r in view["statistics"]), view["traced_memory"])
            expect_eq("lineno rows' count = traces",
                      sum(r["count"] for r in view["statistics"]), view["traces"])
            if view["peak_traced_memory"] < max(snap["peak_traced_memory"],
                                                view["traced_memory"]):
                raise Failure("peak %d below the oracle's %d or the current %d"
                              % (view["peak_traced_memory"], snap["peak_traced_memory"],
                                 view["traced_memory"]))
    report = check_leak_sites(a, oracle, snap)
    check_dominator_sites(a, oracle, report)
    marked = oracle["tracemalloc"]["marked"]
    names = sorted(marked)
    docs = cli_each(a.cli, "object", a.core, [oracle["marked"][n]["id"] for n in names])
    for n, doc in zip(names, docs):
        got = None if doc["traceback"] is None else frames(doc["traceback"])
        expect_eq("get_object_traceback(%s)" % n, got, marked[n])
    if not any(marked[n] for n in names) or all(marked[n] for n in names):
        raise Failure("the marked objects should include traced and untraced ones: %r" % marked)


def check_leak_sites(a, oracle, snap):
    """The leaked objects' suspect group in leaks and report: allocated at the
    scenario's line marked "site: leak", every one of them, each a block of
    the size tracemalloc counted for that line."""
    path = snap["file"]
    # a core made inside a root names the root's copy of the scenario: the
    # host's fixtures/scenarios holds the same file
    host = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures",
                        "scenarios", os.path.basename(path))
    with open(path if os.path.exists(path) else host) as f:
        line = next(i for i, l in enumerate(f, 1) if "# site: leak" in l)
    want_n = oracle["expected_leaks"]["unexplained"]["Leaked"]
    # the size of a Leaked object's block: the size most blocks of its line have
    sizes = snap["block_sizes"].get(str(line), {})
    per, blocks = max(((int(k), v) for k, v in sizes.items()), key=lambda kv: kv[1],
                      default=(0, 0))
    if blocks < want_n:
        raise Failure("the oracle saw %r blocks at %s:%d, not %d Leaked" % (sizes, path, line,
                                                                          want_n))
    leaks = cli_json(a.cli, "leaks", a.core)
    group = next((g for g in leaks["unexplained"] if g["type"] == "Leaked"), None)
    if not group or group["objects"] < want_n * 9 // 10:
        raise Failure("leaks: the Leaked suspects are %r" % group)
    n = group["objects"]
    expect_eq("leaks: Leaked allocated at", group.get("allocated_at"),
              {"filename": path, "lineno": line, "objects": n, "bytes": n * per,
               "traced_objects": n})
    report = cli_json(a.cli, "report", a.core)
    shown = [g for g in report["leaks"]["unexplained"] if g["type"] == "Leaked"]
    if shown:
        expect_eq("report: Leaked allocated at", shown[0].get("allocated_at"),
                  group["allocated_at"])
    text = run_cli(a.cli, "leaks", a.core)
    want = "allocated at %s:%d: %d of %d traced objects, %d bytes" % (path, line, n, n, n * per)
    if want not in text:
        raise Failure("leaks text lacks %r" % want)
    return report


def check_dominator_sites(a, oracle, report):
    """dominators (and the report's top retainers) name where each heavy
    object was allocated: for the marked objects among them, the most recent
    frame of get_object_traceback(). At least one traced marked object must be
    among them (the first 40)."""
    marked = oracle["tracemalloc"]["marked"]
    by_addr = {oracle["marked"][n]["id"]: n for n in marked}
    doms = cli_json(a.cli, "dominators", "--limit", "40", a.core)["dominators"]
    top = {int(e["address"], 16): e for e in report["leaks"].get("top_retainers", [])}
    seen = 0
    for e in doms:
        name = by_addr.get(int(e["address"], 16))
        if name is None:
            continue
        tb = marked[name]
        if not tb:
            # no claim: 3.11's get_object_traceback() misses the managed-dict
            # pre-header and says None for a traced instance ('record'),
            # whose block pymac's sites do find
            continue
        want = {"filename": tb[-1][0], "lineno": tb[-1][1]}
        got = e.get("allocated_at")
        got = got and {"filename": got["filename"], "lineno": got["lineno"]}
        expect_eq("dominators: %s allocated at" % name, got, want)
        if int(e["address"], 16) in top:
            expect_eq("report top retainers: %s allocated at" % name,
                      top[int(e["address"], 16)].get("allocated_at"), e.get("allocated_at"))
        seen += bool(tb)
    if not seen:
        raise Failure("no traced marked object among the %d dominators" % len(doms))


def check_diff_sites(a, oracle):
    """diff --by site from the step-1 core (--baseline-dir) to this one (the
    cache doubled): for the scenario's lines, what StatisticDiff would say
    from the two oracles' statistics: sizes, counts, their changes, the text
    of str(StatisticDiff), and compare_to()'s order (the sort and the text
    are tracemalloc's own, from this checker's interpreter)."""
    import tracemalloc
    with open(os.path.join(a.baseline_dir, "oracle.json")) as f:
        old = json.load(f)
    path = oracle["tracemalloc"]["snapshot"]["file"]
    if old["tracemalloc"]["snapshot"]["file"] != path:
        raise Failure("the two cores ran different files")
    new_rows = {r["traceback"][0][1]: r for r in oracle["tracemalloc"]["snapshot"]["lineno"]}
    old_rows = {r["traceback"][0][1]: r for r in old["tracemalloc"]["snapshot"]["lineno"]}
    want = []
    for line in set(new_rows) | set(old_rows):
        n, o = new_rows.get(line), old_rows.get(line)
        size, count = (n["size"], n["count"]) if n else (0, 0)
        tb = tracemalloc.Traceback(((path, line),))
        want.append(tracemalloc.StatisticDiff(tb, size, size - (o["size"] if o else 0), count,
                                              count - (o["count"] if o else 0)))
    want.sort(reverse=True, key=tracemalloc.StatisticDiff._sort_key)
    if not any(d.size_diff for d in want):
        raise Failure("the oracles show no growth between the cores")
    old_core = os.path.join(a.baseline_dir, "core")
    view = cli_json(a.cli, "diff", "--by", "site", "--limit", "0", old_core, a.core)
    expect_eq("diff --by site: partial", view["partial"], False)
    got = [[r["lineno"], r["size"], r["size_diff"], r["count"], r["count_diff"]]
           for r in view["statistics"] if r["filename"] == path]
    expect_eq("diff --by site: the scenario's lines", got,
              [[d.traceback[0].lineno, d.size, d.size_diff, d.count, d.count_diff] for d in want])
    text = run_cli(a.cli, "diff", "--by", "site", "--limit", "0", old_core, a.core).splitlines()
    lines = [l for l in text if l.startswith(path + ":")]
    expect_eq("diff --by site: str(StatisticDiff)", lines, [str(d) for d in want])


def check_not_traced(a, oracle):
    expect_eq("tracemalloc of a process that did not trace",
              run_cli(a.cli, "tracemalloc", a.core), NOT_TRACING)
    view = cli_json(a.cli, "tracemalloc", a.core)
    expect_eq("JSON tracing", view["tracing"], False)
    doc = cli_each(a.cli, "object", a.core, [oracle["marked"][sorted(oracle["marked"])[0]]["id"]])
    expect_eq("object traceback without tracemalloc", doc[0]["traceback"], None)


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--cli", "--dir", "--label", "--scenario", "--kind"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--baseline-dir", help="diff --by site: the step-1 core's directory")
    a = ap.parse_args()
    name = "%s/%s/%s/%s" % (a.label, a.scenario, a.kind,
                            "diff_sites" if a.baseline_dir else "tracemalloc")
    a.core = os.path.join(a.dir, "core")
    skipfile = os.path.join(a.dir, "skip.txt")
    if os.path.exists(skipfile) or not os.path.exists(a.core):
        why = open(skipfile).read().strip() if os.path.exists(skipfile) else "no core made"
        print("skip: %s: %s" % (name, why))
        record(a.results, name, "skip " + why)
        return SKIP
    with open(os.path.join(a.dir, "oracle.json")) as f:
        oracle = json.load(f)
    try:  # a core made inside a root (make-core --root) reads its files there
        with open(os.path.join(a.dir, "meta.json")) as f:
            root = json.load(f).get("root")
    except (OSError, ValueError):
        root = None
    if root:
        check_core.SYSROOT[:] = ["--sysroot", root]
    try:
        if a.baseline_dir:
            check_diff_sites(a, oracle)
        elif "tracemalloc" in oracle:
            check_traced(a, oracle)
        else:
            check_not_traced(a, oracle)
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

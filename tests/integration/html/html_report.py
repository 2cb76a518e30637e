#!/usr/bin/env python3
"""report --html in a real browser: Debian's chromium, headless, loads the
page from the file, dumps the DOM it rendered and takes a screenshot.

  html_report.py --cli PATH --dir COREDIR --work DIR --screenshot PNG

COREDIR is a fixture core of the leaky scenario with its oracle. Asserted:
no console message at all (the page runs no script and fetches nothing; its
Content-Security-Policy would log any attempt), and in the rendered DOM the
CPython version, the arenas drawn (one per row, or a row of several) adding
up to CPython's own count, the GC table, and the planted leaks' rows with
CPython's numbers. A page with a deliberate violation must log to the
console, or the check itself is broken. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import check_core  # noqa: E402

SKIP = 77
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0", "--window-size=1280,3000"]


class Failure(Exception):
    pass


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browse(a, page, profile, screenshot):
    """(rendered DOM, console lines) of page."""
    shutil.rmtree(profile, ignore_errors=True)
    p = subprocess.run([chromium(), *FLAGS, "--user-data-dir=" + profile,
                        "--screenshot=" + screenshot, "--dump-dom", "file://" + page],
                       capture_output=True, text=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    if p.returncode != 0 or "<html" not in p.stdout:
        raise Failure("chromium exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l]
    return p.stdout, console


class Dom(html.parser.HTMLParser):
    """What the checks need from the DOM: elements by id (their text), the
    heap map's arena rows and cells, and the rows of the leak tables."""

    def __init__(self):
        super().__init__()
        self.text_of, self.stack, self.arena_rows, self.cells = {}, [], [], 0
        self.tables, self.table, self.row, self.cell = {}, None, None, None
        self.count = 0
        self.retainers, self.in_retainer, self.treemap = [], False, None

    def handle_starttag(self, tag, attrs):
        self.count += 1
        d = dict(attrs)
        if d.get("id"):
            self.stack.append([d["id"], tag, ""])
        if tag == "g" and d.get("class") == "arena":
            self.arena_rows.append(int(d["data-arenas"]))
        if tag == "svg" and d.get("id") == "treemap":
            self.treemap = (float(d["width"]), float(d["height"]))
        if tag == "g" and d.get("class") == "retainer":
            self.retainers.append({"address": int(d["data-address"], 16),
                                   "retained": int(d["data-retained"])})
            self.in_retainer = True
        if tag == "rect" and self.in_retainer:
            self.retainers[-1].update({k: float(d[k]) for k in ("x", "y", "width", "height")})
        elif tag == "rect" and self.arena_rows:
            self.cells += 1
        if tag == "table":
            self.table = self.tables.setdefault(d.get("id"), [])
        if tag == "tr" and self.table is not None:
            self.row = []
            self.table.append(self.row)
        if tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "g":
            self.in_retainer = False
        if self.stack and self.stack[-1][1] == tag:
            ident, _, text = self.stack.pop()
            self.text_of[ident] = text
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        if tag == "table":
            self.table = None
            self.row = None

    def handle_data(self, data):
        for s in self.stack:
            s[2] += data
        if self.cell is not None:
            self.cell += data


def cli_json(a, *args):
    p = subprocess.run([a.cli, *args], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise Failure("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


def check_treemap(a, core, dom):
    """The top retainers' treemap: each rectangle an object that dominators
    lists among the 30 heaviest, with its retained bytes; the heaviest drawn;
    areas in proportion to retained bytes; inside the picture; disjoint."""
    doms = cli_json(a, "dominators", "--json", "--limit", "30", core)["dominators"]
    listed = {int(e["address"], 16): e["retained_bytes"] for e in doms}
    rects = dom.retainers
    if not rects or not doms:
        raise Failure("treemap: %d rectangles for %d dominators" % (len(rects), len(doms)))
    for r in rects:
        if listed.get(r["address"]) != r["retained"]:
            raise Failure("treemap: 0x%x (%d bytes) is not among dominators' 30: %r"
                          % (r["address"], r["retained"], sorted(listed.items())[:5]))
    if int(doms[0]["address"], 16) not in {r["address"] for r in rects}:
        raise Failure("treemap: the heaviest, %s, is not drawn" % doms[0]["address"])
    w, h = dom.treemap
    total = sum(r["retained"] for r in rects)
    for r in rects:
        share, area = r["retained"] / total, r["width"] * r["height"] / (w * h)
        if abs(area - share) > 0.01 * share + 1e-4:
            raise Failure("treemap: 0x%x has %.4f of the area for %.4f of the bytes"
                          % (r["address"], area, share))
        if r["x"] < -0.01 or r["y"] < -0.01 or r["x"] + r["width"] > w + 0.01 or \
                r["y"] + r["height"] > h + 0.01:
            raise Failure("treemap: 0x%x lies outside the picture" % r["address"])
    for i, r in enumerate(rects):
        for q in rects[:i]:
            ox = min(r["x"] + r["width"], q["x"] + q["width"]) - max(r["x"], q["x"])
            oy = min(r["y"] + r["height"], q["y"] + q["height"]) - max(r["y"], q["y"])
            if ox > 0.05 and oy > 0.05:
                raise Failure("treemap: 0x%x and 0x%x overlap" % (r["address"], q["address"]))
    print("ok treemap: %d rectangles, the heaviest %s (%d bytes), areas as retained bytes"
          % (len(rects), doms[0]["type"], doms[0]["retained_bytes"]))


def check_paths(a, core, dom):
    """The suspects' paths are what the path view says of their examples."""
    rows = dom.tables.get("leak-unexplained", [])[1:]
    n = 0
    for r in rows[:3]:
        p = subprocess.run([a.cli, "path", core, r[4]], capture_output=True, text=True,
                           timeout=300)
        want = (p.stdout if p.returncode in (0, 1) else p.stderr.split(": ", 1)[-1]).strip()
        if len(r) > 5 and r[5]:
            check_core.expect_eq("path of %s's example %s" % (r[0], r[4]), r[5].strip(), want)
            n += 1
    print("ok suspects' paths: %d equal to pymac-analyze path" % n)


def check_sites(a):
    """On a core of a process that ran tracemalloc, the suspects' allocation
    sites are leaks's (issue 17: 'allocation sites where known')."""
    core = os.path.join(a.traced_dir, "core")
    page = os.path.join(a.work, "traced.html")
    p = subprocess.run([a.cli, "report", "--html", page, core], capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        raise Failure("report --html of the traced core: exit %d: %s" % (p.returncode, p.stderr))
    dom_text, console = browse(a, page, os.path.join(a.work, "profile-traced"),
                               os.path.join(a.work, "traced.png"))
    if console:
        raise Failure("console messages on the traced report:\n" + "\n".join(console))
    dom = Dom()
    dom.feed(dom_text)
    leaks = cli_json(a, "leaks", "--json", core)
    rows = dom.tables.get("leak-unexplained", [])
    if not rows or rows[0][-1] != "allocated at (tracemalloc)":
        raise Failure("the traced report's suspects have no allocation sites: %r" % rows[:1])
    by_type = {g["type"]: g for g in leaks["unexplained"]}
    checked = 0
    for r in rows[1:]:
        g = by_type.get(r[0])
        site = g and g.get("allocated_at")
        want = "" if not site else "%s:%d (%d of %d traced)" % (
            site["filename"], site["lineno"], site["objects"], site["traced_objects"])
        check_core.expect_eq("allocation site of %s" % r[0], r[-1], want)
        checked += bool(want)
    if not checked:
        raise Failure("no suspect of the traced core has an allocation site")
    print("ok traced report: %d suspects' allocation sites equal leaks's" % checked)


def check(a):
    with open(os.path.join(a.dir, "oracle.json")) as f:
        oracle = json.load(f)
    with open(os.path.join(a.dir, "mallocstats.txt")) as f:
        _, values = check_core.parse_mallocstats(f.read())
    os.makedirs(a.work, exist_ok=True)
    page = os.path.join(a.work, "report.html")
    p = subprocess.run([a.cli, "report", "--html", page, os.path.join(a.dir, "core")],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or p.stdout:
        raise Failure("report --html: exit %d, stdout %r, stderr %s" % (p.returncode,
                                                                      p.stdout[:200], p.stderr))
    size = os.path.getsize(page)
    # the check of the check: a violation of the same policy is logged
    bad = os.path.join(a.work, "violation.html")
    with open(page) as f:
        head = f.read().split("<body>")[0]
    with open(bad, "w") as f:
        f.write(head + "<body><img src=\"http://127.0.0.1:9/x.png\"></body></html>")
    _, console = browse(a, bad, os.path.join(a.work, "profile-bad"),
                        os.path.join(a.work, "violation.png"))
    if not console:
        raise Failure("a page fetching an image logged nothing to the console: the console "
                      "check cannot see errors")
    print("ok the console check sees a blocked fetch: %s" % console[0][:160])

    dom_text, console = browse(a, page, os.path.join(a.work, "profile"), a.screenshot)
    if console:
        raise Failure("console messages on the report:\n" + "\n".join(console))
    print("ok no console message; screenshot %s" % a.screenshot)
    dom = Dom()
    dom.feed(dom_text)
    check_core.expect_eq("version on the page", dom.text_of.get("version"), oracle["version"])
    arenas = values["# arenas allocated current"]
    check_core.expect_eq("arenas drawn", sum(dom.arena_rows), arenas)
    check_core.expect_eq("arenas in the summary", int(dom.text_of.get("arenas", -1)), arenas)
    gc_rows = dom.tables.get("gc", [])[1:]
    check_core.expect_eq("GC table (objects per generation)",
                         [int(r[1]) for r in gc_rows[:len(oracle["gc"]["generations"])]],
                         oracle["gc"]["generations"])
    for table, kind in (("leak-unexplained", "unexplained"), ("leak-unreachable", "unreachable")):
        rows = {r[0]: r for r in dom.tables.get(table, [])[1:]}
        for name, n in oracle["expected_leaks"][kind].items():
            if name not in rows:
                raise Failure("no row of %s in #%s: %s" % (name, table, sorted(rows)))
            check_core.expect_eq("%s objects in #%s" % (name, table), int(rows[name][1]), n)
            if kind == "unexplained":
                check_core.expect_eq("%s unexplained refs" % name, int(rows[name][3]), n)
    check_treemap(a, os.path.join(a.dir, "core"), dom)
    check_paths(a, os.path.join(a.dir, "core"), dom)
    # aggregated: a cell per pool slot, never an element per object
    if dom.count >= 20000 or dom.count >= oracle["gc"]["generations"][2]:
        raise Failure("%d elements on the page" % dom.count)
    with open(a.screenshot, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            raise Failure("the screenshot is not a PNG")
    if a.traced_dir and os.path.exists(os.path.join(a.traced_dir, "core")):
        check_sites(a)
    print("ok rendered DOM: CPython %s, %d arenas drawn in %d rows (%d pool cells), the GC "
          "table, the planted leaks' rows (%s); %d elements, %d bytes"
          % (oracle["version"], sum(dom.arena_rows), len(dom.arena_rows), dom.cells,
             ", ".join("%s %d" % kv for k in ("unexplained", "unreachable")
                       for kv in oracle["expected_leaks"][k].items()), dom.count, size))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--traced-dir", help="a core of the traced scenario: the suspects' sites")
    a = ap.parse_args()
    a.cli = os.path.abspath(a.cli)
    a.work = os.path.abspath(a.work)
    a.screenshot = os.path.abspath(a.screenshot)
    if not chromium():
        print("skip: no chromium (Debian package chromium)")
        return SKIP
    if not os.path.exists(os.path.join(a.dir, "core")):
        print("skip: no fixture core in %s" % a.dir)
        return SKIP
    try:
        check(a)
    except (Failure, check_core.Failure) as e:
        print("FAIL %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

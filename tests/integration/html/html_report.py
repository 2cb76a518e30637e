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

    def handle_starttag(self, tag, attrs):
        self.count += 1
        d = dict(attrs)
        if d.get("id"):
            self.stack.append([d["id"], tag, ""])
        if tag == "g" and d.get("class") == "arena":
            self.arena_rows.append(int(d["data-arenas"]))
        if tag == "rect" and self.arena_rows:
            self.cells += 1
        if tag == "table":
            self.table = self.tables.setdefault(d.get("id"), [])
        if tag == "tr" and self.table is not None:
            self.row = []
            self.table.append(self.row)
        if tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
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
    # aggregated: a cell per pool slot, never an element per object
    if dom.count >= 20000 or dom.count >= oracle["gc"]["generations"][2]:
        raise Failure("%d elements on the page" % dom.count)
    with open(a.screenshot, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            raise Failure("the screenshot is not a PNG")
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

#!/usr/bin/env python3
"""The man page pymac-analyze(1) and `pymac-analyze --help` name the same
views, options and exit codes, and the page renders without a groff warning.

  man_sync.py --cli PATH --man analyzer/cli/pymac-analyze.1

Exit 0 pass, 1 fail.
"""
import argparse
import re
import shutil
import subprocess
import sys


def help_names(text):
    """(views, options, exit codes) named by --help."""
    views, section = set(), None
    for line in text.splitlines():
        if re.match(r"^[A-Z][a-z ]+:$", line):
            section = line[:-1]
            continue
        if section == "Views":
            m = re.match(r"^  ([a-z][a-z-]*)\b", line)
            if m:
                views.add(m.group(1))
            views.update(re.findall(r"\(alias: ([a-z-]+)\)", line))
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-h)\b", text))
    tail = text[text.index("Exit codes:"):]
    codes = set(int(c) for c in re.findall(r"\b(\d+) [a-zA-Z]", tail))
    return views, options, codes


def man_names(text):
    """(views, options, exit codes): the .TP entries of VIEWS, OPTIONS and EXIT STATUS."""
    sections, name, lines = {}, None, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            continue
        if line.startswith(".TP") and name and i + 1 < len(lines):
            tag = lines[i + 1].replace("\\-", "-").replace('"', " ")
            sections.setdefault(name, []).append(tag.split(None, 1)[1] if " " in tag else "")
    views = {t.split()[0] for t in sections.get("VIEWS", [])}
    options = set()
    for t in sections.get("OPTIONS", []):
        options.update(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-h)\b", t))
    codes = {int(t.split()[0]) for t in sections.get("EXIT STATUS", [])}
    return views, options, codes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--man", required=True)
    a = ap.parse_args()
    help_text = subprocess.run([a.cli, "--help"], capture_output=True, text=True,
                               check=True).stdout
    man_text = open(a.man).read()
    ok = True
    for what, h, m in zip(("views", "options", "exit codes"), help_names(help_text),
                          man_names(man_text)):
        if not h:
            print("FAIL: found no %s in --help" % what)
            ok = False
        if h - m:
            print("FAIL: %s in --help but not in the man page: %s" % (what, sorted(h - m)))
            ok = False
        if m - h:
            print("FAIL: %s in the man page but not in --help: %s" % (what, sorted(m - h)))
            ok = False
        if h == m:
            print("ok %d %s in both: %s" % (len(h), what, " ".join(map(str, sorted(h)))))
    # every option the page names is one the program takes (not "unknown option")
    for opt in sorted(man_names(man_text)[1]):
        p = subprocess.run([a.cli, opt], capture_output=True, text=True)
        if "unknown option" in p.stderr and opt.startswith("--"):
            # (one that takes an argument is "unknown" without it to getopt)
            p = subprocess.run([a.cli, opt + "=1"], capture_output=True, text=True)
        if "unknown option" in p.stderr:
            print("FAIL: the man page's %s is an unknown option to pymac-analyze" % opt)
            ok = False
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", a.man], capture_output=True,
                           text=True)
        if p.returncode or p.stderr:
            print("FAIL: groff warns: %s" % p.stderr)
            ok = False
        else:
            print("ok groff -man -ww renders it without a warning")
    else:
        print("note: no groff, the page's rendering is not checked")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The layout tables: what the DWARF layout source answered, for builds of
each CPython version and kind, as the C tables pymac uses when a target has
no DWARF (analyzer/src/layout/tables/).

  gen_layout_tables.py emit  --cli CLI [--out DIR] CORE_DIR...
  gen_layout_tables.py check --cli CLI [--tables DIR] CORE_DIR...

Each CORE_DIR is a fixture core's directory (core, oracle.json, meta.json;
fixtures/make-core makes them, `ctest -R '^core/'` makes the matrix's) of a
build whose DWARF pymac finds. The views that between them ask every
question (SCENARIO_VIEWS, ADDRESS_VIEWS) run on it with PYMAC_LAYOUT_RECORD
set, which records each layout question the library asks and DWARF's
answer; the answers of the builds of one minor version and kind make one
table. Where the builds disagree on an answer, each holds for its builds'
patch releases (the first from 0, the last to 255) and the patches between
have none: the table does not guess them. `emit` writes the tables and
tables.c; `check` records again and fails on any answer that is not the
committed table's for that build's version, kind and patch: the tables are proven
against every DWARF build present, not trusted."""
import argparse
import ast
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TABLES = os.path.join(ROOT, "analyzer", "src", "layout", "tables")
# The views that between them ask every question the library asks (report
# runs the census, the GC walk, leaks and the dominator tree; the others the
# value decoders, tracemalloc, the allocator and the address lookups). Text
# only: on the traced and small cores of 3.13 the answers are the same as
# those of every view in both formats, at a third of the time.
SCENARIO_VIEWS = [["report"], ["objects", "--limit", "40"], ["tracemalloc"], ["stats"],
                  ["arenas"], ["report", "--html"]]
HTML = ["report", "--html"]
ADDRESS_VIEWS = ["object", "whereis", "path", "retained"]


def views(core_dir):
    with open(os.path.join(core_dir, "oracle.json")) as f:
        oracle = json.load(f)
    addrs = [hex(m["id"]) for _, m in sorted(oracle.get("marked", {}).items())
             if isinstance(m, dict) and "id" in m]
    runs = [list(v) for v in SCENARIO_VIEWS] + [[v] + addrs for v in ADDRESS_VIEWS if addrs]
    return oracle, runs


def record(cli, core_dir):
    """The answers DWARF gave for one build: {key: value}, and its version."""
    oracle, runs = views(core_dir)
    try:
        with open(os.path.join(core_dir, "meta.json")) as f:
            root = json.load(f).get("root")
    except (OSError, ValueError):
        root = None
    sysroot = ["--sysroot", root] if root else []
    core = os.path.join(core_dir, "core")
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, "answers")
        env = dict(os.environ, PYMAC_LAYOUT_RECORD=rec)
        for argv in runs:
            if argv[:2] == HTML:
                cmd = [cli] + sysroot + ["report", core, "--html", os.path.join(tmp, "r.html")]
            else:
                cmd = [cli] + sysroot + [argv[0], core] + argv[1:]
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=600)
        info = subprocess.run([cli] + sysroot + ["info", "--json", core], capture_output=True,
                              text=True, timeout=600)
        if info.returncode != 0 or json.loads(info.stdout)["layout_source"] != "dwarf":
            sys.exit("gen_layout_tables: %s: pymac finds no DWARF for it" % core_dir)
        answers = {}
        with open(rec) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 12:
                    sys.exit("gen_layout_tables: bad record line %r" % line)
                key, value = tuple(parts[:4]), tuple(parts[4:])
                if answers.get(key, value) != value:
                    sys.exit("gen_layout_tables: %s: two answers to %s: %s, %s"
                             % (core_dir, key, answers[key], value))
                answers[key] = value
    version = oracle["version"]
    ft = answers.get(("m", "PyObject", "ob_tid", ""), ("0",))[0] == "1"
    return version, ft, answers


def c_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def table_file(name, minor, ft, builds, rows_in):
    proven = " ".join(sorted(set(builds), key=lambda v: patch_of(v)))
    rows = []
    for key, lo, hi, value in rows_in:
        kind, typ, path, anchor = key
        present, off, size, bit_off, bit_size, elem, count, text = value
        rows.append("    {'%s', %s, %s, %s, %s, %s, %su, %s, %s, %su, %su, %s, %d, %d},"
                    % (kind, c_str(typ), c_str(path), c_str(anchor),
                       "true" if present == "1" else "false", off, size, bit_off, bit_size,
                       elem, count, c_str(text), lo, hi))
    return ("/* The layout table %s: CPython 3.%d, %s build. Generated by\n"
            " * tools/gen-layout-tables from the answers DWARF gave pymac for %s;\n"
            " * do not edit (the layout/tables test checks it against every DWARF build\n"
            " * present). The last two numbers: the patch releases an answer holds for. */\n"
            "#include <stdbool.h>\n\n#include \"layout_table.h\"\n\n"
            "static const pm_layout_answer answers[] = {\n%s\n};\n\n"
            "const pm_layout_table pm_layout_table_%s = {\n"
            "    %s, %d, %s, %s,\n    answers, sizeof answers / sizeof answers[0],\n};\n"
            % (name, minor, "free-threaded" if ft else "default", proven, "\n".join(rows), name,
               c_str(name), minor, "true" if ft else "false", c_str(proven)))


def key_order(k):
    """pm_answer_cmp's order: kind, then strcmp of type, path, anchor."""
    return (k[0].encode(),) + tuple(x.encode() for x in k[1:])


def ranges(seen):
    """[(lo, hi, value)] for one question from [(patch, value)] in patch order:
    consecutive builds that agree make one range; the first starts at 0, the
    last ends at 255, and the patches between builds that disagree have none."""
    groups = []
    for patch, value in seen:
        if groups and groups[-1][2] == value:
            groups[-1][1] = patch
        elif groups and groups[-1][1] == patch:
            sys.exit("gen_layout_tables: two builds of 3.x.%d disagree: %r, %r"
                     % (patch, groups[-1][2], value))
        else:
            groups.append([patch, patch, value])
    groups[0][0], groups[-1][1] = 0, 255
    return [tuple(g) for g in groups]


def tables(cli, core_dirs):
    """{file name: text} for every table and tables.c."""
    by_kind = collections.defaultdict(list)  # (minor, ft) -> [(version, answers)]
    for d in core_dirs:
        version, ft, answers = record(cli, d)
        by_kind[(int(version.split(".")[1]), ft)].append((version, answers))
        print("recorded %s (%s%s): %d answers" % (d, version, "t" if ft else "", len(answers)),
              file=sys.stderr)
    return make_tables(by_kind)


def make_tables(by_kind):
    """The table files of {(minor, ft): [(version, answers)]}."""
    out = {}
    for (minor, ft), builds in sorted(by_kind.items()):
        builds.sort(key=lambda b: patch_of(b[0]))
        keys = sorted({k for _, answers in builds for k in answers}, key=key_order)
        rows = []
        for k in keys:
            seen = []
            for version, answers in builds:
                if k in answers and (patch_of(version), answers[k]) not in seen:
                    seen.append((patch_of(version), answers[k]))
            rows += [(k, lo, hi, value) for lo, hi, value in ranges(seen)]
        name = "py3%d%s" % (minor, "t" if ft else "")
        out[name + ".c"] = table_file(name, minor, ft, [v for v, _ in builds], rows)
    names = sorted(n[:-2] for n in out)
    out["tables.c"] = ("/* Every committed layout table (written by tools/gen-layout-tables). */\n"
                       "#include <stddef.h>\n\n#include \"layout_table.h\"\n\n%s\n"
                       "const pm_layout_table *const pm_layout_tables[] = {\n%s    NULL,\n};\n"
                       % ("".join("extern const pm_layout_table pm_layout_table_%s;\n" % n
                                  for n in names),
                          "".join("    &pm_layout_table_%s,\n" % n for n in names)))
    return out


def patch_of(version):
    digits = ""
    for ch in version.split(".")[2]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits or 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("emit", "check"))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", default=TABLES)
    ap.add_argument("--tables", default=TABLES)
    ap.add_argument("core_dirs", nargs="+")
    a = ap.parse_args()
    if a.mode == "emit":
        out = tables(a.cli, a.core_dirs)
        os.makedirs(a.out, exist_ok=True)
        for name in os.listdir(a.out):
            if name.endswith(".c"):
                os.unlink(os.path.join(a.out, name))
        for name, text in out.items():
            with open(os.path.join(a.out, name), "w") as f:
                f.write(text)
        print("wrote %d tables to %s" % (len(out) - 1, a.out))
        return 0
    return check(a.cli, a.tables, a.core_dirs)


ROW = re.compile(r"^    \{'(.)', (\"(?:[^\"\\]|\\.)*\"), (\"(?:[^\"\\]|\\.)*\"), "
                 r"(\"(?:[^\"\\]|\\.)*\"), (true|false), (-?\d+), (\d+)u, (\d+), (\d+), "
                 r"(\d+)u, (\d+)u, (\"(?:[^\"\\]|\\.)*\"), (\d+), (\d+)\},$")
HEAD = re.compile(r'^    "(py\w+)", (\d+), (true|false), ')


def parse_table(path):
    """A committed table file: (minor, ft), {key: [(lo, hi, value)]}."""
    answers, head = collections.defaultdict(list), None
    for line in open(path):
        m = ROW.match(line)
        if m:
            g = [ast.literal_eval(x) if x.startswith('"') else x for x in m.groups()]
            key = (g[0], g[1], g[2], g[3])
            value = ("1" if g[4] == "true" else "0",) + tuple(g[5:11]) + (g[11],)
            answers[key].append((int(g[12]), int(g[13]), value))
            continue
        m = HEAD.match(line)
        if m:
            head = (int(m.group(2)), m.group(3) == "true")
    return head, answers


def table_value(table, key, patch):
    for lo, hi, value in table.get(key, ()):
        if lo <= patch <= hi:
            return value
    return None


def check(cli, tables_dir, core_dirs):
    """Every answer DWARF gives on each build present must be the committed
    table's, in the table that covers that build's version."""
    committed = {}
    for name in sorted(os.listdir(tables_dir)):
        if name.startswith("py") and name.endswith(".c"):
            committed[name[:-2]] = parse_table(os.path.join(tables_dir, name))
    bad = 0
    for d in core_dirs:
        version, ft, answers = record(cli, d)
        minor, patch = int(version.split(".")[1]), patch_of(version)
        found = [(n, t) for n, (h, t) in committed.items() if h == (minor, ft)]
        if not found:
            print("DIFFERS: %s (%s%s): no committed table covers it" % (d, version, "t" if ft else ""))
            bad += 1
            continue
        name, table = found[0]
        wrong = [(k, v, table_value(table, k, patch)) for k, v in sorted(answers.items())
                 if table_value(table, k, patch) != v]
        for k, v, t in wrong[:20]:
            print("DIFFERS: %s (%s) %s: DWARF says %s, table %s says %s"
                  % (d, version, "/".join(k), v, name, t))
        if wrong:
            bad += 1
        else:
            print("ok %s (%s%s): all %d answers DWARF gives are table %s's"
                  % (d, version, "t" if ft else "", len(answers), name))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

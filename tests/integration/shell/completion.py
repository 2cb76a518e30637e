#!/usr/bin/env python3
"""bash completion of pymac-analyze: the function is called as bash calls it,
with COMP_WORDS and COMP_CWORD set, and its COMPREPLY checked.

  completion.py --cli PATH --script analyzer/cli/pymac-analyze.bash --dir COREDIR --work DIR
  completion.py --install-tree PREFIX --cli PATH   (what `cmake --install` put in PREFIX)

COREDIR holds a fixture core and its oracle: --type must offer the type names
CPython counted on its GC lists (oracle.json's gc_census). Exit 0/1/77.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

SKIP = 77


class Failure(Exception):
    pass


def complete(a, words, cword=None, env=None):
    """COMPREPLY for the command line words (the last one being completed)."""
    cword = len(words) - 1 if cword is None else cword
    words = [a.cli] + words[1:] if words and words[0] == "pymac-analyze" else words
    script = ('source "$1" || exit 1; shift; COMP_WORDS=("$@"); COMP_CWORD=%d; '
              'COMP_LINE="${COMP_WORDS[*]}"; _pymac_analyze; printf "%%s\\n" "${COMPREPLY[@]}"'
              % cword)
    # a generous census timeout but where the timeout itself is tested: a busy
    # machine must not make a test of the names fail
    env = dict(os.environ, **dict({"PYMAC_COMPLETE_TIMEOUT": "120"}, **(env or {})))
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", a.script, *words],
                       capture_output=True, text=True, timeout=300, cwd=a.work, env=env)
    if p.returncode:
        raise Failure("bash failed on %r: %s" % (words, p.stderr))
    return [w for w in p.stdout.splitlines() if w]


def expect(what, got, want_in=(), want_out=(), exact=None):
    missing = [w for w in want_in if w not in got]
    extra = [w for w in want_out if w in got]
    if missing or extra or (exact is not None and sorted(got) != sorted(exact)):
        raise Failure("%s: got %s; missing %s, unwanted %s%s" % (
            what, got[:30], missing, extra, "" if exact is None else ", want exactly %s" % exact))
    print("ok %s: %s" % (what, " ".join(got[:12]) + (" ..." if len(got) > 12 else "")))


def help_views(cli):
    text = subprocess.run([cli, "--help"], capture_output=True, text=True).stdout
    views = re.findall(r"^  ([a-z][a-z-]*)\b", text.split("Views:")[1].split("Options:")[0], re.M)
    return views, sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text)))


def run_cases(a):
    views, options = help_views(a.cli)
    core = os.path.join(a.dir, "core")
    oracle = json.load(open(os.path.join(a.dir, "oracle.json")))
    os.makedirs(a.work, exist_ok=True)
    for f in os.listdir(a.work):
        os.unlink(os.path.join(a.work, f))
    os.symlink(core, os.path.join(a.work, "core.1234"))
    expect("every view of --help for an empty word", complete(a, ["pymac-analyze", ""]),
           want_in=views + ["core.1234"])
    expect("'st' is stats", complete(a, ["pymac-analyze", "st"]), exact=["stats"])
    expect("'--js' is --json", complete(a, ["pymac-analyze", "--js"]), exact=["--json"])
    expect("every option of --help for '--'", complete(a, ["pymac-analyze", "--"]),
           exact=options)
    expect("after a view: files, no views", complete(a, ["pymac-analyze", "stats", ""]),
           want_in=["core.1234"], want_out=["info", "arenas"])
    expect("--debug-dir: directories", complete(a, ["pymac-analyze", "--debug-dir", ""]),
           want_out=["core.1234"])
    expect("--size-class: nothing to offer",
           complete(a, ["pymac-analyze", "pools", "--size-class", ""]), exact=[])
    gc_types = sorted(oracle["gc_census"])
    got = complete(a, ["pymac-analyze", "objects", "core.1234", "--type", ""])
    expect("--type: every type on CPython's GC lists (%d)" % len(gc_types), got,
           want_in=gc_types)
    prefix = gc_types[len(gc_types) // 2][:3]
    expect("--type %s: only names starting so" % prefix,
           complete(a, ["pymac-analyze", "objects", "core.1234", "--type", prefix]),
           want_in=[t for t in gc_types if t.startswith(prefix)],
           want_out=[t for t in gc_types if not t.startswith(prefix)])
    expect("--type before the core",
           complete(a, ["pymac-analyze", "objects", "--type", "", "core.1234"], cword=3),
           want_in=gc_types)
    expect("--type with no core on the line", complete(a, ["pymac-analyze", "objects",
                                                           "--type", ""]), exact=[])
    expect("--type, a core too slow to answer in time (PYMAC_COMPLETE_TIMEOUT=0.001)",
           complete(a, ["pymac-analyze", "objects", "core.1234", "--type", ""],
                    env={"PYMAC_COMPLETE_TIMEOUT": "0.001"}), exact=[])
    if shutil.which("zstd"):
        with open(core, "rb") as i, open(os.path.join(a.work, "core.zst"), "wb") as o:
            subprocess.run(["zstd", "-q", "-c"], stdin=i, stdout=o, check=True)
        expect("--type from a zstd core",
               complete(a, ["pymac-analyze", "objects", "core.zst", "--type", ""]),
               want_in=gc_types)


def check_install(a):
    """The man page and the completion where `cmake --install` puts them, and
    found there by man and by bash-completion's loader."""
    prefix = a.install_tree
    comp = os.path.join(prefix, "share", "bash-completion", "completions", "pymac-analyze")
    man = os.path.join(prefix, "share", "man", "man1", "pymac-analyze.1")
    for f in (comp, man):
        if not os.path.isfile(f):
            raise Failure("cmake --install put no %s" % f)
    loader = "/usr/share/bash-completion/bash_completion"
    if os.path.exists(loader):
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                            'source %s; _completion_loader pymac-analyze; complete -p '
                            'pymac-analyze' % loader], capture_output=True, text=True,
                           env=dict(os.environ, XDG_DATA_DIRS=os.path.join(prefix, "share")))
        if "_pymac_analyze" not in p.stdout:
            raise Failure("bash-completion's loader does not find it: %r %r"
                          % (p.stdout, p.stderr))
        print("ok bash-completion loads it from %s: %s" % (comp, p.stdout.strip()))
    else:
        print("note: no bash-completion package: its loader is not tried")
    if shutil.which("man"):
        p = subprocess.run(["man", "-w", "pymac-analyze"], capture_output=True, text=True,
                           env=dict(os.environ, MANPATH=os.path.join(prefix, "share", "man")))
        if p.stdout.strip() != man:
            raise Failure("man -w pymac-analyze: %r, want %s" % (p.stdout, man))
        print("ok man finds %s" % man)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--script")
    ap.add_argument("--dir")
    ap.add_argument("--work")
    ap.add_argument("--install-tree")
    a = ap.parse_args()
    a.cli = os.path.abspath(a.cli)
    a.script = a.script and os.path.abspath(a.script)
    if not shutil.which("bash"):
        print("skip: no bash")
        return SKIP
    try:
        if a.install_tree:
            check_install(a)
        else:
            if not os.path.exists(os.path.join(a.dir, "core")):
                print("skip: no fixture core in %s" % a.dir)
                return SKIP
            run_cases(a)
    except Failure as e:
        print("FAIL %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

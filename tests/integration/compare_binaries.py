#!/usr/bin/env python3
"""Runs every view of two pymac-analyze binaries on every core of a core
directory and compares what they print, byte for byte: stdout, stderr and
the exit status. For changes that must not change behaviour.

  compare_binaries.py OLD_CLI NEW_CLI CORES_DIR [-j N] [--only SUBSTRING]
                      [--views NAME,NAME...]

Cores go small, leaky, growth, then medium (each over every interpreter and
kind), and a line per core says how it went, so that a run cut short still
says what it covered.

CORES_DIR is a build tree's cores/ (ctest -R '^core/' makes them): one
directory per interpreter x scenario x kind, each with core and oracle.json.
The address views take the addresses the oracle marked (and one that is no
object); diff and leaks --baseline run on the growth pairs. Prints one line
per difference and the counts; exits 1 if anything differs."""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys


def views_for(core_dir, cores_dir):
    core = os.path.join(core_dir, 'core')
    with open(os.path.join(core_dir, 'oracle.json')) as f:
        oracle = json.load(f)
    addrs = [hex(m['id']) for _, m in sorted(oracle.get('marked', {}).items())
             if isinstance(m, dict) and 'id' in m]
    addrs.append('0x10')  # not an object: the error path of each address view
    v = [['report'], ['info'], ['stats'], ['arenas'], ['pools'], ['pools', '--size-class', '3'],
         ['gc'], ['types'], ['types', '--gc-only'],
         ['objects', '--limit', '40'], ['objects', '--type', 'str', '--limit', '25'],
         ['objects', '--gen', '2', '--min-size', '200', '--limit', '30'],
         ['objects', '--type', 'dict', '--limit', '0'],
         ['leaks'], ['dominators'], ['dominators', '--all', '--limit', '60'],
         ['dominators', '--folded'], ['dominators', '--type', 'dict', '--limit', '10'],
         ['types', '--retained']]
    for view in ('whereis', 'object', 'referrers', 'path', 'retained'):
        v.append([view] + addrs)  # (one address alone is the same code path)
    name = os.path.basename(core_dir)
    if '-growth2-' in name:
        base = os.path.join(cores_dir, name.replace('-growth2-', '-growth1-'), 'core')
        if os.path.exists(base):
            v.append(['leaks', '--baseline', base])
            v.append(['diff', base])  # diff OLD NEW
    # a core taken in a system root is read with that root's files
    try:
        with open(os.path.join(core_dir, 'meta.json')) as f:
            root = json.load(f).get('root')
    except (OSError, ValueError):
        root = None
    sysroot = ['--sysroot', root] if root else []
    runs = []
    for args in v:
        for json_flag in ([], ['--json']):
            if args[0] == 'diff':
                cmd = sysroot + json_flag + ['diff', args[1], core]
            else:
                cmd = sysroot + json_flag + [args[0], core] + args[1:]
            runs.append(cmd)
    return runs


def wanted(cmd, views):
    """Is cmd one of the views asked for (all when none were)?"""
    rest = cmd[2:] if cmd[0] == '--sysroot' else cmd
    name = next(a for a in rest if not a.startswith('--'))
    return not views or name in views


def run(cli, cmd):
    p = subprocess.run([cli] + cmd, capture_output=True, timeout=900)
    return p.returncode, p.stdout, p.stderr


def compare(old, new, cmd):
    a, b = run(old, cmd), run(new, cmd)
    return cmd, a == b, a, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('old')
    ap.add_argument('new')
    ap.add_argument('cores')
    ap.add_argument('-j', type=int, default=2)
    ap.add_argument('--only', default='', help='only core directories whose name has this')
    ap.add_argument('--views', default='', help='only these views (comma-separated names)')
    a = ap.parse_args()
    rank = ['-small-', '-leaky-', '-growth', '-medium-']
    dirs = sorted((d for d in os.listdir(a.cores)
                   if a.only in d and os.path.exists(os.path.join(a.cores, d, 'core'))
                   and os.path.exists(os.path.join(a.cores, d, 'oracle.json'))),
                  key=lambda d: ([i for i, r in enumerate(rank) if r in d] + [9])[0:1] + [d])
    ndiff = njobs = 0
    statuses = {}
    with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        for d in dirs:
            views = set(filter(None, a.views.split(',')))
            jobs = [c for c in views_for(os.path.join(a.cores, d), a.cores) if wanted(c, views)]
            before = ndiff
            for cmd, same, ra, rb in ex.map(lambda c: compare(a.old, a.new, c), jobs):
                statuses[ra[0]] = statuses.get(ra[0], 0) + 1
                if not same:
                    ndiff += 1
                    what = [n for n, x, y in zip(('status', 'stdout', 'stderr'), ra, rb)
                            if x != y]
                    print(f'DIFFERS ({", ".join(what)}): {" ".join(cmd)}', flush=True)
            njobs += len(jobs)
            print(f'{d}: {len(jobs)} runs, {ndiff - before} differences', flush=True)
    print(f'{len(dirs)} cores, {njobs} runs compared (exit statuses: '
          f'{", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))}), {ndiff} differences')
    return 1 if ndiff or not njobs else 0


if __name__ == '__main__':
    sys.exit(main())

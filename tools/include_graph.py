#!/usr/bin/env python3
"""The library's dependency graph by layer: which folder of analyzer/src uses
which, and the cycles left among its files.

  tools/include_graph.py [--objects BUILD_DIR]

A file is a module together with its header (foo.c + foo.h). Two graphs:
  include: foo uses bar when foo.c or foo.h includes bar.h;
  link:    foo uses bar when foo.o needs a symbol bar.o defines (nm), which
           also sees calls made through a declaration in another header
           (with --objects, from the build directory's object files).
Prints the edges that go up the layer order (ARCHITECTURE.md; an include of
pm.h, the session's declaration that every layer is handed, does not count),
then every strongly connected component of more than one module, and exits
1 if an edge goes up."""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'analyzer', 'src')
LAYERS = ['base', 'target', 'symbols', 'layout', 'runtime', 'objects', 'heap', 'gc',
          'analysis', '.', 'render']  # '.' = session.c: opens and frees; render asks it
# pm.h declares the session, the context every layer is handed (each layer's
# state in it under its own type): any layer may include it.
CONTEXT = {'pm'}


def modules():
    mods = {}  # module name -> (layer, [paths])
    for dirpath, _, files in os.walk(ROOT):
        layer = os.path.relpath(dirpath, ROOT).split(os.sep)[0]  # layout/tables: layout
        for f in files:
            if f.endswith(('.c', '.h')):
                name = f[:-2]
                mods.setdefault(name, [layer, []])[1].append(os.path.join(dirpath, f))
    return mods


def include_edges(mods):
    edges = set()
    for name, (_, paths) in mods.items():
        for p in paths:
            for inc in re.findall(r'^#include "([^"]+)\.h"', open(p).read(), re.M):
                inc = os.path.basename(inc)
                if inc in mods and inc != name:
                    edges.add((name, inc))
    return edges


def link_edges(mods, build):
    objs = {}
    for dirpath, _, files in os.walk(build):
        for f in files:
            if f.endswith('.c.o') and 'pymac_obj.dir' in dirpath:
                objs[f[:-4]] = os.path.join(dirpath, f)
    defined, needed = {}, {}
    for name, path in objs.items():
        out = subprocess.run(['nm', path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in 'TDBR':
                defined[parts[2]] = name
            elif len(parts) == 2 and parts[0] == 'U':
                needed.setdefault(name, set()).add(parts[1])
    edges = set()
    for name, syms in needed.items():
        for s in syms:
            d = defined.get(s)
            if d and d != name and d in mods:
                edges.add((name, d))
    return edges


def sccs(nodes, edges):
    adj = {n: [] for n in nodes}
    for a, b in edges:
        adj[a].append(b)
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def report(kind, mods, edges):
    rank = {l: i for i, l in enumerate(LAYERS)}
    up = sorted((a, b) for a, b in edges
                if rank[mods[a][0]] < rank[mods[b][0]] and b not in CONTEXT)
    comps = sccs(mods.keys(), edges)
    print(f'{kind}: {len(edges)} edges, {len(up)} going up a layer, {len(comps)} cycles')
    for a, b in up:
        print(f'  up: {mods[a][0]}/{a} -> {mods[b][0]}/{b}')
    for c in comps:
        print(f'  cycle: {" ".join(mods[m][0] + "/" + m for m in c)}')
    return len(up)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--objects', help='build directory: also check the link graph')
    a = ap.parse_args()
    mods = modules()
    bad = report('include', mods, include_edges(mods))
    if a.objects:
        bad += report('link', mods, link_edges(mods, a.objects))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

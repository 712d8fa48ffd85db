#!/usr/bin/env python3
"""The tree's shape, as a test: run from the project root (or pass it).

Layers, lowest first: lib <- collectors | model <- agent <- web <- cmd.
collectors and model are siblings and never include each other. A file's
layer is its top folder; every quoted #include names its target as
"LAYER/NAME.h", so each include line shows its direction. Checks:
  - no #include from a layer to a higher one, none between the siblings;
  - every quoted include resolves to a file in a layer folder (or to
    config.h, which meson generates);
  - no include cycle between modules (a module is NAME.c with NAME.h);
  - no function longer than 150 lines and no file longer than 1500 lines
    in the layer folders.
Prints one line per problem and exits 1 if there is any.
"""
import os
import re
import sys

RANK = {"lib": 0, "collectors": 1, "model": 1, "agent": 2, "web": 3, "cmd": 4}
MAX_FUNCTION, MAX_FILE = 150, 1500
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for top in RANK:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, n), root)


def long_functions(path, text):
    """Bodies from a '{' in column 0 to the next '}' in column 0."""
    lines = text.split("\n")
    start = None
    for i, line in enumerate(lines):
        if line.startswith("{") and start is None:
            start = i
        elif line.startswith("}") and start is not None:
            if i - start > MAX_FUNCTION:
                yield f"function: {path}:{start + 1} has {i - start} lines (> {MAX_FUNCTION})"
            start = None


def main(root):
    problems, edges = [], {}
    files = list(sources(root))
    known = set(files)
    for f in files:
        text = open(os.path.join(root, f), errors="replace").read()
        lf = f.split("/")[0]
        for inc in INCLUDE.findall(text):
            if inc == "config.h" or "/assets/" in f:
                continue
            target = inc if inc in known else None
            if target is None:
                problems.append(f"include: {f} includes \"{inc}\", which is not LAYER/NAME.h of this tree")
                continue
            lt = target.split("/")[0]
            if RANK[lt] > RANK[lf] or (lt != lf and RANK[lt] == RANK[lf]):
                problems.append(f"layer: {f} ({lf}) includes {target} ({lt})")
            a, b = os.path.splitext(f)[0], os.path.splitext(target)[0]
            if a != b:
                edges.setdefault(a, set()).add(b)
        if f.endswith(".c"):
            n = text.count("\n")
            if n > MAX_FILE:
                problems.append(f"file: {f} has {n} lines (> {MAX_FILE})")
            problems.extend(long_functions(f, text))
    # Include cycles between modules: depth-first search for a back edge.
    state = {}
    def visit(m, path):
        state[m] = 1
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                cyc = path[path.index(n):] + [n]
                problems.append("cycle: " + " -> ".join(cyc))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2
    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    for p in problems:
        print(p)
    print(f"layers: {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))

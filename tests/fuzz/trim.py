#!/usr/bin/env python3
"""trim.py - keep the KEEP inputs of a corpus that add the most coverage.

Reads a libFuzzer -merge_control_file (MERGE_CONTROL) written by a merge
of DIR into an empty folder, where "COV i e1 e2..." lists the edges input
i added to the ones before it (smallest inputs first), and deletes every
file of DIR but the KEEP that added most, the regress-* files and the
seed-* files (named valid examples, tests/fuzz/seeds.py).

    trim.py MERGE_CONTROL DIR KEEP
"""
import os
import sys

cf, d, keep = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(cf).read().split("\n")
nfiles = int(lines[0])
files = lines[2:2 + nfiles]
gain = {}
for ln in lines[2 + nfiles:]:
    if ln.startswith("COV "):
        parts = ln.split()
        gain[int(parts[1])] = len(parts) - 2
ranked = sorted(range(nfiles), key=lambda i: (-gain.get(i, 0),
                                              os.path.getsize(files[i])))
kept = set(files[i] for i in ranked[:keep] if gain.get(i, 0) > 0)
for f in files:
    if f not in kept and not os.path.basename(f).startswith(("regress-",
                                                             "seed-")):
        os.remove(f)
print("%s: kept %d of %d inputs, %d of %d edges" % (
    d, len(kept), nfiles, sum(gain.get(files.index(f), 0) for f in kept),
    sum(gain.values())))

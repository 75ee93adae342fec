#!/usr/bin/env python3
"""scale_measure.py - helpers of tests/bench/scale.sh (make bench-scale).

  scale_measure.py time OUT PGPID -- CMD...
      runs CMD, appends one line to OUT: wall user sys maxrss_kb
      written_bytes pg_cpu (CPU seconds of the PostgreSQL server whose
      postmaster is PGPID, its children included, over the command; 0
      without a server). Exits with CMD's code.
  scale_measure.py facts STATE_DIR
      prints key=value facts of a state folder: per-component sizes and,
      on SQLite, the positions and events counts and table sizes.
  scale_measure.py stages STATE_DIR RUN_ID
      key=value stage durations and record counts of a run's report.

Whole-process CPU comes from getrusage(RUSAGE_CHILDREN): the machine the
bench runs on is shared, so wall time says more about the neighbours
than about stockpipe, and the model is built on CPU seconds.
"""
import glob
import json
import os
import resource
import subprocess
import sys
import time

TCK = os.sysconf("SC_CLK_TCK")


def pg_cpu(pid):
    """CPU seconds of a postmaster and its live and reaped children."""
    if not pid or pid == "0":
        return 0.0
    total = 0
    try:
        with open("/proc/%s/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        # utime stime cutime cstime are fields 14-17 (1-based);
        # after the ')' split, field 3 is index 0.
        total += sum(int(x) for x in v[11:15])
    except OSError:
        return 0.0
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if v[1] == str(pid):
            total += int(v[11]) + int(v[12])
    return total / TCK


def cmd_time(argv):
    out, pgpid = argv[0], argv[1]
    cmd = argv[3:]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p0 = pg_cpu(pgpid)
    t0 = time.monotonic()
    rc = subprocess.call(cmd)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Backends exit with the client's connection; give the postmaster
    # a moment to reap them so their CPU lands in its cutime.
    if pgpid != "0":
        time.sleep(0.3)
    p1 = pg_cpu(pgpid)
    with open(out, "a") as f:
        f.write("%.3f %.3f %.3f %d %d %.3f\n" % (
            t1 - t0, r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime,
            r1.ru_maxrss, (r1.ru_oublock - r0.ru_oublock) * 512,
            p1 - p0))
    return rc


def du(path):
    n = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                n += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return n


def cmd_facts(argv):
    state = argv[0]
    facts = {"state_bytes": du(state)}
    for comp in ("inbox", "work", "canonical", "rejects", "outbox",
                 "reports"):
        facts[comp + "_bytes"] = du(os.path.join(state, comp))
    db = sum(os.path.getsize(p) for p in glob.glob(state + "/state.db*"))
    facts["db_bytes"] = db
    if os.path.exists(state + "/state.db"):
        import sqlite3
        c = sqlite3.connect("file:%s/state.db?mode=ro" % state, uri=True)
        facts["positions"] = c.execute(
            "SELECT count(*) FROM positions").fetchone()[0]
        facts["store_positions"] = c.execute(
            "SELECT count(*) FROM positions WHERE location LIKE "
            "'STORE-%'").fetchone()[0]
        facts["events"] = c.execute(
            "SELECT count(*) FROM stock_events").fetchone()[0]
        # Bytes per table with its indexes (dbstat): positions stay one
        # row per position, events and ledgers grow with every record.
        for t in ("positions", "stock_events"):
            facts["db_%s_bytes" % t] = c.execute(
                "SELECT coalesce(sum(s.pgsize), 0) FROM dbstat s JOIN "
                "sqlite_master m ON m.name = s.name WHERE m.tbl_name = ?",
                (t,)).fetchone()[0]
        c.close()
    for k in sorted(facts):
        print("%s=%s" % (k, facts[k]))
    return 0


def report(state, run_id):
    p = os.path.join(state, "reports", "run-%s.json" % run_id)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def cmd_stages(argv):
    """stage seconds (report) and records of one run's report."""
    r = report(argv[0], argv[1])
    st = r.get("stages") or {}
    out = []
    for s in ("fetch", "unpack", "map", "load", "render", "deliver"):
        v = st.get(s, {})
        out.append("%s_ms=%d" % (s, v.get("duration_ms", 0)))
        out.append("%s_in=%d" % (s, v.get("records_in", 0)))
        out.append("%s_out=%d" % (s, v.get("records_out", 0)))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(64)
    fn = {"time": cmd_time, "facts": cmd_facts, "stages": cmd_stages}
    if sys.argv[1] not in fn:
        sys.exit(64)
    sys.exit(fn[sys.argv[1]](sys.argv[2:]))

#!/usr/bin/env python3
"""scale_model.py - the tables of tests/bench/scale.sh (make bench-scale).

  scale_model.py DIR RUNS CAL COMMIT CORES LOADAVG CASE...

DIR holds `rows` (one line per timed process: case step wall user sys
maxrss_kb written_bytes pg_server_cpu) and CASE.facts (key=value). Cases
come in pairs BACKEND-cal (the calibration day) and BACKEND-day (the
1/100 day). Prints, in this order:

1. per case: wall and CPU seconds per stage, the counts and the cost per
   unit of each stage (the rows of docs/scaling.md's measured table);
2. the check: the 1/100 day's CPU per stage next to what the calibration
   day's costs predict for its counts, and the ratio measured/predicted;
3. the full retailer (2000 stores x 50000 SKUs, 300 suppliers, 20
   targets every 15 minutes) from the 1/100 day's costs: inputs, count,
   cost, CPU hours a day, per backend; N workers; state size.

Every cost is CPU (user+sys of stockpipe, plus the PostgreSQL server's
CPU over the same process on PostgreSQL): the bench machine is shared
and its wall times are not the program's.
"""
import math
import sys

STAGES = ("fetch", "unpack", "map", "load", "render", "deliver")
TARGETS_MEASURED = 5
FULL = {"stores": 2000, "skus": 50000, "suppliers": 300, "targets": 20,
        "runs": 96}


def read_rows(path):
    rows = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 8:
                continue
            rows.setdefault(p[0], {})[p[1]] = {
                "wall": float(p[2]), "user": float(p[3]),
                "sys": float(p[4]), "rss": int(p[5]), "wb": int(p[6]),
                "srv": float(p[7])}
    return rows


def read_facts(path):
    f = {}
    try:
        with open(path) as fh:
            for line in fh:
                k, _, v = line.strip().partition("=")
                if not k:
                    continue
                try:
                    f[k] = float(v)
                except ValueError:
                    f[k] = v
    except OSError:
        pass
    return f


def case_stages(steps, facts, runs):
    """CPU (client, server) and wall per stage over the whole day.

    The first run's stages are separate processes; a later scheduled run
    is one process, split over its stages by the report's stage times.
    """
    out = {s: {"cpu": 0.0, "srv": 0.0, "wall": 0.0, "wb": 0.0,
               "rep": 0.0} for s in STAGES}
    other = {"cpu": 0.0, "srv": 0.0, "wall": 0.0, "wb": 0.0, "rep": 0.0}
    for s in STAGES:
        st = steps.get(s)
        if st:
            out[s]["cpu"] += st["user"] + st["sys"]
            out[s]["srv"] += st["srv"]
            out[s]["wall"] += st["wall"]
            out[s]["wb"] += st["wb"]
        # The report's own stage time (wall, inside the process).
        out[s]["rep"] += facts.get("r1_%s_ms" % s, 0.0) / 1000.0
    renders = 0
    if facts.get("r1_render_out", 0) > 0:
        renders += TARGETS_MEASURED
    for r in range(2, runs + 1):
        st = steps.get("sched%d" % r)
        if not st:
            continue
        ms = {s: facts.get("r%d_%s_ms" % (r, s), 0.0) for s in STAGES}
        tot = sum(ms.values()) or 1.0
        for s in STAGES:
            # fetch/unpack/map/load of the small recount: "other"
            dst = out[s] if s in ("render", "deliver") else other
            share = ms[s] / tot
            dst["cpu"] += (st["user"] + st["sys"]) * share
            dst["srv"] += st["srv"] * share
            dst["wall"] += st["wall"] * share
            dst["wb"] += st["wb"] * share
            if s in ("render", "deliver"):
                dst["rep"] += ms[s] / 1000.0
        if facts.get("r%d_render_out" % r, 0) > 0:
            renders += TARGETS_MEASURED
    return out, other, renders


def counts(facts, renders):
    return {
        "fetch": (facts.get("store_bytes", 0) + facts.get("edi_bytes", 0))
        / 1048576.0,
        "unpack": facts.get("store_files", 0) + facts.get("edi_files", 0),
        "map": facts.get("r1_map_in", 0),
        "load": facts.get("r1_load_in", 0),
        "render": facts.get("positions", 0) * renders,
        "deliver": facts.get("delivered_bytes", 0) / 1048576.0,
    }


# unit name, factor from seconds per unit to the printed cost
UNITS = {
    "fetch": ("MB in", 1e3, "ms/MB"),
    "unpack": ("files", 1e3, "ms/file"),
    "map": ("records", 1e6, "us/record"),
    "load": ("records", 1e6, "us/record"),
    "render": ("position-renders", 1e6, "us/position/target"),
    "deliver": ("MB out", 1e3, "ms/MB"),
}


def fmt_n(x):
    if x >= 1e9:
        return "%.2f G" % (x / 1e9)
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e4:
        return "%.0f k" % (x / 1e3)
    if x >= 100:
        return "%.0f" % x
    return "%.2f" % x


def fmt_bytes(b):
    for unit, div in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= div:
            return "%.1f %s" % (b / div, unit)
    return "%d B" % b


def analyse(name, rows, facts, runs):
    steps = rows.get(name, {})
    st, other, renders = case_stages(steps, facts, runs)
    n = counts(facts, renders)
    cost = {}
    for s in STAGES:
        c = st[s]["cpu"] + st[s]["srv"]
        cost[s] = c / n[s] if n[s] else 0.0
    return {"stages": st, "other": other, "renders": renders, "n": n,
            "cost": cost, "facts": facts, "steps": steps}


def print_case(name, a):
    f = a["facts"]
    print("\n%s: %s store records + %s EDI records, %s positions, "
          "%d target renders" % (name, fmt_n(f.get("store_records", 0)),
                                 fmt_n(f.get("edi_records", 0)),
                                 fmt_n(f.get("positions", 0)),
                                 a["renders"]))
    print("| stage | wall s (process) | wall s (report) | CPU s "
          "(stockpipe) | CPU s (server) | written by stockpipe | count | "
          "cost (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in STAGES:
        x = a["stages"][s]
        unit, mul, cu = UNITS[s]
        print("| %s | %.2f | %.2f | %.2f | %.2f | %s | %s %s | %.3g %s |" % (
            s, x["wall"], x["rep"], x["cpu"], x["srv"], fmt_bytes(x["wb"]),
            fmt_n(a["n"][s]), unit, a["cost"][s] * mul, cu))
    o = a["other"]
    print("| (later runs' recounts) | %.2f | | %.2f | %.2f | %s | | |" % (
        o["wall"], o["cpu"], o["srv"], fmt_bytes(o["wb"])))
    gc = a["steps"].get("gc")
    tot_cpu = sum(a["stages"][s]["cpu"] + a["stages"][s]["srv"]
                  for s in STAGES)
    tot_wall = sum(a["stages"][s]["wall"] for s in STAGES)
    rss = max((x["rss"] for x in a["steps"].values()), default=0)
    print("total: wall %.1f s, CPU %.1f s (wall/CPU %.1f); load %.0f "
          "records/s CPU, %.0f records/s wall; peak RSS %.1f MB%s" % (
              tot_wall, tot_cpu, tot_wall / tot_cpu if tot_cpu else 0,
              a["n"]["load"] / (a["stages"]["load"]["cpu"] +
                                a["stages"]["load"]["srv"] or 1),
              a["n"]["load"] / (a["stages"]["load"]["wall"] or 1),
              rss / 1024.0,
              "; gc %.2f s CPU" % (gc["user"] + gc["sys"]) if gc else ""))
    print("state: %s after the day (db %s: positions %s, events %s; inbox "
          "%s, canonical %s, outbox %s); after gc (retention 1 run): %s, "
          "db %s" % (
              fmt_bytes(f.get("state_bytes", 0)),
              fmt_bytes(f.get("db_bytes", 0)),
              fmt_bytes(f.get("db_positions_bytes", 0)),
              fmt_bytes(f.get("db_stock_events_bytes", 0)),
              fmt_bytes(f.get("inbox_bytes", 0)),
              fmt_bytes(f.get("canonical_bytes", 0)),
              fmt_bytes(f.get("outbox_bytes", 0)),
              fmt_bytes(f.get("gc_state_bytes", 0)),
              fmt_bytes(f.get("gc_db_bytes", f.get("db_bytes", 0)))))


def print_check(be, cal, day):
    print("\ncheck (%s): costs of the calibration day x the 1/100 day's "
          "counts" % be)
    print("| stage | count | predicted CPU s | measured CPU s | "
          "measured/predicted |")
    print("|---|---:|---:|---:|---:|")
    tp = tm = 0.0
    for s in STAGES:
        pred = cal["cost"][s] * day["n"][s]
        meas = day["stages"][s]["cpu"] + day["stages"][s]["srv"]
        tp += pred
        tm += meas
        print("| %s | %s | %.2f | %.2f | %s |" % (
            s, fmt_n(day["n"][s]), pred, meas,
            "%.2f" % (meas / pred) if pred > 0 else "-"))
    print("| whole day | | %.2f | %.2f | %.2f |" % (tp, tm,
                                                     tm / tp if tp else 0))


def full_counts(day):
    f = day["facts"]
    # Stores and SKUs: the full retailer's counts over the day's.
    fs = (FULL["stores"] * FULL["skus"] /
          max(f.get("store_records", 1), 1))
    fe = FULL["suppliers"] / max(f.get("edi_files", 1), 1)
    recs_day = f.get("store_records", 0) + f.get("edi_records", 0)
    # The map/load counts of the day include the recount-free first run
    # only; split them between stores and EDI like the inputs.
    share_s = f.get("store_records", 0) / recs_day if recs_day else 1.0
    # A per-location target's file grows with the stores, a per-SKU
    # target's does not (50000 rows either way); the day's mix of the
    # two (1 of 5 targets per location) is kept for the 20 targets.
    renders = max(day["renders"], 1)
    loc = f.get("delivered_loc_bytes", 0) / 1048576.0 / renders
    sku = (f.get("delivered_bytes", 0) / 1048576.0 / renders) - loc
    per_del = sku + loc * fs
    full = {
        "fetch": (f.get("store_bytes", 0) * fs + f.get("edi_bytes", 0) * fe)
        / 1048576.0,
        "unpack": FULL["stores"] + FULL["suppliers"],
        "map": day["n"]["map"] * (share_s * fs + (1 - share_s) * fe),
        "load": day["n"]["load"] * (share_s * fs + (1 - share_s) * fe),
        "positions": (f.get("store_positions", 0) * fs +
                      (f.get("positions", 0) - f.get("store_positions", 0))
                      * fe),
        "deliver": per_del * FULL["targets"] * FULL["runs"],
    }
    full["render"] = full["positions"] * FULL["targets"] * FULL["runs"]
    return full, fs


def print_full(be, cal, day):
    full, fs = full_counts(day)
    g = (day["cost"]["load"] / cal["cost"]["load"]
         if cal["cost"]["load"] else 1.0)
    decades = 0.0
    if day["n"]["load"] and full["load"]:
        decades = math.log10(full["load"] / day["n"]["load"])
    pess = day["cost"]["load"] * (g ** decades if g > 1 else 1.0)
    print("\nfull retailer on %s (2000 stores x 50000 SKUs, 300 suppliers, "
          "20 targets x 96 runs a day), costs of the 1/100 day:" % be)
    print("| stage | input a day | count a day | cost (CPU, measured at "
          "1/100) | CPU hours a day | written a day |")
    print("|---|---|---:|---:|---:|---:|")
    hours = {}
    written = 0.0
    what = {
        "fetch": "%.0f GB of store CSV and EDI" % (full["fetch"] / 1024),
        "unpack": "2000 store files + 300 supplier files",
        "map": "100 M counts + suppliers' lines",
        "load": "as map",
        "render": "positions x 20 targets x 96 runs",
        "deliver": "20 x 96 files (4 of 20 per location)",
    }
    for s in STAGES:
        unit, mul, cu = UNITS[s]
        h = day["cost"][s] * full[s] / 3600.0
        hours[s] = h
        # Render and deliver write what they output: scaled like the
        # delivered files (per-SKU files stay, per-location ones grow).
        base = "deliver" if s in ("render", "deliver") else s
        wb = (day["stages"][s]["wb"] / day["n"][base] * full[base]
              if day["n"][base] else 0)
        written += wb
        print("| %s | %s | %s %s | %.3g %s | %.2f | %s |" % (
            s, what[s], fmt_n(full[s]), unit, day["cost"][s] * mul, cu, h,
            fmt_bytes(wb)))
    hl = pess * full["load"] / 3600.0
    print("| load, if the cost per record keeps growing x%.2f per 10x "
          "records (as from 1/1000 to 1/100) | | %s records | %.3g "
          "us/record | %.2f | |" % (g, fmt_n(full["load"]), pess * 1e6, hl))
    tot = sum(hours.values())
    print("| **one process, all stages** | | | | **%.1f** (pessimistic load: "
          "%.1f) | %s |" % (tot, tot - hours["load"] + hl,
                             fmt_bytes(written)))
    per_run = day["cost"]["render"] * full["positions"] * FULL["targets"]
    print("one 15-minute run renders 20 targets of %s positions: %.0f s CPU "
          "(the window is 900 s); per target %.0f s" % (
              fmt_n(full["positions"]), per_run, per_run / FULL["targets"]))
    par = tot - hours["load"]
    if be == "postgres":
        # Loads of different documents run in parallel under row locks
        # per position (docs/scaling.md "Parallel loads on PostgreSQL");
        # only documents that share positions wait for each other.
        print("N workers (each a core; loads in parallel under row locks "
              "per position, like the rest; the database server needs "
              "cores too):")
        for n in (1, 2, 4, 8, 16, 32):
            print("  N=%-2d  day %.1f h = all stages %.1f h / N" % (
                n, tot / n, tot))
    else:
        print("N workers (each a core; SQLite has one writer, so the loads "
              "stay one after another: %.1f h):" % hours["load"])
        for n in (1, 2, 4, 8, 16, 32):
            print("  N=%-2d  day %.1f h = max(load %.1f h, rest %.1f h / N) "
                  "(a sum when load and the rest do not overlap: %.1f h)" % (
                      n, max(hours["load"], par / n), hours["load"], par,
                      hours["load"] + par / n))
    f = day["facts"]
    files_day = sum(f.get(k + "_bytes", 0) for k in
                    ("inbox", "work", "canonical", "rejects")) * fs
    out_day = full["deliver"] * 1048576.0
    ev_day = f.get("db_stock_events_bytes", 0) * fs
    pos = f.get("db_positions_bytes", 0) * fs
    db_other = max(f.get("db_bytes", 0) - f.get("db_base_bytes", 0) -
                   f.get("db_stock_events_bytes", 0) -
                   f.get("db_positions_bytes", 0), 0) * fs
    print("state a day: inbox/canonical/rejects/work %s, outbox %s, store: positions %s (kept, updated in place), events and "
          "ledgers %s a day, other tables %s" % (
              fmt_bytes(files_day), fmt_bytes(out_day), fmt_bytes(pos),
              fmt_bytes(ev_day), fmt_bytes(db_other)))
    # gc folds the events of collected runs that a newer snapshot covers
    # (state_fold.c): what the day's gc left of its events (counted on
    # SQLite only: the facts after gc read the SQLite file).
    ev_n, gev_n = f.get("events", 0), f.get("gc_events")
    if gev_n is not None and ev_n:
        left = ("this day's gc (retention 1 run) left %d of %d events, "
                "%.1f %%; " % (gev_n, ev_n, 100.0 * gev_n / ev_n))
    else:
        left = ""
    print("  without retention, after a year: %s; with `retention: {age: "
          "7d}` files of 7 days (%s) + the store: gc folds the events of "
          "collected runs that a newer snapshot covers (%swith a full "
          "count every day the store keeps about 7 days of events, %s, "
          "and the positions, not %s a year)" % (
              fmt_bytes(365 * (files_day + out_day + ev_day) + pos),
              fmt_bytes(7 * (files_day + out_day)), left,
              fmt_bytes(7 * ev_day), fmt_bytes(365 * ev_day)))
    return hours


def print_rows(res, commit):
    """The measured table of docs/scaling.md, one row per stage."""
    cols = [c for c in ("sqlite-cal", "sqlite-day", "postgres-cal",
                        "postgres-day") if c in res]
    print("\ndocs/scaling.md rows (CPU cost per unit, code of commit %s; "
          "check = 1/100 measured / predicted from 1/1000):" % commit)
    print("| stage | unit | %s | check SQLite | check PostgreSQL |" %
          " | ".join(cols))
    print("|---|---|%s---:|---:|" % ("---:|" * len(cols)))
    for s in STAGES:
        unit, mul, cu = UNITS[s]
        vals = ["%.3g" % (res[c]["cost"][s] * mul) for c in cols]
        chk = []
        for be in ("sqlite", "postgres"):
            cal, day = res.get(be + "-cal"), res.get(be + "-day")
            if cal and day and cal["cost"][s] and day["n"][s]:
                pred = cal["cost"][s] * day["n"][s]
                meas = day["stages"][s]["cpu"] + day["stages"][s]["srv"]
                chk.append("%.2f" % (meas / pred))
            else:
                chk.append("-")
        print("| %s | %s | %s | %s |" % (s, cu, " | ".join(vals),
                                         " | ".join(chk)))


def main(argv):
    w, runs, _cal, commit, cores, load = argv[:6]
    runs = int(runs)
    cases = argv[6:]
    rows = read_rows(w + "/rows")
    res = {}
    print("\nscale bench: code of commit %s, %s cores, load average %s at "
          "the end; %d runs measured per day. CPU = user+sys (+ the "
          "PostgreSQL server's); \"written\" is stockpipe's own writes "
          "(getrusage), the server's are not counted" % (
              commit, cores, load, runs))
    for c in cases:
        res[c] = analyse(c, rows, read_facts("%s/%s.facts" % (w, c)), runs)
        print_case(c, res[c])
    for be in ("sqlite", "postgres"):
        if be + "-cal" in res and be + "-day" in res:
            print_check(be, res[be + "-cal"], res[be + "-day"])
    for be in ("sqlite", "postgres"):
        if be + "-cal" in res and be + "-day" in res:
            print_full(be, res[be + "-cal"], res[be + "-day"])
    print_rows(res, commit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Tests of ops/airflow/stockpipe_operator.py with the Airflow stand-in of
tests/airflow/airflow/ and the real stockpipe binary.

    python3 tests/airflow/test_operator.py BINARY WORKDIR

Prints "ok   ..." / "FAIL ..." per check (tests/e2e/lib.sh's format) and
ends with "N passed, N failed, 0 skipped"; exits 1 when any failed.
WORKDIR is an empty scratch folder (the demo is copied into it).
"""
import fcntl
import logging
import os
import shutil
import signal
import sqlite3
import stat
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)                              # the stand-in
sys.path.insert(0, os.path.join(ROOT, "ops", "airflow"))

import airflow  # noqa: E402
from airflow.exceptions import (AirflowException,  # noqa: E402
                                AirflowFailException, AirflowSkipException)
from airflow.utils.context import make_context  # noqa: E402
import stockpipe_operator as so  # noqa: E402

assert getattr(airflow, "STANDIN", False), "not the stand-in"

NPASS = NFAIL = 0


def check(ok, what):
    global NPASS, NFAIL
    if ok:
        NPASS += 1
        print("ok   " + what, flush=True)
    else:
        NFAIL += 1
        print("FAIL " + what, flush=True)


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


CAP = Capture()
logging.getLogger("airflow.task").addHandler(CAP)
if os.environ.get("SP_AIRFLOW_LOG"):  # the whole task log, for the caller
    _fh = logging.FileHandler(os.environ["SP_AIRFLOW_LOG"])
    _fh.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger("airflow.task").addHandler(_fh)
logging.getLogger("airflow.task").setLevel(logging.DEBUG)
logging.getLogger("airflow.task").propagate = False


def setup(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "out", "webshop"))
    os.makedirs(os.path.join(d, "out", "marketplace"))
    shutil.copytree(os.path.join(ROOT, "samples"), os.path.join(d, "samples"))
    shutil.copytree(os.path.join(ROOT, "mappings"),
                    os.path.join(d, "mappings"))
    return os.path.join(d, "samples", "stockpipe.yaml")


def op(task_id, binary, config, d, **kw):
    env = {"STOCKPIPE_STATE_DIR": os.path.join(d, "state"),
           "STOCKPIPE_OUT": os.path.join(d, "out"),
           "STOCKPIPE_NOW": "2026-11-20T06:00:00Z"}
    env.update(kw.pop("env", {}))
    return so.StockpipeOperator(task_id=task_id, stockpipe_bin=binary,
                                config_path=config, env=env, **kw)


def outcome_of(o, ctx=None):
    """(state, return value or exception) of one execute()."""
    try:
        return "success", o.execute(ctx or make_context())
    except AirflowSkipException as e:
        return "skipped", e
    except AirflowFailException as e:
        return "failed", e
    except AirflowException as e:
        return "up_for_retry", e


def lock_free(state_dir):
    """True when nobody holds the state directory's lock."""
    path = os.path.join(state_dir, "lock")
    if not os.path.exists(path):
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def run_started(state_dir):
    """True once the state database records a run."""
    path = os.path.join(state_dir, "state.db")
    if not os.path.exists(path):
        return False
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=1)
        try:
            return bool(db.execute("select count(*) from runs").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return False


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def group_gone(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def fake_bin(work, body):
    path = os.path.join(work, "fake-stockpipe-%d" % abs(hash(body)))
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, stat.S_IRWXU)
    return path


def test_levels(binary, work):
    """JSON log lines at their own level: errors at ERROR."""
    cases = {"error": logging.ERROR, "warn": logging.WARNING,
             "info": logging.INFO, "debug": logging.DEBUG}
    got = {k: so.json_log_level('{"ts":"t","level":"%s","run_id":7,'
                                '"msg":"m"}' % k)[0] for k in cases}
    check(got == cases, "json_log_level: error/warn/info/debug -> "
          "ERROR/WARNING/INFO/DEBUG")
    lvl, msg = so.json_log_level('{"ts":"t","level":"error","run_id":7,'
                                 '"msg":"boom"}')
    check(msg == "boom [run_id=7]", "the message keeps run_id: %r" % msg)
    check(so.json_log_level("not json")[0] == logging.WARNING,
          "a line that is not JSON is logged at WARNING")
    # The real binary: a missing config is an error line on stderr.
    d = os.path.join(work, "levels")
    os.makedirs(d)
    CAP.records.clear()
    st, _ = outcome_of(op("levels", binary, os.path.join(d, "nope.yaml"),
                          d))
    errs = [m for lvl, m in CAP.records if lvl == logging.ERROR]
    infos_with_error = [m for lvl, m in CAP.records
                        if lvl == logging.INFO and "nope.yaml" in m and
                        not m.startswith("running: ")]
    check(st == "failed" and errs and not infos_with_error,
          "stockpipe's error line is logged at ERROR, not INFO "
          "(%d error record(s): %s)" % (len(errs), errs[:1]))
    # A demo run: its info lines at INFO, its warnings at WARNING.
    d = os.path.join(work, "levels2")
    cfg = setup(d)
    CAP.records.clear()
    st, rc = outcome_of(op("levels2", binary, cfg, d))
    levels = sorted({lvl for lvl, _ in CAP.records})
    check(st == "success" and logging.INFO in levels and
          logging.WARNING in levels,
          "a demo run logs at INFO and WARNING (levels %s)" % levels)


def test_exit_codes(binary, work):
    """0/1/64/70/75/78/99 from the real binary (70 from a stand-in
    binary: nothing reachable makes the real one fail internally)."""
    d = os.path.join(work, "codes")
    cfg = setup(d)
    st, rc = outcome_of(op("check", binary, cfg, d, command="check"))
    check(st == "success" and rc == 0, "exit 0 (check): success, "
          "returns 0 (%s %r)" % (st, rc))
    CAP.records.clear()
    st, rc = outcome_of(op("run", binary, cfg, d))
    warned = any(lvl == logging.WARNING and "exit 1" in m
                 for lvl, m in CAP.records)
    check(st == "success" and rc == 1 and warned,
          "exit 1 (demo run with rejects): success, logged as a warning")
    st, e = outcome_of(op("again", binary, cfg, d))
    check(st == "skipped", "exit 99 (nothing new, --skip-exit-code 99): "
          "AirflowSkipException (%s: %s)" % (st, e))
    st, e = outcome_of(op("usage", binary, cfg, d, extra_args=["--bogus"]))
    check(st == "failed" and "exited 64" in str(e),
          "exit 64 (usage): AirflowFailException (%s: %s)" % (st, e))
    bad = os.path.join(d, "broken.yaml")
    with open(bad, "w") as f:
        f.write("sources: [\n")
    st, e = outcome_of(op("config", binary, bad, d))
    check(st == "failed" and "exited 78" in str(e),
          "exit 78 (broken config): AirflowFailException (%s: %s)" % (st, e))
    # 75: another run holds the state directory's lock.
    path = os.path.join(d, "state", "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        st, e = outcome_of(op("locked", binary, cfg, d))
    finally:
        os.close(fd)
    check(st == "up_for_retry" and type(e) is AirflowException and
          "exited 75" in str(e),
          "exit 75 (lock held): retryable AirflowException (%s: %s)"
          % (st, e))
    st, e = outcome_of(so.StockpipeOperator(
        task_id="internal", stockpipe_bin=fake_bin(work, "exit 70"),
        config_path=cfg))
    check(st == "failed" and "exited 70" in str(e),
          "exit 70 (internal, stand-in binary): AirflowFailException")
    table = {rc: so.outcome(rc) for rc in (0, 1, 64, 70, 75, 78, 99)}
    check(table == {0: "success", 1: "success", 64: "failed",
                    70: "failed", 75: "up_for_retry", 78: "failed",
                    99: "skipped"}, "outcome table: %s" % table)


def big_drop(d, mb):
    """A stores CSV of about mb MB in the demo's stores folder."""
    path = os.path.join(d, "samples", "drop", "stores",
                        "stock_F099_20261120.csv")
    row = "F012,KW-10001,%d,OK,2026-11-20 06:00\n"
    with open(path, "w") as f:
        f.write("store,sku,qty,status,counted_at\n")
        n = 0
        while n < mb * 1024 * 1024:
            line = row % (n % 997)
            f.write(line)
            n += len(line)


def test_kill(binary, work):
    """execution_timeout: on_kill() from another thread stops the run
    within seconds, frees the lock, and the retry resumes the run."""
    d = os.path.join(work, "kill")
    cfg = setup(d)
    state = os.path.join(d, "state")
    big_drop(d, int(os.environ.get("SP_AIRFLOW_MB", "40")))
    o = op("run", binary, cfg, d)
    res = {}

    def body():
        res["st"], res["v"] = outcome_of(o, make_context(try_number=1))
    t = threading.Thread(target=body)
    t.start()
    # Until the run is recorded (past its setup: stockpipe takes SIGTERM
    # as "stop at a safe point" once the run has begun), then a moment
    # more, into its work.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and t.is_alive() and \
            not run_started(state):
        time.sleep(0.1)
    time.sleep(1.0)
    proc = o._proc
    running = proc is not None and proc.poll() is None and \
        not lock_free(state)
    check(running, "the run is going and holds the lock when the "
          "timeout strikes")
    if not running:
        t.join()
        return
    pid = proc.pid
    t0 = time.monotonic()
    o.on_kill()
    took = time.monotonic() - t0
    t.join(30)
    check(gone(pid) and group_gone(pid),
          "after on_kill the stockpipe process and its group are gone "
          "(%.1fs)" % took)
    check(took < 10, "on_kill returned within seconds (%.1fs)" % took)
    check(proc.returncode == 75,
          "stockpipe stopped at a safe point: exit %s" % proc.returncode)
    check(not t.is_alive() and res.get("st") == "up_for_retry",
          "the task ends up for retry (%s: %s)" % (res.get("st"),
                                                   res.get("v")))
    check(lock_free(state), "the state directory's lock is free")
    db = sqlite3.connect(os.path.join(state, "state.db"))
    before = db.execute("select run_id, status from runs").fetchall()
    db.close()
    st, rc = outcome_of(op("run", binary, cfg, d),
                        make_context(try_number=2))
    db = sqlite3.connect(os.path.join(state, "state.db"))
    after = db.execute("select run_id, status from runs").fetchall()
    db.close()
    # The retry resumes the interrupted run first (then, as every `run`,
    # looks for new files in a run of its own: nothing new here).
    check(st == "success" and len(before) == 1 and
          before[0][1] == "interrupted" and
          (before[0][0], "done") in after and
          all(status == "done" for _, status in after),
          "the retry resumes the interrupted run and finishes it (before "
          "%s, after %s, %s %r)" % (before, after, st, rc))
    outs = sorted(os.listdir(os.path.join(d, "out", "webshop")))
    check([f for f in outs if f.startswith("webshop_stock_")] ==
          ["webshop_stock_1_20261120T060000Z.csv"],
          "the resumed run delivered the webshop stock once: %s" % outs)


def test_kill_stubborn(work):
    """A process that ignores SIGTERM, and a child of it, are SIGKILLed
    after the grace period; the whole group is gone."""
    binary = fake_bin(work, "trap '' TERM\nsleep 300 &\necho started\n"
                      "while :; do sleep 1; done")
    o = so.StockpipeOperator(task_id="stubborn", stockpipe_bin=binary,
                             config_path="/dev/null", kill_grace=1)
    res = {}

    def body():
        res["st"], res["v"] = outcome_of(o)
    t = threading.Thread(target=body)
    t.start()
    while o._proc is None and t.is_alive():
        time.sleep(0.05)
    time.sleep(0.5)
    pid = o._proc.pid
    t0 = time.monotonic()
    o.on_kill()
    took = time.monotonic() - t0
    t.join(10)
    check(group_gone(pid) and 0.9 < took < 8,
          "SIGTERM ignored: SIGKILL after the grace period, the group "
          "(with its child) is gone (%.1fs)" % took)
    check(res.get("st") == "up_for_retry" and "signal 9" in str(res["v"]),
          "the task ends up for retry (%s)" % res.get("v"))


def test_worker_ids():
    o = so.StockpipeOperator(task_id="work", command="work", stockpipe_run=12,
                             lease=60, stockpipe_bin="stockpipe",
                             config_path="c.yaml")
    a = o.argv(make_context(dag_id="stockpipe_workers", map_index=3,
                            try_number=1))
    b = o.argv(make_context(dag_id="stockpipe_workers", map_index=3,
                            try_number=2))
    c = o.argv(make_context(dag_id="stockpipe_workers", map_index=4,
                            try_number=1))
    wid = a[a.index("--worker-id") + 1]
    check(wid == "airflow-stockpipe_workers.task-scheduled__2026-11-20T06_"
          "00_00_00_00-3-1", "worker id from dag, task, run, map index, "
          "try: %s" % wid)
    ids = {x[x.index("--worker-id") + 1] for x in (a, b, c)}
    check(len(ids) == 3 and str(os.getpid()) not in wid,
          "another try or map index gives another id, no PID in it")
    long_id = so.worker_id("d" * 200, "r" * 300, 1, 1)
    check(len(long_id) <= 127, "a long id is cut to 127 bytes with a hash")
    check(a[:8] == ["stockpipe", "-c", "c.yaml", "--log-format", "json",
                    "work", "--run", "12"], "work argv: %s" % a)


def test_parse_time():
    """Nothing read when the operator is made (as at DAG parse time):
    no environment, no file."""
    seen = []
    real_get = os.environ.get
    try:
        os.environ.get = lambda *a: seen.append(a) or real_get(*a)
        so.StockpipeOperator(task_id="p", source="stores", until="fetch")
    finally:
        os.environ.get = real_get
    check(not seen, "constructing the operator reads no setting")
    dags = [os.path.join(ROOT, "ops", "airflow", n) for n in
            ("stockpipe_dag.py", "stockpipe_workers_dag.py")]
    text = "".join(open(p).read() for p in dags)
    check("Variable.get" not in text and "StockpipeOperator" in text and
          "PythonOperator" not in text and "run_stockpipe" not in text,
          "both DAGs use StockpipeOperator; no Variable.get, no "
          "PythonOperator copy of the process handling")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    binary, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.environ.pop("STOCKPIPE_CONFIG", None)
    os.environ.pop("STOCKPIPE_BIN", None)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    test_worker_ids()
    test_parse_time()
    test_levels(binary, work)
    test_exit_codes(binary, work)
    test_kill_stubborn(work)
    test_kill(binary, work)
    print("%d passed, %d failed, 0 skipped" % (NPASS, NFAIL))
    return 1 if NFAIL else 0


if __name__ == "__main__":
    sys.exit(main())

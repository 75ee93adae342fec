"""Airflow DAG for stockpipe: one task per stage and scope.

    fetch_<source> >> map_<source> >> load_<source>   (for every source)
    every load_* >> render_<target> >> deliver_<target> (for every target)
    every deliver_* >> finish

Each task runs one `stockpipe run` limited to its scope (`--source S
--until fetch|map|load`, `--target T --until render`, `--target T`); these
partial invocations share one stockpipe run, which stays open ("partial")
until `finish` (`run --targets-only`) closes it and writes the final report.
See docs/operations.md ("Airflow").

Exit codes (docs/operations.md):
    0   success
    1   success, but records were rejected: logged as a warning
    99  nothing to do (--skip-exit-code 99): the task is skipped, and so are
        the tasks that need it (Airflow's trigger rules)
    75  temporary (I/O, disk full, lock held, network, SIGTERM): retried
    78, 64, 70  configuration/usage/internal: failed at once, no retry

Configuration (environment of the scheduler, or Airflow Variables with the
same names): STOCKPIPE_BIN (default /usr/local/bin/stockpipe),
STOCKPIPE_CONFIG (default /etc/stockpipe/stockpipe.yaml); the source and
target names are read from that config file when the DAG is parsed.

Without Airflow (tests, dry runs):
    python3 stockpipe_dag.py --print-commands   # task, upstreams, command
    python3 stockpipe_dag.py --outcome RC       # what the DAG does with RC
    python3 stockpipe_dag.py --simulate         # run every task in order
                                                # with the trigger rules
"""
import datetime
import logging
import os
import shlex
import subprocess
import sys

SKIP_EXIT_CODE = 99
RETRY_EXIT_CODES = (75,)
SUCCESS_EXIT_CODES = (0, 1)
RETRIES = 3

log = logging.getLogger("stockpipe")


def _setting(name, default):
    value = os.environ.get(name)
    if value:
        return value
    try:
        from airflow.models import Variable

        return Variable.get(name, default_var=default)
    except Exception:  # no Airflow, or no metadata database
        return default


def scopes(config_path):
    """The source and target names of a stockpipe config, in order."""
    import yaml  # PyYAML: an Airflow dependency

    with open(config_path, encoding="utf-8") as f:
        cfg = yaml.safe_load(f) or {}
    sources = [s["name"] for s in cfg.get("sources") or []]
    targets = [t["name"] for t in cfg.get("targets") or []]
    return sources, targets


def tasks(stockpipe, config_path):
    """[(task_id, [upstream task ids], trigger_rule, argv)] in a
    topological order: the whole DAG as data, shared by Airflow and the
    tests (tests/e2e/airflow_cmds.sh runs exactly these commands)."""
    sources, targets = scopes(config_path)
    base = [stockpipe, "-c", config_path, "--log-format", "json",
            "--skip-exit-code", str(SKIP_EXIT_CODE), "run"]
    out = []
    for s in sources:
        out.append(("fetch_" + s, [], "all_success",
                    base + ["--source", s, "--until", "fetch"]))
        out.append(("map_" + s, ["fetch_" + s], "all_success",
                    base + ["--source", s, "--until", "map"]))
        out.append(("load_" + s, ["map_" + s], "all_success",
                    base + ["--source", s, "--until", "load"]))
    loads = ["load_" + s for s in sources]
    for t in targets:
        # A source with nothing new is skipped; the targets still render
        # when any source loaded something.
        out.append(("render_" + t, loads, "none_failed_min_one_success",
                    base + ["--target", t, "--until", "render"]))
        out.append(("deliver_" + t, ["render_" + t], "all_success",
                    base + ["--target", t]))
    # Closes the run (final report, metrics, exit 1 on rejects) whatever
    # was skipped before it.
    out.append(("finish", ["deliver_" + t for t in targets] or loads,
                "none_failed", base + ["--targets-only"]))
    return out


def outcome(rc):
    """success | skipped | up_for_retry | failed"""
    if rc in SUCCESS_EXIT_CODES:
        return "success"
    if rc == SKIP_EXIT_CODE:
        return "skipped"
    if rc in RETRY_EXIT_CODES:
        return "up_for_retry"
    return "failed"


def run_stockpipe(argv):
    """The task body: run argv, stream its output (JSON lines) into the
    task log, turn the exit code into Airflow's task state. The child stays
    in the task's process group, so Airflow's SIGTERM on a timeout or a
    manual stop reaches it: it stops at a safe point and exits 75."""
    from airflow.exceptions import (AirflowException, AirflowFailException,
                                    AirflowSkipException)

    log.info("running: %s", shlex.join(argv))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        log.info("%s", line.rstrip("\n"))
    rc = proc.wait()
    state = outcome(rc)
    if state == "success":
        if rc == 1:
            log.warning("stockpipe: done, but records were rejected or "
                        "files quarantined; see the run report")
        return rc
    if state == "skipped":
        raise AirflowSkipException("stockpipe: nothing to do")
    if state == "up_for_retry":
        raise AirflowException("stockpipe exited %d (temporary): retrying"
                               % rc)
    raise AirflowFailException("stockpipe exited %d (configuration, usage "
                               "or internal error): not retried" % rc)


def build_dag():
    from airflow import DAG

    try:  # Airflow 3
        from airflow.providers.standard.operators.python import PythonOperator
    except ImportError:  # Airflow 2
        from airflow.operators.python import PythonOperator

    stockpipe = _setting("STOCKPIPE_BIN", "/usr/local/bin/stockpipe")
    config_path = _setting("STOCKPIPE_CONFIG",
                           "/etc/stockpipe/stockpipe.yaml")
    dag = DAG(
        dag_id="stockpipe",
        description="stockpipe: fetch, map, load, render, deliver",
        schedule=datetime.timedelta(minutes=15),
        start_date=datetime.datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,    # one run per state directory
        max_active_tasks=1,   # the state directory's lock is exclusive
        default_args={
            "retries": RETRIES,
            "retry_delay": datetime.timedelta(minutes=2),
            "execution_timeout": datetime.timedelta(hours=2),
        },
    )
    ops = {}
    for task_id, upstream, rule, argv in tasks(stockpipe, config_path):
        ops[task_id] = PythonOperator(task_id=task_id, dag=dag,
                                      python_callable=run_stockpipe,
                                      op_args=[argv], trigger_rule=rule)
        for u in upstream:
            ops[u] >> ops[task_id]
    return dag


def simulate(stockpipe, config_path, retries=RETRIES):
    """Runs the tasks in order like the scheduler would (trigger rules,
    retries on 75); prints "task state exit" lines; returns the states."""
    states = {}
    for task_id, upstream, rule, argv in tasks(stockpipe, config_path):
        ups = [states[u] for u in upstream]
        if rule == "all_success":
            runnable = all(s == "success" for s in ups)
            blocked = "skipped" if any(s == "skipped" for s in ups) \
                else "upstream_failed"
        elif rule == "none_failed_min_one_success":
            runnable = (all(s in ("success", "skipped") for s in ups)
                        and (not ups or any(s == "success" for s in ups)))
            blocked = "upstream_failed" if any(
                s not in ("success", "skipped") for s in ups) else "skipped"
        else:  # none_failed
            runnable = all(s in ("success", "skipped") for s in ups)
            blocked = "upstream_failed"
        if not runnable:
            states[task_id] = blocked
            print(task_id, blocked, "-", flush=True)
            continue
        tries = 0
        while True:
            rc = subprocess.run(argv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode
            state = outcome(rc)
            tries += 1
            if state != "up_for_retry" or tries > retries:
                break
        if state == "up_for_retry":
            state = "failed"
        states[task_id] = state
        print(task_id, state, rc, flush=True)
    return states


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get(
        "STOCKPIPE_BIN", "/usr/local/bin/stockpipe"))
    ap.add_argument("--config", default=os.environ.get(
        "STOCKPIPE_CONFIG", "/etc/stockpipe/stockpipe.yaml"))
    ap.add_argument("--print-commands", action="store_true")
    ap.add_argument("--simulate", action="store_true")
    ap.add_argument("--outcome", type=int)
    a = ap.parse_args()
    if a.outcome is not None:
        print(outcome(a.outcome))
    elif a.print_commands:
        for task_id, upstream, rule, argv in tasks(a.bin, a.config):
            print("\t".join([task_id, ",".join(upstream), rule,
                             shlex.join(argv)]))
    elif a.simulate:
        st = simulate(a.bin, a.config)
        sys.exit(1 if any(s in ("failed", "upstream_failed")
                          for s in st.values()) else 0)
    else:
        ap.print_help()
else:
    try:
        import airflow  # noqa: F401
    except ImportError:
        pass
    else:
        dag = build_dag()

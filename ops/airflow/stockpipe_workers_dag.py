"""Airflow DAG for stockpipe with many workers per run (issue: scale out).

    plan  >>  work[0..N-1]  >>  finish

`plan` (`stockpipe plan`) opens the run, lists every source once and
pushes the run id (its stdout) to XCom. `work` is mapped N times (dynamic
task mapping, `.expand`): N `stockpipe work --run ID` processes share the
run's units through the state store (PostgreSQL when the workers are on
several machines; see docs/scaling.md). Each worker claims units under a
lease renewed by a heartbeat; a worker that dies (pod evicted, node lost,
SIGKILL) leaves its units to the others once the lease runs out, so a
retried or lost task never processes or delivers anything twice. The
worker that finds the run complete concludes it; `finish` is one more
`work --run ID` that returns the run's exit code once it is concluded
(it waits for the others' leases if some worker vanished).

Per-stage fan-out (STOCKPIPE_STAGES=1): plan >> work_source[N]
(--stage fetch,unpack,map) >> work_load[1] (--stage load) >>
work_target[N] (--stage render,deliver) >> finish.

Every task is a StockpipeOperator (stockpipe_operator.py): exit codes as
in stockpipe_dag.py (0/1 success, 1 logged as a warning; 75 retried;
78/64/70 failed at once), SIGTERM to the worker's process group on a
timeout or stop, worker ids from dag_id, run_id, ti.map_index and
ti.try_number (never the PID, which repeats across pods).

Settings (Airflow Variables, else the worker's environment), all read
when a task runs, never when the DAG is parsed: STOCKPIPE_BIN,
STOCKPIPE_CONFIG, STOCKPIPE_WORKERS (default 4, read by the `slots`
task the workers are mapped over), STOCKPIPE_LEASE (seconds, default
60). The per-stage fan-out is its own DAG, stockpipe_workers_stages.

Without Airflow (tests):
    python3 stockpipe_workers_dag.py --print-commands
    python3 stockpipe_workers_dag.py --simulate [--workers N]
        # plan, then the mapped work tasks as N parallel processes, then
        # finish; prints "task state exit" lines
"""
import datetime
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stockpipe_dag import (BIN_TEMPLATE, CONFIG_TEMPLATE,  # noqa: E402
                           RETRIES)
from stockpipe_operator import outcome, worker_id  # noqa: E402

WORKERS_TEMPLATE = "{{ var.value.get('STOCKPIPE_WORKERS', '') }}"
LEASE_TEMPLATE = ("{{ var.value.get('STOCKPIPE_LEASE', '') or "
                  "'60' }}")


def _base(stockpipe, config_path):
    return [stockpipe, "-c", config_path, "--log-format", "json"]


def plan_argv(stockpipe, config_path):
    return _base(stockpipe, config_path) + ["plan"]


def work_argv(stockpipe, config_path, run_id, index, lease, stage=None,
              try_number=1, task_id="work"):
    """One mapped worker, as StockpipeOperator(command="work") runs it.
    The worker id carries the map index and the try, so a retried task
    never shares a name with its dead predecessor (whose leases must run
    out, not be inherited)."""
    argv = _base(stockpipe, config_path) + [
        "work", "--run", str(run_id), "--lease", str(lease),
        "--worker-id", worker_id("stockpipe_workers", "run-%s" % run_id,
                                 index, try_number, task_id)]
    if stage:
        argv += ["--stage", stage]
    return argv


def phases(stages):
    """[(task_id, stage or None, mapped?)] in order."""
    if stages:
        return [("work_source", "fetch,unpack,map", True),
                ("work_load", "load", False),
                ("work_target", "render,deliver", True),
                ("finish", None, False)]
    return [("work", None, True), ("finish", None, False)]


def build_dag(stages=False):
    """The DAG (stages: the per-stage fan-out). Reads nothing: paths,
    the number of workers and the lease are rendered when tasks run."""
    from airflow import DAG

    try:  # Airflow 3
        from airflow.sdk import task
    except ImportError:  # Airflow 2.3+
        from airflow.decorators import task
    from stockpipe_operator import StockpipeOperator

    paths = {"stockpipe_bin": BIN_TEMPLATE, "config_path": CONFIG_TEMPLATE}
    with DAG(
        dag_id="stockpipe_workers_stages" if stages else "stockpipe_workers",
        description="stockpipe: one run shared by many workers",
        schedule=datetime.timedelta(minutes=15),
        start_date=datetime.datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,   # one stockpipe run at a time per state store
        default_args={
            "retries": RETRIES,
            "retry_delay": datetime.timedelta(minutes=1),
            "execution_timeout": datetime.timedelta(hours=2),
        },
    ) as dag:
        # `plan` prints the run id; it is the task's XCom.
        plan = StockpipeOperator(task_id="plan", command="plan", **paths)

        @task(task_id="slots")
        def slots(n):
            return list(range(int(n or os.environ.get(
                "STOCKPIPE_WORKERS") or 4)))

        n = slots(WORKERS_TEMPLATE)
        prev = plan
        for task_id, stage, mapped in phases(stages):
            kw = dict(command="work", stockpipe_run=plan.output,
                      lease=LEASE_TEMPLATE, stage=stage, **paths)
            if mapped:
                t = StockpipeOperator.partial(task_id=task_id, **kw).expand(
                    slot=n)
            else:
                t = StockpipeOperator(task_id=task_id, **kw)
            prev >> t
            prev = t
    return dag


def simulate(stockpipe, config_path, workers, lease=60, stages=False):
    """plan, then each phase's mapped tasks as parallel processes (the
    executor's slots), then finish; returns the task states."""
    states = {}
    out = subprocess.run(plan_argv(stockpipe, config_path),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    states["plan"] = outcome(out.returncode)
    print("plan", states["plan"], out.returncode, flush=True)
    if states["plan"] != "success":
        return states
    run_id = int(out.stdout.strip().splitlines()[-1])
    for task_id, stage, mapped in phases(stages):
        n = workers if mapped else 1
        procs = [subprocess.Popen(
            work_argv(stockpipe, config_path, run_id, i, lease, stage,
                      task_id=task_id),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(n)]
        for i, p in enumerate(procs):
            rc = p.wait()
            name = "%s[%d]" % (task_id, i) if mapped else task_id
            states[name] = outcome(rc)
            print(name, states[name], rc, flush=True)
    return states


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get(
        "STOCKPIPE_BIN", "/usr/local/bin/stockpipe"))
    ap.add_argument("--config", default=os.environ.get(
        "STOCKPIPE_CONFIG", "/etc/stockpipe/stockpipe.yaml"))
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--stages", action="store_true")
    ap.add_argument("--print-commands", action="store_true")
    ap.add_argument("--simulate", action="store_true")
    a = ap.parse_args()
    if a.print_commands:
        print("plan\t\t" + shlex.join(plan_argv(a.bin, a.config)))
        prev = "plan"
        for task_id, stage, mapped in phases(a.stages):
            argv = work_argv(a.bin, a.config, "RUN_ID", "I", 60, stage,
                             task_id=task_id)
            print("\t".join([task_id + ("[0..%d]" % (a.workers - 1)
                                        if mapped else ""),
                             prev, shlex.join(argv)]))
            prev = task_id
    elif a.simulate:
        st = simulate(a.bin, a.config, a.workers, stages=a.stages)
        sys.exit(1 if any(s != "success" for s in st.values()) else 0)
    else:
        ap.print_help()
else:
    try:
        import airflow  # noqa: F401
    except ImportError:
        pass
    else:
        dag = build_dag()
        dag_stages = build_dag(stages=True)

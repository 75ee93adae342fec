"""Airflow DAG for stockpipe: one task per stage and scope.

    fetch_<source> >> map_<source> >> load_<source>   (for every source)
    every load_* >> render_<target> >> deliver_<target> (for every target)
    every deliver_* >> finish

(In Airflow the per-source and per-target chains are the mapped task
groups source.fetch/map/load[i] and target.render/deliver[i]; the
--print-commands names are the flat ones above.)

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

Each task is a StockpipeOperator (stockpipe_operator.py: its own process
group, SIGTERM on a timeout or stop, JSON log levels, the exit codes
above). Nothing is read when the DAG is parsed: STOCKPIPE_BIN and
STOCKPIPE_CONFIG (Airflow Variables, else the worker's environment, else
/usr/local/bin/stockpipe and /etc/stockpipe/stockpipe.yaml) are templated
and rendered when a task runs, and the source and target names come from
two small tasks that read the config at run time; the per-source chain
(fetch >> map >> load) and the per-target chain (render >> deliver) are
task groups mapped over those names (dynamic task mapping, Airflow 2.5+).

Without Airflow (tests, dry runs):
    python3 stockpipe_dag.py --print-commands   # task, upstreams, command
    python3 stockpipe_dag.py --outcome RC       # what the DAG does with RC
    python3 stockpipe_dag.py --simulate         # run every task in order
                                                # with the trigger rules
"""
import datetime
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stockpipe_operator import SKIP_EXIT_CODE, outcome  # noqa: E402

RETRIES = 3

# Rendered when a task runs (never at parse time): the Airflow Variable,
# or "" and then the operator takes the worker's environment, else the
# packaged default.
BIN_TEMPLATE = "{{ var.value.get('STOCKPIPE_BIN', '') }}"
CONFIG_TEMPLATE = "{{ var.value.get('STOCKPIPE_CONFIG', '') }}"


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


def config_or_default(config_path):
    """The config a task reads: the rendered template, else
    $STOCKPIPE_CONFIG, else the packaged default (at run time only)."""
    return (config_path or os.environ.get("STOCKPIPE_CONFIG") or
            "/etc/stockpipe/stockpipe.yaml")


def build_dag():
    """The DAG. Reads nothing: names and paths are resolved by the
    tasks when they run."""
    from airflow import DAG

    try:  # Airflow 3
        from airflow.sdk import task, task_group
    except ImportError:  # Airflow 2.5+
        from airflow.decorators import task, task_group
    from stockpipe_operator import StockpipeOperator

    paths = {"stockpipe_bin": BIN_TEMPLATE, "config_path": CONFIG_TEMPLATE}
    with DAG(
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
    ) as dag:
        @task(task_id="sources")
        def list_sources(config_path):
            return scopes(config_or_default(config_path))[0]

        @task(task_id="targets")
        def list_targets(config_path):
            return scopes(config_or_default(config_path))[1]

        @task_group(group_id="source")
        def per_source(source):
            fetch = StockpipeOperator(task_id="fetch", source=source,
                                      until="fetch", **paths)
            map_ = StockpipeOperator(task_id="map", source=source,
                                     until="map", **paths)
            load = StockpipeOperator(task_id="load", source=source,
                                     until="load", **paths)
            fetch >> map_ >> load

        @task_group(group_id="target")
        def per_target(target):
            # A source with nothing new is skipped; the targets still
            # render when any source loaded something.
            render = StockpipeOperator(
                task_id="render", target=target, until="render",
                trigger_rule="none_failed_min_one_success", **paths)
            deliver = StockpipeOperator(task_id="deliver", target=target,
                                        **paths)
            render >> deliver

        # Closes the run (final report, metrics, exit 1 on rejects)
        # whatever was skipped before it.
        finish = StockpipeOperator(task_id="finish", targets_only=True,
                                   trigger_rule="none_failed", **paths)
        sources = per_source.expand(source=list_sources(CONFIG_TEMPLATE))
        targets = per_target.expand(target=list_targets(CONFIG_TEMPLATE))
        sources >> targets >> finish
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

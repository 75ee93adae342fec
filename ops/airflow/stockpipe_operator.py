"""StockpipeOperator: one stockpipe invocation as an Airflow task.

Used by stockpipe_dag.py and stockpipe_workers_dag.py (docs/operations.md,
"Airflow"). What it does, and why:

- Runs the binary as a subprocess in its own process group (a new
  session), so a stop reaches stockpipe and everything it started, and
  nothing else. on_kill() (Airflow's execution_timeout, a manual stop,
  a task marked failed) sends SIGTERM to that group and waits: stockpipe
  stops at a safe point, releases the state directory's lock and exits
  75, so the retry resumes the run instead of finding the lock held. A
  group still there after kill_grace seconds gets SIGKILL (the run is
  then resumed from its last committed step, as after a crash).
- Reads `--log-format json` lines from stderr (ts, level, run_id, msg,
  and any other fields) and logs each at the matching level of the task
  logger: error -> ERROR, warn -> WARNING, info -> INFO, debug -> DEBUG;
  a line that is not JSON is logged as it is at WARNING. stdout (plan's
  run id, check's verdict) is logged at INFO; the last stdout line is the
  task's return value (XCom) for `plan`.
- Exit codes (docs/operations.md): 0 success; 1 success with rejects,
  quarantines or parked units (logged as a warning); 99 nothing to do
  (--skip-exit-code 99 on `run`): AirflowSkipException; 75 temporary
  (lock held, I/O, network, stopped by SIGTERM): AirflowException, which
  Airflow retries while retries are left; 64 usage, 70 internal, 78
  configuration/mapping/credentials: AirflowFailException, never
  retried; anything else (killed by a signal): AirflowException.
- Worker ids (`work --worker-id`) come from the task instance: dag_id,
  the DAG run's run_id, ti.map_index and ti.try_number. The PID repeats
  across pods and containers; a retried task must never share its dead
  predecessor's name (its leases must run out, not be inherited).
- Reads nothing at import or DAG definition: the binary and config paths
  are templated fields (Jinja, rendered when the task runs) and fall back
  to $STOCKPIPE_BIN / $STOCKPIPE_CONFIG, read in execute().

Tested with a stand-in for the Airflow classes it imports
(tests/airflow/, tests/e2e/airflow_operator.sh), not with a real Airflow.
"""
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time

try:  # Airflow 3
    from airflow.sdk import BaseOperator
except ImportError:
    try:  # Airflow 2
        from airflow.models import BaseOperator
    except ImportError:
        # No Airflow: the policy (outcome, json_log_level, worker_id)
        # still imports, for the DAG files' --outcome/--simulate modes;
        # the operator itself cannot be made.
        BaseOperator = None
if BaseOperator is not None:
    from airflow.exceptions import (AirflowException, AirflowFailException,
                                    AirflowSkipException)

SKIP_EXIT_CODE = 99
SUCCESS_EXIT_CODES = (0, 1)
RETRY_EXIT_CODES = (75,)
FAIL_EXIT_CODES = (64, 70, 78)
DEFAULT_BIN = "/usr/local/bin/stockpipe"
DEFAULT_CONFIG = "/etc/stockpipe/stockpipe.yaml"

LEVELS = {
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def outcome(rc):
    """success | skipped | up_for_retry | failed: what a task does with
    stockpipe's exit code rc (the policy of execute(), as data)."""
    if rc in SUCCESS_EXIT_CODES:
        return "success"
    if rc == SKIP_EXIT_CODE:
        return "skipped"
    if rc in FAIL_EXIT_CODES:
        return "failed"
    return "up_for_retry"


def json_log_level(line):
    """(logging level, message) for one stderr line of stockpipe."""
    try:
        o = json.loads(line)
    except ValueError:
        return logging.WARNING, line
    if not isinstance(o, dict):
        return logging.WARNING, line
    level = LEVELS.get(str(o.get("level", "")).lower(), logging.INFO)
    msg = str(o.get("msg", ""))
    extra = ["%s=%s" % (k, json.dumps(v) if not isinstance(v, str) else v)
             for k, v in o.items() if k not in ("ts", "level", "msg")]
    if extra:
        msg = "%s [%s]" % (msg, " ".join(extra))
    return level, msg


def worker_id(dag_id, run_id, map_index, try_number, task_id=None):
    """A worker name unique per DAG run, task, mapped index and try, at
    most 127 bytes of [A-Za-z0-9._-] (stockpipe work --worker-id)."""
    if task_id:
        dag_id = "%s.%s" % (dag_id, task_id)
    # -1 (Airflow's "not mapped") and None are slot 0; a str is kept
    # (placeholders in --print-commands).
    idx = map_index
    if not isinstance(map_index, str) and (map_index or 0) < 0:
        idx = 0
    name = "airflow-%s-%s-%s-%s" % (dag_id, run_id, idx or 0,
                                    try_number or 1)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if len(name) > 127:
        h = hashlib.sha256(("%s\0%s" % (dag_id, run_id)).encode()
                           ).hexdigest()[:16]
        name = re.sub(r"[^A-Za-z0-9._-]", "_", "airflow-%s-%s-%s-%s" % (
            dag_id[:60], h, idx or 0, try_number or 1))[:127]
    return name


class StockpipeOperator(BaseOperator or object):
    """Runs `stockpipe [-c CONFIG] --log-format json COMMAND ...`.

    command: "run" (with source/target/until/targets_only), "plan",
    "work" (with stockpipe_run/lease/stage; the worker id is made from the task
    instance) or any other subcommand with extra_args. slot: what a
    mapped worker was expanded over (the workers DAG); only logged, the
    worker id uses ti.map_index.
    """

    template_fields = ("stockpipe_bin", "config_path", "source", "target",
                       "until", "stockpipe_run", "lease", "stage", "extra_args")
    ui_color = "#d7ecf7"

    def __init__(self, *, command="run", source=None, target=None,
                 until=None, targets_only=False, stockpipe_run=None,
                 lease=None,
                 stage=None, extra_args=(), stockpipe_bin=None,
                 config_path=None, skip_exit_code=SKIP_EXIT_CODE,
                 kill_grace=30.0, env=None, slot=None, **kwargs):
        if BaseOperator is None:
            raise ImportError("StockpipeOperator needs Airflow")
        super().__init__(**kwargs)
        self.command = command
        self.source = source
        self.target = target
        self.until = until
        self.targets_only = targets_only
        self.stockpipe_run = stockpipe_run  # not "run": BaseOperator.run
        self.lease = lease
        self.stage = stage
        self.extra_args = list(extra_args)
        self.stockpipe_bin = stockpipe_bin
        self.config_path = config_path
        self.skip_exit_code = skip_exit_code
        self.kill_grace = kill_grace
        self.env = env
        self.slot = slot
        self._proc = None
        self._killed = False
        self._lock = threading.Lock()

    # -- the command line ---------------------------------------------
    def argv(self, context=None):
        stockpipe = self.stockpipe_bin or os.environ.get(
            "STOCKPIPE_BIN") or DEFAULT_BIN
        config = self.config_path or os.environ.get(
            "STOCKPIPE_CONFIG") or DEFAULT_CONFIG
        argv = [stockpipe, "-c", config, "--log-format", "json"]
        if self.command == "run" and self.skip_exit_code is not None:
            argv += ["--skip-exit-code", str(self.skip_exit_code)]
        argv.append(self.command)
        if self.command == "run":
            for opt, val in (("--source", self.source),
                             ("--target", self.target),
                             ("--until", self.until)):
                if val:
                    argv += [opt, str(val)]
            if self.targets_only:
                argv.append("--targets-only")
        elif self.command == "work":
            if self.stockpipe_run is not None:
                argv += ["--run", str(self.stockpipe_run)]
            if self.lease is not None:
                argv += ["--lease", str(self.lease)]
            argv += ["--worker-id", self._worker_id(context)]
            if self.stage:
                argv += ["--stage", str(self.stage)]
        return argv + [str(a) for a in self.extra_args]

    def _worker_id(self, context):
        ti = (context or {}).get("ti") or (context or {}).get(
            "task_instance")
        if ti is None:
            raise AirflowFailException("stockpipe work needs the task "
                                       "instance for its worker id")
        dag_run = (context or {}).get("dag_run")
        run_id = getattr(ti, "run_id", None) or getattr(
            dag_run, "run_id", None) or (context or {}).get("run_id", "")
        return worker_id(ti.dag_id, run_id, getattr(ti, "map_index", -1),
                         getattr(ti, "try_number", 1),
                         getattr(ti, "task_id", None))

    # -- running it -----------------------------------------------------
    def _pump_stderr(self, stream):
        for raw in stream:
            line = raw.rstrip("\n")
            if not line:
                continue
            level, msg = json_log_level(line)
            self.log.log(level, "%s", msg)

    def execute(self, context):
        argv = self.argv(context)
        env = None
        if self.env is not None:
            env = dict(os.environ)
            env.update(self.env)
        self.log.info("running: %s", " ".join(argv))
        with self._lock:
            if self._killed:
                raise AirflowException("stockpipe: stopped before it "
                                       "started")
            # start_new_session: its own process group, so on_kill()
            # reaches stockpipe and its children, and only them.
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, errors="replace",
                env=env, start_new_session=True)
        proc = self._proc
        pump = threading.Thread(target=self._pump_stderr,
                                args=(proc.stderr,), daemon=True)
        pump.start()
        out = []
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            out.append(line)
            self.log.info("%s", line)
        rc = proc.wait()
        pump.join()
        return self._result(rc, out)

    def _result(self, rc, out):
        state = outcome(rc)
        if state == "success":
            if rc == 1:
                self.log.warning("stockpipe: done, but records were "
                                 "rejected, files quarantined or units "
                                 "parked (exit 1); see the run report")
            if self.command == "plan":
                lines = [x for x in out if x.strip()]
                return lines[-1].strip() if lines else None
            return rc
        if state == "skipped":
            raise AirflowSkipException("stockpipe: nothing to do (exit %d)"
                                       % rc)
        if state == "failed":
            raise AirflowFailException(
                "stockpipe exited %d (%s): not retried" % (
                    rc, {64: "usage", 70: "internal error",
                         78: "configuration, mapping or credentials"}[rc]))
        if rc < 0:
            raise AirflowException("stockpipe killed by signal %d%s" % (
                -rc, " (stopped by on_kill)" if self._killed else ""))
        raise AirflowException("stockpipe exited %d (temporary): retrying"
                               % rc)

    def on_kill(self):
        """SIGTERM to stockpipe's process group, wait for it to stop
        (kill_grace seconds), then SIGKILL what is left."""
        with self._lock:
            self._killed = True
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        pgid = proc.pid  # the session leader: its pid is the group id
        self.log.warning("stopping stockpipe (pid %d): SIGTERM", proc.pid)
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=self.kill_grace)
        except subprocess.TimeoutExpired:
            self.log.error("stockpipe (pid %d) still running after %.0fs: "
                           "SIGKILL", proc.pid, self.kill_grace)
        # Whatever is left in the group (stockpipe, or a child that
        # outlived it) gets SIGKILL.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        else:
            proc.wait()
            # Let the group's last members go before returning.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

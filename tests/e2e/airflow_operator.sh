#!/bin/sh
# The Airflow operator (ops/airflow/stockpipe_operator.py) against the real
# binary. Airflow cannot be installed here: tests/airflow/airflow/ is a
# stand-in for the classes the operator imports (BaseOperator, the task
# exceptions, the context), and tests/airflow/test_operator.py drives it:
#   - kill on timeout: a long run (a ~40 MB store count) is stopped by
#     on_kill() from another thread: the process and its group are gone
#     within seconds, exit 75, the state lock is free, and the retry
#     resumes the same run to done; a process that ignores SIGTERM is
#     SIGKILLed after the grace period, with its child;
#   - exit codes 0/1/64/70/75/78/99 -> success / success with a warning /
#     AirflowFailException / retryable AirflowException / skipped;
#   - JSON log levels: stockpipe's errors at ERROR, warnings at WARNING;
#   - worker ids from dag, task, run, map index and try (no PID); nothing
#     read when the operator is made; both DAGs use it.
# usage: tests/e2e/airflow_operator.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_BIN \
	STOCKPIPE_STATE_DIR STOCKPIPE_OUT

if ! command -v python3 >/dev/null; then
	skip "python3 is not installed: the Airflow operator is not tested"
	t_done
	exit 0
fi

W=$(t_tmpdir work)
SP_AIRFLOW_LOG=$T_TMP/task.log python3 "$SRCDIR/tests/airflow/test_operator.py" \
	"$BIN" "$W" >"$T_OUT" 2>"$T_ERR" </dev/null
rc=$?
grep -vE "^[0-9]+ passed, [0-9]+ failed" "$T_OUT"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T_OUT" | tail -n 1)
if [ -z "$line" ]; then
	fail "test_operator.py ended without a summary (exit $rc)"
	sed 's/^/  /' "$T_ERR" | tail -n 20
else
	T_PASS=$((T_PASS + ${line%% passed*}))
	f=${line#* passed, }
	T_FAIL=$((T_FAIL + ${f%% failed*}))
	# Its own summary is replaced by t_done's.
	[ "$rc" = 0 ] || [ "${f%% failed*}" != 0 ] || fail "test_operator.py exited $rc"
fi
# stockpipe's stderr went into the task log: a sanitizer report there is
# a failure too.
t_san_clean "$T_TMP/task.log" "$T_ERR" && pass "no sanitizer report in the task log" ||
	{ fail "sanitizer report in the task log"; grep -E 'runtime error:|Sanitizer' "$T_TMP/task.log" | head -5; }
t_done

#!/bin/bash
# The Airflow DAG (ops/airflow/stockpipe_dag.py) against the real binary
# and the demo config. Airflow itself is not installed here, so:
#   - the DAG file compiles (py_compile);
#   - its exit-code policy: 0/1 success, 99 skipped, 75 retried, 78/64/70
#     failed without retry;
#   - the exact commands the DAG runs (--print-commands), run in DAG
#     order, and again through the DAG file's own scheduler simulation
#     (--simulate: trigger rules, retries) on the demo: every task
#     succeeds, the deliveries are byte-identical to a plain `stockpipe
#     run`, and the tasks make up one finished run; a second DAG run finds
#     nothing to do and every task is skipped;
#   - targets before their sources' loads are held with 75, a held lock
#     gives 75 (retry), a broken mapping 78 (no retry);
#   - with --log-format json every stderr line is a JSON object.
# usage: tests/e2e/airflow_cmds.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
DAG=$SRC/ops/airflow/stockpipe_dag.py

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_BIN

if ! command -v python3 >/dev/null || ! python3 -c 'import yaml' 2>/dev/null; then
	skip "python3 with PyYAML is not installed"
	t_done
	exit 0
fi

setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
}
cmd_of() { # cmd_of CONFIG TASK: the DAG's command for TASK
	python3 "$DAG" --bin "$BIN" --config "$1" --print-commands | awk -F'\t' -v t="$2" '$1 == t { print $4 }'
}

python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
	"$DAG" "$TMP/dag.pyc" 2>"$TMP/pyc.err" && pass "the DAG file compiles" ||
	{ fail "py_compile"; cat "$TMP/pyc.err"; }

want="0:success 1:success 99:skipped 75:up_for_retry 78:failed 64:failed 70:failed"
got=""
for p in $want; do
	got="$got ${p%%:*}:$(python3 "$DAG" --outcome "${p%%:*}")"
done
[ "$got" = " $want" ] && pass "exit-code policy: $want" || fail "exit-code policy: got$got"

# Plain run, for comparison.
C=$TMP/clean
setup "$C"
STOCKPIPE_STATE_DIR=$C/state STOCKPIPE_OUT=$C/out "$BIN" -c "$C/samples/stockpipe.yaml" -q run >/dev/null 2>&1

A=$TMP/a
setup "$A"
export STOCKPIPE_STATE_DIR=$A/state STOCKPIPE_OUT=$A/out
python3 "$DAG" --bin "$BIN" --config "$A/samples/stockpipe.yaml" --print-commands >"$TMP/cmds.tsv"
n=$(wc -l <"$TMP/cmds.tsv")
# 4 sources x 3 + 3 targets x 2 + finish
[ "$n" = 22 ] && pass "the DAG has 22 tasks for the demo (5 sources, 3 targets)" || { fail "DAG has $n tasks"; cat "$TMP/cmds.tsv"; }
awk -F'\t' '{ print $4 }' "$TMP/cmds.tsv" | grep -v -- "^$BIN -c " | grep -q . &&
	fail "a DAG command does not run the binary with the config" || pass "every task runs the binary with the config"

# Every command, run by hand once in DAG order: exit codes the policy
# knows, stderr in JSON lines.
: >"$TMP/json.err"
bad_rc=""
while IFS="$(printf '\t')" read -r task ups rule cmd; do
	eval "$cmd" >/dev/null 2>>"$TMP/json.err"
	rc=$?
	case $rc in 0 | 1 | 99) ;; *) bad_rc="$bad_rc $task:$rc" ;; esac
done <"$TMP/cmds.tsv"
[ -z "$bad_rc" ] && pass "every DAG command runs against the demo (exit 0, 1 or 99)" || fail "DAG commands:$bad_rc"
python3 - "$TMP/json.err" <<'PY' && pass "--log-format json: every stderr line is a JSON object with ts, level" || fail "stderr is not JSON lines"
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert isinstance(o, dict) and "ts" in o and o["level"] in ("info", "warn", "error"), line
    n += 1
assert n > 10, n
PY
grep -q '"event":"report"' "$TMP/json.err" && pass "the run report is one JSON event" || fail "no report event in JSON logs"
same=1
for f in $(outputs "$C"); do cmp -s "$C/out/$f" "$A/out/$f" || same=0; done
[ $same = 1 ] && pass "hand-run DAG commands deliver byte-identical files" || fail "hand-run DAG commands: deliveries differ"
[ "$(db "$A" "select count(*) || ' ' || min(status) from runs")" = "1 done" ] &&
	pass "the tasks make up one run, finished by the last task" ||
	fail "runs after the DAG commands: $(db "$A" "select run_id, status from runs")"

# The scheduler simulation: trigger rules and retries, on a fresh copy.
B=$TMP/b
setup "$B"
export STOCKPIPE_STATE_DIR=$B/state STOCKPIPE_OUT=$B/out
python3 "$DAG" --bin "$BIN" --config "$B/samples/stockpipe.yaml" --simulate >"$TMP/sim1.out" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(grep -c " success " "$TMP/sim1.out")" = 22 ] &&
	pass "first DAG run: all 22 tasks succeed" || { fail "first DAG run (exit $rc)"; cat "$TMP/sim1.out"; }
same=1
[ "$(outputs "$B")" = "$(outputs "$C")" ] || same=0
for f in $(outputs "$C"); do cmp -s "$C/out/$f" "$B/out/$f" || same=0; done
[ $same = 1 ] && pass "DAG deliveries are byte-identical to a plain run's" || { fail "DAG deliveries differ"; outputs "$B"; }
grep -q '^finish success 1$' "$TMP/sim1.out" && pass "finish reports the rejects (exit 1, a success)" || fail "finish line: $(grep finish "$TMP/sim1.out")"
python3 "$DAG" --bin "$BIN" --config "$B/samples/stockpipe.yaml" --simulate >"$TMP/sim2.out" 2>&1
rc=$?
if [ $rc = 0 ] && ! grep -q ' success ' "$TMP/sim2.out" && grep -q '^fetch_stores skipped 99$' "$TMP/sim2.out" &&
	grep -q '^map_stores skipped -$' "$TMP/sim2.out" && grep -q '^finish skipped 99$' "$TMP/sim2.out"; then
	pass "second DAG run: nothing new, every task skipped"
else
	fail "second DAG run (exit $rc)"; cat "$TMP/sim2.out"
fi
[ "$(outputs "$B")" = "$(outputs "$C")" ] && pass "second DAG run delivers nothing" || fail "second DAG run delivered"
[ "$(db "$B" "select count(*) from runs where status = 'done'")" = 2 ] && pass "two DAG runs, two finished stockpipe runs" ||
	fail "runs: $(db "$B" "select run_id, status from runs")"

# Failures the policy must tell apart.
D=$TMP/d
setup "$D"
export STOCKPIPE_STATE_DIR=$D/state STOCKPIPE_OUT=$D/out
eval "$(cmd_of "$D/samples/stockpipe.yaml" fetch_stores)" >/dev/null 2>&1
eval "$(cmd_of "$D/samples/stockpipe.yaml" render_webshop)" >/dev/null 2>"$TMP/held.err"
rc=$?
[ $rc = 75 ] && [ "$(python3 "$DAG" --outcome $rc)" = up_for_retry ] && grep -q 'targets held' "$TMP/held.err" &&
	pass "render before the loads: targets held, exit 75, retried" || { fail "render before loads: exit $rc"; tail -3 "$TMP/held.err"; }
[ -z "$(outputs "$D")" ] && pass "nothing delivered while held" || fail "delivered while held"
if command -v flock >/dev/null; then
	F=$TMP/f
	setup "$F"
	export STOCKPIPE_STATE_DIR=$F/state STOCKPIPE_OUT=$F/out
	mkdir -p "$F/state"
	# The holder keeps the lock until this test is done with it (a fixed
	# sleep ran out before the command started on a loaded machine).
	flock "$F/state/lock" sleep 300 &
	holder=$!
	# Until the holder really has it (a loaded machine starts it late).
	for i in $(seq 1 100); do
		flock -n "$F/state/lock" true 2>/dev/null || break
		sleep 0.05
	done
	eval "$(cmd_of "$F/samples/stockpipe.yaml" fetch_stores)" >/dev/null 2>&1
	rc=$?
	pkill -P $holder 2>/dev/null; kill $holder 2>/dev/null
	wait $holder 2>/dev/null
	[ $rc = 75 ] && [ "$(python3 "$DAG" --outcome $rc)" = up_for_retry ] &&
		pass "lock held by another run: exit 75, retried" || fail "lock held: exit $rc"
else
	skip "flock(1) missing"
fi
# A mapping the analyst broke: the map task (after its fetch task) could
# not advance at all: 78.
E=$TMP/e
setup "$E"
export STOCKPIPE_STATE_DIR=$E/state STOCKPIPE_OUT=$E/out
printf 'mapping: broken\n' >"$E/mappings/stores/store_stock_csv.yaml"
eval "$(cmd_of "$E/samples/stockpipe.yaml" fetch_stores)" >/dev/null 2>&1
eval "$(cmd_of "$E/samples/stockpipe.yaml" map_stores)" >/dev/null 2>&1
rc=$?
[ $rc = 78 ] && [ "$(python3 "$DAG" --outcome $rc)" = failed ] &&
	pass "broken mapping: exit 78, failed without retry" || fail "broken mapping: exit $rc"
t_san_clean "$TMP/json.err" "$TMP/held.err" || fail "sanitizer report"

t_done

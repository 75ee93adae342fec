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
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DAG=$SRC/ops/airflow/stockpipe_dag.py
pass=0 fail=0 skipped=0
ok()   { pass=$((pass + 1)); echo "ok   $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "skip $*"; }
san_clean() { ! grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$@"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sp-airflow.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_BIN

if ! command -v python3 >/dev/null || ! python3 -c 'import yaml' 2>/dev/null; then
	skip "python3 with PyYAML is not installed"
	echo "$pass passed, $fail failed, $skipped skipped"
	exit 0
fi

setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
}
outputs() { (cd "$1/out" && find . -type f | sort); }
db() { sqlite3 "$1/state/state.db" "$2" 2>/dev/null; }
cmd_of() { # cmd_of CONFIG TASK: the DAG's command for TASK
	python3 "$DAG" --bin "$BIN" --config "$1" --print-commands | awk -F'\t' -v t="$2" '$1 == t { print $4 }'
}

python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
	"$DAG" "$TMP/dag.pyc" 2>"$TMP/pyc.err" && ok "the DAG file compiles" ||
	{ bad "py_compile"; cat "$TMP/pyc.err"; }

want="0:success 1:success 99:skipped 75:up_for_retry 78:failed 64:failed 70:failed"
got=""
for p in $want; do
	got="$got ${p%%:*}:$(python3 "$DAG" --outcome "${p%%:*}")"
done
[ "$got" = " $want" ] && ok "exit-code policy: $want" || bad "exit-code policy: got$got"

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
[ "$n" = 22 ] && ok "the DAG has 22 tasks for the demo (5 sources, 3 targets)" || { bad "DAG has $n tasks"; cat "$TMP/cmds.tsv"; }
awk -F'\t' '{ print $4 }' "$TMP/cmds.tsv" | grep -v -- "^$BIN -c " | grep -q . &&
	bad "a DAG command does not run the binary with the config" || ok "every task runs the binary with the config"

# Every command, run by hand once in DAG order: exit codes the policy
# knows, stderr in JSON lines.
: >"$TMP/json.err"
bad_rc=""
while IFS="$(printf '\t')" read -r task ups rule cmd; do
	eval "$cmd" >/dev/null 2>>"$TMP/json.err"
	rc=$?
	case $rc in 0 | 1 | 99) ;; *) bad_rc="$bad_rc $task:$rc" ;; esac
done <"$TMP/cmds.tsv"
[ -z "$bad_rc" ] && ok "every DAG command runs against the demo (exit 0, 1 or 99)" || bad "DAG commands:$bad_rc"
python3 - "$TMP/json.err" <<'PY' && ok "--log-format json: every stderr line is a JSON object with ts, level" || bad "stderr is not JSON lines"
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert isinstance(o, dict) and "ts" in o and o["level"] in ("info", "warn", "error"), line
    n += 1
assert n > 10, n
PY
grep -q '"event":"report"' "$TMP/json.err" && ok "the run report is one JSON event" || bad "no report event in JSON logs"
same=1
for f in $(outputs "$C"); do cmp -s "$C/out/$f" "$A/out/$f" || same=0; done
[ $same = 1 ] && ok "hand-run DAG commands deliver byte-identical files" || bad "hand-run DAG commands: deliveries differ"
[ "$(db "$A" "select count(*) || ' ' || min(status) from runs")" = "1 done" ] &&
	ok "the tasks make up one run, finished by the last task" ||
	bad "runs after the DAG commands: $(db "$A" "select run_id, status from runs")"

# The scheduler simulation: trigger rules and retries, on a fresh copy.
B=$TMP/b
setup "$B"
export STOCKPIPE_STATE_DIR=$B/state STOCKPIPE_OUT=$B/out
python3 "$DAG" --bin "$BIN" --config "$B/samples/stockpipe.yaml" --simulate >"$TMP/sim1.out" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(grep -c " success " "$TMP/sim1.out")" = 22 ] &&
	ok "first DAG run: all 22 tasks succeed" || { bad "first DAG run (exit $rc)"; cat "$TMP/sim1.out"; }
same=1
[ "$(outputs "$B")" = "$(outputs "$C")" ] || same=0
for f in $(outputs "$C"); do cmp -s "$C/out/$f" "$B/out/$f" || same=0; done
[ $same = 1 ] && ok "DAG deliveries are byte-identical to a plain run's" || { bad "DAG deliveries differ"; outputs "$B"; }
grep -q '^finish success 1$' "$TMP/sim1.out" && ok "finish reports the rejects (exit 1, a success)" || bad "finish line: $(grep finish "$TMP/sim1.out")"
python3 "$DAG" --bin "$BIN" --config "$B/samples/stockpipe.yaml" --simulate >"$TMP/sim2.out" 2>&1
rc=$?
if [ $rc = 0 ] && ! grep -q ' success ' "$TMP/sim2.out" && grep -q '^fetch_stores skipped 99$' "$TMP/sim2.out" &&
	grep -q '^map_stores skipped -$' "$TMP/sim2.out" && grep -q '^finish skipped 99$' "$TMP/sim2.out"; then
	ok "second DAG run: nothing new, every task skipped"
else
	bad "second DAG run (exit $rc)"; cat "$TMP/sim2.out"
fi
[ "$(outputs "$B")" = "$(outputs "$C")" ] && ok "second DAG run delivers nothing" || bad "second DAG run delivered"
[ "$(db "$B" "select count(*) from runs where status = 'done'")" = 2 ] && ok "two DAG runs, two finished stockpipe runs" ||
	bad "runs: $(db "$B" "select run_id, status from runs")"

# Failures the policy must tell apart.
D=$TMP/d
setup "$D"
export STOCKPIPE_STATE_DIR=$D/state STOCKPIPE_OUT=$D/out
eval "$(cmd_of "$D/samples/stockpipe.yaml" fetch_stores)" >/dev/null 2>&1
eval "$(cmd_of "$D/samples/stockpipe.yaml" render_webshop)" >/dev/null 2>"$TMP/held.err"
rc=$?
[ $rc = 75 ] && [ "$(python3 "$DAG" --outcome $rc)" = up_for_retry ] && grep -q 'targets held' "$TMP/held.err" &&
	ok "render before the loads: targets held, exit 75, retried" || { bad "render before loads: exit $rc"; tail -3 "$TMP/held.err"; }
[ -z "$(outputs "$D")" ] && ok "nothing delivered while held" || bad "delivered while held"
if command -v flock >/dev/null; then
	F=$TMP/f
	setup "$F"
	export STOCKPIPE_STATE_DIR=$F/state STOCKPIPE_OUT=$F/out
	mkdir -p "$F/state"
	flock "$F/state/lock" sleep 5 &
	holder=$!
	# Until the holder really has it (a loaded machine starts it late).
	for i in $(seq 1 100); do
		flock -n "$F/state/lock" true 2>/dev/null || break
		sleep 0.05
	done
	eval "$(cmd_of "$F/samples/stockpipe.yaml" fetch_stores)" >/dev/null 2>&1
	rc=$?
	wait $holder 2>/dev/null
	[ $rc = 75 ] && [ "$(python3 "$DAG" --outcome $rc)" = up_for_retry ] &&
		ok "lock held by another run: exit 75, retried" || bad "lock held: exit $rc"
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
	ok "broken mapping: exit 78, failed without retry" || bad "broken mapping: exit $rc"
san_clean "$TMP/json.err" "$TMP/held.err" || bad "sanitizer report"

echo "$pass passed, $fail failed, $skipped skipped"
[ $fail = 0 ]

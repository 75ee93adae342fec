#!/bin/bash
# SIGTERM and SIGINT in the middle of one long document (Airflow's task
# timeout sends SIGTERM to the process group; a person presses Ctrl-C):
#   - during the map stage and during the load stage of a generated store
#     stock CSV (tests/bench/gen_stock_csv.c), the run exits 75 within 5 s
#     with status "interrupted" (the next run finishes it first);
#   - the document was stopped inside its record loop: the unit is pending
#     again, no canonical file exists under its final name (map), no stock
#     event was committed (load), nothing was delivered, no temp file is
#     left;
#   - `stockpipe resume` finishes the run with deliveries byte-identical to
#     an uninterrupted run's.
# Rows: SIGNAL_ROWS, default 200000 (60000 for a sanitized binary, which is
# several times slower per record); grown when map or load of the document
# takes under a second, so the signal always lands inside the document.
# usage: tests/e2e/signals.sh BINARY    prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR

if ldd "$BIN" 2>/dev/null | grep -q libasan; then
	ROWS=${SIGNAL_ROWS:-60000}
else
	ROWS=${SIGNAL_ROWS:-200000}
fi
cc -std=c11 -O2 -o "$TMP/gen" "$SRC/tests/bench/gen_stock_csv.c" || { fail "cannot build the generator"; exit 1; }

# setup DIR: the store source with the big CSV and one target.
setup() {
	rm -rf "$1"
	mkdir -p "$1/drop/stores" "$1/out/webshop"
	cp -R "$SRC/mappings" "$1/mappings"
	awk 'BEGIN { print "store_code,location_id,name";
		for (i = 1; i <= 999; i++) printf "F%03d,STORE-%03d,Store %d\n", i, i, i }' \
		>"$1/mappings/lookups/stores.csv"
	cat >"$1/stockpipe.yaml" <<'YAML'
state_dir: ./state
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
targets:
  - name: webshop
    path: out/webshop
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.csv"
YAML
	cp "$TMP/big.csv" "$1/drop/stores/stock_big.csv"
}

# The uninterrupted run. Map and load of the document must each take
# long enough (>= 1 s) for a signal to land inside them; on a fast (or
# a loaded) machine the document grows until they do.
C=$TMP/clean
for attempt in 1 2 3; do
	"$TMP/gen" "$ROWS" 42 >"$TMP/big.csv" || { fail "generator failed"; exit 1; }
	setup "$C"
	"$BIN" -c "$C/stockpipe.yaml" -q run >/dev/null 2>"$TMP/clean.err"
	rc=$?
	ms=$(db "$C" "select min(finished_ms - started_ms) from units where stage in ('map', 'load')")
	[ $rc = 0 ] && [ "${ms:-0}" -lt 1000 ] && [ $attempt -lt 3 ] || break
	ROWS=$((ROWS * 1300 / (${ms:-0} > 100 ? ${ms:-0} : 100)))
	[ $ROWS -gt 3000000 ] && ROWS=3000000
done
[ $rc = 0 ] && [ "$(outputs "$C" | wc -l)" = 1 ] && pass "uninterrupted run of $ROWS rows delivers one file (map/load >= ${ms} ms)" ||
	{ fail "clean run exit $rc"; tail -n 5 "$TMP/clean.err"; }

# interrupt SIG STAGE: start a run, wait until STAGE's unit is running,
# give it a moment inside the document, send SIG.
interrupt() {
	local sig=$1 stage=$2 D=$TMP/$1-$2 pid i start end rc st problems=""
	setup "$D"
	"$BIN" -c "$D/stockpipe.yaml" run >"$TMP/i.out" 2>"$TMP/i.err" &
	pid=$!
	for i in $(seq 1 1200); do
		st=$(db "$D" "select state from units where stage = '$stage'")
		[ "$st" = 1 ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	if [ "$st" != 1 ]; then
		fail "$sig during $stage: the $stage unit was never seen running"
		wait $pid
		return
	fi
	sleep 0.1
	start=$(date +%s%N)
	kill -"$sig" $pid
	wait $pid
	rc=$?
	end=$(date +%s%N)
	ms=$(((end - start) / 1000000))
	[ $rc = 75 ] || problems="$problems exit-$rc"
	[ $ms -lt 5000 ] || problems="$problems took-${ms}ms"
	[ "$(db "$D" "select status from runs where run_id = 1")" = interrupted ] || problems="$problems status"
	# Stopped inside the document: its unit is pending again, not done.
	[ "$(db "$D" "select state from units where stage = '$stage'")" = 0 ] ||
		problems="$problems $stage-unit-state-$(db "$D" "select state from units where stage = '$stage'")"
	if [ "$stage" = map ]; then
		[ -z "$(find "$D/state/canonical" -type f -name '*.jsonl' 2>/dev/null)" ] ||
			problems="$problems canonical-file-published"
	else
		[ "$(db "$D" "select count(*) from stock_events")" = 0 ] || problems="$problems events-committed"
	fi
	[ -z "$(outputs "$D")" ] || problems="$problems delivered"
	find "$D/state" "$D/out" -name '.*.tmp' | grep -q . && problems="$problems temp-files"
	grep -q 'stopped by a signal' "$TMP/i.err" || problems="$problems no-message"
	t_san_clean "$TMP/i.err" || problems="$problems sanitizer"
	if [ -z "$problems" ]; then
		pass "SIG$sig during $stage: exit 75 after ${ms} ms, unit pending, nothing published"
	else
		fail "SIG$sig during $stage:$problems"
		tail -n 5 "$TMP/i.err" | sed 's/^/    /'
	fi
	"$BIN" -c "$D/stockpipe.yaml" -q resume >/dev/null 2>"$TMP/r.err"
	rc=$?
	problems=""
	[ $rc = 0 ] || problems="$problems resume-exit-$rc"
	[ "$(outputs "$D")" = "$(outputs "$C")" ] || problems="$problems file-list"
	for f in $(outputs "$C"); do
		cmp -s "$C/out/$f" "$D/out/$f" || problems="$problems differs:$f"
	done
	[ "$(db "$D" "select count(*) from stock_events")" = "$(db "$C" "select count(*) from stock_events")" ] ||
		problems="$problems event-count"
	[ "$(db "$D" "pragma integrity_check")" = ok ] || problems="$problems integrity"
	t_san_clean "$TMP/r.err" || problems="$problems sanitizer"
	[ -z "$problems" ] && pass "SIG$sig during $stage: resume byte-identical" ||
		{ fail "SIG$sig during $stage: resume:$problems"; tail -n 5 "$TMP/r.err" | sed 's/^/    /'; }
}

interrupt TERM map
interrupt INT load
interrupt TERM load

t_done

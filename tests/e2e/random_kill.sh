#!/bin/bash
# Random SIGKILL (reliability.md §1 row F1): RUNS runs of the demo
# pipeline, each killed with SIGKILL after a random delay, then resumed
# (as a scheduler retry would) until it finishes. The delays come from a
# seeded generator, so a failure is reproducible with the same SEED.
# After every run, the same invariants as the crash sweep in core.sh:
#   deliveries byte-identical to a clean run's, no duplicate deliveries,
#   no stock event counted twice, no temp file left, integrity_check ok,
#   no run left open, no sanitizer report.
# Not part of `make test` (it takes minutes): `make check-crash`.
# usage: tests/e2e/random_kill.sh BINARY [RUNS [SEED]]
#        (default 200 runs, seed 1)      prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
RUNS=${2:-200}
SEED=${3:-1}
SRC=$SRCDIR

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
}
sp() {
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}

# The clean run, three times: the fastest gives the kill window (the
# first run after a build is slow while caches are cold).
C=$TMP/clean
dur_ms=0
for k in 1 2 3; do
	setup "$C"
	start=$(date +%s%N)
	sp "$C" -q run >/dev/null 2>&1
	rc=$?
	d=$((($(date +%s%N) - start) / 1000000))
	[ $dur_ms = 0 ] || [ $d -lt $dur_ms ] && dur_ms=$d
done
[ $rc = 1 ] && [ "$(outputs "$C" | wc -l)" = 3 ] || { fail "clean run: exit $rc"; echo "0 passed, 1 failed"; exit 1; }
ev0=$(db "$C" "select count(*) from stock_events")
# Delays cover the whole clean run.
max_ms=$((dur_ms + 5))
echo "clean run: ${dur_ms} ms; kill delays 0..${max_ms} ms, seed $SEED, $RUNS runs"
awk -v n="$RUNS" -v s="$SEED" -v m="$max_ms" \
	'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d\n", int(rand() * m) }' >"$TMP/delays"

killed=0 finished=0 problems_total=0 i=0
while read -r delay; do
	i=$((i + 1))
	D=$TMP/k
	setup "$D"
	# The binary itself in the background (not a shell function: $!
	# must be the process that gets the SIGKILL).
	STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" \
		"$BIN" -c "$D/samples/stockpipe.yaml" -q run >/dev/null 2>"$TMP/k.err" &
	pid=$!
	sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	rc=$?
	if [ $rc = 137 ]; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
	p=""
	t_san_clean "$TMP/k.err" || p="$p sanitizer"
	tries=0
	while :; do
		sp "$D" resume >/dev/null 2>"$TMP/r.err"
		rc=$?
		if grep -q 'nothing to resume' "$TMP/r.err"; then
			# Killed before the run was recorded: the next run does it.
			sp "$D" -q run >/dev/null 2>"$TMP/r.err"
			rc=$?
		fi
		tries=$((tries + 1))
		[ $rc -le 1 ] && break
		[ $tries -ge 3 ] && break
	done
	t_san_clean "$TMP/r.err" || p="$p sanitizer"
	[ $rc -le 1 ] || p="$p resume-exit-$rc"
	[ "$(outputs "$D")" = "$(outputs "$C")" ] || p="$p file-list"
	for f in $(outputs "$C"); do
		cmp -s "$C/out/$f" "$D/out/$f" 2>/dev/null || p="$p differs:$f"
	done
	find "$D/out" "$D/state" -name '.*.tmp' | grep -q . && p="$p temp-files"
	[ "$(db "$D" "select count(*) - count(distinct target || file_name) from deliveries")" = 0 ] || p="$p duplicate-deliveries"
	[ "$(db "$D" "pragma integrity_check")" = ok ] || p="$p integrity"
	[ "$(db "$D" "select count(*) from stock_events")" = "$ev0" ] || p="$p stock-events"
	[ "$(db "$D" "select count(*) from runs where status != 'done'")" = 0 ] || p="$p run-left-open"
	if [ -n "$p" ]; then
		problems_total=$((problems_total + 1))
		echo "  run $i (kill after ${delay} ms):$p"
		tail -n 3 "$TMP/r.err" | sed 's/^/    /'
	fi
done <"$TMP/delays"

echo "random kill: $RUNS runs, $killed killed mid-run, $finished finished before the kill, $problems_total with problems"
[ $problems_total = 0 ] && pass "random SIGKILL x$RUNS (seed $SEED): every resume byte-identical, no duplicates, integrity ok" ||
	fail "random SIGKILL: $problems_total of $RUNS runs broke an invariant"
[ $killed -ge $((RUNS / 2)) ] && pass "at least half of the runs were killed mid-run ($killed)" ||
	fail "only $killed of $RUNS runs were killed mid-run: delays too long"
t_done

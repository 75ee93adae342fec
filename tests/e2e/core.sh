#!/bin/bash
# End-to-end tests of the pipeline core on the bundled samples, with the
# real binary, real files and a real SQLite state store:
#   run, second run (nothing new), overlapping run (lock), rejects content,
#   golden deliveries byte for byte, check/map try/map test, rerun after a
#   mapping fix, and a crash sweep (SIGKILL before every durable operation,
#   then resume) when the binary has test hooks.
# usage: tests/e2e/core.sh BINARY      prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
GOLD=$SRC/tests/e2e/golden

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

# A fresh copy of samples + mappings in $1; outputs under $1/out.
setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
}
sp() { # sp DIR ARGS... : run stockpipe on the copy in DIR
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}

# ---- first run ------------------------------------------------------------
A=$TMP/a
setup "$A"
sp "$A" check >"$TMP/check.out" 2>&1
rc=$?
[ $rc = 0 ] && pass "check accepts the sample config" || { fail "check exit $rc"; cat "$TMP/check.out"; }
sp "$A" run >"$TMP/run1.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "first run exits 1 (samples hold bad rows)" || { fail "first run exit $rc, expected 1"; cat "$TMP/run1.out"; }
t_san_clean "$TMP/run1.out" && pass "first run sanitizer clean" || fail "sanitizer report in first run"
n=$(outputs "$A" | wc -l)
[ "$n" = 3 ] && pass "three target files delivered" || { fail "expected 3 delivered files, got $n"; outputs "$A"; }

# Golden deliveries, byte for byte. Names carry run id 1 and the pinned
# clock; the content must not depend on anything but the inputs.
for f in webshop/webshop_stock_1_20261120T060000Z.csv \
	marketplace/marketplace_1_20261120T060000Z.jsonl \
	webshop/items_1_20261120T060000Z.csv; do
	g=$GOLD/$(basename "$f")
	if [ ! -f "$A/out/$f" ]; then
		fail "missing delivery $f"
	elif cmp -s "$A/out/$f" "$g"; then
		pass "delivery $f matches golden"
	else
		fail "delivery $f differs from golden"
		diff -u "$g" "$A/out/$f" | head -20
	fi
done

# Rejects name file, line, field and reason.
rej=$(cat "$A"/state/rejects/1/*/*.jsonl 2>/dev/null)
if echo "$rej" | grep -q '"_line":[0-9]' && echo "$rej" | grep -q '"field":"[a-z_]' &&
	echo "$rej" | grep -q '"reason":"[a-z]'; then
	pass "reject files carry line, field and reason"
else
	fail "reject files lack line/field/reason"
	echo "$rej" | head -5
fi
grep -q 'rejects' "$TMP/run1.out" && pass "summary lists rejects" || fail "summary does not list rejects"
# The sample store file has 'zwölf' as a quantity on line 9: named with
# file:line:column, field and reason on stderr and in the reject file, the
# row's raw text kept; the good rows of that file are loaded.
grep -q "stock_F012_20261120.csv:9:3: field 'quantity': not a number: 'zwölf'" "$TMP/run1.out" &&
	pass "stderr names the bad row: file:line:col, field, reason" ||
	{ fail "stderr lacks the F012 line 9 reject"; grep -i 'zw' "$TMP/run1.out"; }
grep -q '"_file":"stock_F012_20261120.csv","_line":9,"_col":3,"field":"quantity","reason":"field '"'"'quantity'"'"': not a number: '"'"'zwölf'"'"'","raw":"F012,KW-10006,zwölf,OK,2026-11-20 06:00"' "$A"/state/rejects/1/stores/*.jsonl &&
	pass "reject file holds location, field, reason and the raw row" || fail "reject file content for F012 line 9"
good=$(sqlite3 "$A/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'stock_F012_20261120.csv'" 2>/dev/null)
[ "${good:-0}" -gt 5 ] && pass "the good rows of the file with bad rows are loaded ($good)" || fail "good rows of F012 not loaded ($good)"

# ---- second run on the same drop ------------------------------------------
before=$(outputs "$A")
sp "$A" run >"$TMP/run2.out" 2>&1
rc=$?
[ $rc = 0 ] && pass "second run exits 0" || { fail "second run exit $rc"; cat "$TMP/run2.out"; }
[ "$(outputs "$A")" = "$before" ] && pass "second run delivers nothing new" || fail "second run delivered files"
grep -q ': 0 new files' "$TMP/run2.out" && ! grep -qE ': [1-9][0-9]* new file' "$TMP/run2.out" &&
	pass "second run fetches nothing new" || fail "second run fetched files"
sp "$A" --skip-exit-code 99 run >/dev/null 2>&1
rc=$?
[ $rc = 99 ] && pass "--skip-exit-code when there is nothing to do" || fail "--skip-exit-code gave $rc"

# ---- overlapping run -------------------------------------------------------
if command -v flock >/dev/null; then
	flock "$A/state/lock" sleep 3 &
	holder=$!
	sleep 0.5
	start=$(date +%s)
	sp "$A" run >"$TMP/overlap.out" 2>&1
	rc=$?
	end=$(date +%s)
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	[ $rc = 75 ] && [ $((end - start)) -lt 3 ] && grep -q 'holds the lock' "$TMP/overlap.out" &&
		pass "overlapping run exits 75 at once" || { fail "overlapping run: exit $rc"; cat "$TMP/overlap.out"; }
else
	skip "flock(1) not installed: overlapping-run test"
fi

# ---- runs / show -------------------------------------------------------------
sp "$A" runs >"$TMP/runs.out" 2>&1 && grep -q 'done' "$TMP/runs.out" && pass "runs lists runs" || fail "runs"
sp "$A" show 1 >"$TMP/show.out" 2>&1 && grep -q 'deliver' "$TMP/show.out" && grep -q 'sha256' "$TMP/show.out" &&
	pass "show prints units and mapping hashes" || { fail "show"; head "$TMP/show.out"; }

# ---- analyst tools ----------------------------------------------------------
M=$A/mappings/stores/store_stock_csv.yaml
IN=$(ls "$A"/samples/drop/stores/*.csv | head -1)
"$BIN" map try --mapping "$M" --input "$IN" >"$TMP/try.out" 2>"$TMP/try.err"
rc=$?
{ [ $rc = 0 ] || [ $rc = 1 ]; } && grep -q '"kind":"stock"' "$TMP/try.out" &&
	pass "map try prints canonical records" || { fail "map try exit $rc"; head "$TMP/try.err"; }
(cd "$A" && "$BIN" map test >"$TMP/mt.out" 2>&1)
rc=$?
[ $rc = 0 ] && pass "map test passes on the shipped mappings" || { fail "map test exit $rc"; tail "$TMP/mt.out"; }
exp=$(ls "$A"/mappings/stores/tests/*.jsonl 2>/dev/null | head -1)
if [ -n "$exp" ]; then
	sed -i '1s/"quantity":"[0-9.]*"/"quantity":"999"/' "$exp"
	(cd "$A" && "$BIN" map test >"$TMP/mt2.out" 2>&1)
	rc=$?
	[ $rc = 1 ] && grep -q '999' "$TMP/mt2.out" && pass "map test shows a diff after a deliberate change" ||
		{ fail "map test after change: exit $rc"; tail "$TMP/mt2.out"; }
	cp "$SRC/mappings/stores/tests/$(basename "$exp")" "$exp"
else
	fail "no golden test file under mappings/stores/tests"
fi
printf 'mapping: broken\ninput: { format: csv, header: true }\nrecords:\n  - kind: stock\n    fields:\n      sku: col(sku) | no_such_function\n' >"$TMP/broken.yaml"
sp "$A" map check "$TMP/broken.yaml" >"$TMP/broken.out" 2>&1
rc=$?
[ $rc = 78 ] && grep -qE 'broken.yaml:[0-9]+:[0-9]+:' "$TMP/broken.out" &&
	pass "a broken mapping is reported at file:line:column" || { fail "broken mapping: exit $rc"; cat "$TMP/broken.out"; }

# ---- rerun after a mapping fix ------------------------------------------------
# The analyst decides store status RES means on_hand after all (the
# partner's reserved stock is counted in on_hand). Rerunning run 1 from map
# must: fetch nothing, deliver a corrected webshop snapshot exactly once.
B=$TMP/b
setup "$B"
sp "$B" run >/dev/null 2>&1
inbox_before=$(find "$B/state/inbox" -type f | wc -l)
web_before=$(ls "$B/out/webshop" | wc -l)
sed -i 's/RES: *reserved/RES: on_hand/' "$B/mappings/stores/store_stock_csv.yaml"
if cmp -s "$B/mappings/stores/store_stock_csv.yaml" "$SRC/mappings/stores/store_stock_csv.yaml"; then
	fail "could not edit the store mapping (no 'RES: reserved')"
else
	sp "$B" rerun 1 --from map --source stores >"$TMP/rerun.out" 2>&1
	rc=$?
	{ [ $rc = 0 ] || [ $rc = 1 ]; } && pass "rerun --from map exits $rc" || { fail "rerun exit $rc"; cat "$TMP/rerun.out"; }
	[ "$(find "$B/state/inbox" -type f | wc -l)" = "$inbox_before" ] && pass "rerun fetched nothing" || fail "rerun fetched"
	web_after=$(ls "$B/out/webshop" | wc -l)
	[ "$web_after" = $((web_before + 1)) ] && pass "rerun delivered one corrected webshop snapshot" ||
		{ fail "webshop files before $web_before after $web_after"; ls "$B/out/webshop"; }
	new=$(ls -t "$B"/out/webshop/webshop_stock_* | head -1)
	old=$(ls -tr "$B"/out/webshop/webshop_stock_* | head -1)
	cmp -s "$new" "$old" && fail "corrected snapshot equals the old one" || pass "corrected snapshot differs from the first"
	sp "$B" rerun 1 --from map --source stores >/dev/null 2>&1
	[ "$(ls "$B/out/webshop" | wc -l)" = "$web_after" ] && pass "a second identical rerun delivers nothing" || fail "second rerun delivered again"
fi

# ---- crash sweep -----------------------------------------------------------
C=$TMP/c
setup "$C"
STOCKPIPE_CRASH_LOG=$TMP/points sp "$C" run >/dev/null 2>&1
if [ ! -s "$TMP/points" ]; then
	skip "crash sweep: binary built without test hooks"
else
	total=$(wc -l <"$TMP/points")
	pass "a clean run has $total durable operations (crash points)"
	crash_bad=0
	for n in $(seq 1 "$total"); do
		D=$TMP/crash
		setup "$D"
		STOCKPIPE_CRASH_AT=$n sp "$D" run >/dev/null 2>"$TMP/crash.err"
		rc=$?
		if [ $rc != 137 ] && [ $rc != 1 ]; then
			echo "  crash point $n: first run exit $rc"; crash_bad=$((crash_bad + 1)); continue
		fi
		tries=0
		while :; do
			# Killed before the run was recorded: nothing to resume,
			# and the scheduler's next `run` does the work.
			sp "$D" resume >/dev/null 2>"$TMP/resume.err"
			rc=$?
			if grep -q 'nothing to resume' "$TMP/resume.err"; then
				sp "$D" run >/dev/null 2>"$TMP/resume.err"
				rc=$?
			fi
			tries=$((tries + 1))
			[ $rc -le 1 ] && break
			[ $tries -ge 3 ] && break
		done
		t_san_clean "$TMP/resume.err" || { echo "  crash point $n: sanitizer"; crash_bad=$((crash_bad + 1)); }
		if [ $rc -gt 1 ]; then
			echo "  crash point $n: resume exit $rc"; sed 's/^/    /' "$TMP/resume.err" | tail -5
			crash_bad=$((crash_bad + 1)); continue
		fi
		# Byte-identical deliveries, no duplicates, no temp files.
		if [ "$(outputs "$D")" != "$(outputs "$C")" ]; then
			echo "  crash point $n: delivered files differ"; outputs "$D" | sed 's/^/    /'
			crash_bad=$((crash_bad + 1)); continue
		fi
		for f in $(outputs "$C"); do
			cmp -s "$C/out/$f" "$D/out/$f" || { echo "  crash point $n: $f differs"; crash_bad=$((crash_bad + 1)); }
		done
		if find "$D/out" "$D/state" -name '.*.tmp' | grep -q .; then
			echo "  crash point $n: temp files left"; crash_bad=$((crash_bad + 1))
		fi
		dups=$(sqlite3 "$D/state/state.db" "select count(*) - count(distinct target || file_name) from deliveries" 2>/dev/null)
		[ "${dups:-x}" = 0 ] || { echo "  crash point $n: duplicate deliveries ($dups)"; crash_bad=$((crash_bad + 1)); }
		ic=$(sqlite3 "$D/state/state.db" "pragma integrity_check" 2>/dev/null)
		[ "$ic" = ok ] || { echo "  crash point $n: integrity_check $ic"; crash_bad=$((crash_bad + 1)); }
		ev=$(sqlite3 "$D/state/state.db" "select count(*) from stock_events" 2>/dev/null)
		ev0=$(sqlite3 "$C/state/state.db" "select count(*) from stock_events" 2>/dev/null)
		[ "$ev" = "$ev0" ] || { echo "  crash point $n: $ev stock events, expected $ev0"; crash_bad=$((crash_bad + 1)); }
	done
	[ $crash_bad = 0 ] && pass "crash sweep: $total crash points, every resume byte-identical, no duplicates" ||
		fail "crash sweep: $crash_bad problems over $total crash points"
fi

t_done

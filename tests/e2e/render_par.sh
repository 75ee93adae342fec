#!/bin/bash
# End-to-end test of the renders ahead on threads (render_par.h): a run
# with four stock targets (CSV, JSON lines, XML, X12 846 with a row it
# cannot carry) worked once with STOCKPIPE_RENDER_THREADS=1 (one after
# another, as before) and once with 4 threads:
#   - the same exit code, output lines, delivered bytes, published
#     pictures and rejects, and the same unit and delivery records (ids,
#     states, details, hashes) in the same order; a second run whose
#     snapshots are unchanged (nothing delivered) too;
#   - on_bad_row: fail on the 846: only its render fails (with the same
#     message both ways); the three others are delivered;
#   - test builds: the renders did run on threads (the jobs' trace), and
#     a crash at every durable operation of the threaded run resumes to
#     byte-identical deliveries, no duplicate, no temporary file left.
# usage: tests/e2e/render_par.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR
unset STOCKPIPE_RENDER_PAR_LOG STOCKPIPE_RENDER_THREADS

# setup DIR [WMS_EXTRA]: two store counts (one SKU X12 cannot carry), the
# four targets; WMS_EXTRA is one more setting of the wms target.
setup() {
	rm -rf "$1"
	mkdir -p "$1/drop/stores" "$1/out/wms" "$1/out/shop" "$1/out/market" \
		"$1/out/xml"
	{
		printf '\357\273\277store,sku,qty,status,counted_at\r\n'
		printf '%s\r\n' "F012,KW-10001,14,OK,2026-11-20 06:00" \
			"F012,AB~12,5,OK,2026-11-20 06:00" \
			"F012,KW-10003,3,OK,2026-11-20 06:00" \
			"F027,KW-10002,7,OK,2026-11-20 06:00"
	} >"$1/drop/stores/stock_F012_20261120.csv"
	{
		printf '\357\273\277store,sku,qty,status,counted_at\r\n'
		printf '%s\r\n' "F027,KW-10001,9,OK,2026-11-20 05:00" \
			"F027,KW-10004,11,OK,2026-11-20 05:00"
	} >"$1/drop/stores/stock_F027_20261120.csv"
	cat >"$1/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: $SRCDIR/mappings/stores/store_stock_csv.yaml
targets:
  - name: shop
    path: out/shop
    mapping: $SRCDIR/mappings/targets/webshop_stock.yaml
    filename: "shop_{run_id}.{ext}"
  - name: wms
    path: out/wms
    mapping: $SRCDIR/mappings/targets/wms_stock_x12_846.yaml
    filename: "wms_846_{run_id}.{ext}"
${2:+    $2}
  - name: market
    path: out/market
    mapping: $SRCDIR/mappings/targets/marketplace_stock.yaml
    filename: "market_{run_id}.{ext}"
    per_location: true
  - name: xml
    path: out/xml
    mapping: $SRCDIR/mappings/targets/marketplace_stock_xml.yaml
    filename: "xml_{run_id}.{ext}"
EOF
}
# sp DIR THREADS ARGS...: stockpipe on DIR's config with THREADS renders
sp() {
	_d=$1 _n=$2
	shift 2
	STOCKPIPE_RENDER_THREADS=$_n "$BIN" -c "$_d/stockpipe.yaml" "$@"
}
# records DIR: the run's checkpoints as a test can compare them (DIR
# itself written as DIR)
records() {
	{
		db "$1" "select id, run_id, stage, scope, ukey, parent, state,
			attempts, output_path, output_sha, records_out, rejects,
			error, detail, control_no, outcome, rejects_path
			from units order by id"
		db "$1" "select target, sha256, run_id, file_name, seq
			from deliveries order by target, seq"
	} | sed "s|$1|DIR|g"
}
# files DIR: every file delivered or kept in the outbox and rejects
files() { (cd "$1" && find out state/outbox state/rejects -type f | sort); }
# same DIR_A DIR_B WHAT: the two runs left the same bytes and records
same() {
	_ok=1
	[ "$(files "$1")" = "$(files "$2")" ] || _ok=0
	for _f in $(files "$1"); do
		cmp -s "$1/$_f" "$2/$_f" || { echo "  $3: $_f differs"; _ok=0; }
	done
	[ "$(records "$1")" = "$(records "$2")" ] || { echo "  $3: records differ"; diff <(records "$1") <(records "$2") | head -5; _ok=0; }
	[ $_ok = 1 ]
}
hooks=0
if strings "$BIN" | grep -q STOCKPIPE_RENDER_PAR_LOG; then hooks=1; fi

# ---- on_bad_row: reject: the same run one after another and on threads --
S=$(t_tmpdir seq)
P=$(t_tmpdir par)
setup "$S"
setup "$P"
sp "$S" 1 run >"$TMP/s1.out" 2>&1
rc_s=$?
STOCKPIPE_RENDER_PAR_LOG=$TMP/trace sp "$P" 4 run >"$TMP/p1.out" 2>&1
rc_p=$?
t_san_clean "$TMP/p1.out" && pass "threaded run sanitizer clean" || fail "sanitizer report in the threaded run"
[ $rc_s = 1 ] && [ $rc_p = $rc_s ] && pass "both runs exit 1 (one row rejected by the 846)" ||
	{ fail "exit codes: one after another $rc_s, threads $rc_p"; tail -5 "$TMP/p1.out"; }
[ "$(sed "s|$S|DIR|g" "$TMP/s1.out")" = "$(sed "s|$P|DIR|g" "$TMP/p1.out")" ] &&
	pass "the same output lines" || { fail "output lines differ"; diff "$TMP/s1.out" "$TMP/p1.out" | head; }
[ "$(ls "$P"/out/*/ | grep -c .)" -ge 4 ] && pass "four targets delivered" || { fail "deliveries"; files "$P"; }
same "$S" "$P" "run 1" && pass "run 1: the same bytes (deliveries, pictures, rejects) and records" ||
	fail "run 1 differs between one after another and threads"
if [ $hooks = 1 ]; then
	grep -q '^started threads [2-4]$' "$TMP/trace" &&
		[ "$(grep -c '^took ' "$TMP/trace")" = 4 ] &&
		pass "the four renders ran on threads (trace: $(tr '\n' ' ' <"$TMP/trace"))" ||
		{ fail "renders did not run on threads"; cat "$TMP/trace"; }
else
	skip "jobs' trace: binary built without test hooks"
fi

# a second run: nothing new, every snapshot unchanged (no delivery)
sp "$S" 1 run >"$TMP/s2.out" 2>&1
rc_s=$?
sp "$P" 4 run >"$TMP/p2.out" 2>&1
rc_p=$?
[ $rc_p = $rc_s ] && grep -q 'unchanged since' "$TMP/p2.out" &&
	pass "run 2: unchanged snapshots, exit $rc_p both ways" || { fail "run 2 exit $rc_s / $rc_p"; tail -5 "$TMP/p2.out"; }
same "$S" "$P" "run 2" && pass "run 2: the same bytes and records" || fail "run 2 differs"

# ---- on_bad_row: fail: the 846 fails alone -----------------------------------
S=$(t_tmpdir seqf)
P=$(t_tmpdir parf)
setup "$S" "on_bad_row: fail"
setup "$P" "on_bad_row: fail"
sp "$S" 1 run >"$TMP/sf.out" 2>&1
rc_s=$?
: >"$TMP/tracef"
STOCKPIPE_RENDER_PAR_LOG=$TMP/tracef sp "$P" 4 run >"$TMP/pf.out" 2>&1
rc_p=$?
[ $rc_p = $rc_s ] && [ $rc_p != 0 ] && pass "a failing target: exit $rc_p both ways" ||
	{ fail "exit codes: one after another $rc_s, threads $rc_p"; tail -5 "$TMP/pf.out"; }
# 3: US_FAILED (state.h)
[ "$(db "$P" "select state from units where stage = 'render' and scope = 'wms'")" = 3 ] &&
	[ -z "$(ls "$P/out/wms")" ] && pass "the 846 render failed, nothing reached the wms" ||
	{ fail "wms: $(db "$P" "select state, error from units where scope = 'wms'")"; }
[ -n "$(ls "$P/out/shop")" ] && [ -n "$(ls "$P/out/market")" ] && [ -n "$(ls "$P/out/xml")" ] &&
	pass "shop, market and xml delivered despite it" || { fail "others not delivered"; files "$P"; }
same "$S" "$P" "failing target" && pass "the same bytes and records (the failure's message too)" ||
	fail "failing-target run differs"
if [ $hooks = 1 ]; then
	grep -q '^none wms -1$' "$TMP/tracef" && [ "$(grep -c '^took ' "$TMP/tracef")" = 3 ] &&
		pass "the 846's job failed on its thread, the three others were taken" ||
		{ fail "trace of the failing run"; cat "$TMP/tracef"; }
fi

# ---- crash at every durable operation of the threaded run --------------------
if [ $hooks = 0 ]; then
	skip "crash sweep: binary built without test hooks"
	t_done
	exit $?
fi
C=$(t_tmpdir clean)
setup "$C"
STOCKPIPE_CRASH_LOG=$TMP/points sp "$C" 4 run >/dev/null 2>&1
total=$(wc -l <"$TMP/points")
crash_bad=0
for n in $(seq 1 "$total"); do
	D=$TMP/crash
	setup "$D"
	STOCKPIPE_CRASH_AT=$n sp "$D" 4 run >/dev/null 2>"$TMP/crash.err"
	rc=$?
	if [ $rc != 137 ] && [ $rc != 1 ]; then
		echo "  crash point $n: first run exit $rc"; crash_bad=$((crash_bad + 1)); continue
	fi
	tries=0
	while :; do
		sp "$D" 4 resume >/dev/null 2>"$TMP/resume.err"
		rc=$?
		if grep -q 'nothing to resume' "$TMP/resume.err"; then
			sp "$D" 4 run >/dev/null 2>"$TMP/resume.err"
			rc=$?
		fi
		tries=$((tries + 1))
		[ $rc -le 1 ] && break
		[ $tries -ge 3 ] && break
	done
	t_san_clean "$TMP/resume.err" || { echo "  crash point $n: sanitizer"; crash_bad=$((crash_bad + 1)); }
	if [ $rc -gt 1 ]; then
		echo "  crash point $n: resume exit $rc"; tail -3 "$TMP/resume.err"
		crash_bad=$((crash_bad + 1)); continue
	fi
	[ "$(outputs "$D")" = "$(outputs "$C")" ] || { echo "  crash point $n: delivered files differ"; crash_bad=$((crash_bad + 1)); continue; }
	for f in $(outputs "$C"); do
		cmp -s "$C/out/$f" "$D/out/$f" || { echo "  crash point $n: $f differs"; crash_bad=$((crash_bad + 1)); }
	done
	if find "$D/out" "$D/state" -name '.*.tmp' -o -name '*.body' | grep -q .; then
		echo "  crash point $n: temporary files left"; crash_bad=$((crash_bad + 1))
	fi
	dups=$(db "$D" "select count(*) - count(distinct target || sha256) from deliveries")
	[ "${dups:-x}" = 0 ] || { echo "  crash point $n: duplicate deliveries ($dups)"; crash_bad=$((crash_bad + 1)); }
done
[ "$total" -gt 10 ] && [ $crash_bad = 0 ] &&
	pass "crash sweep: $total crash points of the threaded run, every resume byte-identical, no duplicates" ||
	fail "crash sweep: $crash_bad problems over $total crash points"
t_done

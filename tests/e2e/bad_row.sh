#!/bin/bash
# End-to-end test of a row a target's format cannot carry (issue 14,
# on_bad_row). A store count holds the SKU 'AB~12' (a partner's typo: '~'
# is the X12 segment terminator); the config has an X12 846 target (wms)
# and a CSV target (shop):
#   - on_bad_row: reject (the default): the run exits 1 (done with
#     rejects), not 78; the 846 is delivered without that row, with CTT01
#     and SE01 counting what is there, and reads back valid; the CSV target
#     gets every row; rejects/RUN/targets/wms.jsonl names the row, the
#     element and the reason (valid JSON); the row is not in the published
#     picture; the run's summary, its JSON report, the metrics, `show` and
#     `show --html` list it on the render unit;
#   - on_bad_row: fail: the 846 render fails with a data error naming the
#     target, the row, the element and the reason, nothing reaches the wms,
#     and the CSV target is still delivered.
# usage: tests/e2e/bad_row.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR

# setup DIR [WMS_EXTRA] : a store count with one bad SKU, the two targets;
# WMS_EXTRA is one more line of settings for the wms target.
setup() {
	mkdir -p "$1/drop/stores" "$1/out/wms" "$1/out/shop"
	{
		printf '\357\273\277store,sku,qty,status,counted_at\r\n'
		printf '%s\r\n' "F012,KW-10001,14,OK,2026-11-20 06:00" \
			"F012,AB~12,5,OK,2026-11-20 06:00" \
			"F027,KW-10002,7,OK,2026-11-20 06:00"
	} >"$1/drop/stores/stock_F012_20261120.csv"
	cat >"$1/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: $SRCDIR/mappings/stores/store_stock_csv.yaml
targets:
  - name: wms
    path: out/wms
    mapping: $SRCDIR/mappings/targets/wms_stock_x12_846.yaml
    filename: "wms_846_{run_id}.{ext}"
${2:+    $2}
  - name: shop
    path: out/shop
    mapping: $SRCDIR/mappings/targets/webshop_stock.yaml
    filename: "shop_{run_id}.{ext}"
EOF
}
sp() { # sp DIR ARGS...
	_d=$1
	shift
	"$BIN" -c "$_d/stockpipe.yaml" "$@"
}
has() { grep -qF -- "$1" "$T_OUT" "$T_ERR"; }

# ---- on_bad_row: reject (default) -----------------------------------------
D=$(t_tmpdir reject)
setup "$D"
expect_exit_d 0 "check accepts the config" sp "$D" check
expect_exit_d 1 "a run with a rejected target row exits 1, not 78" sp "$D" run
W=$D/out/wms/wms_846_1.x12
S=$D/out/shop/shop_1.csv
R=$D/state/rejects/1/targets/wms.jsonl
has "  wms: 1 row rejected, see $R" && pass "the run's summary: 'wms: 1 row rejected, see .../targets/wms.jsonl'" ||
	{ fail "summary line"; t_show; }
has "wms: 1 row left out (on_bad_row: reject), first: LIN03: row sku 'AB~12'" &&
	pass "the run says which row it left out" || { fail "run-time line"; t_show; }
[ -f "$W" ] && pass "the 846 is delivered" || { fail "no 846 delivered"; ls -R "$D/out"; }
[ -f "$S" ] && pass "the CSV is delivered" || fail "no CSV delivered"
if [ -f "$W" ]; then
	grep -q 'AB' "$W" && fail "the 846 holds the bad row" || pass "the 846 leaves the bad row out"
	lin=$(grep -c '^LIN' "$W")
	[ "$lin" = 2 ] && pass "846: two LIN (the good rows)" || fail "846: $lin LIN"
	grep -q "^CTT\*2~$" "$W" && pass "846: CTT01 = 2" || fail "846: CTT01 is not 2"
	segs=$(sed -n '/^ST\*/,/^SE\*/p' "$W" | wc -l)
	grep -q "^SE\*$segs\*0001~$" "$W" && pass "846: SE01 = $segs segments ST..SE" ||
		{ fail "846: SE01 is not $segs"; cat "$W"; }
	t_run "$BIN" inspect "$W"
	[ "$T_RC" = 0 ] && has "result: valid (0 errors, 0 warnings)" &&
		has "total: 1 interchange, 1 group, 1 set (846x1)" &&
		pass "inspect reads the 846 back as valid" || { fail "inspect 846"; t_show; }
fi
if [ -f "$S" ]; then
	grep -q '^AB~12,' "$S" && grep -q '^KW-10001,' "$S" && grep -q '^KW-10002,' "$S" &&
		[ "$(wc -l <"$S")" = 4 ] && pass "the CSV target gets every row (AB~12 too)" ||
		{ fail "CSV rows"; cat "$S"; }
fi
if [ -f "$R" ]; then
	[ "$(wc -l <"$R")" = 1 ] && pass "one reject line" || fail "$(wc -l <"$R") reject lines"
	grep -qF '"kind":"reject","target":"wms"' "$R" &&
		grep -qF '"sku":"AB~12","location":"","field":"LIN03","reason":"row sku '"'"'AB~12'"'"': value '"'"'AB~12'"'"' contains the segment terminator '"'"'~'"'"'' "$R" &&
		grep -qF '"values":{"sku":"AB~12","location":"","available":"5","on_hand":"5"' "$R" &&
		grep -qE '"_file":"[^"]*wms_stock_x12_846.yaml","_line":[0-9]+,"_col":[0-9]+' "$R" &&
		pass "the reject file names the row, the element, the reason and the template" ||
		{ fail "reject line"; cat "$R"; }
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$R" &&
			pass "the reject file is JSON Lines" || fail "reject file is not JSON"
	else
		skip "python3 not installed (JSON check)"
	fi
else
	fail "no reject file $R"
fi
pub=$(ls "$D"/state/outbox/wms/*.pub 2>/dev/null | head -n 1)
[ -n "$pub" ] && ! grep -q '^AB' "$pub" && [ "$(wc -l <"$pub")" = 2 ] &&
	pass "the published picture leaves the rejected row out" || { fail "picture: $pub"; cat "$pub"; }
J=$D/state/reports/run-1.json
if [ -f "$J" ]; then
	grep -qF '"exit_code":1,"rejects":1,' "$J" &&
		grep -qE '"render":\{"units":\{[^}]*\},"records_in":[0-9]+,"records_out":5,"rejects":1' "$J" &&
		grep -qE '"stage":"render","scope":"wms","unit":"snapshot","state":"done"[^}]*"rejects":1' "$J" &&
		grep -qF "rejects: $R" "$J" &&
		pass "the JSON report counts the row on the render unit" || { fail "JSON report"; cat "$J"; }
else
	fail "no JSON report"
fi
grep -qxE 'stockpipe_run_target_rejects\{pipeline="[^"]+",target="wms"\} 1' "$D/state/metrics/stockpipe.prom" &&
	grep -qxE 'stockpipe_run_target_rejects\{pipeline="[^"]+",target="shop"\} 0' "$D/state/metrics/stockpipe.prom" &&
	pass "metrics: stockpipe_run_target_rejects per target" || fail "metrics"
t_run sp "$D" show 1 --html
grep -qF '<tr><td>target wms</td>' "$D/state/reports/run-1.html" && grep -qF '<code>sku AB~12</code>' "$D/state/reports/run-1.html" &&
	pass "show --html lists the rejected row" || { fail "show --html"; t_show; }
t_run sp "$D" show 1
[ "$T_RC" = 0 ] && grep -qE '^  render +wms +done +[0-9]+ +[0-9]+ +2 +1  snapshot$' "$T_OUT" &&
	has "rejects: $R" && pass "show lists the rejected row on the render unit" || { fail "show"; t_show; }
expect_exit_d 0 "deliver --dry-run" sp "$D" deliver --target wms --dry-run
has "rejected: 1 row would be left out (on_bad_row: reject), first: LIN03: row sku 'AB~12'" &&
	pass "deliver --dry-run says which row would be left out" || { fail "dry run"; t_show; }
# Nothing new: the wms already has this content; the row is still left
# out of what it has, so the run says so again.
expect_exit_d 1 "a second run, same stock: the row is still rejected (exit 1)" sp "$D" run
has "wms: unchanged since 'wms_846_1.x12'" && [ "$(ls "$D/out/wms" | wc -l)" = 1 ] &&
	[ -f "$D/state/rejects/2/targets/wms.jsonl" ] &&
	pass "second run: nothing sent, the reject reported again" || { fail "second run"; t_show; }

# ---- on_bad_row: fail -------------------------------------------------------
F=$(t_tmpdir fail)
setup "$F" "on_bad_row: fail"
expect_exit_d 0 "check accepts on_bad_row: fail" sp "$F" check
t_run sp "$F" run
# The wms render fails on its data and is parked (class data); the other
# targets go on, so the run concludes done with a parked unit: exit 1.
[ "$T_RC" = 1 ] && t_san_clean && grep -q "PARKED render wms 'snapshot' (data)" "$T_ERR" &&
	pass "the wms render fails and is parked as data (exit 1)" || { fail "fail run: exit $T_RC"; t_show; }
has "wms_stock_x12_846.yaml:" && has ": LIN03: target 'wms', row sku 'AB~12': value 'AB~12' contains the segment terminator '~'" &&
	pass "the error names the target, the row, the element and the reason" || { fail "fail message"; t_show; }
[ -z "$(ls "$F/out/wms")" ] && pass "nothing reaches the wms" || fail "the wms got a file"
[ -f "$F/out/shop/shop_1.csv" ] && grep -q '^AB~12,' "$F/out/shop/shop_1.csv" &&
	pass "the CSV target is still delivered" || { fail "shop not delivered"; ls "$F/out/shop"; }
[ ! -e "$F/state/rejects/1/targets/wms.jsonl" ] && pass "no reject file with on_bad_row: fail" ||
	fail "a reject file with on_bad_row: fail"
t_run sp "$F" show 1
grep -qE '^  render +wms +failed ' "$T_OUT" && pass "show: the render unit failed" || { fail "show (fail)"; t_show; }

t_done

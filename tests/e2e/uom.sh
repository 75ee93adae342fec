#!/bin/sh
# End-to-end: units of measure at load (docs/mapping.md "Units of
# measure"). An item master (CSV: base unit, pack sizes, a price per case)
# and two stock feeds: an X12 846 with quantities in CA>>12 (the QTY03
# composite's multiplier), plain CA (pack size from the item master), PK
# (the mapping's uom table), EA and an unknown ZZ; a CSV with composite
# units as text, a KG item and a KG count of an EA item. Positions must
# equal a hand computation in base units; ZZ and the foreign KG are
# rejected with their reason into the documents' reject files; the run
# exits 1; a rerun of the load writes the same. A target with `uom: CA`
# publishes cases.
# usage: tests/e2e/uom.sh BINARY      prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "${1:-}"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

A=$(t_tmpdir uom)
mkdir -p "$A/drop/items" "$A/drop/wh" "$A/drop/counts" "$A/maps" "$A/out"
cat >"$A/drop/items/items_20261120.csv" <<'EOF2'
sku,base,packs,price,price_uom
X1,EA,CA=10,,
X2,EA,CA=10,24,CA
X3,EA,,,
X4,EA,,,
X5,EA,,,
X6,KG,,,
EOF2
# X12 846: QTY03 is the unit composite C001 (unit > exponent > multiplier).
printf '%s\n' \
	'ISA*00*          *00*          *ZZ*UOMTEST        *ZZ*STOCKPIPE      *261120*0600*U*00401*000000777*0*P*>~' \
	'GS*IB*UOMTEST*STOCKPIPE*20261120*0600*777*X*004010~' \
	'ST*846*0001~' \
	'BIA*00*SI*U1*20261120~' \
	'LIN*1*VN*X1~' 'QTY*33*5*CA>>12~' \
	'LIN*2*VN*X2~' 'QTY*33*3*CA~' \
	'LIN*3*VN*X3~' 'QTY*33*7*EA~' \
	'LIN*4*VN*X4~' 'QTY*33*2*ZZ~' \
	'LIN*5*VN*X5~' 'QTY*33*4*PK~' \
	'SE*13*0001~' 'GE*1*777~' 'IEA*1*000000777~' >"$A/drop/wh/wh_846_20261120.x12"
cat >"$A/drop/counts/counts_20261120.csv" <<'EOF2'
sku,qty,unit
X3,2,CA>>12
X6,2.5,KG
X1,1.5,KG
X5,3,EA
EOF2
cat >"$A/maps/items.yaml" <<'EOF2'
input: { format: csv }
records:
  - kind: item
    fields:
      sku: col(sku)
      base_uom: col(base)
      pack_sizes: col(packs)
  - kind: price
    when: col(price) is not empty
    fields:
      sku: col(sku)
      currency: '"EUR"'
      amount: col(price) | decimal
      uom: col(price_uom)
EOF2
cat >"$A/maps/wh_846.yaml" <<'EOF2'
input: { format: x12, transaction: "846" }
units:
  table: uom.csv
context:
  as_of: BIA.04 | date("%Y%m%d") | required
records:
  - kind: stock
    each: LIN
    fields:
      sku: LIN[02=VN].03
      location: '"DC-01"'
      state: on_hand
      quantity: QTY[01=33].02 | decimal
      as_of: $as_of
      uom: QTY[01=33].03
      pack_size: QTY[01=33].03.3 | decimal
EOF2
cat >"$A/maps/uom.csv" <<'EOF2'
from,to,factor
PK,EA,6
EOF2
cat >"$A/maps/counts.yaml" <<'EOF2'
input: { format: csv }
records:
  - kind: stock
    fields:
      sku: col(sku)
      location: '"STORE-1"'
      state: on_hand
      quantity: col(qty) | decimal
      as_of: '"2026-11-20T05:00:00Z"'
      uom: col(unit)
EOF2
cat >"$A/maps/cases.yaml" <<'EOF2'
outbound: cases
kind: stock
format: csv
csv: { header: true, line_end: lf }
columns:
  - { name: sku, value: sku }
  - { name: available, value: available }
  - { name: uom, value: uom }
EOF2
cat >"$A/stockpipe.yaml" <<'EOF2'
state_dir: state
reject_threshold: 50%
sources:
  - { name: items, path: drop/items, pattern: "*.csv", mapping: maps/items.yaml }
  - { name: wh, path: drop/wh, pattern: "*.x12", mapping: maps/wh_846.yaml }
  - { name: counts, path: drop/counts, pattern: "*.csv", mapping: maps/counts.yaml }
targets:
  - name: wms
    path: out
    mapping: maps/cases.yaml
    filename: "{target}_{run_id}.{ext}"
    uom: CA
    uom_missing: base
EOF2
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@"; }
q() { sqlite3 "$A/state/state.db" "$1"; }
TPL=$(t_tmpdir tpl)
cp -R "$A/." "$TPL/"

expect_exit_d 1 "run exits 1 (records in units that cannot be converted)" sp run
cp "$T_ERR" "$A/run1.err"
grep -q "wh_846_20261120.x12:11: field 'uom': cannot convert 'ZZ' to base unit 'EA' of item 'X4': no factor in the record, the item master or the uom lookup" "$A/run1.err" &&
	pass "the ZZ record's reason is on stderr" || { fail "no ZZ reason on stderr"; tail -20 "$A/run1.err"; }

# Hand computation in base units (quantities x factor):
#   X1  5 CA>>12  record multiplier 12 (beats the master's CA=10)  = 60 EA
#   X2  3 CA      item master CA=10                                 = 30 EA
#   X3  7 EA      base unit                                         =  7 EA
#   X4  2 ZZ      no factor: rejected, no position
#   X5  4 PK      the mapping's uom table PK->EA 6                  = 24 EA
#   STORE-1: X3 2 CA>>12 = 24 EA; X6 2.5 KG (base KG) = 2.5 KG;
#            X1 1.5 KG: rejected (X1 is counted in EA); X5 3 EA = 3 EA
cat >"$A/expect.tsv" <<'EOF2'
X1	DC-01	60
X2	DC-01	30
X3	DC-01	7
X3	STORE-1	24
X5	DC-01	24
X5	STORE-1	3
X6	STORE-1	2.5
EOF2
echo "  hand computation (sku, location, base quantity):"
sed 's/^/    /' "$A/expect.tsv"
q "select sku, location, qty from positions where state = 0 order by sku, location" |
	awk -F'|' '{ q = $3 / 1000000; printf "%s\t%s\t%s\n", $1, $2, q }' >"$A/got.tsv"
if cmp -s "$A/expect.tsv" "$A/got.tsv"; then
	pass "positions equal the hand computation in base units"
else
	fail "positions differ from the hand computation"
	diff "$A/expect.tsv" "$A/got.tsv" | sed 's/^/    /'
fi

rj=$(cat "$A"/state/rejects/1/wh/*.jsonl 2>/dev/null)
echo "$rj" | grep -q '"_file":"wh_846_20261120.x12","_line":11,"field":"uom","reason":"field '"'"'uom'"'"': cannot convert '"'"'ZZ'"'"' to base unit '"'"'EA'"'"' of item '"'"'X4'"'"': no factor in the record, the item master or the uom lookup".*"stage":"load"}$' &&
	pass "the ZZ record is in the 846's reject file with its reason" || { fail "ZZ reject line missing"; echo "$rj"; }
rc=$(cat "$A"/state/rejects/1/counts/*.jsonl 2>/dev/null)
echo "$rc" | grep -q "cannot convert 'KG' to base unit 'EA' of item 'X1'" &&
	[ "$(echo "$rc" | grep -c '"stage":"load"')" = 1 ] &&
	pass "the KG count of an EA item is rejected (CSV), once" || { fail "KG reject missing"; echo "$rc"; }
[ "$(q "select sum(rejects) from units where stage = 'load'")" = 2 ] &&
	pass "load units count 2 rejects" || fail "load rejects: $(q "select stage, rejects from units")"

got=$(q "select sku, in_uom, in_qty, factor, origin, uom from stock_event_units order by sku, txn_id")
exp="X1|CA|5000000|12000000|record|EA
X2|CA|3000000|10000000|item|EA
X3|CA>>12|2000000|12000000|record|EA
X5|PK|4000000|6000000|table|EA"
[ "$got" = "$exp" ] && pass "converted events keep unit, quantity, factor and origin (typed)" ||
	{ fail "stock_event_units differ"; echo "$got"; }
[ "$(q "select group_concat(converted, ',') from (select converted from units where stage = 'load' order by id)")" = "1,3,1" ] &&
	pass "converted counter per load unit (items: the case price; 846: 3; csv: 1)" || fail "converted: $(q "select ukey, converted from units where stage='load'")"
grep -q '"converted":5' "$A"/state/reports/run-1.json &&
	pass "run report counts 5 converted records" || fail "report lacks converted:5"
grep -q "converted to base units: 5 record(s)" "$A/run1.err" &&
	pass "summary says how many records were converted" || fail "summary lacks the converted line"
[ "$(q "select amount from prices where sku = 'X2'")" = 2.4 ] &&
	pass "a price per case (24 / CA=10) is stored per base unit: 2.4" || fail "price: $(q "select * from prices")"
[ "$(q "select group_concat(sku || ':' || uom || '=' || factor, ',') from item_units")" = "X1:CA=10000000,X2:CA=10000000" ] &&
	pass "item pack sizes are typed rows" || fail "item_units: $(q "select * from item_units")"

# A target in cases: available / the item's CA pack size, rounded down
# at 6 decimals; items without one stay in their base unit (uom_missing:
# base), and the row's uom says which (summed over locations).
cat >"$A/expect_wms.csv" <<'EOF2'
sku,available,uom
X1,6,CA
X2,3,CA
X3,31,EA
X5,27,EA
X6,2,KG
EOF2
w=$(ls "$A"/out/wms_1.csv 2>/dev/null)
if [ -n "$w" ] && tr -d '\r' <"$w" | cmp -s "$A/expect_wms.csv" -; then
	pass "target uom: CA publishes cases where the item has a case size"
else
	fail "target uom: CA output differs"
	[ -n "$w" ] && cat "$w"
fi
# Without uom_missing: base, an item without a case size fails the target.
sed -e 's/^state_dir: state$/state_dir: state2/' -e '/uom_missing: base/d' \
	"$A/stockpipe.yaml" >"$A/strict.yaml"
t_run "$BIN" -c "$A/strict.yaml" run
grep -q "target 'wms' publishes in 'CA': item 'X3' has no factor for unit 'CA'" "$T_ERR" &&
	[ ! -f "$A/out/wms_1.csv.x" ] && pass "target uom: CA without uom_missing refuses an item without a case size (named; exit $T_RC)" ||
	{ fail "strict target did not refuse (exit $T_RC)"; tail -5 "$T_ERR"; }

# The load again (a mapping fix would do this): same positions, the
# reject file holds each load reject once.
expect_exit_d 1 "rerun of the load" sp rerun 1 --from load --source wh
q "select sku, location, qty from positions where state = 0 order by sku, location" |
	awk -F'|' '{ q = $3 / 1000000; printf "%s\t%s\t%s\n", $1, $2, q }' >"$A/got2.tsv"
cmp -s "$A/expect.tsv" "$A/got2.tsv" && pass "rerun: same positions" || fail "rerun changed positions"
[ "$(cat "$A"/state/rejects/1/wh/*.jsonl | grep -c "ZZ")" = 1 ] &&
	pass "rerun: the ZZ reject is written once" || fail "rerun duplicated the reject line"
[ "$(q "select count(*) from stock_event_units")" = 4 ] &&
	pass "rerun: converted events recorded once" || fail "stock_event_units after rerun: $(q "select count(*) from stock_event_units")"

# A replay after the fix (docs/mapping.md "Transaction ids"): the counts'
# default txn_ids are one ledger key per document (schema 15), but the
# load rejected the KG count, so it kept a key per record
# (state_txn_doc_split): the same file replayed once the mapping knows
# KG -> EA loads that record, and only it (2 x 1.5 = 3 EA).
printf 'units:\n  table: uom.csv\n' >>"$A/maps/counts.yaml"
echo "KG,EA,2" >>"$A/maps/uom.csv"
cf=$(ls "$A"/drop/counts/*.csv | head -n 1)
t_run "$BIN" -c "$A/stockpipe.yaml" replay "$cf" --source counts
lr=$(q "select records_out || ' ' || dupes from units where stage = 'load' and run_id = (select max(run_id) from runs)")
[ "$lr" = "1 3" ] && [ "$(q "select qty / 1000000.0 from positions where sku = 'X1' and location = 'STORE-1' and state = 0")" = 3.0 ] &&
	pass "replay after the uom fix: the rejected KG count loads (3 EA), the other 3 records are duplicates" ||
	{ fail "replay after the uom fix: load '$lr' (exit $T_RC)"; tail -5 "$T_ERR"; }

# ---- crash sweep (binaries with test hooks) ---------------------------------
# SIGKILL before every durable operation of a run, then resume: the
# positions, the converted events and the reject files (the load rewrites
# them) must be what a clean run gives.
picture() { # DIR: what must not depend on crashes
	sqlite3 "$1/state/state.db" "select sku, location, state, qty from positions order by 1, 2, 3;
		select * from stock_event_units order by txn_id;
		select sku, uom, factor from item_units order by 1, 2;
		select sku, amount from prices order by 1;
		select count(*) from stock_events" 2>&1
	cat "$1"/state/rejects/*/*/*.jsonl 2>/dev/null | sort
	cat "$1"/out/* 2>/dev/null
}
C=$(t_tmpdir clean)
cp -R "$TPL/." "$C/"
STOCKPIPE_CRASH_LOG=$C/points "$BIN" -c "$C/stockpipe.yaml" run >/dev/null 2>&1
if [ ! -s "$C/points" ]; then
	skip "crash sweep: binary built without test hooks"
else
	total=$(wc -l <"$C/points")
	picture "$C" >"$C/picture"
	bad_n=0
	for n in $(seq 1 "$total"); do
		D=$T_TMP/crash
		rm -rf "$D"
		mkdir -p "$D"
		cp -R "$TPL/." "$D/"
		STOCKPIPE_CRASH_AT=$n "$BIN" -c "$D/stockpipe.yaml" run >/dev/null 2>&1
		for try in 1 2 3; do
			"$BIN" -c "$D/stockpipe.yaml" resume >/dev/null 2>"$D/resume.err"
			rc=$?
			if grep -q 'nothing to resume' "$D/resume.err"; then
				"$BIN" -c "$D/stockpipe.yaml" run >/dev/null 2>"$D/resume.err"
				rc=$?
			fi
			[ $rc -le 1 ] && break
		done
		if [ $rc -gt 1 ] || grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$D/resume.err"; then
			echo "  crash point $n: resume exit $rc"
			tail -3 "$D/resume.err" | sed 's/^/    /'
			bad_n=$((bad_n + 1))
			continue
		fi
		picture "$D" >"$D/picture"
		if ! cmp -s "$C/picture" "$D/picture"; then
			echo "  crash point $n ($(sed -n "${n}p" "$C/points")): state differs"
			diff "$C/picture" "$D/picture" | head -6 | sed 's/^/    /'
			bad_n=$((bad_n + 1))
		fi
	done
	[ $bad_n = 0 ] && pass "crash sweep: $total crash points, every resume gives the clean run's positions, units and rejects" ||
		fail "crash sweep: $bad_n of $total crash points differ"
fi

t_done

#!/bin/sh
# File facts and lazy context end to end (docs/mapping.md section 5):
#   (a) `map try` with a source's pattern capture: $file.date gives as_of
#       for stock_F012_20261120.csv, $file.store the location; a mapping
#       reading a capture the pattern lacks is refused at file:line:col
#       (map try, map test without a test pattern:, check);
#   (b) a run whose source pattern has {store} and {date:%Y%m%d}: as_of
#       and location come from the name, in the canonical records and in
#       the delivered file; a name with no valid date is quarantined with
#       the reason; a name that does not match is not taken;
#   (c) an X12 file with one 846 set and one 852 set mapped by an 846
#       mapping whose context says `as_of: BIA.04 | ... | required`: the
#       846 records load, the 852 record is one reject naming the context
#       variable, the document is not failed as a whole.
# usage: tests/e2e/file_facts.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR

D=$(t_tmpdir facts)
mkdir -p "$D/drop/stores" "$D/drop/edi" "$D/out" "$D/m"
cat >"$D/m/stores.csv" <<'EOF'
store_code,location_id
F012,STORE-012
F027,STORE-027
EOF
cat >"$D/m/named_stock.yaml" <<'EOF'
mapping: named-stock
input: { format: csv }
lookups:
  stores: { file: stores.csv, key: store_code, value: location_id }
context:
  # the count's day is in the file name only
  as_of: $file.date | required
records:
  - kind: stock
    fields:
      sku:      col(sku) | required
      location: $file.store | lookup(stores)
      state:    on_hand
      quantity: col(qty) | decimal
      as_of:    $as_of
EOF
cat >"$D/m/bad_capture.yaml" <<'EOF'
input: { format: csv }
records:
  - kind: stock
    fields:
      sku:      col(sku)
      location: $file.shop
      state:    on_hand
      quantity: col(qty) | decimal
      as_of:    $file.date
EOF
cat >"$D/m/x12_846_required.yaml" <<'EOF'
mapping: x12-846-required
input:
  format: x12
  transaction: ["846", "852"]
context:
  as_of: BIA.04 | date("%Y%m%d") | required
records:
  - kind: stock
    each: LIN
    fields:
      sku:      LIN[02=VN].03
      location: DC-01
      state:    on_hand
      quantity: QTY[01=33].02 | decimal
      as_of:    $as_of
EOF
cat >"$D/m/webshop.yaml" <<'EOF'
outbound: webshop-stock
kind: stock
format: csv
csv: { delimiter: ",", header: true, line_end: lf }
columns:
  - { name: sku,        value: sku }
  - { name: qty,        value: available | round(0), type: number }
  - { name: updated_at, value: as_of }
EOF
printf 'sku,qty\nKW-10001,14\nKW-10002,3\n' >"$D/drop/stores/stock_F012_20261120.csv"
printf 'sku,qty\nKW-10003,5\n' >"$D/drop/stores/stock_F027_20261399.csv"
printf 'sku,qty\nKW-10004,9\n' >"$D/drop/stores/inventory.csv"
# (c) one interchange: an 846 set with BIA and an 852 set without
cat >"$D/drop/edi/acme_mixed_20261120.x12" <<'EOF'
ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*STOCKPIPE      *261120*0600*U*00401*000000777*0*P*>~
GS*IB*ACMESUPPLY*STOCKPIPE*20261120*0600*777*X*004010~
ST*846*0001~
BIA*00*SI*INV20261119*20261119~
LIN*1*VN*KW-20001~
QTY*33*10*EA~
LIN*2*VN*KW-20002~
QTY*33*11*EA~
LIN*3*VN*KW-20003~
QTY*33*12*EA~
SE*9*0001~
ST*852*0002~
XQ*H*20261113*20261119~
LIN*1*VN*KW-20004~
QTY*33*13*EA~
SE*5*0002~
GE*2*777~
IEA*1*000000777~
EOF
cat >"$D/stockpipe.yaml" <<'EOF'
state_dir: state
reject_threshold: 50%
sources:
  - name: stores
    path: drop/stores
    pattern: "stock_{store}_{date:%Y%m%d}.csv"
    mapping: m/named_stock.yaml
  - name: edi
    path: drop/edi
    pattern: "*.x12"
    mapping: m/x12_846_required.yaml
targets:
  - name: webshop
    path: out
    mapping: m/webshop.yaml
    filename: "{target}_{run_id}.{ext}"
EOF
sp() { "$BIN" -c "$D/stockpipe.yaml" "$@"; }

# ---- (a) map try ----------------------------------------------------------
IN=$D/drop/stores/stock_F012_20261120.csv
check "map try --source applies the source's pattern captures" \
	sp map try --mapping "$D/m/named_stock.yaml" --input "$IN" --source stores
if grep -q '"sku":"KW-10001","location":"STORE-012","state":"on_hand","quantity":"14","mode":"snapshot","as_of":"2026-11-20T00:00:00Z"' "$T_OUT"; then
	pass "map try: as_of from \$file.date, location from \$file.store"
else
	fail "map try: as_of/location not from the file name"; t_show
fi
grep -q 'facts: $file.name=stock_F012_20261120.csv .*$file.store=F012 $file.date=2026-11-20T00:00:00Z' "$T_ERR" &&
	pass "map try shows the file facts" || { fail "map try does not show the facts"; t_show; }
check "map try --pattern and --file-name" \
	"$BIN" map try --mapping "$D/m/named_stock.yaml" --input "$IN" \
	--pattern 'stock_{store}_{date:%Y%m%d}.csv' --file-name stock_F027_20261121.csv
grep -q '"location":"STORE-027",.*"as_of":"2026-11-21T00:00:00Z"' "$T_OUT" &&
	pass "map try: --file-name gives the captures" || { fail "map try --file-name"; t_show; }
expect_exit_d 78 "map try without a pattern refuses a mapping reading a capture" \
	"$BIN" map try --mapping "$D/m/named_stock.yaml" --input "$IN"
grep -q 'named_stock.yaml:7:10: $file.date is a capture of the source' "$T_ERR" &&
	pass "... at the mapping's file:line:col" || { fail "no file:line:col"; t_show; }
expect_exit_d 78 "map try: a capture the pattern lacks" \
	sp map try --mapping "$D/m/bad_capture.yaml" --input "$IN" --source stores
grep -q "bad_capture.yaml:6:17: \$file.shop is not a capture of the file pattern 'stock_{store}_{date:%Y%m%d}.csv' (captures: store, date" "$T_ERR" &&
	pass "... names the pattern and its captures" || { fail "unclear capture error"; t_show; }
expect_exit_d 1 "map try: a name whose date is no date" \
	"$BIN" map try --mapping "$D/m/named_stock.yaml" --input "$IN" \
	--pattern 'stock_{store}_{date:%Y%m%d}.csv' --file-name stock_F012_20261399.csv
grep -q "'20261399' is not a date of the form {date:%Y%m%d}" "$T_ERR" &&
	pass "... says why" || { fail "no reason for the bad date"; t_show; }
check "map try with explicit times" \
	"$BIN" map try --mapping "$D/m/named_stock.yaml" --input "$IN" \
	--pattern 'stock_{store}_{date:%Y%m%d}.csv' --mtime 2026-11-20T04:00:00Z \
	--fetched-at 2026-11-20T05:00:00+01:00 --run-started 2026-11-20T05:30:00Z
grep -q 'facts: $file.name=stock_F012_20261120.csv $file.mtime=2026-11-20T04:00:00Z $file.fetched_at=2026-11-20T04:00:00Z $run.started_at=2026-11-20T05:30:00Z' "$T_ERR" &&
	pass "map try: --mtime, --fetched-at (UTC), --run-started" || { fail "facts options"; t_show; }

# map test: a test's pattern: gives the captures; without one the test
# fails at the mapping's line.
cp "$D/m/named_stock.yaml" "$D/m/named_test.yaml"
cat >>"$D/m/named_test.yaml" <<'EOF'
tests:
  - input: ../drop/stores/stock_F012_20261120.csv
    expect: named.expect.jsonl
    pattern: "stock_{store}_{date:%Y%m%d}.csv"
EOF
check "map test --update with a test pattern" "$BIN" map test --update "$D/m/named_test.yaml"
check "map test with a test pattern" "$BIN" map test "$D/m/named_test.yaml"
grep -q '"location":"STORE-012",.*"as_of":"2026-11-20T00:00:00Z"' "$D/m/named.expect.jsonl" &&
	pass "map test golden has as_of from the name" || { fail "map test golden"; cat "$D/m/named.expect.jsonl"; }
sed -i '/pattern: "stock_/d' "$D/m/named_test.yaml"
expect_exit_d 1 "map test without the pattern fails" "$BIN" map test "$D/m/named_test.yaml"
grep -q 'named_test.yaml:7:10: $file.date is a capture of the source.s file pattern, but no pattern is given (add pattern: to the test)' "$T_ERR" &&
	pass "... saying where and what to add" || { fail "map test message"; t_show; }

# `check` finds a capture the source's pattern cannot supply.
cp "$D/stockpipe.yaml" "$D/check.yaml"
sed -i 's|m/named_stock.yaml|m/bad_capture.yaml|' "$D/check.yaml"
expect_exit_d 78 "check: a mapping reading a capture the pattern lacks" \
	"$BIN" -c "$D/check.yaml" check
grep -q 'bad_capture.yaml:6:17: $file.shop is not a capture' "$T_ERR" &&
	pass "check names the mapping's line and column" || { fail "check message"; t_show; }
sed 's|"stock_{store}_{date:%Y%m%d}.csv"|"stock_{store_{date}.csv"|' "$D/stockpipe.yaml" >"$D/check.yaml"
expect_exit_d 78 "check: a malformed pattern" "$BIN" -c "$D/check.yaml" check
grep -q "check.yaml:6:14: source 'stores': pattern 'stock_{store_{date}.csv': capture '{store_' has no closing '}'" "$T_ERR" &&
	pass "... at the configuration's line" || { fail "pattern error message"; t_show; }

# ---- (b) and (c): a run ---------------------------------------------------
expect_exit_d 1 "run (a quarantined name, a rejected 852 record)" sp run
RUN_ERR=$T_ERR
cat "$T_OUT" "$T_ERR" >"$D/run.log"
canon=$(cat "$D"/state/canonical/1/stores/*.jsonl 2>/dev/null)
if echo "$canon" | grep -q '"sku":"KW-10001","location":"STORE-012","state":"on_hand","quantity":"14","mode":"snapshot","as_of":"2026-11-20T00:00:00Z"' &&
	echo "$canon" | grep -q '"sku":"KW-10002","location":"STORE-012",.*"as_of":"2026-11-20T00:00:00Z"'; then
	pass "run: canonical records take as_of and location from the name"
else
	fail "run: canonical records"; echo "$canon" | head -5
fi
f=$D/out/webshop_1.csv
if [ -f "$f" ] && grep -qx 'KW-10001,14,2026-11-20T00:00:00Z' "$f"; then
	pass "delivered file carries the as_of from the file name"
else
	fail "delivered file"; cat "$f" 2>/dev/null | head; tail -20 "$D/run.log"
fi
grep -q 'KW-10004' "$f" 2>/dev/null && fail "a file not matching the pattern was loaded" ||
	pass "a name that does not match the pattern is not taken"
grep -q "stock_F027_20261399.csv.*'20261399' is not a date of the form {date:%Y%m%d}" "$D/run.log" &&
	pass "a name with no valid date is quarantined with the reason" ||
	{ fail "bad date not reported"; tail -20 "$D/run.log"; }
grep -q 'KW-10003' "$f" 2>/dev/null && fail "the bad-date file was loaded" ||
	pass "... and not loaded"
[ -z "$(grep -E 'runtime error:|AddressSanitizer|LeakSanitizer' "$RUN_ERR")" ] ||
	fail "sanitizer report in the run"

# (c) the mixed X12 interchange
ecanon=$(cat "$D"/state/canonical/1/edi/*.jsonl 2>/dev/null)
n=$(echo "$ecanon" | grep -c '"kind":"stock"')
if [ "$n" = 3 ] && echo "$ecanon" | grep -q '"sku":"KW-20001",.*"as_of":"2026-11-19T00:00:00Z"'; then
	pass "mixed X12: the three 846 records load with the set's BIA date"
else
	fail "mixed X12: expected 3 records from the 846 set, got $n"; tail -20 "$D/run.log"
fi
erej=$(cat "$D"/state/rejects/1/edi/*.jsonl 2>/dev/null)
if [ "$(echo "$erej" | grep -c '"kind":"reject"')" = 1 ] &&
	echo "$erej" | grep -q '"_file":"acme_mixed_20261120.x12","_line":14,"_col":1,"_seg":14,"_offset":354,"field":"as_of","reason":"context '\''as_of'\'': required value is empty"'; then
	pass "mixed X12: the 852 record is one reject naming the context variable"
else
	fail "mixed X12: rejects"; echo "$erej"
fi
grep -q "acme_mixed_20261120.x12.*quarantin" "$D/run.log" &&
	fail "mixed X12: the document was quarantined" ||
	pass "mixed X12: the document is not failed as a whole"

# (d) both kinds from one mapping (issue 15): the 846 records read the
# required BIA date, the 852 records the XQ period end; a set without BIA
# fails nothing, since its records never read as_of.
cat >"$D/m/x12_mixed.yaml" <<'EOF'
mapping: x12-846-852-mixed
input:
  format: x12
  transaction: ["846", "852"]
context:
  set_type: ST.01
  as_of: BIA.04 | date("%Y%m%d") | required
  period_end: XQ.03 | date("%Y%m%d") | required
records:
  - kind: stock
    each: LIN
    when: $set_type == "846"
    fields:
      sku:      LIN[02=VN].03
      location: DC-01
      state:    on_hand
      quantity: QTY[01=33].02 | decimal
      as_of:    $as_of
  - kind: stock
    each: LIN
    when: $set_type == "852"
    fields:
      sku:      LIN[02=VN].03
      location: STORE-012
      state:    on_hand
      quantity: QTY[01=33].02 | decimal
      as_of:    $period_end
EOF
mkdir -p "$D/drop/edi2"
cp "$D/drop/edi/acme_mixed_20261120.x12" "$D/drop/edi2/"
cat >"$D/mixed.yaml" <<'EOF'
state_dir: state2
sources:
  - name: edi2
    path: drop/edi2
    pattern: "*.x12"
    mapping: m/x12_mixed.yaml
targets: []
EOF
expect_exit_d 0 "mixed X12, both kinds mapped: the run loads them (exit 0)" "$BIN" -c "$D/mixed.yaml" run
n=$(sqlite3 "$D/state2/state.db" "SELECT count(*) FROM stock_events" 2>/dev/null)
k=$(sqlite3 "$D/state2/state.db" "SELECT count(*) FROM stock_events WHERE location = 'STORE-012' AND sku = 'KW-20004'" 2>/dev/null)
[ "$n" = 4 ] && [ "$k" = 1 ] && pass "mixed X12: 3 records of the 846 set and 1 of the 852 set loaded" ||
	fail "mixed X12 both kinds: $n events, 852's: $k"
[ -z "$(cat "$D"/state2/rejects/1/edi2/*.jsonl 2>/dev/null)" ] && pass "mixed X12 both kinds: no reject" ||
	fail "mixed X12 both kinds: rejects"

t_done

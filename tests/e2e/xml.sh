#!/bin/bash
# End-to-end tests of XML input: the five shipped XML mappings through the
# whole pipeline (fetch, map, load, render, deliver) on samples/xml, with
# canonical outputs, rejects and the delivery compared byte for byte with
# goldens; a second run finds nothing new; hostile XML through `map try`:
# an XXE never opens its target (strace), billion laughs and deep nesting
# are refused fast, a DOCTYPE document is refused at its line.
# usage: tests/e2e/xml.sh BINARY      prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
GOLD=$SRC/tests/e2e/golden/xml
UPDATE=${STOCKPIPE_UPDATE_GOLDEN:-}

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

D=$TMP/a
mkdir -p "$D/out/webshop"
cp -R "$SRC/samples" "$D/samples"
cp -R "$SRC/mappings" "$D/mappings"
cat >"$D/samples/xml.yaml" <<'EOF'
state_dir: ${STOCKPIPE_STATE_DIR}
reject_threshold: 50%
sources:
  - { name: erp, path: drop/erp, patterns: ["locations_*.csv"], mapping: ../mappings/erp/locations_csv.yaml }
  # the item master first: KW-10002 is counted in SET, its base unit
  - { name: ubl_catalogue, path: xml/ubl, pattern: "catalogue_*.xml", mapping: ../mappings/xml/ubl_catalogue.yaml }
  - { name: ubl_inventory, path: xml/ubl, pattern: "inventory_report_*.xml", mapping: ../mappings/xml/ubl_inventory_report.yaml }
  - { name: opentrans, path: xml/opentrans, pattern: "*.xml", mapping: ../mappings/xml/opentrans_dispatchnotification.yaml }
  - { name: sap, path: xml/idoc, pattern: "*.xml", mapping: ../mappings/xml/sap_idoc_stock.yaml }
  - { name: erp_stock, path: xml/erp, pattern: "*.xml", mapping: ../mappings/xml/erp_stock_export.yaml }
targets:
  - name: webshop
    path: ${STOCKPIPE_OUT}/webshop
    mapping: ../mappings/targets/webshop_stock.yaml
    filename: "{target}_stock_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    location_types: [store, dc]
EOF
sp() {
	STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" \
		"$BIN" -c "$D/samples/xml.yaml" "$@"
}
# compare FILE GOLDEN-NAME
compare() {
	if [ -n "$UPDATE" ]; then
		mkdir -p "$GOLD" && cp "$1" "$GOLD/$2"
	fi
	if [ ! -f "$GOLD/$2" ]; then
		fail "golden $2 missing"
	elif cmp -s "$1" "$GOLD/$2"; then
		pass "$2 matches golden"
	else
		fail "$2 differs from golden"
		diff -u "$GOLD/$2" "$1" | head -20
	fi
}

sp check >"$TMP/check.out" 2>&1 && pass "check accepts the xml config" || { fail "check failed"; cat "$TMP/check.out"; }
sp run >"$TMP/run1.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "first run exits 1 (samples hold bad records)" || { fail "first run exit $rc, expected 1"; cat "$TMP/run1.out"; }
t_san_clean "$TMP/run1.out" && pass "first run sanitizer clean" || fail "sanitizer report in first run"
for s in ubl_inventory ubl_catalogue opentrans sap erp_stock; do
	cat "$D"/state/canonical/1/$s/*.jsonl >"$TMP/$s.canonical.jsonl" 2>/dev/null
	cat "$D"/state/rejects/1/$s/*.jsonl >"$TMP/$s.rejects.jsonl" 2>/dev/null
	compare "$TMP/$s.canonical.jsonl" "$s.canonical.jsonl"
	compare "$TMP/$s.rejects.jsonl" "$s.rejects.jsonl"
done
f=webshop/webshop_stock_1_20261120T060000Z.csv
if [ -f "$D/out/$f" ]; then
	compare "$D/out/$f" webshop_stock_1_20261120T060000Z.csv
else
	fail "missing delivery $f"
fi
grep -q "bestand_20261120.xml:23" "$TMP/run1.out" && pass "rejects are reported at the record element's line" ||
	fail "reject line missing from the run summary"
sp run >"$TMP/run2.out" 2>&1
rc=$?
n=$(find "$D/out" -type f | wc -l)
[ "$n" = 1 ] && pass "second run delivers nothing new (exit $rc)" || fail "second run delivered again ($n files)"

# ---- hostile documents through map try -----------------------------------
M=$TMP/m.yaml
cat >"$M" <<'EOF'
input: { format: xml, allow_doctype: true }
records:
  - kind: item
    each: /r/i
    fields:
      sku: ./@sku
EOF
echo "SECRET-CANARY" >"$TMP/canary.txt"
cat >"$TMP/xxe.xml" <<EOF
<?xml version="1.0"?>
<!DOCTYPE r [ <!ENTITY x SYSTEM "file://$TMP/canary.txt"> <!ENTITY % p SYSTEM "file://$TMP/canary.txt"> %p; ]>
<r><i sku="a">&x;</i></r>
EOF
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=open,openat -o "$TMP/strace.out" "$BIN" map try --mapping "$M" --input "$TMP/xxe.xml" >"$TMP/xxe.out" 2>&1
	rc=$?
	if grep -q canary "$TMP/strace.out"; then
		fail "XXE: the canary file was opened"
	elif [ $rc = 0 ] || grep -q SECRET "$TMP/xxe.out"; then
		fail "XXE document was accepted (exit $rc)"
	else
		pass "XXE: canary never opened, document refused"
	fi
else
	skip "XXE strace check (no strace)"
fi
sed -i 's/allow_doctype: true/allow_doctype: false/' "$M"
"$BIN" map try --mapping "$M" --input "$TMP/xxe.xml" >"$TMP/dt.out" 2>&1
grep -q "xxe.xml:2:1: document type declarations" "$TMP/dt.out" && pass "DOCTYPE refused at file:line:col" ||
	{ fail "DOCTYPE not refused"; cat "$TMP/dt.out"; }
{
	echo '<?xml version="1.0"?><!DOCTYPE r ['
	echo '<!ENTITY l0 "lol">'
	for i in 1 2 3 4 5 6 7 8 9; do
		printf '<!ENTITY l%d "' $i
		for j in 0 1 2 3 4 5 6 7 8 9; do printf '&l%d;' $((i - 1)); done
		echo '">'
	done
	echo ']><r><i sku="&l9;"/></r>'
} >"$TMP/bl.xml"
sed -i 's/allow_doctype: false/allow_doctype: true/' "$M"
start=$(date +%s%N)
timeout 10 "$BIN" map try --mapping "$M" --input "$TMP/bl.xml" >"$TMP/bl.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc != 0 ] && [ $rc != 124 ] && [ $ms -lt 1000 ] && pass "billion laughs refused in ${ms} ms" ||
	{ fail "billion laughs: exit $rc after ${ms} ms"; cat "$TMP/bl.out"; }
python3 -c "print('<r>' + '<i>' * 10000 + '</i>' * 10000 + '</r>')" >"$TMP/deep.xml" 2>/dev/null ||
	{ printf '<r>'; for i in $(seq 10000); do printf '<i>'; done; for i in $(seq 10000); do printf '</i>'; done; printf '</r>'; } >"$TMP/deep.xml"
"$BIN" map try --mapping "$M" --input "$TMP/deep.xml" >"$TMP/deep.out" 2>&1
grep -q "nested deeper than 128 levels" "$TMP/deep.out" && pass "10 000-deep nesting refused by the depth limit" ||
	{ fail "deep nesting not refused"; cat "$TMP/deep.out"; }
t_san_clean "$TMP/deep.out" && t_san_clean "$TMP/bl.out" && pass "hostile documents sanitizer clean" || fail "sanitizer report on hostile documents"

t_done

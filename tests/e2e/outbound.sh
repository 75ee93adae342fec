#!/bin/bash
# End-to-end tests of the outbound formats: the shipped target mappings
# X12 846 (wms_stock_x12_846.yaml), EDIFACT INVRPT (erp_stock_invrpt.yaml),
# XML (marketplace_stock_xml.yaml), X12 832 (supplier_catalog_x12_832.yaml)
# and EDIFACT PRICAT (partner_pricat.yaml) run through the pipeline on a
# copy of samples/ (plus one item whose description holds ' + : ? & < > "),
# with a config of this test's own and STOCKPIPE_NOW pinned (no '*', '>'
# or '~' in the description: the X12 targets would refuse it, see below):
#   - every delivered file equals its golden in tests/e2e/golden/outbound/;
#   - `stockpipe inspect` reads the EDI files back as valid, with the
#     right interchange/group/set counts, types and control numbers;
#   - a second run with unchanged stock delivers nothing (the content key
#     ignores envelopes) and draws no control number;
#   - a run after a stock change delivers the stock targets again with the
#     next control number (counters kept per partner in the state store),
#     the item targets nothing;
#   - an X12 target with on_bad_row: fail refuses a value holding its
#     segment terminator, naming the target, the row, the element and the
#     mapping's file:line:col (the default, reject, is in bad_row.sh).
# usage: tests/e2e/outbound.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
GOLD=$SRCDIR/tests/e2e/golden/outbound
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

# setup DIR : samples + mappings + this test's config and extra drops.
setup() {
	mkdir -p "$1/out/wms" "$1/out/erp" "$1/out/marketplace" \
		"$1/out/supplier_hub" "$1/out/partner"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	# The supplier's format (Windows-1252, ';'): one more item whose
	# description needs escaping in XML and EDIFACT, and stock for it.
	printf 'Artikelnummer;EAN;Bezeichnung;Marke;Warengruppe;Mengeneinheit;VPE;EK-Preis;W\344hrung;Status;Lieferanten-Artikel\r\n' \
		>"$1/samples/drop/supplier/extra_items_20261120.csv"
	printf '%s\r\n' 'KW-99001;;"Teekanne ""Sencha"" 1,2l: Glas+Deckel? 3<4 O'"'"'Neill & Co";Alpenhof;Tee;STK;1;9,90;EUR;aktiv;AH-9901' \
		>>"$1/samples/drop/supplier/extra_items_20261120.csv"
	printf 'store,sku,qty,status,counted_at\nF027,KW-99001,5,OK,2026-11-20 06:00\n' \
		>"$1/samples/drop/stores/stock_F027_20261120_tea.csv"
	cat >"$1/samples/outbound.yaml" <<'EOF'
state_dir: ${STOCKPIPE_STATE_DIR:-../state}
reject_threshold: 25%
sources:
  - name: supplier
    path: drop/supplier
    pattern: "*.csv"
    mapping: ../mappings/supplier/items_csv.yaml
  - name: erp
    path: drop/erp
    patterns: ["locations_*.csv"]
    mapping: ../mappings/erp/locations_csv.yaml
  - name: erp_prices
    path: drop/erp
    patterns: ["prices_*.csv"]
    mapping: ../mappings/erp/prices_csv.yaml
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: ../mappings/stores/store_stock_csv.yaml
targets:
  - name: wms
    path: ${STOCKPIPE_OUT}/wms
    mapping: ../mappings/targets/wms_stock_x12_846.yaml
    filename: "wms_846_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    location_types: [store, dc]
  - name: erp
    path: ${STOCKPIPE_OUT}/erp
    mapping: ../mappings/targets/erp_stock_invrpt.yaml
    filename: "erp_invrpt_{run_id}_{utc:%Y%m%dT%H%M%SZ}.edi"
    per_location: true
  - name: marketplace
    path: ${STOCKPIPE_OUT}/marketplace
    mapping: ../mappings/targets/marketplace_stock_xml.yaml
    filename: "marketplace_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    safety_stock: 1
  - name: supplier_hub
    path: ${STOCKPIPE_OUT}/supplier_hub
    mapping: ../mappings/targets/supplier_catalog_x12_832.yaml
    filename: "catalog_832_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
  - name: partner
    path: ${STOCKPIPE_OUT}/partner
    mapping: ../mappings/targets/partner_pricat.yaml
    filename: "pricat_{run_id}_{utc:%Y%m%dT%H%M%SZ}.edi"
EOF
}
sp() { # sp DIR ARGS...
	_d=$1
	shift
	STOCKPIPE_STATE_DIR="$_d/state" STOCKPIPE_OUT="$_d/out" \
		"$BIN" -c "$_d/samples/outbound.yaml" "$@"
}
counter() { sqlite3 "$1/state/state.db" "select value from counters where name = '$2'" 2>/dev/null; }

# inspect_ok FILE TOTALS CONTROL : inspect says valid with these totals
inspect_ok() {
	t_run "$BIN" inspect "$1"
	_n=$(basename "$1")
	if [ "$T_RC" != 0 ]; then
		fail "inspect $_n: exit $T_RC"
		t_show
	elif ! grep -qF "result: valid (0 errors, 0 warnings)" "$T_OUT"; then
		fail "inspect $_n: not valid"
		t_show
	elif ! grep -qF "total: $2" "$T_OUT"; then
		fail "inspect $_n: no 'total: $2'"
		t_show
	elif ! grep -qF "interchange 1: control $3," "$T_OUT"; then
		fail "inspect $_n: no 'control $3'"
		t_show
	else
		pass "inspect $_n: valid, $2, control $3"
	fi
}

D=$(t_tmpdir run)
setup "$D"
expect_exit_d 0 "check accepts the outbound config" sp "$D" check
# The samples hold bad rows on purpose: exit 1.
expect_exit_d 1 "first run (samples hold bad rows)" sp "$D" run
W=wms/wms_846_1_20261120T060000Z.x12
E=erp/erp_invrpt_1_20261120T060000Z.edi
M=marketplace/marketplace_1_20261120T060000Z.xml
C=supplier_hub/catalog_832_1_20261120T060000Z.x12
P=partner/pricat_1_20261120T060000Z.edi
n=$(outputs "$D" | wc -l)
[ "$n" = 5 ] && pass "five target files delivered" || { fail "expected 5 delivered files, got $n"; outputs "$D"; }
for f in $W $E $M $C $P; do
	same_file "$GOLD/$(basename "$f")" "$D/out/$f"
done

# Read back with stockpipe's own EDI readers.
inspect_ok "$D/out/$W" "1 interchange, 1 group, 1 set (846x1)" 000000001
inspect_ok "$D/out/$C" "1 interchange, 1 group, 1 set (832x1)" 000000001
inspect_ok "$D/out/$E" "1 interchange, 0 groups, 1 set (INVRPTx1)" 1
inspect_ok "$D/out/$P" "1 interchange, 0 groups, 1 set (PRICATx1)" 1
# Counts against the rows: one LIN per row; SE01/UNT01 by hand.
lin=$(grep -c '^LIN' "$D/out/$W")
grep -q "^CTT\*$lin~$" "$D/out/$W" && pass "846: CTT01 = $lin LIN segments" || fail "846: CTT01 is not $lin"
segs=$(sed -n '/^ST\*/,/^SE\*/p' "$D/out/$W" | wc -l)
grep -q "^SE\*$segs\*0001~$" "$D/out/$W" && pass "846: SE01 = $segs segments ST..SE" || fail "846: SE01 is not $segs"
segs=$(sed -n '/^UNH+/,/^UNT+/p' "$D/out/$E" | wc -l) # one segment a line
grep -q "UNT+$segs+1'" "$D/out/$E" && pass "INVRPT: UNT01 = $segs segments UNH..UNT" || fail "INVRPT: UNT01 is not $segs"
t_run "$BIN" inspect --json "$D/out/$E"
grep -q '"test":"1"' "$T_OUT" && grep -q '"charset":"UNOC"' "$T_OUT" &&
	pass "INVRPT: UNOC, test indicator 1 (usage T)" || { fail "INVRPT: charset/test"; t_show; }
# Escaping: the tea item's description.
grep -qF "IMD+F++:::Teekanne \"Sencha\" 1,2l?: Glas?+Deckel?? 3<4 O?'Neill & Co'" "$D/out/$E" &&
	pass "EDIFACT: ' + : ? released" || fail "EDIFACT: release characters"
grep -qF "<inv:Title>Teekanne \"Sencha\" 1,2l: Glas+Deckel? 3&lt;4 O'Neill &amp; Co</inv:Title>" "$D/out/$M" &&
	pass "XML: & < > escaped" || fail "XML: escaping"
if command -v xmllint >/dev/null 2>&1; then
	xmllint --noout "$D/out/$M" 2>"$T_ERR" && pass "xmllint: well-formed" || { fail "xmllint"; t_show; }
else
	skip "xmllint not installed"
fi
[ "$(counter "$D" x12:ZZ:STOCKPIPE:ZZ:WMSPARTNER)" = 1 ] &&
	[ "$(counter "$D" edifact:14:4012345000009:14:4098765000002)" = 1 ] &&
	[ "$(counter "$D" x12:ZZ:STOCKPIPE:01:123456789)" = 1 ] &&
	[ "$(counter "$D" edifact:ZZZ:STOCKPIPE:ZZZ:PARTNER01)" = 1 ] &&
	pass "one control number drawn per partner" ||
	fail "counters after run 1: $(sqlite3 "$D/state/state.db" 'select * from counters' 2>&1 | tr '\n' ' ')"

# ---- second run, nothing changed ----------------------------------------
before=$(outputs "$D")
expect_exit_d 0 "second run" sp "$D" run
[ "$(outputs "$D")" = "$before" ] && pass "second run delivers nothing (content key ignores envelopes)" ||
	{ fail "second run delivered"; outputs "$D"; }
grep -q "wms: unchanged" "$T_OUT" "$T_ERR" && pass "second run: wms unchanged" || { fail "no 'wms: unchanged'"; t_show; }
[ "$(counter "$D" x12:ZZ:STOCKPIPE:ZZ:WMSPARTNER)" = 1 ] &&
	pass "second run draws no control number" || fail "control number drawn for nothing"

# ---- a stock change --------------------------------------------------------
cp "$SRCDIR/samples/updates/stock_F012_20261120_0900.csv" "$D/samples/drop/stores/"
export STOCKPIPE_NOW=2026-11-20T09:30:00Z
t_run sp "$D" run
{ [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && t_san_clean && pass "run after a stock change (exit $T_RC)" ||
	{ fail "run after a stock change: exit $T_RC"; t_show; }
W3=wms/wms_846_3_20261120T093000Z.x12
E3=erp/erp_invrpt_3_20261120T093000Z.edi
M3=marketplace/marketplace_3_20261120T093000Z.xml
new=$(outputs "$D" | wc -l)
[ "$new" = 8 ] && pass "three new files: the stock targets only" || { fail "expected 8 files, got $new"; outputs "$D"; }
for f in $W3 $E3 $M3; do
	same_file "$GOLD/$(basename "$f")" "$D/out/$f"
done
inspect_ok "$D/out/$W3" "1 interchange, 1 group, 1 set (846x1)" 000000002
inspect_ok "$D/out/$E3" "1 interchange, 0 groups, 1 set (INVRPTx1)" 2
grep -q '^GS\*IB\*STOCKPIPE\*WMSPARTNER\*20261120\*0930\*2\*X\*004010~$' "$D/out/$W3" &&
	grep -q '^ST\*846\*0002~$' "$D/out/$W3" && grep -q '^IEA\*1\*000000002~$' "$D/out/$W3" &&
	pass "846: next control number in GS06, ST02, IEA02; time 09:30 UTC" || fail "846 run 3 envelope"
[ "$(counter "$D" x12:ZZ:STOCKPIPE:ZZ:WMSPARTNER)" = 2 ] &&
	[ "$(counter "$D" x12:ZZ:STOCKPIPE:01:123456789)" = 1 ] &&
	pass "counters: wms 2, supplier hub still 1" || fail "counters after run 3"

# ---- X12 refuses a delimiter in data ----------------------------------------
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
X=$(t_tmpdir refuse)
setup "$X"
sed -i 's/Glas+Deckel/Glas~Deckel/' "$X/samples/drop/supplier/extra_items_20261120.csv"
sed -i '/mapping: .*x12_8[34][62].*\.yaml$/a\    on_bad_row: fail' "$X/samples/outbound.yaml"
[ "$(grep -c 'on_bad_row: fail' "$X/samples/outbound.yaml")" = 2 ] || fail "on_bad_row: fail not set on the two X12 targets"
t_run sp "$X" run
[ "$T_RC" = 1 ] && t_san_clean && grep -q "PARKED render supplier_hub 'snapshot' (data)" "$T_ERR" &&
	pass "a '~' in a description fails the X12 targets, parked as data (exit $T_RC)" ||
	{ fail "refusal run: exit $T_RC"; t_show; }
grep -qE "supplier_catalog_x12_832.yaml:[0-9]+:[0-9]+: PID05: target 'supplier_hub', row sku 'KW-99001': value '.*Glas~Deckel.*' contains the segment terminator '~'" "$T_OUT" "$T_ERR" &&
	pass "the error names the target, the row, the element and file:line:col" || { fail "refusal message"; t_show; }
[ -z "$(ls "$X/out/supplier_hub")" ] && [ -z "$(ls "$X/out/wms")" ] &&
	pass "nothing half-written is delivered" || fail "files delivered despite the refusal"
[ -n "$(ls "$X/out/partner")" ] && pass "EDIFACT and other targets still deliver" || fail "partner got nothing"

t_done

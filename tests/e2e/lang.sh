#!/bin/bash
# The mapping language's gaps closed (issue 17 item 4), with real runs of
# stockpipe: routes by EDI message type, version and sender (a mailbox of
# INVRPT + PRICAT + DESADV + X12 846/852 under neutral names routed to
# their mappings by content, compared with the EDI goldens; an interchange
# holding two message types routed by the first with a warning and the
# other set rejected naming its type; a message no route takes
# quarantined naming what was found; route values checked at load);
# explode: for CSV (a store list column -> one record per store; a row
# past explode_max one reject) and XML (a store element list); PRICAT
# sub-lines giving the parent item's pack size (child(LIN)).
# usage: tests/e2e/lang.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG
command -v sqlite3 >/dev/null || { skip "sqlite3 not installed (ops/install-deps.sh installs it)"; t_done; exit $?; }

# ---- routes by message, version, sender ------------------------------------
A=$TMP/a
mkdir -p "$A/drop/edi"
cp -R "$SRC/mappings" "$A/mappings"
S=$SRC/samples/edi
cp "$S/acme_invrpt_unoc.edi" "$A/drop/edi/msg_a.edi"
cp "$S/alpenhof_pricat.edi" "$A/drop/edi/msg_b.edi"
cp "$S/alpenhof_desadv.edi" "$A/drop/edi/msg_c.edi"
cp "$S/acme_846_inventory.x12" "$A/drop/edi/msg_d.x12"
cp "$S/acme_852_sdq.x12" "$A/drop/edi/msg_e.x12"
cat >"$A/stockpipe.yaml" <<'YAML'
state_dir: state
reject_threshold: 90%
sources:
  - name: edi
    path: drop/edi
    patterns: ["msg_*"]
    routes:
      - { message: INVRPT, mapping: mappings/edi/edifact_invrpt.yaml }
      - { message: PRICAT, version: D96A, mapping: mappings/edi/edifact_pricat.yaml }
      - { message: DESADV, sender: "5412345000013", mapping: mappings/edi/edifact_desadv.yaml }
      - { message: "846", version: "004010", mapping: mappings/edi/x12_846_inventory.yaml }
      - { message: "852", sender: ACMERETAIL, mapping: mappings/edi/x12_852_activity.yaml }
YAML
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@"; }
expect_exit_d 0 "check accepts routes by message, version and sender" sp check
sp run >"$TMP/run1.out" 2>&1
rc=$?
[ $rc = 0 ] && pass "run over the mixed mailbox exits 0" || { fail "run 1 exit $rc"; tail -20 "$TMP/run1.out"; }
# doc golden: the canonical output equals the EDI golden of the sample
# under its own name, so the route picked the mapping that made the golden.
for pair in msg_a.edi:acme_invrpt_unoc.edi msg_b.edi:alpenhof_pricat.edi \
	msg_c.edi:alpenhof_desadv.edi msg_d.x12:acme_846_inventory.x12 \
	msg_e.x12:acme_852_sdq.x12; do
	doc=${pair%%:*}
	orig=${pair#*:}
	p=$(db "$A" "select output_path from units where stage='map' and ukey='$doc' and state=2")
	g=$SRC/tests/e2e/golden/edi/$orig.canonical.jsonl
	if [ -z "$p" ] || [ ! -f "$p" ]; then
		fail "$doc: not mapped"
		continue
	fi
	sed "s/\"_file\":\"$orig\"/\"_file\":\"$doc\"/g" "$g" >"$TMP/$doc.want"
	if cmp -s "$TMP/$doc.want" "$p"; then
		pass "$doc routed by its message to the mapping of $orig (canonical = golden)"
	else
		fail "$doc: canonical differs from the golden of $orig"
		diff -u "$TMP/$doc.want" "$p" | head -10
	fi
done

# ---- an interchange with two message types ---------------------------------
B=$TMP/b
mkdir -p "$B/drop/edi"
cp -R "$SRC/mappings" "$B/mappings"
# PRICAT then DESADV inside one UNB..UNZ (UNZ01 = 2)
{
	tr -d '\n' <"$S/alpenhof_pricat.edi" | sed "s/UNZ+1+PC0001'//"
	tr -d '\n' <"$S/alpenhof_desadv.edi" | sed "s/^.*UNB+[^']*'//; s/UNZ+1+DA0088'/UNZ+2+PC0001'/"
} >"$B/drop/edi/mixed.edi"
sed "s|drop/edi|drop/edi|; s|\"msg_\\*\"|\"*.edi\"|" "$A/stockpipe.yaml" >"$B/stockpipe.yaml"
"$BIN" -c "$B/stockpipe.yaml" run >"$TMP/run2.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "an interchange of PRICAT + DESADV maps and exits 1 (a rejected set)" || { fail "mixed exit $rc"; tail -20 "$TMP/run2.out"; }
grep -q "mixed.edi of edi holds PRICAT and DESADV messages: routed by the first (PRICAT)" "$TMP/run2.out" &&
	pass "warns that it routed the two-type interchange by its first message" ||
	{ fail "no warning for the two-type interchange"; tail -20 "$TMP/run2.out"; }
[ "$(grep -c 'holds PRICAT and DESADV' "$TMP/run2.out")" = 1 ] && pass "the warning is given once" || fail "warning count $(grep -c 'holds PRICAT and DESADV' "$TMP/run2.out")"
n=$(db "$B" "select records_out from units where stage='map' and ukey='mixed.edi'")
[ "$n" = 6 ] && pass "its PRICAT made 6 records (3 items, 3 prices)" || fail "mixed.edi records_out '$n', expected 6"
grep -q "DESADV" "$TMP/run2.out" && grep -q "mixed.edi" "$TMP/run2.out" &&
	pass "the DESADV set is a reject naming its type" || { fail "no reject naming DESADV"; tail -20 "$TMP/run2.out"; }

# ---- a message no route takes ------------------------------------------------
cp "$S/store_slsrpt.edi" "$A/drop/edi/msg_f.edi"
sp run >"$TMP/run3.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "a SLSRPT no route takes: run exits 1" || { fail "run 3 exit $rc"; tail -20 "$TMP/run3.out"; }
grep -q "no route of source 'edi' matches this document (edifact message SLSRPT, version D96A, sender 4012345000016)" "$TMP/run3.out" &&
	pass "quarantined naming the message, version and sender it found" ||
	{ fail "no route error without the envelope values"; tail -20 "$TMP/run3.out"; }

# ---- route values checked at load --------------------------------------------
C=$TMP/c
mkdir -p "$C/drop"
cp -R "$SRC/mappings" "$C/mappings"
printf 'state_dir: state\nsources:\n  - name: edi\n    path: drop\n    routes:\n      - { message: DESADVX, mapping: mappings/edi/edifact_desadv.yaml }\n' >"$C/bad1.yaml"
expect_exit_d 78 "message: DESADVX is refused at load" "$BIN" -c "$C/bad1.yaml" check
grep -q "bad1.yaml:6:20: message: is an EDIFACT message type (6 capital letters, UNH 0065: DESADV, PRICAT) or an X12 transaction set id (3 digits, ST01: 856), not 'DESADVX'" "$T_ERR" &&
	pass "the error names the line and the forms" || { fail "message error text"; t_show; }
printf 'state_dir: state\nsources:\n  - name: edi\n    path: drop\n    routes:\n      - { format: x12, message: DESADV, mapping: mappings/edi/edifact_desadv.yaml }\n' >"$C/bad2.yaml"
expect_exit_d 78 "message: DESADV with format: x12 is refused" "$BIN" -c "$C/bad2.yaml" check
grep -q "(format x12: 3 digits), not 'DESADV'" "$T_ERR" && pass "says x12 wants 3 digits" || { fail "x12 message error"; t_show; }
printf 'state_dir: state\nsources:\n  - name: edi\n    path: drop\n    routes:\n      - { mesage: DESADV, mapping: mappings/edi/edifact_desadv.yaml }\n' >"$C/bad3.yaml"
expect_exit_d 78 "an unknown route key (mesage:) is refused" "$BIN" -c "$C/bad3.yaml" check
grep -q "mesage" "$T_ERR" && pass "the error names the unknown key" || { fail "unknown key error"; t_show; }
printf 'state_dir: state\nsources:\n  - name: edi\n    path: drop\n    routes:\n      - { version: "96 A", mapping: mappings/edi/edifact_desadv.yaml }\n' >"$C/bad4.yaml"
expect_exit_d 78 "version: '96 A' is refused" "$BIN" -c "$C/bad4.yaml" check

# ---- explode (CSV, XML) and sub-lines, in real runs --------------------------
D=$TMP/d
mkdir -p "$D/drop/alloc" "$D/drop/xml" "$D/drop/pricat"
cp -R "$SRC/mappings" "$D/mappings"
cp "$SRC/samples/lang/allocation_20261120.csv" "$D/drop/alloc/"
cp "$SRC/samples/lang/stock_by_store_20261120.xml" "$D/drop/xml/"
cp "$SRC/samples/lang/alpenhof_pricat_sublines.edi" "$D/drop/pricat/"
cat >"$D/stockpipe.yaml" <<'YAML'
state_dir: state
reject_threshold: 90%
sources:
  - name: pricat
    path: drop/pricat
    routes:
      - { message: PRICAT, mapping: mappings/edi/edifact_pricat_sublines.yaml }
  - name: alloc
    path: drop/alloc
    mapping: mappings/stores/allocation_explode_csv.yaml
  - name: xml
    path: drop/xml
    mapping: mappings/xml/stock_by_store_xml.yaml
YAML
"$BIN" -c "$D/stockpipe.yaml" run >"$TMP/run4.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "run over explode and sub-line samples exits 1 (rows past explode_max)" || { fail "run 4 exit $rc"; tail -20 "$TMP/run4.out"; }
dq() { sqlite3 "$D/state/state.db" "$1"; }
ps=$(dq "select sku || '=' || pack_size from items order by sku" 2>/dev/null | tr '\n' ' ')
echo "$ps" | grep -q "AH-7790=6 " && echo "$ps" | grep -q "AH-7791=12 " && echo "$ps" | grep -q "AH-7795=1 " &&
	pass "PRICAT sub-lines give the parent items' pack sizes (AH-7790=6, AH-7791=12, AH-7795=1)" ||
	fail "pack sizes from sub-lines: $ps"
n=$(dq "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'allocation_20261120.csv'")
[ "$n" = 6 ] && pass "CSV store list exploded into 6 stock events (3 + 1 + 2; the 4-store row rejected)" || fail "allocation events $n, expected 6"
grep -q "allocation_20261120.csv:5:.*explode: col(stores) | split(\"|\") gives 4 pieces, more than explode_max (3) (allocation_explode_csv.yaml:12)" "$TMP/run4.out" &&
	pass "the row past explode_max is one reject naming the limit" || { fail "explode_max reject"; grep -i explode "$TMP/run4.out"; }
n=$(dq "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'stock_by_store_20261120.xml'")
[ "$n" = 3 ] && pass "XML store element list exploded into 3 stock events" || fail "xml events $n, expected 3"
grep -q "stock_by_store_20261120.xml:17:.*explode: Stores/Store gives 4 elements, more than explode_max (3)" "$TMP/run4.out" &&
	pass "the article past explode_max is one reject" || fail "xml explode_max reject"

(cd "$SRC" && "$BIN" map test mappings/edi/edifact_pricat_sublines.yaml mappings/stores/allocation_explode_csv.yaml mappings/xml/stock_by_store_xml.yaml >"$TMP/mt.out" 2>&1)
rc=$?
[ $rc = 0 ] && pass "map test passes on the three language goldens" || { fail "map test exit $rc"; cat "$TMP/mt.out"; }

t_done

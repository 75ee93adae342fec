#!/bin/bash
# EDI inbound end to end: X12 846/852/832/856 and EDIFACT INVRPT/PRICAT/
# SLSRPT/DESADV drops routed to their mappings by file name, canonical
# records and the webshop delivery compared with goldens; a file with one
# good and one broken transaction set (the good one loads, the broken one
# is one reject naming file, segment number, segment id, element and
# reason, in the reject file and on stderr); the same interchange sent
# twice (same file under another name; re-sent inside a new file) loaded
# once and reported as a duplicate; the same control number with other
# content rejected; unreadable files quarantined.
# usage: tests/e2e/edi.sh BINARY        (UPDATE_GOLDEN=1 rewrites goldens)
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
GOLD=$SRC/tests/e2e/golden/edi
TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG

A=$TMP/a
mkdir -p "$A/drop/edi" "$A/drop/erp" "$A/out"
cp -R "$SRC/mappings" "$A/mappings"
cp "$SRC/samples/drop/erp/locations_20261120.csv" "$A/drop/erp/"
cp "$SRC"/samples/edi/*.x12 "$SRC"/samples/edi/*.edi "$A/drop/edi/"
cat >"$A/stockpipe.yaml" <<'YAML'
state_dir: state
reject_threshold: 50%
sources:
  - name: erp
    path: drop/erp
    patterns: ["locations_*.csv"]
    mapping: mappings/erp/locations_csv.yaml
  - name: edi
    path: drop/edi
    patterns: ["*.x12", "*.edi"]
    routes:
      - { pattern: "*_846_*.x12",  mapping: mappings/edi/x12_846_inventory.yaml }
      - { pattern: "*_852_*.x12",  mapping: mappings/edi/x12_852_activity.yaml }
      - { pattern: "*_832_*.x12",  mapping: mappings/edi/x12_832_catalog.yaml }
      - { pattern: "*_856_*.x12",  mapping: mappings/edi/x12_856_asn.yaml }
      - { pattern: "*_invrpt*.edi", mapping: mappings/edi/edifact_invrpt.yaml }
      - { pattern: "*_pricat*.edi", mapping: mappings/edi/edifact_pricat.yaml }
      - { pattern: "*_slsrpt*.edi", mapping: mappings/edi/edifact_slsrpt.yaml }
      - { pattern: "*_desadv*.edi", mapping: mappings/edi/edifact_desadv.yaml }
targets:
  - name: webshop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_stock_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    location_types: [store, dc]
YAML
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@"; }
q() { sqlite3 "$A/state/state.db" "$1"; }

# compare NAME FILE: FILE equals the golden NAME (or becomes it).
compare() {
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$2" "$GOLD/$1"
		pass "golden $1 written"
	elif cmp -s "$2" "$GOLD/$1"; then
		pass "$1 matches golden"
	else
		fail "$1 differs from golden"
		diff -u "$GOLD/$1" "$2" | head -20
	fi
}

# ---- run 1: every sample ----------------------------------------------------
sp run >"$TMP/run1.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "run 1 exits 1 (rejects present)" || { fail "run 1 exit $rc"; tail -30 "$TMP/run1.out"; }
for f in "$SRC"/samples/edi/*.x12 "$SRC"/samples/edi/*.edi; do
	b=$(basename "$f")
	p=$(q "select output_path from units where stage='map' and ukey='$b' and state=2")
	if [ -z "$p" ] || [ ! -f "$p" ]; then
		fail "$b: no canonical output (map unit not done)"
		continue
	fi
	compare "$b.canonical.jsonl" "$p"
done
n=$(ls "$A"/out/webshop_stock_1_*.csv 2>/dev/null | wc -l)
[ "$n" = 1 ] && compare webshop_stock_1.csv "$A"/out/webshop_stock_1_*.csv || fail "webshop delivery count $n"
q "select sku, location, state, qty from positions order by 1, 2, 3" >"$TMP/positions.tsv"
compare positions_run1.tsv "$TMP/positions.tsv"

# The file with one good and two broken... : 852 set 1002 is broken (SE01).
B852=acme_852_one_broken_set.x12
grep -q "$B852:18:4: interchange 1 (000000202), set 852 1002: segment 18 (SE, #6 in set), element SE01: SE01 segment count mismatch (says 8, actual 6); the set is not loaded" "$TMP/run1.out" &&
	pass "stderr: broken set with file, segment number, segment id, element and reason" ||
	{ fail "stderr lacks the broken-set reject"; grep -n "$B852" "$TMP/run1.out"; }
rj=$(q "select id from units where stage='map' and ukey='$B852'")
grep -q '"_file":"acme_852_one_broken_set.x12","_line":18,"_col":4,"_seg":18,"_offset":431,"field":"SE01","reason":"interchange 1 (000000202), set 852 1002: segment 18 (SE, #6 in set), element SE01: SE01 segment count mismatch (says 8, actual 6); the set is not loaded","raw":"SE\*8\*1002~"' "$A"/state/rejects/1/edi/"$rj".jsonl &&
	pass "reject file: the broken set once, located" || { fail "reject file for $B852"; cat "$A"/state/rejects/1/edi/"$rj".jsonl; }
[ "$(grep -c . "$A"/state/rejects/1/edi/"$rj".jsonl)" = 1 ] && pass "one reject for the broken set" || fail "reject count for the broken set"
n=$(q "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = '$B852'")
[ "$n" = 3 ] && pass "the good sets of that file are loaded (3 records of sets 1001, 1003)" || fail "852 loaded $n records"
n=$(q "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = '$B852' and txn_id like '%-1002-%'")
[ "$n" = 0 ] && pass "nothing of the broken set is loaded" || fail "broken set records loaded: $n"
n=$(q "select count(*) from edi_interchanges")
[ "$n" = 9 ] && pass "interchange ledger holds the 9 interchanges" || fail "interchange ledger rows: $n"

# ---- run 2: the same file under another name ------------------------------------
ev=$(q "select count(*) from stock_events")
cp "$A/drop/edi/$B852" "$A/drop/edi/resent_852_again.x12"
sp run >"$TMP/run2.out" 2>&1
grep -q "same content as '$B852'" "$TMP/run2.out" "$A/state/state.db" 2>/dev/null ||
	q "select detail from units where ukey='resent_852_again.x12'" | grep -q "same content as '$B852'"
[ $? = 0 ] && pass "the same file under another name is recognised as already received" || fail "resent file not recognised"
[ "$(q "select count(*) from stock_events")" = "$ev" ] && pass "and nothing is loaded twice" || fail "resent file loaded records"

# ---- run 3: the 846 interchange re-sent inside a new file with a new one --------
{ cat "$SRC/samples/edi/acme_846_inventory.x12"
  sed -e 's/000000101/000000102/g' -e 's/\*101\*X/*102*X/' -e 's/^GE\*2\*101/GE*2*102/' \
      -e 's/QTY\*33\*120\*EA/QTY*33*100*EA/' "$SRC/samples/edi/acme_846_inventory.x12"
} >"$A/drop/edi/acme_846_resend.x12"
sp run >"$TMP/run3.out" 2>&1
rc=$?
grep -q "acme_846_resend.x12: interchange 000000101 from ACMESUPPLY to STOCKPIPE was already loaded from 'acme_846_inventory.x12' (run 1): duplicate, not loaded again" "$TMP/run3.out" &&
	pass "re-sent interchange reported as a duplicate" || { fail "duplicate not reported (exit $rc)"; tail -20 "$TMP/run3.out"; }
grep -q "'acme_846_resend.x12': 1 duplicate interchange(s) not loaded again, 0 rejected" "$TMP/run3.out" &&
	pass "run summary counts the duplicate" || fail "summary lacks the duplicate count"
n=$(q "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'acme_846_resend.x12'")
[ "$n" = 4 ] && pass "only the new interchange of that file is loaded (4 records)" || fail "resend file loaded $n records"
n=$(q "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'acme_846_resend.x12' and txn_id like '%-000000101-%'")
[ "$n" = 0 ] && pass "nothing of the duplicate interchange is loaded again" || fail "duplicate interchange loaded $n"
n=$(q "select qty from positions where sku='KW-10001' and location='DC-01' and state=0")
[ "$n" = 100000000 ] && pass "the new interchange's count is the position (100, stored in millionths)" || fail "KW-10001 at DC-01 is $n"
d=$(q "select dupes from units where stage='map' and ukey='acme_846_resend.x12'")
[ "$d" = 1 ] && pass "the map unit records 1 duplicate" || fail "map unit dupes $d"

# ---- run 4: the same control number with other content ----------------------------
sed -e 's/QTY\*33\*48\*EA/QTY*33*47*EA/' "$SRC/samples/edi/acme_846_inventory.x12" >"$A/drop/edi/acme_846_changed.x12"
sp run >"$TMP/run4.out" 2>&1
grep -q "acme_846_changed.x12:1:1: interchange 1 (000000101) from ACMESUPPLY to STOCKPIPE: control number 000000101 was already used by an interchange with other content, loaded from 'acme_846_inventory.x12' (run 1): not loaded" "$TMP/run4.out" &&
	pass "same control number, other content: rejected with the reason" || { fail "reused control number not rejected"; tail -20 "$TMP/run4.out"; }
n=$(q "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'acme_846_changed.x12'")
[ "$n" = 0 ] && pass "and nothing of it is loaded" || fail "changed interchange loaded $n records"

# ---- run 5: unreadable documents are quarantined --------------------------------------
printf 'ISA*00*this is not an interchange\n' >"$A/drop/edi/broken_846_x.x12"
{ cat "$SRC/samples/edi/acme_invrpt_unoc.edi"; echo; } >"$A/drop/edi/mislabelled_846_y.x12"
sp run >"$TMP/run5.out" 2>&1
grep -q "broken_846_x.x12.*no readable interchange: unreadable ISA" "$TMP/run5.out" &&
	[ -f "$A/state/quarantine/edi/broken_846_x.x12" ] &&
	pass "a file without a readable interchange is quarantined" || { fail "unreadable file"; tail "$TMP/run5.out"; }
grep -q "mislabelled_846_y.x12.*this is an edifact file, but the mapping reads x12" "$TMP/run5.out" &&
	[ -f "$A/state/quarantine/edi/mislabelled_846_y.x12" ] &&
	pass "an EDIFACT file routed to an X12 mapping is quarantined" || { fail "mislabelled file"; tail "$TMP/run5.out"; }

# ---- the analysts' golden tests of the shipped EDI mappings -----------------------
(cd "$SRC" && "$BIN" map test mappings/edi/*.yaml >"$TMP/mt.out" 2>&1)
rc=$?
[ $rc = 0 ] && pass "map test passes on the EDI mappings ($(grep -c '^ok' "$TMP/mt.out") tests)" || { fail "map test exit $rc"; tail "$TMP/mt.out"; }

t_done

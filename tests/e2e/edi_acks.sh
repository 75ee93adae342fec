#!/bin/bash
# EDI acknowledgments end to end (docs/mapping.md "Acknowledgments"): a
# source with `acks:` answers an X12 file holding one good and one broken
# transaction set with one 997 (AK5*A, AK5*R with AK3/AK4 naming segment
# and element, AK9*P), sender and receiver reversed, the inbound versions
# kept, valid for `stockpipe inspect`; EDIFACT interchanges get a CONTRL
# (UCM action 7, or 4 with the syntax error code); a rerun of the map stage
# sends nothing twice and draws no control number; an acknowledgment that
# could not be published is sent by the next run, once, byte for byte; bad
# `acks:` settings are refused with their location.
# usage: tests/e2e/edi_acks.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG

A=$TMP/a
mkdir -p "$A/drop" "$A/acks"
cp -R "$SRC/mappings" "$A/mappings"
S=$SRC/samples/edi
# One good set (1001) and one broken set (1002: SE01 says 8, has 6).
{ sed -n '1,18p' "$S/acme_852_one_broken_set.x12" | sed 's/000000202/000000302/'
  printf 'GE*2*202~\nIEA*1*000000302~\n'; } >"$A/drop/acme_852_ack.x12"
cp "$S/acme_invrpt_unoc.edi" "$A/drop/acme_invrpt_ok.edi"
# The same message with a wrong UNT01, in its own interchange.
sed -e "s/UNT+11+/UNT+12+/" -e "s/EDI0042/EDI0043/g" "$S/acme_invrpt_unoc.edi" \
	>"$A/drop/acme_invrpt_bad.edi"
cat >"$A/stockpipe.yaml" <<'YAML'
state_dir: state
reject_threshold: 60%
sources:
  - name: edi
    path: drop
    routes:
      - { pattern: "*_852_*.x12",   mapping: mappings/edi/x12_852_activity.yaml }
      - { pattern: "*_invrpt*.edi", mapping: mappings/edi/edifact_invrpt.yaml }
    acks: { path: acks, x12: auto, edifact: contrl }
YAML
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@"; }
q() { sqlite3 "$A/state/state.db" "$1"; }

# ---- run 1 -------------------------------------------------------------------
sp run >"$TMP/run1.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "run 1 exits 1 (rejects present; the broken EDIFACT file is quarantined)" || { fail "run 1 exit $rc"; tail -30 "$TMP/run1.out"; }
n=$(ls "$A"/acks | wc -l)
[ "$n" = 3 ] && pass "3 acknowledgments published (one 997, two CONTRL)" || { fail "$n acknowledgments: $(ls "$A/acks")"; }
ACK=$A/acks/997_ACMESUPPLY_000000001.x12
cat >"$TMP/997.want" <<'EOF'
ISA*00*          *00*          *ZZ*STOCKPIPE      *ZZ*ACMESUPPLY     *261120*0600*^*00501*000000001*0*P*>~
GS*FA*STOCKPIPE*ACMESUPPLY*20261120*0600*1*X*004010~
ST*997*0001~
AK1*PD*202~
AK2*852*1001~
AK5*A~
AK2*852*1002~
AK3*SE*6**8~
AK4*1*96*7*8~
AK5*R*4~
AK9*P*2*2*1~
SE*10*0001~
GE*1*1~
IEA*1*000000001~
EOF
if [ -f "$ACK" ] && cmp -s "$ACK" "$TMP/997.want"; then
	pass "997: sender/receiver reversed, inbound ISA12/GS08 kept, AK5*A for 1001, AK3/AK4 (SE, #6, SE01 = 8) and AK5*R*4 for 1002, AK9*P*2*2*1"
else
	fail "997 content"; diff -u "$TMP/997.want" "$ACK" 2>&1 | head -30
fi
"$BIN" inspect "$ACK" >"$TMP/insp.out" 2>&1 &&
	grep -q "result: valid" "$TMP/insp.out" && pass "stockpipe inspect: the 997 is valid (exit 0)" ||
	{ fail "inspect of the 997"; cat "$TMP/insp.out"; }
CG=$A/acks/CONTRL_5412345000013_000000001.edi
CB=$A/acks/CONTRL_5412345000013_000000002.edi
# Which CONTRL answers which file depends on the fetch order: find them by UCI.
for f in "$A"/acks/CONTRL_*; do
	grep -q "^UCI+EDI0042+" "$f" && CG=$f
	grep -q "^UCI+EDI0043+" "$f" && CB=$f
done
grep -q "^UNB+UNOC:3+4012345000009:14+5412345000013:14+261120:0600+[12]'$" "$CG" &&
	grep -q "^UNH+1+CONTRL:2:2:UN'$" "$CG" &&
	grep -q "^UCI+EDI0042+5412345000013:14+4012345000009:14+7'$" "$CG" &&
	grep -q "^UCM+INV0001+INVRPT:D:96A:UN:EAN008+7'$" "$CG" &&
	pass "CONTRL for the good interchange: UNB reversed, UCI action 7, UCM action 7" ||
	{ fail "CONTRL of the good interchange"; cat "$CG"; }
grep -q "^UCI+EDI0043+5412345000013:14+4012345000009:14+7'$" "$CB" &&
	grep -q "^UCM+INV0001+INVRPT:D:96A:UN:EAN008+4+29+UNT+0074'$" "$CB" &&
	pass "CONTRL for the broken message: UCM action 4, error 29 at UNT 0074" ||
	{ fail "CONTRL of the broken message"; cat "$CB"; }
"$BIN" inspect "$CG" "$CB" >"$TMP/insp2.out" 2>&1 && pass "stockpipe inspect: both CONTRL are valid" ||
	{ fail "inspect of the CONTRL"; cat "$TMP/insp2.out"; }
ls -a "$A/acks" | grep -q '^\.' && [ "$(ls -a "$A/acks" | grep -c '^\.[^.]')" = 0 ] &&
	pass "no temporary file left in the ack folder" || fail "temporary files in the ack folder: $(ls -a "$A/acks")"
n=$(q "select count(*) from edi_acks where sent_at > 0")
[ "$n" = 3 ] && pass "ledger: 3 acknowledgments recorded as sent" || fail "ledger sent rows: $n"
c=$(q "select value from counters where name='x12:ZZ:STOCKPIPE:ZZ:ACMESUPPLY'")
[ "$c" = 1 ] && pass "the partner's control number counter is at 1" || fail "x12 counter $c"

# ---- rerun of the map stage: nothing twice ------------------------------------------
before=$(cat "$A"/acks/* | sha256sum)
STOCKPIPE_NOW=2026-11-20T07:00:00Z sp rerun 1 --from map >"$TMP/rerun.out" 2>&1
[ "$(ls "$A"/acks | wc -l)" = 3 ] && [ "$(cat "$A"/acks/* | sha256sum)" = "$before" ] &&
	pass "rerun --from map: no second 997/CONTRL, files untouched" || { fail "rerun published again: $(ls "$A/acks")"; }
[ "$(q "select count(*) from edi_acks")" = 3 ] && pass "rerun: the ledger still holds 3 rows" || fail "ledger rows after rerun"
c=$(q "select value from counters where name='x12:ZZ:STOCKPIPE:ZZ:ACMESUPPLY'")
[ "$c" = 1 ] && pass "rerun: no control number drawn" || fail "x12 counter after rerun $c"

# ---- publishing fails, the next run sends it once ---------------------------------------
sed -e 's/000000302/000000303/g' "$A/drop/acme_852_ack.x12" >"$A/drop/acme_852_next.x12"
mv "$A/acks" "$A/acks.dir"
echo "not a folder" >"$A/acks"
sp run >"$TMP/run2.out" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "acks of edi" "$TMP/run2.out" && pass "an unpublishable acknowledgment fails the run (exit $rc)" ||
	{ fail "run 2 exit $rc"; tail -20 "$TMP/run2.out"; }
n=$(q "select count(*) from edi_acks where sent_at = 0 and file_name = '997_ACMESUPPLY_000000002.x12'")
[ "$n" = 1 ] && pass "the new 997 is recorded, unsent" || fail "unsent 997 rows: $n"
rm "$A/acks"
mv "$A/acks.dir" "$A/acks"
sp run >"$TMP/resume.out" 2>&1
[ -f "$A/acks/997_ACMESUPPLY_000000002.x12" ] && pass "the next run publishes it" || { fail "the next run did not publish"; tail -20 "$TMP/resume.out"; ls "$A/acks"; }
h1=$(q "select hex(content) from edi_acks where file_name = '997_ACMESUPPLY_000000002.x12'")
h2=$(od -An -v -tx1 "$A/acks/997_ACMESUPPLY_000000002.x12" | tr -d ' \n' | tr a-f A-F)
[ -n "$h1" ] && [ "$h1" = "$h2" ] && pass "byte for byte as recorded" || fail "published bytes differ from the ledger"
grep -q "^AK1\*PD\*202~$" "$A/acks/997_ACMESUPPLY_000000002.x12" &&
	grep -q "^ISA.*\*000000002\*0\*P\*>~$" "$A/acks/997_ACMESUPPLY_000000002.x12" &&
	pass "with the next control number (000000002)" || fail "second 997 control number"
sp run >"$TMP/run3.out" 2>&1
[ "$(ls "$A"/acks | wc -l)" = 4 ] && [ "$(q "select count(*) from edi_acks where sent_at = 0")" = 0 ] &&
	pass "a later run sends nothing more" || fail "acks after run 3: $(ls "$A/acks")"

# ---- off by default; bad settings refused --------------------------------------------
B=$TMP/b
mkdir -p "$B/drop"
cp -R "$SRC/mappings" "$B/mappings"
cp "$A/drop/acme_852_ack.x12" "$B/drop/"
cat >"$B/stockpipe.yaml" <<'YAML'
state_dir: state
reject_threshold: 60%
sources:
  - name: edi
    path: drop
    mapping: mappings/edi/x12_852_activity.yaml
YAML
"$BIN" -c "$B/stockpipe.yaml" run >/dev/null 2>&1
[ "$(sqlite3 "$B/state/state.db" "select count(*) from edi_acks")" = 0 ] && pass "without acks: no acknowledgment" || fail "acks written without acks:"
printf '    acks: { path: out, x12: 998 }\n' >>"$B/stockpipe.yaml"
"$BIN" -c "$B/stockpipe.yaml" check >"$TMP/check.out" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "stockpipe.yaml:7:.*acks x12 must be auto" "$TMP/check.out" &&
	pass "acks x12: 998 refused at file:line" || { fail "bad acks setting (exit $rc)"; cat "$TMP/check.out"; }

t_done

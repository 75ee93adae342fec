#!/bin/bash
# Errors an analyst can act on (issue 17): EDI locations an editor opens
# on (physical line:col of the element, then segment number and byte
# offset) on hand-written files with a UNA line and segments wrapped over
# several lines, counted by hand below; a required field that came out
# empty names its mapping expression and what the set held; a misspelt
# segment tag suggests the nearest one present; warnings that do not stop
# the data (ISA12/GS08 versions, a value cut by the repetition separator,
# IEA01 count), each with its location; a source with strict: true turns
# them into rejects; a control character in a SKU is refused.
# usage: tests/e2e/edi_errors.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
D=$T_TMP
cd "$D" || exit 70

# ---- EDIFACT with a UNA line and wrapped segments ------------------------
# Line by line (the UNA is no segment: UNB is segment 1):
#  1 UNA:+.? '
#  2 UNB...              seg 1      3 UNH  seg 2    4 BGM seg 3
#  5 CUX+2:EUR:8'        seg 4      6 LIN+1 seg 5   7 PRI+AAA:24.90' seg 6
#  8 LIN+2++4006381333948   seg 7, wrapped: its ":EN'" is on line 9
#  9 :EN'PRI+AAA         PRI = seg 8 starts at line 9 column 5
# 10 :x'                 PRI's C509:2 = 'x' at line 10 column 2, byte 189
# 11 LIN+3++4006381333955:EN'PRI+A   LIN = seg 9 at line 11 column 1,
# 12 AB:3.10'                        byte 192; its PRI says AAB, not AAA
printf '%s\n' "UNA:+.? '" "UNB+UNOC:3+SENDER:14+RCVR:14+261120:0700+LOC1'" \
	"UNH+1+PRICAT:D:96A:UN:EAN008'" "BGM+9+CAT-1+9'" "CUX+2:EUR:8'" \
	"LIN+1++4006381333931:EN'" "PRI+AAA:24.90'" "LIN+2++4006381333948" \
	":EN'PRI+AAA" ":x'" "LIN+3++4006381333955:EN'PRI+A" "AB:3.10'" \
	"UNT+10+1'" "UNZ+1+LOC1'" >loc.edi
cat >price.yaml <<'EOF'
mapping: loc-test
input:
  format: edifact
  message: PRICAT
records:
  - kind: price
    each: LIN
    fields:
      sku:        LIN.C212.7140
      price_list: cost
      currency:   CUX.C504.6345 | required
      amount:     PRI[C509.5125=AAA].C509.5118 | decimal | required
      valid_from: '"2026-11-20"'
      as_of:      '"2026-11-20T00:00:00Z"'
EOF
expect_exit 1 "$BIN" map try --mapping price.yaml --input loc.edi
grep -qx "loc.edi:10:2: field 'amount': not a number: 'x' (segment 8, byte 189)" "$T_ERR" &&
	pass "UNA + wrapped PRI: the bad amount at its physical line:col 10:2, segment 8, byte 189" ||
	{ fail "location of the bad amount"; t_show; }
[ "$(sed -n 10p loc.edi | cut -c2)" = x ] && [ "$(tail -c +190 loc.edi | head -c 1)" = x ] &&
	pass "line 10 column 2 and byte 189 of the file are the 'x'" || fail "hand count of loc.edi"
grep -qx "loc.edi:11:1: field 'amount' (price.yaml:12:19 \`PRI\[C509.5125=AAA\].C509.5118 | decimal | required\`) is empty: PRI segments in this LIN group have qualifiers AAB; none has AAA (segment 9, byte 192)" "$T_ERR" &&
	pass "a required field that came out empty names the expression, its mapping line:col and the qualifiers present" ||
	{ fail "empty required field message"; t_show; }

# The same in the reject file of a run: _line/_col physical, _seg, _offset.
mkdir -p a/drop a/m
cp loc.edi a/drop/
cp price.yaml a/m/
cat >a/stockpipe.yaml <<'EOF'
state_dir: state
reject_threshold: 100%
sources:
  - name: edi
    path: drop
    patterns: ["*.edi"]
    mapping: m/price.yaml
EOF
(cd a && "$BIN" run >run.out 2>&1)
rj=$(cat a/state/rejects/1/edi/*.jsonl 2>/dev/null)
echo "$rj" | grep -q '"_file":"loc.edi","_line":10,"_col":2,"_seg":8,"_offset":189,"field":"amount"' &&
	echo "$rj" | grep -q '"_file":"loc.edi","_line":11,"_col":1,"_seg":9,"_offset":192,"field":"amount"' &&
	pass "reject file: the same line, column, segment and byte" ||
	{ fail "reject file locations"; echo "$rj"; cat a/run.out; }
grep -q "loc.edi:10:2: field 'amount': not a number: 'x' (segment 8, byte 189)" a/run.out &&
	pass "run's stderr: the same location" || { fail "run stderr location"; cat a/run.out; }

# ---- a misspelt segment tag ----------------------------------------------
# By element ids: refused at compile time with the directory's nearest tag
# (it used to say "write positions", which then rejected every record).
sed 's/PRI\[C509.5125=AAA\]/PIR[C509.5125=AAA]/' price.yaml >typo.yaml
expect_exit 78 "$BIN" map try --mapping typo.yaml --input loc.edi
grep -q "typo.yaml:12:19: segment PIR is not in stockpipe's directory: did you mean PRI?" "$T_ERR" &&
	pass "unknown segment tag PIR by element ids: did you mean PRI? at the mapping's line:col" ||
	{ fail "compile-time tag suggestion"; t_show; }
# By positions: it compiles; the empty field names the tag present.
sed 's/PRI\[C509.5125=AAA\].C509.5118/PIR[01=AAA].01.2/' price.yaml >typo2.yaml
expect_exit 1 "$BIN" map try --mapping typo2.yaml --input loc.edi
grep -q "is empty: no PIR segment in this message (did you mean PRI?)" "$T_ERR" &&
	pass "unknown segment tag PIR by positions: the reject says did you mean PRI?" ||
	{ fail "run-time tag suggestion"; t_show; }

# ---- X12 warnings -------------------------------------------------------
# ISA11 '-' (00406): REF*BM*999999-001 is two repeats. Line by line:
#  1 ISA (106 bytes)  seg 1   2 GS ... *X*004010~  GS08 at column 48
#  5 REF*BM*999999-001~  the cut repeat '001' at column 15, byte 214
# 10 IEA*2*000000501~    IEA01 (says 2, one group) at column 5
printf '%s\n' \
	"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*STOCKPIPE      *261120*0600*-*00406*000000501*0*P*>~" \
	"GS*IB*ACMESUPPLY*STOCKPIPE*20261120*0600*501*X*004010~" "ST*846*0001~" \
	"BIA*00*SI*INV1*20261120~" "REF*BM*999999-001~" "LIN*1*VN*A1~" "QTY*33*5~" \
	"SE*6*0001~" "GE*1*501~" "IEA*2*000000501~" >warn.x12
cat >inv.yaml <<'EOF'
mapping: warn-test
input:
  format: x12
  transaction: "846"
records:
  - kind: stock
    each: LIN
    fields:
      sku:      LIN[02=VN].03
      location: REF[01=BM].02
      state:    on_hand
      quantity: QTY[01=33].02 | decimal | required
      as_of:    '"2026-11-20T00:00:00Z"'
EOF
expect_exit 0 "$BIN" map try --mapping inv.yaml --input warn.x12
grep -qx "warn.x12:2:48: warning: ISA12 version 00406 and GS08 version 004010 disagree: the envelope is read as 00406, the group's sets as 004010 (segment 2, byte 154)" "$T_ERR" &&
	pass "warning: ISA12/GS08 versions, at GS08" || { fail "version warning"; t_show; }
grep -qx "warn.x12:5:15: warning: REF02 of segment 5 is '999999-001', cut by the repetition separator '-' (ISA11) into 2 repeats: \`REF\[01=BM\].02\` reads '999999', the first (write \[\*\] for all, \[2\] for the second) (segment 5, byte 214)" "$T_ERR" &&
	pass "warning: a value cut by the repetition separator, at the cut" || { fail "repetition warning"; t_show; }
grep -qx "warn.x12:10:5: warning: IEA01 group count mismatch (says 2, actual 1); the sets before it were loaded (segment 10, byte 267)" "$T_ERR" &&
	pass "warning: IEA01 count, at IEA01" || { fail "count warning"; t_show; }
grep -q '"location":"999999"' "$T_OUT" && grep -q "1 canonical record(s), 0 reject(s), 0 filtered, 3 warning(s)" "$T_ERR" &&
	pass "warnings do not stop the data (1 record, 3 warnings counted)" || { fail "warnings and data"; t_show; }
[ "$(sed -n 5p warn.x12 | cut -c15-17)" = 001 ] && [ "$(sed -n 2p warn.x12 | cut -c48-53)" = 004010 ] &&
	pass "hand count of warn.x12" || fail "hand count of warn.x12"

# The same in a run: loaded, counted in the summary, kept for `show`.
mkdir -p w/drop w/m
cp warn.x12 w/drop/
cp inv.yaml w/m/
cat >w/stockpipe.yaml <<'EOF'
state_dir: state
sources:
  - name: edi
    path: drop
    patterns: ["*.x12"]
    mapping: m/inv.yaml
EOF
(cd w && "$BIN" run >run.out 2>&1)
rc=$?
[ $rc = 0 ] && grep -q "edi: 'warn.x12': 3 warnings" w/run.out &&
	grep -q "warn.x12:5:15: warning: REF02 of segment 5" w/run.out &&
	pass "run: warnings shown with their place and counted in the summary (exit 0)" ||
	{ fail "run with warnings (exit $rc)"; cat w/run.out; }
(cd w && "$BIN" show 1 >show.out 2>&1)
grep -q "^warnings (data loaded):" w/show.out &&
	grep -q "^  edi 'warn.x12': warn.x12:2:48: version: ISA12 version 00406 and GS08 version 004010 disagree" w/show.out &&
	grep -q "^  edi 'warn.x12': warn.x12:5:15: repetition: REF02 of segment 5 is '999999-001'.*(segment 5, byte 214)$" w/show.out &&
	grep -q "^  edi 'warn.x12': warn.x12:10:5: count: IEA01 group count mismatch" w/show.out &&
	pass "show lists the run's warnings per document, located" ||
	{ fail "show warnings"; cat w/show.out; }
(cd a && "$BIN" show 1 >show.out 2>&1)
grep -q "^warnings" a/show.out && grep -q "loc.edi:8:1: wrapped: line break inside segment" a/show.out &&
	pass "show: the wrapped EDIFACT file's reader warning is listed at its line" ||
	{ fail "show warnings of loc.edi"; cat a/show.out; }

# ---- strict: true ---------------------------------------------------------
mkdir -p s/drop s/m
cp warn.x12 s/drop/
cp inv.yaml s/m/
cat >s/stockpipe.yaml <<'EOF'
state_dir: state
reject_threshold: 100%
sources:
  - name: edi
    path: drop
    patterns: ["*.x12"]
    mapping: m/inv.yaml
    strict: true
EOF
(cd s && "$BIN" -c stockpipe.yaml map try --source edi --mapping m/inv.yaml --input drop/warn.x12 >try.out 2>try.err)
rc=$?
[ $rc = 1 ] && grep -q "0 canonical record(s), 2 reject(s)" s/try.err &&
	grep -q "warn.x12:10:5: interchange 1 (000000501): IEA01 group count mismatch (says 2, actual 1) (a warning; the source is strict: true)" s/try.err &&
	grep -q "ISA12 version 00406 and GS08 version 004010 disagree.*(a warning; the source is strict: true); the set is not loaded" s/try.err &&
	pass "strict: true: the set in the disagreeing group and the IEA01 count are rejects (exit 1)" ||
	{ fail "strict map try (exit $rc)"; cat s/try.err; }
(cd s && "$BIN" run >run.out 2>&1)
rc=$?
[ $rc = 1 ] && grep -q "edi: 'warn.x12': 2 warnings" s/run.out && grep -q "2 records rejected" s/run.out &&
	pass "strict run: warnings counted in the summary, rejects instead of data (exit 1)" ||
	{ fail "strict run (exit $rc)"; cat s/run.out; }

# ---- control characters in identifiers ------------------------------------
printf 'sku,store,qty\n"KW-1\r",S1,3\nKW-2,S1,4\n' >cc.csv
cat >cc.yaml <<'EOF'
mapping: cc
input:
  format: csv
  header: true
records:
  - kind: stock
    each: row
    fields:
      sku:      col(sku)
      location: col(store)
      state:    on_hand
      quantity: col(qty) | decimal
      as_of:    '"2026-11-20T00:00:00Z"'
EOF
expect_exit 1 "$BIN" map try --mapping cc.yaml --input cc.csv
grep -q "cc.csv:2:1: field 'sku': control character CR (0x0D) at offset 4 in 'KW-1\\\\x0D': identifiers and codes take none" "$T_ERR" &&
	grep -q '"sku":"KW-2"' "$T_OUT" &&
	pass "a quoted CR in a SKU is refused, naming the byte; the next row loads" ||
	{ fail "control character in sku"; t_show; }

t_done

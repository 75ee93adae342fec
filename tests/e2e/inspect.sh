#!/bin/bash
# End-to-end tests of `stockpipe inspect`: the bundled EDI samples
# (samples/edi: an X12 846, an X12 852 with one broken set, an EDIFACT
# INVRPT in UNOC), usage errors, --json, and every file of the shared EDI
# corpus (../shared/data, skipped when absent) against the valid column
# of EXPECTED_EDI.tsv.
# usage: tests/e2e/inspect.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
S=$SRCDIR/samples/edi
CORPUS=$SRCDIR/../shared/data

# has "description" pattern : the last command's stdout contains pattern
has() {
	if grep -qF -- "$2" "$T_OUT"; then
		pass "$1"
	else
		fail "$1: no '$2' in output"
		t_show
	fi
}

# ---- usage ------------------------------------------------------------
expect_exit_d 0 "inspect --help" "$BIN" inspect --help
has "help names --json" "--json"
expect_exit_d 64 "inspect without files" "$BIN" inspect
expect_exit_d 64 "inspect with an unknown option" "$BIN" inspect --bogus x
expect_exit_d 64 "inspect --max-segment too small" "$BIN" inspect \
	--max-segment 10 "$S/acme_846_inventory.x12"
expect_exit_d 1 "inspect on a missing file" "$BIN" inspect "$S/nope.x12"

# ---- samples ----------------------------------------------------------
expect_exit_d 0 "valid X12 846 exits 0" "$BIN" inspect "$S/acme_846_inventory.x12"
has "846: format line" "acme_846_inventory.x12: x12"
has "846: set types" "1 interchange, 1 group, 2 sets (846x2)"
has "846: envelope values" "control 000000101, sender ZZ:ACMESUPPLY, receiver ZZ:STOCKPIPE"
has "846: delimiters" "element '*' (2A), component '>' (3E), repetition none, segment '~' (7E)"
has "846: verdict" "result: valid (0 errors, 0 warnings)"

expect_exit_d 1 "X12 852 with a broken set exits 1" "$BIN" inspect "$S/acme_852_one_broken_set.x12"
has "852: error with location" "segment 18 (SE, #18 in interchange, #6 in set 1002), line 18, element SE01: error: SE01 segment count mismatch (says 8, actual 6)"
has "852: all three sets counted" "1 interchange, 1 group, 3 sets (852x3)"
has "852: repetition separator from 00501 ISA11" "repetition '^' (5E)"
has "852: ISA12/GS08 version conflict is a warning" "element GS08: warning: version conflict: GS08 004010 (the group's version) differs from ISA12 00501 (the interchange's)"
has "852: verdict" "result: INVALID (1 error, 1 warning)"

expect_exit_d 0 "EDIFACT INVRPT exits 0" "$BIN" inspect "$S/acme_invrpt_unoc.edi"
has "INVRPT: format line" "acme_invrpt_unoc.edi: edifact"
has "INVRPT: syntax and charset" "syntax UNOC:3"
has "INVRPT: UNA delimiters" "release '?' (3F), decimal '.' (2E) (UNA)"
has "INVRPT: message types" "1 interchange, 0 groups, 1 set (INVRPTx1)"

expect_exit_d 1 "several files: one invalid makes exit 1" "$BIN" inspect \
	"$S/acme_846_inventory.x12" "$S/acme_852_one_broken_set.x12" \
	"$S/acme_invrpt_unoc.edi"
expect_exit_d 1 "--json on all samples" "$BIN" inspect --json \
	"$S/acme_846_inventory.x12" "$S/acme_852_one_broken_set.x12" \
	"$S/acme_invrpt_unoc.edi"
n=$(grep -c '^{"file":' "$T_OUT")
[ "$n" = 3 ] && pass "--json: one object per file" || fail "--json: $n objects, expected 3"
has "--json: valid flag" '"valid":true,"interchanges":1,"groups":1,"sets":2,"set_types":{"846":2}'
has "--json: issue with code and location" '"severity":"error","code":"count","interchange":1,"segment":18,"segment_in_interchange":18,"segment_in_set":6,"element":1'
has "--json: EDIFACT charset" '"charset":"UNOC"'
if command -v python3 >/dev/null 2>&1; then
	if python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$T_OUT" 2>/dev/null; then
		pass "--json: every line parses as JSON"
	else
		fail "--json: output is not JSON lines"
		t_show
	fi
else
	skip "--json parse check (no python3)"
fi

# A truncated copy: errors, no crash, no hang.
d=$(t_tmpdir trunc)
head -c 300 "$S/acme_852_one_broken_set.x12" >"$d/cut.x12"
expect_exit_d 1 "truncated X12 exits 1" "$BIN" inspect "$d/cut.x12"
has "truncated: missing trailers reported" "missing IEA at end of data"
printf 'sku;qty\nA1;3\nB2;4\n' >"$d/stock.csv"
expect_exit_d 0 "CSV is sniffed, not validated" "$BIN" inspect "$d/stock.csv"
has "CSV format line" "stock.csv: csv"
: >"$d/empty.edi"
expect_exit_d 1 "empty file exits 1" "$BIN" inspect "$d/empty.edi"

# ---- the shared corpus ------------------------------------------------
if [ -f "$CORPUS/EXPECTED_EDI.tsv" ]; then
	while IFS='	' read -r path format valid _; do
		[ "$path" = local_path ] && continue
		f=$CORPUS/$path
		[ -f "$f" ] || { skip "corpus file missing: $path"; continue; }
		want=1
		[ "$valid" = yes ] && want=0
		expect_exit_d "$want" "corpus $format $path" "$BIN" inspect "$f"
	done <"$CORPUS/EXPECTED_EDI.tsv"
else
	skip "shared EDI corpus not present"
fi

t_done

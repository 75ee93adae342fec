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

# ---- CSV: what a mapping needs -------------------------------------------
printf 'sku;qty;note\r"A-1";3;"two\rlines"\rB-2;14;x;extra\rC-3;0;\r' >"$d/mac.csv"
expect_exit_d 1 "Mac CR export with a ragged row: csv, exit 1" "$BIN" inspect "$d/mac.csv"
has "CR export: format" "mac.csv: csv"
has "CR export: text line" "text: 55 bytes, encoding UTF-8, no byte order mark, line ends CR"
has "CR export: dialect" "dialect: delimiter ';' (3B), quote '\"' (22), escape none, line breaks inside quoted fields"
has "CR export: header" "header: yes (first record names the columns); 3 columns"
has "CR export: counts" "records: 3 (header excluded) on 5 physical lines"
has "CR export: column with samples" "1  sku   3/3  'A-1', 'B-2', 'C-3'"
has "CR export: quoted CR shown escaped" "'two\x0dlines'"
has "CR export: the row that does not fit, at its line" "mac.csv:4: record 2: 4 fields, the header has 3"
has "CR export: verdict" "result: INVALID (1 record does not fit)"
printf '\377\376' >"$d/u16.csv"
printf 'sku\tqty\r\nA\t1\r\nB\t2\r\n' | iconv -f UTF-8 -t UTF-16LE >>"$d/u16.csv"
expect_exit_d 0 "UTF-16LE export with BOM: csv, valid" "$BIN" inspect "$d/u16.csv"
has "UTF-16: encoding and BOM" "encoding UTF-16 (little endian), with byte order mark, line ends CRLF"
has "UTF-16: TAB delimiter" "delimiter TAB (09)"
has "UTF-16: header names decoded, no BOM in them" "1  sku   2/2  'A', 'B'"
expect_exit_d 0 "UTF-16 --json" "$BIN" inspect --json "$d/u16.csv"
has "UTF-16 --json: dialect keys" '"encoding":"UTF-16","byte_order":"little-endian","bom":true,"line_ends":"CRLF","delimiter":"\t","quote":null,"escape":null,"quoted_newlines":false,"header":true,"columns":2'
has "UTF-16 --json: columns with samples" '"column_list":[{"name":"sku","nonempty":2,"samples":["A","B"]},{"name":"qty","nonempty":2,"samples":["1","2"]}]'

# ---- EDI: repetition separator, version conflict, envelope counts -------
{
	printf 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*0600*-*00406*000000001*0*P*>~\n'
	printf 'GS*IB*SENDER*RECEIVER*20261120*0600*1*X*004010~\nST*846*0001~\nREF*BM*999999-001~\n'
	printf 'LIN*1*UP*012345678905~\nQTY*33*120*EA~\nLIN*2*UP*012345678906~\nQTY*33*5*EA~\n'
	printf 'SE*7*0001~\nGE*1*1~\nIEA*2*000000001~\n'
} >"$d/rep00406.x12"
expect_exit_d 1 "X12 00406 with IEA01 wrong exits 1" "$BIN" inspect "$d/rep00406.x12"
has "00406: repetition separator shown" "repetition '-' (2D)"
has "00406: what it split" "element REF02: warning: REF02 holds 2 values split on the repetition separator '-': '999999', '001'; a mapping reads the first one"
has "00406: summary of splits" "repetition separator: split 1 value (see the warnings: a mapping reads the first part)"
has "00406: version conflict" "version conflict: GS08 004010 (the group's version) differs from ISA12 00406 (the interchange's)"
has "00406: IEA01 against the count" "1 group, 1 set (IEA01 says 2)"
has "00406: message with version" "messages: 846 004010 x1"
has "00406: qualifier codes per element" "QTY01      codes: 33 (2)"
has "00406: LIN02 qualifier" "LIN02      codes: UP (2)"
has "00406: sample for data" "LIN03      e.g. '012345678905'"
has "00406: split position marked" "REF02      e.g. '999999'  [split on the repetition separator]"
expect_exit_d 1 "00406 --json" "$BIN" inspect --json "$d/rep00406.x12"
has "00406 --json: qualifier element" '{"name":"QTY01","element":1,"component":1,"n":2,"sample":"33","qualifier":true,"repeated":false,"codes":{"33":2}}'
has "00406 --json: splits counted" '"repetition_separator":"2D","repetition_splits":1'
has "00406 --json: declared count" '"groups":1,"sets":1,"declared":2'

# ---- XML: namespaces and paths --------------------------------------------
printf '<?xml version="1.0"?>\n<Inv xmlns="urn:i" xmlns:cbc="urn:c"><cbc:ID>7</cbc:ID><Line><cbc:Qty unitCode="EA">3</cbc:Qty></Line><Line><cbc:Qty>4</cbc:Qty></Line></Inv>\n' >"$d/inv.xml"
expect_exit_d 0 "XML: valid" "$BIN" inspect "$d/inv.xml"
has "XML: message line" "inv.xml: xml Inv urn:i"
has "XML: namespaces" "namespaces: (default) = urn:i, cbc = urn:c"
has "XML: path with count and sample" "     2  /Inv/Line/cbc:Qty  '3'"
has "XML: attribute path" "     1  /Inv/Line/cbc:Qty/@unitCode  'EA'"
expect_exit_d 0 "XML --json" "$BIN" inspect --json "$d/inv.xml"
has "XML --json: paths" '{"path":"/Inv/Line/cbc:Qty","ns":"urn:c","n":2,"sample":"3"}'
has "XML --json: namespaces" '"namespaces":[{"prefix":"","uri":"urn:i"},{"prefix":"cbc","uri":"urn:c"}]'

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

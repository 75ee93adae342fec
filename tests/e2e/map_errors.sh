#!/bin/bash
# Errors that name the cause (issue 17, item 3), one golden per kind: what
# `stockpipe map check`, `map try` and a run print on stderr for small
# hand-made mappings and inputs (tests/e2e/map_errors/), compared byte for
# byte with tests/e2e/golden/map_errors/NAME.err. Only the run's folder is
# normalised (it reads as TMP); every command runs in a copy of the
# fixtures, so the paths in the messages are the relative ones typed.
# STOCKPIPE_UPDATE_GOLDEN=1 rewrites the goldens from the actual output.
# usage: tests/e2e/map_errors.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
GOLD=$SRCDIR/tests/e2e/golden/map_errors
UPDATE=${STOCKPIPE_UPDATE_GOLDEN:-}
D=$T_TMP/m
cp -R "$SRCDIR/tests/e2e/map_errors" "$D"
cd "$D" || exit 70
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CONFIG

# golden NAME EXIT DESCRIPTION CMD...: runs CMD, wants exit EXIT and its
# stderr (tmp folder as TMP) equal to golden/map_errors/NAME.err.
# (_g* names: lib.sh's helpers use _desc and _want themselves)
golden() {
	_gname=$1 _gwant=$2 _gdesc=$3
	shift 3
	expect_exit_d "$_gwant" "$_gname: exit $_gwant" "$@"
	sed "s|$T_TMP|TMP|g" "$T_ERR" >"$T_TMP/$_gname.err"
	gold_cmp "$_gname" "$_gdesc"
}

gold_cmp() {
	if [ -n "$UPDATE" ]; then
		mkdir -p "$GOLD" && cp "$T_TMP/$1.err" "$GOLD/$1.err"
	fi
	if [ ! -f "$GOLD/$1.err" ]; then
		fail "$1: golden $1.err missing"
	elif cmp -s "$GOLD/$1.err" "$T_TMP/$1.err"; then
		pass "$1: $2"
	else
		fail "$1: stderr differs from golden $1.err"
		diff -u "$GOLD/$1.err" "$T_TMP/$1.err" | head -n 20 | sed 's/^/    /'
	fi
}

# ---- EDI -----------------------------------------------------------------
golden edi_qualifier 1 "an EDI field empty for a wrong qualifier names the expression and the qualifiers present" \
	"$BIN" map try --mapping edi_qualifier.yaml --input invrpt.edi
golden edi_tag 78 "a misspelt segment tag (QYT) suggests QTY at the mapping's line:col" \
	"$BIN" map check edi_tag.yaml

# Locations against a hand-counted file: a UNA line with other separators
# ('*' between elements) and segments wrapped over several lines; the bad
# quantity 'x3' is the 4th character of line 8. Counted by hand with the
# line lengths (newline included): 1 UNA 10, 2 UNB 46, 3 UNH+BGM 40,
# 4 "-9*9'" 6, 5 LIN+QTY 31, 6 "12'LIN*2**4006381" 18, 7 "333948:EN'QTY"
# 14 = 165 bytes before line 8 "*1:x3'", whose 'x' is at column 4: byte
# 165 + 3 = 168 (0-based, as reported). Segments: UNB 1, UNH 2, BGM 3,
# LIN 4, QTY 5, LIN 6, QTY 7 (the bad one: it starts on line 7).
golden una_wrapped 1 "UNA + wrapped segments: the bad element at 8:4, segment 7, byte 168" \
	"$BIN" map try --mapping una_wrapped.yaml --input una_wrapped.edi
[ "$(sed -n 8p una_wrapped.edi | cut -c4-5)" = x3 ] &&
	[ "$(tail -c +169 una_wrapped.edi | head -c 2)" = x3 ] &&
	grep -q '^una_wrapped.edi:8:4: .*(segment 7, byte 168)$' "$T_TMP/una_wrapped.err" &&
	pass "una_wrapped: line 8 column 4 and byte 168 of the file are the 'x3' the error names" ||
	fail "una_wrapped: the hand count does not match the file or the message"

# ---- lookups, fields, prefixes, columns -----------------------------------
golden lookup_key 78 "a lookup key: typo points at the mapping's key: with the file's columns and the nearest" \
	"$BIN" map check lookup_key.yaml
golden lookup_name 78 "an unknown lookup(name) lists the declared lookups and the nearest" \
	"$BIN" map check lookup_name.yaml
golden field_name 78 "an unknown canonical field lists the kind's fields and the nearest" \
	"$BIN" map check field_name.yaml
golden xml_prefix 78 "a misspelt namespace prefix names the declared prefixes and the nearest" \
	"$BIN" map check xml_prefix.yaml
golden csv_column 1 "a col() the header lacks: the mapping's line:col, the header, the nearest" \
	"$BIN" map try --mapping csv_column.yaml --input stock.csv
golden wide_column 1 "a header too long for the message is cut with '… and N more', the nearest still named" \
	"$BIN" map try --mapping wide_column.yaml --input wide.csv

# ---- required fields that came out empty ----------------------------------
golden csv_empty 1 "CSV: the expression, the empty cell, the short row's cells" \
	"$BIN" map try --mapping csv_empty.yaml --input stock.csv
golden xml_empty 1 "XML: the expression, the element present but empty, or absent" \
	"$BIN" map try --mapping xml_empty.yaml --input report.xml

# The same in a run: the reject lines of its stderr (the summary table
# around them belongs to other tests).
mkdir -p run/drop
cp stock.csv run/drop/
cp csv_empty.yaml run/
cat >run/stockpipe.yaml <<'EOF'
state_dir: state
reject_threshold: 100%
sources:
  - name: shop
    path: drop
    patterns: ["*.csv"]
    mapping: csv_empty.yaml
EOF
expect_exit_d 1 "run_csv_empty: exit 1" "$BIN" -c run/stockpipe.yaml run
grep "stock.csv:" "$T_ERR" | sed "s|$T_TMP|TMP|g" >"$T_TMP/run_csv_empty.err"
gold_cmp run_csv_empty "a run's stderr names the mapping file:line:col and the cell too"

# ---- the wrong kind of file -----------------------------------------------
if command -v zip >/dev/null 2>&1; then
	zip -q -X drop.zip invrpt.edi && mv drop.zip drop.edi
	golden archive_edi 1 "a zip given to an EDI mapping: an archive file, not 'not EDIFACT'" \
		"$BIN" map try --mapping edi_qualifier.yaml --input drop.edi
else
	skip "archive_edi: zip is not installed"
fi
if command -v iconv >/dev/null 2>&1; then
	printf '\377\376' >u16.csv
	printf 'sku,store,qty\r\nA1,S1,3\r\n' | iconv -f UTF-8 -t UTF-16LE >>u16.csv
	golden utf16_bom 1 "a UTF-16 file read as UTF-8: the note names the encoding and the BOM" \
		"$BIN" map try --mapping csv_empty.yaml --input u16.csv
else
	skip "utf16_bom: iconv is not installed"
fi

t_done

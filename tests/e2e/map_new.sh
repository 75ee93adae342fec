#!/bin/bash
# End-to-end tests of `stockpipe map new`: usage; goldens of the mapping
# written for four bundled samples (a CSV stock export, an X12 852, an
# EDIFACT PRICAT, a UBL inventory report), each compiled by `map check`
# and making records in `map try`; --output with its test golden passing
# `map test`, no overwrite without --force; a location mapping (golden
# and map test golden) for a load tender with N1 loops and --kind location
# on files with items; a 997 refused; and the corpus: every file under
# ../shared/data/{x12,edifact,xml,csv} (skipped when absent) gets a
# mapping that compiles and makes at least one record (a location mapping
# when it has parties but no items), or is refused because it cannot give
# one by its nature (named below with the reason). Counts per format are
# printed.
# usage: tests/e2e/map_new.sh BINARY    prints "N passed, N failed, N skipped"
# UPDATE=1 rewrites the goldens of the samples.
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
S=$SRCDIR/samples
G=$SRCDIR/tests/e2e/golden/map_new
CORPUS=$SRCDIR/../shared/data
# the placeholder as_of of map test is the day the mapping is written
STOCKPIPE_NOW=2026-12-05T22:00:00Z
export STOCKPIPE_NOW

has_err() {
	if grep -qF -- "$2" "$T_ERR"; then
		pass "$1"
	else
		fail "$1: no '$2' on stderr"
		t_show
	fi
}

# records FILE: canonical records (not rejects) in map try's stdout
records() {
	grep -c '^{"kind":"\(stock\|item\|price\|location\)"' "$1"
}

# ---- usage ------------------------------------------------------------
expect_exit_d 0 "map new --help" "$BIN" map new --help
grep -q 'usage: stockpipe map new --input FILE' "$T_OUT" &&
	pass "help shows the usage" || fail "help shows the usage"
expect_exit_d 0 "map --help lists new" "$BIN" map --help
grep -q 'map new --input FILE' "$T_OUT" && pass "map help names map new" ||
	fail "map help names map new"
expect_exit_d 64 "map new without --input" "$BIN" map new
expect_exit_d 64 "map new --kind bogus" "$BIN" map new --input \
	"$S/edi/acme_852_sdq.x12" --kind stocks
expect_exit_d 64 "map new --force without --output" "$BIN" map new \
	--input "$S/edi/acme_852_sdq.x12" --force

# ---- the samples: golden mapping, check, try ----------------------------
# sample NAME INPUT [--kind K]
sample() {
	name=$1 input=$2
	shift 2
	d=$(t_tmpdir "$name")
	# exit 1: the sample's deliberately bad rows are rejected
	t_run "$BIN" map new --input "$input" "$@"
	if [ "$T_RC" != 0 ] && [ "$T_RC" != 1 ]; then
		fail "$name: map new exit $T_RC"
		t_show
		return
	fi
	pass "$name: map new (exit $T_RC)"
	cp "$T_OUT" "$d/$name.yaml"
	if [ "${UPDATE:-}" = 1 ]; then
		mkdir -p "$G" && cp "$d/$name.yaml" "$G/$name.yaml"
	fi
	same_file "$G/$name.yaml" "$d/$name.yaml"
	expect_exit_d 0 "$name: map check" "$BIN" map check "$d/$name.yaml"
	t_run "$BIN" map try --mapping "$d/$name.yaml" --input "$input"
	if [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; then
		pass "$name: map try runs (exit $T_RC)"
	else
		fail "$name: map try exit $T_RC"
		t_show
	fi
	n=$(records "$T_OUT")
	if [ "$n" -ge 1 ]; then
		pass "$name: map try makes $n record(s)"
	else
		fail "$name: map try makes no record"
	fi
}
sample csv_stock "$S/drop/stores/stock_F012_20261120.csv"
sample x12_852 "$S/edi/acme_852_sdq.x12"
sample edifact_pricat "$S/edi/alpenhof_pricat.edi"
sample ubl_inventory "$S/xml/ubl/inventory_report_STORE-027_20261120.xml"

# ---- kind location: parties instead of items ----------------------------
# acme_204_parties.x12 (written for this test): a load tender with four N1
# loops (SF, WH, ST and BT with N104 ids, N3/N4 addresses) and no items.
P=$SRCDIR/tests/e2e/map_new/acme_204_parties.x12
sample x12_204_location "$P"
grep -q '^  - kind: location' "$G/x12_204_location.yaml" &&
	pass "204: kind location without --kind" || fail "204: kind location without --kind"
d=$(t_tmpdir location)
expect_exit_d 0 "204: --output writes the location mapping" "$BIN" map new \
	--input "$P" --output "$d/m/acme_204.yaml"
if [ "${UPDATE:-}" = 1 ]; then
	cp "$d/m/tests/acme_204_parties.expect.jsonl" "$G/x12_204_location.expect.jsonl"
fi
same_file "$G/x12_204_location.expect.jsonl" "$d/m/tests/acme_204_parties.expect.jsonl"
expect_exit_d 0 "204: map test passes" "$BIN" map test "$d/m/acme_204.yaml"
n=$(grep -c '^{"kind":"location"' "$d/m/tests/acme_204_parties.expect.jsonl")
[ "$n" = 4 ] && pass "204: one location per N1 loop (4)" || fail "204: $n locations, not 4"
grep -q '"location_id":"DC-EAST","type":"dc"' "$d/m/tests/acme_204_parties.expect.jsonl" &&
	pass "204: N1*WH is a dc" || fail "204: N1*WH is a dc"
grep -q '"location_id":"KW-AP","type":"store"' "$d/m/tests/acme_204_parties.expect.jsonl" &&
	grep -q 'TODO: BT has no known type' "$d/m/acme_204.yaml" &&
	pass "204: N1*BT gets the default with a TODO" || fail "204: N1*BT gets the default with a TODO"
# --kind location on files with items: the party loops, element or column
for f in "$S/edi/alpenhof_desadv.edi" "$S/edi/acme_856_asn.x12" \
	"$S/xml/ubl/inventory_report_STORE-027_20261120.xml"; do
	b=$(basename "$f")
	expect_exit_d 0 "--kind location: $b" "$BIN" map new --kind location \
		--input "$f" --output "$d/k/$b.yaml"
	expect_exit_d 0 "--kind location: $b: map check" "$BIN" map check "$d/k/$b.yaml"
	t_run "$BIN" map try --mapping "$d/k/$b.yaml" --input "$f"
	n=$(records "$T_OUT")
	[ "$T_RC" = 0 ] && [ "$n" -ge 1 ] && pass "--kind location: $b: $n location(s)" ||
		fail "--kind location: $b: map try exit $T_RC, $n record(s)"
done
printf 'store_id,store_name,city,state\nS001,Main Street,Springfield,IL\nS002,Mall,Shelbyville,IL\n' >"$d/stores.csv"
expect_exit_d 0 "a store list CSV" "$BIN" map new --input "$d/stores.csv"
grep -q '^  - kind: location' "$T_OUT" && grep -q 'location_id: col(store_id)' "$T_OUT" &&
	pass "a store list CSV is a location mapping" || fail "a store list CSV is a location mapping"
expect_exit_d 78 "--kind location without parties" "$BIN" map new --kind location \
	--input "$S/edi/acme_846_inventory.x12"
has_err "--kind location without parties: the reason" "names no party (N1 loops)"

# ---- --output: the mapping, its test and golden ------------------------
d=$(t_tmpdir output)
expect_exit_d 0 "--output writes the mapping" "$BIN" map new \
	--input "$S/edi/acme_846_inventory.x12" --output "$d/m/acme_846.yaml"
[ -f "$d/m/acme_846.yaml" ] && [ -f "$d/m/tests/acme_846_inventory.expect.jsonl" ] &&
	pass "--output: mapping and golden are there" ||
	fail "--output: mapping and golden are there"
grep -q '^  - input: ' "$d/m/acme_846.yaml" && pass "--output: tests: declared" ||
	fail "--output: tests: declared"
grep -q '^  - input: /' "$d/m/acme_846.yaml" && fail "--output: the test input is relative" ||
	pass "--output: the test input is relative"
ls -a "$d/m" | grep -q '\.tmp\|map-new' && fail "--output: no temporary file left" ||
	pass "--output: no temporary file left"
expect_exit_d 0 "--output: map test passes" "$BIN" map test "$d/m/acme_846.yaml"
grep -q '^ok ' "$T_OUT" && pass "--output: map test says ok" ||
	fail "--output: map test says ok"
cp "$d/m/acme_846.yaml" "$d/before.yaml"
expect_exit_d 64 "--output refuses to overwrite" "$BIN" map new \
	--input "$S/edi/acme_846_inventory.x12" --output "$d/m/acme_846.yaml"
same_file "$d/before.yaml" "$d/m/acme_846.yaml"
expect_exit_d 0 "--force replaces" "$BIN" map new --kind item \
	--input "$S/edi/acme_846_inventory.x12" --output "$d/m/acme_846.yaml" --force
grep -q '^  - kind: item' "$d/m/acme_846.yaml" && pass "--force: the new kind" ||
	fail "--force: the new kind"
expect_exit_d 0 "--force: map test passes" "$BIN" map test "$d/m/acme_846.yaml"

# ---- files that cannot give a record -----------------------------------
d=$(t_tmpdir refuse)
printf 'ISA*00*          *00*          *ZZ*ACME           *ZZ*US             *261120*0600*U*00401*000000001*0*P*>~GS*FA*ACME*US*20261120*0600*1*X*004010~ST*997*0001~AK1*PO*1~AK9*A*1*1*1~SE*4*0001~GE*1*1~IEA*1*000000001~\n' >"$d/ack.x12"
expect_exit_d 78 "a 997 is refused" "$BIN" map new --input "$d/ack.x12" \
	--output "$d/ack.yaml"
has_err "997: the reason" "997 (a functional acknowledgment) has no item lines (LIN, PO1, IT1, SLN, W01 or G83) and no parties (N1)"
[ ! -e "$d/ack.yaml" ] && pass "997: nothing written" || fail "997: nothing written"
expect_exit_d 78 "--kind stock from an item master is refused" "$BIN" map new \
	--input "$S/drop/supplier/acme_items_20261120.csv" --kind stock
has_err "item master: the reason" "no column holds quantities"

# ---- the shared corpus --------------------------------------------------
# Files that cannot give a record by their nature, with the reason.
by_nature() {
	case $1 in
	x12/997/* | x12/999/* | x12/multi/staedi_997_*) echo "acknowledgment (997, 999, TA1): no item lines" ;;
	x12/errors/staedi_invalid997_min.edi | x12/errors/staedi_invalid999.edi) echo "acknowledgment: no item lines" ;;
	x12/other/staedi_855_multi_tx.edi) echo "855 with only BAK: no lines, no N1 parties" ;;
	x12/other/gozer_x12_odd-char-* | x12/other/gozer_x12_trailing-*) echo "generic test sets (ST*AAA) with only TEST segments" ;;
	x12/errors/ediengine_NonEdi.edi) echo "not EDI" ;;
	x12/errors/gtlogistics_empty-edi.edi) echo "empty file" ;;
	x12/errors/gtlogistics_no-se-trailer.edi) echo "204 load tender cut after ST (no SE): no items, no parties" ;;
	x12/errors/gtlogistics_trimmed-isa-heading.edi | x12/errors/gtlogistics_inconsistent-elem-sep-isa.edi | \
		x12/errors/gozer_x12_no-segment-terminator.txt) echo "broken ISA: no set can be read" ;;
	x12/errors/edinet_x12_850_issue135_ISA16-missing.edi) echo "both 850 sets are broken (SE01 count), none is loaded" ;;
	x12/832/edinet_x12_832_BOM_space-indented.edi) echo "its only set is broken (SE01 says 17, has 12)" ;;
	x12/850/edinet_x12_850a_BOM_tab-indented.edi) echo "broken ISA (element widths): its set is not loaded" ;;
	edifact/delimiters/edinet_ORDRSP_D10A_single-line.edi) echo "its only message is broken (UNT01 says 17, has 31)" ;;
	edifact/orders/staedi_orders_UNG-group_EAN008.edi) echo "its only message is broken (UNT01 says 21, has 18)" ;;
	edifact/errors/nantic_ORDERS_no-UNB_UNA-comma.edi) echo "no UNB and its only message is broken (UNT01)" ;;
	edifact/delimiters/phpedifact_multiline_FTX.edi) echo "IFTMBC booking without NAD or LIN, and its only message is broken (UNT01)" ;;
	edifact/errors/edinet_IFCSUM_*) echo "IFCSUM, unreadable (newline for apostrophe)" ;;
	edifact/errors/nantic_not-edifact_*) echo "not EDIFACT" ;;
	edifact/other/edinet_INFENT_*) echo "its only message is broken (UNT01 says 000100, has 10): its NAD parties are not loaded" ;;
	edifact/other/smooks_INVOIC_D96A_input.edi) echo "a fragment without UNB/UNH: no message is read" ;;
	xml/idoc/ballerina_DELVRY03_*) echo "DELVRY03 without item segments (E1EDL24) or partner addresses (E1ADRM1)" ;;
	csv/quirks/csvkit_null_byte.csv) echo "its only row holds a NUL byte, which the reader rejects" ;;
	*) return 1 ;;
	esac
}

if [ ! -d "$CORPUS" ]; then
	skip "corpus: $CORPUS is absent"
else
	summary="" k=0
	for fmt in x12 edifact xml csv; do
		ok=0 bad=0 nat=0
		[ -d "$CORPUS/$fmt" ] || { skip "corpus: no $fmt folder"; continue; }
		while IFS= read -r f; do
			rel=${f#"$CORPUS"/}
			# (t_tmpdir runs in a subshell here: its counter would not move)
			k=$((k + 1))
			d=$T_TMP/corpus.$k
			mkdir -p "$d"
			"$BIN" map new --input "$f" --output "$d/m.yaml" >"$d/out" 2>"$d/err"
			rc=$?
			if [ "$rc" = 78 ] && why=$(by_nature "$rel"); then
				# the refusal itself says why, not only that
				if grep -q 'could be read, so there is nothing' "$d/err"; then
					bad=$((bad + 1))
					fail "corpus $rel: refused without the reader's reason: $(head -1 "$d/err")"
					continue
				fi
				nat=$((nat + 1))
				pass "corpus $rel: refused ($why): $(head -c 300 "$d/err" | head -1)"
				continue
			fi
			if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
				bad=$((bad + 1))
				fail "corpus $rel: map new exit $rc: $(head -c 400 "$d/err" | head -2 | tr '\n' ' ')"
				continue
			fi
			if ! "$BIN" map check "$d/m.yaml" >"$d/chk" 2>&1; then
				bad=$((bad + 1))
				fail "corpus $rel: map check: $(head -1 "$d/chk")"
				continue
			fi
			"$BIN" map try --mapping "$d/m.yaml" --input "$f" >"$d/try" 2>"$d/tryerr"
			n=$(records "$d/try")
			if ! t_san_clean "$d/err" "$d/tryerr"; then
				bad=$((bad + 1))
				fail "corpus $rel: sanitizer report"
			elif [ "$n" -ge 1 ]; then
				ok=$((ok + 1))
				pass "corpus $rel: $(grep -o 'kind: [a-z]*' "$d/m.yaml" | head -1), $n record(s)"
			else
				bad=$((bad + 1))
				fail "corpus $rel: map try makes no record: $(tail -1 "$d/tryerr")"
			fi
		done < <(find "$CORPUS/$fmt" -type f | LC_ALL=C sort)
		summary="$summary $fmt: $ok mapped, $nat refused by nature, $bad failed;"
	done
	echo "corpus:$summary"
fi

t_done

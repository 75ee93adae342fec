#!/bin/sh
# bench.sh - throughput and peak memory of every stage of stockpipe, and
# of the whole pipeline, against references measured in the same run
# (`make bench`; not part of `make test`).
#
#   tests/bench/bench.sh BINARY
#
#   BENCH_SIZES="10M 100M"   input sizes (default; add 1G on request)
#   BENCH_FORMATS="csv x12-852 x12-846 edifact ubl"
#   BENCH_CALLGRIND=1        instruction counts of the map stage (and of
#                            the EDI reader alone) on the smallest size
#                            (0 skips; needs valgrind)
#   BENCH_RUN=1              whole-pipeline runs (load, render) for csv/ubl
#   BENCH_DIR=DIR            scratch space (default a temp dir, removed
#                            unless BENCH_KEEP=1); generated inputs, the
#                            npm packages and state stores live there,
#                            never in the repository
#
# For every size and format, tests/bench/gen_bench.c writes one
# deterministic input, the page cache is warmed, then each step is timed
# with GNU time (wall seconds, peak RSS):
#   cat         cat FILE > /dev/null                    (hardware: I/O floor)
#   memchr      read() + memchr for the terminator      (hardware: scan floor)
#   node-x12, x12-parser, edifact   npm parsers streaming the file (X12, EDIFACT)
#   python-csv  Python's csv module counting rows       (CSV)
#   xmllint     xmllint --stream --noout                (XML)
#   tokenize    stockpipe's EDI reader alone (edi_tok_bench --reader-only)
#   map         stockpipe map try (the whole map stage, records to /dev/null)
#               with the shipped mapping for that input (EDI lookups keep
#               unknown partner codes, see write_config)
#   run         stockpipe run on a fresh state: fetch..deliver (CSV, XML)
#   load        the run's load stage (duration from the run report)
#   render      the run's render stage; records/s = positions rendered
#   sqlite-ins  SQLite's own insert rate for the same number of stock
#               events: one prepared INSERT, one transaction (bench_ref.c)
# and prints ONE table. Columns "vs floor" and "vs tools" are ratios of
# this row's MB/s (records/s for load) to the references of the same
# file in the same run: memchr for tokenize/map/run, SQLite's insert for
# load, and the fastest other tool on that file. The machine is shared:
# wall times are noisy, the callgrind instruction counts are not.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY" >&2
	exit 64
fi
case $1 in
/*) BIN=$1 ;;
*) BIN=$(pwd)/$1 ;;
esac
SIZES=${BENCH_SIZES:-10M 100M}
FORMATS=${BENCH_FORMATS:-csv x12-852 x12-846 edifact ubl}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TIME=/usr/bin/time
if ! "$TIME" -f '%e %M' true >/dev/null 2>&1; then
	echo "bench: GNU time is needed at $TIME (apt-get install time)" >&2
	exit 69
fi
[ -x "$BIN" ] || { echo "bench: no binary at $BIN" >&2; exit 66; }
W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sp-bench.XXXXXX")}
mkdir -p "$W"
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT
LIBS=$(pkg-config --libs libarchive libxml-2.0 libssh2 sqlite3 libpq yaml-0.1 \
	libcrypto 2>/dev/null)
# The objects of today's sources only (a stale .o of a moved file would
# clash with its new home).
objs=$(cd "$SRC" && find lib transforms connectors pipeline -name '*.c' \
	! -name main.c | sort | sed "s|^\(.*\)\.c\$|$SRC/build/\1.o|")
CCW="cc -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -O2 -D_GNU_SOURCE -I$SRC"
$CCW -o "$W/gen" "$SRC/tests/bench/gen_bench.c" || exit 70
$CCW -o "$W/ref" "$SRC/tests/bench/bench_ref.c" -lsqlite3 || exit 70
# shellcheck disable=SC2086 # word lists by design
$CCW -o "$W/tok" "$SRC/tests/bench/edi_tok_bench.c" $objs $LIBS -lcsv -pthread ||
	exit 70
NOTES=$W/notes
: >"$NOTES"
note() { echo "$*" >>"$NOTES"; }

# The npm parsers, installed once into the scratch folder.
NPM_OK=0
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	if npm install --prefix "$W/npm" --no-audit --no-fund --silent \
		node-x12 x12-parser edifact >"$W/npm.log" 2>&1; then
		NPM_OK=1
	else
		note "npm parsers skipped: npm install failed (see $W/npm.log)"
	fi
else
	note "npm parsers skipped: node/npm not installed"
fi

# The pipeline configuration: the repository's mappings, a stores lookup
# for the generator's store codes F001..F999, one source per format that
# the pipeline runs here (csv, xml) and the webshop target.
write_config() {
	d=$1
	mkdir -p "$d/drop/stores" "$d/drop/ubl" "$d/out/webshop" "$d/mappings"
	cp -R "$SRC/mappings/." "$d/mappings/"
	# The generator's partner item codes and store ids are not in the
	# sample cross-references (edi_items.csv, edi_locations.csv): the
	# bench copies of the EDI mappings keep an unknown code as it is
	# (missing: keep) instead of rejecting the line, so every stock line
	# becomes a record and each lookup still probes its table. Tables
	# that grew with the input would make the RSS column meaningless.
	for f in "$d"/mappings/edi/*.yaml; do
		sed 's/\(value: *[a-z_]*\) *}/\1, missing: keep }/' "$f" >"$f.tmp" &&
			mv "$f.tmp" "$f"
	done
	awk 'BEGIN { print "store_code,location_id,name";
		for (i = 1; i <= 999; i++)
			printf "F%03d,STORE-%03d,Bench store %d\n", i, i, i }' \
		>"$d/mappings/lookups/stores.csv"
	cat >"$d/stockpipe.yaml" <<'YAML'
state_dir: ./state
sources:
  - name: stores
    path: drop/stores
    pattern: "*"
    mapping: mappings/stores/store_stock_csv.yaml
  - name: ubl
    path: drop/ubl
    pattern: "*"
    mapping: mappings/xml/ubl_inventory_report.yaml
targets:
  - name: webshop
    path: out/webshop
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.csv"
YAML
}

# The inbound mapping for FORMAT (the shipped one whose input the
# generator writes), or nothing when it is not in mappings/.
mapping_for() {
	case $1 in
	csv) m=stores/store_stock_csv.yaml ;;
	ubl) m=xml/ubl_inventory_report.yaml ;;
	x12-852) m=edi/x12_852_activity.yaml ;;
	x12-846) m=edi/x12_846_inventory.yaml ;;
	edifact) m=edi/edifact_invrpt.yaml ;;
	*) return ;;
	esac
	[ -f "$W/cfg/mappings/$m" ] && echo "$W/cfg/mappings/$m"
}

TABLE=$W/table
: >"$TABLE"
# row SIZE INPUT STEP BYTES RECORDS SECONDS RSS_KB RC : one raw table row
# (ratios are added at print time, once every reference is known).
row() {
	echo "$1 $2 $3 $4 $5 $6 $7 $8" >>"$TABLE"
}

# measure SIZE INPUT STEP BYTES RECORDS CMD... : times CMD; RECORDS "-"
# takes the count from the command's "records N" line.
measure() {
	_sz=$1 _in=$2 _step=$3 _bytes=$4 _recs=$5
	shift 5
	_f=$W/log.$_sz.$_in.$_step
	# Wall time from date +%s%N (GNU time's %e has 10 ms steps, too
	# coarse for the references on 10 MB); peak RSS from GNU time.
	_t0=$(date +%s%N)
	"$TIME" -o "$W/time.txt" -f '%e %M' "$@" >"$_f.out" 2>"$_f.err" \
		</dev/null
	_rc=$?
	_t1=$(date +%s%N)
	# shellcheck disable=SC2046 # two numbers: seconds and KiB
	set -- $(tail -n 1 "$W/time.txt")
	set -- "$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" "$2"
	if [ "$_recs" = - ]; then
		_recs=$(sed -n 's/^records \([0-9]*\)$/\1/p' "$_f.out" | tail -n 1)
		[ -n "$_recs" ] || _recs=0
	fi
	row "$_sz" "$_in" "$_step" "$_bytes" "$_recs" "$1" "$2" "$_rc"
	if [ "$_rc" -gt 1 ]; then
		note "$_sz $_in $_step exited $_rc: $(tail -n 2 "$_f.err" | tr '\n' ' ')"
	fi
}

rm -rf "$W/cfg"
write_config "$W/cfg"
CG=$W/callgrind
: >"$CG"
first_size=$(echo "$SIZES" | awk '{ print $1 }')
for sz in $SIZES; do
	for fmt in $FORMATS; do
		in=$W/in.$fmt.$sz
		"$W/gen" "$fmt" "$sz" 42 >"$in" 2>"$in.meta" || exit 70
		recs=$(sed -n 's/^records //p' "$in.meta")
		bytes=$(wc -c <"$in")
		cat "$in" >/dev/null # warm the page cache: measure CPU, not disk
		case $fmt in
		csv) term=nl ;; x12-*) term='~' ;; edifact) term="'" ;;
		ubl) term='>' ;;
		esac
		# shellcheck disable=SC2016 # $1 is for the inner sh
		measure "$sz" "$fmt" cat "$bytes" "$recs" \
			sh -c 'cat "$1" >/dev/null' sh "$in"
		measure "$sz" "$fmt" memchr "$bytes" - "$W/ref" scan "$in" "$term"
		case $fmt in
		csv)
			command -v python3 >/dev/null 2>&1 &&
				measure "$sz" "$fmt" python-csv "$bytes" - \
					python3 -c '
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    n = sum(1 for _ in csv.reader(f)) - 1
print("records", n)' "$in" ;;
		x12-*)
			if [ $NPM_OK = 1 ]; then
				for p in node-x12 x12-parser; do
					measure "$sz" "$fmt" "$p" "$bytes" "$recs" \
						env NODE_PATH="$W/npm/node_modules" node \
						"$SRC/tests/bench/npm_parse.js" "$p" "$in"
				done
			fi ;;
		edifact)
			[ $NPM_OK = 1 ] && measure "$sz" "$fmt" edifact \
				"$bytes" "$recs" env NODE_PATH="$W/npm/node_modules" node \
				"$SRC/tests/bench/npm_parse.js" edifact "$in" ;;
		ubl)
			command -v xmllint >/dev/null 2>&1 &&
				measure "$sz" "$fmt" xmllint "$bytes" "$recs" \
					xmllint --stream --noout "$in" ;;
		esac
		case $fmt in
		x12-*) measure "$sz" "$fmt" tokenize "$bytes" "$recs" \
			"$W/tok" x12 "$in" --reader-only ;;
		edifact) measure "$sz" "$fmt" tokenize "$bytes" "$recs" \
			"$W/tok" edifact "$in" --reader-only ;;
		esac
		m=$(mapping_for "$fmt")
		if [ -n "$m" ]; then
			# shellcheck disable=SC2016
			measure "$sz" "$fmt" map "$bytes" "$recs" sh -c \
				'"$1" map try --mapping "$2" --input "$3" >/dev/null' \
				sh "$BIN" "$m" "$in"
			grep -q ' 0 reject(s)' "$W/log.$sz.$fmt.map.err" ||
				note "$sz $fmt map: rejects ($(tail -n 1 "$W/log.$sz.$fmt.map.err"))"
		else
			note "$sz $fmt map: no mapping for this input in mappings/"
		fi
		# Instruction counts of the reader alone and of the map stage.
		if [ "${BENCH_CALLGRIND:-1}" = 1 ] && [ "$sz" = "$first_size" ] &&
			command -v valgrind >/dev/null 2>&1; then
			case $fmt in
			x12-* | edifact)
				valgrind --tool=callgrind --callgrind-out-file=/dev/null \
					"$W/tok" "${fmt%%-*}" "$in" --reader-only \
					>/dev/null 2>"$W/cg.err"
				ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/cg.err")
				echo "$sz $fmt tokenize ${ir:-0} $recs $bytes" >>"$CG" ;;
			esac
			if [ -n "$m" ]; then
				valgrind --tool=callgrind --callgrind-out-file=/dev/null \
					"$BIN" map try --mapping "$m" --input "$in" \
					>/dev/null 2>"$W/cg.err"
				ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/cg.err")
				echo "$sz $fmt map ${ir:-0} $recs $bytes" >>"$CG"
			fi
		fi
		# The whole pipeline, on a fresh state with only this input.
		if [ "${BENCH_RUN:-1}" = 1 ] && { [ $fmt = csv ] || [ $fmt = ubl ]; }; then
			d=$W/run
			rm -rf "$d"
			mkdir -p "$d"
			cp -R "$W/cfg/." "$d/"
			case $fmt in
			# A hard link, not a copy (1G inputs); the fetch stage
			# refuses symlinks.
			csv) ln "$in" "$d/drop/stores/stock_$sz.csv" 2>/dev/null ||
				cp "$in" "$d/drop/stores/stock_$sz.csv" ;;
			ubl) ln "$in" "$d/drop/ubl/report_$sz.xml" 2>/dev/null ||
				cp "$in" "$d/drop/ubl/report_$sz.xml" ;;
			esac
			measure "$sz" "$fmt" run "$bytes" "$recs" env \
				STOCKPIPE_STATE_DIR="$d/state" "$BIN" -c \
				"$d/stockpipe.yaml" run
			rss=$(tail -n 1 "$W/time.txt" | awk '{ print $2 }')
			python3 - "$d/state" "$sz" "$fmt" "$bytes" "$rss" >>"$TABLE" <<'PY'
import glob, json, sqlite3, sys
state, sz, fmt, nbytes, rss = sys.argv[1:]
rep = json.load(open(sorted(glob.glob(state + "/reports/run-*.json"))[-1]))
st = rep["stages"]
npos = sqlite3.connect(state + "/state.db").execute(
    "select count(*) from positions").fetchone()[0]
ld, rd = st["load"], st["render"]
print(sz, fmt, "load", nbytes, ld["records_in"],
      max(ld["duration_ms"], 1) / 1000, rss, 0)
print(sz, fmt, "render", 0, npos, max(rd["duration_ms"], 1) / 1000, rss, 0)
PY
			if [ $fmt = csv ]; then
				measure "$sz" "$fmt" sqlite-ins 0 "$recs" \
					"$W/ref" sqlite "$W/ref.db" "$recs"
				rm -f "$W/ref.db" "$W/ref.db-wal" "$W/ref.db-shm"
			fi
			rm -rf "$d"
		fi
		rm -f "$in"
	done
done

echo
awk '
function ratio(v, r) { return r > 0 ? sprintf("%.2fx", v / r) : "-" }
{
	sz = $1; in_ = $2; step = $3; b = $4; n = $5; t = $6; m = $7; rc = $8
	if (t < 0.0005) t = 0.0005
	key = sz " " in_
	mbs = b / 1048576 / t; rps = n / t
	i = ++nrow; S[i] = sz; I[i] = in_; P[i] = step; B[i] = b
	MBS[i] = mbs; RPS[i] = rps; T[i] = t; M[i] = m / 1024; RC[i] = rc
	if (step == "memchr") MEMCHR[key] = mbs
	if (step == "sqlite-ins") SQL[sz] = rps
	if (step == "node-x12" || step == "x12-parser" || step == "edifact" ||
	    step == "python-csv" || step == "xmllint") {
		if (rc <= 1 && mbs > TOOL[key]) { TOOL[key] = mbs; TOOLN[key] = step }
	}
}
END {
	printf "%-5s %-8s %-10s %8s %7s %8s %10s %7s  %-16s %s\n", "size",
	    "input", "step", "MB", "sec", "MB/s", "records/s", "RSS_MB",
	    "vs floor", "vs tools"
	for (i = 1; i <= nrow; i++) {
		key = S[i] " " I[i]; fl = "-"; tl = "-"
		if (P[i] == "tokenize" || P[i] == "map" || P[i] == "run" ||
		    P[i] == "cat" || P[i] ~ /^(node-x12|x12-parser|edifact|python-csv|xmllint)$/)
			fl = ratio(MBS[i], MEMCHR[key]) " memchr"
		if (P[i] == "tokenize" || P[i] == "map" || P[i] == "run")
			if (TOOL[key] > 0) tl = ratio(MBS[i], TOOL[key]) " " TOOLN[key]
		if (P[i] == "load") fl = ratio(RPS[i], SQL[S[i]]) " sqlite-ins"
		mb = B[i] > 0 ? sprintf("%8.1f", B[i] / 1048576) : sprintf("%8s", "-")
		mbs = B[i] > 0 && P[i] != "load" ? sprintf("%8.1f", MBS[i]) : sprintf("%8s", "-")
		printf "%-5s %-8s %-10s %s %7.2f %s %10.0f %7.1f  %-16s %s%s\n",
		    S[i], I[i], P[i], mb, T[i], mbs, RPS[i], M[i], fl, tl,
		    (RC[i] > 1 ? "  FAILED(" RC[i] ")" : "")
	}
}' "$TABLE"
if [ -s "$CG" ]; then
	echo
	echo "callgrind, EDI reader alone (tokenize) and map stage, size $first_size:"
	awk '{ printf "  %-8s %-9s %14.0f instructions  %7.0f per record  %6.1f per byte\n",
		$2, $3, $4, $5 ? $4 / $5 : 0, $6 ? $4 / $6 : 0 }' "$CG"
fi
if [ -s "$NOTES" ]; then
	echo
	sed 's/^/note: /' "$NOTES"
fi
echo
echo "(load and render rows come from the run's report; their RSS is the run's."
echo " The machine is shared: repeat for stable wall times.)"

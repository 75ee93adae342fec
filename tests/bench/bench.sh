#!/bin/sh
# bench.sh - throughput and peak memory of every stage of stockpipe, and
# of the whole pipeline, against references measured in the same run
# (`make bench`; not part of `make test`).
#
#   tests/bench/bench.sh BINARY
#
#   BENCH_SIZES="10M 100M"   input sizes (default; add 1G on request)
#   BENCH_FORMATS="csv x12-852 x12-846 edifact ubl"
#   BENCH_CALLGRIND=0        1: instruction counts of the map stage (and of
#                            the EDI reader alone) on the smallest size
#                            (0 skips; needs valgrind)
#   BENCH_RUN=1              whole-pipeline runs (load, render) of every
#                            format, to three targets
#   BENCH_PG=1               the same runs on a PostgreSQL server started
#                            here (tests/e2e/lib/pg.sh, fsync on) at the
#                            sizes of BENCH_PG_SIZES (default the first
#                            size); 0, or no server, prints why skipped
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
#   run         stockpipe run on a fresh state with only this file:
#               fetch..deliver to three targets (webshop CSV, marketplace
#               JSONL, marketplace XML)
#   load        the run's load stage (duration from the run report)
#   render      the run's render stage; records/s = positions rendered
#   state       the state folder after the run (MB column: its size,
#               each file once: hard links count once, as du has it)
#   state-gc    the same after `stockpipe gc` with retention {runs: 1,
#               age: 1s}, the gc a run ends with (the target's measure)
#   sqlite-ups  SQLite's own upsert rate for as many rows as the load had:
#               one prepared INSERT ... ON CONFLICT on a primary key, WAL,
#               one transaction (bench_ref.c upsert)
#   run-pg, load-pg  the run and its load on PostgreSQL (BENCH_PG)
# and prints ONE table. Columns "vs floor" and "vs tools" are ratios of
# this row's MB/s (records/s for load) to the references of the same
# file in the same run: memchr for tokenize/map/run, SQLite's upsert for
# load, and the fastest other tool on that file. Column "other": a run's
# time over the map stage's alone, a load's microseconds per record, the
# state folder over the input, a PostgreSQL run's speed over SQLite's.
# Then the issue 20 targets with the figure each got. The machine is
# shared: wall times are noisy, the callgrind instruction counts are not.
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
	libcrypto zlib 2>/dev/null)
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

# The pipeline's mappings: the repository's, a stores lookup for the
# generator's store codes F001..F999; run_config writes the configuration
# of one run.
write_config() {
	d=$1
	mkdir -p "$d/mappings"
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
}

# run_config DIR MAPPING [STATE_DB]: one source with the input's mapping,
# the three targets of a retailer's usual set (CSV, JSONL, XML).
run_config() {
	mkdir -p "$1/drop/in" "$1/out/webshop" "$1/out/market" \
		"$1/out/marketxml"
	{
		echo "state_dir: ./state"
		[ -n "${3:-}" ] && echo "state_db: $3" &&
			echo "state_db_password_env: $PG_PASSWORD_ENV"
		cat <<YAML
sources:
  - name: in
    path: drop/in
    pattern: "*"
    mapping: $2
targets:
  - name: webshop
    path: out/webshop
    mapping: $W/cfg/mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.csv"
  - name: market
    path: out/market
    mapping: $W/cfg/mappings/targets/marketplace_stock.yaml
    filename: "{target}_{run_id}.jsonl"
  - name: marketxml
    path: out/marketxml
    mapping: $W/cfg/mappings/targets/marketplace_stock_xml.yaml
    filename: "{target}_{run_id}.xml"
YAML
	} >"$1/stockpipe.yaml"
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

# whole_run SIZE FORMAT INPUT BYTES MAPPING STEP [STATE_DB]: stockpipe
# run on a fresh state with INPUT alone; rows STEP, its load (load or
# load-pg), render and, on SQLite, the state folder and SQLite's own
# upsert of as many rows as the load had (sqlite-ups).
whole_run() {
	_d=$W/run
	rm -rf "$_d"
	mkdir -p "$_d"
	run_config "$_d" "$5" "${7:-}"
	# A hard link, not a copy (1G inputs); the fetch stage refuses
	# symlinks.
	ln "$3" "$_d/drop/in/input.$2" 2>/dev/null ||
		cp "$3" "$_d/drop/in/input.$2"
	measure "$1" "$2" "$6" "$4" "$(sed -n 's/^records //p' "$3.meta")" \
		env STOCKPIPE_STATE_DIR="$_d/state" "$BIN" -c \
		"$_d/stockpipe.yaml" run
	_rss=$(tail -n 1 "$W/time.txt" | awk '{ print $2 }')
	_lrecs=$(python3 - "$_d/state" "$1" "$2" "$4" "$_rss" "$6" \
		"$TABLE" <<'PY'
import glob, json, os, sys
state, sz, fmt, nbytes, rss, step, table = sys.argv[1:]
reps = sorted(glob.glob(state + "/reports/run-*.json"))
if not reps:
    print(0)
    sys.exit(0)
st = json.load(open(reps[-1]))["stages"]
ld, rd = st.get("load", {}), st.get("render", {})
pg = step == "run-pg"
# Each file once: gc links identical pictures, and a hard link takes no
# more disk (du's rule).
size, seen = 0, set()
for root, dirs, files in os.walk(state):
    for f in files:
        try:
            st = os.lstat(os.path.join(root, f))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            size += st.st_size
with open(table, "a") as t:
    t.write("%s %s %s %s %d %.3f %s 0\n" % (sz, fmt,
        "load-pg" if pg else "load", nbytes, ld.get("records_in", 0),
        max(ld.get("duration_ms", 0), 1) / 1000, rss))
    t.write("%s %s %s 0 %d %.3f %s 0\n" % (sz, fmt,
        "render-pg" if pg else "render", rd.get("records_out", 0),
        max(rd.get("duration_ms", 0), 1) / 1000, rss))
    if not pg:
        t.write("%s %s state %d 0 0 0 0\n" % (sz, fmt, size))
print(ld.get("records_in", 0))
PY
)
	# The state folder after the run's gc, the target's own measure:
	# `retention: {runs: 1, age: 1s}` added, then `stockpipe gc` (the gc a
	# run ends with; the run above had none, so its own row is before it).
	if [ "$6" = run ]; then
		printf 'retention:\n  runs: 1\n  age: 1s\n' >>"$_d/stockpipe.yaml"
		if env STOCKPIPE_STATE_DIR="$_d/state" "$BIN" -q -c \
			"$_d/stockpipe.yaml" gc >/dev/null 2>"$W/gc.err"; then
			# each file once (gc links identical pictures)
			_gsz=$(find "$_d/state" -type f -printf '%D:%i %s\n' |
				awk '!seen[$1]++ { s += $2 } END { printf "%d", s }')
			echo "$1 $2 state-gc $_gsz 0 0 0 0" >>"$TABLE"
		else
			echo "bench: gc of the $1 $2 state failed: $(head -c 300 "$W/gc.err")" >&2
		fi
	fi
	if [ "$6" = run ] && [ "${_lrecs:-0}" -gt 0 ]; then
		measure "$1" "$2" sqlite-ups 0 "$_lrecs" \
			"$W/ref" upsert "$W/ref.db" "$_lrecs"
		rm -f "$W/ref.db" "$W/ref.db-wal" "$W/ref.db-shm"
	fi
	rm -rf "$_d"
}

# PostgreSQL, when a server can be started here: the test suite's
# private server (tests/e2e/lib/pg.sh), with fsync on like production.
PG_OK=0
PG_SIZES=${BENCH_PG_SIZES:-$(echo "$SIZES" | awk '{ print $1 }')}
PG_PASSWORD_ENV=
if [ "${BENCH_PG:-1}" != 1 ]; then
	note "PostgreSQL rows skipped: BENCH_PG=${BENCH_PG:-}"
elif [ ! -f "$SRC/tests/e2e/lib/pg.sh" ]; then
	note "PostgreSQL rows skipped: no tests/e2e/lib/pg.sh"
else
	# shellcheck source=../e2e/lib/pg.sh
	. "$SRC/tests/e2e/lib/pg.sh"
	if pg_start "$W/pg" >"$W/pg.log" 2>&1; then
		PG_OK=1
		trap 'pg_stop; [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
		# What a production server has: fsync, synchronous commit and
		# full-page writes on, and PostgreSQL's default 128 MB of
		# shared buffers (the test cluster's 16 MB cannot hold a 10 MB
		# input's positions, events and their indexes: every insert
		# evicts a dirty page). A restart applies shared_buffers.
		for set in "fsync = on" "synchronous_commit = on" \
			"full_page_writes = on" "shared_buffers = '128MB'"; do
			pg_psql postgres "ALTER SYSTEM SET $set" >/dev/null ||
				note "PostgreSQL: cannot set $set"
		done
		_pg_as "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -l "$PG_LOG" -w -t 60 \
			restart >>"$W/pg.log" 2>&1 ||
			note "PostgreSQL: restart failed (see $W/pg.log)"
		PG_PID=$(head -n 1 "$PG_HOME/data/postmaster.pid" 2>/dev/null)
	else
		note "PostgreSQL rows skipped: ${PG_WHY:-the server did not start} (see $W/pg.log)"
	fi
fi

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
		if [ "${BENCH_CALLGRIND:-0}" = 1 ] && [ "$sz" = "$first_size" ] &&
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
		if [ "${BENCH_RUN:-1}" = 1 ] && [ -n "$m" ]; then
			whole_run "$sz" "$fmt" "$in" "$bytes" "$m" run
			if [ $PG_OK = 1 ] && case " $PG_SIZES " in
				*" $sz "*) true ;; *) false ;; esac; then
				n=$((n_pg = ${n_pg:-0} + 1))
				url=$(pg_newdb "bench_$n") &&
					whole_run "$sz" "$fmt" "$in" "$bytes" "$m" \
						run-pg "$url"
			fi
		fi
		rm -f "$in"
	done
done

echo
awk '
function ratio(v, r) { return r > 0 ? sprintf("%.2fx", v / r) : "-" }
function yes(c) { return c ? "yes" : "NO" }
{
	sz = $1; in_ = $2; step = $3; b = $4; n = $5; t = $6; m = $7; rc = $8
	if (t < 0.0005) t = 0.0005
	key = sz " " in_
	mbs = b / 1048576 / t; rps = n / t
	i = ++nrow; S[i] = sz; I[i] = in_; P[i] = step; B[i] = b; N[i] = n
	MBS[i] = mbs; RPS[i] = rps; T[i] = t; M[i] = m / 1024; RC[i] = rc
	if (step == "memchr") MEMCHR[key] = mbs
	if (step == "sqlite-ups") UPS[key] = rps
	if (step == "map") MAPT[key] = t
	if (step == "run") { RUNT[key] = t; INB[key] = b }
	if (step == "load") LUS[key] = t * 1e6 / (n > 0 ? n : 1)
	if (step ~ /^(node-x12|x12-parser|edifact|python-csv|xmllint)$/) {
		if (rc <= 1 && mbs > TOOL[key]) { TOOL[key] = mbs; TOOLN[key] = step }
	}
	if (!(sz in SEEN)) { SEEN[sz] = 1; SZ[++nsz] = sz }
	if (!(in_ in SEENF)) { SEENF[in_] = 1; FMT[++nfmt] = in_ }
	if (m / 1024 > RSSMAX && step !~ /^(node-x12|x12-parser|edifact|python-csv|xmllint)$/) {
		RSSMAX = m / 1024; RSSAT = sz " " in_ " " step
	}
	if (rc > 1) FAILED = FAILED " " sz "/" in_ "/" step
}
END {
	printf "%-5s %-8s %-10s %8s %7s %8s %10s %7s  %-16s %-20s %s\n", "size",
	    "input", "step", "MB", "sec", "MB/s", "records/s", "RSS_MB",
	    "vs floor", "vs tools", "other"
	for (i = 1; i <= nrow; i++) {
		key = S[i] " " I[i]; fl = "-"; tl = "-"; ot = ""
		if (P[i] == "tokenize" || P[i] == "map" || P[i] == "run" ||
		    P[i] == "cat" || P[i] ~ /^(node-x12|x12-parser|edifact|python-csv|xmllint)$/)
			fl = ratio(MBS[i], MEMCHR[key]) " memchr"
		if (P[i] == "tokenize" || P[i] == "map" || P[i] == "run")
			if (TOOL[key] > 0) tl = ratio(MBS[i], TOOL[key]) " " TOOLN[key]
		if (P[i] == "run" && MAPT[key] > 0)
			ot = sprintf("%.1fx map time", T[i] / MAPT[key])
		if (P[i] == "load" || P[i] == "load-pg") {
			fl = ratio(RPS[i], UPS[key]) " sqlite-ups"
			ot = sprintf("%.2f us/record", T[i] * 1e6 / (N[i] > 0 ? N[i] : 1))
		}
		if (P[i] == "run-pg" && RUNT[key] > 0)
			ot = sprintf("%.2fx sqlite run speed", RUNT[key] / T[i])
		if (P[i] ~ /^state/ && INB[key] > 0)
			ot = sprintf("%.2fx input", B[i] / INB[key])
		mb = B[i] > 0 ? sprintf("%8.1f", B[i] / 1048576) : sprintf("%8s", "-")
		mbs = B[i] > 0 && P[i] !~ /^(load|load-pg|state|state-gc)$/ ? sprintf("%8.1f", MBS[i]) : sprintf("%8s", "-")
		if (P[i] ~ /^state/)
			printf "%-5s %-8s %-10s %s %7s %8s %10s %7s  %-16s %-20s %s\n",
			    S[i], I[i], P[i], mb, "-", "-", "-", "-", "-", "-", ot
		else
			printf "%-5s %-8s %-10s %s %7.2f %s %10.0f %7.1f  %-16s %-20s %s%s\n",
			    S[i], I[i], P[i], mb, T[i], mbs, RPS[i], M[i], fl, tl, ot,
			    (RC[i] > 1 ? "  FAILED(" RC[i] ")" : "")
		if (P[i] == "load" && UPS[key] > 0) {
			r = RPS[i] / UPS[key]
			if (!(key in LR)) { LR[key] = r }
		}
		if (P[i] == "state" && INB[key] > 0) ST[key] = B[i] / INB[key]
		if (P[i] == "state-gc" && INB[key] > 0) STG[key] = B[i] / INB[key]
		if (P[i] == "run-pg" && RUNT[key] > 0) PGR[key] = RUNT[key] / T[i]
	}
	# The issue 20 targets, each with the figure this run got.
	print ""
	print "issue 20 targets (this run):"
	for (f = 1; f <= nfmt; f++) {
		fm = FMT[f]
		for (z = 1; z <= nsz; z++) {
			key = SZ[z] " " fm
			if (key in LR)
				printf "  load >= 0.7x sqlite-ups       %-5s %-8s %5.2fx  %s\n",
				    SZ[z], fm, LR[key], yes(LR[key] >= 0.7)
		}
		if (nsz > 1 && (SZ[1] " " fm) in LUS && (SZ[nsz] " " fm) in LUS) {
			a = LUS[SZ[1] " " fm]; c = LUS[SZ[nsz] " " fm]
			printf "  us/record flat (+-15%%)        %-5s %-8s %5.2f -> %.2f us (%+.0f%%)  %s\n",
			    SZ[1] "-" SZ[nsz], fm, a, c, (c / a - 1) * 100,
			    yes(c <= a * 1.15 && c >= a * 0.85)
		}
		key = "100M " fm
		if (key in RUNT) {
			lim = (fm ~ /^(x12|edifact)/) ? 4 : 6
			printf "  run 100M <= %d s               100M  %-8s %5.2f s  %s\n",
			    lim, fm, RUNT[key], yes(RUNT[key] <= lim)
			if (MAPT[key] > 0)
				printf "  run ~4.5x map alone           100M  %-8s %5.1fx\n",
				    fm, RUNT[key] / MAPT[key]
		}
		for (z = 1; z <= nsz; z++) {
			key = SZ[z] " " fm
			if (key in ST)
				printf "  state before gc (no target)   %-5s %-8s %5.2fx\n",
				    SZ[z], fm, ST[key]
			if (key in STG)
				printf "  state <= 2x input after gc    %-5s %-8s %5.2fx  %s\n",
				    SZ[z], fm, STG[key], yes(STG[key] <= 2)
			if (key in PGR)
				printf "  postgres run >= 0.7x sqlite   %-5s %-8s %5.2fx  %s\n",
				    SZ[z], fm, PGR[key], yes(PGR[key] >= 0.7)
		}
		for (z = 1; z <= nsz; z++) {
			key = SZ[z] " " fm
			for (i = 1; i <= nrow; i++)
				if (S[i] == SZ[z] && I[i] == fm && P[i] == "map" && TOOL[key] > 0 &&
				    (fm == "csv" || fm == "ubl"))
					printf "  map >= 1.0x fastest peer      %-5s %-8s %5.2fx %s  %s\n",
					    SZ[z], fm, MBS[i] / TOOL[key], TOOLN[key],
					    yes(MBS[i] >= TOOL[key])
		}
	}
	printf "  peak RSS < 64 MB              %.1f MB (%s)  %s\n", RSSMAX, RSSAT,
	    yes(RSSMAX < 64)
	if (FAILED != "") print "  FAILED steps:" FAILED
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

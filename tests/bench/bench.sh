#!/bin/sh
# bench.sh - throughput and peak memory of stockpipe on generated store
# stock CSV (`make bench`; not part of `make test`).
#
#   tests/bench/bench.sh BINARY [ROWS ...]      default ROWS: 100000 1000000
#
# For each size it generates one deterministic CSV (gen_stock_csv.c), then
# times, with GNU /usr/bin/time (wall seconds, peak RSS):
#   cat        cat FILE > /dev/null                    (I/O floor)
#   python-csv python3's csv module counting rows      (a common baseline)
#   map-try    stockpipe map try on the file            (the map stage alone)
#   run        stockpipe -c CONFIG run, fresh state     (fetch..deliver)
# and prints one table. Scratch space: $BENCH_DIR or a temp dir (removed
# unless BENCH_KEEP=1).
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY [ROWS ...]" >&2
	exit 64
fi
case $1 in
/*) BIN=$1 ;;
*) BIN=$(pwd)/$1 ;;
esac
shift
SIZES=${*:-100000 1000000}
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
cc -std=c11 -O2 -o "$W/gen" "$SRC/tests/bench/gen_stock_csv.c" || exit 70

# ---------------------------------------------------------------------------
# ADJUST HERE: the pipeline configuration and mappings used by the bench.
# write_config DIR : DIR gets stockpipe.yaml, mappings/ and drop/stores/ (the
# CSV is written into drop/stores afterwards). MAP_TRY_ARGS is what follows
# `stockpipe` for the map-stage-only measurement; %F is replaced by the CSV.
# ---------------------------------------------------------------------------
MAP_TRY_ARGS='map try --mapping %M --input %F'
write_config() {
	d=$1
	mkdir -p "$d/drop/stores" "$d/out/webshop" "$d/mappings"
	# The repository's mappings, laid out so both the config below and
	# any relative lookup references inside the mappings resolve.
	if [ -d "$SRC/mappings" ]; then
		cp -R "$SRC/mappings/." "$d/mappings/"
		[ -d "$SRC/mappings/lookups" ] && cp -R "$SRC/mappings/lookups" "$d/"
	fi
	[ -f "$SRC/mappings/stores/store_stock_csv.yaml" ] &&
		cp "$SRC/mappings/stores/store_stock_csv.yaml" "$d/mappings/"
	[ -f "$SRC/mappings/targets/webshop_stock.yaml" ] &&
		cp "$SRC/mappings/targets/webshop_stock.yaml" "$d/mappings/"
	MAPPING=$d/mappings/store_stock_csv.yaml
	# The generator's store codes F001..F999, for the mapping's stores
	# lookup (../lookups/stores.csv from either mapping location).
	mkdir -p "$d/lookups" "$d/mappings/lookups"
	awk 'BEGIN { print "store_code,location_id,name";
		for (i = 1; i <= 999; i++)
			printf "F%03d,STORE-%03d,Bench store %d\n", i, i, i }' \
		>"$d/lookups/stores.csv"
	cp "$d/lookups/stores.csv" "$d/mappings/lookups/stores.csv"
	cat >"$d/stockpipe.yaml" <<'YAML'
state_dir: ./state            # overridable with --state-dir or $STOCKPIPE_STATE_DIR
sources:
  - name: stores
    path: drop/stores         # a folder, relative to the config file (or url: file:///abs)
    pattern: "*.csv"
    mapping: mappings/store_stock_csv.yaml
targets:
  - name: webshop
    path: out/webshop
    mapping: mappings/webshop_stock.yaml     # outbound mapping
    filename: "{target}_{run_id}.csv"
YAML
}
# ---------------------------------------------------------------------------

# measure LABEL ROWS BYTES CMD... : one table row. The command's own output
# goes to $W/LABEL.out/.err; exit codes 0 and 1 (done with rejects) count
# as success.
measure() {
	label=$1 rows=$2 bytes=$3
	shift 3
	f=$W/$(echo "$label" | tr / _)
	"$TIME" -o "$W/time.txt" -f '%e %M' "$@" >"$f.out" 2>"$f.err" \
		</dev/null
	rc=$?
	# shellcheck disable=SC2046 # two numbers: seconds and KiB
	set -- $(tail -n 1 "$W/time.txt")
	awk -v l="$label" -v r="$rows" -v b="$bytes" -v t="$1" -v m="$2" \
		-v rc="$rc" 'BEGIN {
		if (t < 0.005) t = 0.005;
		printf "%-22s %9d %8.1f %8.2f %9.1f %11.0f %9.1f %4d\n",
			l, r, b / 1048576, t, b / 1048576 / t, r / t,
			m / 1024, rc }' >>"$W/table"
	if [ "$rc" -gt 1 ]; then
		echo "bench: $label exited $rc:" >&2
		tail -n 5 "$f.err" | sed 's/^/  /' >&2
	fi
}

: >"$W/table"
for n in $SIZES; do
	d=$W/n$n
	rm -rf "$d"
	write_config "$d"
	csv=$d/drop/stores/store_stock_$n.csv
	"$W/gen" "$n" 42 >"$csv" || exit 70
	bytes=$(wc -c <"$csv")
	sync
	cat "$csv" >/dev/null # warm the page cache: measure CPU, not disk
	# shellcheck disable=SC2016 # $1 is for the inner sh
	measure "cat/$n" "$n" "$bytes" sh -c 'cat "$1" >/dev/null' sh "$csv"
	if command -v python3 >/dev/null 2>&1; then
		measure "python-csv/$n" "$n" "$bytes" python3 -c '
import csv, sys
with open(sys.argv[1], newline="") as f:
    n = sum(1 for _ in csv.reader(f)) - 1
print(n)' "$csv"
	fi
	args=$(echo "$MAP_TRY_ARGS" | sed "s|%F|$csv|; s|%M|$MAPPING|")
	# The canonical records go to /dev/null (they are ~4x the input);
	# rejects on stderr are kept.
	# shellcheck disable=SC2086,SC2016 # args is a word list by design
	measure "map-try/$n" "$n" "$bytes" sh -c '"$@" >/dev/null' sh \
		"$BIN" -c "$d/stockpipe.yaml" $args
	measure "run/$n" "$n" "$bytes" env STOCKPIPE_STATE_DIR="$d/state" \
		"$BIN" -c "$d/stockpipe.yaml" run
done

echo
printf "%-22s %9s %8s %8s %9s %11s %9s %4s\n" what rows MB wall_s MB/s \
	records/s rss_MB exit
cat "$W/table"
echo
echo "(exit > 1 = the step failed; its output is in $W when BENCH_KEEP=1)"

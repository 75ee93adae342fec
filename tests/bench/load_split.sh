#!/bin/sh
# load_split.sh BINARY FORMAT SIZE... - the load stage alone, by CPU time
# (docs/performance.md, "w-ubl"; not part of `make test`).
#
# bench.sh's load row is the run report's wall time of the load, and its
# sqlite-ups row the wall time of bench_ref: on a shared machine both
# move with the other processes. This measures CPU instead and splits it
# into a fixed part per load and a part per record: for each SIZE,
# tests/bench/gen_bench.c writes the input, `stockpipe run --until map`
# maps it once on a fresh state, and then, LOAD_REPS times (default 3),
# a copy of that state is loaded with `run --until load`. Printed per
# size: records, the median CPU seconds (user+sys of the process, GNU
# time), the median wall seconds of the load stage (run report), the
# median CPU of bench_ref's upsert of as many rows, and the load's rate
# over the upsert's (upsert CPU / load CPU, as bench.sh's load row); then
# the least-squares line CPU = fixed + us/record * records over the sizes
# (give at least two; e.g. 10M 30M 100M: GNU time counts CPU in 10 ms
# steps, so loads of a few MB say little).
#
#   LOAD_DIR=DIR   scratch space (default a temp dir, removed at the end)
#   LOAD_REPS=N    loads per size (median)
set -u
[ $# -ge 3 ] || { echo "usage: $0 BINARY FORMAT SIZE..." >&2; exit 64; }
case $1 in
/*) BIN=$1 ;;
*) BIN=$(pwd)/$1 ;;
esac
FMT=$2
shift 2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${LOAD_REPS:-3}
TIME=/usr/bin/time
"$TIME" -f '%U' true >/dev/null 2>&1 || { echo "load_split: GNU time is needed at $TIME" >&2; exit 69; }
case $FMT in
csv) MAP=stores/store_stock_csv.yaml ;;
ubl) MAP=xml/ubl_inventory_report.yaml ;;
x12-852) MAP=edi/x12_852_activity.yaml ;;
x12-846) MAP=edi/x12_846_inventory.yaml ;;
edifact) MAP=edi/edifact_invrpt.yaml ;;
*) echo "load_split: unknown format $FMT" >&2; exit 64 ;;
esac
W=${LOAD_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sp-load.XXXXXX")}
[ -n "${LOAD_DIR:-}" ] || trap 'rm -rf "$W"' EXIT
mkdir -p "$W/cfg"
CC="cc -std=c11 -O2 -D_GNU_SOURCE -I$SRC"
$CC -o "$W/gen" "$SRC/tests/bench/gen_bench.c" || exit 70
$CC -o "$W/ref" "$SRC/tests/bench/bench_ref.c" -lsqlite3 || exit 70
# The mappings as bench.sh has them (write_config): unknown EDI partner
# codes kept, the generator's store codes in the stores lookup.
cp -R "$SRC/mappings" "$W/cfg/"
for f in "$W"/cfg/mappings/edi/*.yaml; do
	sed 's/\(value: *[a-z_]*\) *}/\1, missing: keep }/' "$f" >"$f.tmp" &&
		mv "$f.tmp" "$f"
done
awk 'BEGIN { print "store_code,location_id,name";
	for (i = 1; i <= 999; i++) printf "F%03d,STORE-%03d,Bench store %d\n", i, i, i }' \
	>"$W/cfg/mappings/lookups/stores.csv"

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$W/points"
printf '%-6s %-8s %9s %9s %9s %9s %7s\n' size format records load_cpu \
	load_wall ref_cpu ratio
for sz in "$@"; do
	d=$W/$sz
	mkdir -p "$d/drop/in"
	"$W/gen" "$FMT" "$sz" 42 >"$d/drop/in/input.$FMT" 2>"$d/meta" || exit 70
	printf 'state_dir: ./state\nsources:\n  - name: in\n    path: drop/in\n    pattern: "*"\n    mapping: %s\n' \
		"$W/cfg/mappings/$MAP" >"$d/stockpipe.yaml"
	(cd "$d" && STOCKPIPE_STATE_DIR="$d/state" "$BIN" -c stockpipe.yaml \
		run --until map >/dev/null 2>"$d/map.err") ||
		{ echo "load_split: map failed:" >&2; cat "$d/map.err" >&2; exit 70; }
	mv "$d/state" "$d/mapped"
	: >"$d/cpu"
	: >"$d/wall"
	i=0
	while [ $i -lt "$REPS" ]; do
		rm -rf "$d/state"
		cp -a "$d/mapped" "$d/state"
		(cd "$d" && STOCKPIPE_STATE_DIR="$d/state" "$TIME" -f '%U %S' \
			-o "$d/t" "$BIN" -c stockpipe.yaml run --until load \
			>/dev/null 2>"$d/load.err") ||
			{ echo "load_split: load failed:" >&2; cat "$d/load.err" >&2; exit 70; }
		awk '{ print $1 + $2 }' "$d/t" >>"$d/cpu"
		python3 - "$d/state" >>"$d/wall" <<'PY' || exit 70
import glob, json, sys
r = sorted(glob.glob(sys.argv[1] + "/reports/run-*.json"))[-1]
ld = json.load(open(r))["stages"]["load"]
print(ld["duration_ms"] / 1000, ld["records_in"])
PY
		i=$((i + 1))
	done
	recs=$(tail -n 1 "$d/wall" | awk '{ print $2 }')
	: >"$d/ref"
	i=0
	while [ $i -lt "$REPS" ]; do
		"$TIME" -f '%U %S' -o "$d/t" "$W/ref" upsert "$d/ref.db" "$recs" \
			>/dev/null || exit 70
		awk '{ print $1 + $2 }' "$d/t" >>"$d/ref"
		i=$((i + 1))
	done
	cpu=$(median <"$d/cpu")
	wall=$(awk '{ print $1 }' "$d/wall" | median)
	ref=$(median <"$d/ref")
	echo "$recs $cpu" >>"$W/points"
	printf '%-6s %-8s %9d %9.3f %9.3f %9.3f %6.2fx\n' "$sz" "$FMT" "$recs" \
		"$cpu" "$wall" "$ref" "$(awk -v a="$ref" -v b="$cpu" \
		'BEGIN { print (b > 0 ? a / b : 0) }')"
	rm -rf "$d/state" "$d/mapped" "$d/ref.db"*
done
awk '{ n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
END {
	if (n < 2 || n * sxx == sx * sx) { print "fit: give two sizes or more"; exit }
	b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
	a = (sy - b * sx) / n
	printf "fit: load CPU = %.3f s fixed + %.2f us/record\n", a, b * 1e6
}' "$W/points"

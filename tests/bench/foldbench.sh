#!/bin/bash
# foldbench.sh BINARY DIR DAYS: the gc cost against the store's history
# (docs/performance.md, "w-gcinc"). Each day: 200 000 store counts
# (snapshots, 50 stores; tests/bench/gen_stock_csv.c, counted_at set to
# the day) and 50 000 adjustments (the same mapping in mode: delta, 10
# other stores, never covered), one `run` without retention, then
# `gc` with retention {runs: 1, age: 1s} (the daily gc) and `gc` again
# (nothing new). DIR/times gets "day N gc-daily|gc-nothing USER SYS
# MAXRSS_KB" and the events left. ROWS=N changes the 200 000.
set -u
[ $# = 3 ] || { echo "usage: $0 BINARY DIR DAYS" >&2; exit 64; }
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
D=$2 DAYS=$3 ROWS=${ROWS:-200000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$D"
mkdir -p "$D/drop/stores" "$D/drop/adjust" "$D/mappings" "$D/out/webshop" || exit 70
cc -std=c11 -O2 -D_GNU_SOURCE -o "$D/gen_csv" "$SRC/tests/bench/gen_stock_csv.c" || exit 70
cp -R "$SRC/mappings/." "$D/mappings/"
awk 'BEGIN { print "store_code,location_id,name";
	for (i = 1; i <= 999; i++) printf "F%03d,STORE-%03d,Bench store %d\n", i, i, i }' \
	>"$D/mappings/lookups/stores.csv"
sed 's/mode: *snapshot/mode: delta/' "$D/mappings/stores/store_stock_csv.yaml" |
	sed '/^tests:/,$d' >"$D/mappings/stores/adjust_csv.yaml"
cfg() {
	printf 'state_dir: ./state\n%s\n' "$1"
	cat <<'YAML'
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
  - name: adjust
    path: drop/adjust
    pattern: "*.csv"
    mapping: mappings/stores/adjust_csv.yaml
targets:
  - name: webshop
    path: out/webshop
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.csv"
YAML
}
cfg "" >"$D/noret.yaml"
cfg "retention: {runs: 1, age: 1s}" >"$D/ret.yaml"
cd "$D" || exit 70
# split_by_store DIR PREFIX DAY: stdin's CSV, one file per store.
split_by_store() {
	awk -v dir="$1" -v p="$2" -v day="$3" -F, '
		NR == 1 { h = $0; next }
		{ f = dir "/" p "_" $1 "_" day ".csv"
		  if (!(f in seen)) { seen[f] = 1; print h > f }
		  print > f }'
}
for day in $(seq 1 "$DAYS"); do
	date=$(printf '2026-11-%02d' "$day")
	rm -f drop/stores/* drop/adjust/*
	./gen_csv "$ROWS" $((100 + day)) 50 | sed "s/2026-11-20/$date/" |
		split_by_store drop/stores stock "$day"
	./gen_csv $((ROWS / 4)) $((200 + day)) 10 |
		sed "s/2026-11-20/$date/; s/^F0\([0-9][0-9]\),/F1\1,/" |
		split_by_store drop/adjust adj "$day"
	touch drop/stores/* drop/adjust/*
	STOCKPIPE_NOW=${date}T12:00:00Z nice -n 5 "$BIN" -c noret.yaml run \
		>"run.$day.log" 2>&1
	echo "day $day run exit $?" >>times
	export STOCKPIPE_NOW=${date}T13:00:00Z
	/usr/bin/time -f "day $day gc-daily %U %S %M" -a -o times \
		nice -n 5 "$BIN" -c ret.yaml gc >>gc.log 2>&1
	/usr/bin/time -f "day $day gc-nothing %U %S %M" -a -o times \
		nice -n 5 "$BIN" -c ret.yaml gc >>gc.log 2>&1
	unset STOCKPIPE_NOW
	sqlite3 state/state.db "SELECT 'day $day events', count(*) FROM stock_events" >>times
done
cat times

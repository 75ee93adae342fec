#!/bin/bash
# Delta snapshots: a delta target receives only the SKU/location pairs whose
# published value changed since its last delivery (and 0 for pairs that
# disappeared). Property: the last full snapshot plus every delta since
# equals the next full snapshot, checked over a series of runs with random
# stock changes (seeded), against a full target with the same rules.
# usage: tests/e2e/delta.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG
A=$TMP/a
mkdir -p "$A/out/full" "$A/out/delta" "$A/drop" "$A/mappings"
cp -R "$SRC/mappings/." "$A/mappings/"
cat >"$A/mappings/targets/pairs.yaml" <<'YAML'
outbound: pairs
kind: stock
format: csv
csv: { delimiter: ",", header: true, line_end: lf }
columns:
  - { name: sku, value: sku }
  - { name: location, value: location }
  - { name: qty, value: available }
YAML
cat >"$A/stockpipe.yaml" <<'YAML'
state_dir: state
sources:
  - name: stores
    path: drop
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
targets:
  - name: full
    path: out/full
    mapping: mappings/targets/pairs.yaml
    per_location: true
    filename: "full_{run_id}.csv"
  - name: delta
    path: out/delta
    mapping: mappings/targets/pairs.yaml
    per_location: true
    snapshot: delta
    filename: "delta_{run_id}.csv"
YAML
# gen N: a store count file with random quantities for a random subset of
# SKUs at the three stores (seeded by N), counted at hour N.
gen() {
	python3 - "$1" "$A/drop/count_$1.csv" <<'PY'
import random, sys
n = int(sys.argv[1]); random.seed(n * 7919)
rows = ["store,sku,qty,status,counted_at"]
for store in ("F012", "F027", "F031"):
    for k in random.sample(range(1, 21), 8):
        st = random.choice(["OK", "OK", "OK", "RES", "DMG"])
        rows.append("%s,KW-%05d,%d,%s,2026-11-20 %02d:00" % (store, 10000 + k, random.randint(0, 40), st, n % 24))
open(sys.argv[2], "w").write("\n".join(rows) + "\n")
PY
}
sp() { STOCKPIPE_NOW=$1 "$BIN" -q -c "$A/stockpipe.yaml" run >"$TMP/run.out" 2>&1; }
model=$TMP/model.json
echo '{}' >"$model"
apply() { # apply FILE: fold a delivered file's rows into the model
	python3 - "$model" "$1" <<'PY'
import csv, json, sys
m = json.load(open(sys.argv[1]))
for r in csv.DictReader(open(sys.argv[2])):
    m[r["sku"] + "|" + r["location"]] = r["qty"]
json.dump(m, open(sys.argv[1], "w"))
PY
}
same() { # same FULLFILE: model == full snapshot (absent in model = 0)
	python3 - "$model" "$1" <<'PY'
import csv, json, sys
m = json.load(open(sys.argv[1]))
f = {r["sku"] + "|" + r["location"]: r["qty"] for r in csv.DictReader(open(sys.argv[2]))}
keys = set(m) | set(f)
bad = [k for k in keys if m.get(k, "0") != f.get(k, "0")]
print(" ".join(bad[:5]))
sys.exit(1 if bad else 0)
PY
}
runs=12
case $BIN in *build-san*) runs=6 ;; esac
checked=0 broken=0 deltas=0 rows_total=0 full_rows=0
for i in $(seq 1 "$runs"); do
	gen "$i"
	h=$(printf '%02d' $((i % 24)))
	sp "2026-11-20T$h:30:00Z"
	rc=$?
	if [ $rc -gt 1 ]; then
		fail "run $i exit $rc"; cat "$TMP/run.out"; break
	fi
	d=$(ls "$A"/out/delta/delta_*.csv 2>/dev/null | sort -t_ -k2 -n | tail -1)
	f=$(ls "$A"/out/full/full_*.csv 2>/dev/null | sort -t_ -k2 -n | tail -1)
	if [ -n "$d" ] && [ "$d" != "${last_d:-}" ]; then
		apply "$d"
		deltas=$((deltas + 1))
		rows_total=$((rows_total + $(($(wc -l <"$d") - 1))))
		last_d=$d
	fi
	full_rows=$(($(wc -l <"$f") - 1))
	checked=$((checked + 1))
	if ! diffs=$(same "$f"); then
		broken=$((broken + 1))
		echo "  run $i: model differs at: $diffs"
	fi
done
[ $broken = 0 ] && [ $checked = "$runs" ] &&
	pass "full + every delta since = next full, over $checked runs ($deltas deliveries)" ||
	fail "property broken in $broken of $checked runs"
[ "$deltas" -ge 2 ] && [ $rows_total -lt $((full_rows * deltas)) ] &&
	pass "deltas are smaller than full snapshots ($rows_total rows in $deltas deltas; a full has $full_rows)" ||
	fail "deltas not smaller ($rows_total rows in $deltas deltas, full $full_rows)"
first=$(ls "$A"/out/delta/delta_*.csv | sort -t_ -k2 -n | head -1)
cmp -s <(tail -n +2 "$first" | sort) <(tail -n +2 "$A/out/full/full_1.csv" | sort) &&
	pass "the first delivery to a delta target is the full picture" || fail "first delta is not the full picture"
n=$(ls "$A/out/delta" | wc -l)
sp "2026-11-20T23:50:00Z"
[ "$(ls "$A/out/delta" | wc -l)" = "$n" ] && grep -q 'delta' "$A/state/reports/run-$((runs + 1)).json" &&
	pass "no change: no delta delivered" || fail "empty delta delivered"
t_done

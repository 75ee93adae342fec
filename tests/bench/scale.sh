#!/bin/bash
# scale.sh - a retailer's day at 1/100 of the scale model of
# docs/scaling.md, to check the model (`make bench-scale`; not part of
# `make test`).
#
#   tests/bench/scale.sh BINARY
#
#   SCALE_STORES=20      stores counting every SKU once (full scale: 2000)
#   SCALE_SKUS=50000     SKUs per store
#   SCALE_SUPPLIERS=3    suppliers' EDI files (846, 852, INVRPT in turn;
#                        full scale: 300)
#   SCALE_EDI_SIZE=2M    size of each supplier's file (gen_bench SIZE)
#   SCALE_RUNS=4         scheduled runs of the day measured (the first
#                        takes the day's drop; each later one a small
#                        intraday recount; every run renders all targets)
#   SCALE_CAL=10         the calibration day is SCALE_CAL times smaller
#                        (stores and EDI size divided by it)
#   SCALE_PG=1           also on PostgreSQL when a server can be started
#                        (tests/e2e/lib/pg.sh), else skipped with why
#   SCALE_DIR=DIR        scratch (default a temp dir, removed unless
#                        SCALE_KEEP=1)
#
# Two days are run, each on a fresh state: the calibration day (1/1000 of
# the model's retailer with the defaults) gives the per-record, per-file
# and per-position costs; the model multiplies them by the 1/100 day's
# counts, and the 1/100 day's measured CPU is printed next to that
# prediction with the ratio. Then the same costs, taken from the 1/100
# day, are multiplied up to the full retailer (2000 x 50000, 300
# suppliers, 20 targets x 96 runs a day): the rows of the table in
# docs/scaling.md, printed as markdown so they can be pasted there.
#
# Each stage runs as its own process (`run --until STAGE`), so the CPU
# (user+sys, getrusage of the child) of a stage is measured, not
# inferred; on PostgreSQL the server's CPU over the same process
# (postmaster and its children, /proc) is added. Wall seconds are
# printed too, but the machine may be shared: the model uses CPU.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY" >&2
	exit 64
fi
case $1 in
/*) BIN=$1 ;;
*) BIN=$(pwd)/$1 ;;
esac
SRC=$(cd "$(dirname "$0")/../.." && pwd)
STORES=${SCALE_STORES:-20}
SKUS=${SCALE_SKUS:-50000}
SUPPLIERS=${SCALE_SUPPLIERS:-3}
EDI_SIZE=${SCALE_EDI_SIZE:-2M}
RUNS=${SCALE_RUNS:-4}
CAL=${SCALE_CAL:-10}
W=${SCALE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sp-scale.XXXXXX")}
mkdir -p "$W"
M="python3 $SRC/tests/bench/scale_measure.py"
PG_STARTED=0
PG_PID=0
cleanup() {
	[ $PG_STARTED = 1 ] && pg_stop
	[ "${SCALE_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

for t in python3 cc; do
	command -v $t >/dev/null 2>&1 || {
		echo "scale.sh: SKIP: $t not installed" >&2
		exit 0
	}
done
cc -std=c11 -O2 -D_GNU_SOURCE -o "$W/gen" "$SRC/tests/bench/gen_bench.c" &&
	cc -std=c11 -O2 -D_GNU_SOURCE -o "$W/gen_csv" \
		"$SRC/tests/bench/gen_stock_csv.c" || exit 70

case $EDI_SIZE in
*[Mm]) edi_kb=$((${EDI_SIZE%?} * 1024)) ;;
*[Kk]) edi_kb=${EDI_SIZE%?} ;;
*) edi_kb=$((EDI_SIZE / 1024)) ;;
esac
cal_stores=$((STORES / CAL))
[ $cal_stores -ge 1 ] || cal_stores=1
cal_edi_kb=$((edi_kb / CAL))
[ $cal_edi_kb -ge 16 ] || cal_edi_kb=16

# gen_drop DIR STORES EDI_KB: one CSV per store (all SKUs counted), one
# EDI file per supplier, each supplier with its own sender id (the
# generator writes one sender and control number; the interchange ledger
# would rightly refuse a second partner's file under the same ones).
gen_drop() {
	d=$1
	mkdir -p "$d/stores" "$d/edi" "$d/intraday"
	"$W/gen_csv" $(($2 * SKUS)) 7 "$2" | awk -v dir="$d/stores" -F, '
		NR == 1 { h = $0; next }
		{ f = dir "/stock_" $1 ".csv"
		  if (!(f in seen)) { seen[f] = 1; print h > f }
		  print > f }' || return 1
	: >"$d/edi.records"
	i=1
	while [ $i -le "$SUPPLIERS" ]; do
		case $((i % 3)) in
		1) fmt=x12-846 ext=x12 ;;
		2) fmt=x12-852 ext=x12 ;;
		0) fmt=edifact ext=edi ;;
		esac
		f=$d/edi/sup$(printf %03d $i)_$fmt.$ext
		# Same lengths: ISA06 stays 15 characters, UNB sender 13 digits.
		"$W/gen" "$fmt" "$3K" $((1000 + i)) 2>>"$d/edi.records" |
			sed -e "s/ACMESUPPLY/SUPP$(printf %06d $i)/g" \
				-e "s/5412345000013/54100000$(printf %05d $i)/g" \
				>"$f" || return 1
		i=$((i + 1))
	done
	# Intraday recounts, one per later scheduled run: 500 SKUs of one
	# store, counted again (new quantities) so each run delivers.
	r=2
	while [ $r -le "$RUNS" ]; do
		"$W/gen_csv" 500 $((50 + r)) 1 >"$d/intraday/recount_$r.csv" ||
			return 1
		r=$((r + 1))
	done
}

# setup DIR DROP [STATE_DB]: config, mappings, the drop's day files.
setup() {
	rm -rf "$1"
	mkdir -p "$1/drop/stores" "$1/drop/edi" "$1/mappings"
	for t in webshop market marketxml wms erp; do mkdir -p "$1/out/$t"; done
	cp -R "$SRC/mappings/." "$1/mappings/"
	# As bench.sh: the generator's partner codes are not in the sample
	# cross-references; keep an unknown code instead of rejecting.
	for f in "$1"/mappings/edi/*.yaml; do
		sed 's/\(value: *[a-z_]*\) *}/\1, missing: keep }/' "$f" >"$f.tmp" &&
			mv "$f.tmp" "$f"
	done
	awk 'BEGIN { print "store_code,location_id,name";
		for (i = 1; i <= 999; i++)
			printf "F%03d,STORE-%03d,Scale store %d\n", i, i, i }' \
		>"$1/mappings/lookups/stores.csv"
	cp "$2"/stores/* "$1/drop/stores/" && cp "$2"/edi/* "$1/drop/edi/" ||
		return 1
	{
		echo "state_dir: ./state"
		[ -n "${3:-}" ] && echo "state_db: $3" &&
			echo "state_db_password_env: $PG_PASSWORD_ENV"
		cat <<'YAML'
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
  - name: edi
    path: drop/edi
    pattern: "*"
    mapping: mappings/edi/x12_846_inventory.yaml
    routes:
      - { message: "846", mapping: mappings/edi/x12_846_inventory.yaml }
      - { message: "852", mapping: mappings/edi/x12_852_activity.yaml }
      - { message: INVRPT, mapping: mappings/edi/edifact_invrpt.yaml }
targets:
  - name: webshop
    path: out/webshop
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.csv"
  - name: market
    path: out/market
    mapping: mappings/targets/marketplace_stock.yaml
    filename: "{target}_{run_id}.jsonl"
  - name: marketxml
    path: out/marketxml
    mapping: mappings/targets/marketplace_stock_xml.yaml
    filename: "{target}_{run_id}.xml"
  - name: wms
    path: out/wms
    mapping: mappings/targets/wms_stock_x12_846.yaml
    filename: "{target}_{run_id}.x12"
  - name: erp
    path: out/erp
    mapping: mappings/targets/erp_stock_invrpt.yaml
    filename: "{target}_{run_id}.edi"
    per_location: true
YAML
	} >"$1/stockpipe.yaml"
}

# step CASE STEP CMD...: time one stockpipe process in the case's folder.
step() {
	_c=$1 _s=$2
	shift 2
	printf '%s %s ' "$_c" "$_s" >>"$W/rows"
	$M time "$W/t.$$" "$PG_PID" -- "$@" >>"$W/$_c.log" 2>&1
	_rc=$?
	cat "$W/t.$$" >>"$W/rows"
	rm -f "$W/t.$$"
	[ $_rc -le 1 ] || echo "scale.sh: $_c $_s exited $_rc (see $W/$_c.log)" >&2
}

# day CASE DROP [STATE_DB [DBNAME]]: the day's runs, gc, the facts.
day() {
	c=$1 d=$W/$1
	setup "$d" "$2" "${3:-}" || exit 70
	cd "$d" || exit 70
	if [ -n "${3:-}" ]; then
		"$BIN" -q -c stockpipe.yaml db migrate >>"$W/$c.log" 2>&1 || {
			echo "scale.sh: $c: db migrate failed (see $W/$c.log)" >&2
			cd "$SRC" || exit 70
			return
		}
		# An empty schema's size, taken off the store's "other tables".
		pg_psql "$4" "SELECT pg_database_size('$4')" >"$W/$c.base"
	fi
	export STOCKPIPE_NOW=2026-11-20T06:00:00Z
	for s in fetch unpack map load render; do
		step "$c" "$s" "$BIN" -q -c stockpipe.yaml run --until "$s"
	done
	step "$c" deliver "$BIN" -q -c stockpipe.yaml run
	r=2
	while [ $r -le "$RUNS" ]; do
		cp "$2/intraday/recount_$r.csv" drop/stores/
		STOCKPIPE_NOW=$(date -u -d "2026-11-20 06:00 UTC + $(((r - 1) * 15)) min" \
			+%Y-%m-%dT%H:%M:%SZ)
		step "$c" "sched$r" "$BIN" -q -c stockpipe.yaml run
		r=$((r + 1))
	done
	{
		echo "case=$c"
		echo "store_bytes=$(cat "$2"/stores/* | wc -c)"
		echo "edi_bytes=$(cat "$2"/edi/* | wc -c)"
		echo "store_files=$(ls "$2/stores" | wc -l)"
		echo "edi_files=$(ls "$2/edi" | wc -l)"
		echo "edi_records=$(awk '/^records/ { n += $2 } END { print n + 0 }' "$2/edi.records")"
		echo "store_records=$(($(cat "$2"/stores/* | wc -l) - $(ls "$2/stores" | wc -l)))"
		echo "delivered_files=$(find out -type f | wc -l)"
		echo "delivered_loc_bytes=$(find out/erp -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')"
		echo "delivered_bytes=$(find out -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')"
		$M stages state 1 | sed 's/^/r1_/'
		r=2
		while [ $r -le "$RUNS" ]; do
			$M stages state $r | sed "s/^/r${r}_/"
			r=$((r + 1))
		done
		$M facts state
		if [ -n "${4:-}" ]; then
			echo "db_base_bytes=$(cat "$W/$c.base")"
			echo "db_bytes=$(pg_psql "$4" "SELECT pg_database_size('$4')")"
			echo "positions=$(pg_psql "$4" "SELECT count(*) FROM positions")"
			echo "store_positions=$(pg_psql "$4" "SELECT count(*) FROM positions WHERE location LIKE 'STORE-%'")"
			echo "events=$(pg_psql "$4" "SELECT count(*) FROM stock_events")"
			for t in positions stock_events; do
				echo "db_${t}_bytes=$(pg_psql "$4" \
					"SELECT pg_total_relation_size('$t')")"
			done
		fi
	} >"$W/$c.facts"
	# Retention of one run and one second: what gc leaves of the day.
	printf 'retention: {runs: 1, age: 1s}\n' >>stockpipe.yaml
	step "$c" gc "$BIN" -q -c stockpipe.yaml gc
	$M facts state | sed 's/^/gc_/' >>"$W/$c.facts"
	[ -n "${4:-}" ] &&
		echo "gc_db_bytes=$(pg_psql "$4" "SELECT pg_database_size('$4')")" \
			>>"$W/$c.facts"
	unset STOCKPIPE_NOW
	cd "$SRC" || exit 70
}

: >"$W/rows"
gen_drop "$W/drop-cal" "$cal_stores" "$cal_edi_kb" || exit 70
gen_drop "$W/drop-day" "$STORES" "$edi_kb" || exit 70
day sqlite-cal "$W/drop-cal"
day sqlite-day "$W/drop-day"
CASES="sqlite-cal sqlite-day"

if [ "${SCALE_PG:-1}" = 1 ] && [ -f "$SRC/tests/e2e/lib/pg.sh" ]; then
	# shellcheck source=../e2e/lib/pg.sh
	. "$SRC/tests/e2e/lib/pg.sh"
	if pg_start "$W/pg" >"$W/pg.log" 2>&1; then
		PG_STARTED=1
		# The test cluster runs with fsync off; the model wants the
		# durability a production server has (as workers_bench.sh).
		pg_psql postgres "ALTER SYSTEM SET fsync = on" >/dev/null &&
			pg_psql postgres "ALTER SYSTEM SET synchronous_commit = on" \
				>/dev/null &&
			pg_psql postgres "SELECT pg_reload_conf()" >/dev/null
		day postgres-cal "$W/drop-cal" "$(pg_newdb scale_cal)" scale_cal
		day postgres-day "$W/drop-day" "$(pg_newdb scale_day)" scale_day
		CASES="$CASES postgres-cal postgres-day"
	else
		echo "note: PostgreSQL rows skipped: $PG_WHY" >&2
	fi
else
	echo "note: PostgreSQL rows skipped: SCALE_PG=0 or no tests/e2e/lib/pg.sh" >&2
fi

# The code measured: the last commit that changed the C sources (a
# branch that only adds benches and docs measures its base).
commit=$(git -C "$SRC" log -1 --format=%h -- lib transforms connectors \
	pipeline 2>/dev/null || echo unknown)
dirty=$(git -C "$SRC" status --porcelain --untracked-files=no -- lib \
	transforms connectors pipeline 2>/dev/null | grep -q . && echo "+changes")
python3 "$SRC/tests/bench/scale_model.py" "$W" "$RUNS" "$CAL" \
	"$commit$dirty" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" $CASES

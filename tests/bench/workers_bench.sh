#!/bin/bash
# workers_bench.sh - the whole pipeline on one mixed drop, by one process
# (`stockpipe run`) and by 1, 2 and 4 workers sharing a run (`stockpipe
# plan` + `stockpipe work`), on SQLite and, when a PostgreSQL server can
# be started here, on PostgreSQL (`make bench`; not part of `make test`).
#
#   tests/bench/workers_bench.sh BINARY
#
#   WBENCH_MB=64        total input size (CSV store counts and UBL XML,
#                       in WBENCH_FILES files)
#   WBENCH_FILES=64
#   WBENCH_WORKERS="1 2 4"
#   WBENCH_BACKENDS="sqlite postgres"
#   WBENCH_SHAPE=mixed  or per-store: one store per CSV file (below)
#   WBENCH_REPEAT=1     runs of each mode; the row is the run with the
#                       median seconds (a 2-core machine's wall time
#                       varies by 10-20 % between runs of one mode)
#   WBENCH_PGSS=1       also keep pg_stat_statements of each PostgreSQL
#                       mode in DIR/pgss.MODE (calls, total ms, rows;
#                       needs WBENCH_KEEP=1 to be read afterwards)
#   WBENCH_GAPS=1       also append each PostgreSQL mode's gaps between
#                       a worker's units (count|mean ms|sum ms) to
#                       DIR/gaps.MODE (needs WBENCH_KEEP=1)
#   WBENCH_PGSS_TOP=40  statements kept there, by total time (1000: all,
#                       to count round trips and COMMITs per unit)
#   WBENCH_DIR=DIR      scratch space (default a temp dir, removed unless
#                       WBENCH_KEEP=1)
#
# Three targets (webshop CSV, marketplace JSONL, marketplace XML). Each row:
# wall seconds from the first command to the last worker's exit, input
# MB/s, the summed time of each stage as the run report gives it, peak RSS
# of the largest process, the speed-up against the first row, the user+sys
# CPU seconds of stockpipe and, on PostgreSQL, of the server (the
# postmaster's reaped backends plus its live children).
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
MB=${WBENCH_MB:-64}
NF=${WBENCH_FILES:-64}
WORKERS=${WBENCH_WORKERS:-1 2 4}
TIME=/usr/bin/time
W=${WBENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sp-wbench.XXXXXX")}
mkdir -p "$W"
PG_STARTED=0
cleanup() {
	[ $PG_STARTED = 1 ] && pg_stop
	[ "${WBENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
export STOCKPIPE_NOW=2026-11-20T06:00:00Z

cc -std=c11 -O2 -D_GNU_SOURCE -o "$W/gen" "$SRC/tests/bench/gen_bench.c" ||
	exit 70

# The drop, generated once and copied into each case.
mkdir -p "$W/drop/stores" "$W/drop/ubl"
per=$((MB * 1024 * 1024 / NF))
i=0
while [ $i -lt "$NF" ]; do
	if [ $((i % 4)) = 3 ]; then
		"$W/gen" ubl "$per" $((100 + i)) \
			>"$W/drop/ubl/report_$(printf %03d $i).xml" 2>/dev/null
	else
		"$W/gen" csv "$per" $((100 + i)) \
			>"$W/drop/stores/stock_$(printf %03d $i).csv" 2>/dev/null
	fi || exit 70
	i=$((i + 1))
done
# WBENCH_SHAPE=per-store: each CSV file counts one store of its own (a
# retailer's stores each send their count), so no two CSV documents share
# a position; the default drop spreads every file over all 999 stores,
# so every pair of documents shares positions and their loads wait for
# each other's row locks (loads of one position never overlap).
if [ "${WBENCH_SHAPE:-mixed}" = per-store ]; then
	i=0
	for f in "$W"/drop/stores/*.csv; do
		i=$((i + 1))
		awk -v s="$(printf 'F%03d' $((i % 999 + 1)))" \
			'NR > 1 { sub(/^F[0-9][0-9][0-9],/, s ",") } { print }' \
			"$f" >"$f.tmp" && mv "$f.tmp" "$f" || exit 70
	done
fi
bytes=$(du -cb "$W/drop" | tail -n 1 | cut -f1)

# setup DIR [STATE_DB]: config, mappings and a copy of the drop.
setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/market" "$1/out/marketxml"
	cp -R "$SRC/mappings" "$1/mappings"
	# -p: the arrival order is by mtime, then name; fresh mtimes that
	# straddle a second would order the copies differently
	cp -Rp "$W/drop" "$1/drop"
	awk 'BEGIN { print "store_code,location_id,name";
		for (i = 1; i <= 999; i++)
			printf "F%03d,STORE-%03d,Bench store %d\n", i, i, i }' \
		>"$1/mappings/lookups/stores.csv"
	{
		echo "state_dir: ./state"
		[ -n "${2:-}" ] && echo "state_db: $2" &&
			echo "state_db_password_env: $PG_PASSWORD_ENV"
		cat <<'YAML'
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
  - name: market
    path: out/market
    mapping: mappings/targets/marketplace_stock.yaml
    filename: "{target}_{run_id}.jsonl"
  - name: marketxml
    path: out/marketxml
    mapping: mappings/targets/marketplace_stock_xml.yaml
    filename: "{target}_{run_id}.xml"
YAML
	} >"$1/stockpipe.yaml"
}

ROWS=$W/rows
: >"$ROWS"
REPEAT=${WBENCH_REPEAT:-1}

# repeat CMD...: CMD WBENCH_REPEAT times (SQLite: a fresh folder each).
repeat() {
	_k=0
	while [ $_k -lt "$REPEAT" ]; do
		"$@"
		_k=$((_k + 1))
	done
}

# stage_ms DIR: "fetch unpack map load render deliver" summed unit ms.
stage_ms() {
	python3 - "$1/state/reports/run-1.json" <<'PY' 2>/dev/null || echo "- - - - - -"
import json, sys
r = json.load(open(sys.argv[1]))
st = r.get("stages") or {}
out = []
for s in ("fetch", "unpack", "map", "load", "render", "deliver"):
    v = st.get(s, {})
    out.append("%.1f" % (v.get("duration_ms", 0) / 1000.0))
print(" ".join(out))
PY
}

# measure BACKEND N DIR [STATE_DB]: N = 0 for `stockpipe run`.
measure() {
	be=$1 n=$2 d=$3
	setup "$d" "${4:-}"
	if [ "$be" = postgres ]; then
		[ "${WBENCH_PGSS:-0}" = 1 ] &&
			pg_psql postgres "SELECT pg_stat_statements_reset()" >/dev/null
		srv0=$(pg_cpu_ticks)
	fi
	cd "$d" || exit 70
	t0=$(date +%s.%N)
	if [ "$n" = 0 ]; then
		$TIME -f '%M %U %S' -o "$d/rss.0" "$BIN" -q -c stockpipe.yaml run \
			>/dev/null 2>"$d/err"
		rc=$?
	else
		run=$("$BIN" -q -c stockpipe.yaml plan 2>"$d/err") || exit 70
		pids=
		k=1
		while [ $k -le "$n" ]; do
			$TIME -f '%M %U %S' -o "$d/rss.$k" "$BIN" -q -c stockpipe.yaml \
				work --run "$run" --worker-id "b$k" --poll 20 \
				>/dev/null 2>>"$d/err" &
			pids="$pids $!"
			k=$((k + 1))
		done
		rc=0
		for p in $pids; do
			wait "$p" || rc=$?
		done
	fi
	t1=$(date +%s.%N)
	cd "$SRC" || exit 70
	s=$(echo "$t1 - $t0" | bc)
	rss=$(cat "$d"/rss.* 2>/dev/null | awk '{ print $1 }' | sort -n | tail -n 1)
	# user+sys CPU of all processes: the machine may be shared, and wall
	# seconds then say little (the server's own CPU not included).
	cpu=$(cat "$d"/rss.* 2>/dev/null | awk '{ c += $2 + $3 } END { printf "%.1f", c }')
	srv=-
	if [ "$be" = postgres ]; then
		srv=$(echo "$(pg_cpu_ticks) - $srv0" | bc)
		srv=$(echo "scale=1; $srv / $(getconf CLK_TCK)" | bc)
		[ "${WBENCH_PGSS:-0}" = 1 ] && pg_psql postgres "SELECT calls,
			round(total_exec_time), rows, left(regexp_replace(query,
			'\s+', ' ', 'g'), 110) FROM pg_stat_statements ORDER BY
			total_exec_time DESC LIMIT ${WBENCH_PGSS_TOP:-40}" >"$W/pgss.$n" 2>&1
		# Each worker's time between one unit's end and its next
		# unit's start (units.started_ms, finished_ms; `run`: one
		# "worker"): units, mean and summed gap in ms.
		[ "${WBENCH_GAPS:-0}" = 1 ] && pg_psql "${4##*/}" "SELECT
			count(*), round(avg(g), 2), sum(g) FROM (SELECT
			started_ms - lag(finished_ms) OVER (PARTITION BY worker
			ORDER BY started_ms) AS g FROM units WHERE started_ms > 0)
			x WHERE g IS NOT NULL" >>"$W/gaps.$n" 2>&1
	fi
	echo "$be $n $s $rc ${rss:-0} $(stage_ms "$d") $cpu $srv" >>"$ROWS"
	if [ -z "${WBENCH_REF_OUT:-}" ]; then
		WBENCH_REF_OUT=$d/out
		cp -R "$d/out" "$W/ref_out"
	elif ! diff -r "$W/ref_out" "$d/out" >/dev/null; then
		echo "workers_bench: $be/$n: delivered files differ from the" \
			"single run" >&2
	fi
}

# pg_cpu_ticks: user+sys clock ticks of the server so far: the
# postmaster's reaped children (cutime+cstime: ended backends) and its live
# children (checkpointer, WAL writer, open backends).
pg_cpu_ticks() {
	{
		awk '{ print $16 + $17 }' "/proc/$PG_PID/stat"
		for c in $(pgrep -P "$PG_PID"); do
			awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null
		done
	} | awk '{ s += $1 } END { print s + 0 }'
}

case " ${WBENCH_BACKENDS:-sqlite postgres} " in
*" sqlite "*)
	repeat measure sqlite 0 "$W/sqlite-run"
	for n in $WORKERS; do
		repeat measure sqlite "$n" "$W/sqlite-$n"
	done ;;
esac

# PostgreSQL, when a server can be started here (tests/e2e/lib/pg.sh).
case " ${WBENCH_BACKENDS:-sqlite postgres} " in
*" postgres "*) want_pg=1 ;;
*) want_pg=0 ;;
esac
if [ $want_pg = 1 ] && [ -f "$SRC/tests/e2e/lib/pg.sh" ]; then
	# shellcheck source=../e2e/lib/pg.sh
	. "$SRC/tests/e2e/lib/pg.sh"
	if pg_start "$W/pg" >"$W/pg.log" 2>&1; then
		PG_STARTED=1
		# The test cluster runs with fsync off and 16 MB of shared
		# buffers; the bench wants what a production server has:
		# fsync, synchronous commit and full-page writes on, and
		# PostgreSQL's own default of 128 MB shared buffers (the
		# positions, events and their indexes of a 50 MB drop do not
		# fit in 16 MB: every insert then evicts a dirty page).
		for set in "fsync = on" "synchronous_commit = on" \
			"full_page_writes = on" "shared_buffers = '128MB'" \
			"shared_preload_libraries = 'pg_stat_statements'"; do
			pg_psql postgres "ALTER SYSTEM SET $set" >/dev/null ||
				echo "note: cannot set $set" >&2
		done
		_pg_as "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -l "$PG_LOG" -w -t 60 \
			restart >>"$W/pg.log" 2>&1 ||
			echo "note: PostgreSQL restart failed (see $W/pg.log)" >&2
		PG_PID=$(head -n 1 "$PG_HOME/data/postmaster.pid" 2>/dev/null)
		[ "${WBENCH_PGSS:-0}" = 1 ] &&
			pg_psql postgres "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
				>/dev/null
		# _rep, not k: measure's worker loop counts with k
		_rep=0
		while [ $_rep -lt "$REPEAT" ]; do
			_rep=$((_rep + 1))
			measure postgres 0 "$W/pg-run" \
				"$(pg_newdb wbench_run_$_rep)"
			for n in $WORKERS; do
				measure postgres "$n" "$W/pg-$n" \
					"$(pg_newdb wbench_${n}_$_rep)"
			done
		done
	else
		echo "note: PostgreSQL rows skipped: $PG_WHY" >&2
	fi
fi

printf '\nworkers bench: %s MB in %s files (%s drop: CSV store counts, ' \
	"$(echo "scale=1; $bytes / 1048576" | bc)" "$NF" "${WBENCH_SHAPE:-mixed}"
printf 'UBL XML), three targets; %s cores; median of %s\n' "$(nproc)" "$REPEAT"
# One row per backend and mode: the run with the median seconds; the
# speed-up is against the first row; then the target's line (2 workers
# against 1 on PostgreSQL), with each run's seconds.
python3 - "$ROWS" "$bytes" <<'PY'
import sys
rows, nbytes = sys.argv[1], int(sys.argv[2])
modes, runs = [], {}
for line in open(rows):
    f = line.split()
    key = (f[0], f[1])
    if key not in runs:
        modes.append(key)
        runs[key] = []
    runs[key].append(f)
def median(key):
    r = sorted(runs[key], key=lambda f: float(f[2]))
    return r[(len(r) - 1) // 2]
print("%-9s %-8s %8s %7s %8s %4s %8s %8s %8s   %s" % ("backend", "mode",
      "seconds", "MB/s", "speedup", "exit", "RSS MB", "cpu s", "srv cpu",
      "stage seconds: fetch unpack map load render deliver"))
ref = float(median(modes[0])[2]) if modes else 0
for key in modes:
    be, n, s, rc, rss, fe, un, ma, lo, re, de, cpu, srv = median(key)
    s = float(s)
    print("%-9s %-8s %8.2f %7.1f %7.2fx %4s %8.1f %8s %8s   %s %s %s %s %s %s"
          % (be, "run" if n == "0" else n + " work", s,
             nbytes / 1048576 / s, ref / s, rc, float(rss) / 1024, cpu,
             srv, fe, un, ma, lo, re, de))
# (SQLite has one writer: its loads do not run in parallel, no target.)
for be in ("postgres",):
    one, two = (be, "1"), (be, "2")
    if one in runs and two in runs:
        r = float(median(one)[2]) / float(median(two)[2])
        each = lambda k: " ".join("%.2f" % float(f[2]) for f in runs[k])
        print("  2 workers >= 1.6x one   %-8s %6.3fx  %s   (1 work: %s s;"
              " 2 work: %s s)" % (be, r, "yes" if r >= 1.6 else "NO",
                                each(one), each(two)))
PY

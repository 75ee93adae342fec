#!/bin/sh
# Several workers sharing one run (`stockpipe plan` + `stockpipe work`):
# every unit done exactly once, the delivered files byte-identical to a
# single `stockpipe run` on the same drop, and a worker killed with
# SIGKILL mid-run whose units are taken over after its lease.
#
#   tests/e2e/workers.sh BINARY
#
# The drop: 360 generated files in five sources (item masters that
# overlap, so the order of loading matters; store counts at many times;
# zips of store counts), made here, deterministic.
. "$(dirname "$0")/lib.sh"
t_init "$1"

NWORK=${WORKERS_N:-4}
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
# The DAG file is imported from the source tree: no __pycache__ there.
export PYTHONDONTWRITEBYTECODE=1

# make_drop DIR: the demo's config and mappings, and the generated drop;
# on PostgreSQL (BE=postgres) the state store is a fresh database.
make_drop() {
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	_d=$1/samples/drop
	rm -f "$_d"/stores/* "$_d"/supplier/*
	# Store counts: 300 files, 3 stores, a count every 10 minutes over two
	# days, 40 of 120 SKUs each, some states reserved or damaged.
	awk -v dir="$_d/stores" 'BEGIN {
		srand(42)
		split("F012 F027 F031", st, " ")
		for (f = 0; f < 300; f++) {
			s = st[f % 3 + 1]
			m = f * 10
			ts = sprintf("2026-11-%02d %02d:%02d", 18 + int(m / 1440),
				     int(m % 1440 / 60), m % 60)
			name = sprintf("%s/stock_%s_%03d.csv", dir, s, f)
			print "store,sku,qty,status,counted_at" > name
			for (k = 0; k < 40; k++) {
				sku = sprintf("KW-1%04d", int(rand() * 120))
				r = rand()
				state = r < 0.8 ? "OK" : r < 0.9 ? "RES" : "DMG"
				printf "%s,%s,%d,%s,%s\n", s, sku, int(rand() * 50),
				       state, ts > name
			}
			close(name)
		}
	}'
	# Ten zips of five counts each (archive members are documents too).
	mkdir -p "$1/zipsrc"
	awk -v dir="$1/zipsrc" 'BEGIN {
		srand(7)
		for (z = 0; z < 10; z++)
			for (f = 0; f < 5; f++) {
				name = sprintf("%s/z%02d_%d.csv", dir, z, f)
				print "store,sku,qty,status,counted_at" > name
				for (k = 0; k < 30; k++)
					printf "F0%s,KW-1%04d,%d,OK,2026-11-20 0%d:%02d\n",
					       (z % 2 ? "12" : "27"), int(rand() * 120),
					       int(rand() * 40), f, z > name
				close(name)
			}
	}'
	for z in 0 1 2 3 4 5 6 7 8 9; do
		(cd "$1/zipsrc" && zip -q -X "$_d/stores/counts_0$z.zip" \
			z0${z}_*.csv)
	done
	# Item masters: 50 files of the same day with overlapping SKUs and
	# different descriptions: the later load wins, so the order of
	# loading shows in the delivered items file.
	awk -v dir="$_d/supplier" 'BEGIN {
		srand(11)
		for (f = 0; f < 50; f++) {
			name = sprintf("%s/acme_items_%02d_20261120.csv", dir, f)
			print "Artikelnummer;EAN;Bezeichnung;Marke;Warengruppe;" \
			      "Mengeneinheit;VPE;EK-Preis;Waehrung;Status;" \
			      "Lieferanten-Artikel" > name
			for (k = 0; k < 30; k++) {
				n = int(rand() * 120)
				printf "KW-1%04d;;Artikel %d Fassung %d;Alpenhof;" \
				       "Kaffee;STK;1;%d,%02d;EUR;aktiv;AH-%d\n",
				       n, n, f, 5 + f, k, n > name
			}
			close(name)
		}
	}'
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	if [ "$BE" = postgres ]; then
		_db=sp_$(basename "$1" | tr -c 'a-z0-9\n' '_')
		_url=$(pg_newdb "$_db") || return 1
		printf 'state_db: %s\nstate_db_password_env: %s\n' "$_url" \
			"$PG_PASSWORD_ENV" >>"$1/samples/stockpipe.yaml"
		echo "$_db" >"$1/.pgdb"
	fi
	# The stores source takes the zips too.
	awk '{ print } /path: drop\/stores/ { getline; print "    patterns: [\"*.csv\", \"*.zip\"]"; next }' \
		"$1/samples/stockpipe.yaml" >"$1/cfg.tmp" &&
		mv "$1/cfg.tmp" "$1/samples/stockpipe.yaml"
}

nfiles() { find "$1/samples/drop" -type f | wc -l; }

# sp DIR ARGS...: the binary on DIR's config and state.
sp() {
	_w=$1
	shift
	STOCKPIPE_STATE_DIR=$_w/state STOCKPIPE_OUT=$_w/out \
		"$BIN" -c "$_w/samples/stockpipe.yaml" "$@"
}

# The single-process reference, on SQLite.
BE=sqlite
ref=$(t_tmpdir ref)
make_drop "$ref"
n=$(nfiles "$ref")
if [ "$n" -ge 300 ]; then
	pass "the generated drop has $n files"
else
	fail "the generated drop has only $n files"
fi
sp "$ref" -q run >"$T_OUT" 2>"$T_ERR"
rc=$?
if [ $rc -le 1 ] && [ -n "$(ls "$ref/out/webshop")" ]; then
	pass "single-process run of the drop (exit $rc)"
else
	fail "single-process run of the drop (exit $rc)"
	t_show
fi

# db DIR SQL: one value from DIR's store (SQLite or PostgreSQL).
db() {
	if [ -f "$1/.pgdb" ]; then
		pg_psql "$(cat "$1/.pgdb")" "$2"
	else
		sqlite3 -cmd ".timeout 20000" "$1/state/state.db" "$2"
	fi
}

# ids DIR WHERE: the ids of the units WHERE, comma separated.
ids() {
	if [ -f "$1/.pgdb" ]; then
		db "$1" "SELECT string_agg(CAST(id AS TEXT), ',' ORDER BY id)
			FROM units WHERE $2"
	else
		db "$1" "SELECT group_concat(id) FROM (SELECT id FROM units
			WHERE $2 ORDER BY id)"
	fi
}

# items DIR: the item master as one line, in sku order.
items() {
	if [ -f "$1/.pgdb" ]; then
		db "$1" "SELECT string_agg(sku || coalesce(description, ''), ';'
			ORDER BY sku) FROM items"
	else
		db "$1" "SELECT group_concat(sku || coalesce(description, ''),
			';') FROM (SELECT * FROM items ORDER BY sku)"
	fi
}

# start_workers DIR RUN N [EXTRA...]: N workers in the background; their
# pids in $PIDS, their output in DIR/wK.log.
start_workers() {
	_w=$1
	_run=$2
	_n=$3
	shift 3
	PIDS=
	_i=1
	while [ $_i -le "$_n" ]; do
		# The binary itself in the background (not a shell function):
		# $! must be its pid, for the signals below.
		STOCKPIPE_WORK_LOG=$_w/trace STOCKPIPE_STATE_DIR=$_w/state \
			STOCKPIPE_OUT=$_w/out "$BIN" \
			-c "$_w/samples/stockpipe.yaml" work --run "$_run" \
			--worker-id "w$_i" --poll 50 "$@" \
			>"$_w/w$_i.log" 2>&1 &
		PIDS="$PIDS $!"
		_i=$((_i + 1))
	done
}

# wait_all: waits for $PIDS; WRC = the exit codes, space separated.
wait_all() {
	WRC=
	for _p in $PIDS; do
		wait "$_p"
		WRC="$WRC $?"
	done
}

# same_outputs REF DIR what: the delivered files, names and bytes.
same_outputs() {
	if diff -r "$1/out" "$2/out" >"$T_OUT" 2>&1; then
		pass "$3: delivered files byte-identical to the single run" \
			"($(find "$2/out" -type f | wc -l) files)"
	else
		fail "$3: delivered files differ from the single run"
		t_show
	fi
}

# exactly_once DIR what: every unit finished, each by one worker in one
# attempt, according to the store and to the workers' own trace.
exactly_once() {
	_open=$(db "$1" "SELECT count(*) FROM units WHERE state IN (0, 1)")
	_multi=$(db "$1" "SELECT count(*) FROM units WHERE attempts != 1")
	_units=$(db "$1" "SELECT count(*) FROM units")
	_traced=$(wc -l <"$1/trace")
	_dups=$(awk '{ print $2 }' "$1/trace" | sort | uniq -d | wc -l)
	if [ "$_open" = 0 ] && [ "$_multi" = 0 ] && [ "$_dups" = 0 ] &&
		[ "$_traced" = "$_units" ]; then
		pass "$2: all $_units units done exactly once ($_traced in" \
			"the trace, none twice)"
	else
		fail "$2: open=$_open attempts!=1: $_multi units=$_units" \
			"traced=$_traced twice=$_dups"
	fi
}

same_store() {
	_q="SELECT count(*), sum(qty) FROM stock_events"
	_p="SELECT count(*), sum(qty) FROM positions"
	if [ "$(db "$1" "$_q")" = "$(db "$2" "$_q")" ] &&
		[ "$(db "$1" "$_p")" = "$(db "$2" "$_p")" ] &&
		[ "$(items "$1")" = "$(items "$2")" ]; then
		pass "$3: stock events, positions and items equal the single run"
	else
		fail "$3: stock events/positions/items differ from the single run"
	fi
}

# overlapping_loads DIR: from the hold hook's log (DIR/holds), whether
# two workers' loads were inside their transactions at the same time:
# they must on PostgreSQL (row locks), never on SQLite (one writer).
overlapping_loads() {
	if [ ! -s "$1/holds" ]; then
		skip "loads overlapping: needs a build with test hooks (build-san)"
		return
	fi
	_ov=$(sort -k3,3n "$1/holds" | awk '
		{ for (i = 1; i < n; i++)
			if (w[i] != $1 && to[i] > $3) { c++; break }
		  w[n] = $1; to[n] = $4; n++ }
		END { print c + 0 }')
	_nh=$(wc -l <"$1/holds")
	if [ "$BE" = postgres ] && [ "$_ov" -gt 0 ]; then
		pass "loads ran in parallel: $_ov of $_nh held loads overlapped" \
			"another worker's, row locks held"
	elif [ "$BE" = sqlite ] && [ "$_ov" = 0 ]; then
		pass "SQLite: the $_nh held loads never overlapped (one writer)"
	else
		fail "$BE: $_ov of $_nh held loads overlapped another worker's"
		cat "$1/holds"
	fi
}

# alive PID...: whether any of them still runs.
alive() {
	for _p in "$@"; do
		kill -0 "$_p" 2>/dev/null && return 0
	done
	return 1
}

# stalled_worker: a worker whose lease runs out mid-unit (its heartbeat
# starved: the STOCKPIPE_TEST_STALL hook) while another takes the unit
# over and finishes it: the stale worker abandons the unit, commits
# nothing of it, and the run finishes (it used to hang: the stale
# worker's retry put the unit back to running under the other worker's
# name, whose heartbeat kept renewing it for ever).
stalled_worker() {
	if [ ! -s "$w/holds" ]; then
		skip "stalled worker: needs a build with test hooks (build-san)"
		return
	fi
	_s=$(t_tmpdir stall-$BE)
	make_drop "$_s"
	_run=$(sp "$_s" -q plan)
	export STOCKPIPE_TEST_STALL=w1:map:60000
	start_workers "$_s" "$_run" 2 --lease 1
	unset STOCKPIPE_TEST_STALL
	_t=0
	while [ $_t -lt 300 ] && alive $PIDS; do
		sleep 1
		_t=$((_t + 1))
	done
	if alive $PIDS; then
		kill $PIDS 2>/dev/null
		wait_all
		fail "stalled worker: the run did not finish in 300 s"
		return
	fi
	wait_all
	case $WRC in
	*[!\ 01]*) fail "stalled worker: exit codes:$WRC"
		tail -n 5 "$_s"/w*.log ;;
	*) pass "stalled worker: both workers finished (exit codes:$WRC)" ;;
	esac
	if grep -q "taken over by another worker; its result here is abandoned" \
		"$_s/w1.log"; then
		pass "stalled worker: w1 abandoned the unit w2 took over"
	else
		fail "stalled worker: w1 did not say it abandoned the unit"
		tail -5 "$_s/w1.log"
	fi
	_open=$(db "$_s" "SELECT count(*) FROM units WHERE state IN (0, 1)")
	[ "$_open" = 0 ] && pass "stalled worker: no unit left open" ||
		fail "stalled worker: $_open units left open"
	same_outputs "$ref" "$_s" "stalled worker"
}

# resent_drop DIR [URL]: six UBL reports resent under one report ID, so
# each has the same txn_ids (the mapping's "<report>-<line>") with other
# quantities; their arrival order (mtime) is the reverse of the order the
# folder lists them in, which is the order their units are made in.
resent_drop() {
	mkdir -p "$1/drop/ubl" "$1/out"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	{
		echo "state_dir: ./state"
		[ -n "${2:-}" ] && printf 'state_db: %s\nstate_db_password_env: %s\n' \
			"$2" "$PG_PASSWORD_ENV"
		cat <<'YAML'
sources:
  - name: ubl
    path: drop/ubl
    pattern: "*.xml"
    mapping: mappings/xml/ubl_inventory_report.yaml
targets:
  - name: webshop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.{ext}"
YAML
	} >"$1/stockpipe.yaml"
	for _f in 0 1 2 3 4 5; do
		{
			echo '<?xml version="1.0" encoding="UTF-8"?>'
			echo '<InventoryReport xmlns="urn:oasis:names:specification:ubl:schema:xsd:InventoryReport-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
			echo '<cbc:ID>IR-RESENT-1</cbc:ID><cbc:IssueDate>2026-11-20</cbc:IssueDate><cbc:IssueTime>06:30:00+01:00</cbc:IssueTime>'
			echo '<cac:RetailerCustomerParty><cac:Party><cac:PartyIdentification><cbc:ID>F027</cbc:ID></cac:PartyIdentification></cac:Party></cac:RetailerCustomerParty>'
			for _l in 1 2 3 4 5 6 7 8; do
				echo "<cac:InventoryReportLine><cbc:ID>$_l</cbc:ID><cbc:Quantity unitCode=\"H87\">$((_f * 10 + _l))</cbc:Quantity><cac:Item><cac:SellersItemIdentification><cbc:ID>KW-1000$_l</cbc:ID></cac:SellersItemIdentification></cac:Item></cac:InventoryReportLine>"
			done
			echo '</InventoryReport>'
		} >"$1/drop/ubl/report_$_f.xml"
	done
	_t=1795000100
	for _f in $(ls -U "$1/drop/ubl"); do
		touch -d "@$_t" "$1/drop/ubl/$_f"
		_t=$((_t - 1))
	done
}

# resent_reports: on PostgreSQL, loads whose txn_ids the mapping names are
# left to the in-order walk: the first to arrive of the resent reports is
# applied and the others are duplicates, with any number of workers, as
# in one run (the workers once loaded them in the order their units were
# made, and the last report to arrive won).
resent_reports() {
	_r=$(t_tmpdir resent_ref)
	resent_drop "$_r"
	(cd "$_r" && STOCKPIPE_NOW=2026-11-20T09:00:00Z "$BIN" -q -c stockpipe.yaml run) \
		>"$T_OUT" 2>"$T_ERR" || { fail "resent reports: run (exit $?)"; t_show; return; }
	_first=$(ls -tr "$_r/drop/ubl" | head -n 1 | sed 's/report_\([0-9]\)\.xml/\1/')
	_want="KW-10001,,$((_first * 10 + 1)),"
	if grep -q "^$_want" "$_r"/out/webshop_*; then
		pass "resent reports: one run applies the first to arrive (report_$_first)"
	else
		fail "resent reports: one run did not apply report_$_first ($(grep KW-10001 "$_r"/out/webshop_*))"
	fi
	for _n in 1 3; do
		_w=$(t_tmpdir "resent_w$_n")
		_u=$(pg_newdb "sp_resent_$_n") || { fail "resent reports: no database"; return; }
		resent_drop "$_w" "$_u"
		for _f in "$_r"/drop/ubl/*; do
			touch -r "$_f" "$_w/drop/ubl/$(basename "$_f")"
		done
		_run=$(cd "$_w" && "$BIN" -q -c stockpipe.yaml plan 2>"$T_ERR") ||
			{ fail "resent reports: plan"; t_show; return; }
		_pids=
		_k=1
		while [ $_k -le $_n ]; do
			(cd "$_w" && STOCKPIPE_NOW=2026-11-20T09:00:00Z "$BIN" -q \
				-c stockpipe.yaml work --run "$_run" --worker-id "r$_k" \
				--poll 20 >"$_w/w$_k.log" 2>&1) &
			_pids="$_pids $!"
			_k=$((_k + 1))
		done
		_rcs=
		for _p in $_pids; do
			wait "$_p"
			_rcs="$_rcs $?"
		done
		if diff -r "$_r/out" "$_w/out" >/dev/null; then
			pass "resent reports: $_n worker(s) on PostgreSQL deliver what one run does (exit codes:$_rcs)"
		else
			fail "resent reports: $_n worker(s) on PostgreSQL deliver other quantities (exit codes:$_rcs)"
			diff "$_r"/out/webshop_* "$_w"/out/webshop_* | head -n 4
		fi
	done
}

# scenarios: everything below on the backend $BE.
scenarios() {
T_TAG=$BE
# ---- $NWORK workers, no failures ---------------------------------------
w=$(t_tmpdir work-$BE)
make_drop "$w"
run=$(sp "$w" -q plan 2>"$T_ERR")
if [ "$run" = 1 ]; then
	pass "plan opens run 1 and prints its id"
else
	fail "plan printed '$run'"
	t_show
fi
start=$(date +%s.%N)
# Hook builds: the first loads of each worker linger at their commit,
# row locks held, and say when (overlapping_loads below).
export STOCKPIPE_TEST_LOAD_HOLD=300 STOCKPIPE_TEST_LOAD_HOLD_LOG=$w/holds
start_workers "$w" "$run" "$NWORK" --lease 20
unset STOCKPIPE_TEST_LOAD_HOLD STOCKPIPE_TEST_LOAD_HOLD_LOG
wait_all
end=$(date +%s.%N)
case $WRC in
*[!\ 01]*) fail "$NWORK workers exit codes:$WRC"; cat "$w"/w*.log | tail -20 ;;
*) pass "$NWORK workers finished the run (exit codes:$WRC) in" \
	"$(echo "$end - $start" | bc) s" ;;
esac
exactly_once "$w" "$NWORK workers"
same_outputs "$ref" "$w" "$NWORK workers"
same_store "$ref" "$w" "$NWORK workers"
busy=$(awk '{ print $1 }' "$w/trace" | sort -u | wc -l)
if [ "$busy" -ge 2 ]; then
	pass "the work was shared: $busy workers finished units"
else
	fail "only $busy worker did any work"
fi
status=$(db "$w" "SELECT status FROM runs WHERE run_id = 1")
[ "$status" = done ] && pass "the run is concluded once: status done" ||
	fail "run status '$status'"
[ -s "$w/state/reports/run-1.json" ] && pass "the run report is written" ||
	fail "no run report"
code=$(db "$w" "SELECT exit_code FROM runs WHERE run_id = 1")
expect_exit_d "$code" "work on a finished run exits with its code ($code)" \
	sp "$w" -q work --run 1
overlapping_loads "$w"
if [ "$BE" = postgres ]; then
	# The same drop in one `run` on PostgreSQL: the same deliveries.
	rp=$(t_tmpdir runpg)
	make_drop "$rp"
	sp "$rp" -q run >"$T_OUT" 2>"$T_ERR"
	rc=$?
	[ $rc -le 1 ] && pass "single-process run on PostgreSQL (exit $rc)" ||
		{ fail "single-process run on PostgreSQL (exit $rc)"; t_show; }
	same_outputs "$rp" "$w" "$NWORK workers vs one run on PostgreSQL"
	same_outputs "$ref" "$rp" "one run on PostgreSQL vs SQLite"
fi
stalled_worker

# ---- a worker killed with SIGKILL mid-run ------------------------------
k=$(t_tmpdir kill-$BE)
make_drop "$k"
run=$(sp "$k" -q plan)
# A short lease so the test does not wait a minute for the takeover.
start_workers "$k" "$run" "$NWORK" --lease 3
victim=$(echo $PIDS | cut -d' ' -f1)
# Kill it while it holds a unit: stop it at moments until it is caught
# holding one (running under its name), then SIGKILL. A moment when it
# holds the database lock cannot be inspected (the query times out): let
# it go on and try again.
stopped() {
	for _t in /proc/"$1"/task/*/stat; do
		[ "$(awk '{ print $3 }' "$_t" 2>/dev/null)" = T ] || return 1
	done
}
held=
i=0
while [ $i -lt 400 ] && [ -z "$held" ]; do
	kill -STOP "$victim" 2>/dev/null || break
	# kill returns before the signal lands: wait until every thread of
	# it is stopped ("T") before looking.
	j=0
	while [ $j -lt 100 ] && ! stopped "$victim"; do
		sleep 0.01
		j=$((j + 1))
	done
	if [ "$BE" = postgres ]; then
		# No database lock to trip over: row locks only.
		held=$(ids "$k" "worker = 'w1' AND state = 1")
	else
		held=$(sqlite3 -cmd ".timeout 300" "$k/state/state.db" \
			"SELECT group_concat(id) FROM units WHERE worker = 'w1'
			AND state = 1" 2>/dev/null)
	fi
	[ -n "$held" ] && break
	kill -CONT "$victim"
	sleep 0.01
	i=$((i + 1))
done
kill -KILL "$victim"
kill -CONT "$victim" 2>/dev/null
wait "$victim" 2>/dev/null
PIDS=$(echo $PIDS | cut -d' ' -f2-)
wait_all
case $WRC in
*[!\ 01]*) fail "survivors' exit codes:$WRC" ;;
*) pass "worker w1 killed holding unit(s) '$held'; the others finished" \
	"(exit codes:$WRC)" ;;
esac
left=$(db "$k" "SELECT count(*) FROM units WHERE state IN (0, 1)")
over=$(db "$k" "SELECT count(*) FROM units WHERE id IN (${held:-0})
	AND state = 2 AND worker != 'w1'")
nheld=$(echo "$held" | tr ',' '\n' | grep -c .)
if [ -n "$held" ] && [ "$left" = 0 ] && [ "$over" = "$nheld" ]; then
	pass "its unit(s) $held were taken over after the lease and done" \
		"by other workers; nothing left open"
else
	fail "held '$held', taken over and done: $over, left open: $left"
fi
multi=$(db "$k" "SELECT count(*) FROM units WHERE attempts > 2")
[ "$multi" = 0 ] && pass "no unit was attempted more than twice" ||
	fail "$multi units attempted more than twice"
same_outputs "$ref" "$k" "after SIGKILL"
same_store "$ref" "$k" "after SIGKILL"
dups=$(db "$k" "SELECT count(*) FROM (SELECT target, sha256 FROM deliveries
	GROUP BY 1, 2 HAVING count(*) > 1) AS d")
[ "$dups" = 0 ] && pass "after SIGKILL: no delivery twice" ||
	fail "after SIGKILL: $dups deliveries twice"

# ---- a stale worker cannot record a unit another worker took over -------
s=$(t_tmpdir stale-$BE)
make_drop "$s"
run=$(sp "$s" -q plan)
u=$(db "$s" "SELECT min(id) FROM units WHERE stage = 'fetch'")
db "$s" "UPDATE units SET state = 1, worker = 'ghost',
	lease_until = 99999999999999 WHERE id = $u"
STOCKPIPE_WORK_LOG=$s/trace STOCKPIPE_STATE_DIR=$s/state \
	STOCKPIPE_OUT=$s/out "$BIN" -c "$s/samples/stockpipe.yaml" -q work \
	--run "$run" --stage fetch --poll 20 --lease 2 >"$T_OUT" 2>"$T_ERR" &
p=$!
sleep 1
st=$(db "$s" "SELECT state || worker FROM units WHERE id = $u")
[ "$st" = 1ghost ] &&
	pass "a unit under another worker's live lease is not claimed" ||
	fail "unit under a live lease: '$st'"
db "$s" "UPDATE units SET lease_until = 0 WHERE id = $u"
wait $p
st=$(db "$s" "SELECT state || worker || attempts FROM units WHERE id = $u")
[ "$st" = 2w1 ] || [ "$(echo "$st" | cut -c1)" = 2 ] &&
	pass "once its lease expired, the unit was taken over and done ($st)" ||
	fail "after expiry: '$st'"

# ---- --stage workers (Airflow's per-stage fan-out) ----------------------
p=$(t_tmpdir stages-$BE)
make_drop "$p"
run=$(sp "$p" -q plan)
for st in fetch unpack map fetch,unpack,map; do
	start_workers "$p" "$run" 2 --stage "$st"
done
wait_all
case $WRC in
*[!\ 0]*) fail "--stage fetch/unpack/map workers:$WRC" ;;
*) pass "--stage fetch, unpack, map workers ran side by side and exited 0" ;;
esac
open=$(db "$p" "SELECT count(*) FROM units WHERE stage IN ('fetch',
	'unpack', 'map') AND state IN (0, 1)")
loads=$(db "$p" "SELECT count(*) FROM units WHERE stage = 'load'
	AND state = 2")
[ "$open" = 0 ] && [ "$loads" = 0 ] &&
	pass "after the source stages: nothing open, nothing loaded yet" ||
	fail "after the source stages: open=$open loaded=$loads"
expect_exit_d 0 "a --stage load worker loads and exits 0" \
	sp "$p" -q work --run "$run" --stage load
start_workers "$p" "$run" 2 --stage render
wait_all
expect_exit_d 1 "a last plain worker delivers and concludes (exit 1: rejects)" \
	sp "$p" -q work --run "$run"
same_outputs "$ref" "$p" "per-stage workers"

T_TAG=
}

BE=sqlite
if [ "${WORKERS_SQLITE:-1}" = 0 ]; then
	skip "workers on SQLite: WORKERS_SQLITE=0"
else
	scenarios
fi
if [ "${WORKERS_PG:-1}" = 0 ]; then
	skip "workers on PostgreSQL: WORKERS_PG=0"
else
	. "$SRCDIR/tests/e2e/lib/pg.sh"
	trap 'pg_stop; t_cleanup' EXIT
	if pg_start "$T_TMP/pg"; then
		BE=postgres
		scenarios
		resent_reports
		pg_stop
	else
		skip "workers on PostgreSQL: the server did not start: $PG_WHY"
	fi
fi
BE=sqlite

# ---- the Airflow DAG's fan-out, simulated (Airflow is not installed) ----
DAG=$SRCDIR/ops/airflow/stockpipe_workers_dag.py
if ! python3 -c 'import yaml' 2>/dev/null; then
	skip "the workers DAG: python3 with PyYAML is not installed"
else
	check "the workers DAG file compiles" python3 -m py_compile "$DAG"
	for mode in "" --stages; do
		a=$(t_tmpdir "dag$mode")
		make_drop "$a"
		STOCKPIPE_STATE_DIR=$a/state STOCKPIPE_OUT=$a/out python3 "$DAG" \
			--bin "$BIN" --config "$a/samples/stockpipe.yaml" \
			--workers 3 --simulate $mode >"$T_OUT" 2>"$T_ERR"
		rc=$?
		if [ $rc = 0 ] && ! grep -qv ' success ' "$T_OUT"; then
			pass "DAG${mode:+ $mode}: plan, 3 mapped workers," \
				"finish: every task succeeded" \
				"($(wc -l <"$T_OUT") tasks)"
		else
			fail "DAG${mode:+ $mode}: exit $rc"
			t_show
		fi
		same_outputs "$ref" "$a" "DAG${mode:+ $mode}"
	done
fi

t_done

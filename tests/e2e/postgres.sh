#!/bin/sh
# End-to-end tests of the PostgreSQL state store against a real PostgreSQL
# 15 server on 127.0.0.1 (tests/e2e/lib/pg.sh; never a mock):
#   the db.h unit tests on PostgreSQL; `db migrate` on an empty database
#   and `db status`; the demo config on PostgreSQL, byte-identical to the
#   same run on SQLite and to the goldens; a second run delivers nothing;
#   a store update delivers as on SQLite; rerun --from map after a mapping
#   edit as on SQLite; runs, show, reconcile, targets, quarantine list;
#   a wrong password, a password in the URL, an unset password variable
#   (78, no password in the output); the server stopped before a run (75,
#   then the run works once it is back); the server killed in the middle
#   of a run (75, resume finishes it); crash points with resume (binaries
#   with test hooks, a sample of them); a version 1 SQLite store (refused
#   with 78, upgraded by `db migrate`, then runs); a version 2 store on
#   SQLite and on PostgreSQL whose units' typed columns (version 6) are
#   filled by `db migrate` from their detail text exactly as the stages
#   fill them, then runs.
# If the server cannot start, the tests are reported skipped with the
# reason, never passed.
# usage: tests/e2e/postgres.sh BINARY  prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
. "$SRCDIR/tests/e2e/lib/pg.sh"
trap 'pg_stop; t_cleanup' EXIT
# A hangup or a closed pipe (| head) must stop the server too: only the
# EXIT trap stops it, and a shell killed by a signal runs no EXIT trap.
trap 'exit 129' HUP
trap 'exit 141' PIPE
GOLD=$SRCDIR/tests/e2e/golden
GOLDEN="webshop/webshop_stock_1_20261120T060000Z.csv
marketplace/marketplace_1_20261120T060000Z.jsonl
webshop/items_1_20261120T060000Z.csv"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
LATER=2026-11-20T06:20:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG \
	STOCKPIPE_STATE_DIR STOCKPIPE_OUT PGPASSWORD PGUSER PGHOST PGDATABASE

if ! pg_start "$T_TMP/pg"; then
	skip "postgres tests: the server did not start: $PG_WHY"
	t_done
	exit $?
fi
pass "PostgreSQL on 127.0.0.1:$PG_PORT accepts a scram-sha-256 login"

# ---- helpers ----------------------------------------------------------------

# setup DIR [URL]: a copy of samples + mappings in DIR, outputs in DIR/out;
# with URL, the config's state store is that PostgreSQL database.
setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	if [ -n "${2:-}" ]; then
		printf 'state_db: %s\nstate_db_password_env: %s\n' "$2" \
			"$PG_PASSWORD_ENV" >>"$1/samples/stockpipe.yaml"
	fi
}
sp() { # sp DIR ARGS...: stockpipe on the copy in DIR
	_spd=$1
	shift
	STOCKPIPE_STATE_DIR="$_spd/state" STOCKPIPE_OUT="$_spd/out" \
		"$BIN" -c "$_spd/samples/stockpipe.yaml" "$@"
}
sp_pw() ( # sp_pw PASSWORD DIR ARGS...: with another password
	SP_TEST_PG_PASSWORD=$1
	export SP_TEST_PG_PASSWORD
	shift
	sp "$@"
)
sp_later() ( # sp_later DIR ARGS...: 20 minutes later on the run clock
	STOCKPIPE_NOW=$LATER
	export STOCKPIPE_NOW
	sp "$@"
)
# same_outputs WHAT A B: the same delivered files, byte for byte.
same_outputs() {
	if [ "$(outputs "$2")" != "$(outputs "$3")" ]; then
		fail "$1: delivered files differ"
		outputs "$2" | sed 's/^/    a /'
		outputs "$3" | sed 's/^/    b /'
		return
	fi
	_bad=
	for _f in $(outputs "$2"); do
		cmp -s "$2/out/$_f" "$3/out/$_f" || _bad="$_bad $_f"
	done
	if [ -z "$_bad" ]; then
		pass "$1: $(outputs "$2" | wc -l | tr -d ' ') delivered files byte-identical"
	else
		fail "$1: content differs:$_bad"
	fi
}
# no_secret WHAT: the last command printed no password.
no_secret() {
	if grep -q -e "$SP_TEST_PG_PASSWORD" -e wrong-pw-4711 -e s3cret-inline \
		"$T_OUT" "$T_ERR"; then
		fail "$1: a password appears in the output"
	else
		pass "$1: no password in the output"
	fi
}
has() { # has WHAT PATTERN: the last command's stdout/stderr match
	if grep -q -e "$2" "$T_OUT" "$T_ERR"; then
		pass "$1"
	else
		fail "$1 (no '$2')"
		t_show
	fi
}
psql_q() { # psql_q URL SQL: one value, as the test role
	PGPASSWORD=$SP_TEST_PG_PASSWORD "$PG_BIN/psql" -X -q -At "$1" -c "$2"
}

# ---- the db.h and schema unit tests on the real server ---------------------------
UNIT=$(dirname "$BIN")/unit
if [ -x "$UNIT" ]; then
	check "db.h and schema 6/7 unit tests on PostgreSQL" env STOCKPIPE_TEST_PG_URL="$PG_URL" \
		"$UNIT" db_pg_values_and_changes db_pg_byte_order \
		db_pg_streaming db_pg_errors_and_tx db_pg_open_errors db_pg_bind_ref \
		db_pg_copy \
		schema_v6_fills_typed_unit_columns_pg schema_v7_file_versions_pg
	check "parallel loads equal serial ones on PostgreSQL (unit test)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_pg_parallel_loads_equal_serial
	check "a load reads no event table scan while it holds positions (unit test)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_pg_load_reads_no_event_table_scan
	check "a load's position updates stay HOT, negatives counted by the index (unit test)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_pg_position_updates_stay_hot
	check "PostgreSQL's bulk load equals SQLite's (unit test)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_pg_load_equals_sqlite
	check "events by COPY keep odd bytes as SQLite does (unit test)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_pg_copy_odd_text
	check "schema 11 -> 12 keeps replays and positions on PostgreSQL (unit test)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_events_migrate_11_to_12_pg
	check "document keys of the txn_id ledger on PostgreSQL, two loads of one content at once (unit tests)" \
		env STOCKPIPE_TEST_PG_URL="$PG_URL" "$UNIT" \
		state_txn_doc_key_pg state_txn_doc_key_pg_two_loads_at_once
else
	skip "db.h unit tests on PostgreSQL: no $UNIT"
fi

# ---- db migrate / status on an empty database --------------------------------
# The latest schema version, from the source: a new migration needs no
# edit here.
L=$(sed -n 's/^#define SCHEMA_LATEST \([0-9]*\)$/\1/p' "$SRCDIR/pipeline/store/schema.h")
LIST=$(seq -s, 1 "$L")
URL_A=$(pg_newdb sp_a) || fail "create database sp_a"
A=$T_TMP/a
setup "$A" "$URL_A"
check "db status on an empty database" sp "$A" db status
has "db status names the backend" "^backend: *postgresql"
has "db status: an empty store" "^schema: *none"
has "db status shows the URL without password" "^where: *$URL_A\$"
check "db migrate on an empty database" sp "$A" db migrate
has "db migrate: schema 0 -> $L" "^schema 0 -> $L\$"
check "db migrate again" sp "$A" db migrate
has "db migrate again: up to date" "^schema $L, up to date\$"
check "db status after migrate" sp "$A" db status
has "db status: schema $L of $L" "^schema: *$L\$"
v=$(psql_q "$URL_A" "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version")
[ "$v" = "$LIST" ] && pass "schema_version holds 1 to $L" || fail "schema_version: '$v'"
c=$(psql_q "$URL_A" "SELECT collation_name FROM information_schema.columns WHERE table_name = 'positions' AND column_name = 'sku'")
[ "$c" = C ] && pass "text columns are COLLATE \"C\"" || fail "positions.sku collation '$c'"

# ---- the demo on PostgreSQL, against SQLite and the goldens ------------------
S=$T_TMP/s
setup "$S"
expect_exit_d 1 "SQLite: first run exits 1 (rejects)" sp "$S" run
expect_exit_d 1 "PostgreSQL: first run exits 1 (rejects)" sp "$A" run
n=$(outputs "$A" | wc -l)
[ "$n" = 3 ] && pass "PostgreSQL: three target files delivered" ||
	fail "PostgreSQL: $n files delivered, expected 3"
for f in $GOLDEN; do
	same_file "$GOLD/$(basename "$f")" "$A/out/$f"
done
same_outputs "run 1, PostgreSQL vs SQLite" "$S" "$A"
# The rejects are the same records (file names carry unit ids).
if [ "$(cat "$S"/state/rejects/1/*/*.jsonl | sort)" = \
	"$(cat "$A"/state/rejects/1/*/*.jsonl | sort)" ]; then
	pass "reject files hold the same records"
else
	fail "reject files differ between SQLite and PostgreSQL"
fi
ev=$(psql_q "$URL_A" "SELECT count(*) FROM stock_events")
ev0=$(sqlite3 "$S/state/state.db" "SELECT count(*) FROM stock_events" 2>/dev/null)
[ -n "$ev" ] && [ "$ev" = "$ev0" ] && pass "stock events: $ev on both" ||
	fail "stock events: PostgreSQL $ev, SQLite $ev0"
[ ! -e "$A/state/state.db" ] && pass "no SQLite file in state_dir with state_db" ||
	fail "state.db created in state_dir despite state_db"

expect_exit_d 0 "PostgreSQL: second run exits 0" sp "$A" run
has "second run fetches nothing" ": 0 new files"
expect_exit_d 0 "SQLite: second run exits 0" sp "$S" run
same_outputs "run 2 delivers nothing" "$S" "$A"

# A store sends new counts: the webshop gets a full file, the marketplace
# a delta; deliveries are ordered by seq now (rowid before).
cp "$SRCDIR/samples/updates/"*.csv "$A/samples/drop/stores/"
cp "$SRCDIR/samples/updates/"*.csv "$S/samples/drop/stores/"
t_run sp_later "$S" run
rcs=$T_RC
t_run sp_later "$A" run
[ "$T_RC" = "$rcs" ] && pass "update run exits $T_RC on both" ||
	fail "update run: PostgreSQL $T_RC, SQLite $rcs"
same_outputs "update run (full and delta snapshots)" "$S" "$A"
n=$(outputs "$A" | wc -l)
[ "$n" -gt 3 ] && pass "the update was delivered ($n files)" ||
	fail "the update delivered nothing"

# ---- the read-only commands --------------------------------------------------
check "runs" sp "$A" runs
has "runs lists run 3" "^ *3  "
check "show 1" sp "$A" show 1
has "show prints units" "deliver"
expect_exit_d 1 "reconcile (differences found)" sp "$A" reconcile \
	--state on_hand --between stores erp_stock
cp "$T_OUT" "$T_TMP/recon.pg"
t_run sp "$S" reconcile --state on_hand --between stores erp_stock
cmp -s "$T_OUT" "$T_TMP/recon.pg" && pass "reconcile prints the same as on SQLite" ||
	fail "reconcile output differs from SQLite"
check "targets" sp "$A" targets
has "targets shows the last delivery" "last delivery"
check "quarantine list" sp "$A" quarantine list

# ---- rerun from map after a mapping edit -------------------------------------
URL_B=$(pg_newdb sp_b) || fail "create database sp_b"
B=$T_TMP/b
SB=$T_TMP/sb
setup "$B" "$URL_B"
setup "$SB"
for d in "$B" "$SB"; do
	t_run sp "$d" run
	sed -i 's/RES: *reserved/RES: on_hand/' "$d/mappings/stores/store_stock_csv.yaml"
done
inbox=$(find "$B/state/inbox" -type f | wc -l)
expect_exit_d 1 "rerun 1 --from map --source stores" sp "$B" rerun 1 \
	--from map --source stores
t_run sp "$SB" rerun 1 --from map --source stores
[ "$(find "$B/state/inbox" -type f | wc -l)" = "$inbox" ] &&
	pass "rerun fetched nothing" || fail "rerun fetched"
same_outputs "rerun: a corrected webshop snapshot, as on SQLite" "$SB" "$B"
n=$(ls "$B/out/webshop" | wc -l)
t_run sp "$B" rerun 1 --from map --source stores
[ "$(ls "$B/out/webshop" | wc -l)" = "$n" ] &&
	pass "a second identical rerun delivers nothing" ||
	fail "a second identical rerun delivered again"

# ---- credentials --------------------------------------------------------------
W=$T_TMP/w
setup "$W" "$URL_A"
expect_exit_d 78 "wrong password: exit 78" sp_pw wrong-pw-4711 "$W" run
has "wrong password: the message says so" "password authentication failed"
has "wrong password: the message names the backend" "state store (postgresql)"
no_secret "wrong password"
expect_exit_d 78 "db status with a wrong password: exit 78" \
	sp_pw wrong-pw-4711 "$W" db status
no_secret "db status, wrong password"
setup "$W"
printf 'state_db: postgres://%s:s3cret-inline@127.0.0.1:%s/sp_a\n' \
	"$PG_ROLE" "$PG_PORT" >>"$W/samples/stockpipe.yaml"
expect_exit_d 78 "a password in the URL: exit 78" sp "$W" check
has "a password in the URL: use state_db_password_env" "state_db_password_env"
no_secret "password in the URL"
setup "$W"
printf 'state_db: %s\nstate_db_password_env: SP_T_NO_SUCH_VAR\n' "$URL_A" \
	>>"$W/samples/stockpipe.yaml"
unset SP_T_NO_SUCH_VAR
expect_exit_d 78 "password variable not set: exit 78" sp "$W" runs
has "password variable not set: named" "SP_T_NO_SUCH_VAR"

# ---- the server goes away -----------------------------------------------------
pg_kill_immediate
expect_exit_d 75 "server stopped (immediate) before a run: exit 75" sp_later "$A" run
has "server stopped: cannot connect" "cannot connect"
no_secret "server stopped"
expect_exit_d 75 "server stopped: runs exits 75" sp "$A" runs
if pg_restart; then
	pass "server restarted"
	expect_exit_d 0 "after the restart a run works" sp_later "$A" run
else
	fail "server did not restart"
fi

# resume_until_done DIR: resume (or run, when the run was never recorded)
# until the run is finished; sets T_RC.
resume_until_done() {
	_tries=0
	while :; do
		t_run sp "$1" resume
		grep -q 'nothing to resume' "$T_ERR" && t_run sp "$1" run
		_tries=$((_tries + 1))
		[ "$T_RC" -le 1 ] || [ $_tries -ge 3 ] && break
	done
}
# goldens DIR: the three golden deliveries, nothing else, no temp files.
goldens() {
	[ "$(outputs "$1" | wc -l)" = 3 ] || return 1
	for _f in $GOLDEN; do
		cmp -s "$GOLD/$(basename "$_f")" "$1/out/$_f" || return 1
	done
	! find "$1/out" "$1/state" -name '.*.tmp' | grep -q .
}

# The server dies in the middle of a run (immediate: no clean
# disconnect): the run stops with 75; once the server is back, resume
# finishes it with the golden deliveries.
URL_M=$(pg_newdb sp_mid) || fail "create database sp_mid"
M=$T_TMP/m
setup "$M" "$URL_M"
sp "$M" run >"$T_OUT" 2>"$T_ERR" </dev/null &
run_pid=$!
sleep 0.3
pg_kill_immediate
wait "$run_pid"
rc=$?
if [ $rc = 75 ] || [ $rc = 1 ]; then
	pass "server killed mid-run: the run exits $rc"
else
	fail "server killed mid-run: exit $rc"
	t_show
fi
t_san_clean || fail "server killed mid-run: sanitizer report"
if pg_restart; then
	resume_until_done "$M"
	[ "$T_RC" -le 1 ] && goldens "$M" &&
		pass "server killed mid-run: resume delivers the goldens" ||
		{ fail "server killed mid-run: resume exit $T_RC"; t_show; outputs "$M"; }
else
	fail "server did not restart"
fi

# Crash points (binaries with test hooks): SIGKILL before every Nth
# durable operation (a state commit is one), then resume: byte-identical
# deliveries, none twice. Every PG_CRASH_STRIDE-th point (default 10): the
# full sweep runs on SQLite in core.sh; here it shows that a transaction
# PostgreSQL loses with its client is redone like a SQLite one.
C=$T_TMP/c
URL_C=$(pg_newdb sp_c0) || fail "create database sp_c0"
setup "$C" "$URL_C"
STOCKPIPE_CRASH_LOG=$T_TMP/points sp "$C" run >/dev/null 2>&1
if [ ! -s "$T_TMP/points" ]; then
	skip "crash points: binary built without test hooks"
else
	total=$(wc -l <"$T_TMP/points")
	stride=${PG_CRASH_STRIDE:-10}
	bad=0 tried=0 n=1
	while [ $n -le "$total" ]; do
		tried=$((tried + 1))
		D=$T_TMP/crash
		url=$(pg_newdb "sp_crash_$n") || { bad=$((bad + 1)); break; }
		setup "$D" "$url"
		STOCKPIPE_CRASH_AT=$n sp "$D" run >/dev/null 2>"$T_TMP/crash.err"
		rc=$?
		if [ $rc != 137 ] && [ $rc != 1 ]; then
			echo "  crash point $n: first run exit $rc"
			bad=$((bad + 1))
		else
			resume_until_done "$D"
			dups=$(psql_q "$url" "SELECT count(*) - count(DISTINCT (target, file_name)) FROM deliveries")
			if [ "$T_RC" -gt 1 ] || ! goldens "$D" || [ "$dups" != 0 ] ||
				! t_san_clean; then
				echo "  crash point $n ($(sed -n "${n}p" "$T_TMP/points")): resume exit $T_RC, dups '$dups'"
				tail -n 3 "$T_ERR" | sed 's/^/    /'
				bad=$((bad + 1))
			fi
		fi
		pg_psql postgres "DROP DATABASE sp_crash_$n" >/dev/null 2>&1
		n=$((n + stride))
	done
	[ $bad = 0 ] && pass "crash points: $tried of $total, every resume byte-identical, no duplicates" ||
		fail "crash points: $bad problems in $tried of $total"
fi

# ---- older stores --------------------------------------------------------------
# What version 6 added: the typed unit columns.
# What versions 8 and later added (a table each), then version 6's columns.
# Version 12 narrowed stock events (state_lineage.h): before it, every
# event's txn_id, source and file were text, and doc had an index.
V12_UNDO="UPDATE stock_events SET txn_id = (SELECT substr(u.input_sha, 1, 16)
	|| ':' || stock_events.txn_seq || ':' || stock_events.txn_rec
	FROM units u WHERE u.id = stock_events.doc) WHERE txn_id IS NULL;
	UPDATE stock_events SET source = (SELECT u.scope FROM units u
	WHERE u.id = stock_events.doc) WHERE source IS NULL;
	UPDATE stock_events SET file = (SELECT u.ukey FROM units u
	WHERE u.id = stock_events.doc) WHERE file IS NULL;
	ALTER TABLE stock_events DROP COLUMN txn_seq;
	ALTER TABLE stock_events DROP COLUMN txn_rec;
	DROP TABLE doc_events; CREATE INDEX stock_events_doc ON stock_events(doc);"
V8_DROP="$V12_UNDO DROP TABLE IF EXISTS unit_deps; ALTER TABLE runs DROP COLUMN gc_at; ALTER TABLE runs DROP COLUMN clock_s;"
# Before version 6 a fetch unit's size, mtime and post state were only in
# its detail text, as "SIZE MTIME[ posted]" (today's detail is a sentence
# for people): the old text is what version 6's migration reads.
V6_DETAIL="UPDATE units SET detail = file_size || ' ' || file_mtime ||
	CASE WHEN posted = 1 THEN ' posted' ELSE '' END
	WHERE stage = 'fetch' AND listed = 1;"
V6_DROP="$V8_DROP
	$V6_DETAIL
	ALTER TABLE units DROP COLUMN listed;
	ALTER TABLE units DROP COLUMN file_size;
	ALTER TABLE units DROP COLUMN file_mtime;
	ALTER TABLE units DROP COLUMN posted;
	ALTER TABLE units DROP COLUMN list_standin;
	ALTER TABLE units DROP COLUMN accept_rejects;
	ALTER TABLE units DROP COLUMN released_by;
	ALTER TABLE units DROP COLUMN release_note;
	ALTER TABLE units DROP COLUMN ic_conflicts;
	ALTER TABLE units DROP COLUMN rejects_path;
	ALTER TABLE units DROP COLUMN control_no;
	ALTER TABLE units DROP COLUMN outcome;"
# A store of this version taken back to version 2 (SQLite and PostgreSQL
# say it alike): versions 3 to 6 undone, as the stockpipe of version 2
# left it.
V2_SQL="DROP INDEX units_parked;
	ALTER TABLE units DROP COLUMN err_class;
	ALTER TABLE units DROP COLUMN retried_in;
	ALTER TABLE units DROP COLUMN retry_requested;
	ALTER TABLE units DROP COLUMN arr_file;
	ALTER TABLE units DROP COLUMN held;
	ALTER TABLE units DROP COLUMN converted;
	ALTER TABLE stock_events DROP COLUMN arr_file;
	ALTER TABLE stock_events DROP COLUMN arr_member;
	ALTER TABLE stock_events DROP COLUMN arr_line;
	ALTER TABLE items DROP COLUMN arr_file;
	ALTER TABLE items DROP COLUMN arr_member;
	ALTER TABLE items DROP COLUMN arr_line;
	ALTER TABLE locations DROP COLUMN arr_file;
	ALTER TABLE locations DROP COLUMN arr_member;
	ALTER TABLE locations DROP COLUMN arr_line;
	ALTER TABLE prices DROP COLUMN arr_file;
	ALTER TABLE prices DROP COLUMN arr_member;
	ALTER TABLE prices DROP COLUMN arr_line;
	ALTER TABLE positions DROP COLUMN snap_arr_file;
	ALTER TABLE positions DROP COLUMN snap_arr_member;
	ALTER TABLE positions DROP COLUMN snap_arr_line;
	DROP TABLE doc_interchanges; DROP TABLE loaded_interchanges;
	DELETE FROM counters WHERE name = 'arrival:fetch';
	DROP TABLE item_units; DROP TABLE stock_event_units;
	$V6_DROP
	DELETE FROM schema_version WHERE version > 2;
	UPDATE meta SET value = '2' WHERE key = 'schema';"
# Every unit's typed columns, one line each.
TYPED="SELECT id, stage, listed, file_size, file_mtime, posted, list_standin,
	accept_rejects, coalesce(released_by, ''), coalesce(release_note, ''),
	ic_conflicts, coalesce(rejects_path, ''), control_no, outcome
	FROM units ORDER BY id"
# What run 1 gives them, so that the comparison means something: listed
# and posted fetch units, map units with a reject file, delivered files.
TYPED_SUM="SELECT sum(listed), sum(posted), count(rejects_path),
	sum(CASE WHEN outcome = 2 THEN 1 ELSE 0 END) FROM units"

# v2_store WHAT DIR QUERY: run 1 on DIR's store, its typed columns kept,
# the store taken back to version 2 (QUERY SQL runs SQL on it), refused,
# migrated 2 -> 7 with the same typed columns, then runs as a new store.
v2_store() {
	_w=$1 _d=$2 _q=$3
	expect_exit_d 1 "$_w v2 store: first run" sp "$_d" run
	$_q "$TYPED" >"$T_TMP/typed.$_w.before" 2>&1
	s=$($_q "$TYPED_SUM" 2>&1 | tr '\n' ' ')
	case $s in
	0\|* | *\|0\|* | *\|0" ") fail "$_w: run 1 left a typed column unused: '$s'" ;;
	*) pass "$_w: run 1 fills the typed columns (listed|posted|reject files|delivered: $s)" ;;
	esac
	if ! $_q "$V2_SQL" >"$T_TMP/v2.$_w.err" 2>&1; then
		fail "$_w: could not make a version 2 store: $(head -n 2 "$T_TMP/v2.$_w.err")"
		return
	fi
	pass "$_w: made a version 2 store"
	expect_exit_d 78 "$_w v2 store: run refused with 78" sp "$_d" run
	has "$_w v2 store: run 'stockpipe db migrate'" "has schema 2; run 'stockpipe db migrate'"
	check "$_w v2 store: db migrate" sp "$_d" db migrate
	has "$_w v2 store: schema 2 -> $L" "^schema 2 -> $L\$"
	$_q "$TYPED" >"$T_TMP/typed.$_w.after" 2>&1
	if cmp -s "$T_TMP/typed.$_w.before" "$T_TMP/typed.$_w.after"; then
		pass "$_w v2 store: every unit's typed columns from its detail as run 1 set them ($(wc -l <"$T_TMP/typed.$_w.after" | tr -d ' ') units)"
	else
		fail "$_w v2 store: typed columns after migrate differ"
		diff "$T_TMP/typed.$_w.before" "$T_TMP/typed.$_w.after" | head -n 10 | sed 's/^/    /'
	fi
	expect_exit_d 0 "$_w v2 store after migrate: a run works" sp "$_d" run
	cp "$SRCDIR/samples/updates/"*.csv "$_d/samples/drop/stores/"
	t_run sp_later "$_d" run
	same_outputs "$_w v2 store after migrate: update run as on a new store" "$S" "$_d"
}
W=$T_TMP/w
setup "$W"
lite_w() { sqlite3 "$W/state/state.db" "$1"; }
v2_store SQLite "$W" lite_w
URL_W=$(pg_newdb sp_w) || fail "create database sp_w"
WP=$T_TMP/wp
setup "$WP" "$URL_W"
pg_w() { psql_q "$URL_W" "$1"; }
v2_store PostgreSQL "$WP" pg_w

# ---- a version 1 SQLite store --------------------------------------------------
# A copy of the SQLite store after run 1, taken back to version 1 the way
# the previous stockpipe made it: no schema_version, leases, worker
# columns or seq, no failure classes (version 3), no arrival keys or
# interchange tables (version 4), no unit tables (version 5), no typed
# unit columns (version 6); meta.schema = 1.
V=$T_TMP/v
setup "$V"
expect_exit_d 1 "v1 store: first run" sp "$V" run
if sqlite3 "$V/state/state.db" "
	DROP INDEX deliveries_seq; DROP INDEX units_run_stage_state;
	ALTER TABLE units DROP COLUMN worker;
	ALTER TABLE units DROP COLUMN lease_until;
	ALTER TABLE deliveries DROP COLUMN seq;
	ALTER TABLE edi_acks DROP COLUMN seq;
	DROP TABLE leases; DROP TABLE schema_version;
	DROP INDEX units_parked;
	ALTER TABLE units DROP COLUMN err_class;
	ALTER TABLE units DROP COLUMN retried_in;
	ALTER TABLE units DROP COLUMN retry_requested;
	ALTER TABLE units DROP COLUMN arr_file;
	ALTER TABLE units DROP COLUMN held;
	ALTER TABLE units DROP COLUMN converted;
	ALTER TABLE stock_events DROP COLUMN arr_file;
	ALTER TABLE stock_events DROP COLUMN arr_member;
	ALTER TABLE stock_events DROP COLUMN arr_line;
	ALTER TABLE items DROP COLUMN arr_file;
	ALTER TABLE items DROP COLUMN arr_member;
	ALTER TABLE items DROP COLUMN arr_line;
	ALTER TABLE locations DROP COLUMN arr_file;
	ALTER TABLE locations DROP COLUMN arr_member;
	ALTER TABLE locations DROP COLUMN arr_line;
	ALTER TABLE prices DROP COLUMN arr_file;
	ALTER TABLE prices DROP COLUMN arr_member;
	ALTER TABLE prices DROP COLUMN arr_line;
	ALTER TABLE positions DROP COLUMN snap_arr_file;
	ALTER TABLE positions DROP COLUMN snap_arr_member;
	ALTER TABLE positions DROP COLUMN snap_arr_line;
	DROP TABLE doc_interchanges; DROP TABLE loaded_interchanges;
	DELETE FROM counters WHERE name = 'arrival:fetch';
	DROP TABLE item_units; DROP TABLE stock_event_units;
	$V6_DROP
	UPDATE meta SET value = '1' WHERE key = 'schema';" 2>"$T_TMP/v1.err"; then
	pass "made a version 1 store with sqlite3"
	expect_exit_d 78 "v1 store: run refused with 78" sp "$V" run
	has "v1 store: run 'stockpipe db migrate'" "has schema 1; run 'stockpipe db migrate'"
	check "v1 store: db status" sp "$V" db status
	has "v1 store: db status says schema 1" "^schema: *1\$"
	check "v1 store: db migrate" sp "$V" db migrate
	has "v1 store: schema 1 -> $L" "^schema 1 -> $L\$"
	q=$(sqlite3 "$V/state/state.db" "SELECT count(*) FROM deliveries WHERE seq IS NULL OR seq != rowid; SELECT group_concat(version) FROM schema_version; SELECT value FROM meta; PRAGMA integrity_check" 2>&1 | tr '\n' ' ')
	[ "$q" = "0 $LIST $L ok " ] && pass "v1 store: seq from rowid, versions 1 to $L recorded, integrity ok" ||
		fail "v1 store after migrate: '$q'"
	expect_exit_d 0 "v1 store after migrate: a run works" sp "$V" run
	cp "$SRCDIR/samples/updates/"*.csv "$V/samples/drop/stores/"
	t_run sp_later "$V" run
	same_outputs "v1 store after migrate: update run as on a new store" "$S" "$V"
else
	fail "could not make a version 1 store: $(head -n 2 "$T_TMP/v1.err")"
fi

t_done

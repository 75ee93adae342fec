#!/bin/bash
# Folding (issue 20, item 2; pipeline/store/state_fold.c) on a real
# PostgreSQL 15 server (tests/e2e/lib/pg.sh), beside the same runs on
# SQLite: 8 daily store counts with retention {runs: 2, age: 2d}; at each
# run's end gc folds the counts a newer collected count covers, in SQL
# (sha256() digests); then
#   - the events went down to what SQLite keeps, the digests are the ones
#     SQLite computes in C (lib/sha256), byte for byte;
#   - every delivery is byte-identical to SQLite's;
#   - a day-1 count replayed after its events were folded is a duplicate
#     with the message it had before gc, on both stores.
# If the server cannot start, the tests are reported skipped with the
# reason, never passed.
# usage: tests/e2e/gc_pg.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
. "$SRCDIR/tests/e2e/lib/pg.sh"
trap 'pg_stop; t_cleanup' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_NOW \
	STOCKPIPE_STATE_DIR STOCKPIPE_OUT PGPASSWORD PGUSER PGHOST PGDATABASE

if ! pg_start "$TMP/pg"; then
	skip "gc on postgres: the server did not start: $PG_WHY"
	t_done
	exit $?
fi
URL=$(pg_newdb sp_gc) || fail "create database sp_gc"
pgq() { PGPASSWORD=$SP_TEST_PG_PASSWORD "$PG_BIN/psql" -X -q -At "$URL" -c "$1"; }

# setup DIR [URL]
setup() {
	mkdir -p "$1/drop/stores" "$1/drop/erp" "$1/out"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	cp "$SRCDIR/samples/drop/erp/locations_20261120.csv" "$1/drop/erp/"
	touch -d 2026-11-01T04:00:00Z "$1/drop/erp/locations_20261120.csv"
	cat >"$1/stockpipe.yaml" <<'YAML'
state_dir: state
retention: {runs: 2, age: 2d}
sources:
  - name: erp
    path: drop/erp
    patterns: ["locations_*.csv"]
    mapping: mappings/erp/locations_csv.yaml
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
targets:
  - name: webshop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_stock_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    location_types: [store, dc]
YAML
	[ -z "${2:-}" ] || printf 'state_db: %s\nstate_db_password_env: %s\n' \
		"$2" "$PG_PASSWORD_ENV" >>"$1/stockpipe.yaml"
}
L=$TMP/lite
P=$TMP/pg_store
setup "$L"
setup "$P" "$URL"
sp() { # sp DIR ARGS...
	local dir=$1
	shift
	"$BIN" -c "$dir/stockpipe.yaml" "$@" >"$TMP/o" 2>"$TMP/e"
	rc=$?
	t_san_clean "$TMP/e" || fail "sanitizer report in: $*"
}

bad=0
msg0=
for d in $(seq 1 8); do
	for x in "$L" "$P"; do
		f=$x/drop/stores/stock_F012_day$d.csv
		printf '\xef\xbb\xbfstore,sku,qty,status,counted_at\nF012,KW-10001,%d,OK,2026-11-%02d 06:00\nF012,KW-10002,%d,OK,2026-11-%02d 06:00\n' \
			"$d" "$d" "$((d + 100))" "$d" >"$f"
		touch -d "$(printf '2026-11-%02dT05:00:00Z' "$d")" "$f"
		STOCKPIPE_NOW=$(printf '2026-11-%02dT06:00:00Z' "$d") sp "$x" run
		# day 1 has the locations file's rejects (exit 1)
		[ $rc = 0 ] || [ $rc = 1 -a $d = 1 ] || { bad=1; echo "    day $d $x: exit $rc"; tail -3 "$TMP/e"; }
	done
	if [ "$d" = 1 ]; then
		cp "$L/drop/stores/stock_F012_day1.csv" "$TMP/day1.csv"
		STOCKPIPE_NOW=2026-11-01T07:00:00Z sp "$L" replay "$TMP/day1.csv" --source stores
		msg0=$(grep "duplicate records not loaded again" "$TMP/e")
		STOCKPIPE_NOW=2026-11-01T07:00:00Z sp "$P" replay "$TMP/day1.csv" --source stores
		[ "$(grep "duplicate records not loaded again" "$TMP/e")" = "$msg0" ] || bad=1
	fi
done
[ $bad = 0 ] && [ -n "$msg0" ] && pass "8 daily runs and a replay on SQLite and PostgreSQL" || fail "daily runs"

ev_l=$(sqlite3 "$L/state/state.db" "select count(*) from stock_events")
ev_p=$(pgq "select count(*) from stock_events")
dg_l=$(sqlite3 "$L/state/state.db" "select lower(hex(digest)) from txn_digests order by 1")
dg_p=$(pgq "select encode(digest, 'hex') from txn_digests order by 1")
[ "$ev_p" = "$ev_l" ] && [ "$ev_p" -lt 16 ] && [ -n "$dg_p" ] && [ "$dg_p" = "$dg_l" ] &&
	pass "runs' gc folded the same events on both stores ($ev_p of 16 left, $(echo "$dg_p" | wc -l) digests, identical bytes)" ||
	fail "fold: events $ev_l/$ev_p, digests $(echo "$dg_l" | wc -l)/$(echo "$dg_p" | wc -l)"
STOCKPIPE_NOW=2026-11-08T06:00:00Z sp "$P" gc
[ $rc = 0 ] && grep -q "^folded 0 stock events" "$TMP/o" && pass "gc on PostgreSQL: nothing more to fold" || { fail "gc on pg (exit $rc)"; cat "$TMP/o" "$TMP/e"; }
# The runs' gcs folded incrementally (the positions of the runs newly
# collected); the full pick over every collected event finds nothing they
# missed, on both stores.
full=
for x in "$L" "$P"; do
	STOCKPIPE_NOW=2026-11-08T06:00:00Z sp "$x" gc --full
	[ $rc = 0 ] && grep -q "^folded 0 stock events" "$TMP/o" && full="$full ok" || { full="$full bad"; cat "$TMP/o" "$TMP/e"; }
done
[ "$full" = " ok ok" ] && [ "$(pgq "select count(*) from runs where gc_at is not null and fold_at is null")" = 0 ] &&
	pass "gc --full after the runs' incremental folds: nothing more to fold (SQLite, PostgreSQL)" || fail "gc --full:$full"

STOCKPIPE_NOW=2027-11-30T06:00:00Z sp "$L" replay "$TMP/day1.csv" --source stores
m_l=$(grep "duplicate records not loaded again" "$TMP/e")
STOCKPIPE_NOW=2027-11-30T06:00:00Z sp "$P" replay "$TMP/day1.csv" --source stores
m_p=$(grep "duplicate records not loaded again" "$TMP/e")
[ "$(pgq "select count(*) from stock_events e join units u on u.id = e.doc where u.run_id = 1")" = 0 ] &&
	[ "$m_p" = "$msg0" ] && [ "$m_l" = "$msg0" ] &&
	pass "a year-old count replayed after folding: the same message on both: $m_p" || fail "replay after fold: '$m_l' / '$m_p'"
diff -r "$L/out" "$P/out" >/dev/null && [ "$(ls "$P/out" | wc -l)" -ge 8 ] &&
	pass "every delivery byte-identical to SQLite's ($(ls "$P/out" | wc -l) files)" || fail "deliveries differ"
t_done

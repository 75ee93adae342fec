#!/bin/sh
# Arrival order and dropped data (issue 15, "stock truth"):
#   - two undated snapshots of one position (a constant as_of set in the
#     mapping) arriving in either order on disk, fetched in one run or in
#     two, and loaded in either order (a rerun loads the earlier one
#     last): the later-arriving one wins every time, never the txn_id;
#   - the stale record that loses is counted in the text summary and in
#     `show`; with on_stale: reject it is also a reject;
#   - one EDI interchange sent twice in two files is loaded once, whatever
#     its txn_ids (a delta mapping with the default txn_id here): the
#     load claims it again under the writer lock, also when the map stage
#     missed the copy (two workers mapping at once; simulated by clearing
#     the map-time ledger) and with 4 workers, on SQLite and PostgreSQL.
#
#   tests/e2e/arrival.sh BINARY
. "$(dirname "$0")/lib.sh"
t_init "$1"

export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

# ---- undated store counts ---------------------------------------------

# mk_stores DIR [on_stale]: a config with one source of undated counts.
mk_stores() {
	mkdir -p "$1/drop" "$1/out/shop"
	cp "$SRCDIR/mappings/targets/webshop_stock.yaml" "$1/shop.yaml"
	cat >"$1/counts.yaml" <<'EOF'
mapping: undated-counts
input:
  format: csv
  header: true
  delimiter: ","
records:
  - kind: stock
    each: row
    fields:
      sku:      col(sku) | trim | required
      location: col(store) | trim | required
      state:    on_hand
      quantity: col(qty) | trim | decimal | required
      mode:     snapshot
      as_of:    '"2026-11-20T00:00:00Z"'
EOF
	cat >"$1/stockpipe.yaml" <<EOF
state_dir: $1/state
sources:
  - name: stores
    path: drop
    pattern: "*.csv"
    mapping: counts.yaml
${2:+    on_stale: $2}
targets:
  - name: shop
    path: $1/out/shop
    mapping: shop.yaml
    filename: "shop_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
EOF
}

# count DIR NAME QTY MTIME: one count of X1 at L1, written with mtime.
count() {
	printf 'sku,store,qty\nX1,L1,%s\n' "$3" >"$1/drop/$2"
	touch -d "$4" "$1/drop/$2"
}

sp() {
	_d=$1
	shift
	"$BIN" -c "$_d/stockpipe.yaml" "$@"
}

# qty DIR: the on_hand quantity of X1 at L1 in units.
qty() {
	sqlite3 -cmd ".timeout 20000" "$1/state/state.db" \
		"SELECT qty / 1000000 FROM positions WHERE sku = 'X1'"
}

# want_qty DIR N what
want_qty() {
	_q=$(qty "$1")
	if [ "$_q" = "$2" ]; then
		pass "$3: X1/L1 = $2"
	else
		fail "$3: X1/L1 = $_q, expected $2"
		t_show
	fi
}

if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "arrival: the sqlite3 command is not installed"
	t_done
	exit
fi

# One run, both on disk; b.csv arrived after a.csv. The default txn_id
# begins with each file's SHA-256, so before arrival keys the winner was
# whichever hash sorted last.
d=$(t_tmpdir onerun)
mk_stores "$d"
count "$d" a.csv 5 "2026-11-20 05:00"
count "$d" b.csv 8 "2026-11-20 05:05"
expect_exit_d 0 "one run, b after a on disk" sp "$d" run
want_qty "$d" 8 "one run, b later"
if grep -q "stale" "$T_ERR"; then
	fail "one run: loads in arrival order, nothing stale"
	t_show
else
	pass "one run: loads in arrival order, nothing stale"
fi

# The same names, the other order on disk.
d=$(t_tmpdir onerun_rev)
mk_stores "$d"
count "$d" a.csv 5 "2026-11-20 05:05"
count "$d" b.csv 8 "2026-11-20 05:00"
expect_exit_d 0 "one run, a after b on disk" sp "$d" run
want_qty "$d" 5 "one run, a later"

# Two runs: a first, b later; then run 1 is loaded again (a loads last)
# and b still wins; the loser is stale, in the summary and in show.
for mode in warn reject; do
	d=$(t_tmpdir tworuns_$mode)
	mk_stores "$d" "$mode"
	count "$d" a.csv 5 "2026-11-20 05:00"
	expect_exit_d 0 "[$mode] run 1 with a" sp "$d" run
	want_qty "$d" 5 "[$mode] run 1"
	count "$d" b.csv 8 "2026-11-20 04:00" # older mtime, fetched later
	expect_exit_d 0 "[$mode] run 2 with b (fetched later)" sp "$d" run
	want_qty "$d" 8 "[$mode] run 2, the later fetch"
	want=0
	[ "$mode" = reject ] && want=1
	expect_exit_d $want "[$mode] rerun 1 from load: a loads after b" \
		sp "$d" rerun 1 --from load --source stores
	want_qty "$d" 8 "[$mode] after loading a again"
	if grep -q "  warning stores 'a.csv': 1 stale record not applied" \
		"$T_ERR"; then
		pass "[$mode] the stale record is named in the summary"
	else
		fail "[$mode] no stale warning in the summary"
		t_show
	fi
	check "[$mode] show 1" sp "$d" show 1
	if grep -q "warning stores 'a.csv': 1 stale record" "$T_OUT" &&
		grep -q "stale 1, duplicates 0, held 0, converted 0" "$T_OUT"; then
		pass "[$mode] show 1 lists the stale record"
	else
		fail "[$mode] show 1 does not list the stale record"
		t_show
	fi
	check "[$mode] show 1 --json" sp "$d" show 1 --json
	if grep -q '"sources":{"stores":{"rejects":[01],"duplicates":0,"stale":1' \
		"$T_OUT"; then
		pass "[$mode] the JSON report counts it per source"
	else
		fail "[$mode] the JSON report does not count it per source"
		t_show
	fi
	rj=$(find "$d/state/rejects" -name '*.stale.jsonl' 2>/dev/null)
	if [ "$mode" = reject ]; then
		if [ -n "$rj" ] && grep -q '"reason":"stale: older' $rj; then
			pass "[reject] the stale record is in the reject file"
		else
			fail "[reject] no stale reject file ($rj)"
		fi
	elif [ -z "$rj" ]; then
		pass "[warn] no reject file"
	else
		fail "[warn] a reject file: $rj"
	fi
done

# Two runs the other way round: b first, then a (an older mtime, but
# fetched in a later run): a wins.
d=$(t_tmpdir tworuns_rev)
mk_stores "$d"
count "$d" b.csv 8 "2026-11-20 05:05"
expect_exit_d 0 "run 1 with b" sp "$d" run
count "$d" a.csv 5 "2026-11-20 05:00"
expect_exit_d 0 "run 2 with a" sp "$d" run
want_qty "$d" 5 "a fetched in the later run"
expect_exit_d 0 "rerun 2 from load" sp "$d" rerun 2 --from load \
	--source stores
want_qty "$d" 5 "a again after its own reload"
expect_exit_d 0 "rerun 1 from load (b loads last)" sp "$d" rerun 1 \
	--from load --source stores
want_qty "$d" 5 "b loaded last still loses"

# ---- one EDI interchange sent twice -------------------------------------

# mk_edi DIR: a source of X12 846 as deltas with the default txn_id (a
# hash of the document, different in each copy). On PostgreSQL (BE) the
# store is a fresh database.
mk_edi() {
	mkdir -p "$1/drop" "$1/mappings"
	cp -R "$SRCDIR/mappings/lookups" "$1/mappings/lookups"
	mkdir -p "$1/mappings/edi"
	sed -e 's/mode: *snapshot/mode:     delta/' -e '/txn_id:/d' \
		"$SRCDIR/mappings/edi/x12_846_inventory.yaml" \
		>"$1/mappings/edi/x12_846_delta.yaml"
	cat >"$1/stockpipe.yaml" <<EOF
state_dir: $1/state
sources:
  - name: edi
    path: drop
    pattern: "*.x12"
    mapping: mappings/edi/x12_846_delta.yaml
EOF
	if [ "$BE" = postgres ]; then
		_db=sp_$(basename "$1" | tr -c 'a-z0-9\n' '_')
		_url=$(pg_newdb "$_db") || return 1
		printf 'state_db: %s\nstate_db_password_env: %s\n' "$_url" \
			"$PG_PASSWORD_ENV" >>"$1/stockpipe.yaml"
		echo "$_db" >"$1/.pgdb"
	fi
}

# db DIR SQL: one value from DIR's store.
db() {
	if [ -f "$1/.pgdb" ]; then
		pg_psql "$(cat "$1/.pgdb")" "$2"
	else
		sqlite3 -cmd ".timeout 20000" "$1/state/state.db" "$2"
	fi
}

total() {
	db "$1" "SELECT CAST(coalesce(sum(qty), 0) / 1000000 AS BIGINT) || '/'
		|| count(*) FROM positions"
}

IC=000000101
edi_cases() {
	# The reference: one copy.
	r=$(t_tmpdir "edi_ref_$BE")
	mk_edi "$r" || { fail "no $BE store"; return; }
	cp "$SRCDIR/samples/edi/acme_846_inventory.x12" "$r/drop/acme_846.x12"
	expect_exit_d 0 "one copy" sp "$r" run
	ref=$(total "$r")
	if [ -n "$ref" ] && [ "$ref" != "0/0" ]; then
		pass "one copy loads: $ref (sum/positions)"
	else
		fail "one copy loads nothing ($ref)"
	fi

	# The map stage misses the copy (as two workers mapping at once do):
	# its ledger is cleared between the runs; the load still knows.
	w=$(t_tmpdir "edi_missed_$BE")
	mk_edi "$w" || return
	cp "$SRCDIR/samples/edi/acme_846_inventory.x12" "$w/drop/acme_846.x12"
	expect_exit_d 0 "first copy" sp "$w" run
	db "$w" "DELETE FROM edi_interchanges" >/dev/null
	{
		cat "$SRCDIR/samples/edi/acme_846_inventory.x12"
		echo
	} >"$w/drop/acme_846_resent.x12"
	expect_exit_d 0 "the copy in a new file, map ledger cleared" \
		sp "$w" run
	got=$(total "$w")
	[ "$got" = "$ref" ] && pass "the copy is not loaded again ($got)" ||
		fail "the copy changed the positions: $got, expected $ref"
	if grep -q "interchange $IC from ACMESUPPLY to STOCKPIPE was already loaded from 'acme_846.x12'" "$T_ERR" &&
		grep -q "warning edi 'acme_846_resent.x12': [0-9]* duplicate records not loaded again" "$T_ERR"; then
		pass "the summary names the interchange and counts duplicates"
	else
		fail "the summary does not name the duplicate interchange"
		t_show
	fi

	# Four workers, both copies in one run.
	w=$(t_tmpdir "edi_workers_$BE")
	mk_edi "$w" || return
	cp "$SRCDIR/samples/edi/acme_846_inventory.x12" "$w/drop/acme_846.x12"
	{
		cat "$SRCDIR/samples/edi/acme_846_inventory.x12"
		echo
	} >"$w/drop/acme_846_resent.x12"
	run=$(sp "$w" -q plan 2>"$T_ERR")
	if [ -z "$run" ]; then
		fail "plan"
		t_show
		return
	fi
	pids=
	for i in 1 2 3 4; do
		"$BIN" -c "$w/stockpipe.yaml" work --run "$run" \
			--worker-id "w$i" >"$w/w$i.log" 2>&1 &
		pids="$pids $!"
	done
	rcs=
	for p in $pids; do
		wait "$p"
		rcs="$rcs $?"
	done
	case $rcs in
	*[!\ 0]*) fail "4 workers exit codes:$rcs"; tail -n 5 "$w"/w*.log ;;
	*) pass "4 workers finished (exit codes:$rcs)" ;;
	esac
	got=$(total "$w")
	[ "$got" = "$ref" ] && pass "4 workers: loaded once ($got)" ||
		fail "4 workers: $got, expected $ref"
	check "4 workers: show" sp "$w" show "$run"
	if grep -q "interchange $IC from ACMESUPPLY to STOCKPIPE was already loaded" "$T_OUT" ||
		grep -q "warning edi '[^']*': 1 duplicate interchange not loaded again" "$T_OUT"; then
		pass "4 workers: show names the duplicate interchange"
	else
		fail "4 workers: show does not name the duplicate interchange"
		t_show
	fi
}

BE=sqlite
T_TAG=sqlite
edi_cases
T_TAG=
. "$SRCDIR/tests/e2e/lib/pg.sh"
trap 'pg_stop; t_cleanup' EXIT
if pg_start "$T_TMP/pg"; then
	BE=postgres
	T_TAG=postgresql
	edi_cases
	T_TAG=
	pg_stop
else
	skip "the duplicate interchange on PostgreSQL: the server did not start: $PG_WHY"
fi

t_done

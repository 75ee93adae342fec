#!/bin/bash
# Operator commands around targets, with a pinned clock:
#   targets            schedule, next due (UTC and zone), last delivery, key
#   deliver --dry-run  diff per SKU/location against the last delivery,
#                      nothing delivered, no state written
#   deliver --now      delivers a target that is not due; identical content
#                      is still not sent twice (ledger)
#   reconcile          two sources' latest snapshots side by side: table,
#                      CSV and totals, tolerance, exit codes
# usage: tests/e2e/targets.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR
A=$TMP/a
mkdir -p "$A/drop/stores" "$A/drop/erp" "$A/out/shop"
cat >"$A/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: $SRC/mappings/stores/store_stock_csv.yaml
  - name: erp_stock
    path: drop/erp
    pattern: "*.csv"
    mapping: $SRC/mappings/stores/store_stock_csv.yaml
targets:
  - name: shop
    path: out/shop
    mapping: $SRC/mappings/targets/webshop_stock.yaml
    schedule: "0 2 * * * Europe/Berlin"
EOF
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@"; }
count() { # count FILE LINES... : one CSV count file for a store
	local f=$1
	shift
	{ printf '\xef\xbb\xbfstore,sku,qty,status,counted_at\r\n'; printf '%s\r\n' "$@"; } >"$f"
}
files() { ls "$A/out/shop" | grep -vc '\.pub$'; }
db() { sqlite3 "$A/state/state.db" "$1"; }

count "$A/drop/stores/s1.csv" "F012,KW-10001,14,OK,2026-11-20 06:00" \
	"F012,KW-10002,30,OK,2026-11-20 06:00" "F027,KW-10001,7,OK,2026-11-20 06:00"
count "$A/drop/erp/e1.csv" "F012,KW-10001,14,OK,2026-11-20 05:00" \
	"F012,KW-10002,27,OK,2026-11-20 05:00" "F027,KW-10003,5,OK,2026-11-20 05:00"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
sp run >"$TMP/r1" 2>&1 && pass "first run delivers (never considered before)" || { fail "run 1"; tail "$TMP/r1"; }
[ "$(files)" = 1 ] && pass "one shop file" || fail "$(files) shop files"

# ---- targets ----------------------------------------------------------------
key=$(db "select sha256 from deliveries where target = 'shop'")
sp targets >"$TMP/t1" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^shop$' "$TMP/t1" &&
	grep -q '  schedule       0 2 \* \* \* Europe/Berlin' "$TMP/t1" &&
	grep -q '  time zone      Europe/Berlin' "$TMP/t1" &&
	grep -q '  next due       2026-11-21T01:00:00Z (2026-11-21 02:00 +01:00 Europe/Berlin)$' "$TMP/t1" &&
	grep -q "  last delivery  2026-11-20T06:00:00Z 'shop_1_20261120T060000Z.csv' (run 1)" "$TMP/t1" &&
	grep -q "  content key    $key" "$TMP/t1"; then
	pass "targets: schedule, zone, next due in UTC and Berlin time, last delivery, content key"
else
	fail "targets output (exit $rc)"
	cat "$TMP/t1"
fi
STOCKPIPE_NOW=2026-11-21T01:30:00Z sp targets --target shop >"$TMP/t2" 2>&1
grep -q 'next due       2026-11-21T01:00:00Z .*(due now)' "$TMP/t2" && pass "targets: a passed window reads 'due now'" ||
	{ fail "targets due now"; cat "$TMP/t2"; }
sp targets --target nope >"$TMP/t3" 2>&1
[ $? = 64 ] && grep -q "no target named 'nope'" "$TMP/t3" && pass "targets --target unknown: exit 64" || fail "targets unknown target"

# ---- not due: a run leaves the target alone ------------------------------------
count "$A/drop/stores/s2.csv" "F012,KW-10001,20,OK,2026-11-20 07:00"
export STOCKPIPE_NOW=2026-11-20T07:00:00Z
sp run >"$TMP/r2" 2>&1
grep -q 'shop: not due yet' "$TMP/r2" && [ "$(files)" = 1 ] && pass "run 2: shop not due, nothing delivered" ||
	{ fail "run 2"; tail "$TMP/r2"; }

# ---- deliver --dry-run ------------------------------------------------------------
runs=$(db "select count(*) from runs")
sum_before=$(db "select count(*), max(delivered_at) from deliveries; select count(*) from target_checks; select count(*) from units")
sp deliver --target shop --dry-run >"$TMP/d1" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "last delivery: 'shop_1_20261120T060000Z.csv' at 2026-11-20T06:00:00Z" "$TMP/d1" &&
	grep -qE '^  KW-10001 +\(all\) +21 +27  \+6$' "$TMP/d1" &&
	! grep -q 'KW-10002' "$TMP/d1" &&
	grep -q '^1 changed, 0 added, 0 removed, 2 unchanged$' "$TMP/d1" &&
	grep -q '^ledger: new content' "$TMP/d1"; then
	pass "dry run: KW-10001 old 21 new 27 (+6), unchanged rows not listed, ledger would send it"
else
	fail "dry run output (exit $rc)"
	cat "$TMP/d1"
fi
t_san_clean "$TMP/d1" || fail "sanitizer report in dry run"
[ "$(files)" = 1 ] && [ "$(db "select count(*) from runs")" = "$runs" ] &&
	[ "$(db "select count(*), max(delivered_at) from deliveries; select count(*) from target_checks; select count(*) from units")" = "$sum_before" ] &&
	pass "dry run delivered nothing and wrote no state" || fail "dry run changed something"
ls "${TMPDIR:-/tmp}" | grep -q "stockpipe-dry-run" && fail "dry run left its temporary folder" || pass "dry run cleaned up"

# ---- deliver --now -------------------------------------------------------------------
sp deliver --target shop --now >"$TMP/n1" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "shop: delivered 'shop_3_20261120T070000Z.csv'" "$TMP/n1" && [ "$(files)" = 2 ] &&
	pass "deliver --now: delivered although not due" || { fail "deliver --now (exit $rc)"; cat "$TMP/n1"; }
grep -q '^KW-10001,' "$A/out/shop/shop_3_20261120T070000Z.csv" &&
	grep -q '^KW-10001,[^,]*,27,' "$A/out/shop/shop_3_20261120T070000Z.csv" &&
	pass "the forced file has the new value (27)" || { fail "forced file content"; cat "$A/out/shop/shop_3_20261120T070000Z.csv"; }
[ "$(db "select status from runs where run_id = 3")" = done ] && pass "deliver --now runs as a finished run of its own" ||
	fail "run 3 status $(db "select status from runs where run_id = 3")"
STOCKPIPE_NOW=2026-11-20T07:10:00Z sp deliver --target shop --now >"$TMP/n2" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "shop: unchanged since 'shop_3_20261120T070000Z.csv', nothing to deliver" "$TMP/n2" &&
	[ "$(files)" = 2 ] && pass "deliver --now again: the ledger refuses identical content" ||
	{ fail "second deliver --now (exit $rc)"; cat "$TMP/n2"; }
sp deliver --target shop --dry-run >"$TMP/d2" 2>&1
grep -q '^0 changed, 0 added, 0 removed, 3 unchanged$' "$TMP/d2" &&
	grep -q "^ledger: the same content was already delivered as 'shop_3_20261120T070000Z.csv'" "$TMP/d2" &&
	pass "dry run after delivery: no change, ledger would not send" || { fail "dry run 2"; cat "$TMP/d2"; }
sp deliver --target shop >"$TMP/u1" 2>&1
[ $? = 64 ] && pass "deliver without --now/--dry-run: exit 64" || fail "deliver usage"
sp deliver --target nope --dry-run >"$TMP/u2" 2>&1
[ $? = 64 ] && grep -q "no target named 'nope'" "$TMP/u2" && pass "deliver unknown target: exit 64" || fail "deliver unknown target"
sp deliver --help | grep -q 'ledger' && pass "deliver --help explains the ledger" || fail "deliver --help"

# ---- reconcile -----------------------------------------------------------------------
# stores (latest): STORE-012 KW-10001 20, KW-10002 30; STORE-027 KW-10001 7
# erp_stock:       STORE-012 KW-10001 14, KW-10002 27; STORE-027 KW-10003 5
sp reconcile --state on_hand --between stores erp_stock --csv "$TMP/rec.csv" >"$TMP/c1" 2>&1
rc=$?
[ $rc = 1 ] && pass "reconcile: exit 1 when the sources disagree" || { fail "reconcile exit $rc"; cat "$TMP/c1"; }
grep -qE '^  KW-10001 +STORE-012 +20 +14 +-6  differs$' "$TMP/c1" &&
	grep -qE '^  KW-10002 +STORE-012 +30 +27 +-3  differs$' "$TMP/c1" &&
	grep -qE '^  KW-10001 +STORE-027 +7 +- +missing_in_b$' "$TMP/c1" &&
	grep -qE '^  KW-10003 +STORE-027 +- +5 +missing_in_a$' "$TMP/c1" &&
	pass "reconcile table: differing pairs and keys missing on either side" || { fail "reconcile table"; cat "$TMP/c1"; }
grep -qx 'pairs compared: 2' "$TMP/c1" && grep -qx 'differing: 2' "$TMP/c1" &&
	grep -qx 'missing in stores: 1' "$TMP/c1" && grep -qx 'missing in erp_stock: 1' "$TMP/c1" &&
	grep -qx 'absolute difference sum: 9' "$TMP/c1" &&
	pass "reconcile totals" || { fail "reconcile totals"; cat "$TMP/c1"; }
printf '%s\n' 'sku,location,qty_a,as_of_a,qty_b,as_of_b,difference,status' \
	'KW-10001,STORE-012,20,2026-11-20T06:00:00Z,14,2026-11-20T04:00:00Z,-6,differs' \
	'KW-10001,STORE-027,7,2026-11-20T05:00:00Z,,,,missing_in_b' \
	'KW-10002,STORE-012,30,2026-11-20T05:00:00Z,27,2026-11-20T04:00:00Z,-3,differs' \
	'KW-10003,STORE-027,,,5,2026-11-20T04:00:00Z,,missing_in_a' >"$TMP/rec.want"
cmp -s "$TMP/rec.want" "$TMP/rec.csv" && pass "reconcile CSV, exact" || { fail "reconcile CSV"; diff "$TMP/rec.want" "$TMP/rec.csv"; }
sp reconcile --state on_hand --between stores erp_stock --tolerance 5 >"$TMP/c2" 2>&1
grep -qx 'differing: 1' "$TMP/c2" && ! grep -q 'KW-10002 .*differs' "$TMP/c2" &&
	pass "reconcile --tolerance 5: the 3-unit difference is within tolerance" || { fail "tolerance"; cat "$TMP/c2"; }
sp reconcile --state reserved --between stores erp_stock >"$TMP/c3" 2>&1
rc=$?
[ $rc = 0 ] && grep -qx 'pairs compared: 0' "$TMP/c3" && pass "reconcile of a state nobody reported: exit 0, nothing compared" ||
	{ fail "reconcile reserved exit $rc"; cat "$TMP/c3"; }
sp reconcile --state bogus --between stores erp_stock >/dev/null 2>&1
[ $? = 64 ] && pass "reconcile --state bogus: exit 64" || fail "reconcile bad state"
sp reconcile --state on_hand --between stores nope >"$TMP/c4" 2>&1
[ $? = 64 ] && grep -q "no source named 'nope'" "$TMP/c4" && pass "reconcile unknown source: exit 64" || fail "reconcile unknown source"
for f in "$TMP"/t1 "$TMP"/d1 "$TMP"/n1 "$TMP"/c1; do t_san_clean "$f" || fail "sanitizer report in $(basename "$f")"; done

t_done

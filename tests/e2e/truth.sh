#!/bin/bash
# Stock truth: authority per state (a source that does not own a state
# cannot move it) and the stale-source rule per target (hold the last
# published values, or hold back an extra buffer), with a pinned clock.
# usage: tests/e2e/truth.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
GOLD=$SRC/tests/e2e/golden
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG
A=$TMP/a
mkdir -p "$A/out/webshop" "$A/out/marketplace" "$A/samples/drop/erp_stock"
cp -R "$SRC/samples/." "$A/samples/"
cp -R "$SRC/mappings" "$A/mappings"
# The ERP also sends store counts, but the stores own on_hand and reserved.
printf '\xef\xbb\xbfstore,sku,qty,status,counted_at\r\nF012,KW-10001,999,OK,2026-11-20 07:00\r\n' \
	>"$A/samples/drop/erp_stock/erp_counts.csv"
python3 - "$A/samples/stockpipe.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
# The demo config already has the erp_stock source and the authority.
assert "authority:\n  on_hand: [stores]" in s and "- name: erp_stock" in s
assert "    safety_stock: 2                # hold back two units per SKU" in s
s = s.replace("    safety_stock: 2                # hold back two units per SKU",
              "    safety_stock: 2                # hold back two units per SKU\n    stale_after: 1h\n    stale_action: hold")
old = "    allocation: 50%                # the marketplace gets half of what is left\n"
assert old in s
s = s.replace(old, old + "    stale_after: 1h\n    stale_action: buffer 50%\n")
s = s.replace("    snapshot: delta ", "    snapshot: full  ")
open(p, "w").write(s)
PY
sp() {
	STOCKPIPE_STATE_DIR="$A/state" STOCKPIPE_OUT="$A/out" "$BIN" -c "$A/samples/stockpipe.yaml" "$@"
}
STOCKPIPE_NOW=2026-11-20T06:00:00Z sp check >"$TMP/check.out" 2>&1 && pass "config with authority and stale rules is valid" ||
	{ fail "check"; cat "$TMP/check.out"; }

STOCKPIPE_NOW=2026-11-20T06:00:00Z sp run >"$TMP/r1.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "run 1 exit 1 (sample rejects)" || { fail "run 1 exit $rc"; tail -20 "$TMP/r1.out"; }
grep -q "erp_stock: 'erp_counts.csv': 1 record(s) not applied: source 'erp_stock' is not the system of record" "$TMP/r1.out" &&
	pass "a non-owner's record is reported, not applied" || { fail "authority not reported"; grep -i erp_stock "$TMP/r1.out"; }
n=$(sqlite3 "$A/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.source, u.scope) = 'erp_stock' and applied = 1")
k=$(sqlite3 "$A/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.source, u.scope) = 'erp_stock' and applied = 0")
[ "$n" = 0 ] && [ "${k:-0}" -gt 0 ] && pass "the non-owner's records are kept for reconcile, never applied ($k kept)" || fail "$n applied / $k kept from erp_stock"
cmp -s "$A/out/webshop/webshop_stock_1_20261120T060000Z.csv" "$GOLD/webshop_stock_1_20261120T060000Z.csv" &&
	pass "webshop snapshot unchanged by the non-owner (golden)" || fail "webshop differs from golden"

# Two hours later the stores have sent nothing: the webshop holds, the
# marketplace holds back an extra 50%.
STOCKPIPE_NOW=2026-11-20T08:00:00Z sp run >"$TMP/r2.out" 2>&1
rc=$?
[ $rc = 0 ] && pass "run 2 exit 0" || { fail "run 2 exit $rc"; tail -20 "$TMP/r2.out"; }
grep -q "webshop: held, nothing delivered: source 'stores' (system of record for on_hand) has not delivered since 2026-11-20T06:00:00Z" "$TMP/r2.out" &&
	pass "stale owner: webshop held, and the report says why" || { fail "webshop not held"; grep webshop "$TMP/r2.out"; }
[ "$(ls "$A/out/webshop" | grep -c webshop_stock)" = 1 ] && pass "no new webshop file while held" || fail "webshop delivered while held"
grep -q "marketplace: extra 50% buffer" "$TMP/r2.out" && pass "stale owner: marketplace gets the extra buffer" || fail "no buffer note"
m2=$(ls "$A"/out/marketplace/marketplace_2_* 2>/dev/null | head -1)
if [ -n "$m2" ]; then
	q1=$(grep -o '"quantity":[0-9]*' "$A/out/marketplace/marketplace_1_20261120T060000Z.jsonl" | cut -d: -f2 | awk '{s += $1} END {print s + 0}')
	q2=$(grep -o '"quantity":[0-9]*' "$m2" | cut -d: -f2 | awk '{s += $1} END {print s + 0}')
	[ "$q2" -lt "$q1" ] && pass "buffered marketplace publishes less ($q2 < $q1)" || fail "marketplace $q2 vs $q1"
else
	fail "no buffered marketplace delivery"
fi

# The stores report again: the webshop is published again.
sed -e 's/2026-11-20 06:00/2026-11-20 08:20/' -e 's/^F012,KW-10001,14,/F012,KW-10001,20,/' \
	"$SRC/samples/drop/stores/stock_F012_20261120.csv" >"$A/samples/drop/stores/stock_F012_20261120_0820.csv"
STOCKPIPE_NOW=2026-11-20T08:30:00Z sp run >"$TMP/r3.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "run 3 exit 1 (the new file repeats two bad rows)" || { fail "run 3 exit $rc"; tail "$TMP/r3.out"; }
grep -q "webshop: delivered 'webshop_stock_3_" "$TMP/r3.out" && pass "fresh owner: webshop delivered again" || { fail "webshop not delivered"; grep webshop "$TMP/r3.out"; }
grep -q '^KW-10001,[0-9]*,23,' "$A"/out/webshop/webshop_stock_3_* && pass "new count applied (KW-10001: 17 before, 6 more counted at F012: 23)" ||
	{ fail "KW-10001 in webshop 3"; grep KW-10001 "$A"/out/webshop/webshop_stock_3_*; }

t_done

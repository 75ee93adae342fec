#!/bin/bash
# Target schedules over a simulated week with a fake clock (STOCKPIPE_NOW):
# `stockpipe run` is invoked on a grid of simulated times (every 2 hours,
# every 4 with the sanitized binary, plus 15-minute invocations around the
# windows that matter), with a new store count before each run so every
# snapshot differs. A window of invocations is skipped (the job did not run)
# and must produce one delivery when the job runs again, not one per missed
# window. The week 2026-03-23..30 holds the Berlin spring-forward night.
#
# Expected deliveries come from an oracle that knows only the hand-written
# list of scheduled instants per target and the rule "due when a scheduled
# instant passed since the target was last due".
# usage: tests/e2e/schedule.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR
A=$TMP/a
mkdir -p "$A/drop" "$A/out/six" "$A/out/weekday" "$A/out/nightly"
cat >"$A/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: stores
    path: drop
    pattern: "*.csv"
    mapping: $SRC/mappings/stores/store_stock_csv.yaml
targets:
  - name: six
    path: out/six
    mapping: $SRC/mappings/targets/webshop_stock.yaml
    schedule: "0 */6 * * *"
  - name: weekday
    path: out/weekday
    mapping: $SRC/mappings/targets/marketplace_stock.yaml
    schedule: "0 2 * * 1-5 Europe/Berlin"
  - name: nightly
    path: out/nightly
    mapping: $SRC/mappings/targets/webshop_stock.yaml
    filename: "{target}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    schedule: "30 2 * * * Europe/Berlin"
EOF
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@"; }

STEP=2
case $BIN in *build-san*) STEP=4 ;; esac

# Invocation times (one per line), and the expected delivery times per
# target, from the oracle.
python3 - "$STEP" "$TMP" <<'PY'
import sys, datetime as dt
step, tmp = int(sys.argv[1]), sys.argv[2]
UTC = dt.timezone.utc
def T(s): return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
start, end = T("2026-03-23T00:00:00Z"), T("2026-03-30T00:00:00Z")
inv = set()
t = start
while t <= end:
    inv.add(t)
    t += dt.timedelta(hours=step)
# the job did not run from 08:00 to 19:59 on Wednesday
inv = {t for t in inv if not (T("2026-03-25T08:00:00Z") <= t < T("2026-03-25T20:00:00Z"))}
# 15-minute invocations around the windows that matter
for s in ["2026-03-24T00:45:00Z", "2026-03-24T01:00:00Z", "2026-03-24T01:15:00Z",
          "2026-03-24T01:30:00Z", "2026-03-29T00:30:00Z", "2026-03-29T00:45:00Z",
          "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z", "2026-03-29T01:30:00Z"]:
    inv.add(T(s))
inv = sorted(inv)
# Scheduled instants, written by hand (UTC):
sched = {
    # 0 */6 * * *
    "six": [start + dt.timedelta(hours=6 * i) for i in range(29)],
    # 0 2 * * 1-5 Europe/Berlin: Mon-Fri 02:00 CET = 01:00Z
    # (Monday the 30th is summer time: 02:00 CEST = 00:00Z)
    "weekday": [T("2026-03-%02dT01:00:00Z" % d) for d in range(23, 28)]
               + [T("2026-03-30T00:00:00Z")],
    # 30 2 * * * Europe/Berlin: 02:30 CET = 01:30Z; on the 29th 02:30 does
    # not exist and the job runs at the end of the gap, 03:00 CEST = 01:00Z
    "nightly": [T("2026-03-%02dT01:30:00Z" % d) for d in range(23, 29)]
               + [T("2026-03-29T01:00:00Z")],
}
def iso(t): return t.strftime("%Y-%m-%dT%H:%M:%SZ")
import zoneinfo
berlin = zoneinfo.ZoneInfo("Europe/Berlin")
# each run's count is stamped with the store's local (Berlin) time
with open(tmp + "/inv", "w") as f:
    for t in inv:
        f.write(iso(t) + " " + t.astimezone(berlin).strftime("%Y-%m-%d %H:%M") + "\n")
for name, S in sched.items():
    last, out = None, []
    for t in inv:
        if last is None or any(last < s <= t for s in S):
            out.append(t)
            last = t
    with open(tmp + "/want_" + name, "w") as f:
        for t in out:
            f.write(iso(t) + "\n")
PY
[ -s "$TMP/inv" ] || { fail "oracle produced no invocations"; t_done; exit 1; }

k=0 runfail=0
while read -r now loc_time; do
	k=$((k + 1))
	printf '\xef\xbb\xbfstore,sku,qty,status,counted_at\r\nF012,KW-10001,%d,OK,%s\r\nF012,KW-10002,%d,OK,%s\r\n' \
		$((100 + k)) "$loc_time" $((7 + k % 3)) "$loc_time" >"$A/drop/count_$k.csv"
	if ! STOCKPIPE_NOW=$now sp -q run >"$TMP/run.out" 2>&1; then
		runfail=$((runfail + 1))
		[ $runfail -le 3 ] && { echo "run at $now failed:"; tail -5 "$TMP/run.out"; }
	fi
	if grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$TMP/run.out"; then
		runfail=$((runfail + 1))
		echo "sanitizer report at $now"
	fi
done <"$TMP/inv"
[ $runfail = 0 ] && pass "$k simulated runs, all exit 0" || fail "$runfail of $k runs failed"

for t in six weekday nightly; do
	sqlite3 "$A/state/state.db" "select strftime('%Y-%m-%dT%H:%M:%SZ', delivered_at, 'unixepoch') from deliveries where target = '$t' order by delivered_at" >"$TMP/got_$t"
	if cmp -s "$TMP/want_$t" "$TMP/got_$t"; then
		pass "$t: $(wc -l <"$TMP/got_$t") deliveries, exactly as scheduled"
	else
		fail "$t: deliveries differ from the schedule"
		diff "$TMP/want_$t" "$TMP/got_$t" | head -20
	fi
done
# Spot checks that do not depend on the oracle.
grep -qx '2026-03-25T20:00:00Z' "$TMP/got_six" && ! grep -q '^2026-03-25T2[1-3]' "$TMP/got_six" &&
	! grep -qE '^2026-03-25T(0[89]|1)' "$TMP/got_six" &&
	pass "missed windows 12:00 and 18:00 on Wednesday: one delivery at 20:00, none after" ||
	{ fail "six on Wednesday"; grep '^2026-03-25' "$TMP/got_six"; }
grep -qx '2026-03-24T01:00:00Z' "$TMP/got_weekday" && ! grep -q '2026-03-24T00:45' "$TMP/got_weekday" &&
	! grep -q '2026-03-24T01:15' "$TMP/got_weekday" &&
	pass "weekday: delivered at 02:00 Berlin (01:00Z), not before or after" || fail "weekday on Tuesday"
! grep -q '^2026-03-28T' "$TMP/got_weekday" && ! grep -q '^2026-03-29T' "$TMP/got_weekday" &&
	pass "weekday: nothing on Saturday and Sunday" || fail "weekday delivered on the weekend"
grep -qx '2026-03-29T01:00:00Z' "$TMP/got_nightly" && [ "$(grep -c '^2026-03-29' "$TMP/got_nightly")" = 1 ] &&
	pass "nightly 02:30 on the spring-forward night: once, at 03:00 CEST (01:00Z)" ||
	{ fail "nightly on 2026-03-29"; grep '^2026-03-29' "$TMP/got_nightly"; }
n=$(ls "$A/out/nightly" | wc -l)
[ "$n" = "$(wc -l <"$TMP/want_nightly")" ] && pass "nightly: one file per delivery ($n)" || fail "nightly has $n files"

STOCKPIPE_NOW=2026-03-30T00:00:00Z sp targets >"$TMP/targets.out" 2>&1
grep -A3 '^nightly$' "$TMP/targets.out" | grep -q 'next due       2026-03-30T00:30:00Z (2026-03-30 02:30 +02:00 Europe/Berlin)' &&
	pass "targets: nightly next due 02:30 CEST, shown in UTC and Berlin time" ||
	{ fail "targets output"; cat "$TMP/targets.out"; }

t_done

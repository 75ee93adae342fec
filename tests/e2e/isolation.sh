#!/bin/bash
# isolation.sh - failure isolation (docs/operations.md, "What stops what"):
# no single file, file name, source or target stops the pipeline. Each
# case checks that the first run concludes with the documented exit code,
# that a file dropped afterwards is delivered by the next run to every
# healthy target, that the parked unit is listed (quarantine list, show,
# metrics), and that once the cause is gone the work completes exactly
# once, without touching the state store by hand.
#   - a target folder that is a file (config class, parked; others go on)
#   - a source whose server is unreachable beside a healthy local source
#   - a file still growing while it is copied (left for the next listing)
#   - a file that vanished between the listing and the copy
#   - a 255-byte file name (the inbox name is derived)
#   - transient failures retried with backoff inside the run
# The growing and vanished cases pause the copy with strace's syscall
# delay injection; without strace they are reported skipped.
# usage: tests/e2e/isolation.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z STOCKPIPE_RETRY_BACKOFF=0
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

# setup DIR: samples and mappings in DIR, targets under DIR/out.
setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
}
sp() { # sp DIR ARGS...
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}
nfiles() { find "$1" -maxdepth 1 -type f ! -name '.*' | wc -l; }
# a store count file for store F0xx with quantity q for KW-10001
store_file() {
	printf 'store,sku,qty,status,counted_at\n%s,KW-10001,%s,OK,%s\n' \
		"$2" "$3" "$4" >"$1"
}
# on_hand DIR LOCATION SKU: the position's on_hand in the state store
on_hand() {
	sqlite3 "$1/state/state.db" "SELECT qty / 1000000 FROM positions WHERE sku = '$3'
		AND location = '$2' AND state = 0" 2>/dev/null
}
# webshop_runs DIR: the run ids of the stock files the webshop received
webshop_runs() {
	ls "$1/out/webshop" | sed -n 's/^webshop_stock_\([0-9]*\)_.*/\1/p' | sort -n | tr '\n' ' '
}
# parked DIR: "quarantine list" output
later() { date -u -d "2026-11-20 06:00 UTC + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

# ---- a target folder that is a file ----------------------------------------
d=$(t_tmpdir target)
setup "$d"
rmdir "$d/out/marketplace"
echo "not a folder" >"$d/out/marketplace"
expect_exit_d 1 "target is a file: the run concludes with exit 1 (done, a unit parked)" sp "$d" run
grep -q "is not a folder" "$T_ERR" && pass "target is a file: the error says so" ||
	{ fail "target is a file: no clear error"; t_show; }
[ "$(nfiles "$d/out/webshop")" = 2 ] &&
	pass "target is a file: the healthy targets were delivered (2 files to webshop)" ||
	fail "target is a file: webshop has $(nfiles "$d/out/webshop") files"
check "target is a file: quarantine list" sp "$d" quarantine list
grep -q "deliver.*marketplace.*config" "$T_OUT" &&
	pass "target is a file: the parked delivery is listed with class config" ||
	{ fail "target is a file: parked delivery not listed"; cat "$T_OUT"; }
check "target is a file: show 1" sp "$d" show 1
grep -q "parked" "$T_OUT" && pass "target is a file: show names the parked unit" ||
	{ fail "target is a file: show does not say parked"; t_show; }
grep -qE 'stockpipe_parked_units\{pipeline="[^"]+",class="config"\} 1' "$d/state/metrics/stockpipe.prom" &&
	pass "target is a file: metrics gauge of parked units by class" ||
	{ fail "target is a file: no parked gauge"; grep parked "$d/state/metrics/stockpipe.prom"; }
# a new file the next day: every healthy target gets it
store_file "$d/samples/drop/stores/stock_F012_20261121.csv" F012 99 "2026-11-20 07:00"
STOCKPIPE_NOW=$(later 20) expect_exit_d 1 "target is a file: the next run is a new run (exit 1, still parked)" sp "$d" run
grep -q "^run 2" "$T_ERR" && ! grep -q "resuming" "$T_ERR" &&
	pass "target is a file: run 2 is a new run, not a resume" ||
	{ fail "target is a file: run 2 was not a new run"; t_show; }
grep -q "1 new file" "$T_ERR" && pass "target is a file: the new file was fetched" ||
	{ fail "target is a file: new file not fetched"; t_show; }
[ "$(on_hand "$d" STORE-012 KW-10001)" = 99 ] && [ "$(webshop_runs "$d")" = "1 2 " ] &&
	pass "target is a file: the new count was loaded and webshop received run 2's snapshot" ||
	{ fail "target is a file: webshop did not get the new count ($(on_hand "$d" STORE-012 KW-10001); $(webshop_runs "$d"))"; ls -l "$d/out/webshop"; }
# the cause removed: delivered exactly once
rm "$d/out/marketplace"
mkdir "$d/out/marketplace"
STOCKPIPE_NOW=$(later 21) expect_exit_d 0 "target fixed: the next run delivers it (exit 0)" sp "$d" run
[ "$(nfiles "$d/out/marketplace")" = 1 ] &&
	pass "target fixed: exactly one file delivered to marketplace" ||
	fail "target fixed: marketplace has $(nfiles "$d/out/marketplace") files"
STOCKPIPE_NOW=$(later 22) expect_exit_d 0 "target fixed: a further run delivers nothing again" sp "$d" run
[ "$(nfiles "$d/out/marketplace")" = 1 ] && pass "target fixed: still one file (no duplicate)" ||
	fail "target fixed: marketplace has $(nfiles "$d/out/marketplace") files"
check "target fixed: quarantine list" sp "$d" quarantine list
grep -q "config" "$T_OUT" && { fail "target fixed: a unit is still parked"; cat "$T_OUT"; } ||
	pass "target fixed: nothing parked any more"
grep -qE 'stockpipe_parked_units\{pipeline="[^"]+",class="config"\} 0' "$d/state/metrics/stockpipe.prom" &&
	pass "target fixed: the parked gauge is back to 0" || fail "target fixed: parked gauge not 0"

# ---- an unreachable SFTP source beside a healthy local one ------------------
d=$(t_tmpdir unreachable)
setup "$d"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$d/keys"
ssh-keygen -q -t ed25519 -N '' -f "$d/keys/id" >/dev/null 2>&1
touch "$d/keys/known_hosts"
cat >>"$d/samples/stockpipe.yaml.src" <<EOF
  - name: remote_stores
    url: sftp://nobody@127.0.0.1:$port/drop
    pattern: "*.csv"
    mapping: ../mappings/stores/store_stock_csv.yaml
    ssh:
      key_file: $d/keys/id
      known_hosts: $d/keys/known_hosts
      connect_timeout: 2s
      retries: 0
EOF
awk -v add="$d/samples/stockpipe.yaml.src" '
/^# The stores. counts are the truth/ { while ((getline l < add) > 0) print l; print ""; }
{ print }' "$d/samples/stockpipe.yaml" >"$d/samples/stockpipe.yaml.new"
mv "$d/samples/stockpipe.yaml.new" "$d/samples/stockpipe.yaml"
expect_exit_d 1 "unreachable source: the run concludes with exit 1" sp "$d" run
[ "$(nfiles "$d/out/webshop")" = 2 ] && [ "$(nfiles "$d/out/marketplace")" = 1 ] &&
	pass "unreachable source: every target delivered from the healthy sources" ||
	fail "unreachable source: deliveries missing"
grep -c "transient failure; retry\|listing failed" "$T_ERR" | grep -q '^[1-9]' &&
	pass "unreachable source: the listing was retried inside the run" ||
	{ fail "unreachable source: no retry inside the run"; t_show; }
check "unreachable source: quarantine list" sp "$d" quarantine list
grep -q "fetch.*remote_stores.*(list).*transient" "$T_OUT" &&
	pass "unreachable source: the failed listing is parked, class transient" ||
	{ fail "unreachable source: not listed as parked"; cat "$T_OUT"; }
store_file "$d/samples/drop/stores/stock_F027_20261121.csv" F027 77 "2026-11-20 07:00"
STOCKPIPE_NOW=$(later 20) expect_exit_d 1 "unreachable source: the next run (source still down) exits 1" sp "$d" run
[ "$(on_hand "$d" STORE-027 KW-10001)" = 77 ] && [ "$(webshop_runs "$d")" = "1 2 " ] &&
	pass "unreachable source: the new local file was loaded and reached the webshop" ||
	fail "unreachable source: new file not delivered ($(on_hand "$d" STORE-027 KW-10001); $(webshop_runs "$d"))"
check "unreachable source: runs" sp "$d" runs
awk 'NR>1' "$T_OUT" | grep -q "failed" && { fail "unreachable source: a run is listed failed"; cat "$T_OUT"; } ||
	pass "unreachable source: both runs concluded as done"

# ---- a source that cannot advance at all: 75 --------------------------------
d=$(t_tmpdir alldown)
mkdir -p "$d/out" "$d/keys"
ssh-keygen -q -t ed25519 -N '' -f "$d/keys/id" >/dev/null 2>&1
touch "$d/keys/known_hosts"
cp -R "$SRCDIR/mappings" "$d/mappings"
cat >"$d/stockpipe.yaml" <<EOF
state_dir: state
retries: 1
sources:
  - name: remote
    url: sftp://nobody@127.0.0.1:$port/drop
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
    ssh:
      key_file: $d/keys/id
      known_hosts: $d/keys/known_hosts
      connect_timeout: 2s
      retries: 0
targets: []
EOF
expect_exit_d 75 "nothing could advance (the only source is down): exit 75" "$BIN" -c "$d/stockpipe.yaml" run
grep -q "retry 1 of 1" "$T_ERR" && pass "retries: 1 is one retry inside the run" ||
	{ fail "retries: 1 not honoured"; t_show; }
expect_exit_d 75 "the next run is a new run and concludes the same way" "$BIN" -c "$d/stockpipe.yaml" run
grep -q "^run 2" "$T_ERR" && pass "75 again, from run 2 (not a resume of run 1)" ||
	{ fail "run 2 was not a new run"; t_show; }

# ---- a 255-byte file name -----------------------------------------------------
d=$(t_tmpdir longname)
setup "$d"
long="stock_F031_$(printf 'x%.0s' $(seq 1 240)).csv"
[ ${#long} = 255 ] || echo "    (name is ${#long} bytes)"
store_file "$d/samples/drop/stores/$long" F031 31 "2026-11-20 05:00"
# and one whose every row is bad: quarantined, under a derived name too
bad="stock_F099_$(printf 'z%.0s' $(seq 1 240)).csv"
printf 'store,sku,qty,status,counted_at\nF099,KW-10001,zwölf,OK,2026-11-20 05:00\n' \
	>"$d/samples/drop/stores/$bad"
expect_exit_d 1 "255-byte name: the run concludes (exit 1: the samples' rejects)" sp "$d" run
grep -q "ENAMETOOLONG\|name too long" "$T_ERR" && { fail "255-byte name: name too long"; t_show; } ||
	pass "255-byte name: no 'name too long'"
n=$(find "$d/state/inbox/stores" -name '*_h*' | wc -l)
[ "$n" = 2 ] && pass "255-byte name: the inbox copies have derived names" ||
	{ fail "255-byte name: $n derived inbox names"; ls "$d/state/inbox/stores"; }
n=$(find "$d/state/quarantine/stores" -name '*_h*' | wc -l)
[ "$n" = 1 ] && pass "255-byte name: a quarantined copy gets a derived name" ||
	{ fail "255-byte name: quarantine copy ($n)"; ls "$d/state/quarantine/stores" 2>&1; }
check "255-byte name: quarantine list names the original file" sp "$d" quarantine list
grep -q "$bad" "$T_OUT" && pass "255-byte name: the quarantined document is listed by its name" ||
	fail "255-byte name: quarantine list lacks the name"
check "255-byte name: show 1" sp "$d" show 1
grep -q "$long" "$T_OUT" && pass "255-byte name: show names the original file" ||
	fail "255-byte name: original name not in show"
[ "$(on_hand "$d" STORE-031 KW-10001)" = 31 ] &&
	pass "255-byte name: its records were loaded" || fail "255-byte name: records not loaded"
STOCKPIPE_NOW=$(later 20) expect_exit_d 0 "255-byte name: the next run fetches nothing again" sp "$d" run
grep -q "stores: 0 new files" "$T_ERR" && pass "255-byte name: not fetched twice" ||
	{ fail "255-byte name: fetched again"; t_show; }

# ---- growing and vanished files (strace delays the copy's open) -------------
if ! command -v strace >/dev/null 2>&1; then
	skip "growing file: strace is not installed"
	skip "vanished file: strace is not installed"
else
	# pause_open DIR FILE ACTION: runs the pipeline with the open of FILE
	# delayed 3 s; ACTION (append or remove) happens once the fetch's
	# lstat of FILE was seen, i.e. after the listing, before the copy.
	pause_open() {
		local d=$1 f=$2 act=$3 log=$1/strace.log i
		: >"$log"
		(
			for i in $(seq 1 200); do
				[ "$(grep -c "$f" "$log" 2>/dev/null)" -ge 2 ] && break
				sleep 0.05
			done
			if [ "$act" = append ]; then
				printf 'F031,KW-10002,5,OK,2026-11-20 05:00\n' >>"$f"
			else
				rm -f "$f"
			fi
		) &
		STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
			strace -f -qq -o "$log" -P "$f" \
			-e trace=openat,newfstatat,lstat,stat \
			-e inject=openat:delay_enter=3000000 \
			"$BIN" -c "$d/samples/stockpipe.yaml" run >"$T_OUT" 2>"$T_ERR" </dev/null
		T_RC=$?
		wait
	}
	d=$(t_tmpdir growing)
	setup "$d"
	f=$d/samples/drop/stores/stock_F031_20261120.csv
	store_file "$f" F031 44 "2026-11-20 05:00"
	pause_open "$d" "$f" append
	if [ "$T_RC" = 1 ] && grep -q "changing" "$T_ERR"; then
		pass "growing file: set aside as changing, the run concludes (exit 1: the samples' rejects)"
	else
		fail "growing file: exit $T_RC"
		t_show
	fi
	[ -z "$(on_hand "$d" STORE-031 KW-10001)" ] && pass "growing file: nothing of it loaded yet" ||
		fail "growing file: half a file was loaded"
	STOCKPIPE_NOW=$(later 20) expect_exit_d 0 "growing file: the next run takes it once it is quiet" sp "$d" run
	grep -q "stores: 1 new file" "$T_ERR" && pass "growing file: fetched by the next listing" ||
		{ fail "growing file: not fetched"; t_show; }
	n=$(sqlite3 "$d/state/state.db" "SELECT count(*) FROM stock_events WHERE location = 'STORE-031'" 2>&1)
	[ "$n" = 2 ] && pass "growing file: both rows loaded, once" ||
		fail "growing file: STORE-031 events: $n"

	d=$(t_tmpdir vanished)
	setup "$d"
	f=$d/samples/drop/stores/stock_F031_20261120.csv
	store_file "$f" F031 45 "2026-11-20 05:00"
	pause_open "$d" "$f" remove
	if [ "$T_RC" = 1 ] && grep -q "vanished after the listing" "$T_ERR"; then
		pass "vanished file: dropped from the plan with a note, the run concludes"
	else
		fail "vanished file: exit $T_RC"
		t_show
	fi
	[ "$(nfiles "$d/out/webshop")" = 2 ] && pass "vanished file: the targets were delivered" ||
		fail "vanished file: deliveries missing"
	store_file "$f" F031 46 "2026-11-20 05:30"
	STOCKPIPE_NOW=$(later 20) expect_exit_d 0 "vanished file: sent again, the next run takes it" sp "$d" run
	grep -q "stores: 1 new file" "$T_ERR" && [ "$(on_hand "$d" STORE-031 KW-10001)" = 46 ] &&
		pass "vanished file: the new copy was fetched and loaded" ||
		{ fail "vanished file: not fetched"; t_show; }
fi

# ---- transient failures: retried with backoff inside the run ---------------
d=$(t_tmpdir backoff)
setup "$d"
rmdir "$d/out/marketplace"
echo x >"$d/out/marketplace"
sed -i 's/^reject_threshold: 25%/reject_threshold: 25%\nretries: 0/' "$d/samples/stockpipe.yaml"
expect_exit_d 1 "retries: 0 is accepted" sp "$d" run
grep -q "retry 1 of" "$T_ERR" && fail "retries: 0 still retried" || pass "retries: 0, a config failure is not retried"
sed -i 's/^retries: 0/retries: abc/' "$d/samples/stockpipe.yaml"
expect_exit_d 78 "retries: abc is a configuration error" sp "$d" run

t_done

#!/bin/bash
# The command line's conventions (issue 19): getopt_long (--opt=value and
# --opt value, bundled short options, options after arguments), `help
# [COMMAND]`, -v, --json on runs/targets/db status/quarantine list, an
# unknown run id is a usage error; a target's done_file and mode; progress
# on a terminal (under script(1)) and never when stderr is a file.
# usage: tests/e2e/cli.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR
A=$TMP/a
mkdir -p "$A/drop/stores" "$A/out/shop"
cat >"$A/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: $SRC/mappings/stores/store_stock_csv.yaml
targets:
  - name: shop
    path: out/shop
    mapping: $SRC/mappings/targets/webshop_stock.yaml
    done_file: "{base}.done"
    mode: "0640"
EOF
C=$A/stockpipe.yaml
count() { # count FILE LINES... : one CSV count file for a store
	local f=$1
	shift
	{ printf '\xef\xbb\xbfstore,sku,qty,status,counted_at\r\n'; printf '%s\r\n' "$@"; } >"$f"
}
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

count "$A/drop/stores/s1.csv" "F012,KW-10001,14,OK,2026-11-20 06:00" \
	"F012,KW-10002,30,OK,2026-11-20 06:00"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
check "run with --config=PATH" "$BIN" --config="$C" run

# ---- option syntax ------------------------------------------------------------
check "runs --limit=1 (--opt=value)" "$BIN" -c "$C" runs --limit=1
grep -q '^ *1  2026' "$T_OUT" && pass "runs --limit=1 lists run 1" || fail "runs --limit=1: $(cat "$T_OUT")"
check "runs --limit 1 (--opt value)" "$BIN" -c "$C" runs --limit 1
check "-qv bundled, -c after the command" "$BIN" -qv runs -c "$C"
check "-qc PATH bundled with a value" "$BIN" -qc "$C" runs
expect_exit_d 64 "runs --limit=0: usage" "$BIN" -c "$C" runs --limit=0
expect_exit_d 64 "runs --bogus: usage" "$BIN" -c "$C" runs --bogus
expect_exit_d 64 "runs --json=1 (a flag with a value): usage" "$BIN" -c "$C" runs --json=1
expect_exit_d 64 "-x: usage" "$BIN" -x runs

# ---- help ---------------------------------------------------------------------------
check "help" "$BIN" help
grep -q '^commands:' "$T_OUT" && pass "help prints the overview" || fail "help"
check "help show" "$BIN" help show
grep -q '^usage: stockpipe .*show RUN_ID' "$T_OUT" && pass "help show prints show's usage" || fail "help show"
expect_exit_d 64 "help nope: usage" "$BIN" help nope
check "help --help" "$BIN" help --help
grep -q '^usage: stockpipe help \[COMMAND\]' "$T_OUT" && pass "help --help prints help's own usage (the man page's source)" || fail "help --help"

# ---- show -----------------------------------------------------------------------------
expect_exit_d 64 "show 999 (no such run): usage" "$BIN" -c "$C" show 999
check "show -v 1" "$BIN" -c "$C" -v show 1
grep -q '^          in:  .*sha256 ' "$T_OUT" && pass "show -v adds each unit's input" || fail "show -v: $(cat "$T_OUT")"
"$BIN" -c "$C" show 1 >"$TMP/plain"
grep -q '^          in:  ' "$TMP/plain" && fail "show without -v has the input lines" || pass "show without -v: no input lines"

# ---- --json ---------------------------------------------------------------------------
for cmd in "runs" "targets" "db status" "quarantine list" "show 1"; do
	# shellcheck disable=SC2086 # cmd is words on purpose
	"$BIN" -c "$C" $cmd --json >"$TMP/j" 2>"$TMP/je"
	rc=$?
	if [ $rc = 0 ] && json_ok "$TMP/j"; then
		pass "$cmd --json: valid JSON"
	else
		fail "$cmd --json: exit $rc, $(head -c 300 "$TMP/j")"
	fi
done
"$BIN" -c "$C" runs --json | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r[0]["run_id"]==1 and r[0]["status"]=="done" else 1)' &&
	pass "runs --json: run 1, done" || fail "runs --json content"
"$BIN" -c "$C" targets --json | python3 -c 'import json,sys; t=json.load(sys.stdin)[0]; sys.exit(0 if t["name"]=="shop" and t["last_delivery"]["run_id"]==1 else 1)' &&
	pass "targets --json: shop, last delivery run 1" || fail "targets --json content"

# ---- done_file and mode -------------------------------------------------------------------
data=$(cd "$A/out/shop" && ls | grep -v '\.done$')
done_f=${data%.*}.done
[ -n "$data" ] && [ -f "$A/out/shop/$done_f" ] && [ ! -s "$A/out/shop/$done_f" ] &&
	pass "done_file: empty '$done_f' next to '$data'" || fail "done_file: $(ls "$A/out/shop")"
[ "$(stat -c %a "$A/out/shop/$data")" = 640 ] && [ "$(stat -c %a "$A/out/shop/$done_f")" = 640 ] &&
	pass "mode 0640 on the data and the done file" || fail "mode: $(stat -c '%a %n' "$A"/out/shop/*)"
# never before: the done file is younger than (or as old as) the data file
[ ! "$A/out/shop/$done_f" -ot "$A/out/shop/$data" ] && pass "done file not older than the data" || fail "done file older"
sed 's/mode: "0640"/mode: "640"/' "$C" >"$A/bad.yaml"
expect_exit_d 78 "mode without a leading 0: config error" "$BIN" -c "$A/bad.yaml" check
sed 's/done_file: .*/done_file: "ready"/' "$C" >"$A/bad.yaml"
expect_exit_d 78 "done_file without {file}/{base}: config error" "$BIN" -c "$A/bad.yaml" check

# ---- done_file and mode over SFTP (a real sshd, tests/e2e/lib/sshd.sh) --------------
. "$SRCDIR/tests/e2e/lib/sshd.sh"
trap 'sshd_stop; t_cleanup' EXIT
if ! sshd_start "$TMP/sshd"; then
	skip "done_file/mode over sftp: sshd did not start: $SSHD_WHY"
else
	S=$TMP/s
	mkdir -p "$S/drop" "$S/remote/out"
	cat >"$S/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: stores
    path: drop
    pattern: "*.csv"
    mapping: $SRC/mappings/stores/store_stock_csv.yaml
targets:
  - name: shop
    url: sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT$S/remote/out
    ssh:
      key_file: $SSHD_DIR/user_key
      known_hosts: $SSHD_DIR/known_hosts
      timeout: 10s
      retries: 0
    mapping: $SRC/mappings/targets/webshop_stock.yaml
    done_file: "{file}.done"
    mode: 0604
EOF
	count "$S/drop/s1.csv" "F012,KW-10001,14,OK,2026-11-20 06:00"
	check "sftp target with done_file and mode: run" "$BIN" -c "$S/stockpipe.yaml" run
	sdata=$(cd "$S/remote/out" && ls | grep -v '\.done$')
	if [ -n "$sdata" ] && [ -f "$S/remote/out/$sdata.done" ] &&
		[ "$(stat -c %a "$S/remote/out/$sdata")" = 604 ] &&
		[ "$(stat -c %a "$S/remote/out/$sdata.done")" = 604 ]; then
		pass "sftp: '$sdata' and '$sdata.done', both mode 0604"
	else
		fail "sftp done/mode: $(stat -c '%a %n' "$S"/remote/out/* 2>&1)"
	fi
	sshd_stop
fi

# ---- progress ---------------------------------------------------------------------------------
# A document that takes a few seconds in map and load: a progress line on a
# terminal (script(1) gives the process one), none when stderr is a file.
# gen FILE [ROWS]: 1 200 000 rows unless told: the load of 400 000 (the
# old size) ended within the progress line's first second on a quiet
# machine once the load got faster (2 us per record), and the terminal
# and JSON checks then saw no line.
gen() {
	awk -v n="${2:-1200000}" 'BEGIN { printf "\xef\xbb\xbfstore,sku,qty,status,counted_at\r\n";
		for (i = 0; i < n; i++)
			printf "F012,KW-%06d,%d,OK,2026-11-20 07:00\r\n", i, i % 50 }' >"$1"
}
if ! command -v script >/dev/null 2>&1; then
	skip "progress: script(1) (util-linux) not installed"
else
	export STOCKPIPE_NOW=2026-11-20T07:00:00Z
	gen "$A/drop/stores/big1.csv"
	script -qec "'$BIN' -c '$C' run" "$TMP/tty.log" >/dev/null 2>&1
	# load takes seconds here; map (faster) may end within the first
	# second on a quick machine, so only load's line is required. Its
	# reading may end within that second too: a document this large is
	# applied after it is read, in one merged pass, which has its own
	# line ("applied N/M records ... ETA").
	if grep -qaE $'\rload .*(MB/s|applied [0-9]+/[0-9]+ records.*records/s).*ETA' \
		"$TMP/tty.log"; then
		pass "progress on a terminal: load line with ETA$(grep -qa $'\rmap .*records/s' "$TMP/tty.log" && echo ', and map')"
	else
		fail "no progress under script: $(tr '\r' '\n' <"$TMP/tty.log" | tail -5)"
	fi
	export STOCKPIPE_NOW=2026-11-20T08:00:00Z
	gen "$A/drop/stores/big2.csv" 400000
	sed -i 's/KW-/KX-/' "$A/drop/stores/big2.csv"
	"$BIN" -c "$C" run >/dev/null 2>"$TMP/pipe.err"
	if grep -qa $'\r' "$TMP/pipe.err" || grep -qa 'records/s' "$TMP/pipe.err"; then
		fail "progress printed to a file"
	else
		pass "no progress when stderr is a file"
	fi
	export STOCKPIPE_NOW=2026-11-20T09:00:00Z
	gen "$A/drop/stores/big3.csv"
	sed -i 's/KW-/KY-/' "$A/drop/stores/big3.csv"
	"$BIN" -c "$C" --log-format json run >/dev/null 2>"$TMP/json.err"
	if grep -q '"event":"progress"' "$TMP/json.err" &&
		python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$TMP/json.err"; then
		pass "--log-format json: progress events, every line JSON"
	else
		fail "json progress: $(grep -c progress "$TMP/json.err") events"
	fi
fi
t_done

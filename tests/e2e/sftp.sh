#!/bin/bash
# End-to-end tests of the sftp:// connector against a real OpenSSH sshd on
# 127.0.0.1 (tests/e2e/lib/sshd.sh): the sample pipeline with SFTP sources
# and targets (golden deliveries), host key and credential failures (exit
# 78, no authentication attempted for a bad host key), a stalled server and
# a killed server mid-transfer (exit 75 when nothing could advance, else
# the unit is parked and the next run takes it: nothing lost, nothing
# twice, no temporary file under a final name), read-only target, existing
# target names (parked, exit 1: the other targets go on), hostile remote
# names, files still being written, a 255-byte remote name, a server that
# is down for one run and back for the next (fetched exactly once).
# If sshd cannot start, every test is reported skipped with the reason.
# usage: tests/e2e/sftp.sh BINARY    prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
. "$SRCDIR/tests/e2e/lib/sshd.sh"
trap 'sshd_stop; t_cleanup' EXIT
GOLD=$SRCDIR/tests/e2e/golden
GOLDEN="webshop/webshop_stock_1_20261120T060000Z.csv
marketplace/marketplace_1_20261120T060000Z.jsonl
webshop/items_1_20261120T060000Z.csv"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z STOCKPIPE_RETRY_BACKOFF=0
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG \
	STOCKPIPE_SFTP_SLOW_PUT_MS STOCKPIPE_STATE_DIR STOCKPIPE_OUT

if ! sshd_start "$T_TMP/sshd"; then
	skip "sftp tests: sshd did not start: $SSHD_WHY"
	t_done
	exit $?
fi
pass "sshd on 127.0.0.1:$SSHD_PORT accepts an sftp login"
K=$SSHD_DIR
U=$SSHD_USER

# ---- helpers ----------------------------------------------------------------

# The ssh: block, from SB_* variables (indent 4).
ssh_block() {
	echo "    ssh:"
	[ -n "${SB_KEY-$K/user_key}" ] && echo "      key_file: ${SB_KEY-$K/user_key}"
	[ -n "${SB_KH-$K/known_hosts}" ] && echo "      known_hosts: ${SB_KH-$K/known_hosts}"
	[ -n "${SB_FP:-}" ] && echo "      host_fingerprint: \"$SB_FP\""
	[ -n "${SB_PWENV:-}" ] && echo "      password_env: $SB_PWENV"
	[ -n "${SB_PHENV:-}" ] && echo "      passphrase_env: $SB_PHENV"
	echo "      timeout: ${SB_TIMEOUT:-10s}"
	echo "      connect_timeout: ${SB_TIMEOUT:-10s}"
	echo "      retries: ${SB_RETRIES:-0}"
	return 0
}

# full DIR [PORT]: samples + mappings in DIR, drop folders and target
# folders on the "server" under DIR/remote, and DIR/samples/stockpipe.yaml
# turned into its SFTP variant (every path: becomes an sftp:// url).
full() {
	local d=$1 port=${2:-$SSHD_PORT}
	rm -rf "$d"
	mkdir -p "$d/remote/out/webshop" "$d/remote/out/marketplace"
	cp -R "$SRCDIR/samples" "$d/samples"
	cp -R "$SRCDIR/mappings" "$d/mappings"
	cp -R "$SRCDIR/samples/drop" "$d/remote/drop"
	SSHBLOCK=$(ssh_block) BASE="sftp://$U@127.0.0.1:$port$d/remote" awk '
	/^    path: drop\// {
		sub(/^    path: drop\//, ""); print "    url: " ENVIRON["BASE"] "/drop/" $1
		print ENVIRON["SSHBLOCK"]; next }
	/^    path: \$\{STOCKPIPE_OUT/ {
		p = $2; sub(/.*\}/, "", p); print "    url: " ENVIRON["BASE"] "/out" p
		print ENVIRON["SSHBLOCK"]; next }
	{ print }' "$SRCDIR/samples/stockpipe.yaml" >"$d/samples/stockpipe.yaml"
}

# mini DIR [EXTRA-SOURCE-LINES]: one source "stores" at DIR/remote/in, no
# targets; DIR/stockpipe.yaml.
mini() {
	local d=$1
	rm -rf "$d"
	mkdir -p "$d/remote/in"
	cp -R "$SRCDIR/mappings" "$d/mappings"
	{
		echo "state_dir: state"
		echo "retries: ${SP_RETRIES:-0}"
		echo "sources:"
		echo "  - name: stores"
		echo "    url: sftp://$U@127.0.0.1:$SSHD_PORT$d/remote/in"
		echo "    pattern: \"*.csv\""
		echo "    mapping: mappings/stores/store_stock_csv.yaml"
		[ -n "${2:-}" ] && printf '%s\n' "$2"
		ssh_block
	} >"$d/stockpipe.yaml"
}

spf() { # spf DIR ARGS... : the full config in DIR
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" "$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}
spm() { # spm DIR ARGS... : the mini config in DIR
	local d=$1
	shift
	"$BIN" -c "$d/stockpipe.yaml" "$@"
}

# golden_ok DIR LABEL: the three deliveries byte-equal to core's goldens,
# nothing else (no hidden temporaries) in the target folders.
golden_ok() {
	local d=$1 f bad=0 n
	for f in $GOLDEN; do
		cmp -s "$GOLD/$(basename "$f")" "$d/remote/out/$f" || { bad=1; echo "    differs or missing: $f"; }
	done
	n=$(find "$d/remote/out" -type f | wc -l)
	[ "$n" = 3 ] || { bad=1; echo "    $n files in the target folders:"; find "$d/remote/out" -type f | sed 's/^/    /'; }
	[ $bad = 0 ] && pass "$2: three deliveries equal the goldens, nothing else remote" ||
		fail "$2: deliveries"
}

# no_auth_since N LABEL: the sshd log has no authentication request after
# the first N (the client never offered a user, key or password).
no_auth_since() {
	local now
	now=$(sshd_authlog_count)
	[ "$now" = "$1" ] && pass "$2: no authentication attempted (sshd log)" ||
		fail "$2: $((now - $1)) authentication request(s) reached sshd"
}

has_err() { # has_err REGEX LABEL: the last command's stderr matches
	grep -qE "$1" "$T_ERR" && pass "$2" || { fail "$2 (stderr lacks /$1/)"; t_show; }
}

# Test hooks (sanitized build): does the binary count crash points?
HOOKS=0
mini "$T_TMP/hookprobe"
cp "$SRCDIR/samples/drop/stores/"*.csv "$T_TMP/hookprobe/remote/in/" 2>/dev/null
STOCKPIPE_CRASH_LOG=$T_TMP/hookprobe/points spm "$T_TMP/hookprobe" run >/dev/null 2>&1
[ -s "$T_TMP/hookprobe/points" ] && HOOKS=1

# ---- 1. the sample pipeline over SFTP ---------------------------------------
A=$T_TMP/full
full "$A"
expect_exit_d 0 "check accepts the SFTP variant of the sample config" spf "$A" check
expect_exit_d 1 "SFTP run exits 1 like the local one (samples hold bad rows)" spf "$A" run
golden_ok "$A" "SFTP run"
n_in=$(find "$A/state/inbox" -type f ! -name '.*' | wc -l)
n_drop=$(find "$A/remote/drop" -type f | wc -l)
[ "$n_in" = "$n_drop" ] && pass "every drop file fetched once ($n_in)" ||
	fail "fetched $n_in files for $n_drop in the drop"
[ -z "$(find "$A/state/inbox" -name '.*')" ] && pass "no temporary files left in the inbox" ||
	fail "temporary files in the inbox"
expect_exit_d 0 "second SFTP run: nothing new" spf "$A" run
grep -qE ': [1-9][0-9]* new file' "$T_OUT" "$T_ERR" && fail "second run fetched files again" ||
	pass "second run fetches nothing again"
golden_ok "$A" "after the second run"

# Pinned fingerprint instead of known_hosts, in both spellings.
B=$T_TMP/pin
SB_KH= SB_FP="${SSHD_FP#SHA256:}=" full "$B"
expect_exit_d 1 "pinned fingerprint (no SHA256: prefix, '=' padded) is accepted" spf "$B" run
golden_ok "$B" "pinned run"

# ---- 2. trust and credentials -------------------------------------------
M=$T_TMP/m
mini "$M"
cp "$SRCDIR/samples/drop/stores/"*.csv "$M/remote/in/"

n=$(sshd_authlog_count)
SB_KH=$K/empty_known_hosts mini "$M"
expect_exit_d 78 "unknown host: exit 78" spm "$M" run
has_err "not in known_hosts" "unknown host: the reason says so"
no_auth_since "$n" "unknown host"
[ -z "$(find "$M/state/inbox" -type f 2>/dev/null)" ] && pass "unknown host: nothing fetched" ||
	fail "unknown host: files fetched"

n=$(sshd_authlog_count)
SB_KH=$K/other_known_hosts mini "$M"
expect_exit_d 78 "changed host key (known_hosts): exit 78" spm "$M" run
has_err "does not match known_hosts" "changed host key: the reason says so"
no_auth_since "$n" "changed host key"

n=$(sshd_authlog_count)
SB_KH= SB_FP=$SSHD_OTHER_FP mini "$M"
expect_exit_d 78 "wrong pinned fingerprint: exit 78" spm "$M" run
has_err "not the pinned" "wrong pin: the reason says so"
no_auth_since "$n" "wrong pin"

# No host key source at all is a config error, caught by check.
SB_KH= mini "$M"
expect_exit_d 78 "no known_hosts and no pin: refused by check" spm "$M" check
has_err "known_hosts or host_fingerprint" "no host key source: the reason says so"

n=$(sshd_authlog_count)
SB_KEY=$K/other_key mini "$M"
expect_exit_d 78 "unauthorised key: exit 78" spm "$M" run
has_err "refused key" "unauthorised key: the reason says so"
[ "$(sshd_authlog_count)" -gt "$n" ] && pass "unauthorised key: the server was asked (host key was fine)" ||
	fail "unauthorised key: no authentication request reached sshd"

PW='Wr0ng-Secret-4711'
SB_KEY= SB_PWENV=SP_TEST_PW mini "$M"
export SP_TEST_PW=$PW
expect_exit_d 78 "wrong password: exit 78" spm "$M" run
has_err "refused the password" "wrong password: the reason says so"
if grep -rqF "$PW" "$T_OUT" "$T_ERR" "$M/state" "$M/stockpipe.yaml" "$SSHD_LOG" 2>/dev/null; then
	fail "the password appears in output, state, config or server log"
else
	pass "the password appears nowhere (output, state, config, sshd log)"
fi
unset SP_TEST_PW
expect_exit_d 78 "password_env not set: exit 78" spm "$M" run
has_err "SP_TEST_PW.*not set" "unset password variable: the reason names it"

export SP_TEST_PH=$SSHD_PASSPHRASE
SB_KEY=$K/pass_key SB_PHENV=SP_TEST_PH mini "$M"
cp "$SRCDIR/samples/drop/stores/"*.csv "$M/remote/in/"
expect_exit_d 1 "passphrase-protected key with passphrase_env: runs" spm "$M" run
export SP_TEST_PH=not-the-passphrase
rm -rf "$M/state"
expect_exit_d 78 "wrong key passphrase: exit 78" spm "$M" run
has_err "cannot use key file" "wrong passphrase: the reason says so"
unset SP_TEST_PH

# ---- 3. stalled server ------------------------------------------------------
S=$T_TMP/stall
SB_TIMEOUT=2s mini "$S"
cp "$SRCDIR/samples/drop/stores/"*.csv "$S/remote/in/"
kill -STOP "$SSHD_PID"
start=$(date +%s)
t_run spm "$S" run
el=$(($(date +%s) - start))
kill -CONT "$SSHD_PID"
[ "$T_RC" = 75 ] && [ "$el" -le 10 ] &&
	pass "stopped listener: exit 75 after ${el}s (timeout 2s)" ||
	{ fail "stopped listener: exit $T_RC after ${el}s"; t_show; }

# A 300 MB file: big enough to catch the transfer in flight. Its header is
# not the mapping's, so once fetched it is quarantined at once.
big() { truncate -s 300M "$1/remote/in/aaa_big.csv"; }
# wait_tmp DIR: until the fetch's temporary file has data (max ~20 s).
wait_tmp() {
	local i f
	for i in $(seq 1 400); do
		f=$(find "$1/state/inbox" -name '.*.tmp' -size +0 2>/dev/null | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.05
	done
	return 1
}

S=$T_TMP/stall2
SB_TIMEOUT=3s mini "$S"
cp "$SRCDIR/samples/drop/stores/"*.csv "$S/remote/in/"
big "$S"
spm "$S" run >"$T_OUT" 2>"$T_ERR" &
runner=$!
if tmp=$(wait_tmp "$S"); then
	sess=$(sshd_sessions)
	kill -STOP $sess 2>/dev/null
	start=$(date +%s)
	sz=$(stat -c %s "$tmp" 2>/dev/null || echo 0)
	wait "$runner"
	T_RC=$?
	el=$(($(date +%s) - start))
	kill -CONT $sess 2>/dev/null
	kill -KILL $sess 2>/dev/null
	# The big file's fetch is parked; the run concludes (75 when no
	# other file could be fetched over the dead session either, else 1).
	[ "$sz" -lt 314572800 ] && { [ "$T_RC" = 75 ] || [ "$T_RC" = 1 ]; } && [ "$el" -le 20 ] &&
		pass "session stopped mid-fetch ($sz bytes in): concluded with exit $T_RC after ${el}s (timeout 3s)" ||
		{ fail "session stopped mid-fetch: exit $T_RC after ${el}s, $sz bytes"; t_show; }
	t_san_clean || fail "stalled fetch: sanitizer report"
else
	kill "$runner" 2>/dev/null
	wait "$runner"
	fail "stalled fetch: the download never started"
fi
[ -z "$(find "$S/state/inbox" -name '*big*')" ] &&
	pass "stalled fetch: no partial file in the inbox" || fail "stalled fetch left a file in the inbox"

# ---- 4. server killed mid-transfer, then resume ------------------------------
# inbox_once DIR LABEL: every remote file fetched exactly once.
inbox_once() {
	local d=$1 f c bad=0
	for f in "$d"/remote/in/*.csv; do
		c=$(find "$d/state/inbox" -type f -name "*_$(basename "$f")" ! -name '.*' | wc -l)
		[ "$c" = 1 ] || { bad=1; echo "    $(basename "$f") fetched $c times"; }
	done
	[ -z "$(find "$d/state/inbox" -name '.*')" ] || { bad=1; echo "    temp files left"; }
	[ $bad = 0 ] && pass "$2: every file fetched exactly once, no temp files" || fail "$2"
}

X=$T_TMP/kill
mini "$X"
cp "$SRCDIR/samples/drop/stores/"*.csv "$X/remote/in/"
big "$X"
spm "$X" run >"$T_OUT" 2>"$T_ERR" &
runner=$!
if wait_tmp "$X" >/dev/null; then
	kill -KILL $(sshd_sessions) 2>/dev/null
	wait "$runner"
	T_RC=$?
	{ [ "$T_RC" = 75 ] || [ "$T_RC" = 1 ]; } && grep -q "aaa_big.csv" "$T_ERR" &&
		pass "sshd session killed mid-fetch: concluded with exit $T_RC, the fetch parked" ||
		{ fail "killed mid-fetch: exit $T_RC"; t_show; }
	t_san_clean || fail "killed mid-fetch: sanitizer report"
else
	kill "$runner" 2>/dev/null
	wait "$runner"
	fail "killed mid-fetch: the download never started"
fi
[ -z "$(find "$X/state/inbox" -name '*big*')" ] &&
	pass "killed mid-fetch: no partial file in the inbox" || fail "killed mid-fetch: partial file in the inbox"
expect_exit_d 1 "the next run after the kill takes the parked file" spm "$X" run
grep -q "^run 2" "$T_ERR" && pass "the next run is run 2 (run 1 concluded)" || fail "the next run was not run 2"
inbox_once "$X" "after kill and the next run"

# With retries, the same kill is absorbed inside one run.
X=$T_TMP/kill2
SB_RETRIES=2 mini "$X"
cp "$SRCDIR/samples/drop/stores/"*.csv "$X/remote/in/"
big "$X"
spm "$X" run >"$T_OUT" 2>"$T_ERR" &
runner=$!
if wait_tmp "$X" >/dev/null; then
	kill -KILL $(sshd_sessions) 2>/dev/null
	wait "$runner"
	T_RC=$?
	[ "$T_RC" = 1 ] && grep -q "retry 1 of 2" "$T_ERR" &&
		pass "retries: 1 reconnect absorbs a killed session, run completes" ||
		{ fail "retries: exit $T_RC"; t_show; }
	t_san_clean || fail "retries: sanitizer report"
	inbox_once "$X" "after an absorbed kill"
else
	kill "$runner" 2>/dev/null
	wait "$runner"
	fail "retries: the download never started"
fi

# Upload: the test hook slows uploads so the kill lands mid-put.
if [ "$HOOKS" = 1 ]; then
	Y=$T_TMP/killput
	full "$Y"
	STOCKPIPE_SFTP_SLOW_PUT_MS=1500 spf "$Y" run >"$T_OUT" 2>"$T_ERR" &
	runner=$!
	part=
	for i in $(seq 1 600); do
		part=$(find "$Y/remote/out" -name '.*.part' 2>/dev/null | head -n 1)
		[ -n "$part" ] && break
		sleep 0.05
	done
	if [ -n "$part" ]; then
		kill -KILL $(sshd_sessions) 2>/dev/null
		wait "$runner"
		T_RC=$?
		{ [ "$T_RC" = 75 ] || [ "$T_RC" = 1 ]; } && pass "sshd session killed mid-upload: concluded with exit $T_RC" ||
			{ fail "killed mid-upload: exit $T_RC"; t_show; }
		t_san_clean || fail "killed mid-upload: sanitizer report"
		bad=$(find "$Y/remote/out" -type f ! -name '.*' | while read -r f; do
			cmp -s "$f" "$GOLD/$(basename "$f")" || echo "$f"; done)
		[ -z "$bad" ] && pass "killed mid-upload: no partial file under a final name" ||
			fail "killed mid-upload: partial final files: $bad"
		t_run spf "$Y" run
		{ [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && pass "the next run after the upload kill (exit $T_RC)" ||
			{ fail "next run after the upload kill: exit $T_RC"; t_show; }
		golden_ok "$Y" "after upload kill and the next run"
	else
		kill "$runner" 2>/dev/null
		wait "$runner"
		fail "killed mid-upload: no .part ever appeared"
	fi
else
	skip "sshd killed mid-upload: needs the test hooks of the sanitized build"
fi

# ---- 5. target side ---------------------------------------------------------
R=$T_TMP/ro
full "$R" "$SSHD_RO_PORT"
# Sources may read through the read-only port; only the targets fail.
expect_exit_d 1 "read-only target folder: the deliveries are parked, the run concludes (exit 1)" spf "$R" run
has_err "permission denied" "read-only target: the reason says so"
spf "$R" quarantine list >"$T_OUT" 2>&1
grep -q "deliver.*webshop.*config" "$T_OUT" && pass "read-only target: parked with class config" ||
	{ fail "read-only target: not parked as config"; cat "$T_OUT"; }
[ -z "$(find "$R/remote/out" -type f)" ] && pass "read-only target: nothing written" ||
	fail "read-only target: files written"

E=$T_TMP/exists
full "$E"
cp "$GOLD/webshop_stock_1_20261120T060000Z.csv" "$E/remote/out/webshop/"
expect_exit_d 1 "final name exists with identical content: treated as delivered" spf "$E" run
golden_ok "$E" "identical existing file"

E=$T_TMP/exists2
full "$E"
echo "not ours" >"$E/remote/out/webshop/webshop_stock_1_20261120T060000Z.csv"
expect_exit_d 1 "final name exists with different content: that delivery is parked (exit 1)" spf "$E" run
has_err "already exists.*different content" "different existing file: the reason says so"
[ "$(cat "$E/remote/out/webshop/webshop_stock_1_20261120T060000Z.csv")" = "not ours" ] &&
	pass "the existing different file is not overwritten" || fail "the existing file was overwritten"
[ -z "$(find "$E/remote/out" -name '.*')" ] && pass "no .part left beside it" || fail ".part left in the target"

# ---- 6. hostile names and files in progress -----------------------------------
H=$T_TMP/hostile
mini "$H"
cp "$SRCDIR/samples/drop/stores/"*.csv "$H/remote/in/"
one=$(ls "$SRCDIR/samples/drop/stores/"*.csv | head -n 1)
cp "$one" "$H/remote/in/evil"$'\n'"name.csv"
cp "$one" "$H/remote/in/ctl"$'\001'"x.csv"
cp "$one" "$H/remote/in/back\\slash.csv"
cp "$one" "$H/remote/in/%2e%2e%2fescape.csv"
ln -s /etc/passwd "$H/remote/in/link.csv"
mkdir "$H/remote/in/dir.csv"
t_run spm "$H" run
{ [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && pass "hostile names: the run completes (exit $T_RC)" ||
	{ fail "hostile names: exit $T_RC"; t_show; }
w=$(grep -c "warning: .*skipping remote file" "$T_ERR")
[ "$w" = 4 ] && pass "hostile names: 4 names refused with a warning" ||
	{ fail "hostile names: $w warnings, expected 4"; t_show; }
grep -q 'evil\\x0aname.csv' "$T_ERR" && pass "the warning shows the newline escaped" || fail "newline name not escaped in the warning"
got=$(find "$H/state/inbox" -type f ! -name '.*' | grep -cE 'evil|ctl|back|link|dir\.csv')
[ "$got" = 0 ] && pass "hostile names: none fetched, link not followed" || fail "hostile names: $got fetched"
ls "$H/state/inbox/stores/"*_%2e%2e%2fescape.csv >/dev/null 2>&1 &&
	pass "a %-encoded '..' name stays a literal name inside the inbox" || fail "%2e name not fetched literally"
[ ! -e "$H/escape.csv" ] && [ ! -e "$H/state/escape.csv" ] && pass "nothing written outside the inbox" ||
	fail "a file escaped the inbox"

# min_age: a file written just now is not taken until it has been quiet.
G=$T_TMP/growing
mini "$G" "    min_age: 1h"
f=$G/remote/in/stock_grow.csv
head -n 1 "$one" >"$f"
( for i in $(seq 1 40); do tail -n +2 "$one" | head -n 1 >>"$f"; sleep 0.1; done ) &
writer=$!
sleep 0.3
STOCKPIPE_NOW= t_run spm "$G" run
grep -q 'stores: 0 new files' "$T_OUT" "$T_ERR" && pass "a file still being written is not fetched (min_age)" ||
	{ fail "growing file fetched"; t_show; }
wait "$writer"
touch -d '2 hours ago' "$f"
STOCKPIPE_NOW= t_run spm "$G" run
got=$(find "$G/state/inbox" -type f -name '*_stock_grow.csv')
[ -n "$got" ] && cmp -s "$got" "$f" && pass "once quiet it is fetched, complete" ||
	{ fail "stable file not fetched whole"; t_show; }

# done_suffix: X only once X.done exists; after_load move takes both away.
D=$T_TMP/done
mini "$D" "    done_suffix: .done
    after_load: move"
cp "$one" "$D/remote/in/stock_d.csv"
t_run spm "$D" run
grep -q 'stores: 0 new files' "$T_OUT" "$T_ERR" && pass "done_suffix: no marker, not fetched" ||
	{ fail "done_suffix: fetched without marker"; t_show; }
: >"$D/remote/in/stock_d.csv.done"
t_run spm "$D" run
{ [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && [ -f "$D/remote/in/processed/stock_d.csv" ] &&
	[ ! -e "$D/remote/in/stock_d.csv" ] && [ ! -e "$D/remote/in/stock_d.csv.done" ] &&
	pass "done_suffix: fetched with its marker, moved to processed/, marker removed" ||
	{ fail "done_suffix with marker: exit $T_RC"; ls -la "$D/remote/in"; t_show; }

# ---- 7. failure isolation over SFTP ------------------------------------------
# A legal 255-byte remote name: fetched under a derived inbox name, once.
L=$T_TMP/longname
mini "$L"
long="stock_$(printf 'y%.0s' $(seq 1 245)).csv"
cp "$one" "$L/remote/in/$long"
t_run spm "$L" run
{ [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && ! grep -qi "name too long" "$T_ERR" &&
	pass "255-byte remote name: fetched (exit $T_RC), no 'name too long'" ||
	{ fail "255-byte remote name: exit $T_RC"; t_show; }
[ "$(find "$L/state/inbox/stores" -name '*_h*' ! -name '.*' | wc -l)" = 1 ] &&
	pass "255-byte remote name: one inbox copy under a derived name" ||
	{ fail "255-byte remote name: inbox"; ls "$L/state/inbox/stores"; }
t_run spm "$L" run
grep -q "stores: 0 new files" "$T_ERR" && pass "255-byte remote name: not fetched again" ||
	{ fail "255-byte remote name: fetched again"; t_show; }

# A server down for one run, back for the next: beside it a healthy local
# source keeps going; once the server is back its files come exactly once.
UD=$T_TMP/updown
mini "$UD"
mkdir -p "$UD/local" "$UD/out"
cp "$SRCDIR/samples/drop/stores/"*.csv "$UD/remote/in/"
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s|127.0.0.1:$SSHD_PORT|127.0.0.1:$dead|" "$UD/stockpipe.yaml"
cat >>"$UD/stockpipe.yaml" <<EOF
  - name: local
    path: local
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
targets:
  - name: shop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "shop_{run_id}.{ext}"
EOF
printf 'store,sku,qty,status,counted_at\nF031,KW-10001,5,OK,2026-11-20 05:00\n' >"$UD/local/stock_local_1.csv"
t_run spm "$UD" run
[ "$T_RC" = 1 ] && [ -f "$UD/out/shop_1.csv" ] &&
	pass "server down: the local source and the target went on (exit 1)" ||
	{ fail "server down: exit $T_RC"; t_show; }
spm "$UD" quarantine list >"$T_OUT" 2>&1
grep -q "fetch.*stores.*(list).*transient" "$T_OUT" && pass "server down: the listing is parked as transient" ||
	{ fail "server down: not parked"; cat "$T_OUT"; }
printf 'store,sku,qty,status,counted_at\nF031,KW-10001,6,OK,2026-11-20 05:30\n' >"$UD/local/stock_local_2.csv"
STOCKPIPE_NOW=2026-11-20T06:20:00Z t_run spm "$UD" run
[ "$T_RC" = 1 ] && [ -f "$UD/out/shop_2.csv" ] &&
	pass "server still down: the new local file reached the target in run 2" ||
	{ fail "server still down: exit $T_RC"; t_show; }
sed -i "s|127.0.0.1:$dead|127.0.0.1:$SSHD_PORT|" "$UD/stockpipe.yaml"
STOCKPIPE_NOW=2026-11-20T06:40:00Z t_run spm "$UD" run
{ [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && grep -q "stores: 2 new files" "$T_ERR" &&
	pass "server back: its files fetched by run 3 (exit $T_RC)" ||
	{ fail "server back: exit $T_RC"; t_show; }
STOCKPIPE_NOW=2026-11-20T07:00:00Z t_run spm "$UD" run
grep -q "stores: 0 new files" "$T_ERR" && pass "server back: nothing fetched twice" ||
	{ fail "server back: fetched again"; t_show; }
inbox_once "$UD" "server down then back"
spm "$UD" quarantine list >"$T_OUT" 2>&1
grep -q "no parked units" "$T_OUT" && pass "server back: nothing parked any more" ||
	{ fail "server back: still parked"; cat "$T_OUT"; }

t_done

#!/bin/bash
# SFTP trust as an attacker tests it (issue 18 item 3), against the real
# OpenSSH sshd of the SFTP tests (tests/e2e/lib/sshd.sh):
#   - the server's own key listed in known_hosts AND marked @revoked:
#     refused (exit 78) before any authentication request; ssh(1) refuses
#     it too (checked when ssh is installed);
#   - a known_hosts holding only a @cert-authority line for the host: exit
#     78 with "not supported", not "not in known_hosts"; next to a plain
#     entry the CA line is harmless;
#   - a private key readable by group or others: not used (exit 78, no
#     connection made), unless ssh.key_permissions: ignore;
#   - a key file that does not exist: the reason says why, never ": ok".
# A run that connects exits 1: the sample file holds two bad rows.
# usage: tests/e2e/hostile_sftp.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
. "$SRCDIR/tests/e2e/lib/sshd.sh"
trap 'sshd_stop; t_cleanup' EXIT
export STOCKPIPE_NOW=2026-11-20T06:00:00Z STOCKPIPE_RETRY_BACKOFF=0
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG \
	STOCKPIPE_SFTP_SLOW_PUT_MS STOCKPIPE_STATE_DIR STOCKPIPE_OUT

if ! sshd_start "$T_TMP/sshd"; then
	skip "hostile sftp tests: sshd did not start: $SSHD_WHY"
	t_done
	exit $?
fi
K=$SSHD_DIR
U=$SSHD_USER
HOSTKEY=$(cut -d' ' -f1,2 "$K/host_key.pub")

# mini DIR KNOWN_HOSTS KEY [EXTRA-SSH-LINE]: one source at DIR/remote/in
# holding a sample file, DIR/stockpipe.yaml.
mini() {
	local d=$1
	rm -rf "$d"
	mkdir -p "$d/remote/in"
	cp -R "$SRCDIR/mappings" "$d/mappings"
	cp "$SRCDIR/samples/drop/stores/stock_F012_20261120.csv" "$d/remote/in/"
	{
		echo "state_dir: state"
		echo "retries: 0"
		echo "sources:"
		echo "  - name: stores"
		echo "    url: sftp://$U@127.0.0.1:$SSHD_PORT$d/remote/in"
		echo "    pattern: \"*.csv\""
		echo "    mapping: mappings/stores/store_stock_csv.yaml"
		echo "    ssh:"
		echo "      key_file: $3"
		echo "      known_hosts: $2"
		echo "      timeout: 10s"
		echo "      retries: 0"
		[ -n "${4:-}" ] && echo "      $4"
	} >"$d/stockpipe.yaml"
	return 0
}
spm() { "$BIN" -c "$1/stockpipe.yaml" run; }
has_err() { # has_err REGEX LABEL
	grep -qE "$1" "$T_ERR" && pass "$2" || { fail "$2 (stderr lacks /$1/)"; t_show; }
}
no_auth_since() {
	[ "$(sshd_authlog_count)" = "$1" ] && pass "$2: no authentication attempted (sshd log)" ||
		fail "$2: an authentication request reached sshd"
}
nothing_fetched() {
	[ -z "$(find "$1/state/inbox" -type f 2>/dev/null)" ] && pass "$2: nothing fetched" ||
		fail "$2: files fetched"
}

# ---- @revoked ----------------------------------------------------------------
M=$T_TMP/revoked
{
	cat "$K/known_hosts"
	echo "@revoked * $HOSTKEY"
} >"$T_TMP/kh_revoked"
mini "$M" "$T_TMP/kh_revoked" "$K/user_key"
n=$(sshd_authlog_count)
expect_exit_d 78 "host key listed and @revoked: exit 78" spm "$M"
has_err "marked @revoked in known_hosts .* line 3" "revoked: the reason names the marker and the line"
no_auth_since "$n" "revoked"
nothing_fetched "$M" "revoked"
if command -v ssh >/dev/null 2>&1; then
	echo pwd | sftp -b - -i "$K/user_key" -P "$SSHD_PORT" -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T_TMP/kh_revoked" \
		-o GlobalKnownHostsFile=/dev/null "$U@127.0.0.1" >/dev/null 2>"$T_TMP/ssh.err"
	rc=$?
	[ $rc != 0 ] && grep -qi revoked "$T_TMP/ssh.err" &&
		pass "OpenSSH refuses the same known_hosts (the behaviour copied)" ||
		fail "OpenSSH accepted the revoked key (exit $rc)?"
fi
# A revoked key of ANOTHER host does not stop this one.
{
	cat "$K/known_hosts"
	echo "@revoked * $(cut -d' ' -f1,2 "$K/other_host_key.pub")"
} >"$T_TMP/kh_other_revoked"
mini "$M" "$T_TMP/kh_other_revoked" "$K/user_key"
expect_exit_d 1 "another key @revoked: this host still connects (exit 1: the sample's bad rows)" spm "$M"

# ---- @cert-authority ---------------------------------------------------------
echo "@cert-authority [127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$K/other_key.pub")" >"$T_TMP/kh_ca"
mini "$M" "$T_TMP/kh_ca" "$K/user_key"
n=$(sshd_authlog_count)
expect_exit_d 78 "only a @cert-authority line: exit 78" spm "$M"
has_err "@cert-authority line\(s\) \(first: line 1\) are not supported" "cert-authority: reported as not supported"
grep -q "is not in known_hosts" "$T_ERR" && fail "cert-authority reported as 'not in known_hosts'" ||
	pass "cert-authority: not reported as a missing host"
no_auth_since "$n" "cert-authority"
cat "$T_TMP/kh_ca" "$K/known_hosts" >"$T_TMP/kh_ca_plain"
mini "$M" "$T_TMP/kh_ca_plain" "$K/user_key"
expect_exit_d 1 "a @cert-authority line next to the host's plain entry: connects (exit 1: the sample's bad rows)" spm "$M"
printf '@trusted * %s\n' "$HOSTKEY" >"$T_TMP/kh_marker"
mini "$M" "$T_TMP/kh_marker" "$K/user_key"
expect_exit_d 78 "an unknown marker: exit 78" spm "$M"
has_err "line 1: unknown marker" "unknown marker: the reason names the line"

# ---- private key permissions --------------------------------------------------
cp "$K/user_key" "$T_TMP/open_key"
chmod 0644 "$T_TMP/open_key"
mini "$M" "$K/known_hosts" "$T_TMP/open_key"
n=$(grep -c 'Connection from' "$SSHD_LOG")
expect_exit_d 78 "private key readable by others (0644): exit 78" spm "$M"
has_err "permissions 0644: group or others may read it" "0644 key: the reason says why and how to fix"
[ "$(grep -c 'Connection from' "$SSHD_LOG")" = "$n" ] && pass "0644 key: no connection made" ||
	fail "0644 key: sshd saw a connection"
nothing_fetched "$M" "0644 key"
chmod 0640 "$T_TMP/open_key"
expect_exit_d 78 "private key readable by group (0640): exit 78" spm "$M"
mini "$M" "$K/known_hosts" "$T_TMP/open_key" "key_permissions: ignore"
expect_exit_d 1 "key_permissions: ignore: the 0640 key is used (exit 1: the sample's bad rows)" spm "$M"
chmod 0600 "$T_TMP/open_key"
mini "$M" "$K/known_hosts" "$T_TMP/open_key"
expect_exit_d 1 "the same key at 0600: used (exit 1: the sample's bad rows)" spm "$M"

mini "$M" "$K/known_hosts" "$T_TMP/no_such_key"
expect_exit_d 78 "missing key file: exit 78" spm "$M"
has_err "stockpipe.yaml:[0-9]*:[0-9]*: source '[a-z_]*': key_file '.*no_such_key' does not exist" "missing key file: the reason names the config line of key_file"
grep -q ": ok" "$T_ERR" && fail "missing key file: ': ok' in the message" || pass "missing key file: no ': ok'"
t_done

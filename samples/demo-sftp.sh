#!/bin/bash
# make demo-sftp: the demo with an SFTP source and SFTP targets. Starts a
# private OpenSSH sshd on 127.0.0.1 (tests/e2e/lib/sshd.sh: own host key,
# own client key, known_hosts), serves a copy of samples/drop through it,
# runs the pipeline twice, lists what was delivered over SFTP, stops sshd.
set -u
bin=${1:-build/stockpipe}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/stockpipe-demo-sftp.XXXXXX")
. "$src/tests/e2e/lib/sshd.sh"
trap 'sshd_stop' EXIT
if ! sshd_start "$work/sshd"; then
	echo "demo-sftp: cannot start the test sshd: $SSHD_WHY" >&2
	exit 69
fi
echo "== sshd on 127.0.0.1:$SSHD_PORT, host key $SSHD_FP"
remote=$work/remote
mkdir -p "$remote/out/webshop" "$remote/out/marketplace"
cp -R "$src/samples" "$work/samples"
cp -R "$src/mappings" "$work/mappings"
cp -R "$src/samples/drop" "$remote/drop"
# The demo config with every path: turned into an sftp:// url and an
# ssh: map (key file, known_hosts, timeouts).
SSHBLOCK="    ssh:
      key_file: $SSHD_DIR/user_key
      known_hosts: $SSHD_DIR/known_hosts
      timeout: 30s
      connect_timeout: 10s" \
BASE="sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT$remote" awk '
/^    path: drop\// {
	sub(/^    path: drop\//, ""); print "    url: " ENVIRON["BASE"] "/drop/" $1
	print ENVIRON["SSHBLOCK"]; next }
/^    path: \$\{STOCKPIPE_OUT/ {
	p = $2; sub(/.*\}/, "", p); print "    url: " ENVIRON["BASE"] "/out" p
	print ENVIRON["SSHBLOCK"]; next }
{ print }' "$src/samples/stockpipe.yaml" >"$work/samples/stockpipe.yaml"
cfg=$work/samples/stockpipe.yaml
export STOCKPIPE_STATE_DIR="$work/state"
grep -A4 -m1 'url: sftp' "$cfg" | sed 's/^/  /'
echo
echo "== stockpipe check"
"$bin" -c "$cfg" check || exit $?
echo
echo "== stockpipe run (fetch over SFTP, deliver over SFTP)"
"$bin" -c "$cfg" run
rc=$?
echo "exit code $rc (1 = done, with rejected records)"
echo
echo "== second run (nothing new to fetch or deliver)"
"$bin" -c "$cfg" run
rc2=$?
echo "exit code $rc2"
echo
echo "delivered over SFTP (server side):"
find "$remote/out" -type f | sort | sed 's/^/  /'
echo "state: $STOCKPIPE_STATE_DIR   sshd log: $SSHD_LOG"
[ "$rc" -le 1 ] && [ "$rc2" -le 1 ]

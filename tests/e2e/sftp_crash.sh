#!/bin/bash
# Deterministic crash sweep of the demo pipeline over SFTP (core.sh's sweep,
# against a real OpenSSH sshd on 127.0.0.1, tests/e2e/lib/sshd.sh):
#   source "stores" is read from the server (after_load: move, so every
#   fetched file goes to processed/ on the server), the three targets
#   (webshop, marketplace, webshop_items) are written to the server; the
#   supplier and erp sources stay local.
# A clean run with STOCKPIPE_CRASH_LOG counts its durable operations
# (local write/fsync/rename/fsync-dir, state commits, and the remote
# "sftp put", "sftp rename", "sftp move"); then for every N the run is
# SIGKILLed before the Nth (STOCKPIPE_CRASH_AT=N) and resumed (`resume`,
# or `run` when the kill came before the run was recorded). After each:
#   - the crash hit the same operation as the clean run's Nth (determinism);
#   - server target folders: the clean run's files, byte for byte, nothing
#     else (no .part, no temporary, no second copy under another name);
#   - server source folder: every drop file in processed/ exactly once,
#     byte-identical, none left in the drop, none lost, no numbered copy;
#   - local: each drop file fetched once, no temporary files in the state;
#   - ledger: one row per delivery, as many as the clean run; the same
#     number of stock events; PRAGMA integrity_check ok.
# Then a partner re-sends every store file (new content, same name) while
# the run is down, killed before and right after the first move: each
# version must be fetched once and end in processed/ once (none moved away
# unread). One sshd serves the whole sweep; the folders are reset between points.
# They live on tmpfs (/dev/shm) when it is writable: the crash is a process
# kill, not a power cut, so fsync cost is not what is tested (override with
# SP_CRASH_TMPDIR). SP_CRASH_RANGE=FIRST-LAST sweeps only those points (to
# debug one). After a crash at an SFTP operation or at the operation right
# after it (the commit that records it), a further `run` must fetch and
# deliver nothing. Skipped (with the reason) when the binary has no test
# hooks (the plain build) or sshd cannot start.
# usage: tests/e2e/sftp_crash.sh BINARY  prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
. "$SRCDIR/tests/e2e/lib/sshd.sh"
WORK=
trap 'sshd_stop; [ -n "$WORK" ] && rm -rf "$WORK"; t_cleanup' EXIT
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG \
	STOCKPIPE_SFTP_SLOW_PUT_MS STOCKPIPE_STATE_DIR STOCKPIPE_OUT
GOLD=$SRCDIR/tests/e2e/golden
GOLDEN="webshop/webshop_stock_1_20261120T060000Z.csv
marketplace/marketplace_1_20261120T060000Z.jsonl
webshop/items_1_20261120T060000Z.csv"

# ---- test hooks? (local run, no sshd needed) ---------------------------------
P=$T_TMP/probe
mkdir -p "$P/out/webshop" "$P/out/marketplace"
cp -R "$SRCDIR/samples" "$P/samples"
cp -R "$SRCDIR/mappings" "$P/mappings"
STOCKPIPE_CRASH_LOG=$P/points STOCKPIPE_STATE_DIR=$P/state STOCKPIPE_OUT=$P/out \
	"$BIN" -c "$P/samples/stockpipe.yaml" run >/dev/null 2>&1 </dev/null
if [ ! -s "$P/points" ]; then
	skip "SFTP crash sweep: binary built without test hooks (STOCKPIPE_CRASH_AT needs the sanitized build)"
	t_done
	exit $?
fi
rm -rf "$P"

if ! sshd_start "$T_TMP/sshd"; then
	skip "SFTP crash sweep: sshd did not start: $SSHD_WHY"
	t_done
	exit $?
fi
pass "sshd on 127.0.0.1:$SSHD_PORT accepts an sftp login"

if [ -n "${SP_CRASH_TMPDIR:-}" ]; then
	WORK=$(mktemp -d "$SP_CRASH_TMPDIR/sp-sftpcrash.XXXXXX")
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
	WORK=$(mktemp -d /dev/shm/sp-sftpcrash.XXXXXX)
fi
[ -n "$WORK" ] || WORK=$(mktemp -d "$T_TMP/work.XXXXXX")

# ---- the SFTP variant of the demo config (shared, read-only) -----------------
# CFG/samples/stockpipe.yaml: drop/stores and the three target paths become
# sftp:// urls under $WORK/d/remote; state and remote tree are reset per
# point, the config and mappings are not (nothing writes there).
CFG=$WORK/cfg
D=$WORK/d
mkdir -p "$CFG"
cp -R "$SRCDIR/samples" "$CFG/samples"
cp -R "$SRCDIR/mappings" "$CFG/mappings"
SSHBLOCK="    ssh:
      key_file: $SSHD_DIR/user_key
      known_hosts: $SSHD_DIR/known_hosts
      timeout: 20s
      connect_timeout: 20s
      retries: 0" \
BASE="sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT$D/remote" awk '
/^    path: drop\/stores/ {
	print "    url: " ENVIRON["BASE"] "/drop/stores"
	print "    after_load: move"
	print ENVIRON["SSHBLOCK"]; next }
/^    path: \$\{STOCKPIPE_OUT/ {
	p = $2; sub(/.*\}/, "", p); print "    url: " ENVIRON["BASE"] "/out" p
	print ENVIRON["SSHBLOCK"]; next }
{ print }' "$SRCDIR/samples/stockpipe.yaml" >"$CFG/samples/stockpipe.yaml"
n_url=$(grep -c 'url: sftp://' "$CFG/samples/stockpipe.yaml")
if [ "$n_url" = 4 ] && grep -q 'after_load: move' "$CFG/samples/stockpipe.yaml" &&
	! grep -qE 'path: (drop/stores|\$\{STOCKPIPE_OUT)' "$CFG/samples/stockpipe.yaml"; then
	pass "config: stores and the three targets switched to sftp://, after_load: move"
else
	fail "config: expected 4 sftp:// urls (stores + 3 targets), got $n_url"
	t_done
	exit $?
fi
STORES=$(cd "$SRCDIR/samples/drop/stores" && ls -- *.csv)

reset() { # reset: fresh state, drop folder and target folders
	rm -rf "$D"
	mkdir -p "$D/remote/out/webshop" "$D/remote/out/marketplace" \
		"$D/remote/drop" "$D/out"
	cp -R "$SRCDIR/samples/drop/stores" "$D/remote/drop/stores"
}
sp() { # sp ARGS... : stockpipe on the SFTP config, state in $D/state
	STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" \
		"$BIN" -c "$CFG/samples/stockpipe.yaml" "$@" </dev/null
}
# remote_out DIR: "NAME SHA" of every file under DIR/remote/out, sorted.
remote_out() { (cd "$1/remote/out" && find . -type f -exec sha256sum {} + | awk '{print $2, $1}' | sort); }
# ledger DIR: deliveries, duplicate (target, name) pairs, stock events,
# integrity_check - one sqlite3 process.
ledger() {
	sqlite3 "$1/state/state.db" "select count(*) from deliveries;
		select count(*) - count(distinct target || '/' || file_name) from deliveries;
		select count(*) from stock_events;
		pragma integrity_check;" 2>&1 | tr '\n' ' '
}

# check_point DIR: prints one line per problem; nothing when all is well.
check_point() {
	local d=$1 f c got
	got=$(remote_out "$d")
	if [ "$got" != "$REF_OUT" ]; then
		echo "server target folders differ from the clean run:"
		diff <(echo "$REF_OUT") <(echo "$got") | grep '^[<>]' | sed 's/^/      /'
	fi
	[ -z "$(find "$d/out" -mindepth 1 2>/dev/null)" ] || echo "files in the local output folder"
	# Source side: drop empty of csv, processed/ holds each once, intact.
	got=$(find "$d/remote/drop/stores" -type f | sed "s#^$d/remote/drop/stores/##" | sort)
	if [ "$got" != "$REF_DROP" ]; then
		echo "server source folder differs from the clean run:"
		diff <(echo "$REF_DROP") <(echo "$got") | grep '^[<>]' | sed 's/^/      /'
	fi
	for f in $STORES; do
		cmp -s "$SRCDIR/samples/drop/stores/$f" "$d/remote/drop/stores/processed/$f" ||
			echo "processed/$f missing or not the original bytes"
		c=$(find "$d/state/inbox/stores" -type f -name "*_$f" ! -name '.*' 2>/dev/null | wc -l)
		[ "$c" = 1 ] || echo "$f fetched $c times"
	done
	got=$(find "$d/remote" "$d/state" \( -name '.*' -o -name '*.part' -o -name '*.tmp' \) \
		! -name '.' 2>/dev/null)
	[ -z "$got" ] || echo "temporary files left: $(echo $got | sed "s#$d/##g")"
	got=$(ledger "$d")
	[ "$got" = "$REF_LEDGER" ] || echo "ledger (deliveries, dups, events, integrity) '$got', expected '$REF_LEDGER'"
}

# ---- the clean run --------------------------------------------------------
reset
t_run sp check
[ "$T_RC" = 0 ] && pass "check accepts the SFTP crash config" || { fail "check exit $T_RC"; t_show; }
STOCKPIPE_CRASH_LOG=$WORK/points sp run >"$T_OUT" 2>"$T_ERR"
T_RC=$?
[ "$T_RC" = 1 ] && t_san_clean && pass "clean SFTP run exits 1 (samples hold bad rows)" ||
	{ fail "clean run exit $T_RC"; t_show; }
bad=0
for f in $GOLDEN; do
	cmp -s "$GOLD/$(basename "$f")" "$D/remote/out/$f" || { bad=1; echo "    differs or missing on the server: $f"; }
done
[ "$(find "$D/remote/out" -type f | wc -l)" = 3 ] || bad=1
[ $bad = 0 ] && pass "clean run: the three deliveries on the server equal the goldens, nothing else" ||
	fail "clean run: server deliveries"
REF_OUT=$(remote_out "$D")
REF_DROP=$(for f in $STORES; do echo "processed/$f"; done | sort)
REF_LEDGER=$(ledger "$D")
case $REF_LEDGER in
"3 0 "*" ok ") pass "clean run ledger: 3 deliveries, no duplicates, integrity ok ($REF_LEDGER)" ;;
*) fail "clean run ledger: '$REF_LEDGER'" ;;
esac
problems=$(check_point "$D")
[ -z "$problems" ] && pass "clean run: drop files moved to processed/ once each, no temporary files" ||
	{ fail "clean run state"; echo "$problems" | sed 's/^/    /'; }
cp "$WORK/points" "$T_TMP/points"
total=$(wc -l <"$T_TMP/points")
kinds=$(awk '{$1 = ""; sub(/^ /, ""); print}' "$T_TMP/points" | sort | uniq -c |
	awk '{n = $1; $1 = ""; printf "%s%s %s", sep, n, substr($0, 2); sep = ", "}')
# The SFTP operations must be among the crash points, or this sweep
# would test only what core.sh already does.
if grep -q ' sftp put$' "$T_TMP/points" && grep -q ' sftp rename$' "$T_TMP/points" &&
	[ "$(grep -c ' sftp move$' "$T_TMP/points")" = "$(echo "$STORES" | wc -l)" ]; then
	pass "a clean run has $total crash points ($kinds)"
else
	fail "clean run crash points lack sftp put/rename/move: $kinds"
fi

# ---- the sweep ------------------------------------------------------------
# Per crash kind: points swept and points with problems.
declare -A k_all k_bad
crash_bad=0 kept=0 n_again=0
start=$(date +%s)
first=1 last_n=$total
case ${SP_CRASH_RANGE:-} in
[0-9]*-[0-9]*) first=${SP_CRASH_RANGE%-*} last_n=${SP_CRASH_RANGE#*-} ;;
esac
for n in $(seq "$first" "$last_n"); do
	prev_what=
	[ "$n" -gt 1 ] && prev_what=$(sed -n "$((n - 1))p" "$T_TMP/points" | cut -d' ' -f2-)
	what=$(sed -n "${n}p" "$T_TMP/points" | cut -d' ' -f2-)
	kind=$what
	case "$what|$prev_what" in
	sftp*) ;;
	*"|sftp"*) kind="after $prev_what" ;;
	esac
	k_all[$kind]=$((${k_all[$kind]:-0} + 1))
	reset
	msg=
	STOCKPIPE_CRASH_AT=$n STOCKPIPE_CRASH_LOG=$WORK/crashlog sp run >/dev/null 2>"$WORK/crash.err"
	rc=$?
	last=$(tail -n 1 "$WORK/crashlog" 2>/dev/null | cut -d' ' -f2-)
	rm -f "$WORK/crashlog"
	if [ $rc != 137 ]; then
		msg="crashed run exit $rc, expected 137 (SIGKILL)"
	elif [ "$last" != "$what" ]; then
		msg="killed at '$last', the clean run's point $n is '$what'"
	else
		tries=0
		while :; do
			sp resume >"$WORK/resume.out" 2>"$WORK/resume.err"
			rc=$?
			# Killed before the run was recorded: the next `run` does it.
			if grep -q 'nothing to resume' "$WORK/resume.err"; then
				sp run >"$WORK/resume.out" 2>"$WORK/resume.err"
				rc=$?
			fi
			tries=$((tries + 1))
			{ [ $rc -le 1 ] || [ $tries -ge 3 ]; } && break
		done
		if ! T_ERR=$WORK/resume.err t_san_clean; then
			msg="sanitizer report in the resume"
		elif [ $rc -gt 1 ]; then
			msg="resume exit $rc: $( (grep -E 'FAILED|error' "$WORK/resume.err" || tail -n 3 "$WORK/resume.err") | head -n 3)"
		else
			msg=$(check_point "$D")
		fi
		# At and right after a remote operation: the ledger and the
		# server agree, so the next scheduled run has nothing to do.
		case "$what|$prev_what" in
		sftp* | *"|sftp"*) again=1 ;;
		*) again=0 ;;
		esac
		if [ -z "$msg" ] && [ $again = 1 ]; then
			sp run >"$WORK/again.out" 2>"$WORK/again.err"
			rc=$?
			if [ $rc != 0 ]; then
				msg="the run after the resume exits $rc, expected 0"
			elif grep -qE ': [1-9][0-9]* new file|delivered ' "$WORK/again.out" "$WORK/again.err"; then
				msg="the run after the resume fetched or delivered: $(grep -E 'new file|delivered' "$WORK/again.out" "$WORK/again.err" | tr '\n' ' ')"
			else
				msg=$(check_point "$D")
				n_again=$((n_again + 1))
			fi
		fi
	fi
	if [ -n "$msg" ]; then
		crash_bad=$((crash_bad + 1))
		k_bad[$kind]=$((${k_bad[$kind]:-0} + 1))
		echo "  crash point $n ($what):"
		echo "$msg" | sed 's/^/    /'
		if [ $kept -lt 3 ]; then # keep a few for a post-mortem
			cp -R "$D" "$T_TMP/point-$n"
			cp "$WORK"/*.err "$T_TMP/point-$n/" 2>/dev/null
			kept=$((kept + 1))
		fi
	fi
done
el=$(($(date +%s) - start))
for kind in "sftp put" "sftp rename" "after sftp rename" "sftp move" "after sftp move"; do
	[ "${k_bad[$kind]:-0}" = 0 ] &&
		pass "crash at every '$kind' point (${k_all[$kind]:-0}): resumed, server side exact" ||
		fail "crash at '$kind': ${k_bad[$kind]} of ${k_all[$kind]} points went wrong"
done
want_again=$(awk '{w = $2} w == "sftp" || p == "sftp" {n++} {p = w} END {print n + 0}' "$T_TMP/points")
[ $n_again = "$want_again" ] || [ -n "${SP_CRASH_RANGE:-}" ] &&
	pass "a further run fetched and delivered nothing after $n_again crashes at/after SFTP operations" ||
	fail "only $n_again crashes at/after SFTP operations were followed by a clean further run (expected $want_again)"
[ $crash_bad = 0 ] &&
	pass "SFTP crash sweep: points $first-$last_n of $total in ${el}s, every resume byte-identical on the server, processed/ once each, no duplicates, no temporaries, integrity ok" ||
	fail "SFTP crash sweep: $crash_bad of points $first-$last_n of $total went wrong (${el}s)"

# ---- a partner re-sends a file while the run is down ----------------------
# Killed before the first move to processed/ and right after it; before the
# resume the partner uploads a new version of every store file under the
# same name. The new versions were never fetched: the resume must leave
# them in the drop (moving them would lose them), the next run fetches
# them, and every version ends in processed/ once.
first_move=$(awk '$2 == "sftp" && $3 == "move" {print $1; exit}' "$T_TMP/points")
for n in "$first_move" $((first_move + 1)); do
	reset
	STOCKPIPE_CRASH_AT=$n sp run >/dev/null 2>"$WORK/crash.err"
	rc=$?
	for f in $STORES; do # the new version: header and two rows
		head -n 3 "$SRCDIR/samples/drop/stores/$f" >"$D/remote/drop/stores/$f"
		touch -d '2026-11-20 09:00:00' "$D/remote/drop/stores/$f"
		head -n 3 "$SRCDIR/samples/drop/stores/$f" >"$WORK/new_$f"
	done
	sp resume >"$WORK/resume.out" 2>"$WORK/resume.err"
	rc2=$?
	sp run >"$WORK/again.out" 2>"$WORK/again.err"
	rc3=$?
	msg=
	[ $rc = 137 ] || msg="crashed run exit $rc, expected 137"
	{ [ $rc2 -le 1 ] && [ $rc3 -le 1 ]; } || msg="$msg; resume exit $rc2, next run exit $rc3"
	for f in $STORES; do
		for v in "$SRCDIR/samples/drop/stores/$f" "$WORK/new_$f"; do
			c=0
			for g in "$D/state/inbox/stores/"*"_$f"; do
				cmp -s "$v" "$g" && c=$((c + 1))
			done
			[ $c = 1 ] || msg="$msg; $(basename "$v") ($f) fetched $c times"
		done
		c=0
		for g in "$D/remote/drop/stores/processed/$f" "$D/remote/drop/stores/processed/$f".*; do
			[ -f "$g" ] && cmp -s "$WORK/new_$f" "$g" && c=$((c + 1))
		done
		[ $c = 1 ] || msg="$msg; the new $f is in processed/ $c times"
	done
	left=$(find "$D/remote/drop/stores" -maxdepth 1 -type f | wc -l)
	[ "$left" = 0 ] || msg="$msg; $left file(s) left in the drop"
	if [ -z "$msg" ]; then
		pass "killed at point $n ($(sed -n "${n}p" "$T_TMP/points" | cut -d' ' -f2-)), files re-sent before the resume: each version fetched once, each in processed/ once"
	else
		fail "killed at point $n, files re-sent before the resume:${msg#;}"
		ls -l "$D/remote/drop/stores" "$D/remote/drop/stores/processed" "$D/state/inbox/stores" | sed 's/^/    /'
	fi
done

t_done

# lib.sh - tiny shared helpers for end-to-end scripts (POSIX sh).
#
#   . "$(dirname "$0")/lib.sh"        # after: BIN=... (or t_init "$1")
#   t_init "$1"                       # BIN = absolute path of the binary
#   d=$(t_tmpdir name)                # fresh folder under the run's temp dir
#   check "description" cmd args...   # passes when cmd exits 0
#   expect_exit N cmd args...         # passes when cmd exits N
#   expect_exit_d N "description" cmd args...
#   same_file expected actual         # byte compare; diff on mismatch
#   pass "description" / fail "description" / skip "reason"
#   t_san_clean [FILE...]             # 0 when no sanitizer report (default $T_ERR)
#   outputs DIR                       # the files under DIR/out, sorted
#   db DIR SQL                        # sqlite3 on DIR/state/state.db
#   demo_copy DIR                     # the bundled demo in DIR (samples,
#                                     # mappings, out/webshop, out/marketplace)
#   demo_sp DIR ARGS...               # the binary on DIR's demo config:
#                                     # stdout, stderr in $T_OUT, $T_ERR, exit in $rc
#   t_done                            # prints "N passed, N failed, N skipped"
#
# Every command run through check/expect_exit has its stdout and stderr in
# $T_OUT and $T_ERR afterwards. A sanitizer report ("runtime error:",
# AddressSanitizer, LeakSanitizer) in its stderr is a failure whatever the
# exit code. The temp dir is removed at exit unless something failed.

T_PASS=0
T_FAIL=0
T_SKIP=0
T_N=0
T_TMP=
T_OUT=
T_ERR=

# BIN and SRCDIR are for the sourcing script.
# shellcheck disable=SC2034
t_init() {
	if [ -z "${1:-}" ]; then
		echo "usage: $0 BINARY" >&2
		exit 64
	fi
	case $1 in
	/*) BIN=$1 ;;
	*) BIN=$(pwd)/$1 ;;
	esac
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e.XXXXXX") || exit 70
	T_OUT=$T_TMP/.out
	T_ERR=$T_TMP/.err
	trap 't_cleanup' EXIT
	trap 'exit 130' INT TERM
}

t_cleanup() {
	if [ "$T_FAIL" -eq 0 ]; then
		rm -rf "$T_TMP"
	else
		echo "  (kept $T_TMP)"
	fi
}

demo_copy() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
}

# shellcheck disable=SC2034
demo_sp() {
	_dd=$1
	shift
	STOCKPIPE_STATE_DIR="$_dd/state" STOCKPIPE_OUT="$_dd/out" \
		"$BIN" -c "$_dd/samples/stockpipe.yaml" "$@" >"$T_OUT" 2>"$T_ERR"
	rc=$?
	t_san_clean "$T_ERR" || fail "sanitizer report in: $*"
}

t_tmpdir() {
	T_N=$((T_N + 1))
	_d=$T_TMP/${1:-d}.$T_N
	mkdir -p "$_d" && echo "$_d"
}

# T_TAG (optional): a prefix for every result line, e.g. the backend when a
# script runs the same checks on SQLite and on PostgreSQL.
pass() {
	T_PASS=$((T_PASS + 1))
	echo "ok   ${T_TAG:+[$T_TAG] }$*"
}

fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL ${T_TAG:+[$T_TAG] }$*"
}

skip() {
	T_SKIP=$((T_SKIP + 1))
	echo "skip ${T_TAG:+[$T_TAG] }$*"
}

# Shows the tail of the last command's output, indented.
t_show() {
	for _f in "$T_OUT" "$T_ERR"; do
		[ -s "$_f" ] && tail -n 15 "$_f" | sed 's/^/    | /'
	done
	return 0
}

# 0 when the files (by default the last command's stderr) hold no
# sanitizer report.
t_san_clean() {
	[ $# -gt 0 ] || set -- "$T_ERR"
	! grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$@" \
		2>/dev/null
}

# The files a run delivered under DIR/out, as ./path lines, sorted.
outputs() { (cd "$1/out" && find . -type f | sort); }

# Runs SQL on the SQLite state of DIR; errors (no state yet) print nothing.
db() { sqlite3 "$1/state/state.db" "$2" 2>/dev/null; }

# t_run cmd args... : runs the command, sets T_RC.
t_run() {
	"$@" >"$T_OUT" 2>"$T_ERR" </dev/null
	T_RC=$?
}

check() {
	_desc=$1
	shift
	t_run "$@"
	if [ "$T_RC" -ne 0 ]; then
		fail "$_desc (exit $T_RC)"
		t_show
	elif ! t_san_clean; then
		fail "$_desc (sanitizer report)"
		t_show
	else
		pass "$_desc"
	fi
}

expect_exit_d() {
	_want=$1
	_desc=$2
	shift 2
	t_run "$@"
	if [ "$T_RC" -ne "$_want" ]; then
		fail "$_desc (exit $T_RC, expected $_want)"
		t_show
	elif ! t_san_clean; then
		fail "$_desc (sanitizer report)"
		t_show
	else
		pass "$_desc"
	fi
}

expect_exit() {
	_want=$1
	shift
	expect_exit_d "$_want" "exit $_want: $(basename "$1") ${2:-} ${3:-}" "$@"
}

same_file() {
	if [ ! -f "$1" ]; then
		fail "same_file: missing expected file $1"
	elif [ ! -f "$2" ]; then
		fail "same_file: missing $2"
	elif cmp -s "$1" "$2"; then
		pass "same content: $(basename "$2")"
	else
		fail "content differs: $2 (expected $1)"
		diff -u "$1" "$2" | head -n 40 | sed 's/^/    /'
	fi
}

t_done() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}

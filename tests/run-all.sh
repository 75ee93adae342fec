#!/bin/sh
# run-all.sh - the whole test suite, as run by `make test` (after it built
# build/stockpipe, build/unit, build-san/stockpipe and build-san/unit).
#
#   1. unit tests, plain and ASan+UBSan;
#   2. the fuzz corpora: build-san/fuzz/replay_FMT over tests/corpus/FMT/
#      (every crasher and interesting input of the libFuzzer harnesses,
#      one test per file, ASan+UBSan, leaks count);
#   3. every tests/e2e/*.sh (except lib.sh and random_kill.sh) twice: with the plain binary and
#      with the sanitized one. Each script gets the binary as $1 and ends
#      with "N passed, N failed[, N skipped]".
#
# Prints every suite's own lines, then exactly one final line
# "N passed, N failed, N skipped"; exits 1 when anything failed.
# A suite that crashes, times out, prints no summary, or exits non-zero
# while reporting no failure counts as one failed test; so does a
# sanitizer report anywhere in a sanitized suite's output.
# Environment: E2E_TIMEOUT (seconds per script, default 900),
#              SP_TESTS="name ..." to run only some e2e scripts.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 70
P=0 F=0 S=0
LOG=$(mktemp -d "${TMPDIR:-/tmp}/sp-runall.XXXXXX") || exit 70
trap 'rm -rf "$LOG"' EXIT
TIMEOUT=${E2E_TIMEOUT:-900}

san_env() {
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export ASAN_OPTIONS UBSAN_OPTIONS
}
plain_env() {
	unset ASAN_OPTIONS UBSAN_OPTIONS
}

# suite NAME SANITIZED CMD... : runs one suite, adds its counts.
suite() {
	name=$1 san=$2
	shift 2
	out=$LOG/out
	echo "== $name"
	start=$(date +%s)
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 10 "$TIMEOUT" "$@" >"$out" 2>&1 </dev/null
	else
		"$@" >"$out" 2>&1 </dev/null
	fi
	rc=$?
	# Passing lines are noise at this level; failures, skips and
	# anything else (diagnostics, sanitizer reports) are shown.
	grep -vE '^ok |^[0-9]+ passed, [0-9]+ failed' "$out" | sed 's/^/  /'
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' \
		"$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "  FAIL $name: no summary line (exit $rc)"
		F=$((F + 1))
		return
	fi
	p=$(echo "$line" | sed 's/^\([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
	s=0
	case $line in
	*skipped) s=$(echo "$line" | sed 's/.* \([0-9]*\) skipped$/\1/') ;;
	esac
	P=$((P + p)) F=$((F + f)) S=$((S + s))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "  FAIL $name: timed out after ${TIMEOUT}s"
		F=$((F + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "  FAIL $name: exit $rc with no failed test"
		F=$((F + 1))
	elif [ "$rc" = 0 ] && [ "$f" != 0 ]; then
		echo "  FAIL $name: exit 0 despite $f failed"
		F=$((F + 1))
	fi
	if [ "$san" = 1 ] &&
		grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$out"; then
		echo "  FAIL $name: sanitizer report in output"
		F=$((F + 1))
	fi
	echo "   $line ($(($(date +%s) - start))s)"
}

for b in build/unit build-san/unit build/stockpipe build-san/stockpipe; do
	if [ ! -x "$b" ]; then
		echo "run-all: $b is missing (run: make test)" >&2
		F=$((F + 1))
	fi
done

plain_env
[ -x build/unit ] && suite "unit (plain)" 0 build/unit
san_env
[ -x build-san/unit ] && suite "unit (asan+ubsan)" 1 build-san/unit

# Fuzz corpus replay: a corpus directory without its replay binary (or the
# reverse) is a failure, not a silent skip.
for d in tests/corpus/*/; do
	[ -d "$d" ] || continue
	n=$(basename "$d")
	if [ -x "build-san/fuzz/replay_$n" ]; then
		suite "fuzz corpus $n (asan+ubsan)" 1 "build-san/fuzz/replay_$n" "$d"
	else
		echo "run-all: build-san/fuzz/replay_$n is missing (run: make test)" >&2
		F=$((F + 1))
	fi
done
for b in build-san/fuzz/replay_*; do
	[ -x "$b" ] || continue
	n=${b#build-san/fuzz/replay_}
	if [ ! -d "tests/corpus/$n" ]; then
		echo "  FAIL fuzz corpus $n: tests/corpus/$n is missing"
		F=$((F + 1))
	fi
done

for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	# lib.sh is helpers; random_kill.sh is `make check-crash` (minutes).
	case $n in lib | random_kill) continue ;; esac
	if [ -n "${SP_TESTS:-}" ]; then
		case " $SP_TESTS " in
		*" $n "*) ;;
		*) continue ;;
		esac
	fi
	# Scripts say which shell they need on their first line.
	sh="sh"
	head -n 1 "$t" | grep -q bash && sh=bash
	if [ -x build/stockpipe ]; then
		plain_env
		suite "e2e $n (plain)" 0 $sh "$t" "$ROOT/build/stockpipe"
	fi
	if [ -x build-san/stockpipe ]; then
		san_env
		suite "e2e $n (asan+ubsan)" 1 $sh "$t" "$ROOT/build-san/stockpipe"
	fi
done

if [ "$S" -gt 0 ]; then
	echo "$P passed, $F failed, $S skipped"
else
	echo "$P passed, $F failed"
fi
[ "$F" = 0 ]

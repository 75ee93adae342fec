#!/bin/bash
# Hostile bytes, as an attacker drops them (issue 18 item 4): a Latin-1
# file name (caf\xe9.csv, not UTF-8), a name with an ESC sequence that
# would clear the terminal, and CSV cells that are not UTF-8.
#   - with --log-format json every stderr line, reports/run-1.json and
#     every canonical record parse with a strict UTF-8 decode and a strict
#     JSON parser (bytes that are not UTF-8 become U+FFFD);
#   - in text mode (log lines, the run summary, `show`) no ESC or other
#     control byte reaches the terminal raw: it is written \x1b.
# usage: tests/e2e/hostile_bytes.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 not installed: the strict JSON parser is needed"
	t_done
	exit 0
fi

# A fresh copy of the samples with the hostile files added to stores/.
setup() {
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	st=$1/samples/drop/stores
	# Different content from the real files, so neither is skipped as
	# a duplicate: the names must travel through every stage.
	sed 's/^\(F012,[^,]*,\)[0-9]*/\17/' "$st/stock_F012_20261120.csv" \
		>"$st/caf$(printf '\351').csv"
	sed 's/^\(F027,[^,]*,\)[0-9]*/\19/' "$st/stock_F027_20261120.csv" \
		>"$st/x$(printf '\033')[2Jy.csv"
}
sp() { # sp DIR ARGS...
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}
# strict_json FILE [jsonl]: every line (or the whole file) is strict
# UTF-8 and JSON; prints the offending lines.
strict_json() {
	python3 - "$@" <<'PY'
import json, sys
path, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "lines")
data = open(path, "rb").read()
bad = 0
chunks = [data] if mode == "whole" else data.splitlines()
for c in chunks:
    try:
        json.loads(c.decode("utf-8", "strict"))
    except Exception as e:
        bad += 1
        print("    bad:", repr(c[:160]), e)
print("    %d of %d not strict JSON" % (bad, len(chunks)))
sys.exit(1 if bad or (not chunks and mode != "jsonl") else 0)
PY
}

A=$(t_tmpdir json)
setup "$A"
sp "$A" --log-format json run >"$A/o" 2>"$A/e"
rc=$?
[ $rc = 1 ] && pass "run with hostile names exits 1 (the samples hold bad rows)" || { fail "run exit $rc"; tail -5 "$A/e"; }
t_san_clean "$A/e" && pass "sanitizer clean" || fail "sanitizer report"
grep -q 'caf\\ufffd\|caf�' "$A/e" && pass "the Latin-1 name is logged with U+FFFD" || { fail "caf\\xe9 not in the log"; head -5 "$A/e"; }
strict_json "$A/e" >"$A/sj" && pass "every --log-format json line is strict UTF-8 JSON ($(wc -l <"$A/e") lines)" || { fail "invalid JSON lines"; cat "$A/sj"; }
strict_json "$A/state/reports/run-1.json" whole >"$A/sj" && pass "reports/run-1.json is strict UTF-8 JSON" || { fail "run-1.json invalid"; cat "$A/sj"; }
n=0 bad=0
for f in $(find "$A/state" -name '*.jsonl'); do
	n=$((n + 1))
	strict_json "$f" jsonl >"$A/sj" || { bad=$((bad + 1)); cat "$A/sj"; }
done
[ $n -gt 0 ] && [ $bad = 0 ] && pass "all $n JSON-lines files under the state dir are strict UTF-8 JSON" || fail "$bad of $n .jsonl files invalid"
grep -c 'x\\u001b\[2Jy.csv' "$A/e" >/dev/null && pass "the ESC name is logged as \\u001b in JSON" || fail "ESC name not escaped in JSON"

# Text mode: nothing of the ESC sequence reaches the terminal raw.
B=$(t_tmpdir text)
setup "$B"
sp "$B" run >"$B/o" 2>"$B/e"
rc=$?
[ $rc = 1 ] && pass "text run exits 1" || fail "text run exit $rc"
if LC_ALL=C grep -q "$(printf '\033')" "$B/o" "$B/e"; then
	fail "a raw ESC reached the terminal in the run's output"
	LC_ALL=C grep -n "$(printf '\033')" "$B/o" "$B/e" | cat -v | head -5
else
	pass "no raw ESC in the run's text output"
fi
grep -q 'x\\x1b\[2Jy.csv' "$B/e" && pass "the ESC name is shown as \\x1b" || { fail "ESC name not shown escaped"; grep -a 'y.csv' "$B/e" | cat -v | head -3; }
grep -q 'caf\\xe9.csv' "$B/e" && pass "the Latin-1 byte is shown as \\xe9" || { fail "caf\\xe9 not shown escaped"; grep -a 'caf' "$B/e" | cat -v | head -3; }
sp "$B" show 1 >"$B/so" 2>"$B/se"
rc=$?
if [ $rc = 0 ] && ! LC_ALL=C grep -q "$(printf '\033')" "$B/so" "$B/se"; then
	pass "show 1: no raw ESC"
else
	fail "show 1 (exit $rc) wrote a raw ESC"
	LC_ALL=C grep -n "$(printf '\033')" "$B/so" "$B/se" | cat -v | head -5
fi
t_done

#!/bin/bash
# Targets as an attacker tests them (issue 18 item 5):
#   - `check` refuses file-name templates that can give a bad name ('/',
#     '..', a control character, an unknown placeholder, more than 255
#     bytes with the largest run id) at the template's line, exit 78
#     (a run finds the bad name only at render, after loading);
#   - csv_formula_guard: true writes a supplier's "=HYPERLINK(...)" item
#     title as "'=HYPERLINK(...)" into the webshop's CSV; off by default
#     (the delivery is byte-identical to core's golden without the row).
# usage: tests/e2e/hostile_targets.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG
GOLD=$SRCDIR/tests/e2e/golden

setup() {
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
}
sp() {
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}
has_err() { # has_err REGEX LABEL
	grep -qE "$1" "$T_ERR" && pass "$2" || { fail "$2 (stderr lacks /$1/)"; t_show; }
}

# ---- file-name templates -----------------------------------------------------
long=$(printf 'a%.0s' $(seq 1 240))
for c in "..|not a file name" \
	"{utc:%Y/%m}_{run_id}.{ext}|must not contain '/'" \
	"x\\u001b[2J_{run_id}.{ext}|control character 0x1b" \
	"x\\n{run_id}.{ext}|control character 0x0a" \
	"{target}_{runid}.{ext}|unknown placeholder '\\{runid\\}'" \
	"${long}_{run_id}.{ext}|more than 255"; do
	tmpl=${c%%|*} why=${c#*|} i=$((${i:-0} + 1))
	A=$T_TMP/tmpl$i
	setup "$A"
	# The items target's filename (a double-quoted YAML scalar, so
	# \u001b and \n are YAML escapes).
	T="$tmpl" awk '/filename: "items_/ { sub(/filename: .*/, "filename: \"" ENVIRON["T"] "\"") } { print }' \
		"$A/samples/stockpipe.yaml" >"$A/y" && mv "$A/y" "$A/samples/stockpipe.yaml"
	line=$(grep -nF "filename: \"$tmpl\"" "$A/samples/stockpipe.yaml" | cut -d: -f1)
	[ -n "$line" ] || { fail "test setup: template not set"; continue; }
	expect_exit_d 78 "check refuses filename \"${tmpl:0:40}\"" sp "$A" check
	has_err "stockpipe.yaml:$line:[0-9]+: .*$why" "  ...at its line, saying $why"
done

# ---- csv_formula_guard ---------------------------------------------------------
# A supplier row whose title is a formula (the item master is
# semicolon-separated, Latin-1; the title is ASCII).
B=$T_TMP/guard
setup "$B"
f=$(ls "$B"/samples/drop/supplier/*.csv | head -n 1)
printf 'KW-66666;4006381399999;"=HYPERLINK(""http://evil.example/x"",""Preis"")";Alpenhof;Kaffee & Tee;STK;1;1,00;EUR;aktiv;AH-6666\r\n' >>"$f"
check "off by default: check accepts the config" sp "$B" check
t_run sp "$B" run
items=$B/out/webshop/items_1_20261120T060000Z.csv
grep -q '^KW-66666,.*,"=HYPERLINK(' "$items" && pass "off by default: the formula cell is written as given" ||
	{ fail "off by default: formula row not as given"; grep KW-66666 "$items"; }
grep -v '^KW-66666,' "$items" | cmp -s - "$GOLD/items_1_20261120T060000Z.csv" &&
	pass "off by default: every other row byte-identical to the golden" || fail "other rows differ from the golden"
C=$T_TMP/guard_on
setup "$C"
cp "$f" "$C/samples/drop/supplier/"
awk '{ print } /filename: "items_/ { print "    csv_formula_guard: true" }' \
	"$C/samples/stockpipe.yaml" >"$C/y" && mv "$C/y" "$C/samples/stockpipe.yaml"
check "csv_formula_guard: true is accepted by check" sp "$C" check
t_run sp "$C" run
items=$C/out/webshop/items_1_20261120T060000Z.csv
grep -q "^KW-66666,.*,\"'=HYPERLINK(" "$items" && pass "csv_formula_guard: the cell is written '=HYPERLINK(... (text to a spreadsheet)" ||
	{ fail "guard: formula cell not neutralised"; grep KW-66666 "$items"; }
grep -v '^KW-66666,' "$items" | cmp -s - "$GOLD/items_1_20261120T060000Z.csv" &&
	pass "csv_formula_guard: every other row unchanged (negative numbers too)" || { fail "guard changed other rows"; grep -v '^KW-66666,' "$items" | diff "$GOLD/items_1_20261120T060000Z.csv" - | head; }
sed -i 's/csv_formula_guard: true/csv_formula_guard: maybe/' "$C/samples/stockpipe.yaml"
expect_exit_d 78 "csv_formula_guard: maybe is refused by check" sp "$C" check
has_err "csv_formula_guard must be true or false" "  ...saying what it must be"
t_done

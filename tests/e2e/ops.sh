#!/bin/bash
# Operations commands on the demo:
#   quarantine list / show / release (a document over the reject
#   threshold; release re-maps it, --accept waives the threshold and
#   records who, when and why; the corrected stock is delivered once),
#   replay of a raw file (same txn_ids: counted as duplicates, no stock
#   change, nothing delivered again), show --html (one self-contained
#   page, checked structurally; rendered with headless Chromium when it
#   is installed), and --log-format json.
# usage: tests/e2e/ops.sh BINARY        prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
}
run_sp() { # run_sp DIR ARGS... ; output in $TMP/o, $TMP/e, exit in $rc
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@" >"$TMP/o" 2>"$TMP/e"
	rc=$?
	t_san_clean "$TMP/e" || fail "sanitizer report in: $*"
}

# ---- quarantine ------------------------------------------------------------
Q=$TMP/q
setup "$Q"
# Stores: at most 5% rejects per document, so both store files (with 2
# bad rows each) are quarantined whole.
sed -i 's|^    mapping: ../mappings/stores/store_stock_csv.yaml|&\n    reject_threshold: 5%|' "$Q/samples/stockpipe.yaml"
run_sp "$Q" run
[ $rc = 1 ] && grep -q 'quarantined' "$TMP/e" && pass "documents over the threshold are quarantined (exit 1)" ||
	{ fail "quarantine run: exit $rc"; tail -5 "$TMP/e"; }
run_sp "$Q" quarantine list
n=$(grep -c 'stock_F0' "$TMP/o")
[ $rc = 0 ] && [ "$n" = 2 ] && pass "quarantine list shows the 2 store documents" || { fail "quarantine list: exit $rc, $n rows"; cat "$TMP/o"; }
id=$(awk '/stock_F012/ { print $1 }' "$TMP/o")
run_sp "$Q" quarantine show "$id"
copy=$(awk '/^copy/ { print $2 }' "$TMP/o")
[ $rc = 0 ] && grep -q 'threshold' "$TMP/o" && [ -f "$copy" ] && grep -q '"reason"' "$TMP/o" &&
	pass "quarantine show: reason, the quarantined copy, the first rejects" || { fail "quarantine show: exit $rc"; cat "$TMP/o"; }
web_before=$(ls "$Q/out/webshop" | wc -l)
ev_before=$(db "$Q" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'stock_F012_20261120.csv'")
# Plain release: the mapping did not change, so it is quarantined again.
run_sp "$Q" quarantine release "$id"
[ $rc = 0 ] && [ "$(db "$Q" "select state from units where id = $id")" = 0 ] &&
	pass "release makes the unit pending and reopens its run" || { fail "release: exit $rc"; cat "$TMP/e"; }
run_sp "$Q" run
[ "$(db "$Q" "select state from units where id = $id")" = 5 ] &&
	pass "released without a fix: quarantined again by the next run" || fail "after plain release: state $(db "$Q" "select state from units where id = $id")"
# Release accepting the rejects: its good rows are loaded.
run_sp "$Q" quarantine release "$id" --accept --note "partner confirmed the two bad rows"
run_sp "$Q" run
ev_after=$(db "$Q" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'stock_F012_20261120.csv'")
detail=$(db "$Q" "select detail from units where id = $id")
[ "$(db "$Q" "select state from units where id = $id")" = 2 ] && [ "$ev_before" = 0 ] && [ "$ev_after" -gt 5 ] &&
	pass "release --accept: the document's $ev_after good records are loaded" ||
	{ fail "release --accept: state $(db "$Q" "select state from units where id = $id"), events $ev_before -> $ev_after"; tail -5 "$TMP/e"; }
case $detail in
"released by "*"[accept-rejects]: partner confirmed the two bad rows"*"rejects: "*)
	pass "the unit records who released it, when and why" ;;
*) fail "unit detail after release: $detail" ;;
esac
run_sp "$Q" quarantine list
grep -q 'stock_F012' "$TMP/o" && fail "F012 still listed as quarantined" || pass "quarantine list no longer shows it"
web_after=$(ls "$Q/out/webshop" | wc -l)
[ "$web_after" = $((web_before + 1)) ] && pass "the corrected webshop snapshot is delivered once" ||
	fail "webshop files $web_before -> $web_after"
run_sp "$Q" run
[ "$(ls "$Q/out/webshop" | wc -l)" = "$web_after" ] && pass "the next run delivers nothing more" || fail "delivered again"
run_sp "$Q" quarantine release 1
[ $rc = 64 ] && pass "release of a unit that is not quarantined: exit 64" || fail "release of a fetch unit: exit $rc"
run_sp "$Q" quarantine bogus
[ $rc = 64 ] && pass "unknown quarantine action: exit 64" || fail "unknown action: exit $rc"

# ---- replay ------------------------------------------------------------------
R=$TMP/r
setup "$R"
run_sp "$R" run
ev=$(db "$R" "select count(*) from stock_events")
pos=$(db "$R" "select group_concat(sku || location || state || qty) from positions")
deliv=$(find "$R/out" -type f | wc -l)
file=$(ls "$R"/state/inbox/stores/*stock_F027* | head -1)
run_sp "$R" replay "$file" --source stores
dupes=$(db "$R" "select sum(dupes) from units where stage = 'load' and run_id = 2")
loaded=$(db "$R" "select sum(records_out) from units where stage = 'load' and run_id = 2")
[ $rc -le 1 ] && [ "${dupes:-0}" -gt 0 ] && [ "${loaded:-x}" = 0 ] &&
	pass "replay maps and loads the file again: $dupes duplicates, nothing applied twice" ||
	{ fail "replay: exit $rc, dupes $dupes, applied $loaded"; tail -5 "$TMP/e"; }
[ "$(db "$R" "select count(*) from stock_events")" = "$ev" ] &&
	[ "$(db "$R" "select group_concat(sku || location || state || qty) from positions")" = "$pos" ] &&
	pass "replay leaves stock events and positions unchanged" || fail "replay changed the stock"
[ "$(find "$R/out" -type f | wc -l)" = "$deliv" ] && pass "replay delivers nothing (unchanged snapshots)" || fail "replay delivered"
[ -f "$R/samples/drop/stores/$(basename "$file" | sed 's/^[0-9]*_//')" ] && pass "replay leaves the source folder alone" || fail "source file moved"
run_sp "$R" replay "$file" --source nosuch
[ $rc = 64 ] && pass "replay with an unknown source: exit 64" || fail "replay unknown source: exit $rc"
run_sp "$R" replay "$TMP/missing.csv" --source stores
[ $rc = 64 ] && pass "replay of a missing file: exit 64" || fail "replay missing file: exit $rc"

# ---- show --html ---------------------------------------------------------------
run_sp "$Q" show 1 --html
html=$(cat "$TMP/o")
if [ $rc = 0 ] && [ -f "$html" ]; then
	pass "show --html writes $(basename "$html")"
else
	fail "show --html: exit $rc"; cat "$TMP/e"
fi
python3 - "$html" <<'PY' && pass "the HTML page: well-formed, self-contained, all sections, rejects with file:line:col" || fail "HTML structure"
import sys
from html.parser import HTMLParser
page = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    void = {"meta", "br", "img", "hr", "input", "link"}
    def __init__(self):
        super().__init__(); self.stack = []; self.ids = set(); self.ext = []; self.tags = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if "id" in a: self.ids.add(a["id"])
        for k in ("src", "href"):
            if k in a: self.ext.append(a[k])
        if tag == "script": self.ext.append("script")
        if tag not in self.void: self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()
p = P(); p.feed(page); p.close()
assert not p.stack, p.stack
assert not p.ext, p.ext
for s in ("stages", "timeline", "sources", "targets", "quarantine", "rejects", "deliveries"):
    assert s in p.ids, s
assert "stock_F027_20261120.csv:13:1" in page
assert "not found in lookup" in page
assert "webshop_stock_1_20261120T060000Z.csv" in page
assert page.count('class="bar') >= 10
PY
if command -v chromium >/dev/null; then
	prof=$(mktemp -d)
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--screenshot="$TMP/page.png" --window-size=1200,1600 "file://$html" >/dev/null 2>&1
	rm -rf "$prof"
	size=$(wc -c <"$TMP/page.png" 2>/dev/null || echo 0)
	[ "$size" -gt 20000 ] && pass "headless Chromium renders the page ($size bytes of PNG)" || fail "chromium screenshot ($size bytes)"
else
	skip "chromium not installed: page not rendered"
fi

# ---- JSON logs ------------------------------------------------------------------
J=$TMP/j
setup "$J"
run_sp "$J" --log-format json run
python3 - "$TMP/e" <<'PY' && pass "--log-format json: JSON lines with ts, level, run_id, msg; rejects as warn; one report event" || fail "JSON log lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert all({"ts", "level"} <= set(o) for o in lines)
assert any(o["level"] == "warn" and "zwölf" in o.get("msg", "") for o in lines)
rep = [o for o in lines if o.get("event") == "report"]
assert len(rep) == 1 and rep[0]["report"]["rejects"] == 10 and rep[0]["run_id"] == 1
assert all(o.get("run_id") == 1 for o in lines[1:])
PY
all_json() { # all_json FILE: every line parses as a JSON object, one at least
	python3 - "$1" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines and all(isinstance(json.loads(l), dict) for l in lines)
assert any(json.loads(l)["level"] == "error" for l in lines)
PY
}
run_sp "$J" --log-format json run --bogus
[ $rc = 64 ] && all_json "$TMP/e" && pass "--log-format json: a usage error (and its usage text) is all JSON lines on stderr" || { fail "usage error as JSON (exit $rc)"; sed "s/^/    | /" "$TMP/e" | tail -n 15; }
run_sp "$J" --log-format json map try
[ $rc = 64 ] && all_json "$TMP/e" && pass "--log-format json: map try without arguments is all JSON lines" || { fail "map try usage as JSON (exit $rc)"; sed "s/^/    | /" "$TMP/e" | tail -n 15; }
printf 'sources:\n  - name: "bad name"\n    path: /tmp\n' >"$J/bad.yaml"
for c in check run; do
	STOCKPIPE_STATE_DIR="$J/state" "$BIN" -c "$J/bad.yaml" --log-format json $c >"$TMP/o" 2>"$TMP/e"
	rc=$?
	[ $rc = 78 ] && all_json "$TMP/e" && pass "--log-format json: a config error in $c is all JSON lines on stderr" || { fail "config error in $c as JSON (exit $rc)"; sed "s/^/    | /" "$TMP/e" | tail -n 15; }
done
run_sp "$J" --log-format xml run
[ $rc = 64 ] && pass "--log-format xml: exit 64" || fail "--log-format xml: exit $rc"

t_done

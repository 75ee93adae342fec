#!/bin/bash
# The run's HTML page (`show RUN --html`) on real runs of the demo:
#   run 1: the marketplace folder cannot be written (chmod 0555, or
#          chattr +i as root, where permission bits do not stop anyone):
#          its delivery fails beside the published webshop; rejects,
#          among them a CSV row with quoted commas and HTML specials
#          (exit 1: an amber badge; the row split into its cells);
#   run 2: the folder fixed, the retry command the page gives, run as
#          written, delivers the marketplace;
#   run 3: a new store count: a clean run (green), the webshop panel
#          shows the change against the previous delivery;
#   run 4: nothing new: nothing delivered, and no empty section;
#   run 5: the store source silent past stale_after: the extra buffer
#          held back is named;
# and a run the store says failed (red); then an X12 file with three
# warnings: the page's Warnings section, each warning located as `show`
# prints it, and 40 such files: 100 rows, then "... and 20 more" (the demo's
# pages have no Warnings heading: no empty section). Every page is checked for
# well-formed, self-contained HTML and for headings without content, and
# rendered with headless Chromium when it is installed.
# usage: tests/e2e/html_report.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG
export STOCKPIPE_RETRY_BACKOFF=0s

# The marketplace folder made unwritable; undone at exit whatever happens.
LOCKED=
LOCKED_DIR=
lock_folder() {
	LOCKED_DIR=$1
	if [ "$(id -u)" != 0 ]; then
		chmod 0555 "$1" && LOCKED=chmod
	elif command -v chattr >/dev/null && chattr +i "$1" 2>/dev/null; then
		LOCKED=chattr
	fi
}
unlock_folder() {
	case $LOCKED in
	chmod) chmod 0755 "$LOCKED_DIR" ;;
	chattr) chattr -i "$LOCKED_DIR" ;;
	esac
	LOCKED=
}
. "$SRCDIR/tests/e2e/lib/pg.sh"
trap 'unlock_folder; pg_stop; t_cleanup' EXIT
trap 'exit 129' HUP

# setup [URL]: a fresh copy of the demo in $D (its state store the
# PostgreSQL database URL when given); q SQL queries that store.
PGDB=
setup() {
	rm -rf "$D"
	mkdir -p "$D/out/webshop" "$D/out/marketplace"
	cp -R "$SRC/samples" "$D/samples"
	cp -R "$SRC/mappings" "$D/mappings"
	# webshop: a source silent for 30 minutes costs it an extra 20% buffer
	sed -i 's|^    safety_stock: 2  .*|&\n    stale_after: 30m\n    stale_action: buffer 20%|' "$D/samples/stockpipe.yaml"
	grep -q 'stale_after: 30m' "$D/samples/stockpipe.yaml" || fail "config edit: stale_after not added"
	# a store row whose quantity is quoted, with commas and HTML specials
	printf '%s\n' 'store,sku,qty,status,counted_at' \
		'F012,KW-10002,"1,5 <b>&""x",OK,"2026-11-20 06:10"' \
		'F012,KW-10001,21,OK,2026-11-20 06:10' >"$D/samples/drop/stores/stock_F012_20261120b.csv"
	if [ -n "${1:-}" ]; then
		printf 'state_db: %s\nstate_db_password_env: %s\n' "$1" \
			"$PG_PASSWORD_ENV" >>"$D/samples/stockpipe.yaml"
	fi
}
q() {
	if [ -n "$PGDB" ]; then
		pg_psql "$PGDB" "$1"
	else
		db "$D" "$1"
	fi
}

run_sp() { # run_sp NOW ARGS...: exit in $rc, stdout in $TMP/o, stderr in $TMP/e
	local now=$1
	shift
	STOCKPIPE_NOW=$now STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" \
		"$BIN" -c "$D/samples/stockpipe.yaml" "$@" >"$TMP/o" 2>"$TMP/e" </dev/null
	rc=$?
	t_san_clean "$TMP/e" || fail "sanitizer report in: $*"
}
page() { # page RUN: writes the run's page; its path in $html
	run_sp 2026-11-20T09:00:00Z show "$1" --html
	html=$(cat "$TMP/o")
	[ $rc = 0 ] && [ -s "$html" ] || { fail "show $1 --html: exit $rc"; cat "$TMP/e"; html=/dev/null; }
}

# Well-formed, self-contained, every heading with content; then the
# checks given as Python expressions over `page` (the text) and `text`
# (the page's visible text, one block per line).
check_page() { # check_page FILE DESCRIPTION PYTHON-ASSERTIONS
	python3 - "$1" "$3" <<'PY' && pass "$2" || fail "$2"
import sys, re, html
from html.parser import HTMLParser
page = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    void = {"meta", "br", "img", "hr", "input", "link"}
    def __init__(self):
        super().__init__(); self.stack = []; self.ext = []; self.events = []; self.ids = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a: self.ids.add(a["id"])
        for k in ("src", "href"):
            if k in a: self.ext.append(a[k])
        if tag in ("script", "link", "iframe", "img"): self.ext.append(tag)
        if re.fullmatch(r"h[1-4]", tag): self.events.append(("h", int(tag[1]), ""))
        if tag not in self.void: self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()
    def handle_data(self, d):
        if self.stack and self.stack[-1] in ("style", "title"): return
        inh = any(re.fullmatch(r"h[1-4]", t) for t in self.stack)
        if d.strip(): self.events.append(("hd" if inh else "t", 0, d.strip()))
p = P(); p.feed(page); p.close()
assert not p.stack, p.stack
assert not p.ext, p.ext
ev = p.events
for i, e in enumerate(ev):
    if e[0] != "h": continue
    j = i + 1
    while j < len(ev) and ev[j][0] == "hd": j += 1
    title = " ".join(x[2] for x in ev[i + 1:j])
    k = j
    has = False
    while k < len(ev) and not (ev[k][0] == "h" and ev[k][1] <= e[1]):
        if ev[k][0] == "t": has = True; break
        k += 1
    assert has, "empty section: h%d %r" % (e[1], title)
text = "\n".join(x[2] for x in ev)
import textwrap
exec(textwrap.dedent(sys.argv[2]))
PY
}

scenario() { # scenario [PG-URL]: the runs and their pages on one store
	# ---- run 1: a failed delivery beside a published one; rejects ---------------
	lock_folder "$D/out/marketplace"
	if [ -z "$LOCKED" ]; then
		skip "cannot make a folder unwritable here (root without chattr): no failed delivery"
	fi
	run_sp 2026-11-20T06:00:00Z run
	[ $rc = 1 ] && pass "run 1: exit 1 (rejects, a parked delivery)" || { fail "run 1: exit $rc"; tail -5 "$TMP/e"; }
	unlock_folder "$D/out/marketplace"
	mkt_unit=$(q "select id from units where run_id = 1 and stage = 'deliver' and scope = 'marketplace'")
	page 1
	cp "$html" "$D/run1.html"
	if [ -n "$mkt_unit" ] && [ "$(q "select state from units where id = $mkt_unit")" = 3 ]; then
		check_page "$D/run1.html" "run 1 page: marketplace FAILED, not published; webshop published; next step: fix the folder, retry $mkt_unit" "
	import re
	rows = dict(re.findall(r'<tr class=\"[a-z]*\"><td>([a-z_]+)</td><td>([^<]+)</td>', page))
	assert rows.get('webshop') == 'published', rows
	assert rows.get('marketplace') == 'FAILED: not delivered', rows
	assert 'marketplace &mdash; FAILED: not delivered</h3>' in page
	# the failed target's panel shows no published file, no stock
	panel = page.split('marketplace &mdash;')[1].split('<div class=\"panel')[0]
	assert '<h4>Published</h4>' not in panel and 'Stock published' not in panel, panel
	assert 'The rendered file waits in the outbox, not published' in panel
	assert 'Fix the target folder' in panel and '$D/out/marketplace' in panel
	assert re.search(r'<code class=\"cmd\">stockpipe -c \S+stockpipe.yaml --state-dir \S+ retry $mkt_unit</code>', panel), panel
	assert 'quarantine release' not in panel
	# in the failures table too, with the same next step
	assert re.search(r'<td>$mkt_unit</td><td>deliver</td><td>marketplace</td>.*Fix the target folder.*retry $mkt_unit</code>', page)
	"
	else
		skip "run 1: the marketplace delivery did not fail (folder not locked): failed-delivery checks"
	fi
	check_page "$D/run1.html" "run 1 page: amber badge for exit 1, with what made it amber" "
	assert 'class=\"status s-warn\" title=\"exit 1\">done with 11 rejects' in page, re.findall(r'<span class=\"status[^<]*', page)
	assert 'status s-ok' not in page and 'status s-bad' not in page
	"
	check_page "$D/run1.html" "run 1 page: a quoted CSV reject split into its cells by libcsv, HTML escaped" "
	i = page.index('stock_F012_20261120b.csv:2')
	row = page[i:page.index('</tr></table>', i)]
	assert '<table class=\"cells\"><tr><td>F012</td><td>KW-10002</td><td>1,5 &lt;b&gt;&amp;&quot;x</td><td>OK</td><td>2026-11-20 06:10</td>' in row, row
	# a semicolon source split by its own delimiter
	assert '<td>KW-10014</td><td>4006381334051</td><td>Geschirrtuch Leinen 3er-Pack</td>' in page
	assert '<b>' not in page.split('<body>')[1]
	"
	check_page "$D/run1.html" "run 1 page: rejects name the mapping and the command to map the saved files again" "
	assert re.search(r'stores: fix the mapping <code>\S+store_stock_csv.yaml</code>.*rerun 1 --from map --source stores</code>', page)
	"

	# ---- run 2: the folder fixed, the page's own retry command ---------------------
	if [ -n "$mkt_unit" ] && [ "$(q "select state from units where id = $mkt_unit")" = 3 ]; then
		cmd=$(python3 -c '
import html, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
panel = page.split("marketplace &mdash;")[1]
print(html.unescape(re.search(r"<code class=\"cmd\">(stockpipe [^<]*retry [0-9]+)</code>", panel).group(1)))
	' "$D/run1.html")
		# the config reads $STOCKPIPE_OUT: the operator's environment
		STOCKPIPE_OUT="$D/out" STOCKPIPE_NOW=2026-11-20T06:05:00Z eval "\"\$BIN\"${cmd#stockpipe}" >"$TMP/o" 2>"$TMP/e" </dev/null
		rc=$?
		[ $rc = 0 ] && [ "$(find "$D/out/marketplace" -type f | wc -l)" = 1 ] &&
			pass "the page's command, run as written ($cmd): exit 0, the marketplace delivered once" ||
			{ fail "the page's retry command ($cmd): exit $rc"; tail -5 "$TMP/e"; }
		page 1
		check_page "$html" "run 1 page after the retry: the failed delivery points at run 2, which took it over" "
	panel = page.split('marketplace &mdash; FAILED: not delivered</h3>')[1].split('</div>')[0]
	assert re.search(r'Taken over by a later run: <code class=\"cmd\">stockpipe -c \S+ --state-dir \S+ show 2 --html</code>', panel), panel
	assert 'failed (transient), retried in run 2' in page
	"
		page 2
		check_page "$html" "run 2 page: the marketplace published, its first delivery" "
	panel = page.split('marketplace &mdash; published</h3>')[1].split('</div>')[0]
	assert 'The first delivery to this target: nothing to compare with.' in panel, panel
	assert '<dt>rows</dt><dd>15</dd>' in panel
	"
	else
		run_sp 2026-11-20T06:05:00Z run
	fi

	# ---- run 3: a new count: green; changes vs the previous delivery -------------
	printf '%s\n' 'store,sku,qty,status,counted_at' 'F012,KW-10001,40,OK,2026-11-20 06:15' \
		>"$D/samples/drop/stores/stock_F012_20261121.csv"
	run_sp 2026-11-20T06:12:00Z run
	[ $rc = 0 ] && pass "run 3: exit 0" || { fail "run 3: exit $rc"; tail -5 "$TMP/e"; }
	page 3
	cp "$html" "$D/run3.html"
	check_page "$D/run3.html" "run 3 page: green badge" "
	assert 'class=\"status s-ok\" title=\"exit 0\">done</span>' in page
	"
	w1=$(awk -F, '$1 == "KW-10001" { print $3 }' "$D"/out/webshop/webshop_stock_1_*.csv)
	w2=$(awk -F, '$1 == "KW-10001" { print $3 }' "$D"/out/webshop/webshop_stock_3_*.csv)
	check_page "$D/run3.html" "run 3 page: the webshop panel: published file, rows, bytes; KW-10001 $w1 -> $w2 against run 1's delivery" "
	import os, glob
	f = glob.glob('$D/out/webshop/webshop_stock_3_*.csv')[0]
	panel = page.split('webshop &mdash; published')[1].split('<div class=\"panel')[0]
	assert '<code>' + os.path.basename(f) + '</code>' in panel
	assert '<dt>bytes</dt><dd>%d</dd>' % os.path.getsize(f) in panel, panel
	assert '<dt>rows</dt><dd>15</dd>' in panel, panel
	assert 'Previous delivery: <code>webshop_stock_1_20261120T060000Z.csv</code> (run 1' in panel
	assert '0 added, 0 removed, 1 quantity changed, 14 unchanged' in panel, panel
	d = $w2 - $w1
	assert '<tr><td>KW-10001</td><td>(all)</td><td class=\"n\">$w1</td><td class=\"n\">$w2</td><td>%s%d</td></tr>' % ('+' if d > 0 else '', d) in panel, panel
	# data age: the oldest position in it, against the delivery's run clock
	assert re.search(r'Oldest stock data in this delivery: as_of 2026-11-20T05:00:00Z \(sku [^,]+, location [^)]+\), <strong>1 h 12 min</strong> old when delivered \(2026-11-20T06:12:00Z', panel), panel
	assert 'stores (system of record for on_hand): last sent a file at 2026-11-20T06:12:00Z, 0 s before this run &mdash; fresh' in panel, panel
	assert 'No source was stale: nothing held back.' in panel
	"
	check_page "$D/run3.html" "run 3 page: the marketplace (every 15m) not due: said so" "
	panel = page.split('marketplace &mdash; ')[1].split('</div>')[0]
	assert 'not due' in panel and 'Nothing delivered in this run: the target was not due (schedule: every 15m)' in panel, panel
	"

	# ---- run 4: nothing new: nothing delivered, no empty heading ------------------
	run_sp 2026-11-20T06:17:00Z run
	[ $rc = 0 ] && pass "run 4: exit 0" || { fail "run 4: exit $rc"; tail -5 "$TMP/e"; }
	page 4
	cp "$html" "$D/run4.html"
	check_page "$D/run4.html" "run 4 page: nothing delivered, said once per section; no empty heading, no stock section" "
	assert 'Nothing delivered in this run.' in page or 'Nothing delivered in this run: no target was due.' in page, page
	assert 'Stock published' not in page and '<h4>Published</h4>' not in page
	assert 'id=\"stock\"' not in page
	for t in ('webshop', 'marketplace', 'webshop_items'):
	    panel = page.split(t + ' &mdash; ')[1].split('</div>')[0]
	    assert 'Nothing delivered in this run' in panel, (t, panel)
	assert 'No record was rejected in this run.' in page
	assert 'id=\"warnings\"' not in page and '>Warnings<' not in page
	"
	# the old page showed an empty "Stock published per target" heading here
	grep -q 'Stock published per target' "$D/run4.html" && fail "run 4 page: the empty stock heading is back" ||
		pass "run 4 page: no 'Stock published per target' heading"

	# ---- run 5: the stores silent past stale_after: the buffer is named -----------
	run_sp 2026-11-20T08:00:00Z run
	[ $rc -le 1 ] && pass "run 5: exit $rc" || { fail "run 5: exit $rc"; tail -5 "$TMP/e"; }
	page 5
	cp "$html" "$D/run5.html"
	check_page "$D/run5.html" "run 5 page: the stale source, since when, and the extra 20% held back" "
	panel = page.split('webshop &mdash; ')[1].split('<div class=\"panel')[0]
	assert 'stores (system of record for on_hand): last sent a file at 2026-11-20T06:12:00Z, 1 h 48 min before this run &mdash; <strong>stale</strong>' in panel, panel
	assert 'An extra 20% was held back' in panel, panel
	"

	# ---- a run that failed: red ----------------------------------------------------
	q "update runs set status = 'failed', exit_code = 75 where run_id = 4"
	page 4
	check_page "$html" "a failed run (exit 75): red badge" "
	assert 'class=\"status s-bad\" title=\"exit 75\">failed (exit 75)</span>' in page
	"
}

T_TAG=sqlite
D=$TMP/sqlite
setup
scenario
if pg_start "$TMP/pg"; then
	T_TAG=postgresql
	D=$TMP/pg-demo
	PGDB=sp_html
	url=$(pg_newdb sp_html) && setup "$url" && scenario ||
		fail "PostgreSQL store: database or setup failed"
	pg_stop
else
	T_TAG=postgresql
	skip "the PostgreSQL server did not start: $PG_WHY"
fi
T_TAG=
D=$TMP/sqlite

# ---- a run with warnings: the Warnings section, each located ------------------
# An X12 file whose ISA11 '-' cuts REF*BM*999999-001, whose ISA12/GS08
# versions disagree and whose IEA01 counts 2 groups for 1: three warnings,
# the data loaded (tests/e2e/edi_errors.sh counts the same file by hand).
W=$TMP/warn
mkdir -p "$W/drop" "$W/m"
printf '%s\n' \
	"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*STOCKPIPE      *261120*0600*-*00406*000000501*0*P*>~" \
	"GS*IB*ACMESUPPLY*STOCKPIPE*20261120*0600*501*X*004010~" "ST*846*0001~" \
	"BIA*00*SI*INV1*20261120~" "REF*BM*999999-001~" "LIN*1*VN*A1~" "QTY*33*5~" \
	"SE*6*0001~" "GE*1*501~" "IEA*2*000000501~" >"$W/drop/warn.x12"
cat >"$W/m/inv.yaml" <<'YAML'
mapping: warn-test
input:
  format: x12
  transaction: "846"
records:
  - kind: stock
    each: LIN
    fields:
      sku:      LIN[02=VN].03
      location: REF[01=BM].02
      state:    on_hand
      quantity: QTY[01=33].02 | decimal | required
      as_of:    '"2026-11-20T00:00:00Z"'
YAML
printf '%s\n' 'state_dir: state' 'sources:' '  - name: edi' '    path: drop' \
	'    patterns: ["*.x12"]' '    mapping: m/inv.yaml' >"$W/stockpipe.yaml"
(cd "$W" && "$BIN" run >"$TMP/o" 2>"$TMP/e" </dev/null)
rc=$?
[ $rc = 0 ] && pass "warnings run: exit 0 (warnings do not stop the data)" || { fail "warnings run: exit $rc"; tail -5 "$TMP/e"; }
(cd "$W" && "$BIN" show 1 --html >"$TMP/o" 2>"$TMP/e" </dev/null)
html=$(cat "$TMP/o")
[ -s "$html" ] && cp "$html" "$W/run1.html" || fail "warnings run: no page"
check_page "$W/run1.html" "warnings run page: a Warnings section, each warning at file:line:col with its segment and byte, as show prints it" "
sec = page.split('<h2 id=\"warnings\">Warnings</h2>')[1].split('<h2')[0]
rows = re.findall(r'<tr><td>edi</td><td>warn.x12</td><td><code>([^<]*)</code>([^<]*)</td><td>([a-z]+)</td><td>([^<]*)</td></tr>', sec)
assert len(rows) == 3, rows
byloc = {r[0]: (r[1], r[2], r[3]) for r in rows}
assert byloc['warn.x12:2:48'][1] == 'version' and 'ISA12 version 00406 and GS08 version 004010 disagree' in byloc['warn.x12:2:48'][2], byloc
assert byloc['warn.x12:5:15'] [0] == ' (segment 5, byte 214)' and byloc['warn.x12:5:15'][1] == 'repetition', byloc
assert byloc['warn.x12:10:5'][1] == 'count' and 'IEA01 group count mismatch' in byloc['warn.x12:10:5'][2], byloc
assert 'more; all of them' not in sec
"
(cd "$W" && "$BIN" show 1 >"$TMP/o" 2>"$TMP/e" </dev/null)
n_show=$(grep -c "^  edi 'warn.x12': warn.x12:" "$TMP/o")
n_html=$(grep -c '^<tr><td>edi</td><td>warn.x12</td>' "$W/run1.html")
[ "$n_show" = 3 ] && [ "$n_html" = 3 ] && pass "show and the page list the same 3 warnings" ||
	fail "warnings: show lists $n_show, the page $n_html"
# more than the page holds: "... and N more" with the command that lists all
mv "$W/drop/warn.x12" "$W/warn.x12"
for i in $(seq 1 40); do
	# each a new interchange: its own control number and content
	sed -e "s/INV1\*/INV$((i + 100))*/" -e "s/000000501/000000$((i + 600))/g" "$W/warn.x12" >"$W/drop/warn$i.x12"
done
(cd "$W" && "$BIN" run >"$TMP/o" 2>"$TMP/e" </dev/null)
rc=$?
(cd "$W" && "$BIN" show 2 --html >"$TMP/o" 2>"$TMP/e" </dev/null)
html=$(cat "$TMP/o")
[ $rc = 0 ] && [ -s "$html" ] && cp "$html" "$W/run2.html" || fail "warnings run 2: exit $rc"
check_page "$W/run2.html" "40 documents x 3 warnings: 100 rows, then '... and 20 more' with the show command" "
sec = page.split('<h2 id=\"warnings\">Warnings</h2>')[1].split('<h2')[0]
assert sec.count('<tr><td>edi</td>') == 100, sec.count('<tr><td>edi</td>')
assert re.search(r'<p>\u2026 and 20 more; all of them: <code class=\"cmd\">stockpipe -c \S+ --state-dir \S+ show 2</code></p>', sec), sec[-400:]
"

# ---- rendered for real -----------------------------------------------------------
if command -v chromium >/dev/null; then
	for n in 1 3; do
		prof=$(mktemp -d)
		timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
			--screenshot="$D/run$n.png" --window-size=1200,2400 "file://$D/run$n.html" >/dev/null 2>&1
		rm -rf "$prof"
		size=$(wc -c <"$D/run$n.png" 2>/dev/null || echo 0)
		[ "$size" -gt 20000 ] && pass "headless Chromium renders run $n's page ($size bytes of PNG)" ||
			fail "chromium screenshot of run $n ($size bytes)"
	done
else
	skip "chromium not installed: pages not rendered"
fi

t_done

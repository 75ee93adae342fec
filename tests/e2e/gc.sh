#!/bin/bash
# Retention and gc (issue 20, item 2) on a state folder with 30 days of
# real runs (one a day, the clock pinned per run):
#   - without retention: nothing removed, `gc` says so;
#   - `gc --dry-run` prints what would go and removes nothing;
#   - `gc` with retention {runs: 3, age: 7d}: the files of runs older
#     than 7 days go (canonical, rejects, work, inbox copies, outbox
#     files), the newer runs keep theirs, the latest delivery of each
#     target stays; the folder shrinks; the runs are marked collected;
#   - inside the window `rerun` and `resume` still work; a collected run
#     is refused with 64 and the reason; the window runs' inbox copies
#     and unpacked archive members are kept as .gz, which a rerun
#     --from map inflates first (a
#     truncated one stops it before anything is reset) and `replay`
#     reads as it is;
#   - a replay of a month-old interchange (its file collected) is still
#     recognised as a duplicate (the interchange ledger stays);
#   - gc at the end of a run collects what fell out of the window;
#   - folding (state_fold.c): the stock events of collected runs that a
#     newer snapshot of a collected run covers are deleted, their txn_ids
#     kept as 24-byte keys: positions and deliveries stay byte for byte
#     (a twin state folder without gc does the same next step), the event
#     count goes down, window runs keep every event, a replay of folded
#     events (the 846 by its interchange, a store count by its txn_ids a
#     year later) is a duplicate with the same message as before, and the
#     SQLite file shrinks (auto_vacuum switched to incremental).
#   - compaction (lib/gz.h): a kept run's canonical records and rejects and
#     the latest delivery of each target are stored as valid .gz (plain
#     ones gone, identical pictures of two targets one file); that run
#     can still be shown (--html: the published lines and the rejects
#     read from the .gz), rerun --from load (the same records loaded),
#     and a replay renders a delta against the compressed picture; a
#     truncated .gz fails the rerun with a clear error.
#   - a fold too large for memory (60 000 events, journals that spill to
#     temporary files) completes with exit 0.
# usage: tests/e2e/gc.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_NOW

A=$TMP/a
mkdir -p "$A/drop/edi" "$A/drop/stores" "$A/drop/erp" "$A/drop/zips" "$A/out"
cp -R "$SRC/mappings" "$A/mappings"
cp "$SRC/samples/drop/erp/locations_20261120.csv" "$A/drop/erp/"
touch -d 2026-11-01T04:00:00Z "$A/drop/erp/locations_20261120.csv"
cat >"$A/stockpipe.yaml" <<'YAML'
state_dir: state
sources:
  - name: erp
    path: drop/erp
    patterns: ["locations_*.csv"]
    mapping: mappings/erp/locations_csv.yaml
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
  - name: zips
    path: drop/zips
    pattern: "*.zip"
    mapping: mappings/stores/store_stock_csv.yaml
  - name: edi
    path: drop/edi
    patterns: ["*.x12"]
    routes:
      - { pattern: "*_846_*.x12", mapping: mappings/edi/x12_846_inventory.yaml }
targets:
  - name: webshop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_stock_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    location_types: [store, dc]
YAML
sp() { "$BIN" -c "$A/stockpipe.yaml" "$@" >"$TMP/o" 2>"$TMP/e"; rc=$?; t_san_clean "$TMP/e" || fail "sanitizer report in: $*"; }
q() { sqlite3 "$A/state/state.db" "$1"; }
day() { printf '2026-11-%02dT06:00:00Z' "$1"; }

# 30 runs, one a day: a store count each day, the 846 on day 1 and a
# newer one (its own control number, the same items) on day 2, which
# covers day 1's events once both runs are collected.
cp "$SRC/samples/edi/acme_846_inventory.x12" "$A/drop/edi/acme_846_inventory.x12"
touch -d 2026-11-01T05:00:00Z "$A/drop/edi/acme_846_inventory.x12"
bad=0
for d in $(seq 1 30); do
	if [ "$d" = 2 ]; then
		sed -e 's/000000101/000000102/g; s/\*101\*X\*/*102*X*/; s/GE\*2\*101~/GE*2*102~/' \
			"$SRC/samples/edi/acme_846_inventory.x12" >"$A/drop/edi/acme_846_inventory_b.x12"
		touch -d 2026-11-02T05:00:00Z "$A/drop/edi/acme_846_inventory_b.x12"
	fi
	if [ "$d" = 29 ]; then # an archive: its members unpacked into work/29/
		printf 'store,sku,qty,status,counted_at\nF027,KW-10001,29,OK,2026-11-29 06:00\nF027,KW-10002,129,OK,2026-11-29 06:00\n' >"$TMP/stock_F027_z.csv"
		(cd "$TMP" && python3 -c 'import zipfile; z = zipfile.ZipFile("counts.zip", "w", zipfile.ZIP_DEFLATED); z.write("stock_F027_z.csv"); z.close()') &&
			mv "$TMP/counts.zip" "$A/drop/zips/counts_29.zip"
		touch -d 2026-11-29T05:00:00Z "$A/drop/zips/counts_29.zip"
	fi
	f=$A/drop/stores/stock_F012_day$(printf %02d "$d").csv
	printf '\xef\xbb\xbfstore,sku,qty,status,counted_at\nF012,KW-10001,%d,OK,2026-11-%02d 06:00\nF012,KW-10002,%d,OK,2026-11-%02d 06:00\n' \
		"$d" "$d" "$((d + 100))" "$d" >"$f"
	touch -d "$(printf '2026-11-%02dT05:00:00Z' "$d")" "$f"
	STOCKPIPE_NOW=$(day "$d") sp run
	# day 1 has the locations file's rejects (exit 1)
	[ $rc = 0 ] || [ $rc = 1 -a $d = 1 ] || { bad=1; echo "    day $d: exit $rc"; tail -3 "$TMP/e"; }
done
[ $bad = 0 ] && [ "$(q "select count(*) from runs where status = 'done'")" = 30 ] &&
	[ "$(q "select count(*) from deliveries")" -ge 30 ] &&
	pass "30 daily runs, a delivery each" || fail "daily runs ($(q "select count(*) from deliveries") deliveries)"
# A store count of day 1 as a partner would resend it (same bytes, so the
# same txn_ids), replayed now and again after its events were folded.
cp "$A/drop/stores/stock_F012_day01.csv" "$TMP/day01.csv"
STOCKPIPE_NOW=2026-11-30T06:30:00Z sp replay "$TMP/day01.csv" --source stores
dupmsg0=$(grep "duplicate records not loaded again" "$TMP/e")
[ $rc = 0 ] && [ -n "$dupmsg0" ] && pass "a day-1 count replayed before gc: $dupmsg0" || { fail "replay before gc (exit $rc)"; tail -5 "$TMP/e"; }

size0=$(du -sk "$A/state" | cut -f1)
n0=$(find "$A/state" -type f | wc -l)
export STOCKPIPE_NOW=$(day 30)
sp gc
[ $rc = 0 ] && grep -q "no retention: section" "$TMP/o" && [ "$(find "$A/state" -type f | wc -l)" = "$n0" ] &&
	pass "no retention: gc removes nothing and says why" || { fail "gc without retention (exit $rc)"; cat "$TMP/o" "$TMP/e"; }

sed -i 's/^state_dir: state$/state_dir: state\nretention: {runs: 3, age: 7d}/' "$A/stockpipe.yaml"
sp gc --dry-run
# Runs started before day 23 06:00 (age 7d from day 30) and not among
# the last 3: days 1 to 22.
[ $rc = 0 ] && grep -q "would remove the files of 22 runs" "$TMP/o" && [ "$(find "$A/state" -type f | wc -l)" = "$n0" ] &&
	[ -d "$A/state/canonical/1" ] && [ -z "$(q "select run_id from runs where gc_at is not null")" ] &&
	pass "gc --dry-run: 22 runs would go, nothing removed or marked" || { fail "gc --dry-run (exit $rc)"; cat "$TMP/o" "$TMP/e"; }
grep -q "gc: run 1 (started 2026-11-01T06:00:00Z): [0-9]* files, [0-9]* bytes would be removed" "$TMP/e" &&
	pass "gc --dry-run: a line per run" || { fail "gc --dry-run lines"; head -3 "$TMP/e"; }

# A run left open inside the window (stopped after map): resume must
# find its files after gc.
cp "$A/drop/stores/stock_F012_day30.csv" "$A/drop/stores/stock_F012_day30b.csv"
sed -i 's/,130,OK/,131,OK/' "$A/drop/stores/stock_F012_day30b.csv"
touch -d 2026-11-30T05:30:00Z "$A/drop/stores/stock_F012_day30b.csv"
sp run --until map
open_run=$(q "select max(run_id) from runs")
st=$(q "select status from runs where run_id = $open_run")
[ "$st" = partial ] || [ "$st" = interrupted ] || [ "$st" = running ] && pass "run $open_run stopped after map ($st)" || fail "open run: status '$st' (exit $rc)"

# Before gc: what folding must not change, the events it may fold, and
# a twin of the state folder that never sees gc.
pos0=$(q "select * from positions order by sku, location, state")
show0=$("$BIN" -c "$A/stockpipe.yaml" show 30 2>&1)
ev0=$(q "select count(*) from stock_events")
evwin0=$(q "select count(*) from stock_events where doc in (select id from units where run_id > 22)")
tx846=$(q "select txn_id from stock_events e join units u on u.id = e.doc where u.run_id = 1 and coalesce(e.source, u.scope) = 'edi' order by txn_id")
db0=$(stat -c %s "$A/state/state.db")
dg0=$(q "select count(*) from txn_digests")
# What the loads wrote (schema 15, state_txn.c): a key per event whose
# txn_id the mapping names, and ONE document key per content whose
# records have the mapping engine's default txn_ids (the store counts).
dgw=$(q "select (select count(*) from stock_events where txn_id is not null) + (select count(distinct substr(u.input_sha, 1, 16)) from stock_events e join units u on u.id = e.doc where e.txn_seq is not null)")
B=$TMP/b
cp -a "$A" "$B"
sed -i '/^retention:/d' "$B/stockpipe.yaml"
sp gc
[ $rc = 0 ] && grep -q "removed the files of 22 runs" "$TMP/o" && pass "gc: the files of 22 runs removed" || { fail "gc (exit $rc)"; cat "$TMP/o" "$TMP/e"; }
ev1=$(q "select count(*) from stock_events")
# Days 1-21 of both store counts (covered by day 22's) and day 1's 846
# (covered by day 2's): 46 events; day 22's counts and day 2's 846 stay.
[ "$ev1" = $((ev0 - 46)) ] && grep -q "^folded 46 stock events into newer snapshots" "$TMP/o" &&
	[ "$dg0" = "$dgw" ] && [ "$dg0" -lt "$ev0" ] && [ "$(q "select count(*) from txn_digests")" = "$dg0" ] &&
	pass "gc folds 46 stock events ($ev0 -> $ev1 rows); the txn_id ledger ($dg0 keys for $ev0 events: one per named txn_id, one per store count) unchanged" || { fail "fold: $ev0 -> $ev1 events, $dg0 keys ($dgw expected)"; cat "$TMP/o"; }
[ "$(q "select count(*) from stock_events where doc in (select id from units where run_id > 22)")" = "$evwin0" ] &&
	[ "$(q "select count(*) from stock_events e join units u on u.id = e.doc where u.run_id = 22 and coalesce(e.source, u.scope) = 'stores'")" = 2 ] &&
	pass "every event of the window runs (23-31) and the covering day-22 counts are kept" || fail "window events folded"
[ "$(q "select * from positions order by sku, location, state")" = "$pos0" ] &&
	[ "$("$BIN" -c "$A/stockpipe.yaml" show 30 2>&1)" = "$show0" ] &&
	pass "positions and 'show 30' byte for byte the same after folding" || fail "positions changed by folding"
# The ledger key (pipeline/store/state_txn.c) of a txn_id like the
# mapping's "<sender>-<control>-<set>-<line>": SHA-256 of the group (up
# to the last '-') and of the whole txn_id, 8 and 16 bytes.
txn_key() {
	printf '%s%s' "$(printf %s "${1%-*}" | sha256sum | cut -c1-16)" \
		"$(printf %s "$1" | sha256sum | cut -c1-32)"
}
ok=1
for t in $tx846; do
	case $t in *:*) ok=0 ;; esac
	h=$(txn_key "$t")
	[ "$(q "select count(*) from txn_digests where hex(digest) = upper('$h')")" = 1 ] || ok=0
	[ "$(q "select count(*) from stock_events where txn_id = '$t'")" = 0 ] || ok=0
done
[ -n "$tx846" ] && [ $ok = 1 ] && pass "day 1's 846 events folded: their txn_ids only in the ledger (24-byte keys)" || fail "846 digests"
db1=$(stat -c %s "$A/state/state.db")
# 46 rows free a few pages, which the next loads reuse: no VACUUM for
# less than a quarter of the file (t_state_fold checks the one that runs).
[ "$(q "pragma auto_vacuum")" = 0 ] && [ $(($(q "pragma freelist_count") * 4)) -lt "$(q "pragma page_count")" ] &&
	pass "state.db: $db0 -> $db1 bytes, $(q "pragma freelist_count") free pages: not worth a VACUUM" || fail "state.db $db0 -> $db1, auto_vacuum $(q "pragma auto_vacuum"), free $(q "pragma freelist_count")"
size1=$(du -sk "$A/state" | cut -f1)
[ "$size1" -lt "$size0" ] && pass "state folder shrinks: ${size0} KiB -> ${size1} KiB" || fail "state folder ${size0} -> ${size1} KiB"
gone=1
for r in 1 10 22; do
	[ -e "$A/state/canonical/$r" ] && gone=0
	[ -e "$A/state/rejects/$r" ] && gone=0
	p=$(q "select output_path from units where run_id = $r and stage = 'fetch' and output_path != ''" | head -1)
	[ -n "$p" ] && [ -e "$p" ] && gone=0
done
ls "$A"/state/outbox/webshop/webshop_stock_5_* >/dev/null 2>&1 && gone=0
[ -f "$A/out/$(q "select file_name from deliveries where run_id = 5")" ] || gone=0
[ $gone = 1 ] && pass "runs 1, 10, 22: canonical records, rejects, inbox copies, outbox files gone (the delivered file at the target untouched)" || fail "collected runs still have files"
kept=1
for r in 23 27 30; do
	[ -d "$A/state/canonical/$r" ] || kept=0
	p=$(q "select output_path from units where run_id = $r and stage = 'fetch' and output_path != ''" | head -1)
	# kept compressed (lib/gz.h): the plain copy gone, the .gz valid
	[ -n "$p" ] && [ ! -e "$p" ] && gzip -t "$p.gz" 2>/dev/null || kept=0
done
[ $kept = 1 ] && pass "runs 23, 27, 30 (inside the window) keep their files, inbox copies as .gz" || fail "a run inside the window lost files"
[ "$(q "select count(*) from runs where gc_at is not null")" = 22 ] && [ -z "$(q "select run_id from runs where gc_at is not null and run_id > 22")" ] &&
	pass "runs 1-22 marked collected, no other" || fail "gc marks: $(q "select group_concat(run_id) from runs where gc_at is not null")"
latest=$(q "select file_name from deliveries where target = 'webshop' order by seq desc limit 1")
[ -f "$A/state/outbox/webshop/$latest.gz" ] && [ -f "$A/state/outbox/webshop/$latest.pub.gz" ] && [ -f "$A/out/$latest" ] &&
	pass "the latest delivery ($latest) and its picture are kept" || fail "latest delivery gone"
[ "$(q "select count(*) from stock_events")" -gt 0 ] && [ "$(q "select count(*) from edi_interchanges")" -ge 1 ] &&
	pass "the store keeps events and the interchange ledger" || fail "store rows gone"

sp resume
[ $rc = 0 ] && [ "$(q "select status from runs where run_id = $open_run")" = done ] &&
	pass "resume inside the window finishes run $open_run after gc" || { fail "resume after gc (exit $rc)"; tail -5 "$TMP/e"; }
# The twin (no gc, no folding) takes the same step: the same delivery.
"$BIN" -c "$B/stockpipe.yaml" resume >/dev/null 2>"$TMP/eb"
fa=$(q "select file_name from deliveries where run_id = $open_run")
[ -n "$fa" ] && cmp -s "$A/out/$fa" "$B/out/$fa" &&
	[ "$(q "select * from positions order by sku, location, state")" = "$(sqlite3 "$B/state/state.db" "select * from positions order by sku, location, state")" ] &&
	pass "after folding, run $open_run delivers '$fa' byte for byte as the twin without gc" || { fail "twin delivery differs ($fa)"; tail -3 "$TMP/eb"; }
# rerun --from map reads the inbox copies gc compressed: inflated back
# first (gc_restore_run), the same records mapped, compressed again by
# the rerun's own gc.
in28=$(q "select output_path from units where run_id = 28 and stage = 'fetch' and output_path != ''" | head -1)
m28=$(q "select group_concat(records_out) from units where run_id = 28 and stage = 'map' order by id")
sp rerun 28 --from map
{ [ $rc = 0 ] || [ $rc = 1 ]; } && [ -n "$m28" ] &&
	[ "$(q "select group_concat(records_out) from units where run_id = 28 and stage = 'map' order by id")" = "$m28" ] &&
	[ "$(q "select count(*) from units where run_id = 28 and stage = 'map' and state != 2")" = 0 ] &&
	pass "rerun 28 --from map inside the window maps its compressed inbox copy again: records $m28 (exit $rc)" || { fail "rerun 28 (exit $rc)"; tail -5 "$TMP/e"; }
[ ! -e "$in28" ] && zcat "$in28.gz" | grep -q "^F012,KW-10001,28,OK" &&
	pass "after the rerun its inbox copy is compressed again" || fail "run 28's inbox copy after the rerun: $(ls "$(dirname "$in28")" | tr '\n' ' ')"
# The same for an archive's members (work/29/): compressed, inflated back
# for the rerun, the same records.
w29=$(find "$A/state/work/29" -type f | sort | tr '\n' ' ')
m29=$(q "select group_concat(records_out) from units where run_id = 29 and stage = 'map' order by id")
sp rerun 29 --from map --source zips
{ [ $rc = 0 ] || [ $rc = 1 ]; } && case $w29 in *.gz*) true ;; *) false ;; esac &&
	[ -z "$(find "$A/state/work/29" -type f ! -name '*.gz')" ] &&
	[ "$(q "select group_concat(records_out) from units where run_id = 29 and stage = 'map' order by id")" = "$m29" ] &&
	[ "$(q "select count(*) from units where run_id = 29 and stage = 'map' and state != 2")" = 0 ] &&
	pass "run 29's unpacked members kept as .gz ($w29), rerun --from map maps them again: records $m29" || { fail "members of run 29 ($w29), rerun exit $rc"; tail -5 "$TMP/e"; }
# A damaged inbox .gz: the rerun stops before it resets anything, naming it.
in27=$(q "select output_path from units where run_id = 27 and stage = 'fetch' and output_path != ''" | head -1)
cp "$in27.gz" "$TMP/in27.gz"
truncate -s $(($(stat -c %s "$in27.gz") - 12)) "$in27.gz"
sp rerun 27 --from map
[ $rc != 0 ] && grep -q "$(basename "$in27").gz': truncated gzip file" "$TMP/e" && [ ! -e "$in27" ] &&
	[ "$(q "select status from runs where run_id = 27")" = done ] &&
	[ "$(q "select count(*) from units where run_id = 27 and state != 2")" = 0 ] &&
	pass "rerun 27 with a truncated inbox .gz: refused naming it (exit $rc), no plain copy made, nothing reset" || { fail "truncated inbox .gz (exit $rc)"; tail -3 "$TMP/e"; }
cp "$TMP/in27.gz" "$in27.gz"
# The operator's way back to a collected run's input: replay the inbox
# .gz as it is (the unpack stage inflates a single gzip file): the same
# records, all duplicates.
sp replay "$in27.gz" --source stores
[ $rc = 0 ] && grep -q "2 duplicate records not loaded again" "$TMP/e" &&
	pass "replay of a compressed inbox copy: its 2 records found again, duplicates" || { fail "replay of an inbox .gz (exit $rc)"; tail -5 "$TMP/e"; }
sp rerun 5 --from map
[ $rc = 64 ] && grep -q "run 5 is outside the retention: gc removed its files at 2026-11-30T06:00:00Z" "$TMP/e" &&
	pass "rerun of a collected run: 64 with the reason" || { fail "rerun 5 (exit $rc)"; cat "$TMP/e"; }

# The day-1 interchange again, a month later, in a file of another name
# and content (a trailing newline): a duplicate by the ledger.
{ cat "$SRC/samples/edi/acme_846_inventory.x12"; echo; } >"$A/drop/edi/resend_846_later.x12"
touch -d 2026-11-30T07:00:00Z "$A/drop/edi/resend_846_later.x12"
STOCKPIPE_NOW=2026-11-30T08:00:00Z sp run
last=$(q "select max(run_id) from runs")
cat "$TMP/o" "$TMP/e" | grep -q "interchange 000000101 from ACMESUPPLY to STOCKPIPE was already loaded from 'acme_846_inventory.x12' (run 1): duplicate, not loaded again" &&
	[ "$(q "select count(*) from stock_events where doc in (select id from units where run_id = $last)")" = 0 ] &&
	pass "a month-old interchange (its events folded) replayed after gc: duplicate, nothing loaded" || { fail "replay after gc (exit $rc)"; tail -8 "$TMP/e"; }

# gc at the end of a run: a week later, runs 23-28 fall out of the window.
STOCKPIPE_NOW=2026-12-08T06:00:00Z sp run
n=$(q "select count(*) from runs where gc_at is not null")
[ "$n" -gt 22 ] && grep -q "gc: removed the files of" "$TMP/e" && pass "a run's end collects what left the window ($n runs collected)" || { fail "gc at run end: $n"; tail -5 "$TMP/e"; }

# A year later the day-1 count again: its events were folded long ago,
# its txn_ids are only digests, and the replay is what it was before gc.
[ "$(q "select count(*) from stock_events e join units u on u.id = e.doc where u.run_id = 1 and coalesce(e.source, u.scope) = 'stores'")" = 0 ] || fail "day 1's counts not folded"
STOCKPIPE_NOW=2027-11-30T06:00:00Z sp replay "$TMP/day01.csv" --source stores
last=$(q "select max(run_id) from runs")
dupmsg1=$(grep "duplicate records not loaded again" "$TMP/e")
[ $rc = 0 ] && [ "$dupmsg1" = "$dupmsg0" ] &&
	[ "$(q "select dupes || ' ' || records_out from units where run_id = $last and stage = 'load'")" = "2 0" ] &&
	[ "$(q "select * from positions order by sku, location, state")" = "$(sqlite3 "$B/state/state.db" "select * from positions order by sku, location, state")" ] &&
	pass "a year-old count replayed after folding: 2 dupes, nothing applied, the same message: $dupmsg1" || { fail "year-old replay (exit $rc): '$dupmsg1'"; tail -8 "$TMP/e"; }
# Its document key (state_txn.c): the 8 bytes of SHA-256 of the group (the
# 16 hex of the document's hash, its default txn_ids' first part), then
# sixteen 0xff; no key of its records.
g1=$(q "select substr(input_sha, 1, 16) from units where run_id = 1 and stage = 'map' and scope = 'stores' and ukey like '%F012_day01.csv' limit 1")
h1=$(printf %s "$g1" | sha256sum | cut -c1-16)
[ -n "$g1" ] && [ "$(q "select count(*) from txn_digests where hex(digest) = upper('${h1}ffffffffffffffffffffffffffffffff')")" = 1 ] &&
	[ "$(q "select count(*) from txn_digests where substr(hex(digest), 1, 16) = upper('$h1')")" = 1 ] &&
	pass "the year-old count's two default txn_ids are one document key in the ledger" || fail "day 1 document key ($g1)"

# Compaction. A second target, a delta with the same positions (its
# picture is the webshop's, byte for byte), and a day with a bad row.
cat >>"$A/stockpipe.yaml" <<'YAML'
  - name: webdelta
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "webdelta_{run_id}.csv"
    location_types: [store, dc]
    snapshot: delta
YAML
f=$A/drop/stores/stock_F012_dec09y.csv
{
	echo store,sku,qty,status,counted_at
	for k in 1 2 3 4 5 6; do echo "F012,KW-1000$k,50$k,OK,2027-12-09 06:00"; done
	echo "F012,KW-10007,oops,OK,2027-12-09 06:00" # 1 of 7: no quarantine
} >"$f"
touch -d 2027-12-09T05:00:00Z "$f"
STOCKPIPE_NOW=2027-12-09T06:00:00Z sp run
cr=$(q "select max(run_id) from runs")
[ $rc = 1 ] && grep -q "gc: compressed [0-9]* files of kept runs" "$TMP/e" &&
	pass "run $cr (a reject): its gc compresses the kept files" || { fail "compacting run (exit $rc)"; tail -5 "$TMP/e"; }
plain=$(find "$A/state/canonical/$cr" "$A/state/rejects/$cr" -type f ! -name '*.gz' -size +0 | wc -l)
ngz=$(find "$A/state/canonical/$cr" "$A/state/rejects/$cr" -type f -name '*.gz' | wc -l)
[ "$plain" = 0 ] && [ "$ngz" -ge 2 ] &&
	pass "run $cr: canonical records and rejects only as .gz ($ngz files)" || fail "run $cr: $plain plain, $ngz .gz files"
if command -v gzip >/dev/null 2>&1; then
	bad=0
	for z in $(find "$A/state" -name '*.gz'); do gzip -t "$z" 2>/dev/null || bad=1; done
	[ $bad = 0 ] && pass "every .gz is valid gzip (gzip -t)" || fail "an invalid .gz"
	zcat "$A"/state/rejects/$cr/stores/*.gz | grep -q oops && pass "the rejects .gz holds the bad row" || fail "rejects .gz content"
else
	skip "gzip -t: no gzip(1) here"
fi
wl=$(q "select file_name from deliveries where target = 'webshop' order by seq desc limit 1")
dl=$(q "select file_name from deliveries where target = 'webdelta' order by seq desc limit 1")
o=$A/state/outbox
[ -f "$o/webshop/$wl.gz" ] && [ -f "$o/webshop/$wl.pub.gz" ] && [ ! -e "$o/webshop/$wl" ] && [ ! -e "$o/webshop/$wl.pub" ] &&
	[ -f "$o/webdelta/$dl.pub.gz" ] &&
	pass "the latest deliveries ($wl, $dl) kept compressed, file and picture" || { fail "latest deliveries: $(ls "$o/webshop" "$o/webdelta" | tr '\n' ' ')"; }
[ "$(stat -c %i "$o/webshop/$wl.pub.gz")" = "$(stat -c %i "$o/webdelta/$dl.pub.gz")" ] &&
	pass "identical pictures of two targets: one file (hard link)" || fail "pictures not shared"
cmp -s "$A/out/$wl" <(gzip -dc "$o/webshop/$wl.gz") && pass "the compressed outbox copy is the delivered file" || fail "outbox .gz differs from the delivery"

# show: the page reads the published lines and the rejects from the .gz
# (a reader that ignores .gz says "no longer in the outbox").
sp show "$cr" --html --output "$TMP/r.html"
[ $rc = 0 ] && grep -q "KW-10001" "$TMP/r.html" && grep -q "oops" "$TMP/r.html" &&
	! grep -q "The file is no longer in the outbox" "$TMP/r.html" &&
	pass "show $cr --html: published lines and rejects read from the .gz" || { fail "show --html of a compacted run (exit $rc)"; grep -o "no longer in the outbox[^<]*" "$TMP/r.html" | head -3; }
sp show "$cr"
[ $rc = 0 ] && pass "show $cr" || fail "show $cr (exit $rc)"
# show -v names a file gc compressed by its .gz, the path that is there.
sp -v show "$cr"
gzp=$(sed -n 's/^          \(in: \|out:\) \(.*\.gz\) (compressed by gc).*/\2/p' "$TMP/o")
miss=0
for p in $gzp; do [ -f "$p" ] || miss=1; done
gone=0
for p in $(sed -n 's/^          \(in: \|out:\) \([^ ]*\).*/\2/p' "$TMP/o"); do
	case $p in "$A"/state/*) [ -e "$p" ] || [ -e "$p.gz" ] || gone=1 ;; esac
	case $p in *.gz) ;; *) [ -e "$p.gz" ] && [ ! -e "$p" ] && gone=1 ;; esac
done
[ $rc = 0 ] && [ "$(echo "$gzp" | grep -c .)" -ge 3 ] && [ $miss = 0 ] && [ $gone = 0 ] &&
	pass "show -v $cr: the files gc compressed named by their .gz ($(echo "$gzp" | grep -c .))" ||
	{ fail "show -v of a compacted run (exit $rc, missing $miss, plain names $gone)"; grep '^          \(in: \|out:\)' "$TMP/o" | head -5; }

# rerun --from load: the canonical records come from the .gz.
before=$(q "select group_concat(records_in) from units where run_id = $cr and stage = 'load' order by id")
STOCKPIPE_NOW=2027-12-09T07:00:00Z sp rerun "$cr" --from load
after=$(q "select group_concat(records_in) from units where run_id = $cr and stage = 'load' order by id")
{ [ $rc = 0 ] || [ $rc = 1 ]; } && [ -n "$before" ] && [ "$before" = "$after" ] && ! grep -q "cannot open" "$TMP/e" &&
	[ "$(q "select count(*) from units where run_id = $cr and state not in (2, 4)")" = 0 ] &&
	pass "rerun $cr --from load reads the .gz: the same records ($after)" || { fail "rerun --from load of a compacted run (exit $rc, $before -> $after)"; tail -5 "$TMP/e"; }
plain=$(find "$A/state/canonical/$cr" "$A/state/rejects/$cr" -type f ! -name '*.gz' -size +0 | wc -l)
zcat "$A"/state/rejects/$cr/stores/*.gz 2>/dev/null | grep -q oops && [ "$plain" = 0 ] &&
	pass "after the rerun: compacted again, the map's rejects kept" || fail "after the rerun: $plain plain files"

# replay: a changed count; the delta target compares with the picture
# kept as .gz (a reader that ignores it sends a full snapshot).
r2=$A/replay_F012.csv
printf 'store,sku,qty,status,counted_at\nF012,KW-10001,777,OK,2027-12-09 08:00\n' >"$r2"
STOCKPIPE_NOW=2027-12-09T08:00:00Z sp replay "$r2" --source stores
dn=$(q "select file_name from deliveries where target = 'webdelta' order by seq desc limit 1")
wn=$(q "select file_name from deliveries where target = 'webshop' order by seq desc limit 1")
{ [ $rc = 0 ] || [ $rc = 1 ]; } && [ "$dn" != "$dl" ] && ! grep -q "is gone; sending a full snapshot" "$TMP/e" &&
	[ "$(wc -l <"$A/out/$dn")" -lt "$(wc -l <"$A/out/$wn")" ] && grep -q "^KW-10001," "$A/out/$dn" &&
	pass "replay: the delta ($dn, $(wc -l <"$A/out/$dn") lines) is computed against the compressed picture" ||
	{ fail "replay after compaction (exit $rc, $dl -> $dn)"; tail -5 "$TMP/e"; }

# A damaged .gz is an error that names it, never a short read.
z=$(find "$A/state/canonical/$cr" -name '*.gz' | head -1)
truncate -s $(($(stat -c %s "$z") / 2)) "$z"
STOCKPIPE_NOW=2027-12-09T09:00:00Z sp rerun "$cr" --from load
[ $rc != 0 ] && grep -q "$(basename "$z")': truncated gzip file" "$TMP/e" &&
	pass "a truncated canonical .gz: rerun --from load fails naming it (exit $rc)" || { fail "truncated .gz (exit $rc)"; tail -3 "$TMP/e"; }
# Every gc so far folded incrementally (the positions of the runs newly
# collected); the full pick over every collected event (gc --full) finds
# nothing they missed.
sp gc --full --dry-run
[ $rc = 64 ] && pass "gc --full --dry-run: a usage error" || fail "gc --full --dry-run (exit $rc)"
STOCKPIPE_NOW=2027-12-09T09:30:00Z sp gc --full
[ $rc = 0 ] && grep -q "^folded 0 stock events" "$TMP/o" &&
	[ "$(q "select count(*) from runs where gc_at is not null and fold_at is null")" = 0 ] &&
	[ "$(q "select count(*) from runs where fold_at is not null")" -ge 30 ] &&
	pass "gc --full after the incremental folds: nothing more to fold" || { fail "gc --full (exit $rc)"; cat "$TMP/o" "$TMP/e"; }

# Identical pictures of two targets are compressed once: the first one's
# .gz is linked under the other's name. Every gz_compact passes the
# "unlink" crash point (STOCKPIPE_CRASH_LOG, builds with test hooks), so
# the points counted equal the .gz files this gc wrote.
r3=$A/replay_F012b.csv
printf 'store,sku,qty,status,counted_at\nF012,KW-10001,778,OK,2027-12-09 10:00\n' >"$r3"
touch "$TMP/mark"
rm -f "$TMP/crash.log"
STOCKPIPE_CRASH_LOG=$TMP/crash.log STOCKPIPE_NOW=2027-12-09T10:00:00Z sp replay "$r3" --source stores
dn3=$(q "select file_name from deliveries where target = 'webdelta' order by seq desc limit 1")
wn3=$(q "select file_name from deliveries where target = 'webshop' order by seq desc limit 1")
{ [ $rc = 0 ] || [ $rc = 1 ]; } && [ "$dn3" != "$dn" ] && [ -f "$o/webshop/$wn3.pub.gz" ] && [ ! -e "$o/webdelta/$dn3.pub" ] &&
	[ "$(stat -c %i "$o/webshop/$wn3.pub.gz")" = "$(stat -c %i "$o/webdelta/$dn3.pub.gz")" ] &&
	cmp -s <(gzip -dc "$o/webdelta/$dn3.pub.gz") <(gzip -dc "$o/webshop/$wn3.pub.gz") &&
	pass "the next run's identical pictures: one .gz under both names" || { fail "pictures of the next run (exit $rc, $dn3)"; ls -li "$o/webshop" "$o/webdelta" | tail -6; }
if [ -s "$TMP/crash.log" ]; then
	u=$(grep -c ' unlink$' "$TMP/crash.log")
	n=$(find "$A/state" -name '*.gz' -newer "$TMP/mark" -printf '%i\n' | sort -u | wc -l)
	[ "$u" = "$n" ] && pass "each .gz written once: $u compressions for $n files (pictures shared before, not after, compressing)" ||
		fail "$u compressions for $n .gz files"
else
	skip "compressions counted: this build has no test hooks"
fi

# A fold too large for memory: three daily counts of the same 60 000
# positions; gc with retention of one run collects the first two, and the
# second covers the first's 60 000 events. Its temporary tables' journals and the
# savepoints of the fold spill to files; with a sub-journal spill
# threshold of 256 KiB or more (SQLITE_CONFIG_STMTJRNL_SPILL) that spill
# failed with "database or disk is full" and gc exited 75 on every try.
B=$TMP/big
mkdir -p "$B/drop/stores" "$B/out"
cp -R "$SRC/mappings" "$B/mappings"
cat >"$B/stockpipe.yaml" <<'YAML'
state_dir: state
sources:
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: mappings/stores/store_stock_csv.yaml
targets:
  - name: webshop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
    filename: "{target}_{run_id}.{ext}"
YAML
bigday() {
	awk -v d="$1" 'BEGIN { print "store,sku,qty,status,counted_at";
		for (i = 1; i <= 60000; i++)
			printf "F012,KW-%07d,%d,OK,2026-11-%02d 06:00\n", i, i % 997 + d, d }' \
		>"$B/drop/stores/count_$1.csv"
	touch -d "2026-11-0$1T05:00:00Z" "$B/drop/stores/count_$1.csv"
	STOCKPIPE_NOW=2026-11-0$1T06:00:00Z "$BIN" -q -c "$B/stockpipe.yaml" run >"$TMP/o" 2>"$TMP/e"
	rc=$?
	t_san_clean "$TMP/e" || fail "sanitizer report in the run of day $1"
}
bigday 1 && brc1=$rc
bigday 2 && brc2=$rc
bigday 3 && brc3=$rc
printf 'retention:\n  runs: 1\n  age: 1s\n' >>"$B/stockpipe.yaml"
ev0=$(sqlite3 "$B/state/state.db" "select count(*) from stock_events")
STOCKPIPE_NOW=2026-11-03T07:00:00Z "$BIN" -c "$B/stockpipe.yaml" gc >"$TMP/o" 2>"$TMP/e"
rc=$?
t_san_clean "$TMP/e" || fail "sanitizer report in the large gc"
ev1=$(sqlite3 "$B/state/state.db" "select count(*) from stock_events")
[ "$brc1$brc2$brc3" = 000 ] && [ $rc = 0 ] && grep -q "^folded 60000 stock events" "$TMP/o" && [ "$ev1" = $((ev0 - 60000)) ] &&
	pass "a fold of 60 000 events with spilling journals: gc exits 0 ($ev0 -> $ev1 events)" ||
	{ fail "large fold (runs $brc1 $brc2 $brc3, gc exit $rc, $ev0 -> $ev1 events)"; tail -n 3 "$TMP/o" "$TMP/e"; }
t_done

#!/bin/bash
# Archives in drops: zip, tar.gz and single .gz members become their own
# documents; hostile archives (zip slip, absolute paths, links, bombs,
# encrypted or nested members, too many members) are refused with a reason
# naming the archive and member, nothing is written outside the state
# folder, and the good members of the same run are still loaded.
# usage: tests/e2e/archives.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
GOLD=$SRC/tests/e2e/golden
TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG

# setup DIR: the demo config with the store drop replaced by archives and a
# route choosing the store mapping by member name.
setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
	rm -f "$1"/samples/drop/stores/*
	python3 - "$1/samples/stockpipe.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = '''    pattern: "*.csv"
    mapping: ../mappings/stores/store_stock_csv.yaml'''
assert old in s
s = s.replace(old, '''    patterns: ["*.zip", "*.tar.gz", "*.tgz", "*.gz", "*.csv"]
    routes:
      - { pattern: "stock_*.csv", mapping: ../mappings/stores/store_stock_csv.yaml }
    archive: { max_members: 1000, max_ratio: 100 }''', 1)
open(p, "w").write(s)
PY
}
sp() {
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}
STORES=$SRC/samples/drop/stores

# ---- a zip with two good members and two hostile ones -------------------
A=$TMP/a
setup "$A"
python3 - "$A/samples/drop/stores/stores.zip" "$STORES" <<'PY'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
for f in sorted(os.listdir(sys.argv[2])):
    z.write(os.path.join(sys.argv[2], f), "daily/" + f)
z.writestr("../../canary_slip.csv", "F012,KW-10001,1,OK,2026-11-20 06:00\n")
z.writestr("/tmp/canary_abs.csv", "F012,KW-10001,1,OK,2026-11-20 06:00\n")
z.close()
PY
sp "$A" run >"$TMP/a.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "zip with bad members: exit 1" || { fail "zip run exit $rc"; tail -20 "$TMP/a.out"; }
grep -q "stores.zip: member '../../canary_slip.csv' refused: member path contains '..'" "$TMP/a.out" &&
	pass "zip slip member refused with archive, member and reason" || fail "zip slip not reported"
grep -q "stores.zip: member '/tmp/canary_abs.csv' refused: absolute member path" "$TMP/a.out" &&
	pass "absolute member refused" || fail "absolute member not reported"
[ ! -e "$TMP/canary_slip.csv" ] && [ ! -e "$A/canary_slip.csv" ] && [ ! -e /tmp/canary_abs.csv ] &&
	pass "nothing written outside the state folder" || fail "a canary escaped"
q=$(sqlite3 "$A/state/state.db" "select count(*) from units where stage='map' and state=5")
[ "$q" = 2 ] && pass "the two bad members are quarantined units" || fail "quarantined map units: $q"
# The good members carry the same data as the plain demo files: the
# webshop snapshot must be byte-identical to the plain-file golden.
f=$A/out/webshop/webshop_stock_1_20261120T060000Z.csv
cmp -s "$f" "$GOLD/webshop_stock_1_20261120T060000Z.csv" &&
	pass "good members loaded: webshop snapshot equals the golden" || fail "webshop snapshot from zip differs"
# The same failing run with --log-format json: every stderr line is a JSON
# object, the refused members included (they were written past log_msg).
A2=$TMP/a2
setup "$A2"
cp "$A/samples/drop/stores/stores.zip" "$A2/samples/drop/stores/"
sp "$A2" --log-format json run >/dev/null 2>"$TMP/a2.err"
rc=$?
python3 - "$TMP/a2.err" <<'PY' && [ $rc = 1 ] && pass "--log-format json, failing run: every stderr line is JSON, refused members included" || { fail "--log-format json stderr (exit $rc)"; head -5 "$TMP/a2.err"; }
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines
objs = [json.loads(l) for l in lines]
assert any("member '../../canary_slip.csv' refused" in o.get("msg", "") for o in objs)
PY
grep -q 'stores.zip!daily/stock_F012_20261120.csv:9:3:' "$TMP/a.out" &&
	pass "rejects inside a member name archive!member:line:col" || fail "member reject location"

# inspect: the analyst's look at the same zip, without state or mapping.
"$BIN" inspect "$A/samples/drop/stores/stores.zip" >"$TMP/insp.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "daily/stock_F012_20261120.csv .* csv *accepted" "$TMP/insp.out" &&
	grep -q "../../canary_slip.csv .*refused: member path contains '..'" "$TMP/insp.out" &&
	grep -q "4 members, 2 would be refused" "$TMP/insp.out" &&
	pass "inspect lists members with format and verdict" || { fail "inspect zip (exit $rc)"; cat "$TMP/insp.out"; }
"$BIN" inspect --json "$A/samples/drop/stores/stores.zip" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["format"] == "archive" and d["archive"] == "zip" and d["valid"] is False
assert [m["accepted"] for m in d["members"]] == [True, True, False, False]
' && pass "inspect --json on an archive parses" || fail "inspect --json archive"
x=$(ls "$SRC"/samples/xml/ubl/*.xml | head -1)
"$BIN" inspect "$x" >"$TMP/insx.out" 2>&1 && grep -q '^  root: ' "$TMP/insx.out" &&
	pass "inspect reads an XML file (root, namespace, counts)" || { fail "inspect xml"; cat "$TMP/insx.out"; }
printf '<?xml version="1.0"?>\n<a>\n<b>x</b>\n<b>' >"$TMP/trunc.xml"
"$BIN" inspect "$TMP/trunc.xml" >"$TMP/inst.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -qE 'trunc.xml:[0-9]+:[0-9]+:' "$TMP/inst.out" &&
	pass "inspect gives an XML error with line and column" || { fail "inspect truncated xml (exit $rc)"; cat "$TMP/inst.out"; }

# ---- tar.gz with links and a device -----------------------------------------
B=$TMP/b
setup "$B"
python3 - "$B/samples/drop/stores/evil.tar.gz" "$STORES" <<'PY'
import sys, tarfile, os, io
t = tarfile.open(sys.argv[1], "w:gz")
for f in sorted(os.listdir(sys.argv[2])):
    t.add(os.path.join(sys.argv[2], f), f)
i = tarfile.TarInfo("d"); i.type = tarfile.SYMTYPE; i.linkname = "/tmp"; t.addfile(i)
data = b"pwned\n"
i = tarfile.TarInfo("d/evil.csv"); i.size = len(data); t.addfile(i, io.BytesIO(data))
i = tarfile.TarInfo("passwd.csv"); i.type = tarfile.LNKTYPE; i.linkname = "/etc/passwd"; t.addfile(i)
i = tarfile.TarInfo("fifo.csv"); i.type = tarfile.FIFOTYPE; t.addfile(i)
t.close()
PY
sp "$B" run >"$TMP/b.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "tar.gz with links: exit 1" || { fail "tar run exit $rc"; tail "$TMP/b.out"; }
grep -q "member 'd' refused: symbolic link" "$TMP/b.out" && pass "symlink member refused" || fail "symlink not refused"
grep -q "member 'passwd.csv' refused: hard link" "$TMP/b.out" && pass "hard link member refused" || fail "hard link not refused"
grep -q "member 'fifo.csv' refused: not a regular file" "$TMP/b.out" && pass "fifo member refused" || fail "fifo not refused"
[ ! -e /tmp/evil.csv ] && pass "write through the symlink did not escape" || { fail "/tmp/evil.csv written"; rm -f /tmp/evil.csv; }
n=$(ls "$B/out/webshop" | grep -c webshop_stock)
[ "$n" = 1 ] && pass "good tar members delivered" || fail "tar deliveries: $n"

# ---- bombs, nesting, encryption, corruption -------------------------------
C=$TMP/c
setup "$C"
D=$C/samples/drop/stores
# 512 MiB of one repeated CSV row compresses about 340:1; refused on the
# ratio once past the 8 MiB grace, long before it is written out. (1 GiB of
# zeros reads as a tar with no member: zero blocks end a tar archive; it is
# quarantined as no archive or document.)
yes "F012,KW-10001,1,OK,2026-11-20 06:00" | head -c 536870912 | gzip -9 >"$D/rows.csv.gz"
head -c 1073741824 /dev/zero | gzip -1 >"$D/zeros.gz"
python3 - "$D" <<'PY'
import sys, zipfile, io
d = sys.argv[1]
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w") as z3:
    z3.writestr("deep.csv", "F012,KW-10001,1,OK,2026-11-20 06:00\n")
mid = io.BytesIO()
with zipfile.ZipFile(mid, "w") as z2:
    z2.writestr("level3.zip", inner.getvalue())
with zipfile.ZipFile(d + "/nested.zip", "w") as z1:
    z1.writestr("level2.zip", mid.getvalue())
open(d + "/broken.zip", "wb").write(b"PK\x03\x04" + b"\x00" * 40 + b"garbage")
PY
if command -v zip >/dev/null; then
	(cd "$TMP" && cp "$STORES/stock_F012_20261120.csv" . && zip -q -P secret "$D/locked.zip" stock_F012_20261120.csv)
fi
cp "$STORES/stock_F027_20261120.csv" "$D/"
# (A sanitized binary keeps freed memory in ASan's quarantine, 256 MiB by
# default: a small one keeps the RSS about our memory, not ASan's.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4 \
	STOCKPIPE_OUT="$C/out" /usr/bin/time -f '%e %M' -o "$TMP/c.time" \
	"$BIN" -c "$C/samples/stockpipe.yaml" --state-dir "$C/state" run >"$TMP/c.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "hostile archives: exit 1, the run goes on" || { fail "hostile run exit $rc"; tail -20 "$TMP/c.out"; }
grep -q "rows.csv.gz.*decompression bomb" "$TMP/c.out" && pass "gzip bomb refused as a decompression bomb" || fail "gzip bomb not refused"
grep -q "QUARANTINED stores 'zeros.gz': zeros.gz: no member to read" "$TMP/c.out" && pass "a gzip of zeros is quarantined, never read as an empty archive" || fail "zeros.gz"
read -r secs kb < <(tail -n 1 "$TMP/c.time")
[ "${kb:-999999}" -lt 65536 ] && pass "peak RSS with the bombs: $((kb / 1024)) MiB (< 64), ${secs}s" || fail "peak RSS $kb KiB"
grep -q "member 'level2.zip' refused: archive inside an archive" "$TMP/c.out" && pass "nested archive refused" || fail "nested archive not refused"
if command -v zip >/dev/null; then
	grep -q "locked.zip: member 'stock_F012_20261120.csv' refused: encrypted member" "$TMP/c.out" &&
		pass "encrypted member refused" || fail "encrypted member not refused"
else
	skip "zip(1) not installed: encrypted-member test"
fi
grep -q "broken.zip" "$TMP/c.out" && grep -q "QUARANTINED stores 'broken.zip'" "$TMP/c.out" &&
	pass "corrupt archive quarantined whole" || fail "corrupt archive not quarantined"
[ -f "$C/state/quarantine/stores/broken.zip" ] && pass "corrupt archive kept in quarantine/" || fail "no quarantine copy"
loaded=$(sqlite3 "$C/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'stock_F027_20261120.csv'")
[ "${loaded:-0}" -gt 5 ] && pass "the plain file next to them is loaded ($loaded records)" || fail "plain file not loaded"
du=$(du -sm "$C/state/work" 2>/dev/null | cut -f1)
[ "${du:-0}" -lt 200 ] && pass "work folder stayed small (${du} MiB)" || fail "work folder ${du} MiB"

# ---- a single gzip file --------------------------------------------------
E=$TMP/e
setup "$E"
gzip -c "$STORES/stock_F012_20261120.csv" >"$E/samples/drop/stores/stock_F012_20261120.csv.gz"
cp "$STORES/stock_F027_20261120.csv" "$E/samples/drop/stores/"
python3 - "$E/samples/stockpipe.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace('pattern: "stock_*.csv"', 'pattern: "stock_*.csv*"')
open(p, "w").write(s)
PY
sp "$E" run >"$TMP/e.out" 2>&1
rc=$?
[ $rc = 1 ] && cmp -s "$E/out/webshop/webshop_stock_1_20261120T060000Z.csv" "$GOLD/webshop_stock_1_20261120T060000Z.csv" &&
	pass "a .gz file is one document; snapshot equals the golden" || { fail "gz run exit $rc"; tail "$TMP/e.out"; }

# ---- mixed formats in one zip, mappings chosen by sniffed content -------
F=$TMP/f
setup "$F"
python3 - "$F/samples/stockpipe.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = '      - { pattern: "stock_*.csv", mapping: ../mappings/stores/store_stock_csv.yaml }'
assert old in s
new = ("      - { format: xml, mapping: ../mappings/xml/erp_stock_export.yaml }\n"
       "      - { format: x12, mapping: ../mappings/edi/x12_846_inventory.yaml }\n"
       "      - { format: csv, mapping: ../mappings/stores/store_stock_csv.yaml }")
open(p, "w").write(s.replace(old, new, 1))
PY
python3 - "$F/samples/drop/stores/mixed.zip" "$STORES" "$SRC/samples/xml/erp" "$SRC/samples/edi" <<'PY'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
z.write(os.path.join(sys.argv[2], "stock_F012_20261120.csv"), "counts.dat")
z.write(os.path.join(sys.argv[4], "acme_846_inventory.x12"), "edi/inventory.x12")
for f in sorted(os.listdir(sys.argv[3])):
    z.write(os.path.join(sys.argv[3], f), "erp/" + f)
z.writestr("../escape.csv", "x\n")
z.close()
PY
sp "$F" run >"$TMP/f.out" 2>&1
rc=$?
csv_n=$(sqlite3 "$F/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'mixed.zip!counts.dat'")
xml_n=$(sqlite3 "$F/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) like 'mixed.zip!erp/%'")
x12_n=$(sqlite3 "$F/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'mixed.zip!edi/inventory.x12'")
[ $rc = 1 ] && [ "${csv_n:-0}" -gt 5 ] && [ "${xml_n:-0}" -gt 3 ] && [ "${x12_n:-0}" -gt 1 ] &&
	grep -q "mixed.zip: member '../escape.csv' refused" "$TMP/f.out" &&
	pass "zip with CSV, X12 and XML members: all loaded by sniffed format ($csv_n + $x12_n + $xml_n records), '..' member quarantined, exit 1" ||
	{ fail "mixed zip (exit $rc, csv $csv_n, x12 $x12_n, xml $xml_n)"; tail -20 "$TMP/f.out"; }

# ---- real archives written by others (skipped when absent) --------------
SHARED=$SRC/../shared/data/archives
if [ -d "$SHARED" ]; then
	"$BIN" inspect --json "$SHARED/nantic_huge_file2_edifact_REPACKAGED.tar.gz" "$SHARED/ubltr_1.2.1_paketi_turkish_ubl_samples.zip" \
		>"$TMP/shared.json" 2>"$TMP/shared.err"
	rc=$?
	python3 - "$TMP/shared.json" <<'PY' && [ $rc = 0 ] && pass "shared corpus archives read: a 222:1 EDIFACT tar.gz (under the ratio grace) and a 53-member UBL-TR zip" || { fail "shared corpus archives (exit $rc)"; cat "$TMP/shared.err"; }
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
a, b = docs
assert a["archive"] == "gzip" and a["valid"] is True
assert [(m["name"], m["format"], m["accepted"]) for m in a["members"]] == [("huge_file2.edi", "edifact", True)]
assert a["members"][0]["size"] == 2200809
assert b["archive"] == "zip" and b["valid"] is True and len(b["members"]) == 53
assert all(m["accepted"] for m in b["members"])
assert sum(1 for m in b["members"] if m["format"] == "xml") == 52
PY
else
	skip "../shared/data/archives not present"
fi

# ---- 100 000 empty members: refused at the member limit -----------------
# (Its own run: libarchive reads a zip's central directory whole, so this
# one is about the refusal, not about the bombs' memory above.)
G=$TMP/g
setup "$G"
python3 - "$G/samples/drop/stores/flood100k.zip" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED)
for i in range(100000):
    z.writestr("e%06d.csv" % i, b"")
z.close()
PY
cp "$STORES/stock_F027_20261120.csv" "$G/samples/drop/stores/"
sp "$G" run >"$TMP/g.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "flood100k.zip.*more than 1000 members" "$TMP/g.out" &&
	[ "$(sqlite3 "$G/state/state.db" "select count(*) from stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = 'stock_F027_20261120.csv'")" -gt 5 ] &&
	pass "100000 empty members refused at the limit; the plain file next to it is loaded" ||
	{ fail "100k member flood (exit $rc)"; tail "$TMP/g.out"; }

t_done

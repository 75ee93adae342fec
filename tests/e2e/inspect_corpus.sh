#!/bin/bash
# End-to-end test of the one content analysis (transforms/formats/sniff.h)
# on real exports: `inspect --json` and content routes (`routes:` by
# format) over
#   - hand-made exports of the shapes real partners send that the shared
#     corpus lacks (Mac CR line ends, UTF-16 with and without BOM, TAB and
#     '|' delimiters, a quoted line break, a one-column list), always;
#   - every file under ../shared/data/csv and ../shared/data/xml (skipped
#     when ../shared/data is absent).
# For each: the format is named (never "unknown"); for CSV the delimiter
# and the column count agree with Python's csv module reading the file in
# the detected dialect and with MANIFEST.tsv where its notes say so; and a
# run whose only routes are by format routes every file (none quarantined
# with "no route ... matches"). A binary file is the negative control: it
# stays unknown and is refused by the routes, saying what it is.
# usage: tests/e2e/inspect_corpus.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
CORPUS=$SRCDIR/../shared/data

if ! command -v python3 >/dev/null 2>&1; then
	skip "inspect corpus: python3 is needed to read the JSON"
	t_done
	exit 0
fi

# ---- hand-made exports --------------------------------------------------
X=$(t_tmpdir extras)
python3 - "$X" <<'PY'
import sys, os
d = sys.argv[1]
rows = [["sku", "store", "qty", "note"], ["A-1", "F012", "3", "ok"],
        ["B-2", "F012", "14", "two\nlines"], ["C-3", "F027", "0", ""]]
def csv_text(delim, eol):
    out = []
    for r in rows:
        f = []
        for v in r:
            if any(c in v for c in (delim, '"', "\n", "\r")):
                v = '"' + v.replace('"', '""') + '"'
            f.append(v)
        out.append(delim.join(f))
    return eol.join(out) + eol
open(os.path.join(d, "mac_cr_export.csv"), "w", newline="").write(csv_text(";", "\r"))
open(os.path.join(d, "utf16le_bom.csv"), "wb").write(b"\xff\xfe" + csv_text(",", "\r\n").encode("utf-16-le"))
open(os.path.join(d, "utf16be_nobom.csv"), "wb").write(csv_text("\t", "\n").encode("utf-16-be"))
open(os.path.join(d, "pipes.txt"), "w", newline="").write(csv_text("|", "\n"))
open(os.path.join(d, "tabs.tsv"), "w", newline="").write(csv_text("\t", "\r\n"))
open(os.path.join(d, "one_column.csv"), "w").write("sku\nA-1\nB-2\nC-3\n")
PY
head -c 3000 /dev/urandom >"$X/junk.bin"
# expected: file delimiter columns (the MANIFEST-like truth for the extras)
cat >"$X/EXPECT" <<'EOF'
mac_cr_export.csv	;	4
utf16le_bom.csv	,	4
utf16be_nobom.csv	\t	4
pipes.txt	|	4
tabs.tsv	\t	4
one_column.csv	,	1
EOF

FILES=$T_TMP/files
find "$X" -type f ! -name EXPECT ! -name junk.bin | sort >"$FILES"
if [ -d "$CORPUS/csv" ] && [ -d "$CORPUS/xml" ]; then
	find "$CORPUS/csv" "$CORPUS/xml" -type f | sort >>"$FILES"
	HAVE_CORPUS=1
else
	skip "../shared/data/csv and xml not present: only the hand-made exports"
	HAVE_CORPUS=0
fi

# ---- inspect --json: format, dialect, columns ---------------------------
JS=$T_TMP/inspect.jsonl
: >"$JS"
while IFS= read -r f; do
	"$BIN" inspect --json "$f" >>"$JS" 2>>"$T_TMP/inspect.err"
	rc=$?
	[ $rc -le 1 ] || fail "inspect $f exits $rc"
done <"$FILES"
python3 - "$JS" "$X/EXPECT" "$CORPUS/MANIFEST.tsv" "$CORPUS" >"$T_TMP/check.out" <<'PY'
import csv, io, json, os, re, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
expect = {}
for line in open(sys.argv[2]):
    name, delim, cols = line.rstrip("\n").split("\t")
    expect[name] = (delim.replace("\\t", "\t"), int(cols))
manifest = {}
if os.path.exists(sys.argv[3]):
    for r in csv.DictReader(open(sys.argv[3]), delimiter="\t"):
        manifest[os.path.join(sys.argv[4], r["local_path"])] = r["notes"]
counts = {}
def say(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
def python_columns(d):
    """Fields of the first record by Python's csv module in the dialect
    inspect found: an oracle that shares no code with ours."""
    enc = {"ISO-8859-1": "latin-1", "WINDOWS-1252": "cp1252"}.get(
        d["encoding"], d["encoding"].lower())
    if enc == "utf-8" and d["bom"]:
        enc = "utf-8-sig"
    text = open(d["file"], encoding=enc, newline="").read()
    rd = csv.reader(io.StringIO(text, newline=""), delimiter=d["delimiter"],
                    quotechar=d["quote"] or '"')
    for rec in rd:
        if rec:
            return len(rec)
    return 0
for d in docs:
    f, fmt = d["file"], d["format"]
    base = os.path.basename(f)
    counts[fmt] = counts.get(fmt, 0) + 1
    say(fmt in ("csv", "xml"), "%s: format %s" % (base, fmt))
    if fmt != "csv":
        if fmt == "xml":
            say(d["root"] != "" and len(d["paths"]) > 0,
                "%s: root %s, %d paths" % (base, d["root"], len(d["paths"])))
        continue
    delim, cols = d["delimiter"], d["columns"]
    try:
        pc = python_columns(d)
        say(pc == cols, "%s: %d columns, Python's csv reads %d with %r"
            % (base, cols, pc, delim))
    except (UnicodeDecodeError, csv.Error) as e:
        # csvkit_null_byte.csv: older Pythons refuse the NUL byte
        print("skip %s: Python's csv cannot read it (%s)" % (base, e))
    if base in expect:
        want = expect[base]
        say((delim, cols) == want, "%s: delimiter %r, %d columns (want %r, %d)"
            % (base, delim, cols, want[0], want[1]))
    notes = manifest.get(f, "")
    m = re.search(r"'(.)' delimiter|(semicolon)|(comma) CSV", notes)
    if m:
        want = m.group(1) or (";" if m.group(2) else ",")
        say(delim == want, "%s: delimiter %r, MANIFEST says %r" % (base, delim, want))
    m = re.search(r"\((\d+) cols, (\d+) rows\)", notes)
    if m:
        say(cols == int(m.group(1)) and d["rows"] == int(m.group(2)),
            "%s: %d columns, %d rows, MANIFEST says %s, %s"
            % (base, cols, d["rows"], m.group(1), m.group(2)))
print("COUNTS " + " ".join("%s=%d" % kv for kv in sorted(counts.items())))
PY
while IFS= read -r line; do
	case $line in
	"ok   "*) pass "${line#ok   }" ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	"skip "*) skip "${line#skip }" ;;
	COUNTS*) echo "  identified: ${line#COUNTS }" ;;
	esac
done <"$T_TMP/check.out"
t_san_clean "$T_TMP/inspect.err" && pass "inspect: no sanitizer report on any file" ||
	{ fail "inspect: sanitizer report"; head -20 "$T_TMP/inspect.err"; }
n=$(wc -l <"$FILES")
m=$(wc -l <"$JS")
[ "$n" = "$m" ] && pass "inspect --json: one object for each of the $n files" ||
	fail "inspect --json: $m objects for $n files"

"$BIN" inspect "$X/junk.bin" >"$T_TMP/junk.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "junk.bin: unknown" "$T_TMP/junk.out" &&
	pass "negative control: random bytes stay unknown (exit 1)" ||
	{ fail "random bytes (exit $rc)"; cat "$T_TMP/junk.out"; }

# ---- content routes ------------------------------------------------------
R=$(t_tmpdir routes)
mkdir -p "$R/drop" "$R/out"
cp -R "$SRCDIR/mappings" "$R/mappings"
while IFS= read -r f; do
	cp "$f" "$R/drop/"
done <"$FILES"
cp "$X/junk.bin" "$R/drop/"
cat >"$R/stockpipe.yaml" <<'EOF'
state_dir: state
sources:
  - name: corpus
    path: drop
    pattern: "*"
    routes:
      - { format: csv, mapping: mappings/stores/store_stock_csv.yaml }
      - { format: xml, mapping: mappings/xml/erp_stock_export.yaml }
targets:
  - name: webshop
    path: out
    mapping: mappings/targets/webshop_stock.yaml
EOF
"$BIN" -c "$R/stockpipe.yaml" run >"$T_TMP/run.out" 2>&1
rc=$?
t_san_clean "$T_TMP/run.out" && pass "run: no sanitizer report" ||
	{ fail "run: sanitizer report"; grep -A5 "runtime error\|Sanitizer" "$T_TMP/run.out" | head -20; }
nroute=$(grep "QUARANTINED" "$T_TMP/run.out" | grep -c "no route of source")
if grep "QUARANTINED" "$T_TMP/run.out" | grep -q "'junk.bin': no route of source.*its content is unknown"; then
	pass "negative control: junk.bin is quarantined by the routes, saying its content is unknown"
else
	fail "junk.bin: no 'no route ... its content is unknown' quarantine"
	grep "junk.bin" "$T_TMP/run.out" | head -3
fi
# Every other file got a mapping from its content: it either loaded or
# was quarantined by that mapping (a store-stock mapping reading a UBL
# order), never for want of a route.
[ "$rc" -le 1 ] && [ "$nroute" = 1 ] &&
	pass "content routes: all $n files routed by format (run exit $rc, 1 'no route' = the control)" ||
	{ fail "content routes: run exit $rc, $nroute 'no route' quarantines"; grep "no route" "$T_TMP/run.out" | head; }
while IFS= read -r f; do
	b=$(basename "$f")
	grep -F "'$b'" "$T_TMP/run.out" | grep -q "no route" &&
		fail "routes: '$b' not routed"
done <"$FILES"
[ "$HAVE_CORPUS" = 1 ] && echo "  shared corpus files: $(grep -c "$CORPUS" "$FILES")"

t_done

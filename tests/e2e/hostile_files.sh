#!/bin/bash
# hostile_files.sh - files and folders prepared by an attacker (issue 18):
#   - two zip members whose long names share their first 500 bytes (the unit
#     key used to cut them into one: one member's rows vanished, exit 0)
#   - a zip member named in UTF-8 ("München"), read in the C locale
#   - a gzip of zeros (read as an empty tar: "0 members", exit 0)
#   - a symlink, then a fifo, swapped in between the listing and the open
#     (test hook STOCKPIPE_PAUSE_AT=fetch-open; sanitized build only)
#   - a symlink planted under a target file's temporary name
#   - two quarantined documents with one name
#   - after_load: move onto an existing processed/NAME
#   - a file replaced by one of the same size and mtime before
#     after_load: delete (test hook post-check)
#   - a future mtime under min_age
# Each case shows the documented exit code, nothing read or written outside
# its folder and nothing lost.
# usage: tests/e2e/hostile_files.sh BINARY
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z STOCKPIPE_RETRY_BACKOFF=0
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG \
	STOCKPIPE_PAUSE_AT STOCKPIPE_PAUSE_FILE
export LC_ALL=C
STORES=$SRCDIR/samples/drop/stores
F012=stock_F012_20261120.csv
F027=stock_F027_20261120.csv

# setup DIR [archives]: the demo in DIR, targets under DIR/out; with
# "archives", the stores source takes zip and gz files too. Every sample
# gets an mtime an hour before STOCKPIPE_NOW (min_age cases).
setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRCDIR/samples" "$1/samples"
	cp -R "$SRCDIR/mappings" "$1/mappings"
	if [ "${2:-}" = archives ]; then
		python3 - "$1/samples/stockpipe.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = '''    pattern: "*.csv"
    mapping: ../mappings/stores/store_stock_csv.yaml'''
assert old in s
s = s.replace(old, '''    patterns: ["*.zip", "*.gz", "*.csv"]
    routes:
      - { pattern: "stock_*.csv", mapping: ../mappings/stores/store_stock_csv.yaml }''', 1)
open(p, "w").write(s)
PY
	fi
	find "$1/samples/drop" -type f -exec touch -d '2026-11-20 05:00 UTC' {} +
}
# stores_yaml DIR 'KEY: VALUE' ...: lines added to the stores source
stores_yaml() {
	local d=$1
	shift
	python3 - "$d/samples/stockpipe.yaml" "$@" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = "    path: drop/stores              # store stock counts\n"
assert old in s
s = s.replace(old, old + "".join("    %s\n" % a for a in sys.argv[2:]), 1)
open(p, "w").write(s)
PY
}
sp() { # sp DIR ARGS...
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}
events() { db "$1" "SELECT count(*) FROM stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) $2"; }
SECRET="SECRET-$$-do-not-read"
# leaked DIR: the files under DIR (state, targets) holding the secret
leaked() { grep -rl "$SECRET" "$1/state" "$1/out" 2>/dev/null; }

# paused_run DIR POINT LOG: starts a run that pauses at POINT (test hook)
# and waits for the pause; 0 when paused (PID in $RUN_PID), 1 when the
# binary has no test hooks (the run ended without pausing).
paused_run() {
	local d=$1 i
	rm -f "$d/pause"
	STOCKPIPE_PAUSE_AT=$2 STOCKPIPE_PAUSE_FILE="$d/pause" \
		sp "$d" run >"$3" 2>&1 &
	RUN_PID=$!
	for i in $(seq 1 600); do
		[ -e "$d/pause" ] && return 0
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$RUN_PID"
	return 1
}
# resume DIR: lets the paused run go on; its exit code in $RUN_RC
resume() {
	rm -f "$1/pause"
	wait "$RUN_PID"
	RUN_RC=$?
}

# ---- archives: long names sharing a prefix, UTF-8 names, zeros ---------------
d=$(t_tmpdir archives)
setup "$d" archives
python3 - "$d/samples/drop/stores" <<'PY'
import sys, os, zipfile
src = sys.argv[1]
# 480 bytes of folder: "stores.zip!" + the folder + "/stock_F0" already
# fill a 512-byte unit key, so the old key cut both names to one.
pre = "d" * 480 + "/"
with zipfile.ZipFile(src + "/long.zip", "w") as z:
    for f in ("stock_F012_20261120.csv", "stock_F027_20261120.csv"):
        z.write(os.path.join(src, f), pre + f)
        os.unlink(os.path.join(src, f))
PY
touch -d '2026-11-20 05:00 UTC' "$d/samples/drop/stores/long.zip"
sp "$d" run >"$T_TMP/arch.out" 2>&1
rc=$?
# baseline: the same two files as plain files, loaded by a fresh demo
b=$(t_tmpdir plain)
setup "$b"
sp "$b" run >/dev/null 2>&1
n12=$(events "$b" "= '$F012'")
n27=$(events "$b" "= '$F027'")
g12=$(events "$d" "LIKE 'long.zip!%/$F012'")
g27=$(events "$d" "LIKE 'long.zip!%/$F027'")
[ "$rc" = 1 ] && ! grep -q "QUARANTINED\|FAILED" "$T_TMP/arch.out" && [ -n "$n12" ] && [ "$n12" -gt 0 ] && [ "$g12" = "$n12" ] &&
	[ "$g27" = "$n27" ] &&
	pass "two members with 480-byte common prefix: both loaded ($g12 + $g27 rows, as plain files $n12 + $n27), exit 1 (the demo's rejects), nothing quarantined" ||
	{ fail "long member names: exit $rc, rows $g12/$n12 and $g27/$n27"; tail -5 "$T_TMP/arch.out"; }
keys=$(db "$d" "SELECT count(DISTINCT ukey) FROM units WHERE stage = 'map' AND ukey LIKE 'long.zip!%'")
[ "$keys" = 2 ] && pass "the two members are two map units with keys of their own" || fail "map units of long.zip: $keys"

d=$(t_tmpdir utf8)
setup "$d" archives
python3 - "$d/samples/drop/stores" <<'PY'
import sys, os, zipfile
src = sys.argv[1]
with zipfile.ZipFile(src + "/bestand.zip", "w") as z:
    # zipfile sets the UTF-8 flag for a non-ASCII name, as zip tools do
    z.write(os.path.join(src, "stock_F012_20261120.csv"), "stock_F012_München.csv")
os.unlink(os.path.join(src, "stock_F012_20261120.csv"))
PY
touch -d '2026-11-20 05:00 UTC' "$d/samples/drop/stores/bestand.zip"
expect_exit_d 1 "zip member 'stock_F012_München.csv' in the C locale: exit 1 (the demo's rejects)" sp "$d" run
! grep -q "refused:\|QUARANTINED" "$T_OUT" "$T_ERR" && pass "the UTF-8 member name is not refused" ||
	{ fail "UTF-8 member refused"; grep refused "$T_OUT" "$T_ERR"; }
n=$(events "$d" "= 'bestand.zip!stock_F012_München.csv'")
[ "$n" = "$n12" ] && pass "its $n rows are loaded under its name" || fail "rows of the UTF-8 member: $n (want $n12)"

d=$(t_tmpdir zeros)
setup "$d" archives
head -c 1048576 /dev/zero | gzip >"$d/samples/drop/stores/zeros.gz"
expect_exit_d 1 "a gzip of zeros: exit 1 (quarantined), the run goes on" sp "$d" run
grep -q "QUARANTINED stores 'zeros.gz': zeros.gz: no member to read: the compressed content is no archive or document" "$T_OUT" "$T_ERR" &&
	pass "zeros.gz quarantined with the reason" || { fail "zeros.gz not quarantined"; t_show; }
[ -f "$d/state/quarantine/stores/zeros.gz" ] && cmp -s "$d/state/quarantine/stores/zeros.gz" "$d/samples/drop/stores/zeros.gz" &&
	pass "its copy is in quarantine/stores/zeros.gz" || fail "no quarantine copy of zeros.gz"
n=$(events "$d" "= '$F012'")
[ "$n" = "$n12" ] && pass "the store files beside it are loaded" || fail "store rows: $n"

# ---- a symlink, then a fifo, swapped in between listing and open ---------------
d=$(t_tmpdir swap)
setup "$d"
printf '%s\n' "store,sku,qty,status,counted_at" "F012,$SECRET,1,OK,2026-11-20 05:00" >"$d/secret.csv"
chmod 600 "$d/secret.csv"
if paused_run "$d" fetch-open "$T_TMP/swap.out"; then
	# The first file fetched is the supplier's: swap it for a link to
	# the secret (same name, listed as a regular file a moment ago).
	f=$(ls "$d/samples/drop/supplier/")
	rm "$d/samples/drop/supplier/$f"
	ln -s "$d/secret.csv" "$d/samples/drop/supplier/$f"
	resume "$d"
	grep -q "refusing '.*$f': a symbolic link (never followed)" "$T_TMP/swap.out" &&
		pass "symlink swapped in after the listing: refused, not followed (exit $RUN_RC)" ||
		{ fail "symlink swap not refused (exit $RUN_RC)"; tail -5 "$T_TMP/swap.out"; }
	[ "$RUN_RC" = 1 ] && pass "symlink swap: exit 1, the other sources loaded" || fail "symlink swap exit $RUN_RC"
	l=$(leaked "$d")
	[ -z "$l" ] && pass "the secret is nowhere in state/ or out/" || fail "secret leaked into: $l"
	n=$(events "$d" "= '$F012'")
	[ "$n" = "$n12" ] && pass "the store files are loaded all the same" || fail "store rows after swap: $n"

	d=$(t_tmpdir fifo)
	setup "$d"
	paused_run "$d" fetch-open "$T_TMP/fifo.out"
	f=$(ls "$d/samples/drop/supplier/")
	rm "$d/samples/drop/supplier/$f"
	mkfifo "$d/samples/drop/supplier/$f"
	start=$(date +%s)
	rm -f "$d/pause"
	( sleep 60; kill "$RUN_PID" 2>/dev/null ) &
	guard=$!
	wait "$RUN_PID"
	RUN_RC=$?
	kill "$guard" 2>/dev/null
	wait "$guard" 2>/dev/null
	secs=$(($(date +%s) - start))
	[ "$RUN_RC" = 1 ] && [ "$secs" -lt 50 ] &&
		grep -q "refusing '.*$f': not a regular file (a fifo)" "$T_TMP/fifo.out" &&
		pass "fifo swapped in: refused without blocking (${secs}s), exit 1" ||
		{ fail "fifo swap: exit $RUN_RC after ${secs}s"; tail -5 "$T_TMP/fifo.out"; }
else
	skip "symlink/fifo swap between listing and open: $(basename "$BIN") has no test hooks (build-san has)"
fi

# ---- a symlink planted under a target file's temporary name ---------------------
d=$(t_tmpdir plant)
setup "$d"
sp "$d" run >/dev/null 2>&1
names=$(cd "$d/out" && find . -type f | sort)
setup "$d"
echo "precious" >"$d/victim"
for f in $names; do
	ln -s "$d/victim" "$d/out/$(dirname "$f")/.$(basename "$f").tmp"
done
expect_exit_d 1 "symlinks planted under every target temp name: exit 1 (the demo's rejects)" sp "$d" run
! grep -q "QUARANTINED\|FAILED" "$T_OUT" "$T_ERR" && pass "nothing quarantined or failed" || fail "plant: quarantined or failed units"
[ "$(cat "$d/victim")" = precious ] && pass "the file they point to is untouched" || fail "victim overwritten"
[ "$(cd "$d/out" && find . -type f | sort)" = "$names" ] && [ -z "$(find "$d/out" -type l)" ] &&
	pass "every target file delivered as a file, no link left" || fail "target files after plant: $(cd "$d/out" && find . | sort)"

# ---- two quarantined documents with one name ------------------------------------
d=$(t_tmpdir quar)
setup "$d"
bad() { printf 'store,sku,qty,status,counted_at\n'; for i in $(seq 1 "$1"); do echo "F012,KW-10001,x$i,OK,2026-11-20 05:00"; done; }
bad 3 >"$d/samples/drop/stores/stock_F099.csv"
touch -d '2026-11-20 05:00 UTC' "$d/samples/drop/stores/stock_F099.csv"
expect_exit_d 1 "a document all rejects: quarantined, exit 1" sp "$d" run
cp "$d/samples/drop/stores/stock_F099.csv" "$T_TMP/first.csv"
bad 4 >"$d/samples/drop/stores/stock_F099.csv"
touch -d '2026-11-20 05:01 UTC' "$d/samples/drop/stores/stock_F099.csv"
expect_exit_d 1 "another document under the same name: quarantined, exit 1" sp "$d" run
q=$(find "$d/state/quarantine/stores" -type f -name '*stock_F099.csv' | sort)
[ "$(echo "$q" | wc -l)" = 2 ] && cmp -s "$(echo "$q" | grep -v '/[0-9]*_stock')" "$T_TMP/first.csv" &&
	cmp -s "$(echo "$q" | grep '/[0-9]*_stock')" "$d/samples/drop/stores/stock_F099.csv" &&
	pass "both copies kept: quarantine/stores/stock_F099.csv and $(basename "$(echo "$q" | grep '/[0-9]*_stock')")" ||
	fail "quarantine copies: $q"
paths=$(db "$d" "SELECT count(DISTINCT output_path) FROM units WHERE stage = 'map' AND state = 5 AND ukey = 'stock_F099.csv'")
[ "$paths" = 2 ] && pass "each quarantined unit names its own copy" || fail "distinct quarantine paths: $paths"

# ---- after_load: move onto an existing processed/NAME -------------------------------
d=$(t_tmpdir move)
setup "$d"
stores_yaml "$d" "after_load: move"
mkdir -p "$d/samples/drop/stores/processed"
echo "an older copy" >"$d/samples/drop/stores/processed/$F012"
cp "$d/samples/drop/stores/$F012" "$T_TMP/new.csv"
expect_exit_d 1 "move onto an existing processed/$F012: exit 1 (the demo's rejects)" sp "$d" run
[ "$(cat "$d/samples/drop/stores/processed/$F012")" = "an older copy" ] &&
	cmp -s "$d/samples/drop/stores/processed/stock_F012_20261120~1.csv" "$T_TMP/new.csv" &&
	[ ! -e "$d/samples/drop/stores/$F012" ] &&
	pass "the older copy is kept, the new one is processed/stock_F012_20261120~1.csv" ||
	{ fail "processed/ after move"; ls -la "$d/samples/drop/stores/processed"; }
grep -q "'$F012' moved to '.*processed/stock_F012_20261120~1.csv': an older '$F012' is kept there" "$T_ERR" &&
	pass "the move says where the file went" || { fail "no move warning"; t_show; }
n=$(db "$d" "SELECT count(*) FROM files WHERE source = 'stores' AND name = '$F012' AND post_state = 'done'")
[ "$n" = 1 ] && pass "the ledger keeps the name it was fetched under" || fail "ledger rows: $n"

# ---- same size, same mtime, other content before after_load: delete --------------
d=$(t_tmpdir replace)
setup "$d"
stores_yaml "$d" "after_load: delete"
if paused_run "$d" post-check "$T_TMP/replace.out"; then
	f=$d/samples/drop/stores/$F012
	# what the partner re-sent: one byte different, same size, same mtime
	sed '2s/F012/F013/' "$f" >"$T_TMP/resent.csv"
	touch -r "$f" "$T_TMP/resent.csv"
	cp -p "$T_TMP/resent.csv" "$f"
	resume "$d"
	[ "$RUN_RC" = 1 ] && cmp -s "$f" "$T_TMP/resent.csv" &&
		grep -q "'$F012' changed at the source since it was fetched (same size and mtime, other content); left in place, not deleted unread" "$T_TMP/replace.out" &&
		pass "a same-size same-mtime replacement is not deleted unread (exit 1: the demo's rejects)" ||
		{ fail "replacement: exit $RUN_RC"; tail -5 "$T_TMP/replace.out"; ls -la "$d/samples/drop/stores"; }
	[ ! -e "$d/samples/drop/stores/$F027" ] && pass "the unchanged file beside it is deleted as configured" ||
		fail "$F027 not deleted"
else
	skip "same-size replacement before delete: $(basename "$BIN") has no test hooks (build-san has)"
fi

# ---- a future mtime under min_age -------------------------------------------------
d=$(t_tmpdir future)
setup "$d"
stores_yaml "$d" "min_age: 2m"
touch -d '2026-11-20 07:00 UTC' "$d/samples/drop/stores/$F027"
expect_exit_d 1 "min_age with a file dated an hour ahead: exit 1 (the demo's rejects)" sp "$d" run
grep -q "stores: '$F027' has a modification time 3600s in the future; not taken before it is 120s old (min_age)" "$T_ERR" &&
	pass "the future mtime is a warning naming the file" || { fail "no future-mtime warning"; t_show; }
n=$(events "$d" "= '$F012'")
[ "$n" = "$n12" ] && [ "$(events "$d" "= '$F027'")" = 0 ] &&
	pass "the file with a past mtime is loaded, the future one waits" || fail "rows after min_age: $n"

# ---- detect_changes: content: a same-size same-mtime replacement is loaded -----------
# Run 1 loads and moves stock_F012; the partner then puts a new version
# under the same name, one digit different, same size, same mtime. By
# default the ledger knows that name, size and mtime: nothing is fetched
# and the file stays at the source. With detect_changes: content the next
# listing hashes it, fetches it as a new version, loads it and moves it.
for mode in metadata content; do
	d=$(t_tmpdir "detect-$mode")
	setup "$d"
	stores_yaml "$d" "after_load: move" "detect_changes: $mode"
	f=$d/samples/drop/stores/$F012
	sed '2s/,14,/,41,/' "$f" >"$T_TMP/v2-$mode.csv"
	touch -r "$f" "$T_TMP/v2-$mode.csv"
	expect_exit_d 1 "detect_changes: $mode, first run: exit 1 (the demo's rejects)" sp "$d" run
	cp -p "$T_TMP/v2-$mode.csv" "$f"
	before=$(events "$d" "= '$F012'")
	# exit 1 when the new version is loaded: its own rejects (the demo's)
	want=0
	[ "$mode" = content ] && want=1
	expect_exit_d $want "detect_changes: $mode, run after a same-size same-mtime replacement: exit $want" sp "$d" run
	after=$(events "$d" "= '$F012'")
	n41=$(db "$d" "SELECT count(*) FROM stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = '$F012' AND qty = 41000000")  # 41, scaled
	rows=$(db "$d" "SELECT count(*) FROM files WHERE source = 'stores' AND name = '$F012' AND post_state = 'done'")
	if [ "$mode" = metadata ]; then
		[ "$after" = "$before" ] && [ "$n41" = 0 ] && cmp -s "$f" "$T_TMP/v2-$mode.csv" &&
			[ "$rows" = 1 ] && cat "$T_OUT" "$T_ERR" | grep -q "stores: 0 new files" &&
			pass "detect_changes: metadata (the default): the replacement is not fetched and stays at the source" ||
			{ fail "metadata: events $before -> $after, qty 41: $n41, ledger rows $rows"; t_show; }
	else
		[ "$n41" -ge 1 ] && [ "$after" -gt "$before" ] && [ ! -e "$f" ] &&
			cmp -s "$d/samples/drop/stores/processed/stock_F012_20261120~1.csv" "$T_TMP/v2-$mode.csv" &&
			[ "$rows" = 2 ] &&
			cat "$T_OUT" "$T_ERR" | grep -q "stores: '$F012' has the size and mtime of a file seen before but other content: fetched again" &&
			pass "detect_changes: content: the replacement is fetched, loaded (qty 41 in the store, beside the first version's 14) and moved to processed/ beside the first" ||
			{ fail "content: events $before -> $after, qty 41: $n41, ledger rows $rows"; t_show; ls -la "$d/samples/drop/stores" "$d/samples/drop/stores/processed"; }
	fi
done

# The same replacement between fetch and after_load: delete (test hook
# post-check): with detect_changes: content the run leaves it for the next
# run (no "touch it"), which loads it and deletes it.
d=$(t_tmpdir replace-content)
setup "$d"
stores_yaml "$d" "after_load: delete" "detect_changes: content"
if paused_run "$d" post-check "$T_TMP/replace-content.out"; then
	f=$d/samples/drop/stores/$F012
	sed '2s/,14,/,41,/' "$f" >"$T_TMP/resent2.csv"
	touch -r "$f" "$T_TMP/resent2.csv"
	cp -p "$T_TMP/resent2.csv" "$f"
	resume "$d"
	[ "$RUN_RC" = 1 ] && cmp -s "$f" "$T_TMP/resent2.csv" &&
		grep -q "'$F012' changed at the source since it was fetched (same size and mtime, other content); left for the next run" "$T_TMP/replace-content.out" &&
		! grep -q "touch it" "$T_TMP/replace-content.out" &&
		pass "detect_changes: content: a replacement before delete is left for the next run" ||
		{ fail "replace-content: exit $RUN_RC"; tail -5 "$T_TMP/replace-content.out"; }
	expect_exit_d 1 "detect_changes: content: the next run loads the new version: exit 1 (its rejects)" sp "$d" run
	n41=$(db "$d" "SELECT count(*) FROM stock_events e join units u on u.id = e.doc where coalesce(e.file, u.ukey) = '$F012' AND qty = 41000000")
	[ "$n41" -ge 1 ] && [ ! -e "$f" ] &&
		pass "the new version is loaded (qty 41), then deleted as configured" ||
		{ fail "replace-content run 2: qty 41 rows $n41"; ls -la "$d/samples/drop/stores"; }
else
	skip "same-size replacement with detect_changes: content: $(basename "$BIN") has no test hooks (build-san has)"
fi

t_done

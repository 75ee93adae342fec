#!/bin/bash
# I/O fault tests: ENOSPC and EIO on write, fsync, rename, link and close, in
# every stage (fetch, map, render, deliver, the report, the SQLite state
# store), injected with the LD_PRELOAD shim tests/fault/inject_io.c
# (build/libinject_io.so; compiled here when missing). For each fault:
#   - the run concludes (docs/operations.md, "What stops what"): the failed
#     unit is retried inside the run (transient) and the run ends done
#     (exit 1: the samples have rejects), or, when the fault does not go
#     away, the unit is parked (exit 1) or nothing could advance (exit
#     75); either way it says why (errno text);
#   - the fault really fired (the shim's log);
#   - no partial file under a final name: every file in the target folders
#     is byte-identical to the clean run's file of that name;
#   - PRAGMA integrity_check is ok right after the failure;
#   - the next `run` (what a scheduler retry does) succeeds, and the
#     deliveries are byte-identical to a clean run's, with no duplicate
#     deliveries, no stock event counted twice and no temp files left.
# A failed metrics write is a warning only (the data work succeeded).
# usage: tests/e2e/faults.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z STOCKPIPE_RETRY_BACKOFF=0
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG INJECT_IO

SHIM=$SRC/build/libinject_io.so
if [ ! -f "$SHIM" ] || [ "$SRC/tests/fault/inject_io.c" -nt "$SHIM" ]; then
	SHIM=$TMP/libinject_io.so
	cc -std=c11 -O2 -fPIC -shared -o "$SHIM" "$SRC/tests/fault/inject_io.c" -ldl ||
		{ fail "cannot build the fault shim"; t_done; exit 1; }
fi
# A sanitized binary wants its runtime first in the library list; the
# shim only wraps libc calls, so the order does not matter here.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS

setup() {
	rm -rf "$1"
	mkdir -p "$1/out/webshop" "$1/out/marketplace"
	cp -R "$SRC/samples" "$1/samples"
	cp -R "$SRC/mappings" "$1/mappings"
}
sp() {
	local d=$1
	shift
	STOCKPIPE_STATE_DIR="$d/state" STOCKPIPE_OUT="$d/out" \
		"$BIN" -c "$d/samples/stockpipe.yaml" "$@"
}

# The shim must do what it says, or every test below proves nothing.
if INJECT_IO=write:1:ENOSPC:probe-out LD_PRELOAD=$SHIM sh -c 'printf y > "$1"' sh "$TMP/probe-out" 2>/dev/null; then
	fail "the shim did not fail a write to a matching path"
else
	pass "the shim fails the chosen write"
fi

C=$TMP/clean
setup "$C"
sp "$C" -q run >/dev/null 2>&1
[ "$(outputs "$C" | wc -l)" = 3 ] || fail "clean run did not deliver 3 files"
ev0=$(db "$C" "select count(*) from stock_events")

# fault RULE WHAT EXPECT_TEXT
fault() {
	local rule=$1 what=$2 text=$3 D=$TMP/f rc hits f problems=""
	setup "$D"
	rm -f "$TMP/inj.log"
	INJECT_IO=$rule INJECT_IO_LOG=$TMP/inj.log LD_PRELOAD=$SHIM \
		sp "$D" run >"$TMP/f.out" 2>"$TMP/f.err"
	rc=$?
	hits=$(wc -l <"$TMP/inj.log" 2>/dev/null || echo 0)
	[ "$hits" -ge 1 ] || problems="$problems fault-not-hit"
	case $rc in 1 | 75) ;; *) problems="$problems exit-$rc" ;; esac
	grep -qiE "$text" "$TMP/f.err" || problems="$problems no-'$text'-on-stderr"
	for f in $(outputs "$D"); do
		cmp -s "$C/out/$f" "$D/out/$f" || problems="$problems partial:$f"
	done
	[ "$(db "$D" "pragma integrity_check")" = ok ] || problems="$problems integrity-after-fault"
	t_san_clean "$TMP/f.err" || problems="$problems sanitizer"
	if [ -z "$problems" ]; then
		pass "$what ($rule): concluded with exit $rc, clean failure"
	else
		fail "$what ($rule):$problems"
		tail -n 5 "$TMP/f.err" | sed 's/^/    /'
	fi
	# The scheduler's retry.
	problems=""
	sp "$D" run >"$TMP/r.out" 2>"$TMP/r.err"
	rc=$?
	[ $rc -le 1 ] || problems="$problems retry-exit-$rc"
	[ "$(outputs "$D")" = "$(outputs "$C")" ] || problems="$problems file-list-differs"
	for f in $(outputs "$C"); do
		cmp -s "$C/out/$f" "$D/out/$f" || problems="$problems differs:$f"
	done
	find "$D/out" "$D/state" -name '.*.tmp' | grep -q . && problems="$problems temp-files-left"
	[ "$(db "$D" "pragma integrity_check")" = ok ] || problems="$problems integrity"
	[ "$(db "$D" "select count(*) from stock_events")" = "$ev0" ] || problems="$problems stock-events"
	[ "$(db "$D" "select count(*) - count(distinct target || file_name) from deliveries")" = 0 ] ||
		problems="$problems duplicate-deliveries"
	t_san_clean "$TMP/r.err" || problems="$problems sanitizer"
	if [ -z "$problems" ]; then
		pass "$what: retry succeeds, deliveries byte-identical"
	else
		fail "$what: retry:$problems"
		tail -n 5 "$TMP/r.err" | sed 's/^/    /'
	fi
}

NOSPC='no space left|disk is full'
EIO='input/output error|disk I/O error'
fault write:1:ENOSPC:/inbox/        "fetch: write ENOSPC"        "$NOSPC"
fault fsync:1:EIO:/inbox/           "fetch: fsync EIO"           "$EIO"
fault write:1:ENOSPC:/canonical/    "map: write ENOSPC"          "$NOSPC"
fault fsync:1:EIO:/canonical/       "map: fsync EIO"             "$EIO"
fault rename:1:EIO:/canonical/      "map: rename EIO"            "$EIO"
fault close:1:EIO:/rejects/         "map: close EIO (rejects)"   "$EIO"
fault write:1:ENOSPC:/outbox/       "render: write ENOSPC"       "$NOSPC"
fault rename:2:EIO:/outbox/         "render: rename EIO"         "$EIO"
fault link:1:ENOSPC:/out/           "deliver: link ENOSPC"       "$NOSPC"
# another file system (EXDEV): the delivery copies, and the copy's
# write fails
fault link:1+:EXDEV:/out/,write:1:ENOSPC:/out/ "deliver: copy write ENOSPC" "$NOSPC"
fault fsync:1:EIO:/out/             "deliver: fsync EIO"         "$EIO"
fault rename:1:ENOSPC:/out/         "deliver: rename ENOSPC"     "$NOSPC"
fault close:1:EIO:/out/             "deliver: close EIO"         "$EIO"
fault rename:1:ENOSPC:/reports/     "report: rename ENOSPC"      "$NOSPC"
fault write:30:EIO:state.db-wal     "state store: WAL write EIO" "$EIO"
fault write:60:ENOSPC:state.db-wal  "state store: full while listing" "$NOSPC"
fault fsync:25:EIO:state.db-wal     "state store: commit fsync EIO" "$EIO"
fault write:1+:ENOSPC:/state/       "disk full from the first write on" "$NOSPC"

# Metrics are monitoring: a failed metrics write warns, the run succeeds,
# and the next run writes them.
D=$TMP/m
setup "$D"
INJECT_IO=rename:1:ENOSPC:/metrics/ INJECT_IO_LOG=$TMP/m.log LD_PRELOAD=$SHIM \
	sp "$D" run >/dev/null 2>"$TMP/m.err"
rc=$?
if [ $rc = 1 ] && grep -q 'metrics not written' "$TMP/m.err" && [ ! -f "$D/state/metrics/stockpipe.prom" ] &&
	[ -s "$TMP/m.log" ]; then
	pass "metrics: a failed write warns and the run still succeeds"
else
	fail "metrics fault: exit $rc"; tail -n 3 "$TMP/m.err"
fi
sp "$D" -q run >/dev/null 2>&1
[ -s "$D/state/metrics/stockpipe.prom" ] && pass "metrics: written by the next run" || fail "metrics not written by the next run"

t_done

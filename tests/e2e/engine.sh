#!/bin/bash
# End-to-end tests of the engine's error paths (pipeline/engine.c) on the
# bundled samples, with a real SQLite store that refuses one kind of
# write (a trigger on run_deps, the table of the files each run's
# mappings came from):
#   - the map stage records its mapping's files before it maps with it:
#     a refused record fails the map unit with the store's own message
#     (it used to be dropped, and the document mapped with dependencies
#     the run does not name);
#   - the render stage records its outbound mapping the same way: the
#     render unit fails with that message, not with whatever a later
#     step said;
#   - the failures are transient: retried in the run, then parked; once
#     the store takes the records again the next run retries them and
#     delivers every target.
# usage: tests/e2e/engine.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
export STOCKPIPE_NOW=2026-11-20T06:00:00Z STOCKPIPE_RETRY_BACKOFF=0
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG STOCKPIPE_STATE_DIR

if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "the sqlite3 command is not installed"
	t_done
	exit
fi
D=$(t_tmpdir deps)
mkdir -p "$D/out/webshop" "$D/out/marketplace"
cp -R "$SRCDIR/samples" "$D/samples"
cp -R "$SRCDIR/mappings" "$D/mappings"
sp() {
	STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" \
		"$BIN" -c "$D/samples/stockpipe.yaml" "$@"
}

check "db migrate creates the store" sp db migrate
sqlite3 "$D/state/state.db" "CREATE TRIGGER no_deps BEFORE INSERT ON
	run_deps BEGIN SELECT RAISE(ABORT, 'deps refused by the test'); END;" ||
	fail "cannot add the trigger"

# Fetch and unpack advance; every map and render is parked (exit 1).
expect_exit_d 1 "a run whose dependency records fail parks those units" \
	sp run
if grep -q "PARKED map .*insert into run_deps: deps refused by the test" \
	"$T_ERR"; then
	pass "a map unit fails with the store's message"
else
	fail "no map unit failed with the store's message"
	t_show
fi
if grep -q "PARKED render webshop 'snapshot' (transient): .*deps refused" \
	"$T_ERR"; then
	pass "the render unit fails with the store's message"
else
	fail "the render unit does not name the refused record"
	t_show
fi
n=$(find "$D/out" -type f | wc -l)
[ "$n" = 0 ] && pass "nothing delivered" ||
	fail "$n files delivered although no render could record its mapping"

sqlite3 "$D/state/state.db" "DROP TRIGGER no_deps;" ||
	fail "cannot drop the trigger"
check "the next run retries the parked units and concludes" sp run
grep -q "run 1: retrying its parked units" "$T_ERR" &&
	pass "run 1's parked map units are retried in place" ||
	{ fail "run 1's parked units are not retried"; t_show; }
n=$(find "$D/out" -type f | wc -l)
[ "$n" = 3 ] && pass "three target files delivered" ||
	fail "expected 3 delivered files, got $n"
deps=$(sqlite3 "$D/state/state.db" "SELECT count(DISTINCT path) FROM run_deps")
[ "${deps:-0}" -gt 0 ] && pass "the run's dependencies are recorded ($deps)" ||
	fail "no dependency recorded"

t_done

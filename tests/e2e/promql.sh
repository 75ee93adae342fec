#!/bin/bash
# The metrics files of real runs against Prometheus's own tool, promtool
# (Debian's prometheus package; ops/install-deps.sh test installs only the
# binary): `promtool check metrics` on every file the runs below write,
# `promtool check rules ops/prometheus/alerts.yml`, and `promtool test
# rules` twice: tests/prometheus/alerts_test.yml as it is, then with its
# input series replaced by the files written at each step (run, quarantine,
# run again, config error, fix, release), so the binary's real output must
# keep the quarantine alert on until the release, raise the config-error
# alert for the exit 78, and the stale and absent alerts once the file is
# no longer written. Then the old rule (the last run's quarantine count)
# must fail that test: the test tells the two apart.
# usage: tests/e2e/promql.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR
TMP=$T_TMP
unset STOCKPIPE_NOW STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG \
	STOCKPIPE_METRICS_PATH
PROMTOOL=$(command -v promtool 2>/dev/null)
if [ -z "$PROMTOOL" ]; then
	skip "promtool missing (sh ops/install-deps.sh test takes it from Debian's prometheus package)"
	t_done; exit 0
fi
if ! command -v python3 >/dev/null || ! python3 -c 'import yaml' 2>/dev/null; then
	skip "python3 with PyYAML missing: the rule test input cannot be built"
	t_done; exit 0
fi

A=$TMP/a
mkdir -p "$A/out/webshop" "$A/out/marketplace" "$A/metrics"
cp -R "$SRC/samples" "$A/samples"
cp -R "$SRC/mappings" "$A/mappings"
export STOCKPIPE_STATE_DIR=$A/state STOCKPIPE_OUT=$A/out
CFG=$A/samples/stockpipe.yaml
# The two keys of this slice: a metrics file outside the state folder (the
# collector's folder) and the pipeline label.
printf 'pipeline: shop_eu\nmetrics_path: ../metrics/shop_eu.prom\n' >>"$CFG"
cp "$CFG" "$A/good.yaml"
PROM=$A/metrics/shop_eu.prom
STEPS=$TMP/steps
mkdir -p "$STEPS"

# step N: keeps the file the last command wrote as step N, checks it with
# promtool check metrics.
step() {
	if [ ! -f "$PROM" ]; then
		fail "step $1: no $PROM"
		return
	fi
	cp "$PROM" "$STEPS/$1.prom"
	if "$PROMTOOL" check metrics <"$PROM" >"$TMP/check.out" 2>&1; then
		pass "step $1 ($2): promtool check metrics clean ($(grep -vc '^#' "$PROM") samples)"
	else
		fail "step $1 ($2): promtool check metrics: $(head -n 3 "$TMP/check.out" | tr '\n' ' ')"
	fi
}
val() { grep -F "$1" "$2" | grep -v '^#' | awk '{ print $NF }'; }

"$BIN" -c "$CFG" -q run >/dev/null 2>&1
rc=$?
[ $rc = 1 ] && [ "$(val 'stockpipe_last_run_exit_code{pipeline="shop_eu"}' "$PROM")" = 1 ] &&
	pass "run 1 writes metrics_path with the pipeline label, exit 1" ||
	fail "run 1 (exit $rc): $(head -c 300 "$PROM" 2>/dev/null)"
[ ! -e "$A/state/metrics/stockpipe.prom" ] &&
	pass "metrics_path replaces STATE_DIR/metrics/stockpipe.prom" || fail "the default file was written too"
step 0 "demo run"

# A store file that is mostly wrong: quarantined whole.
{
	printf 'store,sku,qty,status,counted_at\n'
	for i in 1 2 3 4 5 6; do printf 'F012,KW-1000%s,lots,OK,2026-11-21 06:00\n' $i; done
} >"$A/samples/drop/stores/stock_F012_20261121.csv"
"$BIN" -c "$CFG" -q run >/dev/null 2>&1
step 1 "quarantine"
q1=$(val 'stockpipe_quarantined_documents{pipeline="shop_eu",source="stores"}' "$STEPS/1.prom")
[ "$q1" = 1 ] && pass "the quarantined document is in the current-state gauge" || fail "quarantined gauge '$q1'"

"$BIN" -c "$CFG" -q run >/dev/null 2>&1
step 2 "nothing new"
[ "$(val 'stockpipe_quarantined_documents{pipeline="shop_eu",source="stores"}' "$STEPS/2.prom")" = 1 ] &&
	[ "$(val 'stockpipe_run_quarantined_documents{pipeline="shop_eu",source="stores"}' "$STEPS/2.prom")" = 0 ] &&
	pass "next run: still 1 in quarantine (the last-run count says 0)" ||
	fail "step 2: $(grep quarantined "$STEPS/2.prom" | grep stores | tr '\n' ' ')"

# A config error: exit 78 in the file, nothing read from the store.
printf 'bogus_key: 1\n' >>"$CFG"
"$BIN" -c "$CFG" -q run >/dev/null 2>&1
rc=$?
step 3 "config error"
[ $rc = 78 ] && [ "$(val 'stockpipe_last_run_exit_code{pipeline="shop_eu"}' "$STEPS/3.prom")" = 78 ] &&
	[ "$(val 'stockpipe_state_readable{pipeline="shop_eu"}' "$STEPS/3.prom")" = 0 ] &&
	! grep -q '^stockpipe_quarantined_documents' "$STEPS/3.prom" &&
	pass "config error: exit 78 in the file, state_readable 0, no state series" ||
	fail "config error (exit $rc): $(grep -v '^#' "$STEPS/3.prom" | tr '\n' ' ')"

cp "$A/good.yaml" "$CFG"
"$BIN" -c "$CFG" -q run >/dev/null 2>&1
step 4 "config fixed"

id=$(sqlite3 "$A/state/state.db" "select id from units where stage = 'map' and state = 5" 2>/dev/null | head -n 1)
[ -n "$id" ] || id=$("$BIN" -c "$CFG" quarantine list 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1; exit }')
"$BIN" -c "$CFG" -q quarantine release "$id" --accept --note "test" >/dev/null 2>&1 ||
	fail "quarantine release $id"
"$BIN" -c "$CFG" -q run >/dev/null 2>&1
step 5 "released"
[ "$(val 'stockpipe_quarantined_documents{pipeline="shop_eu",source="stores"}' "$STEPS/5.prom")" = 0 ] &&
	pass "after the release and a run: 0 in quarantine" ||
	fail "after release: $(grep quarantined_documents "$STEPS/5.prom" | grep stores | tr '\n' ' ')"

# Rules: valid, and every metric they name is in a real file.
if "$PROMTOOL" check rules "$SRC/ops/prometheus/alerts.yml" >"$TMP/rules.out" 2>&1; then
	pass "promtool check rules: $(grep -o 'SUCCESS.*' "$TMP/rules.out")"
else
	fail "promtool check rules: $(tr '\n' ' ' <"$TMP/rules.out")"
fi
python3 - "$SRC/ops/prometheus/alerts.yml" "$STEPS"/*.prom <<'PY' && pass "every metric the rules use is in a real file" || fail "alerts.yml names metrics no run wrote"
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))["groups"][0]["rules"]
have = set()
for f in sys.argv[2:]:
    have |= {l.split("{")[0] for l in open(f) if not l.startswith("#")}
used = set()
for r in rules:
    used |= set(re.findall(r"stockpipe_[a-z_]+", r["expr"]))
missing = used - have
assert not missing, missing
PY

# The rule test as written, then fed with the real files.
if (cd "$SRC/tests/prometheus" && "$PROMTOOL" test rules alerts_test.yml) >"$TMP/t0.out" 2>&1; then
	pass "promtool test rules tests/prometheus/alerts_test.yml: SUCCESS"
else
	fail "promtool test rules (as written): $(tr '\n' ' ' <"$TMP/t0.out" | head -c 600)"
fi
cat >"$TMP/gen.py" <<'PY'
# gen.py TEST RULES OUT STEP.prom...: TEST with its input series made of
# the step files (15 one-minute samples per step; steps 6-9 repeat the
# last file, which nobody rewrites; then the file is gone). A series a
# step lacks is '_' there. Unix times become times on the test's clock:
# the write time of step i is i*900 s, and any other *_timestamp_seconds
# keeps its distance to the newest write not after it (the real runs are
# seconds apart; 0 = never stays 0).
import sys, yaml
test, rules, out, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
steps = []
for f in files:
    s = {}
    for line in open(f):
        if line.startswith("#"):
            continue
        k, v = line.rstrip("\n").rsplit(" ", 1)
        s[k] = float(v)
    steps.append(s)
steps += [steps[-1]] * 4
names = []
for s in steps:
    names += [k for k in s if k not in names]
def wtime(s):
    return next(v for k, v in s.items() if k.startswith("stockpipe_last_run_timestamp_seconds{"))
writes = [wtime(s) for s in steps[:len(files)]]
def test_time(v):
    j = max([i for i, w in enumerate(writes) if w <= v], default=0)
    return j * 900 + (v - writes[j])
series = []
for k in names:
    vals = []
    for i, s in enumerate(steps):
        if k not in s:
            vals.append("_x14")
            continue
        v = s[k]
        if k.split("{")[0].endswith("_timestamp_seconds") and v != 0:
            v = test_time(v)
        vals.append("%sx14" % repr(v).replace(".0", "") if v == int(v) else "%rx14" % v)
    series.append({"series": k, "values": " ".join(vals)})
doc = yaml.safe_load(open(test))
doc["rule_files"] = [rules]
doc["tests"][0]["input_series"] = series
yaml.safe_dump(doc, open(out, "w"), sort_keys=False)
print(len(series))
PY
n=$(python3 "$TMP/gen.py" "$SRC/tests/prometheus/alerts_test.yml" "$SRC/ops/prometheus/alerts.yml" \
	"$TMP/real_test.yml" "$STEPS"/0.prom "$STEPS"/1.prom "$STEPS"/2.prom "$STEPS"/3.prom \
	"$STEPS"/4.prom "$STEPS"/5.prom 2>"$TMP/gen.err")
if [ -n "$n" ] && "$PROMTOOL" test rules "$TMP/real_test.yml" >"$TMP/t1.out" 2>&1; then
	pass "promtool test rules on the real files ($n series, 6 runs): quarantine on until the release, exit 78, stale, absent"
else
	fail "promtool test rules on the real files: $(cat "$TMP/gen.err") $(tr '\n' ' ' <"$TMP/t1.out" | head -c 900)"
fi

# The old rule, the last run's count, fails the same test: it cleared at
# the next run although nothing was released.
sed 's/sum by (pipeline, source) (last_over_time(stockpipe_quarantined_documents\[1d\])) > 0/sum by (pipeline, source) (stockpipe_run_quarantined_documents) > 0/' \
	"$SRC/ops/prometheus/alerts.yml" >"$TMP/old_rules.yml"
python3 "$TMP/gen.py" "$SRC/tests/prometheus/alerts_test.yml" "$TMP/old_rules.yml" \
	"$TMP/old_test.yml" "$STEPS"/[0-5].prom >/dev/null 2>&1
if ! grep -q 'last_over_time(stockpipe_quarantined' "$TMP/old_rules.yml" &&
	! "$PROMTOOL" test rules "$TMP/old_test.yml" >"$TMP/t2.out" 2>&1 &&
	grep -q 'alertname: StockpipeQuarantine, time: 30m' "$TMP/t2.out"; then
	pass "the old last-run rule fails the test at 30m (cleared without a release)"
else
	fail "the old rule was not caught: $(tr '\n' ' ' <"$TMP/t2.out" | head -c 400)"
fi
# And a plain current-state gauge without last_over_time loses the alert
# while the config is broken.
sed 's/last_over_time(stockpipe_quarantined_documents\[1d\])/stockpipe_quarantined_documents/' \
	"$SRC/ops/prometheus/alerts.yml" >"$TMP/plain_rules.yml"
python3 "$TMP/gen.py" "$SRC/tests/prometheus/alerts_test.yml" "$TMP/plain_rules.yml" \
	"$TMP/plain_test.yml" "$STEPS"/[0-5].prom >/dev/null 2>&1
if ! "$PROMTOOL" test rules "$TMP/plain_test.yml" >"$TMP/t3.out" 2>&1 &&
	grep -q 'alertname: StockpipeQuarantine, time: 50m' "$TMP/t3.out"; then
	pass "without last_over_time the alert drops during the config error (50m): the rule needs it"
else
	fail "the plain-gauge rule was not caught: $(tr '\n' ' ' <"$TMP/t3.out" | head -c 400)"
fi

t_done

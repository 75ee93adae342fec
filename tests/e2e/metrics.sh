#!/bin/bash
# The Prometheus metrics file (STATE_DIR/metrics/stockpipe.prom) of the
# demo run, read with a strict parser of the text exposition format:
# HELP/TYPE before the samples of a metric, valid names and label sets,
# float values, no duplicate series, a final newline. Then its values
# against the run report (records, rejects, deliveries, stage durations,
# delivery latency, last success), after a second run with nothing new,
# and after a failed run (the last success time stays). Then the exits
# that used to leave no trace: a usage error (64) and a config error (78,
# also when the YAML does not parse, and through STOCKPIPE_METRICS_PATH),
# while commands for people (show, runs, --help) leave the file alone;
# two pipelines writing into one collector folder (metrics_path:,
# pipeline:). Every series carries the pipeline label; every metric the
# alert rules (ops/prometheus/alerts.yml) use must exist.
# promtool's own checks: tests/e2e/promql.sh.
# usage: tests/e2e/metrics.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
SRC=$SRCDIR

TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG
if ! command -v python3 >/dev/null; then
	skip "python3 missing"; t_done; exit 0
fi

A=$TMP/a
mkdir -p "$A/out/webshop" "$A/out/marketplace"
cp -R "$SRC/samples" "$A/samples"
cp -R "$SRC/mappings" "$A/mappings"
export STOCKPIPE_STATE_DIR=$A/state STOCKPIPE_OUT=$A/out
PROM=$A/state/metrics/stockpipe.prom

# parse FILE: strict parse; prints "name{labels} value" lines, sorted.
cat >"$TMP/parse.py" <<'PY'
import re, sys
name_re = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
sample_re = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"')
text = open(sys.argv[1], encoding="utf-8").read()
PIPELINE = sys.argv[2] if len(sys.argv) > 2 else "stockpipe"
assert text.endswith("\n"), "no final newline"
typed, helped, seen, out = {}, set(), set(), []
for n, line in enumerate(text.split("\n")[:-1], 1):
    where = "line %d: %r" % (n, line)
    if line.startswith("# HELP "):
        name = line.split(" ", 3)[2]
        assert name_re.match(name) and name not in helped, where
        assert len(line.split(" ", 3)) == 4 and line.split(" ", 3)[3], where
        helped.add(name)
    elif line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        assert name_re.match(name) and name not in typed, where
        assert kind in ("gauge", "counter", "untyped"), where
        assert name in helped, "TYPE before HELP: " + where
        typed[name] = kind
    else:
        m = sample_re.match(line)
        assert m, where
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        assert name in typed, "sample before its TYPE: " + where
        pairs = []
        rest = labels
        while rest:
            lm = label_re.match(rest)
            assert lm, where
            pairs.append((lm.group(1), lm.group(2)))
            rest = rest[lm.end():]
            if rest:
                assert rest.startswith(","), where
                rest = rest[1:]
        assert len({k for k, _ in pairs}) == len(pairs), "duplicate label: " + where
        # every series names its pipeline (the config file's base name
        # here); the values below are compared without it
        assert ("pipeline", PIPELINE) in pairs, "no pipeline label: " + where
        pairs.remove(("pipeline", PIPELINE))
        float(value)
        key = (name, tuple(sorted(pairs)))
        assert key not in seen, "duplicate series: " + where
        seen.add(key)
        out.append("%s{%s} %s" % (name, ",".join('%s="%s"' % p for p in sorted(pairs)), value))
assert helped == set(typed), "HELP without TYPE"
print("\n".join(sorted(out)))
PY
val() { grep -F "$1 " "$TMP/m.txt" | awk '{ print $NF }'; }

"$BIN" -c "$A/samples/stockpipe.yaml" -q run >/dev/null 2>&1
[ -f "$PROM" ] && pass "the demo run writes $PROM" || fail "no metrics file"
if python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>"$TMP/p.err"; then
	pass "strict parse: $(wc -l <"$TMP/m.txt") samples, HELP/TYPE, labels, values, no duplicates"
else
	fail "metrics file does not parse: $(tail -n 1 "$TMP/p.err")"
fi
# The parser itself must reject broken input.
printf '# HELP x y\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n' >"$TMP/dup.prom"
printf 'x 1\n' >"$TMP/notype.prom"
printf '# HELP x y\n# TYPE x gauge\nx{a=1} 1\n' >"$TMP/badlabel.prom"
nbad=0
for f in dup notype badlabel; do
	python3 "$TMP/parse.py" "$TMP/$f.prom" >/dev/null 2>&1 && nbad=$((nbad + 1))
done
[ $nbad = 0 ] && pass "the parser refuses duplicates, untyped samples and bad labels" || fail "parser accepted $nbad broken files"

"$BIN" -c "$A/samples/stockpipe.yaml" show 1 --json >"$TMP/r1.json" 2>/dev/null
python3 - "$TMP/r1.json" "$TMP/m.txt" <<'PY' && pass "metrics agree with the run report (records, rejects, dupes, stages)" || fail "metrics disagree with the report"
import json, re, sys
rep = json.load(open(sys.argv[1]))
m = {}
for line in open(sys.argv[2]):
    k, v = line.rsplit(" ", 1)
    m[k] = float(v)
def tot(name):
    return sum(v for k, v in m.items() if k.startswith(name + "{"))
st = rep["stages"]
assert m["stockpipe_last_run_id{}"] == rep["run_id"] == 1
assert m["stockpipe_last_run_exit_code{}"] == rep["exit_code"] == 1
assert m["stockpipe_last_run_success{}"] == 1
assert tot("stockpipe_run_records_in") == st["map"]["records_in"]
assert tot("stockpipe_run_records_out") == st["map"]["records_out"]
assert tot("stockpipe_run_records_loaded") == st["load"]["records_out"]
assert tot("stockpipe_run_rejects") == rep["rejects"] == 10
assert tot("stockpipe_run_duplicates_skipped") == rep["duplicates_skipped"]
assert m['stockpipe_run_rejects{source="stores"}'] == 4
assert m['stockpipe_run_files_fetched{source="stores"}'] == 2
for s in ("fetch", "unpack", "map", "load", "render", "deliver"):
    assert abs(m['stockpipe_stage_duration_seconds{stage="%s"}' % s] - st[s]["duration_ms"] / 1000) < 0.0011, s
for t in ("webshop", "marketplace", "webshop_items"):
    assert m['stockpipe_run_deliveries{target="%s"}' % t] == 1, t
    assert 0 <= m['stockpipe_delivery_latency_seconds{target="%s"}' % t] < 86400, t
assert m["stockpipe_negative_positions{}"] == 0
assert m["stockpipe_last_success_timestamp_seconds{}"] > 1.7e9
PY
# The oldest stock event of run 1 and the pinned delivery clock.
oldest=$(sqlite3 "$A/state/state.db" "select min(as_of) from stock_events where applied = 1" 2>/dev/null)
now=$(date -u -d 2026-11-20T06:00:00Z +%s)
[ -n "$oldest" ] && [ "$(val 'stockpipe_delivery_latency_seconds{target="webshop"}')" = $((now - oldest)) ] &&
	pass "delivery latency = delivery time - oldest event loaded ($((now - oldest)) s)" ||
	fail "latency $(val 'stockpipe_delivery_latency_seconds{target="webshop"}'), expected $((now - ${oldest:-0}))"
success1=$(val 'stockpipe_last_success_timestamp_seconds{}')
cp "$TMP/m.txt" "$TMP/m1.txt"

# Nothing new: no deliveries, no latency series.
"$BIN" -c "$A/samples/stockpipe.yaml" -q run >/dev/null 2>&1
python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>/dev/null || fail "second metrics file does not parse"
[ "$(val 'stockpipe_last_run_id{}')" = 2 ] && [ "$(val 'stockpipe_run_deliveries{target="webshop"}')" = 0 ] &&
	! grep -q '^stockpipe_delivery_latency_seconds' "$TMP/m.txt" && [ "$(val 'stockpipe_run_records_in{source="stores"}')" = 0 ] &&
	pass "second run: run 2, nothing delivered, no latency series" || fail "second run metrics"

# A run with a parked unit (the webshop folder is gone): it concludes done
# (exit 1) and the parked gauge says what waits, by class.
sleep 1
mv "$A/out/webshop" "$A/out/webshop.away"
cp "$A/samples/drop/stores/stock_F012_20261120.csv" "$A/samples/drop/stores/stock_F012_20261121.csv"
printf 'F012,KW-10001,99,OK,2026-11-21 06:00\n' >>"$A/samples/drop/stores/stock_F012_20261121.csv"
"$BIN" -c "$A/samples/stockpipe.yaml" -q run >/dev/null 2>&1
rc=$?
python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>/dev/null || fail "parked-run metrics file does not parse"
[ $rc = 1 ] && [ "$(val 'stockpipe_last_run_exit_code{}')" = 1 ] &&
	[ "$(val 'stockpipe_parked_units{class="config"}')" -ge 1 ] &&
	[ "$(val 'stockpipe_parked_units{class="transient"}')" = 0 ] &&
	[ "$(val 'stockpipe_run_failed_units{}')" -ge 1 ] &&
	pass "run with a parked target: exit 1, parked units by class, failed units counted" ||
	fail "parked-run metrics (exit $rc): $(grep -E 'parked|exit_code|failed_units' "$TMP/m.txt" | tr '\n' ' ')"
success1=$(val 'stockpipe_last_success_timestamp_seconds{}')

# A failed run (every source folder is gone, nothing could advance: exit
# 78): success 0, the last success time unchanged.
mv "$A/out/webshop.away" "$A/out/webshop"
"$BIN" -c "$A/samples/stockpipe.yaml" -q run >/dev/null 2>&1
rc=$?
python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>/dev/null || fail "metrics file after the fix does not parse"
[ $rc = 0 ] && [ "$(val 'stockpipe_parked_units{class="config"}')" = 0 ] &&
	pass "the folder is back: the next run delivers (exit 0), nothing parked" ||
	fail "after the fix (exit $rc): $(grep -E 'parked' "$TMP/m.txt" | tr '\n' ' ')"
success1=$(val 'stockpipe_last_success_timestamp_seconds{}')
sleep 1
mv "$A/samples/drop" "$A/samples/drop.away"
"$BIN" -c "$A/samples/stockpipe.yaml" -q run >/dev/null 2>&1
rc=$?
python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>/dev/null || fail "failed-run metrics file does not parse"
[ $rc = 78 ] && [ "$(val 'stockpipe_last_run_success{}')" = 0 ] && [ "$(val 'stockpipe_last_run_exit_code{}')" = 78 ] &&
	[ "$(val 'stockpipe_last_success_timestamp_seconds{}')" -ge "$success1" ] &&
	[ "$(val 'stockpipe_run_failed_units{}')" -ge 1 ] &&
	pass "failed run: success 0, exit 78, failed units counted, last success kept" ||
	fail "failed run metrics (exit $rc): $(grep -E 'success|exit_code|failed_units' "$TMP/m.txt" | tr '\n' ' ')"
last_ok=$(val 'stockpipe_last_success_timestamp_seconds{}')
[ "$last_ok" -lt "$(val 'stockpipe_last_run_timestamp_seconds{}')" ] &&
	pass "last success is older than the failed run" || fail "last success $last_ok not older than the failed run"

# Every exit writes its code, and only the pipeline commands write.
cp "$PROM" "$TMP/before.prom"
"$BIN" -c "$A/samples/stockpipe.yaml" show 1 >/dev/null 2>&1
"$BIN" -c "$A/samples/stockpipe.yaml" runs >/dev/null 2>&1
"$BIN" -c "$A/samples/stockpipe.yaml" run --help >/dev/null 2>&1
cmp -s "$PROM" "$TMP/before.prom" && pass "show, runs and run --help leave the file alone" ||
	fail "a command for people rewrote the metrics file"
"$BIN" -c "$A/samples/stockpipe.yaml" run --no-such-option >/dev/null 2>&1
rc=$?
python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>/dev/null || fail "usage-error metrics file does not parse"
[ $rc = 64 ] && [ "$(val 'stockpipe_last_run_exit_code{}')" = 64 ] &&
	[ "$(val 'stockpipe_state_readable{}')" = 1 ] && grep -q '^stockpipe_parked_units{class="config"}' "$TMP/m.txt" &&
	pass "usage error: exit 64 in the file, the current state still read" ||
	fail "usage error (exit $rc): $(grep -E 'exit_code|readable' "$TMP/m.txt" | tr '\n' ' ')"
cp "$A/samples/stockpipe.yaml" "$TMP/good.yaml"
printf 'no_such_key: 1\n' >>"$A/samples/stockpipe.yaml"
"$BIN" -c "$A/samples/stockpipe.yaml" run >/dev/null 2>"$TMP/cfg.err"
rc=$?
python3 "$TMP/parse.py" "$PROM" >"$TMP/m.txt" 2>/dev/null || fail "config-error metrics file does not parse"
[ $rc = 78 ] && [ "$(val 'stockpipe_last_run_exit_code{}')" = 78 ] && [ "$(val 'stockpipe_state_readable{}')" = 0 ] &&
	[ "$(wc -l <"$TMP/m.txt")" = 4 ] && [ "$(wc -l <"$TMP/cfg.err")" = 1 ] &&
	pass "config error: exit 78 in the file (not the last run's 1), build info, time; one error line on stderr" ||
	fail "config error (exit $rc): $(tr '\n' ' ' <"$TMP/m.txt") / $(cat "$TMP/cfg.err")"
grep -q "^stockpipe_build_info{.*version=\"$("$BIN" --version | awk '{ print $2 }')\"" "$PROM" &&
	pass "build info names the binary's version" || fail "build info: $(grep build_info "$PROM")"
cp "$TMP/good.yaml" "$A/samples/stockpipe.yaml"
# A YAML that does not even parse: the default file next to the config
# when its folder exists, nothing created when it does not.
printf 'sources: [\n' >"$TMP/broken.yaml"
STOCKPIPE_STATE_DIR= "$BIN" -c "$TMP/broken.yaml" run >/dev/null 2>&1
rc=$?
[ $rc = 78 ] && [ ! -e "$TMP/stockpipe-state" ] && pass "unreadable YAML, no state folder: nothing created" ||
	fail "unreadable YAML (exit $rc) created $(ls "$TMP")"
mkdir -p "$TMP/stockpipe-state/metrics"
STOCKPIPE_STATE_DIR= "$BIN" -c "$TMP/broken.yaml" run >/dev/null 2>&1
grep -qx 'stockpipe_last_run_exit_code{pipeline="broken"} 78' "$TMP/stockpipe-state/metrics/stockpipe.prom" 2>/dev/null &&
	pass "unreadable YAML: exit 78 in the default file, pipeline label from the file name" ||
	fail "unreadable YAML: $(cat "$TMP/stockpipe-state/metrics/stockpipe.prom" 2>&1 | tr '\n' ' ')"
STOCKPIPE_METRICS_PATH=$TMP/env.prom STOCKPIPE_STATE_DIR= "$BIN" -c "$TMP/broken.yaml" run >/dev/null 2>&1
grep -qx 'stockpipe_last_run_exit_code{pipeline="broken"} 78' "$TMP/env.prom" 2>/dev/null &&
	pass "STOCKPIPE_METRICS_PATH names the file even when the config is unreadable" ||
	fail "STOCKPIPE_METRICS_PATH: $(cat "$TMP/env.prom" 2>&1 | tr '\n' ' ')"

# Two pipelines on one host, one collector folder: one file each, and the
# pipeline label tells their series apart.
B=$TMP/b
mkdir -p "$B/out/webshop" "$B/out/marketplace" "$TMP/textfile"
cp -R "$SRC/samples" "$B/samples"
cp -R "$SRC/mappings" "$B/mappings"
for p in eu us; do
	sed "s|^state_dir:.*|state_dir: ../state-$p|" "$B/samples/stockpipe.yaml" >"$B/samples/$p.yaml"
	printf 'metrics_path: %s/textfile/stockpipe-%s.prom\n' "$TMP" $p >>"$B/samples/$p.yaml"
done
printf 'pipeline: us_east\n' >>"$B/samples/us.yaml"
STOCKPIPE_OUT=$B/out STOCKPIPE_STATE_DIR= "$BIN" -c "$B/samples/eu.yaml" -q run >/dev/null 2>&1
STOCKPIPE_OUT=$B/out STOCKPIPE_STATE_DIR= "$BIN" -c "$B/samples/us.yaml" -q run >/dev/null 2>&1
if python3 "$TMP/parse.py" "$TMP/textfile/stockpipe-eu.prom" eu >"$TMP/eu.txt" 2>&1 &&
	python3 "$TMP/parse.py" "$TMP/textfile/stockpipe-us.prom" us_east >"$TMP/us.txt" 2>&1 &&
	[ "$(wc -l <"$TMP/eu.txt")" -gt 50 ] && [ "$(wc -l <"$TMP/us.txt")" -gt 50 ]; then
	pass "two pipelines, one folder: stockpipe-eu.prom (pipeline=\"eu\", from the file name) and stockpipe-us.prom (pipeline: us_east)"
else
	fail "two pipelines: $(cat "$TMP/eu.txt" "$TMP/us.txt" | tail -n 2)"
fi

# Every metric the alert rules use exists.
if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$SRC/ops/prometheus/alerts.yml" "$TMP/m1.txt" <<'PY' && pass "every metric in ops/prometheus/alerts.yml exists" || fail "alerts.yml names unknown metrics"
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))["groups"][0]["rules"]
have = {l.split("{")[0] for l in open(sys.argv[2])}
used = set()
for r in rules:
    assert r["alert"] and r["expr"], r
    used |= set(re.findall(r"stockpipe_[a-z_]+", r["expr"]))
missing = used - have
assert not missing, missing
assert len(used) >= 6, used
PY
else
	skip "PyYAML missing: alert rules not checked"
fi

t_done

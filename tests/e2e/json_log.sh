#!/bin/bash
# JSON log lines carry structured fields (lib/log.h), on real runs of the
# binary on the bundled samples:
#   - a reject line names the stage, source, unit, file, line, column,
#     class "data" and a code;
#   - a failed unit (a target folder that is a file) names the unit and
#     its class and code;
#   - a configuration error names the config file, its line and column,
#     class "config";
#   - lines outside any unit carry no stale unit fields;
#   - text mode prints the same lines as before (no fields).
# usage: tests/e2e/json_log.sh BINARY   prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
TMP=$T_TMP
export STOCKPIPE_NOW=2026-11-20T06:00:00Z
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG

J=$TMP/j
demo_copy "$J"
# The marketplace folder is a file: its deliveries fail (a unit failure
# of class config: the operator fixes the folder).
rmdir "$J/out/marketplace" && echo x >"$J/out/marketplace"
demo_sp "$J" --log-format json run
cp "$T_ERR" "$TMP/run.json"
python3 - "$TMP/run.json" <<'PY' && pass "a reject line: stage, source, unit, file, line, col, class data, code" || { fail "reject line fields"; grep -m3 '"warn"' "$TMP/run.json"; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
rej = [o for o in lines if o["level"] == "warn" and o.get("line") and o.get("class") == "data"]
assert rej, "no reject line with a line number"
o = rej[0]
assert o["stage"] == "map" and o["source"] and o["unit"] and o["file"], o
assert isinstance(o["line"], int) and o["line"] > 0 and o.get("code") in ("parse", "map", "validate"), o
assert o["msg"].startswith(o["file"] + ":%d:" % o["line"]), o
PY
python3 - "$TMP/run.json" <<'PY' && pass "a failed delivery: stage deliver or render, source = the target, unit, class and code" || { fail "unit failure fields"; grep '"error"' "$TMP/run.json" | head -3; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
err = [o for o in lines if o["level"] == "error" and o.get("source") == "marketplace"]
assert err, [o for o in lines if o["level"] == "error"]
o = err[0]
assert o["stage"] in ("render", "deliver") and o["unit"] and o["class"] in ("config", "transient") and o["code"], o
PY
python3 - "$TMP/run.json" <<'PY' && pass "lines outside a unit (the summary, the report event) carry no unit fields" || fail "stale unit fields on summary lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
rep = [o for o in lines if o.get("event") == "report"]
assert len(rep) == 1 and "unit" not in rep[0] and "source" not in rep[0], rep
# the last lines are the summary: printed after every unit is done
assert "unit" not in lines[-1] and "stage" not in lines[-1], lines[-1]
PY

printf 'sources:\n  - name: stores\n    path: /tmp\n    mapping: m.yaml\n    nmae: x\n' >"$J/bad.yaml"
STOCKPIPE_STATE_DIR="$J/state2" "$BIN" -c "$J/bad.yaml" --log-format json check >"$T_OUT" 2>"$T_ERR"
rc=$?
python3 - "$T_ERR" "$J/bad.yaml" <<'PY' && [ $rc = 78 ] && pass "a config error: file, line, col, class config, code config (exit 78)" || { fail "config error fields (exit $rc)"; cat "$T_ERR"; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
o = [o for o in lines if o["level"] == "error" and o.get("file")][0]
assert o["file"].endswith("bad.yaml") and o["line"] == 5 and o["col"] >= 5, o
assert o["class"] == "config" and o["code"] == "config", o
PY

T=$TMP/t
demo_copy "$T"
rmdir "$T/out/marketplace" && echo x >"$T/out/marketplace"
demo_sp "$T" run
grep -q '"class"' "$T_ERR" && fail "text mode printed JSON fields" || pass "text mode: no fields, lines as before"
grep -qE '^    [^ ]+:[0-9]+:[0-9]+: ' "$T_ERR" && pass "text mode: reject lines file:line:col: reason" || { fail "text reject lines"; head "$T_ERR"; }

t_done

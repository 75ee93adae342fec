#!/bin/bash
# End-to-end tests of acknowledgments back (issue 19, item 8): a target's
# `acks_in:` folder where the partner's 997/999/CONTRL files arrive.
# Real runs of the binary on a copy of samples/ with two EDI targets, an
# X12 846 (wms) and an EDIFACT INVRPT (erp), STOCKPIPE_NOW pinned:
#   - run 1 delivers both; a 997 accepting the 846's group and set (GS06 1,
#     ST02 0001) dropped into the acks folder: the next run reads it and
#     `show 1` says accepted, --json too;
#   - a stock change delivers control number 2; a 999 rejecting it with
#     IK3/IK4 -> `show 3` says rejected with the partner's reasons; a
#     CONTRL rejecting the INVRPT with UCM/UCS/UCD likewise;
#   - a 997 for a group nobody sent: a warning, kept, listed by show;
#   - a file that is no acknowledgment: error naming file and line, set
#     aside under quarantine/acks_in, the run goes on and exits 1;
#   - the erp delivery of run 1 never acknowledged: overdue in show once
#     `after` (4h) has passed, and counted in the metrics file;
#   - a rerun reads no acknowledgment twice (file ledger);
#   - promtool test rules tests/prometheus/acks_test.yml when promtool is
#     installed (else skipped with the reason);
#   - the whole story again on a real PostgreSQL (tests/e2e/lib/pg.sh)
#     when one can be started (else skipped with the reason).
# usage: tests/e2e/acks_in.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
unset STOCKPIPE_CRASH_AT STOCKPIPE_CRASH_LOG STOCKPIPE_CONFIG
export STOCKPIPE_NOW=2026-11-20T06:00:00Z

# flow TAG [PG_URL] : the whole story on SQLite, or on PostgreSQL.
flow() {
	D=$(t_tmpdir "acks$1")
	export STOCKPIPE_NOW=2026-11-20T06:00:00Z
	mkdir -p "$D/out/wms" "$D/out/erp" "$D/out/wms_acks" "$D/out/erp_acks"
	cp -R "$SRCDIR/samples" "$D/samples"
	cp -R "$SRCDIR/mappings" "$D/mappings"
	cat >"$D/samples/acks.yaml" <<'EOF'
state_dir: ${STOCKPIPE_STATE_DIR:-../state}
reject_threshold: 25%
sources:
  - name: supplier
    path: drop/supplier
    pattern: "*.csv"
    mapping: ../mappings/supplier/items_csv.yaml
  - name: erp
    path: drop/erp
    patterns: ["locations_*.csv"]
    mapping: ../mappings/erp/locations_csv.yaml
  - name: stores
    path: drop/stores
    pattern: "*.csv"
    mapping: ../mappings/stores/store_stock_csv.yaml
targets:
  - name: wms
    path: ${STOCKPIPE_OUT}/wms
    mapping: ../mappings/targets/wms_stock_x12_846.yaml
    filename: "wms_846_{run_id}.{ext}"
    location_types: [store, dc]
    acks_in: {path: "${STOCKPIPE_OUT}/wms_acks", after: 4h}
  - name: erp
    path: ${STOCKPIPE_OUT}/erp
    mapping: ../mappings/targets/erp_stock_invrpt.yaml
    filename: "erp_invrpt_{run_id}.edi"
    per_location: true
    acks_in: {url: "${STOCKPIPE_OUT}/erp_acks", after: 4h}
EOF
	if [ -n "${2:-}" ]; then
		printf 'state_db: %s\nstate_db_password_env: %s\n' "$2" \
			"$PG_PASSWORD_ENV" >>"$D/samples/acks.yaml"
	fi
	sp() {
		STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" \
			"$BIN" -c "$D/samples/acks.yaml" "$@"
	}
	# run_ok DESC : a run that may exit 0 or 1 (the samples hold bad rows)
	run_ok() {
		t_run sp run
		if { [ "$T_RC" = 0 ] || [ "$T_RC" = 1 ]; } && t_san_clean; then
			pass "$1 (exit $T_RC)"
		else
			fail "$1: exit $T_RC"
			t_show
		fi
	}
	# has DESC PATTERN : the last command's stdout matches (grep -E)
	has() {
		if grep -qE -- "$2" "$T_OUT"; then pass "$1"; else fail "$1: no /$2/"; t_show; fi
	}
	has_err() {
		if grep -qE -- "$2" "$T_ERR"; then pass "$1"; else fail "$1: no /$2/ on stderr"; t_show; fi
	}
	ISA_WMS='ISA*00*          *00*          *ZZ*WMSPARTNER     *ZZ*STOCKPIPE      *261120*0700*U*00401*000000501*0*P*>~'
	ISA_WMS5='ISA*00*          *00*          *ZZ*WMSPARTNER     *ZZ*STOCKPIPE      *261120*1000*^*00501*000000502*0*P*:~'

	expect_exit_d 0 "check accepts acks_in on both targets" sp check
	run_ok "run 1 delivers the 846 and the INVRPT"
	[ -f "$D/out/wms/wms_846_1.x12" ] && [ -f "$D/out/erp/erp_invrpt_1.edi" ] &&
		pass "both EDI files delivered" || { fail "deliveries of run 1"; ls -R "$D/out"; }
	grep -q '^GS\*IB\*STOCKPIPE\*WMSPARTNER\*[0-9]*\*[0-9]*\*1\*X\*004010~$' "$D/out/wms/wms_846_1.x12" &&
		grep -q '^ST\*846\*0001~$' "$D/out/wms/wms_846_1.x12" &&
		pass "846 of run 1: GS06 1, ST02 0001" || fail "846 envelope of run 1"
	check "show 1 before any acknowledgment" sp show 1
	has "show 1: the 846 waits (pending)" "wms +wms_846_1.x12  846 0001  pending"

	# ---- a 997 accepting it -----------------------------------------------------
	printf '%s\nGS*FA*WMSPARTNER*STOCKPIPE*20261120*0700*501*X*004010~\nST*997*0001~\nAK1*IB*1~\nAK2*846*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\nGE*1*501~\nIEA*1*000000501~\n' \
		"$ISA_WMS" >"$D/out/wms_acks/ack_997_1.x12"
	export STOCKPIPE_NOW=2026-11-20T07:00:00Z
	run_ok "run 2 reads the 997"
	has_err "run 2 says it read the 997" "wms: acknowledgment 'ack_997_1.x12' read"
	check "show 1 after the 997" sp show 1
	has "show 1: the 846 accepted by the 997" "wms +wms_846_1.x12  846 0001  accepted \(997 A in 'ack_997_1.x12' line 5\)"
	check "show 1 --json" sp show 1 --json
	if command -v python3 >/dev/null 2>&1; then
		st=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([a["status"] for a in d["acks"] if a["target"]=="wms"][0], d["run_id"] if "run_id" in d else "")' <"$T_OUT" 2>&1)
		case $st in accepted*) pass "show --json: valid JSON, acks[wms].status accepted" ;;
		*) fail "show --json: '$st'"; t_show ;; esac
	else
		grep -q '"acks":\[{"target":"wms".*"status":"accepted"' "$T_OUT" &&
			pass "show --json: acks[wms].status accepted" || { fail "show --json acks"; t_show; }
	fi

	# ---- a rerun reads nothing twice --------------------------------------------
	n1=$(acount "${2:-}")
	run_ok "run 3 (nothing new in the acks folders)"
	n2=$(acount "${2:-}")
	[ "$n1" = "$n2" ] && [ "$n1" -ge 2 ] && ! grep -q "ack_997_1.x12" "$T_ERR" &&
		pass "the 997 is not read twice ($n1 acknowledged units)" || { fail "ack_received $n1 -> $n2"; t_show; }

	# ---- a stock change, a 999 rejecting it, a CONTRL rejecting the INVRPT ---------
	cp "$SRCDIR/samples/updates/stock_F012_20261120_0900.csv" "$D/samples/drop/stores/"
	export STOCKPIPE_NOW=2026-11-20T09:30:00Z
	run_ok "run 4 delivers control number 2"
	[ -f "$D/out/wms/wms_846_4.x12" ] && grep -q '^ST\*846\*0002~$' "$D/out/wms/wms_846_4.x12" &&
		[ -f "$D/out/erp/erp_invrpt_4.edi" ] && pass "run 4: 846 ST02 0002 and INVRPT delivered" ||
		{ fail "run 4 deliveries"; ls -R "$D/out"; }
	erp_ic=$(grep -o "UNB+[^+]*+[^+]*+[^+]*+[^+]*+[0-9]*" "$D/out/erp/erp_invrpt_4.edi" | sed 's/.*+//')
	erp_msg=$(grep -o "UNH+[0-9]*" "$D/out/erp/erp_invrpt_4.edi" | sed 's/.*+//')
	printf '%s\nGS*FA*WMSPARTNER*STOCKPIPE*20261120*1000*502*X*005010X231~\nST*999*0001*005010X231~\nAK1*IB*2*005010~\nAK2*846*0002~\nIK3*QTY*9*LIN*8~\nIK4*2*380*6*-5~\nIK5*R*5~\nAK9*R*1*1*0~\nSE*8*0001~\nGE*1*502~\nIEA*1*000000502~\n' \
		"$ISA_WMS5" >"$D/out/wms_acks/ack_999_2.x12"
	printf "UNA:+.? 'UNB+UNOC:3+4098765000002:14+4012345000009:14+261120:1000+77'UNH+1+CONTRL:D:3:UN'UCI+%s+4012345000009:14+4098765000002:14+4'UCM+%s+INVRPT:D:96A:UN:EAN008+4'UCS+7+13'UCD+12+3:2'UNT+6+1'UNZ+1+77'" \
		"$erp_ic" "$erp_msg" >"$D/out/erp_acks/contrl_77.edi"
	# A 997 for a group nobody sent, and a file that is no acknowledgment.
	printf '%s\nGS*FA*WMSPARTNER*STOCKPIPE*20261120*0700*503*X*004010~\nST*997*0001~\nAK1*IB*99~\nAK9*A*1*1*1~\nSE*4*0001~\nGE*1*503~\nIEA*1*000000503~\n' \
		"$(echo "$ISA_WMS" | sed 's/000000501/000000503/')" >"$D/out/wms_acks/ack_997_stray.x12"
	printf '%s\nGS*FA*WMSPARTNER*STOCKPIPE*20261120*0700*504*X*004010~\nST*997*0001~\nAK1*IB*2~\nAK9*A*1*1*1~\nSE*9*0001~\nGE*1*504~\nIEA*1*000000504~\n' \
		"$(echo "$ISA_WMS" | sed 's/000000501/000000504/')" >"$D/out/wms_acks/ack_997_broken.x12"
	export STOCKPIPE_NOW=2026-11-20T10:30:00Z
	expect_exit_d 1 "run 5 reads the 999, the CONTRL, a stray 997 and a broken one: goes on, exit 1 (a file set aside)" sp run
	has_err "stray 997: a warning that it matches no delivery" "stockpipe: target wms: 'ack_997_stray.x12' line 4: 997 accepted for group 99 matches no delivery; kept"
	has_err "broken 997: an error naming file, line and reason" "stockpipe: target wms: acknowledgment ack_997_broken.x12:6: not a readable acknowledgment: SE: SE01"
	[ -f "$D/state/quarantine/acks_in/wms/5_ack_997_broken.x12" ] &&
		pass "broken 997 set aside under quarantine/acks_in/wms" || { fail "no quarantined copy"; ls -R "$D/state/quarantine"; }
	check "show 4" sp show 4
	has "show 4: the 846 rejected by the 999" "wms +wms_846_4.x12  846 0002  rejected \(999 R in 'ack_999_2.x12' line 5\)"
	has "show 4: the partner's IK3/IK4 reasons" "reasons: IK3 segment QTY at position 9 \(loop LIN\): code 8; IK4 element 2 \(ref 380\): code 6, value '-5'; IK5: code 5"
	has "show 4: the INVRPT rejected by the CONTRL with UCS/UCD" "erp +erp_invrpt_4.edi  INVRPT 2  rejected \(CONTRL 4 in 'contrl_77.edi' line 1\)"
	has "show 4: UCS/UCD reasons" "reasons: UCS at position 7: code 13; UCD element 3:2: code 12"
	check "show 5" sp show 5
	has "show 5: the stray 997 listed" "997 accepted for group 99 matches no delivery: 'ack_997_stray.x12' line 4"
	has "show 5: the broken file listed with its line" "unreadable ack 'ack_997_broken.x12' line 6: .*SE01"

	# ---- overdue ---------------------------------------------------------------
	# erp's INVRPT of run 1 (06:00) was never acknowledged: at 10:30 it is
	# 4h30 old, past after: 4h.
	check "show 1 at 10:30" sp show 1
	has "show 1: the INVRPT of run 1 overdue" "erp +erp_invrpt_1.edi  INVRPT 1  overdue \(no acknowledgment; delivered 2026-11-20T06:00:00Z\)"
	M=$D/state/metrics/stockpipe.prom
	grep -qE '^stockpipe_deliveries_unacknowledged_overdue\{pipeline="[^"]*",target="erp"\} 1$' "$M" &&
		grep -qE '^stockpipe_deliveries_unacknowledged_overdue\{pipeline="[^"]*",target="wms"\} 0$' "$M" &&
		pass "metrics: erp 1 delivery overdue, wms 0" || { fail "overdue metric"; grep acknowledged "$M"; }
	grep -qE '^stockpipe_deliveries_ack_rejected\{pipeline="[^"]*",target="wms"\} 1$' "$M" &&
		grep -qE '^stockpipe_deliveries_ack_rejected\{pipeline="[^"]*",target="erp"\} 1$' "$M" &&
		pass "metrics: one rejected delivery per target" || { fail "rejected metric"; grep ack_rejected "$M"; }

	# ---- again: nothing read twice ----------------------------------------------
	n1=$(acount "${2:-}")
	run_ok "run 6 (acks folders unchanged)"
	n2=$(acount "${2:-}")
	[ "$n1" = "$n2" ] && ! grep -q "acknowledgment '" "$T_ERR" &&
		pass "run 6 reads no acknowledgment again ($n2 rows)" || { fail "ack_received $n1 -> $n2"; t_show; }
}

# acount [PG_URL] : acknowledged units in the store
acount() {
	if [ -n "${1:-}" ]; then
		PGPASSWORD=$SP_TEST_PG_PASSWORD "$PG_BIN/psql" -X -q -At "$1" \
			-c "select count(*) from ack_received"
	else
		db "$D" "select count(*) from ack_received"
	fi
}

flow ""

# ---- configuration ----------------------------------------------------------
sed 's/after: 4h}/after: soon}/' "$D/samples/acks.yaml" >"$D/samples/bad.yaml"
expect_exit_d 78 "acks_in with a bad 'after' is a configuration error" \
	env STOCKPIPE_STATE_DIR="$D/state" STOCKPIPE_OUT="$D/out" "$BIN" -c "$D/samples/bad.yaml" check
grep -q "acks_in after must be a duration" "$T_ERR" && pass "... naming the key" || { fail "bad after message"; t_show; }

# ---- the alert rule ------------------------------------------------------------
if command -v promtool >/dev/null 2>&1; then
	check "promtool test rules tests/prometheus/acks_test.yml" \
		promtool test rules "$SRCDIR/tests/prometheus/acks_test.yml"
else
	skip "promtool not installed (Debian package prometheus): alert rule test not run"
fi
# ---- the same on PostgreSQL ------------------------------------------------
. "$SRCDIR/tests/e2e/lib/pg.sh"
trap 'pg_stop; t_cleanup' EXIT
if pg_start "$T_TMP/pg"; then
	if U=$(pg_newdb sp_acks); then
		T_TAG=pg
		flow pg "$U"
		T_TAG=
	else
		fail "PostgreSQL: cannot create a database"
	fi
else
	skip "PostgreSQL: the server did not start: $PG_WHY"
fi
t_done

#!/bin/sh
# make demo: run the pipeline on the bundled samples in a fresh state
# directory, show the report, and say where everything went.
set -eu
bin=${1:-build/stockpipe}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/stockpipe-demo.XXXXXX")
export STOCKPIPE_STATE_DIR="$work/state"
export STOCKPIPE_OUT="$work/out"
mkdir -p "$STOCKPIPE_OUT/webshop" "$STOCKPIPE_OUT/marketplace"
# The demo must not move or delete the bundled samples, so it reads a copy.
cp -R samples "$work/samples"
cp -R mappings "$work/mappings"
cfg="$work/samples/stockpipe.yaml"

echo "== stockpipe check"
"$bin" -c "$cfg" check
echo
echo "== stockpipe run"
set +e
"$bin" -c "$cfg" run
rc=$?
set -e
echo "exit code $rc (1 = done, with rejected records: see the rejects files)"
echo
echo "== second run on the same drop (nothing new to fetch or deliver)"
set +e
"$bin" -c "$cfg" run
rc2=$?
set -e
echo "exit code $rc2"
echo
echo "== a store sends new counts; the marketplace gets a delta, the webshop a full file"
cp "$work/samples/updates/"*.csv "$work/samples/drop/stores/"
set +e
STOCKPIPE_NOW=$(date -u -d '+20 minutes' +%Y-%m-%dT%H:%M:%SZ) "$bin" -c "$cfg" run
rc3=$?
set -e
echo "exit code $rc3"
echo
echo "== stockpipe reconcile: the ERP's book stock against the stores' counts"
set +e
"$bin" -c "$cfg" reconcile --state on_hand --between stores erp_stock \
	--csv "$work/reconcile.csv"
set -e
echo "(also written to $work/reconcile.csv)"
echo
echo "== stockpipe runs"
"$bin" -c "$cfg" runs
echo
echo "delivered files:"
find "$STOCKPIPE_OUT" -type f | sort | sed 's/^/  /'
echo "rejects:         $STOCKPIPE_STATE_DIR/rejects/"
echo "reports:         $STOCKPIPE_STATE_DIR/reports/"
echo "state database:  $STOCKPIPE_STATE_DIR/state.db"
for f in $(find "$STOCKPIPE_OUT" -type f | sort); do
	echo
	echo "--- $f"
	head -n 8 "$f"
done
[ "$rc" -le 1 ] && [ "$rc2" -le 1 ] && [ "$rc3" -le 1 ]

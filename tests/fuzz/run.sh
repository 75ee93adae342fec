#!/bin/sh
# run.sh - drives the libFuzzer binaries of `make fuzz` (build-fuzz/).
#
#   tests/fuzz/run.sh run SECONDS FMT...   fuzz each format for SECONDS,
#                                          one after the other (-jobs=1)
#   tests/fuzz/run.sh merge 0 FMT...       minimise tests/corpus/FMT plus
#                                          what the runs found (-merge=1);
#                                          regress-* and seed-* files are
#                                          always kept
#
# Inputs each run reads: build-fuzz/corpus/FMT (its working corpus, new
# finds go there), tests/corpus/FMT (committed, replayed by make test),
# build-fuzz/seeds/FMT (made here from samples/ and mappings/) and, when
# present, ../shared/data (read in place, never copied into the repo).
# Crashers land in build-fuzz/crash/FMT/; each run's log and its final
# stats (exec/s, cov, ft) are in build-fuzz/log/FMT.log.
# FUZZ_FLAGS adds libFuzzer flags to a run (e.g. "-fork=1
# -ignore_crashes=1" to go on past a finding for the whole time).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 70
mode=$1 secs=$2
shift 2
B=build-fuzz
SHARED=$ROOT/../shared/data
mkdir -p $B/seeds $B/corpus $B/crash $B/log

# Reader harnesses take option bytes first (fuzz_csv two, the others
# one); zero bytes = production defaults.
prefixed() { # DIR FILE...
	d=$1
	shift
	z='\000'
	case $d in *csv*) z='\000\000' ;; esac
	for x in "$@"; do
		[ -f "$x" ] || continue
		{ printf "$z"; head -c 65536 "$x"; } >"$d/$(echo "$x" | tr '/' '_')"
	done
}
plain() { # DIR FILE...
	d=$1
	shift
	for x in "$@"; do
		[ -f "$x" ] || continue
		head -c 65536 "$x" >"$d/$(echo "$x" | tr '/' '_')"
	done
}

seeds() { # FMT -> fills $B/seeds/FMT
	s=$B/seeds/$1
	rm -rf "$s"
	mkdir -p "$s"
	case $1 in
	x12) prefixed "$s" samples/edi/*.x12 ;;
	edifact) prefixed "$s" samples/edi/*.edi ;;
	xml) prefixed "$s" $(find samples/xml -name '*.xml') ;;
	csv) prefixed "$s" $(find samples mappings -name '*.csv') ;;
	ytree) plain "$s" samples/stockpipe.yaml $(find mappings -name '*.yaml') ;;
	canon) plain "$s" $(find mappings -name '*.jsonl') ;;
	map | config) python3 tests/fuzz/seeds.py "$1" "$s" ;;
	dec_dt)
		for v in 0 12.50 -0.000001 9223372.036854 '  7 ' 1,5 \
			2026-11-20 2026-11-20T09:00 '2026-11-20 09:00:00+01:00' \
			2024-02-29T23:59:59.123Z 1970-01-01T00:00:00-14:00; do
			printf '\000%s' "$v" >"$s/$(echo "$v" | cksum | cut -d' ' -f1)"
		done ;;
	unpack)
		t=$(mktemp -d) || return
		cp samples/edi/acme_846_inventory.x12 samples/drop/erp/*.csv "$t/"
		(cd "$t" && tar cf "$ROOT/$s/a.tar" ./* &&
			tar czf "$ROOT/$s/a.tgz" ./* &&
			gzip -c acme_846_inventory.x12 >"$ROOT/$s/one.x12.gz")
		command -v zip >/dev/null && (cd "$t" && zip -q "$ROOT/$s/a.zip" ./*)
		command -v bzip2 >/dev/null && bzip2 -c "$s/a.tar" >"$s/a.tar.bz2"
		command -v xz >/dev/null && xz -c "$s/a.tar" >"$s/a.tar.xz"
		rm -rf "$t" ;;
	esac
}

# The shared corpus (../shared/data) is read in place when present: as it
# is for archives; for the reader harnesses, with the option byte, into
# build-fuzz/seeds (a build directory, never the repo).
shared_dir() {
	case $1 in
	x12 | edifact | xml | csv)
		[ -d "$SHARED/$1" ] || return 0
		mkdir -p "$B/seeds/shared-$1"
		# shellcheck disable=SC2046
		prefixed "$B/seeds/shared-$1" $(find "$SHARED/$1" -type f)
		echo "$B/seeds/shared-$1" ;;
	unpack) [ -d "$SHARED/archives" ] && echo "$SHARED/archives" ;;
	esac
}

rc=0
for f in "$@"; do
	bin=$B/fuzz_$f
	[ -x "$bin" ] || { echo "run.sh: $bin missing (make fuzz)" >&2; exit 70; }
	mkdir -p "$B/corpus/$f" "$B/crash/$f" "tests/corpus/$f"
	dict=
	[ -f "tests/fuzz/$f.dict" ] && dict=-dict=tests/fuzz/$f.dict
	# Reader inputs past 16 KiB mostly cost time; archives need room.
	maxlen=16384
	[ "$f" = unpack ] && maxlen=65536
	case $f in canon | dec_dt) maxlen=4096 ;; esac
	case $mode in
	run)
		seeds "$f"
		echo "== fuzz_$f for ${secs}s"
		# shellcheck disable=SC2046
		"$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
			-max_len=$maxlen -print_final_stats=1 $dict ${FUZZ_FLAGS:-} \
			-artifact_prefix="$B/crash/$f/" \
			"$B/corpus/$f" "tests/corpus/$f" "$B/seeds/$f" \
			$(shared_dir "$f") >"$B/log/$f.log" 2>&1 || rc=1
		grep -E '^#[0-9]+.*(DONE|INITED)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss)|ERROR|SUMMARY' \
			"$B/log/$f.log" | tail -n 8
		ls "$B/crash/$f" 2>/dev/null | sed 's/^/  crash: /'
		;;
	merge)
		new=$B/merge-$f
		rm -rf "$new"
		mkdir -p "$new"
		# Edges only (-use_counters=0): the committed corpus stays a
		# few dozen files per format instead of one per hit count.
		"$bin" -merge=1 -use_counters=0 -timeout=5 -rss_limit_mb=2048 \
			-max_len=$maxlen "$new" "tests/corpus/$f" "$B/corpus/$f" \
			>"$B/log/$f.merge.log" 2>&1 || { rc=1; continue; }
		# Keep named regression inputs (regress-*) and named seeds
		# (seed-*: the valid examples of fuzz_map and fuzz_config)
		# under their names.
		# (libFuzzer names the merged copies by their SHA-1: drop those.)
		for k in tests/corpus/"$f"/regress-* tests/corpus/"$f"/seed-*; do
			[ -f "$k" ] || continue
			cp "$k" "$new/"
			rm -f "$new/$(sha1sum <"$k" | cut -d' ' -f1)"
		done
		find "$new" -type f -size +64k -delete
		# At most FUZZ_KEEP inputs per format (the ones adding the most
		# edges; default 100 for YAML, 60 for EDI, 40 otherwise),
		# so the committed corpus stays small and make test quick.
		case $f in ytree) keep=100 ;; x12 | edifact) keep=60 ;; *) keep=40 ;; esac
		keep=${FUZZ_KEEP:-$keep}
		rm -rf "$B/trim" "$B/trim.cf" && mkdir -p "$B/trim"
		"$bin" -merge=1 -use_counters=0 -max_len=$maxlen \
			-merge_control_file="$B/trim.cf" "$B/trim" "$new" \
			>"$B/log/$f.trim.log" 2>&1 &&
			python3 tests/fuzz/trim.py "$B/trim.cf" "$new" "$keep"
		rm -rf "tests/corpus/$f"
		mv "$new" "tests/corpus/$f"
		echo "tests/corpus/$f: $(ls "tests/corpus/$f" | wc -l) files"
		;;
	esac
done
exit $rc

#!/bin/bash
# sftp_bench.sh - SFTP throughput over loopback: stockpipe against
# OpenSSH's own sftp(1) client moving the same files through the same
# private sshd (tests/e2e/lib/sshd.sh; `make bench-sftp`, not part of
# `make test` or `make bench`).
#
#   tests/bench/sftp_bench.sh BINARY        (BINARY: build/stockpipe)
#
#   SFTP_BENCH_FILES=1000     number of small files
#   SFTP_BENCH_SMALL=4096     bytes per small file (CSV text)
#   SFTP_BENCH_LARGE=1G       the large file (random bytes); 256M when the
#                             scratch file system has less than 5x that free
#   SFTP_BENCH_DIR=DIR        scratch space (default a temp dir, removed)
#
# Rows, each timed on the wall clock with a warm page cache, connection
# set-up included (one SSH session per row, as one stage has per source
# or target):
#   stockpipe fetch   `stockpipe run --source bench --until fetch`: list,
#                     download, size check, SHA-256, fsync + atomic publish
#                     into the inbox, one SQLite commit per file
#   connector get     the same sftp:// connector without the pipeline
#                     (tests/bench/sftp_bench.c: list + fetch per file)
#   connector put     the deliver stage's upload per file: ".NAME.part",
#                     fsync@openssh.com, size check, rename (no overwrite)
#   sftp get / put    OpenSSH sftp -b: `get *` / `put *` in one session
#                     (its defaults: 32 KiB requests, 64 in flight; no
#                     fsync, no rename, no hash)
# Every transfer is checked (file count, bytes, the large file's bytes).
# The machine may be shared: repeat for stable numbers.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY" >&2
	exit 64
fi
case $1 in
/*) BIN=$1 ;;
*) BIN=$(pwd)/$1 ;;
esac
[ -x "$BIN" ] || { echo "sftp_bench: no binary at $BIN" >&2; exit 66; }
SRC=$(cd "$(dirname "$0")/../.." && pwd)
NFILES=${SFTP_BENCH_FILES:-1000}
SMALL=${SFTP_BENCH_SMALL:-4096}
LARGE=${SFTP_BENCH_LARGE:-1G}
W=${SFTP_BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sp-sftpbench.XXXXXX")}
mkdir -p "$W"
. "$SRC/tests/e2e/lib/sshd.sh"
cleanup() {
	sshd_stop
	[ -n "${SFTP_BENCH_DIR:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
NOTES=

bytes_of() { numfmt --from=iec "$1"; }
large_b=$(bytes_of "$LARGE") || { echo "sftp_bench: bad size $LARGE" >&2; exit 64; }
# Space: the large file on the "server", plus at most three copies at
# once (downloaded, uploaded) and slack.
avail=$(($(df -Pk "$W" | awk 'NR == 2 {print $4}') * 1024))
if [ "$avail" -lt $((5 * large_b)) ]; then
	NOTES="$NOTES
note: only $((avail / 1048576)) MB free in $W: large file 256M instead of $LARGE"
	LARGE=256M
	large_b=$(bytes_of 256M)
fi

if ! sshd_start "$W/sshd"; then
	echo "sftp_bench: cannot start the test sshd: $SSHD_WHY" >&2
	exit 69
fi
K=$SSHD_DIR
BASE="sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT"

# The connector harness, built against the objects of the plain build:
# lib/, transforms/ and connectors/ only (the layers a connector may
# use), so the store's backends (db_pg.o needs libpq) are not linked in.
# The objects of today's sources only (a stale .o of a moved file would
# clash with its new home).
objs=$(cd "$SRC" && find lib transforms connectors -name '*.c' \
	| sort | sed "s|^\(.*\)\.c\$|$SRC/build/\1.o|")
HARN=
if [ -n "$objs" ]; then
	# shellcheck disable=SC2086 # word lists by design
	if cc -std=c11 -Wall -Wextra -O2 -D_GNU_SOURCE -I"$SRC" -o "$W/sftp_bench" \
		"$SRC/tests/bench/sftp_bench.c" $objs \
		$(pkg-config --libs libarchive libxml-2.0 libssh2 sqlite3 \
			yaml-0.1 libcrypto zlib) -lcsv -pthread 2>"$W/cc.log"; then
		HARN=$W/sftp_bench
	else
		NOTES="$NOTES
note: connector rows skipped: tests/bench/sftp_bench.c did not build ($(head -n 1 "$W/cc.log"))"
	fi
else
	NOTES="$NOTES
note: connector rows skipped: no objects under $SRC/build (run make first)"
fi

# ---- inputs ------------------------------------------------------------------
R=$W/remote
mkdir -p "$R/small" "$R/large" "$W/local/small" "$W/local/large"
echo "sftp_bench: writing $NFILES files of $SMALL bytes and one of $LARGE" >&2
awk -v n="$NFILES" -v size="$SMALL" -v dir="$W/local/small" 'BEGIN {
	for (i = 1; i <= n; i++) {
		f = sprintf("%s/stock_%05d.csv", dir, i)
		s = "location,sku,quantity,state,counted_at\n"
		for (j = 1; length(s) < size; j++)
			s = s sprintf("F%03d,KW-%05d,%d,OK,2026-11-20 06:00\n",
			    i % 1000, j, (i * 31 + j * 7) % 500)
		printf "%s", substr(s, 1, size) > f
		close(f)
	}
}'
head -c "$large_b" /dev/urandom >"$W/local/large/big_stock.bin"
cp "$W"/local/small/* "$R/small/"
cp "$W/local/large/big_stock.bin" "$R/large/"
sync
SMALL_TOTAL=$(cat "$W"/local/small/* | wc -c)
cat "$R"/small/* "$R"/large/* "$W"/local/large/* >/dev/null # warm the cache

TABLE=$W/table
: >"$TABLE"
now() { date +%s.%N; }
# row SET TOOL OP FILES BYTES SECONDS
row() { echo "$*" >>"$TABLE"; }
# verify SET DIR: DIR holds what the set should have; prints why not
verify() {
	local n b
	n=$(find "$2" -maxdepth 1 -type f ! -name '.*' | wc -l)
	if [ "$1" = small ]; then
		b=$(find "$2" -maxdepth 1 -type f ! -name '.*' -exec cat {} + | wc -c)
		[ "$n" = "$NFILES" ] && [ "$b" = "$SMALL_TOTAL" ] && return 0
		echo "$n files, $b bytes; expected $NFILES, $SMALL_TOTAL"
	else
		[ "$n" = 1 ] && cmp -s "$W/local/large/big_stock.bin" "$2/big_stock.bin" && return 0
		echo "$n files, or the large file's bytes differ"
	fi
	return 1
}
fails=0
bad() { echo "sftp_bench: $*" >&2; fails=$((fails + 1)); }
sftp_cli() { # sftp_cli BATCHFILE
	sftp -q -b "$1" -i "$K/user_key" -P "$SSHD_PORT" -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$K/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null "$SSHD_USER@127.0.0.1" >"$W/sftp.log" 2>&1
}

for set in small large; do
	n=$NFILES
	bytes=$SMALL_TOTAL
	[ $set = large ] && n=1 bytes=$large_b

	# stockpipe run --until fetch: the fetch stage, state store included.
	d=$W/sp_$set
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/stockpipe.yaml" <<EOF
state_dir: state
sources:
  - name: bench
    url: $BASE$R/$set
    pattern: "*"
    mapping: $SRC/mappings/stores/store_stock_csv.yaml
    ssh:
      key_file: $K/user_key
      known_hosts: $K/known_hosts
      timeout: 2m
      retries: 0
EOF
	t0=$(now)
	"$BIN" -c "$d/stockpipe.yaml" run --source bench --until fetch >"$d/out" 2>&1
	rc=$?
	t1=$(now)
	if [ $rc -gt 1 ]; then
		bad "stockpipe fetch ($set): exit $rc: $(tail -n 2 "$d/out")"
	else
		# Inbox names carry a unit id prefix: count, bytes, content.
		got=$(find "$d/state/inbox/bench" -type f ! -name '.*' | wc -l)
		gb=$(find "$d/state/inbox/bench" -type f ! -name '.*' -exec cat {} + | wc -c)
		[ "$got" = "$n" ] && [ "$gb" = "$bytes" ] ||
			bad "stockpipe fetch ($set): $got files, $gb bytes; expected $n, $bytes"
		[ $set = small ] || cmp -s "$W/local/large/big_stock.bin" "$d"/state/inbox/bench/*_big_stock.bin ||
			bad "stockpipe fetch (large): the bytes differ"
	fi
	row $set "stockpipe" "fetch (run)" "$n" "$bytes" "$(echo "$t1 - $t0" | bc)"
	rm -rf "$d"

	if [ -n "$HARN" ]; then
		l=$W/get_$set
		rm -rf "$l"
		mkdir -p "$l"
		if out=$("$HARN" get "$BASE$R/$set" "$K/user_key" "$K/known_hosts" "$l" 2>&1); then
			why=$(verify $set "$l") || bad "connector get ($set): $why"
			row $set "stockpipe" "connector get" $out
		else
			bad "connector get ($set): $out"
		fi
		rm -rf "$l"
		rm -rf "$R/put_$set"
		mkdir -p "$R/put_$set"
		if out=$("$HARN" put "$BASE$R/put_$set" "$K/user_key" "$K/known_hosts" "$W/local/$set" 2>&1); then
			why=$(verify $set "$R/put_$set") || bad "connector put ($set): $why"
			row $set "stockpipe" "connector put" $out
		else
			bad "connector put ($set): $out"
		fi
		rm -rf "$R/put_$set"
	fi

	l=$W/sget_$set
	rm -rf "$l"
	mkdir -p "$l"
	printf 'lcd %s\ncd %s\nget *\n' "$l" "$R/$set" >"$W/batch"
	t0=$(now)
	sftp_cli "$W/batch"
	rc=$?
	t1=$(now)
	if [ $rc != 0 ]; then
		bad "sftp get ($set): exit $rc: $(tail -n 2 "$W/sftp.log")"
	else
		why=$(verify $set "$l") || bad "sftp get ($set): $why"
		row $set "OpenSSH sftp" "get" "$n" "$bytes" "$(echo "$t1 - $t0" | bc)"
	fi
	rm -rf "$l"
	rm -rf "$R/sput_$set"
	mkdir -p "$R/sput_$set"
	printf 'lcd %s\ncd %s\nput *\n' "$W/local/$set" "$R/sput_$set" >"$W/batch"
	t0=$(now)
	sftp_cli "$W/batch"
	rc=$?
	t1=$(now)
	if [ $rc != 0 ]; then
		bad "sftp put ($set): exit $rc: $(tail -n 2 "$W/sftp.log")"
	else
		why=$(verify $set "$R/sput_$set") || bad "sftp put ($set): $why"
		row $set "OpenSSH sftp" "put" "$n" "$bytes" "$(echo "$t1 - $t0" | bc)"
	fi
	rm -rf "$R/sput_$set"
done

echo
echo "SFTP over loopback: $NFILES files of $SMALL bytes; one file of $LARGE"
echo "($("$SSHD_BIN" -V 2>&1 | head -n 1 || ssh -V 2>&1) internal-sftp on 127.0.0.1, $(nproc) CPUs)"
awk '{
	set = $1; n = $(NF - 2); b = $(NF - 1); s = $NF
	tool = $2; op = ""
	for (i = 3; i <= NF - 3; i++) op = op (op ? " " : "") $i
	if (tool == "OpenSSH") { tool = "OpenSSH sftp"; sub(/^sftp ?/, "", op) }
	if (!hdr++) printf "%-6s %-13s %-14s %6s %9s %8s %9s %8s\n",
	    "set", "tool", "operation", "files", "MB", "sec", "files/s", "MB/s"
	fps = s > 0 ? n / s : 0
	mbs = s > 0 ? b / 1048576 / s : 0
	printf "%-6s %-13s %-14s %6d %9.1f %8.2f %9.1f %8.1f\n", set, tool, op,
	    n, b / 1048576, s, fps, mbs
}' "$TABLE"
[ -n "$NOTES" ] && echo "$NOTES"
[ $fails = 0 ]

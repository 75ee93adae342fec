#!/bin/sh
# edi_bench.sh - EDI reader throughput: generates a deterministic X12 852
# and an EDIFACT INVRPT file of SIZE MB (default 100, gen_bench.c), then measures the
# reader (tokenizer + envelope validation, one core) against a memchr scan
# for the terminator over the same file, with and without the
# per-interchange SHA-256. Not part of `make test`.
#
# usage: tests/bench/edi_bench.sh [SIZE_MB]     (after `make`)
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SIZE=${1:-100}
W=$SRC/tests/bench/scratch/edi
mkdir -p "$W" || exit 70
# The objects of lib/ and transforms/ (the tokenizer needs no more, and
# pipeline/ would bring db_pg.o without libpq), of today's sources only (a
# stale .o of a moved file would clash with its new home).
objs=$(cd "$SRC" && find lib transforms -name '*.c' \
	! -name main.c | sort | sed "s|^\(.*\)\.c\$|$SRC/build/\1.o|")
[ -n "$objs" ] || { echo "edi_bench: run make first" >&2; exit 70; }
LIBS=$(pkg-config --libs libarchive libxml-2.0 libssh2 sqlite3 yaml-0.1 \
	libcrypto zlib 2>/dev/null)
cc -std=c11 -O2 -o "$W/gen" "$SRC/tests/bench/gen_bench.c" || exit 70
# shellcheck disable=SC2086
cc -std=c11 -O2 -D_GNU_SOURCE -I"$SRC" -o "$W/tok" "$SRC/tests/bench/edi_tok_bench.c" \
	$objs $LIBS -lcsv || exit 70
for fmt in x12 edifact; do
	f=$W/bench_$fmt.edi
	g=$fmt
	[ "$fmt" = x12 ] && g=x12-852
	[ -s "$f" ] && [ "$(($(wc -c <"$f") >> 20))" -ge "$SIZE" ] ||
		"$W/gen" "$g" "${SIZE}M" >"$f" 2>/dev/null || exit 70
	cat "$f" >/dev/null # warm the page cache
	echo "== $fmt ($(($(wc -c <"$f") >> 20)) MB)"
	"$W/tok" "$fmt" "$f" || exit 1
	"$W/tok" "$fmt" "$f" --hash | grep reader
done

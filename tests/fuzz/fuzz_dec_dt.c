/* fuzz_dec_dt.c - libFuzzer harness for exact decimals (dec.h) and UTC
 * timestamps (dt.h). Corpus: tests/corpus/dec_dt/.
 *
 * Option byte (first input byte; the rest is the text):
 *	bit  0    decimal mark ',' instead of '.'
 *	bits 1-3  implied decimals 0..7 (dec_parse's X12 N2 style)
 * The text is copied into a buffer of exactly its length (no terminator).
 * Invariants: a parsed decimal formats to at most 23 characters that parse
 * back to the same value; sum and product either overflow (-1) or equal a
 * 128-bit reference; floor_to is a multiple at most v; a parsed time
 * formats to ISO text that parses back to the same second and whose
 * civil fields round-trip through dt_from_civil; dt_format with the text
 * as format never writes past its buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/model/dec.h"
#include "transforms/model/dt.h"
#include "fuzz.h"

static void check_dec(dec v)
{
	char out[24];
	size_t n = dec_format(v, out);
	dec w;
	__int128 ref;

	FZ_CHECK(n > 0 && n < sizeof(out) && strlen(out) == n);
	FZ_CHECK(dec_parse(out, n, '.', 0, &w) == 0 && w == v);
	/* v + v and v * v against 128-bit arithmetic. */
	ref = (__int128)v + v;
	if (dec_add(v, v, &w) == 0)
		FZ_CHECK(w == ref);
	else
		FZ_CHECK(ref > INT64_MAX || ref < INT64_MIN);
	ref = (__int128)v * v / DEC_SCALE;
	if (dec_mul(v, v, &w) == 0)
		FZ_CHECK(w == ref);
	else
		FZ_CHECK(ref > INT64_MAX || ref < INT64_MIN);
	{
		dec f = dec_floor_to(v, DEC_SCALE / 100);

		FZ_CHECK(f <= v && f % (DEC_SCALE / 100) == 0 &&
			 v - f < DEC_SCALE / 100);
	}
}

static void check_dt(int64_t t)
{
	char iso[DT_ISO_LEN];
	int64_t u;
	int y, mo, d, h, mi, s;

	dt_format_iso(t, iso);
	FZ_CHECK(strlen(iso) == DT_ISO_LEN - 1);
	FZ_CHECK(dt_parse_iso(iso, strlen(iso), &u) == 0 && u == t);
	dt_to_civil(t, &y, &mo, &d, &h, &mi, &s);
	FZ_CHECK(dt_from_civil(y, mo, d, h, mi, s, &u) == 0 && u == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, out[64];
	size_t n;
	unsigned opt;
	dec v;
	int64_t t;
	int k;

	if (size < 1)
		return 0;
	opt = data[0];
	n = size - 1;
	s = malloc(n ? n : 1);
	FZ_CHECK(s != NULL);
	memcpy(s, data + 1, n);
	if (dec_parse(s, n, opt & 1 ? ',' : '.', (int)((opt >> 1) & 7),
		      &v) == 0)
		check_dec(v);
	if (dt_parse_iso(s, n, &t) == 0)
		check_dt(t);
	/* The text as a dt_format format (NUL-terminated copy). */
	if (n < 48) {
		char fmt[48];

		memcpy(fmt, s, n);
		fmt[n] = '\0';
		k = dt_format(1763600000, fmt, out, sizeof(out));
		FZ_CHECK(k == -1 || ((size_t)k < sizeof(out) &&
				     strlen(out) == (size_t)k));
		k = dt_format(-62135596800LL, fmt, out, 8);
		FZ_CHECK(k == -1 || (k < 8 && strlen(out) == (size_t)k));
	}
	free(s);
	return 0;
}

/* t_buf.c - growable buffer: cap, sticky error, JSON strings, detach. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "t.h"

T_TEST(buf_starts_empty_and_terminated)
{
	struct buf b = BUF_INIT(100);

	T_ASSERT(b.ptr == buf_slop);
	T_EQ_STR(b.ptr, "");
	T_EQ_INT(b.len, 0);
	T_EQ_INT(b.cap, 0);
	buf_release(&b); /* nothing allocated: still fine */
	T_ASSERT(b.ptr == buf_slop);
	T_EQ_INT(b.max, 100);
}

T_TEST(buf_appends)
{
	struct buf b;
	int i;

	buf_init(&b, 1 << 20);
	T_EQ_INT(buf_adds(&b, "sku"), 0);
	T_EQ_INT(buf_addc(&b, ','), 0);
	T_EQ_INT(buf_add(&b, "12345", 3), 0);
	T_EQ_INT(buf_addf(&b, ",%d,%s", -7, "on_hand"), 0);
	T_EQ_INT(buf_add(&b, NULL, 0), 0);
	T_EQ_STR(b.ptr, "sku,123,-7,on_hand");
	T_EQ_INT(b.len, strlen("sku,123,-7,on_hand"));
	/* Growth across many reallocations keeps content and the NUL. */
	for (i = 0; i < 10000; i++)
		T_EQ_INT(buf_addc(&b, (char)('a' + i % 26)), 0);
	T_EQ_INT(b.len, 18 + 10000);
	T_EQ_INT(b.ptr[b.len], '\0');
	T_EQ_INT(b.ptr[18], 'a');
	T_EQ_INT(b.ptr[18 + 9999], 'a' + 9999 % 26);
	T_ASSERT(b.cap > b.len);
	buf_release(&b);
	T_ASSERT(b.ptr == buf_slop);
	T_EQ_INT(b.len, 0);
}

T_TEST(buf_addf_grows)
{
	struct buf b = BUF_INIT(1 << 20);

	/* First addf on an empty buffer, then one too big for the room. */
	T_EQ_INT(buf_addf(&b, "%s", "x"), 0);
	T_EQ_INT(buf_addf(&b, "%5000d", 1), 0);
	T_EQ_INT(b.len, 5001);
	T_EQ_INT(b.ptr[5000], '1');
	T_EQ_INT(b.ptr[5001], '\0');
	T_EQ_INT(strlen(b.ptr), 5001);
	buf_release(&b);
}

T_TEST(buf_cap_is_enforced)
{
	struct buf b = BUF_INIT(5);

	T_EQ_INT(buf_adds(&b, "hello"), 0);
	T_EQ_INT(b.err, 0);
	T_EQ_INT(buf_addc(&b, '!'), -1);
	T_EQ_INT(b.err, E_TOOBIG);
	T_EQ_STR(b.ptr, "hello");
	T_EQ_INT(b.len, 5);
	buf_release(&b);

	/* One append past the cap in one go. */
	buf_init(&b, 5);
	T_EQ_INT(buf_adds(&b, "hello!"), -1);
	T_EQ_INT(b.err, E_TOOBIG);
	T_EQ_INT(b.len, 0);
	buf_release(&b);
}

T_TEST(buf_addc_respects_cap_below_capacity)
{
	/* The first allocation is larger than max; single-byte appends
	 * must still stop at max. */
	struct buf b = BUF_INIT(3);
	int i, ok = 0;

	for (i = 0; i < 20; i++)
		if (buf_addc(&b, 'x') == 0)
			ok++;
	T_EQ_INT(ok, 3);
	T_EQ_INT(b.len, 3);
	T_EQ_INT(b.err, E_TOOBIG);
	T_EQ_STR(b.ptr, "xxx");
	buf_release(&b);
}

T_TEST(buf_addf_respects_cap)
{
	struct buf b = BUF_INIT(10);

	T_EQ_INT(buf_adds(&b, "1234"), 0);
	T_ASSERT(b.cap > 10); /* room in memory, but not under the cap */
	T_EQ_INT(buf_addf(&b, "%s", "5678901"), -1);
	T_EQ_INT(b.err, E_TOOBIG);
	T_EQ_STR(b.ptr, "1234");
	T_EQ_INT(b.len, 4);
	buf_release(&b);

	buf_init(&b, 10);
	T_EQ_INT(buf_addf(&b, "%d", 1234567890), 0);
	T_EQ_STR(b.ptr, "1234567890");
	T_EQ_INT(buf_addf(&b, "%d", 1), -1);
	T_EQ_STR(b.ptr, "1234567890");
	buf_release(&b);

	/* Needs to grow and would pass the cap. */
	buf_init(&b, 100);
	T_EQ_INT(buf_addf(&b, "%200d", 1), -1);
	T_EQ_INT(b.err, E_TOOBIG);
	T_EQ_INT(b.len, 0);
	buf_release(&b);
}

T_TEST(buf_error_is_sticky_until_reset)
{
	struct buf b = BUF_INIT(4);

	T_EQ_INT(buf_adds(&b, "abcde"), -1);
	T_EQ_INT(b.err, E_TOOBIG);
	/* Later appends that would fit still do nothing. */
	T_EQ_INT(buf_adds(&b, "a"), -1);
	T_EQ_INT(buf_addc(&b, 'a'), -1);
	T_EQ_INT(buf_addf(&b, "%d", 1), -1);
	T_EQ_INT(buf_add_json_str(&b, "a", 1), -1);
	T_EQ_INT(b.len, 0);
	T_EQ_STR(b.ptr, "");
	T_EQ_INT(b.err, E_TOOBIG);
	buf_reset(&b);
	T_EQ_INT(b.err, 0);
	T_EQ_INT(buf_adds(&b, "abcd"), 0);
	T_EQ_STR(b.ptr, "abcd");
	buf_reset(&b);
	T_EQ_STR(b.ptr, "");
	T_EQ_INT(b.len, 0);
	T_ASSERT(b.cap > 0); /* memory kept */
	buf_release(&b);
}

T_TEST(buf_grow_overflow)
{
	struct buf b = BUF_INIT(SIZE_MAX);

	/* len + extra + 1 wraps to 0; must not be taken as "fits". */
	T_EQ_INT(buf_grow(&b, SIZE_MAX), -1);
	T_ASSERT(b.err != 0);
	buf_release(&b);
	buf_init(&b, SIZE_MAX);
	T_EQ_INT(buf_adds(&b, "ab"), 0);
	T_EQ_INT(buf_grow(&b, SIZE_MAX - 2), -1);
	T_EQ_INT(buf_grow(&b, SIZE_MAX - 1), -1);
	T_EQ_STR(b.ptr, "ab");
	buf_release(&b);
}

static int json_is(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT(1 << 16);
	int rc = buf_add_json_str(&b, in, n);

	if (rc != 0 || b.len != strlen(want) || strcmp(b.ptr, want)) {
		fprintf(stderr, "    json: got [%s], want [%s]\n", b.ptr, want);
		rc = -1;
	}
	buf_release(&b);
	return rc;
}

T_TEST(buf_json_escaping)
{
	T_EQ_INT(json_is("", 0, "\"\""), 0);
	T_EQ_INT(json_is("plain", 5, "\"plain\""), 0);
	T_EQ_INT(json_is("a\"b", 3, "\"a\\\"b\""), 0);
	T_EQ_INT(json_is("back\\slash", 10, "\"back\\\\slash\""), 0);
	T_EQ_INT(json_is("l1\nl2\r\tx", 8, "\"l1\\nl2\\r\\tx\""), 0);
	T_EQ_INT(json_is("\x01\x1f", 2, "\"\\u0001\\u001f\""), 0);
	/* An embedded NUL is data, not the end. */
	T_EQ_INT(json_is("a\0b", 3, "\"a\\u0000b\""), 0);
	/* Only n bytes are read. */
	T_EQ_INT(json_is("abcdef", 2, "\"ab\""), 0);
	/* UTF-8 and DEL pass through unchanged; '/' needs no escape. */
	T_EQ_INT(json_is("K\xc3\xb8" "benhavn/\x7f", 12,
			 "\"K\xc3\xb8" "benhavn/\x7f\""),
		 0);
	/* Escapes at both ends and adjacent. */
	T_EQ_INT(json_is("\"\"\n", 3, "\"\\\"\\\"\\n\""), 0);
}

T_TEST(buf_json_appends_and_respects_cap)
{
	struct buf b = BUF_INIT(8);

	T_EQ_INT(buf_adds(&b, "{"), 0);
	T_EQ_INT(buf_add_json_str(&b, "ab", 2), 0);
	T_EQ_STR(b.ptr, "{\"ab\"");
	/* "\n" becomes 4 bytes with quotes: 5 + 4 > 8. */
	T_EQ_INT(buf_add_json_str(&b, "\n", 1), -1);
	T_EQ_INT(b.err, E_TOOBIG);
	T_ASSERT(b.len <= 8);
	buf_release(&b);
}

T_TEST(buf_detach_hands_over_memory)
{
	struct buf b = BUF_INIT(64);
	size_t len = 99;
	char *p;

	buf_adds(&b, "detached");
	p = buf_detach(&b, &len);
	T_ASSERT(p != NULL);
	T_EQ_STR(p, "detached");
	T_EQ_INT(len, 8);
	T_ASSERT(b.ptr == buf_slop);
	T_EQ_INT(b.len, 0);
	T_EQ_INT(b.cap, 0);
	T_EQ_INT(b.max, 64);
	/* The buffer is reusable and independent of p. */
	buf_adds(&b, "new");
	T_EQ_STR(p, "detached");
	free(p);
	buf_release(&b);

	/* Detaching an empty buffer gives a freeable "". */
	p = buf_detach(&b, &len);
	T_ASSERT(p != NULL && p != buf_slop);
	T_EQ_STR(p, "");
	T_EQ_INT(len, 0);
	free(p);
	p = buf_detach(&b, NULL);
	T_ASSERT(p != NULL);
	free(p);
}

T_TEST(buf_setlen_truncates)
{
	struct buf b = BUF_INIT(100);

	buf_setlen(&b, 5); /* nothing allocated: ignored */
	T_EQ_INT(b.len, 0);
	T_ASSERT(b.ptr == buf_slop);
	T_EQ_INT(buf_grow(&b, 20), 0);
	memcpy(b.ptr, "0123456789", 10);
	buf_setlen(&b, 10);
	T_EQ_STR(b.ptr, "0123456789");
	buf_setlen(&b, 4);
	T_EQ_STR(b.ptr, "0123");
	T_EQ_INT(b.len, 4);
	buf_release(&b);
}

T_TEST(buf_str_copy)
{
	char d[6];

	T_EQ_INT(str_copy(d, sizeof(d), "abc"), 0);
	T_EQ_STR(d, "abc");
	T_EQ_INT(str_copy(d, sizeof(d), "abcde"), 0); /* exactly fits */
	T_EQ_STR(d, "abcde");
	memset(d, '#', sizeof(d));
	T_EQ_INT(str_copy(d, sizeof(d), "abcdef"), -1);
	T_EQ_STR(d, "abcde"); /* truncated but terminated */
	d[0] = '#';
	T_EQ_INT(str_copy(d, 0, "a"), -1);
	T_EQ_INT(d[0], '#'); /* n == 0: nothing written */
	T_EQ_INT(str_copy(d, 1, "a"), -1);
	T_EQ_STR(d, "");
}

T_TEST(buf_str_copy_cut)
{
	char d[6];

	str_copy_cut(d, sizeof(d), "abc");
	T_EQ_STR(d, "abc");
	str_copy_cut(d, sizeof(d), "abcdefgh"); /* cut on purpose */
	T_EQ_STR(d, "abcde");
	d[0] = '#';
	str_copy_cut(d, 0, "a");
	T_EQ_INT(d[0], '#'); /* n == 0: nothing written */
}

/* The escaper looks at 8 bytes per step: every byte value at every
 * position of strings up to three words long (and the tail after them)
 * gives what a byte-by-byte escaper gives; the length is exact. A byte
 * >= 0x80 alone among ASCII is not UTF-8 and becomes U+FFFD. */
T_TEST(buf_json_every_byte_every_position)
{
	static const char hex[] = "0123456789abcdef";
	char in[28], want[28 * 6 + 3];
	struct buf b = BUF_INIT(1 << 16);
	size_t n, pos, k, j;
	unsigned v;

	for (n = 1; n <= sizeof(in); n++)
		for (pos = 0; pos < n; pos++)
			for (v = 0; v < 256; v++) {
				for (j = 0; j < n; j++)
					in[j] = (char)('a' + j % 26);
				in[pos] = (char)v;
				k = 0;
				want[k++] = '"';
				for (j = 0; j < n; j++) {
					unsigned char c = (unsigned char)in[j];

					if (c == '"' || c == '\\') {
						want[k++] = '\\';
						want[k++] = (char)c;
					} else if (c == '\n' || c == '\r' || c == '\t') {
						want[k++] = '\\';
						want[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
					} else if (c < 0x20) {
						memcpy(want + k, "\\u00", 4);
						want[k + 4] = hex[c >> 4];
						want[k + 5] = hex[c & 15];
						k += 6;
					} else if (c >= 0x80) {
						/* Alone among ASCII, never
						 * UTF-8: U+FFFD. */
						memcpy(want + k, "\xef\xbf\xbd", 3);
						k += 3;
					} else {
						want[k++] = (char)c;
					}
				}
				want[k++] = '"';
				T_EQ_INT(json_str_len(in, n), k);
				/* The one-pass writer: the same bytes, or NULL
				 * exactly when a byte needs a look. */
				{
					char got[sizeof(in) + 2];
					char *e = json_str_put_plain(got, in, n);
					int plain = v >= 0x20 && v < 0x80 &&
						    v != '"' && v != '\\';

					if (plain != (e != NULL) ||
					    (e && ((size_t)(e - got) != k ||
						   memcmp(got, want, k))))
						T_FAIL("plain: byte 0x%02x at %zu of %zu",
						       v, pos, n);
				}
				buf_reset(&b);
				T_EQ_INT(buf_add_json_str(&b, in, n), 0);
				if (b.len != k || memcmp(b.ptr, want, k))
					T_FAIL("byte 0x%02x at %zu of %zu: got [%s]",
					       v, pos, n, b.ptr);
			}
	buf_release(&b);
}

T_TEST(buf_json_str_fit_cuts_on_a_character)
{
	char big[40];

	/* Fits whole: everything. */
	T_EQ_INT(json_str_fit("abc", 3, 100), 3);
	/* Stops once fewer than 7 bytes would be left: room 10 takes 3. */
	T_EQ_INT(json_str_fit("abcdefgh", 8, 10), 3);
	/* Escapes count at their escaped size. */
	T_EQ_INT(json_str_fit("\"\"\"\"\"", 5, 12), 3);
	T_EQ_INT(json_str_fit("\x01\x01\x01", 3, 14), 2);
	/* A cut drops the last character, whole or partial, never a byte
	 * of one. */
	memset(big, 'a', sizeof(big));
	memcpy(big + 2, "\xc3\xa9\xc3\xa9", 4);
	T_EQ_INT(json_str_fit(big, sizeof(big), 12), 4);
	T_EQ_INT(json_str_fit(big, sizeof(big), 13), 4);
	T_EQ_INT(json_str_fit(big, sizeof(big), 14), 7);
}

T_TEST(buf_alloc_grow)
{
	int *v = NULL, *keep;
	size_t alloc = 0, i;

	for (i = 0; i < 1000; i++) {
		T_EQ_INT(ALLOC_GROW(v, i + 1, alloc), 0);
		T_ASSERT(alloc >= i + 1);
		v[i] = (int)i;
	}
	T_EQ_INT(v[999], 999);
	/* Enough room already: nothing moves. */
	keep = v;
	T_EQ_INT(ALLOC_GROW(v, 10, alloc), 0);
	T_ASSERT(v == keep);
	/* An element count whose byte size overflows: -1, nothing changed. */
	i = alloc;
	T_EQ_INT(ALLOC_GROW(v, SIZE_MAX / 2, alloc), -1);
	T_ASSERT(v == keep);
	T_EQ_INT(alloc, i);
	T_EQ_INT(v[999], 999);
	free(v);
}

/* Whatever the bytes, the JSON literal is valid UTF-8: well-formed
 * characters are kept, each other byte is one U+FFFD (hostile file
 * names: Latin-1 'caf\xe9', a surrogate, an overlong, a cut character). */
T_TEST(buf_json_invalid_utf8_replaced)
{
	static const struct {
		const char *in, *want;
	} c[] = {
		{"caf\xe9.csv", "\"caf\xef\xbf\xbd.csv\""},
		{"caf\xc3\xa9", "\"caf\xc3\xa9\""},
		{"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
		{"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
		{"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				     "\xef\xbf\xbd\""},
		{"ab\xe2\x82", "\"ab\xef\xbf\xbd\xef\xbf\xbd\""},
		{"\xf0\x9f\x98\x80 ok", "\"\xf0\x9f\x98\x80 ok\""},
		{"esc\x1b[2J", "\"esc\\u001b[2J\""},
		{"long enough to take the 8-byte path \xff!",
		 "\"long enough to take the 8-byte path \xef\xbf\xbd!\""},
	};
	struct buf b = BUF_INIT(1 << 10);
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf_reset(&b);
		T_EQ_INT(buf_add_json_str(&b, c[i].in, strlen(c[i].in)), 0);
		T_EQ_STR(b.ptr, c[i].want);
		T_EQ_INT(json_str_len(c[i].in, strlen(c[i].in)), b.len);
	}
	/* The log's cut counts U+FFFD's three bytes: 10 bad bytes need
	 * 30 bytes of room plus the escape margin. */
	T_EQ_INT(json_str_fit("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10,
			      100),
		 10);
	T_ASSERT(json_str_fit("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10,
			      20) < 5);
	buf_release(&b);
}

/* str_ulong writes two digits per step: every length, both ends. */
T_TEST(buf_str_ulong_every_length)
{
	char out[21], want[32];
	unsigned long v = 0, p = 1;
	int i;

	for (i = 0; i < 20; i++) {
		unsigned long c[3] = { p - 1, p, p + 7 };
		int j;

		for (j = 0; j < 3; j++) {
			snprintf(want, sizeof(want), "%lu", c[j]);
			T_EQ_INT(str_ulong(out, c[j]), strlen(want));
			T_EQ_STR(out, want);
		}
		if (p > (unsigned long)-1 / 10)
			break;
		p *= 10;
	}
	v = (unsigned long)-1;
	snprintf(want, sizeof(want), "%lu", v);
	T_EQ_INT(str_ulong(out, v), strlen(want));
	T_EQ_STR(out, want);
}

/* str_ulong_memo writes what str_ulong writes: counting up across every
 * carry (9, 99, 999...), the same number twice, jumps down and up, and
 * the top of the range. */
T_TEST(buf_str_ulong_memo_counts)
{
	struct str_ulong_memo m;
	char want[21];
	unsigned long v, seq[] = {5, 5, 4, 1000, 999999, 1000000, 0, 1,
				  (unsigned long)-2, (unsigned long)-1, 0, 1};
	size_t i, n;

	memset(&m, 0, sizeof(m));
	for (v = 0; v < 200000; v++) {
		n = str_ulong_memo(&m, v);
		str_ulong(want, v);
		if (n != strlen(want) || strcmp(m.s, want))
			T_FAIL("%lu: '%s' (%zu), want '%s'", v, m.s, n, want);
	}
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		n = str_ulong_memo(&m, seq[i]);
		str_ulong(want, seq[i]);
		T_EQ_INT(n, strlen(want));
		T_EQ_STR(m.s, want);
	}
	for (v = 99999999999999990UL; v < 100000000000000010UL; v++) {
		str_ulong_memo(&m, v);
		str_ulong(want, v);
		T_EQ_STR(m.s, want);
	}
}

/* Steps of 2 to 9 (the line numbers of an X12 852's records go up by
 * 3) across carries into every digit and a new digit in front, and a
 * step of 10, which is written anew: what str_ulong writes. */
T_TEST(buf_str_ulong_memo_small_steps)
{
	static const unsigned long starts[] = {0, 1, 7, 95, 991, 99990,
					       (unsigned long)-40};
	struct str_ulong_memo m;
	char want[21];
	unsigned long v, step;
	size_t i, k, n;

	for (step = 2; step <= 10; step++)
		for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
			memset(&m, 0, sizeof(m));
			v = starts[i];
			for (k = 0; k < 3000 && v >= starts[i]; k++) {
				n = str_ulong_memo(&m, v);
				str_ulong(want, v);
				if (n != strlen(want) || strcmp(m.s, want))
					T_FAIL("+%lu to %lu: '%s' (%zu), want "
					       "'%s'", step, v, m.s, n, want);
				if (v > (unsigned long)-1 - step)
					break;
				v += step;
			}
		}
}

/* t_utf8.c - the one UTF-8 validator: well-formed characters decode,
 * overlongs, surrogates, code points past U+10FFFF, stray continuation
 * bytes and cut sequences are refused at the offset of their first byte. */
#include <string.h>

#include "lib/utf8.h"
#include "t.h"

static size_t chk(const char *s)
{
	return utf8_check((const unsigned char *)s, strlen(s));
}

static size_t dec(const char *s, size_t n, unsigned *cp)
{
	return utf8_char((const unsigned char *)s, n, cp);
}

T_TEST(utf8_decodes_each_length)
{
	unsigned cp = 0;

	T_EQ_INT(dec("A", 1, &cp), 1);
	T_EQ_INT(cp, 0x41);
	T_EQ_INT(dec("\xc3\xa9", 2, &cp), 2);
	T_EQ_INT(cp, 0xE9);
	T_EQ_INT(dec("\xe2\x82\xac", 3, &cp), 3);
	T_EQ_INT(cp, 0x20AC);
	T_EQ_INT(dec("\xed\x9f\xbf", 3, &cp), 3); /* U+D7FF, last before */
	T_EQ_INT(cp, 0xD7FF);
	T_EQ_INT(dec("\xee\x80\x80", 3, &cp), 3); /* U+E000, first after */
	T_EQ_INT(cp, 0xE000);
	T_EQ_INT(dec("\xf0\x9f\x98\x80", 4, &cp), 4);
	T_EQ_INT(cp, 0x1F600);
	T_EQ_INT(dec("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	T_EQ_INT(cp, 0x10FFFF);
}

T_TEST(utf8_refuses_ill_formed)
{
	unsigned cp = 7;

	/* Overlongs. */
	T_EQ_INT(dec("\xc0\xaf", 2, &cp), 0);
	T_EQ_INT(dec("\xc1\xbf", 2, &cp), 0);
	T_EQ_INT(dec("\xe0\x9f\xbf", 3, &cp), 0);
	T_EQ_INT(dec("\xf0\x8f\xbf\xbf", 4, &cp), 0);
	/* Surrogates U+D800..U+DFFF. */
	T_EQ_INT(dec("\xed\xa0\x80", 3, &cp), 0);
	T_EQ_INT(dec("\xed\xbf\xbf", 3, &cp), 0);
	/* Past U+10FFFF. */
	T_EQ_INT(dec("\xf4\x90\x80\x80", 4, &cp), 0);
	T_EQ_INT(dec("\xf5\x80\x80\x80", 4, &cp), 0);
	T_EQ_INT(dec("\xff", 1, &cp), 0);
	/* Stray continuation, bad continuation, cut short. */
	T_EQ_INT(dec("\x80", 1, &cp), 0);
	T_EQ_INT(dec("\xc3\x41", 2, &cp), 0);
	T_EQ_INT(dec("\xe2\x82\x41", 3, &cp), 0);
	T_EQ_INT(dec("\xe2\x82", 2, &cp), 0);
	T_EQ_INT(dec("\xf0\x9f\x98", 3, &cp), 0);
	T_EQ_INT(cp, 7); /* untouched on refusal */
}

T_TEST(utf8_check_gives_first_bad_offset)
{
	T_EQ_INT(chk(""), 0);
	T_EQ_INT(chk("plain ascii longer than eight bytes"), 35);
	T_EQ_INT(chk("Caf\xc3\xa9 cr\xc3\xa8me \xe2\x82\xac"), 16);
	T_EQ_INT(chk("abcdefghij\xed\xa0\x80xyz"), 10);
	T_EQ_INT(chk("ab\xc0\xaf"), 2);
	T_EQ_INT(chk("abcdefgh\xf4\x90\x80\x80"), 8);
	/* A character cut by the end of the buffer is bad at its lead. */
	T_EQ_INT(chk("abc\xe2\x82"), 3);
	T_EQ_INT(chk("\xc3\xa9\x80"), 2);
}

/* The terminal escaper: plain text unchanged, controls and bad bytes as
 * \xNN, a cut copy ends in "..." and never inside an escape. */
T_TEST(utf8_term_copy_escapes)
{
	char out[64];

	T_EQ_INT(utf8_term_copy(out, sizeof(out), "M\xc3\xbcnchen.csv", 12, 0),
		 12);
	T_EQ_STR(out, "M\xc3\xbcnchen.csv");
	utf8_term_copy(out, sizeof(out), "a\x1b[2J\x7f\n\t\xe9\xc2\x85z", 12, 0);
	T_EQ_STR(out, "a\\x1b[2J\\x7f\\x0a\t\\xe9\\xc2\\x85z");
	utf8_term_copy(out, sizeof(out), "a\nb", 3, 1);
	T_EQ_STR(out, "a\nb");
	T_EQ_INT(utf8_term_copy(out, 10, "\x1b\x1b\x1b\x1b", 4, 0), 7);
	T_EQ_STR(out, "\\x1b...");
}

/* utf8_check looks at whole words first: a character or a bad byte at
 * every position of every length up to three words gives the offset a
 * character-by-character walk gives. */
T_TEST(utf8_check_words_match_a_walk)
{
	static const char *const ins[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
		"\x80", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80",
	};
	unsigned char in[32];
	size_t n, pos, x, j;

	for (n = 1; n <= 24; n++)
		for (pos = 0; pos < n; pos++)
			for (x = 0; x < sizeof(ins) / sizeof(ins[0]); x++) {
				size_t l = strlen(ins[x]), want = 0, got;
				unsigned cp;

				for (j = 0; j < n; j++)
					in[j] = (unsigned char)('a' + j % 26);
				memcpy(in + pos, ins[x],
				       pos + l <= n ? l : n - pos);
				while (want < n) {
					size_t k = in[want] < 0x80
							   ? 1
							   : utf8_char(in + want,
								       n - want,
								       &cp);
					if (!k)
						break;
					want += k;
				}
				got = utf8_check(in, n);
				if (got != want)
					T_FAIL("%zu bytes, insert %zu at %zu: %zu, want %zu",
					       n, x, pos, got, want);
			}
}

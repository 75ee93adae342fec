/* t_dec.c - exact decimals: no double anywhere, so 0.1 + 0.2 is 0.3. */
#include <string.h>

#include "transforms/model/dec.h"
#include "t.h"

static const char *fmt(dec v)
{
	static char out[32];

	dec_format(v, out);
	return out;
}

T_TEST(dec_sum_is_exact)
{
	dec a, b, s;

	T_EQ_INT(dec_parse("0.1", 3, '.', 0, &a), 0);
	T_EQ_INT(dec_parse("0.2", 3, '.', 0, &b), 0);
	T_EQ_INT(dec_add(a, b, &s), 0);
	T_EQ_STR(fmt(s), "0.3");
	/* 13-digit counts keep their last digit. */
	T_EQ_INT(dec_parse("4006381333931", 13, '.', 0, &a), 0);
	T_EQ_STR(fmt(a), "4006381333931");
}

T_TEST(dec_comma_implied_and_refusals)
{
	dec v;

	T_EQ_INT(dec_parse(" 12,50 ", 7, ',', 0, &v), 0);
	T_EQ_STR(fmt(v), "12.5");
	T_EQ_INT(dec_parse("1250", 4, '.', 2, &v), 0);
	T_EQ_STR(fmt(v), "12.5");
	T_EQ_INT(dec_parse("-0.250000000", 12, '.', 0, &v), 0);
	T_EQ_STR(fmt(v), "-0.25");
	T_EQ_INT(dec_parse("1.2345678", 9, '.', 0, &v), -1); /* 7 decimals */
	T_EQ_INT(dec_parse("1.000", 5, ',', 0, &v), -1); /* no thousands */
	T_EQ_INT(dec_parse("12,5x", 5, ',', 0, &v), -1);
	T_EQ_INT(dec_parse("", 0, '.', 0, &v), -1);
	T_EQ_INT(dec_parse("99999999999999999999", 20, '.', 0, &v), -1);
}

T_TEST(dec_mul_and_floor)
{
	dec a, b, r;

	T_EQ_INT(dec_parse("2.5", 3, '.', 0, &a), 0);
	T_EQ_INT(dec_parse("12", 2, '.', 0, &b), 0);
	T_EQ_INT(dec_mul(a, b, &r), 0);
	T_EQ_STR(fmt(r), "30");
	T_EQ_STR(fmt(dec_floor_to(DEC_FROM_INT(7), DEC_FROM_INT(3))), "6");
	T_EQ_STR(fmt(dec_floor_to(-DEC_FROM_INT(1), DEC_FROM_INT(3))), "-3");
	T_EQ_INT(dec_mul(INT64_MAX / 2, DEC_FROM_INT(3), &r), -1);
}

/* An optional minus and 1-12 digits take dec_parse's short path; the
 * same text between blanks takes the general one. Both give the same
 * answer for every length, with leading zeros, signs and a stray byte,
 * and implied decimals still apply. */
T_TEST(dec_parse_digits_path_agrees)
{
	static const char *const tails[] = {"", "x", ".", ".5", "-", " "};
	char s[32], pad[40];
	size_t len, t, sg, z;
	dec a, b;
	int ra, rb;

	for (len = 0; len <= 14; len++)
		for (sg = 0; sg < 3; sg++)
			for (z = 0; z < 2; z++)
				for (t = 0; t < sizeof(tails) / sizeof(tails[0]);
				     t++) {
					size_t k = 0, i;

					if (sg)
						s[k++] = sg == 1 ? '-' : '+';
					for (i = 0; i < len; i++)
						s[k++] = (char)(z && i < 2 ? '0'
								: '1' + (i * 7) % 9);
					s[k] = '\0';
					strcat(s, tails[t]);
					k = strlen(s);
					snprintf(pad, sizeof(pad), " %s ", s);
					ra = dec_parse(s, k, '.', 0, &a);
					rb = dec_parse(pad, k + 2, '.', 0, &b);
					if (ra != rb || (!ra && a != b))
						T_FAIL("'%s': %d %lld, padded %d %lld",
						       s, ra, (long long)a, rb,
						       (long long)b);
				}
	T_EQ_INT(dec_parse("-7", 2, '.', 0, &a), 0);
	T_EQ_STR(fmt(a), "-7");
	T_EQ_INT(dec_parse("007", 3, '.', 0, &a), 0);
	T_EQ_STR(fmt(a), "7");
	T_EQ_INT(dec_parse("1250", 4, '.', 2, &a), 0);
	T_EQ_STR(fmt(a), "12.5");
	T_EQ_INT(dec_parse("999999999999", 12, '.', 0, &a), 0);
	T_EQ_STR(fmt(a), "999999999999");
}

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

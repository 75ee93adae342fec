/* t_filepat.c - source file-name patterns: plain globs as before, named
 * captures and dates, names that do not match, syntax errors. */
#include <stdio.h>
#include <string.h>

#include "transforms/mapping/filepat.h"
#include "t.h"

T_TEST(filepat_plain_globs_as_before)
{
	struct err e = ERR_INIT;

	T_EQ_INT(filepat_match("*.csv", "stock.csv", NULL, &e), 1);
	T_EQ_INT(filepat_match("*.csv", ".hidden.csv", NULL, &e), 0);
	T_EQ_INT(filepat_match("stock_*.csv", "stock_F012.csv", NULL, &e), 1);
	T_EQ_INT(filepat_match("stock_?.csv", "stock_12.csv", NULL, &e), 0);
	T_EQ_INT(filepat_match("[ab]*.x12", "a1.x12", NULL, &e), 1);
	T_EQ_INT(filepat_match("*", "any name", NULL, &e), 1);
	T_EQ_INT(e.code, E_NONE);
	T_OK(filepat_check("*.csv", &e), &e);
}

T_TEST(filepat_captures_and_dates)
{
	struct filepat_caps c;
	struct err e = ERR_INIT;
	const char *p = "stock_{store}_{date:%Y%m%d}.csv";
	char names[FILEPAT_MAX_CAPS][FILEPAT_NAME_MAX];

	T_OK(filepat_check(p, &e), &e);
	T_EQ_INT(filepat_names(p, names, FILEPAT_MAX_CAPS), 2);
	T_EQ_STR(names[0], "store");
	T_EQ_STR(names[1], "date");
	T_EQ_INT(filepat_match(p, "stock_F012_20261120.csv", &c, &e), 1);
	T_EQ_INT(c.n, 2);
	T_EQ_STR(c.name[0], "store");
	T_EQ_STR(c.value[0], "F012");
	T_EQ_STR(c.name[1], "date");
	T_EQ_STR(c.value[1], "2026-11-20T00:00:00Z");
	/* an underscore in the store: {store} grows until the rest
	 * (_, eight digits, .csv) matches */
	T_EQ_INT(filepat_match(p, "stock_F_012_20261120.csv", &c, &e), 1);
	T_EQ_STR(c.value[0], "F_012");
	T_EQ_INT(filepat_match("{a}_{b}.csv", "x_y_z.csv", &c, &e), 1);
	T_EQ_STR(c.value[0], "x");
	T_EQ_STR(c.value[1], "y_z");
	/* names that do not match */
	T_EQ_INT(filepat_match(p, "stock_F012_2026112.csv", &c, &e), 0);
	T_EQ_INT(filepat_match(p, "stock_F012_2026112x.csv", &c, &e), 0);
	T_EQ_INT(filepat_match(p, "stock_F012_20261120.csv.part", &c, &e), 0);
	T_EQ_INT(filepat_match(p, "items_20261120.csv", &c, &e), 0);
	T_EQ_INT(filepat_match("{a}.csv", "d/x.csv", &c, &e), 0);
	T_EQ_INT(filepat_match("{a}.csv", ".x.csv", &c, &e), 0);
	T_EQ_INT(e.code, E_NONE);
	/* the shape matches, the value is no date: reported, not skipped */
	T_EQ_INT(filepat_match(p, "stock_F012_20261399.csv", &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "'20261399' is not a date of the form {date:%Y%m%d}"));
	err_clear(&e);
	/* other directives, a glob piece, a literal brace and a class */
	T_EQ_INT(filepat_match("inv_{t:%d%b%y-%H%M}_*.xml",
			       "inv_05dec26-0630_acme.xml", &c, &e), 1);
	T_EQ_STR(c.value[0], "2026-12-05T06:30:00Z");
	T_EQ_INT(filepat_match("x\\{{id}}.csv", "x{42}.csv", &c, &e), 1);
	T_EQ_STR(c.value[0], "42");
	T_EQ_INT(filepat_match("[{]{id}.csv", "{7.csv", &c, &e), 1);
	T_EQ_STR(c.value[0], "7");
	T_EQ_INT(filepat_match("{y:%y}.csv", "99.csv", &c, &e), 1);
	T_EQ_STR(c.value[0], "1999-01-01T00:00:00Z");
}

static void check_bad(const char *pat, const char *why, int *failed)
{
	struct err e = ERR_INIT;

	if (filepat_check(pat, &e) == 0 || e.code != E_CONFIG ||
	    !strstr(e.reason, why)) {
		fprintf(stderr, "  pattern '%s': got '%s', want '%s'\n", pat,
			e.reason, why);
		*failed = 1;
	}
}

T_TEST(filepat_check_errors)
{
	int failed = 0;

	check_bad("a{", "a capture is {name}", &failed);
	check_bad("a{}", "a capture is {name}", &failed);
	check_bad("{1x}", "a capture is {name}", &failed);
	check_bad("{store", "has no closing '}'", &failed);
	check_bad("{d:%Y%m%d", "has no closing '}'", &failed);
	check_bad("{d:%Q}", "unknown date directive '%Q'", &failed);
	check_bad("{d:%m%d}", "needs a year", &failed);
	check_bad("{a}_{a}", "capture 'a' appears twice", &failed);
	check_bad("{name}.csv", "capture name 'name' is reserved", &failed);
	check_bad("{a}{b}{c}{d}{e}{f}{g}{h}{i}", "at most 8 captures", &failed);
	T_ASSERT(!failed);
}


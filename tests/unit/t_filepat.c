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


/* A target's file-name template is checked against every value it can
 * take: the largest run id, the widest time, the "_NNNN" of a rerun. */
T_TEST(filepat_name_check_templates)
{
	static const struct {
		const char *tmpl, *why; /* why NULL: accepted */
	} c[] = {
		{"{target}_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}", NULL},
		{"items_{run_id}.{ext}", NULL},
		{"{utc:%Y/%m}/x.{ext}", "'/'"},
		{"..", "not a file name"},
		{"{target}\\x.{ext}", "'\\'"},
		{"a\nb.{ext}", "control character 0x0a"},
		{"x\x1b[2J.{ext}", "control character 0x1b"},
		{"{nope}.{ext}", "unknown placeholder '{nope}'"},
		{"x_{run_id.{ext}", "unknown placeholder"},
		{"x_{utc:%Q}.{ext}", "bad time format '%Q'"},
		{"x_{run_id", "unclosed '{'"},
	};
	struct err e = ERR_INIT;
	char big[300];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int rc = filepat_name_check(c[i].tmpl, "shop", "csv", &e);

		if (!c[i].why) {
			T_OK(rc, &e);
			continue;
		}
		T_EQ_INT(rc, -1);
		T_EQ_INT(e.code, E_CONFIG);
		if (!strstr(e.reason, c[i].why))
			T_FAIL("'%s': got '%s', want ...%s...", c[i].tmpl,
			       e.reason, c[i].why);
		err_clear(&e);
	}
	/* Empty: {ext} of an empty extension. */
	T_EQ_INT(filepat_name_check("{ext}", "shop", "", &e), -1);
	T_ASSERT(strstr(e.reason, "not a file name") != NULL);
	err_clear(&e);
	/* 227 literal bytes + a 19-digit run id + ".csv" + 5 for "_NNNN"
	 * = 255: fits; one byte more is 256: refused. */
	memset(big, 'a', 227);
	strcpy(big + 227, "{run_id}.{ext}");
	T_OK(filepat_name_check(big, "shop", "csv", &e), &e);
	memset(big, 'a', 228);
	strcpy(big + 228, "{run_id}.{ext}");
	T_EQ_INT(filepat_name_check(big, "shop", "csv", &e), -1);
	T_ASSERT(strstr(e.reason, "up to 256 bytes") != NULL);
	err_clear(&e);
	/* What the run renders with real values. */
	T_OK(filepat_name_expand("{target}_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}",
				 "shop", 7, 1795154400, "csv", big, sizeof(big),
				 &e),
	     &e);
	T_EQ_STR(big, "shop_7_20261120T060000Z.csv");
}

/* t_expr.c - the expression language on its own (transforms/mapping/
 * expr_*.c): every function, compile errors with their message and
 * column, conditions, evaluation through the run-time hooks, and the
 * questions the mapping compiler asks about a compiled tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/mapping/expr.h"
#include "t.h"

/* ---- expressions over constants ------------------------------------- */

static struct lookup *test_lookup;

static struct lookup *find_lookup(void *ud, const char *name)
{
	(void)ud;
	return test_lookup && !strcmp(name, lookup_name(test_lookup))
		       ? test_lookup
		       : NULL;
}

/* Evaluates text; returns 0 with out set ("<absent>" for no value), or
 * -1 with the compile or run error in *e. */
static int ev(const char *text, char *out, size_t n, struct err *e)
{
	struct expr_pool pool;
	struct expr_scope sc;
	struct expr_rt rt;
	struct expr *x;
	struct expr_val v;
	struct arena a;
	int rc = -1;

	expr_pool_init(&pool);
	arena_init(&a, 1024, 0);
	memset(&sc, 0, sizeof(sc));
	sc.bare_const = 1;
	sc.lookup = find_lookup;
	sc.file = "expr";
	sc.line = 1;
	sc.col = 1;
	memset(&rt, 0, sizeof(rt));
	rt.a = &a;
	rt.first_bare = -1;
	if (expr_compile(&pool, &sc, text, strlen(text), 0, &x, e) == 0 &&
	    expr_eval(x, &rt, &v, e) == 0) {
		if (v.s)
			snprintf(out, n, "%.*s", (int)v.n, v.s);
		else
			snprintf(out, n, "<absent>");
		rc = 0;
	}
	arena_release(&a);
	expr_pool_release(&pool);
	return rc;
}

#define T_EV(text, want)                                                   \
	do {                                                               \
		char o_[256];                                              \
		struct err e_ = ERR_INIT;                                  \
		T_OK(ev((text), o_, sizeof(o_), &e_), &e_);                \
		T_EQ_STR(o_, (want));                                      \
	} while (0)

#define T_EV_FAIL(text, want_code, why)                                         \
	do {                                                               \
		char o_[256];                                              \
		struct err e_ = ERR_INIT;                                  \
		T_EQ_INT(ev((text), o_, sizeof(o_), &e_), -1);             \
		T_EQ_INT(e_.code, (want_code));                               \
		if (!strstr(e_.reason, (why)))                             \
			T_FAIL("reason '%s' lacks '%s'", e_.reason, (why)); \
	} while (0)

T_TEST(expr_text_functions)
{
	T_EV("\"  Käse \" | trim", "Käse");
	T_EV("\"  x \" | ltrim", "x ");
	T_EV("\"  x \" | rtrim", "  x");
	T_EV("\"\xC2\xA0 nbsp\xC2\xA0\" | trim", "nbsp");
	T_EV("\"00123\" | lstrip(\"0\")", "123");
	T_EV("\"12.500\" | rstrip(\"0\")", "12.5");
	T_EV("\"--a--\" | strip(\"-\")", "a");
	T_EV("\"crème brûlée\" | upper", "CRÈME BRÛLÉE");
	T_EV("\"ÄPFEL\" | lower", "äpfel");
	T_EV("\"42\" | pad(5, \"0\")", "00042");
	T_EV("\"123456\" | pad(3, \"0\")", "123456"); /* never truncates */
	T_EV("\"ab\" | rpad(4, \"_\")", "ab__");
	T_EV("\"Mühlenweg\" | substr(2, 4)", "ühle");
	T_EV("\"Mühlenweg\" | substr(7)", "weg");
	T_EV("\"a-b-c\" | replace(\"-\", \"/\")", "a/b/c");
	T_EV("concat(\"A\", \"-\", 7)", "A-7");
	T_EV("\"A\" | concat(\"-\", \"B\")", "A-B");
	T_EV("\"EA|12|x\" | split(\"|\", 2)", "12");
	T_EV("\"EA|12\" | split(\"|\", 3)", "<absent>");
	T_EV("\"stock_0412_20261120.csv\" | match(\"_([0-9]{8})\", 1)", "20261120");
	T_EV("\"nothing\" | match(\"[0-9]+\")", "<absent>");
}

T_TEST(expr_numbers_without_double)
{
	T_EV("\"12,50\" | decimal(comma:true)", "12.5");
	T_EV("\"1.234.567,89\" | decimal(comma:true, thousands:\".\")", "1234567.89");
	T_EV("\"1250\" | decimal(implied:2)", "12.5");
	T_EV("\"12,00-\" | decimal(comma:true, trailing_minus:true)", "-12");
	T_EV("\"0.1\" | decimal | multiply(3)", "0.3");
	T_EV("\"4\" | decimal | multiply(\"2.5\")", "10");
	T_EV("\"7\" | negate", "-7");
	T_EV("\"2.345\" | round(2)", "2.35");
	T_EV("\"-2.345\" | round(2)", "-2.35");
	T_EV("\"2\" | fixed(2)", "2.00");
	T_EV("\"2.5\" | fixed(0)", "3");
	T_EV_FAIL("\"12,5x\" | decimal(comma:true)", E_MAP, "not a number: '12,5x'");
	T_EV_FAIL("\"1,000\" | decimal", E_MAP, "not a number");   /* no thousands */
	T_EV("\"1.000\" | decimal", "1");
	T_EV_FAIL("\"12.34\" | decimal(comma:true, thousands:\".\")", E_MAP, "not a number");
	T_EV_FAIL("\"x\" | multiply(2)", E_MAP, "not a number");
}

T_TEST(expr_dates_and_zones)
{
	T_EV("\"20.11.2026 06:00\" | date(\"%d.%m.%Y %H:%M\", tz:\"Europe/Berlin\")",
	     "2026-11-20T05:00:00Z");
	T_EV("\"2026-07-01 12:00\" | date(\"%Y-%m-%d %H:%M\", tz:\"Europe/Berlin\")",
	     "2026-07-01T10:00:00Z");
	T_EV("\"20261120\" | date(\"%Y%m%d\")", "2026-11-20T00:00:00Z");
	T_EV("\"201126\" | date(\"%y%m%d\")", "2020-11-26T00:00:00Z");
	T_EV("\"5 Nov 2026\" | date(\"%d %b %Y\")", "2026-11-05T00:00:00Z");
	T_EV("\"2026-10-25 02:30\" | date(\"%Y-%m-%d %H:%M\", tz:\"Europe/Berlin\")",
	     "2026-10-25T00:30:00Z");
	T_EV("\"2026-10-25 02:30\" | date(\"%Y-%m-%d %H:%M\", tz:\"Europe/Berlin\", ambiguous:later)",
	     "2026-10-25T01:30:00Z");
	T_EV("\"2026-11-20T06:00:00+01:00\" | date(tz:\"America/New_York\")",
	     "2026-11-20T05:00:00Z"); /* an explicit offset wins */
	T_EV("\"2026-11-20T05:00:00Z\" | format_date(\"%d.%m.%Y %H:%M\", tz:\"Europe/Berlin\")",
	     "20.11.2026 06:00");
	T_EV_FAIL("\"2026-03-29 02:30\" | date(\"%Y-%m-%d %H:%M\", tz:\"Europe/Berlin\")",
		  E_MAP, "does not exist in Europe/Berlin");
	T_EV_FAIL("\"2026-10-25 02:30\" | date(\"%Y-%m-%d %H:%M\", tz:\"Europe/Berlin\", ambiguous:reject)",
		  E_MAP, "ambiguous");
	T_EV_FAIL("\"31.02.2026\" | date(\"%d.%m.%Y\")", E_MAP, "not a date");
	T_EV_FAIL("\"x\" | date(\"%Q\")", E_CONFIG, "unsupported directive '%Q'");
	T_EV_FAIL("\"x\" | date(\"%Y\", tz:\"Mars/Olympus\")", E_CONFIG, "unknown time zone");
}

T_TEST(expr_values_maps_and_conditions)
{
	T_EV("\"\" | default(EA)", "EA");
	T_EV("\"PK\" | default(EA)", "PK");
	T_EV("\"RES\" | map(OK:on_hand, RES:reserved)", "reserved");
	T_EV("\"ZZ\" | map(OK:on_hand, default:damaged)", "damaged");
	T_EV("\"\" | map(OK:on_hand)", ""); /* empty passes through */
	T_EV("delta if \"QS\" == \"QS\" else snapshot", "delta");
	T_EV("delta if \"QA\" in (\"QS\", \"QT\") else snapshot", "snapshot");
	T_EV("a if \"10\" > \"9\" else b", "a");              /* numbers, not text */
	T_EV("a if \"2026-01-02\" > \"2026-01-01T23:00Z\" else b", "a");
	T_EV("a if \" \" is empty and \"x\" is not empty else b", "a");
	T_EV("a if \"SKU-1\" matches \"^[A-Z]+-[0-9]+$\" else b", "a");
	T_EV("a if not (\"x\" == \"x\" or \"y\" == \"z\") else b", "b");
	T_EV_FAIL("\"ZZ\" | map(OK:on_hand)", E_MAP, "no map() entry for: 'ZZ'");
	T_EV_FAIL("\"\" | required", E_MAP, "required value is empty");
	T_EV_FAIL("a if \"x\" > \"1\" else b", E_MAP, "cannot compare");
}

/* Found by fuzz_ytree: a match() pattern with stacked or nested
 * repetition made regcomp() take gigabytes while the mapping compiled. */
T_TEST(expr_regex_repetition_is_bounded)
{
	static const char *bad[] = {
		"\"a\" | match(\"a++++++++++++++++++++++++\", 0)",
		"\"a\" | match(\"((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\", 0)",
		"\"a\" | match(\"((a{1000}){1000})\", 0)",
		"\"a\" | match(\"(x|y{30000})\", 0)",
		NULL};
	char o[64];
	struct err e = ERR_INIT;
	int i;

	for (i = 0; bad[i]; i++) {
		err_clear(&e);
		if (ev(bad[i], o, sizeof(o), &e) != -1)
			T_FAIL("compiled: %s", bad[i]);
		T_EQ_INT(e.code, E_CONFIG);
		T_ASSERT(strstr(e.reason, "too complex") != NULL);
	}
	err_clear(&e);
	T_OK(ev("\"x_20261120.csv\" | match(\"_([0-9]{8})[.]csv$\", 1)", o,
		sizeof(o), &e), &e);
	T_EQ_STR(o, "20261120");
	T_OK(ev("\"a]1{}\" | match(\"[]a[:digit:]]{3}[{][}]\", 0)", o,
		sizeof(o), &e), &e);
	T_EQ_STR(o, "a]1{}");
}

T_TEST(expr_compile_errors_point_at_columns)
{
	char o[64];
	struct err e = ERR_INIT;

	T_EQ_INT(ev("\"a\" | trimm", o, sizeof(o), &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_INT(e.col, 7);
	T_ASSERT(strstr(e.reason, "unknown function 'trimm'") != NULL);
	err_clear(&e);
	T_EQ_INT(ev("\"a\" | pad(x)", o, sizeof(o), &e), -1);
	T_EQ_INT(e.col, 11);
	err_clear(&e);
	T_EQ_INT(ev("\"a\" | decimal(coma:true)", o, sizeof(o), &e), -1);
	T_ASSERT(strstr(e.reason, "no option 'coma'") != NULL);
	err_clear(&e);
	T_EQ_INT(ev("\"a\" | match(\"(\")", o, sizeof(o), &e), -1);
	T_ASSERT(strstr(e.reason, "bad regular expression") != NULL);
	err_clear(&e);
	T_EQ_INT(ev("trim", o, sizeof(o), &e), 0); /* a bare word: constant */
	T_EQ_INT(ev("trim(\"a\")", o, sizeof(o), &e), -1);
	T_ASSERT(strstr(e.reason, "works on a value") != NULL);
	err_clear(&e);
	T_EQ_INT(ev("\"a\" | lookup(nope)", o, sizeof(o), &e), -1);
	T_ASSERT(strstr(e.reason, "unknown lookup 'nope'") != NULL);
	err_clear(&e);
	T_EQ_INT(ev("\"a\" \"b\"", o, sizeof(o), &e), -1);
	T_EQ_INT(e.col, 5);
	{
		int k;

		for (k = 0; expr_function_names[k]; k++)
			;
		T_EQ_INT(k, 26);
	}
}

T_TEST(expr_lookup_missing_policies)
{
	struct err e = ERR_INIT;
	struct lookup_opts o = {"code", "id", 0, NULL, 0};

	T_ASSERT(t_write_file("stores.csv", "code,id\n# comment\nF012,STORE-012\nF027,STORE-027\n") == 0);
	T_OK(lookup_load("stores.csv", "stores", &o, &test_lookup, &e), &e);
	T_EQ_INT(lookup_count(test_lookup), 2);
	T_EV("\"F027\" | lookup(stores)", "STORE-027");
	T_EV_FAIL("\"F099\" | lookup(stores)", E_MAP, "'F099' not found in lookup 'stores'");
	T_EV("\"F099\" | lookup(stores, missing:keep)", "F099");
	lookup_set_missing(test_lookup, LOOKUP_KEEP, NULL);
	T_EV("\"F099\" | lookup(stores)", "F099");
	T_EV_FAIL("\"F099\" | lookup(stores, missing:reject)", E_MAP, "not found");
	lookup_set_missing(test_lookup, LOOKUP_DEFAULT, "STORE-000");
	T_EV("\"F099\" | lookup(stores)", "STORE-000");
	T_EV("\"\" | lookup(stores)", "");
	lookup_free(test_lookup);
	test_lookup = NULL;

	T_ASSERT(t_write_file("dup.csv", "code,id\nA,1\nB,2\nA,3\n") == 0);
	T_EQ_INT(lookup_load("dup.csv", "d", &o, &test_lookup, &e), -1);
	T_ASSERT(strstr(e.reason, "key 'A' appears twice") != NULL);
	test_lookup = NULL;
}

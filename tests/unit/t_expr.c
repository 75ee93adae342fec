/* t_expr.c - the expression language on its own (transforms/mapping/
 * expr_*.c): every function, compile errors with their message and
 * column, conditions, evaluation through the run-time hooks, and the
 * questions the mapping compiler asks about a compiled tree. */
#include <regex.h>
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
	/* the empty value, which skips the strip */
	T_EV("a if \"\" is empty and not (\"\" is not empty) else b", "a");
	T_EV("a if \"\" is not empty or \" \" is not empty else b", "b");
	T_EV("a if \"SKU-1\" matches \"^[A-Z]+-[0-9]+$\" else b", "a");
	T_EV("a if not (\"x\" == \"x\" or \"y\" == \"z\") else b", "b");
	T_EV_FAIL("\"ZZ\" | map(OK:on_hand)", E_MAP, "no map() entry for: 'ZZ'");
	T_EV_FAIL("\"\" | required", E_MAP, "required value is empty");
	T_EV_FAIL("a if \"x\" > \"1\" else b", E_MAP, "cannot compare");
}

/* `matches` checks a ^[set]Q$ pattern without regexec (a fast path):
 * for every such pattern and every string of up to three bytes from an
 * alphabet around the sets' edges (and a few longer ones, and values
 * with a NUL inside), its answer is regexec's. Patterns of any other
 * shape are left to regexec. */
T_TEST(expr_matches_class_agrees_with_regexec)
{
	static const char *fast[] = {
		"^[0-9]+$", "^[0-9]*$", "^[0-9]$", "^[0-9]{2}$", "^[0-9]{0}$",
		"^[0-9]{1,3}$", "^[0-9]{2,}$", "^[A-Z0-9-]+$", "^[-a-c]+$",
		"^[a-c-]*$", "^[0-9A-Z.]{3}$", "^[b-yA]{1,2}$", "^[ _.,]+$",
		"^[3-5x]+$", "^[a]+$",
	};
	static const char *slow[] = {
		"^[0-9]+", "[0-9]+$", "^[^0-9]+$", "^[[:digit:]]+$", "^[]a]+$",
		"^[a-Z]+$", "^[9-0]+$", "^[0-9]++$", "^[0-9]{,3}$", "^[0-9]{3,2}$",
		"^[a-c-e]+$", "^[\\d]+$", "^[0-9]+$x", "^[0-9]+|x$", "^([0-9])+$",
		"^[.-9]+$", "^[0-9]{99999}$", "^[]$", "^[0-9]{2$",
	};
	static const char alpha[] = "0359abcxyzABYZ-._ [\\]^$\n\x80\xc3";
	static const char *longer[] = {
		"1234567890", "ABC-123", "abc..", "00000000000000000000000001",
		"12 3", "\xc3\xa4", "",
	};
	const size_t na = sizeof(alpha) - 1;
	struct expr_re_class rc;
	char s[8];
	size_t i, j, n;

	for (i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
		if (expr_re_class_parse(slow[i], &rc))
			T_FAIL("'%s' taken for a plain class", slow[i]);
	for (i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
		regex_t re;
		size_t k;

		if (!expr_re_class_parse(fast[i], &rc)) {
			T_FAIL("'%s' not taken for a plain class", fast[i]);
			continue;
		}
		T_ASSERT(regcomp(&re, fast[i], REG_EXTENDED | REG_NOSUB) == 0);
		/* every string of 0..3 bytes over alpha: na^3 + na^2 + na + 1 */
		for (k = 0; k < na * na * na + na * na + na + 1; k++) {
			size_t v = k, len = k == 0 ? 0 : k <= na ? 1
					    : k <= na + na * na ? 2 : 3;

			v -= len == 0 ? 0 : len == 1 ? 1 : len == 2 ? 1 + na
							      : 1 + na + na * na;
			for (n = 0; n < len; n++, v /= na)
				s[n] = alpha[v % na];
			s[len] = '\0';
			if (expr_re_class_match(&rc, s, len) !=
			    (regexec(&re, s, 0, NULL, 0) == 0)) {
				T_FAIL("'%s' on \"%s\": not regexec's answer",
				       fast[i], s);
				break;
			}
		}
		for (j = 0; j < sizeof(longer) / sizeof(longer[0]); j++)
			if (expr_re_class_match(&rc, longer[j], strlen(longer[j])) !=
			    (regexec(&re, longer[j], 0, NULL, 0) == 0))
				T_FAIL("'%s' on \"%s\": not regexec's answer",
				       fast[i], longer[j]);
		/* a NUL ends the string regexec sees */
		if (expr_re_class_match(&rc, "12\0x", 4) !=
		    (regexec(&re, "12", 0, NULL, 0) == 0))
			T_FAIL("'%s' on \"12\\0x\": not regexec's answer", fast[i]);
		regfree(&re);
	}
	/* and through a condition */
	T_EV("a if \"0042\" matches \"^[0-9]+$\" else b", "a");
	T_EV("a if \"42.0\" matches \"^[0-9]+$\" else b", "b");
	T_EV("a if \"\" matches \"^[0-9]*$\" else b", "a");
	T_EV("a if \"SKU-12\" matches \"^[A-Z0-9-]{3,6}$\" else b", "a");
	T_EV("a if \"SKU-123\" matches \"^[A-Z0-9-]{3,6}$\" else b", "b");
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
	struct lookup_opts o = {"code", "id", 0, NULL, 0, NULL};

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

/* ---- compile errors: message and position ---------------------------- */

struct cfail_case {
	const char *text;
	int cond;               /* compile as a condition */
	unsigned pos;           /* 0-based offset the error points at */
	const char *why;
};

/* Compiles text at f.yaml:7:10; returns 0 when it fails with E_CONFIG at
 * f.yaml:7:(10 + pos) with why in the message, -1 (and says why) when
 * not. */
static int cfail(const struct cfail_case *c)
{
	struct expr_pool pool;
	struct expr_scope sc;
	struct expr *x;
	struct expr_cond *cd;
	struct err e = ERR_INIT;
	int rc;

	expr_pool_init(&pool);
	memset(&sc, 0, sizeof(sc));
	sc.bare_const = 1;
	sc.file = "f.yaml";
	sc.line = 7;
	sc.col = 10;
	rc = c->cond ? expr_cond_compile(&pool, &sc, c->text, strlen(c->text),
					 &cd, &e)
		     : expr_compile(&pool, &sc, c->text, strlen(c->text), 0, &x,
				    &e);
	expr_pool_release(&pool);
	if (rc == 0) {
		fprintf(stderr, "    compiled: %s\n", c->text);
		return -1;
	}
	if (e.code != E_CONFIG || strcmp(e.file, "f.yaml") || e.line != 7 ||
	    e.col != 10 + c->pos || !strstr(e.reason, c->why)) {
		fprintf(stderr, "    %s: got %s:%lu:%u '%s' (code %d), want "
			"f.yaml:7:%u ...%s...\n", c->text, e.file, e.line,
			e.col, e.reason, e.code, 10 + c->pos, c->why);
		return -1;
	}
	return 0;
}

T_TEST(expr_parse_errors_message_and_position)
{
	static const struct cfail_case cases[] = {
		{"\"abc", 0, 0, "unterminated string"},
		{"$", 0, 0, "expected a variable name after '$'"},
		{"$nope", 0, 0, "unknown variable '$nope'"},
		{"\"a\" |", 0, 5, "expected a function name after '|'"},
		{"\"a\" | frobnicate", 0, 6, "unknown function 'frobnicate'"},
		{"\"a\" | pad(3", 0, 9, "missing ')'"},
		{"\"a\" | pad(3 4)", 0, 12, "expected ',' or ')'"},
		{"\"a\" | trim)", 0, 10,
		 "unexpected ')' (functions are chained with '|')"},
		{"\"a\" | negate(1)", 0, 6, "negate() takes 0 arguments, not 1"},
		{"\"a\" | pad()", 0, 6, "pad() takes 1 to 2 arguments, not 0"},
		{"\"a\" | map(1)", 0, 10, "map() takes only key:value pairs"},
		{"\"a\" | map(A: x, B: \"y\" | trim)", 0, 16,
		 "map() values must be constants"},
		{"\"a\" | lookup(\"x\")", 0, 13, "lookup() needs a name here"},
		{"\"a\" | decimal(implied:9)", 0, 14,
		 "implied: takes 0 to 6 decimals"},
		{"\"a\" | decimal(comma:maybe)", 0, 14,
		 "option 'comma' of decimal() is true or false, not 'maybe'"},
		{"\"a\" | decimal(thousands:\",\", comma:true)", 0, 14,
		 "thousands: is one character other than the decimal mark"},
		{"\"a\" | pad(\"x\")", 0, 10,
		 "argument 1 of pad() must be a whole number"},
		{"\"a\" | pad(3, \"ab\")", 0, 13,
		 "the fill of pad() must be one character"},
		{"\"a\" | strip(\"\")", 0, 12,
		 "strip() needs at least one character to strip"},
		{"\"a\" | replace(\"\", \"x\")", 0, 14,
		 "replace() cannot replace an empty string"},
		{"\"a\" | split(\"\", 1)", 0, 12, "split() needs a separator"},
		{"\"a\" | match(\"(x)\", 2)", 0, 19,
		 "the expression has only 1 group"},
		{"\"a\" | date(\"%Y\", ambiguous:maybe)", 0, 17,
		 "ambiguous: is earlier, later or reject"},
		{"x if \"a\" == \"b\"", 0, 15,
		 "expected 'else' after the condition"},
		{"\"a\" = \"b\"", 1, 4, "expected '==' or '!='"},
		{"\"a\" not \"b\"", 1, 8, "expected 'in' after 'not'"},
		{"\"a\" in \"b\"", 1, 7, "expected a list after 'in'"},
		{"\"a\" in (concat(\"b\"))", 1, 8,
		 "'in' takes a list of constants"},
		{"\"a\" in (\"b\" \"c\")", 1, 12, "expected ',' or ')'"},
		{"\"a\" is full", 1, 7, "expected 'empty' after 'is'"},
		{"\"a\" matches b", 1, 12,
		 "'matches' takes a quoted regular expression"},
		{"\"a\"", 1, 3, "expected a comparison after the value"},
		{"(\"a\" == \"b\"", 1, 0, "missing ')'"},
		{"\"a\" == \"b\" )", 1, 11, "unexpected ')' in the condition"},
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += cfail(&cases[i]) != 0;
	T_EQ_INT(bad, 0);
}

/* ---- evaluation through the run-time hooks ----------------------------- */

/* A toy embedding: paths are f.N (N one digit), $v is variable 5, the
 * bare word qty is field 3; other bare words are errors. */
static int h_path(void *ud, const char *s, size_t n, int *id, char *msg,
		  size_t msgn)
{
	(void)ud;
	if (n < 2 || s[0] != 'f' || s[1] != '.')
		return 0;
	if (n < 3 || s[2] < '0' || s[2] > '9') {
		snprintf(msg, msgn, "f. needs a digit");
		return -1;
	}
	*id = s[2] - '0';
	return 3;
}

static int h_var(void *ud, const char *name, int *id)
{
	(void)ud;
	if (strcmp(name, "v"))
		return 0;
	*id = 5;
	return 1;
}

static int h_bare(void *ud, const char *name, int *id)
{
	(void)ud;
	if (strcmp(name, "qty"))
		return 0;
	*id = 3;
	return 1;
}

/* Run time: f.N reads vals[N] (NULL: absent; f.9 fails), column N + 10. */
static const char *const vals[10] = {"", " 12,5 ", NULL, "A", "B"};

static int r_path(void *ud, int id, struct expr_val *out, unsigned *col,
		  struct err *err)
{
	(void)ud;
	if (id == 9)
		return err_set(err, E_MAP, "path 9 broke");
	out->s = vals[id];
	out->n = vals[id] ? strlen(vals[id]) : 0;
	*col = (unsigned)id + 10;
	return 0;
}

static int r_var(void *ud, int id, struct expr_val *out, struct err *err)
{
	(void)ud;
	(void)err;
	out->s = id == 5 ? "2026-11-20" : NULL;
	out->n = out->s ? strlen(out->s) : 0;
	return 0;
}

static int r_bare(void *ud, int id, struct expr_val *out, struct err *err)
{
	(void)ud;
	(void)err;
	out->s = id == 3 ? "7" : NULL;
	out->n = out->s ? 1 : 0;
	return 0;
}

struct hooked {
	struct expr_pool pool;
	struct expr_scope sc;
	struct expr_rt rt;
	struct arena a;
};

static void hooked_init(struct hooked *h)
{
	expr_pool_init(&h->pool);
	arena_init(&h->a, 1024, 0);
	memset(&h->sc, 0, sizeof(h->sc));
	h->sc.path = h_path;
	h->sc.var = h_var;
	h->sc.bare = h_bare;
	h->sc.bare_what = "field";
	h->sc.file = "h";
	h->sc.line = 1;
	h->sc.col = 1;
	memset(&h->rt, 0, sizeof(h->rt));
	h->rt.path = r_path;
	h->rt.var = r_var;
	h->rt.bare = r_bare;
	h->rt.a = &h->a;
	h->rt.first_bare = -1;
}

static void hooked_release(struct hooked *h)
{
	arena_release(&h->a);
	expr_pool_release(&h->pool);
}

/* Compiles and evaluates text with the hooks; "<absent>" for no value. */
static int hev(struct hooked *h, const char *text, char *out, size_t n,
	       struct err *e)
{
	struct expr *x;
	struct expr_val v;

	h->rt.col = 0;
	h->rt.first_bare = -1;
	if (expr_compile(&h->pool, &h->sc, text, strlen(text), 0, &x, e) ||
	    expr_eval(x, &h->rt, &v, e))
		return -1;
	if (v.s)
		snprintf(out, n, "%.*s", (int)v.n, v.s);
	else
		snprintf(out, n, "<absent>");
	return 0;
}

#define T_HEV(h, text, want)                                               \
	do {                                                               \
		char o_[256];                                              \
		struct err e_ = ERR_INIT;                                  \
		T_OK(hev((h), (text), o_, sizeof(o_), &e_), &e_);          \
		T_EQ_STR(o_, (want));                                      \
	} while (0)

T_TEST(expr_eval_reads_paths_variables_and_fields)
{
	struct hooked h;
	struct err e = ERR_INIT;
	char o[64];

	hooked_init(&h);
	T_HEV(&h, "f.1 | trim | decimal(comma:true)", "12.5");
	T_EQ_INT(h.rt.col, 11);         /* the column of the last path read */
	T_HEV(&h, "$v", "2026-11-20");
	T_HEV(&h, "qty | multiply(3)", "21");
	T_EQ_INT(h.rt.first_bare, 3);
	T_HEV(&h, "f.3 if qty > 5 else f.4", "A");
	T_HEV(&h, "f.3 if qty in (\"1\", \"2\") else f.4", "B");
	T_HEV(&h, "concat(f.3, \"-\", f.4, \"-\", $v)", "A-B-2026-11-20");
	T_HEV(&h, "f.2", "<absent>");
	T_HEV(&h, "f.2 | default(\"EA\")", "EA");
	T_HEV(&h, "\"qty\"", "qty");    /* quoted: a constant, not the field */
	/* a run-time failure of a hook is the evaluation's failure */
	T_EQ_INT(hev(&h, "f.9 | trim", o, sizeof(o), &e), -1);
	T_EQ_INT(e.code, E_MAP);
	T_EQ_STR(e.reason, "path 9 broke");
	/* compile-time: the path hook's message, an unknown bare word */
	err_clear(&e);
	T_EQ_INT(hev(&h, "\"a\" | concat(f.x)", o, sizeof(o), &e), -1);
	T_EQ_INT(e.col, 14);
	T_ASSERT(strstr(e.reason, "f. needs a digit") != NULL);
	err_clear(&e);
	T_EQ_INT(hev(&h, "qtty | trim", o, sizeof(o), &e), -1);
	T_EQ_INT(e.col, 1);
	T_ASSERT(strstr(e.reason, "unknown field 'qtty' (write constants in quotes)") != NULL);
	hooked_release(&h);
}

/* date() keeps its results by input (expr_func.c, date_memo): one
 * compiled call evaluated over many inputs, more than the memo has
 * slots so entries collide and are replaced, twice over, must give what
 * a fresh compile of each input gives; a bad value still fails. */
static const char *memo_in;

static int r_memo(void *ud, int id, struct expr_val *out, unsigned *col,
		  struct err *err)
{
	(void)ud;
	(void)id;
	(void)err;
	out->s = memo_in;
	out->n = strlen(memo_in);
	*col = 1;
	return 0;
}

/* One form of input per branch of the memo's key (expr_func.c
 * date_memo_has): shorter than 8 bytes, 8 to 16, longer than 16. The
 * i-th of 5000 distinct inputs of form f (some in the autumn's repeated
 * hour; the short form has days only). */
static const char *const memo_fmts[] = {
	"date(\"%y%m%d\")",
	"date(\"%Y-%m-%d %H:%M\", tz:\"Europe/Berlin\")",
	"date(tz:\"Europe/Berlin\")",
};

static void memo_input(size_t f, int i, char *out, size_t n)
{
	int day = 22 + i / 1440, hour = i / 60 % 24, min = i % 60;

	if (f == 0)
		snprintf(out, n, "26%02d%02d", 1 + i / 31 % 12, 1 + i % 28);
	else if (f == 1)
		snprintf(out, n, "2026-10-%02d %02d:%02d", day, hour, min);
	else
		snprintf(out, n, "2026-10-%02dT%02d:%02d:00", day, hour, min);
}

T_TEST(expr_date_memo_gives_what_a_fresh_parse_gives)
{
	struct hooked h;
	struct err e = ERR_INIT;
	struct expr *x;
	struct expr_val v;
	char in[48], core[40], text[160], want[64];
	int pass, i, bad = 0;
	size_t f;

	hooked_init(&h);
	h.rt.path = r_memo;
	for (f = 0; f < sizeof(memo_fmts) / sizeof(memo_fmts[0]); f++) {
		snprintf(text, sizeof(text), "f.1 | %s", memo_fmts[f]);
		T_OK(expr_compile(&h.pool, &h.sc, text, strlen(text), 0, &x,
				  &e), &e);
		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < 5000; i++) {
				/* every 7th with blanks around it */
				memo_input(f, i, core, sizeof(core));
				snprintf(in, sizeof(in), "%s%s%s",
					 i % 7 ? "" : "  ", core,
					 i % 7 ? "" : " ");
				memo_in = in;
				snprintf(text, sizeof(text), "\"%s\" | %s", in,
					 memo_fmts[f]);
				err_clear(&e);
				T_OK(ev(text, want, sizeof(want), &e), &e);
				err_clear(&e);
				arena_reset(&h.a);
				if (expr_eval(x, &h.rt, &v, &e) ||
				    v.n != strlen(want) ||
				    memcmp(v.s, want, v.n) || v.s[v.n]) {
					if (bad++ < 3)
						T_FAIL("form %zu pass %d '%s': want %s",
						       f, pass, in, want);
				}
			}
			/* a value that is not a date fails every time */
			memo_in = "2026-13-45 99:99";
			err_clear(&e);
			T_EQ_INT(expr_eval(x, &h.rt, &v, &e), -1);
			T_ASSERT(strstr(e.reason, "not a date/time") != NULL);
		}
	}
	T_EQ_INT(bad, 0);
	hooked_release(&h);
}

/* An absent value (an empty column, a missing segment) passes through
 * every function unchanged, so `| default(x)` or `| required` at the end
 * decide what it means. */
T_TEST(expr_absent_passes_through_functions)
{
	static const char *const chains[] = {
		"f.2 | trim", "f.2 | upper", "f.2 | pad(3, \"0\")",
		"f.2 | substr(2)", "f.2 | replace(\"a\", \"b\")",
		"f.2 | split(\"|\", 1)", "f.2 | match(\"x\")",
		"f.2 | decimal", "f.2 | multiply(2)", "f.2 | round(2)",
		"f.2 | date(\"%Y%m%d\")", "f.2 | format_date(\"%Y\")",
		"f.2 | map(A: b)", "f.2 | negate", NULL};
	struct hooked h;
	struct err e = ERR_INIT;
	char o[64];
	size_t i;

	hooked_init(&h);
	for (i = 0; chains[i]; i++) {
		err_clear(&e);
		if (hev(&h, chains[i], o, sizeof(o), &e))
			T_FAIL("%s: %s", chains[i], e.reason);
		if (strcmp(o, "<absent>"))
			T_FAIL("%s gave '%s', not absent", chains[i], o);
	}
	err_clear(&e);
	T_EQ_INT(hev(&h, "f.2 | trim | required", o, sizeof(o), &e), -1);
	T_EQ_INT(e.code, E_MAP);
	T_ASSERT(strstr(e.reason, "required value is empty") != NULL);
	hooked_release(&h);
}

static int collect(void *ud, const char *v, unsigned col)
{
	char *acc = ud;
	size_t l = strlen(acc);

	snprintf(acc + l, 128 - l, "%s%s@%u", l ? "," : "", v, col);
	return 0;
}

T_TEST(expr_questions_about_a_compiled_tree)
{
	struct hooked h;
	struct err e = ERR_INIT;
	struct expr *x;
	struct expr_cond *c;
	const char *s;
	char acc[128];

#define COMPILE(text) \
	T_OK(expr_compile(&h.pool, &h.sc, (text), strlen(text), 0, &x, &e), &e)
	hooked_init(&h);
	COMPILE("\"EA\"");
	T_ASSERT(expr_is_const(x, &s));
	T_EQ_STR(s, "EA");
	T_ASSERT(!expr_uses_input(x));
	COMPILE("\"EA\" | lower");
	T_ASSERT(!expr_is_const(x, &s));
	COMPILE("f.1 | map(A: on_hand, B: damaged) | trim | required");
	acc[0] = '\0';
	T_EQ_INT(expr_each_output(x, collect, acc), 1);
	T_EQ_STR(acc, "on_hand@14,damaged@26"); /* the values' columns */
	T_ASSERT(expr_uses_input(x));
	COMPILE("\"on_hand\" if qty == \"1\" else \"damaged\"");
	acc[0] = '\0';
	T_EQ_INT(expr_each_output(x, collect, acc), 1);
	T_EQ_STR(acc, "on_hand@1,damaged@30");
	T_ASSERT(expr_uses_input(x));   /* the condition reads qty */
	COMPILE("f.1 | upper");
	acc[0] = '\0';
	T_EQ_INT(expr_each_output(x, collect, acc), 0); /* an open set */
	T_EQ_STR(acc, "");
	T_OK(expr_cond_compile(&h.pool, &h.sc, "not (qty == \"1\")", 16, &c,
			       &e), &e);
	T_ASSERT(expr_cond_uses_bare(c, 3));
	T_ASSERT(!expr_cond_uses_bare(c, 4));
	hooked_release(&h);
#undef COMPILE
}

struct paths_seen {
	char buf[128];
	size_t o;
};

static int note_path(void *ud, int id, const char *src, size_t n,
		     unsigned col)
{
	struct paths_seen *p = ud;

	p->o += (size_t)snprintf(p->buf + p->o, sizeof(p->buf) - p->o,
				 "%d:%.*s@%u ", id, (int)n, src, col);
	return 0;
}

/* The paths an expression reads, for "what was read" in errors: also in
 * function arguments, if/else (its condition first) and later stages. */
T_TEST(expr_each_path_finds_every_path)
{
	struct hooked h;
	struct err e = ERR_INIT;
	struct paths_seen p;
	struct expr *x;
	const char *t = "concat(f.1, f.2) | default(f.3) if f.4 == \"a\" else f.5";

	hooked_init(&h);
	T_OK(expr_compile(&h.pool, &h.sc, t, strlen(t), 0, &x, &e), &e);
	memset(&p, 0, sizeof(p));
	T_EQ_INT(expr_each_path(x, note_path, &p), 0);
	T_EQ_STR(p.buf, "4:f.4@36 1:f.1@8 2:f.2@13 3:f.3@28 5:f.5@52 ");
	hooked_release(&h);
}

/* decimal() of 1-12 plain digits hands the trimmed input on as its own
 * canonical text; everything else is parsed and formatted: leading
 * zeros, 13 digits, implied decimals, signs give what they gave. */
T_TEST(expr_decimal_digits_are_their_own_text)
{
	T_EV("\"4363\" | decimal", "4363");
	T_EV("\" 42 \" | decimal", "42");
	T_EV("\"0\" | decimal", "0");
	T_EV("\"000\" | decimal", "0");
	T_EV("\"007\" | decimal(comma:true)", "7");
	T_EV("\"999999999999\" | decimal", "999999999999");
	T_EV("\"4006381333931\" | decimal", "4006381333931");
	T_EV("\"42\" | decimal(implied:2)", "0.42");
	T_EV("\"+5\" | decimal", "5");
	T_EV("\"5-\" | decimal(trailing_minus:true)", "-5");
	T_EV("\"1234\" | decimal(comma:true, thousands:\".\")", "1234");
	T_EV("\"12\" | decimal | multiply(3)", "36");
	T_EV_FAIL("\"12a\" | decimal", E_MAP, "not a number");
}

/* upper() and lower() skip whole ASCII words with nothing to change:
 * every byte at every position of values of 1-20 bytes (the rest
 * letters already in the wanted case, digits or '-') gives the byte
 * loop's answer, computed here byte by byte. */
T_TEST(expr_case_words_match_bytes)
{
	static const char fills[] = "A5-z";
	char text[64], in[24], want[24], o[64];
	size_t len, pos, f, i;
	unsigned b;
	int up;

	for (up = 0; up < 2; up++)
		for (f = 0; f < 4; f++)
			for (len = 1; len <= 20; len++)
				for (pos = 0; pos < len; pos++)
					for (b = 0x20; b < 0x7F; b++) {
						struct err e = ERR_INIT;
						char fc = fills[f];

						if (b == '"' || b == '\\')
							continue;
						if (fc == 'A' && !up)
							fc = 'a';
						if (fc == 'z' && up)
							fc = 'Z';
						memset(in, fc, len);
						in[len] = '\0';
						in[pos] = (char)b;
						for (i = 0; i <= len; i++) {
							unsigned char c = (unsigned char)in[i];

							want[i] = (char)(up && c >= 'a' && c <= 'z' ? c - 32
									 : !up && c >= 'A' && c <= 'Z' ? c + 32
									 : c);
						}
						snprintf(text, sizeof(text), "\"%s\" | %s", in,
							 up ? "upper" : "lower");
						T_OK(ev(text, o, sizeof(o), &e), &e);
						if (strcmp(o, want))
							T_FAIL("%s: '%s', want '%s'", text, o, want);
					}
}

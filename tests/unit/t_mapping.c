/* t_mapping.c - the expression language (every function), mapping
 * compile errors at exact file:line:col, lookups and their missing
 * policies, and mapping runs end to end (records, rejects, txn ids). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/io.h"
#include "transforms/mapping/expr.h"
#include "transforms/mapping/mapping.h"
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

/* ---- mapping files ---------------------------------------------------- */

/* Asserts mapping text fails to compile at m.yaml:line:col with why. */
static int compile_fails(const char *text, unsigned long line, unsigned col,
			 const char *why)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	char msg[1400];

	if (t_write_file("m.yaml", text))
		return -1;
	if (mapping_load("m.yaml", &m, &e) == 0) {
		fprintf(stderr, "    compiled, expected m.yaml:%lu:%u: %s\n", line,
			col, why);
		mapping_free(m);
		return -1;
	}
	err_format(&e, msg, sizeof(msg));
	if (e.code != E_CONFIG || strcmp(e.file, "m.yaml") || e.line != line ||
	    e.col != col || !strstr(e.reason, why)) {
		fprintf(stderr, "    got '%s' (code %d), want m.yaml:%lu:%u: ...%s...\n",
			msg, e.code, line, col, why);
		return -1;
	}
	return 0;
}

#define HEAD "input: { format: csv }\nrecords:\n  - kind: stock\n    fields:\n"
#define OKF  "      sku: col(sku)\n      location: S1\n      state: on_hand\n" \
	     "      quantity: col(q) | decimal\n      as_of: \"2026-11-20\"\n"

T_TEST(mapping_compile_errors_at_file_line_col)
{
	T_EQ_INT(compile_fails(HEAD OKF "      qty: col(q)\n", 10, 7,
			       "kind 'stock' has no field 'qty'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku) | no_such_function\n"
			       "      location: S1\n", 5, 23,
			       "unknown function 'no_such_function'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku)\n      location: col(s) | lookup(stores)\n",
			       6, 33, "unknown lookup 'stores'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku)\n      location: S1\n      state: on_hand\n"
			       "      quantity: col(q)\n", 4, 5,
			       "kind 'stock' needs field 'as_of'"), 0);
	T_EQ_INT(compile_fails(HEAD OKF "    rules:\n      - check: sku matches \"[\"\n",
			       11, 28, "bad regular expression"), 0);
	T_EQ_INT(compile_fails("input:\n  format: x13\nrecords: []\n", 2, 11,
			       "unknown format 'x13'"), 0);
	T_EQ_INT(compile_fails("input: { format: EDI }\n", 1, 18,
			       "unknown format 'EDI'"), 0);
	T_EQ_INT(compile_fails(HEAD OKF "      mode: snapshots\n", 10, 13,
			       "'snapshots' is not a valid mode"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku)\n      location: S1\n"
			       "      state: 'col(s) | map(A: on_hand, B: damgaed)'\n",
			       7, 43, "'damgaed' is not a valid state"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\ncontext:\n  d: col(x)\nrecords: []\n",
			       3, 6, "col() cannot be used in context"), 0);
	T_EQ_INT(compile_fails(HEAD OKF "    when: quantiy > 0\n", 10, 11,
			       "unknown field of kind stock 'quantiy'"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\nrecrods: []\n", 2, 1,
			       "unknown key 'recrods'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku) | decimal(comma: true)\n",
			       5, 36, "write name:value without a space"), 0);
	T_EQ_INT(compile_fails("input: { format: csv, header: false }\nrecords:\n  - kind: item\n"
			       "    fields:\n      sku: col(Artikel)\n", 5, 12,
			       "needs a header row"), 0);
}

T_TEST(mapping_rule_shorthand_and_check)
{
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("r.yaml", HEAD OKF "    rules:\n      - quantity >= 0\n") == 0);
	T_OK(mapping_check("r.yaml", &e), &e);
	T_ASSERT(t_write_file("r.yaml", HEAD OKF "    rules:\n      - quantity >== 0\n") == 0);
	T_EQ_INT(mapping_check("r.yaml", &e), -1);
	T_EQ_INT(e.line, 11);
	T_ASSERT(t_write_file("o.yaml", "outbound: x\nkind: stock\ncolumns:\n  - { name: a, value: sku }\n") == 0);
	err_clear(&e);
	T_OK(mapping_check("o.yaml", &e), &e);
}

struct collect {
	struct buf out;
	int records, rejects;
};

static int c_rec(void *ud, const struct canon_record *r, struct err *err)
{
	struct collect *c = ud;

	(void)err;
	c->records++;
	return canon_to_jsonl(r, &c->out);
}

static int c_rej(void *ud, const struct mapping_reject *rj, struct err *err)
{
	struct collect *c = ud;

	(void)err;
	c->rejects++;
	return mapping_reject_to_jsonl(rj, &c->out);
}

static int run_map(const char *mapping_text, const char *input,
		   struct collect *c, struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {c_rec, c_rej, c, NULL};
	struct mapping_doc doc = {"src", "in.csv", "in.csv",
				  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL};
	int rc;

	if (t_write_file("m.yaml", mapping_text) || t_write_file("in.csv", input))
		return -1;
	if (mapping_load("m.yaml", &m, e))
		return -1;
	rc = mapping_run(m, &doc, &sink, NULL, e);
	mapping_free(m);
	return rc;
}

T_TEST(mapping_run_records_rejects_and_txn_ids)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	const char *map =
		"mapping: t\n"
		"input: { format: csv, delimiter: \";\" }\n"
		"lookups:\n"
		"  stores: { file: stores.csv, key: code, value: id, missing: reject }\n"
		"context:\n"
		"  day: '$file | match(\"^(in)\", 1) | default(none)'\n"
		"records:\n"
		"  - kind: stock\n"
		"    when: state != \"on_order\"\n"
		"    fields:\n"
		"      sku: col(sku) | trim | upper | required\n"
		"      location: col(store) | lookup(stores)\n"
		"      state: 'col(st) | map(OK: on_hand, OO: on_order, default: damaged)'\n"
		"      quantity: col(qty) | decimal(comma:true)\n"
		"      as_of: col(ts) | date(\"%d.%m.%Y %H:%M\", tz:\"Europe/Berlin\")\n"
		"    rules:\n"
		"      - check: quantity >= 0\n"
		"        message: negative stock\n"
		"  - kind: item\n"
		"    fields:\n"
		"      sku: col(sku) | trim | upper\n"
		"      description: concat($day, \"/\", $line)\n";
	const char *in =
		"sku;store;st;qty;ts\n"
		"a1;F1;OK;12,5;20.11.2026 06:00\n"
		"a2;F1;OK;12,5x;20.11.2026 06:00\n"
		"a3;F9;OK;1;20.11.2026 06:00\n"
		"a4;F1;OO;1;20.11.2026 06:00\n"
		"a5;F1;XX;-2;20.11.2026 06:00\n"
		"a6;F1;OK\n";

	T_ASSERT(t_write_file("stores.csv", "code,id\nF1,STORE-1\n") == 0);
	T_OK(run_map(map, in, &c, &e), &e);
	T_EQ_INT(c.records, 3); /* a1 stock+item, a4 item (stock filtered) */
	T_EQ_INT(c.rejects, 4);
	T_EQ_STR(c.out.ptr,
		 "{\"kind\":\"stock\",\"sku\":\"A1\",\"location\":\"STORE-1\",\"state\":\"on_hand\",\"quantity\":\"12.5\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T05:00:00Z\",\"txn_id\":\"0123456789abcdef:2:0\",\"_source\":\"src\",\"_file\":\"in.csv\",\"_line\":2}\n"
		 "{\"kind\":\"item\",\"sku\":\"A1\",\"description\":\"in/2\",\"base_uom\":\"EA\",\"pack_size\":\"1\",\"status\":\"active\",\"txn_id\":\"0123456789abcdef:2:1\",\"_source\":\"src\",\"_file\":\"in.csv\",\"_line\":2}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":3,\"_col\":4,\"field\":\"quantity\",\"reason\":\"field 'quantity': not a number: '12,5x'\",\"raw\":\"a2;F1;OK;12,5x;20.11.2026 06:00\"}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":4,\"_col\":2,\"field\":\"location\",\"reason\":\"field 'location': 'F9' not found in lookup 'stores'\",\"raw\":\"a3;F9;OK;1;20.11.2026 06:00\"}\n"
		 "{\"kind\":\"item\",\"sku\":\"A4\",\"description\":\"in/5\",\"base_uom\":\"EA\",\"pack_size\":\"1\",\"status\":\"active\",\"txn_id\":\"0123456789abcdef:5:1\",\"_source\":\"src\",\"_file\":\"in.csv\",\"_line\":5}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":6,\"_col\":4,\"field\":\"quantity\",\"reason\":\"field 'quantity': negative stock (rule: quantity >= 0)\",\"raw\":\"a5;F1;XX;-2;20.11.2026 06:00\"}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":7,\"reason\":\"row has 3 fields, expected 5\",\"raw\":\"a6;F1;OK\"}\n");
	buf_release(&c.out);
}

T_TEST(mapping_missing_header_column_fails_document)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;

	T_EQ_INT(run_map("input: { format: csv }\nrecords:\n  - kind: location\n"
			 "    fields:\n      location_id: col(Standort)\n",
			 "id,name\n1,a\n", &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_STR(e.file, "in.csv");
	T_EQ_INT(e.line, 1);
	T_ASSERT(strstr(e.reason, "column 'Standort'") != NULL);
	T_EQ_INT(c.records, 0);
	buf_release(&c.out);
}

struct deps {
	int n;
	int lookup_seen;
	char sha[SHA256_HEX_LEN];
};

static void dep_cb(void *ud, const char *path, const char *sha)
{
	struct deps *d = ud;

	if (d->n++ == 0)
		snprintf(d->sha, sizeof(d->sha), "%s", sha);
	if (strstr(path, "codes.csv"))
		d->lookup_seen = 1;
}

T_TEST(mapping_headerless_preamble_and_deps)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	struct mapping *m = NULL;
	struct deps d = {0, 0, ""};
	char want[SHA256_HEX_LEN];
	uint64_t size;

	T_ASSERT(t_write_file("codes.csv", "k,v\nS1,x\n") == 0);
	T_OK(run_map("input:\n  format: csv\n  header: false\n  skip_lines: 1\n"
		     "  columns: [code, name]\n"
		     "lookups:\n  codes: { file: codes.csv, key: k, value: v, missing: keep }\n"
		     "context:\n  region: 'preamble(1) | match(\"Region: (.*)\", 1)'\n"
		     "records:\n  - kind: location\n    fields:\n"
		     "      location_id: col(code) | lookup(codes)\n      name: col(2) | upper\n"
		     "      region: $region\n      txn_id: concat($file, \"#\", $row)\n",
		     "Region: DE-BE\nS1,Berlin Mitte\nS2,Spandau\n", &c, &e), &e);
	T_EQ_INT(c.records, 2);
	T_ASSERT(strstr(c.out.ptr, "\"location_id\":\"x\",\"type\":\"store\",\"name\":\"BERLIN MITTE\",\"region\":\"DE-BE\",\"txn_id\":\"in.csv#1\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"location_id\":\"S2\",\"type\":\"store\",\"name\":\"SPANDAU\",\"region\":\"DE-BE\",\"txn_id\":\"in.csv#2\"") != NULL);
	buf_release(&c.out);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_EQ_STR(mapping_format(m), "csv");
	T_EQ_STR(mapping_name(m), "m");
	mapping_each_dep(m, dep_cb, &d);
	mapping_free(m);
	T_EQ_INT(d.n, 2);
	T_ASSERT(d.lookup_seen);
	T_OK(sha256_file("m.yaml", want, &size, &e), &e);
	T_EQ_STR(d.sha, want);
}

/* The shared real-world files through a whole mapping, when present. */
T_TEST(mapping_shared_real_files)
{
	const char *src = getenv("STOCKPIPE_SRCDIR");
	char p[4096];
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct mapping *m = NULL;
	struct mapping_sink sink = {c_rec, c_rej, &c, NULL};
	struct mapping_doc doc = {"", "bad.csv", p, NULL, NULL};
	struct mapping_stats st;
	struct err e = ERR_INIT;

	snprintf(p, sizeof(p), "%s/../shared/data/csv/errors/csvkit_bad_ragged_rows.csv",
		 src ? src : ".");
	if (access(p, R_OK))
		T_SKIP("shared data not present (%s)", p);
	T_ASSERT(t_write_file("m.yaml",
			      "input: { format: csv }\nrecords:\n  - kind: item\n"
			      "    fields:\n      sku: col(column_a) | required\n"
			      "      description: col(column_c)\n") == 0);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_OK(mapping_run(m, &doc, &sink, &st, &e), &e);
	mapping_free(m);
	/* Row 2 too long, row 3 too short, row 4 fine. */
	T_EQ_INT(st.input_records, 3);
	T_EQ_INT(st.rejects, 2);
	T_EQ_INT(st.records_out, 1);
	T_ASSERT(strstr(c.out.ptr, "\"_line\":2,\"reason\":\"row has 4 fields, expected 3\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"0\",\"description\":\"17\"") != NULL);
	buf_release(&c.out);

	/* Latin-1 declared: the copyright sign arrives as UTF-8. */
	snprintf(p, sizeof(p), "%s/../shared/data/csv/encoding/csvkit_test_latin1.csv",
		 src ? src : ".");
	if (access(p, R_OK))
		return;
	buf_init(&c.out, 1 << 20);
	T_ASSERT(t_write_file("m.yaml",
			      "input: { format: csv, encoding: iso-8859-1 }\nrecords:\n  - kind: item\n"
			      "    fields:\n      sku: col(a)\n      description: col(c)\n") == 0);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	doc.name = "latin1.csv";
	T_OK(mapping_run(m, &doc, &sink, &st, &e), &e);
	mapping_free(m);
	T_ASSERT(strstr(c.out.ptr, "\"description\":\"\xC2\xA9\"") != NULL);
	buf_release(&c.out);
}

/* Without a document hash from the caller, a default txn_id still starts
 * with the file's SHA-256 (computed when the first record needs it); a
 * missing file fails as before, naming the path. */
T_TEST(mapping_default_txn_id_hashes_the_file_itself)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct mapping *m = NULL;
	struct mapping_sink sink = {c_rec, c_rej, &c, NULL};
	struct mapping_doc doc = {"", "in.csv", "in.csv", NULL, NULL};
	char sha[SHA256_HEX_LEN], want[64];
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("m.yaml",
			      "input: { format: csv }\nrecords:\n  - kind: item\n"
			      "    fields:\n      sku: col(a)\n") == 0);
	T_ASSERT(t_write_file("in.csv", "a\nx\ny\n") == 0);
	T_OK(sha256_file("in.csv", sha, NULL, &e), &e);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_OK(mapping_run(m, &doc, &sink, NULL, &e), &e);
	snprintf(want, sizeof(want), "\"txn_id\":\"%.16s:3:0\"", sha);
	T_ASSERT(strstr(c.out.ptr, want) != NULL);
	doc.path = "missing.csv";
	T_EQ_INT(mapping_run(m, &doc, &sink, NULL, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, "cannot open 'missing.csv'") != NULL);
	mapping_free(m);
	buf_release(&c.out);
}

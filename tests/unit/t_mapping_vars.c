/* t_mapping_vars.c - the variables of an inbound mapping (transforms/
 * mapping/mapping_vars.c through mapping.h): which mappings read file
 * facts, and the check that a source's file patterns supply every
 * $file.NAME capture the mapping reads (refusals at the mapping's
 * file:line:col, naming the capture, the pattern and what it has). */
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

/* A CSV stock mapping whose description is expr. */
static int load(const char *expr, struct mapping **m, struct err *e)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "mapping: t\n"
		 "input: { format: csv, header: true }\n"
		 "records:\n"
		 "  - kind: item\n"
		 "    each: row\n"
		 "    fields:\n"
		 "      sku: col(sku)\n"
		 "      description: %s\n",
		 expr);
	if (t_write_file("m.yaml", text))
		return -1;
	return mapping_load("m.yaml", m, e);
}

T_TEST(mapping_vars_reads_facts)
{
	static const struct {
		const char *expr;
		int facts;
	} cases[] = {
		{"col(name)", 0},
		{"$file", 0},
		{"$source", 0},
		{"$file.name", 1},
		{"$file.mtime", 1},
		{"$file.fetched_at", 1},
		{"$run.started_at", 1},
		{"$now", 1},
		{"$file.store", 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mapping *m = NULL;
		struct err e = ERR_INIT;
		char msg[1200];

		if (load(cases[i].expr, &m, &e) < 0) {
			err_format(&e, msg, sizeof(msg));
			T_FAIL("%s: %s", cases[i].expr, msg);
		}
		if (mapping_reads_facts(m) != cases[i].facts) {
			mapping_free(m);
			T_FAIL("%s: reads_facts %d", cases[i].expr,
			       !cases[i].facts);
		}
		mapping_free(m);
	}
}

T_TEST(mapping_vars_patterns_supply_captures)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	const char *ok[] = {"stock_{store}_{date:%Y%m%d}.csv", "{store}.csv"};
	const char *lacks[] = {"{store}.csv", "stock_{day}_*.csv"};
	const char *none[] = {"*.csv"};

	T_OK(load("concat($file.store, $file.name)", &m, &e), &e);
	T_OK(mapping_check_patterns(m, ok, 2, NULL, &e), &e);
	/* The second pattern has only "day". */
	T_EQ_INT(mapping_check_patterns(m, lacks, 2, NULL, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_STR(e.file, "m.yaml");
	T_EQ_INT(e.line, 8);
	T_ASSERT(e.col > 0);
	T_ASSERT(strstr(e.reason, "$file.store is not a capture of the file "
				  "pattern 'stock_{day}_*.csv' (captures: day;"));
	err_clear(&e);
	T_EQ_INT(mapping_check_patterns(m, none, 1, NULL, &e), -1);
	T_ASSERT(strstr(e.reason, "'*.csv' (it has no captures;") != NULL);
	/* No pattern at all: the hint says how to give one. */
	err_clear(&e);
	T_EQ_INT(mapping_check_patterns(m, NULL, 0, "use --pattern", &e), -1);
	T_ASSERT(strstr(e.reason, "no pattern is given (use --pattern)"));
	err_clear(&e);
	T_EQ_INT(mapping_check_patterns(m, NULL, 0, NULL, &e), -1);
	T_ASSERT(strstr(e.reason, "no pattern is given") != NULL);
	T_ASSERT(strstr(e.reason, "(") == NULL);
	mapping_free(m);
	/* A mapping without captures is content with any pattern, or none. */
	T_OK(load("$file.name", &m, &e), &e);
	T_OK(mapping_check_patterns(m, NULL, 0, NULL, &e), &e);
	T_OK(mapping_check_patterns(m, none, 1, NULL, &e), &e);
	mapping_free(m);
}

/* A variable that is not a built-in, a fact or a capture name is refused
 * at its place in the mapping file. */
T_TEST(mapping_vars_unknown_variable_refused)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;

	T_EQ_INT(load("$nosuch", &m, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_STR(e.file, "m.yaml");
	T_EQ_INT(e.line, 8);
	T_ASSERT(strstr(e.reason, "nosuch") != NULL);
}

/* t_mapping_units.c - a mapping's `units:` section (transforms/mapping/
 * mapping_units.c through mapping.h): absent, a base unit, a table
 * relative to the mapping file, and each refusal at the mapping's
 * file:line with what is expected. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/err.h"
#include "transforms/mapping/mapping.h"
#include "transforms/model/dec.h"
#include "transforms/model/uom.h"
#include "t.h"

#define HEAD                                                            \
	"mapping: t\n"                                                  \
	"input: { format: csv, header: true }\n"                        \
	"records:\n"                                                    \
	"  - kind: stock\n"                                             \
	"    each: row\n"                                               \
	"    fields:\n"                                                 \
	"      sku: col(sku)\n"                                         \
	"      location: S1\n"                                          \
	"      state: on_hand\n"                                        \
	"      quantity: col(qty) | decimal\n"                          \
	"      mode: snapshot\n"                                        \
	"      as_of: col(at) | date\n"

/* Loads HEAD followed by tail from m/m.yaml; 0 or -1 with e. */
static int load(const char *tail, struct mapping **m, struct err *e)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", HEAD, tail);
	mkdir("m", 0755); /* may exist already */
	if (t_write_file("m/m.yaml", text))
		return -1;
	return mapping_load("m/m.yaml", m, e);
}

T_TEST(mapping_units_absent_means_nothing_declared)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	const struct mapping_units *u;

	T_OK(load("", &m, &e), &e);
	u = mapping_units(m);
	T_ASSERT(u != NULL);
	T_ASSERT(u->base_uom == NULL);
	T_ASSERT(u->table == NULL);
	mapping_free(m);
}

T_TEST(mapping_units_base_and_table_next_to_the_mapping)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	const struct mapping_units *u;
	dec f;

	T_ASSERT(mkdir("m", 0755) == 0);
	T_ASSERT(t_write_file("m/uom.csv", "from,to,factor\nCA,EA,12\n") == 0);
	T_OK(load("units:\n  base_uom: KG\n  table: uom.csv\n", &m, &e), &e);
	u = mapping_units(m);
	T_EQ_STR(u->base_uom, "KG");
	T_ASSERT(u->table != NULL);
	T_EQ_INT(uom_table_size(u->table), 1);
	T_EQ_INT(uom_table_factor(u->table, "CA", "EA", &f), 1);
	T_EQ_INT(uom_table_factor(u->table, "EA", "CA", &f), 0);
	mapping_free(m);
}

/* Each refusal names the mapping file, the line of the bad key and what
 * is expected. */
T_TEST(mapping_units_refusals_name_file_line_and_rule)
{
	static const struct {
		const char *tail;
		unsigned long line;
		const char *reason;
	} bad[] = {
		{"units: EA\n", 13, "units: is { base_uom: CODE, table: FILE }"},
		{"units:\n  base: EA\n", 14, "base"},
		{"units:\n  base_uom: [EA]\n", 14, "base_uom: is a unit code"},
		{"units:\n  base_uom: \"E A\"\n", 14, "base_uom: is a unit code"},
		{"units:\n  base_uom: E-A\n", 14, "base_uom: is a unit code"},
		{"units:\n  table: \"\"\n", 14, "table: is the path of a CSV file"},
		{"units:\n  table: absent.csv\n", 14, "uom table '"},
	};
	size_t i;

	T_ASSERT(mkdir("m", 0755) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mapping *m = NULL;
		struct err e = ERR_INIT;

		if (load(bad[i].tail, &m, &e) == 0) {
			mapping_free(m);
			T_FAIL("accepted: %s", bad[i].tail);
		}
		if (e.code != E_CONFIG || !strstr(e.file, "m/m.yaml") ||
		    e.line != bad[i].line || !strstr(e.reason, bad[i].reason))
			T_FAIL("%s: code %d at %s:%lu: %s", bad[i].tail, e.code,
			       e.file, e.line, e.reason);
	}
}

/* A table that does not parse fails the load at the table's own line. */
T_TEST(mapping_units_bad_table_names_the_table)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(mkdir("m", 0755) == 0);
	T_ASSERT(t_write_file("m/uom.csv",
			      "from,to,factor\nCA,EA,12\nPK,EA,0\n") == 0);
	T_EQ_INT(load("units:\n  table: uom.csv\n", &m, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.file, "uom.csv") != NULL);
	T_EQ_INT(e.line, 3);
}

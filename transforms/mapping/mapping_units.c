/* mapping_units.c - a mapping's `units:` section (docs/mapping.md "Units
 * of measure"): the base unit for items the item master does not
 * describe, and the uom table (from, to, factor) the load stage falls
 * back on. The mapping only declares them; converting is the load
 * stage's (pipeline/load_uom.c), because an item's base unit and pack
 * sizes come from the item master in the state store.
 *
 *   units:
 *     base_uom: EA                  # default EA
 *     table: ../lookups/uom.csv     # optional
 */
#include <string.h>

#include "mapping.h"
#include "mapping_int.h"
#include "transforms/model/uom.h"

int map_units_compile(struct mapping *m, struct err *err)
{
	const struct ynode *u = ynode_get(m->yt->root, "units");
	const struct ynode *b, *t;
	char *path;

	if (!u)
		return 0;
	if (u->type != Y_MAP)
		return ynode_err(m->yt, u, err, E_CONFIG,
				 "units: is { base_uom: CODE, table: FILE }");
	if (map_check_keys(m, u, ",base_uom,table,", "units", err))
		return -1;
	b = ynode_get(u, "base_uom");
	if (b) {
		struct uom_unit unit;
		struct err e2 = ERR_INIT;

		if (b->type != Y_SCALAR ||
		    uom_parse(b->value, &unit, &e2) < 0 || unit.factor)
			return ynode_err(m->yt, b, err, E_CONFIG,
					 "base_uom: is a unit code of 1 to %d "
					 "letters or digits (EA, KG)",
					 UOM_CODE_MAX);
		m->units.base_uom = b->value;
	}
	t = ynode_get(u, "table");
	if (t) {
		if (t->type != Y_SCALAR || !*t->value)
			return ynode_err(m->yt, t, err, E_CONFIG,
					 "table: is the path of a CSV file "
					 "(from, to, factor)");
		path = t->value[0] == '/'
			       ? arena_strdup(&m->pool.arena, t->value)
			       : arena_printf(&m->pool.arena, "%s/%s", m->dir,
					      t->value);
		if (!path)
			return err_set(err, E_NOMEM, "out of memory");
		if (!io_exists(path))
			return ynode_err(m->yt, t, err, E_CONFIG,
					 "uom table '%s' not found", path);
		if (uom_table_load(path, &m->units_table, err) < 0)
			return -1;
		if (sha256_file(path, m->units_sha, NULL, err) < 0)
			return -1;
		m->units_path = path;
		m->units.table = m->units_table;
	}
	return 0;
}

const struct mapping_units *mapping_units(const struct mapping *m)
{
	return &m->units;
}

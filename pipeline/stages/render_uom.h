/* render_uom.h - a target's `uom:` (docs/configuration.md, docs/mapping.md
 * "Units of measure"): positions are in base units; a target that wants
 * another unit (cases: `uom: CA`) gets each row's quantities divided by
 * the item's pack size for that unit (item master pack_sizes), rounded
 * down at DEC_DIGITS decimals (a published quantity never exceeds the
 * stock). An item without that pack size fails the render naming it, or,
 * with `uom_missing: base`, stays in its base unit; the row field `uom`
 * always names the unit of the row's quantities.
 */
#ifndef STOCKPIPE_RENDER_UOM_H
#define STOCKPIPE_RENDER_UOM_H

#include <stddef.h>

#include "pipeline/config.h"
#include "pipeline/store/state.h"
#include "transforms/model/dec.h"

/* Converts one row: atp and q[0..n) (base units of sku, whose item master
 * base unit is item_base, NULL: none, so EA) into t->uom where the item
 * has a factor; unit (17 bytes) receives the row's unit. 0 or -1 with
 * err. */
int render_uom_row(struct state *st, const struct cfg_target *t,
		   const char *sku, const char *item_base, dec *atp, dec *q,
		   size_t n, char *unit, struct err *err);

#endif

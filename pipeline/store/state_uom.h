/* state_uom.h - the units-of-measure tables of the state store (docs/
 * mapping.md "Units of measure"): item_units, an item's pack sizes as
 * typed rows, and stock_event_units, the unit of every stock event a
 * load converted. Written by the load stage (load_uom.c), read by the
 * load and render stages (render_uom.c); the SQL stays in the store.
 * Writes run inside the load's transaction.
 */
#ifndef STOCKPIPE_STATE_UOM_H
#define STOCKPIPE_STATE_UOM_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "transforms/model/uom.h"

/* *any = 1 when the items table holds a row. */
int state_uom_items_any(struct state *s, int *any, struct err *err);

/* sku's item master row: *found = 0 when it has none; base (at least
 * UOM_CODE_MAX + 1 bytes) its base unit ("" when absent or longer than a
 * unit code), packs[0..*npacks) its pack sizes in unit order (at most
 * max; codes longer than a unit code are left out). */
int state_uom_item(struct state *s, const char *sku, char *base,
		   struct uom_pack *packs, size_t max, size_t *npacks,
		   int *found, struct err *err);

/* *newer = 1 when sku's item row has an as_of later than as_of (an older
 * record does not overwrite it; as_of NULL is never older). */
int state_uom_item_newer(struct state *s, const char *sku,
			 const char *as_of, int *newer, struct err *err);

/* Replaces sku's pack sizes with packs[0..n), recorded as loaded by the
 * document doc (its map unit id) with as_of. */
int state_uom_packs_set(struct state *s, const char *sku,
			const struct uom_pack *packs, size_t n,
			const char *as_of, int64_t doc, struct err *err);

/* A converted stock event: txn_id's quantity was in_qty in_uom, factor
 * base units each, the unit found by origin ("same", "record", "item",
 * "table"); uom is the base unit. A txn_id already recorded is kept. */
struct state_uom_event {
	const char *txn_id, *sku, *uom, *in_uom, *origin;
	int64_t doc, in_qty, factor;
};
int state_uom_event_add(struct state *s, const struct state_uom_event *ev,
			struct err *err);

/* Forgets the converted events the document doc recorded (a load done
 * again records them again). */
int state_uom_doc_clear(struct state *s, int64_t doc, struct err *err);

/* *factor = base units of sku in one uom, 0 when the item has no such
 * pack size. */
int state_uom_factor(struct state *s, const char *sku, const char *uom,
		     int64_t *factor, struct err *err);


#endif

/* load_uom.h - units of measure at load (docs/mapping.md "Units of
 * measure"): the load stage's side of transforms/uom.h.
 *
 * A stock or price record whose unit is not its item's base unit is
 * converted before it is applied: the quantity (times the factor) or the
 * price (divided by it) in base units, the record's uom set to the base
 * unit, and for stock the event's unit kept in stock_event_units (typed:
 * base unit, unit as received, quantity as received, factor, where the
 * factor came from). A record no factor covers is rejected: written to
 * its document's reject file (the map stage's file, rewritten with the
 * load's rejects marked "stage":"load", so a redone load writes the same
 * file) and never applied. Item records keep their pack sizes in
 * item_units.
 *
 * Per load unit: open (before the unit's transaction: it may compile the
 * document's mapping), a record call per canonical record (inside it),
 * finish (inside it, before the unit is saved) or close on failure.
 */
#ifndef STOCKPIPE_LOAD_UOM_H
#define STOCKPIPE_LOAD_UOM_H

#include <stddef.h>

#include "lib/arena.h"
#include "lib/err.h"
#include "pipeline/store/state.h"
#include "transforms/model/canon.h"

struct load_uom;
struct src_ctx;

/* For the load unit u of source context sc: reads the mapping's units:
 * (the mapping its map unit used). 0 or -1 with err. */
int load_uom_open(struct src_ctx *sc, const struct state_unit *u,
		  struct load_uom **out, struct err *err);
/* Brings r (parsed from the canonical line line[0..n)) to base units,
 * new strings from a. Returns 0 (apply r), 1 (r is rejected: do not
 * apply it) or -1 with err (the load fails). */
int load_uom_record(struct load_uom *l, struct canon_record *r,
		    const char *line, size_t n, struct arena *a,
		    struct err *err);
/* Publishes the load's rejects into the document's reject file and
 * records the counts on u (rejects, detail) and units.converted; frees
 * l in every case. 0 or -1 with err. */
int load_uom_finish(struct load_uom *l, struct state_unit *u, struct err *err);
/* Frees l without publishing anything (the load failed). NULL is fine. */
void load_uom_close(struct load_uom *l);

#endif

/* state_uom.c - the units-of-measure tables; see state_uom.h.
 *
 * Statements run once per record of a load (or row of a render), so they
 * are prepared once per handle and kept in struct state (state_int.h).
 *
 * Tables: item_units, stock_event_units.
 */
#include "state_uom.h"
#include "db.h"
#include "state_int.h"

#include <string.h>

static const char *const uom_sql[SU_NSTMTS] = {
	[SU_ITEM] = "SELECT i.base_uom, u.uom, u.factor FROM items i"
		    " LEFT JOIN item_units u ON u.sku = i.sku"
		    " WHERE i.sku = ? ORDER BY u.uom",
	[SU_PACKS_DEL] = "DELETE FROM item_units WHERE sku = ?",
	[SU_PACK_ADD] = "INSERT INTO item_units(sku, uom, factor, as_of, doc)"
			" VALUES(?, ?, ?, ?, ?)",
	[SU_EV_ADD] = "INSERT INTO stock_event_units(txn_id, doc, sku, uom,"
		      " in_uom, in_qty, factor, origin)"
		      " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
	[SU_FACTOR] = "SELECT factor FROM item_units WHERE sku = ? AND uom = ?",
};

static struct db_stmt *stmt(struct state *s, enum su_stmt_id id,
			    struct err *err)
{
	if (!s->uom[id])
		s->uom[id] = db_prepare(s->db, uom_sql[id], 0, err);
	return s->uom[id];
}

void state_uom_close(struct state *s)
{
	int i;

	for (i = 0; i < SU_NSTMTS; i++) {
		db_finalize(s->uom[i]);
		s->uom[i] = NULL;
	}
}

int state_uom_items_any(struct state *s, int *any, struct err *err)
{
	struct db_stmt *p = db_prepare(s->db, "SELECT 1 FROM items LIMIT 1", 0,
				       err);
	int rc;

	*any = 0;
	if (!p)
		return -1;
	rc = db_step(p, err);
	*any = rc == 1;
	db_finalize(p);
	return rc < 0 ? -1 : 0;
}

int state_uom_item(struct state *s, const char *sku, char *base,
		   struct uom_pack *packs, size_t max, size_t *npacks,
		   int *found, struct err *err)
{
	struct db_stmt *p = stmt(s, SU_ITEM, err);
	int rc;

	*found = 0;
	*npacks = 0;
	base[0] = '\0';
	if (!p)
		return -1;
	/* One query: the base unit and every pack size (none: one row with
	 * a NULL uom). */
	db_bind_text(p, 1, sku);
	while ((rc = db_step(p, err)) == 1) {
		const char *b = db_col_text(p, 0), *c = db_col_text(p, 1);

		*found = 1;
		if (b && strlen(b) <= UOM_CODE_MAX)
			strcpy(base, b);
		if (c && strlen(c) <= UOM_CODE_MAX && *npacks < max) {
			strcpy(packs[*npacks].code, c);
			packs[(*npacks)++].factor = db_col_int64(p, 2);
		}
	}
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

int state_uom_item_newer(struct state *s, const char *sku,
			 const char *as_of, int *newer, struct err *err)
{
	struct db_stmt *p = db_prepare(
		s->db, "SELECT as_of FROM items WHERE sku = ?", 0, err);
	int rc;

	*newer = 0;
	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	rc = db_step(p, err);
	if (rc == 1 && as_of && db_col_text(p, 0) &&
	    strcmp(as_of, db_col_text(p, 0)) < 0)
		*newer = 1;
	db_finalize(p);
	return rc < 0 ? -1 : 0;
}

int state_uom_packs_set(struct state *s, const char *sku,
			const struct uom_pack *packs, size_t n,
			const char *as_of, int64_t doc, struct err *err)
{
	struct db_stmt *p = stmt(s, SU_PACKS_DEL, err);
	size_t i;

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	if (state_step_done(p, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!(p = stmt(s, SU_PACK_ADD, err)))
			return -1;
		db_bind_text(p, 1, sku);
		db_bind_text(p, 2, packs[i].code);
		db_bind_int64(p, 3, packs[i].factor);
		db_bind_text(p, 4, as_of);
		db_bind_int64(p, 5, doc);
		if (state_step_done(p, err) < 0)
			return -1;
	}
	return 0;
}

int state_uom_event_add(struct state *s, const struct state_uom_event *ev,
			struct err *err)
{
	struct db_stmt *p = stmt(s, SU_EV_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, ev->txn_id);
	db_bind_int64(p, 2, ev->doc);
	db_bind_text(p, 3, ev->sku);
	db_bind_text(p, 4, ev->uom);
	db_bind_text(p, 5, ev->in_uom);
	db_bind_int64(p, 6, ev->in_qty);
	db_bind_int64(p, 7, ev->factor);
	db_bind_text(p, 8, ev->origin);
	return state_step_done(p, err);
}

int state_uom_doc_clear(struct state *s, int64_t doc, struct err *err)
{
	struct db_stmt *p = db_prepare(
		s->db, "DELETE FROM stock_event_units WHERE doc = ?", 0, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, doc);
	rc = db_step(p, err);
	db_finalize(p);
	return rc < 0 ? -1 : 0;
}

int state_uom_factor(struct state *s, const char *sku, const char *uom,
		     int64_t *factor, struct err *err)
{
	struct db_stmt *p = stmt(s, SU_FACTOR, err);
	int rc;

	*factor = 0;
	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, uom);
	rc = db_step(p, err);
	if (rc == 1)
		*factor = db_col_int64(p, 0);
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

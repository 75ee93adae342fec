/* state_uom.c - the units-of-measure tables; see state_uom.h.
 *
 * Statements run once per record of a load (or row of a render); like
 * every statement of the store they are prepared once per handle
 * (state_int.h).
 *
 * Tables: item_units, stock_event_units.
 */
#include "state_uom.h"
#include "db.h"
#include "state_int.h"

#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_uom_sql[S_NSTMTS] = {
	[SU_ITEM] = {"SELECT i.base_uom, u.uom, u.factor FROM items i"
		     " LEFT JOIN item_units u ON u.sku = i.sku"
		     " WHERE i.sku = ? ORDER BY u.uom", 0},
	[SU_PACKS_DEL] = {"DELETE FROM item_units WHERE sku = ?", 0},
	[SU_PACK_ADD] = {"INSERT INTO item_units(sku, uom, factor, as_of, doc)"
			 " VALUES(?, ?, ?, ?, ?)", 0},
	[SU_EV_ADD] = {"INSERT INTO stock_event_units(txn_id, doc, sku, uom,"
		       " in_uom, in_qty, factor, origin)"
		       " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", 0},
	[SU_FACTOR] = {"SELECT factor FROM item_units WHERE sku = ? AND uom = ?", 0},
	[SU_ITEMS_ANY] = {"SELECT 1 FROM items LIMIT 1", 0},
	[SU_ITEM_AS_OF] = {"SELECT as_of FROM items WHERE sku = ?", 0},
	[SU_DOC_CLEAR] = {"DELETE FROM stock_event_units WHERE doc = ?", 0},
};

int state_uom_items_any(struct state *s, int *any, struct err *err)
{
	*any = 0;
	return state_rows(s, SU_ITEMS_ANY, SA_NONE, state_row_found, any, err);
}

struct item_units {
	char *base;
	struct uom_pack *packs;
	size_t max, *npacks;
	int found;
};

static int item_row(void *ud, struct db_stmt *p)
{
	struct item_units *x = ud;
	const char *b = db_col_text(p, 0), *c = db_col_text(p, 1);

	x->found = 1;
	if (b && strlen(b) <= UOM_CODE_MAX)
		strcpy(x->base, b);
	if (c && strlen(c) <= UOM_CODE_MAX && *x->npacks < x->max) {
		strcpy(x->packs[*x->npacks].code, c);
		x->packs[(*x->npacks)++].factor = db_col_int64(p, 2);
	}
	return 0;
}

int state_uom_item(struct state *s, const char *sku, char *base,
		   struct uom_pack *packs, size_t max, size_t *npacks,
		   int *found, struct err *err)
{
	struct item_units x = {base, packs, max, npacks, 0};
	int rc;

	*found = 0;
	*npacks = 0;
	base[0] = '\0';
	/* One query: the base unit and every pack size (none: one row with
	 * a NULL uom). */
	rc = state_rows(s, SU_ITEM, SA(SA_T(sku)), item_row, &x, err);
	*found = x.found;
	return rc;
}

struct newer {
	const char *as_of;
	int *newer;
};

static int newer_row(void *ud, struct db_stmt *p)
{
	struct newer *x = ud;
	const char *v = db_col_text(p, 0);

	if (x->as_of && v && strcmp(x->as_of, v) < 0)
		*x->newer = 1;
	return 1;
}

int state_uom_item_newer(struct state *s, const char *sku,
			 const char *as_of, int *newer, struct err *err)
{
	struct newer x = {as_of, newer};

	*newer = 0;
	return state_rows(s, SU_ITEM_AS_OF, SA(SA_T(sku)), newer_row, &x, err);
}

int state_uom_packs_set(struct state *s, const char *sku,
			const struct uom_pack *packs, size_t n,
			const char *as_of, int64_t doc, struct err *err)
{
	size_t i;

	if (state_exec(s, SU_PACKS_DEL, SA(SA_T(sku)), err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (state_exec(s, SU_PACK_ADD,
			       SA(SA_T(sku), SA_T(packs[i].code),
				  SA_I(packs[i].factor), SA_T(as_of),
				  SA_I(doc)),
			       err) < 0)
			return -1;
	return 0;
}

int state_uom_event_add(struct state *s, const struct state_uom_event *ev,
			struct err *err)
{
	return state_exec(s, SU_EV_ADD,
			  SA(SA_T(ev->txn_id), SA_I(ev->doc), SA_T(ev->sku),
			     SA_T(ev->uom), SA_T(ev->in_uom), SA_I(ev->in_qty),
			     SA_I(ev->factor), SA_T(ev->origin)),
			  err);
}

int state_uom_doc_clear(struct state *s, int64_t doc, struct err *err)
{
	return state_exec(s, SU_DOC_CLEAR, SA(SA_I(doc)), err);
}

static int factor_row(void *ud, struct db_stmt *p)
{
	*(int64_t *)ud = db_col_int64(p, 0);
	return 1;
}

int state_uom_factor(struct state *s, const char *sku, const char *uom,
		     int64_t *factor, struct err *err)
{
	*factor = 0;
	return state_rows(s, SU_FACTOR, SA(SA_T(sku), SA_T(uom)), factor_row,
			  factor, err);
}

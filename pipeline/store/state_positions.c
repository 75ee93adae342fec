/* state_positions.c - the state store's read-outs of the canonical
 * tables: positions (with their items and locations), items and prices,
 * and stock_events (a run's oldest event). Writing them is state_load.c's.
 * Every read of positions or events first applies the waiting load batch
 * (state_lb_apply). See state.h; the SQL is in state.c's statement table.
 */
#include "state.h"
#include "state_int.h"

#include <stdio.h>
#include <string.h>

/* This file's statements (state_int.h): SQL in the common dialect
 * of db.h, prepared once per handle by state_stmt. */
const struct state_sql state_positions_sql[S_NSTMTS] = {
	[S_POSITIONS] = {"SELECT p.sku, p.location, coalesce(l.type, ''),"
			" p.state, p.qty, p.last_as_of FROM positions p"
			" LEFT JOIN locations l ON l.location_id = p.location"
			" ORDER BY p.sku, p.location, p.state", DB_STREAM},
	/* The same rows with the sku's item fields (NULLs when it has no
	 * item row): one streaming query instead of a lookup per row. */
	[S_POSITIONS_ITEMS] =
		{"SELECT p.sku, p.location, coalesce(l.type, ''), p.state,"
		" p.qty, p.last_as_of, i.sku, i.gtin, i.description, i.brand,"
		" i.category, i.base_uom, i.pack_size, i.status, i.supplier_id,"
		" i.supplier_sku, i.as_of, i.txn_id FROM positions p"
		" LEFT JOIN locations l ON l.location_id = p.location"
		" LEFT JOIN items i ON i.sku = p.sku"
		" ORDER BY p.sku, p.location, p.state", DB_STREAM},
	[S_POSITIONS_ITEMS_NOTYPE] =
		{"SELECT p.sku, p.location, '', p.state,"
		" p.qty, p.last_as_of, i.sku, i.gtin, i.description, i.brand,"
		" i.category, i.base_uom, i.pack_size, i.status, i.supplier_id,"
		" i.supplier_sku, i.as_of, i.txn_id FROM positions p"
		" LEFT JOIN items i ON i.sku = p.sku"
		" ORDER BY p.sku, p.location, p.state", DB_STREAM},
	[S_ITEMS] = {"SELECT i.sku, i.gtin, i.description, i.brand,"
		    " i.category, i.base_uom, i.pack_size, i.status,"
		    " i.supplier_id, i.supplier_sku, i.as_of, i.txn_id,"
		    " (SELECT amount FROM prices p WHERE p.sku = i.sku"
		    "  AND p.price_list = 'default' AND p.kind = 'regular'"
		    "  ORDER BY p.valid_from DESC LIMIT 1),"
		    " (SELECT currency FROM prices p WHERE p.sku = i.sku"
		    "  AND p.price_list = 'default' AND p.kind = 'regular'"
		    "  ORDER BY p.valid_from DESC LIMIT 1)"
		    " FROM items i ORDER BY i.sku", DB_STREAM},
	[S_ITEM_GET] = {"SELECT sku, gtin, description, brand, category,"
		       " base_uom, pack_size, status, supplier_id,"
		       " supplier_sku, as_of, txn_id FROM items WHERE sku = ?", 0},
	[S_POS_NEGATIVE] = {"SELECT count(*) FROM positions WHERE qty < 0", 0},
	[S_RUN_OLDEST_EV] = {"SELECT min(as_of) FROM stock_events WHERE"
			    " applied = 1 AND doc IN"
			    " (SELECT id FROM units WHERE run_id = ?"
			    " AND stage = 'map')", 0},
	/* The latest snapshot (not delta) each of two sources reported per
	 * (sku, location) for one state, side by side; keys either lacks
	 * come with NULLs. */
	[S_RECONCILE] =
		{"WITH s AS (SELECT source, sku, location, qty, as_of,"
		" row_number() OVER (PARTITION BY source, sku, location"
		"  ORDER BY as_of DESC, arr_file DESC, arr_member DESC,"
		"  arr_line DESC, txn_id DESC) AS rn"
		" FROM stock_events WHERE state = ?1 AND delta = 0"
		" AND source IN (?2, ?3)),"
		" a AS (SELECT sku, location, qty, as_of FROM s"
		"  WHERE rn = 1 AND source = ?2),"
		" b AS (SELECT sku, location, qty, as_of FROM s"
		"  WHERE rn = 1 AND source = ?3),"
		" k AS (SELECT sku, location FROM a UNION"
		"  SELECT sku, location FROM b)"
		" SELECT k.sku, k.location, a.qty, a.as_of, b.qty, b.as_of"
		" FROM k LEFT JOIN a ON a.sku = k.sku AND a.location = k.location"
		" LEFT JOIN b ON b.sku = k.sku AND b.location = k.location"
		" ORDER BY k.sku, k.location", DB_STREAM},
};


int state_positions_each(struct state *s,
			 int (*cb)(void *ud, const struct state_position *p),
			 void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_POSITIONS, err);
	struct state_position pos;
	int rc, cbrc = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		pos.sku = db_col_text(p, 0);
		pos.location = db_col_text(p, 1);
		pos.location_type = db_col_text(p, 2);
		pos.state = (int)db_col_int64(p, 3);
		pos.qty = db_col_int64(p, 4);
		pos.as_of = db_col_int64(p, 5);
		pos.item = NULL;
		if ((cbrc = cb(ud, &pos)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

/* Copies v into a 512-byte item buffer, cut like state_item_get's. */
static const char *item_copy(char *buf, size_t n, const char *v)
{
	size_t k;

	if (!v)
		return NULL;
	k = strlen(v);
	if (k >= n)
		k = n - 1;
	memcpy(buf, v, k);
	buf[k] = '\0';
	return buf;
}

int state_positions_items_each(struct state *s, int with_type,
			       int (*cb)(void *ud,
					 const struct state_position *p),
			       void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, with_type ? S_POSITIONS_ITEMS
						      : S_POSITIONS_ITEMS_NOTYPE,
					 err);
	struct state_position pos;
	int rc, cbrc = 0, i, have = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		pos.sku = db_col_text(p, 0);
		pos.location = db_col_text(p, 1);
		pos.location_type = db_col_text(p, 2);
		pos.state = (int)db_col_int64(p, 3);
		pos.qty = db_col_int64(p, 4);
		pos.as_of = db_col_int64(p, 5);
		pos.item = NULL;
		if (!db_col_null(p, 6)) {
			/* Rows come by sku: read an item's columns once. */
			if (!have ||
			    strcmp(s->row_item_buf[ITEM_SKU], pos.sku)) {
				for (i = 0; i < ITEM_NFIELDS; i++)
					s->row_item[i] = item_copy(
						s->row_item_buf[i],
						sizeof(s->row_item_buf[i]),
						db_col_text(p, 6 + i));
				have = s->row_item[ITEM_SKU] != NULL;
			}
			pos.item = s->row_item;
		}
		if ((cbrc = cb(ud, &pos)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

int state_items_each(struct state *s,
		     int (*cb)(void *ud, const char *const *item,
			       const char *price, const char *currency),
		     void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ITEMS, err);
	const char *v[ITEM_NFIELDS];
	int rc, i, cbrc = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		for (i = 0; i < ITEM_NFIELDS; i++)
			v[i] = db_col_text(p, i);
		if ((cbrc = cb(ud, v, db_col_text(p, ITEM_NFIELDS),
			       db_col_text(p, ITEM_NFIELDS + 1))) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

int state_item_get(struct state *s, const char *sku, const char **fields,
		   int *found, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ITEM_GET, err);
	int rc, i;

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	rc = db_step(p, err);
	*found = rc == 1;
	for (i = 0; i < ITEM_NFIELDS; i++) {
		const char *v = *found ? db_col_text(p, i) : NULL;

		if (v) {
			snprintf(s->item_buf[i], sizeof(s->item_buf[i]), "%s",
				 v);
			fields[i] = s->item_buf[i];
		} else {
			fields[i] = NULL;
		}
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_positions_negative(struct state *s, int64_t *n, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_POS_NEGATIVE, err);

	if (!p)
		return -1;
	return state_one_int(p, n, NULL, err);
}

int state_run_oldest_event(struct state *s, int64_t run_id, int64_t *as_of,
			   int *found, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_RUN_OLDEST_EV, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	return state_one_int(p, as_of, found, err);
}

int state_reconcile_each(struct state *s, int state, const char *source_a,
			 const char *source_b,
			 int (*cb)(void *ud, const struct state_recon_pair *r),
			 void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_RECONCILE, err);
	struct state_recon_pair r;
	int rc, cbrc = 0;

	if (!p)
		return -1;
	db_bind_int64(p, 1, state);
	db_bind_text(p, 2, source_a);
	db_bind_text(p, 3, source_b);
	while ((rc = db_step(p, err)) == 1) {
		r.sku = db_col_text(p, 0);
		r.location = db_col_text(p, 1);
		r.has_a = !db_col_null(p, 2);
		r.qty_a = db_col_int64(p, 2);
		r.as_of_a = db_col_int64(p, 3);
		r.has_b = !db_col_null(p, 4);
		r.qty_b = db_col_int64(p, 4);
		r.as_of_b = db_col_int64(p, 5);
		if (!r.sku)
			r.sku = "";
		if (!r.location)
			r.location = "";
		if ((cbrc = cb(ud, &r)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

/* state_positions.c - the state store's read-outs of the canonical
 * tables: positions (with their items and locations), items and prices,
 * and stock_events (a run's oldest event). Writing them is state_load.c's.
 * Every read of positions or events first applies the waiting load batch
 * (state_lb_apply). See state.h. Each function is its statement and a
 * call of the binder (state_int.h) with a row function.
 */
#include "state.h"
#include "state_int.h"
#include "state_lineage.h"

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
	/* Per map unit through its id range (doc_events, schema 12; the
	 * index stock_events_doc before): a plain `doc IN (...)` let
	 * PostgreSQL scan every event the store ever kept, four times a
	 * run, so the cost grew with the store's history. */
	[S_RUN_OLDEST_EV] = {"SELECT min((SELECT min(e.as_of) FROM"
			    " stock_events e WHERE "
			    STATE_EV_OF_DOC("e.", "u.id")
			    " AND e.applied = 1)) FROM units u"
			    " WHERE u.run_id = ? AND u.stage = 'map'", 0},
	/* The latest snapshot (not delta) each of two sources reported per
	 * (sku, location) for one state, side by side; keys either lacks
	 * come with NULLs. */
	[S_RECONCILE] =
		{"WITH s AS (SELECT source, sku, location, qty, as_of,"
		" row_number() OVER (PARTITION BY source, sku, location"
		"  ORDER BY as_of DESC, arr_file DESC, arr_member DESC,"
		"  arr_line DESC, txn_id DESC) AS rn"
		" FROM (SELECT " STATE_EV_SOURCE("e", "u") " AS source,"
		"  e.sku, e.location, e.qty, e.as_of, e.arr_file, e.arr_member,"
		"  e.arr_line, " STATE_EV_TXN("e", "u") " AS txn_id"
		"  FROM stock_events e"
		"  LEFT JOIN units u ON u.id = e.doc"
		"  WHERE e.state = ?1 AND e.delta = 0) v"
		" WHERE source IN (?2, ?3)),"
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


/* Reads of positions and events see the waiting load batch. */
static int read_rows(struct state *s, enum stmt_id id,
		     const struct state_arg *a, size_t n, state_row_fn *row,
		     void *ud, struct err *err)
{
	if (state_lb_apply(s, err) < 0)
		return -1;
	return state_rows(s, id, a, n, row, ud, err);
}

/* A walk over positions: the callback, and the item row_item holds. */
struct pos_walk {
	struct state *s;
	int (*cb)(void *ud, const struct state_position *p);
	void *ud;
	int have;
};

static void read_pos(struct db_stmt *p, struct state_position *pos)
{
	pos->sku = db_col_text(p, 0);
	pos->location = db_col_text(p, 1);
	pos->location_type = db_col_text(p, 2);
	pos->state = (int)db_col_int64(p, 3);
	pos->qty = db_col_int64(p, 4);
	pos->as_of = db_col_int64(p, 5);
	pos->item = NULL;
}

static int pos_row(void *ud, struct db_stmt *p)
{
	struct pos_walk *w = ud;
	struct state_position pos;

	read_pos(p, &pos);
	return w->cb(w->ud, &pos);
}

int state_positions_each(struct state *s,
			 int (*cb)(void *ud, const struct state_position *p),
			 void *ud, struct err *err)
{
	struct pos_walk w = {s, cb, ud, 0};

	return read_rows(s, S_POSITIONS, SA_NONE, pos_row, &w, err);
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

static int pos_item_row(void *ud, struct db_stmt *p)
{
	struct pos_walk *w = ud;
	struct state *s = w->s;
	struct state_position pos;
	int i;

	read_pos(p, &pos);
	if (!db_col_null(p, 6)) {
		/* Rows come by sku: read an item's columns once. */
		if (!w->have || strcmp(s->row_item_buf[ITEM_SKU], pos.sku)) {
			for (i = 0; i < ITEM_NFIELDS; i++)
				s->row_item[i] = item_copy(
					s->row_item_buf[i],
					sizeof(s->row_item_buf[i]),
					db_col_text(p, 6 + i));
			w->have = s->row_item[ITEM_SKU] != NULL;
		}
		pos.item = s->row_item;
	}
	return w->cb(w->ud, &pos);
}

int state_positions_items_each(struct state *s, int with_type,
			       int (*cb)(void *ud,
					 const struct state_position *p),
			       void *ud, struct err *err)
{
	struct pos_walk w = {s, cb, ud, 0};

	return read_rows(s,
			 with_type ? S_POSITIONS_ITEMS
				   : S_POSITIONS_ITEMS_NOTYPE,
			 SA_NONE, pos_item_row, &w, err);
}

struct items_cb {
	int (*cb)(void *ud, const char *const *item, const char *price,
		  const char *currency);
	void *ud;
};

static int items_row(void *ud, struct db_stmt *p)
{
	struct items_cb *c = ud;
	const char *v[ITEM_NFIELDS];
	int i;

	for (i = 0; i < ITEM_NFIELDS; i++)
		v[i] = db_col_text(p, i);
	return c->cb(c->ud, v, db_col_text(p, ITEM_NFIELDS),
		     db_col_text(p, ITEM_NFIELDS + 1));
}

int state_items_each(struct state *s,
		     int (*cb)(void *ud, const char *const *item,
			       const char *price, const char *currency),
		     void *ud, struct err *err)
{
	struct items_cb c = {cb, ud};

	return state_rows(s, S_ITEMS, SA_NONE, items_row, &c, err);
}

struct item_out {
	struct state *s;
	const char **fields;
	int found;
};

static int item_row(void *ud, struct db_stmt *p)
{
	struct item_out *x = ud;
	const char *v;
	int i;

	x->found = 1;
	for (i = 0; i < ITEM_NFIELDS; i++) {
		if ((v = db_col_text(p, i))) {
			snprintf(x->s->item_buf[i], sizeof(x->s->item_buf[i]),
				 "%s", v);
			x->fields[i] = x->s->item_buf[i];
		}
	}
	return 1;
}

int state_item_get(struct state *s, const char *sku, const char **fields,
		   int *found, struct err *err)
{
	struct item_out x = {s, fields, 0};
	int i;

	for (i = 0; i < ITEM_NFIELDS; i++)
		fields[i] = NULL;
	*found = 0;
	if (state_rows(s, S_ITEM_GET, SA(SA_T(sku)), item_row, &x, err) < 0)
		return -1;
	*found = x.found;
	return 0;
}

int state_positions_negative(struct state *s, int64_t *n, struct err *err)
{
	*n = 0;
	/* schema 17: PostgreSQL's partial index is on neg (schema.c); a
	 * statement of its own, which SQLite's positions have no column for */
	if (state_is_pg(s))
		return state_lb_apply(s, err) < 0 ? -1 :
		       state_sql_rows(s, "SELECT count(*) FROM positions"
				      " WHERE neg", SA_NONE, state_row_int, n,
				      err);
	return read_rows(s, S_POS_NEGATIVE, SA_NONE, state_row_int, n, err);
}

struct int_found {
	int64_t *v;
	int *found;
};

static int int_found_row(void *ud, struct db_stmt *p)
{
	struct int_found *x = ud;

	if (!db_col_null(p, 0)) {
		*x->v = db_col_int64(p, 0);
		*x->found = 1;
	}
	return 1;
}

int state_run_oldest_event(struct state *s, int64_t run_id, int64_t *as_of,
			   int *found, struct err *err)
{
	struct int_found x = {as_of, found};

	*as_of = 0;
	*found = 0;
	return read_rows(s, S_RUN_OLDEST_EV, SA(SA_I(run_id)), int_found_row,
			 &x, err);
}

struct recon_cb {
	int (*cb)(void *ud, const struct state_recon_pair *r);
	void *ud;
};

static int recon_row(void *ud, struct db_stmt *p)
{
	struct recon_cb *c = ud;
	struct state_recon_pair r;

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
	return c->cb(c->ud, &r);
}

int state_reconcile_each(struct state *s, int state, const char *source_a,
			 const char *source_b,
			 int (*cb)(void *ud, const struct state_recon_pair *r),
			 void *ud, struct err *err)
{
	struct recon_cb c = {cb, ud};

	return read_rows(s, S_RECONCILE,
			 SA(SA_I(state), SA_T(source_a), SA_T(source_b)),
			 recon_row, &c, err);
}
